#include "store_shard.h"
#include "error.h"
#include "log.h"

#include <string.h>

#define SHARD_SHIFT 40
#define LOCAL_MASK ((G_GINT64_CONSTANT(1) << SHARD_SHIFT) - 1)
#define MAX_SHARDS 255
/* changes kept for followers that are behind */
#define RING_MAX 20000
#define PULL_PAGE 1000

typedef struct {
	char *name;
	guint index;		/* in shardstore.shards: the top bits of its ids */
	store *st;
	GPtrArray *patterns;	/* GPatternSpec*; empty for [store] */
	gint64 cursor;		/* the shard's last change read */
} shard;

typedef struct {
	store base;
	GPtrArray *shards;	/* shard*, [store] first */
	char *describe;
	GMutex lock;		/* the merged change log */
	GPtrArray *ring;	/* store_change*, numbered by next_seq */
	gint64 next_seq;
} shardstore;

static shardstore *of(store *s)
{
	return (shardstore *)s;
}

static gint64 gid(guint k, gint64 local)
{
	return local > 0 ? ((gint64)k << SHARD_SHIFT) | local : local;
}

static gint64 lid(gint64 id)
{
	return id & LOCAL_MASK;
}

/* The shard holding id, or NULL with NOTFOUND. */
static shard *by_id(shardstore *s, gint64 id, const char *what, GError **err)
{
	guint k = (guint)(id >> SHARD_SHIFT);

	if (id <= 0 || k >= s->shards->len) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_NOTFOUND,
			    "%s %" G_GINT64_FORMAT ": not found", what, id);
		return NULL;
	}
	return s->shards->pdata[k];
}

/* The shard a mailbox called name lives in. */
static guint by_name(shardstore *s, const char *name)
{
	for (guint k = 1; k < s->shards->len; k++) {
		shard *sh = s->shards->pdata[k];

		for (guint i = 0; i < sh->patterns->len; i++)
			if (g_pattern_spec_match_string(sh->patterns->pdata[i], name))
				return k;
	}
	return 0;
}

static store_mailbox *global_mailbox(guint k, store_mailbox *m)
{
	if (m)
		m->id = gid(k, m->id);
	return m;
}

static store_calendar *global_calendar(guint k, store_calendar *c)
{
	if (c) {
		c->id = gid(k, c->id);
		c->mailbox_id = gid(k, c->mailbox_id);
	}
	return c;
}

static store_item *global_item(guint k, store_item *i)
{
	if (i) {
		i->id = gid(k, i->id);
		i->calendar_id = gid(k, i->calendar_id);
	}
	return i;
}

typedef void (*global_fn)(guint k, gpointer rec);

static void global_calendar_rec(guint k, gpointer rec)
{
	global_calendar(k, rec);
}

static void global_item_rec(guint k, gpointer rec)
{
	global_item(k, rec);
}

static GPtrArray *global_all(guint k, GPtrArray *a, global_fn fn)
{
	for (guint i = 0; a && i < a->len; i++)
		fn(k, a->pdata[i]);
	return a;
}

/* ---- mailboxes ---- */

static gint by_mailbox_name(gconstpointer a, gconstpointer b)
{
	const store_mailbox *x = *(store_mailbox *const *)a;
	const store_mailbox *y = *(store_mailbox *const *)b;

	return strcmp(x->name, y->name);
}

static GPtrArray *sh_mailbox_list(store *base, GError **err)
{
	shardstore *s = of(base);
	GPtrArray *all = g_ptr_array_new_with_free_func((GDestroyNotify)store_mailbox_free);

	for (guint k = 0; k < s->shards->len; k++) {
		shard *sh = s->shards->pdata[k];
		GPtrArray *a = store_mailbox_list(sh->st, err);

		if (!a) {
			g_ptr_array_unref(all);
			return NULL;
		}
		for (guint i = 0; i < a->len; i++)
			g_ptr_array_add(all, global_mailbox(k, g_steal_pointer(&a->pdata[i])));
		g_ptr_array_set_free_func(a, NULL);
		g_ptr_array_unref(a);
	}
	g_ptr_array_sort(all, by_mailbox_name);
	return all;
}

static store_mailbox *sh_mailbox_get(store *base, gint64 id, GError **err)
{
	shard *sh = by_id(of(base), id, "mailbox", err);

	return sh ? global_mailbox(sh->index,
				store_mailbox_get(sh->st, lid(id), err)) : NULL;
}

static store_mailbox *sh_mailbox_find(store *base, const char *name, GError **err)
{
	guint k = by_name(of(base), name);
	shard *sh = of(base)->shards->pdata[k];

	return global_mailbox(k, store_mailbox_find(sh->st, name, err));
}

static store_mailbox *sh_mailbox_create(store *base, const char *name, GError **err)
{
	guint k = by_name(of(base), name);
	shard *sh = of(base)->shards->pdata[k];

	return global_mailbox(k, store_mailbox_create(sh->st, name, err));
}

static gboolean sh_mailbox_delete(store *base, gint64 id, GError **err)
{
	shard *sh = by_id(of(base), id, "mailbox", err);

	return sh && store_mailbox_delete(sh->st, lid(id), err);
}

static gboolean sh_mailbox_set_owner(store *base, gint64 id, gboolean has_owner,
				     guint32 uid, guint32 gid_, guint32 mode,
				     GError **err)
{
	shard *sh = by_id(of(base), id, "mailbox", err);

	return sh && store_mailbox_set_owner(sh->st, lid(id), has_owner, uid, gid_,
					     mode, err);
}

static gboolean sh_mailbox_set_timezone(store *base, gint64 id, const char *zone,
					GError **err)
{
	shard *sh = by_id(of(base), id, "mailbox", err);

	return sh && store_mailbox_set_timezone(sh->st, lid(id), zone, err);
}

/* ---- calendars ---- */

static GPtrArray *sh_calendar_list(store *base, gint64 mailbox_id, GError **err)
{
	shard *sh = by_id(of(base), mailbox_id, "mailbox", err);

	return sh ? global_all(sh->index,
			    store_calendar_list(sh->st, lid(mailbox_id), err),
			    global_calendar_rec) : NULL;
}

static store_calendar *sh_calendar_get(store *base, gint64 id, GError **err)
{
	shard *sh = by_id(of(base), id, "calendar", err);

	return sh ? global_calendar(sh->index,
				 store_calendar_get(sh->st, lid(id), err)) : NULL;
}

static store_calendar *sh_calendar_find(store *base, gint64 mailbox_id,
					const char *name, GError **err)
{
	shard *sh = by_id(of(base), mailbox_id, "mailbox", err);

	return sh ? global_calendar(sh->index,
				 store_calendar_find(sh->st, lid(mailbox_id), name,
						     err)) : NULL;
}

static store_calendar *sh_calendar_create(store *base, gint64 mailbox_id,
					  const char *name, GError **err)
{
	shard *sh = by_id(of(base), mailbox_id, "mailbox", err);

	return sh ? global_calendar(sh->index,
				 store_calendar_create(sh->st, lid(mailbox_id), name,
						       err)) : NULL;
}

static gboolean sh_calendar_delete(store *base, gint64 id, GError **err)
{
	shard *sh = by_id(of(base), id, "calendar", err);

	return sh && store_calendar_delete(sh->st, lid(id), err);
}

static gboolean sh_calendar_set_meta(store *base, gint64 id, const char *key,
				     const char *value, GError **err)
{
	shard *sh = by_id(of(base), id, "calendar", err);

	return sh && store_calendar_set_meta(sh->st, lid(id), key, value, err);
}

/* ---- items ---- */

static GPtrArray *sh_item_list(store *base, gint64 calendar_id, GError **err)
{
	shard *sh = by_id(of(base), calendar_id, "calendar", err);

	return sh ? global_all(sh->index,
			    store_item_list(sh->st, lid(calendar_id), err),
			    global_item_rec) : NULL;
}

static store_item *sh_item_get(store *base, gint64 id, gboolean with_data,
			       GError **err)
{
	shard *sh = by_id(of(base), id, "item", err);

	return sh ? global_item(sh->index,
			     store_item_get(sh->st, lid(id), with_data, err)) : NULL;
}

static GPtrArray *sh_item_list_committed(store *base, gint64 calendar_id, GError **err)
{
	shard *sh = by_id(of(base), calendar_id, "calendar", err);

	return sh ? global_all(sh->index,
			    store_item_list_committed(sh->st, lid(calendar_id), err),
			    global_item_rec) : NULL;
}

static store_item *sh_item_get_committed(store *base, gint64 id, GError **err)
{
	shard *sh = by_id(of(base), id, "item", err);

	return sh ? global_item(sh->index, store_item_get_committed(sh->st, lid(id), err))
		  : NULL;
}

static GPtrArray *sh_item_range_committed(store *base, gint64 calendar_id, gint64 first,
					  gint64 last, guint limit, GError **err)
{
	shard *sh = by_id(of(base), calendar_id, "calendar", err);

	/* a calendar's items are in its shard, their local ids in order */
	return sh ? global_all(sh->index,
			    store_item_range_committed(sh->st, lid(calendar_id), lid(first),
							lid(last), limit, err),
			    global_item_rec) : NULL;
}

static store_item *sh_item_find(store *base, gint64 calendar_id, const char *name,
				gboolean with_data, GError **err)
{
	shard *sh = by_id(of(base), calendar_id, "calendar", err);

	return sh ? global_item(sh->index,
			     store_item_find(sh->st, lid(calendar_id), name,
					     with_data, err)) : NULL;
}

static store_item *sh_item_find_uid(store *base, gint64 calendar_id,
				    const char *uid, GError **err)
{
	shard *sh = by_id(of(base), calendar_id, "calendar", err);

	return sh ? global_item(sh->index,
			     store_item_find_uid(sh->st, lid(calendar_id), uid,
						 err)) : NULL;
}

static gint64 sh_item_reserve_id(store *base, gint64 calendar_id, GError **err)
{
	shard *sh = by_id(of(base), calendar_id, "calendar", err);
	gint64 id = sh ? store_item_reserve_id(sh->st, lid(calendar_id), err) : 0;

	return id > 0 ? gid(sh->index, id) : 0;
}

static store_item *sh_item_put(store *base, const store_put *req,
			       store_put_result *result, GError **err)
{
	shard *sh = by_id(of(base), req->calendar_id, "calendar", err);
	store_put local;
	store_item expect;

	if (!sh)
		return NULL;
	local = *req;
	local.calendar_id = lid(req->calendar_id);
	if (req->expect) {
		/* read through this store: its ids are global */
		expect = *req->expect;
		expect.id = lid(expect.id);
		expect.calendar_id = lid(expect.calendar_id);
		local.expect = &expect;
	}
	/* an id reserved in another shard cannot be used in this one */
	local.reserved_id = (req->reserved_id >> SHARD_SHIFT) ==
			    (req->calendar_id >> SHARD_SHIFT)
			    ? lid(req->reserved_id) : 0;
	return global_item(sh->index,
			store_item_put(sh->st, &local, result, err));
}

static gboolean sh_item_delete(store *base, gint64 id, GError **err)
{
	shard *sh = by_id(of(base), id, "item", err);

	return sh && store_item_delete(sh->st, lid(id), err);
}

static gboolean sh_item_rename(store *base, gint64 id, gint64 calendar_id,
			       const char *name, GError **err)
{
	shard *sh = by_id(of(base), id, "item", err);
	shard *to = sh ? by_id(of(base), calendar_id, "calendar", err) : NULL;

	if (!to)
		return FALSE;
	if (sh != to) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_CROSS,
			    "%s: cannot be moved from shard %s to shard %s", name,
			    sh->name, to->name);
		return FALSE;
	}
	return store_item_rename(sh->st, lid(id), lid(calendar_id), name, err);
}

static GPtrArray *sh_item_scan(store *base, gint64 calendar_id,
			       const char *contains, GError **err)
{
	shard *sh = by_id(of(base), calendar_id, "calendar", err);

	return sh ? global_all(sh->index,
			    store_item_scan(sh->st, lid(calendar_id), contains, err),
			    global_item_rec) : NULL;
}

static gboolean sh_items_set_checked(store *base, const char *key, const store_version *v,
				     guint n, GError **err)
{
	store_version *local = g_new(store_version, n);
	gboolean ok = TRUE;
	guint i, k;

	/* one call for each run of items of one shard (a mailbox's items
	 * are all in one) */
	for (i = 0; ok && i < n; i = k) {
		shard *sh = by_id(of(base), v[i].id, "item", err);

		if (!sh) {
			ok = FALSE;
			break;
		}
		for (k = i; k < n && (v[k].id >> SHARD_SHIFT) == (v[i].id >> SHARD_SHIFT); k++) {
			local[k - i].id = lid(v[k].id);
			local[k - i].version = v[k].version;
		}
		ok = store_items_set_checked(sh->st, key, local, k - i, err);
	}
	g_free(local);
	return ok;
}

/* ---- the merged change log ---- */

static store_change *change_copy(const store_change *c)
{
	store_change *d = g_memdup2(c, sizeof(*c));

	d->name = g_strdup(c->name);
	d->old_name = g_strdup(c->old_name);
	d->origin = g_strdup(c->origin);
	return d;
}

static gint by_time(gconstpointer a, gconstpointer b)
{
	const store_change *x = *(store_change *const *)a;
	const store_change *y = *(store_change *const *)b;

	return (x->time_ns > y->time_ns) - (x->time_ns < y->time_ns);
}

/* Read what the shards logged since last time into the ring (s->lock
 * held).  A shard that cannot be read now is read next time. */
static void pull(shardstore *s)
{
	GPtrArray *got = g_ptr_array_new();

	for (guint k = 0; k < s->shards->len; k++) {
		shard *sh = s->shards->pdata[k];
		GPtrArray *a;
		GError *e = NULL;
		guint n;

		do {
			a = store_changes_since(sh->st, sh->cursor, PULL_PAGE, &e);
			if (!a) {
				log_debug("shard %s: change log: %s", sh->name, e->message);
				g_clear_error(&e);
				break;
			}
			for (guint i = 0; i < a->len; i++) {
				store_change *c = g_steal_pointer(&a->pdata[i]);

				sh->cursor = c->seq;
				c->mailbox_id = gid(k, c->mailbox_id);
				c->calendar_id = gid(k, c->calendar_id);
				c->item_id = gid(k, c->item_id);
				c->old_calendar_id = gid(k, c->old_calendar_id);
				g_ptr_array_add(got, c);
			}
			n = a->len;
			g_ptr_array_set_free_func(a, NULL);
			g_ptr_array_unref(a);
		} while (n == PULL_PAGE);
	}
	g_ptr_array_sort(got, by_time);	/* stable: each shard stays in order */
	for (guint i = 0; i < got->len; i++) {
		store_change *c = got->pdata[i];

		c->seq = ++s->next_seq;
		g_ptr_array_add(s->ring, c);
	}
	g_ptr_array_unref(got);
	if (s->ring->len > RING_MAX)
		g_ptr_array_remove_range(s->ring, 0, s->ring->len - RING_MAX);
}

static GPtrArray *sh_changes_since(store *base, gint64 seq, int limit, GError **err)
{
	shardstore *s = of(base);
	GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)store_change_free);
	guint i = 0;

	(void)err;
	g_mutex_lock(&s->lock);
	pull(s);
	if (s->ring->len) {
		gint64 first = ((store_change *)s->ring->pdata[0])->seq;

		i = seq >= first ? (guint)(seq - first + 1) : 0;
	}
	for (; i < s->ring->len && (int)out->len < limit; i++)
		g_ptr_array_add(out, change_copy(s->ring->pdata[i]));
	g_mutex_unlock(&s->lock);
	return out;
}

static gint64 sh_last_change(store *base, GError **err)
{
	shardstore *s = of(base);
	gint64 v;

	(void)err;
	g_mutex_lock(&s->lock);
	pull(s);
	v = s->next_seq;
	g_mutex_unlock(&s->lock);
	return v;
}

/* ---- across every shard ---- */

static gboolean sh_stats(store *base, store_stats *out, GError **err)
{
	shardstore *s = of(base);

	memset(out, 0, sizeof(*out));
	for (guint k = 0; k < s->shards->len; k++) {
		shard *sh = s->shards->pdata[k];
		store_stats one;

		if (!store_stats_get(sh->st, &one, err))
			return FALSE;
		out->mailboxes += one.mailboxes;
		out->calendars += one.calendars;
		out->items += one.items;
		out->journal_entries += one.journal_entries;
		out->runs += one.runs;
		out->bytes += one.bytes;
	}
	out->last_change = sh_last_change(base, err);
	return TRUE;
}

static gint64 sh_root_mtime(store *base, GError **err)
{
	shardstore *s = of(base);
	gint64 newest = 0;

	for (guint k = 0; k < s->shards->len; k++) {
		gint64 v = store_root_mtime(((shard *)s->shards->pdata[k])->st, err);

		if (v < 0)
			return -1;
		newest = MAX(newest, v);
	}
	return newest;
}

static gboolean sh_probe(store *base, int wait_ms, GError **err)
{
	shardstore *s = of(base);

	for (guint k = 0; k < s->shards->len; k++)
		if (!store_probe(((shard *)s->shards->pdata[k])->st, wait_ms, err))
			return FALSE;
	return TRUE;
}

static gboolean sh_batch_begin(store *base, GError **err)
{
	shardstore *s = of(base);

	for (guint k = 0; k < s->shards->len; k++) {
		if (!store_batch_begin(((shard *)s->shards->pdata[k])->st, err)) {
			while (k-- > 0)
				store_batch_end(((shard *)s->shards->pdata[k])->st, NULL);
			return FALSE;
		}
	}
	return TRUE;
}

static gboolean sh_batch_end(store *base, GError **err)
{
	shardstore *s = of(base);
	gboolean ok = TRUE;

	for (guint k = 0; k < s->shards->len; k++) {
		GError *e = NULL;

		if (!store_batch_end(((shard *)s->shards->pdata[k])->st, &e)) {
			if (ok)
				g_propagate_error(err, e);
			else
				g_error_free(e);
			ok = FALSE;
		}
	}
	return ok;
}

static void sh_run_begin(store *base, const char *command)
{
	shardstore *s = of(base);

	for (guint k = 0; k < s->shards->len; k++)
		store_run_begin(((shard *)s->shards->pdata[k])->st, command);
}

static void global_run(guint k, gpointer rec)
{
	store_run *r = rec;

	r->id = gid(k, r->id);
}

static gint by_started_desc(gconstpointer a, gconstpointer b)
{
	const store_run *x = *(store_run *const *)a;
	const store_run *y = *(store_run *const *)b;

	return (y->started_ns > x->started_ns) - (y->started_ns < x->started_ns);
}

/* Every shard's list, its ids fixed, in one array sorted by cmp. */
typedef GPtrArray *(*list_fn)(store *st, gpointer data, GError **err);

static GPtrArray *merge(shardstore *s, list_fn list, gpointer data, global_fn fix,
			GDestroyNotify free_fn, GCompareFunc cmp, GError **err)
{
	GPtrArray *all = g_ptr_array_new_with_free_func(free_fn);

	for (guint k = 0; k < s->shards->len; k++) {
		GPtrArray *a = list(((shard *)s->shards->pdata[k])->st, data, err);

		if (!a) {
			g_ptr_array_unref(all);
			return NULL;
		}
		for (guint i = 0; i < a->len; i++) {
			fix(k, a->pdata[i]);
			g_ptr_array_add(all, g_steal_pointer(&a->pdata[i]));
		}
		g_ptr_array_set_free_func(a, NULL);
		g_ptr_array_unref(a);
	}
	g_ptr_array_sort(all, cmp);
	return all;
}

static GPtrArray *list_runs(store *st, gpointer data, GError **err)
{
	(void)data;
	return store_runs_list(st, err);
}

static GPtrArray *sh_runs_list(store *base, GError **err)
{
	return merge(of(base), list_runs, NULL, global_run,
		     (GDestroyNotify)store_run_free, by_started_desc, err);
}

static void global_entry(guint k, gpointer rec)
{
	store_journal_entry *e = rec;

	e->id = gid(k, e->id);
	e->run_id = gid(k, e->run_id);
	e->item_id = gid(k, e->item_id);
	e->calendar_id = gid(k, e->calendar_id);
	e->old_calendar_id = gid(k, e->old_calendar_id);
}

static gint by_time_desc(gconstpointer a, gconstpointer b)
{
	const store_journal_entry *x = *(store_journal_entry *const *)a;
	const store_journal_entry *y = *(store_journal_entry *const *)b;

	return (y->time_ns > x->time_ns) - (y->time_ns < x->time_ns);
}

static GPtrArray *list_journal(store *st, gpointer data, GError **err)
{
	return store_journal_list(st, 0, 0, GPOINTER_TO_INT(data), err);
}

static GPtrArray *sh_journal_list(store *base, gint64 run_id, gint64 calendar_id,
				  int limit, GError **err)
{
	shardstore *s = of(base);
	shard *sh;
	GPtrArray *a;

	if (!run_id && !calendar_id) {
		a = merge(s, list_journal, GINT_TO_POINTER(limit), global_entry,
			  (GDestroyNotify)store_journal_entry_free, by_time_desc, err);
		if (a && (int)a->len > limit)
			g_ptr_array_set_size(a, limit);
		return a;
	}
	sh = by_id(s, run_id ? run_id : calendar_id, run_id ? "run" : "calendar", err);
	if (!sh)
		return NULL;
	if (run_id && calendar_id && (run_id >> SHARD_SHIFT) != (calendar_id >> SHARD_SHIFT))
		return g_ptr_array_new_with_free_func((GDestroyNotify)store_journal_entry_free);
	return global_all(sh->index,
		       store_journal_list(sh->st, lid(run_id), lid(calendar_id), limit,
					  err), global_entry);
}

static GPtrArray *sh_journal_after(store *base, gint64 run_id, GError **err)
{
	shard *sh = by_id(of(base), run_id, "run", err);

	return sh ? global_all(sh->index, store_journal_after(sh->st, lid(run_id), err),
			    global_entry) : NULL;
}

/* ---- per mailbox ---- */

static gboolean sh_reply_get(store *base, gint64 mailbox_id, const char *uid,
			     const char *attendee, gint64 *when, gint64 *sequence,
			     GError **err)
{
	shard *sh = by_id(of(base), mailbox_id, "mailbox", err);

	return sh && store_reply_get(sh->st, lid(mailbox_id), uid, attendee, when,
				     sequence, err);
}

static gboolean sh_reply_get_committed(store *base, gint64 mailbox_id, const char *uid,
				       const char *attendee, gint64 *when, gint64 *sequence,
				       GError **err)
{
	shard *sh = by_id(of(base), mailbox_id, "mailbox", err);

	return sh && store_reply_get_committed(sh->st, lid(mailbox_id), uid, attendee, when,
					       sequence, err);
}

static gboolean sh_reply_put(store *base, gint64 mailbox_id, const char *uid,
			     const char *attendee, gint64 when, gint64 sequence,
			     GError **err)
{
	shard *sh = by_id(of(base), mailbox_id, "mailbox", err);

	return sh && store_reply_put(sh->st, lid(mailbox_id), uid, attendee, when,
				     sequence, err);
}

static char *sh_mailbox_stamp(store *base, gint64 mailbox_id, GError **err)
{
	shard *sh = by_id(of(base), mailbox_id, "mailbox", err);

	return sh ? store_mailbox_stamp(sh->st, lid(mailbox_id), err) : NULL;
}

static gboolean sh_zone_scan_get(store *base, gint64 mailbox_id, const char *key,
				 char **status, char **resolved, GError **err)
{
	shard *sh = by_id(of(base), mailbox_id, "mailbox", err);

	return sh && store_zone_scan_get(sh->st, lid(mailbox_id), key, status,
					 resolved, err);
}

static gboolean sh_zone_scan_put(store *base, gint64 mailbox_id, const char *key,
				 const char *status, const char *resolved,
				 GError **err)
{
	shard *sh = by_id(of(base), mailbox_id, "mailbox", err);

	return sh && store_zone_scan_put(sh->st, lid(mailbox_id), key, status,
					 resolved, err);
}

static const char *sh_describe(store *base)
{
	return of(base)->describe;
}

static gboolean sh_round_trips(store *base)
{
	return store_round_trips(((shard *)of(base)->shards->pdata[0])->st);
}

static const char *sh_origin(store *base)
{
	return store_origin(((shard *)of(base)->shards->pdata[0])->st);
}

static void shard_free(gpointer p)
{
	shard *sh = p;

	store_close(sh->st);
	g_ptr_array_unref(sh->patterns);
	g_free(sh->name);
	g_free(sh);
}

static void sh_close(store *base)
{
	shardstore *s = of(base);

	g_ptr_array_unref(s->shards);
	g_ptr_array_unref(s->ring);
	g_mutex_clear(&s->lock);
	g_free(s->describe);
	g_free(s);
}

static const store_ops shard_ops = {
	.close = sh_close,
	.describe = sh_describe,
	.origin = sh_origin,
	.run_begin = sh_run_begin,
	.round_trips = sh_round_trips,
	.mailbox_list = sh_mailbox_list,
	.mailbox_get = sh_mailbox_get,
	.mailbox_find = sh_mailbox_find,
	.mailbox_create = sh_mailbox_create,
	.mailbox_delete = sh_mailbox_delete,
	.mailbox_set_owner = sh_mailbox_set_owner,
	.mailbox_set_timezone = sh_mailbox_set_timezone,
	.calendar_list = sh_calendar_list,
	.calendar_get = sh_calendar_get,
	.calendar_find = sh_calendar_find,
	.calendar_create = sh_calendar_create,
	.calendar_delete = sh_calendar_delete,
	.calendar_set_meta = sh_calendar_set_meta,
	.item_list = sh_item_list,
	.item_get = sh_item_get,
	.item_list_committed = sh_item_list_committed,
	.item_get_committed = sh_item_get_committed,
	.item_range_committed = sh_item_range_committed,
	.item_find = sh_item_find,
	.item_find_uid = sh_item_find_uid,
	.item_reserve_id = sh_item_reserve_id,
	.item_put = sh_item_put,
	.item_delete = sh_item_delete,
	.item_rename = sh_item_rename,
	.changes_since = sh_changes_since,
	.stats = sh_stats,
	.root_mtime = sh_root_mtime,
	.last_change = sh_last_change,
	.probe = sh_probe,
	.batch_begin = sh_batch_begin,
	.batch_end = sh_batch_end,
	.item_scan = sh_item_scan,
	.items_set_checked = sh_items_set_checked,
	.runs_list = sh_runs_list,
	.journal_list = sh_journal_list,
	.journal_after = sh_journal_after,
	.reply_get = sh_reply_get,
	.reply_get_committed = sh_reply_get_committed,
	.reply_put = sh_reply_put,
	.mailbox_stamp = sh_mailbox_stamp,
	.zone_scan_get = sh_zone_scan_get,
	.zone_scan_put = sh_zone_scan_put,
};

static shard *shard_open(const char *name, const char *spec, char **patterns,
			 const char *origin, store_open_mode mode, GError **err)
{
	store *st = store_open(spec, origin, mode, err);
	shard *sh;

	if (!st) {
		g_prefix_error(err, "shard %s: ", name);
		return NULL;
	}
	sh = g_new0(shard, 1);
	sh->name = g_strdup(name);
	sh->st = st;
	sh->patterns = g_ptr_array_new_with_free_func((GDestroyNotify)g_pattern_spec_free);
	for (int i = 0; patterns && patterns[i]; i++)
		if (*patterns[i])
			g_ptr_array_add(sh->patterns, g_pattern_spec_new(patterns[i]));
	/* .calfs/events starts with each shard's latest changes */
	sh->cursor = MAX(0, store_last_change(st, NULL) - 100);
	return sh;
}

store *store_open_conf(const conf *c, const char *origin, store_open_mode mode,
			GError **err)
{
	shardstore *s;
	GString *d;
	shard *sh;

	if (!c->shards->len)
		return store_open(c->store_path, origin, mode, err);
	if (c->shards->len >= MAX_SHARDS) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_CONFIG,
			    "%s: more than %d shards", c->file, MAX_SHARDS - 1);
		return NULL;
	}
	s = g_new0(shardstore, 1);
	s->base.ops = &shard_ops;
	g_mutex_init(&s->lock);
	s->shards = g_ptr_array_new_with_free_func(shard_free);
	s->ring = g_ptr_array_new_with_free_func((GDestroyNotify)store_change_free);
	if (!(sh = shard_open("store", c->store_path, NULL, origin, mode, err)))
		goto fail;
	sh->index = s->shards->len;
	g_ptr_array_add(s->shards, sh);
	d = g_string_new("shards: store=");
	g_string_append(d, store_describe(sh->st));
	for (guint i = 0; i < c->shards->len; i++) {
		const conf_shard *cs = c->shards->pdata[i];

		if (!(sh = shard_open(cs->name, cs->spec, cs->patterns, origin, mode, err))) {
			g_string_free(d, TRUE);
			goto fail;
		}
		sh->index = s->shards->len;
		g_ptr_array_add(s->shards, sh);
		g_string_append_printf(d, ", %s=%s", cs->name, store_describe(sh->st));
	}
	s->describe = g_string_free(d, FALSE);
	g_mutex_lock(&s->lock);
	pull(s);
	g_mutex_unlock(&s->lock);
	return &s->base;
fail:
	sh_close(&s->base);
	return NULL;
}
