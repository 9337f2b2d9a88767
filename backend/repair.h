/* repair.h - track-status repair (DESIGN.md "Track-status repair", T1-T7)
 *
 * repair_component() decides the repairs on a parsed VCALENDAR, makes them
 * on it, and returns them as records; repair_apply_text() makes the same
 * repairs on the stored text line by line, so that the rendered item
 * differs from the stored one only in the repaired lines.
 */
#ifndef CALFS_REPAIR_H
#define CALFS_REPAIR_H

#include <glib.h>
#include <libical/ical.h>

/* Where a repair took its value from, or why it removed one. */
typedef enum {
	REPAIR_FROM_DTSTAMP,
	REPAIR_FROM_LAST_MODIFIED,
	REPAIR_FROM_CREATED,
	REPAIR_FROM_REPLY,		/* the latest reply processed from the attendee */
	REPAIR_FROM_CRITICAL_CHANGE,	/* the ATTENDEE-CRITICAL-CHANGE */
	REPAIR_REMOVED_NO_TIME,		/* no valid time to take */
	REPAIR_REMOVED_NO_RESPONSE	/* PARTSTAT NEEDS-ACTION */
} repair_source;

typedef struct {
	int rule;		/* 2, 3, 4 or 5 */
	int comp;		/* ordinal of the event in the VCALENDAR, from 0 */
	char *property;		/* the property repaired (ATTENDEE for X-REPLYTIME) */
	char *attendee;		/* the ATTENDEE's address, for X-REPLYTIME */
	int ordinal;		/* which of the event's properties called
				 * property (with that address) it is, from 0:
				 * a property may appear more than once */
	char *recurrence_id;	/* the event's RECURRENCE-ID, or NULL */
	char *old_value;	/* NULL when the property was missing */
	char *new_value;	/* YYYYMMDDTHHMMSSZ, or NULL when removed */
	repair_source source;
} repair_fix;

/* What the rules may look up outside the item (rule T4). */
typedef struct {
	/* Set *when (Unix time) to the latest reply processed from attendee
	 * for uid and return TRUE, or return FALSE when there is none. */
	gboolean (*reply_time)(gpointer data, const char *uid,
			       const char *attendee, gint64 *when);
	gpointer data;
} repair_context;

/* repair_time_valid: rule T1.  TRUE when text is a DATE-TIME
 * (YYYYMMDDTHHMMSS, optionally Z) at or after 1900-01-01T00:00:00Z;
 * *when (may be NULL) gets it as Unix time, floating times read as UTC. */
gboolean repair_time_valid(const char *text, gint64 *when);

/* repair_format_time: Unix time as YYYYMMDDTHHMMSSZ (rule T7). */
char *repair_format_time(gint64 when);

/* repair_may_apply: FALSE when data cannot need a repair, so it need not
 * be parsed: every time the rules check is a valid one, written plainly
 * (a line the rules read, in another form, makes it TRUE), and it is not
 * a reply. */
gboolean repair_may_apply(const char *data, gsize len);

/* repair_reads: whether the content line line (len bytes, as
 * ictext_line_named takes it) of the VCALENDAR or of an item component
 * is one repair_component reads (for ictext_select): the METHOD, and of
 * an event its identity, times and attendees. */
gboolean repair_reads(const char *line, gsize len);

/* repair_component: apply rules T2-T5 to every event of the VCALENDAR cal,
 * in place.  ctx may be NULL (rule T4 then uses the item's own times).
 * Returns the repairs made, a GPtrArray of repair_fix* (empty when none;
 * free with g_ptr_array_unref). */
GPtrArray *repair_component(icalcomponent *cal, const repair_context *ctx);

/* repair_apply_text: make fixes on text, the bytes cal was parsed from;
 * lines not repaired keep their bytes.  Returns a new reference. */
GBytes *repair_apply_text(GBytes *text, GPtrArray *fixes);

/* repair_describe: one line a person can read:
 * "X-REPLYTIME of mailto:bob@example.net: 1601-01-01 -> 2009-09-20T18:30:00Z
 * (item LAST-MODIFIED, rule T4)" (with a real arrow).  Newly allocated. */
char *repair_describe(const repair_fix *f);

void repair_fix_free(repair_fix *f);

#endif
