/* Unit tests: zone identification and DST rebasing.  Expected times come
 * from glibc (mktime with TZ set), not from libical. */
#include "item.h"
#include "tz.h"
#include "tzinfo.h"
#include "zoneid.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- the truth: glibc's reading of tzdata ---- */

static gint64 truth(const char *zone, int y, int mo, int d, int h, int mi)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
			 .tm_hour = h, .tm_min = mi, .tm_isdst = -1 };
	char *old = g_strdup(g_getenv("TZ"));
	time_t t;

	g_setenv("TZ", zone, TRUE);
	tzset();
	t = mktime(&tm);
	if (old)
		g_setenv("TZ", old, TRUE);
	else
		g_unsetenv("TZ");
	tzset();
	g_free(old);
	return t;
}

/* ---- items ---- */

static const char *const wdays[] = { "SU", "MO", "TU", "WE", "TH", "FR", "SA" };

/* A VTIMEZONE with one rule for all years, as an old client wrote it. */
static char *vtimezone(const char *tzid, const tzinfo_rule *r)
{
	GString *s = g_string_new(NULL);

	g_string_append_printf(s, "BEGIN:VTIMEZONE\r\nTZID:%s\r\n", tzid);
	if (r->std == r->dst) {
		g_string_append_printf(s, "BEGIN:STANDARD\r\nDTSTART:16010101T000000\r\n"
				       "TZOFFSETFROM:%+03d%02d\r\nTZOFFSETTO:%+03d%02d\r\n"
				       "END:STANDARD\r\n", r->std / 3600, abs(r->std / 60) % 60,
				       r->std / 3600, abs(r->std / 60) % 60);
	} else {
		g_string_append_printf(s,
			"BEGIN:STANDARD\r\nDTSTART:16010101T%02d%02d00\r\n"
			"TZOFFSETFROM:%+03d%02d\r\nTZOFFSETTO:%+03d%02d\r\n"
			"RRULE:FREQ=YEARLY;BYDAY=%d%s;BYMONTH=%d\r\nEND:STANDARD\r\n"
			"BEGIN:DAYLIGHT\r\nDTSTART:16010101T%02d%02d00\r\n"
			"TZOFFSETFROM:%+03d%02d\r\nTZOFFSETTO:%+03d%02d\r\n"
			"RRULE:FREQ=YEARLY;BYDAY=%d%s;BYMONTH=%d\r\nEND:DAYLIGHT\r\n",
			r->end_sec / 3600, r->end_sec / 60 % 60,
			r->dst / 3600, abs(r->dst / 60) % 60, r->std / 3600, abs(r->std / 60) % 60,
			r->end_week, wdays[r->end_wday], r->end_month,
			r->start_sec / 3600, r->start_sec / 60 % 60,
			r->std / 3600, abs(r->std / 60) % 60, r->dst / 3600, abs(r->dst / 60) % 60,
			r->start_week, wdays[r->start_wday], r->start_month);
	}
	g_string_append(s, "END:VTIMEZONE\r\n");
	return g_string_free(s, FALSE);
}

/* A weekly (or monthly) series in tzid from y/m/d h:00, n occurrences,
 * with the VTIMEZONE of zone's rule in rule_year. */
static char *series(const char *tzid, const char *zone, int rule_year, int y, int m,
		    int d, int h, int n, gboolean monthly, const char *extra)
{
	tzinfo_rule r;
	char *vtz, *s;

	tzinfo_rule_of_year(tzinfo_zone(zone), rule_year, &r);
	g_assert_true(r.regular);
	vtz = vtimezone(tzid, &r);
	s = g_strdup_printf(
		"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n%s"
		"BEGIN:VEVENT\r\nUID:s1\r\nDTSTAMP:%04d0101T000000Z\r\nCREATED:%04d0101T000000Z\r\n"
		"DTSTART;TZID=\"%s\":%04d%02d%02dT%02d0000\r\n"
		"DTEND;TZID=\"%s\":%04d%02d%02dT%02d3000\r\n"
		"RRULE:FREQ=%s;COUNT=%d\r\n%sSUMMARY:series\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
		vtz, y - 1, y - 1, tzid, y, m, d, h, tzid, y, m, d, h,
		monthly ? "MONTHLY" : "WEEKLY", n, extra ? extra : "");
	g_free(vtz);
	return s;
}

static char *rebase(const char *text, const tz_options *o, GPtrArray **fixes_out)
{
	icalcomponent *cal = item_parse(text, strlen(text));
	GBytes *in = g_bytes_new(text, strlen(text)), *out;
	GPtrArray *fixes;
	char *r;

	g_assert_nonnull(cal);
	fixes = tz_rebase(cal, o);
	out = tz_apply_text(in, fixes);
	r = g_strndup(g_bytes_get_data(out, NULL), g_bytes_get_size(out));
	g_bytes_unref(out);
	g_bytes_unref(in);
	icalcomponent_free(cal);
	if (fixes_out)
		*fixes_out = fixes;
	else
		g_ptr_array_unref(fixes);
	return r;
}

/* The output's VTIMEZONE tzid, as libical reads it.  Free with
 * icaltimezone_free(z, 1). */
static icaltimezone *output_zone(const char *text, const char *tzid)
{
	icalcomponent *cal = item_parse(text, strlen(text)), *v;
	icaltimezone *z = icaltimezone_new();

	for (v = icalcomponent_get_first_component(cal, ICAL_VTIMEZONE_COMPONENT); v;
	     v = icalcomponent_get_next_component(cal, ICAL_VTIMEZONE_COMPONENT))
		if (!strcmp(icalproperty_get_tzid(icalcomponent_get_first_property(v, ICAL_TZID_PROPERTY)), tzid))
			break;
	g_assert_nonnull(v);
	g_assert_true(icaltimezone_set_component(z, icalcomponent_new_clone(v)));
	icalcomponent_free(cal);
	return z;
}

static gint64 local_instant(icaltimezone *z, int y, int mo, int d, int h, int mi)
{
	struct icaltimetype t = icaltime_null_time();

	t.year = y;
	t.month = mo;
	t.day = d;
	t.hour = h;
	t.minute = mi;
	return tzinfo_utc_of_local(z, t);
}

/* The instant of local time y/m/d h:mi under the output's VTIMEZONE tzid. */
static gint64 instant(const char *text, const char *tzid, int y, int mo, int d, int h, int mi)
{
	icaltimezone *z = output_zone(text, tzid);
	gint64 u = local_instant(z, y, mo, d, h, mi);

	icaltimezone_free(z, 1);
	return u;
}

/* Every occurrence of a series (dates computed here, not by libical) is at
 * tzdata's instant under the output's VTIMEZONE. */
static void check_series(const char *out, const char *tzid, const char *zone, int y,
			 int m, int d, int h, int n, gboolean monthly)
{
	GDate *date = g_date_new_dmy(d, m, y);
	icaltimezone *z = output_zone(out, tzid);

	for (int i = 0; i < n; i++) {
		int yy = g_date_get_year(date), mm = g_date_get_month(date);
		int dd = g_date_get_day(date);
		gint64 want = truth(zone, yy, mm, dd, h, 0);
		gint64 got = local_instant(z, yy, mm, dd, h, 0);

		if (want != got)
			g_error("%s %04d-%02d-%02d %02d:00: %" G_GINT64_FORMAT " != %" G_GINT64_FORMAT,
				zone, yy, mm, dd, h, got, want);
		if (monthly)
			g_date_add_months(date, 1);
		else
			g_date_add_days(date, 7);
	}
	icaltimezone_free(z, 1);
	g_date_free(date);
}

static const tz_options plain = { 0 };

/* Every zone of the United States and Canada in tzdata (zone1970.tab). */
static GPtrArray *us_canada_zones(void)
{
	GPtrArray *zones = g_ptr_array_new_with_free_func(g_free);
	char *text = NULL;
	char **lines;

	g_assert_true(g_file_get_contents("/usr/share/zoneinfo/zone1970.tab", &text, NULL, NULL));
	lines = g_strsplit(text, "\n", -1);
	for (int i = 0; lines[i]; i++) {
		char **cols = g_strsplit(lines[i], "\t", -1);

		if (lines[i][0] != '#' && g_strv_length(cols) >= 3 &&
		    (strstr(cols[0], "US") || strstr(cols[0], "CA")))
			g_ptr_array_add(zones, g_strdup(cols[2]));
		g_strfreev(cols);
	}
	g_strfreev(lines);
	g_free(text);
	return zones;
}

static void test_us_canada(void)
{
	GPtrArray *zones = us_canada_zones();
	guint changed = 0, unchanged = 0;

	g_assert_cmpuint(zones->len, >=, 40);
	for (guint i = 0; i < zones->len; i++) {
		const char *zone = zones->pdata[i];
		tzinfo_rule r2006, r2008;
		GPtrArray *f;
		char *in, *out, *again;

		tzinfo_rule_of_year(tzinfo_zone(zone), 2006, &r2006);
		tzinfo_rule_of_year(tzinfo_zone(zone), 2008, &r2008);
		if (!r2006.regular)
			continue;	/* changed its standard time in 2006 */
		/* weekly from January 2006 to the end of 2012, with the rule the
		 * zone had in 2006 */
		in = series(zone, zone, 2006, 2006, 1, 2, 10, 365, FALSE, NULL);
		out = rebase(in, &plain, &f);
		check_series(out, zone, zone, 2006, 1, 2, 10, 365, FALSE);
		if (tzinfo_rule_equal(&r2006, &r2008) && r2006.std == r2006.dst) {
			/* no DST then or since (Arizona, Saskatchewan, Yukon...) */
			g_assert_cmpstr(out, ==, in);
			unchanged++;
		} else if (f->len) {
			g_assert_cmpint(((tz_fix *)f->pdata[0])->kind, ==, TZ_FIX_VTIMEZONE);
			changed++;
		}
		/* local times are untouched, and a second pass changes nothing */
		g_assert_nonnull(strstr(out, ":20060102T100000\r\n"));
		again = rebase(out, &plain, NULL);
		g_assert_cmpstr(again, ==, out);
		g_free(again);
		g_ptr_array_unref(f);
		g_free(out);
		g_free(in);
		/* monthly, 2006 to 2012 */
		in = series(zone, zone, 2006, 2006, 1, 15, 9, 84, TRUE, NULL);
		out = rebase(in, &plain, NULL);
		check_series(out, zone, zone, 2006, 1, 15, 9, 84, TRUE);
		g_free(out);
		g_free(in);
	}
	g_assert_cmpuint(changed, >=, 30);
	g_assert_cmpuint(unchanged, >=, 2);
	g_ptr_array_unref(zones);
}

static void test_no_dst_no_change(void)
{
	static const char *const zones[] = { "America/Phoenix", "Pacific/Honolulu",
					     "America/Regina", NULL };

	for (int i = 0; zones[i]; i++) {
		char *in = series(zones[i], zones[i], 2006, 2006, 1, 2, 10, 365, FALSE, NULL);
		GPtrArray *f;
		char *out = rebase(in, &plain, &f);

		g_assert_cmpuint(f->len, ==, 0);
		g_assert_cmpstr(out, ==, in);
		check_series(out, zones[i], zones[i], 2006, 1, 2, 10, 365, FALSE);
		g_ptr_array_unref(f);
		g_free(out);
		g_free(in);
	}
}

static void test_mexico_and_tijuana(void)
{
	GPtrArray *f;
	char *in, *out;
	tz_options chicago = { .mailbox_zone = "America/Chicago" };
	tz_options mexico = { .mailbox_zone = "America/Mexico_City" };
	const char *name = "(GMT-06.00) Guadalajara, Mexico City, Monterrey";

	/* Mexico kept the old rule until 2022: nothing to change in 2007-2012 */
	in = series(name, "America/Mexico_City", 2006, 2007, 1, 1, 10, 300, FALSE, NULL);
	out = rebase(in, &plain, &f);
	g_assert_cmpuint(f->len, ==, 0);
	g_assert_cmpstr(out, ==, in);
	check_series(out, name, "America/Mexico_City", 2007, 1, 1, 10, 300, FALSE);
	g_ptr_array_unref(f);
	g_free(out);
	g_free(in);

	/* Tijuana followed the old US rule until 2009 */
	name = "(GMT-08.00) Tijuana / Baja California";
	in = series(name, "America/Tijuana", 2006, 2007, 1, 1, 10, 150, FALSE, NULL);
	out = rebase(in, &plain, &f);
	g_assert_cmpuint(f->len, ==, 0);
	g_free(out);
	g_free(in);
	g_ptr_array_unref(f);

	/* the old Pacific name is US Pacific, whatever it says of Tijuana */
	name = "Pacific Time (US & Canada)\\, Tijuana";
	in = series("Pacific Time (US & Canada), Tijuana", "America/Los_Angeles", 2006,
		    2007, 1, 1, 10, 150, FALSE, NULL);
	out = rebase(in, &plain, &f);
	g_assert_cmpuint(f->len, ==, 1);
	g_assert_cmpstr(((tz_fix *)f->pdata[0])->zone, ==, "America/Los_Angeles");
	check_series(out, "Pacific Time (US & Canada), Tijuana", "America/Los_Angeles",
		     2007, 1, 1, 10, 150, FALSE);
	g_ptr_array_unref(f);
	g_free(out);
	g_free(in);

	/* a name that says nothing: the old Central rule fits Chicago and
	 * Mexico City, which differ from 2007 on */
	in = series("Custom Central", "America/Chicago", 2006, 2007, 1, 1, 10, 150, FALSE, NULL);
	out = rebase(in, &plain, &f);
	g_assert_cmpuint(f->len, ==, 1);
	g_assert_cmpint(((tz_fix *)f->pdata[0])->kind, ==, TZ_FIX_CONFLICT);
	g_assert_nonnull(strstr(((tz_fix *)f->pdata[0])->note, "America/Mexico_City"));
	g_assert_cmpstr(out, ==, in);
	g_ptr_array_unref(f);
	g_free(out);
	/* the mailbox's zone decides */
	out = rebase(in, &chicago, &f);
	g_assert_cmpint(((tz_fix *)f->pdata[0])->kind, ==, TZ_FIX_VTIMEZONE);
	check_series(out, "Custom Central", "America/Chicago", 2007, 1, 1, 10, 150, FALSE);
	g_ptr_array_unref(f);
	g_free(out);
	out = rebase(in, &mexico, &f);
	g_assert_cmpuint(f->len, ==, 0);
	g_assert_cmpstr(out, ==, in);
	g_ptr_array_unref(f);
	g_free(out);
	g_free(in);
}

static void test_other_countries(void)
{
	static const struct {
		const char *zone;
		int old_year, from_year, change;
	} cases[] = {
		{ "Pacific/Auckland", 2006, 2006, 2007 },	/* New Zealand 2007 */
		{ "Australia/Sydney", 2007, 2007, 2008 },	/* Australia 2008 */
		{ "Australia/Melbourne", 2007, 2007, 2008 },
		{ "America/Sao_Paulo", 2018, 2018, 2019 },	/* Brazil 2019 */
		{ "America/Mexico_City", 2022, 2021, 2023 },	/* Mexico 2022 */
		{ "Australia/Perth", 2007, 2005, 2006 },	/* Western Australia 2006-2009 */
		{ "Europe/Moscow", 2010, 2010, 2011 },
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *in = series(cases[i].zone, cases[i].zone, cases[i].old_year,
				  cases[i].from_year, 1, 3, 11, 200, FALSE, NULL);
		GPtrArray *f;
		char *out = rebase(in, &plain, &f);

		g_assert_cmpuint(f->len, ==, 1);
		check_series(out, cases[i].zone, cases[i].zone, cases[i].from_year, 1, 3, 11,
			     200, FALSE);
		g_ptr_array_unref(f);
		g_free(out);
		g_free(in);
	}
}

static void test_single_local(void)
{
	const char *z = "America/New_York";
	GPtrArray *f;
	char *in, *out;

	/* in the weeks the 2007 rule added: moved */
	in = series("Eastern Standard Time", z, 2006, 2007, 3, 20, 10, 1, FALSE, NULL);
	out = rebase(in, &plain, &f);
	g_assert_cmpuint(f->len, ==, 1);
	g_assert_nonnull(strstr(((tz_fix *)f->pdata[0])->note, "1 of 1 occurrences moved back 1h"));
	g_assert_cmpint(instant(out, "Eastern Standard Time", 2007, 3, 20, 10, 0), ==,
			truth(z, 2007, 3, 20, 10, 0));
	g_ptr_array_unref(f);
	g_free(out);
	g_free(in);
	/* in the summer: both rules agree, nothing changes */
	in = series("Eastern Standard Time", z, 2006, 2007, 6, 20, 10, 1, FALSE, NULL);
	out = rebase(in, &plain, &f);
	g_assert_cmpuint(f->len, ==, 0);
	g_assert_cmpstr(out, ==, in);
	g_ptr_array_unref(f);
	g_free(out);
	g_free(in);
}

static char *utc_event(const char *created, const char *start, const char *end,
		       const char *extra)
{
	return g_strdup_printf(
		"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:u1\r\n"
		"DTSTAMP:%s\r\nCREATED:%s\r\nDTSTART:%s\r\nDTEND:%s\r\n%s"
		"SUMMARY:utc\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
		created, created, start, end, extra ? extra : "");
}

static void test_single_utc(void)
{
	tz_options ny = { .mailbox_zone = "America/New_York" };
	tz_options before = { .mailbox_zone = "America/New_York",
			      .created_before = 1136073600 /* 2006-01-01 */ };
	tz_options sydney = { .mailbox_zone = "Australia/Sydney" };
	GPtrArray *f;
	char *in, *out, *again, *want;

	/* written in 2006 for 20 March 2007, 10:00 in New York: the old
	 * rule said EST, so 15:00Z; it is EDT, 14:00Z */
	in = utc_event("20061001T120000Z", "20070320T150000Z", "20070320T160000Z",
		       "BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER;VALUE=DATE-TIME:20070320T144500Z\r\n"
		       "END:VALARM\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\n");
	out = rebase(in, &ny, &f);
	g_assert_cmpuint(f->len, ==, 1);
	g_assert_cmpint(((tz_fix *)f->pdata[0])->kind, ==, TZ_FIX_SHIFT);
	g_assert_cmpint(((tz_fix *)f->pdata[0])->shift, ==, -3600);
	want = g_strdup_printf("DTSTART:%s\r\n", "20070320T140000Z");
	g_assert_nonnull(strstr(out, want));
	g_free(want);
	g_assert_cmpint(truth("America/New_York", 2007, 3, 20, 10, 0), ==, 1174399200);
	g_assert_nonnull(strstr(out, "DTEND:20070320T150000Z\r\n"));
	g_assert_nonnull(strstr(out, "TRIGGER;VALUE=DATE-TIME:20070320T134500Z\r\n"));
	g_assert_nonnull(strstr(out, "TRIGGER:-PT15M\r\n"));
	g_assert_nonnull(strstr(out, "X-CALFS-REBASED:America/New_York;2007\r\n"));
	/* never moved twice */
	again = rebase(out, &ny, NULL);
	g_assert_cmpstr(again, ==, out);
	g_free(again);
	g_ptr_array_unref(f);
	g_free(out);
	/* created_before excludes it */
	out = rebase(in, &before, &f);
	g_assert_cmpuint(f->len, ==, 0);
	g_ptr_array_unref(f);
	g_free(out);
	/* no zone for the mailbox: nothing to go by */
	out = rebase(in, &plain, &f);
	g_assert_cmpuint(f->len, ==, 0);
	g_ptr_array_unref(f);
	g_free(out);
	g_free(in);

	/* written after the rule took effect: right as it is */
	in = utc_event("20070315T120000Z", "20070320T140000Z", "20070320T150000Z", NULL);
	out = rebase(in, &ny, &f);
	g_assert_cmpuint(f->len, ==, 0);
	g_ptr_array_unref(f);
	g_free(out);
	g_free(in);
	/* in the summer: both rules agree */
	in = utc_event("20061001T120000Z", "20070620T140000Z", "20070620T150000Z", NULL);
	out = rebase(in, &ny, &f);
	g_assert_cmpuint(f->len, ==, 0);
	g_ptr_array_unref(f);
	g_free(out);
	g_free(in);
	/* all day: never moves */
	in = g_strdup("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:d\r\nDTSTAMP:20061001T120000Z\r\n"
		      "DTSTART;VALUE=DATE:20070320\r\nDTEND;VALUE=DATE:20070321\r\n"
		      "END:VEVENT\r\nEND:VCALENDAR\r\n");
	out = rebase(in, &ny, &f);
	g_assert_cmpuint(f->len, ==, 0);
	g_assert_cmpstr(out, ==, in);
	g_ptr_array_unref(f);
	g_free(out);
	g_free(in);
	/* Sydney: written in 2007 for 10 October 2008, 10:00; the 2008 rule
	 * starts DST on the first Sunday of October, the old one at the end */
	in = utc_event("20070601T000000Z", "20081010T000000Z", "20081010T010000Z", NULL);
	out = rebase(in, &sydney, &f);
	g_assert_cmpuint(f->len, ==, 1);
	g_assert_cmpint(((tz_fix *)f->pdata[0])->shift, ==,
			truth("Australia/Sydney", 2008, 10, 10, 10, 0) - 1223596800);
	g_assert_nonnull(strstr(out, "X-CALFS-REBASED:Australia/Sydney;2008\r\n"));
	g_ptr_array_unref(f);
	g_free(out);
	g_free(in);
}

static void test_overrides_exdates(void)
{
	const char *z = "America/Chicago", *tzid = "Central Standard Time";
	char *in = series(tzid, z, 2006, 2007, 1, 1, 10, 30, FALSE,
			  "EXDATE;TZID=\"Central Standard Time\":20070312T100000\r\n");
	char *override, *full, *out;
	GPtrArray *f;

	override = g_strdup_printf(
		"BEGIN:VEVENT\r\nUID:s1\r\nDTSTAMP:20060101T000000Z\r\n"
		"RECURRENCE-ID;TZID=\"%s\":20070319T100000\r\n"
		"DTSTART;TZID=\"%s\":20070319T110000\r\nDTEND;TZID=\"%s\":20070319T113000\r\n"
		"SUMMARY:moved\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", tzid, tzid, tzid);
	full = g_strconcat(in, override, NULL);
	/* the override goes inside the VCALENDAR: drop the first END line */
	memmove(strstr(full, "END:VCALENDAR\r\n"), strstr(full, "END:VCALENDAR\r\n") +
		strlen("END:VCALENDAR\r\n"), strlen(strstr(full, "END:VCALENDAR\r\n") +
						    strlen("END:VCALENDAR\r\n")) + 1);
	out = rebase(full, &plain, &f);
	g_assert_cmpuint(f->len, ==, 1);
	/* 12 March is excluded; 19 March is the override's (at 11:00): of the
	 * weeks that changed, 19 and 26 March move, at their local times */
	g_assert_nonnull(strstr(out, "EXDATE;TZID=\"Central Standard Time\":20070312T100000\r\n"));
	g_assert_nonnull(strstr(out, "DTSTART;TZID=\"Central Standard Time\":20070319T110000\r\n"));
	g_assert_nonnull(strstr(((tz_fix *)f->pdata[0])->note, "2 of 29 occurrences moved back 1h"));
	g_assert_cmpint(instant(out, tzid, 2007, 3, 19, 11, 0), ==, truth(z, 2007, 3, 19, 11, 0));
	g_assert_cmpint(instant(out, tzid, 2007, 3, 26, 10, 0), ==, truth(z, 2007, 3, 26, 10, 0));
	g_ptr_array_unref(f);
	g_free(out);
	g_free(full);
	g_free(override);
	g_free(in);
}

static void test_missing_vtimezone(void)
{
	const char *in = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:m\r\nDTSTAMP:20060101T000000Z\r\n"
		"DTSTART;TZID=America/Denver:20070320T100000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
	GPtrArray *f;
	char *out = rebase(in, &plain, &f);

	g_assert_cmpuint(f->len, ==, 1);
	g_assert_nonnull(strstr(out, "BEGIN:VTIMEZONE\r\nTZID:America/Denver\r\n"));
	g_assert_cmpint(instant(out, "America/Denver", 2007, 3, 20, 10, 0), ==,
			truth("America/Denver", 2007, 3, 20, 10, 0));
	g_ptr_array_unref(f);
	g_free(out);
}

/* two zones missing: both are added in one pass (make fuzz: all but the
 * last were lost, and each read added one more) */
static void test_missing_vtimezones(void)
{
	const char *in = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:m\r\nDTSTAMP:20060101T000000Z\r\n"
		"DTSTART;TZID=America/Denver:20070320T100000\r\n"
		"DTEND;TZID=Europe/Paris:20070320T190000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
	GPtrArray *f, *again;
	char *out = rebase(in, &plain, &f), *out2;

	g_assert_cmpuint(f->len, ==, 2);
	g_assert_nonnull(strstr(out, "BEGIN:VTIMEZONE\r\nTZID:America/Denver\r\n"));
	g_assert_nonnull(strstr(out, "BEGIN:VTIMEZONE\r\nTZID:Europe/Paris\r\n"));
	out2 = rebase(out, &plain, &again);
	g_assert_cmpuint(again->len, ==, 0);
	g_assert_cmpstr(out2, ==, out);
	g_ptr_array_unref(again);
	g_ptr_array_unref(f);
	g_free(out);
	g_free(out2);
}

/* far-future times: libical expanded a zone up to the year asked for,
 * which took seconds for 4040 (make fuzz); they are asked for whole
 * 400-year cycles earlier, and the offsets are those of the same date */
static void test_far_future(void)
{
	icaltimezone *ny = tzinfo_zone("America/New_York");
	struct icaltimetype july = icaltime_from_string("40400704T120000");
	struct icaltimetype jan = icaltime_from_string("40400104T120000");

	g_assert_nonnull(ny);
	g_assert_cmpint(tzinfo_offset_local(ny, july), ==, -4 * 3600);
	g_assert_cmpint(tzinfo_offset_local(ny, jan), ==, -5 * 3600);
	/* 4040-07-04T16:00:00Z */
	g_assert_cmpint(tzinfo_offset_utc(ny, G_GINT64_CONSTANT(65338876800) + 16 * 3600),
			==, -4 * 3600);
	/* 4040-01-04T17:00:00Z */
	g_assert_cmpint(tzinfo_offset_utc(ny, G_GINT64_CONSTANT(65323152000) + 17 * 3600),
			==, -5 * 3600);
}

/* The offsets of tzdata zones at wall-clock times are read from their
 * kept transitions away from changes: they must be libical's, near the
 * changes too, in zones with odd rules (half-hour DST, southern, DST
 * suspended, abolished). */
static void test_offsets_as_libical(void)
{
	static const char *const zones[] = {
		"America/New_York", "Europe/London", "Australia/Sydney", "Pacific/Auckland",
		"America/Sao_Paulo", "Europe/Moscow", "America/Mexico_City", "Asia/Tokyo",
		"America/Phoenix", "Asia/Tehran", "Africa/Casablanca", "America/Santiago",
		"Pacific/Chatham", "Australia/Lord_Howe", "Europe/Dublin", "Asia/Kolkata",
	};
	GRand *rand = g_rand_new_with_seed(14);

	for (guint i = 0; i < G_N_ELEMENTS(zones); i++) {
		icaltimezone *z = tzinfo_zone(zones[i]);

		g_assert_nonnull(z);
		for (int n = 0; n < 5000; n++) {
			struct icaltimetype t = icaltime_null_time();
			int dst = 0, theirs;

			t.year = g_rand_int_range(rand, 1958, 2063);
			t.month = g_rand_int_range(rand, 1, 13);
			t.day = g_rand_int_range(rand, 1, icaltime_days_in_month(t.month, t.year) + 1);
			t.hour = g_rand_int_range(rand, 0, 24);
			t.minute = 15 * g_rand_int_range(rand, 0, 4);
			/* libical's own answer, asked directly */
			theirs = icaltimezone_get_utc_offset(z, &t, &dst);
			if (tzinfo_offset_local(z, t) != theirs)
				g_error("%s at %s: %d, libical %d", zones[i], icaltime_as_ical_string(t),
					tzinfo_offset_local(z, t), theirs);
		}
	}
	g_rand_free(rand);
}

#define OBS(kind, start, from, to, rest) \
	"BEGIN:" kind "\r\nDTSTART:" start "\r\n" from "TZOFFSETTO:" to "\r\n" rest \
	"END:" kind "\r\n"
#define FROM(o) "TZOFFSETFROM:" o "\r\n"

static const char *const vtz_cases[] = {
	/* Outlook's, from 1601: the rule before 2007, and after */
	OBS("STANDARD", "16010101T020000", FROM("-0400"), "-0500",
	    "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\r\n")
	OBS("DAYLIGHT", "16010101T020000", FROM("-0500"), "-0400",
	    "RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=4\r\n"),
	OBS("STANDARD", "16010101T020000", FROM("-0400"), "-0500",
	    "RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=11\r\n")
	OBS("DAYLIGHT", "16010101T020000", FROM("-0500"), "-0400",
	    "RRULE:FREQ=YEARLY;BYDAY=2SU;BYMONTH=3\r\n"),
	/* tzdata's history, with UNTILs in UTC and a rule after them */
	OBS("DAYLIGHT", "19870405T020000", FROM("-0500"), "-0400",
	    "RRULE:FREQ=YEARLY;BYMONTH=4;BYDAY=1SU;UNTIL=20060402T070000Z\r\n")
	OBS("STANDARD", "19671029T020000", FROM("-0400"), "-0500",
	    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU;UNTIL=20061029T060000Z\r\n")
	OBS("DAYLIGHT", "20070311T020000", FROM("-0500"), "-0400",
	    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU\r\n")
	OBS("STANDARD", "20071104T020000", FROM("-0400"), "-0500",
	    "RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU\r\n"),
	/* southern, half an hour */
	OBS("STANDARD", "19700405T030000", FROM("+1100"), "+1030",
	    "RRULE:FREQ=YEARLY;BYMONTH=4;BYDAY=1SU\r\n")
	OBS("DAYLIGHT", "19701004T020000", FROM("+1030"), "+1100",
	    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=1SU\r\n"),
	/* RDATEs: local, in UTC, dates; and observances without a rule */
	OBS("DAYLIGHT", "19990328T020000", FROM("+0000"), "+0100",
	    "RDATE:20000326T020000\r\nRDATE:20010325T010000Z\r\nRDATE;VALUE=DATE:20020331\r\n")
	OBS("STANDARD", "19991031T030000", FROM("+0100"), "+0000",
	    "RDATE:20001029T030000\r\nRDATE:20011028T010000Z\r\nRDATE;VALUE=DATE:20021027\r\n")
	OBS("STANDARD", "20030101T000000", FROM("+0000"), "+0300", "")
	OBS("STANDARD", "20140101T000000", FROM("+0300"), "+0400", ""),
	/* no TZOFFSETFROM (Outlook for Mac), a count, a second rule */
	OBS("STANDARD", "19700101T000000", "", "+0900", "")
	OBS("DAYLIGHT", "19900506T020000", FROM("+0900"), "+1000",
	    "RRULE:FREQ=YEARLY;BYMONTH=5;BYDAY=2SU;COUNT=8\r\n")
	OBS("STANDARD", "19901007T030000", FROM("+1000"), "+0900",
	    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=2SU;COUNT=8\r\n"
	    "RRULE:FREQ=YEARLY;INTERVAL=2;BYMONTH=11;BYDAY=1SU;COUNT=3\r\n"),
	/* a rule not of the n-th weekday: libical's iterator expands it */
	OBS("STANDARD", "19800101T000000", FROM("-0300"), "-0300",
	    "RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=15\r\n")
	OBS("DAYLIGHT", "19801101T000000", FROM("-0300"), "-0200",
	    "RRULE:FREQ=YEARLY;BYMONTH=11;BYMONTHDAY=1\r\n"),
};

/* The zone of vtz_cases[i] (from tzinfo_vtimezone: release it), with the
 * parse it was made from in *c (free it). */
static icaltimezone *vtz_case(guint i, icalcomponent **c)
{
	char *text = g_strdup_printf("BEGIN:VTIMEZONE\r\nTZID:z%u\r\n%sEND:VTIMEZONE\r\n",
				     i, vtz_cases[i]);
	icaltimezone *z;

	*c = icalparser_parse_string(text);
	z = tzinfo_vtimezone(*c);
	g_free(text);
	return z;
}

/* VTIMEZONEs made into zones: their offsets away from their changes are
 * read from changes tzinfo expands as libical does; they must be
 * libical's, near the changes too. */
static void test_vtimezone_offsets_as_libical(void)
{
	GRand *rand = g_rand_new_with_seed(15);

	for (guint i = 0; i < G_N_ELEMENTS(vtz_cases); i++) {
		icalcomponent *c;
		icaltimezone *z = vtz_case(i, &c);

		g_assert_nonnull(z);
		if (!tzinfo_offsets_kept(z))
			g_error("VTIMEZONE %u: its offsets are not kept", i);
		for (int n = 0; n < 20000; n++) {
			struct icaltimetype t = icaltime_null_time();
			int dst = 0, theirs;

			t.year = g_rand_int_range(rand, 1958, 2063);
			t.month = g_rand_int_range(rand, 1, 13);
			t.day = g_rand_int_range(rand, 1, icaltime_days_in_month(t.month, t.year) + 1);
			t.hour = g_rand_int_range(rand, 0, 24);
			t.minute = 15 * g_rand_int_range(rand, 0, 4);
			theirs = icaltimezone_get_utc_offset(z, &t, &dst);
			if (tzinfo_offset_local(z, t) != theirs)
				g_error("VTIMEZONE %u at %s: %d, libical %d", i,
					icaltime_as_ical_string(t), tzinfo_offset_local(z, t), theirs);
		}
		tzinfo_release(z);
		icalcomponent_free(c);
	}
	g_rand_free(rand);
}

/* Every wall-clock time within a day and a half of each change of a
 * zone, a quarter of an hour apart, against libical: where tzinfo's kept
 * transitions stop answering and libical starts. */
static void near_changes(const char *what, icaltimezone *z)
{
	GArray *tr = tzinfo_transitions(z, G_GINT64_CONSTANT(-283996800),	/* 1961 */
					 G_GINT64_CONSTANT(2808604800));	/* 2059 */

	for (guint i = 0; i < tr->len; i++) {
		tzinfo_transition *c = &g_array_index(tr, tzinfo_transition, i);

		for (gint64 d = -36 * 3600; d <= 36 * 3600; d += 900) {
			struct icaltimetype t = icaltime_from_timet_with_zone(
				(time_t)(c->at + c->before + d), 0, NULL);
			int dst = 0, theirs = icaltimezone_get_utc_offset(z, &t, &dst);

			if (tzinfo_offset_local(z, t) != theirs)
				g_error("%s at %s: %d, libical %d", what, icaltime_as_ical_string(t),
					tzinfo_offset_local(z, t), theirs);
		}
	}
	g_array_unref(tr);
}

static void test_offsets_near_changes(void)
{
	static const char *const zones[] = {
		"America/New_York", "Europe/London", "Australia/Sydney", "Pacific/Auckland",
		"America/Sao_Paulo", "Europe/Moscow", "America/Mexico_City", "Asia/Tehran",
		"Africa/Casablanca", "America/Santiago", "Pacific/Chatham", "Australia/Lord_Howe",
		"Europe/Dublin", "Pacific/Apia", "America/St_Johns", "Asia/Gaza",
	};

	for (guint i = 0; i < G_N_ELEMENTS(zones); i++)
		near_changes(zones[i], tzinfo_zone(zones[i]));
	for (guint i = 0; i < G_N_ELEMENTS(vtz_cases); i++) {
		icalcomponent *c;
		icaltimezone *z = vtz_case(i, &c);
		char *what = g_strdup_printf("VTIMEZONE %u", i);

		near_changes(what, z);
		tzinfo_release(z);
		icalcomponent_free(c);
		g_free(what);
	}
}

/* The index of the first of times where a and b differ, an offset at a
 * time: what tzinfo_first_difference must find. */
static guint first_difference_each(icaltimezone *a, icaltimezone *b, GArray *times)
{
	for (guint i = 0; i < times->len; i++) {
		struct icaltimetype t = g_array_index(times, struct icaltimetype, i);

		if (tzinfo_offset_local(a, t) != tzinfo_offset_local(b, t))
			return i;
	}
	return times->len;
}

static void add_local(GArray *times, gint64 at)
{
	struct icaltimetype t = icaltime_from_timet_with_zone((time_t)at, 0, NULL);

	g_array_append_val(times, t);
}

/* tzinfo_first_difference reads a pair's offsets from the stretches
 * between their changes: it finds what comparing each time's offsets
 * finds, at every time beside either zone's changes (where libical
 * decides), far from them, before and after the kept years, and in runs
 * of times that agree up to one that does not. */
static void test_first_difference(void)
{
	static const char *const zones[] = {
		"America/New_York", "Europe/London", "Australia/Adelaide", "Asia/Tokyo",
		"America/Sao_Paulo", "Pacific/Chatham",
	};
	GRand *rand = g_rand_new_with_seed(17);

	for (guint i = 0; i < G_N_ELEMENTS(vtz_cases); i++) {
		icalcomponent *c;
		icaltimezone *v = vtz_case(i, &c);

		g_assert_nonnull(v);
		for (guint k = 0; k < G_N_ELEMENTS(zones); k++) {
			icaltimezone *z = tzinfo_zone(zones[k]);
			GArray *times = g_array_new(FALSE, FALSE, sizeof(struct icaltimetype));
			icaltimezone *both[2] = { v, z };

			/* around each change of either, 1961-2059 */
			for (int w = 0; w < 2; w++) {
				GArray *tr = tzinfo_transitions(both[w], G_GINT64_CONSTANT(-283996800),
								G_GINT64_CONSTANT(2808604800));

				for (guint j = 0; j < tr->len; j++) {
					tzinfo_transition *ch = &g_array_index(tr, tzinfo_transition, j);

					for (gint64 d = -6 * 3600; d <= 6 * 3600; d += 1800)
						add_local(times, ch->at + ch->before + d);
				}
				g_array_unref(tr);
			}
			/* anywhere, from 1900 to 2300 */
			for (int j = 0; j < 2000; j++)
				add_local(times, (gint64)g_rand_double_range(rand, -2208988800.0,
									     10413792000.0));
			for (guint j = 0; j < times->len; j++) {
				struct icaltimetype t = g_array_index(times, struct icaltimetype, j);
				guint want = tzinfo_offset_local(v, t) != tzinfo_offset_local(z, t) ? 0 : 1;

				if (tzinfo_first_difference(v, z, &t, 1) != want)
					g_error("VTIMEZONE %u and %s at %s: %s", i, zones[k],
						icaltime_as_ical_string(t),
						want ? "agree, found to differ" : "differ, not found");
			}
			/* whole runs, from each point on */
			for (guint j = 0; j < times->len; j += 97) {
				GArray *run = g_array_new(FALSE, FALSE, sizeof(struct icaltimetype));

				g_array_append_vals(run, &g_array_index(times, struct icaltimetype, j),
						    times->len - j);
				g_assert_cmpuint(tzinfo_first_difference(v, z,
						 (struct icaltimetype *)run->data, run->len), ==,
						 first_difference_each(v, z, run));
				g_array_unref(run);
			}
			g_array_unref(times);
		}
		tzinfo_release(v);
		icalcomponent_free(c);
	}
	g_rand_free(rand);
}

/* tz_may_apply as it is defined: a TZID, or a UTC time ending a line. */
static gboolean may_apply_by_definition(const char *d, gsize n)
{
	return memmem(d, n, "TZID", 4) || memmem(d, n, "tzid", 4) || memmem(d, n, "Z\r\n", 3) ||
	       memmem(d, n, "Z\n", 2);
}

/* tz_may_apply and tz_reads look for their marks with memchr: at the
 * ends of the text, in both cases, and in random text of those letters. */
static void test_may_apply(void)
{
	static const char *const cases[] = {
		"", "Z", "TZID", "ZID", "TZI", "tzid", "TzId", "xTZIDx", "Z\r", "Z\r\n", "Z\n",
		"z\n", "DTSTART:20260101T100000Z", "DTSTART:20260101T100000Z\r\n",
		"DTSTART;TZID=Eastern:20260101T100000\r\n", "TTZZIIDD", "TZTZID",
	};
	static const char letters[] = "TZIDtzid\r\nZ:;=";
	GRand *rand = g_rand_new_with_seed(3);
	char buf[24];

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++)
		g_assert_cmpint(tz_may_apply(cases[i], strlen(cases[i])), ==,
				may_apply_by_definition(cases[i], strlen(cases[i])));
	for (int i = 0; i < 100000; i++) {
		gsize n = g_rand_int_range(rand, 0, sizeof(buf));

		for (gsize k = 0; k < n; k++)
			buf[k] = letters[g_rand_int_range(rand, 0, sizeof(letters) - 1)];
		g_assert_cmpint(tz_may_apply(buf, n), ==, may_apply_by_definition(buf, n));
	}
	g_rand_free(rand);
	/* a TZID in a line's name or parameters, not in its value */
	g_assert_true(tz_reads("X-FOO;TZID=Eastern:1\r\n", 21));
	g_assert_true(tz_reads("TZID:Eastern\r\n", 14));
	g_assert_false(tz_reads("SUMMARY:TZID\r\n", 14));
	g_assert_false(tz_reads("SUMMARY:1000Z\r\n", 15));
}

/* The zones made of VTIMEZONEs are shared by what libical reads of
 * them, not by their text: the same values written otherwise share one;
 * any value of any property that differs makes another. */
static icaltimezone *zone_of_text(const char *observances)
{
	char *text = g_strdup_printf("BEGIN:VTIMEZONE\r\nTZID:Shared\r\n%sEND:VTIMEZONE\r\n",
				     observances);
	icalcomponent *c = icalparser_parse_string(text);
	icaltimezone *z = tzinfo_vtimezone(c);

	g_assert_nonnull(z);
	icalcomponent_free(c);
	g_free(text);
	return z;
}

#define SHARED_STD(rule, name, extra) \
	"BEGIN:STANDARD\r\nDTSTART:16010101T020000\r\nTZOFFSETFROM:-0400\r\n" \
	"TZOFFSETTO:-0500\r\n" rule name extra "END:STANDARD\r\n" \
	"BEGIN:DAYLIGHT\r\nDTSTART:16010101T020000\r\nTZOFFSETFROM:-0500\r\n" \
	"TZOFFSETTO:-0400\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU\r\nEND:DAYLIGHT\r\n"

static void test_vtimezone_shared(void)
{
	static const char *const same[] = {
		SHARED_STD("RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU\r\n", "TZNAME:EST\r\n", ""),
		/* the rule's parts in another order, a folded line */
		SHARED_STD("RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=11\r\n", "TZNAME:E\r\n ST\r\n", ""),
	};
	static const char *const other[] = {
		SHARED_STD("RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=2SU\r\n", "TZNAME:EST\r\n", ""),
		SHARED_STD("RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU\r\n", "TZNAME:EDT\r\n", ""),
		SHARED_STD("RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU\r\n", "TZNAME;LANGUAGE=en:EST\r\n",
			   ""),
		SHARED_STD("RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU\r\n", "TZNAME:EST\r\n",
			   "X-CALFS-TEST:1\r\n"),
		SHARED_STD("RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU\r\n", "",
			   "TZNAME:EST\r\n"  "COMMENT:x\r\n"),
	};
	icaltimezone *first = zone_of_text(same[0]);

	for (guint i = 1; i < G_N_ELEMENTS(same); i++) {
		icaltimezone *z = zone_of_text(same[i]);

		g_assert_true(z == first);
		tzinfo_release(z);
	}
	for (guint i = 0; i < G_N_ELEMENTS(other); i++) {
		icaltimezone *z = zone_of_text(other[i]);

		if (z == first)
			g_error("VTIMEZONE %u: shares the zone of another", i);
		tzinfo_release(z);
	}
	tzinfo_release(first);
}

static void test_report_only(void)
{
	tz_options o = { .report_only = TRUE };
	char *in = series("America/New_York", "America/New_York", 2006, 2007, 1, 1, 10, 20,
			  FALSE, NULL);
	GPtrArray *f;
	char *out = rebase(in, &o, &f);

	g_assert_cmpuint(f->len, ==, 1);
	g_assert_false(((tz_fix *)f->pdata[0])->applied);
	g_assert_true(g_str_has_prefix(((tz_fix *)f->pdata[0])->note, "would change: "));
	g_assert_cmpstr(out, ==, in);
	g_ptr_array_unref(f);
	g_free(out);
	g_free(in);
}

static void test_identify(void)
{
	static const struct {
		const char *tzid;
		int cdo;
		const char *zone;
	} cases[] = {
		{ "(GMT-05.00) Eastern Time (US & Canada)", -1, "America/New_York" },
		{ "(GMT-05:00) Eastern Time (US & Canada)", -1, "America/New_York" },
		{ "(UTC-05:00) Eastern Time (US & Canada)", -1, "America/New_York" },
		{ "Eastern Time (US & Canada)", -1, "America/New_York" },
		{ "\"Eastern Standard Time\"", -1, "America/New_York" },
		{ "Pacific Time (US & Canada); Tijuana", -1, "America/Los_Angeles" },
		{ "Pacific Time (US & Canada)\\, Tijuana", -1, "America/Los_Angeles" },
		{ "(GMT-08.00) Pacific Time (US & Canada) / Tijuana", -1, "America/Los_Angeles" },
		{ "Pacific Standard Time", -1, "America/Los_Angeles" },
		{ "Central Standard Time (Mexico)", -1, "America/Mexico_City" },
		{ "W. Europe Standard Time", -1, "Europe/Berlin" },
		{ "AUS Eastern Standard Time", -1, "Australia/Sydney" },
		{ "New Zealand Standard Time", -1, "Pacific/Auckland" },
		{ "/freeassociation.sourceforge.net/Tzfile/America/Chicago", -1, "America/Chicago" },
		{ "/mozilla.org/20050126_1/America/Denver", -1, "America/Denver" },
		{ "custom_America/New_York", -1, "America/New_York" },
		{ "Europe/Paris", -1, "Europe/Paris" },
		{ "Something else", 11, "America/Chicago" },
		{ "Something else", 37, "America/Mexico_City" },
		{ "Something else", 13, "America/Los_Angeles" },
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		zoneid_query q = { .tzid = cases[i].tzid, .cdo = cases[i].cdo,
				   .year_from = 1995, .year_to = 2006 };
		zoneid_result *r = zoneid_identify(&q);

		if (g_strcmp0(r->zone, cases[i].zone))
			g_error("%s: %s, not %s", cases[i].tzid, r->zone, cases[i].zone);
		zoneid_result_free(r);
	}
	/* a name the sources disagree on decides nothing */
	g_assert_null(zoneid_lookup("name", "(GMT-06.00) Saskatchewan"));
}

static gboolean same_result(const zoneid_result *a, const zoneid_result *b)
{
	if (g_strcmp0(a->zone, b->zone) || a->method != b->method ||
	    g_strcmp0(a->candidates, b->candidates) || a->rejected->len != b->rejected->len)
		return FALSE;
	for (guint i = 0; i < a->rejected->len; i++)
		if (strcmp(a->rejected->pdata[i], b->rejected->pdata[i]))
			return FALSE;
	return TRUE;
}

/* A result zoneid_result_is_mailbox_free calls so is the one any mailbox
 * zone gives (tz_known keeps the scan's, asked without one, for the
 * rebase); the others are the ones a mailbox zone settles. */
static void test_identify_mailbox_free(void)
{
	static const char *const mailboxes[] = {
		"America/New_York", "America/Los_Angeles", "America/Chicago", "Europe/London",
		"Australia/Adelaide", "America/Havana",
	};
	static const struct {
		const char *tzid;
		int cdo;
	} names[] = {
		{ "Eastern Standard Time", -1 }, { "Eastern Standard Time", 13 },
		{ "Something else", 11 }, { "Custom", -1 },
	};
	guint free_ones = 0, settled = 0;

	for (guint i = 0; i <= G_N_ELEMENTS(vtz_cases); i++) {
		icalcomponent *c = NULL;
		icaltimezone *v = i < G_N_ELEMENTS(vtz_cases) ? vtz_case(i, &c) : NULL;

		for (guint n = 0; n < G_N_ELEMENTS(names); n++) {
			struct icaltimetype t[3];
			zoneid_query q = { .tzid = names[n].tzid, .cdo = names[n].cdo,
					   .vtimezone = c, .year_from = 1995, .year_to = 2006,
					   .times = t, .n_times = G_N_ELEMENTS(t) };
			zoneid_result *none;

			t[0] = icaltime_from_string("20050707T100000");
			t[1] = icaltime_from_string("20080310T100000");
			t[2] = icaltime_from_string("20251101T100000");
			none = zoneid_identify(&q);
			for (guint m = 0; m < G_N_ELEMENTS(mailboxes); m++) {
				zoneid_result *r;

				q.mailbox_zone = mailboxes[m];
				r = zoneid_identify(&q);
				if (zoneid_result_is_mailbox_free(none) && !same_result(none, r))
					g_error("case %u, %s: %s without a mailbox zone, %s with %s", i,
						names[n].tzid, none->zone, r->zone, mailboxes[m]);
				settled += !same_result(none, r);
				zoneid_result_free(r);
			}
			free_ones += zoneid_result_is_mailbox_free(none);
			zoneid_result_free(none);
		}
		tzinfo_release(v);
		if (c)
			icalcomponent_free(c);
	}
	/* both kinds were asked */
	g_assert_cmpuint(free_ones, >, 0);
	g_assert_cmpuint(settled, >, 0);
}

/* The real files of other projects: identified to the right zones. */
static void test_fixtures(void)
{
	static const struct {
		const char *file, *tzid, *zone;
	} cases[] = {
		{ "ical4j-tmeher.ics", "Pacific Time (US & Canada), Tijuana", "America/Los_Angeles" },
		{ "horde-exchange-example.ics", "Eastern Time (US & Canada)", "America/New_York" },
		{ "horde-vtz-meeting.ics", "(GMT-05.00) Eastern Time (US & Canada)", "America/New_York" },
		{ "horde-bug14132.ics", "Eastern Standard Time", "America/New_York" },
		{ "ical4j-2207678.ics", "Kuala Lumpur, Singapore", "Asia/Singapore" },
		{ "icalendar-america_new_york.ics", "custom_America/New_York", "America/New_York" },
		{ "nodeical-ms_timezones.ics", "W. Europe Standard Time", "Europe/Berlin" },
		{ "nodeical-ms_timezones.ics", "US Mountain Standard Time", "America/Phoenix" },
		{ "vobject-ms_tzid.ics", "Canberra, Melbourne, Sydney", "Australia/Sydney" },
		{ "radicale-event_issue2151.ics", "W. Europe Standard Time", "Europe/Berlin" },
	};
	const char *dir = g_getenv("CALFS_FIXTURES");

	if (!dir || !g_file_test(dir, G_FILE_TEST_IS_DIR)) {
		g_test_skip("CALFS_FIXTURES (../shared/fixtures/real) is absent");
		return;
	}
	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *path = g_build_filename(dir, cases[i].file, NULL), *text;
		gsize len;
		icalcomponent *cal, *v;
		zoneid_result *r;
		zoneid_query q = { .tzid = cases[i].tzid, .cdo = -1, .year_from = 1995,
				   .year_to = 2010 };

		g_assert_true(g_file_get_contents(path, &text, &len, NULL));
		cal = item_parse(text, len);
		for (v = icalcomponent_get_first_component(cal, ICAL_VTIMEZONE_COMPONENT); v;
		     v = icalcomponent_get_next_component(cal, ICAL_VTIMEZONE_COMPONENT))
			if (!strcmp(icalproperty_get_tzid(icalcomponent_get_first_property(
					    v, ICAL_TZID_PROPERTY)), cases[i].tzid))
				q.vtimezone = v;
		g_assert_nonnull(q.vtimezone);
		r = zoneid_identify(&q);
		if (g_strcmp0(r->zone, cases[i].zone))
			g_error("%s: %s, not %s", cases[i].file, r->zone, cases[i].zone);
		zoneid_result_free(r);
		icalcomponent_free(cal);
		g_free(text);
		g_free(path);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	tz_init();
	g_test_add_func("/tz/identify", test_identify);
	g_test_add_func("/tz/identify-mailbox-free", test_identify_mailbox_free);
	g_test_add_func("/tz/fixtures", test_fixtures);
	g_test_add_func("/tz/us-canada", test_us_canada);
	g_test_add_func("/tz/no-dst", test_no_dst_no_change);
	g_test_add_func("/tz/mexico-tijuana", test_mexico_and_tijuana);
	g_test_add_func("/tz/other-countries", test_other_countries);
	g_test_add_func("/tz/single-local", test_single_local);
	g_test_add_func("/tz/single-utc", test_single_utc);
	g_test_add_func("/tz/overrides-exdates", test_overrides_exdates);
	g_test_add_func("/tz/missing-vtimezone", test_missing_vtimezone);
	g_test_add_func("/tz/missing-vtimezones", test_missing_vtimezones);
	g_test_add_func("/tz/far-future", test_far_future);
	g_test_add_func("/tz/report-only", test_report_only);
	g_test_add_func("/tz/offsets-as-libical", test_offsets_as_libical);
	g_test_add_func("/tz/vtimezone-offsets-as-libical", test_vtimezone_offsets_as_libical);
	g_test_add_func("/tz/offsets-near-changes", test_offsets_near_changes);
	g_test_add_func("/tz/vtimezone-shared", test_vtimezone_shared);
	g_test_add_func("/tz/first-difference", test_first_difference);
	g_test_add_func("/tz/may-apply", test_may_apply);
	return g_test_run();
}
