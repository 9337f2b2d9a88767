/* store_sql_log.c - the SQL store's change log, journal runs, counts,
 * replies, stamps and zone scans */
#include "store_sql.h"
#include "error.h"

/* Whether the driver knows that nothing after seq was logged. */
static gboolean nothing_after(sqlstore *s, gint64 seq)
{
	return s->drv->nothing_after && s->drv->nothing_after(s, seq);
}

static gpointer row_change(sql_row *r)
{
	store_change *c = g_new0(store_change, 1);

	c->seq = sql_i64(r, 0);
	c->time_ns = sql_i64(r, 1);
	c->kind = sql_i64(r, 2);
	c->mailbox_id = sql_i64(r, 3);
	c->calendar_id = sql_i64(r, 4);
	c->item_id = sql_i64(r, 5);
	c->name = sql_text(r, 6);
	c->old_calendar_id = sql_i64(r, 7);
	c->old_name = sql_text(r, 8);
	c->origin = sql_text(r, 9);
	return c;
}

GPtrArray *sqlstore_changes_since(store *base, gint64 seq, int limit, GError **err)
{
	sqlstore *s = sqlstore_of(base);
	sql_args a = { 0 };
	GPtrArray *r;

	if (nothing_after(s, seq))
		return g_ptr_array_new_with_free_func((GDestroyNotify)store_change_free);
	sql_arg_i64(&a, seq);
	sql_arg_i64(&a, limit);
	g_mutex_lock(&s->lock);
	if (s->drv->following)
		s->drv->following(s);
	r = sqlstore_collect(s, "SELECT seq, time_ns, kind, mailbox_id, calendar_id, item_id,"
		       " name, old_calendar_id, old_name, origin FROM changes"
		       " WHERE seq > ?1 ORDER BY seq LIMIT ?2", &a, row_change,
		       (GDestroyNotify)store_change_free, err);
	g_mutex_unlock(&s->lock);
	return r;
}

static gpointer row_run(sql_row *r)
{
	store_run *run = g_new0(store_run, 1);

	run->id = sql_i64(r, 0);
	run->started_ns = sql_i64(r, 1);
	run->command = sql_text(r, 2);
	run->origin = sql_text(r, 3);
	run->creates = sql_i64(r, 4);
	run->updates = sql_i64(r, 5);
	run->deletes = sql_i64(r, 6);
	run->renames = sql_i64(r, 7);
	run->entries = sql_i64(r, 8);
	run->others = run->entries - run->creates - run->updates - run->deletes -
		      run->renames;
	return run;
}

GPtrArray *sqlstore_runs_list(store *base, GError **err)
{
	sqlstore *s = sqlstore_of(base);
	GPtrArray *r;

	g_mutex_lock(&s->lock);
	r = sqlstore_collect(s, "SELECT r.id, r.started_ns, r.command, r.origin,"
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

static gpointer row_journal(sql_row *r)
{
	store_journal_entry *e = g_new0(store_journal_entry, 1);

	e->id = sql_i64(r, 0);
	e->run_id = sql_i64(r, 1);
	e->time_ns = sql_i64(r, 2);
	e->op = sql_text(r, 3);
	e->item_id = sql_i64(r, 4);
	e->calendar_id = sql_i64(r, 5);
	e->name = sql_text(r, 6);
	e->uid = sql_text(r, 7);
	e->old_calendar_id = sql_i64(r, 8);
	e->old_name = sql_text(r, 9);
	e->old_data = sql_bytes(r, 10);
	e->old_version = sql_i64(r, 11);
	e->new_version = sql_i64(r, 12);
	e->note = sql_text(r, 13);
	return e;
}

#define JOURNAL_COLS "id, run_id, time_ns, op, item_id, calendar_id, name, uid," \
	" old_calendar_id, old_name, old_data, old_version, new_version, note"
/* the same without the bytes */
#define JOURNAL_COLS_NO_DATA "id, run_id, time_ns, op, item_id, calendar_id, name, uid," \
	" old_calendar_id, old_name, NULL, old_version, new_version, note"

GPtrArray *sqlstore_journal_list(store *base, gint64 run_id, gint64 calendar_id,
				int limit, GError **err)
{
	sqlstore *s = sqlstore_of(base);
	sql_args a = { 0 };
	GPtrArray *r;

	sql_arg_i64(&a, run_id);
	sql_arg_i64(&a, calendar_id);
	sql_arg_i64(&a, limit);
	g_mutex_lock(&s->lock);
	r = sqlstore_collect(s, calendar_id
		       ? "SELECT " JOURNAL_COLS " FROM journal"
			 " WHERE (calendar_id = ?2 OR old_calendar_id = ?2)"
			 " AND (?1 = 0 OR run_id = ?1) ORDER BY id DESC LIMIT ?3"
		       : "SELECT " JOURNAL_COLS " FROM journal"
			 " WHERE (?1 = 0 OR run_id = ?1) AND ?2 = 0"
			 " ORDER BY id DESC LIMIT ?3",
		       &a, row_journal, (GDestroyNotify)store_journal_entry_free, err);
	g_mutex_unlock(&s->lock);
	return r;
}

GPtrArray *sqlstore_journal_after(store *base, gint64 run_id, GError **err)
{
	sqlstore *s = sqlstore_of(base);
	sql_args a = { 0 };
	GPtrArray *r;

	sql_arg_i64(&a, run_id);
	g_mutex_lock(&s->lock);
	r = sqlstore_collect(s, "SELECT " JOURNAL_COLS_NO_DATA " FROM journal WHERE id IN"
		       " (SELECT min(l.id) FROM journal j JOIN journal l"
		       " ON l.id > j.id AND l.run_id <> j.run_id AND"
		       " (l.item_id = j.item_id OR (j.op = 'meta' AND l.op = 'meta' AND"
		       " l.calendar_id = j.calendar_id AND l.name = j.name))"
		       " WHERE j.run_id = ?1 GROUP BY j.id) ORDER BY id",
		       &a, row_journal, (GDestroyNotify)store_journal_entry_free, err);
	g_mutex_unlock(&s->lock);
	return r;
}

static gpointer row_stats(sql_row *r)
{
	store_stats *st = g_new0(store_stats, 1);

	st->mailboxes = sql_i64(r, 0);
	st->calendars = sql_i64(r, 1);
	st->items = sql_i64(r, 2);
	st->bytes = sql_i64(r, 3);
	st->journal_entries = sql_i64(r, 4);
	st->runs = sql_i64(r, 5);
	st->last_change = sql_i64(r, 6);
	return st;
}

gboolean sqlstore_stats(store *base, store_stats *out, GError **err)
{
	sqlstore *s = sqlstore_of(base);
	store_stats *st;

	g_mutex_lock(&s->lock);
	st = sqlstore_one(s, "SELECT (SELECT count(*) FROM mailboxes),"
			  " (SELECT count(*) FROM calendars), (SELECT count(*) FROM items),"
			  " (SELECT coalesce(sum(length(data)), 0) FROM items),"
			  " (SELECT count(*) FROM journal), (SELECT count(*) FROM runs),"
			  " (SELECT coalesce(max(seq), 0) FROM changes)", NULL, row_stats,
			  "count", err);
	g_mutex_unlock(&s->lock);
	if (!st)
		return FALSE;
	*out = *st;
	g_free(st);
	return TRUE;
}

gint64 sqlstore_root_mtime(store *base, GError **err)
{
	sqlstore *s = sqlstore_of(base);
	gint64 v;

	g_mutex_lock(&s->lock);
	v = sqlstore_scalar(s, "SELECT coalesce((SELECT value FROM meta"
		      " WHERE key = 'root_mtime_ns'), 0)", NULL, err);
	g_mutex_unlock(&s->lock);
	return v;
}

gint64 sqlstore_last_change(store *base, GError **err)
{
	sqlstore *s = sqlstore_of(base);
	gint64 known = __atomic_load_n(&s->known_last, __ATOMIC_ACQUIRE);
	gboolean cached;
	gint64 v;

	if (nothing_after(s, known))
		return known;
	g_mutex_lock(&s->lock);
	/* kept with the rows read while nothing changed (each report a
	 * grep opens asks it): read again when they are */
	cached = sqlstore_cache_usable(s);
	if (cached && s->last_change >= 0) {
		v = s->last_change;
	} else {
		v = sqlstore_scalar(s, "SELECT coalesce(max(seq), 0) FROM changes", NULL, err);
		if (cached)
			s->last_change = v;
	}
	g_mutex_unlock(&s->lock);
	return v;
}

static gpointer row_pair(sql_row *r)
{
	gint64 *v = g_new(gint64, 2);

	v[0] = sql_i64(r, 0);
	v[1] = sql_i64(r, 1);
	return v;
}

/* The reply of attendee for uid in mailbox_id, read on on (locked). */
static gboolean reply_get_on(sqlstore *on, gint64 mailbox_id, const char *uid,
			     const char *attendee, gint64 *when, gint64 *sequence,
			     GError **err)
{
	char *who = g_ascii_strdown(attendee, -1);
	sql_args a = { 0 };
	gint64 *v;

	sql_arg_i64(&a, mailbox_id);
	sql_arg_text(&a, uid);
	sql_arg_text(&a, who);
	v = sqlstore_one(on, "SELECT reply_time, sequence FROM replies"
		   " WHERE mailbox_id = ?1 AND uid = ?2 AND attendee = ?3", &a,
		   row_pair, "reply", err);
	g_free(who);
	if (!v)
		return FALSE;
	*when = v[0];
	*sequence = v[1];
	g_free(v);
	return TRUE;
}

gboolean sqlstore_reply_get(store *base, gint64 mailbox_id, const char *uid,
			   const char *attendee, gint64 *when, gint64 *sequence,
			   GError **err)
{
	sqlstore *s = sqlstore_of(base);
	gboolean ok;

	g_mutex_lock(&s->lock);
	ok = reply_get_on(s, mailbox_id, uid, attendee, when, sequence, err);
	g_mutex_unlock(&s->lock);
	return ok;
}

gboolean sqlstore_reply_get_committed(store *base, gint64 mailbox_id, const char *uid,
				      const char *attendee, gint64 *when, gint64 *sequence,
				      GError **err)
{
	sqlstore *s = sqlstore_of(base), *on = sqlstore_committed_begin(s);
	gboolean ok = reply_get_on(on, mailbox_id, uid, attendee, when, sequence, err);

	sqlstore_committed_end(s, on);
	return ok;
}

gboolean sqlstore_reply_put(store *base, gint64 mailbox_id, const char *uid,
			   const char *attendee, gint64 when, gint64 sequence,
			   GError **err)
{
	sqlstore *s = sqlstore_of(base);
	char *who = g_ascii_strdown(attendee, -1);
	sql_args a = { 0 };
	gboolean ok;

	sql_arg_i64(&a, mailbox_id);
	sql_arg_text(&a, uid);
	sql_arg_text(&a, who);
	sql_arg_i64(&a, when);
	sql_arg_i64(&a, sequence);
	g_mutex_lock(&s->lock);
	ok = sqlstore_exec(s, "INSERT INTO replies(mailbox_id, uid, attendee, reply_time,"
		     " sequence) VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT"
		     " (mailbox_id, uid, attendee) DO UPDATE SET"
		     " reply_time = EXCLUDED.reply_time, sequence = EXCLUDED.sequence",
		     &a, "record reply", err);
	g_mutex_unlock(&s->lock);
	g_free(who);
	return ok;
}

static gpointer row_stamp(sql_row *r)
{
	return g_strdup_printf("%" G_GINT64_FORMAT "/%" G_GINT64_FORMAT,
			       sql_i64(r, 0), sql_i64(r, 1));
}

char *sqlstore_mailbox_stamp(store *base, gint64 mailbox_id, GError **err)
{
	sqlstore *s = sqlstore_of(base);
	sql_args a = { 0 };
	char *stamp;

	/* its latest change, and its item count, which an item moved out of
	 * it (logged under the mailbox it went to) changes.  The items are
	 * counted calendar by calendar: PostgreSQL, without statistics (a
	 * store copied from one just imported), joined the calendars to a
	 * scan of every item, 20 ms a mailbox.  (Its sum of bigints is a
	 * numeric.) */
	sql_arg_i64(&a, mailbox_id);
	g_mutex_lock(&s->lock);
	stamp = sqlstore_one(s, "SELECT (SELECT coalesce(max(seq), 0) FROM changes"
		       " WHERE mailbox_id = ?1), (SELECT CAST(coalesce(sum((SELECT count(*)"
		       " FROM items WHERE calendar_id = calendars.id)), 0) AS bigint)"
		       " FROM calendars WHERE mailbox_id = ?1)", &a, row_stamp,
		       "mailbox stamp", err);
	g_mutex_unlock(&s->lock);
	return stamp;
}

static gpointer row_scan(sql_row *r)
{
	char **v = g_new0(char *, 2);

	v[0] = sql_text(r, 0);
	v[1] = sql_text(r, 1);
	return v;
}

gboolean sqlstore_zone_scan_get(store *base, gint64 mailbox_id, const char *key,
			       char **status, char **resolved, GError **err)
{
	sqlstore *s = sqlstore_of(base);
	sql_args a = { 0 };
	char **v;

	sql_arg_i64(&a, mailbox_id);
	sql_arg_text(&a, key);
	g_mutex_lock(&s->lock);
	v = sqlstore_one(s, "SELECT status, resolved FROM zone_scans"
		   " WHERE mailbox_id = ?1 AND key = ?2", &a, row_scan, "zone scan", err);
	g_mutex_unlock(&s->lock);
	if (!v)
		return FALSE;
	*status = v[0];
	*resolved = v[1];
	g_free(v);
	return TRUE;
}

gboolean sqlstore_zone_scan_put(store *base, gint64 mailbox_id, const char *key,
			       const char *status, const char *resolved,
			       GError **err)
{
	sqlstore *s = sqlstore_of(base);
	sql_args a = { 0 };
	gboolean ok;

	sql_arg_i64(&a, mailbox_id);
	sql_arg_text(&a, key);
	sql_arg_text(&a, status);
	sql_arg_text(&a, resolved);
	g_mutex_lock(&s->lock);
	ok = sqlstore_exec_relaxed(s, "INSERT INTO zone_scans(mailbox_id, key, status, resolved)"
		     " VALUES(?1, ?2, ?3, ?4) ON CONFLICT(mailbox_id) DO UPDATE SET"
		     " key = EXCLUDED.key, status = EXCLUDED.status,"
		     " resolved = EXCLUDED.resolved", &a, "record zone scan", err);
	g_mutex_unlock(&s->lock);
	return ok;
}
