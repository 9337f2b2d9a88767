/* store_pg_log.c - the PostgreSQL store's change log, journal runs, counts,
 * replies, stamps and zone scans */
#include "store_pg_impl.h"
#include "error.h"
#include "log.h"

/* Whether the listener vouches that nothing after seq was logged. */
static gboolean nothing_after(pgstore *s, gint64 seq)
{
	pglisten *l = __atomic_load_n(&s->listen, __ATOMIC_ACQUIRE);

	return l && pglisten_healthy(l) &&
	       seq >= __atomic_load_n(&s->known_last, __ATOMIC_ACQUIRE);
}

static gpointer row_change(PGresult *r, int i)
{
	store_change *c = g_new0(store_change, 1);

	c->seq = pg_i64(r, i, 0);
	c->time_ns = pg_i64(r, i, 1);
	c->kind = pg_i64(r, i, 2);
	c->mailbox_id = pg_i64(r, i, 3);
	c->calendar_id = pg_i64(r, i, 4);
	c->item_id = pg_i64(r, i, 5);
	c->name = pg_text(r, i, 6);
	c->old_calendar_id = pg_i64(r, i, 7);
	c->old_name = pg_text(r, i, 8);
	c->origin = pg_text(r, i, 9);
	return c;
}

GPtrArray *pgstore_changes_since(store *base, gint64 seq, int limit, GError **err)
{
	pgstore *s = pgstore_of(base);
	pg_args a = { 0 };
	GPtrArray *r;

	if (nothing_after(s, seq))
		return g_ptr_array_new_with_free_func((GDestroyNotify)store_change_free);
	pg_arg_i64(&a, seq);
	pg_arg_i64(&a, limit);
	g_mutex_lock(&s->lock);
	if (!s->listen && !s->listen_failed) {
		/* this process follows the log: listen from now on */
		GError *e = NULL;
		pglisten *l = pglisten_start(s, &e);

		__atomic_store_n(&s->listen, l, __ATOMIC_RELEASE);
		if (!l) {
			log_warning("%s; following the change log by polling", e->message);
			g_error_free(e);
			s->listen_failed = TRUE;
		}
	}
	r = pg_collect(s, "SELECT seq, time_ns, kind, mailbox_id, calendar_id, item_id,"
		       " name, old_calendar_id, old_name, origin FROM changes"
		       " WHERE seq > $1 ORDER BY seq LIMIT $2", &a, row_change,
		       (GDestroyNotify)store_change_free, err);
	g_mutex_unlock(&s->lock);
	return r;
}

static gpointer row_run(PGresult *r, int i)
{
	store_run *run = g_new0(store_run, 1);

	run->id = pg_i64(r, i, 0);
	run->started_ns = pg_i64(r, i, 1);
	run->command = pg_text(r, i, 2);
	run->origin = pg_text(r, i, 3);
	run->creates = pg_i64(r, i, 4);
	run->updates = pg_i64(r, i, 5);
	run->deletes = pg_i64(r, i, 6);
	run->renames = pg_i64(r, i, 7);
	run->entries = pg_i64(r, i, 8);
	run->others = run->entries - run->creates - run->updates - run->deletes -
		      run->renames;
	return run;
}

GPtrArray *pgstore_runs_list(store *base, GError **err)
{
	pgstore *s = pgstore_of(base);
	GPtrArray *r;

	g_mutex_lock(&s->lock);
	r = pg_collect(s, "SELECT r.id, r.started_ns, r.command, r.origin,"
		       " count(*) FILTER (WHERE j.op = 'create'),"
		       " count(*) FILTER (WHERE j.op = 'update'),"
		       " count(*) FILTER (WHERE j.op = 'delete'),"
		       " count(*) FILTER (WHERE j.op = 'rename'), count(j.id)"
		       " FROM runs r LEFT JOIN journal j ON j.run_id = r.id"
		       " GROUP BY r.id ORDER BY r.id DESC", NULL, row_run,
		       (GDestroyNotify)store_run_free, err);
	g_mutex_unlock(&s->lock);
	return r;
}

static gpointer row_journal(PGresult *r, int i)
{
	store_journal_entry *e = g_new0(store_journal_entry, 1);

	e->id = pg_i64(r, i, 0);
	e->run_id = pg_i64(r, i, 1);
	e->time_ns = pg_i64(r, i, 2);
	e->op = pg_text(r, i, 3);
	e->item_id = pg_i64(r, i, 4);
	e->calendar_id = pg_i64(r, i, 5);
	e->name = pg_text(r, i, 6);
	e->uid = pg_text(r, i, 7);
	e->old_calendar_id = pg_i64(r, i, 8);
	e->old_name = pg_text(r, i, 9);
	e->old_data = pg_bytes(r, i, 10);
	e->old_version = pg_i64(r, i, 11);
	e->new_version = pg_i64(r, i, 12);
	return e;
}

#define JOURNAL_COLS "id, run_id, time_ns, op, item_id, calendar_id, name, uid," \
	" old_calendar_id, old_name, old_data, old_version, new_version"

GPtrArray *pgstore_journal_list(store *base, gint64 run_id, gint64 calendar_id,
				int limit, GError **err)
{
	pgstore *s = pgstore_of(base);
	pg_args a = { 0 };
	GPtrArray *r;

	pg_arg_i64(&a, run_id);
	pg_arg_i64(&a, calendar_id);
	pg_arg_i64(&a, limit);
	g_mutex_lock(&s->lock);
	r = pg_collect(s, calendar_id
		       ? "SELECT " JOURNAL_COLS " FROM journal"
			 " WHERE (calendar_id = $2 OR old_calendar_id = $2)"
			 " AND ($1::bigint = 0 OR run_id = $1) ORDER BY id DESC LIMIT $3"
		       : "SELECT " JOURNAL_COLS " FROM journal"
			 " WHERE ($1::bigint = 0 OR run_id = $1) AND $2::bigint = 0"
			 " ORDER BY id DESC LIMIT $3",
		       &a, row_journal, (GDestroyNotify)store_journal_entry_free, err);
	g_mutex_unlock(&s->lock);
	return r;
}

gboolean pgstore_stats(store *base, store_stats *out, GError **err)
{
	pgstore *s = pgstore_of(base);
	PGresult *r;

	g_mutex_lock(&s->lock);
	r = pg_query(s, "SELECT (SELECT count(*) FROM mailboxes),"
		     " (SELECT count(*) FROM calendars), (SELECT count(*) FROM items),"
		     " (SELECT coalesce(sum(octet_length(data)), 0)::bigint FROM items),"
		     " (SELECT count(*) FROM journal), (SELECT count(*) FROM runs),"
		     " (SELECT coalesce(max(seq), 0) FROM changes)", NULL, "count",
		     err);
	g_mutex_unlock(&s->lock);
	if (!r)
		return FALSE;
	out->mailboxes = pg_i64(r, 0, 0);
	out->calendars = pg_i64(r, 0, 1);
	out->items = pg_i64(r, 0, 2);
	out->bytes = pg_i64(r, 0, 3);
	out->journal_entries = pg_i64(r, 0, 4);
	out->runs = pg_i64(r, 0, 5);
	out->last_change = pg_i64(r, 0, 6);
	PQclear(r);
	return TRUE;
}

gint64 pgstore_root_mtime(store *base, GError **err)
{
	pgstore *s = pgstore_of(base);
	gint64 v;

	g_mutex_lock(&s->lock);
	v = pg_scalar(s, "SELECT coalesce((SELECT value FROM meta"
		      " WHERE key = 'root_mtime_ns'), 0)", NULL, err);
	g_mutex_unlock(&s->lock);
	return v;
}

gint64 pgstore_last_change(store *base, GError **err)
{
	pgstore *s = pgstore_of(base);
	gint64 known = __atomic_load_n(&s->known_last, __ATOMIC_ACQUIRE);
	gint64 v;

	if (nothing_after(s, known))
		return known;
	g_mutex_lock(&s->lock);
	v = pg_scalar(s, "SELECT coalesce(max(seq), 0) FROM changes", NULL, err);
	g_mutex_unlock(&s->lock);
	return v;
}

static gpointer row_pair(PGresult *r, int i)
{
	gint64 *v = g_new(gint64, 2);

	v[0] = pg_i64(r, i, 0);
	v[1] = pg_i64(r, i, 1);
	return v;
}

gboolean pgstore_reply_get(store *base, gint64 mailbox_id, const char *uid,
			   const char *attendee, gint64 *when, gint64 *sequence,
			   GError **err)
{
	pgstore *s = pgstore_of(base);
	char *who = g_ascii_strdown(attendee, -1);
	pg_args a = { 0 };
	gint64 *v;

	pg_arg_i64(&a, mailbox_id);
	pg_arg_text(&a, uid);
	pg_arg_text(&a, who);
	g_mutex_lock(&s->lock);
	v = pg_one(s, "SELECT reply_time, sequence FROM replies"
		   " WHERE mailbox_id = $1 AND uid = $2 AND attendee = $3", &a,
		   row_pair, "reply", err);
	g_mutex_unlock(&s->lock);
	g_free(who);
	if (!v)
		return FALSE;
	*when = v[0];
	*sequence = v[1];
	g_free(v);
	return TRUE;
}

gboolean pgstore_reply_put(store *base, gint64 mailbox_id, const char *uid,
			   const char *attendee, gint64 when, gint64 sequence,
			   GError **err)
{
	pgstore *s = pgstore_of(base);
	char *who = g_ascii_strdown(attendee, -1);
	pg_args a = { 0 };
	gboolean ok;

	pg_arg_i64(&a, mailbox_id);
	pg_arg_text(&a, uid);
	pg_arg_text(&a, who);
	pg_arg_i64(&a, when);
	pg_arg_i64(&a, sequence);
	g_mutex_lock(&s->lock);
	ok = pg_exec(s, "INSERT INTO replies(mailbox_id, uid, attendee, reply_time,"
		     " sequence) VALUES($1, $2, $3, $4, $5) ON CONFLICT"
		     " (mailbox_id, uid, attendee) DO UPDATE SET"
		     " reply_time = EXCLUDED.reply_time, sequence = EXCLUDED.sequence",
		     &a, "record reply", err);
	g_mutex_unlock(&s->lock);
	g_free(who);
	return ok;
}

static gpointer row_stamp(PGresult *r, int i)
{
	return g_strdup_printf("%" G_GINT64_FORMAT "/%" G_GINT64_FORMAT,
			       pg_i64(r, i, 0), pg_i64(r, i, 1));
}

char *pgstore_mailbox_stamp(store *base, gint64 mailbox_id, GError **err)
{
	pgstore *s = pgstore_of(base);
	pg_args a = { 0 };
	char *stamp;

	/* its latest change, and its item count, which an item moved out of
	 * it (logged under the mailbox it went to) changes */
	pg_arg_i64(&a, mailbox_id);
	g_mutex_lock(&s->lock);
	stamp = pg_one(s, "SELECT (SELECT coalesce(max(seq), 0) FROM changes"
		       " WHERE mailbox_id = $1), (SELECT count(*) FROM items"
		       " WHERE calendar_id IN (SELECT id FROM calendars"
		       " WHERE mailbox_id = $1))", &a, row_stamp, "mailbox stamp", err);
	g_mutex_unlock(&s->lock);
	return stamp;
}

static gpointer row_scan(PGresult *r, int i)
{
	char **v = g_new0(char *, 2);

	v[0] = pg_text(r, i, 0);
	v[1] = pg_text(r, i, 1);
	return v;
}

gboolean pgstore_zone_scan_get(store *base, gint64 mailbox_id, const char *key,
			       char **status, char **resolved, GError **err)
{
	pgstore *s = pgstore_of(base);
	pg_args a = { 0 };
	char **v;

	pg_arg_i64(&a, mailbox_id);
	pg_arg_text(&a, key);
	g_mutex_lock(&s->lock);
	v = pg_one(s, "SELECT status, resolved FROM zone_scans"
		   " WHERE mailbox_id = $1 AND key = $2", &a, row_scan, "zone scan", err);
	g_mutex_unlock(&s->lock);
	if (!v)
		return FALSE;
	*status = v[0];
	*resolved = v[1];
	g_free(v);
	return TRUE;
}

gboolean pgstore_zone_scan_put(store *base, gint64 mailbox_id, const char *key,
			       const char *status, const char *resolved,
			       GError **err)
{
	pgstore *s = pgstore_of(base);
	pg_args a = { 0 };
	gboolean ok;

	pg_arg_i64(&a, mailbox_id);
	pg_arg_text(&a, key);
	pg_arg_text(&a, status);
	pg_arg_text(&a, resolved);
	g_mutex_lock(&s->lock);
	ok = pg_exec(s, "INSERT INTO zone_scans(mailbox_id, key, status, resolved)"
		     " VALUES($1, $2, $3, $4) ON CONFLICT(mailbox_id) DO UPDATE SET"
		     " key = EXCLUDED.key, status = EXCLUDED.status,"
		     " resolved = EXCLUDED.resolved", &a, "record zone scan", err);
	g_mutex_unlock(&s->lock);
	return ok;
}
