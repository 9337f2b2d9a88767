/* fuzz.h - what the libFuzzer targets share */
#ifndef CALFS_FUZZ_H
#define CALFS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A finding: an invariant of calfs that the input broke.  Aborts, so
 * that libFuzzer saves the input. */
#define FUZZ_REQUIRE(cond, what)                                           \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "fuzz: invariant broken: %s\n", what); \
			abort();                                           \
		}                                                          \
	} while (0)

#endif
