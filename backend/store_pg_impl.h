/* store_pg_impl.h - internal to the PostgreSQL driver (store_pg*.c) */
#ifndef CALFS_STORE_PG_IMPL_H
#define CALFS_STORE_PG_IMPL_H

#include <libpq-fe.h>
#include "store_sql.h"

typedef struct pglisten pglisten;

/* The driver's connection (sqlstore.conn); used under the store's lock,
 * except listen, which is read atomically. */
typedef struct {
	PGconn *conn;
	GHashTable *prepared;	/* const char *sql -> statement name */
	/* statements sent in pipeline mode (driver.send) whose results are
	 * not read yet, what each does (static strings), and the first
	 * failure found among them, which fails the transaction */
	GPtrArray *sent;
	char *failed;		/* "what: message", or NULL */
	int failed_code;	/* its CALFS_ERROR_* */
	char *url;		/* as given (may hold a password) */
	gint64 lost_since;	/* monotonic us it became unreachable, or 0 */
	pglisten *listen;	/* started by the first follower of the log */
	gboolean listen_failed;
} pgconn;

pgconn *pgstore_conn(sqlstore *s);

/* pgstore_conn_error: the first line of conn's last error ("no connection"
 * when there is none), newly allocated: libpq's go on for lines. */
char *pgstore_conn_error(PGconn *conn);

/* store_pg_listen.c: the LISTEN thread, started by the first follower of
 * the change log (after a daemon has forked: threads do not survive
 * fork), connecting to url in the background and raising s->known_last
 * as notifications arrive.  NULL with err when no thread can be started.
 * pglisten_healthy says whether it is connected and listening, so that
 * known_last can be trusted (no lock needed). */
pglisten *pglisten_start(sqlstore *s, const char *url, GError **err);
gboolean pglisten_healthy(pglisten *l);
void pglisten_stop(pglisten *l);

#endif
