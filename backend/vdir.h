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
#include "itip.h"
#include "store.h"

#define VDIR_DEFAULT_CALENDAR "Calendar"

/* vdir_import: import each path into target: an .ics file with any number
 * of items, a vdir directory of them (with optional displayname and color
 * files), a Maildir, an mbox or a single message (.eml).  Every iCalendar
 * object is processed by its METHOD (itip.h): replies update the
 * organizer's items, cancellations mark them.  Items are stored as they
 * come, unrepaired, but as UTF-8 (item_to_utf8; said, and journaled).
 * Each refused file, message or item is reported on standard error with
 * its reason and skipped; with verbose, each file's counts too.  Returns
 * FALSE with err set only when the store fails or the target is not
 * valid; the counts go to *st.  Files are read and split on a thread of
 * the import's own, ahead of the calling thread, which alone uses s and
 * reports (in the order of the files). */
gboolean vdir_import(store *s, const conf *c, const char *target,
		     char **paths, gboolean verbose, itip_stats *st, GError **err);

/* vdir_import_tree: import a whole organisation: every DIR/MAILBOX/NAME
 * with vdir_import(), NAME as the calendar NAME when it is a directory
 * other than a Maildir, into the mailbox's default calendar otherwise
 * (files, Maildirs, mbox files).  A mailbox that cannot be read is
 * reported and skipped.  FALSE with err set only when dir cannot be read
 * or the store fails. */
gboolean vdir_import_tree(store *s, const conf *c, const char *dir, gboolean verbose,
			  itip_stats *st, GError **err);

/* vdir_export: write the rendered items of target to dir as a vdir: the
 * calendar's items into dir itself when target names a calendar, else one
 * subdirectory per calendar.  *count gets the number of items written. */
gboolean vdir_export(store *s, const conf *c, const char *target,
		     const char *dir, guint *count, GError **err);

/* vdir_export_imip: write an update (or, with cancel, a cancellation) of
 * the item target ("MAILBOX/CALENDAR/NAME.ics") to its attendees as a
 * message file in dir, made from the repaired item.  Returns the path
 * written (g_free), or NULL with err set. */
char *vdir_export_imip(store *s, const conf *c, const char *target,
		       const char *dir, gboolean cancel, GError **err);

/* vdir_split_target: split "mailbox[/calendar]" into newly allocated parts;
 * *calendar is NULL when there is none.  FALSE when malformed. */
gboolean vdir_split_target(const char *target, char **mailbox, char **calendar);

#endif
