/* libFuzzer target: the buyer key lists of allow_keys and deny_keys (gateway/access.c). */
#include "fuzz/fuzz.h"
#include "gateway/access.h"

struct seen {
	int n, bad;
};

/* Every message is printable ASCII with a line within the input's. */
static void
on_error(void *ctx, int line, const char *msg)
{
	struct seen *s = ctx;
	const char *p;

	s->n++;
	if (line < 0 || msg[0] == '\0')
		s->bad = 1;
	for (p = msg; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			s->bad = 1;
}

/* Whatever the file holds, the parser either refuses it with at least one
 * reported error and no list, or returns a list of at most one key per
 * line, each of which it then finds. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct access_keys *k = NULL;
	struct seen s = { 0, 0 };
	uint8_t key[SDPP_SIGN_PUBLIC_BYTES];
	size_t lines = 1, i, j;
	int n;

	n = access_keys_parse(&k, (const char *)data, size, on_error, &s);
	CHECK(!s.bad);
	CHECK(n >= 0);
	if (n > 0) {
		CHECK(k == NULL);
		CHECK(s.n == (n > ACCESS_ERRORS_MAX ? ACCESS_ERRORS_MAX + 1 : n));
		return 0;
	}
	CHECK(k != NULL && s.n == 0);
	for (i = 0; i < size; i++)
		lines += data[i] == '\n';
	CHECK(access_keys_count(k) <= lines);
	/* Each line that is exactly a lowercase key is on the list. */
	for (i = 0; i + 64 <= size; i++) {
		if ((i > 0 && data[i - 1] != '\n') || (i + 64 < size && data[i + 64] != '\n'))
			continue;
		for (j = 0; j < 64; j++)
			if (!((data[i + j] >= '0' && data[i + j] <= '9') ||
			        (data[i + j] >= 'a' && data[i + j] <= 'f')))
				break;
		if (j < 64)
			continue;
		for (j = 0; j < sizeof(key); j++) {
			unsigned hi = data[i + 2 * j], lo = data[i + 2 * j + 1];

			hi = hi <= '9' ? hi - '0' : hi - 'a' + 10;
			lo = lo <= '9' ? lo - '0' : lo - 'a' + 10;
			key[j] = (uint8_t)(hi << 4 | lo);
		}
		CHECK(access_keys_has(k, key));
	}
	access_keys_free(k);
	return 0;
}
