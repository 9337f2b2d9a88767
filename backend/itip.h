/* itip.h - iCalendar objects as they arrive by mail or in files, by
 * METHOD (RFC 5546): PUBLISH or none stores items, REQUEST creates or
 * updates the attendee's item, REPLY updates the organizer's item (rule
 * T6), CANCEL marks it cancelled.
 */
#ifndef CALFS_ITIP_H
#define CALFS_ITIP_H

#include <glib.h>
#include "conf.h"
#include "ingest.h"
#include "item.h"
#include "store.h"

typedef struct {
	guint files;		/* files read (.ics, messages, mboxes) */
	guint messages;		/* mail messages read */
	guint skipped;		/* files, messages or objects refused, each reported */
	guint created, updated, unchanged;
	guint replies;		/* replies applied (T6) */
	guint stale;		/* replies, requests, cancellations older than the item */
	guint cancelled;
	guint warnings;		/* items kept despite tolerated parse errors */
} itip_stats;

typedef struct {
	store *s;
	const char *mailbox;
	store_calendar *cal;	/* where new items go; not owned */
	render_options policy;	/* applied before storing (none for imports) */
	ingest_replies replies;
	itip_stats *st;
	const char *note;	/* what was done to the text being processed
				 * (converted to UTF-8...), journaled with
				 * each item stored from it, or NULL */
} itip;

/* itip_init: a scheduler that stores into cal of mailbox, keeping the
 * bytes as they come (imports mirror the mail server). */
void itip_init(itip *sc, store *s, const char *mailbox, store_calendar *cal,
		itip_stats *st);

/* itip_process: process one iCalendar object (a file's content or a
 * message's calendar part) from source (a name for messages), sent by
 * sender (an address, or NULL).  What is refused or stale is reported on
 * standard error and counted.  FALSE with err set only when the store
 * fails. */
gboolean itip_process(itip *sc, GBytes *text, const char *sender,
		       const char *source, GError **err);

/* An iCalendar object read and split, not yet applied: itip_process in
 * two halves, so that an import reads and parses on one thread while
 * another writes the store. */
typedef struct itip_object itip_object;

/* itip_prepare: mend, split and classify text by its METHOD.  Uses
 * neither a scheduler nor the store, reports nothing (itip_apply does),
 * and may run on any thread.  Never NULL; free with itip_object_free. */
itip_object *itip_prepare(GBytes *text);

/* itip_apply: the rest of itip_process for an object itip_prepare made:
 * report what it found, and store.  Returns as itip_process. */
gboolean itip_apply(itip *sc, itip_object *o, const char *sender,
		    const char *source, GError **err);
void itip_object_free(itip_object *o);

#endif
