/* log.h - one-line messages from the daemon and the commands
 *
 * Messages go to standard error, prefixed "calfs: ", until a daemon that
 * left its terminal sends them to syslog (log_use_syslog) or to a file
 * of its own (log_use_file, -o logfile=).  Warnings are printed as
 * "calfs: warning: ..."; the tests fail on them, so use log_warning()
 * only for something that went wrong, and log_notice() for expected
 * events such as a refused write.  Debug messages (log_debug) are
 * printed only once log_set_verbose(TRUE) was called (calfs mount -d).
 * Every function may be called from any thread.
 */
#ifndef CALFS_LOG_H
#define CALFS_LOG_H

#include <glib.h>
#include <stdarg.h>

/* log_use_syslog: send messages to syslog (ident "calfs") from now on.
 * Call after the daemon forked: the connection to syslog is the
 * daemon's own. */
void log_use_syslog(void);

/* log_use_file: append messages to path from now on, each line with its
 * time (UTC).  FALSE with err set (CALFS_ERROR_IO) when path cannot be
 * opened; messages then keep going where they went. */
gboolean log_use_file(const char *path, GError **err);

/* log_set_verbose: also print log_debug() messages when on is TRUE. */
void log_set_verbose(gboolean on);

/* log_is_verbose: whether log_debug() prints (to skip making a message). */
gboolean log_is_verbose(void);

/* log_close: back to standard error, closing a log file or syslog. */
void log_close(void);

void log_error(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
void log_warning(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
void log_notice(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
void log_debug(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

/* log_raw: a message made elsewhere (libfuse's), as it is, at a syslog
 * priority (LOG_ERR ...); fmt ends with a newline or not. */
void log_raw(int priority, const char *fmt, va_list ap) G_GNUC_PRINTF(2, 0);

#endif
