/* SDPP/1 fast paths: data frames and items read and written in their canonical layout. */
#include <stdlib.h>
#include <string.h>

#include "sdpp/enc.h"
#include "sdpp/json.h"
#include "sdpp/msg.h"
#include "sdpp/msg_int.h"

/*
 * Both entry points of each pair try the fast path first: a data frame
 * from the seller and an item exactly as the direct writers below lay
 * them out. Anything else falls through to the reference codec (msg.c),
 * so what is accepted, the results and every error stay its own;
 * tests/test_msg.c and fuzz/fuzz_msg.c compare the two.
 */

/*
 * The canonical (RFC 8785) layouts of a data frame and of an item, between
 * their variable parts. Members in JCS order:
 * {"data":{"ciphertext","order_id","seq"},"message_type","signature","verification"}
 * and {"payload","received_at","seq","topic"}. The direct writers lay them
 * out and the fast parsers match them.
 */
#define DATA_HEAD "{\"data\":{\"ciphertext\":\""
#define DATA_ORDER "\",\"order_id\":\""
#define DATA_SEQ "\",\"seq\":"
#define DATA_TYPE "},\"message_type\":\"data\","
#define DATA_SIG "\"signature\":\""
#define DATA_SIG_END "\","
#define DATA_VERIF "\"verification\":"
#define ITEM_PAYLOAD "{\"payload\":\""
#define ITEM_RECEIVED "\",\"received_at\":"
#define ITEM_SEQ ",\"seq\":"
#define ITEM_TOPIC ",\"topic\":"

/*
 * Fast readers for the canonical layouts the direct writers produce (below).
 * Each returns 1 and advances *pp past what it read, or 0 if the input is
 * not exactly that; 0 is never an error, only "let the generic parser
 * decide". Nothing here needs a NUL: every read is bounded by end.
 */
static int
fast_lit(const char **pp, const char *end, const char *lit, size_t n)
{
	if ((size_t)(end - *pp) < n || memcmp(*pp, lit, n) != 0)
		return 0;
	*pp += n;
	return 1;
}

#define FAST_LIT(pp, end, lit) fast_lit((pp), (end), (lit), sizeof(lit) - 1)

/* A JSON integer as the strict parser takes it and JCS writes it: "0" or
 * [1-9][0-9]*, at most SDPP_JSON_INT_MAX. */
static int
fast_uint(const char **pp, const char *end, uint64_t *out)
{
	const char *p = *pp;
	uint64_t v = 0;
	size_t n = 0;

	if (p == end || *p < '0' || *p > '9')
		return 0;
	if (*p == '0') {
		p++;
	} else {
		while (p < end && *p >= '0' && *p <= '9' && n < 17) {
			v = v * 10 + (uint64_t)(*p - '0');
			p++;
			n++;
		}
		if (n > 16 || v > (uint64_t)SDPP_JSON_INT_MAX)
			return 0;
	}
	if (p < end && *p >= '0' && *p <= '9')
		return 0; /* "01" */
	*out = v;
	*pp = p;
	return 1;
}

/* The body of a JSON string up to its closing quote, which is left for
 * the next literal to match; NULL if there is none. Escapes are not decoded: callers only accept
 * characters that cannot be part of one. */
static const char *
fast_str(const char **pp, const char *end, size_t *n)
{
	const char *s = *pp, *q = memchr(s, '"', (size_t)(end - s));

	if (q == NULL)
		return NULL;
	*n = (size_t)(q - s);
	*pp = q;
	return s;
}

/* Base64 string body into a new buffer, as msg.c's rd_b64() does. */
static int
fast_b64(const char *s, size_t n, size_t cap, uint8_t **out, size_t *outlen)
{
	uint8_t *buf;

	if (n / 4 * 3 > cap + 2)
		return 0;
	buf = malloc(n / 4 * 3 + 1);
	if (buf == NULL)
		return 0;
	if (sdpp_b64_decode(buf, cap, outlen, s, n) != SDPP_OK) {
		free(buf);
		return 0;
	}
	*out = buf;
	return 1;
}

static int
fast_hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1; /* uppercase too: rd_hex() takes lowercase only */
}

static int
fast_hex(const char *s, size_t n, uint8_t *out, size_t nbytes)
{
	size_t i;
	int hi, lo;

	if (n != 2 * nbytes)
		return 0;
	for (i = 0; i < nbytes; i++) {
		hi = fast_hexval((unsigned char)s[2 * i]);
		lo = fast_hexval((unsigned char)s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return 0;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 1;
}

/*
 * A data frame from the seller exactly as data_encode() writes it: the
 * canonical layout, an ASCII verification without escapes, valid values.
 * Such a frame is its own canonical form, so the signature input is the
 * frame without the "signature" member, with no re-serialisation. Anything
 * else (another key order, whitespace, escapes, a bad value) returns 0 and
 * the generic parser runs, so the accepted frames, the results and every
 * error message stay the generic parser's; tests and fuzz_msg compare them.
 */
static int
data_parse_fast(struct sdpp_msg *m, const char *frame, size_t len)
{
	const char *p = frame, *end = frame + len, *s, *sig_at, *verif_at;
	struct sdpp_data *d = &m->u.data;
	size_t n, siglen, head, tail, i;

	if (!FAST_LIT(&p, end, DATA_HEAD))
		return 0;
	s = fast_str(&p, end, &n);
	if (s == NULL || !fast_b64(s, n, SDPP_FRAME_CAP_MAX, &d->ciphertext, &d->ciphertext_len))
		return 0;
	if (d->ciphertext_len < SDPP_AEAD_TAG_BYTES || !FAST_LIT(&p, end, DATA_ORDER))
		goto fail;
	s = fast_str(&p, end, &n);
	if (s == NULL || !fast_hex(s, n, d->order_id, SDPP_ORDER_ID_BYTES) ||
	    !FAST_LIT(&p, end, DATA_SEQ) || !fast_uint(&p, end, &d->seq) || d->seq < 1)
		goto fail;
	if (!FAST_LIT(&p, end, DATA_TYPE))
		goto fail;
	sig_at = p;
	if (!FAST_LIT(&p, end, DATA_SIG))
		goto fail;
	s = fast_str(&p, end, &n);
	if (s == NULL)
		goto fail;
	if (n != 0) {
		if (sdpp_b64_decode(m->signature, sizeof(m->signature), &siglen, s, n) != SDPP_OK ||
		    siglen != SDPP_SIGN_BYTES)
			goto fail;
		m->signed_ = 1;
	}
	if (!FAST_LIT(&p, end, DATA_SIG_END))
		goto fail;
	verif_at = p;
	if (!FAST_LIT(&p, end, DATA_VERIF "\""))
		goto fail;
	s = fast_str(&p, end, &n);
	if (s == NULL || n > SDPP_VERIFICATION_MAX || !FAST_LIT(&p, end, "\"}") || p != end)
		goto fail;
	/* Printable ASCII only: needs no escape and passes msg.c's text_ok(). */
	for (i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e || s[i] == '\\')
			goto fail;
	memcpy(m->verification, s, n);
	m->verification[n] = '\0';
	if (m->signed_) {
		head = (size_t)(sig_at - frame);
		tail = (size_t)(end - verif_at);
		m->signed_bytes = malloc(SDPP_SIG_CONTEXT_LEN + head + tail + 1);
		if (m->signed_bytes == NULL)
			goto fail;
		memcpy(m->signed_bytes, SDPP_SIG_CONTEXT, SDPP_SIG_CONTEXT_LEN);
		memcpy(m->signed_bytes + SDPP_SIG_CONTEXT_LEN, frame, head);
		memcpy(m->signed_bytes + SDPP_SIG_CONTEXT_LEN + head, verif_at, tail);
		m->signed_bytes[SDPP_SIG_CONTEXT_LEN + head + tail] = '\0';
		m->signed_len = SDPP_SIG_CONTEXT_LEN + head + tail;
	}
	return 1;
fail:
	free(d->ciphertext);
	d->ciphertext = NULL;
	return 0;
}

/*
 * An item exactly as sdpp_item_encode() writes it, with a topic that needs
 * no escapes; 0 (and nothing allocated) for anything else, which the
 * generic parser then decides, as for data_parse_fast().
 */
static int
item_parse_fast(struct sdpp_item *item, const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len, *s;
	uint8_t *payload = NULL;
	uint64_t v;
	size_t n, i;

	if (!FAST_LIT(&p, end, ITEM_PAYLOAD))
		return 0;
	s = fast_str(&p, end, &n);
	if (s == NULL || !fast_b64(s, n, SDPP_PAYLOAD_MAX, &payload, &item->payload_len))
		return 0;
	if (!FAST_LIT(&p, end, ITEM_RECEIVED) || !fast_uint(&p, end, &v))
		goto fail;
	item->received_at = (int64_t)v;
	if (!FAST_LIT(&p, end, ITEM_SEQ) || !fast_uint(&p, end, &item->seq) || item->seq < 1 ||
	    !FAST_LIT(&p, end, ITEM_TOPIC "\""))
		goto fail;
	s = fast_str(&p, end, &n);
	if (s == NULL || n == 0 || n > SDPP_TOPIC_MAX || !FAST_LIT(&p, end, "\"}") || p != end)
		goto fail;
	/* Raw bytes are the decoded text only without escapes (and NULs). */
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == '\\')
			goto fail;
	memcpy(item->topic, s, n);
	item->topic[n] = '\0';
	if (!sdpp_item_topic_ok(item->topic))
		goto fail;
	item->payload = payload;
	return 1;
fail:
	free(payload);
	return 0;
}

/*
 * Direct writers. A data frame and an item have fixed members, so their
 * canonical (RFC 8785) form can be laid out in one exact-size buffer
 * without a cJSON tree, a sort and a growing output buffer: that was about
 * half of the gateway's per-item cost. The generic encoders (msg.c) stay the
 * reference; tests/test_msg.c and fuzz/fuzz_msg.c check the two agree byte
 * for byte.
 */
struct wr {
	char *p;
	size_t o;
};

static void
wr_mem(struct wr *w, const char *s, size_t n)
{
	memcpy(w->p + w->o, s, n);
	w->o += n;
}

#define WR_LIT(w, lit) wr_mem((w), (lit), sizeof(lit) - 1)

/* Digits of v in decimal: the JCS form of an integer below 2^53. */
static size_t
dec_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

static void
wr_dec(struct wr *w, uint64_t v)
{
	size_t n = dec_len(v), i;

	for (i = n; i-- > 0;) {
		w->p[w->o + i] = (char)('0' + v % 10);
		v /= 10;
	}
	w->o += n;
}

/* Base64 of n bytes: sdpp_b64_encode() also writes a NUL, which the next
 * write covers (every buffer here has room for a final NUL or newline). */
static void
wr_b64(struct wr *w, const uint8_t *b, size_t n)
{
	sdpp_b64_encode(w->p + w->o, b, n);
	w->o += SDPP_B64_LEN(n) - 1;
}

static void
wr_hex(struct wr *w, const uint8_t *b, size_t n)
{
	sdpp_hex_encode(w->p + w->o, b, n);
	w->o += 2 * n;
}

/*
 * The data frame, laid out as JCS orders it:
 * {"data":{"ciphertext","order_id","seq"},"message_type","signature","verification"}.
 * The signature input is the same bytes without the "signature" member,
 * i.e. the head (up to "message_type") followed by the tail
 * ("verification"), so the frame is written once and signed from its parts.
 * Same results as sdpp_msg_encode_generic(), errors included.
 */
static enum sdpp_err
data_encode(const struct sdpp_msg *msg, const struct sdpp_identity *signer, int reserve, char **out,
    size_t *len)
{
	const struct sdpp_data *d = &msg->u.data;
	uint8_t sig[SDPP_SIGN_BYTES];
	size_t vlen, qlen, ctb64, head, tail, siglen, flen;
	char *frame = NULL, *sigin = NULL;
	struct wr w;
	enum sdpp_err e;

	*out = NULL;
	if (d->seq > (uint64_t)SDPP_JSON_INT_MAX)
		return SDPP_E_INVAL;
	/* Checks in the order the canonical serialiser meets the members, so
	 * the error is the generic encoder's: "data" first, "verification"
	 * last. The first bound also keeps the sizes below from overflowing. */
	if (d->ciphertext_len > MSG_SERIAL_CAP)
		return SDPP_E_FRAME_TOO_LARGE;
	ctb64 = SDPP_B64_LEN(d->ciphertext_len) - 1;
	head = sizeof(DATA_HEAD) - 1 + ctb64 + sizeof(DATA_ORDER) - 1 + 2 * SDPP_ORDER_ID_BYTES +
	       sizeof(DATA_SEQ) - 1 + dec_len(d->seq) + sizeof(DATA_TYPE) - 1;
	if (head > MSG_SERIAL_CAP - 1)
		return SDPP_E_FRAME_TOO_LARGE;
	vlen = strlen(msg->verification);
	qlen = sdpp_jcs_quote(NULL, msg->verification, vlen);
	if (qlen == 0)
		return SDPP_E_BAD_JSON;
	tail = sizeof(DATA_VERIF) - 1 + qlen + 1;
	siglen = signer != NULL || reserve ? SDPP_B64_LEN(SDPP_SIGN_BYTES) - 1 : 0;
	flen = head + sizeof(DATA_SIG) - 1 + siglen + sizeof(DATA_SIG_END) - 1 + tail;
	if (flen > MSG_SERIAL_CAP - 1)
		return SDPP_E_FRAME_TOO_LARGE;
	/* Exact size: the frame may be kept for resends. The NULs the hex and
	 * base64 encoders write always land on a byte written after them. */
	frame = malloc(flen + 1);
	if (frame == NULL)
		return SDPP_E_NOMEM;
	w.p = frame;
	w.o = 0;
	WR_LIT(&w, DATA_HEAD);
	wr_b64(&w, d->ciphertext, d->ciphertext_len);
	WR_LIT(&w, DATA_ORDER);
	wr_hex(&w, d->order_id, SDPP_ORDER_ID_BYTES);
	WR_LIT(&w, DATA_SEQ);
	wr_dec(&w, d->seq);
	WR_LIT(&w, DATA_TYPE);
	WR_LIT(&w, DATA_SIG);
	/* Filled in below, or by sdpp_data_frame_sign(); until then the
	 * base64 of 64 zero bytes, which no key's check accepts. */
	memset(w.p + w.o, 'A', siglen);
	if (siglen > 0)
		memcpy(w.p + w.o + siglen - 2, "==", 2);
	w.o += siglen;
	WR_LIT(&w, DATA_SIG_END);
	WR_LIT(&w, DATA_VERIF);
	(void)sdpp_jcs_quote(w.p + w.o, msg->verification, vlen);
	w.o += qlen;
	WR_LIT(&w, "}");
	if (signer != NULL) {
		e = SDPP_E_NOMEM;
		sigin = malloc(SDPP_SIG_CONTEXT_LEN + head + tail);
		if (sigin == NULL)
			goto fail;
		memcpy(sigin, SDPP_SIG_CONTEXT, SDPP_SIG_CONTEXT_LEN);
		memcpy(sigin + SDPP_SIG_CONTEXT_LEN, frame, head);
		memcpy(sigin + SDPP_SIG_CONTEXT_LEN + head, frame + flen - tail, tail);
		e = sdpp_sign(signer, sigin, SDPP_SIG_CONTEXT_LEN + head + tail, sig);
		if (e != SDPP_OK)
			goto fail;
		/* The encoder's NUL lands on the closing quote, restored next. */
		sdpp_b64_encode(frame + head + sizeof(DATA_SIG) - 1, sig, sizeof(sig));
		frame[head + sizeof(DATA_SIG) - 1 + siglen] = '"';
	}
	frame[flen] = '\n';
	*out = frame;
	*len = flen + 1;
	frame = NULL;
	e = SDPP_OK;
fail:
	free(sigin);
	free(frame);
	return e;
}

enum sdpp_err
sdpp_msg_parse(struct sdpp_msg *msg, const char *frame, size_t len, enum sdpp_role from, char *err,
    size_t errlen)
{
	struct sdpp_msg m;

	/* Data frames are nearly all the seller's traffic. */
	if (from == SDPP_ROLE_SELLER && frame != NULL) {
		memset(&m, 0, sizeof(m));
		m.type = SDPP_T_DATA;
		m.from = from;
		if (data_parse_fast(&m, frame, len)) {
			if (err != NULL && errlen > 0)
				err[0] = '\0';
			*msg = m;
			return SDPP_OK;
		}
	}
	return sdpp_msg_parse_generic(msg, frame, len, from, err, errlen);
}

enum sdpp_err
sdpp_msg_encode(
    const struct sdpp_msg *msg, const struct sdpp_identity *signer, char **out, size_t *len)
{
	if (msg->type == SDPP_T_DATA)
		return data_encode(msg, signer, 0, out, len);
	return sdpp_msg_encode_generic(msg, signer, out, len);
}

enum sdpp_err
sdpp_msg_encode_data_unsigned(const struct sdpp_msg *msg, char **out, size_t *len)
{
	if (msg->type != SDPP_T_DATA)
		return SDPP_E_INVAL;
	return data_encode(msg, NULL, 1, out, len);
}

enum sdpp_err
sdpp_data_frame_sign(char *frame, size_t len, const struct sdpp_identity *signer)
{
	static const char mark[] = DATA_TYPE DATA_SIG;
	const size_t siglen = SDPP_B64_LEN(SDPP_SIGN_BYTES) - 1;
	uint8_t sig[SDPP_SIGN_BYTES];
	size_t head, sig_at, tail_at, flen, tail;
	const char *m;
	char *sigin = NULL;
	enum sdpp_err e = SDPP_E_INVAL;

	/* The frame is data_encode()'s: its first DATA_TYPE ends the head
	 * (no base64, hex or number holds a '"'), the signature's place
	 * follows, then the tail up to the '\n'. */
	if (frame == NULL || len < 2 || frame[len - 1] != '\n')
		return SDPP_E_INVAL;
	flen = len - 1;
	for (m = NULL, head = 0; m == NULL && head + sizeof(mark) - 1 <= flen; head++)
		if (frame[head] == '}' && memcmp(frame + head, mark, sizeof(mark) - 1) == 0)
			m = frame + head;
	if (m == NULL)
		return SDPP_E_INVAL;
	head = (size_t)(m - frame) + sizeof(DATA_TYPE) - 1;
	sig_at = head + sizeof(DATA_SIG) - 1;
	tail_at = sig_at + siglen + sizeof(DATA_SIG_END) - 1;
	if (tail_at > flen ||
	    memcmp(frame + sig_at + siglen, DATA_SIG_END, sizeof(DATA_SIG_END) - 1) != 0)
		return SDPP_E_INVAL;
	tail = flen - tail_at;
	sigin = malloc(SDPP_SIG_CONTEXT_LEN + head + tail);
	if (sigin == NULL)
		return SDPP_E_NOMEM;
	memcpy(sigin, SDPP_SIG_CONTEXT, SDPP_SIG_CONTEXT_LEN);
	memcpy(sigin + SDPP_SIG_CONTEXT_LEN, frame, head);
	memcpy(sigin + SDPP_SIG_CONTEXT_LEN + head, frame + tail_at, tail);
	e = sdpp_sign(signer, sigin, SDPP_SIG_CONTEXT_LEN + head + tail, sig);
	if (e == SDPP_OK) {
		/* The encoder's NUL lands on the closing quote, restored next. */
		sdpp_b64_encode(frame + sig_at, sig, sizeof(sig));
		frame[sig_at + siglen] = '"';
	}
	free(sigin);
	return e;
}

/* {"payload","received_at","seq","topic"} in one exact-size buffer; the
 * same results as sdpp_item_encode_generic(), errors included. */
enum sdpp_err
sdpp_item_encode(const struct sdpp_item *item, char **out, size_t *len)
{
	size_t tlen, qlen, n;
	struct wr w;

	*out = NULL;
	if (item->seq > (uint64_t)SDPP_JSON_INT_MAX || item->received_at < 0 ||
	    item->received_at > SDPP_JSON_INT_MAX)
		return SDPP_E_INVAL;
	if (item->payload_len > MSG_SERIAL_CAP)
		return SDPP_E_FRAME_TOO_LARGE;
	/* The canonical serialiser meets the payload before the topic. */
	n = sizeof(ITEM_PAYLOAD) - 1 + SDPP_B64_LEN(item->payload_len) - 1;
	if (n > MSG_SERIAL_CAP)
		return SDPP_E_FRAME_TOO_LARGE;
	tlen = strlen(item->topic);
	qlen = sdpp_jcs_quote(NULL, item->topic, tlen);
	if (qlen == 0)
		return SDPP_E_BAD_JSON;
	n += sizeof(ITEM_RECEIVED) - 1 + dec_len((uint64_t)item->received_at) + sizeof(ITEM_SEQ) -
	     1 + dec_len(item->seq) + sizeof(ITEM_TOPIC) - 1 + qlen + 1;
	if (n > MSG_SERIAL_CAP)
		return SDPP_E_FRAME_TOO_LARGE;
	w.p = malloc(n + 1);
	if (w.p == NULL)
		return SDPP_E_NOMEM;
	w.o = 0;
	WR_LIT(&w, ITEM_PAYLOAD);
	wr_b64(&w, item->payload, item->payload_len);
	WR_LIT(&w, ITEM_RECEIVED);
	wr_dec(&w, (uint64_t)item->received_at);
	WR_LIT(&w, ITEM_SEQ);
	wr_dec(&w, item->seq);
	WR_LIT(&w, ITEM_TOPIC);
	(void)sdpp_jcs_quote(w.p + w.o, item->topic, tlen);
	w.o += qlen;
	WR_LIT(&w, "}");
	w.p[w.o] = '\0';
	*out = w.p;
	*len = w.o;
	return SDPP_OK;
}
enum sdpp_err
sdpp_item_parse(struct sdpp_item *item, const char *buf, size_t len)
{
	memset(item, 0, sizeof(*item));
	if (buf != NULL && item_parse_fast(item, buf, len))
		return SDPP_OK;
	return sdpp_item_parse_generic(item, buf, len);
}
