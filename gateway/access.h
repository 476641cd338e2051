/* Who may buy: allow and deny lists of buyer keys, and per-address connection limits. */
#ifndef GATEWAY_ACCESS_H
#define GATEWAY_ACCESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "sdpp/crypto.h"

/* Keys one list file may hold, and its size: a list is read whole, at
 * start and on every reload. */
#define ACCESS_KEYS_MAX 100000
#define ACCESS_FILE_MAX (16 * 1024 * 1024)
/* Longest line of a list file, newline excluded. */
#define ACCESS_LINE_MAX 200
/* Bad lines reported one by one per file; the rest are counted. */
#define ACCESS_ERRORS_MAX 20
/* Addresses whose connections are counted at once (see access.c). */
#define ACCESS_ADDRS_MAX 65536

/* Why a buyer is refused (or ACCESS_OK); the metrics' reason labels. */
enum access_refusal {
	ACCESS_OK = 0,
	ACCESS_DENY_LIST,  /* its key is on deny_keys */
	ACCESS_ALLOW_LIST, /* allow_keys is set and its key is not on it */
	ACCESS_TOO_MANY,   /* its address holds max_conns_per_address connections */
	ACCESS_RATE,       /* its address opened max_new_conns_per_second already */
	ACCESS__COUNT
};

/* "deny_list", "allow_list", "too_many_connections", "rate_limited"
 * ("ok" for ACCESS_OK); static storage. */
const char *access_refusal_name(enum access_refusal r);

/* ---------------------------------------------------------------- key lists */

struct access_keys;

/* Receives each problem of a list: line 0 when it is not tied to a line
 * (the file cannot be read, too many bad lines). msg is printable ASCII. */
typedef void (*access_error_fn)(void *ctx, int line, const char *msg);

/*
 * Parses a key list: one Ed25519 public key per line, 64 hex digits (what
 * `sdpp pubkey KEY' prints), optionally followed by blanks and a `#'
 * comment; blank lines and lines starting with `#' are skipped. Bad lines,
 * duplicate keys and lines over ACCESS_LINE_MAX bytes are errors, each
 * reported through err (the first ACCESS_ERRORS_MAX, then a count).
 * Returns the number of errors; with none, *out is the list (access_keys_free()),
 * otherwise NULL.
 */
int access_keys_parse(struct access_keys **out, const char *text, size_t len, access_error_fn err,
    void *ctx) __attribute__((warn_unused_result));

/* Reads and parses the list file at path, which must be a regular file of
 * at most ACCESS_FILE_MAX bytes that others cannot write (whoever can
 * write it decides who may buy). Same results as access_keys_parse(). */
int access_keys_load(struct access_keys **out, const char *path, access_error_fn err, void *ctx)
    __attribute__((warn_unused_result));

void access_keys_free(struct access_keys *k);
size_t access_keys_count(const struct access_keys *k);
/* 1 if key is on the list (NULL holds nothing). */
int access_keys_has(const struct access_keys *k, const uint8_t key[SDPP_SIGN_PUBLIC_BYTES]);
/* 1 if both hold the same keys (two NULLs are equal; NULL and an empty
 * list are not: no allow list lets everyone buy, an empty one nobody). */
int access_keys_equal(const struct access_keys *a, const struct access_keys *b);

/* May this key buy? The deny list wins; without an allow list (NULL)
 * every key not denied may. */
enum access_refusal access_key_check(const struct access_keys *allow,
    const struct access_keys *deny, const uint8_t key[SDPP_SIGN_PUBLIC_BYTES]);

/* ---------------------------------------------------------------- address limits */

struct access_limit;
/* One counted address; a connection holds it from admit to release. */
struct access_slot;

/* An empty table (NULL: out of memory). */
struct access_limit *access_limit_new(void);
void access_limit_free(struct access_limit *l);

/*
 * A new connection from sa (IPv4 per address, IPv6 per /64, an IPv4-mapped
 * IPv6 address as its IPv4 one). Refused when the address already holds
 * max_conns connections, or opened more than per_second in the last second
 * (a token bucket of per_second tokens, refilled at per_second a second);
 * 0 turns either limit off. A refused connection costs no token. On
 * ACCESS_OK *slot is what access_limit_release() takes back when the
 * connection ends (NULL when nothing was counted: both limits off, another
 * address family, or the table full, in which case the address is not
 * limited; max_buyers still is).
 */
enum access_refusal access_limit_admit(struct access_limit *l, const struct sockaddr *sa,
    socklen_t salen, uint64_t now_ms, uint64_t max_conns, uint64_t per_second,
    struct access_slot **slot);
/* The connection that holds slot ended (NULL: nothing). */
void access_limit_release(struct access_limit *l, struct access_slot *slot);
/* Addresses in the table now (for the tests). */
size_t access_limit_tracked(const struct access_limit *l);

#endif
