/* Gateway benchmarks: the broker, gateways, results, and the roles started for a scenario. */
#include "bench/gateway/bench.h"

/* ---------------------------------------------------------------- broker and gateway */

const struct gw_opts GW_DEFAULTS = { 10, 1, 0, 0, 64, 0, 0, 1000, NULL, NULL, 0, NULL, -1 };

/* The tests' broker (tests/common/broker.c), tuned for the bench; its files
 * go to the run's directory, so BENCH_KEEP keeps its log. */
int
bench_broker_start(struct bench *B)
{
	/* The default max_queued_messages (1000) drops messages to a
	 * subscriber that lags: far above any backlog here. TCP_NODELAY on the
	 * broker's sockets, so its writes to subscribers never wait for Nagle
	 * (the same for the plain subscriber and the gateway). The subscribe
	 * log tells when the gateway's subscription is in place. */
	B->broker.max_queued = 1000000;
	B->broker.extra_conf = "set_tcp_nodelay true\n"
	                       "log_type subscribe\n"
	                       "log_timestamp false\n";
	B->broker.workdir = B->work;
	return broker_start(&B->broker);
}

/* 1 if the broker log shows the subscription of gateway `name'. */
static int
gw_subscribed(const struct bench *B, const char *name, const char *filter)
{
	char path[PATH_CAP], needle[128], line[512];
	FILE *f;
	int found = 0;

	snprintf(path, sizeof(path), "%s/mosquitto.log", B->broker.dir);
	f = fopen(path, "r");
	if (f == NULL)
		return 0;
	snprintf(needle, sizeof(needle), "sdpp-gateway-%s 0 %s", name, filter);
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = strstr(line, needle) != NULL;
	fclose(f);
	return found;
}

int
gw_start(struct bench *B, const struct gw_opts *o, struct gateway *g)
{
	char ini[PATH_CAP], log[PATH_CAP], unpaid[64] = "", queue[64] = "", ckpt[64] = "";
	char workers[64] = "";
	char *argv[] = { B->gateway_bin, "-c", ini, NULL };
	struct sbuf t = { 0 };
	uint64_t deadline;
	int rc = -1, ports[2];

	memset(g, 0, sizeof(*g));
	if (broker_free_ports(ports, 2) != 0) {
		fprintf(stderr, "bench: no free ports: %s\n", strerror(errno));
		return -1;
	}
	g->port = ports[0];
	g->mport = ports[1];
	snprintf(g->name, sizeof(g->name), "bench%d", ++B->ngw);
	snprintf(ini, sizeof(ini), "%s/%s.ini", B->work, g->name);
	snprintf(log, sizeof(log), "%s/%s.log", B->work, g->name);
	snprintf(g->db, sizeof(g->db), "%s/%s.db", B->work, g->name);
	if (o->max_unpaid != 0)
		snprintf(unpaid, sizeof(unpaid), "max_unpaid = %" PRIu64 "\n", o->max_unpaid);
	if (o->mqtt_queue != 0)
		snprintf(queue, sizeof(queue), "queue = %" PRIu64 "\n", o->mqtt_queue);
	if (o->checkpoint != NULL)
		snprintf(ckpt, sizeof(ckpt), "checkpoint = %s\n", o->checkpoint);
	if (o->worker_threads >= 0)
		snprintf(workers, sizeof(workers), "worker_threads = %d\n", o->worker_threads);
	sb_printf(&t,
	    "; written by bench/gateway/harness.c\n"
	    "[gateway]\n"
	    "name = %s\n"
	    "listen = 127.0.0.1:%d\n"
	    "key = seller.key\n"
	    "payment_granularity = %" PRIu64 "\n"
	    "ack_every = %" PRIu64 "\n"
	    "%s"
	    "sign_items = %s\n"
	    "%s"
	    "window = %" PRIu64 "\n"
	    "buyer_queue = %" PRIu64 "\n"
	    "max_buyers = %u\n"
	    /* Every buyer connects from this host. */
	    "max_conns_per_address = 0\n"
	    "max_new_conns_per_second = 0\n"
	    "handshake_timeout = 1h\n"
	    "metrics_listen = 127.0.0.1:%d\n"
	    "\n[mqtt]\n"
	    "uri = tcp://127.0.0.1:%d\n"
	    "qos = 0\n"
	    "%s"
	    "\n[ledger]\n"
	    "path = %s.db\n"
	    "commit_delay = %" PRIu64 "ms\n"
	    "%s",
	    g->name, g->port, o->k, o->ack_every, unpaid, o->sign ? "yes" : "no", workers,
	    o->window, o->buyer_queue, o->max_buyers, g->mport, B->broker.port, queue, g->name,
	    o->commit_delay_ms, ckpt);
	if (o->products != NULL)
		sb_printf(&t, "\n%s", o->products);
	else
		sb_printf(&t,
		    "\n[product " PRODUCT "]\n"
		    "topic = " TOPIC "\n"
		    "price = 1\n"
		    "unit = x\n"
		    "description = benchmark samples of %d bytes\n",
		    PAYLOAD_BYTES);
	if (write_file(ini, t.p, t.len, 0644) != 0 || child_exec(&g->c, argv, log) != 0)
		goto out;
	deadline = mono_ns() + 10000000000u;
	while (mono_ns() < deadline) {
		if (waitpid(g->c.pid, NULL, WNOHANG) == g->c.pid) {
			live_del(g->c.pid);
			g->c.pid = 0;
			break;
		}
		if (broker_port_accepts(g->port) &&
		    gw_subscribed(B, g->name, o->await_filter != NULL ? o->await_filter : TOPIC)) {
			if (getenv("BENCH_VERBOSE") != NULL)
				fprintf(stderr, "bench: gateway %s pid %ld port %d\n", g->name,
				    (long)g->c.pid, g->port);
			rc = 0;
			goto out;
		}
		sleep_ms(5);
	}
	fprintf(stderr, "bench: gateway %s did not start (see %s)\n", g->name, log);
out:
	free(t.p);
	return rc;
}

void
gw_stop(struct gateway *g)
{
	char path[PATH_CAP + 8];

	/* Buyers are gone by now; a clean stop takes milliseconds. */
	(void)child_stop(&g->c, SIGTERM, 3000);
	unlink(g->db);
	snprintf(path, sizeof(path), "%s-wal", g->db);
	unlink(path);
	snprintf(path, sizeof(path), "%s-shm", g->db);
	unlink(path);
}

/* Binds the broker, and the children started from now on, to B->pin_cpu
 * (on), or gives the broker back the mask we started with (off). mosquitto
 * runs one thread, so binding its pid binds all of it. */
void
bench_pin_set(struct bench *B, int on)
{
	cpu_set_t one;

	if (!B->pin)
		return;
	CPU_ZERO(&one);
	CPU_SET(B->pin_cpu[0], &one);
	if (sched_setaffinity(B->broker.pid, sizeof(cpu_set_t), on ? &one : &B->cpus_all) != 0)
		fprintf(stderr, "bench: cannot bind mosquitto (pid %ld): %s\n", (long)B->broker.pid,
		    strerror(errno));
	child_pin(on ? B->pin_cpu[0] : -1, on ? B->pin_cpu[1] : -1);
}

/* bench_pin_set(), and a line of the output saying where each part runs. */
void
bench_pin(struct bench *B, int on)
{
	bench_pin_set(B, on);
	if (B->pin && on)
		printf("\n# pinned: gateway and mosquitto on CPU %d; publisher, buyers and "
		       "subscribers on CPU %d (--no-pin to share both)",
		    B->pin_cpu[0], B->pin_cpu[1]);
}

/* One counter from the gateway's Prometheus page, -1 if unavailable. */
double
gw_metric(const struct gateway *g, const char *name)
{
	static const char req[] = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
	char buf[16384], key[128], *p;
	size_t len = 0;
	ssize_t n;
	int fd = tcp_connect(g->mport, 0);

	if (fd < 0)
		return -1;
	if (write(fd, req, sizeof(req) - 1) != (ssize_t)sizeof(req) - 1) {
		close(fd);
		return -1;
	}
	while (len < sizeof(buf) - 1 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = '\0';
	snprintf(key, sizeof(key), "\nsdpp_%s ", name);
	p = strstr(buf, key);
	return p != NULL ? strtod(p + strlen(key), NULL) : -1;
}

/* ---------------------------------------------------------------- reporting */

struct result *
result_new(struct bench *B, const char *group, const char *name, const char *unit)
{
	struct result *r;

	B->res = realloc(B->res, (size_t)(B->nres + 1) * sizeof(*B->res));
	r = calloc(1, sizeof(*r));
	if (B->res == NULL || r == NULL)
		abort();
	B->res[B->nres++] = r;
	snprintf(r->group, sizeof(r->group), "%s", group);
	snprintf(r->name, sizeof(r->name), "%s", name);
	snprintf(r->unit, sizeof(r->unit), "%s", unit);
	r->base = -1;
	r->ratio = -1;
	return r;
}

void
result_add(struct result *r, double v)
{
	if (r->nruns < (int)(sizeof(r->runs) / sizeof(r->runs[0])))
		r->runs[r->nruns++] = v;
}

/* Closes a result: median, ratio to the baseline, one table line. */
void
result_done(struct bench *B, struct result *r, const char *base_name, double base)
{
	char runs[256] = "";
	size_t off = 0;
	int i;

	(void)B;
	if (r->nruns == 0) {
		printf("%-12s %-44s %12s\n", r->group, r->name, "not run");
		return;
	}
	r->med = median(r->runs, r->nruns);
	if (base_name != NULL) {
		snprintf(r->base_name, sizeof(r->base_name), "%s", base_name);
		r->base = base;
		r->ratio = base > 0 && r->med >= 0 ? r->med / base : -1;
	}
	for (i = 0; i < r->nruns && off < sizeof(runs); i++)
		off += (size_t)snprintf(
		    runs + off, sizeof(runs) - off, "%s%.4g", i ? " " : "", r->runs[i]);
	if (r->ratio >= 0)
		printf("%-12s %-44s %12.4g %-8s %12.4g %7.3f  [%s]\n", r->group, r->name, r->med,
		    r->unit, r->base, r->ratio, runs);
	else
		printf("%-12s %-44s %12.4g %-8s %12s %7s  [%s]\n", r->group, r->name, r->med,
		    r->unit, "-", "-", runs);
	fflush(stdout);
}

/* ---------------------------------------------------------------- scenario helpers */

void
latpath(const struct bench *B, char *out, size_t cap, const char *tag, int i)
{
	snprintf(out, cap, "%s/lat-%s-%d.bin", B->work, tag, i);
}

/* Starts a publisher at rate (0: full speed) and waits until it is connected. */
int
pub_start(struct bench *B, struct child *c, double rate)
{
	static struct pub_args a;
	char line[LINE_CAP];

	a.port = B->broker.port;
	a.rate = rate;
	if (child_fork(c, role_pub, &a) != 0 ||
	    child_expect(c, "ready", line, sizeof(line), READY_MS) != 0)
		return -1;
	if (kv(line, "nodelay", 0) < 1)
		fprintf(stderr, "bench: publisher: TCP_NODELAY not set (%s)\n", line);
	return 0;
}

double
pub_stop(struct child *c)
{
	char line[LINE_CAP];
	double rate = -1;

	if (c->pid <= 0)
		return -1;
	kill(c->pid, SIGTERM);
	if (child_expect(c, "result", line, sizeof(line), 5000) == 0)
		rate = kv(line, "rate", -1);
	(void)child_stop(c, 0, 3000);
	return rate;
}

int
sub_start(struct bench *B, struct child *c, struct sub_args *a, enum sub_mode mode, int clients,
    const char *latfile)
{
	char line[LINE_CAP];

	memset(a, 0, sizeof(*a));
	a->port = B->broker.port;
	a->mode = mode;
	a->clients = clients;
	snprintf(a->latfile, sizeof(a->latfile), "%s", latfile != NULL ? latfile : "");
	if (child_fork(c, role_sub, a) != 0 ||
	    child_expect(c, "ready", line, sizeof(line), READY_MS) != 0)
		return -1;
	return 0;
}

int
buy_start(struct bench *B, struct child *c, struct buy_args *a, const struct gateway *g,
    enum buy_mode mode, int sessions, int idle_first, const char *latfile, const char *keyfile,
    const char *word)
{
	char line[LINE_CAP];

	memset(a, 0, sizeof(*a));
	a->port = g->port;
	memcpy(a->seller, B->seller, sizeof(a->seller));
	a->mode = mode;
	a->sessions = sessions;
	a->idle_first = idle_first;
	snprintf(a->latfile, sizeof(a->latfile), "%s", latfile != NULL ? latfile : "");
	snprintf(a->keyfile, sizeof(a->keyfile), "%s", keyfile != NULL ? keyfile : "");
	if (child_fork(c, role_buy, a) != 0)
		return -1;
	if (word == NULL)
		return 0;
	if (child_expect(c, word, line, sizeof(line), READY_MS) != 0)
		return -1;
	if (kv(line, "failed", 0) > 0) {
		fprintf(stderr, "bench: buyers: %s\n", line);
		return -1;
	}
	return 0;
}
