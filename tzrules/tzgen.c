#include "tzgen.h"
#include "tzinfo.h"
#include "ictext.h"

#include <stdlib.h>
#include <string.h>

#define DAY 86400
#define YEAR (366 * DAY)
/* tzdata names no change after 2100 that its yearly rules do not make
 * (zic writes them out to 2037, Morocco's to 2087): a span that ends
 * later (Outlook's 4501 "no end", a typo's year 4014) is made as if it
 * ended then.  libical finds a zone's changes a year at a time, each
 * time from the zone's first year: 2,000 years took 18 s (make fuzz). */
#define HORIZON G_GINT64_CONSTANT(4102444800)	/* 2100-01-01 */

static int year_of(gint64 t)
{
	GDateTime *dt = g_date_time_new_from_unix_utc(t);
	int y = dt ? g_date_time_get_year(dt) : 1970;

	if (dt)
		g_date_time_unref(dt);
	return y;
}

/* The wall-clock time just before a transition, as a floating time. */
static struct icaltimetype local_before(const tzinfo_transition *t)
{
	return icaltime_from_timet_with_zone((time_t)(t->at + t->before), 0, NULL);
}

static void add_offsets(icalcomponent *o, int from, int to)
{
	icalcomponent_add_property(o, icalproperty_new_tzoffsetfrom(from));
	icalcomponent_add_property(o, icalproperty_new_tzoffsetto(to));
}

/* An observance for transition t; its DTSTART is t's wall-clock time. */
static icalcomponent *observance(const tzinfo_transition *t)
{
	icalcomponent *o = icalcomponent_new(t->dst ? ICAL_XDAYLIGHT_COMPONENT
						    : ICAL_XSTANDARD_COMPONENT);

	icalcomponent_add_property(o, icalproperty_new_dtstart(local_before(t)));
	add_offsets(o, t->before, t->after);
	return o;
}

/* An observance for each of transitions tr[first..last): the simplest
 * form, which every reader takes (ical.js leaves out the DTSTART of an
 * observance that has RDATEs; python-icalendar ignores RDATEs beside an
 * RRULE). */
static void add_each(icalcomponent *vtz, GArray *tr, guint first, guint last)
{
	for (guint i = first; i < last; i++)
		icalcomponent_add_component(vtz, observance(&g_array_index(tr, tzinfo_transition, i)));
}

static const char *const day_names[] = { "SU", "MO", "TU", "WE", "TH", "FR", "SA" };

/* An observance for transition t (the first of the rule's), repeating
 * yearly on the rule's day: "FREQ=YEARLY;BYMONTH=3;BYDAY=2SU". */
static icalcomponent *yearly(const tzinfo_transition *t, int month, int week, int wday)
{
	icalcomponent *o = observance(t);
	char *rule = g_strdup_printf("FREQ=YEARLY;BYMONTH=%d;BYDAY=%d%s", month, week,
				     day_names[wday % 7]);

	icalcomponent_add_property(o, icalproperty_new_rrule(icalrecurrencetype_from_string(rule)));
	g_free(rule);
	return o;
}

/* The first year y <= end such that every year from y to end has the
 * rule r, not before year lowest. */
static int rule_since(icaltimezone *z, const tzinfo_rule *r, int end, int lowest)
{
	int y = end;

	while (y > lowest) {
		tzinfo_rule prev;

		tzinfo_rule_of_year(z, y - 1, &prev);
		if (!tzinfo_rule_equal(&prev, r))
			break;
		y--;
	}
	return y;
}

char *tzgen_vtimezone(icaltimezone *z, const char *tzid, gint64 from, gint64 to,
		      icalcomponent **built)
{
	GArray *tr;
	icalcomponent *vtz = icalcomponent_new_vtimezone();
	guint first = 0, last, era;
	tzinfo_rule rule;
	char *text;
	GString *tzid_line;
	GString *out;

	to = MIN(to, HORIZON);
	from = MIN(from, to);
	tr = tzinfo_transitions(z, from - 2 * YEAR, to + YEAR);
	if (!tr->len || g_array_index(tr, tzinfo_transition, 0).at > from) {
		/* no change in the years before the span: an onset of the
		 * offset in force at its start, so that no reader takes the
		 * first change's offset for times before it */
		struct icaltimetype u = icaltime_from_timet_with_zone((time_t)from, 0, NULL);
		int dst = 0, off = icaltimezone_get_utc_offset_of_utc_time(z, &u, &dst);
		tzinfo_transition start = { from - 2 * YEAR, off, off, dst != 0 };

		g_array_prepend_val(tr, start);
	}
	last = era = tr->len;
	/* the transition in force at the span's start, and those after it */
	while (first + 1 < tr->len &&
	       g_array_index(tr, tzinfo_transition, first + 1).at <= from)
		first++;
	/* those up to the span's end (a year past it without a yearly rule) */
	while (last > first && g_array_index(tr, tzinfo_transition, last - 1).at > to)
		last--;
	tzinfo_rule_of_year(z, year_of(to), &rule);
	if (rule.regular && rule.std != rule.dst) {
		/* the rule at the end: yearly observances from its first year
		 * in the span, and what came before one by one */
		int since = rule_since(z, &rule, year_of(to),
				       year_of(g_array_index(tr, tzinfo_transition, first).at));
		tzinfo_transition *on = NULL, *off = NULL;

		for (era = first; era < tr->len; era++)
			if (year_of(g_array_index(tr, tzinfo_transition, era).at +
				    g_array_index(tr, tzinfo_transition, era).before) >= since)
				break;
		for (guint i = era; i < tr->len && (!on || !off); i++) {
			tzinfo_transition *t = &g_array_index(tr, tzinfo_transition, i);

			if (t->after > t->before && !on)
				on = t;
			else if (t->after < t->before && !off)
				off = t;
		}
		if (on && off) {
			add_each(vtz, tr, first, era);
			icalcomponent_add_component(vtz, yearly(on, rule.start_month, rule.start_week,
								rule.start_wday));
			icalcomponent_add_component(vtz, yearly(off, rule.end_month, rule.end_week,
								rule.end_wday));
		} else {
			add_each(vtz, tr, first, tr->len);
		}
	} else if (rule.regular) {
		/* no DST at the end: the transitions, the last one's offset on */
		add_each(vtz, tr, first, MAX(last, first + 1));
	} else {
		/* no yearly rule: every transition up to a year past the span */
		add_each(vtz, tr, first, tr->len);
	}
	text = ictext_write_component(vtz);
	g_array_unref(tr);
	if (built)
		*built = NULL;
	if (!text || !g_str_has_prefix(text, "BEGIN:VTIMEZONE\r\n")) {
		icalcomponent_free(vtz);
		free(text);
		return NULL;
	}
	if (built) {
		icalcomponent_add_property(vtz, icalproperty_new_tzid(tzid));
		*built = vtz;
	} else {
		icalcomponent_free(vtz);
	}
	/* The TZID as the items' TZID parameters have it, not TEXT-escaped
	 * as libical would write it: vobject matches the two byte for byte,
	 * so "Pacific Time (US & Canada)\\; Tijuana" would leave the items
	 * without a zone; the other readers take it either way.  But a
	 * backslash is doubled: libical would read \i as a space, and the
	 * next reading would add the zone again (make fuzz). */
	out = g_string_new("BEGIN:VTIMEZONE\r\n");
	tzid_line = g_string_new("TZID:");
	for (const char *c = tzid; *c; c++) {
		if (*c == '\\')
			g_string_append_c(tzid_line, '\\');
		g_string_append_c(tzid_line, *c);
	}
	ictext_append_folded(out, tzid_line->str, "\r\n");
	g_string_append(out, text + strlen("BEGIN:VTIMEZONE\r\n"));
	g_string_free(tzid_line, TRUE);
	free(text);
	return g_string_free(out, FALSE);
}
