/* tzinfo.h - facts from the system's tzdata (through libical, which reads
 * /usr/share/zoneinfo) and from VTIMEZONEs: offsets, and the daylight
 * saving rule of a year in a form that can be applied to another year
 */
#ifndef CALFS_TZINFO_H
#define CALFS_TZINFO_H

#include <glib.h>
#include <libical/ical.h>

/* tzinfo_zone: the tzdata zone called name ("America/New_York"), or NULL.
 * Owned by libical; valid for the life of the process. */
icaltimezone *tzinfo_zone(const char *name);

/* tzinfo_offset_local: the UTC offset (seconds) of the wall-clock time
 * local (its zone is ignored) in z. */
int tzinfo_offset_local(icaltimezone *z, struct icaltimetype local);

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
 * whose VTIMEZONE has the same text (libical works out a zone's changes
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
