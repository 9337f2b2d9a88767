#include "tzinfo.h"
#include "recur.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_DIR "/usr/share/zoneinfo"

/* One tzdata: its version and the zones read from it so far.  A newer
 * one replaces it as current; the old one is kept, with its zones, since
 * renderings under way may hold them. */
typedef struct {
	char *version;
	GHashTable *zones;	/* name -> icaltimezone*, or NULL: no such zone */
} generation;

static GMutex zones_lock;		/* guards the four below */
static generation *current;
static GPtrArray *generations;		/* every generation made */
static char *dir;			/* the zoneinfo directory */
static GHashTable *tzdata_zones;	/* icaltimezone*: those read from tzdata */

/* "2025b" from dir/tzdata.zi's first line, or "".  Newly allocated. */
static char *read_version(const char *zoneinfo)
{
	char *path = g_build_filename(zoneinfo, "tzdata.zi", NULL);
	char buf[64] = "";
	FILE *f = fopen(path, "r");
	char *v;

	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = '\0';
		fclose(f);
	}
	g_free(path);
	v = g_str_has_prefix(buf, "# version ") ? g_strdup(buf + strlen("# version "))
						: g_strdup("");
	return g_strchomp(v);
}

static generation *generation_new(char *version)
{
	generation *g = g_new0(generation, 1);

	g->version = version;
	g->zones = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	if (!generations)
		generations = g_ptr_array_new();
	g_ptr_array_add(generations, g);
	return g;
}

/* The current generation, made on first use.  zones_lock is held. */
static generation *current_locked(void)
{
	if (!current) {
		const char *env = g_getenv("TZDIR");

		dir = g_strdup(env && *env ? env : DEFAULT_DIR);
		current = generation_new(read_version(dir));
	}
	return current;
}

const char *tzinfo_dir(void)
{
	const char *d;

	g_mutex_lock(&zones_lock);
	(void)current_locked();
	d = dir;
	g_mutex_unlock(&zones_lock);
	return d;
}

const char *tzinfo_version(void)
{
	const char *v;

	g_mutex_lock(&zones_lock);
	v = current_locked()->version;
	g_mutex_unlock(&zones_lock);
	return v;
}

gboolean tzinfo_reload(void)
{
	char *now;
	gboolean changed;

	g_mutex_lock(&zones_lock);
	now = read_version(dir ? dir : (current_locked(), dir));
	changed = strcmp(now, current_locked()->version) != 0;
	if (changed)
		current = generation_new(now);
	else
		g_free(now);
	g_mutex_unlock(&zones_lock);
	return changed;
}

/* The path of zoneinfo file name as libical's reader takes it: relative
 * to the directory libical looks in, which is not $TZDIR.  Newly
 * allocated. */
static char *libical_location(const char *name)
{
	const char *base = icaltzutil_get_zone_directory();
	GString *up;

	if (!base || !strcmp(base, dir))
		return g_strdup(name);
	up = g_string_new(NULL);
	for (const char *p = base; *p; p++)
		if (*p == '/' && p[1] && p[1] != '/')
			g_string_append(up, "../");
	g_string_append_printf(up, "%s/%s", dir[0] == '/' ? dir + 1 : dir, name);
	return g_string_free(up, FALSE);
}

/* libical works out a zone's changes from its first onset (1601 for
 * Outlook's VTIMEZONEs) up to the year asked for, and does it all again
 * whenever a later year is asked for: asked for years one after the
 * other, a zone cost a hundred million instructions.  So each tzdata
 * zone is worked out once, up to the last year calfs asks for (not those
 * of items' VTIMEZONEs: most are asked for a few years only). */
static void cover(icaltimezone *z)
{
	struct icaltimetype far = icaltime_from_timet_with_zone((time_t)2840140800, 0, NULL);
	int dst = 0;

	far.year = 2061;	/* the transitions kept reach 2060 */
	(void)icaltimezone_get_utc_offset_of_utc_time(z, &far, &dst);
}

/* Whether name is a zone file of dir: no way out of it, a regular file. */
static gboolean zone_file(const char *name)
{
	char *path;
	gboolean ok;

	if (!*name || strstr(name, "..") || name[0] == '/' || !g_ascii_isalpha(name[0]))
		return FALSE;
	path = g_build_filename(dir, name, NULL);
	ok = g_file_test(path, G_FILE_TEST_IS_REGULAR);
	g_free(path);
	return ok;
}

/* Read zone name from tzdata; NULL when there is none.  zones_lock is
 * held (libical's reader keeps state of its own). */
static icaltimezone *load(const char *name)
{
	char *location;
	icalcomponent *vtz;
	icalproperty *p;
	icaltimezone *z;

	if (!zone_file(name))
		return NULL;
	location = libical_location(name);
	vtz = icaltzutil_fetch_timezone(location);
	g_free(location);
	if (!vtz)
		return NULL;
	/* libical names it by the path it was given */
	if ((p = icalcomponent_get_first_property(vtz, ICAL_TZID_PROPERTY)))
		icalproperty_set_tzid(p, name);
	while ((p = icalcomponent_get_first_property(vtz, ICAL_X_PROPERTY))) {
		icalcomponent_remove_property(vtz, p);
		icalproperty_free(p);
	}
	z = icaltimezone_new();
	if (!icaltimezone_set_component(z, vtz)) {
		icalcomponent_free(vtz);
		icaltimezone_free(z, 1);
		return NULL;
	}
	cover(z);
	return z;
}

icaltimezone *tzinfo_zone(const char *name)
{
	generation *g;
	gpointer z;

	if (!name || !*name)
		return NULL;
	if (!strcmp(name, "UTC") || !strcmp(name, "Etc/UTC"))
		return icaltimezone_get_utc_timezone();
	g_mutex_lock(&zones_lock);
	g = current_locked();
	if (!g_hash_table_lookup_extended(g->zones, name, NULL, &z)) {
		z = load(name);
		g_hash_table_insert(g->zones, g_strdup(name), z);
		if (!tzdata_zones)
			tzdata_zones = g_hash_table_new(g_direct_hash, g_direct_equal);
		if (z)
			g_hash_table_add(tzdata_zones, z);
	}
	g_mutex_unlock(&zones_lock);
	return z;
}

/* libical works out a zone's changes from its first year up to the year
 * asked for, through ICU, year by year: a time in the year 4040 took it
 * seconds (make fuzz).  Times past FAR_YEAR are asked for whole 400-year
 * Gregorian cycles earlier, which have the same dates on the same
 * weekdays, so rules that go on unchanged give the same offset. */
#define FAR_YEAR 2200
#define CYCLE_YEARS 400
#define CYCLE_SECONDS ((gint64)146097 * 86400)
/* 2200-01-01T00:00:00Z */
#define FAR_SECONDS G_GINT64_CONSTANT(7258118400)

/* Defined with the kept transitions, below. */
static gboolean kept_offset_local(icaltimezone *z, struct icaltimetype local, int *offset);

int tzinfo_offset_local(icaltimezone *z, struct icaltimetype local)
{
	int dst = 0, offset;

	local.zone = NULL;
	local.is_date = 0;
	if (local.year > FAR_YEAR)
		local.year -= CYCLE_YEARS * ((local.year - FAR_YEAR + CYCLE_YEARS - 1) / CYCLE_YEARS);
	if (kept_offset_local(z, local, &offset))
		return offset;
	return icaltimezone_get_utc_offset(z, &local, &dst);
}

int tzinfo_offset_utc(icaltimezone *z, gint64 t)
{
	struct icaltimetype u;
	int dst = 0;

	if (t > FAR_SECONDS)
		t -= CYCLE_SECONDS * ((t - FAR_SECONDS + CYCLE_SECONDS - 1) / CYCLE_SECONDS);
	u = icaltime_from_timet_with_zone((time_t)t, 0, NULL);
	return icaltimezone_get_utc_offset_of_utc_time(z, &u, &dst);
}

/* Zones made from VTIMEZONEs, by their text; each with a count of users so
 * that a full cache can be emptied without pulling one from under a
 * reader. */
#define VTZ_CACHE_MAX 512

typedef struct {
	icaltimezone *zone;
	int users;
	gboolean evicted;	/* out of the table; freed by its last user */
	GArray *kept;		/* its changes (vtz_changes), or NULL */
	GHashTable *gaps;	/* tzdata zone -> GArray of pair_gap (pair_gaps) */
} vtz_entry;

/* Bumped before a vtz_entry is freed: a thread's last_kept (below) may
 * hold its changes, under a zone pointer a new zone may reuse. */
static gint vtz_frees;

static GArray *vtz_changes(icalcomponent *vtz);

/* RDATEs of one VTIMEZONE beyond which it is not used (tzdata's longest
 * zones have a few hundred changes) */
#define MAX_RDATES 2000

static GMutex vtz_lock;
static GHashTable *vtz_cache;	/* vtz_key -> vtz_entry* */
static GHashTable *vtz_by_zone;	/* icaltimezone* -> vtz_entry* */

static void vtz_entry_free(vtz_entry *e)
{
	g_atomic_int_inc(&vtz_frees);
	if (e->kept)
		g_array_unref(e->kept);
	if (e->gaps)
		g_hash_table_destroy(e->gaps);
	icaltimezone_free(e->zone, 1);
	g_free(e);
}

/* Whether libical can work out vtz's changes in reasonable time: it
 * expands each observance from its DTSTART (often 1601) on, so a rule
 * that repeats more often than monthly, or thousands of RDATEs, would
 * keep it busy for hours and take gigabytes. */
static gboolean observances_sane(icalcomponent *vtz)
{
	guint rdates = 0;

	for (icalcomponent *o = icalcomponent_get_first_component(vtz, ICAL_ANY_COMPONENT); o;
	     o = icalcomponent_get_next_component(vtz, ICAL_ANY_COMPONENT)) {
		for (icalproperty *p = icalcomponent_get_first_property(o, ICAL_RRULE_PROPERTY); p;
		     p = icalcomponent_get_next_property(o, ICAL_RRULE_PROPERTY)) {
			struct icalrecurrencetype r = icalproperty_get_rrule(p);

			if (r.freq != ICAL_YEARLY_RECURRENCE && r.freq != ICAL_MONTHLY_RECURRENCE)
				return FALSE;
		}
		for (icalproperty *p = icalcomponent_get_first_property(o, ICAL_RDATE_PROPERTY); p;
		     p = icalcomponent_get_next_property(o, ICAL_RDATE_PROPERTY))
			if (++rdates > MAX_RDATES)
				return FALSE;
	}
	return TRUE;
}

/* Observances that start before 1900 (Outlook and Exchange write 1601)
 * with an open yearly rule start in 1900 instead: the same changes from
 * then on, and libical, which expands every year from the DTSTART with
 * ICU's calendar arithmetic, has 300 fewer years to go through. */
static void from_1900(icalcomponent *vtz)
{
	for (icalcomponent *o = icalcomponent_get_first_component(vtz, ICAL_ANY_COMPONENT); o;
	     o = icalcomponent_get_next_component(vtz, ICAL_ANY_COMPONENT)) {
		icalproperty *ds = icalcomponent_get_first_property(o, ICAL_DTSTART_PROPERTY);
		icalproperty *rr = icalcomponent_get_first_property(o, ICAL_RRULE_PROPERTY);
		struct icaltimetype t;
		struct icalrecurrencetype r;

		if (!ds || !rr || icalcomponent_get_next_property(o, ICAL_RRULE_PROPERTY) ||
		    icalcomponent_get_first_property(o, ICAL_RDATE_PROPERTY))
			continue;
		t = icalproperty_get_dtstart(ds);
		r = icalproperty_get_rrule(rr);
		if (t.year >= 1900 || r.freq != ICAL_YEARLY_RECURRENCE || r.interval != 1 ||
		    r.count || !icaltime_is_null_time(r.until))
			continue;
		t.year = 1900;
		icalproperty_set_dtstart(ds, t);
	}
}

/* ---- a VTIMEZONE's key in the cache ----
 *
 * The key was the VTIMEZONE's text as libical writes it: writing it for
 * every item was a twentieth of a fix.  Now the properties libical reads
 * a VTIMEZONE's changes from (DTSTART, TZOFFSETFROM, TZOFFSETTO, RRULE,
 * TZID, TZNAME) go in as the values libical parsed; any other property,
 * one with parameters, and any other component, as libical writes them.
 * Two keys are equal only when libical holds the same values. */

enum { KEY_BEGIN = -1, KEY_END = -2 };

static void key_add(GString *k, int tag, const void *p, gsize n)
{
	gint32 t = tag;
	guint32 len = n;

	g_string_append_len(k, (const char *)&t, sizeof(t));
	g_string_append_len(k, (const char *)&len, sizeof(len));
	if (n)
		g_string_append_len(k, p, n);
}

/* Append what libical writes of p (or of component c): FALSE when it
 * cannot. */
static gboolean key_written(GString *k, int tag, icalproperty *p, icalcomponent *c)
{
	char *text = p ? icalproperty_as_ical_string_r(p) : icalcomponent_as_ical_string_r(c);

	if (!text)
		return FALSE;
	key_add(k, tag, text, strlen(text));
	free(text);
	return TRUE;
}

static gboolean key_property(GString *k, icalproperty *p)
{
	icalproperty_kind kind = icalproperty_isa(p);
	const char *text = NULL;

	if (icalproperty_count_parameters(p) || !icalproperty_get_value(p))
		return key_written(k, kind, p, NULL);
	switch (kind) {
	case ICAL_DTSTART_PROPERTY: {
		struct icaltimetype t = icalproperty_get_dtstart(p);
		int f[] = { t.year, t.month, t.day, t.hour, t.minute, t.second, t.is_date,
			    icaltime_is_utc(t) };

		key_add(k, kind, f, sizeof(f));
		return TRUE;
	}
	case ICAL_TZOFFSETFROM_PROPERTY:
	case ICAL_TZOFFSETTO_PROPERTY: {
		int v = kind == ICAL_TZOFFSETTO_PROPERTY ? icalproperty_get_tzoffsetto(p)
							 : icalproperty_get_tzoffsetfrom(p);

		key_add(k, kind, &v, sizeof(v));
		return TRUE;
	}
	case ICAL_RRULE_PROPERTY: {
		struct icalrecurrencetype r = icalproperty_get_rrule(p);
		char *rule = icalrecurrencetype_as_string_r(&r);

		if (!rule)
			return key_written(k, kind, p, NULL);
		key_add(k, kind, rule, strlen(rule));
		free(rule);
		return TRUE;
	}
	case ICAL_TZID_PROPERTY:
		text = icalproperty_get_tzid(p);
		break;
	case ICAL_TZNAME_PROPERTY:
		text = icalproperty_get_tzname(p);
		break;
	default:
		break;
	}
	if (!text)
		return key_written(k, kind, p, NULL);
	key_add(k, kind, text, strlen(text));
	return TRUE;
}

static gboolean key_component(GString *k, icalcomponent *c)
{
	icalcomponent_kind kind = icalcomponent_isa(c);

	key_add(k, KEY_BEGIN, &kind, sizeof(kind));
	for (icalproperty *p = icalcomponent_get_first_property(c, ICAL_ANY_PROPERTY); p;
	     p = icalcomponent_get_next_property(c, ICAL_ANY_PROPERTY))
		if (!key_property(k, p))
			return FALSE;
	for (icalcomponent *o = icalcomponent_get_first_component(c, ICAL_ANY_COMPONENT); o;
	     o = icalcomponent_get_next_component(c, ICAL_ANY_COMPONENT)) {
		icalcomponent_kind ok = icalcomponent_isa(o);

		if (ok == ICAL_XSTANDARD_COMPONENT || ok == ICAL_XDAYLIGHT_COMPONENT
		    ? !key_component(k, o) : !key_written(k, KEY_BEGIN, NULL, o))
			return FALSE;
	}
	key_add(k, KEY_END, NULL, 0);
	return TRUE;
}

/* vtz's key (vtz_cache), or NULL when libical cannot write it. */
static GBytes *vtz_key(icalcomponent *vtz)
{
	GString *k = g_string_sized_new(512);

	if (!key_component(k, vtz)) {
		g_string_free(k, TRUE);
		return NULL;
	}
	return g_string_free_to_bytes(k);
}

icaltimezone *tzinfo_vtimezone(icalcomponent *vtz)
{
	GBytes *key;
	vtz_entry *e;

	if (!observances_sane(vtz))
		return NULL;
	if (!(key = vtz_key(vtz)))
		return NULL;	/* libical cannot write it: nor use it */

	g_mutex_lock(&vtz_lock);
	if (!vtz_cache) {
		vtz_cache = g_hash_table_new_full(g_bytes_hash, g_bytes_equal,
						  (GDestroyNotify)g_bytes_unref, NULL);
		vtz_by_zone = g_hash_table_new(g_direct_hash, g_direct_equal);
	}
	e = g_hash_table_lookup(vtz_cache, key);
	if (!e) {
		icaltimezone *z = icaltimezone_new();
		icalcomponent *copy = icalcomponent_new_clone(vtz);

		from_1900(copy);

		/* libical takes the component only when it succeeds (a
		 * VTIMEZONE without a TZID fails) */
		if (!icaltimezone_set_component(z, copy)) {
			icalcomponent_free(copy);
			icaltimezone_free(z, 1);
			g_mutex_unlock(&vtz_lock);
			g_bytes_unref(key);
			return NULL;
		}
		if (g_hash_table_size(vtz_cache) >= VTZ_CACHE_MAX) {
			GHashTableIter it;
			gpointer v;

			g_hash_table_iter_init(&it, vtz_cache);
			while (g_hash_table_iter_next(&it, NULL, &v)) {
				vtz_entry *old = v;

				old->evicted = TRUE;
				if (!old->users) {
					g_hash_table_remove(vtz_by_zone, old->zone);
					vtz_entry_free(old);
				}
			}
			g_hash_table_remove_all(vtz_cache);
		}
		e = g_new0(vtz_entry, 1);
		e->zone = z;
		e->kept = vtz_changes(icaltimezone_get_component(z));
		g_hash_table_insert(vtz_cache, key, e);
		g_hash_table_insert(vtz_by_zone, z, e);
		key = NULL;
	}
	e->users++;
	g_mutex_unlock(&vtz_lock);
	if (key)
		g_bytes_unref(key);
	return e->zone;
}

void tzinfo_release(icaltimezone *z)
{
	vtz_entry *e;

	if (!z)
		return;
	g_mutex_lock(&vtz_lock);
	e = g_hash_table_lookup(vtz_by_zone, z);
	if (e && --e->users == 0 && e->evicted) {
		g_hash_table_remove(vtz_by_zone, z);
		vtz_entry_free(e);
	}
	g_mutex_unlock(&vtz_lock);
}

gint64 tzinfo_utc_of_local(icaltimezone *z, struct icaltimetype local)
{
	struct icaltimetype t = local;

	t.zone = NULL;
	t.is_date = 0;
	return (gint64)icaltime_as_timet(t) - tzinfo_offset_local(z, local);
}

static gint64 unix_of(int y, int mo, int d, int h)
{
	return (recur_day_number(y, mo, d) - RECUR_UNIX_DAY) * 86400 + h * 3600;
}

typedef struct {
	gint64 at;		/* instant of the change */
	int before, after;	/* offsets */
} change;

/* The instants in [from, to) where z's offset changes, found by weekly
 * steps and bisection. */
static int changes(icaltimezone *z, gint64 from, gint64 to, change *out, int max)
{
	const gint64 step = 7 * 86400;
	gint64 t = from;
	int n = 0, prev = tzinfo_offset_utc(z, from);

	while (t < to && n < max) {
		gint64 lo = t, hi = MIN(t + step, to);

		if (tzinfo_offset_utc(z, hi) == prev) {
			t = hi;
			continue;
		}
		/* the first instant in (lo, hi] whose offset is not prev */
		while (hi - lo > 1) {
			gint64 mid = lo + (hi - lo) / 2;

			if (tzinfo_offset_utc(z, mid) == prev)
				lo = mid;
			else
				hi = mid;
		}
		out[n].at = hi;
		out[n].before = prev;
		out[n].after = prev = tzinfo_offset_utc(z, hi);
		n++;
		t = hi;
	}
	return n;
}

/* The transitions of z in [from, to), found with libical. */
static GArray *find_transitions(icaltimezone *z, gint64 from, gint64 to)
{
	GArray *out = g_array_new(FALSE, FALSE, sizeof(tzinfo_transition));

	if (z == icaltimezone_get_utc_timezone())
		return out;

	/* a year at a time: changes() stops at its max */
	for (gint64 t = from; t < to; t += 366 * 86400) {
		change c[16];
		int n = changes(z, t, MIN(t + 366 * 86400, to), c, G_N_ELEMENTS(c));

		for (int i = 0; i < n; i++) {
			tzinfo_transition tr = { c[i].at, c[i].before, c[i].after, FALSE };
			struct icaltimetype u = icaltime_from_timet_with_zone((time_t)c[i].at, 0, NULL);
			int dst = 0;

			(void)icaltimezone_get_utc_offset_of_utc_time(z, &u, &dst);
			tr.dst = dst != 0;
			g_array_append_val(out, tr);
		}
	}
	return out;
}

/* A tzdata zone's transitions in these years are found once and kept:
 * the rule at an item's creation and the rule of a year are then a
 * search, not hundreds of offset lookups. */
#define KEPT_FROM G_GINT64_CONSTANT(-315619200)	/* 1960-01-01 */
#define KEPT_TO G_GINT64_CONSTANT(2840140800)	/* 2060-01-01 */
#define KEPT_LAST_YEAR 2059

static GMutex kept_lock;	/* guards kept */
static GHashTable *kept;	/* icaltimezone* -> GArray* of tzinfo_transition */

/* The kept transitions of z, or NULL when z is not a tzdata zone. */
static GArray *kept_transitions(icaltimezone *z)
{
	GArray *tr;
	gboolean tzdata;

	g_mutex_lock(&zones_lock);
	tzdata = tzdata_zones && g_hash_table_contains(tzdata_zones, z);
	g_mutex_unlock(&zones_lock);
	if (!tzdata)
		return NULL;
	g_mutex_lock(&kept_lock);
	tr = kept ? g_hash_table_lookup(kept, z) : NULL;
	g_mutex_unlock(&kept_lock);
	if (tr)
		return tr;
	tr = find_transitions(z, KEPT_FROM, KEPT_TO);
	g_mutex_lock(&kept_lock);
	if (!kept)
		kept = g_hash_table_new(g_direct_hash, g_direct_equal);
	if (g_hash_table_contains(kept, z)) {
		g_array_unref(tr);	/* another thread was first */
		tr = g_hash_table_lookup(kept, z);
	} else {
		g_hash_table_insert(kept, z, tr);
	}
	g_mutex_unlock(&kept_lock);
	return tr;
}

/* ---- a VTIMEZONE's changes, as libical 3.0 expands them ---- */

/* An observance's changes beyond which its VTIMEZONE is left to libical */
#define VTZ_CHANGES_MAX 4000

/* Whether t's fields are a time of a day of the calendar: libical's
 * iterator does what is not copied here with one that is not. */
static gboolean plain_time(struct icaltimetype t)
{
	return t.year >= 1 && t.year <= 9999 &&
	       g_date_valid_dmy((GDateDay)t.day, (GDateMonth)t.month, (GDateYear)t.year) &&
	       t.hour >= 0 && t.hour <= 23 && t.minute >= 0 && t.minute <= 59 &&
	       t.second >= 0 && t.second <= 59;
}

/* Append the change at wall-clock fields t (shift seconds ahead of UTC);
 * FALSE when they are no time. */
static gboolean add_change(GArray *out, struct icaltimetype t, int shift, int prev, int to)
{
	change c = { .before = prev, .after = to };

	if (!plain_time(t))
		return FALSE;
	c.at = unix_of(t.year, t.month, t.day, t.hour) + t.minute * 60 + t.second - shift;
	g_array_append_val(out, c);
	return TRUE;
}

/* The changes of observance o into out, as icaltimezone_expand_vtimezone
 * of libical 3.0.16 makes them (up to the year before KEPT_TO): FALSE
 * when o has what is not copied here (a rule recur.c and libical's
 * iterator may not end, a period, a start in a zone). */
static gboolean observance_changes(icalcomponent *o, GArray *out)
{
	icalcomponent_kind k = icalcomponent_isa(o);
	gboolean rrule = FALSE, have_start = FALSE, have_to = FALSE, have_from = FALSE;
	struct icaltimetype start = icaltime_null_time();
	int after = 0, prev = 0;

	if (k != ICAL_XSTANDARD_COMPONENT && k != ICAL_XDAYLIGHT_COMPONENT)
		return TRUE;
	/* as libical reads them: the last of each, in one walk */
	for (icalproperty *p = icalcomponent_get_first_property(o, ICAL_ANY_PROPERTY); p;
	     p = icalcomponent_get_next_property(o, ICAL_ANY_PROPERTY)) {
		switch (icalproperty_isa(p)) {
		case ICAL_DTSTART_PROPERTY:
			start = icalproperty_get_dtstart(p);
			have_start = TRUE;
			break;
		case ICAL_TZOFFSETTO_PROPERTY:
			after = icalproperty_get_tzoffsetto(p);
			have_to = TRUE;
			break;
		case ICAL_TZOFFSETFROM_PROPERTY:
			prev = icalproperty_get_tzoffsetfrom(p);
			have_from = TRUE;
			break;
		case ICAL_RRULE_PROPERTY:
			rrule = TRUE;
			break;
		default:
			break;
		}
	}
	if (!have_start || !have_to)
		return TRUE;	/* libical leaves it out */
	if (!have_from)
		prev = after;
	if (start.is_date || start.zone || !plain_time(start) || ABS(after) >= 86400 ||
	    ABS(prev) >= 86400)
		return FALSE;
	if (!rrule && !add_change(out, start, prev, prev, after))
		return FALSE;
	for (icalproperty *p = icalcomponent_get_first_property(o, ICAL_ANY_PROPERTY); p;
	     p = icalcomponent_get_next_property(o, ICAL_ANY_PROPERTY)) {
		if (icalproperty_isa(p) == ICAL_RDATE_PROPERTY) {
			struct icaldatetimeperiodtype rd = icalproperty_get_rdate(p);
			struct icaltimetype t = rd.time;

			if (icaltime_is_null_time(t) || (!t.is_date && !plain_time(t)))
				return FALSE;
			if (t.is_date) {
				/* the start's time of day, read as UTC */
				t.is_date = 0;
				t.hour = start.hour;
				t.minute = start.minute;
				t.second = start.second;
				if (!add_change(out, t, 0, prev, after))
					return FALSE;
			} else if (!add_change(out, t, icaltime_is_utc(t) ? 0 : prev, prev, after)) {
				return FALSE;
			}
		} else if (icalproperty_isa(p) == ICAL_RRULE_PROPERTY) {
			struct icalrecurrencetype r = icalproperty_get_rrule(p);
			GArray *occ = g_array_new(FALSE, FALSE, sizeof(struct icaltimetype));
			gboolean ok = add_change(out, start, prev, prev, after);

			if (!icaltime_is_null_time(r.until) && !r.until.is_date && !plain_time(r.until))
				ok = FALSE;	/* libical's iterator on a time out of range */
			if (!icaltime_is_null_time(r.until) && icaltime_is_utc(r.until)) {
				icaltime_adjust(&r.until, 0, 0, 0, prev);
				r.until.zone = NULL;
			}
			recur_occurrences(&r, start, VTZ_CHANGES_MAX, KEPT_LAST_YEAR, occ);
			ok = ok && occ->len < VTZ_CHANGES_MAX;
			for (guint i = 0; ok && i < occ->len; i++) {
				struct icaltimetype t = g_array_index(occ, struct icaltimetype, i);

				if (icaltime_compare(start, t) != 0)
					ok = add_change(out, t, prev, prev, after);
			}
			g_array_unref(occ);
			if (!ok)
				return FALSE;
		}
	}
	return TRUE;
}

static gint by_instant(gconstpointer a, gconstpointer b)
{
	const change *x = a, *y = b;

	return x->at < y->at ? -1 : x->at > y->at;
}

/* The changes of VTIMEZONE vtz (as tzinfo_vtimezone hands it to
 * libical) as kept transitions: each one's before is the offset in force
 * before it, the first's its TZOFFSETFROM, as libical reads times before
 * it.  NULL when libical's expansion is not copied exactly: then libical
 * is asked.  Changes that change nothing are kept: times near them are
 * libical's too. */
static GArray *vtz_changes(icalcomponent *vtz)
{
	GArray *ch = g_array_new(FALSE, FALSE, sizeof(change)), *out = NULL;
	int in_force;

	for (icalcomponent *o = icalcomponent_get_first_component(vtz, ICAL_ANY_COMPONENT); o;
	     o = icalcomponent_get_next_component(vtz, ICAL_ANY_COMPONENT))
		if (!observance_changes(o, ch))
			goto out;
	if (!ch->len)
		goto out;
	g_array_sort(ch, by_instant);
	/* libical's sort is not stable: changes at one instant must agree */
	for (guint i = 1; i < ch->len; i++) {
		change *a = &g_array_index(ch, change, i - 1), *b = &g_array_index(ch, change, i);

		if (a->at == b->at && (a->after != b->after || a->before != b->before))
			goto out;
	}
	out = g_array_new(FALSE, FALSE, sizeof(tzinfo_transition));
	in_force = g_array_index(ch, change, 0).before;
	for (guint i = 0; i < ch->len; i++) {
		change *c = &g_array_index(ch, change, i);
		tzinfo_transition t = { c->at, in_force, c->after, FALSE };

		if (i && c->at == g_array_index(ch, change, i - 1).at)
			continue;
		g_array_append_val(out, t);
		in_force = c->after;
	}
out:
	g_array_unref(ch);
	return out;
}

/* The changes kept for zone z, made from a VTIMEZONE, or NULL. */
static GArray *vtz_kept(icaltimezone *z)
{
	vtz_entry *e;
	GArray *tr;

	g_mutex_lock(&vtz_lock);
	e = vtz_by_zone ? g_hash_table_lookup(vtz_by_zone, z) : NULL;
	tr = e ? e->kept : NULL;
	g_mutex_unlock(&vtz_lock);
	return tr;
}

/* The kept transitions a thread looked at last: a fix asks for the same
 * few zones (an item's VTIMEZONE and its tzdata zone, in turns) many
 * times in a row, and kept_transitions() takes two locks.  A tzdata zone
 * handed out is never freed (tzinfo.h), nor are its kept transitions; a
 * zone made from a VTIMEZONE is not freed while its caller uses it, and
 * the slots are emptied after any was freed. */
#define LAST_KEPT 4

typedef struct {
	icaltimezone *z[LAST_KEPT];
	GArray *tr[LAST_KEPT];	/* NULL: none kept */
	guint next;		/* the slot to replace */
	gint frees;		/* vtz_frees when the slots were filled */
} last_kept;

static GPrivate last_kept_key = G_PRIVATE_INIT(g_free);

static GArray *kept_of(icaltimezone *z)
{
	last_kept *m = g_private_get(&last_kept_key);
	gint frees = g_atomic_int_get(&vtz_frees);
	guint i;

	if (!m) {
		m = g_new0(last_kept, 1);
		g_private_set(&last_kept_key, m);
	}
	if (m->frees != frees) {
		memset(m, 0, sizeof(*m));
		m->frees = frees;
	}
	for (i = 0; i < LAST_KEPT; i++)
		if (m->z[i] == z)
			return m->tr[i];
	i = m->next;
	m->next = (m->next + 1) % LAST_KEPT;
	m->tr[i] = kept_transitions(z);
	if (!m->tr[i])
		m->tr[i] = vtz_kept(z);
	m->z[i] = z;
	return m->tr[i];
}

gboolean tzinfo_offsets_kept(icaltimezone *z)
{
	return kept_of(z) != NULL;
}

/* How far from the wall-clock times a change skips or repeats a time must
 * be for its offset to be read from the kept transitions: there, libical
 * decides (the daylight flag it was asked with; a weekly meeting is often
 * a day from a change, and a question near one made libical expand its
 * VTIMEZONE with ICU).  test_tz.c's offsets-near-changes holds every time
 * beside the changes to libical's answers. */
#define CLEAR_OF_CHANGES (3 * 3600)

/* The number of tr's changes whose wall-clock time (before the change)
 * is at or before wall-clock second at. */
static guint changes_before(GArray *tr, gint64 at)
{
	guint lo = 0, hi = tr->len;

	while (lo < hi) {
		guint mid = lo + (hi - lo) / 2;
		tzinfo_transition *t = &g_array_index(tr, tzinfo_transition, mid);

		if (t->at + t->before <= at)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The offset in force after the first n of tr's changes. */
static int offset_after(GArray *tr, guint n)
{
	return n ? g_array_index(tr, tzinfo_transition, n - 1).after
		 : g_array_index(tr, tzinfo_transition, 0).before;
}

/* The wall-clock seconds [*from, *to) around change t where the offset is
 * left to libical. */
static void window_of(const tzinfo_transition *t, gint64 *from, gint64 *to)
{
	*from = t->at + MIN(t->before, t->after) - CLEAR_OF_CHANGES;
	*to = t->at + MAX(t->before, t->after) + CLEAR_OF_CHANGES;
}

/* The offset of tzdata zone z at wall-clock time local, from the kept
 * transitions and without libical (whose offset lookups all take one
 * lock: the waits of two fix jobs), when local is well clear of every
 * change; FALSE leaves it to libical.  tests/unit/test_tz.c holds it to
 * libical's answers. */
static gboolean kept_offset_local(icaltimezone *z, struct icaltimetype local, int *offset)
{
	GArray *tr = kept_of(z);
	gint64 at;
	guint lo;

	if (!tr || !tr->len)
		return FALSE;
	/* icaltime_as_timet's reading of the fields (a day past the end of
	 * its month counts on), by arithmetic; what it refuses is left to
	 * libical */
	if (local.month < 1 || local.month > 12 || local.year < 1902 || local.year > 9999)
		return FALSE;
	at = unix_of(local.year, local.month, local.day, local.hour) + local.minute * 60 +
	     local.second;
	if (at < KEPT_FROM + CLEAR_OF_CHANGES || at >= KEPT_TO - CLEAR_OF_CHANGES)
		return FALSE;
	lo = changes_before(tr, at);
	for (guint i = lo >= 2 ? lo - 2 : 0; i < tr->len && i < lo + 2; i++) {
		gint64 from, to;

		window_of(&g_array_index(tr, tzinfo_transition, i), &from, &to);
		if (at >= from && at < to)
			return FALSE;
	}
	*offset = offset_after(tr, lo);
	return TRUE;
}

/* A stretch of wall-clock time (kept_offset_local's seconds) where two
 * zones' offsets are both read from their kept transitions, and are the
 * same throughout: clear of every change of either zone. */
typedef struct {
	gint64 from, to;	/* [from, to) */
	int a, b;		/* the offsets of the two zones there */
} pair_gap;

typedef struct {
	gint64 from, to;
} span;

static gint span_cmp(gconstpointer x, gconstpointer y)
{
	const span *a = x, *b = y;

	return a->from < b->from ? -1 : a->from > b->from;
}

/* The windows of tr's changes where kept_offset_local leaves the offset
 * to libical, added to out. */
static void add_windows(GArray *out, GArray *tr)
{
	for (guint i = 0; i < tr->len; i++) {
		span w;

		window_of(&g_array_index(tr, tzinfo_transition, i), &w.from, &w.to);
		g_array_append_val(out, w);
	}
}

/* The offset kept_offset_local reads from tr at wall-clock second at. */
static int kept_at(GArray *tr, gint64 at)
{
	return offset_after(tr, changes_before(tr, at));
}

/* The gaps of zones a and b (kept transitions ta and tb): the stretches
 * between the windows of their changes, within the kept years.  In a gap
 * neither zone's offset changes (each change's own wall-clock time is
 * inside its window), so one reading tells it for the whole gap.  Empty
 * when either zone has no change: libical answers for those. */
static GArray *make_gaps(GArray *ta, GArray *tb)
{
	GArray *out = g_array_new(FALSE, FALSE, sizeof(pair_gap));
	GArray *w;
	gint64 at = KEPT_FROM + CLEAR_OF_CHANGES, end = KEPT_TO - CLEAR_OF_CHANGES;

	if (!ta->len || !tb->len)
		return out;
	w = g_array_sized_new(FALSE, FALSE, sizeof(span), ta->len + tb->len);
	add_windows(w, ta);
	add_windows(w, tb);
	g_array_sort(w, span_cmp);
	for (guint i = 0; i <= w->len && at < end; i++) {
		span *s = i < w->len ? &g_array_index(w, span, i) : NULL;
		gint64 to = s ? MIN(s->from, end) : end;

		if (to > at) {
			pair_gap g = { at, to, kept_at(ta, at), kept_at(tb, at) };

			g_array_append_val(out, g);
		}
		if (s)
			at = MAX(at, s->to);
	}
	g_array_unref(w);
	return out;
}

/* The gaps of a zone made from a VTIMEZONE, a (held by the caller), and
 * tzdata zone b: made once and kept with a's cache entry, whose life
 * they share.  NULL for other pairs. */
static GArray *pair_gaps(icaltimezone *a, icaltimezone *b)
{
	GArray *ta, *tb, *g, *had;
	vtz_entry *e;

	g_mutex_lock(&vtz_lock);
	e = vtz_by_zone ? g_hash_table_lookup(vtz_by_zone, a) : NULL;
	g = e && e->gaps ? g_hash_table_lookup(e->gaps, b) : NULL;
	g_mutex_unlock(&vtz_lock);
	if (g || !e || !(ta = kept_of(a)) || !(tb = kept_transitions(b)))
		return g;
	g = make_gaps(ta, tb);
	g_mutex_lock(&vtz_lock);
	if (!e->gaps)
		e->gaps = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
						(GDestroyNotify)g_array_unref);
	if ((had = g_hash_table_lookup(e->gaps, b))) {
		g_array_unref(g);	/* another thread was first */
		g = had;
	} else {
		g_hash_table_insert(e->gaps, b, g);
	}
	g_mutex_unlock(&vtz_lock);
	return g;
}

/* The gap of gaps holding local, or NULL when local is in none: in a
 * window, out of the kept years, or read in a way kept_offset_local
 * leaves to libical. */
static const pair_gap *gap_of(GArray *gaps, struct icaltimetype local)
{
	gint64 at;
	guint lo = 0, hi = gaps->len;

	if (local.is_date || local.month < 1 || local.month > 12 || local.year < 1902 ||
	    local.year > FAR_YEAR)
		return NULL;
	at = unix_of(local.year, local.month, local.day, local.hour) + local.minute * 60 +
	     local.second;
	while (lo < hi) {
		guint mid = lo + (hi - lo) / 2;
		const pair_gap *g = &g_array_index(gaps, pair_gap, mid);

		if (at < g->from)
			hi = mid;
		else if (at >= g->to)
			lo = mid + 1;
		else
			return g;
	}
	return NULL;
}

guint tzinfo_first_difference(icaltimezone *a, icaltimezone *b,
			      const struct icaltimetype *at, guint n)
{
	GArray *gaps = pair_gaps(a, b);

	for (guint i = 0; i < n; i++) {
		const pair_gap *g = gaps ? gap_of(gaps, at[i]) : NULL;

		if (g ? g->a != g->b
		      : tzinfo_offset_local(a, at[i]) != tzinfo_offset_local(b, at[i]))
			return i;
	}
	return n;
}

GArray *tzinfo_transitions(icaltimezone *z, gint64 from, gint64 to)
{
	GArray *all = from >= KEPT_FROM && to <= KEPT_TO ? kept_transitions(z) : NULL;
	GArray *out;

	if (!all)
		return find_transitions(z, from, to);
	out = g_array_new(FALSE, FALSE, sizeof(tzinfo_transition));
	for (guint i = 0; i < all->len; i++) {
		tzinfo_transition *t = &g_array_index(all, tzinfo_transition, i);

		if (t->at >= from && t->at < to)
			g_array_append_val(out, *t);
	}
	return out;
}

void tzinfo_year_offsets(icaltimezone *z, int year, int *lo, int *hi)
{
	gint64 from = unix_of(year, 1, 1, 0), to = unix_of(year + 1, 1, 1, 0);
	GArray *all = from >= KEPT_FROM && to <= KEPT_TO ? kept_transitions(z) : NULL;
	int in_force;
	guint i = 0;

	if (!all) {
		*lo = *hi = tzinfo_offset_utc(z, from);
		all = find_transitions(z, from, to);
		for (; i < all->len; i++) {
			*lo = MIN(*lo, g_array_index(all, tzinfo_transition, i).after);
			*hi = MAX(*hi, g_array_index(all, tzinfo_transition, i).after);
		}
		g_array_unref(all);
		return;
	}
	/* the offset in force on January 1st: after the last change before it */
	while (i < all->len && g_array_index(all, tzinfo_transition, i).at <= from)
		i++;
	in_force = i ? g_array_index(all, tzinfo_transition, i - 1).after
		     : all->len ? g_array_index(all, tzinfo_transition, 0).before
				: tzinfo_offset_utc(z, from);
	*lo = *hi = in_force;
	for (; i < all->len && g_array_index(all, tzinfo_transition, i).at < to; i++) {
		*lo = MIN(*lo, g_array_index(all, tzinfo_transition, i).after);
		*hi = MAX(*hi, g_array_index(all, tzinfo_transition, i).after);
	}
}

/* The changes of z in [from, to), at most max of them, into out. */
static int changes_of(icaltimezone *z, gint64 from, gint64 to, change *out, int max)
{
	GArray *tr = tzinfo_transitions(z, from, to);
	int n = 0;

	for (guint i = 0; i < tr->len && n < max; i++, n++) {
		tzinfo_transition *t = &g_array_index(tr, tzinfo_transition, i);

		out[n].at = t->at;
		out[n].before = t->before;
		out[n].after = t->after;
	}
	g_array_unref(tr);
	return n;
}

static int days_in_month(int y, int m)
{
	return g_date_get_days_in_month(m, y);
}

/* Month, week and weekday of the wall-clock time of a change. */
static void place(const change *c, int *month, int *week, int *wday, int *sec)
{
	GDateTime *dt = g_date_time_new_from_unix_utc(c->at + c->before);
	int d = g_date_time_get_day_of_month(dt);
	int y = g_date_time_get_year(dt);

	*month = g_date_time_get_month(dt);
	*wday = g_date_time_get_day_of_week(dt) % 7;
	*week = d + 7 > days_in_month(y, *month) ? -1 : (d - 1) / 7 + 1;
	*sec = g_date_time_get_hour(dt) * 3600 + g_date_time_get_minute(dt) * 60 +
	       g_date_time_get_second(dt);
	g_date_time_unref(dt);
}

void tzinfo_rule_of_year(icaltimezone *z, int year, tzinfo_rule *r)
{
	change c[8];
	int n = changes_of(z, unix_of(year, 1, 1, 0), unix_of(year + 1, 1, 1, 0), c, 8);
	const change *on, *off;

	memset(r, 0, sizeof(*r));
	if (n == 0) {
		r->regular = TRUE;
		r->std = r->dst = tzinfo_offset_utc(z, unix_of(year, 7, 1, 0));
		return;
	}
	if (n != 2 || c[0].after != c[1].before || c[0].before != c[1].after) {
		r->std = MIN(c[0].before, c[0].after);
		r->dst = MAX(c[0].before, c[0].after);
		return;		/* irregular: a change of standard time, or of rule */
	}
	/* northern: on then off; southern: off then on */
	on = c[0].after > c[0].before ? &c[0] : &c[1];
	off = on == &c[0] ? &c[1] : &c[0];
	r->regular = TRUE;
	r->std = on->before;
	r->dst = on->after;
	place(on, &r->start_month, &r->start_week, &r->start_wday, &r->start_sec);
	place(off, &r->end_month, &r->end_week, &r->end_wday, &r->end_sec);
}

gboolean tzinfo_rule_equal(const tzinfo_rule *a, const tzinfo_rule *b)
{
	if (a->regular != b->regular || a->std != b->std || a->dst != b->dst)
		return FALSE;
	if (a->std == a->dst)
		return TRUE;
	return a->start_month == b->start_month && a->start_week == b->start_week &&
	       a->start_wday == b->start_wday && a->start_sec == b->start_sec &&
	       a->end_month == b->end_month && a->end_week == b->end_week &&
	       a->end_wday == b->end_wday && a->end_sec == b->end_sec;
}

/* Whether the rule r makes a change like c (the same direction, offsets
 * and place in the year). */
static gboolean rule_has(const tzinfo_rule *r, const change *c)
{
	int month, week, wday, sec;
	gboolean on = c->after > c->before;

	if (!r->regular || r->std == r->dst || r->std != MIN(c->before, c->after) ||
	    r->dst != MAX(c->before, c->after))
		return FALSE;
	place(c, &month, &week, &wday, &sec);
	return on ? month == r->start_month && week == r->start_week &&
		    wday == r->start_wday && sec == r->start_sec
		  : month == r->end_month && week == r->end_week &&
		    wday == r->end_wday && sec == r->end_sec;
}

/* The rule in force at t is that of the change before it: the rule
 * that made it, found in the years around it (the year after first: a
 * new rule that took effect with it).  No change for 400 days after t:
 * no DST then (it was abolished, as in Mexico in 2022); none before:
 * not yet introduced. */
void tzinfo_rule_at(icaltimezone *z, gint64 t, tzinfo_rule *r)
{
	const gint64 window = 400 * 86400;
	change c[8], *prev = NULL, *next = NULL;
	int n = changes_of(z, t - window, t + window, c, G_N_ELEMENTS(c)), year;
	GDateTime *dt;

	memset(r, 0, sizeof(*r));
	for (int i = 0; i < n; i++) {
		if (c[i].at <= t)
			prev = &c[i];
		else if (!next)
			next = &c[i];
	}
	if (!next || !prev) {
		r->regular = TRUE;
		r->std = r->dst = prev ? prev->after : next ? next->before
							     : tzinfo_offset_utc(z, t);
		return;
	}
	if (!(dt = g_date_time_new_from_unix_utc(prev->at + prev->before)))
		return;
	year = g_date_time_get_year(dt);
	g_date_time_unref(dt);
	for (int k = 0; k < 3; k++) {
		tzinfo_rule cand;

		tzinfo_rule_of_year(z, year + (k == 0 ? 1 : k == 1 ? -1 : 0), &cand);
		if (rule_has(&cand, prev)) {
			*r = cand;
			return;
		}
	}
	/* irregular: no yearly rule made it */
}

/* The instant of a rule's change in year, given the offset before it. */
static gint64 rule_instant(int year, int month, int week, int wday, int sec, int before)
{
	int last = days_in_month(year, month), day;
	GDate *d = g_date_new_dmy(1, month, year);
	int first_wday = g_date_get_weekday(d) % 7;	/* 0 Sunday */

	g_date_free(d);
	day = 1 + (wday - first_wday + 7) % 7;
	if (week > 0)
		day += (week - 1) * 7;
	else
		while (day + 7 <= last)
			day += 7;
	return unix_of(year, month, day, 0) + sec - before;
}

int tzinfo_rule_offset_utc(const tzinfo_rule *r, gint64 t)
{
	GDateTime *dt;
	int year;
	gint64 on, off;

	if (r->std == r->dst)
		return r->std;
	dt = g_date_time_new_from_unix_utc(t);
	year = g_date_time_get_year(dt);
	g_date_time_unref(dt);
	on = rule_instant(year, r->start_month, r->start_week, r->start_wday,
			  r->start_sec, r->std);
	off = rule_instant(year, r->end_month, r->end_week, r->end_wday,
			   r->end_sec, r->dst);
	if (on < off)
		return t >= on && t < off ? r->dst : r->std;
	return t >= off && t < on ? r->std : r->dst;
}

int tzinfo_change_year(icaltimezone *z, const tzinfo_rule *rule, int from_year,
		       int to_year)
{
	for (int y = from_year + 1; y <= to_year; y++) {
		tzinfo_rule r;

		tzinfo_rule_of_year(z, y, &r);
		if (!tzinfo_rule_equal(&r, rule))
			return y;
	}
	return 0;
}

static const char *ordinal(int week)
{
	static const char *const names[] = { "last", "1st", "2nd", "3rd", "4th" };

	return week >= 1 && week <= 4 ? names[week] : names[0];
}

char *tzinfo_describe_rule(const tzinfo_rule *r)
{
	static const char *const wdays[] = { "Sunday", "Monday", "Tuesday",
		"Wednesday", "Thursday", "Friday", "Saturday" };
	static const char *const months[] = { "", "January", "February", "March",
		"April", "May", "June", "July", "August", "September", "October",
		"November", "December" };

	if (!r->regular)
		return g_strdup("a change of rule");
	if (r->std == r->dst)
		return g_strdup("no DST");
	return g_strdup_printf("DST from the %s %s of %s to the %s %s of %s",
			       ordinal(r->start_week), wdays[r->start_wday % 7],
			       months[r->start_month % 13], ordinal(r->end_week),
			       wdays[r->end_wday % 7], months[r->end_month % 13]);
}
