/* store_sqlite.h - the store on a SQLite file (WAL mode)
 *
 * The SQL store (store_sql.h) on one SQLite connection, guarded by its
 * mutex; a busy timeout lets a second process (calfs import while
 * mounted) write between our transactions.  See store.h for the
 * operations.
 */
#ifndef CALFS_STORE_SQLITE_H
#define CALFS_STORE_SQLITE_H

#include "store.h"

/* litestore_open: open or create the store at path.  origin names this
 * process in the change log (NULL: "pid:<pid>").  NULL with err set
 * (CALFS_ERROR_IO or CALFS_ERROR_BUSY) when it cannot be opened. */
store *litestore_open(const char *path, const char *origin, GError **err);

#endif
