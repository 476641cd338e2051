/* Config loader: golden bad files and their exact errors, the sample, defaults, prices, menu. */
#include <ctype.h>
#include <glob.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "gateway/config.h"
#include "tests/common/testutil.h"

#define GOLDEN_GLOB "tests/config/bad-*.ini"
#define SAMPLE "etc/sdpp-gateway.ini"

/* Errors as sdpp-gateway -t prints them: FILE:LINE: message, or FILE:
 * message for problems of no line. nofile drops "FILE:" for temporary files. */
struct errs {
	char buf[32768];
	size_t len;
	int n;
	int nofile;
};

static void
collect(void *ctx, const char *file, int line, const char *msg)
{
	struct errs *e = ctx;
	size_t room = sizeof(e->buf) - e->len;
	int w;

	if (e->nofile)
		w = snprintf(e->buf + e->len, room, "%d: %s\n", line, msg);
	else if (line > 0)
		w = snprintf(e->buf + e->len, room, "%s:%d: %s\n", file, line, msg);
	else
		w = snprintf(e->buf + e->len, room, "%s: %s\n", file, msg);
	if (w > 0)
		e->len += (size_t)w < room ? (size_t)w : room - 1;
	e->n++;
}

/* Writes text to a new file under /tmp; returns its malloc'd path. */
static char *
write_tmp(const char *text, size_t len)
{
	char *path = strdup("/tmp/sdpp-config-XXXXXX");
	FILE *f;
	int fd;

	assert_non_null(path);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return path;
}

/* Loads text as a config file; errors land in e as "LINE: message". */
static int
load_text(const char *text, struct gateway_config **c, struct errs *e)
{
	char *path = write_tmp(text, strlen(text));
	int n;

	memset(e, 0, sizeof(*e));
	e->nofile = 1;
	n = config_load(path, c, collect, e);
	unlink(path);
	free(path);
	return n;
}

static struct gateway_config *
load_ok(const char *path)
{
	struct gateway_config *c = NULL;
	struct errs e;

	memset(&e, 0, sizeof(e));
	if (config_load(path, &c, collect, &e) != 0)
		fail_msg("%s should load:\n%s", path, e.buf);
	assert_non_null(c);
	return c;
}

#define MINIMAL "[mqtt]\nuri = tcp://localhost:1883\n[product co2]\ntopic = a/b\nprice = 1\n"

/* One test per tests/config/bad-*.ini: exactly the errors of its .err. */
static void
test_golden(void **state)
{
	const char *ini = *state;
	static struct gateway_config dummy;
	struct gateway_config *c = &dummy;
	char errpath[256];
	char *want;
	struct errs e;
	int n, lines = 0;
	size_t i;

	snprintf(errpath, sizeof(errpath), "%.*s.err", (int)(strlen(ini) - 4), ini);
	want = test_file_read(errpath, NULL);
	if (want == NULL)
		fail_msg("%s: missing %s", ini, errpath);
	memset(&e, 0, sizeof(e));
	n = config_load(ini, &c, collect, &e);
	if (strcmp(e.buf, want) != 0)
		fail_msg("%s: errors differ\n--- expected\n%s--- got\n%s", ini, want, e.buf);
	for (i = 0; want[i] != '\0'; i++)
		lines += want[i] == '\n';
	assert_true(lines > 0);
	assert_int_equal(n, lines);
	assert_int_equal(e.n, lines);
	assert_null(c);
	free(want);
}

static void
test_golden_present(void **state)
{
	glob_t g;

	(void)state;
	/* Run from the repository root, or every golden test silently vanishes. */
	assert_int_equal(glob(GOLDEN_GLOB, 0, NULL, &g), 0);
	assert_true(g.gl_pathc >= 40);
	globfree(&g);
}

static void
test_sample(void **state)
{
	struct gateway_config *c = load_ok(SAMPLE);
	const struct product_config *p;

	(void)state;
	assert_string_equal(c->path, SAMPLE);
	assert_string_equal(c->mqtt_uri, "tcp://localhost:1883");
	assert_int_equal(c->nproducts, 8);
	p = &c->products[0];
	assert_string_equal(p->id, "co2-floor2");
	assert_string_equal(p->topic, "building/7/floor2/co2");
	assert_int_equal(p->price, 250);
	assert_string_equal(p->unit, "ppm");
	assert_int_equal(p->prepay, -1);
	assert_string_equal(c->products[1].unit, "\xc2\xb0"
	                                         "C");
	assert_int_equal(c->products[1].price, 100);
	assert_string_equal(c->products[4].id, "occupancy-floor2");
	assert_int_equal(c->products[4].price, 1000);
	assert_int_equal(c->products[4].prepay, 1);
	assert_string_equal(c->products[5].topic, "building/7/+/co2");
	assert_string_equal(c->products[5].field, "");
	assert_string_equal(c->products[6].field, "/temperature");
	assert_string_equal(c->products[6].exclude, "zigbee2mqtt/bridge/#");
	assert_true(c->products[6].min_interval_ms == 0 && !c->products[6].on_change);
	assert_true(c->products[7].min_interval_ms == 60000 && c->products[7].on_change);
	assert_string_equal(c->products[7].deadband, "0.2");
	config_free(c);
}

/* The keys of the sample's sections, from the key table, but [mqtt] uri
 * (set) and [discovery] price (no default: the sample shows an example). */
static int
sample_keys(void)
{
	const char *section, *name;
	enum config_reload r;
	size_t i;
	int n = 0;

	for (i = 0; config_key_info(i, &section, &name, &r) == 0; i++)
		if (strcmp(section, "product") != 0 && strcmp(name, "uri") != 0 &&
		    !(strcmp(section, "discovery") == 0 && strcmp(name, "price") == 0))
			n++;
	return n;
}

/* Lines ";key = value" in the sample are the defaults: uncommenting all of
 * them must give the very same config. */
static void
test_sample_defaults(void **state)
{
	struct gateway_config *a, *b;
	char *text, *out, *path;
	size_t len, i, o = 0;
	int uncommented = 0;

	(void)state;
	text = test_file_read(SAMPLE, &len);
	assert_non_null(text);
	out = malloc(len + 1);
	assert_non_null(out);
	for (i = 0; i < len;) {
		size_t j = i + 1;

		if (text[i] == ';' && islower((unsigned char)text[j])) {
			while (islower((unsigned char)text[j]) || text[j] == '_')
				j++;
			if (strncmp(text + j, " =", 2) == 0 &&
			    (text[j + 2] == ' ' || text[j + 2] == '\n')) {
				i++; /* drop the ';' */
				uncommented++;
			}
		}
		while (i < len && text[i] != '\n')
			out[o++] = text[i++];
		if (i < len)
			out[o++] = text[i++];
	}
	out[o] = '\0';
	/* Every key of the sample's sections (sample_keys). */
	assert_int_equal(uncommented, sample_keys());
	path = write_tmp(out, o);
	a = load_ok(SAMPLE);
	b = load_ok(path);
	unlink(path);
	memset(a->path, 0, sizeof(a->path));
	memset(b->path, 0, sizeof(b->path));
	assert_int_equal(a->nproducts, b->nproducts);
	assert_memory_equal(a->products, b->products, a->nproducts * sizeof(a->products[0]));
	free(a->products);
	free(b->products);
	a->products = b->products = NULL;
	assert_memory_equal(a, b, sizeof(*a));
	config_free(a);
	config_free(b);
	free(path);
	free(out);
	free(text);
}

/* The sample documents every key of the config table. */
static void
test_sample_documents_every_key(void **state)
{
	const char *section, *name;
	enum config_reload r;
	char *text, pat[64];
	size_t i;

	(void)state;
	text = test_file_read(SAMPLE, NULL);
	assert_non_null(text);
	for (i = 0; config_key_info(i, &section, &name, &r) == 0; i++) {
		snprintf(pat, sizeof(pat), "\n;%s =", name);
		if (strstr(text, pat) != NULL)
			continue;
		snprintf(pat, sizeof(pat), "\n%s =", name);
		if (strstr(text, pat) == NULL)
			fail_msg("%s does not document %s", SAMPLE, name);
	}
	free(text);
}

static void
test_minimal_defaults(void **state)
{
	struct gateway_config *c = load_ok("tests/config/good-minimal.ini");

	(void)state;
	assert_string_equal(c->name, "sdpp-gateway");
	assert_string_equal(c->listen, "0.0.0.0:7878");
	assert_string_equal(c->key, "/var/lib/sdpp-gateway/seller.key");
	assert_string_equal(c->currency, "nanos");
	assert_int_equal(c->granularity, 10);
	assert_int_equal(c->ack_every, 1);
	assert_int_equal(c->max_unpaid, 20);
	assert_int_equal(c->sign_items, 0);
	assert_int_equal(c->prepay, 0);
	assert_string_equal(c->payment_method, "voucher");
	assert_string_equal(c->payment_address, "");
	assert_int_equal(c->max_buyers, 1000);
	assert_int_equal(c->max_quantity, 0);
	assert_int_equal(c->handshake_timeout_ms, 30000);
	assert_int_equal(c->ack_timeout_ms, 5000);
	assert_int_equal(c->max_resends, 3);
	assert_int_equal(c->payment_timeout_ms, 60000);
	assert_int_equal(c->idle_timeout_ms, 60000);
	assert_int_equal(c->window, 0);
	assert_int_equal(c->buyer_queue, 64);
	assert_int_equal(c->max_frame, 1048576);
	assert_int_equal(c->output_cap, 4194304);
	assert_string_equal(c->metrics_listen, "");
	assert_string_equal(c->mqtt_client_id, "sdpp-gateway-sdpp-gateway");
	assert_string_equal(c->mqtt_username, "");
	assert_string_equal(c->mqtt_password_file, "");
	assert_string_equal(c->mqtt_ca_file, "");
	assert_int_equal(c->mqtt_qos, 1);
	assert_int_equal(c->mqtt_persistent_session, 0);
	assert_int_equal(c->mqtt_keepalive_s, 30);
	assert_int_equal(c->mqtt_queue, 10000);
	assert_int_equal(c->mqtt_publish_menu, 1);
	assert_string_equal(c->mqtt_menu_topic, "sdpp/sdpp-gateway/menu");
	assert_string_equal(c->mqtt_status_topic, "sdpp/sdpp-gateway/status");
	assert_string_equal(c->ledger_path, "/var/lib/sdpp-gateway/ledger.db");
	assert_int_equal(c->ledger_sth_every, 0);
	assert_int_equal(c->ledger_commit_delay_ms, 0);
	assert_int_equal(c->nproducts, 1);
	assert_string_equal(c->products[0].id, "co2");
	assert_int_equal(c->products[0].line, 5);
	assert_int_equal(c->products[0].prepay, -1);
	assert_string_equal(c->products[0].unit, "");
	assert_string_equal(c->products[0].description, "");
	config_free(c);
}

static void
test_values(void **state)
{
	struct gateway_config *c = load_ok("tests/config/good-values.ini");

	(void)state;
	/* Indented lines are ordinary lines, never continuations. */
	assert_string_equal(c->name, "office7");
	assert_string_equal(c->listen, "[::1]:7979");
	assert_int_equal(c->granularity, 4);
	assert_int_equal(c->ack_every, 2);
	assert_int_equal(c->max_unpaid, 8); /* 2 K, from the K of the file */
	assert_int_equal(c->sign_items, 1);
	assert_int_equal(c->prepay, 1);
	assert_int_equal(c->handshake_timeout_ms, 500);
	assert_int_equal(c->ack_timeout_ms, 120000);
	assert_int_equal(c->payment_timeout_ms, 45000);
	assert_int_equal(c->idle_timeout_ms, 3600000);
	assert_int_equal(c->window, 3);
	assert_string_equal(c->metrics_listen, "127.0.0.1:9478");
	assert_string_equal(c->mqtt_uri, "mqtts://broker.example.com:8883");
	assert_int_equal(c->mqtt_keepalive_s, 60);
	assert_int_equal(c->mqtt_qos, 0);
	assert_int_equal(c->mqtt_persistent_session, 1);
	assert_int_equal(c->mqtt_publish_menu, 0);
	assert_string_equal(c->mqtt_client_id, "sdpp-gateway-office7");
	assert_string_equal(c->mqtt_menu_topic, "sdpp/office7/menu");
	assert_string_equal(c->mqtt_status_topic, "sdpp/office7/status");
	/* The price before [gateway] currency still counts in that currency. */
	assert_int_equal(c->products[0].price, 250000000);
	assert_int_equal(c->products[0].prepay, 0);
	assert_string_equal(c->products[0].topic, "building/7/+/co2");
	assert_int_equal(c->products[1].price, 100);
	assert_int_equal(c->products[1].prepay, -1);
	config_free(c);
}

static void
check_paths(const char *path)
{
	struct gateway_config *c = load_ok(path);
	char cwd[1024], want[2048];

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	snprintf(want, sizeof(want), "%s/tests/config/keys/seller.key", cwd);
	assert_string_equal(c->key, want);
	snprintf(want, sizeof(want), "%s/tests/config/secret/mqtt-password", cwd);
	assert_string_equal(c->mqtt_password_file, want);
	assert_string_equal(c->mqtt_ca_file, "/etc/ssl/certs/ca-certificates.crt");
	snprintf(want, sizeof(want), "%s/tests/config/tls/client.crt", cwd);
	assert_string_equal(c->mqtt_cert_file, want);
	snprintf(want, sizeof(want), "%s/tests/config/./tls/client.key", cwd);
	assert_string_equal(c->mqtt_key_file, want);
	snprintf(want, sizeof(want), "%s/tests/config/../ledger.db", cwd);
	assert_string_equal(c->ledger_path, want);
	config_free(c);
}

static void
test_relative_paths(void **state)
{
	(void)state;
	check_paths("tests/config/good-paths.ini");
	check_paths("./tests/config/good-paths.ini");
	check_paths(".//tests/config/good-paths.ini");
}

static void
test_credentials_directory(void **state)
{
	static const char text[] = MINIMAL "[mqtt]\nusername = sdpp\n"
	                                   "password_file = $CREDENTIALS_DIRECTORY/mqtt-password\n";
	const char *old = getenv("CREDENTIALS_DIRECTORY");
	char *saved = old != NULL ? strdup(old) : NULL;
	struct gateway_config *c;
	struct errs e;

	(void)state;
	assert_int_equal(
	    setenv("CREDENTIALS_DIRECTORY", "/run/credentials/sdpp-gateway.service", 1), 0);
	assert_int_equal(load_text(text, &c, &e), 0);
	assert_string_equal(
	    c->mqtt_password_file, "/run/credentials/sdpp-gateway.service/mqtt-password");
	config_free(c);
	assert_int_equal(unsetenv("CREDENTIALS_DIRECTORY"), 0);
	assert_int_equal(load_text(text, &c, &e), 1);
	assert_string_equal(e.buf,
	    "8: password_file uses $CREDENTIALS_DIRECTORY, which is not set "
	    "(systemd LoadCredential=): `$CREDENTIALS_DIRECTORY/mqtt-password'\n");
	assert_null(c);
	if (saved != NULL)
		assert_int_equal(setenv("CREDENTIALS_DIRECTORY", saved, 1), 0);
	free(saved);
}

static void
test_bools(void **state)
{
	static const struct {
		const char *v;
		int want; /* -1: refused */
	} v[] = {
		{ "yes", 1 },
		{ "YES", 1 },
		{ "Yes", 1 },
		{ "true", 1 },
		{ "True", 1 },
		{ "on", 1 },
		{ "ON", 1 },
		{ "1", 1 },
		{ "no", 0 },
		{ "No", 0 },
		{ "false", 0 },
		{ "FALSE", 0 },
		{ "off", 0 },
		{ "Off", 0 },
		{ "0", 0 },
		{ "y", -1 },
		{ "n", -1 },
		{ "2", -1 },
		{ "01", -1 },
		{ "yes please", -1 },
		{ "", -1 },
		{ "enabled", -1 },
	};
	struct gateway_config *c;
	struct errs e;
	char text[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		snprintf(text, sizeof(text), MINIMAL "[gateway]\nsign_items = %s\n", v[i].v);
		if (v[i].want < 0) {
			assert_int_equal(load_text(text, &c, &e), 1);
			assert_non_null(strstr(e.buf, "sign_items is not a boolean"));
			continue;
		}
		if (load_text(text, &c, &e) != 0)
			fail_msg("sign_items = %s: %s", v[i].v, e.buf);
		assert_int_equal(c->sign_items, v[i].want);
		config_free(c);
	}
}

static void
test_durations(void **state)
{
	static const struct {
		const char *v;
		long long ms; /* -1: refused */
	} v[] = {
		{ "30", 30000 },
		{ "30s", 30000 },
		{ "500ms", 500 },
		{ "100ms", 100 },
		{ "2m", 120000 },
		{ "1h", 3600000 },
		{ "3600", 3600000 },
		{ "0030s", 30000 },
		{ "99ms", -1 },
		{ "3601", -1 },
		{ "61m", -1 },
		{ "2h", -1 },
		{ "0", -1 },
		{ "1.5s", -1 },
		{ "30 s", -1 },
		{ "30S", -1 },
		{ "s", -1 },
		{ "-5s", -1 },
		{ "", -1 },
		{ "99999999999999999999ms", -1 },
		{ "18446744073709551615h", -1 },
	};
	struct gateway_config *c;
	struct errs e;
	char text[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		snprintf(text, sizeof(text), MINIMAL "[gateway]\nack_timeout = %s\n", v[i].v);
		if (v[i].ms < 0) {
			assert_int_equal(load_text(text, &c, &e), 1);
			assert_non_null(strstr(e.buf, "ack_timeout is not a duration 100ms-1h"));
			continue;
		}
		if (load_text(text, &c, &e) != 0)
			fail_msg("ack_timeout = %s: %s", v[i].v, e.buf);
		assert_int_equal(c->ack_timeout_ms, v[i].ms);
		config_free(c);
	}
}

/* 200 bytes a line, newline included; longer lines are one error, never split. */
/* resume_timeout: 0 turns resume off; resume records may be anchored. */
static void
test_resume_keys(void **state)
{
	struct gateway_config *c = NULL;
	struct errs e;

	(void)state;
	assert_int_equal(load_text(MINIMAL, &c, &e), 0);
	assert_int_equal(c->resume_timeout_ms, 60000);
	config_free(c);
	assert_int_equal(load_text("[gateway]\nresume_timeout = 0\n" MINIMAL, &c, &e), 0);
	assert_int_equal(c->resume_timeout_ms, 0);
	config_free(c);
	assert_int_equal(load_text("[gateway]\nresume_timeout = 90s\n" MINIMAL
	                           "[iota]\nanchor = records\nanchor_kinds = resume, exit\n",
	                     &c, &e),
	    0);
	assert_int_equal(c->resume_timeout_ms, 90000);
	assert_true(c->iota_anchor_mask & (1u << 8));
	assert_true(c->iota_anchor_mask & (1u << 6));
	config_free(c);
	assert_int_equal(load_text("[gateway]\nresume_timeout = 25h\n" MINIMAL, &c, &e), 1);
	assert_non_null(strstr(e.buf, "resume_timeout"));
}

static void
test_line_limit(void **state)
{
	struct gateway_config *c;
	struct errs e;
	char text[1024], pad[256];

	(void)state;
	/* "description = " is 14 bytes: 185 more make 199, plus the newline. */
	memset(pad, 'x', 185);
	pad[185] = '\0';
	snprintf(text, sizeof(text), MINIMAL "description = %s\n", pad);
	assert_int_equal(load_text(text, &c, &e), 0);
	assert_int_equal(strlen(c->products[0].description), 185);
	config_free(c);
	/* The same line last in the file, without its newline. */
	snprintf(text, sizeof(text), MINIMAL "description = %s", pad);
	assert_int_equal(load_text(text, &c, &e), 0);
	config_free(c);
	/* One byte more: refused whole, and the tail is not a line of its own. */
	snprintf(text, sizeof(text), MINIMAL "description = %sy\nunit = ppm\n", pad);
	assert_int_equal(load_text(text, &c, &e), 1);
	assert_string_equal(e.buf, "6: line too long (max 200 bytes)\n");
	snprintf(text, sizeof(text), MINIMAL "description = %sy", pad);
	assert_int_equal(load_text(text, &c, &e), 1);
	assert_string_equal(e.buf, "6: line too long (max 200 bytes)\n");
	/* A very long line counts once, and the next line is still line 7. */
	{
		size_t cap = strlen(MINIMAL) + 5000 + 32;
		char *t = malloc(cap), *big = malloc(5000);

		assert_non_null(t);
		assert_non_null(big);
		memset(big, 'z', 4999);
		big[4999] = '\0';
		snprintf(t, cap, MINIMAL "; %s\nbogus = 1\n", big);
		assert_int_equal(load_text(t, &c, &e), 2);
		assert_string_equal(e.buf, "6: line too long (max 200 bytes)\n"
		                           "7: unknown key `bogus' in [product co2]\n");
		free(big);
		free(t);
	}
}

static void
test_line_endings(void **state)
{
	struct gateway_config *c;
	struct errs e;

	(void)state;
	assert_int_equal(load_text("[mqtt]\r\nuri = tcp://localhost:1883\r\n[product co2]\r\n"
	                           "topic = a/b\r\nprice = 1 IOTA\r\n",
	                     &c, &e),
	    0);
	assert_string_equal(c->mqtt_uri, "tcp://localhost:1883");
	assert_string_equal(c->products[0].topic, "a/b");
	assert_int_equal(c->products[0].price, 1000000000);
	config_free(c);
	/* A UTF-8 byte order mark, and no newline at the end. */
	assert_int_equal(load_text("\xef\xbb\xbf" MINIMAL "unit = ppm", &c, &e), 0);
	assert_string_equal(c->products[0].unit, "ppm");
	config_free(c);
	/* A NUL byte is an error of its line. */
	{
		static const char t[] = "[mqtt]\nuri = tcp://localhost:1883\n[product co2]\n"
		                        "topic = a/b\nprice = 1\nunit = p\0m\n";
		char *path = write_tmp(t, sizeof(t) - 1);

		memset(&e, 0, sizeof(e));
		e.nofile = 1;
		assert_int_equal(config_load(path, &c, collect, &e), 1);
		assert_string_equal(e.buf, "6: NUL byte in line\n");
		unlink(path);
		free(path);
	}
}

static void
test_prices(void **state)
{
	static const struct {
		const char *s, *currency;
		int ok;
		uint64_t v;
	} v[] = {
		{ "250", "nanos", 1, 250 },
		{ "250 nanos", "nanos", 1, 250 },
		{ "250   nanos", "nanos", 1, 250 },
		{ "250\tNANOS", "nanos", 1, 250 },
		{ "0", "nanos", 1, 0 },
		{ "0.25 IOTA", "nanos", 1, 250000000 },
		{ "0.25 iota", "nanos", 1, 250000000 },
		{ "1 IOTA", "nanos", 1, 1000000000 },
		{ "1.000000001 IOTA", "nanos", 1, 1000000001 },
		{ "0.000000001 IOTA", "nanos", 1, 1 },
		{ "18446744073 IOTA", "nanos", 1, UINT64_C(18446744073000000000) },
		{ "18446744073.709551615 IOTA", "nanos", 1, UINT64_MAX },
		{ "18446744073709551615", "nanos", 1, UINT64_MAX },
		{ "007", "nanos", 1, 7 },
		{ "42 sats", "sats", 1, 42 },
		{ "0.0000000001 IOTA", "nanos", 0, 0 }, /* finer than a nano */
		{ "18446744073.709551616 IOTA", "nanos", 0, 0 },
		{ "18446744074 IOTA", "nanos", 0, 0 },
		{ "18446744073709551616", "nanos", 0, 0 },
		{ "-1", "nanos", 0, 0 },
		{ "+1", "nanos", 0, 0 },
		{ "1.5", "nanos", 0, 0 }, /* no fraction of the base unit */
		{ "1.5 nanos", "nanos", 0, 0 },
		{ "1.0", "nanos", 0, 0 },
		{ "5 MIOTA", "nanos", 0, 0 }, /* legacy unit, ambiguous: refused */
		{ "5 Mi", "nanos", 0, 0 },
		{ "5 dollars", "nanos", 0, 0 },
		{ "1 IOTA", "sats", 0, 0 }, /* IOTA is a unit of nanos only */
		{ ".5 IOTA", "nanos", 0, 0 },
		{ "5. IOTA", "nanos", 0, 0 },
		{ "1e3", "nanos", 0, 0 },
		{ "1,000", "nanos", 0, 0 },
		{ "", "nanos", 0, 0 },
		{ " 250", "nanos", 0, 0 },
		{ "250 ", "nanos", 0, 0 },
		{ "250 IOTA extra", "nanos", 0, 0 },
	};
	uint64_t out;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		int rc = config_parse_price(v[i].s, v[i].currency, &out);

		if (rc != (v[i].ok ? 0 : -1))
			fail_msg("price `%s' (%s): rc %d", v[i].s, v[i].currency, rc);
		if (v[i].ok && out != v[i].v)
			fail_msg("price `%s': %llu", v[i].s, (unsigned long long)out);
	}
}

static void
test_menu(void **state)
{
	struct gateway_config *c = load_ok("tests/config/good-values.ini");
	static struct sdpp_product products[16]; /* of a sample file; big entries */
	struct sdpp_menu m;

	(void)state;
	config_menu(c, &m, products);
	assert_string_equal(m.version, SDPP_VERSION_2);
	assert_string_equal(m.gateway, "office7");
	assert_string_equal(m.currency, "nanos");
	assert_string_equal(m.payment_method, "voucher");
	assert_string_equal(m.payment_address, "0x2f6c");
	assert_int_equal(m.granularity, 4);
	assert_int_equal(m.ack_every, 2);
	assert_int_equal(m.max_unpaid, 8);
	assert_int_equal(m.sign_items, 1);
	assert_int_equal(m.max_frame, 1048576);
	assert_int_equal(m.nproducts, 2);
	assert_ptr_equal(m.products, products);
	assert_string_equal(products[0].id, "co2");
	assert_int_equal(products[0].price, 250000000);
	assert_string_equal(products[0].unit, "");
	assert_int_equal(products[0].prepay, 0); /* its own "no" */
	assert_int_equal(products[0].last_seen, 0);
	assert_string_equal(products[1].id, "temp");
	assert_int_equal(products[1].price, 100);
	assert_string_equal(products[1].unit, "\xc2\xb0"
	                                      "C");
	assert_string_equal(products[1].description, "Air temperature, floor 2");
	assert_int_equal(products[1].prepay, 1); /* inherited from [gateway] */
	config_free(c);

	c = load_ok(SAMPLE);
	config_menu(c, &m, products);
	assert_int_equal(m.nproducts, 8);
	assert_int_equal(m.granularity, 10);
	assert_int_equal(m.max_unpaid, 20);
	assert_int_equal(m.sign_items, 0);
	assert_int_equal(products[0].prepay, 0);
	assert_int_equal(products[4].prepay, 1);
	assert_int_equal(products[4].price, 1000);
	config_free(c);
}

/* CONFIG_PRODUCTS_MAX [product] sections load; one more is an error on
 * the header of the first one too many. Written here, not as a golden
 * file: 4097 sections would be 16,000 lines of repository. */
static void
test_product_cap(void **state)
{
	struct gateway_config *c = NULL;
	struct errs e;
	char *text, want[128];
	size_t len = 0, cap = (CONFIG_PRODUCTS_MAX + 1) * 64 + 64, i;
	int line;

	(void)state;
	text = malloc(cap);
	assert_non_null(text);
	len += (size_t)snprintf(text + len, cap - len, "[mqtt]\nuri = tcp://localhost:1883\n");
	for (i = 0; i < CONFIG_PRODUCTS_MAX; i++)
		len += (size_t)snprintf(
		    text + len, cap - len, "[product p%zu]\ntopic = b/%zu\nprice = 1\n", i, i);
	assert_int_equal(load_text(text, &c, &e), 0);
	assert_int_equal(c->nproducts, CONFIG_PRODUCTS_MAX);
	assert_string_equal(c->products[CONFIG_PRODUCTS_MAX - 1].topic, "b/4095");
	config_free(c);
	line = 3 + 3 * CONFIG_PRODUCTS_MAX;
	snprintf(text + len, cap - len, "[product one-more]\ntopic = x\nprice = 1\n");
	assert_int_equal(load_text(text, &c, &e), 1);
	assert_null(c);
	snprintf(want, sizeof(want), "%d: more than %d products\n", line, CONFIG_PRODUCTS_MAX);
	assert_string_equal(e.buf, want);
	free(text);
}

/* [discovery]: what each key becomes. */
static void
test_discovery_keys(void **state)
{
	struct gateway_config *c = NULL;
	struct errs e;

	(void)state;
	assert_int_equal(load_text("[mqtt]\nuri = tcp://localhost:1883\n"
	                           "[discovery]\nenabled = yes\nprice = 0.00000001 IOTA\n"
	                           "price.temperature = 5\nprice.carbon_dioxide = 20 nanos\n"
	                           "deny = class:battery, id:*_linkquality*\n",
	                     &c, &e),
	    0);
	assert_int_equal(c->nproducts, 0); /* discovery alone is something to sell */
	assert_true(c->discovery_enabled);
	assert_string_equal(c->discovery_prefix, "homeassistant");
	assert_int_equal(c->discovery_price, 10);
	assert_int_equal(c->nclass_prices, 2);
	assert_string_equal(c->class_prices[0].device_class, "temperature");
	assert_int_equal(c->class_prices[0].price, 5);
	assert_int_equal(c->class_prices[1].price, 20);
	assert_string_equal(c->discovery_allow, "");
	assert_string_equal(c->discovery_deny, "class:battery, id:*_linkquality*");
	config_free(c);
	/* Turned on without a price. */
	assert_int_equal(
	    load_text("[mqtt]\nuri = tcp://localhost:1883\n[discovery]\nenabled = yes\n", &c, &e),
	    1);
	assert_string_equal(
	    e.buf, "4: [discovery] needs price (what a discovered sensor costs per item)\n");
}

/* config_rule_next(): the rules of allow and deny, one at a time. */
static void
test_rules(void **state)
{
	const char *s = " class:temperature ,id:0x00*_co2 ,, topic:z2m/+ ,component:sensor,x:y";
	enum config_rule_kind k;
	char v[64];

	(void)state;
	assert_int_equal(config_rule_next(&s, &k, v, sizeof(v)), 1);
	assert_true(k == CONFIG_RULE_CLASS && strcmp(v, "temperature") == 0);
	assert_int_equal(config_rule_next(&s, &k, v, sizeof(v)), 1);
	assert_true(k == CONFIG_RULE_ID && strcmp(v, "0x00*_co2") == 0);
	assert_int_equal(config_rule_next(&s, &k, v, sizeof(v)), 1);
	assert_true(k == CONFIG_RULE_TOPIC && strcmp(v, "z2m/+") == 0);
	assert_int_equal(config_rule_next(&s, &k, v, sizeof(v)), 1);
	assert_true(k == CONFIG_RULE_COMPONENT && strcmp(v, "sensor") == 0);
	assert_int_equal(config_rule_next(&s, &k, v, sizeof(v)), -1);
	assert_string_equal(v, "x:y");
	assert_int_equal(config_rule_next(&s, &k, v, sizeof(v)), 0);
	s = "class:";
	assert_int_equal(config_rule_next(&s, &k, v, sizeof(v)), -1);
}

static void
note_change(void *ctx, const char *what)
{
	char *seen = ctx;
	size_t len = strlen(seen);

	snprintf(seen + len, 512 - len, "%s;", what);
}

/* config_changes(): each changed key, each product added, removed or changed. */
static void
test_changes(void **state)
{
	struct gateway_config *a = NULL, *b = NULL;
	struct errs e;
	char seen[512] = "";

	(void)state;
	assert_int_equal(load_text("[gateway]\nmax_buyers = 5\n[mqtt]\nuri = tcp://localhost:1883\n"
	                           "[product co2]\ntopic = a/b\nprice = 1\n"
	                           "[product temp]\ntopic = a/t\nprice = 2\n",
	                     &a, &e),
	    0);
	assert_int_equal(load_text("[gateway]\nmax_buyers = 7\n[mqtt]\nuri = tcp://localhost:1883\n"
	                           "[discovery]\nprice.temperature = 3\n"
	                           "[product co2]\ntopic = a/b\nprice = 4\n"
	                           "[product hum]\ntopic = a/h\nprice = 2\n",
	                     &b, &e),
	    0);
	config_changes(a, b, note_change, seen);
	assert_string_equal(seen, "gateway.max_buyers;discovery.price.CLASS;product co2 price;"
	                          "product hum added;product temp removed;");
	seen[0] = '\0';
	config_changes(a, a, note_change, seen);
	assert_string_equal(seen, "");
	config_free(a);
	config_free(b);
}

static void
test_missing_file(void **state)
{
	static struct gateway_config dummy;
	struct gateway_config *c = &dummy;
	struct errs e;

	(void)state;
	memset(&e, 0, sizeof(e));
	assert_int_equal(config_load("tests/config/no-such-file.ini", &c, collect, &e), 1);
	assert_null(c);
	assert_string_equal(
	    e.buf, "tests/config/no-such-file.ini: cannot open: No such file or directory\n");
	/* Without a callback the errors are only counted. */
	assert_int_equal(config_load("tests/config/bad-many-errors.ini", &c, NULL, NULL), 8);
	assert_null(c);
	config_free(NULL);
}

/* max_unpaid below K is fine when nothing is postpaid. */
static void
test_max_unpaid_prepay(void **state)
{
	struct gateway_config *c;
	struct errs e;

	(void)state;
	assert_int_equal(load_text(MINIMAL "prepay = yes\n[gateway]\nmax_unpaid = 0\n", &c, &e), 0);
	assert_int_equal(c->max_unpaid, 0);
	config_free(c);
	assert_int_equal(load_text(MINIMAL "[gateway]\nprepay = yes\nmax_unpaid = 5\n", &c, &e), 0);
	config_free(c);
	assert_int_equal(
	    load_text(MINIMAL "prepay = no\n[gateway]\nprepay = yes\nmax_unpaid = 5\n", &c, &e), 1);
	assert_string_equal(e.buf, "9: max_unpaid (5) is less than payment_granularity (10), "
	                           "which only prepay products allow\n");
	/* Exactly 32 K and exactly K are allowed; window = ack_every too. */
	assert_int_equal(load_text(MINIMAL "[gateway]\nmax_unpaid = 320\n", &c, &e), 0);
	config_free(c);
	assert_int_equal(
	    load_text(MINIMAL "[gateway]\nmax_unpaid = 10\nack_every = 10\nwindow = 10\n", &c, &e),
	    0);
	config_free(c);
}

/* 256 products load; the limit test (257) is a golden file. */
static void
test_products_max(void **state)
{
	size_t cap = 64 * (CONFIG_PRODUCTS_MAX + 2), o;
	char *text = malloc(cap);
	struct gateway_config *c;
	struct errs e;
	int i;

	(void)state;
	assert_non_null(text);
	o = (size_t)snprintf(text, cap, "[mqtt]\nuri = tcp://localhost:1883\n");
	for (i = 0; i < CONFIG_PRODUCTS_MAX; i++)
		o += (size_t)snprintf(
		    text + o, cap - o, "[product p%d]\ntopic = b/%d\nprice = %d\n", i, i, i);
	assert_int_equal(load_text(text, &c, &e), 0);
	assert_int_equal(c->nproducts, CONFIG_PRODUCTS_MAX);
	assert_string_equal(c->products[255].id, "p255");
	assert_int_equal(c->products[255].price, 255);
	config_free(c);
	free(text);
}

/* Ids of 64 bytes and the accepted listen and uri forms. */
static void
test_accepted_forms(void **state)
{
	static const char *ok[] = {
		"[gateway]\nlisten = localhost:1\n",
		"[gateway]\nlisten = [::]:65535\n",
		"[gateway]\nlisten = [2001:db8::1]:7878\n",
		"[gateway]\nlisten = gw-7.example.com:7878\n",
		"[mqtt]\nclient_id = any text, even spaces\n",
		"[mqtt]\nstatus_topic =\n",
		"[mqtt]\nkeepalive = 0\n",
		"[mqtt]\nqos = 2\n",
		"[gateway]\nmax_frame = 16384\noutput_cap = 16384\n",
		"[gateway]\nmax_frame = 16777216\noutput_cap = 16777216\n",
		"[gateway]\nmax_quantity = 9007199254740991\n",
		"[product "
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx]\ntopic = #\n"
		"price = 1\n",
		"[product a.b_c-D9]\ntopic = $SYS/+/x\nprice = 1\n",
		"[product q]\ntopic = +\nprice = 1\n",
		"[product r]\ntopic = /\nprice = 1\n",
	};
	static const char *uris[] = {
		"tcp://localhost:1883",
		"tcp://localhost",
		"mqtt://10.0.0.1:1883",
		"ssl://broker.example.com:8883",
		"mqtts://[::1]:8883",
	};
	struct gateway_config *c;
	struct errs e;
	char text[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(text, sizeof(text), MINIMAL "%s", ok[i]);
		if (load_text(text, &c, &e) != 0)
			fail_msg("%s: %s", ok[i], e.buf);
		config_free(c);
	}
	for (i = 0; i < sizeof(uris) / sizeof(uris[0]); i++) {
		snprintf(text, sizeof(text),
		    "[mqtt]\nuri = %s\n[product co2]\ntopic = a\nprice = 1\n", uris[i]);
		if (load_text(text, &c, &e) != 0)
			fail_msg("%s: %s", uris[i], e.buf);
		assert_string_equal(c->mqtt_uri, uris[i]);
		config_free(c);
	}
}

static void
note_changed(void *ctx, const char *section, const char *name)
{
	char *seen = ctx;
	size_t n = strlen(seen);

	snprintf(seen + n, 512 - n, "%s.%s ", section, name);
}

/* ------------------------------------------------------------------ */
/* The reload rules: docs/OPERATIONS.md and sdpp-gateway.ini(5) carry a  */
/* table generated from the key table's reload column.                   */

static const char *const reload_label[] = {
	[CONFIG_RELOAD_LIVE] = "at once",
	[CONFIG_RELOAD_MENU] = "orders placed after the reload (the menu's terms)",
	[CONFIG_RELOAD_CONN] = "buyers who connect after the reload",
	[CONFIG_RELOAD_RESTART] = "the next restart (the running value stays until then, and "
	                          "the log says so)",
};

/* The expected block: markdown (man = 0) or mdoc (man = 1). */
static void
reload_table(char *out, size_t cap, int man)
{
	const char *section, *name;
	enum config_reload r, want;
	size_t i, len = 0;
	int first;

#define PUT(...) len += (size_t)snprintf(out + len, len < cap ? cap - len : 0, __VA_ARGS__)
	PUT(man ? ".Bl -tag -width Ds\n" : "| takes effect | keys |\n|---|---|\n");
	for (want = CONFIG_RELOAD_LIVE; want <= CONFIG_RELOAD_RESTART; want++) {
		PUT(man ? ".It %s\n" : "| %s |", reload_label[want]);
		first = 1;
		for (i = 0; config_key_info(i, &section, &name, &r) == 0; i++) {
			if (r != want)
				continue;
			if (man)
				PUT("%s.Sy %s.%s", first ? "" : " ,\n", section, name);
			else
				PUT("%s`%s.%s`", first ? " " : ", ", section, name);
			first = 0;
		}
		PUT(man ? "\n" : " |\n");
	}
	PUT(man ? ".El\n" : "");
#undef PUT
	assert_true(len < cap);
}

/* The text between the lines holding begin and end (exclusive). */
static char *
between(const char *text, const char *begin, const char *end)
{
	const char *a = strstr(text, begin), *b;

	if (a == NULL || (a = strchr(a, '\n')) == NULL)
		return NULL;
	a++;
	b = strstr(a, end);
	if (b == NULL)
		return NULL;
	while (b > a && b[-1] != '\n')
		b--;
	return strndup(a, (size_t)(b - a));
}

static void
check_reload_doc(const char *path, const char *begin, const char *end, int man)
{
	char want[8192], *text, *got;

	reload_table(want, sizeof(want), man);
	text = test_file_read(path, NULL);
	assert_non_null(text);
	got = between(text, begin, end);
	if (got == NULL)
		fail_msg("%s: no reload table between `%s' and `%s'", path, begin, end);
	if (strcmp(got, want) != 0) {
		/* The whole block, to paste: too long for one failure message. */
		FILE *f =
		    fopen(man ? "/tmp/sdpp-reload-table.man" : "/tmp/sdpp-reload-table.md", "w");

		if (f != NULL) {
			fputs(want, f);
			fclose(f);
		}
		fail_msg("%s: the reload table differs from gateway/config.c's (what it should "
		         "read is in /tmp/sdpp-reload-table.%s)",
		    path, man ? "man" : "md");
	}
	free(got);
	free(text);
}

static void
test_reload_docs(void **state)
{
	(void)state;
	check_reload_doc("docs/OPERATIONS.md", "<!-- reload table", "<!-- end of reload table", 0);
	check_reload_doc(
	    "man/sdpp-gateway.ini.5", ".\\\" reload table", ".\\\" end of reload table", 1);
}

/* A reload keeps every restart key's running value, names each one that
 * changed, and takes everything else. */
static void
test_keep_restart(void **state)
{
	struct gateway_config cur, next;
	char seen[512] = "";

	(void)state;
	memset(&cur, 0, sizeof(cur));
	memset(&next, 0, sizeof(next));
	snprintf(cur.listen, sizeof(cur.listen), "0.0.0.0:7878");
	snprintf(next.listen, sizeof(next.listen), "0.0.0.0:9999");
	cur.mqtt_qos = 1;
	next.mqtt_qos = 2;
	cur.max_buyers = 10;
	next.max_buyers = 20;
	cur.granularity = 4;
	next.granularity = 8;
	config_keep_restart(&cur, &next, note_changed, seen);
	assert_string_equal(next.listen, "0.0.0.0:7878");
	assert_int_equal(next.mqtt_qos, 1);
	assert_true(next.max_buyers == 20 && next.granularity == 8);
	assert_string_equal(seen, "gateway.listen mqtt.qos ");
}

int
main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_golden_present),
		cmocka_unit_test(test_sample),
		cmocka_unit_test(test_sample_defaults),
		cmocka_unit_test(test_product_cap),
		cmocka_unit_test(test_discovery_keys),
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_changes),
		cmocka_unit_test(test_sample_documents_every_key),
		cmocka_unit_test(test_reload_docs),
		cmocka_unit_test(test_keep_restart),
		cmocka_unit_test(test_minimal_defaults),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_relative_paths),
		cmocka_unit_test(test_credentials_directory),
		cmocka_unit_test(test_bools),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_resume_keys),
		cmocka_unit_test(test_line_limit),
		cmocka_unit_test(test_line_endings),
		cmocka_unit_test(test_prices),
		cmocka_unit_test(test_menu),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_max_unpaid_prepay),
		cmocka_unit_test(test_products_max),
		cmocka_unit_test(test_accepted_forms),
	};
	size_t nfixed = sizeof(fixed) / sizeof(fixed[0]), i, n;
	struct CMUnitTest *tests;
	glob_t g;
	int rc;

	/* One test per golden file, named after it. */
	if (glob(GOLDEN_GLOB, 0, NULL, &g) != 0)
		g.gl_pathc = 0;
	n = nfixed + g.gl_pathc;
	tests = calloc(n, sizeof(*tests));
	if (tests == NULL)
		return 1;
	memcpy(tests, fixed, sizeof(fixed));
	for (i = 0; i < g.gl_pathc; i++) {
		tests[nfixed + i].name = g.gl_pathv[i];
		tests[nfixed + i].test_func = test_golden;
		tests[nfixed + i].initial_state = g.gl_pathv[i];
	}
	rc = _cmocka_run_group_tests("config", tests, n, NULL, NULL);
	free(tests);
	if (g.gl_pathc > 0)
		globfree(&g);
	return rc;
}
