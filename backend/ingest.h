/* ingest.h - the one way content becomes a stored item
 *
 * Used by the mount (a closed or renamed .ics file) and by the importers:
 * validate, apply the write policy (repair, rebase), store and journal.
 */
#ifndef CALFS_INGEST_H
#define CALFS_INGEST_H

#include <glib.h>
#include "item.h"
#include "render.h"
#include "store.h"

/* The rule T4 lookup of the replies a mailbox has processed, on a store. */
typedef struct {
	store *s;
	gint64 mailbox_id;
	gboolean committed;	/* store_reply_get_committed: nothing this
				 * process writes while r is used is read */
	repair_context ctx;
} ingest_replies;

/* ingest_replies_init: make r->ctx look up the replies of mailbox_id
 * (not committed: set r->committed after). */
void ingest_replies_init(ingest_replies *r, store *s, gint64 mailbox_id);

typedef struct {
	gint64 calendar_id;
	const char *name;	/* the item's file name */
	gint64 reserved_id;	/* id for a new item (from the mount), or 0 */
	item_check_mode mode;
	const render_options *policy;	/* the write policy */
	const char *mailbox;	/* the mailbox the calendar is in */
	const char *outbox;	/* Maildir to queue iMIP updates in, or NULL */
	const char *note;	/* what was done to the text before (converted,
				 * a UID made), for the journal, or NULL */
	gboolean by_uid;	/* replace the calendar's item of the UID
				 * under its own name, if any (store_put) */
	const store_item *expect;	/* the item replaced, as read (store_put),
					 * or NULL */
} ingest_target;

/* ingest_item: validate data as one item, apply the write policy, and store
 * it as t->name in t->calendar_id (creating or replacing).  Returns the
 * stored item without its bytes, and what happened in *result (may be
 * NULL); tolerated parse errors are appended to warnings (may be NULL).
 * NULL with err set on failure: CALFS_ERROR_INVALID for refused content
 * (the message is the reason), EXISTS when another item of the calendar
 * has the UID, or a store error.  Nothing is changed on failure.
 * When the policy rebased a meeting that t->mailbox organizes and
 * t->outbox is set, an iMIP update for its attendees is queued there. */
store_item *ingest_item(store *s, const ingest_target *t, GBytes *data,
			store_put_result *result, GPtrArray *warnings,
			GError **err);

/* ingest_checked: ingest_item for data that item_check or item_split has
 * accepted already as one item with uid: apply the policy and store. */
store_item *ingest_checked(store *s, const ingest_target *t, GBytes *data,
			   const char *uid, store_put_result *result,
			   GError **err);

/* ingest_rendered: the second half of ingest_item, for bytes the caller
 * has rendered under t->policy already (log is that render's), with the
 * item's uid: store them, and queue the update - or, when update is not
 * NULL, set *update to whether one is due and leave the queueing to the
 * caller (ingest_queue_update, once its transaction is committed).
 * t->mode is not used. */
store_item *ingest_rendered(store *s, const ingest_target *t, GBytes *final,
			    const char *uid, const render_log *log,
			    store_put_result *result, gboolean *update, GError **err);

/* A write validated and rendered, not yet stored: ingest_item in two
 * halves, so that the mount parses and renders outside its locks. */
typedef struct {
	char *uid;
	GBytes *final;		/* the bytes to store */
	render_log log;		/* what rendering changed */
} ingest_prepared;

/* ingest_prepare: validate data as one item (t->mode) and render it under
 * t->policy, parsing it once; the store is only read (rule T4's
 * replies).  FALSE with err set as ingest_item's; on success clear p
 * with ingest_prepared_clear. */
gboolean ingest_prepare(const ingest_target *t, GBytes *data, GPtrArray *warnings,
			ingest_prepared *p, GError **err);
void ingest_prepared_clear(ingest_prepared *p);

/* ingest_store: store what ingest_prepare made as t says (t->policy must
 * be the one it was prepared with).  *update gets whether an iMIP update
 * is due (a rebased meeting t->mailbox organizes, t->outbox set), which
 * ingest_queue_update sends once the caller's locks are let go.  Returns
 * and fails as ingest_item. */
store_item *ingest_store(store *s, const ingest_target *t, const ingest_prepared *p,
			 store_put_result *result, gboolean *update, GError **err);

/* ingest_queue_update: queue an update of final for its attendees in
 * t->outbox; a failure is logged only (the item is stored). */
void ingest_queue_update(const ingest_target *t, GBytes *final);

#endif
