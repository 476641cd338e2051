/* Gateway benchmarks against raw MQTT (bench_gateway): options, goals, results.json, main. */
#include "bench/gateway/bench.h"

static int
want(const struct bench *B, const char *group)
{
	const char *p;
	size_t l = strlen(group);

	if (B->only == NULL)
		return 1;
	for (p = B->only; (p = strstr(p, group)) != NULL; p += l)
		if ((p == B->only || p[-1] == ',') && (p[l] == '\0' || p[l] == ','))
			return 1;
	return 0;
}

static void
goal(struct bench *B, const char *what, const char *target, double measured, const char *how,
    int reached)
{
	sb_printf(&B->goal_text, "%-62s %-14s %10.4g %-22s %s\n", what, target, measured, how,
	    reached < 0 ? "n/a"
	    : reached   ? "REACHED"
	                : "missed");
	sb_printf(&B->goals,
	    "%s\n    {\"goal\":\"%s\",\"target\":\"%s\",\"measured\":%.6g,\"measure\":\"%s\","
	    "\"reached\":%s}",
	    B->goals.len ? "," : "", what, target, measured, how,
	    reached < 0 ? "null"
	    : reached   ? "true"
	                : "false");
}

static const struct result *
find(const struct bench *B, const char *group, const char *name)
{
	for (int i = 0; i < B->nres; i++)
		if (strcmp(B->res[i]->group, group) == 0 && strcmp(B->res[i]->name, name) == 0)
			return B->res[i];
	return NULL;
}

/* ---------------------------------------------------------------- machine and goals */

/* `openssl speed -seconds 3 ed25519': sign/s and verify/s. */
static void
ed25519_speed(struct bench *B)
{
	char cmd[128], line[512];
	FILE *f;

	snprintf(cmd, sizeof(cmd), "%s speed -seconds %d ed25519 2>/dev/null", OPENSSL,
	    B->quick ? 1 : 3);
	f = popen(cmd, "r");
	B->ed_sign = B->ed_verify = -1;
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		/* " 253 bits EdDSA (Ed25519)   0.0000s   0.0001s  27387.0   9781.5" */
		char *p = strstr(line, "(Ed25519)");
		double a, b, c, d;

		if (p != NULL && sscanf(p + 9, " %lfs %lfs %lf %lf", &a, &b, &c, &d) == 4) {
			B->ed_sign = c;
			B->ed_verify = d;
		}
	}
	if (f != NULL)
		pclose(f);
	printf("# openssl speed ed25519 on this machine: %.0f sign/s, %.0f verify/s\n", B->ed_sign,
	    B->ed_verify);
}

static void
goals(struct bench *B)
{
	const struct result *raw = find(B, "throughput", "raw Paho subscriber (baseline)");
	const struct result *r;
	static const char *const cum[] = { "K=10 ack_every=10 sign_items=no",
		"K=1000 ack_every=1000 sign_items=no" };
	static const char *const sig[] = { "K=10 ack_every=10 sign_items=yes",
		"K=1000 ack_every=1000 sign_items=yes" };
	const struct result *best;
	char what[160];
	int i;

	for (i = 0; raw != NULL && i < 2; i++) {
		r = find(B, "throughput", cum[i]);
		if (r == NULL || r->nruns == 0 || raw->nruns == 0)
			continue;
		snprintf(
		    what, sizeof(what), "1 buyer, no item signature, cumulative ACKs (%s)", cum[i]);
		goal(
		    B, what, ">= 0.80 x raw", r->ratio, "ratio to raw subscriber", r->ratio >= 0.8);
	}
	/* Issue 17: per-item signatures >= 0.6 x one core's sign rate with
	 * the machine's 2 cores: signscale's best unpinned row (the gateway
	 * signs on as many threads as it is told), and the throughput rows,
	 * pinned with the gateway on one core, against the same target. */
	best = NULL;
	for (i = 0; i < B->nres; i++) {
		r = B->res[i];
		if (strcmp(r->group, "signscale") == 0 &&
		    strncmp(r->name, "gateway on 2 CPUs", 17) == 0 && r->nruns > 0 &&
		    (best == NULL || r->med > best->med))
			best = r;
	}
	if (best != NULL && B->ed_sign > 0) {
		snprintf(what, sizeof(what),
		    "1 buyer, per-item signatures (signscale, best 2-CPU row: %s)",
		    strstr(best->name, "worker_threads") != NULL
		        ? strstr(best->name, "worker_threads")
		        : best->name);
		goal(B, what, ">= 0.60 x sign/s", best->med / B->ed_sign, "ratio to openssl sign/s",
		    best->med / B->ed_sign >= 0.6);
	}
	for (i = 0; B->ed_sign > 0 && i < 2; i++) {
		r = find(B, "throughput", sig[i]);
		if (r == NULL || r->nruns == 0)
			continue;
		snprintf(what, sizeof(what), "1 buyer, per-item signatures (%s)", sig[i]);
		goal(B, what, ">= 0.60 x sign/s", r->med / B->ed_sign, "ratio to openssl sign/s",
		    r->med / B->ed_sign >= 0.6);
	}
	/* Ceilings: the slower of the two engines, each alone on a core (the
	 * seller signs every item; the buyer checks one signature per ACK). */
	for (i = 0; i < 2; i++) {
		const struct result *rs = find(B, "library",
		    i == 0 ? "seller per item, K=1000 ack_every=1000 sign=yes"
		           : "seller per item, K=1000 ack_every=1000 sign=no");
		const struct result *rb = find(B, "library",
		    i == 0 ? "buyer per item, K=1000 ack_every=1000 sign=yes"
		           : "buyer per item, K=1000 ack_every=1000 sign=no");
		double us, base = i == 0 ? B->ed_sign : (raw != NULL ? raw->med : 0);

		if (rs == NULL || rb == NULL || rs->nruns == 0 || rb->nruns == 0 || base <= 0 ||
		    (i == 1 && raw->nruns == 0))
			continue;
		us = rs->med > rb->med ? rs->med : rb->med;
		goal(B,
		    i == 0
		        ? "  (ceiling: library in memory, slower side on its own core, signed)"
		        : "  (ceiling: library in memory, slower side on its own core, unsigned)",
		    i == 0 ? ">= 0.60 x sign/s" : ">= 0.80 x raw", 1e6 / us / base,
		    i == 0 ? "ratio to openssl sign/s" : "ratio to raw subscriber",
		    1e6 / us / base >= (i == 0 ? 0.6 : 0.8));
	}
	r = find(B, "latency", "defaults (K=10 ack_every=1 sign_items=no) p50");
	if (r != NULL && r->nruns > 0 && r->base >= 0) {
		double added = r->med - r->base;

		goal(B, "latency added over raw MQTT at 1000/s, p50", "< 0.5 ms", added,
		    "ms added (median runs)", added < 0.5);
	}
	r = find(B, "latency", "defaults (K=10 ack_every=1 sign_items=no) p99");
	if (r != NULL && r->nruns > 0 && r->base >= 0) {
		double added = r->med - r->base;

		goal(B, "latency added over raw MQTT at 1000/s, p99", "< 2 ms", added,
		    "ms added (median runs)", added < 2);
	}
	/* Issue 17: the fan-out's p99 within 3 x that of as many plain
	 * subscribers, measured in the same invocation (the row's ratio). */
	snprintf(what, sizeof(what), "%d buyers: p99 publish -> decrypted", B->fanout_buyers);
	r = find(B, "fanout", what);
	if (r != NULL && r->nruns > 0 && r->ratio >= 0) {
		snprintf(what, sizeof(what), "fan-out: %d buyers: p99 publish -> decrypted",
		    B->fanout_buyers);
		goal(
		    B, what, "<= 3 x plain", r->ratio, "ratio to plain subscribers", r->ratio <= 3);
	}
	r = find(B, "fanout", "gateway memory per streaming buyer");
	if (r != NULL && r->nruns > 0) {
		const struct result *ri;
		char rname[96];
		int served;

		snprintf(rname, sizeof(rname), "%d buyers: items/s", B->fanout_buyers);
		ri = find(B, "fanout", rname);
		served = ri != NULL && ri->med > 0;
		snprintf(what, sizeof(what),
		    "%d concurrent buyers, <= 32 KiB gateway memory each "
		    "(streaming)",
		    B->fanout_buyers);
		goal(B, what, "<= 32768 B", r->med, "bytes per buyer", served && r->med <= 32768);
	}
	r = find(B, "fanout", "gateway memory per idle buyer");
	if (r != NULL && r->nruns > 0) {
		snprintf(what, sizeof(what),
		    "%d concurrent buyers, <= 32 KiB gateway memory each "
		    "(idle)",
		    B->fanout_buyers);
		goal(B, what, "<= 32768 B", r->med, "bytes per buyer", r->med <= 32768);
	}
	/* Issue 17: 10,000 buyers held, <= 16 KiB per streaming buyer (all
	 * streaming buyers served), the idle ones reported. */
	r = find(B, "fanout10k", "gateway memory per streaming buyer");
	if (r != NULL && r->nruns > 0) {
		const struct result *ri;
		char rname[96];
		int served;

		snprintf(rname, sizeof(rname), "%d of %d buyers streaming: items/s",
		    B->fan10k_streaming, B->fan10k_buyers);
		ri = find(B, "fanout10k", rname);
		served = ri != NULL && ri->med > 0;
		snprintf(what, sizeof(what),
		    "%d buyers held, %d streaming: <= 16 KiB each streaming", B->fan10k_buyers,
		    B->fan10k_streaming);
		goal(B, what, "<= 16384 B", r->med, "bytes per buyer", served && r->med <= 16384);
	}
	r = find(B, "fanout10k", "memory per idle buyer (menu, no order)");
	if (r != NULL && r->nruns > 0)
		goal(B, "  idle buyer (menu, no order)", "report", r->med, "bytes per buyer", -1);
	r = find(B, "fanout10k", "memory per idle buyer (ordered, no samples)");
	if (r != NULL && r->nruns > 0)
		goal(B, "  idle buyer (ordered, no samples)", "report", r->med, "bytes per buyer",
		    -1);
	r = find(B, "ingest", "field: samples/s taken and dispatched");
	if (r != NULL && r->nruns > 0 && r->ratio >= 0)
		goal(B, "ingest, 2000 field products over 10000 topics, vs whole payloads",
		    ">= 0.80 x", r->ratio, "ratio to raw products", r->ratio >= 0.8);
	r = find(B, "ingest", "gateway memory per tracked topic");
	if (r != NULL && r->nruns > 0)
		goal(B, "ingest, gateway memory per tracked topic (rate state)", "report", r->med,
		    "bytes per topic", -1);
	r = find(B, "ledger", "items/s, commit_delay 200ms");
	if (r != NULL && r->nruns > 0 && r->ratio >= 0)
		goal(B, "data flow with a slow ledger (commit_delay 200ms) within 5% of normal",
		    ">= 0.95 x", r->ratio, "ratio to commit_delay 0", r->ratio >= 0.95);
	/* Issue 14: a ratio of sizes, so the smaller the figure the better;
	 * the goal states it as how many times smaller. */
	r = find(B, "storage", "K=4 ack_every=1 checkpoint=60s (default)");
	if (r != NULL && r->nruns > 0 && r->ratio > 0)
		goal(B, "ledger bytes per acknowledged item at K=4, ack_every=1", ">= 10x smaller",
		    1 / r->ratio, "times smaller than 1/block", 1 / r->ratio >= 10);
}

static int
write_json(struct bench *B)
{
	struct sbuf j = { 0 };
	int i, k, rc;

	sb_printf(&j, "{\n  \"benchmark\": \"sdpp-gateway make bench (bench/gateway/)\",\n");
	{
		char load[64] = "null", commit[64] = "";
		FILE *f = fopen("/proc/loadavg", "r");

		if (f != NULL) {
			if (fgets(load, sizeof(load), f) != NULL)
				load[strcspn(load, " ")] = '\0';
			fclose(f);
		}
		f = popen("git describe --always --dirty 2>/dev/null", "r");
		if (f != NULL) {
			if (fgets(commit, sizeof(commit), f) != NULL)
				commit[strcspn(commit, "\n")] = '\0';
			pclose(f);
		}
		sb_printf(&j, "  \"source\": \"%s\",\n", commit);
		sb_printf(&j, "  \"machine\": {%s,\"load_avg_at_end\":%s},\n",
		    B->machine.p != NULL ? B->machine.p : "", load);
	}
	sb_printf(&j, "  \"runs_per_scenario\": %d,\n  \"seconds\": %.1f,\n", B->runs,
	    (double)(mono_ns() - B->t_begin) / 1e9);
	sb_printf(&j, "  \"scenarios\": [");
	for (i = 0, k = 0; i < B->nres; i++) {
		struct result *r = B->res[i];

		if (r->nruns == 0)
			continue;
		sb_printf(&j,
		    "%s\n    {\"group\":\"%s\",\"name\":\"%s\",\"unit\":\"%s\",\"runs\":[",
		    k++ ? "," : "", r->group, r->name, r->unit);
		for (int x = 0; x < r->nruns; x++)
			sb_printf(&j, "%s%.6g", x ? "," : "", r->runs[x]);
		sb_printf(&j, "],\"median\":%.6g", r->med);
		if (r->base_name[0] != '\0')
			sb_printf(&j,
			    ",\"baseline\":\"%s\",\"baseline_median\":%.6g,\"ratio\":%.4f",
			    r->base_name, r->base, r->ratio);
		sb_printf(&j, "%s}", r->extra.p != NULL ? r->extra.p : "");
	}
	sb_printf(&j, "\n  ],\n  \"goals\": [%s\n  ]\n}\n", B->goals.p != NULL ? B->goals.p : "");
	rc = write_file(B->json_path, j.p, j.len, 0644);
	free(j.p);
	return rc;
}

/* Parses a number option within [lo, hi]; quotes the bad value. */
static int
opt_num(const char *name, const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
		fprintf(
		    stderr, "bench_gateway: %s is not a number in %g-%g: `%s'\n", name, lo, hi, s);
		return -1;
	}
	*out = v;
	return 0;
}

/* --pin: the first two CPUs we may run on; with fewer, no pinning (an
 * explicit --pin then fails). */
static int
pin_choose(struct bench *B)
{
	int cpu, n = 0;

	if (sched_getaffinity(0, sizeof(B->cpus_all), &B->cpus_all) != 0) {
		CPU_ZERO(&B->cpus_all);
		if (B->pin == 1) {
			fprintf(stderr, "bench_gateway: --pin: sched_getaffinity: %s\n",
			    strerror(errno));
			return -1;
		}
		B->pin = 0;
		return 0;
	}
	for (cpu = 0; cpu < CPU_SETSIZE && n < 2; cpu++)
		if (CPU_ISSET(cpu, &B->cpus_all))
			B->pin_cpu[n++] = cpu;
	if (n < 2 && B->pin == 1) {
		fprintf(
		    stderr, "bench_gateway: --pin needs two CPUs, this process may use %d\n", n);
		return -1;
	}
	if (B->pin == -1)
		B->pin = n >= 2;
	if (n < 2)
		B->pin = 0;
	return 0;
}

/* Raises the soft RLIMIT_NOFILE to the hard limit, so the gateway, the
 * broker and the buyer processes (all our children) can hold fanout10k's
 * sockets; scenario_fanout10k() says so if that is still too few. */
static void
nofile_raise(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		fprintf(stderr, "bench_gateway: cannot raise RLIMIT_NOFILE to %llu: %s\n",
		    (unsigned long long)rl.rlim_max, strerror(errno));
}

/* The results and texts main() built, so a sanitizer run ends clean. */
static void
bench_free(struct bench *B)
{
	for (int i = 0; i < B->nres; i++) {
		free(B->res[i]->extra.p);
		free(B->res[i]);
	}
	free(B->res);
	free(B->machine.p);
	free(B->goals.p);
	free(B->goal_text.p);
}

/* Removes the scratch directory; it holds only files. */
static void
remove_work(const char *dir)
{
	char path[PATH_CAP + 300];
	struct dirent *de;
	DIR *d = opendir(dir);

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(d);
	if (rmdir(dir) != 0)
		fprintf(stderr, "bench_gateway: %s left behind: %s\n", dir, strerror(errno));
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: bench_gateway [DIR] [--quick] [--runs N] [--only LIST] [--json FILE] "
	    "[--no-pin]\n"
	    "  DIR      where the bench binaries are and scratch files go (build/bench)\n"
	    "  --quick  short windows, one run each (a smoke test, not figures)\n"
	    "  --only   comma list of: throughput,signscale,latency,fanout,fanout10k,setup,\n"
	    "           fig3,ledger,library,ingest,storage\n"
	    "  --fanout10k-buyers N, --fanout10k-streaming M: fanout10k's buyers connected\n"
	    "           (10000) and of those streaming (1000)\n"
	    "  --json   results file (default bench/results.json, else DIR/results.json)\n"
	    "  --window S, --variant N: throughput (and signscale: window) only, window S\n"
	    "           seconds, variant N (profiling)\n"
	    "  --pin, --no-pin  throughput and fan-out: gateway and broker on one CPU, the\n"
	    "           simulated publisher and buyers on another (default with >= 2 CPUs);\n"
	    "           signscale's 1-CPU rows (its 2-CPU rows are never pinned)\n");
}

int
main(int argc, char **argv)
{
	struct bench B;
	struct sdpp_identity *seller = NULL;
	struct sigaction sa;
	char *pem = NULL, path[PATH_CAP + 32], load[128] = "";
	size_t pemlen = 0;
	struct stat st;
	double v;
	FILE *f;
	int i;

	memset(&B, 0, sizeof(B));
	B.dir = "build/bench";
	B.runs = 3;
	B.fanout_rate = FANOUT_RATE;
	B.fanout_buyers = FANOUT_BUYERS;
	B.fan10k_buyers = FAN10K_BUYERS;
	B.fan10k_streaming = FAN10K_STREAMING;
	B.pin = -1; /* on if there are two CPUs to use */
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0) {
			B.quick = 1;
			B.runs = 1;
		} else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
			if (opt_num("--runs", argv[++i], 1, 15, &v) != 0)
				return 2;
			B.runs = (int)v;
		} else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
			static const char *const groups =
			    ",throughput,signscale,latency,fanout,fanout10k,setup,fig3,"
			    "ledger,library,ingest,storage,";
			const char *p = argv[++i], *q;

			B.only = p;
			for (; *p != '\0'; p = *q != '\0' ? q + 1 : q) {
				char item[40];

				q = p + strcspn(p, ",");
				snprintf(item, sizeof(item), ",%.*s,", (int)(q - p), p);
				if (q - p > 30 || strstr(groups, item) == NULL) {
					fprintf(stderr,
					    "bench_gateway: --only: unknown group `%.*s'\n",
					    (int)(q - p), p);
					return 2;
				}
			}
		} else if (strcmp(argv[i], "--window") == 0 && i + 1 < argc) {
			if (opt_num("--window", argv[++i], 0.1, 600, &B.tp_window) != 0)
				return 2;
		} else if (strcmp(argv[i], "--fanout-rate") == 0 && i + 1 < argc) {
			if (opt_num("--fanout-rate", argv[++i], 0.1, 100000, &B.fanout_rate) != 0)
				return 2;
		} else if (strcmp(argv[i], "--fanout-buyers") == 0 && i + 1 < argc) {
			if (opt_num("--fanout-buyers", argv[++i], FANOUT_PROCS, 10000, &v) != 0)
				return 2;
			B.fanout_buyers = (int)v;
		} else if (strcmp(argv[i], "--fanout10k-buyers") == 0 && i + 1 < argc) {
			if (opt_num("--fanout10k-buyers", argv[++i], 2, 50000, &v) != 0)
				return 2;
			B.fan10k_buyers = (int)v;
		} else if (strcmp(argv[i], "--fanout10k-streaming") == 0 && i + 1 < argc) {
			if (opt_num("--fanout10k-streaming", argv[++i], 1, 50000, &v) != 0)
				return 2;
			B.fan10k_streaming = (int)v;
		} else if (strcmp(argv[i], "--variant") == 0 && i + 1 < argc) {
			if (opt_num("--variant", argv[++i], 1, 10, &v) != 0)
				return 2;
			B.variant = (int)v;
		} else if (strcmp(argv[i], "--pin") == 0 || strcmp(argv[i], "--no-pin") == 0) {
			B.pin = strcmp(argv[i], "--pin") == 0;
		} else if (strcmp(argv[i], "--json") == 0 && i + 1 < argc) {
			B.json_path = argv[++i];
		} else if (argv[i][0] != '-') {
			B.dir = argv[i];
		} else {
			usage();
			return 2;
		}
	}
	if (B.fan10k_streaming > B.fan10k_buyers) {
		fprintf(stderr, "bench_gateway: --fanout10k-streaming %d is above the %d buyers\n",
		    B.fan10k_streaming, B.fan10k_buyers);
		return 2;
	}
	B.t_begin = mono_ns();
	if (pin_choose(&B) != 0)
		return 2;
	nofile_raise();
	if (B.json_path == NULL)
		B.json_path =
		    stat("bench", &st) == 0 && S_ISDIR(st.st_mode) ? "bench/results.json" : NULL;
	if (B.json_path == NULL) {
		static char def[PATH_CAP + 16];

		snprintf(def, sizeof(def), "%s/results.json", B.dir);
		B.json_path = def;
	}
	snprintf(B.gateway_bin, sizeof(B.gateway_bin), "%s/../bin/sdpp-gateway", B.dir);
	if (getenv("SDPP_GATEWAY") != NULL)
		snprintf(B.gateway_bin, sizeof(B.gateway_bin), "%s", getenv("SDPP_GATEWAY"));
	if (access(B.gateway_bin, X_OK) != 0) {
		fprintf(stderr, "bench_gateway: %s: not found (run make first)\n", B.gateway_bin);
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_fatal_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	snprintf(B.work, sizeof(B.work), "%s/run.XXXXXX", B.dir);
	if (mkdtemp(B.work) == NULL) {
		fprintf(stderr, "bench_gateway: mkdtemp %s: %s\n", B.work, strerror(errno));
		return 1;
	}
	/* The seller's key, so the buyers know it without reading files. */
	snprintf(path, sizeof(path), "%s/seller.key", B.work);
	if (sdpp_identity_generate(&seller) != SDPP_OK ||
	    sdpp_identity_to_pem(seller, &pem, &pemlen) != SDPP_OK ||
	    write_file(path, pem, pemlen, 0600) != 0) {
		fprintf(stderr, "bench_gateway: cannot write the seller key\n");
		return 1;
	}
	sdpp_identity_sign_public(seller, B.seller);
	sdpp_secret_free(pem, pemlen);
	sdpp_identity_free(seller);
	f = fopen("/proc/loadavg", "r");
	if (f != NULL) {
		if (fgets(load, sizeof(load), f) != NULL)
			load[strcspn(load, " ")] = '\0';
		fclose(f);
	}
	printf("# sdpp-gateway benchmarks: %ld CPUs, load average %s at start, %d runs per figure "
	       "(median shown)\n",
	    sysconf(_SC_NPROCESSORS_ONLN), load, B.runs);
	ed25519_speed(&B);
	sb_printf(&B.machine,
	    "\"cpus\":%ld,\"load_avg_at_start\":%s,\"ed25519_sign_per_s\":%.0f,"
	    "\"ed25519_verify_per_s\":%.0f",
	    sysconf(_SC_NPROCESSORS_ONLN), load[0] ? load : "null", B.ed_sign, B.ed_verify);
	if (B.pin)
		sb_printf(&B.machine,
		    ",\"pinned\":{\"gateway_and_broker_cpu\":%d,\"roles_cpu\":%d,"
		    "\"scenarios\":\"throughput,fanout,fanout10k,signscale 1-CPU rows\"}",
		    B.pin_cpu[0], B.pin_cpu[1]);
	else
		sb_printf(&B.machine, ",\"pinned\":null");
	if (bench_broker_start(&B) != 0) {
		live_kill_all();
		return 1;
	}
	printf("%-12s %-44s %12s %-8s %12s %7s  %s\n", "group", "scenario", "median", "unit",
	    "baseline", "ratio", "runs");
	if (want(&B, "throughput")) {
		bench_pin(&B, 1);
		scenario_throughput(&B);
		bench_pin(&B, 0);
	}
	if (want(&B, "signscale"))
		scenario_signscale(&B);
	if (want(&B, "latency"))
		scenario_latency(&B);
	if (want(&B, "fanout")) {
		bench_pin(&B, 1);
		scenario_fanout(&B);
		bench_pin(&B, 0);
	}
	if (want(&B, "fanout10k")) {
		bench_pin(&B, 1);
		scenario_fanout10k(&B);
		bench_pin(&B, 0);
	}
	if (want(&B, "setup"))
		scenario_setup(&B);
	if (want(&B, "fig3"))
		scenario_fig3(&B);
	if (want(&B, "ledger"))
		scenario_ledger(&B);
	if (want(&B, "library"))
		scenario_library(&B);
	if (want(&B, "ingest"))
		scenario_ingest(&B);
	if (want(&B, "storage"))
		scenario_storage(&B);
	broker_stop(&B.broker);
	goals(&B);
	printf("\n# goals\n%-62s %-14s %10s %-22s %s\n%s", "goal", "target", "measured", "measure",
	    "state", B.goal_text.p != NULL ? B.goal_text.p : "");
	if (write_json(&B) != 0)
		fprintf(stderr, "bench_gateway: cannot write %s\n", B.json_path);
	else
		printf(
		    "\n# wrote %s in %.0f s\n", B.json_path, (double)(mono_ns() - B.t_begin) / 1e9);
	live_kill_all();
	if (getenv("BENCH_KEEP") == NULL)
		remove_work(B.work);
	bench_free(&B);
	return 0;
}
