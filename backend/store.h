/* store.h - the store behind the mount: mailboxes, calendars, items, the
 * journal and the change log
 *
 * A store is a struct of functions (store_ops) so that another database can
 * be added without touching fs/.  The SQLite implementation is
 * store_sqlite.h, the PostgreSQL one store_pg.h, and store_shard.h spreads
 * mailboxes over several stores.  Every function may be called from
 * several threads.
 *
 * Records returned by the store are newly allocated; free them with the
 * matching *_free function.  Functions that fail return NULL or FALSE and
 * set err in the CALFS_ERROR domain: NOTFOUND, EXISTS (a name or UID is
 * taken), NOTEMPTY, NAME, BUSY (locked past the busy timeout), CROSS (a
 * move between two stores of a sharded mount) or IO.
 *
 * Every change to an item is journaled with the bytes it replaced, under the
 * store's current run (store_run_begin), and appended to the change log
 * that mounts follow (store_changes_since).
 */
#ifndef CALFS_STORE_H
#define CALFS_STORE_H

#include <glib.h>

typedef struct store store;

typedef struct {
	gint64 id;
	char *name;
	gint64 mtime_ns;	/* bumped when a calendar is added or removed */
	gboolean has_owner;	/* uid/gid were set (chown) */
	guint32 uid, gid;
	guint32 mode;		/* permission bits, 0 for the default */
	char *timezone;		/* stored zone, or NULL */
} store_mailbox;

typedef struct {
	gint64 id;
	gint64 mailbox_id;
	char *name;
	char *displayname;	/* NULL when unset */
	char *color;		/* NULL when unset */
	gint64 mtime_ns;	/* bumped whenever an item in it changes */
} store_calendar;

typedef struct {
	gint64 id;
	gint64 calendar_id;
	char *name;
	char *uid;
	GBytes *data;		/* the stored bytes; NULL in listings */
	gsize size;		/* length of the stored bytes */
	gint64 version;		/* 1 when created, +1 on every change */
	gint64 mtime_ns;
	char *checked;		/* render key under which the bytes render
				 * unchanged (store_items_set_checked), or NULL */
} store_item;

typedef enum {
	STORE_CHANGE_ITEM_CREATE,
	STORE_CHANGE_ITEM_UPDATE,
	STORE_CHANGE_ITEM_DELETE,
	STORE_CHANGE_ITEM_RENAME,	/* old_calendar_id/old_name -> calendar_id/name */
	STORE_CHANGE_CALENDAR,		/* created, removed or metadata changed */
	STORE_CHANGE_MAILBOX		/* created, removed or owner changed */
} store_change_kind;

typedef struct {
	gint64 seq;
	gint64 time_ns;
	store_change_kind kind;
	gint64 mailbox_id;
	gint64 calendar_id;
	gint64 item_id;
	char *name;
	gint64 old_calendar_id;
	char *old_name;
	char *origin;		/* who made it, see store_origin() */
} store_change;

/* A journal run: one command's changes. */
typedef struct {
	gint64 id;
	gint64 started_ns;
	char *command;
	char *origin;
	gint64 entries;		/* journal entries */
	gint64 creates, updates, deletes, renames, others;
} store_run;

/* One journal entry: what a change replaced. */
typedef struct {
	gint64 id, run_id, time_ns;
	char *op;		/* create update delete rename meta timezone */
	gint64 item_id, calendar_id;
	char *name, *uid;	/* meta: the key; timezone: "timezone" */
	gint64 old_calendar_id;
	char *old_name;		/* rename: the old name; timezone: the mailbox */
	GBytes *old_data;	/* the bytes replaced or deleted, or NULL */
	gint64 old_version, new_version;
	char *note;		/* what the write repaired, or NULL */
} store_journal_entry;

typedef struct {
	gint64 mailboxes, calendars, items, journal_entries, runs, last_change;
	gint64 bytes;
} store_stats;

/* One version of one item (store_items_set_checked). */
typedef struct {
	gint64 id;
	gint64 version;
} store_version;

/* A request to create or replace the item called name in a calendar. */
typedef struct {
	gint64 calendar_id;
	const char *name;
	const char *uid;
	GBytes *data;
	gint64 reserved_id;	/* id from item_reserve_id for a new item, or 0 */
	const char *note;	/* what the write repaired (journaled), or NULL */
	const char *checked;	/* the render key under which data renders
				 * unchanged (see store_items_set_checked), or
				 * NULL */
	gboolean by_uid;	/* replace the item of the calendar with uid,
				 * under its name, when there is one; name is
				 * for a new item (an import: one round trip
				 * less than finding it first) */
	const store_item *expect;	/* the item, as read with its bytes,
					 * that this write replaces (its name
					 * and UID): when it is still that
					 * version it is not read again; NULL:
					 * looked up */
} store_put;

typedef enum {
	STORE_PUT_CREATED,
	STORE_PUT_UPDATED,
	STORE_PUT_UNCHANGED	/* same bytes: nothing written or journaled */
} store_put_result;

typedef struct {
	void (*close)(store *s);
	const char *(*describe)(store *s);
	const char *(*origin)(store *s);
	void (*run_begin)(store *s, const char *command);
	store *(*peer)(store *s, GError **err);	/* may be NULL: no peers */
	gboolean (*round_trips)(store *s);	/* may be NULL: TRUE */

	GPtrArray *(*mailbox_list)(store *s, GError **err);
	store_mailbox *(*mailbox_get)(store *s, gint64 id, GError **err);
	store_mailbox *(*mailbox_find)(store *s, const char *name, GError **err);
	store_mailbox *(*mailbox_create)(store *s, const char *name, GError **err);
	gboolean (*mailbox_delete)(store *s, gint64 id, GError **err);
	gboolean (*mailbox_set_owner)(store *s, gint64 id, gboolean has_owner,
				      guint32 uid, guint32 gid, guint32 mode,
				      GError **err);
	gboolean (*mailbox_set_timezone)(store *s, gint64 id, const char *zone,
					 GError **err);

	GPtrArray *(*calendar_list)(store *s, gint64 mailbox_id, GError **err);
	store_calendar *(*calendar_get)(store *s, gint64 id, GError **err);
	store_calendar *(*calendar_find)(store *s, gint64 mailbox_id,
					 const char *name, GError **err);
	store_calendar *(*calendar_create)(store *s, gint64 mailbox_id,
					   const char *name, GError **err);
	gboolean (*calendar_delete)(store *s, gint64 id, GError **err);
	gboolean (*calendar_set_meta)(store *s, gint64 id, const char *key,
				      const char *value, GError **err);

	GPtrArray *(*item_list)(store *s, gint64 calendar_id, GError **err);
	store_item *(*item_get)(store *s, gint64 id, gboolean with_data,
				GError **err);
	/* may be NULL: then item_list and item_get (see below) */
	GPtrArray *(*item_list_committed)(store *s, gint64 calendar_id, GError **err);
	store_item *(*item_get_committed)(store *s, gint64 id, GError **err);
	GPtrArray *(*item_range_committed)(store *s, gint64 calendar_id, gint64 first,
					   gint64 last, guint limit, GError **err);
	store_item *(*item_find)(store *s, gint64 calendar_id, const char *name,
				 gboolean with_data, GError **err);
	store_item *(*item_find_uid)(store *s, gint64 calendar_id,
				     const char *uid, GError **err);
	gint64 (*item_reserve_id)(store *s, gint64 calendar_id, GError **err);
	store_item *(*item_put)(store *s, const store_put *req,
				store_put_result *result, GError **err);
	gboolean (*item_delete)(store *s, gint64 id, GError **err);
	gboolean (*item_rename)(store *s, gint64 id, gint64 calendar_id,
				const char *name, GError **err);

	GPtrArray *(*changes_since)(store *s, gint64 seq, int limit,
				    GError **err);
	gboolean (*stats)(store *s, store_stats *out, GError **err);
	gint64 (*root_mtime)(store *s, GError **err);
	gint64 (*last_change)(store *s, GError **err);

	gboolean (*probe)(store *s, int wait_ms, GError **err);
	gboolean (*batch_begin)(store *s, GError **err);
	gboolean (*batch_end)(store *s, GError **err);
	GPtrArray *(*item_scan)(store *s, gint64 calendar_id, const char *contains,
				GError **err);
	gboolean (*items_set_checked)(store *s, const char *key,
				      const store_version *v, guint n, GError **err);
	GPtrArray *(*runs_list)(store *s, GError **err);
	GPtrArray *(*journal_list)(store *s, gint64 run_id, gint64 calendar_id,
				   int limit, GError **err);
	GPtrArray *(*journal_after)(store *s, gint64 run_id, GError **err);

	gboolean (*reply_get)(store *s, gint64 mailbox_id, const char *uid,
			      const char *attendee, gint64 *when,
			      gint64 *sequence, GError **err);
	gboolean (*reply_get_committed)(store *s, gint64 mailbox_id, const char *uid,
					const char *attendee, gint64 *when,
					gint64 *sequence, GError **err);
	gboolean (*reply_put)(store *s, gint64 mailbox_id, const char *uid,
			      const char *attendee, gint64 when,
			      gint64 sequence, GError **err);

	char *(*mailbox_stamp)(store *s, gint64 mailbox_id, GError **err);
	gboolean (*zone_scan_get)(store *s, gint64 mailbox_id, const char *key,
				  char **status, char **resolved, GError **err);
	gboolean (*zone_scan_put)(store *s, gint64 mailbox_id, const char *key,
				  const char *status, const char *resolved,
				  GError **err);
} store_ops;

struct store {
	const store_ops *ops;
};

/* How a store is opened: only calfs init and calfs import make one, so
 * that a typo in a path or URL never does. */
typedef enum {
	STORE_EXISTING,		/* NOTFOUND when there is no store there */
	STORE_CREATE		/* make the SQLite file, or the tables */
} store_open_mode;

/* store_open: open the store spec names: a postgresql:// URL (store_pg.h)
 * or a SQLite path.  origin names this process in the change log (NULL:
 * "pid:<pid>").  With STORE_EXISTING a missing SQLite file, or a database
 * without calfs's tables, is NOTFOUND, and nothing is made; an older
 * schema is brought up to date either way. */
store *store_open(const char *spec, const char *origin, store_open_mode mode,
		  GError **err);

/* store_*_copy: a new copy of a record (an item's bytes are shared). */
store_mailbox *store_mailbox_copy(const store_mailbox *m);
store_calendar *store_calendar_copy(const store_calendar *c);
store_item *store_item_copy(const store_item *i);

void store_mailbox_free(store_mailbox *m);
void store_calendar_free(store_calendar *c);
void store_item_free(store_item *i);
void store_change_free(store_change *c);
void store_run_free(store_run *r);
void store_journal_entry_free(store_journal_entry *e);

/* store_close: close s and free it; NULL is allowed. */
static inline void store_close(store *s)
{
	if (s)
		s->ops->close(s);
}

/* store_describe: a line naming the store ("sqlite /var/lib/calfs.db").
 * Owned by s. */
static inline const char *store_describe(store *s)
{
	return s->ops->describe(s);
}

/* store_origin: the name this process writes into the change log.  Owned
 * by s. */
static inline const char *store_origin(store *s)
{
	return s->ops->origin(s);
}

/* store_run_begin: start a journal run named by command ("mount /mnt",
 * "import alice@example.com ..."): later changes are journaled under it.
 * The run is made by its first change, so a command that changes nothing
 * leaves no run behind. */
static inline void store_run_begin(store *s, const char *command)
{
	s->ops->run_begin(s, command);
}

/* store_peer: another connection to s's store, for a worker thread of
 * this process that reads and writes beside the others (calfs fix): it
 * has a lock and a transaction of its own, logs its changes under s's
 * origin and journals them under s's run.  That run is made by the first
 * change of any of them, in a transaction of its own on s's connection
 * (no connection sees another's rows before they commit), so s must not
 * hold a transaction open while its peers write; a run that nothing was
 * journaled under is removed when s is closed or begins another.  NULL
 * with err unset where the store gains nothing by it (SQLite writes one
 * transaction at a time; a sharded store); NULL with err set when the
 * connection failed.  The caller closes it (store_close) before s. */
static inline store *store_peer(store *s, GError **err)
{
	return s->ops->peer ? s->ops->peer(s, err) : NULL;
}

/* store_round_trips: whether each query is a round trip to a server
 * (PostgreSQL), so that reading many items in one query
 * (store_item_range_committed) saves time; on SQLite a read of one item
 * by id costs less than its share of a range. */
static inline gboolean store_round_trips(store *s)
{
	return s->ops->round_trips ? s->ops->round_trips(s) : TRUE;
}

/* store_mailbox_list: all mailboxes by name, a GPtrArray of store_mailbox*
 * that frees its elements. */
static inline GPtrArray *store_mailbox_list(store *s, GError **err)
{
	return s->ops->mailbox_list(s, err);
}

static inline store_mailbox *store_mailbox_get(store *s, gint64 id, GError **err)
{
	return s->ops->mailbox_get(s, id, err);
}

static inline store_mailbox *store_mailbox_find(store *s, const char *name,
						GError **err)
{
	return s->ops->mailbox_find(s, name, err);
}

/* store_mailbox_create: a new mailbox; EXISTS when the name is taken. */
static inline store_mailbox *store_mailbox_create(store *s, const char *name,
						  GError **err)
{
	return s->ops->mailbox_create(s, name, err);
}

/* store_mailbox_delete: remove an empty mailbox (NOTEMPTY otherwise). */
static inline gboolean store_mailbox_delete(store *s, gint64 id, GError **err)
{
	return s->ops->mailbox_delete(s, id, err);
}

static inline gboolean store_mailbox_set_owner(store *s, gint64 id,
					       gboolean has_owner, guint32 uid,
					       guint32 gid, guint32 mode,
					       GError **err)
{
	return s->ops->mailbox_set_owner(s, id, has_owner, uid, gid, mode, err);
}

/* store_mailbox_set_timezone: store the mailbox's zone (NULL clears it),
 * journaled. */
static inline gboolean store_mailbox_set_timezone(store *s, gint64 id,
						  const char *zone, GError **err)
{
	return s->ops->mailbox_set_timezone(s, id, zone, err);
}

/* store_calendar_list: the calendars of a mailbox by name (store_calendar*). */
static inline GPtrArray *store_calendar_list(store *s, gint64 mailbox_id,
					     GError **err)
{
	return s->ops->calendar_list(s, mailbox_id, err);
}

static inline store_calendar *store_calendar_get(store *s, gint64 id, GError **err)
{
	return s->ops->calendar_get(s, id, err);
}

static inline store_calendar *store_calendar_find(store *s, gint64 mailbox_id,
						  const char *name, GError **err)
{
	return s->ops->calendar_find(s, mailbox_id, name, err);
}

static inline store_calendar *store_calendar_create(store *s, gint64 mailbox_id,
						    const char *name, GError **err)
{
	return s->ops->calendar_create(s, mailbox_id, name, err);
}

/* store_calendar_delete: remove an empty calendar (NOTEMPTY otherwise). */
static inline gboolean store_calendar_delete(store *s, gint64 id, GError **err)
{
	return s->ops->calendar_delete(s, id, err);
}

/* store_calendar_set_meta: set "displayname" or "color" (NULL clears it). */
static inline gboolean store_calendar_set_meta(store *s, gint64 id,
					       const char *key, const char *value,
					       GError **err)
{
	return s->ops->calendar_set_meta(s, id, key, value, err);
}

/* store_item_list: the items of a calendar by id, without their bytes. */
static inline GPtrArray *store_item_list(store *s, gint64 calendar_id, GError **err)
{
	return s->ops->item_list(s, calendar_id, err);
}

static inline store_item *store_item_get(store *s, gint64 id, gboolean with_data,
					 GError **err)
{
	return s->ops->item_get(s, id, with_data, err);
}

/* store_item_list_committed, store_item_get_committed: store_item_list and
 * store_item_get (with the bytes) for a reader that runs beside this
 * process's own writes, such as calfs fix's workers.  On a store that can
 * (SQLite), they read on a read-only connection of their own, taken from
 * a pool, so that they do not wait for the store's lock while another
 * thread writes; they then see what is committed, not the changes of a
 * batch this process has open.  Elsewhere they read on the store's own
 * connection, as the plain calls do, without their cache (on PostgreSQL
 * a reader's connection of its own measured no faster: the server shares
 * the machine's cores).  The results are the caller's, as above. */
static inline GPtrArray *store_item_list_committed(store *s, gint64 calendar_id,
						   GError **err)
{
	return s->ops->item_list_committed ? s->ops->item_list_committed(s, calendar_id, err)
					   : s->ops->item_list(s, calendar_id, err);
}

static inline store_item *store_item_get_committed(store *s, gint64 id, GError **err)
{
	return s->ops->item_get_committed ? s->ops->item_get_committed(s, id, err)
					  : s->ops->item_get(s, id, TRUE, err);
}

/* store_item_range_committed: the items of calendar_id whose ids are
 * first to last, with their bytes, by id, the first limit of them (0: all),
 * read as store_item_get_committed reads them: one query for many items
 * (calfs fix and the mount read ahead so; on PostgreSQL each read is a
 * round trip).  A GPtrArray of store_item*, the caller's; NULL with err
 * set. */
static inline GPtrArray *store_item_range_committed(store *s, gint64 calendar_id,
						    gint64 first, gint64 last, guint limit,
						    GError **err)
{
	return s->ops->item_range_committed(s, calendar_id, first, last, limit, err);
}

static inline store_item *store_item_find(store *s, gint64 calendar_id,
					  const char *name, gboolean with_data,
					  GError **err)
{
	return s->ops->item_find(s, calendar_id, name, with_data, err);
}

/* store_item_find_uid: the item with that UID in the calendar, without its
 * bytes; NOTFOUND when there is none. */
static inline store_item *store_item_find_uid(store *s, gint64 calendar_id,
					      const char *uid, GError **err)
{
	return s->ops->item_find_uid(s, calendar_id, uid, err);
}

/* store_item_reserve_id: an item id that no item has or will get, for a
 * new item of calendar_id, so a file created in the mount keeps its inode
 * number when it becomes an item (store_put.reserved_id). */
static inline gint64 store_item_reserve_id(store *s, gint64 calendar_id,
					   GError **err)
{
	return s->ops->item_reserve_id(s, calendar_id, err);
}

/* store_item_put: create or replace the item req->name in
 * req->calendar_id, journaling the bytes replaced.  EXISTS when another
 * item of the calendar has the same UID.  Returns the item as stored
 * (without its bytes) and what happened in *result (may be NULL). */
static inline store_item *store_item_put(store *s, const store_put *req,
					 store_put_result *result, GError **err)
{
	return s->ops->item_put(s, req, result, err);
}

/* store_item_delete: delete an item; its bytes stay in the journal. */
static inline gboolean store_item_delete(store *s, gint64 id, GError **err)
{
	return s->ops->item_delete(s, id, err);
}

/* store_item_rename: move an item to name in calendar_id, replacing (and
 * journaling) an item already called so.  EXISTS when another item of the
 * target calendar has the same UID. */
static inline gboolean store_item_rename(store *s, gint64 id, gint64 calendar_id,
					 const char *name, GError **err)
{
	return s->ops->item_rename(s, id, calendar_id, name, err);
}

/* store_changes_since: up to limit changes with seq > seq, oldest first
 * (store_change*). */
static inline GPtrArray *store_changes_since(store *s, gint64 seq, int limit,
					     GError **err)
{
	return s->ops->changes_since(s, seq, limit, err);
}

static inline gboolean store_stats_get(store *s, store_stats *out, GError **err)
{
	return s->ops->stats(s, out, err);
}

/* store_root_mtime: when a mailbox was last added or removed (ns), 0 when
 * never, -1 on error. */
static inline gint64 store_root_mtime(store *s, GError **err)
{
	return s->ops->root_mtime(s, err);
}

/* store_items_set_checked: record that, of each of the n items v names,
 * that version renders unchanged under render key key (cleared when its
 * bytes change); an item whose version is no longer the one given is
 * left alone.  Not a change: no journal, no change log, no new version.
 * All in one statement where the store can (PostgreSQL: one round trip
 * and one plan for a mailbox's verdicts, not one each).  FALSE with err
 * set when the store failed; then none or some are recorded, which only
 * costs a check the next time. */
static inline gboolean store_items_set_checked(store *s, const char *key,
					       const store_version *v, guint n,
					       GError **err)
{
	return n ? s->ops->items_set_checked(s, key, v, n, err) : TRUE;
}

/* store_item_scan: the items of a calendar whose bytes contain the bytes
 * of contains, with their bytes, in one query (store_item*), read as
 * store_item_list_committed reads: what is committed, not the changes of
 * a batch this process has open. */
static inline GPtrArray *store_item_scan(store *s, gint64 calendar_id,
					 const char *contains, GError **err)
{
	return s->ops->item_scan(s, calendar_id, contains, err);
}

/* store_batch_begin: group the following changes into one transaction
 * (each still succeeds or fails alone) until store_batch_end commits them:
 * many changes for the price of one commit.  Batches nest: only the
 * outermost end commits.  Other processes wait for the store meanwhile,
 * so keep batches short (hundreds of items).  Errors: BUSY when the
 * store stays locked, IO when the commit fails (the batch is then
 * rolled back).  A new item put by UID into a calendar the batch found
 * empty is written without a savepoint, and on PostgreSQL without
 * waiting for the server (store_sql_items.c): a failure of the server
 * then shows in a later change of the batch, or its commit, and fails
 * the batch. */
static inline gboolean store_batch_begin(store *s, GError **err)
{
	return s->ops->batch_begin(s, err);
}

/* store_batch_end: end the batch store_batch_begin() opened. */
static inline gboolean store_batch_end(store *s, GError **err)
{
	return s->ops->batch_end(s, err);
}

/* store_probe: whether the store can be written now, waiting at most
 * wait_ms for another process's transaction (BUSY when it stays locked). */
static inline gboolean store_probe(store *s, int wait_ms, GError **err)
{
	return s->ops->probe(s, wait_ms, err);
}

/* store_runs_list: the journal runs, newest first, with counts
 * (store_run*). */
static inline GPtrArray *store_runs_list(store *s, GError **err)
{
	return s->ops->runs_list(s, err);
}

/* store_journal_list: journal entries, newest first: of run_id (0: any
 * run), about calendar_id (0: any), at most limit (store_journal_entry*,
 * with their old bytes). */
static inline GPtrArray *store_journal_list(store *s, gint64 run_id,
					    gint64 calendar_id, int limit,
					    GError **err)
{
	return s->ops->journal_list(s, run_id, calendar_id, limit, err);
}

/* store_journal_after: for each journal entry of run_id, the first entry
 * of another run that changed the same item (or calendar property) after
 * it, without old bytes (store_journal_entry*): what undoing run_id would
 * clobber. */
static inline GPtrArray *store_journal_after(store *s, gint64 run_id, GError **err)
{
	return s->ops->journal_after(s, run_id, err);
}

/* store_last_change: the sequence number of the newest change (0 when
 * none, -1 on error); it moves whenever anything changes. */
static inline gint64 store_last_change(store *s, GError **err)
{
	return s->ops->last_change(s, err);
}

/* store_reply_get: the latest reply processed from attendee (an address,
 * compared without case) for uid in the mailbox: its time (Unix) and
 * SEQUENCE.  FALSE with NOTFOUND when there is none. */
static inline gboolean store_reply_get(store *s, gint64 mailbox_id,
				       const char *uid, const char *attendee,
				       gint64 *when, gint64 *sequence, GError **err)
{
	return s->ops->reply_get(s, mailbox_id, uid, attendee, when, sequence, err);
}

/* store_reply_get_committed: store_reply_get for a reader beside this
 * process's own writes, as store_item_get_committed reads: on a
 * connection of its own where the store has one (SQLite), seeing what is
 * committed.  calfs fix asked for a reply of each attendee of a damaged
 * item and waited for the store's lock while the other worker wrote. */
static inline gboolean store_reply_get_committed(store *s, gint64 mailbox_id,
						 const char *uid, const char *attendee,
						 gint64 *when, gint64 *sequence,
						 GError **err)
{
	return s->ops->reply_get_committed
		? s->ops->reply_get_committed(s, mailbox_id, uid, attendee, when, sequence, err)
		: s->ops->reply_get(s, mailbox_id, uid, attendee, when, sequence, err);
}

/* store_reply_put: record a reply as the latest from attendee for uid. */
static inline gboolean store_reply_put(store *s, gint64 mailbox_id,
				       const char *uid, const char *attendee,
				       gint64 when, gint64 sequence, GError **err)
{
	return s->ops->reply_put(s, mailbox_id, uid, attendee, when, sequence, err);
}

/* store_mailbox_stamp: a text that changes whenever anything in the
 * mailbox changes (an item added, changed, renamed, moved in or out,
 * deleted).  Newly allocated; NULL with err set when the store fails. */
static inline char *store_mailbox_stamp(store *s, gint64 mailbox_id, GError **err)
{
	return s->ops->mailbox_stamp(s, mailbox_id, err);
}

/* store_zone_scan_get: the mailbox's zone scan kept under key (status and
 * resolved zone, which may be NULL; both newly allocated).  FALSE with
 * NOTFOUND when none is kept under that key. */
static inline gboolean store_zone_scan_get(store *s, gint64 mailbox_id,
					   const char *key, char **status,
					   char **resolved, GError **err)
{
	return s->ops->zone_scan_get(s, mailbox_id, key, status, resolved, err);
}

/* store_zone_scan_put: keep a zone scan of the mailbox under key (not a
 * change: neither journaled nor in the change log). */
static inline gboolean store_zone_scan_put(store *s, gint64 mailbox_id,
					   const char *key, const char *status,
					   const char *resolved, GError **err)
{
	return s->ops->zone_scan_put(s, mailbox_id, key, status, resolved, err);
}

#endif
