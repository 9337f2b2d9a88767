/* store_pg.c - the SQL store's driver for a PostgreSQL server (libpq) */
#include "store_pg.h"
#include "store_pg_impl.h"
#include "error.h"
#include "log.h"

#include <endian.h>
#include <string.h>

/* pg_advisory_xact_lock keys: the change log's order, schema creation */
#define LOCK_CHANGES "SELECT pg_advisory_xact_lock(6517400781057)"
#define LOCK_SCHEMA "SELECT pg_advisory_xact_lock(6517400781058)"
/* type oids (catalog/pg_type.h) */
#define INT8OID 20
#define TEXTOID 25
#define BYTEAOID 17
#define BYTEAARRAYOID 1001

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
	/* an item's delete deletes its verdict (store_sql_items.c) */
	"CREATE TABLE IF NOT EXISTS checks("
	" item_id bigint PRIMARY KEY,"
	" version bigint NOT NULL,"
	" key text NOT NULL);"
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
	" old_version bigint, new_version bigint,"
	" note text);"
	"ALTER TABLE journal ADD COLUMN IF NOT EXISTS note text;"
	"CREATE INDEX IF NOT EXISTS journal_by_run ON journal(run_id, op);"
	"CREATE INDEX IF NOT EXISTS journal_by_calendar ON journal(calendar_id);"
	"CREATE INDEX IF NOT EXISTS journal_by_old_calendar ON journal(old_calendar_id);"
	"CREATE INDEX IF NOT EXISTS journal_by_item ON journal(item_id);"
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
	/* every host following the log hears of each change at once: of
	 * the last a statement wrote, once (an import's batch writes
	 * hundreds in one).  (An older calfs made a trigger of each row
	 * calling calfs_changed(), and makes it again when it opens the
	 * store: either tells the same seq last.) */
	"CREATE OR REPLACE FUNCTION calfs_changes_written() RETURNS trigger"
	" LANGUAGE plpgsql AS $$ BEGIN"
	" PERFORM pg_notify('calfs_changes', last::text)"
	" FROM (SELECT max(seq) AS last FROM written) w WHERE last IS NOT NULL;"
	" RETURN NULL; END $$;"
	"DROP TRIGGER IF EXISTS changes_notify ON changes;"
	"CREATE TRIGGER changes_notify AFTER INSERT ON changes"
	" REFERENCING NEW TABLE AS written"
	" FOR EACH STATEMENT EXECUTE FUNCTION calfs_changes_written();";


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

pgconn *pgstore_conn(sqlstore *s)
{
	return s->conn;
}

char *pgstore_conn_error(PGconn *conn)
{
	const char *m = conn ? PQerrorMessage(conn) : NULL;
	const char *nl;

	if (!m || !*m)
		return g_strdup("no connection");
	nl = strchr(m, '\n');
	return g_strndup(m, nl ? (gsize)(nl - m) : strlen(m));
}

/* The error code of failed result r. */
static int error_code(PGresult *r)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

	if (state && !strcmp(state, "23505"))
		return CALFS_ERROR_EXISTS;
	if (state && (!strcmp(state, "40001") || !strcmp(state, "40P01") ||
		      !strcmp(state, "55P03")))
		return CALFS_ERROR_BUSY;
	return CALFS_ERROR_IO;
}

/* Turn a failed result (or a dead connection) into a CALFS_ERROR. */
static void set_error(sqlstore *s, PGresult *r, GError **err, const char *what)
{
	const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	char *m = msg ? g_strdup(msg) : pgstore_conn_error(pgstore_conn(s)->conn);

	g_set_error(err, CALFS_ERROR, error_code(r), "store %s: %s: %s", s->describe, what, m);
	g_free(m);
}

static void quiet_notice(void *arg, const char *message)
{
	(void)arg;
	log_debug("postgresql: %s", message);
}

/* Reopen a lost connection (outside a transaction): TRUE when it is up.
 * The listener says when the server goes away; this says when it cannot
 * be reached (once) and when it can again. */
static gboolean reconnect(sqlstore *s)
{
	pgconn *c = pgstore_conn(s);

	if (PQstatus(c->conn) == CONNECTION_OK)
		return TRUE;
	PQreset(c->conn);
	if (PQstatus(c->conn) != CONNECTION_OK) {
		if (!c->lost_since) {
			char *m = pgstore_conn_error(c->conn);

			c->lost_since = g_get_monotonic_time();
			log_warning("store %s: unreachable (%s); retrying on each request",
				    s->describe, m);
			g_free(m);
		}
		return FALSE;
	}
	g_hash_table_remove_all(c->prepared);
	if (c->lost_since)
		log_notice("store %s: reachable again after %.1f s", s->describe,
			   (g_get_monotonic_time() - c->lost_since) / 1e6);
	else
		log_notice("store %s: reconnected", s->describe);
	c->lost_since = 0;
	return TRUE;
}

/* sql with ?N made $N (PostgreSQL's numbered parameters). */
static char *dollars(const char *sql)
{
	GString *out = g_string_sized_new(strlen(sql) + 8);
	gboolean quoted = FALSE;

	for (const char *p = sql; *p; p++) {
		if (*p == '\'')
			quoted = !quoted;
		g_string_append_c(out, !quoted && *p == '?' && g_ascii_isdigit(p[1])
				  ? '$' : *p);
	}
	return g_string_free(out, FALSE);
}

/* The name of the prepared statement for sql, preparing it on first use
 * with the types of a; NULL with *fail the failed result. */
static const char *prepared(pgconn *c, const char *sql, const sql_args *a,
			    PGresult **fail)
{
	const char *name = g_hash_table_lookup(c->prepared, sql);
	Oid types[SQL_MAX_ARGS];
	char *text, *n;
	PGresult *r;

	*fail = NULL;
	if (name)
		return name;
	for (int i = 0; a && i < a->n; i++)
		types[i] = a->v[i].type == SQL_INT ? INT8OID
			 : a->v[i].type == SQL_TEXT ? TEXTOID
			 : a->v[i].type == SQL_BLOBS ? BYTEAARRAYOID : BYTEAOID;
	n = g_strdup_printf("c%u", g_hash_table_size(c->prepared));
	text = dollars(sql);
	r = PQprepare(c->conn, n, text, a ? a->n : 0, types);
	g_free(text);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		*fail = r;
		g_free(n);
		return NULL;
	}
	PQclear(r);
	g_hash_table_insert(c->prepared, (gpointer)sql, n);
	return n;
}

/* a's values as libpq takes them (nums holds the integers' text). */
static void args_values(const sql_args *a, const char **values, int *lengths, int *formats,
			char (*nums)[24])
{
	for (int i = 0; a && i < a->n; i++) {
		/* bytes in binary */
		formats[i] = a->v[i].type == SQL_BLOB || a->v[i].type == SQL_BLOBS;
		lengths[i] = (int)a->v[i].len;
		if (a->v[i].null) {
			values[i] = NULL;
		} else if (a->v[i].type == SQL_INT) {
			g_snprintf(nums[i], sizeof(nums[i]), "%" G_GINT64_FORMAT, a->v[i].i);
			values[i] = nums[i];
		} else {
			values[i] = a->v[i].p;
		}
	}
}

static PGresult *run_once(pgconn *c, const char *sql, const sql_args *a)
{
	const char *values[SQL_MAX_ARGS];
	int lengths[SQL_MAX_ARGS], formats[SQL_MAX_ARGS];
	char nums[SQL_MAX_ARGS][24];
	PGresult *fail;
	const char *name = prepared(c, sql, a, &fail);

	if (!name)
		return fail;
	args_values(a, values, lengths, formats, nums);
	return PQexecPrepared(c->conn, name, a ? a->n : 0, values, lengths, formats, 1);
}

static gboolean result_ok(PGresult *r)
{
	ExecStatusType st = PQresultStatus(r);

	return st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK;
}

/* ---- statements sent without waiting (libpq's pipeline mode) ---- */

/* Statements sent before their results are read: a transaction's few
 * rows of journal and savepoints, whose results are a few bytes each, so
 * that neither side's buffers fill. */
#define MAX_SENT 256

/* Note the first failure of a sent statement: what it did, and why. */
static void sent_failed(pgconn *c, const char *what, PGresult *r)
{
	const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	char *m = msg ? g_strdup(msg) : pgstore_conn_error(c->conn);

	if (!c->failed) {
		c->failed = g_strdup_printf("%s: %s", what, m);
		c->failed_code = error_code(r);
	}
	g_free(m);
}

/* Read the results of the statements sent, and leave pipeline mode.  A
 * failure among them is kept in c->failed, except that of the last one
 * when it is wanted: its result is returned (NULL when it gave none). */
static PGresult *read_sent(pgconn *c, gboolean want_last)
{
	guint done = 0, nulls = 0, n = c->sent->len;
	PGresult *last = NULL;

	if (!n)
		return NULL;
	if (!PQpipelineSync(c->conn)) {
		sent_failed(c, c->sent->pdata[0], NULL);
		goto out;
	}
	/* each statement's result, then NULL; then the sync's */
	for (;;) {
		PGresult *r = PQgetResult(c->conn);
		ExecStatusType st;

		if (!r) {
			/* one NULL ends each statement; more mean a lost
			 * connection, which gives no sync */
			if (++nulls > n + 1 || PQstatus(c->conn) != CONNECTION_OK) {
				if (!want_last || done + 1 < n)
					sent_failed(c, c->sent->pdata[MIN(done, n - 1)], NULL);
				break;
			}
			continue;
		}
		st = PQresultStatus(r);
		if (st == PGRES_PIPELINE_SYNC) {
			PQclear(r);
			break;
		}
		if (want_last && done + 1 == n && !last) {
			last = r;
			done++;
			continue;
		}
		if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_PIPELINE_ABORTED)
			sent_failed(c, c->sent->pdata[MIN(done, n - 1)], r);
		done++;
		PQclear(r);
	}
out:
	g_ptr_array_set_size(c->sent, 0);
	(void)PQexitPipelineMode(c->conn);
	return last;
}

/* Send prepared statement name with a in pipeline mode (entered when
 * nothing was sent yet); FALSE when libpq refuses. */
static gboolean send_prepared(pgconn *c, const char *name, const sql_args *a, const char *what)
{
	const char *values[SQL_MAX_ARGS];
	int lengths[SQL_MAX_ARGS], formats[SQL_MAX_ARGS];
	char nums[SQL_MAX_ARGS][24];

	if (!c->sent->len && !PQenterPipelineMode(c->conn))
		return FALSE;
	args_values(a, values, lengths, formats, nums);
	g_ptr_array_add(c->sent, (gpointer)what);
	if (PQsendQueryPrepared(c->conn, name, a ? a->n : 0, values, lengths, formats, 1))
		return TRUE;
	sent_failed(c, what, NULL);
	return FALSE;
}

/* Whether statement sql may run: the results of those sent are read
 * first, and after a failure among them only the ROLLBACK runs (which
 * forgets it); FALSE with err set. */
static gboolean may_run(sqlstore *s, const char *sql, GError **err)
{
	pgconn *c = pgstore_conn(s);

	(void)read_sent(c, FALSE);
	if (!c->failed)
		return TRUE;
	if (!strcmp(sql, "ROLLBACK")) {
		g_clear_pointer(&c->failed, g_free);
		return TRUE;
	}
	g_set_error(err, CALFS_ERROR, c->failed_code, "store %s: %s", s->describe, c->failed);
	return FALSE;
}

static const sql_driver driver;

static gboolean pg_run(sqlstore *s, const char *sql, const sql_args *a,
		       sql_each_fn each, gpointer data, const char *what,
		       GError **err)
{
	pgconn *c = pgstore_conn(s);
	PGresult *r;
	sql_row row = { &driver, NULL, 0 };
	const char *name = c->sent->len && !c->failed ? g_hash_table_lookup(c->prepared, sql)
						      : NULL;

	if (name && send_prepared(c, name, a, what)) {
		/* after those sent, in the same round trip */
		r = read_sent(c, TRUE);
		if (c->failed) {
			PQclear(r);
			return may_run(s, sql, err);
		}
	} else {
		if (!may_run(s, sql, err))
			return FALSE;
		if (!s->in_txn && !reconnect(s)) {
			set_error(s, NULL, err, what);
			return FALSE;
		}
		r = run_once(c, sql, a);
	}
	if (!result_ok(r) && !s->in_txn && PQstatus(c->conn) != CONNECTION_OK) {
		/* the server went away between two operations: once more */
		PQclear(r);
		r = reconnect(s) ? run_once(c, sql, a) : NULL;
	}
	if (!r || !result_ok(r)) {
		set_error(s, r, err, what);
		PQclear(r);
		return FALSE;
	}
	row.res = r;
	for (row.row = 0; each && row.row < PQntuples(r); row.row++)
		each(&row, data);
	PQclear(r);
	return TRUE;
}

/* driver.send: in pipeline mode, once sql is prepared. */
static gboolean pg_send(sqlstore *s, const char *sql, const sql_args *a,
			const char *what, GError **err)
{
	pgconn *c = pgstore_conn(s);
	const char *name = g_hash_table_lookup(c->prepared, sql);

	if (!name || c->failed || c->sent->len >= MAX_SENT)
		return pg_run(s, sql, a, NULL, NULL, what, err);
	if (send_prepared(c, name, a, what))
		return TRUE;
	if (!c->sent->len)	/* not in pipeline mode: run it */
		return pg_run(s, sql, a, NULL, NULL, what, err);
	return may_run(s, sql, err);
}

static gboolean pg_script(sqlstore *s, const char *sql, GError **err)
{
	PGresult *r;

	if (!may_run(s, sql, err))
		return FALSE;
	r = PQexec(pgstore_conn(s)->conn, sql);
	gboolean ok = PQresultStatus(r) == PGRES_COMMAND_OK ||
		      PQresultStatus(r) == PGRES_TUPLES_OK;

	if (!ok)
		set_error(s, r, err, "schema");
	PQclear(r);
	return ok;
}

static gint64 pg_i64(sql_row *r, int col)
{
	const char *v = PQgetvalue(r->res, r->row, col);
	guint64 be64;
	guint32 be32;
	guint16 be16;

	if (PQgetisnull(r->res, r->row, col))
		return 0;
	switch (PQgetlength(r->res, r->row, col)) {
	case 8:
		memcpy(&be64, v, 8);
		return (gint64)be64toh(be64);
	case 4:
		memcpy(&be32, v, 4);
		return (gint32)be32toh(be32);
	case 2:
		memcpy(&be16, v, 2);
		return (gint16)be16toh(be16);
	default:
		return 0;
	}
}

static char *pg_text(sql_row *r, int col)
{
	if (PQgetisnull(r->res, r->row, col))
		return NULL;
	return g_strndup(PQgetvalue(r->res, r->row, col),
			 PQgetlength(r->res, r->row, col));
}

static GBytes *pg_bytes(sql_row *r, int col)
{
	if (PQgetisnull(r->res, r->row, col))
		return NULL;
	return g_bytes_new(PQgetvalue(r->res, r->row, col),
			   PQgetlength(r->res, r->row, col));
}

static gboolean pg_null(sql_row *r, int col)
{
	return PQgetisnull(r->res, r->row, col);
}

/* One host at a time makes the schema: the lock, then the version. */
static gint64 pg_schema_version(sqlstore *s, GError **err)
{
	gint64 n;

	if (!sqlstore_exec(s, LOCK_SCHEMA, NULL, "lock schema", err))
		return -1;
	n = sqlstore_scalar(s, "SELECT count(*) FROM pg_tables WHERE tablename = 'meta'"
			    " AND schemaname = current_schema()", NULL, err);
	if (n <= 0)
		return n;	/* -1: the error; 0: a new database */
	return sqlstore_scalar(s, "SELECT coalesce((SELECT value FROM meta"
			       " WHERE key = 'schema_version'), 0)", NULL, err);
}

static gboolean pg_setup(sqlstore *s, gint64 version, GError **err)
{
	(void)version;	/* version 3 is PostgreSQL's first; the script adds 4's
			 * note and 5's checks */
	return pg_script(s, schema, err);
}

/* Whether the listener vouches that nothing after seq was logged. */
static gboolean pg_nothing_after(sqlstore *s, gint64 seq)
{
	pglisten *l = __atomic_load_n(&pgstore_conn(s)->listen, __ATOMIC_ACQUIRE);

	return l && pglisten_healthy(l) &&
	       seq >= __atomic_load_n(&s->known_last, __ATOMIC_ACQUIRE);
}

/* This process follows the change log: listen from now on (s->lock held). */
static void pg_following(sqlstore *s)
{
	pgconn *c = pgstore_conn(s);
	GError *e = NULL;
	pglisten *l;

	if (c->listen || c->listen_failed)
		return;
	l = pglisten_start(s, c->url, &e);
	__atomic_store_n(&c->listen, l, __ATOMIC_RELEASE);
	if (!l) {
		log_warning("%s; following the change log by polling", e->message);
		g_error_free(e);
		c->listen_failed = TRUE;
	}
}

static void pg_close(sqlstore *s)
{
	pgconn *c = pgstore_conn(s);

	if (!c)
		return;
	if (c->listen)
		pglisten_stop(c->listen);
	if (c->conn)
		PQfinish(c->conn);	/* what was sent and not committed is lost */
	g_hash_table_destroy(c->prepared);
	g_ptr_array_unref(c->sent);
	g_free(c->failed);
	g_free(c->url);
	g_free(c);
}

static sqlstore *pg_peer(sqlstore *s, GError **err);

static const sql_driver driver = {
	.postgresql = TRUE,
	.row_locks = TRUE,
	.item_near = 64,
	.begin = "BEGIN",
	.lock_changes = LOCK_CHANGES,
	.relaxed = "SET LOCAL synchronous_commit = off",
	.run = pg_run,
	.send = pg_send,
	.script = pg_script,
	.col_i64 = pg_i64,
	.col_text = pg_text,
	.col_bytes = pg_bytes,
	.col_null = pg_null,
	.setup = pg_setup,
	.schema_version = pg_schema_version,
	.nothing_after = pg_nothing_after,
	.following = pg_following,
	.peer = pg_peer,
	.close = pg_close,
};

/* A connection of its own to the same database (it follows nothing: no
 * listener, no cache of rows). */
static sqlstore *pg_peer(sqlstore *s, GError **err)
{
	store *p = pgstore_open(pgstore_conn(s)->url, s->origin, STORE_EXISTING, err);

	return p ? sqlstore_of(p) : NULL;
}

store *pgstore_open(const char *url, const char *origin, store_open_mode mode,
		    GError **err)
{
	pgconn *c = g_new0(pgconn, 1);
	char *redacted = pgstore_redact(url);
	char *describe = g_strdup_printf("postgresql %s", redacted);
	sqlstore *s;

	c->url = g_strdup(url);
	c->prepared = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
	c->sent = g_ptr_array_new();
	s = sqlstore_new(&driver, c, describe, origin);
	g_free(redacted);
	g_free(describe);
	c->conn = PQconnectdb(url);
	if (PQstatus(c->conn) != CONNECTION_OK) {
		char *m = pgstore_conn_error(c->conn);

		g_set_error(err, CALFS_ERROR, CALFS_ERROR_IO, "store %s: %s",
			    s->describe, m);
		g_free(m);
		goto fail;
	}
	PQsetNoticeProcessor(c->conn, quiet_notice, NULL);
	if (!pg_script(s, "SET client_min_messages = warning", err) ||
	    !sqlstore_setup(s, mode, err))
		goto fail;
	return &s->base;
fail:
	sqlstore_free(s);
	return NULL;
}
