/* Test tool: a TCP proxy that cuts each connection after a random number of bytes (issue 15). */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char usage_text[] =
    "usage: tool_cutproxy [-p PORTFILE] [-s SEED] [-n CUTS] [-b MIN-MAX] [-m MODE] [-h]\n"
    "                     LISTEN_PORT TARGET_HOST:PORT\n"
    "       tool_cutproxy -E|-D [-G BYTES] [-p PORTFILE] LISTEN_PORT\n"
    "\n"
    "A TCP proxy that drops connections, to test what survives a dropped one.\n"
    "It listens on 127.0.0.1:LISTEN_PORT (0: a free port, written to PORTFILE,\n"
    "or printed as `port=N' on standard output) and forwards each connection it\n"
    "accepts (one after another or up to 256 at once; more wait their turn)\n"
    "to TARGET_HOST:PORT and back.\n"
    "Each connection gets a byte budget drawn uniformly from MIN-MAX (default\n"
    "200-20000; one number N means N-N) by a PRNG seeded with SEED (default:\n"
    "the clock; `seed=N' is printed on standard error, and -s N repeats the\n"
    "run). When the bytes forwarded in either direction reach the budget,\n"
    "exactly that many have been forwarded, wherever a frame or line ends,\n"
    "and the connection is cut as MODE says:\n"
    "  close     both sides closed (FIN) (the default)\n"
    "  reset     both sides reset (RST)\n"
    "  halfopen  the client's side closed; the target's side kept open and\n"
    "            silent (what the target sends is read and discarded) until\n"
    "            the target closes it: a client whose network went away, as\n"
    "            the server sees it\n"
    "  mixed     each connection one of the three, drawn by the PRNG\n"
    "After CUTS cuts (-n; default 0: no limit) connections are forwarded\n"
    "untouched. Each cut prints on standard error\n"
    "  cut N conn=K after=BYTES dir=up|down mode=MODE\n"
    "(up: client to target); SIGTERM or SIGINT prints\n"
    "  cuts=N conns=N bytes_up=N bytes_down=N\n"
    "and exits 0. A FIN from either side is passed on once what came before\n"
    "it has been, a reset as a reset; a target that cannot be reached closes\n"
    "the client's side.\n"
    "\n"
    "-E and -D run a test target instead: it listens on LISTEN_PORT, sends\n"
    "each connection BYTES (-G, default 0) of text lines first, then echoes\n"
    "(-E) or discards (-D) what it receives, and prints on standard error\n"
    "  target conn=K open\n"
    "  target conn=K in=N out=N end=eof|reset|error\n"
    "\n"
    "Exits 0 on SIGTERM or SIGINT, 1 on a system error, 2 on bad usage.\n";

/* Per direction: the cap on bytes read and not yet written (reading that
 * side stops while it is full). */
#define BUF_CAP (64 * 1024)
/* Connections open at once; more wait in the listen backlog. */
#define CONN_MAX 256
/* Bounds of -b: far beyond any test, and no overflow in the sums. */
#define BUDGET_MAX ((uint64_t)1 << 62)
/* The close mode reads what has arrived before it closes (see sock_drain),
 * at most this much. */
#define DRAIN_MAX (16u * 1024 * 1024)

enum side { CLIENT, SERVER }; /* index of conn.fd; `up' is CLIENT -> SERVER */
enum mode { M_CLOSE, M_RESET, M_HALFOPEN, M_MIXED };
static const char *const mode_names[] = { "close", "reset", "halfopen", "mixed" };
enum phase { CONNECTING, OPEN, HALFOPEN };

struct buf {
	size_t start, end; /* data[start..end) waits to be written */
	char data[BUF_CAP];
};

struct conn {
	int fd[2];        /* by enum side; -1 once closed */
	enum phase phase; /* HALFOPEN: only fd[SERVER], read and discarded */
	uint64_t id;      /* conn=K: the Kth connection accepted, from 1 */
	uint64_t budget;  /* bytes either direction may carry before the cut; 0: no cut */
	enum mode mode;   /* how this connection is cut (never M_MIXED) */
	int cut_from;     /* the side whose bytes reached the budget, -1 before */
	int eof[2];       /* side s sent FIN */
	int shut[2];      /* FIN forwarded to side s */
	uint64_t in[2];   /* bytes read from side s */
	struct buf to[2]; /* to[s]: read from the other side, for side s */
};

struct proxy {
	struct sockaddr_storage target;
	socklen_t target_len;
	uint64_t rng; /* splitmix64 state */
	uint64_t budget_min, budget_max;
	uint64_t cuts_max; /* 0: no limit */
	enum mode mode;
	uint64_t conns, cuts_armed, cuts_done, bytes_up, bytes_down;
	struct conn *c[CONN_MAX];
	size_t nconn;
};

struct tconn {
	int fd;
	uint64_t id, in, out;
	int eof;
	struct buf b; /* the greeting, then what is echoed */
};

static const char *progname = "tool_cutproxy";
/* SIGTERM and SIGINT write a byte here, so poll() wakes (the self-pipe). */
static int stop_pipe[2] = { -1, -1 };

static void
on_stop(int sig)
{
	int saved = errno;
	char b = 1;

	(void)sig;
	(void)!write(stop_pipe[1], &b, 1);
	errno = saved;
}

static int
set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0)
		return -1;
	return 0;
}

static int
again(void)
{
	return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

/* splitmix64: small, seedable with any 64-bit value, the same on every
 * platform, so a seed printed by a failing run repeats it. */
static uint64_t
rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in 0..n-1 (n >= 1): draws past the last whole multiple of n are
 * redrawn, so no value is favoured. */
static uint64_t
rng_below(uint64_t *s, uint64_t n)
{
	uint64_t limit = UINT64_MAX - UINT64_MAX % n;
	uint64_t r;

	do
		r = rng_next(s);
	while (r >= limit);
	return r % n;
}

static size_t
buf_len(const struct buf *b)
{
	return b->end - b->start;
}

/* Room at the end of b, moving what waits to the front if that makes some. */
static size_t
buf_room(struct buf *b)
{
	if (b->start > 0 && b->end == BUF_CAP) {
		memmove(b->data, b->data + b->start, b->end - b->start);
		b->end -= b->start;
		b->start = 0;
	}
	return BUF_CAP - b->end;
}

static void
buf_consumed(struct buf *b, size_t n)
{
	b->start += n;
	if (b->start == b->end)
		b->start = b->end = 0;
}

static int
parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* "MIN-MAX" or "N". */
static int
parse_range(const char *s, uint64_t *min, uint64_t *max)
{
	char lo[32];
	const char *dash = strchr(s, '-');
	size_t n;

	if (dash == NULL) {
		if (parse_u64(s, 1, BUDGET_MAX, min) != 0)
			return -1;
		*max = *min;
		return 0;
	}
	n = (size_t)(dash - s);
	if (n == 0 || n >= sizeof(lo))
		return -1;
	memcpy(lo, s, n);
	lo[n] = '\0';
	if (parse_u64(lo, 1, BUDGET_MAX, min) != 0 || parse_u64(dash + 1, 1, BUDGET_MAX, max) != 0)
		return -1;
	return *min <= *max ? 0 : -1;
}

/* HOST:PORT (HOST may be [v6]) to the first address it resolves to. */
static int
resolve_target(const char *arg, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[256];
	const char *colon = strrchr(arg, ':'), *h = arg;
	struct addrinfo hints, *res = NULL;
	size_t n;
	int rc;

	if (colon == NULL || colon == arg || colon[1] == '\0') {
		fprintf(stderr, "%s: target is not HOST:PORT: `%s'\n", progname, arg);
		return -1;
	}
	n = (size_t)(colon - arg);
	if (n >= 2 && arg[0] == '[' && arg[n - 1] == ']') {
		h++;
		n -= 2;
	}
	if (n >= sizeof(host)) {
		fprintf(stderr, "%s: target host too long: `%s'\n", progname, arg);
		return -1;
	}
	memcpy(host, h, n);
	host[n] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(host, colon + 1, &hints, &res);
	if (rc != 0) {
		fprintf(stderr, "%s: target `%s': %s\n", progname, arg, gai_strerror(rc));
		return -1;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/* Reports the port: PORTFILE is written whole and renamed into place, so a
 * reader never sees half of it. */
static int
report_port(int port, const char *portfile)
{
	char tmp[4096];
	FILE *f;
	int n;

	if (portfile == NULL) {
		printf("port=%d\n", port);
		return fflush(stdout) == 0 ? 0 : -1;
	}
	n = snprintf(tmp, sizeof(tmp), "%s.tmp", portfile);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		fprintf(stderr, "%s: %s: path too long\n", progname, portfile);
		return -1;
	}
	f = fopen(tmp, "w");
	if (f == NULL)
		goto fail;
	fprintf(f, "%d\n", port);
	if (fclose(f) != 0 || rename(tmp, portfile) != 0)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "%s: %s: %s\n", progname, tmp, strerror(errno));
	return -1;
}

/* A non-blocking listener on 127.0.0.1:port; the port it got is reported. */
static int
listen_open(uint64_t port, const char *portfile)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		goto fail;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 || listen(fd, 64) != 0 ||
	    set_nonblock(fd) != 0 || getsockname(fd, (struct sockaddr *)&sin, &sl) != 0)
		goto fail;
	if (report_port(ntohs(sin.sin_port), portfile) != 0) {
		close(fd);
		return -1;
	}
	return fd;
fail:
	fprintf(stderr, "%s: listen on 127.0.0.1:%llu: %s\n", progname, (unsigned long long)port,
	    strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

/* Linux answers close() with RST instead of FIN when received bytes were
 * left unread: the close mode reads (and drops) what has arrived first. */
static void
sock_drain(int fd, char *junk, size_t size)
{
	size_t total = 0;
	ssize_t n;

	while (total < DRAIN_MAX) {
		n = read(fd, junk, size);
		if (n <= 0)
			break;
		total += (size_t)n;
	}
}

/* SO_LINGER 0: close() sends RST and drops what was queued. */
static void
sock_reset(int fd)
{
	struct linger lg = { 1, 0 };

	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

static void
conn_close_side(struct conn *c, int s, int reset)
{
	if (c->fd[s] < 0)
		return;
	if (reset) {
		sock_reset(c->fd[s]);
	} else {
		sock_drain(c->fd[s], c->to[s].data, sizeof(c->to[s].data));
		close(c->fd[s]);
	}
	c->fd[s] = -1;
}

/* Closes what is left of p->c[i] and frees it (the last one takes its slot). */
static void
conn_free(struct proxy *p, size_t i, int reset)
{
	struct conn *c = p->c[i];

	conn_close_side(c, CLIENT, reset);
	conn_close_side(c, SERVER, reset);
	free(c);
	p->c[i] = p->c[--p->nconn];
	p->c[p->nconn] = NULL;
}

static void
conn_accept(struct proxy *p, int lfd)
{
	struct conn *c;
	int cfd, sfd = -1;

	cfd = accept(lfd, NULL, NULL);
	if (cfd < 0) {
		if (!again() && errno != ECONNABORTED)
			fprintf(stderr, "%s: accept: %s\n", progname, strerror(errno));
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL || set_nonblock(cfd) != 0)
		goto fail;
	c->id = ++p->conns;
	c->fd[CLIENT] = cfd;
	c->cut_from = -1;
	/* Both draws for every connection, in accept order, so a seed gives the
	 * same cuts whatever -n says. */
	c->budget = p->budget_min + rng_below(&p->rng, p->budget_max - p->budget_min + 1);
	c->mode = p->mode == M_MIXED ? (enum mode)rng_below(&p->rng, 3) : p->mode;
	if (p->cuts_max != 0 && p->cuts_armed >= p->cuts_max)
		c->budget = 0;
	sfd = socket(p->target.ss_family, SOCK_STREAM, 0);
	if (sfd < 0 || set_nonblock(sfd) != 0)
		goto fail;
	c->fd[SERVER] = sfd;
	c->phase = CONNECTING;
	if (connect(sfd, (struct sockaddr *)&p->target, p->target_len) != 0 &&
	    errno != EINPROGRESS) {
		fprintf(
		    stderr, "conn=%llu target: %s\n", (unsigned long long)c->id, strerror(errno));
		close(sfd);
		close(cfd);
		free(c);
		return;
	}
	p->c[p->nconn++] = c;
	return;
fail:
	fprintf(stderr, "%s: new connection: %s\n", progname, strerror(errno));
	if (sfd >= 0)
		close(sfd);
	close(cfd);
	free(c);
}

static void
conn_cut(struct proxy *p, size_t i)
{
	struct conn *c = p->c[i];
	int from = c->cut_from;

	fprintf(stderr, "cut %llu conn=%llu after=%llu dir=%s mode=%s\n",
	    (unsigned long long)++p->cuts_done, (unsigned long long)c->id,
	    (unsigned long long)c->budget, from == CLIENT ? "up" : "down", mode_names[c->mode]);
	if (c->mode != M_HALFOPEN) {
		conn_free(p, i, c->mode == M_RESET);
		return;
	}
	/* Bytes still waiting for the target are dropped: it hears nothing more. */
	conn_close_side(c, CLIENT, 0);
	c->phase = HALFOPEN;
}

static int
conn_read(struct proxy *p, struct conn *c, int s)
{
	struct buf *b = &c->to[!s];
	size_t want = buf_room(b);
	ssize_t n;

	/* Never read past the budget: the cut then falls exactly on it. */
	if (c->budget != 0 && c->budget - c->in[s] < want)
		want = c->budget - c->in[s];
	if (want == 0 || c->eof[s])
		return 0;
	n = read(c->fd[s], b->data + b->end, want);
	if (n < 0)
		return again() ? 0 : -1;
	if (n == 0) {
		c->eof[s] = 1;
		return 0;
	}
	b->end += (size_t)n;
	c->in[s] += (uint64_t)n;
	if (c->budget != 0 && c->in[s] == c->budget && c->cut_from < 0) {
		if (p->cuts_max == 0 || p->cuts_armed < p->cuts_max) {
			p->cuts_armed++;
			c->cut_from = s;
		} else {
			c->budget = 0; /* the cuts are used up: untouched from now on */
		}
	}
	return 0;
}

static int
conn_write(struct proxy *p, struct conn *c, int s)
{
	struct buf *b = &c->to[s];
	ssize_t n;

	if (buf_len(b) == 0)
		return 0;
	n = write(c->fd[s], b->data + b->start, buf_len(b));
	if (n < 0)
		return again() ? 0 : -1;
	buf_consumed(b, (size_t)n);
	if (s == SERVER)
		p->bytes_up += (uint64_t)n;
	else
		p->bytes_down += (uint64_t)n;
	return 0;
}

/* Moves p->c[i] on after poll() said rev[side]. */
static void
conn_step(struct proxy *p, size_t i, const short rev[2])
{
	struct conn *c = p->c[i];
	char junk[4096];
	int soerr = 0, s;
	socklen_t sl = sizeof(soerr);
	ssize_t n;

	if (c->phase == CONNECTING) {
		if (!(rev[SERVER] & (POLLOUT | POLLERR | POLLHUP)))
			return;
		if (getsockopt(c->fd[SERVER], SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0)
			soerr = errno;
		if (soerr != 0) {
			fprintf(stderr, "conn=%llu target: %s\n", (unsigned long long)c->id,
			    strerror(soerr));
			conn_free(p, i, 0);
			return;
		}
		c->phase = OPEN;
		return;
	}
	if (c->phase == HALFOPEN) {
		if (!(rev[SERVER] & (POLLIN | POLLERR | POLLHUP)))
			return;
		n = read(c->fd[SERVER], junk, sizeof(junk));
		if (n == 0 || (n < 0 && !again()))
			conn_free(p, i, 0);
		return;
	}
	for (s = CLIENT; s <= SERVER; s++)
		if ((rev[s] & (POLLIN | POLLERR | POLLHUP)) && conn_read(p, c, s) != 0)
			goto broken;
	for (s = CLIENT; s <= SERVER; s++) {
		if (conn_write(p, c, s) != 0)
			goto broken;
		/* A FIN is passed on once what came before it has been. */
		if (c->eof[!s] && !c->shut[s] && buf_len(&c->to[s]) == 0) {
			(void)shutdown(c->fd[s], SHUT_WR);
			c->shut[s] = 1;
		}
	}
	if (c->cut_from >= 0 && buf_len(&c->to[!c->cut_from]) == 0)
		conn_cut(p, i);
	else if (c->shut[CLIENT] && c->shut[SERVER])
		conn_free(p, i, 0);
	return;
broken:
	/* A reset or failure on one side is passed on to the other as a reset. */
	conn_free(p, i, 1);
}

static short
conn_events(const struct conn *c, int s)
{
	short ev = 0;

	if (c->fd[s] < 0)
		return 0;
	switch (c->phase) {
	case CONNECTING:
		return s == SERVER ? POLLOUT : 0;
	case HALFOPEN:
		return POLLIN;
	case OPEN:
		break;
	}
	if (!c->eof[s] && buf_len(&c->to[!s]) < BUF_CAP && (c->budget == 0 || c->in[s] < c->budget))
		ev |= POLLIN;
	if (buf_len(&c->to[s]) > 0)
		ev |= POLLOUT;
	return ev;
}

static int
proxy_run(struct proxy *p, int lfd)
{
	static struct pollfd pfd[2 + 2 * CONN_MAX];
	short rev[2];
	size_t i, n;
	int s, rc;

	for (;;) {
		pfd[0].fd = stop_pipe[0];
		pfd[0].events = POLLIN;
		/* A full table leaves new connections in the backlog. */
		pfd[1].fd = p->nconn < CONN_MAX ? lfd : -1;
		pfd[1].events = POLLIN;
		n = p->nconn;
		for (i = 0; i < n; i++) {
			for (s = CLIENT; s <= SERVER; s++) {
				struct pollfd *f = &pfd[2 + 2 * i + (size_t)s];

				f->events = conn_events(p->c[i], s);
				/* A side with nothing to wait for is left out: a
				 * shut-down socket would report POLLHUP for ever. */
				f->fd = f->events != 0 ? p->c[i]->fd[s] : -1;
				f->revents = 0;
			}
		}
		rc = poll(pfd, 2 + 2 * n, -1);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "%s: poll: %s\n", progname, strerror(errno));
			return 1;
		}
		if (pfd[0].revents != 0)
			return 0;
		/* From the end, as conn_free() moves the last connection into the
		 * slot it frees; connections accepted below are polled next time. */
		for (i = n; i-- > 0;) {
			rev[CLIENT] = pfd[2 + 2 * i].revents;
			rev[SERVER] = pfd[2 + 2 * i + 1].revents;
			if (rev[CLIENT] != 0 || rev[SERVER] != 0)
				conn_step(p, i, rev);
		}
		if (pfd[1].revents != 0)
			conn_accept(p, lfd);
	}
}

static void
target_end(struct tconn *t, const char *why)
{
	fprintf(stderr, "target conn=%llu in=%llu out=%llu end=%s\n", (unsigned long long)t->id,
	    (unsigned long long)t->in, (unsigned long long)t->out, why);
	close(t->fd);
	free(t);
}

/* The test target: greets, then echoes (or discards) on every connection. */
static int
target_run(int lfd, int echo, size_t greeting)
{
	static const char line[] =
	    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ+/\n";
	static struct pollfd pfd[2 + CONN_MAX];
	static struct tconn *t[CONN_MAX];
	static char junk[BUF_CAP];
	size_t i, k, n = 0, nt;
	uint64_t conns = 0;
	struct tconn *c;
	ssize_t r;
	int rc = 1, fd;

	for (;;) {
		pfd[0].fd = stop_pipe[0];
		pfd[0].events = POLLIN;
		pfd[1].fd = n < CONN_MAX ? lfd : -1;
		pfd[1].events = POLLIN;
		for (i = 0; i < n; i++) {
			pfd[2 + i].fd = t[i]->fd;
			pfd[2 + i].events = 0;
			if (!t[i]->eof && (!echo || buf_room(&t[i]->b) > 0))
				pfd[2 + i].events |= POLLIN;
			if (buf_len(&t[i]->b) > 0)
				pfd[2 + i].events |= POLLOUT;
			pfd[2 + i].revents = 0;
		}
		if (poll(pfd, 2 + n, -1) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "%s: poll: %s\n", progname, strerror(errno));
			goto out;
		}
		if (pfd[0].revents != 0)
			break;
		nt = n;
		for (i = nt; i-- > 0;) {
			const char *end = NULL;

			c = t[i];
			if (pfd[2 + i].revents == 0)
				continue;
			if (pfd[2 + i].revents & (POLLIN | POLLERR | POLLHUP) && !c->eof) {
				r = echo ? read(c->fd, c->b.data + c->b.end, buf_room(&c->b))
				         : read(c->fd, junk, sizeof(junk));
				if (r > 0) {
					c->in += (uint64_t)r;
					if (echo)
						c->b.end += (size_t)r;
				} else if (r == 0) {
					c->eof = 1;
				} else if (!again()) {
					end = errno == ECONNRESET ? "reset" : "error";
				}
			}
			if (end == NULL && buf_len(&c->b) > 0) {
				r = write(c->fd, c->b.data + c->b.start, buf_len(&c->b));
				if (r > 0) {
					c->out += (uint64_t)r;
					buf_consumed(&c->b, (size_t)r);
				} else if (r < 0 && !again()) {
					end = errno == ECONNRESET || errno == EPIPE ? "reset"
					                                            : "error";
				}
			}
			if (end == NULL && c->eof && buf_len(&c->b) == 0)
				end = "eof";
			if (end != NULL) {
				target_end(c, end);
				t[i] = t[--n];
			}
		}
		if (pfd[1].revents == 0)
			continue;
		fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			continue;
		c = calloc(1, sizeof(*c));
		if (c == NULL || set_nonblock(fd) != 0) {
			fprintf(stderr, "%s: new connection: %s\n", progname, strerror(errno));
			close(fd);
			free(c);
			continue;
		}
		c->fd = fd;
		c->id = ++conns;
		for (k = 0; k < greeting; k++)
			c->b.data[k] = line[k % (sizeof(line) - 1)];
		c->b.end = greeting;
		t[n++] = c;
		fprintf(stderr, "target conn=%llu open\n", (unsigned long long)c->id);
	}
	rc = 0;
out:
	for (i = 0; i < n; i++) {
		close(t[i]->fd);
		free(t[i]);
	}
	return rc;
}

static int
usage(FILE *f, int rc)
{
	fputs(usage_text, f);
	return rc;
}

int
main(int argc, char **argv)
{
	static struct proxy p;
	struct sigaction sa;
	const char *portfile = NULL;
	uint64_t port, seed = 0, greeting = 0;
	int opt, have_seed = 0, target = 0, proxy_opts = 0, lfd = -1, rc = 1;
	size_t i;

	p.budget_min = 200;
	p.budget_max = 20000;
	p.mode = M_CLOSE;
	while ((opt = getopt(argc, argv, "p:s:n:b:m:EDG:h")) != -1) {
		switch (opt) {
		case 'p':
			portfile = optarg;
			break;
		case 's':
			if (parse_u64(optarg, 0, UINT64_MAX, &seed) != 0) {
				fprintf(stderr, "%s: -s is not 0-%llu: `%s'\n", progname,
				    (unsigned long long)UINT64_MAX, optarg);
				return 2;
			}
			have_seed = proxy_opts = 1;
			break;
		case 'n':
			if (parse_u64(optarg, 0, BUDGET_MAX, &p.cuts_max) != 0) {
				fprintf(stderr, "%s: -n is not a number of cuts: `%s'\n", progname,
				    optarg);
				return 2;
			}
			proxy_opts = 1;
			break;
		case 'b':
			if (parse_range(optarg, &p.budget_min, &p.budget_max) != 0) {
				fprintf(stderr,
				    "%s: -b is not MIN-MAX with 1 <= MIN <= MAX: `%s'\n", progname,
				    optarg);
				return 2;
			}
			proxy_opts = 1;
			break;
		case 'm':
			for (i = 0; i < 4 && strcmp(optarg, mode_names[i]) != 0; i++)
				;
			if (i == 4) {
				fprintf(stderr,
				    "%s: -m is not close, reset, halfopen or mixed: `%s'\n",
				    progname, optarg);
				return 2;
			}
			p.mode = (enum mode)i;
			proxy_opts = 1;
			break;
		case 'E':
		case 'D':
			target = opt;
			break;
		case 'G':
			if (parse_u64(optarg, 0, BUF_CAP, &greeting) != 0) {
				fprintf(stderr, "%s: -G is not 0-%d: `%s'\n", progname, BUF_CAP,
				    optarg);
				return 2;
			}
			break;
		case 'h':
			return usage(stdout, 0);
		default:
			return usage(stderr, 2);
		}
	}
	argc -= optind;
	argv += optind;
	if (target ? argc != 1 || proxy_opts : argc != 2 || greeting != 0)
		return usage(stderr, 2);
	if (parse_u64(argv[0], 0, 65535, &port) != 0) {
		fprintf(stderr, "%s: LISTEN_PORT is not 0-65535: `%s'\n", progname, argv[0]);
		return 2;
	}
	if (!target && resolve_target(argv[1], &p.target, &p.target_len) != 0)
		return 2;

	if (!have_seed) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		seed = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	}
	p.rng = seed;
	if (pipe(stop_pipe) != 0 || set_nonblock(stop_pipe[1]) != 0) {
		fprintf(stderr, "%s: pipe: %s\n", progname, strerror(errno));
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	lfd = listen_open(port, portfile);
	if (lfd < 0)
		goto out;
	if (target) {
		rc = target_run(lfd, target == 'E', (size_t)greeting);
		goto out;
	}
	fprintf(stderr, "seed=%llu\n", (unsigned long long)seed);
	rc = proxy_run(&p, lfd);
	fprintf(stderr, "cuts=%llu conns=%llu bytes_up=%llu bytes_down=%llu\n",
	    (unsigned long long)p.cuts_done, (unsigned long long)p.conns,
	    (unsigned long long)p.bytes_up, (unsigned long long)p.bytes_down);
out:
	while (p.nconn > 0)
		conn_free(&p, p.nconn - 1, 0);
	if (lfd >= 0)
		close(lfd);
	if (stop_pipe[0] >= 0) {
		close(stop_pipe[0]);
		close(stop_pipe[1]);
	}
	return rc;
}
