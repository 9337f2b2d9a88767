/* tz.h - DST rebasing against the system's tzdata (DESIGN.md "DST rebasing")
 *
 * The wall-clock time the person saw when the item was written is the
 * truth.  An item that uses a TZID whose VTIMEZONE disagrees with tzdata
 * at any of its occurrences gets a VTIMEZONE generated from tzdata (TZID
 * text kept, local times untouched).  A single item stored in UTC and
 * created under an older rule of the mailbox's zone is moved by the
 * difference, with its DTEND, UTC RECURRENCE-ID/EXDATE and absolute alarm
 * triggers, and marked X-CALFS-REBASED so that it is never moved twice.
 * All-day values never move.  Any tzdata rule change counts, not only the
 * US one of 2007.
 *
 * tz_rebase() decides on a parsed VCALENDAR; tz_apply_text() makes the
 * changes on the text line by line, like the repairs.
 */
#ifndef CALFS_TZ_H
#define CALFS_TZ_H

#include <glib.h>
#include <libical/ical.h>

/* What one parse told about its TZIDs: the times of each as tz_identify
 * gathered them, the zones it identified that no mailbox zone would
 * change, and the zone of its VTIMEZONE (tz_parse_known).  A zone scan
 * identifies the zones of an item's TZIDs, and calfs fix then rebases the
 * same parse (tz_options.known): expanding an item's occurrences twice
 * was a tenth of a fix, identifying its zones again 2%.  Immutable once
 * filled: may be read by one thread after another. */
typedef struct tz_known tz_known;

/* tz_known_new: an empty one, for tz_identify to fill; tz_known_free
 * frees it (NULL is fine). */
tz_known *tz_known_new(void);
void tz_known_free(tz_known *k);

typedef struct {
	gboolean recurring_only;	/* leave single items alone */
	gboolean report_only;		/* say what would change, change nothing */
	gint64 created_before;		/* Unix time, 0: the rule change decides */
	const char *mailbox_zone;	/* the mailbox's zone, or NULL */
	gboolean *zone_consulted;	/* set TRUE when the result depends on
					 * mailbox_zone (may be NULL) */
	const tz_known *known;		/* the times tz_identify gathered from
					 * this same parse, or NULL */
} tz_options;

typedef enum {
	TZ_FIX_VTIMEZONE,	/* a VTIMEZONE replaced or added from tzdata */
	TZ_FIX_SHIFT,		/* a UTC event moved */
	TZ_FIX_CONFLICT		/* the zone could not be told: left as it is */
} tz_fix_kind;

typedef struct {
	tz_fix_kind kind;
	char *tzid;		/* VTIMEZONE, CONFLICT: the TZID */
	char *zone;		/* the tzdata zone, or NULL */
	char *vtimezone;	/* VTIMEZONE: the new component's text */
	int comp;		/* SHIFT: ordinal of the event */
	gint64 shift;		/* SHIFT: seconds added to its UTC times */
	char *mark;		/* SHIFT, VTIMEZONE: the X-CALFS-REBASED value
				 * ("zone;2007", "zone;tzdata-2025b") */
	GArray *comps;		/* VTIMEZONE: the ordinals (int) of the
				 * components that use it, which get the mark */
	char *note;		/* what happened, in words */
	gboolean applied;	/* FALSE under report_only and for conflicts */
} tz_fix;

/* tz_tzdata_version: the version of the tzdata in use ("2025b"), or ""
 * (tzinfo_version). */
const char *tz_tzdata_version(void);

/* tz_init: set libical's global state (errors not fatal), find the
 * zoneinfo directory and load the name tables, so that worker threads
 * never race to do it.  Call once, before any thread starts. */
void tz_init(void);

/* tz_rebase: what rebasing changes in the VCALENDAR cal (not modified).
 * Returns a GPtrArray of tz_fix* (free with g_ptr_array_unref). */
GPtrArray *tz_rebase(icalcomponent *cal, const tz_options *opts);

/* What a TZID of an item means. */
typedef struct {
	char *tzid;
	gboolean recurring;	/* a recurring event uses it */
	char *zone;		/* the tzdata zone, or NULL */
	int method;		/* a zoneid_method */
	char *candidates;	/* for a conflict: the zones that fit */
	GPtrArray *rejected;	/* char*: evidence that contradicted the
				 * VTIMEZONE, and why (zoneid_result) */
} tz_usage;

/* tz_identify: the zone of every TZID that cal uses, decided as tz_rebase
 * decides it (at the item's own times; the mailbox's zone settles rules
 * that fit several zones).  A GPtrArray of tz_usage*.  keep (may be NULL;
 * from tz_known_new) gets the times gathered and those zones, for a
 * tz_rebase of cal. */
GPtrArray *tz_identify(icalcomponent *cal, const char *mailbox_zone, tz_known *keep);

void tz_usage_free(tz_usage *u);

/* tz_apply_text: make the applied fixes on text, the bytes cal was parsed
 * from.  Returns a new reference (to text itself when nothing changes). */
GBytes *tz_apply_text(GBytes *text, GPtrArray *fixes);

/* tz_may_apply: FALSE when data has nothing rebasing looks at (no TZID and
 * no UTC DTSTART). */
gboolean tz_may_apply(const char *data, gsize len);

/* tz_reads: whether the content line line (len bytes, as
 * ictext_line_named takes it) of an item component is one tz_rebase or
 * tz_identify reads: its times, its rule, when it was written, the CDO
 * id, the mark of a rebase, or any with a TZID (for ictext_select).
 * They read no line of the VCALENDAR itself, and not the UID. */
gboolean tz_reads(const char *line, gsize len);

/* tz_parse: the lines of data that tz_rebase and tz_identify read (of its
 * item components those tz_reads takes; none of the VCALENDAR's own),
 * parsed
 * by libical with its VTIMEZONEs, each parsed once for every item that
 * has the same (and copied).  They decide the same on it as on a parse
 * of data, which costs several times more when an item has attendees
 * and a description.  NULL when libical parses nothing; the caller
 * frees it (icalcomponent_free). */
icalcomponent *tz_parse(const char *data, gsize len);

/* tz_parse_known: tz_parse, and keep (may be NULL; from tz_known_new, to
 * fill with tz_identify for a tz_rebase of the result) holds the zone of
 * the VTIMEZONE it took from those parsed before, so that the rebase
 * does not work out again which of tzinfo's zones it is. */
icalcomponent *tz_parse_known(const char *data, gsize len, tz_known *keep);

void tz_fix_free(tz_fix *f);

#endif
