#include "fix.h"
#include "error.h"
#include "ingest.h"
#include "render.h"
#include "tzscan.h"

#include <string.h>

/* Changes are committed in groups: a commit for each item was a fifth of
 * a run.  A group ends after GROUP_ITEMS changes or GROUP_USEC, so that
 * other processes wait for the store no longer than that; the updates
 * for attendees go out once their change is committed. */
#define GROUP_ITEMS 256
#define GROUP_USEC (250 * 1000)

/* An update for a rebased meeting, queued once its group commits. */
typedef struct {
	char *mailbox, *name, *outbox;
	GBytes *item;
} update;

/* A connection to the store and the group of changes open on it.  The
 * store's own connection is shared by every worker; a peer of it
 * (store_peer) is used by one worker at a time. */
typedef struct {
	store *s;
	/* group_lock guards these; taken before the store's own lock */
	GMutex group_lock;
	gboolean group_open;	/* a store batch is open */
	guint group_items;	/* changes in it */
	gint64 group_since;	/* monotonic time it was opened */
	GArray *updates;	/* update: due when it commits */
} writer;

typedef struct {
	store *s;
	const conf *c;
	const fix_options *o;
	fix_stats *st;
	GMutex lock;		/* guards st, the progress calls and these: */
	writer *shared;		/* on s */
	GPtrArray *peers;	/* writer*: every peer made */
	GPtrArray *idle;	/* writer*: the peers no worker holds */
	GCond idle_cond;	/* signalled when a peer becomes idle */
	gboolean no_peers;	/* the store makes none (or failed to) */
	gboolean peers_full;	/* it made some, and no more */
} run;

void fix_stats_clear(fix_stats *st)
{
	if (st->failed)
		g_ptr_array_unref(st->failed);
	memset(st, 0, sizeof(*st));
}

static void failed(run *r, const char *mailbox, const char *why)
{
	g_mutex_lock(&r->lock);
	g_ptr_array_add(r->st->failed, g_strdup_printf("%s\t%s", mailbox, why));
	g_mutex_unlock(&r->lock);
}

/* One mailbox being fixed. */
typedef struct {
	run *r;
	writer *w;		/* the connection it reads and writes on */
	store_mailbox *mb;
	render_options o;	/* the read view's options */
	ingest_replies replies;
	gboolean zone_known;	/* o.tz.mailbox_zone is final */
	char *zone;		/* the zone found for it (owned), or NULL */
	char *base_key;		/* render key of items that need no zone */
	char *zone_key;		/* and of those that do, once zone_known */
	/* store_version: verdicts to record at the end, of the items found
	 * to render unchanged under base_key, and under zone_key */
	GArray *checked_base, *checked_zone;
	GHashTable *ahead;	/* item id -> store_item*: read ahead */
	GHashTable *parses;	/* the zone scan's: tzscan_parses_new */
} box;

/* Items read in one query when several in a row need reading, where
 * each read is a round trip (store_round_trips: PostgreSQL). */
#define READ_AHEAD 64


/* The zone the read view uses for the mailbox's UTC items when mount.conf
 * names none: the stored one, else the extracted one (a scan of the
 * mailbox: done only when an item needs it). */
static void ensure_zone(box *b)
{
	if (b->zone_known)
		return;
	b->zone_known = TRUE;
	if (b->mb->timezone)
		b->zone = g_strdup(b->mb->timezone);
	else if (b->r->o->rebase)
		(void)tzscan_mailbox_zone(b->w->s, b->r->c, b->mb, &b->zone, b->parses,
					  NULL);
	b->o.tz.mailbox_zone = b->zone;
	b->zone_key = render_key(&b->o, b->o.tz.mailbox_zone);
}

static void box_init(box *b, run *r, writer *w, store_mailbox *mb)
{
	const conf_mailbox *cm = conf_mailbox_get(r->c, mb->name);

	memset(b, 0, sizeof(*b));
	b->r = r;
	b->w = w;
	b->mb = mb;
	b->checked_base = g_array_new(FALSE, FALSE, sizeof(store_version));
	b->checked_zone = g_array_new(FALSE, FALSE, sizeof(store_version));
	b->ahead = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
					 (GDestroyNotify)store_item_free);
	b->parses = tzscan_parses_new();
	ingest_replies_init(&b->replies, w->s, mb->id);
	b->replies.committed = TRUE;	/* a fix writes no replies */
	b->o = render_options_read(r->c, mb->name, NULL);
	b->o.repair = r->o->repair;
	b->o.rebase = r->o->rebase && r->c->rebase;
	b->o.ctx = &b->replies.ctx;
	b->base_key = render_key(&b->o, NULL);
	if (cm && cm->timezone) {	/* mount.conf's zone: known at once */
		b->zone_known = TRUE;
		b->zone_key = render_key(&b->o, b->o.tz.mailbox_zone);
	}
}

static void box_clear(box *b)
{
	g_array_unref(b->checked_base);
	g_array_unref(b->checked_zone);
	g_hash_table_destroy(b->ahead);
	g_hash_table_destroy(b->parses);
	g_free(b->zone);
	g_free(b->base_key);
	g_free(b->zone_key);
}

/* Whether a listed item was found clean under this mailbox's keys. */
static gboolean known_clean(box *b, const store_item *li)
{
	if (!li->checked)
		return FALSE;
	if (!strcmp(li->checked, b->base_key))
		return TRUE;
	ensure_zone(b);
	return !strcmp(li->checked, b->zone_key);
}

/* Whether listed item li is worth reading ahead: never checked, or
 * checked under neither of the mailbox's keys.  Without the zone scan
 * known_clean() may start: an item checked under another key before the
 * mailbox's zone is known is not (a clean run's zone-dependent verdicts,
 * 30% of them, would all be read). */
static gboolean may_need(box *b, const store_item *li)
{
	if (!li->checked)
		return TRUE;
	if (!strcmp(li->checked, b->base_key) || !b->zone_known || !b->zone_key)
		return FALSE;
	return strcmp(li->checked, b->zone_key) != 0;
}

/* Listed item li as the zone scan read it, when it read that version. */
static const store_item *scanned(box *b, const store_item *li)
{
	tzscan_parse *p = g_hash_table_lookup(b->parses, &li->id);

	return p && p->item && p->item->version == li->version ? p->item : NULL;
}

/* Read the items from items[k] on that may need reading, up to
 * READ_AHEAD of them (and past at most as many clean ones), in one
 * query, when there are several. */
static void read_ahead(box *b, gint64 calendar_id, GPtrArray *items, guint k)
{
	guint need = 0, clean = 0, last = k;
	GPtrArray *got;

	for (guint i = k; i < items->len && need < READ_AHEAD && clean < READ_AHEAD; i++) {
		if (may_need(b, items->pdata[i]) && !scanned(b, items->pdata[i])) {
			need++;
			last = i;
		} else {
			clean++;
		}
	}
	if (need < 2)
		return;
	got = store_item_range_committed(b->w->s, calendar_id,
					 ((store_item *)items->pdata[k])->id,
					 ((store_item *)items->pdata[last])->id, 0, NULL);
	for (guint i = 0; got && i < got->len; i++) {
		store_item *it = g_steal_pointer(&got->pdata[i]);

		g_hash_table_replace(b->ahead, GSIZE_TO_POINTER(it->id), it);
	}
	if (got)
		g_ptr_array_unref(got);
}

/* Listed item li with its bytes: read ahead or by the zone scan, else
 * read now; NULL when it is gone since the listing. */
static store_item *read_item(box *b, const store_item *li)
{
	gpointer it;
	const store_item *s;

	if (g_hash_table_steal_extended(b->ahead, GSIZE_TO_POINTER(li->id), NULL, &it))
		return it;
	if ((s = scanned(b, li)))
		return store_item_copy(s);
	return store_item_get_committed(b->w->s, li->id, NULL);
}

static void count(run *r, const render_log *log, gboolean changed)
{
	g_mutex_lock(&r->lock);
	r->st->items_done++;
	r->st->items_changed += changed;
	if (log) {
		r->st->items_repaired += log->repairs->len > 0;
		r->st->repairs += log->repairs->len;
		for (guint i = 0; i < log->repairs->len; i++) {
			int rule = ((repair_fix *)log->repairs->pdata[i])->rule;

			if (rule >= 0 && rule < (int)G_N_ELEMENTS(r->st->by_rule))
				r->st->by_rule[rule]++;
		}
		for (guint i = 0; i < log->rebases->len; i++) {
			tz_fix *f = log->rebases->pdata[i];

			if (f->kind == TZ_FIX_CONFLICT)
				r->st->conflicts++;
			else if (f->applied)
				r->st->rebases++;
		}
	}
	if (r->o->progress)
		r->o->progress(r->st, r->o->data);
	g_mutex_unlock(&r->lock);
}

static void tell(run *r, box *b, const store_calendar *cal, const store_item *it,
		 const render_log *log)
{
	char *path, *what;

	if (!r->o->changed)
		return;
	path = g_strdup_printf("%s/%s/%s", b->mb->name, cal->name, it->name);
	what = render_describe(log);
	g_mutex_lock(&r->lock);
	r->o->changed(path, what, r->o->data);
	g_mutex_unlock(&r->lock);
	g_free(path);
	g_free(what);
}

static void update_clear(gpointer data)
{
	update *u = data;

	g_free(u->mailbox);
	g_free(u->name);
	g_free(u->outbox);
	g_bytes_unref(u->item);
}

static void group_open(run *r, writer *w)
{
	GError *e = NULL;

	w->group_items = 0;
	w->group_since = g_get_monotonic_time();
	if (!(w->group_open = store_batch_begin(w->s, &e))) {
		/* each change then commits alone */
		failed(r, "(store)", e->message);
		g_error_free(e);
	}
}

static GArray *updates_new(void)
{
	GArray *a = g_array_new(FALSE, FALSE, sizeof(update));

	g_array_set_clear_func(a, update_clear);
	return a;
}

/* Commit w's open group.  Under w->group_lock.  Returns its updates, due
 * now (none when the commit failed): the caller sends them with
 * send_updates once it has let go of the lock, so that building them
 * does not hold up the other workers' items. */
static GArray *group_commit(run *r, writer *w)
{
	GError *e = NULL;
	gboolean ok = !w->group_open || store_batch_end(w->s, &e);
	GArray *due = w->updates;

	w->group_open = FALSE;
	if (!ok) {
		failed(r, "(store)", e->message);
		g_error_free(e);
		g_array_set_size(due, 0);
	}
	w->updates = updates_new();
	return due;
}

/* Queue the updates group_commit gave (taken). */
static void send_updates(GArray *due)
{
	for (guint i = 0; i < due->len; i++) {
		update *u = &g_array_index(due, update, i);
		ingest_target t = { .mailbox = u->mailbox, .name = u->name, .outbox = u->outbox };

		ingest_queue_update(&t, u->item);
	}
	g_array_unref(due);
}

/* Before a change: a group open to take it. */
static void group_enter(run *r, writer *w)
{
	g_mutex_lock(&w->group_lock);
	if (!w->group_open)
		group_open(r, w);
	g_mutex_unlock(&w->group_lock);
}

/* After each item (changed, with u its update, taken, or NULL): commit
 * the group when it is full or old; the next change opens another, so
 * that a run over clean items holds no transaction. */
static void group_leave(run *r, writer *w, gboolean changed, update *u)
{
	GArray *due = NULL;

	g_mutex_lock(&w->group_lock);
	if (u)
		g_array_append_val(w->updates, *u);
	w->group_items += changed;
	if (w->group_open && (w->group_items >= GROUP_ITEMS ||
			      g_get_monotonic_time() - w->group_since >= GROUP_USEC))
		due = group_commit(r, w);
	g_mutex_unlock(&w->group_lock);
	if (due)
		send_updates(due);
}

static writer *writer_new(store *s)
{
	writer *w = g_new0(writer, 1);

	w->s = s;
	g_mutex_init(&w->group_lock);
	w->updates = updates_new();
	return w;
}

/* Commit what is open on w, close it when it is a peer, and free it. */
static void writer_free(run *r, writer *w)
{
	send_updates(group_commit(r, w));	/* no worker is left */
	if (w->s != r->s)
		store_close(w->s);
	g_array_unref(w->updates);
	g_mutex_clear(&w->group_lock);
	g_free(w);
}

/* A connection for a worker's next mailbox: an idle peer, else a new
 * one (PostgreSQL: the server then works for both workers at once, and
 * neither waits while the other's statement runs), else, when the store
 * makes none, the shared one.  When the store makes some but no more
 * (the server's connection limit), the worker waits for an idle one: a
 * worker on the shared connection would hold a transaction open on it,
 * where the peers' journal run is made. */
static writer *writer_take(run *r)
{
	writer *w = NULL;
	GError *e = NULL;
	store *p;

	g_mutex_lock(&r->lock);
	while (!w) {
		if (r->idle->len) {
			w = g_ptr_array_steal_index_fast(r->idle, r->idle->len - 1);
		} else if (r->no_peers) {
			w = r->shared;
		} else if (!r->peers_full) {
			/* made under the lock: no worker takes the shared
			 * connection while another has a peer */
			if ((p = store_peer(r->s, &e))) {
				w = writer_new(p);
				g_ptr_array_add(r->peers, w);
				break;
			}
			if (e)
				g_debug("%s: no other connection: %s", store_describe(r->s),
					e->message);
			g_clear_error(&e);
			if (r->peers->len)
				r->peers_full = TRUE;
			else
				r->no_peers = TRUE;
		} else {
			g_cond_wait(&r->idle_cond, &r->lock);
		}
	}
	g_mutex_unlock(&r->lock);
	return w;
}

static void writer_give(run *r, writer *w)
{
	if (w == r->shared)
		return;
	g_mutex_lock(&r->lock);
	g_ptr_array_add(r->idle, w);
	g_cond_signal(&r->idle_cond);
	g_mutex_unlock(&r->lock);
}

/* Item it rendered under b's options, with the zone scan's parse of it
 * when there is one of these bytes. */
static GBytes *render_one(box *b, const store_item *it, render_log *log)
{
	gpointer key, value;
	tzscan_parse *p;
	icalcomponent *cal;
	tz_known *known = NULL;

	if (!g_hash_table_steal_extended(b->parses, &it->id, &key, &value))
		return render_item(it->data, &b->o, log);
	p = value;
	if ((cal = p->version == it->version ? g_steal_pointer(&p->cal) : NULL))
		known = g_steal_pointer(&p->known);
	g_free(key);
	tzscan_parse_free(p);
	return cal ? render_item_selected(it->data, cal, known, &b->o, log)
		   : render_item(it->data, &b->o, log);
}

/* Fix one listed item; FALSE only when the store fails. */
static gboolean fix_item(box *b, const store_calendar *cal, const store_item *li,
			 GError **err)
{
	run *r = b->r;
	store_item *it;
	render_log log;
	GBytes *out;
	gboolean changed, ok = TRUE;
	gint64 id, version;

	if (known_clean(b, li)) {	/* the skip path: not even read */
		count(r, NULL, FALSE);
		group_leave(r, b->w, FALSE, NULL);
		return TRUE;
	}
	/* committed reads: they do not wait while another worker writes,
	 * and nothing this run has not committed is an item it has yet to
	 * read (each is read once, before its own change) */
	if (!(it = read_item(b, li)))
		return TRUE;	/* gone since the listing */
	/* the zone first, when rebasing (only rebasing consults it): the
	 * scan parses the items that name a zone, and its parses are the
	 * renderings' */
	if (b->o.rebase)
		ensure_zone(b);
	render_log_init(&log);
	out = render_one(b, it, &log);
	changed = !g_bytes_equal(out, it->data);
	id = it->id;
	version = it->version;
	if (changed && !r->o->dry_run) {
		char *outbox = conf_outbox(r->c, b->mb->name);
		ingest_target t = { .calendar_id = cal->id, .name = it->name,
				    .policy = &b->o,
				    .mailbox = b->mb->name, .outbox = outbox };
		/* out is what ingesting it->data would store: the read view
		 * under the write policy, which is b->o */
		gboolean due = FALSE;
		store_item *done;

		group_enter(r, b->w);
		done = ingest_rendered(b->w->s, &t, out, it->uid, &log, NULL, &due, err);
		ok = done != NULL;
		if (done) {
			update u = { .mailbox = g_strdup(b->mb->name), .name = g_strdup(it->name),
				     .outbox = outbox, .item = g_bytes_ref(out) };

			id = done->id;
			version = done->version;
			group_leave(r, b->w, TRUE, due ? &u : NULL);
			if (!due)
				update_clear(&u);
		} else {
			group_leave(r, b->w, FALSE, NULL);
			g_free(outbox);
		}
		store_item_free(done);
	} else
		group_leave(r, b->w, FALSE, NULL);
	/* what is stored now renders unchanged under this key; items that
	 * keep a conflict or a report-only change are looked at every time,
	 * so that the reports go on counting them */
	if (ok && !r->o->dry_run && !render_unapplied(&log)) {
		store_version k = { .id = id, .version = version };

		g_array_append_val(log.zone_consulted ? b->checked_zone : b->checked_base, k);
	}
	if (ok && changed)
		tell(r, b, cal, it, &log);
	if (ok)
		count(r, &log, changed);
	render_log_clear(&log);
	g_bytes_unref(out);
	store_item_free(it);
	return ok;
}

/* Record the mailbox's verdicts, in one transaction, a statement for
 * each key where the store can: one each took 7% of a run.  A verdict
 * that is not recorded only costs a check next time. */
static void record_checks(box *b)
{
	store *s = b->w->s;
	gboolean batch;

	if (!b->checked_base->len && !b->checked_zone->len)
		return;
	batch = store_batch_begin(s, NULL);
	store_items_set_checked(s, b->base_key, (store_version *)b->checked_base->data,
				b->checked_base->len, NULL);
	store_items_set_checked(s, b->zone_key, (store_version *)b->checked_zone->data,
				b->checked_zone->len, NULL);
	if (batch)
		store_batch_end(s, NULL);
}

static void fix_mailbox(gpointer data, gpointer user)
{
	store_mailbox *mb = data;
	run *r = user;
	writer *w = writer_take(r);
	GError *e = NULL;
	GPtrArray *cals = store_calendar_list(w->s, mb->id, &e);
	gboolean ahead = store_round_trips(w->s);
	box b;

	box_init(&b, r, w, mb);
	for (guint i = 0; cals && i < cals->len && !e; i++) {
		store_calendar *cal = cals->pdata[i];
		GPtrArray *items;

		if (r->o->calendar && strcmp(cal->name, r->o->calendar))
			continue;
		if (!(items = store_item_list_committed(w->s, cal->id, &e)))
			break;
		for (guint k = 0; k < items->len && !e; k++) {
			store_item *li = items->pdata[k];

			/* the zone scan first: it reads the items that name
			 * a zone, which are then not read again */
			if (may_need(&b, li) && b.o.rebase)
				ensure_zone(&b);
			if (ahead && may_need(&b, li) && !scanned(&b, li) &&
			    !g_hash_table_contains(b.ahead, GSIZE_TO_POINTER(li->id))) {
				g_hash_table_remove_all(b.ahead);
				read_ahead(&b, cal->id, items, k);
			}
			fix_item(&b, cal, li, &e);
		}
		g_hash_table_remove_all(b.ahead);
		g_ptr_array_unref(items);
	}
	record_checks(&b);
	if (e) {
		failed(r, mb->name, e->message);
		g_error_free(e);
	}
	g_mutex_lock(&r->lock);
	r->st->mailboxes_done++;
	g_mutex_unlock(&r->lock);
	if (cals)
		g_ptr_array_unref(cals);
	box_clear(&b);
	writer_give(r, w);
	store_mailbox_free(mb);
}

/* The mailboxes in scope (store_mailbox*); unknown names go to failed. */
static GPtrArray *scope(run *r, GError **err)
{
	GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)store_mailbox_free);
	GPtrArray *all;

	if (r->o->mailbox_id) {
		store_mailbox *mb = store_mailbox_get(r->s, r->o->mailbox_id, err);

		if (!mb) {
			g_ptr_array_unref(out);
			return NULL;
		}
		g_ptr_array_add(out, mb);
		return out;
	}
	if (!r->o->mailboxes) {
		if (!(all = store_mailbox_list(r->s, err))) {
			g_ptr_array_unref(out);
			return NULL;
		}
		for (guint i = 0; i < all->len; i++)
			g_ptr_array_add(out, g_steal_pointer(&all->pdata[i]));
		g_ptr_array_set_free_func(all, NULL);
		g_ptr_array_unref(all);
		return out;
	}
	for (int i = 0; r->o->mailboxes[i]; i++) {
		GError *e = NULL;
		store_mailbox *mb = store_mailbox_find(r->s, r->o->mailboxes[i], &e);

		if (mb) {
			g_ptr_array_add(out, mb);
		} else if (g_error_matches(e, CALFS_ERROR, CALFS_ERROR_NOTFOUND)) {
			failed(r, r->o->mailboxes[i], "no such mailbox");
			g_error_free(e);
		} else {
			g_propagate_error(err, e);
			g_ptr_array_unref(out);
			return NULL;
		}
	}
	return out;
}

static gint64 count_items(run *r, GPtrArray *mbs, GError **err)
{
	gint64 n = 0;

	for (guint i = 0; i < mbs->len; i++) {
		GPtrArray *cals = store_calendar_list(r->s, ((store_mailbox *)mbs->pdata[i])->id, err);

		if (!cals)
			return -1;
		for (guint k = 0; k < cals->len; k++) {
			store_calendar *cal = cals->pdata[k];
			GPtrArray *items;

			if (r->o->calendar && strcmp(cal->name, r->o->calendar))
				continue;
			if (!(items = store_item_list(r->s, cal->id, err))) {
				g_ptr_array_unref(cals);
				return -1;
			}
			n += items->len;
			g_ptr_array_unref(items);
		}
		g_ptr_array_unref(cals);
	}
	return n;
}

gboolean fix_run(store *s, const conf *c, const fix_options *o, fix_stats *st,
		 GError **err)
{
	run r = { .s = s, .c = c, .o = o, .st = st };
	GThreadPool *pool;
	GPtrArray *mbs;
	gint64 total;

	memset(st, 0, sizeof(*st));
	st->failed = g_ptr_array_new_with_free_func(g_free);
	g_mutex_init(&r.lock);
	/* the count lists every calendar's items before any worker starts:
	 * only for a progress report */
	if (!(mbs = scope(&r, err)) || (total = o->progress ? count_items(&r, mbs, err) : 0) < 0) {
		if (mbs)
			g_ptr_array_unref(mbs);
		g_mutex_clear(&r.lock);
		return FALSE;
	}
	st->items_total = total;
	st->mailboxes_total = mbs->len;
	pool = g_thread_pool_new(fix_mailbox, &r, MAX(1, o->jobs), TRUE, err);
	if (!pool) {
		g_ptr_array_unref(mbs);
		g_mutex_clear(&r.lock);
		return FALSE;
	}
	r.shared = writer_new(s);
	r.peers = g_ptr_array_new();
	r.idle = g_ptr_array_new();
	g_cond_init(&r.idle_cond);
	/* one connection, unless there are workers to share them */
	r.no_peers = o->jobs < 2;
	/* the pool takes each mailbox and frees it */
	g_ptr_array_set_free_func(mbs, NULL);
	for (guint i = 0; i < mbs->len; i++)
		g_thread_pool_push(pool, mbs->pdata[i], NULL);
	g_thread_pool_free(pool, FALSE, TRUE);
	for (guint i = 0; i < r.peers->len; i++)
		writer_free(&r, r.peers->pdata[i]);
	writer_free(&r, r.shared);
	g_ptr_array_unref(r.peers);
	g_ptr_array_unref(r.idle);
	g_cond_clear(&r.idle_cond);
	g_ptr_array_unref(mbs);
	g_mutex_clear(&r.lock);
	return TRUE;
}
