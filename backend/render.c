#include "render.h"
#include "item.h"
#include "mend.h"
#include "repair.h"
#include "ictext.h"

#include <string.h>

static render_options options(const conf *c, const char *mailbox,
			      const char *stored_zone, gboolean repair)
{
	const conf_mailbox *m = mailbox ? conf_mailbox_get(c, mailbox) : NULL;
	render_options o = {
		.repair = repair,
		.rebase = c->rebase,
		.tz = {
			.recurring_only = c->recurring_only,
			.report_only = c->report_only,
			.created_before = c->created_before,
			.mailbox_zone = m && m->timezone ? m->timezone : stored_zone,
		},
	};

	return o;
}

render_options render_options_read(const conf *c, const char *mailbox,
				   const char *stored_zone)
{
	return options(c, mailbox, stored_zone, c->repair_on_read);
}

render_options render_options_write(const conf *c, const char *mailbox,
				    const char *stored_zone)
{
	return options(c, mailbox, stored_zone, c->repair_on_write);
}

void render_log_init(render_log *l)
{
	l->zone_consulted = FALSE;
	l->mends = g_ptr_array_new_with_free_func(g_free);
	l->notes = g_ptr_array_new_with_free_func(g_free);
	l->repairs = g_ptr_array_new_with_free_func((GDestroyNotify)repair_fix_free);
	l->rebases = g_ptr_array_new_with_free_func((GDestroyNotify)tz_fix_free);
}

void render_log_clear(render_log *l)
{
	g_clear_pointer(&l->mends, g_ptr_array_unref);
	g_clear_pointer(&l->notes, g_ptr_array_unref);
	g_clear_pointer(&l->repairs, g_ptr_array_unref);
	g_clear_pointer(&l->rebases, g_ptr_array_unref);
}

static void move_all(GPtrArray *from, GPtrArray *to)
{
	for (guint i = 0; i < from->len; i++)
		g_ptr_array_add(to, g_steal_pointer(&from->pdata[i]));
}

/* Bump when a change to the rules changes what renderings are. */
#define RULES_VERSION "calfs-render-3"

/* The keys render_key made last, by what they were made of: a mount asks
 * for the same few for every item it reads (a quarter of the daemon's
 * instructions in a cold read went to printing and hashing them again).
 * A slot is replaced in turn once all are used. */
#define KEY_MEMOS 8

typedef struct {
	gboolean flags[4];	/* repair, rebase, recurring_only, report_only */
	gint64 created_before;
	char *tzdata;
	char *zone;		/* "" for none */
	char *key;		/* NULL: the slot is free */
} key_memo;

static GMutex memo_lock;
static key_memo memos[KEY_MEMOS];	/* under memo_lock */
static guint memo_next;			/* under memo_lock */

static char *key_made(const render_options *o, const char *tzdata, const char *zone)
{
	char *text = g_strdup_printf("%s|%d|%d|%d|%d|%" G_GINT64_FORMAT "|%s|%s", RULES_VERSION,
				     o->repair, o->rebase, o->tz.recurring_only,
				     o->tz.report_only, o->tz.created_before, tzdata, zone);
	char *key = g_compute_checksum_for_string(G_CHECKSUM_SHA1, text, -1);

	g_free(text);
	return key;
}

char *render_key(const render_options *o, const char *zone)
{
	const char *tzdata = tz_tzdata_version();
	const gboolean flags[4] = { o->repair, o->rebase, o->tz.recurring_only,
				    o->tz.report_only };
	char *key = NULL;
	key_memo *m;

	if (!zone)
		zone = "";
	g_mutex_lock(&memo_lock);
	for (guint i = 0; i < KEY_MEMOS && !key; i++) {
		m = &memos[i];
		if (m->key && !memcmp(m->flags, flags, sizeof(flags)) &&
		    m->created_before == o->tz.created_before &&
		    !strcmp(m->zone, zone) && !strcmp(m->tzdata, tzdata))
			key = g_strdup(m->key);
	}
	g_mutex_unlock(&memo_lock);
	if (key)
		return key;
	key = key_made(o, tzdata, zone);
	g_mutex_lock(&memo_lock);
	m = &memos[memo_next];
	memo_next = (memo_next + 1) % KEY_MEMOS;
	g_free(m->tzdata);
	g_free(m->zone);
	g_free(m->key);
	memcpy(m->flags, flags, sizeof(flags));
	m->created_before = o->tz.created_before;
	m->tzdata = g_strdup(tzdata);
	m->zone = g_strdup(zone);
	m->key = g_strdup(key);
	g_mutex_unlock(&memo_lock);
	return key;
}

/* Whether data has a UID calfs made for a component without one
 * ("UID:calfs-" and 32 hex digits: ictext_split). */
static gboolean made_uid(const char *data, gsize len)
{
	static const char tag[] = "\nUID:calfs-";
	const char *p = memmem(data, len, tag, strlen(tag));
	gsize n = 0;

	if (!p)
		return FALSE;
	p += strlen(tag);
	while (n < 32 && p + n < data + len && g_ascii_isxdigit(p[n]))
		n++;
	return n == 32;
}

#define MADE_UID_NOTE "UID: made by calfs from DTSTART, SUMMARY, ORGANIZER and" \
	" RECURRENCE-ID when it was imported: the export gave none"

char *render_notes(GBytes *stored)
{
	gsize len;
	const char *data = g_bytes_get_data(stored, &len);

	return data && made_uid(data, len) ? g_strdup(MADE_UID_NOTE) : NULL;
}

gboolean render_unapplied(const render_log *l)
{
	for (guint i = 0; i < l->rebases->len; i++)
		if (!((tz_fix *)l->rebases->pdata[i])->applied)
			return TRUE;
	return FALSE;
}

char *render_clean_key(const render_options *o, const render_log *l)
{
	if (render_unapplied(l) || (l->zone_consulted && !o->tz.mailbox_zone))
		return NULL;
	return render_key(o, l->zone_consulted ? o->tz.mailbox_zone : NULL);
}

static gboolean repair_or_tz_reads(const char *line, gsize len)
{
	return repair_reads(line, len) || tz_reads(line, len);
}

/* render_item's work; parsed (taken; may be NULL) is a parse of stored,
 * whole or as tz_parse parses it, and known (taken; may be NULL) the
 * times gathered from it. */
static GBytes *render(GBytes *stored, icalcomponent *parsed, tz_known *known, gboolean whole,
		      const render_options *o, render_log *log)
{
	/* the damage of real exports first: libical cannot read it */
	GBytes *mended = o->repair ? mend_text(stored, log ? log->mends : NULL)
				   : g_bytes_ref(stored);
	gsize len;
	const char *data = g_bytes_get_data(mended, &len);
	gboolean repair = o->repair && repair_may_apply(data, len);

	if (log && data && made_uid(data, len))
		g_ptr_array_add(log->notes, g_strdup(MADE_UID_NOTE));
	if (parsed && (mended != stored || (repair && !whole)))
		g_clear_pointer(&parsed, icalcomponent_free);	/* not what is read */
	if (!parsed || repair)
		g_clear_pointer(&known, tz_known_free);	/* nor of what is rebased */
	gboolean rebase = o->rebase && tz_may_apply(data, len);
	GPtrArray *fixes = NULL, *moves = NULL;
	icalcomponent *cal;
	GBytes *out, *step;

	if (!repair && !rebase) {
		if (parsed)
			icalcomponent_free(parsed);
		tz_known_free(known);
		return mended;
	}
	if (parsed) {
		cal = parsed;
	} else if (!repair) {
		/* rebasing reads a few lines: attendees and descriptions
		 * were most of a parse */
		cal = tz_parse(data, len);
	} else {
		/* attendees stay: descriptions, alarms and the rest go */
		GString *lines = ictext_select(data, len, rebase,
					       rebase ? repair_or_tz_reads : repair_reads);

		cal = icalparser_parse_string(lines->str);
		g_string_free(lines, TRUE);
	}
	if (!cal) {
		tz_known_free(known);
		return mended;
	}
	stored = mended;
	if (repair)
		fixes = repair_component(cal, o->ctx);
	if (rebase) {
		tz_options tz = o->tz;

		if (log)
			tz.zone_consulted = &log->zone_consulted;
		tz.known = known;
		moves = tz_rebase(cal, &tz);
	}
	tz_known_free(known);
	icalcomponent_free(cal);
	step = repair_apply_text(stored, fixes);
	out = tz_apply_text(step, moves);
	g_bytes_unref(step);
	g_bytes_unref(mended);
	if (log && fixes)
		move_all(fixes, log->repairs);
	if (log && moves)
		move_all(moves, log->rebases);
	if (fixes)
		g_ptr_array_unref(fixes);
	if (moves)
		g_ptr_array_unref(moves);
	return out;
}

GBytes *render_item(GBytes *stored, const render_options *o, render_log *log)
{
	return render(stored, NULL, NULL, TRUE, o, log);
}

GBytes *render_item_parsed(GBytes *stored, icalcomponent *parsed, const render_options *o,
			   render_log *log)
{
	return render(stored, parsed, NULL, TRUE, o, log);
}

GBytes *render_item_selected(GBytes *stored, icalcomponent *selected, tz_known *known,
			     const render_options *o, render_log *log)
{
	return render(stored, selected, known, FALSE, o, log);
}

/* Add line to s, after a newline when s has lines. */
static void add_line(GString *s, const char *line)
{
	if (s->len)
		g_string_append_c(s, '\n');
	g_string_append(s, line);
}

static char *describe(const render_log *l, gboolean changes_only)
{
	GString *s = g_string_new(NULL);

	for (guint i = 0; l && !changes_only && i < l->notes->len; i++)
		add_line(s, l->notes->pdata[i]);
	for (guint i = 0; l && i < l->mends->len; i++)
		add_line(s, l->mends->pdata[i]);
	for (guint i = 0; l && i < l->repairs->len; i++) {
		char *line = repair_describe(l->repairs->pdata[i]);

		add_line(s, line);
		g_free(line);
	}
	for (guint i = 0; l && i < l->rebases->len; i++) {
		tz_fix *f = l->rebases->pdata[i];

		if (!changes_only || f->applied)
			add_line(s, f->note);
	}
	return g_string_free(s, FALSE);
}

char *render_describe(const render_log *l)
{
	return describe(l, FALSE);
}

char *render_describe_changes(const render_log *l)
{
	char *s = describe(l, TRUE);

	if (!*s)
		g_clear_pointer(&s, g_free);
	return s;
}
