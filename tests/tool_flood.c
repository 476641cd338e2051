/* Test tool: many connections from one source address; counts how the seller answers each. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sdpp/crypto.h"
#include "sdpp/err.h"
#include "sdpp/msg.h"
#include "util/text.h"

static const char usage_text[] =
    "usage: tool_flood [-s SOURCE] [-n N] [-p PARALLEL] [-t SECONDS] [-h] HOST:PORT SELLER_KEY\n"
    "\n"
    "Opens N connections (default 1) to HOST:PORT from the IPv4 address SOURCE,\n"
    "at most PARALLEL (default 500) waiting for an answer at once, and sends\n"
    "`hello' on each. The first frame of each answer is read: the seller's menu\n"
    "(admitted: the connection is kept open) or its `error' (counted by code).\n"
    "Both must be signed by SELLER_KEY (a public key file or 64 hex digits).\n"
    "Prints one line,\n"
    "  opened=N admitted=N too_many_connections=N rate_limited=N busy=N other=N\n"
    "  elapsed_ms=MS\n"
    "where other counts any other code, a connection closed or silent for\n"
    "SECONDS (default 10) and a failed connect. With -h it then holds the\n"
    "admitted connections open until its standard input ends. Exits 0, 1 if a\n"
    "frame was unsigned, forged or not a menu or error, 2 on bad usage.\n";

#define FRAME_MAX 16384

enum { R_ADMITTED, R_TOO_MANY, R_RATE, R_BUSY, R_OTHER, R__COUNT };

struct conn {
	int fd;
	int state; /* 0 connecting, 1 waiting for the answer, 2 done */
	uint64_t since_ms;
	size_t len;
	char buf[FRAME_MAX];
};

static const char *progname = "tool_flood";
static uint8_t seller_pub[SDPP_SIGN_PUBLIC_BYTES];
static struct sdpp_verifier *verifier;
static char *hello;
static size_t hello_len;
static int forged;

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int
load_seller_key(const char *arg)
{
	char text[256];
	size_t len;
	FILE *f;

	if (strlen(arg) == 64)
		return sdpp_sign_public_parse(seller_pub, arg, 64) == SDPP_OK ? 0 : -1;
	f = fopen(arg, "r");
	if (f == NULL) {
		fprintf(stderr, "%s: %s: %s\n", progname, arg, strerror(errno));
		return -1;
	}
	len = fread(text, 1, sizeof(text), f);
	fclose(f);
	if (sdpp_sign_public_parse(seller_pub, text, len) != SDPP_OK) {
		fprintf(stderr, "%s: %s: not a public key\n", progname, arg);
		return -1;
	}
	return 0;
}

/* A non-blocking connect from src (NULL: any) to dst; -1 on failure. */
static int
open_one(const struct addrinfo *dst, const struct sockaddr_in *src)
{
	int fd = socket(dst->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (src != NULL && bind(fd, (const struct sockaddr *)src, sizeof(*src)) != 0) {
		close(fd);
		return -1;
	}
	if (connect(fd, dst->ai_addr, dst->ai_addrlen) != 0 && errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The first frame of the answer: its result (R_*). */
static int
judge(const char *frame, size_t len)
{
	struct sdpp_msg m;
	char err[256];
	int r = R_OTHER;

	if (sdpp_msg_parse(&m, frame, len, SDPP_ROLE_SELLER, err, sizeof(err)) != SDPP_OK) {
		fprintf(stderr, "%s: bad frame: %s\n", progname, err);
		forged = 1;
		return R_OTHER;
	}
	if (!m.signed_ || sdpp_msg_verify(&m, verifier) != SDPP_OK ||
	    (m.type != SDPP_T_MENU && m.type != SDPP_T_ERROR)) {
		fprintf(stderr, "%s: an unsigned or forged frame, or neither menu nor error\n",
		    progname);
		forged = 1;
	} else if (m.type == SDPP_T_MENU) {
		r = R_ADMITTED;
	} else if (strcmp(m.u.error.code, "too_many_connections") == 0) {
		r = R_TOO_MANY;
	} else if (strcmp(m.u.error.code, "rate_limited") == 0) {
		r = R_RATE;
	} else if (strcmp(m.u.error.code, "busy") == 0) {
		r = R_BUSY;
	} else {
		fprintf(stderr, "%s: error %s: %s\n", progname, m.u.error.code, m.u.error.message);
	}
	sdpp_msg_free(&m);
	return r;
}

/* Moves c on after poll said revents; returns R_* once it is decided, else -1. */
static int
step(struct conn *c, short revents, uint64_t now, uint64_t timeout_ms)
{
	char *nl;
	ssize_t n;
	int soerr = 0;
	socklen_t sl = sizeof(soerr);

	if (c->state == 0 && (revents & (POLLOUT | POLLERR | POLLHUP))) {
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0)
			return R_OTHER;
		/* A send may fail once the seller has answered and closed: the
		 * answer is what counts. */
		(void)send(c->fd, hello, hello_len, MSG_NOSIGNAL);
		c->state = 1;
		return -1;
	}
	if (c->state == 1 && (revents & (POLLIN | POLLERR | POLLHUP))) {
		n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
		if (n > 0) {
			c->len += (size_t)n;
			nl = memchr(c->buf, '\n', c->len);
			if (nl != NULL)
				return judge(c->buf, (size_t)(nl - c->buf));
			if (c->len == sizeof(c->buf))
				return R_OTHER;
			return -1;
		}
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			return R_OTHER;
	}
	if (now - c->since_ms > timeout_ms)
		return R_OTHER;
	return -1;
}

static int
parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

int
main(int argc, char **argv)
{
	static const char *names[R__COUNT] = { "admitted", "too_many_connections", "rate_limited",
		"busy", "other" };
	unsigned long total = 1, parallel = 500, secs = 10, opened = 0, count[R__COUNT] = { 0 };
	struct sockaddr_in src, *srcp = NULL;
	struct addrinfo hints, *dst = NULL;
	struct util_hostport hp;
	struct conn *cs = NULL;
	struct pollfd *pf = NULL;
	struct sdpp_msg m;
	int *held = NULL, hold = 0, i, rc = 2, r;
	size_t nheld = 0, k, active = 0;
	uint64_t t0;
	char why[UTIL_HOST_MAX + 64];

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-h") == 0) {
			hold = 1;
		} else if (i + 1 < argc && strcmp(argv[i], "-s") == 0) {
			memset(&src, 0, sizeof(src));
			src.sin_family = AF_INET;
			if (inet_pton(AF_INET, argv[++i], &src.sin_addr) != 1)
				goto usage;
			srcp = &src;
		} else if (i + 1 < argc && strcmp(argv[i], "-n") == 0) {
			if (parse_uint(argv[++i], 1000000, &total) != 0 || total == 0)
				goto usage;
		} else if (i + 1 < argc && strcmp(argv[i], "-p") == 0) {
			if (parse_uint(argv[++i], 100000, &parallel) != 0 || parallel == 0)
				goto usage;
		} else if (i + 1 < argc && strcmp(argv[i], "-t") == 0) {
			if (parse_uint(argv[++i], 3600, &secs) != 0 || secs == 0)
				goto usage;
		} else {
			goto usage;
		}
	}
	if (argc - i != 2)
		goto usage;
	if (util_hostport_split(&hp, argv[i], 0, why, sizeof(why)) != 0) {
		fprintf(stderr, "%s: %s\n", progname, why);
		goto usage;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if (getaddrinfo(hp.host, hp.port, &hints, &dst) != 0) {
		fprintf(stderr, "%s: %s: not IPv4 HOST:PORT\n", progname, argv[i]);
		goto usage;
	}
	rc = 1;
	if (load_seller_key(argv[i + 1]) != 0 ||
	    sdpp_verifier_new(&verifier, seller_pub) != SDPP_OK)
		goto out;
	memset(&m, 0, sizeof(m));
	m.type = SDPP_T_HELLO;
	m.from = SDPP_ROLE_BUYER;
	snprintf(m.u.hello.version, sizeof(m.u.hello.version), "%s", SDPP_VERSION);
	cs = calloc(parallel, sizeof(*cs));
	pf = calloc(parallel, sizeof(*pf));
	held = calloc(total, sizeof(*held));
	if (cs == NULL || pf == NULL || held == NULL ||
	    sdpp_msg_encode(&m, NULL, &hello, &hello_len) != SDPP_OK) {
		fprintf(stderr, "%s: out of memory\n", progname);
		goto out;
	}
	t0 = now_ms();
	while (opened < total || active > 0) {
		uint64_t now;

		/* Fill every free place with a new connection. */
		for (k = 0; k < parallel && opened < total; k++) {
			if (cs[k].fd > 0)
				continue;
			opened++;
			cs[k].fd = open_one(dst, srcp);
			if (cs[k].fd < 0) {
				fprintf(stderr, "%s: connect: %s\n", progname, strerror(errno));
				cs[k].fd = 0;
				count[R_OTHER]++;
				continue;
			}
			cs[k].state = 0;
			cs[k].len = 0;
			cs[k].since_ms = now_ms();
			active++;
		}
		for (k = 0; k < parallel; k++) {
			pf[k].fd = cs[k].fd > 0 ? cs[k].fd : -1;
			pf[k].events = cs[k].state == 0 ? POLLOUT : POLLIN;
			pf[k].revents = 0;
		}
		if (poll(pf, parallel, 100) < 0 && errno != EINTR) {
			fprintf(stderr, "%s: poll: %s\n", progname, strerror(errno));
			goto out;
		}
		now = now_ms();
		for (k = 0; k < parallel; k++) {
			if (cs[k].fd <= 0)
				continue;
			r = step(&cs[k], pf[k].revents, now, secs * 1000);
			if (r < 0)
				continue;
			count[r]++;
			active--;
			if (r == R_ADMITTED)
				held[nheld++] = cs[k].fd;
			else
				close(cs[k].fd);
			cs[k].fd = 0;
		}
	}
	printf("opened=%lu", opened);
	for (k = 0; k < R__COUNT; k++)
		printf(" %s=%lu", names[k], count[k]);
	printf(" elapsed_ms=%llu\n", (unsigned long long)(now_ms() - t0));
	fflush(stdout);
	if (hold) {
		char c;

		while (read(0, &c, 1) > 0)
			;
	}
	rc = forged ? 1 : 0;
	goto out;
usage:
	fputs(usage_text, stderr);
	rc = 2;
out:
	for (k = 0; k < nheld; k++)
		close(held[k]);
	if (dst != NULL)
		freeaddrinfo(dst);
	sdpp_verifier_free(verifier);
	free(hello);
	free(held);
	free(pf);
	free(cs);
	return rc;
}
