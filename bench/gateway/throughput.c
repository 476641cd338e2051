/* Gateway benchmarks: 1 throughput, 1b signing across cores, 2 latency, 5 a slow ledger. */
#include "bench/gateway/bench.h"

/* ---------------------------------------------------------------- 1. throughput */

#define TP_THREADS 16 /* thread names told apart; more go uncounted */

struct tp_extra {
	double pub_rate;     /* what the publisher managed */
	double gw_cpu;       /* gateway CPU seconds per second of window */
	double samples;      /* gateway: samples taken from MQTT per second */
	double invoices;     /* invoices recorded per second */
	double commits;      /* ledger commits per second */
	double consumer_cpu; /* the subscriber's or the buyer's CPU, cores */
	double broker_cpu;   /* mosquitto's CPU, cores (gateway runs) */
	double pub_cpu;      /* the publisher's CPU, cores (gateway runs) */
	/* Issue 17: totals over the window(s), for the gateway's CPU per item
	 * delivered and per invoice boundary crossed (one invoice each). */
	double gw_cpu_s, items, boundaries;
	/* The gateway's CPU seconds in the window(s) by thread name. */
	struct thr_cpu thr[TP_THREADS];
	int nthr;
};

/* Items/s a single plain subscriber receives from a full-speed publisher. */
static double
tp_raw_once(struct bench *B, double warm, double window, struct tp_extra *x)
{
	struct child sub, pub;
	struct sub_args sa;
	char line[LINE_CAP];
	uint64_t s, e;
	double rate = -1, c0;

	memset(x, 0, sizeof(*x));
	memset(&pub, 0, sizeof(pub));
	if (sub_start(B, &sub, &sa, SUB_WINDOW, 1, NULL) != 0)
		goto out;
	if (pub_start(B, &pub, 0) != 0)
		goto out;
	s = mono_ns() + (uint64_t)(warm * 1e9);
	e = s + (uint64_t)(window * 1e9);
	child_send(&sub, "window %" PRIu64 " %" PRIu64 "\n", s, e);
	sleep_until(s);
	c0 = proc_cpu_s(sub.pid);
	sleep_until(e);
	x->consumer_cpu = (proc_cpu_s(sub.pid) - c0) / window;
	if (child_expect(
	        &sub, "result", line, sizeof(line), (int)((warm + window) * 1000) + 10000) == 0)
		rate = kv(line, "rate", -1);
	x->pub_rate = pub_stop(&pub);
out:
	(void)child_stop(&pub, SIGKILL, 1000);
	(void)child_stop(&sub, SIGKILL, 1000);
	return rate;
}

/* Adds n named CPU figures t, times sign, to x's. */
static void
thr_add(struct tp_extra *x, const struct thr_cpu *t, int n, double sign)
{
	int i, k;

	for (i = 0; i < n; i++) {
		for (k = 0; k < x->nthr && strcmp(x->thr[k].name, t[i].name) != 0; k++)
			;
		if (k == x->nthr) {
			if (k == TP_THREADS)
				continue;
			x->thr[x->nthr++] = (struct thr_cpu){ .s = 0 };
			snprintf(x->thr[k].name, sizeof(x->thr[k].name), "%s", t[i].name);
		}
		x->thr[k].s += sign * t[i].s;
	}
}

/* Items/s one buyer receives, verified and decrypted, through a gateway. */
static double
tp_gw_once(struct bench *B, const struct gw_opts *o, double warm, double window, struct tp_extra *x)
{
	struct gateway g;
	struct child buy, pub;
	struct buy_args ba;
	struct thr_cpu t0[TP_THREADS], t1[TP_THREADS];
	char line[LINE_CAP];
	uint64_t s, e;
	double rate = -1, cpu0, cpu1, samp0, samp1, inv0, inv1, com0, com1, bc0, mc0, pc0;
	int n0, n1;

	memset(x, 0, sizeof(*x));
	memset(&buy, 0, sizeof(buy));
	memset(&pub, 0, sizeof(pub));
	if (gw_start(B, o, &g) != 0)
		return -1;
	if (buy_start(B, &buy, &ba, &g, BUY_STREAM, 1, 0, NULL, NULL, "ready") != 0)
		goto out;
	if (pub_start(B, &pub, 0) != 0)
		goto out;
	s = mono_ns() + (uint64_t)(warm * 1e9);
	e = s + (uint64_t)(window * 1e9);
	child_send(&buy, "window %" PRIu64 " %" PRIu64 "\n", s, e);
	sleep_until(s);
	cpu0 = proc_cpu_s(g.c.pid);
	n0 = proc_thread_cpu(g.c.pid, t0, TP_THREADS);
	bc0 = proc_cpu_s(buy.pid);
	mc0 = proc_cpu_s(B->broker.pid);
	pc0 = proc_cpu_s(pub.pid);
	samp0 = gw_metric(&g, "samples_total");
	inv0 = gw_metric(&g, "invoices_total");
	com0 = gw_metric(&g, "ledger_commits_total");
	sleep_until(e);
	cpu1 = proc_cpu_s(g.c.pid);
	n1 = proc_thread_cpu(g.c.pid, t1, TP_THREADS);
	x->consumer_cpu = (proc_cpu_s(buy.pid) - bc0) / window;
	x->broker_cpu = (proc_cpu_s(B->broker.pid) - mc0) / window;
	x->pub_cpu = (proc_cpu_s(pub.pid) - pc0) / window;
	samp1 = gw_metric(&g, "samples_total");
	inv1 = gw_metric(&g, "invoices_total");
	com1 = gw_metric(&g, "ledger_commits_total");
	if (child_expect(&buy, "result", line, sizeof(line), 10000) == 0) {
		rate = kv(line, "rate", -1);
		if (strstr(line, "error=") != NULL)
			fprintf(stderr, "bench: buyer: %s\n", line);
	}
	x->pub_rate = pub_stop(&pub);
	x->gw_cpu = (cpu1 - cpu0) / window;
	x->samples = (samp1 - samp0) / window;
	x->invoices = (inv1 - inv0) / window;
	x->commits = (com1 - com0) / window;
	x->gw_cpu_s = cpu1 - cpu0;
	x->items = rate > 0 ? rate * window : 0;
	x->boundaries = inv1 - inv0;
	if (n0 >= 0 && n1 >= 0) {
		thr_add(x, t1, n1, 1);
		thr_add(x, t0, n0, -1);
	}
out:
	(void)child_stop(&pub, SIGKILL, 1000);
	(void)child_stop(&buy, SIGKILL, 1000);
	gw_stop(&g);
	return rate;
}

/* Gateway CPU in microseconds per item and per invoice boundary, -1 if none. */
static double
tp_us_item(const struct tp_extra *x)
{
	return x->items > 0 ? x->gw_cpu_s / x->items * 1e6 : -1;
}

static double
tp_us_boundary(const struct tp_extra *x)
{
	return x->boundaries > 0 ? x->gw_cpu_s / x->boundaries * 1e6 : -1;
}

/* Per sample taken from MQTT: the gateway takes every sample the full-speed
 * publisher sends, delivered or not, so where the buyer gets far fewer
 * (a boundary at every few items) this is what the per-item figure holds. */
static double
tp_us_sample(const struct tp_extra *x)
{
	return x->samples > 0 ? x->gw_cpu / x->samples * 1e6 : -1;
}

static void
extra_tp(struct result *r, const struct tp_extra *x, int n)
{
	sb_printf(&r->extra,
	    ",\"publisher_msgs_per_s\":%.0f,\"gateway_cpu_cores\":%.3f,\"buyer_cpu_cores\":%.3f,"
	    "\"gateway_samples_per_s\":%.0f,\"invoices_per_s\":%.1f,\"ledger_commits_per_s\":%.1f",
	    x->pub_rate / n, x->gw_cpu / n, x->consumer_cpu / n, x->samples / n, x->invoices / n,
	    x->commits / n);
	sb_printf(&r->extra,
	    ",\"gateway_cpu_us_per_item\":%.3f,\"gateway_cpu_us_per_boundary\":%.1f,"
	    "\"gateway_cpu_us_per_sample_in\":%.3f",
	    tp_us_item(x), tp_us_boundary(x), tp_us_sample(x));
}

static void
tp_add(struct tp_extra *sum, const struct tp_extra *x)
{
	sum->pub_rate += x->pub_rate;
	sum->gw_cpu += x->gw_cpu;
	sum->samples += x->samples;
	sum->invoices += x->invoices;
	sum->commits += x->commits;
	sum->consumer_cpu += x->consumer_cpu;
	sum->broker_cpu += x->broker_cpu;
	sum->pub_cpu += x->pub_cpu;
	sum->gw_cpu_s += x->gw_cpu_s;
	sum->items += x->items;
	sum->boundaries += x->boundaries;
	thr_add(sum, x->thr, x->nthr, 1);
}

struct tp_variant {
	uint64_t k, ack_every;
	int sign;
};

void
scenario_throughput(struct bench *B)
{
	static const struct tp_variant v[] = {
		{ 1, 1, 0 },
		{ 10, 1, 0 },
		{ 10, 10, 0 },
		{ 1000, 1, 0 },
		{ 1000, 1000, 0 },
		{ 1, 1, 1 },
		{ 10, 1, 1 },
		{ 10, 10, 1 },
		{ 1000, 1, 1 },
		{ 1000, 1000, 1 },
	};
	enum { NV = sizeof(v) / sizeof(v[0]) };
	struct result *raw, *r[NV];
	struct tp_extra xs[NV], xraw, x;
	double warm = B->quick ? 0.3 : 0.5, window = B->quick ? 1.0 : 2.0;
	char name[96];
	int run, i;

	if (B->tp_window > 0)
		window = B->tp_window;
	printf("\n# 1. single-buyer throughput: full-speed QoS 0 publisher, %d-byte payloads, "
	       "%.1f s windows\n",
	    PAYLOAD_BYTES, window);
	raw = result_new(B, "throughput", "raw Paho subscriber (baseline)", "items/s");
	memset(&xraw, 0, sizeof(xraw));
	memset(xs, 0, sizeof(xs));
	for (i = 0; i < NV; i++) {
		snprintf(name, sizeof(name), "K=%" PRIu64 " ack_every=%" PRIu64 " sign_items=%s",
		    v[i].k, v[i].ack_every, v[i].sign ? "yes" : "no");
		r[i] = result_new(B, "throughput", name, "items/s");
	}
	/* Interleaved: each repetition measures the baseline and every
	 * variant, so a change in the machine's load hits all alike. */
	for (run = 0; run < B->runs; run++) {
		result_add(raw, tp_raw_once(B, warm, window, &x));
		tp_add(&xraw, &x);
		for (i = 0; i < NV; i++) {
			struct gw_opts o = GW_DEFAULTS;

			if (B->variant != 0 && B->variant != i + 1)
				continue;
			o.k = v[i].k;
			o.ack_every = v[i].ack_every;
			o.sign = v[i].sign;
			result_add(r[i], tp_gw_once(B, &o, warm, window, &x));
			tp_add(&xs[i], &x);
		}
	}
	result_done(B, raw, NULL, 0);
	sb_printf(&raw->extra, ",\"publisher_msgs_per_s\":%.0f,\"subscriber_cpu_cores\":%.3f",
	    xraw.pub_rate / B->runs, xraw.consumer_cpu / B->runs);
	printf("%-12s   publisher %.0f msgs/s written to the broker; subscriber %.2f cores "
	       "(%.1f us/msg)\n",
	    "", xraw.pub_rate / B->runs, xraw.consumer_cpu / B->runs,
	    raw->med > 0 ? xraw.consumer_cpu / B->runs / raw->med * 1e6 : -1);
	for (i = 0; i < NV; i++) {
		result_done(B, r[i], "raw Paho subscriber", raw->med);
		if (r[i]->nruns == 0)
			continue;
		extra_tp(r[i], &xs[i], B->runs);
		sb_printf(&r[i]->extra,
		    ",\"k\":%" PRIu64 ",\"ack_every\":%" PRIu64 ",\"sign_items\":%s", v[i].k,
		    v[i].ack_every, v[i].sign ? "true" : "false");
		printf("%-12s   gateway %.2f cores (%.0f samples/s in), buyer %.2f cores, "
		       "%.0f invoices/s, %.0f commits/s; publisher %.0f msgs/s\n",
		    "", xs[i].gw_cpu / B->runs, xs[i].samples / B->runs,
		    xs[i].consumer_cpu / B->runs, xs[i].invoices / B->runs, xs[i].commits / B->runs,
		    xs[i].pub_rate / B->runs);
		printf("%-12s   gateway CPU %.2f us per item, %.1f us per invoice boundary, "
		       "%.2f us per sample taken (all runs)\n",
		    "", tp_us_item(&xs[i]), tp_us_boundary(&xs[i]), tp_us_sample(&xs[i]));
	}
}

/* ---------------------------------------------------------------- 1b. signatures across cores */

/* Issue 17: per-item signatures (the throughput scenario's last variant)
 * with the gateway's signing off the event loop in worker_threads threads,
 * the gateway bound to one CPU or free on all, so the rows say how the
 * signed rate scales with cores and where the gateway's time goes. The
 * last row, unsigned, is what the same set-up delivers without signatures:
 * the publisher, broker and buyer share the cores, so it is the ceiling
 * of the signed rows (its ratio to sign/s too). */
struct ss_variant {
	int pinned; /* gateway and broker on pin_cpu[0], the roles on pin_cpu[1] */
	int workers;
	int sign; /* 0: the reference, what the same set-up delivers unsigned */
};

/* One line: the gateway's CPU by thread, in cores over the windows. */
static void
ss_threads(struct result *r, const struct tp_extra *x, double secs)
{
	int i;

	printf("%-12s   gateway threads, cores:", "");
	sb_printf(&r->extra, ",\"gateway_thread_cores\":{");
	for (i = 0; i < x->nthr; i++) {
		printf("%s %s %.2f", i ? "," : "", x->thr[i].name, x->thr[i].s / secs);
		sb_printf(
		    &r->extra, "%s\"%s\":%.3f", i ? "," : "", x->thr[i].name, x->thr[i].s / secs);
	}
	sb_printf(&r->extra, "}");
	printf("\n");
}

void
scenario_signscale(struct bench *B)
{
	static const struct ss_variant v[] = {
		{ 1, 0, 1 },
		{ 1, 1, 1 },
		{ 0, 0, 1 },
		{ 0, 1, 1 },
		{ 0, 2, 1 },
		{ 0, -1, 0 },
	};
	enum { NV = sizeof(v) / sizeof(v[0]) };
	struct result *r[NV];
	struct tp_extra xs[NV], x;
	/* 1.5 s windows, not 2: 18 gateways at 3 runs then fit in a minute. */
	double warm = B->quick ? 0.3 : 0.5, window = B->quick ? 1.0 : 1.5, rate, all, us_all;
	char name[96];
	int run, i, nok[NV] = { 0 };

	if (B->tp_window > 0)
		window = B->tp_window;
	printf("\n# 1b. per-item signatures across cores: 1 buyer, K=1000 ack_every=1000 "
	       "sign_items=yes, full-speed publisher, %.1f s windows\n",
	    window);
	if (B->pin)
		printf("# 1 CPU: gateway and mosquitto on CPU %d, publisher and buyer on CPU %d; "
		       "2 CPUs: nothing pinned\n",
		    B->pin_cpu[0], B->pin_cpu[1]);
	else
		printf("# no pinning (--no-pin or one CPU): the 1-CPU rows are not run\n");
	memset(xs, 0, sizeof(xs));
	for (i = 0; i < NV; i++) {
		if (v[i].sign)
			snprintf(name, sizeof(name), "gateway on %s, worker_threads=%d",
			    v[i].pinned ? "1 CPU" : "2 CPUs (free)", v[i].workers);
		else
			snprintf(name, sizeof(name), "%s, sign_items=no (reference)",
			    v[i].pinned ? "1 CPU" : "2 CPUs (free)");
		r[i] = result_new(B, "signscale", name, "items/s");
	}
	/* Interleaved as in the throughput scenario: load hits every row alike. */
	for (run = 0; run < B->runs; run++) {
		for (i = 0; i < NV; i++) {
			struct gw_opts o = GW_DEFAULTS;

			if (v[i].pinned && !B->pin)
				continue;
			o.k = 1000;
			o.ack_every = 1000;
			o.sign = v[i].sign;
			o.worker_threads = v[i].workers;
			bench_pin_set(B, v[i].pinned);
			rate = tp_gw_once(B, &o, warm, window, &x);
			bench_pin_set(B, 0);
			if (rate < 0)
				continue;
			result_add(r[i], rate);
			tp_add(&xs[i], &x);
			nok[i]++;
		}
	}
	for (i = 0; i < NV; i++) {
		result_done(B, r[i], "openssl sign/s", B->ed_sign);
		if (r[i]->nruns == 0)
			continue;
		extra_tp(r[i], &xs[i], nok[i]);
		sb_printf(&r[i]->extra, ",\"pinned\":%s,\"sign_items\":%s",
		    v[i].pinned ? "true" : "false", v[i].sign ? "true" : "false");
		if (v[i].workers >= 0)
			sb_printf(&r[i]->extra, ",\"worker_threads\":%d", v[i].workers);
		/* Every process of the pipeline, per item delivered: with the
		 * 2 CPUs to themselves they could deliver 2 s / this a second. */
		all = xs[i].gw_cpu + xs[i].consumer_cpu + xs[i].broker_cpu + xs[i].pub_cpu;
		us_all = xs[i].items > 0 ? all * window / xs[i].items * 1e6 : -1;
		sb_printf(&r[i]->extra,
		    ",\"broker_cpu_cores\":%.3f,\"publisher_cpu_cores\":%.3f,"
		    "\"all_cpu_us_per_item\":%.3f",
		    xs[i].broker_cpu / nok[i], xs[i].pub_cpu / nok[i], us_all);
		printf("%-12s   gateway %.2f cores, %.2f us CPU per item (%.0f samples/s in), "
		       "buyer %.2f cores, mosquitto %.2f cores, publisher %.2f cores "
		       "(%.0f msgs/s)\n",
		    "", xs[i].gw_cpu / nok[i], tp_us_item(&xs[i]), xs[i].samples / nok[i],
		    xs[i].consumer_cpu / nok[i], xs[i].broker_cpu / nok[i], xs[i].pub_cpu / nok[i],
		    xs[i].pub_rate / nok[i]);
		printf("%-12s   all four %.2f cores, %.2f us CPU per item delivered\n", "",
		    all / nok[i], us_all);
		ss_threads(r[i], &xs[i], window * nok[i]);
	}
}

/* ---------------------------------------------------------------- 2. latency */

void
scenario_latency(struct bench *B)
{
	static const struct {
		const char *name;
		uint64_t k, ack_every;
		int sign;
	} v[] = {
		{ "defaults (K=10 ack_every=1 sign_items=no)", 10, 1, 0 },
		{ "K=10 ack_every=1 sign_items=yes", 10, 1, 1 },
	};
	enum { NV = sizeof(v) / sizeof(v[0]) };
	double secs = B->quick ? 2 : 5;
	struct result *raw[3], *gw[NV][4];
	char name[128], lb[PATH_CAP], ls[PATH_CAP], line[LINE_CAP];
	int i, run, k;
	static const char *const pn[] = { "p50", "p99", "p99.9" };

	printf("\n# 2. latency at %d samples/s, publish -> buyer decrypted vs publish -> plain "
	       "subscriber, %.0f s windows\n",
	    LATENCY_RATE, secs);
	for (k = 0; k < 3; k++) {
		snprintf(name, sizeof(name), "raw Paho subscriber %s (baseline)", pn[k]);
		raw[k] = result_new(B, "latency", name, "ms");
	}
	for (i = 0; i < NV; i++) {
		for (k = 0; k < 3; k++) {
			snprintf(name, sizeof(name), "%s %s", v[i].name, pn[k]);
			gw[i][k] = result_new(B, "latency", name, "ms");
		}
		snprintf(name, sizeof(name), "%s items lost", v[i].name);
		gw[i][3] = result_new(B, "latency", name, "items");
	}
	for (run = 0; run < B->runs; run++) {
		for (i = 0; i < NV; i++) {
			struct gw_opts o = GW_DEFAULTS;
			struct gateway g;
			struct child buy, sub, pub;
			struct buy_args ba;
			struct sub_args sa;
			struct lat lb_l = { 0 }, ls_l = { 0 };
			uint64_t s, e;
			double nb = -1, ns = -1;

			memset(&buy, 0, sizeof(buy));
			memset(&sub, 0, sizeof(sub));
			memset(&pub, 0, sizeof(pub));
			o.k = v[i].k;
			o.ack_every = v[i].ack_every;
			o.sign = v[i].sign;
			latpath(B, lb, sizeof(lb), "lat-buy", run);
			latpath(B, ls, sizeof(ls), "lat-sub", run);
			if (gw_start(B, &o, &g) != 0)
				continue;
			/* Both on the same stream at once: the baseline sees exactly
			 * the samples the buyer gets, under the same load. */
			if (buy_start(B, &buy, &ba, &g, BUY_STREAM, 1, 0, lb, NULL, "ready") != 0 ||
			    sub_start(B, &sub, &sa, SUB_WINDOW, 1, ls) != 0 ||
			    pub_start(B, &pub, LATENCY_RATE) != 0)
				goto next;
			s = mono_ns() + 1000000000u;
			e = s + (uint64_t)(secs * 1e9);
			child_send(&buy, "window %" PRIu64 " %" PRIu64 " 1\n", s, e);
			child_send(&sub, "window %" PRIu64 " %" PRIu64 " 1\n", s, e);
			if (child_expect(&buy, "result", line, sizeof(line),
			        (int)(secs * 1000) + 15000) == 0)
				nb = kv(line, "n", -1);
			if (child_expect(&sub, "result", line, sizeof(line), 10000) == 0)
				ns = kv(line, "n", -1);
			lat_read(&lb_l, lb);
			lat_read(&ls_l, ls);
			{
				struct pcts pb = lat_pcts(&lb_l), ps = lat_pcts(&ls_l);

				result_add(gw[i][0], pb.p50);
				result_add(gw[i][1], pb.p99);
				result_add(gw[i][2], pb.p999);
				if (i == 0) {
					result_add(raw[0], ps.p50);
					result_add(raw[1], ps.p99);
					result_add(raw[2], ps.p999);
				}
				/* Items the subscriber got in the window and the buyer
				 * did not: dropped on the way (should be 0). */
				result_add(gw[i][3], ns >= 0 && nb >= 0 ? ns - nb : -1);
			}
			lat_free(&lb_l);
			lat_free(&ls_l);
		next:
			(void)pub_stop(&pub);
			(void)child_stop(&pub, SIGKILL, 1000);
			(void)child_stop(&buy, SIGKILL, 1000);
			(void)child_stop(&sub, SIGKILL, 1000);
			gw_stop(&g);
		}
	}
	for (k = 0; k < 3; k++)
		result_done(B, raw[k], NULL, 0);
	for (i = 0; i < NV; i++) {
		for (k = 0; k < 3; k++) {
			result_done(B, gw[i][k], "raw Paho subscriber", raw[k]->med);
			sb_printf(
			    &gw[i][k]->extra, ",\"added_ms\":%.4f", gw[i][k]->med - raw[k]->med);
		}
		result_done(B, gw[i][3], NULL, 0);
	}
}

/* ---------------------------------------------------------------- 5. slow ledger */

void
scenario_ledger(struct bench *B)
{
	struct result *r0, *r1;
	struct tp_extra x, x0, x1;
	/* Long enough to reach the steady state: with commit_delay D a buyer
	 * pauses once unpaid items reach max_unpaid, which takes seconds. */
	double warm = B->quick ? 2.0 : 4.0, window = B->quick ? 2.0 : 4.0;
	char line[LINE_CAP], path[PATH_CAP + 32];
	int run;
	FILE *f;

	printf("\n# 5. ledger: a slow records medium (commit_delay) must not slow the data flow; "
	       "K=1000 ack_every=1000 max_unpaid=32000, full-speed publisher\n");
	/* The raw figure: bench_ledger, when built beside us. */
	snprintf(path, sizeof(path), "%s/bench_ledger", B->dir);
	if (access(path, X_OK) == 0) {
		snprintf(path, sizeof(path), "%s/bench_ledger %s", B->dir, B->dir);
		f = popen(path, "r");
		while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
			double single = -1, g100 = -1, g1000 = -1;
			struct result *r;
			char *p;

			if (strncmp(line, "{\"ledger\":", 10) != 0) {
				printf("%-12s   %s", "", line);
				continue;
			}
			if ((p = strstr(line, "\"single\":")) != NULL)
				single = strtod(p + 9, NULL);
			if ((p = strstr(line, "\"group100\":")) != NULL)
				g100 = strtod(p + 11, NULL);
			if ((p = strstr(line, "\"group1000\":")) != NULL)
				g1000 = strtod(p + 12, NULL);
			r = result_new(
			    B, "ledger", "raw appends/s, one commit per record", "rec/s");
			result_add(r, single);
			result_done(B, r, NULL, 0);
			r = result_new(B, "ledger", "raw appends/s, group commit of 100", "rec/s");
			result_add(r, g100);
			result_done(B, r, "one commit per record", single);
			r = result_new(B, "ledger", "raw appends/s, group commit of 1000", "rec/s");
			result_add(r, g1000);
			result_done(B, r, "one commit per record", single);
		}
		if (f != NULL)
			pclose(f);
	}
	r0 = result_new(B, "ledger", "items/s, commit_delay 0", "items/s");
	r1 = result_new(B, "ledger", "items/s, commit_delay 200ms", "items/s");
	memset(&x0, 0, sizeof(x0));
	memset(&x1, 0, sizeof(x1));
	for (run = 0; run < B->runs; run++) {
		struct gw_opts o = GW_DEFAULTS;

		o.k = 1000;
		o.ack_every = 1000;
		o.max_unpaid = 32000;
		result_add(r0, tp_gw_once(B, &o, warm, window, &x));
		tp_add(&x0, &x);
		o.commit_delay_ms = 200;
		result_add(r1, tp_gw_once(B, &o, warm, window, &x));
		tp_add(&x1, &x);
	}
	result_done(B, r0, NULL, 0);
	extra_tp(r0, &x0, B->runs);
	result_done(B, r1, "commit_delay 0", r0->med);
	extra_tp(r1, &x1, B->runs);
	printf("%-12s   delay 0: %.1f invoices/s, %.1f commits/s; delay 200ms: %.1f invoices/s, "
	       "%.1f commits/s\n",
	    "", x0.invoices / B->runs, x0.commits / B->runs, x1.invoices / B->runs,
	    x1.commits / B->runs);
}
