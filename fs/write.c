#include "write.h"
#include "ctl.h"
#include "errmap.h"
#include "error.h"
#include "ingest.h"
#include "log.h"
#include "notify.h"
#include "view.h"

struct write_job {
	gint64 calendar_id;	/* prepared for this calendar */
	calinfo *ci;
	char *zone;		/* the mailbox's stored zone (policy points here) */
	char *outbox;
	render_options policy;
	ingest_replies replies;
	ingest_target t;
	ingest_prepared p;
	GBytes *data;
	gboolean update;	/* an iMIP update is due (write_finish) */
};

/* Let go of what a preparation made (not the data). */
static void release(write_job *j)
{
	ingest_prepared_clear(&j->p);
	g_clear_pointer(&j->ci, view_calinfo_free);
	g_clear_pointer(&j->zone, g_free);
	g_clear_pointer(&j->outbox, g_free);
}

static void job_free(write_job *j)
{
	if (!j)
		return;
	release(j);
	g_bytes_unref(j->data);
	g_free(j);
}

/* err for the failure e of a write of name in ci: a refusal is logged and
 * kept in .calfs/errors, anything else logged as an error. */
static void failed(fs_ctx *fs, const calinfo *ci, const char *name, GError *e, GError **err)
{
	if (errmap_refusal(e)) {
		g_prefix_error(&e, "%s/%s/%s: refused: ", ci->mailbox, ci->calendar, name);
		log_notice("%s", e->message);
		ctl_refused(fs, ci->mailbox_id, e->message);
	} else {
		log_error("%s/%s/%s: %s", ci->mailbox, ci->calendar, name, e->message);
	}
	g_propagate_error(err, e);
}

/* Validate and render j->data as name in calendar_id into j. */
static gboolean prepare(fs_ctx *fs, write_job *j, gint64 calendar_id, const char *name,
			GError **err)
{
	GError *e = NULL;

	j->calendar_id = calendar_id;
	if (!(j->ci = view_calinfo(fs, calendar_id, err)))
		return FALSE;
	j->zone = view_stored_zone(fs, j->ci->mailbox_id);
	j->policy = render_options_write(fs->conf, j->ci->mailbox, j->zone);
	ingest_replies_init(&j->replies, fs->store, j->ci->mailbox_id);
	j->policy.ctx = &j->replies.ctx;
	j->outbox = conf_outbox(fs->conf, j->ci->mailbox);
	j->t = (ingest_target){ .calendar_id = calendar_id, .name = name,
				.mode = ITEM_CHECK_STRICT, .policy = &j->policy,
				.mailbox = j->ci->mailbox, .outbox = j->outbox };
	if (!ingest_prepare(&j->t, j->data, NULL, &j->p, &e)) {
		failed(fs, j->ci, name, e, err);
		return FALSE;
	}
	return TRUE;
}

write_job *write_prepare(fs_ctx *fs, gint64 calendar_id, const char *name, GBytes *data,
			 GError **err)
{
	write_job *j = g_new0(write_job, 1);

	j->data = g_bytes_ref(data);
	if (!prepare(fs, j, calendar_id, name, err)) {
		job_free(j);
		return NULL;
	}
	return j;
}

gint64 write_store(fs_ctx *fs, write_job *job, gint64 calendar_id, const char *name,
		   gint64 reserved_id, GError **err)
{
	GError *e = NULL;
	store_item *it;
	gint64 id;

	if (job->calendar_id != calendar_id) {
		/* moved to another calendar, perhaps another mailbox's policy */
		release(job);
		if (!prepare(fs, job, calendar_id, name, err))
			return 0;
	}
	job->t.name = name;
	job->t.reserved_id = reserved_id;
	if (!(it = ingest_store(fs->store, &job->t, &job->p, NULL, &job->update, &e))) {
		failed(fs, job->ci, name, e, err);
		return 0;
	}
	id = it->id;
	store_item_free(it);
	/* the next read takes the stored bytes as they are (checked) */
	view_forget_render(fs, id);
	notify_kick(fs->notifier);
	return id;
}

void write_finish(write_job *job)
{
	if (job && job->update)
		ingest_queue_update(&job->t, job->p.final);
	job_free(job);
}

gint64 write_item(fs_ctx *fs, gint64 calendar_id, const char *name, gint64 reserved_id,
		  GBytes *data, GError **err)
{
	write_job *job = write_prepare(fs, calendar_id, name, data, err);
	gint64 id = job ? write_store(fs, job, calendar_id, name, reserved_id, err) : 0;

	write_finish(job);
	return id;
}
