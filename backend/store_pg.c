#include "store_pg.h"
#include "store_pg_impl.h"
#include "error.h"
#include "item.h"
#include "log.h"

#include <endian.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SCHEMA_VERSION 3
/* pg_advisory_xact_lock keys: the change log's order, schema creation */
#define LOCK_CHANGES 0x63616c6601LL
#define LOCK_SCHEMA 0x63616c6602LL

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS meta(key text PRIMARY KEY, value bigint);"
	"CREATE TABLE IF NOT EXISTS mailboxes("
	" id bigserial PRIMARY KEY,"
	" name text NOT NULL UNIQUE,"
	" mtime_ns bigint NOT NULL,"
	" owner_uid bigint, owner_gid bigint, mode bigint NOT NULL DEFAULT 0,"
	" timezone text);"
	"CREATE TABLE IF NOT EXISTS calendars("
	" id bigserial PRIMARY KEY,"
	" mailbox_id bigint NOT NULL REFERENCES mailboxes(id),"
	" name text NOT NULL,"
	" displayname text, color text,"
	" mtime_ns bigint NOT NULL,"
	" UNIQUE(mailbox_id, name));"
	"CREATE SEQUENCE IF NOT EXISTS item_ids;"
	"CREATE TABLE IF NOT EXISTS items("
	" id bigint PRIMARY KEY,"
	" calendar_id bigint NOT NULL REFERENCES calendars(id),"
	" name text NOT NULL,"
	" uid text NOT NULL,"
	" data bytea NOT NULL,"
	" version bigint NOT NULL,"
	" mtime_ns bigint NOT NULL,"
	" checked text,"
	" UNIQUE(calendar_id, name));"
	"CREATE INDEX IF NOT EXISTS items_by_uid ON items(calendar_id, uid);"
	"CREATE TABLE IF NOT EXISTS runs("
	" id bigserial PRIMARY KEY,"
	" started_ns bigint NOT NULL,"
	" command text NOT NULL,"
	" origin text NOT NULL);"
	"CREATE TABLE IF NOT EXISTS journal("
	" id bigserial PRIMARY KEY,"
	" run_id bigint NOT NULL REFERENCES runs(id),"
	" time_ns bigint NOT NULL,"
	" op text NOT NULL,"
	" item_id bigint, calendar_id bigint,"
	" name text, uid text,"
	" old_calendar_id bigint, old_name text,"
	" old_data bytea,"
	" old_version bigint, new_version bigint);"
	"CREATE INDEX IF NOT EXISTS journal_by_run ON journal(run_id, op);"
	"CREATE INDEX IF NOT EXISTS journal_by_calendar ON journal(calendar_id);"
	"CREATE INDEX IF NOT EXISTS journal_by_old_calendar ON journal(old_calendar_id);"
	"CREATE TABLE IF NOT EXISTS replies("
	" mailbox_id bigint NOT NULL,"
	" uid text NOT NULL,"
	" attendee text NOT NULL,"
	" reply_time bigint NOT NULL,"
	" sequence bigint NOT NULL,"
	" PRIMARY KEY(mailbox_id, uid, attendee));"
	"CREATE TABLE IF NOT EXISTS changes("
	" seq bigserial PRIMARY KEY,"
	" time_ns bigint NOT NULL,"
	" kind bigint NOT NULL,"
	" mailbox_id bigint, calendar_id bigint, item_id bigint,"
	" name text, old_calendar_id bigint, old_name text,"
	" origin text NOT NULL);"
	"CREATE INDEX IF NOT EXISTS changes_by_mailbox ON changes(mailbox_id, seq);"
	"CREATE TABLE IF NOT EXISTS zone_scans("
	" mailbox_id bigint PRIMARY KEY,"
	" key text NOT NULL,"
	" status text NOT NULL,"
	" resolved text);"
	/* every host following the log hears of each change at once */
	"CREATE OR REPLACE FUNCTION calfs_changed() RETURNS trigger"
	" LANGUAGE plpgsql AS $$ BEGIN"
	" PERFORM pg_notify('calfs_changes', NEW.seq::text); RETURN NULL; END $$;"
	"DROP TRIGGER IF EXISTS changes_notify ON changes;"
	"CREATE TRIGGER changes_notify AFTER INSERT ON changes"
	" FOR EACH ROW EXECUTE FUNCTION calfs_changed();";

gboolean pgstore_is_url(const char *spec)
{
	return spec && (g_str_has_prefix(spec, "postgresql://") ||
			g_str_has_prefix(spec, "postgres://"));
}

char *pgstore_redact(const char *url)
{
	const char *start = strstr(url, "://"), *at, *colon;

	if (!start)
		return g_strdup(url);
	start += 3;
	at = strchr(start, '@');
	colon = at ? memchr(start, ':', at - start) : NULL;
	if (!colon)
		return g_strdup(url);
	return g_strdup_printf("%.*s:***%s", (int)(colon - url), url, at);
}

static gint64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (gint64)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

pgstore *pgstore_of(store *s)
{
	return (pgstore *)s;
}

/* ---- parameters, queries and results ---- */

void pg_arg_i64(pg_args *a, gint64 v)
{
	g_assert(a->n < PG_MAX_ARGS);
	g_snprintf(a->num[a->n], sizeof(a->num[0]), "%" G_GINT64_FORMAT, v);
	a->v[a->n] = a->num[a->n];
	a->len[a->n] = 0;
	a->fmt[a->n] = 0;
	a->n++;
}

void pg_arg_text(pg_args *a, const char *v)
{
	g_assert(a->n < PG_MAX_ARGS);
	a->v[a->n] = v;
	a->len[a->n] = 0;
	a->fmt[a->n] = 0;
	a->n++;
}

void pg_arg_bytes(pg_args *a, const void *data, gsize len)
{
	g_assert(a->n < PG_MAX_ARGS);
	a->v[a->n] = data ? data : "";
	a->len[a->n] = (int)len;
	a->fmt[a->n] = 1;
	a->n++;
}

gboolean pg_null(PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col);
}

gint64 pg_i64(PGresult *r, int row, int col)
{
	const char *v = PQgetvalue(r, row, col);
	guint64 be64;
	guint32 be32;

	if (PQgetisnull(r, row, col))
		return 0;
	switch (PQgetlength(r, row, col)) {
	case 8:
		memcpy(&be64, v, 8);
		return (gint64)be64toh(be64);
	case 4:
		memcpy(&be32, v, 4);
		return (gint32)be32toh(be32);
	default:
		return 0;
	}
}

char *pg_text(PGresult *r, int row, int col)
{
	if (PQgetisnull(r, row, col))
		return NULL;
	return g_strndup(PQgetvalue(r, row, col), PQgetlength(r, row, col));
}

GBytes *pg_bytes(PGresult *r, int row, int col)
{
	if (PQgetisnull(r, row, col))
		return NULL;
	return g_bytes_new(PQgetvalue(r, row, col), PQgetlength(r, row, col));
}

/* Turn a failed result (or a dead connection) into a CALFS_ERROR. */
static void set_error(pgstore *s, PGresult *r, GError **err, const char *what)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	int code = CALFS_ERROR_IO;

	if (state && !strcmp(state, "23505"))
		code = CALFS_ERROR_EXISTS;
	else if (state && (!strcmp(state, "40001") || !strcmp(state, "40P01") ||
			   !strcmp(state, "55P03")))
		code = CALFS_ERROR_BUSY;
	if (!msg) {
		char *m = pg_conn_error(s->conn);

		g_set_error(err, CALFS_ERROR, code, "store %s: %s: %s", s->describe,
			    what, m);
		g_free(m);
		return;
	}
	g_set_error(err, CALFS_ERROR, code, "store %s: %s: %s", s->describe, what,
		    msg);
}

char *pg_conn_error(PGconn *conn)
{
	const char *m = conn ? PQerrorMessage(conn) : NULL;
	const char *nl;

	if (!m || !*m)
		return g_strdup("no connection");
	nl = strchr(m, '\n');
	return g_strndup(m, nl ? (gsize)(nl - m) : strlen(m));
}

static void quiet_notice(void *arg, const char *message)
{
	(void)arg;
	log_debug("postgresql: %s", message);
}

/* Reopen a lost connection (outside a transaction): TRUE when it is up.
 * The listener says when the server goes away; this says when it cannot
 * be reached (once) and when it can again. */
static gboolean reconnect(pgstore *s)
{
	if (PQstatus(s->conn) == CONNECTION_OK)
		return TRUE;
	PQreset(s->conn);
	if (PQstatus(s->conn) != CONNECTION_OK) {
		if (!s->lost_since) {
			char *m = pg_conn_error(s->conn);

			s->lost_since = g_get_monotonic_time();
			log_warning("store %s: unreachable (%s); retrying on each request",
				    s->describe, m);
			g_free(m);
		}
		return FALSE;
	}
	g_hash_table_remove_all(s->prepared);
	if (s->lost_since)
		log_notice("store %s: reachable again after %.1f s", s->describe,
			   (g_get_monotonic_time() - s->lost_since) / 1e6);
	else
		log_notice("store %s: reconnected", s->describe);
	s->lost_since = 0;
	return TRUE;
}

static const char *prepared_name(pgstore *s, const char *sql, PGresult **fail)
{
	const char *name = g_hash_table_lookup(s->prepared, sql);
	PGresult *r;
	char *n;

	*fail = NULL;
	if (name)
		return name;
	n = g_strdup_printf("c%u", g_hash_table_size(s->prepared));
	r = PQprepare(s->conn, n, sql, 0, NULL);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		*fail = r;
		g_free(n);
		return NULL;
	}
	PQclear(r);
	g_hash_table_insert(s->prepared, (gpointer)sql, n);
	return n;
}

static PGresult *run_once(pgstore *s, const char *sql, pg_args *a)
{
	PGresult *fail;
	const char *name = prepared_name(s, sql, &fail);

	if (!name)
		return fail;
	return PQexecPrepared(s->conn, name, a ? a->n : 0, a ? a->v : NULL,
			      a ? a->len : NULL, a ? a->fmt : NULL, 1);
}

static gboolean result_ok(PGresult *r)
{
	ExecStatusType st = PQresultStatus(r);

	return st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK;
}

PGresult *pg_query(pgstore *s, const char *sql, pg_args *a, const char *what,
		   GError **err)
{
	PGresult *r;

	if (!s->in_txn && !reconnect(s)) {
		set_error(s, NULL, err, what);
		return NULL;
	}
	r = run_once(s, sql, a);
	if (!result_ok(r) && !s->in_txn && PQstatus(s->conn) != CONNECTION_OK) {
		/* the server went away between two operations: once more */
		PQclear(r);
		r = reconnect(s) ? run_once(s, sql, a) : NULL;
	}
	if (r && result_ok(r))
		return r;
	set_error(s, r, err, what);
	PQclear(r);
	return NULL;
}

gboolean pg_exec(pgstore *s, const char *sql, pg_args *a, const char *what,
		 GError **err)
{
	PGresult *r = pg_query(s, sql, a, what, err);

	PQclear(r);
	return r != NULL;
}

GPtrArray *pg_collect(pgstore *s, const char *sql, pg_args *a, pg_row_fn fn,
		      GDestroyNotify free_fn, GError **err)
{
	PGresult *r = pg_query(s, sql, a, "list", err);
	GPtrArray *out;
	int n;

	if (!r)
		return NULL;
	n = PQntuples(r);
	out = g_ptr_array_new_full(n, free_fn);
	for (int i = 0; i < n; i++)
		g_ptr_array_add(out, fn(r, i));
	PQclear(r);
	return out;
}

gpointer pg_one(pgstore *s, const char *sql, pg_args *a, pg_row_fn fn,
		const char *what, GError **err)
{
	PGresult *r = pg_query(s, sql, a, what, err);
	gpointer v = NULL;

	if (!r)
		return NULL;
	if (PQntuples(r) > 0)
		v = fn(r, 0);
	else
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_NOTFOUND, "%s: not found",
			    what);
	PQclear(r);
	return v;
}

gint64 pg_scalar(pgstore *s, const char *sql, pg_args *a, GError **err)
{
	PGresult *r = pg_query(s, sql, a, sql, err);
	gint64 v = -1;

	if (!r)
		return -1;
	if (PQntuples(r) > 0)
		v = pg_i64(r, 0, 0);
	else
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_IO, "%s: no row", sql);
	PQclear(r);
	return v;
}

/* ---- transactions ----
 *
 * An operation is a transaction, or inside a batch a savepoint of the
 * batch's.  Its changes wait in s->pending and go into the change log at
 * the outermost commit, under LOCK_CHANGES, so that sequence numbers are
 * handed out in commit order. */

void pg_note_seq(pgstore *s, gint64 seq)
{
	gint64 cur = __atomic_load_n(&s->known_last, __ATOMIC_ACQUIRE);

	while (seq > cur &&
	       !__atomic_compare_exchange_n(&s->known_last, &cur, seq, FALSE,
					    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		;
}

static void pending_clear(GArray *p, guint from)
{
	for (guint i = from; i < p->len; i++) {
		pg_pending *c = &g_array_index(p, pg_pending, i);

		g_free(c->name);
		g_free(c->old_name);
	}
	g_array_set_size(p, from);
}

static gboolean begin(pgstore *s, GError **err)
{
	if (s->batch) {
		s->op_mark = s->pending->len;
		s->op_run = s->run_id;
		return pg_exec(s, "SAVEPOINT op", NULL, "begin", err);
	}
	if (!pg_exec(s, "BEGIN", NULL, "begin", err))
		return FALSE;
	s->in_txn = TRUE;
	s->op_mark = 0;
	return TRUE;
}

/* Write the transaction's changes to the log; their seqs in *last. */
static gboolean flush_changes(pgstore *s, gint64 *last, GError **err)
{
	*last = 0;
	if (s->pending->len == 0)
		return TRUE;
	{
		pg_args a = { 0 };

		pg_arg_i64(&a, LOCK_CHANGES);
		if (!pg_exec(s, "SELECT pg_advisory_xact_lock($1)", &a,
			     "lock change log", err))
			return FALSE;
	}
	for (guint i = 0; i < s->pending->len; i++) {
		pg_pending *c = &g_array_index(s->pending, pg_pending, i);
		pg_args a = { 0 };
		PGresult *r;

		pg_arg_i64(&a, now_ns());
		pg_arg_i64(&a, c->kind);
		pg_arg_i64(&a, c->mailbox);
		pg_arg_i64(&a, c->calendar);
		pg_arg_i64(&a, c->item);
		pg_arg_text(&a, c->name);
		pg_arg_i64(&a, c->old_calendar);
		pg_arg_text(&a, c->old_name);
		pg_arg_text(&a, s->origin);
		r = pg_query(s, "INSERT INTO changes(time_ns, kind, mailbox_id,"
			     " calendar_id, item_id, name, old_calendar_id, old_name,"
			     " origin) VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9) RETURNING seq",
			     &a, "log change", err);
		if (!r)
			return FALSE;
		*last = pg_i64(r, 0, 0);
		PQclear(r);
	}
	return TRUE;
}

/* A run started by the transaction is negative until it commits. */
static void end_txn(pgstore *s, gboolean committed)
{
	s->in_txn = FALSE;
	pending_clear(s->pending, 0);
	if (s->run_id < 0)
		s->run_id = committed ? -s->run_id : 0;
}

static gboolean commit_txn(pgstore *s, GError **err)
{
	gint64 last = 0;

	if (!flush_changes(s, &last, err) ||
	    !pg_exec(s, "COMMIT", NULL, "commit", err)) {
		PQclear(PQexec(s->conn, "ROLLBACK"));
		end_txn(s, FALSE);
		return FALSE;
	}
	end_txn(s, TRUE);
	pg_note_seq(s, last);
	return TRUE;
}

static void rollback(pgstore *s);

static gboolean commit(pgstore *s, GError **err)
{
	if (s->batch) {
		if (pg_exec(s, "RELEASE SAVEPOINT op", NULL, "commit", err))
			return TRUE;
		rollback(s);
		return FALSE;
	}
	return commit_txn(s, err);
}

static void rollback(pgstore *s)
{
	if (s->batch) {
		PQclear(PQexec(s->conn, "ROLLBACK TO SAVEPOINT op; RELEASE SAVEPOINT op"));
		pending_clear(s->pending, s->op_mark);
		if (!s->op_run)
			s->run_id = 0;	/* the run was made by this operation */
	} else if (s->in_txn) {
		PQclear(PQexec(s->conn, "ROLLBACK"));
		end_txn(s, FALSE);
	}
}

static gboolean pg_batch_begin(store *base, GError **err)
{
	pgstore *s = pgstore_of(base);
	gboolean ok = TRUE;

	g_mutex_lock(&s->lock);
	if (s->batch == 0) {
		ok = pg_exec(s, "BEGIN", NULL, "begin batch", err);
		s->in_txn = ok;
	}
	if (ok)
		s->batch++;
	g_mutex_unlock(&s->lock);
	return ok;
}

static gboolean pg_batch_end(store *base, GError **err)
{
	pgstore *s = pgstore_of(base);
	gboolean ok = TRUE;

	g_mutex_lock(&s->lock);
	if (s->batch > 0 && --s->batch == 0)
		ok = commit_txn(s, err);
	g_mutex_unlock(&s->lock);
	return ok;
}

static void log_change(pgstore *s, store_change_kind kind, gint64 mailbox,
		       gint64 calendar, gint64 item, const char *name,
		       gint64 old_calendar, const char *old_name)
{
	pg_pending c = { kind, mailbox, calendar, item, old_calendar,
			 g_strdup(name), g_strdup(old_name) };

	g_array_append_val(s->pending, c);
}

/* The current run, started on first use inside a write transaction.  A
 * run made by a transaction that rolls back is forgotten with it (its id
 * is kept negated until the commit). */
static gint64 current_run(pgstore *s, GError **err)
{
	pg_args a = { 0 };
	gint64 id;

	if (s->run_id)
		return ABS(s->run_id);
	pg_arg_i64(&a, now_ns());
	pg_arg_text(&a, s->run_command ? s->run_command : "calfs");
	pg_arg_text(&a, s->origin);
	id = pg_scalar(s, "INSERT INTO runs(started_ns, command, origin)"
		       " VALUES($1,$2,$3) RETURNING id", &a, err);
	if (id <= 0)
		return 0;
	s->run_id = -id;
	return id;
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

static gboolean journal(pgstore *s, const journal_entry *j, GError **err)
{
	gint64 run = current_run(s, err);
	pg_args a = { 0 };

	if (!run)
		return FALSE;
	pg_arg_i64(&a, run);
	pg_arg_i64(&a, now_ns());
	pg_arg_text(&a, j->op);
	pg_arg_i64(&a, j->item_id);
	pg_arg_i64(&a, j->calendar_id);
	pg_arg_text(&a, j->name);
	pg_arg_text(&a, j->uid);
	pg_arg_i64(&a, j->old_calendar_id);
	pg_arg_text(&a, j->old_name);
	if (j->old_data)
		pg_arg_bytes(&a, j->old_data, j->old_len);
	else
		pg_arg_text(&a, NULL);
	pg_arg_i64(&a, j->old_version);
	pg_arg_i64(&a, j->new_version);
	return pg_exec(s, "INSERT INTO journal(run_id, time_ns, op, item_id,"
		       " calendar_id, name, uid, old_calendar_id, old_name, old_data,"
		       " old_version, new_version)"
		       " VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10::bytea,$11,$12)",
		       &a, "journal", err);
}

#define TOUCH_CALENDAR "UPDATE calendars SET mtime_ns = greatest($1::bigint, mtime_ns + 1) WHERE id = $2"
#define TOUCH_MAILBOX "UPDATE mailboxes SET mtime_ns = greatest($1::bigint, mtime_ns + 1) WHERE id = $2"

static gboolean touch(pgstore *s, const char *sql, gint64 id, GError **err)
{
	pg_args a = { 0 };

	pg_arg_i64(&a, now_ns());
	pg_arg_i64(&a, id);
	return pg_exec(s, sql, &a, "touch", err);
}

static gboolean touch_root(pgstore *s, GError **err)
{
	pg_args a = { 0 };

	pg_arg_i64(&a, now_ns());
	return pg_exec(s, "INSERT INTO meta(key, value) VALUES('root_mtime_ns', $1)"
		       " ON CONFLICT(key) DO UPDATE SET value ="
		       " greatest(EXCLUDED.value, meta.value + 1)", &a, "touch root",
		       err);
}

static gint64 count(pgstore *s, const char *sql, gint64 id, GError **err)
{
	pg_args a = { 0 };

	pg_arg_i64(&a, id);
	return pg_scalar(s, sql, &a, err);
}

/* ---- mailboxes ---- */

#define MAILBOX_COLS "id, name, mtime_ns, owner_uid, owner_gid, mode, timezone"

static gpointer row_mailbox(PGresult *r, int i)
{
	store_mailbox *m = g_new0(store_mailbox, 1);

	m->id = pg_i64(r, i, 0);
	m->name = pg_text(r, i, 1);
	m->mtime_ns = pg_i64(r, i, 2);
	m->has_owner = !pg_null(r, i, 3);
	m->uid = pg_i64(r, i, 3);
	m->gid = pg_i64(r, i, 4);
	m->mode = pg_i64(r, i, 5);
	m->timezone = pg_text(r, i, 6);
	return m;
}

static GPtrArray *pg_mailbox_list(store *base, GError **err)
{
	pgstore *s = pgstore_of(base);
	GPtrArray *r;

	g_mutex_lock(&s->lock);
	r = pg_collect(s, "SELECT " MAILBOX_COLS " FROM mailboxes ORDER BY name COLLATE \"C\"",
		       NULL, row_mailbox, (GDestroyNotify)store_mailbox_free, err);
	g_mutex_unlock(&s->lock);
	return r;
}

static store_mailbox *mailbox_get_locked(pgstore *s, gint64 id, gboolean for_update,
					 GError **err)
{
	pg_args a = { 0 };

	pg_arg_i64(&a, id);
	return pg_one(s, for_update
		      ? "SELECT " MAILBOX_COLS " FROM mailboxes WHERE id = $1 FOR UPDATE"
		      : "SELECT " MAILBOX_COLS " FROM mailboxes WHERE id = $1",
		      &a, row_mailbox, "mailbox", err);
}

static store_mailbox *pg_mailbox_get(store *base, gint64 id, GError **err)
{
	pgstore *s = pgstore_of(base);
	store_mailbox *m;

	g_mutex_lock(&s->lock);
	m = mailbox_get_locked(s, id, FALSE, err);
	g_mutex_unlock(&s->lock);
	return m;
}

static store_mailbox *pg_mailbox_find(store *base, const char *name, GError **err)
{
	pgstore *s = pgstore_of(base);
	store_mailbox *m;
	pg_args a = { 0 };
	GError *e = NULL;

	pg_arg_text(&a, name);
	g_mutex_lock(&s->lock);
	m = pg_one(s, "SELECT " MAILBOX_COLS " FROM mailboxes WHERE name = $1", &a,
		   row_mailbox, name, &e);
	g_mutex_unlock(&s->lock);
	if (e && g_error_matches(e, CALFS_ERROR, CALFS_ERROR_NOTFOUND)) {
		g_clear_error(&e);
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_NOTFOUND,
			    "%s: no such mailbox", name);
	} else if (e) {
		g_propagate_error(err, e);
	}
	return m;
}

static store_mailbox *pg_mailbox_create(store *base, const char *name,
					GError **err)
{
	pgstore *s = pgstore_of(base);
	store_mailbox *m = NULL;
	pg_args a = { 0 };
	GError *e = NULL;
	gint64 id;

	if (!item_name_is_valid(name)) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_NAME,
			    "'%s': not a mailbox name", name);
		return NULL;
	}
	g_mutex_lock(&s->lock);
	if (!begin(s, err))
		goto out;
	pg_arg_text(&a, name);
	pg_arg_i64(&a, now_ns());
	id = pg_scalar(s, "INSERT INTO mailboxes(name, mtime_ns) VALUES($1, $2)"
		       " RETURNING id", &a, &e);
	if (id < 0) {
		if (g_error_matches(e, CALFS_ERROR, CALFS_ERROR_EXISTS))
			g_set_error(err, CALFS_ERROR, CALFS_ERROR_EXISTS,
				    "%s: mailbox exists", name);
		else
			g_propagate_error(err, g_steal_pointer(&e));
		g_clear_error(&e);
		goto fail;
	}
	log_change(s, STORE_CHANGE_MAILBOX, id, 0, 0, name, 0, NULL);
	if (!touch_root(s, err) || !(m = mailbox_get_locked(s, id, FALSE, err)) ||
	    !commit(s, err))
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

static gboolean pg_mailbox_delete(store *base, gint64 id, GError **err)
{
	pgstore *s = pgstore_of(base);
	store_mailbox *m = NULL;
	pg_args a = { 0 };
	gboolean ok = FALSE;
	gint64 n;

	g_mutex_lock(&s->lock);
	if (!begin(s, err))
		goto out;
	if (!(m = mailbox_get_locked(s, id, TRUE, err)))
		goto fail;
	n = count(s, "SELECT count(*) FROM calendars WHERE mailbox_id = $1", id, err);
	if (n < 0)
		goto fail;
	if (n > 0) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_NOTEMPTY,
			    "%s: mailbox holds %" G_GINT64_FORMAT " calendars",
			    m->name, n);
		goto fail;
	}
	pg_arg_i64(&a, id);
	log_change(s, STORE_CHANGE_MAILBOX, id, 0, 0, NULL, 0, m->name);
	if (!pg_exec(s, "DELETE FROM mailboxes WHERE id = $1", &a, "delete mailbox",
		     err) || !touch_root(s, err) || !commit(s, err))
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

static gboolean pg_mailbox_set_owner(store *base, gint64 id, gboolean has_owner,
				     guint32 uid, guint32 gid, guint32 mode,
				     GError **err)
{
	pgstore *s = pgstore_of(base);
	pg_args a = { 0 };
	gboolean ok = FALSE;

	if (has_owner) {
		pg_arg_i64(&a, uid);
		pg_arg_i64(&a, gid);
	} else {
		pg_arg_text(&a, NULL);
		pg_arg_text(&a, NULL);
	}
	pg_arg_i64(&a, mode);
	pg_arg_i64(&a, id);
	g_mutex_lock(&s->lock);
	if (!begin(s, err))
		goto out;
	log_change(s, STORE_CHANGE_MAILBOX, id, 0, 0, NULL, 0, NULL);
	if (!pg_exec(s, "UPDATE mailboxes SET owner_uid = $1::bigint,"
		     " owner_gid = $2::bigint, mode = $3 WHERE id = $4", &a,
		     "set owner", err) || !commit(s, err))
		goto fail;
	ok = TRUE;
	goto out;
fail:
	rollback(s);
out:
	g_mutex_unlock(&s->lock);
	return ok;
}

static gboolean pg_mailbox_set_timezone(store *base, gint64 id, const char *zone,
					GError **err)
{
	pgstore *s = pgstore_of(base);
	store_mailbox *m = NULL;
	pg_args a = { 0 };
	gboolean ok = FALSE;
	journal_entry j = { .op = "timezone", .name = "timezone" };

	g_mutex_lock(&s->lock);
	if (!begin(s, err))
		goto out;
	if (!(m = mailbox_get_locked(s, id, TRUE, err)))
		goto fail;
	j.old_name = m->name;
	j.old_data = m->timezone;
	j.old_len = m->timezone ? strlen(m->timezone) : 0;
	pg_arg_text(&a, zone);
	pg_arg_i64(&a, id);
	log_change(s, STORE_CHANGE_MAILBOX, id, 0, 0, NULL, 0, NULL);
	if (!pg_exec(s, "UPDATE mailboxes SET timezone = $1 WHERE id = $2", &a,
		     "set timezone", err) || !journal(s, &j, err) || !commit(s, err))
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

static gpointer row_calendar(PGresult *r, int i)
{
	store_calendar *c = g_new0(store_calendar, 1);

	c->id = pg_i64(r, i, 0);
	c->mailbox_id = pg_i64(r, i, 1);
	c->name = pg_text(r, i, 2);
	c->displayname = pg_text(r, i, 3);
	c->color = pg_text(r, i, 4);
	c->mtime_ns = pg_i64(r, i, 5);
	return c;
}

static GPtrArray *pg_calendar_list(store *base, gint64 mailbox_id, GError **err)
{
	pgstore *s = pgstore_of(base);
	pg_args a = { 0 };
	GPtrArray *r;

	pg_arg_i64(&a, mailbox_id);
	g_mutex_lock(&s->lock);
	r = pg_collect(s, "SELECT " CALENDAR_COLS " FROM calendars WHERE mailbox_id = $1"
		       " ORDER BY name COLLATE \"C\"", &a, row_calendar,
		       (GDestroyNotify)store_calendar_free, err);
	g_mutex_unlock(&s->lock);
	return r;
}

/* The calendar, its row locked until the transaction ends when
 * for_update: every write to a calendar's items takes this lock first, so
 * writers of one calendar (from any host) go one after the other. */
static store_calendar *calendar_get_locked(pgstore *s, gint64 id,
					   gboolean for_update, GError **err)
{
	pg_args a = { 0 };

	pg_arg_i64(&a, id);
	return pg_one(s, for_update
		      ? "SELECT " CALENDAR_COLS " FROM calendars WHERE id = $1 FOR UPDATE"
		      : "SELECT " CALENDAR_COLS " FROM calendars WHERE id = $1",
		      &a, row_calendar, "calendar", err);
}

static store_calendar *pg_calendar_get(store *base, gint64 id, GError **err)
{
	pgstore *s = pgstore_of(base);
	store_calendar *c;

	g_mutex_lock(&s->lock);
	c = calendar_get_locked(s, id, FALSE, err);
	g_mutex_unlock(&s->lock);
	return c;
}

static store_calendar *pg_calendar_find(store *base, gint64 mailbox_id,
					const char *name, GError **err)
{
	pgstore *s = pgstore_of(base);
	pg_args a = { 0 };
	store_calendar *c;

	pg_arg_i64(&a, mailbox_id);
	pg_arg_text(&a, name);
	g_mutex_lock(&s->lock);
	c = pg_one(s, "SELECT " CALENDAR_COLS " FROM calendars"
		   " WHERE mailbox_id = $1 AND name = $2", &a, row_calendar, name, err);
	g_mutex_unlock(&s->lock);
	return c;
}

static store_calendar *pg_calendar_create(store *base, gint64 mailbox_id,
					  const char *name, GError **err)
{
	pgstore *s = pgstore_of(base);
	store_calendar *c = NULL;
	pg_args a = { 0 };
	GError *e = NULL;
	gint64 id;

	if (!item_name_is_valid(name)) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_NAME,
			    "'%s': not a calendar name", name);
		return NULL;
	}
	g_mutex_lock(&s->lock);
	if (!begin(s, err))
		goto out;
	pg_arg_i64(&a, mailbox_id);
	pg_arg_text(&a, name);
	pg_arg_i64(&a, now_ns());
	id = pg_scalar(s, "INSERT INTO calendars(mailbox_id, name, mtime_ns)"
		       " VALUES($1, $2, $3) RETURNING id", &a, &e);
	if (id < 0) {
		if (g_error_matches(e, CALFS_ERROR, CALFS_ERROR_EXISTS))
			g_set_error(err, CALFS_ERROR, CALFS_ERROR_EXISTS,
				    "%s: calendar exists", name);
		else
			g_propagate_error(err, g_steal_pointer(&e));
		g_clear_error(&e);
		goto fail;
	}
	log_change(s, STORE_CHANGE_CALENDAR, mailbox_id, id, 0, name, 0, NULL);
	if (!touch(s, TOUCH_MAILBOX, mailbox_id, err) ||
	    !(c = calendar_get_locked(s, id, FALSE, err)) || !commit(s, err))
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

static gboolean pg_calendar_delete(store *base, gint64 id, GError **err)
{
	pgstore *s = pgstore_of(base);
	store_calendar *c = NULL;
	pg_args a = { 0 };
	gboolean ok = FALSE;
	gint64 n;

	g_mutex_lock(&s->lock);
	if (!begin(s, err))
		goto out;
	if (!(c = calendar_get_locked(s, id, TRUE, err)))
		goto fail;
	n = count(s, "SELECT count(*) FROM items WHERE calendar_id = $1", id, err);
	if (n < 0)
		goto fail;
	if (n > 0) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_NOTEMPTY,
			    "%s: calendar holds %" G_GINT64_FORMAT " items",
			    c->name, n);
		goto fail;
	}
	pg_arg_i64(&a, id);
	log_change(s, STORE_CHANGE_CALENDAR, c->mailbox_id, id, 0, NULL, 0, c->name);
	if (!pg_exec(s, "DELETE FROM calendars WHERE id = $1", &a, "delete calendar",
		     err) || !touch(s, TOUCH_MAILBOX, c->mailbox_id, err) ||
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

static gboolean pg_calendar_set_meta(store *base, gint64 id, const char *key,
				     const char *value, GError **err)
{
	pgstore *s = pgstore_of(base);
	store_calendar *c = NULL;
	pg_args a = { 0 };
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
	if (!(c = calendar_get_locked(s, id, TRUE, err)))
		goto fail;
	old = strcmp(key, "color") ? c->displayname : c->color;
	j.old_data = old;
	j.old_len = old ? strlen(old) : 0;
	pg_arg_text(&a, value);
	pg_arg_i64(&a, id);
	log_change(s, STORE_CHANGE_CALENDAR, c->mailbox_id, id, 0, c->name, 0, NULL);
	if (!pg_exec(s, strcmp(key, "color")
		     ? "UPDATE calendars SET displayname = $1 WHERE id = $2"
		     : "UPDATE calendars SET color = $1 WHERE id = $2", &a,
		     "set calendar property", err) ||
	    !journal(s, &j, err) || !touch(s, TOUCH_CALENDAR, id, err) ||
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

#define ITEM_COLS "id, calendar_id, name, uid, octet_length(data)::bigint, version, mtime_ns, checked"
#define ITEM_COLS_DATA ITEM_COLS ", data"

static gpointer row_item(PGresult *r, int i)
{
	store_item *it = g_new0(store_item, 1);

	it->id = pg_i64(r, i, 0);
	it->calendar_id = pg_i64(r, i, 1);
	it->name = pg_text(r, i, 2);
	it->uid = pg_text(r, i, 3);
	it->size = pg_i64(r, i, 4);
	it->version = pg_i64(r, i, 5);
	it->mtime_ns = pg_i64(r, i, 6);
	it->checked = pg_text(r, i, 7);
	return it;
}

static gpointer row_item_data(PGresult *r, int i)
{
	store_item *it = row_item(r, i);

	it->data = pg_bytes(r, i, 8);
	return it;
}

static GPtrArray *pg_item_list(store *base, gint64 calendar_id, GError **err)
{
	pgstore *s = pgstore_of(base);
	pg_args a = { 0 };
	GPtrArray *r;

	pg_arg_i64(&a, calendar_id);
	g_mutex_lock(&s->lock);
	r = pg_collect(s, "SELECT " ITEM_COLS " FROM items WHERE calendar_id = $1"
		       " ORDER BY id", &a, row_item, (GDestroyNotify)store_item_free, err);
	g_mutex_unlock(&s->lock);
	return r;
}

static store_item *item_get_locked(pgstore *s, gint64 id, gboolean with_data,
				   GError **err)
{
	pg_args a = { 0 };

	pg_arg_i64(&a, id);
	return pg_one(s, with_data
		      ? "SELECT " ITEM_COLS_DATA " FROM items WHERE id = $1"
		      : "SELECT " ITEM_COLS " FROM items WHERE id = $1",
		      &a, with_data ? row_item_data : row_item, "item", err);
}

static store_item *pg_item_get(store *base, gint64 id, gboolean with_data,
			       GError **err)
{
	pgstore *s = pgstore_of(base);
	store_item *i;

	g_mutex_lock(&s->lock);
	i = item_get_locked(s, id, with_data, err);
	g_mutex_unlock(&s->lock);
	return i;
}

static store_item *item_find_locked(pgstore *s, gint64 calendar_id,
				    const char *name, gboolean with_data,
				    GError **err)
{
	pg_args a = { 0 };

	pg_arg_i64(&a, calendar_id);
	pg_arg_text(&a, name);
	return pg_one(s, with_data
		      ? "SELECT " ITEM_COLS_DATA " FROM items WHERE calendar_id = $1 AND name = $2"
		      : "SELECT " ITEM_COLS " FROM items WHERE calendar_id = $1 AND name = $2",
		      &a, with_data ? row_item_data : row_item, name, err);
}

static store_item *pg_item_find(store *base, gint64 calendar_id,
				const char *name, gboolean with_data, GError **err)
{
	pgstore *s = pgstore_of(base);
	store_item *i;

	g_mutex_lock(&s->lock);
	i = item_find_locked(s, calendar_id, name, with_data, err);
	g_mutex_unlock(&s->lock);
	return i;
}

/* The item other than except_a and except_b with that UID, or NULL. */
static store_item *uid_taken(pgstore *s, gint64 calendar_id, const char *uid,
			     gint64 except_a, gint64 except_b, GError **err)
{
	pg_args a = { 0 };
	GError *e = NULL;
	store_item *i;

	pg_arg_i64(&a, calendar_id);
	pg_arg_text(&a, uid);
	pg_arg_i64(&a, except_a);
	pg_arg_i64(&a, except_b);
	i = pg_one(s, "SELECT " ITEM_COLS " FROM items WHERE calendar_id = $1"
		   " AND uid = $2 AND id != $3 AND id != $4 LIMIT 1", &a, row_item,
		   "find UID", &e);
	if (e && !g_error_matches(e, CALFS_ERROR, CALFS_ERROR_NOTFOUND))
		g_propagate_error(err, g_steal_pointer(&e));
	g_clear_error(&e);
	return i;
}

static store_item *pg_item_find_uid(store *base, gint64 calendar_id,
				    const char *uid, GError **err)
{
	pgstore *s = pgstore_of(base);
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

static gint64 pg_item_reserve_id(store *base, gint64 calendar_id, GError **err)
{
	pgstore *s = pgstore_of(base);
	gint64 id;

	(void)calendar_id;

	g_mutex_lock(&s->lock);
	id = pg_scalar(s, "SELECT nextval('item_ids')", NULL, err);
	g_mutex_unlock(&s->lock);
	return MAX(id, 0);
}

static gboolean refuse_uid(pgstore *s, const store_put *req, gint64 except,
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

static store_item *pg_item_put(store *base, const store_put *req,
			       store_put_result *result, GError **err)
{
	pgstore *s = pgstore_of(base);
	store_item *old = NULL, *item = NULL;
	store_calendar *cal = NULL;
	pg_args a = { 0 };
	GError *e = NULL;
	gsize len;
	const void *bytes = g_bytes_get_data(req->data, &len);
	journal_entry j = { .calendar_id = req->calendar_id, .name = req->name,
			    .uid = req->uid };
	gint64 id = 0;
	gboolean ok;

	if (!item_name_is_valid(req->name)) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_NAME,
			    "'%s': not an item name", req->name);
		return NULL;
	}
	g_mutex_lock(&s->lock);
	if (!begin(s, err))
		goto out;
	if (!(cal = calendar_get_locked(s, req->calendar_id, TRUE, err)))
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
		pg_arg_text(&a, req->uid);
		pg_arg_bytes(&a, bytes, len);
		pg_arg_i64(&a, now_ns());
		pg_arg_i64(&a, id);
		ok = pg_exec(s, "UPDATE items SET uid = $1, data = $2::bytea,"
			     " version = version + 1, mtime_ns = greatest($3::bigint,"
			     " mtime_ns + 1), checked = NULL WHERE id = $4", &a,
			     "write item", err);
		j.op = "update";
		j.uid = old->uid;	/* undo puts the old bytes back with it */
		j.old_data = g_bytes_get_data(old->data, &j.old_len);
		j.old_version = old->version;
		j.new_version = old->version + 1;
	} else {
		id = req->reserved_id;
		if (!id && (id = pg_scalar(s, "SELECT nextval('item_ids')", NULL,
					   err)) <= 0)
			goto fail;
		pg_arg_i64(&a, id);
		pg_arg_i64(&a, req->calendar_id);
		pg_arg_text(&a, req->name);
		pg_arg_text(&a, req->uid);
		pg_arg_bytes(&a, bytes, len);
		pg_arg_i64(&a, now_ns());
		ok = pg_exec(s, "INSERT INTO items(id, calendar_id, name, uid, data,"
			     " version, mtime_ns) VALUES($1, $2, $3, $4, $5::bytea, 1, $6)",
			     &a, "write item", err);
		j.op = "create";
		j.new_version = 1;
	}
	if (!ok)
		goto fail;
	j.item_id = id;
	log_change(s, old ? STORE_CHANGE_ITEM_UPDATE : STORE_CHANGE_ITEM_CREATE,
		   cal->mailbox_id, req->calendar_id, id, req->name, 0, NULL);
	if (!journal(s, &j, err) || !touch(s, TOUCH_CALENDAR, req->calendar_id, err) ||
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
static gboolean delete_locked(pgstore *s, store_item *i, gint64 mailbox_id,
			      GError **err)
{
	pg_args a = { 0 };
	journal_entry j = { .op = "delete", .item_id = i->id,
			    .calendar_id = i->calendar_id, .name = i->name,
			    .uid = i->uid, .old_version = i->version };

	j.old_data = g_bytes_get_data(i->data, &j.old_len);
	pg_arg_i64(&a, i->id);
	log_change(s, STORE_CHANGE_ITEM_DELETE, mailbox_id, i->calendar_id, i->id,
		   i->name, 0, NULL);
	return pg_exec(s, "DELETE FROM items WHERE id = $1", &a, "delete item", err) &&
	       journal(s, &j, err) && touch(s, TOUCH_CALENDAR, i->calendar_id, err);
}

/* Lock the calendars of item id (and target, when not 0) in id order, so
 * that two writers never wait for each other; then read the item again,
 * in case it moved before the lock was taken.  The item, or NULL. */
static store_item *lock_item(pgstore *s, gint64 id, gint64 target,
			     store_calendar **cal, store_calendar **target_cal,
			     GError **err)
{
	for (int tries = 0; tries < 5; tries++) {
		store_item *i = item_get_locked(s, id, TRUE, err);
		gint64 lo, hi;

		if (!i)
			return NULL;
		lo = target ? MIN(i->calendar_id, target) : i->calendar_id;
		hi = target ? MAX(i->calendar_id, target) : i->calendar_id;
		store_calendar_free(*cal);
		*cal = calendar_get_locked(s, lo, TRUE, err);
		if (*cal && hi != lo) {
			store_calendar *c2 = calendar_get_locked(s, hi, TRUE, err);

			if (!c2) {
				store_item_free(i);
				return NULL;
			}
			if (lo != i->calendar_id) {
				if (target_cal)
					*target_cal = *cal;
				else
					store_calendar_free(*cal);
				*cal = c2;
			} else if (target_cal) {
				*target_cal = c2;
			} else {
				store_calendar_free(c2);
			}
		} else if (*cal && target_cal) {
			*target_cal = NULL;
		}
		if (!*cal) {
			store_item_free(i);
			return NULL;
		}
		store_item_free(i);
		i = item_get_locked(s, id, TRUE, err);
		if (!i || i->calendar_id == (*cal)->id)
			return i;
		store_item_free(i);
		if (target_cal)
			g_clear_pointer(target_cal, store_calendar_free);
	}
	g_set_error(err, CALFS_ERROR, CALFS_ERROR_BUSY, "item %" G_GINT64_FORMAT
		    ": kept moving while being locked", id);
	return NULL;
}

static gboolean pg_item_delete(store *base, gint64 id, GError **err)
{
	pgstore *s = pgstore_of(base);
	store_item *i = NULL;
	store_calendar *cal = NULL;
	gboolean ok = FALSE;

	g_mutex_lock(&s->lock);
	if (!begin(s, err))
		goto out;
	if (!(i = lock_item(s, id, 0, &cal, NULL, err)) ||
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

static gboolean pg_item_rename(store *base, gint64 id, gint64 calendar_id,
			       const char *name, GError **err)
{
	pgstore *s = pgstore_of(base);
	store_item *i = NULL, *target = NULL, *other = NULL;
	store_calendar *from = NULL, *to = NULL;
	pg_args a = { 0 };
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
	if (!(i = lock_item(s, id, calendar_id, &from, &to, err)))
		goto fail;
	if (!to)
		to = calendar_get_locked(s, calendar_id, FALSE, err);
	if (!to)
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
	if (target && !delete_locked(s, target, to->mailbox_id, err))
		goto fail;
	pg_arg_i64(&a, calendar_id);
	pg_arg_text(&a, name);
	pg_arg_i64(&a, now_ns());
	pg_arg_i64(&a, id);
	j.uid = i->uid;
	j.old_calendar_id = i->calendar_id;
	j.old_name = i->name;
	j.old_version = j.new_version = i->version;
	log_change(s, STORE_CHANGE_ITEM_RENAME, to->mailbox_id, calendar_id, id,
		   name, i->calendar_id, i->name);
	if (!pg_exec(s, "UPDATE items SET calendar_id = $1, name = $2,"
		     " mtime_ns = greatest($3::bigint, mtime_ns + 1) WHERE id = $4",
		     &a, "rename item", err) || !journal(s, &j, err) ||
	    !touch(s, TOUCH_CALENDAR, calendar_id, err) ||
	    (i->calendar_id != calendar_id &&
	     !touch(s, TOUCH_CALENDAR, i->calendar_id, err)) ||
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
	store_calendar_free(from);
	store_calendar_free(to);
	return ok;
}

static gboolean pg_item_set_checked(store *base, gint64 id, gint64 version,
				    const char *key, GError **err)
{
	pgstore *s = pgstore_of(base);
	pg_args a = { 0 };
	gboolean ok;

	pg_arg_text(&a, key);
	pg_arg_i64(&a, id);
	pg_arg_i64(&a, version);
	g_mutex_lock(&s->lock);
	ok = pg_exec(s, "UPDATE items SET checked = $1 WHERE id = $2 AND version = $3",
		     &a, "mark item checked", err);
	g_mutex_unlock(&s->lock);
	return ok;
}

static GPtrArray *pg_item_scan(store *base, gint64 calendar_id, const char *contains,
			       GError **err)
{
	pgstore *s = pgstore_of(base);
	pg_args a = { 0 };
	GPtrArray *r;

	pg_arg_i64(&a, calendar_id);
	pg_arg_bytes(&a, contains, strlen(contains));
	g_mutex_lock(&s->lock);
	r = pg_collect(s, "SELECT " ITEM_COLS_DATA " FROM items WHERE calendar_id = $1"
		       " AND position($2::bytea IN data) > 0 ORDER BY id", &a,
		       row_item_data, (GDestroyNotify)store_item_free, err);
	g_mutex_unlock(&s->lock);
	return r;
}

static gboolean pg_probe(store *base, int wait_ms, GError **err)
{
	pgstore *s = pgstore_of(base);
	gboolean ok;

	(void)wait_ms;	/* row locks wait for the rows, not the store */
	g_mutex_lock(&s->lock);
	ok = s->batch || pg_exec(s, "SELECT 1", NULL, "probe", err);
	g_mutex_unlock(&s->lock);
	return ok;
}

static gint64 pg_run_begin(store *base, const char *command, GError **err)
{
	pgstore *s = pgstore_of(base);
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

static const char *pg_describe(store *base)
{
	return pgstore_of(base)->describe;
}

static const char *pg_origin(store *base)
{
	return pgstore_of(base)->origin;
}

static void pg_close(store *base)
{
	pgstore *s = pgstore_of(base);

	if (s->listen)
		pglisten_stop(s->listen);
	if (s->conn)
		PQfinish(s->conn);
	g_hash_table_destroy(s->prepared);
	pending_clear(s->pending, 0);
	g_array_unref(s->pending);
	g_mutex_clear(&s->lock);
	g_free(s->url);
	g_free(s->describe);
	g_free(s->origin);
	g_free(s->run_command);
	g_free(s);
}

static const store_ops pg_ops = {
	.close = pg_close,
	.describe = pg_describe,
	.origin = pg_origin,
	.run_begin = pg_run_begin,
	.mailbox_list = pg_mailbox_list,
	.mailbox_get = pg_mailbox_get,
	.mailbox_find = pg_mailbox_find,
	.mailbox_create = pg_mailbox_create,
	.mailbox_delete = pg_mailbox_delete,
	.mailbox_set_owner = pg_mailbox_set_owner,
	.mailbox_set_timezone = pg_mailbox_set_timezone,
	.calendar_list = pg_calendar_list,
	.calendar_get = pg_calendar_get,
	.calendar_find = pg_calendar_find,
	.calendar_create = pg_calendar_create,
	.calendar_delete = pg_calendar_delete,
	.calendar_set_meta = pg_calendar_set_meta,
	.item_list = pg_item_list,
	.item_get = pg_item_get,
	.item_find = pg_item_find,
	.item_find_uid = pg_item_find_uid,
	.item_reserve_id = pg_item_reserve_id,
	.item_put = pg_item_put,
	.item_delete = pg_item_delete,
	.item_rename = pg_item_rename,
	.changes_since = pgstore_changes_since,
	.stats = pgstore_stats,
	.root_mtime = pgstore_root_mtime,
	.last_change = pgstore_last_change,
	.probe = pg_probe,
	.batch_begin = pg_batch_begin,
	.batch_end = pg_batch_end,
	.item_scan = pg_item_scan,
	.item_set_checked = pg_item_set_checked,
	.runs_list = pgstore_runs_list,
	.journal_list = pgstore_journal_list,
	.reply_get = pgstore_reply_get,
	.reply_put = pgstore_reply_put,
	.mailbox_stamp = pgstore_mailbox_stamp,
	.zone_scan_get = pgstore_zone_scan_get,
	.zone_scan_put = pgstore_zone_scan_put,
};

/* Create the schema (or upgrade it), one host at a time. */
static gboolean setup_schema(pgstore *s, GError **err)
{
	PGresult *r;
	pg_args a = { 0 };
	gint64 v;

	if (!begin(s, err))
		return FALSE;
	pg_arg_i64(&a, LOCK_SCHEMA);
	if (!pg_exec(s, "SELECT pg_advisory_xact_lock($1)", &a, "lock schema", err))
		goto fail;
	v = pg_scalar(s, "SELECT (to_regclass('meta') IS NOT NULL)::int::int8", NULL, err);
	if (v < 0)
		goto fail;
	if (v == 1 && (v = pg_scalar(s, "SELECT coalesce((SELECT value FROM meta"
				   " WHERE key = 'schema_version'), 0)", NULL, err)) < 0)
		goto fail;
	if (v > SCHEMA_VERSION) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_IO,
			    "store %s: schema version %" G_GINT64_FORMAT
			    " is newer than this calfs (%d)", s->describe, v,
			    SCHEMA_VERSION);
		goto fail;
	}
	if (v < SCHEMA_VERSION) {
		r = PQexec(s->conn, schema);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			set_error(s, r, err, "create schema");
			PQclear(r);
			goto fail;
		}
		PQclear(r);
		a.n = 0;
		pg_arg_i64(&a, SCHEMA_VERSION);
		if (!pg_exec(s, "INSERT INTO meta(key, value) VALUES('schema_version', $1)"
			     " ON CONFLICT(key) DO UPDATE SET value = EXCLUDED.value",
			     &a, "set schema version", err))
			goto fail;
	}
	return commit(s, err);
fail:
	rollback(s);
	return FALSE;
}

store *pgstore_open(const char *url, const char *origin, GError **err)
{
	pgstore *s = g_new0(pgstore, 1);

	s->base.ops = &pg_ops;
	g_mutex_init(&s->lock);
	s->prepared = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
	s->pending = g_array_new(FALSE, FALSE, sizeof(pg_pending));
	s->url = g_strdup(url);
	{
		char *r = pgstore_redact(url);

		s->describe = g_strdup_printf("postgresql %s", r);
		g_free(r);
	}
	s->origin = origin ? g_strdup(origin)
			   : g_strdup_printf("pid:%d", (int)getpid());
	s->conn = PQconnectdb(url);
	if (PQstatus(s->conn) != CONNECTION_OK) {
		char *m = pg_conn_error(s->conn);

		g_set_error(err, CALFS_ERROR, CALFS_ERROR_IO, "store %s: %s",
			    s->describe, m);
		g_free(m);
		goto fail;
	}
	PQsetNoticeProcessor(s->conn, quiet_notice, NULL);
	if (!pg_exec(s, "SET client_min_messages = warning", NULL, "configure", err) ||
	    !setup_schema(s, err))
		goto fail;
	return &s->base;
fail:
	pg_close(&s->base);
	return NULL;
}
