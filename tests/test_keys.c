/* Key text round trips (PKCS#8 / SPKI PEM, hex) and secret key files on disk. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "sdpp/crypto.h"
#include "sdpp/enc.h"
#include "util/keyfile.h"

/* Copies the idx-th (0-based) "-----BEGIN" block of text, through its END line. */
static char *
block(const char *text, int idx)
{
	const char *p = text, *end;
	char *out;
	size_t n;
	int i;

	for (i = 0; i <= idx; i++) {
		p = strstr(i == 0 ? p : p + 1, "-----BEGIN");
		assert_non_null(p);
	}
	end = strstr(p, "-----END");
	assert_non_null(end);
	end = strchr(end, '\n');
	assert_non_null(end);
	n = (size_t)(end + 1 - p);
	out = malloc(n + 1);
	assert_non_null(out);
	memcpy(out, p, n);
	out[n] = '\0';
	return out;
}

/* New malloc string a || b || c. */
static char *
cat3(const char *a, const char *b, const char *c)
{
	size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
	char *s = malloc(la + lb + lc + 1);

	assert_non_null(s);
	memcpy(s, a, la);
	memcpy(s + la, b, lb);
	memcpy(s + la + lb, c, lc + 1);
	return s;
}

/* A P-256 key as PKCS#8 ("PRIVATE KEY") or SPKI ("PUBLIC KEY") PEM. */
static char *
p256_pem(int private)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *out;
	long n;

	assert_non_null(k);
	assert_non_null(bio);
	if (private)
		assert_int_equal(PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL, NULL), 1);
	else
		assert_int_equal(PEM_write_bio_PUBKEY(bio, k), 1);
	n = BIO_get_mem_data(bio, &data);
	assert_true(n > 0);
	out = malloc((size_t)n + 1);
	assert_non_null(out);
	memcpy(out, data, (size_t)n);
	out[n] = '\0';
	BIO_free(bio);
	EVP_PKEY_free(k);
	return out;
}

static enum sdpp_err
from_text(const char *text)
{
	struct sdpp_identity *id = NULL;
	enum sdpp_err e = sdpp_identity_from_pem(&id, text, strlen(text));

	if (e == SDPP_OK)
		assert_non_null(id);
	else
		assert_null(id);
	sdpp_identity_free(id);
	return e;
}

static void
test_pem_roundtrip(void **state)
{
	struct sdpp_identity *id = NULL, *back = NULL;
	uint8_t s1[32], s2[32], e1[32], e2[32], sig[64], key[32], got[32];
	uint8_t sealed[SDPP_SEALED_BYTES];
	char *pem = NULL, *crlf, *p;
	size_t len, i, j;
	static const char msg[] = "invoice 1";

	(void)state;
	assert_int_equal(sdpp_identity_generate(&id), SDPP_OK);
	assert_int_equal(sdpp_identity_to_pem(id, &pem, &len), SDPP_OK);
	assert_int_equal(strlen(pem), len);
	assert_true(strncmp(pem, "-----BEGIN PRIVATE KEY-----\n", 28) == 0);
	assert_non_null(strstr(pem + 28, "-----BEGIN PRIVATE KEY-----\n"));

	assert_int_equal(sdpp_identity_from_pem(&back, pem, len), SDPP_OK);
	sdpp_identity_sign_public(id, s1);
	sdpp_identity_sign_public(back, s2);
	sdpp_identity_enc_public(id, e1);
	sdpp_identity_enc_public(back, e2);
	assert_memory_equal(s1, s2, 32);
	assert_memory_equal(e1, e2, 32);

	/* The reloaded keys work with the original publics. */
	assert_int_equal(sdpp_sign(back, msg, strlen(msg), sig), SDPP_OK);
	assert_int_equal(sdpp_verify_raw(s1, msg, strlen(msg), sig, 64), SDPP_OK);
	assert_int_equal(sdpp_random(key, 32), SDPP_OK);
	assert_int_equal(sdpp_seal(sealed, e1, key, NULL, 0), SDPP_OK);
	assert_int_equal(sdpp_unseal(got, back, sealed, NULL, 0), SDPP_OK);
	assert_memory_equal(got, key, 32);
	sdpp_identity_free(back);

	/* Whitespace around the blocks is allowed: no final newline, CRLF, indentation. */
	assert_int_equal(sdpp_identity_from_pem(&back, pem, len - 1), SDPP_OK);
	sdpp_identity_free(back);
	p = cat3("\n\n  ", pem, "\n\t\n");
	assert_int_equal(from_text(p), SDPP_OK);
	free(p);
	crlf = malloc(2 * len + 1);
	assert_non_null(crlf);
	for (i = j = 0; i < len; i++) {
		if (pem[i] == '\n')
			crlf[j++] = '\r';
		crlf[j++] = pem[i];
	}
	crlf[j] = '\0';
	assert_int_equal(from_text(crlf), SDPP_OK);
	free(crlf);

	sdpp_secret_free(pem, len);
	sdpp_identity_free(id);
}

static void
test_pem_refused(void **state)
{
	struct sdpp_identity *id = NULL, *other = NULL;
	char *pem = NULL, *ed, *x, *p256, *t, *big;
	size_t len;
	size_t i;

	(void)state;
	assert_int_equal(sdpp_identity_generate(&id), SDPP_OK);
	assert_int_equal(sdpp_identity_to_pem(id, &pem, &len), SDPP_OK);
	ed = block(pem, 0);
	x = block(pem, 1);
	p256 = p256_pem(1);

	{
		/* Each of these is SDPP_E_KEY_FORMAT. */
		char *bad[] = {
			strdup(""),                  /* nothing */
			strdup("garbage\n"),         /* not PEM */
			strdup(ed),                  /* a single block */
			strdup(x),                   /* the other single block */
			cat3(x, ed, ""),             /* swapped order: X25519 first */
			cat3(ed, ed, ""),            /* Ed25519 twice */
			cat3(x, x, ""),              /* X25519 twice */
			cat3(ed, p256, ""),          /* P-256 where X25519 belongs */
			cat3(p256, x, ""),           /* P-256 where Ed25519 belongs */
			cat3(pem, "trailing\n", ""), /* trailing garbage */
			cat3(pem, x, ""),            /* a third block */
			cat3("# my key\n", pem, ""), /* leading text */
			cat3(ed, "between\n", x),    /* text between the blocks */
		};
		size_t n = sizeof(bad) / sizeof(bad[0]);

		for (i = 0; i < n; i++) {
			assert_non_null(bad[i]);
			if (from_text(bad[i]) != SDPP_E_KEY_FORMAT)
				fail_msg("case %zu accepted:\n%s", i, bad[i]);
			free(bad[i]);
		}
	}

	/* A NUL between the blocks (strlen-based cases cannot carry one). */
	t = cat3(ed, "#", x);
	t[strlen(ed)] = '\0';
	assert_int_equal(
	    sdpp_identity_from_pem(&other, t, strlen(ed) + 1 + strlen(x)), SDPP_E_KEY_FORMAT);
	assert_null(other);
	free(t);

	/* Truncated: the END line cut short, then the last base64 line damaged. */
	t = strdup(pem);
	assert_non_null(t);
	t[len - 5] = '\0';
	assert_int_equal(from_text(t), SDPP_E_KEY_FORMAT);
	free(t);
	t = strdup(pem);
	assert_non_null(t);
	t[strlen(ed) + 30] = '*';
	assert_int_equal(from_text(t), SDPP_E_KEY_FORMAT);
	free(t);

	/* Another label, and an "encrypted" header, are not our format. */
	{
		char *body = strdup(ed + 28), *a;

		assert_non_null(body);
		*strstr(body, "-----END") = '\0';
		a = cat3("-----BEGIN ED25519 PRIVATE KEY-----\n", body,
		    "-----END ED25519 PRIVATE KEY-----\n");
		t = cat3(a, x, "");
		assert_int_equal(from_text(t), SDPP_E_KEY_FORMAT);
		free(t);
		free(a);
		free(body);
	}
	t = cat3("-----BEGIN PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n"
	         "DEK-Info: AES-128-CBC,00000000000000000000000000000000\n\n",
	    ed + 28, x);
	assert_int_equal(from_text(t), SDPP_E_KEY_FORMAT);
	free(t);

	/* Oversized input is refused before parsing. */
	big = malloc(20000);
	assert_non_null(big);
	memset(big, ' ', 20000);
	memcpy(big, pem, len);
	big[19999] = '\0';
	assert_int_equal(from_text(big), SDPP_E_KEY_FORMAT);
	free(big);

	free(ed);
	free(x);
	free(p256);
	sdpp_secret_free(pem, len);
	sdpp_identity_free(id);
}

static void
test_public_pem(void **state)
{
	struct sdpp_identity *id = NULL;
	uint8_t want[32], got[32];
	char *pem = NULL, *priv = NULL, *t, *xblk, *edblk, *p256;
	size_t len, plen;

	(void)state;
	assert_int_equal(sdpp_identity_generate(&id), SDPP_OK);
	sdpp_identity_sign_public(id, want);
	assert_int_equal(sdpp_identity_public_pem(id, &pem, &len), SDPP_OK);
	assert_int_equal(strlen(pem), len);
	assert_true(strncmp(pem, "-----BEGIN PUBLIC KEY-----\n", 27) == 0);
	assert_non_null(strstr(pem + 27, "-----BEGIN PUBLIC KEY-----\n"));

	memset(got, 0, 32);
	assert_int_equal(sdpp_sign_public_parse(got, pem, len), SDPP_OK);
	assert_memory_equal(got, want, 32);

	/* Out-of-band text around it is fine; the first PUBLIC KEY block counts. */
	edblk = block(pem, 0);
	xblk = block(pem, 1);
	t = cat3("seller key, 2025:\n", edblk, "thanks\n");
	assert_int_equal(sdpp_sign_public_parse(got, t, strlen(t)), SDPP_OK);
	assert_memory_equal(got, want, 32);
	free(t);

	/* The first PUBLIC KEY block must be Ed25519. */
	assert_int_equal(sdpp_sign_public_parse(got, xblk, strlen(xblk)), SDPP_E_KEY_FORMAT);
	t = cat3(xblk, edblk, "");
	assert_int_equal(sdpp_sign_public_parse(got, t, strlen(t)), SDPP_E_KEY_FORMAT);
	free(t);
	p256 = p256_pem(0);
	assert_int_equal(sdpp_sign_public_parse(got, p256, strlen(p256)), SDPP_E_KEY_FORMAT);
	free(p256);

	/* A private key file is not a public key (no public half pulled out of it). */
	assert_int_equal(sdpp_identity_to_pem(id, &priv, &plen), SDPP_OK);
	assert_int_equal(sdpp_sign_public_parse(got, priv, plen), SDPP_E_KEY_FORMAT);
	/* ... but a PRIVATE KEY block before a PUBLIC KEY block is skipped over. */
	t = cat3(priv, edblk, "");
	assert_int_equal(sdpp_sign_public_parse(got, t, strlen(t)), SDPP_OK);
	assert_memory_equal(got, want, 32);
	free(t);
	sdpp_secret_free(priv, plen);

	assert_int_equal(sdpp_sign_public_parse(got, "", 0), SDPP_E_KEY_FORMAT);
	assert_int_equal(sdpp_sign_public_parse(got, "nonsense", 8), SDPP_E_KEY_FORMAT);

	free(edblk);
	free(xblk);
	free(pem);
	sdpp_identity_free(id);
}

static void
test_hex_parse(void **state)
{
	static const char lower[] =
	    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
	static const char upper[] =
	    "D75A980182B10AB7D54BFED3C964073A0EE172F3DAA62325AF021A68F707511A";
	static const char *bad[] = {
		"",
		"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511",   /* 63 */
		"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a0", /* 65 */
		"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511",
		"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f70751zz",
		"d75a980182b10ab7d54bfed3c964073a 0ee172f3daa62325af021a68f707511a",
		"0xd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f70751",
	};
	uint8_t want[32], got[32];
	char buf[128];
	size_t i;

	(void)state;
	assert_int_equal(sdpp_hex_decode(want, 32, lower), SDPP_OK);
	assert_int_equal(sdpp_sign_public_parse(got, lower, strlen(lower)), SDPP_OK);
	assert_memory_equal(got, want, 32);
	memset(got, 0, 32);
	assert_int_equal(sdpp_sign_public_parse(got, upper, strlen(upper)), SDPP_OK);
	assert_memory_equal(got, want, 32);
	snprintf(buf, sizeof(buf), " \t%s\r\n\n", lower);
	memset(got, 0, 32);
	assert_int_equal(sdpp_sign_public_parse(got, buf, strlen(buf)), SDPP_OK);
	assert_memory_equal(got, want, 32);
	/* len bounds the text: the hex need not be NUL-terminated. */
	memcpy(buf, lower, 64);
	memcpy(buf + 64, "ff", 3);
	assert_int_equal(sdpp_sign_public_parse(got, buf, 64), SDPP_OK);
	assert_memory_equal(got, want, 32);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (sdpp_sign_public_parse(got, bad[i], strlen(bad[i])) != SDPP_E_KEY_FORMAT)
			fail_msg("accepted `%s'", bad[i]);
}

/* A private directory for the key file tests. */
struct tmpdir {
	char dir[64];
};

static char *
path_in(const struct tmpdir *d, const char *name)
{
	static char p[4][256];
	static int n;
	char *out = p[n++ % 4];

	snprintf(out, sizeof(p[0]), "%s/%s", d->dir, name);
	return out;
}

static int
setup_dir(void **state)
{
	struct tmpdir *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return -1;
	snprintf(d->dir, sizeof(d->dir), "/tmp/sdpp-keys-XXXXXX");
	if (mkdtemp(d->dir) == NULL) {
		free(d);
		return -1;
	}
	*state = d;
	return 0;
}

static int
teardown_dir(void **state)
{
	static const char *names[] = { "key", "pub", "loose", "big", "edge", "link", "sub", "fifo",
		"keep" };
	struct tmpdir *d = *state;
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		unlink(path_in(d, names[i]));
		rmdir(path_in(d, names[i]));
	}
	if (rmdir(d->dir) != 0)
		fprintf(stderr, "left behind %s: %s\n", d->dir, strerror(errno));
	free(d);
	return 0;
}

/* Exactly n entries in the directory: the test's own files, no temporaries. */
static void
assert_dir_has(const struct tmpdir *d, int n)
{
	DIR *dir = opendir(d->dir);
	struct dirent *de;
	int count = 0;

	assert_non_null(dir);
	while ((de = readdir(dir)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			count++;
	closedir(dir);
	assert_int_equal(count, n);
}

static void
test_keyfile_write_read(void **state)
{
	struct tmpdir *d = *state;
	const char *key = path_in(d, "key"), *pub = path_in(d, "pub");
	static const char secret[] = "-----BEGIN PRIVATE KEY-----\nsecret\n";
	char err[512], *buf = NULL;
	struct stat st;
	size_t len;
	mode_t old;

	/* umask 0 cannot widen the file... */
	old = umask(0);
	assert_int_equal(keyfile_write(key, secret, strlen(secret), 0600, 0, err, sizeof(err)), 0);
	/* ... and umask 077 cannot narrow a public key. */
	umask(077);
	assert_int_equal(keyfile_write(pub, "pub\n", 4, 0644, 0, err, sizeof(err)), 0);
	umask(old);
	assert_int_equal(stat(key, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(stat(pub, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_dir_has(d, 2);

	assert_int_equal(keyfile_read(key, &buf, &len, err, sizeof(err)), 0);
	assert_int_equal(len, strlen(secret));
	assert_string_equal(buf, secret);
	sdpp_secret_free(buf, len);

	/* The public key file is 0644: fine on disk, but not readable as a secret. */
	assert_int_equal(keyfile_read(pub, &buf, &len, err, sizeof(err)), -1);
	assert_null(buf);

	/* An empty file reads as an empty string. */
	assert_int_equal(keyfile_write(path_in(d, "edge"), "", 0, 0600, 0, err, sizeof(err)), 0);
	assert_int_equal(keyfile_read(path_in(d, "edge"), &buf, &len, err, sizeof(err)), 0);
	assert_int_equal(len, 0);
	assert_string_equal(buf, "");
	sdpp_secret_free(buf, len);
	unlink(path_in(d, "edge"));
}

static void
test_keyfile_refused(void **state)
{
	struct tmpdir *d = *state;
	const char *loose = path_in(d, "loose");
	static const mode_t modes[] = { 0640, 0604, 0644, 0660, 0700, 0601, 0610 };
	char err[512], want[16], *buf = NULL;
	size_t len, i;

	assert_int_equal(keyfile_write(loose, "k", 1, 0600, 0, err, sizeof(err)), 0);
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		assert_int_equal(chmod(loose, modes[i]), 0);
		err[0] = '\0';
		buf = NULL;
		if ((modes[i] & 077) != 0) {
			assert_int_equal(keyfile_read(loose, &buf, &len, err, sizeof(err)), -1);
			assert_null(buf);
			/* The message names the file, so an operator knows what to chmod. */
			assert_true(strncmp(err, loose, strlen(loose)) == 0);
			snprintf(want, sizeof(want), "%04o", (unsigned)modes[i]);
			assert_non_null(strstr(err, want));
			print_message("%s\n", err);
		} else {
			/* 0700 is owner-only: accepted. */
			assert_int_equal(keyfile_read(loose, &buf, &len, err, sizeof(err)), 0);
			sdpp_secret_free(buf, len);
		}
	}

	/* A directory, a symlink to a good key, a FIFO (must not block), a missing file. */
	assert_int_equal(mkdir(path_in(d, "sub"), 0700), 0);
	assert_int_equal(chmod(loose, 0600), 0);
	assert_int_equal(symlink(loose, path_in(d, "link")), 0);
	assert_int_equal(mkfifo(path_in(d, "fifo"), 0600), 0);
	{
		const char *bad[] = { path_in(d, "sub"), path_in(d, "link"), path_in(d, "fifo"),
			path_in(d, "missing") };

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			err[0] = '\0';
			assert_int_equal(keyfile_read(bad[i], &buf, &len, err, sizeof(err)), -1);
			assert_true(strncmp(err, bad[i], strlen(bad[i])) == 0);
			print_message("%s\n", err);
		}
	}

	/* Size: exactly the limit is read, one byte more is refused unread. */
	{
		char *big = malloc(KEYFILE_MAX_BYTES + 1);

		assert_non_null(big);
		memset(big, 'k', KEYFILE_MAX_BYTES + 1);
		assert_int_equal(keyfile_write(path_in(d, "edge"), big, KEYFILE_MAX_BYTES, 0600, 0,
		                     err, sizeof(err)),
		    0);
		assert_int_equal(keyfile_read(path_in(d, "edge"), &buf, &len, err, sizeof(err)), 0);
		assert_int_equal(len, KEYFILE_MAX_BYTES);
		sdpp_secret_free(buf, len);
		assert_int_equal(keyfile_write(path_in(d, "big"), big, KEYFILE_MAX_BYTES + 1, 0600,
		                     0, err, sizeof(err)),
		    0);
		assert_int_equal(keyfile_read(path_in(d, "big"), &buf, &len, err, sizeof(err)), -1);
		assert_true(strncmp(err, path_in(d, "big"), strlen(path_in(d, "big"))) == 0);
		print_message("%s\n", err);
		free(big);
	}

	/* Writing: bad mode, a missing directory, a name that is a directory. */
	assert_int_equal(keyfile_write(path_in(d, "keep"), "x", 1, 04600, 0, err, sizeof(err)), -1);
	assert_int_equal(
	    keyfile_write(path_in(d, "nodir/key"), "x", 1, 0600, 0, err, sizeof(err)), -1);
	print_message("%s\n", err);
	assert_int_equal(keyfile_write(path_in(d, "sub/"), "x", 1, 0600, 0, err, sizeof(err)), -1);
}

static void
test_keyfile_overwrite(void **state)
{
	struct tmpdir *d = *state;
	const char *keep = path_in(d, "keep");
	char err[512], *buf = NULL;
	size_t len;

	assert_int_equal(keyfile_write(keep, "first", 5, 0600, 0, err, sizeof(err)), 0);
	/* overwrite = 0: an existing file is an error and stays as it was. */
	err[0] = '\0';
	assert_int_equal(keyfile_write(keep, "second", 6, 0600, 0, err, sizeof(err)), -1);
	assert_true(strncmp(err, keep, strlen(keep)) == 0);
	print_message("%s\n", err);
	assert_int_equal(keyfile_read(keep, &buf, &len, err, sizeof(err)), 0);
	assert_string_equal(buf, "first");
	sdpp_secret_free(buf, len);
	assert_dir_has(d, 1);

	/* overwrite = 1 replaces it. */
	assert_int_equal(keyfile_write(keep, "second", 6, 0600, 1, err, sizeof(err)), 0);
	assert_int_equal(keyfile_read(keep, &buf, &len, err, sizeof(err)), 0);
	assert_string_equal(buf, "second");
	sdpp_secret_free(buf, len);
	assert_dir_has(d, 1);

	/* A relative path (no directory part) works as well. */
	{
		char cwd[512];

		assert_non_null(getcwd(cwd, sizeof(cwd)));
		assert_int_equal(chdir(d->dir), 0);
		assert_int_equal(keyfile_write("key", "rel", 3, 0600, 0, err, sizeof(err)), 0);
		assert_int_equal(keyfile_read("key", &buf, &len, err, sizeof(err)), 0);
		assert_string_equal(buf, "rel");
		sdpp_secret_free(buf, len);
		assert_int_equal(chdir(cwd), 0);
	}
	assert_dir_has(d, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pem_roundtrip),
		cmocka_unit_test(test_pem_refused),
		cmocka_unit_test(test_public_pem),
		cmocka_unit_test(test_hex_parse),
		cmocka_unit_test_setup_teardown(test_keyfile_write_read, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_keyfile_refused, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_keyfile_overwrite, setup_dir, teardown_dir),
	};

	return cmocka_run_group_tests_name("keys", tests, NULL, NULL);
}
