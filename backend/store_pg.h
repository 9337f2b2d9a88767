/* store_pg.h - the store on a PostgreSQL server (libpq)
 *
 * Several hosts may mount one PostgreSQL store at once.  Every write is a
 * transaction that first locks the rows of the calendars it touches, so
 * two hosts writing the same item are serialised: the later write
 * replaces the earlier one and both are in the journal with the bytes
 * they replaced (nothing is refused for having lost a race).  Changes
 * are appended to the change log under a lock held until commit, so the
 * log's sequence numbers are in commit order and a follower that reads
 * "changes after N" never skips one.  A trigger on the change log sends
 * NOTIFY calfs_changes with the new sequence number; a listener thread
 * (LISTEN, on a connection of its own) tells the store when there is
 * something new, so following the log costs no query while nothing
 * changes.  A lost connection is reopened on the next operation; the
 * listener reconnects within a second, and says so in one line.
 * See store.h for the operations.
 */
#ifndef CALFS_STORE_PG_H
#define CALFS_STORE_PG_H

#include "store.h"

/* pgstore_is_url: whether spec names a PostgreSQL store
 * ("postgresql://..." or "postgres://..."). */
gboolean pgstore_is_url(const char *spec);

/* pgstore_open: connect to the store at url, creating its schema when the
 * database has none and mode is STORE_CREATE (and upgrading an older
 * one).  origin names this process in the change log (NULL:
 * "pid:<pid>").  NULL with err set: NOTFOUND when the database has no
 * calfs tables and mode is STORE_EXISTING, IO when the server cannot be
 * reached or the schema is newer than this calfs. */
store *pgstore_open(const char *url, const char *origin, store_open_mode mode,
		    GError **err);

/* pgstore_redact: url with any password replaced by "***", for messages
 * and the mount's fsname.  Newly allocated. */
char *pgstore_redact(const char *url);

#endif
