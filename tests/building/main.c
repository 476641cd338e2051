/* Test tool: a simulated zigbee2mqtt building with Home Assistant discovery, on a real broker. */
/*
 * tool_building makes an MQTT broker look like a building that runs
 * zigbee2mqtt: N devices ("Room 001 TH", IEEE 0x00158d00........) publish
 * their state JSON on <base>/<friendly name>, with measurements replayed
 * from a real office trace (../shared/data/occupancy/datatest.txt: each
 * device starts at its own row and steps one row a round; the numbers keep
 * the trace's text), and announce their sensors by Home Assistant MQTT
 * discovery (retained, QoS 1). Integration tests, the demo and benchmarks
 * drive the gateway with it. `tool_building --help' lists the options.
 *
 * A run does, in this order: --announce or --change (the configs of the
 * selected devices and properties, and <base>/bridge/state "online"),
 * --rounds R of every selected device's state, --interval ms apart, then
 * --remove (empty retained payloads on the configs). It waits until the
 * broker acknowledged every QoS 1 message, prints one summary line to
 * stderr, and exits 0; 1 on an error; 77 ("skip: ...") when rounds are
 * asked for and the trace is not there. SIGINT or SIGTERM ends the rounds
 * early, still cleanly.
 *
 * --verify is the other side, for scripts: it reads discovery messages
 * (mosquitto_sub -F '%t\t%p') from stdin and checks each with the
 * gateway's own parser (mqtt/discovery.h), printing what it understood.
 *
 * Examples (a broker on 127.0.0.1:1883):
 *   tool_building --broker 127.0.0.1:1883 --announce --rounds 60
 *       200 devices, 1,200 configs, a round a second for a minute
 *   tool_building --broker 127.0.0.1:1883 --devices 2000 --properties temperature --announce
 *   tool_building --broker 127.0.0.1:1883 --devices 10000 --rounds 100 --interval 0 --stats
 *       a benchmark's "2,000 field products over 10,000 topics": the first run
 *       announces one sensor on each of devices 1..2000, the second publishes
 *       on all 10,000 device topics as fast as the broker acknowledges
 *       (--qos 0 for more), and --stats reports messages_per_s
 *   tool_building --broker 127.0.0.1:1883 --devices 50 --devices-from 151 --remove
 *       devices 151..200 leave: their configs are removed
 * Each device's topic is one of its own, so --devices N gives N topics. On
 * loopback one client moves about 7,500 QoS 1 or 35,000 QoS 0 states a
 * second; run several at once with disjoint --devices-from ranges for more
 * (each has its own client id).
 */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <MQTTAsync.h>

#include "tests/building/building.h"

#define PROG "tool_building"
#define DEFAULT_DATA "../shared/data/occupancy/datatest.txt"
#define EXIT_SKIP 77
#define CONNECT_MS 10000
/* Give up when the broker acknowledges nothing for this long. */
#define STALL_MS 30000
/* Messages handed to Paho and not yet acknowledged, at most: bounds the
 * memory of a fast run over 10,000 topics. */
#define WINDOW 20000

struct opts {
	const char *broker, *base, *prefix, *data, *client_id, *props_list;
	unsigned long devices, from, rounds, interval, qos;
	int announce, change, remove, retain_state, stats, verify, help;
};

enum { OPT_FLAG, OPT_NUM, OPT_TEXT };

struct optdef {
	const char *name;
	int kind;
	size_t off; /* into struct opts */
	unsigned long min, max;
	const char *arg, *help;
};

#define O(m) offsetof(struct opts, m)
static const struct optdef optdefs[] = {
	{ "broker", OPT_TEXT, O(broker), 0, 0, "HOST:PORT",
	    "the broker (or a tcp:// URI); required except with --verify" },
	{ "devices", OPT_NUM, O(devices), 1, BUILDING_DEVICES_MAX, "N",
	    "devices to simulate (default 200)" },
	{ "devices-from", OPT_NUM, O(from), 1, BUILDING_DEVICE_LAST, "K",
	    "the first device's number: devices K..K+N-1 (default 1)" },
	{ "base", OPT_TEXT, O(base), 0, 0, "TOPIC",
	    "zigbee2mqtt's base topic (default zigbee2mqtt)" },
	{ "prefix", OPT_TEXT, O(prefix), 0, 0, "TOPIC",
	    "the discovery prefix (default homeassistant)" },
	{ "data", OPT_TEXT, O(data), 0, 0, "FILE",
	    "the occupancy trace (default " DEFAULT_DATA ")" },
	{ "properties", OPT_TEXT, O(props_list), 0, 0, "LIST",
	    "what to announce or remove (default all: battery,co2,humidity,\n"
	    "                         illuminance,occupancy,temperature)" },
	{ "announce", OPT_FLAG, O(announce), 0, 0, NULL,
	    "publish the discovery configs (retained, QoS 1)" },
	{ "change", OPT_FLAG, O(change), 0, 0, NULL,
	    "announce changed configs (another name and unit spelling)" },
	{ "remove", OPT_FLAG, O(remove), 0, 0, NULL,
	    "at the end, remove the configs (empty retained payloads)" },
	{ "rounds", OPT_NUM, O(rounds), 0, 100000000, "R",
	    "publish every device's state R times (default 0)" },
	{ "interval", OPT_NUM, O(interval), 0, 3600000, "MS",
	    "between rounds (default 1000; 0: as fast as possible)" },
	{ "qos", OPT_NUM, O(qos), 0, 2, "Q", "QoS of the states (default 1)" },
	{ "retain-state", OPT_FLAG, O(retain_state), 0, 0, NULL, "retain the states" },
	{ "client-id", OPT_TEXT, O(client_id), 0, 0, "ID",
	    "MQTT client id (default tool_building-PID)" },
	{ "stats", OPT_FLAG, O(stats), 0, 0, NULL,
	    "print a key=value line of counts, time and rates to stderr" },
	{ "verify", OPT_FLAG, O(verify), 0, 0, NULL,
	    "check discovery messages on stdin with the gateway's parser (see above)" },
	{ "help", OPT_FLAG, O(help), 0, 0, NULL, "this text" },
};
#undef O
#define NOPTDEFS (sizeof(optdefs) / sizeof(optdefs[0]))

struct mq {
	MQTTAsync client;
	atomic_int connected; /* 0 waiting, 1 up, -1 failed */
	atomic_int lost;
	atomic_ulong done, failed; /* completions, of which failures */
	unsigned long sent;
	unsigned long max_pending;
};

static volatile sig_atomic_t stopping;

static void
on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !stopping)
		;
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: " PROG " --broker HOST:PORT [--announce] [--rounds R] [--remove] [options]\n"
	    "       " PROG " --verify [--prefix TOPIC] <MESSAGES\n"
	    "A zigbee2mqtt building with Home Assistant discovery on a real broker: device i\n"
	    "(\"Room 001 TH\") publishes its state JSON on BASE/<name>, replaying the office\n"
	    "trace, and announces PREFIX/sensor|binary_sensor/<ieee>/<property>/config.\n"
	    "A run announces, then publishes the rounds, then removes. --verify reads\n"
	    "\"TOPIC<TAB>PAYLOAD\" lines (mosquitto_sub -F '%%t\\t%%p') and prints what\n"
	    "mqtt_discovery_parse() makes of each. Exit 0, 1 on an error, 77 when the\n"
	    "trace is absent and rounds are asked for. Examples, also for benchmarks\n"
	    "over 10,000 topics: the comment atop tests/building/main.c.\n\n");
	for (size_t k = 0; k < NOPTDEFS; k++) {
		char left[40];

		snprintf(left, sizeof(left), "--%s%s%s", optdefs[k].name,
		    optdefs[k].arg != NULL ? " " : "",
		    optdefs[k].arg != NULL ? optdefs[k].arg : "");
		fprintf(f, "  %-22s %s\n", left, optdefs[k].help);
	}
}

/* A topic option: printable ASCII without wildcards, quotes or backslashes
 * (it goes into JSON unescaped), not empty, and short enough. */
static int
topic_option_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > BUILDING_TOPIC_MAX - 64)
		return 0;
	for (; *s != '\0'; s++)
		if (*s < 0x20 || *s > 0x7e || *s == '+' || *s == '#' || *s == '"' || *s == '\\')
			return 0;
	return 1;
}

static int
parse_args(int argc, char **argv, struct opts *o)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = NULL, *eq;
		const struct optdef *d = NULL;
		size_t n;

		if (strncmp(a, "--", 2) != 0) {
			fprintf(stderr, PROG ": not an option: `%s' (--help lists them)\n", a);
			return -1;
		}
		a += 2;
		eq = strchr(a, '=');
		n = eq != NULL ? (size_t)(eq - a) : strlen(a);
		for (size_t k = 0; k < NOPTDEFS; k++)
			if (strlen(optdefs[k].name) == n && memcmp(optdefs[k].name, a, n) == 0)
				d = &optdefs[k];
		if (d == NULL) {
			fprintf(
			    stderr, PROG ": unknown option: `%s' (--help lists them)\n", argv[i]);
			return -1;
		}
		if (d->kind == OPT_FLAG) {
			if (eq != NULL) {
				fprintf(stderr, PROG ": --%s takes no value\n", d->name);
				return -1;
			}
			*(int *)(void *)((char *)o + d->off) = 1;
			continue;
		}
		if (eq != NULL)
			val = eq + 1;
		else if (i + 1 < argc)
			val = argv[++i];
		else {
			fprintf(stderr, PROG ": --%s: needs a value (%s)\n", d->name, d->arg);
			return -1;
		}
		if (d->kind == OPT_TEXT) {
			*(const char **)(void *)((char *)o + d->off) = val;
			continue;
		} else {
			unsigned long v;
			char *end;

			errno = 0;
			v = strtoul(val, &end, 10);
			if (val[0] < '0' || val[0] > '9' || errno != 0 || *end != '\0') {
				fprintf(stderr, PROG ": --%s: not a number: `%s'\n", d->name, val);
				return -1;
			}
			if (v < d->min || v > d->max) {
				fprintf(stderr, PROG ": --%s: not in %lu..%lu: `%s'\n", d->name,
				    d->min, d->max, val);
				return -1;
			}
			*(unsigned long *)(void *)((char *)o + d->off) = v;
		}
	}
	return 0;
}

static void
on_connect(void *ctx, MQTTAsync_successData *r)
{
	struct mq *m = ctx;

	(void)r;
	atomic_store(&m->connected, 1);
}

static void
on_connect_failure(void *ctx, MQTTAsync_failureData *r)
{
	struct mq *m = ctx;

	fprintf(stderr, PROG ": connect failed: %d %s\n", r != NULL ? r->code : 0,
	    r != NULL && r->message != NULL ? r->message : "");
	atomic_store(&m->connected, -1);
}

static void
on_lost(void *ctx, char *cause)
{
	struct mq *m = ctx;

	fprintf(stderr, PROG ": connection lost%s%s\n", cause != NULL ? ": " : "",
	    cause != NULL ? cause : "");
	atomic_store(&m->lost, 1);
}

static void
on_sent(void *ctx, MQTTAsync_successData *r)
{
	struct mq *m = ctx;

	(void)r;
	atomic_fetch_add(&m->done, 1);
}

static void
on_send_failure(void *ctx, MQTTAsync_failureData *r)
{
	struct mq *m = ctx;

	/* Once is enough to tell; the count says how many. */
	if (atomic_fetch_add(&m->failed, 1) == 0)
		fprintf(stderr, PROG ": publish failed: %d\n", r != NULL ? r->code : 0);
	atomic_fetch_add(&m->done, 1);
}

static int
msg_arrived(void *ctx, char *topic, int topiclen, MQTTAsync_message *msg)
{
	(void)ctx;
	(void)topiclen;
	MQTTAsync_freeMessage(&msg);
	MQTTAsync_free(topic);
	return 1;
}

/* Waits until at most `left' messages are unacknowledged; -1 on a lost
 * connection or when nothing moves for STALL_MS. */
static int
drain(struct mq *m, unsigned long left)
{
	unsigned long last = atomic_load(&m->done);
	long long since = mono_ms();

	for (;;) {
		unsigned long done = atomic_load(&m->done);

		if (m->sent - done <= left)
			return 0;
		if (atomic_load(&m->lost))
			return -1;
		if (done != last) {
			last = done;
			since = mono_ms();
		} else if (mono_ms() - since > STALL_MS) {
			fprintf(stderr, PROG ": %lu messages unacknowledged for %d ms\n",
			    m->sent - done, STALL_MS);
			return -1;
		}
		nap_ms(1);
	}
}

/* Hands one message to Paho (it copies topic and payload). */
static int
publish(struct mq *m, const char *topic, const char *payload, int len, int qos, int retained)
{
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	long long since = mono_ms();
	unsigned long pending;

	if (m->sent - atomic_load(&m->done) >= WINDOW && drain(m, WINDOW / 2) != 0)
		return -1;
	ro.onSuccess = on_sent;
	ro.onFailure = on_send_failure;
	ro.context = m;
	for (;;) {
		/* Paho's payload is not const-qualified; it only reads it. */
		int r = MQTTAsync_send(
		    m->client, topic, len, (void *)(size_t)payload, qos, retained, &ro);

		if (r == MQTTASYNC_SUCCESS)
			break;
		if (r != MQTTASYNC_MAX_BUFFERED_MESSAGES || mono_ms() - since > STALL_MS ||
		    atomic_load(&m->lost)) {
			fprintf(stderr, PROG ": send to `%s': %d\n", topic, r);
			return -1;
		}
		nap_ms(1);
	}
	m->sent++;
	pending = m->sent - atomic_load(&m->done);
	if (pending > m->max_pending)
		m->max_pending = pending;
	return 0;
}

static int
mq_connect(struct mq *m, const struct opts *o)
{
	MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer;
	char uri[BUILDING_TOPIC_MAX + 16], id[64];
	long long deadline;

	if (strstr(o->broker, "://") != NULL)
		snprintf(uri, sizeof(uri), "%s", o->broker);
	else
		snprintf(uri, sizeof(uri), "tcp://%s", o->broker);
	if (o->client_id != NULL)
		snprintf(id, sizeof(id), "%s", o->client_id);
	else
		snprintf(id, sizeof(id), PROG "-%ld", (long)getpid());
	if (MQTTAsync_create(&m->client, uri, id, MQTTCLIENT_PERSISTENCE_NONE, NULL) !=
	        MQTTASYNC_SUCCESS ||
	    MQTTAsync_setCallbacks(m->client, m, on_lost, msg_arrived, NULL) != MQTTASYNC_SUCCESS) {
		fprintf(stderr, PROG ": --broker: cannot make a client for `%s'\n", uri);
		return -1;
	}
	co.keepAliveInterval = 30;
	co.cleansession = 1;
	co.onSuccess = on_connect;
	co.onFailure = on_connect_failure;
	co.context = m;
	co.maxInflight = 65535;
	if (MQTTAsync_connect(m->client, &co) != MQTTASYNC_SUCCESS) {
		fprintf(stderr, PROG ": connect to %s failed\n", uri);
		return -1;
	}
	deadline = mono_ms() + CONNECT_MS;
	while (atomic_load(&m->connected) == 0 && mono_ms() < deadline)
		nap_ms(5);
	if (atomic_load(&m->connected) != 1) {
		fprintf(stderr, PROG ": not connected to %s\n", uri);
		return -1;
	}
	return 0;
}

/* Publishes (or, with remove, empties) the configs of every selected
 * device and property; counts them into *n. */
static int
configs(struct mq *m, const struct opts *o, unsigned props, int remove, unsigned long *n)
{
	char topic[BUILDING_TOPIC_MAX], payload[BUILDING_PAYLOAD_MAX];

	for (unsigned long i = o->from; i < o->from + o->devices; i++) {
		for (int p = 0; p < BUILDING_NPROPS; p++) {
			int len;

			if (!(props & (1u << p)))
				continue;
			len = building_config(o->prefix, o->base, i, p, o->change, topic,
			    sizeof(topic), payload, sizeof(payload));
			if (len < 0) {
				fprintf(stderr, PROG ": device %lu: config too long\n", i);
				return -1;
			}
			if (publish(m, topic, payload, remove ? 0 : len, 1, 1) != 0)
				return -1;
			(*n)++;
		}
	}
	return 0;
}

static int
rounds(struct mq *m, const struct opts *o, const struct building_trace *t, unsigned long *n)
{
	char topic[BUILDING_TOPIC_MAX], name[BUILDING_NAME_MAX], payload[BUILDING_PAYLOAD_MAX];
	long long t0 = mono_ms();

	for (unsigned long r = 0; r < o->rounds && !stopping; r++) {
		if (r > 0 && o->interval > 0) {
			/* Keep to the schedule: a slow round must not stretch the run. */
			long long due = t0 + (long long)(r * o->interval), now = mono_ms();

			if (due > now)
				nap_ms((long)(due - now));
			if (stopping)
				break;
		}
		for (unsigned long i = o->from; i < o->from + o->devices && !stopping; i++) {
			int len = building_state(t, i, r, payload, sizeof(payload));

			building_device_name(i, name, sizeof(name));
			snprintf(topic, sizeof(topic), "%s/%s", o->base, name);
			if (len < 0 ||
			    publish(m, topic, payload, len, (int)o->qos, o->retain_state) != 0)
				return -1;
			(*n)++;
		}
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct opts o = { .base = "zigbee2mqtt",
		.prefix = "homeassistant",
		.data = DEFAULT_DATA,
		.props_list = "all",
		.devices = 200,
		.from = 1,
		.interval = 1000,
		.qos = 1 };
	struct building_trace trace = { NULL, 0 };
	struct mq m = { .client = NULL };
	MQTTAsync_disconnectOptions dopt = MQTTAsync_disconnectOptions_initializer;
	struct sigaction sa;
	unsigned long announced = 0, removed = 0, states = 0;
	unsigned props;
	long long t0;
	char err[512];
	int rc = 1;

	if (parse_args(argc, argv, &o) != 0)
		return 1;
	if (o.help) {
		usage(stdout);
		return 0;
	}
	if (!topic_option_ok(o.prefix) || !topic_option_ok(o.base)) {
		fprintf(stderr, PROG ": --%s: not a plain topic of printable ASCII: `%s'\n",
		    topic_option_ok(o.prefix) ? "base" : "prefix",
		    topic_option_ok(o.prefix) ? o.base : o.prefix);
		return 1;
	}
	if (o.verify)
		return building_verify(o.prefix);
	if (o.from + o.devices - 1 > BUILDING_DEVICE_LAST) {
		fprintf(stderr, PROG ": --devices-from: devices past %d: `%lu'\n",
		    BUILDING_DEVICE_LAST, o.from);
		return 1;
	}
	if (building_props_parse(o.props_list, &props, err, sizeof(err)) != 0) {
		fprintf(stderr, PROG ": --properties: %s\n", err);
		return 1;
	}
	if (o.broker == NULL) {
		fprintf(stderr, PROG ": --broker HOST:PORT is required (--help)\n");
		return 1;
	}
	if (o.rounds > 0) {
		int r = building_trace_load(o.data, &trace, err, sizeof(err));

		if (r == 1) {
			fprintf(stderr,
			    PROG ": skip: no occupancy trace: %s (--data FILE names it)\n", err);
			return EXIT_SKIP;
		}
		if (r != 0) {
			fprintf(stderr, PROG ": --data: %s\n", err);
			return 1;
		}
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (mq_connect(&m, &o) != 0)
		goto out;
	t0 = mono_ms();
	if (o.announce || o.change) {
		char topic[BUILDING_TOPIC_MAX];
		static const char online[] = "{\"state\":\"online\"}";

		/* What every config's availability points to. */
		snprintf(topic, sizeof(topic), "%s/bridge/state", o.base);
		if (publish(&m, topic, online, (int)strlen(online), 1, 1) != 0 ||
		    configs(&m, &o, props, 0, &announced) != 0)
			goto out;
	}
	if (rounds(&m, &o, &trace, &states) != 0)
		goto out;
	if (o.remove && !stopping && configs(&m, &o, props, 1, &removed) != 0)
		goto out;
	if (drain(&m, 0) != 0)
		goto out;
	if (atomic_load(&m.failed) > 0) {
		fprintf(stderr, PROG ": %lu publishes failed\n", atomic_load(&m.failed));
		goto out;
	}
	rc = 0;
	fprintf(stderr,
	    PROG ": announced %lu configs, published %lu states, removed %lu configs%s\n",
	    announced, states, removed, stopping ? " (stopped by a signal)" : "");
	if (o.stats) {
		long long ms = mono_ms() - t0;

		fprintf(stderr,
		    PROG ": stats devices=%lu topics=%lu rounds=%lu configs=%lu states=%lu "
		         "messages=%lu elapsed_ms=%lld messages_per_s=%.0f max_pending=%lu\n",
		    o.devices, o.devices, o.rounds, announced + removed, states, m.sent, ms,
		    ms > 0 ? (double)m.sent * 1000.0 / (double)ms : 0.0, m.max_pending);
	}
out:
	if (m.client != NULL) {
		if (atomic_load(&m.connected) == 1 && !atomic_load(&m.lost)) {
			dopt.timeout = 1000;
			(void)MQTTAsync_disconnect(m.client, &dopt);
			nap_ms(50);
		}
		MQTTAsync_destroy(&m.client);
	}
	building_trace_free(&trace);
	return rc;
}
