/* store_pg_listen.c - the PostgreSQL store's listener: a thread with a
 * connection of its own that LISTENs on calfs_changes and raises the
 * store's known_last as notifications arrive.  When the connection is
 * lost it says so once, retries every half second, and when it is back
 * reads the newest change, so that followers replay whatever they missed,
 * and says that in one line. */
#include "store_pg_impl.h"
#include "error.h"
#include "log.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#define RETRY_MS 500

struct pglisten {
	sqlstore *s;
	char *url;
	GThread *thread;
	PGconn *conn;
	int wake[2];		/* written to stop the thread */
	gint healthy;		/* atomic */
	gint stop;		/* atomic */
};

static void ignore_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* Connect and LISTEN, then read the newest change; NULL with *why set. */
static PGconn *connect_listen(pglisten *l, char **why)
{
	/* named in pg_stat_activity (an application_name in the URL, which
	 * comes after, wins) */
	const char *const keys[] = { "application_name", "dbname", NULL };
	const char *const values[] = { "calfs listener", l->url, NULL };
	PGconn *c = PQconnectdbParams(keys, values, 1);
	PGresult *r;

	if (PQstatus(c) != CONNECTION_OK)
		goto fail;
	PQsetNoticeProcessor(c, ignore_notice, NULL);
	r = PQexec(c, "LISTEN calfs_changes");
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		PQclear(r);
		goto fail;
	}
	PQclear(r);
	r = PQexec(c, "SELECT coalesce(max(seq), 0) FROM changes");
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
		PQclear(r);
		goto fail;
	}
	sqlstore_note_seq(l->s, g_ascii_strtoll(PQgetvalue(r, 0, 0), NULL, 10));
	PQclear(r);
	return c;
fail:
	*why = pgstore_conn_error(c);
	PQfinish(c);
	return NULL;
}

/* Wait up to ms for the socket (or -1) or the wake pipe. */
static void wait_for(pglisten *l, int fd, int ms)
{
	struct pollfd p[2] = { { l->wake[0], POLLIN, 0 }, { fd, POLLIN, 0 } };

	poll(p, fd >= 0 ? 2 : 1, ms);
}

static gpointer run(gpointer data)
{
	pglisten *l = data;
	sqlstore *s = l->s;
	gint64 lost_at = 0, seen = 0;

	while (!g_atomic_int_get(&l->stop)) {
		PGnotify *n;

		if (!l->conn) {
			char *why = NULL;

			l->conn = connect_listen(l, &why);
			if (!l->conn) {
				if (!lost_at) {
					lost_at = g_get_monotonic_time();
					log_warning("store %s: change log: cannot LISTEN (%s);"
						    " retrying", s->describe, why);
				}
				g_free(why);
				wait_for(l, -1, RETRY_MS);
				continue;
			}
			if (lost_at)
				log_notice("store %s: change log: reconnected after %.1f s;"
					   " replaying changes after %" G_GINT64_FORMAT
					   " (newest %" G_GINT64_FORMAT ")", s->describe,
					   (g_get_monotonic_time() - lost_at) / 1e6, seen,
					   __atomic_load_n(&s->known_last, __ATOMIC_ACQUIRE));
			lost_at = 0;
			g_atomic_int_set(&l->healthy, 1);
		}
		wait_for(l, PQsocket(l->conn), 1000);
		if (!PQconsumeInput(l->conn)) {
			char *why = pgstore_conn_error(l->conn);

			g_atomic_int_set(&l->healthy, 0);
			seen = __atomic_load_n(&s->known_last, __ATOMIC_ACQUIRE);
			lost_at = g_get_monotonic_time();
			if (!g_atomic_int_get(&l->stop))
				log_warning("store %s: change log: connection lost (%s);"
					    " reconnecting", s->describe, why);
			g_free(why);
			PQfinish(l->conn);
			l->conn = NULL;
			continue;
		}
		while ((n = PQnotifies(l->conn))) {
			sqlstore_note_seq(s, g_ascii_strtoll(n->extra, NULL, 10));
			PQfreemem(n);
		}
	}
	return NULL;
}

pglisten *pglisten_start(sqlstore *s, const char *url, GError **err)
{
	pglisten *l = g_new0(pglisten, 1);

	l->s = s;
	if (pipe(l->wake) != 0) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_IO, "store %s: pipe: %s",
			    s->describe, g_strerror(errno));
		g_free(l);
		return NULL;
	}
	l->url = g_strdup(url);
	l->thread = g_thread_new("calfs-listen", run, l);
	return l;
}

gboolean pglisten_healthy(pglisten *l)
{
	return g_atomic_int_get(&l->healthy);
}

void pglisten_stop(pglisten *l)
{
	g_atomic_int_set(&l->stop, 1);
	if (write(l->wake[1], "x", 1) < 0)
		log_debug("listener: wake: %s", g_strerror(errno));
	g_thread_join(l->thread);
	if (l->conn)
		PQfinish(l->conn);
	close(l->wake[0]);
	close(l->wake[1]);
	g_free(l->url);
	g_free(l);
}
