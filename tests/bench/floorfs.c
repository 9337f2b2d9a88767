/* floorfs - the FUSE floor for make bench: a read-only in-memory file
 * system that serves a directory tree loaded at start, with nothing else
 * to do.  Whatever calfs spends above it is calfs's own.
 *
 * usage: floorfs SOURCE-DIR MOUNTPOINT [-f] [-o OPTS]
 *
 * With FLOORFS_NO_OPEN=1 in the environment it answers open with ENOSYS
 * and has no flush (FUSE_CAP_NO_OPEN_SUPPORT): the kernel then serves
 * cached pages without asking it anything, the floor of a file system
 * that keeps no per-open state.
 */
#define FUSE_USE_VERSION 312
#include <fuse.h>

#include <errno.h>
#include <glib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
	gboolean dir;
	GBytes *data;		/* files */
	GPtrArray *names;	/* directories: child names */
} entry;

static GHashTable *tree;	/* "/path" -> entry* */

static void load(const char *real, const char *path)
{
	entry *e = g_new0(entry, 1);
	GDir *d;

	g_hash_table_insert(tree, g_strdup(path), e);
	if (!g_file_test(real, G_FILE_TEST_IS_DIR)) {
		char *text = NULL;
		gsize len = 0;

		g_file_get_contents(real, &text, &len, NULL);
		e->data = g_bytes_new_take(text, len);
		return;
	}
	e->dir = TRUE;
	e->names = g_ptr_array_new_with_free_func(g_free);
	if (!(d = g_dir_open(real, 0, NULL)))
		return;
	for (const char *n; (n = g_dir_read_name(d));) {
		char *r = g_build_filename(real, n, NULL);
		char *p = strcmp(path, "/") ? g_strconcat(path, "/", n, NULL)
					    : g_strconcat("/", n, NULL);

		g_ptr_array_add(e->names, g_strdup(n));
		load(r, p);
		g_free(r);
		g_free(p);
	}
	g_dir_close(d);
}

static int fl_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	entry *e = g_hash_table_lookup(tree, path);

	(void)fi;
	if (!e)
		return -ENOENT;
	memset(st, 0, sizeof(*st));
	st->st_mode = e->dir ? S_IFDIR | 0555 : S_IFREG | 0444;
	st->st_nlink = e->dir ? 2 : 1;
	st->st_size = e->dir ? 4096 : (off_t)g_bytes_get_size(e->data);
	return 0;
}

static int fl_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off,
		      struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	entry *e = g_hash_table_lookup(tree, path);

	(void)off;
	(void)fi;
	(void)flags;
	if (!e || !e->dir)
		return -ENOTDIR;
	fill(buf, ".", NULL, 0, 0);
	fill(buf, "..", NULL, 0, 0);
	for (guint i = 0; i < e->names->len; i++)
		fill(buf, e->names->pdata[i], NULL, 0, 0);
	return 0;
}

static gboolean no_open;

static void *fl_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	(void)cfg;
	if (no_open)
		conn->want |= conn->capable & FUSE_CAP_NO_OPEN_SUPPORT;
	return NULL;
}

static int fl_open(const char *path, struct fuse_file_info *fi)
{
	entry *e = g_hash_table_lookup(tree, path);

	if (no_open)
		return -ENOSYS;
	if (!e || e->dir)
		return -ENOENT;
	fi->keep_cache = 1;
	return 0;
}

static int fl_read(const char *path, char *buf, size_t size, off_t off,
		   struct fuse_file_info *fi)
{
	entry *e = g_hash_table_lookup(tree, path);
	gsize len;
	const char *d;

	(void)fi;
	if (!e || e->dir)
		return -ENOENT;
	d = g_bytes_get_data(e->data, &len);
	if ((gsize)off >= len)
		return 0;
	size = MIN(size, len - off);
	memcpy(buf, d + off, size);
	return size;
}

static const struct fuse_operations ops = {
	.init = fl_init,
	.getattr = fl_getattr,
	.readdir = fl_readdir,
	.open = fl_open,
	.read = fl_read,
};

int main(int argc, char **argv)
{
	if (argc < 3) {
		g_printerr("usage: floorfs SOURCE-DIR MOUNTPOINT [-f] [-o OPTS]\n");
		return 2;
	}
	no_open = !g_strcmp0(g_getenv("FLOORFS_NO_OPEN"), "1");
	tree = g_hash_table_new(g_str_hash, g_str_equal);
	load(argv[1], "/");
	/* drop SOURCE-DIR: the rest is fuse_main's */
	argv[1] = argv[0];
	return fuse_main(argc - 1, argv + 1, &ops, NULL);
}
