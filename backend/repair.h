/* repair.h - track-status repair (DESIGN.md "Track-status repair", T1-T7)
 *
 * The rules land with the track-status issue; the pipeline calls this step
 * already so that render, write and import need no change then.
 */
#ifndef CALFS_REPAIR_H
#define CALFS_REPAIR_H

#include <glib.h>
#include <libical/ical.h>

/* repair_component: repair the broken track-status times of the VCALENDAR
 * cal in place, appending one human-readable line per repair to fixes
 * (newly allocated strings; fixes may be NULL).  Returns the number of
 * repairs made.  Currently no rule is implemented and it returns 0. */
guint repair_component(icalcomponent *cal, GPtrArray *fixes);

#endif
