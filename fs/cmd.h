/* cmd.h - the calfs subcommands */
#ifndef CALFS_CMD_H
#define CALFS_CMD_H

#include "conf.h"
#include "store.h"

/* Options that come before the subcommand. */
typedef struct {
	char *conf_file;	/* -c, or NULL for ./mount.conf when present */
	char *store_path;	/* --store */
} cmd_globals;

/* cmd_load_conf: the configuration the globals ask for, with --store
 * applied; NULL after printing the error. */
conf *cmd_load_conf(const cmd_globals *g);

/* cmd_open_store: open the store of c for command (its origin in the
 * change log), made when missing only with STORE_CREATE; NULL after
 * printing the error. */
store *cmd_open_store(const conf *c, const char *command, store_open_mode mode);

/* cmd_parse: parse the options of subcommand argv[0] (usage "calfs CMD
 * params", with summary and entries, which may be NULL), removing them
 * from argv.  FALSE after printing the error. */
gboolean cmd_parse(int *argc, char ***argv, const char *params,
		   const char *summary, GOptionEntry *entries);

/* cmd_is_store: whether arg names a store (an existing file, or a
 * postgresql:// URL), for the mount.fuse3 form "calfs STORE MOUNTPOINT". */
gboolean cmd_is_store(const char *arg);

/* Each returns the process exit status.  argv[0] is the subcommand. */
int cmd_mount(const cmd_globals *g, int argc, char **argv);
int cmd_mount_fstab(const cmd_globals *g, int argc, char **argv);
int cmd_import(const cmd_globals *g, int argc, char **argv);
int cmd_export(const cmd_globals *g, int argc, char **argv);
int cmd_tz(const cmd_globals *g, int argc, char **argv);
int cmd_fix(const cmd_globals *g, int argc, char **argv);
int cmd_undo(const cmd_globals *g, int argc, char **argv);
int cmd_journal(const cmd_globals *g, int argc, char **argv);
int cmd_check(const cmd_globals *g, int argc, char **argv);
int cmd_init(const cmd_globals *g, int argc, char **argv);

#endif
