/* fuzz_conf.c - mount.conf parsing
 *
 * Invariants: a configuration is loaded, or refused with a message that
 * names the file. */
#include "fuzz.h"
#include "conf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("mount.conf", 0);
	char path[64];
	GError *err = NULL;
	conf *c;

	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	c = conf_load(path, &err);
	if (c) {
		FUZZ_REQUIRE(err == NULL, "loaded with an error set");
		conf_free(c);
	} else {
		FUZZ_REQUIRE(err && strstr(err->message, path), "refused without naming the file");
		g_error_free(err);
	}
	close(fd);
	return 0;
}
