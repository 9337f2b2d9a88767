#include "tz.h"
#include "recur.h"
#include "tzinfo.h"
#include "zoneid.h"
#include "ictext.h"
#include "tzgen.h"

#include <stdlib.h>
#include <string.h>

/* Occurrences looked at: up to this many, and not past this year. */
#define MAX_OCCURRENCES 2000
#define LAST_YEAR 2037
/* The earliest year whose rules a VTIMEZONE is matched against. */
#define FIRST_RULE_YEAR 1995

void tz_init(void)
{
	icalerror_set_errors_are_fatal(0);
	icalerror_clear_errno();
	(void)icaltimezone_get_utc_timezone();
	(void)icaltzutil_get_zone_directory();	/* found once, not by two threads */
	(void)tzinfo_zone("Europe/London");	/* reads tzdata's version */
	(void)zoneid_lookup("cdo", "0");	/* loads the name tables */
}

const char *tz_tzdata_version(void)
{
	return tzinfo_version();
}

static void consulted(const tz_options *o)
{
	if (o->zone_consulted)
		*o->zone_consulted = TRUE;
}

void tz_fix_free(tz_fix *f)
{
	if (!f)
		return;
	if (f->comps)
		g_array_unref(f->comps);
	g_free(f->tzid);
	g_free(f->zone);
	g_free(f->vtimezone);
	g_free(f->mark);
	g_free(f->note);
	g_free(f);
}

/* Whether data[0, len) holds tzid ("TZID" or "tzid") or, when utc, a
 * "Z" that ends a line: looked for from each of tzid's Z, with memchr,
 * which is much faster than memmem (a two-way search) on items and on
 * lines. */
static gboolean has_tzid(const char *data, gsize len, const char *tzid, gboolean utc)
{
	const char *end = data + len, *p = data;

	while ((p = memchr(p, tzid[1], end - p))) {
		gsize after = end - p - 1;

		if (p > data && p[-1] == tzid[0] && after >= 2 && p[1] == tzid[2] &&
		    p[2] == tzid[3])
			return TRUE;
		if (utc && after >= 1 &&
		    (p[1] == '\n' || (after >= 2 && p[1] == '\r' && p[2] == '\n')))
			return TRUE;
		p++;
	}
	return FALSE;
}

gboolean tz_may_apply(const char *data, gsize len)
{
	/* "Z\r\n" or "Z\n": a time in UTC */
	return has_tzid(data, len, "TZID", TRUE) || has_tzid(data, len, "tzid", FALSE);
}

gboolean tz_reads(const char *line, gsize len)
{
	static const char *const names[] = {
		"DTSTART", "DTEND", "DUE", "RRULE", "RDATE", "EXDATE", "RECURRENCE-ID",
		"CREATED", "DTSTAMP", "X-MICROSOFT-CDO-TZID", "X-CALFS-REBASED",
	};
	gsize head;

	if (ictext_line_named(line, len, names, G_N_ELEMENTS(names), NULL))
		return TRUE;
	/* a TZID in its name or parameters (most lines have none anywhere:
	 * their head is not looked for) */
	if (!has_tzid(line, len, "TZID", FALSE))
		return FALSE;
	ictext_line_named(line, len, NULL, 0, &head);
	return g_strstr_len(line, head, "TZID") != NULL;
}

/* VTIMEZONEs parsed once, by their text: the VTIMEZONE of an item was
 * most of the parse of the lines rebasing reads, and an organisation's
 * items carry few different ones.  A full table is emptied. */
#define PARSED_VTIMEZONES_MAX 256

/* A kept VTIMEZONE, copied outside the lock: each copier holds a
 * reference. */
typedef struct {
	gint refs;
	icalcomponent *vtz;
	/* its zone (tzinfo_vtimezone, held), or NULL: a rebase compares
	 * the VTIMEZONE with tzdata, and working out which zone of
	 * tzinfo's it is took 2.5% of a fix */
	icaltimezone *zone;
} parsed_vtz;

static void parsed_unref(parsed_vtz *p)
{
	if (p && g_atomic_int_dec_and_test(&p->refs)) {
		tzinfo_release(p->zone);
		icalcomponent_free(p->vtz);
		g_free(p);
	}
}

static GMutex parsed_lock;	/* guards parsed (not the components) */
static GHashTable *parsed;	/* text -> parsed_vtz* */

/* The parsed VTIMEZONE of the span of data (a reference), or NULL when
 * it was not parsed yet. */
static parsed_vtz *parsed_get(const char *data, const ictext_span *sp)
{
	char *key = g_strndup(data + sp->at, sp->len);
	parsed_vtz *p;

	g_mutex_lock(&parsed_lock);
	if ((p = parsed ? g_hash_table_lookup(parsed, key) : NULL))
		g_atomic_int_inc(&p->refs);
	g_mutex_unlock(&parsed_lock);
	g_free(key);
	return p;
}

/* Keep a copy of the VTIMEZONE of cal, a parse of the lines of data
 * with it, under the text of its span sp: when it has only that one.
 * (libical does not keep several in the order of the text.)  Returns a
 * reference to what is kept, or NULL. */
static parsed_vtz *keep_parsed(const char *data, const ictext_span *sp, icalcomponent *cal)
{
	icalcomponent *v = icalcomponent_get_first_component(cal, ICAL_VTIMEZONE_COMPONENT);
	parsed_vtz *p;

	if (!v || icalcomponent_get_next_component(cal, ICAL_VTIMEZONE_COMPONENT))
		return NULL;
	p = g_new(parsed_vtz, 1);
	p->refs = 2;
	p->vtz = icalcomponent_new_clone(v);
	p->zone = tzinfo_vtimezone(p->vtz);
	g_mutex_lock(&parsed_lock);
	if (!parsed)
		parsed = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					       (GDestroyNotify)parsed_unref);
	if (g_hash_table_size(parsed) >= PARSED_VTIMEZONES_MAX)
		g_hash_table_remove_all(parsed);
	g_hash_table_replace(parsed, g_strndup(data + sp->at, sp->len), p);
	g_mutex_unlock(&parsed_lock);
	return p;
}

static void keep_vtimezone(tz_known *keep, parsed_vtz *p);

icalcomponent *tz_parse(const char *data, gsize len)
{
	return tz_parse_known(data, len, NULL);
}

icalcomponent *tz_parse_known(const char *data, gsize len, tz_known *keep)
{
	GArray *spans = g_array_new(FALSE, FALSE, sizeof(ictext_span));
	GString *lines = ictext_select_vtimezones(data, len, tz_reads, spans);
	ictext_span *sp = spans->len == 1 ? &g_array_index(spans, ictext_span, 0) : NULL;
	parsed_vtz *p = sp ? parsed_get(data, sp) : NULL;
	icalcomponent *copy = p ? icalcomponent_new_clone(p->vtz) : NULL, *cal;

	/* with a copy of its VTIMEZONE, the rest is parsed; else all of it,
	 * once, and the VTIMEZONE is kept */
	if (copy)
		g_string_erase(lines, sp->out_at, sp->len);
	cal = icalparser_parse_string(lines->str);
	if (copy && cal && icalcomponent_isa(cal) == ICAL_VCALENDAR_COMPONENT) {
		icalcomponent_add_component(cal, g_steal_pointer(&copy));
	} else if (copy) {
		/* not a VCALENDAR without it: parsed with it, as it was */
		if (cal)
			icalcomponent_free(cal);
		icalcomponent_free(copy);
		g_clear_pointer(&p, parsed_unref);
		g_string_free(lines, TRUE);
		g_array_set_size(spans, 0);
		lines = ictext_select_vtimezones(data, len, tz_reads, spans);
		cal = icalparser_parse_string(lines->str);
	} else if (cal && sp && icalcomponent_isa(cal) == ICAL_VCALENDAR_COMPONENT) {
		p = keep_parsed(data, sp, cal);
	}
	if (p && keep)
		keep_vtimezone(keep, p);	/* takes p */
	else
		parsed_unref(p);
	g_string_free(lines, TRUE);
	g_array_unref(spans);
	return cal;
}

static gboolean is_item(icalcomponent *c)
{
	icalcomponent_kind k = icalcomponent_isa(c);

	return k == ICAL_VEVENT_COMPONENT || k == ICAL_VTODO_COMPONENT ||
	       k == ICAL_VJOURNAL_COMPONENT;
}

static const char *tzid_of(icalproperty *p)
{
	icalparameter *t = icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER);

	return t ? icalparameter_get_tzid(t) : NULL;
}

static gboolean recurring(icalcomponent *c)
{
	return icalcomponent_get_first_property(c, ICAL_RRULE_PROPERTY) ||
	       icalcomponent_get_first_property(c, ICAL_RDATE_PROPERTY);
}

static gboolean any_recurring(icalcomponent *cal)
{
	for (icalcomponent *c = icalcomponent_get_first_component(cal, ICAL_ANY_COMPONENT);
	     c; c = icalcomponent_get_next_component(cal, ICAL_ANY_COMPONENT))
		if (is_item(c) && (recurring(c) ||
				   icalcomponent_get_first_property(c, ICAL_RECURRENCEID_PROPERTY)))
			return TRUE;
	return FALSE;
}

/* The local (floating) value of a date-time property. */
static struct icaltimetype local_value(icalproperty *p)
{
	struct icaltimetype t = icalvalue_get_datetime(icalproperty_get_value(p));

	t.zone = NULL;
	return t;
}

/* ---- the times an item has under one TZID ---- */

typedef struct {
	GArray *starts;		/* icaltimetype: occurrence starts */
	GArray *all;		/* starts, ends, recurrence ids, exdates */
	GArray *overridden;	/* recurrence ids of the overrides */
} times;

static void add_time(GArray *a, struct icaltimetype t)
{
	if (!icaltime_is_null_time(t) && !t.is_date)
		g_array_append_val(a, t);
}

/* An EXDATE of an item, read once for all its occurrences. */
typedef struct {
	struct icaltimetype at;	/* its local value, or its date */
	gboolean date;
} exdate;

static GArray *exdates_of(icalcomponent *c)
{
	GArray *out = g_array_new(FALSE, FALSE, sizeof(exdate));

	for (icalproperty *p = icalcomponent_get_first_property(c, ICAL_EXDATE_PROPERTY);
	     p; p = icalcomponent_get_next_property(c, ICAL_EXDATE_PROPERTY)) {
		struct icaltimetype x = icalproperty_get_exdate(p);
		exdate e = { x.is_date ? x : local_value(p), x.is_date };

		g_array_append_val(out, e);
	}
	return out;
}

static gboolean excluded(const GArray *exdates, struct icaltimetype t, GArray *overridden)
{
	for (guint i = 0; i < overridden->len; i++)
		if (icaltime_compare(g_array_index(overridden, struct icaltimetype, i), t) == 0)
			return TRUE;
	for (guint i = 0; i < exdates->len; i++) {
		const exdate *e = &g_array_index(exdates, exdate, i);

		if (e->date ? icaltime_compare_date_only(e->at, t) == 0
			    : icaltime_compare(e->at, t) == 0)
			return TRUE;
	}
	return FALSE;
}

/* Room in a for more elements, so that appending them does not grow it
 * each time. */
static void reserve(GArray *a, guint more)
{
	guint len = a->len;

	g_array_set_size(a, len + more);
	g_array_set_size(a, len);
}

/* Collect the times of item component c that use tzid. */
static void collect_times(icalcomponent *c, const char *tzid, times *tm)
{
	icalproperty *ds = icalcomponent_get_first_property(c, ICAL_DTSTART_PROPERTY);
	icalproperty *de = icalcomponent_get_first_property(c, ICAL_DTEND_PROPERTY);
	icalproperty *rr = icalcomponent_get_first_property(c, ICAL_RRULE_PROPERTY);
	struct icaltimetype start;
	struct icaldurationtype dur = icaldurationtype_null_duration();
	gboolean start_here = ds && tzid_of(ds) && !strcmp(tzid_of(ds), tzid);

	for (icalproperty *p = icalcomponent_get_first_property(c, ICAL_ANY_PROPERTY);
	     p; p = icalcomponent_get_next_property(c, ICAL_ANY_PROPERTY)) {
		icalvalue *v = icalproperty_get_value(p);

		if (tzid_of(p) && !strcmp(tzid_of(p), tzid) && v &&
		    icalvalue_isa(v) == ICAL_DATETIME_VALUE)
			add_time(tm->all, local_value(p));
	}
	if (!start_here)
		return;
	start = local_value(ds);
	if (start.is_date)
		return;
	if (de && tzid_of(de) && !strcmp(tzid_of(de), tzid))
		dur = icaltime_subtract(local_value(de), start);
	if (!rr) {
		add_time(tm->starts, start);
		return;
	}
	{
		struct icalrecurrencetype rule = icalproperty_get_rrule(rr);
		GArray *occ = g_array_new(FALSE, FALSE, sizeof(struct icaltimetype));
		GArray *exdates = exdates_of(c);
		gboolean ends = !icaldurationtype_is_null_duration(dur);

		recur_occurrences(&rule, start, MAX_OCCURRENCES, LAST_YEAR, occ);
		reserve(tm->starts, occ->len);
		reserve(tm->all, ends ? 2 * occ->len : occ->len);
		for (guint i = 0; i < occ->len; i++) {
			struct icaltimetype t = g_array_index(occ, struct icaltimetype, i);

			if (excluded(exdates, t, tm->overridden))
				continue;
			add_time(tm->starts, t);
			add_time(tm->all, t);
			if (ends)
				add_time(tm->all, icaltime_add(t, dur));
		}
		g_array_unref(exdates);
		g_array_unref(occ);
	}
}

/* ---- TZID-based items: the VTIMEZONE against tzdata ---- */

static icalcomponent *find_vtimezone(icalcomponent *cal, const char *tzid)
{
	for (icalcomponent *v = icalcomponent_get_first_component(cal, ICAL_VTIMEZONE_COMPONENT);
	     v; v = icalcomponent_get_next_component(cal, ICAL_VTIMEZONE_COMPONENT)) {
		icalproperty *p = icalcomponent_get_first_property(v, ICAL_TZID_PROPERTY);

		if (p && icalproperty_get_tzid(p) && !strcmp(icalproperty_get_tzid(p), tzid))
			return v;
	}
	return NULL;
}

static int cdo_id(icalcomponent *cal, icalcomponent *vtz)
{
	icalcomponent *where[2] = { vtz, NULL };

	/* in the VTIMEZONE (Exchange 2003), or on the events */
	for (icalcomponent *c = icalcomponent_get_first_component(cal, ICAL_ANY_COMPONENT);
	     c && !where[1]; c = icalcomponent_get_next_component(cal, ICAL_ANY_COMPONENT))
		if (is_item(c))
			where[1] = c;
	for (int i = 0; i < 2; i++) {
		if (!where[i])
			continue;
		for (icalproperty *p = icalcomponent_get_first_property(where[i], ICAL_X_PROPERTY);
		     p; p = icalcomponent_get_next_property(where[i], ICAL_X_PROPERTY))
			if (!g_ascii_strcasecmp(icalproperty_get_x_name(p), "X-MICROSOFT-CDO-TZID"))
				return atoi(icalproperty_get_value_as_string(p));
	}
	return -1;
}

/* The year the item was written in: CREATED, else DTSTAMP, else now. */
static int written_year(icalcomponent *cal)
{
	for (icalcomponent *c = icalcomponent_get_first_component(cal, ICAL_ANY_COMPONENT);
	     c; c = icalcomponent_get_next_component(cal, ICAL_ANY_COMPONENT)) {
		icalproperty *p;

		if (!is_item(c))
			continue;
		if ((p = icalcomponent_get_first_property(c, ICAL_CREATED_PROPERTY)) ||
		    (p = icalcomponent_get_first_property(c, ICAL_DTSTAMP_PROPERTY))) {
			struct icaltimetype t = icalvalue_get_datetime(icalproperty_get_value(p));

			if (t.year >= FIRST_RULE_YEAR && t.year <= LAST_YEAR)
				return t.year;
		}
	}
	{
		GDateTime *now = g_date_time_new_now_utc();
		int y = g_date_time_get_year(now);

		g_date_time_unref(now);
		return y;
	}
}

/* How a VTIMEZONE compares with tzdata at an item's occurrences. */
typedef struct {
	guint moved;			/* occurrence starts whose instant changes */
	int delta;			/* tzdata's offset minus the VTIMEZONE's, first one */
	struct icaltimetype first;	/* the first occurrence that moves */
} comparison;

/* Whether v, a VTIMEZONE's zone (NULL: an unusable one), gives zone's
 * offsets at every time of at; *cmp (may be NULL) gets how the
 * occurrence starts compare. */
static gboolean zone_agrees(icaltimezone *v, icaltimezone *zone, GArray *at,
			    GArray *starts, comparison *cmp)
{
	gboolean same = TRUE;

	if (cmp)
		memset(cmp, 0, sizeof(*cmp));
	if (!v)
		return FALSE;
	same = tzinfo_first_difference(v, zone, (struct icaltimetype *)at->data, at->len) ==
	       at->len;
	if (cmp) {
		const struct icaltimetype *s = (struct icaltimetype *)starts->data;
		guint n = starts->len;

		/* every start is one of the times: when they all agree, no
		 * start moves */
		for (guint i = same ? n : tzinfo_first_difference(v, zone, s, n); i < n;
		     i += 1 + tzinfo_first_difference(v, zone, s + i + 1, n - i - 1)) {
			if (!cmp->moved++) {
				cmp->delta = tzinfo_offset_local(zone, s[i]) -
					     tzinfo_offset_local(v, s[i]);
				cmp->first = s[i];
			}
		}
	}
	return same;
}

/* zone_agrees for VTIMEZONE vtz. */
static gboolean vtz_agrees(icalcomponent *vtz, icaltimezone *zone, GArray *at,
			   GArray *starts, comparison *cmp)
{
	icaltimezone *v = tzinfo_vtimezone(vtz);
	gboolean same = zone_agrees(v, zone, at, starts, cmp);

	tzinfo_release(v);
	return same;
}

/* A VTIMEZONE for zone called tzid, from tzdata, right at every one of
 * the times (tzgen.h: one that every reader reads alike), or NULL when
 * none can be made that agrees with tzdata at all of them. */
static char *generate(icaltimezone *zone, const char *tzid, GArray *at, int cdo)
{
	gint64 from = G_MAXINT64, to = G_MININT64;
	icalcomponent *vtz;
	char *text;

	for (guint i = 0; i < at->len; i++) {
		gint64 t = tzinfo_utc_of_local(zone, g_array_index(at, struct icaltimetype, i));

		from = MIN(from, t);
		to = MAX(to, t);
	}
	if (!(text = tzgen_vtimezone(zone, tzid, from, to, &vtz)))
		return NULL;
	/* checked as the item's own VTIMEZONE is, with libical, on the
	 * component the text was written from: not parsed again */
	if (!vtz || !vtz_agrees(vtz, zone, at, NULL, NULL)) {
		if (vtz)
			icalcomponent_free(vtz);
		g_free(text);
		return NULL;
	}
	icalcomponent_free(vtz);
	/* the CDO id as a line of text: an X property added to the
	 * component leaked when libical could not write the component */
	if (cdo >= 0) {
		char *end = g_strrstr(text, "END:VTIMEZONE");
		char *with = end ? g_strdup_printf("%.*sX-MICROSOFT-CDO-TZID:%d\r\n%s",
						   (int)(end - text), text, cdo, end) : NULL;

		if (with) {
			g_free(text);
			text = with;
		}
	}
	return text;
}

/* The tzdata rule the item runs into at year: "2007 rule" when tzdata
 * changed its rule then (the most recent change since FIRST_RULE_YEAR),
 * else the rule in words.  Newly allocated. */
static char *rule_label(icaltimezone *zone, int year)
{
	tzinfo_rule r, prev;

	/* tzdata's rules past LAST_YEAR are those of LAST_YEAR (make fuzz: a
	 * time in 6177 took seconds of years to look back over) */
	int from = MIN(year, LAST_YEAR);

	tzinfo_rule_of_year(zone, from, &r);
	for (int y = from; y > FIRST_RULE_YEAR; y--) {
		tzinfo_rule_of_year(zone, y - 1, &prev);
		if (!tzinfo_rule_equal(&prev, &r))
			return g_strdup_printf("%d rule", y);
	}
	{
		char *d = tzinfo_describe_rule(&r), *s;

		s = g_strdup_printf("tzdata's rule in %d: %s", year, d);
		g_free(d);
		return s;
	}
}

static char *hours(int seconds)
{
	int m = abs(seconds) / 60;

	return m % 60 ? g_strdup_printf("%dh%02d", m / 60, m % 60)
		      : g_strdup_printf("%dh", m / 60);
}

static tz_fix *new_fix(tz_fix_kind kind, const char *tzid, const char *zone)
{
	tz_fix *f = g_new0(tz_fix, 1);

	f->kind = kind;
	f->tzid = g_strdup(tzid);
	f->zone = g_strdup(zone);
	return f;
}

static void times_init(times *tm)
{
	tm->starts = g_array_new(FALSE, FALSE, sizeof(struct icaltimetype));
	tm->all = g_array_new(FALSE, FALSE, sizeof(struct icaltimetype));
	tm->overridden = g_array_new(FALSE, FALSE, sizeof(struct icaltimetype));
}

static void times_clear(times *tm)
{
	g_array_unref(tm->starts);
	g_array_unref(tm->all);
	g_array_unref(tm->overridden);
}

struct tz_known {
	GHashTable *by_tzid;	/* tzid -> times* */
	/* tzid -> zoneid_result*: the identifications that hold under any
	 * mailbox zone (the scan's, asked without one, for the rebase) */
	GHashTable *ids;
	/* tzid -> parsed_vtz*: the parse's VTIMEZONE, taken from those
	 * parsed before, with its zone (tz_parse_known) */
	GHashTable *vtzs;
};

/* dst holds src's times too (a reference to each array). */
static void times_share(times *dst, const times *src)
{
	dst->starts = g_array_ref(src->starts);
	dst->all = g_array_ref(src->all);
	dst->overridden = g_array_ref(src->overridden);
}

static void times_free(times *tm)
{
	times_clear(tm);
	g_free(tm);
}

tz_known *tz_known_new(void)
{
	tz_known *k = g_new(tz_known, 1);

	k->by_tzid = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					   (GDestroyNotify)times_free);
	k->ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
				       (GDestroyNotify)zoneid_result_free);
	k->vtzs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					(GDestroyNotify)parsed_unref);
	return k;
}

/* Keep p, the VTIMEZONE of keep's parse (taken), under its TZID. */
static void keep_vtimezone(tz_known *keep, parsed_vtz *p)
{
	icalproperty *t = icalcomponent_get_first_property(p->vtz, ICAL_TZID_PROPERTY);
	const char *tzid = t ? icalproperty_get_tzid(t) : NULL;

	if (tzid && p->zone)
		g_hash_table_replace(keep->vtzs, g_strdup(tzid), p);
	else
		parsed_unref(p);
}

/* The zone of the VTIMEZONE of tzid that known kept, or NULL. */
static icaltimezone *known_vtimezone(const tz_known *known, const char *tzid)
{
	parsed_vtz *p = known ? g_hash_table_lookup(known->vtzs, tzid) : NULL;

	return p ? p->zone : NULL;
}

void tz_known_free(tz_known *k)
{
	if (!k)
		return;
	g_hash_table_destroy(k->by_tzid);
	g_hash_table_destroy(k->ids);
	g_hash_table_destroy(k->vtzs);
	g_free(k);
}

/* What zoneid_identify gives for q (asked for tzid of the cal known was
 * kept from), without asking it again when known holds it. */
static zoneid_result *identify(const tz_known *known, const char *tzid, const zoneid_query *q)
{
	const zoneid_result *had = known ? g_hash_table_lookup(known->ids, tzid) : NULL;

	return had ? zoneid_result_copy(had) : zoneid_identify(q);
}

/* The times of tzid in cal (those known already when known has them),
 * and the question to zoneid about it. */
static void gather(icalcomponent *cal, const char *tzid, const char *mailbox_zone,
		   const tz_known *known, times *tm, zoneid_query *q)
{
	icalcomponent *vtz = find_vtimezone(cal, tzid);
	const times *had = known ? g_hash_table_lookup(known->by_tzid, tzid) : NULL;

	memset(q, 0, sizeof(*q));
	q->tzid = tzid;
	q->vtimezone = vtz;
	q->mailbox_zone = mailbox_zone;
	q->year_from = FIRST_RULE_YEAR;
	if (had) {
		times_share(tm, had);
	} else {
		times_init(tm);
		/* the occurrences that overrides replace are theirs, not the
		 * master's */
		for (icalcomponent *c = icalcomponent_get_first_component(cal, ICAL_ANY_COMPONENT);
		     c; c = icalcomponent_get_next_component(cal, ICAL_ANY_COMPONENT)) {
			icalproperty *rid = is_item(c) ? icalcomponent_get_first_property(
				c, ICAL_RECURRENCEID_PROPERTY) : NULL;

			if (rid && tzid_of(rid) && !strcmp(tzid_of(rid), tzid))
				add_time(tm->overridden, local_value(rid));
		}
		for (icalcomponent *c = icalcomponent_get_first_component(cal, ICAL_ANY_COMPONENT);
		     c; c = icalcomponent_get_next_component(cal, ICAL_ANY_COMPONENT))
			if (is_item(c))
				collect_times(c, tzid, tm);
	}
	q->cdo = cdo_id(cal, vtz);
	q->year_to = written_year(cal);
	q->times = (const struct icaltimetype *)(void *)tm->all->data;
	q->n_times = tm->all->len;
}

/* Keep tm, gathered for tzid, in keep (may be NULL). */
static void keep_times(tz_known *keep, const char *tzid, const times *tm)
{
	times *k;

	if (!keep)
		return;
	k = g_new(times, 1);
	times_share(k, tm);
	g_hash_table_replace(keep->by_tzid, g_strdup(tzid), k);
}

/* Whether an observance of vtz repeats until a date: python-icalendar 4
 * (khal, Debian 12) refuses such a VTIMEZONE, and vobject and ical.js
 * read its UTC UNTIL as local time. */
static gboolean has_until(icalcomponent *vtz)
{
	for (icalcomponent *o = icalcomponent_get_first_component(vtz, ICAL_ANY_COMPONENT); o;
	     o = icalcomponent_get_next_component(vtz, ICAL_ANY_COMPONENT))
		for (icalproperty *p = icalcomponent_get_first_property(o, ICAL_RRULE_PROPERTY); p;
		     p = icalcomponent_get_next_property(o, ICAL_RRULE_PROPERTY))
			if (!icaltime_is_null_time(icalproperty_get_rrule(p).until))
				return TRUE;
	return FALSE;
}

/* The ordinals of the item components of cal that use tzid (GArray of
 * int). */
static GArray *users_of(icalcomponent *cal, const char *tzid)
{
	GArray *out = g_array_new(FALSE, FALSE, sizeof(int));
	int comp = 0;

	for (icalcomponent *c = icalcomponent_get_first_component(cal, ICAL_ANY_COMPONENT);
	     c; c = icalcomponent_get_next_component(cal, ICAL_ANY_COMPONENT)) {
		if (!is_item(c))
			continue;
		for (icalproperty *p = icalcomponent_get_first_property(c, ICAL_ANY_PROPERTY);
		     p; p = icalcomponent_get_next_property(c, ICAL_ANY_PROPERTY))
			if (tzid_of(p) && !strcmp(tzid_of(p), tzid)) {
				g_array_append_val(out, comp);
				break;
			}
		comp++;
	}
	return out;
}

static void rebase_tzid(icalcomponent *cal, const char *tzid, const tz_options *o,
			GPtrArray *fixes)
{
	icalcomponent *vtz;
	times tm;
	zoneid_query q;
	zoneid_result *id;
	icaltimezone *zone, *kept;
	comparison cmp = { 0 };
	gboolean unreadable;
	tz_fix *f;

	gather(cal, tzid, o->mailbox_zone, o->known, &tm, &q);
	vtz = (icalcomponent *)q.vtimezone;
	if (!tm.all->len)
		goto out;
	id = identify(o->known, tzid, &q);
	if (id->method == ZONEID_MAILBOX || id->method == ZONEID_CONFLICT)
		consulted(o);
	/* evidence that contradicted the VTIMEZONE moved nothing: say so */
	for (guint i = 0; i < id->rejected->len; i++) {
		f = new_fix(TZ_FIX_CONFLICT, tzid, NULL);
		f->note = g_strdup_printf("TZID \"%s\": %s: not used", tzid,
					  (char *)id->rejected->pdata[i]);
		g_ptr_array_add(fixes, f);
	}
	if (!id->zone) {
		f = new_fix(TZ_FIX_CONFLICT, tzid, NULL);
		f->note = id->method == ZONEID_CONFLICT
			? g_strdup_printf("TZID \"%s\": its rules fit zones that differ later (%s)"
					  " and the mailbox's zone is none of them: left unchanged",
					  tzid, id->candidates)
			: g_strdup_printf("TZID \"%s\": no tzdata zone found: left unchanged", tzid);
		g_ptr_array_add(fixes, f);
		zoneid_result_free(id);
		goto out;
	}
	zone = tzinfo_zone(id->zone);
	unreadable = vtz && has_until(vtz);
	kept = known_vtimezone(o->known, tzid);
	if (vtz && (kept ? zone_agrees(kept, zone, tm.all, tm.starts, &cmp)
			 : vtz_agrees(vtz, zone, tm.all, tm.starts, &cmp)) && !unreadable) {
		zoneid_result_free(id);
		goto out;
	}
	f = new_fix(TZ_FIX_VTIMEZONE, tzid, id->zone);
	f->vtimezone = generate(zone, tzid, tm.all, q.cdo);
	/* what libical cannot write out cannot replace anything */
	f->applied = !o->report_only && f->vtimezone != NULL;
	f->comps = users_of(cal, tzid);
	f->mark = g_strdup_printf("%s;tzdata-%s", id->zone, tz_tzdata_version());
	if (!f->vtimezone) {
		f->kind = TZ_FIX_CONFLICT;
		f->note = g_strdup_printf("TZID \"%s\": no VTIMEZONE from tzdata %s agrees with"
					  " tzdata at every time of the item: left unchanged",
					  tzid, id->zone);
	} else if (!vtz) {
		f->note = g_strdup_printf("VTIMEZONE \"%s\" added from tzdata %s (%s)", tzid,
					  id->zone, zoneid_method_name(id->method));
	} else if (!cmp.moved) {
		f->note = g_strdup_printf("VTIMEZONE \"%s\" \u2192 tzdata %s (%s; no occurrence moved%s)",
					  tzid, id->zone, zoneid_method_name(id->method),
					  unreadable ? "; its RRULE's UNTIL, which python-icalendar 4"
						       " (khal) refuses, is gone" : "");
	} else {
		char *h = hours(cmp.delta), *label = rule_label(zone, cmp.first.year);

		f->note = g_strdup_printf("VTIMEZONE \"%s\" \u2192 tzdata %s (%s; %u of %u"
					  " occurrences moved %s %s)", tzid, id->zone, label,
					  cmp.moved, tm.starts->len,
					  cmp.delta > 0 ? "back" : "forward", h);
		g_free(label);
		g_free(h);
	}
	if (o->report_only) {
		char *n = g_strdup_printf("would change: %s", f->note);

		g_free(f->note);
		f->note = n;
	}
	g_ptr_array_add(fixes, f);
	zoneid_result_free(id);
out:
	times_clear(&tm);
}

/* ---- single events stored in UTC ---- */

/* Whether c carries the mark of a UTC move (not that of a replaced
 * VTIMEZONE, "zone;tzdata-VERSION"). */
static gboolean moved_already(icalcomponent *c)
{
	for (icalproperty *p = icalcomponent_get_first_property(c, ICAL_X_PROPERTY); p;
	     p = icalcomponent_get_next_property(c, ICAL_X_PROPERTY))
		if (!g_ascii_strcasecmp(icalproperty_get_x_name(p), "X-CALFS-REBASED") &&
		    !strstr(icalproperty_get_value_as_string(p), ";tzdata-"))
			return TRUE;
	return FALSE;
}

static gboolean created_at(icalcomponent *c, gint64 *when)
{
	icalproperty *p = icalcomponent_get_first_property(c, ICAL_CREATED_PROPERTY);

	if (!p)
		p = icalcomponent_get_first_property(c, ICAL_DTSTAMP_PROPERTY);
	if (!p)
		return FALSE;
	*when = icaltime_as_timet_with_zone(icalvalue_get_datetime(icalproperty_get_value(p)),
					    icaltimezone_get_utc_timezone());
	return *when > 0;
}

static char *stamp(gint64 t, const char *fmt)
{
	GDateTime *dt = g_date_time_new_from_unix_utc(t);
	char *s = g_date_time_format(dt, fmt);

	g_date_time_unref(dt);
	return s;
}

static void rebase_utc(icalcomponent *c, int comp, const tz_options *o, GPtrArray *fixes)
{
	icalproperty *ds = icalcomponent_get_first_property(c, ICAL_DTSTART_PROPERTY);
	struct icaltimetype start;
	icaltimezone *zone;
	tzinfo_rule old;
	gint64 created, e, e2, last;
	struct icaltimetype local;
	int change;
	tz_fix *f;
	char *from, *to, *made, *rule, *h;

	if (!ds || tzid_of(ds) || recurring(c) || moved_already(c))
		return;
	start = icalproperty_get_dtstart(ds);
	if (start.is_date || !icaltime_is_utc(start))
		return;
	consulted(o);		/* a single UTC event: the mailbox's zone decides */
	if (!o->mailbox_zone ||
	    !(zone = tzinfo_zone(o->mailbox_zone)) || !created_at(c, &created))
		return;
	if (o->created_before && created >= o->created_before)
		return;
	/* the rule changes it undoes are those of tzdata's years */
	last = icaltime_as_timet(icaltime_from_day_of_year(1, LAST_YEAR + 1));
	if (start.year < 1900 || start.year > LAST_YEAR || created < 0 || created > last)
		return;
	tzinfo_rule_at(zone, created, &old);
	if (!old.regular)
		return;
	e = icaltime_as_timet_with_zone(start, icaltimezone_get_utc_timezone());
	if (created > e)
		return;		/* written after the fact: its time is right */
	if (e >= last)
		return;		/* fields out of range (make fuzz: a day past its year's) */
	local = icaltime_from_timet_with_zone((time_t)(e + tzinfo_rule_offset_utc(&old, e)),
					      0, NULL);
	e2 = tzinfo_utc_of_local(zone, local);
	if (e2 == e)
		return;
	{
		GDateTime *dt = g_date_time_new_from_unix_utc(created);

		change = tzinfo_change_year(zone, &old, g_date_time_get_year(dt), local.year);
		g_date_time_unref(dt);
	}
	f = new_fix(TZ_FIX_SHIFT, NULL, o->mailbox_zone);
	f->comp = comp;
	f->shift = e2 - e;
	f->applied = !o->report_only;
	f->mark = g_strdup_printf("%s;%d", o->mailbox_zone, change ? change : local.year);
	from = stamp(e, "%Y%m%dT%H%M%SZ");
	to = stamp(e2, "%Y%m%dT%H%M%SZ");
	made = stamp(created, "%Y-%m-%d");
	rule = tzinfo_describe_rule(&old);
	h = hours((int)(e - e2));
	f->note = g_strdup_printf("%sDTSTART %s \u2192 %s (created %s under the old rule of %s,"
				  " %s; moved %s %s)", o->report_only ? "would change: " : "",
				  from, to, made, o->mailbox_zone, rule,
				  e2 < e ? "back" : "forward", h);
	g_ptr_array_add(fixes, f);
	g_free(from);
	g_free(to);
	g_free(made);
	g_free(rule);
	g_free(h);
}

/* The TZIDs the items of cal use, in order of first use. */
static GPtrArray *tzids_used(icalcomponent *cal)
{
	GPtrArray *order = g_ptr_array_new();

	for (icalcomponent *c = icalcomponent_get_first_component(cal, ICAL_ANY_COMPONENT);
	     c; c = icalcomponent_get_next_component(cal, ICAL_ANY_COMPONENT)) {
		if (!is_item(c))
			continue;
		for (icalproperty *p = icalcomponent_get_first_property(c, ICAL_ANY_PROPERTY);
		     p; p = icalcomponent_get_next_property(c, ICAL_ANY_PROPERTY)) {
			const char *t = tzid_of(p);

			if (t && !g_ptr_array_find_with_equal_func(order, t, g_str_equal, NULL))
				g_ptr_array_add(order, (gpointer)t);
		}
	}
	return order;
}

void tz_usage_free(tz_usage *u)
{
	if (!u)
		return;
	g_free(u->tzid);
	g_free(u->zone);
	g_free(u->candidates);
	if (u->rejected)
		g_ptr_array_unref(u->rejected);
	g_free(u);
}

GPtrArray *tz_identify(icalcomponent *cal, const char *mailbox_zone, tz_known *keep)
{
	GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)tz_usage_free);
	GPtrArray *order = tzids_used(cal);
	gboolean recurs = any_recurring(cal);

	for (guint i = 0; i < order->len; i++) {
		times tm;
		zoneid_query q;
		zoneid_result *id;
		tz_usage *u;

		gather(cal, order->pdata[i], mailbox_zone, NULL, &tm, &q);
		keep_times(keep, order->pdata[i], &tm);
		id = zoneid_identify(&q);
		if (keep && zoneid_result_is_mailbox_free(id))
			g_hash_table_replace(keep->ids, g_strdup(order->pdata[i]),
					     zoneid_result_copy(id));
		u = g_new0(tz_usage, 1);
		u->tzid = g_strdup(order->pdata[i]);
		u->recurring = recurs;
		u->zone = g_strdup(id->zone);
		u->method = id->method;
		u->candidates = g_strdup(id->candidates);
		u->rejected = g_ptr_array_ref(id->rejected);
		g_ptr_array_add(out, u);
		zoneid_result_free(id);
		times_clear(&tm);
	}
	g_ptr_array_unref(order);
	return out;
}

GPtrArray *tz_rebase(icalcomponent *cal, const tz_options *o)
{
	GPtrArray *fixes = g_ptr_array_new_with_free_func((GDestroyNotify)tz_fix_free);
	GPtrArray *order;
	int comp = 0;

	if (o->recurring_only && !any_recurring(cal))
		return fixes;
	for (icalcomponent *c = icalcomponent_get_first_component(cal, ICAL_ANY_COMPONENT);
	     c; c = icalcomponent_get_next_component(cal, ICAL_ANY_COMPONENT)) {
		if (!is_item(c))
			continue;
		if (icalcomponent_isa(c) == ICAL_VEVENT_COMPONENT && !o->recurring_only)
			rebase_utc(c, comp, o, fixes);
		comp++;
	}
	order = tzids_used(cal);
	for (guint i = 0; i < order->len; i++)
		rebase_tzid(cal, order->pdata[i], o, fixes);
	g_ptr_array_unref(order);
	return fixes;
}

/* ---- making the changes on the text ---- */

/* value with every UTC date-time (comma-separated) moved by shift. */
static char *shift_values(const char *value, gint64 shift)
{
	char **vals = g_strsplit(value, ",", -1);
	GString *out = g_string_new(NULL);

	for (int i = 0; vals[i]; i++) {
		struct icaltimetype t = icaltime_from_string(vals[i]);

		if (i)
			g_string_append_c(out, ',');
		if (!icaltime_is_null_time(t) && !t.is_date && strchr(vals[i], 'Z')) {
			gint64 u = icaltime_as_timet_with_zone(t, icaltimezone_get_utc_timezone());
			char *s = stamp(u + shift, "%Y%m%dT%H%M%SZ");

			g_string_append(out, s);
			g_free(s);
		} else {
			g_string_append(out, vals[i]);
		}
	}
	g_strfreev(vals);
	return g_string_free(out, FALSE);
}

static void shift_lines(ictext *t, const tz_fix *f)
{
	static const char *const names[] = { "DTSTART", "DTEND", "RECURRENCE-ID",
					     "EXDATE", NULL };

	for (int k = 0; names[k]; k++) {
		ictext_line *l;

		for (int n = 0; (l = ictext_find_at(t, f->comp, 2, names[k], NULL, n)); n++) {
			char *tz = ictext_line_param(l, "TZID");
			char *v = tz ? NULL : shift_values(ictext_line_value(l), f->shift);

			if (v && strcmp(v, ictext_line_value(l)))
				ictext_set_value(l, v);
			g_free(v);
			g_free(tz);
		}
	}
	{
		ictext_line *l;

		/* absolute alarm triggers */
		for (int n = 0; (l = ictext_find_at(t, f->comp, 3, "TRIGGER", NULL, n)); n++) {
			char *vt = ictext_line_param(l, "VALUE");

			if (vt && !g_ascii_strcasecmp(vt, "DATE-TIME")) {
				char *v = shift_values(ictext_line_value(l), f->shift);

				ictext_set_value(l, v);
				g_free(v);
			}
			g_free(vt);
		}
	}
	{
		char *mark = g_strdup_printf("X-CALFS-REBASED:%s", f->mark);

		ictext_add(t, f->comp, mark);
		g_free(mark);
	}
}

/* Mark the components that use a replaced VTIMEZONE: sync tools that
 * hash an item without its VTIMEZONEs (vdirsyncer) then see it changed.
 * An older mark for the same zone goes. */
static void mark_users(ictext *t, const tz_fix *f)
{
	char *prefix = g_strdup_printf("%s;tzdata-", f->zone);
	char *line = g_strdup_printf("X-CALFS-REBASED:%s", f->mark);

	for (guint i = 0; f->comps && i < f->comps->len; i++) {
		int comp = g_array_index(f->comps, int, i);
		ictext_line *l;

		for (int n = 0; (l = ictext_find(t, comp, "X-CALFS-REBASED", NULL, n));)
			if (g_str_has_prefix(ictext_line_value(l), prefix))
				ictext_remove(l);
			else
				n++;
		ictext_add(t, comp, line);
	}
	g_free(line);
	g_free(prefix);
}

GBytes *tz_apply_text(GBytes *text, GPtrArray *fixes)
{
	ictext *t;
	GBytes *out;
	gboolean any = FALSE;

	for (guint i = 0; fixes && i < fixes->len; i++)
		any |= ((tz_fix *)fixes->pdata[i])->applied;
	if (!any)
		return g_bytes_ref(text);
	t = ictext_parse(text);
	for (guint i = 0; i < fixes->len; i++) {
		tz_fix *f = fixes->pdata[i];

		if (!f->applied)
			continue;
		if (f->kind == TZ_FIX_VTIMEZONE && f->vtimezone) {
			ictext_replace_vtimezone(t, f->tzid, f->vtimezone);
			mark_users(t, f);
		}
		else if (f->kind == TZ_FIX_SHIFT)
			shift_lines(t, f);
	}
	out = ictext_serialize(t);
	ictext_free(t);
	return out;
}
