/* cmd_mount.c - calfs mount and the mount.fuse3 form
 *
 * Order matters: the configuration is validated and the store opened while
 * errors can still reach the terminal; then the mount, the daemon (which
 * changes directory to /), and only then threads (fork keeps none).
 */
#include "cmd.h"
#include "fs.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
	gboolean foreground;
	gboolean debug;
	gboolean single;
	char **opts;		/* -o values */
} mount_args;

/* Our own -o keys, taken out before the rest goes to libfuse. */
typedef struct {
	char *conf_file;
	double timeout;
	GPtrArray *fuse_opts;	/* the others */
} own_opts;

static gboolean split_opts(char **opts, own_opts *o, GError **err)
{
	o->timeout = 10.0;
	o->fuse_opts = g_ptr_array_new_with_free_func(g_free);
	for (int i = 0; opts && opts[i]; i++) {
		char **parts = g_strsplit(opts[i], ",", -1);

		for (int j = 0; parts[j]; j++) {
			const char *p = parts[j];
			char *end;

			if (!*p)
				continue;
			if (g_str_has_prefix(p, "conf=")) {
				g_free(o->conf_file);
				o->conf_file = g_strdup(p + 5);
			} else if (g_str_has_prefix(p, "cache_timeout=")) {
				o->timeout = g_ascii_strtod(p + 14, &end);
				if (*end || o->timeout < 0) {
					g_set_error(err, G_OPTION_ERROR,
						    G_OPTION_ERROR_BAD_VALUE,
						    "-o %s: not a number of seconds", p);
					g_strfreev(parts);
					return FALSE;
				}
			} else {
				g_ptr_array_add(o->fuse_opts, g_strdup(p));
			}
		}
		g_strfreev(parts);
	}
	return TRUE;
}

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
	/* items change size when stored repaired: no writeback caching */
	conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
}

static void fs_init_state(fs_ctx *fs, conf *c, store *s, double timeout)
{
	memset(fs, 0, sizeof(*fs));
	fs->conf = c;
	fs->store = s;
	fs->timeout = timeout;
	fs->uid = getuid();
	fs->gid = getgid();
	clock_gettime(CLOCK_REALTIME, &fs->started);
	g_mutex_init(&fs->ns_lock);
	g_mutex_init(&fs->cache_lock);
	/* keyed by the item id inside each rendering */
	fs->renders = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL,
					    (GDestroyNotify)rendered_free);
	fs->calendars = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
					      (GDestroyNotify)view_calinfo_free);
	/* inode -> version, both held in the pointers: no allocation */
	fs->kept = g_hash_table_new(g_direct_hash, g_direct_equal);
	fs->told = g_hash_table_new(g_direct_hash, g_direct_equal);
	fs->extracted = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
					      view_extracted_free);
	node_tables_init(fs);
	ctl_init(fs);
}

static void fs_clear_state(fs_ctx *fs)
{
	ctl_clear(fs);
	node_tables_clear(fs);
	g_hash_table_destroy(fs->renders);
	g_hash_table_destroy(fs->calendars);
	g_hash_table_destroy(fs->kept);
	g_hash_table_destroy(fs->told);
	g_hash_table_destroy(fs->extracted);
	g_mutex_clear(&fs->cache_lock);
	g_mutex_clear(&fs->ns_lock);
}

static int run(const cmd_globals *g, const char *store_arg,
	       const char *mountpoint_arg, mount_args *ma)
{
	struct fuse_lowlevel_ops ops = { .init = op_init };
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct fuse_loop_config *loop;
	own_opts own = { 0 };
	cmd_globals globals = *g;
	GError *err = NULL;
	char *mountpoint = NULL, *command = NULL, *fsname = NULL;
	conf *c = NULL;
	store *s = NULL;
	fs_ctx fs;
	int rc = 1, state = 0;

	if (!split_opts(ma->opts, &own, &err)) {
		fprintf(stderr, "calfs: %s\n", err->message);
		g_error_free(err);
		goto out;
	}
	if (own.conf_file)
		globals.conf_file = own.conf_file;
	if (store_arg)
		globals.store_path = (char *)store_arg;
	if (!(c = cmd_load_conf(&globals)))
		goto out;
	mountpoint = realpath(mountpoint_arg, NULL);
	if (!mountpoint || !g_file_test(mountpoint, G_FILE_TEST_IS_DIR)) {
		int saved = errno;

		fprintf(stderr, "calfs: mount point %s: %s\n", mountpoint_arg,
			mountpoint ? "not a directory" : g_strerror(saved));
		goto out;
	}
	command = g_strdup_printf("mount %s", mountpoint);
	if (!(s = cmd_open_store(c, "mount")))
		goto out;
	if (!store_run_begin(s, command, &err)) {
		fprintf(stderr, "calfs: %s\n", err->message);
		g_error_free(err);
		goto out;
	}

	fs_init_state(&fs, c, s, own.timeout);
	state = 1;
	/* .calfs/events shows the last changes before the mount, then all */
	fs.events_from = MAX(0, store_last_change(s, NULL) - 100);
	ops_dir_register(&ops);
	ops_file_register(&ops);
	fuse_opt_add_arg(&args, "calfs");
	if (ma->debug)
		fuse_opt_add_arg(&args, "-d");
	{
		/* a comma would end the option: fuse_opt takes "\\," for one */
		char *name = conf_store_name(c);
		char **parts = g_strsplit(name, ",", -1);
		char *escaped = g_strjoinv("\\,", parts);

		fsname = g_strdup_printf("fsname=calfs:%s,subtype=calfs", escaped);
		g_free(escaped);
		g_strfreev(parts);
		g_free(name);
	}
	fuse_opt_add_arg(&args, "-o");
	fuse_opt_add_arg(&args, fsname);
	for (guint i = 0; i < own.fuse_opts->len; i++) {
		fuse_opt_add_arg(&args, "-o");
		fuse_opt_add_arg(&args, own.fuse_opts->pdata[i]);
	}
	fs.se = fuse_session_new(&args, &ops, sizeof(ops), &fs);
	if (!fs.se)
		goto out;	/* libfuse said why */
	state = 2;
	if (fuse_set_signal_handlers(fs.se) != 0)
		goto out;
	state = 3;
	if (fuse_session_mount(fs.se, mountpoint) != 0)
		goto out;
	state = 4;
	if (!ma->foreground && !ma->debug)
		log_use_syslog();
	if (fuse_daemonize(ma->foreground || ma->debug) != 0)
		goto out;
	fs.notifier = notify_start(&fs, &err);
	if (!fs.notifier) {
		log_error("%s", err->message);
		g_error_free(err);
		goto out;
	}
	log_notice("%s: mounted %s", mountpoint, store_describe(s));
	if (ma->single) {
		rc = fuse_session_loop(fs.se);
	} else {
		loop = fuse_loop_cfg_create();
		fuse_loop_cfg_set_clone_fd(loop, 0);
		fuse_loop_cfg_set_max_threads(loop, 16);
		rc = fuse_session_loop_mt(fs.se, loop);
		fuse_loop_cfg_destroy(loop);
	}
	rc = rc < 0 ? 1 : 0;
	notify_stop(fs.notifier);
out:
	if (state >= 4)
		fuse_session_unmount(fs.se);
	if (state >= 3)
		fuse_remove_signal_handlers(fs.se);
	if (state >= 2)
		fuse_session_destroy(fs.se);
	if (state >= 1)
		fs_clear_state(&fs);
	fuse_opt_free_args(&args);
	store_close(s);
	conf_free(c);
	free(mountpoint);
	g_free(command);
	g_free(fsname);
	g_free(own.conf_file);
	if (own.fuse_opts)
		g_ptr_array_unref(own.fuse_opts);
	return rc;
}

static const char mount_summary[] =
	"Mount the store at MOUNTPOINT: one directory per mailbox, one per\n"
	"calendar, one .ics file per item.  Without -f the daemon goes to\n"
	"the background and logs to syslog.  Unmount with fusermount3 -u.\n"
	"\n"
	"Options for -o: conf=FILE (mount.conf), cache_timeout=SECONDS (10)\n"
	"(kernel entry and attribute caching, default 1), and libfuse's\n"
	"own (allow_other, default_permissions, ro, ...).";

static gboolean parse_mount(int *argc, char ***argv, mount_args *ma,
			    const char *params)
{
	GOptionEntry entries[] = {
		{ "foreground", 'f', 0, G_OPTION_ARG_NONE, &ma->foreground,
		  "stay in the foreground, log to standard error", NULL },
		{ "debug", 'd', 0, G_OPTION_ARG_NONE, &ma->debug,
		  "print every FUSE request (implies -f)", NULL },
		{ "single", 's', 0, G_OPTION_ARG_NONE, &ma->single,
		  "serve requests in one thread", NULL },
		{ "options", 'o', 0, G_OPTION_ARG_STRING_ARRAY, &ma->opts,
		  "mount options, comma-separated", "OPTS" },
		{ NULL, 0, 0, 0, NULL, NULL, NULL }
	};

	return cmd_parse(argc, argv, params, mount_summary, entries);
}

int cmd_mount(const cmd_globals *g, int argc, char **argv)
{
	mount_args ma = { 0 };
	int rc;

	if (!parse_mount(&argc, &argv, &ma, "MOUNTPOINT"))
		return 2;
	if (argc != 2) {
		fprintf(stderr, "calfs mount: one MOUNTPOINT needed\n");
		g_strfreev(ma.opts);
		return 2;
	}
	rc = run(g, NULL, argv[1], &ma);
	g_strfreev(ma.opts);
	return rc;
}

int cmd_mount_fstab(const cmd_globals *g, int argc, char **argv)
{
	mount_args ma = { 0 };
	char **v = g_new0(char *, argc + 2);
	char **orig = v;
	int n = argc, rc;

	/* "calfs STORE MOUNTPOINT -o OPTS": parse as "mount STORE MOUNTPOINT" */
	v[0] = "";		/* usage: "calfs STORE MOUNTPOINT" */
	for (int i = 0; i < argc; i++)
		v[i + 1] = argv[i];
	n = argc + 1;
	if (!parse_mount(&n, &v, &ma, "STORE MOUNTPOINT")) {
		g_free(orig);
		return 2;
	}
	if (n != 3) {
		fprintf(stderr, "calfs: STORE and MOUNTPOINT needed\n");
		rc = 2;
	} else {
		rc = run(g, v[1], v[2], &ma);
	}
	g_strfreev(ma.opts);
	g_free(orig);
	return rc;
}
