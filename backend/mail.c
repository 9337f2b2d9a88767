#include "mail.h"
#include "error.h"

#include <fcntl.h>
#include <string.h>

gboolean mail_is_maildir(const char *path)
{
	char *cur = g_build_filename(path, "cur", NULL);
	char *new = g_build_filename(path, "new", NULL);
	gboolean yes = g_file_test(cur, G_FILE_TEST_IS_DIR) ||
		       g_file_test(new, G_FILE_TEST_IS_DIR);

	g_free(cur);
	g_free(new);
	return yes;
}

/* The first bytes of a file, NUL-terminated; "" when unreadable. */
static void head(const char *path, char *buf, gsize size)
{
	FILE *f = fopen(path, "rb");
	gsize n = 0;

	if (f) {
		n = fread(buf, 1, size - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
}

gboolean mail_is_mbox(const char *path)
{
	char buf[8];

	if (!g_file_test(path, G_FILE_TEST_IS_REGULAR))
		return FALSE;
	head(path, buf, sizeof(buf));
	return g_str_has_prefix(buf, "From ");
}

gboolean mail_is_message(const char *path)
{
	char buf[256];
	const char *colon;

	if (!g_file_test(path, G_FILE_TEST_IS_REGULAR) ||
	    g_str_has_suffix(path, ".ics"))
		return FALSE;
	head(path, buf, sizeof(buf));
	if (g_str_has_prefix(buf, "BEGIN:"))
		return FALSE;
	/* a header name: printable characters up to a colon */
	colon = strchr(buf, ':');
	if (!colon || colon == buf)
		return FALSE;
	for (const char *p = buf; p < colon; p++)
		if (*p <= ' ' || *p > '~')
			return FALSE;
	return TRUE;
}

/* One message file, read whole: GMime's parser keeps each part's content
 * as a window on its stream, and decoding a window of a file stream
 * seeks and reads the file again (six lseek and four read calls for each
 * message of a Maildir of replies, where one read does). */
static gboolean parse_file(const char *path, const char *where, mail_fn fn,
			   gpointer data)
{
	GError *e = NULL;
	char *text;
	gsize len;
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *msg;
	gboolean go;

	if (!g_file_get_contents(path, &text, &len, &e)) {
		go = fn(NULL, where, e->message, data);
		g_error_free(e);
		return go;
	}
	stream = g_mime_stream_mem_new_with_byte_array(g_byte_array_new_take((guint8 *)text,
									     len));
	parser = g_mime_parser_new_with_stream(stream);
	msg = g_mime_parser_construct_message(parser, NULL);
	go = fn(msg, where, msg ? NULL : "not a mail message", data);
	if (msg)
		g_object_unref(msg);
	g_object_unref(parser);
	g_object_unref(stream);
	return go;
}

static gint by_name(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static gboolean maildir_foreach(const char *path, mail_fn fn, gpointer data,
				GError **err)
{
	static const char *const subdirs[] = { "cur", "new" };
	gboolean go = TRUE;

	for (gsize i = 0; go && i < G_N_ELEMENTS(subdirs); i++) {
		char *dir = g_build_filename(path, subdirs[i], NULL);
		GDir *d = g_dir_open(dir, 0, NULL);
		GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
		const char *n;

		while (d && (n = g_dir_read_name(d)))
			if (n[0] != '.')
				g_ptr_array_add(names, g_build_filename(dir, n, NULL));
		if (d)
			g_dir_close(d);
		g_ptr_array_sort(names, by_name);
		for (guint k = 0; go && k < names->len; k++)
			go = parse_file(names->pdata[k], names->pdata[k], fn, data);
		g_ptr_array_unref(names);
		g_free(dir);
	}
	if (!go)
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_IO, "%s: stopped", path);
	return go;
}

static gboolean mbox_foreach(const char *path, mail_fn fn, gpointer data,
			     GError **err)
{
	GError *e = NULL;
	GMimeStream *stream = g_mime_stream_fs_open(path, O_RDONLY, 0, &e);
	GMimeParser *parser;
	gboolean go = TRUE;

	if (!stream) {
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_IO, "%s: %s", path,
			    e->message);
		g_error_free(e);
		return FALSE;
	}
	parser = g_mime_parser_new_with_stream(stream);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MBOX);
	while (go && !g_mime_parser_eos(parser)) {
		gint64 offset = g_mime_parser_tell(parser);
		char *where = g_strdup_printf("%s:%" G_GINT64_FORMAT, path, offset);
		GMimeMessage *msg = g_mime_parser_construct_message(parser, NULL);

		if (!msg && g_mime_parser_tell(parser) == offset) {
			/* no progress: the rest is not mbox */
			go = fn(NULL, where, "not an mbox message", data);
			g_free(where);
			break;
		}
		go = fn(msg, where, msg ? NULL : "not a mail message", data);
		if (msg)
			g_object_unref(msg);
		g_free(where);
	}
	g_object_unref(parser);
	g_object_unref(stream);
	if (!go)
		g_set_error(err, CALFS_ERROR, CALFS_ERROR_IO, "%s: stopped", path);
	return go;
}

gboolean mail_foreach(const char *path, mail_fn fn, gpointer data, GError **err)
{
	if (mail_is_maildir(path))
		return maildir_foreach(path, fn, data, err);
	if (mail_is_mbox(path))
		return mbox_foreach(path, fn, data, err);
	if (g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
		if (!parse_file(path, path, fn, data)) {
			g_set_error(err, CALFS_ERROR, CALFS_ERROR_IO, "%s: stopped", path);
			return FALSE;
		}
		return TRUE;
	}
	g_set_error(err, CALFS_ERROR, CALFS_ERROR_IO,
		    "%s: not a Maildir, an mbox or a message", path);
	return FALSE;
}

static gboolean is_calendar(GMimeObject *part)
{
	GMimeContentType *ct = g_mime_object_get_content_type(part);

	return g_mime_content_type_is_type(ct, "text", "calendar") ||
	       g_mime_content_type_is_type(ct, "application", "ics");
}

/* The decoded, UTF-8 content of a part. */
static GBytes *part_text(GMimePart *part)
{
	GMimeDataWrapper *content = g_mime_part_get_content(part);
	const char *charset = g_mime_object_get_content_type_parameter(GMIME_OBJECT(part),
								       "charset");
	GMimeStream *mem = g_mime_stream_mem_new();
	GMimeStream *out = mem;
	GByteArray *bytes;
	GBytes *b;

	if (!content) {
		g_object_unref(mem);
		return g_bytes_new(NULL, 0);
	}
	if (charset && g_ascii_strcasecmp(g_mime_charset_canon_name(charset), "UTF-8") &&
	    g_ascii_strcasecmp(charset, "us-ascii")) {
		GMimeFilter *f = g_mime_filter_charset_new(charset, "UTF-8");

		if (f) {
			out = g_mime_stream_filter_new(mem);
			g_mime_stream_filter_add(GMIME_STREAM_FILTER(out), f);
			g_object_unref(f);
		}
	}
	g_mime_data_wrapper_write_to_stream(content, out);
	g_mime_stream_flush(out);
	if (out != mem)
		g_object_unref(out);
	bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	b = g_bytes_new(bytes->data, bytes->len);
	g_object_unref(mem);
	return b;
}

static void walk(GMimeObject *obj, GPtrArray *out, int depth)
{
	if (!obj || depth > 32)
		return;
	if (GMIME_IS_MULTIPART(obj)) {
		GMimeMultipart *mp = GMIME_MULTIPART(obj);

		for (int i = 0; i < g_mime_multipart_get_count(mp); i++)
			walk(g_mime_multipart_get_part(mp, i), out, depth + 1);
	} else if (GMIME_IS_MESSAGE_PART(obj)) {
		GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));

		if (m)
			walk(g_mime_message_get_mime_part(m), out, depth + 1);
	} else if (GMIME_IS_PART(obj) && is_calendar(obj)) {
		g_ptr_array_add(out, part_text(GMIME_PART(obj)));
	}
}

GPtrArray *mail_calendar_parts(GMimeMessage *message)
{
	GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);

	walk(g_mime_message_get_mime_part(message), out, 0);
	return out;
}

char *mail_sender(GMimeMessage *message)
{
	InternetAddressList *from = g_mime_message_get_from(message);

	for (int i = 0; from && i < internet_address_list_length(from); i++) {
		InternetAddress *a = internet_address_list_get_address(from, i);

		if (INTERNET_ADDRESS_IS_MAILBOX(a))
			return g_strdup(internet_address_mailbox_get_addr(
				INTERNET_ADDRESS_MAILBOX(a)));
	}
	return NULL;
}
