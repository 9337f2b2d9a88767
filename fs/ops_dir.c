/* ops_dir.c - lookup, readdir, mkdir, rmdir, unlink, rename, link */
#include "ops.h"
#include "node.h"
#include "notify.h"
#include "view.h"
#include "write.h"
#include "error.h"
#include "errmap.h"
#include "item.h"
#include "log.h"
#include "trash.h"
#include "handle.h"

#include <errno.h>
#include <string.h>
#include <sys/statvfs.h>

void ops_count_lookup(fs_ctx *fs, fuse_ino_t ino)
{
	node *n;

	if (ino_kind_of(ino) != INO_NODE)
		return;
	g_mutex_lock(&fs->nodes_lock);
	if ((n = node_get(fs, ino)))
		n->nlookup++;
	g_mutex_unlock(&fs->nodes_lock);
}

static void reply_entry(fuse_req_t req, fs_ctx *fs, fuse_ino_t ino)
{
	struct fuse_entry_param e;
	GError *err = NULL;

	if (!view_entry_param(fs, ino, &e, &err)) {
		errmap_reply(req, err);
		return;
	}
	ops_count_lookup(fs, ino);
	if (fuse_reply_entry(req, &e) == -ENOENT) {
		/* interrupted: the kernel will not forget what it never got */
		log_debug("lookup reply for %#lx not taken", (unsigned long)ino);
		if (ino_kind_of(ino) == INO_NODE)
			ops_forget(fs, ino, 1);
	}
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	fs_ctx *fs = FS(req);
	GError *err = NULL;
	fuse_ino_t ino = view_lookup(fs, parent, name, &err);

	if (!ino) {
		if (g_error_matches(err, CALFS_ERROR, CALFS_ERROR_NOTFOUND)) {
			/* a negative entry, not cached: what another process
			 * creates is seen at once, and no notification has to
			 * chase cached negative entries */
			struct fuse_entry_param e = { .entry_timeout = 0 };

			g_error_free(err);
			fuse_reply_entry(req, &e);
			return;
		}
		errmap_reply(req, err);
		return;
	}
	reply_entry(req, fs, ino);
}

void ops_forget(fs_ctx *fs, fuse_ino_t ino, uint64_t nlookup)
{
	node *n;

	if (ino_kind_of(ino) != INO_NODE && ino_kind_of(ino) != INO_ITEM)
		return;		/* store inodes need no bookkeeping */
	g_mutex_lock(&fs->nodes_lock);
	n = node_get(fs, ino);
	if (n && ino_kind_of(ino) == INO_NODE) {
		n->nlookup = n->nlookup > nlookup ? n->nlookup - nlookup : 0;
		node_release(fs, n);
	} else if (n && n->type == NODE_ALIAS) {
		/* the kernel forgets an inode with all its lookups at once */
		n->forgotten = TRUE;
		node_release(fs, n);
	}
	g_mutex_unlock(&fs->nodes_lock);
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	ops_forget(FS(req), ino, nlookup);
	fuse_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count,
			    struct fuse_forget_data *forgets)
{
	for (size_t i = 0; i < count; i++)
		ops_forget(FS(req), forgets[i].ino, forgets[i].nlookup);
	fuse_reply_none(req);
}

/* ---- directories ---- */

typedef struct {
	fuse_ino_t ino;
	GPtrArray *entries;	/* view_entry*, "." and ".." first; made by
				 * the first readdir: when the kernel keeps
				 * a listing it opens but never reads */
} dirhandle;

static void dirhandle_free(fs_ctx *fs, gpointer p)
{
	dirhandle *d = p;

	(void)fs;
	if (d->entries)
		g_ptr_array_unref(d->entries);
	g_free(d);
}

/* The listing of ino with "." and ".." first, or NULL with err set. */
static GPtrArray *listing(fs_ctx *fs, fuse_ino_t ino, GError **err)
{
	GPtrArray *list = view_list(fs, ino, err);
	view_entry *dot, *dotdot;

	if (!list)
		return NULL;
	dot = g_new0(view_entry, 1);
	dot->name = g_strdup(".");
	dot->ino = ino;
	dot->type = S_IFDIR;
	dotdot = g_new0(view_entry, 1);
	dotdot->name = g_strdup("..");
	dotdot->ino = view_parent(fs, ino);
	dotdot->type = S_IFDIR;
	g_ptr_array_insert(list, 0, dotdot);
	g_ptr_array_insert(list, 0, dot);
	return list;
}

static void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	dirhandle *d;

	if (ino_kind_of(ino) == INO_ITEM || ino_kind_of(ino) == INO_NODE ||
	    ino_kind_of(ino) == INO_META) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	d = g_new0(dirhandle, 1);
	d->ino = ino;
	fi->fh = (uint64_t)(uintptr_t)d;
	handle_track(FS(req), d, dirhandle_free);	/* before its release can come */
	/* the kernel may keep the listing: a change in the directory, here
	 * or in the store (the notifier), invalidates it */
	fi->cache_readdir = ino_kind_of(ino) != INO_CTL && ino_kind_of(ino) != INO_TRASH;
	fi->keep_cache = fi->cache_readdir;
	if (fuse_reply_open(req, fi) == -ENOENT) {
		handle_untrack(FS(req), d);	/* interrupted: never released */
		dirhandle_free(FS(req), d);
	}
}

static void readdir_common(fuse_req_t req, fuse_ino_t ino, size_t size,
			   off_t off, struct fuse_file_info *fi, gboolean plus)
{
	fs_ctx *fs = FS(req);
	dirhandle *d = (dirhandle *)(uintptr_t)fi->fh;
	GError *err = NULL;
	char *buf;
	size_t pos = 0;

	(void)ino;
	if (!d->entries && !(d->entries = listing(fs, d->ino, &err))) {
		errmap_reply(req, err);
		return;
	}
	buf = g_malloc(size);
	for (guint i = off; i < d->entries->len; i++) {
		view_entry *e = d->entries->pdata[i];
		size_t n;

		if (plus) {
			struct fuse_entry_param ep;
			gboolean dots = !strcmp(e->name, ".") || !strcmp(e->name, "..");

			/* attributes only for an entry sent: making them
			 * tells the kernel a size (view.c, told()) */
			if (fuse_add_direntry_plus(req, NULL, 0, e->name, NULL, 0) > size - pos)
				break;
			if (dots) {
				memset(&ep, 0, sizeof(ep));
				ep.attr.st_ino = e->ino;
				ep.attr.st_mode = e->type;
			} else if (!view_entry_param(fs, e->ino, &ep, NULL)) {
				continue;	/* gone since the listing */
			}
			n = fuse_add_direntry_plus(req, buf + pos, size - pos,
						   e->name, &ep, i + 1);
			if (n > size - pos)
				break;
			if (!dots)
				ops_count_lookup(fs, e->ino);
		} else {
			struct stat st = { .st_ino = e->ino, .st_mode = e->type };

			n = fuse_add_direntry(req, buf + pos, size - pos, e->name,
					      &st, i + 1);
			if (n > size - pos)
				break;
		}
		pos += n;
	}
	fuse_reply_buf(req, buf, pos);
	g_free(buf);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	readdir_common(req, ino, size, off, fi, FALSE);
}

static void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size,
			   off_t off, struct fuse_file_info *fi)
{
	readdir_common(req, ino, size, off, fi, TRUE);
}

static void op_releasedir(fuse_req_t req, fuse_ino_t ino,
			  struct fuse_file_info *fi)
{
	dirhandle *d = (dirhandle *)(uintptr_t)fi->fh;

	(void)ino;
	handle_untrack(FS(req), d);
	dirhandle_free(FS(req), d);
	fuse_reply_err(req, 0);
}

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode)
{
	fs_ctx *fs = FS(req);
	GError *err = NULL;
	fuse_ino_t ino = 0;

	(void)mode;
	if (ino_kind_of(parent) == INO_TRASH ||
	    (ino_kind_of(parent) == INO_ROOT && g_str_has_prefix(name, ".Trash-"))) {
		g_mutex_lock(&fs->ns_lock);
		ino = trash_mkdir(fs, parent, name, fuse_req_ctx(req)->uid, &err);
		g_mutex_unlock(&fs->ns_lock);
		if (!ino)
			errmap_reply(req, err);
		else
			reply_entry(req, fs, ino);
		return;
	}
	if (name[0] == '.') {
		fuse_reply_err(req, EINVAL);
		return;
	}
	g_mutex_lock(&fs->ns_lock);
	if (ino_kind_of(parent) == INO_ROOT) {
		store_mailbox *m = store_mailbox_create(fs->store, name, &err);

		if (m)
			ino = ino_make(INO_MAILBOX, 0, m->id);
		store_mailbox_free(m);
	} else if (ino_kind_of(parent) == INO_MAILBOX) {
		store_calendar *c = store_calendar_create(fs->store, ino_id(parent),
							  name, &err);

		if (c)
			ino = ino_make(INO_CALENDAR, 0, c->id);
		store_calendar_free(c);
	} else {
		g_set_error(&err, CALFS_ERROR, CALFS_ERROR_UNSUPPORTED,
			    "directories go at the top or in a mailbox");
	}
	g_mutex_unlock(&fs->ns_lock);
	if (!ino) {
		errmap_reply(req, err);
		return;
	}
	notify_kick(fs->notifier);
	reply_entry(req, fs, ino);
}

static gboolean calendar_has_files(fs_ctx *fs, gint64 cal_id, GError **err)
{
	store_calendar *cal = store_calendar_get(fs->store, cal_id, err);
	GPtrArray *nodes = g_ptr_array_new_with_free_func((GDestroyNotify)view_entry_free);
	gboolean full;

	if (!cal) {
		g_ptr_array_unref(nodes);
		return TRUE;
	}
	g_mutex_lock(&fs->nodes_lock);
	node_entries(fs, cal_id, nodes);
	g_mutex_unlock(&fs->nodes_lock);
	full = nodes->len || cal->displayname || cal->color;
	g_ptr_array_unref(nodes);
	store_calendar_free(cal);
	if (full)
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_NOTEMPTY,
			    "calendar not empty");
	return full;
}

static void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	fs_ctx *fs = FS(req);
	GError *err = NULL;
	fuse_ino_t ino = view_lookup(fs, parent, name, &err);
	gboolean ok = FALSE;

	if (!ino) {
		errmap_reply(req, err);
		return;
	}
	g_mutex_lock(&fs->ns_lock);
	if (ino_kind_of(ino) == INO_MAILBOX)
		ok = store_mailbox_delete(fs->store, ino_id(ino), &err);
	else if (ino_kind_of(ino) == INO_CALENDAR)
		ok = !calendar_has_files(fs, ino_id(ino), &err) &&
		     store_calendar_delete(fs->store, ino_id(ino), &err);
	else
		g_set_error(&err, CALFS_ERROR, CALFS_ERROR_UNSUPPORTED,
			    "only mailboxes and calendars can be removed");
	g_mutex_unlock(&fs->ns_lock);
	if (!ok) {
		errmap_reply(req, err);
		return;
	}
	notify_kick(fs->notifier);
	fuse_reply_err(req, 0);
}

/* ---- unlink, rename, link ---- */


/* Reply EROFS/EPERM for parents that hold no user files; TRUE if replied. */
static gboolean refuse_parent(fuse_req_t req, fuse_ino_t parent)
{
	switch (ino_kind_of(parent)) {
	case INO_CALENDAR:
		return FALSE;
	case INO_TRASH:
		if (trash_dir_id(parent))
			return FALSE;
		fuse_reply_err(req, EPERM);
		return TRUE;
	case INO_RAW:
		fuse_reply_err(req, EROFS);
		return TRUE;
	default:
		fuse_reply_err(req, EPERM);
		return TRUE;
	}
}

/* The calendar id of a directory that holds files: a calendar's, or the
 * one (below zero) of a trash's files/ or info/. */
static gint64 dir_id(fuse_ino_t parent)
{
	gint64 trash = trash_dir_id(parent);

	return trash ? trash : ino_id(parent);
}

static gboolean unlink_locked(fs_ctx *fs, gint64 cal, const char *name,
			      GError **err)
{
	store_item *it;
	node *n;

	if (cal > 0 && meta_of_name(name))
		return store_calendar_set_meta(fs->store, cal, name, NULL, err);
	g_mutex_lock(&fs->nodes_lock);
	n = node_find(fs, cal, name);
	if (n) {
		node_rename(fs, n, cal, NULL);
		node_release(fs, n);
	}
	g_mutex_unlock(&fs->nodes_lock);
	if (n)
		return TRUE;
	if (!(it = store_item_find(fs->store, cal, name, FALSE, err)))
		return FALSE;
	if (!store_item_delete(fs->store, it->id, err)) {
		store_item_free(it);
		return FALSE;
	}
	view_forget_render(fs, it->id);
	store_item_free(it);
	return TRUE;
}

static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	fs_ctx *fs = FS(req);
	GError *err = NULL;
	gboolean ok;

	if (refuse_parent(req, parent))
		return;
	g_mutex_lock(&fs->ns_lock);
	ok = unlink_locked(fs, dir_id(parent), name, &err);
	g_mutex_unlock(&fs->ns_lock);
	if (!ok) {
		errmap_reply(req, err);
		return;
	}
	notify_kick(fs->notifier);
	fuse_reply_err(req, 0);
}

/* Take a scratch or pending node called name in cal out of the way. */
static void drop_node_at(fs_ctx *fs, gint64 cal, const char *name)
{
	node *n;

	g_mutex_lock(&fs->nodes_lock);
	if ((n = node_find(fs, cal, name))) {
		node_rename(fs, n, cal, NULL);
		node_release(fs, n);
	}
	g_mutex_unlock(&fs->nodes_lock);
}

static gboolean target_exists(fs_ctx *fs, gint64 cal, const char *name)
{
	GError *err = NULL;
	fuse_ino_t ino;

	if (cal < 0) {		/* a trash directory: only scratch files */
		g_mutex_lock(&fs->nodes_lock);
		ino = node_find(fs, cal, name) != NULL;
		g_mutex_unlock(&fs->nodes_lock);
		return ino;
	}
	ino = view_lookup(fs, ino_make(INO_CALENDAR, 0, cal), name, &err);
	g_clear_error(&err);
	return ino != 0;
}

/* A scratch file's bytes made ready to become an item before fs->ns_lock
 * is taken (write_prepare), so that the rename holds the lock only to
 * store them. */
typedef struct {
	node *src;		/* the scratch node (compared, never followed) */
	GBytes *data;		/* its bytes then */
	write_job *job;
} prepared;

/* A scratch file becomes the item newname: validate and store its bytes. */
static gboolean scratch_to_item(fs_ctx *fs, node *src, gint64 newcal,
				const char *newname, const prepared *pre, GError **err)
{
	GBytes *data;
	node *pending;
	gint64 reserved = 0, id;

	g_mutex_lock(&fs->nodes_lock);
	data = g_bytes_new(src->data->data, src->data->len);
	pending = node_find(fs, newcal, newname);
	if (pending && pending->type == NODE_PENDING)
		reserved = pending->item_id;
	g_mutex_unlock(&fs->nodes_lock);
	/* prepared before the lock was taken, unless written since */
	if (pre && pre->job && pre->src == src && g_bytes_equal(pre->data, data))
		id = write_store(fs, pre->job, newcal, newname, reserved, err);
	else
		id = write_item(fs, newcal, newname, reserved, data, err);
	g_bytes_unref(data);
	if (!id)
		return FALSE;
	g_mutex_lock(&fs->nodes_lock);
	if (pending && node_find(fs, newcal, newname) == pending)
		node_retire(fs, pending);
	/* the kernel now knows src's inode under newname: let it stand for
	 * the item until the kernel looks the name up again */
	node_rename(fs, src, newcal, NULL);
	src->type = NODE_ALIAS;
	src->item_id = id;
	g_byte_array_set_size(src->data, 0);
	node_release(fs, src);
	g_mutex_unlock(&fs->nodes_lock);
	notify_inval_entry(fs->notifier, ino_make(INO_CALENDAR, 0, newcal), newname);
	return TRUE;
}

/* The item id becomes the scratch file newname, with its rendered bytes. */
static gboolean item_to_scratch(fs_ctx *fs, gint64 id, gint64 newcal,
				const char *newname, GError **err)
{
	rendered *r = view_render(fs, id, err);
	node *n;

	if (!r)
		return FALSE;
	if (!store_item_delete(fs->store, id, err)) {
		rendered_free(r);
		return FALSE;
	}
	view_forget_render(fs, id);
	drop_node_at(fs, newcal, newname);
	g_mutex_lock(&fs->nodes_lock);
	n = node_new(fs, NODE_SCRATCH, ino_make(INO_ITEM, 0, id), newcal, newname);
	if (newcal < 0)
		n->uid = trash_owner(newcal);
	g_byte_array_append(n->data, g_bytes_get_data(r->data, NULL),
			    g_bytes_get_size(r->data));
	g_mutex_unlock(&fs->nodes_lock);
	rendered_free(r);
	return TRUE;
}

/* The scratch file name (or the scratch node n when name is NULL) sets
 * newcal's displayname or color, as vdirsyncer and tempfile + os.replace
 * write them: its text, without the white space around it.  A rename
 * (keep FALSE) takes the scratch file's name away; a link keeps it, and
 * refuses when the value is set already. */
static gboolean scratch_to_meta(fs_ctx *fs, gint64 cal, const char *name, gint64 newcal,
				const char *key, gboolean keep, GError **err)
{
	store_calendar *c;
	char *v = NULL;
	gboolean ok, set;
	node *n;

	g_mutex_lock(&fs->nodes_lock);
	n = node_find(fs, cal, name);
	if (n && n->type == NODE_SCRATCH)
		v = g_strstrip(g_strndup((const char *)n->data->data, n->data->len));
	g_mutex_unlock(&fs->nodes_lock);
	if (!v) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_UNSUPPORTED,
			    "only a scratch file can become %s", key);
		return FALSE;
	}
	if (keep) {
		if (!(c = store_calendar_get(fs->store, newcal, err))) {
			g_free(v);
			return FALSE;
		}
		set = fs_meta_value(c, meta_of_name(key)) != NULL;
		store_calendar_free(c);
		if (set) {
			g_set_error(err, CALFS_ERROR, CALFS_ERROR_EXISTS, "%s exists", key);
			g_free(v);
			return FALSE;
		}
	}
	ok = store_calendar_set_meta(fs->store, newcal, key, v, err);
	if (!ok || keep) {
		g_free(v);
		return ok;
	}
	/* the kernel reads the scratch inode as key until the notifier's
	 * invalidation makes it look key up again: the same bytes */
	g_mutex_lock(&fs->nodes_lock);
	if (node_find(fs, cal, name) == n) {
		g_byte_array_set_size(n->data, 0);
		g_byte_array_append(n->data, (const guint8 *)v, strlen(v));
		node_rename(fs, n, cal, NULL);
		node_release(fs, n);
	}
	g_mutex_unlock(&fs->nodes_lock);
	g_free(v);
	notify_inval_entry(fs->notifier, ino_make(INO_CALENDAR, 0, newcal), key);
	return TRUE;
}

static gboolean rename_locked(fs_ctx *fs, gint64 cal, const char *name,
			      gint64 newcal, const char *newname,
			      unsigned int flags, const prepared *pre, GError **err)
{
	/* into a trash's files/ an item becomes a scratch file */
	gboolean to_item = newcal > 0 && item_name_is_item(newname);
	store_item *it;
	node *n;
	node_type type = NODE_SCRATCH;

	if (newcal > 0 && meta_of_name(newname) && !(cal > 0 && meta_of_name(name)))
		return scratch_to_meta(fs, cal, name, newcal, newname, FALSE, err);
	if ((cal > 0 && meta_of_name(name)) || (newcal > 0 && meta_of_name(newname))) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_UNSUPPORTED,
			    "displayname and color cannot be renamed");
		return FALSE;
	}
	if ((flags & RENAME_NOREPLACE) && target_exists(fs, newcal, newname)) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_EXISTS, "%s exists",
			    newname);
		return FALSE;
	}
	g_mutex_lock(&fs->nodes_lock);
	n = node_find(fs, cal, name);
	if (n)
		type = n->type;
	g_mutex_unlock(&fs->nodes_lock);

	if (n && type == NODE_SCRATCH && to_item)
		return scratch_to_item(fs, n, newcal, newname, pre, err);
	if (n) {
		/* scratch to scratch, or an item still being written */
		drop_node_at(fs, newcal, newname);
		g_mutex_lock(&fs->nodes_lock);
		node_rename(fs, n, newcal, newname);
		if (n->type == NODE_PENDING && !to_item)
			n->type = NODE_SCRATCH;
		g_mutex_unlock(&fs->nodes_lock);
		return TRUE;
	}
	if (!(it = store_item_find(fs->store, cal, name, FALSE, err)))
		return FALSE;
	if (to_item) {
		drop_node_at(fs, newcal, newname);
		if (!store_item_rename(fs->store, it->id, newcal, newname, err)) {
			errmap_refusal(*err);
			store_item_free(it);
			return FALSE;
		}
		view_forget_render(fs, it->id);
	} else if (!item_to_scratch(fs, it->id, newcal, newname, err)) {
		store_item_free(it);
		return FALSE;
	}
	store_item_free(it);
	return TRUE;
}

static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		      fuse_ino_t newparent, const char *newname,
		      unsigned int flags)
{
	fs_ctx *fs = FS(req);
	GError *err = NULL;
	prepared pre;
	gboolean ok;

	if (ino_kind_of(parent) == INO_ROOT || ino_kind_of(parent) == INO_MAILBOX) {
		/* moving mailboxes or calendars: let mv copy and delete */
		fuse_reply_err(req, EXDEV);
		return;
	}
	if (refuse_parent(req, parent) || refuse_parent(req, newparent))
		return;
	if (flags & RENAME_EXCHANGE) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	if (!item_name_is_valid(newname)) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	/* a scratch file becoming an item (sed -i, vim, tempfile): parsed
	 * and rendered before the lock is taken */
	memset(&pre, 0, sizeof(pre));
	if (dir_id(newparent) > 0 && item_name_is_item(newname)) {
		node *n;

		g_mutex_lock(&fs->nodes_lock);
		if ((n = node_find(fs, dir_id(parent), name)) && n->type == NODE_SCRATCH) {
			pre.src = n;
			pre.data = g_bytes_new(n->data->data, n->data->len);
		}
		g_mutex_unlock(&fs->nodes_lock);
		if (pre.data && !(pre.job = write_prepare(fs, dir_id(newparent), newname,
							  pre.data, &err))) {
			g_bytes_unref(pre.data);
			errmap_reply(req, err);
			return;
		}
	}
	g_mutex_lock(&fs->ns_lock);
	ok = rename_locked(fs, dir_id(parent), name, dir_id(newparent), newname,
			   flags, &pre, &err);
	g_mutex_unlock(&fs->ns_lock);
	write_finish(pre.job);
	if (pre.data)
		g_bytes_unref(pre.data);
	if (!ok) {
		errmap_reply(req, err);
		return;
	}
	notify_kick(fs->notifier);
	fuse_reply_err(req, 0);
}

/* link(scratch, displayname or color): sets it when it is not set. */
static void link_meta(fuse_req_t req, fs_ctx *fs, fuse_ino_t ino, gint64 cal,
		      const char *key)
{
	GError *err = NULL;
	gboolean ok = FALSE;
	node *n;
	gint64 from = 0;
	char *name = NULL;

	g_mutex_lock(&fs->ns_lock);
	g_mutex_lock(&fs->nodes_lock);
	n = node_get(fs, ino);
	if (n && n->type == NODE_SCRATCH && n->name) {
		from = n->calendar_id;
		name = g_strdup(n->name);
	}
	g_mutex_unlock(&fs->nodes_lock);
	if (name)
		ok = scratch_to_meta(fs, from, name, cal, key, TRUE, &err);
	else
		g_set_error(&err, CALFS_ERROR, CALFS_ERROR_UNSUPPORTED,
			    "only a scratch file can become %s", key);
	g_mutex_unlock(&fs->ns_lock);
	g_free(name);
	if (!ok) {
		errmap_reply(req, err);
		return;
	}
	notify_kick(fs->notifier);
	reply_entry(req, fs, ino_make(INO_META, meta_of_name(key), cal));
}

static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
		    const char *newname)
{
	fs_ctx *fs = FS(req);
	gint64 cal = ino_id(newparent), id = 0;
	GError *err = NULL;
	GBytes *data = NULL;
	write_job *job;
	node *n;

	if (refuse_parent(req, newparent))
		return;
	if (trash_dir_id(newparent)) {
		fuse_reply_err(req, EPERM);	/* the trash takes moves only */
		return;
	}
	if (meta_of_name(newname)) {
		link_meta(req, fs, ino, cal, newname);
		return;
	}
	if (!item_name_is_item(newname)) {
		fuse_reply_err(req, EPERM);
		return;
	}
	g_mutex_lock(&fs->nodes_lock);
	n = node_get(fs, ino);
	if (n && n->type == NODE_SCRATCH)
		data = g_bytes_new(n->data->data, n->data->len);
	g_mutex_unlock(&fs->nodes_lock);
	if (!data) {
		g_set_error(&err, CALFS_ERROR, CALFS_ERROR_UNSUPPORTED,
			    "only scratch files can be linked");
		errmap_reply(req, err);
		return;
	}
	if (target_exists(fs, cal, newname)) {
		g_bytes_unref(data);
		fuse_reply_err(req, EEXIST);
		return;
	}
	/* parsed and rendered before the lock is taken */
	job = write_prepare(fs, cal, newname, data, &err);
	g_bytes_unref(data);
	if (!job) {
		errmap_reply(req, err);
		return;
	}
	g_mutex_lock(&fs->ns_lock);
	if (target_exists(fs, cal, newname))
		g_set_error(&err, CALFS_ERROR, CALFS_ERROR_EXISTS, "%s exists", newname);
	else
		id = write_store(fs, job, cal, newname, 0, &err);
	g_mutex_unlock(&fs->ns_lock);
	write_finish(job);
	if (!id) {
		errmap_reply(req, err);
		return;
	}
	reply_entry(req, fs, ino_make(INO_ITEM, 0, id));
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	fs_ctx *fs = FS(req);
	struct statvfs sv;
	(void)ino;
	if (statvfs(fs->conf->state_dir, &sv) < 0)
		memset(&sv, 0, sizeof(sv));
	sv.f_namemax = 255;
	fuse_reply_statfs(req, &sv);
}

void ops_dir_register(struct fuse_lowlevel_ops *ops)
{
	ops->lookup = op_lookup;
	ops->forget = op_forget;
	ops->forget_multi = op_forget_multi;
	ops->opendir = op_opendir;
	ops->readdir = op_readdir;
	ops->readdirplus = op_readdirplus;
	ops->releasedir = op_releasedir;
	ops->mkdir = op_mkdir;
	ops->rmdir = op_rmdir;
	ops->unlink = op_unlink;
	ops->rename = op_rename;
	ops->link = op_link;
	ops->statfs = op_statfs;
}
