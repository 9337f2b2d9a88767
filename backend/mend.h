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
 *  L5 GEO's separator escaped (SOGo: "GEO:12.34567\;12.34567").
 *  L6 a date where a date-time is declared or expected ("DTSTART;
 *     TZID=US/Pacific:20050606", Google; "DTSTART;VALUE=DATE-TIME:20061007",
 *     Evolution): midnight when the component's other times are
 *     date-times, else a date (VALUE=DATE, without the TZID a date cannot
 *     have).  ical.js refuses both.
 *  L7 a duration of weeks and days ("-P1W6DT15H", Nextcloud), which RFC
 *     5545 does not allow and python-icalendar refuses: in days.
 *  L8 a VTIMEZONE without TZID (Zimbra's "X-INVALID-TIMEZONE"), which no
 *     item can name and vobject fails on: dropped.
 *  L9 times with an empty TZID in a VTIMEZONE without a name whose
 *     offsets are all +0000 (Exchange relaying Google): UTC.
 * L10 components left open (Office 365 in December 2023 wrote END:VEVENT
 *     only after its last event; Teams invitations and Exchange 2003 left
 *     out END:VCALENDAR): closed where the next one begins, where what
 *     holds them ends, and at the end.
 * L11 a DTEND before its DTSTART (Outlook; DAVx5 and Android refuse the
 *     event): removed, so the event lasts what one without DTEND lasts.
 * L1 also joins a line that is no content line to the one before (a fold
 * that lost its space, Exchange 2007), when that one is as long as writers
 * fold at, and drops blank lines.
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

/* mend_structure: rule L10 alone, for a whole file or message before it
 * is split into items: when components are left open but the last line
 * ends one (what Office 365 and Teams wrote), the END lines are added
 * where the next component begins, where what holds them ends, and at
 * the end; nothing else changes.  A text cut short ends inside a
 * component and is returned as it is, to be refused as truncated.
 * Returns a new reference (to text itself when nothing was added); *what
 * gets a line saying what was added (newly allocated), or NULL. */
GBytes *mend_structure(GBytes *text, char **what);
/* mend_structure_read_all: the same, always reading the text's logical
 * lines; mend_structure first looks at its physical lines, and reads no
 * further when every component is closed in order (tests compare the
 * two). */
GBytes *mend_structure_read_all(GBytes *text, char **what);

#endif
