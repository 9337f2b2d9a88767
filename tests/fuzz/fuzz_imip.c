/* fuzz_imip.c - the import of one message: GMime parses it, its calendar
 * parts are processed by METHOD against a real SQLite store.
 *
 * Invariants: every item the store holds afterwards is a valid item. */
#include "fuzz.h"
#include "conf.h"
#include "itip.h"
#include "item.h"
#include "mail.h"
#include "store.h"
#include "tz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static store *st;
static store_calendar *cal;
static char *dir;

static void cleanup(void)
{
	char *cmd = g_strdup_printf("rm -rf '%s'", dir);

	if (system(cmd) != 0)
		fprintf(stderr, "fuzz: could not remove %s\n", dir);
	g_free(cmd);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	store_mailbox *mb;
	char *path;

	(void)argc;
	(void)argv;
	tz_init();
	g_mime_init();
	dir = g_dir_make_tmp("calfs-fuzz-XXXXXX", NULL);
	path = g_build_filename(dir, "fuzz.db", NULL);
	st = store_open(path, "fuzz", STORE_CREATE, NULL);
	if (!st)
		abort();
	mb = store_mailbox_create(st, "alice@example.com", NULL);
	cal = store_calendar_create(st, mb->id, "Calendar", NULL);
	if (!cal)
		abort();
	store_mailbox_free(mb);
	g_free(path);
	atexit(cleanup);
	return 0;
}

static void check_store(void)
{
	GPtrArray *items = store_item_list(st, cal->id, NULL);

	FUZZ_REQUIRE(items != NULL, "the store cannot list the calendar");
	for (guint i = 0; i < items->len; i++) {
		store_item *it = store_item_get(st, ((store_item *)items->pdata[i])->id, TRUE, NULL);
		gsize len;
		const char *d;

		FUZZ_REQUIRE(it && it->data, "a listed item cannot be read");
		d = g_bytes_get_data(it->data, &len);
		FUZZ_REQUIRE(item_check(d, len, ITEM_CHECK_LENIENT, NULL, NULL, NULL),
			     "an import stored an invalid item");
		store_item_free(it);
	}
	g_ptr_array_unref(items);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	GMimeStream *stream = g_mime_stream_mem_new_with_buffer((const char *)data, size);
	GMimeParser *parser = g_mime_parser_new_with_stream(stream);
	GMimeMessage *msg = g_mime_parser_construct_message(parser, NULL);
	itip_stats stats = { 0 };
	itip sc;

	if (msg) {
		GPtrArray *parts = mail_calendar_parts(msg);
		char *sender = mail_sender(msg);

		itip_init(&sc, st, "alice@example.com", cal, &stats);
		for (guint i = 0; i < parts->len; i++)
			if (!itip_process(&sc, parts->pdata[i], sender, "fuzz", NULL))
				break;
		g_free(sender);
		g_ptr_array_unref(parts);
		g_object_unref(msg);
		check_store();
	}
	g_object_unref(parser);
	g_object_unref(stream);
	return 0;
}
