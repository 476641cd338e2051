/* Buyer connections on the loop: framing, the seller machine, its bookkeeping, live samples. */
#include <errno.h>
#include <stdarg.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "gateway/access.h"
#include "gateway/book.h"
#include "gateway/cut.h"
#include "gateway/discover.h"
#include "gateway/gateway.h"
#include "gateway/iota.h"
#include "gateway/log.h"
#include "gateway/pool.h"
#include "gateway/records.h"
#include "gateway/server.h"
#include "gateway/tls.h"
#include "mqtt/mqtt.h"
#include "sdpp/enc.h"
#include "sdpp/framer.h"
#include "sdpp/session.h"
#include "util/clock.h"
#include "util/text.h"

/* Bytes moved from the socket per read callback; the framer caps frames. */
#define READ_CHUNK 16384
/* Samples taken from the MQTT queue per loop turn, so buyers' sockets get
 * written between batches. */
#define SAMPLE_BATCH 256
/* Log one line per this many samples dropped for one buyer. */
#define DROP_LOG_EVERY 1000
/* Discovery changes are gathered this long before the menu is rebuilt:
 * a broker replays a building's hundreds of retained configs at once. */
#define DISCOVERY_SETTLE_MS 200
/* Subscriptions at most: every product's filter, the feeds running orders
 * still use after a reload, and discovery's. */
#define FILTERS_MAX (2 * CONFIG_PRODUCTS_MAX + DISCOVER_FILTERS)
/* Buckets of the feed index (a power of two): a sample's topic finds the
 * feed of that exact filter in one look-up; only wildcard filters are
 * matched one by one. */
#define FEED_BUCKETS 8192

/*
 * A menu snapshot. Buyers that have not ordered yet point at the current
 * one; a reload makes a new one and the old one lives until its last
 * reader goes (reference counted), so a session never sees a menu change
 * under it.
 */
struct menu {
	int refs;
	struct sdpp_menu m;
	struct sdpp_product *products; /* m.nproducts: [product] sections, then discovered */
	struct cut **cuts;             /* per product; NULL: sells whole payloads of every topic */
	struct server_product **stats; /* per product; NULL past PSTATS_MAX */
};

/* Products counted since start: the menu's, and those a reload or
 * discovery took off it. Past it, a new product is not counted. */
#define PSTATS_MAX (2 * CONFIG_PRODUCTS_MAX)

struct conn;

/*
 * A feed: one MQTT filter and the buyers streaming it. Products map to
 * feeds by filter; a feed outlives a reload while running orders use it.
 */
struct feed {
	char filter[CONFIG_TOPIC_MAX + 1];
	int in_config; /* a current product uses it */
	int64_t last_seen;
	uint64_t samples;
	/* The current menu's products on this filter, whose last_seen a
	 * sample moves (indexes into srv->menu->products). */
	size_t *prods;
	size_t nprods, aprods;
	int wild;                 /* the filter holds '+' or '#' */
	struct feed *hnext;       /* in srv->buckets */
	TAILQ_ENTRY(feed) wentry; /* in srv->wild, if wild */
	TAILQ_HEAD(, conn) buyers;
	TAILQ_ENTRY(feed) entry;
};

/* A connection's transport: plain until its first bytes are read (a TLS
 * client on a plain port is told so), or TLS while handshaking, then up. */
enum conn_tls { CONN_PLAIN_NEW, CONN_PLAIN, CONN_TLS_HANDSHAKE, CONN_TLS_UP };

/*
 * Output held behind an item whose signature a worker is computing
 * (worker_threads): a buyer's frames leave in order, so whatever the
 * session wrote after that item waits for it. Plain bytes, or one data
 * frame being signed in place.
 */
struct pend {
	struct pool_work work; /* first: the pool hands it back */
	struct pend *next;
	struct conn *c;                 /* holds a ref while signing */
	const struct sdpp_identity *id; /* the seller's, for the worker */
	unsigned char signing;          /* at a worker: not ours to touch */
	unsigned char orphan;           /* its socket went: free it when signed */
	unsigned char failed;           /* the worker could not sign it */
	size_t len;
	char buf[];
};

/*
 * A buyer's frame whose signature a worker checks (worker_threads): its
 * connection reads nothing more until it comes back, so the session still
 * takes the buyer's frames one by one, in order.
 */
struct check {
	struct pool_work work;         /* first: the pool hands it back */
	struct conn *c;                /* holds a ref while at the worker */
	const struct sdpp_verifier *v; /* the session's buyer key, read only */
	unsigned char orphan;          /* its socket went: drop the frame */
	unsigned char ok;              /* the signature verified */
	size_t len;
	char frame[];
};

/*
 * One buyer. Kept small, as a gateway may serve thousands: the socket is
 * read straight into the framer (bufferevent for output only), frames and
 * events go through the server's one scratch sdpp_out, and the ACK batch
 * exists only while it holds ACKs.
 */
struct conn {
	uint64_t id; /* session id in logs */
	struct server *srv;
	struct bufferevent *bev; /* output; closes the socket when freed */
	struct event *rev;       /* input: the socket is readable (NULL with TLS: bev reads) */
	char peer[80];           /* numeric host:port (IPv6 with scope fits) */
	struct sdpp_framer *framer;
	struct sdpp_seller *s;
	/* The server's scratch (srv->out): every call into the session is
	 * followed by conn_process(), which drains it before any other
	 * connection can use it. */
	struct sdpp_out *out;
	struct event *timer;
	struct menu *menu; /* until the order is accepted */
	struct feed *feed; /* while streaming */
	struct cut *cut;   /* while streaming; NULL: whole payloads */
	char *narrow;      /* the order's topic filter (sdpp/2); NULL: the whole product */
	struct server_product *pstat;       /* while streaming: its product's counts (or NULL) */
	char peer_error[SDPP_NAME_MAX + 1]; /* the code of an error the buyer sent, "" none */
	uint64_t paid_counted;              /* payment total counted into pstat->paid */
	uint64_t order_record;              /* the order's record id, once durable */
	char product[SDPP_NAME_MAX + 1];
	struct book book;
	int refs;    /* record waiters and payments in flight */
	int closing; /* flush output, then free */
	int dead;    /* freed at the next safe point */
	/* The socket went, the order waits for its buyer's resume (no bev,
	 * rev or framer; what the session writes goes nowhere). */
	int parked;
	const struct sdpp_msg *resume; /* this new connection's resume, to route */
	/* enum conn_tls: a byte, in the padding before the next member */
	unsigned char tls;
	uint64_t dropped_logged;
	struct pend *pend, **pend_tail; /* output held for a signature, in order */
	size_t pend_bytes;
	uint64_t sent_turn;     /* the loop turn of its last write straight to the socket */
	struct check *checking; /* a frame of the buyer's at a worker; reading paused */
	char *unread;           /* input read after it, fed once it is back */
	size_t unread_len;
	struct access_slot *slot;     /* its address's count (gateway/access.h), or NULL */
	TAILQ_ENTRY(conn) entry;      /* all connections */
	TAILQ_ENTRY(conn) feed_entry; /* buyers of c->feed */
};

struct server {
	struct gw *gw;
	struct evconnlistener *listener;
	SSL_CTX *tls; /* [gateway] tls_cert: new connections speak TLS; NULL: plain */
	struct event *sample_ev, *reap_ev;
	struct menu *menu;
	TAILQ_HEAD(, conn) conns;
	TAILQ_HEAD(, feed) feeds;
	TAILQ_HEAD(, feed) wild;            /* the feeds whose filter has a wildcard */
	struct feed *buckets[FEED_BUCKETS]; /* every feed, by its filter */
	size_t nconns;                      /* with a socket */
	size_t nparked;                     /* orders waiting for a resume */
	uint64_t next_conn_id;
	uint64_t nsamples; /* samples dispatched: the cuts' key */
	struct server_product pstats[PSTATS_MAX];
	size_t npstats;
	/* Frames and events of the session call being handled. The loop
	 * serves one connection at a time and copies the frames to its
	 * bufferevent at once, so one buffer serves every buyer. */
	struct sdpp_out out;
	/* The log line of the record the connection being served appends:
	 * written once that record is durable (conn_record_done), so the log
	 * never tells of a record the ledger lost. "" when none waits. Set
	 * and taken within one session call, so one serves every buyer. */
	char note[256];
	enum ledger_kind note_kind; /* the kind of record note belongs to */
	struct pool *signers;       /* worker_threads; NULL: the loop signs items */
	/* Home Assistant discovery: the announcements, the prefix they were
	 * read under, and the timer that rebuilds the menu once they settle. */
	struct discover *disc;
	char disc_prefix[CONFIG_TOPIC_MAX + 1]; /* "" while discovery is off */
	struct event *disc_ev;
	int disc_pending;
	void (*menu_changed)(void *arg);
	void *menu_changed_arg;
	/* Connections per address, and the signed errors that refuse one
	 * over its limits (refuse_address()), too_many_connections first. */
	struct access_limit *limit;
	char *refusal[2];
	size_t refusal_len[2];
	uint64_t refusal_log_ms, refusals_unlogged;
};

static void conn_kill(struct conn *c, const char *why);
static void conn_process(struct conn *c);
static void conn_resume(struct conn *c);
static void conn_drop_socket(struct conn *c);
static void conn_read_cb(evutil_socket_t fd, short what, void *arg);
static void conn_tls_read_cb(struct bufferevent *bev, void *arg);
static void conn_write_cb(struct bufferevent *bev, void *arg);
static void conn_event_cb(struct bufferevent *bev, short what, void *arg);

static uint64_t
now_ms(void)
{
	return (uint64_t)util_now_ms();
}

static void
reap_schedule(struct server *srv)
{
	event_active(srv->reap_ev, EV_TIMEOUT, 0);
}

/* ------------------------------------------------------------ menus, feeds */

static void
menu_release(struct menu *m)
{
	size_t i;

	if (m == NULL || --m->refs > 0)
		return;
	for (i = 0; i < m->m.nproducts; i++)
		cut_release(m->cuts[i]);
	free(m->cuts);
	free(m->stats);
	free(m->products);
	free(m);
}

static struct server_product *
pstats_for(struct server *srv, const char *product)
{
	size_t i;

	for (i = 0; i < srv->npstats; i++)
		if (strcmp(srv->pstats[i].product, product) == 0)
			return &srv->pstats[i];
	if (srv->npstats == PSTATS_MAX)
		return NULL;
	snprintf(srv->pstats[srv->npstats].product, sizeof(srv->pstats[0].product), "%s", product);
	return &srv->pstats[srv->npstats++];
}

/* The index of product in menu m, or m->m.nproducts. */
static size_t
menu_find(const struct menu *m, const char *product)
{
	size_t i;

	for (i = 0; i < m->m.nproducts; i++)
		if (strcmp(m->products[i].id, product) == 0)
			break;
	return i;
}

/* FNV-1a of a filter or topic, to a bucket. */
static size_t
feed_bucket(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h & (FEED_BUCKETS - 1);
}

static struct feed *
feed_find(struct server *srv, const char *filter)
{
	struct feed *f;

	for (f = srv->buckets[feed_bucket(filter)]; f != NULL; f = f->hnext)
		if (strcmp(f->filter, filter) == 0)
			return f;
	return NULL;
}

static struct feed *
feed_get(struct server *srv, const char *filter)
{
	struct feed *f = feed_find(srv, filter);

	if (f != NULL)
		return f;
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		log_fatalx("out of memory");
	snprintf(f->filter, sizeof(f->filter), "%s", filter);
	TAILQ_INIT(&f->buyers);
	TAILQ_INSERT_TAIL(&srv->feeds, f, entry);
	f->hnext = srv->buckets[feed_bucket(filter)];
	srv->buckets[feed_bucket(filter)] = f;
	f->wild = strpbrk(filter, "+#") != NULL;
	if (f->wild)
		TAILQ_INSERT_TAIL(&srv->wild, f, wentry);
	return f;
}

/* The menu of the current configuration and discovered sensors. */
static struct menu *
menu_new(struct server *srv)
{
	const struct gateway_config *cfg = srv->gw->cfg;
	struct menu *m = calloc(1, sizeof(*m));
	struct product_config *disc = NULL;
	size_t i, ndisc = 0, n;
	struct feed *f;

	if (m == NULL)
		log_fatalx("out of memory");
	if (cfg->discovery_enabled) {
		size_t max = CONFIG_PRODUCTS_MAX - cfg->nproducts;

		/* As many as were announced, not the whole cap (11 MB). */
		if (max > discover_announced(srv->disc))
			max = discover_announced(srv->disc);
		disc = calloc(max + 1, sizeof(*disc));
		if (disc == NULL)
			log_fatalx("out of memory");
		ndisc = discover_products(srv->disc, cfg, disc, max);
	}
	n = cfg->nproducts + ndisc;
	m->refs = 1;
	m->products = calloc(n + 1, sizeof(*m->products));
	m->cuts = calloc(n + 1, sizeof(*m->cuts));
	m->stats = calloc(n + 1, sizeof(*m->stats));
	if (m->products == NULL || m->cuts == NULL || m->stats == NULL)
		log_fatalx("out of memory");
	config_menu(cfg, &m->m, m->products);
	for (i = 0; i < ndisc; i++)
		config_product(cfg, &disc[i], &m->products[cfg->nproducts + i]);
	m->m.nproducts = n;
	sdpp_identity_sign_public(srv->gw->id, m->m.seller);
	for (i = 0; i < n; i++) {
		const struct product_config *pc =
		    i < cfg->nproducts ? &cfg->products[i] : &disc[i - cfg->nproducts];

		f = feed_find(srv, pc->topic);
		m->products[i].last_seen = f != NULL ? f->last_seen : 0;
		/* Counted per product id, so the counts outlive a reload;
		 * products that sell everything have no cut and no unsold rows. */
		m->stats[i] = pstats_for(srv, pc->id);
		m->cuts[i] = cut_new(pc);
		if (m->cuts[i] != NULL && m->stats[i] != NULL) {
			m->stats[i]->cut = 1;
			cut_set_stats(m->cuts[i], &m->stats[i]->st);
		}
	}
	free(disc);
	return m;
}

void
server_menu_reload(struct server *srv)
{
	const struct gateway_config *cfg = srv->gw->cfg;
	struct menu *m;
	struct conn *c;

	/* Another prefix (or none): what was announced under the old one no
	 * longer counts; the broker replays the new one's on subscribe. */
	if (strcmp(srv->disc_prefix, cfg->discovery_enabled ? cfg->discovery_prefix : "") != 0) {
		discover_clear(srv->disc);
		snprintf(srv->disc_prefix, sizeof(srv->disc_prefix), "%s",
		    cfg->discovery_enabled ? cfg->discovery_prefix : "");
	}
	m = menu_new(srv);

	menu_release(srv->menu);
	srv->menu = m;
	/* Buyers still choosing see new prices; running orders keep theirs
	 * (the session copied product, price and K when it accepted). */
	TAILQ_FOREACH(c, &srv->conns, entry)
	{
		if (c->menu == NULL || c->dead)
			continue;
		menu_release(c->menu);
		c->menu = m;
		m->refs++;
		sdpp_seller_set_menu(c->s, &m->m);
	}
}

const struct sdpp_menu *
server_menu(const struct server *srv)
{
	return &srv->menu->m;
}

/* Takes f out of the server's lists and index, and frees it. */
static void
feed_free(struct server *srv, struct feed *f)
{
	struct feed **p = &srv->buckets[feed_bucket(f->filter)];

	while (*p != f)
		p = &(*p)->hnext;
	*p = f->hnext;
	TAILQ_REMOVE(&srv->feeds, f, entry);
	if (f->wild)
		TAILQ_REMOVE(&srv->wild, f, wentry);
	free(f->prods);
	free(f);
}

static void
feed_add_product(struct feed *f, size_t i)
{
	if (f->nprods == f->aprods) {
		size_t n = f->aprods ? 2 * f->aprods : 4;
		size_t *p = realloc(f->prods, n * sizeof(*p));

		if (p == NULL)
			log_fatalx("out of memory");
		f->prods = p;
		f->aprods = n;
	}
	f->prods[f->nprods++] = i;
}

int
server_feeds_sync(struct server *srv)
{
	const struct menu *m = srv->menu;
	const char *filters[FILTERS_MAX];
	char disc[DISCOVER_FILTERS][CONFIG_TOPIC_MAX + 1], err[256];
	struct feed *f, *next;
	size_t i, n = 0;

	TAILQ_FOREACH(f, &srv->feeds, entry)
	{
		f->in_config = 0;
		f->nprods = 0;
	}
	for (i = 0; i < m->m.nproducts; i++) {
		f = feed_get(srv, m->products[i].topic);
		f->in_config = 1;
		feed_add_product(f, i);
	}
	for (f = TAILQ_FIRST(&srv->feeds); f != NULL; f = next) {
		next = TAILQ_NEXT(f, entry);
		if (!f->in_config && TAILQ_EMPTY(&f->buyers)) {
			feed_free(srv, f);
			continue;
		}
		if (n < FILTERS_MAX - DISCOVER_FILTERS)
			filters[n++] = f->filter;
	}
	if (srv->disc_prefix[0] != '\0') {
		size_t k = discover_filters(srv->disc_prefix, disc);

		for (i = 0; i < k; i++)
			filters[n++] = disc[i];
	}
	if (srv->gw->mqtt == NULL)
		return 0;
	if (mqtt_set_filters(srv->gw->mqtt, filters, n, err, sizeof(err)) != 0) {
		log_warnx("event=mqtt_subscribe error=\"%s\"", err);
		return -1;
	}
	return 0;
}

/* Updates last_seen in the current menu for every product on this feed
 * (server_feeds_sync() listed them). */
static void
menu_seen(struct server *srv, const struct feed *f)
{
	size_t i;

	for (i = 0; i < f->nprods; i++)
		if (f->prods[i] < srv->menu->m.nproducts) {
			srv->menu->products[f->prods[i]].last_seen = f->last_seen;
			if (srv->menu->stats[f->prods[i]] != NULL)
				srv->menu->stats[f->prods[i]]->samples++;
		}
}

/* ------------------------------------------------------------ bookkeeping */

/* A record of this session on its way to the ledger, and what waits for it. */
struct conn_req {
	struct conn *c;
	uint64_t req; /* the session's request to complete, 0 if none */
	enum ledger_kind kind;
	uint64_t amount;  /* an invoice's amount, a payment's total */
	uint64_t invoice; /* an invoice's number */
	char note[256];   /* logged once the record is durable */
};

static void
conn_release(struct conn *c)
{
	if (--c->refs == 0 && c->dead)
		reap_schedule(c->srv);
}

/* Sets the log line of the next record of kind this session appends (a
 * book call may append receipts first: the line is not theirs). */
static void conn_note(struct conn *c, enum ledger_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
conn_note(struct conn *c, enum ledger_kind kind, const char *fmt, ...)
{
	va_list ap;

	c->srv->note_kind = kind;
	va_start(ap, fmt);
	vsnprintf(c->srv->note, sizeof(c->srv->note), fmt, ap);
	va_end(ap);
}

/* After a book call: a note no record took (nothing was appended) is
 * logged now, since there is nothing in the ledger it could disagree with. */
static void
conn_note_flush(struct conn *c, int log)
{
	struct server *srv = c->srv;

	if (srv->note[0] != '\0' && log)
		log_info("%llu %s", (unsigned long long)c->id, srv->note);
	srv->note[0] = '\0';
}

/*
 * After the group commit that carried a record of this session. Success:
 * the record's log line, and the request that waited is completed (the
 * order's session key, the invoice, the payment's credit, the statement).
 * Failure (fail closed, docs/OPERATIONS.md): the record has no effect. The
 * request fails, or the session is ended with a signed error: nothing the
 * ledger does not hold is acted on, and no credit is given that it does
 * not hold.
 */
static void
conn_record_done(void *arg, int ok, uint64_t record)
{
	struct conn_req *q = arg;
	struct conn *c = q->c;
	struct gw *gw = c->srv->gw;
	char verif[96];

	if (ok) {
		/* Record 0: held until the order's next checkpoint. */
		if (q->note[0] != '\0' && record != 0)
			log_info("%llu %s record=%llu", (unsigned long long)c->id, q->note,
			    (unsigned long long)record);
		else if (q->note[0] != '\0')
			log_info("%llu %s record=held", (unsigned long long)c->id, q->note);
		if (q->kind == LEDGER_ORDER) {
			gw->stats.orders++;
			c->order_record = record;
		} else if (q->kind == LEDGER_INVOICE)
			gw->stats.invoices++;
		else if (q->kind == LEDGER_PAYMENT)
			gw->stats.payments++;
		/* Money per product, as the ledger holds it: payments are
		 * cumulative totals, so each counts what it adds. */
		if (q->kind == LEDGER_INVOICE && c->pstat != NULL)
			c->pstat->invoiced += q->amount;
		if (q->kind == LEDGER_PAYMENT && q->amount > c->paid_counted) {
			if (c->pstat != NULL)
				c->pstat->paid += q->amount - c->paid_counted;
			c->paid_counted = q->amount;
		}
	} else {
		log_warnx("%llu event=record_lost kind=%s%s%s", (unsigned long long)c->id,
		    ledger_kind_name(q->kind), q->note[0] != '\0' ? " what=" : "", q->note);
	}
	if (!c->dead && !sdpp_seller_done(c->s)) {
		if (ok && q->req != 0) {
			struct sdpp_tree_head th;
			int have = 1;

			/* A held invoice is named by its order's record and
			 * its number: "ledger:42/invoice/3" (OPERATIONS.md). */
			if (record == 0 && q->kind == LEDGER_INVOICE)
				snprintf(verif, sizeof(verif), LEDGER_ID_PREFIX "%llu/invoice/%llu",
				    (unsigned long long)c->order_record,
				    (unsigned long long)q->invoice);
			else
				ledger_id_format(verif, record);
			/* The sdpp/2 statement carries the log's latest signed tree
			 * head: with sth_every = 0 this commit's, which covers the
			 * exit record (PROTOCOL.md 15.5). None: fail closed. */
			if (q->kind == LEDGER_EXIT && sdpp_seller_version(c->s) == 2)
				have = ledger_latest_tree_head(gw->ledger, &th) == 0 &&
				       sdpp_seller_set_tree_head(c->s, &th) == SDPP_OK;
			(void)sdpp_seller_complete(c->s, q->req, have, verif, now_ms(), c->out);
		} else if (!ok && q->req != 0 && q->kind != LEDGER_PAYMENT) {
			/* The session's own words: "order could not be recorded". */
			(void)sdpp_seller_complete(c->s, q->req, 0, "", now_ms(), c->out);
		} else if (!ok) {
			/* A payment (not rejected: unrecorded), receipts, a close. */
			(void)sdpp_seller_fail(c->s, SDPP_E_INTERNAL,
			    q->kind == LEDGER_PAYMENT ? "payment could not be recorded: the "
			                                "seller's ledger refused a write"
			                              : "session could not be recorded: the "
			                                "seller's ledger refused a write",
			    c->out);
		}
		conn_process(c);
	}
	conn_release(c);
	free(q);
}

/* The book's sink: the record joins the next group commit, and whatever
 * waits for it (a request, a log line, the session itself) is settled
 * after that commit. */
static int
conn_append(void *ctx, struct ledger_record *r, uint64_t req)
{
	struct conn *c = ctx;
	struct conn_req *q = calloc(1, sizeof(*q));

	if (q == NULL)
		log_fatalx("out of memory");
	q->c = c;
	q->req = req;
	q->kind = r->kind;
	q->amount = r->amount;
	q->invoice = r->invoice;
	if (r->kind == c->srv->note_kind) {
		memcpy(q->note, c->srv->note, sizeof(q->note));
		c->srv->note[0] = '\0';
	}
	if (records_append(c->srv->gw->records, r, conn_record_done, q) != 0) {
		free(q);
		return -1;
	}
	c->refs++;
	return 0;
}

static struct book_sink
conn_sink(struct conn *c)
{
	struct book_sink k = { conn_append, c, c->srv->gw->ledger };

	return k;
}

static void
conn_close_record(struct conn *c, const char *reason)
{
	struct book_sink k = conn_sink(c);

	book_close(&c->book, &k, c->s, reason, util_now_ms());
}

/* ------------------------------------------------------------ sessions */

static void
timer_arm(struct conn *c)
{
	uint64_t d = sdpp_seller_deadline(c->s), now = now_ms();
	struct timeval tv;

	if (d == UINT64_MAX || c->dead) {
		evtimer_del(c->timer);
		return;
	}
	d = d > now ? d - now : 0;
	tv.tv_sec = (time_t)(d / 1000);
	tv.tv_usec = (suseconds_t)(d % 1000) * 1000;
	evtimer_add(c->timer, &tv);
}

/* Where a streaming order gets its samples from. */
static void
conn_join_feed(struct conn *c)
{
	const char *product = sdpp_seller_product(c->s);
	size_t i;

	if (product == NULL || c->feed != NULL || c->menu == NULL)
		return;
	snprintf(c->product, sizeof(c->product), "%s", product);
	/* The filter and cut of the menu this order was accepted from. */
	i = menu_find(c->menu, product);
	if (i == c->menu->m.nproducts)
		return;
	c->cut = c->menu->cuts[i];
	cut_ref(c->cut);
	c->pstat = c->menu->stats[i];
	c->feed = feed_get(c->srv, c->menu->products[i].topic);
	TAILQ_INSERT_TAIL(&c->feed->buyers, c, feed_entry);
}

struct pay_ctx {
	struct conn *c;
	uint64_t req;
	const struct sdpp_msg *msg; /* the session keeps it until completed */
};

static void
payment_done(void *arg, int ok, const char *ref)
{
	struct pay_ctx *p = arg;
	struct conn *c = p->c;
	struct gw *gw = c->srv->gw;
	struct book_sink k = conn_sink(c);
	enum book_result br;

	if (ok >= 0 && !c->dead && !sdpp_seller_done(c->s)) {
		/*
		 * Confirmed money is credited once its record is durable (the
		 * record's commit completes the request): a commit that fails
		 * gives no credit, so no item goes out beyond what the ledger
		 * holds as paid (fail closed). The record is queued, and counts
		 * for ledger_has_payment_ref, from now on.
		 */
		br = BOOK_FAILED;
		if (ok) {
			conn_note(c, LEDGER_PAYMENT,
			    "event=payment invoice=%llu total=%llu ref=\"%s\"",
			    (unsigned long long)p->msg->u.payment.invoice,
			    (unsigned long long)p->msg->u.payment.total, ref != NULL ? ref : "");
			br = book_payment(
			    &c->book, &k, c->s, p->msg, gw->payment.name, p->req, util_now_ms());
			conn_note_flush(c, 0);
			if (br == BOOK_REFUSED)
				log_warnx("%llu event=payment_refused reason=\"reference already "
				          "paid\"",
				    (unsigned long long)c->id);
		}
		if (br != BOOK_OK) {
			(void)sdpp_seller_complete(c->s, p->req, 0, "", now_ms(), c->out);
			conn_process(c);
		}
	}
	conn_release(c);
	free(p);
}

/*
 * An sdpp/2 order's topic narrows the product to part of its filter
 * (PROTOCOL, version 2): it must be a filter within the product's. Checked
 * last, after the session's own checks, and before anything is recorded.
 * Returns 0 (c->narrow set when the order names a topic), or -1 with the
 * session failed.
 */
static int
order_narrow(struct conn *c, const struct sdpp_msg *order)
{
	const char *topic = order->u.order.topic, *product = order->u.order.product;
	char why[SDPP_TEXT_MAX + 1];
	size_t i;

	if (topic == NULL || topic[0] == '\0') /* NULL: an sdpp/1 order */
		return 0;
	i = menu_find(c->menu, product);
	if (i == c->menu->m.nproducts) /* the session checked it against this menu */
		return 0;
	if (!mqtt_filter_valid(topic)) {
		snprintf(why, sizeof(why), "order.topic: not an MQTT topic filter");
		log_warnx(
		    "%llu event=order_refused reason=bad_topic_filter", (unsigned long long)c->id);
		(void)sdpp_seller_fail(c->s, SDPP_E_BAD_MESSAGE, why, c->out);
		return -1;
	}
	if (!mqtt_filter_within(topic, c->menu->products[i].topic)) {
		snprintf(why, sizeof(why),
		    "order.topic is not within product %s's topic filter %.128s", product,
		    c->menu->products[i].topic);
		log_warnx("%llu event=order_refused reason=bad_topic product=%s",
		    (unsigned long long)c->id, product);
		(void)sdpp_seller_fail(c->s, SDPP_E_TOPIC, why, c->out);
		return -1;
	}
	c->narrow = strdup(topic);
	if (c->narrow == NULL)
		log_fatalx("out of memory");
	return 0;
}

static void
on_order(struct conn *c, const struct sdpp_event *ev)
{
	struct gw *gw = c->srv->gw;
	struct book_sink k = conn_sink(c);
	char hex[SDPP_HEX_LEN(SDPP_ORDER_ID_BYTES)], bhex[SDPP_HEX_LEN(SDPP_SIGN_PUBLIC_BYTES)];
	enum sdpp_err code = SDPP_OK;
	const char *why = NULL;
	enum access_refusal refused;

	sdpp_hex_encode(hex, sdpp_seller_order_id(c->s), SDPP_ORDER_ID_BYTES);
	sdpp_hex_encode(bhex, sdpp_seller_buyer(c->s), SDPP_SIGN_PUBLIC_BYTES);
	/* Who may buy, first: a refused key leaves no record at all. */
	refused = access_key_check(gw->cfg->allow, gw->cfg->deny, sdpp_seller_buyer(c->s));
	if (refused != ACCESS_OK) {
		gw->stats.access_refused[refused]++;
		log_warnx("%llu event=order_refused order=%.16s buyer=%.16s peer=%s reason=%s",
		    (unsigned long long)c->id, hex, bhex, c->peer, access_refusal_name(refused));
		(void)sdpp_seller_fail(
		    c->s, SDPP_E_NOT_ALLOWED, "this buyer key may not buy here", c->out);
		return;
	}
	if (gw->pay_iota != NULL &&
	    !gw_iota_is_account_of(sdpp_seller_buyer(c->s), sdpp_seller_buyer_address(c->s))) {
		log_warnx("%llu event=order_refused order=%.16s reason=payment_address",
		    (unsigned long long)c->id, hex);
		(void)sdpp_seller_fail(c->s, SDPP_E_BAD_MESSAGE,
		    "order.payment_address: pay from the IOTA account of your buyer key "
		    "(sdpp iota address KEY)",
		    c->out);
		return;
	}
	if (order_narrow(c, ev->msg) != 0)
		return;
	if (sdpp_framer_set_cap(c->framer, gw->cfg->max_frame) != SDPP_OK) {
		(void)sdpp_seller_complete(c->s, ev->req, 0, "", now_ms(), c->out);
		return;
	}
	/* Logged once the order is durable, with its record's id. */
	conn_note(c, LEDGER_ORDER,
	    "event=order order=%.16s buyer=%.16s peer=%s product=%s quantity=%llu price=%llu", hex,
	    bhex, c->peer, sdpp_seller_product(c->s), (unsigned long long)ev->msg->u.order.quantity,
	    (unsigned long long)ev->msg->u.order.price);
	switch (book_order(&c->book, &k, c->s, ev, util_now_ms(), &code, &why)) {
	case BOOK_REFUSED:
		conn_note_flush(c, 0);
		log_warnx("%llu event=order_refused order=%.16s reason=replayed",
		    (unsigned long long)c->id, hex);
		(void)sdpp_seller_fail(c->s, code, why, c->out);
		return;
	case BOOK_FAILED:
		conn_note_flush(c, 0);
		(void)sdpp_seller_complete(c->s, ev->req, 0, "", now_ms(), c->out);
		return;
	case BOOK_OK:
		break;
	}
	conn_note_flush(c, 0);
	conn_join_feed(c);
	menu_release(c->menu);
	c->menu = NULL;
}

static void
on_payment(struct conn *c, const struct sdpp_event *ev)
{
	struct gw *gw = c->srv->gw;
	struct sdpp_progress pr;
	struct payment_check pc;
	struct pay_ctx *p = calloc(1, sizeof(*p));

	if (p == NULL)
		log_fatalx("out of memory");
	p->c = c;
	p->req = ev->req;
	p->msg = ev->msg;
	c->refs++;
	sdpp_seller_progress(c->s, &pr);
	pc.payment = ev->msg;
	pc.buyer = sdpp_seller_buyer(c->s);
	pc.buyer_address = sdpp_seller_buyer_address(c->s);
	pc.paid_before = pr.total_paid;
	pc.conn = c->id;
	if (gw->payment.confirm(gw->payment.ctx, &pc, payment_done, p) != 0)
		payment_done(p, 0, "payment backend refused to start");
}

static void
on_close(struct conn *c, const struct sdpp_event *ev)
{
	struct gw *gw = c->srv->gw;
	struct sdpp_progress pr;
	const char *why;
	char buyer_why[SDPP_NAME_MAX + 1];

	sdpp_seller_progress(c->s, &pr);
	why = book_close_reason(ev->err, &pr);
	/* The buyer ended it (wrong seller key, over its budget, ...): say so,
	 * so that the alerts meant for the gateway's own faults stay quiet. */
	if (ev->err == SDPP_E_REMOTE && c->peer_error[0] != '\0') {
		snprintf(buyer_why, sizeof(buyer_why), "buyer_%.57s", c->peer_error);
		why = buyer_why;
	}
	conn_note(c, LEDGER_CLOSE, "event=close reason=%s sent=%llu acked=%llu due=%llu paid=%llu",
	    why, (unsigned long long)pr.sent, (unsigned long long)pr.acked,
	    (unsigned long long)pr.total_due, (unsigned long long)pr.total_paid);
	conn_close_record(c, why);
	conn_note_flush(c, 1);
	c->closing = 1;
	gw->stats.closed++;
	gw->stats.items += pr.sent;
}

static void
handle_event(struct conn *c, const struct sdpp_event *ev)
{
	struct book_sink k = conn_sink(c);
	struct sdpp_progress pr;

	switch (ev->type) {
	case SDPP_EV_ORDER:
		on_order(c, ev);
		break;
	case SDPP_EV_INVOICE:
		conn_note(c, LEDGER_INVOICE,
		    "event=invoice invoice=%llu items=%llu-%llu amount=%llu total_due=%llu",
		    (unsigned long long)ev->invoice->number,
		    (unsigned long long)ev->invoice->first_seq,
		    (unsigned long long)ev->invoice->last_seq,
		    (unsigned long long)ev->invoice->amount,
		    (unsigned long long)ev->invoice->total_due);
		if (book_invoice(&c->book, &k, c->s, ev, util_now_ms()) != BOOK_OK) {
			conn_note_flush(c, 0);
			(void)sdpp_seller_complete(c->s, ev->req, 0, "", now_ms(), c->out);
			break;
		}
		conn_note_flush(c, 0);
		break;
	case SDPP_EV_PAYMENT:
		on_payment(c, ev);
		break;
	case SDPP_EV_RECEIPT:
		book_receipt(&c->book, &k, c->s, ev, util_now_ms());
		break;
	case SDPP_EV_EXIT:
		conn_note(c, LEDGER_EXIT, "event=exit items=%llu total=%llu",
		    (unsigned long long)ev->msg->u.exit.seq,
		    (unsigned long long)ev->msg->u.exit.total);
		if (book_exit(&c->book, &k, c->s, ev, util_now_ms()) != BOOK_OK) {
			conn_note_flush(c, 0);
			(void)sdpp_seller_complete(c->s, ev->req, 0, "", now_ms(), c->out);
			break;
		}
		conn_note_flush(c, 0);
		break;
	case SDPP_EV_PAUSED:
		log_info("%llu event=paused reason=unpaid", (unsigned long long)c->id);
		break;
	case SDPP_EV_RESUMED:
		log_debug("%llu event=resumed", (unsigned long long)c->id);
		break;
	case SDPP_EV_DROPPED:
		sdpp_seller_progress(c->s, &pr);
		if (pr.dropped >= c->dropped_logged + DROP_LOG_EVERY || c->dropped_logged == 0) {
			log_info("%llu event=dropped samples=%llu reason=buyer_blocked",
			    (unsigned long long)c->id, (unsigned long long)pr.dropped);
			c->dropped_logged = pr.dropped;
		}
		break;
	case SDPP_EV_RESUME:
		c->resume = ev->msg;
		break;
	case SDPP_EV_REJOINED:
		conn_note(c, LEDGER_RESUME, "event=resume_recorded items=%llu attempt=%llu",
		    (unsigned long long)ev->msg->u.resume.seq,
		    (unsigned long long)ev->msg->u.resume.attempt);
		if (book_resume(&c->book, &k, c->s, ev, util_now_ms()) != BOOK_OK)
			(void)sdpp_seller_fail(c->s, SDPP_E_INTERNAL,
			    "resume could not be recorded: the seller's ledger refused a write",
			    c->out);
		conn_note_flush(c, 0);
		break;
	case SDPP_EV_PEER_ERROR:
		snprintf(c->peer_error, sizeof(c->peer_error), "%s", ev->msg->u.error.code);
		log_info("%llu event=buyer_error code=%s message=\"%s\"", (unsigned long long)c->id,
		    ev->msg->u.error.code, ev->msg->u.error.message);
		break;
	case SDPP_EV_CLOSE:
		on_close(c, ev);
		break;
	default:
		break;
	}
}

/* ------------------------------------------------------------ output, and items signed off the
 * loop */

/*
 * Writes len bytes to c's socket: the first write of a loop turn straight
 * to the kernel when nothing waits before it (a plain socket with room),
 * everything else through the bufferevent, which writes it all at once
 * later in the turn. Through libevent alone, every item cost two
 * epoll_ctl() calls (the write event added, then removed once drained;
 * 8% of the gateway's CPU in a 1,000-buyer fan-out) and waited for the
 * fan-out to end; straight to the kernel every time, a buyer taking
 * thousands of items a second cost a system call each. An error is left
 * to the bufferevent to find, as before (a lost buyer may resume). 0, or
 * -1 when out of memory.
 */
static int
conn_send(struct conn *c, const char *buf, size_t len)
{
	struct timeval tv;
	uint64_t turn;
	ssize_t n = 0;

	if (len == 0)
		return 0;
	if (c->rev != NULL && evbuffer_get_length(bufferevent_get_output(c->bev)) == 0 &&
	    event_base_gettimeofday_cached(c->srv->gw->base, &tv) == 0) {
		/* libevent's cached time changes once per loop turn. */
		turn = (uint64_t)tv.tv_sec * 1000000 + (uint64_t)tv.tv_usec;
		if (c->sent_turn != turn) {
			c->sent_turn = turn;
			n = send(bufferevent_getfd(c->bev), buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n < 0)
				n = 0;
		}
	}
	return (size_t)n == len ? 0 : bufferevent_write(c->bev, buf + n, len - (size_t)n);
}

static void
pend_run(struct pool_work *w)
{
	struct pend *p = (struct pend *)(void *)w;

	p->failed = sdpp_data_frame_sign(p->buf, p->len, p->id) != SDPP_OK;
}

static void pend_done(struct pool_work *w);

/* Holds len bytes of c's output behind what is held already; sign: a data
 * frame that a worker signs first. */
static int
pend_add(struct conn *c, const char *buf, size_t len, int sign)
{
	struct pend *p;

	if (len == 0)
		return 0;
	p = malloc(sizeof(*p) + len);
	if (p == NULL)
		return -1;
	memset(p, 0, sizeof(*p));
	memcpy(p->buf, buf, len);
	p->len = len;
	p->c = c;
	p->id = c->srv->gw->id;
	*c->pend_tail = p;
	c->pend_tail = &p->next;
	c->pend_bytes += len;
	/* Only a session with signers defers signatures (conn_new). */
	if (sign) {
		p->signing = 1;
		p->work.run = pend_run;
		p->work.done = pend_done;
		c->refs++; /* c stays until the worker is done with p */
		c->srv->gw->stats.worker_signed++;
		pool_submit(c->srv->signers, &p->work);
	}
	return 0;
}

/* Forgets the held output (its socket is gone); frames at a worker are
 * freed when they come back. */
static void
pend_orphan(struct conn *c)
{
	struct pend *p, *next;

	for (p = c->pend; p != NULL; p = next) {
		next = p->next;
		if (p->signing)
			p->orphan = 1;
		else
			free(p);
	}
	c->pend = NULL;
	c->pend_tail = &c->pend;
	c->pend_bytes = 0;
}

/* Writes the held output up to the first frame still being signed. */
static void
pend_flush(struct conn *c)
{
	struct pend *p;

	while ((p = c->pend) != NULL && !p->signing) {
		c->pend = p->next;
		if (c->pend == NULL)
			c->pend_tail = &c->pend;
		c->pend_bytes -= p->len;
		/* A frame the worker could not sign (no memory) is signed here,
		 * or the buyer is let go: it never leaves unsigned. */
		if (p->failed && sdpp_data_frame_sign(p->buf, p->len, p->id) != SDPP_OK) {
			free(p);
			log_warnx("%llu event=sign_failed", (unsigned long long)c->id);
			conn_kill(c, "an item could not be signed");
			return;
		}
		if (conn_send(c, p->buf, p->len) != 0) {
			free(p);
			conn_kill(c, "write failed");
			return;
		}
		free(p);
	}
}

/* A frame comes back signed: it and what waited behind it go out. */
static void
pend_done(struct pool_work *w)
{
	struct pend *p = (struct pend *)(void *)w;
	struct conn *c = p->c;

	p->signing = 0;
	if (p->orphan) {
		free(p);
	} else if (!c->dead) {
		pend_flush(c);
		/* Closing: the last frames are out of our hands once written. */
		if (!c->dead && c->closing && c->pend == NULL &&
		    evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
			conn_kill(c, NULL);
	}
	conn_release(c);
}

/*
 * Writes the session's frames to c's socket, or holds them behind an item
 * still being signed (SDPP_EV_SIGN_ITEM; with none held, nothing waits).
 * Returns -1 when c was killed.
 */
static int
conn_write(struct conn *c)
{
	const struct sdpp_out *o = c->out;
	size_t i, at = 0;
	int hold = c->pend != NULL;

	for (i = 0; i < o->nev && !hold; i++)
		hold = o->ev[i].type == SDPP_EV_SIGN_ITEM;
	if (!hold)
		return conn_send(c, o->buf, o->len);
	for (i = 0; i < o->nev; i++) {
		const struct sdpp_event *ev = &o->ev[i];

		if (ev->type != SDPP_EV_SIGN_ITEM)
			continue;
		if (pend_add(c, o->buf + at, ev->off - at, 0) != 0 ||
		    pend_add(c, o->buf + ev->off, ev->len, 1) != 0)
			return -1;
		at = ev->off + ev->len;
	}
	if (pend_add(c, o->buf + at, o->len - at, 0) != 0)
		return -1;
	pend_flush(c);
	return c->dead ? -1 : 0;
}

static void
conn_process(struct conn *c)
{
	struct evbuffer *output;
	size_t i;

	if (c->dead) {
		/* Never leave this session's frames for the next connection. */
		sdpp_out_clear(c->out);
		return;
	}
	/* Handling an event may call into the session again (a failed record
	 * completes its request at once): those add events to the same out,
	 * which this index loop then also handles, in order. */
	for (i = 0; i < c->out->nev; i++)
		handle_event(c, &c->out->ev[i]);
	if (c->parked) {
		/* Nobody to write to: the session keeps what a resume resends. */
		sdpp_out_clear(c->out);
		if (c->closing)
			conn_kill(c, NULL);
		else
			timer_arm(c);
		return;
	}
	if (c->resume != NULL) {
		sdpp_out_clear(c->out); /* nothing: the session only asked */
		conn_resume(c);
		return;
	}
	if (conn_write(c) != 0) {
		sdpp_out_clear(c->out);
		conn_kill(c, "write failed");
		return;
	}
	sdpp_out_clear(c->out);
	output = bufferevent_get_output(c->bev);
	if (!c->closing &&
	    evbuffer_get_length(output) + c->pend_bytes > c->srv->gw->cfg->output_cap) {
		/* The session's window bounds what an honest buyer has in
		 * flight; only a buyer that stopped reading gets here. */
		log_info("%llu event=close reason=slow_consumer queued=%zu",
		    (unsigned long long)c->id, evbuffer_get_length(output));
		conn_close_record(c, "slow_consumer");
		conn_kill(c, NULL);
		return;
	}
	if (c->closing) {
		/* Still in the TLS handshake: the timer armed at accept bounds it. */
		if (c->tls != CONN_TLS_HANDSHAKE)
			evtimer_del(c->timer);
		if (evbuffer_get_length(output) == 0 && c->pend == NULL)
			conn_kill(c, NULL);
		return; /* the write callback, or the last signature, kills it */
	}
	timer_arm(c);
}

void
server_anchored(void *arg, const char *order_hex, uint64_t record, const char *ref)
{
	struct server *srv = arg;
	char hex[SDPP_HEX_LEN(SDPP_ORDER_ID_BYTES)], rec[LEDGER_ID_LEN];
	struct conn *c;

	TAILQ_FOREACH(c, &srv->conns, entry)
	{
		const uint8_t *oid = c->dead ? NULL : sdpp_seller_order_id(c->s);

		if (oid == NULL)
			continue;
		sdpp_hex_encode(hex, oid, SDPP_ORDER_ID_BYTES);
		if (strcmp(hex, order_hex) != 0)
			continue;
		ledger_id_format(rec, record);
		if (sdpp_seller_anchor(c->s, rec, ref, c->out) == SDPP_OK)
			conn_process(c);
		return;
	}
}

/* ------------------------------------------------------------ resume */

/* The running order with this id (parked or not), NULL if none. Resumes
 * are rare: a scan costs less than an index kept on every order. */
static struct conn *
conn_by_order(struct server *srv, const uint8_t *order_id)
{
	struct conn *c;

	TAILQ_FOREACH(c, &srv->conns, entry)
	{
		const uint8_t *oid = c->dead || c->closing ? NULL : sdpp_seller_order_id(c->s);

		if (oid != NULL && memcmp(oid, order_id, SDPP_ORDER_ID_BYTES) == 0)
			return c;
	}
	return NULL;
}

static int
account_found(void *ctx, const struct ledger_account *a)
{
	*(struct ledger_account *)ctx = *a;
	return 0;
}

/* Why an order named by a resume is not here, as far as the ledger knows:
 * a buyer told "has ended here: resume_timeout" knows to stop trying. */
static void
order_gone(struct server *srv, const char *hex, char *why, size_t len)
{
	struct ledger_account a;
	char err[LEDGER_ERR_MAX];

	memset(&a, 0, sizeof(a));
	if (ledger_accounts(srv->gw->ledger, hex, NULL, account_found, &a, err, sizeof(err)) == 0 &&
	    a.order_id[0] != '\0' && a.closed)
		snprintf(why, len, "order %.16s... has ended here: %s", hex, a.reason);
	else if (a.order_id[0] != '\0')
		snprintf(why, len, "order %.16s... is not open for resume here", hex);
	else
		snprintf(why, len, "no order %.16s... here", hex);
}

/*
 * The order's session (c) takes over the new connection's socket and
 * framer (from n, which then goes without a word). A socket c still had
 * is a half-open one: the buyer has already left it.
 */
static void
conn_take_socket(struct conn *c, struct conn *n)
{
	struct server *srv = c->srv;
	evutil_socket_t fd = bufferevent_getfd(n->bev);

	if (c->parked) {
		c->parked = 0;
		srv->nparked--;
	} else {
		log_info("%llu event=takeover peer=%s reason=\"resumed from %s\"",
		    (unsigned long long)c->id, c->peer, n->peer);
		conn_drop_socket(c);
	}
	sdpp_framer_free(c->framer);
	c->framer = n->framer;
	n->framer = NULL;
	c->bev = n->bev;
	n->bev = NULL;
	c->slot = n->slot;
	n->slot = NULL;
	c->tls = n->tls;
	memcpy(c->peer, n->peer, sizeof(c->peer));
	if (n->rev != NULL) {
		event_del(n->rev);
		event_free(n->rev);
		n->rev = NULL;
		c->rev = event_new(srv->gw->base, fd, EV_READ | EV_PERSIST, conn_read_cb, c);
		if (c->rev == NULL || event_add(c->rev, NULL) != 0)
			log_fatalx("cannot watch a buyer's socket");
		bufferevent_setcb(c->bev, NULL, conn_write_cb, conn_event_cb, c);
	} else {
		bufferevent_setcb(c->bev, conn_tls_read_cb, conn_write_cb, conn_event_cb, c);
	}
	/* The order's frames may be as large as its menu allows. */
	if (sdpp_framer_set_cap(c->framer, srv->gw->cfg->max_frame) != SDPP_OK)
		log_fatalx("out of memory");
}

/*
 * n's first frame resumes an order (PROTOCOL.md 15.6). The order's session
 * checks it; a refusal goes to n (the order is not disturbed by a resume it
 * refused: anyone can name an order id), an acceptance moves n's socket to
 * the order.
 */
static void
conn_resume(struct conn *n)
{
	struct server *srv = n->srv;
	const struct sdpp_msg *m = n->resume;
	char hex[SDPP_HEX_LEN(SDPP_ORDER_ID_BYTES)], why[SDPP_TEXT_MAX + 1];
	struct conn *c;
	enum sdpp_err e;

	n->resume = NULL;
	sdpp_hex_encode(hex, m->u.resume.order_id, SDPP_ORDER_ID_BYTES);
	c = conn_by_order(srv, m->u.resume.order_id);
	if (c == NULL) {
		e = SDPP_E_UNKNOWN_ORDER;
		order_gone(srv, hex, why, sizeof(why));
	} else {
		e = sdpp_seller_resume(c->s, m, now_ms(), c->out, why, sizeof(why));
	}
	if (e != SDPP_OK) {
		sdpp_out_clear(n->out);
		srv->gw->stats.resumes_refused++;
		log_info("%llu event=resume_refused order=%.16s peer=%s code=%s why=\"%s\"",
		    (unsigned long long)n->id, hex, n->peer, sdpp_err_code(e), why);
		(void)sdpp_seller_fail(n->s, e, why, n->out);
		conn_process(n);
		return;
	}
	srv->gw->stats.resumes++;
	log_info("%llu event=resumed order=%.16s conn=%llu peer=%s seq=%llu attempt=%llu",
	    (unsigned long long)c->id, hex, (unsigned long long)n->id, n->peer,
	    (unsigned long long)m->u.resume.seq, (unsigned long long)m->u.resume.attempt);
	/* The frames for the buyer wait in the shared out: move the socket
	 * first, then let the order's session write them (and record the
	 * resume) while n's session, which holds m, still exists. */
	conn_take_socket(c, n);
	conn_process(c);
	conn_kill(n, NULL);
}

/* ------------------------------------------------------------ connections */

static void
conn_free(struct conn *c)
{
	if (c->rev != NULL)
		event_free(c->rev);
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	if (c->timer != NULL)
		event_free(c->timer);
	pend_orphan(c);
	free(c->unread);
	book_clear(&c->book);
	cut_release(c->cut);
	free(c->narrow);
	sdpp_seller_free(c->s);
	sdpp_framer_free(c->framer);
	menu_release(c->menu);
	free(c);
}

/* Closes c's socket, if it has one, and forgets it: the session stays. */
static void
conn_drop_socket(struct conn *c)
{
	struct server *srv = c->srv;

	pend_orphan(c); /* a resume resends from the session, signed */
	if (c->checking != NULL) {
		/* A frame of the socket that went: dropped with the rest of
		 * what it sent (the buyer resends what a resume needs). */
		c->checking->orphan = 1;
		c->checking = NULL;
	}
	free(c->unread);
	c->unread = NULL;
	c->unread_len = 0;
	if (c->rev != NULL) {
		event_del(c->rev); /* before the socket closes */
		event_free(c->rev);
		c->rev = NULL;
	}
	if (c->bev == NULL)
		return;
	bufferevent_free(c->bev); /* closes the socket; libevent defers the free */
	c->bev = NULL;
	access_limit_release(srv->limit, c->slot);
	c->slot = NULL;
	srv->nconns--;
}

/* Marks c dead and detaches it; the memory goes at the next safe point. */
static void
conn_kill(struct conn *c, const char *why)
{
	struct server *srv = c->srv;

	if (c->dead)
		return;
	if (why != NULL)
		log_debug("%llu event=disconnect reason=\"%s\"", (unsigned long long)c->id, why);
	c->dead = 1;
	if (c->feed != NULL) {
		struct feed *f = c->feed;

		TAILQ_REMOVE(&f->buyers, c, feed_entry);
		c->feed = NULL;
		/* The last buyer of a product a reload removed: unsubscribe. */
		if (!f->in_config && TAILQ_EMPTY(&f->buyers))
			(void)server_feeds_sync(srv);
	}
	evtimer_del(c->timer);
	conn_drop_socket(c);
	if (c->parked) {
		c->parked = 0;
		srv->nparked--;
	}
	reap_schedule(srv);
}

static void
reap_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;
	struct conn *c, *next;

	(void)fd;
	(void)what;
	for (c = TAILQ_FIRST(&srv->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (c->dead && c->refs == 0) {
			TAILQ_REMOVE(&srv->conns, c, entry);
			conn_free(c);
		}
	}
	if (srv->gw->stopping && TAILQ_EMPTY(&srv->conns) && records_idle(srv->gw->records))
		event_base_loopexit(srv->gw->base, NULL);
}

static void
conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)what;
	if (!c->dead && c->tls == CONN_TLS_HANDSHAKE) {
		/* Nothing can reach a buyer before its handshake: just close. */
		log_info("%llu event=tls_failed peer=%s reason=handshake_timeout",
		    (unsigned long long)c->id, c->peer);
		conn_kill(c, NULL);
		return;
	}
	if (c->dead || sdpp_seller_done(c->s))
		return;
	(void)sdpp_seller_tick(c->s, now_ms(), c->out);
	conn_process(c);
}

/*
 * The buyer's connection dropped under a running sdpp/2 order: the order
 * waits for its resume (resume_timeout), taking samples into its queue.
 * Its partial input goes with the socket: a resume starts on a new one.
 */
static void
conn_park(struct conn *c, const char *why)
{
	struct sdpp_progress pr;
	char hex[SDPP_HEX_LEN(SDPP_ORDER_ID_BYTES)];

	sdpp_seller_progress(c->s, &pr);
	sdpp_hex_encode(hex, sdpp_seller_order_id(c->s), SDPP_ORDER_ID_BYTES);
	log_info("%llu event=detached order=%.16s reason=\"%s\" sent=%llu acked=%llu "
	         "resume_timeout=%llums",
	    (unsigned long long)c->id, hex, why, (unsigned long long)pr.sent,
	    (unsigned long long)pr.acked, (unsigned long long)c->srv->gw->cfg->resume_timeout_ms);
	sdpp_seller_detach(c->s, now_ms());
	conn_drop_socket(c);
	sdpp_framer_free(c->framer);
	c->framer = NULL;
	c->parked = 1;
	c->srv->nparked++;
	timer_arm(c);
}

/* The buyer went away (EOF or a socket error): record it, then free. */
static void
conn_lost(struct conn *c, const char *why)
{
	if (c->dead)
		return;
	/* Waiting orders are bounded as connections are: at most max_buyers
	 * of them; beyond, an order ends with its connection as before. */
	if (!c->srv->gw->stopping && sdpp_seller_resumable(c->s) &&
	    c->srv->nparked < c->srv->gw->cfg->max_buyers) {
		conn_park(c, why);
		return;
	}
	if (!sdpp_seller_done(c->s) && sdpp_seller_order_id(c->s) != NULL) {
		struct sdpp_progress pr;

		sdpp_seller_progress(c->s, &pr);
		log_info(
		    "%llu event=close reason=disconnected sent=%llu acked=%llu due=%llu paid=%llu",
		    (unsigned long long)c->id, (unsigned long long)pr.sent,
		    (unsigned long long)pr.acked, (unsigned long long)pr.total_due,
		    (unsigned long long)pr.total_paid);
		conn_close_record(c, "disconnected");
	}
	conn_kill(c, why);
}

/* Stops (pause) or restarts reading c's socket. */
static void
conn_read_pause(struct conn *c, int pause)
{
	if (c->bev == NULL)
		return;
	if (c->rev != NULL) {
		if (pause)
			event_del(c->rev);
		else if (event_add(c->rev, NULL) != 0)
			log_fatalx("cannot watch a buyer's socket");
	} else if (pause) {
		bufferevent_disable(c->bev, EV_READ);
	} else {
		bufferevent_enable(c->bev, EV_READ);
	}
}

static void
check_run(struct pool_work *w)
{
	struct check *k = (struct check *)(void *)w;
	struct sdpp_msg m;

	memset(&m, 0, sizeof(m));
	k->ok = sdpp_msg_parse(&m, k->frame, k->len, SDPP_ROLE_BUYER, NULL, 0) == SDPP_OK &&
	        sdpp_msg_verify(&m, k->v) == SDPP_OK;
	sdpp_msg_free(&m);
}

static void check_done(struct pool_work *w);

/*
 * Once the order is accepted every frame of the buyer's is signed by its
 * key: a worker checks it (two per invoice boundary, the ACK and the
 * payment: most of the loop's work there otherwise). Returns 1 when frame
 * went to a worker, 0 when the session should take it now.
 */
static int
conn_check(struct conn *c, const char *frame, size_t len)
{
	const struct sdpp_verifier *v = sdpp_seller_verifier(c->s);
	struct check *k;

	if (c->srv->signers == NULL || v == NULL || c->bev == NULL)
		return 0;
	k = malloc(sizeof(*k) + len);
	if (k == NULL)
		return 0; /* the session checks it itself */
	memset(k, 0, sizeof(*k));
	k->work.run = check_run;
	k->work.done = check_done;
	k->c = c;
	k->v = v;
	k->len = len;
	memcpy(k->frame, frame, len);
	c->checking = k;
	c->refs++; /* c stays until the worker is done with k */
	c->srv->gw->stats.worker_checked++;
	conn_read_pause(c, 1);
	pool_submit(c->srv->signers, &k->work);
	return 1;
}

/* Keeps the rest of a read while a frame is at a worker, to feed it
 * afterwards: at most READ_CHUNK, as nothing more is read meanwhile (the
 * socket's event is off; TLS input waits in the bufferevent). */
static void
conn_keep_unread(struct conn *c, const char *buf, size_t n)
{
	char *p;

	if (n == 0)
		return;
	p = realloc(c->unread, c->unread_len + n);
	if (p == NULL)
		log_fatalx("out of memory");
	memcpy(p + c->unread_len, buf, n);
	c->unread = p;
	c->unread_len += n;
}

/* Hands the framer's complete frames to the session, in order. Returns 1
 * when it stopped at one a worker checks first. */
static int
conn_frames(struct conn *c)
{
	const char *frame;
	size_t len;
	enum sdpp_err e = SDPP_E_AGAIN;

	while (
	    !c->dead && !c->closing && (e = sdpp_framer_next(c->framer, &frame, &len)) == SDPP_OK) {
		if (conn_check(c, frame, len))
			return 1;
		(void)sdpp_seller_input(c->s, frame, len, now_ms(), c->out);
		conn_process(c);
	}
	if (e == SDPP_E_FRAME_TOO_LARGE && !c->dead && !c->closing) {
		log_info("%llu event=refused reason=frame_too_large", (unsigned long long)c->id);
		(void)sdpp_seller_fail(
		    c->s, SDPP_E_FRAME_TOO_LARGE, "frame exceeds the limit", c->out);
		conn_process(c);
	}
	return 0;
}

/* Hands the bytes read to the framer and each complete frame to the session. */
static void
conn_feed(struct conn *c, const char *buf, size_t n)
{
	size_t off = 0, took;
	enum sdpp_err e;

	while (!c->dead && !c->closing && off < n) {
		took = sdpp_framer_feed(c->framer, buf + off, n - off, &e);
		off += took;
		if (e == SDPP_E_NOMEM)
			log_fatalx("out of memory");
		if (conn_frames(c)) {
			conn_keep_unread(c, buf + off, n - off);
			return;
		}
		if (took == 0)
			break;
	}
}

/* The frame at the worker is back: the session takes it, then the input
 * that waited behind it, and reading starts again. */
static void
check_done(struct pool_work *w)
{
	struct check *k = (struct check *)(void *)w;
	struct conn *c = k->c;
	char *buf;
	size_t n;

	if (!k->orphan && !c->dead) {
		c->checking = NULL;
		if (!c->closing) {
			(void)sdpp_seller_input_checked(
			    c->s, k->frame, k->len, k->ok, now_ms(), c->out);
			conn_process(c);
		}
		if (!c->dead && !conn_frames(c)) {
			buf = c->unread;
			n = c->unread_len;
			c->unread = NULL;
			c->unread_len = 0;
			if (buf != NULL && !c->closing)
				conn_feed(c, buf, n);
			free(buf);
			/* TLS input read before the pause waits in the bufferevent,
			 * which calls back only when more comes. */
			if (!c->dead && c->checking == NULL && c->rev == NULL)
				conn_tls_read_cb(c->bev, c);
			if (!c->dead && c->checking == NULL) {
				sdpp_framer_trim(c->framer);
				conn_read_pause(c, 0);
			}
		}
	}
	free(k);
	conn_release(c);
}

/*
 * The socket is read here, not by the bufferevent: its input buffer would
 * keep a few KB per buyer for bytes the framer copies at once anyway.
 * Level-triggered, so whatever one read leaves comes back next turn.
 */
static void
conn_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	char buf[READ_CHUNK];
	ssize_t n;

	(void)what;
	if (c->dead)
		return;
	n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		conn_lost(c, evutil_socket_error_to_string(errno));
		return;
	}
	if (n == 0) {
		conn_lost(c, "eof");
		return;
	}
	if (c->tls == CONN_PLAIN_NEW) {
		c->tls = CONN_PLAIN;
		/* A TLS ClientHello (a handshake record) is no SDPP frame:
		 * say so at once instead of waiting for a line that never ends. */
		if (buf[0] == 0x16) {
			log_info("%llu event=refused peer=%s reason=tls_on_plain_port",
			    (unsigned long long)c->id, c->peer);
			(void)sdpp_seller_fail(
			    c->s, SDPP_E_BAD_MESSAGE, "this port speaks SDPP without TLS", c->out);
			conn_process(c);
			return;
		}
	}
	/* Input after an error or exit is ignored: the connection is going. */
	if (!c->closing)
		conn_feed(c, buf, (size_t)n);
	/* Buyers send little (an ACK now and then): keep no buffer between. */
	if (!c->dead && c->checking == NULL)
		sdpp_framer_trim(c->framer);
}

/* With TLS the bufferevent reads (it must, to decrypt): its input goes
 * to the framer at once, as conn_read_cb's does. */
static void
conn_tls_read_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char buf[READ_CHUNK];
	int n;

	/* A frame at a worker: the rest waits here (check_done). */
	while (!c->dead && c->checking == NULL && evbuffer_get_length(in) > 0) {
		n = evbuffer_remove(in, buf, sizeof(buf));
		if (n <= 0)
			break;
		/* Input after an error or exit is ignored: the connection is going. */
		if (!c->closing)
			conn_feed(c, buf, (size_t)n);
	}
	if (!c->dead && c->checking == NULL)
		sdpp_framer_trim(c->framer);
}

static void
conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	if (c->closing && !c->dead && c->pend == NULL)
		conn_kill(c, NULL);
}

/*
 * A failed handshake whose peer did not speak TLS at all (reason, an
 * OpenSSL error, says so): a plain buyer, whose hello OpenSSL read only a
 * record header of. OpenSSL sends no alert to a peer without a version,
 * so one is sent here (protocol_version), which a plain buyer recognises
 * as TLS. Reading the rest of its hello first lets the close be a FIN,
 * not a reset that could destroy the alert before the buyer reads it.
 * Bounded: a few reads.
 */
static void
conn_tls_refuse_plain(struct bufferevent *bev, unsigned long reason)
{
	static const unsigned char alert[] = { 0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46 };
	int fd = SSL_get_fd(bufferevent_openssl_get_ssl(bev));
	char junk[4096];
	int i;

	if (fd < 0 || (ERR_GET_REASON(reason) != SSL_R_WRONG_VERSION_NUMBER &&
	                  ERR_GET_REASON(reason) != SSL_R_HTTP_REQUEST))
		return;
	for (i = 0; i < 16; i++)
		if (recv(fd, junk, sizeof(junk), MSG_DONTWAIT) <= 0)
			break;
	(void)send(fd, alert, sizeof(alert), MSG_DONTWAIT | MSG_NOSIGNAL);
}

/* Output errors only: reading (and EOF) is conn_read_cb's. With TLS, also
 * the end of the handshake and every input error. */
static void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	if ((what & BEV_EVENT_CONNECTED) && c->tls == CONN_TLS_HANDSHAKE && !c->dead) {
		c->tls = CONN_TLS_UP;
		log_debug("%llu event=tls peer=%s version=%s", (unsigned long long)c->id, c->peer,
		    SSL_get_version(bufferevent_openssl_get_ssl(bev)));
		/* From now on the session's own timers apply. */
		if (!c->closing)
			timer_arm(c);
		return;
	}
	if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)))
		return;
	if (c->tls == CONN_TLS_HANDSHAKE || c->tls == CONN_TLS_UP) {
		unsigned long e = bufferevent_get_openssl_error(bev);
		const char *r = e != 0 ? ERR_reason_error_string(e) : NULL;

		while (bufferevent_get_openssl_error(bev) != 0)
			continue; /* the first error is the reason; drop the rest */
		if (c->tls == CONN_TLS_HANDSHAKE && !c->dead) {
			/* A port probe (a health check, a scanner) closes before
			 * any handshake: not worth a line at info level. */
			int probe =
			    r == NULL || ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING;

			log_level(probe ? 7 : 6, "%llu event=tls_failed peer=%s reason=\"%s\"",
			    (unsigned long long)c->id, c->peer,
			    r != NULL                ? r
			    : (what & BEV_EVENT_EOF) ? "eof"
			                             : "socket error");
			conn_tls_refuse_plain(bev, e);
		}
		if (r != NULL) {
			conn_lost(c, r);
			return;
		}
	}
	conn_lost(c,
	    what & BEV_EVENT_ERROR ? evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()) : "eof");
}

/* c's bufferevent for TLS on fd, the server accepting with the current
 * context (which the SSL holds a reference to across reloads). */
static void
conn_tls_new(struct conn *c, evutil_socket_t fd)
{
	SSL *ssl = SSL_new(c->srv->tls);

	if (ssl == NULL)
		log_fatalx("out of memory");
	c->tls = CONN_TLS_HANDSHAKE;
	/* Frees ssl (and closes fd) with it, or on failure. */
	c->bev = bufferevent_openssl_socket_new(
	    c->srv->gw->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	/* A buyer that just closes its socket has left, as over plain TCP. */
	if (c->bev != NULL)
		bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
}

static struct conn *
conn_new(struct server *srv, evutil_socket_t fd, struct sockaddr *sa, int salen)
{
	struct gw *gw = srv->gw;
	struct sdpp_seller_config scfg;
	struct conn *c = calloc(1, sizeof(*c));
	char host[64], serv[8]; /* numeric: IPv6 with a scope id, a port */
	int one = 1;

	if (c == NULL)
		log_fatalx("out of memory");
	c->srv = srv;
	c->id = ++srv->next_conn_id;
	c->pend_tail = &c->pend;
	if (getnameinfo(sa, (socklen_t)salen, host, sizeof(host), serv, sizeof(serv),
	        NI_NUMERICHOST | NI_NUMERICSERV) == 0)
		snprintf(c->peer, sizeof(c->peer), "%s:%s", host, serv);
	/* Frames are small and latency matters: never wait for Nagle. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	if (srv->tls != NULL) {
		conn_tls_new(c, fd);
	} else {
		c->bev = bufferevent_socket_new(gw->base, fd, BEV_OPT_CLOSE_ON_FREE);
		c->rev = event_new(gw->base, fd, EV_READ | EV_PERSIST, conn_read_cb, c);
		if (c->rev == NULL)
			log_fatalx("out of memory");
	}
	c->framer = sdpp_framer_new(SDPP_FRAME_CAP_HANDSHAKE);
	c->timer = evtimer_new(gw->base, conn_timer_cb, c);
	if (c->bev == NULL || c->framer == NULL || c->timer == NULL)
		log_fatalx("out of memory");
	c->menu = srv->menu;
	c->menu->refs++;
	memset(&scfg, 0, sizeof(scfg));
	scfg.id = gw->id;
	scfg.menu = &c->menu->m;
	scfg.handshake_timeout_ms = gw->cfg->handshake_timeout_ms;
	scfg.ack_timeout_ms = gw->cfg->ack_timeout_ms;
	scfg.max_resends = (uint32_t)gw->cfg->max_resends;
	scfg.payment_timeout_ms = gw->cfg->payment_timeout_ms;
	scfg.idle_timeout_ms = gw->cfg->idle_timeout_ms;
	scfg.resume_timeout_ms = gw->cfg->resume_timeout_ms;
	scfg.window = gw->cfg->window;
	scfg.queue_max = (size_t)gw->cfg->buyer_queue;
	scfg.max_quantity = gw->cfg->max_quantity;
	scfg.defer_item_signatures = srv->signers != NULL;
	if (sdpp_seller_new(&c->s, &scfg, now_ms()) != SDPP_OK)
		log_fatalx("cannot create a session");
	c->out = &srv->out;
	if (c->rev != NULL) {
		bufferevent_setcb(c->bev, NULL, conn_write_cb, conn_event_cb, c);
		bufferevent_disable(c->bev, EV_READ);
		bufferevent_enable(c->bev, EV_WRITE);
		if (event_add(c->rev, NULL) != 0)
			log_fatalx("cannot watch a buyer's socket");
	} else {
		struct timeval tv = { (time_t)(gw->cfg->handshake_timeout_ms / 1000),
			(suseconds_t)(gw->cfg->handshake_timeout_ms % 1000) * 1000 };

		bufferevent_setcb(c->bev, conn_tls_read_cb, conn_write_cb, conn_event_cb, c);
		if (bufferevent_enable(c->bev, EV_READ | EV_WRITE) != 0)
			log_fatalx("cannot watch a buyer's socket");
		/* The handshake gets as long as the SDPP one would. */
		evtimer_add(c->timer, &tv);
	}
	TAILQ_INSERT_TAIL(&srv->conns, c, entry);
	srv->nconns++;
	return c;
}

/*
 * An address over its limits is refused before anything is allocated for
 * it or read from it: its signed error goes out and the socket closes. The
 * two errors were signed once, at start (an error names no order, buyer or
 * time, so the same bytes serve every refusal): a signature per refusal
 * (tens of microseconds) would let a flood of connects buy CPU far more
 * cheaply than they cost to make, which is what the limits are against.
 * The frame fits any socket buffer, so one send() writes it or nothing is
 * lost that a flood was owed. One log line a second at most.
 */
static void
refuse_address(struct server *srv, evutil_socket_t fd, const struct sockaddr *sa, int salen,
    enum access_refusal r)
{
	int i = r == ACCESS_RATE;
	uint64_t now = now_ms();
	char host[64] = "?";

	/* With TLS a buyer could not read a frame sent outside it, and a
	 * handshake per refusal would cost what the limits save: just close. */
	if (srv->tls == NULL)
		(void)send(fd, srv->refusal[i], srv->refusal_len[i], MSG_DONTWAIT | MSG_NOSIGNAL);
	evutil_closesocket(fd);
	srv->gw->stats.access_refused[r]++;
	if (now - srv->refusal_log_ms < 1000) {
		srv->refusals_unlogged++;
		return;
	}
	(void)getnameinfo(sa, (socklen_t)salen, host, sizeof(host), NULL, 0, NI_NUMERICHOST);
	log_info("event=refused peer=%s reason=%s unlogged=%llu", host, access_refusal_name(r),
	    (unsigned long long)srv->refusals_unlogged);
	srv->refusal_log_ms = now;
	srv->refusals_unlogged = 0;
}

/* The signed errors refuse_address() sends. Returns 0, or -1 with err. */
static int
refusals_sign(struct server *srv, char *err, size_t errlen)
{
	static const struct {
		enum sdpp_err code;
		const char *message;
	} r[2] = {
		{ SDPP_E_TOO_MANY_CONNS, "too many connections from this address, try later" },
		{ SDPP_E_RATE_LIMITED, "new connections from this address too fast, try later" },
	};
	struct sdpp_msg m;
	int i;

	for (i = 0; i < 2; i++) {
		memset(&m, 0, sizeof(m));
		m.type = SDPP_T_ERROR;
		m.from = SDPP_ROLE_SELLER;
		snprintf(m.u.error.code, sizeof(m.u.error.code), "%s", sdpp_err_code(r[i].code));
		snprintf(m.u.error.message, sizeof(m.u.error.message), "%s", r[i].message);
		if (sdpp_msg_encode(&m, srv->gw->id, &srv->refusal[i], &srv->refusal_len[i]) !=
		    SDPP_OK) {
			snprintf(err, errlen, "cannot sign the refusals of the address limits");
			return -1;
		}
	}
	return 0;
}

static void
accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen, void *arg)
{
	struct server *srv = arg;
	struct gw *gw = srv->gw;
	struct access_slot *slot;
	enum access_refusal r;
	struct conn *c;

	(void)l;
	gw->stats.accepted++;
	r = access_limit_admit(srv->limit, sa, (socklen_t)salen, now_ms(),
	    gw->cfg->max_conns_per_address, gw->cfg->max_new_conns_per_second, &slot);
	if (r != ACCESS_OK) {
		refuse_address(srv, fd, sa, salen, r);
		return;
	}
	c = conn_new(srv, fd, sa, salen);
	c->slot = slot;
	if (gw->stopping || srv->nconns > gw->cfg->max_buyers) {
		gw->stats.refused++;
		log_info("%llu event=refused peer=%s reason=%s", (unsigned long long)c->id, c->peer,
		    gw->stopping ? "shutting_down" : "busy");
		(void)sdpp_seller_fail(c->s, gw->stopping ? SDPP_E_SHUTDOWN : SDPP_E_BUSY,
		    gw->stopping ? "seller is shutting down" : "too many buyers, try later",
		    c->out);
		conn_process(c);
		return;
	}
	log_debug("%llu event=connect peer=%s", (unsigned long long)c->id, c->peer);
	timer_arm(c);
}

static void
listener_error_cb(struct evconnlistener *l, void *arg)
{
	(void)l;
	(void)arg;
	/* EMFILE and friends: keep serving the buyers we have. */
	log_warn("accept");
}

static int
server_listen(struct server *srv, char *err, size_t errlen)
{
	const char *listen = srv->gw->cfg->listen;
	struct util_hostport hp;
	struct addrinfo hints, *res = NULL;
	char why[UTIL_HOST_MAX + 64];
	int rc;

	if (util_hostport_split(&hp, listen, UTIL_HOSTPORT_PASSIVE, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "listen %s", why);
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(hp.host[0] != '\0' ? hp.host : NULL, hp.port, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "listen `%s': %s", listen, gai_strerror(rc));
		return -1;
	}
	srv->listener = evconnlistener_new_bind(srv->gw->base, accept_cb, srv,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC, 512, res->ai_addr,
	    (int)res->ai_addrlen);
	freeaddrinfo(res);
	if (srv->listener == NULL) {
		snprintf(err, errlen, "listen `%s': %s", listen, strerror(errno));
		return -1;
	}
	evconnlistener_set_error_cb(srv->listener, listener_error_cb);
	return 0;
}

/* ------------------------------------------------------------ samples */

/* Discovery changed the sensors: rebuild the menu once they settle. */
static void
discovery_settle(struct server *srv)
{
	struct timeval tv = { 0, DISCOVERY_SETTLE_MS * 1000 };

	if (srv->disc_pending)
		return;
	srv->disc_pending = 1;
	evtimer_add(srv->disc_ev, &tv);
}

static void
discovery_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;
	const struct discover_stats *st;

	(void)fd;
	(void)what;
	srv->disc_pending = 0;
	if (srv->gw->stopping)
		return;
	server_menu_reload(srv);
	(void)server_feeds_sync(srv);
	st = discover_stats(srv->disc);
	log_info("event=discovery_menu products=%zu discovered=%zu denied=%zu duplicates=%zu",
	    srv->menu->m.nproducts, st->products, st->denied, st->duplicates);
	if (srv->menu_changed != NULL)
		srv->menu_changed(srv->menu_changed_arg);
}

/* One sample to the buyers of one feed it matched. */
static void
feed_dispatch(struct server *srv, struct feed *f, const struct mqtt_sample *smp)
{
	struct conn *c, *next;
	enum sdpp_err e;

	f->last_seen = smp->received_at;
	f->samples++;
	menu_seen(srv, f);
	for (c = TAILQ_FIRST(&f->buyers); c != NULL; c = next) {
		const uint8_t *pl = smp->payload;
		size_t plen = smp->len;

		next = TAILQ_NEXT(c, feed_entry);
		if (c->dead)
			continue;
		if (c->narrow != NULL && !mqtt_topic_match_checked(c->narrow, smp->topic))
			continue;
		/* Not sold to this product: not sent, counted, billed. */
		if (c->cut != NULL && cut_take(c->cut, srv->nsamples, smp->topic, pl, plen,
		                          smp->received_at, &pl, &plen) != CUT_SOLD)
			continue;
		e = sdpp_seller_sample(
		    c->s, smp->topic, pl, plen, smp->received_at, now_ms(), c->out);
		if (e == SDPP_OK && c->pstat != NULL)
			c->pstat->items++;
		if (e == SDPP_E_INVAL)
			log_debug("%llu event=sample_skipped reason=topic_or_size",
			    (unsigned long long)c->id);
		conn_process(c);
	}
}

static void
samples_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;
	struct gw *gw = srv->gw;
	struct mqtt_sample batch[SAMPLE_BATCH];
	struct feed *f;
	size_t n, i;
	int matched, changed;

	(void)fd;
	(void)what;
	n = mqtt_drain(gw->mqtt, batch, SAMPLE_BATCH);
	for (i = 0; i < n; i++) {
		matched = 0;
		gw->stats.samples++;
		/* Discovery configs are retained by design: read before the
		 * retained drop below, and never sold. */
		if (srv->disc_prefix[0] != '\0' &&
		    discover_message(srv->disc, srv->disc_prefix, batch[i].topic, batch[i].payload,
		        batch[i].len, &changed)) {
			if (changed)
				discovery_settle(srv);
			mqtt_sample_free(&batch[i]);
			continue;
		}
		/* A retained message is the broker's stored last value, sent again
		 * on every (re)subscribe: not a live sample, so not for sale. Our
		 * own menu and status topics are never products either. */
		if (batch[i].retained || strcmp(batch[i].topic, gw->cfg->mqtt_menu_topic) == 0 ||
		    strcmp(batch[i].topic, gw->cfg->mqtt_status_topic) == 0) {
			gw->stats.samples_unmatched++;
			mqtt_sample_free(&batch[i]);
			continue;
		}
		/* The feed of this exact topic, then every wildcard feed: a topic
		 * from the broker is never empty and holds no wildcard. */
		if (batch[i].topic[0] != '\0' && strpbrk(batch[i].topic, "+#") == NULL) {
			f = feed_find(srv, batch[i].topic);
			if (f != NULL && !f->wild) {
				feed_dispatch(srv, f, &batch[i]);
				matched = 1;
			}
			TAILQ_FOREACH(f, &srv->wild, wentry)
			if (mqtt_topic_match_checked(f->filter, batch[i].topic)) {
				feed_dispatch(srv, f, &batch[i]);
				matched = 1;
			}
		}
		if (!matched)
			gw->stats.samples_unmatched++;
		srv->nsamples++;
		mqtt_sample_free(&batch[i]);
	}
	/* More waiting: yield to sockets first, then come back. */
	if (n == SAMPLE_BATCH)
		event_active(srv->sample_ev, EV_READ, 0);
}

void
server_wake(struct server *srv)
{
	/* From Paho's thread: the base was made thread-aware for this. */
	event_active(srv->sample_ev, EV_READ, 0);
}

/* ------------------------------------------------------------ life */

int
server_new(struct server **out, struct gw *gw, char *err, size_t errlen)
{
	struct server *srv = calloc(1, sizeof(*srv));
	uint64_t threads;

	*out = NULL;
	if (srv == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	srv->gw = gw;
	TAILQ_INIT(&srv->conns);
	TAILQ_INIT(&srv->feeds);
	TAILQ_INIT(&srv->wild);
	sdpp_out_init(&srv->out, SDPP_FRAME_CAP_MAX * 2);
	srv->sample_ev = event_new(gw->base, -1, 0, samples_cb, srv);
	srv->reap_ev = event_new(gw->base, -1, 0, reap_cb, srv);
	srv->disc_ev = evtimer_new(gw->base, discovery_cb, srv);
	srv->disc = discover_new();
	srv->limit = access_limit_new();
	if (gw->cfg->discovery_enabled)
		snprintf(
		    srv->disc_prefix, sizeof(srv->disc_prefix), "%s", gw->cfg->discovery_prefix);
	if (srv->sample_ev == NULL || srv->reap_ev == NULL || srv->disc_ev == NULL) {
		snprintf(err, errlen, "cannot set up events");
		goto fail;
	}
	srv->menu = menu_new(srv);
	if (gw->cfg->tls_cert[0] != '\0') {
		srv->tls = tls_server_ctx(gw->cfg->tls_cert, gw->cfg->tls_key, err, errlen);
		if (srv->tls == NULL)
			goto fail;
	}
	if (srv->limit == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (refusals_sign(srv, err, errlen) != 0)
		goto fail;
	/* auto: a thread per CPU; with one CPU they could only take turns
	 * with the loop, at the cost of a hand-over per item: none. */
	threads = gw->cfg->worker_threads;
	if (threads == CONFIG_AUTO)
		threads = pool_cpus() > 1 ? pool_cpus() : 0;
	if (threads > 0 && pool_new(&srv->signers, gw->base, (unsigned)threads, err, errlen) != 0)
		goto fail;
	if (server_listen(srv, err, errlen) != 0)
		goto fail;
	*out = srv;
	return 0;
fail:
	server_free(srv);
	return -1;
}

void
server_free(struct server *srv)
{
	struct conn *c;
	struct feed *f;

	if (srv == NULL)
		return;
	/* Hands back every frame at a worker (and the refs they hold). */
	pool_free(srv->signers);
	srv->signers = NULL;
	while ((c = TAILQ_FIRST(&srv->conns)) != NULL) {
		TAILQ_REMOVE(&srv->conns, c, entry);
		conn_free(c);
	}
	while ((f = TAILQ_FIRST(&srv->feeds)) != NULL)
		feed_free(srv, f);
	if (srv->disc_ev != NULL)
		event_free(srv->disc_ev);
	discover_free(srv->disc);
	if (srv->listener != NULL)
		evconnlistener_free(srv->listener);
	if (srv->sample_ev != NULL)
		event_free(srv->sample_ev);
	if (srv->reap_ev != NULL)
		event_free(srv->reap_ev);
	menu_release(srv->menu);
	sdpp_out_free(&srv->out);
	access_limit_free(srv->limit);
	free(srv->refusal[0]);
	free(srv->refusal[1]);
	SSL_CTX_free(srv->tls);
	free(srv);
}

void
server_tls_reload(struct server *srv)
{
	const struct gateway_config *cfg = srv->gw->cfg;
	SSL_CTX *ctx;
	char err[1024];

	if (cfg->tls_cert[0] == '\0') {
		if (srv->tls != NULL)
			log_info("event=tls_reload result=off: new buyers connect without TLS");
		SSL_CTX_free(srv->tls);
		srv->tls = NULL;
		return;
	}
	ctx = tls_server_ctx(cfg->tls_cert, cfg->tls_key, err, sizeof(err));
	if (ctx == NULL) {
		log_warnx("event=tls_reload result=refused error=\"%s\": %s", err,
		    srv->tls != NULL ? "keeping the running certificate"
		                     : "new buyers still connect without TLS");
		return;
	}
	SSL_CTX_free(srv->tls);
	srv->tls = ctx;
	log_info("event=tls_reload result=ok cert=%s", cfg->tls_cert);
}

void
server_on_menu(struct server *srv, void (*fn)(void *arg), void *arg)
{
	srv->menu_changed = fn;
	srv->menu_changed_arg = arg;
}

const struct discover_stats *
server_discovery(const struct server *srv)
{
	return discover_stats(srv->disc);
}

size_t
server_buyers(const struct server *srv)
{
	return srv->nconns;
}

unsigned
server_workers(const struct server *srv, size_t *pending)
{
	*pending = srv->signers != NULL ? pool_pending(srv->signers) : 0;
	return srv->signers != NULL ? pool_threads(srv->signers) : 0;
}

size_t
server_detached(const struct server *srv)
{
	return srv->nparked;
}

size_t
server_products(struct server *srv, const struct server_product **out)
{
	struct conn *c;
	size_t i;

	for (i = 0; i < srv->npstats; i++)
		srv->pstats[i].active = 0;
	TAILQ_FOREACH(c, &srv->conns, entry)
	if (!c->dead && c->pstat != NULL && sdpp_seller_streaming(c->s))
		c->pstat->active++;
	*out = srv->pstats;
	return srv->npstats;
}

void
server_shutdown(struct server *srv)
{
	struct conn *c, *next;

	if (srv->gw->stopping)
		return;
	srv->gw->stopping = 1;
	if (srv->listener != NULL)
		evconnlistener_disable(srv->listener);
	/* Open orders get a final invoice for what was delivered; each
	 * session closes once that invoice is recorded and sent. */
	for (c = TAILQ_FIRST(&srv->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (c->dead)
			continue;
		/* An order waiting for its buyer cannot be settled now. */
		if (c->parked)
			(void)sdpp_seller_fail(
			    c->s, SDPP_E_SHUTDOWN, "seller is shutting down", c->out);
		else
			(void)sdpp_seller_shutdown(c->s, now_ms(), c->out);
		conn_process(c);
	}
	reap_schedule(srv);
}
