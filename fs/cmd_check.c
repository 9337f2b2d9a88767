/* cmd_check.c - calfs check: what keeps a mount or its notifications from
 * working, one line per check with the fix */
#include "cmd.h"
#include "error.h"
#include "store_shard.h"
#include "tzinfo.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

typedef struct {
	int failed;
} checks;

static void ok(checks *c, const char *what, const char *detail)
{
	(void)c;
	printf("ok    %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
}

static void fail(checks *c, const char *what, const char *why, const char *fix)
{
	c->failed++;
	printf("FAIL  %s: %s; fix: %s\n", what, why, fix);
}

static void check_device(checks *c)
{
	if (access("/dev/fuse", R_OK | W_OK) == 0)
		ok(c, "/dev/fuse", NULL);
	else
		fail(c, "/dev/fuse", g_strerror(errno),
		     "load the module (modprobe fuse) or give the container the device");
	{
		char *p = g_find_program_in_path("fusermount3");

		if (p)
			ok(c, "fusermount3", p);
		else
			fail(c, "fusermount3", "not found on PATH", "apt-get install fuse3");
		g_free(p);
	}
}

/* The options the mount at mnt has, from /proc/mounts, or NULL. */
static char *mount_options(const char *mnt, char **type)
{
	char *text = NULL, *found = NULL;
	char **lines;

	if (type)
		*type = NULL;
	if (!g_file_get_contents("/proc/mounts", &text, NULL, NULL))
		return NULL;
	lines = g_strsplit(text, "\n", -1);
	for (int i = 0; lines[i] && !found; i++) {
		char **f = g_strsplit(lines[i], " ", -1);

		if (g_strv_length(f) >= 4 && !strcmp(f[1], mnt)) {
			found = g_strdup(f[3]);
			if (type)
				*type = g_strdup(f[2]);
		}
		g_strfreev(f);
	}
	g_strfreev(lines);
	g_free(text);
	return found;
}

static gboolean has_option(const char *opts, const char *name)
{
	char **o = g_strsplit(opts ? opts : "", ",", -1);
	gboolean yes = g_strv_contains((const char *const *)o, name);

	g_strfreev(o);
	return yes;
}

static void check_allow_other(checks *c, const char *asked, const char *mnt)
{
	const char *path = g_getenv("CALFS_FUSE_CONF");
	char *opts = mnt ? mount_options(mnt, NULL) : NULL;
	char *text = NULL;
	gboolean wanted = has_option(asked, "allow_other") || has_option(opts, "allow_other");
	gboolean set = FALSE;

	g_free(opts);
	if (!wanted)
		return;
	if (!path)
		path = "/etc/fuse.conf";
	if (g_file_get_contents(path, &text, NULL, NULL)) {
		char **lines = g_strsplit(text, "\n", -1);

		for (int i = 0; lines[i]; i++)
			set |= !strcmp(g_strstrip(lines[i]), "user_allow_other");
		g_strfreev(lines);
	}
	g_free(text);
	if (set) {
		ok(c, "user_allow_other", path);
	} else {
		char *why = g_strdup_printf("allow_other is asked for, and %s does not allow it"
					    " to users other than root", path);
		char *fix = g_strdup_printf("add a line user_allow_other to %s", path);

		fail(c, "user_allow_other", why, fix);
		g_free(why);
		g_free(fix);
	}
}

static void check_tzdata(checks *c)
{
	if (g_file_test("/usr/share/zoneinfo/America/New_York", G_FILE_TEST_EXISTS) &&
	    tzinfo_zone("America/New_York"))
		ok(c, "tzdata", "/usr/share/zoneinfo");
	else
		fail(c, "tzdata", "/usr/share/zoneinfo is missing or unreadable",
		     "apt-get install tzdata");
}

/* The store a mount serves, from its .calfs/status; NULL when unknown. */
static char *mounted_store(const char *mnt)
{
	char *path = g_build_filename(mnt, ".calfs", "status", NULL);
	char *text = NULL, *found = NULL;

	if (g_file_get_contents(path, &text, NULL, NULL)) {
		char *line = strstr(text, "store: sqlite ");

		if (line) {
			line += strlen("store: sqlite ");
			found = g_strndup(line, strcspn(line, "\n"));
		}
	}
	g_free(text);
	g_free(path);
	return found;
}

static store *check_store(checks *c, conf *cf)
{
	GError *err = NULL;
	store *s;

	if (cf->store_is_url || cf->shards->len) {
		/* a server, or several stores: opening them is the check */
	} else if (access(cf->store_path, F_OK) != 0) {
		char *why = g_strdup_printf("%s: no such file", cf->store_path);

		fail(c, "store", why, "calfs init or calfs import makes it, or give --store");
		g_free(why);
		return NULL;
	} else if (access(cf->store_path, R_OK | W_OK) != 0) {
		char *why = g_strdup_printf("%s: %s", cf->store_path, g_strerror(errno));

		fail(c, "store", why, "give the mounting user read and write access");
		g_free(why);
		return NULL;
	}
	if (!(s = store_open_conf(cf, "check", STORE_EXISTING, &err))) {
		fail(c, "store", err->message, "check the file, or restore it");
		g_error_free(err);
		return NULL;
	}
	if (!store_probe(s, 500, &err)) {
		fail(c, "store", err->message,
		     err->code == CALFS_ERROR_BUSY
			     ? "another process holds it locked: wait for it, or end it"
			     : "check the file and its directory");
		g_error_free(err);
		store_close(s);
		return NULL;
	}
	ok(c, "store", store_describe(s));	/* without a URL's password */
	return s;
}

/* Wait up to timeout seconds for path to exist (or not); the seconds it
 * took, or -1. */
static double wait_path(const char *path, gboolean exists, double timeout)
{
	gint64 start = g_get_monotonic_time();

	for (;;) {
		double t = (g_get_monotonic_time() - start) / 1e6;
		struct stat st;

		if ((stat(path, &st) == 0) == exists)
			return t;
		if (t > timeout)
			return -1;
		g_usleep(10000);
	}
}

static void check_notifications(checks *c, store *s, const char *mnt)
{
	char *name = g_strdup_printf("calfs-check-%d.invalid", (int)getpid());
	char *path = g_build_filename(mnt, name, NULL);
	GError *err = NULL;
	store_mailbox *mb;
	struct stat st;
	double appeared, vanished;

	/* looked up first, so that the kernel caches that it is not there */
	(void)stat(path, &st);
	if (!(mb = store_mailbox_create(s, name, &err))) {
		fail(c, "notifications", err->message, "check the store");
		g_error_free(err);
		goto out;
	}
	appeared = wait_path(path, TRUE, 2.0);
	store_mailbox_delete(s, mb->id, NULL);
	vanished = wait_path(path, FALSE, 2.0);
	if (appeared >= 0 && appeared <= 1.0 && vanished >= 0 && vanished <= 1.0) {
		char *d = g_strdup_printf("a change made elsewhere showed in %.2fs,"
					  " its undoing in %.2fs", appeared, vanished);

		ok(c, "notifications", d);
		g_free(d);
	} else {
		fail(c, "notifications", "a change made in the store took more than a second"
		     " to show in the mount", "make sure the daemon serving it is this calfs"
		     " and on this store (calfs check prints the store it found)");
	}
	store_mailbox_free(mb);
out:
	g_free(path);
	g_free(name);
}

static gboolean check_mount(checks *c, const char *mnt)
{
	char *type = NULL, *opts = mount_options(mnt, &type);
	struct statvfs sv;
	gboolean healthy = FALSE;

	/* statvfs always asks the daemon; stat may be answered from the
	 * kernel's cache */
	if (statvfs(mnt, &sv) < 0 && errno == ENOTCONN) {
		char *fix = g_strdup_printf("fusermount3 -u %s, then mount it again", mnt);

		fail(c, "mount", "stale: the daemon that served it is gone", fix);
		g_free(fix);
	} else if (!opts) {
		fail(c, "mount", "nothing is mounted there", "calfs mount MOUNTPOINT");
	} else if (!type || strcmp(type, "fuse.calfs")) {
		fail(c, "mount", "something other than calfs is mounted there",
		     "unmount it, or name the right directory");
	} else {
		ok(c, "mount", opts);
		healthy = TRUE;
	}
	g_free(type);
	g_free(opts);
	return healthy;
}

int cmd_check(const cmd_globals *g, int argc, char **argv)
{
	char *asked = NULL, *mnt = NULL;
	GOptionEntry entries[] = {
		{ "options", 'o', 0, G_OPTION_ARG_STRING, &asked,
		  "the mount options to be used (allow_other...)", "OPTS" },
		{ NULL, 0, 0, 0, NULL, NULL, NULL }
	};
	cmd_globals globals = *g;
	checks c = { 0 };
	conf *cf = NULL;
	store *s = NULL;
	gboolean healthy = FALSE;
	char *served = NULL;

	if (!cmd_parse(&argc, &argv, "[MOUNTPOINT]",
		       "Diagnose what keeps calfs from mounting, or a mount from\n"
		       "working: /dev/fuse, fusermount3, user_allow_other in\n"
		       "/etc/fuse.conf when allow_other is asked for, the store (read,\n"
		       "written, not locked), tzdata, and with MOUNTPOINT: a stale\n"
		       "mount, and whether a change made in the store reaches the\n"
		       "mount within a second.  One line per check, ok or FAIL with\n"
		       "the fix; exits 1 when something failed.", entries))
		return 2;
	if (argc > 2) {
		fprintf(stderr, "calfs check: at most one MOUNTPOINT\n");
		g_free(asked);
		return 2;
	}
	if (argc == 2)
		mnt = g_canonicalize_filename(argv[1], NULL);
	check_device(&c);
	check_allow_other(&c, asked, mnt);
	check_tzdata(&c);
	if (mnt && (healthy = check_mount(&c, mnt)) && (served = mounted_store(mnt)))
		globals.store_path = served;	/* the store that mount serves */
	if (!(cf = cmd_load_conf(&globals)))
		fail(&c, "config", "mount.conf could not be read (above)", "correct it");
	else
		s = check_store(&c, cf);
	if (s && healthy)
		check_notifications(&c, s, mnt);
	store_close(s);
	conf_free(cf);
	g_free(served);
	g_free(mnt);
	g_free(asked);
	return c.failed ? 1 : 0;
}
