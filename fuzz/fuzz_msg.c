/* libFuzzer target: the SDPP/1 message and item codecs, the fast paths against the generic. */
#include "fuzz/fuzz.h"
#include "sdpp/crypto.h"
#include "sdpp/msg.h"

/* One signing key for the whole run: key generation is far slower than a parse. */
static struct sdpp_identity *signer;
static struct sdpp_verifier *verifier;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint8_t pub[SDPP_SIGN_PUBLIC_BYTES];

	(void)argc;
	(void)argv;
	CHECK(sdpp_identity_generate(&signer) == SDPP_OK);
	sdpp_identity_sign_public(signer, pub);
	CHECK(sdpp_verifier_new(&verifier, pub) == SDPP_OK);
	return 0;
}

/* Encodes m (signed by id unless NULL) and checks the frame's shape, and
 * that the direct data writer gives the generic encoder's bytes. */
static char *
encode(const struct sdpp_msg *m, const struct sdpp_identity *id, size_t *len)
{
	char *frame = NULL, *ref = NULL;
	size_t reflen = 0;
	enum sdpp_err e;

	e = sdpp_msg_encode(m, id, &frame, len);
	CHECK(e == SDPP_OK);
	CHECK(*len >= 2 && frame[*len - 1] == '\n');
	CHECK(memchr(frame, '\n', *len - 1) == NULL);
	CHECK(sdpp_msg_encode_generic(m, id, &ref, &reflen) == SDPP_OK);
	CHECK(reflen == *len && memcmp(ref, frame, reflen) == 0);
	free(ref);
	return frame;
}

/* sdpp_msg_parse() (with its data fast path) against the generic parser. */
static void
same_parse(const char *frame, size_t len, enum sdpp_role role)
{
	struct sdpp_msg a, b;
	char ea_txt[SDPP_TEXT_MAX + 1], eb_txt[SDPP_TEXT_MAX + 1];
	enum sdpp_err ea, eb;

	ea = sdpp_msg_parse(&a, frame, len, role, ea_txt, sizeof(ea_txt));
	eb = sdpp_msg_parse_generic(&b, frame, len, role, eb_txt, sizeof(eb_txt));
	CHECK(ea == eb);
	CHECK(strcmp(ea_txt, eb_txt) == 0);
	if (ea != SDPP_OK)
		return;
	CHECK(a.type == b.type && a.from == b.from && a.signed_ == b.signed_);
	CHECK(strcmp(a.verification, b.verification) == 0);
	CHECK(a.signed_len == b.signed_len);
	if (a.signed_) {
		CHECK(memcmp(a.signature, b.signature, sizeof(a.signature)) == 0);
		CHECK(memcmp(a.signed_bytes, b.signed_bytes, a.signed_len) == 0);
	}
	if (a.type == SDPP_T_DATA) {
		CHECK(memcmp(a.u.data.order_id, b.u.data.order_id, SDPP_ORDER_ID_BYTES) == 0);
		CHECK(a.u.data.seq == b.u.data.seq);
		CHECK(a.u.data.ciphertext_len == b.u.data.ciphertext_len);
		CHECK(
		    memcmp(a.u.data.ciphertext, b.u.data.ciphertext, a.u.data.ciphertext_len) == 0);
	}
	sdpp_msg_free(&a);
	sdpp_msg_free(&b);
}

static void
same_signed_input(const struct sdpp_msg *a, const struct sdpp_msg *b)
{
	CHECK(a->signed_bytes != NULL && b->signed_bytes != NULL);
	CHECK(a->signed_len == b->signed_len);
	CHECK(memcmp(a->signed_bytes, b->signed_bytes, a->signed_len) == 0);
}

static void
one_role(const uint8_t *data, size_t size, enum sdpp_role role)
{
	struct sdpp_msg m, m2, m3;
	char err[SDPP_TEXT_MAX + 1], *f1, *f2, *fs;
	size_t l1 = 0, l2 = 0, ls = 0;
	uint8_t id1[SDPP_ORDER_ID_BYTES], id2[SDPP_ORDER_ID_BYTES];
	struct sdpp_msg pristine;
	enum sdpp_err e;

	same_parse((const char *)data, size, role);
	memset(&m, 0xa5, sizeof(m));
	memset(&pristine, 0xa5, sizeof(pristine));
	memset(err, 'x', sizeof(err));
	e = sdpp_msg_parse(&m, (const char *)data, size, role, err, sizeof(err));
	CHECK(memchr(err, '\0', sizeof(err)) != NULL);
	if (e != SDPP_OK) {
		/* "On error *msg is untouched." */
		CHECK(memcmp(&m, &pristine, sizeof(m)) == 0);
		CHECK(err[0] != '\0');
		CHECK(e > SDPP_E_AGAIN && e < SDPP_E__COUNT);
		return;
	}
	CHECK(m.type > SDPP_T_NONE && m.type < SDPP_T__COUNT);
	CHECK(m.from == role);
	/* The signature input is kept exactly when there is a signature. */
	if (m.signed_) {
		CHECK(m.signed_bytes != NULL && m.signed_len > SDPP_SIG_CONTEXT_LEN);
		CHECK(memcmp(m.signed_bytes, SDPP_SIG_CONTEXT, SDPP_SIG_CONTEXT_LEN) == 0);
	} else {
		CHECK(m.signed_bytes == NULL);
	}
	/* A signature from the input only verifies if someone forged Ed25519. */
	(void)sdpp_msg_verify(&m, verifier);

	/* Unsigned round trip: same type, same signature input, same bytes. */
	f1 = encode(&m, NULL, &l1);
	same_parse(f1, l1 - 1, role);
	e = sdpp_msg_parse(&m2, f1, l1 - 1, role, NULL, 0);
	CHECK(e == SDPP_OK);
	CHECK(m2.type == m.type && !m2.signed_);
	CHECK(sdpp_msg_verify(&m2, verifier) == SDPP_E_SIGNATURE);
	CHECK(m2.signed_bytes == NULL);
	f2 = encode(&m2, NULL, &l2);
	CHECK(l2 == l1 && memcmp(f1, f2, l1) == 0);
	/* Only a signed order has an id. */
	CHECK(sdpp_order_id(&m2, id2) == SDPP_E_INVAL);
	if (m.type != SDPP_T_ORDER || !m.signed_)
		CHECK(sdpp_order_id(&m, id1) == SDPP_E_INVAL);

	/* Signed round trip: the signature verifies over the same input. */
	fs = encode(&m, signer, &ls);
	same_parse(fs, ls - 1, role);
	e = sdpp_msg_parse(&m3, fs, ls - 1, role, NULL, 0);
	CHECK(e == SDPP_OK);
	CHECK(m3.type == m.type && m3.signed_);
	CHECK(sdpp_msg_verify(&m3, verifier) == SDPP_OK);
	if (m.signed_) {
		/* Same content, same signature input, same order id. */
		same_signed_input(&m, &m3);
		if (m.type == SDPP_T_ORDER) {
			CHECK(sdpp_order_id(&m, id1) == SDPP_OK);
			CHECK(sdpp_order_id(&m3, id2) == SDPP_OK);
			CHECK(memcmp(id1, id2, sizeof(id1)) == 0);
		}
	}

	free(f1);
	free(f2);
	free(fs);
	sdpp_msg_free(&m);
	sdpp_msg_free(&m2);
	sdpp_msg_free(&m3);
	sdpp_msg_free(NULL);
}

/* The plaintext of a data item is parsed after decryption: same treatment. */
static void
item(const uint8_t *data, size_t size)
{
	struct sdpp_item it, it2, ref;
	char *b1 = NULL, *b2 = NULL, *r1 = NULL;
	size_t n1 = 0, n2 = 0, rn = 0;
	enum sdpp_err e;

	memset(&it, 0xa5, sizeof(it));
	e = sdpp_item_parse(&it, (const char *)data, size);
	/* The fast reader of canonical items agrees with the generic one. */
	CHECK(sdpp_item_parse_generic(&ref, (const char *)data, size) == e);
	if (e != SDPP_OK) {
		CHECK(it.payload == NULL && ref.payload == NULL);
		return;
	}
	CHECK(ref.seq == it.seq && ref.received_at == it.received_at);
	CHECK(strcmp(ref.topic, it.topic) == 0 && ref.payload_len == it.payload_len);
	CHECK(it.payload_len == 0 || memcmp(ref.payload, it.payload, it.payload_len) == 0);
	sdpp_item_free(&ref);
	CHECK(it.seq >= 1);
	CHECK(it.payload != NULL && it.payload_len <= SDPP_PAYLOAD_MAX);
	CHECK(sdpp_item_encode(&it, &b1, &n1) == SDPP_OK);
	CHECK(sdpp_item_encode_generic(&it, &r1, &rn) == SDPP_OK);
	CHECK(rn == n1 && memcmp(r1, b1, n1) == 0);
	free(r1);
	CHECK(sdpp_item_parse(&it2, b1, n1) == SDPP_OK);
	CHECK(it2.seq == it.seq && it2.received_at == it.received_at);
	CHECK(strcmp(it2.topic, it.topic) == 0);
	CHECK(it2.payload_len == it.payload_len);
	CHECK(it.payload_len == 0 || memcmp(it2.payload, it.payload, it.payload_len) == 0);
	CHECK(sdpp_item_encode(&it2, &b2, &n2) == SDPP_OK);
	CHECK(n2 == n1 && memcmp(b1, b2, n1) == 0);
	sdpp_item_free(&it);
	sdpp_item_free(&it2);
	sdpp_item_free(NULL);
	free(b1);
	free(b2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	one_role(data, size, SDPP_ROLE_BUYER);
	one_role(data, size, SDPP_ROLE_SELLER);
	item(data, size);
	return 0;
}
