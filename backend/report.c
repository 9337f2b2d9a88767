#include "report.h"
#include "fix.h"

char *report_text(store *s, const conf *c, gint64 mailbox_id, GError **err)
{
	fix_options o = { .dry_run = TRUE, .repair = c->repair_on_read, .rebase = c->rebase,
			  .jobs = 1, .mailbox_id = mailbox_id };
	fix_stats st;
	char *text;

	if (!fix_run(s, c, &o, &st, err)) {
		fix_stats_clear(&st);
		return NULL;
	}
	text = g_strdup_printf(
		"track-status items: %" G_GINT64_FORMAT "\n"
		"track-status broken: %" G_GINT64_FORMAT "\n"
		"track-status repairs on read: %" G_GINT64_FORMAT "\n"
		"track-status repairs T2: %" G_GINT64_FORMAT "\n"
		"track-status repairs T3: %" G_GINT64_FORMAT "\n"
		"track-status repairs T4: %" G_GINT64_FORMAT "\n"
		"track-status repairs T5: %" G_GINT64_FORMAT "\n"
		"rebases on read: %" G_GINT64_FORMAT "\n"
		"time-zone conflicts: %" G_GINT64_FORMAT "\n"
		"items to fix: %" G_GINT64_FORMAT "\n",
		st.items_done, st.items_repaired, st.repairs, st.by_rule[2], st.by_rule[3],
		st.by_rule[4], st.by_rule[5], st.rebases, st.conflicts, st.items_changed);
	fix_stats_clear(&st);
	return text;
}
