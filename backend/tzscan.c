#include "tzscan.h"
#include "tz.h"
#include "tzinfo.h"
#include "zoneid.h"

#include <string.h>

void tzscan_mailbox_free(tzscan_mailbox *m)
{
	if (!m)
		return;
	g_free(m->mailbox);
	g_free(m->configured);
	g_hash_table_destroy(m->recurring);
	g_hash_table_destroy(m->single);
	g_free(m->resolved);
	g_ptr_array_unref(m->conflicts);
	g_free(m);
}

gboolean tzscan_zone_valid(const char *name)
{
	char *z = zoneid_iana(name);
	gboolean ok = z && !strcmp(z, name);

	g_free(z);
	return ok;
}

static void count(GHashTable *t, const char *zone)
{
	gpointer n = g_hash_table_lookup(t, zone);

	g_hash_table_replace(t, g_strdup(zone), GINT_TO_POINTER(GPOINTER_TO_INT(n) + 1));
}

void tzscan_parse_free(tzscan_parse *p)
{
	if (!p)
		return;
	if (p->cal)
		icalcomponent_free(p->cal);
	tz_known_free(p->known);
	store_item_free(p->item);
	g_free(p);
}

GHashTable *tzscan_parses_new(void)
{
	return g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
				     (GDestroyNotify)tzscan_parse_free);
}

/* Hand the parse of item it, and the times gathered from it, over to
 * parses (may be NULL), or free them. */
static void hand_over(GHashTable *parses, const store_item *it, icalcomponent *cal,
		      tz_known *known)
{
	tzscan_parse *t;

	if (!parses || g_hash_table_size(parses) >= TZSCAN_PARSES_MAX) {
		icalcomponent_free(cal);
		tz_known_free(known);
		return;
	}
	t = g_new(tzscan_parse, 1);
	t->version = it->version;
	t->cal = cal;
	t->known = known;
	t->item = store_item_copy(it);
	g_hash_table_replace(parses, g_memdup2(&it->id, sizeof(it->id)), t);
}

/* The TZIDs of an item and the zone of each, as rebasing decides them;
 * its parse goes to parses (may be NULL). */
static void scan_item(tzscan_mailbox *m, const char *path, const store_item *it,
		      GHashTable *parses)
{
	GBytes *data = it->data;
	gsize len;
	const char *text = g_bytes_get_data(data, &len);
	icalcomponent *cal;
	GPtrArray *usages;
	tz_known *known;

	/* an item without a TZID (all in UTC, or all-day) tells no zone:
	 * not parsed */
	if (!text || !memmem(text, len, "TZID", 4))
		return;
	/* a scan reads every item of a mailbox: parsing their attendees
	 * and descriptions was most of its time */
	known = parses ? tz_known_new() : NULL;
	if (!(cal = tz_parse_known(text, len, known))) {
		tz_known_free(known);
		return;
	}
	usages = tz_identify(cal, m->configured, known);
	for (guint i = 0; i < usages->len; i++) {
		tz_usage *u = usages->pdata[i];

		for (guint k = 0; k < u->rejected->len; k++)
			g_ptr_array_add(m->conflicts, g_strdup_printf(
				"%s\tTZID \"%s\": %s: not used", path, u->tzid,
				(char *)u->rejected->pdata[k]));
		if (u->zone)
			count(u->recurring ? m->recurring : m->single, u->zone);
		else if (u->method == ZONEID_CONFLICT)
			g_ptr_array_add(m->conflicts, g_strdup_printf(
				"%s\tTZID \"%s\": its rules fit zones that differ: %s",
				path, u->tzid, u->candidates));
		else
			g_ptr_array_add(m->conflicts, g_strdup_printf(
				"%s\tTZID \"%s\": no tzdata zone found", path, u->tzid));
	}
	g_ptr_array_unref(usages);
	hand_over(parses, it, cal, known);
}

/* Whether zones a and b follow the same rules every year 2000-2030. */
static gboolean equivalent(const char *a, const char *b)
{
	icaltimezone *za = tzinfo_zone(a), *zb = tzinfo_zone(b);

	if (!strcmp(a, b))
		return TRUE;
	if (!za || !zb)
		return FALSE;
	for (int y = 2000; y <= 2030; y++) {
		tzinfo_rule ra, rb;

		tzinfo_rule_of_year(za, y, &ra);
		tzinfo_rule_of_year(zb, y, &rb);
		if (!tzinfo_rule_equal(&ra, &rb))
			return FALSE;
	}
	return TRUE;
}

/* A zone dominates when it (with the zones equivalent to it) has at least
 * this share of the items. */
#define DOMINANT 0.6

/* The zone that dominates t, or NULL; *mixed set when t holds zones but
 * none dominates. */
static const char *dominant(GHashTable *t, gboolean *mixed)
{
	GHashTableIter it;
	gpointer k, v;
	const char *best = NULL;
	int best_n = 0, total = 0, with_best = 0;

	g_hash_table_iter_init(&it, t);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		total += GPOINTER_TO_INT(v);
		if (GPOINTER_TO_INT(v) > best_n ||
		    (GPOINTER_TO_INT(v) == best_n && best && strcmp(k, best) < 0)) {
			best = k;
			best_n = GPOINTER_TO_INT(v);
		}
	}
	if (!best)
		return NULL;
	g_hash_table_iter_init(&it, t);
	while (g_hash_table_iter_next(&it, &k, &v))
		if (equivalent(best, k))
			with_best += GPOINTER_TO_INT(v);
	if (with_best >= DOMINANT * total)
		return best;
	*mixed = TRUE;
	return NULL;
}

static char *zones_text(GHashTable *t)
{
	GList *keys = g_list_sort(g_hash_table_get_keys(t), (GCompareFunc)strcmp);
	GString *s = g_string_new(NULL);

	for (GList *l = keys; l; l = l->next)
		g_string_append_printf(s, "%s%s:%d", s->len ? " " : "", (char *)l->data,
				       GPOINTER_TO_INT(g_hash_table_lookup(t, l->data)));
	g_list_free(keys);
	return g_string_free(s, FALSE);
}

static void resolve(tzscan_mailbox *m)
{
	gboolean mixed_r = FALSE, mixed_s = FALSE;
	const char *r = dominant(m->recurring, &mixed_r);
	const char *s = dominant(m->single, &mixed_s);
	gboolean any = g_hash_table_size(m->recurring) || g_hash_table_size(m->single);

	if (m->configured) {
		m->resolved = g_strdup(m->configured);
		m->status = "ok";
	} else if (r || (!mixed_r && s)) {
		/* recurring items tell a mailbox's zone best */
		m->resolved = g_strdup(r ? r : s);
		m->status = "ok";
	} else if (!any && m->conflicts->len) {
		/* the only evidence is TZIDs that could not be told apart */
		m->status = "conflict";
	} else if (any) {
		char *z = zones_text(mixed_r ? m->recurring : m->single);

		m->status = "conflict";
		g_ptr_array_add(m->conflicts, g_strdup_printf(
			"%s\tno zone has %d%% of its %s items: %s", m->mailbox,
			(int)(DOMINANT * 100), mixed_r ? "recurring" : "single", z));
		g_free(z);
	} else {
		m->status = "none";
	}
}

static tzscan_mailbox *scan(store *s, const conf *c, const store_mailbox *mb,
			    GHashTable *parses, GError **err)
{
	tzscan_mailbox *m = g_new0(tzscan_mailbox, 1);
	const conf_mailbox *cm = conf_mailbox_get(c, mb->name);
	GPtrArray *cals = store_calendar_list(s, mb->id, err);
	gboolean ok = cals != NULL;

	m->mailbox = g_strdup(mb->name);
	m->configured = g_strdup(cm && cm->timezone ? cm->timezone : mb->timezone);
	m->recurring = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	m->single = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	m->conflicts = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; ok && i < cals->len; i++) {
		store_calendar *cal = cals->pdata[i];
		/* only items that name a zone tell anything */
		GPtrArray *items = store_item_scan(s, cal->id, "TZID", err);

		ok = items != NULL;
		for (guint k = 0; ok && k < items->len; k++) {
			store_item *it = items->pdata[k];
			char *path = g_strdup_printf("%s/%s/%s", mb->name, cal->name, it->name);

			scan_item(m, path, it, parses);
			g_free(path);
		}
		if (items)
			g_ptr_array_unref(items);
	}
	if (cals)
		g_ptr_array_unref(cals);
	if (!ok) {
		tzscan_mailbox_free(m);
		return NULL;
	}
	resolve(m);
	return m;
}

tzscan_mailbox *tzscan_mailbox_scan(store *s, const conf *c, const store_mailbox *mb,
				    GError **err)
{
	return scan(s, c, mb, NULL, err);
}

/* The kept scans' format: a new one when what a scan decides changes. */
#define SCAN_FORMAT 1

static const char *status_text(const char *status)
{
	if (status && !strcmp(status, "ok"))
		return "ok";
	if (status && !strcmp(status, "conflict"))
		return "conflict";
	return "none";
}

const char *tzscan_mailbox_zone(store *s, const conf *c, const store_mailbox *mb,
				char **zone, GHashTable *parses, GError **err)
{
	const conf_mailbox *cm = conf_mailbox_get(c, mb->name);
	const char *configured = cm && cm->timezone ? cm->timezone : mb->timezone;
	const char *status = NULL;
	char *stamp, *key, *kept = NULL, *resolved = NULL;
	tzscan_mailbox *m;

	*zone = NULL;
	if (configured) {
		*zone = g_strdup(configured);
		return "ok";
	}
	/* the stamp is taken before the scan: a change made during it makes
	 * what is kept stale at once, never wrongly fresh */
	if (!(stamp = store_mailbox_stamp(s, mb->id, err)))
		return NULL;
	key = g_strdup_printf("%d|%s|%s", SCAN_FORMAT, tz_tzdata_version(), stamp);
	if (store_zone_scan_get(s, mb->id, key, &kept, &resolved, NULL)) {
		status = status_text(kept);
	} else if ((m = scan(s, c, mb, parses, err))) {
		status = status_text(m->status);
		resolved = g_strdup(m->resolved);
		/* a cache: a store that cannot keep it is still read */
		(void)store_zone_scan_put(s, mb->id, key, status, resolved, NULL);
		tzscan_mailbox_free(m);
	}
	if (status && !strcmp(status, "ok"))
		*zone = g_steal_pointer(&resolved);
	g_free(resolved);
	g_free(kept);
	g_free(key);
	g_free(stamp);
	return status;
}

GPtrArray *tzscan_all(store *s, const conf *c, GError **err)
{
	GPtrArray *mbs = store_mailbox_list(s, err);
	GPtrArray *out;

	if (!mbs)
		return NULL;
	out = g_ptr_array_new_with_free_func((GDestroyNotify)tzscan_mailbox_free);
	for (guint i = 0; i < mbs->len; i++) {
		tzscan_mailbox *m = tzscan_mailbox_scan(s, c, mbs->pdata[i], err);

		if (!m) {
			g_clear_pointer(&out, g_ptr_array_unref);
			break;
		}
		g_ptr_array_add(out, m);
	}
	g_ptr_array_unref(mbs);
	return out;
}

static const char *dash(const char *s)
{
	return s && *s ? s : "-";
}

char *tzscan_format_tsv(GPtrArray *scans)
{
	GString *s = g_string_new("mailbox\tconfigured\trecurring\tsingle\tresolved\tstatus\n");

	for (guint i = 0; i < scans->len; i++) {
		tzscan_mailbox *m = scans->pdata[i];
		char *r = zones_text(m->recurring), *sg = zones_text(m->single);

		g_string_append_printf(s, "%s\t%s\t%s\t%s\t%s\t%s\n", m->mailbox,
				       dash(m->configured), dash(r), dash(sg),
				       dash(m->resolved), m->status);
		g_free(r);
		g_free(sg);
	}
	return g_string_free(s, FALSE);
}

char *tzscan_format_conflicts(GPtrArray *scans)
{
	GString *s = g_string_new(NULL);

	for (guint i = 0; i < scans->len; i++) {
		tzscan_mailbox *m = scans->pdata[i];

		for (guint k = 0; k < m->conflicts->len; k++)
			g_string_append_printf(s, "%s\n", (char *)m->conflicts->pdata[k]);
	}
	return g_string_free(s, FALSE);
}

char *tzscan_format_nonexistent(GPtrArray *scans)
{
	GString *s = g_string_new(NULL);

	for (guint i = 0; i < scans->len; i++) {
		tzscan_mailbox *m = scans->pdata[i];

		if (!strcmp(m->status, "none"))
			g_string_append_printf(s, "%s\n", m->mailbox);
	}
	return g_string_free(s, FALSE);
}
