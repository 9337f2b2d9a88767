/* parsecount.c - LD_PRELOAD shim: each libical parse of a string (what
 * calfs's item_parse does) appends one byte to the file CALFS_PARSE_LOG
 * names, so that a test counts the parses a write or a read costs; with
 * CALFS_PARSE_TRACE set, the caller's stack goes to standard error. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <execinfo.h>
#include <fcntl.h>
#include <libical/ical.h>
#include <stdlib.h>
#include <unistd.h>

icalcomponent *icalparser_parse_string(const char *str);

icalcomponent *icalparser_parse_string(const char *str)
{
	static icalcomponent *(*real)(const char *);
	static int fd = -2;

	if (!real)
		real = (icalcomponent *(*)(const char *))dlsym(RTLD_NEXT,
							       "icalparser_parse_string");
	if (fd == -2) {
		const char *path = getenv("CALFS_PARSE_LOG");

		fd = path ? open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644) : -1;
	}
	if (fd >= 0 && write(fd, "p", 1) != 1)
		fd = -1;
	if (getenv("CALFS_PARSE_TRACE")) {
		void *frames[16];

		backtrace_symbols_fd(frames, backtrace(frames, 16), 2);
		(void)!write(2, "--\n", 3);
	}
	return real(str);
}
