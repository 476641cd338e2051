/* The SDPP crypto suite on OpenSSL 3: Ed25519, X25519 sealing, HKDF, AES-256-GCM, SHA-256. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "sdpp/crypto.h"
#include "sdpp/enc.h"

/* Domain separation prefix of the sealing KDF (docs/PROTOCOL.md); no NUL. */
static const char seal_label[] = "sdpp/1 session key";
#define SEAL_LABEL_BYTES (sizeof(seal_label) - 1)

/*
 * OpenSSL 3.0's HKDF provider refuses more than 32 KiB of info (its
 * HKDF_MAXINFO); we refuse it first so the error is SDPP_E_INVAL, not a
 * mysterious SDPP_E_CRYPTO.
 */
#define HKDF_INFO_MAX 32768
#define HKDF_OUT_MAX (255 * SDPP_SHA256_BYTES)

/* Key texts are a few hundred bytes; anything this large is not ours. */
#define PEM_TEXT_MAX 16384

/* One HKDF expand gives the AES key and the GCM nonce of a sealed box. */
#define SEAL_OKM_BYTES (SDPP_AEAD_KEY_BYTES + SDPP_AEAD_NONCE_BYTES)

/* OpenSSL takes int lengths; feed larger buffers in pieces of this size. */
#define EVP_CHUNK (1 << 30)

static const char pem_begin_priv[] = "-----BEGIN PRIVATE KEY-----";
static const char pem_end_priv[] = "-----END PRIVATE KEY-----";

static const uint8_t x25519_base[SDPP_X25519_BYTES] = { 9 };

/* OSSL_PARAM wants void * for input it only reads. */
static void *
unconst(const void *p)
{
	union {
		const void *c;
		void *v;
	} u;

	u.c = p;
	return u.v;
}

/*
 * Ed25519 signs and verifies with libsodium, measured 1.7 to 1.9 times
 * OpenSSL 3.0's speed here for the same results (bench/bench_crypto.c;
 * all of Wycheproof's Ed25519 cases agree). libsodium is also the stricter
 * verifier: it refuses small-order public keys and R, which no RFC 8032
 * signer produces. OpenSSL keeps the key files (PKCS#8, SPKI) and X25519.
 */
struct sdpp_identity {
	EVP_PKEY *sign;                              /* Ed25519 private key (key files) */
	EVP_PKEY *enc;                               /* X25519 private key */
	uint8_t sign_sk[crypto_sign_SECRETKEYBYTES]; /* the same, as libsodium signs with it */
	uint8_t sign_pub[SDPP_SIGN_PUBLIC_BYTES];
	uint8_t enc_pub[SDPP_ENC_PUBLIC_BYTES];
};

struct sdpp_verifier {
	uint8_t pub[SDPP_SIGN_PUBLIC_BYTES];
};

/* libsodium picks its implementations once; later calls only return. */
static enum sdpp_err
sodium_ready(void)
{
	return sodium_init() < 0 ? SDPP_E_CRYPTO : SDPP_OK;
}

/*
 * Each direction's context is keyed on its first use, then each message
 * only sets the nonce. A seller only seals and a buyer only opens: the
 * other context (a key schedule, about 1.1 KB) is never made, which a
 * gateway holding thousands of sessions notices.
 */
struct sdpp_aead {
	EVP_CIPHER_CTX *enc;
	EVP_CIPHER_CTX *dec;
	uint8_t key[SDPP_AEAD_KEY_BYTES]; /* until both contexts exist */
};

void
sdpp_wipe(void *p, size_t len)
{
	if (p != NULL && len > 0)
		OPENSSL_cleanse(p, len);
}

void
sdpp_secret_free(void *p, size_t len)
{
	if (p == NULL)
		return;
	OPENSSL_cleanse(p, len);
	free(p);
}

int
sdpp_memcmp_ct(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) != 0;
}

/* 1 when all n bytes are zero, without branching on the secret bytes. */
static int
is_zero_ct(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;
	size_t i;

	for (i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

enum sdpp_err
sdpp_random(void *buf, size_t n)
{
	uint8_t *p = buf;
	size_t chunk;

	if (p == NULL && n > 0)
		return SDPP_E_INVAL;
	while (n > 0) {
		chunk = n > EVP_CHUNK ? EVP_CHUNK : n;
		if (RAND_bytes(p, (int)chunk) != 1)
			return SDPP_E_CRYPTO;
		p += chunk;
		n -= chunk;
	}
	return SDPP_OK;
}

enum sdpp_err
sdpp_sha256(uint8_t out[SDPP_SHA256_BYTES], const struct sdpp_iov *parts, size_t n)
{
	EVP_MD_CTX *ctx;
	enum sdpp_err e = SDPP_E_CRYPTO;
	unsigned int outlen = 0;
	size_t i;

	if (parts == NULL && n > 0)
		return SDPP_E_INVAL;
	ctx = EVP_MD_CTX_new();
	if (ctx == NULL)
		return SDPP_E_NOMEM;
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		goto fail;
	for (i = 0; i < n; i++) {
		if (parts[i].len == 0)
			continue;
		if (parts[i].base == NULL) {
			e = SDPP_E_INVAL;
			goto fail;
		}
		if (EVP_DigestUpdate(ctx, parts[i].base, parts[i].len) != 1)
			goto fail;
	}
	if (EVP_DigestFinal_ex(ctx, out, &outlen) != 1 || outlen != SDPP_SHA256_BYTES)
		goto fail;
	e = SDPP_OK;
fail:
	EVP_MD_CTX_free(ctx);
	return e;
}

/* Raw public half of an Ed25519 or X25519 key (both 32 bytes). */
static enum sdpp_err
raw_public(EVP_PKEY *pkey, uint8_t out[32])
{
	size_t n = 32;

	if (EVP_PKEY_get_raw_public_key(pkey, out, &n) != 1 || n != 32)
		return SDPP_E_CRYPTO;
	return SDPP_OK;
}

/* Fills the cached public halves, and libsodium's signing key, after
 * both private keys are set. */
static enum sdpp_err
identity_cache_publics(struct sdpp_identity *id)
{
	uint8_t seed[crypto_sign_SEEDBYTES], pk[crypto_sign_PUBLICKEYBYTES];
	size_t n = sizeof(seed);
	enum sdpp_err e;

	e = raw_public(id->sign, id->sign_pub);
	if (e != SDPP_OK)
		return e;
	e = SDPP_E_CRYPTO;
	if (sodium_ready() != SDPP_OK || EVP_PKEY_get_raw_private_key(id->sign, seed, &n) != 1 ||
	    n != sizeof(seed) || crypto_sign_seed_keypair(pk, id->sign_sk, seed) != 0 ||
	    memcmp(pk, id->sign_pub, sizeof(pk)) != 0)
		goto out;
	e = raw_public(id->enc, id->enc_pub);
out:
	sodium_memzero(seed, sizeof(seed));
	return e;
}

static enum sdpp_err
keygen(EVP_PKEY **out, int type)
{
	EVP_PKEY_CTX *ctx;
	enum sdpp_err e = SDPP_E_CRYPTO;

	*out = NULL;
	ctx = EVP_PKEY_CTX_new_id(type, NULL);
	if (ctx == NULL)
		return SDPP_E_NOMEM;
	if (EVP_PKEY_keygen_init(ctx) != 1 || EVP_PKEY_keygen(ctx, out) != 1)
		goto fail;
	e = SDPP_OK;
fail:
	EVP_PKEY_CTX_free(ctx);
	return e;
}

enum sdpp_err
sdpp_identity_generate(struct sdpp_identity **out)
{
	struct sdpp_identity *id;
	enum sdpp_err e;

	*out = NULL;
	id = calloc(1, sizeof(*id));
	if (id == NULL)
		return SDPP_E_NOMEM;
	e = keygen(&id->sign, EVP_PKEY_ED25519);
	if (e != SDPP_OK)
		goto fail;
	e = keygen(&id->enc, EVP_PKEY_X25519);
	if (e != SDPP_OK)
		goto fail;
	e = identity_cache_publics(id);
	if (e != SDPP_OK)
		goto fail;
	*out = id;
	return SDPP_OK;
fail:
	sdpp_identity_free(id);
	return e;
}

void
sdpp_identity_free(struct sdpp_identity *id)
{
	if (id == NULL)
		return;
	/* EVP_PKEY_free() clears the ECX private key before freeing it. */
	EVP_PKEY_free(id->sign);
	EVP_PKEY_free(id->enc);
	sdpp_secret_free(id, sizeof(*id));
}

void
sdpp_identity_sign_public(const struct sdpp_identity *id, uint8_t out[SDPP_SIGN_PUBLIC_BYTES])
{
	memcpy(out, id->sign_pub, SDPP_SIGN_PUBLIC_BYTES);
}

void
sdpp_identity_enc_public(const struct sdpp_identity *id, uint8_t out[SDPP_ENC_PUBLIC_BYTES])
{
	memcpy(out, id->enc_pub, SDPP_ENC_PUBLIC_BYTES);
}

/* Copies a memory BIO's contents into a new NUL-terminated malloc buffer. */
static enum sdpp_err
bio_to_string(BIO *bio, char **pem, size_t *len)
{
	char *data = NULL, *buf;
	long n;

	n = BIO_get_mem_data(bio, &data);
	if (n <= 0 || data == NULL)
		return SDPP_E_CRYPTO;
	buf = malloc((size_t)n + 1);
	if (buf == NULL)
		return SDPP_E_NOMEM;
	memcpy(buf, data, (size_t)n);
	buf[n] = '\0';
	*pem = buf;
	*len = (size_t)n;
	return SDPP_OK;
}

enum sdpp_err
sdpp_identity_to_pem(const struct sdpp_identity *id, char **pem, size_t *len)
{
	BIO *bio;
	enum sdpp_err e = SDPP_E_CRYPTO;

	*pem = NULL;
	*len = 0;
	/* secmem: the BIO's buffer is cleared when freed (it holds private keys). */
	bio = BIO_new(BIO_s_secmem());
	if (bio == NULL)
		return SDPP_E_NOMEM;
	if (PEM_write_bio_PrivateKey(bio, id->sign, NULL, NULL, 0, NULL, NULL) != 1 ||
	    PEM_write_bio_PrivateKey(bio, id->enc, NULL, NULL, 0, NULL, NULL) != 1)
		goto fail;
	e = bio_to_string(bio, pem, len);
fail:
	BIO_free(bio);
	return e;
}

enum sdpp_err
sdpp_identity_public_pem(const struct sdpp_identity *id, char **pem, size_t *len)
{
	BIO *bio;
	enum sdpp_err e = SDPP_E_CRYPTO;

	*pem = NULL;
	*len = 0;
	bio = BIO_new(BIO_s_mem());
	if (bio == NULL)
		return SDPP_E_NOMEM;
	if (PEM_write_bio_PUBKEY(bio, id->sign) != 1 || PEM_write_bio_PUBKEY(bio, id->enc) != 1)
		goto fail;
	e = bio_to_string(bio, pem, len);
fail:
	BIO_free(bio);
	return e;
}

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Offset of the first needle in hay[0..haylen), or haylen when absent. */
static size_t
find(const char *hay, size_t haylen, const char *needle)
{
	size_t n = strlen(needle), i;

	if (n > haylen)
		return haylen;
	for (i = 0; i + n <= haylen; i++)
		if (memcmp(hay + i, needle, n) == 0)
			return i;
	return haylen;
}

/* Decodes one PEM "PRIVATE KEY" block (exact text, no headers) as PKCS#8. */
static enum sdpp_err
pkcs8_decode(EVP_PKEY **out, const char *text, size_t len, int type)
{
	BIO *bio;
	PKCS8_PRIV_KEY_INFO *p8 = NULL;
	EVP_PKEY *pkey = NULL;
	char *name = NULL, *header = NULL;
	unsigned char *der = NULL;
	const unsigned char *p;
	long derlen = 0;
	enum sdpp_err e = SDPP_E_KEY_FORMAT;

	*out = NULL;
	bio = BIO_new_mem_buf(text, (int)len);
	if (bio == NULL)
		return SDPP_E_NOMEM;
	/* PEM_read_bio() only un-base64s; it never decrypts, so no prompt. */
	if (PEM_read_bio(bio, &name, &header, &der, &derlen) != 1)
		goto fail;
	if (strcmp(name, "PRIVATE KEY") != 0 || header[0] != '\0' || derlen <= 0)
		goto fail;
	p = der;
	p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, derlen);
	if (p8 == NULL || p != der + derlen)
		goto fail;
	pkey = EVP_PKCS82PKEY(p8);
	if (pkey == NULL || EVP_PKEY_get_id(pkey) != type)
		goto fail;
	*out = pkey;
	pkey = NULL;
	e = SDPP_OK;
fail:
	EVP_PKEY_free(pkey);
	PKCS8_PRIV_KEY_INFO_free(p8);
	OPENSSL_clear_free(der, derlen > 0 ? (size_t)derlen : 0);
	OPENSSL_free(name);
	OPENSSL_free(header);
	BIO_free(bio);
	ERR_clear_error();
	return e;
}

/*
 * Finds the next "PRIVATE KEY" block at or after *pos, allowing only
 * whitespace before it; sets [*start, *end) to the block and moves *pos
 * past it. SDPP_E_KEY_FORMAT if anything else comes first.
 */
static enum sdpp_err
next_private_block(const char *text, size_t len, size_t *pos, size_t *start, size_t *end)
{
	size_t i = *pos, e;

	while (i < len && is_space(text[i]))
		i++;
	if (len - i < sizeof(pem_begin_priv) - 1 ||
	    memcmp(text + i, pem_begin_priv, sizeof(pem_begin_priv) - 1) != 0)
		return SDPP_E_KEY_FORMAT;
	e = find(text + i, len - i, pem_end_priv);
	if (e == len - i)
		return SDPP_E_KEY_FORMAT;
	*start = i;
	*end = i + e + sizeof(pem_end_priv) - 1;
	*pos = *end;
	return SDPP_OK;
}

enum sdpp_err
sdpp_identity_from_pem(struct sdpp_identity **out, const char *pem, size_t len)
{
	struct sdpp_identity *id = NULL;
	size_t pos = 0, s1, e1, s2, e2;
	enum sdpp_err e = SDPP_E_KEY_FORMAT;

	*out = NULL;
	if (pem == NULL || len > PEM_TEXT_MAX)
		return SDPP_E_KEY_FORMAT;
	/*
	 * PEM_read_bio() would skip any text before a block and accept other
	 * labels, so the layout is checked here: whitespace, block, whitespace,
	 * block, whitespace. Each block is then decoded on its own.
	 */
	if (next_private_block(pem, len, &pos, &s1, &e1) != SDPP_OK ||
	    next_private_block(pem, len, &pos, &s2, &e2) != SDPP_OK)
		return SDPP_E_KEY_FORMAT;
	while (pos < len && is_space(pem[pos]))
		pos++;
	if (pos != len)
		return SDPP_E_KEY_FORMAT;
	id = calloc(1, sizeof(*id));
	if (id == NULL)
		return SDPP_E_NOMEM;
	e = pkcs8_decode(&id->sign, pem + s1, e1 - s1, EVP_PKEY_ED25519);
	if (e != SDPP_OK)
		goto fail;
	e = pkcs8_decode(&id->enc, pem + s2, e2 - s2, EVP_PKEY_X25519);
	if (e != SDPP_OK)
		goto fail;
	e = identity_cache_publics(id);
	if (e != SDPP_OK)
		goto fail;
	*out = id;
	return SDPP_OK;
fail:
	sdpp_identity_free(id);
	return e;
}

/* Decodes one DER SubjectPublicKeyInfo as a raw Ed25519 public key. */
static enum sdpp_err
spki_ed25519(uint8_t out[SDPP_SIGN_PUBLIC_BYTES], const unsigned char *der, long derlen)
{
	const unsigned char *p = der;
	EVP_PKEY *pkey;
	size_t n = SDPP_SIGN_PUBLIC_BYTES;
	enum sdpp_err e = SDPP_E_KEY_FORMAT;

	pkey = d2i_PUBKEY(NULL, &p, derlen);
	if (pkey == NULL || p != der + derlen)
		goto fail;
	if (EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519)
		goto fail;
	if (EVP_PKEY_get_raw_public_key(pkey, out, &n) != 1 || n != SDPP_SIGN_PUBLIC_BYTES)
		goto fail;
	e = SDPP_OK;
fail:
	EVP_PKEY_free(pkey);
	return e;
}

enum sdpp_err
sdpp_sign_public_parse(uint8_t out[SDPP_SIGN_PUBLIC_BYTES], const char *text, size_t len)
{
	char hex[SDPP_HEX_LEN(SDPP_SIGN_PUBLIC_BYTES)];
	char *name = NULL, *header = NULL;
	unsigned char *der = NULL;
	long derlen = 0;
	size_t a = 0, b = len;
	BIO *bio;
	enum sdpp_err e = SDPP_E_KEY_FORMAT;

	if (text == NULL || len > PEM_TEXT_MAX)
		return SDPP_E_KEY_FORMAT;
	while (a < b && is_space(text[a]))
		a++;
	while (b > a && is_space(text[b - 1]))
		b--;
	if (b - a == 2 * SDPP_SIGN_PUBLIC_BYTES) {
		memcpy(hex, text + a, b - a);
		hex[b - a] = '\0';
		if (sdpp_hex_decode(out, SDPP_SIGN_PUBLIC_BYTES, hex) != SDPP_OK)
			return SDPP_E_KEY_FORMAT;
		return SDPP_OK;
	}
	bio = BIO_new_mem_buf(text, (int)len);
	if (bio == NULL)
		return SDPP_E_NOMEM;
	/*
	 * The first "PUBLIC KEY" block, skipping other text and blocks. Done
	 * with the plain PEM_read_bio() so the rules are ours: that label
	 * only, no PEM headers (so no encryption, never a passphrase prompt),
	 * and DER that is consumed exactly.
	 */
	for (;;) {
		if (PEM_read_bio(bio, &name, &header, &der, &derlen) != 1)
			goto fail;
		if (strcmp(name, "PUBLIC KEY") == 0)
			break;
		OPENSSL_free(name);
		OPENSSL_free(header);
		/* Might be somebody's private key: clear it. */
		OPENSSL_clear_free(der, derlen > 0 ? (size_t)derlen : 0);
		name = header = NULL;
		der = NULL;
	}
	if (header[0] != '\0')
		goto fail;
	e = spki_ed25519(out, der, derlen);
fail:
	OPENSSL_free(name);
	OPENSSL_free(header);
	OPENSSL_clear_free(der, derlen > 0 ? (size_t)derlen : 0);
	BIO_free(bio);
	ERR_clear_error();
	return e;
}

/* Ed25519 signature of msg with libsodium's secret key sk (seed || public). */
static enum sdpp_err
ed25519_sign(const uint8_t sk[crypto_sign_SECRETKEYBYTES], const void *msg, size_t len,
    uint8_t sig[SDPP_SIGN_BYTES])
{
	if (msg == NULL && len > 0)
		return SDPP_E_INVAL;
	if (msg == NULL)
		msg = "";
	if (crypto_sign_detached(sig, NULL, msg, len, sk) != 0)
		return SDPP_E_CRYPTO;
	return SDPP_OK;
}

/* SDPP_OK or SDPP_E_SIGNATURE. Stateless: safe on a verifier shared
 * between threads (ledger verify checks signatures on every core). */
static enum sdpp_err
ed25519_verify(const uint8_t pub[SDPP_SIGN_PUBLIC_BYTES], const void *msg, size_t len,
    const uint8_t *sig, size_t siglen)
{
	if (sig == NULL || siglen != SDPP_SIGN_BYTES || (msg == NULL && len > 0))
		return SDPP_E_SIGNATURE;
	if (msg == NULL)
		msg = "";
	if (sodium_ready() != SDPP_OK || crypto_sign_verify_detached(sig, msg, len, pub) != 0)
		return SDPP_E_SIGNATURE;
	return SDPP_OK;
}

enum sdpp_err
sdpp_sign(const struct sdpp_identity *id, const void *msg, size_t len, uint8_t sig[SDPP_SIGN_BYTES])
{
	return ed25519_sign(id->sign_sk, msg, len, sig);
}

enum sdpp_err
sdpp_verifier_new(struct sdpp_verifier **out, const uint8_t pub[SDPP_SIGN_PUBLIC_BYTES])
{
	struct sdpp_verifier *v;

	EVP_PKEY *check;

	*out = NULL;
	/* What OpenSSL refuses as an Ed25519 public key is refused here too
	 * (a key file's check and this one agree). */
	check = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, SDPP_SIGN_PUBLIC_BYTES);
	if (check == NULL) {
		ERR_clear_error();
		return SDPP_E_KEY_FORMAT;
	}
	EVP_PKEY_free(check);
	v = calloc(1, sizeof(*v));
	if (v == NULL)
		return SDPP_E_NOMEM;
	memcpy(v->pub, pub, SDPP_SIGN_PUBLIC_BYTES);
	*out = v;
	return SDPP_OK;
}

void
sdpp_verifier_free(struct sdpp_verifier *v)
{
	free(v);
}

enum sdpp_err
sdpp_verify(
    const struct sdpp_verifier *v, const void *msg, size_t len, const uint8_t *sig, size_t siglen)
{
	return ed25519_verify(v->pub, msg, len, sig, siglen);
}

enum sdpp_err
sdpp_verify_raw(const uint8_t pub[SDPP_SIGN_PUBLIC_BYTES], const void *msg, size_t len,
    const uint8_t *sig, size_t siglen)
{
	return ed25519_verify(pub, msg, len, sig, siglen);
}

enum sdpp_err
sdpp_ed25519_public_from_seed(uint8_t pub[SDPP_SIGN_PUBLIC_BYTES], const uint8_t seed[32])
{
	EVP_PKEY *pkey;
	enum sdpp_err e;

	pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
	if (pkey == NULL)
		return SDPP_E_CRYPTO;
	e = raw_public(pkey, pub);
	EVP_PKEY_free(pkey);
	return e;
}

enum sdpp_err
sdpp_ed25519_sign_seed(
    uint8_t sig[SDPP_SIGN_BYTES], const uint8_t seed[32], const void *msg, size_t len)
{
	uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
	enum sdpp_err e = SDPP_E_CRYPTO;

	if (sodium_ready() == SDPP_OK && crypto_sign_seed_keypair(pk, sk, seed) == 0)
		e = ed25519_sign(sk, msg, len, sig);
	sodium_memzero(sk, sizeof(sk));
	return e;
}

/*
 * X25519 of priv and a peer u-coordinate. OpenSSL follows RFC 7748: the top
 * bit of u is masked and non-canonical u (>= 2^255-19) is reduced, so every
 * 32-byte string is a usable input. The one thing refused is an all-zero
 * result (a small-order point, RFC 7748 s.6.1). OpenSSL 3.0 refuses those
 * too, in set_peer or derive; the explicit check keeps our rule whatever
 * a later OpenSSL does.
 */
static enum sdpp_err
x25519_derive(
    uint8_t shared[SDPP_X25519_BYTES], EVP_PKEY *priv, const uint8_t point[SDPP_X25519_BYTES])
{
	EVP_PKEY *peer;
	EVP_PKEY_CTX *ctx = NULL;
	size_t n = SDPP_X25519_BYTES;
	enum sdpp_err e = SDPP_E_CRYPTO;

	peer = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, point, SDPP_X25519_BYTES);
	if (peer == NULL)
		goto fail;
	ctx = EVP_PKEY_CTX_new(priv, NULL);
	if (ctx == NULL) {
		e = SDPP_E_NOMEM;
		goto fail;
	}
	if (EVP_PKEY_derive_init(ctx) != 1 || EVP_PKEY_derive_set_peer(ctx, peer) != 1)
		goto fail;
	if (EVP_PKEY_derive(ctx, shared, &n) != 1 || n != SDPP_X25519_BYTES)
		goto fail;
	if (is_zero_ct(shared, SDPP_X25519_BYTES))
		goto fail;
	e = SDPP_OK;
fail:
	if (e != SDPP_OK) {
		sdpp_wipe(shared, SDPP_X25519_BYTES);
		ERR_clear_error();
	}
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(peer);
	return e;
}

enum sdpp_err
sdpp_x25519(uint8_t shared[SDPP_X25519_BYTES], const uint8_t scalar[SDPP_X25519_BYTES],
    const uint8_t point[SDPP_X25519_BYTES])
{
	EVP_PKEY *priv;
	enum sdpp_err e;

	priv = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, scalar, SDPP_X25519_BYTES);
	if (priv == NULL)
		return SDPP_E_CRYPTO;
	e = x25519_derive(shared, priv, point);
	EVP_PKEY_free(priv);
	return e;
}

enum sdpp_err
sdpp_hkdf_sha256(uint8_t *out, size_t outlen, const uint8_t *salt, size_t saltlen,
    const uint8_t *ikm, size_t ikmlen, const uint8_t *info, size_t infolen)
{
	static const uint8_t empty[1];
	EVP_KDF *kdf = NULL;
	EVP_KDF_CTX *ctx = NULL;
	OSSL_PARAM params[5], *p = params;
	enum sdpp_err e = SDPP_E_CRYPTO;

	if (out == NULL || outlen == 0 || outlen > HKDF_OUT_MAX || infolen > HKDF_INFO_MAX)
		return SDPP_E_INVAL;
	if ((salt == NULL && saltlen > 0) || (ikm == NULL && ikmlen > 0) ||
	    (info == NULL && infolen > 0))
		return SDPP_E_INVAL;
	/*
	 * OpenSSL 3.0 fails the derive when the key or salt pointer is NULL,
	 * even with length 0, and both may legally be empty: pass a real
	 * pointer. An empty salt means HashLen zero bytes (RFC 5869 s.2.2),
	 * which is what HMAC with an empty key computes.
	 */
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	*p++ = OSSL_PARAM_construct_octet_string(
	    OSSL_KDF_PARAM_KEY, unconst(ikmlen > 0 ? ikm : empty), ikmlen);
	*p++ = OSSL_PARAM_construct_octet_string(
	    OSSL_KDF_PARAM_SALT, unconst(saltlen > 0 ? salt : empty), saltlen);
	*p++ = OSSL_PARAM_construct_octet_string(
	    OSSL_KDF_PARAM_INFO, unconst(infolen > 0 ? info : empty), infolen);
	*p = OSSL_PARAM_construct_end();
	kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	if (kdf == NULL)
		goto fail;
	ctx = EVP_KDF_CTX_new(kdf);
	if (ctx == NULL) {
		e = SDPP_E_NOMEM;
		goto fail;
	}
	if (EVP_KDF_derive(ctx, out, outlen, params) != 1)
		goto fail;
	e = SDPP_OK;
fail:
	if (e != SDPP_OK) {
		sdpp_wipe(out, outlen);
		ERR_clear_error();
	}
	EVP_KDF_CTX_free(ctx); /* clears the copied key and PRK */
	EVP_KDF_free(kdf);
	return e;
}

/* The direction's context, keyed on first use (NULL if that fails). */
static EVP_CIPHER_CTX *
aead_ctx(struct sdpp_aead *a, int encrypt)
{
	EVP_CIPHER_CTX **pc = encrypt ? &a->enc : &a->dec, *c;

	if (*pc != NULL)
		return *pc;
	c = EVP_CIPHER_CTX_new();
	if (c == NULL)
		return NULL;
	/* 12 is OpenSSL's default; set it anyway so the nonce size is explicit. */
	if (EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, a->key, NULL, encrypt) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, SDPP_AEAD_NONCE_BYTES, NULL) != 1) {
		EVP_CIPHER_CTX_free(c);
		ERR_clear_error();
		return NULL;
	}
	*pc = c;
	/* Both made: the schedules hold the key, no copy is needed. */
	if (a->enc != NULL && a->dec != NULL)
		sdpp_wipe(a->key, sizeof(a->key));
	return c;
}

enum sdpp_err
sdpp_aead_new(struct sdpp_aead **out, const uint8_t key[SDPP_AEAD_KEY_BYTES])
{
	struct sdpp_aead *a;
	enum sdpp_err e = SDPP_E_CRYPTO;

	*out = NULL;
	a = calloc(1, sizeof(*a));
	if (a == NULL)
		return SDPP_E_NOMEM;
	memcpy(a->key, key, sizeof(a->key));
	/* Checked now, so a key the library refuses fails here and not at
	 * the first item: the context it makes is the one a seller uses. */
	e = aead_ctx(a, 1) != NULL ? SDPP_OK : SDPP_E_CRYPTO;
	if (e != SDPP_OK) {
		sdpp_aead_free(a);
		return e;
	}
	*out = a;
	return SDPP_OK;
}

void
sdpp_aead_free(struct sdpp_aead *a)
{
	if (a == NULL)
		return;
	/* EVP_CIPHER_CTX_free() clears the key schedule. */
	EVP_CIPHER_CTX_free(a->enc);
	EVP_CIPHER_CTX_free(a->dec);
	sdpp_wipe(a, sizeof(*a));
	free(a);
}

/* Runs EVP_CipherUpdate over len bytes in int-sized pieces; out NULL means AAD. */
static int
cipher_update(EVP_CIPHER_CTX *ctx, uint8_t *out, const uint8_t *in, size_t len)
{
	size_t chunk;
	int n;

	while (len > 0) {
		chunk = len > EVP_CHUNK ? EVP_CHUNK : len;
		if (EVP_CipherUpdate(ctx, out, &n, in, (int)chunk) != 1)
			return -1;
		/* GCM is a stream mode: output follows input byte for byte. */
		if (out != NULL) {
			if ((size_t)n != chunk)
				return -1;
			out += chunk;
		}
		in += chunk;
		len -= chunk;
	}
	return 0;
}

enum sdpp_err
sdpp_aead_seal(struct sdpp_aead *a, const uint8_t nonce[SDPP_AEAD_NONCE_BYTES], const uint8_t *aad,
    size_t aadlen, const uint8_t *pt, size_t ptlen, uint8_t *out)
{
	uint8_t fin[16];
	int n = 0;

	if (out == NULL || (aad == NULL && aadlen > 0) || (pt == NULL && ptlen > 0))
		return SDPP_E_INVAL;
	if (aead_ctx(a, 1) == NULL || EVP_EncryptInit_ex(a->enc, NULL, NULL, NULL, nonce) != 1)
		goto fail;
	if (cipher_update(a->enc, NULL, aad, aadlen) != 0 ||
	    cipher_update(a->enc, out, pt, ptlen) != 0)
		goto fail;
	if (EVP_EncryptFinal_ex(a->enc, fin, &n) != 1 || n != 0)
		goto fail;
	if (EVP_CIPHER_CTX_ctrl(a->enc, EVP_CTRL_GCM_GET_TAG, SDPP_AEAD_TAG_BYTES, out + ptlen) !=
	    1)
		goto fail;
	return SDPP_OK;
fail:
	sdpp_wipe(out, ptlen + SDPP_AEAD_TAG_BYTES);
	ERR_clear_error();
	return SDPP_E_CRYPTO;
}

enum sdpp_err
sdpp_aead_open(struct sdpp_aead *a, const uint8_t nonce[SDPP_AEAD_NONCE_BYTES], const uint8_t *aad,
    size_t aadlen, const uint8_t *in, size_t inlen, uint8_t *out)
{
	uint8_t tag[SDPP_AEAD_TAG_BYTES], fin[16];
	size_t ctlen;
	int n = 0;

	if (in == NULL || inlen < SDPP_AEAD_TAG_BYTES)
		return SDPP_E_DECRYPT;
	ctlen = inlen - SDPP_AEAD_TAG_BYTES;
	if ((out == NULL && ctlen > 0) || (aad == NULL && aadlen > 0))
		return SDPP_E_INVAL;
	/* Copied first: in and out may be the same buffer. */
	memcpy(tag, in + ctlen, SDPP_AEAD_TAG_BYTES);
	if (aead_ctx(a, 0) == NULL || EVP_DecryptInit_ex(a->dec, NULL, NULL, NULL, nonce) != 1)
		goto fail;
	if (cipher_update(a->dec, NULL, aad, aadlen) != 0 ||
	    cipher_update(a->dec, out, in, ctlen) != 0)
		goto fail;
	if (EVP_CIPHER_CTX_ctrl(a->dec, EVP_CTRL_GCM_SET_TAG, SDPP_AEAD_TAG_BYTES, tag) != 1)
		goto fail;
	/* OpenSSL compares the tag in constant time here. */
	if (EVP_DecryptFinal_ex(a->dec, fin, &n) != 1 || n != 0)
		goto fail;
	return SDPP_OK;
fail:
	/* Unauthenticated plaintext must never reach the caller. */
	sdpp_wipe(out, ctlen);
	ERR_clear_error();
	return SDPP_E_DECRYPT;
}

/*
 * The sealing KDF: HKDF-SHA256(salt = eph_pub || recipient_pub, ikm = shared,
 * info = "sdpp/1 session key" || info) -> AES key || GCM nonce.
 */
static enum sdpp_err
seal_kdf(uint8_t okm[SEAL_OKM_BYTES], const uint8_t shared[SDPP_X25519_BYTES],
    const uint8_t eph_pub[SDPP_X25519_BYTES], const uint8_t recipient[SDPP_ENC_PUBLIC_BYTES],
    const uint8_t *info, size_t infolen)
{
	uint8_t salt[SDPP_X25519_BYTES + SDPP_ENC_PUBLIC_BYTES], *fullinfo;
	enum sdpp_err e;

	if ((info == NULL && infolen > 0) || infolen > HKDF_INFO_MAX - SEAL_LABEL_BYTES)
		return SDPP_E_INVAL;
	fullinfo = malloc(SEAL_LABEL_BYTES + infolen);
	if (fullinfo == NULL)
		return SDPP_E_NOMEM;
	memcpy(fullinfo, seal_label, SEAL_LABEL_BYTES);
	if (infolen > 0)
		memcpy(fullinfo + SEAL_LABEL_BYTES, info, infolen);
	memcpy(salt, eph_pub, SDPP_X25519_BYTES);
	memcpy(salt + SDPP_X25519_BYTES, recipient, SDPP_ENC_PUBLIC_BYTES);
	e = sdpp_hkdf_sha256(okm, SEAL_OKM_BYTES, salt, sizeof(salt), shared, SDPP_X25519_BYTES,
	    fullinfo, SEAL_LABEL_BYTES + infolen);
	free(fullinfo);
	return e;
}

enum sdpp_err
sdpp_seal_with_ephemeral(uint8_t out[SDPP_SEALED_BYTES],
    const uint8_t recipient[SDPP_ENC_PUBLIC_BYTES], const uint8_t key[SDPP_SESSION_KEY_BYTES],
    const uint8_t *info, size_t infolen, const uint8_t eph_scalar[SDPP_X25519_BYTES])
{
	uint8_t eph_pub[SDPP_X25519_BYTES], shared[SDPP_X25519_BYTES], okm[SEAL_OKM_BYTES];
	struct sdpp_aead *aead = NULL;
	enum sdpp_err e;

	e = sdpp_x25519(eph_pub, eph_scalar, x25519_base);
	if (e != SDPP_OK)
		goto fail;
	e = sdpp_x25519(shared, eph_scalar, recipient);
	if (e != SDPP_OK)
		goto fail;
	e = seal_kdf(okm, shared, eph_pub, recipient, info, infolen);
	if (e != SDPP_OK)
		goto fail;
	e = sdpp_aead_new(&aead, okm);
	if (e != SDPP_OK)
		goto fail;
	memcpy(out, eph_pub, SDPP_X25519_BYTES);
	e = sdpp_aead_seal(aead, okm + SDPP_AEAD_KEY_BYTES, info, infolen, key,
	    SDPP_SESSION_KEY_BYTES, out + SDPP_X25519_BYTES);
fail:
	if (e != SDPP_OK)
		sdpp_wipe(out, SDPP_SEALED_BYTES);
	sdpp_aead_free(aead);
	sdpp_wipe(shared, sizeof(shared));
	sdpp_wipe(okm, sizeof(okm));
	return e;
}

enum sdpp_err
sdpp_seal(uint8_t out[SDPP_SEALED_BYTES], const uint8_t recipient[SDPP_ENC_PUBLIC_BYTES],
    const uint8_t key[SDPP_SESSION_KEY_BYTES], const uint8_t *info, size_t infolen)
{
	uint8_t eph[SDPP_X25519_BYTES];
	enum sdpp_err e;

	e = sdpp_random(eph, sizeof(eph));
	if (e != SDPP_OK)
		return e;
	e = sdpp_seal_with_ephemeral(out, recipient, key, info, infolen, eph);
	sdpp_wipe(eph, sizeof(eph));
	return e;
}

enum sdpp_err
sdpp_unseal(uint8_t key[SDPP_SESSION_KEY_BYTES], const struct sdpp_identity *id,
    const uint8_t sealed[SDPP_SEALED_BYTES], const uint8_t *info, size_t infolen)
{
	uint8_t shared[SDPP_X25519_BYTES], okm[SEAL_OKM_BYTES];
	struct sdpp_aead *aead = NULL;
	enum sdpp_err e = SDPP_E_DECRYPT;

	/* sealed = eph_pub || ciphertext || tag */
	if (x25519_derive(shared, id->enc, sealed) != SDPP_OK)
		goto fail;
	if (seal_kdf(okm, shared, sealed, id->enc_pub, info, infolen) != SDPP_OK)
		goto fail;
	if (sdpp_aead_new(&aead, okm) != SDPP_OK)
		goto fail;
	if (sdpp_aead_open(aead, okm + SDPP_AEAD_KEY_BYTES, info, infolen,
	        sealed + SDPP_X25519_BYTES, SDPP_SESSION_KEY_BYTES + SDPP_AEAD_TAG_BYTES,
	        key) != SDPP_OK)
		goto fail;
	e = SDPP_OK;
fail:
	/* Every failure looks the same to the caller (and to a prober). */
	if (e != SDPP_OK)
		sdpp_wipe(key, SDPP_SESSION_KEY_BYTES);
	sdpp_aead_free(aead);
	sdpp_wipe(shared, sizeof(shared));
	sdpp_wipe(okm, sizeof(okm));
	return e;
}
