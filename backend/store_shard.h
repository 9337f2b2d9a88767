/* store_shard.h - one store made of several: mailboxes routed by name
 *
 * mount.conf's [shard NAME] groups send the mailboxes whose names match
 * their patterns to stores of their own (usually PostgreSQL servers);
 * every other mailbox lives in [store].  The sharded store answers every
 * operation of store.h by asking the shard that holds the mailbox, so
 * fs/, calfs fix, calfs tz and the reports work across all shards as on
 * one store.
 *
 * Ids: a shard's ids are shifted by its index (0 for [store]) into bits
 * 40-47, so ids stay unique across shards and say where they live.  Runs:
 * a command writes one journal run in each shard it changes; calfs
 * journal lists them all and calfs undo takes them one at a time.  An
 * item cannot be moved between two shards (CROSS, which the mount turns
 * into EXDEV, so mv copies and deletes instead).  The change log is the
 * shards' logs merged in the order this process reads them, numbered by
 * the sharded store itself (its sequence numbers are this process's own).
 */
#ifndef CALFS_STORE_SHARD_H
#define CALFS_STORE_SHARD_H

#include "conf.h"
#include "store.h"

/* store_open_conf: the store c configures: [store] alone, or [store] with
 * its [shard] groups, opened or made as mode says (store_open()).  origin
 * names this process in the change logs.  NULL with err set when any of
 * them cannot be opened. */
store *store_open_conf(const conf *c, const char *origin, store_open_mode mode,
		       GError **err);

#endif
