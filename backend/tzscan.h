/* tzscan.h - time-zone extraction (DESIGN.md "Time-zone extraction")
 *
 * For each mailbox: the configured zone (mount.conf, else the one set in
 * MOUNT/<mailbox>/.calfs/timezone), the zones its recurring items use, the
 * zones its single items use, the zone resolved from these, and a status:
 * ok (configured, or the items agree), conflict (the items point to zones
 * that differ), none (no zone anywhere).
 */
#ifndef CALFS_TZSCAN_H
#define CALFS_TZSCAN_H

#include <glib.h>
#include <libical/ical.h>
#include "conf.h"
#include "store.h"
#include "tz.h"

typedef struct {
	char *mailbox;
	char *configured;	/* or NULL */
	GHashTable *recurring;	/* zone -> count (GINT_TO_POINTER) */
	GHashTable *single;
	char *resolved;		/* or NULL */
	const char *status;	/* "ok", "conflict" or "none" */
	GPtrArray *conflicts;	/* char*: "MAILBOX/CAL/ITEM.ics<TAB>why" or "MAILBOX<TAB>why" */
} tzscan_mailbox;

void tzscan_mailbox_free(tzscan_mailbox *m);

/* tzscan_mailbox: scan the items of mailbox mb.  NULL with err set when
 * the store fails. */
tzscan_mailbox *tzscan_mailbox_scan(store *s, const conf *c, const store_mailbox *mb,
				    GError **err);

/* An item's parse, made by a scan and handed over. */
typedef struct {
	gint64 version;		/* the item's, parsed */
	icalcomponent *cal;	/* its bytes, as tz_parse parses them */
	tz_known *known;	/* the times the scan gathered from cal */
	store_item *item;	/* the item as the scan read it, with its bytes */
} tzscan_parse;

void tzscan_parse_free(tzscan_parse *p);

/* tzscan_parses_new: a table for tzscan_mailbox_zone to hand its parses
 * over in: item id -> tzscan_parse*, which the table owns. */
GHashTable *tzscan_parses_new(void);

/* A scan hands over at most this many parses. */
#define TZSCAN_PARSES_MAX 1024

/* tzscan_mailbox_zone: the zone mb's UTC items are read in: the
 * configured one, else the one its items resolve to.  Returns the status
 * ("ok", "conflict", "none"; static), *zone (newly allocated) the zone when
 * "ok", else NULL; NULL with err set when the store fails.  The result of
 * the scan is kept in the store, under the mailbox's stamp and the tzdata
 * version, so that a mailbox is scanned again only after it changed.
 * parses (may be NULL; from tzscan_parses_new) gets the parses of the
 * items it scanned now, up to TZSCAN_PARSES_MAX of them, so that a caller
 * that rebases them need not parse them again.  The scan reads the items
 * committed (store_item_scan): the caller must have no change of mb in
 * an open batch, or the result would be kept under a stamp that counts a
 * change it did not see (calfs fix scans a mailbox before its first
 * change to it). */
const char *tzscan_mailbox_zone(store *s, const conf *c, const store_mailbox *mb,
				char **zone, GHashTable *parses, GError **err);

/* tzscan_all: every mailbox, by name (tzscan_mailbox*). */
GPtrArray *tzscan_all(store *s, const conf *c, GError **err);

/* tzscan_format_tsv: "mailbox configured recurring single resolved
 * status" lines with a header; tzscan_format_conflicts: the conflicts, one
 * per line; tzscan_format_nonexistent: the mailboxes without a zone.
 * Newly allocated. */
char *tzscan_format_tsv(GPtrArray *scans);
char *tzscan_format_conflicts(GPtrArray *scans);
char *tzscan_format_nonexistent(GPtrArray *scans);

/* tzscan_zone_valid: whether name is a tzdata zone (for writes to
 * .calfs/timezone). */
gboolean tzscan_zone_valid(const char *name);

#endif
