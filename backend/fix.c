#include "fix.h"
#include "error.h"
#include "ingest.h"
#include "render.h"
#include "tzscan.h"

#include <string.h>

typedef struct {
	store *s;
	const conf *c;
	const fix_options *o;
	fix_stats *st;
	GMutex lock;		/* guards st and the progress calls */
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

/* The zone the read view uses for the mailbox's UTC items when mount.conf
 * names none: the stored one, else the extracted one. */
static char *view_zone(run *r, const store_mailbox *mb)
{
	const conf_mailbox *cm = conf_mailbox_get(r->c, mb->name);
	tzscan_mailbox *scan;
	char *z;

	if (mb->timezone)
		return g_strdup(mb->timezone);
	if ((cm && cm->timezone) || !r->o->rebase)
		return NULL;
	scan = tzscan_mailbox_scan(r->s, r->c, mb, NULL);
	z = scan && !strcmp(scan->status, "ok") ? g_strdup(scan->resolved) : NULL;
	tzscan_mailbox_free(scan);
	return z;
}

static void count(run *r, const render_log *log, gboolean changed)
{
	g_mutex_lock(&r->lock);
	r->st->items_done++;
	r->st->items_changed += changed;
	r->st->items_repaired += log->repairs->len > 0;
	r->st->repairs += log->repairs->len;
	for (guint i = 0; i < log->repairs->len; i++) {
		int rule = ((repair_fix *)log->repairs->pdata[i])->rule;

		if (rule >= 0 && rule < (int)G_N_ELEMENTS(r->st->by_rule))
			r->st->by_rule[rule]++;
	}
	for (guint i = 0; i < log->rebases->len; i++) {
		int kind = ((tz_fix *)log->rebases->pdata[i])->kind;

		if (kind == TZ_FIX_CONFLICT)
			r->st->conflicts++;
		else if (((tz_fix *)log->rebases->pdata[i])->applied)
			r->st->rebases++;
	}
	if (r->o->progress)
		r->o->progress(r->st, r->o->data);
	g_mutex_unlock(&r->lock);
}

/* Fix one item; FALSE only when the store fails. */
static gboolean fix_item(run *r, const store_mailbox *mb, const store_calendar *cal,
			 gint64 id, const render_options *o, GError **err)
{
	store_item *it = store_item_get(r->s, id, TRUE, NULL);
	render_log log;
	GBytes *out;
	gboolean changed, ok = TRUE;

	if (!it)
		return TRUE;	/* gone since the listing */
	render_log_init(&log);
	out = render_item(it->data, o, &log);
	changed = !g_bytes_equal(out, it->data);
	if (changed && !r->o->dry_run) {
		char *outbox = conf_outbox(r->c, mb->name);
		ingest_target t = { .calendar_id = cal->id, .name = it->name,
				    .mode = ITEM_CHECK_LENIENT, .policy = o,
				    .mailbox = mb->name, .outbox = outbox };
		store_item *done = ingest_item(r->s, &t, it->data, NULL, NULL, err);

		ok = done != NULL;
		store_item_free(done);
		g_free(outbox);
	}
	if (ok && changed && r->o->changed) {
		char *path = g_strdup_printf("%s/%s/%s", mb->name, cal->name, it->name);
		char *what = render_describe(&log);

		g_mutex_lock(&r->lock);
		r->o->changed(path, what, r->o->data);
		g_mutex_unlock(&r->lock);
		g_free(path);
		g_free(what);
	}
	if (ok)
		count(r, &log, changed);
	render_log_clear(&log);
	g_bytes_unref(out);
	store_item_free(it);
	return ok;
}

static void fix_mailbox(gpointer data, gpointer user)
{
	store_mailbox *mb = data;
	run *r = user;
	GError *e = NULL;
	GPtrArray *cals = store_calendar_list(r->s, mb->id, &e);
	ingest_replies replies;
	render_options o;
	char *zone = view_zone(r, mb);

	ingest_replies_init(&replies, r->s, mb->id);
	o = render_options_read(r->c, mb->name, zone);
	o.repair = r->o->repair;
	o.rebase = r->o->rebase && r->c->rebase;
	o.ctx = &replies.ctx;
	for (guint i = 0; cals && i < cals->len && !e; i++) {
		store_calendar *cal = cals->pdata[i];
		GPtrArray *items;

		if (r->o->calendar && strcmp(cal->name, r->o->calendar))
			continue;
		if (!(items = store_item_list(r->s, cal->id, &e)))
			break;
		for (guint k = 0; k < items->len && !e; k++)
			fix_item(r, mb, cal, ((store_item *)items->pdata[k])->id, &o, &e);
		g_ptr_array_unref(items);
	}
	if (e) {
		failed(r, mb->name, e->message);
		g_error_free(e);
	}
	g_mutex_lock(&r->lock);
	r->st->mailboxes_done++;
	g_mutex_unlock(&r->lock);
	if (cals)
		g_ptr_array_unref(cals);
	g_free(zone);
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
	if (!(mbs = scope(&r, err)) || (total = count_items(&r, mbs, err)) < 0) {
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
	/* the pool takes each mailbox and frees it */
	g_ptr_array_set_free_func(mbs, NULL);
	for (guint i = 0; i < mbs->len; i++)
		g_thread_pool_push(pool, mbs->pdata[i], NULL);
	g_thread_pool_free(pool, FALSE, TRUE);
	g_ptr_array_unref(mbs);
	g_mutex_clear(&r.lock);
	return TRUE;
}
