/* Text jobs every layer shares: strict UTF-8, HOST:PORT splitting, and err-buffer messages. */
#ifndef UTIL_TEXT_H
#define UTIL_TEXT_H

#include <stddef.h>
#include <stdint.h>

/*
 * UTF-8 (RFC 3629). One validator for the whole program, so no two parts
 * can disagree about which bytes are text: the protocol's JSON, MQTT topic
 * filters, IOTA transaction strings and the buyer's output all use it.
 *
 * Well-formed means: no overlong forms (C0 80, E0 80 80, F0 80 80 80), no
 * encoded surrogates (U+D800..U+DFFF, ED A0 80 and up), nothing above
 * U+10FFFF (F4 90 80 80 and up, F5..FF), no lone continuation byte and no
 * sequence cut short by the end of the input.
 *
 * NUL policy: the byte 00 is U+0000, which is valid UTF-8, and is accepted.
 * A caller whose text must not hold NUL (JSON strings, docs/PROTOCOL.md
 * 3.1; MQTT topics, MQTT 3.1.1 1.5.3) refuses it itself; a caller that
 * passes strlen() of a C string has none to refuse.
 */

/* Longest well-formed sequence, in bytes. */
#define UTIL_UTF8_SEQ_MAX 4

/* 1 if s[0..n) is well-formed UTF-8, else 0; a NULL s is valid only with n
 * 0. ASCII runs are checked eight bytes at a time (the per-item path). */
int util_utf8_valid(const void *s, size_t n) __attribute__((warn_unused_result));

/*
 * 1 if s[0..n) is printable text: well-formed UTF-8 with no C0 control, no
 * DEL and no C1 control (U+0080..U+009F), so it is safe in logs and
 * terminals. What configuration text and SDPP text fields accept.
 */
int util_text_printable(const void *s, size_t n) __attribute__((warn_unused_result));

/*
 * Decodes the one sequence at the start of s[0..n) into *cp and returns its
 * length (1..UTIL_UTF8_SEQ_MAX), or 0 (and *cp untouched) if n is 0 or the
 * sequence is not well-formed by the rules above. U+0000 decodes (length 1).
 */
size_t util_utf8_decode(const void *s, size_t n, uint32_t *cp) __attribute__((warn_unused_result));

/*
 * HOST:PORT as configured or typed: "host:port", "1.2.3.4:port",
 * "[v6addr]:port". The port is 1-5 decimal digits, 1..65535 (no sign, no
 * service name). Syntax only: nothing is resolved, so a config check works
 * offline and getaddrinfo() judges the name later. An IPv6 address needs
 * its brackets ("::1:80" is ambiguous and refused); the brackets are not
 * part of host.
 */

/* Host bytes we keep, with the NUL: a DNS name is at most 253. */
#define UTIL_HOST_MAX 256
/* "65535" and the NUL. */
#define UTIL_PORT_MAX 6

/* Flag for util_hostport_split(): for a listening socket, an empty host
 * (":port") is allowed and means every local address (AI_PASSIVE). */
#define UTIL_HOSTPORT_PASSIVE 0x1u

/* The parts of HOST:PORT; plain arrays, nothing to free. */
struct util_hostport {
	char host[UTIL_HOST_MAX]; /* no brackets; "" only with UTIL_HOSTPORT_PASSIVE */
	char port[UTIL_PORT_MAX]; /* decimal, leading zeros dropped, for getaddrinfo() */
	uint16_t portnum;         /* the same, 1..65535, for APIs that take a number */
};

/*
 * Splits in into hp (flags: 0 or UTIL_HOSTPORT_PASSIVE). Returns 0, or -1
 * with err set to "`IN': reason" (e.g. "`h:0': port is not 1-65535") and hp
 * zeroed; the caller adds what the value was for ("listen `...': ...").
 */
int util_hostport_split(struct util_hostport *hp, const char *in, unsigned flags, char *err,
    size_t errlen) __attribute__((warn_unused_result));

/*
 * Formats a reason into err (nothing if err is NULL or errlen 0; cut to
 * errlen) and returns -1, so that `return util_errf(err, errlen, ...)`
 * reports a failure. The one err/errlen helper of every module.
 */
int util_errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
