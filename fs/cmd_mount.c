/* cmd_mount.c - calfs mount and the mount.fuse3 form
 *
 * Nothing the daemon relies on crosses fork().  SQLite's locks belong to
 * the process that took them (a connection carried into a child holds
 * none, and other processes then checkpoint and reset the WAL under it),
 * a libpq session must not be used by two processes, and threads do not
 * survive a fork.  So a mount goes:
 *
 *  1. read and check the configuration and the mount point, open the
 *     store and close it again: every mistake is reported on the terminal;
 *  2. make the FUSE session and mount it (its /dev/fuse descriptor is the
 *     one thing meant to cross the fork), and set the signal handlers;
 *  3. without -f, fork: the parent waits on a pipe until the child says it
 *     serves (or why it cannot) and exits with that status;
 *  4. in the daemon: open the store again, start logging (syslog, or
 *     -o logfile=), the notifier thread, and the request loop.
 *
 * libical's and GMime's tables (main.c) are made before step 1 in one
 * thread and only read afterwards: memory, not a resource, so the fork
 * copies them whole.
 */
#include "cmd.h"
#include "fs.h"
#include "ctl.h"
#include "handle.h"
#include "node.h"
#include "notify.h"
#include "ops.h"
#include "view.h"
#include "log.h"
#include "store_pg.h"
#include "store_shard.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
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
	char *logfile;
	double timeout;
	gboolean debug;		/* -o debug: as -d */
	GPtrArray *fuse_opts;	/* the others */
} own_opts;

static void own_opts_clear(own_opts *o)
{
	g_free(o->conf_file);
	g_free(o->logfile);
	if (o->fuse_opts)
		g_ptr_array_unref(o->fuse_opts);
}

static gboolean split_opts(char **opts, own_opts *o, GError **err)
{
	o->timeout = 3600.0;
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
			} else if (g_str_has_prefix(p, "logfile=")) {
				g_free(o->logfile);
				o->logfile = g_canonicalize_filename(p + 8, NULL);
			} else if (!strcmp(p, "debug")) {
				o->debug = TRUE;
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
	/* every listing tells each name's attributes: with "auto", the
	 * kernel asks for them only in a listing's first page and then
	 * looks up each name opened after it */
	conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
}

/* libfuse's own messages, once the terminal is gone */
static void fuse_log_to_ours(enum fuse_log_level level, const char *fmt, va_list ap)
{
	log_raw((int)level, fmt, ap);	/* the same numbers as syslog's */
}

static void fs_init_state(fs_ctx *fs, conf *c, double timeout)
{
	memset(fs, 0, sizeof(*fs));
	fs->conf = c;
	fs->timeout = timeout;
	fs->uid = getuid();
	fs->gid = getgid();
	clock_gettime(CLOCK_REALTIME, &fs->started);
	g_mutex_init(&fs->ns_lock);
	fs->trash_areas = g_hash_table_new(g_direct_hash, g_direct_equal);
	node_tables_init(fs);
	view_init(fs);
	ctl_init(fs);
	handle_table_init(fs);
}

static void fs_clear_state(fs_ctx *fs)
{
	handle_table_clear(fs);	/* the releases an unmount dropped */
	ctl_clear(fs);
	view_clear(fs);
	node_tables_clear(fs);
	g_hash_table_destroy(fs->trash_areas);
	g_mutex_clear(&fs->ns_lock);
}

/* The path of the mount point dir, made absolute without touching dir
 * itself: when a hung FUSE daemon serves it, a stat() would hang.  Newly
 * allocated, or NULL with errno set. */
static char *mountpoint_path(const char *dir)
{
	char *parent = g_path_get_dirname(dir), *base = g_path_get_basename(dir);
	gboolean plain = strcmp(base, ".") && strcmp(base, "..") && strcmp(base, "/");
	/* ".", ".." and "/" name no entry of their parent: those are resolved
	 * whole */
	char *real = realpath(plain ? parent : dir, NULL);
	char *path = NULL;

	if (real)
		path = plain ? g_build_filename(real, base, NULL) : g_strdup(real);
	free(real);
	g_free(parent);
	g_free(base);
	return path;
}

/* Undo /proc/self/mountinfo's octal escapes ("\040" for a space). */
static char *unescape(const char *s)
{
	GString *out = g_string_new(NULL);

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			g_string_append_c(out, (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + s[3] - '0'));
			s += 3;
		} else {
			g_string_append_c(out, *s);
		}
	}
	return g_string_free(out, FALSE);
}

/* The file system type mounted at path ("fuse.calfs"), newly allocated,
 * or NULL when nothing is mounted there. */
static char *mounted_type(const char *path)
{
	char *text = NULL, *type = NULL;
	char **lines;

	if (!g_file_get_contents("/proc/self/mountinfo", &text, NULL, NULL))
		return NULL;
	lines = g_strsplit(text, "\n", -1);
	for (int i = 0; lines[i]; i++) {
		char **f = g_strsplit(lines[i], " ", -1);
		guint n = g_strv_length(f), dash = 6;
		char *point;

		/* id parent dev root point options [optional...] - type source ... */
		while (dash < n && strcmp(f[dash], "-"))
			dash++;
		point = n > 4 ? unescape(f[4]) : NULL;
		if (point && dash + 1 < n && !strcmp(point, path)) {
			g_free(type);
			type = g_strdup(f[dash + 1]);	/* the last mount there wins */
		}
		g_free(point);
		g_strfreev(f);
	}
	g_strfreev(lines);
	g_free(text);
	return type;
}

/* Check the mount point: an existing directory that no calfs serves
 * already.  Its absolute path, or NULL after printing why not. */
static char *check_mountpoint(const char *arg)
{
	char *path = mountpoint_path(arg), *type;

	if (!path) {
		int saved = errno;

		fprintf(stderr, "calfs: mount point %s: %s\n", arg, g_strerror(saved));
		return NULL;
	}
	if ((type = mounted_type(path)) && !strcmp(type, "fuse.calfs")) {
		fprintf(stderr, "calfs: mount point %s: a calfs mount is there already"
			" (fusermount3 -u %s first)\n", path, path);
		goto fail;
	}
	if (!g_file_test(path, G_FILE_TEST_IS_DIR)) {
		int saved = errno;

		fprintf(stderr, "calfs: mount point %s: %s\n", path,
			g_file_test(path, G_FILE_TEST_EXISTS) ? "not a directory"
							      : g_strerror(saved ? saved : ENOENT));
		goto fail;
	}
	g_free(type);
	return path;
fail:
	g_free(type);
	g_free(path);
	return NULL;
}

/* Open the store of c, as the daemon's; NULL with err set. */
static store *open_store(const conf *c, GError **err)
{
	char *origin = g_strdup_printf("mount:%d", (int)getpid());
	store *s = store_open_conf(c, origin, STORE_EXISTING, err);

	g_free(origin);
	return s;
}

/* ---- the fork ---- */

/* The threads of this process, from /proc/self/status (0: unknown).
 * ThreadSanitizer runs a thread of its own: not counted there. */
static int thread_count(void)
{
	char *text = NULL, *line;
	int n = 0;

#ifdef __SANITIZE_THREAD__
	return 0;
#endif
	if (g_file_get_contents("/proc/self/status", &text, NULL, NULL) &&
	    (line = strstr(text, "\nThreads:")))
		n = atoi(line + strlen("\nThreads:"));
	g_free(text);
	return n;
}

/* Go to the background: fork, and in the parent wait for the child's
 * word (background_ready) and exit with its status, printing its
 * message.  Returns in the child, which leads a session of its own in
 * /, with *report the pipe to give its word on; -1 when fork fails. */
static int go_background(int *report)
{
	int p[2];
	pid_t pid;

	/* the rule above, checked: a thread here (a store's listener left
	 * running, say) would not exist in the daemon */
	if (thread_count() > 1) {
		fprintf(stderr, "calfs: internal error: %d threads before the fork\n",
			thread_count());
		errno = EDEADLK;
		return -1;
	}
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	if ((pid = fork()) < 0) {
		int saved = errno;

		close(p[0]);
		close(p[1]);
		errno = saved;
		return -1;
	}
	if (pid > 0) {
		GString *msg = g_string_new(NULL);
		char buf[512];
		ssize_t n;

		close(p[1]);
		while ((n = read(p[0], buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
			if (n > 0)
				g_string_append_len(msg, buf, n);
		/* "" means serving; a message is why not; nothing at all is
		 * a child that died before it could say */
		if (msg->len && strcmp(msg->str, "ok"))
			fprintf(stderr, "calfs: %s\n", msg->str);
		else if (!msg->len)
			fprintf(stderr, "calfs: the daemon died while starting\n");
		_exit(msg->len && !strcmp(msg->str, "ok") ? 0 : 1);
	}
	close(p[0]);
	if (setsid() < 0) {
		/* already a session leader: nothing to leave */
	}
	if (chdir("/") < 0) {
		/* / always exists; nothing else to do */
	}
	*report = p[1];
	return 0;
}

/* Give the parent its word: why the daemon cannot serve (why), or that
 * it does (NULL), in which case the terminal is let go. */
static void background_ready(int *report, const char *why)
{
	const char *word = why ? why : "ok";
	int null;

	if (*report < 0)
		return;
	if (!why && (null = open("/dev/null", O_RDWR)) >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		if (null > STDERR_FILENO)
			close(null);
	}
	if (write(*report, word, strlen(word)) < 0) {
		/* the parent is gone: nobody to tell */
	}
	close(*report);
	*report = -1;
}

/* ---- the mount ---- */

/* The fsname of the mount table: "calfs:" and the store without a
 * password; a comma would end the option, and fuse_opt takes "\\," for
 * one. */
static char *fsname_option(const conf *c)
{
	char *name = conf_store_name(c);
	char **parts = g_strsplit(name, ",", -1);
	char *escaped = g_strjoinv("\\,", parts);
	char *opt = g_strdup_printf("fsname=calfs:%s,subtype=calfs", escaped);

	g_free(escaped);
	g_strfreev(parts);
	g_free(name);
	return opt;
}

static struct fuse_session *new_session(fs_ctx *fs, const own_opts *own,
					const mount_args *ma)
{
	struct fuse_lowlevel_ops ops = { .init = op_init };
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct fuse_session *se;
	char *fsname = fsname_option(fs->conf);

	ops_dir_register(&ops);
	ops_file_register(&ops);
	fuse_opt_add_arg(&args, "calfs");
	if (ma->debug)
		fuse_opt_add_arg(&args, "-d");
	fuse_opt_add_arg(&args, "-o");
	fuse_opt_add_arg(&args, fsname);
	for (guint i = 0; i < own->fuse_opts->len; i++) {
		fuse_opt_add_arg(&args, "-o");
		fuse_opt_add_arg(&args, own->fuse_opts->pdata[i]);
	}
	se = fuse_session_new(&args, &ops, sizeof(ops), fs);
	fuse_opt_free_args(&args);
	g_free(fsname);
	return se;
}

/* Serve until the mount ends: 0 when it was unmounted (or the connection
 * aborted) or a signal stopped it, below zero when reading the device
 * failed (libfuse printed why). */
static int serve(fs_ctx *fs, const mount_args *ma, const char *mountpoint)
{
	struct fuse_loop_config *loop;
	int rc;

	if (ma->single) {
		rc = fuse_session_loop(fs->se);
	} else {
		loop = fuse_loop_cfg_create();
		fuse_loop_cfg_set_clone_fd(loop, 0);
		fuse_loop_cfg_set_max_threads(loop, 16);
		rc = fuse_session_loop_mt(fs->se, loop);
		fuse_loop_cfg_destroy(loop);
	}
	/* The kernel ended the connection.  libfuse 3.14 takes only ENODEV
	 * for that, but Linux 6.18 was seen answering a read with
	 * ECONNABORTED when the last file of a lazily unmounted mount closed
	 * with requests (releases) still queued, though calfs does not ask
	 * for FUSE_ABORT_ERROR: the end of the mount all the same.  libfuse
	 * has printed "reading device: Software caused connection abort" on
	 * standard error by then. */
	if (rc == -ECONNABORTED) {
		log_notice("%s: the kernel ended the connection", mountpoint);
		rc = 0;
	}
	return rc;
}

static int run(const cmd_globals *g, const char *store_arg,
	       const char *mountpoint_arg, mount_args *ma)
{
	own_opts own = { 0 };
	cmd_globals globals = *g;
	GError *err = NULL;
	char *mountpoint = NULL, *command = NULL, *why = NULL;
	conf *c = NULL;
	store *s;
	fs_ctx fs;
	int rc = 1, report = -1;
	gboolean background;

	if (!split_opts(ma->opts, &own, &err)) {
		fprintf(stderr, "calfs: %s\n", err->message);
		g_error_free(err);
		goto out;
	}
	ma->debug |= own.debug;
	background = !ma->foreground && !ma->debug;
	if (own.conf_file)
		globals.conf_file = own.conf_file;
	if (store_arg)
		globals.store_path = (char *)store_arg;
	if (!(c = cmd_load_conf(&globals)))
		goto out;
	if (!(mountpoint = check_mountpoint(mountpoint_arg)))
		goto out;
	/* 1: the store opens: say so on the terminal, and close it */
	if (!(s = open_store(c, &err))) {
		fprintf(stderr, "calfs: %s\n", err->message);
		g_error_free(err);
		goto out;
	}
	store_close(s);
	if (own.logfile && !log_use_file(own.logfile, &err)) {
		fprintf(stderr, "calfs: %s\n", err->message);
		g_error_free(err);
		goto out;
	}
	log_close();	/* opened again by the daemon (a descriptor to share is no use) */
	if (ma->debug)
		log_set_verbose(TRUE);

	/* 2: the session and the mount */
	fs_init_state(&fs, c, own.timeout);
	if (!(fs.se = new_session(&fs, &own, ma)))
		goto out_state;		/* libfuse said why */
	if (fuse_set_signal_handlers(fs.se) != 0)
		goto out_session;
	if (fuse_session_mount(fs.se, mountpoint) != 0)
		goto out_handlers;

	/* 3: the fork */
	if (background && go_background(&report) < 0) {
		int saved = errno;

		fprintf(stderr, "calfs: fork: %s\n", g_strerror(saved));
		goto out_unmount;
	}

	/* 4: the daemon */
	if (own.logfile && !log_use_file(own.logfile, &err)) {
		why = g_strdup(err->message);
		g_clear_error(&err);
		goto out_unmount;
	}
	if (background && !own.logfile)
		log_use_syslog();
	if (background)
		fuse_set_log_func(fuse_log_to_ours);
	if (!(fs.store = open_store(c, &err))) {
		why = g_strdup(err->message);
		g_clear_error(&err);
		goto out_unmount;
	}
	command = g_strdup_printf("mount %s", mountpoint);
	store_run_begin(fs.store, command);
	/* .calfs/events shows the last changes before the mount, then all */
	ctl_events_from(&fs, MAX(0, store_last_change(fs.store, NULL) - 100));
	if (!(fs.notifier = notify_start(&fs, &err))) {
		why = g_strdup(err->message);
		g_clear_error(&err);
		goto out_store;
	}
	log_notice("%s: mounted %s (pid %d)", mountpoint, store_describe(fs.store),
		   (int)getpid());
	background_ready(&report, NULL);
	rc = serve(&fs, ma, mountpoint) < 0 ? 1 : 0;
	notify_stop(fs.notifier);
	fs.notifier = NULL;	/* the handles freed at the end tell no one */
out_store:
	store_close(fs.store);
out_unmount:
	if (why) {
		if (report >= 0)
			background_ready(&report, why);
		else
			fprintf(stderr, "calfs: %s\n", why);
		log_error("%s", why);
	}
	fuse_session_unmount(fs.se);
out_handlers:
	fuse_remove_signal_handlers(fs.se);
out_session:
	fuse_session_destroy(fs.se);
out_state:
	fs_clear_state(&fs);
out:
	if (report >= 0)
		background_ready(&report, "the daemon could not start (see its log)");
	log_close();
	conf_free(c);
	g_free(mountpoint);
	g_free(command);
	g_free(why);
	own_opts_clear(&own);
	return rc;
}

static const char mount_summary[] =
	"Mount the store at MOUNTPOINT: one directory per mailbox, one per\n"
	"calendar, one .ics file per item.  Without -f the daemon goes to\n"
	"the background (once it serves) and logs to syslog, or to the file\n"
	"-o logfile= names.  Unmount with fusermount3 -u.\n"
	"\n"
	"Options for -o: conf=FILE (mount.conf), cache_timeout=SECONDS (3600:\n"
	"how long the kernel keeps names and attributes), logfile=FILE,\n"
	"debug (as -d), and libfuse's own (allow_other, default_permissions,\n"
	"ro, ...).";

static gboolean parse_mount(int *argc, char ***argv, mount_args *ma,
			    const char *params)
{
	GOptionEntry entries[] = {
		{ "foreground", 'f', 0, G_OPTION_ARG_NONE, &ma->foreground,
		  "stay in the foreground, log to standard error", NULL },
		{ "debug", 'd', 0, G_OPTION_ARG_NONE, &ma->debug,
		  "print every FUSE request and calfs's debug messages (implies -f)", NULL },
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

gboolean cmd_is_store(const char *arg)
{
	return pgstore_is_url(arg) || g_file_test(arg, G_FILE_TEST_IS_REGULAR);
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
