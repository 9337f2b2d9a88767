/* tz.h - time-zone knowledge and DST rebasing (DESIGN.md "DST rebasing")
 *
 * Zone identification and rebasing land with the tzrules issue; tz_init()
 * and the rebase step of the pipeline exist from the start.
 */
#ifndef CALFS_TZ_H
#define CALFS_TZ_H

#include <glib.h>
#include <libical/ical.h>

typedef struct {
	gboolean recurring_only;	/* leave single items alone */
	gboolean report_only;		/* report what would change, change nothing */
	gint64 created_before;		/* Unix time, 0 for the rule's own date */
	const char *mailbox_zone;	/* the mailbox's zone, or NULL */
} tz_options;

/* tz_init: set libical's global state (errors not fatal, builtin zones read
 * from the system's tzdata) and load its zone table, so that worker threads
 * never race to initialise it.  Call once, before any thread starts. */
void tz_init(void);

/* tz_rebase_component: rebase the VCALENDAR cal in place against the
 * system's tzdata, appending one human-readable line per change to fixes
 * (may be NULL).  Returns the number of changes.  Currently a no-op that
 * returns 0. */
guint tz_rebase_component(icalcomponent *cal, const tz_options *opts,
			  GPtrArray *fixes);

#endif
