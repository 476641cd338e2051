/* The buyer's side of the wire: connect to a gateway, write frames with bounded waits. */
#ifndef CLI_NET_H
#define CLI_NET_H

#include <stddef.h>

/* Non-blocking TCP connection to HOST:PORT ([v6]:PORT too; the port in
 * digits, util_hostport_split()), TCP_NODELAY set; -1 with err. */
int net_connect(const char *hostport, int timeout_ms, char *err, size_t errlen);

/* Writes all of buf, waiting at most timeout_ms each time the socket is
 * full; -1 with errno on failure. */
int net_write_all(int fd, const char *buf, size_t len, int timeout_ms);

#endif
