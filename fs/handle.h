/* handle.h - the file and directory handles the kernel holds
 *
 * The kernel gives back what open, create and opendir handed it with a
 * RELEASE or RELEASEDIR request, which it sends in the background: an
 * unmount right after a close drops the ones the daemon has not read yet.
 * So every handle is tracked from the reply that hands it over to its
 * release, and the end of the mount frees those never given back.
 *
 * The table has its own lock, a leaf (fs.h): held only inside these
 * functions, which any thread may call.
 */
#ifndef CALFS_HANDLE_H
#define CALFS_HANDLE_H

#include "fs.h"

/* handle_free_fn: give back what handle h holds in fs, and free it. */
typedef void (*handle_free_fn)(fs_ctx *fs, gpointer h);

/* handle_table_init: an empty fs->handles. */
void handle_table_init(fs_ctx *fs);
/* handle_table_clear: free each handle still tracked with the function it
 * was tracked with, then the table.  Only once the session has ended, when
 * no request can run, and before the state those functions give back to
 * (the nodes, the view) is cleared. */
void handle_table_clear(fs_ctx *fs);
/* handle_track: h (not tracked yet) is the kernel's until handle_untrack;
 * free_fn frees it if the kernel never gives it back. */
void handle_track(fs_ctx *fs, gpointer h, handle_free_fn free_fn);
/* handle_untrack: the kernel gave h back (or was never handed it); the
 * caller frees it. */
void handle_untrack(fs_ctx *fs, gpointer h);

#endif
