#include "store.h"
#include "store_sqlite.h"

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

store *store_open_path(const char *path, const char *origin, GError **err)
{
	return sqlstore_open(path, origin, err);
}
