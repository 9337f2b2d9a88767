#include "render.h"
#include "item.h"
#include "repair.h"

#include <stdlib.h>
#include <string.h>

static render_options options(const conf *c, const char *mailbox,
			      gboolean repair)
{
	const conf_mailbox *m = mailbox ? conf_mailbox_get(c, mailbox) : NULL;
	render_options o = {
		.repair = repair,
		.rebase = c->rebase,
		.tz = {
			.recurring_only = c->recurring_only,
			.report_only = c->report_only,
			.created_before = c->created_before,
			.mailbox_zone = m ? m->timezone : NULL,
		},
	};

	return o;
}

render_options render_options_read(const conf *c, const char *mailbox)
{
	return options(c, mailbox, c->repair_on_read);
}

render_options render_options_write(const conf *c, const char *mailbox)
{
	return options(c, mailbox, c->repair_on_write);
}

GBytes *render_item(GBytes *stored, const render_options *o, GPtrArray *fixes)
{
	icalcomponent *cal;
	gsize len;
	const char *data = g_bytes_get_data(stored, &len);
	guint changes = 0;
	char *text;

	if (!o->repair && !o->rebase)
		return g_bytes_ref(stored);
	cal = item_parse(data, len);
	if (!cal)
		return g_bytes_ref(stored);
	if (o->repair)
		changes += repair_component(cal, fixes);
	if (o->rebase)
		changes += tz_rebase_component(cal, &o->tz, fixes);
	if (!changes) {
		icalcomponent_free(cal);
		return g_bytes_ref(stored);
	}
	text = icalcomponent_as_ical_string_r(cal);
	icalcomponent_free(cal);
	{
		GBytes *out = g_bytes_new(text, strlen(text));

		free(text);
		return out;
	}
}
