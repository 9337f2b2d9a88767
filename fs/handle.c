/* handle.c - the handles the kernel holds (handle.h) */
#include "handle.h"

struct handle_table {
	GMutex lock;		/* guards held */
	GHashTable *held;	/* handle -> its handle_free_fn */
};

void handle_table_init(fs_ctx *fs)
{
	handle_table *t = g_new0(handle_table, 1);

	g_mutex_init(&t->lock);
	t->held = g_hash_table_new(g_direct_hash, g_direct_equal);
	fs->handles = t;
}

void handle_table_clear(fs_ctx *fs)
{
	handle_table *t = fs->handles;
	GHashTableIter it;
	gpointer h, free_fn;

	if (!t)
		return;
	g_hash_table_iter_init(&it, t->held);
	while (g_hash_table_iter_next(&it, &h, &free_fn))
		((handle_free_fn)free_fn)(fs, h);
	g_hash_table_destroy(t->held);
	g_mutex_clear(&t->lock);
	g_free(t);
	fs->handles = NULL;
}

void handle_track(fs_ctx *fs, gpointer h, handle_free_fn free_fn)
{
	handle_table *t = fs->handles;

	g_mutex_lock(&t->lock);
	g_hash_table_insert(t->held, h, (gpointer)free_fn);
	g_mutex_unlock(&t->lock);
}

void handle_untrack(fs_ctx *fs, gpointer h)
{
	handle_table *t = fs->handles;

	g_mutex_lock(&t->lock);
	g_hash_table_remove(t->held, h);
	g_mutex_unlock(&t->lock);
}
