/* vdir.h - importing .ics files and vdir directories, exporting vdirs
 *
 * A target names a mailbox and optionally a calendar: "alice@example.com"
 * (calendar "Calendar") or "alice@example.com/Work".  Imports create the
 * mailbox and calendar when missing.
 */
#ifndef CALFS_VDIR_H
#define CALFS_VDIR_H

#include <glib.h>
#include "conf.h"
#include "store.h"

#define VDIR_DEFAULT_CALENDAR "Calendar"

typedef struct {
	guint files;		/* files read */
	guint skipped;		/* files or items refused, each reported */
	guint created, updated, unchanged;
	guint warnings;		/* items kept despite tolerated parse errors */
} vdir_stats;

/* vdir_import: import each path (an .ics file with any number of items, or
 * a vdir directory of them with optional displayname and color files) into
 * target.  Each refused file or item is reported on standard error with
 * its reason and skipped.  Returns FALSE with err set only when the store
 * fails or the target is not valid; the counts go to *st. */
gboolean vdir_import(store *s, const conf *c, const char *target,
		     char **paths, vdir_stats *st, GError **err);

/* vdir_export: write the rendered items of target to dir as a vdir: the
 * calendar's items into dir itself when target names a calendar, else one
 * subdirectory per calendar.  *count gets the number of items written. */
gboolean vdir_export(store *s, const conf *c, const char *target,
		     const char *dir, guint *count, GError **err);

/* vdir_split_target: split "mailbox[/calendar]" into newly allocated parts;
 * *calendar is NULL when there is none.  FALSE when malformed. */
gboolean vdir_split_target(const char *target, char **mailbox, char **calendar);

#endif
