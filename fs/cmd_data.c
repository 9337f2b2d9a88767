/* cmd_data.c - calfs import and calfs export */
#include "cmd.h"
#include "tzscan.h"
#include "vdir.h"

#include <stdio.h>
#include <string.h>

int cmd_import(const cmd_globals *g, int argc, char **argv)
{
	gboolean tree = FALSE, verbose = FALSE;
	GOptionEntry entries[] = {
		{ "tree", 0, 0, G_OPTION_ARG_NONE, &tree,
		  "import DIR/MAILBOX/... for every mailbox in each DIR: its subdirectories"
		  " as calendars, its files and Maildirs into Calendar", NULL },
		{ "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose,
		  "say how many items each file gave", NULL },
		{ NULL, 0, 0, 0, NULL, NULL, NULL }
	};
	itip_stats st = { 0 };
	GError *err = NULL;
	conf *c;
	store *s;
	char *command;
	gboolean ok = TRUE;
	int rc = 0;

	if (!cmd_parse(&argc, &argv, "MAILBOX[/CALENDAR] PATH... | --tree DIR...",
		   "Import into a calendar: .ics files (any number of events each;\n"
		   "they are split into one item per UID), vdir directories,\n"
		   "Maildirs, mbox files and single messages (.eml).  Every\n"
		   "calendar object is processed by its METHOD: PUBLISH or none\n"
		   "stores items (replacing the item with the same UID), REQUEST\n"
		   "creates or updates them, REPLY updates the attendee in the\n"
		   "organizer's item, CANCEL marks it cancelled.  Items are stored\n"
		   "as they come; reading through the mount repairs them.\n"
		   "The mailbox and the calendar (default \"Calendar\") are created\n"
		   "when missing.  What cannot be read is reported and skipped,\n"
		   "and the exit status is then 1 (the rest is imported).\n"
		   "With --tree, a whole organisation in one run.", entries))
		return 2;
	if (argc < (tree ? 2 : 3)) {
		fprintf(stderr, "calfs import: %s\n", tree ? "at least one DIR needed"
			: "MAILBOX[/CALENDAR] and at least one PATH needed");
		return 2;
	}
	if (!(c = cmd_load_conf(g)))
		return 1;
	if (!(s = cmd_open_store(c, "import", STORE_CREATE))) {
		conf_free(c);
		return 1;
	}
	command = g_strjoinv(" ", argv);
	store_run_begin(s, command);
	for (int i = 1; ok && tree && argv[i]; i++)
		ok = vdir_import_tree(s, c, argv[i], verbose, &st, &err);
	if (ok && !tree)
		ok = vdir_import(s, c, argv[1], argv + 2, verbose, &st, &err);
	if (!ok) {
		fprintf(stderr, "calfs: import: %s\n", err->message);
		g_error_free(err);
		rc = 1;
	}
	printf("calfs: import: %u files, %u messages: %u created, %u updated, %u unchanged, "
	       "%u replies applied, %u stale ignored, %u cancelled, %u skipped\n",
	       st.files, st.messages, st.created, st.updated, st.unchanged,
	       st.replies, st.stale, st.cancelled, st.skipped);
	/* like cp: the rest is imported, and the status says not all was */
	if (st.skipped && !rc)
		rc = 1;
	g_free(command);
	store_close(s);
	conf_free(c);
	return rc;
}

int cmd_export(const cmd_globals *g, int argc, char **argv)
{
	gboolean imip = FALSE, cancel = FALSE;
	GOptionEntry entries[] = {
		{ "imip", 0, 0, G_OPTION_ARG_NONE, &imip,
		  "write an update of MAILBOX/CALENDAR/ITEM.ics to its attendees"
		  " as a mail message in DIR", NULL },
		{ "cancel", 0, 0, G_OPTION_ARG_NONE, &cancel,
		  "with --imip: a cancellation instead of an update", NULL },
		{ NULL, 0, 0, 0, NULL, NULL, NULL }
	};
	GError *err = NULL;
	guint count = 0;
	char *path = NULL;
	conf *c;
	store *s;
	int rc = 0;

	if (!cmd_parse(&argc, &argv, "MAILBOX[/CALENDAR[/ITEM.ics]] DIR",
		       "Write the items of a calendar (or of every calendar of a\n"
		       "mailbox, one subdirectory each) to DIR as a vdir, rendered as\n"
		       "the mount shows them.  With --imip, write an iMIP message\n"
		       "(RFC 6047) for one item instead: an update (METHOD:REQUEST,\n"
		       "SEQUENCE bumped) or, with --cancel, a cancellation, made from\n"
		       "the repaired item.", entries))
		return 2;
	if (argc != 3 || (cancel && !imip)) {
		fprintf(stderr, "calfs export: %s\n", cancel && !imip
			? "--cancel goes with --imip"
			: "MAILBOX[/CALENDAR] (or with --imip MAILBOX/CALENDAR/ITEM.ics) and DIR needed");
		return 2;
	}
	if (!(c = cmd_load_conf(g)))
		return 1;
	if (!(s = cmd_open_store(c, "export", STORE_EXISTING))) {
		conf_free(c);
		return 1;
	}
	if (imip && (path = vdir_export_imip(s, c, argv[1], argv[2], cancel, &err))) {
		printf("%s\n", path);
	} else if (!imip && vdir_export(s, c, argv[1], argv[2], &count, &err)) {
		printf("calfs: export: %u items written to %s\n", count, argv[2]);
	} else {
		fprintf(stderr, "calfs: export: %s\n", err->message);
		g_error_free(err);
		rc = 1;
	}
	g_free(path);
	store_close(s);
	conf_free(c);
	return rc;
}

int cmd_tz(const cmd_globals *g, int argc, char **argv)
{
	GError *err = NULL;
	GPtrArray *scans;
	conf *c;
	store *s;
	int rc = 0;

	if (!cmd_parse(&argc, &argv, "",
		       "Time-zone extraction: for each mailbox the configured zone, the\n"
		       "zones of its recurring items and of its single items (with\n"
		       "counts), the zone resolved and a status (ok, conflict, none),\n"
		       "as tab-separated lines; then the conflicts (mailboxes whose\n"
		       "items point to zones that differ, items whose TZID cannot be\n"
		       "told apart) and the mailboxes without any zone.  Set a\n"
		       "mailbox's zone in mount.conf or by writing it to\n"
		       "MOUNT/MAILBOX/.calfs/timezone.", NULL))
		return 2;
	if (argc != 1) {
		fprintf(stderr, "calfs tz: no arguments expected\n");
		return 2;
	}
	if (!(c = cmd_load_conf(g)))
		return 1;
	if (!(s = cmd_open_store(c, "tz", STORE_EXISTING))) {
		conf_free(c);
		return 1;
	}
	if (!(scans = tzscan_all(s, c, &err))) {
		fprintf(stderr, "calfs: tz: %s\n", err->message);
		g_error_free(err);
		rc = 1;
	} else {
		char *tsv = tzscan_format_tsv(scans);
		char *conflicts = tzscan_format_conflicts(scans);
		char *none = tzscan_format_nonexistent(scans);

		fputs(tsv, stdout);
		if (*conflicts)
			printf("\n# conflicts\n%s", conflicts);
		if (*none)
			printf("\n# no zone\n%s", none);
		g_free(tsv);
		g_free(conflicts);
		g_free(none);
		g_ptr_array_unref(scans);
	}
	store_close(s);
	conf_free(c);
	return rc;
}
