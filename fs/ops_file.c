/* ops_file.c - getattr, setattr, create, open, read, write, flush, release,
 * fsync and extended attributes
 *
 * An item opened for writing gets a buffer (the rendered bytes, or nothing
 * with O_TRUNC); flush, which close() calls, validates it and stores it.  A
 * scratch file (a name that is not an item name) is an in-memory node whose
 * bytes are written directly.
 */
#include "ops.h"
#include "ctl.h"
#include "node.h"
#include "notify.h"
#include "view.h"
#include "write.h"
#include "trash.h"
#include "error.h"
#include "errmap.h"
#include "item.h"
#include "log.h"
#include "tzscan.h"
#include "handle.h"

#include <errno.h>
#include <string.h>
#include <time.h>

typedef enum {
	FH_ITEM,	/* an item, or a new .ics file (node set, PENDING) */
	FH_NODE,	/* a scratch file */
	FH_META,	/* displayname or color */
	FH_SNAPSHOT	/* read-only bytes: control files, raw items */
} fh_kind;

typedef struct {
	fh_kind kind;
	GMutex lock;
	gint64 id;		/* item id (or reserved id), or calendar id for META */
	gint64 calendar_id;	/* where an item was when opened */
	char *name;		/* its name then */
	const char *meta;	/* "displayname" or "color" */
	node *node;		/* FH_NODE, or FH_ITEM for a new file */
	node *held;		/* a new file's node after it was stored */
	GBytes *snapshot;	/* what reads return when not writable */
	fuse_ino_t growing;	/* a control file read anew past its end, or 0 */
	fuse_ino_t cached;	/* opened through the page cache (view_closed) */
	GByteArray *buf;	/* contents being written */
	gboolean dirty;
} fh;

static fh *FH(struct fuse_file_info *fi)
{
	return (fh *)(uintptr_t)fi->fh;
}

static fh *fh_new(fh_kind kind)
{
	fh *h = g_new0(fh, 1);

	h->kind = kind;
	g_mutex_init(&h->lock);
	return h;
}

static void fh_free(fh *h)
{
	if (h->snapshot)
		g_bytes_unref(h->snapshot);
	if (h->buf)
		g_byte_array_unref(h->buf);
	g_free(h->name);
	g_mutex_clear(&h->lock);
	g_free(h);
}

/* Give back what h holds (the nodes it keeps open, the cached view) and
 * free it: its release, a reply that never reached the kernel, or the end
 * of the mount (handle.h). */
static void fh_close(fs_ctx *fs, gpointer p)
{
	fh *h = p;
	node *n;

	if ((n = h->held)) {
		g_mutex_lock(&fs->nodes_lock);
		n->opens--;
		node_release(fs, n);
		g_mutex_unlock(&fs->nodes_lock);
	}
	if ((n = h->node)) {
		fuse_ino_t parent = 0;
		char *name = NULL;

		g_mutex_lock(&fs->nodes_lock);
		/* under the lock: an unlink or rename moves the node */
		parent = ino_make(INO_CALENDAR, 0, n->calendar_id);
		n->opens--;
		if (n->type == NODE_PENDING && !n->retired && n->name && !n->opens) {
			/* created but never became an item: it goes away */
			name = g_strdup(n->name);
			node_rename(fs, n, n->calendar_id, NULL);
		}
		node_release(fs, n);
		g_mutex_unlock(&fs->nodes_lock);
		if (name)
			notify_inval_entry(fs->notifier, parent, name);
		g_free(name);
	}
	if (h->cached)
		view_closed(fs, h->cached);
	fh_free(h);
}

/* Hand h to the kernel in fi: tracked before the reply, as its release
 * may come before the reply returns. */
static void fh_hand_over(fs_ctx *fs, fh *h, struct fuse_file_info *fi)
{
	fi->fh = (uint64_t)(uintptr_t)h;
	handle_track(fs, h, fh_close);
}

/* The reply that handed h over was not delivered (an interrupted open):
 * the kernel will never release it. */
static void fh_not_handed(fs_ctx *fs, fh *h)
{
	handle_untrack(fs, h);
	fh_close(fs, h);
}

static gboolean wants_write(int flags)
{
	return (flags & O_ACCMODE) != O_RDONLY;
}

static void reply_attr(fuse_req_t req, fs_ctx *fs, fuse_ino_t ino)
{
	struct stat st;
	GError *err = NULL;

	if (!view_stat(fs, ino, &st, &err)) {
		errmap_reply(req, err);
		return;
	}
	fuse_reply_attr(req, &st, ino_kind_of(ino) == INO_CTL ? 0 : fs->timeout);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)fi;
	reply_attr(req, FS(req), ino);
}


/* The node of ino if it has one, with type; aliases resolve to items. */
static node *node_of(fs_ctx *fs, fuse_ino_t ino, gint64 *alias_item)
{
	node *n;

	*alias_item = 0;
	g_mutex_lock(&fs->nodes_lock);
	n = node_get(fs, ino);
	if (n && n->type == NODE_ALIAS) {
		*alias_item = n->item_id;
		n = NULL;
	}
	g_mutex_unlock(&fs->nodes_lock);
	return n;
}

static fh *open_node(fs_ctx *fs, node *n, int flags)
{
	fh *h;

	g_mutex_lock(&fs->nodes_lock);
	n->opens++;
	if (n->type == NODE_PENDING) {
		h = fh_new(FH_ITEM);
		h->id = n->item_id;
		h->buf = g_byte_array_new();
		/* a new item closed without content is refused as empty */
		h->dirty = wants_write(flags);
	} else {
		h = fh_new(FH_NODE);
		if ((flags & O_TRUNC) && wants_write(flags)) {
			g_byte_array_set_size(n->data, 0);
			clock_gettime(CLOCK_REALTIME, &n->mtime);
		}
	}
	h->node = n;
	g_mutex_unlock(&fs->nodes_lock);
	return h;
}

static fh *open_item(fs_ctx *fs, gint64 id, fuse_ino_t ino,
		     struct fuse_file_info *fi, GError **err)
{
	rendered *r;
	fh *h;

	if (wants_write(fi->flags) && (fi->flags & O_TRUNC)) {
		/* to be written anew: where it is, not what it renders to */
		store_item *it = store_item_get(fs->store, id, FALSE, err);

		if (!it)
			return NULL;
		h = fh_new(FH_ITEM);
		h->id = id;
		h->calendar_id = it->calendar_id;
		h->name = g_strdup(it->name);
		h->buf = g_byte_array_new();
		h->dirty = TRUE;
		store_item_free(it);
		return h;
	}
	if (!(r = view_render(fs, id, err)))
		return NULL;
	h = fh_new(FH_ITEM);
	h->id = id;
	h->calendar_id = r->calendar_id;
	h->name = g_strdup(r->name);
	if (wants_write(fi->flags)) {
		h->buf = g_byte_array_new();
		if (!(fi->flags & O_TRUNC))
			g_byte_array_append(h->buf, g_bytes_get_data(r->data, NULL),
					    g_bytes_get_size(r->data));
		else
			h->dirty = TRUE;
	} else {
		h->snapshot = g_bytes_ref(r->data);
		/* the zone is part of what the kernel cached: it changes the
		 * rendering without changing the version */
		if (view_open_cached(fs, ino, view_render_key(r), g_bytes_get_size(r->data), fi))
			h->cached = ino;
	}
	rendered_free(r);
	return h;
}

static fh *open_meta(fs_ctx *fs, fuse_ino_t ino, struct fuse_file_info *fi,
		     GError **err)
{
	store_calendar *cal = store_calendar_get(fs->store, ino_id(ino), err);
	const char *v;
	fh *h;

	if (!cal)
		return NULL;
	h = fh_new(FH_META);
	h->id = cal->id;
	h->meta = meta_name(ino_sub(ino));
	v = fs_meta_value(cal, ino_sub(ino));
	if (!v)
		v = "";
	if (wants_write(fi->flags)) {
		h->buf = g_byte_array_new();
		if (!(fi->flags & O_TRUNC))
			g_byte_array_append(h->buf, (const guint8 *)v, strlen(v));
		else
			h->dirty = TRUE;
	} else {
		h->snapshot = g_bytes_new(v, strlen(v));
	}
	fi->direct_io = 1;
	store_calendar_free(cal);
	return h;
}

static fh *open_raw(fs_ctx *fs, fuse_ino_t ino, struct fuse_file_info *fi,
		    GError **err)
{
	store_item *it = store_item_get(fs->store, ino_id(ino), TRUE, err);
	fh *h;

	if (!it)
		return NULL;
	h = fh_new(FH_SNAPSHOT);
	h->snapshot = g_bytes_ref(it->data);
	if (view_open_cached(fs, ino, it->version, it->size, fi))
		h->cached = ino;
	store_item_free(it);
	return h;
}

/* Open ino; NULL with err set. */
static fh *open_ino(fs_ctx *fs, fuse_ino_t ino, struct fuse_file_info *fi, GError **err)
{
	gint64 alias;
	node *n;
	GBytes *b;
	fh *h = NULL;

	switch (ino_kind_of(ino)) {
	case INO_ITEM:
	case INO_NODE:
		n = node_of(fs, ino, &alias);
		if (n)
			return open_node(fs, n, fi->flags);
		if (alias || ino_kind_of(ino) == INO_ITEM)
			h = open_item(fs, alias ? alias : ino_id(ino), ino, fi, err);
		else
			g_set_error(err, CALFS_ERROR, CALFS_ERROR_NOTFOUND,
				    "a scratch file that is gone");
		break;
	case INO_META:
		h = open_meta(fs, ino, fi, err);
		break;
	case INO_CTL:
		if (wants_write(fi->flags) && ino_sub(ino) == CTL_TIMEZONE) {
			h = fh_new(FH_META);
			h->id = ino_id(ino);
			h->meta = "timezone";
			h->buf = g_byte_array_new();
			h->dirty = (fi->flags & O_TRUNC) != 0;
			fi->direct_io = 1;
		} else if (wants_write(fi->flags)) {
			g_set_error(err, CALFS_ERROR, CALFS_ERROR_DENIED,
				    "a report, which is not written");
		} else if ((b = ctl_content(fs, ino, err))) {
			h = fh_new(FH_SNAPSHOT);
			h->snapshot = b;
			if (ino_sub(ino) == CTL_EVENTS)
				h->growing = ino;
			fi->direct_io = 1;
		}
		break;
	case INO_RAW:
		if (wants_write(fi->flags))
			g_set_error(err, CALFS_ERROR, CALFS_ERROR_READONLY,
				    "the raw view is read-only");
		else
			h = open_raw(fs, ino, fi, err);
		break;
	default:
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_ISDIR, "a directory");
		break;
	}
	return h;
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	fs_ctx *fs = FS(req);
	GError *err = NULL;
	fh *h = open_ino(fs, ino, fi, &err);

	if (!h) {
		errmap_reply(req, err);
		return;
	}
	/* a reader's close has nothing to judge: the kernel need not wait
	 * for a flush (a round trip for every cat) */
	if ((fi->flags & O_ACCMODE) == O_RDONLY)
		fi->noflush = 1;
	fh_hand_over(fs, h, fi);
	if (fuse_reply_open(req, fi) == -ENOENT)
		fh_not_handed(fs, h);
}

/* Reply to create with ino opened; the entry counts as a lookup. */
static void reply_create(fuse_req_t req, fs_ctx *fs, fuse_ino_t ino,
			 struct fuse_file_info *fi)
{
	struct fuse_entry_param e;
	GError *err = NULL;
	fh *h;

	if (!view_entry_param(fs, ino, &e, &err)) {
		errmap_reply(req, err);
		return;
	}
	if (!(h = open_ino(fs, ino, fi, &err))) {
		errmap_reply(req, err);
		return;
	}
	ops_count_lookup(fs, ino);
	fh_hand_over(fs, h, fi);
	if (fuse_reply_create(req, &e, fi) == -ENOENT) {
		/* interrupted: the kernel has neither the entry nor the file */
		if (ino_kind_of(ino) == INO_NODE)
			ops_forget(fs, ino, 1);
		fh_not_handed(fs, h);
	}
}

/* A file in a trash's files/ or info/ (the .trashinfo gio writes): a
 * scratch file of the trash's user. */
static void create_in_trash(fuse_req_t req, fs_ctx *fs, fuse_ino_t parent, const char *name,
			    mode_t mode, struct fuse_file_info *fi)
{
	gint64 dir = trash_dir_id(parent);
	fuse_ino_t ino;
	node *n;

	if (!item_name_is_valid(name)) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	g_mutex_lock(&fs->ns_lock);
	gboolean there;

	g_mutex_lock(&fs->nodes_lock);
	n = node_find(fs, dir, name);
	there = n != NULL;
	if (!n) {
		n = node_new(fs, NODE_SCRATCH, 0, dir, name);
		n->mode = mode & 07777;
		n->uid = fuse_req_ctx(req)->uid;
		n->gid = fuse_req_ctx(req)->gid;
	}
	ino = n->ino;
	g_mutex_unlock(&fs->nodes_lock);
	g_mutex_unlock(&fs->ns_lock);
	if (there && (fi->flags & O_EXCL)) {
		fuse_reply_err(req, EEXIST);
		return;
	}
	reply_create(req, fs, ino, fi);
}

static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		      mode_t mode, struct fuse_file_info *fi)
{
	fs_ctx *fs = FS(req);
	GError *err = NULL;
	gint64 cal = ino_id(parent), id = 0;
	fuse_ino_t ino;
	node *n;

	if (trash_dir_id(parent)) {
		create_in_trash(req, fs, parent, name, mode, fi);
		return;
	}
	if (ino_kind_of(parent) != INO_CALENDAR) {
		fuse_reply_err(req, ino_kind_of(parent) == INO_RAW ? EROFS : EPERM);
		return;
	}
	if (!item_name_is_valid(name)) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	g_mutex_lock(&fs->ns_lock);
	ino = view_lookup(fs, parent, name, NULL);
	if (ino) {
		/* it appeared since the kernel looked */
		g_mutex_unlock(&fs->ns_lock);
		if (fi->flags & O_EXCL)
			fuse_reply_err(req, EEXIST);
		else
			reply_create(req, fs, ino, fi);
		return;
	}
	if (meta_of_name(name)) {
		ino = ino_make(INO_META, meta_of_name(name), cal);
		if (!store_calendar_set_meta(fs->store, cal, name, "", &err))
			ino = 0;
	} else if (item_name_is_item(name) &&
		   !(id = store_item_reserve_id(fs->store, cal, &err))) {
		ino = 0;
	} else {
		g_mutex_lock(&fs->nodes_lock);
		if (id) {
			n = node_new(fs, NODE_PENDING, ino_make(INO_ITEM, 0, id),
				     cal, name);
			n->item_id = id;
		} else {
			n = node_new(fs, NODE_SCRATCH, 0, cal, name);
			n->mode = mode & 07777;
		}
		ino = n->ino;
		g_mutex_unlock(&fs->nodes_lock);
	}
	g_mutex_unlock(&fs->ns_lock);
	if (!ino) {
		errmap_reply(req, err);
		return;
	}
	notify_kick(fs->notifier);
	reply_create(req, fs, ino, fi);
}

/* The bytes of a [off, off + size) read, as a reference or a copy taken
 * under the lock: the reply is sent after unlocking, because answering
 * may let the reader close the file and another thread free h. */
static GBytes *slice(const guint8 *data, gsize len, GBytes *whole, size_t size,
		     off_t off)
{
	gsize n;

	if ((gsize)off >= len)
		return g_bytes_new(NULL, 0);
	n = MIN(size, len - off);
	return whole ? g_bytes_new_from_bytes(whole, off, n)
		     : g_bytes_new(data + off, n);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	fs_ctx *fs = FS(req);
	fh *h = FH(fi);
	const void *data;
	GBytes *b;
	gsize len;

	(void)ino;
	if (h->kind == FH_NODE) {
		g_mutex_lock(&fs->nodes_lock);
		b = slice(h->node->data->data, h->node->data->len, NULL, size, off);
		g_mutex_unlock(&fs->nodes_lock);
	} else {
		g_mutex_lock(&h->lock);
		if (h->growing && (gsize)off >= g_bytes_get_size(h->snapshot)) {
			/* tail -f reads on past the end: what came since */
			GBytes *now = ctl_content(fs, h->growing, NULL);

			if (now) {
				g_bytes_unref(h->snapshot);
				h->snapshot = now;
			}
		}
		if (h->buf)
			b = slice(h->buf->data, h->buf->len, NULL, size, off);
		else
			b = slice(g_bytes_get_data(h->snapshot, NULL),
				  g_bytes_get_size(h->snapshot), h->snapshot, size, off);
		g_mutex_unlock(&h->lock);
	}
	data = g_bytes_get_data(b, &len);
	fuse_reply_buf(req, data, len);
	g_bytes_unref(b);
}

static void put_bytes(GByteArray *a, const char *buf, size_t size, off_t off)
{
	if ((gsize)off + size > a->len) {
		gsize old = a->len;

		g_byte_array_set_size(a, off + size);
		if ((gsize)off > old)
			memset(a->data + old, 0, off - old);
	}
	memcpy(a->data + off, buf, size);
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
		     size_t size, off_t off, struct fuse_file_info *fi)
{
	fs_ctx *fs = FS(req);
	fh *h = FH(fi);

	(void)ino;
	if ((guint64)off + size > G_MAXUINT32) {
		fuse_reply_err(req, EFBIG);
		return;
	}
	if (h->kind == FH_NODE) {
		g_mutex_lock(&fs->nodes_lock);
		put_bytes(h->node->data, buf, size, off);
		clock_gettime(CLOCK_REALTIME, &h->node->mtime);
		g_mutex_unlock(&fs->nodes_lock);
	} else if (h->buf) {
		g_mutex_lock(&h->lock);
		put_bytes(h->buf, buf, size, off);
		h->dirty = TRUE;
		g_mutex_unlock(&h->lock);
	} else {
		fuse_reply_err(req, EBADF);
		return;
	}
	fuse_reply_write(req, size);
}

/* A zone written to MAILBOX/.calfs/timezone; "" clears it. */
static gboolean set_timezone(fs_ctx *fs, gint64 mailbox_id, const char *zone,
			     GError **err)
{
	store_mailbox *mb;
	char *line;

	if (!*zone || tzscan_zone_valid(zone))
		return store_mailbox_set_timezone(fs->store, mailbox_id, *zone ? zone : NULL, err);
	mb = store_mailbox_get(fs->store, mailbox_id, NULL);
	line = g_strdup_printf("%s/.calfs/timezone: refused: '%s' is not a tzdata zone",
			       mb ? mb->name : "?", zone);
	log_notice("%s", line);
	ctl_refused(fs, mailbox_id, line);
	g_set_error_literal(err, CALFS_ERROR, CALFS_ERROR_INVALID, line);
	g_free(line);
	store_mailbox_free(mb);
	return FALSE;
}

/* Store what h holds.  h->lock is held. */
/* Where h's bytes go now, into *cal, *name (replaced) and *reserved:
 * FALSE when to no item (unlinked while open, or renamed to a scratch
 * name, whose node then takes them).  Called with fs->ns_lock held. */
static gboolean target(fs_ctx *fs, fh *h, gint64 *cal, char **name, gint64 *reserved)
{
	gboolean item = TRUE;
	store_item *it;

	*reserved = 0;
	if (h->node) {
		g_mutex_lock(&fs->nodes_lock);
		if (h->node->retired || !h->node->name) {
			item = FALSE;	/* unlinked while open: nothing to keep */
		} else if (h->node->type == NODE_SCRATCH) {
			/* renamed to a scratch name while open */
			g_byte_array_set_size(h->node->data, 0);
			g_byte_array_append(h->node->data, h->buf->data, h->buf->len);
			item = FALSE;
		} else {
			*cal = h->node->calendar_id;
			g_free(*name);
			*name = g_strdup(h->node->name);
			*reserved = h->node->item_id;
		}
		g_mutex_unlock(&fs->nodes_lock);
	} else if ((it = store_item_get(fs->store, h->id, FALSE, NULL))) {
		/* follow a rename made while the file was open */
		*cal = it->calendar_id;
		g_free(*name);
		*name = g_strdup(it->name);
		store_item_free(it);
	}
	return item;
}

/* Store what h wrote (called with h->lock held): parsed and rendered
 * with no lock, stored under fs->ns_lock. */
static gboolean commit(fs_ctx *fs, fh *h, GError **err)
{
	gint64 cal = h->calendar_id, reserved, id;
	char *name = g_strdup(h->name);
	write_job *job;
	GBytes *data;
	gboolean ok = TRUE, going;

	if (!h->dirty) {
		g_free(name);
		return TRUE;
	}
	h->dirty = FALSE;
	if (h->kind == FH_META) {
		char *v = h->buf->len ? g_strndup((const char *)h->buf->data,
						  h->buf->len)
				      : g_strdup("");

		g_strstrip(v);
		if (!strcmp(h->meta, "timezone"))
			ok = set_timezone(fs, h->id, v, err);
		else
			ok = store_calendar_set_meta(fs->store, h->id, h->meta, v, err);
		g_free(v);
		g_free(name);
		notify_kick(fs->notifier);
		return ok;
	}
	g_mutex_lock(&fs->ns_lock);
	going = target(fs, h, &cal, &name, &reserved);
	g_mutex_unlock(&fs->ns_lock);
	if (!going) {
		g_free(name);
		return TRUE;
	}
	data = g_bytes_new(h->buf->data, h->buf->len);
	job = write_prepare(fs, cal, name, data, err);
	g_bytes_unref(data);
	if (!job) {
		g_free(name);
		return FALSE;
	}
	g_mutex_lock(&fs->ns_lock);
	/* again: a rename may have moved it while it was prepared */
	if (target(fs, h, &cal, &name, &reserved)) {
		id = write_store(fs, job, cal, name, reserved, err);
		ok = id != 0;
	} else {
		id = 0;
	}
	if (id && h->node) {
		g_mutex_lock(&fs->nodes_lock);
		if (id != reserved) {
			h->node->type = NODE_ALIAS;
			h->node->item_id = id;
			node_rename(fs, h->node, cal, NULL);
		} else {
			node_retire(fs, h->node);
		}
		/* from now on h writes the item; the node goes at close */
		h->held = h->node;
		h->node = NULL;
		g_mutex_unlock(&fs->nodes_lock);
	}
	if (id) {
		h->id = id;
		h->calendar_id = cal;
		g_free(h->name);
		h->name = g_strdup(name);
	}
	g_mutex_unlock(&fs->ns_lock);
	write_finish(job);
	g_free(name);
	return ok;
}

/* Whether process pid still has ino open for writing.  close() takes the
 * descriptor out of the process's table before it flushes, so another one
 * is there when the file was dup()ed: bash opens "> item.ics" with
 * O_TRUNC, dup2()s it to 1 and closes the first descriptor before
 * anything is written.  Our inode numbers carry their kind in the top
 * byte, which no disk file system's have. */
static gboolean another_writer(pid_t pid, fuse_ino_t ino)
{
	char *dir = g_strdup_printf("/proc/%d/fdinfo", (int)pid);
	GDir *d = g_dir_open(dir, 0, NULL);
	const char *fd;
	gboolean found = FALSE;

	while (d && !found && (fd = g_dir_read_name(d))) {
		char *path = g_build_filename(dir, fd, NULL), *text = NULL;
		const char *f, *i;

		if (g_file_get_contents(path, &text, NULL, NULL) &&
		    (f = strstr(text, "flags:")) && (i = strstr(text, "\nino:")))
			found = (g_ascii_strtoull(f + 6, NULL, 8) & O_ACCMODE) != O_RDONLY &&
				g_ascii_strtoull(i + 5, NULL, 10) == (guint64)ino;
		g_free(text);
		g_free(path);
	}
	if (d)
		g_dir_close(d);
	g_free(dir);
	return found;
}

static void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	fs_ctx *fs = FS(req);
	fh *h = FH(fi);
	GError *err = NULL;
	gboolean ok = TRUE;

	if (h->kind == FH_ITEM || h->kind == FH_META) {
		g_mutex_lock(&h->lock);
		/* nothing written yet, and the file is still open for
		 * writing: the next flush, or release, judges it */
		if (!(h->kind == FH_ITEM && h->dirty && h->buf && !h->buf->len &&
		      another_writer(fuse_req_ctx(req)->pid, ino)))
			ok = commit(fs, h, &err);
		g_mutex_unlock(&h->lock);
	}
	if (!ok) {
		errmap_reply(req, err);
		return;
	}
	fuse_reply_err(req, 0);
}

static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	fs_ctx *fs = FS(req);
	fh *h = FH(fi);
	GError *err = NULL;

	(void)ino;
	handle_untrack(fs, h);
	if (h->dirty && (h->kind == FH_ITEM || h->kind == FH_META)) {
		g_mutex_lock(&h->lock);
		if (!commit(fs, h, &err))
			g_clear_error(&err);	/* already logged */
		g_mutex_unlock(&h->lock);
	}
	fh_close(fs, h);
	fuse_reply_err(req, 0);
}

static void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		     struct fuse_file_info *fi)
{
	/* an item is stored, durably, when it is closed */
	(void)ino;
	(void)datasync;
	(void)fi;
	fuse_reply_err(req, 0);
}

static gboolean truncate_item(fs_ctx *fs, gint64 id, off_t size, GError **err)
{
	rendered *r = view_render(fs, id, err);
	GByteArray *a;
	GBytes *b;
	write_job *job;
	gboolean ok;

	if (!r)
		return FALSE;
	if ((gsize)size == g_bytes_get_size(r->data)) {
		rendered_free(r);
		return TRUE;
	}
	a = g_byte_array_new();
	g_byte_array_append(a, g_bytes_get_data(r->data, NULL),
			    MIN((gsize)size, g_bytes_get_size(r->data)));
	g_byte_array_set_size(a, size);
	b = g_byte_array_free_to_bytes(a);
	/* parsed and rendered with no lock; stored under ns_lock */
	if ((job = write_prepare(fs, r->calendar_id, r->name, b, err))) {
		g_mutex_lock(&fs->ns_lock);
		ok = write_store(fs, job, r->calendar_id, r->name, 0, err) != 0;
		g_mutex_unlock(&fs->ns_lock);
		write_finish(job);
	} else {
		ok = FALSE;
	}
	g_bytes_unref(b);
	rendered_free(r);
	return ok;
}

static gboolean set_size(fs_ctx *fs, fuse_ino_t ino, off_t size,
			 struct fuse_file_info *fi, GError **err)
{
	fh *h = fi ? FH(fi) : NULL;
	gint64 alias;
	node *n;

	if (h && h->kind == FH_NODE) {
		n = h->node;
	} else if (h && h->buf) {
		g_mutex_lock(&h->lock);
		g_byte_array_set_size(h->buf, size);
		h->dirty = TRUE;
		g_mutex_unlock(&h->lock);
		return TRUE;
	} else {
		n = node_of(fs, ino, &alias);
		if (!n && ino_kind_of(ino) == INO_ITEM)
			alias = ino_id(ino);
		if (!n && alias)
			return truncate_item(fs, alias, size, err);
		if (!n && ino_kind_of(ino) == INO_META && size == 0)
			return store_calendar_set_meta(fs->store, ino_id(ino),
						       meta_name(ino_sub(ino)), "", err);
		if (!n) {
			g_set_error(err, CALFS_ERROR, CALFS_ERROR_UNSUPPORTED,
				    "cannot be truncated");
			return FALSE;
		}
	}
	g_mutex_lock(&fs->nodes_lock);
	if (n->type != NODE_PENDING) {
		gsize old = n->data->len;

		g_byte_array_set_size(n->data, size);
		if ((gsize)size > old)
			memset(n->data->data + old, 0, size - old);
		clock_gettime(CLOCK_REALTIME, &n->mtime);
	}
	g_mutex_unlock(&fs->nodes_lock);
	return TRUE;
}

static void set_node_attrs(fs_ctx *fs, fuse_ino_t ino, struct stat *attr,
			   int to_set)
{
	gint64 alias;
	node *n = node_of(fs, ino, &alias);

	if (!n)
		return;
	g_mutex_lock(&fs->nodes_lock);
	if (to_set & FUSE_SET_ATTR_MODE)
		n->mode = attr->st_mode & 07777;
	if (to_set & FUSE_SET_ATTR_UID)
		n->uid = attr->st_uid;
	if (to_set & FUSE_SET_ATTR_GID)
		n->gid = attr->st_gid;
	if (to_set & FUSE_SET_ATTR_MTIME_NOW)
		clock_gettime(CLOCK_REALTIME, &n->mtime);
	else if (to_set & FUSE_SET_ATTR_MTIME)
		n->mtime = attr->st_mtim;
	g_mutex_unlock(&fs->nodes_lock);
}

static gboolean set_mailbox_owner(fs_ctx *fs, fuse_ino_t ino, struct stat *attr,
				  int to_set, GError **err)
{
	store_mailbox *mb = store_mailbox_get(fs->store, ino_id(ino), err);
	struct stat cur;
	gboolean ok;

	if (!mb || !view_stat(fs, ino, &cur, err)) {
		store_mailbox_free(mb);
		return FALSE;
	}
	ok = store_mailbox_set_owner(fs->store, mb->id, TRUE,
				     to_set & FUSE_SET_ATTR_UID ? attr->st_uid : cur.st_uid,
				     to_set & FUSE_SET_ATTR_GID ? attr->st_gid : cur.st_gid,
				     to_set & FUSE_SET_ATTR_MODE ? attr->st_mode & 07777
								 : cur.st_mode & 07777,
				     err);
	store_mailbox_free(mb);
	return ok;
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		       int to_set, struct fuse_file_info *fi)
{
	fs_ctx *fs = FS(req);
	GError *err = NULL;
	int owner = FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID;

	if ((to_set & FUSE_SET_ATTR_SIZE) &&
	    !set_size(fs, ino, attr->st_size, fi, &err)) {
		errmap_reply(req, err);
		return;
	}
	if ((to_set & owner) && ino_kind_of(ino) == INO_MAILBOX) {
		if (!set_mailbox_owner(fs, ino, attr, to_set, &err)) {
			errmap_reply(req, err);
			return;
		}
		notify_kick(fs->notifier);
	}
	/* on items chmod, chown and utimes succeed without effect, as
	 * sed -i, cp -p and editors expect */
	set_node_attrs(fs, ino, attr, to_set);
	reply_attr(req, fs, ino);
}

/* ---- extended attributes ---- */

static const char xattr_names[] =
	"user.calfs.uid\0user.calfs.etag\0user.calfs.fixes";

static gint64 xattr_item(fs_ctx *fs, fuse_ino_t ino)
{
	gint64 alias;
	node *n;

	if (ino_kind_of(ino) != INO_ITEM && ino_kind_of(ino) != INO_NODE)
		return 0;
	n = node_of(fs, ino, &alias);
	if (n)
		return 0;
	return alias ? alias : (ino_kind_of(ino) == INO_ITEM ? ino_id(ino) : 0);
}

static void reply_value(fuse_req_t req, const char *v, size_t len, size_t size)
{
	if (size == 0)
		fuse_reply_xattr(req, len);
	else if (size < len)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, v, len);
}

static void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			size_t size)
{
	fs_ctx *fs = FS(req);
	gint64 id;
	GError *err = NULL;
	rendered *r;
	char *v = NULL;

	/* ls -l asks every file for security.selinux and the POSIX ACLs.
	 * calfs has neither: "not supported" (not "no such attribute"), and
	 * ls asks no other file of this file system (coreutils remembers
	 * the device) - one round trip per ls -l, not two per file */
	if (!g_str_has_prefix(name, "user.")) {
		fuse_reply_err(req, ENOTSUP);
		return;
	}
	if (!g_str_has_prefix(name, "user.calfs.") || !(id = xattr_item(fs, ino))) {
		fuse_reply_err(req, ENODATA);
		return;
	}
	if (!(r = view_render(fs, id, &err))) {
		errmap_reply(req, err);
		return;
	}
	if (!strcmp(name, "user.calfs.uid"))
		v = g_strdup(r->uid);
	else if (!strcmp(name, "user.calfs.etag"))
		v = g_compute_checksum_for_bytes(G_CHECKSUM_SHA1, r->data);
	else if (!strcmp(name, "user.calfs.fixes"))
		v = g_strdup(r->fixes);
	if (v)
		reply_value(req, v, strlen(v), size);
	else
		fuse_reply_err(req, ENODATA);
	g_free(v);
	rendered_free(r);
}

static void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	if (xattr_item(FS(req), ino))
		reply_value(req, xattr_names, sizeof(xattr_names), size);
	else
		reply_value(req, "", 0, size);
}

static void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			const char *value, size_t size, int flags)
{
	(void)ino;
	(void)name;
	(void)value;
	(void)size;
	(void)flags;
	fuse_reply_err(req, ENOTSUP);
}

static void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	(void)ino;
	(void)name;
	fuse_reply_err(req, ENOTSUP);
}

void ops_file_register(struct fuse_lowlevel_ops *ops)
{
	ops->getattr = op_getattr;
	ops->setattr = op_setattr;
	ops->create = op_create;
	ops->open = op_open;
	ops->read = op_read;
	ops->write = op_write;
	ops->flush = op_flush;
	ops->release = op_release;
	ops->fsync = op_fsync;
	ops->getxattr = op_getxattr;
	ops->listxattr = op_listxattr;
	ops->setxattr = op_setxattr;
	ops->removexattr = op_removexattr;
}
