/* Unit tests: track-status repair, rules T1-T5 and T7, and the fidelity of
 * the repaired text */
#include "item.h"
#include "render.h"
#include "repair.h"

#include <string.h>

#define HEAD "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Exchange//EN\r\n"
#define TAIL "END:VCALENDAR\r\n"

/* Repair text; return the repaired text (g_free) and the fixes. */
static char *repair(const char *text, const repair_context *ctx, GPtrArray **fixes_out)
{
	icalcomponent *cal = item_parse(text, strlen(text));
	GBytes *in = g_bytes_new(text, strlen(text));
	GPtrArray *fixes;
	GBytes *out;
	char *r;

	g_assert_nonnull(cal);
	fixes = repair_component(cal, ctx);
	out = repair_apply_text(in, fixes);
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

static repair_fix *fix(GPtrArray *fixes, guint i)
{
	g_assert_cmpuint(fixes->len, >, i);
	return fixes->pdata[i];
}

/* text with its folds undone */
static char *unfold(const char *text)
{
	GString *s = g_string_new(NULL);

	for (const char *p = text; *p; p++) {
		if (p[0] == '\r' && p[1] == '\n' && (p[2] == ' ' || p[2] == '\t')) {
			p += 2;
			continue;
		}
		g_string_append_c(s, *p);
	}
	return g_string_free(s, FALSE);
}

static void assert_line(const char *text, const char *line)
{
	char *l1 = g_strconcat("\n", line, "\r\n", NULL);
	char *u = unfold(text);

	if (!strstr(u, l1))
		g_error("'%s' not in:\n%s", line, text);
	g_free(l1);
	g_free(u);
}

static void assert_no_line(const char *text, const char *start)
{
	char *l1 = g_strconcat("\n", start, NULL);
	char *u = unfold(text);

	if (strstr(u, l1))
		g_error("'%s' should not be in:\n%s", start, text);
	g_free(l1);
	g_free(u);
}

/* Repairing what was repaired finds nothing more and changes nothing. */
static void assert_settled(const char *out)
{
	GPtrArray *again;
	char *out2 = repair(out, NULL, &again);

	g_assert_cmpuint(again->len, ==, 0);
	g_assert_cmpstr(out2, ==, out);
	g_ptr_array_unref(again);
	g_free(out2);
}

static void test_t1_sentinel(void)
{
	gint64 t;

	g_assert_false(repair_time_valid("16010101T000000Z", NULL));
	g_assert_false(repair_time_valid("16021023T001800Z", NULL));
	g_assert_false(repair_time_valid("18991231T235959Z", NULL));
	g_assert_true(repair_time_valid("19000101T000000Z", &t));
	g_assert_cmpint(t, ==, G_GINT64_CONSTANT(-2208988800));
	g_assert_true(repair_time_valid("20090920T183000Z", &t));
	g_assert_cmpint(t, ==, 1253471400);
	/* floating: a DATE-TIME, read as UTC */
	g_assert_true(repair_time_valid("20090920T183000", &t));
	g_assert_cmpint(t, ==, 1253471400);
	/* date-only is not a DATE-TIME */
	g_assert_false(repair_time_valid("20090920", NULL));
	g_assert_false(repair_time_valid("", NULL));
	g_assert_false(repair_time_valid(NULL, NULL));
	g_assert_false(repair_time_valid("garbage", NULL));
	g_assert_false(repair_time_valid("20091320T183000Z", NULL));
	g_assert_false(repair_time_valid("20090920T183000X", NULL));
	g_assert_false(repair_time_valid("2009-09-20T18:30:00Z", NULL));
	{
		char *f = repair_format_time(1253471400);

		g_assert_cmpstr(f, ==, "20090920T183000Z");
		g_free(f);
	}
}

#define EVENT(props) \
	HEAD "BEGIN:VEVENT\r\nUID:u1\r\n" props "END:VEVENT\r\n" TAIL

static void test_t2_to_dtstamp(void)
{
	GPtrArray *f;
	char *out = repair(EVENT("DTSTAMP:20090920T183000Z\r\n"
				 "X-MICROSOFT-CDO-ATTENDEE-CRITICAL-CHANGE:16010101T000000Z\r\n"), NULL, &f);

	assert_line(out, "X-MICROSOFT-CDO-ATTENDEE-CRITICAL-CHANGE:20090920T183000Z");
	g_assert_cmpint(fix(f, 0)->rule, ==, 2);
	g_assert_cmpint(fix(f, 0)->source, ==, REPAIR_FROM_DTSTAMP);
	g_ptr_array_unref(f);
	g_free(out);
}

static void test_t2_fallbacks(void)
{
	GPtrArray *f;
	char *out;

	/* DTSTAMP broken too: LAST-MODIFIED */
	out = repair(EVENT("DTSTAMP:16010101T000000Z\r\nLAST-MODIFIED:20090921T080000Z\r\n"
			   "CREATED:20090101T000000Z\r\n"
			   "X-MICROSOFT-CDO-ATTENDEE-CRITICAL-CHANGE:16010101T000000Z\r\n"), NULL, &f);
	assert_line(out, "X-MICROSOFT-CDO-ATTENDEE-CRITICAL-CHANGE:20090921T080000Z");
	g_assert_cmpint(fix(f, 0)->source, ==, REPAIR_FROM_LAST_MODIFIED);
	g_ptr_array_unref(f);
	g_free(out);
	/* no DTSTAMP at all, no LAST-MODIFIED: CREATED */
	out = repair(EVENT("CREATED:20090101T000000Z\r\n"
			   "X-MICROSOFT-CDO-ATTENDEE-CRITICAL-CHANGE:garbage\r\n"), NULL, &f);
	assert_line(out, "X-MICROSOFT-CDO-ATTENDEE-CRITICAL-CHANGE:20090101T000000Z");
	g_assert_cmpint(fix(f, 0)->source, ==, REPAIR_FROM_CREATED);
	g_ptr_array_unref(f);
	g_free(out);
	/* nothing valid: removed */
	out = repair(EVENT("DTSTAMP:16010101T000000Z\r\n"
			   "X-MICROSOFT-CDO-ATTENDEE-CRITICAL-CHANGE:16010101T000000Z\r\n"), NULL, &f);
	assert_no_line(out, "X-MICROSOFT-CDO-ATTENDEE-CRITICAL-CHANGE");
	g_assert_null(fix(f, 0)->new_value);
	g_assert_cmpint(fix(f, 0)->source, ==, REPAIR_REMOVED_NO_TIME);
	g_ptr_array_unref(f);
	g_free(out);
}

static void test_t2_reply_missing(void)
{
	GPtrArray *f;
	char *out;
	const char *reply = "BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\nUID:u1\r\n"
			    "DTSTAMP:20090920T183000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

	out = repair(reply, NULL, &f);
	assert_line(out, "X-MICROSOFT-CDO-ATTENDEE-CRITICAL-CHANGE:20090920T183000Z");
	g_assert_null(fix(f, 0)->old_value);
	g_ptr_array_unref(f);
	g_free(out);
	/* a PUBLISH without it: not touched */
	out = repair(EVENT("DTSTAMP:20090920T183000Z\r\n"), NULL, &f);
	g_assert_cmpuint(f->len, ==, 0);
	g_ptr_array_unref(f);
	g_free(out);
	/* a REPLY without it and without a valid time: nothing to add */
	out = repair("BEGIN:VCALENDAR\r\nMETHOD:COUNTER\r\nBEGIN:VEVENT\r\nUID:u1\r\n"
		     "DTSTAMP:16010101T000000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", NULL, &f);
	g_assert_cmpuint(f->len, ==, 0);
	g_ptr_array_unref(f);
	g_free(out);
}

static void test_t3(void)
{
	GPtrArray *f;
	char *out;

	out = repair(EVENT("DTSTAMP:20090920T183000Z\r\n"
			   "X-MICROSOFT-CDO-OWNER-CRITICAL-CHANGE:16010101T000000Z\r\n"), NULL, &f);
	assert_line(out, "X-MICROSOFT-CDO-OWNER-CRITICAL-CHANGE:20090920T183000Z");
	g_assert_cmpint(fix(f, 0)->rule, ==, 3);
	g_ptr_array_unref(f);
	g_free(out);
	/* in a REPLY, DTSTAMP is the attendee's time: LAST-MODIFIED instead */
	out = repair("BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\nUID:u1\r\n"
		     "DTSTAMP:20090920T183000Z\r\nLAST-MODIFIED:20090901T000000Z\r\n"
		     "X-MICROSOFT-CDO-ATTENDEE-CRITICAL-CHANGE:20090920T183000Z\r\n"
		     "X-MICROSOFT-CDO-OWNER-CRITICAL-CHANGE:16010101T000000Z\r\n"
		     "END:VEVENT\r\nEND:VCALENDAR\r\n", NULL, &f);
	assert_line(out, "X-MICROSOFT-CDO-OWNER-CRITICAL-CHANGE:20090901T000000Z");
	g_assert_cmpuint(f->len, ==, 1);
	g_ptr_array_unref(f);
	g_free(out);
	/* in a REPLY with only DTSTAMP: removed */
	out = repair("BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\nUID:u1\r\n"
		     "DTSTAMP:20090920T183000Z\r\n"
		     "X-MICROSOFT-CDO-ATTENDEE-CRITICAL-CHANGE:20090920T183000Z\r\n"
		     "X-MICROSOFT-CDO-OWNER-CRITICAL-CHANGE:16010101T000000Z\r\n"
		     "END:VEVENT\r\nEND:VCALENDAR\r\n", NULL, &f);
	assert_no_line(out, "X-MICROSOFT-CDO-OWNER-CRITICAL-CHANGE");
	g_ptr_array_unref(f);
	g_free(out);
}

static gboolean lookup(gpointer data, const char *uid, const char *attendee,
		       gint64 *when)
{
	(void)data;
	if (!strcmp(uid, "u1") && !g_ascii_strcasecmp(attendee, "mailto:bob@example.net")) {
		*when = 1253471400;	/* 2009-09-20T18:30:00Z */
		return TRUE;
	}
	return FALSE;
}

static void test_t4(void)
{
	repair_context ctx = { .reply_time = lookup };
	GPtrArray *f;
	char *out, *d;
	const char *in = EVENT(
		"DTSTAMP:20090915T000000Z\r\nLAST-MODIFIED:20090916T120000Z\r\n"
		"ATTENDEE;PARTSTAT=ACCEPTED;X-REPLYTIME=16010101T000000Z:mailto:bob@example.net\r\n"
		"ATTENDEE;PARTSTAT=TENTATIVE;X-REPLYTIME=16010101T000000Z:mailto:carol@example.net\r\n"
		"ATTENDEE;PARTSTAT=NEEDS-ACTION;X-REPLYTIME=16010101T000000Z;RSVP=TRUE:mailto:dave@example.net\r\n"
		"ATTENDEE;X-REPLYTIME=16010101T000000Z:mailto:erin@example.net\r\n"
		"ATTENDEE;PARTSTAT=DECLINED;X-REPLYTIME=20090917T101010Z:mailto:frank@example.net\r\n");

	out = repair(in, &ctx, &f);
	assert_line(out, "ATTENDEE;PARTSTAT=ACCEPTED;X-REPLYTIME=20090920T183000Z:mailto:bob@example.net");
	assert_line(out, "ATTENDEE;PARTSTAT=TENTATIVE;X-REPLYTIME=20090916T120000Z:mailto:carol@example.net");
	assert_line(out, "ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:dave@example.net");
	assert_line(out, "ATTENDEE:mailto:erin@example.net");
	assert_line(out, "ATTENDEE;PARTSTAT=DECLINED;X-REPLYTIME=20090917T101010Z:mailto:frank@example.net");
	g_assert_cmpuint(f->len, ==, 4);
	g_assert_cmpint(fix(f, 0)->source, ==, REPAIR_FROM_REPLY);
	g_assert_cmpint(fix(f, 1)->source, ==, REPAIR_FROM_LAST_MODIFIED);
	g_assert_cmpint(fix(f, 2)->source, ==, REPAIR_REMOVED_NO_RESPONSE);
	d = repair_describe(fix(f, 1));
	g_assert_cmpstr(d, ==, "X-REPLYTIME of mailto:carol@example.net: 1601-01-01 \u2192 "
			"2009-09-16T12:00:00Z (item LAST-MODIFIED, rule T4)");
	g_free(d);
	g_ptr_array_unref(f);
	g_free(out);

	/* no LAST-MODIFIED: DTSTAMP; DELEGATED counts as a response */
	out = repair(EVENT("DTSTAMP:20090915T000000Z\r\n"
			   "ATTENDEE;PARTSTAT=DELEGATED;X-REPLYTIME=19000101:mailto:g@example.net\r\n"),
		     NULL, &f);
	assert_line(out, "ATTENDEE;PARTSTAT=DELEGATED;X-REPLYTIME=20090915T000000Z:mailto:g@example.net");
	g_ptr_array_unref(f);
	g_free(out);
}

/* libical drops blanks between a property's name and its ';' or ':', so
 * a repair it finds on such a line is one the text edit must make */
static void test_t4_blank_after_name(void)
{
	GPtrArray *f;
	char *out;

	out = repair(EVENT("DTSTAMP:20090915T000000Z\r\n"
			   "ATTENDEE\f;PARTSTAT=ACCEPTED;X-REPLYTIME=16010101T000000Z"
			   ":mailto:h@example.net\r\n"
			   "ATTENDEE \t;PARTSTAT=NEEDS-ACTION;X-REPLYTIME=16010101T000000Z"
			   ":mailto:i@example.net\r\n"), NULL, &f);
	g_assert_cmpuint(f->len, ==, 2);
	assert_line(out, "ATTENDEE\f;PARTSTAT=ACCEPTED;X-REPLYTIME=20090915T000000Z"
		    ":mailto:h@example.net");
	assert_line(out, "ATTENDEE \t;PARTSTAT=NEEDS-ACTION:mailto:i@example.net");
	g_assert_null(strstr(out, "1601"));
	g_ptr_array_unref(f);
	g_free(out);
}

static void test_t5(void)
{
	GPtrArray *f;
	char *out;

	out = repair(EVENT("DTSTAMP:20090915T000000Z\r\n"
			   "X-MICROSOFT-CDO-ATTENDEE-CRITICAL-CHANGE:20090916T000000Z\r\n"
			   "X-MICROSOFT-CDO-REPLYTIME:16010101T000000Z\r\n"
			   "X-MS-OLK-APPTSEQTIME:16010101T000000Z\r\n"), NULL, &f);
	assert_line(out, "X-MICROSOFT-CDO-REPLYTIME:20090916T000000Z");
	assert_line(out, "X-MS-OLK-APPTSEQTIME:20090916T000000Z");
	g_assert_cmpint(fix(f, 0)->rule, ==, 5);
	g_assert_cmpint(fix(f, 0)->source, ==, REPAIR_FROM_CRITICAL_CHANGE);
	g_ptr_array_unref(f);
	g_free(out);
	/* the critical change is broken too: it is repaired first (T2) */
	out = repair(EVENT("DTSTAMP:20090915T000000Z\r\n"
			   "X-MICROSOFT-CDO-ATTENDEE-CRITICAL-CHANGE:16010101T000000Z\r\n"
			   "X-MICROSOFT-CDO-REPLYTIME:16010101T000000Z\r\n"), NULL, &f);
	assert_line(out, "X-MICROSOFT-CDO-REPLYTIME:20090915T000000Z");
	g_assert_cmpuint(f->len, ==, 2);
	g_ptr_array_unref(f);
	g_free(out);
	/* no valid time anywhere: removed */
	out = repair(EVENT("X-MS-OLK-APPTSEQTIME:16010101T000000Z\r\n"), NULL, &f);
	assert_no_line(out, "X-MS-OLK-APPTSEQTIME");
	g_ptr_array_unref(f);
	g_free(out);
}

/* a and b have the same lines but for changed lines replaced in place. */
static void assert_only_changed(const char *a, const char *b, int changed)
{
	char **la = g_strsplit(a, "\r\n", -1), **lb = g_strsplit(b, "\r\n", -1);
	int differ = 0;

	g_assert_cmpuint(g_strv_length(la), ==, g_strv_length(lb));
	for (int i = 0; la[i]; i++)
		differ += strcmp(la[i], lb[i]) != 0;
	g_assert_cmpint(differ, ==, changed);
	g_strfreev(la);
	g_strfreev(lb);
}

static void test_t7_fidelity(void)
{
	/* odd but legal details that must survive: lower-case names, a fold
	 * with a tab, an unknown X- property, odd order, overrides */
	const char *in =
		HEAD "BEGIN:VTIMEZONE\r\nTZID:W\r\nBEGIN:STANDARD\r\nDTSTART:16010101T000000\r\n"
		"TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
		"BEGIN:VEVENT\r\nsummary:Long summary that is folded over\r\n\ttwo lines\r\n"
		"UID:u1\r\nX-UNKNOWN;P=\"a:b\":value\r\nDTSTAMP:20090915T000000Z\r\n"
		"DTSTART;TZID=W:20090920T100000\r\n"
		"X-MICROSOFT-CDO-OWNER-CRITICAL-CHANGE:16010101T000000Z\r\n"
		"BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\n"
		"END:VEVENT\r\n"
		"BEGIN:VEVENT\r\nUID:u1\r\nRECURRENCE-ID;TZID=W:20090927T100000\r\n"
		"DTSTAMP:20090918T000000Z\r\n"
		"X-MICROSOFT-CDO-OWNER-CRITICAL-CHANGE:16010101T000000Z\r\n"
		"END:VEVENT\r\n" TAIL;
	GPtrArray *f;
	char *out = repair(in, NULL, &f), *d;

	g_assert_cmpuint(f->len, ==, 2);
	g_assert_cmpint(fix(f, 1)->comp, ==, 1);
	assert_only_changed(in, out, 2);
	g_assert_nonnull(strstr(out, "summary:Long summary that is folded over\r\n\ttwo lines\r\n"));
	g_assert_nonnull(strstr(out, "X-UNKNOWN;P=\"a:b\":value\r\n"));
	g_assert_nonnull(strstr(out, "RECURRENCE-ID;TZID=W:20090927T100000\r\n"
				"DTSTAMP:20090918T000000Z\r\n"
				"X-MICROSOFT-CDO-OWNER-CRITICAL-CHANGE:20090918T000000Z\r\n"));
	g_assert_null(strstr(out, "CRITICAL-CHANGE:1601"));
	g_assert_nonnull(strstr(out, "BEGIN:VTIMEZONE\r\nTZID:W\r\nBEGIN:STANDARD\r\n"
				"DTSTART:16010101T000000\r\n"));
	d = repair_describe(fix(f, 1));
	g_assert_cmpstr(d, ==, "X-MICROSOFT-CDO-OWNER-CRITICAL-CHANGE (RECURRENCE-ID "
			"20090927T100000): 1601-01-01 \u2192 2009-09-18T00:00:00Z "
			"(item DTSTAMP, rule T3)");
	g_free(d);
	/* idempotent: the repaired text needs nothing more */
	assert_settled(out);
	g_ptr_array_unref(f);
	g_free(out);
}

static void test_folded_attendee(void)
{
	/* the broken time is split over a fold, as in real Exchange files */
	const char *in = HEAD "BEGIN:VEVENT\r\nUID:u1\r\nDTSTAMP:20090915T000000Z\r\n"
		"ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;X-REPLYTIME=16021023\r\n"
		" T001800Z;RSVP=TRUE;CN=\"'meher.t@gmail.com'\":MAILTO:meher.t@gmail.com\r\n"
		"END:VEVENT\r\n" TAIL;
	GPtrArray *f;
	char *out = repair(in, NULL, &f);

	g_assert_cmpuint(f->len, ==, 1);
	g_assert_null(strstr(out, "X-REPLYTIME"));
	g_assert_nonnull(strstr(out, "ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE;CN=\"'meher.t@\r\n"
				" gmail.com'\":MAILTO:meher.t@gmail.com\r\n"));
	g_ptr_array_unref(f);
	g_free(out);
}

static void test_copies(void)
{
	/* a property that should appear once appears twice (found by make
	 * fuzz): every copy is repaired in one pass, the middle one of three
	 * X-REPLYTIMEs of one attendee included */
	const char *in = HEAD "BEGIN:VEVENT\r\nUID:u1\r\nDTSTAMP:20090915T000000Z\r\n"
		/* an empty copy libical drops: it does not count */
		"X-MICROSOFT-CDO-OWNER-CRITICAL-CHANGE:\r\n"
		"X-MICROSOFT-CDO-OWNER-CRITICAL-CHANGE:16010101T000000Z\r\n"
		"ATTENDEE;PARTSTAT=ACCEPTED;X-REPLYTIME=20090901T000000Z:mailto:h@x\r\n"
		"ATTENDEE;PARTSTAT=ACCEPTED;X-REPLYTIME=16010101T000000Z:mailto:h@x\r\n"
		"ATTENDEE;PARTSTAT=NEEDS-ACTION;X-REPLYTIME=16010101T000000Z:mailto:H@x\r\n"
		"X-MICROSOFT-CDO-OWNER-CRITICAL-CHANGE:garbage\r\n"
		"X-MICROSOFT-CDO-REPLYTIME:16010101T000000Z\r\n"
		"X-MICROSOFT-CDO-REPLYTIME:16010101T000000Z\r\n"
		"END:VEVENT\r\n" TAIL;
	GPtrArray *f;
	char *out = repair(in, NULL, &f);

	g_assert_cmpuint(f->len, ==, 6);
	g_assert_cmpint(fix(f, 1)->ordinal, ==, 1);
	g_assert_null(strstr(out, "1601"));
	g_assert_null(strstr(out, "garbage"));
	assert_line(out, "ATTENDEE;PARTSTAT=ACCEPTED;X-REPLYTIME=20090901T000000Z:mailto:h@x");
	assert_line(out, "ATTENDEE;PARTSTAT=ACCEPTED;X-REPLYTIME=20090915T000000Z:mailto:h@x");
	assert_line(out, "ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:H@x");
	assert_line(out, "X-MICROSOFT-CDO-OWNER-CRITICAL-CHANGE:");
	assert_settled(out);
	g_ptr_array_unref(f);
	g_free(out);
}

#define ACC "X-MICROSOFT-CDO-ATTENDEE-CRITICAL-CHANGE"
#define OCC "X-MICROSOFT-CDO-OWNER-CRITICAL-CHANGE"
#define CDO_REPLYTIME "X-MICROSOFT-CDO-REPLYTIME"
#define OLK_SEQTIME "X-MS-OLK-APPTSEQTIME"

static void may(gboolean expected, const char *text)
{
	if (repair_may_apply(text, strlen(text)) != expected)
		g_error("repair_may_apply should be %d on:\n%s", expected, text);
}

static void test_may_apply(void)
{
	/* nothing the rules read, or all of it valid: no parse */
	may(FALSE, EVENT("DTSTAMP:20090915T000000Z\r\nSUMMARY:x\r\n"));
	may(FALSE, EVENT("x-microsoft-cdo-busystatus:BUSY\r\n"));
	may(FALSE, EVENT(ACC ":20090915T000000Z\r\n" OCC ":20090915T000000Z\r\n"));
	may(FALSE, EVENT("ATTENDEE;X-REPLYTIME=20090915T000000Z;PARTSTAT=ACCEPTED:mailto:a@x\r\n"
			 "ATTENDEE;X-REPLYTIME=\"20090915T000000Z\":mailto:b@x\r\n"));
	may(FALSE, EVENT("DESCRIPTION:the X-REPLYTIME=1601 of a description\r\n"));
	/* a time to repair, however it is written */
	may(TRUE, EVENT(OCC ":16010101T000000Z\r\n"));
	may(TRUE, EVENT("x-microsoft-cdo-owner-critical-change:16010101T000000Z\r\n"));
	may(TRUE, EVENT(ACC ":2009\r\n 0915T000000Z garbage\r\n"));
	may(TRUE, EVENT(CDO_REPLYTIME ":\r\n"));
	may(TRUE, EVENT(OLK_SEQTIME ":x\r\n"));
	may(TRUE, EVENT("ATTENDEE;PARTSTAT=ACCEPTED;X-REPLY\r\n TIME=16010101T000000Z:mailto:a@x\r\n"));
	may(TRUE, EVENT("ATTENDEE;x-replytime=\"16010101T000000Z\":mailto:a@x\r\n"));
	/* a form the quick look does not read: libical's parse does */
	may(TRUE, EVENT(ACC ";X-A=1:20090915T000000Z\r\n"));
	/* folds are read as libical reads them */
	may(FALSE, EVENT(ACC "\r\n :2009\r\n\t0915T000000Z\r\n"));
	/* a reply, where T2 adds its time */
	may(TRUE, "BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\nUID:a\r\n"
		  "END:VEVENT\r\nEND:VCALENDAR\r\n");
	may(TRUE, "BEGIN:VCALENDAR\r\nmethod:Counter\r\nBEGIN:VEVENT\r\nUID:a\r\n"
		  "END:VEVENT\r\nEND:VCALENDAR\r\n");
	may(FALSE, "BEGIN:VCALENDAR\r\nMETHOD:PUBLISH\r\nBEGIN:VEVENT\r\nUID:a\r\n"
		   "END:VEVENT\r\nEND:VCALENDAR\r\n");
}

/* render_key: the SHA-1 of the text that names what a rendering depends
 * on (stores keep it: calfs fix's verdicts), the same when asked again
 * from the keys it keeps, and after more distinct ones than it keeps. */
static void test_render_key(void)
{
	enum { N = 20 };
	char *first[N];

	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < N; i++) {
			render_options o = { .repair = i % 3 != 0, .rebase = TRUE };
			const char *zone = i % 2 ? "America/Chicago" : NULL;
			char *text, *want, *key;

			o.tz.report_only = i % 5 == 0;
			o.tz.created_before = i / 2;
			text = g_strdup_printf("calfs-render-3|%d|%d|0|%d|%d|%s|%s", o.repair,
					       o.rebase, o.tz.report_only, i / 2,
					       tz_tzdata_version(), zone ? zone : "");
			want = g_compute_checksum_for_string(G_CHECKSUM_SHA1, text, -1);
			key = render_key(&o, zone);
			g_assert_cmpstr(key, ==, want);
			if (round == 0)
				first[i] = key;
			else
				g_free(key);
			g_free(want);
			g_free(text);
		}
	}
	for (int i = 0; i < N; i++)
		for (int j = i + 1; j < N; j++)
			g_assert_cmpstr(first[i], !=, first[j]);
	for (int i = 0; i < N; i++)
		g_free(first[i]);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/repair/t1-sentinel", test_t1_sentinel);
	g_test_add_func("/repair/t2-dtstamp", test_t2_to_dtstamp);
	g_test_add_func("/repair/t2-fallbacks", test_t2_fallbacks);
	g_test_add_func("/repair/t2-reply-missing", test_t2_reply_missing);
	g_test_add_func("/repair/t3", test_t3);
	g_test_add_func("/repair/t4", test_t4);
	g_test_add_func("/repair/t4-blank-after-name", test_t4_blank_after_name);
	g_test_add_func("/repair/t5", test_t5);
	g_test_add_func("/repair/t7-fidelity", test_t7_fidelity);
	g_test_add_func("/repair/folded-attendee", test_folded_attendee);
	g_test_add_func("/repair/copies", test_copies);
	g_test_add_func("/repair/may-apply", test_may_apply);
	g_test_add_func("/render/key", test_render_key);
	return g_test_run();
}
