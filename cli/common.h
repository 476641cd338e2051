/* Helpers shared by the sdpp subcommands: reading small files, parsing public keys. */
#ifndef CLI_COMMON_H
#define CLI_COMMON_H

#include <stddef.h>
#include <stdint.h>

/*
 * The exit statuses of sdpp, documented in sdpp(1) EXIT STATUS, so that a
 * script can tell a retry-later failure (3, 6) from one that will not go
 * away (2, 4, 5) and from its own limits (7).
 */
#define CLI_EXIT_OK 0
#define CLI_EXIT_ERROR 1       /* anything else: a local file, key or payment failed */
#define CLI_EXIT_USAGE 2       /* a bad option or argument */
#define CLI_EXIT_CONNECT 3     /* cannot connect, or the connection ended before the order */
#define CLI_EXIT_REFUSED 4     /* the seller refused or ended the order with an error */
#define CLI_EXIT_VERIFY 5      /* a seller message does not verify (wrong --seller-key?) */
#define CLI_EXIT_INTERRUPTED 6 /* the order ended before its count: connection lost, Ctrl-C */
#define CLI_EXIT_BUDGET 7      /* --budget or --max-price refused or ended the order */

/* Largest public key file or proof document we read. */
#define TEXT_FILE_MAX (1024u * 1024)

/* Reads a whole non-secret file, or stdin for "-", NUL-terminated (free()). */
char *cli_read_text(const char *path, size_t *len);

/* A peer's Ed25519 public key: 64 hex digits, or a file holding them or a
 * public key PEM. Prints why on stderr and returns -1 if neither. */
int cli_parse_key(const char *arg, uint8_t key[32]);

/*
 * An argument command cmd (e.g. "sdpp buy") cannot take: an unknown option
 * ("unknown option: -x"), an option of valued (a NULL-terminated list of
 * those that take a value) given last without it, or a stray word. Says
 * which on stderr and returns CLI_EXIT_USAGE.
 */
int cli_usage_error(const char *cmd, const char *arg, const char *const *valued);

/* A decimal integer 0..max, digits only (no sign, space or suffix); 0 or -1. */
int cli_parse_u64(const char *s, uint64_t max, uint64_t *out);

#endif
