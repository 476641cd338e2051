/* TLS on the buyer listener: the server context (certificate, key, TLS 1.2+, ALPN sdpp/1). */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "gateway/tls.h"
#include "sdpp/crypto.h"
#include "util/keyfile.h"

const char *
tls_error(char *buf, size_t len, const char *fallback)
{
	unsigned long e = ERR_get_error();
	const char *r = e != 0 ? ERR_reason_error_string(e) : NULL;

	snprintf(buf, len, "%s", r != NULL ? r : fallback);
	ERR_clear_error();
	return buf;
}

/* ALPN: sdpp/1 if offered. A client that offers protocols but not ours
 * would misread us: refused with a fatal alert. One that offers none never
 * gets here and is served (OPERATIONS.md says so). */
static int
alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
    unsigned int inlen, void *arg)
{
	unsigned int i = 0;

	(void)ssl;
	(void)arg;
	while (i < inlen) {
		unsigned int n = in[i];

		if (n > inlen - i - 1)
			break;
		if (n == strlen(TLS_ALPN) && memcmp(in + i + 1, TLS_ALPN, n) == 0) {
			*out = in + i + 1;
			*outlen = (unsigned char)n;
			return SSL_TLSEXT_ERR_OK;
		}
		i += n + 1;
	}
	return SSL_TLSEXT_ERR_ALERT_FATAL;
}

SSL_CTX *
tls_server_ctx(const char *cert_file, const char *key_file, char *err, size_t errlen)
{
	SSL_CTX *ctx = NULL, *ret = NULL;
	EVP_PKEY *key = NULL;
	BIO *bio = NULL;
	char *pem = NULL, why[256];
	size_t pemlen = 0;

	ERR_clear_error();
	ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL) {
		snprintf(err, errlen, "cannot make a TLS context: %s",
		    tls_error(why, sizeof(why), "out of memory"));
		goto fail;
	}
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
		snprintf(err, errlen, "cannot require TLS 1.2");
		goto fail;
	}
	/* Buffers go back while a connection is idle: most buyers are. */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	(void)SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
		snprintf(err, errlen, "tls_cert %s: %s", cert_file,
		    tls_error(why, sizeof(why), "not a PEM certificate"));
		goto fail;
	}
	/* Read as our other secrets are: refused if others may read it. */
	if (keyfile_read(key_file, &pem, &pemlen, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "tls_key %s", why);
		goto fail;
	}
	bio = BIO_new_mem_buf(pem, (int)pemlen);
	key = bio != NULL ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
	if (key == NULL) {
		snprintf(err, errlen, "tls_key %s: %s", key_file,
		    tls_error(why, sizeof(why), "not a PEM private key"));
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey(ctx, key) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(err, errlen, "tls_key %s does not match tls_cert %s: %s", key_file,
		    cert_file, tls_error(why, sizeof(why), "key values mismatch"));
		goto fail;
	}
	ret = ctx;
	ctx = NULL;
fail:
	EVP_PKEY_free(key);
	BIO_free(bio);
	sdpp_secret_free(pem, pemlen);
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return ret;
}

int
tls_files_check(const char *cert_file, const char *key_file, char *err, size_t errlen)
{
	SSL_CTX *ctx = tls_server_ctx(cert_file, key_file, err, errlen);

	if (ctx == NULL)
		return -1;
	SSL_CTX_free(ctx);
	return 0;
}
