/* ino.h - inode numbers of the mount
 *
 * Inode numbers are derived from store ids, so they are stable across
 * remounts and need no table: kind (8 bits) | sub-kind (8 bits) | id (48
 * bits).  Store ids are never reused (AUTOINCREMENT), so neither are inode
 * numbers.  In-memory files (scratch files) use kind INO_NODE.
 */
#ifndef CALFS_INO_H
#define CALFS_INO_H

#include <fuse_lowlevel.h>
#include <glib.h>
#include <string.h>

typedef enum {
	INO_ROOT = 0,		/* only FUSE_ROOT_ID */
	INO_MAILBOX = 1,	/* id: mailbox */
	INO_CALENDAR = 2,	/* id: calendar */
	INO_ITEM = 3,		/* id: item */
	INO_META = 4,		/* id: calendar; sub: META_* */
	INO_CTL = 5,		/* id: mailbox or 0; sub: CTL_* */
	INO_RAW = 6,		/* id by sub: RAW_* */
	INO_NODE = 7,		/* id: in-memory node sequence */
	INO_TRASH = 8		/* sub: TRASH_* (trash.h) */
} ino_kind;

enum { META_DISPLAYNAME = 1, META_COLOR = 2 };

/* meta_of_name: META_* for a calendar's "displayname" or "color" (the
 * vdir metadata files), else 0. */
static inline unsigned meta_of_name(const char *name)
{
	if (!strcmp(name, "displayname"))
		return META_DISPLAYNAME;
	if (!strcmp(name, "color"))
		return META_COLOR;
	return 0;
}

/* meta_name: the file name of META_* sub. */
static inline const char *meta_name(unsigned sub)
{
	return sub == META_COLOR ? "color" : "displayname";
}

enum {
	CTL_DIR = 1,		/* MOUNT/.calfs (id 0) or MAILBOX/.calfs */
	CTL_STATUS = 2,
	CTL_ERRORS = 3,
	CTL_REPORT = 4,		/* MAILBOX/.calfs/report */
	CTL_TIMEZONE = 5,	/* MAILBOX/.calfs/timezone, writable */
	CTL_TIMEZONES = 6,	/* .calfs/timezones.tsv */
	CTL_CONFLICTS = 7,	/* .calfs/conflicts.txt */
	CTL_NONEXISTENT = 8,	/* .calfs/nonexistent.txt */
	CTL_EVENTS = 9,		/* .calfs/events: the change log, growing */
	CTL_LOG = 10		/* MAILBOX/.calfs/log: its journal */
};

enum {
	RAW_ROOT = 1,		/* MOUNT/.raw */
	RAW_MAILBOX = 2,
	RAW_CALENDAR = 3,
	RAW_ITEM = 4
};

#define INO_ID_BITS 48
#define INO_ID_MASK ((G_GUINT64_CONSTANT(1) << INO_ID_BITS) - 1)

static inline fuse_ino_t ino_make(ino_kind kind, unsigned sub, gint64 id)
{
	if (kind == INO_ROOT)
		return FUSE_ROOT_ID;
	return ((fuse_ino_t)kind << 56) | ((fuse_ino_t)(sub & 0xff) << 48) |
	       ((fuse_ino_t)id & INO_ID_MASK);
}

static inline ino_kind ino_kind_of(fuse_ino_t ino)
{
	return ino == FUSE_ROOT_ID ? INO_ROOT : (ino_kind)(ino >> 56);
}

static inline unsigned ino_sub(fuse_ino_t ino)
{
	return (ino >> 48) & 0xff;
}

static inline gint64 ino_id(fuse_ino_t ino)
{
	return (gint64)(ino & INO_ID_MASK);
}

#endif
