/* test_mend.c - the mends of real exports' damage (mend.h) */
#include "mend.h"
#include "item.h"
#include "tz.h"

#include <string.h>

/* mend text; its notes, joined with '|', in *notes */
static char *mend(const char *text, char **notes)
{
	GBytes *in = g_bytes_new(text, strlen(text));
	GPtrArray *n = g_ptr_array_new_with_free_func(g_free);
	GBytes *out = mend_text(in, n);
	char *s = g_strndup(g_bytes_get_data(out, NULL), g_bytes_get_size(out));

	g_ptr_array_add(n, NULL);
	*notes = g_strjoinv("|", (char **)n->pdata);
	g_ptr_array_unref(n);
	g_bytes_unref(out);
	g_bytes_unref(in);
	return s;
}

#define HEAD "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n"
#define TAIL "END:VCALENDAR\r\n"

static void test_untouched(void)
{
	const char *text = HEAD "BEGIN:VEVENT\r\nUID:a\r\nDTSTAMP:20200101T000000Z\r\n"
		"DTSTART;TZID=\"(UTC+01:00) Amsterdam\":20200101T100000\r\n"
		"DESCRIPTION:two\r\n  spaces in text are kept\r\nEND:VEVENT\r\n" TAIL;
	GBytes *in = g_bytes_new_static(text, strlen(text));
	GBytes *out = mend_text(in, NULL);

	g_assert_true(out == in);	/* the same bytes, not a copy */
	g_bytes_unref(out);
	g_bytes_unref(in);
}

/* Exchange 2003: a bare line break before the value, two-space folds */
static void test_line_damage(void)
{
	char *notes, *out = mend(HEAD "BEGIN:VEVENT\r\n"
				 "UID:040000008200E00074C5B7101A82E008000000\r\n  0100000008BF7840\r\n"
				 "DTSTAMP:20200101T000000Z\r\n"
				 "ATTENDEE;RSVP=TRUE;CN=\"MHMN002\"\r\n:\r\n  MAILTO:mhmn002@example.com\r\n"
				 "ATTENDEE;CN=John\r\n  Smith:mailto:js@example.com\r\n"
				 "END:VEVENT\r\n" TAIL, &notes);
	char *uid = NULL;

	g_assert_nonnull(strstr(out, "\r\nATTENDEE;RSVP=TRUE;CN=\"MHMN002\":MAILTO:mhmn002@example.com\r\n"));
	/* a fold in the parameters keeps its space: a name has them */
	g_assert_nonnull(strstr(out, "ATTENDEE;CN=John\r\n  Smith:mailto:js@example.com\r\n"));
	g_assert_true(item_check(out, strlen(out), ITEM_CHECK_STRICT, &uid, NULL, NULL));
	g_assert_cmpstr(uid, ==, "040000008200E00074C5B7101A82E0080000000100000008BF7840");
	g_assert_nonnull(strstr(notes, "UID: the space a fold of two spaces left in its value"
				" removed (rule L1)"));
	g_assert_nonnull(strstr(notes, "ATTENDEE: a line break before its value joined (rule L1)"));
	g_free(uid);
	g_free(notes);
	g_free(out);
}

static void test_tzid_quote(void)
{
	char *notes, *out = mend(HEAD "BEGIN:VEVENT\r\nUID:a\r\nDTSTAMP:20200101T000000Z\r\n"
				 "DTSTART;TZID=\"W. Europe Standard Time:20200609T090000\"\r\n"
				 "DTEND;TZID=\"W. Europe Standard Time:20200609T093000\r\n"
				 "END:VEVENT\r\n" TAIL, &notes);

	g_assert_nonnull(strstr(out, "DTSTART;TZID=\"W. Europe Standard Time\":20200609T090000\r\n"));
	g_assert_nonnull(strstr(out, "DTEND;TZID=\"W. Europe Standard Time\":20200609T093000\r\n"));
	g_assert_true(item_check(out, strlen(out), ITEM_CHECK_STRICT, NULL, NULL, NULL));
	g_assert_nonnull(strstr(notes, "DTSTART: the quote of its TZID parameter closed before the"
				" value (rule L2)"));
	g_free(notes);
	g_free(out);
}

static void test_tzid_text(void)
{
	char *notes, *out = mend(HEAD "BEGIN:VTIMEZONE\r\nTZID:Kuala Lumpur\\, Singapore\r\n"
				 "BEGIN:STANDARD\r\nDTSTART:16010101T000000\r\nTZOFFSETFROM:+0800\r\n"
				 "TZOFFSETTO:+0800\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
				 "BEGIN:VEVENT\r\nUID:a\r\nDTSTAMP:20200101T000000Z\r\n"
				 "DTSTART;TZID=\"Kuala Lumpur, Singapore\":20081031T093000\r\n"
				 "END:VEVENT\r\n" TAIL, &notes);

	g_assert_nonnull(strstr(out, "\r\nTZID:Kuala Lumpur, Singapore\r\n"));
	g_assert_nonnull(strstr(notes, "(rule L3)"));
	g_free(notes);
	g_free(out);
}

static void test_floating_exceptions(void)
{
	char *notes, *out = mend(HEAD "BEGIN:VEVENT\r\nUID:a\r\nDTSTAMP:20200101T000000Z\r\n"
				 "EXDATE:20260403T110000\r\nEXDATE:20260410T090000Z\r\n"
				 "EXDATE;VALUE=DATE:20260417\r\n"
				 "RRULE:FREQ=WEEKLY;BYDAY=FR\r\n"
				 "DTSTART;TZID=W. Europe Standard Time:20260123T110000\r\n"
				 "END:VEVENT\r\n" TAIL, &notes);

	g_assert_nonnull(strstr(out, "EXDATE;TZID=W. Europe Standard Time:20260403T110000\r\n"));
	g_assert_nonnull(strstr(out, "EXDATE:20260410T090000Z\r\n"));	/* UTC: left */
	g_assert_nonnull(strstr(out, "EXDATE;VALUE=DATE:20260417\r\n"));
	g_assert_cmpstr(notes, ==, "EXDATE 20260403T110000: given the TZID \"W. Europe Standard"
			" Time\" of the DTSTART (rule L4)");
	g_free(notes);
	g_free(out);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	tz_init();
	g_test_add_func("/mend/untouched", test_untouched);
	g_test_add_func("/mend/line-damage", test_line_damage);
	g_test_add_func("/mend/tzid-quote", test_tzid_quote);
	g_test_add_func("/mend/tzid-text", test_tzid_text);
	g_test_add_func("/mend/floating-exceptions", test_floating_exceptions);
	return g_test_run();
}
