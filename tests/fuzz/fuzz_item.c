/* fuzz_item.c - the item pipeline: validate -> repair -> rebase ->
 * serialize, as a write through the mount and a read run it.
 *
 * Invariants: what is accepted renders to an item that is valid again,
 * with the same UID (or, mended by rule L1, that UID without a space);
 * rendering what was rendered changes nothing more; a split part
 * (lines of the input, not checked by the split) that is a valid item
 * has the UID the split gave it; what icscan vouches for, libical's
 * parse accepts with no warning and the same UID; what the quick looks
 * before a parse rule out (repair_may_apply) the rules find nothing to
 * do, and rebasing decides the same on tz_parse's lines as
 * on a parse of all of them. */
#include "fuzz.h"
#include "conf.h"
#include "icscan.h"
#include "ictext.h"
#include "item.h"
#include "mend.h"
#include "render.h"
#include "repair.h"
#include "tz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static conf *cfg;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	tz_init();
	cfg = conf_new_default();
	return 0;
}

static GBytes *render(GBytes *in, const render_options *o)
{
	render_log log;
	GBytes *out;

	render_log_init(&log);
	out = render_item(in, o, &log);
	g_free(render_describe(&log));
	render_log_clear(&log);
	return out;
}

static void check_split(const uint8_t *data, size_t size)
{
	GPtrArray *parts = item_split((const char *)data, size, NULL, NULL);

	for (guint i = 0; parts && i < parts->len; i++) {
		item_part *p = parts->pdata[i];
		gsize len;
		const char *d = g_bytes_get_data(p->data, &len);
		char *uid = NULL;

		FUZZ_REQUIRE(len > 0 && p->uid, "a split part is empty");
		if (item_check(d, len, ITEM_CHECK_LENIENT, &uid, NULL, NULL) &&
		    getenv("CALFS_FUZZ_DEBUG"))
			fprintf(stderr, "--- part %u: split UID '%s', checked UID '%s'\n%.*s",
				i, p->uid, uid, (int)len, d);
		if (uid)
			FUZZ_REQUIRE(g_strcmp0(uid, p->uid) == 0, "a split part lost its UID");
		g_free(uid);
	}
	if (parts)
		g_ptr_array_unref(parts);
}

/* The one-pass scan for a VCALENDAR's property finds the line the parse
 * of the lines finds. */
static void check_scan_top(const uint8_t *data, size_t size)
{
	GBytes *b = g_bytes_new_static(data, size);
	ictext *t = ictext_parse(b);
	ictext_line *m = ictext_find(t, -1, "METHOD", NULL, 0);
	char *v = ictext_scan_top((const char *)data, size, "METHOD");

	FUZZ_REQUIRE(m ? v && !strcmp(v, ictext_line_value(m)) : !v,
		     "the scan of the lines found another METHOD than their parse");
	g_free(v);
	ictext_free(t);
	g_bytes_unref(b);
}

/* L10's first look at the physical lines reads no further only when
 * reading the logical lines adds nothing either. */
static void check_structure(const uint8_t *data, size_t size)
{
	GBytes *b = g_bytes_new_static(data, size);
	char *what, *what2;
	GBytes *quick = mend_structure(b, &what), *all = mend_structure_read_all(b, &what2);

	FUZZ_REQUIRE(g_bytes_equal(quick, all) && !g_strcmp0(what, what2),
		     "L10 differs when it reads the logical lines");
	g_bytes_unref(quick);
	g_bytes_unref(all);
	g_free(what);
	g_free(what2);
	g_bytes_unref(b);
}

static void check_scan(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	char *uid = NULL, *uid2 = NULL;
	GPtrArray *w;
	icalcomponent *cal = NULL;
	gboolean ok;
	/* UTF-8 is item_check's to check before the scan */
	icscan_verdict v = g_utf8_validate(text, size, NULL) ? icscan_item(text, size, &uid)
							      : ICSCAN_NOT_SURE;

	if (v == ICSCAN_NOT_SURE)
		return;
	w = g_ptr_array_new_with_free_func(g_free);
	/* asking for the tree makes item_check parse with libical */
	ok = item_check_parsed(text, size, ITEM_CHECK_LENIENT, &uid2, w, &cal, NULL);
	if (v == ICSCAN_ITEM)
		FUZZ_REQUIRE(ok && !w->len && !g_strcmp0(uid, uid2),
			     "the scan vouched for an item libical's parse refuses or warns of");
	else
		FUZZ_REQUIRE(!ok, "the scan saw several UIDs where libical's parse sees one");
	if (cal)
		icalcomponent_free(cal);
	g_ptr_array_unref(w);
	g_free(uid);
	g_free(uid2);
}

static char *notes(GPtrArray *fixes)
{
	GString *s = g_string_new(NULL);

	for (guint i = 0; i < fixes->len; i++) {
		tz_fix *f = fixes->pdata[i];

		g_string_append_printf(s, "%d %d %s %s\n", f->kind, f->applied, f->note,
				       f->vtimezone ? f->vtimezone : "-");
	}
	return g_string_free(s, FALSE);
}

static char *repairs(GPtrArray *fixes)
{
	GString *s = g_string_new(NULL);

	for (guint i = 0; i < fixes->len; i++) {
		repair_fix *f = fixes->pdata[i];
		char *x = repair_describe(f);

		g_string_append_printf(s, "%d %d %s\n", f->comp, f->ordinal, x);
		g_free(x);
	}
	return g_string_free(s, FALSE);
}

/* The reads render skips or narrows, on the bytes it reads (mended). */
static void check_narrowed(GBytes *in)
{
	GBytes *m = mend_text(in, NULL);
	gsize len;
	const char *d = g_bytes_get_data(m, &len);
	icalcomponent *all = item_parse(d, len), *some;
	tz_options o = { .mailbox_zone = "America/New_York" };
	GPtrArray *a, *b;
	char *na, *nb;

	some = tz_parse(d, len);
	if (all && !repair_may_apply(d, len)) {
		GPtrArray *fixes = repair_component(all, NULL);

		FUZZ_REQUIRE(!fixes->len, "a repair applied where none may");
		g_ptr_array_unref(fixes);
	}
	if (all) {
		GString *rl = ictext_select(d, len, FALSE, repair_reads);
		icalcomponent *rc = item_parse(rl->str, rl->len);
		GPtrArray *fa = repair_component(all, NULL), *fb = rc ? repair_component(rc, NULL) : NULL;
		char *da = repairs(fa), *db = fb ? repairs(fb) : g_strdup("");

		if (getenv("CALFS_FUZZ_DEBUG"))
			fprintf(stderr, "--- repairs of all\n%s--- of the selected lines\n%s", da, db);
		FUZZ_REQUIRE(!strcmp(da, db), "repairing repair_reads's lines differs");
		g_free(da);
		g_free(db);
		g_ptr_array_unref(fa);
		if (fb)
			g_ptr_array_unref(fb);
		if (rc)
			icalcomponent_free(rc);
		g_string_free(rl, TRUE);
	}
	if (all && some) {
		a = tz_rebase(all, &o);
		b = tz_rebase(some, &o);
		na = notes(a);
		nb = notes(b);
		if (getenv("CALFS_FUZZ_DEBUG"))
			fprintf(stderr, "--- rebase of all\n%s--- of the selected lines\n%s", na, nb);
		FUZZ_REQUIRE(!strcmp(na, nb), "rebasing tz_parse's lines differs");
		g_free(nb);
		g_ptr_array_unref(b);
		/* as calfs fix does: a zone scan's parse, identified without
		 * a mailbox zone, then rebased with what it kept */
		{
			tz_known *k = tz_known_new();
			icalcomponent *kc = tz_parse_known(d, len, k);
			tz_options ko = o;

			if (kc) {
				g_ptr_array_unref(tz_identify(kc, NULL, k));
				ko.known = k;
				b = tz_rebase(kc, &ko);
				nb = notes(b);
				FUZZ_REQUIRE(!strcmp(na, nb), "rebasing with a scan's tz_known differs");
				g_free(nb);
				g_ptr_array_unref(b);
				icalcomponent_free(kc);
			}
			tz_known_free(k);
		}
		g_free(na);
		g_ptr_array_unref(a);
	}
	if (all)
		icalcomponent_free(all);
	if (some)
		icalcomponent_free(some);
	g_bytes_unref(m);
}

/* Whether b is a with some spaces taken out: the one change a write
 * makes to a UID (rule L1: the space a fold of two spaces left). */
static gboolean spaces_taken_out(const char *a, const char *b)
{
	if (!a || !b || strlen(b) >= strlen(a))
		return FALSE;
	for (; *a; a++) {
		if (*a == *b)
			b++;
		else if (*a != ' ')
			return FALSE;
	}
	return *b == '\0';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	render_options wr = render_options_write(cfg, "alice@example.com", "America/New_York");
	render_options rd = render_options_read(cfg, "alice@example.com", "America/New_York");
	GBytes *in, *stored, *shown, *again;
	char *uid = NULL, *uid2 = NULL;
	gsize len;
	const char *d;

	check_scan(data, size);
	check_scan_top(data, size);
	check_structure(data, size);
	if (!item_check((const char *)data, size, ITEM_CHECK_STRICT, &uid, NULL, NULL)) {
		check_split(data, size);
		return 0;
	}
	in = g_bytes_new(data, size);
	check_narrowed(in);
	stored = render(in, &wr);
	d = g_bytes_get_data(stored, &len);
	if (getenv("CALFS_FUZZ_DEBUG"))
		fprintf(stderr, "--- stored\n%.*s", (int)len, d);
	FUZZ_REQUIRE(item_check(d, len, ITEM_CHECK_LENIENT, &uid2, NULL, NULL),
		     "an accepted write was stored invalid");
	if (getenv("CALFS_FUZZ_DEBUG"))
		fprintf(stderr, "--- UID written '%s', stored '%s'\n", uid, uid2);
	FUZZ_REQUIRE(g_strcmp0(uid, uid2) == 0 || spaces_taken_out(uid, uid2),
		     "the write changed the UID");
	shown = render(stored, &rd);
	d = g_bytes_get_data(shown, &len);
	FUZZ_REQUIRE(item_check(d, len, ITEM_CHECK_LENIENT, NULL, NULL, NULL),
		     "a stored item was served invalid");
	again = render(shown, &rd);
	if (getenv("CALFS_FUZZ_DEBUG"))
		fprintf(stderr, "--- read\n%.*s--- read again\n%.*s",
			(int)g_bytes_get_size(shown), (const char *)g_bytes_get_data(shown, NULL),
			(int)g_bytes_get_size(again), (const char *)g_bytes_get_data(again, NULL));
	FUZZ_REQUIRE(g_bytes_equal(again, shown), "reading what was read changed it again");
	g_bytes_unref(again);
	g_bytes_unref(shown);
	g_bytes_unref(stored);
	g_bytes_unref(in);
	g_free(uid);
	g_free(uid2);
	return 0;
}
