/* IOTA offline core: byte-identical to the official SDK's vectors; BCS, base58, capped buffers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "iota/base58.h"
#include "iota/bcs.h"
#include "iota/iota.h"
#include "sdpp/crypto.h"
#include "sdpp/enc.h"
#include "tests/common/testutil.h"

/* Written by tests/iota-oracle/oracle.mjs with @iota/iota-sdk 1.15.1. */
#define CASES_PATH "tests/iota/cases.json"
#define EXPECTED_PATH "tests/iota/expected.json"

/* Bytes placed after a capped buffer to catch writes past the cap. */
#define CANARY 0xa5
#define CANARY_LEN 16

/* ---- helpers ---------------------------------------------------------- */

static const char *
jstr(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!cJSON_IsString(v))
		fail_msg("field %s missing or not a string", key);
	return v->valuestring;
}

static uint64_t
parse_dec(const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || s[0] == '\0' || s[0] == '-')
		fail_msg("not a decimal u64: `%s'", s);
	return (uint64_t)v;
}

static uint64_t
ju64(const cJSON *obj, const char *key)
{
	return parse_dec(jstr(obj, key));
}

static void
unhex_exact(uint8_t *dst, size_t n, const char *hex)
{
	size_t len;
	uint8_t *b = test_unhex(hex, &len);

	assert_int_equal(len, n);
	memcpy(dst, b, n);
	free(b);
}

/* An object ref from {object_id, version, digest}, through the same
 * "ID:VERSION:DIGEST" parser the sdpp tool uses for --gas-coin. */
static void
json_ref(struct iota_object_ref *ref, const cJSON *o)
{
	char text[256], err[128];

	snprintf(text, sizeof(text), "%s:%s:%s", jstr(o, "object_id"), jstr(o, "version"),
	    jstr(o, "digest"));
	if (iota_object_ref_parse(ref, text, err, sizeof(err)) != 0)
		fail_msg("object ref `%s': %s", text, err);
}

/* The case's notarized data (see the _doc field of cases.json). */
static uint8_t *
case_data(const cJSON *c, size_t *n)
{
	const cJSON *fill = cJSON_GetObjectItemCaseSensitive(c, "data_fill");
	uint8_t *d;
	size_t i;

	if (cJSON_IsNumber(fill)) {
		*n = (size_t)fill->valuedouble;
		d = malloc(*n + 1);
		assert_non_null(d);
		for (i = 0; i < *n; i++)
			d[i] = (uint8_t)((i * 167 + 13) % 256);
		return d;
	}
	return test_unhex(jstr(c, "data_hex"), n);
}

static char *
b64(const uint8_t *p, size_t n)
{
	char *s = malloc(SDPP_B64_LEN(n));

	assert_non_null(s);
	sdpp_b64_encode(s, p, n);
	return s;
}

/* ---- the composite transaction (mirrors addComposite() in oracle.mjs) -- */

static const struct iota_type_tag tag_u8 = { IOTA_TYPE_U8, NULL, NULL };
static const struct iota_type_tag tag_vec_u8 = { IOTA_TYPE_VECTOR, &tag_u8, NULL };
static const struct iota_struct_tag st_iota = { { [31] = 2 }, "iota", "IOTA", NULL, 0 };
static const struct iota_type_tag tag_iota = { IOTA_TYPE_STRUCT, NULL, &st_iota };
static const struct iota_struct_tag st_coin = { { [31] = 2 }, "coin", "Coin", &tag_iota, 1 };

static const struct iota_type_tag composite_types[] = {
	{ IOTA_TYPE_STRUCT, NULL, &st_coin },    /* 0x2::coin::Coin<0x2::iota::IOTA> */
	{ IOTA_TYPE_VECTOR, &tag_vec_u8, NULL }, /* vector<vector<u8>> */
	{ IOTA_TYPE_ADDRESS, NULL, NULL },
	{ IOTA_TYPE_SIGNER, NULL, NULL },
	{ IOTA_TYPE_BOOL, NULL, NULL },
	{ IOTA_TYPE_U16, NULL, NULL },
	{ IOTA_TYPE_U32, NULL, NULL },
	{ IOTA_TYPE_U64, NULL, NULL },
	{ IOTA_TYPE_U128, NULL, NULL },
	{ IOTA_TYPE_U256, NULL, NULL },
};

static enum iota_err
composite_tx(const cJSON *c, const uint8_t sender[32], const struct iota_object_ref *gas,
    size_t n_gas, uint8_t *out, size_t cap, size_t *len)
{
	static const char hello[] = "h\xc3\xa9llo \xe2\x9c\x93";
	static const uint8_t u16s[] = { 2, 0x01, 0x00, 0xff, 0xff }; /* vector<u16> [1, 65535] */
	const cJSON *merge = cJSON_GetObjectItemCaseSensitive(c, "merge_coins");
	const cJSON *shared = cJSON_GetObjectItemCaseSensitive(c, "shared");
	struct iota_object_ref m1, m2, recv;
	struct iota_shared_ref sh;
	struct iota_input in[11];
	struct iota_command cmd[4];
	struct iota_arg merge_src[2], split_amt[1], call_args[8], xfer[2];
	uint8_t recipient[32];
	struct iota_tx tx;

	json_ref(&m1, cJSON_GetArrayItem(merge, 0));
	json_ref(&m2, cJSON_GetArrayItem(merge, 1));
	json_ref(&recv, cJSON_GetObjectItemCaseSensitive(c, "receiving"));
	assert_int_equal(iota_address_parse(sh.id, jstr(shared, "object_id")), 0);
	sh.initial_shared_version = ju64(shared, "initial_shared_version");
	sh.is_mutable = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(shared, "mutable"));
	assert_int_equal(iota_address_parse(recipient, jstr(c, "recipient")), 0);

	iota_input_owned(&in[0], &m1);
	iota_input_owned(&in[1], &m2);
	iota_input_pure_u64(&in[2], ju64(c, "amount"));
	iota_input_receiving(&in[3], &recv);
	iota_input_shared(&in[4], &sh);
	assert_int_equal(iota_input_pure_string(&in[5], hello, strlen(hello)), IOTA_OK);
	iota_input_pure(&in[6], u16s, sizeof(u16s));
	iota_input_pure_bool(&in[7], 1);
	iota_input_pure_u8(&in[8], 255);
	iota_input_pure_u16(&in[9], 513);
	iota_input_pure_address(&in[10], recipient);

	memset(cmd, 0, sizeof(cmd));
	merge_src[0] = iota_arg_input(0);
	merge_src[1] = iota_arg_input(1);
	cmd[0].kind = IOTA_CMD_MERGE_COINS;
	cmd[0].target = iota_arg_gas();
	cmd[0].args = merge_src;
	cmd[0].n_args = 2;

	split_amt[0] = iota_arg_input(2);
	cmd[1].kind = IOTA_CMD_SPLIT_COINS;
	cmd[1].target = iota_arg_gas();
	cmd[1].args = split_amt;
	cmd[1].n_args = 1;

	call_args[0] = iota_arg_input(4);
	call_args[1] = iota_arg_input(3);
	call_args[2] = iota_arg_input(5);
	call_args[3] = iota_arg_input(6);
	call_args[4] = iota_arg_input(7);
	call_args[5] = iota_arg_input(8);
	call_args[6] = iota_arg_input(9);
	call_args[7] = iota_arg_nested(1, 0);
	cmd[2].kind = IOTA_CMD_MOVE_CALL;
	assert_int_equal(iota_address_parse(cmd[2].package, jstr(c, "package")), 0);
	cmd[2].module = "demo";
	cmd[2].function = "poke_all";
	cmd[2].type_args = composite_types;
	cmd[2].n_type_args = sizeof(composite_types) / sizeof(composite_types[0]);
	cmd[2].args = call_args;
	cmd[2].n_args = 8;

	xfer[0] = iota_arg_nested(1, 0);
	xfer[1] = iota_arg_result(2);
	cmd[3].kind = IOTA_CMD_TRANSFER_OBJECTS;
	cmd[3].args = xfer;
	cmd[3].n_args = 2;
	cmd[3].target = iota_arg_input(10);

	memset(&tx, 0, sizeof(tx));
	tx.inputs = in;
	tx.n_inputs = 11;
	tx.commands = cmd;
	tx.n_commands = 4;
	memcpy(tx.sender, sender, 32);
	memcpy(tx.gas_owner, sender, 32);
	tx.gas_coins = gas;
	tx.n_gas_coins = n_gas;
	tx.gas_price = ju64(c, "gas_price");
	tx.gas_budget = ju64(c, "gas_budget");
	tx.has_expiration = 1;
	tx.expiration_epoch = ju64(c, "expiration_epoch");
	return iota_tx_encode(&tx, out, cap, len);
}

/* ---- SDK conformance: one test per case of expected.json ---------------- */

struct sdk_case {
	const cJSON *c;   /* from cases.json */
	const cJSON *exp; /* from expected.json */
};

static void
test_sdk_case(void **state)
{
	const struct sdk_case *k = *state;
	const cJSON *c = k->c, *coins;
	const char *kind = jstr(c, "kind"), *name = jstr(c, "name");
	uint8_t seed[32], pub[32], addr[32], recipient[32], digest[32];
	uint8_t sig[IOTA_SIGNATURE_BYTES], *tx = malloc(IOTA_TX_MAX_BYTES), *data = NULL;
	char addr_text[IOTA_ADDRESS_TEXT_LEN], pub_hex[SDPP_HEX_LEN(32)];
	char digest_text[IOTA_DIGEST_TEXT_LEN], *tx_b64 = NULL, *sig_b64 = NULL;
	struct iota_object_ref gas[8];
	struct iota_tx_meta m;
	enum iota_network net;
	size_t len = 0, n_data = 0, i;
	enum iota_err err = IOTA_E_INVAL;

	assert_non_null(tx);
	assert_string_equal(name, jstr(k->exp, "name"));
	unhex_exact(seed, sizeof(seed), jstr(c, "secret_key"));
	assert_int_equal(sdpp_ed25519_public_from_seed(pub, seed), SDPP_OK);
	assert_int_equal(iota_address_from_public(addr, pub), IOTA_OK);
	sdpp_hex_encode(pub_hex, pub, sizeof(pub));
	iota_address_format(addr_text, addr);
	assert_string_equal(pub_hex, jstr(k->exp, "public_key"));
	assert_string_equal(addr_text, jstr(k->exp, "address"));

	memset(&m, 0, sizeof(m));
	memcpy(m.sender, addr, sizeof(addr));
	coins = cJSON_GetObjectItemCaseSensitive(c, "gas_coins");
	m.n_gas_coins = (size_t)cJSON_GetArraySize(coins);
	assert_true(m.n_gas_coins >= 1 && m.n_gas_coins <= sizeof(gas) / sizeof(gas[0]));
	for (i = 0; i < m.n_gas_coins; i++)
		json_ref(&gas[i], cJSON_GetArrayItem(coins, (int)i));
	m.gas_coins = gas;
	m.gas_price = ju64(c, "gas_price");
	m.gas_budget = ju64(c, "gas_budget");
	assert_int_equal(iota_network_parse(&net, jstr(c, "network")), 0);

	if (strcmp(kind, "transfer") == 0) {
		assert_int_equal(iota_address_parse(recipient, jstr(c, "recipient")), 0);
		err =
		    iota_tx_payment(&m, recipient, ju64(c, "amount"), tx, IOTA_TX_MAX_BYTES, &len);
	} else if (strcmp(kind, "notarize") == 0) {
		const cJSON *d = cJSON_GetObjectItemCaseSensitive(c, "description");

		data = case_data(c, &n_data);
		err = iota_tx_notarize(&m, net, data, n_data,
		    cJSON_IsString(d) ? d->valuestring : NULL, tx, IOTA_TX_MAX_BYTES, &len);
	} else if (strcmp(kind, "composite") == 0) {
		err = composite_tx(c, addr, gas, m.n_gas_coins, tx, IOTA_TX_MAX_BYTES, &len);
	} else {
		fail_msg("%s: unknown kind %s", name, kind);
	}
	assert_int_equal(err, IOTA_OK);

	tx_b64 = b64(tx, len);
	assert_string_equal(tx_b64, jstr(k->exp, "tx_bytes"));
	assert_int_equal(iota_tx_digest(digest, tx, len), IOTA_OK);
	iota_digest_format(digest_text, digest);
	assert_string_equal(digest_text, jstr(k->exp, "digest"));
	assert_int_equal(iota_sign_tx_seed(seed, tx, len, sig), IOTA_OK);
	sig_b64 = b64(sig, sizeof(sig));
	assert_string_equal(sig_b64, jstr(k->exp, "signature"));

	/* The signature verifies over the intent digest with the key in it. */
	assert_int_equal(iota_intent_digest(digest, tx, len), IOTA_OK);
	assert_int_equal(sdpp_verify_raw(sig + 1 + SDPP_SIGN_BYTES, digest, sizeof(digest), sig + 1,
	                     SDPP_SIGN_BYTES),
	    SDPP_OK);
	free(tx_b64);
	free(sig_b64);
	free(data);
	free(tx);
}

/* Runs when the vector files are missing or unreadable: that is a failure. */
static void
test_sdk_vectors_missing(void **state)
{
	(void)state;
	fail_msg("cannot read %s and %s (run from the repository root)", CASES_PATH, EXPECTED_PATH);
}

/* The reference's sanity vector, independent of the vector files. */
static void
test_sanity_key(void **state)
{
	uint8_t seed[32], pub[32], addr[32];
	char text[IOTA_ADDRESS_TEXT_LEN], hex[SDPP_HEX_LEN(32)];
	size_t i;

	(void)state;
	for (i = 0; i < 32; i++)
		seed[i] = (uint8_t)(i + 1);
	assert_int_equal(sdpp_ed25519_public_from_seed(pub, seed), SDPP_OK);
	sdpp_hex_encode(hex, pub, sizeof(pub));
	assert_string_equal(
	    hex, "79b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad049664");
	assert_int_equal(iota_address_from_public(addr, pub), IOTA_OK);
	iota_address_format(text, addr);
	assert_string_equal(
	    text, "0x4d4dbe917544b07922348a66b9c4b5a5a5f34a9ffb319915c39409c7d0ff230a");
}

/* iota_sign_tx() with a key-file identity equals signing with the raw
 * seed: the sdpp tool signs through the identity. */
static void
test_sign_identity(void **state)
{
	static const uint8_t msg[] = { 0, 0, 2, 0, 8, 5, 0, 0, 0, 0, 0, 0, 0 };
	uint8_t seed[32], xkey[32], a[IOTA_SIGNATURE_BYTES], b[IOTA_SIGNATURE_BYTES];
	EVP_PKEY *ed, *x;
	BIO *bio;
	char *pem;
	long pemlen;
	struct sdpp_identity *id = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < 32; i++) {
		seed[i] = (uint8_t)(i + 1);
		xkey[i] = (uint8_t)(0x40 + i);
	}
	ed = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
	x = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, xkey, 32);
	bio = BIO_new(BIO_s_mem());
	assert_true(ed != NULL && x != NULL && bio != NULL);
	assert_int_equal(PEM_write_bio_PrivateKey(bio, ed, NULL, NULL, 0, NULL, NULL), 1);
	assert_int_equal(PEM_write_bio_PrivateKey(bio, x, NULL, NULL, 0, NULL, NULL), 1);
	pemlen = BIO_get_mem_data(bio, &pem);
	assert_int_equal(sdpp_identity_from_pem(&id, pem, (size_t)pemlen), SDPP_OK);
	assert_int_equal(iota_sign_tx(id, msg, sizeof(msg), a), IOTA_OK);
	assert_int_equal(iota_sign_tx_seed(seed, msg, sizeof(msg), b), IOTA_OK);
	assert_memory_equal(a, b, sizeof(a));
	assert_int_equal(a[0], 0x00);
	assert_int_equal(iota_sign_tx(NULL, msg, sizeof(msg), a), IOTA_E_INVAL);
	sdpp_identity_free(id);
	BIO_free(bio);
	EVP_PKEY_free(ed);
	EVP_PKEY_free(x);
}

/* ---- BCS ---------------------------------------------------------------- */

static const struct {
	uint64_t v;
	const char *hex;
} uleb_vectors[] = {
	{ 0, "00" },
	{ 1, "01" },
	{ 127, "7f" },
	{ 128, "8001" },
	{ 255, "ff01" },
	{ 300, "ac02" },
	{ 16383, "ff7f" },
	{ 16384, "808001" },
	{ 20000, "a09c01" },
	{ 2097151, "ffff7f" },
	{ 2097152, "80808001" },
	{ 0x7fffffff, "ffffffff07" },
	{ 0xffffffff, "ffffffff0f" },
	{ 0x100000000ull, "8080808010" },
	{ UINT64_MAX, "ffffffffffffffffff01" },
};

static void
test_bcs_uleb128(void **state)
{
	uint8_t buf[BCS_ULEB128_MAX_BYTES], *want;
	struct bcs_writer w;
	size_t i, n, wantlen;

	(void)state;
	for (i = 0; i < sizeof(uleb_vectors) / sizeof(uleb_vectors[0]); i++) {
		want = test_unhex(uleb_vectors[i].hex, &wantlen);
		bcs_init(&w, buf, sizeof(buf));
		assert_int_equal(bcs_put_uleb128(&w, uleb_vectors[i].v), 0);
		assert_int_equal(bcs_finish(&w, &n), 0);
		assert_int_equal(n, wantlen);
		assert_int_equal(bcs_uleb128_size(uleb_vectors[i].v), wantlen);
		assert_memory_equal(buf, want, n);
		free(want);
	}
}

static void
test_bcs_values(void **state)
{
	static const char want[] = "ff"               /* u8 255 */
	                           "0201"             /* u16 0x0102 */
	                           "04030201"         /* u32 0x01020304 */
	                           "0807060504030201" /* u64 0x0102030405060708 */
	                           "0100"             /* bool true, false */
	                           "03616263"         /* string "abc" */
	                           "00"               /* empty vector<u8> */
	                           "00"               /* None */
	                           "01026869"         /* Some("hi") */
	                           "c0ffee";          /* fixed bytes, no length */
	uint8_t buf[64], *w8;
	struct bcs_writer w;
	size_t n, wantlen;

	(void)state;
	bcs_init(&w, buf, sizeof(buf));
	bcs_put_u8(&w, 255);
	bcs_put_u16(&w, 0x0102);
	bcs_put_u32(&w, 0x01020304);
	bcs_put_u64(&w, 0x0102030405060708ull);
	bcs_put_bool(&w, 7);
	bcs_put_bool(&w, 0);
	bcs_put_str(&w, "abc", 3);
	bcs_put_bytes(&w, NULL, 0);
	bcs_put_none(&w);
	bcs_put_some(&w);
	bcs_put_str(&w, "hi", 2);
	bcs_put_fixed(&w, "\xc0\xff\xee", 3);
	assert_int_equal(bcs_finish(&w, &n), 0);
	w8 = test_unhex(want, &wantlen);
	assert_int_equal(n, wantlen);
	assert_memory_equal(buf, w8, n);
	free(w8);

	/* Lengths beyond BCS's 2^31 - 1 are refused. */
	bcs_init(&w, buf, sizeof(buf));
	assert_int_equal(bcs_put_len(&w, (size_t)BCS_MAX_SEQUENCE_LEN + 1), -1);
	assert_int_equal(bcs_finish(&w, &n), -1);
}

/* The same writes into every cap below the size they need: -1, and no byte
 * past the cap changes (the buffer is exactly cap bytes on the heap, so
 * AddressSanitizer sees any overrun too). */
static size_t
write_sample(uint8_t *buf, size_t cap, int *rc)
{
	static const uint8_t blob[300] = { 1, 2, 3 };
	struct bcs_writer w;
	size_t n = 0;

	bcs_init(&w, buf, cap);
	bcs_put_u64(&w, UINT64_MAX);
	bcs_put_bytes(&w, blob, sizeof(blob));
	bcs_put_uleb128(&w, 16384);
	bcs_put_some(&w);
	bcs_put_str(&w, "notarization", 12);
	bcs_put_u16(&w, 7);
	*rc = bcs_finish(&w, &n);
	return *rc == 0 ? n : w.len;
}

static void
test_bcs_overflow(void **state)
{
	uint8_t full[512];
	size_t need, cap, used;
	int rc;

	(void)state;
	need = write_sample(full, sizeof(full), &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(need, 8 + 2 + 300 + 3 + 1 + 13 + 2);
	for (cap = 0; cap <= need; cap++) {
		uint8_t *buf = malloc(cap + CANARY_LEN);

		assert_non_null(buf);
		memset(buf, CANARY, cap + CANARY_LEN);
		used = write_sample(cap == 0 ? NULL : buf, cap, &rc);
		if (cap < need) {
			size_t i;

			assert_int_equal(rc, -1);
			assert_true(used <= cap);
			for (i = cap; i < cap + CANARY_LEN; i++)
				assert_int_equal(buf[i], CANARY);
		} else {
			assert_int_equal(rc, 0);
			assert_memory_equal(buf, full, need);
		}
		free(buf);
	}
}

/* A vector<u8> that does not fit leaves no dangling length behind. */
static void
test_bcs_bytes_atomic(void **state)
{
	uint8_t buf[8];
	struct bcs_writer w;
	size_t n;

	(void)state;
	memset(buf, CANARY, sizeof(buf));
	bcs_init(&w, buf, 4);
	assert_int_equal(bcs_put_bytes(&w, "abcd", 4), -1);
	assert_int_equal(w.len, 0);
	assert_int_equal(buf[0], CANARY);
	/* Sticky: a write that would fit is refused after a failure. */
	assert_int_equal(bcs_put_u8(&w, 1), -1);
	assert_int_equal(bcs_finish(&w, &n), -1);
}

/* ---- base58 ------------------------------------------------------------- */

/* Bitcoin Core's base58_encode_decode.json, plus leading-zero cases. */
static const struct {
	const char *hex, *b58;
} b58_vectors[] = {
	{ "", "" },
	{ "61", "2g" },
	{ "626262", "a3gV" },
	{ "636363", "aPEr" },
	{ "73696d706c792061206c6f6e6720737472696e67", "2cFupjhnEsSn59qHXstmK2ffpLv2" },
	{ "00eb15231dfceb60925886b67d065299925915aeb172c06647",
	    "1NS17iag9jJgTHD1VXjvLCEnZuQ3rJDE9L" },
	{ "516b6fcd0f", "ABnLTmg" },
	{ "bf4f89001e670274dd", "3SEo3LWLoPntC" },
	{ "572e4794", "3EFU7m" },
	{ "ecac89cad93923c02321", "EJDM8drfXA6uyA" },
	{ "10c8511e", "Rt5zm" },
	{ "00000000000000000000", "1111111111" },
	{ "00", "1" },
	{ "0000", "11" },
	{ "000001", "112" },
	{ "0000000000000000000000000000000000000000000000000000000000000000",
	    "11111111111111111111111111111111" },
	{ "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
	    "JEKNVnkbo3jma5nREBBJCDoXFVeKkD56V3xKrvRmWxFG" },
};

static void
test_base58_vectors(void **state)
{
	char text[BASE58_LEN(64)];
	uint8_t out[64], *bin;
	size_t i, n, outlen;

	(void)state;
	for (i = 0; i < sizeof(b58_vectors) / sizeof(b58_vectors[0]); i++) {
		bin = test_unhex(b58_vectors[i].hex, &n);
		assert_int_equal(
		    base58_encode(text, sizeof(text), bin, n), (int)strlen(b58_vectors[i].b58));
		assert_string_equal(text, b58_vectors[i].b58);
		assert_int_equal(base58_decode(out, sizeof(out), &outlen, b58_vectors[i].b58,
		                     strlen(b58_vectors[i].b58)),
		    0);
		assert_int_equal(outlen, n);
		if (n > 0)
			assert_memory_equal(out, bin, n);
		free(bin);
	}
}

static void
test_base58_round_trip(void **state)
{
	uint8_t in[BASE58_MAX_BYTES], out[BASE58_MAX_BYTES];
	char text[BASE58_LEN(BASE58_MAX_BYTES)];
	size_t n, zeros, i, outlen;
	uint32_t x = 12345;
	int len;

	(void)state;
	for (n = 0; n <= BASE58_MAX_BYTES; n += (n < 40 ? 1 : 11)) {
		for (zeros = 0; zeros <= n && zeros <= 3; zeros++) {
			for (i = 0; i < n; i++) {
				x = x * 1103515245u + 12345u;
				in[i] = i < zeros ? 0 : (uint8_t)(x >> 16);
			}
			len = base58_encode(text, sizeof(text), in, n);
			assert_true(len >= 0 && (size_t)len < BASE58_LEN(n));
			assert_int_equal(
			    base58_decode(out, sizeof(out), &outlen, text, (size_t)len), 0);
			assert_int_equal(outlen, n);
			if (n > 0)
				assert_memory_equal(out, in, n);
		}
	}
}

static void
test_base58_refusals(void **state)
{
	static const char *const bad[] = { "0", "O", "I", "l", "+", "/", " ", "1 1", "abc ", "2g\n",
		"\xc3\xa9", "-2g" };
	char big[BASE58_MAX_CHARS + 2], text[8];
	uint8_t out[64], in[BASE58_MAX_BYTES + 1];
	size_t i, outlen;
	char *tight;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(
		    base58_decode(out, sizeof(out), &outlen, bad[i], strlen(bad[i])), -1);
	/* An embedded NUL is not a digit. */
	assert_int_equal(base58_decode(out, sizeof(out), &outlen, "2g\0", 3), -1);
	/* Over the input cap. */
	memset(big, '2', sizeof(big));
	assert_int_equal(base58_decode(out, sizeof(out), &outlen, big, BASE58_MAX_CHARS + 1), -1);
	memset(in, 1, sizeof(in));
	assert_int_equal(base58_encode(text, sizeof(text), in, BASE58_MAX_BYTES + 1), -1);
	/* Results that do not fit the cap. */
	assert_int_equal(base58_decode(out, 2, &outlen, "a3gV", 4), -1);
	assert_int_equal(base58_decode(out, 1, &outlen, "11", 2), -1);
	assert_int_equal(base58_decode(out, 3, &outlen, "a3gV", 4), 0);
	/* "a3gV" and NUL need 5 bytes: 4 is refused with nothing past the cap. */
	tight = malloc(4 + CANARY_LEN);
	assert_non_null(tight);
	memset(tight, CANARY, 4 + CANARY_LEN);
	assert_int_equal(base58_encode(tight, 4, (const uint8_t *)"bbb", 3), -1);
	assert_int_equal(tight[0], '\0');
	for (i = 4; i < 4 + CANARY_LEN; i++)
		assert_int_equal((uint8_t)tight[i], CANARY);
	assert_int_equal(base58_encode(tight, 5, (const uint8_t *)"bbb", 3), 4);
	free(tight);
}

/* ---- text forms --------------------------------------------------------- */

static void
test_address_parse(void **state)
{
	static const char good[] =
	    "0x4D4Dbe917544b07922348a66b9c4b5a5a5f34a9ffb319915c39409c7d0ff230a";
	static const char *const bad[] = {
		"",
		"0x",
		"0x6",
		"4d4dbe917544b07922348a66b9c4b5a5a5f34a9ffb319915c39409c7d0ff230a",
		"0x4d4dbe917544b07922348a66b9c4b5a5a5f34a9ffb319915c39409c7d0ff230",
		"0x4d4dbe917544b07922348a66b9c4b5a5a5f34a9ffb319915c39409c7d0ff230a0",
		"0x4d4dbe917544b07922348a66b9c4b5a5a5f34a9ffb319915c39409c7d0ff230g",
		" 0x4d4dbe917544b07922348a66b9c4b5a5a5f34a9ffb319915c39409c7d0ff230a",
	};
	uint8_t addr[32];
	char text[IOTA_ADDRESS_TEXT_LEN];
	size_t i;

	(void)state;
	assert_int_equal(iota_address_parse(addr, good), 0);
	iota_address_format(text, addr);
	assert_string_equal(
	    text, "0x4d4dbe917544b07922348a66b9c4b5a5a5f34a9ffb319915c39409c7d0ff230a");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(iota_address_parse(addr, bad[i]), -1);
}

static void
test_object_ref_parse(void **state)
{
	static const char id[] =
	    "0x56411f973adbf2020408cd27d03e378d142e4450ae4c3d59bd4973fd0883561b";
	static const struct {
		const char *text, *why;
	} bad[] = {
		{ "", "expected ID:VERSION:DIGEST" },
		{ "0x01:7", "expected ID:VERSION:DIGEST" },
		{ "a:b:c:d", "expected ID:VERSION:DIGEST" },
		{ "0x6:7:11111111111111111111111111111111", "object id" },
		{ "0x56411f973adbf2020408cd27d03e378d142e4450ae4c3d59bd4973fd0883561b::"
		  "11111111111111111111111111111111",
		    "version" },
		{ "0x56411f973adbf2020408cd27d03e378d142e4450ae4c3d59bd4973fd0883561b:-1:"
		  "11111111111111111111111111111111",
		    "version" },
		{ "0x56411f973adbf2020408cd27d03e378d142e4450ae4c3d59bd4973fd0883561b:"
		  "18446744073709551616:11111111111111111111111111111111",
		    "version" },
		{ "0x56411f973adbf2020408cd27d03e378d142e4450ae4c3d59bd4973fd0883561b: 7:"
		  "11111111111111111111111111111111",
		    "version" },
		{ "0x56411f973adbf2020408cd27d03e378d142e4450ae4c3d59bd4973fd0883561b:7:"
		  "1111111111111111111111111111111",
		    "digest" },
		{ "0x56411f973adbf2020408cd27d03e378d142e4450ae4c3d59bd4973fd0883561b:7:"
		  "0000",
		    "digest" },
	};
	struct iota_object_ref ref;
	char text[256], err[64];
	size_t i;

	(void)state;
	snprintf(text, sizeof(text), "%s:18446744073709551615:%s", id,
	    "JEKNVnkbo3jma5nREBBJCDoXFVeKkD56V3xKrvRmWxFG");
	assert_int_equal(iota_object_ref_parse(&ref, text, err, sizeof(err)), 0);
	assert_true(ref.version == UINT64_MAX);
	assert_int_equal(ref.id[0], 0x56);
	assert_int_equal(ref.digest[0], 0xff);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(iota_object_ref_parse(&ref, bad[i].text, err, sizeof(err)), -1);
		if (strstr(err, bad[i].why) == NULL)
			fail_msg("`%s': reason `%s' lacks `%s'", bad[i].text, err, bad[i].why);
	}
	/* A tiny err buffer is cut, not overrun. */
	assert_int_equal(iota_object_ref_parse(&ref, "x", err, 4), -1);
	assert_int_equal(strlen(err), 3);
}

static void
test_networks(void **state)
{
	enum iota_network net;
	char text[IOTA_ADDRESS_TEXT_LEN];

	(void)state;
	assert_int_equal(iota_network_parse(&net, "devnet"), 0);
	assert_int_equal(net, IOTA_DEVNET);
	assert_string_equal(iota_network_name(net), "devnet");
	assert_int_equal(iota_network_parse(&net, "Mainnet"), -1);
	assert_int_equal(iota_network_parse(&net, "localnet"), -1);
	iota_address_format(text, iota_notarization_package(IOTA_MAINNET));
	assert_string_equal(
	    text, "0x909ce9dcd9a5e97b7b8884fac8e018fad9dece348bf73837379b8694ff684cf3");
	iota_address_format(text, iota_notarization_package(IOTA_TESTNET));
	assert_string_equal(
	    text, "0x00412bd469b7f980227c6c574090348239852e43aa07818b315854fdd8a2d25f");
	iota_address_format(text, iota_notarization_package(IOTA_DEVNET));
	assert_string_equal(
	    text, "0x72c8433b88e6bdee0eb02a257fdebd0ec2b6c990043f35b155cb4c5cf727fdca");
	assert_null(iota_notarization_package((enum iota_network)7));
}

/* ---- encoder checks and capped output ----------------------------------- */

static void
sample_meta(struct iota_tx_meta *m, struct iota_object_ref *coin)
{
	memset(m, 0, sizeof(*m));
	memset(coin, 0x11, sizeof(*coin));
	memset(m->sender, 0x22, sizeof(m->sender));
	m->gas_coins = coin;
	m->n_gas_coins = 1;
	m->gas_price = 1000;
	m->gas_budget = 5000000;
}

/* Every cap below the size of a payment and a notarization: IOTA_E_SPACE
 * and nothing written past the cap (heap buffers of exactly cap bytes). */
static void
test_tx_capped(void **state)
{
	static const uint8_t data[300] = { 7 };
	uint8_t recipient[32], full[2048];
	struct iota_object_ref coin;
	struct iota_tx_meta m;
	size_t need, cap, len, i;
	int which;

	(void)state;
	sample_meta(&m, &coin);
	memset(recipient, 0x33, sizeof(recipient));
	for (which = 0; which < 2; which++) {
		enum iota_err err =
		    which == 0 ? iota_tx_payment(&m, recipient, 42, full, sizeof(full), &need)
		               : iota_tx_notarize(&m, IOTA_TESTNET, data, sizeof(data), "d", full,
		                     sizeof(full), &need);

		assert_int_equal(err, IOTA_OK);
		for (cap = 0; cap <= need; cap++) {
			uint8_t *buf = malloc(cap + CANARY_LEN);

			assert_non_null(buf);
			memset(buf, CANARY, cap + CANARY_LEN);
			err = which == 0 ? iota_tx_payment(&m, recipient, 42, buf, cap, &len)
			                 : iota_tx_notarize(&m, IOTA_TESTNET, data, sizeof(data),
			                       "d", buf, cap, &len);
			if (cap < need) {
				assert_int_equal(err, IOTA_E_SPACE);
				for (i = cap; i < cap + CANARY_LEN; i++)
					assert_int_equal(buf[i], CANARY);
			} else {
				assert_int_equal(err, IOTA_OK);
				assert_int_equal(len, need);
				assert_memory_equal(buf, full, need);
			}
			free(buf);
		}
	}
}

static void
test_tx_refusals(void **state)
{
	/* deep[i] is vector<...> nested 17 - i times around u8. */
	struct iota_type_tag deep[IOTA_TYPE_DEPTH_MAX + 2];
	uint8_t out[4096], recipient[32] = { 0 };
	struct iota_object_ref coin, *many;
	struct iota_tx_meta m;
	struct iota_input in[1];
	struct iota_command cmd[1];
	struct iota_arg arg;
	struct iota_tx tx;
	size_t len, i;

	(void)state;
	for (i = 0; i < IOTA_TYPE_DEPTH_MAX + 2; i++) {
		deep[i].kind = i <= IOTA_TYPE_DEPTH_MAX ? IOTA_TYPE_VECTOR : IOTA_TYPE_U8;
		deep[i].elem = i <= IOTA_TYPE_DEPTH_MAX ? &deep[i + 1] : NULL;
		deep[i].st = NULL;
	}
	sample_meta(&m, &coin);
	/* Our builders need a gas coin; the encoder caps them at 256. */
	m.n_gas_coins = 0;
	assert_int_equal(iota_tx_payment(&m, recipient, 1, out, sizeof(out), &len), IOTA_E_INVAL);
	many = calloc(IOTA_GAS_COINS_MAX + 1, sizeof(*many));
	assert_non_null(many);
	m.gas_coins = many;
	m.n_gas_coins = IOTA_GAS_COINS_MAX + 1;
	assert_int_equal(iota_tx_payment(&m, recipient, 1, out, sizeof(out), &len), IOTA_E_LIMIT);
	m.n_gas_coins = IOTA_GAS_COINS_MAX;
	assert_int_equal(iota_tx_payment(&m, recipient, 1, out, sizeof(out), &len), IOTA_E_SPACE);
	free(many);
	sample_meta(&m, &coin);

	/* A description that is not UTF-8 would abort on chain. */
	assert_int_equal(iota_tx_notarize(&m, IOTA_MAINNET, (const uint8_t *)"x", 1, "\xc3(", out,
	                     sizeof(out), &len),
	    IOTA_E_UTF8);
	assert_int_equal(iota_tx_notarize(&m, (enum iota_network)9, (const uint8_t *)"x", 1, NULL,
	                     out, sizeof(out), &len),
	    IOTA_E_INVAL);
	assert_int_equal(iota_tx_notarize(&m, IOTA_MAINNET, NULL, 5, NULL, out, sizeof(out), &len),
	    IOTA_E_INVAL);

	/* Hand-made transactions: one pure input, one command. */
	memset(&tx, 0, sizeof(tx));
	iota_input_pure_u64(&in[0], 5);
	memset(cmd, 0, sizeof(cmd));
	tx.inputs = in;
	tx.n_inputs = 1;
	tx.commands = cmd;
	tx.n_commands = 1;
	tx.gas_coins = &coin;
	tx.n_gas_coins = 1;

	cmd[0].kind = IOTA_CMD_SPLIT_COINS;
	cmd[0].target = iota_arg_gas();
	cmd[0].args = &arg;
	cmd[0].n_args = 1;
	arg = iota_arg_input(0);
	assert_int_equal(iota_tx_encode(&tx, out, sizeof(out), &len), IOTA_OK);
	arg = iota_arg_input(1); /* no such input */
	assert_int_equal(iota_tx_encode(&tx, out, sizeof(out), &len), IOTA_E_INVAL);
	/* The same answer whatever the buffer: checks do not stop at the cap. */
	assert_int_equal(iota_tx_encode(&tx, out, 4, &len), IOTA_E_INVAL);
	assert_int_equal(iota_tx_encode(&tx, NULL, 0, &len), IOTA_E_INVAL);
	arg = iota_arg_result(0); /* a command cannot use its own result */
	assert_int_equal(iota_tx_encode(&tx, out, sizeof(out), &len), IOTA_E_INVAL);
	arg = iota_arg_nested(3, 0);
	assert_int_equal(iota_tx_encode(&tx, out, sizeof(out), &len), IOTA_E_INVAL);
	cmd[0].args = NULL; /* n_args 1 with no array */
	assert_int_equal(iota_tx_encode(&tx, out, sizeof(out), &len), IOTA_E_INVAL);

	cmd[0].kind = IOTA_CMD_MOVE_CALL;
	cmd[0].module = "timelock";
	cmd[0].function = "none";
	cmd[0].args = NULL;
	cmd[0].n_args = 0;
	assert_int_equal(iota_tx_encode(&tx, out, sizeof(out), &len), IOTA_OK);
	cmd[0].function = "9lives";
	assert_int_equal(iota_tx_encode(&tx, out, sizeof(out), &len), IOTA_E_INVAL);
	cmd[0].function = "_";
	assert_int_equal(iota_tx_encode(&tx, out, sizeof(out), &len), IOTA_E_INVAL);
	cmd[0].function = "has space";
	assert_int_equal(iota_tx_encode(&tx, out, sizeof(out), &len), IOTA_E_INVAL);
	cmd[0].function = NULL;
	assert_int_equal(iota_tx_encode(&tx, out, sizeof(out), &len), IOTA_E_INVAL);
	cmd[0].function = "_ok_2";
	assert_int_equal(iota_tx_encode(&tx, out, sizeof(out), &len), IOTA_OK);

	/* Type nesting: 16 levels pass, 17 are refused. */
	cmd[0].type_args = &deep[2];
	cmd[0].n_type_args = 1;
	assert_int_equal(iota_tx_encode(&tx, out, sizeof(out), &len), IOTA_OK);
	cmd[0].type_args = &deep[1];
	assert_int_equal(iota_tx_encode(&tx, out, sizeof(out), &len), IOTA_E_LIMIT);

	cmd[0].kind = (enum iota_command_kind)9;
	assert_int_equal(iota_tx_encode(&tx, out, sizeof(out), &len), IOTA_E_INVAL);
	assert_int_equal(iota_tx_encode(NULL, out, sizeof(out), &len), IOTA_E_INVAL);
	assert_string_equal(iota_strerror(IOTA_E_SPACE), "output buffer too small");
}

/* Expiration Epoch is 01 then the u64; None is 00 (the last bytes). */
static void
test_tx_expiration(void **state)
{
	uint8_t out[512], recipient[32] = { 0 };
	struct iota_object_ref coin;
	struct iota_tx_meta m;
	size_t len;

	(void)state;
	sample_meta(&m, &coin);
	assert_int_equal(iota_tx_payment(&m, recipient, 1, out, sizeof(out), &len), IOTA_OK);
	assert_int_equal(out[len - 1], 0x00);
	m.has_expiration = 1;
	m.expiration_epoch = 0x0102030405060708ull;
	assert_int_equal(iota_tx_payment(&m, recipient, 1, out, sizeof(out), &len), IOTA_OK);
	assert_memory_equal(out + len - 9, "\x01\x08\x07\x06\x05\x04\x03\x02\x01", 9);
}

/* ---- main --------------------------------------------------------------- */

int
main(void)
{
	static const struct CMUnitTest units[] = {
		cmocka_unit_test(test_sanity_key),
		cmocka_unit_test(test_sign_identity),
		cmocka_unit_test(test_bcs_uleb128),
		cmocka_unit_test(test_bcs_values),
		cmocka_unit_test(test_bcs_overflow),
		cmocka_unit_test(test_bcs_bytes_atomic),
		cmocka_unit_test(test_base58_vectors),
		cmocka_unit_test(test_base58_round_trip),
		cmocka_unit_test(test_base58_refusals),
		cmocka_unit_test(test_address_parse),
		cmocka_unit_test(test_object_ref_parse),
		cmocka_unit_test(test_networks),
		cmocka_unit_test(test_tx_capped),
		cmocka_unit_test(test_tx_refusals),
		cmocka_unit_test(test_tx_expiration),
	};
	size_t n_units = sizeof(units) / sizeof(units[0]), n = 0, i, clen, elen;
	char *ctext = test_file_read(CASES_PATH, &clen);
	char *etext = test_file_read(EXPECTED_PATH, &elen);
	cJSON *cases = ctext == NULL ? NULL : cJSON_Parse(ctext);
	cJSON *expected = etext == NULL ? NULL : cJSON_Parse(etext);
	const cJSON *clist = cJSON_GetObjectItemCaseSensitive(cases, "cases");
	const cJSON *elist = cJSON_GetObjectItemCaseSensitive(expected, "cases");
	size_t n_cases = cJSON_IsArray(clist) ? (size_t)cJSON_GetArraySize(clist) : 0;
	struct CMUnitTest *tests;
	struct sdk_case *ctx;
	int rc;

	/* Both files list the same cases in the same order, else it is one
	 * failing test. */
	if (n_cases == 0 || !cJSON_IsArray(elist) || (size_t)cJSON_GetArraySize(elist) != n_cases)
		n_cases = 0;
	tests = calloc(n_units + n_cases + 1, sizeof(*tests));
	ctx = calloc(n_cases + 1, sizeof(*ctx));
	if (tests == NULL || ctx == NULL)
		return 1;
	for (i = 0; i < n_units; i++)
		tests[n++] = units[i];
	for (i = 0; i < n_cases; i++) {
		ctx[i].c = cJSON_GetArrayItem(clist, (int)i);
		ctx[i].exp = cJSON_GetArrayItem(elist, (int)i);
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(ctx[i].c, "name");

		tests[n].name = cJSON_IsString(name) ? name->valuestring : "unnamed case";
		tests[n].test_func = test_sdk_case;
		tests[n].initial_state = &ctx[i];
		n++;
	}
	if (n_cases == 0) {
		tests[n].name = "test_sdk_vectors";
		tests[n].test_func = test_sdk_vectors_missing;
		n++;
	}
	rc = _cmocka_run_group_tests("iota", tests, n, NULL, NULL);
	free(tests);
	free(ctx);
	cJSON_Delete(cases);
	cJSON_Delete(expected);
	free(ctext);
	free(etext);
	return rc;
}
