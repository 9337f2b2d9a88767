/* report.h - what the read view would repair and rebase, counted */
#ifndef CALFS_REPORT_H
#define CALFS_REPORT_H

#include <glib.h>
#include "conf.h"
#include "store.h"

/* report_text: the counts for mailbox_id (0: every mailbox) as "key: value"
 * lines: items, track-status broken, repairs by rule, rebases, conflicts.
 * They are those of a dry run of calfs fix.  Newly allocated, or NULL with
 * err set when the store fails. */
char *report_text(store *s, const conf *c, gint64 mailbox_id, GError **err);

#endif
