/* driver.c - run a fuzz target over files, without libFuzzer: how make
 * check replays tests/fuzz/regress/ (and any input given) with gcc and
 * the sanitizers of the build.  Exit 0 when every input passed; a
 * broken invariant aborts. */
#include "fuzz.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		char *data = NULL;
		gsize len = 0;
		GError *err = NULL;

		if (!g_file_get_contents(argv[i], &data, &len, &err)) {
			fprintf(stderr, "%s\n", err->message);
			g_error_free(err);
			return 1;
		}
		printf("%s\n", argv[i]);
		fflush(stdout);
		LLVMFuzzerTestOneInput((const uint8_t *)data, len);
		g_free(data);
	}
	return 0;
}
