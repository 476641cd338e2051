/* The deterministic identities of PROTOCOL.md Appendix A, built through the key file text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sdpp/enc.h"
#include "tests/common/spec_identity.h"

/* PKCS#8 headers of a 32-byte Ed25519 and X25519 private key (RFC 8410). */
static const uint8_t ed_prefix[16] = { 0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b,
	0x65, 0x70, 0x04, 0x22, 0x04, 0x20 };
static const uint8_t x_prefix[16] = { 0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b,
	0x65, 0x6e, 0x04, 0x22, 0x04, 0x20 };

/* One key as base64 of its DER: prefix, then 32 consecutive bytes from start. */
static void
key_b64(char out[SDPP_B64_LEN(48)], const uint8_t prefix[16], uint8_t start)
{
	uint8_t der[48];
	size_t i;

	memcpy(der, prefix, 16);
	for (i = 0; i < 32; i++)
		der[16 + i] = (uint8_t)(start + i);
	sdpp_b64_encode(out, der, sizeof(der));
	sdpp_wipe(der, sizeof(der));
}

struct sdpp_identity *
spec_identity(uint8_t start)
{
	char b64[2][SDPP_B64_LEN(48)], pem[512];
	struct sdpp_identity *id = NULL;
	int n;

	key_b64(b64[0], ed_prefix, start);
	key_b64(b64[1], x_prefix, (uint8_t)(start + SPEC_X25519_OFFSET));
	n = snprintf(pem, sizeof(pem),
	    "-----BEGIN PRIVATE KEY-----\n%s\n-----END PRIVATE KEY-----\n"
	    "-----BEGIN PRIVATE KEY-----\n%s\n-----END PRIVATE KEY-----\n",
	    b64[0], b64[1]);
	assert_true(n > 0 && (size_t)n < sizeof(pem));
	assert_int_equal(sdpp_identity_from_pem(&id, pem, (size_t)n), SDPP_OK);
	sdpp_wipe(pem, sizeof(pem));
	return id;
}
