/* Key files of the daemon: read, or created on first start with a .pub beside them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gateway/config.h"
#include "gateway/keys.h"
#include "gateway/log.h"
#include "sdpp/enc.h"
#include "util/keyfile.h"

int
gw_key_load(const char *path, const char *role, int check_only, struct sdpp_identity **id)
{
	struct sdpp_identity *k = NULL;
	char *buf = NULL, *pub = NULL, err[CONFIG_PATH_MAX + 128], pubpath[CONFIG_PATH_MAX + 8];
	char hex[SDPP_HEX_LEN(SDPP_SIGN_PUBLIC_BYTES)];
	uint8_t raw[SDPP_SIGN_PUBLIC_BYTES];
	size_t len = 0, publen = 0;
	struct stat st;
	int rc = -1;

	if (stat(path, &st) != 0 && errno == ENOENT) {
		if (check_only) {
			printf("%s: does not exist yet; it will be created at first start\n", path);
			return 0;
		}
		if (sdpp_identity_generate(&k) != SDPP_OK ||
		    sdpp_identity_to_pem(k, &buf, &len) != SDPP_OK ||
		    keyfile_write(path, buf, len, 0600, 0, err, sizeof(err)) != 0) {
			log_warnx("cannot create the %s key %s: %s", role, path, err);
			goto out;
		}
		snprintf(pubpath, sizeof(pubpath), "%s.pub", path);
		if (sdpp_identity_public_pem(k, &pub, &publen) == SDPP_OK &&
		    keyfile_write(pubpath, pub, publen, 0644, 1, err, sizeof(err)) != 0)
			log_warnx("cannot write %s: %s", pubpath, err);
		log_info("event=key_created role=%s path=%s", role, path);
	} else {
		if (keyfile_read(path, &buf, &len, err, sizeof(err)) != 0) {
			fprintf(stderr, "%s\n", err);
			goto out;
		}
		if (sdpp_identity_from_pem(&k, buf, len) != SDPP_OK) {
			fprintf(stderr,
			    "%s: not an sdpp key file (create one with `sdpp keygen`)\n", path);
			goto out;
		}
	}
	sdpp_identity_sign_public(k, raw);
	sdpp_hex_encode(hex, raw, sizeof(raw));
	if (check_only)
		printf("%s: %s identity %s\n", path, role, hex);
	else
		log_info("event=identity %s=%s", role, hex);
	*id = k;
	k = NULL;
	rc = 0;
out:
	sdpp_secret_free(buf, len);
	free(pub);
	sdpp_identity_free(k);
	return rc;
}
