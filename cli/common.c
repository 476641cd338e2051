/* Helpers shared by the sdpp subcommands: reading small files, parsing public keys. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/common.h"
#include "sdpp/crypto.h"

/* Reads a whole (non-secret) file or stdin ("-") into a NUL-terminated buffer. */
char *
cli_read_text(const char *path, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char *buf = NULL, *nb;
	size_t n = 0, alloc = 0, r;

	if (f == NULL)
		return NULL;
	for (;;) {
		if (n + 4096 + 1 > alloc) {
			alloc = alloc == 0 ? 8192 : alloc * 2;
			if (alloc > TEXT_FILE_MAX + 4096 + 1)
				goto fail;
			nb = realloc(buf, alloc);
			if (nb == NULL)
				goto fail;
			buf = nb;
		}
		r = fread(buf + n, 1, 4096, f);
		n += r;
		if (r < 4096)
			break;
	}
	if (ferror(f) || n > TEXT_FILE_MAX)
		goto fail;
	buf[n] = '\0';
	*len = n;
	if (f != stdin)
		fclose(f);
	return buf;
fail:
	free(buf);
	if (f != stdin)
		fclose(f);
	return NULL;
}

/* KEY as 64 hex digits, or a file holding them or a public key PEM. */
int
cli_parse_key(const char *arg, uint8_t key[SDPP_SIGN_PUBLIC_BYTES])
{
	char *text;
	size_t len;
	int rc;

	if (sdpp_sign_public_parse(key, arg, strlen(arg)) == SDPP_OK)
		return 0;
	text = cli_read_text(arg, &len);
	if (text == NULL) {
		fprintf(stderr,
		    "sdpp: key `%s' is neither 64 hex digits nor a readable "
		    "file\n",
		    arg);
		return -1;
	}
	rc = sdpp_sign_public_parse(key, text, len) == SDPP_OK ? 0 : -1;
	if (rc != 0)
		fprintf(stderr, "sdpp: %s: no Ed25519 public key in it\n", arg);
	free(text);
	return rc;
}

int
cli_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

int
cli_usage_error(const char *cmd, const char *arg, const char *const *valued)
{
	size_t i;

	if (arg[0] != '-' || arg[1] == '\0') {
		fprintf(stderr, "%s: unexpected argument `%s' (see --help)\n", cmd, arg);
		return CLI_EXIT_USAGE;
	}
	for (i = 0; valued != NULL && valued[i] != NULL; i++)
		if (strcmp(arg, valued[i]) == 0) {
			fprintf(stderr, "%s: %s needs a value (see --help)\n", cmd, arg);
			return CLI_EXIT_USAGE;
		}
	fprintf(stderr, "%s: unknown option: %s (see --help)\n", cmd, arg);
	return CLI_EXIT_USAGE;
}
