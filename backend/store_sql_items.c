/* store_sql_items.c - the SQL store's items: listing, reading, writing,
 * renaming and deleting them, each write journaled and logged */
#include "store_sql.h"
#include "error.h"
#include "item.h"

#include <string.h>

/* ---- items ---- */

/* An item's verdict: the one recorded for its version in checks
 * (store_items_set_checked), else the one written with its bytes. */
#define ITEM_CHECKED "coalesce((SELECT key FROM checks WHERE checks.item_id = items.id" \
	" AND checks.version = items.version), items.checked)"
#define ITEM_COLS_HEAD "id, calendar_id, name, uid, length(data), version, mtime_ns, "
#define ITEM_COLS ITEM_COLS_HEAD ITEM_CHECKED
#define ITEM_COLS_DATA ITEM_COLS ", data"
/* what a write gives back: the verdict it wrote */
#define ITEM_COLS_WRITTEN ITEM_COLS_HEAD "checked"
#define SQL_ITEM_LIST "SELECT " ITEM_COLS " FROM items WHERE calendar_id = ?1 ORDER BY id"

static gpointer row_item(sql_row *r)
{
	store_item *it = g_new0(store_item, 1);

	it->id = sql_i64(r, 0);
	it->calendar_id = sql_i64(r, 1);
	it->name = sql_text(r, 2);
	it->uid = sql_text(r, 3);
	it->size = sql_i64(r, 4);
	it->version = sql_i64(r, 5);
	it->mtime_ns = sql_i64(r, 6);
	it->checked = sql_text(r, 7);
	return it;
}

static gpointer row_item_data(sql_row *r)
{
	store_item *it = row_item(r);

	it->data = sql_bytes(r, 8);
	return it;
}

GPtrArray *sqlstore_item_list(store *base, gint64 calendar_id, GError **err)
{
	sqlstore *s = sqlstore_of(base);
	sql_args a = { 0 };
	gboolean cached;
	GPtrArray *r;

	sql_arg_i64(&a, calendar_id);
	g_mutex_lock(&s->lock);
	cached = sqlstore_cache_usable(s);
	r = sqlstore_collect(s, SQL_ITEM_LIST, &a, row_item, (GDestroyNotify)store_item_free,
			     err);
	/* a listing comes before the files are opened: keep their rows */
	for (guint i = 0; cached && r && i < r->len; i++)
		sqlstore_cache_put(s, SQL_CACHE_ITEM, ((store_item *)r->pdata[i])->id,
			  store_item_copy(r->pdata[i]));
	g_mutex_unlock(&s->lock);
	return r;
}

static store_item *item_get_locked(sqlstore *s, gint64 id, gboolean with_data,
				   GError **err)
{
	sql_args a = { 0 };

	sql_arg_i64(&a, id);
	return sqlstore_one(s, with_data
		      ? "SELECT " ITEM_COLS_DATA " FROM items WHERE id = ?1"
		      : "SELECT " ITEM_COLS " FROM items WHERE id = ?1",
		      &a, with_data ? row_item_data : row_item, "item", err);
}

/* An item's row without its bytes, for the cache. */
static store_item *item_copy_bare(const store_item *p)
{
	store_item *i = store_item_copy(p);

	g_clear_pointer(&i->data, g_bytes_unref);
	return i;
}

/* Item id's bare row read with its neighbours (sql_driver.item_near)
 * into the cache, and a copy of it; NULL when the query failed or id was
 * not among them (the caller then asks for id alone, which says why).
 * s->lock held, the cache usable. */
static store_item *item_get_near_locked(sqlstore *s, gint64 id)
{
	sql_args a = { 0 };
	store_item *found = NULL;
	GPtrArray *r;

	sql_arg_i64(&a, id);
	sql_arg_i64(&a, id - s->drv->item_near);
	sql_arg_i64(&a, id + s->drv->item_near);
	if (!(r = sqlstore_collect(s, "SELECT " ITEM_COLS " FROM items WHERE calendar_id ="
				   " (SELECT calendar_id FROM items WHERE id = ?1)"
				   " AND id BETWEEN ?2 AND ?3",
				   &a, row_item, (GDestroyNotify)store_item_free, NULL)))
		return NULL;
	for (guint k = 0; k < r->len; k++) {
		store_item *it = r->pdata[k];

		if (it->id == id)
			found = store_item_copy(it);
		sqlstore_cache_put(s, SQL_CACHE_ITEM, it->id, g_steal_pointer(&r->pdata[k]));
	}
	g_ptr_array_unref(r);
	return found;
}

store_item *sqlstore_item_get(store *base, gint64 id, gboolean with_data,
			       GError **err)
{
	sqlstore *s = sqlstore_of(base);
	gboolean cached;
	store_item *i;

	g_mutex_lock(&s->lock);
	cached = sqlstore_cache_usable(s);
	if (cached && !with_data && (i = sqlstore_cache_get(s, SQL_CACHE_ITEM, id)))
		i = store_item_copy(i);
	else if (cached && !with_data && s->drv->item_near && (i = item_get_near_locked(s, id)))
		;
	else if ((i = item_get_locked(s, id, with_data, err)) && cached)
		sqlstore_cache_put(s, SQL_CACHE_ITEM, id, item_copy_bare(i));
	g_mutex_unlock(&s->lock);
	return i;
}

GPtrArray *sqlstore_item_list_committed(store *base, gint64 calendar_id, GError **err)
{
	sqlstore *s = sqlstore_of(base), *on = sqlstore_committed_begin(s);
	sql_args a = { 0 };
	GPtrArray *out;

	sql_arg_i64(&a, calendar_id);
	out = sqlstore_collect(on, SQL_ITEM_LIST, &a, row_item, (GDestroyNotify)store_item_free,
			       err);
	sqlstore_committed_end(s, on);
	return out;
}

store_item *sqlstore_item_get_committed(store *base, gint64 id, GError **err)
{
	sqlstore *s = sqlstore_of(base), *on = sqlstore_committed_begin(s);
	store_item *i = item_get_locked(on, id, TRUE, err);

	sqlstore_committed_end(s, on);
	return i;
}

static store_item *item_find_locked(sqlstore *s, gint64 calendar_id,
				    const char *name, gboolean with_data,
				    GError **err)
{
	sql_args a = { 0 };

	sql_arg_i64(&a, calendar_id);
	sql_arg_text(&a, name);
	return sqlstore_one(s, with_data
		      ? "SELECT " ITEM_COLS_DATA " FROM items WHERE calendar_id = ?1 AND name = ?2"
		      : "SELECT " ITEM_COLS " FROM items WHERE calendar_id = ?1 AND name = ?2",
		      &a, with_data ? row_item_data : row_item, name, err);
}

store_item *sqlstore_item_find(store *base, gint64 calendar_id,
				const char *name, gboolean with_data, GError **err)
{
	sqlstore *s = sqlstore_of(base);
	gboolean cached;
	store_item *i;

	g_mutex_lock(&s->lock);
	cached = sqlstore_cache_usable(s);
	/* the row as it is now replaces one kept from before: on a server,
	 * another host's change reaches the cache only when it is heard of,
	 * and an open after this lookup must read the version it found */
	if ((i = item_find_locked(s, calendar_id, name, with_data, err)) && cached)
		sqlstore_cache_put(s, SQL_CACHE_ITEM, i->id, item_copy_bare(i));
	g_mutex_unlock(&s->lock);
	return i;
}

/* The item other than except_a and except_b with that UID, or NULL. */
static store_item *uid_taken(sqlstore *s, gint64 calendar_id, const char *uid,
			     gint64 except_a, gint64 except_b, GError **err)
{
	sql_args a = { 0 };
	GError *e = NULL;
	store_item *i;

	sql_arg_i64(&a, calendar_id);
	sql_arg_text(&a, uid);
	sql_arg_i64(&a, except_a);
	sql_arg_i64(&a, except_b);
	i = sqlstore_one(s, "SELECT " ITEM_COLS " FROM items WHERE calendar_id = ?1"
		   " AND uid = ?2 AND id != ?3 AND id != ?4 LIMIT 1", &a, row_item,
		   "find UID", &e);
	if (e && !g_error_matches(e, CALFS_ERROR, CALFS_ERROR_NOTFOUND))
		g_propagate_error(err, g_steal_pointer(&e));
	g_clear_error(&e);
	return i;
}

store_item *sqlstore_item_find_uid(store *base, gint64 calendar_id,
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

gint64 sqlstore_item_reserve_id(store *base, gint64 calendar_id, GError **err)
{
	sqlstore *s = sqlstore_of(base);
	gint64 id;

	(void)calendar_id;

	g_mutex_lock(&s->lock);
	id = sqlstore_scalar(s, SQL_NEW_ITEM_ID(s), NULL, err);
	g_mutex_unlock(&s->lock);
	return MAX(id, 0);
}

GPtrArray *sqlstore_item_range_committed(store *base, gint64 calendar_id, gint64 first,
					 gint64 last, guint limit, GError **err)
{
	sqlstore *s = sqlstore_of(base), *on = sqlstore_committed_begin(s);
	sql_args a = { 0 };
	GPtrArray *out;

	sql_arg_i64(&a, calendar_id);
	sql_arg_i64(&a, first);
	sql_arg_i64(&a, last);
	sql_arg_i64(&a, limit ? (gint64)limit : G_MAXINT64);
	/* +id: the calendar's index, never a walk of the items' ids from
	 * first to last (which both planners chose, for LIMIT, or for
	 * PostgreSQL's plan of unknown bounds).  SQLite sorted the rows it
	 * found by that index, bytes and all, in a temporary B-tree (23,000
	 * instructions an item in a fix, twice a read by id): it sorts their
	 * ids, and reads the rows by id in that order. */
	out = sqlstore_collect(on, SQL_DIALECT(s,
		"SELECT " ITEM_COLS_DATA " FROM items WHERE id IN (SELECT id FROM items"
		" WHERE calendar_id = ?1 AND +id BETWEEN ?2 AND ?3 ORDER BY +id LIMIT ?4)"
		" ORDER BY id",
		"SELECT " ITEM_COLS_DATA " FROM items WHERE"
		" calendar_id = ?1 AND +id BETWEEN ?2 AND ?3 ORDER BY +id LIMIT ?4"),
			       &a, row_item_data, (GDestroyNotify)store_item_free, err);
	sqlstore_committed_end(s, on);
	return out;
}

/* No item of calendar ?2 is called ?3 or has UID ?4 (each an index's). */
#define ITEM_NONE_LIKE "NOT EXISTS (SELECT 1 FROM items WHERE calendar_id = ?2 AND" \
	" name = ?3) AND NOT EXISTS (SELECT 1 FROM items WHERE calendar_id = ?2 AND uid = ?4)"

/* The item called req->name (*old, with its data, or NULL) and another
 * with req->uid (*taken, or NULL), in one query: a write asks both. */
static gboolean find_for_put(sqlstore *s, const store_put *req, store_item **old,
			     store_item **taken, GError **err)
{
	sql_args a = { 0 };
	GPtrArray *rows;

	sql_arg_i64(&a, req->calendar_id);
	sql_arg_text(&a, req->name);
	sql_arg_text(&a, req->uid);
	/* by UID, the item of the UID is replaced whatever its name: its
	 * bytes are wanted too */
	rows = sqlstore_collect(s, req->by_uid
				? "SELECT " ITEM_COLS_DATA " FROM items"
				  " WHERE calendar_id = ?1 AND name = ?2 UNION ALL"
				  " SELECT " ITEM_COLS_DATA " FROM items"
				  " WHERE calendar_id = ?1 AND uid = ?3 AND name != ?2"
				: "SELECT " ITEM_COLS_DATA " FROM items"
				  " WHERE calendar_id = ?1 AND name = ?2 UNION ALL"
				  " SELECT " ITEM_COLS ", NULL FROM items"
				  " WHERE calendar_id = ?1 AND uid = ?3 AND name != ?2",
				&a, row_item_data, (GDestroyNotify)store_item_free, err);
	*old = *taken = NULL;
	if (!rows)
		return FALSE;
	for (guint i = 0; i < rows->len; i++) {
		store_item *it = rows->pdata[i];
		store_item **to = !strcmp(it->name, req->name) ? old : taken;

		if (!*to)
			*to = g_steal_pointer(&rows->pdata[i]);
	}
	g_ptr_array_unref(rows);
	/* the item of the UID, under another name, is the one replaced */
	if (req->by_uid && *taken) {
		store_item_free(*old);
		*old = g_steal_pointer(taken);
	}
	return TRUE;
}

/* Set *old to a copy of req->expect when that is still the stored version
 * of the item req replaces (same calendar, name and UID): nothing need be
 * read again to write over it.  *old is NULL when it is not (the item is
 * then looked up).  FALSE only on a store error. */
static gboolean expected(sqlstore *s, const store_put *req, store_item **old,
			 GError **err)
{
	const store_item *x = req->expect;
	sql_args a = { 0 };
	GError *e = NULL;
	gint64 version;

	*old = NULL;
	if (req->by_uid || x->calendar_id != req->calendar_id || !x->data ||
	    strcmp(x->name, req->name) || strcmp(x->uid, req->uid))
		return TRUE;
	sql_arg_i64(&a, x->id);
	sql_arg_i64(&a, x->calendar_id);
	sql_arg_text(&a, x->name);
	/* a rename keeps the version: the place is asked for too */
	version = sqlstore_scalar(s, "SELECT version FROM items WHERE id = ?1"
				  " AND calendar_id = ?2 AND name = ?3", &a, &e);
	if (e) {
		gboolean gone = g_error_matches(e, CALFS_ERROR, CALFS_ERROR_NOTFOUND);

		if (!gone)
			g_propagate_error(err, e);
		else
			g_error_free(e);
		return gone;
	}
	if (version == x->version)
		*old = store_item_copy(x);
	return TRUE;
}

/* The arguments of an INSERT of req's item: ?1 id, ?2 calendar, ?3 name,
 * ?4 UID, ?5 bytes, ?6 mtime_ns, ?7 checked. */
static void insert_args(sql_args *a, gint64 id, const store_put *req, gint64 mtime_ns)
{
	gsize len;
	const void *bytes = g_bytes_get_data(req->data, &len);

	sql_arg_i64(a, id);
	sql_arg_i64(a, req->calendar_id);
	sql_arg_text(a, req->name);
	sql_arg_text(a, req->uid);
	sql_arg_blob(a, bytes, len);
	sql_arg_i64(a, mtime_ns);
	sql_arg_text(a, req->checked);
}

/* Insert req's item as new (only_new: unless an item of the calendar has
 * its name or UID; NOTFOUND then).  The item as stored, or NULL with err
 * set. */
static store_item *insert_item(sqlstore *s, const store_put *req, gboolean only_new,
			       GError **err)
{
	sql_args a = { 0 };
	/* PostgreSQL takes a new id in the INSERT: one round trip */
	gint64 id = req->reserved_id;

	if (!id && !s->drv->postgresql &&
	    (id = sqlstore_scalar(s, SQL_NEW_ITEM_ID(s), NULL, err)) <= 0)
		return NULL;
	insert_args(&a, id, req, sqlstore_now_ns());
	if (only_new)
		return sqlstore_one(s, SQL_DIALECT(s, "INSERT INTO items(id, calendar_id, name,"
			     " uid, data, version, mtime_ns, checked) SELECT ?1, ?2, ?3, ?4, ?5, 1,"
			     " ?6, ?7 WHERE " ITEM_NONE_LIKE " RETURNING " ITEM_COLS_WRITTEN,
			     /* nextval only for the row inserted */
			     "INSERT INTO items(id, calendar_id, name, uid, data, version, mtime_ns,"
			     " checked) SELECT CASE WHEN ?1 > 0 THEN ?1 ELSE nextval('item_ids') END,"
			     " ?2, ?3, ?4, ?5, 1, ?6, ?7 WHERE " ITEM_NONE_LIKE
			     " RETURNING " ITEM_COLS_WRITTEN), &a, row_item, "write item", err);
	return sqlstore_one(s, SQL_DIALECT(s, "INSERT INTO items(id, calendar_id, name, uid,"
		     " data, version, mtime_ns, checked) VALUES(?1, ?2, ?3, ?4, ?5, 1, ?6, ?7)"
		     " RETURNING " ITEM_COLS_WRITTEN, "INSERT INTO items(id, calendar_id, name, uid,"
		     " data, version, mtime_ns, checked) VALUES(CASE WHEN ?1 > 0 THEN ?1"
		     " ELSE nextval('item_ids') END, ?2, ?3, ?4, ?5, 1, ?6, ?7)"
		     " RETURNING " ITEM_COLS_WRITTEN), &a, row_item, "write item", err);
}

/* ---- new items of a calendar found empty (in a batch) ----
 *
 * An import's batch writes hundreds of new items into calendars it has
 * just made.  A write runs in a savepoint, so that it may fail alone,
 * and learns from its INSERT (PostgreSQL) or a look-up (SQLite) that
 * the item is new: on PostgreSQL four statements and a round trip an
 * item, with calfs and the server taking turns.  Every writer of the
 * names and UIDs of a calendar's items locks the calendar's row first
 * (item_put, item_rename), so once the transaction has locked a
 * calendar that held no item, it knows every name and UID there: those
 * it wrote itself.  An item whose name and UID are not among them is
 * surely new.  Its INSERT and journal row are sent without waiting
 * (PostgreSQL's pipeline), with an id taken beforehand, and without a
 * savepoint: nothing in them can fail for that item alone (names and
 * UIDs that are not UTF-8 take the usual way), and a failure of the
 * server fails the batch.  fresh holds what is known.
 *
 * On PostgreSQL they are not even sent one by one: a statement costs the
 * server's backend an executor's start and end, more than the rows'
 * index entries.  They wait in s->queued, and go with their journal rows
 * as one statement of arrays before the connection's next statement of
 * any kind (sqlstore_send_queued), so that every statement still sees
 * the ones before it; or when QUEUED_MAX items or QUEUED_BYTES wait. */

/* How many item ids are taken at once. */
#define SPARE_IDS 128
/* How many new items, or bytes of them, wait at most (PostgreSQL). */
#define QUEUED_MAX 512
#define QUEUED_BYTES (8 << 20)

static void append_id(sql_row *r, gpointer ids)
{
	gint64 id = sql_i64(r, 0);

	g_array_append_val((GArray *)ids, id);
}

/* A new item id, from those taken beforehand (smallest first); -1 with
 * err set.  PostgreSQL takes them from its sequence.  SQLite moves the
 * AUTOINCREMENT counter of item_ids past a block, in the transaction:
 * a rollback gives the block back, so it goes with every rollback and
 * commit (sqlstore_drop_spare_ids). */
static gint64 spare_id(sqlstore *s, GError **err)
{
	gint64 id;

	if (!s->spare_ids->len) {
		sql_args a = { 0 };

		sql_arg_i64(&a, SPARE_IDS);
		if (s->drv->postgresql) {
			if (!sqlstore_each(s, "SELECT nextval('item_ids') FROM generate_series(1, ?1)",
					   &a, append_id, s->spare_ids, "take item ids", err))
				return -1;
		} else {
			GError *e = NULL;
			gint64 last = sqlstore_scalar(s, "UPDATE sqlite_sequence SET seq = seq + ?1"
						      " WHERE name = 'item_ids' RETURNING seq", &a, &e);

			/* no id taken yet: no counter (no row), or one at 0 */
			if (last == 0 || g_error_matches(e, CALFS_ERROR, CALFS_ERROR_NOTFOUND)) {
				g_clear_error(&e);
				return sqlstore_scalar(s, SQL_NEW_ITEM_ID(s), NULL, err);
			}
			if (last < 0) {
				g_propagate_error(err, e);
				return -1;
			}
			for (id = last - SPARE_IDS + 1; id <= last; id++)
				g_array_append_val(s->spare_ids, id);
		}
		if (!s->spare_ids->len) {
			g_set_error(err, CALFS_ERROR, CALFS_ERROR_IO, "store %s: no item id",
				    s->describe);
			return -1;
		}
	}
	id = g_array_index(s->spare_ids, gint64, 0);
	g_array_remove_index(s->spare_ids, 0);
	return id;
}

void sqlstore_drop_spare_ids(sqlstore *s)
{
	if (!s->drv->postgresql)
		g_array_set_size(s->spare_ids, 0);
}

static void queued_clear(sql_queued *q)
{
	g_free(q->name);
	g_free(q->uid);
	g_free(q->checked);
	g_free(q->note);
	g_bytes_unref(q->data);
}

void sqlstore_drop_queued(sqlstore *s)
{
	for (guint i = 0; i < s->queued->len; i++)
		queued_clear(&g_array_index(s->queued, sql_queued, i));
	g_array_set_size(s->queued, 0);
	s->queued_bytes = 0;
}

/* The queued items, then their journal rows, in the order queued (the
 * journal's ids follow it). */
#define SQL_PUT_QUEUED "WITH u AS MATERIALIZED (SELECT * FROM unnest(?1::bigint[]," \
	" ?2::bigint[], ?3::text[], ?4::text[], ?5, ?6::bigint[], ?7::text[], ?8::text[]," \
	" ?9::bigint[]) WITH ORDINALITY AS u(id, c, n, uid, d, t, chk, note, run, ord))," \
	" i AS (INSERT INTO items(id, calendar_id, name, uid, data, version, mtime_ns," \
	" checked) SELECT id, c, n, uid, d, 1, t, chk FROM u ORDER BY ord)" \
	" INSERT INTO journal(run_id, time_ns, op, item_id, calendar_id, name, uid," \
	" old_calendar_id, old_name, old_data, old_version, new_version, note)" \
	" SELECT run, t, 'create', id, c, n, uid, 0, NULL, NULL, 0, 1, note" \
	" FROM u ORDER BY ord"

gboolean sqlstore_send_queued(sqlstore *s, GError **err)
{
	enum { ID, CALENDAR, NAME, UID, TIME, CHECKED, NOTE, RUN, COLUMNS };
	sql_array col[COLUMNS];
	char *lit[COLUMNS];
	sql_blobs data;
	sql_args a = { 0 };
	gboolean ok;
	gsize n;
	/* taken out first: sqlstore_send would send them again before it */
	sql_queued *q = g_array_steal(s->queued, &n);

	s->queued_bytes = 0;
	if (!n) {
		g_free(q);
		return TRUE;
	}
	for (int k = 0; k < COLUMNS; k++)
		sql_array_init(&col[k]);
	sql_blobs_init(&data);
	for (gsize i = 0; i < n; i++) {
		sql_queued *e = &q[i];
		gsize len;
		const void *bytes = g_bytes_get_data(e->data, &len);

		sql_array_i64(&col[ID], e->id);
		sql_array_i64(&col[CALENDAR], e->calendar_id);
		sql_array_text(&col[NAME], e->name);
		sql_array_text(&col[UID], e->uid);
		sql_blobs_add(&data, bytes, len);
		sql_array_i64(&col[TIME], e->mtime_ns);
		sql_array_text(&col[CHECKED], e->checked);
		sql_array_text(&col[NOTE], e->note);
		sql_array_i64(&col[RUN], e->run_id);
	}
	for (int k = 0; k < COLUMNS; k++)
		lit[k] = sql_array_end(&col[k]);
	sql_arg_text(&a, lit[ID]);
	sql_arg_text(&a, lit[CALENDAR]);
	sql_arg_text(&a, lit[NAME]);
	sql_arg_text(&a, lit[UID]);
	sql_arg_blobs(&a, &data);
	sql_arg_text(&a, lit[TIME]);
	sql_arg_text(&a, lit[CHECKED]);
	sql_arg_text(&a, lit[NOTE]);
	sql_arg_text(&a, lit[RUN]);
	ok = sqlstore_send(s, SQL_PUT_QUEUED, &a, "write items", err);
	if (!ok)
		s->doomed = TRUE;
	for (int k = 0; k < COLUMNS; k++)
		g_free(lit[k]);
	sql_blobs_clear(&data);
	for (gsize i = 0; i < n; i++)
		queued_clear(&q[i]);
	g_free(q);
	return ok;
}

/* After the transaction locked calendar id (with an import's write):
 * whether it held any item, noted in fresh once.  FALSE with err set
 * when the store fails. */
static gboolean note_fresh(sqlstore *s, const store_put *req, GError **err)
{
	gpointer key = GSIZE_TO_POINTER(req->calendar_id);
	sql_args a = { 0 };
	gint64 none;

	if (!s->batch || !req->by_uid || g_hash_table_contains(s->fresh, key))
		return TRUE;
	sql_arg_i64(&a, req->calendar_id);
	none = sqlstore_scalar(s, "SELECT CASE WHEN EXISTS (SELECT 1 FROM items"
			       " WHERE calendar_id = ?1) THEN 0 ELSE 1 END", &a, err);
	if (none < 0)
		return FALSE;
	g_hash_table_insert(s->fresh, key, none ? g_hash_table_new_full(g_str_hash, g_str_equal,
									 g_free, NULL) : NULL);
	return TRUE;
}

void sqlstore_note_made_calendar(sqlstore *s, gint64 calendar_id, gint64 mailbox_id)
{
	gpointer key = GSIZE_TO_POINTER(calendar_id);

	g_hash_table_insert(s->locked, key, GSIZE_TO_POINTER(mailbox_id));
	g_hash_table_insert(s->fresh, key, g_hash_table_new_full(g_str_hash, g_str_equal,
								 g_free, NULL));
}

/* The transaction wrote an item called name with uid in calendar id. */
static void fresh_wrote(sqlstore *s, gint64 calendar_id, const char *name, const char *uid)
{
	GHashTable *set = g_hash_table_lookup(s->fresh, GSIZE_TO_POINTER(calendar_id));

	if (set) {
		g_hash_table_add(set, g_strconcat("n", name, NULL));
		g_hash_table_add(set, g_strconcat("u", uid, NULL));
	}
}

static gboolean fresh_has(GHashTable *set, const char *kind, const char *v)
{
	char *key = g_strconcat(kind, v, NULL);
	gboolean has = g_hash_table_contains(set, key);

	g_free(key);
	return has;
}

/* Whether req is surely a new item (see above). */
static gboolean surely_new(sqlstore *s, const store_put *req)
{
	gpointer key = GSIZE_TO_POINTER(req->calendar_id);
	GHashTable *set;

	if (!s->batch || s->doomed || !req->by_uid || req->reserved_id ||
	    !g_hash_table_contains(s->locked, key) ||
	    !(set = g_hash_table_lookup(s->fresh, key)))
		return FALSE;
	return g_utf8_validate(req->name, -1, NULL) && g_utf8_validate(req->uid, -1, NULL) &&
	       !fresh_has(set, "n", req->name) && !fresh_has(set, "u", req->uid);
}

/* Write req, surely new, without waiting; the item as it will be stored,
 * or NULL with err set (the batch then fails). */
static store_item *put_new(sqlstore *s, const store_put *req, GError **err)
{
	gint64 mailbox_id = (gint64)GPOINTER_TO_SIZE(g_hash_table_lookup(
				s->locked, GSIZE_TO_POINTER(req->calendar_id)));
	gint64 id = spare_id(s, err), now = sqlstore_now_ns();
	sql_journal_entry j = { .op = "create", .calendar_id = req->calendar_id,
			    .name = req->name, .uid = req->uid, .note = req->note,
			    .new_version = 1, .item_id = id };
	sql_args a = { 0 };
	store_item *it;

	if (id < 0)
		return NULL;
	if (s->drv->postgresql) {
		sql_queued q = { .id = id, .calendar_id = req->calendar_id, .mtime_ns = now,
				 .name = g_strdup(req->name), .uid = g_strdup(req->uid),
				 .checked = g_strdup(req->checked), .note = g_strdup(req->note),
				 .data = g_bytes_ref(req->data) };

		if (!(q.run_id = sqlstore_current_run(s, err))) {
			queued_clear(&q);
			s->doomed = TRUE;
			return NULL;
		}
		g_array_append_val(s->queued, q);
		s->queued_bytes += g_bytes_get_size(req->data);
		if ((s->queued->len >= QUEUED_MAX || s->queued_bytes >= QUEUED_BYTES) &&
		    !sqlstore_send_queued(s, err))
			return NULL;
	} else {
		insert_args(&a, id, req, now);
		if (!sqlstore_send(s, "INSERT INTO items(id, calendar_id, name, uid, data,"
				   " version, mtime_ns, checked) VALUES(?1, ?2, ?3, ?4, ?5, 1,"
				   " ?6, ?7)", &a, "write item", err) ||
		    !sqlstore_journal(s, &j, err)) {
			/* no savepoint to roll back to: the item may be
			 * written without its journal row */
			s->doomed = TRUE;
			return NULL;
		}
	}
	sqlstore_log_change(s, STORE_CHANGE_ITEM_CREATE, mailbox_id, req->calendar_id, id,
			    req->name, 0, NULL);
	fresh_wrote(s, req->calendar_id, req->name, req->uid);
	it = g_new0(store_item, 1);
	it->id = id;
	it->calendar_id = req->calendar_id;
	it->name = g_strdup(req->name);
	it->uid = g_strdup(req->uid);
	it->size = g_bytes_get_size(req->data);
	it->version = 1;
	it->mtime_ns = now;
	it->checked = g_strdup(req->checked);
	return it;
}

store_item *sqlstore_item_put(store *base, const store_put *req,
			       store_put_result *result, GError **err)
{
	sqlstore *s = sqlstore_of(base);
	store_item *old = NULL, *item = NULL, *other = NULL;
	gint64 mailbox_id;
	sql_args a = { 0 };
	gsize len;
	const void *bytes = g_bytes_get_data(req->data, &len);
	sql_journal_entry j = { .calendar_id = req->calendar_id, .name = req->name,
			    .uid = req->uid, .note = req->note };
	const char *name = req->name;	/* by UID: the name of the item replaced */
	gint64 id = 0;

	if (!item_name_is_valid(req->name)) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_NAME,
			    "'%s': not an item name", req->name);
		return NULL;
	}
	g_mutex_lock(&s->lock);
	if (surely_new(s, req)) {
		if ((item = put_new(s, req, err)) && result)
			*result = STORE_PUT_CREATED;
		goto out;
	}
	if (!sqlstore_begin(s, err))
		goto out;
	if ((mailbox_id = sqlstore_calendar_lock(s, req->calendar_id, err)) < 0 ||
	    !note_fresh(s, req, err))
		goto fail;
	if (req->by_uid && !req->reserved_id && s->drv->postgresql) {
		/* an import's item is mostly new: written by the query that
		 * makes sure no item of the calendar has its name or UID, in
		 * one round trip; else looked for as any other.  (Not on
		 * SQLite, where a query is no round trip: an id would be
		 * taken for each item imported again.) */
		GError *e = NULL;

		if ((item = insert_item(s, req, TRUE, &e)))
			goto written;
		if (!g_error_matches(e, CALFS_ERROR, CALFS_ERROR_NOTFOUND)) {
			g_propagate_error(err, e);
			goto fail;
		}
		g_error_free(e);
	}
	if (req->expect && !expected(s, req, &old, err))
		goto fail;
	if (!old && !find_for_put(s, req, &old, &other, err))
		goto fail;
	if (other) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_EXISTS,
			    "UID %s is already used by %s", req->uid, other->name);
		goto fail;
	}
	if (old && g_bytes_equal(old->data, req->data) && !strcmp(old->uid, req->uid)) {
		if (result)
			*result = STORE_PUT_UNCHANGED;
		sqlstore_rollback(s);
		item = g_steal_pointer(&old);
		g_clear_pointer(&item->data, g_bytes_unref);
		goto out;
	}
	if (old) {
		id = old->id;
		name = j.name = old->name;
		sql_arg_text(&a, req->uid);
		sql_arg_blob(&a, bytes, len);
		sql_arg_i64(&a, sqlstore_now_ns());
		sql_arg_i64(&a, id);
		sql_arg_text(&a, req->checked);
		/* the row as stored comes back with the write: no read after it */
		item = sqlstore_one(s, "UPDATE items SET uid = ?1, data = ?2,"
			     " version = version + 1, mtime_ns = CASE WHEN ?3 > mtime_ns"
			     " THEN ?3 ELSE mtime_ns + 1 END, checked = ?5 WHERE id = ?4"
			     " RETURNING " ITEM_COLS_WRITTEN, &a, row_item, "write item", err);
		j.op = "update";
		j.uid = old->uid;	/* undo puts the old bytes back with it */
		j.old_data = g_bytes_get_data(old->data, &j.old_len);
		j.old_version = old->version;
		j.new_version = old->version + 1;
	} else {
		item = insert_item(s, req, FALSE, err);
	}
written:
	if (!item)
		goto fail;
	if (!old) {
		id = item->id;
		j.op = "create";
		j.new_version = 1;
	}
	j.item_id = id;
	fresh_wrote(s, req->calendar_id, name, req->uid);
	sqlstore_log_change(s, old ? STORE_CHANGE_ITEM_UPDATE : STORE_CHANGE_ITEM_CREATE,
		   mailbox_id, req->calendar_id, id, name, 0, NULL);
	/* the calendar's mtime moves at the commit (store_sql.c) */
	if (!sqlstore_journal(s, &j, err) || !sqlstore_commit(s, err))
		goto fail;
	if (result)
		*result = old ? STORE_PUT_UPDATED : STORE_PUT_CREATED;
	goto out;
fail:
	store_item_free(item);
	item = NULL;
	sqlstore_rollback(s);
out:
	g_mutex_unlock(&s->lock);
	store_item_free(old);
	store_item_free(other);
	return item;
}

/* Delete item i (with its data) inside a transaction, journaled. */
static gboolean delete_locked(sqlstore *s, store_item *i, gint64 mailbox_id,
			      GError **err)
{
	sql_args a = { 0 };
	sql_journal_entry j = { .op = "delete", .item_id = i->id,
			    .calendar_id = i->calendar_id, .name = i->name,
			    .uid = i->uid, .old_version = i->version };

	j.old_data = g_bytes_get_data(i->data, &j.old_len);
	sql_arg_i64(&a, i->id);
	sqlstore_log_change(s, STORE_CHANGE_ITEM_DELETE, mailbox_id, i->calendar_id, i->id,
		   i->name, 0, NULL);
	/* its verdict too: SQLite may give its id to a new item */
	return sqlstore_exec(s, "DELETE FROM checks WHERE item_id = ?1", &a, "delete item",
			     err) &&
	       sqlstore_exec(s, "DELETE FROM items WHERE id = ?1", &a, "delete item", err) &&
	       sqlstore_journal(s, &j, err);
}

/* Lock the calendars of item id (and target, when not 0) in id order, so
 * that two writers never wait for each other; then read the item again,
 * in case it moved before the lock was taken.  The item, or NULL. */
static store_item *lock_item(sqlstore *s, gint64 id, gint64 target,
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
		*cal = sqlstore_calendar_get_locked(s, lo, TRUE, err);
		if (*cal && hi != lo) {
			store_calendar *c2 = sqlstore_calendar_get_locked(s, hi, TRUE, err);

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

gboolean sqlstore_item_delete(store *base, gint64 id, GError **err)
{
	sqlstore *s = sqlstore_of(base);
	store_item *i = NULL;
	store_calendar *cal = NULL;
	gboolean ok = FALSE;

	g_mutex_lock(&s->lock);
	if (!sqlstore_begin(s, err))
		goto out;
	if (!(i = lock_item(s, id, 0, &cal, NULL, err)) ||
	    !delete_locked(s, i, cal->mailbox_id, err) || !sqlstore_commit(s, err))
		goto fail;
	ok = TRUE;
	goto out;
fail:
	sqlstore_rollback(s);
out:
	g_mutex_unlock(&s->lock);
	store_item_free(i);
	store_calendar_free(cal);
	return ok;
}

gboolean sqlstore_item_rename(store *base, gint64 id, gint64 calendar_id,
			       const char *name, GError **err)
{
	sqlstore *s = sqlstore_of(base);
	store_item *i = NULL, *target = NULL, *other = NULL;
	store_calendar *from = NULL, *to = NULL;
	sql_args a = { 0 };
	GError *e = NULL;
	gboolean ok = FALSE;
	sql_journal_entry j = { .op = "rename", .item_id = id,
			    .calendar_id = calendar_id, .name = name };

	if (!item_name_is_valid(name)) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_NAME,
			    "'%s': not an item name", name);
		return FALSE;
	}
	g_mutex_lock(&s->lock);
	if (!sqlstore_begin(s, err))
		goto out;
	if (!(i = lock_item(s, id, calendar_id, &from, &to, err)))
		goto fail;
	if (!to)
		to = sqlstore_calendar_get_locked(s, calendar_id, FALSE, err);
	if (!to)
		goto fail;
	/* a name the transaction did not write: no surely new item there */
	g_hash_table_replace(s->fresh, GSIZE_TO_POINTER(calendar_id), NULL);
	if (i->calendar_id == calendar_id && !strcmp(i->name, name)) {
		sqlstore_rollback(s);
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
	sql_arg_i64(&a, calendar_id);
	sql_arg_text(&a, name);
	sql_arg_i64(&a, sqlstore_now_ns());
	sql_arg_i64(&a, id);
	j.uid = i->uid;
	j.old_calendar_id = i->calendar_id;
	j.old_name = i->name;
	j.old_version = j.new_version = i->version;
	sqlstore_log_change(s, STORE_CHANGE_ITEM_RENAME, to->mailbox_id, calendar_id, id,
		   name, i->calendar_id, i->name);
	if (!sqlstore_exec(s, "UPDATE items SET calendar_id = ?1, name = ?2,"
		     " mtime_ns = CASE WHEN ?3 > mtime_ns THEN ?3 ELSE mtime_ns + 1 END"
		     " WHERE id = ?4",
		     &a, "rename item", err) || !sqlstore_journal(s, &j, err) ||
	    !sqlstore_touch(s, SQL_TOUCH_CALENDAR, calendar_id, err) ||
	    (i->calendar_id != calendar_id &&
	     !sqlstore_touch(s, SQL_TOUCH_CALENDAR, i->calendar_id, err)) ||
	    !sqlstore_commit(s, err))
		goto fail;
	ok = TRUE;
	goto out;
fail:
	sqlstore_rollback(s);
out:
	g_mutex_unlock(&s->lock);
	store_item_free(i);
	store_item_free(target);
	store_item_free(other);
	store_calendar_free(from);
	store_calendar_free(to);
	return ok;
}

gboolean sqlstore_items_set_checked(store *base, const char *key, const store_version *v,
				    guint n, GError **err)
{
	sqlstore *s = sqlstore_of(base);
	gboolean ok = TRUE;

	g_mutex_lock(&s->lock);
	if (s->drv->postgresql) {
		sql_array col[2];
		char *ids, *versions;
		sql_args a = { 0 };

		sql_array_init(&col[0]);
		sql_array_init(&col[1]);
		for (guint i = 0; i < n; i++) {
			sql_array_i64(&col[0], v[i].id);
			sql_array_i64(&col[1], v[i].version);
		}
		ids = sql_array_end(&col[0]);
		versions = sql_array_end(&col[1]);

		sql_arg_text(&a, key);
		sql_arg_text(&a, ids);
		sql_arg_text(&a, versions);
		ok = sqlstore_exec_relaxed(s, "INSERT INTO checks(item_id, version, key)"
					   " SELECT items.id, items.version, ?1 FROM items"
					   " JOIN unnest(?2::bigint[], ?3::bigint[]) AS c(id, version)"
					   " ON items.id = c.id AND items.version = c.version"
					   " ON CONFLICT (item_id) DO UPDATE"
					   " SET version = excluded.version, key = excluded.key",
					   &a, "mark items checked", err);
		g_free(ids);
		g_free(versions);
		if (ok)
			s->checks_marked += n;
	} else {
		/* no round trips to save: one statement an item, which
		 * store_batch_begin() puts in one transaction; a row of its
		 * own (setting items.checked rewrote the item's row with its
		 * bytes, and a fix wrote the whole file over once more) */
		for (guint i = 0; ok && i < n; i++) {
			sql_args a = { 0 };

			sql_arg_text(&a, key);
			sql_arg_i64(&a, v[i].id);
			sql_arg_i64(&a, v[i].version);
			ok = sqlstore_exec_relaxed(s, "INSERT INTO checks(item_id, version, key)"
						   " SELECT id, version, ?1 FROM items"
						   " WHERE id = ?2 AND version = ?3"
						   " ON CONFLICT(item_id) DO UPDATE"
						   " SET version = excluded.version, key = excluded.key",
						   &a, "mark item checked", err);
		}
	}
	/* not a change: the cache would not hear of it */
	for (guint i = 0; i < n; i++)
		g_hash_table_remove(s->cache[SQL_CACHE_ITEM], GSIZE_TO_POINTER(v[i].id));
	g_mutex_unlock(&s->lock);
	return ok;
}

GPtrArray *sqlstore_item_scan(store *base, gint64 calendar_id, const char *contains,
			       GError **err)
{
	sqlstore *s = sqlstore_of(base), *on = sqlstore_committed_begin(s);
	sql_args a = { 0 };
	GPtrArray *r;

	sql_arg_i64(&a, calendar_id);
	sql_arg_blob(&a, contains, strlen(contains));
	/* on a reader: the store's lock, held for the whole search of a
	 * calendar's bytes, was where fix's other worker waited to write */
	r = sqlstore_collect(on, SQL_DIALECT(s,
		"SELECT " ITEM_COLS_DATA " FROM items WHERE calendar_id = ?1"
		" AND contains(data, ?2) ORDER BY id",	/* store_sqlite.c's */
		"SELECT " ITEM_COLS_DATA " FROM items WHERE calendar_id = ?1"
		" AND position(?2 IN data) > 0 ORDER BY id"), &a,
		       row_item_data, (GDestroyNotify)store_item_free, err);
	sqlstore_committed_end(s, on);
	return r;
}

