/* The buyer's side of the wire: connect to a gateway, move frames between socket and session. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "cli/net.h"
#include "util/text.h"

/* poll() on one descriptor that a signal does not cut short: Ctrl-C only
 * sets sdpp buy's flag, and the write or handshake under way must finish
 * (or time out) before the settlement it starts can be sent. */
static int
net_poll(struct pollfd *p, int timeout_ms)
{
	int r;

	do
		r = poll(p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	return r;
}

int
net_connect(const char *hostport, int timeout_ms, char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL, *ai;
	struct util_hostport hp;
	int fd = -1, rc, one = 1;

	if (util_hostport_split(&hp, hostport, 0, err, errlen) != 0)
		return -1;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	rc = getaddrinfo(hp.host, hp.port, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "%s: %s", hostport, gai_strerror(rc));
		return -1;
	}
	snprintf(err, errlen, "%s: cannot connect", hostport);
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		struct pollfd p;
		int soerr = 0;
		socklen_t sl = sizeof(soerr);

		fd = socket(
		    ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS)
			goto next;
		p.fd = fd;
		p.events = POLLOUT;
		if (net_poll(&p, timeout_ms) != 1 ||
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0) {
			snprintf(err, errlen, "%s: %s", hostport,
			    soerr != 0 ? strerror(soerr) : "connection timed out");
			goto next;
		}
		/* Receipts and payments are small: send them at once. */
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
		freeaddrinfo(res);
		return fd;
	next:
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return -1;
}

int
net_write_all(int fd, const char *buf, size_t len, int timeout_ms)
{
	struct pollfd p = { fd, POLLOUT, 0 };
	ssize_t n;

	while (len > 0) {
		n = write(fd, buf, len);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			/* The seller is not reading: a bounded wait, then give up. */
			if (net_poll(&p, timeout_ms) == 1)
				continue;
			errno = ETIMEDOUT;
		}
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ TLS */

struct net_tls {
	SSL_CTX *ctx;
	SSL *ssl;
	int fd;    /* borrowed: the caller closes it */
	int first; /* the seller's first byte, -1 before any */
};

/* Notes the seller's first byte: not a TLS record type (0x14-0x17)
 * means the seller does not speak TLS at all. */
static long
tls_bio_cb(
    BIO *b, int oper, const char *argp, size_t len, int argi, long argl, int ret, size_t *processed)
{
	struct net_tls *t = (struct net_tls *)BIO_get_callback_arg(b);

	(void)len;
	(void)argi;
	(void)argl;
	if (oper == (BIO_CB_READ | BIO_CB_RETURN) && ret > 0 && processed != NULL &&
	    *processed > 0 && t != NULL && t->first < 0)
		t->first = (unsigned char)argp[0];
	return ret;
}

/* Why the handshake failed, in words a buyer can act on. */
static void
tls_explain(struct net_tls *t, int rc, char *err, size_t errlen)
{
	long v = SSL_get_verify_result(t->ssl);
	unsigned long e = ERR_peek_error();
	int se = SSL_get_error(t->ssl, rc);

	if (t->first >= 0 && (t->first < 0x14 || t->first > 0x17))
		snprintf(err, errlen,
		    "TLS: the seller does not speak TLS (connect without tls:// "
		    "or --tls)");
	else if (v != X509_V_OK)
		snprintf(err, errlen, "TLS: certificate verify failed: %s",
		    X509_verify_cert_error_string(v));
	else if (e != 0 && ERR_GET_REASON(e) != SSL_R_UNEXPECTED_EOF_WHILE_READING &&
	         ERR_reason_error_string(e) != NULL)
		snprintf(err, errlen, "TLS: handshake failed: %s", ERR_reason_error_string(e));
	else if (t->first < 0 || se == SSL_ERROR_SYSCALL || se == SSL_ERROR_ZERO_RETURN || e != 0)
		snprintf(err, errlen, "TLS: the seller closed the connection during the handshake");
	else
		snprintf(err, errlen, "TLS: handshake failed");
	ERR_clear_error();
}

/* Waits for what SSL asked for (rc from an SSL call) up to timeout_ms:
 * 1 ready, 0 timed out, -1 not a wait. */
static int
tls_wait(struct net_tls *t, int rc, int timeout_ms)
{
	struct pollfd p = { t->fd, 0, 0 };

	switch (SSL_get_error(t->ssl, rc)) {
	case SSL_ERROR_WANT_READ:
		p.events = POLLIN;
		break;
	case SSL_ERROR_WANT_WRITE:
		p.events = POLLOUT;
		break;
	default:
		return -1;
	}
	return net_poll(&p, timeout_ms) == 1 ? 1 : 0;
}

struct net_tls *
net_tls_connect(
    int fd, const char *host, const char *cafile, int timeout_ms, char *err, size_t errlen)
{
	static const unsigned char alpn[] = "\x06sdpp/1";
	struct net_tls *t = calloc(1, sizeof(*t));
	struct in6_addr ip;
	int rc, ok;

	ERR_clear_error();
	if (t == NULL) {
		snprintf(err, errlen, "TLS: out of memory");
		return NULL;
	}
	/* OpenSSL writes with write(2): a seller that closed the socket must
	 * be an error we report, not a SIGPIPE that kills us silently. */
	(void)signal(SIGPIPE, SIG_IGN);
	t->fd = fd;
	t->first = -1;
	t->ctx = SSL_CTX_new(TLS_client_method());
	if (t->ctx == NULL || SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION) != 1) {
		snprintf(err, errlen, "TLS: cannot make a context");
		goto fail;
	}
	SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
	ok = cafile != NULL ? SSL_CTX_load_verify_locations(t->ctx, cafile, NULL)
	                    : SSL_CTX_set_default_verify_paths(t->ctx);
	if (ok != 1) {
		unsigned long e = ERR_peek_error();

		snprintf(err, errlen, "TLS: %s: %s", cafile != NULL ? cafile : "the system store",
		    e != 0 && ERR_reason_error_string(e) != NULL ? ERR_reason_error_string(e)
		                                                 : "cannot load");
		goto fail;
	}
	t->ssl = SSL_new(t->ctx);
	if (t->ssl == NULL || SSL_set_fd(t->ssl, fd) != 1 ||
	    SSL_set_alpn_protos(t->ssl, alpn, sizeof(alpn) - 1) != 0) {
		snprintf(err, errlen, "TLS: cannot set up the connection");
		goto fail;
	}
	/* The name we dialled must be the certificate's: an IP address
	 * against its IP entries, a host name against its DNS ones (and
	 * sent as SNI). */
	if (inet_pton(AF_INET6, host, &ip) == 1 || inet_pton(AF_INET, host, &ip) == 1)
		ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), host);
	else
		ok =
		    SSL_set1_host(t->ssl, host) == 1 && SSL_set_tlsext_host_name(t->ssl, host) == 1;
	if (ok != 1) {
		snprintf(err, errlen, "TLS: cannot check the name `%s'", host);
		goto fail;
	}
	BIO_set_callback_ex(SSL_get_rbio(t->ssl), tls_bio_cb);
	BIO_set_callback_arg(SSL_get_rbio(t->ssl), (char *)t);
	for (;;) {
		rc = SSL_connect(t->ssl);
		if (rc == 1)
			break;
		ok = tls_wait(t, rc, timeout_ms);
		if (ok == 1)
			continue;
		if (ok == 0)
			snprintf(
			    err, errlen, "TLS: handshake timed out (does the seller speak TLS?)");
		else
			tls_explain(t, rc, err, errlen);
		goto fail;
	}
	BIO_set_callback_ex(SSL_get_rbio(t->ssl), NULL);
	return t;
fail:
	net_tls_free(t);
	return NULL;
}

ssize_t
net_tls_read(struct net_tls *t, char *buf, size_t len)
{
	size_t n = 0;

	ERR_clear_error();
	errno = 0;
	if (SSL_read_ex(t->ssl, buf, len, &n) == 1)
		return (ssize_t)n;
	switch (SSL_get_error(t->ssl, 0)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SYSCALL:
		/* The socket's own error (a reset): worth naming when the
		 * order is resumed after it. */
		ERR_clear_error();
		return errno != 0 ? -1 : 0;
	default:
		/* A socket closed without close_notify is an end too: the
		 * session's own messages say whether it ended well. */
		ERR_clear_error();
		return 0;
	}
}

size_t
net_tls_pending(const struct net_tls *t)
{
	return (size_t)SSL_pending(t->ssl);
}

int
net_tls_write_all(struct net_tls *t, const char *buf, size_t len, int timeout_ms)
{
	size_t n;
	int rc;

	while (len > 0) {
		ERR_clear_error();
		n = 0;
		rc = SSL_write_ex(t->ssl, buf, len, &n);
		if (rc == 1) {
			buf += n;
			len -= n;
			continue;
		}
		/* The seller is not reading: a bounded wait, then give up. */
		rc = tls_wait(t, rc, timeout_ms);
		if (rc == 1)
			continue;
		ERR_clear_error();
		errno = rc == 0 ? ETIMEDOUT : EPIPE;
		return -1;
	}
	return 0;
}

void
net_tls_free(struct net_tls *t)
{
	if (t == NULL)
		return;
	SSL_free(t->ssl);
	SSL_CTX_free(t->ctx);
	free(t);
}
