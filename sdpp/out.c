/* Frames and events produced by the state machines, in caller-owned, capped buffers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdpp/out.h"

void
sdpp_out_init(struct sdpp_out *o, size_t max_bytes)
{
	memset(o, 0, sizeof(*o));
	o->max = max_bytes;
}

void
sdpp_out_clear(struct sdpp_out *o)
{
	o->len = 0;
	o->nev = 0;
}

void
sdpp_out_free(struct sdpp_out *o)
{
	if (o == NULL)
		return;
	free(o->buf);
	free(o->ev);
	memset(o, 0, sizeof(*o));
}

enum sdpp_err
sdpp_out_add_bytes(struct sdpp_out *o, const char *buf, size_t len)
{
	size_t want;
	char *nb;

	if (len > o->max - o->len || o->len > o->max)
		return SDPP_E_FRAME_TOO_LARGE;
	if (o->len + len > o->alloc) {
		want = o->alloc == 0 ? 4096 : o->alloc;
		while (want < o->len + len)
			want *= 2;
		if (want > o->max)
			want = o->max;
		nb = realloc(o->buf, want);
		if (nb == NULL)
			return SDPP_E_NOMEM;
		o->buf = nb;
		o->alloc = want;
	}
	memcpy(o->buf + o->len, buf, len);
	o->len += len;
	return SDPP_OK;
}

enum sdpp_err
sdpp_out_add_msg(struct sdpp_out *o, const struct sdpp_msg *msg, const struct sdpp_identity *signer)
{
	char *frame = NULL;
	size_t len = 0;
	enum sdpp_err e;

	e = sdpp_msg_encode(msg, signer, &frame, &len);
	if (e == SDPP_OK)
		e = sdpp_out_add_bytes(o, frame, len);
	free(frame);
	return e;
}

struct sdpp_event *
sdpp_out_add_event(struct sdpp_out *o, enum sdpp_event_type type)
{
	struct sdpp_event *ev;

	if (o->nev == o->evalloc) {
		size_t want = o->evalloc == 0 ? 8 : o->evalloc * 2;

		if (want > SDPP_OUT_EVENTS_MAX)
			return NULL;
		ev = realloc(o->ev, want * sizeof(*ev));
		if (ev == NULL)
			return NULL;
		o->ev = ev;
		o->evalloc = want;
	}
	ev = &o->ev[o->nev++];
	memset(ev, 0, sizeof(*ev));
	ev->type = type;
	return ev;
}

enum sdpp_err
sdpp_out_add_error(struct sdpp_out *o, enum sdpp_err why, const char *message,
    const struct sdpp_identity *signer, enum sdpp_role from)
{
	struct sdpp_msg m;
	size_t i;

	memset(&m, 0, sizeof(m));
	m.type = SDPP_T_ERROR;
	m.from = from;
	snprintf(m.u.error.code, sizeof(m.u.error.code), "%s", sdpp_err_code(why));
	/* Keep only printable ASCII of the reason: it may quote peer input. */
	for (i = 0; message != NULL && message[i] != '\0' && i < SDPP_TEXT_MAX; i++)
		m.u.error.message[i] = (message[i] >= 0x20 && message[i] < 0x7f) ? message[i] : '?';
	m.u.error.message[i] = '\0';
	return sdpp_out_add_msg(o, &m, signer);
}

void
sdpp_out_add_close(struct sdpp_out *o, enum sdpp_err why)
{
	struct sdpp_event *ev = sdpp_out_add_event(o, SDPP_EV_CLOSE);

	/* Without memory for the event the host still sees the session done. */
	if (ev != NULL)
		ev->err = why;
}

void
sdpp_out_add_peer_error(struct sdpp_out *o, const struct sdpp_msg *msg)
{
	struct sdpp_event *ev = sdpp_out_add_event(o, SDPP_EV_PEER_ERROR);

	if (ev != NULL)
		ev->msg = msg;
	sdpp_out_add_close(o, SDPP_E_REMOTE);
}
