/* Tables for the line framer (struct sdpp_framer): splits, caps, draining, byte transparency. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sdpp/framer.h"

/* A literal with its exact length, so inputs may hold NUL bytes. */
#define B(s) s, sizeof(s) - 1

/* Frames collected from a framer, each followed by '\n' (frames never hold one). */
struct sink {
	char *buf;
	size_t len, alloc;
	size_t nframes;
	size_t short_feeds; /* feeds that took fewer bytes than offered */
};

static void
sink_put(struct sink *k, const char *frame, size_t len)
{
	if (k->len + len + 1 > k->alloc) {
		k->alloc = (k->len + len + 1) * 2;
		k->buf = realloc(k->buf, k->alloc);
		assert_non_null(k->buf);
	}
	memcpy(k->buf + k->len, frame, len);
	k->buf[k->len + len] = '\n';
	k->len += len + 1;
	k->nframes++;
}

/* Returns every complete frame into k; returns what next() said last. */
static enum sdpp_err
drain(struct sdpp_framer *f, struct sink *k)
{
	const char *frame;
	size_t len;
	enum sdpp_err e;

	for (;;) {
		e = sdpp_framer_next(f, &frame, &len);
		if (e != SDPP_OK)
			return e;
		assert_true(len > 0); /* empty lines are skipped */
		assert_null(memchr(frame, '\n', len));
		sink_put(k, frame, len);
	}
}

/*
 * The caller's loop: offers at most `chunk` bytes at a time (a socket read),
 * feeds what the framer takes, drains, and feeds the rest again. Returns the
 * last result of next(): SDPP_E_AGAIN when all input was consumed, or
 * SDPP_E_FRAME_TOO_LARGE (after which feed() must take nothing).
 */
static enum sdpp_err
feed_all(struct sdpp_framer *f, const char *in, size_t len, size_t (*chunk)(void *), void *arg,
    struct sink *k)
{
	size_t off = 0, want, n, left, before;
	enum sdpp_err e = SDPP_E_AGAIN, ferr;

	while (off < len) {
		want = chunk(arg);
		if (want > len - off)
			want = len - off;
		left = want;
		while (left > 0) {
			n = sdpp_framer_feed(f, in + off, left, &ferr);
			assert_int_equal(ferr, SDPP_OK);
			assert_true(n <= left);
			if (n < left)
				k->short_feeds++;
			off += n;
			left -= n;
			before = k->nframes;
			e = drain(f, k);
			if (e == SDPP_E_FRAME_TOO_LARGE) {
				/* Sticky: nothing more is taken, nothing more returned. */
				n = sdpp_framer_feed(f, "x\n", 2, &ferr);
				assert_int_equal(n, 0);
				assert_int_equal(ferr, SDPP_OK);
				return e;
			}
			assert_int_equal(e, SDPP_E_AGAIN);
			/* Full without a complete frame would be a deadlock. */
			if (n == 0 && k->nframes == before)
				fail_msg(
				    "feed took nothing and next() has no frame (off %zu)", off);
		}
	}
	return e;
}

static size_t
chunk_fixed(void *arg)
{
	return *(const size_t *)arg;
}

static void
test_new_and_caps(void **state)
{
	static const struct {
		size_t cap;
		int created;           /* sdpp_framer_new(cap) != NULL */
		enum sdpp_err set_cap; /* sdpp_framer_set_cap(f, cap) */
	} v[] = {
		{ 0, 0, SDPP_E_INVAL },
		{ 1, 1, SDPP_OK },
		{ SDPP_FRAME_CAP_HANDSHAKE, 1, SDPP_OK },
		{ SDPP_FRAME_CAP_SESSION, 1, SDPP_OK },
		{ SDPP_FRAME_CAP_MAX, 1, SDPP_OK },
		{ SDPP_FRAME_CAP_MAX + 1, 0, SDPP_E_INVAL },
		{ SIZE_MAX, 0, SDPP_E_INVAL },
	};
	struct sdpp_framer *f, *g;
	size_t i;

	(void)state;
	sdpp_framer_free(NULL);
	g = sdpp_framer_new(SDPP_FRAME_CAP_HANDSHAKE);
	assert_non_null(g);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		f = sdpp_framer_new(v[i].cap);
		if (v[i].created) {
			assert_non_null(f);
			/* A new framer holds nothing (allocation is lazy). */
			assert_int_equal(sdpp_framer_pending(f), 0);
		} else {
			assert_null(f);
		}
		sdpp_framer_free(f);
		if (sdpp_framer_set_cap(g, v[i].cap) != v[i].set_cap)
			fail_msg("set_cap(%zu): want %d", v[i].cap, v[i].set_cap);
	}
	sdpp_framer_free(g);
}

/* Byte streams through a small cap, each fed in pieces of several sizes. */
static void
test_split_table(void **state)
{
	static const struct {
		const char *name;
		size_t cap;
		const char *in;
		size_t inlen;
		const char *out; /* the frames returned, each followed by '\n' */
		size_t outlen;
		enum sdpp_err last; /* what next() says once the input is used up */
		size_t pending;     /* then, when last is SDPP_E_AGAIN */
	} v[] = {
		{ "one frame", 8, B("hello\n"), B("hello\n"), SDPP_E_AGAIN, 0 },
		{ "several frames", 8, B("a\nbb\nccc\n"), B("a\nbb\nccc\n"), SDPP_E_AGAIN, 0 },
		{ "empty lines skipped", 8, B("\n\na\n\n\nb\n\n"), B("a\nb\n"), SDPP_E_AGAIN, 0 },
		{ "only empty lines", 8, B("\n\n\n\n"), B(""), SDPP_E_AGAIN, 0 },
		{ "partial tail kept", 8, B("a\nbcd"), B("a\n"), SDPP_E_AGAIN, 3 },
		{ "exactly cap", 8, B("12345678\n"), B("12345678\n"), SDPP_E_AGAIN, 0 },
		{ "cap twice", 8, B("12345678\nabcdefgh\n"), B("12345678\nabcdefgh\n"),
		    SDPP_E_AGAIN, 0 },
		{ "cap bytes, no newline yet", 8, B("12345678"), B(""), SDPP_E_AGAIN, 8 },
		{ "cap + 1", 8, B("123456789\n"), B(""), SDPP_E_FRAME_TOO_LARGE, 0 },
		{ "cap + 1 without newline", 8, B("123456789"), B(""), SDPP_E_FRAME_TOO_LARGE, 0 },
		{ "too large after a good one", 8, B("ok\n123456789\nafter\n"), B("ok\n"),
		    SDPP_E_FRAME_TOO_LARGE, 0 },
		{ "cap 1", 1, B("a\nb\n\nc\n"), B("a\nb\nc\n"), SDPP_E_AGAIN, 0 },
		{ "cap 1, two bytes", 1, B("a\nbc\n"), B("a\n"), SDPP_E_FRAME_TOO_LARGE, 0 },
		{ "NUL bytes pass through", 8, B("a\0b\n\0\n\0\0\0\n"), B("a\0b\n\0\n\0\0\0\n"),
		    SDPP_E_AGAIN, 0 },
		{ "CRLF keeps the CR", 8, B("a\r\nbc\r\n"), B("a\r\nbc\r\n"), SDPP_E_AGAIN, 0 },
		{ "lone CR is a CRLF keepalive", 8, B("\r\n\n\r\r\n"), B("\r\r\n"), SDPP_E_AGAIN,
		    0 },
		{ "high bytes", 8, B("\xff\xfe\x80\n{\"a\":1}\n"), B("\xff\xfe\x80\n{\"a\":1}\n"),
		    SDPP_E_AGAIN, 0 },
	};
	static const size_t chunks[] = { 1, 2, 3, 5, 9, 10, 64 };
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		for (j = 0; j < sizeof(chunks) / sizeof(chunks[0]); j++) {
			struct sdpp_framer *f = sdpp_framer_new(v[i].cap);
			struct sink k = { 0 };
			size_t chunk = chunks[j];
			enum sdpp_err e;

			assert_non_null(f);
			e = feed_all(f, v[i].in, v[i].inlen, chunk_fixed, &chunk, &k);
			if (e != v[i].last)
				fail_msg("%s (chunk %zu): next() %d, want %d", v[i].name, chunks[j],
				    e, v[i].last);
			if (k.len != v[i].outlen ||
			    (k.len > 0 && memcmp(k.buf, v[i].out, k.len) != 0))
				fail_msg("%s (chunk %zu): wrong frames", v[i].name, chunks[j]);
			if (e == SDPP_E_AGAIN && sdpp_framer_pending(f) != v[i].pending)
				fail_msg("%s (chunk %zu): pending %zu, want %zu", v[i].name,
				    chunks[j], sdpp_framer_pending(f), v[i].pending);
			free(k.buf);
			sdpp_framer_free(f);
		}
	}
}

/* Too large is reported before the newline arrives, and stays. */
static void
test_too_large_early_and_sticky(void **state)
{
	static const size_t caps[] = { 1, 16, 1023, 1024, 1025, 5000, SDPP_FRAME_CAP_HANDSHAKE };
	struct sdpp_framer *f;
	const char *frame;
	enum sdpp_err err;
	size_t i, n, len;
	char *big;
	int r;

	(void)state;
	big = malloc(SDPP_FRAME_CAP_HANDSHAKE + 2);
	assert_non_null(big);
	memset(big, 'a', SDPP_FRAME_CAP_HANDSHAKE + 2);
	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		f = sdpp_framer_new(caps[i]);
		assert_non_null(f);
		/* cap bytes without '\n': still waiting. */
		for (n = 0; n < caps[i];)
			n += sdpp_framer_feed(f, big, caps[i] - n, &err);
		assert_int_equal(sdpp_framer_next(f, &frame, &len), SDPP_E_AGAIN);
		assert_int_equal(sdpp_framer_pending(f), caps[i]);
		/* One more byte that is not '\n': refused at once. */
		assert_int_equal(sdpp_framer_feed(f, "b", 1, &err), 1);
		assert_int_equal(err, SDPP_OK);
		assert_int_equal(sdpp_framer_next(f, &frame, &len), SDPP_E_FRAME_TOO_LARGE);
		for (r = 0; r < 3; r++) {
			assert_int_equal(sdpp_framer_feed(f, "\nok\n", 4, &err), 0);
			assert_int_equal(err, SDPP_OK);
			assert_int_equal(sdpp_framer_next(f, &frame, &len), SDPP_E_FRAME_TOO_LARGE);
		}
		/* Raising the cap does not revive a framer that gave up. */
		assert_int_equal(sdpp_framer_set_cap(f, SDPP_FRAME_CAP_MAX), SDPP_OK);
		assert_int_equal(sdpp_framer_feed(f, "\n", 1, &err), 0);
		assert_int_equal(sdpp_framer_next(f, &frame, &len), SDPP_E_FRAME_TOO_LARGE);
		sdpp_framer_free(f);
	}
	free(big);
}

/* A framer whose buffer is full takes part of a feed; the rest goes in after draining. */
static void
test_feed_when_full(void **state)
{
	static const char in[] = "abc\ndefgh\nij\n";
	struct sdpp_framer *f;
	const char *frame;
	enum sdpp_err err;
	size_t n, len;

	(void)state;
	f = sdpp_framer_new(8);
	assert_non_null(f);
	assert_int_equal(sdpp_framer_feed(f, in, 0, &err), 0);
	assert_int_equal(err, SDPP_OK);
	/* The buffer never exceeds cap + 1 = 9 bytes. */
	n = sdpp_framer_feed(f, in, sizeof(in) - 1, &err);
	assert_int_equal(err, SDPP_OK);
	assert_int_equal(n, 9);
	assert_int_equal(sdpp_framer_pending(f), 9);
	assert_int_equal(sdpp_framer_feed(f, in + n, sizeof(in) - 1 - n, &err), 0);
	assert_int_equal(sdpp_framer_next(f, &frame, &len), SDPP_OK);
	assert_int_equal(len, 3);
	assert_memory_equal(frame, "abc", 3);
	assert_int_equal(sdpp_framer_next(f, &frame, &len), SDPP_E_AGAIN);
	assert_int_equal(sdpp_framer_pending(f), 5);
	/* Room again: the remainder fits. */
	assert_int_equal(sdpp_framer_feed(f, in + n, sizeof(in) - 1 - n, &err), 4);
	assert_int_equal(sdpp_framer_next(f, &frame, &len), SDPP_OK);
	assert_int_equal(len, 5);
	assert_memory_equal(frame, "defgh", 5);
	assert_int_equal(sdpp_framer_next(f, &frame, &len), SDPP_OK);
	assert_int_equal(len, 2);
	assert_memory_equal(frame, "ij", 2);
	assert_int_equal(sdpp_framer_next(f, &frame, &len), SDPP_E_AGAIN);
	assert_int_equal(sdpp_framer_pending(f), 0);
	sdpp_framer_free(f);
}

/* Pending counts bytes not yet returned, after each feed and next. */
static void
test_pending(void **state)
{
	/* Each step feeds `in` (if any), then calls next() once. */
	static const struct {
		const char *in;
		size_t inlen;
		size_t after_feed;
		enum sdpp_err e;
		const char *frame;
		size_t after_next;
	} v[] = {
		{ B("ab\ncd"), 5, SDPP_OK, "ab", 2 },
		{ B(""), 2, SDPP_E_AGAIN, NULL, 2 },
		{ B("e"), 3, SDPP_E_AGAIN, NULL, 3 },
		{ B("\n\n\n"), 6, SDPP_OK, "cde", 2 },
		{ B(""), 2, SDPP_E_AGAIN, NULL, 0 },
		{ B("\r\n"), 2, SDPP_E_AGAIN, NULL, 0 }, /* CRLF keepalive */
		{ B("x"), 1, SDPP_E_AGAIN, NULL, 1 },
	};
	struct sdpp_framer *f;
	const char *frame;
	enum sdpp_err err;
	size_t i, len;

	(void)state;
	f = sdpp_framer_new(16);
	assert_non_null(f);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		assert_int_equal(sdpp_framer_feed(f, v[i].in, v[i].inlen, &err), v[i].inlen);
		if (sdpp_framer_pending(f) != v[i].after_feed)
			fail_msg("step %zu: pending %zu after feed, want %zu", i,
			    sdpp_framer_pending(f), v[i].after_feed);
		assert_int_equal(sdpp_framer_next(f, &frame, &len), v[i].e);
		if (v[i].frame != NULL) {
			assert_int_equal(len, strlen(v[i].frame));
			assert_memory_equal(frame, v[i].frame, len);
		}
		if (sdpp_framer_pending(f) != v[i].after_next)
			fail_msg("step %zu: pending %zu after next, want %zu", i,
			    sdpp_framer_pending(f), v[i].after_next);
	}
	sdpp_framer_free(f);
}

/* Fixed-seed xorshift64*, so every run splits the stream the same way. */
struct prng {
	uint64_t s;
};

static uint64_t
prng_next(struct prng *p)
{
	p->s ^= p->s >> 12;
	p->s ^= p->s << 25;
	p->s ^= p->s >> 27;
	return p->s * 2685821657736338717ULL;
}

/* Uniform enough in [lo, hi] for a test. */
static size_t
prng_range(struct prng *p, size_t lo, size_t hi)
{
	return lo + (size_t)(prng_next(p) % (uint64_t)(hi - lo + 1));
}

struct random_chunks {
	struct prng *p;
	size_t max;
};

static size_t
chunk_random(void *arg)
{
	struct random_chunks *c = arg;

	return prng_range(c->p, 1, c->max);
}

/*
 * Many frames of random length (0..cap, any byte but '\n', NULs and CRs
 * included) fed at random split points: every non-empty frame arrives
 * intact and in order.
 */
static void
test_random_splits(void **state)
{
	static const struct {
		uint64_t seed;
		size_t cap, nframes, maxchunk;
	} v[] = {
		{ 0x5eed0001, 1, 300, 3 },
		{ 0x5eed0002, 16, 400, 7 },
		{ 0x5eed0003, 64, 400, 200 },
		{ 0x5eed0004, 1000, 200, 5000 },
		{ 0x5eed0005, 5000, 100, 1500 },
		{ 0x5eed0006, 5000, 100, 20000 },
		{ 0x5eed0007, SDPP_FRAME_CAP_HANDSHAKE, 20, 65536 },
	};
	size_t i, j, n, flen;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct prng p = { v[i].seed };
		struct random_chunks rc = { &p, v[i].maxchunk };
		struct sink want = { 0 }, got = { 0 };
		char *stream, *frame;
		size_t slen = 0;
		struct sdpp_framer *f;

		stream = malloc(v[i].nframes * (v[i].cap + 2));
		frame = malloc(v[i].cap + 1);
		assert_non_null(stream);
		assert_non_null(frame);
		for (j = 0; j < v[i].nframes; j++) {
			/* Favour the edges: empty, one byte, exactly cap. */
			switch (prng_range(&p, 0, 7)) {
			case 0:
				flen = 0;
				break;
			case 1:
				flen = 1;
				break;
			case 2:
				flen = v[i].cap;
				break;
			default:
				flen = prng_range(&p, 0, v[i].cap);
			}
			for (n = 0; n < flen; n++) {
				do
					frame[n] = (char)prng_next(&p);
				while (frame[n] == '\n');
			}
			memcpy(stream + slen, frame, flen);
			stream[slen + flen] = '\n';
			slen += flen + 1;
			/* Keepalives (empty or a lone "\r") are not frames. */
			if (flen > 1 || (flen == 1 && frame[0] != '\r'))
				sink_put(&want, frame, flen);
		}
		f = sdpp_framer_new(v[i].cap);
		assert_non_null(f);
		assert_int_equal(feed_all(f, stream, slen, chunk_random, &rc, &got), SDPP_E_AGAIN);
		assert_int_equal(sdpp_framer_pending(f), 0);
		if (got.nframes != want.nframes)
			fail_msg("seed %#llx: %zu frames, want %zu", (unsigned long long)v[i].seed,
			    got.nframes, want.nframes);
		assert_int_equal(got.len, want.len);
		/* The drain-and-feed-the-rest path really ran. */
		if (v[i].maxchunk > v[i].cap + 1)
			assert_true(got.short_feeds > 0);
		if (want.len > 0)
			assert_memory_equal(got.buf, want.buf, want.len);
		sdpp_framer_free(f);
		free(want.buf);
		free(got.buf);
		free(stream);
		free(frame);
	}
}

/*
 * Raising the cap once an order is accepted: a frame too large for the
 * handshake cap arrives whole afterwards, including one that was already
 * partly buffered when the cap changed.
 */
static void
test_raise_cap(void **state)
{
	static const size_t big_lens[] = {
		SDPP_FRAME_CAP_HANDSHAKE + 1,
		100000,
		SDPP_FRAME_CAP_SESSION,
	};
	struct sdpp_framer *f;
	struct sink k = { 0 };
	const char *frame;
	enum sdpp_err err;
	size_t chunk = 4096, i, n, len, half;
	char *big;

	(void)state;
	big = malloc(SDPP_FRAME_CAP_SESSION + 1);
	assert_non_null(big);
	for (i = 0; i < sizeof(big_lens) / sizeof(big_lens[0]); i++) {
		memset(big, 'A' + (int)i, big_lens[i]);
		big[big_lens[i]] = '\n';

		/* Without raising: refused. */
		f = sdpp_framer_new(SDPP_FRAME_CAP_HANDSHAKE);
		assert_non_null(f);
		assert_int_equal(feed_all(f, big, big_lens[i] + 1, chunk_fixed, &chunk, &k),
		    SDPP_E_FRAME_TOO_LARGE);
		assert_int_equal(k.nframes, 0);
		sdpp_framer_free(f);

		/* Handshake frame, raise, then the big frame. */
		f = sdpp_framer_new(SDPP_FRAME_CAP_HANDSHAKE);
		assert_non_null(f);
		assert_int_equal(
		    feed_all(f, B("{\"order\":1}\n"), chunk_fixed, &chunk, &k), SDPP_E_AGAIN);
		assert_int_equal(k.nframes, 1);
		assert_int_equal(sdpp_framer_set_cap(f, SDPP_FRAME_CAP_SESSION), SDPP_OK);
		assert_int_equal(
		    feed_all(f, big, big_lens[i] + 1, chunk_fixed, &chunk, &k), SDPP_E_AGAIN);
		assert_int_equal(k.nframes, 2);
		assert_int_equal(k.len, 12 + big_lens[i] + 1);
		assert_memory_equal(k.buf + 12, big, big_lens[i] + 1);
		k.len = k.nframes = 0;
		sdpp_framer_free(f);

		/* Raised while the first half of the big frame is buffered. */
		f = sdpp_framer_new(SDPP_FRAME_CAP_HANDSHAKE);
		assert_non_null(f);
		half = SDPP_FRAME_CAP_HANDSHAKE - 10;
		for (n = 0; n < half;)
			n += sdpp_framer_feed(f, big + n, half - n, &err);
		assert_int_equal(sdpp_framer_next(f, &frame, &len), SDPP_E_AGAIN);
		assert_int_equal(sdpp_framer_set_cap(f, SDPP_FRAME_CAP_SESSION), SDPP_OK);
		assert_int_equal(
		    feed_all(f, big + half, big_lens[i] + 1 - half, chunk_fixed, &chunk, &k),
		    SDPP_E_AGAIN);
		assert_int_equal(k.nframes, 1);
		assert_int_equal(k.len, big_lens[i] + 1);
		assert_memory_equal(k.buf, big, big_lens[i] + 1);
		k.len = k.nframes = 0;
		sdpp_framer_free(f);
	}
	free(k.buf);
	free(big);
}

/* Lowering the cap below a frame already buffered refuses that frame. */
static void
test_lower_cap(void **state)
{
	struct sdpp_framer *f;
	const char *frame;
	enum sdpp_err err;
	size_t len;

	(void)state;
	f = sdpp_framer_new(16);
	assert_non_null(f);
	assert_int_equal(sdpp_framer_feed(f, B("abc\n0123456789\n"), &err), 15);
	assert_int_equal(sdpp_framer_set_cap(f, 4), SDPP_OK);
	assert_int_equal(sdpp_framer_next(f, &frame, &len), SDPP_OK);
	assert_int_equal(len, 3);
	assert_memory_equal(frame, "abc", 3);
	assert_int_equal(sdpp_framer_next(f, &frame, &len), SDPP_E_FRAME_TOO_LARGE);
	assert_int_equal(sdpp_framer_next(f, &frame, &len), SDPP_E_FRAME_TOO_LARGE);
	assert_int_equal(sdpp_framer_feed(f, B("ok\n"), &err), 0);
	sdpp_framer_free(f);
}

/* Trimming frees nothing that is pending, and the framer works on after it. */
static void
test_trim(void **state)
{
	struct sdpp_framer *f = sdpp_framer_new(64);
	const char *frame;
	size_t len;
	enum sdpp_err e;

	(void)state;
	assert_non_null(f);
	sdpp_framer_trim(f); /* nothing allocated yet */
	assert_int_equal(sdpp_framer_feed(f, "{\"a\"", 4, &e), 4);
	assert_int_equal(e, SDPP_OK);
	assert_int_equal(sdpp_framer_next(f, &frame, &len), SDPP_E_AGAIN);
	sdpp_framer_trim(f); /* 4 bytes pending: kept */
	assert_int_equal(sdpp_framer_pending(f), 4);
	assert_int_equal(sdpp_framer_feed(f, ":1}\n{", 5, &e), 5);
	assert_int_equal(sdpp_framer_next(f, &frame, &len), SDPP_OK);
	assert_int_equal(len, 7);
	assert_memory_equal(frame, "{\"a\":1}", 7);
	assert_int_equal(sdpp_framer_next(f, &frame, &len), SDPP_E_AGAIN);
	sdpp_framer_trim(f); /* "{" pending: kept */
	assert_int_equal(sdpp_framer_pending(f), 1);
	assert_int_equal(sdpp_framer_feed(f, "}\n", 2, &e), 2);
	assert_int_equal(sdpp_framer_next(f, &frame, &len), SDPP_OK);
	assert_int_equal(len, 2);
	assert_memory_equal(frame, "{}", 2);
	sdpp_framer_trim(f); /* empty: freed */
	assert_int_equal(sdpp_framer_pending(f), 0);
	assert_int_equal(sdpp_framer_next(f, &frame, &len), SDPP_E_AGAIN);
	assert_int_equal(sdpp_framer_feed(f, "[1]\n", 4, &e), 4);
	assert_int_equal(sdpp_framer_next(f, &frame, &len), SDPP_OK);
	assert_int_equal(len, 3);
	assert_memory_equal(frame, "[1]", 3);
	sdpp_framer_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_and_caps),
		cmocka_unit_test(test_split_table),
		cmocka_unit_test(test_too_large_early_and_sticky),
		cmocka_unit_test(test_feed_when_full),
		cmocka_unit_test(test_pending),
		cmocka_unit_test(test_random_splits),
		cmocka_unit_test(test_raise_cap),
		cmocka_unit_test(test_lower_cap),
		cmocka_unit_test(test_trim),
	};

	return cmocka_run_group_tests_name("framer", tests, NULL, NULL);
}
