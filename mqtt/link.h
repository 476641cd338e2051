/* Reaching a broker, for the gateway and sdpp buy --mqtt-out: URIs, TLS, login, failure reasons. */
#ifndef MQTT_LINK_H
#define MQTT_LINK_H

#include <stddef.h>

#include <MQTTAsync.h>

/* Longest password a password file may hold. */
#define MQTT_PASSWORD_MAX 1024
/* Room for a reason from mqtt_connect_why(). */
#define MQTT_WHY_MAX 256

/* The TLS files of a connection; NULL members are unset. */
struct mqtt_tls_files {
	const char *ca_file;   /* NULL: the system store */
	const char *cert_file; /* client certificate, optional */
	const char *key_file;  /* its key; NULL: in cert_file */
};

/* 0 with *tls set for tcp://, mqtt:// (0), ssl:// or mqtts:// (1) followed
 * by something; -1 for anything else. */
int mqtt_uri_tls(const char *uri, int *tls) __attribute__((warn_unused_result));

/*
 * Fills Paho's TLS options as both clients use them: the server's chain is
 * verified against f->ca_file (or the system store) and its certificate must
 * name the host of the URI; OpenSSL's error lines go to cb(ctx). so keeps
 * pointers to f's strings, which must outlive the connect call.
 */
void mqtt_tls_options(MQTTAsync_SSLOptions *so, const struct mqtt_tls_files *f,
    int (*cb)(const char *str, size_t len, void *ctx), void *ctx);

/*
 * OpenSSL's reason in one line of its error queue as Paho's ssl_error_cb gets
 * it ("...:error:0A000086:SSL routines:FUNC:certificate verify failed:FILE:
 * LINE:"), copied into out (cut to outlen). Returns its length, 0 if the line
 * has none.
 */
size_t mqtt_tls_reason(const char *line, size_t len, char *out, size_t outlen);

/*
 * Reads the password from a secret file (mode 0600 or stricter, as
 * keyfile_read() wants), without its trailing newline, into out (cap
 * bytes with the NUL). 0, or -1 with err ("PATH: reason"). The caller
 * wipes out when done.
 */
int mqtt_password_read(const char *path, char *out, size_t cap, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/*
 * Why a connect failed, in words, into why: a CONNACK refusal (code 1..5)
 * by name; otherwise, if probe_ms > 0, what connecting to the URI ourselves
 * shows (mqtt_probe()); otherwise tls_reason (from mqtt_tls_reason(), may be
 * NULL or ""), then Paho's message, then Paho's string for code. Blocks up to
 * probe_ms. Returns why.
 */
const char *mqtt_connect_why(int code, const char *message, const char *tls_reason, const char *uri,
    const struct mqtt_tls_files *f, int probe_ms, char *why, size_t whylen);

/*
 * Connects to the URI's host and port as Paho would, within timeout_ms, and,
 * for ssl:// and mqtts://, shakes hands with f's files and checks the
 * server's chain and name the way Paho's verify does, but keeps going to
 * read OpenSSL's verify result (Paho only reports a "TCP/TLS connect
 * failure", and nothing at all for a host name its certificate lacks).
 * Returns 1 with why ("cannot connect to localhost:1883: Connection refused",
 * "TLS: certificate verify failed: hostname mismatch"), or 0 if it found
 * nothing wrong below MQTT. Sends no MQTT. Paho ignores SIGPIPE for the
 * process once a client exists; call it after that.
 */
int mqtt_probe(
    const char *uri, const struct mqtt_tls_files *f, int timeout_ms, char *why, size_t whylen);

#endif
