/* recur.h - the occurrences of the common recurrence rules, by date
 * arithmetic (issue 17: fix without ICU)
 *
 * libical's recurrence iterator, built with ICU as Debian builds it, does
 * ICU calendar arithmetic for every occurrence; on a run of `calfs fix`
 * that was a quarter of the time.  The rules Exchange and Outlook write
 * for meetings are simple: every n days or weeks on some weekdays, every
 * n months on a day of the month, every n years on a date.  Those are
 * expanded here with plain day numbers, giving exactly what libical 3.0
 * gives (tests/unit/test_recur.c compares the two on many rules); any
 * other rule is left to libical.
 *
 * Pure functions of their arguments: thread-safe, no locks.
 */
#ifndef CALFS_RECUR_H
#define CALFS_RECUR_H

#include <glib.h>
#include <libical/ical.h>

/* recur_day_number: the day number of year y, month m (1-12), day d of
 * the proleptic Gregorian calendar as GLib numbers Julian days (1 is
 * January 1st of year 1; January 1st 1970 is RECUR_UNIX_DAY), by
 * arithmetic.  A day past its month's end counts on into the next. */
gint64 recur_day_number(int y, int m, int d);

#define RECUR_UNIX_DAY 719163

/* recur_handles: whether recur_expand() can expand rule (FREQ=DAILY or
 * WEEKLY with at most INTERVAL, COUNT or UNTIL, WKST and plain weekdays
 * in BYDAY; MONTHLY with at most positive BYMONTHDAY days; YEARLY with
 * nothing else, or with one BYMONTH and one BYDAY of the first to fourth
 * or last weekday, as VTIMEZONEs write their rules) from the date-time
 * start (not a date). */
gboolean recur_handles(const struct icalrecurrencetype *rule, struct icaltimetype start);

/* recur_expand: append to out (a GArray of struct icaltimetype) the
 * occurrence starts of rule from start, in order, as libical's iterator
 * gives them: start first, then each occurrence after it, up to COUNT or
 * UNTIL (compared as wall-clock fields, as libical does for a floating
 * start), at most max of them, none after the year last_year.  The
 * times are floating (zone NULL) with start's time of day.  Returns FALSE
 * and appends nothing when recur_handles() says no. */
gboolean recur_expand(const struct icalrecurrencetype *rule, struct icaltimetype start,
		      guint max, int last_year, GArray *out);

/* recur_expand_libical: what recur_expand() gives, by libical's iterator,
 * for any rule. */
void recur_expand_libical(const struct icalrecurrencetype *rule, struct icaltimetype start,
			  guint max, int last_year, GArray *out);

/* recur_occurrences: recur_expand() when it handles rule, else
 * recur_expand_libical(). */
void recur_occurrences(const struct icalrecurrencetype *rule, struct icaltimetype start,
		       guint max, int last_year, GArray *out);

#endif
