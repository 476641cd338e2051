/* Helpers shared by the sdpp subcommands: reading small files, parsing public keys. */
#ifndef CLI_COMMON_H
#define CLI_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* Largest public key file or proof document we read. */
#define TEXT_FILE_MAX (1024u * 1024)

/* Reads a whole non-secret file, or stdin for "-", NUL-terminated (free()). */
char *cli_read_text(const char *path, size_t *len);

/* A peer's Ed25519 public key: 64 hex digits, or a file holding them or a
 * public key PEM. Prints why on stderr and returns -1 if neither. */
int cli_parse_key(const char *arg, uint8_t key[32]);

/* A decimal integer 0..max, digits only (no sign, space or suffix); 0 or -1. */
int cli_parse_u64(const char *s, uint64_t max, uint64_t *out);

#endif
