/* Reaching a broker, for the gateway and sdpp buy --mqtt-out: URIs, TLS, login, failure reasons. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "mqtt/link.h"
#include "util/keyfile.h"
#include "util/text.h"

/* The ports Paho assumes when the URI names none. */
#define MQTT_PORT "1883"
#define MQTT_TLS_PORT "8883"

int
mqtt_uri_tls(const char *uri, int *tls)
{
	static const struct {
		const char *prefix;
		int tls;
	} schemes[] = { { "tcp://", 0 }, { "mqtt://", 0 }, { "ssl://", 1 }, { "mqtts://", 1 } };

	for (size_t i = 0; uri != NULL && i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		size_t n = strlen(schemes[i].prefix);

		if (strncmp(uri, schemes[i].prefix, n) == 0 && uri[n] != '\0') {
			*tls = schemes[i].tls;
			return 0;
		}
	}
	return -1;
}

void
mqtt_tls_options(MQTTAsync_SSLOptions *so, const struct mqtt_tls_files *f,
    int (*cb)(const char *str, size_t len, void *ctx), void *ctx)
{
	so->trustStore = f->ca_file; /* NULL: the system store */
	so->keyStore = f->cert_file;
	so->privateKey = f->key_file;
	so->enableServerCertAuth = 1;
	so->verify = 1; /* the certificate must name the host */
	so->ssl_error_cb = cb;
	so->ssl_error_context = ctx;
}

size_t
mqtt_tls_reason(const char *line, size_t len, char *out, size_t outlen)
{
	const char *p = line, *end = line + len, *colon;
	size_t n;

	if (outlen == 0)
		return 0;
	out[0] = '\0';
	/* OpenSSL 3: THREAD:error:CODE:LIBRARY:FUNCTION:REASON:FILE:LINE:DATA. */
	for (int field = 0; field < 5; field++) {
		colon = memchr(p, ':', (size_t)(end - p));
		if (colon == NULL)
			return 0;
		p = colon + 1;
	}
	colon = memchr(p, ':', (size_t)(end - p));
	n = (size_t)((colon != NULL ? colon : end) - p);
	while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r'))
		n--;
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, p, n);
	out[n] = '\0';
	return n;
}

int
mqtt_password_read(const char *path, char *out, size_t cap, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	int rc = -1;

	if (cap > 0)
		out[0] = '\0';
	if (keyfile_read(path, &buf, &len, err, errlen) != 0)
		return -1;
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	if (len >= cap) {
		util_errf(err, errlen, "%s: longer than %zu bytes", path, cap > 0 ? cap - 1 : 0);
		goto done;
	}
	memcpy(out, buf, len);
	out[len] = '\0';
	rc = 0;
done:
	OPENSSL_cleanse(buf, len);
	free(buf);
	return rc;
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
left_ms(int64_t deadline)
{
	int64_t left = deadline - mono_ms();

	return left > 0 ? (int)left : 0;
}

/* HOST[:PORT] of the URI, the port defaulted as Paho does. */
static int
probe_target(const char *uri, struct util_hostport *hp, int *tls, char *why, size_t whylen)
{
	char hostport[UTIL_HOST_MAX + UTIL_PORT_MAX + 4];
	const char *rest;
	size_t n;

	if (mqtt_uri_tls(uri, tls) != 0)
		return util_errf(why, whylen, "not an MQTT URI: `%s'", uri);
	rest = strstr(uri, "://") + 3;
	n = strcspn(rest, "/");
	if (n == 0)
		return util_errf(why, whylen, "no host in `%s'", uri);
	if (n + sizeof(MQTT_TLS_PORT) + 1 > sizeof(hostport))
		return util_errf(why, whylen, "host name too long: `%s'", uri);
	memcpy(hostport, rest, n);
	hostport[n] = '\0';
	/* No port: the name has no colon, or is a bracketed IPv6 address. */
	if (strchr(hostport, ':') == NULL || hostport[n - 1] == ']')
		snprintf(
		    hostport + n, sizeof(hostport) - n, ":%s", *tls ? MQTT_TLS_PORT : MQTT_PORT);
	return util_hostport_split(hp, hostport, 0, why, whylen);
}

/* A TCP connection to hp within the deadline: the descriptor (blocking), or
 * -1 with why. */
static int
probe_connect(const struct util_hostport *hp, int64_t deadline, char *why, size_t whylen)
{
	struct addrinfo hints, *res = NULL, *ai;
	int fd = -1, e = ETIMEDOUT, rc, flags;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(hp->host, hp->port, &hints, &res);
	if (rc != 0)
		return util_errf(why, whylen, "cannot resolve %s: %s", hp->host, gai_strerror(rc));
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		struct pollfd p;
		socklen_t elen = sizeof(e);

		fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (fd < 0) {
			e = errno;
			continue;
		}
		flags = fcntl(fd, F_GETFL);
		if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
			e = errno;
		} else if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			e = 0;
		} else if (errno != EINPROGRESS) {
			e = errno;
		} else {
			p.fd = fd;
			p.events = POLLOUT;
			p.revents = 0;
			rc = poll(&p, 1, left_ms(deadline));
			if (rc == 0)
				e = ETIMEDOUT;
			else if (rc < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen) != 0)
				e = errno;
		}
		if (e == 0 && fcntl(fd, F_SETFL, flags) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		util_errf(
		    why, whylen, "cannot connect to %s:%s: %s", hp->host, hp->port, strerror(e));
	return fd;
}

/* OpenSSL's newest queued reason, or fallback; empties the queue. */
static const char *
ssl_reason(const char *fallback)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e != 0 ? ERR_reason_error_string(e) : NULL;

	ERR_clear_error();
	return r != NULL ? r : fallback;
}

/* The handshake on fd with f's files; 1 with why if it or the server's
 * certificate fails, 0 if both are fine. */
static int
probe_tls(int fd, const struct util_hostport *hp, const struct mqtt_tls_files *f, int64_t deadline,
    char *why, size_t whylen)
{
	int left = left_ms(deadline);
	struct timeval tv = { left / 1000, (left % 1000) * 1000 };
	unsigned char ip[16];
	SSL_CTX *ctx = NULL;
	SSL *ssl = NULL;
	long vr;
	int found = 1, is_ip, named;

	/* A zero timeout would mean none: a connect that used up the deadline
	 * leaves no time for the handshake, rather than all the time there is. */
	if (left == 0) {
		util_errf(
		    why, whylen, "TLS handshake with %s:%s failed: timed out", hp->host, hp->port);
		goto done;
	}
	/* A silent server ends the handshake at the deadline, not never. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0) {
		util_errf(why, whylen, "TLS: %s", strerror(errno));
		goto done;
	}
	ERR_clear_error();
	ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL) {
		util_errf(why, whylen, "TLS: %s", ssl_reason("cannot create a context"));
		goto done;
	}
	if (f != NULL && f->ca_file != NULL) {
		if (SSL_CTX_load_verify_locations(ctx, f->ca_file, NULL) != 1) {
			util_errf(why, whylen, "TLS: CA file %s: %s", f->ca_file,
			    ssl_reason("cannot load it"));
			goto done;
		}
	} else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
		util_errf(
		    why, whylen, "TLS: the system's CA store: %s", ssl_reason("cannot load it"));
		goto done;
	}
	if (f != NULL && f->cert_file != NULL &&
	    (SSL_CTX_use_certificate_chain_file(ctx, f->cert_file) != 1 ||
	        SSL_CTX_use_PrivateKey_file(ctx, f->key_file != NULL ? f->key_file : f->cert_file,
	            SSL_FILETYPE_PEM) != 1)) {
		util_errf(why, whylen, "TLS: client certificate %s: %s", f->cert_file,
		    ssl_reason("cannot load it"));
		goto done;
	}
	/* Verify, but finish the handshake: the result is read afterwards. */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	ssl = SSL_new(ctx);
	if (ssl == NULL || SSL_set_fd(ssl, fd) != 1) {
		util_errf(why, whylen, "TLS: %s", ssl_reason("cannot create a connection"));
		goto done;
	}
	/* The name check Paho's verify makes (X509_check_host, then _ip_asc). */
	is_ip = inet_pton(AF_INET, hp->host, ip) == 1 || inet_pton(AF_INET6, hp->host, ip) == 1;
	if (is_ip)
		named = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), hp->host) == 1;
	else
		named = SSL_set_tlsext_host_name(ssl, hp->host) == 1 &&
		        SSL_set1_host(ssl, hp->host) == 1;
	if (!named) {
		util_errf(why, whylen, "TLS: %s", ssl_reason("cannot set the host name"));
		goto done;
	}
	if (SSL_connect(ssl) != 1) {
		util_errf(why, whylen, "TLS handshake with %s:%s failed: %s", hp->host, hp->port,
		    ssl_reason(errno == EAGAIN || errno == EWOULDBLOCK ? "timed out"
		                                                       : "connection closed"));
		goto done;
	}
	vr = SSL_get_verify_result(ssl);
	if (vr != X509_V_OK) {
		util_errf(why, whylen, "TLS: certificate verify failed: %s",
		    X509_verify_cert_error_string(vr));
		goto done;
	}
	found = 0;
done:
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return found;
}

int
mqtt_probe(
    const char *uri, const struct mqtt_tls_files *f, int timeout_ms, char *why, size_t whylen)
{
	int64_t deadline = mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	struct util_hostport hp;
	int fd, tls = 0, found;

	if (probe_target(uri, &hp, &tls, why, whylen) != 0)
		return 1;
	fd = probe_connect(&hp, deadline, why, whylen);
	if (fd < 0)
		return 1;
	found = tls ? probe_tls(fd, &hp, f, deadline, why, whylen) : 0;
	close(fd);
	return found;
}

const char *
mqtt_connect_why(int code, const char *message, const char *tls_reason, const char *uri,
    const struct mqtt_tls_files *f, int probe_ms, char *why, size_t whylen)
{
	/* MQTT 3.1.1 §3.2.2.3; Paho passes the CONNACK's code as the failure's. */
	static const char *const connack[] = { "", "unacceptable protocol version",
		"client identifier rejected", "server unavailable", "bad user name or password",
		"not authorized" };

	if (code > 0 && code <= 5) {
		util_errf(
		    why, whylen, "refused by the broker: %s (CONNACK %d)", connack[code], code);
		return why;
	}
	/* Paho's own words come last: "TCP/TLS connect failure" says little. */
	if (probe_ms > 0 && mqtt_probe(uri, f, probe_ms, why, whylen) == 1)
		return why;
	if (tls_reason != NULL && tls_reason[0] != '\0')
		util_errf(why, whylen, "TLS: %s", tls_reason);
	else
		util_errf(why, whylen, "%s", message != NULL ? message : MQTTAsync_strerror(code));
	return why;
}
