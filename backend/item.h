/* item.h - one calendar item: validation, naming and splitting
 *
 * An item is one VCALENDAR whose event, to-do and journal components all
 * carry one and the same UID (a master and its overrides), with the
 * VTIMEZONEs they use.  This module knows nothing of the store.
 */
#ifndef CALFS_ITEM_H
#define CALFS_ITEM_H

#include <glib.h>
#include <libical/ical.h>

typedef enum {
	/* every libical parse error refuses the item (mount writes) */
	ITEM_CHECK_STRICT,
	/* libical's property errors are kept and reported through the
	 * warnings array; structure errors still refuse (imports, which
	 * mirror what the mail server holds) */
	ITEM_CHECK_LENIENT
} item_check_mode;

/* item_check: validate data (len bytes, need not be NUL-terminated) as one
 * item.  On success returns TRUE and, when uid is not NULL, sets *uid to a
 * newly allocated copy of the item's UID (free with g_free).  In lenient
 * mode the parse errors that were tolerated are appended to warnings (if
 * not NULL) as newly allocated strings.  On failure returns FALSE with a
 * CALFS_ERROR_INVALID error whose message is the one-line reason, e.g.
 * "two UIDs (a, b)". */
gboolean item_check(const char *data, gsize len, item_check_mode mode,
		    char **uid, GPtrArray *warnings, GError **err);

/* item_check_parsed: item_check, and on success *parsed gets the VCALENDAR
 * libical parsed (as item_parse gives it; the caller frees it), so that a
 * write is parsed once. */
gboolean item_check_parsed(const char *data, gsize len, item_check_mode mode,
			   char **uid, GPtrArray *warnings, icalcomponent **parsed,
			   GError **err);

/* item_parse: parse data into a VCALENDAR component, or NULL when libical
 * cannot.  Free the result with icalcomponent_free(). */
icalcomponent *item_parse(const char *data, gsize len);

/* item_name_for_uid: the file name of an imported item: "<UID>.ics" when
 * the UID is made of [A-Za-z0-9_.@+-], at most 200 bytes long and does not
 * start with a dot, otherwise "<sha1 of the UID>.ics".  Newly allocated. */
char *item_name_for_uid(const char *uid);

/* item_name_is_item: TRUE when a file called name holds an item (ends in
 * ".ics" and does not start with a dot); other names are scratch files. */
gboolean item_name_is_item(const char *name);

/* item_name_is_valid: TRUE when name may name an entry at all (not empty,
 * not "." or "..", no '/', at most 255 bytes). */
gboolean item_name_is_valid(const char *name);

typedef struct {
	char *uid;
	GBytes *data;
	gboolean checked;	/* data is the input, which item_check accepted
				 * (a part built from several is not) */
	gboolean made_uid;	/* the file gave it no UID: uid was made from
				 * its content (ictext_split) */
} item_part;

/* item_to_utf8: data as UTF-8 text, as a file may come: a UTF-8
 * byte-order mark is removed, UTF-16 with its mark and text that is not
 * UTF-8 (Windows-1252, of which ISO-8859-1 is a part: Outlook's and
 * Google's older exports) are converted.  Returns a new reference (to
 * data itself when nothing was done); *what (may be NULL) gets what was
 * done, newly allocated, or NULL. */
GBytes *item_to_utf8(GBytes *data, char **what);

/* item_part_free: release a part from item_split(). */
void item_part_free(item_part *p);

/* item_split: split an iCalendar file holding any number of VCALENDARs and
 * UIDs into items, one per UID, in order of first appearance.  Each item
 * keeps the calendar properties of the VCALENDAR it came from and the
 * VTIMEZONEs its components use.  A file that already is exactly one valid
 * item is returned unchanged, byte for byte.  Returns a GPtrArray of
 * item_part* (free with g_ptr_array_unref) or NULL with err set
 * (CALFS_ERROR_INVALID) when the file is not iCalendar or a component has
 * no UID.  Tolerated parse errors go to warnings as in item_check(). */
GPtrArray *item_split(const char *data, gsize len, GPtrArray *warnings,
		      GError **err);

#endif
