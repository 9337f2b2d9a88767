/* write.h - the write policy of the mount: what a closed, renamed or
 * linked .ics file becomes
 *
 * A write is validated and rendered under the write policy
 * (repair_on_write, rebase, the mailbox's zone) by write_prepare, which
 * takes no lock: the bytes are parsed once, and that parse is the
 * rendering's.  write_store stores the result with fs->ns_lock held (the
 * namespace change), and write_finish does what is left without locks
 * (an iMIP update of a rebased meeting).  What a write stored renders
 * unchanged and is marked so (store_put.checked): reading it back serves
 * the stored bytes without parsing them.  Refused content is logged, kept
 * in .calfs/errors and reported as CALFS_ERROR_INVALID whose message is
 * the line logged ("MAILBOX/CALENDAR/NAME: refused: REASON").
 */
#ifndef CALFS_WRITE_H
#define CALFS_WRITE_H

#include "fs.h"

typedef struct write_job write_job;

/* write_prepare: validate and render data as the item name of
 * calendar_id.  A job for write_store, or NULL with err set. */
write_job *write_prepare(fs_ctx *fs, gint64 calendar_id, const char *name, GBytes *data,
			 GError **err);

/* write_store: store job as name in calendar_id (a rename may have moved
 * the file since it was prepared: a job prepared for another calendar is
 * prepared again), as the reserved item reserved_id when it is new.
 * Called with fs->ns_lock held.  The item id, or 0 with err set. */
gint64 write_store(fs_ctx *fs, write_job *job, gint64 calendar_id, const char *name,
		   gint64 reserved_id, GError **err);

/* write_finish: queue what a stored write leaves to do, outside the
 * locks, and free job (NULL is nothing). */
void write_finish(write_job *job);

/* write_item: prepare, store and finish at once, for the callers that
 * hold fs->ns_lock through the whole change (rename, link). */
gint64 write_item(fs_ctx *fs, gint64 calendar_id, const char *name, gint64 reserved_id,
		  GBytes *data, GError **err);

#endif
