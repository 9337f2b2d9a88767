/* tzinfo.h - facts from the system's tzdata and from VTIMEZONEs: offsets,
 * transitions, and the daylight saving rule of a year in a form that can
 * be applied to another year
 *
 * tzdata is read from $TZDIR, else /usr/share/zoneinfo (the directory
 * glibc and Python's zoneinfo read), through libical's reader of its
 * binary files.  When it changes (an update of the tzdata package, or
 * tzinfo_reload finding another version), zones are read anew; those of
 * the older tzdata are kept, so that a zone once handed out stays valid.
 * Every function may be called from any thread once tz_init() ran.
 */
#ifndef CALFS_TZINFO_H
#define CALFS_TZINFO_H

#include <glib.h>
#include <libical/ical.h>

/* tzinfo_dir: the zoneinfo directory read.  Owned by tzinfo. */
const char *tzinfo_dir(void);

/* tzinfo_version: the version of the tzdata in use ("2025b", from
 * tzdata.zi), or "" when it does not say.  Valid for the life of the
 * process. */
const char *tzinfo_version(void);

/* tzinfo_reload: read the zoneinfo directory's version again; TRUE when
 * it changed since the last look, in which case zones are read anew from
 * now on.  Cheap (one small read): call it every few seconds. */
gboolean tzinfo_reload(void);

/* tzinfo_zone: the tzdata zone called name ("America/New_York"), or NULL
 * when tzdata has no such zone.  Owned by tzinfo; valid for the life of
 * the process (from the tzdata current when it was asked for). */
icaltimezone *tzinfo_zone(const char *name);

/* A change of a zone's offset. */
typedef struct {
	gint64 at;		/* the instant (Unix time) */
	int before, after;	/* UTC offsets, seconds */
	gboolean dst;		/* daylight saving time after it */
} tzinfo_transition;

/* tzinfo_transitions: the changes of z's offset in [from, to), oldest
 * first, as a new GArray of tzinfo_transition. */
GArray *tzinfo_transitions(icaltimezone *z, gint64 from, gint64 to);

/* tzinfo_year_offsets: the least and the greatest UTC offset (seconds)
 * tzdata zone z had in year: standard and daylight time.  From the
 * transitions tzinfo keeps: no offset is computed. */
void tzinfo_year_offsets(icaltimezone *z, int year, int *lo, int *hi);

/* tzinfo_offsets_kept: whether z's offsets at wall-clock times away from
 * its changes are read from transitions kept for it, not asked of
 * libical (tzdata zones, and the VTIMEZONEs whose expansion tzinfo copies
 * exactly); for tests. */
gboolean tzinfo_offsets_kept(icaltimezone *z);

/* tzinfo_offset_local: the UTC offset (seconds) of the wall-clock time
 * local (its zone is ignored) in z. */
int tzinfo_offset_local(icaltimezone *z, struct icaltimetype local);

/* tzinfo_first_difference: the index of the first of the n wall-clock
 * times at where zones a and b give different offsets (as
 * tzinfo_offset_local gives them), or n when they agree at every one.
 * For a zone a from tzinfo_vtimezone (held) and a tzdata zone b, the
 * stretches between their changes are compared once and kept with a's
 * cache entry, and a time in one of them is a search, not two offsets. */
guint tzinfo_first_difference(icaltimezone *a, icaltimezone *b,
			      const struct icaltimetype *at, guint n);

/* tzinfo_offset_utc: the UTC offset of z at the instant t (Unix time). */
int tzinfo_offset_utc(icaltimezone *z, gint64 t);

/* A year's daylight saving rule.  Transitions are given as the wall-clock
 * time before them (what clocks showed), by month, week (1-4, or -1 for
 * the last) and weekday (0 Sunday .. 6 Saturday). */
typedef struct {
	gboolean regular;	/* FALSE: the year's changes fit no such rule */
	int std;		/* standard offset, seconds */
	int dst;		/* daylight offset; == std when there is none */
	int start_month, start_week, start_wday, start_sec;
	int end_month, end_week, end_wday, end_sec;
} tzinfo_rule;

/* tzinfo_rule_of_year: the rule z followed in year. */
void tzinfo_rule_of_year(icaltimezone *z, int year, tzinfo_rule *r);

/* tzinfo_rule_equal: whether a and b are the same rule. */
gboolean tzinfo_rule_equal(const tzinfo_rule *a, const tzinfo_rule *b);

/* tzinfo_rule_at: the rule in force at the instant t: the rule of t's
 * year once that year's first change has happened, else the previous
 * year's. */
void tzinfo_rule_at(icaltimezone *z, gint64 t, tzinfo_rule *r);

/* tzinfo_rule_offset_utc: the offset rule r gives at the instant t
 * (applied to t's year).  r must be regular. */
int tzinfo_rule_offset_utc(const tzinfo_rule *r, gint64 t);

/* tzinfo_change_year: the first year after from_year, up to to_year, whose
 * rule differs from rule; 0 when none does. */
int tzinfo_change_year(icaltimezone *z, const tzinfo_rule *rule, int from_year,
		       int to_year);

/* tzinfo_describe_rule: "DST from the 1st Sunday of April to the last
 * Sunday of October" or "no DST".  Newly allocated. */
char *tzinfo_describe_rule(const tzinfo_rule *r);

/* tzinfo_vtimezone: a zone for the VTIMEZONE vtz, shared by every item
 * whose VTIMEZONE libical reads the same (the same values of the same
 * properties in the same order; libical works out a zone's changes
 * from its first DTSTART on, often 1601, once per zone).  NULL when vtz is
 * not a usable VTIMEZONE: libical refuses it, or its observances repeat
 * more often than monthly or have thousands of RDATEs (libical would take
 * hours to expand them).  Owned by the cache: valid until tzinfo_release
 * is called on it. */
icaltimezone *tzinfo_vtimezone(icalcomponent *vtz);

/* tzinfo_release: done with a zone from tzinfo_vtimezone. */
void tzinfo_release(icaltimezone *z);

/* tzinfo_utc_of_local: the instant of wall-clock time local in z. */
gint64 tzinfo_utc_of_local(icaltimezone *z, struct icaltimetype local);

#endif
