/* Test tool: a loopback IOTA Rebased JSON-RPC node and faucet (tool_iotanode); HTTP and main. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "tests/iotanode/iotanode.h"

enum pending_kind {
	PENDING_STALLED, /* not handled yet: waits for stall to be switched off */
	PENDING_DELAYED, /* handled: the reply waits for its timer */
};

struct node;

/* A request we have not answered yet. */
struct pending {
	struct node *n;
	enum pending_kind kind;
	struct evhttp_request *req;
	int faucet;
	char *body; /* STALLED: the request body; DELAYED: the reply (owned) */
	size_t len;
	int code;            /* DELAYED */
	const char *ctype;   /* DELAYED */
	char label[64];      /* for the log */
	struct event *timer; /* DELAYED */
	struct pending *next;
};

/* ------------------------------------------------------------------ HTTP */

static void
log_line(
    struct node *n, struct evhttp_request *req, const char *what, int code, const char *outcome)
{
	const char *uri;

	if (n->quiet)
		return;
	uri = req != NULL ? evhttp_request_get_uri(req) : "-";
	fprintf(stderr, "tool_iotanode: POST %s method=%s http=%d %s\n", uri ? uri : "-", what,
	    code, outcome);
}

static void
send_text(struct node *n, struct evhttp_request *req, int code, const char *ctype, const char *body,
    const char *what, const char *outcome)
{
	struct evbuffer *b = evbuffer_new();

	log_line(n, req, what, code, outcome);
	if (b == NULL) {
		evhttp_send_error(req, 500, "out of memory");
		return;
	}
	evbuffer_add(b, body, strlen(body));
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", ctype);
	evhttp_send_reply(req, code, code == 201 ? "Created" : code == 200 ? "OK" : "Error", b);
	evbuffer_free(b);
}

static void
pending_unlink(struct node *n, struct pending *p)
{
	struct pending **pp;

	for (pp = &n->pending; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			return;
		}
	}
}

static void
pending_free(struct pending *p)
{
	if (p->timer != NULL)
		event_free(p->timer);
	free(p->body);
	free(p);
}

static void
delay_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pending *p = arg;

	(void)fd;
	(void)what;
	pending_unlink(p->n, p);
	send_text(p->n, p->req, p->code, p->ctype, p->body, p->label, "delayed");
	pending_free(p);
}

/* Answers now, or after delay_ms for requests the mode slows down. Takes body. */
static void
answer(struct node *n, struct evhttp_request *req, int slowed, int code, const char *ctype,
    char *body, const char *what, const char *outcome)
{
	struct pending *p, **tail;
	struct timeval tv;

	if (body == NULL) {
		log_line(n, req, what, 500, "out of memory");
		evhttp_send_error(req, 500, "out of memory");
		return;
	}
	if (!slowed || n->delay_ms == 0 || n->stopping) {
		send_text(n, req, code, ctype, body, what, outcome);
		free(body);
		return;
	}
	p = calloc(1, sizeof(*p));
	if (p != NULL)
		p->timer = evtimer_new(n->base, delay_cb, p);
	if (p == NULL || p->timer == NULL) {
		free(p);
		send_text(n, req, code, ctype, body, what, outcome);
		free(body);
		return;
	}
	p->n = n;
	p->kind = PENDING_DELAYED;
	p->req = req;
	p->body = body;
	p->code = code;
	p->ctype = ctype;
	snprintf(p->label, sizeof(p->label), "%s", what);
	for (tail = &n->pending; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = p;
	tv.tv_sec = n->delay_ms / 1000;
	tv.tv_usec = (n->delay_ms % 1000) * 1000;
	evtimer_add(p->timer, &tv);
}

/* Handles a request whose body we hold, mode permitting. */
static void
dispatch(struct node *n, struct evhttp_request *req, int faucet, const char *body, size_t len,
    const char *method)
{
	int standin = !faucet && strncmp(method, "standin_", 8) == 0, code = 200;
	char label[64], *out;

	if (!standin && n->down) {
		send_text(n, req, 503, "text/plain",
		    "503 Service Unavailable: the stand-in node is down (standin_setMode)\n",
		    method, "down");
		return;
	}
	if (!standin && n->stall) {
		struct pending *p, **tail;

		if (n->n_stalled >= STALL_MAX) {
			send_text(n, req, 503, "text/plain",
			    "503 Service Unavailable: too many stalled requests\n", method,
			    "stall-full");
			return;
		}
		p = calloc(1, sizeof(*p));
		if (p != NULL)
			p->body = malloc(len + 1);
		if (p == NULL || p->body == NULL) {
			free(p);
			evhttp_send_error(req, 500, "out of memory");
			return;
		}
		memcpy(p->body, body, len);
		p->body[len] = '\0';
		p->len = len;
		p->n = n;
		p->kind = PENDING_STALLED;
		p->req = req;
		p->faucet = faucet;
		snprintf(p->label, sizeof(p->label), "%s", method);
		for (tail = &n->pending; *tail != NULL; tail = &(*tail)->next)
			;
		*tail = p;
		n->n_stalled++;
		return;
	}
	if (faucet) {
		out = handle_faucet(n, body, len, &code, label, sizeof(label));
		answer(n, req, 1, code, "application/json", out, method, label);
		return;
	}
	out = handle_rpc(n, body, len, label, sizeof(label));
	if (n->lose_execute > 0 && strcmp(method, "iota_executeTransactionBlock") == 0) {
		n->lose_execute--;
		free(out);
		send_text(n, req, 503, "text/plain",
		    "503 Service Unavailable: the answer was lost (standin_setMode lose_execute)\n",
		    method, "lost");
		return;
	}
	answer(n, req, !standin, 200, "application/json", out, method, label);
}

/* Stall switched off: handle the held requests in arrival order. */
void
release_stalled(struct node *n)
{
	struct pending *p, *next, *held = NULL, **tail = &held;

	/* Detach the stalled ones first: handling may queue delayed replies. */
	for (p = n->pending, n->pending = NULL; p != NULL; p = next) {
		next = p->next;
		p->next = NULL;
		if (p->kind == PENDING_STALLED) {
			*tail = p;
			tail = &p->next;
		} else {
			struct pending **t2;

			for (t2 = &n->pending; *t2 != NULL; t2 = &(*t2)->next)
				;
			*t2 = p;
		}
	}
	n->n_stalled = 0;
	for (p = held; p != NULL; p = next) {
		next = p->next;
		dispatch(n, p->req, p->faucet, p->body, p->len, p->label);
		pending_free(p);
	}
}

static void
on_request(struct evhttp_request *req, void *arg)
{
	struct node *n = arg;
	const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
	const char *path = u != NULL ? evhttp_uri_get_path(u) : NULL;
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	char method[64], *body;
	int faucet;

	if (path == NULL || (strcmp(path, "/") != 0 && strcmp(path, "/v1/gas") != 0)) {
		send_text(n, req, 404, "text/plain", "404 Not Found: POST / or /v1/gas\n", "-",
		    "not-found");
		return;
	}
	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		send_text(n, req, 405, "text/plain", "405 Method Not Allowed: POST only\n", "-",
		    "not-post");
		return;
	}
	if (len > BODY_MAX) {
		send_text(n, req, 413, "text/plain", "413 Payload Too Large\n", "-", "too-large");
		return;
	}
	if (n->stopping) {
		send_text(n, req, 503, "text/plain", "503 Service Unavailable: stopping\n", "-",
		    "stopping");
		return;
	}
	body = malloc(len + 1);
	if (body == NULL) {
		evhttp_send_error(req, 500, "out of memory");
		return;
	}
	evbuffer_copyout(in, body, len);
	body[len] = '\0';
	faucet = strcmp(path, "/v1/gas") == 0;
	if (faucet)
		snprintf(method, sizeof(method), "faucet");
	else
		peek_method(body, len, method, sizeof(method));
	dispatch(n, req, faucet, body, len, method);
	free(body);
}

/* SIGTERM/SIGINT: answer what waits (delayed replies now, stalled ones
 * with 503), then leave the loop once the replies are written. */
static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct node *n = arg;
	struct pending *p, *next;
	struct timeval flush = { 0, 200000 };

	(void)what;
	if (n->stopping)
		return;
	n->stopping = 1;
	if (!n->quiet)
		fprintf(stderr, "tool_iotanode: signal %d, stopping\n", (int)sig);
	for (p = n->pending, n->pending = NULL; p != NULL; p = next) {
		next = p->next;
		if (p->kind == PENDING_DELAYED)
			send_text(n, p->req, p->code, p->ctype, p->body, p->label, "flushed");
		else
			send_text(n, p->req, 503, "text/plain",
			    "503 Service Unavailable: stopping\n", p->label, "stall-dropped");
		pending_free(p);
	}
	n->n_stalled = 0;
	event_base_loopexit(n->base, &flush);
}

/* Writes "PORT\n" to path atomically: a temporary file, fsync, rename. */
static int
write_port_file(const char *path, unsigned port)
{
	char tmp[4096], text[16];
	int fd, k, len;

	k = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	len = snprintf(text, sizeof(text), "%u\n", port);
	if (k < 0 || (size_t)k >= sizeof(tmp) || len < 0)
		return -1;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return -1;
	if (write(fd, text, (size_t)len) != len || fsync(fd) != 0) {
		close(fd);
		unlink(tmp);
		return -1;
	}
	if (close(fd) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: tool_iotanode [--port N | --port-file FILE] [--gas-price N] "
	                "[--quiet]\n");
}

static int
parse_u64_arg(const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *v)
{
	if (sdpp_money_parse(v, s) != SDPP_OK || *v < min || *v > max) {
		fprintf(stderr,
		    "tool_iotanode: %s is not a whole number from %" PRIu64 " to %" PRIu64
		    ": `%s'\n",
		    opt, min, max, s);
		return -1;
	}
	return 0;
}

static void
node_free(struct node *n)
{
	size_t i;

	for (i = 0; i < n->n_objs; i++) {
		free(n->objs[i].type);
		free(n->objs[i].data_hex);
		free(n->objs[i].description);
	}
	free(n->objs);
	for (i = 0; i < n->n_txs; i++)
		cJSON_Delete(n->txs[i].resp);
	free(n->txs);
	free(n->lag);
	cJSON_Delete(n->calls);
	cJSON_Delete(n->notarizations);
	cJSON_Delete(n->payments);
}

int
main(int argc, char **argv)
{
	struct node n;
	struct evhttp_bound_socket *bound;
	struct event *sigterm = NULL, *sigint = NULL;
	struct sockaddr_in sa;
	socklen_t salen = sizeof(sa);
	const char *port_file = NULL;
	uint64_t port = DEFAULT_PORT, price = GAS_PRICE_DEFAULT;
	int i, have_port = 0, rc = 1;

	memset(&n, 0, sizeof(n));
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quiet") == 0) {
			n.quiet = 1;
		} else if (i + 1 < argc && strcmp(argv[i], "--port") == 0) {
			if (parse_u64_arg("--port", argv[++i], 0, 65535, &port) != 0)
				return 2;
			have_port = 1;
		} else if (i + 1 < argc && strcmp(argv[i], "--port-file") == 0) {
			port_file = argv[++i];
		} else if (i + 1 < argc && strcmp(argv[i], "--gas-price") == 0) {
			if (parse_u64_arg("--gas-price", argv[++i], 1, GAS_PRICE_MAX, &price) != 0)
				return 2;
		} else {
			fprintf(stderr, "tool_iotanode: unexpected argument `%s'\n", argv[i]);
			usage();
			return 2;
		}
	}
	if (have_port && port_file != NULL) {
		fprintf(stderr, "tool_iotanode: --port and --port-file exclude each other\n");
		return 2;
	}
	if (port_file != NULL)
		port = 0;
	n.gas_price = price;
	n.calls = cJSON_CreateObject();
	n.notarizations = cJSON_CreateArray();
	n.payments = cJSON_CreateArray();
	signal(SIGPIPE, SIG_IGN);
	n.base = event_base_new();
	if (n.base == NULL || n.calls == NULL || n.notarizations == NULL || n.payments == NULL) {
		fprintf(stderr, "tool_iotanode: out of memory\n");
		goto out;
	}
	n.http = evhttp_new(n.base);
	if (n.http == NULL)
		goto out;
	evhttp_set_max_body_size(n.http, BODY_MAX);
	evhttp_set_allowed_methods(n.http, EVHTTP_REQ_POST | EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
#ifdef EVHTTP_SERVER_LINGERING_CLOSE
	/* Read an oversized body to its end before the 413, so the client
	 * sees the answer rather than a reset. */
	evhttp_set_flags(n.http, EVHTTP_SERVER_LINGERING_CLOSE);
#endif
	evhttp_set_gencb(n.http, on_request, &n);
	bound = evhttp_bind_socket_with_handle(n.http, "127.0.0.1", (uint16_t)port);
	if (bound == NULL) {
		fprintf(stderr, "tool_iotanode: cannot listen on 127.0.0.1:%" PRIu64 ": %s\n", port,
		    strerror(errno));
		goto out;
	}
	if (getsockname(evhttp_bound_socket_get_fd(bound), (struct sockaddr *)&sa, &salen) != 0) {
		fprintf(stderr, "tool_iotanode: getsockname: %s\n", strerror(errno));
		goto out;
	}
	sigterm = evsignal_new(n.base, SIGTERM, on_signal, &n);
	sigint = evsignal_new(n.base, SIGINT, on_signal, &n);
	if (sigterm == NULL || sigint == NULL || evsignal_add(sigterm, NULL) != 0 ||
	    evsignal_add(sigint, NULL) != 0)
		goto out;
	if (port_file != NULL && write_port_file(port_file, ntohs(sa.sin_port)) != 0) {
		fprintf(stderr, "tool_iotanode: cannot write %s: %s\n", port_file, strerror(errno));
		goto out;
	}
	if (!n.quiet)
		fprintf(stderr, "tool_iotanode: listening on 127.0.0.1:%u gas_price=%" PRIu64 "\n",
		    ntohs(sa.sin_port), n.gas_price);
	event_base_dispatch(n.base);
	rc = 0;
out:
	while (n.pending != NULL) { /* only after a start-up failure */
		struct pending *p = n.pending;

		n.pending = p->next;
		pending_free(p);
	}
	if (sigterm != NULL)
		event_free(sigterm);
	if (sigint != NULL)
		event_free(sigint);
	if (n.http != NULL)
		evhttp_free(n.http);
	if (n.base != NULL)
		event_base_free(n.base);
	node_free(&n);
	return rc;
}
