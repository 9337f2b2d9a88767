#include "errmap.h"
#include "error.h"

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
	case CALFS_ERROR_CONFIG:
	case CALFS_ERROR_IO:
		break;
	}
	return EIO;
}
