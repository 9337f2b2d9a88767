/* recur.c - the occurrences of the common recurrence rules (recur.h) */
#include "recur.h"

#include <stdlib.h>

#define NONE ICAL_RECURRENCE_ARRAY_MAX

/* ---- day numbers: GLib's Julian days (1 is January 1st of year 1) ----
 *
 * By arithmetic (the proleptic Gregorian calendar in 400-year eras), not
 * through GDate: a fix converted every occurrence of every item, and
 * GDate's checks were most of the expansion. */

gint64 recur_day_number(int y, int m, int d)
{
	gint64 yy = y - (m <= 2), era = (yy >= 0 ? yy : yy - 399) / 400;
	gint64 yoe = yy - era * 400;
	gint64 doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	gint64 doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	/* days from 0000-03-01, then GLib's numbering */
	return era * 146097 + doe - 305;
}

static void civil(gint64 z, int *y, int *m, int *d)
{
	gint64 n = z + 305, era = (n >= 0 ? n : n - 146096) / 146097;
	gint64 doe = n - era * 146097;
	gint64 yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	gint64 doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	gint64 mp = (5 * doy + 2) / 153;

	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

/* libical's numbering: Sunday 1 ... Saturday 7 (day 1 was a Monday) */
static int weekday(gint64 z)
{
	return (int)(((z % 7) + 7) % 7) + 1;
}

static int month_days(int y, int m)
{
	return g_date_get_days_in_month((GDateMonth)m, (GDateYear)y);
}

/* ---- which rules ---- */

static gboolean empty(const short *a)
{
	return a[0] == NONE;
}

/* BYDAY of plain weekdays (no "2MO", no "-1FR") */
static gboolean plain_days(const short *a)
{
	for (int i = 0; a[i] != NONE; i++)
		if (icalrecurrencetype_day_position(a[i]) != 0)
			return FALSE;
	return TRUE;
}

static gboolean positive_days(const short *a)
{
	for (int i = 0; a[i] != NONE; i++)
		if (a[i] < 1 || a[i] > 31)
			return FALSE;
	return TRUE;
}

/* BYDAY empty or only the start's weekday */
static gboolean only_weekday(const short *a, struct icaltimetype start)
{
	int wd = weekday(recur_day_number(start.year, start.month, start.day));

	for (int i = 0; a[i] != NONE; i++)
		if ((int)icalrecurrencetype_day_day_of_week(a[i]) != wd)
			return FALSE;
	return TRUE;
}

/* YEARLY;BYMONTH=m;BYDAY=nWD, n 1 to 4 or -1: the form of a VTIMEZONE's
 * observances ("the second Sunday of March") */
static gboolean nth_weekday_of_month(const struct icalrecurrencetype *r)
{
	int pos = icalrecurrencetype_day_position(r->by_day[0]);

	return r->by_month[0] >= 1 && r->by_month[0] <= 12 && r->by_month[1] == NONE &&
	       r->by_day[0] != NONE && r->by_day[1] == NONE &&
	       ((pos >= 1 && pos <= 4) || pos == -1) && empty(r->by_month_day);
}

gboolean recur_handles(const struct icalrecurrencetype *r, struct icaltimetype start)
{
	gboolean by_day = !empty(r->by_day), by_month_day = !empty(r->by_month_day);
	gboolean nth = r->freq == ICAL_YEARLY_RECURRENCE && !empty(r->by_month) &&
		       nth_weekday_of_month(r);

	if (start.is_date || r->interval < 1 || start.year < 1 || start.year > 9999 ||
	    !g_date_valid_dmy((GDateDay)start.day, (GDateMonth)start.month, (GDateYear)start.year))
		return FALSE;
	if (r->rscale && *r->rscale && g_ascii_strcasecmp(r->rscale, "GREGORIAN"))
		return FALSE;
	/* an UNTIL that is a date compares in ways not worth copying */
	if (!icaltime_is_null_time(r->until) && r->until.is_date)
		return FALSE;
	if (!empty(r->by_second) || !empty(r->by_minute) || !empty(r->by_hour) ||
	    !empty(r->by_year_day) || !empty(r->by_week_no) ||
	    (!empty(r->by_month) && !nth) || !empty(r->by_set_pos))
		return FALSE;
	switch (r->freq) {
	case ICAL_DAILY_RECURRENCE:
		return !by_month_day && plain_days(r->by_day);
	case ICAL_WEEKLY_RECURRENCE:
		/* every n weeks on other weekdays than the start's: libical
		 * does not count weeks from WKST as RFC 5545 says; left to it */
		return !by_month_day && plain_days(r->by_day) &&
			(r->interval == 1 || only_weekday(r->by_day, start));
	case ICAL_MONTHLY_RECURRENCE:
		return !by_day && positive_days(r->by_month_day);
	case ICAL_YEARLY_RECURRENCE:
		return nth || (!by_day && !by_month_day);
	default:
		return FALSE;
	}
}

/* ---- expansion ---- */

typedef struct {
	const struct icalrecurrencetype *r;
	struct icaltimetype start;
	guint max;
	int last_year;
	gint64 end;		/* the first day after last_year */
	GArray *out;
	gboolean done;
} expansion;

/* Add the occurrence on day z (not before start's day); done at the end. */
static void emit(expansion *x, gint64 z)
{
	struct icaltimetype t = x->start;

	civil(z, &t.year, &t.month, &t.day);
	t.zone = NULL;
	if (t.year > x->last_year) {
		x->done = TRUE;
		return;
	}
	if (!icaltime_is_null_time(x->r->until)) {
		struct icaltimetype u = x->r->until;

		u.zone = NULL;
		if (icaltime_compare(t, u) > 0) {
			x->done = TRUE;
			return;
		}
	}
	g_array_append_val(x->out, t);
	if (x->out->len >= x->max || (x->r->count > 0 && x->out->len >= (guint)x->r->count))
		x->done = TRUE;
}

static gboolean has_weekday(const short *by_day, int wd)
{
	for (int i = 0; by_day[i] != NONE; i++)
		if (icalrecurrencetype_day_day_of_week(by_day[i]) == (icalrecurrencetype_weekday)wd)
			return TRUE;
	return FALSE;
}

static void daily(expansion *x, gint64 first)
{
	const short *by_day = x->r->by_day;

	for (gint64 z = first; !x->done && z < x->end; z += x->r->interval)
		if (empty(by_day) || has_weekday(by_day, weekday(z)))
			emit(x, z);
}

static void weekly(expansion *x, gint64 first)
{
	int wkst = x->r->week_start ? (int)x->r->week_start : ICAL_MONDAY_WEEKDAY;
	gint64 week = first - (weekday(first) - wkst + 7) % 7;
	const short *by_day = x->r->by_day;

	for (; !x->done && week < x->end; week += 7 * x->r->interval)
		for (gint64 z = week; z < week + 7 && !x->done; z++)
			if (z >= first && (empty(by_day) ? weekday(z) == weekday(first)
					  : has_weekday(by_day, weekday(z))))
				emit(x, z);
}

static int by_value(const void *a, const void *b)
{
	return *(const short *)a - *(const short *)b;
}

static void monthly(expansion *x, gint64 first)
{
	short days[ICAL_BY_MONTHDAY_SIZE];
	int n = 0, y = x->start.year, m = x->start.month;

	if (empty(x->r->by_month_day))
		days[n++] = (short)x->start.day;
	else
		while (x->r->by_month_day[n] != NONE && n < ICAL_BY_MONTHDAY_SIZE - 1) {
			days[n] = x->r->by_month_day[n];
			n++;
		}
	qsort(days, n, sizeof(days[0]), by_value);
	while (!x->done) {
		for (int i = 0; i < n && !x->done; i++) {
			gint64 z;

			if (i > 0 && days[i] == days[i - 1])
				continue;
			if (days[i] > month_days(y, m))
				continue;
			if ((z = recur_day_number(y, m, days[i])) >= first)
				emit(x, z);
		}
		m += x->r->interval;
		y += (m - 1) / 12;
		m = (m - 1) % 12 + 1;
		if (y > x->last_year)
			x->done = TRUE;
	}
}

static void yearly(expansion *x)
{
	for (int y = x->start.year; !x->done; y += x->r->interval) {
		if (y > x->last_year) {
			x->done = TRUE;
			break;
		}
		if (x->start.day <= month_days(y, x->start.month))
			emit(x, recur_day_number(y, x->start.month, x->start.day));
	}
}

/* The day of the pos-th (-1: last) weekday wd of month m of year y. */
static gint64 nth_weekday(int y, int m, int wd, int pos)
{
	gint64 z;

	if (pos > 0) {
		z = recur_day_number(y, m, 1);
		return z + (wd - weekday(z) + 7) % 7 + 7 * (pos - 1);
	}
	z = recur_day_number(y, m, month_days(y, m));
	return z - (weekday(z) - wd + 7) % 7;
}

static void yearly_nth(expansion *x, gint64 first)
{
	int m = x->r->by_month[0], pos = icalrecurrencetype_day_position(x->r->by_day[0]);
	int wd = icalrecurrencetype_day_day_of_week(x->r->by_day[0]);

	for (int y = x->start.year; !x->done; y += x->r->interval) {
		gint64 z;

		if (y > x->last_year) {
			x->done = TRUE;
			break;
		}
		if ((z = nth_weekday(y, m, wd, pos)) >= first)
			emit(x, z);
	}
}

gboolean recur_expand(const struct icalrecurrencetype *r, struct icaltimetype start,
		      guint max, int last_year, GArray *out)
{
	expansion x = { .r = r, .start = start, .max = max, .last_year = last_year,
			.end = recur_day_number(last_year + 1, 1, 1) };
	gint64 first;

	if (!recur_handles(r, start))
		return FALSE;
	/* appended to a copy: out may hold times already */
	x.out = g_array_new(FALSE, FALSE, sizeof(struct icaltimetype));
	first = recur_day_number(start.year, start.month, start.day);
	x.start.zone = NULL;
	/* the start is an occurrence only when the rule gives it, as in
	 * libical (RFC 5545 counts it anyway) */
	x.done = max == 0;
	switch (r->freq) {
	case ICAL_DAILY_RECURRENCE:
		daily(&x, first);
		break;
	case ICAL_WEEKLY_RECURRENCE:
		weekly(&x, first);
		break;
	case ICAL_MONTHLY_RECURRENCE:
		monthly(&x, first);
		break;
	default:
		if (empty(r->by_month))
			yearly(&x);
		else
			yearly_nth(&x, first);
		break;
	}
	g_array_append_vals(out, x.out->data, x.out->len);
	g_array_unref(x.out);
	return TRUE;
}

void recur_expand_libical(const struct icalrecurrencetype *rule, struct icaltimetype start,
			  guint max, int last_year, GArray *out)
{
	icalrecur_iterator *it = icalrecur_iterator_new(*rule, start);
	guint n = 0;

	while (it && n++ < max) {
		struct icaltimetype t = icalrecur_iterator_next(it);

		if (icaltime_is_null_time(t) || t.year > last_year)
			break;
		g_array_append_val(out, t);
	}
	if (it)
		icalrecur_iterator_free(it);
}

void recur_occurrences(const struct icalrecurrencetype *rule, struct icaltimetype start,
		       guint max, int last_year, GArray *out)
{
	if (!recur_expand(rule, start, max, last_year, out))
		recur_expand_libical(rule, start, max, last_year, out);
}
