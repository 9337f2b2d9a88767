/* ctl.h - the control files: MNT/.calfs/ (status, errors, events,
 * timezones.tsv, conflicts.txt, nonexistent.txt) and MAILBOX/.calfs/
 * (report, errors, log, timezone), and the refused writes they list.
 * Its state (fs->ctl) has a lock of its own, a leaf.
 */
#ifndef CALFS_CTL_H
#define CALFS_CTL_H

#include "fs.h"

/* ctl_init, ctl_clear: fs->ctl. */
void ctl_init(fs_ctx *fs);
void ctl_clear(fs_ctx *fs);
/* ctl_events_from: .calfs/events starts after change seq (the mount
 * shows the last changes before it, then all). */
void ctl_events_from(fs_ctx *fs, gint64 seq);
/* ctl_refused: record a refused write of mailbox_id (0: unknown). */
void ctl_refused(fs_ctx *fs, gint64 mailbox_id, const char *line);
/* ctl_content: the current content of control file ino (a new
 * reference), or NULL with err set. */
GBytes *ctl_content(fs_ctx *fs, fuse_ino_t ino, GError **err);

#endif
