#include "vdir.h"
#include "error.h"
#include "ingest.h"
#include "imip.h"
#include "mail.h"
#include "log.h"
#include "render.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

gboolean vdir_split_target(const char *target, char **mailbox, char **calendar)
{
	char **parts = g_strsplit(target, "/", -1);
	guint n = g_strv_length(parts);
	gboolean ok = (n == 1 || n == 2) && item_name_is_valid(parts[0]) &&
		      (n == 1 || item_name_is_valid(parts[1]));

	if (ok) {
		*mailbox = g_strdup(parts[0]);
		*calendar = n == 2 ? g_strdup(parts[1]) : NULL;
	}
	g_strfreev(parts);
	return ok;
}

static store_calendar *open_calendar(store *s, const char *mbname,
				     const char *calname, gboolean create,
				     GError **err)
{
	store_mailbox *mb;
	store_calendar *cal;
	GError *e = NULL;

	mb = store_mailbox_find(s, mbname, &e);
	if (!mb && create && g_error_matches(e, CALFS_ERROR, CALFS_ERROR_NOTFOUND)) {
		g_clear_error(&e);
		mb = store_mailbox_create(s, mbname, &e);
	}
	if (!mb) {
		g_propagate_error(err, e);
		return NULL;
	}
	cal = store_calendar_find(s, mb->id, calname, &e);
	if (!cal && create && g_error_matches(e, CALFS_ERROR, CALFS_ERROR_NOTFOUND)) {
		g_clear_error(&e);
		cal = store_calendar_create(s, mb->id, calname, &e);
	}
	if (!cal) {
		g_set_error(err, CALFS_ERROR, e->code, "%s/%s: %s", mbname,
			    calname, e->message);
		g_error_free(e);
	}
	store_mailbox_free(mb);
	return cal;
}

/* An import runs on two threads.  The reader walks the paths, reads each
 * file or message and splits its calendar objects (itip_prepare); the
 * writer, the calling thread, takes what it read in order and alone uses
 * the store and speaks: what the reader found is said by the writer, in
 * order, so that the output is what one thread would have said. */

/* What the reader hands the writer. */
typedef enum {
	UNIT_TARGET,		/* what follows goes to name, a target */
	UNIT_OBJECTS,		/* a file or message read: its objects, notes
				 * and counts */
	UNIT_META,		/* name, a vdir metadata file, has value */
} unit_kind;

typedef struct {
	unit_kind kind;
	char *name;		/* the target, the source of the objects, or
				 * the metadata key */
	char *value;		/* the metadata value (NULL: empty), or the
				 * message's sender */
	char *converted;	/* what item_to_utf8 did to a file, or NULL */
	GPtrArray *notes;	/* said before the objects are applied */
	GPtrArray *objects;	/* itip_object* */
	guint files, messages, skipped;
	gboolean batched;	/* counts as a file or message of the batch */
	gboolean report;	/* a file: say its counts when verbose */
} unit;

static unit *unit_new(unit_kind kind, const char *name)
{
	unit *u = g_new0(unit, 1);

	u->kind = kind;
	u->name = g_strdup(name);
	u->notes = g_ptr_array_new_with_free_func(g_free);
	u->objects = g_ptr_array_new_with_free_func((GDestroyNotify)itip_object_free);
	return u;
}

static void unit_free(gpointer p)
{
	unit *u = p;

	g_ptr_array_unref(u->notes);
	g_ptr_array_unref(u->objects);
	g_free(u->converted);
	g_free(u->value);
	g_free(u->name);
	g_free(u);
}

/* Units read ahead of the writer, at most this many. */
#define DEPTH 64

typedef struct {
	GMutex lock;
	GCond ready;		/* for the writer: a unit was put, or done */
	GCond room;		/* for the reader: the queue is half empty, or
				 * stop was set */
	GQueue units;		/* lock: read, not yet taken */
	gboolean stop;		/* lock: the writer gave up */
	gboolean done;		/* lock: the reader put its last unit */
	gboolean full;		/* lock: the reader waits for room */
	gboolean hungry;	/* lock: the writer waits for units */
	/* the walk, read only */
	const char *target;	/* paths go to target; NULL: a tree */
	char **paths;
	const char *dir;	/* the tree */
	GPtrArray *boxes;	/* the tree's mailboxes */
} feed;

/* Hand u to the writer; FALSE (u freed) once the writer gave up. */
static gboolean put(feed *f, unit *u)
{
	gboolean go;

	g_mutex_lock(&f->lock);
	while (f->units.length >= DEPTH && !f->stop) {
		f->full = TRUE;
		g_cond_wait(&f->room, &f->lock);
	}
	go = !f->stop;
	if (go)
		g_queue_push_tail(&f->units, u);
	/* the writer, too, is woken for a quarter of the queue, not for
	 * each unit */
	if (f->hungry && f->units.length >= DEPTH / 4) {
		f->hungry = FALSE;
		g_cond_signal(&f->ready);
	}
	g_mutex_unlock(&f->lock);
	if (!go)
		unit_free(u);
	return go;
}

/* The next unit read, or NULL when the reader has put its last. */
static unit *take(feed *f)
{
	unit *u;

	g_mutex_lock(&f->lock);
	while (!f->units.length && !f->done) {
		f->hungry = TRUE;
		g_cond_wait(&f->ready, &f->lock);
	}
	u = g_queue_pop_head(&f->units);
	/* the reader goes on when half the queue is free, not at each unit:
	 * a wake-up for each was as dear as the unit */
	if (f->full && f->units.length <= DEPTH / 2) {
		f->full = FALSE;
		g_cond_signal(&f->room);
	}
	g_mutex_unlock(&f->lock);
	return u;
}

/* A unit that only says something and counts. */
static gboolean put_note(feed *f, guint skipped, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static gboolean put_note(feed *f, guint skipped, const char *fmt, ...)
{
	unit *u = unit_new(UNIT_OBJECTS, NULL);
	va_list ap;

	va_start(ap, fmt);
	g_ptr_array_add(u->notes, g_strdup_vprintf(fmt, ap));
	va_end(ap);
	u->skipped = skipped;
	return put(f, u);
}

static gboolean read_file(feed *f, const char *path)
{
	unit *u = unit_new(UNIT_OBJECTS, path);
	char *data = NULL;
	gsize len;
	GError *e = NULL;
	GBytes *raw, *text;

	u->files = 1;
	if (!g_file_get_contents(path, &data, &len, &e)) {
		g_ptr_array_add(u->notes, g_strdup_printf("%s: skipped: %s", path, e->message));
		g_error_free(e);
		u->skipped = 1;
		return put(f, u);
	}
	raw = g_bytes_new_take(data, len);
	/* a byte-order mark, Windows-1252, UTF-16: said, and journaled */
	text = item_to_utf8(raw, &u->converted);
	if (u->converted)
		g_ptr_array_add(u->notes, g_strdup_printf("%s: %s", path, u->converted));
	g_ptr_array_add(u->objects, itip_prepare(text));
	u->batched = u->report = TRUE;
	g_bytes_unref(text);
	g_bytes_unref(raw);
	return put(f, u);
}

static gboolean read_message(GMimeMessage *msg, const char *where, const char *why,
			     gpointer data)
{
	unit *u = unit_new(UNIT_OBJECTS, where);
	GPtrArray *parts;

	u->messages = 1;
	if (!msg) {
		g_ptr_array_add(u->notes, g_strdup_printf("%s: skipped: %s", where, why));
		u->skipped = 1;
		return put(data, u);
	}
	parts = mail_calendar_parts(msg);
	u->value = mail_sender(msg);
	for (guint i = 0; i < parts->len; i++)
		g_ptr_array_add(u->objects, itip_prepare(parts->pdata[i]));
	g_ptr_array_unref(parts);
	u->batched = TRUE;
	return put(data, u);
}

static gboolean read_mail(feed *f, const char *path)
{
	unit *u = unit_new(UNIT_OBJECTS, path);
	GError *e = NULL;
	gboolean stopped;

	u->files = 1;
	if (!mail_foreach(path, read_message, f, &e)) {
		g_mutex_lock(&f->lock);
		stopped = f->stop;
		g_mutex_unlock(&f->lock);
		if (stopped) {
			g_error_free(e);
			unit_free(u);
			return FALSE;
		}
		g_ptr_array_add(u->notes, g_strdup_printf("%s: skipped: %s", path, e->message));
		u->skipped = 1;
		g_error_free(e);
	}
	return put(f, u);
}

static gboolean read_meta(feed *f, const char *dir, const char *key)
{
	char *path = g_build_filename(dir, key, NULL);
	char *value = NULL;
	gboolean go = TRUE;

	if (g_file_get_contents(path, &value, NULL, NULL)) {
		unit *u = unit_new(UNIT_META, key);

		g_strchomp(value);
		u->value = *value ? g_strdup(value) : NULL;
		go = put(f, u);
	}
	g_free(value);
	g_free(path);
	return go;
}

static gint compare_names(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in dir for which keep() holds, sorted; NULL with err set when
 * dir cannot be read.  Free with g_ptr_array_unref(). */
static GPtrArray *sorted_names(const char *dir, gboolean (*keep)(const char *name),
			       GError **err)
{
	GDir *d = g_dir_open(dir, 0, err);
	GPtrArray *names;
	const char *n;

	if (!d)
		return NULL;
	names = g_ptr_array_new_with_free_func(g_free);
	while ((n = g_dir_read_name(d)))
		if (keep(n))
			g_ptr_array_add(names, g_strdup(n));
	g_dir_close(d);
	g_ptr_array_sort(names, compare_names);
	return names;
}

static gboolean not_hidden(const char *name)
{
	return name[0] != '.';
}

static gboolean read_dir(feed *f, const char *path)
{
	GError *e = NULL;
	GPtrArray *names = sorted_names(path, item_name_is_item, &e);
	gboolean go = TRUE;

	if (!names) {
		go = put_note(f, 1, "%s: skipped: %s", path, e->message);
		g_error_free(e);
		return go;
	}
	for (guint i = 0; go && i < names->len; i++) {
		char *file = g_build_filename(path, names->pdata[i], NULL);

		go = read_file(f, file);
		g_free(file);
	}
	g_ptr_array_unref(names);
	return go && read_meta(f, path, "displayname") && read_meta(f, path, "color");
}

static gboolean read_paths(feed *f, const char *target, char **paths)
{
	gboolean go = put(f, unit_new(UNIT_TARGET, target));

	for (int i = 0; go && paths[i]; i++) {
		const char *p = paths[i];

		if (mail_is_maildir(p) || mail_is_mbox(p) || mail_is_message(p))
			go = read_mail(f, p);
		else if (g_file_test(p, G_FILE_TEST_IS_DIR))
			go = read_dir(f, p);
		else
			go = read_file(f, p);
	}
	return go;
}

/* Each DIR/MAILBOX/NAME to MAILBOX/NAME when NAME is a directory other
 * than a Maildir, else to MAILBOX. */
static void read_tree(feed *f)
{
	gboolean go = TRUE;

	for (guint i = 0; go && i < f->boxes->len; i++) {
		const char *mb = f->boxes->pdata[i];
		char *mbdir = g_build_filename(f->dir, mb, NULL);
		GError *why = NULL;
		GPtrArray *kids = NULL;

		if (g_file_test(mbdir, G_FILE_TEST_IS_DIR))
			kids = sorted_names(mbdir, not_hidden, &why);
		else
			go = put_note(f, 0, "import: %s: skipped: not a directory", mbdir);
		if (why) {
			go = put_note(f, 0, "import: skipped: %s", why->message);
			g_error_free(why);
		}
		for (guint k = 0; go && kids && k < kids->len; k++) {
			const char *kid = kids->pdata[k];
			char *path = g_build_filename(mbdir, kid, NULL);
			char *paths[] = { path, NULL };
			gboolean calendar = g_file_test(path, G_FILE_TEST_IS_DIR) &&
					    !mail_is_maildir(path);
			char *target = calendar ? g_strdup_printf("%s/%s", mb, kid) : g_strdup(mb);

			go = read_paths(f, target, paths);
			g_free(target);
			g_free(path);
		}
		if (kids)
			g_ptr_array_unref(kids);
		g_free(mbdir);
	}
}

static gpointer reader(gpointer data)
{
	feed *f = data;

	if (f->target)
		read_paths(f, f->target, f->paths);
	else
		read_tree(f);
	g_mutex_lock(&f->lock);
	f->done = TRUE;
	g_cond_signal(&f->ready);
	g_mutex_unlock(&f->lock);
	return NULL;
}

typedef struct {
	store *s;
	itip_stats *st;
	gboolean verbose;
	gboolean own;		/* a batch for the target, begun once its
				 * mailbox and calendar are made */
	gboolean begun;		/* own, and begun */
	guint in_batch;		/* files or messages in the open batch */
	itip_stats kept;	/* *st when the store last committed */
	char *mailbox;
	store_calendar *cal;	/* where the objects go */
	itip sched;
} writer;

/* Changes are committed this many files or messages at a time. */
#define BATCH 256

/* The batch's commit failed, and the store rolled it back: what it
 * stored is counted no more (what was read still is). */
static void rolled_back(writer *w)
{
	itip_stats *st = w->st;

	st->created = w->kept.created;
	st->updated = w->kept.updated;
	st->unchanged = w->kept.unchanged;
	st->replies = w->kept.replies;
	st->stale = w->kept.stale;
	st->cancelled = w->kept.cancelled;
	st->warnings = w->kept.warnings;
}

/* End the batch: commit it, or count what it stored no more. */
static gboolean batch_end(writer *w, GError **err)
{
	if (!store_batch_end(w->s, err)) {
		rolled_back(w);
		return FALSE;
	}
	w->kept = *w->st;
	return TRUE;
}

/* Count one file or message into the current batch; commit it when full.
 * FALSE only when the store fails. */
static gboolean batched(writer *w, GError **err)
{
	if (++w->in_batch < BATCH)
		return TRUE;
	w->in_batch = 0;
	return batch_end(w, err) && store_batch_begin(w->s, err);
}

static void writer_close(writer *w)
{
	g_clear_pointer(&w->cal, store_calendar_free);
	g_clear_pointer(&w->mailbox, g_free);
}

static gboolean write_target(writer *w, const char *target, GError **err)
{
	char *calendar = NULL;
	gboolean ok;

	writer_close(w);
	if (!vdir_split_target(target, &w->mailbox, &calendar)) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_NAME,
			    "'%s': not MAILBOX or MAILBOX/CALENDAR", target);
		return FALSE;
	}
	w->cal = open_calendar(w->s, w->mailbox, calendar ? calendar : VDIR_DEFAULT_CALENDAR,
			       TRUE, err);
	g_free(calendar);
	if (!w->cal)
		return FALSE;
	/* imports keep the bytes as the mail server had them: the raw view
	 * shows the damage, the read view and calfs fix repair it */
	itip_init(&w->sched, w->s, w->mailbox, w->cal, w->st);
	ok = !w->own || store_batch_begin(w->s, err);
	w->begun = w->own && ok;
	return ok;
}

static gboolean write_objects(writer *w, unit *u, GError **err)
{
	itip_stats before = *w->st;
	gboolean ok = TRUE;

	for (guint i = 0; i < u->notes->len; i++)
		log_notice("%s", (char *)u->notes->pdata[i]);
	w->st->files += u->files;
	w->st->messages += u->messages;
	w->st->skipped += u->skipped;
	w->sched.note = u->converted;
	for (guint i = 0; ok && i < u->objects->len; i++)
		ok = itip_apply(&w->sched, u->objects->pdata[i], u->value, u->name, err);
	w->sched.note = NULL;
	ok = ok && (!u->batched || batched(w, err));
	if (ok && u->report && w->verbose)
		log_notice("%s: %u created, %u updated, %u unchanged, %u skipped", u->name,
			   w->st->created - before.created, w->st->updated - before.updated,
			   w->st->unchanged - before.unchanged,
			   w->st->skipped - before.skipped);
	return ok;
}

static gboolean write_unit(writer *w, unit *u, GError **err)
{
	switch (u->kind) {
	case UNIT_TARGET:
		return write_target(w, u->name, err);
	case UNIT_META:
		return store_calendar_set_meta(w->s, w->cal->id, u->name, u->value, err);
	case UNIT_OBJECTS:
		break;
	}
	return write_objects(w, u, err);
}

/* Read f on a thread of its own and write what it reads to the store. */
static gboolean import_feed(feed *f, writer *w, GError **err)
{
	GThread *t;
	unit *u;
	gboolean ok = TRUE;

	g_mutex_init(&f->lock);
	g_cond_init(&f->ready);
	g_cond_init(&f->room);
	g_queue_init(&f->units);
	w->kept = *w->st;
	t = g_thread_new("calfs-import", reader, f);
	while (ok && (u = take(f))) {
		ok = write_unit(w, u, err);
		unit_free(u);
	}
	if (!ok) {
		g_mutex_lock(&f->lock);
		f->stop = TRUE;
		g_cond_signal(&f->room);
		g_mutex_unlock(&f->lock);
	}
	g_thread_join(t);
	g_queue_clear_full(&f->units, unit_free);
	/* what was imported stays, even when the store failed later on */
	if (w->begun && !batch_end(w, ok ? err : NULL))
		ok = FALSE;
	writer_close(w);
	g_cond_clear(&f->room);
	g_cond_clear(&f->ready);
	g_mutex_clear(&f->lock);
	return ok;
}

gboolean vdir_import(store *s, const conf *c, const char *target,
		     char **paths, gboolean verbose, itip_stats *st, GError **err)
{
	feed f = { .target = target, .paths = paths };
	writer w = { .s = s, .st = st, .verbose = verbose, .own = TRUE };

	(void)c;
	return import_feed(&f, &w, err);
}

static gboolean write_file(const char *dir, const char *name, const void *data,
			   gsize len, GError **err)
{
	char *path = g_build_filename(dir, name, NULL);
	GError *e = NULL;
	gboolean ok = g_file_set_contents(path, data, len, &e);

	if (!ok) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_IO, "%s", e->message);
		g_error_free(e);
	}
	g_free(path);
	return ok;
}

static gboolean export_calendar(store *s, const render_options *read,
				store_calendar *cal, const char *dir,
				guint *count, GError **err)
{
	render_options options = *read;
	const render_options *o = &options;
	ingest_replies replies;
	GPtrArray *items;
	gboolean ok = TRUE;

	ingest_replies_init(&replies, s, cal->mailbox_id);
	options.ctx = &replies.ctx;
	if (g_mkdir_with_parents(dir, 0755) < 0) {
		int saved = errno;

		g_set_error(err, CALFS_ERROR, CALFS_ERROR_IO, "%s: %s", dir,
			    g_strerror(saved));
		return FALSE;
	}
	if (!(items = store_item_list(s, cal->id, err)))
		return FALSE;
	for (guint i = 0; ok && i < items->len; i++) {
		store_item *li = items->pdata[i];
		store_item *it = store_item_get(s, li->id, TRUE, err);
		GBytes *out;
		gsize len;
		const void *data;

		if (!it) {
			ok = FALSE;
			break;
		}
		out = render_item(it->data, o, NULL);
		data = g_bytes_get_data(out, &len);
		ok = write_file(dir, it->name, data, len, err);
		*count += ok;
		g_bytes_unref(out);
		store_item_free(it);
	}
	g_ptr_array_unref(items);
	if (ok && cal->displayname)
		ok = write_file(dir, "displayname", cal->displayname,
				strlen(cal->displayname), err);
	if (ok && cal->color)
		ok = write_file(dir, "color", cal->color, strlen(cal->color), err);
	return ok;
}

gboolean vdir_export(store *s, const conf *c, const char *target,
		     const char *dir, guint *count, GError **err)
{
	char *mailbox = NULL, *calendar = NULL;
	store_mailbox *mb = NULL;
	GPtrArray *cals = NULL;
	render_options o;
	gboolean ok = FALSE;

	*count = 0;
	if (!vdir_split_target(target, &mailbox, &calendar)) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_NAME,
			    "'%s': not MAILBOX or MAILBOX/CALENDAR", target);
		return FALSE;
	}
	if (!(mb = store_mailbox_find(s, mailbox, err)))
		goto out;
	o = render_options_read(c, mailbox, mb->timezone);
	if (calendar) {
		store_calendar *cal = open_calendar(s, mailbox, calendar, FALSE, err);

		if (cal)
			ok = export_calendar(s, &o, cal, dir, count, err);
		store_calendar_free(cal);
		goto out;
	}
	if (!(cals = store_calendar_list(s, mb->id, err)))
		goto out;
	ok = TRUE;
	for (guint i = 0; ok && i < cals->len; i++) {
		store_calendar *cal = cals->pdata[i];
		char *sub = g_build_filename(dir, cal->name, NULL);

		ok = export_calendar(s, &o, cal, sub, count, err);
		g_free(sub);
	}
out:
	if (cals)
		g_ptr_array_unref(cals);
	store_mailbox_free(mb);
	g_free(mailbox);
	g_free(calendar);
	return ok;
}

char *vdir_export_imip(store *s, const conf *c, const char *target,
		       const char *dir, gboolean cancel, GError **err)
{
	char **parts = g_strsplit(target, "/", -1);
	store_calendar *cal = NULL;
	store_item *it = NULL;
	render_options o;
	ingest_replies replies;
	GMimeMessage *msg = NULL;
	GBytes *repaired = NULL;
	char *path = NULL;

	if (g_strv_length(parts) != 3 || !item_name_is_item(parts[2])) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_NAME,
			    "'%s': not MAILBOX/CALENDAR/ITEM.ics", target);
		goto out;
	}
	if (!(cal = open_calendar(s, parts[0], parts[1], FALSE, err)) ||
	    !(it = store_item_find(s, cal->id, parts[2], TRUE, err)))
		goto out;
	/* always the repaired item: a broken time must not stop the message */
	{
		store_mailbox *mb = store_mailbox_get(s, cal->mailbox_id, NULL);

		o = render_options_read(c, parts[0], mb ? mb->timezone : NULL);
		store_mailbox_free(mb);
	}
	o.repair = TRUE;
	ingest_replies_init(&replies, s, cal->mailbox_id);
	o.ctx = &replies.ctx;
	repaired = render_item(it->data, &o, NULL);
	msg = imip_build(repaired, cancel ? IMIP_CANCEL : IMIP_UPDATE, parts[0],
			 g_get_real_time() / G_USEC_PER_SEC, err);
	if (msg)
		path = imip_write(msg, dir, FALSE, err);
out:
	if (msg)
		g_object_unref(msg);
	if (repaired)
		g_bytes_unref(repaired);
	store_item_free(it);
	store_calendar_free(cal);
	g_strfreev(parts);
	return path;
}

gboolean vdir_import_tree(store *s, const conf *c, const char *dir, gboolean verbose,
			  itip_stats *st, GError **err)
{
	feed f = { .dir = dir };
	writer w = { .s = s, .st = st, .verbose = verbose };
	gboolean ok;

	(void)c;
	if (!(f.boxes = sorted_names(dir, not_hidden, err)))
		return FALSE;
	/* one batch for the tree, committed every BATCH files: a batch for
	 * each calendar, with its mailbox and calendar made outside it, was
	 * four commits for a mailbox of 25 items */
	ok = store_batch_begin(s, err);
	if (ok) {
		ok = import_feed(&f, &w, err);
		/* what was imported stays, even when the store failed later on */
		ok = batch_end(&w, ok ? err : NULL) && ok;
	}
	g_ptr_array_unref(f.boxes);
	return ok;
}
