/* Unit tests: item naming, validation and splitting */
#include "error.h"
#include "icscan.h"
#include "item.h"

#include <string.h>

#define EV(uid, extra) \
	"BEGIN:VEVENT\r\nUID:" uid "\r\nDTSTAMP:20200101T000000Z\r\n" \
	"DTSTART:20200101T100000Z\r\n" extra "END:VEVENT\r\n"
#define CAL(body) \
	"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//calfs//test//EN\r\n" body \
	"END:VCALENDAR\r\n"

static void check_invalid(const char *text, const char *reason)
{
	GError *err = NULL;
	char *uid = NULL;

	g_assert_false(item_check(text, strlen(text), ITEM_CHECK_STRICT, &uid,
				  NULL, &err));
	g_assert_error(err, CALFS_ERROR, CALFS_ERROR_INVALID);
	g_assert_null(uid);
	if (!strstr(err->message, reason))
		g_error("reason '%s' does not contain '%s'", err->message, reason);
	g_assert_null(strchr(err->message, '\n'));
	g_error_free(err);
}

static void test_valid(void)
{
	const char *t = CAL(EV("abc@example.com", "SUMMARY:x\r\n")
			    EV("abc@example.com", "RECURRENCE-ID:20200108T100000Z\r\n"));
	GError *err = NULL;
	char *uid = NULL;

	g_assert_true(item_check(t, strlen(t), ITEM_CHECK_STRICT, &uid, NULL, &err));
	g_assert_no_error(err);
	g_assert_cmpstr(uid, ==, "abc@example.com");
	g_free(uid);
}

static void test_invalid(void)
{
	check_invalid("", "empty");
	check_invalid("hello world\n", "does not begin with BEGIN:VCALENDAR");
	check_invalid("BEGIN:VCALENDAR\r\n" EV("a", ""), "does not end with END:VCALENDAR");
	check_invalid(CAL(EV("a", "") EV("b", "")), "two UIDs (a, b)");
	check_invalid(CAL(EV("a", "") EV("b", "") EV("c", "")), "several UIDs (a, b, ...)");
	check_invalid(CAL(EV("a", "")) CAL(EV("b", "")), "several VCALENDARs");
	check_invalid(CAL("BEGIN:VEVENT\r\nSUMMARY:x\r\nEND:VEVENT\r\n"), "VEVENT without UID");
	check_invalid(CAL(EV("a\fb", "")), "VEVENT UID with a control character (0x0c)");
	check_invalid(CAL(EV("a", "DTEND;TZID=\"US\bEast\":20200101T110000\r\n")),
		      "TZID with a control character (0x08)");
	check_invalid(CAL("BEGIN:VTIMEZONE\r\nTZID:x\r\nEND:VTIMEZONE\r\n"),
		      "no event, to-do or journal");
	check_invalid(CAL("BEGIN:VEVENTX\r\nUID:a\r\nEND:VEVENT\r\n"),
		      "unknown component VEVENTX");
	check_invalid(CAL("BEGIN:VEVENT\r\nUID:a\r\nEND:VTODO\r\n"),
		      "END:VTODO does not close BEGIN:VEVENT");
	/* libical reads the name with what continues it (make fuzz) */
	check_invalid("BEGIN:VCALENDAR\r\n MIMEDIR//UN\r\nVERSION:2.0\r\n" EV("a", "")
		      "END:VCALENDAR\r\n", "a folded BEGIN:VCALENDAR line");
	check_invalid(CAL("BEGIN:VEVENT\r\nUID:a\r\nEND:VEVENT\r\n X\r\n"),
		      "a folded END:VEVENT line");
	check_invalid(CAL(EV("a", "DTEND:garbage\r\n")), "parse error");
	check_invalid(CAL(EV("a", "SUMMARY:caf\xe9\r\n")), "not UTF-8");
	{
		char nul[] = CAL(EV("a", "SUMMARY:x\r\n"));

		nul[strlen(nul) - 20] = '\0';
		g_assert_false(item_check(nul, sizeof(nul) - 1, ITEM_CHECK_STRICT,
					  NULL, NULL, NULL));
	}
}

static void test_lenient(void)
{
	const char *t = CAL(EV("a", "DTEND:garbage\r\nLOCATION:\r\n"));
	GPtrArray *w = g_ptr_array_new_with_free_func(g_free);
	char *uid = NULL;

	/* empty values are legal and never reported */
	g_assert_true(item_check(CAL(EV("a", "LOCATION:\r\n")),
				 strlen(CAL(EV("a", "LOCATION:\r\n"))),
				 ITEM_CHECK_STRICT, NULL, NULL, NULL));
	g_assert_true(item_check(t, strlen(t), ITEM_CHECK_LENIENT, &uid, w, NULL));
	g_assert_cmpstr(uid, ==, "a");
	g_assert_cmpuint(w->len, ==, 1);
	g_assert_nonnull(strstr(w->pdata[0], "DTEND"));
	g_ptr_array_unref(w);
	g_free(uid);
}

static void test_names(void)
{
	char *n = item_name_for_uid("abc-123_x.y@example.com+1");
	char *h1, *h2, *long_uid;

	g_assert_cmpstr(n, ==, "abc-123_x.y@example.com+1.ics");
	g_free(n);
	h1 = item_name_for_uid("has space");
	h2 = item_name_for_uid("has space");
	g_assert_cmpstr(h1, ==, h2);	/* stable */
	g_assert_cmpuint(strlen(h1), ==, 40 + 4);
	g_assert_true(g_str_has_suffix(h1, ".ics"));
	g_free(h1);
	g_free(h2);
	n = item_name_for_uid(".hidden");
	g_assert_false(g_str_has_prefix(n, "."));
	g_free(n);
	n = item_name_for_uid("a/b");
	g_assert_null(strchr(n, '/'));
	g_free(n);
	long_uid = g_strnfill(200, 'u');
	n = item_name_for_uid(long_uid);
	g_assert_cmpuint(strlen(n), ==, 204);
	g_free(n);
	g_free(long_uid);
	long_uid = g_strnfill(201, 'u');
	n = item_name_for_uid(long_uid);
	g_assert_cmpuint(strlen(n), ==, 44);
	g_free(n);
	g_free(long_uid);

	g_assert_true(item_name_is_item("x.ics"));
	g_assert_false(item_name_is_item(".x.ics.swp"));
	g_assert_false(item_name_is_item(".x.ics"));
	g_assert_false(item_name_is_item("x.ics~"));
	g_assert_false(item_name_is_item("sedAbc123"));
	g_assert_false(item_name_is_item("4913"));
	g_assert_true(item_name_is_valid("x"));
	g_assert_false(item_name_is_valid(".."));
	g_assert_false(item_name_is_valid("a/b"));
	g_assert_false(item_name_is_valid(""));
}

static void test_split_keeps_single(void)
{
	const char *t = CAL(EV("only", "SUMMARY:kept  as is\r\n"));
	GPtrArray *parts = item_split(t, strlen(t), NULL, NULL);
	item_part *p;

	g_assert_nonnull(parts);
	g_assert_cmpuint(parts->len, ==, 1);
	p = parts->pdata[0];
	g_assert_cmpstr(p->uid, ==, "only");
	g_assert_cmpmem(g_bytes_get_data(p->data, NULL), g_bytes_get_size(p->data),
			t, strlen(t));
	g_assert_true(p->checked);
	g_ptr_array_unref(parts);
}

static void test_split_many(void)
{
	GString *s = g_string_new("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Outlook//EN\r\n"
				  "BEGIN:VTIMEZONE\r\nTZID:Used\r\nBEGIN:STANDARD\r\n"
				  "DTSTART:16010101T000000\r\nTZOFFSETFROM:-0400\r\n"
				  "TZOFFSETTO:-0500\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
				  "BEGIN:VTIMEZONE\r\nTZID:Unused\r\nBEGIN:STANDARD\r\n"
				  "DTSTART:16010101T000000\r\nTZOFFSETFROM:+0100\r\n"
				  "TZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n");
	GPtrArray *parts;

	for (int i = 0; i < 500; i++)
		g_string_append_printf(s, "BEGIN:VEVENT\r\nUID:ev-%d\r\n"
				       "DTSTART;TZID=Used:20200101T1000%02d\r\n"
				       "SUMMARY:event %d\r\nEND:VEVENT\r\n", i, i % 60, i);
	/* an override of the first event, later in the file */
	g_string_append(s, "BEGIN:VEVENT\r\nUID:ev-0\r\nRECURRENCE-ID:20200108T100000Z\r\n"
		"DTSTART:20200108T110000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n");
	parts = item_split(s->str, s->len, NULL, NULL);
	g_assert_nonnull(parts);
	g_assert_cmpuint(parts->len, ==, 500);
	for (guint i = 0; i < parts->len; i++) {
		item_part *p = parts->pdata[i];
		gsize len;
		const char *d = g_bytes_get_data(p->data, &len);
		char *uid = NULL;
		char *want = g_strdup_printf("ev-%u", i);

		g_assert_cmpstr(p->uid, ==, want);
		g_assert_false(p->checked);	/* built: checked when stored */
		g_assert_true(item_check(d, len, ITEM_CHECK_STRICT, &uid, NULL, NULL));
		g_assert_cmpstr(uid, ==, want);
		g_assert_nonnull(g_strstr_len(d, len, "TZID:Used"));
		g_assert_null(g_strstr_len(d, len, "TZID:Unused"));
		g_assert_nonnull(g_strstr_len(d, len, "PRODID:-//Outlook//EN"));
		if (i == 0)
			g_assert_nonnull(g_strstr_len(d, len, "RECURRENCE-ID"));
		g_free(uid);
		g_free(want);
	}
	g_ptr_array_unref(parts);
	g_string_free(s, TRUE);
}

/* libical 3.0 folds a value that ends at a continuation line's end
 * between the line's CR and LF (make fuzz): the parts are mended */
static void test_split_fold_boundary(void)
{
	for (int n = 70; n <= 76; n++) {
		char *uid = g_strnfill(n, 'A');
		char *text = g_strdup_printf(CAL(EV("%s", "") EV("b", "")), uid);
		GPtrArray *parts = item_split(text, strlen(text), NULL, NULL);

		g_assert_nonnull(parts);
		g_assert_cmpuint(parts->len, ==, 2);
		for (guint i = 0; i < parts->len; i++) {
			item_part *p = parts->pdata[i];
			gsize len;
			const char *d = g_bytes_get_data(p->data, &len);
			char *got = NULL;

			g_assert_true(item_check(d, len, ITEM_CHECK_STRICT, &got, NULL, NULL));
			g_assert_cmpstr(got, ==, p->uid);
			g_assert_null(g_strstr_len(d, len, "\r\r"));
			g_free(got);
		}
		g_ptr_array_unref(parts);
		g_free(text);
		g_free(uid);
	}
}

/* a part is named by its UID as libical reads it, escapes and all
 * (make fuzz: "\\E", which libical reads as a space), without the
 * white space libical trims (make fuzz: a vertical tab) */
static void test_split_escaped_uid(void)
{
	static const char *const uids[] = {
		"a\\Eb", "a\\,b", "a\\;b", "a\\\\b", "a\\\"b", "a\\:b", "a\\ b", "ab\\",
		"ab\v", "\vab", "ab\f", "\tab ", " a b\t",
	};

	for (gsize i = 0; i < G_N_ELEMENTS(uids); i++) {
		char *text = g_strdup_printf(CAL(EV("%s", "") EV("other", "")), uids[i]);
		GPtrArray *parts = item_split(text, strlen(text), NULL, NULL);

		g_assert_nonnull(parts);
		g_assert_cmpuint(parts->len, ==, 2);
		for (guint k = 0; k < parts->len; k++) {
			item_part *p = parts->pdata[k];
			gsize len;
			const char *d = g_bytes_get_data(p->data, &len);
			char *got = NULL;

			g_assert_true(item_check(d, len, ITEM_CHECK_LENIENT, &got, NULL, NULL));
			g_assert_cmpstr(got, ==, p->uid);
			g_free(got);
		}
		g_ptr_array_unref(parts);
		g_free(text);
	}
}

static void test_split_made_uid(void)
{
	const char *t = CAL(EV("a", "") "BEGIN:VEVENT\r\nDTSTART:20240101T100000Z\r\n"
			    "SUMMARY:no uid\r\nEND:VEVENT\r\n");
	GPtrArray *parts = item_split(t, strlen(t), NULL, NULL);
	GPtrArray *again = item_split(t, strlen(t), NULL, NULL);

	g_assert_nonnull(parts);
	g_assert_cmpuint(parts->len, ==, 2);
	item_part *a = parts->pdata[0], *b = parts->pdata[1];
	g_assert_false(a->made_uid);
	g_assert_true(b->made_uid);
	g_assert_true(g_str_has_prefix(b->uid, "calfs-"));
	g_assert_cmpuint(strlen(b->uid), ==, 6 + 32);
	/* the same content makes the same UID: a re-import replaces */
	g_assert_cmpstr(((item_part *)again->pdata[1])->uid, ==, b->uid);

	gsize len;
	const char *d = g_bytes_get_data(b->data, &len);
	char *got = NULL;
	g_assert_true(item_check(d, len, ITEM_CHECK_STRICT, &got, NULL, NULL));
	g_assert_cmpstr(got, ==, b->uid);
	g_free(got);
	g_ptr_array_unref(again);
	g_ptr_array_unref(parts);
}

static void test_split_made_uid_twins(void)
{
	const char *ev = "BEGIN:VEVENT\r\nDTSTART:20240101T100000Z\r\nSUMMARY:same\r\nEND:VEVENT\r\n";
	char *t = g_strconcat("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n",
			      ev, ev, "END:VCALENDAR\r\n", NULL);
	GPtrArray *parts = item_split(t, strlen(t), NULL, NULL);

	g_assert_nonnull(parts);
	g_assert_cmpuint(parts->len, ==, 2);
	const char *u0 = ((item_part *)parts->pdata[0])->uid;
	const char *u1 = ((item_part *)parts->pdata[1])->uid;
	g_assert_cmpstr(u0, !=, u1);
	g_assert_true(g_str_has_prefix(u1, u0));
	g_assert_true(g_str_has_suffix(u1, "-2"));
	g_ptr_array_unref(parts);
	g_free(t);
}

static void test_split_refuses(void)
{
	const char *t = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VFREEBUSY\r\n"
			"DTSTART:20240101T000000Z\r\nEND:VFREEBUSY\r\nEND:VCALENDAR\r\n";
	GError *err = NULL;

	g_assert_null(item_split(t, strlen(t), NULL, &err));
	g_assert_error(err, CALFS_ERROR, CALFS_ERROR_INVALID);
	g_error_free(err);
	g_assert_null(item_split("junk", 4, NULL, NULL));
}

/* What icscan vouches for, libical's parse agrees with: ICSCAN_ITEM is
 * accepted with no warning and the same UID, ICSCAN_SEVERAL refused for
 * its UIDs.  Returns the verdict. */
static icscan_verdict scan_agrees(const char *what, const char *text, gsize len)
{
	char *uid = NULL, *uid2 = NULL;
	GPtrArray *w = g_ptr_array_new_with_free_func(g_free);
	icalcomponent *cal = NULL;
	GError *err = NULL;
	icscan_verdict v = icscan_item(text, len, &uid);
	/* asking for the tree makes item_check parse with libical */
	gboolean ok = item_check_parsed(text, len, ITEM_CHECK_LENIENT, &uid2, w, &cal, &err);

	if (v != ICSCAN_NOT_SURE && !g_utf8_validate(text, len, NULL))
		v = ICSCAN_NOT_SURE;	/* item_check's text check comes first */
	if (v == ICSCAN_ITEM && (!ok || w->len || g_strcmp0(uid, uid2)))
		g_error("%s: the scan vouched for it, libical says %s%s (UID %s, not %s)",
			what, ok ? "" : err->message, w->len ? (char *)w->pdata[0] : "",
			uid2, uid);
	if (v == ICSCAN_SEVERAL && (ok || !strstr(err->message, "UIDs (")))
		g_error("%s: the scan saw several UIDs, libical says %s", what,
			ok ? "one item" : err->message);
	g_clear_error(&err);
	if (cal)
		icalcomponent_free(cal);
	g_ptr_array_unref(w);
	g_free(uid);
	g_free(uid2);
	return v;
}

static void test_scan_lines(void)
{
	/* each line goes into the event of an item; TRUE: the scan must
	 * vouch for the item (else it may say "not sure") */
	static const struct {
		const char *line;
		gboolean plain;
	} lines[] = {
		{ "SUMMARY:Design review", TRUE },
		{ "SUMMARY:a\\, b\\; c\\\\ d\\n", TRUE },
		{ "SUMMARY:trailing backslash\\", FALSE },
		{ "SUMMARY:bad escape \\x", FALSE },
		{ "LOCATION:", TRUE },
		{ "CLASS:", TRUE },
		{ "DTEND:", TRUE },
		{ "EXDATE:", FALSE },
		{ "CLASS:PUBLIC", TRUE },
		{ "CLASS:X-SECRET", FALSE },
		{ "CLASS:SECRET", FALSE },
		{ "TRANSP:TRANSPARENT", TRUE },
		{ "STATUS:CONFIRMED", TRUE },
		{ "STATUS:FINAL", TRUE },
		{ "STATUS:WHATEVER", FALSE },
		{ "PRIORITY:5", TRUE },
		{ "PRIORITY:five", FALSE },
		{ "SEQUENCE:-1", TRUE },
		{ "DTEND:20200101T110000", TRUE },
		{ "DTEND:20200229T110000Z", TRUE },
		{ "DTEND:20210229T110000Z", FALSE },
		{ "DTEND:20201301T110000Z", FALSE },
		{ "DTEND:20200101", FALSE },
		{ "DTEND:garbage", FALSE },
		{ "DTEND;VALUE=DATE:20200102", TRUE },
		{ "DTEND;VALUE=DATE:20200102T000000", FALSE },
		{ "DTEND;VALUE=DATE-TIME:20200102T000000", TRUE },
		{ "DTEND;VALUE=PERIOD:20200102T000000/PT1H", FALSE },
		{ "DTEND;TZID=Eastern Standard Time:20200101T110000", TRUE },
		{ "DTEND;TZID=\"(GMT-08.00) Pacific Time (US & Canada); Tijuana\":20200101T110000", TRUE },
		{ "DTEND;TZID=\"GMT+05:30\":20200101T110000", TRUE },
		{ "DTEND;TZID=GMT+05:30:20200101T110000", FALSE },
		{ "DTEND;TZID=Amsterdam, Berlin:20200101T110000", TRUE },
		{ "LOCATION;TZID=x:y", FALSE },
		{ "EXDATE:20200108T100000Z,20200115T100000Z", TRUE },
		{ "EXDATE;VALUE=DATE:20200108,20200115", TRUE },
		{ "EXDATE:20200108T100000Z,", FALSE },
		{ "RDATE:20200108T100000Z/PT1H", FALSE },
		{ "RRULE:FREQ=WEEKLY;COUNT=10;BYDAY=MO,WE", TRUE },
		{ "RRULE:FREQ=MONTHLY;BYDAY=2SU;UNTIL=20201231T000000Z", TRUE },
		{ "RRULE:FREQ=SOMETIMES", FALSE },
		{ "RRULE:COUNT=3", FALSE },
		{ "DURATION:PT1H30M", TRUE },
		{ "DURATION:P1W", TRUE },
		{ "DURATION:P2DT3H", TRUE },
		{ "DURATION:PT", FALSE },
		{ "DURATION:P1H", FALSE },
		{ "DURATION:PT1S1M", FALSE },
		{ "ORGANIZER;CN=Alice;SENT-BY=\"mailto:b@example.com\":mailto:a@example.com", TRUE },
		{ "ORGANIZER;CN=\"Doe, John\":mailto:a@example.com", TRUE },
		{ "ORGANIZER;CN=Doe, John:mailto:a@example.com", TRUE },
		{ "ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;RSVP=TRUE;CUTYPE=INDIVIDUAL"
		  ";X-REPLYTIME=16010101T000000Z:mailto:b@example.com", TRUE },
		{ "ATTENDEE;PARTSTAT=NEEDSSCHE-ACTION:mailto:b@example.com", FALSE },
		{ "ATTENDEE;ROLE=REQ-PARTIKIPANT:mailto:b@example.com", FALSE },
		{ "ATTENDEE;PARTSTAT=\"ACCEPTED\":mailto:b@example.com", FALSE },
		{ "ATTENDEE;EMAIL=b@example.com:mailto:b@example.com", FALSE },
		{ "ATTENDEE;CN=^'quoted^':mailto:b@example.com", FALSE },
		{ "ATTENDEE;CN:mailto:b@example.com", FALSE },
		{ "ATTENDEE;CN=:mailto:b@example.com", FALSE },
		{ "X-MICROSOFT-CDO-OWNER-CRITICAL-CHANGE:16010101T000000Z", TRUE },
		{ "X-MICROSOFT-CDO-BUSYSTATUS:BUSY", TRUE },
		{ "X-ALT-DESC;FMTTYPE=text/html:<p>x</p>", TRUE },
		{ "X-EMPTY:", TRUE },
		{ "X-LIC-ERROR:No value for X property", FALSE },
		{ "NO-SUCH-PROPERTY:x", FALSE },
		{ "dtend:20200101T110000Z", FALSE },
		{ "Summary:lower case", FALSE },
		{ ":a bare value (L1)", FALSE },
		{ "SUMMARY:tab\there", FALSE },
		{ "SUMMARY:padded ", FALSE },
		{ "CREATED:40400434T140000Z", FALSE },
		{ "TRIGGER:-PT15M", TRUE },
		{ "TRIGGER;VALUE=DATE-TIME:20200101T090000Z", TRUE },
		{ "TRIGGER;RELATED=END:PT0S", TRUE },
		{ "GEO:1.5;2.5", FALSE },
		{ "UID:a", FALSE },	/* a second UID line */
		{ "UID:b", FALSE },
		{ "SUMMARY;LANGUAGE=en-US:x", TRUE },
		{ "SUMMARY:caf\xc3\xa9", TRUE },
	};
	int vouched = 0;

	for (gsize i = 0; i < G_N_ELEMENTS(lines); i++) {
		char *line = g_strconcat(lines[i].line, "\r\n", NULL);
		char *item;
		icscan_verdict v;

		item = g_strdup_printf("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//calfs//test//EN\r\n"
				       "BEGIN:VEVENT\r\nUID:a\r\nDTSTAMP:20200101T000000Z\r\n"
				       "DTSTART:20200101T100000Z\r\n%sEND:VEVENT\r\nEND:VCALENDAR\r\n",
				       line);
		v = scan_agrees(lines[i].line, item, strlen(item));
		if (lines[i].plain && v != ICSCAN_ITEM)
			g_error("%s: the scan does not vouch for it", lines[i].line);
		vouched += v == ICSCAN_ITEM;
		g_free(item);
		g_free(line);
	}
	g_assert_cmpint(vouched, >, 0);
}

static void test_scan_structure(void)
{
	static const struct {
		const char *what, *text;
		icscan_verdict want;	/* ICSCAN_NOT_SURE: either */
	} cases[] = {
		{ "plain", CAL(EV("a", "")), ICSCAN_ITEM },
		{ "master and override",
		  CAL(EV("a", "RRULE:FREQ=DAILY\r\n") EV("a", "RECURRENCE-ID:20200102T100000Z\r\n")),
		  ICSCAN_ITEM },
		{ "two UIDs", CAL(EV("a", "") EV("b", "")), ICSCAN_SEVERAL },
		{ "UIDs the same once unescaped", CAL(EV("a,b", "") EV("a\\,b", "")), ICSCAN_NOT_SURE },
		{ "no UID", CAL("BEGIN:VEVENT\r\nSUMMARY:x\r\nEND:VEVENT\r\n"), ICSCAN_NOT_SURE },
		{ "two UID lines", CAL(EV("a", "UID:a\r\n")), ICSCAN_NOT_SURE },
		{ "only a zone", CAL("BEGIN:VTIMEZONE\r\nTZID:x\r\nEND:VTIMEZONE\r\n"),
		  ICSCAN_NOT_SURE },
		/* make fuzz: libical reads the escape as a line break */
		{ "a zone named with an escaped line break",
		  CAL("BEGIN:VTIMEZONE\r\nTZID:US & C\\nada\r\nEND:VTIMEZONE\r\n" EV("a", "")),
		  ICSCAN_NOT_SURE },
		{ "zone, alarm, to-do",
		  CAL("BEGIN:VTIMEZONE\r\nTZID:Eastern\r\nBEGIN:STANDARD\r\n"
		      "DTSTART:16010101T020000\r\nTZOFFSETFROM:-0400\r\nTZOFFSETTO:-0500\r\n"
		      "RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=11\r\nTZNAME:EST\r\nEND:STANDARD\r\n"
		      "END:VTIMEZONE\r\n"
		      "BEGIN:VTODO\r\nUID:a\r\nDUE;TZID=Eastern:20200101T100000\r\n"
		      "BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT15M\r\nUID:alarm\r\nEND:VALARM\r\n"
		      "END:VTODO\r\n"), ICSCAN_ITEM },
		{ "folded UID",
		  CAL("BEGIN:VEVENT\r\nUID:0400000082\r\n 00E0074\r\nEND:VEVENT\r\n"
		      "BEGIN:VEVENT\r\nUID:040000008200E\r\n\t0074\r\nRECURRENCE-ID:20200102T100000Z\r\n"
		      "END:VEVENT\r\n"), ICSCAN_ITEM },
		{ "folded UIDs that differ",
		  CAL("BEGIN:VEVENT\r\nUID:0400000082\r\n 00E0074\r\nEND:VEVENT\r\n"
		      "BEGIN:VEVENT\r\nUID:0400000082\r\n 00E0075\r\nEND:VEVENT\r\n"), ICSCAN_SEVERAL },
		{ "LF line ends", "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:a\nEND:VEVENT\nEND:VCALENDAR\n",
		  ICSCAN_ITEM },
		{ "white space after the end", CAL(EV("a", "")) "\r\n\r\n  \r\n", ICSCAN_ITEM },
		{ "a blank line", CAL(EV("a", "\r\n")), ICSCAN_NOT_SURE },
		{ "a byte-order mark", "\xef\xbb\xbf" CAL(EV("a", "")), ICSCAN_NOT_SURE },
		{ "no line end at the end", "BEGIN:VCALENDAR\r\n" EV("a", "") "END:VCALENDAR",
		  ICSCAN_NOT_SURE },
		{ "an unknown component", CAL(EV("a", "BEGIN:X-THING\r\nEND:X-THING\r\n")),
		  ICSCAN_NOT_SURE },
		{ "free/busy", CAL("BEGIN:VFREEBUSY\r\nUID:a\r\nEND:VFREEBUSY\r\n"), ICSCAN_NOT_SURE },
		{ "an event in an event", CAL("BEGIN:VEVENT\r\nUID:a\r\n" EV("a", "") "END:VEVENT\r\n"),
		  ICSCAN_NOT_SURE },
		{ "BEGIN with a parameter", CAL("BEGIN;X=1:VEVENT\r\nUID:a\r\nEND:VEVENT\r\n"),
		  ICSCAN_NOT_SURE },
		{ "folded BEGIN and END lines",
		  CAL("BEGIN:VEV\r\n ENT\r\nUID:a\r\nSUMMARY:a fold\r\n  to write over\r\n"
		      "END:VEV\r\n ENT\r\n"), ICSCAN_NOT_SURE },
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		icscan_verdict v = scan_agrees(cases[i].what, cases[i].text, strlen(cases[i].text));

		if (cases[i].want != ICSCAN_NOT_SURE && v != cases[i].want)
			g_error("%s: verdict %d, not %d", cases[i].what, v, cases[i].want);
	}
}

/* Every file of the corpora (and of ../shared's real fixtures, when
 * there), whole and cut at each line. */
static void scan_dir(const char *dir, int *files, int *vouched)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	const char *name;

	if (!d)
		return;
	while ((name = g_dir_read_name(d))) {
		char *path = g_build_filename(dir, name, NULL), *text;
		gsize len;

		if (g_str_has_suffix(name, ".ics") && g_file_get_contents(path, &text, &len, NULL)) {
			(*files)++;
			*vouched += scan_agrees(path, text, len) == ICSCAN_ITEM;
			for (const char *nl = text; (nl = memchr(nl, '\n', len - (nl - text))); nl++) {
				char *what = g_strdup_printf("%s, cut at byte %d", path,
							     (int)(nl + 1 - text));

				scan_agrees(what, text, nl + 1 - text);
				g_free(what);
			}
			g_free(text);
		}
		g_free(path);
	}
	g_dir_close(d);
}

static void test_scan_files(void)
{
	const char *fixtures = g_getenv("CALFS_FIXTURES");
	int files = 0, vouched = 0;

	/* make check runs the units from the top of the tree */
	scan_dir("tests/corpus", &files, &vouched);
	scan_dir("tests/fuzz/regress/item", &files, &vouched);
	scan_dir("tests/fuzz/regress/imip", &files, &vouched);
	if (fixtures)
		scan_dir(fixtures, &files, &vouched);
	if (!files) {
		g_test_skip("no corpus here (run from the top of the tree)");
		return;
	}
	g_assert_cmpint(vouched, >, 0);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/item/valid", test_valid);
	g_test_add_func("/item/invalid", test_invalid);
	g_test_add_func("/item/lenient", test_lenient);
	g_test_add_func("/item/names", test_names);
	g_test_add_func("/item/split/single", test_split_keeps_single);
	g_test_add_func("/item/split/many", test_split_many);
	g_test_add_func("/item/split/fold-boundary", test_split_fold_boundary);
	g_test_add_func("/item/split/escaped-uid", test_split_escaped_uid);
	g_test_add_func("/item/split/made-uid", test_split_made_uid);
	g_test_add_func("/item/split/made-uid-twins", test_split_made_uid_twins);
	g_test_add_func("/item/split/refuses", test_split_refuses);
	g_test_add_func("/item/scan/lines", test_scan_lines);
	g_test_add_func("/item/scan/structure", test_scan_structure);
	g_test_add_func("/item/scan/files", test_scan_files);
	return g_test_run();
}
