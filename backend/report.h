/* report.h - what the repair rules find in a store, counted */
#ifndef CALFS_REPORT_H
#define CALFS_REPORT_H

#include <glib.h>
#include "conf.h"
#include "store.h"

typedef struct {
	gint64 items;		/* items looked at */
	gint64 broken;		/* items with track-status data to repair */
	gint64 repairs;		/* repairs reading applies */
	gint64 by_rule[8];	/* repairs by rule number (T2..T5) */
} report_counts;

/* report_scan: add to *out what reading would repair in the items of
 * mailbox_id (0: every mailbox).  FALSE with err set when the store
 * fails. */
gboolean report_scan(store *s, const conf *c, gint64 mailbox_id,
		     report_counts *out, GError **err);

/* report_format: the counts as "key: value" lines; newly allocated. */
char *report_format(const report_counts *r);

#endif
