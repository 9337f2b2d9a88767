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
	GPtrArray *later;	/* char*: items a later run changed since */
} undo_stats;

/* undo_run: undo journal run run_id.  Unless force is set, nothing is
 * done when a later run changed an item (or calendar property) that
 * run_id changed: undoing would clobber that work, so st->later names
 * each one and the result is FALSE with CALFS_ERROR_EXISTS.  FALSE with
 * err set also when the run does not exist (NOTFOUND) or the store
 * fails; entries that cannot be undone (an item deleted by the run whose
 * name is taken now) are skipped and listed. */
gboolean undo_run(store *s, gint64 run_id, gboolean force, undo_stats *st,
		  GError **err);

void undo_stats_clear(undo_stats *st);

#endif
