#include "node.h"
#include "view.h"

#include <string.h>
#include <time.h>

static char *name_key(gint64 calendar_id, const char *name)
{
	return g_strdup_printf("%" G_GINT64_FORMAT "/%s", calendar_id, name);
}

static void node_free(node *n)
{
	g_free(n->name);
	if (n->data)
		g_byte_array_unref(n->data);
	g_free(n);
}

struct node_tables {
	GHashTable *by_ino;	/* fuse_ino_t* -> node* */
	GHashTable *by_name;	/* "calendar-id/name" -> node* */
	gint64 next;		/* the next INO_NODE number */
};

void node_tables_init(fs_ctx *fs)
{
	g_mutex_init(&fs->nodes_lock);
	fs->nodes = g_new0(node_tables, 1);
	fs->nodes->by_ino = g_hash_table_new_full(g_int64_hash, g_int64_equal,
						  NULL, (GDestroyNotify)node_free);
	fs->nodes->by_name = g_hash_table_new_full(g_str_hash, g_str_equal,
						   g_free, NULL);
	fs->nodes->next = 1;
}

void node_tables_clear(fs_ctx *fs)
{
	g_hash_table_destroy(fs->nodes->by_name);
	g_hash_table_destroy(fs->nodes->by_ino);
	g_clear_pointer(&fs->nodes, g_free);
	g_mutex_clear(&fs->nodes_lock);
}

node *node_get(fs_ctx *fs, fuse_ino_t ino)
{
	gint64 key = (gint64)ino;

	return g_hash_table_lookup(fs->nodes->by_ino, &key);
}

node *node_find(fs_ctx *fs, gint64 calendar_id, const char *name)
{
	char *key = name_key(calendar_id, name);
	node *n = g_hash_table_lookup(fs->nodes->by_name, key);

	g_free(key);
	return n;
}

node *node_new(fs_ctx *fs, node_type type, fuse_ino_t ino, gint64 calendar_id,
	       const char *name)
{
	node *n = g_new0(node, 1);

	n->ino = ino ? ino : ino_make(INO_NODE, 0, fs->nodes->next++);
	n->type = type;
	n->data = g_byte_array_new();
	n->mode = 0644;
	n->uid = fs->uid;
	n->gid = fs->gid;
	clock_gettime(CLOCK_REALTIME, &n->mtime);
	n->ctime = n->mtime;
	g_hash_table_insert(fs->nodes->by_ino, &n->ino, n);
	node_rename(fs, n, calendar_id, name);
	return n;
}

void node_rename(fs_ctx *fs, node *n, gint64 calendar_id, const char *name)
{
	if (n->name) {
		char *old = name_key(n->calendar_id, n->name);

		if (g_hash_table_lookup(fs->nodes->by_name, old) == n)
			g_hash_table_remove(fs->nodes->by_name, old);
		g_free(old);
		g_clear_pointer(&n->name, g_free);
	}
	n->calendar_id = calendar_id;
	if (name) {
		n->name = g_strdup(name);
		g_hash_table_replace(fs->nodes->by_name,
				     name_key(calendar_id, name), n);
	}
	clock_gettime(CLOCK_REALTIME, &n->ctime);
}

void node_retire(fs_ctx *fs, node *n)
{
	if (n->retired)
		return;
	node_rename(fs, n, n->calendar_id, NULL);
	n->retired = TRUE;
	g_hash_table_steal(fs->nodes->by_ino, &n->ino);
	if (!n->opens)
		node_free(n);
}

void node_release(fs_ctx *fs, node *n)
{
	gboolean counted = ino_kind_of(n->ino) == INO_NODE;

	if (n->retired) {
		if (!n->opens)
			node_free(n);
		return;
	}
	/* an unlinked file or an alias lives while the kernel knows it: an
	 * item's inode is not counted, and its alias (an item renamed to a
	 * scratch file and back: the trash) lives until the kernel forgets
	 * the inode (ops_forget) */
	if (n->name || n->opens || (counted && n->nlookup) ||
	    (!counted && n->type == NODE_ALIAS && !n->forgotten))
		return;
	g_hash_table_remove(fs->nodes->by_ino, &n->ino);
}

void node_entries(fs_ctx *fs, gint64 calendar_id, GPtrArray *out)
{
	GHashTableIter it;
	gpointer v;

	g_hash_table_iter_init(&it, fs->nodes->by_ino);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		node *n = v;

		/* a new .ics still being written is listed once it is an
		 * item (closed): a reader that lists and opens never gets the
		 * empty file a writer has only created (make check caught
		 * one, test_parallel_writers_readers_and_an_import) */
		if (!n->name || n->calendar_id != calendar_id ||
		    n->type == NODE_PENDING)
			continue;
		view_entry_add(out, n->name, n->ino, S_IFREG);
	}
}
