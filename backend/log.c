#include "log.h"
#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

typedef enum { TO_STDERR, TO_SYSLOG, TO_FILE } destination;

static GMutex log_lock;		/* guards the three below and the writes */
static destination dest = TO_STDERR;
static int log_fd = -1;		/* TO_FILE */
static gint verbose;		/* atomic */

void log_use_syslog(void)
{
	g_mutex_lock(&log_lock);
	openlog("calfs", LOG_PID, LOG_DAEMON);
	dest = TO_SYSLOG;
	g_mutex_unlock(&log_lock);
}

gboolean log_use_file(const char *path, GError **err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);

	if (fd < 0) {
		int saved = errno;

		g_set_error(err, CALFS_ERROR, CALFS_ERROR_IO, "log file %s: %s", path,
			    g_strerror(saved));
		return FALSE;
	}
	g_mutex_lock(&log_lock);
	if (log_fd >= 0)
		close(log_fd);
	log_fd = fd;
	dest = TO_FILE;
	g_mutex_unlock(&log_lock);
	return TRUE;
}

void log_close(void)
{
	g_mutex_lock(&log_lock);
	if (dest == TO_SYSLOG)
		closelog();
	if (log_fd >= 0)
		close(log_fd);
	log_fd = -1;
	dest = TO_STDERR;
	g_mutex_unlock(&log_lock);
}

void log_set_verbose(gboolean on)
{
	g_atomic_int_set(&verbose, on);
}

gboolean log_is_verbose(void)
{
	return g_atomic_int_get(&verbose);
}

/* Write one line where messages go: "calfs: " tag msg, or msg alone when
 * tag is NULL (syslog names the program itself). */
static void emit(int prio, const char *tag, const char *msg)
{
	char *text;

	g_mutex_lock(&log_lock);
	text = tag ? g_strdup_printf("%s%s%s", dest == TO_SYSLOG ? "" : "calfs: ", tag, msg)
		   : g_strdup(msg);
	if (dest == TO_SYSLOG) {
		syslog(prio, "%s", text);
	} else if (dest == TO_FILE) {
		GDateTime *now = g_date_time_new_now_utc();
		char *stamp = g_date_time_format(now, "%Y-%m-%dT%H:%M:%SZ");
		char *line = g_strdup_printf("%s %s\n", stamp, text);

		/* one write, O_APPEND: lines of two daemons do not mix */
		if (write(log_fd, line, strlen(line)) < 0) {
			/* nowhere left to say it */
		}
		g_free(line);
		g_free(stamp);
		g_date_time_unref(now);
	} else {
		fprintf(stderr, "%s\n", text);
		fflush(stderr);
	}
	g_mutex_unlock(&log_lock);
	g_free(text);
}

static void log_v(int prio, const char *tag, const char *fmt, va_list ap)
{
	char *msg = g_strdup_vprintf(fmt, ap);

	emit(prio, tag, msg);
	g_free(msg);
}

void log_raw(int priority, const char *fmt, va_list ap)
{
	char *msg = g_strdup_vprintf(fmt, ap);

	g_strchomp(msg);
	emit(priority, NULL, msg);
	g_free(msg);
}

void log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_v(LOG_ERR, "error: ", fmt, ap);
	va_end(ap);
}

void log_warning(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_v(LOG_WARNING, "warning: ", fmt, ap);
	va_end(ap);
}

void log_notice(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_v(LOG_NOTICE, "", fmt, ap);
	va_end(ap);
}

void log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_is_verbose())
		return;
	va_start(ap, fmt);
	log_v(LOG_DEBUG, "debug: ", fmt, ap);
	va_end(ap);
}
