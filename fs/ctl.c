#include "ctl.h"
#include "view.h"
#include "error.h"
#include "report.h"
#include "tzscan.h"

#include <string.h>

/* Refused writes kept for .calfs/errors, store-wide and per mailbox. */
#define ERRORS_KEPT 1000

static void queue_free(gpointer q)
{
	g_queue_free_full(q, g_free);
}

typedef struct {
	gint64 seq;		/* the store's last change when made */
	char *text;
} cached_report;

static void cached_report_free(gpointer p)
{
	cached_report *r = p;

	g_free(r->text);
	g_free(r);
}

struct ctl_state {
	GMutex lock;		/* guards everything below */
	GHashTable *reports;	/* kept_key() -> cached_report* */
	GHashTable *run_commands;	/* run id -> command, as of change */
	gint64 run_commands_seq;
	GQueue *errors;		/* char* lines, newest last */
	GHashTable *mailbox_errors;	/* mailbox id -> GQueue* */
	guint refused;
	gint64 events_from;	/* .calfs/events starts after this change
				 * (set before requests are served) */
};

void ctl_init(fs_ctx *fs)
{
	ctl_state *c = fs->ctl = g_new0(ctl_state, 1);

	g_mutex_init(&c->lock);
	c->reports = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
					   cached_report_free);
	c->errors = g_queue_new();
	c->mailbox_errors = g_hash_table_new_full(g_int64_hash, g_int64_equal,
						  g_free, queue_free);
}

void ctl_clear(fs_ctx *fs)
{
	ctl_state *c = fs->ctl;

	g_queue_free_full(c->errors, g_free);
	g_hash_table_destroy(c->mailbox_errors);
	g_hash_table_destroy(c->reports);
	if (c->run_commands)
		g_hash_table_unref(c->run_commands);
	g_mutex_clear(&c->lock);
	g_clear_pointer(&fs->ctl, g_free);
}

void ctl_events_from(fs_ctx *fs, gint64 seq)
{
	g_mutex_lock(&fs->ctl->lock);
	fs->ctl->events_from = seq;
	g_mutex_unlock(&fs->ctl->lock);
}

static void push(GQueue *q, const char *line)
{
	g_queue_push_tail(q, g_strdup(line));
	while (q->length > ERRORS_KEPT)
		g_free(g_queue_pop_head(q));
}

void ctl_refused(fs_ctx *fs, gint64 mailbox_id, const char *what)
{
	GDateTime *now = g_date_time_new_now_utc();
	char *stamp = g_date_time_format(now, "%Y-%m-%dT%H:%M:%SZ");
	char *line = g_strdup_printf("%s %s", stamp, what);
	GQueue *q;

	g_mutex_lock(&fs->ctl->lock);
	fs->ctl->refused++;
	push(fs->ctl->errors, line);
	if (mailbox_id) {
		q = g_hash_table_lookup(fs->ctl->mailbox_errors, &mailbox_id);
		if (!q) {
			gint64 *key = g_new(gint64, 1);

			*key = mailbox_id;
			q = g_queue_new();
			g_hash_table_insert(fs->ctl->mailbox_errors, key, q);
		}
		push(q, line);
	}
	g_mutex_unlock(&fs->ctl->lock);
	g_free(line);
	g_free(stamp);
	g_date_time_unref(now);
}

static GBytes *errors_text(fs_ctx *fs, gint64 mailbox_id)
{
	GString *s = g_string_new(NULL);
	GQueue *q;

	g_mutex_lock(&fs->ctl->lock);
	q = mailbox_id ? g_hash_table_lookup(fs->ctl->mailbox_errors, &mailbox_id)
		       : fs->ctl->errors;
	for (GList *l = q ? q->head : NULL; l; l = l->next)
		g_string_append_printf(s, "%s\n", (char *)l->data);
	g_mutex_unlock(&fs->ctl->lock);
	return g_string_free_to_bytes(s);
}

/* The reports made from the store alone are kept until it changes: a
 * grep of the mount opens every mailbox's. */

/* Where the text of what (a CTL_ file, or KEPT_REPORT) of id (a
 * mailbox, 0: the store, or CTL_ for the zone reports) is kept. */
#define KEPT_REPORT 63		/* report_text(), which status shows too */
static gint64 kept_key(unsigned what, gint64 id)
{
	return id * 64 + what;
}

/* The text kept under key when the store's last change was seq, or NULL.
 * Newly allocated. */
static char *kept_get(fs_ctx *fs, gint64 key, gint64 seq)
{
	cached_report *r;
	char *text;

	g_mutex_lock(&fs->ctl->lock);
	r = g_hash_table_lookup(fs->ctl->reports, &key);
	text = r && r->seq == seq ? g_strdup(r->text) : NULL;
	g_mutex_unlock(&fs->ctl->lock);
	return text;
}

/* Keep a copy of text under key, made when the last change was seq. */
static void kept_put(fs_ctx *fs, gint64 key, gint64 seq, const char *text)
{
	cached_report *r = g_new0(cached_report, 1);
	gint64 *k = g_new(gint64, 1);

	r->seq = seq;
	r->text = g_strdup(text);
	*k = key;
	g_mutex_lock(&fs->ctl->lock);
	g_hash_table_replace(fs->ctl->reports, k, r);
	g_mutex_unlock(&fs->ctl->lock);
}

typedef char *(*make_fn)(fs_ctx *fs, gint64 id, GError **err);

/* The text of what of id, kept or made by make.  Newly allocated. */
static char *kept(fs_ctx *fs, unsigned what, gint64 id, make_fn make, GError **err)
{
	gint64 seq = store_last_change(fs->store, err), key = kept_key(what, id);
	char *text;

	if (seq < 0)
		return NULL;
	if ((text = kept_get(fs, key, seq)))
		return text;
	if ((text = make(fs, id, err)))
		kept_put(fs, key, seq, text);
	return text;
}

static GBytes *kept_bytes(fs_ctx *fs, unsigned what, gint64 id, make_fn make, GError **err)
{
	char *t = kept(fs, what, id, make, err);

	return t ? g_bytes_new_take(t, strlen(t)) : NULL;
}

/* The track-status report of mailbox_id (0: all). */
static char *make_report_text(fs_ctx *fs, gint64 mailbox_id, GError **err)
{
	return report_text(fs->store, fs->conf, mailbox_id, err);
}

static char *make_mailbox_report(fs_ctx *fs, gint64 mailbox_id, GError **err)
{
	store_mailbox *mb = store_mailbox_get(fs->store, mailbox_id, err);
	GPtrArray *cals;
	char *text;
	GString *s;

	if (!mb)
		return NULL;
	if (!(cals = store_calendar_list(fs->store, mailbox_id, err)) ||
	    !(text = kept(fs, KEPT_REPORT, mailbox_id, make_report_text, err))) {
		if (cals)
			g_ptr_array_unref(cals);
		store_mailbox_free(mb);
		return NULL;
	}
	s = g_string_new(NULL);
	g_string_append_printf(s, "mailbox: %s\n", mb->name);
	g_string_append_printf(s, "calendars: %u\n", cals->len);
	g_string_append(s, text);
	g_free(text);
	g_ptr_array_unref(cals);
	store_mailbox_free(mb);
	return g_string_free(s, FALSE);
}

/* The time-zone extraction of every mailbox, made again only when the
 * store changed since; which part: CTL_TIMEZONES, _CONFLICTS or
 * _NONEXISTENT (all three are kept at once).  Newly allocated. */
static char *zones_text(fs_ctx *fs, unsigned which, GError **err)
{
	gint64 seq = store_last_change(fs->store, err);
	GPtrArray *scans;
	char *text = NULL;

	if (seq < 0)
		return NULL;
	if ((text = kept_get(fs, kept_key(which, 0), seq)))
		return text;
	if (!(scans = tzscan_all(fs->store, fs->conf, err)))
		return NULL;
	for (unsigned w = CTL_TIMEZONES; w <= CTL_NONEXISTENT; w++) {
		char *t = w == CTL_TIMEZONES ? tzscan_format_tsv(scans)
			: w == CTL_CONFLICTS ? tzscan_format_conflicts(scans)
					     : tzscan_format_nonexistent(scans);

		kept_put(fs, kept_key(w, 0), seq, t);
		if (w == which)
			text = t;
		else
			g_free(t);
	}
	g_ptr_array_unref(scans);
	return text;
}

static GBytes *mailbox_zone(fs_ctx *fs, gint64 mailbox_id, GError **err)
{
	store_mailbox *mb = store_mailbox_get(fs->store, mailbox_id, err);
	const conf_mailbox *cm;
	const char *z;
	GBytes *b;

	if (!mb)
		return NULL;
	cm = conf_mailbox_get(fs->conf, mb->name);
	z = cm && cm->timezone ? cm->timezone : mb->timezone;
	b = z ? g_bytes_new_take(g_strconcat(z, "\n", NULL), strlen(z) + 1)
	      : g_bytes_new(NULL, 0);
	store_mailbox_free(mb);
	return b;
}

static char *stamp_ns(gint64 ns)
{
	GDateTime *dt = g_date_time_new_from_unix_utc(ns / 1000000000);
	char *s = g_date_time_format(dt, "%Y-%m-%dT%H:%M:%SZ");

	g_date_time_unref(dt);
	return s;
}

/* "mailbox/calendar/name", or what is known of it. */
static char *place(fs_ctx *fs, gint64 calendar_id, const char *name)
{
	calinfo *ci = calendar_id ? view_calinfo(fs, calendar_id, NULL) : NULL;
	char *p = ci ? g_strdup_printf("%s/%s/%s", ci->mailbox, ci->calendar, name ? name : "")
		     : g_strdup_printf("calendar %" G_GINT64_FORMAT "/%s", calendar_id,
				       name ? name : "");

	view_calinfo_free(ci);
	return p;
}

static const char *change_kind(store_change_kind k)
{
	switch (k) {
	case STORE_CHANGE_ITEM_CREATE:
		return "create";
	case STORE_CHANGE_ITEM_UPDATE:
		return "update";
	case STORE_CHANGE_ITEM_DELETE:
		return "delete";
	case STORE_CHANGE_ITEM_RENAME:
		return "rename";
	case STORE_CHANGE_CALENDAR:
		return "calendar";
	case STORE_CHANGE_MAILBOX:
		return "mailbox";
	}
	return "change";
}

/* The change log from fs->ctl->events_from on, one change a line: it only ever
 * grows while mounted, so tail -f follows it. */
static GBytes *events_text(fs_ctx *fs, GError **err)
{
	GPtrArray *ch = store_changes_since(fs->store, fs->ctl->events_from, 100000, err);
	GString *s;

	if (!ch)
		return NULL;
	s = g_string_new(NULL);
	for (guint i = 0; i < ch->len; i++) {
		store_change *c = ch->pdata[i];
		char *when = stamp_ns(c->time_ns), *what;

		if (c->kind == STORE_CHANGE_MAILBOX)
			what = g_strdup(c->name ? c->name : c->old_name ? c->old_name : "");
		else if (c->kind == STORE_CHANGE_CALENDAR)
			what = place(fs, c->calendar_id, NULL);
		else
			what = place(fs, c->calendar_id, c->name);
		g_string_append_printf(s, "%s %" G_GINT64_FORMAT " %s %s", when, c->seq,
				       change_kind(c->kind), what);
		if (c->kind == STORE_CHANGE_ITEM_RENAME) {
			char *from = place(fs, c->old_calendar_id, c->old_name);

			g_string_append_printf(s, " from %s", from);
			g_free(from);
		}
		g_string_append_printf(s, " (%s)\n", c->origin);
		g_free(when);
		g_free(what);
	}
	g_ptr_array_unref(ch);
	return g_string_free_to_bytes(s);
}

static gint by_id(gconstpointer a, gconstpointer b)
{
	const store_journal_entry *x = *(store_journal_entry *const *)a;
	const store_journal_entry *y = *(store_journal_entry *const *)b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* The command of every run (run id -> text), made again only after the
 * store changed: the list counts each run's changes over the whole
 * journal, 15 ms at 50,000 items, and every mailbox's log needs it.  A
 * new reference, or NULL with err set. */
static GHashTable *run_commands(fs_ctx *fs, GError **err)
{
	gint64 seq = store_last_change(fs->store, err);
	GHashTable *commands = NULL;
	GPtrArray *runs;

	if (seq < 0)
		return NULL;
	g_mutex_lock(&fs->ctl->lock);
	if (fs->ctl->run_commands && fs->ctl->run_commands_seq == seq)
		commands = g_hash_table_ref(fs->ctl->run_commands);
	g_mutex_unlock(&fs->ctl->lock);
	if (commands)
		return commands;
	if (!(runs = store_runs_list(fs->store, err)))
		return NULL;
	commands = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
	for (guint i = 0; i < runs->len; i++) {
		store_run *r = runs->pdata[i];

		g_hash_table_insert(commands, g_memdup2(&r->id, sizeof(r->id)),
				    g_strdup(r->command));
	}
	g_ptr_array_unref(runs);
	g_mutex_lock(&fs->ctl->lock);
	if (fs->ctl->run_commands)
		g_hash_table_unref(fs->ctl->run_commands);
	fs->ctl->run_commands = g_hash_table_ref(commands);
	fs->ctl->run_commands_seq = seq;
	g_mutex_unlock(&fs->ctl->lock);
	return commands;
}

/* A mailbox's journal: what each run changed in it, oldest first. */
static char *make_log(fs_ctx *fs, gint64 mailbox_id, GError **err)
{
	GPtrArray *cals = store_calendar_list(fs->store, mailbox_id, err), *all;
	GHashTable *commands;
	GString *s;

	if (!cals || !(commands = run_commands(fs, err))) {
		if (cals)
			g_ptr_array_unref(cals);
		return NULL;
	}
	all = g_ptr_array_new_with_free_func((GDestroyNotify)store_journal_entry_free);
	for (guint i = 0; i < cals->len; i++) {
		GPtrArray *j = store_journal_list(fs->store, 0, ((store_calendar *)cals->pdata[i])->id,
						  1000, NULL);

		for (guint k = 0; j && k < j->len; k++)
			g_ptr_array_add(all, g_steal_pointer(&j->pdata[k]));
		if (j)
			g_ptr_array_unref(j);
	}
	g_ptr_array_sort(all, by_id);
	s = g_string_new(NULL);
	for (guint i = all->len > 1000 ? all->len - 1000 : 0; i < all->len; i++) {
		store_journal_entry *e = all->pdata[i];
		char *when = stamp_ns(e->time_ns), *what = place(fs, e->calendar_id, e->name);
		const char *cmd = g_hash_table_lookup(commands, &e->run_id);

		g_string_append_printf(s, "%s run %" G_GINT64_FORMAT " (%s): %s %s", when,
				       e->run_id, cmd ? cmd : "?", e->op, what);
		/* what the write repaired, in the words of user.calfs.fixes */
		if (e->note) {
			char **lines = g_strsplit(e->note, "\n", -1);
			char *note = g_strjoinv("; ", lines);

			g_string_append_printf(s, ": repaired: %s", note);
			g_free(note);
			g_strfreev(lines);
		}
		g_string_append_c(s, '\n');
		g_free(when);
		g_free(what);
	}
	g_ptr_array_unref(all);
	g_hash_table_unref(commands);
	g_ptr_array_unref(cals);
	return g_string_free(s, FALSE);
}

static const char *yes(gboolean b)
{
	return b ? "true" : "false";
}

static GBytes *status_text(fs_ctx *fs, GError **err)
{
	store_stats st;
	GString *s;
	guint refused;
	char *report;

	if (!store_stats_get(fs->store, &st, err) ||
	    !(report = kept(fs, KEPT_REPORT, 0, make_report_text, err)))
		return NULL;
	g_mutex_lock(&fs->ctl->lock);
	refused = fs->ctl->refused;
	g_mutex_unlock(&fs->ctl->lock);
	s = g_string_new(NULL);
	g_string_append_printf(s, "store: %s\n", store_describe(fs->store));
	g_string_append_printf(s, "config: %s\n",
			       fs->conf->file ? fs->conf->file : "(defaults)");
	g_string_append_printf(s,
		"policy: repair_on_read=%s repair_on_write=%s rebase=%s"
		" recurring_only=%s report_only=%s\n",
		yes(fs->conf->repair_on_read), yes(fs->conf->repair_on_write),
		yes(fs->conf->rebase), yes(fs->conf->recurring_only),
		yes(fs->conf->report_only));
	g_string_append_printf(s, "mailboxes: %" G_GINT64_FORMAT "\n", st.mailboxes);
	g_string_append_printf(s, "calendars: %" G_GINT64_FORMAT "\n", st.calendars);
	g_string_append_printf(s, "items: %" G_GINT64_FORMAT "\n", st.items);
	g_string_append_printf(s, "stored bytes: %" G_GINT64_FORMAT "\n", st.bytes);
	g_string_append_printf(s, "journal entries: %" G_GINT64_FORMAT "\n",
			       st.journal_entries);
	g_string_append_printf(s, "journal runs: %" G_GINT64_FORMAT "\n", st.runs);
	g_string_append_printf(s, "last change: %" G_GINT64_FORMAT "\n",
			       st.last_change);
	g_string_append_printf(s, "refused writes: %u\n", refused);
	g_string_append(s, report);
	g_free(report);
	return g_string_free_to_bytes(s);
}

GBytes *ctl_content(fs_ctx *fs, fuse_ino_t ino, GError **err)
{
	switch (ino_sub(ino)) {
	case CTL_STATUS:
		return status_text(fs, err);
	case CTL_ERRORS:
		return errors_text(fs, ino_id(ino));
	case CTL_REPORT:
		return kept_bytes(fs, CTL_REPORT, ino_id(ino), make_mailbox_report, err);
	case CTL_TIMEZONE:
		return mailbox_zone(fs, ino_id(ino), err);
	case CTL_EVENTS:
		return events_text(fs, err);
	case CTL_LOG:
		return kept_bytes(fs, CTL_LOG, ino_id(ino), make_log, err);
	case CTL_TIMEZONES:
	case CTL_CONFLICTS:
	case CTL_NONEXISTENT: {
		char *t = zones_text(fs, ino_sub(ino), err);

		return t ? g_bytes_new_take(t, strlen(t)) : NULL;
	}
	}
	g_set_error(err, CALFS_ERROR, CALFS_ERROR_UNSUPPORTED, "not a file");
	return NULL;
}
