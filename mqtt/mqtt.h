/* MQTT adapter on Eclipse Paho (async): samples in through a bounded queue, menu and status out. */
#ifndef MQTT_MQTT_H
#define MQTT_MQTT_H

#include <stddef.h>
#include <stdint.h>

#define MQTT_TOPIC_MAX 1024
#define MQTT_PAYLOAD_MAX (256u * 1024) /* larger samples are dropped and counted */
/* Our own retained messages: a signed menu of 4096 products fits. */
#define MQTT_RETAINED_PAYLOAD_MAX (16u * 1024 * 1024)

struct mqtt_config {
	const char *uri; /* tcp://host:port, ssl://host:port (mqtts:// too) */
	const char *client_id;
	const char *username;  /* NULL or "" for none */
	const char *password;  /* read from the password file by the caller */
	const char *ca_file;   /* TLS: NULL for the system store */
	const char *cert_file; /* TLS client certificate, optional */
	const char *key_file;
	int qos;                /* of subscriptions, 0..2 */
	int persistent_session; /* cleansession = 0 */
	int keepalive_s;
	size_t queue_max;         /* samples waiting for the loop; more are dropped */
	const char *status_topic; /* retained "online"/"offline", last will "offline"; NULL: none */
};

/* One received message, owned by the caller after mqtt_drain() (mqtt_sample_free()). */
struct mqtt_sample {
	char *topic;
	uint8_t *payload;
	size_t len;
	int64_t received_at; /* ms since the epoch, when Paho handed it over */
	int retained;        /* the broker's stored last value, replayed on (re)subscribe */
};

void mqtt_sample_free(struct mqtt_sample *s);

/* Log levels for the callback below (same numbers as syslog). */
enum { MQTT_LOG_ERR = 3, MQTT_LOG_WARNING = 4, MQTT_LOG_INFO = 6, MQTT_LOG_DEBUG = 7 };

struct mqtt_callbacks {
	/* Called from Paho's thread (holding Paho's lock) when the queue went
	 * from empty to non-empty: must only wake the owner's loop (e.g.
	 * event_active on a pthreads-enabled base), never call mqtt_stop() or
	 * mqtt_free(). */
	void (*wake)(void *arg);
	/* Connection events and errors, from Paho's thread; the module itself
	 * never logs. May be NULL. */
	void (*log)(void *arg, int level, const char *msg);
	void *arg;
};

struct mqtt;

/* Creates the client (no network yet); 0 or -1 with err. Copies cfg. */
int mqtt_new(struct mqtt **out, const struct mqtt_config *cfg, const struct mqtt_callbacks *cb,
    char *err, size_t errlen);

/*
 * Connects in the background and subscribes to filters (copied) on every
 * (re)connect; reconnects automatically with backoff 1 s doubling to 60 s.
 * Returns 0 if the attempt started, -1 with err for bad arguments.
 */
int mqtt_start(struct mqtt *m, const char *const *filters, size_t n, char *err, size_t errlen);

/* Replaces the subscriptions (config reload): unsubscribes the old filters
 * no longer wanted, subscribes the new ones. */
int mqtt_set_filters(
    struct mqtt *m, const char *const *filters, size_t n, char *err, size_t errlen);

/* Moves up to max queued samples into out; returns how many. Loop thread.
 * Call again until it returns less than max: samples left behind raise no
 * new wake. */
size_t mqtt_drain(struct mqtt *m, struct mqtt_sample *out, size_t max);

/* Publishes a retained message (menu, status) now or on the next connect. */
int mqtt_publish_retained(struct mqtt *m, const char *topic, const void *payload, size_t len);

int mqtt_connected(const struct mqtt *m);
/* Samples dropped because the queue was full or they were too large. */
uint64_t mqtt_dropped(const struct mqtt *m);
/* Samples Paho handed over in total, dropped ones included. */
uint64_t mqtt_received(const struct mqtt *m);

/* Publishes "offline" to the status topic, disconnects (waits at most
 * timeout_ms), and stops reconnecting. */
void mqtt_stop(struct mqtt *m, int timeout_ms);
void mqtt_free(struct mqtt *m);

/* 1 if topic matches filter under MQTT 3.1.1 rules (+, # and $-topics). */
int mqtt_topic_match(const char *filter, const char *topic);
/* The same for a filter known valid (mqtt_filter_valid()) and a topic
 * known non-empty and free of wildcards: the checks are the caller's, done
 * once, not per match (the daemon matches every sample against its feeds). */
int mqtt_topic_match_checked(const char *filter, const char *topic);
/* 1 if filter is a valid subscription filter (wildcards placed correctly,
 * 1..MQTT_TOPIC_MAX bytes, no NUL). */
int mqtt_filter_valid(const char *filter);
/* 1 if both filters are valid and every topic inner matches, outer
 * matches too (a buyer narrowing a product to part of its filter). */
int mqtt_filter_within(const char *inner, const char *outer);

#endif
