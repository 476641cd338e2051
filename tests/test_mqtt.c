/* The MQTT adapter against a real mosquitto: order, bytes, wakes, drops, status, will, TLS. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <cmocka.h>

#include "mqtt/mqtt.h"
#include "tests/common/broker.h"
#include "tests/common/testutil.h"

#define RX_MAX 8192 /* samples one test keeps */
#define BURST 5000
#define LOG_CAP 32768
#define WAIT_MS 5000       /* the bound on any single wait */
#define BULK_MS 30000      /* for thousands of samples on a loaded, sanitized run */
#define RECONNECT_MS 15000 /* Paho checks its retry timer every 3 s or so */

static struct broker g_broker;

/* A test's own broker and scratch directory, cleaned up by fixture_teardown
 * even when the test fails half-way. */
static struct broker g_extra;
static char g_scratch[64];
static pid_t g_child; /* test_last_will's client process */

/* What the owner's loop would see: wakes through a pipe, drained samples, log lines. */
struct rx {
	int pipe[2];
	atomic_int wakes;
	pthread_mutex_t lock;
	char logs[LOG_CAP];
	size_t loglen;
	struct mqtt_sample got[RX_MAX];
	size_t ngot;
};

/* One receiver for the current test, static so that no callback can ever
 * write into a reused stack frame, and the clients that report to it. */
#define CLIENTS_MAX 4
static struct rx g_rx;
static struct mqtt *g_clients[CLIENTS_MAX];

static long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t
real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
nap_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Paho's thread: like event_active(), only signal the loop. */
static void
on_wake(void *arg)
{
	struct rx *r = arg;
	char c = 1;

	atomic_fetch_add(&r->wakes, 1);
	if (write(r->pipe[1], &c, 1) < 0 && errno != EAGAIN)
		abort();
}

static void
on_log(void *arg, int level, const char *msg)
{
	struct rx *r = arg;
	int n;

	pthread_mutex_lock(&r->lock);
	n = snprintf(r->logs + r->loglen, sizeof(r->logs) - r->loglen, "%d %s\n", level, msg);
	if (n > 0 && (size_t)n < sizeof(r->logs) - r->loglen)
		r->loglen += (size_t)n;
	pthread_mutex_unlock(&r->lock);
	if (getenv("TEST_MQTT_VERBOSE") != NULL)
		fprintf(stderr, "# mqtt[%d] %s\n", level, msg);
}

static void
rx_clear(struct rx *r)
{
	for (size_t i = 0; i < r->ngot; i++)
		mqtt_sample_free(&r->got[i]);
	r->ngot = 0;
}

/* Forgets samples, wakes and log lines, between two clients of one test. */
static void
rx_reset(struct rx *r)
{
	char buf[64];

	rx_clear(r);
	while (read(r->pipe[0], buf, sizeof(buf)) > 0)
		;
	atomic_store(&r->wakes, 0);
	pthread_mutex_lock(&r->lock);
	r->loglen = 0;
	r->logs[0] = '\0';
	pthread_mutex_unlock(&r->lock);
}

/* Occurrences of needle in the log so far. */
static int
rx_logged(struct rx *r, const char *needle)
{
	int n = 0;

	pthread_mutex_lock(&r->lock);
	for (const char *p = strstr(r->logs, needle); p != NULL; p = strstr(p + 1, needle))
		n++;
	pthread_mutex_unlock(&r->lock);
	return n;
}

/*
 * The owner's loop, as the gateway runs it: sleep until woken, then drain
 * until the queue gives less than asked for. We never drain without a
 * wake, so a lost wake shows up as a timeout here.
 */
static void
rx_pump(struct rx *r, struct mqtt *m, int timeout_ms)
{
	struct pollfd p = { .fd = r->pipe[0], .events = POLLIN };
	char buf[64];
	size_t n;

	if (poll(&p, 1, timeout_ms) <= 0)
		return;
	while (read(r->pipe[0], buf, sizeof(buf)) > 0)
		;
	do {
		struct mqtt_sample batch[8];

		n = mqtt_drain(m, batch, 8);
		for (size_t i = 0; i < n; i++) {
			if (r->ngot < RX_MAX)
				r->got[r->ngot++] = batch[i];
			else
				mqtt_sample_free(&batch[i]);
		}
	} while (n == 8);
}

/* Pumps until a sample on topic has arrived (index returned) or -1 after timeout. */
static long
rx_wait_topic(struct rx *r, struct mqtt *m, const char *topic, int timeout_ms)
{
	long long deadline = mono_ms() + timeout_ms;
	size_t seen = 0;

	for (;;) {
		for (; seen < r->ngot; seen++)
			if (strcmp(r->got[seen].topic, topic) == 0)
				return (long)seen;
		if (mono_ms() >= deadline)
			return -1;
		rx_pump(r, m, (int)(deadline - mono_ms()));
	}
}

static size_t
rx_wait_count(struct rx *r, struct mqtt *m, size_t want, int timeout_ms)
{
	long long deadline = mono_ms() + timeout_ms;

	while (r->ngot < want && mono_ms() < deadline)
		rx_pump(r, m, (int)(deadline - mono_ms()));
	return r->ngot;
}

/* Waits until the log holds needle (any of two, if other is not NULL). */
static int
wait_logged(struct rx *r, const char *needle, const char *other, int timeout_ms)
{
	long long deadline = mono_ms() + timeout_ms;

	while (rx_logged(r, needle) == 0 && (other == NULL || rx_logged(r, other) == 0)) {
		if (mono_ms() >= deadline)
			return 0;
		nap_ms(5);
	}
	return 1;
}

static int
wait_connected(struct mqtt *m, int want, int timeout_ms)
{
	long long deadline = mono_ms() + timeout_ms;

	while (mqtt_connected(m) != want) {
		if (mono_ms() >= deadline)
			return 0;
		nap_ms(5);
	}
	return 1;
}

/*
 * A subscription is live once a message published after it comes back.
 * Publishes probes until one arrives, then waits for the last one sent,
 * so no stray probe lands among the test's own samples; clears r.
 */
static void
sync_sub(struct rx *r, struct mqtt *m, const struct broker *b, const char *topic)
{
	long long deadline = mono_ms() + WAIT_MS;
	char probe[32];
	int sent = 0;

	while (mono_ms() < deadline) {
		snprintf(probe, sizeof(probe), "probe-%d", sent++);
		assert_int_equal(broker_pub(b, topic, probe, strlen(probe), 1, 0), 0);
		if (rx_wait_topic(r, m, topic, 200) >= 0)
			break;
	}
	while (mono_ms() < deadline) {
		size_t last = 0;

		for (size_t i = 0; i < r->ngot; i++)
			if (strcmp(r->got[i].topic, topic) == 0)
				last = i + 1;
		if (last > 0 && r->got[last - 1].len == strlen(probe) &&
		    memcmp(r->got[last - 1].payload, probe, strlen(probe)) == 0)
			break;
		rx_pump(r, m, 100);
	}
	if (mono_ms() >= deadline)
		fail_msg("subscription to %s never became live", topic);
	rx_clear(r);
}

static void
cfg_init(struct mqtt_config *c, const struct broker *b, const char *id)
{
	memset(c, 0, sizeof(*c));
	c->uri = b->uri;
	c->client_id = id;
	c->qos = 1;
	c->keepalive_s = 5;
	c->queue_max = 1000;
}

/* A client reporting to g_rx, registered so that fixture_teardown frees it
 * when its test fails half-way (a leaked client would keep calling back). */
static struct mqtt *
client_new(const struct mqtt_config *c)
{
	struct mqtt_callbacks cb = { .wake = on_wake, .log = on_log, .arg = &g_rx };
	struct mqtt *m = NULL;
	char err[256] = "";
	size_t slot;

	for (slot = 0; slot < CLIENTS_MAX && g_clients[slot] != NULL; slot++)
		;
	assert_true(slot < CLIENTS_MAX);
	if (mqtt_new(&m, c, &cb, err, sizeof(err)) != 0)
		fail_msg("mqtt_new: %s", err);
	g_clients[slot] = m;
	return m;
}

static struct mqtt *
client_start(const struct mqtt_config *c, const char *const *filters, size_t n)
{
	struct mqtt *m = client_new(c);
	char err[256] = "";

	if (mqtt_start(m, filters, n, err, sizeof(err)) != 0)
		fail_msg("mqtt_start: %s", err);
	if (!wait_connected(m, 1, WAIT_MS))
		fail_msg("no connection to %s within %d ms", c->uri, WAIT_MS);
	return m;
}

static void
client_end(struct mqtt *m)
{
	long long t0 = mono_ms();

	for (size_t i = 0; i < CLIENTS_MAX; i++)
		if (g_clients[i] == m)
			g_clients[i] = NULL;
	mqtt_stop(m, 2000);
	mqtt_free(m);
	if (getenv("TEST_MQTT_VERBOSE") != NULL)
		fprintf(stderr, "# stop+free took %lld ms\n", mono_ms() - t0);
}

/* Reads the retained (or next) payload of topic until it is want[0..len). */
static int
retained_is(const struct broker *b, const char *topic, const void *want, size_t len, int timeout_ms)
{
	long long deadline = mono_ms() + timeout_ms;
	char buf[64];

	do {
		int n = broker_sub1(b, topic, buf, sizeof(buf), 1000);

		if (n == (int)len && memcmp(buf, want, len) == 0)
			return 1;
		nap_ms(20);
	} while (mono_ms() < deadline);
	return 0;
}

static int
status_is(const struct broker *b, const char *topic, const char *want, int timeout_ms)
{
	return retained_is(b, topic, want, strlen(want), timeout_ms);
}

/* --- tests --- */

static void
test_binary_in_order(void **state)
{
	static const char *const filters[] = { "t/bin/#" };
	static const uint8_t p1[] = { 0x00, 0xff, 0x01, 'b', 'i', 'n', 0x00, 0xfe, 0x80, 0x00 };
	uint8_t p3[3000];
	struct {
		const char *topic;
		const uint8_t *p;
		size_t len;
	} want[] = {
		{ "t/bin/a", p1, sizeof(p1) },
		{ "t/bin/empty", (const uint8_t *)"", 0 },
		{ "t/bin/a", p3, sizeof(p3) },
		{ "t/bin/z/\xc3\xa9", (const uint8_t *)"last", 4 },
	};
	struct mqtt_config c;
	struct rx *r = &g_rx;
	struct mqtt *m;
	int64_t t0;

	(void)state;
	for (size_t i = 0; i < sizeof(p3); i++)
		p3[i] = (uint8_t)(i * 7 + 3);
	cfg_init(&c, &g_broker, "t-bin");
	m = client_start(&c, filters, 1);
	sync_sub(r, m, &g_broker, "t/bin/sync");
	t0 = real_ms();
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(
		    broker_pub(&g_broker, want[i].topic, want[i].p, want[i].len, 1, 0), 0);
	assert_int_equal(rx_wait_count(r, m, 4, WAIT_MS), 4);
	for (size_t i = 0; i < 4; i++) {
		assert_string_equal(r->got[i].topic, want[i].topic);
		assert_int_equal(r->got[i].len, want[i].len);
		assert_non_null(r->got[i].payload);
		if (want[i].len > 0)
			assert_memory_equal(r->got[i].payload, want[i].p, want[i].len);
		assert_true(r->got[i].received_at >= t0 - 5);
		assert_true(r->got[i].received_at <= real_ms() + 5);
	}
	assert_true(atomic_load(&r->wakes) >= 1);
	assert_int_equal(mqtt_dropped(m), 0);
	client_end(m);
}

struct publisher {
	const char *topic;
	char *lines;
	int rc;
};

static void *
publisher_run(void *arg)
{
	struct publisher *p = arg;

	p->rc = broker_pub_lines(&g_broker, p->topic, p->lines, 1);
	return NULL;
}

/*
 * A burst that arrives while the loop is busy costs one wake. A burst
 * drained in small batches while it arrives gets every sample, in order:
 * rx_pump drains only when woken, so a lost wake would hang it.
 */
static void
test_burst_order_and_wakes(void **state)
{
	static const char *const filters[] = { "t/burst" };
	struct publisher pub = { .topic = "t/burst" };
	struct mqtt_config c;
	char num[16], few[200 * 5];
	size_t len = 0;
	long long deadline;
	pthread_t tid;
	uint64_t base;
	struct rx *r = &g_rx;
	struct mqtt *m;
	int wakes;

	(void)state;
	cfg_init(&c, &g_broker, "t-burst");
	c.queue_max = 2 * BURST; /* this test is about wakes, not drops */
	m = client_start(&c, filters, 1);
	sync_sub(r, m, &g_broker, "t/burst");

	base = mqtt_received(m);
	atomic_store(&r->wakes, 0);
	for (int i = 0; i < 200; i++)
		len += (size_t)snprintf(few + len, sizeof(few) - len, "%d\n", i);
	assert_int_equal(broker_pub_lines(&g_broker, "t/burst", few, 1), 0);
	deadline = mono_ms() + BULK_MS;
	while (mqtt_received(m) - base < 200 && mono_ms() < deadline)
		nap_ms(2);
	assert_int_equal(mqtt_received(m) - base, 200);
	assert_int_equal(atomic_load(&r->wakes), 1);
	assert_int_equal(rx_wait_count(r, m, 200, WAIT_MS), 200);
	rx_clear(r);

	base = mqtt_received(m);
	atomic_store(&r->wakes, 0);
	len = 0;
	pub.lines = malloc(BURST * 8);
	assert_non_null(pub.lines);
	for (int i = 0; i < BURST; i++)
		len += (size_t)snprintf(pub.lines + len, 8, "%d\n", i);
	/* Publish from another thread, so the loop drains while Paho queues. */
	assert_int_equal(pthread_create(&tid, NULL, publisher_run, &pub), 0);
	rx_wait_count(r, m, BURST, BULK_MS);
	pthread_join(tid, NULL);
	free(pub.lines);
	assert_int_equal(pub.rc, 0);
	assert_int_equal(r->ngot, BURST);
	for (int i = 0; i < BURST; i++) {
		snprintf(num, sizeof(num), "%d", i);
		assert_int_equal(r->got[i].len, strlen(num));
		assert_memory_equal(r->got[i].payload, num, strlen(num));
	}
	wakes = atomic_load(&r->wakes);
	assert_true(wakes >= 1 && wakes <= BURST);
	assert_int_equal(mqtt_received(m) - base, BURST);
	assert_int_equal(mqtt_dropped(m), 0);
	if (getenv("TEST_MQTT_VERBOSE") != NULL)
		fprintf(stderr, "# %d samples, %d wakes\n", BURST, wakes);
	client_end(m);
}

static void
test_wildcards(void **state)
{
	static const char *const filters[] = { "t/wc/+/temp", "t/wc/b/#", "t/wc/+/temp" };
	static const char *const pubs[] = { "t/wc/a/temp", "t/wc/a/hum", "t/wc/b", "t/wc/b/x/y",
		"t/wc/c/d/temp", "t/wc//temp", "t/wcb", "t/wc/b/end" };
	static const char *const want[] = { "t/wc/a/temp", "t/wc/b", "t/wc/b/x/y", "t/wc//temp",
		"t/wc/b/end" };
	struct mqtt_config c;
	struct rx *r = &g_rx;
	struct mqtt *m;
	long end;

	(void)state;
	cfg_init(&c, &g_broker, "t-wc");
	m = client_start(&c, filters, 3); /* the repeat is subscribed once */
	sync_sub(r, m, &g_broker, "t/wc/sync/temp");
	for (size_t i = 0; i < sizeof(pubs) / sizeof(pubs[0]); i++)
		assert_int_equal(broker_pub(&g_broker, pubs[i], "v", 1, 1, 0), 0);
	end = rx_wait_topic(r, m, "t/wc/b/end", WAIT_MS);
	assert_int_equal(end, (long)(sizeof(want) / sizeof(want[0])) - 1);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_string_equal(r->got[i].topic, want[i]);
		assert_true(mqtt_topic_match("t/wc/+/temp", want[i]) ||
		            mqtt_topic_match("t/wc/b/#", want[i]));
	}
	client_end(m);
}

/* A full queue drops the newest and counts it; the oldest stay, in order. */
static void
test_overflow(void **state)
{
	static const char *const filters[] = { "t/ovf/#" };
	struct mqtt_config c;
	char lines[50 * 4];
	uint64_t rbase, dbase;
	size_t len = 0, n;
	struct mqtt_sample out[8];
	long long deadline;
	struct rx *r = &g_rx;
	struct mqtt *m;

	(void)state;
	cfg_init(&c, &g_broker, "t-ovf");
	c.queue_max = 4;
	m = client_start(&c, filters, 1);
	sync_sub(r, m, &g_broker, "t/ovf/sync");
	rbase = mqtt_received(m);
	dbase = mqtt_dropped(m);
	for (int i = 0; i < 50; i++)
		len += (size_t)snprintf(lines + len, sizeof(lines) - len, "%d\n", i);
	assert_int_equal(broker_pub_lines(&g_broker, "t/ovf/x", lines, 1), 0);
	/* No draining: wait for Paho to hand over all 50. */
	deadline = mono_ms() + WAIT_MS;
	while (mqtt_received(m) - rbase < 50 && mono_ms() < deadline)
		nap_ms(5);
	assert_int_equal(mqtt_received(m) - rbase, 50);
	assert_int_equal(mqtt_dropped(m) - dbase, 46);
	n = mqtt_drain(m, out, 8);
	assert_int_equal(n, 4);
	for (size_t i = 0; i < n; i++) {
		char num[24];

		snprintf(num, sizeof(num), "%zu", i);
		assert_string_equal(out[i].topic, "t/ovf/x");
		assert_int_equal(out[i].len, strlen(num));
		assert_memory_equal(out[i].payload, num, strlen(num));
		mqtt_sample_free(&out[i]);
	}
	assert_int_equal(mqtt_drain(m, out, 8), 0);
	/* Room again: the next sample is queued and wakes the loop. */
	assert_int_equal(broker_pub(&g_broker, "t/ovf/after", "a", 1, 1, 0), 0);
	assert_true(rx_wait_topic(r, m, "t/ovf/after", WAIT_MS) >= 0);
	client_end(m);
}

/* Payloads up to MQTT_PAYLOAD_MAX pass; larger ones and over-long topics are counted drops. */
static void
test_size_limits(void **state)
{
	static const char *const filters[] = { "t/big/#" };
	char topic[MQTT_TOPIC_MAX + 64];
	struct mqtt_config c;
	uint8_t *big;
	uint64_t dbase, rbase;
	struct rx *r = &g_rx;
	struct mqtt *m;

	(void)state;
	big = malloc(MQTT_PAYLOAD_MAX + 1);
	assert_non_null(big);
	for (size_t i = 0; i < MQTT_PAYLOAD_MAX + 1; i++)
		big[i] = (uint8_t)(i ^ (i >> 8));
	cfg_init(&c, &g_broker, "t-big");
	m = client_start(&c, filters, 1);
	sync_sub(r, m, &g_broker, "t/big/sync");
	dbase = mqtt_dropped(m);
	rbase = mqtt_received(m);
	assert_int_equal(broker_pub(&g_broker, "t/big/max", big, MQTT_PAYLOAD_MAX, 1, 0), 0);
	assert_int_equal(broker_pub(&g_broker, "t/big/over", big, MQTT_PAYLOAD_MAX + 1, 1, 0), 0);
	memset(topic, 'x', sizeof(topic) - 1);
	memcpy(topic, "t/big/", 6);
	topic[MQTT_TOPIC_MAX + 1] = '\0'; /* one byte too long */
	assert_int_equal(broker_pub(&g_broker, topic, "t", 1, 1, 0), 0);
	topic[MQTT_TOPIC_MAX] = '\0'; /* exactly the cap */
	assert_int_equal(broker_pub(&g_broker, topic, "t", 1, 1, 0), 0);
	assert_int_equal(broker_pub(&g_broker, "t/big/end", "e", 1, 1, 0), 0);
	assert_int_equal(rx_wait_topic(r, m, "t/big/end", WAIT_MS), 2);
	assert_string_equal(r->got[0].topic, "t/big/max");
	assert_int_equal(r->got[0].len, MQTT_PAYLOAD_MAX);
	assert_memory_equal(r->got[0].payload, big, MQTT_PAYLOAD_MAX);
	assert_int_equal(strlen(r->got[1].topic), MQTT_TOPIC_MAX);
	assert_int_equal(mqtt_dropped(m) - dbase, 2);
	assert_int_equal(mqtt_received(m) - rbase, 5);
	free(big);
	client_end(m);
}

/* Retained "online" while connected, "offline" after mqtt_stop(). */
static void
test_status(void **state)
{
	struct mqtt_config c;
	struct rx *r = &g_rx;
	struct mqtt *m;
	long long t0;

	(void)state;
	cfg_init(&c, &g_broker, "t-status");
	c.status_topic = "t/status/gw";
	m = client_start(&c, NULL, 0);
	assert_true(status_is(&g_broker, "t/status/gw", "online", WAIT_MS));
	assert_int_equal(rx_logged(r, "event=connected"), 1);
	t0 = mono_ms();
	mqtt_stop(m, 2000);
	assert_true(mono_ms() - t0 < 2100);
	assert_int_equal(mqtt_connected(m), 0);
	assert_true(status_is(&g_broker, "t/status/gw", "offline", WAIT_MS));
	client_end(m); /* stops again: harmless */
}

/* The child half of test_last_will: a client that is killed, never stopped. */
static int
will_child(const char *uri, const char *topic)
{
	struct mqtt_config c;
	struct mqtt *m = NULL;
	char err[256];
	struct broker b;

	memset(&b, 0, sizeof(b));
	snprintf(b.uri, sizeof(b.uri), "%s", uri);
	cfg_init(&c, &b, "t-will-child");
	c.status_topic = topic;
	if (mqtt_new(&m, &c, NULL, err, sizeof(err)) != 0 ||
	    mqtt_start(m, NULL, 0, err, sizeof(err)) != 0 || !wait_connected(m, 1, WAIT_MS))
		return 1;
	if (write(1, "ready\n", 6) != 6)
		return 1;
	nap_ms(20000); /* the parent kills us long before */
	return 1;
}

static void
test_last_will(void **state)
{
	const char *topic = "t/will/gw";
	struct pollfd p;
	char buf[16];
	pid_t parent = getpid(), pid;
	int fds[2], status;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	g_child = pid;
	if (pid == 0) {
		/* A fresh process: Paho's threads do not survive fork(). */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		dup2(fds[1], 1);
		close(fds[0]);
		execl("/proc/self/exe", "test_mqtt", "--will-child", g_broker.uri, topic,
		    (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	p.fd = fds[0];
	p.events = POLLIN;
	if (poll(&p, 1, WAIT_MS) != 1 || read(fds[0], buf, sizeof(buf)) < 5) {
		close(fds[0]);
		fail_msg("the will child never connected");
	}
	close(fds[0]);
	assert_true(status_is(&g_broker, topic, "online", WAIT_MS));
	/* No DISCONNECT: the broker sees the socket close and sends the will. */
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	g_child = 0;
	assert_true(status_is(&g_broker, topic, "offline", WAIT_MS));
}

/* The broker restarts mid-stream: Paho reconnects, we resubscribe and re-announce. */
static void
test_broker_restart(void **state)
{
	static const char *const filters[] = { "t/rs/#" };
	struct mqtt_config c;
	char payload[32];
	long long t0, deadline;
	int i = 0;
	struct rx *r = &g_rx;
	struct mqtt *m;

	(void)state;
	cfg_init(&c, &g_broker, "t-restart");
	c.status_topic = "t/status/rs";
	m = client_start(&c, filters, 1);
	sync_sub(r, m, &g_broker, "t/rs/sync");
	assert_int_equal(broker_pub(&g_broker, "t/rs/data", "before", 6, 1, 0), 0);
	assert_true(rx_wait_topic(r, m, "t/rs/data", WAIT_MS) >= 0);
	rx_clear(r);

	t0 = mono_ms();
	assert_int_equal(broker_restart(&g_broker), 0);
	deadline = mono_ms() + RECONNECT_MS;
	while (rx_logged(r, "event=connected") < 2 && mono_ms() < deadline)
		nap_ms(10);
	assert_true(rx_logged(r, "event=connected") >= 2);
	assert_true(rx_logged(r, "event=connection_lost") >= 1);
	assert_true(rx_logged(r, "event=reconnecting") >= 1);
	/* Paho's duplicate report of the same loss is not logged. */
	assert_int_equal(rx_logged(r, "event=connect_failed"), 0);
	if (getenv("TEST_MQTT_VERBOSE") != NULL)
		fprintf(stderr, "# reconnected %lld ms after the restart\n", mono_ms() - t0);
	/* Samples after the restart arrive once the new SUBSCRIBE is through. */
	while (mono_ms() < deadline) {
		snprintf(payload, sizeof(payload), "after-%d", i++);
		assert_int_equal(
		    broker_pub(&g_broker, "t/rs/data", payload, strlen(payload), 1, 0), 0);
		if (rx_wait_topic(r, m, "t/rs/data", 200) >= 0)
			break;
	}
	assert_true(r->ngot >= 1);
	assert_memory_equal(r->got[0].payload, "after-", 6);
	/* The restarted broker kept nothing: the status came from us again. */
	assert_true(status_is(&g_broker, "t/status/rs", "online", WAIT_MS));
	client_end(m);
}

/* The first connect fails (no broker yet); Paho keeps trying on its own. */
static void
test_broker_late(void **state)
{
	static const char *const filters[] = { "t/late" };
	struct mqtt_config c;
	struct mqtt *m;
	char err[256];
	struct rx *r = &g_rx;

	(void)state;
	broker_kill(&g_broker); /* fixture_teardown revives it if we fail */
	cfg_init(&c, &g_broker, "t-late");
	m = client_new(&c);
	assert_int_equal(mqtt_start(m, filters, 1, err, sizeof(err)), 0);
	assert_true(wait_logged(r, "event=connect_failed", NULL, WAIT_MS));
	assert_int_equal(mqtt_connected(m), 0);
	assert_int_equal(broker_restart(&g_broker), 0);
	assert_true(wait_connected(m, 1, RECONNECT_MS));
	sync_sub(r, m, &g_broker, "t/late");
	client_end(m);
}

/* A reload's new filters replace the old ones on the live connection. */
static void
test_set_filters(void **state)
{
	static const char *const before[] = { "t/sf/a", "t/sf/keep" };
	static const char *const after[] = { "t/sf/b", "t/sf/keep", "t/sf/b" };
	static const char *const bad[] = { "t/sf/ok", "t/sf/#/no" };
	struct mqtt_config c;
	char err[256];
	struct rx *r = &g_rx;
	struct mqtt *m;

	(void)state;
	cfg_init(&c, &g_broker, "t-sf");
	m = client_start(&c, before, 2);
	sync_sub(r, m, &g_broker, "t/sf/a");
	assert_int_equal(mqtt_set_filters(m, bad, 2, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "t/sf/#/no"));
	assert_int_equal(mqtt_set_filters(m, after, 3, err, sizeof(err)), 0);
	sync_sub(r, m, &g_broker, "t/sf/b");
	/* Requests are ordered: once b arrives, a is unsubscribed. */
	assert_int_equal(broker_pub(&g_broker, "t/sf/a", "A", 1, 1, 0), 0);
	assert_int_equal(broker_pub(&g_broker, "t/sf/keep", "K", 1, 1, 0), 0);
	assert_int_equal(broker_pub(&g_broker, "t/sf/b", "B", 1, 1, 0), 0);
	assert_int_equal(rx_wait_count(r, m, 2, WAIT_MS), 2);
	assert_string_equal(r->got[0].topic, "t/sf/keep");
	assert_string_equal(r->got[1].topic, "t/sf/b");
	/* Shrinking to nothing is allowed too. */
	assert_int_equal(mqtt_set_filters(m, NULL, 0, err, sizeof(err)), 0);
	client_end(m);
}

/* Retained messages set before the connect go out on connect; updates replace them. */
static void
test_retained(void **state)
{
	struct mqtt_config c;
	struct mqtt *m;
	char err[256], topic[32];

	(void)state;
	cfg_init(&c, &g_broker, "t-ret");
	m = client_new(&c);
	assert_int_equal(mqtt_publish_retained(m, "t/ret/menu", "menu-v0", 7), 0);
	assert_int_equal(mqtt_publish_retained(m, "t/ret/menu", "menu-v1\0x", 9), 0);
	assert_int_equal(mqtt_publish_retained(m, "t/ret/+", "x", 1), -1);
	assert_int_equal(mqtt_publish_retained(m, "", "x", 1), -1);
	assert_int_equal(mqtt_publish_retained(m, NULL, "x", 1), -1);
	/* Bounded: 16 topics, then only updates of those. */
	for (int i = 1; i < 16; i++) {
		snprintf(topic, sizeof(topic), "t/ret/other%d", i);
		assert_int_equal(mqtt_publish_retained(m, topic, "o", 1), 0);
	}
	assert_int_equal(mqtt_publish_retained(m, "t/ret/one-too-many", "o", 1), -1);
	assert_int_equal(mqtt_publish_retained(m, "t/ret/other3", "", 0), 0);
	assert_int_equal(mqtt_start(m, NULL, 0, err, sizeof(err)), 0);
	assert_int_equal(mqtt_start(m, NULL, 0, err, sizeof(err)), -1);
	assert_true(wait_connected(m, 1, WAIT_MS));
	assert_true(retained_is(&g_broker, "t/ret/menu", "menu-v1\0x", 9, WAIT_MS));
	assert_true(status_is(&g_broker, "t/ret/other15", "o", WAIT_MS));
	/* Now connected: sent at once. */
	assert_int_equal(mqtt_publish_retained(m, "t/ret/menu", "menu-v2", 7), 0);
	assert_true(status_is(&g_broker, "t/ret/menu", "menu-v2", WAIT_MS));
	client_end(m);
}

/* Bad arguments are refused with a message, before any network. */
static void
test_bad_arguments(void **state)
{
	static const char *const bad_filter[] = { "t/ok", "t/#/no" };
	struct mqtt_config c;
	struct mqtt *m = NULL;
	char err[256];
	struct broker b;

	(void)state;
	memset(&b, 0, sizeof(b));
	snprintf(b.uri, sizeof(b.uri), "tcp://127.0.0.1:1");
	cfg_init(&c, &b, "t-bad");
	c.uri = "http://127.0.0.1:1883";
	err[0] = '\0';
	assert_int_equal(mqtt_new(&m, &c, NULL, err, sizeof(err)), -1);
	assert_null(m);
	assert_non_null(strstr(err, "`http://127.0.0.1:1883'"));
	c.uri = b.uri;
	c.qos = 3;
	assert_int_equal(mqtt_new(&m, &c, NULL, err, sizeof(err)), -1);
	c.qos = 1;
	c.queue_max = 0;
	assert_int_equal(mqtt_new(&m, &c, NULL, err, sizeof(err)), -1);
	c.queue_max = 10;
	c.status_topic = "t/status/#";
	assert_int_equal(mqtt_new(&m, &c, NULL, err, sizeof(err)), -1);
	c.status_topic = NULL;
	c.ca_file = "/etc/ssl/certs/ca-certificates.crt";
	assert_int_equal(mqtt_new(&m, &c, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "TLS"));
	c.ca_file = NULL;
	c.keepalive_s = -1;
	assert_int_equal(mqtt_new(&m, &c, NULL, err, sizeof(err)), -1);
	c.keepalive_s = 5;
	c.client_id = "";
	c.persistent_session = 1;
	assert_int_equal(mqtt_new(&m, &c, NULL, err, sizeof(err)), -1);
	c.client_id = "t-bad";
	assert_int_equal(mqtt_new(&m, &c, NULL, err, sizeof(err)), 0);
	assert_int_equal(mqtt_start(m, bad_filter, 2, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "t/#/no"));
	assert_int_equal(mqtt_connected(m), 0);
	assert_int_equal(mqtt_received(m), 0);
	mqtt_stop(m, 100); /* never started: nothing to do */
	mqtt_free(m);
	mqtt_free(NULL);
	mqtt_stop(NULL, 0);
	assert_int_equal(mqtt_drain(NULL, NULL, 1), 0);
}

#define DYNSEC_PLUGIN "/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so"

/*
 * A filter the broker refuses (SUBACK 0x80) is reported by name; the others
 * work. mosquitto 2.0's acl_file never refuses a SUBSCRIBE, so this uses
 * its dynamic-security plugin, which does.
 */
static void
test_subscribe_refused(void **state)
{
	static const char *const filters[] = { "t/acl/ok/#", "t/acl/denied" };
	char acl[200], conf[600];
	struct mqtt_config c;
	struct rx *r = &g_rx;
	struct mqtt *m;
	FILE *f;

	(void)state;
	if (access(DYNSEC_PLUGIN, R_OK) != 0)
		TEST_SKIP("mosquitto's dynamic security plugin is not installed");
	snprintf(acl, sizeof(acl), "%s/dynsec.json", g_scratch);
	f = fopen(acl, "w");
	assert_non_null(f);
	fputs("{\"defaultACLAccess\": {\"publishClientSend\": true, \"publishClientReceive\": "
	      "true, \"subscribe\": false, \"unsubscribe\": true},\n"
	      " \"clients\": [], \"anonymousGroup\": \"anon\",\n"
	      " \"groups\": [{\"groupname\": \"anon\", \"roles\": [{\"rolename\": \"r\"}]}],\n"
	      " \"roles\": [{\"rolename\": \"r\", \"acls\": [{\"acltype\": "
	      "\"subscribePattern\", \"topic\": \"t/acl/ok/#\", \"allow\": true}]}]}\n",
	    f);
	fclose(f);
	snprintf(conf, sizeof(conf), "plugin %s\nplugin_opt_config_file %s\n", DYNSEC_PLUGIN, acl);
	g_extra.extra_conf = conf;
	assert_int_equal(broker_start(&g_extra), 0);
	cfg_init(&c, &g_extra, "t-acl");
	m = client_start(&c, filters, 2);
	sync_sub(r, m, &g_extra, "t/acl/ok/x");
	assert_true(wait_logged(r, "event=subscribe_failed filter=t/acl/denied", NULL, WAIT_MS));
	assert_int_equal(rx_logged(r, "3 event=subscribe_failed"), 1);
	assert_int_equal(rx_logged(r, "t/acl/ok/#"), 0);
	client_end(m);
}

/* --- TLS: a private CA, a broker listener with its certificate --- */

static int
run_openssl(const char *const *argv)
{
	return broker_run(argv, NULL, 0, NULL, 0, NULL, 10000);
}

/* Makes ca.crt (and a second, unrelated other.crt) and a server cert for
 * IP 127.0.0.1 only, in dir. */
static int
make_pki(const char *dir)
{
	char ca_key[160], ca_crt[160], other_key[160], other_crt[160], key[160], csr[160], crt[160],
	    ext[160], srl[160];
	FILE *f;

	snprintf(ca_key, sizeof(ca_key), "%s/ca.key", dir);
	snprintf(ca_crt, sizeof(ca_crt), "%s/ca.crt", dir);
	snprintf(other_key, sizeof(other_key), "%s/other.key", dir);
	snprintf(other_crt, sizeof(other_crt), "%s/other.crt", dir);
	snprintf(key, sizeof(key), "%s/server.key", dir);
	snprintf(csr, sizeof(csr), "%s/server.csr", dir);
	snprintf(crt, sizeof(crt), "%s/server.crt", dir);
	snprintf(ext, sizeof(ext), "%s/ext.cnf", dir);
	snprintf(srl, sizeof(srl), "%s/ca.srl", dir);
	f = fopen(ext, "w");
	if (f == NULL)
		return -1;
	fputs("subjectAltName=IP:127.0.0.1\n", f);
	fclose(f);
	{
		const char *a1[] = { "/usr/bin/openssl", "req", "-x509", "-newkey", "ec",
			"-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", ca_key,
			"-out", ca_crt, "-subj", "/CN=sdpp test CA", "-days", "2", NULL };
		const char *a2[] = { "/usr/bin/openssl", "req", "-x509", "-newkey", "ec",
			"-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", other_key,
			"-out", other_crt, "-subj", "/CN=unrelated CA", "-days", "2", NULL };
		const char *a3[] = { "/usr/bin/openssl", "req", "-newkey", "ec", "-pkeyopt",
			"ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", csr,
			"-subj", "/CN=sdpp test broker", NULL };
		const char *a4[] = { "/usr/bin/openssl", "x509", "-req", "-in", csr, "-CA", ca_crt,
			"-CAkey", ca_key, "-CAcreateserial", "-CAserial", srl, "-out", crt, "-days",
			"2", "-extfile", ext, NULL };

		if (run_openssl(a1) != 0 || run_openssl(a2) != 0 || run_openssl(a3) != 0 ||
		    run_openssl(a4) != 0)
			return -1;
	}
	return 0;
}

static void
test_tls(void **state)
{
	static const char *const filters[] = { "t/tls/#" };
	const char *dir = g_scratch;
	char conf[1024], uri[64], ca[200], other[200];
	struct mqtt_config c;
	struct mqtt *m;
	char err[256];
	struct rx *r = &g_rx;
	int port;

	(void)state;
	if (access("/usr/bin/openssl", X_OK) != 0)
		TEST_SKIP("/usr/bin/openssl is not installed");
	if (make_pki(dir) != 0)
		fail_msg("openssl could not make the test certificates");
	assert_int_equal(broker_free_ports(&port, 1), 0);
	/* The plain listener serves mosquitto_pub; the second one is TLS. */
	snprintf(conf, sizeof(conf),
	    "listener %d 127.0.0.1\ncafile %s/ca.crt\ncertfile %s/server.crt\nkeyfile "
	    "%s/server.key\n",
	    port, dir, dir, dir);
	g_extra.extra_conf = conf;
	assert_int_equal(broker_start(&g_extra), 0);
	snprintf(ca, sizeof(ca), "%s/ca.crt", dir);
	snprintf(other, sizeof(other), "%s/other.crt", dir);

	/* The right CA: connected, samples flow. */
	snprintf(uri, sizeof(uri), "ssl://127.0.0.1:%d", port);
	cfg_init(&c, &g_extra, "t-tls");
	c.uri = uri;
	c.ca_file = ca;
	m = client_start(&c, filters, 1);
	sync_sub(r, m, &g_extra, "t/tls/x");
	client_end(m);

	/* mqtts:// is the same scheme. */
	rx_reset(r);
	snprintf(uri, sizeof(uri), "mqtts://127.0.0.1:%d", port);
	c.uri = uri;
	m = client_start(&c, filters, 1);
	client_end(m);

	/* A CA that did not sign the server: never connected, and said why. */
	rx_reset(r);
	snprintf(uri, sizeof(uri), "ssl://127.0.0.1:%d", port);
	c.ca_file = other;
	m = client_new(&c);
	assert_int_equal(mqtt_start(m, filters, 1, err, sizeof(err)), 0);
	assert_true(wait_logged(r, "event=connect_failed", "event=tls_error", WAIT_MS));
	assert_int_equal(mqtt_connected(m), 0);
	if (getenv("TEST_MQTT_VERBOSE") != NULL)
		fprintf(stderr, "# wrong CA log:\n%s", r->logs);
	client_end(m);

	/* The right CA but the wrong name: verify=1 refuses "localhost". */
	rx_reset(r);
	snprintf(uri, sizeof(uri), "ssl://localhost:%d", port);
	c.ca_file = ca;
	m = client_new(&c);
	assert_int_equal(mqtt_start(m, filters, 1, err, sizeof(err)), 0);
	assert_true(wait_logged(r, "event=connect_failed", "event=tls_error", WAIT_MS));
	assert_int_equal(mqtt_connected(m), 0);
	if (getenv("TEST_MQTT_VERBOSE") != NULL)
		fprintf(stderr, "# wrong name log:\n%s", r->logs);
	client_end(m);
}

static int
fixture_setup(void **state)
{
	(void)state;
	rx_reset(&g_rx);
	memset(&g_extra, 0, sizeof(g_extra));
	snprintf(g_scratch, sizeof(g_scratch), "/tmp/sdpp-test-XXXXXX");
	return mkdtemp(g_scratch) != NULL ? 0 : -1;
}

static int
fixture_teardown(void **state)
{
	struct dirent *e;
	char path[sizeof(g_scratch) + 300];
	DIR *d;

	(void)state;
	/* Clients left by a failed test first: they must not call back into
	 * the next test, nor hold the broker's client ids. */
	for (size_t i = 0; i < CLIENTS_MAX; i++) {
		if (g_clients[i] != NULL) {
			mqtt_free(g_clients[i]);
			g_clients[i] = NULL;
		}
	}
	rx_reset(&g_rx);
	if (g_child > 0) {
		kill(g_child, SIGKILL);
		waitpid(g_child, NULL, 0);
		g_child = 0;
	}
	broker_stop(&g_extra);
	if (g_broker.pid == 0 && broker_restart(&g_broker) != 0)
		return -1;
	d = opendir(g_scratch);
	if (d == NULL)
		return 0;
	for (e = readdir(d); e != NULL; e = readdir(d)) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", g_scratch, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(g_scratch);
	return 0;
}

static int
group_setup(void **state)
{
	(void)state;
	memset(&g_rx, 0, sizeof(g_rx));
	if (pipe(g_rx.pipe) != 0)
		return -1;
	fcntl(g_rx.pipe[0], F_SETFL, O_NONBLOCK);
	fcntl(g_rx.pipe[1], F_SETFL, O_NONBLOCK);
	pthread_mutex_init(&g_rx.lock, NULL);
	memset(&g_broker, 0, sizeof(g_broker));
	return broker_start(&g_broker);
}

static int
group_teardown(void **state)
{
	(void)state;
	broker_stop(&g_broker);
	rx_clear(&g_rx);
	close(g_rx.pipe[0]);
	close(g_rx.pipe[1]);
	pthread_mutex_destroy(&g_rx.lock);
	return 0;
}

/* Every test gets a fresh receiver and a cleanup that runs even on failure. */
#define T(test) cmocka_unit_test_setup_teardown(test, fixture_setup, fixture_teardown)

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		T(test_bad_arguments),
		T(test_binary_in_order),
		T(test_burst_order_and_wakes),
		T(test_wildcards),
		T(test_overflow),
		T(test_size_limits),
		T(test_status),
		T(test_last_will),
		T(test_set_filters),
		T(test_retained),
		T(test_subscribe_refused),
		T(test_broker_restart),
		T(test_broker_late),
		T(test_tls),
	};

	if (argc == 4 && strcmp(argv[1], "--will-child") == 0)
		return will_child(argv[2], argv[3]);
	if (access(BROKER_MOSQUITTO, X_OK) != 0) {
		/* cmocka 1.1 has no group skip: report one skipped test. */
		printf("1..1\nok 1 # SKIP %s not installed\n", BROKER_MOSQUITTO);
		return 0;
	}
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
