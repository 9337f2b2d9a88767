#include "mend.h"
#include "ictext.h"

#include <stdlib.h>
#include <string.h>

/* ---- L1 and L2: physical lines ---- */

/* A content line as physical lines made it: [start, end) of the source,
 * line ends included, and its text unfolded; changed when a mend made
 * the text differ from what plain unfolding gives. */
typedef struct {
	gsize start, end;
	GString *text;
	gboolean changed;
	gboolean dropped;	/* not written at all */
	GString *before;	/* lines written before it (L10), or NULL */
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
	/* a UID's TZID names no zone: moving its quote would move what
	 * libical reads as the UID (make fuzz) */
	if (!q || named(l->text, "UID"))
		return;
	close = strchr(q + 7, '"');
	if (close && close[1] == '\0')
		end--;		/* the quote closed at the line's end: after the value */
	else if (close)
		return;		/* a quoted TZID, as it should be */
	colon = g_strrstr_len(q + 7, p + end - (q + 7), ":");
	if (!colon || !date_list(colon + 1, p + end - (colon + 1)))
		return;
	/* a TZID with a control character is refused: closing the quote
	 * would make an accepted item one that is not (make fuzz) */
	for (const char *c = q + 7; c < colon; c++)
		if ((guchar)*c < 0x20 || *c == 0x7f)
			return;
	if (close)
		g_string_truncate(l->text, end);
	g_string_insert_c(l->text, colon - p, '"');
	l->changed = TRUE;
	name = name_of(l->text);
	note(notes, "L2", "%s: the quote of its TZID parameter closed before the value", name);
	g_free(name);
}

/* Whether s[0..n) can begin a content line: a name of letters, digits
 * and '-' followed by ';' or ':' (its value may come after a fold).
 * libical takes anything up to the first ';' or ':' after "X-" as a
 * name ("X-MICROSOFT.-CDO-BUSYSTATUS"), passing over those in double
 * quotes or after a backslash as its parser does: such a line is a
 * property too, not a piece of the line before (make fuzz). */
static gboolean content_line(const char *s, gsize n)
{
	gboolean x = n > 2 && g_ascii_toupper(s[0]) == 'X' && s[1] == '-';
	gboolean quoted = FALSE;
	gsize k = 0;

	if (x) {
		for (k = 2; k < n; k++) {
			gboolean escaped = s[k - 1] == '\\';

			if (s[k] == '"' && !escaped)
				quoted = !quoted;
			else if ((s[k] == ':' || s[k] == ';') && !quoted && !escaped)
				return TRUE;
		}
		return FALSE;
	}
	while (k < n && (g_ascii_isalnum(s[k]) || s[k] == '-'))
		k++;
	return k > 0 && k < n && (s[k] == ':' || s[k] == ';');
}

/* Whether the physical line at s[i..] with the fold lines after it in
 * s[..len) begins a content line, as libical unfolds it: a name cut by
 * a fold ("X-MICRO" then " 0101…;RSVP=TRUE:…") is one (make fuzz). */
static gboolean content_line_unfolded(const char *s, gsize i, gsize len)
{
	GString *l = g_string_new(NULL);
	gboolean yes;

	for (gboolean first = TRUE; i < len; first = FALSE) {
		const char *nl = memchr(s + i, '\n', len - i);
		gsize e = nl ? (gsize)(nl - s) + 1 : len, content = e - (nl ? 1 : 0);

		if (!first && s[i] != ' ' && s[i] != '\t')
			break;
		if (content > i && s[content - 1] == '\r')
			content--;
		if (!first)
			i++;	/* the fold's white space */
		g_string_append_len(l, s + i, content - i);
		i = e;
	}
	yes = content_line(l->str, l->len);
	g_string_free(l, TRUE);
	return yes;
}

/* Writers fold at 75 octets, some a little sooner: a line at least this
 * long may have been folded. */
#define FOLDED_AT 70

/* Split data into content lines, mending L1 on the way. */
static GArray *logical_lines(const char *s, gsize len, GPtrArray *notes)
{
	GArray *out = g_array_new(FALSE, FALSE, sizeof(logical));
	gsize i = 0, prev_len = 0, this_len = 0;	/* of the physical lines */

	while (i < len) {
		const char *nl = memchr(s + i, '\n', len - i);
		gsize e = nl ? (gsize)(nl - s) + 1 : len;
		gsize content = e - (nl ? 1 : 0);
		logical *cur = out->len ? &g_array_index(out, logical, out->len - 1) : NULL;

		if (content > i && s[content - 1] == '\r')
			content--;
		prev_len = this_len;
		this_len = content - i;
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
		} else if (cur && content == i) {
			/* a blank line: nothing to keep */
			cur->end = e;
			cur->changed = TRUE;
			note(notes, "L1", "a blank line dropped");
		} else if (cur && prev_len >= FOLDED_AT && !content_line(s + i, content - i) &&
			   !content_line_unfolded(s, i, len)) {
			/* a fold that lost its space (Exchange 2007): no line
			 * begins so, and the one before is as long as writers
			 * fold at */
			char *name = name_of(cur->text);

			g_string_append_len(cur->text, s + i, content - i);
			cur->end = e;
			cur->changed = TRUE;
			note(notes, "L1", "%s: a line break without the space of a fold joined", name);
			g_free(name);
		} else {
			logical l = { i, e, g_string_new_len(s + i, content - i), FALSE, FALSE, NULL };

			g_array_append_val(out, l);
		}
		i = e;
	}
	return out;
}

/* L5: GEO's two values with an escaped separator (SOGo):
 * "GEO:12.34567\;12.34567". */
static void geo_separator(logical *l, GPtrArray *notes)
{
	char *p;

	if (!named(l->text, "GEO") || !(p = strstr(l->text->str, "\\;")))
		return;
	g_string_erase(l->text, p - l->text->str, 1);
	l->changed = TRUE;
	note(notes, "L5", "GEO: the separator of its two values unescaped");
}

/* L9: times with an empty TZID ("DTSTART;TZID=:20150826T090000", or
 * TZID=""), in a
 * VTIMEZONE with an empty TZID whose offsets are all +0000 (Exchange
 * relaying Google): they are UTC, and that VTIMEZONE, which no reader
 * takes, goes. */
static void empty_tzid(GArray *lines, GPtrArray *notes)
{
	guint begin = 0, end = 0;
	gboolean in = FALSE, empty = FALSE, zero = TRUE, found = FALSE;

	for (guint i = 0; i < lines->len && !found; i++) {
		GString *t = g_array_index(lines, logical, i).text;

		if (!g_ascii_strcasecmp(t->str, "BEGIN:VTIMEZONE")) {
			in = TRUE, empty = FALSE, zero = TRUE, begin = i;
		} else if (in && !g_ascii_strcasecmp(t->str, "END:VTIMEZONE")) {
			in = FALSE, end = i, found = empty && zero;
		} else if (in && !g_ascii_strcasecmp(t->str, "TZID:")) {
			empty = TRUE;
		} else if (in && named(t, "TZOFFSETTO")) {
			zero &= g_str_has_suffix(t->str, ":+0000") || g_str_has_suffix(t->str, ":-0000");
		}
	}
	if (!found)
		return;
	for (guint i = begin; i <= end; i++)
		g_array_index(lines, logical, i).dropped = TRUE;
	for (guint i = 0; i < lines->len; i++) {
		logical *l = &g_array_index(lines, logical, i);
		char *p = strstr(l->text->str, ";TZID=:"), *name;
		gsize n = strlen(";TZID=");

		if (!p && (p = strstr(l->text->str, ";TZID=\"\":")))
			n = strlen(";TZID=\"\"");
		if (!p || strlen(p + n + 1) != 15 || p[n + 1 + 8] != 'T')
			continue;
		g_string_erase(l->text, p - l->text->str, n);
		g_string_append_c(l->text, 'Z');
		l->changed = TRUE;
		name = name_of(l->text);
		note(notes, "L9", "%s: a time in a VTIMEZONE without name or offset: UTC", name);
		g_free(name);
	}
	note(notes, "L9", "a VTIMEZONE without a name, all +0000, dropped");
}

static gboolean is_kind(const char *v, gsize n, const char *const *kinds)
{
	for (; *kinds; kinds++)
		if (strlen(*kinds) == n && !g_ascii_strncasecmp(v, *kinds, n))
			return TRUE;
	return FALSE;
}

/* The components a VCALENDAR holds directly: none of them nests in
 * another. */
static const char *const top_kinds[] = { "VEVENT", "VTODO", "VJOURNAL", "VTIMEZONE",
					 "VFREEBUSY", "VAVAILABILITY", NULL };

/* L10: "END:kind" for each of the components open above depth keep in
 * stack, written to out; they are popped. */
static void close_above(GPtrArray *stack, guint keep, GString *out, const char *eol,
			GPtrArray *notes)
{
	while (stack->len > keep) {
		char *kind = g_ptr_array_steal_index(stack, stack->len - 1);

		g_string_append_printf(out, "END:%s%s", kind, eol);
		note(notes, "L10", "%s: its END line missing: added", kind);
		g_free(kind);
	}
}

/* The BEGIN or END line's component name, or NULL when l is neither. */
static const char *begin_end_kind(const logical *l, gboolean *begin)
{
	const char *v;

	*begin = named(l->text, "BEGIN");
	if (l->dropped || (!*begin && !named(l->text, "END")))
		return NULL;
	v = l->text->str + (*begin ? 6 : 4);
	return strchr(v, ':') || strchr(v, ';') ? NULL : v;
}

/* Whether every component is closed by its own END line, in order:
 * nothing is left open, even where an event holds another (make fuzz:
 * closing the outer one at the inner one's BEGIN left its END line
 * closing nothing, and an accepted write was stored invalid). */
static gboolean all_closed(GArray *lines)
{
	GPtrArray *stack = g_ptr_array_new();
	gboolean ok = TRUE;

	for (guint i = 0; ok && i < lines->len; i++) {
		gboolean begin;
		const char *v = begin_end_kind(&g_array_index(lines, logical, i), &begin);

		if (!v)
			continue;
		if (begin)
			g_ptr_array_add(stack, (gpointer)v);
		else if ((ok = stack->len &&
			       !g_ascii_strcasecmp(stack->pdata[stack->len - 1], v)))
			g_ptr_array_remove_index(stack, stack->len - 1);
	}
	ok = ok && !stack->len;
	g_ptr_array_unref(stack);
	return ok;
}

/* L10: components left open (Office 365 in December 2023 wrote END:VEVENT
 * only after its last event, and no END:VCALENDAR; Exchange 2003 and
 * Teams invitations lack END:VCALENDAR) are closed where the next one
 * begins, where what holds them ends, and at the end.  Returns what
 * goes after the last line (newly allocated), or NULL. */
static GString *close_components(GArray *lines, const char *eol, GPtrArray *notes)
{
	GPtrArray *stack;
	GString *tail;

	if (all_closed(lines))
		return NULL;
	stack = g_ptr_array_new_with_free_func(g_free);
	tail = g_string_new(NULL);
	for (guint i = 0; i < lines->len; i++) {
		logical *l = &g_array_index(lines, logical, i);
		gboolean begin;
		const char *v = begin_end_kind(l, &begin);
		gboolean end = v && !begin;
		gsize n;
		guint keep = stack->len;
		GString *before;

		if (!v)
			continue;
		n = strlen(v);
		if (begin && is_kind(v, n, top_kinds))
			keep = MIN(keep, 1);	/* only the VCALENDAR stays open */
		else if (begin && !g_ascii_strcasecmp(v, "VCALENDAR"))
			keep = 0;
		else if (end)
			for (guint k = stack->len; k-- > 0;)
				if (!g_ascii_strcasecmp(stack->pdata[k], v)) {
					keep = k + 1;
					break;
				}
		if (keep < stack->len) {
			before = g_string_new(NULL);
			close_above(stack, keep, before, eol, notes);
			l->before = before;
		}
		if (begin)
			g_ptr_array_add(stack, g_strdup(v));
		else if (stack->len && !g_ascii_strcasecmp(stack->pdata[stack->len - 1], v))
			g_ptr_array_remove_index(stack, stack->len - 1);
	}
	close_above(stack, 0, tail, eol, notes);
	g_ptr_array_unref(stack);
	if (!tail->len) {
		g_string_free(tail, TRUE);
		return NULL;
	}
	return tail;
}

/* Whether s (len bytes) is sure to have each component closed by its own
 * END line, in order (all_closed), read from its physical lines: then L10
 * adds nothing.  FALSE when not, and when a line that logical_lines
 * would join to another could make or unmake a BEGIN or END line: the
 * caller then reads the logical lines. */
static gboolean closed_by_lines(const char *s, gsize len)
{
	enum { DEEP = 16 };
	const char *kind[DEEP];	/* the open components' names */
	gsize kind_len[DEEP];
	int open = 0;
	gsize i = 0, prev_len = 0;
	gboolean bend = FALSE;	/* the logical line so far may be BEGIN or END */

	while (i < len) {
		const char *nl = memchr(s + i, '\n', len - i);
		gsize e = nl ? (gsize)(nl - s) : len, n;
		const char *l = s + i, *v;
		gboolean begin;

		if (e > i && s[e - 1] == '\r')
			e--;
		n = e - i;
		/* joined to the line before (a superset of logical_lines's
		 * joins: a fold, a bare break, a blank line, a lost fold) */
		if (i > 0 && (!n || *l == ' ' || *l == '\t' || *l == ':' || *l == ';' ||
			      (prev_len >= FOLDED_AT && !content_line(l, n)))) {
			if (bend)
				return FALSE;
		} else {
			/* named() */
			begin = n > 5 && !g_ascii_strncasecmp(l, "BEGIN", 5) && (l[5] == ':' || l[5] == ';');
			bend = begin || (n > 3 && !g_ascii_strncasecmp(l, "END", 3) &&
					 (l[3] == ':' || l[3] == ';'));
			/* a name that a fold may complete ("BEG" " IN:VEVENT") */
			bend |= n < 6 && (!g_ascii_strncasecmp(l, "BEGIN", n) ||
					  !g_ascii_strncasecmp(l, "END", MIN(n, 3)));
			if (bend && n > 3 && (begin || l[3] == ':' || l[3] == ';')) {
				/* begin_end_kind's name: up to the line's end or a NUL */
				gsize k;

				v = l + (begin ? 6 : 4);
				k = strnlen(v, (gsize)(e - (gsize)(v - s)));
				if (memchr(v, ':', k) || memchr(v, ';', k)) {
					/* not a BEGIN or END line for begin_end_kind */
				} else if (begin) {
					if (open == DEEP)
						return FALSE;
					kind[open] = v, kind_len[open++] = k;
				} else if (!open || kind_len[open - 1] != k ||
					   g_ascii_strncasecmp(kind[open - 1], v, k)) {
					return FALSE;
				} else {
					open--;
				}
			}
		}
		prev_len = n;
		i = nl ? (gsize)(nl - s) + 1 : len;
	}
	return open == 0;
}

GBytes *mend_structure(GBytes *text, char **what)
{
	gsize len;
	const char *s = g_bytes_get_data(text, &len);

	*what = NULL;
	if (!s || closed_by_lines(s, len))
		return g_bytes_ref(text);
	return mend_structure_read_all(text, what);
}

GBytes *mend_structure_read_all(GBytes *text, char **what)
{
	gsize len;
	const char *s = g_bytes_get_data(text, &len);
	const char *eol = s && memchr(s, '\r', len) ? "\r\n" : "\n";
	GArray *lines;
	GPtrArray *notes;
	GString *out, *tail, *said;
	int last = -1;

	*what = NULL;
	if (!s)
		return g_bytes_ref(text);
	lines = logical_lines(s, len, NULL);
	for (guint i = 0; i < lines->len; i++)
		if (g_array_index(lines, logical, i).text->len)
			last = i;
	notes = g_ptr_array_new_with_free_func(g_free);
	/* a text cut short ends inside a component: left to be refused */
	tail = last >= 0 && named(g_array_index(lines, logical, last).text, "END")
	       ? close_components(lines, eol, notes) : NULL;
	out = g_string_sized_new(len + 64);
	for (guint i = 0; i < lines->len; i++) {
		logical *l = &g_array_index(lines, logical, i);

		/* only END lines are added; the rest stays as it came */
		if (l->before) {
			if (out->len && out->str[out->len - 1] != '\n')
				g_string_append(out, eol);
			g_string_append_len(out, l->before->str, l->before->len);
			g_string_free(l->before, TRUE);
		}
		g_string_append_len(out, s + l->start, l->end - l->start);
		g_string_free(l->text, TRUE);
	}
	g_array_unref(lines);
	if (!notes->len) {
		g_ptr_array_unref(notes);
		g_string_free(out, TRUE);
		return g_bytes_ref(text);
	}
	/* the components may all have been closed before the last line */
	if (tail && out->len && out->str[out->len - 1] != '\n')
		g_string_append(out, eol);
	if (tail) {
		g_string_append_len(out, tail->str, tail->len);
		g_string_free(tail, TRUE);
	}
	said = g_string_new("END lines the text left out added:");
	for (guint i = 0; i < notes->len; i++) {
		const char *n = notes->pdata[i];

		g_string_append_printf(said, "%s END:%.*s", i ? "," : "", (int)strcspn(n, ":"), n);
	}
	g_string_append(said, " (rule L10)");
	*what = g_string_free(said, FALSE);
	g_ptr_array_unref(notes);
	return g_string_free_to_bytes(out);
}

static GBytes *mend_lines(GBytes *text, GPtrArray *notes)
{
	gsize len;
	const char *s = g_bytes_get_data(text, &len);
	const char *eol = memchr(s, '\r', len) ? "\r\n" : "\n";
	GArray *lines = logical_lines(s, len, notes);
	GString *out, *tail;
	gboolean any;

	empty_tzid(lines, notes);
	tail = close_components(lines, eol, notes);
	any = tail != NULL;
	for (guint i = 0; i < lines->len; i++) {
		logical *l = &g_array_index(lines, logical, i);

		close_tzid_quote(l, notes);
		geo_separator(l, notes);
		any |= l->changed || l->dropped || l->before;
	}
	out = any ? g_string_sized_new(len + (tail ? tail->len : 0)) : NULL;
	for (guint i = 0; i < lines->len; i++) {
		logical *l = &g_array_index(lines, logical, i);

		if (out && l->before) {
			if (out->len && out->str[out->len - 1] != '\n')
				g_string_append(out, eol);
			g_string_append_len(out, l->before->str, l->before->len);
		}
		/* only what was mended is written anew */
		if (!out || l->dropped)
			;
		else if (l->changed)
			ictext_append_folded(out, l->text->str, eol);
		else
			g_string_append_len(out, s + l->start, l->end - l->start);
		if (l->before)
			g_string_free(l->before, TRUE);
		g_string_free(l->text, TRUE);
	}
	g_array_unref(lines);
	if (!out)
		return g_bytes_ref(text);
	if (tail) {
		/* a last line without its line end gets one first */
		if (out->len && out->str[out->len - 1] != '\n')
			g_string_append(out, eol);
		g_string_append_len(out, tail->str, tail->len);
		g_string_free(tail, TRUE);
	}
	return g_string_free_to_bytes(out);
}

/* ---- L3 and L4: content lines ---- */

/* L3: VTIMEZONE TZID lines as the TZID parameters name them. */
static void tzid_text(ictext *t, GPtrArray *notes)
{
	ictext_line *z;

	for (int n = 0; (z = ictext_find_in(t, "VTIMEZONE", "TZID", n)); n++) {
		const char *raw = ictext_line_value(z);
		char *plain = ictext_unescape(raw), *again;
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
		/* not when libical would read the line written so as another
		 * TZID: a backslash in it (make fuzz) */
		again = ictext_unescape(plain);
		if (named_so && strcmp(raw, plain) && !strcmp(again, plain)) {
			note(notes, "L3", "VTIMEZONE \"%s\": its TZID line written as the TZID"
			     " parameters name it (vobject, Radicale's parser, matches them byte for"
			     " byte)", plain);
			ictext_set_value(z, plain);
		}
		g_free(again);
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

/* Whether the value of one physical line (a date or date-time: after
 * its last ':') is before that of another of the same form. */
static gboolean before(const char *a, const char *a_end, const char *b, const char *b_end)
{
	const char *va, *vb;

	a_end -= a_end > a && a_end[-1] == '\r';	/* line endings may be mixed */
	b_end -= b_end > b && b_end[-1] == '\r';
	va = memrchr(a, ':', a_end - a);
	vb = memrchr(b, ':', b_end - b);
	return va && vb && a_end - va == b_end - vb && memcmp(va, vb, a_end - va) < 0;
}

/* Whether a physical line's value is 8 digits without VALUE=DATE. */
static gboolean date_line(const char *line, const char *end)
{
	const char *colon;

	while (end > line && (end[-1] == '\r' || end[-1] == '\n'))
		end--;
	colon = end - 9;
	/* a fold before the value: " 20061007" */
	if (colon == line && *colon == ' ')
		return strspn(colon + 1, "0123456789") >= 8;
	return colon > line && *colon == ':' && strspn(colon + 1, "0123456789") >= 8 &&
	       !g_strstr_len(line, colon - line, "VALUE=DATE:") &&
	       !g_strstr_len(line, colon - line, "VALUE=DATE;");
}

/* L2 and L9 on one physical line: a TZID quote not closed on it or
 * closed at its end, or a TZID parameter with an empty value. */
static gboolean bad_tzid_param(const char *line, const char *end)
{
	for (const char *p = line; (p = memchr(p, ';', end - p)); p++) {
		const char *q;

		if ((end - p >= 7 && !memcmp(p, ";TZID=:", 7)) ||
		    (end - p >= 9 && !memcmp(p, ";TZID=\"\":", 9)))
			return TRUE;
		if (!starts(p + 1, end, "TZID=\""))
			continue;
		q = memchr(p + 7, '"', end - (p + 7));
		if (!q || q + 1 >= end || q[1] == '\r')
			return TRUE;
	}
	return FALSE;
}

/* Whether value is a date (YYYYMMDD), not a date-time. */
static gboolean is_date(const char *value)
{
	return strlen(value) == 8 && strspn(value, "0123456789") == 8;
}

/* Whether line l says it is a date (VALUE=DATE). */
static gboolean typed_date(ictext_line *l)
{
	char *v = ictext_line_param(l, "VALUE");
	gboolean yes = v && !g_ascii_strcasecmp(v, "DATE");

	g_free(v);
	return yes;
}

/* L6 on one line: a date where a date-time is declared or expected.  With
 * the component's other times date-times (as_time), midnight of it in its
 * zone; else a date (VALUE=DATE, no TZID, which a date cannot have). */
static void date_value(ictext_line *l, const char *name, gboolean as_time, GPtrArray *notes)
{
	const char *v = ictext_line_value(l);
	char *value;

	if (!is_date(v) || typed_date(l))
		return;
	value = g_strdup(v);
	if (as_time) {
		char *t = g_strconcat(value, "T000000", NULL);

		note(notes, "L6", "%s %s: a date where a date-time is declared: midnight", name,
		     value);
		ictext_set_value(l, t);
		g_free(t);
	} else {
		note(notes, "L6", "%s %s: a date written as a date-time: a date", name, value);
		ictext_set_param(l, "TZID", NULL);
		ictext_set_param(l, "VALUE", "DATE");
	}
	g_free(value);
}

/* L6: the times of each item component. */
static void date_values(ictext *t, GPtrArray *notes)
{
	static const char *const others[] = { "RECURRENCE-ID", "EXDATE", "RDATE", NULL };

	for (int comp = 0, items = ictext_n_items(t); comp < items; comp++) {
		ictext_line *ds = ictext_find(t, comp, "DTSTART", NULL, 0);
		ictext_line *de = ictext_find(t, comp, "DTEND", NULL, 0);
		gboolean start_time, end_time;

		if (!de)
			de = ictext_find(t, comp, "DUE", NULL, 0);
		start_time = ds && !typed_date(ds) && !is_date(ictext_line_value(ds));
		end_time = de && !typed_date(de) && !is_date(ictext_line_value(de));
		if (ds)
			date_value(ds, "DTSTART", end_time, notes);
		if (de)
			date_value(de, "DTEND", start_time, notes);
		start_time |= end_time;
		for (int k = 0; others[k]; k++) {
			ictext_line *l;

			for (int n = 0; (l = ictext_find(t, comp, others[k], NULL, n)); n++)
				date_value(l, others[k], start_time, notes);
		}
	}
}

/* L11: a DTEND before the DTSTART (RFC 5545 requires it later; DAVx5 and
 * Android refuse such events, CalDAV time-range queries miss them): the
 * DTEND goes, and the event lasts what one without DTEND lasts (no
 * time, or its day).  Compared only when both are written alike (same
 * TZID, same form).  Every such DTEND goes, not only the first: a reader
 * takes the first that is left, and reading the item again must find
 * nothing more to remove (make fuzz). */
static void end_before_start(ictext *t, GPtrArray *notes)
{
	for (int comp = 0, items = ictext_n_items(t); comp < items; comp++) {
		ictext_line *ds = ictext_find(t, comp, "DTSTART", NULL, 0), *de;
		char *zs;
		const char *vs;

		if (!ds)
			continue;
		zs = ictext_line_param(ds, "TZID");
		vs = ictext_line_value(ds);
		for (int n = 0; (de = ictext_find(t, comp, "DTEND", NULL, n));) {
			char *ze = ictext_line_param(de, "TZID");
			const char *ve = ictext_line_value(de);
			gboolean alike = g_strcmp0(zs, ze) == 0 && strlen(vs) == strlen(ve) &&
					 (strlen(vs) == 8 || strlen(vs) == 15 || strlen(vs) == 16);

			g_free(ze);
			if (alike && strcmp(ve, vs) < 0) {
				note(notes, "L11", "DTEND %s: before DTSTART %s: removed", ve, vs);
				ictext_remove(de);	/* the next is now the n-th */
			} else {
				n++;
			}
		}
		g_free(zs);
	}
}

/* L7: a duration of weeks and days ("-P1W6DT15H"), which RFC 5545 does
 * not allow (weeks stand alone) and python-icalendar refuses: in days. */
static void weeks_and_days(ictext *t, GPtrArray *notes)
{
	static const char *const names[] = { "TRIGGER", "DURATION", NULL };

	for (int comp = 0, items = ictext_n_items(t); comp < items; comp++)
		for (int depth = 2; depth <= 3; depth++)
			for (int k = 0; names[k]; k++) {
				ictext_line *l;

				for (int n = 0; (l = ictext_find_at(t, comp, depth, names[k], NULL, n)); n++) {
					const char *v = ictext_line_value(l), *p = v;
					char *end, *fixed;
					long weeks, days = 0;

					if (*p == '-' || *p == '+')
						p++;
					if (*p++ != 'P' || !g_ascii_isdigit(*p))
						continue;
					weeks = strtol(p, &end, 10);
					if (*end != 'W' || !end[1])
						continue;	/* weeks alone are fine */
					p = end + 1;
					if (g_ascii_isdigit(*p)) {
						days = strtol(p, &end, 10);
						if (*end != 'D')
							continue;
						p = end + 1;
					}
					fixed = g_strdup_printf("%.*sP%ldD%s", (int)(v[0] == '-' || v[0] == '+'),
								v, weeks * 7 + days, p);
					note(notes, "L7", "%s %s: weeks and days in one duration: %s",
					     names[k], v, fixed);
					ictext_set_value(l, fixed);
					g_free(fixed);
				}
			}
}

gboolean mend_may_apply(const char *data, gsize len)
{
	const char *end = data + len, *line = data;
	gboolean zoned = FALSE, floating = FALSE;
	int vtimezones = 0;	/* begun, less those with a TZID */
	int open = 0;		/* BEGIN lines less END lines (L10) */
	/* L11: an item component's DTSTART and DTEND lines */
	const char *start = NULL, *start_e = NULL, *stop = NULL, *stop_e = NULL;
	gboolean time_line = FALSE;	/* the line before was one of them */

	/* one pass over the physical lines; a line is compared only with
	 * the names that begin with its first letter */
	while (line < end) {
		const char *nl = memchr(line, '\n', end - line), *e = nl ? nl : end;
		gboolean begin = FALSE, finish = FALSE, dtstart = FALSE, dtend = FALSE;

		/* L1: a line that begins with ':' ';' or two spaces, a blank
		 * one, or one that is no content line */
		if (line > data && (*line == ':' || *line == ';' ||
				    (*line == ' ' && line + 1 < e && line[1] == ' ')))
			return TRUE;
		if (line > data && *line != ' ' && *line != '\t' &&
		    !content_line(line, e - line - (e > line && e[-1] == '\r')))
			return TRUE;
		switch (g_ascii_toupper(*line)) {
		case 'B':
			begin = starts(line, e, "BEGIN:");
			vtimezones += starts(line, e, "BEGIN:VTIMEZONE");
			break;
		case 'D':
			dtstart = starts(line, e, "DTSTART");
			dtend = starts(line, e, "DTEND");
			/* L7: weeks and days */
			if (starts(line, e, "DURATION") && memchr(line, 'W', e - line))
				return TRUE;
			/* L6: a date without VALUE=DATE */
			if ((dtstart || dtend || starts(line, e, "DUE")) && date_line(line, e))
				return TRUE;
			zoned |= starts(line, e, "DTSTART;");
			break;
		case 'E':
			finish = starts(line, e, "END:");
			floating |= starts(line, e, "EXDATE:");
			break;
		case 'G':
			/* L5: GEO's separator escaped */
			if (starts(line, e, "GEO:") && memchr(line, '\\', e - line))
				return TRUE;
			break;
		case 'R':
			floating |= starts(line, e, "RDATE:") || starts(line, e, "RECURRENCE-ID:");
			break;
		case 'T':
			if (starts(line, e, "TRIGGER") && memchr(line, 'W', e - line))
				return TRUE;
			if (starts(line, e, "TZID:")) {
				/* L8: a VTIMEZONE without TZID */
				vtimezones--;
				/* L3: an escape in a VTIMEZONE's TZID line */
				if (memchr(line, '\\', e - line))
					return TRUE;
			}
			break;
		case ' ':
			/* L6 on a folded value */
			if (date_line(line, e))
				return TRUE;
			break;
		}
		open += begin - finish;	/* L10 */
		/* L11 compares the first DTSTART with each DTEND, values
		 * unfolded: a second DTSTART or DTEND, or a folded one, is
		 * left to it */
		if (time_line && (*line == ' ' || *line == '\t'))
			return TRUE;
		time_line = FALSE;
		if (begin && open == 2) {
			start = stop = NULL;
		} else if (open == 2 && dtstart) {
			if (start)
				return TRUE;
			start = line, start_e = e, time_line = TRUE;
		} else if (open == 2 && dtend) {
			if (stop)
				return TRUE;
			stop = line, stop_e = e, time_line = TRUE;
		}
		if (start && stop && before(stop, stop_e, start, start_e))
			return TRUE;
		/* L4: an exception without parameters, beside a zoned start;
		 * L2 and L9: a TZID parameter's quote or empty value */
		if ((zoned && floating) || bad_tzid_param(line, e))
			return TRUE;
		line = nl ? nl + 1 : end;
	}
	return vtimezones > 0 || open != 0;
}

GBytes *mend_text(GBytes *text, GPtrArray *notes)
{
	GBytes *lines, *out;
	ictext *t;

	if (!mend_may_apply(g_bytes_get_data(text, NULL), g_bytes_get_size(text)))
		return g_bytes_ref(text);
	lines = mend_lines(text, notes);
	t = ictext_parse(lines);
	if (ictext_drop_nameless_vtimezones(t))
		note(notes, "L8", "a VTIMEZONE without TZID, which no item can name, dropped"
		     " (vobject fails on it)");
	tzid_text(t, notes);
	zone_exceptions(t, notes);
	date_values(t, notes);
	weeks_and_days(t, notes);
	end_before_start(t, notes);
	out = ictext_changed(t) ? ictext_serialize(t) : g_bytes_ref(lines);
	ictext_free(t);
	g_bytes_unref(lines);
	return out;
}
