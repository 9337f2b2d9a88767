#include "store_sqlite.h"
#include "store_sqlite_impl.h"
#include "error.h"
#include "item.h"

#include <sqlite3.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SCHEMA_VERSION 3
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
	" new_version INTEGER);"
	"CREATE INDEX IF NOT EXISTS journal_by_run ON journal(run_id);"
	/* covers the counts of calfs journal and of each .calfs/log */
	"CREATE INDEX IF NOT EXISTS journal_by_run_op ON journal(run_id, op);"
	"CREATE INDEX IF NOT EXISTS journal_by_calendar ON journal(calendar_id);"
	"CREATE INDEX IF NOT EXISTS journal_by_old_calendar ON journal(old_calendar_id);"
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

gint64 sqlstore_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (gint64)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

sqlstore *sqlstore_of(store *s)
{
	return (sqlstore *)s;
}

/* Turn the connection's last error into a CALFS_ERROR. */
void sqlstore_error(sqlstore *s, GError **err, const char *what)
{
	int rc = sqlite3_extended_errcode(s->db);
	int code = CALFS_ERROR_IO;

	if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
		code = CALFS_ERROR_BUSY;
	else if (rc == SQLITE_CONSTRAINT_UNIQUE)
		code = CALFS_ERROR_EXISTS;
	g_set_error(err, CALFS_ERROR, code, "store %s: %s: %s", s->path, what,
		    sqlite3_errmsg(s->db));
}

/* A prepared statement for sql, cached; reset and unbound. */
sqlite3_stmt *sqlstore_stmt(sqlstore *s, const char *sql, GError **err)
{
	sqlite3_stmt *st = g_hash_table_lookup(s->stmts, sql);

	if (st) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		return st;
	}
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st,
			       NULL) != SQLITE_OK) {
		sqlstore_error(s, err, "prepare");
		return NULL;
	}
	g_hash_table_insert(s->stmts, (gpointer)sql, st);
	return st;
}

static gboolean exec(sqlstore *s, const char *sql, GError **err)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		sqlstore_error(s, err, sql);
		return FALSE;
	}
	return TRUE;
}

/* An operation's transaction; inside a batch, a savepoint of the batch's
 * transaction, so that each operation still succeeds or fails alone. */
static gboolean begin(sqlstore *s, GError **err)
{
	return exec(s, s->batch ? "SAVEPOINT op" : "BEGIN IMMEDIATE", err);
}

static gboolean commit(sqlstore *s, GError **err)
{
	if (exec(s, s->batch ? "RELEASE op" : "COMMIT", err))
		return TRUE;
	sqlite3_exec(s->db, s->batch ? "ROLLBACK TO op; RELEASE op" : "ROLLBACK",
		     NULL, NULL, NULL);
	return FALSE;
}

static void rollback(sqlstore *s)
{
	if (s->batch)
		sqlite3_exec(s->db, "ROLLBACK TO op; RELEASE op", NULL, NULL, NULL);
	else if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

static gboolean sq_batch_begin(store *base, GError **err)
{
	sqlstore *s = sqlstore_of(base);
	gboolean ok = TRUE;

	g_mutex_lock(&s->lock);
	if (s->batch == 0)
		ok = exec(s, "BEGIN IMMEDIATE", err);
	if (ok)
		s->batch++;
	g_mutex_unlock(&s->lock);
	return ok;
}

static gboolean sq_batch_end(store *base, GError **err)
{
	sqlstore *s = sqlstore_of(base);
	gboolean ok = TRUE;

	g_mutex_lock(&s->lock);
	if (s->batch > 0 && --s->batch == 0) {
		ok = exec(s, "COMMIT", err);
		if (!ok)
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	}
	g_mutex_unlock(&s->lock);
	return ok;
}

void sqlstore_bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

char *sqlstore_col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? g_strdup((const char *)t) : NULL;
}

/* Step a statement that returns no rows. */
gboolean sqlstore_step_done(sqlstore *s, sqlite3_stmt *st, GError **err,
			  const char *what)
{
	int rc = sqlite3_step(st);

	if (rc != SQLITE_DONE) {
		sqlstore_error(s, err, what);
		sqlite3_reset(st);
		return FALSE;
	}
	sqlite3_reset(st);
	return TRUE;
}

static gboolean log_change(sqlstore *s, store_change_kind kind, gint64 mailbox,
			   gint64 calendar, gint64 item, const char *name,
			   gint64 old_calendar, const char *old_name, GError **err)
{
	sqlite3_stmt *st = sqlstore_stmt(s,
		"INSERT INTO changes(time_ns, kind, mailbox_id, calendar_id,"
		" item_id, name, old_calendar_id, old_name, origin)"
		" VALUES(?,?,?,?,?,?,?,?,?)", err);

	if (!st)
		return FALSE;
	sqlite3_bind_int64(st, 1, sqlstore_now_ns());
	sqlite3_bind_int(st, 2, kind);
	sqlite3_bind_int64(st, 3, mailbox);
	sqlite3_bind_int64(st, 4, calendar);
	sqlite3_bind_int64(st, 5, item);
	sqlstore_bind_text(st, 6, name);
	sqlite3_bind_int64(st, 7, old_calendar);
	sqlstore_bind_text(st, 8, old_name);
	sqlstore_bind_text(st, 9, s->origin);
	return sqlstore_step_done(s, st, err, "log change");
}

/* The current run, started on first use inside a write transaction. */
static gint64 current_run(sqlstore *s, GError **err)
{
	sqlite3_stmt *st;

	if (s->run_id)
		return s->run_id;
	st = sqlstore_stmt(s, "INSERT INTO runs(started_ns, command, origin) VALUES(?,?,?)",
		  err);
	if (!st)
		return 0;
	sqlite3_bind_int64(st, 1, sqlstore_now_ns());
	sqlstore_bind_text(st, 2, s->run_command ? s->run_command : "calfs");
	sqlstore_bind_text(st, 3, s->origin);
	if (!sqlstore_step_done(s, st, err, "start journal run"))
		return 0;
	s->run_id = sqlite3_last_insert_rowid(s->db);
	return s->run_id;
}

typedef struct {
	const char *op;
	gint64 item_id, calendar_id;
	const char *name, *uid;
	gint64 old_calendar_id;
	const char *old_name;
	const void *old_data;
	gsize old_len;
	gint64 old_version, new_version;
} journal_entry;

static gboolean journal(sqlstore *s, const journal_entry *j, GError **err)
{
	gint64 run = current_run(s, err);
	sqlite3_stmt *st;

	if (!run)
		return FALSE;
	st = sqlstore_stmt(s,
		"INSERT INTO journal(run_id, time_ns, op, item_id, calendar_id,"
		" name, uid, old_calendar_id, old_name, old_data, old_version,"
		" new_version) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)", err);
	if (!st)
		return FALSE;
	sqlite3_bind_int64(st, 1, run);
	sqlite3_bind_int64(st, 2, sqlstore_now_ns());
	sqlstore_bind_text(st, 3, j->op);
	sqlite3_bind_int64(st, 4, j->item_id);
	sqlite3_bind_int64(st, 5, j->calendar_id);
	sqlstore_bind_text(st, 6, j->name);
	sqlstore_bind_text(st, 7, j->uid);
	sqlite3_bind_int64(st, 8, j->old_calendar_id);
	sqlstore_bind_text(st, 9, j->old_name);
	if (j->old_data)
		sqlite3_bind_blob64(st, 10, j->old_data, j->old_len,
				    SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, 10);
	sqlite3_bind_int64(st, 11, j->old_version);
	sqlite3_bind_int64(st, 12, j->new_version);
	return sqlstore_step_done(s, st, err, "journal");
}

/* Bump an mtime column so that it is now, and always later than before. */
static gboolean touch(sqlstore *s, const char *table_sql, gint64 id, GError **err)
{
	sqlite3_stmt *st = sqlstore_stmt(s, table_sql, err);

	if (!st)
		return FALSE;
	sqlite3_bind_int64(st, 1, sqlstore_now_ns());
	sqlite3_bind_int64(st, 2, id);
	return sqlstore_step_done(s, st, err, "touch");
}

#define TOUCH_CALENDAR "UPDATE calendars SET mtime_ns = max(?1, mtime_ns + 1) WHERE id = ?2"
#define TOUCH_MAILBOX "UPDATE mailboxes SET mtime_ns = max(?1, mtime_ns + 1) WHERE id = ?2"

static gboolean touch_root(sqlstore *s, GError **err)
{
	sqlite3_stmt *st = sqlstore_stmt(s,
		"INSERT INTO meta(key, value) VALUES('root_mtime_ns', ?1)"
		" ON CONFLICT(key) DO UPDATE SET value = max(?1, value + 1)", err);

	if (!st)
		return FALSE;
	sqlite3_bind_int64(st, 1, sqlstore_now_ns());
	return sqlstore_step_done(s, st, err, "touch root");
}

/* ---- mailboxes ---- */

#define MAILBOX_COLS "id, name, mtime_ns, owner_uid, owner_gid, mode, timezone"

static store_mailbox *row_mailbox(sqlite3_stmt *st)
{
	store_mailbox *m = g_new0(store_mailbox, 1);

	m->id = sqlite3_column_int64(st, 0);
	m->name = sqlstore_col_text(st, 1);
	m->mtime_ns = sqlite3_column_int64(st, 2);
	m->has_owner = sqlite3_column_type(st, 3) != SQLITE_NULL;
	m->uid = sqlite3_column_int64(st, 3);
	m->gid = sqlite3_column_int64(st, 4);
	m->mode = sqlite3_column_int64(st, 5);
	m->timezone = sqlstore_col_text(st, 6);
	return m;
}


/* Run st (bound) and collect every row with fn. */
GPtrArray *sqlstore_collect(sqlstore *s, sqlite3_stmt *st, row_fn fn,
			  GDestroyNotify free_fn, GError **err)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(free_fn);
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		g_ptr_array_add(out, fn(st));
	if (rc != SQLITE_DONE) {
		sqlstore_error(s, err, "list");
		g_ptr_array_unref(out);
		out = NULL;
	}
	sqlite3_reset(st);
	return out;
}

/* Run st (bound) and return its one row through fn, or NOTFOUND. */
gpointer sqlstore_one(sqlstore *s, sqlite3_stmt *st, row_fn fn, const char *what,
		    GError **err)
{
	gpointer r = NULL;
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		r = fn(st);
	else if (rc == SQLITE_DONE)
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_NOTFOUND,
			    "%s: not found", what);
	else
		sqlstore_error(s, err, what);
	sqlite3_reset(st);
	return r;
}

static GPtrArray *sq_mailbox_list(store *base, GError **err)
{
	sqlstore *s = sqlstore_of(base);
	sqlite3_stmt *st;
	GPtrArray *r = NULL;

	g_mutex_lock(&s->lock);
	st = sqlstore_stmt(s, "SELECT " MAILBOX_COLS " FROM mailboxes ORDER BY name", err);
	if (st)
		r = sqlstore_collect(s, st, (row_fn)row_mailbox,
			    (GDestroyNotify)store_mailbox_free, err);
	g_mutex_unlock(&s->lock);
	return r;
}

static store_mailbox *mailbox_get_locked(sqlstore *s, gint64 id, GError **err)
{
	sqlite3_stmt *st = sqlstore_stmt(s, "SELECT " MAILBOX_COLS
				" FROM mailboxes WHERE id = ?", err);

	if (!st)
		return NULL;
	sqlite3_bind_int64(st, 1, id);
	return sqlstore_one(s, st, (row_fn)row_mailbox, "mailbox", err);
}

static store_mailbox *sq_mailbox_get(store *base, gint64 id, GError **err)
{
	sqlstore *s = sqlstore_of(base);
	store_mailbox *m;

	g_mutex_lock(&s->lock);
	m = mailbox_get_locked(s, id, err);
	g_mutex_unlock(&s->lock);
	return m;
}

static store_mailbox *mailbox_find_locked(sqlstore *s, const char *name,
					  GError **err)
{
	sqlite3_stmt *st = sqlstore_stmt(s, "SELECT " MAILBOX_COLS
				" FROM mailboxes WHERE name = ?", err);
	store_mailbox *m;
	GError *e = NULL;

	if (!st)
		return NULL;
	sqlstore_bind_text(st, 1, name);
	m = sqlstore_one(s, st, (row_fn)row_mailbox, name, &e);
	if (e) {
		if (g_error_matches(e, CALFS_ERROR, CALFS_ERROR_NOTFOUND))
			g_set_error(err, CALFS_ERROR, CALFS_ERROR_NOTFOUND,
				    "%s: no such mailbox", name);
		else
			g_propagate_error(err, g_steal_pointer(&e));
		g_clear_error(&e);
	}
	return m;
}

static store_mailbox *sq_mailbox_find(store *base, const char *name, GError **err)
{
	sqlstore *s = sqlstore_of(base);
	store_mailbox *m;

	g_mutex_lock(&s->lock);
	m = mailbox_find_locked(s, name, err);
	g_mutex_unlock(&s->lock);
	return m;
}

static store_mailbox *sq_mailbox_create(store *base, const char *name,
					GError **err)
{
	sqlstore *s = sqlstore_of(base);
	sqlite3_stmt *st;
	store_mailbox *m = NULL;
	gint64 id = 0;

	if (!item_name_is_valid(name)) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_NAME,
			    "'%s': not a mailbox name", name);
		return NULL;
	}
	g_mutex_lock(&s->lock);
	if (!begin(s, err))
		goto out;
	st = sqlstore_stmt(s, "INSERT INTO mailboxes(name, mtime_ns) VALUES(?, ?)", err);
	if (!st)
		goto fail;
	sqlstore_bind_text(st, 1, name);
	sqlite3_bind_int64(st, 2, sqlstore_now_ns());
	if (sqlite3_step(st) != SQLITE_DONE) {
		if (sqlite3_extended_errcode(s->db) == SQLITE_CONSTRAINT_UNIQUE)
			g_set_error(err, CALFS_ERROR, CALFS_ERROR_EXISTS,
				    "%s: mailbox exists", name);
		else
			sqlstore_error(s, err, "create mailbox");
		sqlite3_reset(st);
		goto fail;
	}
	sqlite3_reset(st);
	id = sqlite3_last_insert_rowid(s->db);
	if (!touch_root(s, err) ||
	    !log_change(s, STORE_CHANGE_MAILBOX, id, 0, 0, name, 0, NULL, err) ||
	    !(m = mailbox_get_locked(s, id, err)) || !commit(s, err))
		goto fail;
	goto out;
fail:
	store_mailbox_free(m);
	m = NULL;
	rollback(s);
out:
	g_mutex_unlock(&s->lock);
	return m;
}

/* Count rows of a "SELECT count(*) ... WHERE x = ?" statement. */
static gint64 count(sqlstore *s, const char *sql, gint64 id, GError **err)
{
	sqlite3_stmt *st = sqlstore_stmt(s, sql, err);
	gint64 n = -1;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	else
		sqlstore_error(s, err, "count");
	sqlite3_reset(st);
	return n;
}

static gboolean sq_mailbox_delete(store *base, gint64 id, GError **err)
{
	sqlstore *s = sqlstore_of(base);
	store_mailbox *m = NULL;
	sqlite3_stmt *st;
	gint64 n;
	gboolean ok = FALSE;

	g_mutex_lock(&s->lock);
	if (!begin(s, err))
		goto out;
	if (!(m = mailbox_get_locked(s, id, err)))
		goto fail;
	n = count(s, "SELECT count(*) FROM calendars WHERE mailbox_id = ?", id, err);
	if (n < 0)
		goto fail;
	if (n > 0) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_NOTEMPTY,
			    "%s: mailbox holds %" G_GINT64_FORMAT " calendars",
			    m->name, n);
		goto fail;
	}
	st = sqlstore_stmt(s, "DELETE FROM mailboxes WHERE id = ?", err);
	if (!st)
		goto fail;
	sqlite3_bind_int64(st, 1, id);
	if (!sqlstore_step_done(s, st, err, "delete mailbox") || !touch_root(s, err) ||
	    !log_change(s, STORE_CHANGE_MAILBOX, id, 0, 0, NULL, 0, m->name, err) ||
	    !commit(s, err))
		goto fail;
	ok = TRUE;
	goto out;
fail:
	rollback(s);
out:
	g_mutex_unlock(&s->lock);
	store_mailbox_free(m);
	return ok;
}

static gboolean sq_mailbox_set_owner(store *base, gint64 id, gboolean has_owner,
				     guint32 uid, guint32 gid, guint32 mode,
				     GError **err)
{
	sqlstore *s = sqlstore_of(base);
	sqlite3_stmt *st;
	gboolean ok = FALSE;

	g_mutex_lock(&s->lock);
	if (!begin(s, err))
		goto out;
	st = sqlstore_stmt(s, "UPDATE mailboxes SET owner_uid = ?, owner_gid = ?, mode = ?"
		  " WHERE id = ?", err);
	if (!st)
		goto fail;
	if (has_owner) {
		sqlite3_bind_int64(st, 1, uid);
		sqlite3_bind_int64(st, 2, gid);
	}
	sqlite3_bind_int64(st, 3, mode);
	sqlite3_bind_int64(st, 4, id);
	if (!sqlstore_step_done(s, st, err, "set owner") ||
	    !log_change(s, STORE_CHANGE_MAILBOX, id, 0, 0, NULL, 0, NULL, err) ||
	    !commit(s, err))
		goto fail;
	ok = TRUE;
	goto out;
fail:
	rollback(s);
out:
	g_mutex_unlock(&s->lock);
	return ok;
}

static gboolean sq_mailbox_set_timezone(store *base, gint64 id, const char *zone,
					GError **err)
{
	sqlstore *s = sqlstore_of(base);
	store_mailbox *m = NULL;
	sqlite3_stmt *st;
	gboolean ok = FALSE;
	journal_entry j = { .op = "timezone", .name = "timezone" };

	g_mutex_lock(&s->lock);
	if (!begin(s, err))
		goto out;
	if (!(m = mailbox_get_locked(s, id, err)))
		goto fail;
	j.old_name = m->name;
	j.old_data = m->timezone;
	j.old_len = m->timezone ? strlen(m->timezone) : 0;
	st = sqlstore_stmt(s, "UPDATE mailboxes SET timezone = ? WHERE id = ?", err);
	if (!st)
		goto fail;
	sqlstore_bind_text(st, 1, zone);
	sqlite3_bind_int64(st, 2, id);
	if (!sqlstore_step_done(s, st, err, "set timezone") || !journal(s, &j, err) ||
	    !log_change(s, STORE_CHANGE_MAILBOX, id, 0, 0, NULL, 0, NULL, err) ||
	    !commit(s, err))
		goto fail;
	ok = TRUE;
	goto out;
fail:
	rollback(s);
out:
	g_mutex_unlock(&s->lock);
	store_mailbox_free(m);
	return ok;
}

/* ---- calendars ---- */

#define CALENDAR_COLS "id, mailbox_id, name, displayname, color, mtime_ns"

static store_calendar *row_calendar(sqlite3_stmt *st)
{
	store_calendar *c = g_new0(store_calendar, 1);

	c->id = sqlite3_column_int64(st, 0);
	c->mailbox_id = sqlite3_column_int64(st, 1);
	c->name = sqlstore_col_text(st, 2);
	c->displayname = sqlstore_col_text(st, 3);
	c->color = sqlstore_col_text(st, 4);
	c->mtime_ns = sqlite3_column_int64(st, 5);
	return c;
}

static GPtrArray *sq_calendar_list(store *base, gint64 mailbox_id, GError **err)
{
	sqlstore *s = sqlstore_of(base);
	sqlite3_stmt *st;
	GPtrArray *r = NULL;

	g_mutex_lock(&s->lock);
	st = sqlstore_stmt(s, "SELECT " CALENDAR_COLS " FROM calendars WHERE mailbox_id = ?"
		  " ORDER BY name", err);
	if (st) {
		sqlite3_bind_int64(st, 1, mailbox_id);
		r = sqlstore_collect(s, st, (row_fn)row_calendar,
			    (GDestroyNotify)store_calendar_free, err);
	}
	g_mutex_unlock(&s->lock);
	return r;
}

static store_calendar *calendar_get_locked(sqlstore *s, gint64 id, GError **err)
{
	sqlite3_stmt *st = sqlstore_stmt(s, "SELECT " CALENDAR_COLS
				" FROM calendars WHERE id = ?", err);

	if (!st)
		return NULL;
	sqlite3_bind_int64(st, 1, id);
	return sqlstore_one(s, st, (row_fn)row_calendar, "calendar", err);
}

static store_calendar *sq_calendar_get(store *base, gint64 id, GError **err)
{
	sqlstore *s = sqlstore_of(base);
	store_calendar *c;

	g_mutex_lock(&s->lock);
	c = calendar_get_locked(s, id, err);
	g_mutex_unlock(&s->lock);
	return c;
}

static store_calendar *sq_calendar_find(store *base, gint64 mailbox_id,
					const char *name, GError **err)
{
	sqlstore *s = sqlstore_of(base);
	sqlite3_stmt *st;
	store_calendar *c = NULL;

	g_mutex_lock(&s->lock);
	st = sqlstore_stmt(s, "SELECT " CALENDAR_COLS " FROM calendars"
		  " WHERE mailbox_id = ? AND name = ?", err);
	if (st) {
		sqlite3_bind_int64(st, 1, mailbox_id);
		sqlstore_bind_text(st, 2, name);
		c = sqlstore_one(s, st, (row_fn)row_calendar, name, err);
	}
	g_mutex_unlock(&s->lock);
	return c;
}

static store_calendar *sq_calendar_create(store *base, gint64 mailbox_id,
					  const char *name, GError **err)
{
	sqlstore *s = sqlstore_of(base);
	sqlite3_stmt *st;
	store_calendar *c = NULL;
	gint64 id = 0;

	if (!item_name_is_valid(name)) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_NAME,
			    "'%s': not a calendar name", name);
		return NULL;
	}
	g_mutex_lock(&s->lock);
	if (!begin(s, err))
		goto out;
	st = sqlstore_stmt(s, "INSERT INTO calendars(mailbox_id, name, mtime_ns)"
		  " VALUES(?, ?, ?)", err);
	if (!st)
		goto fail;
	sqlite3_bind_int64(st, 1, mailbox_id);
	sqlstore_bind_text(st, 2, name);
	sqlite3_bind_int64(st, 3, sqlstore_now_ns());
	if (sqlite3_step(st) != SQLITE_DONE) {
		if (sqlite3_extended_errcode(s->db) == SQLITE_CONSTRAINT_UNIQUE)
			g_set_error(err, CALFS_ERROR, CALFS_ERROR_EXISTS,
				    "%s: calendar exists", name);
		else
			sqlstore_error(s, err, "create calendar");
		sqlite3_reset(st);
		goto fail;
	}
	sqlite3_reset(st);
	id = sqlite3_last_insert_rowid(s->db);
	if (!touch(s, TOUCH_MAILBOX, mailbox_id, err) ||
	    !log_change(s, STORE_CHANGE_CALENDAR, mailbox_id, id, 0, name, 0,
			NULL, err) ||
	    !(c = calendar_get_locked(s, id, err)) || !commit(s, err))
		goto fail;
	goto out;
fail:
	store_calendar_free(c);
	c = NULL;
	rollback(s);
out:
	g_mutex_unlock(&s->lock);
	return c;
}

static gboolean sq_calendar_delete(store *base, gint64 id, GError **err)
{
	sqlstore *s = sqlstore_of(base);
	store_calendar *c = NULL;
	sqlite3_stmt *st;
	gboolean ok = FALSE;
	gint64 n;

	g_mutex_lock(&s->lock);
	if (!begin(s, err))
		goto out;
	if (!(c = calendar_get_locked(s, id, err)))
		goto fail;
	n = count(s, "SELECT count(*) FROM items WHERE calendar_id = ?", id, err);
	if (n < 0)
		goto fail;
	if (n > 0) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_NOTEMPTY,
			    "%s: calendar holds %" G_GINT64_FORMAT " items",
			    c->name, n);
		goto fail;
	}
	st = sqlstore_stmt(s, "DELETE FROM calendars WHERE id = ?", err);
	if (!st)
		goto fail;
	sqlite3_bind_int64(st, 1, id);
	if (!sqlstore_step_done(s, st, err, "delete calendar") ||
	    !touch(s, TOUCH_MAILBOX, c->mailbox_id, err) ||
	    !log_change(s, STORE_CHANGE_CALENDAR, c->mailbox_id, id, 0, NULL, 0,
			c->name, err) ||
	    !commit(s, err))
		goto fail;
	ok = TRUE;
	goto out;
fail:
	rollback(s);
out:
	g_mutex_unlock(&s->lock);
	store_calendar_free(c);
	return ok;
}

static gboolean sq_calendar_set_meta(store *base, gint64 id, const char *key,
				     const char *value, GError **err)
{
	sqlstore *s = sqlstore_of(base);
	store_calendar *c = NULL;
	sqlite3_stmt *st;
	gboolean ok = FALSE;
	const char *old;
	journal_entry j = { .op = "meta", .calendar_id = id, .name = key };

	if (strcmp(key, "displayname") && strcmp(key, "color")) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_NAME,
			    "%s: not a calendar property", key);
		return FALSE;
	}
	g_mutex_lock(&s->lock);
	if (!begin(s, err))
		goto out;
	if (!(c = calendar_get_locked(s, id, err)))
		goto fail;
	old = strcmp(key, "color") ? c->displayname : c->color;
	j.old_data = old;
	j.old_len = old ? strlen(old) : 0;
	st = sqlstore_stmt(s, strcmp(key, "color")
		  ? "UPDATE calendars SET displayname = ? WHERE id = ?"
		  : "UPDATE calendars SET color = ? WHERE id = ?", err);
	if (!st)
		goto fail;
	sqlstore_bind_text(st, 1, value);
	sqlite3_bind_int64(st, 2, id);
	if (!sqlstore_step_done(s, st, err, "set calendar property") ||
	    !journal(s, &j, err) || !touch(s, TOUCH_CALENDAR, id, err) ||
	    !log_change(s, STORE_CHANGE_CALENDAR, c->mailbox_id, id, 0, c->name,
			0, NULL, err) ||
	    !commit(s, err))
		goto fail;
	ok = TRUE;
	goto out;
fail:
	rollback(s);
out:
	g_mutex_unlock(&s->lock);
	store_calendar_free(c);
	return ok;
}

/* ---- items ---- */

#define ITEM_COLS "id, calendar_id, name, uid, length(data), version, mtime_ns, checked"
#define ITEM_COLS_DATA ITEM_COLS ", data"

static store_item *row_item(sqlite3_stmt *st)
{
	store_item *i = g_new0(store_item, 1);

	i->id = sqlite3_column_int64(st, 0);
	i->calendar_id = sqlite3_column_int64(st, 1);
	i->name = sqlstore_col_text(st, 2);
	i->uid = sqlstore_col_text(st, 3);
	i->size = sqlite3_column_int64(st, 4);
	i->version = sqlite3_column_int64(st, 5);
	i->mtime_ns = sqlite3_column_int64(st, 6);
	i->checked = sqlstore_col_text(st, 7);
	return i;
}

static store_item *row_item_data(sqlite3_stmt *st)
{
	store_item *i = row_item(st);

	i->data = g_bytes_new(sqlite3_column_blob(st, 8),
			      sqlite3_column_bytes(st, 8));
	return i;
}

static GPtrArray *sq_item_list(store *base, gint64 calendar_id, GError **err)
{
	sqlstore *s = sqlstore_of(base);
	sqlite3_stmt *st;
	GPtrArray *r = NULL;

	g_mutex_lock(&s->lock);
	st = sqlstore_stmt(s, "SELECT " ITEM_COLS " FROM items WHERE calendar_id = ?"
		  " ORDER BY id", err);
	if (st) {
		sqlite3_bind_int64(st, 1, calendar_id);
		r = sqlstore_collect(s, st, (row_fn)row_item,
			    (GDestroyNotify)store_item_free, err);
	}
	g_mutex_unlock(&s->lock);
	return r;
}

static store_item *item_get_locked(sqlstore *s, gint64 id, gboolean with_data,
				   GError **err)
{
	sqlite3_stmt *st = sqlstore_stmt(s, with_data
		? "SELECT " ITEM_COLS_DATA " FROM items WHERE id = ?"
		: "SELECT " ITEM_COLS " FROM items WHERE id = ?", err);

	if (!st)
		return NULL;
	sqlite3_bind_int64(st, 1, id);
	return sqlstore_one(s, st, with_data ? (row_fn)row_item_data : (row_fn)row_item,
		   "item", err);
}

static store_item *sq_item_get(store *base, gint64 id, gboolean with_data,
			       GError **err)
{
	sqlstore *s = sqlstore_of(base);
	store_item *i;

	g_mutex_lock(&s->lock);
	i = item_get_locked(s, id, with_data, err);
	g_mutex_unlock(&s->lock);
	return i;
}

static store_item *item_find_locked(sqlstore *s, gint64 calendar_id,
				    const char *name, gboolean with_data,
				    GError **err)
{
	sqlite3_stmt *st = sqlstore_stmt(s, with_data
		? "SELECT " ITEM_COLS_DATA " FROM items WHERE calendar_id = ? AND name = ?"
		: "SELECT " ITEM_COLS " FROM items WHERE calendar_id = ? AND name = ?",
		err);

	if (!st)
		return NULL;
	sqlite3_bind_int64(st, 1, calendar_id);
	sqlstore_bind_text(st, 2, name);
	return sqlstore_one(s, st, with_data ? (row_fn)row_item_data : (row_fn)row_item,
		   name, err);
}

static store_item *sq_item_find(store *base, gint64 calendar_id,
				const char *name, gboolean with_data, GError **err)
{
	sqlstore *s = sqlstore_of(base);
	store_item *i;

	g_mutex_lock(&s->lock);
	i = item_find_locked(s, calendar_id, name, with_data, err);
	g_mutex_unlock(&s->lock);
	return i;
}

/* The item other than except_a and except_b with that UID, or NULL. */
static store_item *uid_taken(sqlstore *s, gint64 calendar_id, const char *uid,
			     gint64 except_a, gint64 except_b, GError **err)
{
	sqlite3_stmt *st = sqlstore_stmt(s, "SELECT " ITEM_COLS " FROM items"
				" WHERE calendar_id = ? AND uid = ? AND id != ? AND id != ?"
				" LIMIT 1", err);
	store_item *i = NULL;
	int rc;

	if (!st)
		return NULL;
	sqlite3_bind_int64(st, 1, calendar_id);
	sqlstore_bind_text(st, 2, uid);
	sqlite3_bind_int64(st, 3, except_a);
	sqlite3_bind_int64(st, 4, except_b);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		i = row_item(st);
	else if (rc != SQLITE_DONE)
		sqlstore_error(s, err, "find UID");
	sqlite3_reset(st);
	return i;
}

static store_item *sq_item_find_uid(store *base, gint64 calendar_id,
				    const char *uid, GError **err)
{
	sqlstore *s = sqlstore_of(base);
	store_item *i;
	GError *e = NULL;

	g_mutex_lock(&s->lock);
	i = uid_taken(s, calendar_id, uid, 0, 0, &e);
	g_mutex_unlock(&s->lock);
	if (e)
		g_propagate_error(err, e);
	else if (!i)
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_NOTFOUND,
			    "UID %s: not found", uid);
	return i;
}

static gint64 sq_item_reserve_id(store *base, gint64 calendar_id, GError **err)
{
	sqlstore *s = sqlstore_of(base);
	sqlite3_stmt *st;
	gint64 id = 0;

	(void)calendar_id;	/* one id space for every calendar */
	g_mutex_lock(&s->lock);
	st = sqlstore_stmt(s, "INSERT INTO item_ids DEFAULT VALUES", err);
	if (st && sqlstore_step_done(s, st, err, "reserve item id"))
		id = sqlite3_last_insert_rowid(s->db);
	g_mutex_unlock(&s->lock);
	return id;
}

static gboolean refuse_uid(sqlstore *s, const store_put *req, gint64 except,
			   GError **err)
{
	GError *e = NULL;
	store_item *other = uid_taken(s, req->calendar_id, req->uid, except, 0, &e);

	if (e) {
		g_propagate_error(err, e);
		return FALSE;
	}
	if (other) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_EXISTS,
			    "UID %s is already used by %s", req->uid, other->name);
		store_item_free(other);
		return FALSE;
	}
	return TRUE;
}

static store_item *sq_item_put(store *base, const store_put *req,
			       store_put_result *result, GError **err)
{
	sqlstore *s = sqlstore_of(base);
	store_item *old = NULL, *item = NULL;
	store_calendar *cal = NULL;
	sqlite3_stmt *st;
	GError *e = NULL;
	gsize len;
	const void *bytes = g_bytes_get_data(req->data, &len);
	journal_entry j = { .calendar_id = req->calendar_id, .name = req->name,
			    .uid = req->uid };
	gint64 id = 0;

	if (!item_name_is_valid(req->name)) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_NAME,
			    "'%s': not an item name", req->name);
		return NULL;
	}
	g_mutex_lock(&s->lock);
	if (!begin(s, err))
		goto out;
	if (!(cal = calendar_get_locked(s, req->calendar_id, err)))
		goto fail;
	old = item_find_locked(s, req->calendar_id, req->name, TRUE, &e);
	if (e && !g_error_matches(e, CALFS_ERROR, CALFS_ERROR_NOTFOUND)) {
		g_propagate_error(err, g_steal_pointer(&e));
		goto fail;
	}
	g_clear_error(&e);
	if (!refuse_uid(s, req, old ? old->id : 0, err))
		goto fail;
	if (old && g_bytes_equal(old->data, req->data) && !strcmp(old->uid, req->uid)) {
		if (result)
			*result = STORE_PUT_UNCHANGED;
		rollback(s);
		item = g_steal_pointer(&old);
		g_clear_pointer(&item->data, g_bytes_unref);
		goto out;
	}
	if (old) {
		id = old->id;
		st = sqlstore_stmt(s, "UPDATE items SET uid = ?, data = ?, version = version + 1,"
			  " mtime_ns = max(?, mtime_ns + 1), checked = NULL WHERE id = ?", err);
		if (!st)
			goto fail;
		sqlstore_bind_text(st, 1, req->uid);
		sqlite3_bind_blob64(st, 2, bytes, len, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, sqlstore_now_ns());
		sqlite3_bind_int64(st, 4, id);
		j.op = "update";
		j.uid = old->uid;	/* undo puts the old bytes back with it */
		j.old_data = g_bytes_get_data(old->data, &j.old_len);
		j.old_version = old->version;
		j.new_version = old->version + 1;
	} else {
		/* every item id comes from item_ids, the reserved ones of a
		 * mount's new files included: items' own sequence would hand
		 * another process an id a mount holds reserved */
		id = req->reserved_id;
		if (!id) {
			st = sqlstore_stmt(s, "INSERT INTO item_ids DEFAULT VALUES", err);
			if (!st || !sqlstore_step_done(s, st, err, "reserve item id"))
				goto fail;
			id = sqlite3_last_insert_rowid(s->db);
		}
		st = sqlstore_stmt(s, "INSERT INTO items(id, calendar_id, name, uid, data,"
			  " version, mtime_ns) VALUES(?, ?, ?, ?, ?, 1, ?)", err);
		if (!st)
			goto fail;
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, req->calendar_id);
		sqlstore_bind_text(st, 3, req->name);
		sqlstore_bind_text(st, 4, req->uid);
		sqlite3_bind_blob64(st, 5, bytes, len, SQLITE_STATIC);
		sqlite3_bind_int64(st, 6, sqlstore_now_ns());
		j.op = "create";
		j.new_version = 1;
	}
	if (!sqlstore_step_done(s, st, err, "write item"))
		goto fail;
	j.item_id = id;
	if (!journal(s, &j, err) || !touch(s, TOUCH_CALENDAR, req->calendar_id, err) ||
	    !log_change(s, old ? STORE_CHANGE_ITEM_UPDATE : STORE_CHANGE_ITEM_CREATE,
			cal->mailbox_id, req->calendar_id, id, req->name, 0, NULL, err) ||
	    !(item = item_get_locked(s, id, FALSE, err)) || !commit(s, err))
		goto fail;
	if (result)
		*result = old ? STORE_PUT_UPDATED : STORE_PUT_CREATED;
	goto out;
fail:
	store_item_free(item);
	item = NULL;
	rollback(s);
out:
	g_mutex_unlock(&s->lock);
	store_item_free(old);
	store_calendar_free(cal);
	return item;
}

/* Delete item i (with its data) inside a transaction, journaled. */
static gboolean delete_locked(sqlstore *s, store_item *i, gint64 mailbox_id,
			      GError **err)
{
	sqlite3_stmt *st = sqlstore_stmt(s, "DELETE FROM items WHERE id = ?", err);
	journal_entry j = { .op = "delete", .item_id = i->id,
			    .calendar_id = i->calendar_id, .name = i->name,
			    .uid = i->uid, .old_version = i->version };

	if (!st)
		return FALSE;
	j.old_data = g_bytes_get_data(i->data, &j.old_len);
	sqlite3_bind_int64(st, 1, i->id);
	return sqlstore_step_done(s, st, err, "delete item") && journal(s, &j, err) &&
	       touch(s, TOUCH_CALENDAR, i->calendar_id, err) &&
	       log_change(s, STORE_CHANGE_ITEM_DELETE, mailbox_id, i->calendar_id,
			  i->id, i->name, 0, NULL, err);
}

static gboolean sq_item_delete(store *base, gint64 id, GError **err)
{
	sqlstore *s = sqlstore_of(base);
	store_item *i = NULL;
	store_calendar *cal = NULL;
	gboolean ok = FALSE;

	g_mutex_lock(&s->lock);
	if (!begin(s, err))
		goto out;
	if (!(i = item_get_locked(s, id, TRUE, err)) ||
	    !(cal = calendar_get_locked(s, i->calendar_id, err)) ||
	    !delete_locked(s, i, cal->mailbox_id, err) || !commit(s, err))
		goto fail;
	ok = TRUE;
	goto out;
fail:
	rollback(s);
out:
	g_mutex_unlock(&s->lock);
	store_item_free(i);
	store_calendar_free(cal);
	return ok;
}

static gboolean sq_item_rename(store *base, gint64 id, gint64 calendar_id,
			       const char *name, GError **err)
{
	sqlstore *s = sqlstore_of(base);
	store_item *i = NULL, *target = NULL, *other = NULL;
	store_calendar *cal = NULL;
	sqlite3_stmt *st;
	GError *e = NULL;
	gboolean ok = FALSE;
	journal_entry j = { .op = "rename", .item_id = id,
			    .calendar_id = calendar_id, .name = name };

	if (!item_name_is_valid(name)) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_NAME,
			    "'%s': not an item name", name);
		return FALSE;
	}
	g_mutex_lock(&s->lock);
	if (!begin(s, err))
		goto out;
	if (!(i = item_get_locked(s, id, FALSE, err)) ||
	    !(cal = calendar_get_locked(s, calendar_id, err)))
		goto fail;
	if (i->calendar_id == calendar_id && !strcmp(i->name, name)) {
		rollback(s);
		ok = TRUE;
		goto out;
	}
	target = item_find_locked(s, calendar_id, name, TRUE, &e);
	if (e && !g_error_matches(e, CALFS_ERROR, CALFS_ERROR_NOTFOUND)) {
		g_propagate_error(err, g_steal_pointer(&e));
		goto fail;
	}
	g_clear_error(&e);
	other = uid_taken(s, calendar_id, i->uid, id, target ? target->id : 0, &e);
	if (e) {
		g_propagate_error(err, g_steal_pointer(&e));
		goto fail;
	}
	if (other) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_EXISTS,
			    "UID %s is already used by %s", i->uid, other->name);
		goto fail;
	}
	if (target && !delete_locked(s, target, cal->mailbox_id, err))
		goto fail;
	st = sqlstore_stmt(s, "UPDATE items SET calendar_id = ?, name = ?,"
		  " mtime_ns = max(?, mtime_ns + 1) WHERE id = ?", err);
	if (!st)
		goto fail;
	sqlite3_bind_int64(st, 1, calendar_id);
	sqlstore_bind_text(st, 2, name);
	sqlite3_bind_int64(st, 3, sqlstore_now_ns());
	sqlite3_bind_int64(st, 4, id);
	j.uid = i->uid;
	j.old_calendar_id = i->calendar_id;
	j.old_name = i->name;
	j.old_version = j.new_version = i->version;
	if (!sqlstore_step_done(s, st, err, "rename item") || !journal(s, &j, err) ||
	    !touch(s, TOUCH_CALENDAR, calendar_id, err) ||
	    (i->calendar_id != calendar_id &&
	     !touch(s, TOUCH_CALENDAR, i->calendar_id, err)) ||
	    !log_change(s, STORE_CHANGE_ITEM_RENAME, cal->mailbox_id, calendar_id,
			id, name, i->calendar_id, i->name, err) ||
	    !commit(s, err))
		goto fail;
	ok = TRUE;
	goto out;
fail:
	rollback(s);
out:
	g_mutex_unlock(&s->lock);
	store_item_free(i);
	store_item_free(target);
	store_item_free(other);
	store_calendar_free(cal);
	return ok;
}

static gboolean sq_item_set_checked(store *base, gint64 id, gint64 version,
				    const char *key, GError **err)
{
	sqlstore *s = sqlstore_of(base);
	sqlite3_stmt *st;
	gboolean ok = FALSE;

	g_mutex_lock(&s->lock);
	st = sqlstore_stmt(s, "UPDATE items SET checked = ? WHERE id = ? AND version = ?", err);
	if (st) {
		sqlstore_bind_text(st, 1, key);
		sqlite3_bind_int64(st, 2, id);
		sqlite3_bind_int64(st, 3, version);
		ok = sqlstore_step_done(s, st, err, "mark item checked");
	}
	g_mutex_unlock(&s->lock);
	return ok;
}

static GPtrArray *sq_item_scan(store *base, gint64 calendar_id, const char *contains,
			       GError **err)
{
	sqlstore *s = sqlstore_of(base);
	sqlite3_stmt *st;
	GPtrArray *r = NULL;

	g_mutex_lock(&s->lock);
	st = sqlstore_stmt(s, "SELECT " ITEM_COLS_DATA " FROM items WHERE calendar_id = ?"
			   " AND instr(data, CAST(? AS BLOB)) > 0 ORDER BY id", err);
	if (st) {
		sqlite3_bind_int64(st, 1, calendar_id);
		sqlstore_bind_text(st, 2, contains);
		r = sqlstore_collect(s, st, (row_fn)row_item_data,
				     (GDestroyNotify)store_item_free, err);
	}
	g_mutex_unlock(&s->lock);
	return r;
}

static gboolean sq_probe(store *base, int wait_ms, GError **err)
{
	sqlstore *s = sqlstore_of(base);
	gboolean ok;

	g_mutex_lock(&s->lock);
	sqlite3_busy_timeout(s->db, wait_ms);
	ok = begin(s, err);
	if (ok)
		rollback(s);
	sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
	g_mutex_unlock(&s->lock);
	return ok;
}

static gint64 sq_run_begin(store *base, const char *command, GError **err)
{
	sqlstore *s = sqlstore_of(base);
	gint64 id = 0;

	g_mutex_lock(&s->lock);
	g_free(s->run_command);
	s->run_command = g_strdup(command);
	s->run_id = 0;
	if (begin(s, err)) {
		id = current_run(s, err);
		if (!id || !commit(s, err)) {
			rollback(s);
			s->run_id = id = 0;
		}
	}
	g_mutex_unlock(&s->lock);
	return id;
}

static const char *sq_describe(store *base)
{
	return sqlstore_of(base)->describe;
}

static const char *sq_origin(store *base)
{
	return sqlstore_of(base)->origin;
}

static void sq_close(store *base)
{
	sqlstore *s = sqlstore_of(base);

	g_hash_table_destroy(s->stmts);
	sqlite3_close(s->db);
	g_mutex_clear(&s->lock);
	g_free(s->path);
	g_free(s->describe);
	g_free(s->origin);
	g_free(s->run_command);
	g_free(s);
}

static const store_ops sqlite_ops = {
	.close = sq_close,
	.describe = sq_describe,
	.origin = sq_origin,
	.run_begin = sq_run_begin,
	.mailbox_list = sq_mailbox_list,
	.mailbox_get = sq_mailbox_get,
	.mailbox_find = sq_mailbox_find,
	.mailbox_create = sq_mailbox_create,
	.mailbox_delete = sq_mailbox_delete,
	.mailbox_set_owner = sq_mailbox_set_owner,
	.mailbox_set_timezone = sq_mailbox_set_timezone,
	.calendar_list = sq_calendar_list,
	.calendar_get = sq_calendar_get,
	.calendar_find = sq_calendar_find,
	.calendar_create = sq_calendar_create,
	.calendar_delete = sq_calendar_delete,
	.calendar_set_meta = sq_calendar_set_meta,
	.item_list = sq_item_list,
	.item_get = sq_item_get,
	.item_find = sq_item_find,
	.item_find_uid = sq_item_find_uid,
	.item_reserve_id = sq_item_reserve_id,
	.item_put = sq_item_put,
	.item_delete = sq_item_delete,
	.item_rename = sq_item_rename,
	.changes_since = sqlstore_changes_since,
	.stats = sqlstore_stats,
	.root_mtime = sqlstore_root_mtime,
	.last_change = sqlstore_last_change,
	.probe = sq_probe,
	.batch_begin = sq_batch_begin,
	.batch_end = sq_batch_end,
	.item_scan = sq_item_scan,
	.item_set_checked = sq_item_set_checked,
	.runs_list = sqlstore_runs_list,
	.journal_list = sqlstore_journal_list,
	.reply_get = sqlstore_reply_get,
	.reply_put = sqlstore_reply_put,
	.mailbox_stamp = sqlstore_mailbox_stamp,
	.zone_scan_get = sqlstore_zone_scan_get,
	.zone_scan_put = sqlstore_zone_scan_put,
};

static gboolean check_version(sqlstore *s, GError **err)
{
	gint64 v = sqlstore_scalar(s, "SELECT coalesce((SELECT value FROM meta"
			  " WHERE key = 'schema_version'), 0)", err);
	sqlite3_stmt *st;

	if (v < 0)
		return FALSE;
	if (v > SCHEMA_VERSION) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_IO,
			    "store %s: schema version %" G_GINT64_FORMAT
			    " is newer than this calfs (%d)", s->path, v,
			    SCHEMA_VERSION);
		return FALSE;
	}
	if (v == SCHEMA_VERSION)
		return TRUE;
	/* 1 -> 2: the render verdict of each item; 2 -> 3: zone_scans and
	 * changes_by_mailbox, which the schema makes */
	if (v == 1 && !exec(s, "ALTER TABLE items ADD COLUMN checked TEXT", err))
		return FALSE;
	st = sqlstore_stmt(s, "INSERT OR REPLACE INTO meta(key, value)"
		  " VALUES('schema_version', ?)", err);
	if (!st)
		return FALSE;
	sqlite3_bind_int(st, 1, SCHEMA_VERSION);
	return sqlstore_step_done(s, st, err, "set schema version");
}

static void finalize_stmt(gpointer p)
{
	sqlite3_finalize(p);
}

store *sqlstore_open(const char *path, const char *origin, GError **err)
{
	sqlstore *s = g_new0(sqlstore, 1);
	int rc;

	s->base.ops = &sqlite_ops;
	g_mutex_init(&s->lock);
	s->stmts = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
					 finalize_stmt);
	s->path = g_strdup(path);
	s->describe = g_strdup_printf("sqlite %s", path);
	s->origin = origin ? g_strdup(origin)
			   : g_strdup_printf("pid:%d", (int)getpid());
	rc = sqlite3_open_v2(path, &s->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			     SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_IO, "store %s: %s",
			    path, s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
	sqlite3_extended_result_codes(s->db, 1);
	if (!exec(s, "PRAGMA journal_mode=WAL", err) ||
	    !exec(s, "PRAGMA synchronous=NORMAL", err) ||
	    !exec(s, "PRAGMA foreign_keys=ON", err) || !begin(s, err))
		goto fail;
	if (!exec(s, schema, err) || !check_version(s, err) || !commit(s, err)) {
		rollback(s);
		goto fail;
	}
	return &s->base;
fail:
	sq_close(&s->base);
	return NULL;
}
