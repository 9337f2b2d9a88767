/* undo.h - calfs undo: put back what a journal run changed
 *
 * The run's journal entries are undone newest first, each through the
 * store (so the undo is a journal run of its own, and can be undone):
 * created items are deleted, updated ones get their old bytes, deleted
 * ones come back with their id, name and bytes, renamed ones go back,
 * calendar properties and mailbox zones get their old values.
 */
#ifndef CALFS_UNDO_H
#define CALFS_UNDO_H

#include <glib.h>
#include "store.h"

typedef struct {
	guint entries;		/* journal entries of the run */
	guint undone;
	GPtrArray *skipped;	/* char*: what could not be undone, and why */
} undo_stats;

/* undo_run: undo journal run run_id.  FALSE with err set when the run
 * does not exist or the store fails; entries that cannot be undone (an
 * item deleted by the run whose name is taken now) are skipped and
 * listed. */
gboolean undo_run(store *s, gint64 run_id, undo_stats *st, GError **err);

void undo_stats_clear(undo_stats *st);

#endif
