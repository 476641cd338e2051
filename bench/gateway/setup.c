/* Gateway benchmarks, scenario 4: order set-up vs MQTT connect+subscribe, and Fig. 3. */
#include "bench/gateway/bench.h"

/* ---------------------------------------------------------------- 4. order set-up and Fig. 3 */

/* One set-up window with procs x slots concurrent buyers (or plain
 * subscribers when raw); set-ups/s and the time distributions. */
static int
setup_once(struct bench *B, const struct gateway *g, int raw, int procs, int slots, double secs,
    double *per_s, struct pcts *first, struct pcts *key)
{
	struct child kids[4];
	struct buy_args ba[4];
	struct sub_args sa[4];
	struct lat lf = { 0 }, lk = { 0 };
	char lp[4][PATH_CAP], kp[4][PATH_CAP], line[LINE_CAP];
	uint64_t s, e;
	double n = 0;
	int i, nk = 0, rc = -1;

	memset(kids, 0, sizeof(kids));
	for (i = 0; i < procs; i++) {
		latpath(B, lp[i], sizeof(lp[i]), "setup-first", i);
		latpath(B, kp[i], sizeof(kp[i]), "setup-key", i);
		if (raw) {
			if (sub_start(B, &kids[i], &sa[i], SUB_SETUP, 1, lp[i]) != 0)
				goto out;
		} else {
			if (buy_start(B, &kids[i], &ba[i], g, BUY_SETUP, slots, 0, lp[i], kp[i],
			        NULL) != 0)
				goto out;
		}
		nk++;
	}
	if (!raw)
		for (i = 0; i < nk; i++)
			if (child_expect(&kids[i], "ready", line, sizeof(line), READY_MS) != 0)
				goto out;
	s = mono_ns() + 300000000u;
	e = s + (uint64_t)(secs * 1e9);
	for (i = 0; i < nk; i++)
		child_send(&kids[i], "window %" PRIu64 " %" PRIu64 "\n", s, e);
	for (i = 0; i < nk; i++) {
		if (child_expect(
		        &kids[i], "result", line, sizeof(line), (int)(secs * 1000) + 15000) != 0)
			goto out;
		n += kv(line, "n", 0);
		if (strstr(line, "error=") != NULL)
			fprintf(stderr, "bench: set-up: %s\n", line);
		lat_read(&lf, lp[i]);
		lat_read(&lk, kp[i]);
	}
	*per_s = n / secs;
	*first = lat_pcts(&lf);
	*key = lat_pcts(&lk);
	rc = 0;
out:
	lat_free(&lf);
	lat_free(&lk);
	for (i = 0; i < 4; i++)
		(void)child_stop(&kids[i], SIGKILL, 2000);
	return rc;
}

void
scenario_setup(struct bench *B)
{
	struct gw_opts o = GW_DEFAULTS;
	struct gateway g;
	struct child pub;
	struct result *raw_p50, *raw_p99, *seq_p50, *seq_p99, *seq_key, *con_rate, *con_p99,
	    *raw_rate;
	double secs = B->quick ? 1.5 : 3, rate;
	struct pcts f, k;
	int run;
	char name[128];

	printf("\n# 4a. order set-up: connect -> menu -> order -> session key -> first item, "
	       "sensor at %d samples/s, %.0f s windows\n",
	    SETUP_RATE, secs);
	raw_rate =
	    result_new(B, "setup", "raw: Paho connect..first message..destroy cycles/s", "1/s");
	raw_p50 = result_new(B, "setup", "raw: connect -> first message p50 (baseline)", "ms");
	raw_p99 = result_new(B, "setup", "raw: connect -> first message p99 (baseline)", "ms");
	seq_key = result_new(B, "setup", "1 at a time: connect -> session key p50", "ms");
	seq_p50 = result_new(B, "setup", "1 at a time: connect -> first item p50", "ms");
	seq_p99 = result_new(B, "setup", "1 at a time: connect -> first item p99", "ms");
	snprintf(name, sizeof(name), "%d concurrent: set-ups per second", 2 * SETUP_CONCURRENCY);
	con_rate = result_new(B, "setup", name, "1/s");
	snprintf(
	    name, sizeof(name), "%d concurrent: connect -> first item p99", 2 * SETUP_CONCURRENCY);
	con_p99 = result_new(B, "setup", name, "ms");
	memset(&pub, 0, sizeof(pub));
	if (gw_start(B, &o, &g) != 0)
		return;
	if (pub_start(B, &pub, SETUP_RATE) != 0)
		goto out;
	for (run = 0; run < B->runs; run++) {
		if (setup_once(B, &g, 1, 1, 1, secs, &rate, &f, &k) == 0) {
			result_add(raw_rate, rate);
			result_add(raw_p50, f.p50);
			result_add(raw_p99, f.p99);
		}
		if (setup_once(B, &g, 0, 1, 1, secs, &rate, &f, &k) == 0) {
			result_add(seq_key, k.p50);
			result_add(seq_p50, f.p50);
			result_add(seq_p99, f.p99);
		}
		if (setup_once(B, &g, 0, 2, SETUP_CONCURRENCY, secs, &rate, &f, &k) == 0) {
			result_add(con_rate, rate);
			result_add(con_p99, f.p99);
		}
	}
out:
	(void)pub_stop(&pub);
	(void)child_stop(&pub, SIGKILL, 1000);
	gw_stop(&g);
	result_done(B, raw_rate, NULL, 0);
	result_done(B, raw_p50, NULL, 0);
	result_done(B, raw_p99, NULL, 0);
	result_done(B, seq_key, NULL, 0);
	result_done(B, seq_p50, "raw connect -> first message", raw_p50->med);
	result_done(B, seq_p99, "raw connect -> first message", raw_p99->med);
	result_done(B, con_rate, NULL, 0);
	result_done(B, con_p99, NULL, 0);
}

void
scenario_fig3(struct bench *B)
{
	static const uint64_t sizes[] = { 10, 100, 1000, 10000 };
	enum { NS = sizeof(sizes) / sizeof(sizes[0]) };
	struct gw_opts o = GW_DEFAULTS;
	struct gateway g;
	struct child pub;
	struct result *rb[NS], *rr[NS];
	char name[128];
	int i, j;

	printf("\n# 4b. Fig. 3: total time versus order size, sensor at %d samples/s, K = %d "
	       "(ideal: size / rate)\n",
	    SETUP_RATE, FIG3_K);
	memset(&pub, 0, sizeof(pub));
	for (i = 0; i < NS; i++) {
		snprintf(name, sizeof(name), "raw: connect -> %" PRIu64 " messages (baseline)",
		    sizes[i]);
		rr[i] = result_new(B, "fig3", name, "s");
		snprintf(name, sizeof(name), "order of %" PRIu64 " items: connect -> statement",
		    sizes[i]);
		rb[i] = result_new(B, "fig3", name, "s");
	}
	o.k = FIG3_K;
	if (gw_start(B, &o, &g) != 0)
		return;
	if (pub_start(B, &pub, SETUP_RATE) != 0)
		goto out;
	for (i = 0; i < NS; i++) {
		struct child kb, ks;
		struct buy_args ba;
		struct sub_args sa;
		struct lat lb = { 0 }, ls = { 0 };
		char pb[PATH_CAP], ps[PATH_CAP], line[LINE_CAP];
		int reps = B->runs;
		uint64_t s;

		memset(&kb, 0, sizeof(kb));
		memset(&ks, 0, sizeof(ks));
		latpath(B, pb, sizeof(pb), "fig3-buy", i);
		latpath(B, ps, sizeof(ps), "fig3-sub", i);
		memset(&ba, 0, sizeof(ba));
		ba.port = g.port;
		memcpy(ba.seller, B->seller, sizeof(ba.seller));
		ba.mode = BUY_ORDER;
		ba.sessions = 1;
		ba.count = sizes[i];
		ba.reps = reps;
		snprintf(ba.latfile, sizeof(ba.latfile), "%s", pb);
		memset(&sa, 0, sizeof(sa));
		sa.port = B->broker.port;
		sa.mode = SUB_COUNT;
		sa.count = sizes[i];
		sa.reps = reps;
		snprintf(sa.latfile, sizeof(sa.latfile), "%s", ps);
		/* The buyer and the plain subscriber run side by side on the
		 * same sensor stream. */
		if (child_fork(&kb, role_buy, &ba) != 0 || child_fork(&ks, role_sub, &sa) != 0 ||
		    child_expect(&kb, "ready", line, sizeof(line), READY_MS) != 0 ||
		    child_expect(&ks, "ready", line, sizeof(line), READY_MS) != 0)
			goto next;
		s = mono_ns() + 100000000u;
		child_send(&kb, "window %" PRIu64 " %" PRIu64 "\n", s, s + 1);
		child_send(&ks, "window %" PRIu64 " %" PRIu64 "\n", s, s + 1);
		{
			int limit = (int)((double)sizes[i] / SETUP_RATE * 1000 * 3 * reps) + 30000;

			if (child_expect(&kb, "result", line, sizeof(line), limit) == 0 &&
			    strstr(line, "error=") != NULL)
				fprintf(stderr, "bench: fig3 buyer: %s\n", line);
			(void)child_expect(&ks, "result", line, sizeof(line), limit);
		}
		lat_read(&lb, pb);
		lat_read(&ls, ps);
		for (j = 0; j < (int)lb.n; j++)
			result_add(rb[i], lb.v[j] >= 0 ? (double)lb.v[j] / 1e9 : -1);
		for (j = 0; j < (int)ls.n; j++)
			result_add(rr[i], ls.v[j] >= 0 ? (double)ls.v[j] / 1e9 : -1);
		lat_free(&lb);
		lat_free(&ls);
	next:
		(void)child_stop(&kb, SIGKILL, 2000);
		(void)child_stop(&ks, SIGKILL, 2000);
	}
out:
	(void)pub_stop(&pub);
	(void)child_stop(&pub, SIGKILL, 1000);
	gw_stop(&g);
	for (i = 0; i < NS; i++) {
		result_done(B, rr[i], NULL, 0);
		result_done(B, rb[i], "raw subscriber, same size", rr[i]->med);
		sb_printf(&rb[i]->extra, ",\"items\":%" PRIu64 ",\"ideal_s\":%.4f", sizes[i],
		    (double)sizes[i] / SETUP_RATE);
	}
}
