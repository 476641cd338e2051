/* Republishing bought samples into the buyer's own MQTT broker (sdpp buy --mqtt-out). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <MQTTAsync.h>

#include "cli/mqtt_out.h"

#define CONNECT_WAIT_MS 10000
#define DRAIN_WAIT_MS 5000

struct mqtt_out {
	MQTTAsync client;
	int qos;
	volatile int state; /* 0 connecting, 1 connected, -1 failed */
	volatile int lost;
};

static void
on_connect(void *ctx, MQTTAsync_successData *d)
{
	(void)d;
	((struct mqtt_out *)ctx)->state = 1;
}

static void
on_connect_fail(void *ctx, MQTTAsync_failureData *d)
{
	(void)d;
	((struct mqtt_out *)ctx)->state = -1;
}

static void
on_lost(void *ctx, char *cause)
{
	(void)cause;
	((struct mqtt_out *)ctx)->lost = 1;
}

static int
on_message(void *ctx, char *topic, int len, MQTTAsync_message *m)
{
	(void)ctx;
	(void)len;
	MQTTAsync_freeMessage(&m);
	MQTTAsync_free(topic);
	return 1;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

struct mqtt_out *
mqtt_out_open(const char *uri, int qos, char *err, size_t errlen)
{
	MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer;
	struct mqtt_out *o = calloc(1, sizeof(*o));
	char id[64];
	int waited = 0, rc;

	if (o == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	o->qos = qos;
	snprintf(id, sizeof(id), "sdpp-buy-%ld", (long)getpid());
	rc = MQTTAsync_create(&o->client, uri, id, MQTTCLIENT_PERSISTENCE_NONE, NULL);
	if (rc != MQTTASYNC_SUCCESS) {
		snprintf(err, errlen, "`%s': %s", uri, MQTTAsync_strerror(rc));
		free(o);
		return NULL;
	}
	MQTTAsync_setCallbacks(o->client, o, on_lost, on_message, NULL);
	co.keepAliveInterval = 30;
	co.cleansession = 1;
	co.automaticReconnect = 1;
	co.onSuccess = on_connect;
	co.onFailure = on_connect_fail;
	co.context = o;
	rc = MQTTAsync_connect(o->client, &co);
	while (rc == MQTTASYNC_SUCCESS && o->state == 0 && waited < CONNECT_WAIT_MS) {
		sleep_ms(10);
		waited += 10;
	}
	if (rc != MQTTASYNC_SUCCESS || o->state != 1) {
		snprintf(err, errlen, "`%s': cannot connect", uri);
		MQTTAsync_destroy(&o->client);
		free(o);
		return NULL;
	}
	return o;
}

int
mqtt_out_publish(struct mqtt_out *o, const char *topic, const uint8_t *payload, size_t len)
{
	if (len > 268435455)
		return -1;
	return MQTTAsync_send(o->client, topic, (int)len, (void *)(uintptr_t)payload, o->qos, 0,
	           NULL) == MQTTASYNC_SUCCESS
	           ? 0
	           : -1;
}

void
mqtt_out_close(struct mqtt_out *o)
{
	MQTTAsync_disconnectOptions dc = MQTTAsync_disconnectOptions_initializer;
	MQTTAsync_token *pending = NULL;
	int waited = 0;

	if (o == NULL)
		return;
	/* Let queued publishes leave before disconnecting. */
	while (waited < DRAIN_WAIT_MS &&
	       MQTTAsync_getPendingTokens(o->client, &pending) == MQTTASYNC_SUCCESS &&
	       pending != NULL && pending[0] != -1) {
		MQTTAsync_free(pending);
		pending = NULL;
		sleep_ms(10);
		waited += 10;
	}
	MQTTAsync_free(pending);
	dc.timeout = 1000;
	(void)MQTTAsync_disconnect(o->client, &dc);
	sleep_ms(50);
	MQTTAsync_destroy(&o->client);
	free(o);
}
