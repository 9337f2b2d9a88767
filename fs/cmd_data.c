/* cmd_data.c - calfs import and calfs export */
#include "cmd.h"
#include "vdir.h"

#include <stdio.h>
#include <string.h>

int cmd_import(const cmd_globals *g, int argc, char **argv)
{
	vdir_stats st = { 0 };
	GError *err = NULL;
	conf *c;
	store *s;
	char *command;
	int rc = 0;

	if (!cmd_parse(&argc, &argv, "MAILBOX[/CALENDAR] PATH...",
		   "Import .ics files (any number of events each; they are split\n"
		   "into one item per UID) and vdir directories into a calendar.\n"
		   "The mailbox and the calendar (default \"Calendar\") are created\n"
		   "when missing.  An item whose UID is already stored replaces it.\n"
		   "Files that cannot be read are reported and skipped.", NULL))
		return 2;
	if (argc < 3) {
		fprintf(stderr, "calfs import: MAILBOX[/CALENDAR] and at least one PATH needed\n");
		return 2;
	}
	if (!(c = cmd_load_conf(g)))
		return 1;
	if (!(s = cmd_open_store(c, "import"))) {
		conf_free(c);
		return 1;
	}
	command = g_strjoinv(" ", argv);
	if (!store_run_begin(s, command, &err) ||
	    !vdir_import(s, c, argv[1], argv + 2, &st, &err)) {
		fprintf(stderr, "calfs: import: %s\n", err->message);
		g_error_free(err);
		rc = 1;
	}
	printf("calfs: import: %u files: %u created, %u updated, %u unchanged, %u skipped\n",
	       st.files, st.created, st.updated, st.unchanged, st.skipped);
	g_free(command);
	store_close(s);
	conf_free(c);
	return rc;
}

int cmd_export(const cmd_globals *g, int argc, char **argv)
{
	GError *err = NULL;
	guint count = 0;
	conf *c;
	store *s;
	int rc = 0;

	if (!cmd_parse(&argc, &argv, "MAILBOX[/CALENDAR] DIR",
		   "Write the items of a calendar (or of every calendar of a\n"
		   "mailbox, one subdirectory each) to DIR as a vdir, rendered as\n"
		   "the mount shows them.", NULL))
		return 2;
	if (argc != 3) {
		fprintf(stderr, "calfs export: MAILBOX[/CALENDAR] and DIR needed\n");
		return 2;
	}
	if (!(c = cmd_load_conf(g)))
		return 1;
	if (!(s = cmd_open_store(c, "export"))) {
		conf_free(c);
		return 1;
	}
	if (!vdir_export(s, c, argv[1], argv[2], &count, &err)) {
		fprintf(stderr, "calfs: export: %s\n", err->message);
		g_error_free(err);
		rc = 1;
	} else {
		printf("calfs: export: %u items written to %s\n", count, argv[2]);
	}
	store_close(s);
	conf_free(c);
	return rc;
}
