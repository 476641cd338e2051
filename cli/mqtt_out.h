/* Republishing bought samples into the buyer's own MQTT broker (sdpp buy --mqtt-out). */
#ifndef CLI_MQTT_OUT_H
#define CLI_MQTT_OUT_H

#include <stddef.h>
#include <stdint.h>

struct mqtt_out;

/* How to log in to the broker; NULL members are unset. */
struct mqtt_out_login {
	const char *username;
	const char *password_file; /* never the password itself: argv is public */
	const char *ca_file;       /* ssl:// and mqtts:// only; NULL: the system store */
	const char *cert_file;     /* client certificate, optional */
	const char *key_file;      /* its key; NULL: in cert_file */
};

/* Connects (waiting at most 10 s); NULL with err saying why on failure
 * (refused by the broker, TLS verify failed and OpenSSL's reason, cannot
 * connect). login may be NULL. */
/* What can be checked before connecting: the URI and the login options
 * fit (2 if not: a usage error) and the password file reads (1 if not).
 * 0, or the status with err. */
int mqtt_out_check(const char *uri, const struct mqtt_out_login *login, char *err, size_t errlen);
struct mqtt_out *mqtt_out_open(
    const char *uri, int qos, const struct mqtt_out_login *login, char *err, size_t errlen);
/* Queues one publish; 0 or -1. */
int mqtt_out_publish(struct mqtt_out *o, const char *topic, const uint8_t *payload, size_t len);
/* Waits for queued messages (at most 5 s), disconnects, frees. NULL-safe. */
void mqtt_out_close(struct mqtt_out *o);

#endif
