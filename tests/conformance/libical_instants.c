/* libical_instants.c - the instants libical (Evolution's reader) computes
 * for each VEVENT and VTODO of each file, as JSON on stdout:
 * {file: [instants or null, ...]} or {file: {"error": why}}.
 *
 *   libical_instants FILE...
 *
 * libical alone, not calfs's code: a master's occurrences come from
 * icalcomponent_foreach_recurrence (DTSTART, RRULE, RDATE, EXDATE, in the
 * file's own VTIMEZONEs), an override's from its DTSTART; date-times as
 * Unix time, dates as YYYY-MM-DD, floating times as null.
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

static void on_occurrence(icalcomponent *comp, struct icaltime_span *span, void *data)
{
	collect *c = data;
	struct icaltimetype t = icaltime_from_timet_with_zone(span->start, c->date,
							      icaltimezone_get_utc_timezone());

	(void)comp;
	if (span->start < HORIZON)
		add_value(c, t, span->start);
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
		struct icaltimetype end = icaltime_from_timet_with_zone(HORIZON, 0,
							icaltimezone_get_utc_timezone());

		icalcomponent_foreach_recurrence(comp, icaltime_from_timet_with_zone(0, 0,
						 icaltimezone_get_utc_timezone()),
						 end, on_occurrence, &c);
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
