/* log.h - one-line messages from the daemon and the commands
 *
 * Messages go to standard error, prefixed "calfs: ", or to syslog once
 * log_use_syslog() was called (a daemon that left its terminal).  Warnings
 * are printed as "calfs: warning: ..."; the tests fail on them, so use
 * log_warning() only for something that went wrong, and log_notice() for
 * expected events such as a refused write.
 */
#ifndef CALFS_LOG_H
#define CALFS_LOG_H

#include <glib.h>

/* log_use_syslog: send messages to syslog (ident "calfs") from now on. */
void log_use_syslog(void);

/* log_set_verbose: also print log_debug() messages when on is TRUE. */
void log_set_verbose(gboolean on);

void log_error(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
void log_warning(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
void log_notice(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
void log_debug(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

#endif
