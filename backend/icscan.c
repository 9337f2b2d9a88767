#include "icscan.h"

#include <libical/ical.h>
#include <string.h>

/* How the scan reads a property's value. */
typedef enum {
	K_TEXT,		/* TEXT, CAL-ADDRESS, URI, X-: libical parses every value */
	K_UID,		/* TEXT, kept as the item's UID */
	K_TZID,		/* TEXT without escapes: libical reads \n in a TZID as a
			 * line break, which item_check refuses there */
	K_DATETIME,	/* DATE-TIME */
	K_DATES,	/* DATE-TIME, or DATE after VALUE=DATE; may take TZID */
	K_DATES_LIST,	/* K_DATES, separated by commas (EXDATE, RDATE) */
	K_INTEGER,
	K_DURATION,	/* or DATE-TIME after VALUE=DATE-TIME (TRIGGER) */
	K_UTCOFFSET,
	K_LIBICAL	/* libical's own parse of kind (a rule, a word) */
} value_form;

typedef struct {
	const char *name;
	value_form form;
	icalvalue_kind kind;	/* K_LIBICAL */
} known_property;

/* The properties the scan knows: what Exchange, Outlook and the usual
 * clients write.  Any other name (but X-) is "not sure". */
static const known_property properties[] = {
	{ "ACTION", K_LIBICAL, ICAL_ACTION_VALUE },
	{ "ATTENDEE", K_TEXT, 0 },
	{ "CALSCALE", K_TEXT, 0 },
	{ "CATEGORIES", K_TEXT, 0 },
	{ "CLASS", K_LIBICAL, ICAL_CLASS_VALUE },
	{ "COMMENT", K_TEXT, 0 },
	{ "COMPLETED", K_DATETIME, 0 },
	{ "CONTACT", K_TEXT, 0 },
	{ "CREATED", K_DATETIME, 0 },
	{ "DESCRIPTION", K_TEXT, 0 },
	{ "DTEND", K_DATES, 0 },
	{ "DTSTAMP", K_DATETIME, 0 },
	{ "DTSTART", K_DATES, 0 },
	{ "DUE", K_DATES, 0 },
	{ "DURATION", K_DURATION, 0 },
	{ "EXDATE", K_DATES_LIST, 0 },
	{ "LAST-MODIFIED", K_DATETIME, 0 },
	{ "LOCATION", K_TEXT, 0 },
	{ "METHOD", K_LIBICAL, ICAL_METHOD_VALUE },
	{ "ORGANIZER", K_TEXT, 0 },
	{ "PERCENT-COMPLETE", K_INTEGER, 0 },
	{ "PRIORITY", K_INTEGER, 0 },
	{ "PRODID", K_TEXT, 0 },
	{ "RDATE", K_DATES_LIST, 0 },
	{ "RECURRENCE-ID", K_DATES, 0 },
	{ "RELATED-TO", K_TEXT, 0 },
	{ "REPEAT", K_INTEGER, 0 },
	{ "RESOURCES", K_TEXT, 0 },
	{ "RRULE", K_LIBICAL, ICAL_RECUR_VALUE },
	{ "SEQUENCE", K_INTEGER, 0 },
	{ "STATUS", K_LIBICAL, ICAL_STATUS_VALUE },
	{ "SUMMARY", K_TEXT, 0 },
	{ "TRANSP", K_LIBICAL, ICAL_TRANSP_VALUE },
	{ "TRIGGER", K_DURATION, 0 },
	{ "TZID", K_TZID, 0 },
	{ "TZNAME", K_TEXT, 0 },
	{ "TZOFFSETFROM", K_UTCOFFSET, 0 },
	{ "TZOFFSETTO", K_UTCOFFSET, 0 },
	{ "TZURL", K_TEXT, 0 },
	{ "UID", K_UID, 0 },
	{ "URL", K_TEXT, 0 },
	{ "VERSION", K_TEXT, 0 },
};

/* The parameters the scan knows, with the values libical's enumerations
 * take ("|A|B|"), or NULL for a parameter that takes any text.  TZID and
 * VALUE are read apart: they change how the value is read. */
static const struct {
	const char *name;
	const char *words;
} parameters[] = {
	{ "ALTREP", NULL },
	{ "CN", NULL },
	{ "CUTYPE", "|INDIVIDUAL|GROUP|RESOURCE|ROOM|UNKNOWN|" },
	{ "DIR", NULL },
	{ "FMTTYPE", NULL },
	{ "LANGUAGE", NULL },
	{ "PARTSTAT", "|NEEDS-ACTION|ACCEPTED|DECLINED|TENTATIVE|DELEGATED|COMPLETED|IN-PROCESS|" },
	{ "RELATED", "|START|END|" },
	{ "RELTYPE", "|PARENT|CHILD|SIBLING|" },
	{ "ROLE", "|CHAIR|REQ-PARTICIPANT|OPT-PARTICIPANT|NON-PARTICIPANT|" },
	{ "RSVP", "|TRUE|FALSE|" },
	{ "SENT-BY", NULL },
};

/* A run of text: not NUL-terminated. */
typedef struct {
	const char *p;
	gsize n;
} span;

static gboolean span_is(span s, const char *word)
{
	return strlen(word) == s.n && !memcmp(s.p, word, s.n);
}

/* s is one of words ("|A|B|"). */
static gboolean span_in(span s, const char *words)
{
	for (const char *w = strchr(words, '|'); w && w[1]; w = strchr(w + 1, '|')) {
		const char *e = strchr(w + 1, '|');

		if ((gsize)(e - w - 1) == s.n && !memcmp(w + 1, s.p, s.n))
			return TRUE;
	}
	return FALSE;
}

static gboolean digits(const char *p, int n)
{
	for (int i = 0; i < n; i++)
		if (!g_ascii_isdigit(p[i]))
			return FALSE;
	return TRUE;
}

static int number(const char *p, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++)
		v = v * 10 + (p[i] - '0');
	return v;
}

/* YYYYMMDD, a day that exists */
static gboolean date_ok(const char *p)
{
	int y, m, d;

	if (!digits(p, 8))
		return FALSE;
	y = number(p, 4), m = number(p + 4, 2), d = number(p + 6, 2);
	return y >= 1000 && m >= 1 && m <= 12 && d >= 1 &&
	       d <= g_date_get_days_in_month(m, y);
}

/* YYYYMMDDTHHMMSS, with Z or without */
static gboolean datetime_ok(span s)
{
	const char *p = s.p;

	if ((s.n != 15 && !(s.n == 16 && p[15] == 'Z')) || p[8] != 'T' ||
	    !date_ok(p) || !digits(p + 9, 6))
		return FALSE;
	return number(p + 9, 2) <= 23 && number(p + 11, 2) <= 59 &&
	       number(p + 13, 2) <= 59;
}

static gboolean dates_ok(span s, gboolean date, gboolean list)
{
	while (TRUE) {
		const char *comma = list ? memchr(s.p, ',', s.n) : NULL;
		span one = { s.p, comma ? (gsize)(comma - s.p) : s.n };

		if (date ? !(one.n == 8 && date_ok(one.p)) : !datetime_ok(one))
			return FALSE;
		if (!comma)
			return TRUE;
		s.n -= one.n + 1;
		s.p = comma + 1;
	}
}

/* [+-]P then nW, or nD[T...], or T...; T then nH[nM[nS]], nM[nS] or nS */
static gboolean duration_ok(span s)
{
	const char *p = s.p, *e = s.p + s.n;
	static const char units[] = "HMS";
	int unit = 0, got = 0;

	if (p < e && (*p == '+' || *p == '-'))
		p++;
	if (p == e || *p++ != 'P')
		return FALSE;
	if (p < e && *p != 'T') {
		const char *q = p;

		while (q < e && g_ascii_isdigit(*q) && q - p < 6)
			q++;
		if (q == p || q == e || (*q != 'W' && *q != 'D'))
			return FALSE;
		if (*q == 'W' || q + 1 == e)
			return q + 1 == e;
		p = q + 1;
	}
	if (p == e || *p++ != 'T')
		return FALSE;
	while (p < e) {
		const char *q = p;

		while (q < e && g_ascii_isdigit(*q) && q - p < 6)
			q++;
		if (q == p || q == e)
			return FALSE;
		while (units[unit] && units[unit] != *q)
			unit++;
		if (!units[unit])
			return FALSE;
		unit++;
		got++;
		p = q + 1;
	}
	return got > 0;
}

static gboolean utcoffset_ok(span s)
{
	return (s.n == 5 || s.n == 7) && (s.p[0] == '+' || s.p[0] == '-') &&
	       digits(s.p + 1, s.n - 1) && number(s.p + 1, 2) <= 23 &&
	       number(s.p + 3, 2) <= 59 && (s.n == 5 || number(s.p + 5, 2) <= 59);
}

static gboolean integer_ok(span s)
{
	gsize i = s.n && (s.p[0] == '-' || s.p[0] == '+');

	return s.n > i && s.n - i <= 9 && digits(s.p + i, s.n - i);
}

/* TEXT that libical unescapes without surprise: a backslash only before
 * n, N, comma, semicolon or another backslash. */
static gboolean text_ok(span s)
{
	for (gsize i = 0; i < s.n; i++)
		if (s.p[i] == '\\' && (++i == s.n || !strchr("nN,;\\", s.p[i])))
			return FALSE;
	return TRUE;
}

/* libical's own parse of a value of kind (which it reads as a NUL-
 * terminated string). */
static gboolean libical_ok(span s, icalvalue_kind kind)
{
	char buf[256];
	icalvalue *v;

	if (s.n >= sizeof(buf))
		return FALSE;
	memcpy(buf, s.p, s.n);
	buf[s.n] = '\0';
	if (!(v = icalvalue_new_from_string(kind, buf)))
		return FALSE;
	icalvalue_free(v);
	return TRUE;
}

static const known_property *find_property(span name)
{
	for (gsize i = 0; i < G_N_ELEMENTS(properties); i++)
		if (properties[i].name[0] == name.p[0] && span_is(name, properties[i].name))
			return &properties[i];
	return NULL;
}

static gboolean is_x_name(span name)
{
	return name.n > 2 && name.p[0] == 'X' && name.p[1] == '-' &&
	       !(name.n >= 6 && !memcmp(name.p, "X-LIC-", 6));
}

/* What the parameters of a line said. */
typedef struct {
	gboolean tzid;
	gboolean value_date;
	gboolean value_datetime;
} line_params;

/* A parameter name's characters, as the scan takes them. */
static gboolean name_char(char c)
{
	return g_ascii_isupper(c) || g_ascii_isdigit(c) || c == '-';
}

/* Read the parameters at *p (just after a ';') up to the value's ':';
 * *p is left at the value.  FALSE: not sure. */
static gboolean read_params(const char **p, const char *e, line_params *lp)
{
	const char *q = *p;

	while (TRUE) {
		span name = { q, 0 }, val;
		gboolean quoted = FALSE;

		while (q < e && name_char(*q))
			q++;
		name.n = q - name.p;
		if (!name.n || q == e || *q++ != '=')
			return FALSE;
		if (q < e && *q == '"') {
			const char *close = memchr(q + 1, '"', e - q - 1);

			if (!close)
				return FALSE;
			val = (span){ q + 1, close - q - 1 };
			quoted = TRUE;
			q = close + 1;
		} else {
			val.p = q;
			while (q < e && !strchr(";:\"", *q))
				q++;
			val.n = q - val.p;
		}
		if (!val.n || q == e || (*q != ';' && *q != ':'))
			return FALSE;
		/* libical splits at a ; or : only outside quotes, and reads
		 * no parameter as a list */
		for (gsize i = 0; i < val.n; i++)
			if (strchr("\\^\"", val.p[i]) ||
			    (!quoted && val.p[i] == ',' && !span_is(name, "CN") &&
			     !span_is(name, "TZID")))
				return FALSE;
		if (span_is(name, "TZID")) {
			if (lp->tzid)
				return FALSE;
			lp->tzid = TRUE;
		} else if (span_is(name, "VALUE")) {
			if (quoted || lp->value_date || lp->value_datetime)
				return FALSE;
			if (span_is(val, "DATE"))
				lp->value_date = TRUE;
			else if (span_is(val, "DATE-TIME"))
				lp->value_datetime = TRUE;
			else
				return FALSE;
		} else if (!is_x_name(name)) {
			gsize i;

			for (i = 0; i < G_N_ELEMENTS(parameters); i++)
				if (span_is(name, parameters[i].name))
					break;
			if (i == G_N_ELEMENTS(parameters) ||
			    (parameters[i].words &&
			     (quoted || !span_in(val, parameters[i].words))))
				return FALSE;
		}
		if (*q++ == ':') {
			*p = q;
			return TRUE;
		}
	}
}

/* One property line (unfolded, without its line ending) read: FALSE
 * when not sure.  *uid is set to the value of a UID line. */
static gboolean property_ok(const char *line, gsize n, span *uid)
{
	const char *p = line, *e = line + n;
	const known_property *k = NULL;
	line_params lp = { FALSE, FALSE, FALSE };
	span name = { p, 0 }, value;

	while (p < e && name_char(*p))
		p++;
	name.n = p - line;
	if (!name.n || p == e)
		return FALSE;
	if (!is_x_name(name) && !(k = find_property(name)))
		return FALSE;
	if (*p == ';') {
		p++;
		if (!read_params(&p, e, &lp))
			return FALSE;
	} else if (*p++ != ':') {
		return FALSE;
	}
	value = (span){ p, e - p };
	if (!k)			/* an X- property: any value */
		return TRUE;
	/* TZID and VALUE only where they mean what the scan reads */
	if ((lp.tzid && k->form != K_DATES && k->form != K_DATES_LIST) ||
	    (lp.value_date && k->form != K_DATES && k->form != K_DATES_LIST) ||
	    (lp.value_datetime && k->form != K_DATES && k->form != K_DATES_LIST &&
	     k->form != K_DURATION))
		return FALSE;
	if (k->form == K_TEXT)
		return text_ok(value);
	if (k->form == K_TZID)
		return !memchr(value.p, '\\', value.n);
	/* libical drops a property with no value, and says so in an error
	 * that item_check tolerates (Exchange writes "CLASS:") */
	if (!value.n && k->form != K_UID && k->form != K_DATES_LIST)
		return TRUE;
	/* a padded value: not sure */
	if (!value.n || g_ascii_isspace(value.p[0]) ||
	    g_ascii_isspace(value.p[value.n - 1]))
		return FALSE;
	switch (k->form) {
	case K_UID:
		*uid = value;
		return !memchr(value.p, '\\', value.n);
	case K_DATETIME:
		return datetime_ok(value);
	case K_DATES:
	case K_DATES_LIST:
		return dates_ok(value, lp.value_date, k->form == K_DATES_LIST);
	case K_INTEGER:
		return integer_ok(value);
	case K_DURATION:
		return lp.value_datetime ? datetime_ok(value) : duration_ok(value);
	case K_UTCOFFSET:
		return utcoffset_ok(value);
	case K_LIBICAL:
		return libical_ok(value, k->kind);
	default:
		return FALSE;
	}
}

/* Where a component may be, for the scan: the item kinds and VTIMEZONE
 * in the VCALENDAR, VALARM in an event or a to-do, STANDARD and DAYLIGHT
 * in a VTIMEZONE. */
static gboolean component_ok(span name, int depth, span parent)
{
	switch (depth) {
	case 0:
		return span_is(name, "VCALENDAR");
	case 1:
		return span_is(name, "VEVENT") || span_is(name, "VTODO") ||
		       span_is(name, "VJOURNAL") || span_is(name, "VTIMEZONE");
	case 2:
		if (span_is(name, "VALARM"))
			return span_is(parent, "VEVENT") || span_is(parent, "VTODO");
		return (span_is(name, "STANDARD") || span_is(name, "DAYLIGHT")) &&
		       span_is(parent, "VTIMEZONE");
	default:
		return FALSE;
	}
}

/* Longest physical line the scan reads: libical reads lines through a
 * fixed buffer, and longer ones are not what the scan vouches for. */
#define MAX_PHYSICAL 998

icscan_verdict icscan_item(const char *data, gsize len, char **uid)
{
	const char *p = data, *end = data + len;
	GString *joined = NULL;
	span stack[3], the_uid = { NULL, 0 };
	char *uid_copy = NULL;	/* the UID, when it was read from joined */
	int depth = 0, items = 0, uids_here = 0;
	gboolean several = FALSE, closed = FALSE;
	icscan_verdict verdict = ICSCAN_NOT_SURE;

	while (p < end && !closed) {
		const char *eol = memchr(p, '\n', end - p), *line = p, *next;
		gsize n;
		span name, got = { NULL, 0 };
		gboolean folded = FALSE;	/* line is joined's */

		if (!eol)
			goto out;
		n = eol - p;
		next = eol + 1;
		if (n && p[n - 1] == '\r')
			n--;
		if (!n || n > MAX_PHYSICAL)
			goto out;
		/* a content line folded over several physical lines */
		if (next < end && (*next == ' ' || *next == '\t')) {
			if (!joined)
				joined = g_string_sized_new(256);
			g_string_truncate(joined, 0);
			g_string_append_len(joined, p, n);
			while (next < end && (*next == ' ' || *next == '\t')) {
				const char *e2 = memchr(next, '\n', end - next);
				gsize m;

				if (!e2)
					goto out;
				m = e2 - next;
				if (m && next[m - 1] == '\r')
					m--;
				if (m > MAX_PHYSICAL)
					goto out;
				g_string_append_len(joined, next + 1, m - 1);
				next = e2 + 1;
			}
			line = joined->str;
			n = joined->len;
			folded = TRUE;
		}
		p = next;
		for (gsize i = 0; i < n; i++)
			if ((guchar)line[i] < 0x20 || line[i] == 0x7f)
				goto out;
		/* libical drops white space at a line's end */
		if (line[n - 1] == ' ')
			goto out;
		if (n > 6 && !memcmp(line, "BEGIN:", 6)) {
			name = (span){ line + 6, n - 6 };
			/* the name is kept on the stack: not one in joined,
			 * which the next fold writes over */
			if (folded || !component_ok(name, depth, depth ? stack[depth - 1] : name))
				goto out;
			stack[depth++] = name;
			if (depth == 2 && !span_is(name, "VTIMEZONE"))
				items++, uids_here = 0;
		} else if (n > 4 && !memcmp(line, "END:", 4)) {
			name = (span){ line + 4, n - 4 };
			if (folded || !depth || name.n != stack[depth - 1].n ||
			    memcmp(name.p, stack[depth - 1].p, name.n))
				goto out;
			if (depth == 2 && !span_is(name, "VTIMEZONE") && uids_here != 1)
				goto out;
			closed = --depth == 0;
		} else {
			if (!depth || !property_ok(line, n, &got))
				goto out;
			if (got.p && depth == 2 && !span_is(stack[1], "VTIMEZONE")) {
				if (uids_here++)
					goto out;
				if (!the_uid.p) {
					the_uid = got;
					/* joined is used again for the next fold */
					if (folded)
						the_uid.p = uid_copy = g_strndup(got.p, got.n);
				} else if (got.n != the_uid.n || memcmp(got.p, the_uid.p, got.n)) {
					several = TRUE;	/* no escapes: they differ to libical */
				}
			}
		}
	}
	/* after END:VCALENDAR, only the white space frame_ok allows */
	for (; p < end; p++)
		if (!g_ascii_isspace(*p))
			goto out;
	if (!closed || !items || !the_uid.p)
		goto out;
	verdict = several ? ICSCAN_SEVERAL : ICSCAN_ITEM;
	if (verdict == ICSCAN_ITEM && uid)
		*uid = g_strndup(the_uid.p, the_uid.n);
out:
	g_free(uid_copy);
	if (joined)
		g_string_free(joined, TRUE);
	return verdict;
}
