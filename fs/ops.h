/* ops.h - the FUSE low-level operations of the mount: ops_dir.c (lookup,
 * forget, readdir, mkdir, rmdir, unlink, rename, link, statfs) and
 * ops_file.c (getattr, setattr, create, open, read, write, flush,
 * release, fsync, extended attributes).  Every failure is answered
 * through errmap_reply.
 */
#ifndef CALFS_OPS_H
#define CALFS_OPS_H

#include "fs.h"

/* ops_dir_register, ops_file_register: fill their operations in ops. */
void ops_dir_register(struct fuse_lowlevel_ops *ops);
void ops_file_register(struct fuse_lowlevel_ops *ops);
/* ops_count_lookup: the kernel took one more reference to ino (counted
 * for in-memory files, INO_NODE); takes fs->nodes_lock. */
void ops_count_lookup(fs_ctx *fs, fuse_ino_t ino);
/* ops_forget: the kernel forgets nlookup lookups of ino (a FORGET, or for
 * an INO_NODE an entry reply it never got); takes fs->nodes_lock. */
void ops_forget(fs_ctx *fs, fuse_ino_t ino, uint64_t nlookup);

#endif
