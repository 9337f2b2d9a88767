#include "ictext.h"

#include <stdlib.h>
#include <string.h>

struct ictext_line {
	gsize start, end;	/* raw bytes in the source, line ending included */
	int comp;		/* item component it is in, -1 for none */
	int depth;		/* 1: directly in the VCALENDAR, 2: in a component */
	char *text;		/* unfolded, no line ending */
	gsize name_len;		/* where the parameters or the value begin */
	gsize name_only;	/* length of the name: name_len less the
				 * blanks libical drops before them */
	gsize value_at;		/* offset of the value in text, 0 when none */
	gboolean edited;	/* text replaced: serialized and folded anew */
	gboolean removed;
	GPtrArray *added;	/* char* lines to write before this one */
	char *block;		/* complete lines to write before this one */
};

struct ictext {
	GBytes *src;
	GPtrArray *lines;	/* ictext_line* */
	const char *eol;
};

static void line_free(ictext_line *l)
{
	g_free(l->text);
	g_free(l->block);
	if (l->added)
		g_ptr_array_unref(l->added);
	g_free(l);
}

void ictext_free(ictext *t)
{
	if (!t)
		return;
	g_bytes_unref(t->src);
	g_ptr_array_unref(t->lines);
	g_free(t);
}

/* What libical skips between a property's name and its ';' or ':'. */
static gboolean blank(char c)
{
	return c == ' ' || c == '\t' || c == '\v' || c == '\f';
}

/* Find the name's end and the value's start of an unfolded line: the
 * first ':' outside double quotes. */
static void split_line(ictext_line *l)
{
	const char *s = l->text;
	gboolean quoted = FALSE;

	l->name_len = strcspn(s, ";:");
	l->name_only = l->name_len;
	while (l->name_only && blank(s[l->name_only - 1]))
		l->name_only--;
	for (const char *p = s + l->name_len; *p; p++) {
		if (*p == '"')
			quoted = !quoted;
		else if (*p == ':' && !quoted) {
			l->value_at = p - s + 1;
			return;
		}
	}
}

static gboolean name_is(const ictext_line *l, const char *name)
{
	return strlen(name) == l->name_only &&
	       !g_ascii_strncasecmp(l->text, name, l->name_only);
}

static gboolean is_item_component(const char *v)
{
	return !g_ascii_strcasecmp(v, "VEVENT") || !g_ascii_strcasecmp(v, "VTODO") ||
	       !g_ascii_strcasecmp(v, "VJOURNAL");
}

/* Place line l in the nesting: l->depth is the level of the component
 * that holds the property (1 for the VCALENDAR), or of the component that
 * a BEGIN or END line opens or closes. */
static void nest(ictext_line *l, int *depth, int *comp, int *comps)
{
	gboolean begin = name_is(l, "BEGIN") && l->value_at;
	gboolean end = name_is(l, "END") && l->value_at;
	if (begin) {
		(*depth)++;
		if (*depth == 2)
			*comp = is_item_component(l->text + l->value_at) ? (*comps)++ : -1;
	}
	l->depth = *depth;
	l->comp = *depth >= 2 ? *comp : -1;
	if (end) {
		if (*depth == 2)
			*comp = -1;
		(*depth)--;
	}
}

gsize ictext_logical_line(const char *s, gsize len, gsize i, GString *u)
{
	for (;;) {
		const char *nl = memchr(s + i, '\n', len - i);
		gsize e = nl ? (gsize)(nl - s) : len;
		gsize content_end = e > i && s[e - 1] == '\r' ? e - 1 : e;

		g_string_append_len(u, s + i, content_end - i);
		i = nl ? e + 1 : len;
		if (i >= len || (s[i] != ' ' && s[i] != '\t'))
			return i;
		i++;
	}
}

/* Whether line l is one that ictext_find_at counts for comp, depth,
 * name and value.  A line with an empty value does not count: libical
 * drops such a property, and lines are addressed as it counts them. */
static gboolean counts(const ictext_line *l, int comp, int depth, const char *name,
		       const char *value)
{
	return l->comp == comp && l->depth == depth && name_is(l, name) && l->value_at &&
	       l->text[l->value_at] &&
	       (!value || !g_ascii_strcasecmp(l->text + l->value_at, value));
}

/* Content lines read one at a time, as ictext_parse reads them, none
 * kept: l is the last one read, its text u's. */
typedef struct {
	const char *s;
	gsize len, at;		/* at: where the next line starts */
	GString *u;
	ictext_line l;
	int depth, comp, comps;	/* nest()'s */
} walker;

static void walker_init(walker *w, const char *s, gsize len)
{
	memset(w, 0, sizeof(*w));
	w->s = s;
	w->len = len;
	w->u = g_string_sized_new(256);
	w->comp = -1;
}

/* Read the next line into w->l; FALSE at the end. */
static gboolean walker_next(walker *w)
{
	if (w->at >= w->len)
		return FALSE;
	w->l.start = w->at;
	w->l.end = w->at = ictext_logical_line(w->s, w->len, w->at, g_string_truncate(w->u, 0));
	w->l.text = w->u->str;
	w->l.value_at = 0;
	split_line(&w->l);
	nest(&w->l, &w->depth, &w->comp, &w->comps);
	return TRUE;
}

static void walker_clear(walker *w)
{
	g_string_free(w->u, TRUE);
}

ictext *ictext_parse(GBytes *data)
{
	ictext *t = g_new0(ictext, 1);
	gsize len;
	const char *s = g_bytes_get_data(data, &len);
	walker w;

	t->src = g_bytes_ref(data);
	t->lines = g_ptr_array_new_with_free_func((GDestroyNotify)line_free);
	t->eol = memchr(s, '\r', len) ? "\r\n" : "\n";
	walker_init(&w, s, len);
	while (walker_next(&w)) {
		ictext_line *l = g_new(ictext_line, 1);

		*l = w.l;
		l->text = g_strndup(w.u->str, w.u->len);
		g_ptr_array_add(t->lines, l);
	}
	walker_clear(&w);
	return t;
}

char *ictext_scan_top(const char *s, gsize len, const char *name)
{
	walker w;
	char *found = NULL;

	walker_init(&w, s, len);
	while (!found && walker_next(&w)) {
		const ictext_line *l = &w.l;

		/* as ictext_find_at counts them */
		if (l->depth == 1 && l->comp == -1 && name_is(l, name) && l->value_at &&
		    l->text[l->value_at])
			found = g_strdup(l->text + l->value_at);
	}
	walker_clear(&w);
	return found;
}

GBytes *ictext_edit_line(GBytes *data, int comp, const char *name, const char *value,
			 int n, ictext_edit_fn edit, gpointer user)
{
	gsize len;
	const char *s = g_bytes_get_data(data, &len);
	GBytes *out = NULL;
	walker w;

	/* the line found as ictext_find finds it in the parse */
	walker_init(&w, s, len);
	while (!out && walker_next(&w)) {
		ictext_line e = w.l;

		if (!counts(&e, comp, comp < 0 ? 1 : 2, name, value) || n-- > 0)
			continue;
		e.text = g_strdup(e.text);
		edit(&e, user);
		if (e.edited) {
			GString *o = g_string_sized_new(len + 256);

			g_string_append_len(o, s, e.start);
			ictext_append_folded(o, e.text, memchr(s, '\r', len) ? "\r\n" : "\n");
			g_string_append_len(o, s + e.end, len - e.end);
			out = g_string_free_to_bytes(o);
		} else {
			out = g_bytes_ref(data);
		}
		g_free(e.text);
	}
	walker_clear(&w);
	return out;
}

ictext_line *ictext_find(ictext *t, int comp, const char *name,
			 const char *value, int n)
{
	return ictext_find_at(t, comp, comp < 0 ? 1 : 2, name, value, n);
}

/* TEXT unescaped as libical 3.0 unescapes it: \n \t \r \b \f (either
 * case) are those characters, \; \, \" \\ the character escaped, any other
 * escape a space, and a backslash at the end nothing (make fuzz: a split
 * part named by "\E" as "E" was read by libical with a space there) */
char *ictext_unescape(const char *value)
{
	static const char controls[] = "n\nt\tr\rb\bf\f";
	GString *out = g_string_new(NULL);

	for (const char *p = value; *p; p++) {
		const char *c;

		if (*p != '\\') {
			g_string_append_c(out, *p);
		} else if (!*++p) {
			break;
		} else if (strchr(";,\"\\", *p)) {
			g_string_append_c(out, *p);
		} else if ((c = strchr(controls, g_ascii_tolower(*p))) && (c - controls) % 2 == 0) {
			g_string_append_c(out, c[1]);
		} else {
			g_string_append_c(out, ' ');
		}
	}
	return g_string_free(out, FALSE);
}

/* Write block before l, after what was put there already: several new
 * VTIMEZONEs go before the first item component (make fuzz found all but
 * the last of them lost, one more added on each read). */
static void put_block(ictext *t, ictext_line *l, const char *block)
{
	GString *b = g_string_new(l->block);

	for (const char *p = block; *p; p++) {
		if (*p == '\r')
			continue;
		if (*p == '\n')
			g_string_append(b, t->eol);
		else
			g_string_append_c(b, *p);
	}
	if (b->len && b->str[b->len - 1] != '\n')
		g_string_append(b, t->eol);
	g_free(l->block);
	l->block = g_string_free(b, FALSE);
}

ictext_line *ictext_find_in(ictext *t, const char *kind, const char *name, int n)
{
	gboolean in = FALSE;

	for (guint i = 0; i < t->lines->len; i++) {
		ictext_line *l = t->lines->pdata[i];

		if (l->depth != 2)
			continue;
		if (name_is(l, "BEGIN") && l->value_at)
			in = !g_ascii_strcasecmp(l->text + l->value_at, kind);
		else if (name_is(l, "END"))
			in = FALSE;
		else if (in && !l->removed && name_is(l, name) && n-- == 0)
			return l;
	}
	return NULL;
}

int ictext_drop_nameless_vtimezones(ictext *t)
{
	int dropped = 0;

	for (guint i = 0; i < t->lines->len; i++) {
		ictext_line *l = t->lines->pdata[i];
		gboolean named = FALSE;
		guint end;

		if (l->depth != 2 || !name_is(l, "BEGIN") || !l->value_at ||
		    g_ascii_strcasecmp(l->text + l->value_at, "VTIMEZONE"))
			continue;
		for (end = i + 1; end < t->lines->len; end++) {
			ictext_line *m = t->lines->pdata[end];

			named |= m->depth == 2 && name_is(m, "TZID");
			if (m->depth == 2 && name_is(m, "END"))
				break;
		}
		if (named)
			continue;
		for (guint k = i; k <= end && k < t->lines->len; k++)
			((ictext_line *)t->lines->pdata[k])->removed = TRUE;
		dropped++;
		i = end;
	}
	return dropped;
}

int ictext_n_items(ictext *t)
{
	int n = 0;

	for (guint i = 0; i < t->lines->len; i++) {
		ictext_line *l = t->lines->pdata[i];

		n = MAX(n, l->comp + 1);
	}
	return n;
}

gboolean ictext_replace_vtimezone(ictext *t, const char *tzid, const char *block)
{
	guint first_item = t->lines->len;

	for (guint i = 0; i < t->lines->len; i++) {
		ictext_line *l = t->lines->pdata[i];
		guint end;
		gboolean match = FALSE;

		if (l->depth != 2 || !name_is(l, "BEGIN") || !l->value_at)
			continue;
		if (l->comp >= 0 && first_item == t->lines->len)
			first_item = i;
		if (g_ascii_strcasecmp(l->text + l->value_at, "VTIMEZONE"))
			continue;
		for (end = i + 1; end < t->lines->len; end++) {
			ictext_line *m = t->lines->pdata[end];

			if (m->depth == 2 && name_is(m, "TZID") && m->value_at) {
				char *v = ictext_unescape(m->text + m->value_at);

				match = !strcmp(v, tzid);
				g_free(v);
			}
			if (m->depth == 2 && name_is(m, "END"))
				break;
		}
		if (!match)
			continue;
		put_block(t, l, block);
		for (guint k = i; k <= end && k < t->lines->len; k++)
			((ictext_line *)t->lines->pdata[k])->removed = TRUE;
		return TRUE;
	}
	if (first_item == t->lines->len)
		return FALSE;
	put_block(t, t->lines->pdata[first_item], block);
	return TRUE;
}

ictext_line *ictext_find_at(ictext *t, int comp, int depth, const char *name,
			    const char *value, int n)
{
	for (guint i = 0; i < t->lines->len; i++) {
		ictext_line *l = t->lines->pdata[i];

		if (!l->removed && counts(l, comp, depth, name, value) && n-- == 0)
			return l;
	}
	return NULL;
}

const char *ictext_line_value(ictext_line *l)
{
	return l->value_at ? l->text + l->value_at : "";
}

/* The parameters of a line as [start, end) offsets of each "NAME=value". */
static GArray *params(const ictext_line *l)
{
	GArray *a = g_array_new(FALSE, FALSE, sizeof(gsize) * 2);
	gsize end = l->value_at ? l->value_at - 1 : strlen(l->text);
	gsize p = l->name_len;
	gboolean quoted = FALSE;

	while (p < end && l->text[p] == ';') {
		gsize span[2] = { p + 1, p + 1 };

		for (span[1] = span[0]; span[1] < end; span[1]++) {
			if (l->text[span[1]] == '"')
				quoted = !quoted;
			else if (l->text[span[1]] == ';' && !quoted)
				break;
		}
		g_array_append_vals(a, span, 1);
		p = span[1];
	}
	return a;
}

static gboolean param_is(const char *text, const gsize *span, const char *name)
{
	gsize n = strlen(name);

	return span[1] - span[0] > n && text[span[0] + n] == '=' &&
	       !g_ascii_strncasecmp(text + span[0], name, n);
}

char *ictext_line_param(ictext_line *l, const char *name)
{
	GArray *a = params(l);
	char *v = NULL;

	for (guint i = 0; i < a->len && !v; i++) {
		const gsize *span = &g_array_index(a, gsize, i * 2);

		if (param_is(l->text, span, name)) {
			const char *b = l->text + span[0] + strlen(name) + 1;
			gsize n = l->text + span[1] - b;

			if (n >= 2 && b[0] == '"' && b[n - 1] == '"') {
				b++;
				n -= 2;
			}
			v = g_strndup(b, n);
		}
	}
	g_array_unref(a);
	return v;
}

static void mark(ictext_line *l, char *text)
{
	g_free(l->text);
	l->text = text;
	l->value_at = 0;
	split_line(l);
	l->edited = TRUE;
}

void ictext_set_value(ictext_line *l, const char *value)
{
	gsize head = l->value_at ? l->value_at - 1 : strlen(l->text);

	mark(l, g_strdup_printf("%.*s:%s", (int)head, l->text, value));
}

static gboolean needs_quotes(const char *v)
{
	return strpbrk(v, ":;,") != NULL;
}

void ictext_set_param(ictext_line *l, const char *name, const char *value)
{
	GArray *a = params(l);
	GString *s = g_string_new_len(l->text, l->name_len);
	gboolean done = FALSE;
	gsize head = l->value_at ? l->value_at - 1 : strlen(l->text);

	for (guint i = 0; i < a->len; i++) {
		const gsize *span = &g_array_index(a, gsize, i * 2);

		if (param_is(l->text, span, name)) {
			if (value && !done)
				g_string_append_printf(s, ";%.*s=%s%s%s",
						       (int)strlen(name), l->text + span[0],
						       needs_quotes(value) ? "\"" : "", value,
						       needs_quotes(value) ? "\"" : "");
			done = TRUE;
			continue;
		}
		g_string_append_c(s, ';');
		g_string_append_len(s, l->text + span[0], span[1] - span[0]);
	}
	if (value && !done)
		g_string_append_printf(s, ";%s=%s%s%s", name,
				       needs_quotes(value) ? "\"" : "", value,
				       needs_quotes(value) ? "\"" : "");
	g_string_append(s, l->text + head);
	g_array_unref(a);
	mark(l, g_string_free(s, FALSE));
}

void ictext_remove(ictext_line *l)
{
	l->removed = TRUE;
}

gboolean ictext_add(ictext *t, int comp, const char *text)
{
	for (guint i = 0; i < t->lines->len; i++) {
		ictext_line *l = t->lines->pdata[i];

		if (l->comp == comp && l->depth == 2 && name_is(l, "END")) {
			if (!l->added)
				l->added = g_ptr_array_new_with_free_func(g_free);
			g_ptr_array_add(l->added, g_strdup(text));
			return TRUE;
		}
	}
	return FALSE;
}

gboolean ictext_changed(const ictext *t)
{
	for (guint i = 0; i < t->lines->len; i++) {
		const ictext_line *l = t->lines->pdata[i];

		if (l->edited || l->removed || l->added || l->block)
			return TRUE;
	}
	return FALSE;
}

void ictext_append_folded(GString *out, const char *text, const char *eol)
{
	gsize n = strlen(text), col = 0;
	gsize line = out->len;	/* where the physical line's text begins in out */

	for (gsize i = 0; i < n;) {
		gsize clen = 1, run = 0;

		/* the characters that fit on the line, appended at once */
		for (;;) {
			clen = 1;
			while (i + run + clen < n && ((guchar)text[i + run + clen] & 0xc0) == 0x80)
				clen++;
			if (i + run >= n || col + run + clen > 75)
				break;
			run += clen;
		}
		if (run) {
			g_string_append_len(out, text + i, run);
			col += run;
			i += run;
			continue;
		}
		/* the next one does not */
		if (col + clen > 75) {
			/* A fold before white space makes a line that begins
			 * with two spaces, which mend's rule L1 takes for
			 * damage (make fuzz): fold before the character ahead
			 * of the white space instead, when there is one. */
			gsize at = out->len;

			if (text[i] == ' ' || text[i] == '\t') {
				while (at > line && (out->str[at - 1] == ' ' || out->str[at - 1] == '\t'))
					at--;
				while (at > line && ((guchar)out->str[at - 1] & 0xc0) == 0x80)
					at--;
				/* the character's first byte, not the line's first */
				at = at > line + 1 ? at - 1 : out->len;
			}
			g_string_insert(out, at, " ");
			g_string_insert(out, at, eol);
			line = at + strlen(eol) + 1;
			col = 1 + (out->len - line);
		}
		g_string_append_len(out, text + i, clen);
		col += clen;
		i += clen;
	}
	g_string_append(out, eol);
}

GBytes *ictext_serialize(ictext *t)
{
	GString *out;
	const char *src;

	if (!ictext_changed(t))
		return g_bytes_ref(t->src);
	src = g_bytes_get_data(t->src, NULL);
	out = g_string_sized_new(g_bytes_get_size(t->src) + 256);
	for (guint i = 0; i < t->lines->len; i++) {
		ictext_line *l = t->lines->pdata[i];

		if (l->block)
			g_string_append(out, l->block);
		for (guint k = 0; l->added && k < l->added->len; k++)
			ictext_append_folded(out, l->added->pdata[k], t->eol);
		if (l->removed)
			continue;
		if (l->edited)
			ictext_append_folded(out, l->text, t->eol);
		else
			g_string_append_len(out, src + l->start, l->end - l->start);
	}
	return g_string_free_to_bytes(out);
}

char *ictext_write_component(icalcomponent *c)
{
	static const char bad[] = "\r\r\n \n";
	char *text = icalcomponent_as_ical_string_r(c);
	char *r, *w;

	if (!text || !strstr(text, bad))
		return text;
	/* in place: the text only gets shorter */
	for (r = w = text; *r;) {
		if (!strncmp(r, bad, sizeof(bad) - 1)) {
			*w++ = '\r';
			*w++ = '\n';
			r += sizeof(bad) - 1;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
	return text;
}

/* ---- splitting a file into items ---- */

void ictext_part_free(ictext_part *p)
{
	if (!p)
		return;
	g_free(p->uid);
	g_bytes_unref(p->data);
	g_free(p);
}

/* A block of lines [first, last] of the source: a component. */
typedef struct {
	guint first, last;
	guint cal;		/* the VCALENDAR it is in */
	char *key;		/* VTIMEZONE: its TZID; item: its UID */
	GPtrArray *tzids;	/* item: the TZIDs it uses (char*) */
	GString *content;	/* item: the lines a UID is made from */
	gboolean made;		/* item: key is a UID made here */
} block;

typedef struct {
	guint begin;		/* the BEGIN:VCALENDAR line */
	GArray *props;		/* guint: its property lines */
	guint end;		/* END:VCALENDAR, or G_MAXUINT */
} calendar;

static void block_clear(gpointer p)
{
	block *b = p;

	g_free(b->key);
	if (b->tzids)
		g_ptr_array_unref(b->tzids);
	if (b->content)
		g_string_free(b->content, TRUE);
}

/* A UID for a component that has none (Exchange 2010 OWA, Outlook "Save
 * as"): "calfs-" and a hash of its DTSTART, SUMMARY, ORGANIZER and
 * RECURRENCE-ID lines, so that importing the same file again finds it.
 * Newly allocated. */
static char *content_uid(const GString *content)
{
	char *h = g_compute_checksum_for_data(G_CHECKSUM_SHA1, (const guchar *)content->str,
					      content->len);
	char *uid = g_strdup_printf("calfs-%.32s", h);

	g_free(h);
	return uid;
}

static void calendar_clear(gpointer p)
{
	g_array_unref(((calendar *)p)->props);
}

static void append_raw(GString *out, ictext *t, guint i)
{
	ictext_line *l = t->lines->pdata[i];
	const char *s = g_bytes_get_data(t->src, NULL);

	g_string_append_len(out, s + l->start, l->end - l->start);
	/* a last line without its line end gets one */
	if (l->end == l->start || (s[l->end - 1] != '\n'))
		g_string_append(out, t->eol);
}

/* The blocks of t: VCALENDARs, and the VTIMEZONEs and item components
 * directly in them. */
/* The block cur, whose last line is last, to zones or items. */
static void finish(block *cur, guint last, GArray *zones, GArray *items)
{
	cur->last = last;
	if (!cur->tzids) {
		g_array_append_val(zones, *cur);
		return;
	}
	if (!cur->key) {
		cur->key = content_uid(cur->content);
		cur->made = TRUE;
	}
	g_array_append_val(items, *cur);
}

/* White space as libical's parser trims it from a value (isspace). */
static gboolean libical_space(char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

static void find_blocks(ictext *t, GArray *cals, GArray *zones, GArray *items)
{
	block *open = NULL;
	block cur = { 0 };

	for (guint i = 0; i < t->lines->len; i++) {
		ictext_line *l = t->lines->pdata[i];
		const char *v = l->value_at ? l->text + l->value_at : "";
		gboolean begin = name_is(l, "BEGIN"), end = name_is(l, "END");

		if (l->depth == 1 && begin && !g_ascii_strcasecmp(v, "VCALENDAR")) {
			calendar c = { i, g_array_new(FALSE, FALSE, sizeof(guint)), G_MAXUINT };

			g_array_append_val(cals, c);
		} else if (!cals->len) {
			continue;	/* before any VCALENDAR */
		} else if (l->depth == 1 && end) {
			g_array_index(cals, calendar, cals->len - 1).end = i;
		} else if (l->depth == 1) {
			g_array_append_val(g_array_index(cals, calendar, cals->len - 1).props, i);
		} else if (l->depth == 2 && begin) {
			if (open)
				block_clear(&cur);	/* never ended: left out */
			memset(&cur, 0, sizeof(cur));
			cur.first = i;
			cur.cal = cals->len - 1;
			open = !g_ascii_strcasecmp(v, "VTIMEZONE") || is_item_component(v) ? &cur : NULL;
			if (open && is_item_component(v)) {
				cur.tzids = g_ptr_array_new_with_free_func(g_free);
				cur.content = g_string_new(NULL);
			}
		} else if (open && l->depth == 2 && end) {
			finish(&cur, i, zones, items);
			open = NULL;
		} else if (open && l->depth == 2 && !cur.key &&
			   name_is(l, cur.tzids ? "UID" : "TZID") && *v) {
			/* libical drops white space at both ends of the
			 * value before it unescapes it: C's, which has the
			 * form feed and vertical tab (GLib's has no vertical
			 * tab: make fuzz) */
			const char *e = v + strlen(v);
			char *bare;

			while (libical_space(*v))
				v++;
			while (e > v && libical_space(e[-1]))
				e--;
			bare = g_strndup(v, e - v);
			if (*bare)
				cur.key = ictext_unescape(bare);
			g_free(bare);
		} else if (open && cur.tzids) {
			char *tz = ictext_line_param(l, "TZID");

			if (l->depth == 2 && (name_is(l, "DTSTART") || name_is(l, "SUMMARY") ||
					      name_is(l, "ORGANIZER") || name_is(l, "RECURRENCE-ID")))
				g_string_append_printf(cur.content, "%s\n", l->text);
			if (tz && !g_ptr_array_find_with_equal_func(cur.tzids, tz, g_str_equal, NULL))
				g_ptr_array_add(cur.tzids, tz);
			else
				g_free(tz);
		}
	}
	if (open)
		block_clear(&cur);	/* a component never ended: left out
					 * (mend_structure closes them first) */
}

/* The VTIMEZONE for tzid: the first in calendar cal, else the first
 * anywhere; NULL when none. */
static block *zone_for(GArray *zones, const char *tzid, guint cal)
{
	block *any = NULL;

	for (guint i = 0; i < zones->len; i++) {
		block *z = &g_array_index(zones, block, i);

		if (!z->key || strcmp(z->key, tzid))
			continue;
		if (z->cal == cal)
			return z;
		if (!any)
			any = z;
	}
	return any;
}

static ictext_part *build(ictext *t, GArray *cals, GArray *zones, GArray *items, guint first)
{
	block *b = &g_array_index(items, block, first);
	calendar *c = &g_array_index(cals, calendar, b->cal);
	GString *out = g_string_new(NULL);
	GPtrArray *used = g_ptr_array_new();	/* block*: the VTIMEZONEs */
	ictext_part *p = g_new0(ictext_part, 1);

	append_raw(out, t, c->begin);
	for (guint i = 0; i < c->props->len; i++)
		append_raw(out, t, g_array_index(c->props, guint, i));
	for (guint k = first; k < items->len; k++) {
		block *o = &g_array_index(items, block, k);

		if (strcmp(o->key, b->key))
			continue;
		for (guint j = 0; j < o->tzids->len; j++) {
			block *z = zone_for(zones, o->tzids->pdata[j], b->cal);

			if (z && !g_ptr_array_find(used, z, NULL))
				g_ptr_array_add(used, z);
		}
	}
	for (guint j = 0; j < used->len; j++)
		for (guint i = ((block *)used->pdata[j])->first;
		     i <= ((block *)used->pdata[j])->last; i++)
			append_raw(out, t, i);
	for (guint k = first; k < items->len; k++) {
		block *o = &g_array_index(items, block, k);

		if (strcmp(o->key, b->key))
			continue;
		for (guint i = o->first; i <= o->last; i++) {
			ictext_line *l = t->lines->pdata[i];

			/* an empty UID (Office 365) gives way to the made one */
			if (o->made && l->depth == 2 && name_is(l, "UID"))
				continue;
			append_raw(out, t, i);
			if (i == o->first && o->made)
				g_string_append_printf(out, "UID:%s%s", o->key, t->eol);
		}
	}
	if (c->end != G_MAXUINT)
		append_raw(out, t, c->end);
	else
		g_string_append_printf(out, "END:VCALENDAR%s", t->eol);
	g_ptr_array_unref(used);
	p->uid = g_strdup(b->key);
	p->made_uid = b->made;
	p->data = g_string_free_to_bytes(out);
	return p;
}

GPtrArray *ictext_split(GBytes *data, char **why)
{
	ictext *t = ictext_parse(data);
	GArray *cals = g_array_new(FALSE, FALSE, sizeof(calendar));
	GArray *zones = g_array_new(FALSE, FALSE, sizeof(block));
	GArray *items = g_array_new(FALSE, FALSE, sizeof(block));
	GPtrArray *parts = NULL;
	GHashTable *done = g_hash_table_new(g_str_hash, g_str_equal);

	g_array_set_clear_func(cals, calendar_clear);
	g_array_set_clear_func(zones, block_clear);
	g_array_set_clear_func(items, block_clear);
	*why = NULL;
	find_blocks(t, cals, zones, items);
	if (!items->len) {
		*why = g_strdup(g_strstr_len(g_bytes_get_data(data, NULL), g_bytes_get_size(data),
					     "BEGIN:VFREEBUSY")
				? "only free/busy time (VFREEBUSY): no event, to-do or journal"
				: "no event, to-do or journal");
		goto out;
	}
	/* two made UIDs alike are two events alike: the second is UID-2 */
	for (guint k = 0; k < items->len; k++) {
		block *b = &g_array_index(items, block, k);

		for (int n = 2; b->made && g_hash_table_contains(done, b->key); n++) {
			char *again = g_strdup_printf("%.38s-%d", b->key, n);

			g_free(b->key);
			b->key = again;
		}
		if (b->made)
			g_hash_table_add(done, b->key);
	}
	g_hash_table_remove_all(done);
	parts = g_ptr_array_new_with_free_func((GDestroyNotify)ictext_part_free);
	for (guint k = 0; k < items->len; k++) {
		block *b = &g_array_index(items, block, k);

		if (g_hash_table_contains(done, b->key))
			continue;
		g_hash_table_add(done, b->key);
		g_ptr_array_add(parts, build(t, cals, zones, items, k));
	}
out:
	g_hash_table_destroy(done);
	g_array_unref(items);
	g_array_unref(zones);
	g_array_unref(cals);
	ictext_free(t);
	return parts;
}

/* Where the name of line (len bytes) ends, when it is name (ignoring
 * case): the index of the ';' or ':' after it, or len; 0 when it is not.
 * libical drops the blanks between a name and its ';' or ':'
 * ("ATTENDEE\f;" is an ATTENDEE to it: make fuzz), so they are skipped. */
static gsize name_end(const char *line, gsize len, const char *name)
{
	gsize k = strlen(name);

	if (len < k || g_ascii_strncasecmp(line, name, k))
		return 0;
	while (k < len && blank(line[k]))
		k++;
	return k == len || line[k] == ':' || line[k] == ';' ? k : 0;
}

gboolean ictext_line_named(const char *line, gsize len, const char *const *names,
			   gsize n, gsize *head)
{
	char first = g_ascii_toupper(len ? line[0] : 0);

	if (head) {
		gsize h = 0;
		gboolean quoted = FALSE;

		for (; h < len && (quoted || line[h] != ':'); h++)
			if (line[h] == '"')
				quoted = !quoted;
		*head = h;
	}
	/* a name has no quote: the ':' or ';' after it is the first of the
	 * line's head (name_end) */
	for (gsize i = 0; i < n; i++) {
		/* the first letter first: names are in upper case */
		if (first == names[i][0] && name_end(line, len, names[i]))
			return TRUE;
	}
	return FALSE;
}


/* Whether the physical line p (n bytes) holds the ':' that starts its
 * value (outside quotes). */
static gboolean value_starts(const char *p, gsize n)
{
	gboolean quoted = FALSE;

	for (gsize i = 0; i < n; i++)
		if (p[i] == '"')
			quoted = !quoted;
		else if (p[i] == ':' && !quoted)
			return TRUE;
	return FALSE;
}

/* Whether name (up to a ';' or ':') of the content line line (n bytes)
 * is mark, ignoring case; *plain set when a ':' follows it. */
static gboolean marked(const char *line, gsize n, const char *mark, gboolean *plain)
{
	gsize k = name_end(line, n, mark);

	if (!k || k == n)
		return FALSE;
	*plain = line[k] == ':';
	return TRUE;
}

/* ictext_select's work; with spans, the place of each VTIMEZONE goes
 * there too. */
static GString *select_lines(const char *text, gsize len, gboolean vtimezones,
			     ictext_keep_fn keep, gpointer data, GArray *spans)
{
	GString *out = g_string_sized_new(len / 2), *u = g_string_new(NULL);
	const char *end = text + len;
	int depth = 0;
	gboolean in_vtz = FALSE, kept = FALSE;
	ictext_span vtz = { 0 };

	for (const char *p = text; p < end;) {
		const char *nl = memchr(p, '\n', end - p);
		const char *next = nl ? nl + 1 : end;
		gsize n = next - p, ln = n;
		const char *l = p;
		gboolean folded = next < end && (*next == ' ' || *next == '\t');
		gboolean begin, finish, plain = TRUE;

		if (*p == ' ' || *p == '\t') {	/* a continuation: as its line */
			if (kept)
				g_string_append_len(out, p, n);
			p = next;
			continue;
		}
		if (folded && !value_starts(p, n)) {
			/* a fold in its name or parameters: the line is judged
			 * unfolded, as libical reads it */
			ictext_logical_line(text, len, p - text, g_string_truncate(u, 0));
			l = u->str;
			ln = u->len;
		}
		begin = (*l == 'B' || *l == 'b') && marked(l, ln, "BEGIN", &plain);
		finish = !begin && (*l == 'E' || *l == 'e') && marked(l, ln, "END", &plain);
		if ((begin || finish) && (!plain || folded)) {
			/* libical nests by the name alone, and its parameters
			 * or a fold are not followed here: all of the text */
			g_string_truncate(out, 0);
			g_string_append_len(out, text, len);
			if (spans)
				g_array_set_size(spans, 0);
			break;
		}
		if (begin) {
			depth++;
			if (depth == 2 && vtimezones && !g_ascii_strncasecmp(p + 6, "VTIMEZONE", 9)) {
				in_vtz = TRUE;
				vtz.at = p - text;
				vtz.out_at = out->len;
			}
			kept = in_vtz || depth <= 2;
		} else if (finish) {
			kept = in_vtz || depth <= 2;
			if (depth == 2 && in_vtz && spans) {
				vtz.len = next - text - vtz.at;
				g_array_append_val(spans, vtz);
			}
			if (depth == 2)
				in_vtz = FALSE;
			depth--;
		} else {
			kept = in_vtz || depth < 1 ||
			       ((depth == 1 || depth == 2) && keep(l, ln, folded && l == p, data));
		}
		if (kept)
			g_string_append_len(out, p, n);
		p = next;
	}
	g_string_free(u, TRUE);
	return out;
}

/* A keep of two arguments, as ictext_keep_fn. */
typedef struct {
	gboolean (*keep)(const char *line, gsize len);
} plain_keep;

static gboolean keep_plain(const char *line, gsize len, gboolean partial, gpointer data)
{
	(void)partial;
	return ((plain_keep *)data)->keep(line, len);
}

GString *ictext_select(const char *text, gsize len, gboolean vtimezones,
		       gboolean (*keep)(const char *line, gsize len))
{
	plain_keep k = { keep };

	return select_lines(text, len, vtimezones, keep_plain, &k, NULL);
}

GString *ictext_select_with(const char *text, gsize len, gboolean vtimezones,
			    ictext_keep_fn keep, gpointer data)
{
	return select_lines(text, len, vtimezones, keep, data, NULL);
}

GString *ictext_select_vtimezones(const char *text, gsize len,
				  gboolean (*keep)(const char *line, gsize len), GArray *spans)
{
	plain_keep k = { keep };

	return select_lines(text, len, TRUE, keep_plain, &k, spans);
}
