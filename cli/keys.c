/* `sdpp keygen` and `sdpp pubkey`: identity key files and their public halves. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qrencode.h>

#include "cli/common.h"
#include "cli/sdpp.h"
#include "sdpp/crypto.h"
#include "sdpp/enc.h"
#include "util/keyfile.h"

/* Longest key path we accept, including the ".pub" we append. */
#define PATH_CAP 4096

static void
print_qr(const char *text)
{
	QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	int x, y;

	if (qr == NULL) {
		fprintf(stderr, "sdpp: cannot make a QR code: %s\n", strerror(errno));
		return;
	}
	/* Two modules per character row with half blocks, plus a quiet zone. */
	for (y = -2; y < qr->width + 2; y += 2) {
		for (x = -2; x < qr->width + 2; x++) {
			int top = y >= 0 && y < qr->width && x >= 0 && x < qr->width &&
			          (qr->data[y * qr->width + x] & 1);
			int bot = y + 1 >= 0 && y + 1 < qr->width && x >= 0 && x < qr->width &&
			          (qr->data[(y + 1) * qr->width + x] & 1);

			/* Light on dark terminals: print the light modules. */
			fputs(top ? (bot ? " " : "\u2584") : (bot ? "\u2580" : "\u2588"), stdout);
		}
		putchar('\n');
	}
	QRcode_free(qr);
}

/* The options of sdpp keygen that take a value (cli_usage_error()). */
static const char *const keygen_valued[] = { "-o", NULL };

int
cmd_keygen(int argc, char **argv)
{
	struct sdpp_identity *id = NULL;
	char *pem = NULL, *pub = NULL, err[PATH_CAP + 256], pubpath[PATH_CAP];
	const char *path = NULL;
	size_t pemlen = 0, publen = 0;
	uint8_t sign[SDPP_SIGN_PUBLIC_BYTES];
	char hex[SDPP_HEX_LEN(SDPP_SIGN_PUBLIC_BYTES)];
	int i, force = 0, rc = 1;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
			path = argv[++i];
		} else if (strcmp(argv[i], "-f") == 0) {
			force = 1;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			printf(
			    "usage: sdpp keygen -o FILE [-f]\n\n"
			    "Creates FILE (mode 0600) with a new Ed25519 signing key and X25519\n"
			    "encryption key, FILE.pub with their public halves, and prints the\n"
			    "public identity (hex) that the other party pins. -f overwrites.\n");
			return 0;
		} else {
			return cli_usage_error("sdpp keygen", argv[i], keygen_valued);
		}
	}
	if (path == NULL) {
		fprintf(stderr, "sdpp keygen: -o FILE is required\n");
		return CLI_EXIT_USAGE;
	}
	if (strlen(path) + 5 > sizeof(pubpath)) {
		fprintf(stderr, "sdpp keygen: path too long\n");
		return 1;
	}
	snprintf(pubpath, sizeof(pubpath), "%s.pub", path);
	if (sdpp_identity_generate(&id) != SDPP_OK ||
	    sdpp_identity_to_pem(id, &pem, &pemlen) != SDPP_OK ||
	    sdpp_identity_public_pem(id, &pub, &publen) != SDPP_OK) {
		fprintf(stderr, "sdpp keygen: key generation failed\n");
		goto fail;
	}
	if (keyfile_write(path, pem, pemlen, 0600, force, err, sizeof(err)) != 0 ||
	    keyfile_write(pubpath, pub, publen, 0644, force, err, sizeof(err)) != 0) {
		fprintf(stderr, "sdpp keygen: %s\n", err);
		goto fail;
	}
	sdpp_identity_sign_public(id, sign);
	sdpp_hex_encode(hex, sign, sizeof(sign));
	printf("%s\n", hex);
	rc = 0;
fail:
	sdpp_secret_free(pem, pemlen);
	free(pub);
	sdpp_identity_free(id);
	return rc;
}

int
cmd_pubkey(int argc, char **argv)
{
	struct sdpp_identity *id = NULL;
	char *buf = NULL, err[PATH_CAP + 256];
	const char *path = NULL;
	size_t len = 0;
	uint8_t sign[SDPP_SIGN_PUBLIC_BYTES], enc[SDPP_ENC_PUBLIC_BYTES];
	char hex[SDPP_HEX_LEN(SDPP_SIGN_PUBLIC_BYTES)], ehex[SDPP_HEX_LEN(SDPP_ENC_PUBLIC_BYTES)];
	int i, qr = 0, all = 0, rc = 1;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--qr") == 0) {
			qr = 1;
		} else if (strcmp(argv[i], "--all") == 0) {
			all = 1;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			printf(
			    "usage: sdpp pubkey FILE [--qr] [--all]\n\n"
			    "Prints the public identity (Ed25519, hex) of key file FILE (or of a\n"
			    "public key file FILE.pub), as a\n"
			    "QR code with --qr; --all also prints the X25519 encryption key.\n");
			return 0;
		} else if (path == NULL && argv[i][0] != '-') {
			path = argv[i];
		} else {
			return cli_usage_error("sdpp pubkey", argv[i], NULL);
		}
	}
	if (path == NULL) {
		fprintf(stderr, "sdpp pubkey: FILE is required\n");
		return CLI_EXIT_USAGE;
	}
	{
		/* A public key file (FILE.pub) is not secret: read it as text. */
		size_t tlen;
		char *text = cli_read_text(path, &tlen);

		if (text != NULL && strstr(text, "PRIVATE KEY") == NULL &&
		    sdpp_sign_public_parse(sign, text, tlen) == SDPP_OK) {
			free(text);
			sdpp_hex_encode(hex, sign, sizeof(sign));
			if (qr)
				print_qr(hex);
			printf("%s\n", hex);
			if (all)
				fprintf(stderr,
				    "sdpp pubkey: %s is a public key file; --all needs the "
				    "key file\n",
				    path);
			return 0;
		}
		free(text);
	}
	if (keyfile_read(path, &buf, &len, err, sizeof(err)) != 0) {
		fprintf(stderr, "sdpp pubkey: %s\n", err);
		return 1;
	}
	if (sdpp_identity_from_pem(&id, buf, len) != SDPP_OK) {
		fprintf(stderr, "sdpp pubkey: %s: not an sdpp key file\n", path);
		goto fail;
	}
	sdpp_identity_sign_public(id, sign);
	sdpp_hex_encode(hex, sign, sizeof(sign));
	if (qr)
		print_qr(hex);
	printf("%s\n", hex);
	if (all) {
		sdpp_identity_enc_public(id, enc);
		sdpp_hex_encode(ehex, enc, sizeof(enc));
		printf("enc %s\n", ehex);
	}
	rc = 0;
fail:
	sdpp_secret_free(buf, len);
	sdpp_identity_free(id);
	return rc;
}
