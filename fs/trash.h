/* trash.h - the freedesktop trash at the top of the mount
 *
 * A file manager's "Move to Trash" (gio trash) looks for MNT/.Trash/UID
 * (.Trash a sticky directory) and then MNT/.Trash-UID, each holding
 * files/ and info/, and renames the file into files/ after writing
 * info/NAME.trashinfo.  calfs gives both: .Trash always, UID directories
 * in it and .Trash-UID at the top as their user makes them.  An item
 * renamed into files/ is deleted from the store (journaled: calfs undo
 * brings it back) and lives on there as a scratch file with its rendered
 * bytes; renamed back into a calendar it is stored again; deleted there
 * (emptying the trash) it is gone from the trash only.  The trash is
 * kept in memory: it lasts as long as the mount.
 *
 * Inodes: INO_TRASH, sub TRASH_*; id 0 for .Trash, else an area: uid * 2
 * plus 0 for .Trash/UID, 1 for .Trash-UID.  The files in files/ and
 * info/ are scratch nodes (node.c) in a calendar id of their own, below
 * zero (trash_dir_id), which no store calendar has.
 */
#ifndef CALFS_TRASH_H
#define CALFS_TRASH_H

#include "fs.h"

enum {
	TRASH_TOP = 1,		/* MNT/.Trash */
	TRASH_AREA = 2,		/* MNT/.Trash/UID or MNT/.Trash-UID */
	TRASH_FILES = 3,	/* .../files */
	TRASH_INFO = 4		/* .../info */
};

/* trash_dir_id: the calendar id the scratch nodes of a files/ or info/
 * directory ino have (below zero), or 0 when ino is no such directory. */
gint64 trash_dir_id(fuse_ino_t ino);

/* trash_lookup: name in parent, when parent is the root or a trash
 * directory: TRUE with *ino set (0 when there is no such name), FALSE
 * when parent is none of those.  Takes fs->nodes_lock. */
gboolean trash_lookup(fs_ctx *fs, fuse_ino_t parent, const char *name, fuse_ino_t *ino);

/* trash_stat: the attributes of a trash directory ino (an INO_TRASH). */
void trash_stat(fs_ctx *fs, fuse_ino_t ino, struct stat *st);

/* trash_list: add the entries of ino (the root: .Trash and the
 * .Trash-UID made; a trash directory: its entries) to out, a GPtrArray
 * of view_entry*.  Takes fs->nodes_lock. */
void trash_list(fs_ctx *fs, fuse_ino_t ino, GPtrArray *out);

/* trash_parent: the directory that holds trash directory ino. */
fuse_ino_t trash_parent(fuse_ino_t ino);

/* trash_mkdir: make name in parent for the user uid: .Trash-UID at the
 * root, UID in .Trash.  Returns its inode, or 0 with *err set: EXISTS
 * when it is there already (files/ and info/ always are), UNSUPPORTED when the
 * name is another user's, or any other name.  Called with
 * fs->ns_lock held; takes fs->nodes_lock. */
fuse_ino_t trash_mkdir(fs_ctx *fs, fuse_ino_t parent, const char *name, uid_t uid,
		       GError **err);

/* trash_owner: the user a trash directory's scratch node belongs to. */
uid_t trash_owner(gint64 dir_id);

#endif
