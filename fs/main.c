/* main.c - the calfs command: global options, then a subcommand */
#include "cmd.h"
#include "error.h"
#include "log.h"
#include "store.h"
#include "store_shard.h"
#include "tz.h"

#include <gmime/gmime.h>

#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifndef CALFS_VERSION
#define CALFS_VERSION "0.1"
#endif

static const char usage[] =
	"usage: calfs [-c CONF] [--store DB|URL] COMMAND [ARGS]\n"
	"\n"
	"  init                                   create the store (SQLite file or PostgreSQL tables)\n"
	"  mount [-f] [-d] [-o OPTS] MOUNTPOINT   mount the store\n"
	"  STORE MOUNTPOINT [-o OPTS]             the same, as mount.fuse3 and fstab call it\n"
	"  import MAILBOX[/CALENDAR] PATH...      import .ics files and vdir directories\n"
	"  export MAILBOX[/CALENDAR] DIR          write rendered items as a vdir\n"
	"  export --imip [--cancel] MAILBOX/CALENDAR/ITEM.ics DIR\n"
	"                                         an update or cancellation for the attendees\n"
	"  tz                                     time-zone extraction report\n"
	"  fix [--dry-run] [--mailbox M]...       persist repairs and rebases, journaled\n"
	"  undo RUN                               put back what a journal run changed\n"
	"  journal                                list the journal runs\n"
	"  check [-o OPTS] [MOUNTPOINT]           diagnose the machine, config and mount\n"
	"\n"
	"  -c CONF       the configuration (default ./mount.conf when it exists)\n"
	"  --store DB|URL  the SQLite file or postgresql:// URL, overriding [store]\n"
	"\n"
	"'calfs COMMAND --help' describes a command.  Unmount with 'fusermount3 -u MOUNTPOINT'.\n";

conf *cmd_load_conf(const cmd_globals *g)
{
	GError *err = NULL;
	conf *c;

	if (g->conf_file)
		c = conf_load(g->conf_file, &err);
	else if (g_file_test("mount.conf", G_FILE_TEST_EXISTS))
		c = conf_load("mount.conf", &err);
	else
		c = conf_new_default();
	if (!c) {
		fprintf(stderr, "calfs: %s\n", err->message);
		g_error_free(err);
		return NULL;
	}
	if (g->store_path)
		conf_set_store(c, g->store_path);
	return c;
}

store *cmd_open_store(const conf *c, const char *command, store_open_mode mode)
{
	GError *err = NULL;
	char *origin = g_strdup_printf("%s:%d", command, (int)getpid());
	store *s = store_open_conf(c, origin, mode, &err);

	g_free(origin);
	if (!s) {
		fprintf(stderr, "calfs: %s\n", err->message);
		g_error_free(err);
	}
	return s;
}

gboolean cmd_parse(int *argc, char ***argv, const char *params,
		   const char *summary, GOptionEntry *entries)
{
	const char *cmd = (*argv)[0];
	char *name = *cmd ? g_strconcat("calfs ", cmd, NULL) : g_strdup("calfs");
	GOptionContext *ctx;
	GError *err = NULL;
	gboolean ok;

	g_set_prgname(name);	/* "Usage: calfs import ..." */
	g_free(name);
	ctx = g_option_context_new(params);
	g_option_context_set_summary(ctx, summary);
	if (entries)
		g_option_context_add_main_entries(ctx, entries, NULL);
	ok = g_option_context_parse(ctx, argc, argv, &err);
	if (!ok) {
		fprintf(stderr, "calfs: %s\n", err->message);
		g_error_free(err);
	}
	g_option_context_free(ctx);
	return ok;
}

static int parse_globals(int argc, char **argv, cmd_globals *g, int *next)
{
	int i = 1;

	while (i < argc && argv[i][0] == '-') {
		const char *a = argv[i];

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage, stdout);
			exit(0);
		} else if (!strcmp(a, "--version") || !strcmp(a, "-V")) {
			printf("calfs %s\n", CALFS_VERSION);
			exit(0);
		} else if ((!strcmp(a, "-c") || !strcmp(a, "--store")) && i + 1 < argc) {
			char **dst = !strcmp(a, "-c") ? &g->conf_file : &g->store_path;

			g_free(*dst);
			*dst = g_strdup(argv[i + 1]);
			i += 2;
		} else if (g_str_has_prefix(a, "--store=")) {
			g_free(g->store_path);
			g->store_path = g_strdup(a + strlen("--store="));
			i++;
		} else if (g_str_has_prefix(a, "-c") && a[2]) {
			g_free(g->conf_file);
			g->conf_file = g_strdup(a + 2);
			i++;
		} else {
			fprintf(stderr, "calfs: unknown option '%s'\n%s", a, usage);
			return 2;
		}
	}
	*next = i;
	return 0;
}

int main(int argc, char **argv)
{
	cmd_globals g = { 0 };
	const char *cmd;
	int i, rc;

	setlocale(LC_ALL, "");
	g_set_prgname("calfs");
	if ((rc = parse_globals(argc, argv, &g, &i)))
		return rc;
	if (i >= argc) {
		fputs(usage, stderr);
		return 2;
	}
	/* libical's globals and zone table, GMime's tables, before any
	 * thread starts */
	tz_init();
	g_mime_init();
	(void)calfs_error_quark();	/* G_DEFINE_QUARK's first call is not thread-safe */
	cmd = argv[i];
	if (!strcmp(cmd, "mount"))
		rc = cmd_mount(&g, argc - i, argv + i);
	else if (!strcmp(cmd, "import"))
		rc = cmd_import(&g, argc - i, argv + i);
	else if (!strcmp(cmd, "export"))
		rc = cmd_export(&g, argc - i, argv + i);
	else if (!strcmp(cmd, "tz"))
		rc = cmd_tz(&g, argc - i, argv + i);
	else if (!strcmp(cmd, "fix"))
		rc = cmd_fix(&g, argc - i, argv + i);
	else if (!strcmp(cmd, "undo"))
		rc = cmd_undo(&g, argc - i, argv + i);
	else if (!strcmp(cmd, "journal"))
		rc = cmd_journal(&g, argc - i, argv + i);
	else if (!strcmp(cmd, "check"))
		rc = cmd_check(&g, argc - i, argv + i);
	else if (!strcmp(cmd, "init"))
		rc = cmd_init(&g, argc - i, argv + i);
	else if (!strcmp(cmd, "help")) {
		fputs(usage, stdout);
		rc = 0;
	} else if (cmd_is_store(cmd)) {
		rc = cmd_mount_fstab(&g, argc - i, argv + i);
	} else if (strchr(cmd, '/')) {
		/* a store's path, as mount.fuse3 passes it: say what is wrong */
		fprintf(stderr, "calfs: store %s: no such file (calfs init or calfs import"
			" makes it)\n", cmd);
		rc = 1;
	} else {
		fprintf(stderr, "calfs: '%s' is not a command\n%s", cmd, usage);
		rc = 2;
	}
	g_free(g.conf_file);
	g_free(g.store_path);
	return rc;
}
