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

/* litestore_open: open the store at path, or create it (STORE_CREATE).
 * origin names this process in the change log (NULL: "pid:<pid>").  NULL
 * with err set when it cannot be opened: NOTFOUND when the file does not
 * exist and mode is STORE_EXISTING, else IO or BUSY. */
store *litestore_open(const char *path, const char *origin, store_open_mode mode,
		      GError **err);

#endif
