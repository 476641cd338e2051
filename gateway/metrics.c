/* Prometheus text metrics over HTTP (metrics_listen): buyers, samples, records, drops. */
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

/* Per product, with labels: product ids are [A-Za-z0-9._-], safe as is. */
static void
unsold_metrics(struct evbuffer *b, const struct gw *gw)
{
	const struct server_unsold *u;
	size_t n = server_unsold(gw->server, &u), i;
	int r;

	evbuffer_add_printf(b, "# HELP sdpp_samples_unsold_total Samples a product did not sell: "
	                       "excluded, not_json, no_field, rate (its tier), over_cap.\n"
	                       "# TYPE sdpp_samples_unsold_total counter\n");
	for (i = 0; i < n; i++)
		for (r = CUT_SOLD + 1; r < CUT__COUNT; r++)
			evbuffer_add_printf(b,
			    "sdpp_samples_unsold_total{product=\"%s\",reason=\"%s\"} %llu\n",
			    u[i].product, cut_result_name((enum cut_result)r),
			    (unsigned long long)u[i].st.n[r]);
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

	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
		evhttp_send_error(req, 405, "only GET");
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
	metric(b, "connections_total", "counter", "Buyer connections accepted.", s->accepted);
	metric(b, "connections_refused_total", "counter", "Connections refused (busy, stopping).",
	    s->refused);
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
	unsold_metrics(b, gw);
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
	return 0;
}

void
gw_metrics_stop(struct gw *gw)
{
	if (gw->http != NULL)
		evhttp_free(gw->http);
	gw->http = NULL;
}
