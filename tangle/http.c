/* HTTP POST over libcurl's multi interface, its sockets and timer driven by a libevent loop. */
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "iota/rpc.h"
#include "tangle/tangle.h"

struct xfer {
	struct tangle_http *h;
	CURL *easy;
	struct curl_slist *headers;
	char *request;
	char *body; /* response, NUL-terminated */
	size_t len, alloc;
	int too_large;
	tangle_http_fn cb;
	void *arg;
	char errbuf[CURL_ERROR_SIZE];
	TAILQ_ENTRY(xfer) entry;
};

/* One of curl's sockets as a libevent event. */
struct sock {
	struct event *ev;
};

struct tangle_http {
	struct event_base *base;
	CURLM *multi;
	struct event *timer;
	size_t active;
	TAILQ_HEAD(, xfer) xfers;
};

static void
xfer_free(struct xfer *x)
{
	curl_easy_cleanup(x->easy);
	curl_slist_free_all(x->headers);
	free(x->request);
	free(x->body);
	free(x);
}

static size_t
on_write(char *data, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t add = size * n, want;
	char *nb;

	if (add > IOTA_RPC_RESPONSE_MAX - x->len) {
		x->too_large = 1;
		return 0; /* curl aborts the transfer */
	}
	if (x->len + add + 1 > x->alloc) {
		want = x->alloc == 0 ? 4096 : x->alloc;
		while (want < x->len + add + 1)
			want *= 2;
		nb = realloc(x->body, want);
		if (nb == NULL)
			return 0;
		x->body = nb;
		x->alloc = want;
	}
	memcpy(x->body + x->len, data, add);
	x->len += add;
	x->body[x->len] = '\0';
	return add;
}

/* Hands finished transfers to their callers. */
static void
check_done(struct tangle_http *h)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(h->multi, &left)) != NULL) {
		struct xfer *x = NULL;
		long status = 0;
		CURLcode rc;

		if (m->msg != CURLMSG_DONE)
			continue;
		rc = m->data.result;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		curl_multi_remove_handle(h->multi, m->easy_handle);
		TAILQ_REMOVE(&h->xfers, x, entry);
		h->active--;
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
		if (rc == CURLE_OK) {
			x->cb(x->arg, 1, status, x->body != NULL ? x->body : "", x->len, NULL);
		} else {
			const char *why = x->too_large           ? "response over the size limit"
			                  : x->errbuf[0] != '\0' ? x->errbuf
			                                         : curl_easy_strerror(rc);

			x->cb(x->arg, 0, status, "", 0, why);
		}
		xfer_free(x);
	}
}

static void
on_event(evutil_socket_t fd, short what, void *arg)
{
	struct tangle_http *h = arg;
	int running, action = 0;

	if (what & EV_READ)
		action |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		action |= CURL_CSELECT_OUT;
	curl_multi_socket_action(h->multi, fd, action, &running);
	check_done(h);
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct tangle_http *h = arg;
	int running;

	(void)fd;
	(void)what;
	curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(h);
}

/* curl says which socket to watch for what. */
static int
on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct tangle_http *h = userp;
	struct sock *s = socketp;
	short kind;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (s != NULL) {
			event_free(s->ev);
			free(s);
			curl_multi_assign(h->multi, fd, NULL);
		}
		return 0;
	}
	kind = (short)(((what & CURL_POLL_IN) ? EV_READ : 0) |
	               ((what & CURL_POLL_OUT) ? EV_WRITE : 0) | EV_PERSIST);
	if (s == NULL) {
		s = calloc(1, sizeof(*s));
		if (s == NULL)
			return -1;
		curl_multi_assign(h->multi, fd, s);
	} else {
		event_free(s->ev);
	}
	s->ev = event_new(h->base, fd, kind, on_event, h);
	if (s->ev == NULL || event_add(s->ev, NULL) != 0)
		return -1;
	return 0;
}

static int
on_timeout_change(CURLM *multi, long ms, void *userp)
{
	struct tangle_http *h = userp;
	struct timeval tv;

	(void)multi;
	if (ms < 0) {
		evtimer_del(h->timer);
		return 0;
	}
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	return evtimer_add(h->timer, &tv);
}

struct tangle_http *
tangle_http_new(struct event_base *base)
{
	struct tangle_http *h = calloc(1, sizeof(*h));

	if (h == NULL)
		return NULL;
	h->base = base;
	TAILQ_INIT(&h->xfers);
	h->multi = curl_multi_init();
	h->timer = evtimer_new(base, on_timer, h);
	if (h->multi == NULL || h->timer == NULL) {
		tangle_http_free(h);
		return NULL;
	}
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, on_timeout_change);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
	return h;
}

void
tangle_http_free(struct tangle_http *h)
{
	struct xfer *x;

	if (h == NULL)
		return;
	while ((x = TAILQ_FIRST(&h->xfers)) != NULL) {
		TAILQ_REMOVE(&h->xfers, x, entry);
		curl_multi_remove_handle(h->multi, x->easy);
		xfer_free(x);
	}
	if (h->multi != NULL)
		curl_multi_cleanup(h->multi);
	if (h->timer != NULL)
		event_free(h->timer);
	free(h);
}

int
tangle_http_post(struct tangle_http *h, const char *url, const char *body, long timeout_ms,
    tangle_http_fn cb, void *arg)
{
	struct xfer *x = calloc(1, sizeof(*x));
	struct curl_slist *hd;

	if (x == NULL)
		return -1;
	x->h = h;
	x->cb = cb;
	x->arg = arg;
	x->easy = curl_easy_init();
	x->request = strdup(body);
	hd = curl_slist_append(NULL, "Content-Type: application/json");
	if (hd != NULL)
		x->headers = curl_slist_append(hd, "Accept: application/json");
	if (x->easy == NULL || x->request == NULL || x->headers == NULL) {
		if (x->headers == NULL)
			curl_slist_free_all(hd);
		goto fail;
	}
	/* Only plain or TLS HTTP, never a redirect to somewhere else: a
	 * libcurl that cannot restrict protocols is not used. */
	if (curl_easy_setopt(x->easy, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(x->easy, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK)
		goto fail;
	curl_easy_setopt(x->easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, x->request);
	curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE, (long)strlen(x->request));
	curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->headers);
	curl_easy_setopt(x->easy, CURLOPT_USERAGENT, "sdpp-gateway");
	curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(
	    x->easy, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms < 5000 ? timeout_ms : 5000L);
	/* Signals belong to the daemon's loop, not to curl's resolver. */
	curl_easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(x->easy, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
	if (curl_multi_add_handle(h->multi, x->easy) != CURLM_OK)
		goto fail;
	TAILQ_INSERT_TAIL(&h->xfers, x, entry);
	h->active++;
	return 0;
fail:
	xfer_free(x);
	return -1;
}

size_t
tangle_http_active(const struct tangle_http *h)
{
	return h->active;
}
