/* Shared helpers for the cmocka suites: vector files, hex, whole-file reads. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "tests/common/testutil.h"

const char *
test_vectors_dir(void)
{
	const char *d = getenv("VECTORS");

	return d != NULL ? d : "";
}

char *
test_file_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
		goto fail;
	buf = malloc((size_t)n + 1);
	if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n)
		goto fail;
	buf[n] = '\0';
	if (len != NULL)
		*len = (size_t)n;
	fclose(f);
	return buf;
fail:
	free(buf);
	fclose(f);
	return NULL;
}

char *
test_vector_read(const char *rel, size_t *len)
{
	char path[4096];
	struct stat st;
	char *buf;

	if (stat(test_vectors_dir(), &st) != 0)
		return NULL;
	snprintf(path, sizeof(path), "%s/%s", test_vectors_dir(), rel);
	buf = test_file_read(path, len);
	if (buf == NULL)
		fail_msg("vector file %s missing (%s)", path, strerror(errno));
	return buf;
}

cJSON *
test_vector_json(const char *rel)
{
	size_t len;
	char *buf = test_vector_read(rel, &len);
	cJSON *j;

	if (buf == NULL)
		return NULL;
	j = cJSON_ParseWithLength(buf, len);
	free(buf);
	if (j == NULL)
		fail_msg("vector file %s is not JSON", rel);
	return j;
}

static int
nibble(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

uint8_t *
test_unhex(const char *hex, size_t *len)
{
	size_t n = strlen(hex), i;
	uint8_t *out;

	if (n % 2 != 0)
		fail_msg("odd-length hex: %s", hex);
	out = malloc(n / 2 + 1);
	assert_non_null(out);
	for (i = 0; i < n / 2; i++) {
		int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			fail_msg("bad hex: %s", hex);
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	*len = n / 2;
	return out;
}
