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

/* ---------------------------------------------------------------- 3b. 10,000 connected buyers */

/*
 * Issue 17: N buyers connected at once (10,000), of which M stream (1,000)
 * from one product, Q more have ordered a product nobody publishes
 * (Q = M, at most N - M), and the rest hold a connection with the menu
 * received and no order. Memory per buyer of each kind comes from the
 * gateway's VmRSS at each step:
 *   menu idle      = (RSS after all N have their menu - RSS before) / N
 *   ordered idle   = menu idle + (RSS after the Q orders - RSS before them) / Q
 *   streaming      = menu idle + (RSS after the window - RSS before the M orders) / M
 * so each figure is all a buyer of that kind costs the gateway, connection
 * included. The streaming buyers' p99 is compared with M plain subscribers.
 */

/* The buyer processes: sessions each at most this many (file descriptors). */
#define FAN10K_PER_PROC 2500
#define FAN10K_KIDS 16
#define FAN10K_QUIET_TOPIC "bench/quiet"

struct fan10k {
	double items_s, p99, p50, cpu, hwm, setup_s;
	double us_boundary; /* gateway CPU per invoice, as in the fan-out */
	double per_menu, per_ordered, per_stream;
	double rss0, rss_menu, rss_ordered, rss_stream;
	int connected;
};

/* Splits total sessions into processes of at most FAN10K_PER_PROC; the
 * count of processes (at least min_procs while there are that many). */
static int
fan10k_split(int total, int min_procs, int *per, int max)
{
	int n = (total + FAN10K_PER_PROC - 1) / FAN10K_PER_PROC, i;

	if (n < min_procs)
		n = total < min_procs ? total : min_procs;
	if (n > max)
		return -1;
	for (i = 0; i < n; i++)
		per[i] = total / n + (i < total % n ? 1 : 0);
	return n;
}

/* Forks one buyer process of kind product (NULL: menu only, never told to
 * order) with sessions buyers, ordering on "go". */
static int
fan10k_buyers(struct bench *B, const struct gateway *g, struct child *c, struct buy_args *a,
    int sessions, const char *product, const char *latfile)
{
	memset(a, 0, sizeof(*a));
	a->port = g->port;
	memcpy(a->seller, B->seller, sizeof(a->seller));
	a->mode = BUY_STREAM;
	a->sessions = sessions;
	a->idle_first = 1;
	snprintf(a->product, sizeof(a->product), "%s", product != NULL ? product : PRODUCT);
	snprintf(a->latfile, sizeof(a->latfile), "%s", latfile);
	return child_fork(c, role_buy, a);
}

/* Waits for word from each of kids[from..to); the sessions it names. */
static int
fan10k_expect(struct child *kids, int from, int to, const char *word, int timeout_ms)
{
	char line[LINE_CAP];
	int i, got = 0;

	for (i = from; i < to; i++) {
		if (child_expect(&kids[i], word, line, sizeof(line), timeout_ms) != 0)
			return -1;
		if (kv(line, "failed", 0) > 0) {
			fprintf(stderr, "bench: fan-out 10k buyers: %s\n", line);
			return -1;
		}
		got += (int)strtol(line + strlen(word), NULL, 10);
	}
	return got;
}

/* BENCH_AT_PHASE (profiling): runs "$BENCH_AT_PHASE PHASE GATEWAY_PID" once
 * each step's RSS is taken (PHASE start, menu, ordered, streaming), e.g. a
 * script taking a massif snapshot with vgdb; the bench waits for it. */
static void
fan10k_phase(const struct gateway *g, const char *phase)
{
	const char *cmd = getenv("BENCH_AT_PHASE");
	char line[PATH_CAP + 64];

	if (cmd == NULL || cmd[0] == '\0')
		return;
	snprintf(line, sizeof(line), "%s %s %ld", cmd, phase, (long)g->c.pid);
	if (system(line) != 0)
		fprintf(stderr, "bench: BENCH_AT_PHASE: `%s' failed\n", line);
}

static int
fan10k_once(struct bench *B, int n, int m, struct fan10k *f)
{
	static const char products[] = "[product " PRODUCT "]\n"
	                               "topic = " TOPIC "\n"
	                               "price = 1\n"
	                               "unit = x\n"
	                               "description = benchmark samples\n"
	                               "\n[product quiet]\n"
	                               "topic = " FAN10K_QUIET_TOPIC "\n"
	                               "price = 1\n"
	                               "unit = x\n"
	                               "description = ordered, never published\n";
	struct gw_opts o = GW_DEFAULTS;
	struct gateway g;
	struct child kids[FAN10K_KIDS], pub;
	struct buy_args args[FAN10K_KIDS];
	struct lat all = { 0 };
	char lp[FAN10K_KIDS][PATH_CAP], line[LINE_CAP];
	double secs = B->quick ? 2 : 5, items = 0, cpu0, cpu1, inv0, inv1, rss_go;
	int per[FAN10K_KIDS], ns, nq, nm, i, nk = 0, rc = -1, got;
	int q = m < n - m ? m : n - m, rest = n - m - q;
	uint64_t s, e, t0;

	memset(f, 0, sizeof(*f));
	memset(&pub, 0, sizeof(pub));
	memset(kids, 0, sizeof(kids));
	o.k = 10;
	o.ack_every = 10;
	o.max_buyers = (unsigned)n + 16;
	o.products = products;
	if (gw_start(B, &o, &g) != 0)
		return -1;
	sleep_ms(300);
	f->rss0 = proc_status_bytes(g.c.pid, "VmRSS:");
	fan10k_phase(&g, "start");
	t0 = mono_ns();
	/* kids: streaming [0, ns), ordered idle [ns, ns + nq), menu idle after. */
	ns = fan10k_split(m, FANOUT_PROCS, per, FAN10K_KIDS);
	for (i = 0; ns > 0 && i < ns; i++) {
		latpath(B, lp[i], sizeof(lp[i]), "fan10k", i);
		if (fan10k_buyers(B, &g, &kids[i], &args[i], per[i], PRODUCT, lp[i]) != 0)
			goto out;
		nk++;
	}
	nq = fan10k_split(q, 1, per, FAN10K_KIDS - nk);
	for (i = 0; nq > 0 && i < nq; i++) {
		latpath(B, lp[nk], sizeof(lp[nk]), "fan10k", nk);
		if (fan10k_buyers(B, &g, &kids[nk], &args[nk], per[i], "quiet", lp[nk]) != 0)
			goto out;
		nk++;
	}
	nm = fan10k_split(rest, 1, per, FAN10K_KIDS - nk);
	for (i = 0; nm > 0 && i < nm; i++) {
		latpath(B, lp[nk], sizeof(lp[nk]), "fan10k", nk);
		if (fan10k_buyers(B, &g, &kids[nk], &args[nk], per[i], PRODUCT, lp[nk]) != 0)
			goto out;
		nk++;
	}
	if (ns < 0 || nq < 0 || nm < 0) {
		fprintf(stderr, "bench: fan-out 10k: too many buyer processes\n");
		goto out;
	}
	got = fan10k_expect(kids, 0, nk, "idle", 300000);
	if (got != n) {
		fprintf(stderr, "bench: fan-out 10k: %d of %d buyers got their menu\n", got, n);
		goto out;
	}
	f->connected = got;
	f->setup_s = (double)(mono_ns() - t0) / 1e9;
	sleep_ms(500);
	f->rss_menu = proc_status_bytes(g.c.pid, "VmRSS:");
	fan10k_phase(&g, "menu");
	for (i = ns; i < ns + nq; i++)
		child_send(&kids[i], "go\n");
	if (nq > 0 && fan10k_expect(kids, ns, ns + nq, "ready", 120000) != q)
		goto out;
	sleep_ms(500);
	f->rss_ordered = proc_status_bytes(g.c.pid, "VmRSS:");
	fan10k_phase(&g, "ordered");
	rss_go = f->rss_ordered;
	for (i = 0; i < ns; i++)
		child_send(&kids[i], "go\n");
	if (fan10k_expect(kids, 0, ns, "ready", 120000) != m)
		goto out;
	if (pub_start(B, &pub, B->fanout_rate) != 0)
		goto out;
	s = mono_ns() + 1500000000u;
	e = s + (uint64_t)(secs * 1e9);
	for (i = 0; i < ns; i++)
		child_send(&kids[i], "window %" PRIu64 " %" PRIu64 " 1\n", s, e);
	sleep_until(s);
	cpu0 = proc_cpu_s(g.c.pid);
	inv0 = gw_metric(&g, "invoices_total");
	sleep_until(e);
	cpu1 = proc_cpu_s(g.c.pid);
	inv1 = gw_metric(&g, "invoices_total");
	f->rss_stream = proc_status_bytes(g.c.pid, "VmRSS:");
	f->hwm = proc_status_bytes(g.c.pid, "VmHWM:");
	fan10k_phase(&g, "streaming");
	for (i = 0; i < ns; i++) {
		if (child_expect(&kids[i], "mod10_p50_ms", line, sizeof(line), 15000) == 0 &&
		    i == 0)
			printf("%-12s   streaming buyers' p50 latency (ms) by item seq %% 10 (one "
			       "process): %s\n",
			    "", line + 13);
		if (child_expect(&kids[i], "result", line, sizeof(line), 15000) != 0)
			goto out;
		items += kv(line, "n", 0);
		if (strstr(line, "error=") != NULL)
			fprintf(stderr, "bench: fan-out 10k buyers: %s\n", line);
		lat_read(&all, lp[i]);
	}
	{
		struct pcts p = lat_pcts(&all);

		f->p50 = p.p50;
		f->p99 = p.p99;
	}
	f->items_s = items / secs;
	f->cpu = (cpu1 - cpu0) / secs;
	f->us_boundary = inv1 > inv0 ? (cpu1 - cpu0) / (inv1 - inv0) * 1e6 : -1;
	f->per_menu = (f->rss_menu - f->rss0) / n;
	f->per_ordered = q > 0 ? f->per_menu + (f->rss_ordered - f->rss_menu) / q : -1;
	f->per_stream = f->per_menu + (f->rss_stream - rss_go) / m;
	rc = 0;
out:
	lat_free(&all);
	(void)pub_stop(&pub);
	(void)child_stop(&pub, SIGKILL, 1000);
	for (i = 0; i < nk; i++)
		(void)child_stop(&kids[i], SIGKILL, 2000);
	gw_stop(&g);
	return rc;
}

/* The descriptors a run needs: the gateway holds every buyer's socket, a
 * buyer process FAN10K_PER_PROC of them; -1 (and why) if the hard limit
 * is below that. main() raised the soft limit to the hard one. */
static int
fan10k_fds_ok(int n)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)n + 256;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return -1;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
		printf("%-12s   not run: RLIMIT_NOFILE is %llu (hard %llu), %d buyers need %llu "
		       "descriptors in the gateway: raise the hard limit (ulimit -Hn, "
		       "limits.conf, LimitNOFILE=)\n",
		    "", (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max, n,
		    (unsigned long long)need);
		return -1;
	}
	return 0;
}

void
scenario_fanout10k(struct bench *B)
{
	struct result *bi, *bp, *ri, *rp, *rc, *rcb, *rh, *rmenu, *rord, *rstr, *rset;
	int run, n = B->fan10k_buyers, m = B->fan10k_streaming;
	int q = m < n - m ? m : n - m;
	char name[128];

	printf("\n# 3b. fan-out: %d buyers connected, %d streaming one product at %.0f samples/s "
	       "(K=10, ack_every=10), %d ordered a silent product, %d menu only\n",
	    n, m, B->fanout_rate, q, n - m - q);
	if (fan10k_fds_ok(n) != 0)
		return;
	snprintf(name, sizeof(name), "%d plain subscribers: messages/s (baseline)", m);
	bi = result_new(B, "fanout10k", name, "items/s");
	snprintf(name, sizeof(name), "%d plain subscribers: p99 (baseline)", m);
	bp = result_new(B, "fanout10k", name, "ms");
	snprintf(name, sizeof(name), "%d of %d buyers streaming: items/s", m, n);
	ri = result_new(B, "fanout10k", name, "items/s");
	snprintf(name, sizeof(name), "%d of %d buyers: p99 publish -> decrypted", m, n);
	rp = result_new(B, "fanout10k", name, "ms");
	rc = result_new(B, "fanout10k", "gateway CPU while streaming", "cores");
	rcb = result_new(B, "fanout10k", "gateway CPU per invoice boundary", "us");
	rh = result_new(B, "fanout10k", "gateway peak RSS (VmHWM)", "MiB");
	rmenu = result_new(B, "fanout10k", "memory per idle buyer (menu, no order)", "bytes");
	rord = result_new(B, "fanout10k", "memory per idle buyer (ordered, no samples)", "bytes");
	rstr = result_new(B, "fanout10k", "gateway memory per streaming buyer", "bytes");
	snprintf(name, sizeof(name), "%d buyers connected, menu received", n);
	rset = result_new(B, "fanout10k", name, "s");
	for (run = 0; run < B->runs; run++) {
		struct fan10k f;
		double a, b, c;

		if (fanout_raw_once(B, m, &a, &b, &c) == 0) {
			result_add(bi, a);
			result_add(bp, b);
		}
		if (fan10k_once(B, n, m, &f) == 0) {
			result_add(ri, f.items_s);
			result_add(rp, f.p99);
			result_add(rc, f.cpu);
			if (f.us_boundary >= 0)
				result_add(rcb, f.us_boundary);
			result_add(rh, f.hwm / 1048576.0);
			result_add(rmenu, f.per_menu);
			if (f.per_ordered >= 0)
				result_add(rord, f.per_ordered);
			result_add(rstr, f.per_stream);
			result_add(rset, f.setup_s);
			printf("%-12s   run %d: rss0 %.1f MiB, menu %.1f MiB, ordered %.1f MiB, "
			       "streaming %.1f MiB, p50 %.3f ms\n",
			    "", run + 1, f.rss0 / 1048576.0, f.rss_menu / 1048576.0,
			    f.rss_ordered / 1048576.0, f.rss_stream / 1048576.0, f.p50);
		}
	}
	result_done(B, bi, NULL, 0);
	result_done(B, bp, NULL, 0);
	result_done(B, ri, "plain subscribers", bi->med);
	result_done(B, rp, "plain subscribers", bp->med);
	result_done(B, rc, NULL, 0);
	result_done(B, rcb, NULL, 0);
	result_done(B, rh, NULL, 0);
	result_done(B, rmenu, NULL, 0);
	result_done(B, rord, NULL, 0);
	result_done(B, rstr, NULL, 0);
	result_done(B, rset, NULL, 0);
}
