#include "error.h"

G_DEFINE_QUARK(calfs-error-quark, calfs_error)
