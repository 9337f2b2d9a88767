/* render.h - what a reader of an item sees: render(item) = parse -> repair
 * -> rebase -> serialize
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
 * (repair_on_read, rebase); mailbox may be NULL. */
render_options render_options_read(const conf *c, const char *mailbox);

/* render_options_write: the options applied before storing a write
 * (repair_on_write, rebase). */
render_options render_options_write(const conf *c, const char *mailbox);

/* render_item: render stored under o.  Returns a new reference: to stored
 * itself when nothing changed, else to bytes that differ from it only in
 * the lines changed.  The repairs made are appended to repairs (may be
 * NULL; repair_fix* records, so the array must free them with
 * repair_fix_free).  Bytes that do not parse are returned as they are. */
GBytes *render_item(GBytes *stored, const render_options *o, GPtrArray *repairs);

/* render_describe: the repairs as lines a person reads, joined with '\n'
 * (for user.calfs.fixes).  Newly allocated; "" when there are none. */
char *render_describe(GPtrArray *repairs);

#endif
