/* Republishing bought samples into the buyer's own MQTT broker (sdpp buy --mqtt-out). */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <MQTTAsync.h>

#include <openssl/crypto.h>

#include "cli/mqtt_out.h"
#include "mqtt/link.h"
#include "util/text.h"

#define CONNECT_WAIT_MS 10000
#define DRAIN_WAIT_MS 5000
#define PROBE_MS 5000 /* finding out why a connect failed */

struct mqtt_out {
	MQTTAsync client;
	int qos;
	/* Written by Paho's thread before state leaves 0, read after. */
	int code;                   /* of the failed connect */
	char message[128];          /* Paho's words for it */
	char tls_why[MQTT_WHY_MAX]; /* OpenSSL's first reason */
	atomic_int state;           /* 0 connecting, 1 connected, -1 failed */
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
	struct mqtt_out *o = ctx;

	o->code = d != NULL ? d->code : MQTTASYNC_FAILURE;
	if (d != NULL && d->message != NULL)
		snprintf(o->message, sizeof(o->message), "%s", d->message);
	atomic_store(&o->state, -1);
}

/* OpenSSL's error lines while connecting; the first reason is kept. */
static int
on_tls_error(const char *str, size_t len, void *ctx)
{
	struct mqtt_out *o = ctx;

	if (atomic_load(&o->state) == 0 && o->tls_why[0] == '\0')
		(void)mqtt_tls_reason(str, len, o->tls_why, sizeof(o->tls_why));
	return 0;
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

/* The login's files and name fit the URI: TLS files only with TLS, a
 * password only with a user name. 0 or -1 with err. */
static int
login_check(const char *uri, const struct mqtt_out_login *l, int *tls, char *err, size_t errlen)
{
	if (mqtt_uri_tls(uri, tls) != 0)
		return util_errf(
		    err, errlen, "`%s' is not tcp://, mqtt://, ssl:// or mqtts://HOST:PORT", uri);
	if (!*tls && (l->ca_file != NULL || l->cert_file != NULL || l->key_file != NULL))
		return util_errf(err, errlen,
		    "--mqtt-cafile, --mqtt-cert and --mqtt-key need an ssl:// or mqtts:// URI, "
		    "not `%s'",
		    uri);
	if (l->key_file != NULL && l->cert_file == NULL)
		return util_errf(err, errlen, "--mqtt-key needs --mqtt-cert");
	if (l->password_file != NULL && l->username == NULL)
		return util_errf(err, errlen, "--mqtt-password-file needs --mqtt-username");
	return 0;
}

int
mqtt_out_check(const char *uri, const struct mqtt_out_login *login, char *err, size_t errlen)
{
	static const struct mqtt_out_login none;
	const struct mqtt_out_login *l = login != NULL ? login : &none;
	char password[MQTT_PASSWORD_MAX];
	int tls, rc = 0;

	if (login_check(uri, l, &tls, err, errlen) != 0)
		return 2;
	if (l->password_file != NULL &&
	    mqtt_password_read(l->password_file, password, sizeof(password), err, errlen) != 0)
		rc = 1;
	OPENSSL_cleanse(password, sizeof(password));
	return rc;
}

struct mqtt_out *
mqtt_out_open(
    const char *uri, int qos, const struct mqtt_out_login *login, char *err, size_t errlen)
{
	static const struct mqtt_out_login none;
	MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer;
	MQTTAsync_SSLOptions so = MQTTAsync_SSLOptions_initializer;
	const struct mqtt_out_login *l = login != NULL ? login : &none;
	struct mqtt_tls_files tf = { l->ca_file, l->cert_file, l->key_file };
	struct mqtt_out *o = NULL;
	char id[64], password[MQTT_PASSWORD_MAX], why[MQTT_WHY_MAX];
	int waited = 0, tls = 0, rc;

	password[0] = '\0';
	if (login_check(uri, l, &tls, err, errlen) != 0)
		goto fail;
	if (l->password_file != NULL &&
	    mqtt_password_read(l->password_file, password, sizeof(password), err, errlen) != 0)
		goto fail;
	o = calloc(1, sizeof(*o));
	if (o == NULL) {
		util_errf(err, errlen, "out of memory");
		goto fail;
	}
	o->qos = qos;
	snprintf(id, sizeof(id), "sdpp-buy-%ld", (long)getpid());
	rc = MQTTAsync_create(&o->client, uri, id, MQTTCLIENT_PERSISTENCE_NONE, NULL);
	if (rc != MQTTASYNC_SUCCESS) {
		util_errf(err, errlen, "`%s': %s", uri, MQTTAsync_strerror(rc));
		o->client = NULL;
		goto fail;
	}
	MQTTAsync_setCallbacks(o->client, o, on_lost, on_message, NULL);
	co.keepAliveInterval = 30;
	co.cleansession = 1;
	co.automaticReconnect = 1;
	co.username = l->username;
	co.password = password[0] != '\0' ? password : NULL;
	co.onSuccess = on_connect;
	co.onFailure = on_connect_fail;
	co.context = o;
	if (tls) {
		mqtt_tls_options(&so, &tf, on_tls_error, o);
		co.ssl = &so;
	}
	/* Paho keeps its own copy of the login for reconnects. */
	rc = MQTTAsync_connect(o->client, &co);
	OPENSSL_cleanse(password, sizeof(password));
	while (rc == MQTTASYNC_SUCCESS && atomic_load(&o->state) == 0 && waited < CONNECT_WAIT_MS) {
		sleep_ms(10);
		waited += 10;
	}
	if (rc != MQTTASYNC_SUCCESS) {
		util_errf(err, errlen, "`%s': %s", uri, MQTTAsync_strerror(rc));
		goto fail;
	}
	if (atomic_load(&o->state) == 0) {
		util_errf(err, errlen, "`%s': no answer within %d s", uri, CONNECT_WAIT_MS / 1000);
		goto fail;
	}
	if (atomic_load(&o->state) != 1) {
		/* Stop Paho's retries first: the probe then has the broker to itself. */
		MQTTAsync_destroy(&o->client);
		mqtt_connect_why(o->code, o->message[0] != '\0' ? o->message : NULL, o->tls_why,
		    uri, &tf, PROBE_MS, why, sizeof(why));
		util_errf(err, errlen, "`%s': %s", uri, why);
		goto fail;
	}
	return o;
fail:
	OPENSSL_cleanse(password, sizeof(password));
	if (o != NULL && o->client != NULL)
		MQTTAsync_destroy(&o->client);
	free(o);
	return NULL;
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
