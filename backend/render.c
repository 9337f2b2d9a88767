#include "render.h"
#include "item.h"
#include "repair.h"

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

GBytes *render_item(GBytes *stored, const render_options *o, GPtrArray *repairs)
{
	icalcomponent *cal;
	GPtrArray *fixes;
	gsize len;
	const char *data = g_bytes_get_data(stored, &len);
	GBytes *out;

	/* rebasing lands with the tzrules issue: only repair parses now */
	if (!o->repair || !repair_may_apply(data, len))
		return g_bytes_ref(stored);
	cal = item_parse(data, len);
	if (!cal)
		return g_bytes_ref(stored);
	fixes = repair_component(cal, o->ctx);
	if (o->rebase)
		tz_rebase_component(cal, &o->tz, NULL);
	icalcomponent_free(cal);
	out = repair_apply_text(stored, fixes);
	if (repairs)
		for (guint i = 0; i < fixes->len; i++)
			g_ptr_array_add(repairs, g_steal_pointer(&fixes->pdata[i]));
	g_ptr_array_unref(fixes);
	return out;
}

char *render_describe(GPtrArray *repairs)
{
	GString *s = g_string_new(NULL);

	for (guint i = 0; repairs && i < repairs->len; i++) {
		char *line = repair_describe(repairs->pdata[i]);

		if (i)
			g_string_append_c(s, '\n');
		g_string_append(s, line);
		g_free(line);
	}
	return g_string_free(s, FALSE);
}
