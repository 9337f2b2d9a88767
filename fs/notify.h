/* notify.h - the notifier: a thread that follows the store's change log
 * (other processes' and hosts' changes, and our own) and tzdata, and
 * invalidates what the kernel caches.  Requests never notify the kernel
 * themselves: they post here.
 */
#ifndef CALFS_NOTIFY_H
#define CALFS_NOTIFY_H

#include "fs.h"

/* notify_start: follow the store's change log from its current end from
 * a thread of its own.  Call after daemonizing.  NULL with err set. */
notifier *notify_start(fs_ctx *fs, GError **err);
/* notify_kick: process the change log now (after a change of our own). */
void notify_kick(notifier *n);
/* notify_inval_entry: drop the kernel's entry parent/name, asynchronously
 * (never from inside a request). */
void notify_inval_entry(notifier *n, fuse_ino_t parent, const char *name);
/* notify_inval_attr: drop the kernel's attributes of ino, asynchronously;
 * then view_invalidated. */
void notify_inval_attr(notifier *n, fuse_ino_t ino);
/* notify_mailbox_items: drop what the kernel keeps of every item of the
 * mailbox (attributes, pages), asynchronously: their rendering or mode
 * changed with the mailbox (its zone, owner or mode) and not themselves. */
void notify_mailbox_items(notifier *n, gint64 mailbox_id);
/* notify_stop: end the thread and free n. */
void notify_stop(notifier *n);

#endif
