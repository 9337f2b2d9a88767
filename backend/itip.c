#include "itip.h"
#include "error.h"
#include "ictext.h"
#include "log.h"
#include "mend.h"
#include "repair.h"

#include <stdlib.h>
#include <string.h>

void itip_init(itip *sc, store *s, const char *mailbox, store_calendar *cal,
		itip_stats *st)
{
	memset(sc, 0, sizeof(*sc));
	sc->s = s;
	sc->mailbox = mailbox;
	sc->cal = cal;
	sc->st = st;
	ingest_replies_init(&sc->replies, s, cal->mailbox_id);
	sc->policy.ctx = &sc->replies.ctx;
}

static void skip(itip *sc, const char *source, const char *uid, const char *why)
{
	if (uid)
		log_notice("%s: UID %s: skipped: %s", source, uid, why);
	else
		log_notice("%s: skipped: %s", source, why);
	sc->st->skipped++;
}

/* An address without "mailto:", in lower case. */
static char *address(const char *cal_address)
{
	if (!cal_address)
		return g_strdup("");
	if (!g_ascii_strncasecmp(cal_address, "mailto:", 7))
		cal_address += 7;
	return g_ascii_strdown(cal_address, -1);
}

static gboolean same_address(const char *a, const char *b)
{
	char *x = address(a), *y = address(b);
	gboolean same = !strcmp(x, y);

	g_free(x);
	g_free(y);
	return same;
}

static const char *rid_of(icalcomponent *ev)
{
	icalproperty *p = icalcomponent_get_first_property(ev, ICAL_RECURRENCEID_PROPERTY);

	return p ? icalproperty_get_value_as_string(p) : NULL;
}

/* The event of cal for recurrence id rid (NULL: the master) and its
 * ordinal among the item components, or NULL. */
static icalcomponent *find_event(icalcomponent *cal, const char *rid, int *ordinal)
{
	icalcomponent *c;
	int n = 0;

	for (c = icalcomponent_get_first_component(cal, ICAL_ANY_COMPONENT); c;
	     c = icalcomponent_get_next_component(cal, ICAL_ANY_COMPONENT)) {
		icalcomponent_kind k = icalcomponent_isa(c);
		const char *r;

		if (k != ICAL_VEVENT_COMPONENT && k != ICAL_VTODO_COMPONENT &&
		    k != ICAL_VJOURNAL_COMPONENT)
			continue;
		r = rid_of(c);
		if ((!rid && !r) || (rid && r && !strcmp(rid, r))) {
			*ordinal = n;
			return c;
		}
		n++;
	}
	return NULL;
}

static int sequence_of(icalcomponent *ev)
{
	icalproperty *p = icalcomponent_get_first_property(ev, ICAL_SEQUENCE_PROPERTY);

	return p ? icalproperty_get_sequence(p) : 0;
}

/* The stored item with uid in the mailbox: the scheduler's calendar
 * first, then the others.  NULL (no error) when there is none. */
static store_item *find_item(itip *sc, const char *uid, GError **err)
{
	GError *e = NULL;
	store_item *it = store_item_find_uid(sc->s, sc->cal->id, uid, &e);
	GPtrArray *cals;

	if (it || !g_error_matches(e, CALFS_ERROR, CALFS_ERROR_NOTFOUND)) {
		if (e)
			g_propagate_error(err, e);
		return it;
	}
	g_clear_error(&e);
	if (!(cals = store_calendar_list(sc->s, sc->cal->mailbox_id, err)))
		return NULL;
	for (guint i = 0; !it && i < cals->len; i++) {
		store_calendar *c = cals->pdata[i];

		if (c->id == sc->cal->id)
			continue;
		it = store_item_find_uid(sc->s, c->id, uid, &e);
		if (!it && !g_error_matches(e, CALFS_ERROR, CALFS_ERROR_NOTFOUND)) {
			g_propagate_error(err, e);
			break;
		}
		g_clear_error(&e);
	}
	g_ptr_array_unref(cals);
	return it;
}

/* Store data as the item name of calendar_id.  *res says what happened;
 * it is STORE_PUT_UNCHANGED also when the content was refused (reported
 * and counted as skipped), and *stored says whether it was stored.  FALSE
 * only when the store fails. */
/* Store data as name (by_uid: as the item of uid, else name);
 * checked: the parse warnings of data, which item_split accepted already
 * (it is not checked again), or NULL. */
static gboolean put(itip *sc, const char *source, const char *uid,
		    gint64 calendar_id, const char *name, gboolean by_uid, GBytes *data,
		    GPtrArray *checked, const char *note, const store_item *expect,
		    store_put_result *res, gboolean *stored, GError **err)
{
	GPtrArray *warnings = checked ? g_ptr_array_ref(checked)
				      : g_ptr_array_new_with_free_func(g_free);
	ingest_target t = { .calendar_id = calendar_id, .name = name,
			    .mode = ITEM_CHECK_LENIENT, .policy = &sc->policy,
			    .note = note, .by_uid = by_uid, .expect = expect };
	GError *e = NULL;
	store_item *item = checked ? ingest_checked(sc->s, &t, data, uid, res, &e)
				   : ingest_item(sc->s, &t, data, res, warnings, &e);
	gboolean ok = TRUE;

	*stored = item != NULL;
	if (item) {
		for (guint i = 0; i < warnings->len; i++)
			log_notice("%s: UID %s: kept despite parse error: %s",
				   source, uid, (char *)warnings->pdata[i]);
		sc->st->warnings += warnings->len ? 1 : 0;
	} else if (e->code == CALFS_ERROR_INVALID || e->code == CALFS_ERROR_EXISTS ||
		   e->code == CALFS_ERROR_NAME) {
		*res = STORE_PUT_UNCHANGED;
		skip(sc, source, uid, e->message);
		g_error_free(e);
	} else {
		g_propagate_error(err, e);
		ok = FALSE;
	}
	store_item_free(item);
	g_ptr_array_unref(warnings);
	return ok;
}

static void count(itip *sc, store_put_result res)
{
	if (res == STORE_PUT_CREATED)
		sc->st->created++;
	else if (res == STORE_PUT_UPDATED)
		sc->st->updated++;
	else
		sc->st->unchanged++;
}

/* PUBLISH, none, or REQUEST (check_sequence, METHOD dropped): store one
 * item by its UID. */
static gboolean store_part(itip *sc, const char *source, item_part *p,
			   GPtrArray *warnings, gboolean request, GError **err)
{
	GError *e = NULL;
	/* a request is compared with the item it updates; other items are
	 * stored by UID, the name of the item of the UID found in the same
	 * round trip as the write */
	store_item *old = request ? store_item_find_uid(sc->s, sc->cal->id, p->uid, &e)
				  : NULL;
	GBytes *data = g_bytes_ref(p->data);
	store_put_result res = STORE_PUT_UNCHANGED;
	gboolean ok, stored;
	char *name, *made = NULL, *note;

	if (request && !old && !g_error_matches(e, CALFS_ERROR, CALFS_ERROR_NOTFOUND)) {
		g_propagate_error(err, e);
		g_bytes_unref(data);
		return FALSE;
	}
	g_clear_error(&e);
	if (request) {
		ictext *t = ictext_parse(data);
		ictext_line *m = ictext_find(t, -1, "METHOD", NULL, 0);

		if (m)
			ictext_remove(m);
		g_bytes_unref(data);
		data = ictext_serialize(t);
		ictext_free(t);
		if (old) {
			store_item *full = store_item_get(sc->s, old->id, TRUE, NULL);
			icalcomponent *a = full ? item_parse(g_bytes_get_data(full->data, NULL),
							     g_bytes_get_size(full->data)) : NULL;
			icalcomponent *b = item_parse(g_bytes_get_data(data, NULL),
						      g_bytes_get_size(data));
			int na, nb;
			icalcomponent *ea = a ? find_event(a, NULL, &na) : NULL;
			icalcomponent *eb = b ? find_event(b, NULL, &nb) : NULL;
			gboolean stale = ea && eb && sequence_of(eb) < sequence_of(ea);

			if (a)
				icalcomponent_free(a);
			if (b)
				icalcomponent_free(b);
			store_item_free(full);
			if (stale) {
				log_notice("%s: UID %s: stale request ignored (lower SEQUENCE)",
					   source, p->uid);
				sc->st->stale++;
				store_item_free(old);
				g_bytes_unref(data);
				return TRUE;
			}
		}
	}
	name = old ? g_strdup(old->name) : item_name_for_uid(p->uid);
	if (p->made_uid) {
		made = g_strdup_printf("UID %s made by calfs from DTSTART, SUMMARY, ORGANIZER"
				       " and RECURRENCE-ID: the export gave none", p->uid);
		log_notice("%s: %s", source, made);
	}
	note = sc->note && made ? g_strconcat(sc->note, "\n", made, NULL)
	     : g_strdup(sc->note ? sc->note : made);
	/* a part item_check accepted as it is (less the METHOD a request
	 * loses) is not checked again; one built from several parts is */
	ok = put(sc, source, p->uid, sc->cal->id, name, !request, data,
		 p->checked ? warnings : NULL, note, NULL, &res, &stored, err);
	g_free(made);
	g_free(note);
	if (ok && stored)
		count(sc, res);
	g_free(name);
	store_item_free(old);
	g_bytes_unref(data);
	return ok;
}

typedef struct {
	store_item *item;	/* with data */
	icalcomponent *cal;	/* parsed */
	icalcomponent *ev;	/* the event addressed */
	int ordinal;
} target;

static void target_clear(target *t)
{
	store_item_free(t->item);
	if (t->cal)
		icalcomponent_free(t->cal);
}

/* Whether a content line of an item component is one that addressing a
 * reply or a cancellation reads (find_event, sequence_of, attendee_in,
 * the attendee's X-REPLYTIME). */
static gboolean addressing(const char *line, gsize len)
{
	static const char *const names[] = { "UID", "RECURRENCE-ID", "SEQUENCE", "ATTENDEE" };

	return ictext_line_named(line, len, names, G_N_ELEMENTS(names), NULL);
}

/* Whether the bytes of s (n of them) hold word (lower case), in any case. */
static gboolean holds(const char *s, gsize n, const char *word)
{
	gsize w = strlen(word);

	for (gsize i = 0; w && i + w <= n; i++)
		if (g_ascii_tolower(s[i]) == word[0] && !g_ascii_strncasecmp(s + i + 1, word + 1, w - 1))
			return TRUE;
	return !w;
}

/* addressing(), and of the ATTENDEE lines only those that may be the
 * replier's: those that hold its address (data: address(), lower case),
 * or whose value a fold cuts.  attendee_in() compares the addresses
 * without case and "mailto:", so it finds in these the line it would
 * find in all; parsing every attendee was most of a reply's parse. */
static gboolean addressing_one(const char *line, gsize len, gboolean partial, gpointer data)
{
	static const char *const attendee[] = { "ATTENDEE" };

	if (!addressing(line, len))
		return FALSE;
	return partial || !ictext_line_named(line, len, attendee, 1, NULL) ||
	       holds(line, len, data);
}

/* Load the item with uid and the event for rid; FALSE with *why set when
 * it cannot be addressed (err set too when the store failed).  t->cal
 * holds only what addressing() reads, and of the attendees only those
 * that may be who when it is not NULL: the item's lines are edited as
 * text. */
static gboolean load_target(itip *sc, const char *uid, const char *rid, const char *who,
			    target *t, const char **why, GError **err)
{
	store_item *found = find_item(sc, uid, err);

	memset(t, 0, sizeof(*t));
	*why = "no item with this UID in the mailbox";
	if (!found)
		return FALSE;
	t->item = store_item_get(sc->s, found->id, TRUE, err);
	store_item_free(found);
	if (!t->item)
		return FALSE;
	{
		/* the parse of a whole item was a fifth of a Maildir import */
		gsize len;
		const char *text = g_bytes_get_data(t->item->data, &len);
		char *one = who ? address(who) : NULL;
		GString *lines = one && *one ? ictext_select_with(text, len, FALSE,
								  addressing_one, one)
					     : ictext_select(text, len, FALSE, addressing);

		g_free(one);

		t->cal = item_parse(lines->str, lines->len);
		g_string_free(lines, TRUE);
	}
	*why = "the stored item does not parse";
	if (!t->cal)
		return FALSE;
	t->ev = find_event(t->cal, rid, &t->ordinal);
	*why = "no such occurrence in the stored item";
	return t->ev != NULL;
}

/* The ATTENDEE of the reply event that replied: the sender's, or the only
 * one. */
static icalproperty *replier(icalcomponent *ev, const char *sender)
{
	icalproperty *p, *only = NULL;
	int n = 0;

	for (p = icalcomponent_get_first_property(ev, ICAL_ATTENDEE_PROPERTY); p;
	     p = icalcomponent_get_next_property(ev, ICAL_ATTENDEE_PROPERTY)) {
		if (sender && same_address(icalproperty_get_attendee(p), sender))
			return p;
		only = p;
		n++;
	}
	return n == 1 ? only : NULL;
}

static icalproperty *attendee_in(icalcomponent *ev, const char *who)
{
	icalproperty *p;

	for (p = icalcomponent_get_first_property(ev, ICAL_ATTENDEE_PROPERTY); p;
	     p = icalcomponent_get_next_property(ev, ICAL_ATTENDEE_PROPERTY))
		if (same_address(icalproperty_get_attendee(p), who))
			return p;
	return NULL;
}

/* Whether s is a word of letters, digits and dashes (a PARTSTAT that
 * cannot change how its line parses); NULL is. */
static gboolean plain_word(const char *s)
{
	for (; s && *s; s++)
		if (!g_ascii_isalnum(*s) && *s != '-')
			return FALSE;
	return TRUE;
}

/* What a reply sets on its attendee's line. */
typedef struct {
	const char *partstat, *stamp;
} reply_params;

static void set_reply(ictext_line *l, gpointer data)
{
	reply_params *rp = data;

	ictext_set_param(l, "PARTSTAT", rp->partstat);
	ictext_set_param(l, "X-REPLYTIME", rp->stamp);
}

/* Rule T6: a REPLY updates the replying attendee in the organizer's item. */
static gboolean apply_reply(itip *sc, icalcomponent *rev, const char *sender,
			    const char *source, GError **err)
{
	const char *uid = icalcomponent_get_uid(rev), *why;
	icalproperty *from = replier(rev, sender), *mine, *acc;
	const char *who, *partstat;
	gint64 when = 0, last = 0;
	GError *e = NULL;
	GPtrArray *none = NULL;	/* no warnings: the item was checked */
	target t;
	gboolean ok = TRUE;

	if (!uid) {
		skip(sc, source, NULL, "reply without UID");
		return TRUE;
	}
	if (!from) {
		skip(sc, source, uid, sender ? "the sender is not an ATTENDEE of the reply"
					     : "the reply names no single ATTENDEE");
		return TRUE;
	}
	who = icalproperty_get_attendee(from);
	if (!load_target(sc, uid, rid_of(rev), who, &t, &why, &e)) {
		target_clear(&t);
		if (e) {
			g_propagate_error(err, e);
			return FALSE;
		}
		skip(sc, source, uid, why);
		return TRUE;
	}
	if (!(mine = attendee_in(t.ev, who))) {
		char *m = g_strdup_printf("%s is not an attendee of the stored item", who);

		skip(sc, source, uid, m);
		g_free(m);
		goto out;
	}
	/* the reply's time: its critical change, else its DTSTAMP (T6) */
	acc = icalcomponent_get_first_property(rev, ICAL_X_PROPERTY);
	while (acc && g_ascii_strcasecmp(icalproperty_get_x_name(acc),
					 "X-MICROSOFT-CDO-ATTENDEE-CRITICAL-CHANGE"))
		acc = icalcomponent_get_next_property(rev, ICAL_X_PROPERTY);
	if (!(acc && repair_time_valid(icalproperty_get_value_as_string(acc), &when))) {
		icalproperty *ds = icalcomponent_get_first_property(rev, ICAL_DTSTAMP_PROPERTY);

		if (!(ds && repair_time_valid(icalproperty_get_value_as_string(ds), &when))) {
			skip(sc, source, uid, "the reply has no valid time");
			goto out;
		}
	}
	if (sequence_of(rev) < sequence_of(t.ev)) {
		log_notice("%s: UID %s: stale reply from %s ignored (SEQUENCE %d < %d)",
			   source, uid, who, sequence_of(rev), sequence_of(t.ev));
		sc->st->stale++;
		goto out;
	}
	/* stale when the stored item already records a reply as late: the
	 * item, not the replies table, since an import may have put the
	 * server's older copy of the item back */
	if (repair_time_valid(icalproperty_get_parameter_as_string(mine, "X-REPLYTIME"), &last) &&
	    when <= last) {
		log_notice("%s: UID %s: stale reply from %s ignored (not newer than the item's)",
			   source, uid, who);
		sc->st->stale++;
		goto out;
	}
	partstat = icalproperty_get_parameter_as_string(from, "PARTSTAT");
	none = g_ptr_array_new();
	{
		char *stamp = repair_format_time(when);
		reply_params rp = { partstat ? partstat : "NEEDS-ACTION", stamp };
		store_put_result res;
		gboolean stored = FALSE;
		GBytes *data = ictext_edit_line(t.item->data, t.ordinal, "ATTENDEE",
						icalproperty_get_attendee(mine), 0, set_reply, &rp);

		if (!data)
			data = g_bytes_ref(t.item->data);
		/* the stored item, parsed above, with two parameters of one
		 * line set: checked again only when the PARTSTAT is not a
		 * plain word (a parse of the whole item was a quarter of a
		 * Maildir import) */
		ok = put(sc, source, uid, t.item->calendar_id, t.item->name, FALSE, data,
			 plain_word(partstat) ? none : NULL, NULL, t.item, &res, &stored,
			 err) &&
		     (!stored || store_reply_put(sc->s, sc->cal->mailbox_id, uid, who,
						 when, sequence_of(rev), err));
		if (ok && stored)
			sc->st->replies++;
		g_bytes_unref(data);
		g_free(stamp);
	}
out:
	if (none)
		g_ptr_array_unref(none);
	target_clear(&t);
	return ok;
}

/* EXDATE with the parameters and value of a RECURRENCE-ID property. */
static char *exdate_for(icalcomponent *cev)
{
	icalproperty *rp = icalcomponent_get_first_property(cev, ICAL_RECURRENCEID_PROPERTY);
	char *text = icalproperty_as_ical_string_r(rp);
	char *line = g_strconcat("EXDATE", text + strlen("RECURRENCE-ID"), NULL);

	free(text);
	return g_strchomp(line);
}

/* A CANCEL marks the event (or the occurrence) cancelled: STATUS on the
 * event or override, an EXDATE for an occurrence without override. */
static gboolean apply_cancel(itip *sc, icalcomponent *cev, const char *source,
			     GError **err)
{
	const char *uid = icalcomponent_get_uid(cev), *rid = rid_of(cev), *why;
	icalcomponent *ref;
	GError *e = NULL;
	target t;
	ictext *tx;
	ictext_line *l;
	store_put_result res;
	gboolean ok, stored;
	GBytes *data;

	if (!uid) {
		skip(sc, source, NULL, "cancellation without UID");
		return TRUE;
	}
	if (!load_target(sc, uid, rid, NULL, &t, &why, &e)) {
		if (e) {
			target_clear(&t);
			g_propagate_error(err, e);
			return FALSE;
		}
		/* an occurrence that has no override is excluded from the master */
		if (!t.cal || !rid || !find_event(t.cal, NULL, &t.ordinal)) {
			skip(sc, source, uid, why);
			target_clear(&t);
			return TRUE;
		}
	}
	ref = t.ev ? t.ev : find_event(t.cal, NULL, &t.ordinal);
	if (sequence_of(cev) < sequence_of(ref)) {
		log_notice("%s: UID %s: stale cancellation ignored (lower SEQUENCE)",
			   source, uid);
		sc->st->stale++;
		target_clear(&t);
		return TRUE;
	}
	tx = ictext_parse(t.item->data);
	if (t.ev && (l = ictext_find(tx, t.ordinal, "STATUS", NULL, 0))) {
		ictext_set_value(l, "CANCELLED");
	} else if (t.ev) {
		ictext_add(tx, t.ordinal, "STATUS:CANCELLED");
	} else {
		char *line = exdate_for(cev);

		ictext_add(tx, t.ordinal, line);
		g_free(line);
	}
	data = ictext_serialize(tx);
	ok = put(sc, source, uid, t.item->calendar_id, t.item->name, FALSE, data,
		 NULL, NULL, t.item, &res, &stored, err);
	if (ok && stored)
		*(res == STORE_PUT_UNCHANGED ? &sc->st->unchanged : &sc->st->cancelled) += 1;
	g_bytes_unref(data);
	ictext_free(tx);
	target_clear(&t);
	return ok;
}

static gboolean each_event(itip *sc, icalcomponent *cal, gboolean reply,
			   const char *sender, const char *source, GError **err)
{
	icalcomponent *c;

	for (c = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT); c;
	     c = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT))
		if (!(reply ? apply_reply(sc, c, sender, source, err)
			    : apply_cancel(sc, c, source, err)))
			return FALSE;
	return TRUE;
}

struct itip_object {
	char *closed;		/* what mend_structure added, or NULL */
	GPtrArray *parts;	/* item_part*, or NULL when refused */
	GError *refused;	/* why item_split refused the text */
	GPtrArray *warnings;	/* item_split's tolerated parse errors */
	icalproperty_method method;
	icalcomponent *cal;	/* parsed, for a REPLY or a CANCEL */
};

/* Whether a content line is one that applying a reply or a cancellation
 * reads from it (apply_reply, apply_cancel, replier, exdate_for). */
static gboolean answer_reads(const char *line, gsize len)
{
	static const char *const names[] = {
		"UID", "RECURRENCE-ID", "SEQUENCE", "DTSTAMP", "ATTENDEE",
		"X-MICROSOFT-CDO-ATTENDEE-CRITICAL-CHANGE",
	};

	return ictext_line_named(line, len, names, G_N_ELEMENTS(names), NULL);
}

itip_object *itip_prepare(GBytes *text)
{
	itip_object *o = g_new0(itip_object, 1);
	/* END lines left out (Office 365, Teams): added, said, journaled */
	GBytes *whole = mend_structure(text, &o->closed);
	gsize len;
	const char *data = g_bytes_get_data(whole, &len);
	char *method;

	o->warnings = g_ptr_array_new_with_free_func(g_free);
	o->parts = item_split(data, len, o->warnings, &o->refused);
	if (!o->parts)
		goto out;
	/* the METHOD from the text: libical parses only replies and
	 * cancellations (a file of items was parsed three times more) */
	method = ictext_scan_top(data, len, "METHOD");
	o->method = method ? icalproperty_string_to_method(method) : ICAL_METHOD_NONE;
	g_free(method);
	if (o->method == ICAL_METHOD_REPLY || o->method == ICAL_METHOD_CANCEL) {
		/* only the lines answer_reads() takes: applying reads no
		 * more, and the reply's VTIMEZONE, DESCRIPTION and alarms
		 * were most of its parse */
		GString *lines = ictext_select(data, len, FALSE, answer_reads);

		o->cal = item_parse(lines->str, lines->len);
		g_string_free(lines, TRUE);
		if (!o->cal || icalcomponent_isa(o->cal) != ICAL_VCALENDAR_COMPONENT)
			o->method = ICAL_METHOD_NONE;
	}
out:
	g_bytes_unref(whole);
	return o;
}

void itip_object_free(itip_object *o)
{
	if (!o)
		return;
	if (o->cal)
		icalcomponent_free(o->cal);
	if (o->parts)
		g_ptr_array_unref(o->parts);
	if (o->refused)
		g_error_free(o->refused);
	g_ptr_array_unref(o->warnings);
	g_free(o->closed);
	g_free(o);
}

static gboolean apply(itip *sc, itip_object *o, const char *sender,
		      const char *source, GError **err)
{
	icalproperty_method method = o->method;
	gboolean ok = TRUE;

	if (!o->parts) {
		skip(sc, source, NULL, o->refused->message);
		return TRUE;
	}
	if ((method == ICAL_METHOD_REPLY || method == ICAL_METHOD_CANCEL) &&
	    !icalcomponent_get_first_component(o->cal, ICAL_VEVENT_COMPONENT)) {
		/* free/busy time or a to-do answered: nothing calfs keeps */
		skip(sc, source, NULL, method == ICAL_METHOD_REPLY
		     ? "a REPLY without a VEVENT (free/busy time?): nothing to apply"
		     : "a CANCEL without a VEVENT: nothing to cancel");
	} else switch (method) {
	case ICAL_METHOD_REPLY:
		ok = each_event(sc, o->cal, TRUE, sender, source, err);
		break;
	case ICAL_METHOD_CANCEL:
		ok = each_event(sc, o->cal, FALSE, sender, source, err);
		break;
	default:
		for (guint i = 0; ok && i < o->parts->len; i++)
			ok = store_part(sc, source, o->parts->pdata[i], o->warnings,
					method == ICAL_METHOD_REQUEST, err);
		break;
	}
	return ok;
}

gboolean itip_apply(itip *sc, itip_object *o, const char *sender,
		    const char *source, GError **err)
{
	const char *note = sc->note;
	char *both = NULL;
	gboolean ok;

	if (o->closed) {
		log_notice("%s: %s", source, o->closed);
		sc->note = both = note ? g_strconcat(note, "\n", o->closed, NULL)
				       : g_strdup(o->closed);
	}
	ok = apply(sc, o, sender, source, err);
	sc->note = note;
	g_free(both);
	return ok;
}

gboolean itip_process(itip *sc, GBytes *text, const char *sender,
		       const char *source, GError **err)
{
	itip_object *o = itip_prepare(text);
	gboolean ok = itip_apply(sc, o, sender, source, err);

	itip_object_free(o);
	return ok;
}
