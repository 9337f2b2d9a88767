#include "ingest.h"
#include "imip.h"
#include "error.h"
#include "log.h"

static gboolean reply_time(gpointer data, const char *uid, const char *attendee,
			   gint64 *when)
{
	ingest_replies *r = data;
	gint64 seq;

	return store_reply_get(r->s, r->mailbox_id, uid, attendee, when, &seq, NULL);
}

void ingest_replies_init(ingest_replies *r, store *s, gint64 mailbox_id)
{
	r->s = s;
	r->mailbox_id = mailbox_id;
	r->ctx.reply_time = reply_time;
	r->ctx.data = r;
}

static gboolean rebased(const render_log *log)
{
	for (guint i = 0; i < log->rebases->len; i++)
		if (((tz_fix *)log->rebases->pdata[i])->applied)
			return TRUE;
	return FALSE;
}

/* Whether the item's ORGANIZER is mailbox. */
static gboolean organized_by(GBytes *item, const char *mailbox)
{
	icalcomponent *cal = item_parse(g_bytes_get_data(item, NULL), g_bytes_get_size(item));
	icalcomponent *ev = cal ? icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT) : NULL;
	icalproperty *org = ev ? icalcomponent_get_first_property(ev, ICAL_ORGANIZER_PROPERTY) : NULL;
	const char *a = org ? icalproperty_get_organizer(org) : NULL;
	gboolean yes;

	if (a && !g_ascii_strncasecmp(a, "mailto:", 7))
		a += 7;
	yes = a && !g_ascii_strcasecmp(a, mailbox);
	if (cal)
		icalcomponent_free(cal);
	return yes;
}

/* Queue an update of item for its attendees; a failure is logged only:
 * the item is stored. */
static void queue_update(const ingest_target *t, GBytes *item)
{
	GError *e = NULL;
	GMimeMessage *msg = imip_build(item, IMIP_UPDATE, t->mailbox,
				       g_get_real_time() / G_USEC_PER_SEC, &e);
	char *path = msg ? imip_write(msg, t->outbox, TRUE, &e) : NULL;

	if (!msg && g_error_matches(e, CALFS_ERROR, CALFS_ERROR_INVALID))
		g_clear_error(&e);	/* no attendee: nobody to tell */
	if (e) {
		log_error("%s/%s: update for the attendees not queued: %s",
			  t->mailbox, t->name, e->message);
		g_error_free(e);
	}
	g_free(path);
	if (msg)
		g_object_unref(msg);
}

store_item *ingest_rendered(store *s, const ingest_target *t, GBytes *final,
			    const char *uid, const render_log *log,
			    store_put_result *result, GError **err)
{
	store_item *item;
	store_put_result res = STORE_PUT_UNCHANGED;
	/* the journal says what the write repaired, as user.calfs.fixes */
	char *changes = render_describe_changes(log);
	char *note = t->note && changes ? g_strconcat(t->note, "\n", changes, NULL)
		   : g_strdup(t->note ? t->note : changes);
	store_put req = { .calendar_id = t->calendar_id, .name = t->name,
			  .reserved_id = t->reserved_id, .uid = uid,
			  .data = final, .note = note };

	item = store_item_put(s, &req, &res, err);
	g_free(note);
	g_free(changes);
	if (item && res != STORE_PUT_UNCHANGED && t->outbox && t->mailbox &&
	    rebased(log) && organized_by(final, t->mailbox))
		queue_update(t, final);
	if (result)
		*result = res;
	return item;
}

store_item *ingest_checked(store *s, const ingest_target *t, GBytes *data,
			   const char *uid, store_put_result *result,
			   GError **err)
{
	render_log log;
	GBytes *final;
	store_item *item;

	render_log_init(&log);
	final = render_item(data, t->policy, &log);
	item = ingest_rendered(s, t, final, uid, &log, result, err);
	render_log_clear(&log);
	g_bytes_unref(final);
	return item;
}

store_item *ingest_item(store *s, const ingest_target *t, GBytes *data,
			store_put_result *result, GPtrArray *warnings,
			GError **err)
{
	char *uid = NULL;
	store_item *item;
	gsize len;
	const char *bytes = g_bytes_get_data(data, &len);

	if (!item_check(bytes, len, t->mode, &uid, warnings, err))
		return NULL;
	item = ingest_checked(s, t, data, uid, result, err);
	g_free(uid);
	return item;
}
