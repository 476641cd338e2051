/* Gateway benchmarks: the buyer role, many SDPP buyer sessions on epoll per process. */
#include "bench/gateway/bench.h"

/* ---------------------------------------------------------------- role: buyers */

enum sess_state { SS_FREE, SS_CONNECTING, SS_HANDSHAKE, SS_IDLE, SS_STREAM, SS_DONE };

struct sess {
	int fd;
	enum sess_state st;
	struct sdpp_identity *id;
	struct sdpp_buyer *b;
	struct sdpp_framer *fr;
	struct sdpp_out out;
	char *wbuf;
	size_t wlen, wcap;
	int want_write;
	uint64_t t_connect, t_key, t_first;
	uint64_t items;
	int statement;
};

struct driver {
	const struct buy_args *a;
	int ep;
	struct sess *s;
	int n;
	int connecting; /* sessions between connect and menu/stream */
	int opened;     /* sessions started so far (STREAM) */
	int idle, started, failed, closed_early;
	int go;              /* STREAM idle_first: order now */
	uint64_t start, end; /* window */
	int by_publish;
	uint64_t in_window, items, first_any;
	struct lat lat, lat_key;
	struct lat by_mod[10]; /* STREAM: latency by item seq % 10 (invoice phase, K = 10) */
	uint64_t completed;
	char peer_error[400];
};

static void
sess_free(struct driver *d, struct sess *s)
{
	if (s->fd >= 0) {
		epoll_ctl(d->ep, EPOLL_CTL_DEL, s->fd, NULL);
		close(s->fd);
	}
	sdpp_buyer_free(s->b);
	sdpp_framer_free(s->fr);
	sdpp_out_free(&s->out);
	sdpp_identity_free(s->id);
	free(s->wbuf);
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	s->st = SS_FREE;
}

static void
sess_fail(struct driver *d, struct sess *s, const char *why)
{
	if (d->peer_error[0] == '\0')
		snprintf(d->peer_error, sizeof(d->peer_error), "%s", why);
	if (s->st == SS_CONNECTING || s->st == SS_HANDSHAKE)
		d->connecting--;
	d->failed++;
	sess_free(d, s);
}

static int
sess_arm(struct driver *d, struct sess *s, int op)
{
	struct epoll_event ev;

	ev.events = EPOLLIN | (s->want_write ? EPOLLOUT : 0);
	ev.data.ptr = s;
	return epoll_ctl(d->ep, op, s->fd, &ev);
}

/* Moves the session's output frames to the socket; what does not fit waits
 * for EPOLLOUT. */
static int
sess_flush(struct driver *d, struct sess *s)
{
	ssize_t n;

	if (s->out.len > 0) {
		if (s->wlen + s->out.len > s->wcap) {
			size_t want = s->wcap == 0 ? 4096 : s->wcap;
			char *nb;

			while (want < s->wlen + s->out.len)
				want *= 2;
			nb = realloc(s->wbuf, want);
			if (nb == NULL)
				return -1;
			s->wbuf = nb;
			s->wcap = want;
		}
		memcpy(s->wbuf + s->wlen, s->out.buf, s->out.len);
		s->wlen += s->out.len;
	}
	sdpp_out_clear(&s->out);
	while (s->wlen > 0) {
		n = send(s->fd, s->wbuf, s->wlen, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0)
			return -1;
		memmove(s->wbuf, s->wbuf + n, s->wlen - (size_t)n);
		s->wlen -= (size_t)n;
	}
	if ((s->wlen > 0) != s->want_write) {
		s->want_write = s->wlen > 0;
		return sess_arm(d, s, EPOLL_CTL_MOD);
	}
	return 0;
}

static int
sess_open(struct driver *d, struct sess *s)
{
	struct sdpp_buyer_config bc;

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	if (sdpp_identity_generate(&s->id) != SDPP_OK)
		return -1;
	memset(&bc, 0, sizeof(bc));
	bc.id = s->id;
	memcpy(bc.seller, d->a->seller, sizeof(bc.seller));
	s->fr = sdpp_framer_new(SDPP_FRAME_CAP_SESSION);
	sdpp_out_init(&s->out, SDPP_FRAME_CAP_MAX);
	if (s->fr == NULL || sdpp_buyer_new(&s->b, &bc, wall_ms()) != SDPP_OK)
		return -1;
	s->t_connect = mono_ns();
	s->fd = tcp_connect(d->a->port, 1);
	if (s->fd < 0)
		return -1;
	s->st = SS_CONNECTING;
	s->want_write = 1; /* connect completion */
	d->connecting++;
	return sess_arm(d, s, EPOLL_CTL_ADD);
}

static void
sess_order(struct driver *d, struct sess *s)
{
	uint64_t q = d->a->mode == BUY_ORDER ? d->a->count : d->a->mode == BUY_SETUP ? 1 : 0;
	char id[64];

	if (d->a->product_step > 0)
		snprintf(id, sizeof(id), "%s%04d", d->a->product,
		    d->a->product_from + (int)(s - d->s) * d->a->product_step);
	else
		snprintf(id, sizeof(id), "%s", d->a->product[0] != '\0' ? d->a->product : PRODUCT);
	if (sdpp_buyer_order(s->b, id, q, wall_ms(), &s->out) != SDPP_OK) {
		sess_fail(d, s, "cannot order");
		return;
	}
	if (s->st == SS_IDLE)
		d->connecting++;
	s->st = SS_HANDSHAKE;
}

/* Acts on the session's events; 1 if the session was freed. */
static int
sess_events(struct driver *d, struct sess *s)
{
	uint64_t now = mono_ns(), t;
	size_t i;

	for (i = 0; i < s->out.nev; i++) {
		const struct sdpp_event *ev = &s->out.ev[i];

		switch (ev->type) {
		case SDPP_EV_MENU:
			if (d->a->mode == BUY_STREAM && d->a->idle_first && !d->go) {
				s->st = SS_IDLE;
				d->connecting--;
				d->idle++;
			} else {
				sess_order(d, s);
			}
			break;
		case SDPP_EV_STARTED:
			s->t_key = now;
			s->st = SS_STREAM;
			d->connecting--;
			d->started++;
			break;
		case SDPP_EV_ITEM:
			t = payload_time(ev->item->payload, ev->item->payload_len);
			s->items++;
			d->items++;
			if (d->first_any == 0)
				d->first_any = now;
			if (d->a->mode == BUY_STREAM && d->start != 0 &&
			    (d->by_publish ? t : now) >= d->start &&
			    (d->by_publish ? t : now) < d->end) {
				d->in_window++;
				if (t != 0) {
					lat_add(&d->lat, (int64_t)(now - t));
					lat_add(&d->by_mod[ev->item->seq % 10], (int64_t)(now - t));
				}
			}
			if (s->items == 1)
				s->t_first = now;
			break;
		case SDPP_EV_PAY:
			/* Vouchers: the signed payment_ack is the payment. */
			(void)sdpp_buyer_complete(s->b, ev->req, 1, "", wall_ms(), &s->out);
			break;
		case SDPP_EV_STATEMENT:
			s->statement = 1;
			break;
		case SDPP_EV_PEER_ERROR:
			snprintf(d->peer_error, sizeof(d->peer_error), "seller error %s: %s",
			    ev->msg->u.error.code, ev->msg->u.error.message);
			break;
		case SDPP_EV_CLOSE:
			if (ev->err != SDPP_OK && d->peer_error[0] == '\0')
				snprintf(d->peer_error, sizeof(d->peer_error), "session closed: %s",
				    sdpp_strerror(ev->err));
			s->st = SS_DONE;
			break;
		default:
			break;
		}
	}
	s->out.nev = 0;
	if (sess_flush(d, s) != 0) {
		sess_fail(d, s, "write failed");
		return 1;
	}
	return 0;
}

/* Set-up and order modes: the session reached its goal; record and free. */
static void
sess_finish(struct driver *d, struct sess *s)
{
	uint64_t now = mono_ns();

	if (d->a->mode == BUY_SETUP) {
		if (now <= d->end) {
			lat_add(&d->lat, (int64_t)(s->t_first - s->t_connect));
			lat_add(&d->lat_key, (int64_t)(s->t_key - s->t_connect));
			d->completed++;
		}
	} else if (d->a->mode == BUY_ORDER) {
		lat_add(&d->lat, (int64_t)(now - s->t_connect));
		d->completed++;
	}
	sess_free(d, s);
}

static int
sess_readable(struct driver *d, struct sess *s)
{
	char buf[65536];
	const char *frame;
	size_t flen, off, took;
	ssize_t n;
	enum sdpp_err e;
	int rounds;

	for (rounds = 0; rounds < 4; rounds++) {
		n = recv(s->fd, buf, sizeof(buf), 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n <= 0) {
			if (s->st == SS_DONE || s->statement) {
				sess_finish(d, s);
				return 1;
			}
			sess_fail(d, s, n == 0 ? "seller closed the connection" : "read failed");
			return 1;
		}
		for (off = 0; off < (size_t)n; off += took) {
			took = sdpp_framer_feed(s->fr, buf + off, (size_t)n - off, &e);
			while ((e = sdpp_framer_next(s->fr, &frame, &flen)) == SDPP_OK) {
				(void)sdpp_buyer_input(s->b, frame, flen, wall_ms(), &s->out);
				if (sess_events(d, s))
					return 1;
				if (s->st == SS_DONE) {
					if (d->a->mode == BUY_ORDER && s->statement) {
						sess_finish(d, s);
						return 1;
					}
					if (!s->statement) {
						sess_fail(d, s,
						    d->peer_error[0] ? d->peer_error
						                     : "session ended");
						return 1;
					}
				}
				if (d->a->mode == BUY_SETUP && s->items > 0) {
					sess_finish(d, s);
					return 1;
				}
			}
			if (e == SDPP_E_FRAME_TOO_LARGE) {
				sess_fail(d, s, "frame too large");
				return 1;
			}
			if (took == 0)
				break;
		}
		if ((size_t)n < sizeof(buf))
			return 0;
	}
	return 0;
}

static int
sess_writable(struct driver *d, struct sess *s)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (s->st == SS_CONNECTING) {
		if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
			sess_fail(d, s, "connect failed");
			return 1;
		}
		s->st = SS_HANDSHAKE;
		if (sdpp_buyer_start(s->b, wall_ms(), &s->out) != SDPP_OK) {
			sess_fail(d, s, "cannot start");
			return 1;
		}
	}
	if (sess_flush(d, s) != 0) {
		sess_fail(d, s, "write failed");
		return 1;
	}
	return 0;
}

/* Reads "window S E" or "go" from the orchestrator. */
static void
driver_command(struct driver *d)
{
	char line[256];
	unsigned long long s, e;
	int p = 0;
	ssize_t n = read(0, line, sizeof(line) - 1);

	if (n <= 0) {
		/* The orchestrator is gone. */
		_exit(1);
	}
	line[n] = '\0';
	if (sscanf(line, "window %llu %llu %d", &s, &e, &p) >= 2) {
		d->by_publish = p;
		d->end = e;
		d->start = s;
	}
	if (strncmp(line, "go", 2) == 0)
		d->go = 1;
}

int
role_buy(void *arg)
{
	const struct buy_args *a = arg;
	struct driver d;
	struct epoll_event evs[256], in;
	int i, n, printed_idle = 0, printed_ready = 0, rep = 0, ordered = 0;
	int handshakes = 32;

	memset(&d, 0, sizeof(d));
	d.a = a;
	d.n = a->sessions;
	d.s = calloc((size_t)d.n, sizeof(*d.s));
	d.ep = epoll_create1(EPOLL_CLOEXEC);
	if (d.s == NULL || d.ep < 0)
		return 1;
	for (i = 0; i < d.n; i++)
		d.s[i].fd = -1;
	lat_init(&d.lat, a->mode == BUY_STREAM ? 4u << 20 : 1u << 16);
	lat_init(&d.lat_key, 1u << 16);
	if (a->mode == BUY_STREAM && a->sessions > 1)
		for (i = 0; i < 10; i++)
			lat_init(&d.by_mod[i], 1u << 18);
	in.events = EPOLLIN;
	in.data.ptr = NULL;
	if (epoll_ctl(d.ep, EPOLL_CTL_ADD, 0, &in) != 0)
		return 1;
	if (a->mode != BUY_STREAM)
		say("ready %d\n", d.n);
	for (;;) {
		uint64_t now = mono_ns();

		/* Start sessions as the mode wants them. */
		if (a->mode == BUY_STREAM) {
			while (d.opened < d.n && d.connecting < handshakes) {
				if (sess_open(&d, &d.s[d.opened]) != 0) {
					sess_fail(&d, &d.s[d.opened], "cannot connect");
				}
				d.opened++;
			}
			if (a->idle_first && !printed_idle && d.idle + d.failed == d.n) {
				say("idle %d failed=%d\n", d.idle, d.failed);
				printed_idle = 1;
			}
			if (d.go && !ordered) {
				for (i = 0; i < d.n; i++)
					if (d.s[i].st == SS_IDLE) {
						sess_order(&d, &d.s[i]);
						if (d.s[i].st != SS_FREE &&
						    sess_flush(&d, &d.s[i]) != 0)
							sess_fail(&d, &d.s[i], "write failed");
					}
				ordered = 1;
			}
			if (!printed_ready && d.started + d.failed == d.n) {
				say("ready %d failed=%d%s%s\n", d.started, d.failed,
				    d.peer_error[0] ? " error=" : "", d.peer_error);
				printed_ready = 1;
			}
			if (d.end != 0 && now > d.end + 300000000u)
				break;
		} else if (d.start != 0 && now >= d.start) {
			if (a->mode == BUY_SETUP) {
				if (now >= d.end && d.connecting == 0)
					break;
				if (now >= d.end + 5000000000u)
					break;
				for (i = 0; i < d.n && now < d.end; i++)
					if (d.s[i].st == SS_FREE && sess_open(&d, &d.s[i]) != 0)
						sess_fail(&d, &d.s[i], "cannot connect");
			} else {
				if (d.s[0].st == SS_FREE) {
					if (rep == a->reps)
						break;
					rep++;
					if (sess_open(&d, &d.s[0]) != 0) {
						sess_fail(&d, &d.s[0], "cannot connect");
						lat_add(&d.lat, -1);
					}
				}
			}
		}
		n = epoll_wait(d.ep, evs, 256, 10);
		if (n < 0 && errno != EINTR)
			return 1;
		for (i = 0; i < n; i++) {
			struct sess *s = evs[i].data.ptr;

			if (s == NULL) {
				driver_command(&d);
				continue;
			}
			if (s->st == SS_FREE)
				continue; /* freed by an earlier event of this batch */
			if ((evs[i].events & EPOLLOUT) && sess_writable(&d, s))
				continue;
			if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
				(void)sess_readable(&d, s);
		}
	}
	if (lat_write(&d.lat, a->latfile) != 0 ||
	    (a->keyfile[0] != '\0' && lat_write(&d.lat_key, a->keyfile) != 0))
		return 1;
	if (a->mode == BUY_STREAM && a->sessions > 1) {
		char mods[256];
		size_t off = 0;

		for (i = 0; i < 10; i++) {
			struct pcts p = lat_pcts(&d.by_mod[i]);

			off += (size_t)snprintf(
			    mods + off, sizeof(mods) - off, "%s%.0f", i ? "," : "", p.p50);
		}
		say("mod10_p50_ms %s\n", mods);
	}
	if (a->mode == BUY_STREAM)
		say("result n=%" PRIu64 " secs=%.3f rate=%.1f items=%" PRIu64
		    " sessions=%d failed=%d%s%s\n",
		    d.in_window, (double)(d.end - d.start) / 1e9,
		    (double)d.in_window / ((double)(d.end - d.start) / 1e9), d.items, d.started,
		    d.failed, d.peer_error[0] ? " error=" : "", d.peer_error);
	else
		say("result n=%" PRIu64 " secs=%.3f failed=%d%s%s\n", d.completed,
		    (double)(d.end - d.start) / 1e9, d.failed, d.peer_error[0] ? " error=" : "",
		    d.peer_error);
	_exit(0); /* closes every socket at once */
}
