/* Test tool: publishes PREFIX1, PREFIX2, ... to an MQTT topic, in order, at a steady rate. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <MQTTAsync.h>

#define WAIT_MS 10000

struct state {
	volatile int connected; /* 1 ok, -1 failed */
	volatile int failed;
};

static void
on_connect(void *ctx, MQTTAsync_successData *r)
{
	struct state *st = ctx;

	(void)r;
	st->connected = 1;
}

static void
on_connect_failure(void *ctx, MQTTAsync_failureData *r)
{
	struct state *st = ctx;

	fprintf(stderr, "tool_publish: connect failed: %d %s\n", r != NULL ? r->code : 0,
	    r != NULL && r->message != NULL ? r->message : "");
	st->connected = -1;
}

static void
on_send_failure(void *ctx, MQTTAsync_failureData *r)
{
	struct state *st = ctx;

	fprintf(stderr, "tool_publish: publish failed: %d\n", r != NULL ? r->code : 0);
	st->failed = 1;
}

static int
msg_arrived(void *ctx, char *topic, int topiclen, MQTTAsync_message *m)
{
	(void)ctx;
	(void)topiclen;
	MQTTAsync_freeMessage(&m);
	MQTTAsync_free(topic);
	return 1;
}

static int
parse_u(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return s[0] < '0' || s[0] > '9' || errno != 0 || *end != '\0' || *out > max ? -1 : 0;
}

static void
sleep_ns(long ns)
{
	struct timespec ts = { ns / 1000000000L, ns % 1000000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

int
main(int argc, char **argv)
{
	MQTTAsync client = NULL;
	MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer;
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	MQTTAsync_disconnectOptions dopt = MQTTAsync_disconnectOptions_initializer;
	MQTTAsync_token *pending = NULL;
	struct state st = { 0, 0 };
	struct timespec t0;
	unsigned long first, count, rate, i, waited;
	char uri[128], id[64], payload[256];
	int rc = 1;

	if (argc != 7 || parse_u(argv[4], 1000000000UL, &first) != 0 ||
	    parse_u(argv[5], 10000000UL, &count) != 0 || parse_u(argv[6], 1000000UL, &rate) != 0) {
		fprintf(stderr,
		    "usage: tool_publish PORT TOPIC PREFIX FIRST COUNT RATE\n"
		    "  publishes PREFIX<FIRST> .. PREFIX<FIRST+COUNT-1> to 127.0.0.1:PORT at\n"
		    "  QoS 1, RATE messages a second (0: as fast as possible), in order\n");
		return 2;
	}
	snprintf(uri, sizeof(uri), "tcp://127.0.0.1:%s", argv[1]);
	snprintf(id, sizeof(id), "tool_publish-%ld", (long)getpid());
	if (MQTTAsync_create(&client, uri, id, MQTTCLIENT_PERSISTENCE_NONE, NULL) !=
	        MQTTASYNC_SUCCESS ||
	    MQTTAsync_setCallbacks(client, &st, NULL, msg_arrived, NULL) != MQTTASYNC_SUCCESS) {
		fprintf(stderr, "tool_publish: cannot create the client\n");
		goto out;
	}
	co.keepAliveInterval = 30;
	co.cleansession = 1;
	co.onSuccess = on_connect;
	co.onFailure = on_connect_failure;
	co.context = &st;
	co.maxInflight = 65535;
	if (MQTTAsync_connect(client, &co) != MQTTASYNC_SUCCESS) {
		fprintf(stderr, "tool_publish: connect to %s failed\n", uri);
		goto out;
	}
	for (waited = 0; st.connected == 0 && waited < WAIT_MS; waited += 5)
		sleep_ns(5000000L);
	if (st.connected != 1) {
		fprintf(stderr, "tool_publish: not connected to %s\n", uri);
		goto out;
	}
	ro.onFailure = on_send_failure;
	ro.context = &st;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < count && !st.failed; i++) {
		int len = snprintf(payload, sizeof(payload), "%s%lu", argv[3], first + i);

		if (rate > 0) {
			/* Keep to the schedule, not to a fixed gap: a slow send
			 * must not stretch the whole run. */
			struct timespec now;
			long long due = (long long)(i * 1000000000ULL / rate), at;

			clock_gettime(CLOCK_MONOTONIC, &now);
			at = (now.tv_sec - t0.tv_sec) * 1000000000LL + (now.tv_nsec - t0.tv_nsec);
			if (due > at)
				sleep_ns((long)(due - at));
		}
		for (waited = 0;; waited++) {
			int r = MQTTAsync_send(client, argv[2], len, payload, 1, 0, &ro);

			if (r == MQTTASYNC_SUCCESS)
				break;
			if (r != MQTTASYNC_MAX_BUFFERED_MESSAGES || waited > WAIT_MS) {
				fprintf(stderr, "tool_publish: send %lu: %d\n", i + 1, r);
				goto out;
			}
			sleep_ns(1000000L);
		}
	}
	/* Done when Paho holds no unacknowledged message. */
	for (waited = 0; waited < WAIT_MS; waited += 5) {
		if (MQTTAsync_getPendingTokens(client, &pending) != MQTTASYNC_SUCCESS)
			break;
		if (pending == NULL || pending[0] == -1)
			break;
		MQTTAsync_free(pending);
		pending = NULL;
		sleep_ns(5000000L);
	}
	if (pending != NULL && pending[0] != -1) {
		fprintf(
		    stderr, "tool_publish: messages still unacknowledged after %d ms\n", WAIT_MS);
		goto out;
	}
	rc = st.failed ? 1 : 0;
out:
	if (pending != NULL)
		MQTTAsync_free(pending);
	if (client != NULL) {
		dopt.timeout = 1000;
		(void)MQTTAsync_disconnect(client, &dopt);
		sleep_ns(50000000L);
		MQTTAsync_destroy(&client);
	}
	return rc;
}
