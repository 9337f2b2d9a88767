#include "trash.h"
#include "node.h"
#include "view.h"
#include "error.h"

#include <stdlib.h>
#include <string.h>

/* .Trash/UID is area uid * 2, .Trash-UID area uid * 2 + 1 */
static gint64 area_of(uid_t uid, gboolean dashed)
{
	return (gint64)uid * 2 + (dashed ? 1 : 0);
}

static uid_t area_uid(gint64 area)
{
	return (uid_t)(area / 2);
}

gint64 trash_dir_id(fuse_ino_t ino)
{
	if (ino_kind_of(ino) != INO_TRASH ||
	    (ino_sub(ino) != TRASH_FILES && ino_sub(ino) != TRASH_INFO))
		return 0;
	return -(ino_id(ino) * 4 + (ino_sub(ino) - TRASH_FILES)) - 1;
}

uid_t trash_owner(gint64 dir_id)
{
	return area_uid((-dir_id - 1) / 4);
}

/* A user id as a trash directory names it ("1000"), or -1. */
static gint64 parse_uid(const char *s)
{
	char *end;
	gint64 v;

	if (!g_ascii_isdigit(*s) || (s[0] == '0' && s[1]))
		return -1;
	v = g_ascii_strtoll(s, &end, 10);
	return *end || v > G_MAXUINT32 ? -1 : v;
}

static gboolean made(fs_ctx *fs, gint64 area)
{
	return g_hash_table_contains(fs->trash_areas, GSIZE_TO_POINTER((gsize)area + 1));
}

/* The area a name at the root (".Trash-UID") or in .Trash ("UID") means,
 * or -1. */
static gint64 area_named(fuse_ino_t parent, const char *name)
{
	gint64 uid = -1;

	if (ino_kind_of(parent) == INO_ROOT && g_str_has_prefix(name, ".Trash-"))
		uid = parse_uid(name + strlen(".Trash-"));
	else if (ino_kind_of(parent) == INO_TRASH && ino_sub(parent) == TRASH_TOP)
		uid = parse_uid(name);
	return uid < 0 ? -1 : area_of((uid_t)uid, ino_kind_of(parent) == INO_ROOT);
}

gboolean trash_lookup(fs_ctx *fs, fuse_ino_t parent, const char *name, fuse_ino_t *ino)
{
	gint64 area = area_named(parent, name), dir = trash_dir_id(parent);
	node *n;

	*ino = 0;
	if (ino_kind_of(parent) == INO_ROOT && !strcmp(name, ".Trash")) {
		*ino = ino_make(INO_TRASH, TRASH_TOP, 0);
		return TRUE;
	}
	if (area >= 0) {
		g_mutex_lock(&fs->nodes_lock);
		if (made(fs, area))
			*ino = ino_make(INO_TRASH, TRASH_AREA, area);
		g_mutex_unlock(&fs->nodes_lock);
		return TRUE;
	}
	if (ino_kind_of(parent) == INO_ROOT)
		return FALSE;
	if (ino_kind_of(parent) != INO_TRASH)
		return FALSE;
	if (ino_sub(parent) == TRASH_AREA && !strcmp(name, "files"))
		*ino = ino_make(INO_TRASH, TRASH_FILES, ino_id(parent));
	else if (ino_sub(parent) == TRASH_AREA && !strcmp(name, "info"))
		*ino = ino_make(INO_TRASH, TRASH_INFO, ino_id(parent));
	else if (dir) {
		g_mutex_lock(&fs->nodes_lock);
		if ((n = node_find(fs, dir, name)))
			*ino = n->ino;
		g_mutex_unlock(&fs->nodes_lock);
	}
	return TRUE;
}

void trash_stat(fs_ctx *fs, fuse_ino_t ino, struct stat *st)
{
	(void)fs;
	st->st_mode = S_IFDIR | 0700;
	st->st_nlink = 2;
	st->st_size = 4096;
	st->st_blocks = 8;
	if (ino_sub(ino) == TRASH_TOP) {
		/* what the trash spec asks of a shared .Trash: sticky, and
		 * anyone may make a directory of their own in it */
		st->st_mode = S_IFDIR | 01777;
		st->st_uid = 0;
		st->st_gid = 0;
		return;
	}
	st->st_uid = area_uid(ino_id(ino));
	st->st_gid = 0;
}

static int by_area(gconstpointer a, gconstpointer b)
{
	gint64 x = GPOINTER_TO_SIZE(*(gconstpointer *)a), y = GPOINTER_TO_SIZE(*(gconstpointer *)b);

	return (x > y) - (x < y);
}

void trash_list(fs_ctx *fs, fuse_ino_t ino, GPtrArray *out)
{
	gint64 dir = trash_dir_id(ino);
	GPtrArray *areas;

	if (dir) {
		g_mutex_lock(&fs->nodes_lock);
		node_entries(fs, dir, out);
		g_mutex_unlock(&fs->nodes_lock);
		return;
	}
	if (ino_kind_of(ino) == INO_TRASH && ino_sub(ino) == TRASH_AREA) {
		view_entry_add(out, "files", ino_make(INO_TRASH, TRASH_FILES, ino_id(ino)), S_IFDIR);
		view_entry_add(out, "info", ino_make(INO_TRASH, TRASH_INFO, ino_id(ino)), S_IFDIR);
		return;
	}
	if (ino_kind_of(ino) == INO_ROOT)
		view_entry_add(out, ".Trash", ino_make(INO_TRASH, TRASH_TOP, 0), S_IFDIR);
	areas = g_ptr_array_new();
	g_mutex_lock(&fs->nodes_lock);
	GList *keys = g_hash_table_get_keys(fs->trash_areas);
	for (GList *k = keys; k; k = k->next)
		g_ptr_array_add(areas, k->data);
	g_list_free(keys);
	g_mutex_unlock(&fs->nodes_lock);
	g_ptr_array_sort(areas, by_area);
	for (guint i = 0; i < areas->len; i++) {
		gint64 area = (gint64)GPOINTER_TO_SIZE(areas->pdata[i]) - 1;
		gboolean dashed = area % 2;
		char *name;

		if (dashed != (ino_kind_of(ino) == INO_ROOT))
			continue;
		name = dashed ? g_strdup_printf(".Trash-%u", area_uid(area))
			      : g_strdup_printf("%u", area_uid(area));
		view_entry_add(out, name, ino_make(INO_TRASH, TRASH_AREA, area), S_IFDIR);
		g_free(name);
	}
	g_ptr_array_unref(areas);
}

fuse_ino_t trash_parent(fuse_ino_t ino)
{
	switch (ino_sub(ino)) {
	case TRASH_AREA:
		return ino_id(ino) % 2 ? FUSE_ROOT_ID : ino_make(INO_TRASH, TRASH_TOP, 0);
	case TRASH_FILES:
	case TRASH_INFO:
		return ino_make(INO_TRASH, TRASH_AREA, ino_id(ino));
	default:
		return FUSE_ROOT_ID;
	}
}

fuse_ino_t trash_mkdir(fs_ctx *fs, fuse_ino_t parent, const char *name, uid_t uid,
		       GError **err)
{
	gint64 area = area_named(parent, name);
	gboolean was;

	if (ino_kind_of(parent) == INO_TRASH && ino_sub(parent) == TRASH_AREA &&
	    (!strcmp(name, "files") || !strcmp(name, "info"))) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_EXISTS, "%s exists", name);
		return 0;
	}
	if (area < 0) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_UNSUPPORTED,
			    "a trash holds files/ and info/, made by their user");
		return 0;
	}
	if (uid != 0 && uid != area_uid(area)) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_UNSUPPORTED, "%s: another user's trash", name);
		return 0;
	}
	g_mutex_lock(&fs->nodes_lock);
	was = !g_hash_table_add(fs->trash_areas, GSIZE_TO_POINTER((gsize)area + 1));
	g_mutex_unlock(&fs->nodes_lock);
	if (was) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_EXISTS, "%s exists", name);
		return 0;
	}
	return ino_make(INO_TRASH, TRASH_AREA, area);
}
