/* store_sqlite.c - the SQL store's driver for a SQLite file */
#include "store_sqlite.h"
#include "store_sql.h"
#include "error.h"

#include <sqlite3.h>
#include <string.h>

#define BUSY_TIMEOUT_MS 10000

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value);"
	"CREATE TABLE IF NOT EXISTS mailboxes("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" name TEXT NOT NULL UNIQUE,"
	" mtime_ns INTEGER NOT NULL,"
	" owner_uid INTEGER, owner_gid INTEGER, mode INTEGER NOT NULL DEFAULT 0,"
	" timezone TEXT);"
	"CREATE TABLE IF NOT EXISTS calendars("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id),"
	" name TEXT NOT NULL,"
	" displayname TEXT, color TEXT,"
	" mtime_ns INTEGER NOT NULL,"
	" UNIQUE(mailbox_id, name));"
	"CREATE TABLE IF NOT EXISTS item_ids(id INTEGER PRIMARY KEY AUTOINCREMENT);"
	"CREATE TABLE IF NOT EXISTS items("
	" id INTEGER PRIMARY KEY,"
	" calendar_id INTEGER NOT NULL REFERENCES calendars(id),"
	" name TEXT NOT NULL,"
	" uid TEXT NOT NULL,"
	" data BLOB NOT NULL,"
	" version INTEGER NOT NULL,"
	" mtime_ns INTEGER NOT NULL,"
	" checked TEXT,"	/* render key under which data renders unchanged */
	" UNIQUE(calendar_id, name));"
	"CREATE INDEX IF NOT EXISTS items_by_uid ON items(calendar_id, uid);"
	/* verdicts recorded after a write (store_items_set_checked), for the
	 * version they were made on; an item's delete deletes its own */
	"CREATE TABLE IF NOT EXISTS checks("
	" item_id INTEGER PRIMARY KEY,"
	" version INTEGER NOT NULL,"
	" key TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS runs("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" started_ns INTEGER NOT NULL,"
	" command TEXT NOT NULL,"
	" origin TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS journal("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" run_id INTEGER NOT NULL REFERENCES runs(id),"
	" time_ns INTEGER NOT NULL,"
	" op TEXT NOT NULL,"	/* create update delete rename meta */
	" item_id INTEGER,"
	" calendar_id INTEGER,"
	" name TEXT,"
	" uid TEXT,"
	" old_calendar_id INTEGER,"
	" old_name TEXT,"
	" old_data BLOB,"	/* the bytes replaced or deleted */
	" old_version INTEGER,"
	" new_version INTEGER,"
	" note TEXT);"	/* what a write repaired (repair_on_write) */
	/* covers the counts of calfs journal and of each .calfs/log, and
	 * the lookups by run (journal_by_run, (run_id) alone, which stores
	 * made before 2026-12 have, was one index more to write per item) */
	"CREATE INDEX IF NOT EXISTS journal_by_run_op ON journal(run_id, op);"
	"CREATE INDEX IF NOT EXISTS journal_by_calendar ON journal(calendar_id);"
	"CREATE INDEX IF NOT EXISTS journal_by_old_calendar ON journal(old_calendar_id);"
	/* undo looks for later changes of the items a run changed */
	"CREATE INDEX IF NOT EXISTS journal_by_item ON journal(item_id);"
	"CREATE TABLE IF NOT EXISTS replies("	/* the latest reply per attendee */
	" mailbox_id INTEGER NOT NULL,"
	" uid TEXT NOT NULL,"
	" attendee TEXT NOT NULL,"	/* lower case */
	" reply_time INTEGER NOT NULL,"
	" sequence INTEGER NOT NULL,"
	" PRIMARY KEY(mailbox_id, uid, attendee));"
	"CREATE TABLE IF NOT EXISTS changes("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	" time_ns INTEGER NOT NULL,"
	" kind INTEGER NOT NULL,"
	" mailbox_id INTEGER, calendar_id INTEGER, item_id INTEGER,"
	" name TEXT, old_calendar_id INTEGER, old_name TEXT,"
	" origin TEXT NOT NULL);"
	/* a mailbox's latest change: the stamp of its zone scan */
	"CREATE INDEX IF NOT EXISTS changes_by_mailbox ON changes(mailbox_id, seq);"
	"CREATE TABLE IF NOT EXISTS zone_scans("	/* tzscan_mailbox_zone's */
	" mailbox_id INTEGER PRIMARY KEY,"
	" key TEXT NOT NULL,"
	" status TEXT NOT NULL,"
	" resolved TEXT);";

typedef struct {
	sqlite3 *db;
	GHashTable *stmts;	/* const char *sql -> sqlite3_stmt* */
	char *path;
} lite;

static lite *conn_of(sqlstore *s)
{
	return s->conn;
}

/* Turn the connection's last error into a CALFS_ERROR. */
static void set_error(lite *l, GError **err, const char *what)
{
	int rc = sqlite3_extended_errcode(l->db);
	int code = CALFS_ERROR_IO;

	if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
		code = CALFS_ERROR_BUSY;
	else if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
		code = CALFS_ERROR_EXISTS;
	g_set_error(err, CALFS_ERROR, code, "store %s: %s: %s", l->path, what,
		    sqlite3_errmsg(l->db));
}

/* A prepared statement for sql, cached; reset and unbound. */
static sqlite3_stmt *statement(lite *l, const char *sql, GError **err)
{
	sqlite3_stmt *st = g_hash_table_lookup(l->stmts, sql);

	if (st) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		return st;
	}
	if (sqlite3_prepare_v3(l->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st,
			       NULL) != SQLITE_OK) {
		set_error(l, err, "prepare");
		return NULL;
	}
	g_hash_table_insert(l->stmts, (gpointer)sql, st);
	return st;
}

static void bind(sqlite3_stmt *st, const sql_args *a)
{
	for (int i = 0; a && i < a->n; i++) {
		if (a->v[i].null)
			sqlite3_bind_null(st, i + 1);
		else if (a->v[i].type == SQL_INT)
			sqlite3_bind_int64(st, i + 1, a->v[i].i);
		else if (a->v[i].type == SQL_TEXT)
			sqlite3_bind_text(st, i + 1, a->v[i].p, (int)a->v[i].len,
					  SQLITE_STATIC);
		else
			sqlite3_bind_blob64(st, i + 1, a->v[i].p, a->v[i].len,
					    SQLITE_STATIC);
	}
}

static const sql_driver driver;

static gboolean lite_run(sqlstore *s, const char *sql, const sql_args *a,
			 sql_each_fn each, gpointer data, const char *what,
			 GError **err)
{
	lite *l = conn_of(s);
	sqlite3_stmt *st = statement(l, sql, err);
	sql_row row = { &driver, st, 0 };
	int rc;

	if (!st)
		return FALSE;
	bind(st, a);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (each)
			each(&row, data);
		row.row++;
	}
	if (rc != SQLITE_DONE)
		set_error(l, err, what);
	sqlite3_reset(st);	/* the bound bytes are the caller's (SQLITE_STATIC) */
	return rc == SQLITE_DONE;
}

static gboolean lite_script(sqlstore *s, const char *sql, GError **err)
{
	lite *l = conn_of(s);

	if (sqlite3_exec(l->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		set_error(l, err, "schema");
		return FALSE;
	}
	return TRUE;
}

static gint64 lite_i64(sql_row *r, int col)
{
	return sqlite3_column_int64(r->res, col);
}

static char *lite_text(sql_row *r, int col)
{
	const unsigned char *t = sqlite3_column_text(r->res, col);

	return t ? g_strdup((const char *)t) : NULL;
}

static GBytes *lite_bytes(sql_row *r, int col)
{
	if (sqlite3_column_type(r->res, col) == SQLITE_NULL)
		return NULL;
	return g_bytes_new(sqlite3_column_blob(r->res, col),
			   sqlite3_column_bytes(r->res, col));
}

static gboolean lite_null(sql_row *r, int col)
{
	return sqlite3_column_type(r->res, col) == SQLITE_NULL;
}

static gint64 lite_schema_version(sqlstore *s, GError **err)
{
	gint64 n = sqlstore_scalar(s, "SELECT count(*) FROM sqlite_master"
				   " WHERE type = 'table' AND name = 'meta'", NULL, err);

	if (n <= 0)
		return n;	/* -1: the error; 0: a new file */
	return sqlstore_scalar(s, "SELECT coalesce((SELECT value FROM meta"
			       " WHERE key = 'schema_version'), 0)", NULL, err);
}

/* 1 -> 2: the render verdict of each item; 2 -> 3: zone_scans and
 * changes_by_mailbox, which the schema makes; 3 -> 4: the journal's note
 * (and journal_by_item); 4 -> 5: checks, which the schema makes */
static gboolean lite_setup(sqlstore *s, gint64 version, GError **err)
{
	return lite_script(s, schema, err) &&
	       (version != 1 ||
		lite_script(s, "ALTER TABLE items ADD COLUMN checked TEXT", err)) &&
	       (version < 1 || version > 3 ||
		lite_script(s, "ALTER TABLE journal ADD COLUMN note TEXT", err));
}

static void lite_lock_wait(sqlstore *s, int wait_ms)
{
	sqlite3_busy_timeout(conn_of(s)->db, wait_ms < 0 ? BUSY_TIMEOUT_MS : wait_ms);
}

static void finalize_stmt(gpointer p)
{
	sqlite3_finalize(p);
}

/* The WAL index's header, its two copies (sqlite.org/walformat.html):
 * each commit changes it as it makes the commit visible to readers, and
 * every process that opens the store maps the same bytes, which keep
 * their layout across SQLite versions because they share them. */
#define WAL_HEADER 96

static int lite_unchanged(sqlstore *s, guint8 mark[SQL_MARK_SIZE])
{
	lite *l = conn_of(s);
	sqlite3_file *f = NULL;
	void volatile *shm = NULL;
	guint32 now[WAL_HEADER / 4];
	int same;

	G_STATIC_ASSERT(WAL_HEADER <= SQL_MARK_SIZE);
	/* SQLite's own mapping of the first region (32 KiB, as it maps
	 * them), which its connection keeps while it is open; none (NULL)
	 * before the connection read in WAL mode */
	if (sqlite3_file_control(l->db, "main", SQLITE_FCNTL_FILE_POINTER, &f) != SQLITE_OK ||
	    !f || !f->pMethods || f->pMethods->iVersion < 2 || !f->pMethods->xShmMap ||
	    f->pMethods->xShmMap(f, 0, 32 * 1024, 0, &shm) != SQLITE_OK || !shm)
		return -1;
	/* read as SQLite's readers read it, word by word */
	for (guint i = 0; i < G_N_ELEMENTS(now); i++)
		now[i] = __atomic_load_n((guint32 volatile *)shm + i, __ATOMIC_ACQUIRE);
	same = !memcmp(now, mark, WAL_HEADER);
	if (!same)
		memcpy(mark, now, WAL_HEADER);
	return same;
}

static void lite_close(sqlstore *s)
{
	lite *l = conn_of(s);

	if (!l)
		return;
	g_hash_table_destroy(l->stmts);
	sqlite3_close(l->db);
	g_free(l->path);
	g_free(l);
}

/* contains(haystack, needle): 1 when needle's bytes are in haystack's,
 * else 0, NULL when either is NULL: instr() > 0 with memmem, which is
 * several times faster than SQLite's position-by-position search (a
 * zone scan searches every item of a mailbox). */
static void contains_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const void *h, *n;
	int hl, nl;

	(void)argc;
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL ||
	    sqlite3_value_type(argv[1]) == SQLITE_NULL) {
		sqlite3_result_null(ctx);
		return;
	}
	h = sqlite3_value_blob(argv[0]);
	hl = sqlite3_value_bytes(argv[0]);
	n = sqlite3_value_blob(argv[1]);
	nl = sqlite3_value_bytes(argv[1]);
	sqlite3_result_int(ctx, nl == 0 || (h && n && memmem(h, hl, n, nl)));
}

/* What each connection has besides SQLite's own: contains(). */
static void lite_functions(sqlite3 *db)
{
	sqlite3_create_function_v2(db, "contains", 2,
				   SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
				   contains_fn, NULL, NULL, NULL);
}

static lite *lite_new(const char *path)
{
	lite *l = g_new0(lite, 1);

	l->path = g_strdup(path);
	l->stmts = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
					 finalize_stmt);
	return l;
}

/* A read-only connection: in WAL mode it reads while the writer writes. */
static sqlstore *lite_reader(sqlstore *s, GError **err)
{
	lite *l = lite_new(conn_of(s)->path);
	sqlstore *r = sqlstore_new(s->drv, l, s->describe, s->origin);
	int rc = sqlite3_open_v2(l->path, &l->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
				 NULL);

	if (rc != SQLITE_OK) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_IO, "store %s: reader: %s", l->path,
			    l->db ? sqlite3_errmsg(l->db) : sqlite3_errstr(rc));
		sqlstore_free(r);
		return NULL;
	}
	sqlite3_busy_timeout(l->db, BUSY_TIMEOUT_MS);
	sqlite3_extended_result_codes(l->db, 1);
	lite_functions(l->db);
	return r;
}

static const sql_driver driver = {
	.postgresql = FALSE,
	.row_locks = FALSE,
	/* a read is no round trip, but a listing's rows are gone by the
	 * time a cold cat of the organisation opens the files */
	.item_near = 64,
	.begin = "BEGIN IMMEDIATE",	/* one writer at a time, waiting BUSY_TIMEOUT_MS */
	.lock_changes = NULL,
	.run = lite_run,
	.script = lite_script,
	.col_i64 = lite_i64,
	.col_text = lite_text,
	.col_bytes = lite_bytes,
	.col_null = lite_null,
	.setup = lite_setup,
	.schema_version = lite_schema_version,
	.lock_wait = lite_lock_wait,
	.unchanged = lite_unchanged,
	.reader = lite_reader,
	.close = lite_close,
};

/* SQLite counts the memory it takes under one global mutex, which the
 * connections of fix's workers then wait for; calfs never asks for the
 * count.  Set once, before SQLite initialises (it refuses afterwards,
 * harmlessly). */
static void lite_init_once(void)
{
	static gsize done;

	if (g_once_init_enter(&done)) {
		sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
		sqlite3_initialize();
		g_once_init_leave(&done, 1);
	}
}

store *litestore_open(const char *path, const char *origin, store_open_mode mode,
		      GError **err)
{
	lite *l;
	char *describe;
	sqlstore *s;
	int rc;

	lite_init_once();
	l = lite_new(path);
	describe = g_strdup_printf("sqlite %s", path);
	s = sqlstore_new(&driver, l, describe, origin);
	g_free(describe);
	if (mode != STORE_CREATE && !g_file_test(path, G_FILE_TEST_EXISTS)) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_NOTFOUND,
			    "store %s: no such file (calfs init or calfs import makes it)",
			    path);
		goto fail;
	}
	rc = sqlite3_open_v2(path, &l->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
			     (mode == STORE_CREATE ? SQLITE_OPEN_CREATE : 0), NULL);
	if (rc != SQLITE_OK) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_IO, "store %s: %s",
			    path, l->db ? sqlite3_errmsg(l->db) : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_busy_timeout(l->db, BUSY_TIMEOUT_MS);
	sqlite3_extended_result_codes(l->db, 1);
	lite_functions(l->db);
	if (!lite_script(s, "PRAGMA journal_mode=WAL", err) ||
	    !lite_script(s, "PRAGMA synchronous=NORMAL", err) ||
	    /* every operation of a batch is a savepoint, which copies each
	     * page it changes first to a statement journal: in a file that
	     * was 150 MB of writes for an import of 12,525 items */
	    !lite_script(s, "PRAGMA temp_store=MEMORY", err) ||
	    !lite_script(s, "PRAGMA foreign_keys=ON", err) ||
	    !sqlstore_setup(s, mode, err))
		goto fail;
	return &s->base;
fail:
	sqlstore_free(s);
	return NULL;
}
