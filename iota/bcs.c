/* BCS writer: little-endian integers, ULEB128 lengths, capped at the caller's buffer. */
#include <string.h>

#include "iota/bcs.h"

void
bcs_init(struct bcs_writer *w, uint8_t *buf, size_t cap)
{
	w->buf = buf;
	w->cap = buf == NULL ? 0 : cap;
	w->len = 0;
	w->failed = 0;
}

int
bcs_finish(const struct bcs_writer *w, size_t *len)
{
	if (w->failed)
		return -1;
	*len = w->len;
	return 0;
}

/* Reserves n bytes, or marks the writer failed without touching the buffer:
 * a half-written value would be worse than none. */
static uint8_t *
reserve(struct bcs_writer *w, size_t n)
{
	uint8_t *p;

	if (w->failed || n > w->cap - w->len) {
		w->failed = 1;
		return NULL;
	}
	p = w->buf + w->len;
	w->len += n;
	return p;
}

/* Little-endian unsigned of width bytes. */
static int
put_le(struct bcs_writer *w, uint64_t v, size_t width)
{
	uint8_t *p = reserve(w, width);
	size_t i;

	if (p == NULL)
		return -1;
	for (i = 0; i < width; i++)
		p[i] = (uint8_t)(v >> (8 * i));
	return 0;
}

int
bcs_put_u8(struct bcs_writer *w, uint8_t v)
{
	return put_le(w, v, 1);
}

int
bcs_put_u16(struct bcs_writer *w, uint16_t v)
{
	return put_le(w, v, 2);
}

int
bcs_put_u32(struct bcs_writer *w, uint32_t v)
{
	return put_le(w, v, 4);
}

int
bcs_put_u64(struct bcs_writer *w, uint64_t v)
{
	return put_le(w, v, 8);
}

int
bcs_put_bool(struct bcs_writer *w, int v)
{
	return put_le(w, v ? 1 : 0, 1);
}

size_t
bcs_uleb128_size(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

int
bcs_put_uleb128(struct bcs_writer *w, uint64_t v)
{
	uint8_t *p = reserve(w, bcs_uleb128_size(v));
	size_t i = 0;

	if (p == NULL)
		return -1;
	while (v >= 0x80) {
		p[i++] = (uint8_t)(v & 0x7f) | 0x80;
		v >>= 7;
	}
	p[i] = (uint8_t)v;
	return 0;
}

int
bcs_put_len(struct bcs_writer *w, size_t n)
{
	if (n > BCS_MAX_SEQUENCE_LEN) {
		w->failed = 1;
		return -1;
	}
	return bcs_put_uleb128(w, n);
}

int
bcs_put_fixed(struct bcs_writer *w, const void *p, size_t n)
{
	uint8_t *dst;

	if (n == 0)
		return w->failed ? -1 : 0;
	dst = reserve(w, n);
	if (dst == NULL)
		return -1;
	memcpy(dst, p, n);
	return 0;
}

int
bcs_put_bytes(struct bcs_writer *w, const void *p, size_t n)
{
	/* Check the whole value first so an overflow leaves no dangling length. */
	if (n > BCS_MAX_SEQUENCE_LEN || w->failed || bcs_uleb128_size(n) + n > w->cap - w->len) {
		w->failed = 1;
		return -1;
	}
	if (bcs_put_len(w, n) != 0)
		return -1;
	return bcs_put_fixed(w, p, n);
}

int
bcs_put_str(struct bcs_writer *w, const char *s, size_t n)
{
	return bcs_put_bytes(w, s, n);
}

int
bcs_put_none(struct bcs_writer *w)
{
	return bcs_put_u8(w, 0);
}

int
bcs_put_some(struct bcs_writer *w)
{
	return bcs_put_u8(w, 1);
}
