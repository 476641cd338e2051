/* Crypto benchmark (issue 17): Ed25519 sign and verify per second, OpenSSL 3 against libsodium. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <sodium.h>

#include "sdpp/crypto.h"

/*
 * The same key (one RFC 8032 seed) and the same messages go through both
 * libraries. OpenSSL is called as sdpp/crypto.c calls it: a key object
 * made once, a fresh EVP_MD_CTX per call, EVP_DigestSign/EVP_DigestVerify;
 * the product's own sdpp_verify() is timed too, as a check that the copy
 * here costs what the product pays. Each figure is operations per second
 * of CPU, the median of RUNS runs of WINDOW_S seconds; the runs are
 * interleaved (every case once per round), so a change in the machine's
 * load hits all cases alike.
 */

#define RUNS 5
#define WINDOW_S 0.25
#define QUICK_WINDOW_S 0.05
#define ACK_BYTES 64      /* an ACK's signed bytes, about */
#define INVOICE_BYTES 300 /* an invoice's or a payment's, about */

enum lib { LIB_OPENSSL, LIB_SODIUM, LIB_SDPP };
enum op { OP_SIGN, OP_VERIFY, OP_BOUNDARY };

struct keys {
	EVP_PKEY *priv, *pub;           /* OpenSSL */
	struct sdpp_verifier *verifier; /* the product's */
	uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
	uint8_t ack[ACK_BYTES], inv[INVOICE_BYTES];
	uint8_t ack_sig[crypto_sign_BYTES], inv_sig[crypto_sign_BYTES];
};

struct bcase {
	const char *name;
	enum lib lib;
	enum op op;
	size_t len; /* OP_SIGN, OP_VERIFY: the message's bytes */
	double runs[RUNS];
};

static double
clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
now_s(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

static int
ossl_sign(EVP_PKEY *k, const uint8_t *msg, size_t len, uint8_t sig[64])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t siglen = 64;
	int rc = -1;

	if (ctx == NULL)
		return -1;
	if (EVP_DigestSignInit(ctx, NULL, NULL, NULL, k) == 1 &&
	    EVP_DigestSign(ctx, sig, &siglen, msg, len) == 1 && siglen == 64)
		rc = 0;
	EVP_MD_CTX_free(ctx);
	return rc;
}

static int
ossl_verify(EVP_PKEY *k, const uint8_t *msg, size_t len, const uint8_t sig[64])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int rc = -1;

	if (ctx == NULL)
		return -1;
	if (EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k) == 1 &&
	    EVP_DigestVerify(ctx, sig, 64, msg, len) == 1)
		rc = 0;
	EVP_MD_CTX_free(ctx);
	if (rc != 0)
		ERR_clear_error();
	return rc;
}

/* One operation of case c; 0 if it succeeded (every signature here is valid). */
static int
once(const struct keys *K, const struct bcase *c)
{
	const uint8_t *msg = c->len == ACK_BYTES ? K->ack : K->inv;
	const uint8_t *sig = c->len == ACK_BYTES ? K->ack_sig : K->inv_sig;
	uint8_t out[64];

	switch (c->op) {
	case OP_SIGN:
		if (c->lib == LIB_OPENSSL)
			return ossl_sign(K->priv, msg, c->len, out);
		return crypto_sign_detached(out, NULL, msg, c->len, K->sk);
	case OP_VERIFY:
		if (c->lib == LIB_OPENSSL)
			return ossl_verify(K->pub, msg, c->len, sig);
		if (c->lib == LIB_SDPP)
			return sdpp_verify(K->verifier, msg, c->len, sig, 64) == SDPP_OK ? 0 : -1;
		return crypto_sign_verify_detached(sig, msg, c->len, K->pk);
	case OP_BOUNDARY:
		/* The seller at an invoice boundary: sign the invoice, check
		 * the buyer's ACK and the buyer's payment. */
		if (c->lib == LIB_OPENSSL)
			return ossl_sign(K->priv, K->inv, INVOICE_BYTES, out) |
			       ossl_verify(K->pub, K->ack, ACK_BYTES, K->ack_sig) |
			       ossl_verify(K->pub, K->inv, INVOICE_BYTES, K->inv_sig);
		return crypto_sign_detached(out, NULL, K->inv, INVOICE_BYTES, K->sk) |
		       crypto_sign_verify_detached(K->ack_sig, K->ack, ACK_BYTES, K->pk) |
		       crypto_sign_verify_detached(K->inv_sig, K->inv, INVOICE_BYTES, K->pk);
	}
	return -1;
}

/* Operations per second of this thread's CPU time, over about window seconds
 * of wall time; -1 if one failed. CPU time, because the machine is shared:
 * time another process holds our core is not ours. */
static double
rate(const struct keys *K, const struct bcase *c, double window)
{
	double t0 = now_s(), c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
	uint64_t n = 0;

	do {
		for (int i = 0; i < 16; i++)
			if (once(K, c) != 0)
				return -1;
		n += 16;
	} while (now_s() - t0 < window);
	return (double)n / (clock_s(CLOCK_THREAD_CPUTIME_ID) - c0);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
median(const double *v, double *lo, double *hi)
{
	double s[RUNS];

	memcpy(s, v, sizeof(s));
	qsort(s, RUNS, sizeof(s[0]), cmp_double);
	*lo = s[0];
	*hi = s[RUNS - 1];
	return s[RUNS / 2];
}

/* The key from one seed in both libraries, the messages and their signatures;
 * -1 if the libraries disagree on the public key or a signature. */
static int
keys_init(struct keys *K)
{
	static const uint8_t seed[32] = { /* RFC 8032 7.1 TEST 1 */
		0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a, 0xf4, 0x92, 0xec,
		0x2c, 0xc4, 0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32, 0x69, 0x19, 0x70, 0x3b, 0xac, 0x03,
		0x1c, 0xae, 0x7f, 0x60
	};
	uint8_t raw[32], sig[64];
	size_t rawlen = sizeof(raw), i;

	memset(K, 0, sizeof(*K));
	for (i = 0; i < sizeof(K->ack); i++)
		K->ack[i] = (uint8_t)(i * 7 + 1);
	for (i = 0; i < sizeof(K->inv); i++)
		K->inv[i] = (uint8_t)(i * 13 + 5);
	if (sodium_init() < 0 || crypto_sign_seed_keypair(K->pk, K->sk, seed) != 0)
		return -1;
	K->priv = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, sizeof(seed));
	if (K->priv == NULL || EVP_PKEY_get_raw_public_key(K->priv, raw, &rawlen) != 1 ||
	    rawlen != 32 || memcmp(raw, K->pk, 32) != 0)
		return -1;
	K->pub = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, K->pk, 32);
	if (K->pub == NULL || sdpp_verifier_new(&K->verifier, K->pk) != SDPP_OK)
		return -1;
	/* Ed25519 is deterministic: both must give the same bytes. */
	if (ossl_sign(K->priv, K->ack, ACK_BYTES, K->ack_sig) != 0 ||
	    ossl_sign(K->priv, K->inv, INVOICE_BYTES, K->inv_sig) != 0 ||
	    crypto_sign_detached(sig, NULL, K->ack, ACK_BYTES, K->sk) != 0 ||
	    memcmp(sig, K->ack_sig, 64) != 0 ||
	    crypto_sign_detached(sig, NULL, K->inv, INVOICE_BYTES, K->sk) != 0 ||
	    memcmp(sig, K->inv_sig, 64) != 0)
		return -1;
	return 0;
}

static void
keys_free(struct keys *K)
{
	EVP_PKEY_free(K->priv);
	EVP_PKEY_free(K->pub);
	sdpp_verifier_free(K->verifier);
	sodium_memzero(K->sk, sizeof(K->sk));
}

int
main(int argc, char **argv)
{
	struct bcase c[] = {
		{ "sign 64 B (ACK)", LIB_OPENSSL, OP_SIGN, ACK_BYTES, { 0 } },
		{ "sign 64 B (ACK)", LIB_SODIUM, OP_SIGN, ACK_BYTES, { 0 } },
		{ "sign 300 B (invoice)", LIB_OPENSSL, OP_SIGN, INVOICE_BYTES, { 0 } },
		{ "sign 300 B (invoice)", LIB_SODIUM, OP_SIGN, INVOICE_BYTES, { 0 } },
		{ "verify 64 B (ACK)", LIB_OPENSSL, OP_VERIFY, ACK_BYTES, { 0 } },
		{ "verify 64 B (ACK)", LIB_SODIUM, OP_VERIFY, ACK_BYTES, { 0 } },
		{ "verify 300 B (invoice)", LIB_OPENSSL, OP_VERIFY, INVOICE_BYTES, { 0 } },
		{ "verify 300 B (invoice)", LIB_SODIUM, OP_VERIFY, INVOICE_BYTES, { 0 } },
		{ "boundary: 1 sign + 2 verify", LIB_OPENSSL, OP_BOUNDARY, 0, { 0 } },
		{ "boundary: 1 sign + 2 verify", LIB_SODIUM, OP_BOUNDARY, 0, { 0 } },
		{ "verify 64 B (ACK)", LIB_SDPP, OP_VERIFY, ACK_BYTES, { 0 } },
		{ "verify 300 B (invoice)", LIB_SDPP, OP_VERIFY, INVOICE_BYTES, { 0 } },
	};
	enum { NC = sizeof(c) / sizeof(c[0]) };
	static const char *const libname[] = { "openssl", "libsodium", "sdpp_verify()" };
	struct keys K;
	double ratio[NC / 2];
	double window = WINDOW_S, t0 = now_s();
	int i, run, rc = 1;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--quick") == 0)
			window = QUICK_WINDOW_S;
	/* Other arguments (make bench passes BUILD/bench) are not used. */
	if (keys_init(&K) != 0) {
		fprintf(stderr, "bench_crypto: OpenSSL and libsodium disagree on a key or "
		                "signature\n");
		goto out;
	}
	printf("\n# Ed25519 (issue 17): %s against libsodium %s, one key, the same messages; "
	       "ops per CPU second, median of %d interleaved runs of %.2f s\n",
	    OpenSSL_version(OPENSSL_VERSION), sodium_version_string(), RUNS, window);
	for (run = 0; run < RUNS; run++)
		for (i = 0; i < NC; i++) {
			c[i].runs[run] = rate(&K, &c[i], window);
			if (c[i].runs[run] < 0) {
				fprintf(stderr, "bench_crypto: %s with %s failed\n", c[i].name,
				    libname[c[i].lib]);
				goto out;
			}
		}
	printf("%-30s %-14s %10s %10s %10s %12s\n", "operation", "library", "ops/cpu-s", "us/op",
	    "runs min", "max");
	for (i = 0; i < NC; i++) {
		double lo, hi, m = median(c[i].runs, &lo, &hi);

		printf("%-30s %-14s %10.0f %10.1f %10.0f %12.0f\n", c[i].name, libname[c[i].lib], m,
		    1e6 / m, lo, hi);
	}
	/* Pairs (OpenSSL, libsodium) are next to each other in c[] and were
	 * measured back to back in each round: the ratio of a round is the
	 * fairest on a shared machine. Measurably faster: every round's ratio
	 * above 1.10. The last line is the same as JSON. */
	printf("\n%-30s %10s %16s\n", "libsodium / OpenSSL", "ratio", "rounds min-max");
	for (i = 0; i + 1 < NC && c[i].lib == LIB_OPENSSL; i += 2) {
		double r[RUNS], lo, hi;

		for (run = 0; run < RUNS; run++)
			r[run] = c[i + 1].runs[run] / c[i].runs[run];
		ratio[i / 2] = median(r, &lo, &hi);
		printf("%-30s %10.3f %9.3f-%.3f  %s\n", c[i].name, ratio[i / 2], lo, hi,
		    lo > 1.10 ? "libsodium measurably faster" : "not measurably faster");
	}
	printf("{\"crypto\":{");
	for (i = 0; i + 1 < NC && c[i].lib == LIB_OPENSSL; i += 2) {
		double lo, hi, m0 = median(c[i].runs, &lo, &hi);
		double m1 = median(c[i + 1].runs, &lo, &hi);

		printf("%s\"%s\":{\"openssl_per_s\":%.0f,\"libsodium_per_s\":%.0f,\"ratio\":%.3f}",
		    i ? "," : "", c[i].name, m0, m1, ratio[i / 2]);
	}
	printf("}}\n");
	printf("# bench_crypto took %.1f s\n", now_s() - t0);
	rc = 0;
out:
	keys_free(&K);
	return rc;
}
