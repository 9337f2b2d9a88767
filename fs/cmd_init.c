/* cmd_init.c - calfs init: create the store (or every shard's) and say
 * what it holds */
#include "cmd.h"

#include <stdio.h>

int cmd_init(const cmd_globals *g, int argc, char **argv)
{
	GError *err = NULL;
	store_stats st;
	conf *c = NULL;
	store *s = NULL;
	int rc = 1;

	if (!cmd_parse(&argc, &argv, "",
		       "Create the store that mount.conf names, with its schema: the\n"
		       "SQLite file, or the tables in the PostgreSQL database of\n"
		       "[store] url= (the database must exist: createdb), and those of\n"
		       "every [shard].  A store that exists is left as it is, or\n"
		       "brought up to this calfs's schema.  Every command does the same\n"
		       "on first use; init is for doing it on purpose.", NULL))
		return 2;
	if (argc != 1) {
		fprintf(stderr, "calfs init: no arguments expected\n");
		return 2;
	}
	if (!(c = cmd_load_conf(g)) || !(s = cmd_open_store(c, "init", STORE_CREATE)))
		goto out;
	if (!store_stats_get(s, &st, &err)) {
		fprintf(stderr, "calfs: init: %s\n", err->message);
		g_error_free(err);
		goto out;
	}
	printf("%s: %" G_GINT64_FORMAT " mailboxes, %" G_GINT64_FORMAT " items, %"
	       G_GINT64_FORMAT " journal runs\n", store_describe(s), st.mailboxes,
	       st.items, st.runs);
	rc = 0;
out:
	store_close(s);
	conf_free(c);
	return rc;
}
