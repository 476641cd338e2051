/* IOTA digests, intent signatures and addresses (BLAKE2b-256 by libsodium), and their text. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "iota/base58.h"
#include "iota/iota.h"
#include "sdpp/enc.h"

/* Intent prefix for a transaction: scope TransactionData (0), version V0
 * (0), app Iota (0). */
static const uint8_t intent_tx[3] = { 0, 0, 0 };
/* Domain separator of a transaction digest (the type name and "::"). */
static const char digest_tag[] = "TransactionData::";

/* BLAKE2b-256 of prefix || msg. OpenSSL 3.0 cannot produce the 32-byte
 * variant (BLAKE2B-512 ignores its size parameter before 3.2), hence
 * libsodium. */
static enum iota_err
blake2b256(uint8_t out[32], const void *prefix, size_t plen, const uint8_t *msg, size_t len)
{
	crypto_generichash_state st;
	enum iota_err err = IOTA_E_CRYPTO;

	if (msg == NULL && len > 0)
		return IOTA_E_INVAL;
	/* Idempotent and thread-safe; picks the fastest implementation. */
	if (sodium_init() < 0)
		return IOTA_E_CRYPTO;
	if (crypto_generichash_init(&st, NULL, 0, 32) != 0)
		goto fail;
	if (plen > 0 && crypto_generichash_update(&st, prefix, plen) != 0)
		goto fail;
	if (len > 0 && crypto_generichash_update(&st, msg, len) != 0)
		goto fail;
	if (crypto_generichash_final(&st, out, 32) != 0)
		goto fail;
	err = IOTA_OK;
fail:
	sodium_memzero(&st, sizeof(st));
	return err;
}

enum iota_err
iota_tx_digest(uint8_t digest[IOTA_DIGEST_BYTES], const uint8_t *tx, size_t len)
{
	return blake2b256(digest, digest_tag, sizeof(digest_tag) - 1, tx, len);
}

enum iota_err
iota_intent_digest(uint8_t digest[IOTA_DIGEST_BYTES], const uint8_t *tx, size_t len)
{
	return blake2b256(digest, intent_tx, sizeof(intent_tx), tx, len);
}

enum iota_err
iota_address_from_public(
    uint8_t addr[IOTA_ADDRESS_BYTES], const uint8_t pub[SDPP_SIGN_PUBLIC_BYTES])
{
	/* Ed25519 is the one scheme whose address omits the flag byte. */
	return blake2b256(addr, NULL, 0, pub, SDPP_SIGN_PUBLIC_BYTES);
}

/* 00 || signature || public key. */
static void
serialize_sig(uint8_t out[IOTA_SIGNATURE_BYTES], const uint8_t sig[SDPP_SIGN_BYTES],
    const uint8_t pub[SDPP_SIGN_PUBLIC_BYTES])
{
	out[0] = 0x00; /* Ed25519 scheme flag */
	memcpy(out + 1, sig, SDPP_SIGN_BYTES);
	memcpy(out + 1 + SDPP_SIGN_BYTES, pub, SDPP_SIGN_PUBLIC_BYTES);
}

enum iota_err
iota_sign_tx(const struct sdpp_identity *id, const uint8_t *tx, size_t len,
    uint8_t sig[IOTA_SIGNATURE_BYTES])
{
	uint8_t digest[IOTA_DIGEST_BYTES], raw[SDPP_SIGN_BYTES], pub[SDPP_SIGN_PUBLIC_BYTES];
	enum iota_err err;

	if (id == NULL)
		return IOTA_E_INVAL;
	err = iota_intent_digest(digest, tx, len);
	if (err != IOTA_OK)
		return err;
	if (sdpp_sign(id, digest, sizeof(digest), raw) != SDPP_OK)
		return IOTA_E_CRYPTO;
	sdpp_identity_sign_public(id, pub);
	serialize_sig(sig, raw, pub);
	return IOTA_OK;
}

enum iota_err
iota_sign_tx_seed(
    const uint8_t seed[32], const uint8_t *tx, size_t len, uint8_t sig[IOTA_SIGNATURE_BYTES])
{
	uint8_t digest[IOTA_DIGEST_BYTES], raw[SDPP_SIGN_BYTES], pub[SDPP_SIGN_PUBLIC_BYTES];
	enum iota_err err;

	err = iota_intent_digest(digest, tx, len);
	if (err != IOTA_OK)
		return err;
	if (sdpp_ed25519_sign_seed(raw, seed, digest, sizeof(digest)) != SDPP_OK ||
	    sdpp_ed25519_public_from_seed(pub, seed) != SDPP_OK)
		return IOTA_E_CRYPTO;
	serialize_sig(sig, raw, pub);
	return IOTA_OK;
}

void
iota_address_format(char *out, const uint8_t addr[IOTA_ADDRESS_BYTES])
{
	out[0] = '0';
	out[1] = 'x';
	sdpp_hex_encode(out + 2, addr, IOTA_ADDRESS_BYTES);
}

int
iota_address_parse(uint8_t addr[IOTA_ADDRESS_BYTES], const char *text)
{
	if (text == NULL || text[0] != '0' || (text[1] != 'x' && text[1] != 'X'))
		return -1;
	/* sdpp_hex_decode() wants exactly 64 digits, so short forms fail. */
	return sdpp_hex_decode(addr, IOTA_ADDRESS_BYTES, text + 2) == SDPP_OK ? 0 : -1;
}

void
iota_digest_format(char *out, const uint8_t digest[IOTA_DIGEST_BYTES])
{
	/* Cannot fail: 32 bytes always fit IOTA_DIGEST_TEXT_LEN. */
	if (base58_encode(out, IOTA_DIGEST_TEXT_LEN, digest, IOTA_DIGEST_BYTES) < 0)
		out[0] = '\0';
}

int
iota_digest_parse(uint8_t digest[IOTA_DIGEST_BYTES], const char *text)
{
	uint8_t buf[IOTA_DIGEST_BYTES];
	size_t n;

	if (text == NULL || base58_decode(buf, sizeof(buf), &n, text, strlen(text)) != 0 ||
	    n != IOTA_DIGEST_BYTES)
		return -1;
	memcpy(digest, buf, IOTA_DIGEST_BYTES);
	return 0;
}

/* Copies "what: `value'" into err, cut at errlen. */
static int
ref_error(char *err, size_t errlen, const char *what)
{
	if (err != NULL && errlen > 0) {
		size_t n = strlen(what);

		if (n >= errlen)
			n = errlen - 1;
		memcpy(err, what, n);
		err[n] = '\0';
	}
	return -1;
}

/* Decimal u64 of the whole of s[0..n): digits only, no sign or spaces. */
static int
parse_u64(uint64_t *out, const char *s, size_t n)
{
	char buf[21];
	char *end;
	unsigned long long v;

	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (strspn(buf, "0123456789") != n)
		return -1;
	errno = 0;
	v = strtoull(buf, &end, 10);
	/* unsigned long long is at least 64 bits; ERANGE catches 2^64 and up. */
	if (errno != 0 || *end != '\0')
		return -1;
	*out = (uint64_t)v;
	return 0;
}

int
iota_object_ref_parse(struct iota_object_ref *ref, const char *text, char *err, size_t errlen)
{
	const char *c1, *c2;
	char id[2 + 2 * IOTA_ADDRESS_BYTES + 1];
	size_t idlen;

	if (text == NULL)
		return ref_error(err, errlen, "missing");
	c1 = strchr(text, ':');
	c2 = c1 == NULL ? NULL : strchr(c1 + 1, ':');
	if (c1 == NULL || c2 == NULL || strchr(c2 + 1, ':') != NULL)
		return ref_error(err, errlen, "expected ID:VERSION:DIGEST");
	idlen = (size_t)(c1 - text);
	if (idlen >= sizeof(id))
		return ref_error(err, errlen, "object id is not 0x and 64 hex digits");
	memcpy(id, text, idlen);
	id[idlen] = '\0';
	if (iota_address_parse(ref->id, id) != 0)
		return ref_error(err, errlen, "object id is not 0x and 64 hex digits");
	if (parse_u64(&ref->version, c1 + 1, (size_t)(c2 - c1 - 1)) != 0)
		return ref_error(err, errlen, "version is not a decimal number below 2^64");
	if (iota_digest_parse(ref->digest, c2 + 1) != 0)
		return ref_error(err, errlen, "digest is not base58 of 32 bytes");
	return 0;
}
