/* mend.h - named mends of the damage real exports carry (DESIGN.md "Real
 * exports")
 *
 * Applied to an item's text before it is parsed, on read, on write (with
 * repair_on_write) and by calfs fix, like the track-status repairs: the
 * raw view keeps the damage, user.calfs.fixes names each mend and its
 * rule, and only the mended lines change (they are folded anew).
 *
 *  L1 line damage (Exchange 2003's writer): a physical line that begins
 *     with ':' or ';' continues the line before it; a fold of two spaces
 *     in a UID or a calendar address (ATTENDEE, ORGANIZER) leaves no
 *     space in the value.
 *  L2 TZID quoting: a TZID parameter whose quote is never closed is
 *     closed before the value ('DTSTART;TZID="W. Europe Standard
 *     Time:20200609T090000').
 *  L3 VTIMEZONE TZID text: a VTIMEZONE whose TZID line differs from the
 *     TZID parameters that name it only in TEXT escapes ("Kuala Lumpur\,
 *     Singapore") gets their form: vobject (Radicale) matches the two
 *     byte for byte, and finds no zone otherwise.
 *  L4 floating exceptions: an EXDATE, RDATE or RECURRENCE-ID without a
 *     TZID on a component whose DTSTART has one (Outlook; Radicale issue
 *     2151) gets that TZID: ical.js then skips the exception, vobject
 *     fails to compare the times.
 */
#ifndef CALFS_MEND_H
#define CALFS_MEND_H

#include <glib.h>

/* mend_may_apply: FALSE when data (len bytes) has none of the damage
 * above, cheaply. */
gboolean mend_may_apply(const char *data, gsize len);

/* mend_text: text with the damage mended.  Returns a new reference (to
 * text itself when nothing was mended); each mend is appended to notes
 * (may be NULL) as a line a person reads, naming its rule. */
GBytes *mend_text(GBytes *text, GPtrArray *notes);

#endif
