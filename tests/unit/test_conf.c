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
	g_test_add_func("/conf/missing", test_missing);
	return g_test_run();
}
