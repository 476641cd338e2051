/* Line framer: splits a byte stream into newline-terminated frames with a hard size cap. */
#include <stdlib.h>
#include <string.h>

#include "sdpp/framer.h"

/* Smallest allocation; most handshake frames fit. */
#define FRAMER_MIN_ALLOC 1024

struct sdpp_framer {
	char *buf;
	size_t alloc; /* bytes allocated, <= cap + 1 */
	size_t cap;   /* longest frame, without '\n' */
	size_t start; /* first byte not yet returned */
	size_t used;  /* bytes in buf */
	size_t scan;  /* bytes from start already searched for '\n' */
	int toolarge; /* sticky */
};

struct sdpp_framer *
sdpp_framer_new(size_t cap)
{
	struct sdpp_framer *f;

	if (cap == 0 || cap > SDPP_FRAME_CAP_MAX)
		return NULL;
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return NULL;
	f->cap = cap;
	return f;
}

void
sdpp_framer_free(struct sdpp_framer *f)
{
	if (f == NULL)
		return;
	free(f->buf);
	free(f);
}

enum sdpp_err
sdpp_framer_set_cap(struct sdpp_framer *f, size_t cap)
{
	if (cap == 0 || cap > SDPP_FRAME_CAP_MAX)
		return SDPP_E_INVAL;
	f->cap = cap;
	return SDPP_OK;
}

size_t
sdpp_framer_pending(const struct sdpp_framer *f)
{
	return f->used - f->start;
}

void
sdpp_framer_trim(struct sdpp_framer *f)
{
	if (f->used != f->start || f->buf == NULL)
		return;
	free(f->buf);
	f->buf = NULL;
	f->alloc = f->used = f->start = f->scan = 0;
}

/* Makes room for at least one more byte, within cap + 1 in all. */
static enum sdpp_err
framer_reserve(struct sdpp_framer *f)
{
	size_t want;
	char *nb;

	if (f->start > 0) {
		memmove(f->buf, f->buf + f->start, f->used - f->start);
		f->used -= f->start;
		f->start = 0;
	}
	if (f->used < f->alloc)
		return SDPP_OK;
	if (f->alloc >= f->cap + 1)
		return SDPP_E_FRAME_TOO_LARGE;
	want = f->alloc < FRAMER_MIN_ALLOC ? FRAMER_MIN_ALLOC : f->alloc * 2;
	if (want > f->cap + 1)
		want = f->cap + 1;
	nb = realloc(f->buf, want);
	if (nb == NULL)
		return SDPP_E_NOMEM;
	f->buf = nb;
	f->alloc = want;
	return SDPP_OK;
}

size_t
sdpp_framer_feed(struct sdpp_framer *f, const void *data, size_t len, enum sdpp_err *err)
{
	size_t n;
	enum sdpp_err e;

	*err = SDPP_OK;
	if (len == 0 || f->toolarge)
		return 0;
	e = framer_reserve(f);
	if (e != SDPP_OK) {
		if (e == SDPP_E_NOMEM)
			*err = e;
		return 0;
	}
	n = f->alloc - f->used;
	if (n > len)
		n = len;
	memcpy(f->buf + f->used, data, n);
	f->used += n;
	return n;
}

enum sdpp_err
sdpp_framer_next(struct sdpp_framer *f, const char **frame, size_t *len)
{
	char *nl;

	for (;;) {
		if (f->toolarge)
			return SDPP_E_FRAME_TOO_LARGE;
		if (f->used == f->start)
			return SDPP_E_AGAIN;
		nl = memchr(f->buf + f->start + f->scan, '\n', f->used - f->start - f->scan);
		if (nl == NULL) {
			f->scan = f->used - f->start;
			/* A frame longer than cap can never complete: fail now
			 * instead of waiting for a newline that would not fit. */
			if (f->scan > f->cap) {
				f->toolarge = 1;
				continue;
			}
			return SDPP_E_AGAIN;
		}
		*frame = f->buf + f->start;
		*len = (size_t)(nl - *frame);
		f->start += *len + 1;
		f->scan = 0;
		if (*len > f->cap) {
			/* Only possible after the cap was lowered. */
			f->toolarge = 1;
			continue;
		}
		/* Blank lines are keepalives; "\r" alone is a CRLF keepalive. */
		if (*len > 1 || (*len == 1 && (*frame)[0] != '\r'))
			return SDPP_OK;
	}
}
