/* The daemon's shared state on one libevent loop; each part keeps its own state in its file. */
#ifndef GATEWAY_GATEWAY_H
#define GATEWAY_GATEWAY_H

#include <stdint.h>

#include <event2/event.h>

#include "gateway/access.h"
#include "gateway/config.h"
#include "gateway/payment.h"
#include "ledger/ledger.h"
#include "sdpp/crypto.h"

/*
 * The rooms, each a file, callers above what they call (tests/check_source.sh
 * fails on any call cycle between them):
 *
 *   main.c       start-up, signals, reload, shutdown: wires the rest
 *   metrics.c    Prometheus text over HTTP
 *   server.c     buyer connections, sessions, feeds of samples
 *   access.c     who may buy: buyer key lists, per-address connection limits
 *   tls.c        TLS on the buyer listener: the server context
 *   book.c       what session events become in the ledger (no I/O)
 *   cut.c        what a product sells of each sample (no I/O)
 *   discover.c   Home Assistant discovery: announced sensors become products
 *   records.c    group commit of the ledger, completion callbacks
 *   anchor.c     the outbox anchored on IOTA
 *   pay_iota.c   the iota payment backend
 *   payment.c    the payment backend interface, vouchers
 *   iota.c       the IOTA account: key, node client, pay-to address
 *   keys.c       key files;  config.c  the INI file;  log.c  logging
 */

/* The release, in --version, the logs and sdpp_build_info. */
#define GATEWAY_VERSION "0.1.0"

struct records;
struct server;
struct gw_iota;
struct pay_iota;
struct anchor;
struct mqtt;
struct evhttp;

/* Counters of the buyer side (server.c), for metrics and the last log line. */
struct gw_stats {
	uint64_t accepted, refused, orders, items, invoices, payments, closed;
	uint64_t samples, samples_unmatched;
	uint64_t resumes, resumes_refused;      /* orders resumed on a new connection, refused */
	uint64_t worker_signed, worker_checked; /* items signed, buyer frames checked by workers */
	uint64_t access_refused[ACCESS__COUNT]; /* who may buy: by enum access_refusal */
};

struct gw {
	struct event_base *base;
	struct gateway_config *cfg; /* replaced by a reload */
	struct sdpp_identity *id;   /* the seller */
	struct ledger *ledger;
	struct records *records;
	struct mqtt *mqtt;
	struct payment_backend payment;
	struct gw_iota *iota;      /* NULL without [iota] */
	struct pay_iota *pay_iota; /* NULL unless payment_method = iota */
	struct anchor *anchor;     /* NULL unless [iota] anchor */
	struct server *server;
	struct evhttp *http; /* metrics, when metrics_listen is set */
	struct event *stop_timer;
	int stopping;
	uint64_t ticks; /* housekeeping seconds */
	struct gw_stats stats;
};

/* metrics.c: Prometheus text at http://metrics_listen/metrics */
int gw_metrics_start(struct gw *gw, char *err, size_t errlen);
void gw_metrics_stop(struct gw *gw);

#endif
