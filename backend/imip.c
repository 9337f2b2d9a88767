#include "imip.h"
#include "ictext.h"
#include "error.h"
#include "item.h"
#include "repair.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *bare_address(const char *cal_address)
{
	if (cal_address && !g_ascii_strncasecmp(cal_address, "mailto:", 7))
		cal_address += 7;
	return g_strdup(cal_address ? cal_address : "");
}

static icalcomponent *master(icalcomponent *cal)
{
	icalcomponent *c, *first = NULL;

	for (c = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT); c;
	     c = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT)) {
		if (!first)
			first = c;
		if (!icalcomponent_get_first_property(c, ICAL_RECURRENCEID_PROPERTY))
			return c;
	}
	return first;
}

static void set_x(icalcomponent *c, const char *name, const char *value)
{
	icalproperty *p;

	for (p = icalcomponent_get_first_property(c, ICAL_X_PROPERTY); p;
	     p = icalcomponent_get_next_property(c, ICAL_X_PROPERTY))
		if (!g_ascii_strcasecmp(icalproperty_get_x_name(p), name)) {
			icalproperty_set_x(p, value);
			return;
		}
}

/* Drop libical's X-LIC-ERROR markers from c and below. */
static void drop_errors(icalcomponent *c)
{
	icalproperty *p;
	icalcomponent *s;

	while ((p = icalcomponent_get_first_property(c, ICAL_XLICERROR_PROPERTY))) {
		icalcomponent_remove_property(c, p);
		icalproperty_free(p);
	}
	for (s = icalcomponent_get_first_component(c, ICAL_ANY_COMPONENT); s;
	     s = icalcomponent_get_next_component(c, ICAL_ANY_COMPONENT))
		drop_errors(s);
}

/* Turn the item into the message's calendar object. */
static void prepare(icalcomponent *cal, imip_kind kind, gint64 now)
{
	icalproperty *m;
	icalcomponent *c;
	struct icaltimetype stamp = icaltime_from_timet_with_zone(
		(time_t)now, 0, icaltimezone_get_utc_timezone());
	char *owner = repair_format_time(now);

	drop_errors(cal);
	while ((m = icalcomponent_get_first_property(cal, ICAL_METHOD_PROPERTY))) {
		icalcomponent_remove_property(cal, m);
		icalproperty_free(m);
	}
	icalcomponent_add_property(cal, icalproperty_new_method(
		kind == IMIP_CANCEL ? ICAL_METHOD_CANCEL : ICAL_METHOD_REQUEST));
	for (c = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT); c;
	     c = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT)) {
		icalcomponent_set_sequence(c, icalcomponent_get_sequence(c) + 1);
		icalcomponent_set_dtstamp(c, stamp);
		/* the organizer's critical change is now (MS-OXCICAL) */
		set_x(c, "X-MICROSOFT-CDO-OWNER-CRITICAL-CHANGE", owner);
		if (kind == IMIP_CANCEL)
			icalcomponent_set_status(c, ICAL_STATUS_CANCELLED);
	}
	g_free(owner);
}

static char *when_text(icalcomponent *ev)
{
	icalproperty *p = icalcomponent_get_first_property(ev, ICAL_DTSTART_PROPERTY);
	icalparameter *tz;

	if (!p)
		return g_strdup("(no start time)");
	tz = icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER);
	return g_strdup_printf("%s%s%s", icalproperty_get_value_as_string(p),
			       tz ? " " : "", tz ? icalparameter_get_tzid(tz) : "");
}

/* A text part holding utf8 as UTF-8.  (g_mime_text_part_set_text would
 * pick a charset of its own, Latin-1 for "été".) */
static GMimeTextPart *utf8_part(const char *subtype, const char *utf8,
				GMimeContentEncoding encoding)
{
	GMimeTextPart *p = g_mime_text_part_new_with_subtype(subtype);
	GMimeStream *st = g_mime_stream_mem_new_with_buffer(utf8, strlen(utf8));
	GMimeDataWrapper *w = g_mime_data_wrapper_new_with_stream(st, GMIME_CONTENT_ENCODING_DEFAULT);

	g_mime_part_set_content(GMIME_PART(p), w);
	g_mime_object_set_content_type_parameter(GMIME_OBJECT(p), "charset", "utf-8");
	g_mime_part_set_content_encoding(GMIME_PART(p), encoding);
	g_object_unref(w);
	g_object_unref(st);
	return p;
}

static GMimeObject *text_part(const char *text)
{
	return GMIME_OBJECT(utf8_part("plain", text, GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE));
}

static GMimeObject *calendar_part(const char *ics, imip_kind kind)
{
	GMimeTextPart *p = utf8_part("calendar", ics, GMIME_CONTENT_ENCODING_BASE64);

	g_mime_object_set_content_type_parameter(GMIME_OBJECT(p), "method",
						 kind == IMIP_CANCEL ? "CANCEL" : "REQUEST");
	return GMIME_OBJECT(p);
}

static int add_recipients(GMimeMessage *msg, icalcomponent *ev, const char *organizer)
{
	icalproperty *p;
	int n = 0;

	for (p = icalcomponent_get_first_property(ev, ICAL_ATTENDEE_PROPERTY); p;
	     p = icalcomponent_get_next_property(ev, ICAL_ATTENDEE_PROPERTY)) {
		char *addr = bare_address(icalproperty_get_attendee(p));
		const char *cn = icalproperty_get_parameter_as_string(p, "CN");

		if (*addr && g_ascii_strcasecmp(addr, organizer)) {
			g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_TO, cn, addr);
			n++;
		}
		g_free(addr);
	}
	return n;
}

GMimeMessage *imip_build(GBytes *item, imip_kind kind, const char *mailbox,
			 gint64 now, GError **err)
{
	icalcomponent *cal = item_parse(g_bytes_get_data(item, NULL),
					g_bytes_get_size(item));
	icalcomponent *ev;
	icalproperty *org;
	GMimeMessage *msg = NULL;
	GMimeMultipart *alt;
	GDateTime *date;
	char *organizer = NULL, *ics = NULL, *when = NULL, *body = NULL;
	char *subject = NULL, *id = NULL;
	const char *summary, *cn = NULL, *domain;

	if (!cal || !(ev = master(cal))) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_INVALID, "not an event");
		goto out;
	}
	prepare(cal, kind, now);
	org = icalcomponent_get_first_property(ev, ICAL_ORGANIZER_PROPERTY);
	organizer = org ? bare_address(icalproperty_get_organizer(org)) : g_strdup(mailbox);
	if (org)
		cn = icalproperty_get_parameter_as_string(org, "CN");
	msg = g_mime_message_new(TRUE);
	g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_FROM, cn, organizer);
	if (!add_recipients(msg, ev, organizer)) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_INVALID,
			    "UID %s: no attendee to send to", icalcomponent_get_uid(ev));
		g_clear_object(&msg);
		goto out;
	}
	summary = icalcomponent_get_summary(ev);
	subject = g_strdup_printf("%s: %s", kind == IMIP_CANCEL ? "Canceled" : "Updated",
				  summary ? summary : "(no title)");
	g_mime_message_set_subject(msg, subject, "utf-8");
	date = g_date_time_new_from_unix_utc(now);
	g_mime_message_set_date(msg, date);
	g_date_time_unref(date);
	domain = strchr(organizer, '@');
	id = g_mime_utils_generate_message_id(domain && domain[1] ? domain + 1 : "calfs.invalid");
	g_mime_message_set_message_id(msg, id);
	if (!(ics = ictext_write_component(cal))) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_INVALID,
			    "the item cannot be written out");
		g_clear_object(&msg);
		goto out;
	}
	when = when_text(ev);
	body = g_strdup_printf("%s\n\nWhen: %s\nWhere: %s\n\n%s\n",
			       subject, when,
			       icalcomponent_get_location(ev) ? icalcomponent_get_location(ev) : "",
			       kind == IMIP_CANCEL ? "This meeting has been cancelled."
						   : "This meeting has been updated.");
	alt = g_mime_multipart_new_with_subtype("alternative");
	{
		GMimeObject *t = text_part(body), *c = calendar_part(ics, kind);

		g_mime_multipart_add(alt, t);
		g_mime_multipart_add(alt, c);
		g_object_unref(t);
		g_object_unref(c);
	}
	g_mime_message_set_mime_part(msg, GMIME_OBJECT(alt));
	g_object_unref(alt);
out:
	if (cal)
		icalcomponent_free(cal);
	free(ics);
	g_free(organizer);
	g_free(when);
	g_free(body);
	g_free(subject);
	g_free(id);
	return msg;
}

static gboolean make_dir(const char *dir, const char *sub, GError **err)
{
	char *path = g_build_filename(dir, sub, NULL);
	int rc = g_mkdir_with_parents(path, 0700), saved = errno;

	if (rc < 0)
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_IO, "%s: %s", path,
			    g_strerror(saved));
	g_free(path);
	return rc == 0;
}

char *imip_write(GMimeMessage *message, const char *dir, gboolean maildir,
		 GError **err)
{
	static gint counter;
	char *name = g_strdup_printf("%" G_GINT64_FORMAT ".%d_%d.calfs%s",
				     g_get_real_time() / G_USEC_PER_SEC, (int)getpid(),
				     g_atomic_int_add(&counter, 1), maildir ? "" : ".eml");
	char *text = g_mime_object_to_string(GMIME_OBJECT(message), NULL);
	char *path = NULL, *tmp = NULL;

	if (!maildir) {
		/* g_file_set_contents writes a temporary file and renames it */
		path = g_build_filename(dir, name, NULL);
		if (!make_dir(dir, "", err) || !g_file_set_contents(path, text, -1, err))
			g_clear_pointer(&path, g_free);
		goto out;
	}
	/* Maildir: written in tmp/, then moved to new/ */
	if (!make_dir(dir, "tmp", err) || !make_dir(dir, "new", err) ||
	    !make_dir(dir, "cur", err))
		goto out;
	tmp = g_build_filename(dir, "tmp", name, NULL);
	path = g_build_filename(dir, "new", name, NULL);
	if (!g_file_set_contents(tmp, text, -1, err)) {
		g_clear_pointer(&path, g_free);
	} else if (rename(tmp, path) < 0) {
		int saved = errno;

		g_set_error(err, CALFS_ERROR, CALFS_ERROR_IO, "%s: %s", path,
			    g_strerror(saved));
		unlink(tmp);
		g_clear_pointer(&path, g_free);
	}
out:
	g_free(tmp);
	g_free(text);
	g_free(name);
	return path;
}
