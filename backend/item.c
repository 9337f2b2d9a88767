#include "item.h"
#include "icscan.h"
#include "ictext.h"
#include "error.h"

#include <string.h>

static gboolean is_item_kind(icalcomponent_kind k)
{
	return k == ICAL_VEVENT_COMPONENT || k == ICAL_VTODO_COMPONENT ||
	       k == ICAL_VJOURNAL_COMPONENT || k == ICAL_VFREEBUSY_COMPONENT ||
	       k == ICAL_VAVAILABILITY_COMPONENT;
}

icalcomponent *item_parse(const char *data, gsize len)
{
	char *text = g_strndup(data, len);
	icalcomponent *c = icalparser_parse_string(text);

	g_free(text);
	return c;
}

/* Skip a UTF-8 byte order mark and white space. */
static const char *skip_space(const char *p, const char *end)
{
	if (end - p >= 3 && !memcmp(p, "\xef\xbb\xbf", 3))
		p += 3;
	while (p < end && g_ascii_isspace(*p))
		p++;
	return p;
}

static gboolean frame_ok(const char *data, gsize len, GError **err)
{
	static const char begin[] = "BEGIN:VCALENDAR";
	static const char endtag[] = "END:VCALENDAR";
	const char *p = skip_space(data, data + len);
	const char *e = data + len;

	if ((gsize)(e - p) < sizeof(begin) - 1 ||
	    g_ascii_strncasecmp(p, begin, sizeof(begin) - 1)) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_INVALID,
			    len ? "does not begin with BEGIN:VCALENDAR"
				: "empty");
		return FALSE;
	}
	while (e > p && g_ascii_isspace(e[-1]))
		e--;
	if ((gsize)(e - p) < sizeof(endtag) - 1 ||
	    g_ascii_strncasecmp(e - (sizeof(endtag) - 1), endtag,
				sizeof(endtag) - 1)) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_INVALID,
			    "does not end with END:VCALENDAR (truncated?)");
		return FALSE;
	}
	return TRUE;
}

/* Deepest nesting accepted (VCALENDAR > VEVENT > VALARM is 3). */
#define MAX_DEPTH 16

static gboolean known_component(const char *name, gsize n)
{
	static const char *const known[] = {
		"VCALENDAR", "VEVENT", "VTODO", "VJOURNAL", "VFREEBUSY",
		"VTIMEZONE", "STANDARD", "DAYLIGHT", "VALARM", "VAVAILABILITY",
		"AVAILABLE", "VPOLL", "VVOTER", "PARTICIPANT", "VLOCATION",
		"VRESOURCE", NULL
	};

	if (n > 2 && !g_ascii_strncasecmp(name, "X-", 2))
		return TRUE;
	for (int i = 0; known[i]; i++)
		if (strlen(known[i]) == n && !g_ascii_strncasecmp(name, known[i], n))
			return TRUE;
	return FALSE;
}

/* The component name of a BEGIN: or END: line at p (length in *n), or
 * NULL when the line is neither.  Folded lines start with white space and
 * so never match. */
static const char *tag(const char *p, const char *eol, const char *kw, gsize *n)
{
	gsize k = strlen(kw);
	const char *name = p + k;

	if ((gsize)(eol - p) <= k || g_ascii_strncasecmp(p, kw, k))
		return NULL;
	*n = eol - name;
	while (*n && (name[*n - 1] == '\r' || name[*n - 1] == ' '))
		(*n)--;
	return name;
}

/* Whether the line ending at eol is continued by the next (a fold). */
static gboolean continued(const char *eol, const char *end)
{
	return eol + 1 < end && (eol[1] == ' ' || eol[1] == '\t');
}

/* libical accepts mismatched BEGIN/END pairs and maps unknown names onto
 * known ones (BEGIN:VEVENTX becomes a VEVENT), so the structure is checked
 * on the lines first: matched pairs, known or X- names, one VCALENDAR.  A
 * folded BEGIN or END line is refused: libical and the mends read the
 * name with what continues it, and "BEGIN:VCALENDAR" continued by
 * " MIMEDIR//UN" passed here as a VCALENDAR (make fuzz). */
static gboolean structure_ok(const char *data, gsize len, gboolean single,
			     GError **err)
{
	const char *stack[MAX_DEPTH];
	gsize sizes[MAX_DEPTH];
	const char *p = data, *end = data + len;
	int depth = 0, tops = 0;

	while (p < end) {
		const char *eol = memchr(p, '\n', end - p);
		const char *name;
		gsize n;

		if (!eol)
			eol = end;
		if ((name = tag(p, eol, "BEGIN:", &n)) || (name = tag(p, eol, "END:", &n))) {
			if (continued(eol, end)) {
				g_set_error(err, CALFS_ERROR, CALFS_ERROR_INVALID,
					    "a folded %.*s line",
					    (int)MIN(eol - p - (eol > p && eol[-1] == '\r'), 64), p);
				return FALSE;
			}
		}
		if ((name = tag(p, eol, "BEGIN:", &n))) {
			if (!known_component(name, n)) {
				g_set_error(err, CALFS_ERROR, CALFS_ERROR_INVALID,
					    "unknown component %.*s", (int)MIN(n, 64), name);
				return FALSE;
			}
			if (depth == MAX_DEPTH) {
				g_set_error(err, CALFS_ERROR, CALFS_ERROR_INVALID,
					    "components nested deeper than %d", MAX_DEPTH);
				return FALSE;
			}
			if (depth == 0 && ++tops > 1 && single) {
				g_set_error(err, CALFS_ERROR, CALFS_ERROR_INVALID,
					    "several VCALENDARs, one expected");
				return FALSE;
			}
			stack[depth] = name;
			sizes[depth++] = n;
		} else if ((name = tag(p, eol, "END:", &n))) {
			if (!depth || sizes[depth - 1] != n ||
			    g_ascii_strncasecmp(stack[depth - 1], name, n)) {
				g_set_error(err, CALFS_ERROR, CALFS_ERROR_INVALID,
					    "END:%.*s does not close %s%.*s",
					    (int)MIN(n, 64), name, depth ? "BEGIN:" : "anything",
					    depth ? (int)MIN(sizes[depth - 1], 64) : 0,
					    depth ? stack[depth - 1] : "");
				return FALSE;
			}
			depth--;
		}
		p = eol + 1;
	}
	if (depth) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_INVALID,
			    "BEGIN:%.*s is never closed (truncated?)",
			    (int)MIN(sizes[depth - 1], 64), stack[depth - 1]);
		return FALSE;
	}
	return TRUE;
}

static gboolean text_ok(const char *data, gsize len, gboolean single,
			GError **err)
{
	const char *bad;

	if (!data) {		/* empty GBytes have no data */
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_INVALID, "empty");
		return FALSE;
	}

	if (len > 0 && memchr(data, '\0', len)) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_INVALID,
			    "contains a NUL byte");
		return FALSE;
	}
	if (!g_utf8_validate(data, len, &bad)) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_INVALID,
			    "not UTF-8 (byte %" G_GSIZE_FORMAT ")",
			    (gsize)(bad - data));
		return FALSE;
	}
	/* a CR ends a line only before LF: libical reads a lone one
	 * differently depending on where its buffers split the text */
	for (const char *cr = data; (cr = memchr(cr, '\r', len - (gsize)(cr - data))); cr++)
		if ((gsize)(cr + 1 - data) >= len || cr[1] != '\n') {
			g_set_error(err, CALFS_ERROR, CALFS_ERROR_INVALID,
				    "a CR without LF (byte %" G_GSIZE_FORMAT ")",
				    (gsize)(cr - data));
			return FALSE;
		}
	return frame_ok(data, len, err) && structure_ok(data, len, single, err);
}

/* libical reports an empty value ("LOCATION:") as an error and drops the
 * property; RFC 5545 allows empty TEXT and Exchange writes it everywhere,
 * so it is not counted. */
static gboolean error_tolerated(const char *msg)
{
	return g_str_has_prefix(msg, "No value for ");
}

/* Collect libical's X-LIC-ERROR texts of c and its descendants. */
static void collect_errors(icalcomponent *c, GPtrArray *out)
{
	icalproperty *p;
	icalcomponent *s;

	for (p = icalcomponent_get_first_property(c, ICAL_XLICERROR_PROPERTY);
	     p; p = icalcomponent_get_next_property(c, ICAL_XLICERROR_PROPERTY)) {
		const char *m = icalproperty_get_xlicerror(p);

		if (m && !error_tolerated(m))
			g_ptr_array_add(out, g_strdup(m));
	}
	for (s = icalcomponent_get_first_component(c, ICAL_ANY_COMPONENT); s;
	     s = icalcomponent_get_next_component(c, ICAL_ANY_COMPONENT))
		collect_errors(s, out);
}

static char *one_line(const char *s)
{
	char *r = g_strdup(s);

	g_strdelimit(r, "\r\n", ' ');
	return g_strstrip(r);
}

static gboolean check_errors(icalcomponent *cal, item_check_mode mode,
			     GPtrArray *warnings, GError **err)
{
	GPtrArray *errs = g_ptr_array_new_with_free_func(g_free);
	gboolean ok = TRUE;

	collect_errors(cal, errs);
	if (errs->len && mode == ITEM_CHECK_STRICT) {
		char *m = one_line(errs->pdata[0]);

		g_set_error(err, CALFS_ERROR, CALFS_ERROR_INVALID,
			    "parse error: %s", m);
		g_free(m);
		ok = FALSE;
	} else if (warnings) {
		for (guint i = 0; i < errs->len; i++)
			g_ptr_array_add(warnings, one_line(errs->pdata[i]));
	}
	g_ptr_array_unref(errs);
	return ok;
}

/* The UID of component c, or NULL with err set. */
/* The first control character of s (HTAB included), or 0. */
static guchar control_char(const char *s)
{
	for (; s && *s; s++)
		if ((guchar)*s < 0x20 || *s == 0x7f)
			return (guchar)*s;
	return 0;
}

/* RFC 5545 allows no control characters in a TZID, and libical drops
 * some when it writes one out: a VTIMEZONE written for a TZID with one
 * would never match it again (make fuzz).  Checks c and what it holds. */
static gboolean tzids_ok(icalcomponent *c, GError **err)
{
	for (icalproperty *p = icalcomponent_get_first_property(c, ICAL_ANY_PROPERTY);
	     p; p = icalcomponent_get_next_property(c, ICAL_ANY_PROPERTY)) {
		icalparameter *q = icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER);
		const char *v = q ? icalparameter_get_tzid(q) : NULL;
		guchar bad;

		if (!v && icalproperty_isa(p) == ICAL_TZID_PROPERTY)
			v = icalproperty_get_tzid(p);
		if ((bad = control_char(v))) {
			g_set_error(err, CALFS_ERROR, CALFS_ERROR_INVALID,
				    "TZID with a control character (0x%02x)", bad);
			return FALSE;
		}
	}
	for (icalcomponent *s = icalcomponent_get_first_component(c, ICAL_ANY_COMPONENT);
	     s; s = icalcomponent_get_next_component(c, ICAL_ANY_COMPONENT))
		if (!tzids_ok(s, err))
			return FALSE;
	return TRUE;
}

static const char *component_uid(icalcomponent *c, GError **err)
{
	icalproperty *p = icalcomponent_get_first_property(c, ICAL_UID_PROPERTY);
	const char *kind = icalcomponent_kind_to_string(icalcomponent_isa(c));
	const char *uid;

	if (!p || !(uid = icalproperty_get_uid(p)) || !*uid) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_INVALID,
			    "%s without UID", kind);
		return NULL;
	}
	if (icalcomponent_get_next_property(c, ICAL_UID_PROPERTY)) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_INVALID,
			    "%s with two UID properties", kind);
		return NULL;
	}
	/* RFC 5545 allows no control characters in TEXT, and libical drops
	 * some when it writes one out: an item split from a file would not
	 * keep the UID it was split by (make fuzz) */
	if (control_char(uid)) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_INVALID,
			    "%s UID with a control character (0x%02x)",
			    kind, control_char(uid));
		return NULL;
	}
	return uid;
}

gboolean item_check(const char *data, gsize len, item_check_mode mode,
		    char **uid, GPtrArray *warnings, GError **err)
{
	return item_check_parsed(data, len, mode, uid, warnings, NULL, err);
}

static gboolean parse_check(const char *data, gsize len, item_check_mode mode,
			    char **uid, GPtrArray *warnings, icalcomponent **parsed,
			    GError **err);

gboolean item_check_parsed(const char *data, gsize len, item_check_mode mode,
			   char **uid, GPtrArray *warnings, icalcomponent **parsed,
			   GError **err)
{
	if (!text_ok(data, len, TRUE, err))
		return FALSE;
	/* a plain item needs no parse when nobody wants the tree */
	if (!parsed && icscan_item(data, len, uid) == ICSCAN_ITEM)
		return TRUE;
	return parse_check(data, len, mode, uid, warnings, parsed, err);
}

/* item_check_parsed after text_ok: libical's parse, its errors, the UIDs
 * it found. */
static gboolean parse_check(const char *data, gsize len, item_check_mode mode,
			    char **uid, GPtrArray *warnings, icalcomponent **parsed,
			    GError **err)
{
	icalcomponent *cal = NULL, *s;
	GPtrArray *uids = NULL;
	gboolean ok = FALSE;

	cal = item_parse(data, len);
	if (!cal) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_INVALID,
			    "not iCalendar data");
		goto out;
	}
	if (icalcomponent_isa(cal) != ICAL_VCALENDAR_COMPONENT) {
		if (icalcomponent_isa(cal) == ICAL_XROOT_COMPONENT)
			g_set_error(err, CALFS_ERROR, CALFS_ERROR_INVALID,
				    "%d VCALENDARs, one expected",
				    icalcomponent_count_components(cal, ICAL_ANY_COMPONENT));
		else
			g_set_error_literal(err, CALFS_ERROR, CALFS_ERROR_INVALID,
					    "not a VCALENDAR");
		goto out;
	}
	if (!check_errors(cal, mode, warnings, err) || !tzids_ok(cal, err))
		goto out;
	uids = g_ptr_array_new();
	for (s = icalcomponent_get_first_component(cal, ICAL_ANY_COMPONENT); s;
	     s = icalcomponent_get_next_component(cal, ICAL_ANY_COMPONENT)) {
		const char *u;

		if (!is_item_kind(icalcomponent_isa(s)))
			continue;
		if (!(u = component_uid(s, err)))
			goto out;
		if (!uids->len || strcmp(uids->pdata[0], u))
			if (!g_ptr_array_find_with_equal_func(uids, u, g_str_equal, NULL))
				g_ptr_array_add(uids, (gpointer)u);
	}
	if (uids->len == 0) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_INVALID,
			    "no event, to-do or journal");
		goto out;
	}
	if (uids->len > 1) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_INVALID,
			    "%s UIDs (%s, %s%s)",
			    uids->len == 2 ? "two" : "several",
			    (char *)uids->pdata[0], (char *)uids->pdata[1],
			    uids->len > 2 ? ", ..." : "");
		goto out;
	}
	if (uid)
		*uid = g_strdup(uids->pdata[0]);
	if (parsed)
		*parsed = g_steal_pointer(&cal);
	ok = TRUE;
out:
	if (uids)
		g_ptr_array_unref(uids);
	if (cal)
		icalcomponent_free(cal);
	return ok;
}

char *item_name_for_uid(const char *uid)
{
	size_t n = strlen(uid);
	gboolean plain = n > 0 && n <= 200 && uid[0] != '.';

	for (size_t i = 0; plain && i < n; i++)
		plain = g_ascii_isalnum(uid[i]) || strchr("_.@+-", uid[i]);
	if (plain)
		return g_strconcat(uid, ".ics", NULL);
	{
		char *h = g_compute_checksum_for_string(G_CHECKSUM_SHA1, uid, n);
		char *r = g_strconcat(h, ".ics", NULL);

		g_free(h);
		return r;
	}
}

gboolean item_name_is_item(const char *name)
{
	return name[0] != '.' && g_str_has_suffix(name, ".ics");
}

gboolean item_name_is_valid(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && n <= 255 && strcmp(name, ".") && strcmp(name, "..") &&
	       !strchr(name, '/');
}

GBytes *item_to_utf8(GBytes *data, char **what)
{
	gsize len;
	const char *s = g_bytes_get_data(data, &len), *from = NULL;
	gsize n = 0, mark = 0;	/* the byte-order mark's length */
	char *out;

	if (what)
		*what = NULL;
	if (!s)
		return g_bytes_ref(data);
	if (len >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3)) {
		if (what)
			*what = g_strdup("a UTF-8 byte-order mark removed");
		return g_bytes_new_from_bytes(data, 3, len - 3);
	}
	if (len >= 2 && !memcmp(s, "\xFF\xFE", 2))
		from = "UTF-16LE", mark = 2;
	else if (len >= 2 && !memcmp(s, "\xFE\xFF", 2))
		from = "UTF-16BE", mark = 2;
	else if (!g_utf8_validate(s, len, NULL))
		from = "WINDOWS-1252";
	if (!from)
		return g_bytes_ref(data);
	out = g_convert(s + mark, len - mark, "UTF-8", from, NULL, &n, NULL);
	if (!out)
		return g_bytes_ref(data);	/* then refused as not UTF-8 */
	if (what)
		*what = g_strdup_printf("converted from %s to UTF-8 (it was not UTF-8)",
					!strcmp(from, "WINDOWS-1252") ? "Windows-1252 (ISO-8859-1)"
								      : from);
	return g_bytes_new_take(out, n);
}

void item_part_free(item_part *p)
{
	if (!p)
		return;
	g_free(p->uid);
	g_bytes_unref(p->data);
	g_free(p);
}

GPtrArray *item_split(const char *data, gsize len, GPtrArray *warnings,
		      GError **err)
{
	GPtrArray *parts, *pieces;
	GBytes *bytes;
	char *uid = NULL, *why = NULL;
	GPtrArray *w = g_ptr_array_new_with_free_func(g_free);
	icscan_verdict v = ICSCAN_NOT_SURE;

	/* one item, or not: a file of several items by plain lines (an
	 * export) needs no parse to say so */
	if (text_ok(data, len, TRUE, NULL) &&
	    (v = icscan_item(data, len, &uid)) == ICSCAN_NOT_SURE &&
	    parse_check(data, len, ITEM_CHECK_LENIENT, &uid, w, NULL, NULL))
		v = ICSCAN_ITEM;
	if (v == ICSCAN_ITEM) {
		/* already one item: keep its bytes, and its parse warnings */
		item_part *p = g_new0(item_part, 1);

		for (guint i = 0; warnings && i < w->len; i++)
			g_ptr_array_add(warnings, g_strdup(w->pdata[i]));
		g_ptr_array_unref(w);
		parts = g_ptr_array_new_with_free_func((GDestroyNotify)item_part_free);
		p->uid = uid;
		p->data = g_bytes_new(data, len);
		p->checked = TRUE;
		g_ptr_array_add(parts, p);
		return parts;
	}
	g_ptr_array_unref(w);
	if (!text_ok(data, len, FALSE, err))
		return NULL;
	/* by lines, not through libical: each item keeps its bytes (folds,
	 * escapes, and the properties libical would drop) */
	bytes = g_bytes_new_static(data, len);
	pieces = ictext_split(bytes, &why);
	g_bytes_unref(bytes);
	if (!pieces) {
		g_set_error_literal(err, CALFS_ERROR, CALFS_ERROR_INVALID, why);
		g_free(why);
		return NULL;
	}
	parts = g_ptr_array_new_with_free_func((GDestroyNotify)item_part_free);
	for (guint i = 0; i < pieces->len; i++) {
		ictext_part *piece = pieces->pdata[i];
		item_part *p = g_new0(item_part, 1);

		/* the bytes are the input's: copied, as the input is the caller's */
		p->uid = g_strdup(piece->uid);
		p->made_uid = piece->made_uid;
		p->data = g_bytes_new(g_bytes_get_data(piece->data, NULL),
				      g_bytes_get_size(piece->data));
		g_ptr_array_add(parts, p);
	}
	g_ptr_array_unref(pieces);
	return parts;
}
