/* Every Wycheproof case for Ed25519, X25519, AES-GCM and HKDF-SHA256 through the sdpp API. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "sdpp/crypto.h"
#include "tests/common/testutil.h"

/*
 * Counts for one vector file. Each case is run, or counted as outside the
 * protocol's parameters (a size our API cannot express), never dropped:
 * run + outside must equal the file's numberOfTests.
 */
struct tally {
	const char *name;
	int run, outside, failed;
	char failed_ids[1024]; /* "12 57 ..." (truncated with "..." when long) */
};

static void
tally_fail(struct tally *t, int tcid)
{
	size_t used = strlen(t->failed_ids);
	char id[16];

	t->failed++;
	snprintf(id, sizeof(id), "%d ", tcid);
	if (used + strlen(id) + 4 < sizeof(t->failed_ids))
		memcpy(t->failed_ids + used, id, strlen(id) + 1);
	else if (strstr(t->failed_ids, "...") == NULL)
		memcpy(t->failed_ids + used, "...", 4);
}

/* Prints the summary, checks nothing was lost, fails listing the tcIds. */
static void
tally_finish(struct tally *t, const cJSON *root, const char *extra)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(root, "numberOfTests");

	print_message("%s: %d run, %d outside the protocol's parameters%s, %d failed\n", t->name,
	    t->run, t->outside, extra, t->failed);
	assert_true(cJSON_IsNumber(n));
	assert_int_equal(t->run + t->outside, n->valueint);
	if (t->failed > 0)
		fail_msg("%s: failing tcIds: %s", t->name, t->failed_ids);
}

static const char *
str(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!cJSON_IsString(v))
		fail_msg("vector without string \"%s\"", key);
	return v->valuestring;
}

static int
num(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!cJSON_IsNumber(v))
		fail_msg("vector without number \"%s\"", key);
	return v->valueint;
}

static const cJSON *
groups(const cJSON *root)
{
	const cJSON *g = cJSON_GetObjectItemCaseSensitive(root, "testGroups");

	assert_true(cJSON_IsArray(g));
	return g;
}

static int
is_zero(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

static void
test_ed25519(void **state)
{
	cJSON *root = test_vector_json("wycheproof/ed25519_test.json");
	struct tally t = { .name = "ed25519" };
	const cJSON *g, *tc;

	(void)state;
	if (root == NULL)
		TEST_SKIP(TEST_NO_VECTORS);
	cJSON_ArrayForEach(g, groups(root))
	{
		const cJSON *pk = cJSON_GetObjectItemCaseSensitive(g, "publicKey");
		struct sdpp_verifier *v = NULL;
		size_t pklen;
		uint8_t *pub = test_unhex(str(pk, "pk"), &pklen);
		int have_v;

		/* Only 32-byte keys can be given to the API (all of them, in practice). */
		have_v = pklen == SDPP_SIGN_PUBLIC_BYTES && sdpp_verifier_new(&v, pub) == SDPP_OK;
		cJSON_ArrayForEach(tc, cJSON_GetObjectItemCaseSensitive(g, "tests"))
		{
			int id = num(tc, "tcId");
			const char *result = str(tc, "result");
			size_t msglen, siglen;
			uint8_t *msg, *sig;
			enum sdpp_err want, e1, e2;

			if (pklen != SDPP_SIGN_PUBLIC_BYTES) {
				t.outside++;
				continue;
			}
			t.run++;
			msg = test_unhex(str(tc, "msg"), &msglen);
			sig = test_unhex(str(tc, "sig"), &siglen);
			if (strcmp(result, "valid") == 0) {
				want = SDPP_OK;
			} else if (strcmp(result, "invalid") == 0) {
				want = SDPP_E_SIGNATURE;
			} else {
				/* No "acceptable" cases exist for Ed25519; refuse to guess. */
				tally_fail(&t, id);
				free(msg);
				free(sig);
				continue;
			}
			/* Both the one-shot and the cached verifier must agree. */
			e1 = sdpp_verify_raw(pub, msg, msglen, sig, siglen);
			e2 = have_v ? sdpp_verify(v, msg, msglen, sig, siglen) : SDPP_E_SIGNATURE;
			if (e1 != want || e2 != want)
				tally_fail(&t, id);
			free(msg);
			free(sig);
		}
		sdpp_verifier_free(v);
		free(pub);
	}
	tally_finish(&t, root, "");
	cJSON_Delete(root);
}

/*
 * Our X25519 rule, applied to every case whatever its "valid"/"acceptable"
 * label: RFC 7748 exactly (top bit of u masked, non-canonical u reduced,
 * twist points allowed), except that an all-zero shared secret is refused.
 * Returns 0 when the outcome follows the rule; counts refusals in *refused.
 */
static int
x25519_case(const uint8_t priv[32], const uint8_t pub[32], const uint8_t want[32],
    const char *result, int *refused)
{
	uint8_t got[32];
	enum sdpp_err e = sdpp_x25519(got, priv, pub);

	if (strcmp(result, "invalid") == 0) {
		/* None in the file today; an invalid case must be refused. */
		return e == SDPP_OK ? -1 : 0;
	}
	if (is_zero(want, 32)) {
		if (e != SDPP_E_CRYPTO)
			return -1;
		(*refused)++;
		return 0;
	}
	return e == SDPP_OK && memcmp(got, want, 32) == 0 ? 0 : -1;
}

static void
test_x25519(void **state)
{
	cJSON *root = test_vector_json("wycheproof/x25519_test.json");
	struct tally t = { .name = "x25519" };
	const cJSON *g, *tc;
	int refused = 0, acceptable = 0;
	char extra[128];

	(void)state;
	if (root == NULL)
		TEST_SKIP(TEST_NO_VECTORS);
	cJSON_ArrayForEach(g, groups(root))
	{
		assert_string_equal(str(g, "curve"), "curve25519");
		cJSON_ArrayForEach(tc, cJSON_GetObjectItemCaseSensitive(g, "tests"))
		{
			size_t privlen, publen, sharedlen;
			uint8_t *priv = test_unhex(str(tc, "private"), &privlen);
			uint8_t *pub = test_unhex(str(tc, "public"), &publen);
			uint8_t *shared = test_unhex(str(tc, "shared"), &sharedlen);
			const char *result = str(tc, "result");

			if (privlen != 32 || publen != 32 || sharedlen != 32) {
				t.outside++;
			} else {
				t.run++;
				acceptable += strcmp(result, "acceptable") == 0;
				if (x25519_case(priv, pub, shared, result, &refused) != 0)
					tally_fail(&t, num(tc, "tcId"));
			}
			free(priv);
			free(pub);
			free(shared);
		}
	}
	snprintf(extra, sizeof(extra), " (%d acceptable; %d refused: all-zero shared secret)",
	    acceptable, refused);
	tally_finish(&t, root, extra);
	cJSON_Delete(root);
}

/* Raw 32-byte key out of a PEM block, with OpenSSL directly (the reference). */
static int
pem_raw(const char *pem, int private, uint8_t out[32])
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *k;
	size_t n = 32;
	int ok;

	assert_non_null(bio);
	k = private ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)
	            : PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	ok = k != NULL && EVP_PKEY_get_id(k) == EVP_PKEY_X25519 &&
	     (private ? EVP_PKEY_get_raw_private_key(k, out, &n)
	              : EVP_PKEY_get_raw_public_key(k, out, &n)) == 1 &&
	     n == 32;
	EVP_PKEY_free(k);
	BIO_free(bio);
	return ok ? 0 : -1;
}

/* RFC 8032 TEST 1's key as PKCS#8: the Ed25519 half of a test identity. */
static const char ed25519_block[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
    "-----END PRIVATE KEY-----\n";

/*
 * x25519_pem_test.json: our API has no X25519-only PEM reader, so each
 * private key goes through sdpp_identity_from_pem() behind a fixed Ed25519
 * block (its public half must equal X25519(priv, 9)), and the shared secret
 * follows the same rule as x25519_test.json on the raw keys.
 */
static void
test_x25519_pem(void **state)
{
	cJSON *root = test_vector_json("wycheproof/x25519_pem_test.json");
	struct tally t = { .name = "x25519_pem" };
	const cJSON *g, *tc;
	int refused = 0;
	char extra[96];
	static const uint8_t base[32] = { 9 };

	(void)state;
	if (root == NULL)
		TEST_SKIP(TEST_NO_VECTORS);
	cJSON_ArrayForEach(g, groups(root))
	{
		assert_string_equal(str(g, "curve"), "curve25519");
		cJSON_ArrayForEach(tc, cJSON_GetObjectItemCaseSensitive(g, "tests"))
		{
			const char *privpem = str(tc, "private"), *pubpem = str(tc, "public");
			uint8_t priv[32], pub[32], idpub[32], want_pub[32], *shared;
			struct sdpp_identity *id = NULL;
			size_t sharedlen, len;
			char *text;
			int id_tc = num(tc, "tcId"), bad = 0;

			shared = test_unhex(str(tc, "shared"), &sharedlen);
			if (sharedlen != 32 || pem_raw(privpem, 1, priv) != 0 ||
			    pem_raw(pubpem, 0, pub) != 0) {
				/* Not a 32-byte X25519 key: the API cannot take it. */
				t.outside++;
				free(shared);
				continue;
			}
			t.run++;
			len = strlen(ed25519_block) + strlen(privpem);
			text = malloc(len + 1);
			assert_non_null(text);
			memcpy(text, ed25519_block, strlen(ed25519_block));
			memcpy(text + strlen(ed25519_block), privpem, strlen(privpem) + 1);
			if (sdpp_identity_from_pem(&id, text, len) != SDPP_OK) {
				bad = 1;
			} else {
				sdpp_identity_enc_public(id, idpub);
				if (sdpp_x25519(want_pub, priv, base) != SDPP_OK ||
				    memcmp(idpub, want_pub, 32) != 0)
					bad = 1;
			}
			if (x25519_case(priv, pub, shared, str(tc, "result"), &refused) != 0)
				bad = 1;
			if (bad)
				tally_fail(&t, id_tc);
			sdpp_identity_free(id);
			free(text);
			free(shared);
		}
	}
	snprintf(extra, sizeof(extra), " (%d refused: all-zero shared secret)", refused);
	tally_finish(&t, root, extra);
	cJSON_Delete(root);
}

/* One in-parameter AES-GCM case; 0 when our API behaves as the label says. */
static int
gcm_case(const cJSON *tc)
{
	size_t klen, ivlen, aadlen, msglen, ctlen, taglen;
	uint8_t *key = test_unhex(str(tc, "key"), &klen);
	uint8_t *iv = test_unhex(str(tc, "iv"), &ivlen);
	uint8_t *aad = test_unhex(str(tc, "aad"), &aadlen);
	uint8_t *msg = test_unhex(str(tc, "msg"), &msglen);
	uint8_t *ct = test_unhex(str(tc, "ct"), &ctlen);
	uint8_t *tag = test_unhex(str(tc, "tag"), &taglen);
	uint8_t *sealed = malloc(msglen + 16), *in = malloc(ctlen + 16), *out = malloc(ctlen + 1);
	int valid = strcmp(str(tc, "result"), "valid") == 0, rc = -1;
	struct sdpp_aead *a = NULL;
	enum sdpp_err e;

	assert_non_null(sealed);
	assert_non_null(in);
	assert_non_null(out);
	assert_int_equal(klen, 32);
	assert_int_equal(ivlen, 12);
	assert_int_equal(taglen, 16);
	if (sdpp_aead_new(&a, key) != SDPP_OK)
		goto done;
	memcpy(in, ct, ctlen);
	memcpy(in + ctlen, tag, 16);
	memset(out, 0xa5, ctlen + 1);
	e = sdpp_aead_open(a, iv, aad, aadlen, in, ctlen + 16, out);
	if (valid) {
		if (e != SDPP_OK || msglen != ctlen || memcmp(out, msg, msglen) != 0)
			goto done;
		if (sdpp_aead_seal(a, iv, aad, aadlen, msg, msglen, sealed) != SDPP_OK ||
		    memcmp(sealed, in, ctlen + 16) != 0)
			goto done;
	} else {
		/* Refused, and no unauthenticated plaintext left behind. */
		if (e != SDPP_E_DECRYPT || !is_zero(out, ctlen))
			goto done;
	}
	rc = 0;
done:
	sdpp_aead_free(a);
	free(key);
	free(iv);
	free(aad);
	free(msg);
	free(ct);
	free(tag);
	free(sealed);
	free(in);
	free(out);
	return rc;
}

static void
test_aes_gcm(void **state)
{
	cJSON *root = test_vector_json("wycheproof/aes_gcm_test.json");
	struct tally t = { .name = "aes_gcm" };
	const cJSON *g, *tc;
	int bad_key = 0, bad_iv = 0, bad_tag = 0;
	char extra[160];

	(void)state;
	if (root == NULL)
		TEST_SKIP(TEST_NO_VECTORS);
	cJSON_ArrayForEach(g, groups(root))
	{
		int ks = num(g, "keySize"), ivs = num(g, "ivSize"), ts = num(g, "tagSize");

		cJSON_ArrayForEach(tc, cJSON_GetObjectItemCaseSensitive(g, "tests"))
		{
			/*
			 * The API takes a 32-byte key array, a 12-byte nonce array and
			 * always a 16-byte tag: other sizes cannot even be passed, so
			 * those cases (including the zero-length IVs) cannot happen
			 * through sdpp. They are counted by reason, not run.
			 */
			if (ks != 256 || ivs != 96 || ts != 128) {
				t.outside++;
				bad_key += ks != 256;
				bad_iv += ks == 256 && ivs != 96;
				bad_tag += ks == 256 && ivs == 96 && ts != 128;
				continue;
			}
			t.run++;
			if (gcm_case(tc) != 0)
				tally_fail(&t, num(tc, "tcId"));
		}
	}
	snprintf(extra, sizeof(extra),
	    " (key/iv/tag size: %d key != 256, %d iv != 96, %d tag != 128)", bad_key, bad_iv,
	    bad_tag);
	tally_finish(&t, root, extra);
	cJSON_Delete(root);
}

static void
test_hkdf(void **state)
{
	cJSON *root = test_vector_json("wycheproof/hkdf_sha256_test.json");
	struct tally t = { .name = "hkdf_sha256" };
	const cJSON *g, *tc;
	int refused = 0;
	char extra[96];

	(void)state;
	if (root == NULL)
		TEST_SKIP(TEST_NO_VECTORS);
	cJSON_ArrayForEach(g, groups(root))
	{
		cJSON_ArrayForEach(tc, cJSON_GetObjectItemCaseSensitive(g, "tests"))
		{
			size_t ikmlen, saltlen, infolen, okmlen, size = (size_t)num(tc, "size");
			uint8_t *ikm = test_unhex(str(tc, "ikm"), &ikmlen);
			uint8_t *salt = test_unhex(str(tc, "salt"), &saltlen);
			uint8_t *info = test_unhex(str(tc, "info"), &infolen);
			uint8_t *okm = test_unhex(str(tc, "okm"), &okmlen);
			uint8_t *out = malloc(size + 1);
			enum sdpp_err e;

			assert_non_null(out);
			t.run++;
			e = sdpp_hkdf_sha256(out, size, salt, saltlen, ikm, ikmlen, info, infolen);
			if (strcmp(str(tc, "result"), "valid") == 0) {
				if (e != SDPP_OK || okmlen != size || memcmp(out, okm, size) != 0)
					tally_fail(&t, num(tc, "tcId"));
			} else {
				/* Invalid here means more than 255*32 bytes asked. */
				if (e == SDPP_OK || size <= 255 * 32)
					tally_fail(&t, num(tc, "tcId"));
				else
					refused++;
			}
			free(ikm);
			free(salt);
			free(info);
			free(okm);
			free(out);
		}
	}
	snprintf(extra, sizeof(extra), " (%d refused: size > 255*32)", refused);
	tally_finish(&t, root, extra);
	cJSON_Delete(root);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ed25519),
		cmocka_unit_test(test_x25519),
		cmocka_unit_test(test_x25519_pem),
		cmocka_unit_test(test_aes_gcm),
		cmocka_unit_test(test_hkdf),
	};

	return cmocka_run_group_tests_name("wycheproof", tests, NULL, NULL);
}
