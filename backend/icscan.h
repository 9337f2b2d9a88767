/* icscan.h - a content-line scan that vouches for plain items
 *
 * Checking an item means parsing it with libical and reading back the
 * errors libical inserted (X-LIC-ERROR) and the UIDs it found.  For an
 * import that parse is most of the work, and the item's bytes are kept
 * as they came: the parsed tree is thrown away.
 *
 * This scan reads the content lines once, without libical's tree, and
 * says yes only for the items it can speak for: the components, the
 * properties, the parameters and the values Exchange, Outlook and most
 * clients write, each in the plain form whose parse by libical 3.0 is
 * known to insert no error.  Anything else (a property or parameter it
 * does not know, an escape, a control character, a value it cannot
 * vouch for) is "not sure", and the caller parses with libical as
 * before.  A yes therefore means exactly what item_check's success with
 * no warnings means; tests/unit/test_item.c and the item fuzz target
 * check that on every file they have.
 */
#ifndef CALFS_ICSCAN_H
#define CALFS_ICSCAN_H

#include <glib.h>

typedef enum {
	ICSCAN_NOT_SURE,	/* the caller must check the text itself */
	ICSCAN_ITEM,		/* one item, parsed by libical without error */
	ICSCAN_SEVERAL		/* parsed by libical without error, but its
				 * components carry more than one UID: not
				 * one item */
} icscan_verdict;

/* icscan_item: what data (len bytes, need not be NUL-terminated) is, when
 * the scan is sure.  ICSCAN_ITEM: one VCALENDAR whose events, to-dos and
 * journals all carry the same single UID, which *uid (when not NULL)
 * then gets, newly allocated; item_check accepts it with no warning.
 * ICSCAN_SEVERAL: item_check refuses it for its UIDs alone.  The caller
 * has checked the text as item_check does before its parse (UTF-8, no
 * NUL, no lone CR, BEGIN and END lines that match).  Uses libical only
 * to read the values it leaves to libical's own parser (a recurrence
 * rule, a CLASS or STATUS word); any thread. */
icscan_verdict icscan_item(const char *data, gsize len, char **uid);

#endif
