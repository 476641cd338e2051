/* Gateway benchmarks, scenario 3: one sensor fanned out to many buyers vs subscribers. */
#include "bench/gateway/bench.h"

/* ---------------------------------------------------------------- 3. fan-out */

struct fan {
	double items_s, p99, p50, cpu, rss0, rss_idle, rss_stream, hwm, per_idle, per_stream;
	double invoices_s, commits_s;
	double us_item, us_boundary; /* gateway CPU per item delivered, per invoice */
	int buyers;
};

static int
fanout_gw_once(struct bench *B, int nbuyers, struct fan *f)
{
	struct gw_opts o = GW_DEFAULTS;
	struct gateway g;
	struct child kids[FANOUT_PROCS], pub;
	struct buy_args args[FANOUT_PROCS];
	struct lat all = { 0 };
	char lp[FANOUT_PROCS][PATH_CAP], line[LINE_CAP];
	double secs = B->quick ? 2 : 5, items = 0, cpu0, cpu1, inv0, inv1, com0, com1;
	uint64_t s, e;
	int i, nk = 0, rc = -1, per = nbuyers / FANOUT_PROCS;

	memset(f, 0, sizeof(*f));
	memset(&pub, 0, sizeof(pub));
	memset(kids, 0, sizeof(kids));
	o.k = 10;
	o.ack_every = 10;
	o.max_buyers = (unsigned)nbuyers * 2;
	if (gw_start(B, &o, &g) != 0)
		return -1;
	sleep_ms(300);
	f->rss0 = proc_status_bytes(g.c.pid, "VmRSS:");
	for (i = 0; i < FANOUT_PROCS; i++) {
		latpath(B, lp[i], sizeof(lp[i]), "fan", i);
		if (buy_start(B, &kids[i], &args[i], &g, BUY_STREAM, per, 1, lp[i], NULL, NULL) !=
		    0)
			goto out;
		nk++;
	}
	for (i = 0; i < nk; i++)
		if (child_expect(&kids[i], "idle", line, sizeof(line), 60000) != 0 ||
		    kv(line, "failed", 0) > 0) {
			fprintf(stderr, "bench: fan-out buyers: %s\n", line);
			goto out;
		}
	sleep_ms(300);
	f->rss_idle = proc_status_bytes(g.c.pid, "VmRSS:");
	for (i = 0; i < nk; i++)
		child_send(&kids[i], "go\n");
	for (i = 0; i < nk; i++)
		if (child_expect(&kids[i], "ready", line, sizeof(line), 60000) != 0 ||
		    kv(line, "failed", 0) > 0) {
			fprintf(stderr, "bench: fan-out buyers: %s\n", line);
			goto out;
		}
	if (pub_start(B, &pub, B->fanout_rate) != 0)
		goto out;
	s = mono_ns() + 1500000000u;
	e = s + (uint64_t)(secs * 1e9);
	for (i = 0; i < nk; i++)
		child_send(&kids[i], "window %" PRIu64 " %" PRIu64 " 1\n", s, e);
	sleep_until(s);
	cpu0 = proc_cpu_s(g.c.pid);
	inv0 = gw_metric(&g, "invoices_total");
	com0 = gw_metric(&g, "ledger_commits_total");
	sleep_until(e);
	cpu1 = proc_cpu_s(g.c.pid);
	inv1 = gw_metric(&g, "invoices_total");
	com1 = gw_metric(&g, "ledger_commits_total");
	f->rss_stream = proc_status_bytes(g.c.pid, "VmRSS:");
	f->hwm = proc_status_bytes(g.c.pid, "VmHWM:");
	for (i = 0; i < nk; i++) {
		if (child_expect(&kids[i], "mod10_p50_ms", line, sizeof(line), 15000) == 0 &&
		    i == 0)
			printf("%-12s   buyers' p50 latency (ms) by item seq %% 10, seq 10, 20.. "
			       "invoiced "
			       "(one process): %s\n",
			    "", line + 13);
		if (child_expect(&kids[i], "result", line, sizeof(line), 15000) != 0)
			goto out;
		items += kv(line, "n", 0);
		if (strstr(line, "error=") != NULL)
			fprintf(stderr, "bench: fan-out buyers: %s\n", line);
		lat_read(&all, lp[i]);
	}
	{
		struct pcts p = lat_pcts(&all);

		f->p50 = p.p50;
		f->p99 = p.p99;
	}
	f->buyers = nbuyers;
	f->items_s = items / secs;
	f->cpu = (cpu1 - cpu0) / secs;
	f->invoices_s = (inv1 - inv0) / secs;
	f->commits_s = (com1 - com0) / secs;
	/* Issue 17: the gateway's own CPU (its core is its and the broker's
	 * alone when pinned) over what it did: items delivered, and invoice
	 * boundaries crossed (one invoice each). */
	f->us_item = items > 0 ? (cpu1 - cpu0) / items * 1e6 : -1;
	f->us_boundary = inv1 > inv0 ? (cpu1 - cpu0) / (inv1 - inv0) * 1e6 : -1;
	f->per_idle = (f->rss_idle - f->rss0) / nbuyers;
	f->per_stream = (f->rss_stream - f->rss0) / nbuyers;
	rc = 0;
out:
	lat_free(&all);
	(void)pub_stop(&pub);
	(void)child_stop(&pub, SIGKILL, 1000);
	for (i = 0; i < FANOUT_PROCS; i++)
		(void)child_stop(&kids[i], SIGKILL, 2000);
	gw_stop(&g);
	return rc;
}

/* The baseline: as many plain subscribers, spread over as many processes. */
static int
fanout_raw_once(struct bench *B, int nsubs, double *items_s, double *p99, double *p50)
{
	struct child kids[FANOUT_PROCS], pub;
	struct sub_args args[FANOUT_PROCS];
	struct lat all = { 0 };
	char lp[FANOUT_PROCS][PATH_CAP], line[LINE_CAP];
	double secs = B->quick ? 2 : 5, items = 0;
	uint64_t s, e;
	int i, nk = 0, rc = -1;

	memset(&pub, 0, sizeof(pub));
	memset(kids, 0, sizeof(kids));
	for (i = 0; i < FANOUT_PROCS; i++) {
		latpath(B, lp[i], sizeof(lp[i]), "fanraw", i);
		if (sub_start(B, &kids[i], &args[i], SUB_WINDOW, nsubs / FANOUT_PROCS, lp[i]) != 0)
			goto out;
		nk++;
	}
	if (pub_start(B, &pub, B->fanout_rate) != 0)
		goto out;
	s = mono_ns() + 1500000000u;
	e = s + (uint64_t)(secs * 1e9);
	for (i = 0; i < nk; i++)
		child_send(&kids[i], "window %" PRIu64 " %" PRIu64 " 1\n", s, e);
	for (i = 0; i < nk; i++) {
		if (child_expect(
		        &kids[i], "result", line, sizeof(line), (int)(secs * 1000) + 15000) != 0)
			goto out;
		items += kv(line, "n", 0);
		lat_read(&all, lp[i]);
	}
	{
		struct pcts p = lat_pcts(&all);

		*p99 = p.p99;
		*p50 = p.p50;
	}
	*items_s = items / secs;
	rc = 0;
out:
	lat_free(&all);
	(void)pub_stop(&pub);
	(void)child_stop(&pub, SIGKILL, 1000);
	for (i = 0; i < FANOUT_PROCS; i++)
		(void)child_stop(&kids[i], SIGKILL, 2000);
	return rc;
}

void
scenario_fanout(struct bench *B)
{
	struct result *ri, *rp, *rc, *rh, *rm_idle, *rm_stream, *bi, *bp, *rinv, *rci, *rcb;
	int run, n = B->fanout_buyers;
	char name[128];

	printf("\n# 3. fan-out: %d buyers in %d processes on one product at %.0f samples/s "
	       "(K=10, ack_every=10)\n",
	    n, FANOUT_PROCS, B->fanout_rate);
	snprintf(name, sizeof(name), "%d plain subscribers: messages/s (baseline)", n);
	bi = result_new(B, "fanout", name, "items/s");
	snprintf(name, sizeof(name), "%d plain subscribers: p99 (baseline)", n);
	bp = result_new(B, "fanout", name, "ms");
	snprintf(name, sizeof(name), "%d buyers: items/s", n);
	ri = result_new(B, "fanout", name, "items/s");
	snprintf(name, sizeof(name), "%d buyers: p99 publish -> decrypted", n);
	rp = result_new(B, "fanout", name, "ms");
	rc = result_new(B, "fanout", "gateway CPU while streaming", "cores");
	rci = result_new(B, "fanout", "gateway CPU per item delivered", "us");
	rcb = result_new(B, "fanout", "gateway CPU per invoice boundary", "us");
	rh = result_new(B, "fanout", "gateway peak RSS (VmHWM)", "MiB");
	rm_idle = result_new(B, "fanout", "gateway memory per idle buyer", "bytes");
	rm_stream = result_new(B, "fanout", "gateway memory per streaming buyer", "bytes");
	rinv = result_new(B, "fanout", "invoices recorded (group commit)", "inv/s");
	for (run = 0; run < B->runs; run++) {
		struct fan f;
		double a, b, c;

		if (fanout_raw_once(B, n, &a, &b, &c) == 0) {
			result_add(bi, a);
			result_add(bp, b);
		}
		if (fanout_gw_once(B, n, &f) == 0) {
			result_add(ri, f.items_s);
			result_add(rp, f.p99);
			result_add(rc, f.cpu);
			if (f.us_item >= 0)
				result_add(rci, f.us_item);
			if (f.us_boundary >= 0)
				result_add(rcb, f.us_boundary);
			result_add(rh, f.hwm / 1048576.0);
			result_add(rm_idle, f.per_idle);
			result_add(rm_stream, f.per_stream);
			result_add(rinv, f.invoices_s);
			sb_printf(&rinv->extra, "%s", "");
			printf("%-12s   run %d: rss0 %.1f MiB, idle %.1f MiB, streaming %.1f MiB, "
			       "%.0f commits/s, p50 %.3f ms\n",
			    "", run + 1, f.rss0 / 1048576.0, f.rss_idle / 1048576.0,
			    f.rss_stream / 1048576.0, f.commits_s, f.p50);
		}
	}
	result_done(B, bi, NULL, 0);
	result_done(B, bp, NULL, 0);
	result_done(B, ri, "plain subscribers", bi->med);
	result_done(B, rp, "plain subscribers", bp->med);
	result_done(B, rc, NULL, 0);
	result_done(B, rci, NULL, 0);
	result_done(B, rcb, NULL, 0);
	result_done(B, rh, NULL, 0);
	result_done(B, rm_idle, NULL, 0);
	result_done(B, rm_stream, NULL, 0);
	result_done(B, rinv, NULL, 0);
}
