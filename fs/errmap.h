/* errmap.h - the one place where backend errors become errno values */
#ifndef CALFS_ERRMAP_H
#define CALFS_ERRMAP_H

#include <glib.h>

/* errmap_errno: the positive errno for a backend error (EIO for errors
 * from other domains; 0 for NULL). */
int errmap_errno(const GError *e);

#endif
