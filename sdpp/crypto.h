/* The SDPP crypto suite on OpenSSL 3: Ed25519, X25519 sealing, HKDF, AES-256-GCM, SHA-256. */
#ifndef SDPP_CRYPTO_H
#define SDPP_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define SDPP_SIGN_PUBLIC_BYTES 32 /* Ed25519 public key */
#define SDPP_SIGN_BYTES 64        /* Ed25519 signature */
#define SDPP_ENC_PUBLIC_BYTES 32  /* X25519 public key */
#define SDPP_X25519_BYTES 32      /* X25519 scalar, point and shared secret */
#define SDPP_SHA256_BYTES 32
#define SDPP_AEAD_KEY_BYTES 32   /* AES-256 */
#define SDPP_AEAD_NONCE_BYTES 12 /* GCM 96-bit nonce */
#define SDPP_AEAD_TAG_BYTES 16
#define SDPP_SESSION_KEY_BYTES SDPP_AEAD_KEY_BYTES
/* Sealed session key: ephemeral X25519 public || AES-GCM(session key) || tag. */
#define SDPP_SEALED_BYTES (SDPP_X25519_BYTES + SDPP_SESSION_KEY_BYTES + SDPP_AEAD_TAG_BYTES)

/*
 * An identity: an Ed25519 signing key and an X25519 encryption key (the
 * private halves). Opaque; created by sdpp_identity_generate() or
 * sdpp_identity_from_pem(), freed by sdpp_identity_free() (NULL-safe), which
 * wipes the key material.
 */
struct sdpp_identity;

enum sdpp_err sdpp_identity_generate(struct sdpp_identity **out) SDPP_WARN_UNUSED;
void sdpp_identity_free(struct sdpp_identity *id);

/* Public halves, raw bytes. */
void sdpp_identity_sign_public(const struct sdpp_identity *id, uint8_t out[SDPP_SIGN_PUBLIC_BYTES]);
void sdpp_identity_enc_public(const struct sdpp_identity *id, uint8_t out[SDPP_ENC_PUBLIC_BYTES]);

/*
 * Key file text: two PKCS#8 "PRIVATE KEY" PEM blocks, Ed25519 first, then
 * X25519 (docs/PROTOCOL.md, "Key formats"). *pem is a NUL-terminated buffer
 * the caller frees with sdpp_secret_free(*pem, *len) (it holds secrets).
 */
enum sdpp_err sdpp_identity_to_pem(
    const struct sdpp_identity *id, char **pem, size_t *len) SDPP_WARN_UNUSED;

/* Parses key file text (exactly the two blocks above, in that order; other
 * text between or around them is SDPP_E_KEY_FORMAT). */
enum sdpp_err sdpp_identity_from_pem(
    struct sdpp_identity **out, const char *pem, size_t len) SDPP_WARN_UNUSED;

/* Public key file text: two "PUBLIC KEY" (SubjectPublicKeyInfo) PEM blocks,
 * Ed25519 then X25519. Caller frees *pem with free(). */
enum sdpp_err sdpp_identity_public_pem(
    const struct sdpp_identity *id, char **pem, size_t *len) SDPP_WARN_UNUSED;

/*
 * Parses a peer's Ed25519 public key as given out of band: 64 hex digits
 * (surrounding whitespace allowed), or PEM text whose first "PUBLIC KEY"
 * block is an Ed25519 SubjectPublicKeyInfo.
 */
enum sdpp_err sdpp_sign_public_parse(
    uint8_t out[SDPP_SIGN_PUBLIC_BYTES], const char *text, size_t len) SDPP_WARN_UNUSED;

/* Wipes and frees a buffer that held secrets. NULL-safe. */
void sdpp_secret_free(void *p, size_t len);

/* Wipes len bytes (never optimised away). */
void sdpp_wipe(void *p, size_t len);

/* Constant-time comparison: 0 when equal. */
int sdpp_memcmp_ct(const void *a, const void *b, size_t len);

/* Fills buf with n bytes from the OpenSSL CSPRNG. */
enum sdpp_err sdpp_random(void *buf, size_t n) SDPP_WARN_UNUSED;

/* Ed25519 (RFC 8032, pure) signature of msg with the identity's key. */
enum sdpp_err sdpp_sign(const struct sdpp_identity *id, const void *msg, size_t len,
    uint8_t sig[SDPP_SIGN_BYTES]) SDPP_WARN_UNUSED;

/*
 * A verifier caches a peer's Ed25519 public key as an OpenSSL key object,
 * which saves about 15% per verify over sdpp_verify_raw(). Copies pub; free
 * with sdpp_verifier_free() (NULL-safe). OpenSSL 3.0 decodes the point only
 * when verifying, so a key that is not a curve point is accepted here and
 * then fails every sdpp_verify() with SDPP_E_SIGNATURE.
 */
struct sdpp_verifier;
enum sdpp_err sdpp_verifier_new(
    struct sdpp_verifier **out, const uint8_t pub[SDPP_SIGN_PUBLIC_BYTES]) SDPP_WARN_UNUSED;
void sdpp_verifier_free(struct sdpp_verifier *v);

/* SDPP_OK when sig is a valid signature of msg, else SDPP_E_SIGNATURE.
 * siglen other than SDPP_SIGN_BYTES is SDPP_E_SIGNATURE. */
enum sdpp_err sdpp_verify(const struct sdpp_verifier *v, const void *msg, size_t len,
    const uint8_t *sig, size_t siglen) SDPP_WARN_UNUSED;

/* One-shot verify with a raw public key (used by tests and auditors). */
enum sdpp_err sdpp_verify_raw(const uint8_t pub[SDPP_SIGN_PUBLIC_BYTES], const void *msg,
    size_t len, const uint8_t *sig, size_t siglen) SDPP_WARN_UNUSED;

/* Ed25519 public key from a 32-byte RFC 8032 seed (tests, keygen checks). */
enum sdpp_err sdpp_ed25519_public_from_seed(
    uint8_t pub[SDPP_SIGN_PUBLIC_BYTES], const uint8_t seed[32]) SDPP_WARN_UNUSED;
/* Ed25519 signature with a raw seed (RFC 8032 vectors). */
enum sdpp_err sdpp_ed25519_sign_seed(uint8_t sig[SDPP_SIGN_BYTES], const uint8_t seed[32],
    const void *msg, size_t len) SDPP_WARN_UNUSED;

/* X25519 (RFC 7748) of a raw scalar and u-coordinate. An all-zero shared
 * secret (small-order input) is refused with SDPP_E_CRYPTO. */
enum sdpp_err sdpp_x25519(uint8_t shared[SDPP_X25519_BYTES],
    const uint8_t scalar[SDPP_X25519_BYTES],
    const uint8_t point[SDPP_X25519_BYTES]) SDPP_WARN_UNUSED;

/* OpenSSL 3.0 refuses HKDF info longer than this; seal/unseal add 18 bytes. */
#define SDPP_HKDF_INFO_MAX 32768

/* HKDF-SHA256 (RFC 5869) extract-and-expand; outlen at most 255*32, infolen
 * at most SDPP_HKDF_INFO_MAX (else SDPP_E_INVAL). */
enum sdpp_err sdpp_hkdf_sha256(uint8_t *out, size_t outlen, const uint8_t *salt, size_t saltlen,
    const uint8_t *ikm, size_t ikmlen, const uint8_t *info, size_t infolen) SDPP_WARN_UNUSED;

/* SHA-256 over the concatenation of n (pointer, length) parts. */
struct sdpp_iov {
	const void *base;
	size_t len;
};
enum sdpp_err sdpp_sha256(
    uint8_t out[SDPP_SHA256_BYTES], const struct sdpp_iov *parts, size_t n) SDPP_WARN_UNUSED;

/*
 * AES-256-GCM with a context that is set up once per key and reused for
 * every item (about 3x cheaper than a fresh context per message).
 * sdpp_aead_new() copies the key; sdpp_aead_free() wipes it (NULL-safe).
 */
struct sdpp_aead;
enum sdpp_err sdpp_aead_new(
    struct sdpp_aead **out, const uint8_t key[SDPP_AEAD_KEY_BYTES]) SDPP_WARN_UNUSED;
void sdpp_aead_free(struct sdpp_aead *a);

/* out receives ptlen bytes of ciphertext followed by the 16-byte tag. */
enum sdpp_err sdpp_aead_seal(struct sdpp_aead *a, const uint8_t nonce[SDPP_AEAD_NONCE_BYTES],
    const uint8_t *aad, size_t aadlen, const uint8_t *pt, size_t ptlen,
    uint8_t *out) SDPP_WARN_UNUSED;

/* in is ciphertext || tag (inlen >= 16); out receives inlen - 16 bytes.
 * Authentication failure is SDPP_E_DECRYPT and out is wiped. */
enum sdpp_err sdpp_aead_open(struct sdpp_aead *a, const uint8_t nonce[SDPP_AEAD_NONCE_BYTES],
    const uint8_t *aad, size_t aadlen, const uint8_t *in, size_t inlen,
    uint8_t *out) SDPP_WARN_UNUSED;

/*
 * Seals a session key to a recipient's X25519 public key: a fresh ephemeral
 * X25519 key pair, shared = X25519(eph, recipient), then
 * HKDF-SHA256(salt = eph_pub || recipient_pub, ikm = shared,
 *             info = "sdpp/1 session key" || info) -> 32-byte key || 12-byte nonce,
 * then AES-256-GCM(key, nonce, aad = info, session key).
 * out = eph_pub || ciphertext || tag (SDPP_SEALED_BYTES).
 */
enum sdpp_err sdpp_seal(uint8_t out[SDPP_SEALED_BYTES],
    const uint8_t recipient[SDPP_ENC_PUBLIC_BYTES], const uint8_t key[SDPP_SESSION_KEY_BYTES],
    const uint8_t *info, size_t infolen) SDPP_WARN_UNUSED;

/* Opens a sealed session key with the recipient identity's X25519 key.
 * Any failure (tampered, wrong recipient, wrong info) is SDPP_E_DECRYPT. */
enum sdpp_err sdpp_unseal(uint8_t key[SDPP_SESSION_KEY_BYTES], const struct sdpp_identity *id,
    const uint8_t sealed[SDPP_SEALED_BYTES], const uint8_t *info, size_t infolen) SDPP_WARN_UNUSED;

/* Deterministic core of sdpp_seal() with a given ephemeral scalar, for test vectors. */
enum sdpp_err sdpp_seal_with_ephemeral(uint8_t out[SDPP_SEALED_BYTES],
    const uint8_t recipient[SDPP_ENC_PUBLIC_BYTES], const uint8_t key[SDPP_SESSION_KEY_BYTES],
    const uint8_t *info, size_t infolen,
    const uint8_t eph_scalar[SDPP_X25519_BYTES]) SDPP_WARN_UNUSED;

#endif
