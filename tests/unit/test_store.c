/* Unit tests: the store, its journal and its change log, on a real SQLite
 * file in a temporary directory; or, when CALFS_TEST_PG is the URL of a
 * PostgreSQL server's "postgres" database, on a new database there */
#include "error.h"
#include "store.h"

#include <glib/gstdio.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <string.h>
#include <unistd.h>

typedef struct {
	char *dir;
	char *path;
	store *s;
	gint64 cal;
} fixture;

static const char item_a[] = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
static const char item_a2[] = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nSUMMARY:2\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
static const char item_b[] = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:b\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

static const char *pg_url;	/* CALFS_TEST_PG, or NULL for SQLite */

/* A new database on the PostgreSQL server; its URL. */
static char *new_database(void)
{
	static int n;
	PGconn *c = PQconnectdb(pg_url);
	char *name = g_strdup_printf("unit_%d_%d", (int)getpid(), ++n);
	char *sql = g_strdup_printf("CREATE DATABASE %s", name);
	PGresult *r;
	char *url;

	g_assert_cmpint(PQstatus(c), ==, CONNECTION_OK);
	r = PQexec(c, sql);
	g_assert_cmpint(PQresultStatus(r), ==, PGRES_COMMAND_OK);
	PQclear(r);
	PQfinish(c);
	g_assert_true(g_str_has_suffix(pg_url, "/postgres"));
	url = g_strdup_printf("%.*s/%s", (int)(strlen(pg_url) - strlen("/postgres")),
			      pg_url, name);
	g_free(sql);
	g_free(name);
	return url;
}

static void setup(fixture *f, gconstpointer data)
{
	store_mailbox *m;
	store_calendar *c;

	(void)data;
	f->dir = g_dir_make_tmp("calfs-store-XXXXXX", NULL);
	f->path = pg_url ? new_database() : g_build_filename(f->dir, "t.db", NULL);
	f->s = store_open(f->path, "test", STORE_CREATE, NULL);
	g_assert_nonnull(f->s);
	m = store_mailbox_create(f->s, "alice@example.com", NULL);
	g_assert_nonnull(m);
	c = store_calendar_create(f->s, m->id, "Calendar", NULL);
	g_assert_nonnull(c);
	f->cal = c->id;
	store_mailbox_free(m);
	store_calendar_free(c);
}

static void teardown(fixture *f, gconstpointer data)
{
	char *wal = g_strconcat(f->path, "-wal", NULL);
	char *shm = g_strconcat(f->path, "-shm", NULL);

	(void)data;
	store_close(f->s);
	g_unlink(f->path);
	g_unlink(wal);
	g_unlink(shm);
	g_rmdir(f->dir);
	g_free(wal);
	g_free(shm);
	g_free(f->path);
	g_free(f->dir);
}

static store_item *put(fixture *f, const char *name, const char *uid,
		       const char *text, store_put_result *res, GError **err)
{
	GBytes *b = g_bytes_new_static(text, strlen(text));
	store_put req = { .calendar_id = f->cal, .name = name, .uid = uid, .data = b };
	store_item *it = store_item_put(f->s, &req, res, err);

	g_bytes_unref(b);
	return it;
}

/* Run a query on the store through a second connection. */
static char *query(fixture *f, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	char *r = NULL;

	if (pg_url) {
		PGconn *c = PQconnectdb(f->path);
		PGresult *res = PQexec(c, sql);

		g_assert_cmpint(PQresultStatus(res), ==, PGRES_TUPLES_OK);
		if (PQntuples(res) && !PQgetisnull(res, 0, 0) &&
		    PQftype(res, 0) == 17) {	/* bytea, in hex */
			size_t n;
			unsigned char *b = PQunescapeBytea(
				(const unsigned char *)PQgetvalue(res, 0, 0), &n);

			r = g_strndup((const char *)b, n);
			PQfreemem(b);
		} else if (PQntuples(res) && !PQgetisnull(res, 0, 0)) {
			r = g_strdup(PQgetvalue(res, 0, 0));
		}
		PQclear(res);
		PQfinish(c);
		return r;
	}

	g_assert_cmpint(sqlite3_open(f->path, &db), ==, SQLITE_OK);
	g_assert_cmpint(sqlite3_prepare_v2(db, sql, -1, &st, NULL), ==, SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		r = g_strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return r;
}

/* Run a statement that returns no rows on the store through a second
 * connection. */
static void exec_sql(fixture *f, const char *sql)
{
	sqlite3 *db;

	if (pg_url) {
		PGconn *c = PQconnectdb(f->path);
		PGresult *res = PQexec(c, sql);

		g_assert_cmpint(PQresultStatus(res), ==, PGRES_COMMAND_OK);
		PQclear(res);
		PQfinish(c);
		return;
	}
	g_assert_cmpint(sqlite3_open(f->path, &db), ==, SQLITE_OK);
	g_assert_cmpint(sqlite3_exec(db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
	sqlite3_close(db);
}

static void test_mailboxes(fixture *f, gconstpointer data)
{
	GError *err = NULL;
	GPtrArray *l;
	store_mailbox *m;

	(void)data;
	g_assert_null(store_mailbox_create(f->s, "alice@example.com", &err));
	g_assert_error(err, CALFS_ERROR, CALFS_ERROR_EXISTS);
	g_clear_error(&err);
	g_assert_null(store_mailbox_create(f->s, "a/b", &err));
	g_assert_error(err, CALFS_ERROR, CALFS_ERROR_NAME);
	g_clear_error(&err);
	m = store_mailbox_create(f->s, "bob@example.com", NULL);
	l = store_mailbox_list(f->s, NULL);
	g_assert_cmpuint(l->len, ==, 2);
	g_assert_cmpstr(((store_mailbox *)l->pdata[0])->name, ==, "alice@example.com");
	g_ptr_array_unref(l);
	g_assert_true(store_mailbox_delete(f->s, m->id, NULL));
	g_assert_null(store_mailbox_find(f->s, "bob@example.com", &err));
	g_assert_error(err, CALFS_ERROR, CALFS_ERROR_NOTFOUND);
	g_clear_error(&err);
	store_mailbox_free(m);
	m = store_mailbox_find(f->s, "alice@example.com", NULL);
	g_assert_false(store_mailbox_delete(f->s, m->id, &err));
	g_assert_error(err, CALFS_ERROR, CALFS_ERROR_NOTEMPTY);
	g_clear_error(&err);
	store_mailbox_free(m);
}

static void test_put_replace(fixture *f, gconstpointer data)
{
	store_put_result res;
	store_item *it, *it2, *got;
	store_calendar *c1, *c2;
	GError *err = NULL;

	(void)data;
	c1 = store_calendar_get(f->s, f->cal, NULL);
	it = put(f, "a.ics", "a", item_a, &res, &err);
	g_assert_no_error(err);
	g_assert_cmpint(res, ==, STORE_PUT_CREATED);
	g_assert_cmpint(it->version, ==, 1);
	g_assert_cmpuint(it->size, ==, strlen(item_a));
	c2 = store_calendar_get(f->s, f->cal, NULL);
	g_assert_cmpint(c2->mtime_ns, >, c1->mtime_ns);

	it2 = put(f, "a.ics", "a", item_a, &res, NULL);
	g_assert_cmpint(res, ==, STORE_PUT_UNCHANGED);
	g_assert_cmpint(it2->version, ==, 1);
	store_item_free(it2);

	it2 = put(f, "a.ics", "a", item_a2, &res, NULL);
	g_assert_cmpint(res, ==, STORE_PUT_UPDATED);
	g_assert_cmpint(it2->id, ==, it->id);
	g_assert_cmpint(it2->version, ==, 2);
	g_assert_cmpint(it2->mtime_ns, >, it->mtime_ns);
	got = store_item_get(f->s, it->id, TRUE, NULL);
	g_assert_cmpmem(g_bytes_get_data(got->data, NULL), g_bytes_get_size(got->data),
			item_a2, strlen(item_a2));
	store_item_free(got);

	/* the journal keeps the replaced bytes */
	{
		char *old = query(f, "SELECT old_data FROM journal WHERE op = 'update'");

		g_assert_cmpstr(old, ==, item_a);
		g_free(old);
	}
	store_item_free(it);
	store_item_free(it2);
	store_calendar_free(c1);
	store_calendar_free(c2);
}

/* Put text as name over expect (store_put.expect). */
static store_item *put_over(fixture *f, const char *name, const char *text,
			    const store_item *expect, store_put_result *res, GError **err)
{
	GBytes *b = g_bytes_new_static(text, strlen(text));
	store_put req = { .calendar_id = f->cal, .name = name, .uid = "a", .data = b,
			  .expect = expect };
	store_item *it = store_item_put(f->s, &req, res, err);

	g_bytes_unref(b);
	return it;
}

/* Put text over expect: an update to version, whose journal row keeps
 * old. */
static void assert_update_over(fixture *f, const char *text, const store_item *expect,
			       gint64 version, const char *old)
{
	store_put_result res;
	GError *err = NULL;
	store_item *it = put_over(f, "a.ics", text, expect, &res, &err);
	char *v = query(f, "SELECT old_data FROM journal WHERE op = 'update'"
			" ORDER BY id DESC LIMIT 1");

	g_assert_no_error(err);
	g_assert_cmpint(res, ==, STORE_PUT_UPDATED);
	g_assert_cmpint(it->version, ==, version);
	g_assert_cmpstr(v, ==, old);
	g_free(v);
	store_item_free(it);
}

/* A put over the item as read writes as a put that looks it up: the
 * journal keeps the bytes really replaced when the item changed since it
 * was read, and an item renamed since is not written over under its new
 * name. */
static void test_put_expected(fixture *f, gconstpointer data)
{
	static const char item_a3[] = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\n"
				      "SUMMARY:3\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
	store_item *a = put(f, "a.ics", "a", item_a, NULL, NULL);
	store_item *read1 = store_item_get(f->s, a->id, TRUE, NULL), *read2, *it, *got;
	store_put_result res;
	GError *err = NULL;

	(void)data;
	/* still as read */
	assert_update_over(f, item_a2, read1, 2, item_a);
	/* changed since it was read: the bytes replaced are item_a2's */
	assert_update_over(f, item_a3, read1, 3, item_a2);

	/* unchanged against the stored bytes, not the bytes read */
	it = put_over(f, "a.ics", item_a3, read1, &res, &err);
	g_assert_no_error(err);
	g_assert_cmpint(res, ==, STORE_PUT_UNCHANGED);
	store_item_free(it);

	/* renamed since (a rename keeps the version): the UID is taken */
	read2 = store_item_get(f->s, a->id, TRUE, NULL);
	g_assert_true(store_item_rename(f->s, a->id, f->cal, "c.ics", NULL));
	g_assert_null(put_over(f, "a.ics", item_a2, read2, &res, &err));
	g_assert_error(err, CALFS_ERROR, CALFS_ERROR_EXISTS);
	g_clear_error(&err);
	got = store_item_get(f->s, a->id, TRUE, NULL);
	g_assert_cmpstr(got->name, ==, "c.ics");
	g_assert_cmpmem(g_bytes_get_data(got->data, NULL), g_bytes_get_size(got->data),
			item_a3, strlen(item_a3));
	store_item_free(got);

	/* deleted since: made again */
	g_assert_true(store_item_delete(f->s, a->id, NULL));
	it = put_over(f, "a.ics", item_a2, read2, &res, &err);
	g_assert_no_error(err);
	g_assert_cmpint(res, ==, STORE_PUT_CREATED);
	g_assert_cmpint(it->version, ==, 1);
	store_item_free(it);
	store_item_free(read1);
	store_item_free(read2);
	store_item_free(a);
}

static void test_uid_unique(fixture *f, gconstpointer data)
{
	GError *err = NULL;
	store_item *it;

	(void)data;
	store_item_free(put(f, "a.ics", "a", item_a, NULL, NULL));
	g_assert_null(put(f, "other.ics", "a", item_a, NULL, &err));
	g_assert_error(err, CALFS_ERROR, CALFS_ERROR_EXISTS);
	g_assert_nonnull(strstr(err->message, "a.ics"));
	g_clear_error(&err);
	it = store_item_find_uid(f->s, f->cal, "a", NULL);
	g_assert_cmpstr(it->name, ==, "a.ics");
	store_item_free(it);
}

/* A put by UID replaces the item of the UID under its own name, journaled
 * under that name; with no such item, it is a put by name. */
static void test_put_by_uid(fixture *f, gconstpointer data)
{
	GBytes *b = g_bytes_new_static(item_a2, strlen(item_a2));
	store_put req = { .calendar_id = f->cal, .name = "a.ics", .uid = "a",
			  .data = b, .by_uid = TRUE };
	store_put_result res;
	store_item *it;
	char *n;

	(void)data;
	store_item_free(put(f, "client.ics", "a", item_a, NULL, NULL));
	it = store_item_put(f->s, &req, &res, NULL);
	g_assert_nonnull(it);
	g_assert_cmpint(res, ==, STORE_PUT_UPDATED);
	g_assert_cmpstr(it->name, ==, "client.ics");
	store_item_free(it);
	g_assert_null(store_item_find(f->s, f->cal, "a.ics", FALSE, NULL));
	n = query(f, "SELECT name FROM journal WHERE op = 'update'");
	g_assert_cmpstr(n, ==, "client.ics");
	g_free(n);
	/* the same bytes again: unchanged */
	it = store_item_put(f->s, &req, &res, NULL);
	g_assert_cmpint(res, ==, STORE_PUT_UNCHANGED);
	store_item_free(it);
	g_bytes_unref(b);
	/* no item of the UID: created under the name given */
	b = g_bytes_new_static(item_b, strlen(item_b));
	req.name = "b.ics";
	req.uid = "b";
	req.data = b;
	it = store_item_put(f->s, &req, &res, NULL);
	g_assert_cmpint(res, ==, STORE_PUT_CREATED);
	g_assert_cmpstr(it->name, ==, "b.ics");
	store_item_free(it);
	g_bytes_unref(b);
}

static void test_delete_rename(fixture *f, gconstpointer data)
{
	store_item *a = put(f, "a.ics", "a", item_a, NULL, NULL);
	store_item *b = put(f, "b.ics", "b", item_b, NULL, NULL);
	store_item *got;
	GError *err = NULL;
	char *v;

	(void)data;
	/* rename a over b: b is replaced, and journaled as deleted */
	g_assert_true(store_item_rename(f->s, a->id, f->cal, "b.ics", NULL));
	got = store_item_find(f->s, f->cal, "b.ics", TRUE, NULL);
	g_assert_cmpint(got->id, ==, a->id);
	store_item_free(got);
	g_assert_null(store_item_find(f->s, f->cal, "a.ics", FALSE, &err));
	g_assert_error(err, CALFS_ERROR, CALFS_ERROR_NOTFOUND);
	g_clear_error(&err);
	v = query(f, "SELECT old_data FROM journal WHERE op = 'delete'");
	g_assert_cmpstr(v, ==, item_b);
	g_free(v);
	v = query(f, "SELECT old_name || '>' || name FROM journal WHERE op = 'rename'");
	g_assert_cmpstr(v, ==, "a.ics>b.ics");
	g_free(v);

	g_assert_true(store_item_delete(f->s, a->id, NULL));
	v = query(f, "SELECT count(*) FROM items");
	g_assert_cmpstr(v, ==, "0");
	g_free(v);
	v = query(f, "SELECT count(*) FROM journal WHERE op = 'delete'");
	g_assert_cmpstr(v, ==, "2");
	g_free(v);
	store_item_free(a);
	store_item_free(b);
}

static void test_reserve(fixture *f, gconstpointer data)
{
	gint64 r1 = store_item_reserve_id(f->s, f->cal, NULL);
	gint64 r2 = store_item_reserve_id(f->s, f->cal, NULL);
	GBytes *b = g_bytes_new_static(item_a, strlen(item_a));
	store_put req = { .calendar_id = f->cal, .name = "a.ics", .uid = "a",
			  .data = b, .reserved_id = r2 };
	store_item *it, *other;

	(void)data;
	g_assert_cmpint(r1, >, 0);
	g_assert_cmpint(r2, >, r1);
	it = store_item_put(f->s, &req, NULL, NULL);
	g_assert_cmpint(it->id, ==, r2);
	/* ids given without a reservation never meet reserved ones */
	other = put(f, "b.ics", "b", item_b, NULL, NULL);
	g_assert_cmpint(other->id, !=, r1);
	g_assert_cmpint(other->id, !=, r2);
	g_assert_cmpint(store_item_reserve_id(f->s, f->cal, NULL), >, other->id);
	store_item_free(it);
	store_item_free(other);
	g_bytes_unref(b);
}

static void test_changes(fixture *f, gconstpointer data)
{
	store_stats st;
	GPtrArray *ch;
	store_item *a;
	store_change *c;

	(void)data;
	g_assert_true(store_stats_get(f->s, &st, NULL));
	a = put(f, "a.ics", "a", item_a, NULL, NULL);
	g_assert_true(store_item_delete(f->s, a->id, NULL));
	ch = store_changes_since(f->s, st.last_change, 100, NULL);
	g_assert_cmpuint(ch->len, ==, 2);
	c = ch->pdata[0];
	g_assert_cmpint(c->kind, ==, STORE_CHANGE_ITEM_CREATE);
	g_assert_cmpstr(c->name, ==, "a.ics");
	g_assert_cmpstr(c->origin, ==, "test");
	c = ch->pdata[1];
	g_assert_cmpint(c->kind, ==, STORE_CHANGE_ITEM_DELETE);
	g_assert_cmpint(c->item_id, ==, a->id);
	g_ptr_array_unref(ch);
	store_item_free(a);
}

/* A batch's changes are logged at its commit, in order, names as they
 * were. */
static void test_changes_batch(fixture *f, gconstpointer data)
{
	static const char *const names[] = { "q\"uote.ics", "back\\slash.ics", "{b,r}.ics",
					     "NULL", "sp ace.ics" };
	store_stats st;
	GPtrArray *ch;
	store_item *it;
	store_change *c;
	gint64 ids[G_N_ELEMENTS(names)];

	(void)data;
	g_assert_true(store_stats_get(f->s, &st, NULL));
	g_assert_true(store_batch_begin(f->s, NULL));
	for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
		char uid[8];

		g_snprintf(uid, sizeof(uid), "u%u", i);
		it = put(f, names[i], uid, i % 2 ? item_a : item_b, NULL, NULL);
		g_assert_nonnull(it);
		ids[i] = it->id;
		store_item_free(it);
	}
	g_assert_true(store_item_rename(f->s, ids[0], f->cal, "re\"named.ics", NULL));
	g_assert_true(store_batch_end(f->s, NULL));
	ch = store_changes_since(f->s, st.last_change, 100, NULL);
	g_assert_cmpuint(ch->len, ==, G_N_ELEMENTS(names) + 1);
	for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
		c = ch->pdata[i];
		g_assert_cmpint(c->kind, ==, STORE_CHANGE_ITEM_CREATE);
		g_assert_cmpint(c->item_id, ==, ids[i]);
		g_assert_cmpint(c->calendar_id, ==, f->cal);
		g_assert_cmpstr(c->name, ==, names[i]);
		g_assert_null(c->old_name);
		g_assert_cmpstr(c->origin, ==, "test");
	}
	c = ch->pdata[G_N_ELEMENTS(names)];
	g_assert_cmpstr(c->name, ==, "re\"named.ics");
	g_assert_cmpstr(c->old_name, ==, names[0]);
	g_assert_cmpint(c->old_calendar_id, ==, f->cal);
	g_assert_true(store_stats_get(f->s, &st, NULL));
	g_assert_cmpint(st.last_change, ==, c->seq);
	g_ptr_array_unref(ch);
}

static void test_second_process(fixture *f, gconstpointer data)
{
	store *s2 = store_open(f->path, "second", STORE_EXISTING, NULL);
	store_item *it;
	GBytes *b = g_bytes_new_static(item_b, strlen(item_b));
	store_put req = { .calendar_id = f->cal, .name = "b.ics", .uid = "b", .data = b };

	(void)data;
	g_assert_nonnull(s2);
	store_run_begin(s2, "second");
	{
		char *runs = query(f, "SELECT count(*) FROM runs WHERE command = 'second'");

		g_assert_cmpstr(runs, ==, "0");	/* made by the first change */
		g_free(runs);
	}
	it = store_item_put(s2, &req, NULL, NULL);
	g_assert_nonnull(it);
	store_item_free(it);
	it = store_item_find(f->s, f->cal, "b.ics", TRUE, NULL);
	g_assert_nonnull(it);
	store_item_free(it);
	store_close(s2);
	g_bytes_unref(b);
	{
		char *runs = query(f, "SELECT count(*) FROM runs WHERE command = 'second'");

		g_assert_cmpstr(runs, ==, "1");
		g_free(runs);
	}
}

/* Rows kept while nothing changed are never read after another
 * connection changed them: items, mailboxes, calendars and the change
 * log's last seq, each read into the cache, then changed by a second
 * store, then read again. */
static void test_cache_sees_others(fixture *f, gconstpointer data)
{
	store *s2 = store_open(f->path, "second", STORE_EXISTING, NULL);
	store_item *a = put(f, "a.ics", "a", item_a, NULL, NULL), *it;
	GBytes *b = g_bytes_new_static(item_a2, strlen(item_a2));
	store_put req = { .calendar_id = f->cal, .name = "a.ics", .uid = "a", .data = b };
	store_mailbox *m;
	store_calendar *c;
	gint64 last = -1;

	(void)data;
	g_assert_nonnull(s2);
	for (int round = 0; round < 3; round++) {
		gint64 now = store_last_change(f->s, NULL);

		g_assert_cmpint(now, >, last);
		g_assert_cmpint(store_last_change(f->s, NULL), ==, now);
		last = now;
		/* read twice: the second read is the cache's, where it has one */
		for (int i = 0; i < 2; i++) {
			it = store_item_get(f->s, a->id, FALSE, NULL);
			g_assert_cmpint(it->version, ==, 1 + round);
			store_item_free(it);
		}
		m = store_mailbox_get(f->s, 1, NULL);
		g_assert_cmpstr(m->timezone, ==, round ? "Europe/Paris" : NULL);
		store_mailbox_free(m);
		c = store_calendar_get(f->s, f->cal, NULL);
		g_assert_cmpstr(c->displayname, ==, round ? "Work" : NULL);
		store_calendar_free(c);
		req.data = b;
		if (round % 2) {
			g_bytes_unref(b);
			b = g_bytes_new_static(item_a, strlen(item_a));
			req.data = b;
		}
		it = store_item_put(s2, &req, NULL, NULL);
		g_assert_nonnull(it);
		store_item_free(it);
		g_assert_true(store_mailbox_set_timezone(s2, 1, "Europe/Paris", NULL));
		g_assert_true(store_calendar_set_meta(s2, f->cal, "displayname", "Work", NULL));
	}
	store_close(s2);
	store_item_free(a);
	g_bytes_unref(b);
}

/* A batch: each operation still fails alone, nothing is seen by others
 * before the outermost end, everything after. */
static void test_batch(fixture *f, gconstpointer data)
{
	GError *err = NULL;
	char *n;

	(void)data;
	g_assert_true(store_batch_begin(f->s, NULL));
	g_assert_true(store_batch_begin(f->s, NULL));
	store_item_free(put(f, "a.ics", "a", item_a, NULL, NULL));
	g_assert_null(put(f, "other.ics", "a", item_a, NULL, &err));
	g_assert_error(err, CALFS_ERROR, CALFS_ERROR_EXISTS);
	g_clear_error(&err);
	store_item_free(put(f, "b.ics", "b", item_b, NULL, NULL));
	g_assert_true(store_batch_end(f->s, NULL));
	n = query(f, "SELECT count(*) FROM items");
	g_assert_cmpstr(n, ==, "0");
	g_free(n);
	g_assert_true(store_batch_end(f->s, NULL));
	n = query(f, "SELECT count(*) || ' ' || min(name) || ' ' || max(name) FROM items");
	g_assert_cmpstr(n, ==, "2 a.ics b.ics");
	g_free(n);
	n = query(f, "SELECT count(*) FROM journal");
	g_assert_cmpstr(n, ==, "2");
	g_free(n);
	/* an end without a batch changes nothing */
	g_assert_true(store_batch_end(f->s, NULL));
}

#define assert_holds(b, text) \
	g_assert_cmpmem(g_bytes_get_data(b, NULL), g_bytes_get_size(b), text, strlen(text))

/* Committed reads give the rows and bytes the plain reads give; on SQLite
 * they read on their own connection, which does not see an open batch and
 * does not wait for the store's writer.  A scan of the items' bytes is
 * one. */
static void test_committed(fixture *f, gconstpointer data)
{
	store_item *a = put(f, "a.ics", "a", item_a, NULL, NULL);
	store_item *got;
	GPtrArray *list;

	(void)data;
	got = store_item_get_committed(f->s, a->id, NULL);
	assert_holds(got->data, item_a);
	g_assert_cmpint(got->version, ==, 1);
	store_item_free(got);
	g_assert_true(store_batch_begin(f->s, NULL));
	store_item_free(put(f, "a.ics", "a", item_a2, NULL, NULL));
	store_item_free(put(f, "b.ics", "b", item_b, NULL, NULL));
	got = store_item_get_committed(f->s, a->id, NULL);
	list = store_item_list_committed(f->s, f->cal, NULL);
	if (!pg_url) {	/* PostgreSQL reads on the batch's connection */
		assert_holds(got->data, item_a);
		g_assert_cmpuint(list->len, ==, 1);
	}
	store_item_free(got);
	g_ptr_array_unref(list);
	list = store_item_scan(f->s, f->cal, "SUMMARY", NULL);
	g_assert_cmpuint(list->len, ==, pg_url ? 1 : 0);
	g_ptr_array_unref(list);
	g_assert_true(store_batch_end(f->s, NULL));
	list = store_item_scan(f->s, f->cal, "SUMMARY", NULL);
	g_assert_cmpuint(list->len, ==, 1);
	assert_holds(((store_item *)list->pdata[0])->data, item_a2);
	g_ptr_array_unref(list);
	list = store_item_scan(f->s, f->cal, "UID:", NULL);
	g_assert_cmpuint(list->len, ==, 2);
	g_ptr_array_unref(list);
	got = store_item_get_committed(f->s, a->id, NULL);
	assert_holds(got->data, item_a2);
	g_assert_cmpint(got->version, ==, 2);
	store_item_free(got);
	list = store_item_list_committed(f->s, f->cal, NULL);
	g_assert_cmpuint(list->len, ==, 2);
	g_assert_cmpstr(((store_item *)list->pdata[1])->name, ==, "b.ics");
	g_assert_null(((store_item *)list->pdata[1])->data);
	g_ptr_array_unref(list);
	store_item_free(a);
}

/* A range of a calendar's items by id: only that calendar's, in id
 * order, from first to last, the first limit of them, with their bytes,
 * when another calendar's items lie between them. */
static void test_range(fixture *f, gconstpointer data)
{
	store_calendar *cal = store_calendar_get(f->s, f->cal, NULL);
	store_calendar *other = store_calendar_create(f->s, cal->mailbox_id, "Other", NULL);
	gint64 ids[6];
	GPtrArray *got;

	(void)data;
	store_calendar_free(cal);
	for (int i = 0; i < 6; i++) {
		char *name = g_strdup_printf("%c.ics", 'f' - i);	/* names against ids */
		char *uid = g_strdup_printf("u%d", i);
		char *text = g_strdup_printf("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:%s\r\n"
					     "END:VEVENT\r\nEND:VCALENDAR\r\n", uid);
		GBytes *b = g_bytes_new_take(text, strlen(text));
		store_put req = { .calendar_id = i % 2 ? other->id : f->cal, .name = name,
				  .uid = uid, .data = b };
		store_item *it = store_item_put(f->s, &req, NULL, NULL);

		ids[i] = it->id;
		store_item_free(it);
		g_bytes_unref(b);
		g_free(name);
		g_free(uid);
	}
	got = store_item_range_committed(f->s, f->cal, ids[0], ids[5], 0, NULL);
	g_assert_cmpuint(got->len, ==, 3);
	for (guint i = 0; i < got->len; i++) {
		store_item *it = got->pdata[i];

		g_assert_cmpint(it->id, ==, ids[2 * i]);
		g_assert_cmpint(it->calendar_id, ==, f->cal);
		g_assert_nonnull(it->data);
		g_assert_cmpuint(g_bytes_get_size(it->data), ==, it->size);
	}
	g_ptr_array_unref(got);
	got = store_item_range_committed(f->s, f->cal, ids[1], G_MAXINT64, 1, NULL);
	g_assert_cmpuint(got->len, ==, 1);
	g_assert_cmpint(((store_item *)got->pdata[0])->id, ==, ids[2]);
	g_ptr_array_unref(got);
	store_calendar_free(other);
}

/* A write whose journal row fails.  PostgreSQL sends journal rows and
 * savepoints without waiting (pipeline mode), so the failure is found by
 * a later write, and fails the whole batch; SQLite refuses the write
 * alone.  Either way nothing is stored without its journal row, what a
 * committed batch said it stored is there, and the store goes on. */
static void test_failed_journal_row(fixture *f, gconstpointer data)
{
	static const char *const names[] = { "a.ics", "poison.ics", "c.ics" };
	gboolean said[G_N_ELEMENTS(names)], committed;
	store_item *it;
	GError *err = NULL;

	(void)data;
	exec_sql(f, pg_url ? "ALTER TABLE journal ADD CONSTRAINT poison"
			     " CHECK (name IS DISTINCT FROM 'poison.ics')"
			   : "CREATE TRIGGER poison BEFORE INSERT ON journal"
			     " WHEN NEW.name = 'poison.ics' BEGIN SELECT RAISE(ABORT, 'poisoned'); END");
	g_assert_true(store_batch_begin(f->s, NULL));
	for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
		char uid[2] = { names[i][0], 0 };

		it = put(f, names[i], uid, item_a, NULL, NULL);
		said[i] = it != NULL;
		store_item_free(it);
	}
	committed = store_batch_end(f->s, &err);
	g_assert_true(committed || err);
	g_clear_error(&err);
	g_assert_false(said[1] && committed);
	for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
		char *q = g_strdup_printf("SELECT count(*) FROM items WHERE name = '%s'", names[i]);
		char *j = g_strdup_printf("SELECT count(*) FROM journal WHERE name = '%s'", names[i]);
		char *items = query(f, q), *rows = query(f, j);

		g_assert_cmpstr(items, ==, rows);
		g_assert_cmpstr(items, ==, committed && said[i] ? "1" : "0");
		g_free(items);
		g_free(rows);
		g_free(q);
		g_free(j);
	}
	it = put(f, "d.ics", "d", item_b, NULL, &err);
	g_assert_no_error(err);
	store_item_free(it);
	it = put(f, "a.ics", "a", item_a, NULL, &err);
	g_assert_no_error(err);
	store_item_free(it);
}

/* A batch that makes a calendar knows it holds no item: items put there
 * by UID are new without a look (on PostgreSQL, they wait and go in one
 * statement of arrays).  Reads in the batch see them, a UID put again
 * updates its item, names, UIDs, notes and bytes are stored as put (with
 * the quotes, backslashes, commas, braces and "NULL" that array literals
 * must carry), and each write has its journal row.  On SQLite the store
 * has never given an item id before the first one here. */
static void test_batch_made_calendar(fixture *f, gconstpointer data)
{
	static const char *const names[] = { "a.ics", "we\"ird,{x} \\é.ics", "NULL" };
	static const char *const uids[] = { "a", "u\"1,{}\\", "NULL" };
	static const char *const notes[] = { NULL, "note \"2\", {x}", "NULL" };
	GBytes *bytes[G_N_ELEMENTS(names)];
	store_mailbox *m;
	store_calendar *c;
	store_put_result res;
	GError *err = NULL;
	store_item *it;
	char *n, *q;

	(void)data;
	g_assert_true(store_batch_begin(f->s, NULL));
	m = store_mailbox_create(f->s, "bob@example.com", &err);
	g_assert_no_error(err);
	c = store_calendar_create(f->s, m->id, "Calendar", &err);
	g_assert_no_error(err);
	for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
		store_put req = { .calendar_id = c->id, .name = names[i], .uid = uids[i],
				  .note = notes[i], .by_uid = TRUE };

		char *text = g_strdup_printf("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:%s\r\n"
					     "SUMMARY:\\, \\\\ {}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
					     uids[i]);

		bytes[i] = g_bytes_new_take(text, strlen(text));
		req.data = bytes[i];
		it = store_item_put(f->s, &req, &res, &err);
		g_assert_no_error(err);
		g_assert_cmpint(res, ==, STORE_PUT_CREATED);
		store_item_free(it);
	}
	/* read in the batch */
	it = store_item_find(f->s, c->id, names[1], TRUE, &err);
	g_assert_no_error(err);
	g_assert_cmpstr(it->uid, ==, uids[1]);
	g_assert_true(g_bytes_equal(it->data, bytes[1]));
	store_item_free(it);
	{
		GBytes *b = g_bytes_new_static(item_a2, strlen(item_a2));
		store_put req = { .calendar_id = c->id, .name = "a.ics", .uid = "a", .data = b,
				  .by_uid = TRUE };

		it = store_item_put(f->s, &req, &res, &err);
		g_assert_no_error(err);
		g_assert_cmpint(res, ==, STORE_PUT_UPDATED);
		g_assert_cmpint(it->version, ==, 2);
		store_item_free(it);
		g_bytes_unref(b);
	}
	g_assert_true(store_batch_end(f->s, &err));
	g_assert_no_error(err);
	for (guint i = 1; i < G_N_ELEMENTS(names); i++) {
		it = store_item_find(f->s, c->id, names[i], TRUE, &err);
		g_assert_no_error(err);
		g_assert_cmpstr(it->uid, ==, uids[i]);
		g_assert_true(g_bytes_equal(it->data, bytes[i]));
		g_assert_cmpint(it->version, ==, 1);
		q = g_strdup_printf("SELECT coalesce(note, '(none)') FROM journal WHERE item_id = %"
				    G_GINT64_FORMAT, it->id);
		n = query(f, q);
		g_assert_cmpstr(n, ==, notes[i]);
		g_free(n);
		g_free(q);
		store_item_free(it);
	}
	n = query(f, "SELECT count(*) FROM journal j JOIN items i ON i.id = j.item_id"
		     " AND i.calendar_id = j.calendar_id AND i.name = j.name AND i.uid = j.uid");
	g_assert_cmpstr(n, ==, "4");
	g_free(n);
	n = query(f, "SELECT op FROM journal ORDER BY id DESC LIMIT 1");
	g_assert_cmpstr(n, ==, "update");
	g_free(n);
	for (guint i = 0; i < G_N_ELEMENTS(names); i++)
		g_bytes_unref(bytes[i]);
	store_calendar_free(c);
	store_mailbox_free(m);
}

static store_item *put_on(store *s, gint64 cal, const char *name, const char *uid,
			  const char *text)
{
	GBytes *b = g_bytes_new_static(text, strlen(text));
	store_put req = { .calendar_id = cal, .name = name, .uid = uid, .data = b };
	store_item *it = store_item_put(s, &req, NULL, NULL);

	g_bytes_unref(b);
	return it;
}

/* A new item put by UID into a calendar found empty takes its id from a
 * block taken beforehand.  On SQLite the block is the transaction's: after
 * a batch rolled back, another connection takes the same ids, and the
 * block must not be used again. */
static void test_ids_after_a_rolled_back_batch(fixture *f, gconstpointer data)
{
	store *q = store_open(f->path, "other", STORE_EXISTING, NULL);
	store_mailbox *bob = store_mailbox_create(f->s, "bob@example.com", NULL);
	store_calendar *other = store_calendar_create(f->s, bob->id, "Calendar", NULL);
	GBytes *b = g_bytes_new_static(item_a, strlen(item_a));
	store_put req = { .calendar_id = f->cal, .name = "a.ics", .uid = "a", .data = b,
			  .by_uid = TRUE };
	GError *err = NULL;
	store_item *it;
	char *n;

	(void)data;
	g_assert_nonnull(q);
	store_item_free(put_on(q, other->id, "first.ics", "first", item_b));
	exec_sql(f, pg_url ? "ALTER TABLE journal ADD CONSTRAINT poison"
			     " CHECK (name IS DISTINCT FROM 'poison.ics')"
			   : "CREATE TRIGGER poison BEFORE INSERT ON journal"
			     " WHEN NEW.name = 'poison.ics' BEGIN SELECT RAISE(ABORT, 'poisoned'); END");
	g_assert_true(store_batch_begin(f->s, NULL));
	store_item_free(store_item_put(f->s, &req, NULL, NULL));
	req.name = "poison.ics";
	req.uid = "p";
	store_item_free(store_item_put(f->s, &req, NULL, NULL));
	g_assert_false(store_batch_end(f->s, &err));
	g_clear_error(&err);
	/* the other connection takes ids after the rollback */
	store_item_free(put_on(q, other->id, "second.ics", "second", item_b));
	store_item_free(put_on(q, other->id, "third.ics", "third", item_b));
	g_assert_true(store_batch_begin(f->s, NULL));
	req.name = "a.ics";
	req.uid = "a";
	it = store_item_put(f->s, &req, NULL, &err);
	g_assert_no_error(err);
	store_item_free(it);
	req.name = "b.ics";
	req.uid = "b";
	it = store_item_put(f->s, &req, NULL, &err);
	g_assert_no_error(err);
	store_item_free(it);
	g_assert_true(store_batch_end(f->s, &err));
	g_assert_no_error(err);
	n = query(f, "SELECT count(DISTINCT id) || ' ' || count(*) FROM items");
	g_assert_cmpstr(n, ==, "5 5");
	g_free(n);
	g_bytes_unref(b);
	store_calendar_free(other);
	store_mailbox_free(bob);
	store_close(q);
}

static void test_meta(fixture *f, gconstpointer data)
{
	store_calendar *c;
	GError *err = NULL;

	(void)data;
	g_assert_true(store_calendar_set_meta(f->s, f->cal, "displayname", "Work", NULL));
	g_assert_true(store_calendar_set_meta(f->s, f->cal, "color", "#ff0000", NULL));
	g_assert_false(store_calendar_set_meta(f->s, f->cal, "other", "x", &err));
	g_assert_error(err, CALFS_ERROR, CALFS_ERROR_NAME);
	g_clear_error(&err);
	c = store_calendar_get(f->s, f->cal, NULL);
	g_assert_cmpstr(c->displayname, ==, "Work");
	g_assert_cmpstr(c->color, ==, "#ff0000");
	store_calendar_free(c);
	g_assert_true(store_calendar_set_meta(f->s, f->cal, "color", NULL, NULL));
	c = store_calendar_get(f->s, f->cal, NULL);
	g_assert_null(c->color);
	store_calendar_free(c);
}

/* Whether mailbox id's stamp is (still) was. */
static gboolean stamp_is(fixture *f, gint64 id, const char *was)
{
	char *now = store_mailbox_stamp(f->s, id, NULL);
	gboolean same = !g_strcmp0(now, was);

	g_assert_nonnull(now);
	g_free(now);
	return same;
}

/* The mailbox stamp moves with every change in the mailbox, moves out of
 * it included; a zone scan is kept under a key and found only under it. */
static void test_zone_scan(fixture *f, gconstpointer data)
{
	store_mailbox *bob = store_mailbox_create(f->s, "bob@example.com", NULL);
	store_calendar *bcal = store_calendar_create(f->s, bob->id, "Calendar", NULL);
	store_calendar *acal = store_calendar_get(f->s, f->cal, NULL);
	gint64 alice = acal->mailbox_id;
	char *s0, *s1, *s2, *s3, *bob0, *status = NULL, *zone = NULL;
	store_item *a;
	GError *err = NULL;

	(void)data;
	s0 = store_mailbox_stamp(f->s, alice, NULL);
	bob0 = store_mailbox_stamp(f->s, bob->id, NULL);
	a = put(f, "a.ics", "a", item_a, NULL, NULL);
	s1 = store_mailbox_stamp(f->s, alice, NULL);
	g_assert_cmpstr(s1, !=, s0);
	store_item_free(put(f, "a.ics", "a", item_a2, NULL, NULL));
	s2 = store_mailbox_stamp(f->s, alice, NULL);
	g_assert_cmpstr(s2, !=, s1);
	/* an unrelated mailbox keeps its stamp */
	g_assert_true(stamp_is(f, bob->id, bob0));
	/* moved to bob's: both stamps move */
	g_assert_true(store_item_rename(f->s, a->id, bcal->id, "a.ics", NULL));
	s3 = store_mailbox_stamp(f->s, alice, NULL);
	g_assert_cmpstr(s3, !=, s2);
	g_assert_false(stamp_is(f, bob->id, bob0));

	g_assert_false(store_zone_scan_get(f->s, alice, s3, &status, &zone, &err));
	g_assert_error(err, CALFS_ERROR, CALFS_ERROR_NOTFOUND);
	g_clear_error(&err);
	g_assert_true(store_zone_scan_put(f->s, alice, s3, "ok", "Europe/Paris", NULL));
	/* keeping a scan is not a change */
	g_assert_true(stamp_is(f, alice, s3));
	g_assert_true(store_zone_scan_get(f->s, alice, s3, &status, &zone, NULL));
	g_assert_cmpstr(status, ==, "ok");
	g_assert_cmpstr(zone, ==, "Europe/Paris");
	g_clear_pointer(&status, g_free);
	g_clear_pointer(&zone, g_free);
	g_assert_false(store_zone_scan_get(f->s, alice, s2, &status, &zone, NULL));
	g_assert_true(store_zone_scan_put(f->s, alice, s2, "none", NULL, NULL));
	g_assert_true(store_zone_scan_get(f->s, alice, s2, &status, &zone, NULL));
	g_assert_cmpstr(status, ==, "none");
	g_assert_null(zone);
	g_free(status);
	g_free(s0);
	g_free(s1);
	g_free(s2);
	g_free(s3);
	g_free(bob0);
	store_item_free(a);
	store_mailbox_free(bob);
	store_calendar_free(bcal);
	store_calendar_free(acal);
}

/* A mailbox's verdicts are recorded together, in rows of their own (not
 * in the item's, which holds its bytes); a version that is no longer the
 * item's is left alone; new bytes and a deletion take a verdict away. */
static void test_set_checked(fixture *f, gconstpointer data)
{
	store_item *a, *b;
	store_version v[2];
	char *n;

	(void)data;
	store_item_free(put(f, "a.ics", "a", item_a, NULL, NULL));
	a = put(f, "a.ics", "a", item_a2, NULL, NULL);
	b = put(f, "b.ics", "b", item_b, NULL, NULL);
	v[0] = (store_version){ .id = a->id, .version = a->version };
	v[1] = (store_version){ .id = b->id, .version = b->version + 1 };
	g_assert_true(store_items_set_checked(f->s, "k1", v, 2, NULL));
	g_assert_true(store_items_set_checked(f->s, "k2", v, 0, NULL));
	n = query(f, "SELECT coalesce((SELECT key FROM checks WHERE item_id = items.id"
		  " AND version = items.version), '-') FROM items WHERE name = 'a.ics'");
	g_assert_cmpstr(n, ==, "k1");
	g_free(n);
	n = query(f, "SELECT coalesce(checked, '-') FROM items WHERE name = 'a.ics'");
	g_assert_cmpstr(n, ==, "-");
	g_free(n);
	n = query(f, "SELECT count(*) FROM checks c JOIN items i ON i.id = c.item_id"
		  " WHERE i.name = 'b.ics'");
	g_assert_cmpstr(n, ==, "0");
	g_free(n);
	store_item_free(a);
	a = store_item_find(f->s, f->cal, "a.ics", FALSE, NULL);
	g_assert_cmpstr(a->checked, ==, "k1");
	store_item_free(a);
	/* new bytes: a new version, without a verdict */
	a = put(f, "a.ics", "a", item_a, NULL, NULL);
	g_assert_null(a->checked);
	store_item_free(a);
	a = store_item_find(f->s, f->cal, "a.ics", FALSE, NULL);
	g_assert_null(a->checked);
	v[0] = (store_version){ .id = a->id, .version = a->version };
	g_assert_true(store_items_set_checked(f->s, "k3", v, 1, NULL));
	g_assert_true(store_item_delete(f->s, a->id, NULL));
	n = query(f, "SELECT count(*) FROM checks");
	g_assert_cmpstr(n, ==, "0");
	g_free(n);
	store_item_free(a);
	store_item_free(b);
}


/* A peer writes on a connection of its own under the store's run and
 * origin; a run made for peers that kept nothing is gone at close.
 * SQLite makes no peers. */
static void test_peers(fixture *f, gconstpointer data)
{
	GError *err = NULL;
	store *p = store_peer(f->s, &err);
	store_mailbox *bob;
	store_calendar *other;
	char *n;

	(void)data;
	g_assert_no_error(err);
	if (!pg_url) {
		g_assert_null(p);
		return;
	}
	g_assert_nonnull(p);
	bob = store_mailbox_create(f->s, "bob@example.com", NULL);
	other = store_calendar_create(f->s, bob->id, "Calendar", NULL);
	store_run_begin(f->s, "fix");
	g_assert_true(store_batch_begin(p, NULL));
	store_item_free(put_on(p, f->cal, "a.ics", "a", item_a));
	/* the peer's transaction is its own: the store does not wait for it
	 * (in another calendar: a write locks its calendar's row) */
	store_item_free(put_on(f->s, other->id, "b.ics", "b", item_b));
	n = query(f, "SELECT string_agg(name, ' ' ORDER BY name) FROM items");
	g_assert_cmpstr(n, ==, "b.ics");
	g_free(n);
	g_assert_true(store_batch_end(p, NULL));
	n = query(f, "SELECT count(DISTINCT run_id) || ' ' || count(*) FROM journal");
	g_assert_cmpstr(n, ==, "1 2");
	g_free(n);
	n = query(f, "SELECT string_agg(command || '/' || origin, ' ') FROM runs");
	g_assert_cmpstr(n, ==, "fix/test");
	g_free(n);
	n = query(f, "SELECT string_agg(DISTINCT origin, ' ') FROM changes WHERE item_id > 0");
	g_assert_cmpstr(n, ==, "test");
	g_free(n);
	store_close(p);

	/* a second run: the peer's change is lost with its connection */
	store_run_begin(f->s, "lost");
	p = store_peer(f->s, NULL);
	g_assert_true(store_batch_begin(p, NULL));
	store_item_free(put_on(p, f->cal, "c.ics", "c", item_a2));
	n = query(f, "SELECT count(*) FROM runs");
	g_assert_cmpstr(n, ==, "2");
	g_free(n);
	store_close(p);
	store_close(f->s);
	f->s = store_open(f->path, "test", STORE_EXISTING, NULL);
	n = query(f, "SELECT string_agg(command, ' ') || ' ' || count(*) FROM runs");
	g_assert_cmpstr(n, ==, "fix 1");
	g_free(n);
	store_mailbox_free(bob);
	store_calendar_free(other);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	pg_url = g_getenv("CALFS_TEST_PG");
#define T(path, fn) g_test_add(path, fixture, NULL, setup, fn, teardown)
	T("/store/mailboxes", test_mailboxes);
	T("/store/put-replace-journal", test_put_replace);
	T("/store/put-expected", test_put_expected);
	T("/store/uid-unique", test_uid_unique);
	T("/store/put-by-uid", test_put_by_uid);
	T("/store/ids-after-a-rolled-back-batch", test_ids_after_a_rolled_back_batch);
	T("/store/batch-made-calendar", test_batch_made_calendar);
	T("/store/delete-rename-journal", test_delete_rename);
	T("/store/reserve-id", test_reserve);
	T("/store/change-log", test_changes);
	T("/store/change-log-batch", test_changes_batch);
	T("/store/second-process", test_second_process);
	T("/store/cache-sees-others", test_cache_sees_others);
	T("/store/calendar-meta", test_meta);
	T("/store/batch", test_batch);
	T("/store/committed-reads", test_committed);
	T("/store/range-reads", test_range);
	T("/store/failed-journal-row", test_failed_journal_row);
	T("/store/zone-scan", test_zone_scan);
	T("/store/set-checked", test_set_checked);
	T("/store/peers", test_peers);
	return g_test_run();
}
