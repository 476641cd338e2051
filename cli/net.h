/* The buyer's side of the wire: connect to a gateway, write frames with bounded waits. */
#ifndef CLI_NET_H
#define CLI_NET_H

#include <stddef.h>
#include <sys/types.h>

/* Non-blocking TCP connection to HOST:PORT ([v6]:PORT too; the port in
 * digits, util_hostport_split()), TCP_NODELAY set; -1 with err. */
int net_connect(const char *hostport, int timeout_ms, char *err, size_t errlen);

/* Writes all of buf, waiting at most timeout_ms each time the socket is
 * full; -1 with errno on failure. */
int net_write_all(int fd, const char *buf, size_t len, int timeout_ms);

/*
 * TLS to a seller over fd, a socket net_connect() gave: the seller's
 * certificate is verified against cafile (NULL: the system store) and
 * host, the name or address dialled; ALPN sdpp/1 is offered. The
 * handshake gets timeout_ms per wait. NULL with err saying why ("TLS:
 * certificate verify failed: REASON", "TLS: the seller does not speak
 * TLS"). The result is freed with net_tls_free(); fd stays the caller's.
 * Ignores SIGPIPE for the whole process: OpenSSL writes with write(2), and
 * a seller that closed must be an error we report, not a silent death.
 */
struct net_tls;
struct net_tls *net_tls_connect(
    int fd, const char *host, const char *cafile, int timeout_ms, char *err, size_t errlen);
/* Reads up to len bytes: >0, 0 at the end, -1 with errno EAGAIN if none yet,
 * or with the socket's errno (ECONNRESET). A TLS error (a close without
 * close_notify, a record that fails its MAC) is an end too: the session's
 * own signed messages say whether it ended well. */
ssize_t net_tls_read(struct net_tls *t, char *buf, size_t len);
/* Bytes decrypted and waiting: read them before polling the socket again. */
size_t net_tls_pending(const struct net_tls *t);
/* net_write_all() through TLS. */
int net_tls_write_all(struct net_tls *t, const char *buf, size_t len, int timeout_ms);
void net_tls_free(struct net_tls *t);

#endif
