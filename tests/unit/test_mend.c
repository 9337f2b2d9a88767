/* test_mend.c - the mends of real exports' damage (mend.h) */
#include "ictext.h"
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

/* L3: a VTIMEZONE's TZID line written as the parameters name the zone,
 * unless libical would then read another TZID (make fuzz: it reads "\i"
 * as a space) */
static void test_tzid_text(void)
{
	static const struct {
		const char *line, *param, *want;	/* want NULL: left as it is */
	} cases[] = {
		{ "Kuala Lumpur\\, Singapore", "\"Kuala Lumpur, Singapore\"", "Kuala Lumpur, Singapore" },
		{ "Pacific \\\\ime", "\"Pacific \\ime\"", NULL },
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *text = g_strdup_printf(HEAD "BEGIN:VTIMEZONE\r\nTZID:%s\r\n"
					     "BEGIN:STANDARD\r\nDTSTART:16010101T000000\r\n"
					     "TZOFFSETFROM:+0800\r\nTZOFFSETTO:+0800\r\nEND:STANDARD\r\n"
					     "END:VTIMEZONE\r\nBEGIN:VEVENT\r\nUID:a\r\n"
					     "DTSTAMP:20200101T000000Z\r\n"
					     "DTSTART;TZID=%s:20081031T093000\r\nEND:VEVENT\r\n" TAIL,
					     cases[i].line, cases[i].param);
		char *notes, *out = mend(text, &notes);
		char *line = g_strdup_printf("\r\nTZID:%s\r\n",
					     cases[i].want ? cases[i].want : cases[i].line);

		g_assert_nonnull(strstr(out, line));
		g_assert_true(!strstr(notes, "(rule L3)") == !cases[i].want);
		g_free(line);
		g_free(notes);
		g_free(out);
		g_free(text);
	}
}

/* make fuzz: a fold before a space made a line that begins with two
 * spaces, which L1 mends in an ATTENDEE, so each reading changed it */
static void test_fold_before_space(void)
{
	char *a62 = g_strnfill(62, 'a');
	char *text = g_strconcat("ATTENDEE;CN=", a62, "  b \u00e9\u00e9 c:mailto:a@example.com", NULL);
	GString *out = g_string_new(NULL);
	char **lines;
	GString *unfolded = g_string_new(NULL);

	ictext_append_folded(out, text, "\r\n");
	g_assert_null(strstr(out->str, "\r\n  "));
	lines = g_strsplit(out->str, "\r\n", -1);
	for (int i = 0; lines[i] && *lines[i]; i++) {
		g_assert_cmpuint(strlen(lines[i]), <=, 75);
		g_string_append(unfolded, lines[i] + (i > 0));
	}
	g_assert_cmpstr(unfolded->str, ==, text);
	g_strfreev(lines);
	g_string_free(unfolded, TRUE);
	g_string_free(out, TRUE);
	g_free(text);
	g_free(a62);
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

/* Exchange 2007: a fold that lost its space; a blank line */
static void test_lost_fold(void)
{
	char *notes, *out = mend(HEAD "BEGIN:VEVENT\r\nUID:a\r\nDTSTAMP:20200101T000000Z\r\n"
				 "DESCRIPTION:the first part of a long text that a writer broke at 75 oct\r\n"
				 "ets and the rest of it\r\n"
				 "\r\n"
				 "COMMENT:short\r\nnot joined: the line before was not folded\r\n"
				 "END:VEVENT\r\n" TAIL, &notes);

	/* the space of a fold is not text: joined as unfolding would */
	char **folds = g_strsplit(out, "\r\n ", -1);
	char *unfolded = g_strjoinv("", folds);

	g_assert_nonnull(strstr(unfolded, "DESCRIPTION:the first part of a long text that a writer"
				" broke at 75 octets and the rest of it\r\n"));
	g_free(unfolded);
	g_strfreev(folds);
	g_assert_nonnull(strstr(out, "\r\nCOMMENT:short\r\nnot joined: "));
	g_assert_null(strstr(out, "\r\n\r\n"));
	g_assert_nonnull(strstr(notes, "DESCRIPTION: a line break without the space of a fold"
				" joined (rule L1)"));
	g_assert_nonnull(strstr(notes, "a blank line dropped (rule L1)"));
	g_free(notes);
	g_free(out);
}

/* After a line as long as writers fold at, a line whose X- name holds
 * double quotes is a property to libical, which passes over quoted
 * text when it looks for the end of a name: not a lost fold (make fuzz:
 * the join changed the UID above it) */
static void test_quoted_x_name(void)
{
	const char *text = HEAD "BEGIN:VEVENT\r\nDTSTAMP:20200101T000000Z\r\n"
		"UID:040000008200E00074C5B7101A82E00800000000C0FFEE0000000000000000000000\r\n"
		"X-MI\"\"\"\"lto:a-long-address-of-a-mailbox-at-a-long-domain-name@example.com\r\n"
		"X-A\"b:c\r\n"
		"END:VEVENT\r\n" TAIL;
	char *notes, *out = mend(text, &notes);
	char *uid = NULL;

	/* the first is a property; the second's quote is never closed, so
	 * libical finds no end to its name: a piece of the line before */
	g_assert_nonnull(strstr(out, "\r\nX-MI\"\"\"\"lto:a-long-address-of-a-mailbox-at-a-lo"));
	g_assert_cmpstr(notes, ==, "X-MI\"\"\"\"lto: a line break without the space of a fold"
			" joined (rule L1)");
	g_assert_true(item_check(out, strlen(out), ITEM_CHECK_STRICT, &uid, NULL, NULL));
	g_assert_cmpstr(uid, ==, "040000008200E00074C5B7101A82E00800000000C0FFEE0000000000000000000000");
	g_free(uid);
	g_free(notes);
	g_free(out);
}

/* After a line as long as writers fold at, a line that is no content
 * line until its fold lines are joined to it ("X-MICRO" and
 * " 010101T000000Z;RSVP=TRUE:…") is a property to libical, which unfolds
 * first: not a lost fold (make fuzz: the join changed the UID) */
static void test_name_cut_by_a_fold(void)
{
	const char *uid = "040000008200E00074C5B7101A82E00800000000C0FFEE0000000000000000000000";
	char *text = g_strdup_printf(HEAD "BEGIN:VEVENT\r\nDTSTAMP:20200101T000000Z\r\n"
				     "UID:%s\r\nX-MICRO\r\n 010101T000000Z;RSVP=TRUE:mailto:a@example.com\r\n"
				     "END:VEVENT\r\n" TAIL, uid);
	char *notes, *out = mend(text, &notes);
	char *got = NULL;

	g_assert_cmpstr(out, ==, text);
	g_assert_cmpstr(notes, ==, "");
	g_assert_true(item_check(out, strlen(out), ITEM_CHECK_STRICT, &got, NULL, NULL));
	g_assert_cmpstr(got, ==, uid);
	g_free(got);
	g_free(notes);
	g_free(out);
	g_free(text);
}

/* SOGo: GEO:12.34567\;12.34567 */
static void test_geo(void)
{
	char *notes, *out = mend(HEAD "BEGIN:VEVENT\r\nUID:a\r\nDTSTAMP:20200101T000000Z\r\n"
				 "GEO:12.34567\\;-1.5\r\nEND:VEVENT\r\n" TAIL, &notes);

	g_assert_nonnull(strstr(out, "\r\nGEO:12.34567;-1.5\r\n"));
	g_assert_cmpstr(notes, ==, "GEO: the separator of its two values unescaped (rule L5)");
	g_free(notes);
	g_free(out);
}

/* Google and Evolution: a date where a date-time is declared */
static void test_date_as_time(void)
{
	char *notes, *out = mend(HEAD "BEGIN:VEVENT\r\nUID:a\r\nDTSTAMP:20200101T000000Z\r\n"
				 "DTSTART;TZID=US/Pacific:20050606\r\n"
				 "DTEND;TZID=US/Pacific:20050606T100000\r\n"
				 "END:VEVENT\r\n"
				 "BEGIN:VEVENT\r\nUID:b\r\nDTSTAMP:20200101T000000Z\r\n"
				 "DTSTART;VALUE=DATE-TIME:20061007\r\n"
				 "END:VEVENT\r\n" TAIL, &notes);

	g_assert_nonnull(strstr(out, "DTSTART;TZID=US/Pacific:20050606T000000\r\n"));
	g_assert_nonnull(strstr(out, "DTSTART;VALUE=DATE:20061007\r\n"));
	g_assert_nonnull(strstr(notes, "DTSTART 20050606: a date where a date-time is declared:"
				" midnight (rule L6)"));
	g_assert_nonnull(strstr(notes, "DTSTART 20061007: a date written as a date-time: a date"
				" (rule L6)"));
	g_free(notes);
	g_free(out);
}

/* Nextcloud: -P1W6DT15H */
static void test_weeks_and_days(void)
{
	char *notes, *out = mend(HEAD "BEGIN:VEVENT\r\nUID:a\r\nDTSTAMP:20200101T000000Z\r\n"
				 "DTSTART:20200101T100000Z\r\n"
				 "BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:x\r\n"
				 "TRIGGER:-P1W6DT15H\r\nEND:VALARM\r\n"
				 "END:VEVENT\r\n" TAIL, &notes);

	g_assert_nonnull(strstr(out, "\r\nTRIGGER:-P13DT15H\r\n"));
	g_assert_nonnull(strstr(notes, "(rule L7)"));
	g_free(notes);
	g_free(out);
}

/* Zimbra: a VTIMEZONE without TZID */
static void test_nameless_vtimezone(void)
{
	char *notes, *out = mend(HEAD "BEGIN:VTIMEZONE\r\nX-INVALID-TIMEZONE:1\r\n"
				 "BEGIN:STANDARD\r\nDTSTART:16010101T000000\r\nTZOFFSETFROM:+0100\r\n"
				 "TZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
				 "BEGIN:VEVENT\r\nUID:a\r\nDTSTAMP:20200101T000000Z\r\n"
				 "DTSTART:20200101T100000Z\r\nEND:VEVENT\r\n" TAIL, &notes);

	g_assert_null(strstr(out, "VTIMEZONE"));
	g_assert_cmpstr(notes, ==, "a VTIMEZONE without TZID, which no item can name, dropped"
			" (vobject fails on it) (rule L8)");
	g_free(notes);
	g_free(out);
}

/* Exchange relaying Google: TZID="" on times, a nameless all-+0000 zone */
static void test_empty_tzid(void)
{
	char *notes, *out = mend(HEAD "BEGIN:VTIMEZONE\r\nTZID:\r\n"
				 "BEGIN:STANDARD\r\nDTSTART:16010101T000000\r\nTZOFFSETFROM:+0000\r\n"
				 "TZOFFSETTO:+0000\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
				 "BEGIN:VEVENT\r\nUID:a\r\nDTSTAMP:20200101T000000Z\r\n"
				 "DTSTART;TZID=\"\":20200101T100000\r\nEND:VEVENT\r\n" TAIL, &notes);

	g_assert_nonnull(strstr(out, "\r\nDTSTART:20200101T100000Z\r\n"));
	g_assert_null(strstr(out, "VTIMEZONE"));
	g_assert_true(item_check(out, strlen(out), ITEM_CHECK_STRICT, NULL, NULL, NULL));
	g_assert_nonnull(strstr(notes, "(rule L9)"));
	g_free(notes);
	g_free(out);
}

/* what a file is made of, as it arrives: a BOM, Windows-1252, UTF-16 */
static void test_to_utf8(void)
{
	static const char bom[] = "\xef\xbb\xbf" "BEGIN:VCALENDAR\r\n";
	static const char latin[] = "SUMMARY:R\xe9union \x80 5\r\n";
	static const char u16[] = "\xff\xfe" "B\0E\0G\0I\0N\0:\0\xe9\0";
	GBytes *in, *out;
	char *what = NULL;

	in = g_bytes_new_static(bom, sizeof bom - 1);
	out = item_to_utf8(in, &what);
	g_assert_cmpmem(g_bytes_get_data(out, NULL), g_bytes_get_size(out),
			"BEGIN:VCALENDAR\r\n", 17);
	g_assert_nonnull(what);
	g_clear_pointer(&what, g_free);
	g_bytes_unref(out);
	g_bytes_unref(in);

	in = g_bytes_new_static(latin, sizeof latin - 1);
	out = item_to_utf8(in, &what);
	g_assert_cmpmem(g_bytes_get_data(out, NULL), g_bytes_get_size(out),
			"SUMMARY:R\xc3\xa9union \xe2\x82\xac 5\r\n", 24);
	g_assert_nonnull(strstr(what, "1252"));
	g_clear_pointer(&what, g_free);
	g_bytes_unref(out);
	g_bytes_unref(in);

	in = g_bytes_new_static(u16, sizeof u16 - 1);
	out = item_to_utf8(in, &what);
	g_assert_cmpmem(g_bytes_get_data(out, NULL), g_bytes_get_size(out), "BEGIN:\xc3\xa9", 8);
	g_assert_nonnull(strstr(what, "UTF-16"));
	g_clear_pointer(&what, g_free);
	g_bytes_unref(out);
	g_bytes_unref(in);

	in = g_bytes_new_static("plain", 5);
	out = item_to_utf8(in, &what);
	g_assert_true(out == in);
	g_assert_null(what);
	g_bytes_unref(out);
	g_bytes_unref(in);
}

/* Office 365, December 2023: END:VEVENT only after the last event, no
 * END:VCALENDAR */
static void test_missing_ends(void)
{
	char *notes, *out = mend(HEAD "BEGIN:VEVENT\r\nUID:a\r\nDTSTAMP:20200101T000000Z\r\n"
				 "DTSTART:20200101T100000Z\r\n"
				 "BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:x\r\nTRIGGER:-PT5M\r\n"
				 "BEGIN:VEVENT\r\nUID:a\r\nRECURRENCE-ID:20200108T100000Z\r\n"
				 "DTSTAMP:20200101T000000Z\r\nDTSTART:20200108T110000Z\r\n"
				 "END:VEVENT\r\n", &notes);

	g_assert_cmpstr(out, ==, HEAD "BEGIN:VEVENT\r\nUID:a\r\nDTSTAMP:20200101T000000Z\r\n"
			"DTSTART:20200101T100000Z\r\n"
			"BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:x\r\nTRIGGER:-PT5M\r\n"
			"END:VALARM\r\nEND:VEVENT\r\n"
			"BEGIN:VEVENT\r\nUID:a\r\nRECURRENCE-ID:20200108T100000Z\r\n"
			"DTSTAMP:20200101T000000Z\r\nDTSTART:20200108T110000Z\r\n"
			"END:VEVENT\r\nEND:VCALENDAR\r\n");
	g_assert_cmpstr(notes, ==, "VALARM: its END line missing: added (rule L10)|"
			"VEVENT: its END line missing: added (rule L10)|"
			"VCALENDAR: its END line missing: added (rule L10)");
	g_assert_true(item_check(out, strlen(out), ITEM_CHECK_STRICT, NULL, NULL, NULL));
	g_free(notes);
	g_free(out);

	/* the last line without its line end */
	out = mend(HEAD "BEGIN:VEVENT\r\nUID:b\r\nDTSTAMP:20200101T000000Z\r\nEND:VEVENT", &notes);
	g_assert_true(g_str_has_suffix(out, "\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"));
	g_free(notes);
	g_free(out);

	/* an event inside another, each closed: nothing is left open, and
	 * closing the outer one early would leave an END closing nothing
	 * (make fuzz); the GEO line makes the text one to mend */
	{
		const char *nested = HEAD "BEGIN:VEVENT\r\nUID:c\r\nDTSTAMP:20200101T000000Z\r\n"
			"GEO:1.5\\;2.5\r\nBEGIN:VEVENT\r\nUID:d\r\nEND:VEVENT\r\n"
			"END:VEVENT\r\n" TAIL;

		out = mend(nested, &notes);
		g_assert_null(strstr(notes, "L10"));
		g_assert_nonnull(strstr(out, "GEO:1.5;2.5\r\nBEGIN:VEVENT\r\nUID:d\r\n"
					"END:VEVENT\r\nEND:VEVENT\r\n"));
		g_assert_true(item_check(out, strlen(out), ITEM_CHECK_STRICT, NULL, NULL, NULL));
		g_free(notes);
		g_free(out);
	}
}

/* a whole file: only the END lines are added, and only when its last
 * line ends a component (else it was cut short) */
static void test_structure(void)
{
	const char *t = HEAD "BEGIN:VEVENT\r\nUID:a\r\nDTSTAMP:20200101T000000Z\r\n"
		"ATTENDEE;CN=x\r\n:mailto:x@example.com\r\n"
		"BEGIN:VEVENT\r\nUID:b\r\nDTSTAMP:20200101T000000Z\r\n"
		"BEGIN:VEVENT\r\nUID:c\r\nDTSTAMP:20200101T000000Z\r\nEND:VEVENT\r\n";
	const char *cut = HEAD "BEGIN:VEVENT\r\nUID:a\r\nDTSTAMP:20200101T000000Z\r\n";
	const char *closed = HEAD "BEGIN:VEVENT\r\nUID:a\r\nDTSTAMP:20200101T000000Z\r\n" TAIL;
	GBytes *in = g_bytes_new_static(t, strlen(t)), *out;
	char *what = NULL;
	gsize len;
	const char *d;
	GPtrArray *parts;

	out = mend_structure(in, &what);
	d = g_bytes_get_data(out, &len);
	g_assert_cmpstr(what, ==, "END lines the text left out added: END:VEVENT, END:VEVENT,"
			" END:VCALENDAR (rule L10)");
	/* the line damage stays, for the raw view */
	g_assert_nonnull(g_strstr_len(d, len, "ATTENDEE;CN=x\r\n:mailto:x@example.com\r\n"
				      "END:VEVENT\r\nBEGIN:VEVENT\r\nUID:b"));
	g_assert_cmpmem(d + len - 27, 27, "END:VEVENT\r\nEND:VCALENDAR\r\n", 27);
	parts = item_split(d, len, NULL, NULL);
	g_assert_nonnull(parts);
	g_assert_cmpuint(parts->len, ==, 3);
	g_ptr_array_unref(parts);
	g_clear_pointer(&what, g_free);
	g_bytes_unref(out);
	g_bytes_unref(in);

	in = g_bytes_new_static(cut, strlen(cut));
	out = mend_structure(in, &what);
	g_assert_true(out == in);
	g_assert_null(what);
	g_bytes_unref(out);
	g_bytes_unref(in);

	/* an event left open inside a VCALENDAR that ends: closed before
	 * its END, with nothing left to add after the last line (make fuzz:
	 * that was a NULL dereference) */
	in = g_bytes_new_static(closed, strlen(closed));
	out = mend_structure(in, &what);
	d = g_bytes_get_data(out, &len);
	g_assert_cmpstr(what, ==, "END lines the text left out added: END:VEVENT (rule L10)");
	g_assert_cmpmem(d + len - 27, 27, "END:VEVENT\r\nEND:VCALENDAR\r\n", 27);
	g_assert_true(item_check(d, len, ITEM_CHECK_STRICT, NULL, NULL, NULL));
	g_clear_pointer(&what, g_free);
	g_bytes_unref(out);
	g_bytes_unref(in);
}

/* Outlook: DTEND before DTSTART */
static void test_end_before_start(void)
{
	char *notes, *out = mend(HEAD "BEGIN:VEVENT\r\nUID:a\r\nDTSTAMP:20200101T000000Z\r\n"
				 "DTEND;TZID=\"(UTC+01:00) Br\xc3\xbcssel\":20090401T150000\r\n"
				 "DTSTART;TZID=\"(UTC+01:00) Br\xc3\xbcssel\":20090401T160000\r\n"
				 "END:VEVENT\r\n"
				 "BEGIN:VEVENT\r\nUID:b\r\nDTSTAMP:20200101T000000Z\r\n"
				 "DTSTART:20090401T160000Z\r\nDTEND:20090401T160000Z\r\n"
				 "END:VEVENT\r\n" TAIL, &notes);

	g_assert_null(strstr(out, "DTEND;"));
	g_assert_nonnull(strstr(out, "DTEND:20090401T160000Z"));	/* not before: kept */
	g_assert_cmpstr(notes, ==, "DTEND 20090401T150000: before DTSTART 20090401T160000: removed"
			" (rule L11)");
	g_free(notes);
	g_free(out);
}

/* L11 on what it missed or did by halves: every DTEND before the first
 * DTSTART goes (reading the item again then changes nothing: make fuzz
 * found one DTEND removed on each reading), and the quick look that
 * decides whether to mend at all sees the DTEND past a VALARM, a folded
 * one and one with another line ending */
static void test_end_before_start_whole(void)
{
	static const char *const cases[] = {
		HEAD "BEGIN:VEVENT\r\nUID:a\r\nDTSTAMP:20200101T000000Z\r\n"
		"DTSTART:20200522T210000Z\r\nDTEND:20200225T220000Z\r\n"
		"DTSTART:20200522T210000Z\r\nDTEND:20200225T220000Z\r\n"
		"DTEND:20200225T230000Z\r\nEND:VEVENT\r\n" TAIL,
		HEAD "BEGIN:VEVENT\r\nUID:a\r\nDTSTAMP:20200101T000000Z\r\n"
		"DTSTART:20200522T210000Z\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\n"
		"TRIGGER:-PT15M\r\nDESCRIPTION:x\r\nEND:VALARM\r\n"
		"DTEND:20200225T220000Z\r\nEND:VEVENT\r\n" TAIL,
		HEAD "BEGIN:VEVENT\r\nUID:a\r\nDTSTAMP:20200101T000000Z\r\n"
		"DTSTART:20200522T210000Z\r\nDTEND:2020\r\n 0225T220000Z\r\n"
		"END:VEVENT\r\n" TAIL,
		HEAD "BEGIN:VEVENT\r\nUID:a\r\nDTSTAMP:20200101T000000Z\r\n"
		"DTSTART:20200522T210000Z\nDTEND:20200225T220000Z\r\n"
		"END:VEVENT\r\n" TAIL,
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *notes, *again_notes, *out = mend(cases[i], &notes);
		char *again = mend(out, &again_notes);

		g_assert_null(strstr(out, "DTEND"));
		g_assert_nonnull(strstr(notes, "(rule L11)"));
		g_assert_cmpstr(again, ==, out);
		g_assert_cmpstr(again_notes, ==, "");
		g_free(again_notes);
		g_free(again);
		g_free(notes);
		g_free(out);
	}
}

/* ictext_scan_top finds, in one pass, the line the parse finds */
static void test_scan_top(void)
{
	static const char *const texts[] = {
		"BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nEND:VCALENDAR\r\n",
		/* a fold inside the name, and one inside the value */
		"BEGIN:VCALENDAR\r\nMET\r\n HOD:CAN\r\n\tCEL\r\nEND:VCALENDAR\r\n",
		/* in an event, in a VALARM: not the VCALENDAR's */
		"BEGIN:VCALENDAR\nBEGIN:VEVENT\nMETHOD:REPLY\nBEGIN:VALARM\nMETHOD:X\n"
		"END:VALARM\nEND:VEVENT\nMETHOD;X-A=\"a:b\":request\nEND:VCALENDAR\n",
		/* an empty value does not count; no line ending at the end */
		"BEGIN:VCALENDAR\nMETHOD:\nmethod:Publish\nEND:VCALENDAR",
		/* before the VCALENDAR, and none */
		"METHOD:REPLY\nBEGIN:VCALENDAR\nEND:VCALENDAR\n",
		"BEGIN:VCALENDAR\nMETHODS:REPLY\nEND:VCALENDAR\n",
		"",
	};
	static const char *const want[] = { "REPLY", "CANCEL", "request", "Publish", NULL, NULL,
					     NULL };

	for (guint i = 0; i < G_N_ELEMENTS(texts); i++) {
		GBytes *b = g_bytes_new_static(texts[i], strlen(texts[i]));
		ictext *t = ictext_parse(b);
		ictext_line *m = ictext_find(t, -1, "METHOD", NULL, 0);
		char *v = ictext_scan_top(texts[i], strlen(texts[i]), "METHOD");

		g_assert_cmpstr(v, ==, want[i]);
		g_assert_cmpstr(v, ==, m ? ictext_line_value(m) : NULL);
		g_free(v);
		ictext_free(t);
		g_bytes_unref(b);
	}
}

/* ictext_append_folded as it was, a character at a time: the runs it
 * appends now must give the same bytes */
static void folded_by_character(GString *out, const char *text, const char *eol)
{
	gsize n = strlen(text), col = 0, line = out->len;

	for (gsize i = 0; i < n;) {
		gsize clen = 1;

		while (i + clen < n && ((guchar)text[i + clen] & 0xc0) == 0x80)
			clen++;
		if (col + clen > 75) {
			gsize at = out->len;

			if (text[i] == ' ' || text[i] == '\t') {
				while (at > line && (out->str[at - 1] == ' ' || out->str[at - 1] == '\t'))
					at--;
				while (at > line && ((guchar)out->str[at - 1] & 0xc0) == 0x80)
					at--;
				at = at > line + 1 ? at - 1 : out->len;
			}
			g_string_insert(out, at, " ");
			g_string_insert(out, at, eol);
			line = at + strlen(eol) + 1;
			col = 1 + (out->len - line);
		}
		g_string_append_len(out, text + i, clen);
		col += clen;
		i += clen;
	}
	g_string_append(out, eol);
}

static void test_fold_runs(void)
{
	static const char *const pieces[] = {
		"a", "bc", " ", "  ", "\t", "\u00e9", "\u20ac", "\U0001F600", "\x80\x80",
		"\xc3", "mailto:someone@example.com", ";", ":", "\"q\"",
	};
	GRand *r = g_rand_new_with_seed(20261204);

	for (int round = 0; round < 3000; round++) {
		GString *text = g_string_new(NULL), *a = g_string_new("x"), *b = g_string_new("x");
		int n = g_rand_int_range(r, 0, 120);

		for (int k = 0; k < n; k++)
			g_string_append(text, pieces[g_rand_int_range(r, 0, G_N_ELEMENTS(pieces))]);
		ictext_append_folded(a, text->str, round % 2 ? "\n" : "\r\n");
		folded_by_character(b, text->str, round % 2 ? "\n" : "\r\n");
		g_assert_cmpstr(a->str, ==, b->str);
		g_string_free(text, TRUE);
		g_string_free(a, TRUE);
		g_string_free(b, TRUE);
	}
	g_rand_free(r);
}

static void set_two(ictext_line *l, gpointer data)
{
	(void)data;
	ictext_set_param(l, "PARTSTAT", "ACCEPTED");
	ictext_set_param(l, "X-REPLYTIME", "20261204T120000Z");
}

/* ictext_edit_line gives the bytes that the parse, ictext_find, the same
 * edit and ictext_serialize give */
static void test_edit_line(void)
{
	static const char *const texts[] = {
		"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\n"
		"ATTENDEE;CN=Bob;PARTSTAT=NEEDS-ACTION:mailto:bob@example.net\r\n"
		"ATTENDEE:mailto:carol@example.net\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
		/* folds in the parameters and in the value; LF line ends */
		"BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:a\nATTENDEE;CN=\"Bob, the one with a long"
		" name\";ROLE=REQ-PARTICIPANT;PARTST\n AT=NEEDS-ACTION;X-REPLYTIME=16010101T\n"
		" 000000Z:MAILTO:BOB@EXAM\n\tPLE.NET\nEND:VEVENT\nEND:VCALENDAR\n",
		/* the second event; an empty value first, which does not count */
		"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nATTENDEE:mailto:bob@example.net\r\n"
		"END:VEVENT\r\nBEGIN:VEVENT\r\nUID:a\r\nRECURRENCE-ID:20260101T000000Z\r\n"
		"ATTENDEE;CN=x:\r\nATTENDEE:mailto:bob@example.net\r\nEND:VEVENT\r\nEND:VCALENDAR",
		/* in a VALARM only: not the event's */
		"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nBEGIN:VALARM\r\n"
		"ATTENDEE:mailto:bob@example.net\r\nEND:VALARM\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
	};
	static const struct {
		int comp;
		const char *value;
		int n;
	} asks[] = {
		{ 0, "mailto:bob@example.net", 0 }, { 0, "MAILTO:bob@example.NET", 0 },
		{ 0, NULL, 1 }, { 1, "mailto:bob@example.net", 0 }, { 0, "mailto:dan@x", 0 },
		{ -1, NULL, 0 },
	};

	for (guint i = 0; i < G_N_ELEMENTS(texts); i++) {
		for (guint k = 0; k < G_N_ELEMENTS(asks); k++) {
			GBytes *b = g_bytes_new_static(texts[i], strlen(texts[i]));
			ictext *t = ictext_parse(b);
			ictext_line *l = ictext_find(t, asks[k].comp, "ATTENDEE", asks[k].value,
						     asks[k].n);
			GBytes *want, *got = ictext_edit_line(b, asks[k].comp, "ATTENDEE",
							      asks[k].value, asks[k].n, set_two, NULL);

			if (l)
				set_two(l, NULL);
			want = ictext_serialize(t);
			g_assert_true(!l == !got);
			if (got)
				g_assert_true(g_bytes_equal(got, want));
			if (got)
				g_bytes_unref(got);
			g_bytes_unref(want);
			ictext_free(t);
			g_bytes_unref(b);
		}
	}
}

/* ictext_select_with: a line whose value a fold cuts is given partial,
 * one whose parameters a fold cuts is given whole */
typedef struct {
	GPtrArray *seen;
} seen_lines;

static gboolean note_attendees(const char *line, gsize len, gboolean partial, gpointer data)
{
	seen_lines *s = data;

	if (!g_ascii_strncasecmp(line, "ATTENDEE", 8))
		g_ptr_array_add(s->seen, g_strdup_printf("%d %.*s", partial, (int)len, line));
	return TRUE;
}

static void test_select_with(void)
{
	static const char text[] =
		"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\n"
		"ATTENDEE;CN=Bob:mailto:bob@exam\r\n ple.net\r\n"
		"ATTENDEE;CN=Car\r\n ol:mailto:carol@exam\r\n ple.net\r\n"
		"ATTENDEE:mailto:dan@example.net\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
	seen_lines s = { g_ptr_array_new_with_free_func(g_free) };
	GString *out = ictext_select_with(text, strlen(text), FALSE, note_attendees, &s);

	g_assert_cmpstr(out->str, ==, text);	/* all kept, folds and all */
	g_assert_cmpuint(s.seen->len, ==, 3);
	g_assert_cmpstr(s.seen->pdata[0], ==, "1 ATTENDEE;CN=Bob:mailto:bob@exam\r\n");
	g_assert_cmpstr(s.seen->pdata[1], ==, "0 ATTENDEE;CN=Carol:mailto:carol@example.net");
	g_assert_cmpstr(s.seen->pdata[2], ==, "0 ATTENDEE:mailto:dan@example.net\r\n");
	g_string_free(out, TRUE);
	g_ptr_array_unref(s.seen);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	tz_init();
	g_test_add_func("/mend/untouched", test_untouched);
	g_test_add_func("/mend/line-damage", test_line_damage);
	g_test_add_func("/mend/tzid-quote", test_tzid_quote);
	g_test_add_func("/mend/tzid-text", test_tzid_text);
	g_test_add_func("/mend/fold-before-space", test_fold_before_space);
	g_test_add_func("/mend/quoted-x-name", test_quoted_x_name);
	g_test_add_func("/mend/name-cut-by-a-fold", test_name_cut_by_a_fold);
	g_test_add_func("/mend/floating-exceptions", test_floating_exceptions);
	g_test_add_func("/mend/lost-fold", test_lost_fold);
	g_test_add_func("/mend/geo", test_geo);
	g_test_add_func("/mend/date-as-time", test_date_as_time);
	g_test_add_func("/mend/weeks-and-days", test_weeks_and_days);
	g_test_add_func("/mend/nameless-vtimezone", test_nameless_vtimezone);
	g_test_add_func("/mend/empty-tzid", test_empty_tzid);
	g_test_add_func("/mend/to-utf8", test_to_utf8);
	g_test_add_func("/mend/missing-ends", test_missing_ends);
	g_test_add_func("/mend/structure", test_structure);
	g_test_add_func("/mend/end-before-start", test_end_before_start);
	g_test_add_func("/mend/end-before-start-whole", test_end_before_start_whole);
	g_test_add_func("/ictext/scan-top", test_scan_top);
	g_test_add_func("/ictext/fold-runs", test_fold_runs);
	g_test_add_func("/ictext/edit-line", test_edit_line);
	g_test_add_func("/ictext/select-with", test_select_with);
	return g_test_run();
}
