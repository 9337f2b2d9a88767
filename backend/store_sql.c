/* store_sql.c - the SQL store (store_sql.h): running statements, the row
 * cache, transactions and the journal, mailboxes and calendars, opening;
 * the items are in store_sql_items.c, the logs in store_sql_log.c */
#include "store_sql.h"
#include "error.h"
#include "item.h"

#include <string.h>
#include <time.h>
#include <unistd.h>

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

/* ---- parameters and rows ---- */

static void arg(sql_args *a, sql_type type, gboolean null, gint64 i,
		const void *p, gsize len)
{
	g_assert(a->n < SQL_MAX_ARGS);
	a->v[a->n].type = type;
	a->v[a->n].null = null;
	a->v[a->n].i = i;
	a->v[a->n].p = p;
	a->v[a->n].len = len;
	a->n++;
}

void sql_arg_i64(sql_args *a, gint64 v)
{
	arg(a, SQL_INT, FALSE, v, NULL, 0);
}

void sql_arg_int_null(sql_args *a)
{
	arg(a, SQL_INT, TRUE, 0, NULL, 0);
}

void sql_arg_text(sql_args *a, const char *v)
{
	arg(a, SQL_TEXT, v == NULL, 0, v, v ? strlen(v) : 0);
}

void sql_arg_blob(sql_args *a, const void *data, gsize len)
{
	arg(a, SQL_BLOB, data == NULL, 0, data ? data : "", len);
}

void sql_array_init(sql_array *a)
{
	a->g = g_string_new("{");
}

void sql_array_i64(sql_array *a, gint64 v)
{
	if (a->g->len > 1)
		g_string_append_c(a->g, ',');
	g_string_append_printf(a->g, "%" G_GINT64_FORMAT, v);
}

void sql_array_text(sql_array *a, const char *v)
{
	if (a->g->len > 1)
		g_string_append_c(a->g, ',');
	if (!v) {
		g_string_append(a->g, "NULL");
		return;
	}
	g_string_append_c(a->g, '"');
	for (; *v; v++) {
		if (*v == '"' || *v == '\\')
			g_string_append_c(a->g, '\\');
		g_string_append_c(a->g, *v);
	}
	g_string_append_c(a->g, '"');
}

void sql_blobs_init(sql_blobs *a)
{
	/* dimensions, flags (no NULL), element type (bytea), length, lower
	 * bound: the length is set at sql_arg_blobs */
	guint32 head[5] = { g_htonl(1), 0, g_htonl(17 /* bytea's oid */), 0, g_htonl(1) };

	a->b = g_byte_array_new();
	a->n = 0;
	g_byte_array_append(a->b, (const guint8 *)head, sizeof(head));
}

void sql_blobs_add(sql_blobs *a, const void *data, gsize len)
{
	guint32 n = g_htonl((guint32)len);

	g_byte_array_append(a->b, (const guint8 *)&n, sizeof(n));
	g_byte_array_append(a->b, data, (guint)len);
	a->n++;
}

void sql_arg_blobs(sql_args *args, sql_blobs *a)
{
	guint32 n = g_htonl(a->n);

	memcpy(a->b->data + 12, &n, sizeof(n));
	arg(args, SQL_BLOBS, FALSE, 0, a->b->data, a->b->len);
}

void sql_blobs_clear(sql_blobs *a)
{
	g_clear_pointer(&a->b, g_byte_array_unref);
}

char *sql_array_end(sql_array *a)
{
	g_string_append_c(a->g, '}');
	return g_string_free(g_steal_pointer(&a->g), FALSE);
}

gint64 sql_i64(sql_row *r, int col)
{
	return r->drv->col_i64(r, col);
}

char *sql_text(sql_row *r, int col)
{
	return r->drv->col_text(r, col);
}

GBytes *sql_bytes(sql_row *r, int col)
{
	return r->drv->col_bytes(r, col);
}

gboolean sql_null(sql_row *r, int col)
{
	return r->drv->col_null(r, col);
}

/* ---- running statements ---- */

/* Before any statement: the queued new items, sent first (FALSE with
 * err set when they fail). */
static gboolean queue_sent(sqlstore *s, GError **err)
{
	return !s->queued->len || sqlstore_send_queued(s, err);
}

gboolean sqlstore_each(sqlstore *s, const char *sql, const sql_args *a, sql_each_fn each,
		       gpointer data, const char *what, GError **err)
{
	return queue_sent(s, err) && s->drv->run(s, sql, a, each, data, what, err);
}

gboolean sqlstore_exec(sqlstore *s, const char *sql, const sql_args *a,
		       const char *what, GError **err)
{
	return sqlstore_each(s, sql, a, NULL, NULL, what, err);
}

gboolean sqlstore_send(sqlstore *s, const char *sql, const sql_args *a,
		       const char *what, GError **err)
{
	if (!s->in_txn || !s->drv->send)
		return sqlstore_exec(s, sql, a, what, err);
	return queue_sent(s, err) && s->drv->send(s, sql, a, what, err);
}

gboolean sqlstore_exec_relaxed(sqlstore *s, const char *sql, const sql_args *a,
			       const char *what, GError **err)
{
	/* inside a transaction, sent: a write whose loss costs nothing
	 * needs no wait (fix records a mailbox's verdicts in one batch) */
	if (s->in_txn)
		return sqlstore_send(s, sql, a, what, err);
	if (!s->drv->relaxed)
		return sqlstore_exec(s, sql, a, what, err);
	if (!sqlstore_begin(s, err))
		return FALSE;
	if (!sqlstore_exec(s, s->drv->relaxed, NULL, what, err) ||
	    !sqlstore_exec(s, sql, a, what, err)) {
		sqlstore_rollback(s);
		return FALSE;
	}
	return sqlstore_commit(s, err);
}

/* A statement whose failure changes nothing more (a rollback). */
static void quietly(sqlstore *s, const char *sql)
{
	/* what the rollback forgets is not sent first */
	if (!strcmp(sql, "ROLLBACK"))
		sqlstore_drop_queued(s);
	else if (!queue_sent(s, NULL))
		s->doomed = TRUE;
	s->drv->run(s, sql, NULL, NULL, NULL, sql, NULL);
}

typedef struct {
	sql_row_fn fn;
	GPtrArray *out;
} collecting;

static void collect_row(sql_row *r, gpointer data)
{
	collecting *c = data;

	g_ptr_array_add(c->out, c->fn(r));
}

GPtrArray *sqlstore_collect(sqlstore *s, const char *sql, const sql_args *a,
			    sql_row_fn fn, GDestroyNotify free_fn, GError **err)
{
	collecting c = { fn, g_ptr_array_new_with_free_func(free_fn) };

	if (!sqlstore_each(s, sql, a, collect_row, &c, "list", err)) {
		g_ptr_array_unref(c.out);
		return NULL;
	}
	return c.out;
}

/* The first row of a single-row read, made by fn (no allocation of our
 * own: these reads are the mount's hot path). */
typedef struct {
	sql_row_fn fn;
	gpointer first;
	gint64 value;
	gboolean seen;
} first_row;

static void take_first(sql_row *r, gpointer data)
{
	first_row *f = data;

	if (f->seen)
		return;
	f->seen = TRUE;
	if (f->fn)
		f->first = f->fn(r);
	else
		f->value = sql_i64(r, 0);
}

/* Run a single-row read into f; FALSE with err set (NOTFOUND for no row).
 * (A driver fails before the first row or not at all: both read the whole
 * answer of a one-row query in one step.) */
static gboolean read_first(sqlstore *s, const char *sql, const sql_args *a,
			   first_row *f, const char *what, GError **err)
{
	if (!sqlstore_each(s, sql, a, take_first, f, what, err))
		return FALSE;
	if (!f->seen)
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_NOTFOUND, "%s: not found", what);
	return f->seen;
}

gpointer sqlstore_one(sqlstore *s, const char *sql, const sql_args *a,
		      sql_row_fn fn, const char *what, GError **err)
{
	first_row f = { .fn = fn };

	return read_first(s, sql, a, &f, what, err) ? f.first : NULL;
}

gint64 sqlstore_scalar(sqlstore *s, const char *sql, const sql_args *a,
		       GError **err)
{
	first_row f = { 0 };

	return read_first(s, sql, a, &f, sql, err) ? f.value : -1;
}

void sqlstore_note_seq(sqlstore *s, gint64 seq)
{
	gint64 cur = __atomic_load_n(&s->known_last, __ATOMIC_ACQUIRE);

	while (seq > cur &&
	       !__atomic_compare_exchange_n(&s->known_last, &cur, seq, FALSE,
					    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		;
}

/* ---- rows read while nothing changed (see store_sql.h) ---- */

/* a bound on each table; past it the table starts again.  Item rows
 * have names and UIDs: 50,000 of them were 10-15 MiB of the daemon's
 * memory serving 1,000,000 items, with 64 MiB the bound for it all. */
static const guint cache_max[] = {
	[SQL_CACHE_MAILBOX] = 50000,
	[SQL_CACHE_CALENDAR] = 50000,
	[SQL_CACHE_ITEM] = 20000,
};

static void cache_clear(sqlstore *s)
{
	for (guint k = 0; k < G_N_ELEMENTS(s->cache); k++)
		g_hash_table_remove_all(s->cache[k]);
	s->last_change = -1;
}

/* Whether the cache may be used now (emptying it when anything changed
 * since it was filled). */
gboolean sqlstore_cache_usable(sqlstore *s)
{
	int same;

	if (s->in_txn)
		return FALSE;
	if (s->drv->unchanged) {
		/* nothing committed since the rows were read: they are the
		 * store's, with no query (SQLite: a look at its WAL index) */
		if ((same = s->drv->unchanged(s, s->cache_mark)) == 1)
			return TRUE;
		cache_clear(s);
		/* rows read from now on are at least as new as the mark */
		return same == 0;
	}
	if (!s->drv->nothing_after)
		return FALSE;
	if (s->drv->nothing_after(s, s->cache_seq))
		return TRUE;
	cache_clear(s);
	/* rows read from now on are at least this new */
	s->cache_seq = __atomic_load_n(&s->known_last, __ATOMIC_ACQUIRE);
	return s->drv->nothing_after(s, s->cache_seq);
}

gpointer sqlstore_cache_get(sqlstore *s, sql_cache_kind k, gint64 id)
{
	return g_hash_table_lookup(s->cache[k], GSIZE_TO_POINTER(id));
}

/* Keep rec (a copy, which the cache now owns) under id. */
void sqlstore_cache_put(sqlstore *s, sql_cache_kind k, gint64 id, gpointer rec)
{
	if (g_hash_table_size(s->cache[k]) >= cache_max[k])
		g_hash_table_remove_all(s->cache[k]);
	g_hash_table_replace(s->cache[k], GSIZE_TO_POINTER(id), rec);
}

/* ---- transactions (see store_sql.h) ---- */

static void pending_clear(GArray *p, guint from)
{
	for (guint i = from; i < p->len; i++) {
		sql_pending *c = &g_array_index(p, sql_pending, i);

		g_free(c->name);
		g_free(c->old_name);
	}
	g_array_set_size(p, from);
}

/* The error of a batch that can only roll back (sqlstore.doomed). */
static void set_doomed(sqlstore *s, GError **err)
{
	g_set_error(err, CALFS_ERROR, CALFS_ERROR_IO,
		    "store %s: an earlier write of the batch failed", s->describe);
}

gboolean sqlstore_begin(sqlstore *s, GError **err)
{
	if (s->batch && s->doomed) {
		set_doomed(s, err);
		return FALSE;
	}
	if (s->batch) {
		s->op_mark = s->pending->len;
		s->op_run = s->run_id;
		return sqlstore_send(s, "SAVEPOINT op", NULL, "begin", err);
	}
	if (!sqlstore_exec(s, s->drv->begin, NULL, "begin", err))
		return FALSE;
	s->in_txn = TRUE;
	s->op_mark = 0;
	return TRUE;
}

/* Move the mtime of each calendar whose items the transaction wrote or
 * deleted, once each: a batch of an import touched the same calendar
 * for every item. */
static gboolean touch_calendars(sqlstore *s, GError **err)
{
	GHashTable *done = g_hash_table_new(g_int64_hash, g_int64_equal);
	gboolean ok = TRUE;

	for (guint i = 0; ok && i < s->pending->len; i++) {
		sql_pending *c = &g_array_index(s->pending, sql_pending, i);

		if ((c->kind != STORE_CHANGE_ITEM_CREATE && c->kind != STORE_CHANGE_ITEM_UPDATE &&
		     c->kind != STORE_CHANGE_ITEM_DELETE) || !c->calendar ||
		    g_hash_table_contains(done, &c->calendar))
			continue;
		g_hash_table_add(done, &c->calendar);
		ok = sqlstore_touch(s, SQL_TOUCH_CALENDAR, c->calendar, err);
	}
	g_hash_table_destroy(done);
	return ok;
}

#define SQL_LOG_CHANGE_ROW "INSERT INTO changes(time_ns, kind, mailbox_id, calendar_id," \
	" item_id, name, old_calendar_id, old_name, origin)" \
	" VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9)"
/* SQLite makes a RETURNING clause's rows in a table of their own first */
#define SQL_LOG_CHANGE SQL_LOG_CHANGE_ROW " RETURNING seq"

/* PostgreSQL: the changes in one statement, each column an array (a
 * statement is a round of the server's protocol and executor: an
 * import's batch logs hundreds).  Rows are numbered in their order. */
#define SQL_LOG_CHANGES "WITH c AS (INSERT INTO changes(time_ns, kind, mailbox_id," \
	" calendar_id, item_id, name, old_calendar_id, old_name, origin)" \
	" SELECT t, k, m, c, i, n, oc, onm, ?9 FROM unnest(?1::bigint[], ?2::bigint[]," \
	" ?3::bigint[], ?4::bigint[], ?5::bigint[], ?6::text[], ?7::bigint[], ?8::text[])" \
	" WITH ORDINALITY AS u(t, k, m, c, i, n, oc, onm, ord) ORDER BY ord RETURNING seq)" \
	" SELECT max(seq) FROM c"

/* The pending changes in one statement (PostgreSQL); the last seq, or
 * -1 with err set. */
static gint64 log_changes_at_once(sqlstore *s, GError **err)
{
	enum { TIME, KIND, MAILBOX, CALENDAR, ITEM, NAME, OLD_CALENDAR, OLD_NAME, COLUMNS };
	sql_array col[COLUMNS];
	char *lit[COLUMNS];
	sql_args a = { 0 };
	gint64 last;

	for (int k = 0; k < COLUMNS; k++)
		sql_array_init(&col[k]);
	for (guint i = 0; i < s->pending->len; i++) {
		sql_pending *c = &g_array_index(s->pending, sql_pending, i);

		sql_array_i64(&col[TIME], sqlstore_now_ns());
		sql_array_i64(&col[KIND], c->kind);
		sql_array_i64(&col[MAILBOX], c->mailbox);
		sql_array_i64(&col[CALENDAR], c->calendar);
		sql_array_i64(&col[ITEM], c->item);
		sql_array_text(&col[NAME], c->name);
		sql_array_i64(&col[OLD_CALENDAR], c->old_calendar);
		sql_array_text(&col[OLD_NAME], c->old_name);
	}
	for (int k = 0; k < COLUMNS; k++)
		sql_arg_text(&a, lit[k] = sql_array_end(&col[k]));
	sql_arg_text(&a, s->origin);
	last = sqlstore_scalar(s, SQL_LOG_CHANGES, &a, err);
	for (int k = 0; k < COLUMNS; k++)
		g_free(lit[k]);
	return last;
}

/* Write the transaction's changes to the log; the last one's seq in
 * *last. */
static gboolean flush_changes(sqlstore *s, gint64 *last, GError **err)
{
	*last = 0;
	if (s->pending->len == 0)
		return TRUE;
	if (!touch_calendars(s, err))
		return FALSE;
	if (s->drv->lock_changes &&
	    !sqlstore_exec(s, s->drv->lock_changes, NULL, "lock change log", err))
		return FALSE;
	if (s->drv->postgresql) {
		*last = log_changes_at_once(s, err);
		return *last >= 0;
	}
	for (guint i = 0; i < s->pending->len; i++) {
		sql_pending *c = &g_array_index(s->pending, sql_pending, i);
		sql_args a = { 0 };

		sql_arg_i64(&a, sqlstore_now_ns());
		sql_arg_i64(&a, c->kind);
		sql_arg_i64(&a, c->mailbox);
		sql_arg_i64(&a, c->calendar);
		sql_arg_i64(&a, c->item);
		sql_arg_text(&a, c->name);
		sql_arg_i64(&a, c->old_calendar);
		sql_arg_text(&a, c->old_name);
		sql_arg_text(&a, s->origin);
		/* only the last one's seq is wanted */
		if (i + 1 < s->pending->len) {
			if (!sqlstore_send(s, SQL_LOG_CHANGE_ROW, &a, "change log", err))
				return FALSE;
			continue;
		}
		*last = sqlstore_scalar(s, SQL_LOG_CHANGE, &a, err);
		if (*last < 0)
			return FALSE;
	}
	return TRUE;
}

void sqlstore_forget_locks(sqlstore *s)
{
	g_hash_table_remove_all(s->locked);
	g_hash_table_remove_all(s->fresh);
}

/* A run started by the transaction is negative until it commits. */
static void end_txn(sqlstore *s, gboolean committed)
{
	s->in_txn = FALSE;
	s->doomed = FALSE;
	pending_clear(s->pending, 0);
	sqlstore_forget_locks(s);
	sqlstore_drop_spare_ids(s);
	sqlstore_drop_queued(s);
	if (s->run_id < 0)
		s->run_id = committed ? -s->run_id : 0;
}

/* The first ANALYZE of checks, in verdicts written; each later one at
 * twice as many. */
#define CHECKS_ANALYZE_FIRST 256

/* PostgreSQL plans the reads of an item with the checks table as it was
 * when a connection first ran them: empty, when a store imported just
 * now was analyzed, so a sequential scan; and a fix fills it, one verdict
 * an item, under plans that scan it whole at every item read (a fix of
 * 50,025 items read 28 million rows of it, and took 30 s, not 4).  An
 * ANALYZE makes every connection plan them again.  Its failure costs only
 * speed: not reported. */
static void analyze_checks_if_due(sqlstore *s)
{
	if (!s->drv->postgresql || s->checks_marked < s->checks_analyze_at)
		return;
	s->drv->run(s, "ANALYZE checks", NULL, NULL, NULL, "analyze checks", NULL);
	s->checks_analyze_at = 2 * s->checks_marked;
}

static gboolean commit_txn(sqlstore *s, GError **err)
{
	gint64 last = 0;

	if (s->doomed)
		set_doomed(s, err);
	if (s->doomed || !flush_changes(s, &last, err) ||
	    !sqlstore_exec(s, "COMMIT", NULL, "commit", err)) {
		quietly(s, "ROLLBACK");
		end_txn(s, FALSE);
		return FALSE;
	}
	end_txn(s, TRUE);
	sqlstore_note_seq(s, last);
	analyze_checks_if_due(s);
	return TRUE;
}

gboolean sqlstore_commit(sqlstore *s, GError **err)
{
	if (s->batch) {
		if (sqlstore_send(s, "RELEASE SAVEPOINT op", NULL, "commit", err))
			return TRUE;
		sqlstore_rollback(s);
		return FALSE;
	}
	return commit_txn(s, err);
}

void sqlstore_rollback(sqlstore *s)
{
	if (s->batch) {
		quietly(s, "ROLLBACK TO SAVEPOINT op");
		quietly(s, "RELEASE SAVEPOINT op");
		pending_clear(s->pending, s->op_mark);
		sqlstore_forget_locks(s);
		sqlstore_drop_spare_ids(s);
		if (!s->op_run)
			s->run_id = 0;	/* the run was made by this operation */
	} else if (s->in_txn) {
		quietly(s, "ROLLBACK");
		end_txn(s, FALSE);
	}
}

static gboolean op_batch_begin(store *base, GError **err)
{
	sqlstore *s = sqlstore_of(base);
	gboolean ok = TRUE;

	g_mutex_lock(&s->lock);
	if (s->batch == 0) {
		ok = sqlstore_exec(s, s->drv->begin, NULL, "begin batch", err);
		s->in_txn = ok;
	}
	if (ok)
		s->batch++;
	g_mutex_unlock(&s->lock);
	return ok;
}

static gboolean op_batch_end(store *base, GError **err)
{
	sqlstore *s = sqlstore_of(base);
	gboolean ok = TRUE;

	g_mutex_lock(&s->lock);
	if (s->batch > 0 && --s->batch == 0)
		ok = commit_txn(s, err);
	g_mutex_unlock(&s->lock);
	return ok;
}

void sqlstore_log_change(sqlstore *s, store_change_kind kind, gint64 mailbox,
		       gint64 calendar, gint64 item, const char *name,
		       gint64 old_calendar, const char *old_name)
{
	sql_pending c = { kind, mailbox, calendar, item, old_calendar,
			 g_strdup(name), g_strdup(old_name) };

	g_array_append_val(s->pending, c);
}

static gint64 peers_run(sqlstore *lead, GError **err);

/* The current run, started on first use inside a write transaction.  A
 * run made by a transaction that rolls back is forgotten with it (its id
 * is kept negated until the commit).  A peer's is its lead's. */
gint64 sqlstore_current_run(sqlstore *s, GError **err)
{
	sql_args a = { 0 };
	gint64 id;

	if (s->lead)
		return peers_run(s->lead, err);
	if (s->run_id)
		return ABS(s->run_id);
	sql_arg_i64(&a, sqlstore_now_ns());
	sql_arg_text(&a, s->run_command ? s->run_command : "calfs");
	sql_arg_text(&a, s->origin);
	id = sqlstore_scalar(s, "INSERT INTO runs(started_ns, command, origin)"
		       " VALUES(?1,?2,?3) RETURNING id", &a, err);
	if (id <= 0)
		return 0;
	s->run_id = -id;
	return id;
}

/* The run of lead, for one of its peers inside the peer's transaction:
 * made now, outside any transaction, when there is none (the peer could
 * not refer to a row of another connection's open transaction). */
static gint64 peers_run(sqlstore *lead, GError **err)
{
	gint64 id = 0;

	g_mutex_lock(&lead->lock);
	if (lead->run_id > 0) {
		id = lead->run_id;
	} else if (lead->run_id < 0 || lead->in_txn) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_IO,
			    "store %s: journal run: the first connection has a"
			    " transaction open", lead->describe);
	} else if ((id = sqlstore_current_run(lead, err)) > 0) {
		lead->run_id = id;	/* committed: it was made outside a transaction */
		lead->run_for_peers = TRUE;
	}
	g_mutex_unlock(&lead->lock);
	return id;
}

/* A run made for peers that nothing was journaled under is removed
 * (s->lock held, or s no longer shared). */
static void drop_peers_run(sqlstore *s)
{
	sql_args a = { 0 };

	if (!s->run_for_peers)
		return;
	s->run_for_peers = FALSE;
	sql_arg_i64(&a, s->run_id);
	(void)sqlstore_exec(s, "DELETE FROM runs WHERE id = ?1 AND NOT EXISTS"
			    " (SELECT 1 FROM journal WHERE run_id = ?1)", &a,
			    "remove an empty run", NULL);
}


gboolean sqlstore_journal(sqlstore *s, const sql_journal_entry *j, GError **err)
{
	gint64 run = sqlstore_current_run(s, err);
	sql_args a = { 0 };

	if (!run)
		return FALSE;
	sql_arg_i64(&a, run);
	sql_arg_i64(&a, sqlstore_now_ns());
	sql_arg_text(&a, j->op);
	sql_arg_i64(&a, j->item_id);
	sql_arg_i64(&a, j->calendar_id);
	sql_arg_text(&a, j->name);
	sql_arg_text(&a, j->uid);
	sql_arg_i64(&a, j->old_calendar_id);
	sql_arg_text(&a, j->old_name);
	sql_arg_blob(&a, j->old_data, j->old_len);	/* NULL: none */
	sql_arg_i64(&a, j->old_version);
	sql_arg_i64(&a, j->new_version);
	sql_arg_text(&a, j->note);
	return sqlstore_send(s, "INSERT INTO journal(run_id, time_ns, op, item_id,"
		       " calendar_id, name, uid, old_calendar_id, old_name, old_data,"
		       " old_version, new_version, note)"
		       " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)",
		       &a, "journal", err);
}


gboolean sqlstore_touch(sqlstore *s, const char *sql, gint64 id, GError **err)
{
	sql_args a = { 0 };

	sql_arg_i64(&a, sqlstore_now_ns());
	sql_arg_i64(&a, id);
	return sqlstore_send(s, sql, &a, "touch", err);
}

static gboolean touch_root(sqlstore *s, GError **err)
{
	sql_args a = { 0 };

	sql_arg_i64(&a, sqlstore_now_ns());
	return sqlstore_exec(s, "INSERT INTO meta(key, value) VALUES('root_mtime_ns', ?1)"
			     " ON CONFLICT(key) DO UPDATE SET value = " SQL_LATER("meta.value"),
			     &a, "touch root", err);
}

/* FALSE with NOTEMPTY ("NAME holds N WHAT") when count_sql counts any
 * children of id, or with its error. */
static gboolean check_empty(sqlstore *s, const char *count_sql, gint64 id,
			    const char *name, const char *what, GError **err)
{
	sql_args a = { 0 };
	gint64 n;

	sql_arg_i64(&a, id);
	if ((n = sqlstore_scalar(s, count_sql, &a, err)) < 0)
		return FALSE;
	if (n > 0) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_NOTEMPTY,
			    "%s: %s holds %" G_GINT64_FORMAT " %s", name,
			    strcmp(what, "items") ? "mailbox" : "calendar", n, what);
		return FALSE;
	}
	return TRUE;
}

/* Insert a named row (sql ends RETURNING id): its id, or -1 with EXISTS
 * ("NAME: KIND exists") when the name is taken, or the error. */
static gpointer insert_named(sqlstore *s, const char *sql, const sql_args *a,
			     sql_row_fn fn, const char *name, const char *kind, GError **err)
{
	GError *e = NULL;
	gpointer row = sqlstore_one(s, sql, a, fn, kind, &e);

	if (row)
		return row;
	if (g_error_matches(e, CALFS_ERROR, CALFS_ERROR_EXISTS))
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_EXISTS, "%s: %s exists",
			    name, kind);
	else
		g_propagate_error(err, g_steal_pointer(&e));
	g_clear_error(&e);
	return NULL;
}

/* ---- mailboxes ---- */

#define MAILBOX_COLS "id, name, mtime_ns, owner_uid, owner_gid, mode, timezone"

static gpointer row_mailbox(sql_row *r)
{
	store_mailbox *m = g_new0(store_mailbox, 1);

	m->id = sql_i64(r, 0);
	m->name = sql_text(r, 1);
	m->mtime_ns = sql_i64(r, 2);
	m->has_owner = !sql_null(r, 3);
	m->uid = sql_i64(r, 3);
	m->gid = sql_i64(r, 4);
	m->mode = sql_i64(r, 5);
	m->timezone = sql_text(r, 6);
	return m;
}

static GPtrArray *op_mailbox_list(store *base, GError **err)
{
	sqlstore *s = sqlstore_of(base);
	GPtrArray *r;

	g_mutex_lock(&s->lock);
	r = sqlstore_collect(s, SQL_DIALECT(s,
		"SELECT " MAILBOX_COLS " FROM mailboxes ORDER BY name",
		"SELECT " MAILBOX_COLS " FROM mailboxes ORDER BY name COLLATE \"C\""),
		       NULL, row_mailbox, (GDestroyNotify)store_mailbox_free, err);
	g_mutex_unlock(&s->lock);
	return r;
}

static store_mailbox *mailbox_get_locked(sqlstore *s, gint64 id, gboolean for_update,
					 GError **err)
{
	sql_args a = { 0 };

	sql_arg_i64(&a, id);
	return sqlstore_one(s, for_update
		      ? SQL_LOCKING(s, "SELECT " MAILBOX_COLS " FROM mailboxes WHERE id = ?1")
		      : "SELECT " MAILBOX_COLS " FROM mailboxes WHERE id = ?1",
		      &a, row_mailbox, "mailbox", err);
}

static store_mailbox *op_mailbox_get(store *base, gint64 id, GError **err)
{
	sqlstore *s = sqlstore_of(base);
	gboolean cached;
	store_mailbox *m;

	g_mutex_lock(&s->lock);
	if ((cached = sqlstore_cache_usable(s)) && (m = sqlstore_cache_get(s, SQL_CACHE_MAILBOX, id)))
		m = store_mailbox_copy(m);
	else if ((m = mailbox_get_locked(s, id, FALSE, err)) && cached)
		sqlstore_cache_put(s, SQL_CACHE_MAILBOX, id, store_mailbox_copy(m));
	g_mutex_unlock(&s->lock);
	return m;
}

static store_mailbox *op_mailbox_find(store *base, const char *name, GError **err)
{
	sqlstore *s = sqlstore_of(base);
	store_mailbox *m;
	sql_args a = { 0 };
	GError *e = NULL;

	sql_arg_text(&a, name);
	g_mutex_lock(&s->lock);
	m = sqlstore_one(s, "SELECT " MAILBOX_COLS " FROM mailboxes WHERE name = ?1", &a,
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

static store_mailbox *op_mailbox_create(store *base, const char *name,
					GError **err)
{
	sqlstore *s = sqlstore_of(base);
	store_mailbox *m = NULL;
	sql_args a = { 0 };

	if (!item_name_is_valid(name)) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_NAME,
			    "'%s': not a mailbox name", name);
		return NULL;
	}
	g_mutex_lock(&s->lock);
	if (!sqlstore_begin(s, err))
		goto out;
	sql_arg_text(&a, name);
	sql_arg_i64(&a, sqlstore_now_ns());
	/* the row as stored comes back with the write */
	if (!(m = insert_named(s, "INSERT INTO mailboxes(name, mtime_ns) VALUES(?1, ?2)"
			       " RETURNING " MAILBOX_COLS, &a, row_mailbox, name, "mailbox", err)))
		goto fail;
	sqlstore_log_change(s, STORE_CHANGE_MAILBOX, m->id, 0, 0, name, 0, NULL);
	if (!touch_root(s, err) || !sqlstore_commit(s, err))
		goto fail;
	goto out;
fail:
	store_mailbox_free(m);
	m = NULL;
	sqlstore_rollback(s);
out:
	g_mutex_unlock(&s->lock);
	return m;
}

static gboolean op_mailbox_delete(store *base, gint64 id, GError **err)
{
	sqlstore *s = sqlstore_of(base);
	store_mailbox *m = NULL;
	sql_args a = { 0 };
	gboolean ok = FALSE;

	g_mutex_lock(&s->lock);
	if (!sqlstore_begin(s, err))
		goto out;
	if (!(m = mailbox_get_locked(s, id, TRUE, err)))
		goto fail;
	if (!check_empty(s, "SELECT count(*) FROM calendars WHERE mailbox_id = ?1", id,
			 m->name, "calendars", err))
		goto fail;
	sql_arg_i64(&a, id);
	sqlstore_log_change(s, STORE_CHANGE_MAILBOX, id, 0, 0, NULL, 0, m->name);
	if (!sqlstore_exec(s, "DELETE FROM mailboxes WHERE id = ?1", &a, "delete mailbox",
		     err) || !touch_root(s, err) || !sqlstore_commit(s, err))
		goto fail;
	ok = TRUE;
	goto out;
fail:
	sqlstore_rollback(s);
out:
	g_mutex_unlock(&s->lock);
	store_mailbox_free(m);
	return ok;
}

static gboolean op_mailbox_set_owner(store *base, gint64 id, gboolean has_owner,
				     guint32 uid, guint32 gid, guint32 mode,
				     GError **err)
{
	sqlstore *s = sqlstore_of(base);
	sql_args a = { 0 };
	gboolean ok = FALSE;

	if (has_owner) {
		sql_arg_i64(&a, uid);
		sql_arg_i64(&a, gid);
	} else {
		sql_arg_int_null(&a);
		sql_arg_int_null(&a);
	}
	sql_arg_i64(&a, mode);
	sql_arg_i64(&a, id);
	g_mutex_lock(&s->lock);
	if (!sqlstore_begin(s, err))
		goto out;
	sqlstore_log_change(s, STORE_CHANGE_MAILBOX, id, 0, 0, NULL, 0, NULL);
	if (!sqlstore_exec(s, "UPDATE mailboxes SET owner_uid = ?1,"
		     " owner_gid = ?2, mode = ?3 WHERE id = ?4", &a,
		     "set owner", err) || !sqlstore_commit(s, err))
		goto fail;
	ok = TRUE;
	goto out;
fail:
	sqlstore_rollback(s);
out:
	g_mutex_unlock(&s->lock);
	return ok;
}

static gboolean op_mailbox_set_timezone(store *base, gint64 id, const char *zone,
					GError **err)
{
	sqlstore *s = sqlstore_of(base);
	store_mailbox *m = NULL;
	sql_args a = { 0 };
	gboolean ok = FALSE;
	sql_journal_entry j = { .op = "timezone", .name = "timezone" };

	g_mutex_lock(&s->lock);
	if (!sqlstore_begin(s, err))
		goto out;
	if (!(m = mailbox_get_locked(s, id, TRUE, err)))
		goto fail;
	j.old_name = m->name;
	j.old_data = m->timezone;
	j.old_len = m->timezone ? strlen(m->timezone) : 0;
	sql_arg_text(&a, zone);
	sql_arg_i64(&a, id);
	sqlstore_log_change(s, STORE_CHANGE_MAILBOX, id, 0, 0, NULL, 0, NULL);
	if (!sqlstore_exec(s, "UPDATE mailboxes SET timezone = ?1 WHERE id = ?2", &a,
		     "set timezone", err) || !sqlstore_journal(s, &j, err) || !sqlstore_commit(s, err))
		goto fail;
	ok = TRUE;
	goto out;
fail:
	sqlstore_rollback(s);
out:
	g_mutex_unlock(&s->lock);
	store_mailbox_free(m);
	return ok;
}

/* ---- calendars ---- */

#define CALENDAR_COLS "id, mailbox_id, name, displayname, color, mtime_ns"

static gpointer row_calendar(sql_row *r)
{
	store_calendar *c = g_new0(store_calendar, 1);

	c->id = sql_i64(r, 0);
	c->mailbox_id = sql_i64(r, 1);
	c->name = sql_text(r, 2);
	c->displayname = sql_text(r, 3);
	c->color = sql_text(r, 4);
	c->mtime_ns = sql_i64(r, 5);
	return c;
}

static GPtrArray *op_calendar_list(store *base, gint64 mailbox_id, GError **err)
{
	sqlstore *s = sqlstore_of(base);
	sql_args a = { 0 };
	GPtrArray *r;

	sql_arg_i64(&a, mailbox_id);
	g_mutex_lock(&s->lock);
	r = sqlstore_collect(s, SQL_DIALECT(s,
		"SELECT " CALENDAR_COLS " FROM calendars WHERE mailbox_id = ?1 ORDER BY name",
		"SELECT " CALENDAR_COLS " FROM calendars WHERE mailbox_id = ?1"
		" ORDER BY name COLLATE \"C\""), &a, row_calendar,
		       (GDestroyNotify)store_calendar_free, err);
	g_mutex_unlock(&s->lock);
	return r;
}

/* The calendar, its row locked until the transaction ends when
 * for_update: every write to a calendar's items takes this lock first, so
 * writers of one calendar (from any host) go one after the other. */
store_calendar *sqlstore_calendar_get_locked(sqlstore *s, gint64 id,
					   gboolean for_update, GError **err)
{
	sql_args a = { 0 };

	sql_arg_i64(&a, id);
	return sqlstore_one(s, for_update
		      ? SQL_LOCKING(s, "SELECT " CALENDAR_COLS " FROM calendars WHERE id = ?1")
		      : "SELECT " CALENDAR_COLS " FROM calendars WHERE id = ?1",
		      &a, row_calendar, "calendar", err);
}

gint64 sqlstore_calendar_lock(sqlstore *s, gint64 id, GError **err)
{
	gpointer mailbox;
	store_calendar *c;
	gint64 m;

	if (g_hash_table_lookup_extended(s->locked, GSIZE_TO_POINTER(id), NULL, &mailbox))
		return (gint64)GPOINTER_TO_SIZE(mailbox);
	if (!(c = sqlstore_calendar_get_locked(s, id, TRUE, err)))
		return -1;
	m = c->mailbox_id;
	store_calendar_free(c);
	if (s->in_txn)
		g_hash_table_insert(s->locked, GSIZE_TO_POINTER(id), GSIZE_TO_POINTER(m));
	return m;
}

static store_calendar *op_calendar_get(store *base, gint64 id, GError **err)
{
	sqlstore *s = sqlstore_of(base);
	gboolean cached;
	store_calendar *c;

	g_mutex_lock(&s->lock);
	if ((cached = sqlstore_cache_usable(s)) && (c = sqlstore_cache_get(s, SQL_CACHE_CALENDAR, id)))
		c = store_calendar_copy(c);
	else if ((c = sqlstore_calendar_get_locked(s, id, FALSE, err)) && cached)
		sqlstore_cache_put(s, SQL_CACHE_CALENDAR, id, store_calendar_copy(c));
	g_mutex_unlock(&s->lock);
	return c;
}

static store_calendar *op_calendar_find(store *base, gint64 mailbox_id,
					const char *name, GError **err)
{
	sqlstore *s = sqlstore_of(base);
	sql_args a = { 0 };
	store_calendar *c;

	sql_arg_i64(&a, mailbox_id);
	sql_arg_text(&a, name);
	g_mutex_lock(&s->lock);
	c = sqlstore_one(s, "SELECT " CALENDAR_COLS " FROM calendars"
		   " WHERE mailbox_id = ?1 AND name = ?2", &a, row_calendar, name, err);
	g_mutex_unlock(&s->lock);
	return c;
}

static store_calendar *op_calendar_create(store *base, gint64 mailbox_id,
					  const char *name, GError **err)
{
	sqlstore *s = sqlstore_of(base);
	store_calendar *c = NULL;
	sql_args a = { 0 };

	if (!item_name_is_valid(name)) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_NAME,
			    "'%s': not a calendar name", name);
		return NULL;
	}
	g_mutex_lock(&s->lock);
	if (!sqlstore_begin(s, err))
		goto out;
	sql_arg_i64(&a, mailbox_id);
	sql_arg_text(&a, name);
	sql_arg_i64(&a, sqlstore_now_ns());
	if (!(c = insert_named(s, "INSERT INTO calendars(mailbox_id, name, mtime_ns)"
			       " VALUES(?1, ?2, ?3) RETURNING " CALENDAR_COLS, &a, row_calendar,
			       name, "calendar", err)))
		goto fail;
	sqlstore_log_change(s, STORE_CHANGE_CALENDAR, mailbox_id, c->id, 0, name, 0, NULL);
	if (!sqlstore_touch(s, SQL_TOUCH_MAILBOX, mailbox_id, err) || !sqlstore_commit(s, err))
		goto fail;
	/* no other transaction sees the row until the batch commits: the
	 * batch holds it as if locked, and knows it has no item */
	if (s->batch)
		sqlstore_note_made_calendar(s, c->id, mailbox_id);
	goto out;
fail:
	store_calendar_free(c);
	c = NULL;
	sqlstore_rollback(s);
out:
	g_mutex_unlock(&s->lock);
	return c;
}

static gboolean op_calendar_delete(store *base, gint64 id, GError **err)
{
	sqlstore *s = sqlstore_of(base);
	store_calendar *c = NULL;
	sql_args a = { 0 };
	gboolean ok = FALSE;

	g_mutex_lock(&s->lock);
	if (!sqlstore_begin(s, err))
		goto out;
	if (!(c = sqlstore_calendar_get_locked(s, id, TRUE, err)))
		goto fail;
	if (!check_empty(s, "SELECT count(*) FROM items WHERE calendar_id = ?1", id,
			 c->name, "items", err))
		goto fail;
	sql_arg_i64(&a, id);
	sqlstore_log_change(s, STORE_CHANGE_CALENDAR, c->mailbox_id, id, 0, NULL, 0, c->name);
	g_hash_table_remove(s->locked, GSIZE_TO_POINTER(id));
	g_hash_table_remove(s->fresh, GSIZE_TO_POINTER(id));
	if (!sqlstore_exec(s, "DELETE FROM calendars WHERE id = ?1", &a, "delete calendar",
		     err) || !sqlstore_touch(s, SQL_TOUCH_MAILBOX, c->mailbox_id, err) ||
	    !sqlstore_commit(s, err))
		goto fail;
	ok = TRUE;
	goto out;
fail:
	sqlstore_rollback(s);
out:
	g_mutex_unlock(&s->lock);
	store_calendar_free(c);
	return ok;
}

static gboolean op_calendar_set_meta(store *base, gint64 id, const char *key,
				     const char *value, GError **err)
{
	sqlstore *s = sqlstore_of(base);
	store_calendar *c = NULL;
	sql_args a = { 0 };
	gboolean ok = FALSE;
	const char *old;
	sql_journal_entry j = { .op = "meta", .calendar_id = id, .name = key };

	if (strcmp(key, "displayname") && strcmp(key, "color")) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_NAME,
			    "%s: not a calendar property", key);
		return FALSE;
	}
	g_mutex_lock(&s->lock);
	if (!sqlstore_begin(s, err))
		goto out;
	if (!(c = sqlstore_calendar_get_locked(s, id, TRUE, err)))
		goto fail;
	old = strcmp(key, "color") ? c->displayname : c->color;
	j.old_data = old;
	j.old_len = old ? strlen(old) : 0;
	sql_arg_text(&a, value);
	sql_arg_i64(&a, id);
	sqlstore_log_change(s, STORE_CHANGE_CALENDAR, c->mailbox_id, id, 0, c->name, 0, NULL);
	if (!sqlstore_exec(s, strcmp(key, "color")
		     ? "UPDATE calendars SET displayname = ?1 WHERE id = ?2"
		     : "UPDATE calendars SET color = ?1 WHERE id = ?2", &a,
		     "set calendar property", err) ||
	    !sqlstore_journal(s, &j, err) || !sqlstore_touch(s, SQL_TOUCH_CALENDAR, id, err) ||
	    !sqlstore_commit(s, err))
		goto fail;
	ok = TRUE;
	goto out;
fail:
	sqlstore_rollback(s);
out:
	g_mutex_unlock(&s->lock);
	store_calendar_free(c);
	return ok;
}

static gboolean op_probe(store *base, int wait_ms, GError **err)
{
	sqlstore *s = sqlstore_of(base);
	gboolean ok;

	g_mutex_lock(&s->lock);
	if (s->drv->lock_wait)
		s->drv->lock_wait(s, wait_ms);
	ok = sqlstore_begin(s, err);
	if (ok)
		sqlstore_rollback(s);
	if (s->drv->lock_wait)
		s->drv->lock_wait(s, -1);
	g_mutex_unlock(&s->lock);
	return ok;
}

/* The run itself is made by its first change (sqlstore_current_run). */
static void op_run_begin(store *base, const char *command)
{
	sqlstore *s = sqlstore_of(base);

	g_mutex_lock(&s->lock);
	drop_peers_run(s);
	g_free(s->run_command);
	s->run_command = g_strdup(command);
	s->run_id = 0;
	g_mutex_unlock(&s->lock);
}

static store *op_peer(store *base, GError **err)
{
	sqlstore *s = sqlstore_of(base);
	sqlstore *p;

	if (!s->drv->peer || !(p = s->drv->peer(s, err)))
		return NULL;
	p->lead = s;
	return &p->base;
}

static gboolean op_round_trips(store *base)
{
	return sqlstore_of(base)->drv->postgresql;
}

static const char *op_describe(store *base)
{
	return sqlstore_of(base)->describe;
}

static const char *op_origin(store *base)
{
	return sqlstore_of(base)->origin;
}

static void op_close(store *base)
{
	sqlstore_free(sqlstore_of(base));
}

static const store_ops sql_ops = {
	.close = op_close,
	.describe = op_describe,
	.origin = op_origin,
	.run_begin = op_run_begin,
	.peer = op_peer,
	.round_trips = op_round_trips,
	.mailbox_list = op_mailbox_list,
	.mailbox_get = op_mailbox_get,
	.mailbox_find = op_mailbox_find,
	.mailbox_create = op_mailbox_create,
	.mailbox_delete = op_mailbox_delete,
	.mailbox_set_owner = op_mailbox_set_owner,
	.mailbox_set_timezone = op_mailbox_set_timezone,
	.calendar_list = op_calendar_list,
	.calendar_get = op_calendar_get,
	.calendar_find = op_calendar_find,
	.calendar_create = op_calendar_create,
	.calendar_delete = op_calendar_delete,
	.calendar_set_meta = op_calendar_set_meta,
	.item_list = sqlstore_item_list,
	.item_get = sqlstore_item_get,
	.item_list_committed = sqlstore_item_list_committed,
	.item_get_committed = sqlstore_item_get_committed,
	.item_range_committed = sqlstore_item_range_committed,
	.item_find = sqlstore_item_find,
	.item_find_uid = sqlstore_item_find_uid,
	.item_reserve_id = sqlstore_item_reserve_id,
	.item_put = sqlstore_item_put,
	.item_delete = sqlstore_item_delete,
	.item_rename = sqlstore_item_rename,
	.changes_since = sqlstore_changes_since,
	.stats = sqlstore_stats,
	.root_mtime = sqlstore_root_mtime,
	.last_change = sqlstore_last_change,
	.probe = op_probe,
	.batch_begin = op_batch_begin,
	.batch_end = op_batch_end,
	.item_scan = sqlstore_item_scan,
	.items_set_checked = sqlstore_items_set_checked,
	.runs_list = sqlstore_runs_list,
	.journal_list = sqlstore_journal_list,
	.journal_after = sqlstore_journal_after,
	.reply_get = sqlstore_reply_get,
	.reply_get_committed = sqlstore_reply_get_committed,
	.reply_put = sqlstore_reply_put,
	.mailbox_stamp = sqlstore_mailbox_stamp,
	.zone_scan_get = sqlstore_zone_scan_get,
	.zone_scan_put = sqlstore_zone_scan_put,
};


/* fresh's values: a set, or NULL */
static void set_unref(gpointer set)
{
	if (set)
		g_hash_table_unref(set);
}

sqlstore *sqlstore_new(const sql_driver *drv, gpointer conn, const char *describe,
		       const char *origin)
{
	sqlstore *s = g_new0(sqlstore, 1);

	s->base.ops = &sql_ops;
	s->drv = drv;
	s->conn = conn;
	g_mutex_init(&s->lock);
	s->pending = g_array_new(FALSE, FALSE, sizeof(sql_pending));
	s->locked = g_hash_table_new(g_direct_hash, g_direct_equal);
	s->fresh = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, set_unref);
	s->spare_ids = g_array_new(FALSE, FALSE, sizeof(gint64));
	s->queued = g_array_new(FALSE, FALSE, sizeof(sql_queued));
	s->checks_analyze_at = CHECKS_ANALYZE_FIRST;
	s->last_change = -1;
	s->cache[SQL_CACHE_MAILBOX] = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
							(GDestroyNotify)store_mailbox_free);
	s->cache[SQL_CACHE_CALENDAR] = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
							 (GDestroyNotify)store_calendar_free);
	s->cache[SQL_CACHE_ITEM] = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
						     (GDestroyNotify)store_item_free);
	g_mutex_init(&s->readers_lock);
	s->readers = g_ptr_array_new_with_free_func((GDestroyNotify)sqlstore_free);
	s->describe = g_strdup(describe);
	s->origin = origin ? g_strdup(origin)
			   : g_strdup_printf("pid:%d", (int)getpid());
	return s;
}

void sqlstore_free(sqlstore *s)
{
	if (!s)
		return;
	g_ptr_array_unref(s->readers);
	g_mutex_clear(&s->readers_lock);
	drop_peers_run(s);
	s->drv->close(s);
	pending_clear(s->pending, 0);
	g_array_unref(s->pending);
	g_hash_table_destroy(s->locked);
	g_hash_table_destroy(s->fresh);
	g_array_unref(s->spare_ids);
	sqlstore_drop_queued(s);
	g_array_unref(s->queued);
	for (guint k = 0; k < G_N_ELEMENTS(s->cache); k++)
		g_hash_table_destroy(s->cache[k]);
	g_mutex_clear(&s->lock);
	g_free(s->describe);
	g_free(s->origin);
	g_free(s->run_command);
	g_free(s);
}

sqlstore *sqlstore_reader_take(sqlstore *s)
{
	sqlstore *r = NULL;
	GError *e = NULL;

	if (!s->drv->reader)
		return NULL;
	g_mutex_lock(&s->readers_lock);
	if (s->readers->len)
		r = g_ptr_array_steal_index_fast(s->readers, s->readers->len - 1);
	g_mutex_unlock(&s->readers_lock);
	if (!r && !(r = s->drv->reader(s, &e))) {
		/* the store's own connection still reads */
		g_debug("%s: no reader: %s", s->describe, e->message);
		g_error_free(e);
	}
	return r;
}

sqlstore *sqlstore_committed_begin(sqlstore *s)
{
	sqlstore *r = sqlstore_reader_take(s);
	sqlstore *on = r ? r : s;

	g_mutex_lock(&on->lock);
	return on;
}

void sqlstore_committed_end(sqlstore *s, sqlstore *on)
{
	g_mutex_unlock(&on->lock);
	if (on != s)
		sqlstore_reader_give(s, on);
}

void sqlstore_reader_give(sqlstore *s, sqlstore *reader)
{
	if (!reader)
		return;
	g_mutex_lock(&s->readers_lock);
	g_ptr_array_add(s->readers, reader);
	g_mutex_unlock(&s->readers_lock);
}

gboolean sqlstore_setup(sqlstore *s, store_open_mode mode, GError **err)
{
	sql_args a = { 0 };
	gint64 v;

	if (!sqlstore_begin(s, err))
		return FALSE;
	if ((v = s->drv->schema_version(s, err)) < 0)
		goto fail;
	if (v == 0 && mode != STORE_CREATE) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_NOTFOUND,
			    "store %s: not a calfs store (calfs init makes one)",
			    s->describe);
		goto fail;
	}
	if (v > SQL_SCHEMA_VERSION) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_IO,
			    "store %s: schema version %" G_GINT64_FORMAT
			    " is newer than this calfs (%d)", s->describe, v,
			    SQL_SCHEMA_VERSION);
		goto fail;
	}
	if (v < SQL_SCHEMA_VERSION) {
		sql_arg_i64(&a, SQL_SCHEMA_VERSION);
		if (!s->drv->setup(s, v, err) ||
		    !sqlstore_exec(s, "INSERT INTO meta(key, value) VALUES('schema_version', ?1)"
				   " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
				   &a, "set schema version", err))
			goto fail;
	}
	return sqlstore_commit(s, err);
fail:
	sqlstore_rollback(s);
	return FALSE;
}
