#include "view.h"
#include "ctl.h"
#include "ingest.h"
#include "notify.h"
#include "error.h"
#include "item.h"
#include "log.h"
#include "node.h"
#include "trash.h"
#include "tzscan.h"

#include <errno.h>
#include <string.h>

/* Renderings kept in memory, in bytes; the cache is emptied when full. */
#define RENDER_CACHE_BYTES (8 * 1024 * 1024)

/* At most this many inodes remember versions (kept, told). */
#define KEPT_MAX 65536

struct view_cache {
	GMutex lock;		/* guards everything below; a leaf */
	GHashTable *renders;	/* item id -> rendered* */
	gsize render_bytes;
	GHashTable *calendars;	/* calendar id -> calinfo* */
	GHashTable *kept;	/* inode -> version the kernel has pages of
				 * (GSIZE_TO_POINTER both) */
	GHashTable *told;	/* inode -> render key whose size the kernel
				 * has (attribute replies; see told()) */
	GHashTable *held;	/* inode -> 0 while an invalidation of its
				 * attributes is on its way, then the number
				 * of that invalidation (never 0) */
	GHashTable *reading;	/* inode -> reading*: handles open through
				 * the page cache */
	gint64 invalidations;	/* delivered so far (view_invalidated) */
	gboolean forgot;	/* told and held were emptied when full */
	GHashTable *extracted;	/* mailbox id -> extracted* zone */
	GHashTable *ahead;	/* item id -> store_item* with its bytes, read
				 * ahead with the one a render needed */
	gsize ahead_bytes;
	gint64 ahead_calendar;	/* the calendar read ahead last */
	gint64 tz_changed_ns;	/* when a new tzdata was taken while
				 * mounted, or 0 */
};

static void extracted_free(gpointer p);

/* The handles of an inode open through the page cache: all of one key.
 * A short read of such a handle sets the kernel's size to its key's. */
typedef struct {
	gint64 key;
	gsize size;		/* of its rendering */
	guint count;
} reading;

void view_entry_free(view_entry *e)
{
	if (!e)
		return;
	g_free(e->name);
	g_free(e);
}

void view_calinfo_free(calinfo *ci)
{
	if (!ci)
		return;
	g_free(ci->mailbox);
	g_free(ci->calendar);
	g_free(ci);
}

void view_init(fs_ctx *fs)
{
	view_cache *c = fs->cache = g_new0(view_cache, 1);

	g_mutex_init(&c->lock);
	/* keyed by the item id inside each rendering */
	c->renders = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL,
					   (GDestroyNotify)rendered_free);
	c->calendars = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
					     (GDestroyNotify)view_calinfo_free);
	/* inode -> version, both held in the pointers: no allocation */
	c->kept = g_hash_table_new(g_direct_hash, g_direct_equal);
	c->told = g_hash_table_new(g_direct_hash, g_direct_equal);
	c->held = g_hash_table_new(g_direct_hash, g_direct_equal);
	c->reading = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
	c->extracted = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
					     extracted_free);
	c->ahead = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
					 (GDestroyNotify)store_item_free);
}

void view_clear(fs_ctx *fs)
{
	view_cache *c = fs->cache;

	g_hash_table_destroy(c->renders);
	g_hash_table_destroy(c->calendars);
	g_hash_table_destroy(c->kept);
	g_hash_table_destroy(c->told);
	g_hash_table_destroy(c->held);
	g_hash_table_destroy(c->reading);
	g_hash_table_destroy(c->extracted);
	g_hash_table_destroy(c->ahead);
	g_mutex_clear(&c->lock);
	g_clear_pointer(&fs->cache, g_free);
}

static calinfo *calinfo_copy(const calinfo *ci)
{
	calinfo *c = g_new0(calinfo, 1);

	c->mailbox_id = ci->mailbox_id;
	c->mailbox = g_strdup(ci->mailbox);
	c->calendar = g_strdup(ci->calendar);
	return c;
}

calinfo *view_calinfo(fs_ctx *fs, gint64 calendar_id, GError **err)
{
	calinfo *ci;
	store_calendar *cal;
	store_mailbox *mb;

	g_mutex_lock(&fs->cache->lock);
	ci = g_hash_table_lookup(fs->cache->calendars, &calendar_id);
	ci = ci ? calinfo_copy(ci) : NULL;
	g_mutex_unlock(&fs->cache->lock);
	if (ci)
		return ci;
	if (!(cal = store_calendar_get(fs->store, calendar_id, err)))
		return NULL;
	if (!(mb = store_mailbox_get(fs->store, cal->mailbox_id, err))) {
		store_calendar_free(cal);
		return NULL;
	}
	ci = g_new0(calinfo, 1);
	ci->mailbox_id = mb->id;
	ci->mailbox = g_strdup(mb->name);
	ci->calendar = g_strdup(cal->name);
	g_mutex_lock(&fs->cache->lock);
	{
		gint64 *key = g_new(gint64, 1);

		*key = calendar_id;
		g_hash_table_replace(fs->cache->calendars, key, calinfo_copy(ci));
	}
	g_mutex_unlock(&fs->cache->lock);
	store_calendar_free(cal);
	store_mailbox_free(mb);
	return ci;
}

void rendered_free(rendered *r)
{
	if (!r)
		return;
	g_bytes_unref(r->data);
	g_free(r->fixes);
	g_free(r->uid);
	g_free(r->name);
	g_free(r->zone);
	g_free(r->stored);
	g_free(r);
}

static rendered *rendered_copy(const rendered *r)
{
	rendered *c = g_memdup2(r, sizeof(*r));

	c->data = g_bytes_ref(r->data);
	c->fixes = g_strdup(r->fixes);
	c->uid = g_strdup(r->uid);
	c->name = g_strdup(r->name);
	c->zone = g_strdup(r->zone);
	c->stored = g_strdup(r->stored);
	return c;
}

static gsize text_cost(const char *s)
{
	return s ? strlen(s) + 1 + 16 : 0;
}

/* What a cached rendering costs in memory, its allocations' overhead
 * counted: the bytes alone let 16 MB of cache take about 50. */
static gsize cost(const rendered *r)
{
	return sizeof(*r) + 16 + 48 + g_bytes_get_size(r->data) + 16 +
	       text_cost(r->fixes) + text_cost(r->uid) + text_cost(r->name) +
	       text_cost(r->zone) + text_cost(r->stored) +
	       3 * sizeof(gpointer);	/* the table's slot */
}

static void cache_put(fs_ctx *fs, rendered *r)
{
	rendered *old;

	g_mutex_lock(&fs->cache->lock);
	old = g_hash_table_lookup(fs->cache->renders, &r->item_id);
	if (old)
		fs->cache->render_bytes -= cost(old);
	if (fs->cache->render_bytes + cost(r) > RENDER_CACHE_BYTES) {
		g_hash_table_remove_all(fs->cache->renders);
		fs->cache->render_bytes = 0;
	}
	/* replace: the key, inside the rendering, is replaced with it */
	g_hash_table_replace(fs->cache->renders, &r->item_id, r);
	fs->cache->render_bytes += cost(r);
	g_mutex_unlock(&fs->cache->lock);
}

/* ---- items read ahead ---- */

/* Items read in one query when a render needs an item's bytes: a reader
 * of every file (cat, grep -r, rsync) then makes one query for many; on
 * PostgreSQL each is a round trip.  They are kept until taken, at most
 * AHEAD_BYTES of them counted with their overhead (at 2 MiB of bytes
 * alone, a daemon serving 1,000,000 small items grew from 38 to 48 MiB). */
#define AHEAD_ITEMS 64
#define AHEAD_BYTES (1 << 20)

/* What an item read ahead costs: its bytes, names, record and slot. */
static gsize ahead_cost(const store_item *it)
{
	return g_bytes_get_size(it->data) + strlen(it->name) + strlen(it->uid) +
	       (it->checked ? strlen(it->checked) : 0) + sizeof(*it) + 128;
}

/* The bytes of item bare (listed: id, name and version) as read ahead,
 * taken from the cache: a store_item with data, or NULL when none of
 * that version and name was read. */
static store_item *ahead_take(fs_ctx *fs, const store_item *bare)
{
	gpointer p;
	store_item *it = NULL;

	g_mutex_lock(&fs->cache->lock);
	if (g_hash_table_steal_extended(fs->cache->ahead, GSIZE_TO_POINTER(bare->id), NULL, &p)) {
		it = p;
		fs->cache->ahead_bytes -= ahead_cost(it);
	}
	g_mutex_unlock(&fs->cache->lock);
	if (it && (it->version != bare->version || strcmp(it->name, bare->name)))
		g_clear_pointer(&it, store_item_free);
	return it;
}

/* Read ahead the items of bare's calendar: from its first item when
 * another calendar was read ahead last (a reader in name order goes
 * through a calendar), else from bare on; up to AHEAD_ITEMS. */
static void ahead_read(fs_ctx *fs, const store_item *bare)
{
	gint64 from;
	GPtrArray *got;

	g_mutex_lock(&fs->cache->lock);
	from = fs->cache->ahead_calendar == bare->calendar_id ? bare->id : 0;
	fs->cache->ahead_calendar = bare->calendar_id;
	g_mutex_unlock(&fs->cache->lock);
	if (!(got = store_item_range_committed(fs->store, bare->calendar_id, from, G_MAXINT64,
					       AHEAD_ITEMS, NULL)))
		return;
	log_debug("read ahead: %u items of calendar %" G_GINT64_FORMAT " from item %"
		  G_GINT64_FORMAT, got->len, bare->calendar_id, from);
	g_mutex_lock(&fs->cache->lock);
	for (guint i = 0; i < got->len; i++) {
		store_item *it = got->pdata[i];
		gsize n = ahead_cost(it);

		if (fs->cache->ahead_bytes + n > AHEAD_BYTES) {
			g_hash_table_remove_all(fs->cache->ahead);
			fs->cache->ahead_bytes = 0;
		}
		if (g_hash_table_lookup(fs->cache->ahead, GSIZE_TO_POINTER(it->id)))
			continue;
		g_hash_table_insert(fs->cache->ahead, GSIZE_TO_POINTER(it->id),
				    g_steal_pointer(&got->pdata[i]));
		fs->cache->ahead_bytes += n;
	}
	g_mutex_unlock(&fs->cache->lock);
	g_ptr_array_unref(got);
}

/* The item bare (listed) with its bytes: read ahead, else read now with
 * the items after it.  NULL with err set. */
static store_item *item_bytes(fs_ctx *fs, const store_item *bare, GError **err)
{
	store_item *it = ahead_take(fs, bare);

	if (!it) {
		ahead_read(fs, bare);
		it = ahead_take(fs, bare);
	}
	return it ? it : store_item_get(fs->store, bare->id, TRUE, err);
}

void view_tzdata_changed(fs_ctx *fs)
{
	g_mutex_lock(&fs->cache->lock);
	g_hash_table_remove_all(fs->cache->renders);
	fs->cache->render_bytes = 0;
	g_hash_table_remove_all(fs->cache->extracted);
	fs->cache->tz_changed_ns = g_get_real_time() * 1000;
	g_mutex_unlock(&fs->cache->lock);
}

/* ns, or the time tzdata changed while mounted when later (cache_lock not
 * held). */
static gint64 after_tzdata(fs_ctx *fs, gint64 ns)
{
	gint64 t;

	g_mutex_lock(&fs->cache->lock);
	t = fs->cache->tz_changed_ns;
	g_mutex_unlock(&fs->cache->lock);
	return MAX(ns, t);
}

void view_forget_render(fs_ctx *fs, gint64 item_id)
{
	rendered *old;

	g_mutex_lock(&fs->cache->lock);
	old = g_hash_table_lookup(fs->cache->renders, &item_id);
	if (old) {
		fs->cache->render_bytes -= cost(old);
		g_hash_table_remove(fs->cache->renders, &item_id);
	}
	g_mutex_unlock(&fs->cache->lock);
}

/* A mailbox's extracted zone is made again at most this often (seconds),
 * and only after the store changed. */
#define EXTRACT_EVERY 5

typedef struct {
	gint64 seq;		/* the store's last change when scanned */
	gint64 when;		/* monotonic time of the scan, seconds */
	char *zone;		/* resolved when the status was ok, else NULL */
} extracted;

static void extracted_free(gpointer p)
{
	extracted *e = p;

	g_free(e->zone);
	g_free(e);
}

/* The zone the mailbox's items resolve to (tzscan), cached. */
static char *extracted_zone(fs_ctx *fs, store_mailbox *mb)
{
	gint64 seq = store_last_change(fs->store, NULL);
	gint64 now = g_get_monotonic_time() / G_USEC_PER_SEC;
	extracted *e;
	char *zone;

	g_mutex_lock(&fs->cache->lock);
	e = g_hash_table_lookup(fs->cache->extracted, &mb->id);
	if (e && (e->seq == seq || now - e->when < EXTRACT_EVERY)) {
		zone = g_strdup(e->zone);
		g_mutex_unlock(&fs->cache->lock);
		return zone;
	}
	g_mutex_unlock(&fs->cache->lock);
	e = g_new0(extracted, 1);
	e->seq = seq;
	e->when = now;
	(void)tzscan_mailbox_zone(fs->store, fs->conf, mb, &e->zone, NULL, NULL);
	zone = g_strdup(e->zone);
	g_mutex_lock(&fs->cache->lock);
	{
		extracted *old = g_hash_table_lookup(fs->cache->extracted, &mb->id);
		gint64 *key = g_new(gint64, 1);

		/* the kernel keeps the items read under the old zone */
		if (old && g_strcmp0(old->zone, e->zone))
			notify_mailbox_items(fs->notifier, mb->id);
		*key = mb->id;
		g_hash_table_replace(fs->cache->extracted, key, e);
	}
	g_mutex_unlock(&fs->cache->lock);
	return zone;
}

/* The mailbox's zone short of mount.conf (which render_options puts
 * first): the one set through .calfs/timezone.  Newly allocated, or NULL. */
char *view_stored_zone(fs_ctx *fs, gint64 mailbox_id)
{
	store_mailbox *mb = store_mailbox_get(fs->store, mailbox_id, NULL);
	char *z = mb ? g_strdup(mb->timezone) : NULL;

	store_mailbox_free(mb);
	return z;
}

/* The extracted zone of a mailbox that has neither a configured nor a
 * stored one; NULL otherwise.  A scan of the mailbox: only for items that
 * need a zone.  Newly allocated. */
static char *extracted_for(fs_ctx *fs, gint64 mailbox_id)
{
	store_mailbox *mb = store_mailbox_get(fs->store, mailbox_id, NULL);
	const conf_mailbox *cm = mb ? conf_mailbox_get(fs->conf, mb->name) : NULL;
	char *z = mb && !mb->timezone && !(cm && cm->timezone) ? extracted_zone(fs, mb) : NULL;

	store_mailbox_free(mb);
	return z;
}

/* Whether an item checked under key renders unchanged under o: the key of
 * items that need no zone, or that of the mailbox's zone. */
static gboolean known_clean(const render_options *o, const char *key)
{
	char *base = render_key(o, NULL), *zoned = render_key(o, o->tz.mailbox_zone);
	gboolean yes = !strcmp(key, base) || !strcmp(key, zoned);

	g_free(base);
	g_free(zoned);
	return yes;
}

/* What rendering an item takes, found before its bytes are read. */
typedef struct {
	store_item *it;		/* as listed: without its bytes */
	calinfo *ci;
	char *zone;		/* the mailbox's stored zone, or NULL */
	char *items_zone;	/* the zone its mailbox's items tell, when it
				 * was checked under that one; or NULL */
	render_options o;
	gboolean clean;		/* checked by calfs fix under these options:
				 * the stored bytes are what rendering would
				 * give, without parsing them */
	rendered *cached;	/* the cache's copy of this version, or NULL */
} render_plan;

static void plan_clear(render_plan *p)
{
	store_item_free(p->it);
	view_calinfo_free(p->ci);
	g_free(p->zone);
	g_free(p->items_zone);
	rendered_free(p->cached);
	memset(p, 0, sizeof(*p));
}

/* Fill p for item_id: the cache's copy when it has this version, else
 * the options and whether the item is known clean.  FALSE with err set. */
static gboolean plan_render(fs_ctx *fs, gint64 item_id, render_plan *p, GError **err)
{
	rendered *r;

	memset(p, 0, sizeof(*p));
	/* the version first: the bytes are read only when not cached */
	if (!(p->it = store_item_get(fs->store, item_id, FALSE, err)))
		return FALSE;
	if (!(p->ci = view_calinfo(fs, p->it->calendar_id, err))) {
		plan_clear(p);
		return FALSE;
	}
	p->zone = view_stored_zone(fs, p->ci->mailbox_id);
	g_mutex_lock(&fs->cache->lock);
	r = g_hash_table_lookup(fs->cache->renders, &item_id);
	p->cached = r && r->version == p->it->version && !strcmp(r->name, p->it->name) &&
		    !g_strcmp0(r->stored, p->zone) && r->tzdata == tz_tzdata_version()
		    ? rendered_copy(r) : NULL;
	g_mutex_unlock(&fs->cache->lock);
	if (p->cached) {
		log_debug("render %s/%s/%s: version %" G_GINT64_FORMAT " from the cache",
			  p->ci->mailbox, p->ci->calendar, p->it->name, p->it->version);
		return TRUE;
	}
	p->o = render_options_read(fs->conf, p->ci->mailbox, p->zone);
	p->clean = p->it->checked && known_clean(&p->o, p->it->checked);
	if (p->it->checked && !p->clean && !p->o.tz.mailbox_zone &&
	    (p->items_zone = extracted_for(fs, p->ci->mailbox_id))) {
		/* checked under the zone the mailbox's items tell */
		render_options oz = p->o;

		oz.tz.mailbox_zone = p->items_zone;
		p->clean = known_clean(&oz, p->it->checked);
		if (!p->clean)
			g_clear_pointer(&p->items_zone, g_free);
	}
	return TRUE;
}

/* Render what p planned (not cached): read the bytes, render them unless
 * known clean, and keep the result in the cache.  Consumes p. */
static rendered *render_planned(fs_ctx *fs, render_plan *p, GError **err)
{
	store_item *it;
	rendered *r;
	ingest_replies replies;
	render_log log;
	char *zone = g_steal_pointer(&p->zone);

	if (!(it = item_bytes(fs, p->it, err))) {
		g_free(zone);
		plan_clear(p);
		return NULL;
	}
	ingest_replies_init(&replies, fs->store, p->ci->mailbox_id);
	p->o.ctx = &replies.ctx;
	render_log_init(&log);
	r = g_new0(rendered, 1);
	r->item_id = it->id;
	r->calendar_id = it->calendar_id;
	r->version = it->version;
	r->mtime_ns = it->mtime_ns;
	r->uid = g_strdup(it->uid);
	r->name = g_strdup(it->name);
	r->stored = g_strdup(zone);
	r->tzdata = tz_tzdata_version();
	r->data = p->clean ? g_bytes_ref(it->data) : render_item(it->data, &p->o, &log);
	if (log.zone_consulted && !zone && (zone = extracted_for(fs, p->ci->mailbox_id))) {
		/* it depends on the mailbox's zone, which only its items tell */
		p->o.tz.mailbox_zone = zone;
		render_log_clear(&log);
		render_log_init(&log);
		g_bytes_unref(r->data);
		r->data = render_item(it->data, &p->o, &log);
	}
	if (p->items_zone) {
		g_free(zone);
		zone = g_steal_pointer(&p->items_zone);
	}
	r->zone = zone;
	r->fixes = render_describe(&log);
	if (p->clean && !*r->fixes) {
		g_free(r->fixes);
		r->fixes = render_notes(r->data);
		if (!r->fixes)
			r->fixes = g_strdup("");
	}
	for (guint i = 0; i < log.rebases->len; i++)
		r->rebased |= ((tz_fix *)log.rebases->pdata[i])->applied;
	log_debug("render %s/%s/%s: version %" G_GINT64_FORMAT ", %s, %" G_GSIZE_FORMAT
		  " bytes, %u mended, %u repaired, %u rebase notes%s%s",
		  p->ci->mailbox, p->ci->calendar, it->name, it->version,
		  p->clean ? "known clean: served as stored" : "rendered",
		  g_bytes_get_size(r->data), log.mends->len, log.repairs->len, log.rebases->len,
		  zone ? ", zone " : "", zone ? zone : "");
	render_log_clear(&log);
	store_item_free(it);
	plan_clear(p);
	cache_put(fs, rendered_copy(r));
	return r;
}

rendered *view_render(fs_ctx *fs, gint64 item_id, GError **err)
{
	render_plan p;

	if (!plan_render(fs, item_id, &p, err))
		return NULL;
	if (p.cached) {
		rendered *r = g_steal_pointer(&p.cached);

		plan_clear(&p);
		return r;
	}
	return render_planned(fs, &p, err);
}

/* view_render_key's of a rendering of version made with zone */
static gint64 key_of(gint64 version, const char *zone)
{
	return (gint64)((guint64)version ^ ((guint64)g_str_hash(zone ? zone : "") << 32));
}

gint64 view_render_key(const rendered *r)
{
	return key_of(r->version, r->zone);
}

/* What a listing tells of an item's rendering. */
typedef struct {
	gint64 calendar_id;
	gint64 key;		/* view_render_key's */
	gsize size;
	gint64 mtime_ns;
	gboolean rebased;
} render_attrs;

/* The attributes of item_id's rendering: of the cache's copy, or of the
 * stored bytes when calfs fix found them to be it (a listing of items
 * no reader has opened since reads none of their bytes), else of a
 * rendering.  FALSE with err set. */
static gboolean view_attrs(fs_ctx *fs, gint64 item_id, render_attrs *a, GError **err)
{
	render_plan p;
	rendered *r;

	if (!plan_render(fs, item_id, &p, err))
		return FALSE;
	if (!p.cached && p.clean) {
		a->calendar_id = p.it->calendar_id;
		a->key = key_of(p.it->version, p.items_zone ? p.items_zone : p.zone);
		a->size = p.it->size;
		a->mtime_ns = p.it->mtime_ns;
		a->rebased = FALSE;
		plan_clear(&p);
		return TRUE;
	}
	if (p.cached) {
		r = g_steal_pointer(&p.cached);
		plan_clear(&p);
	} else if (!(r = render_planned(fs, &p, err))) {
		return FALSE;
	}
	a->calendar_id = r->calendar_id;
	a->key = view_render_key(r);
	a->size = g_bytes_get_size(r->data);
	a->mtime_ns = r->mtime_ns;
	a->rebased = r->rebased;
	rendered_free(r);
	return TRUE;
}

static void set_time(struct stat *st, gint64 ns)
{
	st->st_mtim.tv_sec = ns / 1000000000;
	st->st_mtim.tv_nsec = ns % 1000000000;
	st->st_ctim = st->st_mtim;
	st->st_atim = st->st_mtim;
}

static void set_dir(struct stat *st, mode_t mode)
{
	st->st_mode = S_IFDIR | mode;
	st->st_nlink = 2;
	st->st_size = 4096;
	st->st_blocks = 8;
}

static void set_file(struct stat *st, mode_t mode, gsize size)
{
	st->st_mode = S_IFREG | mode;
	st->st_nlink = 1;
	st->st_size = size;
	st->st_blocks = (size + 511) / 512;
}

/* Owner, group and mode of a mailbox: chown/chmod on it, else mount.conf
 * (the group defaulting to the mounting user's, so that the admin who
 * mounted keeps access), else the user who mounted.  A mailbox with an
 * owner is 0770 until chmod says otherwise, one without 0755; what is in
 * it takes its mode from it (see in_mailbox). */
static gboolean mailbox_owner(fs_ctx *fs, gint64 mailbox_id, struct stat *st,
			      mode_t *mode, gint64 *mtime_ns, GError **err)
{
	store_mailbox *mb = store_mailbox_get(fs->store, mailbox_id, err);
	const conf_mailbox *cm;
	gboolean owned = FALSE;

	if (!mb)
		return FALSE;
	cm = conf_mailbox_get(fs->conf, mb->name);
	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	if (mb->has_owner) {
		st->st_uid = mb->uid;
		st->st_gid = mb->gid;
		owned = TRUE;
	} else if (cm && (cm->has_owner || cm->has_group)) {
		if (cm->has_owner)
			st->st_uid = cm->uid;
		if (cm->has_group)
			st->st_gid = cm->gid;
		owned = TRUE;
	}
	if (mode)
		*mode = mb->mode ? mb->mode & 07777 : owned ? 0770 : 0755;
	if (mtime_ns)
		*mtime_ns = mb->mtime_ns;
	store_mailbox_free(mb);
	return TRUE;
}

/* The mode of something in a mailbox of mode mb: its bits, less what the
 * mailbox does not grant (a calendar of a 0770 mailbox is 0770, an item
 * 0660; of a 0755 one, 0755 and 0644). */
static mode_t in_mailbox(mode_t mb, mode_t bits)
{
	return mb & bits;
}

static gboolean calendar_owner(fs_ctx *fs, gint64 calendar_id, struct stat *st,
			       mode_t *mode, GError **err)
{
	calinfo *ci = view_calinfo(fs, calendar_id, err);
	gboolean ok;

	if (!ci)
		return FALSE;
	ok = mailbox_owner(fs, ci->mailbox_id, st, mode, NULL, err);
	view_calinfo_free(ci);
	return ok;
}


/* Invalidations delivered so far: taken before an attribute reply reads
 * the store, for told(). */
static gint64 attr_begin(fs_ctx *fs)
{
	gint64 n;

	g_mutex_lock(&fs->cache->lock);
	n = fs->cache->invalidations;
	g_mutex_unlock(&fs->cache->lock);
	return n;
}

/* An attribute reply for ino, begun when attr_begin said begun, is about
 * the rendering key, size bytes long.  Returns the size to tell.
 *
 * The kernel takes the first of the replies that raced and drops the
 * others, whatever order they were made in: after a reply of another key
 * than the kernel was told, what it has is unsure (a reply made before a
 * change can be the one it keeps, and an item read through the page cache
 * then stops short: a torn read).  So a new key holds ino: the notifier
 * invalidates its attributes, which makes the kernel drop every reply to a
 * request sent before, and only a reply begun after that tells it again.
 * Until then ino opens direct_io.
 *
 * While handles opened at another key read through the page cache, the
 * reply tells their rendering's size: with another, the kernel would cut
 * their reads short, or lengthen them with zeros.  Their last close
 * (view_closed) invalidates the attributes again. */
static gsize told(fs_ctx *fs, fuse_ino_t ino, gint64 key, gsize size, gint64 begun)
{
	view_cache *c = fs->cache;
	gpointer k = GSIZE_TO_POINTER(ino), was;
	reading *rd;
	gboolean hold = FALSE;

	G_STATIC_ASSERT(sizeof(gpointer) >= sizeof(gint64));
	g_mutex_lock(&c->lock);
	rd = g_hash_table_lookup(c->reading, k);
	if (g_hash_table_lookup_extended(c->held, k, NULL, &was)) {
		/* a handle of another key still reading can set the size
		 * back: held until it is closed (view_closed) */
		if (was && begun >= (gint64)GPOINTER_TO_SIZE(was) && !(rd && rd->key != key)) {
			g_hash_table_remove(c->held, k);
			g_hash_table_replace(c->told, k, GSIZE_TO_POINTER((gsize)key));
		}
	} else if (g_hash_table_lookup_extended(c->told, k, NULL, &was)) {
		hold = GPOINTER_TO_SIZE(was) != (gsize)key;
	} else {
		if (g_hash_table_size(c->told) + g_hash_table_size(c->held) >= KEPT_MAX) {
			g_hash_table_remove_all(c->told);
			g_hash_table_remove_all(c->held);
			c->forgot = TRUE;
		}
		/* once forgotten, the kernel may have another key of ino */
		if (c->forgot || (rd && rd->key != key))
			hold = TRUE;
		else
			g_hash_table_replace(c->told, k, GSIZE_TO_POINTER((gsize)key));
	}
	if (hold) {
		g_hash_table_remove(c->told, k);
		g_hash_table_replace(c->held, k, NULL);
	}
	if (rd && rd->key != key)
		size = rd->size;
	g_mutex_unlock(&c->lock);
	if (hold)
		notify_inval_attr(fs->notifier, ino);
	return size;
}

void view_invalidated(fs_ctx *fs, fuse_ino_t ino)
{
	view_cache *c = fs->cache;
	gpointer k = GSIZE_TO_POINTER(ino);

	g_mutex_lock(&c->lock);
	c->invalidations++;
	if (g_hash_table_remove(c->told, k) | g_hash_table_contains(c->held, k))
		g_hash_table_replace(c->held, k, GSIZE_TO_POINTER((gsize)c->invalidations));
	g_mutex_unlock(&c->lock);
}

/* The attributes of item_id, for a reply about ino (the item's inode, or
 * a scratch file's that stands for it). */
static gboolean stat_item(fs_ctx *fs, gint64 item_id, fuse_ino_t ino,
			  struct stat *st, GError **err)
{
	gint64 begun = attr_begin(fs);
	render_attrs a;
	gboolean ok;
	mode_t mode;

	if (!view_attrs(fs, item_id, &a, err))
		return FALSE;
	ok = calendar_owner(fs, a.calendar_id, st, &mode, err);
	set_file(st, in_mailbox(mode, 0666), told(fs, ino, a.key, a.size, begun));
	/* a rendering that follows tzdata changed when tzdata did */
	set_time(st, a.rebased ? after_tzdata(fs, a.mtime_ns) : a.mtime_ns);
	st->st_ino = ino_make(INO_ITEM, 0, item_id);
	return ok;
}

/* Attributes of an in-memory node; FALSE when ino has none. */
static gboolean stat_node(fs_ctx *fs, fuse_ino_t ino, struct stat *st,
			  GError **err, gboolean *handled)
{
	node *n;
	gint64 alias = 0, cal = 0;

	g_mutex_lock(&fs->nodes_lock);
	n = node_get(fs, ino);
	*handled = n != NULL;
	if (n && n->type == NODE_ALIAS) {
		alias = n->item_id;
	} else if (n) {
		set_file(st, n->mode & 07777, n->data->len);
		st->st_mtim = n->mtime;
		st->st_ctim = n->ctime;
		st->st_atim = n->mtime;
		st->st_uid = n->uid;
		st->st_gid = n->gid;
		st->st_ino = ino;
		if (!n->name)
			st->st_nlink = 0;
		cal = n->calendar_id;
	}
	g_mutex_unlock(&fs->nodes_lock);
	if (alias)
		return stat_item(fs, alias, ino, st, err);
	if (*handled && cal > 0)
		return calendar_owner(fs, cal, st, NULL, err);
	return TRUE;
}

static gboolean stat_meta(fs_ctx *fs, fuse_ino_t ino, struct stat *st,
			  GError **err)
{
	store_calendar *cal = store_calendar_get(fs->store, ino_id(ino), err);
	const char *v;
	gboolean ok;
	mode_t mode;

	if (!cal)
		return FALSE;
	v = fs_meta_value(cal, ino_sub(ino));
	if (!v) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_NOTFOUND, "%s: not set",
			    meta_name(ino_sub(ino)));
		store_calendar_free(cal);
		return FALSE;
	}
	ok = calendar_owner(fs, cal->id, st, &mode, err);
	set_file(st, in_mailbox(mode, 0666), strlen(v));
	set_time(st, cal->mtime_ns);
	store_calendar_free(cal);
	return ok;
}

static gboolean stat_raw(fs_ctx *fs, fuse_ino_t ino, struct stat *st,
			 GError **err)
{
	gint64 id = ino_id(ino), ns = 0, begun;
	store_calendar *cal;
	store_item *it;
	mode_t mode;

	switch (ino_sub(ino)) {
	case RAW_ROOT:
		set_dir(st, 0555);
		return TRUE;
	case RAW_MAILBOX:
		if (!mailbox_owner(fs, id, st, &mode, &ns, err))
			return FALSE;
		set_dir(st, mode & 0555);
		set_time(st, ns);
		return TRUE;
	case RAW_CALENDAR:
		if (!(cal = store_calendar_get(fs->store, id, err)))
			return FALSE;
		ns = cal->mtime_ns;
		store_calendar_free(cal);
		if (!calendar_owner(fs, id, st, &mode, err))
			return FALSE;
		set_dir(st, in_mailbox(mode, 0555));
		set_time(st, ns);
		return TRUE;
	case RAW_ITEM:
		begun = attr_begin(fs);
		if (!(it = store_item_get(fs->store, id, FALSE, err)))
			return FALSE;
		set_file(st, 0444, told(fs, ino, it->version, it->size, begun));
		set_time(st, it->mtime_ns);
		id = it->calendar_id;
		store_item_free(it);
		if (!calendar_owner(fs, id, st, &mode, err))
			return FALSE;
		set_file(st, in_mailbox(mode, 0444), st->st_size);
		return TRUE;
	}
	g_set_error(err, CALFS_ERROR, CALFS_ERROR_NOTFOUND, "no such inode");
	return FALSE;
}

gboolean view_stat(fs_ctx *fs, fuse_ino_t ino, struct stat *st, GError **err)
{
	store_calendar *cal;
	gboolean handled;
	gint64 ns;
	mode_t mode;
	GBytes *b;

	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	st->st_blksize = 4096;
	st->st_mtim = st->st_ctim = st->st_atim = fs->started;
	switch (ino_kind_of(ino)) {
	case INO_ROOT:
		set_dir(st, 0755);
		if ((ns = store_root_mtime(fs->store, err)) < 0)
			return FALSE;
		if (ns)
			set_time(st, ns);
		return TRUE;
	case INO_MAILBOX:
		if (!mailbox_owner(fs, ino_id(ino), st, &mode, &ns, err))
			return FALSE;
		set_dir(st, mode);
		set_time(st, ns);
		return TRUE;
	case INO_CALENDAR:
		if (!(cal = store_calendar_get(fs->store, ino_id(ino), err)))
			return FALSE;
		/* vdir clients look at a calendar again when its mtime moves */
		ns = after_tzdata(fs, cal->mtime_ns);
		store_calendar_free(cal);
		if (!calendar_owner(fs, ino_id(ino), st, &mode, err))
			return FALSE;
		set_dir(st, in_mailbox(mode, 0775));
		set_time(st, ns);
		return TRUE;
	case INO_ITEM:
		if (!stat_node(fs, ino, st, err, &handled))
			return FALSE;
		return handled || stat_item(fs, ino_id(ino), ino, st, err);
	case INO_NODE:
		if (!stat_node(fs, ino, st, err, &handled))
			return FALSE;
		if (!handled)
			g_set_error(err, CALFS_ERROR, CALFS_ERROR_NOTFOUND,
				    "file is gone");
		return handled;
	case INO_META:
		return stat_meta(fs, ino, st, err);
	case INO_CTL:
		/* the top .calfs/ speaks of every mailbox: its files are
		 * for the mounting user and group only */
		mode = 0550;
		if (ino_id(ino) && !mailbox_owner(fs, ino_id(ino), st, &mode,
						  NULL, err))
			return FALSE;
		if (ino_sub(ino) == CTL_DIR) {
			set_dir(st, ino_id(ino) ? in_mailbox(mode, 0555) : 0555);
			return TRUE;
		}
		/* Reports are made when read, and some (a mailbox's log and
		 * report) take a while: like /proc's, they show size 0 and
		 * are read to their end (they are opened direct_io), so that
		 * ls -l and find over the organisation make none.  The
		 * events file keeps its size, which tail -f follows, and the
		 * timezone knob is cheap. */
		if (ino_sub(ino) == CTL_TIMEZONE || ino_sub(ino) == CTL_EVENTS) {
			if (!(b = ctl_content(fs, ino, err)))
				return FALSE;
			st->st_size = g_bytes_get_size(b);
			g_bytes_unref(b);
		}
		set_file(st, in_mailbox(mode, ino_sub(ino) == CTL_TIMEZONE ? 0666 : 0444),
			 st->st_size);
		clock_gettime(CLOCK_REALTIME, &st->st_mtim);
		return TRUE;
	case INO_RAW:
		return stat_raw(fs, ino, st, err);
	case INO_TRASH:
		trash_stat(fs, ino, st);
		return TRUE;
	}
	g_set_error(err, CALFS_ERROR, CALFS_ERROR_NOTFOUND, "no such inode");
	return FALSE;
}

static void not_found(GError **err, const char *name)
{
	g_set_error(err, CALFS_ERROR, CALFS_ERROR_NOTFOUND, "%s: not found", name);
}

static fuse_ino_t lookup_calendar(fs_ctx *fs, gint64 cal_id, const char *name,
				  GError **err)
{
	store_calendar *cal;
	store_item *it;
	node *n;
	fuse_ino_t ino = 0;

	if (meta_of_name(name)) {
		if (!(cal = store_calendar_get(fs->store, cal_id, err)))
			return 0;
		if (fs_meta_value(cal, meta_of_name(name)))
			ino = ino_make(INO_META, meta_of_name(name), cal_id);
		else
			not_found(err, name);
		store_calendar_free(cal);
		return ino;
	}
	g_mutex_lock(&fs->nodes_lock);
	n = node_find(fs, cal_id, name);
	ino = n ? n->ino : 0;
	g_mutex_unlock(&fs->nodes_lock);
	if (ino)
		return ino;
	it = store_item_find(fs->store, cal_id, name, FALSE, err);
	if (!it)
		return 0;
	ino = ino_make(INO_ITEM, 0, it->id);
	store_item_free(it);
	return ino;
}

static fuse_ino_t found_mailbox(fs_ctx *fs, ino_kind kind, unsigned sub,
				const char *name, GError **err)
{
	store_mailbox *mb = store_mailbox_find(fs->store, name, err);
	fuse_ino_t ino;

	if (!mb)
		return 0;
	ino = ino_make(kind, sub, mb->id);
	store_mailbox_free(mb);
	return ino;
}

static fuse_ino_t found_calendar(fs_ctx *fs, ino_kind kind, unsigned sub,
				 gint64 mailbox_id, const char *name,
				 GError **err)
{
	store_calendar *cal = store_calendar_find(fs->store, mailbox_id, name, err);
	fuse_ino_t ino;

	if (!cal)
		return 0;
	ino = ino_make(kind, sub, cal->id);
	store_calendar_free(cal);
	return ino;
}

fuse_ino_t view_lookup(fs_ctx *fs, fuse_ino_t parent, const char *name,
		       GError **err)
{
	store_item *it;
	fuse_ino_t ino;

	switch (ino_kind_of(parent)) {
	case INO_ROOT:
		if (!strcmp(name, ".calfs"))
			return ino_make(INO_CTL, CTL_DIR, 0);
		if (!strcmp(name, ".raw"))
			return ino_make(INO_RAW, RAW_ROOT, 0);
		if (trash_lookup(fs, parent, name, &ino))
			goto trash;
		return found_mailbox(fs, INO_MAILBOX, 0, name, err);
	case INO_TRASH:
		trash_lookup(fs, parent, name, &ino);
	trash:
		if (!ino)
			not_found(err, name);
		return ino;
	case INO_MAILBOX:
		if (!strcmp(name, ".calfs"))
			return ino_make(INO_CTL, CTL_DIR, ino_id(parent));
		return found_calendar(fs, INO_CALENDAR, 0, ino_id(parent), name, err);
	case INO_CALENDAR:
		return lookup_calendar(fs, ino_id(parent), name, err);
	case INO_CTL:
		if (ino_sub(parent) != CTL_DIR)
			break;
		if (!strcmp(name, "errors"))
			return ino_make(INO_CTL, CTL_ERRORS, ino_id(parent));
		if (ino_id(parent) && !strcmp(name, "report"))
			return ino_make(INO_CTL, CTL_REPORT, ino_id(parent));
		if (ino_id(parent) && !strcmp(name, "timezone"))
			return ino_make(INO_CTL, CTL_TIMEZONE, ino_id(parent));
		if (!ino_id(parent) && !strcmp(name, "timezones.tsv"))
			return ino_make(INO_CTL, CTL_TIMEZONES, 0);
		if (!ino_id(parent) && !strcmp(name, "conflicts.txt"))
			return ino_make(INO_CTL, CTL_CONFLICTS, 0);
		if (!ino_id(parent) && !strcmp(name, "nonexistent.txt"))
			return ino_make(INO_CTL, CTL_NONEXISTENT, 0);
		if (!ino_id(parent) && !strcmp(name, "events"))
			return ino_make(INO_CTL, CTL_EVENTS, 0);
		if (ino_id(parent) && !strcmp(name, "log"))
			return ino_make(INO_CTL, CTL_LOG, ino_id(parent));
		if (!ino_id(parent) && !strcmp(name, "status"))
			return ino_make(INO_CTL, CTL_STATUS, 0);
		not_found(err, name);
		return 0;
	case INO_RAW:
		switch (ino_sub(parent)) {
		case RAW_ROOT:
			return found_mailbox(fs, INO_RAW, RAW_MAILBOX, name, err);
		case RAW_MAILBOX:
			return found_calendar(fs, INO_RAW, RAW_CALENDAR,
					      ino_id(parent), name, err);
		case RAW_CALENDAR:
			it = store_item_find(fs->store, ino_id(parent), name,
					     FALSE, err);
			if (!it)
				return 0;
			ino = ino_make(INO_RAW, RAW_ITEM, it->id);
			store_item_free(it);
			return ino;
		}
		break;
	default:
		break;
	}
	g_set_error(err, CALFS_ERROR, CALFS_ERROR_UNSUPPORTED, "not a directory");
	return 0;
}

void view_entry_add(GPtrArray *out, const char *name, fuse_ino_t ino,
		      mode_t type)
{
	view_entry *e = g_new0(view_entry, 1);

	e->name = g_strdup(name);
	e->ino = ino;
	e->type = type;
	g_ptr_array_add(out, e);
}

static gboolean list_mailboxes(fs_ctx *fs, GPtrArray *out, ino_kind kind,
			       unsigned sub, GError **err)
{
	GPtrArray *mbs = store_mailbox_list(fs->store, err);

	if (!mbs)
		return FALSE;
	for (guint i = 0; i < mbs->len; i++) {
		store_mailbox *m = mbs->pdata[i];

		view_entry_add(out, m->name, ino_make(kind, sub, m->id), S_IFDIR);
	}
	g_ptr_array_unref(mbs);
	return TRUE;
}

static gboolean list_calendars(fs_ctx *fs, GPtrArray *out, gint64 mailbox_id,
			       ino_kind kind, unsigned sub, GError **err)
{
	GPtrArray *cals = store_calendar_list(fs->store, mailbox_id, err);

	if (!cals)
		return FALSE;
	for (guint i = 0; i < cals->len; i++) {
		store_calendar *c = cals->pdata[i];

		view_entry_add(out, c->name, ino_make(kind, sub, c->id), S_IFDIR);
	}
	g_ptr_array_unref(cals);
	return TRUE;
}

static gboolean list_items(fs_ctx *fs, GPtrArray *out, gint64 cal_id,
			   ino_kind kind, unsigned sub, GError **err)
{
	GPtrArray *items = store_item_list(fs->store, cal_id, err);

	if (!items)
		return FALSE;
	for (guint i = 0; i < items->len; i++) {
		store_item *it = items->pdata[i];

		view_entry_add(out, it->name, ino_make(kind, sub, it->id), S_IFREG);
	}
	g_ptr_array_unref(items);
	return TRUE;
}

static gboolean list_calendar(fs_ctx *fs, GPtrArray *out, gint64 cal_id,
			      GError **err)
{
	store_calendar *cal = store_calendar_get(fs->store, cal_id, err);

	if (!cal)
		return FALSE;
	if (cal->displayname)
		view_entry_add(out, meta_name(META_DISPLAYNAME),
			       ino_make(INO_META, META_DISPLAYNAME, cal_id), S_IFREG);
	if (cal->color)
		view_entry_add(out, meta_name(META_COLOR),
			       ino_make(INO_META, META_COLOR, cal_id), S_IFREG);
	store_calendar_free(cal);
	g_mutex_lock(&fs->nodes_lock);
	node_entries(fs, cal_id, out);
	g_mutex_unlock(&fs->nodes_lock);
	return list_items(fs, out, cal_id, INO_ITEM, 0, err);
}

GPtrArray *view_list(fs_ctx *fs, fuse_ino_t ino, GError **err)
{
	GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)view_entry_free);
	gboolean ok = TRUE;
	gint64 id = ino_id(ino);

	switch (ino_kind_of(ino)) {
	case INO_ROOT:
		view_entry_add(out, ".calfs", ino_make(INO_CTL, CTL_DIR, 0), S_IFDIR);
		view_entry_add(out, ".raw", ino_make(INO_RAW, RAW_ROOT, 0), S_IFDIR);
		trash_list(fs, ino, out);
		ok = list_mailboxes(fs, out, INO_MAILBOX, 0, err);
		break;
	case INO_TRASH:
		trash_list(fs, ino, out);
		break;
	case INO_MAILBOX:
		view_entry_add(out, ".calfs", ino_make(INO_CTL, CTL_DIR, id), S_IFDIR);
		ok = list_calendars(fs, out, id, INO_CALENDAR, 0, err);
		break;
	case INO_CALENDAR:
		ok = list_calendar(fs, out, id, err);
		break;
	case INO_CTL:
		if (ino_sub(ino) != CTL_DIR)
			goto notdir;
		if (!id)
			view_entry_add(out, "status", ino_make(INO_CTL, CTL_STATUS, 0),
				  S_IFREG);
		view_entry_add(out, "errors", ino_make(INO_CTL, CTL_ERRORS, id), S_IFREG);
		if (id) {
			view_entry_add(out, "report", ino_make(INO_CTL, CTL_REPORT, id), S_IFREG);
			view_entry_add(out, "timezone", ino_make(INO_CTL, CTL_TIMEZONE, id), S_IFREG);
			view_entry_add(out, "log", ino_make(INO_CTL, CTL_LOG, id), S_IFREG);
		} else {
			view_entry_add(out, "events", ino_make(INO_CTL, CTL_EVENTS, 0), S_IFREG);
			view_entry_add(out, "timezones.tsv", ino_make(INO_CTL, CTL_TIMEZONES, 0), S_IFREG);
			view_entry_add(out, "conflicts.txt", ino_make(INO_CTL, CTL_CONFLICTS, 0), S_IFREG);
			view_entry_add(out, "nonexistent.txt", ino_make(INO_CTL, CTL_NONEXISTENT, 0),
				  S_IFREG);
		}
		break;
	case INO_RAW:
		if (ino_sub(ino) == RAW_ROOT)
			ok = list_mailboxes(fs, out, INO_RAW, RAW_MAILBOX, err);
		else if (ino_sub(ino) == RAW_MAILBOX)
			ok = list_calendars(fs, out, id, INO_RAW, RAW_CALENDAR, err);
		else if (ino_sub(ino) == RAW_CALENDAR)
			ok = list_items(fs, out, id, INO_RAW, RAW_ITEM, err);
		else
			goto notdir;
		break;
	default:
		goto notdir;
	}
	if (!ok)
		g_clear_pointer(&out, g_ptr_array_unref);
	return out;
notdir:
	g_set_error(err, CALFS_ERROR, CALFS_ERROR_UNSUPPORTED, "not a directory");
	g_ptr_array_unref(out);
	return NULL;
}

fuse_ino_t view_parent(fs_ctx *fs, fuse_ino_t ino)
{
	calinfo *ci;
	fuse_ino_t p = FUSE_ROOT_ID;

	switch (ino_kind_of(ino)) {
	case INO_CALENDAR:
		if ((ci = view_calinfo(fs, ino_id(ino), NULL)))
			p = ino_make(INO_MAILBOX, 0, ci->mailbox_id);
		view_calinfo_free(ci);
		break;
	case INO_CTL:
		if (ino_id(ino))
			p = ino_make(INO_MAILBOX, 0, ino_id(ino));
		break;
	case INO_TRASH:
		p = trash_parent(ino);
		break;
	case INO_RAW:
		if (ino_sub(ino) == RAW_MAILBOX)
			p = ino_make(INO_RAW, RAW_ROOT, 0);
		else if (ino_sub(ino) == RAW_CALENDAR &&
			 (ci = view_calinfo(fs, ino_id(ino), NULL))) {
			p = ino_make(INO_RAW, RAW_MAILBOX, ci->mailbox_id);
			view_calinfo_free(ci);
		}
		break;
	default:
		break;
	}
	return p;
}

gboolean view_entry_param(fs_ctx *fs, fuse_ino_t ino,
			  struct fuse_entry_param *e, GError **err)
{
	memset(e, 0, sizeof(*e));
	if (!view_stat(fs, ino, &e->attr, err))
		return FALSE;
	e->ino = ino;
	e->entry_timeout = fs->timeout;
	/* control files change size without a change in the store */
	e->attr_timeout = ino_kind_of(ino) == INO_CTL ? 0 : fs->timeout;
	return TRUE;
}

/* How to open ino at this version, by what the kernel may have of it.
 * A read through the page cache stops at the size the kernel was last
 * told, so unless that was this version's the file is read direct_io
 * (else an item changed since the kernel's last lookup or getattr is read
 * short: a torn read of an item renamed over, make check), until the
 * notifier's invalidation makes the kernel ask again.  Nor while a handle
 * of another version reads through the page cache: a short read of it
 * sets the kernel's size to its version's.  Pages of this very version
 * are kept (keep_cache); pages of another are dropped. */
gboolean view_open_cached(fs_ctx *fs, fuse_ino_t ino, gint64 version, gsize size,
			  struct fuse_file_info *fi)
{
	view_cache *c = fs->cache;
	gpointer k = GSIZE_TO_POINTER(ino), size_of, old;
	reading *rd;
	gboolean told, keep;

	G_STATIC_ASSERT(sizeof(gpointer) >= sizeof(fuse_ino_t));
	g_mutex_lock(&c->lock);
	rd = g_hash_table_lookup(c->reading, k);
	told = g_hash_table_lookup_extended(c->told, k, NULL, &size_of) &&
	       GPOINTER_TO_SIZE(size_of) == (gsize)version && !(rd && rd->key != version);
	keep = told && g_hash_table_lookup_extended(c->kept, k, NULL, &old) &&
	       GPOINTER_TO_SIZE(old) == (gsize)version;
	if (told && !keep) {
		if (g_hash_table_size(c->kept) >= KEPT_MAX)
			g_hash_table_remove_all(c->kept);
		g_hash_table_replace(c->kept, k, GSIZE_TO_POINTER((gsize)version));
	}
	if (told) {
		if (!rd) {
			rd = g_new0(reading, 1);
			rd->key = version;
			rd->size = size;
			g_hash_table_insert(c->reading, k, rd);
		}
		rd->count++;
	}
	g_mutex_unlock(&c->lock);
	fi->keep_cache = keep;
	if (!told)
		fi->direct_io = 1;
	log_debug("open %#" G_GINT64_MODIFIER "x: %s", (guint64)ino,
		  keep ? "the kernel's pages kept" : told ? "read through the page cache"
		  : "read direct_io (its size not yet told)");
	return told;
}

void view_closed(fs_ctx *fs, fuse_ino_t ino)
{
	view_cache *c = fs->cache;
	gpointer k = GSIZE_TO_POINTER(ino);
	reading *rd;
	gboolean again = FALSE;

	g_mutex_lock(&c->lock);
	rd = g_hash_table_lookup(c->reading, k);
	if (rd && !--rd->count) {
		g_hash_table_remove(c->reading, k);
		/* its reads may have set the size after the invalidation */
		if ((again = g_hash_table_contains(c->held, k)))
			g_hash_table_replace(c->held, k, NULL);
	}
	g_mutex_unlock(&c->lock);
	if (again)
		notify_inval_attr(fs->notifier, ino);
}
