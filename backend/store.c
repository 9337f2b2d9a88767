#include "store.h"
#include "store_pg.h"
#include "store_sqlite.h"

store_mailbox *store_mailbox_copy(const store_mailbox *m)
{
	store_mailbox *c = g_memdup2(m, sizeof(*m));

	c->name = g_strdup(m->name);
	c->timezone = g_strdup(m->timezone);
	return c;
}

store_calendar *store_calendar_copy(const store_calendar *c)
{
	store_calendar *d = g_memdup2(c, sizeof(*c));

	d->name = g_strdup(c->name);
	d->displayname = g_strdup(c->displayname);
	d->color = g_strdup(c->color);
	return d;
}

store_item *store_item_copy(const store_item *i)
{
	store_item *c = g_memdup2(i, sizeof(*i));

	c->name = g_strdup(i->name);
	c->uid = g_strdup(i->uid);
	c->checked = g_strdup(i->checked);
	if (i->data)
		g_bytes_ref(i->data);
	return c;
}

void store_mailbox_free(store_mailbox *m)
{
	if (!m)
		return;
	g_free(m->name);
	g_free(m->timezone);
	g_free(m);
}

void store_calendar_free(store_calendar *c)
{
	if (!c)
		return;
	g_free(c->name);
	g_free(c->displayname);
	g_free(c->color);
	g_free(c);
}

void store_item_free(store_item *i)
{
	if (!i)
		return;
	g_free(i->name);
	g_free(i->uid);
	g_free(i->checked);
	if (i->data)
		g_bytes_unref(i->data);
	g_free(i);
}

void store_change_free(store_change *c)
{
	if (!c)
		return;
	g_free(c->name);
	g_free(c->old_name);
	g_free(c->origin);
	g_free(c);
}

void store_run_free(store_run *r)
{
	if (!r)
		return;
	g_free(r->command);
	g_free(r->origin);
	g_free(r);
}

void store_journal_entry_free(store_journal_entry *e)
{
	if (!e)
		return;
	g_free(e->op);
	g_free(e->name);
	g_free(e->uid);
	g_free(e->old_name);
	g_free(e->note);
	if (e->old_data)
		g_bytes_unref(e->old_data);
	g_free(e);
}

store *store_open(const char *spec, const char *origin, store_open_mode mode,
		  GError **err)
{
	if (pgstore_is_url(spec))
		return pgstore_open(spec, origin, mode, err);
	return litestore_open(spec, origin, mode, err);
}
