/* Who may buy: buyer key lists read from files, and per-address connection limits. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gateway/access.h"
#include "sdpp/crypto.h"
#include "sdpp/enc.h"

#define KEY_BYTES SDPP_SIGN_PUBLIC_BYTES
#define KEY_HEX (2 * KEY_BYTES)
#define MSG_MAX 256

const char *
access_refusal_name(enum access_refusal r)
{
	static const char *const names[ACCESS__COUNT] = {
		[ACCESS_OK] = "ok",
		[ACCESS_DENY_LIST] = "deny_list",
		[ACCESS_ALLOW_LIST] = "allow_list",
		[ACCESS_TOO_MANY] = "too_many_connections",
		[ACCESS_RATE] = "rate_limited",
	};

	if ((unsigned)r >= ACCESS__COUNT)
		return "unknown";
	return names[r];
}

/* ---------------------------------------------------------------- key lists */

/* The keys, sorted, for a binary search per order. */
struct access_keys {
	size_t n;
	uint8_t (*keys)[KEY_BYTES];
};

/* A key as parsed, with its line (for the duplicate message). */
struct entry {
	uint8_t key[KEY_BYTES];
	int line;
};

struct kparse {
	access_error_fn err;
	void *ctx;
	int nerrs;
};

static void kerr(struct kparse *p, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
kerr(struct kparse *p, int line, const char *fmt, ...)
{
	char msg[MSG_MAX], *s;
	va_list ap;

	p->nerrs++;
	if (p->nerrs > ACCESS_ERRORS_MAX || p->err == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Lines are quoted: keep control bytes and other non-ASCII off the
	 * operator's terminal. */
	for (s = msg; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			*s = '?';
	p->err(p->ctx, line, msg);
}

static int
entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int c = memcmp(x->key, y->key, KEY_BYTES);

	if (c != 0)
		return c;
	return (x->line > y->line) - (x->line < y->line);
}

/* 64 hex digits (either case: the file is the operator's) into key. The
 * line is not NUL-terminated where the key ends: sdpp_hex_decode() wants a
 * string, so the digits are copied out first. */
static int
key_parse(uint8_t key[KEY_BYTES], const char *s, size_t n)
{
	char hex[KEY_HEX + 1];

	if (n != KEY_HEX)
		return -1;
	memcpy(hex, s, n);
	hex[n] = '\0';
	return sdpp_hex_decode(key, KEY_BYTES, hex) == SDPP_OK ? 0 : -1;
}

static int
blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* One line (no newline) into e; 1 with a key, 0 for none, -1 reported. */
static int
line_parse(struct kparse *p, const char *s, size_t n, int line, struct entry *e)
{
	size_t a = 0, b, c;

	if (n > ACCESS_LINE_MAX) {
		kerr(p, line, "line too long (max %d bytes)", ACCESS_LINE_MAX);
		return -1;
	}
	if (memchr(s, '\0', n) != NULL) {
		kerr(p, line, "NUL byte in line");
		return -1;
	}
	while (a < n && blank(s[a]))
		a++;
	if (a == n || s[a] == '#')
		return 0;
	for (b = a; b < n && !blank(s[b]) && s[b] != '#'; b++)
		;
	/* After the key: blanks, then the end or a comment. A `#' right
	 * after the key is a slip the operator should see. */
	for (c = b; c < n && blank(s[c]); c++)
		;
	if (key_parse(e->key, s + a, b - a) != 0 || (c < n && (s[c] != '#' || c == b))) {
		kerr(p, line, "not a buyer key (64 hex digits, then at most a # comment): `%.*s'",
		    (int)(n - a > 80 ? 80 : n - a), s + a);
		return -1;
	}
	e->line = line;
	return 1;
}

int
access_keys_parse(
    struct access_keys **out, const char *text, size_t len, access_error_fn err, void *ctx)
{
	struct kparse p = { err, ctx, 0 };
	struct access_keys *k = NULL;
	struct entry *es = NULL, e;
	size_t off = 0, n = 0, cap = 0, i, j;
	int line = 0, r;

	*out = NULL;
	while (off < len) {
		const char *s = text + off, *nl = memchr(s, '\n', len - off);
		size_t ll = nl != NULL ? (size_t)(nl - s) : len - off;

		off += ll + (nl != NULL);
		line++;
		r = line_parse(&p, s, ll, line, &e);
		if (r <= 0)
			continue;
		if (n == ACCESS_KEYS_MAX) {
			kerr(&p, line, "more than %d keys", ACCESS_KEYS_MAX);
			break;
		}
		if (n == cap) {
			size_t nc = cap != 0 ? 2 * cap : 64;
			struct entry *ne = realloc(es, nc * sizeof(*ne));

			if (ne == NULL) {
				kerr(&p, 0, "out of memory");
				goto done;
			}
			es = ne;
			cap = nc;
		}
		es[n++] = e;
	}
	if (n > 1)
		qsort(es, n, sizeof(*es), entry_cmp);
	for (i = 1; i < n; i++)
		if (memcmp(es[i].key, es[i - 1].key, KEY_BYTES) == 0) {
			/* Sorted by line within one key: i-1 holds the first. */
			for (j = i - 1; j > 0 && memcmp(es[j - 1].key, es[i].key, KEY_BYTES) == 0;
			     j--)
				;
			kerr(&p, es[i].line, "duplicate key (first on line %d)", es[j].line);
		}
	if (p.nerrs > ACCESS_ERRORS_MAX && err != NULL) {
		char msg[64];

		snprintf(msg, sizeof(msg), "%d more errors not shown", p.nerrs - ACCESS_ERRORS_MAX);
		err(ctx, 0, msg);
	}
	if (p.nerrs > 0)
		goto done;
	k = calloc(1, sizeof(*k));
	if (k == NULL || (n > 0 && (k->keys = malloc(n * sizeof(*k->keys))) == NULL)) {
		kerr(&p, 0, "out of memory");
		goto done;
	}
	for (i = 0; i < n; i++)
		memcpy(k->keys[i], es[i].key, KEY_BYTES);
	k->n = n;
	*out = k;
	k = NULL;
done:
	access_keys_free(k);
	free(es);
	return p.nerrs;
}

int
access_keys_load(struct access_keys **out, const char *path, access_error_fn err, void *ctx)
{
	struct kparse p = { err, ctx, 0 };
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	ssize_t r;
	int fd;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		kerr(&p, 0, "cannot open: %s", strerror(errno));
		return p.nerrs;
	}
	if (fstat(fd, &st) != 0) {
		kerr(&p, 0, "cannot stat: %s", strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		kerr(&p, 0, "not a regular file");
		goto fail;
	}
	if (st.st_mode & S_IWOTH) {
		kerr(&p, 0,
		    "writable by others: whoever can write it decides who may buy "
		    "(chmod o-w)");
		goto fail;
	}
	if (st.st_size > ACCESS_FILE_MAX) {
		kerr(&p, 0, "larger than %d bytes", ACCESS_FILE_MAX);
		goto fail;
	}
	/* One byte more than it claims: a file that grew is read to the cap. */
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		kerr(&p, 0, "out of memory");
		goto fail;
	}
	while (got < (size_t)st.st_size + 1) {
		r = read(fd, buf + got, (size_t)st.st_size + 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			kerr(&p, 0, "read error: %s", strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	if (got > (size_t)st.st_size) {
		kerr(&p, 0, "changed while being read");
		goto fail;
	}
	p.nerrs = access_keys_parse(out, buf, got, err, ctx);
fail:
	close(fd);
	free(buf);
	return p.nerrs;
}

void
access_keys_free(struct access_keys *k)
{
	if (k == NULL)
		return;
	free(k->keys);
	free(k);
}

size_t
access_keys_count(const struct access_keys *k)
{
	return k != NULL ? k->n : 0;
}

int
access_keys_has(const struct access_keys *k, const uint8_t key[SDPP_SIGN_PUBLIC_BYTES])
{
	size_t lo = 0, hi, mid;
	int c;

	if (k == NULL)
		return 0;
	hi = k->n;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = memcmp(k->keys[mid], key, KEY_BYTES);
		if (c == 0)
			return 1;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

int
access_keys_equal(const struct access_keys *a, const struct access_keys *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return a->n == b->n && (a->n == 0 || memcmp(a->keys, b->keys, a->n * KEY_BYTES) == 0);
}

enum access_refusal
access_key_check(const struct access_keys *allow, const struct access_keys *deny,
    const uint8_t key[SDPP_SIGN_PUBLIC_BYTES])
{
	if (access_keys_has(deny, key))
		return ACCESS_DENY_LIST;
	if (allow != NULL && !access_keys_has(allow, key))
		return ACCESS_ALLOW_LIST;
	return ACCESS_OK;
}

/* ---------------------------------------------------------------- address limits */

/*
 * The table: addresses hashed into chains, with a secret random seed so
 * that nobody can choose addresses that pile into one chain. An address is
 * kept while it holds connections or its token bucket is refilling; after
 * that it is dropped when its chain is next walked, so the table holds
 * about the addresses of the last second plus the connected ones. It never
 * grows past ACCESS_ADDRS_MAX entries (about 3 MB); beyond that, addresses
 * not in it are admitted uncounted rather than refused, since refusing
 * would let a spread-out flood lock out every new buyer. max_buyers still
 * bounds the connections.
 */
#define BUCKETS 4096 /* a power of two */
/* Tokens are counted in thousandths, so that refilling per millisecond
 * needs no fractions: a bucket of R tokens a second gains R a ms. */
#define TOKEN 1000
/* A full table is swept for stale entries at most this often. */
#define SWEEP_MS 1000

struct access_slot {
	uint8_t addr[16]; /* IPv4 as ::ffff:a.b.c.d; IPv6 its /64, the rest zero */
	uint32_t conns;
	uint64_t tokens; /* thousandths */
	uint64_t last_ms;
	struct access_slot *next;
};

struct access_limit {
	uint64_t seed[2];
	size_t n;
	uint64_t last_sweep_ms;
	struct access_slot *buckets[BUCKETS];
};

struct access_limit *
access_limit_new(void)
{
	struct access_limit *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return NULL;
	if (sdpp_random(l->seed, sizeof(l->seed)) != SDPP_OK) {
		free(l);
		return NULL;
	}
	return l;
}

void
access_limit_free(struct access_limit *l)
{
	struct access_slot *s, *next;
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < BUCKETS; i++)
		for (s = l->buckets[i]; s != NULL; s = next) {
			next = s->next;
			free(s);
		}
	free(l);
}

size_t
access_limit_tracked(const struct access_limit *l)
{
	return l->n;
}

/* The part of sa that is limited; -1 for families without one. */
static int
addr_key(uint8_t out[16], const struct sockaddr *sa, socklen_t salen)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	memset(out, 0, 16);
	if (sa->sa_family == AF_INET && salen >= (socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;

		memcpy(out, mapped, sizeof(mapped));
		memcpy(out + 12, &in->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6 && salen >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;

		if (memcmp(in6->sin6_addr.s6_addr, mapped, sizeof(mapped)) == 0) {
			memcpy(out, in6->sin6_addr.s6_addr, 16);
			return 0;
		}
		/* One host is usually given a whole /64: counting addresses
		 * within it would count nothing. */
		memcpy(out, in6->sin6_addr.s6_addr, 8);
		return 0;
	}
	return -1;
}

/* splitmix64's finaliser: every input bit moves every output bit. */
static uint64_t
mix(uint64_t x)
{
	x ^= x >> 30;
	x *= UINT64_C(0xbf58476d1ce4e5b9);
	x ^= x >> 27;
	x *= UINT64_C(0x94d049bb133111eb);
	x ^= x >> 31;
	return x;
}

static size_t
addr_bucket(const struct access_limit *l, const uint8_t a[16])
{
	uint64_t w0, w1;

	memcpy(&w0, a, 8);
	memcpy(&w1, a + 8, 8);
	return (size_t)(mix(mix(w0 ^ l->seed[0]) ^ w1 ^ l->seed[1]) & (BUCKETS - 1));
}

/* Brings s's bucket up to now at per_second (capped at one second's worth). */
static void
refill(struct access_slot *s, uint64_t now_ms, uint64_t per_second)
{
	uint64_t cap = per_second * TOKEN, dt = now_ms > s->last_ms ? now_ms - s->last_ms : 0;

	s->last_ms = now_ms;
	if (dt >= TOKEN || s->tokens + dt * per_second >= cap)
		s->tokens = cap;
	else
		s->tokens += dt * per_second;
}

/* Nothing left to remember: no connection, a full bucket. */
static int
stale(struct access_slot *s, uint64_t now_ms, uint64_t per_second)
{
	if (s->conns > 0)
		return 0;
	refill(s, now_ms, per_second);
	return s->tokens >= per_second * TOKEN;
}

/* Drops the stale entries of one chain; returns the entry for a, if any. */
static struct access_slot *
chain_walk(struct access_limit *l, size_t b, const uint8_t *a, uint64_t now_ms, uint64_t per_second)
{
	struct access_slot **pp = &l->buckets[b], *s, *found = NULL;

	while ((s = *pp) != NULL) {
		if (a != NULL && memcmp(s->addr, a, 16) == 0) {
			found = s;
		} else if (stale(s, now_ms, per_second)) {
			*pp = s->next;
			free(s);
			l->n--;
			continue;
		}
		pp = &s->next;
	}
	return found;
}

enum access_refusal
access_limit_admit(struct access_limit *l, const struct sockaddr *sa, socklen_t salen,
    uint64_t now_ms, uint64_t max_conns, uint64_t per_second, struct access_slot **slot)
{
	uint8_t a[16];
	struct access_slot *s;
	size_t b, i;

	*slot = NULL;
	if ((max_conns == 0 && per_second == 0) || addr_key(a, sa, salen) != 0)
		return ACCESS_OK;
	b = addr_bucket(l, a);
	s = chain_walk(l, b, a, now_ms, per_second);
	if (s == NULL) {
		if (l->n >= ACCESS_ADDRS_MAX && now_ms - l->last_sweep_ms >= SWEEP_MS) {
			l->last_sweep_ms = now_ms;
			for (i = 0; i < BUCKETS; i++)
				(void)chain_walk(l, i, NULL, now_ms, per_second);
		}
		if (l->n >= ACCESS_ADDRS_MAX)
			return ACCESS_OK;
		s = calloc(1, sizeof(*s));
		if (s == NULL)
			return ACCESS_OK; /* as with a full table */
		memcpy(s->addr, a, 16);
		s->tokens = per_second * TOKEN;
		s->last_ms = now_ms;
		s->next = l->buckets[b];
		l->buckets[b] = s;
		l->n++;
	}
	if (max_conns != 0 && s->conns >= max_conns)
		return ACCESS_TOO_MANY;
	if (per_second != 0) {
		refill(s, now_ms, per_second);
		if (s->tokens < TOKEN)
			return ACCESS_RATE;
		s->tokens -= TOKEN;
	}
	s->conns++;
	*slot = s;
	return ACCESS_OK;
}

void
access_limit_release(struct access_limit *l, struct access_slot *slot)
{
	(void)l;
	if (slot != NULL && slot->conns > 0)
		slot->conns--;
}
