/* Test tool: sends one JSON-RPC request (or a raw POST) to 127.0.0.1:PORT and prints the answer. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

/*
 * usage: tool_iotarpc [-t SECONDS] [-q PATH]... PORT METHOD [PARAMS]
 *        tool_iotarpc [-t SECONDS] [-q PATH]... -P URLPATH PORT BODY
 *        tool_iotarpc -q PATH... -J JSON
 *
 * The first form posts {"jsonrpc":"2.0","id":1,"method":METHOD,
 * "params":PARAMS} (PARAMS is JSON text, default []) to /; the second posts
 * BODY as it is (@FILE: the file's bytes). "HTTP <status>" goes to stderr,
 * the response body to stdout, or with -q the value at each PATH, one a
 * line (dot-separated keys and array indices, as result.data.0.balance;
 * strings bare, anything else as JSON). -J sends nothing: it answers the
 * queries about JSON text the caller already holds.
 *
 * Exit status: 0 for HTTP 2xx, 3 for another status, 4 when a -q path is
 * missing, 1 when there was no answer (refused, timed out), 2 for usage.
 */

#define QUERIES_MAX 16
#define FILE_MAX (8 * 1024 * 1024)

struct result {
	struct event_base *base;
	int done;
	int code;
	char *body;
	size_t len;
};

static void
on_response(struct evhttp_request *req, void *arg)
{
	struct result *r = arg;
	struct evbuffer *in;

	r->done = 1;
	if (req != NULL && evhttp_request_get_response_code(req) != 0) {
		r->code = evhttp_request_get_response_code(req);
		in = evhttp_request_get_input_buffer(req);
		r->len = evbuffer_get_length(in);
		r->body = malloc(r->len + 1);
		if (r->body != NULL) {
			evbuffer_copyout(in, r->body, r->len);
			r->body[r->len] = '\0';
		}
	}
	event_base_loopexit(r->base, NULL);
}

static char *
read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;

	if (f == NULL)
		return NULL;
	buf = malloc(FILE_MAX);
	if (buf == NULL) {
		fclose(f);
		return NULL;
	}
	*len = fread(buf, 1, FILE_MAX, f);
	fclose(f);
	return buf;
}

/* The value at a dotted path, or NULL. */
static const cJSON *
lookup(const cJSON *j, const char *path)
{
	char key[256];
	const char *p = path, *dot;
	size_t k;

	while (j != NULL && *p != '\0') {
		dot = strchr(p, '.');
		k = dot != NULL ? (size_t)(dot - p) : strlen(p);
		if (k >= sizeof(key))
			return NULL;
		memcpy(key, p, k);
		key[k] = '\0';
		if (cJSON_IsArray(j)) {
			char *end;
			long i = strtol(key, &end, 10);

			if (*end != '\0' || end == key || i < 0)
				return NULL;
			j = cJSON_GetArrayItem(j, (int)i);
		} else {
			j = cJSON_GetObjectItemCaseSensitive(j, key);
		}
		p += k;
		if (*p == '.')
			p++;
	}
	return j;
}

/* Prints the value at each query path; -1 if one is missing. */
static int
print_queries(const char *text, size_t len, const char *const *queries, size_t nq)
{
	cJSON *j = cJSON_ParseWithLength(text, len);
	size_t q;
	int rc = 0;

	for (q = 0; q < nq; q++) {
		const cJSON *v = lookup(j, queries[q]);
		char *t;

		if (v == NULL) {
			printf("\n");
			fprintf(stderr, "tool_iotarpc: no %s in %.300s\n", queries[q], text);
			rc = -1;
		} else if (cJSON_IsString(v)) {
			printf("%s\n", v->valuestring);
		} else {
			t = cJSON_PrintUnformatted(v);
			printf("%s\n", t != NULL ? t : "");
			free(t);
		}
	}
	cJSON_Delete(j);
	return rc;
}

static void
usage(void)
{
	fprintf(stderr, "usage: tool_iotarpc [-t SECONDS] [-q PATH]... PORT METHOD [PARAMS]\n"
	                "       tool_iotarpc [-t SECONDS] [-q PATH]... -P URLPATH PORT BODY\n"
	                "       tool_iotarpc -q PATH... -J JSON\n");
}

int
main(int argc, char **argv)
{
	const char *queries[QUERIES_MAX], *urlpath = NULL, *port_s, *what;
	size_t nq = 0, body_len = 0;
	long timeout = 10, port;
	char *body = NULL, *end;
	struct evhttp_connection *evcon = NULL;
	struct evhttp_request *req;
	struct result r;
	int i, rc = 1;

	memset(&r, 0, sizeof(r));
	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
		if (i + 1 >= argc) {
			usage();
			return 2;
		}
		if (strcmp(argv[i], "-t") == 0) {
			timeout = strtol(argv[++i], &end, 10);
			if (*end != '\0' || timeout < 1 || timeout > 3600) {
				fprintf(stderr, "tool_iotarpc: -t is not 1-3600: `%s'\n", argv[i]);
				return 2;
			}
		} else if (strcmp(argv[i], "-q") == 0 && nq < QUERIES_MAX) {
			queries[nq++] = argv[++i];
		} else if (strcmp(argv[i], "-P") == 0) {
			urlpath = argv[++i];
		} else if (strcmp(argv[i], "-J") == 0 && i + 2 == argc) {
			return print_queries(argv[i + 1], strlen(argv[i + 1]), queries, nq) == 0
			           ? 0
			           : 4;
		} else {
			usage();
			return 2;
		}
	}
	if (argc - i < 2 || argc - i > 3 || (urlpath != NULL && argc - i != 2)) {
		usage();
		return 2;
	}
	port_s = argv[i];
	what = argv[i + 1];
	port = strtol(port_s, &end, 10);
	if (*end != '\0' || port < 1 || port > 65535) {
		fprintf(stderr, "tool_iotarpc: PORT is not 1-65535: `%s'\n", port_s);
		return 2;
	}
	if (urlpath != NULL) {
		const char *b = argv[i + 1];

		if (b[0] == '@') {
			body = read_file(b + 1, &body_len);
			if (body == NULL) {
				fprintf(stderr, "tool_iotarpc: cannot read %s: %s\n", b + 1,
				    strerror(errno));
				return 2;
			}
		} else {
			body = strdup(b);
			body_len = body != NULL ? strlen(body) : 0;
		}
	} else {
		cJSON *req_j = cJSON_CreateObject(), *params;
		const char *ptext = argc - i == 3 ? argv[i + 2] : "[]";

		params = cJSON_Parse(ptext);
		if (params == NULL) {
			fprintf(stderr, "tool_iotarpc: PARAMS is not JSON: `%s'\n", ptext);
			cJSON_Delete(req_j);
			return 2;
		}
		cJSON_AddStringToObject(req_j, "jsonrpc", "2.0");
		cJSON_AddNumberToObject(req_j, "id", 1);
		cJSON_AddStringToObject(req_j, "method", what);
		cJSON_AddItemToObject(req_j, "params", params);
		body = cJSON_PrintUnformatted(req_j);
		body_len = body != NULL ? strlen(body) : 0;
		cJSON_Delete(req_j);
		urlpath = "/";
	}
	if (body == NULL) {
		fprintf(stderr, "tool_iotarpc: out of memory\n");
		return 1;
	}
	r.base = event_base_new();
	if (r.base != NULL)
		evcon = evhttp_connection_base_new(r.base, NULL, "127.0.0.1", (uint16_t)port);
	if (evcon == NULL) {
		fprintf(stderr, "tool_iotarpc: cannot set up a connection\n");
		goto out;
	}
	evhttp_connection_set_timeout(evcon, (int)timeout);
	req = evhttp_request_new(on_response, &r);
	if (req == NULL)
		goto out;
	evhttp_add_header(evhttp_request_get_output_headers(req), "Host", "127.0.0.1");
	evhttp_add_header(
	    evhttp_request_get_output_headers(req), "Content-Type", "application/json");
	evbuffer_add(evhttp_request_get_output_buffer(req), body, body_len);
	if (evhttp_make_request(evcon, req, EVHTTP_REQ_POST, urlpath) != 0) {
		fprintf(stderr, "tool_iotarpc: cannot send the request\n");
		goto out;
	}
	event_base_dispatch(r.base);
	if (r.code == 0 || r.body == NULL) {
		fprintf(stderr, "tool_iotarpc: no answer from 127.0.0.1:%ld\n", port);
		goto out;
	}
	fprintf(stderr, "HTTP %d\n", r.code);
	rc = r.code >= 200 && r.code < 300 ? 0 : 3;
	if (nq == 0) {
		fwrite(r.body, 1, r.len, stdout);
		if (r.len == 0 || r.body[r.len - 1] != '\n')
			putchar('\n');
	} else if (print_queries(r.body, r.len, queries, nq) != 0) {
		rc = 4;
	}
	fflush(stdout);
out:
	if (evcon != NULL)
		evhttp_connection_free(evcon);
	if (r.base != NULL)
		event_base_free(r.base);
	free(r.body);
	free(body);
	return rc;
}
