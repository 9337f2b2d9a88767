/* tzgen.h - VTIMEZONEs made from tzdata that every reader reads alike
 * (DESIGN.md "DST rebasing")
 *
 * The readers of the programs people use do not read every VTIMEZONE
 * alike: python-icalendar 4 (khal, Debian 12) rejects an observance whose
 * RRULE has an UNTIL; vobject (Radicale) and ical.js (Thunderbird) read a
 * UTC UNTIL as local time and lose a rule's last transition;
 * python-icalendar reads only the RRULE of an observance that has RDATEs
 * too, and stops expanding rules in 2038.  So a VTIMEZONE made here covers
 * the span of times an item needs with:
 *
 *  - the rule in force at the span's end, as a STANDARD and a DAYLIGHT
 *    observance each with a yearly RRULE without UNTIL, starting with the
 *    first year of that rule in the span;
 *  - every earlier transition of the span (from the one in force at its
 *    start) as an observance of its own, without RRULE or RDATE (ical.js
 *    leaves out the DTSTART of an observance with RDATEs);
 *  - for a zone without DST at the span's end (Mexico since 2022,
 *    Arizona), its transitions alone: the last one's offset goes on.
 *
 * A rule that is not "n-th (or last) weekday of a month" (tzinfo_rule)
 * is given as transitions too, up to a year past the span.
 */
#ifndef CALFS_TZGEN_H
#define CALFS_TZGEN_H

#include <glib.h>
#include <libical/ical.h>

/* tzgen_vtimezone: a VTIMEZONE called tzid (its TZID line written as
 * items' TZID parameters name it, but with a backslash doubled, so that
 * libical reads it back as tzid) for tzdata zone z, right at every instant
 * of [from, to] (Unix times: the item's first and last).  Newly allocated
 * text with CRLF line ends, from BEGIN:VTIMEZONE to END:VTIMEZONE; NULL
 * when libical cannot write it (a TZID it cannot carry).  When built is
 * not NULL, *built gets the component the text was written from (with
 * its TZID), to check without parsing the text again; the caller frees
 * it (icalcomponent_free), and it is NULL when the text is. */
char *tzgen_vtimezone(icaltimezone *z, const char *tzid, gint64 from, gint64 to,
		      icalcomponent **built);

#endif
