/* cmd_fix.c - calfs fix, calfs undo, calfs journal */
#include "cmd.h"
#include "fix.h"
#include "undo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
	gboolean tty;		/* draw a progress bar on standard error */
	gboolean list;		/* print the items that change */
	gint64 started;		/* monotonic, microseconds */
	gint64 last_draw;
} progress;

static double rate(const fix_stats *st, gint64 started)
{
	double secs = (g_get_monotonic_time() - started) / 1e6;

	return secs > 0 ? st->items_done / secs : 0;
}

static void on_progress(const fix_stats *st, gpointer data)
{
	progress *p = data;
	gint64 now = g_get_monotonic_time();
	double r;
	gint64 left;

	if (!p->tty || (now - p->last_draw < 100000 && st->items_done < st->items_total))
		return;
	p->last_draw = now;
	r = rate(st, p->started);
	left = r > 0 ? (gint64)((st->items_total - st->items_done) / r) : 0;
	fprintf(stderr, "\rcalfs fix: %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT
		" items (%d%%), %" G_GINT64_FORMAT " changed, %.0f items/s, ETA %"
		G_GINT64_FORMAT ":%02d  ", st->items_done, st->items_total,
		st->items_total ? (int)(100 * st->items_done / st->items_total) : 100,
		st->items_changed, r, left / 60, (int)(left % 60));
	fflush(stderr);
}

static void on_changed(const char *path, const char *what, gpointer data)
{
	progress *p = data;
	char **lines;

	if (!p->list)
		return;
	lines = g_strsplit(what, "\n", -1);
	for (int i = 0; lines[i]; i++)
		printf("%s\t%s\n", path, lines[i]);
	g_strfreev(lines);
}

/* Mailbox names, one a line, from path ("-": standard input). */
static gboolean read_names(const char *path, GPtrArray *names)
{
	char *text = NULL;
	char **lines;
	GError *e = NULL;

	if (!strcmp(path, "-")) {
		GString *s = g_string_new(NULL);
		char buf[4096];
		size_t n;

		while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0)
			g_string_append_len(s, buf, n);
		text = g_string_free(s, FALSE);
	} else if (!g_file_get_contents(path, &text, NULL, &e)) {
		fprintf(stderr, "calfs: fix: %s\n", e->message);
		g_error_free(e);
		return FALSE;
	}
	lines = g_strsplit(text, "\n", -1);
	for (int i = 0; lines[i]; i++) {
		char *name = g_strstrip(lines[i]);

		/* a failed-list line is "MAILBOX<TAB>why" */
		if (strchr(name, '\t'))
			*strchr(name, '\t') = '\0';
		if (*name && *name != '#')
			g_ptr_array_add(names, g_strdup(name));
	}
	g_strfreev(lines);
	g_free(text);
	return TRUE;
}

static int report_failed(const conf *c, const fix_stats *st, const char *failed_file)
{
	char *path;
	GString *s;
	GError *e = NULL;

	if (!st->failed->len)
		return 0;
	path = failed_file ? g_strdup(failed_file) : conf_failed_file(c);
	s = g_string_new(NULL);
	for (guint i = 0; i < st->failed->len; i++)
		g_string_append_printf(s, "%s\n", (char *)st->failed->pdata[i]);
	if (!g_file_set_contents(path, s->str, s->len, &e)) {
		fprintf(stderr, "calfs: fix: %s\n", e->message);
		g_error_free(e);
	}
	fprintf(stderr, "calfs: fix: %u mailboxes failed, listed in %s; to run them again:\n"
		"  calfs fix --mailbox-file %s\n", st->failed->len, path, path);
	g_string_free(s, TRUE);
	g_free(path);
	return 1;
}

int cmd_fix(const cmd_globals *g, int argc, char **argv)
{
	gboolean dry = FALSE, verbose = FALSE;
	char **mailboxes = NULL, *mailbox_file = NULL, *calendar = NULL, *only = NULL;
	char *failed_file = NULL, *command;
	int jobs = (int)g_get_num_processors();
	GOptionEntry entries[] = {
		{ "dry-run", 'n', 0, G_OPTION_ARG_NONE, &dry,
		  "report what would change (one line per change), change nothing", NULL },
		{ "mailbox", 'm', 0, G_OPTION_ARG_STRING_ARRAY, &mailboxes,
		  "only this mailbox (repeat for more)", "MAILBOX" },
		{ "mailbox-file", 0, 0, G_OPTION_ARG_FILENAME, &mailbox_file,
		  "only the mailboxes listed in FILE (- for standard input)", "FILE" },
		{ "calendar", 0, 0, G_OPTION_ARG_STRING, &calendar,
		  "only calendars of this name", "NAME" },
		{ "only", 0, 0, G_OPTION_ARG_STRING, &only,
		  "only track-status repair or only DST rebasing", "trackstatus|rebase" },
		{ "jobs", 'j', 0, G_OPTION_ARG_INT, &jobs, "mailboxes fixed at once", "N" },
		{ "failed", 0, 0, G_OPTION_ARG_FILENAME, &failed_file,
		  "list failed mailboxes in FILE (default: the store's path + .failed)", "FILE" },
		{ "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose,
		  "print each change made", NULL },
		{ NULL, 0, 0, 0, NULL, NULL, NULL }
	};
	progress p = { .tty = isatty(STDERR_FILENO) };
	/* a progress bar only on a terminal: its count of the items is
	 * a tenth of a run */
	fix_options o = { .repair = TRUE, .rebase = TRUE,
			  .progress = p.tty ? on_progress : NULL,
			  .changed = on_changed, .data = &p };
	GPtrArray *names = NULL;
	fix_stats st = { 0 };
	GError *err = NULL;
	conf *c = NULL;
	store *s = NULL;
	int rc = 2;

	if (!cmd_parse(&argc, &argv, "",
		       "Persist what the read view repairs and rebases: every item\n"
		       "whose rendering differs from its stored bytes is stored so,\n"
		       "journaled under one journal run (calfs undo RUN puts it back).\n"
		       "Mailboxes are fixed in parallel.  Interrupted, every item is\n"
		       "either old or new, and running it again finishes the work.", entries))
		goto out;
	if (argc != 1 || (only && strcmp(only, "trackstatus") && strcmp(only, "rebase")) ||
	    jobs < 1) {
		fprintf(stderr, "calfs fix: bad arguments (see calfs fix --help)\n");
		goto out;
	}
	if (only) {
		o.repair = !strcmp(only, "trackstatus");
		o.rebase = !strcmp(only, "rebase");
	}
	o.dry_run = dry;
	o.jobs = jobs;
	o.calendar = calendar;
	p.list = dry || verbose;
	if (mailboxes || mailbox_file) {
		names = g_ptr_array_new_with_free_func(g_free);
		for (int i = 0; mailboxes && mailboxes[i]; i++)
			g_ptr_array_add(names, g_strdup(mailboxes[i]));
		if (mailbox_file && !read_names(mailbox_file, names)) {
			rc = 1;
			goto out;
		}
		g_ptr_array_add(names, NULL);
		o.mailboxes = (char **)names->pdata;
	}
	rc = 1;
	if (!(c = cmd_load_conf(g)) || !(s = cmd_open_store(c, "fix", STORE_EXISTING)))
		goto out;
	command = g_strdup_printf("fix%s%s%s%s", dry ? " --dry-run" : "",
				  only ? " --only " : "", only ? only : "",
				  names ? " (some mailboxes)" : "");
	if (!dry)
		store_run_begin(s, command);
	g_free(command);
	p.started = g_get_monotonic_time();
	if (!fix_run(s, c, &o, &st, &err))
		goto fail;
	if (p.tty)
		fputs("\n", stderr);
	fprintf(stderr, "calfs: fix: %s%" G_GINT64_FORMAT " items in %u mailboxes: %"
		G_GINT64_FORMAT " %s (%" G_GINT64_FORMAT " repairs, %" G_GINT64_FORMAT
		" rebases), %" G_GINT64_FORMAT " conflicts left alone; %.0f items/s, %.1fs\n",
		dry ? "dry run: " : "", st.items_done, st.mailboxes_done, st.items_changed,
		dry ? "would change" : "changed", st.repairs, st.rebases, st.conflicts,
		rate(&st, p.started), (g_get_monotonic_time() - p.started) / 1e6);
	rc = report_failed(c, &st, failed_file);
	goto out;
fail:
	fprintf(stderr, "calfs: fix: %s\n", err->message);
	g_error_free(err);
out:
	fix_stats_clear(&st);
	if (names)
		g_ptr_array_unref(names);
	store_close(s);
	conf_free(c);
	g_strfreev(mailboxes);
	g_free(mailbox_file);
	g_free(calendar);
	g_free(only);
	g_free(failed_file);
	return rc;
}

int cmd_undo(const cmd_globals *g, int argc, char **argv)
{
	undo_stats st = { 0 };
	GError *err = NULL;
	char *end, *command;
	gboolean force = FALSE;
	GOptionEntry entries[] = {
		{ "force", 'f', 0, G_OPTION_ARG_NONE, &force,
		  "undo even what later runs changed again", NULL },
		{ NULL, 0, 0, 0, NULL, NULL, NULL }
	};
	gint64 id;
	conf *c = NULL;
	store *s = NULL;
	int rc = 1;

	if (!cmd_parse(&argc, &argv, "RUN",
		       "Put back every item that journal run RUN changed (see calfs\n"
		       "journal): exactly its previous bytes, deleted items included.\n"
		       "When a later run changed one of those items again, nothing is\n"
		       "done and each such item is named: undoing would clobber that\n"
		       "work (--force does it anyway).  The undo is a journal run of\n"
		       "its own.", entries))
		return 2;
	if (argc != 2 || (id = g_ascii_strtoll(argv[1], &end, 10)) <= 0 || *end) {
		fprintf(stderr, "calfs undo: one journal run number needed\n");
		return 2;
	}
	if (!(c = cmd_load_conf(g)) || !(s = cmd_open_store(c, "undo", STORE_EXISTING)))
		goto out;
	command = g_strdup_printf("undo%s %" G_GINT64_FORMAT, force ? " --force" : "", id);
	store_run_begin(s, command);
	if (undo_run(s, id, force, &st, &err)) {
		for (guint i = 0; i < st.later->len; i++)
			fprintf(stderr, "calfs: undo: clobbered %s\n", (char *)st.later->pdata[i]);
		for (guint i = 0; i < st.skipped->len; i++)
			fprintf(stderr, "calfs: undo: skipped %s\n", (char *)st.skipped->pdata[i]);
		printf("calfs: undo: run %" G_GINT64_FORMAT ": %u of %u changes undone\n", id,
		       st.undone, st.entries);
		rc = st.skipped->len ? 1 : 0;
	} else {
		for (guint i = 0; i < st.later->len; i++)
			fprintf(stderr, "calfs: undo: %s\n", (char *)st.later->pdata[i]);
		fprintf(stderr, "calfs: undo: %s\n", err->message);
		g_error_free(err);
	}
	g_free(command);
out:
	undo_stats_clear(&st);
	store_close(s);
	conf_free(c);
	return rc;
}

static char *utc_text(gint64 ns)
{
	GDateTime *dt = g_date_time_new_from_unix_utc(ns / 1000000000);
	char *when = g_date_time_format(dt, "%Y-%m-%dT%H:%M:%SZ");

	g_date_time_unref(dt);
	return when;
}

/* "MAILBOX/CALENDAR" of a calendar, from cache (id -> text). */
static const char *calendar_path(store *s, GHashTable *cache, gint64 id)
{
	char *path = g_hash_table_lookup(cache, &id);
	store_calendar *cal;
	store_mailbox *mb;

	if (path)
		return path;
	cal = store_calendar_get(s, id, NULL);
	mb = cal ? store_mailbox_get(s, cal->mailbox_id, NULL) : NULL;
	path = g_strdup_printf("%s/%s", mb ? mb->name : "?", cal ? cal->name : "?");
	g_hash_table_insert(cache, g_memdup2(&id, sizeof(id)), path);
	store_mailbox_free(mb);
	store_calendar_free(cal);
	return path;
}

/* The entries of one run, oldest first, with what each write repaired. */
static int journal_entries(store *s, gint64 run)
{
	GError *err = NULL;
	GPtrArray *entries = store_journal_list(s, run, 0, G_MAXINT, &err);
	GHashTable *cache = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);

	if (!entries) {
		fprintf(stderr, "calfs: journal: %s\n", err->message);
		g_error_free(err);
		g_hash_table_destroy(cache);
		return 1;
	}
	printf("time\top\titem\trepaired\n");
	for (guint i = entries->len; i-- > 0;) {
		store_journal_entry *e = entries->pdata[i];
		char *when = utc_text(e->time_ns);
		char **lines = g_strsplit(e->note ? e->note : "", "\n", -1);
		char *note = g_strjoinv("; ", lines);

		printf("%s\t%s\t%s/%s\t%s\n", when, e->op,
		       calendar_path(s, cache, e->calendar_id), e->name ? e->name : "?", note);
		g_free(note);
		g_strfreev(lines);
		g_free(when);
	}
	g_ptr_array_unref(entries);
	g_hash_table_destroy(cache);
	return 0;
}

int cmd_journal(const cmd_globals *g, int argc, char **argv)
{
	GError *err = NULL;
	GPtrArray *runs;
	conf *c = NULL;
	store *s = NULL;
	gint64 run = 0;
	char *end;
	int rc = 1;

	if (!cmd_parse(&argc, &argv, "[RUN]",
		       "List the journal runs, newest first: run number, when it\n"
		       "started, how many items it created, updated, deleted and\n"
		       "renamed, and the command.  With RUN, that run's changes,\n"
		       "oldest first, each with what the write repaired (in the words\n"
		       "of user.calfs.fixes).  calfs undo RUN puts a run back.", NULL))
		return 2;
	if (argc > 2 || (argc == 2 && ((run = g_ascii_strtoll(argv[1], &end, 10)) <= 0 || *end))) {
		fprintf(stderr, "calfs journal: at most one run number\n");
		return 2;
	}
	if (!(c = cmd_load_conf(g)) || !(s = cmd_open_store(c, "journal", STORE_EXISTING)))
		goto out;
	if (run) {
		rc = journal_entries(s, run);
		goto out;
	}
	if (!(runs = store_runs_list(s, &err))) {
		fprintf(stderr, "calfs: journal: %s\n", err->message);
		g_error_free(err);
		goto out;
	}
	printf("run\tstarted\tcreated\tupdated\tdeleted\trenamed\tother\tcommand\n");
	for (guint i = 0; i < runs->len; i++) {
		store_run *r = runs->pdata[i];
		char *when = utc_text(r->started_ns);

		if (r->entries)
			printf("%" G_GINT64_FORMAT "\t%s\t%" G_GINT64_FORMAT "\t%" G_GINT64_FORMAT
			       "\t%" G_GINT64_FORMAT "\t%" G_GINT64_FORMAT "\t%" G_GINT64_FORMAT "\t%s\n",
			       r->id, when, r->creates, r->updates, r->deletes, r->renames,
			       r->others, r->command);
		g_free(when);
	}
	g_ptr_array_unref(runs);
	rc = 0;
out:
	store_close(s);
	conf_free(c);
	return rc;
}
