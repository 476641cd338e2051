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
    "usage: tool_hostile [-t SECONDS] [-e CODE] HOST:PORT SELLER_KEY SCENARIO [ARGS]\n"
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
	int menu, started, closed;
	uint64_t items, invoices;
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

static int
peer_open(struct peer *p, const char *hostport)
{
	struct sdpp_buyer_config bc;

	memset(p, 0, sizeof(*p));
	p->pay = 1;
	p->fd = connect_to(hostport);
	if (p->fd < 0)
		return -1;
	memset(&bc, 0, sizeof(bc));
	bc.id = me;
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
			break;
		case SDPP_EV_PAY:
			p->invoices++;
			if (p->pay)
				(void)sdpp_buyer_complete(p->b, req, 1,
				    pay_digest != NULL ? pay_digest : "", now_ms(), &p->out);
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
handshake(struct peer *p, const char *hostport)
{
	if (peer_open(p, hostport) != 0)
		return -1;
	if (sdpp_buyer_start(p->b, now_ms(), &p->out) != SDPP_OK || handle(p) != 0)
		return -1;
	if (drive(p, &p->menu, deadline) != 0) {
		fprintf(stderr, "%s: no menu%s%s\n", progname, p->code[0] ? ": " : "", p->code);
		return -1;
	}
	return 0;
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
