/* mail.h - reading mail: Maildir and mbox, and the calendar parts of a
 * message (GMime)
 */
#ifndef CALFS_MAIL_H
#define CALFS_MAIL_H

#include <glib.h>
#include <gmime/gmime.h>

/* Called for each message read.  where names it ("DIR/cur/123:2,S" or
 * "FILE:offset").  message is NULL when it could not be read; why then
 * says why.  Return FALSE to stop. */
typedef gboolean (*mail_fn)(GMimeMessage *message, const char *where,
			    const char *why, gpointer data);

/* mail_is_maildir: whether path is a directory with cur/ or new/. */
gboolean mail_is_maildir(const char *path);

/* mail_is_mbox: whether path is a file that starts with "From ". */
gboolean mail_is_mbox(const char *path);

/* mail_is_message: whether path is a file that looks like one message
 * (an .eml file: it starts with a header line). */
gboolean mail_is_message(const char *path);

/* mail_foreach: call fn for each message of the Maildir (cur/ and new/,
 * in name order), the mbox or the single message file at path.  FALSE with
 * err set when path cannot be read at all, or when fn stopped. */
gboolean mail_foreach(const char *path, mail_fn fn, gpointer data, GError **err);

/* mail_calendar_parts: the text/calendar (and application/ics) parts of
 * message, at any depth of multiparts and attached messages, with their
 * transfer encoding undone and converted to UTF-8 from their charset.
 * A GPtrArray of GBytes* (free with g_ptr_array_unref). */
GPtrArray *mail_calendar_parts(GMimeMessage *message);

/* mail_sender: the address of the message's first From mailbox, or NULL.
 * Newly allocated. */
char *mail_sender(GMimeMessage *message);

#endif
