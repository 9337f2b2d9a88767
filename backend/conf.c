#include "conf.h"
#include "error.h"
#include "store_pg.h"
#include "tzscan.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

static void mailbox_free(gpointer p)
{
	conf_mailbox *m = p;

	g_free(m->name);
	g_free(m->timezone);
	g_free(m);
}

static void shard_free(gpointer p)
{
	conf_shard *sh = p;

	g_free(sh->name);
	g_free(sh->spec);
	g_strfreev(sh->patterns);
	g_free(sh);
}

conf *conf_new_default(void)
{
	conf *c = g_new0(conf, 1);

	c->repair_on_read = TRUE;
	c->repair_on_write = TRUE;
	c->rebase = TRUE;
	c->mailboxes = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
					     mailbox_free);
	c->shards = g_ptr_array_new_with_free_func(shard_free);
	conf_set_store(c, "calfs.db");
	return c;
}

void conf_free(conf *c)
{
	if (!c)
		return;
	g_free(c->file);
	g_free(c->store_path);
	g_free(c->state_dir);
	g_ptr_array_unref(c->shards);
	g_free(c->outbox_path);
	g_hash_table_destroy(c->mailboxes);
	g_free(c);
}

static char *resolve(const char *base_dir, const char *path)
{
	if (g_path_is_absolute(path))
		return g_canonicalize_filename(path, NULL);
	return g_canonicalize_filename(path, base_dir);
}

/* Set the store to spec (a URL, or a path relative to dir); state_dir
 * follows a path, and stays at dir for a URL. */
static void set_store(conf *c, const char *dir, const char *spec)
{
	g_free(c->store_path);
	g_free(c->state_dir);
	c->store_is_url = pgstore_is_url(spec);
	if (c->store_is_url) {
		c->store_path = g_strdup(spec);
		c->state_dir = g_strdup(dir);
	} else {
		c->store_path = resolve(dir, spec);
		c->state_dir = g_path_get_dirname(c->store_path);
	}
}

void conf_set_store(conf *c, const char *spec)
{
	char *cwd = g_get_current_dir();
	char *abs = c->file ? g_canonicalize_filename(c->file, cwd) : NULL;
	/* a server's state goes beside the mount.conf, as for url= */
	char *dir = abs && pgstore_is_url(spec) ? g_path_get_dirname(abs) : NULL;

	set_store(c, dir ? dir : cwd, spec);
	g_free(dir);
	g_free(abs);
	g_free(cwd);
}

char *conf_store_name(const conf *c)
{
	return c->store_is_url ? pgstore_redact(c->store_path)
			       : g_strdup(c->store_path);
}

char *conf_state_file(const conf *c, const char *name)
{
	return g_build_filename(c->state_dir, name, NULL);
}

char *conf_failed_file(const conf *c)
{
	return c->store_is_url ? conf_state_file(c, "calfs.failed")
			       : g_strconcat(c->store_path, ".failed", NULL);
}

char *conf_outbox(const conf *c, const char *mailbox)
{
	const conf_mailbox *m = conf_mailbox_get(c, mailbox);
	char *dir, *path;

	if (m && m->suppress_updates)
		return NULL;
	if (c->outbox_path)
		return g_build_filename(c->outbox_path, mailbox, NULL);
	dir = conf_state_file(c, "outbox");
	path = g_build_filename(dir, mailbox, NULL);
	g_free(dir);
	return path;
}

const conf_mailbox *conf_mailbox_get(const conf *c, const char *name)
{
	return g_hash_table_lookup(c->mailboxes, name);
}

/* The line (1-based) where key is set in group, or where the group starts
 * when key is NULL; 0 when not found.  GKeyFile does not keep line numbers,
 * so they are found again in the text. */
static int line_of(char **lines, const char *group, const char *key)
{
	gboolean in_group = FALSE;

	for (int i = 0; lines[i]; i++) {
		char *l = g_strstrip(g_strdup(lines[i]));
		int hit = 0;

		if (l[0] == '[') {
			size_t n = strlen(l);

			in_group = n >= 2 && l[n - 1] == ']' &&
				   strlen(group) == n - 2 &&
				   strncmp(l + 1, group, n - 2) == 0;
			hit = in_group && !key;
		} else if (in_group && key) {
			char *eq = strchr(l, '=');

			if (eq) {
				char *k = g_strstrip(g_strndup(l, eq - l));

				hit = strcmp(k, key) == 0;
				g_free(k);
			}
		}
		g_free(l);
		if (hit)
			return i + 1;
	}
	return 0;
}

typedef struct {
	const char *file;
	char **lines;
	GKeyFile *kf;
} reader;

static gboolean fail(reader *r, GError **err, const char *group,
		     const char *key, const char *fmt, ...) G_GNUC_PRINTF(5, 6);

static gboolean fail(reader *r, GError **err, const char *group,
		     const char *key, const char *fmt, ...)
{
	va_list ap;
	char *why;

	va_start(ap, fmt);
	why = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	if (key)
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_CONFIG,
			    "%s:%d: [%s] %s: %s", r->file,
			    line_of(r->lines, group, key), group, key, why);
	else
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_CONFIG,
			    "%s:%d: [%s]: %s", r->file,
			    line_of(r->lines, group, NULL), group, why);
	g_free(why);
	return FALSE;
}

static gboolean get_bool(reader *r, const char *group, const char *key,
			 gboolean *out, GError **err)
{
	char *v;

	if (!g_key_file_has_key(r->kf, group, key, NULL))
		return TRUE;
	v = g_key_file_get_value(r->kf, group, key, NULL);
	g_strstrip(v);
	if (!g_ascii_strcasecmp(v, "true") || !strcmp(v, "1") ||
	    !g_ascii_strcasecmp(v, "yes"))
		*out = TRUE;
	else if (!g_ascii_strcasecmp(v, "false") || !strcmp(v, "0") ||
		 !g_ascii_strcasecmp(v, "no"))
		*out = FALSE;
	else {
		fail(r, err, group, key, "'%s' is not true or false", v);
		g_free(v);
		return FALSE;
	}
	g_free(v);
	return TRUE;
}

static gboolean check_keys(reader *r, const char *group,
			   const char *const *allowed, GError **err)
{
	gsize n;
	char **keys = g_key_file_get_keys(r->kf, group, &n, NULL);
	gboolean ok = TRUE;

	for (gsize i = 0; ok && i < n; i++)
		if (!g_strv_contains(allowed, keys[i]))
			ok = fail(r, err, group, keys[i], "unknown key");
	g_strfreev(keys);
	return ok;
}

static gboolean parse_time(const char *text, gint64 *out)
{
	GDateTime *dt;
	GTimeZone *utc = g_time_zone_new_utc();

	dt = g_date_time_new_from_iso8601(text, utc);
	if (!dt) {
		/* a bare date: 2007-03-11 */
		char *full = g_strconcat(text, "T00:00:00Z", NULL);

		dt = g_date_time_new_from_iso8601(full, utc);
		g_free(full);
	}
	g_time_zone_unref(utc);
	if (!dt)
		return FALSE;
	*out = g_date_time_to_unix(dt);
	g_date_time_unref(dt);
	return TRUE;
}

static gboolean read_policy(reader *r, conf *c, GError **err)
{
	static const char *const keys[] = {
		"repair_on_read", "repair_on_write", "rebase",
		"recurring_only", "created_before", "report_only", NULL
	};
	const char *g = "policy";
	char *v;

	if (!g_key_file_has_group(r->kf, g))
		return TRUE;
	if (!check_keys(r, g, keys, err) ||
	    !get_bool(r, g, "repair_on_read", &c->repair_on_read, err) ||
	    !get_bool(r, g, "repair_on_write", &c->repair_on_write, err) ||
	    !get_bool(r, g, "rebase", &c->rebase, err) ||
	    !get_bool(r, g, "recurring_only", &c->recurring_only, err) ||
	    !get_bool(r, g, "report_only", &c->report_only, err))
		return FALSE;
	v = g_key_file_get_value(r->kf, g, "created_before", NULL);
	if (v && *g_strstrip(v) && !parse_time(v, &c->created_before)) {
		fail(r, err, g, "created_before",
		     "'%s' is not a date (2007-03-11) or an ISO 8601 time", v);
		g_free(v);
		return FALSE;
	}
	g_free(v);
	return TRUE;
}

static gboolean read_owner(reader *r, const char *g, conf_mailbox *m,
			   GError **err)
{
	char *owner = g_key_file_get_value(r->kf, g, "owner", NULL);
	char *group = g_key_file_get_value(r->kf, g, "group", NULL);
	gboolean ok = TRUE;
	char *end;

	if (owner && *g_strstrip(owner)) {
		struct passwd *pw = getpwnam(owner);
		unsigned long n = strtoul(owner, &end, 10);

		m->has_owner = TRUE;
		if (pw)
			m->uid = pw->pw_uid;
		else if (*end == '\0' && end != owner)
			m->uid = n;
		else
			ok = fail(r, err, g, "owner", "no user '%s'", owner);
	}
	if (ok && group && *g_strstrip(group)) {
		struct group *gr = getgrnam(group);
		unsigned long n = strtoul(group, &end, 10);

		m->has_group = TRUE;
		if (gr)
			m->gid = gr->gr_gid;
		else if (*end == '\0' && end != group)
			m->gid = n;
		else
			ok = fail(r, err, g, "group", "no group '%s'", group);
	}
	g_free(owner);
	g_free(group);
	return ok;
}

static gboolean read_mailbox(reader *r, conf *c, const char *g, GError **err)
{
	static const char *const keys[] = {
		"timezone", "owner", "group", "suppress_updates", NULL
	};
	conf_mailbox *m;
	const char *name = g + strlen("mailbox ");

	while (*name == ' ')
		name++;
	if (!*name || strchr(name, '/') || name[0] == '.')
		return fail(r, err, g, NULL, "not a mailbox name");
	if (!check_keys(r, g, keys, err))
		return FALSE;
	m = g_new0(conf_mailbox, 1);
	m->name = g_strdup(name);
	m->timezone = g_key_file_get_value(r->kf, g, "timezone", NULL);
	if (m->timezone && !*g_strstrip(m->timezone))
		g_clear_pointer(&m->timezone, g_free);
	if (m->timezone && !tzscan_zone_valid(m->timezone)) {
		fail(r, err, g, "timezone", "'%s' is not a tzdata zone", m->timezone);
		mailbox_free(m);
		return FALSE;
	}
	if (!read_owner(r, g, m, err) ||
	    !get_bool(r, g, "suppress_updates", &m->suppress_updates, err)) {
		mailbox_free(m);
		return FALSE;
	}
	g_hash_table_replace(c->mailboxes, m->name, m);
	return TRUE;
}

/* The store of a [store] or [shard] group: path= or url=, not both;
 * NULL with nothing set and not required. */
static char *read_spec(reader *r, const char *g, gboolean required, GError **err)
{
	char *path = g_key_file_get_value(r->kf, g, "path", NULL);
	char *url = g_key_file_get_value(r->kf, g, "url", NULL);
	char *spec = NULL;

	if (path)
		g_strstrip(path);
	if (url)
		g_strstrip(url);
	if (path && url)
		fail(r, err, g, "url", "give path= (SQLite) or url= (PostgreSQL), not both");
	else if (path && !*path)
		fail(r, err, g, "path", "empty");
	else if (url && !pgstore_is_url(url))
		fail(r, err, g, "url", "'%s' is not a postgresql:// URL", url);
	else if (path)
		spec = g_steal_pointer(&path);
	else if (url)
		spec = g_steal_pointer(&url);
	else if (required)
		fail(r, err, g, NULL, "no path= or url=");
	g_free(path);
	g_free(url);
	return spec;
}

static gboolean read_store(reader *r, conf *c, const char *dir, GError **err)
{
	GError *e = NULL;
	char *spec = read_spec(r, "store", FALSE, &e);

	if (e) {
		g_propagate_error(err, e);
		return FALSE;
	}
	if (spec)
		set_store(c, dir, spec);
	g_free(spec);
	return TRUE;
}

static gboolean read_shard(reader *r, conf *c, const char *g, GError **err)
{
	static const char *const keys[] = { "path", "url", "mailboxes", NULL };
	const char *name = g + strlen("shard ");
	conf_shard *sh;
	char **pats;
	gsize n = 0;

	if (!*name || strchr(name, '/'))
		return fail(r, err, g, NULL, "not a shard name");
	if (!check_keys(r, g, keys, err))
		return FALSE;
	pats = g_key_file_get_string_list(r->kf, g, "mailboxes", &n, NULL);
	for (gsize i = 0; i < n; i++)
		g_strstrip(pats[i]);
	if (!n || !*pats[0]) {
		g_strfreev(pats);
		return fail(r, err, g, NULL, "no mailboxes= patterns");
	}
	sh = g_new0(conf_shard, 1);
	sh->name = g_strdup(name);
	sh->patterns = pats;
	if (!(sh->spec = read_spec(r, g, TRUE, err))) {
		shard_free(sh);
		return FALSE;
	}
	g_ptr_array_add(c->shards, sh);
	return TRUE;
}

/* GKeyFile's parse errors carry no line number: find the first line that is
 * not blank, a comment, a group or a key=value pair. */
static gboolean check_syntax(reader *r, GError **err)
{
	for (int i = 0; r->lines[i]; i++) {
		char *l = g_strstrip(g_strdup(r->lines[i]));
		gboolean ok = !*l || *l == '#' || *l == ';' ||
			      (*l == '[' && l[strlen(l) - 1] == ']') ||
			      (strchr(l, '=') && *l != '=');

		if (!ok) {
			g_set_error(err, CALFS_ERROR, CALFS_ERROR_CONFIG,
				    "%s:%d: not a [group], key=value or comment: '%s'",
				    r->file, i + 1, l);
			g_free(l);
			return FALSE;
		}
		g_free(l);
	}
	return TRUE;
}

conf *conf_load(const char *path, GError **err)
{
	reader r = { .file = path };
	conf *c = conf_new_default();
	char *text = NULL, *dir = NULL, *v;
	char **groups = NULL;
	GError *e = NULL;
	gsize len;

	if (!g_file_get_contents(path, &text, &len, &e)) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_IO, "%s: %s", path,
			    e->message);
		g_error_free(e);
		goto fail;
	}
	r.lines = g_strsplit(text, "\n", -1);
	if (!check_syntax(&r, err))
		goto fail;
	r.kf = g_key_file_new();
	if (!g_key_file_load_from_data(r.kf, text, len, G_KEY_FILE_NONE, &e)) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_CONFIG, "%s: %s",
			    path, e->message);
		g_error_free(e);
		goto fail;
	}
	c->file = g_strdup(path);
	groups = g_key_file_get_groups(r.kf, NULL);
	for (int i = 0; groups[i]; i++) {
		const char *g = groups[i];

		if (!strcmp(g, "store")) {
			static const char *const keys[] = { "path", "url", "outbox", NULL };

			if (!check_keys(&r, g, keys, err))
				goto fail;
		} else if (g_str_has_prefix(g, "shard ")) {
			if (!read_shard(&r, c, g, err))
				goto fail;
		} else if (!strcmp(g, "policy")) {
			if (!read_policy(&r, c, err))
				goto fail;
		} else if (g_str_has_prefix(g, "mailbox ")) {
			if (!read_mailbox(&r, c, g, err))
				goto fail;
		} else {
			fail(&r, err, g, NULL, "unknown group");
			goto fail;
		}
	}
	{
		char *abs = g_canonicalize_filename(path, NULL);

		dir = g_path_get_dirname(abs);
		g_free(abs);
	}
	v = g_key_file_get_value(r.kf, "store", "outbox", NULL);
	if (v && *g_strstrip(v))
		c->outbox_path = resolve(dir, v);
	g_free(v);
	if (!read_store(&r, c, dir, err))
		goto fail;
	for (guint i = 0; i < c->shards->len; i++) {
		conf_shard *sh = c->shards->pdata[i];

		if (!pgstore_is_url(sh->spec)) {
			char *abs = resolve(dir, sh->spec);

			g_free(sh->spec);
			sh->spec = abs;
		}
	}
	g_free(dir);
	g_strfreev(groups);
	g_key_file_free(r.kf);
	g_strfreev(r.lines);
	g_free(text);
	return c;
fail:
	g_free(dir);
	g_strfreev(groups);
	if (r.kf)
		g_key_file_free(r.kf);
	g_strfreev(r.lines);
	g_free(text);
	conf_free(c);
	return NULL;
}
