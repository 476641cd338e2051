/* TLS on the buyer listener: the server context (certificate, key, TLS 1.2+, ALPN sdpp/1). */
#ifndef GATEWAY_TLS_H
#define GATEWAY_TLS_H

#include <stddef.h>

#include <openssl/ssl.h>

/* The one application protocol the listener speaks (ALPN, RFC 7301). */
#define TLS_ALPN "sdpp/1"

/*
 * A server context serving cert_file (PEM: the certificate, then any
 * intermediates) with key_file (PEM, refused if group or others may read
 * it): TLS 1.2 at least, ALPN sdpp/1 (a client offering only other
 * protocols is refused; one offering none is served), no session tickets
 * (buyers hold one long connection). NULL with err naming the file and the
 * reason, e.g. a key that is not the certificate's. Free with
 * SSL_CTX_free(); every SSL made from it holds its own reference, so
 * replacing the context on a reload leaves running connections alone.
 */
SSL_CTX *tls_server_ctx(const char *cert_file, const char *key_file, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Whether cert_file and key_file load and match, as tls_server_ctx()
 * needs them (for -t and the start); 0, or -1 with err. */
int tls_files_check(const char *cert_file, const char *key_file, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* The reason of the oldest error in OpenSSL's queue (or fallback if none)
 * into buf, and clears the queue. Returns buf. */
const char *tls_error(char *buf, size_t len, const char *fallback);

#endif
