/* fs.h - the state of one mount, which every fs/ module is handed
 *
 * fs_ctx is the userdata of the FUSE session.  The modules, each with a
 * header of its own:
 *   node.h     in-memory files (scratch files, items being created)
 *   view.h     what the tree shows: attributes, names, rendered items
 *   write.h    the write policy: what a closed or renamed .ics becomes
 *   ctl.h      .calfs/ control files and the refused-write log
 *   trash.h    the freedesktop trash at the top
 *   handle.h   the open file and directory handles the kernel holds
 *   notify.h   the notifier thread that follows the store's change log
 *   ops.h      the FUSE operations (ops_dir.c, ops_file.c)
 *   errmap.h   backend errors to errno, and every failed reply
 *   ino.h      inode numbers
 *
 * Locks, in the order they are taken: one is never taken while one
 * below it in this list is held.
 *   ns_lock     changes to what a name means: create, rename, link,
 *               unlink, and the store of a write (write_store); not held
 *               while a write is parsed, rendered or mailed
 *   nodes_lock  the node tables and nodes (node.h), the trash areas
 *   the store's own locks, inside store calls
 *   the view's cache lock (view.c), the control files' lock (ctl.c), the
 *   handle table's (handle.c) and the notifier's queue: leaves, held
 *   only inside their module
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
typedef struct node_tables node_tables;
typedef struct view_cache view_cache;
typedef struct ctl_state ctl_state;
typedef struct handle_table handle_table;

typedef struct {
	conf *conf;
	store *store;		/* thread-safe: its own locks */
	struct fuse_session *se;
	double timeout;		/* entry and attribute timeout, seconds */
	uid_t uid;		/* the user who mounted */
	gid_t gid;
	struct timespec started;

	GMutex ns_lock;		/* serialises changes to the namespace */

	GMutex nodes_lock;	/* guards nodes and trash_areas */
	node_tables *nodes;	/* node.c's */
	GHashTable *trash_areas;	/* the trash directories made
					 * (trash.c: area + 1) */

	view_cache *cache;	/* view.c's, under its own lock */
	ctl_state *ctl;		/* ctl.c's, under its own lock */
	handle_table *handles;	/* handle.c's, under its own lock */
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

#endif
