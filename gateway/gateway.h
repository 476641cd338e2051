/* The gateway's state, owned by one libevent loop: buyers, feeds of MQTT samples, records, payments. */
#ifndef GATEWAY_GATEWAY_H
#define GATEWAY_GATEWAY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include <event2/event.h>

#include "gateway/config.h"
#include "iota/iota.h"
#include "ledger/ledger.h"
#include "sdpp/framer.h"
#include "sdpp/session.h"

struct gw;
struct conn;

/*
 * A menu snapshot. Buyers that have not ordered yet point at the current
 * one; a reload makes a new one and the old one lives until its last
 * reader goes (reference counted), so a session never sees a menu change
 * under it.
 */
struct menu {
	int refs;
	struct sdpp_menu m;
	struct sdpp_product products[CONFIG_PRODUCTS_MAX];
};

/*
 * A feed: one MQTT filter and the buyers streaming it. Products map to
 * feeds by filter; a feed outlives a reload while running orders use it.
 */
struct feed {
	char filter[CONFIG_TOPIC_MAX + 1];
	int in_config; /* a current product uses it */
	int64_t last_seen;
	uint64_t samples;
	TAILQ_HEAD(, conn) buyers;
	TAILQ_ENTRY(feed) entry;
};

/* Asynchronous payment confirmation (BRIEF.md: the payment channel). The
 * session already checked the buyer's signature and the amount; a backend
 * confirms the money (a voucher needs nothing more, a chain transfer must
 * be found on chain) and calls done() later, on the loop. */
/* ok: 1 confirmed, 0 refused (ref says why), -1 abandoned at shutdown (no
 * answer to the session; just release what the request holds). */
typedef void (*payment_done_fn)(void *arg, int ok, const char *ref);
/* What a backend knows about the payment to confirm (all borrowed until
 * done() is called). */
struct payment_check {
	const struct sdpp_msg *payment;  /* verified payment_ack */
	const uint8_t *buyer;            /* the buyer's signing key */
	const char *buyer_address;       /* the order's payment_address ("" if none) */
	uint64_t paid_before;            /* total confirmed before this payment */
	uint64_t conn;                   /* session id, for logs */
};
struct payment_backend {
	const char *name;
	void *ctx;
	int (*confirm)(void *ctx, struct gw *gw, const struct payment_check *pc,
	    payment_done_fn done, void *arg);
};

/* A request of a session waiting for a ledger commit. */
struct waiter {
	struct conn *c;
	uint64_t req;
	uint64_t record; /* 0: the request failed before reaching the ledger */
};

/* ACKs a connection holds before they go into one receipts record. */
#define CONN_ACKS_MAX 64

/*
 * One buyer. Kept small, as a gateway may serve thousands: the socket is
 * read straight into the framer (bufferevent for output only), frames and
 * events go through the gateway's one scratch sdpp_out, and the ACK batch
 * exists only while it holds ACKs.
 */
struct conn {
	uint64_t id;              /* session id in logs */
	struct gw *gw;
	struct bufferevent *bev; /* output; closes the socket when freed */
	struct event *rev;       /* input: the socket is readable */
	char peer[80];           /* numeric host:port (IPv6 with scope fits) */
	struct sdpp_framer *framer;
	struct sdpp_seller *s;
	/* The gateway's scratch (gw->out): every call into the session is
	 * followed by gw_conn_process(), which drains it before any other
	 * connection can use it. */
	struct sdpp_out *out;
	struct event *timer;
	struct menu *menu;        /* until the order is accepted */
	struct feed *feed;        /* while streaming */
	char product[SDPP_NAME_MAX + 1];
	struct ledger_ack *acks; /* CONN_ACKS_MAX, allocated at the first ACK of a batch */
	size_t nacks;
	int refs;                 /* waiters and payments in flight */
	int closing;              /* flush output, then free */
	int dead;                 /* freed at the next safe point */
	int owns_order;           /* this session's order record is queued */
	int recorded_close;
	uint64_t dropped_logged;
	TAILQ_ENTRY(conn) entry;      /* all connections */
	TAILQ_ENTRY(conn) feed_entry; /* buyers of c->feed */
};

struct gw_stats {
	uint64_t accepted, refused, orders, items, invoices, payments, closed;
	uint64_t samples, samples_unmatched, ledger_commits, ledger_records, ledger_failures;
	uint64_t anchors, anchor_failures;
};

struct gw_iota;

struct gw {
	struct event_base *base;
	struct gateway_config *cfg;
	struct sdpp_identity *id;
	struct menu *menu;
	struct ledger *ledger;
	struct mqtt *mqtt;
	struct payment_backend payment;
	struct gw_iota *iota; /* NULL unless [iota] is in use */
	struct evconnlistener *listener;
	struct evhttp *http; /* metrics, when metrics_listen is set */
	struct event *sample_ev, *commit_ev, *reap_ev, *stop_timer;
	TAILQ_HEAD(, conn) conns;
	TAILQ_HEAD(, feed) feeds;
	size_t nconns;
	uint64_t next_conn_id;
	struct waiter *waiters;
	size_t nwaiters, waiters_alloc;
	int commit_scheduled;
	int stopping;
	uint64_t ticks; /* housekeeping seconds */
	struct gw_stats stats;
	/* Frames and events of the session call being handled. The loop
	 * serves one connection at a time and copies the frames to its
	 * bufferevent at once, so one buffer serves every buyer. */
	struct sdpp_out out;
};

/* server.c */
int gw_listen(struct gw *gw, char *err, size_t errlen);
void gw_conn_process(struct conn *c);
void gw_conn_release(struct conn *c);
/* Frees a connection that is no longer in any list (shutdown, reaper). */
void gw_conn_free(struct conn *c);
void gw_samples_cb(evutil_socket_t fd, short what, void *arg);
void gw_reap_cb(evutil_socket_t fd, short what, void *arg);
int gw_feeds_sync(struct gw *gw);
void gw_shutdown(struct gw *gw);
struct menu *gw_menu_new(struct gw *gw, const struct gateway_config *cfg);
void gw_menu_release(struct menu *m);
void gw_menu_install(struct gw *gw, struct menu *m);

/* records.c: the records medium glue. Each returns 0, or -1 if the record
 * could not even be queued (the request is then failed by the caller). */
int gw_record(struct conn *c, struct ledger_record *r, uint64_t req);
void gw_record_receipts(struct conn *c);
void gw_record_close(struct conn *c, const char *reason);
void gw_commit_cb(evutil_socket_t fd, short what, void *arg);
int gw_order_seen(struct gw *gw, const uint8_t order_id[SDPP_ORDER_ID_BYTES]);

/* metrics.c: Prometheus text at http://metrics_listen/metrics */
int gw_metrics_start(struct gw *gw, char *err, size_t errlen);
void gw_metrics_stop(struct gw *gw);

/* payment.c */
void payment_voucher_init(struct payment_backend *b);

/* iota.c: the `iota` payment backend and anchoring, when configured. */
int gw_iota_start(struct gw *gw, char *err, size_t errlen);
void gw_iota_stop(struct gw *gw);
/* The IOTA account of an Ed25519 key (0 or -1). */
int gw_iota_account_of(const uint8_t key[SDPP_SIGN_PUBLIC_BYTES],
    uint8_t addr[IOTA_ADDRESS_BYTES]);
/* 1 unless IOTA payments are on and address is not the account of the
 * buyer's key: a buyer pays from its own account, so that nobody can claim
 * somebody else's transfer. */
int gw_iota_order_ok(const struct gw *gw, const uint8_t key[SDPP_SIGN_PUBLIC_BYTES],
    const char *address);
/* Where buyers pay (0x + 64 hex), "" without IOTA. */
void gw_iota_pay_to(const struct gw *gw, char out[IOTA_ADDRESS_TEXT_LEN]);
uint64_t gw_iota_outbox_pending(const struct gw *gw);
/* After a commit: hand new outbox items to the node without waiting. */
void gw_iota_poll_soon(struct gw *gw);

/* main.c: reads a key file (creating it if create and it is missing). */
int gw_load_key(const char *path, int check_only, struct sdpp_identity **id);

/* Milliseconds since the epoch. */
int64_t gw_now(void);

#endif
