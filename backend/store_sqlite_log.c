/* store_sqlite_log.c - the SQLite store's change log, journal runs,
 * counts and replies */
#include "store_sqlite_impl.h"
#include "error.h"

static store_change *row_change(sqlite3_stmt *st)
{
	store_change *c = g_new0(store_change, 1);

	c->seq = sqlite3_column_int64(st, 0);
	c->time_ns = sqlite3_column_int64(st, 1);
	c->kind = sqlite3_column_int(st, 2);
	c->mailbox_id = sqlite3_column_int64(st, 3);
	c->calendar_id = sqlite3_column_int64(st, 4);
	c->item_id = sqlite3_column_int64(st, 5);
	c->name = sqlstore_col_text(st, 6);
	c->old_calendar_id = sqlite3_column_int64(st, 7);
	c->old_name = sqlstore_col_text(st, 8);
	c->origin = sqlstore_col_text(st, 9);
	return c;
}

GPtrArray *sqlstore_changes_since(store *base, gint64 seq, int limit,
				   GError **err)
{
	sqlstore *s = sqlstore_of(base);
	sqlite3_stmt *st;
	GPtrArray *r = NULL;

	g_mutex_lock(&s->lock);
	st = sqlstore_stmt(s, "SELECT seq, time_ns, kind, mailbox_id, calendar_id, item_id,"
		  " name, old_calendar_id, old_name, origin FROM changes"
		  " WHERE seq > ? ORDER BY seq LIMIT ?", err);
	if (st) {
		sqlite3_bind_int64(st, 1, seq);
		sqlite3_bind_int(st, 2, limit);
		r = sqlstore_collect(s, st, (row_fn)row_change,
			    (GDestroyNotify)store_change_free, err);
	}
	g_mutex_unlock(&s->lock);
	return r;
}

static store_run *row_run(sqlite3_stmt *st)
{
	store_run *r = g_new0(store_run, 1);

	r->id = sqlite3_column_int64(st, 0);
	r->started_ns = sqlite3_column_int64(st, 1);
	r->command = sqlstore_col_text(st, 2);
	r->origin = sqlstore_col_text(st, 3);
	r->creates = sqlite3_column_int64(st, 4);
	r->updates = sqlite3_column_int64(st, 5);
	r->deletes = sqlite3_column_int64(st, 6);
	r->renames = sqlite3_column_int64(st, 7);
	r->entries = sqlite3_column_int64(st, 8);
	r->others = r->entries - r->creates - r->updates - r->deletes - r->renames;
	return r;
}

GPtrArray *sqlstore_runs_list(store *base, GError **err)
{
	sqlstore *s = sqlstore_of(base);
	sqlite3_stmt *st;
	GPtrArray *r = NULL;

	g_mutex_lock(&s->lock);
	st = sqlstore_stmt(s, "SELECT r.id, r.started_ns, r.command, r.origin,"
		  " count(CASE j.op WHEN 'create' THEN 1 END),"
		  " count(CASE j.op WHEN 'update' THEN 1 END),"
		  " count(CASE j.op WHEN 'delete' THEN 1 END),"
		  " count(CASE j.op WHEN 'rename' THEN 1 END), count(j.id)"
		  " FROM runs r LEFT JOIN journal j ON j.run_id = r.id"
		  " GROUP BY r.id ORDER BY r.id DESC", err);
	if (st)
		r = sqlstore_collect(s, st, (row_fn)row_run, (GDestroyNotify)store_run_free, err);
	g_mutex_unlock(&s->lock);
	return r;
}

static store_journal_entry *row_journal(sqlite3_stmt *st)
{
	store_journal_entry *e = g_new0(store_journal_entry, 1);

	e->id = sqlite3_column_int64(st, 0);
	e->run_id = sqlite3_column_int64(st, 1);
	e->time_ns = sqlite3_column_int64(st, 2);
	e->op = sqlstore_col_text(st, 3);
	e->item_id = sqlite3_column_int64(st, 4);
	e->calendar_id = sqlite3_column_int64(st, 5);
	e->name = sqlstore_col_text(st, 6);
	e->uid = sqlstore_col_text(st, 7);
	e->old_calendar_id = sqlite3_column_int64(st, 8);
	e->old_name = sqlstore_col_text(st, 9);
	if (sqlite3_column_type(st, 10) != SQLITE_NULL)
		e->old_data = g_bytes_new(sqlite3_column_blob(st, 10),
					  sqlite3_column_bytes(st, 10));
	e->old_version = sqlite3_column_int64(st, 11);
	e->new_version = sqlite3_column_int64(st, 12);
	return e;
}

GPtrArray *sqlstore_journal_list(store *base, gint64 run_id, gint64 calendar_id,
				  int limit, GError **err)
{
	sqlstore *s = sqlstore_of(base);
	sqlite3_stmt *st;
	GPtrArray *r = NULL;

	g_mutex_lock(&s->lock);
	/* one statement per filter, so that SQLite can use the indexes
	 * (a "?1 = 0 OR run_id = ?1" term makes it scan the journal) */
	st = sqlstore_stmt(s, calendar_id
		  ? "SELECT id, run_id, time_ns, op, item_id, calendar_id, name, uid,"
		    " old_calendar_id, old_name, old_data, old_version, new_version"
		    " FROM journal WHERE (calendar_id = ?2 OR old_calendar_id = ?2)"
		    " AND (?1 = 0 OR run_id = ?1) ORDER BY id DESC LIMIT ?3"
		  : "SELECT id, run_id, time_ns, op, item_id, calendar_id, name, uid,"
		    " old_calendar_id, old_name, old_data, old_version, new_version"
		    " FROM journal WHERE run_id = ?1 OR ?1 = 0 ORDER BY id DESC LIMIT ?3", err);
	if (st) {
		sqlite3_bind_int64(st, 1, run_id);
		sqlite3_bind_int64(st, 2, calendar_id);
		sqlite3_bind_int(st, 3, limit);
		r = sqlstore_collect(s, st, (row_fn)row_journal,
			    (GDestroyNotify)store_journal_entry_free, err);
	}
	g_mutex_unlock(&s->lock);
	return r;
}

gint64 sqlstore_scalar(sqlstore *s, const char *sql, GError **err)
{
	sqlite3_stmt *st = sqlstore_stmt(s, sql, err);
	gint64 v = -1;

	if (!st)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	else
		sqlstore_error(s, err, sql);
	sqlite3_reset(st);
	return v;
}

gboolean sqlstore_stats(store *base, store_stats *out, GError **err)
{
	sqlstore *s = sqlstore_of(base);
	gboolean ok;

	g_mutex_lock(&s->lock);
	ok = (out->mailboxes = sqlstore_scalar(s, "SELECT count(*) FROM mailboxes", err)) >= 0 &&
	     (out->calendars = sqlstore_scalar(s, "SELECT count(*) FROM calendars", err)) >= 0 &&
	     (out->items = sqlstore_scalar(s, "SELECT count(*) FROM items", err)) >= 0 &&
	     (out->bytes = sqlstore_scalar(s, "SELECT coalesce(sum(length(data)), 0) FROM items", err)) >= 0 &&
	     (out->journal_entries = sqlstore_scalar(s, "SELECT count(*) FROM journal", err)) >= 0 &&
	     (out->runs = sqlstore_scalar(s, "SELECT count(*) FROM runs", err)) >= 0 &&
	     (out->last_change = sqlstore_scalar(s, "SELECT coalesce(max(seq), 0) FROM changes", err)) >= 0;
	g_mutex_unlock(&s->lock);
	return ok;
}

gint64 sqlstore_root_mtime(store *base, GError **err)
{
	sqlstore *s = sqlstore_of(base);
	gint64 v;

	g_mutex_lock(&s->lock);
	v = sqlstore_scalar(s, "SELECT coalesce((SELECT value FROM meta"
		   " WHERE key = 'root_mtime_ns'), 0)", err);
	g_mutex_unlock(&s->lock);
	return v;
}

gint64 sqlstore_last_change(store *base, GError **err)
{
	sqlstore *s = sqlstore_of(base);
	gint64 v;

	g_mutex_lock(&s->lock);
	v = sqlstore_scalar(s, "SELECT coalesce(max(seq), 0) FROM changes", err);
	g_mutex_unlock(&s->lock);
	return v;
}

static gpointer row_reply(sqlite3_stmt *st)
{
	gint64 *v = g_new(gint64, 2);

	v[0] = sqlite3_column_int64(st, 0);
	v[1] = sqlite3_column_int64(st, 1);
	return v;
}

gboolean sqlstore_reply_get(store *base, gint64 mailbox_id, const char *uid,
			     const char *attendee, gint64 *when,
			     gint64 *sequence, GError **err)
{
	sqlstore *s = sqlstore_of(base);
	char *who = g_ascii_strdown(attendee, -1);
	sqlite3_stmt *st;
	gint64 *v = NULL;

	g_mutex_lock(&s->lock);
	st = sqlstore_stmt(s, "SELECT reply_time, sequence FROM replies"
		  " WHERE mailbox_id = ? AND uid = ? AND attendee = ?", err);
	if (st) {
		sqlite3_bind_int64(st, 1, mailbox_id);
		sqlstore_bind_text(st, 2, uid);
		sqlstore_bind_text(st, 3, who);
		v = sqlstore_one(s, st, row_reply, "reply", err);
	}
	g_mutex_unlock(&s->lock);
	g_free(who);
	if (!v)
		return FALSE;
	*when = v[0];
	*sequence = v[1];
	g_free(v);
	return TRUE;
}

gboolean sqlstore_reply_put(store *base, gint64 mailbox_id, const char *uid,
			     const char *attendee, gint64 when, gint64 sequence,
			     GError **err)
{
	sqlstore *s = sqlstore_of(base);
	char *who = g_ascii_strdown(attendee, -1);
	sqlite3_stmt *st;
	gboolean ok = FALSE;

	g_mutex_lock(&s->lock);
	st = sqlstore_stmt(s, "INSERT OR REPLACE INTO replies(mailbox_id, uid, attendee,"
		  " reply_time, sequence) VALUES(?, ?, ?, ?, ?)", err);
	if (st) {
		sqlite3_bind_int64(st, 1, mailbox_id);
		sqlstore_bind_text(st, 2, uid);
		sqlstore_bind_text(st, 3, who);
		sqlite3_bind_int64(st, 4, when);
		sqlite3_bind_int64(st, 5, sequence);
		ok = sqlstore_step_done(s, st, err, "record reply");
	}
	g_mutex_unlock(&s->lock);
	g_free(who);
	return ok;
}


static gpointer row_stamp(sqlite3_stmt *st)
{
	return g_strdup_printf("%" G_GINT64_FORMAT "/%" G_GINT64_FORMAT,
			       (gint64)sqlite3_column_int64(st, 0),
			       (gint64)sqlite3_column_int64(st, 1));
}

char *sqlstore_mailbox_stamp(store *base, gint64 mailbox_id, GError **err)
{
	sqlstore *s = sqlstore_of(base);
	sqlite3_stmt *st;
	char *stamp = NULL;

	/* its latest change, and its item count, which an item moved out of
	 * it (logged under the mailbox it went to) changes */
	g_mutex_lock(&s->lock);
	st = sqlstore_stmt(s, "SELECT (SELECT coalesce(max(seq), 0) FROM changes"
		  " WHERE mailbox_id = ?1), (SELECT count(*) FROM items"
		  " WHERE calendar_id IN (SELECT id FROM calendars"
		  " WHERE mailbox_id = ?1))", err);
	if (st) {
		sqlite3_bind_int64(st, 1, mailbox_id);
		stamp = sqlstore_one(s, st, row_stamp, "mailbox stamp", err);
	}
	g_mutex_unlock(&s->lock);
	return stamp;
}

/* status and resolved (which may be NULL) */
static gpointer row_scan(sqlite3_stmt *st)
{
	char **v = g_new0(char *, 2);

	v[0] = sqlstore_col_text(st, 0);
	v[1] = sqlstore_col_text(st, 1);
	return v;
}

gboolean sqlstore_zone_scan_get(store *base, gint64 mailbox_id, const char *key,
				char **status, char **resolved, GError **err)
{
	sqlstore *s = sqlstore_of(base);
	sqlite3_stmt *st;
	char **v = NULL;

	g_mutex_lock(&s->lock);
	st = sqlstore_stmt(s, "SELECT status, resolved FROM zone_scans"
		  " WHERE mailbox_id = ? AND key = ?", err);
	if (st) {
		sqlite3_bind_int64(st, 1, mailbox_id);
		sqlstore_bind_text(st, 2, key);
		v = sqlstore_one(s, st, row_scan, "zone scan", err);
	}
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
	sqlite3_stmt *st;
	gboolean ok = FALSE;

	g_mutex_lock(&s->lock);
	st = sqlstore_stmt(s, "INSERT OR REPLACE INTO zone_scans(mailbox_id, key,"
		  " status, resolved) VALUES(?, ?, ?, ?)", err);
	if (st) {
		sqlite3_bind_int64(st, 1, mailbox_id);
		sqlstore_bind_text(st, 2, key);
		sqlstore_bind_text(st, 3, status);
		sqlstore_bind_text(st, 4, resolved);
		ok = sqlstore_step_done(s, st, err, "record zone scan");
	}
	g_mutex_unlock(&s->lock);
	return ok;
}
