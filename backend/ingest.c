#include "ingest.h"
#include "item.h"
#include "imip.h"
#include "ictext.h"
#include "error.h"
#include "log.h"

#include <string.h>

static gboolean reply_time(gpointer data, const char *uid, const char *attendee,
			   gint64 *when)
{
	ingest_replies *r = data;
	gint64 seq;

	return r->committed
		? store_reply_get_committed(r->s, r->mailbox_id, uid, attendee, when, &seq, NULL)
		: store_reply_get(r->s, r->mailbox_id, uid, attendee, when, &seq, NULL);
}

void ingest_replies_init(ingest_replies *r, store *s, gint64 mailbox_id)
{
	r->s = s;
	r->mailbox_id = mailbox_id;
	r->committed = FALSE;
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

/* Whether the item's ORGANIZER is mailbox (read by lines: the item was
 * parsed once already). */
static gboolean organized_by(GBytes *item, const char *mailbox)
{
	ictext *t = ictext_parse(item);
	ictext_line *org = ictext_find(t, 0, "ORGANIZER", NULL, 0);
	const char *a = org ? ictext_line_value(org) : NULL;
	gboolean yes;

	if (a && !g_ascii_strncasecmp(a, "mailto:", 7))
		a += 7;
	yes = a && !g_ascii_strcasecmp(a, mailbox);
	ictext_free(t);
	return yes;
}

void ingest_queue_update(const ingest_target *t, GBytes *item)
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

/* The UID of final, when a mend may have changed it from uid (rule L1
 * takes out the space a fold of two spaces left in a UID): the store's
 * UID is the one of the bytes it keeps, which an attendee's reply names.
 * NULL when it is uid. */
static char *mended_uid(GBytes *final, const char *uid, const render_log *log)
{
	gsize len;
	const char *d = g_bytes_get_data(final, &len);
	char *now = NULL;

	if (!log || !log->mends->len || !strchr(uid, ' '))
		return NULL;
	if (!item_check(d, len, ITEM_CHECK_LENIENT, &now, NULL, NULL) || !strcmp(now, uid))
		g_clear_pointer(&now, g_free);
	return now;
}

/* Store final (rendered with log) as t says; *update: an iMIP update is due. */
static store_item *put(store *s, const ingest_target *t, GBytes *final, const char *uid,
		       const render_log *log, store_put_result *result, gboolean *update,
		       GError **err)
{
	store_item *item;
	store_put_result res = STORE_PUT_UNCHANGED;
	char *mended = mended_uid(final, uid, log);
	/* the journal says what the write repaired, as user.calfs.fixes */
	char *changes = render_describe_changes(log);
	char *note = t->note && changes ? g_strconcat(t->note, "\n", changes, NULL)
		   : g_strdup(t->note ? t->note : changes);
	/* what a write stored renders unchanged: the next read serves it
	 * without parsing it again */
	char *clean = t->policy && (t->policy->repair || t->policy->rebase)
		      ? render_clean_key(t->policy, log) : NULL;
	store_put req = { .calendar_id = t->calendar_id, .name = t->name,
			  .reserved_id = t->reserved_id, .uid = mended ? mended : uid,
			  .data = final, .note = note, .checked = clean,
			  .by_uid = t->by_uid, .expect = t->expect };

	item = store_item_put(s, &req, &res, err);
	g_free(mended);
	g_free(clean);
	g_free(note);
	g_free(changes);
	*update = item && res != STORE_PUT_UNCHANGED && t->outbox && t->mailbox &&
		  rebased(log) && organized_by(final, t->mailbox);
	if (result)
		*result = res;
	return item;
}

store_item *ingest_rendered(store *s, const ingest_target *t, GBytes *final,
			    const char *uid, const render_log *log,
			    store_put_result *result, gboolean *update, GError **err)
{
	gboolean due;
	store_item *item = put(s, t, final, uid, log, result, &due, err);

	if (update)
		*update = due;
	else if (due)
		ingest_queue_update(t, final);
	return item;
}

gboolean ingest_prepare(const ingest_target *t, GBytes *data, GPtrArray *warnings,
			ingest_prepared *p, GError **err)
{
	gsize len;
	const char *bytes = g_bytes_get_data(data, &len);
	icalcomponent *parsed = NULL;

	memset(p, 0, sizeof(*p));
	/* parsed once: the check's parse is the rendering's; a policy that
	 * neither repairs nor rebases (an import's) renders without one */
	if (!item_check_parsed(bytes, len, t->mode, &p->uid, warnings,
			       t->policy->repair || t->policy->rebase ? &parsed : NULL,
			       err))
		return FALSE;
	render_log_init(&p->log);
	p->final = render_item_parsed(data, parsed, t->policy, &p->log);
	return TRUE;
}

void ingest_prepared_clear(ingest_prepared *p)
{
	g_clear_pointer(&p->uid, g_free);
	g_clear_pointer(&p->final, g_bytes_unref);
	render_log_clear(&p->log);
}

store_item *ingest_store(store *s, const ingest_target *t, const ingest_prepared *p,
			 store_put_result *result, gboolean *update, GError **err)
{
	return put(s, t, p->final, p->uid, &p->log, result, update, err);
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
	item = ingest_rendered(s, t, final, uid, &log, result, NULL, err);
	render_log_clear(&log);
	g_bytes_unref(final);
	return item;
}

store_item *ingest_item(store *s, const ingest_target *t, GBytes *data,
			store_put_result *result, GPtrArray *warnings,
			GError **err)
{
	ingest_prepared p;
	gboolean update;
	store_item *item;

	if (!ingest_prepare(t, data, warnings, &p, err))
		return NULL;
	item = ingest_store(s, t, &p, result, &update, err);
	if (update)
		ingest_queue_update(t, p.final);
	ingest_prepared_clear(&p);
	return item;
}
