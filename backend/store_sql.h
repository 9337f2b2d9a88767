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
#define SQL_SCHEMA_VERSION 5

/* SQL_BLOBS: a blob holding a PostgreSQL bytea[] in its binary form
 * (sql_blobs), for one parameter of many byte strings */
typedef enum { SQL_INT, SQL_TEXT, SQL_BLOB, SQL_BLOBS } sql_type;

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

/* A PostgreSQL array literal ({1,2,3}), built value by value, for a
 * statement that takes many rows as one parameter per column (unnest):
 * one statement instead of one a row (a mailbox's verdicts, a
 * transaction's change log).
 * sql_array_end gives the literal (the caller's) and frees the rest. */
typedef struct {
	GString *g;
} sql_array;

void sql_array_init(sql_array *a);
void sql_array_i64(sql_array *a, gint64 v);
/* v quoted as an element of a text array; NULL is the array's NULL */
void sql_array_text(sql_array *a, const char *v);
char *sql_array_end(sql_array *a);

/* A PostgreSQL bytea[] (binary form) built value by value, the same for
 * byte strings: sql_arg_blobs makes it a parameter (a keeps the bytes
 * until sql_blobs_clear). */
typedef struct {
	GByteArray *b;
	guint32 n;
} sql_blobs;

void sql_blobs_init(sql_blobs *a);
void sql_blobs_add(sql_blobs *a, const void *data, gsize len);
void sql_arg_blobs(sql_args *args, sql_blobs *a);
void sql_blobs_clear(sql_blobs *a);

typedef struct sqlstore sqlstore;

/* What drv->unchanged compares: the state of a store at a moment. */
#define SQL_MARK_SIZE 96
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
	/* item_near: on a miss, an item's bare row is read with the rows of
	 * its calendar whose ids are at most this far from its own, into
	 * the cache (0: alone): a reader opens the files of a directory one
	 * after another, and on a server every query is a round trip. */
	guint item_near;
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
	/* send: run sql, whose rows are not wanted and which can fail only
	 * when the transaction cannot go on (a savepoint, a journal row),
	 * without waiting for it where the driver can; may be NULL (run).
	 * Called only inside a transaction.  A failure found later is
	 * reported by the next statement run, and fails every statement of
	 * the transaction up to its ROLLBACK. */
	gboolean (*send)(sqlstore *s, const char *sql, const sql_args *a,
			 const char *what, GError **err);
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
	/* unchanged: whether no process committed a transaction to the
	 * store since mark was taken (1), or some did (0; mark is then set
	 * to now, and a read from now on sees what they committed); -1 when
	 * it cannot tell without a query.  May be NULL; called with s->lock
	 * held, outside a transaction. */
	int (*unchanged)(sqlstore *s, guint8 mark[SQL_MARK_SIZE]);
	/* reader: a new store on a connection of its own to the same
	 * database that only reads (may be NULL: no readers); NULL with err
	 * set when it cannot be opened. */
	sqlstore *(*reader)(sqlstore *s, GError **err);
	/* peer: a new store on a connection of its own to the same
	 * database, which writes (store_peer; may be NULL: no peers); NULL
	 * with err set when it cannot be opened. */
	sqlstore *(*peer)(sqlstore *s, GError **err);
	/* following: this process reads the change log (may be NULL). */
	void (*following)(sqlstore *s);
	void (*close)(sqlstore *s);	/* the connection; s is freed after */
};

/* A new item of a batch, waiting to be sent with its journal row
 * (store_sql_items.c). */
typedef struct {
	gint64 id, calendar_id, mtime_ns, run_id;
	char *name, *uid, *checked, *note;
	GBytes *data;
} sql_queued;

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
	/* a peer (store_peer) journals under the run of lead, the store it
	 * was made from, read and made under lead->lock (a peer's lock is
	 * taken first); NULL for every other store */
	sqlstore *lead;
	gboolean run_for_peers;	/* run_id was made for peers, committed at once */
	gint64 op_run;		/* run_id when the batch's operation began */
	guint batch;		/* open store_batch_begin()s */
	gboolean in_txn;
	GArray *pending;	/* sql_pending */
	/* calendar id -> mailbox id (GSIZE_TO_POINTER): the calendars whose
	 * rows the open transaction locked; emptied when it ends, and when
	 * an operation of a batch rolls back (which may drop its locks) */
	GHashTable *locked;
	/* in a batch: calendar id -> the names and UIDs (a
	 * string set, "n" or "u" before each) the transaction wrote in
	 * that calendar of locked, which held no item when the
	 * transaction locked it; NULL for one that held some, or was
	 * renamed into (store_sql_items.c); emptied with locked */
	GHashTable *fresh;
	/* a write of the open batch failed without a savepoint to roll
	 * back to (store_sql_items.c): the batch can only roll back */
	gboolean doomed;
	GArray *spare_ids;	/* gint64: item ids taken beforehand, unused
				 * (store_sql_items.c) */
	/* PostgreSQL: the batch's surely new items not sent yet
	 * (sql_queued), sent as one statement before any other
	 * (sqlstore_send_queued); emptied when the transaction ends */
	GArray *queued;
	gsize queued_bytes;	/* of their data */
	guint op_mark;		/* pending->len when the operation began */
	gint64 known_last;	/* newest change seq this process knows (atomic) */
	GHashTable *cache[3];	/* rows read while nothing changed: id -> record */
	gint64 cache_seq;	/* known_last when the cache was emptied */
	/* under lock: the store's state (drv->unchanged) when the cache
	 * was last found good; the change log's last seq, kept with the
	 * cache's rows (-1: not kept) */
	guint8 cache_mark[SQL_MARK_SIZE];
	gint64 last_change;
	/* under lock, PostgreSQL: verdicts this store wrote to checks, and
	 * how many make the commit that passes them ANALYZE it */
	guint64 checks_marked;
	guint64 checks_analyze_at;
	/* readers_lock (a leaf) protects readers: the idle read-only stores
	 * (drv->reader) of the *_committed operations, each used by one
	 * thread at a time and closed with s */
	GMutex readers_lock;
	GPtrArray *readers;
};

/* Pick the statement of the dialect: SQLite's, else PostgreSQL's. */
#define SQL_DIALECT(s, sqlite_sql, postgresql_sql) \
	((s)->drv->postgresql ? (postgresql_sql) : (sqlite_sql))

sqlstore *sqlstore_of(store *s);
gint64 sqlstore_now_ns(void);

/* sqlstore_new: a store on drv's connection conn, not yet set up. */
sqlstore *sqlstore_new(const sql_driver *drv, gpointer conn, const char *describe,
		       const char *origin);
/* sqlstore_setup: make (STORE_CREATE) or upgrade the schema, or refuse a
 * newer one; FALSE with err set (NOTFOUND: no schema, and mode is
 * STORE_EXISTING). */
gboolean sqlstore_setup(sqlstore *s, store_open_mode mode, GError **err);
/* sqlstore_free: close the connection (drv->close) and free s. */
void sqlstore_free(sqlstore *s);

/* sqlstore_each: run sql with a, each (may be NULL) called for each row;
 * FALSE with err set.  The queued new items (s->queued) are sent first:
 * every statement goes through here or sqlstore_send. */
gboolean sqlstore_each(sqlstore *s, const char *sql, const sql_args *a, sql_each_fn each,
		       gpointer data, const char *what, GError **err);
gboolean sqlstore_exec(sqlstore *s, const char *sql, const sql_args *a,
		       const char *what, GError **err);
/* sqlstore_send: sqlstore_exec for a statement that can fail only when
 * the transaction cannot go on, inside one: drv->send, whose failure may
 * be reported by a later statement and then fails the transaction. */
gboolean sqlstore_send(sqlstore *s, const char *sql, const sql_args *a,
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
 * costs nothing (drv->relaxed); inside a transaction, sqlstore_send. */
gboolean sqlstore_exec_relaxed(sqlstore *s, const char *sql, const sql_args *a,
			       const char *what, GError **err);
/* sqlstore_reader_take: an idle reader of s, or a new one, or NULL when
 * the driver has none or it cannot be opened (then read on s); give it
 * back with sqlstore_reader_give.  Takes readers_lock, not s->lock. */
sqlstore *sqlstore_reader_take(sqlstore *s);
void sqlstore_reader_give(sqlstore *s, sqlstore *reader);
/* sqlstore_committed_begin: the store a *_committed read runs on, locked:
 * a reader of s when there is one (its lock is uncontended: the reader is
 * this thread's until given back), else s itself.  sqlstore_committed_end:
 * unlock it, and give a reader back. */
sqlstore *sqlstore_committed_begin(sqlstore *s);
void sqlstore_committed_end(sqlstore *s, sqlstore *on);
/* sqlstore_note_seq: raise s->known_last to seq (atomic, no lock). */
void sqlstore_note_seq(sqlstore *s, gint64 seq);

/* ---- for the files of the SQL store (store_sql*.c) ---- */

/* now, and always later than before (?1 is now) */
#define SQL_LATER(col) "CASE WHEN ?1 > " col " THEN ?1 ELSE " col " + 1 END"
#define SQL_TOUCH_CALENDAR "UPDATE calendars SET mtime_ns = " SQL_LATER("mtime_ns") " WHERE id = ?2"
#define SQL_TOUCH_MAILBOX "UPDATE mailboxes SET mtime_ns = " SQL_LATER("mtime_ns") " WHERE id = ?2"
/* sql, locking the rows it reads until the transaction ends */
#define SQL_LOCKING(s, sql) ((s)->drv->row_locks ? sql " FOR UPDATE" : sql)
/* the statement that hands out item ids, reserved or not: one sequence
 * for the items of every calendar and the files a mount holds reserved */
#define SQL_NEW_ITEM_ID(s) SQL_DIALECT(s, "INSERT INTO item_ids DEFAULT VALUES RETURNING id", \
				       "SELECT nextval('item_ids')")

/* sqlstore_begin: open the operation's transaction (a savepoint in a
 * batch); sqlstore_commit ends it, writing its changes to the log, and
 * sqlstore_rollback undoes it.  FALSE with err set. */
gboolean sqlstore_begin(sqlstore *s, GError **err);
gboolean sqlstore_commit(sqlstore *s, GError **err);
void sqlstore_rollback(sqlstore *s);

/* sqlstore_log_change: a change of the operation, logged at its commit. */
void sqlstore_log_change(sqlstore *s, store_change_kind kind, gint64 mailbox,
			 gint64 calendar, gint64 item, const char *name,
			 gint64 old_calendar, const char *old_name);

/* A journal entry: what a change replaced (see store_journal_entry). */
typedef struct {
	const char *op;
	gint64 item_id, calendar_id;
	const char *name, *uid;
	gint64 old_calendar_id;
	const char *old_name;
	const void *old_data;
	gsize old_len;
	gint64 old_version, new_version;
	const char *note;	/* what the write repaired, or NULL */
} sql_journal_entry;

/* sqlstore_current_run: the id of the current run, started on first use
 * inside a write transaction; 0 with err set. */
gint64 sqlstore_current_run(sqlstore *s, GError **err);
/* sqlstore_send_queued: send the queued new items (s->queued) and their
 * journal rows in one statement (sqlstore_send), and empty the queue.
 * Every statement of s runs it first, so the statements keep their
 * order.  FALSE with err set, and the batch doomed. */
gboolean sqlstore_send_queued(sqlstore *s, GError **err);
/* sqlstore_note_made_calendar: the batch made calendar id of mailbox
 * mailbox_id: its row is the batch's alone (as if locked) and it holds no
 * item (s->fresh). */
void sqlstore_note_made_calendar(sqlstore *s, gint64 calendar_id, gint64 mailbox_id);
/* sqlstore_drop_queued: forget the queued new items (the transaction
 * rolls back). */
void sqlstore_drop_queued(sqlstore *s);
/* sqlstore_journal: journal j under the current run (started on first
 * use inside the transaction); the row is sent (sqlstore_send). */
gboolean sqlstore_journal(sqlstore *s, const sql_journal_entry *j, GError **err);
/* sqlstore_calendar_lock: the mailbox of calendar id, whose row is
 * locked until the transaction ends: read (SQL_LOCKING) once per
 * transaction.  -1 with err set (NOTFOUND: no such calendar). */
gint64 sqlstore_calendar_lock(sqlstore *s, gint64 id, GError **err);
/* sqlstore_touch: bump the mtime of row id with SQL_TOUCH_* (sent:
 * sqlstore_send). */
gboolean sqlstore_touch(sqlstore *s, const char *sql, gint64 id, GError **err);
/* sqlstore_forget_locks: the calendars locked (and what is known of
 * them) are forgotten: the transaction ended, or an operation of the
 * batch rolled back, which may have dropped its locks. */
void sqlstore_forget_locks(sqlstore *s);
/* sqlstore_drop_spare_ids: the transaction ended, or an operation of the
 * batch rolled back: on SQLite the item ids taken beforehand are the
 * transaction's, and are forgotten (store_sql_items.c). */
void sqlstore_drop_spare_ids(sqlstore *s);

/* sqlstore_calendar_get_locked: the calendar, its row locked until the
 * transaction ends when for_update (on a driver with row locks). */
store_calendar *sqlstore_calendar_get_locked(sqlstore *s, gint64 id,
					     gboolean for_update, GError **err);

/* The rows read while nothing changed (see above). */
typedef enum { SQL_CACHE_MAILBOX, SQL_CACHE_CALENDAR, SQL_CACHE_ITEM } sql_cache_kind;
/* sqlstore_cache_usable: whether the cache may be used now (emptying it
 * when anything changed since it was filled). */
gboolean sqlstore_cache_usable(sqlstore *s);
/* sqlstore_cache_get: the record kept under id (owned by the cache), or NULL. */
gpointer sqlstore_cache_get(sqlstore *s, sql_cache_kind k, gint64 id);
/* sqlstore_cache_put: keep rec (a copy, which the cache now owns) under id. */
void sqlstore_cache_put(sqlstore *s, sql_cache_kind k, gint64 id, gpointer rec);

/* store_sql_items.c: the items' operations (these take the lock). */
GPtrArray *sqlstore_item_list(store *base, gint64 calendar_id, GError **err);
store_item *sqlstore_item_get(store *base, gint64 id, gboolean with_data,
			      GError **err);
GPtrArray *sqlstore_item_list_committed(store *base, gint64 calendar_id, GError **err);
store_item *sqlstore_item_get_committed(store *base, gint64 id, GError **err);
GPtrArray *sqlstore_item_range_committed(store *base, gint64 calendar_id, gint64 first,
					 gint64 last, guint limit, GError **err);
store_item *sqlstore_item_find(store *base, gint64 calendar_id, const char *name,
			       gboolean with_data, GError **err);
store_item *sqlstore_item_find_uid(store *base, gint64 calendar_id,
				   const char *uid, GError **err);
gint64 sqlstore_item_reserve_id(store *base, gint64 calendar_id, GError **err);
store_item *sqlstore_item_put(store *base, const store_put *req,
			      store_put_result *result, GError **err);
gboolean sqlstore_item_delete(store *base, gint64 id, GError **err);
gboolean sqlstore_item_rename(store *base, gint64 id, gint64 calendar_id,
			      const char *name, GError **err);
gboolean sqlstore_items_set_checked(store *base, const char *key, const store_version *v,
				    guint n, GError **err);
GPtrArray *sqlstore_item_scan(store *base, gint64 calendar_id, const char *contains,
			      GError **err);

/* store_sql_log.c: the change log, runs, the journal's listing, counts,
 * replies, stamps and zone scans (these take the lock themselves). */
GPtrArray *sqlstore_changes_since(store *base, gint64 seq, int limit, GError **err);
gboolean sqlstore_stats(store *base, store_stats *out, GError **err);
gint64 sqlstore_root_mtime(store *base, GError **err);
gint64 sqlstore_last_change(store *base, GError **err);
GPtrArray *sqlstore_runs_list(store *base, GError **err);
GPtrArray *sqlstore_journal_after(store *base, gint64 run_id, GError **err);
GPtrArray *sqlstore_journal_list(store *base, gint64 run_id, gint64 calendar_id,
				 int limit, GError **err);
gboolean sqlstore_reply_get(store *base, gint64 mailbox_id, const char *uid,
			    const char *attendee, gint64 *when, gint64 *sequence,
			    GError **err);
gboolean sqlstore_reply_get_committed(store *base, gint64 mailbox_id, const char *uid,
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
