/* libFuzzer target: strict JSON parsing and JCS output (round trips, idempotence, caps). */
#include <cjson/cJSON.h>

#include "fuzz/fuzz.h"
#include "sdpp/json.h"

/* Output cap for the round trips: far above anything a 20 KB input makes. */
#define OUT_CAP (16u * 1024 * 1024)

/* The cap is exact: len bytes fit, len - 1 do not. */
static void
check_cap(const cJSON *v, int intonly, const char *want, size_t len)
{
	char *out = NULL;
	size_t n = 0;
	enum sdpp_err e;

	e = intonly ? sdpp_jcs_serialize_int(v, len, &out, &n)
	            : sdpp_jcs_serialize(v, len, &out, &n);
	CHECK(e == SDPP_OK && n == len && memcmp(out, want, len) == 0 && out[n] == '\0');
	free(out);
	out = (char *)1;
	e = intonly ? sdpp_jcs_serialize_int(v, len - 1, &out, &n)
	            : sdpp_jcs_serialize(v, len - 1, &out, &n);
	CHECK(e == SDPP_E_FRAME_TOO_LARGE && out == NULL && n == 0);
}

/* Strict path: parse, canonicalise, parse the canonical form, canonicalise again. */
static void
strict(const uint8_t *data, size_t size)
{
	char err[128], *out1 = NULL, *out2 = NULL, *lax = NULL;
	size_t n1 = 0, n2 = 0, nl = 0;
	cJSON *root = (cJSON *)1, *again = NULL;
	enum sdpp_err e;

	memset(err, 'x', sizeof(err));
	e = sdpp_json_parse(&root, (const char *)data, size, err, sizeof(err));
	CHECK(memchr(err, '\0', sizeof(err)) != NULL);
	if (e != SDPP_OK) {
		CHECK(root == NULL);
		CHECK(e == SDPP_E_BAD_JSON || e == SDPP_E_BAD_NUMBER);
		CHECK(err[0] != '\0');
		return;
	}
	CHECK(root != NULL);
	/* Every accepted number is an integer within 2^53 - 1, so the integer
	 * serialiser (the one used for signatures) must accept the tree. */
	e = sdpp_jcs_serialize_int(root, OUT_CAP, &out1, &n1);
	CHECK(e == SDPP_OK);
	CHECK(n1 > 0 && strlen(out1) == n1);
	/* Without fractions the general serialiser prints the same bytes. */
	e = sdpp_jcs_serialize(root, OUT_CAP, &lax, &nl);
	CHECK(e == SDPP_OK && nl == n1 && memcmp(lax, out1, n1) == 0);
	free(lax);
	check_cap(root, 1, out1, n1);
	/* Canonical output is itself strict JSON, and a fixed point. */
	e = sdpp_json_parse(&again, out1, n1, NULL, 0);
	CHECK(e == SDPP_OK);
	e = sdpp_jcs_serialize_int(again, OUT_CAP, &out2, &n2);
	CHECK(e == SDPP_OK);
	CHECK(n2 == n1 && memcmp(out1, out2, n1) == 0);
	/* Newlines in strings are escaped: canonical JSON is always one frame. */
	CHECK(memchr(out1, '\n', n1) == NULL);
	cJSON_Delete(again);
	cJSON_Delete(root);
	free(out1);
	free(out2);
}

/* Lenient path: whatever cJSON builds must not crash the serialiser, and
 * what it prints must read back (as cJSON, and stably). */
static void
lenient(const uint8_t *data, size_t size)
{
	cJSON *tree, *back;
	char *out = NULL, *out2 = NULL, *iout = NULL;
	size_t n = 0, n2 = 0, in = 0;
	enum sdpp_err e, ie;

	tree = cJSON_ParseWithLength((const char *)data, size);
	if (tree == NULL)
		return;
	e = sdpp_jcs_serialize(tree, OUT_CAP, &out, &n);
	/* The integer serialiser accepts a subset, and prints it the same way. */
	ie = sdpp_jcs_serialize_int(tree, OUT_CAP, &iout, &in);
	if (ie == SDPP_OK)
		CHECK(e == SDPP_OK && in == n && memcmp(iout, out, n) == 0);
	free(iout);
	if (e == SDPP_OK) {
		CHECK(out != NULL && strlen(out) == n);
		check_cap(tree, 0, out, n);
		back = cJSON_ParseWithLength(out, n);
		CHECK(back != NULL);
		e = sdpp_jcs_serialize(back, OUT_CAP, &out2, &n2);
		CHECK(e == SDPP_OK);
		CHECK(n2 == n && memcmp(out, out2, n) == 0);
		cJSON_Delete(back);
		free(out2);
		free(out);
	} else {
		CHECK(out == NULL && n == 0);
		CHECK(
		    e == SDPP_E_BAD_JSON || e == SDPP_E_BAD_NUMBER || e == SDPP_E_FRAME_TOO_LARGE);
	}
	cJSON_Delete(tree);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	strict(data, size);
	lenient(data, size);
	return 0;
}
