/* Buyer connections: the listener, a seller session per buyer, the feeds of live samples. */
#ifndef GATEWAY_SERVER_H
#define GATEWAY_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "gateway/cut.h"
#include "sdpp/msg.h"

struct gw;
struct server;
struct discover_stats;

/* Listens on cfg->listen and builds the first menu. Returns 0, or -1 with
 * err. The server reads gw's configuration, ledger, records, payment
 * backend and MQTT client as they are at each use (a reload swaps them). */
int server_new(struct server **out, struct gw *gw, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* Frees every connection (after the loop has ended) and the server. */
void server_free(struct server *srv);

/* Subscribes to exactly the filters that current products and running
 * orders need. Returns 0, or -1 (logged). */
int server_feeds_sync(struct server *srv);
/* Wakes the loop to take samples from the MQTT queue (any thread). */
void server_wake(struct server *srv);
/* A reload: buyers still choosing see the new menu; running orders keep
 * the terms they accepted. */
void server_menu_reload(struct server *srv);
/* A reload: [gateway] tls_cert and tls_key are read again for the buyers
 * who connect from now on (running connections keep theirs); a pair that
 * does not load leaves the running one in place, logged. */
void server_tls_reload(struct server *srv);
/* The current menu (for publishing it on MQTT). */
const struct sdpp_menu *server_menu(const struct server *srv);
/* fn(arg) runs after the server rebuilt the menu by itself (discovered
 * sensors came or went), so that the retained menu is published again. */
void server_on_menu(struct server *srv, void (*fn)(void *arg), void *arg);
/* What Home Assistant discovery saw (gateway/discover.h). */
const struct discover_stats *server_discovery(const struct server *srv);
/* Stops accepting; each session finishes as PROTOCOL 10.2.9 says, and the
 * loop ends once every buyer is gone and every record is committed. */
void server_shutdown(struct server *srv);
size_t server_buyers(const struct server *srv);
/* Orders whose connection dropped, waiting for their buyer's resume. */
size_t server_detached(const struct server *srv);
/* worker_threads running (0: the loop signs and checks), and the items and
 * frames handed to them and not back yet. */
unsigned server_workers(const struct server *srv, size_t *pending);

/* What one product (by id: the counts outlive reloads and discovery
 * changes) did since start. */
struct server_product {
	char product[SDPP_NAME_MAX + 1];
	int cut;             /* it cuts its samples (gateway/cut.h): st applies */
	struct cut_stats st; /* with cut: each sample sold, or why not */
	uint64_t samples;    /* samples on its topic filter */
	uint64_t items;      /* samples its buyers' sessions took to send */
	uint64_t invoiced;   /* base units, in recorded invoices */
	uint64_t paid;       /* base units, in recorded payments */
	uint64_t active;     /* orders streaming now */
};
/* The table (borrowed; active counted now) and its length. */
size_t server_products(struct server *srv, const struct server_product **out);
/* An anchor_notify_fn: tells the buyer of order_hex, if still connected,
 * where a record of its order was anchored. */
void server_anchored(void *srv, const char *order_hex, uint64_t record, const char *ref);

#endif
