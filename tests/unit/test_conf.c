/* Unit tests: mount.conf parsing and its error messages */
#include "conf.h"
#include "error.h"

#include <glib/gstdio.h>
#include <string.h>

static char *write_conf(const char *text)
{
	char *dir = g_dir_make_tmp("calfs-conf-XXXXXX", NULL);
	char *path = g_build_filename(dir, "mount.conf", NULL);

	g_assert_true(g_file_set_contents(path, text, -1, NULL));
	g_free(dir);
	return path;
}

static void drop(char *path)
{
	char *dir = g_path_get_dirname(path);

	g_unlink(path);
	g_rmdir(dir);
	g_free(dir);
	g_free(path);
}

static void expect_error(const char *text, const char *where, const char *what)
{
	char *path = write_conf(text);
	GError *err = NULL;
	char *prefix = g_strconcat(path, where, NULL);

	g_assert_null(conf_load(path, &err));
	g_assert_error(err, CALFS_ERROR, CALFS_ERROR_CONFIG);
	if (!g_str_has_prefix(err->message, prefix) || !strstr(err->message, what))
		g_error("'%s' should start with '%s' and name '%s'", err->message,
			prefix, what);
	g_error_free(err);
	g_free(prefix);
	drop(path);
}

static void test_defaults(void)
{
	conf *c = conf_new_default();

	g_assert_true(c->repair_on_read);
	g_assert_true(c->repair_on_write);
	g_assert_true(c->rebase);
	g_assert_false(c->report_only);
	g_assert_true(g_path_is_absolute(c->store_path));
	g_assert_true(g_str_has_suffix(c->store_path, "/calfs.db"));
	conf_free(c);
}

static void test_full(void)
{
	char *path = write_conf("# comment\n[store]\npath=data/x.db\n"
				"[policy]\nrepair_on_read=false\nrebase = no\n"
				"created_before=2007-03-11\n"
				"[mailbox alice@example.com]\ntimezone=America/New_York\n"
				"owner=0\nsuppress_updates=true\n");
	conf *c = conf_load(path, NULL);
	char *dir = g_path_get_dirname(path);
	char *want = g_build_filename(dir, "data/x.db", NULL);
	const conf_mailbox *m;

	g_assert_nonnull(c);
	g_assert_cmpstr(c->store_path, ==, want);
	g_assert_false(c->repair_on_read);
	g_assert_false(c->rebase);
	g_assert_cmpint(c->created_before, ==, 1173571200);
	m = conf_mailbox_get(c, "alice@example.com");
	g_assert_nonnull(m);
	g_assert_cmpstr(m->timezone, ==, "America/New_York");
	g_assert_true(m->has_owner);
	g_assert_cmpuint(m->uid, ==, 0);
	g_assert_true(m->suppress_updates);
	g_assert_null(conf_mailbox_get(c, "bob@example.com"));
	conf_free(c);
	g_free(dir);
	g_free(want);
	drop(path);
}

static void test_errors(void)
{
	expect_error("[policy]\n\nrebase=maybe\n", ":3:", "[policy] rebase: 'maybe' is not true or false");
	expect_error("[policy]\nrebsae=true\n", ":2:", "rebsae: unknown key");
	expect_error("[store]\npath=x\n[polcy]\n", ":3:", "[polcy]: unknown group");
	expect_error("[store]\njust words\n", ":2:", "'just words'");
	expect_error("[policy]\ncreated_before=yesterday\n", ":2:", "created_before");
	expect_error("[mailbox bob]\nowner=no-such-user-here\n", ":2:", "no user");
	expect_error("[store]\npath=x.db\nurl=postgresql:///calfs\n", ":3:",
		     "[store] url: give path= (SQLite) or url= (PostgreSQL), not both");
	expect_error("[store]\nurl=mysql://db/calfs\n", ":2:",
		     "[store] url: 'mysql://db/calfs' is not a postgresql:// URL");
	expect_error("[shard eu]\nurl=postgresql:///eu\n", ":1:",
		     "[shard eu]: no mailboxes= patterns");
	expect_error("[shard eu]\nmailboxes=*@eu.example.com\n", ":1:",
		     "[shard eu]: no path= or url=");
	expect_error("[shard eu]\nurl=postgresql:///eu\nmailboxes=*\nhost=x\n", ":4:",
		     "host: unknown key");
}

/* [store] url=, and shards in file order with their paths resolved */
static void test_server_and_shards(void)
{
	char *path = write_conf("[store]\nurl=postgresql://calfs:pw@db.example.com/calfs\n"
				"[shard eu]\nurl=postgresql://db-eu/calfs\n"
				"mailboxes=*@eu.example.com; eu-*\n"
				"[shard old]\npath=old.db\nmailboxes=*@old.example.com\n");
	conf *c = conf_load(path, NULL);
	char *dir = g_path_get_dirname(path);
	char *old = g_build_filename(dir, "old.db", NULL);
	char *name;
	conf_shard *sh;

	g_assert_nonnull(c);
	g_assert_true(c->store_is_url);
	g_assert_cmpstr(c->store_path, ==, "postgresql://calfs:pw@db.example.com/calfs");
	g_assert_cmpstr(c->state_dir, ==, dir);
	name = conf_store_name(c);
	g_assert_cmpstr(name, ==, "postgresql://calfs:***@db.example.com/calfs");
	g_free(name);
	g_assert_cmpuint(c->shards->len, ==, 2);
	sh = c->shards->pdata[0];
	g_assert_cmpstr(sh->name, ==, "eu");
	g_assert_cmpstr(sh->spec, ==, "postgresql://db-eu/calfs");
	g_assert_cmpstr(sh->patterns[0], ==, "*@eu.example.com");
	g_assert_cmpstr(sh->patterns[1], ==, "eu-*");
	g_assert_null(sh->patterns[2]);
	sh = c->shards->pdata[1];
	g_assert_cmpstr(sh->spec, ==, old);
	conf_free(c);
	g_free(old);
	g_free(dir);
	drop(path);
}

static void test_missing(void)
{
	GError *err = NULL;

	g_assert_null(conf_load("/nonexistent/mount.conf", &err));
	g_assert_error(err, CALFS_ERROR, CALFS_ERROR_IO);
	g_assert_nonnull(strstr(err->message, "/nonexistent/mount.conf"));
	g_error_free(err);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/conf/defaults", test_defaults);
	g_test_add_func("/conf/full", test_full);
	g_test_add_func("/conf/errors", test_errors);
	g_test_add_func("/conf/server-and-shards", test_server_and_shards);
	g_test_add_func("/conf/missing", test_missing);
	return g_test_run();
}
