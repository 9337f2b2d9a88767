/* render.h - what a reader of an item sees: render(item) = mend -> parse
 * -> repair -> rebase -> serialize
 *
 * When neither step changes anything the stored bytes are returned as they
 * are, byte for byte; only items that needed a change are serialized again.
 */
#ifndef CALFS_RENDER_H
#define CALFS_RENDER_H

#include <glib.h>
#include "conf.h"
#include "repair.h"
#include "tz.h"

typedef struct {
	gboolean repair;	/* apply track-status repair */
	gboolean rebase;	/* apply DST rebasing */
	tz_options tz;
	const repair_context *ctx;	/* lookups for rule T4, or NULL */
} render_options;

/* render_options_read: the options for reading items of mailbox under c
 * (repair_on_read, rebase, and the rebasing options).  mailbox may be
 * NULL; the mailbox's zone is the configured one, else stored_zone (the
 * one set through the mount), which may be NULL. */
render_options render_options_read(const conf *c, const char *mailbox,
				   const char *stored_zone);

/* render_options_write: the options applied before storing a write
 * (repair_on_write, rebase). */
render_options render_options_write(const conf *c, const char *mailbox,
				    const char *stored_zone);

/* What rendering changed. */
typedef struct {
	GPtrArray *mends;	/* char*: the damage mended (mend.h) */
	GPtrArray *notes;	/* char*: what is worth saying but was not
				 * changed here (a UID made at import) */
	GPtrArray *repairs;	/* repair_fix* */
	GPtrArray *rebases;	/* tz_fix* (conflicts included) */
	gboolean zone_consulted;	/* the mailbox's zone made a difference */
} render_log;

/* render_key: what an item's rendering depends on besides its bytes: the
 * options, calfs's rules and the system's tzdata, and zone (the mailbox's
 * zone; NULL for items whose rendering did not consult it).  Rendering
 * under the same key gives the same result.  Newly allocated.  Safe
 * from any thread: the last few keys made are kept, under a lock of
 * render.c's own, and handed out as copies. */
char *render_key(const render_options *o, const char *zone);

/* render_log_init: empty arrays that free their elements. */
void render_log_init(render_log *l);
void render_log_clear(render_log *l);

/* render_item: render stored under o.  Returns a new reference: to stored
 * itself when nothing changed, else to bytes that differ from it only in
 * the lines changed.  What was changed goes to log (may be NULL).  Bytes
 * that do not parse are returned as they are. */
GBytes *render_item(GBytes *stored, const render_options *o, render_log *log);

/* render_item_parsed: render_item with stored already parsed by libical
 * (parsed: from item_check_parsed, taken and freed here; NULL to parse
 * when needed), so that a write is parsed once. */
GBytes *render_item_parsed(GBytes *stored, icalcomponent *parsed, const render_options *o,
			   render_log *log);

/* render_item_selected: render_item with the lines of stored that
 * tz_parse parses already parsed (selected: taken and freed here; from
 * tzscan_mailbox_zone), used when no repair applies, with the times the
 * scan gathered from it (known: may be NULL; taken and freed here). */
GBytes *render_item_selected(GBytes *stored, icalcomponent *selected, tz_known *known,
			     const render_options *o, render_log *log);

/* render_unapplied: whether log holds a change rendering did not make (a
 * rebase conflict, or one only reported): such an item is rendered every
 * time, so that reports go on counting it. */
gboolean render_unapplied(const render_log *l);

/* render_clean_key: the render key under which the output of a rendering
 * with o that wrote l renders unchanged (store_item_set_checked), or NULL
 * when there is none: a change left unapplied, or a zone consulted that
 * o does not name.  Newly allocated. */
char *render_clean_key(const render_options *o, const render_log *l);

/* render_notes: what is worth saying of stored bytes that renders
 * unchanged (a UID calfs made), one per line, or NULL.  Newly
 * allocated. */
char *render_notes(GBytes *stored);

/* render_describe: the log as lines a person reads, joined with '\n' (for
 * user.calfs.fixes).  Newly allocated; "" when empty. */
char *render_describe(const render_log *l);

/* render_describe_changes: the same for the changes made only (no
 * conflict or report-only note), for the journal; NULL when none. */
char *render_describe_changes(const render_log *l);

#endif
