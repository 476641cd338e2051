/* Crypto suite: published vectors (RFC 8032, 7748, 5869, GCM spec) and sealing properties. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "sdpp/crypto.h"
#include "tests/common/testutil.h"

/* Decodes hex that must be exactly n bytes into dst. */
static void
unhex_n(uint8_t *dst, size_t n, const char *hex)
{
	size_t len;
	uint8_t *b = test_unhex(hex, &len);

	assert_int_equal(len, n);
	memcpy(dst, b, n);
	free(b);
}

/* RFC 8032 s.7.1 TEST 1024: the 1023-byte message. */
static const char rfc8032_msg1024[] =
    "08b8b2b733424243760fe426a4b54908632110a66c2f6591eabd3345e3e4eb98"
    "fa6e264bf09efe12ee50f8f54e9f77b1e355f6c50544e23fb1433ddf73be84d8"
    "79de7c0046dc4996d9e773f4bc9efe5738829adb26c81b37c93a1b270b20329d"
    "658675fc6ea534e0810a4432826bf58c941efb65d57a338bbd2e26640f89ffbc"
    "1a858efcb8550ee3a5e1998bd177e93a7363c344fe6b199ee5d02e82d522c4fe"
    "ba15452f80288a821a579116ec6dad2b3b310da903401aa62100ab5d1a36553e"
    "06203b33890cc9b832f79ef80560ccb9a39ce767967ed628c6ad573cb116dbef"
    "efd75499da96bd68a8a97b928a8bbc103b6621fcde2beca1231d206be6cd9ec7"
    "aff6f6c94fcd7204ed3455c68c83f4a41da4af2b74ef5c53f1d8ac70bdcb7ed1"
    "85ce81bd84359d44254d95629e9855a94a7c1958d1f8ada5d0532ed8a5aa3fb2"
    "d17ba70eb6248e594e1a2297acbbb39d502f1a8c6eb6f1ce22b3de1a1f40cc24"
    "554119a831a9aad6079cad88425de6bde1a9187ebb6092cf67bf2b13fd65f270"
    "88d78b7e883c8759d2c4f5c65adb7553878ad575f9fad878e80a0c9ba63bcbcc"
    "2732e69485bbc9c90bfbd62481d9089beccf80cfe2df16a2cf65bd92dd597b07"
    "07e0917af48bbb75fed413d238f5555a7a569d80c3414a8d0859dc65a46128ba"
    "b27af87a71314f318c782b23ebfe808b82b0ce26401d2e22f04d83d1255dc51a"
    "ddd3b75a2b1ae0784504df543af8969be3ea7082ff7fc9888c144da2af58429e"
    "c96031dbcad3dad9af0dcbaaaf268cb8fcffead94f3c7ca495e056a9b47acdb7"
    "51fb73e666c6c655ade8297297d07ad1ba5e43f1bca32301651339e22904cc8c"
    "42f58c30c04aafdb038dda0847dd988dcda6f3bfd15c4b4c4525004aa06eeff8"
    "ca61783aacec57fb3d1f92b0fe2fd1a85f6724517b65e614ad6808d6f6ee34df"
    "f7310fdc82aebfd904b01e1dc54b2927094b2db68d6f903b68401adebf5a7e08"
    "d78ff4ef5d63653a65040cf9bfd4aca7984a74d37145986780fc0b16ac451649"
    "de6188a7dbdf191f64b5fc5e2ab47b57f7f7276cd419c17a3ca8e1b939ae49e4"
    "88acba6b965610b5480109c8b17b80e1b7b750dfc7598d5d5011fd2dcc5600a3"
    "2ef5b52a1ecc820e308aa342721aac0943bf6686b64b2579376504ccc493d97e"
    "6aed3fb0f9cd71a43dd497f01f17c0e2cb3797aa2a2f256656168e6c496afc5f"
    "b93246f6b1116398a346f1a641f3b041e989f7914f90cc2c7fff357876e506b5"
    "0d334ba77c225bc307ba537152f3f1610e4eafe595f6d9d90d11faa933a15ef1"
    "369546868a7f3a45a96768d40fd9d03412c091c6315cf4fde7cb68606937380d"
    "b2eaaa707b4c4185c32eddcdd306705e4dc1ffc872eeee475a64dfac86aba41c"
    "0618983f8741c5ef68d3a101e8a3b8cac60c905c15fc910840b94c00a0b9d0";

/* RFC 8032 s.7.1, Ed25519: TEST 1, 2, 3, 1024 and SHA(abc). */
static const struct {
	const char *name, *sk, *pk, *msg, *sig;
} ed25519_vectors[] = {
	{ "TEST 1", "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
	    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
	    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
	    "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b" },
	{ "TEST 2", "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
	    "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
	    "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
	    "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00" },
	{ "TEST 3", "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
	    "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
	    "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
	    "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a" },
	{ "TEST 1024", "f5e5767cf153319517630f226876b86c8160cc583bc013744c6bf255f5cc0ee5",
	    "278117fc144c72340f67d0f2316e8386ceffbf2b2428c9c51fef7c597f1d426e", rfc8032_msg1024,
	    "0aab4c900501b3e24d7cdf4663326a3a87df5e4843b2cbdb67cbf6e460fec350"
	    "aa5371b1508f9f4528ecea23c436d94b5e8fcd4f681e30a6ac00a9704a188a03" },
	{ "TEST SHA(abc)", "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
	    "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
	    "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
	    "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
	    "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b589"
	    "09351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704" },
};

static void
test_ed25519_rfc8032(void **state)
{
	size_t i, j, msglen, n;

	(void)state;
	for (i = 0; i < sizeof(ed25519_vectors) / sizeof(ed25519_vectors[0]); i++) {
		uint8_t seed[32], pk[32], sig[64], got[64], pub[32], bad[65];
		uint8_t *msg = test_unhex(ed25519_vectors[i].msg, &msglen);
		struct sdpp_verifier *v = NULL;

		print_message("%s\n", ed25519_vectors[i].name);
		unhex_n(seed, 32, ed25519_vectors[i].sk);
		unhex_n(pk, 32, ed25519_vectors[i].pk);
		unhex_n(sig, 64, ed25519_vectors[i].sig);

		assert_int_equal(sdpp_ed25519_public_from_seed(pub, seed), SDPP_OK);
		assert_memory_equal(pub, pk, 32);
		assert_int_equal(sdpp_ed25519_sign_seed(got, seed, msg, msglen), SDPP_OK);
		assert_memory_equal(got, sig, 64);
		assert_int_equal(sdpp_verify_raw(pk, msg, msglen, sig, 64), SDPP_OK);
		assert_int_equal(sdpp_verifier_new(&v, pk), SDPP_OK);
		assert_int_equal(sdpp_verify(v, msg, msglen, sig, 64), SDPP_OK);

		/* A flipped bit anywhere in the signature is refused. */
		for (j = 0; j < 64 * 8; j += 7) {
			memcpy(bad, sig, 64);
			bad[j / 8] ^= (uint8_t)(1u << (j % 8));
			assert_int_equal(
			    sdpp_verify_raw(pk, msg, msglen, bad, 64), SDPP_E_SIGNATURE);
			assert_int_equal(sdpp_verify(v, msg, msglen, bad, 64), SDPP_E_SIGNATURE);
		}
		/* A flipped message bit (or one extra byte for the empty message). */
		if (msglen > 0) {
			msg[msglen / 2] ^= 0x01;
			assert_int_equal(sdpp_verify(v, msg, msglen, sig, 64), SDPP_E_SIGNATURE);
			msg[msglen / 2] ^= 0x01;
		} else {
			assert_int_equal(sdpp_verify(v, "\0", 1, sig, 64), SDPP_E_SIGNATURE);
		}
		/* Wrong lengths: truncated, and the valid signature plus a byte. */
		memcpy(bad, sig, 64);
		bad[64] = 0;
		for (n = 0; n <= 65; n++)
			if (n != 64)
				assert_int_equal(
				    sdpp_verify(v, msg, msglen, bad, n), SDPP_E_SIGNATURE);
		assert_int_equal(sdpp_verify(v, msg, msglen, NULL, 64), SDPP_E_SIGNATURE);
		/* Still verifies after all the failures (no sticky state). */
		assert_int_equal(sdpp_verify(v, msg, msglen, sig, 64), SDPP_OK);
		sdpp_verifier_free(v);
		free(msg);
	}
}

/* Signatures no RFC 8032 signer makes, which OpenSSL 3.0 accepts: the
 * identity point as the public key with R = identity and S = 0 verifies
 * every message there; and a real key's signature with R = identity. The
 * verifier refuses both (PROTOCOL 4.3). */
static void
test_ed25519_small_order(void **state)
{
	uint8_t ident[32] = { 1 }, sig[64], pub[32];
	struct sdpp_verifier *v = NULL;
	const char *msg = "any message at all";

	(void)state;
	memset(sig, 0, sizeof(sig));
	sig[0] = 1; /* R = the identity point, S = 0 */
	assert_int_equal(sdpp_verify_raw(ident, msg, strlen(msg), sig, 64), SDPP_E_SIGNATURE);
	if (sdpp_verifier_new(&v, ident) == SDPP_OK) {
		assert_int_equal(sdpp_verify(v, msg, strlen(msg), sig, 64), SDPP_E_SIGNATURE);
		sdpp_verifier_free(v);
	}
	/* A real key, and S = k * a (mod L) for R = identity: S.B = k.A, so
	 * the cofactorless equation S.B = R + k.A holds. */
	{
		uint8_t seed[32], h[64], a[64] = { 0 }, k[64], s64[64], ra[96];

		memset(seed, 7, sizeof(seed));
		assert_int_equal(sdpp_ed25519_public_from_seed(pub, seed), SDPP_OK);
		crypto_hash_sha512(h, seed, sizeof(seed));
		h[0] &= 248;
		h[31] &= 127;
		h[31] |= 64;
		memcpy(a, h, 32);
		crypto_core_ed25519_scalar_reduce(s64, a);
		memcpy(ra, sig, 32);
		memcpy(ra + 32, pub, 32);
		{
			crypto_hash_sha512_state st;

			crypto_hash_sha512_init(&st);
			crypto_hash_sha512_update(&st, ra, 64);
			crypto_hash_sha512_update(&st, (const uint8_t *)msg, strlen(msg));
			crypto_hash_sha512_final(&st, h);
		}
		crypto_core_ed25519_scalar_reduce(k, h);
		crypto_core_ed25519_scalar_mul(sig + 32, k, s64);
		assert_int_equal(sdpp_verify_raw(pub, msg, strlen(msg), sig, 64), SDPP_E_SIGNATURE);
	}
}

static void
test_sign_identity(void **state)
{
	struct sdpp_identity *a = NULL, *b = NULL;
	struct sdpp_verifier *v = NULL;
	uint8_t pa[32], pb[32], sig[64];
	static const char msg[] = "menu v1";

	(void)state;
	assert_int_equal(sdpp_identity_generate(&a), SDPP_OK);
	assert_int_equal(sdpp_identity_generate(&b), SDPP_OK);
	sdpp_identity_sign_public(a, pa);
	sdpp_identity_sign_public(b, pb);
	assert_memory_not_equal(pa, pb, 32);
	assert_int_equal(sdpp_sign(a, msg, strlen(msg), sig), SDPP_OK);
	assert_int_equal(sdpp_verify_raw(pa, msg, strlen(msg), sig, 64), SDPP_OK);
	assert_int_equal(sdpp_verify_raw(pb, msg, strlen(msg), sig, 64), SDPP_E_SIGNATURE);
	assert_int_equal(sdpp_verifier_new(&v, pa), SDPP_OK);
	assert_int_equal(sdpp_verify(v, msg, strlen(msg), sig, 64), SDPP_OK);
	assert_int_equal(sdpp_sign(a, NULL, 0, sig), SDPP_OK);
	assert_int_equal(sdpp_verify(v, NULL, 0, sig, 64), SDPP_OK);
	sdpp_verifier_free(v);
	sdpp_verifier_free(NULL);
	sdpp_identity_free(a);
	sdpp_identity_free(b);
	sdpp_identity_free(NULL);
}

static void
test_x25519_rfc7748(void **state)
{
	/* RFC 7748 s.5.2. */
	static const struct {
		const char *k, *u, *out;
	} v[] = {
		{ "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
		    "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
		    "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552" },
		{ "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
		    "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
		    "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957" },
	};
	uint8_t k[32], u[32], want[32], got[32], t[32];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		unhex_n(k, 32, v[i].k);
		unhex_n(u, 32, v[i].u);
		unhex_n(want, 32, v[i].out);
		assert_int_equal(sdpp_x25519(got, k, u), SDPP_OK);
		assert_memory_equal(got, want, 32);
	}

	/* k = u = 9; repeat k, u = X25519(k, u), k. 1,000,000 is too slow for CI. */
	memset(k, 0, 32);
	k[0] = 9;
	memcpy(u, k, 32);
	for (i = 1; i <= 1000; i++) {
		assert_int_equal(sdpp_x25519(t, k, u), SDPP_OK);
		memcpy(u, k, 32);
		memcpy(k, t, 32);
		if (i == 1) {
			unhex_n(want, 32,
			    "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079");
			assert_memory_equal(k, want, 32);
		}
	}
	unhex_n(want, 32, "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51");
	assert_memory_equal(k, want, 32);
}

static void
test_x25519_rfc7748_dh(void **state)
{
	/* RFC 7748 s.6.1. */
	uint8_t a[32], apub[32], b[32], bpub[32], k[32], base[32] = { 9 }, got[32];

	(void)state;
	unhex_n(a, 32, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
	unhex_n(apub, 32, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
	unhex_n(b, 32, "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
	unhex_n(bpub, 32, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
	unhex_n(k, 32, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");

	assert_int_equal(sdpp_x25519(got, a, base), SDPP_OK);
	assert_memory_equal(got, apub, 32);
	assert_int_equal(sdpp_x25519(got, b, base), SDPP_OK);
	assert_memory_equal(got, bpub, 32);
	assert_int_equal(sdpp_x25519(got, a, bpub), SDPP_OK);
	assert_memory_equal(got, k, 32);
	assert_int_equal(sdpp_x25519(got, b, apub), SDPP_OK);
	assert_memory_equal(got, k, 32);
}

static void
test_x25519_small_order(void **state)
{
	/* u = 0 and u = 1 have small order: X25519 gives all zeros, refused. */
	uint8_t k[32], u[32] = { 0 }, out[32];

	(void)state;
	unhex_n(k, 32, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
	memset(out, 0xaa, sizeof(out));
	assert_int_equal(sdpp_x25519(out, k, u), SDPP_E_CRYPTO);
	u[0] = 1;
	assert_int_equal(sdpp_x25519(out, k, u), SDPP_E_CRYPTO);
	/* p = 2^255 - 19 is 0 mod p: the non-canonical zero is refused too. */
	unhex_n(u, 32, "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
	assert_int_equal(sdpp_x25519(out, k, u), SDPP_E_CRYPTO);
}

static void
test_hkdf_rfc5869(void **state)
{
	/* RFC 5869 appendix A, test cases 1-3 (SHA-256). */
	static const struct {
		const char *ikm, *salt, *info, *okm;
	} v[] = {
		{ "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "000102030405060708090a0b0c",
		    "f0f1f2f3f4f5f6f7f8f9",
		    "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
		    "34007208d5b887185865" },
		{ "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
		  "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
		  "404142434445464748494a4b4c4d4e4f",
		    "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
		    "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
		    "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
		    "b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecf"
		    "d0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeef"
		    "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
		    "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
		    "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
		    "cc30c58179ec3e87c14c01d5c1f3434f1d87" },
		{ "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "", "",
		    "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
		    "9d201395faa4b61a96c8" },
	};
	static uint8_t big[255 * 32 + 1];
	uint8_t ikm[1] = { 0 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		size_t ikmlen, saltlen, infolen, okmlen;
		uint8_t *k = test_unhex(v[i].ikm, &ikmlen);
		uint8_t *s = test_unhex(v[i].salt, &saltlen);
		uint8_t *in = test_unhex(v[i].info, &infolen);
		uint8_t *want = test_unhex(v[i].okm, &okmlen);
		uint8_t *got = malloc(okmlen);

		assert_non_null(got);
		assert_int_equal(
		    sdpp_hkdf_sha256(got, okmlen, s, saltlen, k, ikmlen, in, infolen), SDPP_OK);
		assert_memory_equal(got, want, okmlen);
		/* An empty salt means HashLen zero bytes (RFC 5869 s.2.2). */
		if (saltlen == 0) {
			uint8_t zeros[32] = { 0 };

			memset(got, 0, okmlen);
			assert_int_equal(
			    sdpp_hkdf_sha256(got, okmlen, zeros, 32, k, ikmlen, NULL, 0), SDPP_OK);
			assert_memory_equal(got, want, okmlen);
		}
		free(k);
		free(s);
		free(in);
		free(want);
		free(got);
	}
	/* Output length limits: 1..255*32. */
	assert_int_equal(sdpp_hkdf_sha256(big, sizeof(big) - 1, NULL, 0, ikm, 1, NULL, 0), SDPP_OK);
	assert_int_equal(
	    sdpp_hkdf_sha256(big, sizeof(big), NULL, 0, ikm, 1, NULL, 0), SDPP_E_INVAL);
	assert_int_equal(sdpp_hkdf_sha256(big, 0, NULL, 0, ikm, 1, NULL, 0), SDPP_E_INVAL);
}

/* The GCM specification's test cases 13-16 (McGrew and Viega), AES-256. */
static const struct {
	const char *name, *key, *iv, *pt, *aad, *ct, *tag;
} gcm_vectors[] = {
	{ "TC13", "0000000000000000000000000000000000000000000000000000000000000000",
	    "000000000000000000000000", "", "", "", "530f8afbc74536b9a963b4f1c4cb738b" },
	{ "TC14", "0000000000000000000000000000000000000000000000000000000000000000",
	    "000000000000000000000000", "00000000000000000000000000000000", "",
	    "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919" },
	{ "TC15", "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
	    "cafebabefacedbaddecaf888",
	    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
	    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
	    "",
	    "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
	    "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
	    "b094dac5d93471bdec1a502270e3cc6c" },
	{ "TC16", "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
	    "cafebabefacedbaddecaf888",
	    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
	    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
	    "feedfacedeadbeeffeedfacedeadbeefabaddad2",
	    "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
	    "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
	    "76fc6ece0f4e1768cddf8853bb2d551b" },
};

static void
test_aes_gcm_vectors(void **state)
{
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(gcm_vectors) / sizeof(gcm_vectors[0]); i++) {
		size_t ptlen, aadlen, ctlen;
		uint8_t key[32], iv[12], tag[16];
		uint8_t *pt = test_unhex(gcm_vectors[i].pt, &ptlen);
		uint8_t *aad = test_unhex(gcm_vectors[i].aad, &aadlen);
		uint8_t *ct = test_unhex(gcm_vectors[i].ct, &ctlen);
		uint8_t *out = malloc(ptlen + 16), *back = malloc(ptlen + 1);
		struct sdpp_aead *a = NULL;

		print_message("%s\n", gcm_vectors[i].name);
		assert_non_null(out);
		assert_non_null(back);
		unhex_n(key, 32, gcm_vectors[i].key);
		unhex_n(iv, 12, gcm_vectors[i].iv);
		unhex_n(tag, 16, gcm_vectors[i].tag);
		assert_int_equal(sdpp_aead_new(&a, key), SDPP_OK);
		assert_int_equal(sdpp_aead_seal(a, iv, aad, aadlen, pt, ptlen, out), SDPP_OK);
		assert_memory_equal(out, ct, ctlen);
		assert_memory_equal(out + ptlen, tag, 16);
		assert_int_equal(
		    sdpp_aead_open(a, iv, aad, aadlen, out, ptlen + 16, back), SDPP_OK);
		assert_memory_equal(back, pt, ptlen);

		/* Any flipped bit (sampled) is refused and the output wiped. */
		for (j = 0; j < (ptlen + 16) * 8; j += 5) {
			out[j / 8] ^= (uint8_t)(1u << (j % 8));
			memset(back, 0xa5, ptlen + 1);
			assert_int_equal(sdpp_aead_open(a, iv, aad, aadlen, out, ptlen + 16, back),
			    SDPP_E_DECRYPT);
			if (ptlen > 0) {
				uint8_t zero[64] = { 0 };

				assert_memory_equal(back, zero, ptlen);
			}
			out[j / 8] ^= (uint8_t)(1u << (j % 8));
		}
		if (aadlen > 0)
			assert_int_equal(
			    sdpp_aead_open(a, iv, NULL, 0, out, ptlen + 16, back), SDPP_E_DECRYPT);
		assert_int_equal(sdpp_aead_open(a, iv, aad, aadlen, out, 15, back), SDPP_E_DECRYPT);
		sdpp_aead_free(a);
		free(pt);
		free(aad);
		free(ct);
		free(out);
		free(back);
	}
	sdpp_aead_free(NULL);
}

static void
test_aead_reuse(void **state)
{
	/* One context, 1000 messages of varied sizes and nonces, interleaved. */
	uint8_t key[32], nonce[12] = { 0 }, pt[300], aad[20], ct[316], back[300];
	struct sdpp_aead *a = NULL, *b = NULL;
	size_t i, len, aadlen;

	(void)state;
	assert_int_equal(sdpp_random(key, sizeof(key)), SDPP_OK);
	assert_int_equal(sdpp_aead_new(&a, key), SDPP_OK);
	assert_int_equal(sdpp_aead_new(&b, key), SDPP_OK);
	for (i = 0; i < 1000; i++) {
		len = (i * 37) % sizeof(pt);
		aadlen = i % sizeof(aad);
		memcpy(nonce, &i, sizeof(i) < 12 ? sizeof(i) : 12);
		assert_int_equal(sdpp_random(pt, len + 1), SDPP_OK);
		memset(aad, (int)i, sizeof(aad));
		assert_int_equal(sdpp_aead_seal(a, nonce, aad, aadlen, pt, len, ct), SDPP_OK);
		/* The same context opens it, and so does a second one with the key. */
		assert_int_equal(
		    sdpp_aead_open(a, nonce, aad, aadlen, ct, len + 16, back), SDPP_OK);
		assert_memory_equal(back, pt, len);
		assert_int_equal(
		    sdpp_aead_open(b, nonce, aad, aadlen, ct, len + 16, back), SDPP_OK);
		assert_memory_equal(back, pt, len);
		if (i % 10 == 0) {
			/* A failure in between must not poison the next message. */
			ct[len] ^= 1;
			assert_int_equal(sdpp_aead_open(a, nonce, aad, aadlen, ct, len + 16, back),
			    SDPP_E_DECRYPT);
		}
	}
	sdpp_aead_free(a);
	sdpp_aead_free(b);
}

static void
test_sha256(void **state)
{
	/* FIPS 180-2 "abc", fed in pieces including an empty one. */
	struct sdpp_iov parts[] = { { "a", 1 }, { NULL, 0 }, { "bc", 2 } };
	uint8_t got[32], want[32];

	(void)state;
	unhex_n(want, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(sdpp_sha256(got, parts, 3), SDPP_OK);
	assert_memory_equal(got, want, 32);
	unhex_n(want, 32, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_int_equal(sdpp_sha256(got, NULL, 0), SDPP_OK);
	assert_memory_equal(got, want, 32);
}

static void
test_helpers(void **state)
{
	uint8_t a[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, b[8];
	void *p = malloc(16);

	(void)state;
	memcpy(b, a, 8);
	assert_int_equal(sdpp_memcmp_ct(a, b, 8), 0);
	b[7] ^= 0x80;
	assert_int_not_equal(sdpp_memcmp_ct(a, b, 8), 0);
	sdpp_wipe(a, 8);
	memset(b, 0, 8);
	assert_memory_equal(a, b, 8);
	sdpp_wipe(NULL, 0);
	assert_non_null(p);
	sdpp_secret_free(p, 16);
	sdpp_secret_free(NULL, 0);
	assert_int_equal(sdpp_random(NULL, 0), SDPP_OK);
}

static void
test_seal_roundtrip(void **state)
{
	struct sdpp_identity *id = NULL, *other = NULL;
	uint8_t pub[32], key[32], got[32], sealed[SDPP_SEALED_BYTES], bad[SDPP_SEALED_BYTES];
	uint8_t zero[32] = { 0 };
	static const uint8_t info[] = "order 7f3a";
	size_t i, bit;

	(void)state;
	assert_int_equal(SDPP_SEALED_BYTES, 80);
	assert_int_equal(sdpp_identity_generate(&id), SDPP_OK);
	assert_int_equal(sdpp_identity_generate(&other), SDPP_OK);
	sdpp_identity_enc_public(id, pub);
	assert_int_equal(sdpp_random(key, sizeof(key)), SDPP_OK);
	assert_int_equal(sdpp_seal(sealed, pub, key, info, sizeof(info) - 1), SDPP_OK);
	assert_int_equal(sdpp_unseal(got, id, sealed, info, sizeof(info) - 1), SDPP_OK);
	assert_memory_equal(got, key, 32);

	/* A second seal of the same key uses a new ephemeral: different bytes. */
	memcpy(bad, sealed, sizeof(bad));
	assert_int_equal(sdpp_seal(sealed, pub, key, info, sizeof(info) - 1), SDPP_OK);
	assert_memory_not_equal(bad, sealed, sizeof(bad));

	memset(got, 0xaa, 32);
	assert_int_equal(sdpp_unseal(got, other, sealed, info, sizeof(info) - 1), SDPP_E_DECRYPT);
	assert_memory_equal(got, zero, 32);
	assert_int_equal(sdpp_unseal(got, id, sealed, info, sizeof(info) - 2), SDPP_E_DECRYPT);
	assert_int_equal(
	    sdpp_unseal(got, id, sealed, (const uint8_t *)"order 7f3b", 10), SDPP_E_DECRYPT);
	assert_int_equal(sdpp_unseal(got, id, sealed, NULL, 0), SDPP_E_DECRYPT);

	/* Every bit of all 80 bytes matters (even u's masked top bit: it is in the salt). */
	for (i = 0; i < SDPP_SEALED_BYTES; i++) {
		for (bit = 0; bit < 8; bit++) {
			memcpy(bad, sealed, sizeof(bad));
			bad[i] ^= (uint8_t)(1u << bit);
			memset(got, 0xaa, 32);
			assert_int_equal(
			    sdpp_unseal(got, id, bad, info, sizeof(info) - 1), SDPP_E_DECRYPT);
			assert_memory_equal(got, zero, 32);
		}
	}
	/* A small-order ephemeral (all zero) is refused the same way. */
	memcpy(bad, sealed, sizeof(bad));
	memset(bad, 0, 32);
	assert_int_equal(sdpp_unseal(got, id, bad, info, sizeof(info) - 1), SDPP_E_DECRYPT);
	/* And sealing to a small-order recipient fails. */
	assert_int_not_equal(sdpp_seal(bad, zero, key, info, sizeof(info) - 1), SDPP_OK);

	/* Empty info works too. */
	assert_int_equal(sdpp_seal(sealed, pub, key, NULL, 0), SDPP_OK);
	assert_int_equal(sdpp_unseal(got, id, sealed, NULL, 0), SDPP_OK);
	assert_memory_equal(got, key, 32);

	sdpp_identity_free(id);
	sdpp_identity_free(other);
}

/*
 * A fixed-ephemeral seal, computed independently (Python `cryptography`,
 * following the construction in crypto.h): ephemeral = RFC 7748 Alice,
 * recipient = RFC 7748 Bob, session key 00..1f, info "order 42".
 */
static const char seal_kat[] = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
                               "9aee3263f766dc24f3881e681181835920aa704a0cae85454f6d58865502c60b"
                               "cd7f1e7d7f786fd38e0532592fca1112";

/* Bob's X25519 key (RFC 7748) behind RFC 8032 TEST 1's Ed25519 key. */
static const char seal_kat_identity[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
    "-----END PRIVATE KEY-----\n"
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VuBCIEIF2rCH5iSopLeeF/i4OADuZvO7EpJhi2/Rwviyf/iODr\n"
    "-----END PRIVATE KEY-----\n";

static void
test_seal_kat(void **state)
{
	uint8_t eph[32], bob[32], key[32], want[SDPP_SEALED_BYTES], a[SDPP_SEALED_BYTES];
	uint8_t b[SDPP_SEALED_BYTES], got[32], pub[32];
	struct sdpp_identity *id = NULL;
	static const uint8_t info[] = "order 42";
	size_t i;

	(void)state;
	unhex_n(eph, 32, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
	unhex_n(bob, 32, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
	unhex_n(want, sizeof(want), seal_kat);
	for (i = 0; i < 32; i++)
		key[i] = (uint8_t)i;
	assert_int_equal(
	    sdpp_seal_with_ephemeral(a, bob, key, info, sizeof(info) - 1, eph), SDPP_OK);
	assert_int_equal(
	    sdpp_seal_with_ephemeral(b, bob, key, info, sizeof(info) - 1, eph), SDPP_OK);
	assert_memory_equal(a, b, sizeof(a));
	assert_memory_equal(a, want, sizeof(a));

	assert_int_equal(
	    sdpp_identity_from_pem(&id, seal_kat_identity, strlen(seal_kat_identity)), SDPP_OK);
	sdpp_identity_enc_public(id, pub);
	assert_memory_equal(pub, bob, 32);
	assert_int_equal(sdpp_unseal(got, id, want, info, sizeof(info) - 1), SDPP_OK);
	assert_memory_equal(got, key, 32);
	sdpp_identity_free(id);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ed25519_rfc8032),
		cmocka_unit_test(test_sign_identity),
		cmocka_unit_test(test_ed25519_small_order),
		cmocka_unit_test(test_x25519_rfc7748),
		cmocka_unit_test(test_x25519_rfc7748_dh),
		cmocka_unit_test(test_x25519_small_order),
		cmocka_unit_test(test_hkdf_rfc5869),
		cmocka_unit_test(test_aes_gcm_vectors),
		cmocka_unit_test(test_aead_reuse),
		cmocka_unit_test(test_sha256),
		cmocka_unit_test(test_helpers),
		cmocka_unit_test(test_seal_roundtrip),
		cmocka_unit_test(test_seal_kat),
	};

	return cmocka_run_group_tests_name("crypto", tests, NULL, NULL);
}
