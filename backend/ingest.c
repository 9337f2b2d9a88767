#include "ingest.h"

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
