/* glib_sync.c - what ThreadSanitizer cannot see in GLib, told to it
 *
 * GLib's GMutex, GCond and GAsyncQueue wait on futexes, not on pthread
 * objects, so ThreadSanitizer, which learns about synchronisation from the
 * pthread functions it intercepts, takes every access guarded by them for
 * a race.
 * Linked into the daemon of a SANITIZE=thread build only: these definitions
 * come before libglib's for calfs's own calls; each calls GLib's and tells
 * ThreadSanitizer the acquire or release it made (a GThreadPool's tasks
 * and its end are handed over the same way).  GLib's calls to itself
 * are not seen, and need not be: GLib is not what is being checked.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <glib.h>
#include <sanitizer/tsan_interface.h>
#include <stdlib.h>

/* GLib's own definition of name; the process cannot go on without it. */
static void *real(const char *name)
{
	void *f = dlsym(RTLD_NEXT, name);

	if (!f)
		abort();
	return f;
}

typedef void (*mutex_fn)(GMutex *);
typedef gboolean (*trylock_fn)(GMutex *);
typedef void (*cond_wait_fn)(GCond *, GMutex *);
typedef void (*push_fn)(GAsyncQueue *, gpointer);
typedef gpointer (*pop_fn)(GAsyncQueue *, guint64);
typedef GThreadPool *(*pool_new_fn)(GFunc, gpointer, gint, gboolean, GError **);
typedef gboolean (*pool_push_fn)(GThreadPool *, gpointer, GError **);
typedef void (*pool_free_fn)(GThreadPool *, gboolean, gboolean);

/* static T f; set once to GLib's function name: racy only in the way every
 * thread writes the same value */
#define REAL(f, T, name) \
	static T f; \
	if (!__atomic_load_n(&f, __ATOMIC_ACQUIRE)) \
		__atomic_store_n(&f, (T)real(name), __ATOMIC_RELEASE)

void g_mutex_lock(GMutex *mutex)
{
	REAL(lock, mutex_fn, "g_mutex_lock");
	lock(mutex);
	__tsan_acquire(mutex);
}

gboolean g_mutex_trylock(GMutex *mutex)
{
	REAL(trylock, trylock_fn, "g_mutex_trylock");
	if (!trylock(mutex))
		return FALSE;
	__tsan_acquire(mutex);
	return TRUE;
}

void g_mutex_unlock(GMutex *mutex)
{
	REAL(unlock, mutex_fn, "g_mutex_unlock");
	__tsan_release(mutex);
	unlock(mutex);
}

/* Waiting lets the mutex go and takes it again inside GLib. */
void g_cond_wait(GCond *cond, GMutex *mutex)
{
	REAL(wait, cond_wait_fn, "g_cond_wait");
	__tsan_release(mutex);
	wait(cond, mutex);
	__tsan_acquire(mutex);
}

void g_async_queue_push(GAsyncQueue *queue, gpointer data)
{
	REAL(push, push_fn, "g_async_queue_push");
	__tsan_release(data);
	push(queue, data);
}

gpointer g_async_queue_timeout_pop(GAsyncQueue *queue, guint64 timeout)
{
	gpointer data;

	REAL(pop, pop_fn, "g_async_queue_timeout_pop");
	data = pop(queue, timeout);
	if (data)
		__tsan_acquire(data);
	return data;
}

/* A pool's function, called through run_task so that each task acquires
 * what its pusher released, and releases what the pool's end acquires. */
typedef struct {
	GFunc func;
	gpointer user_data;
} task_func;

static pthread_mutex_t pools_lock = PTHREAD_MUTEX_INITIALIZER;
static GHashTable *pools;	/* GThreadPool* -> task_func* */

static void run_task(gpointer data, gpointer user_data)
{
	task_func *t = user_data;

	__tsan_acquire(data);
	t->func(data, t->user_data);
	__tsan_release(t);
}

GThreadPool *g_thread_pool_new(GFunc func, gpointer user_data, gint max_threads,
			       gboolean exclusive, GError **error)
{
	task_func *t = g_new(task_func, 1);
	GThreadPool *pool;

	REAL(pool_new, pool_new_fn, "g_thread_pool_new");
	t->func = func;
	t->user_data = user_data;
	pool = pool_new(run_task, t, max_threads, exclusive, error);
	if (!pool) {
		g_free(t);
		return NULL;
	}
	pthread_mutex_lock(&pools_lock);
	if (!pools)
		pools = g_hash_table_new(g_direct_hash, g_direct_equal);
	g_hash_table_insert(pools, pool, t);
	pthread_mutex_unlock(&pools_lock);
	return pool;
}

gboolean g_thread_pool_push(GThreadPool *pool, gpointer data, GError **error)
{
	REAL(pool_push, pool_push_fn, "g_thread_pool_push");
	__tsan_release(data);
	return pool_push(pool, data, error);
}

void g_thread_pool_free(GThreadPool *pool, gboolean immediate, gboolean wait_)
{
	task_func *t;

	REAL(pool_free, pool_free_fn, "g_thread_pool_free");
	pthread_mutex_lock(&pools_lock);
	t = g_hash_table_lookup(pools, pool);
	g_hash_table_remove(pools, pool);
	pthread_mutex_unlock(&pools_lock);
	pool_free(pool, immediate, wait_);
	if (t && wait_)
		__tsan_acquire(t);
	g_free(t);
}
