/* view.h - what the tree shows: names, attributes, listings, and the
 * rendered items, cached by version (renderings, calendar names, the
 * versions whose pages and sizes the kernel has, extracted zones: the
 * view's cache, under a lock of its own, a leaf).
 */
#ifndef CALFS_VIEW_H
#define CALFS_VIEW_H

#include "fs.h"

typedef struct {
	char *name;
	fuse_ino_t ino;
	mode_t type;		/* S_IFDIR or S_IFREG */
} view_entry;

void view_entry_free(view_entry *e);
/* view_entry_add: append a new entry (name copied) to out. */
void view_entry_add(GPtrArray *out, const char *name, fuse_ino_t ino, mode_t type);

typedef struct {
	gint64 mailbox_id;
	char *mailbox;		/* mailbox name */
	char *calendar;		/* calendar name */
} calinfo;

/* view_calinfo: the names around a calendar (cached; calendars never move).
 * Returns a copy to free with view_calinfo_free, or NULL with err set. */
calinfo *view_calinfo(fs_ctx *fs, gint64 calendar_id, GError **err);
void view_calinfo_free(calinfo *ci);

typedef struct {
	gint64 item_id;
	gint64 calendar_id;
	gint64 version;
	gint64 mtime_ns;
	GBytes *data;		/* rendered bytes */
	char *fixes;		/* what rendering changed, one per line */
	char *uid;
	char *name;
	char *zone;		/* the mailbox zone it was made with, or NULL */
	char *stored;		/* the mailbox's stored zone then (cache check) */
	gboolean rebased;	/* rebasing changed it: its mtime follows tzdata */
	const char *tzdata;	/* the tzdata version it was made with (kept
				 * for the life of the process: compared as a
				 * pointer) */
} rendered;

void rendered_free(rendered *r);

/* view_init, view_clear: fs->cache. */
void view_init(fs_ctx *fs);
void view_clear(fs_ctx *fs);

/* view_render_key: what the kernel may cache of a rendering: its version,
 * and the zone it was made with (which changes it without a new
 * version). */
gint64 view_render_key(const rendered *r);

/* view_invalidated: the notifier has invalidated the kernel's attributes
 * of ino (it dropped every reply to a request sent before): a reply begun
 * from now on tells the kernel ino's size again.  Takes the cache's lock. */
void view_invalidated(fs_ctx *fs, fuse_ino_t ino);

/* view_open_cached: how fi opens ino at version key (size bytes) for
 * reading: through the page cache keeping the kernel's pages when they are
 * this version's, dropping them when the kernel knows this version's size,
 * direct_io until it does or while a handle of another version reads
 * through the page cache (whose size attribute replies tell meanwhile).  TRUE when through the page cache: call view_closed when
 * the handle is released. */
gboolean view_open_cached(fs_ctx *fs, fuse_ino_t ino, gint64 key, gsize size,
			  struct fuse_file_info *fi);

/* view_closed: a handle view_open_cached opened through the page cache
 * was released. */
void view_closed(fs_ctx *fs, fuse_ino_t ino);

/* view_render: the rendered item id (cached by version).  A copy to free
 * with rendered_free, or NULL with err set. */
rendered *view_render(fs_ctx *fs, gint64 item_id, GError **err);

/* view_forget_render: drop the cached rendering of an item. */
void view_forget_render(fs_ctx *fs, gint64 item_id);

/* view_stored_zone: a mailbox's zone short of mount.conf's (which comes
 * first): the one set through .calfs/timezone.  Newly allocated, or NULL. */
char *view_stored_zone(fs_ctx *fs, gint64 mailbox_id);

/* view_tzdata_changed: a new tzdata was taken: drop every rendering and
 * zone scan, and move the mtimes of the calendars and of the items whose
 * rendering rebasing changes to now. */
void view_tzdata_changed(fs_ctx *fs);

/* view_stat: the attributes of ino.  FALSE with err set (NOTFOUND...). */
gboolean view_stat(fs_ctx *fs, fuse_ino_t ino, struct stat *st, GError **err);

/* view_lookup: the inode of name in directory parent, or 0 with err set. */
fuse_ino_t view_lookup(fs_ctx *fs, fuse_ino_t parent, const char *name, GError **err);

/* view_list: the entries of directory ino (without . and ..), a GPtrArray
 * of view_entry*, or NULL with err set. */
GPtrArray *view_list(fs_ctx *fs, fuse_ino_t ino, GError **err);

/* view_parent: the parent directory of directory ino (root for root). */
fuse_ino_t view_parent(fs_ctx *fs, fuse_ino_t ino);

/* view_entry_param: fill e for ino (attributes and timeouts). */
gboolean view_entry_param(fs_ctx *fs, fuse_ino_t ino, struct fuse_entry_param *e,
			  GError **err);

#endif
