/* node.h - in-memory files: scratch files (names that are not items),
 * .ics files being created, and aliases (a scratch file renamed onto an
 * item, or an item into the trash and back, standing for the item until
 * the kernel forgets its inode).
 *
 * All node_* functions expect fs->nodes_lock to be held; nodes belong to
 * the tables.
 */
#ifndef CALFS_NODE_H
#define CALFS_NODE_H

#include "fs.h"

typedef enum {
	NODE_SCRATCH,	/* a file whose name is not an item name: plain bytes */
	NODE_PENDING,	/* an .ics file created but not yet closed */
	NODE_ALIAS	/* a scratch file renamed onto an item: stands for it */
} node_type;

typedef struct {
	fuse_ino_t ino;
	node_type type;
	gint64 calendar_id;	/* below zero: a trash directory's (trash.h) */
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

/* node_tables_init, node_tables_clear: fs->nodes and fs->nodes_lock. */
void node_tables_init(fs_ctx *fs);
void node_tables_clear(fs_ctx *fs);
/* node_get: the node of ino, or NULL. */
node *node_get(fs_ctx *fs, fuse_ino_t ino);
/* node_find: the node called name in calendar_id, or NULL. */
node *node_find(fs_ctx *fs, gint64 calendar_id, const char *name);
/* node_new: a node in calendar_id called name; ino 0 allocates an
 * INO_NODE number. */
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

#endif
