/* store_pg_impl.h - internal to the PostgreSQL store (store_pg*.c)
 *
 * The connection, the listener and the helpers the store's files share.
 * Functions that take a pgstore expect s->lock held unless they say
 * otherwise.
 */
#ifndef CALFS_STORE_PG_IMPL_H
#define CALFS_STORE_PG_IMPL_H

#include <libpq-fe.h>
#include "store.h"

#define PG_MAX_ARGS 14

/* The parameters of one query: text, except bytes (binary). */
typedef struct {
	const char *v[PG_MAX_ARGS];
	int len[PG_MAX_ARGS];
	int fmt[PG_MAX_ARGS];
	char num[PG_MAX_ARGS][24];
	int n;
} pg_args;

typedef struct pglisten pglisten;

/* A change logged by the current transaction, inserted at commit. */
typedef struct {
	store_change_kind kind;
	gint64 mailbox, calendar, item, old_calendar;
	char *name, *old_name;
} pg_pending;

typedef struct {
	store base;
	PGconn *conn;
	GMutex lock;
	GHashTable *prepared;	/* const char *sql -> statement name */
	char *url;		/* as given (may hold a password) */
	char *describe;		/* "postgresql postgresql://host/db", redacted */
	char *origin;
	char *run_command;
	gint64 run_id;		/* negative while its transaction is open */
	gint64 op_run;		/* run_id when the batch's operation began */
	guint batch;		/* open store_batch_begin()s */
	gboolean in_txn;	/* a transaction is open on conn */
	GArray *pending;	/* pg_pending, the transaction's changes */
	guint op_mark;		/* pending->len when the current operation began */
	gint64 lost_since;	/* monotonic us the connection was lost, 0 if up */
	pglisten *listen;	/* started by the first changes_since */
	gboolean listen_failed;
	gint64 known_last;	/* newest change seq known (atomic) */
} pgstore;

typedef gpointer (*pg_row_fn)(PGresult *r, int row);

pgstore *pgstore_of(store *s);

/* pg_conn_error: the first line of conn's last error ("no connection"
 * when there is none), newly allocated: libpq's go on for lines. */
char *pg_conn_error(PGconn *conn);

/* pg_note_seq: raise s->known_last to seq (atomic; no lock needed). */
void pg_note_seq(pgstore *s, gint64 seq);

void pg_arg_i64(pg_args *a, gint64 v);
void pg_arg_text(pg_args *a, const char *v);	/* NULL: SQL NULL */
void pg_arg_bytes(pg_args *a, const void *data, gsize len);

/* pg_query: run sql (a literal: it keys the prepared statement) with a;
 * the result (tuples or command ok), or NULL with err set: EXISTS for a
 * unique violation, BUSY for a deadlock or serialisation failure, IO
 * otherwise, naming what.  Reconnects first when the connection was lost
 * outside a transaction. */
PGresult *pg_query(pgstore *s, const char *sql, pg_args *a, const char *what,
		   GError **err);
gboolean pg_exec(pgstore *s, const char *sql, pg_args *a, const char *what,
		 GError **err);

/* Column readers of binary results; NULL columns read as 0 / NULL. */
gint64 pg_i64(PGresult *r, int row, int col);
char *pg_text(PGresult *r, int row, int col);	/* newly allocated */
GBytes *pg_bytes(PGresult *r, int row, int col);	/* NULL when NULL */
gboolean pg_null(PGresult *r, int row, int col);

GPtrArray *pg_collect(pgstore *s, const char *sql, pg_args *a, pg_row_fn fn,
		      GDestroyNotify free_fn, GError **err);
/* pg_one: the one row made by fn, or NULL with NOTFOUND ("what: not found"). */
gpointer pg_one(pgstore *s, const char *sql, pg_args *a, pg_row_fn fn,
		const char *what, GError **err);
/* pg_scalar: the integer of a one-value query, -1 on error. */
gint64 pg_scalar(pgstore *s, const char *sql, pg_args *a, GError **err);

/* store_pg_log.c: the change log, runs, journal listing, counts, replies,
 * stamps and zone scans (these take the lock themselves). */
GPtrArray *pgstore_changes_since(store *base, gint64 seq, int limit, GError **err);
gboolean pgstore_stats(store *base, store_stats *out, GError **err);
gint64 pgstore_root_mtime(store *base, GError **err);
gint64 pgstore_last_change(store *base, GError **err);
GPtrArray *pgstore_runs_list(store *base, GError **err);
GPtrArray *pgstore_journal_list(store *base, gint64 run_id, gint64 calendar_id,
				int limit, GError **err);
gboolean pgstore_reply_get(store *base, gint64 mailbox_id, const char *uid,
			   const char *attendee, gint64 *when, gint64 *sequence,
			   GError **err);
gboolean pgstore_reply_put(store *base, gint64 mailbox_id, const char *uid,
			   const char *attendee, gint64 when, gint64 sequence,
			   GError **err);
char *pgstore_mailbox_stamp(store *base, gint64 mailbox_id, GError **err);
gboolean pgstore_zone_scan_get(store *base, gint64 mailbox_id, const char *key,
			       char **status, char **resolved, GError **err);
gboolean pgstore_zone_scan_put(store *base, gint64 mailbox_id, const char *key,
			       const char *status, const char *resolved,
			       GError **err);

/* store_pg_listen.c: the LISTEN thread, started by the first follower of
 * the change log (after a daemon has forked: threads do not survive
 * fork), connecting in the background.  NULL with err when no thread can
 * be started.  pglisten_healthy says whether it is connected and
 * listening, so that s->known_last can be trusted (no lock needed). */
pglisten *pglisten_start(pgstore *s, GError **err);
gboolean pglisten_healthy(pglisten *l);
void pglisten_stop(pglisten *l);

#endif
