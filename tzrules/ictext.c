#include "ictext.h"

#include <stdlib.h>
#include <string.h>

struct ictext_line {
	gsize start, end;	/* raw bytes in the source, line ending included */
	int comp;		/* item component it is in, -1 for none */
	int depth;		/* 1: directly in the VCALENDAR, 2: in a component */
	char *text;		/* unfolded, no line ending */
	gsize name_len;		/* length of the name in text */
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

/* Find the name's end and the value's start of an unfolded line: the
 * first ':' outside double quotes. */
static void split_line(ictext_line *l)
{
	const char *s = l->text;
	gboolean quoted = FALSE;

	l->name_len = strcspn(s, ";:");
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
	return strlen(name) == l->name_len &&
	       !g_ascii_strncasecmp(l->text, name, l->name_len);
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

ictext *ictext_parse(GBytes *data)
{
	ictext *t = g_new0(ictext, 1);
	gsize len;
	const char *s = g_bytes_get_data(data, &len);
	gsize i = 0;
	int depth = 0, comp = -1, comps = 0;

	t->src = g_bytes_ref(data);
	t->lines = g_ptr_array_new_with_free_func((GDestroyNotify)line_free);
	t->eol = memchr(s, '\r', len) ? "\r\n" : "\n";
	while (i < len) {
		ictext_line *l = g_new0(ictext_line, 1);
		GString *u = g_string_new(NULL);
		gsize j = i;

		/* one logical line: physical lines joined while the next one
		 * starts with a space or a tab, which is dropped */
		for (;;) {
			const char *nl = memchr(s + j, '\n', len - j);
			gsize e = nl ? (gsize)(nl - s) : len;
			gsize content_end = e > j && s[e - 1] == '\r' ? e - 1 : e;

			g_string_append_len(u, s + j, content_end - j);
			j = nl ? e + 1 : len;
			if (j >= len || (s[j] != ' ' && s[j] != '\t'))
				break;
			j++;
		}
		l->start = i;
		l->end = j;
		l->text = g_string_free(u, FALSE);
		split_line(l);
		nest(l, &depth, &comp, &comps);
		g_ptr_array_add(t->lines, l);
		i = j;
	}
	return t;
}

ictext_line *ictext_find(ictext *t, int comp, const char *name,
			 const char *value, int n)
{
	return ictext_find_at(t, comp, comp < 0 ? 1 : 2, name, value, n);
}

gboolean ictext_line_name_is(ictext_line *l, const char *name)
{
	return name_is(l, name);
}

/* TEXT unescaped: \, \; \\ \n */
static char *unescape(const char *s)
{
	GString *out = g_string_new(NULL);

	for (; *s; s++) {
		if (*s == '\\' && s[1]) {
			s++;
			g_string_append_c(out, *s == 'n' || *s == 'N' ? '\n' : *s);
		} else {
			g_string_append_c(out, *s);
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
				char *v = unescape(m->text + m->value_at);

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

		/* a line with an empty value does not count: libical drops
		 * such a property, and lines are addressed as it counts them */
		if (l->removed || l->comp != comp || l->depth != depth ||
		    !name_is(l, name) || !l->value_at || !l->text[l->value_at])
			continue;
		if (value && g_ascii_strcasecmp(l->text + l->value_at, value))
			continue;
		if (n-- == 0)
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

/* Append text folded at 75 octets, never inside a UTF-8 sequence. */
static void append_folded(GString *out, const char *text, const char *eol)
{
	gsize n = strlen(text), col = 0;

	for (gsize i = 0; i < n;) {
		gsize clen = 1;

		while (i + clen < n && ((guchar)text[i + clen] & 0xc0) == 0x80)
			clen++;
		if (col + clen > 75) {
			g_string_append(out, eol);
			g_string_append_c(out, ' ');
			col = 1;
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
			append_folded(out, l->added->pdata[k], t->eol);
		if (l->removed)
			continue;
		if (l->edited)
			append_folded(out, l->text, t->eol);
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
