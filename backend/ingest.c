#include "ingest.h"

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

store_item *ingest_item(store *s, const ingest_target *t, GBytes *data,
			store_put_result *result, GPtrArray *warnings,
			GError **err)
{
	char *uid = NULL;
	GBytes *final;
	store_item *item;
	gsize len;
	const char *bytes = g_bytes_get_data(data, &len);
	store_put req = { .calendar_id = t->calendar_id, .name = t->name,
			  .reserved_id = t->reserved_id };

	if (!item_check(bytes, len, t->mode, &uid, warnings, err))
		return NULL;
	final = render_item(data, t->policy, NULL);
	req.uid = uid;
	req.data = final;
	item = store_item_put(s, &req, result, err);
	g_bytes_unref(final);
	g_free(uid);
	return item;
}
