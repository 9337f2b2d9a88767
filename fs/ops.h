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

#endif
