/* Gateway benchmarks, scenario 7: sample ingest, 2,000 products cut from JSON vs raw. */
#include "bench/gateway/bench.h"

/* ---------------------------------------------------------------- 7. ingest (issue 13) */

/*
 * A zigbee2mqtt building (tests/building/, tool_building) of 10,000 devices,
 * each publishing its state JSON on its own topic: devices 1..2000 on
 * zigbee2mqtt/Room NNN TH, each sold as its own product t0001..t2000 (exact
 * topics), and devices 2001..10000 on zigbee2mqtt/annex/Room NNNN TH, which
 * the gateway subscribes through one more product, `annex'
 * (zigbee2mqtt/annex/+), that nobody buys. Two configurations of the same
 * 2,001 products: "field" (each sells one property, /temperature,
 * /humidity, /co2 or /illuminance in turn, and of the 2,000 one in four has
 * min_interval = 1s, one in four on_change, one in four on_change with a
 * deadband) and "raw" (whole payloads, no tier). 200 buyers, in two
 * processes, stream products t0001, t0011, ... t1991, so the samples of
 * 200 topics go through a cut (field) or straight to the seller (raw).
 *
 * Ingest rate: both gateways run side by side and are stopped (SIGSTOP)
 * while 5 tool_building processes publish R rounds over the 10,000 topics
 * (QoS 0); the broker holds what the stopped gateways do not read. Then
 * each gateway in turn is continued and timed until it has taken every
 * sample: the end is when its CPU time stops growing, checked against its
 * sdpp_samples_total (the metrics page is not polled while it works: the
 * field gateway's page, with a row per product and reason, costs its loop
 * milliseconds). So the figure is the rate the daemon's Paho thread and
 * loop together drain the broker, not the publishers' rate.
 *
 * Memory per tracked topic: another gateway with one product on
 * zigbee2mqtt/# (field /temperature, on_change, min_interval 1h, excluding
 * zigbee2mqtt/warm/#) and one buyer. A round on 10,000 excluded topics
 * warms the same paths (Paho, the queue, the loop, the cut) without making
 * rate state; VmRSS then; a round over the 10,000 device topics, each
 * making its topic's state (and selling its first value); VmRSS again.
 */

#define INGEST_TOPICS 10000
#define INGEST_SOLD 2000 /* devices 1..INGEST_SOLD are products of their own */
#define INGEST_PUBS 5    /* publishers, INGEST_TOPICS / INGEST_PUBS devices each */
#define INGEST_BUYER_PROCS 2
#define INGEST_BUYERS_PER_PROC 100
#define INGEST_BUYER_STEP 10 /* buyers on t0001, t0011, ... */
#define INGEST_TRACE "../shared/data/occupancy/datatest.txt"
#define INGEST_QUEUE 1048576 /* [mqtt] queue: the whole backlog fits, none dropped */

static const char *const ingest_fields[] = { "/temperature", "/humidity", "/co2", "/illuminance" };

/* The product sections of one configuration (field or raw); the caller frees. */
static char *
ingest_products(int field)
{
	struct sbuf t = { 0 };
	int i;

	for (i = 1; i <= INGEST_SOLD; i++) {
		sb_printf(
		    &t, "[product t%04d]\ntopic = zigbee2mqtt/Room %03d TH\nprice = 1\n", i, i);
		if (!field)
			continue;
		sb_printf(&t, "field = %s\n", ingest_fields[i % 4]);
		if (i % 4 == 1)
			sb_printf(&t, "min_interval = 1s\n");
		else if (i % 4 == 2)
			sb_printf(&t, "on_change = yes\n");
		else if (i % 4 == 3)
			sb_printf(&t, "on_change = yes\ndeadband = 0.1\n");
	}
	sb_printf(&t, "[product annex]\ntopic = zigbee2mqtt/annex/+\nprice = 1\n%s",
	    field ? "field = /temperature\n" : "");
	return t.p;
}

/* tool_building over devices from..from+n-1 under base, rounds times, QoS 0,
 * as fast as the broker takes them; 0 when started. */
static int
building_start(struct bench *B, struct child *c, const char *base, int from, int n, int rounds)
{
	char bin[PATH_CAP + 32], broker[32], sfrom[16], sn[16], sr[16], log[PATH_CAP], b[64];
	char *argv[] = { bin, "--broker", broker, "--base", b, "--devices-from", sfrom, "--devices",
		sn, "--rounds", sr, "--interval", "0", "--qos", "0", "--data", INGEST_TRACE, NULL };

	snprintf(bin, sizeof(bin), "%s/../tests/tool_building", B->dir);
	snprintf(b, sizeof(b), "%s", base);
	snprintf(broker, sizeof(broker), "127.0.0.1:%d", B->broker.port);
	snprintf(sfrom, sizeof(sfrom), "%d", from);
	snprintf(sn, sizeof(sn), "%d", n);
	snprintf(sr, sizeof(sr), "%d", rounds);
	snprintf(log, sizeof(log), "%s/building.log", B->work);
	return child_exec(c, argv, log);
}

/* Publishes rounds over all 10,000 device topics (base_sold for devices
 * 1..INGEST_SOLD, base_rest for the others) and waits for the publishers:
 * 0, 77 when the trace is missing, -1 on another failure. */
static int
building_rounds(struct bench *B, const char *base_sold, const char *base_rest, int rounds)
{
	struct child c[INGEST_PUBS];
	int per = INGEST_TOPICS / INGEST_PUBS, i, rc = 0, x;

	memset(c, 0, sizeof(c));
	for (i = 0; i < INGEST_PUBS; i++) {
		int from = 1 + i * per;

		if (building_start(B, &c[i], from <= INGEST_SOLD ? base_sold : base_rest, from, per,
		        rounds) != 0)
			rc = -1;
	}
	for (i = 0; i < INGEST_PUBS; i++) {
		x = child_stop(&c[i], 0, 120000);
		if (x != 0 && rc == 0)
			rc = x == 77 ? 77 : -1;
	}
	return rc;
}

/* Waits until the gateway's samples_total reaches want; its value. */
static double
wait_samples(const struct gateway *g, double want, int timeout_ms)
{
	uint64_t deadline = mono_ns() + (uint64_t)timeout_ms * 1000000u;
	double v;

	while ((v = gw_metric(g, "samples_total")) < want && mono_ns() < deadline)
		sleep_ms(20);
	return v;
}

/* Continues a stopped gateway and times it until it has taken want
 * samples in all (samples_total): samples/s, -1 on a timeout. The end is
 * the last 5 ms poll in which its CPU time grew before 150 ms without. */
static double
ingest_drain(const struct gateway *g, double base, double n, double *cores)
{
	uint64_t t0, last, now, deadline;
	double cpu0, cpu, prev, v;

	cpu0 = prev = proc_cpu_s(g->c.pid);
	t0 = last = mono_ns();
	kill(g->c.pid, SIGCONT);
	deadline = t0 + 120000000000u;
	for (;;) {
		sleep_ms(5);
		now = mono_ns();
		cpu = proc_cpu_s(g->c.pid);
		if (cpu > prev) {
			prev = cpu;
			last = now;
			continue;
		}
		if (now - last < 150000000u)
			continue;
		/* Idle: done if it has every sample, else it was only starved. */
		v = gw_metric(g, "samples_total");
		if (v >= base + n)
			break;
		if (now > deadline) {
			fprintf(stderr, "bench: ingest: %s took %.0f of %.0f samples\n", g->name,
			    v - base, n);
			return -1;
		}
		last = now;
	}
	*cores = (prev - cpu0) / ((double)(last - t0) / 1e9);
	return n / ((double)(last - t0) / 1e9);
}

/* Starts buyer processes on the gateway, each streaming its products. */
static int
ingest_buyers(struct bench *B, const struct gateway *g, struct child *kids, struct buy_args *ba)
{
	char line[LINE_CAP];
	int i;

	for (i = 0; i < INGEST_BUYER_PROCS; i++) {
		memset(&ba[i], 0, sizeof(ba[i]));
		ba[i].port = g->port;
		memcpy(ba[i].seller, B->seller, sizeof(ba[i].seller));
		ba[i].mode = BUY_STREAM;
		ba[i].sessions = INGEST_BUYERS_PER_PROC;
		latpath(B, ba[i].latfile, sizeof(ba[i].latfile), "ingest", i);
		snprintf(ba[i].product, sizeof(ba[i].product), "t");
		ba[i].product_from = 1 + i * INGEST_BUYERS_PER_PROC * INGEST_BUYER_STEP;
		ba[i].product_step = INGEST_BUYER_STEP;
		if (child_fork(&kids[i], role_buy, &ba[i]) != 0)
			return -1;
	}
	for (i = 0; i < INGEST_BUYER_PROCS; i++) {
		if (child_expect(&kids[i], "ready", line, sizeof(line), READY_MS) != 0)
			return -1;
		if (kv(line, "failed", 0) > 0) {
			fprintf(stderr, "bench: ingest buyers: %s\n", line);
			return -1;
		}
	}
	return 0;
}

/* One memory measurement: bytes of VmRSS per topic with rate state. */
static double
ingest_memory(struct bench *B, double *rss_before)
{
	static const char products[] = "[product wide]\n"
	                               "topic = zigbee2mqtt/#\n"
	                               "exclude = zigbee2mqtt/warm/#\n"
	                               "field = /temperature\n"
	                               "on_change = yes\n"
	                               "min_interval = 1h\n"
	                               "price = 1\n";
	struct gw_opts o = GW_DEFAULTS;
	struct gateway g;
	struct child kid;
	struct buy_args ba;
	char line[LINE_CAP];
	double r = -1, s0, r0, r1;

	memset(&kid, 0, sizeof(kid));
	o.k = o.ack_every = 1000; /* 10 invoices for the 10,000 first values sold */
	o.products = products;
	o.await_filter = "zigbee2mqtt/#";
	if (gw_start(B, &o, &g) != 0)
		return -1;
	memset(&ba, 0, sizeof(ba));
	ba.port = g.port;
	memcpy(ba.seller, B->seller, sizeof(ba.seller));
	ba.mode = BUY_STREAM;
	ba.sessions = 1;
	latpath(B, ba.latfile, sizeof(ba.latfile), "ingest-mem", 0);
	snprintf(ba.product, sizeof(ba.product), "wide");
	if (child_fork(&kid, role_buy, &ba) != 0 ||
	    child_expect(&kid, "ready", line, sizeof(line), READY_MS) != 0 ||
	    kv(line, "failed", 0) > 0)
		goto out;
	s0 = gw_metric(&g, "samples_total");
	if (building_rounds(B, "zigbee2mqtt/warm", "zigbee2mqtt/warm", 1) != 0 ||
	    wait_samples(&g, s0 + INGEST_TOPICS, 30000) < s0 + INGEST_TOPICS)
		goto out;
	sleep_ms(300);
	r0 = proc_status_bytes(g.c.pid, "VmRSS:");
	if (building_rounds(B, "zigbee2mqtt", "zigbee2mqtt/annex", 1) != 0 ||
	    wait_samples(&g, s0 + 2 * INGEST_TOPICS, 30000) < s0 + 2 * INGEST_TOPICS)
		goto out;
	sleep_ms(300);
	r1 = proc_status_bytes(g.c.pid, "VmRSS:");
	*rss_before = r0;
	r = (r1 - r0) / INGEST_TOPICS;
out:
	(void)child_stop(&kid, SIGKILL, 2000);
	gw_stop(&g);
	return r;
}

void
scenario_ingest(struct bench *B)
{
	static const char *const cname[2] = { "field", "raw" };
	struct gw_opts o[2] = { GW_DEFAULTS, GW_DEFAULTS };
	struct gateway g[2];
	struct child kids[2][INGEST_BUYER_PROCS];
	struct buy_args ba[2][INGEST_BUYER_PROCS];
	struct result *rate[2], *cores[2], *mem, *rss;
	char *prod[2] = { NULL, NULL }, bin[PATH_CAP + 32], name[128];
	int rounds = B->quick ? 3 : 6, up[2] = { 0, 0 }, run, i, k, rc;
	double n = (double)rounds * INGEST_TOPICS;

	printf("\n# 7. ingest: 2,001 products (2,000 on their own device topic, 1 on 8,000 more "
	       "topics) over %d topics, %d buyers on 200 of them; %d rounds (%.0f samples) "
	       "drained from the broker by a stopped gateway\n",
	    INGEST_TOPICS, INGEST_BUYER_PROCS * INGEST_BUYERS_PER_PROC, rounds, n);
	snprintf(bin, sizeof(bin), "%s/../tests/tool_building", B->dir);
	if (access(INGEST_TRACE, R_OK) != 0 || access(bin, X_OK) != 0) {
		printf("ingest       skipped: %s\n", access(bin, X_OK) != 0
		                                         ? "tool_building not built (make)"
		                                         : "no trace at " INGEST_TRACE);
		return;
	}
	for (i = 0; i < 2; i++) {
		snprintf(name, sizeof(name), "%s: samples/s taken and dispatched", cname[i]);
		rate[i] = result_new(B, "ingest", name, "1/s");
		snprintf(name, sizeof(name), "%s: gateway CPU while draining", cname[i]);
		cores[i] = result_new(B, "ingest", name, "cores");
	}
	mem = result_new(B, "ingest", "gateway memory per tracked topic", "bytes");
	rss = result_new(B, "ingest", "gateway VmRSS before the 10,000 topics", "MiB");
	memset(kids, 0, sizeof(kids));
	for (i = 0; i < 2; i++) {
		prod[i] = ingest_products(i == 0);
		o[i].products = prod[i];
		o[i].await_filter = "zigbee2mqtt/annex/+";
		o[i].mqtt_queue = INGEST_QUEUE;
		if (gw_start(B, &o[i], &g[i]) != 0)
			goto out;
		up[i] = 1;
		if (ingest_buyers(B, &g[i], kids[i], ba[i]) != 0)
			goto out;
	}
	for (run = 0; run < B->runs; run++) {
		double base[2], r, c;

		for (i = 0; i < 2; i++) {
			base[i] = gw_metric(&g[i], "samples_total");
			kill(g[i].c.pid, SIGSTOP);
		}
		rc = building_rounds(B, "zigbee2mqtt", "zigbee2mqtt/annex", rounds);
		if (rc != 0) {
			for (i = 0; i < 2; i++)
				kill(g[i].c.pid, SIGCONT);
			printf("ingest       %s\n", rc == 77
			                                ? "skipped: tool_building found no trace"
			                                : "tool_building failed");
			goto out;
		}
		sleep_ms(200); /* the broker's last reads */
		/* Alternate which goes first: the broker's queue for the second
		 * is older, but the same length. */
		for (k = 0; k < 2; k++) {
			i = (k + run) % 2;
			r = ingest_drain(&g[i], base[i], n, &c);
			if (r > 0) {
				result_add(rate[i], r);
				result_add(cores[i], c);
			}
		}
	}
	for (i = 0; i < 2; i++)
		if (gw_metric(&g[i], "mqtt_dropped_total") > 0)
			fprintf(stderr, "bench: ingest: %s gateway dropped %.0f samples\n",
			    cname[i], gw_metric(&g[i], "mqtt_dropped_total"));
out:
	for (i = 0; i < 2; i++) {
		for (k = 0; k < INGEST_BUYER_PROCS; k++)
			(void)child_stop(&kids[i][k], SIGKILL, 2000);
		if (up[i]) {
			kill(g[i].c.pid, SIGCONT);
			gw_stop(&g[i]);
		}
		free(prod[i]);
	}
	for (run = 0; run < B->runs; run++) {
		double before = 0, m = ingest_memory(B, &before);

		if (m >= 0) {
			result_add(mem, m);
			result_add(rss, before / 1048576);
		}
	}
	result_done(B, rate[1], NULL, 0);
	result_done(B, rate[0], "raw", rate[1]->med);
	result_done(B, cores[1], NULL, 0);
	result_done(B, cores[0], NULL, 0);
	result_done(B, rss, NULL, 0);
	result_done(B, mem, NULL, 0);
	sb_printf(&rate[0]->extra, ",\"samples\":%.0f,\"topics\":%d,\"products\":%d,\"buyers\":%d",
	    n, INGEST_TOPICS, INGEST_SOLD + 1, INGEST_BUYER_PROCS * INGEST_BUYERS_PER_PROC);
}
