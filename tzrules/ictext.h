/* ictext.h - iCalendar text as content lines, edited line by line
 *
 * Repairs must change nothing but the lines they repair: no refolding,
 * no reordering, no dropped properties.  An ictext keeps every content
 * line's original bytes (folds and line ending included); only lines that
 * are changed or added are serialized again, folded at 75 octets with the
 * document's own line ending.
 *
 * Lines are addressed like the repair module addresses properties: by
 * the ordinal of the item component (VEVENT, VTODO, VJOURNAL directly in
 * the VCALENDAR, in document order, from 0) and the property's name.
 */
#ifndef CALFS_ICTEXT_H
#define CALFS_ICTEXT_H

#include <glib.h>
#include <libical/ical.h>

typedef struct ictext ictext;
typedef struct ictext_line ictext_line;

/* ictext_write_component: c as text, as icalcomponent_as_ical_string_r
 * writes it, with libical 3.0's broken fold mended: a value that ends
 * where a continuation line ends gets a fold between its line's CR and LF
 * ("\r\r\n \n"), a lone CR and a lone LF.  NULL when libical cannot
 * write c; free() the result. */
char *ictext_write_component(icalcomponent *c);

/* ictext_append_folded: append the content line text (unfolded, without
 * line ending) to out, folded at 75 octets (never inside a UTF-8
 * sequence), each physical line ended with eol. */
void ictext_append_folded(GString *out, const char *text, const char *eol);

/* ictext_logical_line: the content line of s (len bytes) that starts at
 * offset i, appended to u without its line ending: physical lines joined
 * while the next one starts with a space or a tab, which is dropped, as
 * libical unfolds them.  Returns the offset after it (len at the end). */
gsize ictext_logical_line(const char *s, gsize len, gsize i, GString *u);

/* ictext_parse: split data into content lines.  Never fails: lines that
 * are not content lines are kept as they are.  Free with ictext_free(). */
ictext *ictext_parse(GBytes *data);
void ictext_free(ictext *t);

/* One item of a file split by ictext_split. */
typedef struct {
	char *uid;
	GBytes *data;
	gboolean made_uid;	/* its components had no UID: uid is made
				 * from their content ("calfs-...") */
} ictext_part;

void ictext_part_free(ictext_part *p);

/* ictext_split: the items of data, which may hold any number of
 * VCALENDARs and UIDs: one per UID, in order of first appearance, each
 * made of the lines it came with, byte for byte: its VCALENDAR's BEGIN
 * and property lines, the VTIMEZONEs its components use (the first one
 * of each TZID), its components, END:VCALENDAR (added when the file has
 * none).  A component without UID (Exchange 2010 OWA, Outlook "Save
 * as") gets one made from its DTSTART, SUMMARY, ORGANIZER and
 * RECURRENCE-ID ("calfs-" and their hash; "-2" on a second alike), its
 * line put after its BEGIN.  A GPtrArray of ictext_part* (free with
 * g_ptr_array_unref), or NULL with *why set (newly allocated) when there
 * is no item component at all.  The parts are not validated. */
GPtrArray *ictext_split(GBytes *data, char **why);

/* ictext_scan_top: the value of the first property called name
 * (case-insensitive) directly in a VCALENDAR of data (len bytes), read as
 * ictext_parse reads lines: the value of the line that
 * ictext_find(t, -1, name, NULL, 0) finds in the parse of the same bytes,
 * or NULL.  One pass, without the parse's tree of lines: for a question
 * such as a file's METHOD.  Newly allocated. */
char *ictext_scan_top(const char *data, gsize len, const char *name);

/* ictext_unescape: a TEXT value as libical 3.0 reads it: "\n" "\t" "\r"
 * "\b" "\f" (either case) the characters they name, "\;" "\," "\"" "\\"
 * the character escaped, any other escape a space, a backslash at the end
 * nothing.  Newly allocated. */
char *ictext_unescape(const char *value);

/* ictext_find: the n-th (from 0) property called name (case-insensitive)
 * directly in item component comp (comp -1: the VCALENDAR itself), or NULL;
 * lines with an empty value are not counted, as libical drops them.
 * With value not NULL, only lines whose value equals it case-insensitively
 * count (an ATTENDEE by its address).  Owned by t. */
ictext_line *ictext_find(ictext *t, int comp, const char *name,
			 const char *value, int n);

/* ictext_edit_line: data with one line edited: the line that
 * ictext_find(t, comp, name, value, n) finds in ictext_parse(data), given
 * to edit (with ictext_set_param, ictext_set_value; not kept), and the
 * rest byte for byte, as ictext_serialize writes it.  One pass, without
 * the parse's tree of lines.  data itself (a reference) when edit changed
 * nothing, NULL when there is no such line. */
typedef void (*ictext_edit_fn)(ictext_line *l, gpointer user);
GBytes *ictext_edit_line(GBytes *data, int comp, const char *name, const char *value,
			 int n, ictext_edit_fn edit, gpointer user);

/* ictext_find_at: like ictext_find, at a given depth of nesting: 2 for
 * the properties of an item component, 3 for those of its VALARMs. */
ictext_line *ictext_find_at(ictext *t, int comp, int depth, const char *name,
			    const char *value, int n);

/* ictext_find_in: the n-th (from 0) property called name directly in a
 * component of kind kind ("VTIMEZONE") of the VCALENDAR, counted over
 * all such components in document order, or NULL.  Owned by t. */
ictext_line *ictext_find_in(ictext *t, const char *kind, const char *name, int n);

/* ictext_drop_nameless_vtimezones: remove every VTIMEZONE that has no
 * TZID property (no item can name it); the number removed. */
int ictext_drop_nameless_vtimezones(ictext *t);

/* ictext_line_named: whether the content line at line (len bytes) is
 * called one of the n names (written in upper case; the line's case does
 * not matter); *head (when not NULL) gets the length of its name and
 * parameters, up to its value's ':'. */
gboolean ictext_line_named(const char *line, gsize len, const char *const *names,
			   gsize n, gsize *head);

/* ictext_select: the part of text that a reader of a few properties
 * needs parsed: the BEGIN and END lines of the VCALENDAR and of its
 * components, the VTIMEZONEs whole when vtimezones is TRUE, and of the
 * VCALENDAR's own lines and of each item component's the lines keep()
 * takes (line and len as ictext_line_named takes them; unfolded when a
 * fold cuts their name or parameters), with their continuations; nested
 * components (alarms) are left out.  All of text, when a BEGIN or END
 * line has parameters or is folded (libical nests by the name alone).
 * Parsing an item's attendees and descriptions is most of the time of a
 * parse that wants neither; libical compares an X- name (Outlook's
 * X-MS-OLK lines) with a hundred others.  Newly allocated. */
GString *ictext_select(const char *text, gsize len, gboolean vtimezones,
		       gboolean (*keep)(const char *line, gsize len));

/* ictext_select_with: ictext_select, where keep is also given data and
 * whether the line goes on past the len bytes it is given: partial is
 * TRUE when a fold cuts its value (the name and parameters are whole, a
 * fold there is unfolded), so that a keep that looks at values keeps what
 * it cannot see whole. */
typedef gboolean (*ictext_keep_fn)(const char *line, gsize len, gboolean partial,
				   gpointer data);
GString *ictext_select_with(const char *text, gsize len, gboolean vtimezones,
			    ictext_keep_fn keep, gpointer data);

/* Where a VTIMEZONE is: in the text, and in the lines ictext_select
 * returned (the same bytes). */
typedef struct {
	gsize at, len;		/* its BEGIN to its END line, line ending included */
	gsize out_at;
} ictext_span;

/* ictext_select_vtimezones: ictext_select with the VTIMEZONEs, appending
 * to spans (a GArray of ictext_span) where each one is; none when the
 * whole text is returned. */
GString *ictext_select_vtimezones(const char *text, gsize len,
				  gboolean (*keep)(const char *line, gsize len), GArray *spans);

/* ictext_n_items: the number of item components (VEVENT, VTODO,
 * VJOURNAL directly in the VCALENDAR). */
int ictext_n_items(ictext *t);

/* ictext_replace_vtimezone: put block (complete lines, any line ending) in
 * place of the VTIMEZONE whose TZID is tzid (unescaped); when there is
 * none, before the first item component.  FALSE when there is neither. */
gboolean ictext_replace_vtimezone(ictext *t, const char *tzid, const char *block);


/* ictext_line_value: the line's value, unfolded (owned by the line). */
const char *ictext_line_value(ictext_line *l);

/* ictext_line_param: the value of parameter name (unquoted; newly
 * allocated), or NULL when the line has none. */
char *ictext_line_param(ictext_line *l, const char *name);

/* ictext_set_value: give the line a new value; its name and parameters
 * stay as they were. */
void ictext_set_value(ictext_line *l, const char *value);

/* ictext_set_param: set parameter name to value (NULL removes it); the
 * other parameters keep their text and order.  A new parameter goes
 * last. */
void ictext_set_param(ictext_line *l, const char *name, const char *value);

/* ictext_remove: drop the line. */
void ictext_remove(ictext_line *l);

/* ictext_add: add the content line text (unfolded, without line ending)
 * at the end of item component comp, before its END line.  FALSE when
 * there is no such component. */
gboolean ictext_add(ictext *t, int comp, const char *text);

/* ictext_changed: whether anything was changed. */
gboolean ictext_changed(const ictext *t);

/* ictext_serialize: the text with the changes made.  A new reference. */
GBytes *ictext_serialize(ictext *t);

#endif
