/* errmap.h - the one place where backend errors become errno values */
#ifndef CALFS_ERRMAP_H
#define CALFS_ERRMAP_H

#include <fuse_lowlevel.h>
#include <glib.h>

/* errmap_errno: the positive errno for a backend error (EIO for errors
 * from other domains; 0 for NULL). */
int errmap_errno(const GError *e);

/* errmap_refusal: whether e refuses what a write or a rename would store
 * (invalid content, a UID or name in use); if so it becomes
 * CALFS_ERROR_INVALID (EINVAL). */
gboolean errmap_refusal(GError *e);

/* errmap_reply: reply to req with the errno of err (EIO, logged, for an
 * error of no known kind) and free err: the one way fs/ answers a
 * failure. */
void errmap_reply(fuse_req_t req, GError *err);

#endif
