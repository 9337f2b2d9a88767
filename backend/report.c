#include "report.h"
#include "ingest.h"
#include "item.h"
#include "repair.h"

static void scan_item(store_item *it, const repair_context *ctx, report_counts *out)
{
	gsize len;
	const char *data = g_bytes_get_data(it->data, &len);
	icalcomponent *cal;
	GPtrArray *fixes;

	out->items++;
	if (!repair_may_apply(data, len) || !(cal = item_parse(data, len)))
		return;
	fixes = repair_component(cal, ctx);
	if (fixes->len)
		out->broken++;
	out->repairs += fixes->len;
	for (guint i = 0; i < fixes->len; i++) {
		int rule = ((repair_fix *)fixes->pdata[i])->rule;

		if (rule >= 0 && rule < (int)G_N_ELEMENTS(out->by_rule))
			out->by_rule[rule]++;
	}
	g_ptr_array_unref(fixes);
	icalcomponent_free(cal);
}

static gboolean scan_mailbox(store *s, gint64 mailbox_id, report_counts *out,
			     GError **err)
{
	GPtrArray *cals = store_calendar_list(s, mailbox_id, err);
	ingest_replies replies;
	gboolean ok = cals != NULL;

	ingest_replies_init(&replies, s, mailbox_id);
	for (guint i = 0; ok && i < cals->len; i++) {
		GPtrArray *items = store_item_list(s, ((store_calendar *)cals->pdata[i])->id, err);

		ok = items != NULL;
		for (guint k = 0; ok && k < items->len; k++) {
			store_item *it = store_item_get(s, ((store_item *)items->pdata[k])->id,
							TRUE, NULL);

			if (it)		/* gone since the listing: not counted */
				scan_item(it, &replies.ctx, out);
			store_item_free(it);
		}
		if (items)
			g_ptr_array_unref(items);
	}
	if (cals)
		g_ptr_array_unref(cals);
	return ok;
}

gboolean report_scan(store *s, const conf *c, gint64 mailbox_id,
		     report_counts *out, GError **err)
{
	GPtrArray *mbs;
	gboolean ok = TRUE;

	(void)c;
	if (mailbox_id)
		return scan_mailbox(s, mailbox_id, out, err);
	if (!(mbs = store_mailbox_list(s, err)))
		return FALSE;
	for (guint i = 0; ok && i < mbs->len; i++)
		ok = scan_mailbox(s, ((store_mailbox *)mbs->pdata[i])->id, out, err);
	g_ptr_array_unref(mbs);
	return ok;
}

char *report_format(const report_counts *r)
{
	return g_strdup_printf(
		"track-status items: %" G_GINT64_FORMAT "\n"
		"track-status broken: %" G_GINT64_FORMAT "\n"
		"track-status repairs on read: %" G_GINT64_FORMAT "\n"
		"track-status repairs T2: %" G_GINT64_FORMAT "\n"
		"track-status repairs T3: %" G_GINT64_FORMAT "\n"
		"track-status repairs T4: %" G_GINT64_FORMAT "\n"
		"track-status repairs T5: %" G_GINT64_FORMAT "\n",
		r->items, r->broken, r->repairs, r->by_rule[2], r->by_rule[3],
		r->by_rule[4], r->by_rule[5]);
}
