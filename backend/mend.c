#include "mend.h"
#include "ictext.h"

#include <string.h>

/* ---- L1 and L2: physical lines ---- */

/* A content line as physical lines made it: [start, end) of the source,
 * line ends included, and its text unfolded; changed when a mend made
 * the text differ from what plain unfolding gives. */
typedef struct {
	gsize start, end;
	GString *text;
	gboolean changed;
} logical;

static gboolean named(const GString *text, const char *name)
{
	gsize n = strlen(name);

	return text->len > n && !g_ascii_strncasecmp(text->str, name, n) &&
	       (text->str[n] == ':' || text->str[n] == ';');
}

/* Whether text has its value separator: a ':' outside double quotes. */
static gboolean has_value(const GString *text)
{
	gboolean quoted = FALSE;

	for (gsize i = 0; i < text->len; i++) {
		if (text->str[i] == '"')
			quoted = !quoted;
		else if (text->str[i] == ':' && !quoted)
			return TRUE;
	}
	return FALSE;
}

static char *name_of(const GString *text)
{
	return g_strndup(text->str, strcspn(text->str, ";:"));
}

static void note(GPtrArray *notes, const char *rule, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static void note(GPtrArray *notes, const char *rule, const char *fmt, ...)
{
	va_list ap;
	char *what;

	if (!notes)
		return;
	va_start(ap, fmt);
	what = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_ptr_array_add(notes, g_strdup_printf("%s (rule %s)", what, rule));
	g_free(what);
}

static gboolean date_list(const char *s, gsize n)
{
	return n > 0 && strspn(s, "0123456789TZ,") >= n;
}

/* L2: a TZID parameter whose quotes take the value in
 * ('DTSTART;TZID="W. Europe Standard Time:20200609T090000"'), or that are
 * never closed: closed before the last ':' when a date or date-time list
 * follows it to the end of the line. */
static void close_tzid_quote(logical *l, GPtrArray *notes)
{
	char *p = l->text->str, *q = strstr(p, ";TZID=\""), *colon, *close;
	gsize end = l->text->len;
	char *name;

	if (!q)
		q = strstr(p, ";tzid=\"");
	if (!q)
		return;
	close = strchr(q + 7, '"');
	if (close && close[1] == '\0')
		end--;		/* the quote closed at the line's end: after the value */
	else if (close)
		return;		/* a quoted TZID, as it should be */
	colon = g_strrstr_len(q + 7, p + end - (q + 7), ":");
	if (!colon || !date_list(colon + 1, p + end - (colon + 1)))
		return;
	if (close)
		g_string_truncate(l->text, end);
	g_string_insert_c(l->text, colon - p, '"');
	l->changed = TRUE;
	name = name_of(l->text);
	note(notes, "L2", "%s: the quote of its TZID parameter closed before the value", name);
	g_free(name);
}

/* Split data into content lines, mending L1 on the way. */
static GArray *logical_lines(const char *s, gsize len, GPtrArray *notes)
{
	GArray *out = g_array_new(FALSE, FALSE, sizeof(logical));
	gsize i = 0;

	while (i < len) {
		const char *nl = memchr(s + i, '\n', len - i);
		gsize e = nl ? (gsize)(nl - s) + 1 : len;
		gsize content = e - (nl ? 1 : 0);
		logical *cur = out->len ? &g_array_index(out, logical, out->len - 1) : NULL;

		if (content > i && s[content - 1] == '\r')
			content--;
		if (cur && (s[i] == ' ' || s[i] == '\t')) {
			/* a fold; two spaces in a UID or an address's value are
			 * the fold and a space that was never there (L1) */
			gsize from = i + 1;

			if ((named(cur->text, "UID") || named(cur->text, "ATTENDEE") ||
			     named(cur->text, "ORGANIZER")) && has_value(cur->text) &&
			    from < content && s[from] == ' ') {
				char *name = name_of(cur->text);

				while (from < content && s[from] == ' ')
					from++;
				cur->changed = TRUE;
				note(notes, "L1", "%s: the space a fold of two spaces left in its value"
				     " removed", name);
				g_free(name);
			}
			g_string_append_len(cur->text, s + from, content - from);
			cur->end = e;
		} else if (cur && (s[i] == ':' || s[i] == ';')) {
			/* a bare line break before the value or a parameter */
			char *name = name_of(cur->text);

			g_string_append_len(cur->text, s + i, content - i);
			cur->end = e;
			cur->changed = TRUE;
			note(notes, "L1", "%s: a line break before its %s joined", name,
			     s[i] == ':' ? "value" : "parameters");
			g_free(name);
		} else {
			logical l = { i, e, g_string_new_len(s + i, content - i), FALSE };

			g_array_append_val(out, l);
		}
		i = e;
	}
	return out;
}

static GBytes *mend_lines(GBytes *text, GPtrArray *notes)
{
	gsize len;
	const char *s = g_bytes_get_data(text, &len);
	const char *eol = memchr(s, '\r', len) ? "\r\n" : "\n";
	GArray *lines = logical_lines(s, len, notes);
	gboolean any = FALSE;
	GString *out;

	for (guint i = 0; i < lines->len; i++) {
		logical *l = &g_array_index(lines, logical, i);

		close_tzid_quote(l, notes);
		any |= l->changed;
	}
	if (!any) {
		for (guint i = 0; i < lines->len; i++)
			g_string_free(g_array_index(lines, logical, i).text, TRUE);
		g_array_unref(lines);
		return g_bytes_ref(text);
	}
	out = g_string_sized_new(len);
	for (guint i = 0; i < lines->len; i++) {
		logical *l = &g_array_index(lines, logical, i);

		/* only what was mended is written anew */
		if (l->changed)
			ictext_append_folded(out, l->text->str, eol);
		else
			g_string_append_len(out, s + l->start, l->end - l->start);
		g_string_free(l->text, TRUE);
	}
	g_array_unref(lines);
	return g_string_free_to_bytes(out);
}

/* ---- L3 and L4: content lines ---- */

/* L3: VTIMEZONE TZID lines as the TZID parameters name them. */
static void tzid_text(ictext *t, GPtrArray *notes)
{
	ictext_line *z;

	for (int n = 0; (z = ictext_find_in(t, "VTIMEZONE", "TZID", n)); n++) {
		const char *raw = ictext_line_value(z);
		char *plain = ictext_unescape(raw);
		gboolean named_so = FALSE;

		for (int comp = 0, items = ictext_n_items(t); !named_so && comp < items; comp++) {
			static const char *const props[] = { "DTSTART", "DTEND", "DUE",
							     "RECURRENCE-ID", "EXDATE", "RDATE", NULL };

			for (int k = 0; !named_so && props[k]; k++) {
				ictext_line *l = ictext_find(t, comp, props[k], NULL, 0);
				char *tz = l ? ictext_line_param(l, "TZID") : NULL;

				named_so = tz && !strcmp(tz, plain);
				g_free(tz);
			}
		}
		if (named_so && strcmp(raw, plain)) {
			note(notes, "L3", "VTIMEZONE \"%s\": its TZID line written as the TZID"
			     " parameters name it (vobject, Radicale's parser, matches them byte for"
			     " byte)", plain);
			ictext_set_value(z, plain);
		}
		g_free(plain);
	}
}

/* Whether every comma-separated value is a local date-time (not UTC). */
static gboolean floating_times(const char *value)
{
	char **vals = g_strsplit(value, ",", -1);
	gboolean yes = vals[0] != NULL;

	for (int i = 0; vals[i]; i++)
		yes &= strchr(vals[i], 'T') && !strchr(vals[i], 'Z');
	g_strfreev(vals);
	return yes;
}

/* L4: exceptions in floating time on a component with a zone. */
static void zone_exceptions(ictext *t, GPtrArray *notes)
{
	static const char *const props[] = { "EXDATE", "RDATE", "RECURRENCE-ID", NULL };

	for (int comp = 0, items = ictext_n_items(t); comp < items; comp++) {
		ictext_line *ds = ictext_find(t, comp, "DTSTART", NULL, 0);
		char *tz = ds ? ictext_line_param(ds, "TZID") : NULL;

		for (int k = 0; tz && props[k]; k++) {
			ictext_line *l;

			for (int n = 0; (l = ictext_find(t, comp, props[k], NULL, n)); n++) {
				char *has = ictext_line_param(l, "TZID"), *type = ictext_line_param(l, "VALUE");

				if (!has && !type && floating_times(ictext_line_value(l))) {
					note(notes, "L4", "%s %s: given the TZID \"%s\" of the DTSTART",
					     props[k], ictext_line_value(l), tz);
					ictext_set_param(l, "TZID", tz);
				}
				g_free(has);
				g_free(type);
			}
		}
		g_free(tz);
	}
}

static gboolean starts(const char *line, const char *end, const char *word)
{
	gsize n = strlen(word);

	return (gsize)(end - line) >= n && !g_ascii_strncasecmp(line, word, n);
}

/* L2 on one physical line: a TZID quote not closed on it, or closed at
 * its end. */
static gboolean bad_quote(const char *line, const char *end)
{
	for (const char *p = line; p + 6 <= end; p++) {
		const char *q;

		if (*p != ';' || !starts(p + 1, end, "TZID=\""))
			continue;
		q = memchr(p + 7, '"', end - (p + 7));
		if (!q || q + 1 >= end || q[1] == '\r')
			return TRUE;
	}
	return FALSE;
}

gboolean mend_may_apply(const char *data, gsize len)
{
	const char *end = data + len, *line = data;
	gboolean zoned = FALSE, floating = FALSE;

	/* one pass over the physical lines */
	while (line < end) {
		const char *nl = memchr(line, '\n', end - line), *e = nl ? nl : end;

		/* L1: a line that begins with ':' ';' or two spaces */
		if (line > data && (*line == ':' || *line == ';' ||
				    (*line == ' ' && line + 1 < e && line[1] == ' ')))
			return TRUE;
		/* L3: an escape in a VTIMEZONE's TZID line */
		if (starts(line, e, "TZID:") && memchr(line, '\\', e - line))
			return TRUE;
		/* L4: an exception without parameters, beside a zoned start */
		floating |= starts(line, e, "EXDATE:") || starts(line, e, "RDATE:") ||
			    starts(line, e, "RECURRENCE-ID:");
		zoned |= starts(line, e, "DTSTART;");
		if ((zoned && floating) || bad_quote(line, e))
			return TRUE;
		line = nl ? nl + 1 : end;
	}
	return FALSE;
}

GBytes *mend_text(GBytes *text, GPtrArray *notes)
{
	GBytes *lines, *out;
	ictext *t;

	if (!mend_may_apply(g_bytes_get_data(text, NULL), g_bytes_get_size(text)))
		return g_bytes_ref(text);
	lines = mend_lines(text, notes);
	t = ictext_parse(lines);
	tzid_text(t, notes);
	zone_exceptions(t, notes);
	out = ictext_changed(t) ? ictext_serialize(t) : g_bytes_ref(lines);
	ictext_free(t);
	g_bytes_unref(lines);
	return out;
}
