/* store_sql.h - the store's operations over a SQL database (internal to
 * store_sql*.c and the drivers store_sqlite.c and store_pg.c)
 *
 * Every operation of store.h is written once, in store_sql.c and
 * store_sql_log.c, as SQL that SQLite and PostgreSQL both run: numbered
 * parameters (?1, ?2 ...; the PostgreSQL driver makes them $1, $2), typed
 * by the arguments (sql_args), RETURNING, ON CONFLICT upserts.  Where the
 * two differ the statement is chosen with SQL_DIALECT().  A driver gives
 * the connection: how a statement is run and its rows read, the schema,
 * the transaction's first statement, and the hooks below.
 *
 * Transactions: an operation is a transaction, or a savepoint of the
 * batch's (store_batch_begin).  Its changes wait in memory and go into the
 * change log at the outermost commit, after the driver's lock_changes
 * statement, so that on a server shared by several hosts the log's
 * sequence numbers are in commit order.  A driver with row locks
 * (PostgreSQL) has every write lock its calendar's row first, so writers
 * of one calendar from any host go one after the other; SQLite's
 * BEGIN IMMEDIATE serialises all writers anyway.
 *
 * Rows read while nothing changed: with a driver that knows when nothing
 * has changed anywhere (nothing_after: PostgreSQL's listener), mailbox,
 * calendar and item rows (without their bytes) read outside a transaction
 * are kept until the next change anywhere, since the mount asks for the
 * same rows several times for each file it serves and every ask is a
 * round trip to the server.
 *
 * Every function here expects s->lock held unless it says otherwise.
 */
#ifndef CALFS_STORE_SQL_H
#define CALFS_STORE_SQL_H

#include "store.h"

#define SQL_MAX_ARGS 14
#define SQL_SCHEMA_VERSION 3

typedef enum { SQL_INT, SQL_TEXT, SQL_BLOB } sql_type;

/* The parameters of one statement; a NULL text or blob is SQL NULL. */
typedef struct {
	int n;
	struct {
		sql_type type;
		gboolean null;
		gint64 i;
		const void *p;	/* text (NUL-terminated) or blob bytes */
		gsize len;	/* blob length */
	} v[SQL_MAX_ARGS];
} sql_args;

void sql_arg_i64(sql_args *a, gint64 v);
void sql_arg_int_null(sql_args *a);
void sql_arg_text(sql_args *a, const char *v);
void sql_arg_blob(sql_args *a, const void *data, gsize len);

typedef struct sqlstore sqlstore;
typedef struct sql_driver sql_driver;

/* One row of a result, read with sql_i64() and friends. */
typedef struct {
	const sql_driver *drv;
	gpointer res;		/* the driver's result or statement */
	int row;
} sql_row;

gint64 sql_i64(sql_row *r, int col);		/* NULL reads as 0 */
char *sql_text(sql_row *r, int col);		/* newly allocated, or NULL */
GBytes *sql_bytes(sql_row *r, int col);	/* newly allocated, or NULL */
gboolean sql_null(sql_row *r, int col);

typedef void (*sql_each_fn)(sql_row *r, gpointer data);
typedef gpointer (*sql_row_fn)(sql_row *r);

struct sql_driver {
	gboolean postgresql;	/* SQL_DIALECT() picks the second statement */
	gboolean row_locks;	/* SELECT ... FOR UPDATE locks rows */
	const char *begin;	/* the statement that opens a transaction */
	const char *lock_changes;	/* run before the change log is written, or NULL */
	/* relaxed: run first in a transaction whose loss in a crash costs
	 * nothing (a cache: item_set_checked, zone scans), so that its commit
	 * need not wait for the disk; or NULL */
	const char *relaxed;
	/* run: run sql (a literal: it keys the prepared statement) with a,
	 * calling each (may be NULL) for every row.  FALSE with err set:
	 * EXISTS for a unique violation, BUSY for a lock not granted, IO
	 * otherwise, naming the store and what. */
	gboolean (*run)(sqlstore *s, const char *sql, const sql_args *a,
			sql_each_fn each, gpointer data, const char *what,
			GError **err);
	/* script: run several statements without parameters (the schema). */
	gboolean (*script)(sqlstore *s, const char *sql, GError **err);
	gint64 (*col_i64)(sql_row *r, int col);
	char *(*col_text)(sql_row *r, int col);
	GBytes *(*col_bytes)(sql_row *r, int col);
	gboolean (*col_null)(sql_row *r, int col);
	/* setup: make or upgrade the schema, from version (0: none), inside
	 * the opening transaction. */
	gboolean (*setup)(sqlstore *s, gint64 version, GError **err);
	/* schema_version: the stored version, 0 when there is no schema. */
	gint64 (*schema_version)(sqlstore *s, GError **err);
	/* lock_wait: wait at most wait_ms for another process's locks from
	 * now on, or the driver's default again for -1 (may be NULL). */
	void (*lock_wait)(sqlstore *s, int wait_ms);
	/* nothing_after: whether the driver knows, without a query, that no
	 * change after seq was logged (may be NULL; takes no lock). */
	gboolean (*nothing_after)(sqlstore *s, gint64 seq);
	/* following: this process reads the change log (may be NULL). */
	void (*following)(sqlstore *s);
	void (*close)(sqlstore *s);	/* the connection; s is freed after */
};

/* A change of the current transaction, logged at commit. */
typedef struct {
	store_change_kind kind;
	gint64 mailbox, calendar, item, old_calendar;
	char *name, *old_name;
} sql_pending;

struct sqlstore {
	store base;
	const sql_driver *drv;
	gpointer conn;		/* the driver's */
	GMutex lock;
	char *describe;		/* "sqlite /path", "postgresql URL" (no password) */
	char *origin;
	char *run_command;	/* run started lazily on the first change */
	gint64 run_id;		/* negative until its transaction commits */
	gint64 op_run;		/* run_id when the batch's operation began */
	guint batch;		/* open store_batch_begin()s */
	gboolean in_txn;
	GArray *pending;	/* sql_pending */
	guint op_mark;		/* pending->len when the operation began */
	gint64 known_last;	/* newest change seq this process knows (atomic) */
	GHashTable *cache[3];	/* rows read while nothing changed: id -> record */
	gint64 cache_seq;	/* known_last when the cache was emptied */
};

/* Pick the statement of the dialect: SQLite's, else PostgreSQL's. */
#define SQL_DIALECT(s, sqlite_sql, postgresql_sql) \
	((s)->drv->postgresql ? (postgresql_sql) : (sqlite_sql))

sqlstore *sqlstore_of(store *s);
gint64 sqlstore_now_ns(void);

/* sqlstore_new: a store on drv's connection conn, not yet set up. */
sqlstore *sqlstore_new(const sql_driver *drv, gpointer conn, const char *describe,
		       const char *origin);
/* sqlstore_setup: make or upgrade the schema, or refuse a newer one;
 * FALSE with err set. */
gboolean sqlstore_setup(sqlstore *s, GError **err);
/* sqlstore_free: close the connection (drv->close) and free s. */
void sqlstore_free(sqlstore *s);

gboolean sqlstore_exec(sqlstore *s, const char *sql, const sql_args *a,
		       const char *what, GError **err);
GPtrArray *sqlstore_collect(sqlstore *s, const char *sql, const sql_args *a,
			    sql_row_fn fn, GDestroyNotify free_fn, GError **err);
/* sqlstore_one: the first row made by fn, or NULL with NOTFOUND ("what:
 * not found") or the error. */
gpointer sqlstore_one(sqlstore *s, const char *sql, const sql_args *a,
		      sql_row_fn fn, const char *what, GError **err);
/* sqlstore_scalar: the integer of a one-value query, -1 on error. */
gint64 sqlstore_scalar(sqlstore *s, const char *sql, const sql_args *a,
		       GError **err);
/* sqlstore_exec_relaxed: sqlstore_exec for a write whose loss in a crash
 * costs nothing (drv->relaxed). */
gboolean sqlstore_exec_relaxed(sqlstore *s, const char *sql, const sql_args *a,
			       const char *what, GError **err);
/* sqlstore_note_seq: raise s->known_last to seq (atomic, no lock). */
void sqlstore_note_seq(sqlstore *s, gint64 seq);

/* store_sql_log.c: the change log, runs, the journal's listing, counts,
 * replies, stamps and zone scans (these take the lock themselves). */
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
