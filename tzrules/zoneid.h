/* zoneid.h - which tzdata zone a TZID means (DESIGN.md "Which zone")
 *
 * In order: an IANA name (also behind prefixes such as
 * "/freeassociation.sourceforge.net/"), the X-MICROSOFT-CDO-TZID number, a
 * Windows zone id, a legacy Outlook/Exchange display name in any of its
 * spellings, then the VTIMEZONE's own rules matched against tzdata.
 *
 * Evidence must agree.  A zone named by the TZID, a CDO id or a Windows
 * name is checked against the VTIMEZONE's own offsets: one that did not
 * have them in tzdata around the year the item was written is rejected
 * (CDO ids are not reliable in the wild: id 2 is both Lisbon and
 * Sarajevo), and the reason kept; the next piece of evidence is asked.
 * When pieces that pass differ at the item's times, or the rules fit
 * zones that do (old US Central and Mexico City), the mailbox's zone
 * decides if it is one of them; otherwise the answer is a conflict, never
 * a guess.  The name tables are tzrules/names.tsv, embedded at build time.
 */
#ifndef CALFS_ZONEID_H
#define CALFS_ZONEID_H

#include <glib.h>
#include <libical/ical.h>

typedef enum {
	ZONEID_NONE,		/* not identified */
	ZONEID_IANA,
	ZONEID_CDO,
	ZONEID_WINDOWS,		/* a Windows id or a display name */
	ZONEID_RULES,		/* the VTIMEZONE's rules, one zone fits */
	ZONEID_MAILBOX,		/* the rules fit several; the mailbox's zone is one */
	ZONEID_CONFLICT		/* the rules fit several that differ: no answer */
} zoneid_method;

typedef struct {
	char *zone;		/* the IANA name, or NULL */
	zoneid_method method;
	char *candidates;	/* for ZONEID_CONFLICT: the zones, space-separated */
	GPtrArray *rejected;	/* char*: evidence that contradicted the
				 * VTIMEZONE, and why ("CDO id 15
				 * (Pacific/Honolulu) contradicts the
				 * VTIMEZONE's -07:00"); may be empty */
} zoneid_result;

/* What is known of one TZID in an item. */
typedef struct {
	const char *tzid;		/* the TZID text, unescaped */
	int cdo;			/* X-MICROSOFT-CDO-TZID, or -1 */
	icalcomponent *vtimezone;	/* its VTIMEZONE, or NULL */
	const char *mailbox_zone;	/* the mailbox's zone, or NULL */
	int year_from, year_to;		/* years in which the rules may have been written */
	const struct icaltimetype *times;	/* the item's local times under this TZID */
	guint n_times;
} zoneid_query;

/* zoneid_identify: the zone q->tzid means.  Never NULL; free with
 * zoneid_result_free(). */
zoneid_result *zoneid_identify(const zoneid_query *q);

void zoneid_result_free(zoneid_result *r);

/* zoneid_result_copy: a copy of r (its rejected array shared), to free
 * with zoneid_result_free(). */
zoneid_result *zoneid_result_copy(const zoneid_result *r);

/* zoneid_result_is_mailbox_free: whether r is what zoneid_identify gives
 * for the query whatever its mailbox_zone: the mailbox's zone only
 * decides between candidates that disagree (ZONEID_MAILBOX, else
 * ZONEID_CONFLICT). */
gboolean zoneid_result_is_mailbox_free(const zoneid_result *r);

/* zoneid_lookup: the zone a Windows id, display name (kind "name") or CDO
 * number (kind "cdo") maps to in the tables; NULL when unknown or
 * ambiguous.  Owned by the tables. */
const char *zoneid_lookup(const char *kind, const char *name);

/* zoneid_iana: the IANA zone named by text (also behind a path prefix),
 * or NULL.  Newly allocated. */
char *zoneid_iana(const char *text);

/* zoneid_normalize: a display name as the tables compare it: no quotes,
 * escapes, "(GMT-05.00)" prefix, or case; ';' ',' '/' alike.  Newly
 * allocated. */
char *zoneid_normalize(const char *name);

/* zoneid_method_name: "IANA name", "CDO id", ... for reports. */
const char *zoneid_method_name(zoneid_method m);

#endif
