#include "undo.h"
#include "error.h"

#include <string.h>

void undo_stats_clear(undo_stats *st)
{
	if (st->skipped)
		g_ptr_array_unref(st->skipped);
	if (st->later)
		g_ptr_array_unref(st->later);
	memset(st, 0, sizeof(*st));
}

/* "alice@example.com/Calendar/x.ics" for an entry's calendar and name. */
static char *entry_path(store *s, gint64 calendar_id, const char *name)
{
	store_calendar *cal = store_calendar_get(s, calendar_id, NULL);
	store_mailbox *mb = cal ? store_mailbox_get(s, cal->mailbox_id, NULL) : NULL;
	char *path = g_strdup_printf("%s/%s/%s", mb ? mb->name : "?", cal ? cal->name : "?",
				     name ? name : "?");

	store_mailbox_free(mb);
	store_calendar_free(cal);
	return path;
}

/* List in st->later what later runs changed of what run_id changed;
 * FALSE with err set when the store fails. */
static gboolean find_later(store *s, gint64 run_id, undo_stats *st, GError **err)
{
	GPtrArray *later = store_journal_after(s, run_id, err);

	if (!later)
		return FALSE;
	for (guint i = 0; i < later->len; i++) {
		store_journal_entry *e = later->pdata[i];
		/* a calendar property's name is its key: .../Calendar/color */
		char *path = entry_path(s, e->calendar_id, e->name);

		g_ptr_array_add(st->later, g_strdup_printf(
			"%s: %s by run %" G_GINT64_FORMAT " since", path,
			!strcmp(e->op, "delete") ? "deleted" : !strcmp(e->op, "rename") ? "renamed"
			: !strcmp(e->op, "create") ? "made again" : "changed", e->run_id));
		g_free(path);
	}
	g_ptr_array_unref(later);
	return TRUE;
}

static char *old_text(const store_journal_entry *e)
{
	return e->old_data ? g_strndup(g_bytes_get_data(e->old_data, NULL),
				       g_bytes_get_size(e->old_data)) : NULL;
}

/* Undo one entry.  FALSE with err set when it cannot be undone. */
static gboolean undo_entry(store *s, const store_journal_entry *e, GError **err)
{
	GError *gone = NULL;
	store_item *it = e->item_id ? store_item_get(s, e->item_id, FALSE, &gone) : NULL;
	gboolean ok = FALSE;

	if (gone && !g_error_matches(gone, CALFS_ERROR, CALFS_ERROR_NOTFOUND)) {
		g_propagate_error(err, gone);
		return FALSE;
	}
	g_clear_error(&gone);
	if (!strcmp(e->op, "create")) {
		ok = !it || store_item_delete(s, it->id, err);
	} else if (!strcmp(e->op, "update") || !strcmp(e->op, "delete")) {
		/* the old bytes, where the item is now (or was, when deleted) */
		store_put req = { .calendar_id = it ? it->calendar_id : e->calendar_id,
				  .name = it ? it->name : e->name, .uid = e->uid,
				  .data = e->old_data,
				  .reserved_id = it ? 0 : e->item_id };
		store_item *put;

		if (!e->old_data) {
			g_set_error(err, CALFS_ERROR, CALFS_ERROR_IO, "no bytes kept");
		} else if ((put = store_item_put(s, &req, NULL, err))) {
			ok = TRUE;
			store_item_free(put);
		}
	} else if (!strcmp(e->op, "rename")) {
		ok = !it || store_item_rename(s, it->id, e->old_calendar_id, e->old_name, err);
	} else if (!strcmp(e->op, "meta")) {
		char *v = old_text(e);

		ok = store_calendar_set_meta(s, e->calendar_id, e->name, v, err);
		g_free(v);
	} else if (!strcmp(e->op, "timezone")) {
		store_mailbox *mb = store_mailbox_find(s, e->old_name, err);
		char *v = old_text(e);

		ok = mb && store_mailbox_set_timezone(s, mb->id, v, err);
		g_free(v);
		store_mailbox_free(mb);
	} else {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_UNSUPPORTED, "unknown change '%s'", e->op);
	}
	store_item_free(it);
	return ok;
}

gboolean undo_run(store *s, gint64 run_id, gboolean force, undo_stats *st,
		  GError **err)
{
	GPtrArray *runs = store_runs_list(s, err), *entries;
	gboolean known = FALSE;

	memset(st, 0, sizeof(*st));
	st->skipped = g_ptr_array_new_with_free_func(g_free);
	st->later = g_ptr_array_new_with_free_func(g_free);
	if (!runs)
		return FALSE;
	for (guint i = 0; i < runs->len; i++)
		known |= ((store_run *)runs->pdata[i])->id == run_id;
	g_ptr_array_unref(runs);
	if (!known) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_NOTFOUND,
			    "journal run %" G_GINT64_FORMAT ": no such run", run_id);
		return FALSE;
	}
	if (!find_later(s, run_id, st, err))
		return FALSE;
	if (st->later->len && !force) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_EXISTS,
			    "run %" G_GINT64_FORMAT ": %u of its changes were changed again by"
			    " later runs (above); nothing undone (--force undoes it anyway)",
			    run_id, st->later->len);
		return FALSE;
	}
	if (!(entries = store_journal_list(s, run_id, 0, G_MAXINT, err)))
		return FALSE;
	st->entries = entries->len;
	for (guint i = 0; i < entries->len; i++) {
		store_journal_entry *e = entries->pdata[i];
		GError *why = NULL;

		if (undo_entry(s, e, &why)) {
			st->undone++;
		} else if (why->code == CALFS_ERROR_IO || why->code == CALFS_ERROR_BUSY) {
			g_propagate_error(err, why);
			g_ptr_array_unref(entries);
			return FALSE;
		} else {
			g_ptr_array_add(st->skipped, g_strdup_printf(
				"%s of %s: %s", e->op, e->name ? e->name : "?", why->message));
			g_error_free(why);
		}
	}
	g_ptr_array_unref(entries);
	return TRUE;
}
