/* store_sqlite_impl.h - internal to the SQLite store (store_sqlite*.c)
 *
 * The connection and the helpers its two files share.  Every function
 * here expects s->lock to be held unless it says otherwise.
 */
#ifndef CALFS_STORE_SQLITE_IMPL_H
#define CALFS_STORE_SQLITE_IMPL_H

#include <sqlite3.h>
#include "store.h"

typedef struct {
	store base;
	sqlite3 *db;
	GMutex lock;
	GHashTable *stmts;	/* const char *sql -> sqlite3_stmt* */
	char *path;
	char *describe;
	char *origin;
	char *run_command;	/* run started lazily on the first change */
	guint batch;		/* open store_batch_begin()s: operations are savepoints */
	gint64 run_id;
} sqlstore;

typedef gpointer (*row_fn)(sqlite3_stmt *st);

sqlstore *sqlstore_of(store *s);
gint64 sqlstore_now_ns(void);
/* sqlstore_error: set err from the connection's last error (BUSY, EXISTS
 * for a unique constraint, else IO), naming what failed. */
void sqlstore_error(sqlstore *s, GError **err, const char *what);
/* sqlstore_stmt: a cached prepared statement for sql, reset and unbound;
 * sql must be a string that lives as long as s (a literal). */
sqlite3_stmt *sqlstore_stmt(sqlstore *s, const char *sql, GError **err);
void sqlstore_bind_text(sqlite3_stmt *st, int i, const char *v);
char *sqlstore_col_text(sqlite3_stmt *st, int i);
gboolean sqlstore_step_done(sqlstore *s, sqlite3_stmt *st, GError **err,
			    const char *what);
/* sqlstore_collect: every row of st made by fn, in a GPtrArray freeing
 * them with free_fn. */
GPtrArray *sqlstore_collect(sqlstore *s, sqlite3_stmt *st, row_fn fn,
			    GDestroyNotify free_fn, GError **err);
/* sqlstore_one: the one row of st made by fn, or NULL with NOTFOUND. */
gpointer sqlstore_one(sqlstore *s, sqlite3_stmt *st, row_fn fn, const char *what,
		      GError **err);
/* sqlstore_scalar: the integer of a one-value query, -1 on error. */
gint64 sqlstore_scalar(sqlstore *s, const char *sql, GError **err);

/* store_sqlite_log.c: the change log, runs, the journal's listing, counts
 * and replies (these take the lock themselves). */
GPtrArray *sqlstore_changes_since(store *base, gint64 seq, int limit, GError **err);
gboolean sqlstore_stats(store *base, store_stats *out, GError **err);
gint64 sqlstore_root_mtime(store *base, GError **err);
gint64 sqlstore_last_change(store *base, GError **err);
GPtrArray *sqlstore_runs_list(store *base, GError **err);
GPtrArray *sqlstore_journal_list(store *base, gint64 run_id, gint64 calendar_id,
				 int limit, GError **err);
gboolean sqlstore_reply_get(store *base, gint64 mailbox_id, const char *uid,
			    const char *attendee, gint64 *when, gint64 *sequence,
			    GError **err);
gboolean sqlstore_reply_put(store *base, gint64 mailbox_id, const char *uid,
			    const char *attendee, gint64 when, gint64 sequence,
			    GError **err);
char *sqlstore_mailbox_stamp(store *base, gint64 mailbox_id, GError **err);
gboolean sqlstore_zone_scan_get(store *base, gint64 mailbox_id, const char *key,
				char **status, char **resolved, GError **err);
gboolean sqlstore_zone_scan_put(store *base, gint64 mailbox_id, const char *key,
				const char *status, const char *resolved,
				GError **err);

#endif
