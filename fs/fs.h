/* fs.h - the state of one mount, shared by the fs/ modules
 *
 * fs_ctx is the userdata of the FUSE session.  The modules:
 *   node.c     in-memory files (scratch files, items being created)
 *   view.c     what the tree shows: attributes, names, rendered items
 *   ctl.c      .calfs/ control files and the refused-write log
 *   ops_dir.c  lookup, readdir, mkdir, rmdir, unlink, rename, link
 *   ops_file.c create, open, read, write, flush, release, setattr, xattrs
 *   notify.c   the notifier thread that follows the store's change log
 */
#ifndef CALFS_FS_H
#define CALFS_FS_H

#include <fuse_lowlevel.h>
#include <glib.h>
#include <sys/stat.h>

#include "conf.h"
#include "render.h"
#include "store.h"
#include "ino.h"

typedef struct notifier notifier;

typedef struct {
	conf *conf;
	store *store;
	struct fuse_session *se;
	double timeout;		/* entry and attribute timeout, seconds */
	uid_t uid;		/* the user who mounted */
	gid_t gid;
	struct timespec started;

	GMutex ns_lock;		/* serialises changes to the namespace */

	GMutex nodes_lock;	/* guards the node tables and node contents */
	GHashTable *nodes_by_ino;	/* fuse_ino_t* -> node* */
	GHashTable *nodes_by_name;	/* "calendar-id/name" -> node* */
	GHashTable *trash_areas;	/* the trash directories made
					 * (trash.c: area + 1) */
	gint64 next_node;

	GMutex cache_lock;	/* guards the caches below */
	GHashTable *renders;	/* item id -> rendered* */
	gsize render_bytes;
	GHashTable *calendars;	/* calendar id -> calinfo* */
	GHashTable *kept;	/* inode -> version the kernel has cached
				 * (GSIZE_TO_POINTER both) */
	GHashTable *told;	/* inode -> version whose size the kernel was
				 * last told (attribute replies) */
	GHashTable *extracted;	/* mailbox id -> extracted zone (view.c) */

	gint64 events_from;	/* .calfs/events starts after this change */
	gint64 tz_changed_ns;	/* when a new tzdata was taken while mounted
				 * (cache_lock), or 0 */

	GMutex ctl_lock;
	GHashTable *reports;	/* mailbox id (0: all) -> cached report */
	GHashTable *run_commands;	/* run id -> command, as of change */
	gint64 run_commands_seq;
	GQueue *errors;		/* char* lines, newest last */
	GHashTable *mailbox_errors;	/* mailbox id -> GQueue* */
	guint refused;

	notifier *notifier;
} fs_ctx;

/* fs_meta_value: the value of META_* sub of calendar c (owned by c), or
 * NULL when it is not set. */
static inline const char *fs_meta_value(const store_calendar *c, unsigned sub)
{
	return sub == META_COLOR ? c->color : c->displayname;
}

/* FS: the mount a request is for. */
static inline fs_ctx *FS(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

/* ---- node.c: in-memory files ---- */

typedef enum {
	NODE_SCRATCH,	/* a file whose name is not an item name: plain bytes */
	NODE_PENDING,	/* an .ics file created but not yet closed */
	NODE_ALIAS	/* a scratch file renamed onto an item: stands for it */
} node_type;

typedef struct {
	fuse_ino_t ino;
	node_type type;
	gint64 calendar_id;
	char *name;		/* NULL when unlinked or an alias */
	GByteArray *data;	/* contents of a scratch file */
	gint64 item_id;		/* PENDING: reserved id; ALIAS: the item */
	guint64 nlookup;	/* kernel references (INO_NODE inodes only) */
	guint opens;
	gboolean retired;	/* removed from the tables, freed at last close */
	gboolean forgotten;	/* the kernel forgot its (uncounted) inode */
	struct timespec mtime, ctime;
	mode_t mode;
	uid_t uid;
	gid_t gid;
} node;

/* All node_* functions expect fs->nodes_lock to be held. */
void node_tables_init(fs_ctx *fs);
void node_tables_clear(fs_ctx *fs);
node *node_get(fs_ctx *fs, fuse_ino_t ino);
node *node_find(fs_ctx *fs, gint64 calendar_id, const char *name);
/* node_new: a node in calendar_id called name; ino 0 allocates an
 * INO_NODE number.  Owned by the tables. */
node *node_new(fs_ctx *fs, node_type type, fuse_ino_t ino, gint64 calendar_id,
	       const char *name);
/* node_rename: give n a new place; name NULL unlinks it. */
void node_rename(fs_ctx *fs, node *n, gint64 calendar_id, const char *name);
/* node_retire: take n out of the tables; freed when no longer open. */
void node_retire(fs_ctx *fs, node *n);
/* node_release: free n when nothing refers to it any more. */
void node_release(fs_ctx *fs, node *n);
/* node_entries: add the nodes of calendar_id that a listing shows (not
 * new .ics files still being written) to out, a GPtrArray of
 * view_entry*. */
void node_entries(fs_ctx *fs, gint64 calendar_id, GPtrArray *out);

/* ---- view.c: what the tree shows ---- */

typedef struct {
	char *name;
	fuse_ino_t ino;
	mode_t type;		/* S_IFDIR or S_IFREG */
} view_entry;

void view_entry_free(view_entry *e);

/* view_entry_add: append a new entry (name copied) to out. */
void view_entry_add(GPtrArray *out, const char *name, fuse_ino_t ino, mode_t type);

typedef struct {
	gint64 mailbox_id;
	char *mailbox;		/* mailbox name */
	char *calendar;		/* calendar name */
} calinfo;

/* view_calinfo: the names around a calendar (cached; calendars never move).
 * Returns a copy to free with view_calinfo_free, or NULL with err set. */
calinfo *view_calinfo(fs_ctx *fs, gint64 calendar_id, GError **err);
void view_calinfo_free(calinfo *ci);

typedef struct {
	gint64 item_id;
	gint64 calendar_id;
	gint64 version;
	gint64 mtime_ns;
	GBytes *data;		/* rendered bytes */
	char *fixes;		/* what rendering changed, one per line */
	char *uid;
	char *name;
	char *zone;		/* the mailbox zone it was made with, or NULL */
	char *stored;		/* the mailbox's stored zone then (cache check) */
	gboolean rebased;	/* rebasing changed it: its mtime follows tzdata */
	const char *tzdata;	/* the tzdata version it was made with (kept
				 * for the life of the process: compared as a
				 * pointer) */
} rendered;

void rendered_free(rendered *r);

/* At most this many inodes remember versions (kept, told). */
#define KEPT_MAX 65536

/* view_render_key: what the kernel may cache of a rendering: its version,
 * and the zone it was made with (which changes it without a new
 * version). */
gint64 view_render_key(const rendered *r);

/* view_told: remember that the kernel was told ino's size at version key
 * (cache_lock not held). */
void view_told(fs_ctx *fs, fuse_ino_t ino, gint64 key);

/* view_render: the rendered item id (cached by version).  A copy to free
 * with rendered_free, or NULL with err set. */
rendered *view_render(fs_ctx *fs, gint64 item_id, GError **err);

/* view_extracted_free: free an entry of fs->extracted. */
void view_extracted_free(gpointer p);

/* view_forget_render: drop the cached rendering of an item. */
void view_forget_render(fs_ctx *fs, gint64 item_id);

/* view_tzdata_changed: a new tzdata was taken: drop every rendering and
 * zone scan, and move the mtimes of the calendars and of the items whose
 * rendering rebasing changes to now. */
void view_tzdata_changed(fs_ctx *fs);

/* view_stat: the attributes of ino.  FALSE with err set (NOTFOUND...). */
gboolean view_stat(fs_ctx *fs, fuse_ino_t ino, struct stat *st, GError **err);

/* view_lookup: the inode of name in directory parent, or 0 with err set. */
fuse_ino_t view_lookup(fs_ctx *fs, fuse_ino_t parent, const char *name,
		       GError **err);

/* view_list: the entries of directory ino (without . and ..), a GPtrArray
 * of view_entry*, or NULL with err set. */
GPtrArray *view_list(fs_ctx *fs, fuse_ino_t ino, GError **err);

/* view_parent: the parent directory of directory ino (root for root). */
fuse_ino_t view_parent(fs_ctx *fs, fuse_ino_t ino);

/* view_entry_param: fill e for ino (attributes and timeouts). */
gboolean view_entry_param(fs_ctx *fs, fuse_ino_t ino,
			  struct fuse_entry_param *e, GError **err);

/* view_store_item: store data as the item name in calendar_id through the
 * write policy (a close or a rename in the mount).  Refused content is
 * logged, recorded in .calfs/errors and reported as CALFS_ERROR_INVALID.
 * Returns the item id, or 0 with err set. */
gint64 view_store_item(fs_ctx *fs, gint64 calendar_id, const char *name,
		       gint64 reserved_id, GBytes *data, GError **err);

/* ---- ctl.c: control files ---- */

void ctl_init(fs_ctx *fs);
void ctl_clear(fs_ctx *fs);
/* ctl_refused: record a refused write of mailbox_id (0: unknown). */
void ctl_refused(fs_ctx *fs, gint64 mailbox_id, const char *line);
/* ctl_content: the current content of a control file. */
GBytes *ctl_content(fs_ctx *fs, fuse_ino_t ino, GError **err);

/* ---- notify.c ---- */

/* notify_start: follow the store's change log from its current end and
 * invalidate the kernel's caches from a thread of its own.  Call after
 * daemonizing. */
notifier *notify_start(fs_ctx *fs, GError **err);
/* notify_kick: process the change log now (after a change of our own). */
void notify_kick(notifier *n);
/* notify_inval_entry: drop the kernel's entry parent/name, asynchronously
 * (never from inside a request). */
void notify_inval_entry(notifier *n, fuse_ino_t parent, const char *name);
/* notify_mailbox_items: drop what the kernel keeps of every item of the
 * mailbox (attributes, pages), asynchronously: their rendering or mode
 * changed with the mailbox (its zone, owner or mode) and not themselves. */
void notify_mailbox_items(notifier *n, gint64 mailbox_id);
void notify_stop(notifier *n);

/* ---- ops_dir.c and ops_file.c ---- */

void ops_dir_register(struct fuse_lowlevel_ops *ops);
void ops_file_register(struct fuse_lowlevel_ops *ops);



#endif
