/* error.h - the backend's error codes
 *
 * Every fallible backend function reports failure through a GError in the
 * CALFS_ERROR domain with one of the codes below.  The message is one line
 * that names what failed, on what, and why, without a full stop.  Only fs/
 * turns these codes into errno values (fs/errmap.c).
 */
#ifndef CALFS_ERROR_H
#define CALFS_ERROR_H

#include <glib.h>

#define CALFS_ERROR (calfs_error_quark())

typedef enum {
	CALFS_ERROR_NOTFOUND,	/* no such mailbox, calendar or item */
	CALFS_ERROR_EXISTS,	/* the name is taken */
	CALFS_ERROR_INVALID,	/* content refused by validation */
	CALFS_ERROR_NAME,	/* a name that may not be used */
	CALFS_ERROR_NOTEMPTY,	/* a mailbox or calendar that still holds things */
	CALFS_ERROR_BUSY,	/* the store stayed locked past the busy timeout */
	CALFS_ERROR_IO,		/* the store or a file could not be read or written */
	CALFS_ERROR_CONFIG,	/* a bad configuration file or option */
	CALFS_ERROR_UNSUPPORTED,	/* an operation the object does not support */
	CALFS_ERROR_CROSS,	/* a move between two stores (shards) */
	CALFS_ERROR_READONLY,	/* a view that cannot be written (the raw view) */
	CALFS_ERROR_DENIED,	/* a file that is not written this way (a report) */
	CALFS_ERROR_ISDIR	/* a directory opened as a file */
} CalfsError;

/* calfs_error_quark: the GQuark of the CALFS_ERROR domain. */
GQuark calfs_error_quark(void);

#endif
