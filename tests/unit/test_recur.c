/* Unit tests: recur.c gives the occurrences libical's iterator gives, on
 * every rule it says it handles, and says no to the others. */
#include "recur.h"

#include <string.h>

#define LAST_YEAR 2037
#define MAX_OCC 2000

/* libical's answer, as tz.c asked it before recur.c */
static GArray *libical(const struct icalrecurrencetype *r, struct icaltimetype start)
{
	GArray *out = g_array_new(FALSE, FALSE, sizeof(struct icaltimetype));

	recur_expand_libical(r, start, MAX_OCC, LAST_YEAR, out);
	return out;
}

static char *show(struct icaltimetype t)
{
	return g_strdup_printf("%04d%02d%02dT%02d%02d%02d", t.year, t.month, t.day,
			       t.hour, t.minute, t.second);
}

static guint compared;	/* rules recur.c handled, in agrees() */

/* Whether recur.c and libical agree on rule text from start (TRUE when
 * recur.c leaves the rule to libical); both lists are printed when they
 * differ. */
static gboolean agrees(const char *text, struct icaltimetype start)
{
	struct icalrecurrencetype r = icalrecurrencetype_from_string(text);
	GArray *mine = g_array_new(FALSE, FALSE, sizeof(struct icaltimetype)), *theirs;
	gboolean same;

	if (!recur_expand(&r, start, MAX_OCC, LAST_YEAR, mine)) {
		g_assert_cmpuint(mine->len, ==, 0);
		g_array_unref(mine);
		return TRUE;
	}
	compared++;
	theirs = libical(&r, start);
	same = mine->len == theirs->len;
	for (guint i = 0; same && i < mine->len; i++) {
		char *a = show(g_array_index(mine, struct icaltimetype, i));
		char *b = show(g_array_index(theirs, struct icaltimetype, i));

		same = !strcmp(a, b);
		if (!same)
			g_test_message("%s from %s: #%u: recur.c %s, libical %s", text,
				       icaltime_as_ical_string(start), i, a, b);
		g_free(a);
		g_free(b);
	}
	if (mine->len != theirs->len)
		g_test_message("%s from %s: recur.c %u occurrences, libical %u", text,
			       icaltime_as_ical_string(start), mine->len, theirs->len);
	g_array_unref(mine);
	g_array_unref(theirs);
	return same;
}

static struct icaltimetype at(const char *text)
{
	return icaltime_from_string(text);
}

static void test_examples(void)
{
	static const char *const rules[] = {
		"FREQ=WEEKLY;COUNT=15;BYDAY=WE",
		"FREQ=WEEKLY;BYDAY=MO,WE,FR",
		"FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH;WKST=SU",
		"FREQ=WEEKLY;UNTIL=20081231T235959Z;BYDAY=TU",
		"FREQ=WEEKLY;INTERVAL=2;UNTIL=20080301T090000Z",
		"FREQ=DAILY;COUNT=10",
		"FREQ=DAILY;INTERVAL=3;UNTIL=20070601T000000",
		"FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR",
		"FREQ=MONTHLY;BYMONTHDAY=31",
		"FREQ=MONTHLY;INTERVAL=2;BYMONTHDAY=1,15",
		"FREQ=MONTHLY;COUNT=24",
		"FREQ=YEARLY",
		"FREQ=YEARLY;INTERVAL=4;COUNT=5",
		"FREQ=YEARLY;BYMONTH=3;BYDAY=2SU",
		"FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
		"FREQ=YEARLY;BYDAY=1SU;BYMONTH=4;UNTIL=20060402T070000Z",
		"FREQ=YEARLY;INTERVAL=2;BYMONTH=2;BYDAY=4FR;COUNT=6",
	};
	/* a Wednesday, a Monday at the end of a month, a 29 February */
	static const char *const starts[] = {
		"20070307T090000", "20070430T170000", "20080229T083000", "19991231T233000",
	};

	compared = 0;
	for (guint i = 0; i < G_N_ELEMENTS(rules); i++)
		for (guint k = 0; k < G_N_ELEMENTS(starts); k++)
			g_assert_true(agrees(rules[i], at(starts[k])));
	/* all but every other week on Tuesday and Thursday */
	g_assert_cmpuint(compared, ==, (G_N_ELEMENTS(rules) - 1) * G_N_ELEMENTS(starts));
}

/* The observances of VTIMEZONEs, from the starts they are written with
 * (Outlook's 1601, tzinfo.c's 1900, a tzdata rule's first year). */
static void test_vtimezone_rules(void)
{
	static const char *const rules[] = {
		"FREQ=YEARLY;BYDAY=2SU;BYMONTH=3",
		"FREQ=YEARLY;BYDAY=1SU;BYMONTH=11",
		"FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10",
		"FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3",
		"FREQ=YEARLY;BYDAY=1SU;BYMONTH=4;UNTIL=20060402T070000Z",
		"FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10;UNTIL=20061029T060000Z",
		"FREQ=YEARLY;BYDAY=3FR;BYMONTH=9",
	};
	static const char *const starts[] = {
		"16010101T000000", "16011028T020000", "19000311T020000", "19001104T020000",
		"20070311T020000", "20071104T020000", "19870405T020000", "19671029T020000",
	};

	compared = 0;
	for (guint i = 0; i < G_N_ELEMENTS(rules); i++)
		for (guint k = 0; k < G_N_ELEMENTS(starts); k++)
			g_assert_true(agrees(rules[i], at(starts[k])));
	g_assert_cmpuint(compared, ==, G_N_ELEMENTS(rules) * G_N_ELEMENTS(starts));
}

/* Many random rules of the kinds handled, against libical. */
static void test_random(void)
{
	static const char *const days[] = { "SU", "MO", "TU", "WE", "TH", "FR", "SA" };
	static const char *const freqs[] = { "DAILY", "WEEKLY", "MONTHLY", "YEARLY" };
	GRand *rand = g_rand_new_with_seed(17);
	guint wrong = 0;

	compared = 0;
	for (int n = 0; n < 3000; n++) {
		GString *s = g_string_new("FREQ=");
		int f = g_rand_int_range(rand, 0, 4);
		struct icaltimetype start = icaltime_null_time();

		g_string_append(s, freqs[f]);
		if (g_rand_boolean(rand))
			g_string_append_printf(s, ";INTERVAL=%d", g_rand_int_range(rand, 1, 5));
		switch (g_rand_int_range(rand, 0, 3)) {
		case 0:
			g_string_append_printf(s, ";COUNT=%d", g_rand_int_range(rand, 1, 90));
			break;
		case 1:
			g_string_append_printf(s, ";UNTIL=%04d%02d%02dT%02d%02d00%s",
					       g_rand_int_range(rand, 1996, 2040),
					       g_rand_int_range(rand, 1, 13),
					       g_rand_int_range(rand, 1, 29),
					       g_rand_int_range(rand, 0, 24),
					       g_rand_int_range(rand, 0, 60),
					       g_rand_boolean(rand) ? "Z" : "");
			break;
		}
		if (f <= 1 && g_rand_boolean(rand)) {
			int first = g_rand_int_range(rand, 0, 7), k = g_rand_int_range(rand, 1, 4);

			g_string_append(s, ";BYDAY=");
			for (int i = 0; i < k; i++)
				g_string_append_printf(s, "%s%s", i ? "," : "",
						       days[(first + 2 * i) % 7]);
		}
		if (f == 1 && g_rand_boolean(rand))
			g_string_append_printf(s, ";WKST=%s", days[g_rand_int_range(rand, 0, 7)]);
		if (f == 3 && g_rand_boolean(rand)) {	/* a VTIMEZONE's rule */
			static const int pos[] = { 1, 2, 3, 4, -1 };

			g_string_append_printf(s, ";BYMONTH=%d;BYDAY=%d%s",
					       g_rand_int_range(rand, 1, 13),
					       pos[g_rand_int_range(rand, 0, 5)],
					       days[g_rand_int_range(rand, 0, 7)]);
		}
		if (f == 2 && g_rand_boolean(rand)) {
			int a = g_rand_int_range(rand, 1, 32), b = g_rand_int_range(rand, 1, 32);

			g_string_append_printf(s, ";BYMONTHDAY=%d,%d", a, b);
		}
		start.year = g_rand_int_range(rand, 1995, 2031);
		start.month = g_rand_int_range(rand, 1, 13);
		start.day = g_rand_int_range(rand, 1, 29) + (g_rand_int_range(rand, 0, 4) == 0
							      ? g_rand_int_range(rand, 0, 3) : 0);
		start.day = MIN(start.day, icaltime_days_in_month(start.month, start.year));
		start.hour = g_rand_int_range(rand, 0, 24);
		start.minute = 15 * g_rand_int_range(rand, 0, 4);
		wrong += !agrees(s->str, start);
		g_string_free(s, TRUE);
	}
	g_rand_free(rand);
	g_assert_cmpuint(wrong, ==, 0);
	g_assert_cmpuint(compared, >, 2400);	/* most were compared */
}

static void test_declines(void)
{
	static const char *const rules[] = {
		"FREQ=MONTHLY;BYDAY=2TU",
		"FREQ=MONTHLY;BYDAY=-1FR",
		"FREQ=MONTHLY;BYMONTHDAY=-1",
		"FREQ=YEARLY;BYMONTH=3;BYDAY=5SU",
		"FREQ=YEARLY;BYMONTH=3,10;BYDAY=2SU",
		"FREQ=YEARLY;BYMONTH=3;BYDAY=2SU,-1SU",
		"FREQ=YEARLY;BYMONTH=3",
		"FREQ=WEEKLY;BYDAY=MO;BYSETPOS=1",
		"FREQ=DAILY;BYHOUR=9,17",
		"FREQ=WEEKLY;UNTIL=20080101",
		"FREQ=HOURLY;COUNT=3",
	};
	GArray *out = g_array_new(FALSE, FALSE, sizeof(struct icaltimetype));

	for (guint i = 0; i < G_N_ELEMENTS(rules); i++) {
		struct icalrecurrencetype r = icalrecurrencetype_from_string(rules[i]);

		g_assert_false(recur_handles(&r, at("20070307T090000")));
		g_assert_false(recur_expand(&r, at("20070307T090000"), MAX_OCC, LAST_YEAR, out));
	}
	{	/* a date start is not a date-time */
		struct icalrecurrencetype r = icalrecurrencetype_from_string("FREQ=DAILY");

		g_assert_false(recur_handles(&r, at("20070307")));
	}
	g_assert_cmpuint(out->len, ==, 0);
	g_array_unref(out);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	icalerror_set_errors_are_fatal(0);
	g_test_add_func("/recur/examples", test_examples);
	g_test_add_func("/recur/vtimezone-rules", test_vtimezone_rules);
	g_test_add_func("/recur/random", test_random);
	g_test_add_func("/recur/declines", test_declines);
	return g_test_run();
}
