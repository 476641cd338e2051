/* Prometheus text metrics and a health check over HTTP (metrics_listen). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "gateway/anchor.h"
#include "gateway/discover.h"
#include "gateway/gateway.h"
#include "gateway/log.h"
#include "gateway/records.h"
#include "gateway/server.h"
#include "mqtt/mqtt.h"
#include "util/text.h"

static void
metric(
    struct evbuffer *b, const char *name, const char *type, const char *help, unsigned long long v)
{
	evbuffer_add_printf(b, "# HELP sdpp_%s %s\n# TYPE sdpp_%s %s\nsdpp_%s %llu\n", name, help,
	    name, type, name, v);
}

/* A text/plain reply (evhttp_send_error() answers in HTML). */
static void
reply_text(struct evhttp_request *req, int code, const char *reason, const char *text)
{
	struct evbuffer *b = evbuffer_new();

	evhttp_add_header(
	    evhttp_request_get_output_headers(req), "Content-Type", "text/plain; charset=utf-8");
	if (b != NULL)
		evbuffer_add(b, text, strlen(text));
	evhttp_send_reply(req, code, reason, b);
	if (b != NULL)
		evbuffer_free(b);
}

/* One counter or gauge per product, labelled; product ids are
 * [A-Za-z0-9._-], safe in a label as they are. */
static void
per_product(struct evbuffer *b, const struct server_product *p, size_t n, const char *name,
    const char *type, const char *help, size_t off)
{
	size_t i;

	evbuffer_add_printf(b, "# HELP sdpp_%s %s\n# TYPE sdpp_%s %s\n", name, help, name, type);
	for (i = 0; i < n; i++)
		evbuffer_add_printf(b, "sdpp_%s{product=\"%s\"} %llu\n", name, p[i].product,
		    (unsigned long long)*(
		        const uint64_t *)(const void *)((const char *)&p[i] + off));
}

static void
product_metrics(struct evbuffer *b, const struct gw *gw)
{
	const struct server_product *p;
	size_t n = server_products(gw->server, &p), i;
	int r;

	per_product(b, p, n, "product_samples_total", "counter",
	    "Samples on the product's topic filter.", offsetof(struct server_product, samples));
	per_product(b, p, n, "product_items_total", "counter",
	    "Samples its buyers' sessions took to send.", offsetof(struct server_product, items));
	per_product(b, p, n, "product_invoiced_total", "counter",
	    "Base units invoiced, as recorded.", offsetof(struct server_product, invoiced));
	per_product(b, p, n, "product_paid_total", "counter", "Base units paid, as recorded.",
	    offsetof(struct server_product, paid));
	per_product(b, p, n, "product_orders_active", "gauge", "Orders streaming now.",
	    offsetof(struct server_product, active));
	evbuffer_add_printf(b, "# HELP sdpp_samples_unsold_total Samples a product did not sell: "
	                       "excluded, not_json, no_field, rate (its tier), over_cap.\n"
	                       "# TYPE sdpp_samples_unsold_total counter\n");
	/* Products that sell whole payloads have no cut and no rows. */
	for (i = 0; i < n; i++)
		for (r = CUT_SOLD + 1; p[i].cut && r < CUT__COUNT; r++)
			evbuffer_add_printf(b,
			    "sdpp_samples_unsold_total{product=\"%s\",reason=\"%s\"} %llu\n",
			    p[i].product, cut_result_name((enum cut_result)r),
			    (unsigned long long)p[i].st.n[r]);
}

/* Who may buy: each kind of refusal (gateway/access.h). */
static void
access_metrics(struct evbuffer *b, const struct gw_stats *s)
{
	int r;

	evbuffer_add_printf(b,
	    "# HELP sdpp_access_refused_total Buyers refused by who may buy: deny_list and "
	    "allow_list at the order (not_allowed), too_many_connections and rate_limited per "
	    "address at connect.\n"
	    "# TYPE sdpp_access_refused_total counter\n");
	for (r = ACCESS_OK + 1; r < ACCESS__COUNT; r++)
		evbuffer_add_printf(b, "sdpp_access_refused_total{reason=\"%s\"} %llu\n",
		    access_refusal_name((enum access_refusal)r),
		    (unsigned long long)s->access_refused[r]);
}

/*
 * GET /health: 200 "ready" while the gateway can sell (connected to the
 * broker, its ledger writable), else 503 with what is wrong, for a load
 * balancer or a container's health check.
 */
static void
health_cb(struct evhttp_request *req, void *arg)
{
	struct gw *gw = arg;
	struct records_stats rs;
	char text[256] = "";
	int mqtt_ok = gw->mqtt != NULL && mqtt_connected(gw->mqtt);

	records_get_stats(gw->records, &rs);
	if (mqtt_ok && !rs.failing && !gw->stopping) {
		reply_text(req, 200, "OK", "ready\n");
		return;
	}
	snprintf(text, sizeof(text), "not ready:%s%s%s\n", mqtt_ok ? "" : " broker not connected;",
	    rs.failing ? " ledger not writable;" : "", gw->stopping ? " stopping;" : "");
	reply_text(req, 503, "Service Unavailable", text);
}

/* Anything else: a plain 404. */
static void
notfound_cb(struct evhttp_request *req, void *arg)
{
	(void)arg;
	reply_text(req, 404, "Not Found", "not found: try /metrics or /health\n");
}

static void
metrics_cb(struct evhttp_request *req, void *arg)
{
	struct gw *gw = arg;
	struct evbuffer *b;
	const struct gw_stats *s = &gw->stats;
	struct records_stats rs;
	struct anchor_stats as = { 0, 0 };
	const struct discover_stats *ds;
	size_t pending;
	unsigned threads;

	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
		reply_text(req, 405, "Method Not Allowed", "only GET\n");
		return;
	}
	b = evbuffer_new();
	if (b == NULL) {
		evhttp_send_error(req, 500, "out of memory");
		return;
	}
	ds = server_discovery(gw->server);
	records_get_stats(gw->records, &rs);
	if (gw->anchor != NULL)
		anchor_get_stats(gw->anchor, &as);
	metric(
	    b, "buyers_connected", "gauge", "Buyer connections open.", server_buyers(gw->server));
	metric(b, "orders_detached", "gauge",
	    "Orders whose connection dropped, waiting for a resume.", server_detached(gw->server));
	metric(b, "resumes_total", "counter", "Orders resumed on a new connection.", s->resumes);
	threads = server_workers(gw->server, &pending);
	metric(b, "worker_threads", "gauge",
	    "Threads that sign items and check buyers' signatures.", threads);
	metric(b, "worker_pending", "gauge", "Items and buyer frames at the worker threads now.",
	    pending);
	metric(b, "worker_signed_total", "counter", "Items signed by the worker threads.",
	    s->worker_signed);
	metric(b, "worker_checked_total", "counter",
	    "Buyer frames whose signature the worker threads checked.", s->worker_checked);
	metric(b, "resumes_refused_total", "counter",
	    "Resumes refused (unknown order, stale, ...).", s->resumes_refused);
	metric(b, "connections_total", "counter", "Buyer connections accepted.", s->accepted);
	metric(b, "connections_refused_total", "counter", "Connections refused (busy, stopping).",
	    s->refused);
	access_metrics(b, s);
	metric(b, "orders_total", "counter", "Orders accepted and recorded.", s->orders);
	metric(b, "invoices_total", "counter", "Invoices recorded.", s->invoices);
	metric(b, "payments_total", "counter", "Payments confirmed and recorded.", s->payments);
	metric(b, "sessions_closed_total", "counter", "Sessions ended by the protocol.", s->closed);
	metric(b, "items_sent_total", "counter", "Items delivered in closed sessions.", s->items);
	metric(b, "samples_total", "counter", "MQTT samples taken from the broker.", s->samples);
	metric(b, "samples_unmatched_total", "counter",
	    "Samples no product wanted (retained, own topics, no filter).", s->samples_unmatched);
	metric(b, "mqtt_dropped_total", "counter", "Samples dropped before the loop (queue full).",
	    gw->mqtt != NULL ? mqtt_dropped(gw->mqtt) : 0);
	metric(b, "mqtt_connected", "gauge", "1 while connected to the broker.",
	    gw->mqtt != NULL ? (unsigned long long)mqtt_connected(gw->mqtt) : 0);
	metric(b, "ledger_commits_total", "counter", "Ledger group commits.", rs.commits);
	metric(
	    b, "ledger_records_total", "counter", "Records committed to the ledger.", rs.records);
	metric(b, "ledger_failures_total", "counter", "Failed ledger commits.", rs.failures);
	metric(b, "anchors_total", "counter", "Outbox items anchored on IOTA.", as.anchors);
	metric(b, "anchor_failures_total", "counter", "Anchoring attempts that failed (retried).",
	    as.failures);
	metric(b, "outbox_pending", "gauge", "Records waiting to be anchored.",
	    gw->anchor != NULL ? ledger_outbox_pending(gw->ledger) : 0);
	metric(b, "products", "gauge", "Products on the current menu, discovered ones included.",
	    server_menu(gw->server)->nproducts);
	metric(b, "discovery_configs_total", "counter",
	    "Home Assistant discovery messages read (replays included).", ds->configs);
	metric(b, "discovery_refused_total", "counter",
	    "Discovery configs not made a product (template, topic, JSON; logged).", ds->refused);
	metric(
	    b, "discovery_removed_total", "counter", "Discovered sensors withdrawn.", ds->removed);
	metric(b, "discovery_over_cap_total", "counter",
	    "Discovery configs not kept: too many announcements.", ds->over_cap);
	metric(b, "discovery_sensors", "gauge", "Sensors announced now.", ds->sensors);
	metric(b, "discovery_products", "gauge", "Of them, offered on the menu.", ds->products);
	metric(b, "discovery_denied", "gauge", "Of them, left out by [discovery] allow and deny.",
	    ds->denied);
	metric(b, "discovery_duplicates", "gauge",
	    "Of them, left out because another product has their id.", ds->duplicates);
	evbuffer_add_printf(b,
	    "# HELP sdpp_build_info The gateway's version and the protocols it speaks.\n"
	    "# TYPE sdpp_build_info gauge\n"
	    "sdpp_build_info{version=\"%s\",protocols=\"%s %s\"} 1\n",
	    GATEWAY_VERSION, SDPP_VERSION, SDPP_VERSION_2);
	metric(b, "ledger_writable", "gauge", "0 while the latest ledger commit failed.",
	    (unsigned long long)!rs.failing);
	product_metrics(b, gw);
	evhttp_add_header(
	    evhttp_request_get_output_headers(req), "Content-Type", "text/plain; version=0.0.4");
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

int
gw_metrics_start(struct gw *gw, char *err, size_t errlen)
{
	struct util_hostport hp;
	char why[UTIL_HOST_MAX + 64];

	if (gw->cfg->metrics_listen[0] == '\0')
		return 0;
	if (util_hostport_split(
	        &hp, gw->cfg->metrics_listen, UTIL_HOSTPORT_PASSIVE, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "metrics_listen %s", why);
		return -1;
	}
	gw->http = evhttp_new(gw->base);
	if (gw->http == NULL ||
	    evhttp_bind_socket(gw->http, hp.host[0] != '\0' ? hp.host : NULL, hp.portnum) != 0) {
		snprintf(
		    err, errlen, "metrics_listen `%s': cannot listen", gw->cfg->metrics_listen);
		return -1;
	}
	evhttp_set_cb(gw->http, "/metrics", metrics_cb, gw);
	evhttp_set_cb(gw->http, "/health", health_cb, gw);
	evhttp_set_gencb(gw->http, notfound_cb, gw);
	return 0;
}

void
gw_metrics_stop(struct gw *gw)
{
	if (gw->http != NULL)
		evhttp_free(gw->http);
	gw->http = NULL;
}
