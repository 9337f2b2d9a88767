/* Unit tests: rule T6 (replies), requests and cancellations on a real
 * store, and outgoing iMIP messages parsed back with GMime and libical */
#include "error.h"
#include "imip.h"
#include "item.h"
#include "itip.h"
#include "mail.h"
#include "repair.h"
#include "store.h"
#include "tz.h"

#include <glib/gstdio.h>
#include <string.h>

#define ORG "mailto:alice@example.com"

typedef struct {
	char *dir;
	store *s;
	store_calendar *cal;
	itip sc;
	itip_stats st;
} fixture;

static const char organizer_item[] =
	"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Exchange//EN\r\n"
	"BEGIN:VEVENT\r\nUID:m1\r\nSEQUENCE:2\r\nDTSTAMP:20090901T000000Z\r\n"
	"LAST-MODIFIED:20090902T000000Z\r\nSUMMARY:Budget\r\n"
	"DTSTART:20091001T100000Z\r\nX-UNTOUCHED:keep me\r\n"
	"ORGANIZER;CN=Alice:" ORG "\r\n"
	"ATTENDEE;CN=Bob;PARTSTAT=NEEDS-ACTION;X-REPLYTIME=16010101T000000Z:mailto:bob@example.net\r\n"
	"ATTENDEE;CN=Carol;PARTSTAT=NEEDS-ACTION:mailto:carol@example.net\r\n"
	"END:VEVENT\r\nEND:VCALENDAR\r\n";

static void setup(fixture *f, gconstpointer data)
{
	store_mailbox *m;
	GBytes *b = g_bytes_new_static(organizer_item, strlen(organizer_item));
	store_put req = { .name = "m1.ics", .uid = "m1", .data = b };
	store_item *it;

	(void)data;
	f->dir = g_dir_make_tmp("calfs-itip-XXXXXX", NULL);
	{
		char *path = g_build_filename(f->dir, "t.db", NULL);

		f->s = store_open(path, "test", STORE_CREATE, NULL);
		g_free(path);
	}
	m = store_mailbox_create(f->s, "alice@example.com", NULL);
	f->cal = store_calendar_create(f->s, m->id, "Calendar", NULL);
	req.calendar_id = f->cal->id;
	it = store_item_put(f->s, &req, NULL, NULL);
	g_assert_nonnull(it);
	store_item_free(it);
	store_mailbox_free(m);
	g_bytes_unref(b);
	itip_init(&f->sc, f->s, "alice@example.com", f->cal, &f->st);
}

static void teardown(fixture *f, gconstpointer data)
{
	const char *suffixes[] = { "t.db", "t.db-wal", "t.db-shm" };

	(void)data;
	store_calendar_free(f->cal);
	store_close(f->s);
	for (gsize i = 0; i < G_N_ELEMENTS(suffixes); i++) {
		char *p = g_build_filename(f->dir, suffixes[i], NULL);

		g_unlink(p);
		g_free(p);
	}
	g_rmdir(f->dir);
	g_free(f->dir);
}

static void process(fixture *f, const char *text, const char *sender)
{
	GBytes *b = g_bytes_new(text, strlen(text));
	GError *err = NULL;

	g_assert_true(itip_process(&f->sc, b, sender, "test", &err));
	g_assert_no_error(err);
	g_bytes_unref(b);
}

/* The stored item called name, with its folds undone. */
static char *stored_as(fixture *f, const char *name)
{
	store_item *it = store_item_find(f->s, f->cal->id, name, TRUE, NULL);
	GString *s = g_string_new(NULL);
	gsize len;
	const char *d = g_bytes_get_data(it->data, &len);

	for (gsize i = 0; i < len; i++) {
		if (d[i] == '\r' && i + 2 < len && d[i + 1] == '\n' && d[i + 2] == ' ') {
			i += 2;
			continue;
		}
		g_string_append_c(s, d[i]);
	}
	store_item_free(it);
	return g_string_free(s, FALSE);
}

/* The stored organizer's item, with its folds undone. */
static char *stored(fixture *f)
{
	return stored_as(f, "m1.ics");
}

static char *reply(const char *who, const char *partstat, int seq,
		   const char *dtstamp, const char *acc)
{
	return g_strdup_printf(
		"BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\nUID:m1\r\n"
		"SEQUENCE:%d\r\nDTSTAMP:%s\r\n%s%s%s"
		"ORGANIZER:" ORG "\r\nATTENDEE;PARTSTAT=%s:mailto:%s\r\n"
		"END:VEVENT\r\nEND:VCALENDAR\r\n", seq, dtstamp,
		acc ? "X-MICROSOFT-CDO-ATTENDEE-CRITICAL-CHANGE:" : "", acc ? acc : "",
		acc ? "\r\n" : "", partstat, who);
}

static void test_reply_with_critical_change(fixture *f, gconstpointer data)
{
	char *r = reply("bob@example.net", "ACCEPTED", 2, "20090920T000000Z",
			"20090920T183000Z");
	char *t;
	gint64 when, seq;

	(void)data;
	process(f, r, "Bob@Example.NET");
	t = stored(f);
	g_assert_nonnull(strstr(t, "ATTENDEE;CN=Bob;PARTSTAT=ACCEPTED;X-REPLYTIME=20090920T183000Z:"
				"mailto:bob@example.net\r\n"));
	/* nothing else moved */
	g_assert_nonnull(strstr(t, "X-UNTOUCHED:keep me\r\n"));
	g_assert_nonnull(strstr(t, "ATTENDEE;CN=Carol;PARTSTAT=NEEDS-ACTION:mailto:carol@example.net\r\n"));
	g_assert_cmpuint(f->st.replies, ==, 1);
	g_assert_true(store_reply_get(f->s, f->cal->mailbox_id, "m1",
				      "MAILTO:BOB@example.net", &when, &seq, NULL));
	g_assert_cmpint(when, ==, 1253471400);
	g_assert_cmpint(seq, ==, 2);
	g_free(t);
	g_free(r);
}

static void test_reply_without_critical_change(fixture *f, gconstpointer data)
{
	char *r = reply("carol@example.net", "DECLINED", 3, "20090921T080000Z", NULL);
	char *t;

	(void)data;
	process(f, r, NULL);	/* no sender: the only ATTENDEE */
	t = stored(f);
	g_assert_nonnull(strstr(t, "PARTSTAT=DECLINED;X-REPLYTIME=20090921T080000Z"));
	g_free(t);
	g_free(r);
	/* a broken critical change: DTSTAMP again */
	r = reply("carol@example.net", "TENTATIVE", 3, "20090922T080000Z", "16010101T000000Z");
	process(f, r, NULL);
	t = stored(f);
	g_assert_nonnull(strstr(t, "PARTSTAT=TENTATIVE;X-REPLYTIME=20090922T080000Z"));
	g_assert_cmpuint(f->st.replies, ==, 2);
	g_free(t);
	g_free(r);
}

/* Only the replier's ATTENDEE lines are parsed: one whose address holds
 * the replier's and is another, one cut by a fold in its address (in
 * another case), and the one the reply is from */
static void test_reply_among_attendees(fixture *f, gconstpointer data)
{
	static const char item[] =
		"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Exchange//EN\r\n"
		"BEGIN:VEVENT\r\nUID:m2\r\nSEQUENCE:0\r\nDTSTAMP:20090901T000000Z\r\n"
		"DTSTART:20091001T100000Z\r\nORGANIZER:" ORG "\r\n"
		"ATTENDEE;CN=Xbob;PARTSTAT=NEEDS-ACTION:mailto:xbob@example.net\r\n"
		"ATTENDEE;CN=Dave;PARTSTAT=NEEDS-ACTION:mailto:dave@example.net\r\n"
		"ATTENDEE;CN=Bob;PARTSTAT=NEEDS-ACTION:MAILTO:BOB@EXAM\r\n PLE.NET\r\n"
		"END:VEVENT\r\nEND:VCALENDAR\r\n";
	GBytes *b = g_bytes_new_static(item, strlen(item));
	store_put req = { .calendar_id = f->cal->id, .name = "m2.ics", .uid = "m2", .data = b };
	store_item *it = store_item_put(f->s, &req, NULL, NULL);
	char *r = g_strdup_printf(
		"BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\nUID:m2\r\nSEQUENCE:0\r\n"
		"DTSTAMP:20090920T000000Z\r\nORGANIZER:" ORG "\r\n"
		"ATTENDEE;PARTSTAT=ACCEPTED:mailto:bob@example.net\r\n"
		"END:VEVENT\r\nEND:VCALENDAR\r\n");
	char *t;

	(void)data;
	g_assert_nonnull(it);
	store_item_free(it);
	process(f, r, NULL);
	g_assert_cmpuint(f->st.replies, ==, 1);
	t = stored_as(f, "m2.ics");
	g_assert_nonnull(strstr(t, "ATTENDEE;CN=Xbob;PARTSTAT=NEEDS-ACTION:mailto:xbob@example.net\r\n"));
	g_assert_nonnull(strstr(t, "ATTENDEE;CN=Dave;PARTSTAT=NEEDS-ACTION:mailto:dave@example.net\r\n"));
	g_assert_nonnull(strstr(t, "ATTENDEE;CN=Bob;PARTSTAT=ACCEPTED;X-REPLYTIME=20090920T000000Z:"
				"MAILTO:BOB@EXAMPLE.NET\r\n"));
	g_free(t);
	g_free(r);
	g_bytes_unref(b);
}

static void test_stale_replies(fixture *f, gconstpointer data)
{
	char *newer = reply("bob@example.net", "ACCEPTED", 2, "20090925T000000Z", NULL);
	char *older = reply("bob@example.net", "DECLINED", 2, "20090924T000000Z", NULL);
	char *lower = reply("bob@example.net", "DECLINED", 1, "20090930T000000Z", NULL);
	char *before, *t;

	(void)data;
	process(f, newer, NULL);
	before = stored(f);
	/* out of order: an older reply arrives after a newer one */
	process(f, older, NULL);
	/* a reply to an earlier version of the meeting */
	process(f, lower, NULL);
	/* the same reply again */
	process(f, newer, NULL);
	t = stored(f);
	g_assert_cmpstr(t, ==, before);
	g_assert_nonnull(strstr(t, "PARTSTAT=ACCEPTED;X-REPLYTIME=20090925T000000Z"));
	g_assert_cmpuint(f->st.replies, ==, 1);
	g_assert_cmpuint(f->st.stale, ==, 3);
	g_free(t);
	g_free(before);
	g_free(newer);
	g_free(older);
	g_free(lower);
}

static void test_reply_refused(fixture *f, gconstpointer data)
{
	char *stranger = reply("mallory@example.net", "ACCEPTED", 2, "20090925T000000Z", NULL);
	char *before = stored(f), *t;
	const char *two = "BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\nUID:m1\r\n"
		"DTSTAMP:20090925T000000Z\r\nATTENDEE;PARTSTAT=ACCEPTED:mailto:bob@example.net\r\n"
		"ATTENDEE;PARTSTAT=ACCEPTED:mailto:carol@example.net\r\n"
		"END:VEVENT\r\nEND:VCALENDAR\r\n";
	const char *unknown = "BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\nUID:nope\r\n"
		"DTSTAMP:20090925T000000Z\r\nATTENDEE;PARTSTAT=ACCEPTED:mailto:bob@example.net\r\n"
		"END:VEVENT\r\nEND:VCALENDAR\r\n";

	(void)data;
	process(f, stranger, NULL);			/* not an attendee */
	process(f, two, "someone@else.example");	/* sender matches neither */
	process(f, unknown, NULL);			/* no such UID */
	process(f, "BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\n", NULL);	/* broken */
	t = stored(f);
	g_assert_cmpstr(t, ==, before);
	g_assert_cmpuint(f->st.skipped, ==, 4);
	g_assert_cmpuint(f->st.replies, ==, 0);
	g_free(t);
	g_free(before);
	g_free(stranger);
}

static void test_cancel(fixture *f, gconstpointer data)
{
	const char *stale = "BEGIN:VCALENDAR\r\nMETHOD:CANCEL\r\nBEGIN:VEVENT\r\nUID:m1\r\n"
		"SEQUENCE:1\r\nDTSTAMP:20090925T000000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
	const char *cancel = "BEGIN:VCALENDAR\r\nMETHOD:CANCEL\r\nBEGIN:VEVENT\r\nUID:m1\r\n"
		"SEQUENCE:3\r\nDTSTAMP:20090925T000000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
	char *t;

	(void)data;
	process(f, stale, NULL);
	g_assert_cmpuint(f->st.stale, ==, 1);
	t = stored(f);
	g_assert_null(strstr(t, "STATUS:CANCELLED"));
	g_free(t);
	process(f, cancel, NULL);
	t = stored(f);
	g_assert_nonnull(strstr(t, "STATUS:CANCELLED\r\nEND:VEVENT"));
	g_assert_cmpuint(f->st.cancelled, ==, 1);
	g_free(t);
}

static void test_request(fixture *f, gconstpointer data)
{
	const char *req = "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:r1\r\n"
		"SEQUENCE:1\r\nDTSTAMP:20090925T000000Z\r\nSUMMARY:first\r\n"
		"END:VEVENT\r\nEND:VCALENDAR\r\n";
	const char *older = "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:r1\r\n"
		"SEQUENCE:0\r\nDTSTAMP:20090925T000000Z\r\nSUMMARY:older\r\n"
		"END:VEVENT\r\nEND:VCALENDAR\r\n";
	store_item *it;

	(void)data;
	process(f, req, NULL);
	process(f, older, NULL);
	g_assert_cmpuint(f->st.created, ==, 1);
	g_assert_cmpuint(f->st.stale, ==, 1);
	it = store_item_find(f->s, f->cal->id, "r1.ics", TRUE, NULL);
	g_assert_nonnull(it);
	g_assert_nonnull(g_strstr_len(g_bytes_get_data(it->data, NULL),
				      g_bytes_get_size(it->data), "SUMMARY:first"));
	/* a stored item carries no METHOD */
	g_assert_null(g_strstr_len(g_bytes_get_data(it->data, NULL),
				   g_bytes_get_size(it->data), "METHOD"));
	store_item_free(it);
}

/* ---- outgoing messages ---- */

static GMimeMessage *parse_back(GMimeMessage *msg)
{
	char *text = g_mime_object_to_string(GMIME_OBJECT(msg), NULL);
	GMimeStream *st = g_mime_stream_mem_new_with_buffer(text, strlen(text));
	GMimeParser *p = g_mime_parser_new_with_stream(st);
	GMimeMessage *back = g_mime_parser_construct_message(p, NULL);

	g_object_unref(p);
	g_object_unref(st);
	g_free(text);
	return back;
}

static void check_message(imip_kind kind)
{
	const char *damaged =
		"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:m1\r\nSEQUENCE:4\r\n"
		"DTSTAMP:20090901T000000Z\r\nSUMMARY:Budget \xc3\xa9t\xc3\xa9\r\n"
		"DTSTART:20091001T100000Z\r\n"
		"X-MICROSOFT-CDO-OWNER-CRITICAL-CHANGE:16010101T000000Z\r\n"
		"ORGANIZER;CN=Alice:" ORG "\r\n"
		"ATTENDEE;PARTSTAT=ACCEPTED;X-REPLYTIME=16010101T000000Z:mailto:bob@example.net\r\n"
		"END:VEVENT\r\nEND:VCALENDAR\r\n";
	GBytes *in = g_bytes_new_static(damaged, strlen(damaged)), *repaired;
	icalcomponent *cal = item_parse(damaged, strlen(damaged)), *back_cal, *ev;
	GPtrArray *fixes = repair_component(cal, NULL), *parts, *again;
	GMimeMessage *msg, *back;
	GError *err = NULL;
	GBytes *part;
	const char *method = kind == IMIP_CANCEL ? "CANCEL" : "REQUEST";

	repaired = repair_apply_text(in, fixes);
	msg = imip_build(repaired, kind, "alice@example.com", 1700000000, &err);
	g_assert_no_error(err);
	g_assert_nonnull(msg);
	back = parse_back(msg);
	g_assert_nonnull(back);
	{
		char *sender = mail_sender(back);

		g_assert_cmpstr(sender, ==, "alice@example.com");
		g_free(sender);
	}
	g_assert_nonnull(g_mime_message_get_message_id(back));
	g_assert_nonnull(g_mime_message_get_date(back));
	g_assert_cmpint(internet_address_list_length(g_mime_message_get_to(back)), ==, 1);
	g_assert_true(GMIME_IS_MULTIPART(g_mime_message_get_mime_part(back)));
	g_assert_cmpstr(g_mime_content_type_get_media_subtype(g_mime_object_get_content_type(
		g_mime_message_get_mime_part(back))), ==, "alternative");
	parts = mail_calendar_parts(back);
	g_assert_cmpuint(parts->len, ==, 1);
	part = parts->pdata[0];
	back_cal = item_parse(g_bytes_get_data(part, NULL), g_bytes_get_size(part));
	g_assert_nonnull(back_cal);
	g_assert_cmpint(icalcomponent_count_errors(back_cal), ==, 0);
	g_assert_cmpstr(icalproperty_method_to_string(icalcomponent_get_method(back_cal)), ==, method);
	ev = icalcomponent_get_first_component(back_cal, ICAL_VEVENT_COMPONENT);
	g_assert_cmpint(icalcomponent_get_sequence(ev), ==, 5);
	g_assert_cmpstr(icalcomponent_get_summary(ev), ==, "Budget \xc3\xa9t\xc3\xa9");
	if (kind == IMIP_CANCEL)
		g_assert_cmpint(icalcomponent_get_status(ev), ==, ICAL_STATUS_CANCELLED);
	/* no broken time: the rules find nothing left to repair */
	again = repair_component(back_cal, NULL);
	g_assert_cmpuint(again->len, ==, 0);
	g_assert_null(g_strstr_len(g_bytes_get_data(part, NULL), g_bytes_get_size(part), "1601"));
	g_ptr_array_unref(again);
	icalcomponent_free(back_cal);
	g_ptr_array_unref(parts);
	g_object_unref(back);
	g_object_unref(msg);
	g_ptr_array_unref(fixes);
	icalcomponent_free(cal);
	g_bytes_unref(repaired);
	g_bytes_unref(in);
}

static void test_update_message(void)
{
	check_message(IMIP_UPDATE);
}

static void test_cancel_message(void)
{
	check_message(IMIP_CANCEL);
}

static void test_no_attendee(void)
{
	const char *lonely = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\n"
		"DTSTAMP:20090901T000000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
	GBytes *b = g_bytes_new_static(lonely, strlen(lonely));
	GError *err = NULL;

	g_assert_null(imip_build(b, IMIP_UPDATE, "alice@example.com", 0, &err));
	g_assert_error(err, CALFS_ERROR, CALFS_ERROR_INVALID);
	g_error_free(err);
	g_bytes_unref(b);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	tz_init();
	g_mime_init();
#define T(path, fn) g_test_add(path, fixture, NULL, setup, fn, teardown)
	T("/itip/t6/reply-critical-change", test_reply_with_critical_change);
	T("/itip/t6/reply-dtstamp", test_reply_without_critical_change);
	T("/itip/t6/among-attendees", test_reply_among_attendees);
	T("/itip/t6/stale", test_stale_replies);
	T("/itip/t6/refused", test_reply_refused);
	T("/itip/cancel", test_cancel);
	T("/itip/request", test_request);
	g_test_add_func("/imip/update", test_update_message);
	g_test_add_func("/imip/cancel", test_cancel_message);
	g_test_add_func("/imip/no-attendee", test_no_attendee);
	return g_test_run();
}
