/* Gateway benchmarks: the Paho roles, the publisher and the plain subscribers (baselines). */
#include "bench/gateway/bench.h"

/* ---------------------------------------------------------------- role: publisher */

static volatile sig_atomic_t role_stop;

static void
on_role_stop(int sig)
{
	(void)sig;
	role_stop = 1;
}

struct paho_wait {
	volatile int done; /* 1 ok, -1 failed */
};

static void
paho_ok(void *ctx, MQTTAsync_successData *r)
{
	(void)r;
	((struct paho_wait *)ctx)->done = 1;
}

static void
paho_fail(void *ctx, MQTTAsync_failureData *r)
{
	(void)r;
	((struct paho_wait *)ctx)->done = -1;
}

static int
paho_wait(struct paho_wait *w, int ms)
{
	for (int i = 0; i < ms * 10 && w->done == 0; i++) {
		struct timespec ts = { 0, 100000 };

		nanosleep(&ts, NULL);
	}
	return w->done == 1 ? 0 : -1;
}

/* Paho sets no TCP_NODELAY on its socket, and a publisher at a steady rate
 * then sees Nagle and delayed-ACK stalls. The socket is ours
 * too: find the one connected to the broker and set it. */
static int
nodelay_to_port(int port)
{
	int one = 1, n = 0;

	for (int fd = 3; fd < 1024; fd++) {
		struct sockaddr_in sa;
		socklen_t len = sizeof(sa);

		if (getpeername(fd, (struct sockaddr *)&sa, &len) == 0 &&
		    sa.sin_family == AF_INET && ntohs(sa.sin_port) == port &&
		    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == 0)
			n++;
	}
	return n;
}

static int
msg_ignore(void *ctx, char *topic, int topiclen, MQTTAsync_message *m)
{
	(void)ctx;
	(void)topiclen;
	MQTTAsync_freeMessage(&m);
	MQTTAsync_free(topic);
	return 1;
}

/* Sends Paho has written to the socket (its QoS 0 onSuccess). */
static uint64_t pub_written;

static void
pub_sent(void *ctx, MQTTAsync_successData *r)
{
	(void)ctx;
	(void)r;
	__atomic_fetch_add(&pub_written, 1, __ATOMIC_RELAXED);
}

/* At full speed, sends Paho holds before we wait: its command queue has no
 * bound of its own, and a broker slower than us would let it grow by
 * hundreds of MB a second. This keeps the publisher at the broker's pace. */
#define PUB_INFLIGHT_MAX 2000

int
role_pub(void *arg)
{
	const struct pub_args *a = arg;
	MQTTAsync c = NULL;
	MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer;
	MQTTAsync_disconnectOptions dopt = MQTTAsync_disconnectOptions_initializer;
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	struct paho_wait w = { 0 };
	char uri[64], id[64], payload[PAYLOAD_BYTES + 1];
	uint64_t seq = 0, busy = 0, t0, t1, written;

	signal(SIGTERM, on_role_stop);
	snprintf(uri, sizeof(uri), "tcp://127.0.0.1:%d", a->port);
	snprintf(id, sizeof(id), "bench-pub-%ld", (long)getpid());
	if (MQTTAsync_create(&c, uri, id, MQTTCLIENT_PERSISTENCE_NONE, NULL) != MQTTASYNC_SUCCESS ||
	    MQTTAsync_setCallbacks(c, NULL, NULL, msg_ignore, NULL) != MQTTASYNC_SUCCESS)
		return 1;
	co.keepAliveInterval = 60;
	co.cleansession = 1;
	co.onSuccess = paho_ok;
	co.onFailure = paho_fail;
	co.context = &w;
	if (MQTTAsync_connect(c, &co) != MQTTASYNC_SUCCESS || paho_wait(&w, 10000) != 0) {
		fprintf(stderr, "bench publisher: cannot connect to %s\n", uri);
		return 1;
	}
	say("ready nodelay=%d\n", nodelay_to_port(a->port));
	ro.onSuccess = pub_sent;
	t0 = mono_ns();
	while (!role_stop) {
		if (a->rate > 0)
			sleep_until(t0 + (uint64_t)((double)seq * 1e9 / a->rate));
		while (seq - __atomic_load_n(&pub_written, __ATOMIC_RELAXED) >= PUB_INFLIGHT_MAX &&
		       !role_stop) {
			struct timespec ts = { 0, 20000 };

			busy++;
			nanosleep(&ts, NULL);
		}
		payload_make(payload, seq + 1);
		if (MQTTAsync_send(c, TOPIC, PAYLOAD_BYTES, payload, 0, 0, &ro) ==
		    MQTTASYNC_SUCCESS)
			seq++;
	}
	t1 = mono_ns();
	written = __atomic_load_n(&pub_written, __ATOMIC_RELAXED);
	say("result sent=%" PRIu64 " written=%" PRIu64 " secs=%.3f rate=%.0f waits=%" PRIu64 "\n",
	    seq, written, (double)(t1 - t0) / 1e9, (double)written / ((double)(t1 - t0) / 1e9),
	    busy);
	dopt.timeout = 100;
	(void)MQTTAsync_disconnect(c, &dopt);
	/* Leave without MQTTAsync_destroy(): a full-speed run may have a deep
	 * command queue, and exit frees it all at once. */
	_exit(0);
}

/* ---------------------------------------------------------------- role: plain subscriber */

/* Shared by every client of the process; Paho calls back from its own
 * threads, so counters are atomics and the latency log is claimed by index. */
struct sub_state {
	uint64_t start, end; /* window, 0 until known */
	int by_publish;
	uint64_t in_window, total;
	struct lat lat;
	uint64_t lat_next;
	volatile int subscribed;
};

static int
sub_arrived(void *ctx, char *topic, int topiclen, MQTTAsync_message *m)
{
	struct sub_state *s = ctx;
	uint64_t now = mono_ns(), t, i, at;

	(void)topiclen;
	t = payload_time(m->payload, (size_t)m->payloadlen);
	at = s->by_publish ? t : now;
	__atomic_fetch_add(&s->total, 1, __ATOMIC_RELAXED);
	if (__atomic_load_n(&s->start, __ATOMIC_ACQUIRE) != 0 && at >= s->start && at < s->end) {
		__atomic_fetch_add(&s->in_window, 1, __ATOMIC_RELAXED);
		i = __atomic_fetch_add(&s->lat_next, 1, __ATOMIC_RELAXED);
		if (t != 0 && i < s->lat.cap)
			s->lat.v[i] = (int64_t)(now - t);
	}
	MQTTAsync_freeMessage(&m);
	MQTTAsync_free(topic);
	return 1;
}

static void
sub_subscribed(void *ctx, MQTTAsync_successData *r)
{
	(void)r;
	__atomic_fetch_add(&((struct sub_state *)ctx)->subscribed, 1, __ATOMIC_RELAXED);
}

struct sub_conn {
	MQTTAsync c;
	struct sub_state *st;
	struct paho_wait w;
};

static void
sub_connected(void *ctx, MQTTAsync_successData *r)
{
	struct sub_conn *sc = ctx;
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;

	(void)r;
	ro.onSuccess = sub_subscribed;
	ro.context = sc->st;
	if (MQTTAsync_subscribe(sc->c, TOPIC, 0, &ro) != MQTTASYNC_SUCCESS)
		sc->w.done = -1;
	else
		sc->w.done = 1;
}

static void
sub_connect_failed(void *ctx, MQTTAsync_failureData *r)
{
	(void)r;
	((struct sub_conn *)ctx)->w.done = -1;
}

/* Creates a client and starts connecting; it subscribes once connected. */
static int
sub_open(struct sub_conn *sc, struct sub_state *st, int port, int n)
{
	MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer;
	char uri[64], id[64];

	memset(sc, 0, sizeof(*sc));
	sc->st = st;
	snprintf(uri, sizeof(uri), "tcp://127.0.0.1:%d", port);
	snprintf(id, sizeof(id), "bench-sub-%ld-%d", (long)getpid(), n);
	if (MQTTAsync_create(&sc->c, uri, id, MQTTCLIENT_PERSISTENCE_NONE, NULL) !=
	        MQTTASYNC_SUCCESS ||
	    MQTTAsync_setCallbacks(sc->c, st, NULL, sub_arrived, NULL) != MQTTASYNC_SUCCESS)
		return -1;
	co.keepAliveInterval = 60;
	co.cleansession = 1;
	co.onSuccess = sub_connected;
	co.onFailure = sub_connect_failed;
	co.context = sc;
	return MQTTAsync_connect(sc->c, &co) == MQTTASYNC_SUCCESS ? 0 : -1;
}

static void
sub_close(struct sub_conn *sc)
{
	MQTTAsync_disconnectOptions dopt = MQTTAsync_disconnectOptions_initializer;

	if (sc->c == NULL)
		return;
	dopt.timeout = 0;
	(void)MQTTAsync_disconnect(sc->c, &dopt);
	MQTTAsync_destroy(&sc->c);
}

/* Waits until the subscriptions are acknowledged (want of them). */
static int
sub_wait_subscribed(struct sub_state *st, int want, int ms)
{
	uint64_t deadline = mono_ns() + (uint64_t)ms * 1000000u;

	while (__atomic_load_n(&st->subscribed, __ATOMIC_RELAXED) < want) {
		if (mono_ns() > deadline)
			return -1;
		sleep_ms(1);
	}
	return 0;
}

int
role_sub(void *arg)
{
	const struct sub_args *a = arg;
	struct sub_state st;
	struct sub_conn *conns = NULL, one;
	uint64_t start, end, t0, got0;
	int by_publish;
	struct lat setup;
	int i, nclients = a->clients > 0 ? a->clients : 1;

	memset(&st, 0, sizeof(st));
	if (a->mode == SUB_WINDOW) {
		lat_init(&st.lat, 4u << 20);
		conns = calloc((size_t)nclients, sizeof(*conns));
		if (conns == NULL)
			return 1;
		for (i = 0; i < nclients; i++) {
			if (sub_open(&conns[i], &st, a->port, i) != 0)
				return 1;
			/* Pace connects: the broker's listen backlog is finite. */
			if (i % 32 == 31)
				sleep_ms(5);
		}
		if (sub_wait_subscribed(&st, nclients, 30000) != 0) {
			fprintf(stderr, "bench subscriber: only %d of %d subscribed\n",
			    st.subscribed, nclients);
			return 1;
		}
		say("ready %d\n", nclients);
		if (read_window(&start, &end, &by_publish) != 0)
			return 1;
		st.by_publish = by_publish;
		__atomic_store_n(&st.end, end, __ATOMIC_RELAXED);
		__atomic_store_n(&st.start, start, __ATOMIC_RELEASE);
		sleep_until(end + 300000000u); /* stragglers of the window are not counted */
		st.lat.n = st.lat_next < st.lat.cap ? st.lat_next : st.lat.cap;
		if (lat_write(&st.lat, a->latfile) != 0)
			return 1;
		say("result n=%" PRIu64 " secs=%.3f rate=%.1f total=%" PRIu64 " clients=%d\n",
		    st.in_window, (double)(end - start) / 1e9,
		    (double)st.in_window / ((double)(end - start) / 1e9), st.total, nclients);
		_exit(0); /* hundreds of clients: exit closes them all at once */
	}
	say("ready 1\n");
	if (read_window(&start, &end, &by_publish) != 0)
		return 1;
	lat_init(&setup, 1u << 16);
	sleep_until(start);
	if (a->mode == SUB_SETUP) {
		/* Connect -> subscribed -> first message, as often as fits. */
		while (mono_ns() < end) {
			st.total = 0;
			st.subscribed = 0;
			t0 = mono_ns();
			if (sub_open(&one, &st, a->port, (int)setup.n) != 0)
				return 1;
			while (__atomic_load_n(&st.total, __ATOMIC_RELAXED) == 0 &&
			       mono_ns() < end + 5000000000u) {
				struct timespec ts = { 0, 20000 };

				nanosleep(&ts, NULL);
			}
			if (st.total > 0 && mono_ns() <= end)
				lat_add(&setup, (int64_t)(mono_ns() - t0));
			sub_close(&one);
		}
	} else {
		/* SUB_COUNT: time from connect to the count-th message. */
		for (i = 0; i < a->reps; i++) {
			st.total = 0;
			st.subscribed = 0;
			t0 = mono_ns();
			if (sub_open(&one, &st, a->port, i) != 0)
				return 1;
			got0 = 0;
			while ((got0 = __atomic_load_n(&st.total, __ATOMIC_RELAXED)) < a->count &&
			       mono_ns() - t0 < 120000000000u)
				sleep_ms(1);
			lat_add(&setup, got0 >= a->count ? (int64_t)(mono_ns() - t0) : -1);
			sub_close(&one);
		}
	}
	if (lat_write(&setup, a->latfile) != 0)
		return 1;
	say("result n=%zu secs=%.3f\n", setup.n, (double)(end - start) / 1e9);
	return 0;
}
