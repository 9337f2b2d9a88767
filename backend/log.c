#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

static gboolean use_syslog;
static gboolean verbose;
static GMutex log_lock;

void log_use_syslog(void)
{
	openlog("calfs", LOG_PID, LOG_DAEMON);
	use_syslog = TRUE;
}

void log_set_verbose(gboolean on)
{
	verbose = on;
}

static void log_v(int prio, const char *tag, const char *fmt, va_list ap)
{
	char *msg = g_strdup_vprintf(fmt, ap);

	if (use_syslog) {
		syslog(prio, "%s%s", tag, msg);
	} else {
		g_mutex_lock(&log_lock);
		fprintf(stderr, "calfs: %s%s\n", tag, msg);
		fflush(stderr);
		g_mutex_unlock(&log_lock);
	}
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

	if (!verbose)
		return;
	va_start(ap, fmt);
	log_v(LOG_DEBUG, "debug: ", fmt, ap);
	va_end(ap);
}
