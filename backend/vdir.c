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

typedef struct {
	store *s;
	store_calendar *cal;
	itip sched;
	itip_stats *st;
	GError **err;		/* where a message callback leaves a store failure */
	guint *in_batch;	/* files or messages in the open batch, which
				 * may be a whole tree's */
	gboolean verbose;	/* say what each file gave */
} importer;

/* Changes are committed this many files or messages at a time. */
#define BATCH 256

/* Count one file or message into the current batch; commit it when full.
 * FALSE only when the store fails. */
static gboolean batched(importer *im, GError **err)
{
	if (++*im->in_batch < BATCH)
		return TRUE;
	*im->in_batch = 0;
	return store_batch_end(im->s, err) && store_batch_begin(im->s, err);
}

static gboolean import_file(importer *im, const char *path, GError **err)
{
	char *data = NULL, *what = NULL;
	gsize len;
	GError *e = NULL;
	GBytes *raw, *text;
	itip_stats before = *im->st;
	gboolean ok;

	im->st->files++;
	if (!g_file_get_contents(path, &data, &len, &e)) {
		log_notice("%s: skipped: %s", path, e->message);
		g_error_free(e);
		im->st->skipped++;
		return TRUE;
	}
	raw = g_bytes_new_take(data, len);
	/* a byte-order mark, Windows-1252, UTF-16: said, and journaled */
	text = item_to_utf8(raw, &what);
	if (what)
		log_notice("%s: %s", path, what);
	im->sched.note = what;
	ok = itip_process(&im->sched, text, NULL, path, err) && batched(im, err);
	im->sched.note = NULL;
	if (im->verbose)
		log_notice("%s: %u created, %u updated, %u unchanged, %u skipped", path,
			   im->st->created - before.created, im->st->updated - before.updated,
			   im->st->unchanged - before.unchanged, im->st->skipped - before.skipped);
	g_free(what);
	g_bytes_unref(text);
	g_bytes_unref(raw);
	return ok;
}

static gboolean on_message(GMimeMessage *msg, const char *where, const char *why,
			   gpointer data)
{
	importer *im = data;
	GPtrArray *parts;
	char *sender;
	gboolean ok = TRUE;

	im->st->messages++;
	if (!msg) {
		log_notice("%s: skipped: %s", where, why);
		im->st->skipped++;
		return TRUE;
	}
	parts = mail_calendar_parts(msg);
	sender = mail_sender(msg);
	for (guint i = 0; ok && i < parts->len; i++)
		ok = itip_process(&im->sched, parts->pdata[i], sender, where, im->err);
	ok = ok && batched(im, im->err);
	g_free(sender);
	g_ptr_array_unref(parts);
	return ok;
}

static gboolean import_mail(importer *im, const char *path, GError **err)
{
	GError *e = NULL;

	im->st->files++;
	im->err = err;
	if (mail_foreach(path, on_message, im, &e))
		return TRUE;
	if (err && *err) {		/* the store failed: stop */
		g_error_free(e);
		return FALSE;
	}
	log_notice("%s: skipped: %s", path, e->message);
	g_error_free(e);
	im->st->skipped++;
	return TRUE;
}

static gboolean import_meta(importer *im, const char *dir, const char *key,
			    GError **err)
{
	char *path = g_build_filename(dir, key, NULL);
	char *value = NULL;
	gboolean ok = TRUE;

	if (g_file_get_contents(path, &value, NULL, NULL)) {
		g_strchomp(value);
		ok = store_calendar_set_meta(im->s, im->cal->id, key,
					     *value ? value : NULL, err);
	}
	g_free(value);
	g_free(path);
	return ok;
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

static gboolean import_dir(importer *im, const char *path, GError **err)
{
	GError *e = NULL;
	GPtrArray *names = sorted_names(path, item_name_is_item, &e);
	gboolean ok = TRUE;

	if (!names) {
		log_notice("%s: skipped: %s", path, e->message);
		g_error_free(e);
		im->st->skipped++;
		return TRUE;
	}
	for (guint i = 0; ok && i < names->len; i++) {
		char *f = g_build_filename(path, names->pdata[i], NULL);

		ok = import_file(im, f, err);
		g_free(f);
	}
	g_ptr_array_unref(names);
	return ok && import_meta(im, path, "displayname", err) &&
	       import_meta(im, path, "color", err);
}

/* Import paths into target in a batch that holds *in_batch files or
 * messages (see batched): its own, begun once the mailbox and calendar
 * are made (and committed), when own; else the caller's, open. */
static gboolean import_batched(store *s, const char *target, char **paths,
			       gboolean verbose, itip_stats *st, guint *in_batch,
			       gboolean own, GError **err)
{
	importer im = { .s = s, .st = st, .verbose = verbose, .in_batch = in_batch };
	char *mailbox = NULL, *calendar = NULL;
	gboolean ok = TRUE;

	if (!vdir_split_target(target, &mailbox, &calendar)) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_NAME,
			    "'%s': not MAILBOX or MAILBOX/CALENDAR", target);
		return FALSE;
	}
	im.cal = open_calendar(s, mailbox, calendar ? calendar : VDIR_DEFAULT_CALENDAR,
			       TRUE, err);
	if (!im.cal) {
		ok = FALSE;
		goto out;
	}
	/* imports keep the bytes as the mail server had them: the raw view
	 * shows the damage, the read view and calfs fix repair it */
	itip_init(&im.sched, s, mailbox, im.cal, st);
	if (own && !store_batch_begin(s, err)) {
		ok = FALSE;
		goto out;
	}
	for (int i = 0; ok && paths[i]; i++) {
		const char *p = paths[i];

		if (mail_is_maildir(p) || mail_is_mbox(p) || mail_is_message(p))
			ok = import_mail(&im, p, err);
		else if (g_file_test(p, G_FILE_TEST_IS_DIR))
			ok = import_dir(&im, p, err);
		else
			ok = import_file(&im, p, err);
	}
	/* what was imported stays, even when the store failed later on */
	if (own && !store_batch_end(s, ok ? err : NULL))
		ok = FALSE;
out:
	store_calendar_free(im.cal);
	g_free(mailbox);
	g_free(calendar);
	return ok;
}

gboolean vdir_import(store *s, const conf *c, const char *target,
		     char **paths, gboolean verbose, itip_stats *st, GError **err)
{
	guint in_batch = 0;

	(void)c;
	return import_batched(s, target, paths, verbose, st, &in_batch, TRUE, err);
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
	GPtrArray *boxes = sorted_names(dir, not_hidden, err);
	gboolean ok = boxes != NULL;
	guint in_batch = 0;

	(void)c;
	/* one batch for the tree, committed every BATCH files: a batch for
	 * each calendar, with its mailbox and calendar made outside it, was
	 * four commits for a mailbox of 25 items */
	if (ok && !store_batch_begin(s, err)) {
		g_ptr_array_unref(boxes);
		return FALSE;
	}
	for (guint i = 0; ok && i < boxes->len; i++) {
		const char *mb = boxes->pdata[i];
		char *mbdir = g_build_filename(dir, mb, NULL);
		GError *why = NULL;
		GPtrArray *kids = NULL;

		if (g_file_test(mbdir, G_FILE_TEST_IS_DIR))
			kids = sorted_names(mbdir, not_hidden, &why);
		else
			log_notice("import: %s: skipped: not a directory", mbdir);
		if (why) {
			log_notice("import: skipped: %s", why->message);
			g_error_free(why);
		}
		for (guint k = 0; ok && kids && k < kids->len; k++) {
			const char *kid = kids->pdata[k];
			char *path = g_build_filename(mbdir, kid, NULL);
			char *paths[] = { path, NULL };
			gboolean calendar = g_file_test(path, G_FILE_TEST_IS_DIR) &&
					    !mail_is_maildir(path);
			char *target = calendar ? g_strdup_printf("%s/%s", mb, kid) : g_strdup(mb);

			ok = import_batched(s, target, paths, verbose, st, &in_batch, FALSE,
					    err);
			g_free(target);
			g_free(path);
		}
		if (kids)
			g_ptr_array_unref(kids);
		g_free(mbdir);
	}
	if (boxes) {
		g_ptr_array_unref(boxes);
		/* what was imported stays, even when the store failed later on */
		ok = store_batch_end(s, ok ? err : NULL) && ok;
	}
	return ok;
}
