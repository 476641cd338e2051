/* `sdpp menu` and `sdpp buy`: read a gateway's signed menu, buy a stream, pay, settle. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/common.h"
#include "cli/menu.h"
#include "cli/mqtt_out.h"
#include "cli/net.h"
#include "cli/sdpp.h"
#include "mqtt/mqtt.h"
#include "sdpp/crypto.h"
#include "sdpp/enc.h"
#include "sdpp/framer.h"
#include "sdpp/receipt.h"
#include "sdpp/session.h"
#include "tangle/tangle.h"
#include "util/keyfile.h"
#include "util/text.h"

#define CONNECT_TIMEOUT_MS 10000
#define WRITE_TIMEOUT_MS 30000
/* At the end, an IOTA transfer under way gets this long to finish. */
#define PAY_DRAIN_MS 60000
/* After exit (or Ctrl-C), wait this long for the seller's statement. */
#define SETTLE_TIMEOUT_MS 10000
/* A write to the seller failed: what it said before closing may still be
 * unread in our socket (an ack_timeout while we were stopped); read this
 * long and this much for a signed error before blaming the write. */
#define DRAIN_MS 1000
#define DRAIN_BYTES_MAX (4u * 1024 * 1024)
/* Resume after a dropped connection (sdpp/2): the first attempt after
 * RESUME_FIRST_MS, each wait then twice the last, up to RESUME_MAX_MS;
 * --resume-for's default is the gateway's default resume_timeout. */
#define RESUME_FIRST_MS 200
#define RESUME_MAX_MS 10000
#define RESUME_FOR_DEFAULT_S 60
#define RESUME_FOR_MAX_S 86400

/* Set by SIGINT/SIGTERM: stop buying, settle, leave. */
static volatile sig_atomic_t interrupted;

static void
on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

struct client {
	int fd;
	struct net_tls *tls; /* tls:// or --tls; NULL: plain TCP */
	int spoke;           /* the seller's first bytes were read */
	struct sdpp_framer *framer;
	struct sdpp_buyer *b;
	struct sdpp_out out;
	struct sdpp_identity *id;
	int closed;
	enum sdpp_err close_err;
	char peer_code[SDPP_NAME_MAX + 1];
	char peer_message[SDPP_TEXT_MAX + 1];
	char own_message[SDPP_TEXT_MAX + 1]; /* the text of the error we sent, if any */
	/* The connection ended under the session: why, as it will be told if
	 * the seller left no signed error behind. */
	int lost;
	char lost_why[640];
	int write_failed;               /* then frames only go to drain_frame() */
	uint64_t drain_until;           /* after a failed write: read on until then */
	size_t drained;                 /* ... or this much */
	struct sdpp_verifier *verifier; /* the seller key, for drain_frame() */
};

/* What buy does with events; menu uses none of the item/pay parts. */
struct buyer_ctx {
	struct client *cl;
	const char *cmd; /* "sdpp menu" or "sdpp buy", for messages */
	FILE *out;
	struct mqtt_out *mqtt;
	const char *prefix;
	int mqtt_qos;
	const char *product;
	const char *topic; /* --topic: an MQTT filter within the product's; NULL: all of it */
	uint64_t count;
	int want_menu; /* print the menu and stop (sdpp menu) */
	int json;
	const char *filter;     /* sdpp menu --filter: products shown */
	int ask;                /* no --product: show the menu, read the order from stdin */
	int progress;           /* stderr is a terminal, and no -q */
	int quiet;              /* -q: errors only */
	int verbose;            /* -v: each invoice and payment too */
	const char *seller_key; /* --seller-key as given, to name a wrong one */
	uint64_t budget;        /* --budget, 0: none */
	int budget_stop;        /* the budget ended the order (exit sent) */
	int prepay;             /* the ordered product is paid before delivery */
	uint64_t items, invoices, paid, anchors;
	int have_statement;
	struct sdpp_statement st;
	char *st_frame; /* the statement frame as received, for --receipt (malloc'd) */
	size_t st_len;
	const char *currency;
	int ordered;
	int started; /* the session key came: the order runs */
	int failed;  /* a CLI_EXIT_ status once something failed, said on stderr */
	/* IOTA payments (--iota): one transfer per invoice, on the network
	 * the menu's method names; the client is made once the menu is in. */
	int want_iota;
	const char *iota_net; /* --iota NET: must match the menu; NULL: the menu's */
	const char *iota_url;
	uint64_t max_gas;
	struct sdpp_identity *id;
	struct event_base *base;
	struct tangle *iota;
	uint64_t paid_onchain; /* nanos transferred so far in this order */
	int paying;            /* a transfer is under way */
	uint64_t pay_req;
	uint64_t pay_total; /* total_due of the invoice being paid */
	int tls;            /* tls://, --tls or --cafile */
	const char *cafile; /* --cafile; NULL: the system store */
	/* Resume (sdpp/2, PROTOCOL.md 15.6): when the connection under a
	 * running order drops, connect to hostport again and take the order
	 * back, for at most resume_for_ms from the drop. */
	const char *hostport;
	int no_resume;          /* --no-resume, --resume-for 0, sdpp menu */
	uint64_t resume_for_ms; /* --resume-for */
	int outage;             /* dropped, `resumed' not yet in */
	int detached;           /* ... and no connection now: waiting to retry */
	int resuming;           /* a resume sent on this connection, no answer yet */
	uint64_t outage_since;  /* mono_ms() of the drop */
	uint64_t next_try;      /* mono_ms() of the next attempt */
	uint64_t backoff_ms;    /* the wait before the attempt after next */
	unsigned attempt;       /* attempts in this outage */
	int exit_asked;         /* Ctrl-C: the session was told to exit */
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* For the resume's backoff and window: immune to clock steps. */
static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int handle(struct buyer_ctx *x, uint64_t now);

/* A transfer for an invoice has ended: tell the session. */
static void
on_paid(void *arg, const struct tangle_sent *s)
{
	struct buyer_ctx *x = arg;
	uint64_t now = now_ms();
	int ok = s->status == TANGLE_OK;

	x->paying = 0;
	if (s->status == TANGLE_E_CANCELLED) {
		/* Leaving: the session is over; say what may have been sent. */
		fprintf(stderr, "sdpp buy: IOTA payment %s\n", s->error);
		return;
	}
	if (x->cl->closed) {
		/* The session ended while the transfer ran: nobody to tell. */
		fprintf(stderr, "sdpp buy: IOTA payment %s after the session ended: %s\n",
		    ok ? "made" : "failed", ok ? s->digest : s->error);
		return;
	}
	if (ok) {
		x->paid_onchain = x->pay_total;
		x->paid = x->pay_total;
		if (x->progress)
			fprintf(stderr, "\npaid %" PRIu64 " nanos in total: %s\n", x->pay_total,
			    s->digest);
	} else {
		fprintf(stderr, "sdpp buy: IOTA payment failed: %s\n", s->error);
	}
	(void)sdpp_buyer_complete(x->cl->b, x->pay_req, ok, ok ? s->digest : "", now, &x->cl->out);
	(void)handle(x, now);
}

/* Pays what the invoice adds to the total with a transfer to the menu's
 * payment_address. */
static int
pay_iota(struct buyer_ctx *x, const struct sdpp_event *ev)
{
	const struct sdpp_menu *m = sdpp_buyer_menu(x->cl->b);
	uint8_t to[IOTA_ADDRESS_BYTES];
	uint64_t due = ev->invoice->total_due;

	if (m == NULL || iota_address_parse(to, m->payment_address) != 0) {
		fprintf(stderr, "sdpp buy: the menu's payment_address is not an IOTA address\n");
		return -1;
	}
	if (due <= x->paid_onchain) {
		fprintf(stderr, "sdpp buy: invoice %" PRIu64 " asks for nothing new\n",
		    ev->invoice->number);
		return -1;
	}
	x->paying = 1;
	x->pay_req = ev->req;
	x->pay_total = due;
	if (tangle_pay(x->iota, to, due - x->paid_onchain, on_paid, x) != 0) {
		x->paying = 0;
		fprintf(stderr, "sdpp buy: cannot start the IOTA payment\n");
		return -1;
	}
	return 0;
}

/* The connection ended under the session: keep the first reason. */
static void
client_lost(struct client *cl, const char *what, int err)
{
	if (cl->lost)
		return;
	cl->lost = 1;
	if (err != 0)
		snprintf(cl->lost_why, sizeof(cl->lost_why), "%s: %s", what, strerror(err));
	else
		snprintf(cl->lost_why, sizeof(cl->lost_why), "%s", what);
}

/*
 * Writes what the session has to send. A failed write is not reported
 * yet: the seller may have closed after a signed error that is still
 * unread here, and that error, not our Broken pipe, is the reason.
 */
static int
client_flush(struct client *cl)
{
	if (cl->fd < 0) {
		/* Between connections (a resume pending): the session keeps
		 * what matters and sends it again once resumed. */
		cl->out.len = 0;
		return 0;
	}
	if (cl->write_failed) {
		cl->out.len = 0;
		return -1;
	}
	if (cl->out.len > 0 &&
	    (cl->tls != NULL
	            ? net_tls_write_all(cl->tls, cl->out.buf, cl->out.len, WRITE_TIMEOUT_MS)
	            : net_write_all(cl->fd, cl->out.buf, cl->out.len, WRITE_TIMEOUT_MS)) != 0) {
		client_lost(cl, "write to the seller", errno);
		cl->write_failed = 1;
		cl->out.len = 0;
		return -1;
	}
	cl->out.len = 0;
	return 0;
}

/*
 * A frame read after a write failed: the session cannot go on, but a
 * signed error from the seller among these frames says why it ended.
 * Anything else (items we can no longer acknowledge) is passed over.
 */
static void
drain_frame(struct client *cl, const char *frame, size_t len)
{
	struct sdpp_msg m;

	if (cl->peer_code[0] != '\0' || cl->verifier == NULL)
		return;
	memset(&m, 0, sizeof(m));
	if (sdpp_msg_parse(&m, frame, len, SDPP_ROLE_SELLER, NULL, 0) != SDPP_OK)
		return;
	if (m.type == SDPP_T_ERROR && sdpp_msg_verify(&m, cl->verifier) == SDPP_OK) {
		snprintf(cl->peer_code, sizeof(cl->peer_code), "%s", m.u.error.code);
		snprintf(cl->peer_message, sizeof(cl->peer_message), "%s", m.u.error.message);
	}
	sdpp_msg_free(&m);
}

/*
 * Our session ended the order with an error it sends the seller (a bad
 * signature, an invoice that does not add up): its text, the last frame
 * in cl->out, tells the user the same.
 */
static void
own_error(struct client *cl)
{
	struct sdpp_msg m;
	size_t start;

	if (cl->out.len < 2 || cl->out.buf[cl->out.len - 1] != '\n')
		return;
	for (start = cl->out.len - 1; start > 0 && cl->out.buf[start - 1] != '\n'; start--)
		;
	memset(&m, 0, sizeof(m));
	if (sdpp_msg_parse(&m, cl->out.buf + start, cl->out.len - 1 - start, SDPP_ROLE_BUYER, NULL,
	        0) != SDPP_OK)
		return;
	if (m.type == SDPP_T_ERROR)
		snprintf(cl->own_message, sizeof(cl->own_message), "%s", m.u.error.message);
	sdpp_msg_free(&m);
}

/* Writes bytes as the contents of a JSON string. */
static void
write_escaped(FILE *f, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] == '"' || p[i] == '\\')
			fprintf(f, "\\%c", p[i]);
		else if (p[i] < 0x20 || p[i] == 0x7f)
			fprintf(f, "\\u%04x", p[i]);
		else
			fputc(p[i], f);
	}
}

static void
write_item(struct buyer_ctx *x, const struct sdpp_item *it)
{
	FILE *f = x->out;

	if (x->mqtt != NULL) {
		char topic[SDPP_TOPIC_MAX + 256];

		snprintf(topic, sizeof(topic), "%s%s", x->prefix, it->topic);
		if (mqtt_out_publish(x->mqtt, topic, it->payload, it->payload_len) != 0)
			fprintf(stderr, "sdpp: republish of item %" PRIu64 " failed\n", it->seq);
		return;
	}
	fprintf(f, "{\"seq\":%" PRIu64 ",\"topic\":\"", it->seq);
	write_escaped(f, (const uint8_t *)it->topic, strlen(it->topic));
	fprintf(f, "\",\"ts\":%" PRId64 ",\"payload\":\"", it->received_at);
	/* Text goes out as text (NUL and other controls escaped), anything else as base64. */
	if (util_utf8_valid(it->payload, it->payload_len)) {
		write_escaped(f, it->payload, it->payload_len);
		fprintf(f, "\"}\n");
	} else {
		char *b = malloc(SDPP_B64_LEN(it->payload_len));

		if (b != NULL) {
			sdpp_b64_encode(b, it->payload, it->payload_len);
			fputs(b, f);
			free(b);
		}
		fprintf(f, "\",\"payload_base64\":true}\n");
	}
}

static int
ask_order(struct buyer_ctx *x, char *product, size_t cap, uint64_t *count)
{
	char line[256], name[SDPP_NAME_MAX + 1];
	unsigned long long n;

	if (!isatty(STDIN_FILENO)) {
		fprintf(stderr, "sdpp buy: --product is required when stdin is not a terminal\n");
		return -1;
	}
	fprintf(stderr, "\nPlease enter your order (PRODUCT COUNT, 0 = until Ctrl-C): ");
	if (fgets(line, sizeof(line), stdin) == NULL)
		return -1;
	if (sscanf(line, "%64s %llu", name, &n) != 2) {
		fprintf(stderr, "sdpp buy: expected PRODUCT COUNT\n");
		return -1;
	}
	snprintf(product, cap, "%s", name);
	*count = n;
	(void)x;
	return 0;
}

static void
progress(struct buyer_ctx *x)
{
	if (!x->progress)
		return;
	if (x->count != 0)
		fprintf(stderr,
		    "\r%" PRIu64 "/%" PRIu64 " items, %" PRIu64 " invoices, paid %" PRIu64 " %s   ",
		    x->items, x->count, x->invoices, x->paid, x->currency);
	else
		fprintf(stderr, "\r%" PRIu64 " items, %" PRIu64 " invoices, paid %" PRIu64 " %s   ",
		    x->items, x->invoices, x->paid, x->currency);
}

/*
 * Gets ready to pay as the menu's method says, before ordering: vouchers
 * need nothing; iota-NETWORK needs --iota (paying real money is opted
 * into) and an IOTA client on that network. -1 after saying why.
 */
static int
payment_setup(struct buyer_ctx *x, const char *method)
{
	struct tangle_config tc;
	enum iota_network net, want;
	char err[256];

	if (strcmp(method, "voucher") == 0)
		return 0;
	if (iota_method_parse(&net, method) != 0) {
		fprintf(stderr,
		    "sdpp buy: the seller's payment method `%s' is not one this buyer "
		    "can use (voucher, iota-mainnet, iota-testnet, iota-devnet)\n",
		    method);
		return -1;
	}
	if (!x->want_iota) {
		fprintf(stderr,
		    "sdpp buy: this seller is paid in IOTA on %s: add --iota (and "
		    "--iota-url for your own node)\n",
		    iota_network_name(net));
		return -1;
	}
	if (x->iota_net != NULL && (iota_network_parse(&want, x->iota_net) != 0 || want != net)) {
		fprintf(stderr, "sdpp buy: the seller is paid in IOTA on %s, not on %s (--iota)\n",
		    iota_network_name(net), x->iota_net);
		return -1;
	}
	memset(&tc, 0, sizeof(tc));
	tc.network = net;
	tc.url = x->iota_url;
	tc.retries = 2;
	tc.max_budget = x->max_gas;
	tc.signer = x->id;
	if (tangle_new(&x->iota, x->base, &tc, err, sizeof(err)) != 0) {
		fprintf(stderr, "sdpp buy: --iota: %s\n", err);
		return -1;
	}
	if (x->progress)
		fprintf(stderr, "paying in IOTA on %s through %s\n", iota_network_name(net),
		    tangle_url(x->iota));
	return 0;
}

/*
 * Before a narrowed order: --topic must be within the product's filter as
 * the verified menu gives it (an sdpp/2 menu; a product the menu lacks is
 * left to the order, which names it). -1 after saying why.
 */
static int
check_topic(struct buyer_ctx *x, const char *product)
{
	const struct sdpp_menu *m = sdpp_buyer_menu(x->cl->b);
	size_t i;

	if (sdpp_buyer_version(x->cl->b) == 1) {
		fprintf(stderr, "sdpp buy: --topic needs sdpp/2; this session speaks sdpp/1\n");
		return -1;
	}
	for (i = 0; i < m->nproducts; i++) {
		const struct sdpp_product *p = &m->products[i];

		if (strcmp(p->id, product) != 0 || p->topic[0] == '\0')
			continue;
		if (!mqtt_filter_within(x->topic, p->topic)) {
			fprintf(stderr,
			    "sdpp buy: --topic '%s' is not within product %s's filter '%s'\n",
			    x->topic, p->id, p->topic);
			return -1;
		}
	}
	return 0;
}

/*
 * --budget, before ordering: an order whose price times count, or whose
 * first prepaid invoice, is beyond it is not placed. -1 after saying why.
 */
static int
check_budget(struct buyer_ctx *x, const char *product, uint64_t count)
{
	const struct sdpp_menu *m = sdpp_buyer_menu(x->cl->b);
	const struct sdpp_product *p = NULL;
	uint64_t total, first;
	size_t i;

	for (i = 0; i < m->nproducts; i++)
		if (strcmp(m->products[i].id, product) == 0)
			p = &m->products[i];
	if (p == NULL || p->price == 0)
		return 0; /* free, or not on the menu: the order says so */
	x->prepay = p->prepay;
	if (p->price > x->budget) {
		fprintf(stderr,
		    "sdpp buy: `%s' costs %" PRIu64 " %s per item, above your --budget of %" PRIu64
		    " %s: nothing ordered\n",
		    product, p->price, m->currency, x->budget, m->currency);
		return -1;
	}
	if (count != 0 &&
	    (sdpp_money_mul(&total, count, p->price) != SDPP_OK || total > x->budget)) {
		fprintf(stderr,
		    "sdpp buy: %" PRIu64 " items of `%s' at %" PRIu64 " %s cost more than your "
		    "--budget of %" PRIu64 " %s: nothing ordered\n",
		    count, product, p->price, m->currency, x->budget, m->currency);
		return -1;
	}
	/* Prepaid blocks of K are invoiced before they are sent. */
	first = count != 0 && count < m->granularity ? count : m->granularity;
	if (p->prepay &&
	    (sdpp_money_mul(&total, first, p->price) != SDPP_OK || total > x->budget)) {
		fprintf(stderr,
		    "sdpp buy: `%s' is paid in advance, %" PRIu64 " items at a time: its first "
		    "invoice is above your --budget of %" PRIu64 " %s: nothing ordered\n",
		    product, first, x->budget, m->currency);
		return -1;
	}
	return 0;
}

/*
 * With --budget, after each item: would the next charge go beyond it? That
 * is the next item (postpaid), or the next block the seller invoices in
 * advance once every paid item is in (prepay). If so, exit now: the exit's
 * voucher settles what was received, all within the budget, instead of an
 * over_budget error that leaves the order owed. Frames are handled one at
 * a time, so the exit is out before any later item or invoice is taken.
 */
static int
budget_reached(struct buyer_ctx *x)
{
	const struct sdpp_menu *m = sdpp_buyer_menu(x->cl->b);
	struct sdpp_progress p;
	uint64_t next = 1, spent, more;

	sdpp_buyer_progress(x->cl->b, &p);
	if (p.price == 0 || (p.quantity != 0 && p.sent >= p.quantity))
		return 0;
	spent = p.total_due;
	if (x->prepay) {
		if (p.sent < p.invoiced)
			return 0;
		next = m->granularity;
		if (p.quantity != 0 && p.quantity - p.invoiced < next)
			next = p.quantity - p.invoiced;
	} else if (sdpp_money_mul(&spent, p.sent, p.price) != SDPP_OK) {
		spent = UINT64_MAX;
	}
	if (sdpp_money_mul(&more, next, p.price) == SDPP_OK && spent <= x->budget &&
	    more <= x->budget - spent)
		return 0;
	x->budget_stop = 1;
	fprintf(stderr,
	    "%ssdpp buy: your --budget of %" PRIu64 " %s is reached: stopping after %" PRIu64
	    " items, and settling\n",
	    x->progress ? "\n" : "", x->budget, x->currency, p.sent);
	return 1;
}

/* The order's id as the resume lines name it: its first 8 hex digits. */
static void
order_tag(const struct buyer_ctx *x, char tag[9])
{
	const uint8_t *id = sdpp_buyer_order_id(x->cl->b);

	snprintf(tag, 9, "%02x%02x%02x%02x", id[0], id[1], id[2], id[3]);
}

/* The seller took the order back (its verified `resumed'): the outage is over. */
static void
resume_done(struct buyer_ctx *x, const struct sdpp_resumed *r)
{
	char tag[9];

	order_tag(x, tag);
	if (!x->quiet || r->dropped > 0) {
		fprintf(stderr, "%s%s: resumed order %s... at item %" PRIu64 " (attempt %u)",
		    x->progress ? "\n" : "", x->cmd, tag, r->seq, x->attempt);
		/* Samples lost to the gap, said even with -q: the data has a hole. */
		if (r->dropped > 0)
			fprintf(stderr, "; the seller dropped %" PRIu64 " samples meanwhile",
			    r->dropped);
		fputc('\n', stderr);
	}
	x->outage = 0;
	x->resuming = 0;
	x->attempt = 0;
	x->backoff_ms = RESUME_FIRST_MS;
}

/* Acts on the session's events after each step; -1 stops the run. */
static int
handle(struct buyer_ctx *x, uint64_t now)
{
	struct client *cl = x->cl;
	size_t i;
	char product[SDPP_NAME_MAX + 1];
	uint64_t count;
	enum sdpp_err e;

	for (i = 0; i < cl->out.nev; i++) {
		const struct sdpp_event *ev = &cl->out.ev[i];

		switch (ev->type) {
		case SDPP_EV_MENU:
			/* Only a menu may take up to SDPP_FRAME_CAP_MAX. */
			if (sdpp_framer_set_cap(cl->framer, SDPP_FRAME_CAP_SESSION) != SDPP_OK)
				return -1;
			x->currency = sdpp_buyer_menu(cl->b)->currency;
			if (x->want_menu) {
				if (x->json)
					menu_print_json(stdout, sdpp_buyer_menu(cl->b), x->filter);
				else
					menu_print_table(
					    stdout, sdpp_buyer_menu(cl->b), x->filter, now);
				(void)sdpp_buyer_exit(cl->b, now, &cl->out);
				break;
			}
			if (payment_setup(x, sdpp_buyer_menu(cl->b)->payment_method) != 0) {
				x->failed = CLI_EXIT_ERROR;
				return -1;
			}
			snprintf(
			    product, sizeof(product), "%s", x->product != NULL ? x->product : "");
			count = x->count;
			if (x->ask) {
				menu_print_table(stdout, sdpp_buyer_menu(cl->b), NULL, now);
				if (ask_order(x, product, sizeof(product), &count) != 0) {
					x->failed = CLI_EXIT_USAGE;
					return -1;
				}
				x->count = count;
			}
			if (x->topic != NULL && check_topic(x, product) != 0) {
				x->failed = CLI_EXIT_REFUSED;
				return -1;
			}
			if (x->budget != 0 && check_budget(x, product, count) != 0) {
				x->failed = CLI_EXIT_BUDGET;
				return -1;
			}
			if (x->topic != NULL)
				e = sdpp_buyer_order_topic(
				    cl->b, product, x->topic, count, now, &cl->out);
			else
				e = sdpp_buyer_order(cl->b, product, count, now, &cl->out);
			if (e == SDPP_E_UNKNOWN_PRODUCT) {
				fprintf(stderr, "sdpp buy: no product `%s' on the menu\n", product);
				x->failed = CLI_EXIT_REFUSED;
				return -1;
			}
			if (e == SDPP_E_BUDGET) {
				size_t k;
				const struct sdpp_menu *m = sdpp_buyer_menu(cl->b);

				for (k = 0; k < m->nproducts; k++)
					if (strcmp(m->products[k].id, product) == 0)
						fprintf(stderr,
						    "sdpp buy: `%s' costs %" PRIu64 " %s per item, "
						    "above --max-price: nothing ordered\n",
						    product, m->products[k].price, m->currency);
				x->failed = CLI_EXIT_BUDGET;
				return -1;
			}
			if (e != SDPP_OK) {
				fprintf(stderr, "sdpp buy: cannot order: %s\n", sdpp_strerror(e));
				x->failed = CLI_EXIT_ERROR;
				return -1;
			}
			x->ordered = 1;
			if (x->verbose)
				fprintf(stderr, "ordered %" PRIu64 " items of %s%s%s\n", count,
				    product, x->topic != NULL ? " on " : "",
				    x->topic != NULL ? x->topic : "");
			break;
		case SDPP_EV_STARTED:
			x->started = 1;
			if (x->progress)
				fprintf(stderr, "session key received, buying %s%s%s\n",
				    x->product != NULL ? x->product : "",
				    x->topic != NULL ? " on " : "",
				    x->topic != NULL ? x->topic : "");
			break;
		case SDPP_EV_ITEM:
			write_item(x, ev->item);
			x->items++;
			if (x->budget != 0 && !x->budget_stop && budget_reached(x))
				(void)sdpp_buyer_exit(cl->b, now, &cl->out);
			break;
		case SDPP_EV_PAY:
			x->invoices++;
			if (x->verbose)
				fprintf(stderr,
				    "%sinvoice %" PRIu64 ": items %" PRIu64 "-%" PRIu64 ", %" PRIu64
				    " %s, %" PRIu64 " %s due in all\n",
				    x->progress ? "\n" : "", ev->invoice->number,
				    ev->invoice->first_seq, ev->invoice->last_seq,
				    ev->invoice->amount, x->currency, ev->invoice->total_due,
				    x->currency);
			if (x->iota != NULL) {
				if (pay_iota(x, ev) != 0)
					(void)sdpp_buyer_complete(
					    cl->b, ev->req, 0, "", now, &cl->out);
				break;
			}
			/* Vouchers: the signed payment_ack is the payment. */
			x->paid = ev->invoice->total_due;
			if (x->verbose)
				fprintf(stderr,
				    "paid invoice %" PRIu64 ": a voucher for %" PRIu64 " %s\n",
				    ev->invoice->number, ev->invoice->total_due, x->currency);
			(void)sdpp_buyer_complete(cl->b, ev->req, 1, "", now, &cl->out);
			break;
		case SDPP_EV_ANCHOR:
			/* Where our records stand on the tangle: worth keeping. */
			if (!x->quiet)
				fprintf(stderr, "%sanchored: %s at %s\n", x->progress ? "\n" : "",
				    ev->msg->u.anchor.record, ev->msg->u.anchor.ref);
			x->anchors++;
			break;
		case SDPP_EV_REJOINED:
			resume_done(x, &ev->msg->u.resumed);
			break;
		case SDPP_EV_STATEMENT:
			x->have_statement = 1;
			x->st = ev->msg->u.statement;
			break;
		case SDPP_EV_PEER_ERROR:
			snprintf(cl->peer_code, sizeof(cl->peer_code), "%s", ev->msg->u.error.code);
			snprintf(cl->peer_message, sizeof(cl->peer_message), "%s",
			    ev->msg->u.error.message);
			break;
		case SDPP_EV_CLOSE:
			cl->closed = 1;
			cl->close_err = ev->err;
			if (ev->err != SDPP_OK && ev->err != SDPP_E_REMOTE)
				own_error(cl);
			break;
		default:
			break;
		}
	}
	cl->out.nev = 0;
	progress(x);
	return client_flush(cl);
}

/*
 * Feeds bytes read from the seller to the session, frame by frame; -1
 * stops the run. After a failed write, frames only go to drain_frame().
 */
static int
feed(struct buyer_ctx *x, const char *buf, size_t n, uint64_t now)
{
	struct client *cl = x->cl;
	const char *frame;
	size_t flen, off, took;
	enum sdpp_err e;

	for (off = 0; off < n && !cl->closed; off += took) {
		took = sdpp_framer_feed(cl->framer, buf + off, n - off, &e);
		while (
		    !cl->closed && (e = sdpp_framer_next(cl->framer, &frame, &flen)) == SDPP_OK) {
			/* A resumable order goes on taking what comes: the
			 * resume will acknowledge it. */
			if (cl->write_failed && (x->no_resume || !sdpp_buyer_resumable(cl->b))) {
				drain_frame(cl, frame, flen);
				continue;
			}
			(void)sdpp_buyer_input(cl->b, frame, flen, now, &cl->out);
			if (handle(x, now) != 0 && !cl->write_failed)
				return -1;
			/* The frame that brought the statement: --receipt
			 * keeps it as the seller signed it. */
			if (x->have_statement && x->st_frame == NULL) {
				x->st_frame = malloc(flen + 1);
				if (x->st_frame != NULL) {
					memcpy(x->st_frame, frame, flen);
					x->st_len = flen;
				}
			}
		}
		if (e == SDPP_E_FRAME_TOO_LARGE) {
			fprintf(stderr, "%s: the seller sent a frame over the limit\n", x->cmd);
			x->failed = CLI_EXIT_VERIFY;
			return -1;
		}
		if (took == 0)
			break;
	}
	return 0;
}

/* Closes the connection under the session (which stays). */
static void
client_disconnect(struct client *cl)
{
	net_tls_free(cl->tls);
	cl->tls = NULL;
	if (cl->fd >= 0)
		close(cl->fd);
	cl->fd = -1;
	cl->write_failed = 0;
	cl->drain_until = 0;
	cl->drained = 0;
}

/*
 * After a drop or a failed attempt (why in cl->lost_why): the next
 * attempt in RESUME_FIRST_MS doubling to RESUME_MAX_MS, less or more by a
 * quarter at random so that buyers cut off together do not all return at
 * once, and never after the --resume-for window; one line says so. -1
 * once that window has passed (the buy ends as a connect failure).
 */
static int
resume_schedule(struct buyer_ctx *x)
{
	struct client *cl = x->cl;
	uint64_t now = mono_ms(), end = x->outage_since + x->resume_for_ms, delay;
	uint32_t r;
	char tag[9];

	order_tag(x, tag);
	if (now >= end) {
		fprintf(stderr,
		    "%s%s: connection lost (%s); order %s... not resumed within %" PRIu64
		    " s: giving up\n",
		    x->progress ? "\n" : "", x->cmd, cl->lost_why, tag, x->resume_for_ms / 1000);
		x->failed = CLI_EXIT_CONNECT;
		return -1;
	}
	x->attempt++;
	delay = x->backoff_ms - x->backoff_ms / 4;
	if (sdpp_random(&r, sizeof(r)) == SDPP_OK)
		delay += r % (x->backoff_ms / 2 + 1);
	if (delay > end - now)
		delay = end - now;
	x->next_try = now + delay;
	x->backoff_ms = x->backoff_ms * 2 < RESUME_MAX_MS ? x->backoff_ms * 2 : RESUME_MAX_MS;
	/* Not an error while it may still work out: -q leaves it out. */
	if (!x->quiet)
		fprintf(stderr,
		    "%s%s: connection lost (%s); resuming order %s... (attempt %u) in %" PRIu64
		    ".%" PRIu64 " s\n",
		    x->progress ? "\n" : "", x->cmd, cl->lost_why, tag, x->attempt,
		    (delay + 50) / 1000, (delay + 50) % 1000 / 100);
	cl->lost = 0;
	cl->lost_why[0] = '\0';
	return 0;
}

/*
 * The connection under the order dropped (why in cl->lost_why). An sdpp/2
 * order that can be resumed waits for the next attempt: 0. -1 ends the buy
 * as before: --no-resume, sdpp/1, no running order, or the seller said why
 * it ended.
 */
static int
resume_begin(struct buyer_ctx *x)
{
	struct client *cl = x->cl;

	if (x->no_resume || cl->closed || cl->peer_code[0] != '\0' || !sdpp_buyer_resumable(cl->b))
		return -1;
	client_disconnect(cl);
	if (!x->outage) {
		x->outage = 1;
		x->outage_since = mono_ms();
		x->backoff_ms = RESUME_FIRST_MS;
		x->attempt = 0;
	}
	x->detached = 1;
	x->resuming = 0;
	return resume_schedule(x);
}

/*
 * One attempt: a new connection to the same address with the same TLS
 * settings, and the session's signed resume as its first frame. 0 once
 * sent (what follows is run()'s), -1 with cl->lost_why if no connection.
 */
static int
resume_connect(struct buyer_ctx *x)
{
	struct client *cl = x->cl;
	struct util_hostport hp;
	uint64_t end = x->outage_since + x->resume_for_ms, now = mono_ms();
	int timeout = CONNECT_TIMEOUT_MS;
	char err[512];

	/* Within the window, but never so short that a connect cannot work. */
	if (end > now && end - now < CONNECT_TIMEOUT_MS)
		timeout = end - now < 1000 ? 1000 : (int)(end - now);
	cl->fd = net_connect(x->hostport, timeout, err, sizeof(err));
	if (cl->fd < 0) {
		client_lost(cl, err, 0);
		return -1;
	}
	if (x->tls) {
		if (util_hostport_split(&hp, x->hostport, 0, err, sizeof(err)) == 0)
			cl->tls =
			    net_tls_connect(cl->fd, hp.host, x->cafile, timeout, err, sizeof(err));
		if (cl->tls == NULL) {
			client_lost(cl, err, 0);
			client_disconnect(cl);
			return -1;
		}
	}
	/* What the old connection left half-read is gone with it. */
	sdpp_framer_free(cl->framer);
	cl->framer = sdpp_framer_new(SDPP_FRAME_CAP_SESSION);
	if (cl->framer == NULL) {
		fprintf(stderr, "%s: out of memory\n", x->cmd);
		x->failed = CLI_EXIT_ERROR;
		client_disconnect(cl);
		return -1;
	}
	x->detached = 0;
	x->resuming = 1;
	now = now_ms();
	cl->out.len = 0;
	/* A failure closes the session with its reason, which run() reports;
	 * a failed write is a drop like any other. */
	(void)sdpp_buyer_resume(cl->b, now, &cl->out);
	(void)handle(x, now);
	return 0;
}

/*
 * Runs the session until it closes. Once a write to the seller has failed
 * it only reads on (bounded: DRAIN_MS, DRAIN_BYTES_MAX) for the signed
 * error the seller may have sent before it closed. When the connection
 * drops under a running sdpp/2 order, the order is resumed on a new one
 * (resume_begin()), unless --no-resume.
 */
static int
run(struct buyer_ctx *x)
{
	struct client *cl = x->cl;
	char buf[16384];
	uint64_t now, d;
	ssize_t n;
	int exiting = 0;
	uint64_t exit_deadline = 0;

	now = now_ms();
	if (sdpp_buyer_start(cl->b, now, &cl->out) != SDPP_OK) {
		x->failed = CLI_EXIT_ERROR;
		return -1;
	}
	(void)client_flush(cl);
	while (!cl->closed) {
		struct pollfd p = { cl->fd, POLLIN, 0 };
		int timeout = 1000;

		now = now_ms();
		if (cl->write_failed) {
			if (cl->drain_until == 0)
				cl->drain_until = now + DRAIN_MS;
			if (cl->peer_code[0] != '\0')
				return -1;
			if (now >= cl->drain_until || cl->drained >= DRAIN_BYTES_MAX) {
				if (resume_begin(x) != 0)
					return -1;
				continue;
			}
			timeout = (int)(cl->drain_until - now);
		} else if (interrupted && !exiting) {
			exiting = 1;
			x->exit_asked = 1;
			exit_deadline = now + SETTLE_TIMEOUT_MS;
			if (x->progress)
				fprintf(stderr, "\ninterrupted: settling with the seller\n");
			/* Between connections the exit waits in the session for
			 * the resume (as the payments do). */
			(void)sdpp_buyer_exit(cl->b, now, &cl->out);
			if (handle(x, now) != 0 && !cl->write_failed)
				return -1;
			continue;
		} else if (exiting && now >= exit_deadline) {
			fprintf(stderr, "%s: no statement from the seller; leaving\n", x->cmd);
			x->failed = CLI_EXIT_INTERRUPTED;
			return -1;
		} else if (x->detached) {
			uint64_t m = mono_ms();

			if (m >= x->next_try) {
				if (resume_connect(x) != 0 &&
				    (x->failed || resume_schedule(x) != 0))
					return -1;
				continue;
			}
			timeout = x->next_try - m < 1000 ? (int)(x->next_try - m) : 1000;
		} else {
			d = sdpp_buyer_deadline(cl->b);
			if (d != UINT64_MAX)
				timeout = d <= now ? 0 : d - now < 1000 ? (int)(d - now) : 1000;
		}
		if (x->base != NULL && !cl->write_failed) {
			/* The IOTA client lives on its own event base: give it a
			 * turn, and come back soon while a transfer is under way. */
			event_base_loop(x->base, EVLOOP_NONBLOCK);
			if (cl->closed)
				break;
			if (x->iota != NULL && tangle_queued(x->iota) > 0 && timeout > 10)
				timeout = 10;
		}
		/* TLS may hold decrypted bytes the socket no longer shows. */
		if (cl->tls != NULL && net_tls_pending(cl->tls) > 0)
			timeout = 0;
		/* Between connections fd is -1, which poll() passes over: a wait. */
		if (poll(&p, 1, timeout) < 0) {
			if (errno == EINTR)
				continue;
			client_lost(cl, "poll", errno);
			return -1;
		}
		if (x->detached)
			continue;
		now = now_ms();
		if (!(p.revents & (POLLIN | POLLHUP | POLLERR)) &&
		    !(cl->tls != NULL && net_tls_pending(cl->tls) > 0)) {
			if (cl->write_failed)
				continue;
			if (x->resuming && (now >= sdpp_buyer_deadline(cl->b) ||
			                       mono_ms() >= x->outage_since + x->resume_for_ms)) {
				/* Unanswered: another connection may fare better
				 * (the session's own timeout would end the order),
				 * unless --resume-for is up. */
				client_lost(cl, "no answer to our resume", 0);
				if (resume_begin(x) != 0)
					return -1;
				continue;
			}
			(void)sdpp_buyer_tick(cl->b, now, &cl->out);
			if (handle(x, now) != 0 && !cl->write_failed)
				return -1;
			continue;
		}
		n = cl->tls != NULL ? net_tls_read(cl->tls, buf, sizeof(buf))
		                    : read(cl->fd, buf, sizeof(buf));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		/* A TLS record (an alert, a handshake) where SDPP frames belong. */
		if (n >= 2 && !cl->spoke && cl->tls == NULL && (buf[0] == 0x15 || buf[0] == 0x16) &&
		    buf[1] == 0x03) {
			fprintf(stderr, "sdpp: the seller speaks TLS: connect with tls://HOST:PORT "
			                "or --tls\n");
			x->failed = CLI_EXIT_CONNECT;
			return -1;
		}
		cl->spoke = 1;
		if (n <= 0) {
			client_lost(cl,
			    n == 0 ? "the seller closed the connection" : "read from the seller",
			    n == 0 ? 0 : errno);
			if (resume_begin(x) != 0)
				return -1;
			continue;
		}
		if (cl->write_failed)
			cl->drained += (size_t)n;
		if (feed(x, buf, (size_t)n, now) != 0)
			return -1;
		if (x->out != NULL)
			fflush(x->out);
	}
	/* A statement read after our write failed (a resumable order reads
	 * on) settles the order all the same. */
	return cl->write_failed && !x->have_statement ? -1 : 0;
}

/* TLS over cl->fd to hostport's host (the name the certificate must carry). */
static int
client_tls(struct client *cl, const struct buyer_ctx *x, const char *hostport)
{
	struct util_hostport hp;
	char err[512];

	if (util_hostport_split(&hp, hostport, 0, err, sizeof(err)) != 0) {
		fprintf(stderr, "sdpp: %s\n", err);
		return -1;
	}
	cl->tls = net_tls_connect(cl->fd, hp.host, x->cafile, CONNECT_TIMEOUT_MS, err, sizeof(err));
	if (cl->tls == NULL) {
		fprintf(stderr, "sdpp: %s: %s\n", hostport, err);
		return -1;
	}
	return 0;
}

/* Connects (over TLS if x says so) and starts a buyer session with
 * config bc (its id borrowed). */
static int
client_open(struct client *cl, const struct buyer_ctx *x, const char *hostport,
    const struct sdpp_buyer_config *bc)
{
	char err[512];

	memset(cl, 0, sizeof(*cl));
	cl->fd = net_connect(hostport, CONNECT_TIMEOUT_MS, err, sizeof(err));
	if (cl->fd < 0) {
		client_lost(cl, err, 0); /* report_end() says it */
		return -1;
	}
	if (x->tls && client_tls(cl, x, hostport) != 0) {
		cl->lost = 1; /* said */
		return -1;
	}
	/* sdpp/2 menus of thousands of products take up to 16 MiB; the cap
	 * comes down to SDPP_FRAME_CAP_SESSION once the menu is in. */
	cl->framer = sdpp_framer_new(SDPP_FRAME_CAP_MAX);
	sdpp_out_init(&cl->out, SDPP_FRAME_CAP_MAX);
	if (cl->framer == NULL || sdpp_buyer_new(&cl->b, bc, now_ms()) != SDPP_OK ||
	    sdpp_verifier_new(&cl->verifier, bc->seller) != SDPP_OK) {
		fprintf(stderr, "sdpp: cannot start a buyer session\n");
		return -1;
	}
	return 0;
}

static void
client_close(struct client *cl)
{
	client_disconnect(cl);
	sdpp_buyer_free(cl->b);
	sdpp_framer_free(cl->framer);
	sdpp_out_free(&cl->out);
	sdpp_verifier_free(cl->verifier);
}

/*
 * Opens a session and runs it. A seller that knows only sdpp/1 answers an
 * sdpp/2 hello with unsupported_version: then once more in sdpp/1 (which
 * cannot narrow an order, so not with --topic). bc->version says which
 * version the last session spoke. 0, or -1 as run() gives it.
 */
static int
session(struct buyer_ctx *x, struct client *cl, const char *hostport, struct sdpp_buyer_config *bc)
{
	int rc;

	x->hostport = hostport;
	if (client_open(cl, x, hostport, bc) != 0)
		return -1;
	x->cl = cl;
	rc = run(x);
	if (bc->version == 1 || strcmp(cl->peer_code, "unsupported_version") != 0)
		return rc;
	if (x->topic != NULL) {
		fprintf(stderr,
		    "%s: the seller speaks only sdpp/1, which cannot narrow an order by "
		    "--topic\n",
		    x->cmd);
		return rc;
	}
	fprintf(stderr, "%s: the seller speaks only sdpp/1: connecting again in sdpp/1\n", x->cmd);
	client_close(cl);
	bc->version = 1;
	if (client_open(cl, x, hostport, bc) != 0)
		return -1;
	return run(x);
}

/* --tls, --cafile FILE (which implies --tls): 1 if argv[*i] was one. */
static int
tls_option(struct buyer_ctx *x, int argc, char **argv, int *i)
{
	if (strcmp(argv[*i], "--tls") == 0) {
		x->tls = 1;
		return 1;
	}
	if (strcmp(argv[*i], "--cafile") == 0 && *i + 1 < argc) {
		x->tls = 1;
		x->cafile = argv[++*i];
		return 1;
	}
	return 0;
}

/* HOST:PORT of a tls://HOST:PORT target, which asks for TLS. */
static const char *
tls_target(struct buyer_ctx *x, const char *hostport)
{
	if (strncmp(hostport, "tls://", 6) != 0)
		return hostport;
	x->tls = 1;
	return hostport + 6;
}

/* --seller-key as the user gave it: "the key in FILE" or "the key HEX". */
static void
name_seller_key(const char *arg, char *out, size_t cap)
{
	if (strlen(arg) == 2 * SDPP_SIGN_PUBLIC_BYTES &&
	    strspn(arg, "0123456789abcdefABCDEF") == 2 * SDPP_SIGN_PUBLIC_BYTES)
		snprintf(out, cap, "the key %s", arg);
	else
		snprintf(out, cap, "the key in %s", arg);
}

/*
 * A resume refused as unknown_order once every item was in or our exit was
 * asked for: the seller most likely ended the order on that exit while we
 * had no connection, and its closing statement went nowhere (PROTOCOL.md
 * 15.6.2). Says so: the buyer's signed exit is its record of the order.
 */
static void
lost_statement(const struct buyer_ctx *x, const struct client *cl)
{
	struct sdpp_progress p;

	sdpp_buyer_progress(cl->b, &p);
	if (!x->exit_asked && !x->budget_stop && (p.quantity == 0 || p.sent < p.quantity))
		return;
	fprintf(stderr,
	    "%s: our exit for %" PRIu64 " items was sent before the connection dropped: the "
	    "order was most likely settled, but the seller's closing statement was lost with "
	    "the connection\n",
	    x->cmd, p.sent);
}

/*
 * Explains why a session ended badly and returns the exit status for it
 * (sdpp(1) EXIT STATUS); 0 if it did not. What the seller said comes
 * first: it is the reason even when our own write failed after it.
 */
static int
report_end(struct buyer_ctx *x, struct client *cl)
{
	char key[600];

	if (x->failed)
		return x->failed; /* said where it happened */
	if (strcmp(cl->peer_code, "bad_topic") == 0 && x->topic != NULL) {
		fprintf(stderr, "%s: the seller refused --topic '%s': bad_topic: %s\n", x->cmd,
		    x->topic, cl->peer_message);
		return CLI_EXIT_REFUSED;
	}
	if (cl->peer_code[0] != '\0') {
		fprintf(stderr, "%s: the seller %s: %s: %s\n", x->cmd,
		    x->started ? "ended the order" : "refused", cl->peer_code, cl->peer_message);
		if (x->outage && strcmp(cl->peer_code, "unknown_order") == 0 && cl->b != NULL)
			lost_statement(x, cl);
		return CLI_EXIT_REFUSED;
	}
	if (cl->closed && cl->close_err != SDPP_OK) {
		switch (cl->close_err) {
		case SDPP_E_SIGNATURE:
			if (cl->b != NULL && sdpp_buyer_menu(cl->b) == NULL &&
			    x->seller_key != NULL) {
				/* Nothing from this seller ever verified: the
				 * likeliest cause is the key we were given. */
				name_seller_key(x->seller_key, key, sizeof(key));
				fprintf(stderr,
				    "%s: the seller's messages are not signed by %s (wrong "
				    "--seller-key?)\n",
				    x->cmd, key);
				return CLI_EXIT_VERIFY;
			}
			break;
		case SDPP_E_BUDGET:
			fprintf(stderr, "%s: your --budget ended the order: %s\n", x->cmd,
			    cl->own_message);
			return CLI_EXIT_BUDGET;
		case SDPP_E_IDLE_TIMEOUT:
			fprintf(stderr, "%s: %s\n", x->cmd, cl->own_message);
			return x->ordered ? CLI_EXIT_INTERRUPTED : CLI_EXIT_CONNECT;
		case SDPP_E_PAYMENT_REJECTED:
		case SDPP_E_INTERNAL:
		case SDPP_E_NOMEM:
			fprintf(stderr, "%s: session ended: %s%s%s\n", x->cmd,
			    sdpp_strerror(cl->close_err), cl->own_message[0] != '\0' ? ": " : "",
			    cl->own_message);
			return CLI_EXIT_ERROR;
		default:
			break;
		}
		/* The seller broke the protocol or its signatures: we refused. */
		fprintf(stderr, "%s: the seller's messages do not verify: %s%s%s\n", x->cmd,
		    sdpp_err_code(cl->close_err), cl->own_message[0] != '\0' ? ": " : "",
		    cl->own_message);
		return CLI_EXIT_VERIFY;
	}
	if (cl->lost) {
		if (cl->lost_why[0] != '\0')
			fprintf(stderr, "%s: %s\n", x->cmd, cl->lost_why);
		return x->ordered ? CLI_EXIT_INTERRUPTED : CLI_EXIT_CONNECT;
	}
	return 0;
}

/* The options of sdpp menu and sdpp buy that take a value (cli_usage_error()). */
static const char *const menu_valued[] = { "--seller-key", "--filter", "--cafile", NULL };
static const char *const buy_valued[] = { "--seller-key", "--key", "--product", "--topic",
	"--count", "--max-price", "--budget", "--output", "--receipt", "--mqtt-out",
	"--mqtt-prefix", "--mqtt-qos", "--mqtt-username", "--mqtt-password-file", "--mqtt-cafile",
	"--mqtt-cert", "--mqtt-key", "--iota-url", "--max-gas", "--cafile", "--resume-for", NULL };

int
cmd_menu(int argc, char **argv)
{
	struct buyer_ctx x;
	struct client cl;
	struct sdpp_identity *id = NULL;
	uint8_t seller[32];
	const char *hostport = NULL, *keyarg = NULL;
	struct sdpp_buyer_config bc;
	int i, rc = 1, end;

	memset(&x, 0, sizeof(x));
	memset(&bc, 0, sizeof(bc));
	x.cmd = "sdpp menu";
	x.no_resume = 1; /* no order to resume */
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--seller-key") == 0 && i + 1 < argc)
			keyarg = argv[++i];
		else if (strcmp(argv[i], "--json") == 0)
			x.json = 1;
		else if (strcmp(argv[i], "--filter") == 0 && i + 1 < argc)
			x.filter = argv[++i];
		else if (strcmp(argv[i], "--sdpp1") == 0)
			bc.version = 1;
		else if (tls_option(&x, argc, argv, &i))
			continue;
		else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			printf("usage: sdpp menu HOST:PORT --seller-key HEX|FILE [--json] "
			       "[--filter TEXT] [--sdpp1]\n\n"
			       "Shows the gateway's menu after checking its signature against the\n"
			       "seller key you were given out of band: a header line, the payment\n"
			       "terms, and one line per product with its price, unit, device "
			       "class,\n"
			       "what it sells (a field or the whole payload), rate tier, last "
			       "sample\n"
			       "and MQTT topic filter (cut with \"...\" when long).\n\n"
			       "  --filter TEXT  only products whose id, topic, unit, device class "
			       "or\n"
			       "                 description contains TEXT (any case)\n"
			       "  --json         the whole verified menu, every member of every "
			       "product,\n"
			       "                 as one JSON document\n"
			       "  --sdpp1        speak sdpp/1 (no topics, fields or tiers in "
			       "it);\n"
			       "                 without it sdpp/2, and sdpp/1 again if the "
			       "seller\n"
			       "                 knows only that\n"
			       "  --tls          connect over TLS (as tls://HOST:PORT does), "
			       "checking\n"
			       "                 the seller's certificate against the system "
			       "store\n"
			       "  --cafile FILE  ... against the CA certificates in FILE "
			       "instead\n");
			return 0;
		} else if (hostport == NULL && argv[i][0] != '-')
			hostport = argv[i];
		else
			return cli_usage_error("sdpp menu", argv[i], menu_valued);
	}
	if (hostport == NULL || keyarg == NULL) {
		fprintf(stderr, "usage: sdpp menu HOST:PORT --seller-key HEX|FILE [--json] "
		                "[--filter TEXT] [--sdpp1]\n");
		return CLI_EXIT_USAGE;
	}
	hostport = tls_target(&x, hostport);
	if (cli_parse_key(keyarg, seller) != 0)
		return 1;
	/* Reading a menu needs no identity of ours: a throwaway one will do. */
	if (sdpp_identity_generate(&id) != SDPP_OK)
		return 1;
	bc.id = id;
	memcpy(bc.seller, seller, sizeof(bc.seller));
	x.want_menu = 1;
	x.seller_key = keyarg;
	rc = session(&x, &cl, hostport, &bc);
	end = report_end(&x, &cl);
	rc = end != 0 ? end : rc != 0 ? CLI_EXIT_ERROR : CLI_EXIT_OK;
	client_close(&cl);
	sdpp_identity_free(id);
	return rc;
}

/* --receipt: the signed statement and its tree head, written durably. */
static int
write_receipt(
    const struct buyer_ctx *x, const uint8_t seller[SDPP_SIGN_PUBLIC_BYTES], const char *path)
{
	char err[512], *json = NULL;
	size_t len;
	int rc = -1;

	if (x->st_frame == NULL) {
		fprintf(stderr, "sdpp buy: --receipt: no closing statement from the seller\n");
		return -1;
	}
	if (sdpp_receipt_encode(seller, x->st_frame, x->st_len, &json, &len, err, sizeof(err)) !=
	    SDPP_OK) {
		fprintf(stderr, "sdpp buy: --receipt: %s\n", err);
		return -1;
	}
	json[len] = '\n'; /* the NUL's place: one line */
	if (keyfile_write(path, json, len + 1, 0644, 1, err, sizeof(err)) != 0)
		fprintf(stderr, "sdpp buy: --receipt: %s\n", err);
	else {
		if (!x->quiet)
			fprintf(stderr,
			    "receipt: %s (the seller's tree head of %" PRIu64 " records)\n", path,
			    x->st.tree_head.size);
		rc = 0;
	}
	free(json);
	return rc;
}

/* The exit status of a session that ended with the seller's statement, or
 * none after a Ctrl-C before the order (sdpp(1) EXIT STATUS). */
static int
settled_status(const struct buyer_ctx *x)
{
	if (!x->have_statement) {
		fprintf(stderr, "sdpp buy: %s\n",
		    interrupted ? "interrupted before the order" : "no statement from the seller");
		return CLI_EXIT_INTERRUPTED;
	}
	if (!x->st.settled) {
		fprintf(stderr,
		    "sdpp buy: the seller's statement says the order is not settled (%" PRIu64
		    " %s due, %" PRIu64 " %s paid)\n",
		    x->st.total_due, x->currency, x->st.total_paid, x->currency);
		return CLI_EXIT_ERROR;
	}
	if (x->budget_stop)
		return CLI_EXIT_BUDGET; /* said when it stopped */
	if (interrupted && x->count != 0 && x->st.delivered < x->count) {
		fprintf(stderr, "sdpp buy: interrupted after %" PRIu64 " of %" PRIu64 " items\n",
		    x->st.delivered, x->count);
		return CLI_EXIT_INTERRUPTED;
	}
	return CLI_EXIT_OK;
}

int
cmd_buy(int argc, char **argv)
{
	struct buyer_ctx x;
	struct client cl;
	struct sdpp_identity *id = NULL;
	struct sigaction sa;
	uint8_t seller[32];
	const char *hostport = NULL, *keyarg = NULL, *keyfile = NULL, *output = NULL;
	const char *mqtt_uri = NULL, *receipt = NULL;
	struct mqtt_out_login login = { 0 };
	enum iota_network net;
	char *pem = NULL, err[4200], pay_from[IOTA_ADDRESS_TEXT_LEN];
	size_t pemlen = 0;
	uint64_t max_price = 0, budget = 0, max_gas = 0, resume_for;
	struct sdpp_buyer_config bc;
	int i, rc = 1, have_count = 0, mqtt_rc;

	memset(&x, 0, sizeof(x));
	memset(&cl, 0, sizeof(cl));
	memset(&bc, 0, sizeof(bc));
	cl.fd = -1;
	x.prefix = "";
	x.cmd = "sdpp buy";
	x.resume_for_ms = (uint64_t)RESUME_FOR_DEFAULT_S * 1000;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			printf(
			    "usage: sdpp buy HOST:PORT --seller-key HEX|FILE --key FILE\n"
			    "                [--product NAME --count N [--topic FILTER]]\n"
			    "                [--max-price P] [--budget B] [--sdpp1]\n"
			    "                [--output FILE] [--mqtt-out URI [--mqtt-prefix P]\n"
			    "                [--mqtt-qos 0|1|2] [--mqtt-username U\n"
			    "                [--mqtt-password-file FILE]] [--mqtt-cafile FILE]\n"
			    "                [--mqtt-cert FILE [--mqtt-key FILE]]]\n"
			    "                [--iota [NET] [--iota-url URL]\n"
			    "                [--max-gas NANOS]] [--receipt FILE]\n"
			    "                [--no-resume | --resume-for SECONDS] [-q | -v]\n\n"
			    "Buys COUNT samples of PRODUCT (0: until Ctrl-C), verifying every "
			    "seller\n"
			    "message, acknowledging each item and paying each invoice with a "
			    "signed\n"
			    "voucher, or, with --iota from a seller paid in IOTA, with a transfer "
			    "from\n"
			    "the IOTA account of --key on the network the seller's menu names "
			    "(NET,\n"
			    "if given: mainnet, testnet or devnet, must be that one; --iota-url "
			    "for\n"
			    "your own node; gas above --max-gas, default 50000000, is refused).\n"
			    "Samples go to stdout (or --output) as JSON lines\n"
			    "{\"seq\",\"topic\",\"ts\",\"payload\"} (payload_base64 when not "
			    "text), or\n"
			    "to your own MQTT broker with --mqtt-out (mqtts:// for TLS, checked\n"
			    "against the system's CAs or --mqtt-cafile; the password is read\n"
			    "from --mqtt-password-file). Ctrl-C settles and exits.\n"
			    "Without --product the menu is shown and the order asked for.\n"
			    "--topic FILTER buys only the samples of PRODUCT whose topic also "
			    "matches\n"
			    "the MQTT filter FILTER, which must lie within the product's topic "
			    "filter\n"
			    "(`sdpp menu' shows it): e.g. zigbee2mqtt/Kitchen of zigbee2mqtt/+.\n"
			    "It needs an sdpp/2 seller. sdpp buy speaks sdpp/2, and sdpp/1 "
			    "again if\n"
			    "the seller knows only that (said on stderr); --sdpp1 speaks sdpp/1 "
			    "from\n"
			    "the start. --receipt FILE keeps the seller's signed closing "
			    "statement\n"
			    "and its signed tree head (sdpp/2) as a JSON receipt, for `sdpp "
			    "ledger\n"
			    "verify --witness FILE' against the seller's ledger later.\n"
			    "--max-price P refuses a product dearer than P per item. --budget B "
			    "refuses\n"
			    "an order that would cost more than B (COUNT x price, one item, or "
			    "the first\n"
			    "prepaid block); an open-ended order stops once the next item would "
			    "go\n"
			    "beyond B, and settles what it received. -q prints errors only (no\n"
			    "progress, no settled line); -v prints each invoice and payment too.\n"
			    "When the connection drops mid-order (sdpp/2), the order is resumed "
			    "on a\n"
			    "new connection to the same address: attempts after 0.2 s, doubling "
			    "to\n"
			    "10 s, one line each on stderr (none with -q); every sample is "
			    "still\n"
			    "output once, in order. --resume-for SECONDS (default 60, the "
			    "gateway's\n"
			    "default "
			    "resume_timeout) gives up after that long without success (exit 3);\n"
			    "--no-resume ends the buy at the drop instead (exit 6).\n"
			    "\n"
			    "Exit status: 0 settled, 1 other error, 2 usage, 3 cannot connect "
			    "(or lost\n"
			    "before the order, or not resumed in time), 4 the seller refused or "
			    "ended\n"
			    "the order or its resume (its error is\n"
			    "printed), 5 a seller message does not verify (wrong --seller-key?), "
			    "6 the\n"
			    "order ended before its count (connection lost, Ctrl-C), 7 --budget "
			    "or\n"
			    "--max-price refused or ended it.\n"
			    "--tls (or tls://HOST:PORT) connects over TLS, checking the seller's\n"
			    "certificate against the system store, or the CA certificates in\n"
			    "--cafile FILE.\n");
			return 0;
		}
		if (tls_option(&x, argc, argv, &i))
			continue;
		if (strcmp(a, "--sdpp1") == 0) {
			bc.version = 1;
			continue;
		}
		if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
			x.quiet = 1;
			continue;
		}
		if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
			x.verbose = 1;
			continue;
		}
		if (strcmp(a, "--no-resume") == 0) {
			x.no_resume = 1;
			continue;
		}
		if (strcmp(a, "--iota") == 0) {
			/* NET is optional: the menu names the network. */
			x.want_iota = 1;
			if (v == NULL || v[0] == '-' || strchr(v, ':') != NULL)
				continue; /* an option or HOST:PORT follows */
			if (iota_network_parse(&net, v) != 0) {
				fprintf(stderr,
				    "sdpp buy: --iota: `%s' is not mainnet, testnet or "
				    "devnet\n",
				    v);
				return CLI_EXIT_USAGE;
			}
			x.iota_net = argv[++i];
			continue;
		}
		if (v == NULL && a[0] == '-')
			return cli_usage_error("sdpp buy", a, buy_valued);
		if (strcmp(a, "--seller-key") == 0)
			keyarg = argv[++i];
		else if (strcmp(a, "--key") == 0)
			keyfile = argv[++i];
		else if (strcmp(a, "--product") == 0)
			x.product = argv[++i];
		else if (strcmp(a, "--topic") == 0) {
			if (!mqtt_filter_valid(argv[++i])) {
				fprintf(stderr,
				    "sdpp buy: --topic is not an MQTT topic filter: `%s'\n", v);
				return CLI_EXIT_USAGE;
			}
			x.topic = v;
		} else if (strcmp(a, "--count") == 0) {
			if (cli_parse_u64(argv[++i], 9007199254740991ULL, &x.count) != 0) {
				fprintf(stderr,
				    "sdpp buy: --count is not an integer 0-2^53: `%s'\n", v);
				return CLI_EXIT_USAGE;
			}
			have_count = 1;
		} else if (strcmp(a, "--max-price") == 0) {
			if (sdpp_money_parse(&max_price, argv[++i]) != SDPP_OK) {
				fprintf(
				    stderr, "sdpp buy: --max-price is not an amount: `%s'\n", v);
				return CLI_EXIT_USAGE;
			}
		} else if (strcmp(a, "--budget") == 0) {
			if (sdpp_money_parse(&budget, argv[++i]) != SDPP_OK) {
				fprintf(stderr, "sdpp buy: --budget is not an amount: `%s'\n", v);
				return CLI_EXIT_USAGE;
			}
		} else if (strcmp(a, "--resume-for") == 0) {
			if (cli_parse_u64(argv[++i], RESUME_FOR_MAX_S, &resume_for) != 0) {
				fprintf(stderr,
				    "sdpp buy: --resume-for is not a number of seconds "
				    "0-%d: `%s'\n",
				    RESUME_FOR_MAX_S, v);
				return CLI_EXIT_USAGE;
			}
			/* 0: give up at once, which is not resuming at all. */
			x.resume_for_ms = resume_for * 1000;
			if (resume_for == 0)
				x.no_resume = 1;
		} else if (strcmp(a, "--output") == 0)
			output = argv[++i];
		else if (strcmp(a, "--receipt") == 0)
			receipt = argv[++i];
		else if (strcmp(a, "--mqtt-out") == 0)
			mqtt_uri = argv[++i];
		else if (strcmp(a, "--mqtt-username") == 0)
			login.username = argv[++i];
		else if (strcmp(a, "--mqtt-password-file") == 0)
			login.password_file = argv[++i];
		else if (strcmp(a, "--mqtt-cafile") == 0)
			login.ca_file = argv[++i];
		else if (strcmp(a, "--mqtt-cert") == 0)
			login.cert_file = argv[++i];
		else if (strcmp(a, "--mqtt-key") == 0)
			login.key_file = argv[++i];
		else if (strcmp(a, "--iota-url") == 0)
			x.iota_url = argv[++i];
		else if (strcmp(a, "--max-gas") == 0) {
			if (sdpp_money_parse(&max_gas, argv[++i]) != SDPP_OK || max_gas == 0) {
				fprintf(stderr,
				    "sdpp buy: --max-gas is not an amount of nanos: `%s'\n", v);
				return CLI_EXIT_USAGE;
			}
		} else if (strcmp(a, "--mqtt-prefix") == 0)
			x.prefix = argv[++i];
		else if (strcmp(a, "--mqtt-qos") == 0) {
			x.mqtt_qos = argv[++i][0] - '0';
			if (x.mqtt_qos < 0 || x.mqtt_qos > 2 || argv[i][1] != '\0') {
				fprintf(stderr, "sdpp buy: --mqtt-qos is not 0, 1 or 2: `%s'\n", v);
				return CLI_EXIT_USAGE;
			}
		} else if (hostport == NULL && a[0] != '-')
			hostport = a;
		else
			return cli_usage_error("sdpp buy", a, buy_valued);
	}
	if (hostport == NULL || keyarg == NULL || keyfile == NULL) {
		fprintf(stderr, "usage: sdpp buy HOST:PORT --seller-key HEX|FILE --key FILE "
		                "[--product NAME --count N] ... (see --help)\n");
		return CLI_EXIT_USAGE;
	}
	hostport = tls_target(&x, hostport);
	if (output != NULL && mqtt_uri != NULL) {
		fprintf(stderr, "sdpp buy: --output and --mqtt-out exclude each other\n");
		return CLI_EXIT_USAGE;
	}
	if (x.product != NULL && !have_count) {
		fprintf(stderr, "sdpp buy: --product needs --count (0 buys until Ctrl-C)\n");
		return CLI_EXIT_USAGE;
	}
	if (x.topic != NULL && bc.version == 1) {
		fprintf(stderr, "sdpp buy: --topic needs sdpp/2, not --sdpp1\n");
		return CLI_EXIT_USAGE;
	}
	if (mqtt_uri != NULL &&
	    (mqtt_rc = mqtt_out_check(mqtt_uri, &login, err, sizeof(err))) != 0) {
		fprintf(stderr, "sdpp buy: --mqtt-out: %s\n", err);
		return mqtt_rc == 2 ? CLI_EXIT_USAGE : CLI_EXIT_ERROR;
	}
	x.ask = x.product == NULL;
	if (cli_parse_key(keyarg, seller) != 0)
		return 1;
	if (keyfile_read(keyfile, &pem, &pemlen, err, sizeof(err)) != 0) {
		fprintf(stderr, "sdpp buy: %s\n", err);
		return 1;
	}
	if (sdpp_identity_from_pem(&id, pem, pemlen) != SDPP_OK) {
		fprintf(stderr, "sdpp buy: %s: not an sdpp key file (make one with sdpp keygen)\n",
		    keyfile);
		goto out;
	}
	x.out = stdout;
	if (output != NULL) {
		x.out = fopen(output, "w");
		if (x.out == NULL) {
			fprintf(stderr, "sdpp buy: %s: %s\n", output, strerror(errno));
			goto out;
		}
	}
	if (mqtt_uri != NULL) {
		x.mqtt = mqtt_out_open(mqtt_uri, x.mqtt_qos, &login, err, sizeof(err));
		if (x.mqtt == NULL) {
			fprintf(stderr, "sdpp buy: --mqtt-out: %s\n", err);
			rc = CLI_EXIT_CONNECT;
			goto out;
		}
	}
	x.progress = isatty(STDERR_FILENO) && !x.quiet;
	x.currency = "";
	x.seller_key = keyarg;
	x.budget = budget;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (x.want_iota) {
		uint8_t pub[SDPP_SIGN_PUBLIC_BYTES], addr[IOTA_ADDRESS_BYTES];

		/* The account is the key's on every network: the order can
		 * name it before the menu says which network. */
		sdpp_identity_sign_public(id, pub);
		x.base = event_base_new();
		if (x.base == NULL || iota_address_from_public(addr, pub) != IOTA_OK) {
			fprintf(stderr, "sdpp buy: --iota: cannot set up the IOTA client\n");
			goto out;
		}
		iota_address_format(pay_from, addr);
		x.id = id;
		x.max_gas = max_gas;
	}
	bc.id = id;
	memcpy(bc.seller, seller, sizeof(bc.seller));
	bc.max_price = max_price;
	bc.budget = budget;
	if (x.want_iota)
		snprintf(bc.payment_address, sizeof(bc.payment_address), "%s", pay_from);
	if (session(&x, &cl, hostport, &bc) != 0 || x.failed) {
		rc = report_end(&x, &cl);
		if (rc == 0)
			rc = CLI_EXIT_ERROR;
		goto out;
	}
	if (x.progress)
		fputc('\n', stderr);
	rc = report_end(&x, &cl);
	if (rc != 0)
		goto out;
	if (x.have_statement && !x.quiet)
		fprintf(stderr,
		    "settled: %" PRIu64 " items received, %" PRIu64 " %s due, %" PRIu64
		    " %s paid\n",
		    x.st.delivered, x.st.total_due, x.currency, x.st.total_paid, x.currency);
	rc = settled_status(&x);
	if (receipt != NULL && write_receipt(&x, seller, receipt) != 0 && rc == CLI_EXIT_OK)
		rc = CLI_EXIT_ERROR;
out:
	if (x.out != NULL && x.out != stdout)
		fclose(x.out);
	else if (x.out != NULL)
		fflush(stdout);
	if (x.iota != NULL && tangle_queued(x.iota) > 0) {
		/* A transfer under way may already be on chain: let it finish
		 * (bounded), so that its digest is at least printed. */
		uint64_t until = now_ms() + PAY_DRAIN_MS;

		fprintf(stderr, "sdpp buy: waiting for the IOTA payment under way\n");
		while (tangle_queued(x.iota) > 0 && now_ms() < until)
			if (event_base_loop(x.base, EVLOOP_ONCE) != 0)
				break;
	}
	free(x.st_frame);
	mqtt_out_close(x.mqtt);
	client_close(&cl);
	tangle_free(x.iota);
	if (x.base != NULL)
		event_base_free(x.base);
	sdpp_secret_free(pem, pemlen);
	sdpp_identity_free(id);
	return rc;
}
