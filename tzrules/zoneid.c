#include "zoneid.h"
#include "tzinfo.h"

#include <stdio.h>
#include <string.h>


extern const char *const zoneid_table[];	/* generated: kind, name, zone ... */

static GHashTable *by_name;	/* normalized name -> zone ("-": ambiguous) */
static GHashTable *by_cdo;	/* "13" -> zone */
static GPtrArray *canonical;	/* zone names of zone1970.tab */
static GHashTable *known;	/* zones the tables name: preferred among equals */

static void add(GHashTable *t, char *key, const char *zone)
{
	const char *old = g_hash_table_lookup(t, key);

	if (old && strcmp(old, zone))
		zone = "-";
	g_hash_table_replace(t, key, (gpointer)zone);
}

static gpointer load(gpointer unused)
{
	FILE *f;
	char line[512];

	(void)unused;
	by_name = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	by_cdo = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	known = g_hash_table_new(g_str_hash, g_str_equal);
	for (int i = 0; zoneid_table[i]; i += 3) {
		const char *kind = zoneid_table[i], *name = zoneid_table[i + 1];
		const char *zone = zoneid_table[i + 2];

		if (!strcmp(kind, "cdo"))
			add(by_cdo, g_strdup(name), zone);
		else
			add(by_name, zoneid_normalize(name), zone);
		if (strcmp(zone, "-"))
			g_hash_table_add(known, (gpointer)zone);
	}
	canonical = g_ptr_array_new_with_free_func(g_free);
	{
		char *tab = g_build_filename(tzinfo_dir(), "zone1970.tab", NULL);

		f = fopen(tab, "r");
		g_free(tab);
	}
	while (f && fgets(line, sizeof(line), f)) {
		char **cols;

		if (line[0] == '#')
			continue;
		cols = g_strsplit(g_strchomp(line), "\t", -1);
		if (g_strv_length(cols) >= 3)
			g_ptr_array_add(canonical, g_strdup(cols[2]));
		g_strfreev(cols);
	}
	if (f)
		fclose(f);
	return NULL;
}

static void tables(void)
{
	static GOnce once = G_ONCE_INIT;

	g_once(&once, load, NULL);
}

char *zoneid_normalize(const char *name)
{
	GString *s = g_string_new(NULL);
	const char *p = name;
	char *out;

	while (g_ascii_isspace(*p) || *p == '"')
		p++;
	/* "(GMT-05.00) ", "(UTC-05:00) ", "(GMT) " */
	if (*p == '(' && (!g_ascii_strncasecmp(p + 1, "GMT", 3) ||
			  !g_ascii_strncasecmp(p + 1, "UTC", 3))) {
		const char *close = strchr(p, ')');

		if (close)
			p = close + 1;
	}
	for (; *p; p++) {
		char c = *p;

		if (c == '\\' && p[1]) {	/* TEXT escapes: \, \; \\ */
			c = *++p;
		}
		if (c == '"')
			continue;
		if (c == ';' || c == ',' || c == '/') {
			while (s->len && s->str[s->len - 1] == ' ')
				g_string_truncate(s, s->len - 1);
			g_string_append(s, ", ");
			while (g_ascii_isspace(p[1]))
				p++;
			continue;
		}
		if (g_ascii_isspace(c)) {
			if (s->len && s->str[s->len - 1] != ' ')
				g_string_append_c(s, ' ');
			continue;
		}
		g_string_append_c(s, g_ascii_tolower(c));
	}
	out = g_strstrip(g_string_free(s, FALSE));
	return out;
}

const char *zoneid_lookup(const char *kind, const char *name)
{
	const char *zone;

	tables();
	if (!strcmp(kind, "cdo")) {
		zone = g_hash_table_lookup(by_cdo, name);
	} else {
		char *key = zoneid_normalize(name);

		zone = g_hash_table_lookup(by_name, key);
		g_free(key);
	}
	return zone && strcmp(zone, "-") ? zone : NULL;
}

static gboolean zone_file(const char *name)
{
	char *path;
	gboolean ok;

	if (!*name || strstr(name, "..") || name[0] == '/' || !g_ascii_isalpha(name[0]))
		return FALSE;
	/* a file first: only real zones are read, and kept (tzinfo_zone) */
	path = g_build_filename(tzinfo_dir(), name, NULL);
	ok = g_file_test(path, G_FILE_TEST_IS_REGULAR);
	g_free(path);
	return ok && tzinfo_zone(name) != NULL;
}

char *zoneid_iana(const char *text)
{
	char *t = g_strstrip(g_strdelimit(g_strdup(text), "\"", ' '));
	char *found = NULL;

	/* the whole text, or the longest tail shaped Area/Location after a
	 * separator: "/mozilla.org/20050126_1/America/New_York",
	 * "custom_America/New_York" */
	if (zone_file(t))
		found = g_strdup(t);
	for (char *p = t; *p && !found; p++)
		if (p > t && strchr("/_:", p[-1]) && strchr(p, '/') && zone_file(p))
			found = g_strdup(p);
	g_free(t);
	return found;
}

void zoneid_result_free(zoneid_result *r)
{
	if (!r)
		return;
	g_free(r->zone);
	g_free(r->candidates);
	if (r->rejected)
		g_ptr_array_unref(r->rejected);
	g_free(r);
}

zoneid_result *zoneid_result_copy(const zoneid_result *r)
{
	zoneid_result *c = g_new0(zoneid_result, 1);

	c->zone = g_strdup(r->zone);
	c->method = r->method;
	c->candidates = g_strdup(r->candidates);
	c->rejected = g_ptr_array_ref(r->rejected);
	return c;
}

gboolean zoneid_result_is_mailbox_free(const zoneid_result *r)
{
	/* zoneid_identify reads q->mailbox_zone only where the candidates
	 * (by name, or by rules) disagree at the item's times */
	return r->method != ZONEID_MAILBOX && r->method != ZONEID_CONFLICT;
}

const char *zoneid_method_name(zoneid_method m)
{
	switch (m) {
	case ZONEID_IANA:
		return "IANA name";
	case ZONEID_CDO:
		return "X-MICROSOFT-CDO-TZID";
	case ZONEID_WINDOWS:
		return "Windows name";
	case ZONEID_RULES:
		return "VTIMEZONE rules";
	case ZONEID_MAILBOX:
		return "VTIMEZONE rules and the mailbox's zone";
	case ZONEID_CONFLICT:
		return "conflict";
	case ZONEID_NONE:
		break;
	}
	return "unknown";
}

static zoneid_result *result(const char *zone, zoneid_method m)
{
	zoneid_result *r = g_new0(zoneid_result, 1);

	r->zone = g_strdup(zone);
	r->method = zone ? m : ZONEID_NONE;
	r->rejected = g_ptr_array_new_with_free_func(g_free);
	return r;
}

/* ---- matching a VTIMEZONE's rules ---- */

/* Rules of tzdata zones per year, computed once. */
static GMutex rules_lock;
static GHashTable *rules_cache;	/* "tzdata|zone|year" -> tzinfo_rule* */

static void zone_rule(const char *zone, icaltimezone *z, int year, tzinfo_rule *r)
{
	char *key = g_strdup_printf("%s|%s|%d", tzinfo_version(), zone, year);
	tzinfo_rule *cached;

	g_mutex_lock(&rules_lock);
	if (!rules_cache)
		rules_cache = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	cached = g_hash_table_lookup(rules_cache, key);
	if (cached)
		*r = *cached;
	g_mutex_unlock(&rules_lock);
	if (cached) {
		g_free(key);
		return;
	}
	tzinfo_rule_of_year(z, year, r);
	g_mutex_lock(&rules_lock);
	g_hash_table_replace(rules_cache, key, g_memdup2(r, sizeof(*r)));
	g_mutex_unlock(&rules_lock);
}

static gint64 mid_january(int year)
{
	GDateTime *dt = g_date_time_new_utc(year, 1, 15, 12, 0, 0);
	gint64 t = g_date_time_to_unix(dt);

	g_date_time_unref(dt);
	return t;
}

/* Years of [from, 2030] in which zone follows the VTIMEZONE's rule. */
static int years_fitting(const char *name, icaltimezone *v, int from)
{
	icaltimezone *z = tzinfo_zone(name);
	int n = 0;

	for (int y = from; y <= 2030; y++) {
		tzinfo_rule vr, zr;

		tzinfo_rule_of_year(v, y, &vr);
		zone_rule(name, z, y, &zr);
		n += tzinfo_rule_equal(&vr, &zr);
	}
	return n;
}

/* Zones whose rule in some year of [from, to] is the VTIMEZONE's rule,
 * the one that fits it in the most years first. */
static GPtrArray *fitting_zones(icalcomponent *vtimezone, int from, int to)
{
	icaltimezone *v = tzinfo_vtimezone(vtimezone);
	GPtrArray *fits = g_ptr_array_new();
	int best_years = -1;

	if (!v)
		return fits;
	for (int y = from; y <= to; y++) {
		tzinfo_rule vr;
		int jan;

		tzinfo_rule_of_year(v, y, &vr);
		if (!vr.regular)
			continue;
		jan = tzinfo_offset_utc(v, mid_january(y));
		for (guint i = 0; i < canonical->len; i++) {
			const char *name = canonical->pdata[i];
			icaltimezone *z;
			tzinfo_rule zr;

			if (g_ptr_array_find_with_equal_func(fits, name, g_str_equal, NULL) ||
			    !(z = tzinfo_zone(name)) || tzinfo_offset_utc(z, mid_january(y)) != jan)
				continue;
			zone_rule(name, z, y, &zr);
			if (tzinfo_rule_equal(&zr, &vr))
				g_ptr_array_add(fits, canonical->pdata[i]);
		}
	}
	/* put the best first: most years fitting, then a zone the tables name */
	for (guint i = 0; i < fits->len; i++) {
		int n = years_fitting(fits->pdata[i], v, from);

		if (n > best_years || (n == best_years &&
				       g_hash_table_contains(known, fits->pdata[i]) &&
				       !g_hash_table_contains(known, fits->pdata[0]))) {
			gpointer tmp = fits->pdata[0];

			fits->pdata[0] = fits->pdata[i];
			fits->pdata[i] = tmp;
			best_years = n;
		}
	}
	tzinfo_release(v);
	return fits;
}

/* Whether zones a and b agree at every one of the item's times. */
static gboolean agree(const char *a, const char *b, const zoneid_query *q)
{
	icaltimezone *za = tzinfo_zone(a), *zb = tzinfo_zone(b);

	for (guint i = 0; i < q->n_times; i++)
		if (tzinfo_offset_local(za, q->times[i]) != tzinfo_offset_local(zb, q->times[i]))
			return FALSE;
	return TRUE;
}

static zoneid_result *by_rules(const zoneid_query *q)
{
	GPtrArray *fits;
	zoneid_result *r;
	const char *best = NULL;
	gboolean all_agree = TRUE;

	if (!q->vtimezone)
		return result(NULL, ZONEID_NONE);
	fits = fitting_zones(q->vtimezone, q->year_from, q->year_to);
	if (fits->len)
		best = fits->pdata[0];
	for (guint i = 1; i < fits->len; i++)
		if (!agree(best, fits->pdata[i], q))
			all_agree = FALSE;
	if (!fits->len) {
		r = result(NULL, ZONEID_NONE);
	} else if (all_agree) {
		r = result(best, ZONEID_RULES);
	} else if (q->mailbox_zone &&
		   g_ptr_array_find_with_equal_func(fits, q->mailbox_zone, g_str_equal, NULL)) {
		r = result(q->mailbox_zone, ZONEID_MAILBOX);
	} else {
		GString *s = g_string_new(NULL);

		for (guint i = 0; i < fits->len && i < 12; i++)
			g_string_append_printf(s, "%s%s", i ? " " : "", (char *)fits->pdata[i]);
		r = result(NULL, ZONEID_NONE);
		r->method = ZONEID_CONFLICT;
		r->candidates = g_string_free(s, FALSE);
	}
	g_ptr_array_unref(fits);
	return r;
}

/* ---- evidence against the VTIMEZONE's offsets ---- */

/* "-07:00", "-05:00/-04:00".  Newly allocated. */
static char *offsets_text(int a, int b)
{
	char *one = g_strdup_printf("%c%02d:%02d", a < 0 ? '-' : '+', abs(a) / 3600,
				    abs(a) % 3600 / 60);
	char *both;

	if (a == b)
		return one;
	both = g_strdup_printf("%s/%c%02d:%02d", one, b < 0 ? '-' : '+', abs(b) / 3600,
			       abs(b) % 3600 / 60);
	g_free(one);
	return both;
}

/* The first year a VTIMEZONE speaks of: that of its earliest onset. */
static int first_onset_year(icalcomponent *vtz)
{
	int year = G_MAXINT;

	for (icalcomponent *o = icalcomponent_get_first_component(vtz, ICAL_ANY_COMPONENT); o;
	     o = icalcomponent_get_next_component(vtz, ICAL_ANY_COMPONENT)) {
		struct icaltimetype s = icalcomponent_get_dtstart(o);

		if (!icaltime_is_null_time(s))
			year = MIN(year, s.year);
	}
	return year;
}

/* The offsets a VTIMEZONE speaks of: those of the year the item was
 * written, or of its first full year when it starts later (one made from
 * tzdata covers the item's times only).  FALSE when there is no usable
 * VTIMEZONE. */
typedef struct {
	int lo, hi;		/* its standard and daylight offsets */
	int from, to;		/* the years a zone may have had them in */
} vtz_offsets;

/* The offsets the observances of vtz in force in year go to, read from
 * the component (libical would work the zone out from 1601 and take
 * 140,000 instructions an offset): those that started by then and still
 * repeat, those that started in that year or the one before, and the
 * last one-off onset before them.  FALSE when there are none. */
static gboolean observed_offsets(icalcomponent *vtz, int year, int *lo, int *hi)
{
	struct icaltimetype latest = icaltime_null_time();
	int latest_to = 0, n = 0;

	for (icalcomponent *o = icalcomponent_get_first_component(vtz, ICAL_ANY_COMPONENT); o;
	     o = icalcomponent_get_next_component(vtz, ICAL_ANY_COMPONENT)) {
		icalproperty *to = icalcomponent_get_first_property(o, ICAL_TZOFFSETTO_PROPERTY);
		icalproperty *rr = icalcomponent_get_first_property(o, ICAL_RRULE_PROPERTY);
		struct icaltimetype s = icalcomponent_get_dtstart(o), until;
		int off;

		if (!to || icaltime_is_null_time(s) || s.year > year)
			continue;
		off = icalproperty_get_tzoffsetto(to);
		until = rr ? icalproperty_get_rrule(rr).until : icaltime_null_time();
		if (!rr && (icaltime_is_null_time(latest) || icaltime_compare(s, latest) > 0)) {
			latest = s;
			latest_to = off;
		}
		if (rr ? !icaltime_is_null_time(until) && until.year < year : s.year < year - 1)
			continue;
		*lo = n ? MIN(*lo, off) : off;
		*hi = n++ ? MAX(*hi, off) : off;
	}
	if (!icaltime_is_null_time(latest)) {
		*lo = n ? MIN(*lo, latest_to) : latest_to;
		*hi = n++ ? MAX(*hi, latest_to) : latest_to;
	}
	return n > 0;
}

static gboolean vtimezone_offsets(const zoneid_query *q, vtz_offsets *o)
{
	int year = q->year_to, last = q->year_to, first;

	if (!q->vtimezone)
		return FALSE;
	/* no observance with a start: none is in force in any year (make
	 * fuzz: the year after none overflowed) */
	if ((first = first_onset_year((icalcomponent *)q->vtimezone)) == G_MAXINT)
		return FALSE;
	year = MAX(year, first + 1);
	if (!observed_offsets((icalcomponent *)q->vtimezone, year, &o->lo, &o->hi))
		return FALSE;
	for (guint i = 0; i < q->n_times; i++)
		last = MAX(last, q->times[i].year);
	/* from three years before it was written to three after its last time */
	o->from = MAX(1970, MIN(year, q->year_to) - 3);
	o->to = MIN(2037, last + 3);
	return TRUE;
}

/* Whether tzdata zone had the VTIMEZONE's offsets (o, or NULL when there
 * is no VTIMEZONE to check against) in one of o's years; if not, why not
 * in *why (newly allocated, "contradicts the VTIMEZONE's -07:00"). */
static gboolean fits_vtimezone(const char *zone, const vtz_offsets *o, char **why)
{
	icaltimezone *z = tzinfo_zone(zone);
	gboolean fits = FALSE;

	*why = NULL;
	if (!z || !o)
		return z != NULL;
	for (int y = o->from; y <= o->to && !fits; y++) {
		int lo, hi;

		tzinfo_year_offsets(z, y, &lo, &hi);
		fits = lo == o->lo && hi == o->hi;
	}
	if (!fits) {
		char *text = offsets_text(o->lo, o->hi);

		*why = g_strdup_printf("contradicts the VTIMEZONE's %s", text);
		g_free(text);
	}
	return fits;
}

typedef struct {
	zoneid_method method;
	char *zone;
	char *what;		/* "CDO id 15", "TZID name", ... */
} candidate;

static void add_candidate(GArray *a, zoneid_method m, const char *zone, char *what)
{
	candidate c = { m, g_strdup(zone), what };

	g_array_append_val(a, c);
}

static void candidate_clear(gpointer p)
{
	candidate *c = p;

	g_free(c->zone);
	g_free(c->what);
}

/* What the TZID text, the CDO id and the Windows or display name say. */
static GArray *explicit_candidates(const zoneid_query *q)
{
	GArray *a = g_array_new(FALSE, FALSE, sizeof(candidate));
	const char *zone;
	char *iana;

	g_array_set_clear_func(a, candidate_clear);
	if (q->tzid && (iana = zoneid_iana(q->tzid))) {
		add_candidate(a, ZONEID_IANA, iana, g_strdup_printf("TZID \"%s\"", q->tzid));
		g_free(iana);
	}
	if (q->cdo >= 0) {
		char num[16];

		g_snprintf(num, sizeof(num), "%d", q->cdo);
		if ((zone = zoneid_lookup("cdo", num)))
			add_candidate(a, ZONEID_CDO, zone, g_strdup_printf("CDO id %d", q->cdo));
	}
	if (q->tzid && (zone = zoneid_lookup("name", q->tzid)))
		add_candidate(a, ZONEID_WINDOWS, zone,
			      g_strdup_printf("the name \"%s\"", q->tzid));
	return a;
}

zoneid_result *zoneid_identify(const zoneid_query *q)
{
	GArray *cands;
	GPtrArray *rejected = g_ptr_array_new_with_free_func(g_free);
	GPtrArray *passed = g_ptr_array_new();	/* candidate* */
	zoneid_result *r = NULL;
	vtz_offsets own;
	gboolean has_own = FALSE;

	tables();
	cands = explicit_candidates(q);
	if (cands->len)
		has_own = vtimezone_offsets(q, &own);
	for (guint i = 0; i < cands->len; i++) {
		candidate *c = &g_array_index(cands, candidate, i);
		char *why;

		if (fits_vtimezone(c->zone, has_own ? &own : NULL, &why)) {
			g_ptr_array_add(passed, c);
		} else {
			g_ptr_array_add(rejected, g_strdup_printf("%s (%s) %s", c->what, c->zone,
								  why ? why : "is not in tzdata"));
			g_free(why);
		}
	}
	if (passed->len) {
		candidate *best = passed->pdata[0];
		GString *differ = g_string_new(best->zone);
		gboolean mailbox = FALSE;

		for (guint i = 1; i < passed->len; i++) {
			candidate *c = passed->pdata[i];

			mailbox |= q->mailbox_zone && !strcmp(c->zone, q->mailbox_zone);
			if (strcmp(c->zone, best->zone) && !agree(best->zone, c->zone, q))
				g_string_append_printf(differ, " %s", c->zone);
		}
		mailbox |= q->mailbox_zone && !strcmp(best->zone, q->mailbox_zone);
		if (!strchr(differ->str, ' ')) {
			r = result(best->zone, best->method);
		} else if (mailbox) {
			r = result(q->mailbox_zone, ZONEID_MAILBOX);
		} else {
			r = result(NULL, ZONEID_NONE);
			r->method = ZONEID_CONFLICT;
			r->candidates = g_strdup(differ->str);
		}
		g_string_free(differ, TRUE);
	} else {
		r = by_rules(q);
	}
	g_ptr_array_unref(r->rejected);
	r->rejected = rejected;
	g_ptr_array_unref(passed);
	g_array_unref(cands);
	return r;
}
