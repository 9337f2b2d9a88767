/* libical_instants.c - the instants libical (Evolution's reader) computes
 * for each VEVENT and VTODO of each file, as JSON on stdout:
 * {file: [instants or null, ...]} or {file: {"error": why}}.
 *
 *   libical_instants FILE...
 *
 * libical alone, not calfs's code, used as Evolution uses it: a
 * master's occurrences come from libical's recurrence iterator over
 * DTSTART and RRULE, plus its RDATEs, less its EXDATEs, each in the zone
 * its own TZID names among the file's VTIMEZONEs
 * (icalcomponent_foreach_recurrence would take an RDATE's time as UTC
 * whatever its TZID); an override's from its DTSTART; date-times as Unix
 * time, dates as YYYY-MM-DD, floating times as null.
 */
#include <libical/ical.h>
#include <glib.h>

#include <stdio.h>
#include <string.h>

/* 2037-11-01T00:00:00Z: later occurrences are not compared */
#define HORIZON 2140646400

typedef struct {
	GString *out;
	gboolean date;
	gboolean first;
	GHashTable *seen;
} collect;

static void add_value(collect *c, struct icaltimetype t, time_t when)
{
	char buf[32];

	if (c->date)
		g_snprintf(buf, sizeof(buf), "\"%04d-%02d-%02d\"", t.year, t.month, t.day);
	else
		g_snprintf(buf, sizeof(buf), "%lld", (long long)when);
	if (g_hash_table_contains(c->seen, buf))
		return;
	g_hash_table_add(c->seen, g_strdup(buf));
	g_string_append_printf(c->out, "%s%s", c->first ? "" : ",", buf);
	c->first = FALSE;
}

/* The instant of t, in zone when it has no zone of its own. */
static time_t instant(struct icaltimetype t, icaltimezone *zone)
{
	if (icaltime_is_utc(t))
		return icaltime_as_timet(t);
	return icaltime_as_timet_with_zone(t, t.zone ? (icaltimezone *)t.zone : zone);
}

/* The zone of property p of comp: its TZID's VTIMEZONE, else fallback. */
static icaltimezone *zone_of(icalcomponent *comp, icalproperty *p, icaltimezone *fallback)
{
	icalparameter *tz = icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER);
	icalcomponent *cal = icalcomponent_get_parent(comp);

	if (tz && cal)
		return icalcomponent_get_timezone(cal, icalparameter_get_tzid(tz));
	return fallback;
}

/* Every time of a date-time list property (RDATE, EXDATE) as instants;
 * dates as "YYYY-MM-DD" keys. */
static GHashTable *times_of(icalcomponent *comp, icalproperty_kind kind, icaltimezone *zone)
{
	GHashTable *out = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

	for (icalproperty *p = icalcomponent_get_first_property(comp, kind); p;
	     p = icalcomponent_get_next_property(comp, kind)) {
		struct icaltimetype t = kind == ICAL_RDATE_PROPERTY ? icalproperty_get_rdate(p).time
								      : icalproperty_get_exdate(p);
		icaltimezone *z = zone_of(comp, p, zone);

		if (icaltime_is_null_time(t))
			continue;	/* a PERIOD */
		g_hash_table_add(out, t.is_date ? g_strdup_printf("\"%04d-%02d-%02d\"", t.year,
								   t.month, t.day)
						: g_strdup_printf("%lld", (long long)instant(t, z)));
	}
	return out;
}

static void expand(collect *c, icalcomponent *comp, struct icaltimetype start)
{
	icalproperty *rr = icalcomponent_get_first_property(comp, ICAL_RRULE_PROPERTY);
	icaltimezone *zone = (icaltimezone *)start.zone;
	GHashTable *ex = times_of(comp, ICAL_EXDATE_PROPERTY, zone);
	GHashTable *rdates = times_of(comp, ICAL_RDATE_PROPERTY, zone);
	GHashTableIter it;
	gpointer key;

	/* the excluded go in as already seen */
	g_hash_table_iter_init(&it, ex);
	while (g_hash_table_iter_next(&it, &key, NULL))
		g_hash_table_add(c->seen, g_strdup(key));
	if (!rr) {
		add_value(c, start, instant(start, zone));
	} else {
		icalrecur_iterator *ri = icalrecur_iterator_new(icalproperty_get_rrule(rr), start);

		for (struct icaltimetype t = ri ? icalrecur_iterator_next(ri) : icaltime_null_time();
		     !icaltime_is_null_time(t); t = icalrecur_iterator_next(ri)) {
			time_t when = t.is_date ? 0 : instant(t, zone);

			if (t.is_date ? t.year * 10000 + t.month * 100 + t.day >= 20371101
				      : when >= HORIZON)
				break;
			add_value(c, t, when);
		}
		if (ri)
			icalrecur_iterator_free(ri);
	}
	g_hash_table_iter_init(&it, rdates);
	while (g_hash_table_iter_next(&it, &key, NULL))
		if (!g_hash_table_contains(c->seen, key)) {
			g_hash_table_add(c->seen, g_strdup(key));
			g_string_append_printf(c->out, "%s%s", c->first ? "" : ",", (char *)key);
			c->first = FALSE;
		}
	g_hash_table_destroy(ex);
	g_hash_table_destroy(rdates);
}

static void item(GString *out, icalcomponent *comp)
{
	icalproperty *ds = icalcomponent_get_first_property(comp, ICAL_DTSTART_PROPERTY);
	struct icaltimetype start;
	collect c = { out, FALSE, TRUE, NULL };

	if (!ds) {
		g_string_append(out, "null");
		return;
	}
	start = icalcomponent_get_dtstart(comp);
	c.date = start.is_date;
	if (!start.is_date && !start.zone && !icaltime_is_utc(start)) {
		g_string_append(out, "null");	/* floating */
		return;
	}
	c.seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_string_append_c(out, '[');
	if (icalcomponent_isa(comp) == ICAL_VTODO_COMPONENT ||
	    icalcomponent_get_first_property(comp, ICAL_RECURRENCEID_PROPERTY)) {
		add_value(&c, start, icaltime_as_timet_with_zone(start, start.zone));
	} else {
		expand(&c, comp, start);
	}
	g_string_append_c(out, ']');
	g_hash_table_destroy(c.seen);
}

static void json_string(GString *out, const char *s)
{
	g_string_append_c(out, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			g_string_append_printf(out, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			g_string_append_printf(out, "\\u%04x", *s);
		else
			g_string_append_c(out, *s);
	}
	g_string_append_c(out, '"');
}

static void file(GString *out, const char *path)
{
	char *text = NULL;
	icalcomponent *cal;
	gboolean first = TRUE;

	json_string(out, path);
	g_string_append_c(out, ':');
	if (!g_file_get_contents(path, &text, NULL, NULL) ||
	    !(cal = icalparser_parse_string(text)) ||
	    icalcomponent_isa(cal) != ICAL_VCALENDAR_COMPONENT) {
		g_string_append(out, "{\"error\":\"libical cannot parse it\"}");
		g_free(text);
		return;
	}
	g_string_append_c(out, '[');
	for (icalcomponent *c = icalcomponent_get_first_component(cal, ICAL_ANY_COMPONENT); c;
	     c = icalcomponent_get_next_component(cal, ICAL_ANY_COMPONENT)) {
		icalcomponent_kind k = icalcomponent_isa(c);

		if (k != ICAL_VEVENT_COMPONENT && k != ICAL_VTODO_COMPONENT)
			continue;
		if (!first)
			g_string_append_c(out, ',');
		first = FALSE;
		item(out, c);
	}
	g_string_append_c(out, ']');
	icalcomponent_free(cal);
	g_free(text);
}

int main(int argc, char **argv)
{
	GString *out = g_string_new("{");

	icalerror_set_errors_are_fatal(0);
	for (int i = 1; i < argc; i++) {
		if (i > 1)
			g_string_append_c(out, ',');
		file(out, argv[i]);
	}
	g_string_append(out, "}\n");
	fputs(out->str, stdout);
	g_string_free(out, TRUE);
	return 0;
}
