#include "notify.h"
#include "view.h"
#include "log.h"
#include "tzinfo.h"

#include <errno.h>
#include <string.h>

/* How often the change log is read when nothing kicks the notifier. */
#define POLL_MS 200
/* How often tzdata's version is looked at, in polls (2 s). */
#define TZDATA_POLLS 10

struct notifier {
	fs_ctx *fs;
	GThread *thread;
	GAsyncQueue *queue;	/* msg* */
	gint64 last_seq;
	gint64 warned_us;	/* when a failed read of the change log was
				 * last said (monotonic) */
	gboolean stop;
	guint polls;		/* since tzdata was last looked at */
};

typedef enum { MSG_KICK, MSG_ENTRY, MSG_ATTR, MSG_MAILBOX, MSG_STOP } msg_kind;

typedef struct {
	msg_kind kind;
	fuse_ino_t parent;	/* MSG_ENTRY; the inode for MSG_ATTR; the
				 * mailbox id for MSG_MAILBOX */
	char *name;
} msg;

static void msg_free(msg *m)
{
	g_free(m->name);
	g_free(m);
}

static void post(notifier *n, msg_kind kind, fuse_ino_t parent, const char *name)
{
	msg *m = g_new0(msg, 1);

	m->kind = kind;
	m->parent = parent;
	m->name = g_strdup(name);
	g_async_queue_push(n->queue, m);
}

void notify_kick(notifier *n)
{
	if (n)
		post(n, MSG_KICK, 0, NULL);
}

void notify_inval_entry(notifier *n, fuse_ino_t parent, const char *name)
{
	if (n)
		post(n, MSG_ENTRY, parent, name);
}

void notify_inval_attr(notifier *n, fuse_ino_t ino)
{
	if (n)
		post(n, MSG_ATTR, ino, NULL);
}

void notify_mailbox_items(notifier *n, gint64 mailbox_id)
{
	if (n)
		post(n, MSG_MAILBOX, (fuse_ino_t)mailbox_id, NULL);
}

/* The kernel answers ENOENT for what it does not cache: not an error. */
static void check(int rc, const char *what)
{
	if (rc && rc != -ENOENT && rc != -ENOTCONN)
		log_debug("notify %s: %s", what, g_strerror(-rc));
}

static void entry(notifier *n, fuse_ino_t parent, const char *name)
{
	if (name)
		check(fuse_lowlevel_notify_inval_entry(n->fs->se, parent, name,
						       strlen(name)), "entry");
}

/* The kernel's attributes of ino, and its pages from off on (-1: none).
 * Whether or not the kernel had ino, no reply to a request sent before
 * can now reach it (view_invalidated). */
static void inode(notifier *n, fuse_ino_t ino, off_t off)
{
	check(fuse_lowlevel_notify_inval_inode(n->fs->se, ino, off, 0), "inode");
	view_invalidated(n->fs, ino);
}

static void deleted(notifier *n, fuse_ino_t parent, fuse_ino_t child,
		    const char *name)
{
	if (name)
		check(fuse_lowlevel_notify_delete(n->fs->se, parent, child, name,
						  strlen(name)), "delete");
}

static void item_change(notifier *n, const store_change *c)
{
	fuse_ino_t cal = ino_make(INO_CALENDAR, 0, c->calendar_id);
	fuse_ino_t raw_cal = ino_make(INO_RAW, RAW_CALENDAR, c->calendar_id);
	fuse_ino_t item = ino_make(INO_ITEM, 0, c->item_id);
	fuse_ino_t raw_item = ino_make(INO_RAW, RAW_ITEM, c->item_id);

	/* New names need nothing: the kernel caches no negative entries
	 * (ops_dir.c), and invalidating the name could hit a dentry a
	 * client has just looked up, which a later notify_delete would then
	 * not find. */
	view_forget_render(n->fs, c->item_id);
	switch (c->kind) {
	case STORE_CHANGE_ITEM_CREATE:
		break;
	case STORE_CHANGE_ITEM_UPDATE:
		inode(n, item, 0);
		inode(n, raw_item, 0);
		break;
	case STORE_CHANGE_ITEM_DELETE:
		deleted(n, cal, item, c->name);
		deleted(n, raw_cal, raw_item, c->name);
		break;
	case STORE_CHANGE_ITEM_RENAME: {
		fuse_ino_t old = ino_make(INO_CALENDAR, 0, c->old_calendar_id);
		fuse_ino_t raw_old = ino_make(INO_RAW, RAW_CALENDAR, c->old_calendar_id);

		deleted(n, old, item, c->old_name);
		deleted(n, raw_old, raw_item, c->old_name);
		inode(n, item, -1);
		inode(n, old, -1);
		break;
	}
	default:
		break;
	}
	inode(n, cal, 0);
	inode(n, raw_cal, 0);
}

static void mailbox_items(notifier *n, gint64 mailbox_id)
{
	GPtrArray *cals = store_calendar_list(n->fs->store, mailbox_id, NULL);

	for (guint i = 0; cals && i < cals->len; i++) {
		store_calendar *cal = cals->pdata[i];
		GPtrArray *items = store_item_list(n->fs->store, cal->id, NULL);

		for (guint k = 0; items && k < items->len; k++) {
			store_item *it = items->pdata[k];

			inode(n, ino_make(INO_ITEM, 0, it->id), 0);
			inode(n, ino_make(INO_RAW, RAW_ITEM, it->id), 0);
		}
		if (items)
			g_ptr_array_unref(items);
	}
	if (cals)
		g_ptr_array_unref(cals);
}

static void dir_change(notifier *n, const store_change *c)
{
	fuse_ino_t parent, raw_parent, child, raw_child;

	if (c->kind == STORE_CHANGE_CALENDAR) {
		parent = ino_make(INO_MAILBOX, 0, c->mailbox_id);
		raw_parent = ino_make(INO_RAW, RAW_MAILBOX, c->mailbox_id);
		child = ino_make(INO_CALENDAR, 0, c->calendar_id);
		raw_child = ino_make(INO_RAW, RAW_CALENDAR, c->calendar_id);
	} else {
		parent = FUSE_ROOT_ID;
		raw_parent = ino_make(INO_RAW, RAW_ROOT, 0);
		child = ino_make(INO_MAILBOX, 0, c->mailbox_id);
		raw_child = ino_make(INO_RAW, RAW_MAILBOX, c->mailbox_id);
	}
	if (c->old_name) {		/* removed */
		deleted(n, parent, child, c->old_name);
		deleted(n, raw_parent, raw_child, c->old_name);
	} else {
		inode(n, child, 0);
		/* its items' modes follow the mailbox's, and their
		 * rendering its zone */
		if (c->kind == STORE_CHANGE_MAILBOX)
			mailbox_items(n, c->mailbox_id);
	}
	inode(n, parent, 0);
	inode(n, raw_parent, 0);
}

static void follow(notifier *n)
{
	GPtrArray *changes;
	GError *err = NULL;
	guint got;

	do {
		changes = store_changes_since(n->fs->store, n->last_seq, 500, &err);
		if (!changes) {
			/* other processes' and hosts' changes arrive here: say
			 * so, once a minute at most */
			gint64 now = g_get_monotonic_time();

			if (now - n->warned_us >= 60 * G_USEC_PER_SEC) {
				log_warning("store %s: change log: cannot read after change %"
					    G_GINT64_FORMAT ": %s (changes made elsewhere are not"
					    " seen)", store_describe(n->fs->store), n->last_seq,
					    err->message);
				n->warned_us = now;
			} else {
				log_debug("change log: %s", err->message);
			}
			g_clear_error(&err);
			return;
		}
		if (changes->len)
			log_debug("change log: %u changes after %" G_GINT64_FORMAT,
				  changes->len, n->last_seq);
		for (guint i = 0; i < changes->len; i++) {
			store_change *c = changes->pdata[i];

			if (c->kind == STORE_CHANGE_CALENDAR ||
			    c->kind == STORE_CHANGE_MAILBOX)
				dir_change(n, c);
			else
				item_change(n, c);
			n->last_seq = c->seq;
		}
		got = changes->len;
		g_ptr_array_unref(changes);
	} while (got == 500);
}

/* A new tzdata (tzinfo_reload): every rendering that depends on it is
 * made again; the kernel forgets every item and listing. */
static void tzdata(notifier *n)
{
	GPtrArray *mbs;

	if (++n->polls < TZDATA_POLLS)
		return;
	n->polls = 0;
	if (!tzinfo_reload())
		return;
	log_notice("tzdata %s in %s: items are rendered with it", tzinfo_version(), tzinfo_dir());
	view_tzdata_changed(n->fs);
	if (!(mbs = store_mailbox_list(n->fs->store, NULL)))
		return;
	for (guint i = 0; i < mbs->len; i++) {
		store_mailbox *mb = mbs->pdata[i];
		GPtrArray *cals = store_calendar_list(n->fs->store, mb->id, NULL);

		mailbox_items(n, mb->id);
		for (guint k = 0; cals && k < cals->len; k++)
			inode(n, ino_make(INO_CALENDAR, 0, ((store_calendar *)cals->pdata[k])->id), 0);
		if (cals)
			g_ptr_array_unref(cals);
	}
	g_ptr_array_unref(mbs);
}

static gpointer run(gpointer data)
{
	notifier *n = data;

	/* from the start: a store that hears of changes (PostgreSQL's
	 * listener) keeps the rows it reads only once it does */
	follow(n);
	while (!n->stop) {
		msg *m = g_async_queue_timeout_pop(n->queue, POLL_MS * 1000);

		if (m && m->kind == MSG_STOP)
			n->stop = TRUE;
		else if (m && m->kind == MSG_ENTRY)
			entry(n, m->parent, m->name);
		else if (m && m->kind == MSG_ATTR)
			inode(n, m->parent, -1);
		else if (m && m->kind == MSG_MAILBOX)
			mailbox_items(n, (gint64)m->parent);
		if (m)
			msg_free(m);
		if (!n->stop) {
			follow(n);
			tzdata(n);
		}
	}
	return NULL;
}

notifier *notify_start(fs_ctx *fs, GError **err)
{
	notifier *n = g_new0(notifier, 1);
	store_stats st;

	if (!store_stats_get(fs->store, &st, err)) {
		g_free(n);
		return NULL;
	}
	n->fs = fs;
	n->last_seq = st.last_change;
	n->queue = g_async_queue_new_full((GDestroyNotify)msg_free);
	n->thread = g_thread_new("calfs-notify", run, n);
	return n;
}

void notify_stop(notifier *n)
{
	if (!n)
		return;
	post(n, MSG_STOP, 0, NULL);
	g_thread_join(n->thread);
	g_async_queue_unref(n->queue);
	g_free(n);
}
