/* Tables for mqtt/link.c: URI schemes, OpenSSL error lines, reasons, password files, the probe. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "mqtt/link.h"

static void
test_uri_tls(void **state)
{
	static const struct {
		const char *uri;
		int rc, tls;
	} cases[] = {
		{ "tcp://localhost:1883", 0, 0 },
		{ "mqtt://broker", 0, 0 },
		{ "ssl://127.0.0.1:8883", 0, 1 },
		{ "mqtts://homeassistant.local", 0, 1 },
		{ "mqtts://", -1, 0 }, /* no host */
		{ "tcp://", -1, 0 },
		{ "ws://broker:80", -1, 0 },
		{ "wss://broker", -1, 0 },
		{ "SSL://broker", -1, 0 }, /* Paho's schemes are lower case */
		{ "broker:1883", -1, 0 },
		{ "", -1, 0 },
	};

	(void)state;
	assert_int_equal(mqtt_uri_tls(NULL, &(int){ 0 }), -1);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int tls = -1, rc = mqtt_uri_tls(cases[i].uri, &tls);

		if (rc != cases[i].rc || (rc == 0 && tls != cases[i].tls))
			fail_msg("`%s': rc %d tls %d, want rc %d tls %d", cases[i].uri, rc, tls,
			    cases[i].rc, cases[i].tls);
	}
}

static void
test_tls_reason(void **state)
{
	static const struct {
		const char *line;
		size_t outlen;
		const char *want;
	} cases[] = {
		/* What Paho's ssl_error_cb gets from OpenSSL 3.0 (Debian 12). */
		{ "C0E61FFF057F0000:error:0A000086:SSL routines:tls_post_process_server_"
		  "certificate:certificate verify failed:../ssl/statem/statem_clnt.c:1889:\n",
		    64, "certificate verify failed" },
		{ "40A7:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:"
		  "../ssl/record/ssl3_record.c:354:",
		    64, "wrong version number" },
		{ "40A7:error:80000002:system library:file_open:No such file or directory\n", 64,
		    "No such file or directory" },
		{ "40A7:error:0A000086:SSL routines:f:certificate verify failed:x.c:1:", 12,
		    "certificate" }, /* cut to outlen */
		{ "not an OpenSSL line", 64, "" },
		{ "a:b:c:d:", 64, "" },
		{ "", 64, "" },
	};
	char out[64];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n;

		memset(out, 'x', sizeof(out));
		n = mqtt_tls_reason(cases[i].line, strlen(cases[i].line), out, cases[i].outlen);
		if (strcmp(out, cases[i].want) != 0 || n != strlen(cases[i].want))
			fail_msg("case %zu: `%s' (%zu), want `%s'", i, out, n, cases[i].want);
	}
	assert_int_equal(mqtt_tls_reason("a:b", 3, out, 0), 0);
}

static void
test_connect_why(void **state)
{
	static const struct {
		int code;
		const char *message, *tls_reason, *want;
	} cases[] = {
		{ 1, NULL, NULL,
		    "refused by the broker: unacceptable protocol version (CONNACK 1)" },
		{ 2, NULL, NULL, "refused by the broker: client identifier rejected (CONNACK 2)" },
		{ 3, NULL, NULL, "refused by the broker: server unavailable (CONNACK 3)" },
		{ 4, "CONNACK return code", NULL,
		    "refused by the broker: bad user name or password (CONNACK 4)" },
		{ 5, "CONNACK return code", "certificate verify failed",
		    "refused by the broker: not authorized (CONNACK 5)" },
		{ -1, "TCP/TLS connect failure", "certificate verify failed",
		    "TLS: certificate verify failed" },
		{ -1, "TCP/TLS connect failure", "", "TCP/TLS connect failure" },
		{ -1, NULL, NULL, "Failure" }, /* MQTTAsync_strerror(-1) */
	};
	char why[MQTT_WHY_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = mqtt_connect_why(cases[i].code, cases[i].message,
		    cases[i].tls_reason, "tcp://127.0.0.1:1", NULL, 0, why, sizeof(why));

		assert_ptr_equal(got, why);
		if (strcmp(why, cases[i].want) != 0)
			fail_msg("code %d: `%s', want `%s'", cases[i].code, why, cases[i].want);
	}
}

/* Writes text to a new file of mode in dir; returns its path in path. */
static void
write_file(char *path, size_t len, const char *dir, const char *name, const char *text, mode_t mode)
{
	FILE *f;

	snprintf(path, len, "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static void
test_password_read(void **state)
{
	char dir[] = "/tmp/sdpp-test-link-XXXXXX", path[128], out[16], err[256];
	static const struct {
		const char *name, *text;
		mode_t mode;
		int rc;
		const char *want; /* the password, or a part of err */
	} cases[] = {
		{ "pw", "s3cret\n", 0600, 0, "s3cret" },
		{ "crlf", "s3cret\r\n", 0400, 0, "s3cret" },
		{ "bare", "s3cret", 0600, 0, "s3cret" },
		{ "spaces", " a b \n", 0600, 0, " a b " },
		{ "empty", "", 0600, 0, "" },
		{ "loose", "s3cret\n", 0644, -1, "group or others" },
		{ "long", "0123456789abcdef\n", 0600, -1, "longer than 15 bytes" },
	};

	(void)state;
	assert_non_null(mkdtemp(dir));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc;

		write_file(path, sizeof(path), dir, cases[i].name, cases[i].text, cases[i].mode);
		err[0] = '\0';
		rc = mqtt_password_read(path, out, sizeof(out), err, sizeof(err));
		if (rc != cases[i].rc || (rc == 0 && strcmp(out, cases[i].want) != 0) ||
		    (rc != 0 && (strstr(err, cases[i].want) == NULL || out[0] != '\0')))
			fail_msg("%s: rc %d out `%s' err `%s'", cases[i].name, rc, out, err);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/missing", dir);
	assert_int_equal(mqtt_password_read(path, out, sizeof(out), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "missing"));
	rmdir(dir);
}

/* A listening socket on 127.0.0.1 that never accepts; its port in *port. */
static int
silent_listener(int *port)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

static long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

static void
test_probe(void **state)
{
	struct mqtt_tls_files none = { NULL, NULL, NULL },
	                      bad_ca = { "/nonexistent/ca.pem", NULL, NULL };
	char uri[64], why[MQTT_WHY_MAX], want[128];
	int port, fd, port2, fd2;
	long t0;

	(void)state;
	/* A listener that takes the connection but never speaks TLS: the
	 * handshake ends at the deadline, not never. */
	fd = silent_listener(&port);
	snprintf(uri, sizeof(uri), "mqtts://127.0.0.1:%d", port);
	t0 = mono_ms();
	assert_int_equal(mqtt_probe(uri, &none, 300, why, sizeof(why)), 1);
	assert_true(mono_ms() - t0 < 3000);
	snprintf(want, sizeof(want), "TLS handshake with 127.0.0.1:%d failed: timed out", port);
	assert_string_equal(why, want);
	/* Plain TCP gets that far: nothing wrong below MQTT. */
	snprintf(uri, sizeof(uri), "tcp://127.0.0.1:%d", port);
	assert_int_equal(mqtt_probe(uri, NULL, 300, why, sizeof(why)), 0);
	/* A CA file that is not there is named before any handshake. */
	snprintf(uri, sizeof(uri), "ssl://127.0.0.1:%d", port);
	assert_int_equal(mqtt_probe(uri, &bad_ca, 300, why, sizeof(why)), 1);
	assert_non_null(strstr(why, "TLS: CA file /nonexistent/ca.pem: "));
	close(fd);

	/* No time left once connected: timed out at once. A zero socket
	 * timeout would have let the handshake wait for ever (alarm: the
	 * test dies rather than hangs). */
	fd2 = silent_listener(&port2);
	snprintf(uri, sizeof(uri), "mqtts://127.0.0.1:%d", port2);
	alarm(10);
	assert_int_equal(mqtt_probe(uri, &none, 0, why, sizeof(why)), 1);
	alarm(0);
	assert_non_null(strstr(why, "timed out"));
	close(fd2);

	/* The same port, closed now: refused. */
	snprintf(uri, sizeof(uri), "mqtt://127.0.0.1:%d", port);
	assert_int_equal(mqtt_probe(uri, NULL, 300, why, sizeof(why)), 1);
	snprintf(want, sizeof(want), "cannot connect to 127.0.0.1:%d: Connection refused", port);
	assert_string_equal(why, want);

	/* Not an MQTT URI, and a port out of range. */
	assert_int_equal(mqtt_probe("http://x", NULL, 300, why, sizeof(why)), 1);
	assert_string_equal(why, "not an MQTT URI: `http://x'");
	assert_int_equal(mqtt_probe("tcp://127.0.0.1:70000", NULL, 300, why, sizeof(why)), 1);
	assert_non_null(strstr(why, "port"));
	assert_int_equal(mqtt_probe("tcp:///x", NULL, 300, why, sizeof(why)), 1);
	assert_string_equal(why, "no host in `tcp:///x'");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uri_tls),
		cmocka_unit_test(test_tls_reason),
		cmocka_unit_test(test_connect_why),
		cmocka_unit_test(test_password_read),
		cmocka_unit_test(test_probe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
