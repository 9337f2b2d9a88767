/* imip.h - outgoing iMIP messages (RFC 6047) made with GMime
 *
 * An update (METHOD:REQUEST) or a cancellation (METHOD:CANCEL) of an item,
 * addressed to its attendees: multipart/alternative with a text part and
 * a text/calendar; method=...; charset=utf-8 part.  Build messages from the
 * repaired item (render_item with repair on), so that no broken
 * track-status time can stop them (rule T7).
 */
#ifndef CALFS_IMIP_H
#define CALFS_IMIP_H

#include <glib.h>
#include <gmime/gmime.h>

typedef enum {
	IMIP_UPDATE,	/* METHOD:REQUEST, SEQUENCE bumped */
	IMIP_CANCEL	/* METHOD:CANCEL, STATUS:CANCELLED, SEQUENCE bumped */
} imip_kind;

/* imip_build: the message for item (the bytes of one item).  mailbox is
 * the organizer's mailbox, used as the sender when the item names no
 * ORGANIZER.  now is the message's time (Unix).  NULL with err set
 * (CALFS_ERROR_INVALID) when item does not parse or has no attendee to
 * write to.  Unref the result with g_object_unref. */
GMimeMessage *imip_build(GBytes *item, imip_kind kind, const char *mailbox,
			 gint64 now, GError **err);

/* imip_write: write message to dir as a new file (dir is created; a
 * Maildir's tmp/ and new/ when maildir is TRUE).  Returns the path
 * written (g_free), or NULL with err set. */
char *imip_write(GMimeMessage *message, const char *dir, gboolean maildir,
		 GError **err);

#endif
