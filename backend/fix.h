/* fix.h - calfs fix: persist what the read view repairs and rebases
 *
 * Each item is rendered as the mount renders it for reading; an item
 * whose rendering differs is stored so, in a transaction of its own, under
 * the store's current journal run.  Mailboxes are fixed in parallel; a
 * killed run leaves every item old or new, and running it again finishes
 * the work (items already fixed need nothing more).
 */
#ifndef CALFS_FIX_H
#define CALFS_FIX_H

#include <glib.h>
#include "conf.h"
#include "store.h"

typedef struct {
	gint64 items_total;	/* items in scope, counted first when there
				 * is a progress callback (else 0) */
	gint64 items_done;
	gint64 items_changed;	/* changed, or that would change (dry run) */
	gint64 items_repaired;	/* items with a track-status repair */
	gint64 repairs, rebases, conflicts;
	gint64 by_rule[8];	/* repairs by rule number */
	guint mailboxes_total, mailboxes_done;
	GPtrArray *failed;	/* char*: "MAILBOX<TAB>reason" */
} fix_stats;

/* Called after each item, from a worker thread, one call at a time. */
typedef void (*fix_progress_fn)(const fix_stats *st, gpointer data);

/* Called for each item that changes (or would), with what its rendering
 * changed (a render_describe() text), one call at a time. */
typedef void (*fix_item_fn)(const char *path, const char *what, gpointer data);

typedef struct {
	gboolean dry_run;	/* report, change nothing */
	gboolean repair;	/* track-status repair (--only trackstatus) */
	gboolean rebase;	/* DST rebasing (--only rebase) */
	int jobs;		/* worker threads */
	char **mailboxes;	/* the mailboxes, or NULL for all */
	gint64 mailbox_id;	/* or only this one (when not 0) */
	const char *calendar;	/* only calendars of this name, or NULL */
	fix_progress_fn progress;
	fix_item_fn changed;
	gpointer data;
} fix_options;

/* fix_run: fix the mailboxes o names (all when NULL).  Mailboxes that fail
 * (unknown, or the store failed on them) are listed in st->failed (which
 * fix_run creates) and the others go on.  FALSE with err set only when the
 * run could not start. */
gboolean fix_run(store *s, const conf *c, const fix_options *o, fix_stats *st,
		 GError **err);

void fix_stats_clear(fix_stats *st);

#endif
