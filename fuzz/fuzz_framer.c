/* libFuzzer target: the line framer against a model, with chunk sizes and caps from the input. */
#include "fuzz/fuzz.h"
#include "sdpp/framer.h"

/*
 * The model: the bytes the framer accepted and has not returned yet, in
 * order. Frames are the runs between newlines other than "" and "\r"
 * (keepalives); a run longer than the cap (or an unterminated tail longer
 * than the cap) makes the framer fail for good.
 */
struct model {
	uint8_t *acc;
	size_t len;    /* bytes held in acc */
	size_t done;   /* of which consumed by returned frames and keepalives */
	size_t cap;    /* current cap */
	size_t maxcap; /* largest cap ever set: bounds what may be buffered */
	int toolarge;
};

/* The model keeps only what is not consumed yet, like the framer: at most
 * the largest cap plus its newline, and one feed's worth on top. */
#define MODEL_MAX (2 * (SDPP_FRAME_CAP_HANDSHAKE + 0x1000 + 1))

static void
model_append(struct model *m, const uint8_t *p, size_t n)
{
	if (m->done > 0) {
		memmove(m->acc, m->acc + m->done, m->len - m->done);
		m->len -= m->done;
		m->done = 0;
	}
	CHECK(n <= MODEL_MAX - m->len);
	memcpy(m->acc + m->len, p, n);
	m->len += n;
}

static size_t
take(const uint8_t **p, size_t *n, size_t want)
{
	if (want > *n)
		want = *n;
	*p += want;
	*n -= want;
	return want;
}

/* Cap from two input bytes: mostly small, so oversize frames are easy to reach. */
static size_t
cap_from(const uint8_t *p)
{
	unsigned v = (unsigned)p[0] << 8 | p[1];

	if (p[0] >= 0xf0)
		return SDPP_FRAME_CAP_HANDSHAKE + (v & 0xfff);
	return 1 + v % 512;
}

/* Drains every frame and checks each against the model. */
static void
drain(struct sdpp_framer *f, struct model *m)
{
	const char *frame;
	size_t len, nl;
	enum sdpp_err e;

	for (;;) {
		frame = NULL;
		len = 0;
		e = sdpp_framer_next(f, &frame, &len);
		/* What the model expects: skip keepalives ("\n" and "\r\n",
		 * docs/PROTOCOL.md 2.1), then look at the run. */
		while (!m->toolarge && m->done < m->len) {
			if (m->acc[m->done] == '\n')
				m->done++;
			else if (m->acc[m->done] == '\r' && m->done + 1 < m->len &&
			         m->acc[m->done + 1] == '\n')
				m->done += 2;
			else
				break;
		}
		if (m->toolarge) {
			CHECK(e == SDPP_E_FRAME_TOO_LARGE);
			return;
		}
		for (nl = m->done; nl < m->len && m->acc[nl] != '\n'; nl++)
			;
		if (nl == m->len) {
			/* No complete frame: AGAIN, unless the tail is already too long. */
			if (m->len - m->done > m->cap) {
				CHECK(e == SDPP_E_FRAME_TOO_LARGE);
				m->toolarge = 1;
			} else {
				CHECK(e == SDPP_E_AGAIN);
				CHECK(sdpp_framer_pending(f) == m->len - m->done);
			}
			return;
		}
		if (nl - m->done > m->cap) {
			CHECK(e == SDPP_E_FRAME_TOO_LARGE);
			m->toolarge = 1;
			return;
		}
		CHECK(e == SDPP_OK);
		CHECK(frame != NULL);
		CHECK(len > 0 && len <= m->cap);
		CHECK(len == nl - m->done);
		CHECK(memchr(frame, '\n', len) == NULL);
		CHECK(memcmp(frame, m->acc + m->done, len) == 0);
		m->done = nl + 1;
	}
}

/*
 * Input: two bytes of initial cap, then operations. An operation byte below
 * 0xf0 is a chunk length (0..239); that many following bytes are fed, in
 * pieces as the framer takes them, draining frames after each piece. 0xf0..
 * 0xfc changes the cap (two more bytes), 0xfd feeds the next chunk twice
 * before draining (a caller that feeds what it has first), 0xfe feeds a
 * zero-length chunk and 0xff feeds a one-byte chunk whose length repeats (a
 * long run of one byte).
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sdpp_framer *f;
	struct model m;
	const uint8_t *p = data, *chunk;
	size_t n = size, len, took, i, k;
	enum sdpp_err e;
	uint8_t run[4096];

	if (size < 2)
		return 0;
	CHECK(sdpp_framer_new(0) == NULL);
	CHECK(sdpp_framer_new(SDPP_FRAME_CAP_MAX + 1) == NULL);
	memset(&m, 0, sizeof(m));
	m.cap = m.maxcap = cap_from(p);
	take(&p, &n, 2);
	f = sdpp_framer_new(m.cap);
	CHECK(f != NULL);
	CHECK(sdpp_framer_set_cap(f, 0) == SDPP_E_INVAL);
	CHECK(sdpp_framer_set_cap(f, SDPP_FRAME_CAP_MAX + 1) == SDPP_E_INVAL);
	m.acc = malloc(MODEL_MAX);
	CHECK(m.acc != NULL);
	while (n > 0) {
		uint8_t op = *p;

		take(&p, &n, 1);
		if (op >= 0xf0 && op <= 0xfc) {
			if (n < 2)
				break;
			len = cap_from(p);
			take(&p, &n, 2);
			CHECK(sdpp_framer_set_cap(f, len) == SDPP_OK);
			m.cap = len;
			if (len > m.maxcap)
				m.maxcap = len;
			/* A lowered cap can make what is buffered too large. */
			if (!m.toolarge)
				drain(f, &m);
			continue;
		}
		if (op == 0xfe) {
			CHECK(sdpp_framer_feed(f, "x", 0, &e) == 0 && e == SDPP_OK);
			continue;
		}
		if (op == 0xfd) {
			/* Feed twice before draining, like a caller that pushes what
			 * it has first: a full framer takes nothing until frames are
			 * drained, and the loop below feeds the rest. */
			if (n < 1)
				break;
			len = p[0];
			take(&p, &n, 1);
			chunk = p;
			len = take(&p, &n, len);
			for (k = 0; k < 2; k++) {
				took = sdpp_framer_feed(f, chunk, len, &e);
				CHECK(e == SDPP_OK && took <= len);
				CHECK(took == 0 || !m.toolarge);
				model_append(&m, chunk, took);
				chunk += took;
				len -= took;
			}
			CHECK(sdpp_framer_pending(f) <= m.maxcap + 1);
			drain(f, &m);
		} else if (op == 0xff) {
			if (n < 2)
				break;
			len = 1 + ((size_t)p[1] << 4) % sizeof(run);
			memset(run, p[0], len);
			take(&p, &n, 2);
			chunk = run;
		} else {
			chunk = p;
			len = take(&p, &n, op);
		}
		/* Feed the chunk until the framer takes all of it or refuses. */
		i = 0;
		while (i < len) {
			took = sdpp_framer_feed(f, chunk + i, len - i, &e);
			CHECK(e == SDPP_OK);
			CHECK(took <= len - i);
			model_append(&m, chunk + i, took);
			i += took;
			if (took == 0) {
				/* Refused: only when the frame is too large, and for good. */
				CHECK(sdpp_framer_next(f, &(const char *){ NULL },
				          &(size_t){ 0 }) == SDPP_E_FRAME_TOO_LARGE);
				m.toolarge = 1;
				break;
			}
			if (m.toolarge)
				CHECK(!"feed accepted bytes after FRAME_TOO_LARGE");
			/* Never more buffered than the largest cap plus its '\n'. */
			CHECK(sdpp_framer_pending(f) <= m.maxcap + 1);
			drain(f, &m);
		}
	}
	drain(f, &m);
	if (m.toolarge) {
		/* Sticky: more input, a new cap, nothing brings it back. */
		CHECK(sdpp_framer_feed(f, "a\n", 2, &e) == 0 && e == SDPP_OK);
		CHECK(sdpp_framer_set_cap(f, SDPP_FRAME_CAP_MAX) == SDPP_OK);
		CHECK(sdpp_framer_next(f, &(const char *){ NULL }, &(size_t){ 0 }) ==
		      SDPP_E_FRAME_TOO_LARGE);
	}
	CHECK(m.done <= m.len);
	sdpp_framer_free(f);
	sdpp_framer_free(NULL);
	free(m.acc);
	return 0;
}
