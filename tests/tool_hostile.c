/* Test tool: a misbehaving SDPP buyer that prints the seller's answer and checks it. */
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "iota/iota.h"
#include "sdpp/crypto.h"
#include "sdpp/enc.h"
#include "sdpp/framer.h"
#include "sdpp/msg.h"
#include "sdpp/out.h"
#include "sdpp/session.h"
#include "util/keyfile.h"
#include "util/text.h"

/* How long the seller may take to close after its `error`. */
#define CLOSE_WAIT_MS 5000
#define OVERSIZED_BYTES (20 * 1024)
#define READ_BUF 65536

static const char usage_text[] =
    "usage: tool_hostile [-t SECONDS] [-e CODE] [-n N] [-w FILE] [-o FILE] [-P] [-1]\n"
    "                    HOST:PORT SELLER_KEY SCENARIO [ARGS]\n"
    "\n"
    "SELLER_KEY is the seller's public key file (or 64 hex digits). Scenarios and\n"
    "the error code the seller must answer with (-e CODE expects another one):\n"
    "  raw LINE            after hello and menu, LINE as a frame      bad_json\n"
    "  oversized           a 20 KiB line before ordering              frame_too_large\n"
    "  unknown-product     an order for a product not on the menu     unknown_product\n"
    "  bad-signature PROD  an order whose signature is corrupted      bad_signature\n"
    "  save-order FILE PROD  order PROD (open-ended), save the order frame to FILE,\n"
    "                      wait for the session key, then hang up      (none)\n"
    "  replay-order FILE   send the saved order on a new connection   bad_order_id\n"
    "  foreign-ack PROD    two orders by one buyer; an ACK naming the first order\n"
    "                      sent on the second connection              bad_order_id\n"
    "  no-pay PROD N       order N items (0 = open-ended), ACK every item, never pay;\n"
    "                      prints items and invoices received          payment_timeout\n"
    "                      (and `item SEQ' on stderr as each arrives)\n"
    "  silent              connect and send nothing                   handshake_timeout\n"
    "  pay-digest PROD N DIGEST  order N items declaring the IOTA address of -k KEY,\n"
    "                      ACK them and answer the first invoice with a\n"
    "                      payment_ack whose verification is DIGEST    payment_rejected\n"
    "  buyer-error PROD CODE  order PROD (open-ended), wait for the session key, end\n"
    "                      it with our own signed error CODE; the seller must just\n"
    "                      close                                       (none)\n"
    "\n"
    "Resume (sdpp/2): the order (open-ended) runs until -n N items (default 0) came\n"
    "in, then the connection is cut and the order picked up on a new one:\n"
    "  resume PROD N [M]   N items, hang up, resume; then items up to M in all\n"
    "                      (default N), our exit and the statement   (none)\n"
    "  resume-forged PROD  a resume signed by another key            bad_signature\n"
    "  resume-foreign PROD a second buyer with an order of its own names ours\n"
    "                      (still connected) in a resume it signs     bad_signature\n"
    "  resume-replay PROD  resume (accepted), hang up, the same resume\n"
    "                      frame again                                stale_resume\n"
    "  resume-digest PROD  a resume whose digest is not the chain     bad_digest\n"
    "  resume-beyond PROD  a resume holding items never sent          bad_sequence\n"
    "                      (each of these five then resumes properly on a new\n"
    "                      connection and ends with our exit: the order is undisturbed)\n"
    "  resume-unknown [ORDER_ID]  a resume for ORDER_ID (64 hex; default a\n"
    "                      random one) as a new connection's first frame  unknown_order\n"
    "  resume-late PROD SECONDS  hang up, wait SECONDS, resume       unknown_order\n"
    "  resume-halfopen PROD  keep the first connection open, unread; resume on\n"
    "                      a second: accepted, and the seller closes the first;\n"
    "                      then our exit and the statement            (none)\n"
    "Each accepted resume prints `resumed seq=S sent=T dropped=D', each refusal\n"
    "`error CODE'; resume then prints `items K', resume-halfopen `old connection\n"
    "closed', both `exit ok' (or `failed') last. -w FILE waits (up to -t) for\n"
    "FILE to exist before the first resume; -o FILE writes each item received as\n"
    "a line `SEQ PAYLOAD' (control bytes as `.'); -P never pays; -1 speaks sdpp/1.\n"
    "\n"
    "-k KEY uses that sdpp key file as the buyer (default: a fresh identity) and\n"
    "declares its IOTA address as the order's payment_address; -a ADDRESS declares\n"
    "ADDRESS instead (somebody else's account).\n"
    "\n"
    "Prints one result line (`error CODE', plus counts for no-pay) and exits 0 when\n"
    "the seller answered with a correctly signed `error' of the expected code and\n"
    "then closed the connection; 1 otherwise; 2 on bad usage.\n";

/* One connection: the buyer machine and its framer. */
struct peer {
	int fd;
	struct sdpp_framer *fr;
	struct sdpp_buyer *b;
	struct sdpp_out out;
	char *buf; /* bytes read, not yet fed to the framer */
	size_t off, len;
	int eof;
	int pay; /* pay invoices (no-pay: never) */
	/* What the machine reported. */
	int menu, started, closed, statement;
	uint64_t items, invoices;
	uint64_t want_items; /* got is set once items reach it (0: never) */
	int got;
	int rejoined;                 /* the seller's `resumed` came */
	struct sdpp_resumed resumed;  /* its body */
	char code[SDPP_NAME_MAX + 1]; /* seller's error code, "" if none */
	enum sdpp_err close_err;
};

static const char *progname = "tool_hostile";
static uint8_t seller_pub[SDPP_SIGN_PUBLIC_BYTES];
static struct sdpp_identity *me;
/* pay-digest: the order's payment_address and the verification to send. */
static char pay_from[IOTA_ADDRESS_TEXT_LEN];
static const char *pay_digest;
static uint64_t deadline; /* whole run */
/* Resume scenarios: items before the cut (-n), a file to wait for before
 * resuming (-w); the hello's version (-1: sdpp/1). */
static uint64_t hold_items;
static const char *go_file;
static int hello_version = 2;
static FILE *items_out; /* -o: the items received, for the script to compare */
static int never_pay;   /* -P */

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int
remaining_ms(uint64_t until)
{
	uint64_t now = now_ms();

	if (until > deadline)
		until = deadline;
	return until <= now ? 0 : (int)(until - now);
}

static int
connect_to(const char *hostport)
{
	struct addrinfo hints, *res = NULL;
	struct util_hostport hp;
	char why[UTIL_HOST_MAX + 64];
	int fd, one = 1, rc;

	if (util_hostport_split(&hp, hostport, 0, why, sizeof(why)) != 0) {
		fprintf(stderr, "%s: %s\n", progname, why);
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	rc = getaddrinfo(hp.host, hp.port, &hints, &res);
	if (rc != 0) {
		fprintf(stderr, "%s: %s: %s\n", progname, hostport, gai_strerror(rc));
		return -1;
	}
	fd = socket(res->ai_family, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
		fprintf(stderr, "%s: connect %s: %s\n", progname, hostport, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(res);
		return -1;
	}
	freeaddrinfo(res);
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* A buyer machine (as id) on a new connection. */
static int
peer_open_as(struct peer *p, const char *hostport, const struct sdpp_identity *id)
{
	struct sdpp_buyer_config bc;

	memset(p, 0, sizeof(*p));
	p->pay = !never_pay;
	p->fd = connect_to(hostport);
	if (p->fd < 0)
		return -1;
	memset(&bc, 0, sizeof(bc));
	bc.id = id;
	bc.version = hello_version;
	memcpy(bc.seller, seller_pub, sizeof(bc.seller));
	memcpy(bc.payment_address, pay_from, sizeof(pay_from));
	p->fr = sdpp_framer_new(SDPP_FRAME_CAP_SESSION);
	p->buf = malloc(READ_BUF);
	sdpp_out_init(&p->out, SDPP_FRAME_CAP_MAX);
	if (p->fr == NULL || p->buf == NULL || sdpp_buyer_new(&p->b, &bc, now_ms()) != SDPP_OK) {
		fprintf(stderr, "%s: cannot set up a buyer\n", progname);
		return -1;
	}
	return 0;
}

static int
peer_open(struct peer *p, const char *hostport)
{
	return peer_open_as(p, hostport, me);
}

static void
peer_close(struct peer *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	sdpp_buyer_free(p->b);
	sdpp_framer_free(p->fr);
	sdpp_out_free(&p->out);
	free(p->buf);
	memset(p, 0, sizeof(*p));
	p->fd = -1;
}

static int
send_all(struct peer *p, const void *data, size_t len)
{
	const char *s = data;

	while (len > 0) {
		ssize_t n = write(p->fd, s, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			/* The seller may close before reading all of a hostile
			 * frame; what it answered is still to be read. */
			fprintf(stderr, "%s: write: %s\n", progname, strerror(errno));
			return -1;
		}
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * The next frame from the seller, waiting until `until` (ms): 1 with
 * *frame (valid until the next call), 0 at end of stream, -1 on a timeout
 * or an error.
 */
static int
next_frame(struct peer *p, uint64_t until, const char **frame, size_t *flen)
{
	enum sdpp_err e;

	for (;;) {
		e = sdpp_framer_next(p->fr, frame, flen);
		if (e == SDPP_OK)
			return 1;
		if (e != SDPP_E_AGAIN) {
			fprintf(stderr, "%s: from the seller: %s\n", progname, sdpp_strerror(e));
			return -1;
		}
		if (p->off < p->len) {
			size_t took = sdpp_framer_feed(p->fr, p->buf + p->off, p->len - p->off, &e);

			p->off += took;
			if (took == 0 && e == SDPP_E_NOMEM) {
				fprintf(stderr, "%s: out of memory\n", progname);
				return -1;
			}
			continue;
		}
		if (p->eof)
			return 0;
		{
			struct pollfd pf = { p->fd, POLLIN, 0 };
			int ms = remaining_ms(until), r;
			ssize_t n;

			r = poll(&pf, 1, ms);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				return -1;
			n = read(p->fd, p->buf, READ_BUF);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				/* A reset after the seller's last frame is an end too. */
				p->eof = 1;
				continue;
			}
			p->off = 0;
			p->len = (size_t)n;
		}
	}
}

/* -o: one line per item, its payload as text (a test's samples are). */
static void
item_write(const struct sdpp_item *it)
{
	size_t i;

	fprintf(items_out, "%" PRIu64 " ", it->seq);
	for (i = 0; i < it->payload_len; i++)
		fputc(it->payload[i] < 0x20 || it->payload[i] == 0x7f ? '.' : it->payload[i],
		    items_out);
	fputc('\n', items_out);
	fflush(items_out);
}

/* Writes what the machine produced and notes its events. */
static int
handle(struct peer *p)
{
	size_t i;

	for (i = 0; i < p->out.nev; i++) {
		const struct sdpp_event *ev = &p->out.ev[i];
		uint64_t req = ev->req;

		switch (ev->type) {
		case SDPP_EV_MENU:
			p->menu = 1;
			break;
		case SDPP_EV_STARTED:
			p->started = 1;
			break;
		case SDPP_EV_ITEM:
			/* Progress on stderr, for scripts that wait for it. */
			p->items++;
			fprintf(stderr, "%s: item %" PRIu64 "\n", progname, ev->item->seq);
			if (p->want_items != 0 && p->items >= p->want_items)
				p->got = 1;
			if (items_out != NULL)
				item_write(ev->item);
			break;
		case SDPP_EV_PAY:
			p->invoices++;
			if (p->pay)
				(void)sdpp_buyer_complete(p->b, req, 1,
				    pay_digest != NULL ? pay_digest : "", now_ms(), &p->out);
			break;
		case SDPP_EV_REJOINED:
			p->rejoined = 1;
			p->resumed = ev->msg->u.resumed;
			break;
		case SDPP_EV_STATEMENT:
			p->statement = 1;
			break;
		case SDPP_EV_PEER_ERROR:
			snprintf(p->code, sizeof(p->code), "%s", ev->msg->u.error.code);
			break;
		case SDPP_EV_CLOSE:
			p->closed = 1;
			p->close_err = ev->err;
			break;
		default:
			break;
		}
	}
	p->out.nev = 0;
	if (p->out.len > 0 && send_all(p, p->out.buf, p->out.len) != 0)
		return -1;
	p->out.len = 0;
	return 0;
}

/* Runs the buyer machine until *flag is set, the session closes or time is up. */
static int
drive(struct peer *p, const int *flag, uint64_t until)
{
	const char *frame;
	size_t flen;
	int r;

	while (!*flag && !p->closed) {
		r = next_frame(p, until, &frame, &flen);
		if (r <= 0) {
			if (r == 0)
				fprintf(stderr, "%s: the seller closed the connection\n", progname);
			else
				fprintf(
				    stderr, "%s: no answer from the seller in time\n", progname);
			return -1;
		}
		(void)sdpp_buyer_input(p->b, frame, flen, now_ms(), &p->out);
		if (handle(p) != 0)
			return -1;
	}
	return *flag ? 0 : -1;
}

static int
handshake_as(struct peer *p, const char *hostport, const struct sdpp_identity *id)
{
	if (peer_open_as(p, hostport, id) != 0)
		return -1;
	if (sdpp_buyer_start(p->b, now_ms(), &p->out) != SDPP_OK || handle(p) != 0)
		return -1;
	if (drive(p, &p->menu, deadline) != 0) {
		fprintf(stderr, "%s: no menu%s%s\n", progname, p->code[0] ? ": " : "", p->code);
		return -1;
	}
	return 0;
}

static int
handshake(struct peer *p, const char *hostport)
{
	return handshake_as(p, hostport, me);
}

/* Orders through the machine and waits for the session key. */
static int
order_and_start(
    struct peer *p, const char *product, uint64_t quantity, char **saved, size_t *savedlen)
{
	if (sdpp_buyer_order(p->b, product, quantity, now_ms(), &p->out) != SDPP_OK) {
		fprintf(stderr, "%s: cannot order `%s'\n", progname, product);
		return -1;
	}
	if (saved != NULL) {
		/* The order is the only frame the machine has produced since. */
		*saved = malloc(p->out.len);
		if (*saved == NULL)
			return -1;
		memcpy(*saved, p->out.buf, p->out.len);
		*savedlen = p->out.len;
	}
	if (handle(p) != 0)
		return -1;
	if (drive(p, &p->started, deadline) != 0) {
		fprintf(
		    stderr, "%s: no session key%s%s\n", progname, p->code[0] ? ": " : "", p->code);
		return -1;
	}
	return 0;
}

/*
 * Reads the seller's answer to something hostile: it must be one `error`
 * signed by the seller, and then the end of the connection. Fills code
 * ("" if no error came); returns 0 if the seller behaved like that.
 */
static int
expect_error(struct peer *p, char *code, size_t codecap)
{
	struct sdpp_verifier *v = NULL;
	const char *frame;
	size_t flen;
	char err[256];
	int r, rc = -1, after = 0;
	uint64_t until = deadline;

	code[0] = '\0';
	if (sdpp_verifier_new(&v, seller_pub) != SDPP_OK)
		return -1;
	while ((r = next_frame(p, until, &frame, &flen)) == 1) {
		struct sdpp_msg m;

		memset(&m, 0, sizeof(m));
		if (sdpp_msg_parse(&m, frame, flen, SDPP_ROLE_SELLER, err, sizeof(err)) !=
		    SDPP_OK) {
			fprintf(
			    stderr, "%s: unparsable frame from the seller: %s\n", progname, err);
			goto out;
		}
		if (code[0] != '\0') {
			fprintf(stderr, "%s: %s frame after the error\n", progname,
			    sdpp_type_name(m.type));
			after++;
		} else if (m.type != SDPP_T_ERROR) {
			fprintf(
			    stderr, "%s: got %s, not an error\n", progname, sdpp_type_name(m.type));
		} else if (sdpp_msg_verify(&m, v) != SDPP_OK) {
			fprintf(stderr, "%s: error %s is not signed by the seller\n", progname,
			    m.u.error.code);
			snprintf(code, codecap, "%s", m.u.error.code);
			sdpp_msg_free(&m);
			goto out;
		} else {
			snprintf(code, codecap, "%s", m.u.error.code);
			if (m.u.error.message[0] != '\0')
				fprintf(stderr, "%s: seller says: %s: %s\n", progname,
				    m.u.error.code, m.u.error.message);
			/* Now the seller must close. */
			until = now_ms() + CLOSE_WAIT_MS;
		}
		sdpp_msg_free(&m);
	}
	if (code[0] == '\0') {
		fprintf(stderr, "%s: %s without an error\n", progname,
		    r == 0 ? "connection closed" : "no answer in time");
		goto out;
	}
	if (r != 0) {
		fprintf(stderr, "%s: the seller did not close after its error\n", progname);
		goto out;
	}
	rc = after == 0 ? 0 : -1;
out:
	sdpp_verifier_free(v);
	return rc;
}

/* An order the machine would never send: any product, any signature. */
static int
craft_order(const struct sdpp_menu *m, const char *product, uint64_t price, int corrupt,
    char **frame, size_t *len)
{
	struct sdpp_msg msg;
	char *sig;

	memset(&msg, 0, sizeof(msg));
	msg.type = SDPP_T_ORDER;
	msg.from = SDPP_ROLE_BUYER;
	snprintf(msg.u.order.product, sizeof(msg.u.order.product), "%s", product);
	msg.u.order.quantity = 1;
	msg.u.order.price = price;
	snprintf(msg.u.order.currency, sizeof(msg.u.order.currency), "%s", m->currency);
	sdpp_identity_sign_public(me, msg.u.order.buyer);
	sdpp_identity_enc_public(me, msg.u.order.enc_key);
	if (sdpp_random(msg.u.order.nonce, sizeof(msg.u.order.nonce)) != SDPP_OK)
		return -1;
	msg.u.order.time = (int64_t)now_ms();
	/* The member set of the menu's version: a refusal for the product or
	 * signature, not for an sdpp/1 order in an sdpp/2 session. */
	msg.u.order.version = strcmp(m->version, SDPP_VERSION_2) == 0 ? 2 : 1;
	if (sdpp_msg_encode(&msg, me, frame, len) != SDPP_OK)
		return -1;
	if (corrupt) {
		/* Change one base64 digit in the middle: still a well-formed
		 * 64-byte signature, just not a valid one. */
		sig = strstr(*frame, "\"signature\":\"");
		if (sig == NULL)
			return -1;
		sig += strlen("\"signature\":\"") + 10;
		*sig = *sig == 'A' ? 'B' : 'A';
	}
	return 0;
}

static const struct sdpp_product *
menu_product(const struct sdpp_menu *m, const char *id)
{
	size_t i;

	for (i = 0; i < m->nproducts; i++)
		if (strcmp(m->products[i].id, id) == 0)
			return &m->products[i];
	fprintf(stderr, "%s: no product `%s' on the menu\n", progname, id);
	return NULL;
}

static int
read_file(const char *path, char **data, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;

	if (f == NULL) {
		fprintf(stderr, "%s: %s: %s\n", progname, path, strerror(errno));
		return -1;
	}
	buf = malloc(SDPP_FRAME_CAP_HANDSHAKE + 2);
	if (buf == NULL) {
		fclose(f);
		return -1;
	}
	n = fread(buf, 1, SDPP_FRAME_CAP_HANDSHAKE + 1, f);
	fclose(f);
	*data = buf;
	*len = n;
	return 0;
}

static int
write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "%s: %s: %s\n", progname, path, strerror(errno));
		return -1;
	}
	return 0;
}

static int
load_seller_key(const char *arg)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	if (strlen(arg) == 64 && strspn(arg, "0123456789abcdefABCDEF") == 64)
		return sdpp_sign_public_parse(seller_pub, arg, 64) == SDPP_OK ? 0 : -1;
	if (read_file(arg, &text, &len) != 0)
		return -1;
	rc = sdpp_sign_public_parse(seller_pub, text, len) == SDPP_OK ? 0 : -1;
	if (rc != 0)
		fprintf(stderr, "%s: %s: not a public key\n", progname, arg);
	free(text);
	return rc;
}

static int
parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > 9007199254740991ULL)
		return -1;
	*out = v;
	return 0;
}

/* Sends frame (with its '\n') where the protocol does not allow it, reads the answer. */
static int
inject(struct peer *p, const char *frame, size_t len, char *code, size_t codecap)
{
	/* A write may fail once the seller has answered and closed: the
	 * answer is what counts. */
	(void)send_all(p, frame, len);
	return expect_error(p, code, codecap);
}

/* ---------------------------------------------------------------- resume */

/* Runs the machine until it has received n items in all. */
static int
receive_items(struct peer *p, uint64_t n)
{
	int r;

	if (p->items >= n)
		return 0;
	p->want_items = n;
	p->got = 0;
	r = drive(p, &p->got, deadline);
	p->want_items = 0;
	if (r != 0)
		fprintf(stderr, "%s: %" PRIu64 " of %" PRIu64 " items\n", progname, p->items, n);
	return r;
}

/* An open-ended order of product that has received hold_items items. */
static int
order_running(
    struct peer *p, const char *hostport, const char *product, const struct sdpp_identity *id)
{
	if (handshake_as(p, hostport, id) != 0 || order_and_start(p, product, 0, NULL, NULL) != 0)
		return -1;
	return receive_items(p, hold_items);
}

/* The buyer's side of a dropped connection: a bare close; what was not
 * read yet is lost. The machine stays, for a resume. */
static void
hang_up(struct peer *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
}

/* A new connection (and framer) for the same machine. */
static int
reconnect(struct peer *p, const char *hostport)
{
	hang_up(p);
	sdpp_framer_free(p->fr);
	p->fr = sdpp_framer_new(SDPP_FRAME_CAP_SESSION);
	p->off = p->len = 0;
	p->eof = 0;
	p->code[0] = '\0';
	if (p->fr == NULL)
		return -1;
	p->fd = connect_to(hostport);
	return p->fd >= 0 ? 0 : -1;
}

/* -w: waits, up to the deadline, for the script's go-ahead (a file). */
static int
wait_go(void)
{
	const struct timespec tick = { 0, 20 * 1000000 };

	while (go_file != NULL && access(go_file, F_OK) != 0) {
		if (remaining_ms(deadline) == 0) {
			fprintf(stderr, "%s: no %s in time\n", progname, go_file);
			return -1;
		}
		nanosleep(&tick, NULL);
	}
	return 0;
}

/* The machine's resume of its order (its next attempt), copied out
 * unsent: *frame (with its '\n') is the caller's to free. */
static int
resume_frame(struct peer *p, char **frame, size_t *len)
{
	*frame = NULL;
	if (sdpp_buyer_resume(p->b, now_ms(), &p->out) != SDPP_OK || p->out.len == 0) {
		fprintf(stderr, "%s: the buyer machine does not resume this order\n", progname);
		sdpp_out_clear(&p->out);
		return -1;
	}
	*frame = malloc(p->out.len);
	if (*frame != NULL) {
		memcpy(*frame, p->out.buf, p->out.len);
		*len = p->out.len;
	}
	sdpp_out_clear(&p->out);
	return *frame != NULL ? 0 : -1;
}

/*
 * On a new connection, the machine's resume (a copy in *keep if keep is
 * not NULL, for the caller to free); 0 once the seller answered `resumed',
 * which is printed.
 */
static int
resume_accepted(struct peer *p, const char *hostport, char **keep, size_t *keeplen)
{
	char *frame = NULL;
	size_t len = 0;
	int rc = -1;

	p->rejoined = 0;
	if (reconnect(p, hostport) != 0 || resume_frame(p, &frame, &len) != 0)
		goto out;
	if (send_all(p, frame, len) != 0 || drive(p, &p->rejoined, deadline) != 0) {
		fprintf(stderr, "%s: resume not accepted%s%s\n", progname, p->code[0] ? ": " : "",
		    p->code);
		goto out;
	}
	printf("resumed seq=%" PRIu64 " sent=%" PRIu64 " dropped=%" PRIu64 "\n", p->resumed.seq,
	    p->resumed.sent, p->resumed.dropped);
	fflush(stdout);
	if (keep != NULL) {
		*keep = frame;
		*keeplen = len;
		frame = NULL;
	}
	rc = 0;
out:
	free(frame);
	return rc;
}

/* Ends the order with the machine's exit: 0 once the statement came and
 * the seller closed the connection. */
static int
exit_clean(struct peer *p)
{
	const char *f;
	size_t fl;
	int r;

	if (sdpp_buyer_exit(p->b, now_ms(), &p->out) != SDPP_OK || handle(p) != 0 ||
	    drive(p, &p->statement, deadline) != 0) {
		fprintf(stderr, "%s: no statement after our exit%s%s\n", progname,
		    p->code[0] ? ": " : "", p->code);
		return -1;
	}
	while ((r = next_frame(p, now_ms() + CLOSE_WAIT_MS, &f, &fl)) == 1)
		;
	if (r != 0) {
		fprintf(stderr, "%s: the seller did not close after its statement\n", progname);
		return -1;
	}
	return 0;
}

/*
 * The machine's resume (frame) changed as `how` says ("digest": not the
 * chain; "beyond": items never sent; "": as it is) and signed by signer:
 * *out (with '\n') is the caller's to free.
 */
static int
resume_craft(const char *frame, size_t len, const char *how, const struct sdpp_identity *signer,
    char **out, size_t *outlen)
{
	struct sdpp_msg m;
	char err[256];
	int rc;

	memset(&m, 0, sizeof(m));
	if (sdpp_msg_parse(&m, frame, len - 1, SDPP_ROLE_BUYER, err, sizeof(err)) != SDPP_OK) {
		fprintf(stderr, "%s: our own resume does not parse: %s\n", progname, err);
		return -1;
	}
	if (strcmp(how, "digest") == 0)
		m.u.resume.digest[0] ^= 1;
	else if (strcmp(how, "beyond") == 0)
		m.u.resume.seq += 1000000;
	rc = sdpp_msg_encode(&m, signer, out, outlen) == SDPP_OK ? 0 : -1;
	sdpp_msg_free(&m);
	return rc;
}

/* frame as a new connection's first frame: the seller must answer with
 * a signed error (printed) and close. */
static int
resume_refused(const char *hostport, const char *frame, size_t len, char *code, size_t codecap)
{
	struct peer q;
	int rc = -1;

	memset(&q, 0, sizeof(q));
	q.fd = -1;
	code[0] = '\0';
	if (peer_open(&q, hostport) == 0)
		rc = inject(&q, frame, len, code, codecap);
	printf("error %s\n", code[0] != '\0' ? code : "none");
	fflush(stdout);
	peer_close(&q);
	return rc;
}

/* A resume of an order we never ran here (seq 0): ORDER_ID or a random id. */
static int
resume_of(const char *hex, char **frame, size_t *len)
{
	struct sdpp_msg m;

	memset(&m, 0, sizeof(m));
	m.type = SDPP_T_RESUME;
	m.from = SDPP_ROLE_BUYER;
	if (hex != NULL ? sdpp_hex_decode(m.u.resume.order_id, SDPP_ORDER_ID_BYTES, hex) != SDPP_OK
	                : sdpp_random(m.u.resume.order_id, SDPP_ORDER_ID_BYTES) != SDPP_OK)
		return -1;
	m.u.resume.attempt = 1;
	if (sdpp_chain_init(m.u.resume.digest, m.u.resume.order_id) != SDPP_OK)
		return -1;
	return sdpp_msg_encode(&m, me, frame, len) == SDPP_OK ? 0 : -1;
}

/* The seller closes fd (an end or a reset) within CLOSE_WAIT_MS; what it
 * had sent there is read and dropped. */
static int
closed_by_seller(int fd)
{
	char buf[4096];
	uint64_t until = now_ms() + CLOSE_WAIT_MS;

	for (;;) {
		struct pollfd pf = { fd, POLLIN, 0 };
		int r = poll(&pf, 1, remaining_ms(until));
		ssize_t n;

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;
	}
}

/* The resume-* scenarios: prints their lines; returns the exit status. */
static int
run_resume(const char *hostport, const char *scenario, int argc, char **argv, const char *want)
{
	struct peer p, q;
	struct sdpp_identity *other = NULL;
	char code[SDPP_NAME_MAX + 1] = "", *frame = NULL, *bad = NULL;
	size_t len = 0, badlen = 0;
	uint64_t n = 0, total = 0;
	int rc = 1, oldfd = -1;

	memset(&p, 0, sizeof(p));
	memset(&q, 0, sizeof(q));
	p.fd = q.fd = -1;
	if (strcmp(scenario, "resume") == 0 && (argc == 2 || argc == 3) &&
	    parse_u64(argv[1], &n) == 0 && (argc == 2 || parse_u64(argv[2], &total) == 0)) {
		/* N items, the cut, the resume, then items up to M and our exit. */
		hold_items = n;
		if (argc == 2 || total < n)
			total = n;
		if (order_running(&p, hostport, argv[0], me) == 0) {
			hang_up(&p);
			if (wait_go() == 0 && resume_accepted(&p, hostport, NULL, NULL) == 0 &&
			    receive_items(&p, total) == 0) {
				printf("items %" PRIu64 "\n", p.items);
				rc = exit_clean(&p) == 0 ? 0 : 1;
			}
		}
		printf("%s\n", rc == 0 ? "exit ok" : "failed");
		goto out;
	}
	if (strcmp(scenario, "resume-halfopen") == 0 && argc == 1) {
		if (order_running(&p, hostport, argv[0], me) == 0 && wait_go() == 0) {
			/* The old socket stays open, unread: to the seller, alive. */
			oldfd = p.fd;
			p.fd = -1;
			if (resume_accepted(&p, hostport, NULL, NULL) == 0) {
				int shut = closed_by_seller(oldfd);

				printf("old connection %s\n", shut == 0 ? "closed" : "still open");
				if (shut == 0 && exit_clean(&p) == 0)
					rc = 0;
			}
		}
		printf("%s\n", rc == 0 ? "exit ok" : "failed");
		goto out;
	}
	if (strcmp(scenario, "resume-unknown") == 0 && argc <= 1) {
		if (resume_of(argc == 1 ? argv[0] : NULL, &frame, &len) != 0) {
			fputs(usage_text, stderr);
			rc = 2;
			goto out;
		}
		if (resume_refused(hostport, frame, len, code, sizeof(code)) == 0)
			rc = 0;
	} else if (strcmp(scenario, "resume-late") == 0 && argc == 2 &&
	           parse_u64(argv[1], &n) == 0) {
		if (order_running(&p, hostport, argv[0], me) == 0) {
			const struct timespec pause = { (time_t)n, 0 };

			hang_up(&p);
			nanosleep(&pause, NULL);
			if (wait_go() == 0 && reconnect(&p, hostport) == 0 &&
			    resume_frame(&p, &frame, &len) == 0 &&
			    inject(&p, frame, len, code, sizeof(code)) == 0)
				rc = 0;
			printf("error %s\n", code[0] != '\0' ? code : "none");
		}
	} else if (strcmp(scenario, "resume-replay") == 0 && argc == 1) {
		/* Accepted once; the same frame again is a replay. */
		if (order_running(&p, hostport, argv[0], me) == 0) {
			hang_up(&p);
			if (wait_go() == 0 && resume_accepted(&p, hostport, &frame, &len) == 0) {
				hang_up(&p);
				if (resume_refused(hostport, frame, len, code, sizeof(code)) == 0 &&
				    resume_accepted(&p, hostport, NULL, NULL) == 0 &&
				    exit_clean(&p) == 0)
					rc = 0;
			}
		}
	} else if ((strcmp(scenario, "resume-forged") == 0 ||
	               strcmp(scenario, "resume-foreign") == 0 ||
	               strcmp(scenario, "resume-digest") == 0 ||
	               strcmp(scenario, "resume-beyond") == 0) &&
	           argc == 1) {
		const char *how = scenario + strlen("resume-");
		int foreign = strcmp(how, "foreign") == 0;

		if (sdpp_identity_generate(&other) != SDPP_OK)
			goto out;
		/* resume-foreign: the other key is a buyer here too, with an
		 * order of its own running while it names ours, whose
		 * connection is still up: a refusal must not end it. */
		if (order_running(&p, hostport, argv[0], me) == 0 &&
		    (!foreign || order_running(&q, hostport, argv[0], other) == 0)) {
			if (!foreign)
				hang_up(&p);
			if (wait_go() == 0 && resume_frame(&p, &frame, &len) == 0 &&
			    resume_craft(frame, len, how,
			        strcmp(how, "forged") == 0 || foreign ? other : me, &bad,
			        &badlen) == 0 &&
			    resume_refused(hostport, bad, badlen, code, sizeof(code)) == 0 &&
			    resume_accepted(&p, hostport, NULL, NULL) == 0 && exit_clean(&p) == 0 &&
			    (!foreign || exit_clean(&q) == 0))
				rc = 0;
		}
	} else {
		fputs(usage_text, stderr);
		rc = 2;
		goto out;
	}
	if (want == NULL)
		want = strcmp(scenario, "resume-forged") == 0 ||
		               strcmp(scenario, "resume-foreign") == 0
		           ? "bad_signature"
		       : strcmp(scenario, "resume-replay") == 0 ? "stale_resume"
		       : strcmp(scenario, "resume-digest") == 0 ? "bad_digest"
		       : strcmp(scenario, "resume-beyond") == 0 ? "bad_sequence"
		                                                : "unknown_order";
	if (rc == 0 && strcmp(code, want) != 0) {
		fprintf(stderr, "%s: expected %s\n", progname, want);
		rc = 1;
	}
out:
	if (oldfd >= 0)
		close(oldfd);
	free(frame);
	free(bad);
	peer_close(&p);
	peer_close(&q);
	sdpp_identity_free(other);
	return rc;
}

int
main(int argc, char **argv)
{
	struct peer p, q;
	const char *hostport, *scenario, *want = NULL;
	const struct sdpp_menu *menu;
	const struct sdpp_product *pr;
	char code[SDPP_NAME_MAX + 1] = "", *frame = NULL;
	size_t len = 0;
	uint64_t seconds = 20, n;
	const char *keypath = NULL, *claim = NULL;
	int i = 1, ok = -1;

	memset(&p, 0, sizeof(p));
	memset(&q, 0, sizeof(q));
	p.fd = q.fd = -1;
	while (i < argc && argv[i][0] == '-') {
		if (strcmp(argv[i], "-t") == 0 && i + 1 < argc &&
		    parse_u64(argv[i + 1], &seconds) == 0)
			i += 2;
		else if (strcmp(argv[i], "-e") == 0 && i + 1 < argc) {
			want = argv[i + 1];
			i += 2;
		} else if (strcmp(argv[i], "-k") == 0 && i + 1 < argc) {
			keypath = argv[i + 1];
			i += 2;
		} else if (strcmp(argv[i], "-a") == 0 && i + 1 < argc) {
			claim = argv[i + 1];
			i += 2;
		} else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc &&
		           parse_u64(argv[i + 1], &hold_items) == 0) {
			i += 2;
		} else if (strcmp(argv[i], "-w") == 0 && i + 1 < argc) {
			go_file = argv[i + 1];
			i += 2;
		} else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc && items_out == NULL) {
			items_out = fopen(argv[i + 1], "w");
			if (items_out == NULL) {
				fprintf(
				    stderr, "%s: %s: %s\n", progname, argv[i + 1], strerror(errno));
				return 2;
			}
			i += 2;
		} else if (strcmp(argv[i], "-P") == 0) {
			never_pay = 1;
			i++;
		} else if (strcmp(argv[i], "-1") == 0) {
			hello_version = 1;
			i++;
		} else {
			fputs(usage_text, stderr);
			return 2;
		}
	}
	if (argc - i < 3) {
		fputs(usage_text, stderr);
		return 2;
	}
	hostport = argv[i];
	scenario = argv[i + 2];
	argv += i + 3;
	argc -= i + 3;
	if (load_seller_key(argv[-2]) != 0)
		return 2;
	if (keypath != NULL) {
		char *pem = NULL, kerr[4352];
		size_t pemlen = 0;
		uint8_t pub[SDPP_SIGN_PUBLIC_BYTES], addr[IOTA_ADDRESS_BYTES];

		if (keyfile_read(keypath, &pem, &pemlen, kerr, sizeof(kerr)) != 0 ||
		    sdpp_identity_from_pem(&me, pem, pemlen) != SDPP_OK) {
			fprintf(stderr, "%s: -k %s: not a usable key file\n", progname, keypath);
			sdpp_secret_free(pem, pemlen);
			return 2;
		}
		sdpp_secret_free(pem, pemlen);
		sdpp_identity_sign_public(me, pub);
		if (iota_address_from_public(addr, pub) != IOTA_OK)
			return 1;
		iota_address_format(pay_from, addr);
	} else if (sdpp_identity_generate(&me) != SDPP_OK) {
		return 1;
	}
	if (claim != NULL)
		snprintf(pay_from, sizeof(pay_from), "%s", claim);
	deadline = now_ms() + seconds * 1000;

	if (strncmp(scenario, "resume", strlen("resume")) == 0) {
		ok = run_resume(hostport, scenario, argc, argv, want);
		sdpp_identity_free(me);
		return ok;
	}
	if (strcmp(scenario, "silent") == 0 && argc == 0) {
		if (want == NULL)
			want = "handshake_timeout";
		if (peer_open(&p, hostport) == 0)
			ok = expect_error(&p, code, sizeof(code));
	} else if (strcmp(scenario, "raw") == 0 && argc == 1) {
		if (want == NULL)
			want = "bad_json";
		len = strlen(argv[0]);
		frame = malloc(len + 2);
		if (frame != NULL && handshake(&p, hostport) == 0) {
			memcpy(frame, argv[0], len);
			frame[len++] = '\n';
			ok = inject(&p, frame, len, code, sizeof(code));
		}
	} else if (strcmp(scenario, "oversized") == 0 && argc == 0) {
		if (want == NULL)
			want = "frame_too_large";
		len = OVERSIZED_BYTES;
		frame = malloc(len);
		if (frame != NULL && handshake(&p, hostport) == 0) {
			/* No line feed: the seller must not wait for one. */
			memset(frame, 'x', len);
			ok = inject(&p, frame, len, code, sizeof(code));
		}
	} else if (strcmp(scenario, "unknown-product") == 0 && argc == 0) {
		if (want == NULL)
			want = "unknown_product";
		if (handshake(&p, hostport) == 0) {
			menu = sdpp_buyer_menu(p.b);
			if (craft_order(menu, "no-such-product",
			        menu->nproducts > 0 ? menu->products[0].price : 1, 0, &frame,
			        &len) == 0)
				ok = inject(&p, frame, len, code, sizeof(code));
		}
	} else if (strcmp(scenario, "bad-signature") == 0 && argc == 1) {
		if (want == NULL)
			want = "bad_signature";
		if (handshake(&p, hostport) == 0) {
			menu = sdpp_buyer_menu(p.b);
			pr = menu_product(menu, argv[0]);
			if (pr != NULL &&
			    craft_order(menu, pr->id, pr->price, 1, &frame, &len) == 0)
				ok = inject(&p, frame, len, code, sizeof(code));
		}
	} else if (strcmp(scenario, "save-order") == 0 && argc == 2) {
		if (handshake(&p, hostport) == 0 &&
		    order_and_start(&p, argv[1], 0, &frame, &len) == 0 &&
		    write_file(argv[0], frame, len) == 0) {
			char hex[SDPP_HEX_LEN(SDPP_ORDER_ID_BYTES)];

			sdpp_hex_encode(hex, sdpp_buyer_order_id(p.b), SDPP_ORDER_ID_BYTES);
			printf("started %s\n", hex);
			/* A bare close: nothing settled, the order stays recorded. */
			peer_close(&p);
			free(frame);
			sdpp_identity_free(me);
			return 0;
		}
		printf("failed\n");
		free(frame);
		peer_close(&p);
		sdpp_identity_free(me);
		return 1;
	} else if (strcmp(scenario, "buyer-error") == 0 && argc == 2) {
		struct sdpp_out o;
		const char *f;
		size_t fl;
		int r = -1;

		/* A buyer ends its order with an error (over its budget, say);
		 * whatever was in flight may still come, then the close. */
		sdpp_out_init(&o, 4096);
		if (handshake(&p, hostport) == 0 &&
		    order_and_start(&p, argv[0], 0, NULL, NULL) == 0 &&
		    sdpp_out_add_error(&o, sdpp_err_from_code(argv[1]), "ended by tool_hostile", me,
		        SDPP_ROLE_BUYER) == SDPP_OK &&
		    send_all(&p, o.buf, o.len) == 0)
			while ((r = next_frame(&p, deadline, &f, &fl)) == 1)
				;
		printf("%s\n", r == 0 ? "closed" : "not closed");
		sdpp_out_free(&o);
		peer_close(&p);
		sdpp_identity_free(me);
		return r == 0 ? 0 : 1;
	} else if (strcmp(scenario, "replay-order") == 0 && argc == 1) {
		if (want == NULL)
			want = "bad_order_id";
		if (read_file(argv[0], &frame, &len) == 0 && handshake(&p, hostport) == 0)
			ok = inject(&p, frame, len, code, sizeof(code));
	} else if (strcmp(scenario, "foreign-ack") == 0 && argc == 1) {
		if (want == NULL)
			want = "bad_order_id";
		/* One buyer identity, two orders: the ACK is correctly signed,
		 * it just names the other order. */
		if (handshake(&q, hostport) == 0 &&
		    order_and_start(&q, argv[0], 0, NULL, NULL) == 0 &&
		    handshake(&p, hostport) == 0 &&
		    order_and_start(&p, argv[0], 0, NULL, NULL) == 0) {
			struct sdpp_msg m;

			memset(&m, 0, sizeof(m));
			m.type = SDPP_T_ACK;
			m.from = SDPP_ROLE_BUYER;
			memcpy(m.u.ack.order_id, sdpp_buyer_order_id(q.b), SDPP_ORDER_ID_BYTES);
			m.u.ack.seq = 1;
			if (sdpp_chain_init(m.u.ack.digest, sdpp_buyer_order_id(q.b)) == SDPP_OK &&
			    sdpp_msg_encode(&m, me, &frame, &len) == SDPP_OK)
				ok = inject(&p, frame, len, code, sizeof(code));
		}
	} else if (strcmp(scenario, "no-pay") == 0 && argc == 2 && parse_u64(argv[1], &n) == 0) {
		if (want == NULL)
			want = "payment_timeout";
		if (handshake(&p, hostport) == 0) {
			uint64_t max_unpaid = sdpp_buyer_menu(p.b)->max_unpaid;
			int never = 0;

			p.pay = 0;
			if (order_and_start(&p, argv[0], n, NULL, NULL) == 0) {
				/* Items and invoices flow until the seller gives up. */
				(void)drive(&p, &never, deadline);
				snprintf(code, sizeof(code), "%s", p.code);
				printf(
				    "items %" PRIu64 " invoices %" PRIu64 " ", p.items, p.invoices);
				ok = p.code[0] != '\0' && p.items <= max_unpaid ? 0 : -1;
				if (p.items > max_unpaid)
					fprintf(stderr,
					    "%s: %" PRIu64 " unpaid items, max_unpaid is %" PRIu64
					    "\n",
					    progname, p.items, max_unpaid);
			}
		}
	} else if (strcmp(scenario, "pay-digest") == 0 && argc == 3 &&
	           parse_u64(argv[1], &n) == 0) {
		if (want == NULL)
			want = "payment_rejected";
		pay_digest = argv[2];
		if (handshake(&p, hostport) == 0 &&
		    order_and_start(&p, argv[0], n, NULL, NULL) == 0) {
			int never = 0;

			(void)drive(&p, &never, deadline);
			snprintf(code, sizeof(code), "%s", p.code);
			printf("items %" PRIu64 " invoices %" PRIu64 " ", p.items, p.invoices);
			ok = p.code[0] != '\0' ? 0 : -1;
		}
	} else {
		fputs(usage_text, stderr);
		return 2;
	}
	printf("error %s\n", code[0] != '\0' ? code : "none");
	if (ok == 0 && strcmp(code, want) != 0) {
		fprintf(stderr, "%s: expected %s\n", progname, want);
		ok = -1;
	}
	free(frame);
	peer_close(&p);
	peer_close(&q);
	sdpp_identity_free(me);
	return ok == 0 ? 0 : 1;
}
