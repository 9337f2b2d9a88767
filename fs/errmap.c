#include "errmap.h"
#include "error.h"
#include "log.h"

#include <errno.h>

int errmap_errno(const GError *e)
{
	if (!e)
		return 0;
	if (e->domain != CALFS_ERROR)
		return EIO;
	switch ((CalfsError)e->code) {
	case CALFS_ERROR_NOTFOUND:
		return ENOENT;
	case CALFS_ERROR_EXISTS:
		return EEXIST;
	case CALFS_ERROR_INVALID:
		return EINVAL;
	case CALFS_ERROR_NAME:
		return EINVAL;
	case CALFS_ERROR_NOTEMPTY:
		return ENOTEMPTY;
	case CALFS_ERROR_BUSY:
		return EBUSY;
	case CALFS_ERROR_UNSUPPORTED:
		return EPERM;
	case CALFS_ERROR_CROSS:
		return EXDEV;
	case CALFS_ERROR_READONLY:
		return EROFS;
	case CALFS_ERROR_DENIED:
		return EACCES;
	case CALFS_ERROR_ISDIR:
		return EISDIR;
	case CALFS_ERROR_CONFIG:
	case CALFS_ERROR_IO:
		break;
	}
	return EIO;
}

gboolean errmap_refusal(GError *e)
{
	if (!e || e->domain != CALFS_ERROR ||
	    (e->code != CALFS_ERROR_INVALID && e->code != CALFS_ERROR_EXISTS &&
	     e->code != CALFS_ERROR_NAME))
		return FALSE;
	/* a UID or a name another item has refuses the content: EINVAL, as
	 * any other refusal, not EEXIST, which would say the file is there */
	e->code = CALFS_ERROR_INVALID;
	return TRUE;
}

void errmap_reply(fuse_req_t req, GError *err)
{
	int e = errmap_errno(err);

	if (e == EIO)
		log_error("%s", err ? err->message : "unknown error");
	g_clear_error(&err);
	fuse_reply_err(req, e ? e : EIO);
}
