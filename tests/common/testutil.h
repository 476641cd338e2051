/* Shared helpers for the cmocka suites: vector files, hex, whole-file reads. */
#ifndef TESTS_TESTUTIL_H
#define TESTS_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* Directory of the published vectors ($VECTORS; "" when unset: the
 * tests that need them skip). */
const char *test_vectors_dir(void);

/* Skips the running test, saying why on a TAP comment line ("# skip:
 * WHY") that tests/run.sh lists at the end of `make test'. Needs cmocka.h. */
#define TEST_SKIP(why)                                                                             \
	do {                                                                                       \
		print_message("# skip: %s\n", (why));                                              \
		skip();                                                                            \
	} while (0)
/* Why the vector tests skip. */
#define TEST_NO_VECTORS "the published vectors are absent: make test VECTORS=DIR (.ci/run sets it)"

/*
 * Reads VECTORS/rel into a new NUL-terminated buffer (free()). Returns NULL
 * when the vectors folder is absent: the caller must then skip(), never pass.
 * A folder that exists but lacks the file fails the test.
 */
char *test_vector_read(const char *rel, size_t *len);

/* Parses VECTORS/rel as JSON (cJSON, lenient) or returns NULL as above. */
cJSON *test_vector_json(const char *rel);

/* Reads any file; NULL if missing. */
char *test_file_read(const char *path, size_t *len);

/* Decodes hex of any length into a new buffer (free()); *len gets its size.
 * Fails the test on bad hex. */
uint8_t *test_unhex(const char *hex, size_t *len);

#endif
