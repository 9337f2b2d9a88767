#include "repair.h"
#include "ictext.h"
#include "recur.h"

#include <string.h>

#define ACC "X-MICROSOFT-CDO-ATTENDEE-CRITICAL-CHANGE"
#define OCC "X-MICROSOFT-CDO-OWNER-CRITICAL-CHANGE"
#define CDO_REPLYTIME "X-MICROSOFT-CDO-REPLYTIME"
#define OLK_SEQTIME "X-MS-OLK-APPTSEQTIME"
#define REPLYTIME "X-REPLYTIME"

/* 1900-01-01T00:00:00Z */
#define SENTINEL G_GINT64_CONSTANT(-2208988800)

/* The number that the n digits at p spell. */
static int digits(const char *p, int n)
{
	int v = 0;

	while (n--)
		v = v * 10 + (*p++ - '0');
	return v;
}

gboolean repair_time_valid(const char *text, gint64 *when)
{
	int y, mo, d, h, mi, s;
	gint64 t;
	gsize n;

	if (!text)
		return FALSE;
	while (g_ascii_isspace(*text))
		text++;
	n = strlen(text);
	while (n && g_ascii_isspace(text[n - 1]))
		n--;
	if ((n != 15 && n != 16) || (text[8] != 'T' && text[8] != 't'))
		return FALSE;
	for (gsize i = 0; i < 15; i++)
		if (i != 8 && !g_ascii_isdigit(text[i]))
			return FALSE;
	if (n == 16 && text[15] != 'Z' && text[15] != 'z')
		return FALSE;
	/* by the digits (sscanf and GDateTime took 3,600 instructions a
	 * time): what GDateTime takes, a leap second read as :59 */
	y = digits(text, 4);
	mo = digits(text + 4, 2);
	d = digits(text + 6, 2);
	h = digits(text + 9, 2);
	mi = digits(text + 11, 2);
	s = digits(text + 13, 2);
	if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > g_date_get_days_in_month(mo, y) ||
	    h > 23 || mi > 59 || s > 60)
		return FALSE;
	t = (recur_day_number(y, mo, d) - RECUR_UNIX_DAY) * 86400 + h * 3600 + mi * 60 +
	    (s == 60 ? 59 : s);
	if (t < SENTINEL)
		return FALSE;
	if (when)
		*when = t;
	return TRUE;
}

char *repair_format_time(gint64 when)
{
	GDateTime *dt = g_date_time_new_from_unix_utc(when);
	char *s = g_date_time_format(dt, "%Y%m%dT%H%M%SZ");

	g_date_time_unref(dt);
	return s;
}

/* Whether the n bytes at v, the value of a time the rules check, are not
 * a valid time (rule T1): the rules would change it. */
static gboolean bad_time(const char *v, gsize n)
{
	char *text = g_strndup(v, n);
	gboolean bad = !repair_time_valid(text, NULL);

	g_free(text);
	return bad;
}

/* Whether line (unfolded, n bytes) starts with name, ignoring ASCII
 * case. */
static gboolean starts(const char *line, gsize n, const char *name)
{
	gsize k = strlen(name);

	return n >= k && !g_ascii_strncasecmp(line, name, k);
}

/* Each X-REPLYTIME parameter of an ATTENDEE line (NUL-terminated, as
 * libical reads it): whether one is not a plain valid time (quoted or
 * not). */
static gboolean bad_reply_times(const char *line)
{
	static const char param[] = REPLYTIME "=";

	for (const char *p = line; (p = strcasestr(p, param)); p++) {
		const char *v = p + sizeof(param) - 1;
		gsize m;

		if (*v == '"') {
			v++;
			m = strcspn(v, "\"");
		} else {
			m = strcspn(v, ";:");
		}
		if (bad_time(v, m))
			return TRUE;
	}
	return FALSE;
}

/* Whether a rule may change something on content line line (unfolded, n
 * bytes, NUL-terminated): a time of T2, T3 or T5 that is not valid, an
 * X-REPLYTIME (T4) that is not, or the METHOD of a reply (T2 adds a time
 * there).  A line not in the plain form these take is read by libical. */
static gboolean line_may_apply(const char *line, gsize n)
{
	static const char *const times[] = { ACC, OCC, CDO_REPLYTIME, OLK_SEQTIME };

	switch (line[0]) {
	case 'X':
	case 'x':
		for (gsize i = 0; i < G_N_ELEMENTS(times); i++) {
			gsize k = strlen(times[i]);

			if (starts(line, n, times[i]))
				return n == k || line[k] != ':' ||
				       bad_time(line + k + 1, n - k - 1);
		}
		return FALSE;
	case 'A':
	case 'a':
		return starts(line, n, "ATTENDEE") && bad_reply_times(line);
	case 'M':
	case 'm':
		if (starts(line, n, "METHOD")) {
			char *low = g_ascii_strdown(line, n);
			gboolean reply = !starts(line, n, "METHOD:") || strstr(low, "reply") ||
					 strstr(low, "counter");

			g_free(low);
			return reply;
		}
		return FALSE;
	default:
		return FALSE;
	}
}

gboolean repair_may_apply(const char *data, gsize len)
{
	GString *u = NULL;
	gboolean may = FALSE;

	for (const char *p = data, *end = data + len; p < end && !may;) {
		const char *nl = memchr(p, '\n', end - p);

		/* only lines that begin as the rules' do are read (unfolded);
		 * continuations begin with white space */
		if (*p && strchr("XxAaMm", *p)) {
			if (!u)
				u = g_string_sized_new(256);
			ictext_logical_line(data, len, p - data, g_string_truncate(u, 0));
			may = line_may_apply(u->str, u->len);
		}
		p = nl ? nl + 1 : end;
	}
	if (u)
		g_string_free(u, TRUE);
	return may;
}

gboolean repair_reads(const char *line, gsize len)
{
	static const char *const names[] = {
		"METHOD", "UID", "RECURRENCE-ID", "DTSTAMP", "LAST-MODIFIED", "CREATED",
		"ATTENDEE", ACC, OCC, CDO_REPLYTIME, OLK_SEQTIME,
	};

	return ictext_line_named(line, len, names, G_N_ELEMENTS(names), NULL);
}

void repair_fix_free(repair_fix *f)
{
	if (!f)
		return;
	g_free(f->property);
	g_free(f->attendee);
	g_free(f->recurrence_id);
	g_free(f->old_value);
	g_free(f->new_value);
	g_free(f);
}

/* ---- reading and writing properties on libical ---- */

static gboolean x_named(icalproperty *p, const char *name)
{
	return icalproperty_get_x_name(p) &&
	       !g_ascii_strcasecmp(icalproperty_get_x_name(p), name);
}

/* The first X-property of c called name, or NULL. */
static icalproperty *x_prop(icalcomponent *c, const char *name)
{
	icalproperty *p;

	for (p = icalcomponent_get_first_property(c, ICAL_X_PROPERTY); p;
	     p = icalcomponent_get_next_property(c, ICAL_X_PROPERTY))
		if (x_named(p, name))
			return p;
	return NULL;
}

/* The X-properties of c called name, in order (a new array). */
static GPtrArray *x_props(icalcomponent *c, const char *name)
{
	GPtrArray *a = g_ptr_array_new();
	icalproperty *p;

	for (p = icalcomponent_get_first_property(c, ICAL_X_PROPERTY); p;
	     p = icalcomponent_get_next_property(c, ICAL_X_PROPERTY))
		if (x_named(p, name))
			g_ptr_array_add(a, p);
	return a;
}

static const char *x_value(icalproperty *p)
{
	return p ? icalproperty_get_value_as_string(p) : NULL;
}

static void x_set(icalcomponent *c, icalproperty *p, const char *name,
		  const char *value)
{
	if (!value) {
		if (p) {
			icalcomponent_remove_property(c, p);
			icalproperty_free(p);
		}
		return;
	}
	if (!p) {
		p = icalproperty_new_x(value);
		icalproperty_set_x_name(p, name);
		icalcomponent_add_property(c, p);
	} else {
		icalproperty_set_x(p, value);
	}
}

static icalparameter *x_param(icalproperty *p, const char *name)
{
	icalparameter *q;

	for (q = icalproperty_get_first_parameter(p, ICAL_X_PARAMETER); q;
	     q = icalproperty_get_next_parameter(p, ICAL_X_PARAMETER))
		if (icalparameter_get_xname(q) &&
		    !g_ascii_strcasecmp(icalparameter_get_xname(q), name))
			return q;
	return NULL;
}

/* The value of a typed property (DTSTAMP, LAST-MODIFIED, CREATED) as
 * text, or NULL. */
static const char *typed_value(icalcomponent *c, icalproperty_kind kind)
{
	icalproperty *p = icalcomponent_get_first_property(c, kind);

	return p ? icalproperty_get_value_as_string(p) : NULL;
}

/* ---- the rules ---- */

typedef struct {
	icalcomponent *ev;
	int comp;
	gboolean reply;		/* METHOD REPLY or COUNTER */
	const char *uid;
	const char *recurrence_id;
	const repair_context *ctx;
	GPtrArray *fixes;
} event;

static repair_fix *add_fix(event *e, int rule, const char *property,
			   const char *attendee, int ordinal, const char *old,
			   gint64 when, gboolean have_time, repair_source source)
{
	repair_fix *f = g_new0(repair_fix, 1);

	f->rule = rule;
	f->comp = e->comp;
	f->property = g_strdup(property);
	f->attendee = g_strdup(attendee);
	f->ordinal = ordinal;
	f->recurrence_id = g_strdup(e->recurrence_id);
	f->old_value = g_strdup(old);
	f->new_value = have_time ? repair_format_time(when) : NULL;
	f->source = source;
	g_ptr_array_add(e->fixes, f);
	return f;
}

typedef struct {
	icalproperty_kind kind;
	repair_source source;
} fallback;
/* The first valid time among the item's own DTSTAMP (unless skipped),
 * LAST-MODIFIED, CREATED. */
static gboolean item_time(event *e, gboolean with_dtstamp, gint64 *when,
			  repair_source *source)
{
	static const fallback order[] = {
		{ ICAL_DTSTAMP_PROPERTY, REPAIR_FROM_DTSTAMP },
		{ ICAL_LASTMODIFIED_PROPERTY, REPAIR_FROM_LAST_MODIFIED },
		{ ICAL_CREATED_PROPERTY, REPAIR_FROM_CREATED },
	};

	for (gsize i = with_dtstamp ? 0 : 1; i < G_N_ELEMENTS(order); i++)
		if (repair_time_valid(typed_value(e->ev, order[i].kind), when)) {
			*source = order[i].source;
			return TRUE;
		}
	*source = REPAIR_REMOVED_NO_TIME;
	return FALSE;
}

/* T2 and T3: a critical-change property, each of its copies. */
static void critical_change(event *e, int rule, const char *name,
			    gboolean with_dtstamp, gboolean add_if_missing)
{
	GPtrArray *ps = x_props(e->ev, name);
	repair_source src;
	gint64 when = 0;
	gboolean have;
	repair_fix *f;

	if (!ps->len) {
		if (add_if_missing &&
		    (have = item_time(e, with_dtstamp, &when, &src))) {
			f = add_fix(e, rule, name, NULL, 0, NULL, when, have, src);
			x_set(e->ev, NULL, name, f->new_value);
		}
		goto out;
	}
	for (guint i = 0; i < ps->len; i++) {
		icalproperty *p = ps->pdata[i];
		const char *old = x_value(p);

		if (repair_time_valid(old, NULL))
			continue;
		have = item_time(e, with_dtstamp, &when, &src);
		f = add_fix(e, rule, name, NULL, i, old, when, have, src);
		x_set(e->ev, p, name, f->new_value);
	}
out:
	g_ptr_array_unref(ps);
}

static gboolean responded(icalproperty *att)
{
	icalparameter *ps = icalproperty_get_first_parameter(att, ICAL_PARTSTAT_PARAMETER);
	icalparameter_partstat v = ps ? icalparameter_get_partstat(ps)
				      : ICAL_PARTSTAT_NEEDSACTION;

	return v == ICAL_PARTSTAT_ACCEPTED || v == ICAL_PARTSTAT_TENTATIVE ||
	       v == ICAL_PARTSTAT_DECLINED || v == ICAL_PARTSTAT_DELEGATED;
}

/* The properties of kind in c.  libical keeps one iterator per
 * component, which every lookup of another property moves: a loop that
 * looks things up while it walks must walk a copy. */
static GPtrArray *properties(icalcomponent *c, icalproperty_kind kind)
{
	GPtrArray *a = g_ptr_array_new();

	for (icalproperty *p = icalcomponent_get_first_property(c, kind); p;
	     p = icalcomponent_get_next_property(c, kind))
		g_ptr_array_add(a, p);
	return a;
}

/* T4: the X-REPLYTIME parameter of every ATTENDEE. */
static void reply_times(event *e)
{
	GPtrArray *atts = properties(e->ev, ICAL_ATTENDEE_PROPERTY);
	/* address (lower case) -> how many ATTENDEEs had it so far: the
	 * ordinal the text's line is found by */
	GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

	for (guint i = 0; i < atts->len; i++) {
		icalproperty *att = atts->pdata[i];
		icalparameter *q = x_param(att, REPLYTIME);
		const char *who = icalproperty_get_attendee(att);
		char *old, *key;
		repair_source src = REPAIR_REMOVED_NO_RESPONSE;
		gint64 when = 0;
		gboolean have = FALSE;
		repair_fix *f;
		int ordinal = 0;

		if (who) {
			key = g_ascii_strdown(who, -1);
			ordinal = GPOINTER_TO_INT(g_hash_table_lookup(seen, key));
			g_hash_table_replace(seen, key, GINT_TO_POINTER(ordinal + 1));
		}
		if (!q || repair_time_valid(icalparameter_get_xvalue(q), NULL))
			continue;
		old = g_strdup(icalparameter_get_xvalue(q));
		if (responded(att)) {
			if (e->ctx && e->ctx->reply_time && e->uid && who &&
			    e->ctx->reply_time(e->ctx->data, e->uid, who, &when) &&
			    when >= SENTINEL) {
				have = TRUE;
				src = REPAIR_FROM_REPLY;
			} else if (repair_time_valid(typed_value(e->ev, ICAL_LASTMODIFIED_PROPERTY), &when)) {
				have = TRUE;
				src = REPAIR_FROM_LAST_MODIFIED;
			} else if (repair_time_valid(typed_value(e->ev, ICAL_DTSTAMP_PROPERTY), &when)) {
				have = TRUE;
				src = REPAIR_FROM_DTSTAMP;
			} else {
				src = REPAIR_REMOVED_NO_TIME;
			}
		}
		f = add_fix(e, 4, "ATTENDEE", who, ordinal, old, when, have, src);
		if (f->new_value)
			icalparameter_set_xvalue(q, f->new_value);
		else
			icalproperty_remove_parameter_by_ref(att, q);
		g_free(old);
	}
	g_hash_table_destroy(seen);
	g_ptr_array_unref(atts);
}

/* T5: the attendee's own reply time and Outlook's sequence time, each of
 * their copies. */
static void own_reply_time(event *e, const char *name)
{
	GPtrArray *ps = x_props(e->ev, name);
	/* libical's value texts live in a ring buffer: keep a copy */
	char *acc = g_strdup(x_value(x_prop(e->ev, ACC)));

	for (guint i = 0; i < ps->len; i++) {
		icalproperty *p = ps->pdata[i];
		const char *old = x_value(p);
		repair_source src;
		gint64 when = 0;
		gboolean have;
		repair_fix *f;

		if (repair_time_valid(old, NULL))
			continue;
		if ((have = repair_time_valid(acc, &when)))
			src = REPAIR_FROM_CRITICAL_CHANGE;
		else if ((have = repair_time_valid(typed_value(e->ev, ICAL_DTSTAMP_PROPERTY), &when)))
			src = REPAIR_FROM_DTSTAMP;
		else
			src = REPAIR_REMOVED_NO_TIME;
		f = add_fix(e, 5, name, NULL, i, old, when, have, src);
		x_set(e->ev, p, name, f->new_value);
	}
	g_free(acc);
	g_ptr_array_unref(ps);
}

static gboolean is_event(icalcomponent *c)
{
	return icalcomponent_isa(c) == ICAL_VEVENT_COMPONENT;
}

static gboolean counts(icalcomponent *c)
{
	icalcomponent_kind k = icalcomponent_isa(c);

	return k == ICAL_VEVENT_COMPONENT || k == ICAL_VTODO_COMPONENT ||
	       k == ICAL_VJOURNAL_COMPONENT;
}

GPtrArray *repair_component(icalcomponent *cal, const repair_context *ctx)
{
	GPtrArray *fixes = g_ptr_array_new_with_free_func((GDestroyNotify)repair_fix_free);
	icalproperty *m = icalcomponent_get_first_property(cal, ICAL_METHOD_PROPERTY);
	icalproperty_method method = m ? icalproperty_get_method(m) : ICAL_METHOD_NONE;
	icalcomponent *c;
	int comp = 0;

	for (c = icalcomponent_get_first_component(cal, ICAL_ANY_COMPONENT); c;
	     c = icalcomponent_get_next_component(cal, ICAL_ANY_COMPONENT)) {
		event e = { .ev = c, .ctx = ctx, .fixes = fixes,
			    .reply = method == ICAL_METHOD_REPLY ||
				     method == ICAL_METHOD_COUNTER };
		icalproperty *rid;

		if (!counts(c))
			continue;
		e.comp = comp++;
		if (!is_event(c))
			continue;
		e.uid = icalcomponent_get_uid(c);
		rid = icalcomponent_get_first_property(c, ICAL_RECURRENCEID_PROPERTY);
		e.recurrence_id = rid ? icalproperty_get_value_as_string(rid) : NULL;
		critical_change(&e, 2, ACC, TRUE, e.reply);
		critical_change(&e, 3, OCC, !e.reply, FALSE);
		reply_times(&e);
		own_reply_time(&e, CDO_REPLYTIME);
		own_reply_time(&e, OLK_SEQTIME);
	}
	return fixes;
}

/* Whether value is empty once libical strips the white space at the end
 * of its line. */
static gboolean blank(const char *value)
{
	for (; value && *value; value++)
		if (!g_ascii_isspace(*value) && *value != '\v')
			return FALSE;
	return TRUE;
}

/* The ordinal-th (from 0) line called name (of attendee) in component comp
 * that libical keeps: it drops a property whose value is blank, and the
 * ordinals of the fixes count what it kept. */
static ictext_line *find_kept(ictext *t, int comp, const char *name, const char *attendee,
			      int ordinal)
{
	ictext_line *l;

	for (int n = 0, kept = 0; (l = ictext_find(t, comp, name, attendee, n)); n++)
		if (!blank(ictext_line_value(l)) && kept++ == ordinal)
			return l;
	return NULL;
}

GBytes *repair_apply_text(GBytes *text, GPtrArray *fixes)
{
	ictext *t;
	ictext_line **lines;
	GBytes *out;

	if (!fixes || !fixes->len)
		return g_bytes_ref(text);
	t = ictext_parse(text);
	/* Find every line before changing any: a removed line no longer
	 * counts, and would shift the ordinals of the copies after it. */
	lines = g_new0(ictext_line *, fixes->len);
	for (guint i = 0; i < fixes->len; i++) {
		repair_fix *f = fixes->pdata[i];

		lines[i] = find_kept(t, f->comp, f->property, f->attendee, f->ordinal);
	}
	for (guint i = 0; i < fixes->len; i++) {
		repair_fix *f = fixes->pdata[i];
		ictext_line *l = lines[i];

		if (f->attendee) {
			if (l)
				ictext_set_param(l, REPLYTIME, f->new_value);
		} else if (!l) {
			if (f->new_value) {
				char *line = g_strdup_printf("%s:%s", f->property,
							     f->new_value);

				ictext_add(t, f->comp, line);
				g_free(line);
			}
		} else if (f->new_value) {
			ictext_set_value(l, f->new_value);
		} else {
			ictext_remove(l);
		}
	}
	g_free(lines);
	out = ictext_serialize(t);
	ictext_free(t);
	return out;
}

static const char *source_text(repair_source s)
{
	switch (s) {
	case REPAIR_FROM_DTSTAMP:
		return "item DTSTAMP";
	case REPAIR_FROM_LAST_MODIFIED:
		return "item LAST-MODIFIED";
	case REPAIR_FROM_CREATED:
		return "item CREATED";
	case REPAIR_FROM_REPLY:
		return "latest reply from the attendee";
	case REPAIR_FROM_CRITICAL_CHANGE:
		return "X-MICROSOFT-CDO-ATTENDEE-CRITICAL-CHANGE";
	case REPAIR_REMOVED_NO_TIME:
		return "no valid time to take";
	case REPAIR_REMOVED_NO_RESPONSE:
		return "no response";
	}
	return "";
}

/* Up to n bytes of v from off on, as printf's "%.ns" of v + off writes
 * them (none past v's end), added to s. */
static void part(GString *s, const char *v, gsize len, gsize off, gsize n)
{
	if (off < len)
		g_string_append_len(s, v + off, MIN(n, len - off));
}

/* A stored value as a person reads it, added to s: 16010101T000000Z is
 * 1601-01-01. */
static void show_old(GString *s, const char *v)
{
	gsize len = v ? strlen(v) : 0;

	if (!v) {
		g_string_append(s, "missing");
	} else if (len >= 8 && g_ascii_isdigit(v[0]) && g_ascii_isdigit(v[7])) {
		part(s, v, len, 0, 4);
		g_string_append_c(s, '-');
		part(s, v, len, 4, 2);
		g_string_append_c(s, '-');
		part(s, v, len, 6, 2);
	} else {
		g_string_append_c(s, '\'');
		part(s, v, len, 0, 40);
		g_string_append_c(s, '\'');
	}
}

/* A new value, 20260101T100000Z, as 2026-01-01T10:00:00Z, added to s. */
static void show_new(GString *s, const char *v)
{
	static const struct {
		gsize off, n;
		char after;
	} parts[] = { { 0, 4, '-' }, { 4, 2, '-' }, { 6, 2, 'T' }, { 9, 2, ':' },
		      { 11, 2, ':' }, { 13, 2, 'Z' } };
	gsize len = v ? strlen(v) : 0;

	if (!v) {
		g_string_append(s, "removed");
		return;
	}
	for (guint i = 0; i < G_N_ELEMENTS(parts); i++) {
		part(s, v, len, parts[i].off, parts[i].n);
		g_string_append_c(s, parts[i].after);
	}
}

/* Built with appends: printf's formats cost 7,000 instructions a repair,
 * and a fix describes each twice (its report and its journal note). */
char *repair_describe(const repair_fix *f)
{
	GString *s = g_string_sized_new(128);

	if (f->attendee) {
		g_string_append(s, "X-REPLYTIME of ");
		g_string_append(s, f->attendee);
	} else {
		g_string_append(s, f->property);
	}
	if (f->recurrence_id) {
		g_string_append(s, " (RECURRENCE-ID ");
		g_string_append(s, f->recurrence_id);
		g_string_append_c(s, ')');
	}
	g_string_append(s, ": ");
	show_old(s, f->old_value);
	g_string_append(s, " \u2192 ");
	show_new(s, f->new_value);
	g_string_append(s, " (");
	g_string_append(s, source_text(f->source));
	g_string_append_printf(s, ", rule T%d)", f->rule);
	return g_string_free(s, FALSE);
}
