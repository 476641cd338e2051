/* MQTT adapter on Paho MQTTAsync: samples reach the loop through a bounded queue. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <MQTTAsync.h>
#include <openssl/crypto.h>

#include "mqtt/link.h"
#include "mqtt/mqtt.h"
#include "util/text.h"

#define MQTT_FILTERS_MAX 8192       /* subscriptions per client: 4096 products and more */
#define MQTT_RETAINED_MAX 16        /* topics mqtt_publish_retained() keeps */
#define MQTT_QUEUE_LIMIT (1u << 20) /* largest queue_max we allocate */
#define MQTT_LOG_LINE 512
#define MQTT_PUB_QOS 1 /* status and retained messages */
#define MQTT_CONNECT_TIMEOUT_S 10
#define MQTT_FREE_STOP_MS 1000   /* mqtt_free() without mqtt_stop() */
#define MQTT_SUBACK_FAILURE 0x80 /* MQTT 3.1.1 §3.9.3 */
/* How long a failed TLS connect may spend finding out why (mqtt_probe()),
 * on Paho's thread: Paho does nothing else while we are not connected. */
#define MQTT_PROBE_MS 3000

/*
 * Locking, and why it is safe with Paho as Debian 12 ships it (package
 * 1.3.12-1, whose library calls itself 1.3.11):
 *
 * Paho runs every callback (messageArrived, connected, connectionLost,
 * onSuccess/onFailure, the reconnect hook) holding its one global mutex,
 * and a QoS 1 publish, a subscribe or an unsubscribe from another thread
 * takes that mutex too (measured: such a call waits until a running
 * callback returns). So m->lock is a leaf: we never call Paho, nor the
 * owner's wake/log, while holding it; otherwise the loop (m->lock, then
 * Paho's) and a callback (Paho's, then m->lock) could deadlock. It also
 * means the owner's wake and log run under Paho's mutex: they must be quick
 * and must not call mqtt_stop() or mqtt_free().
 *
 * The same mutex orders our requests. on_connected() marks us connected
 * and copies the wanted filters and retained messages under m->lock, then
 * queues its requests, all without letting go of Paho's mutex. The loop's
 * mqtt_set_filters() and mqtt_publish_retained() change the copy under
 * m->lock and read "connected" in the same critical section: either the
 * callback copies after the change (and sends the new state), or the loop
 * sees "connected" and sends the change itself, which Paho queues after
 * the callback's requests. The broker ends with the newest state; at worst
 * a request goes twice.
 */

/* An owned list of topic filters. */
struct filters {
	size_t n;
	char **v;
};

struct retained {
	char *topic;
	uint8_t *payload;
	size_t len;
};

enum op_kind { OP_SUBSCRIBE, OP_UNSUBSCRIBE, OP_OFFLINE, OP_DISCONNECT };

/*
 * A request whose answer we wait for or report. Linked in m->ops (under
 * m->lock) before Paho sees it; Paho's answer unlinks and frees it, and
 * mqtt_free() frees whatever Paho never answered, after MQTTAsync_destroy(),
 * when no callback can run any more.
 */
struct op {
	struct op *next;
	struct mqtt *m;
	enum op_kind kind;
	struct filters f; /* subscribe/unsubscribe: the filters, for messages */
};

struct mqtt {
	MQTTAsync client;
	char *uri, *client_id, *username, *password;
	char *ca_file, *cert_file, *key_file, *status_topic;
	int qos, persistent, keepalive, tls;
	struct mqtt_callbacks cb;

	pthread_mutex_t lock;
	pthread_cond_t cond; /* a callback finished, or an op completed */
	/* Everything below up to the atomics is under lock. */
	struct mqtt_sample *ring;
	size_t cap, head, count;
	struct filters filters; /* wanted on every connect */
	struct filters unsub;   /* dropped while offline; persistent sessions only */
	struct retained retained[MQTT_RETAINED_MAX];
	size_t nretained;
	struct op *ops;
	int started, stopped, closing, inflight;
	int offline_done, disc_done;
	int just_lost;     /* Paho reports a lost connection twice; see on_connect_failure() */
	unsigned attempts; /* automatic reconnects since the last connect */
	char tls_why[MQTT_WHY_MAX];  /* OpenSSL's reason in this attempt, if any */
	char last_why[MQTT_WHY_MAX]; /* the failure last logged: again only if it changes */

	atomic_int connected;
	_Atomic uint64_t received, dropped;
};

static void mlog(struct mqtt *m, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
mlog(struct mqtt *m, int level, const char *fmt, ...)
{
	char line[MQTT_LOG_LINE];
	va_list ap;

	if (m->cb.log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	m->cb.log(m->cb.arg, level, line);
}

static int64_t
now_ms(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *
dup_or_null(const char *s)
{
	char *d;
	size_t len;

	if (s == NULL || *s == '\0')
		return NULL;
	len = strlen(s);
	d = malloc(len + 1);
	if (d != NULL)
		memcpy(d, s, len + 1);
	return d;
}

static void
free_secret(char *s)
{
	if (s == NULL)
		return;
	OPENSSL_cleanse(s, strlen(s));
	free(s);
}

/* A topic we may publish to: 1..MQTT_TOPIC_MAX bytes, no wildcards. */
static int
topic_name_valid(const char *t)
{
	return t != NULL && mqtt_filter_valid(t) && strpbrk(t, "+#") == NULL;
}

static struct mqtt_tls_files
tls_files(const struct mqtt *m)
{
	struct mqtt_tls_files f = { m->ca_file, m->cert_file, m->key_file };

	return f;
}

/* Takes the OpenSSL reason on_tls_error() kept for this attempt. */
static void
take_tls_why(struct mqtt *m, char *out, size_t outlen)
{
	pthread_mutex_lock(&m->lock);
	snprintf(out, outlen, "%s", m->tls_why);
	m->tls_why[0] = '\0';
	pthread_mutex_unlock(&m->lock);
}

/* Remembers why as the failure last logged; 1 if it is a new one. */
static int
why_is_new(struct mqtt *m, const char *why)
{
	int fresh;

	pthread_mutex_lock(&m->lock);
	fresh = strcmp(m->last_why, why) != 0;
	if (fresh)
		snprintf(m->last_why, sizeof(m->last_why), "%s", why);
	pthread_mutex_unlock(&m->lock);
	return fresh;
}

/* --- filter lists --- */

static void
filters_free(struct filters *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->v[i]);
	free(f->v);
	f->v = NULL;
	f->n = 0;
}

static int
filters_has(const struct filters *f, const char *s)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->v[i], s) == 0)
			return 1;
	return 0;
}

/* Appends a copy of s unless already there; 0 or -1 (out of memory). */
static int
filters_add(struct filters *f, const char *s)
{
	char **v;
	char *d;

	if (filters_has(f, s))
		return 0;
	d = dup_or_null(s);
	if (d == NULL)
		return -1;
	v = realloc(f->v, (f->n + 1) * sizeof(*v));
	if (v == NULL) {
		free(d);
		return -1;
	}
	v[f->n++] = d;
	f->v = v;
	return 0;
}

/* out = the filters of a that b lacks (all of a if b is NULL). */
static int
filters_minus(struct filters *out, const struct filters *a, const struct filters *b)
{
	for (size_t i = 0; i < a->n; i++) {
		if (b != NULL && filters_has(b, a->v[i]))
			continue;
		if (filters_add(out, a->v[i]) != 0)
			goto fail;
	}
	return 0;
fail:
	filters_free(out);
	return -1;
}

/* --- callback gate --- */

/*
 * Every callback that touches the owner enters the gate first. Once
 * mqtt_free() closes it, callbacks return at once, and mqtt_free() waits
 * for those already inside before it frees anything. With Paho's global
 * mutex held around callbacks this is belt and braces, but it keeps our
 * promise (no wake or log after mqtt_free()) independent of Paho internals.
 */
static int
gate_enter(struct mqtt *m)
{
	int open;

	pthread_mutex_lock(&m->lock);
	open = !m->closing;
	if (open)
		m->inflight++;
	pthread_mutex_unlock(&m->lock);
	return open;
}

static void
gate_leave(struct mqtt *m)
{
	pthread_mutex_lock(&m->lock);
	if (--m->inflight == 0)
		pthread_cond_broadcast(&m->cond);
	pthread_mutex_unlock(&m->lock);
}

/* --- requests and their answers --- */

static struct op *
op_new(struct mqtt *m, enum op_kind kind, struct filters *f)
{
	struct op *op = calloc(1, sizeof(*op));

	if (op == NULL)
		return NULL;
	op->m = m;
	op->kind = kind;
	if (f != NULL) { /* takes the list over */
		op->f = *f;
		f->n = 0;
		f->v = NULL;
	}
	pthread_mutex_lock(&m->lock);
	op->next = m->ops;
	m->ops = op;
	pthread_mutex_unlock(&m->lock);
	return op;
}

static void
op_free(struct op *op)
{
	filters_free(&op->f);
	free(op);
}

/* Unlinks op; returns whether the owner may still hear about it. */
static int
op_finish(struct op *op)
{
	struct mqtt *m = op->m;
	struct op **pp;
	int open;

	pthread_mutex_lock(&m->lock);
	for (pp = &m->ops; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == op) {
			*pp = op->next;
			break;
		}
	}
	if (op->kind == OP_OFFLINE)
		m->offline_done = 1;
	if (op->kind == OP_DISCONNECT)
		m->disc_done = 1;
	pthread_cond_broadcast(&m->cond);
	open = !m->closing;
	pthread_mutex_unlock(&m->lock);
	return open;
}

/* The request never reached Paho's queue. */
static void
op_cancel(struct op *op)
{
	op_finish(op);
	op_free(op);
}

static void
on_op_success(void *ctx, MQTTAsync_successData *resp)
{
	struct op *op = ctx;
	struct mqtt *m = op->m;

	if (op_finish(op) && op->kind == OP_SUBSCRIBE) {
		/* MQTT 3.1.1 refuses a filter with 0x80 in the SUBACK; Paho only
		 * calls onFailure for that when one filter was asked for. */
		for (size_t i = 0; i < op->f.n; i++) {
			int granted = -1;

			if (op->f.n == 1)
				granted = resp->alt.qos;
			else if (resp->alt.qosList != NULL)
				granted = resp->alt.qosList[i];
			if (granted == MQTT_SUBACK_FAILURE)
				mlog(m, MQTT_LOG_ERR,
				    "event=subscribe_failed filter=%s reason=\"refused by broker\"",
				    op->f.v[i]);
			else if (granted >= 0 && granted < m->qos)
				mlog(m, MQTT_LOG_WARNING,
				    "event=subscribe_downgraded filter=%s qos=%d granted=%d",
				    op->f.v[i], m->qos, granted);
		}
	}
	op_free(op);
}

/* How loud a failed request is. One cut short by a lost connection or by
 * mqtt_stop() is routine: the next connect repeats it. A refusal is not. */
static int
fail_level(int code)
{
	if (code == MQTT_SUBACK_FAILURE)
		return MQTT_LOG_ERR;
	if (code == MQTTASYNC_OPERATION_INCOMPLETE)
		return MQTT_LOG_DEBUG;
	return MQTT_LOG_WARNING;
}

static void
on_op_failure(void *ctx, MQTTAsync_failureData *resp)
{
	struct op *op = ctx;
	struct mqtt *m = op->m;
	const char *why;

	if (!op_finish(op))
		goto done;
	if (resp->code == MQTT_SUBACK_FAILURE)
		why = "refused by broker";
	else if (resp->message != NULL)
		why = resp->message;
	else
		why = MQTTAsync_strerror(resp->code);
	switch (op->kind) {
	case OP_SUBSCRIBE:
		for (size_t i = 0; i < op->f.n; i++)
			mlog(m, fail_level(resp->code),
			    "event=subscribe_failed filter=%s code=%d reason=\"%s\"", op->f.v[i],
			    resp->code, why);
		break;
	case OP_UNSUBSCRIBE:
		mlog(m, fail_level(resp->code),
		    "event=unsubscribe_failed filters=%zu code=%d reason=\"%s\"", op->f.n,
		    resp->code, why);
		break;
	case OP_OFFLINE:
		mlog(m, MQTT_LOG_WARNING, "event=status_failed code=%d reason=\"%s\"", resp->code,
		    why);
		break;
	case OP_DISCONNECT:
		mlog(m, MQTT_LOG_DEBUG, "event=disconnect_failed code=%d reason=\"%s\"", resp->code,
		    why);
		break;
	}
done:
	op_free(op);
}

/* Queues a subscribe (kind OP_SUBSCRIBE) or unsubscribe for f, which it
 * takes over. Returns Paho's code. */
static int
request_filters(struct mqtt *m, enum op_kind kind, struct filters *f)
{
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	int qos[MQTT_FILTERS_MAX];
	struct op *op;
	int rc;

	if (f->n == 0)
		return MQTTASYNC_SUCCESS;
	op = op_new(m, kind, f);
	if (op == NULL) {
		filters_free(f);
		return MQTTASYNC_FAILURE;
	}
	ro.onSuccess = on_op_success;
	ro.onFailure = on_op_failure;
	ro.context = op;
	if (kind == OP_SUBSCRIBE) {
		for (size_t i = 0; i < op->f.n; i++)
			qos[i] = m->qos;
		rc = MQTTAsync_subscribeMany(m->client, (int)op->f.n, op->f.v, qos, &ro);
	} else {
		rc = MQTTAsync_unsubscribeMany(m->client, (int)op->f.n, op->f.v, &ro);
	}
	if (rc != MQTTASYNC_SUCCESS)
		op_cancel(op);
	return rc;
}

/* Queues a retained QoS 1 publish; Paho copies topic and payload. */
static int
publish(struct mqtt *m, const char *topic, const void *payload, size_t len, struct op *op)
{
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;

	if (op != NULL) {
		ro.onSuccess = on_op_success;
		ro.onFailure = on_op_failure;
		ro.context = op;
	}
	return MQTTAsync_send(m->client, topic, (int)len, payload, MQTT_PUB_QOS, 1, &ro);
}

/* --- Paho callbacks (Paho's thread, Paho's mutex held) --- */

static int
on_message(void *ctx, char *topic, int topic_len, MQTTAsync_message *msg)
{
	struct mqtt *m = ctx;
	struct mqtt_sample s = { 0 };
	size_t tlen, plen;
	int was_empty = 0, queued = 0;

	if (!gate_enter(m))
		goto done;
	atomic_fetch_add(&m->received, 1);
	/* Paho passes 0 when the topic is a plain C string; a positive length
	 * may hide a NUL, which no topic name may hold (§1.5.3). */
	tlen = topic_len > 0 ? (size_t)topic_len : strlen(topic);
	plen = msg->payloadlen > 0 ? (size_t)msg->payloadlen : 0;
	if (tlen == 0 || tlen > MQTT_TOPIC_MAX || memchr(topic, '\0', tlen) != NULL ||
	    plen > MQTT_PAYLOAD_MAX)
		goto leave;
	/* Copy before locking, so the loop never waits for malloc. An empty
	 * payload still gets a buffer: memcpy(dst, NULL, 0) is undefined. */
	s.topic = malloc(tlen + 1);
	s.payload = malloc(plen > 0 ? plen : 1);
	if (s.topic == NULL || s.payload == NULL)
		goto leave;
	memcpy(s.topic, topic, tlen);
	s.topic[tlen] = '\0';
	if (plen > 0)
		memcpy(s.payload, msg->payload, plen);
	s.len = plen;
	s.received_at = now_ms(CLOCK_REALTIME);
	s.retained = msg->retained != 0;

	/*
	 * When full we drop the new sample, not the oldest: the loop drains
	 * in bulk, so a full queue means the loop is stalled, and keeping the
	 * queue untouched keeps FIFO order and the drain code trivial. The
	 * buyers see a gap either way; the dropped counter tells the operator.
	 */
	pthread_mutex_lock(&m->lock);
	if (m->count < m->cap) {
		m->ring[(m->head + m->count) % m->cap] = s;
		was_empty = m->count == 0;
		m->count++;
		queued = 1;
	}
	pthread_mutex_unlock(&m->lock);

	/*
	 * Wake only on the empty -> non-empty edge, so a burst costs one wake.
	 * No wake is lost: emptiness is tested under the same lock that
	 * mqtt_drain() takes, so either the drain that emptied the queue came
	 * first (and we see empty and wake), or it comes later (and takes this
	 * sample). The owner must drain until mqtt_drain() returns less than
	 * it asked for, since samples left behind raise no new wake.
	 */
	if (was_empty && m->cb.wake != NULL)
		m->cb.wake(m->cb.arg);
	/*
	 * A retained message is not dropped: it is the broker's stored state
	 * (Home Assistant discovery configs among them), replayed once per
	 * subscribe in a burst that can outrun the queue, and never sent
	 * again. Returning 0 has Paho hand it over again later (its
	 * MQTTAsync_messageArrived contract), once the loop has drained.
	 */
	if (!queued && s.retained && s.topic != NULL && s.payload != NULL) {
		atomic_fetch_sub(&m->received, 1); /* counted when it comes again */
		free(s.topic);
		free(s.payload);
		gate_leave(m);
		return 0;
	}
leave:
	if (!queued) {
		atomic_fetch_add(&m->dropped, 1);
		free(s.topic);
		free(s.payload);
	}
	gate_leave(m);
done:
	MQTTAsync_freeMessage(&msg);
	MQTTAsync_free(topic);
	return 1;
}

static void
on_connection_lost(void *ctx, char *cause)
{
	struct mqtt *m = ctx;

	if (!gate_enter(m))
		return;
	pthread_mutex_lock(&m->lock);
	m->just_lost = 1;
	pthread_mutex_unlock(&m->lock);
	atomic_store(&m->connected, 0);
	mlog(m, MQTT_LOG_WARNING, "event=connection_lost uri=%s cause=\"%s\" retry=auto", m->uri,
	    cause != NULL ? cause : "unknown");
	gate_leave(m);
}

static void
on_connect_failure(void *ctx, MQTTAsync_failureData *resp)
{
	struct mqtt *m = ctx;
	struct mqtt_tls_files f = tls_files(m);
	char why[MQTT_WHY_MAX], tls_why[MQTT_WHY_MAX];
	int dup;

	if (!gate_enter(m))
		return;
	/*
	 * Paho 1.3.11/12 calls this once in a client's life: for the first
	 * failed attempt, or right after connectionLost for the same event
	 * (then we skip it), and clears it afterwards. Later attempts show up
	 * in on_reconnect() instead.
	 */
	pthread_mutex_lock(&m->lock);
	dup = m->just_lost;
	m->just_lost = 0;
	pthread_mutex_unlock(&m->lock);
	if (dup)
		goto leave;
	/* A TLS failure reaches us as "TCP/TLS connect failure", or as nothing
	 * for a host name the certificate lacks: the probe finds out why. */
	take_tls_why(m, tls_why, sizeof(tls_why));
	mqtt_connect_why(resp->code, resp->message, tls_why, m->uri, &f, m->tls ? MQTT_PROBE_MS : 0,
	    why, sizeof(why));
	(void)why_is_new(m, why);
	mlog(m, MQTT_LOG_WARNING, "event=connect_failed uri=%s code=%d reason=\"%s\" retry=auto",
	    m->uri, resp->code, why);
leave:
	gate_leave(m);
}

/*
 * A TLS retry failed: logs why when the reason is new, so a broker whose
 * certificate names another host costs one line, not one per retry. Paho
 * tells no later failure but the first (on_reconnect() is all we see), so
 * the probe looks; without TLS, Paho's first word was all there was to say.
 */
static void
explain_retry(struct mqtt *m, unsigned attempt)
{
	struct mqtt_tls_files f = tls_files(m);
	char why[MQTT_WHY_MAX], tls_why[MQTT_WHY_MAX];

	take_tls_why(m, tls_why, sizeof(tls_why));
	if (mqtt_probe(m->uri, &f, MQTT_PROBE_MS, why, sizeof(why)) != 1) {
		if (tls_why[0] == '\0')
			return; /* refused after TLS: nothing new below MQTT */
		util_errf(why, sizeof(why), "TLS: %s", tls_why);
	}
	if (why_is_new(m, why))
		mlog(m, MQTT_LOG_WARNING,
		    "event=connect_failed uri=%s reason=\"%s\" retry=auto attempt=%u", m->uri, why,
		    attempt);
}

/* Paho's hook before each automatic reconnect: the one place that sees
 * every retry, since the connect onFailure fires only once. */
static int
on_reconnect(void *ctx, MQTTAsync_connectData *data)
{
	struct mqtt *m = ctx;
	unsigned n;

	(void)data;
	if (!gate_enter(m))
		return 0;
	pthread_mutex_lock(&m->lock);
	n = ++m->attempts;
	m->just_lost = 0;
	pthread_mutex_unlock(&m->lock);
	/* From the second on, the attempt before this one failed. */
	if (m->tls && n > 1)
		explain_retry(m, n - 1);
	mlog(m, MQTT_LOG_INFO, "event=reconnecting uri=%s attempt=%u", m->uri, n);
	gate_leave(m);
	return 0; /* same credentials */
}

/* OpenSSL's error queue, line by line, during a failed TLS handshake: the
 * first reason of an attempt is kept for the failure's log line. */
static int
on_tls_error(const char *str, size_t len, void *ctx)
{
	struct mqtt *m = ctx;
	char reason[MQTT_WHY_MAX];

	if (!gate_enter(m))
		return 0;
	if (mqtt_tls_reason(str, len, reason, sizeof(reason)) > 0) {
		pthread_mutex_lock(&m->lock);
		if (m->tls_why[0] == '\0')
			snprintf(m->tls_why, sizeof(m->tls_why), "%s", reason);
		pthread_mutex_unlock(&m->lock);
	}
	while (len > 0 && (str[len - 1] == '\n' || str[len - 1] == '\r'))
		len--;
	mlog(m, MQTT_LOG_DEBUG, "event=tls_error uri=%s detail=\"%.*s\"", m->uri,
	    (int)(len > 300 ? 300 : len), str);
	gate_leave(m);
	return 0;
}

static void
on_connected(void *ctx, char *cause)
{
	struct mqtt *m = ctx;
	struct retained snap[MQTT_RETAINED_MAX];
	struct filters subs = { 0 }, unsubs = { 0 };
	size_t nsnap = 0;
	int stopped, oom = 0, rc;

	(void)cause;
	if (!gate_enter(m))
		return;
	memset(snap, 0, sizeof(snap));
	pthread_mutex_lock(&m->lock);
	stopped = m->stopped;
	if (!stopped) {
		/* Set before copying, under the lock: see mqtt_set_filters(). */
		atomic_store(&m->connected, 1);
		m->attempts = 0;
		m->just_lost = 0;
		m->last_why[0] = '\0'; /* a later failure is news again */
		m->tls_why[0] = '\0';
		if (filters_minus(&subs, &m->filters, NULL) != 0)
			oom = 1;
		if (m->persistent && filters_minus(&unsubs, &m->unsub, NULL) != 0)
			oom = 1;
		filters_free(&m->unsub); /* a clean session forgot them anyway */
		for (size_t i = 0; i < m->nretained; i++) {
			struct retained *r = &m->retained[i], *c = &snap[nsnap];

			c->topic = dup_or_null(r->topic);
			c->payload = malloc(r->len > 0 ? r->len : 1);
			if (c->topic == NULL || c->payload == NULL) {
				free(c->topic);
				free(c->payload);
				oom = 1;
				continue;
			}
			memcpy(c->payload, r->payload, r->len);
			c->len = r->len;
			nsnap++;
		}
	}
	pthread_mutex_unlock(&m->lock);

	if (stopped) {
		/* A connect that was under way when mqtt_stop() ran: leave again
		 * at once rather than announce ourselves online. */
		MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;

		MQTTAsync_disconnect(m->client, &d);
		goto leave;
	}
	mlog(m, MQTT_LOG_INFO, "event=connected uri=%s client_id=%s filters=%zu", m->uri,
	    m->client_id, subs.n);
	if (oom)
		mlog(m, MQTT_LOG_ERR, "event=resync_incomplete reason=\"out of memory\"");
	rc = request_filters(m, OP_UNSUBSCRIBE, &unsubs);
	if (rc != MQTTASYNC_SUCCESS)
		mlog(m, MQTT_LOG_WARNING, "event=unsubscribe_failed code=%d reason=\"%s\"", rc,
		    MQTTAsync_strerror(rc));
	rc = request_filters(m, OP_SUBSCRIBE, &subs);
	if (rc != MQTTASYNC_SUCCESS)
		mlog(m, MQTT_LOG_ERR, "event=subscribe_failed code=%d reason=\"%s\"", rc,
		    MQTTAsync_strerror(rc));
	/* Republished on every connect: a broker without persistence comes
	 * back from a restart with no retained messages at all. */
	if (m->status_topic != NULL) {
		rc = publish(m, m->status_topic, "online", 6, NULL);
		if (rc != MQTTASYNC_SUCCESS)
			mlog(m, MQTT_LOG_WARNING,
			    "event=publish_failed topic=%s code=%d reason=\"%s\"", m->status_topic,
			    rc, MQTTAsync_strerror(rc));
	}
	for (size_t i = 0; i < nsnap; i++) {
		rc = publish(m, snap[i].topic, snap[i].payload, snap[i].len, NULL);
		if (rc != MQTTASYNC_SUCCESS)
			mlog(m, MQTT_LOG_WARNING,
			    "event=publish_failed topic=%s code=%d reason=\"%s\"", snap[i].topic,
			    rc, MQTTAsync_strerror(rc));
	}
leave:
	for (size_t i = 0; i < nsnap; i++) {
		free(snap[i].topic);
		free(snap[i].payload);
	}
	filters_free(&subs);
	filters_free(&unsubs);
	gate_leave(m);
}

/* --- public API --- */

void
mqtt_sample_free(struct mqtt_sample *s)
{
	if (s == NULL)
		return;
	free(s->topic);
	free(s->payload);
	s->topic = NULL;
	s->payload = NULL;
	s->len = 0;
}

int
mqtt_new(struct mqtt **out, const struct mqtt_config *cfg, const struct mqtt_callbacks *cb,
    char *err, size_t errlen)
{
	MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer;
	pthread_condattr_t ca;
	struct mqtt *m = NULL;
	int tls = 0, rc;

	if (out == NULL || cfg == NULL) {
		util_errf(err, errlen, "no MQTT configuration");
		return -1;
	}
	*out = NULL;
	if (cfg->uri == NULL || mqtt_uri_tls(cfg->uri, &tls) != 0) {
		util_errf(err, errlen,
		    "MQTT URI is not tcp://, mqtt://, ssl:// or mqtts://HOST:PORT: `%s'",
		    cfg->uri != NULL ? cfg->uri : "");
		return -1;
	}
	if (cfg->client_id == NULL || strlen(cfg->client_id) > 256 ||
	    (cfg->client_id[0] == '\0' && cfg->persistent_session)) {
		util_errf(err, errlen,
		    "MQTT client id is missing or too long (a persistent session "
		    "needs one of 1..256 bytes)");
		return -1;
	}
	if (cfg->qos < 0 || cfg->qos > 2) {
		util_errf(err, errlen, "MQTT QoS is not 0, 1 or 2: `%d'", cfg->qos);
		return -1;
	}
	if (cfg->keepalive_s < 0 || cfg->keepalive_s > 65535) {
		util_errf(
		    err, errlen, "MQTT keepalive is not 0..65535 seconds: `%d'", cfg->keepalive_s);
		return -1;
	}
	if (cfg->queue_max == 0 || cfg->queue_max > MQTT_QUEUE_LIMIT) {
		util_errf(err, errlen, "MQTT queue is not 1..%u samples: `%zu'", MQTT_QUEUE_LIMIT,
		    cfg->queue_max);
		return -1;
	}
	if (cfg->status_topic != NULL && cfg->status_topic[0] != '\0' &&
	    !topic_name_valid(cfg->status_topic)) {
		util_errf(err, errlen, "MQTT status topic is not a valid topic name: `%s'",
		    cfg->status_topic);
		return -1;
	}
	if (!tls && ((cfg->ca_file != NULL && cfg->ca_file[0] != '\0') ||
	                (cfg->cert_file != NULL && cfg->cert_file[0] != '\0') ||
	                (cfg->key_file != NULL && cfg->key_file[0] != '\0'))) {
		util_errf(err, errlen,
		    "MQTT TLS files are set but the URI is not ssl:// or mqtts://: `%s'", cfg->uri);
		return -1;
	}

	m = calloc(1, sizeof(*m));
	if (m == NULL) {
		util_errf(err, errlen, "out of memory");
		return -1;
	}
	/* Timed waits use the monotonic clock: a clock step must not cut
	 * mqtt_stop() short or stretch it. */
	if (pthread_mutex_init(&m->lock, NULL) != 0) {
		free(m);
		util_errf(err, errlen, "cannot create a mutex");
		return -1;
	}
	if (pthread_condattr_init(&ca) != 0 ||
	    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&m->cond, &ca) != 0) {
		pthread_mutex_destroy(&m->lock);
		free(m);
		util_errf(err, errlen, "cannot create a condition variable");
		return -1;
	}
	pthread_condattr_destroy(&ca);
	m->tls = tls;
	m->qos = cfg->qos;
	m->persistent = cfg->persistent_session != 0;
	m->keepalive = cfg->keepalive_s;
	if (cb != NULL)
		m->cb = *cb;
	m->uri = dup_or_null(cfg->uri);
	/* An empty client id asks the broker for one (clean sessions only). */
	m->client_id = cfg->client_id[0] != '\0' ? dup_or_null(cfg->client_id) : calloc(1, 1);
	m->username = dup_or_null(cfg->username);
	m->password = dup_or_null(cfg->password);
	m->ca_file = dup_or_null(cfg->ca_file);
	m->cert_file = dup_or_null(cfg->cert_file);
	m->key_file = dup_or_null(cfg->key_file);
	m->status_topic = dup_or_null(cfg->status_topic);
	m->cap = cfg->queue_max;
	m->ring = calloc(m->cap, sizeof(*m->ring));
	if (m->uri == NULL || m->client_id == NULL || m->ring == NULL ||
	    (cfg->username != NULL && cfg->username[0] != '\0' && m->username == NULL) ||
	    (cfg->password != NULL && cfg->password[0] != '\0' && m->password == NULL) ||
	    (cfg->ca_file != NULL && cfg->ca_file[0] != '\0' && m->ca_file == NULL) ||
	    (cfg->cert_file != NULL && cfg->cert_file[0] != '\0' && m->cert_file == NULL) ||
	    (cfg->key_file != NULL && cfg->key_file[0] != '\0' && m->key_file == NULL) ||
	    (cfg->status_topic != NULL && cfg->status_topic[0] != '\0' &&
	        m->status_topic == NULL)) {
		util_errf(err, errlen, "out of memory");
		goto fail;
	}

	/* No Paho persistence: samples are live data, and a restart starts a
	 * clean slate. Paho buffers nothing while offline; retained messages
	 * wait in m->retained instead, and only the newest per topic. */
	co.MQTTVersion = MQTTVERSION_3_1_1;
	co.sendWhileDisconnected = 0;
	rc = MQTTAsync_createWithOptions(
	    &m->client, m->uri, m->client_id, MQTTCLIENT_PERSISTENCE_NONE, NULL, &co);
	if (rc != MQTTASYNC_SUCCESS) {
		m->client = NULL;
		util_errf(err, errlen, "cannot create the MQTT client for `%s': %s", cfg->uri,
		    MQTTAsync_strerror(rc));
		goto fail;
	}
	rc = MQTTAsync_setCallbacks(m->client, m, on_connection_lost, on_message, NULL);
	if (rc == MQTTASYNC_SUCCESS)
		rc = MQTTAsync_setConnected(m->client, m, on_connected);
	if (rc == MQTTASYNC_SUCCESS)
		rc = MQTTAsync_setUpdateConnectOptions(m->client, m, on_reconnect);
	if (rc != MQTTASYNC_SUCCESS) {
		util_errf(err, errlen, "cannot set the MQTT callbacks: %s", MQTTAsync_strerror(rc));
		goto fail;
	}
	*out = m;
	return 0;
fail:
	mqtt_free(m);
	return -1;
}

/* Checks and copies a caller's filter list, dropping repeats. */
static int
filters_from(struct filters *f, const char *const *filters, size_t n, char *err, size_t errlen)
{
	if (n > MQTT_FILTERS_MAX || (n > 0 && filters == NULL)) {
		util_errf(err, errlen, "too many MQTT topic filters: %zu (at most %d)", n,
		    MQTT_FILTERS_MAX);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (!mqtt_filter_valid(filters[i])) {
			util_errf(err, errlen, "not a valid MQTT topic filter: `%.*s'",
			    MQTT_TOPIC_MAX, filters[i] != NULL ? filters[i] : "");
			goto fail;
		}
		if (filters_add(f, filters[i]) != 0) {
			util_errf(err, errlen, "out of memory");
			goto fail;
		}
	}
	return 0;
fail:
	filters_free(f);
	return -1;
}

int
mqtt_start(struct mqtt *m, const char *const *filters, size_t n, char *err, size_t errlen)
{
	MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer;
	MQTTAsync_SSLOptions so = MQTTAsync_SSLOptions_initializer;
	MQTTAsync_willOptions wo = MQTTAsync_willOptions_initializer;
	struct mqtt_tls_files tf;
	struct filters f = { 0 };
	int rc;

	if (m == NULL || m->client == NULL) {
		util_errf(err, errlen, "no MQTT client");
		return -1;
	}
	if (filters_from(&f, filters, n, err, errlen) != 0)
		return -1;
	pthread_mutex_lock(&m->lock);
	if (m->started) {
		pthread_mutex_unlock(&m->lock);
		filters_free(&f);
		util_errf(err, errlen, "the MQTT client was already started");
		return -1;
	}
	m->started = 1;
	filters_free(&m->filters);
	m->filters = f;
	pthread_mutex_unlock(&m->lock);

	co.keepAliveInterval = m->keepalive;
	co.cleansession = !m->persistent;
	co.username = m->username;
	co.password = m->password;
	co.connectTimeout = MQTT_CONNECT_TIMEOUT_S;
	co.MQTTVersion = MQTTVERSION_3_1_1;
	/* Paho retries after 1 s, doubling to 60 s, for the first connect too. */
	co.automaticReconnect = 1;
	co.minRetryInterval = 1;
	co.maxRetryInterval = 60;
	co.onFailure = on_connect_failure;
	co.context = m;
	if (m->status_topic != NULL) {
		wo.topicName = m->status_topic;
		wo.message = "offline";
		wo.retained = 1;
		wo.qos = MQTT_PUB_QOS;
		co.will = &wo;
	}
	if (m->tls) {
		tf = tls_files(m);
		mqtt_tls_options(&so, &tf, on_tls_error, m);
		co.ssl = &so;
	}
	/* Paho copies every option, so the locals may go. */
	rc = MQTTAsync_connect(m->client, &co);
	if (rc != MQTTASYNC_SUCCESS) {
		pthread_mutex_lock(&m->lock);
		m->started = 0;
		pthread_mutex_unlock(&m->lock);
		util_errf(err, errlen, "cannot start connecting to `%s': %s", m->uri,
		    MQTTAsync_strerror(rc));
		return -1;
	}
	return 0;
}

int
mqtt_set_filters(struct mqtt *m, const char *const *filters, size_t n, char *err, size_t errlen)
{
	struct filters f = { 0 }, removed = { 0 }, added = { 0 };
	int connected, rc;

	if (m == NULL) {
		util_errf(err, errlen, "no MQTT client");
		return -1;
	}
	if (filters_from(&f, filters, n, err, errlen) != 0)
		return -1;
	pthread_mutex_lock(&m->lock);
	if (filters_minus(&removed, &m->filters, &f) != 0 ||
	    filters_minus(&added, &f, &m->filters) != 0)
		goto oom;
	/* A persistent session keeps old subscriptions across reconnects:
	 * remember what to unsubscribe on the next connect as well, in case
	 * the request below never reaches the broker. */
	if (m->persistent) {
		struct filters keep = { 0 }, merged = { 0 };

		if (filters_minus(&keep, &m->unsub, &f) != 0)
			goto oom;
		if (filters_minus(&merged, &removed, &keep) != 0) {
			filters_free(&keep);
			goto oom;
		}
		for (size_t i = 0; i < merged.n; i++) {
			if (filters_add(&keep, merged.v[i]) != 0) {
				filters_free(&keep);
				filters_free(&merged);
				goto oom;
			}
		}
		filters_free(&merged);
		filters_free(&m->unsub);
		m->unsub = keep;
	}
	filters_free(&m->filters);
	m->filters = f;
	f.n = 0;
	f.v = NULL;
	/* Read under the lock that on_connected() sets it under: if it is 0
	 * here, that callback has yet to take its copy and will see the new
	 * list. See the locking comment at the top. */
	connected = atomic_load(&m->connected) && !m->stopped;
	pthread_mutex_unlock(&m->lock);

	if (!connected) {
		filters_free(&removed);
		filters_free(&added);
		return 0;
	}
	/* Unsubscribe first: the broker handles requests in order, so a
	 * sample arriving after the new SUBACK no longer matches old filters. */
	rc = request_filters(m, OP_UNSUBSCRIBE, &removed);
	if (rc != MQTTASYNC_SUCCESS && rc != MQTTASYNC_DISCONNECTED) {
		filters_free(&added);
		util_errf(err, errlen, "cannot unsubscribe: %s", MQTTAsync_strerror(rc));
		return -1;
	}
	rc = request_filters(m, OP_SUBSCRIBE, &added);
	if (rc != MQTTASYNC_SUCCESS && rc != MQTTASYNC_DISCONNECTED) {
		util_errf(err, errlen, "cannot subscribe: %s", MQTTAsync_strerror(rc));
		return -1;
	}
	/* MQTTASYNC_DISCONNECTED: the next connect subscribes the new list. */
	return 0;
oom:
	pthread_mutex_unlock(&m->lock);
	filters_free(&f);
	filters_free(&removed);
	filters_free(&added);
	util_errf(err, errlen, "out of memory");
	return -1;
}

/*
 * The wake is edge-triggered (see on_message()): a call that returns max
 * may leave samples behind that no new wake will announce, so the owner
 * calls again until it gets fewer than max.
 */
size_t
mqtt_drain(struct mqtt *m, struct mqtt_sample *out, size_t max)
{
	size_t n;

	if (m == NULL || out == NULL)
		return 0;
	pthread_mutex_lock(&m->lock);
	n = m->count < max ? m->count : max;
	for (size_t i = 0; i < n; i++) {
		out[i] = m->ring[m->head];
		memset(&m->ring[m->head], 0, sizeof(m->ring[m->head]));
		m->head = (m->head + 1) % m->cap;
	}
	m->count -= n;
	pthread_mutex_unlock(&m->lock);
	return n;
}

int
mqtt_publish_retained(struct mqtt *m, const char *topic, const void *payload, size_t len)
{
	struct retained *r = NULL;
	uint8_t *p = NULL;
	char *t = NULL;
	int connected;

	if (m == NULL || !topic_name_valid(topic) || len > MQTT_RETAINED_PAYLOAD_MAX ||
	    (payload == NULL && len > 0))
		return -1;
	p = malloc(len > 0 ? len : 1);
	t = dup_or_null(topic);
	if (p == NULL || t == NULL)
		goto fail;
	if (len > 0)
		memcpy(p, payload, len);
	pthread_mutex_lock(&m->lock);
	for (size_t i = 0; i < m->nretained; i++)
		if (strcmp(m->retained[i].topic, topic) == 0)
			r = &m->retained[i];
	if (r == NULL) {
		if (m->nretained == MQTT_RETAINED_MAX) {
			pthread_mutex_unlock(&m->lock);
			goto fail;
		}
		r = &m->retained[m->nretained++];
		r->topic = t;
		t = NULL;
	}
	free(r->payload);
	r->payload = p;
	r->len = len;
	p = NULL;
	/* As in mqtt_set_filters(): 0 here means on_connected() will copy it. */
	connected = atomic_load(&m->connected) && !m->stopped;
	pthread_mutex_unlock(&m->lock);
	free(t);
	/* Failing now is fine: it stays in m->retained for the next connect. */
	if (connected)
		publish(m, topic, payload, len, NULL);
	return 0;
fail:
	free(p);
	free(t);
	return -1;
}

int
mqtt_connected(const struct mqtt *m)
{
	return m != NULL && atomic_load(&m->connected);
}

uint64_t
mqtt_dropped(const struct mqtt *m)
{
	return m != NULL ? atomic_load(&m->dropped) : 0;
}

uint64_t
mqtt_received(const struct mqtt *m)
{
	return m != NULL ? atomic_load(&m->received) : 0;
}

/* Waits until *flag is set or the monotonic deadline (ms) passes. */
static void
wait_flag(struct mqtt *m, const int *flag, int64_t deadline)
{
	struct timespec ts = { .tv_sec = deadline / 1000, .tv_nsec = (deadline % 1000) * 1000000 };

	pthread_mutex_lock(&m->lock);
	while (!*flag) {
		if (pthread_cond_timedwait(&m->cond, &m->lock, &ts) == ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&m->lock);
}

void
mqtt_stop(struct mqtt *m, int timeout_ms)
{
	MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
	int64_t deadline, left;
	struct op *op;
	int connected, rc;

	if (m == NULL || m->client == NULL)
		return;
	pthread_mutex_lock(&m->lock);
	if (!m->started || m->stopped) {
		m->stopped = 1;
		pthread_mutex_unlock(&m->lock);
		return;
	}
	/* From here on, a late connect leaves at once (on_connected). */
	m->stopped = 1;
	m->offline_done = 0;
	m->disc_done = 0;
	connected = atomic_load(&m->connected);
	pthread_mutex_unlock(&m->lock);
	deadline = now_ms(CLOCK_MONOTONIC) + (timeout_ms > 0 ? timeout_ms : 0);

	/* A clean DISCONNECT suppresses the will, so say "offline" ourselves,
	 * and wait for the PUBACK: a DISCONNECT may overtake a queued publish. */
	if (connected && m->status_topic != NULL) {
		op = op_new(m, OP_OFFLINE, NULL);
		if (op != NULL) {
			rc = publish(m, m->status_topic, "offline", 7, op);
			if (rc == MQTTASYNC_SUCCESS) {
				wait_flag(m, &m->offline_done, deadline);
			} else {
				op_cancel(op);
				mlog(m, MQTT_LOG_WARNING,
				    "event=status_failed code=%d reason=\"%s\"", rc,
				    MQTTAsync_strerror(rc));
			}
		}
	}
	/* Also stops automatic reconnects when we are not connected now. */
	left = deadline - now_ms(CLOCK_MONOTONIC);
	d.timeout = left > 0 ? (int)left : 0;
	op = op_new(m, OP_DISCONNECT, NULL);
	if (op != NULL) {
		d.onSuccess = on_op_success;
		d.onFailure = on_op_failure;
		d.context = op;
	}
	rc = MQTTAsync_disconnect(m->client, &d);
	if (op != NULL && rc == MQTTASYNC_SUCCESS)
		wait_flag(m, &m->disc_done, deadline);
	else if (op != NULL)
		op_cancel(op);
	atomic_store(&m->connected, 0);
	mlog(m, MQTT_LOG_INFO, "event=stopped uri=%s", m->uri);
}

void
mqtt_free(struct mqtt *m)
{
	struct op *op;
	int stop;

	if (m == NULL)
		return;
	if (m->client != NULL) {
		pthread_mutex_lock(&m->lock);
		stop = m->started && !m->stopped;
		pthread_mutex_unlock(&m->lock);
		/* Without this the broker would keep our retained "online". */
		if (stop)
			mqtt_stop(m, MQTT_FREE_STOP_MS);
		pthread_mutex_lock(&m->lock);
		m->closing = 1;
		pthread_mutex_unlock(&m->lock);
		/* Answers still pending come back from here as failures (and
		 * see closing); afterwards Paho calls us no more. */
		MQTTAsync_destroy(&m->client);
	}
	pthread_mutex_lock(&m->lock);
	while (m->inflight > 0)
		pthread_cond_wait(&m->cond, &m->lock);
	pthread_mutex_unlock(&m->lock);

	for (size_t i = 0; i < m->count; i++)
		mqtt_sample_free(&m->ring[(m->head + i) % m->cap]);
	free(m->ring);
	filters_free(&m->filters);
	filters_free(&m->unsub);
	for (size_t i = 0; i < m->nretained; i++) {
		free(m->retained[i].topic);
		free(m->retained[i].payload);
	}
	while (m->ops != NULL) {
		op = m->ops;
		m->ops = op->next;
		op_free(op);
	}
	free(m->uri);
	free(m->client_id);
	free(m->username);
	free_secret(m->password);
	free(m->ca_file);
	free(m->cert_file);
	free(m->key_file);
	free(m->status_topic);
	pthread_cond_destroy(&m->cond);
	pthread_mutex_destroy(&m->lock);
	free(m);
}
