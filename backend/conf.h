/* conf.h - mount.conf, the GLib key file that configures calfs
 *
 * Groups: [store] path= (SQLite) or url= (PostgreSQL), outbox=; [shard NAME]
 * path= or url=, mailboxes= (glob patterns, ';'-separated); [policy] repair_on_read, repair_on_write, rebase,
 * recurring_only, created_before, report_only; [mailbox NAME] timezone,
 * owner, group, suppress_updates.  Unknown groups and keys are errors, so a
 * typo never goes unnoticed.  Errors name the file, the line and the key
 * ("mount.conf:7: [policy] rebase: 'maybe' is not true or false").
 */
#ifndef CALFS_CONF_H
#define CALFS_CONF_H

#include <glib.h>
#include <sys/types.h>

typedef struct {
	char *name;		/* mailbox name, e.g. alice@example.com */
	char *timezone;		/* zone name or NULL */
	gboolean has_owner;	/* owner= was given: uid */
	gboolean has_group;	/* group= was given: gid (else the mount
				 * gives the mounting user's group) */
	uid_t uid;
	gid_t gid;
	gboolean suppress_updates;
} conf_mailbox;

/* A [shard NAME] group: the mailboxes whose names match one of its
 * patterns live in its store (the first matching shard wins; the rest
 * live in [store]). */
typedef struct {
	char *name;
	char *spec;		/* absolute SQLite path, or a postgresql:// URL */
	char **patterns;	/* glob patterns (GPatternSpec syntax) */
} conf_shard;

typedef struct {
	char *file;		/* the file read, or NULL for built-in defaults */
	char *store_path;	/* absolute path of the SQLite store, or the
				 * postgresql:// URL of [store] url= */
	gboolean store_is_url;	/* store_path is a URL */
	char *state_dir;	/* where files beside the store go (the outbox,
				 * fix's list of failed mailboxes): the SQLite
				 * store's directory, else mount.conf's */
	GPtrArray *shards;	/* conf_shard*, in file order; may be empty */
	char *outbox_path;	/* [store] outbox=, absolute, or NULL */
	gboolean repair_on_read;
	gboolean repair_on_write;
	gboolean rebase;
	gboolean recurring_only;
	gboolean report_only;
	gint64 created_before;	/* Unix time, or 0 when not set */
	GHashTable *mailboxes;	/* name -> conf_mailbox*, owned */
} conf;

/* conf_new_default: a configuration with the built-in defaults, the store
 * being calfs.db in the current directory.  Free with conf_free(). */
conf *conf_new_default(void);

/* conf_load: read and validate the key file at path.  Relative store paths
 * are resolved against the file's directory.  Returns NULL with err set
 * (CALFS_ERROR_CONFIG, or CALFS_ERROR_IO when unreadable). */
conf *conf_load(const char *path, GError **err);

/* conf_set_store: override the store (--store, or the STORE of the
 * mount.fuse3 form): a postgresql:// URL, whose state_dir is then the
 * directory of the configuration file (or the current one), or a path,
 * which is resolved against the current directory. */
void conf_set_store(conf *c, const char *path);

/* conf_outbox: the Maildir where iMIP updates for mailbox's attendees are
 * queued: [store] outbox= (else "outbox" beside the store) / mailbox.
 * NULL when suppress_updates is set for the mailbox.  Newly allocated. */
char *conf_outbox(const conf *c, const char *mailbox);

/* conf_store_name: the store as messages and the mount's fsname name it:
 * its path, or its URL without a password.  Newly allocated. */
char *conf_store_name(const conf *c);

/* conf_state_file: name in state_dir, newly allocated. */
char *conf_state_file(const conf *c, const char *name);

/* conf_failed_file: where calfs fix lists the mailboxes that failed:
 * STORE.failed beside a SQLite store, else calfs.failed in state_dir.
 * Newly allocated. */
char *conf_failed_file(const conf *c);

/* conf_mailbox_get: the [mailbox NAME] settings, or NULL.  Owned by c. */
const conf_mailbox *conf_mailbox_get(const conf *c, const char *name);

/* conf_free: release c and everything it owns; NULL is allowed. */
void conf_free(conf *c);

#endif
