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
#include "tz.h"

typedef struct {
	gboolean repair;	/* apply track-status repair */
	gboolean rebase;	/* apply DST rebasing */
	tz_options tz;
} render_options;

/* render_options_read: the options for reading items of mailbox under c
 * (repair_on_read, rebase); mailbox may be NULL. */
render_options render_options_read(const conf *c, const char *mailbox);

/* render_options_write: the options applied before storing a write
 * (repair_on_write, rebase). */
render_options render_options_write(const conf *c, const char *mailbox);

/* render_item: render stored under o.  Returns a new reference: to stored
 * itself when nothing changed, else to newly serialized bytes.  The changes
 * made are appended to fixes (newly allocated strings; may be NULL).  Bytes
 * that do not parse are returned as they are. */
GBytes *render_item(GBytes *stored, const render_options *o, GPtrArray *fixes);

#endif
