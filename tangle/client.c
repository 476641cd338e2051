/* IOTA JSON-RPC client: calls with retries; our transactions built, dry-run, signed, executed. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/event.h>

#include "sdpp/enc.h"
#include "tangle/tangle.h"
#include "util/text.h"

#define DEFAULT_TIMEOUT_MS 10000
/* 0.05 IOTA: a notarization of a hash costs about 0.003 at today's prices. */
#define DEFAULT_MAX_BUDGET UINT64_C(50000000)
#define RETRY_FIRST_MS 250
#define RETRY_MAX_MS 8000
#define URL_MAX 1024
/* Transactions waiting for their turn; beyond this, submissions fail and
 * the caller retries later (the ledger's outbox keeps them durably). */
#define JOBS_MAX 1024
/* The network's largest gas budget (max_tx_gas, 50 IOTA). */
#define DRY_RUN_BUDGET_MAX UINT64_C(50000000000)
/* Pages of coins read for one transaction (50 each, the node's maximum). */
#define COIN_PAGES_MAX 6
/* A dry run refused for a gas coin's version is tried once more with coins
 * read afresh, after this long: time for a lagging index to catch up. */
#define STALE_RETRY_MS 1000
#define STALE_TEXT "not available for consumption"

static const struct {
	const char *rpc, *faucet;
} endpoints[] = {
	[IOTA_MAINNET] = { "https://api.mainnet.iota.cafe", NULL },
	[IOTA_TESTNET] = { "https://api.testnet.iota.cafe", "https://faucet.testnet.iota.cafe" },
	[IOTA_DEVNET] = { "https://api.devnet.iota.cafe", "https://faucet.devnet.iota.cafe" },
};

struct call {
	struct tangle *t;
	char *body;
	char url[URL_MAX];
	uint64_t id; /* 0: not JSON-RPC (faucet) */
	unsigned attempt;
	struct event *retry;
	tangle_call_fn cb;
	void *arg;
	TAILQ_ENTRY(call) entry;
};

enum job_kind { JOB_PAY, JOB_NOTARIZE };

struct job {
	struct tangle *t;
	enum job_kind kind;
	uint8_t recipient[IOTA_ADDRESS_BYTES];
	uint64_t amount;
	uint8_t *data;
	size_t len;
	char *description;
	tangle_sent_fn cb;
	void *arg;
	/* filled as the job runs */
	uint64_t gas_price;
	/* Gas coins: candidates read page by page, then the ones chosen. */
	struct iota_coin *cands; /* IOTA_GAS_COINS_MAX, while the job runs */
	size_t ncands;
	uint64_t cands_total;
	unsigned pages;
	struct iota_object_ref *coins; /* chosen, IOTA_GAS_COINS_MAX */
	size_t ncoins;
	uint64_t coin_total;
	uint8_t *tx;
	size_t txlen, txcap;
	int stale_retried;
	struct event *stale_timer;
	struct tangle_sent sent;
	TAILQ_ENTRY(job) entry;
};

/*
 * What our last transaction left: its gas coin at the version its effects
 * report, with the balance it must now hold, and the coins it merged into
 * it (deleted). A node's coin index may trail execution by a moment, so the
 * next transaction, read right after, would otherwise pick the old version
 * (and fail its dry run) or a deleted coin.
 */
struct gas_hint {
	int valid;
	struct iota_object_ref ref;
	uint64_t balance;
	uint8_t (*merged)[IOTA_ADDRESS_BYTES];
	size_t nmerged;
};

struct tangle {
	struct event_base *base;
	struct tangle_http *http;
	struct tangle_config cfg;
	char url[URL_MAX];
	char faucet[URL_MAX];
	uint8_t address[IOTA_ADDRESS_BYTES];
	uint64_t next_id;
	int running; /* the head of jobs is being worked on */
	size_t njobs;
	struct event *kick;
	struct gas_hint hint;
	TAILQ_HEAD(, call) calls;
	TAILQ_HEAD(, job) jobs;
};

const char *
tangle_default_url(enum iota_network net)
{
	return endpoints[net].rpc;
}

const char *
tangle_default_faucet(enum iota_network net)
{
	return endpoints[net].faucet;
}

static void start_next(evutil_socket_t fd, short what, void *arg);

int
tangle_new(struct tangle **out, struct event_base *base, const struct tangle_config *cfg, char *err,
    size_t errlen)
{
	struct tangle *t = calloc(1, sizeof(*t));
	const char *url =
	    cfg->url != NULL && cfg->url[0] != '\0' ? cfg->url : tangle_default_url(cfg->network);
	const char *faucet = cfg->faucet_url != NULL && cfg->faucet_url[0] != '\0'
	                         ? cfg->faucet_url
	                         : tangle_default_faucet(cfg->network);

	*out = NULL;
	if (t == NULL) {
		util_errf(err, errlen, "out of memory");
		return -1;
	}
	t->base = base;
	t->cfg = *cfg;
	if (t->cfg.timeout_ms <= 0)
		t->cfg.timeout_ms = DEFAULT_TIMEOUT_MS;
	if (t->cfg.max_budget == 0)
		t->cfg.max_budget = DEFAULT_MAX_BUDGET;
	t->cfg.url = t->url;
	t->cfg.faucet_url = t->faucet;
	t->next_id = 1;
	TAILQ_INIT(&t->calls);
	TAILQ_INIT(&t->jobs);
	if ((size_t)snprintf(t->url, sizeof(t->url), "%s", url) >= sizeof(t->url) ||
	    (size_t)snprintf(t->faucet, sizeof(t->faucet), "%s", faucet != NULL ? faucet : "") >=
	        sizeof(t->faucet)) {
		util_errf(err, errlen, "URL too long");
		goto fail;
	}
	if (cfg->signer != NULL) {
		uint8_t pub[SDPP_SIGN_PUBLIC_BYTES];

		sdpp_identity_sign_public(cfg->signer, pub);
		if (iota_address_from_public(t->address, pub) != IOTA_OK) {
			util_errf(err, errlen, "cannot derive the IOTA address");
			goto fail;
		}
	}
	t->http = tangle_http_new(base);
	t->kick = event_new(base, -1, 0, start_next, t);
	if (t->http == NULL || t->kick == NULL) {
		util_errf(err, errlen, "cannot set up the HTTP client");
		goto fail;
	}
	*out = t;
	return 0;
fail:
	tangle_free(t);
	return -1;
}

static void
hint_clear(struct gas_hint *h)
{
	free(h->merged);
	memset(h, 0, sizeof(*h));
}

static void
job_free(struct job *j)
{
	if (j->stale_timer != NULL)
		event_free(j->stale_timer);
	free(j->cands);
	free(j->coins);
	free(j->data);
	free(j->description);
	free(j->tx);
	free(j);
}

static void
call_free(struct call *c)
{
	if (c->retry != NULL)
		event_free(c->retry);
	free(c->body);
	free(c);
}

void
tangle_free(struct tangle *t)
{
	struct call *c;
	struct job *j;

	if (t == NULL)
		return;
	/* Transfers first: their callbacks point at the calls below. */
	tangle_http_free(t->http);
	while ((c = TAILQ_FIRST(&t->calls)) != NULL) {
		TAILQ_REMOVE(&t->calls, c, entry);
		call_free(c);
	}
	while ((j = TAILQ_FIRST(&t->jobs)) != NULL) {
		TAILQ_REMOVE(&t->jobs, j, entry);
		/* Whoever queued it holds state for the answer: release it. */
		j->sent.status = TANGLE_E_CANCELLED;
		snprintf(j->sent.error, sizeof(j->sent.error), "cancelled%s%s",
		    j->sent.digest[0] != '\0' ? ": outcome unknown for " : "", j->sent.digest);
		j->sent.tx = NULL;
		j->sent.txlen = 0;
		j->cb(j->arg, &j->sent);
		job_free(j);
	}
	if (t->kick != NULL)
		event_free(t->kick);
	hint_clear(&t->hint);
	free(t);
}

const uint8_t *
tangle_address(const struct tangle *t)
{
	return t->address;
}

const char *
tangle_url(const struct tangle *t)
{
	return t->url;
}

size_t
tangle_queued(const struct tangle *t)
{
	return t->njobs;
}

/* ----------------------------------------------------------------- calls */

static void on_http(
    void *arg, int ok, long status, const char *body, size_t len, const char *error);

static int
call_send(struct call *c)
{
	return tangle_http_post(c->t->http, c->url, c->body, c->t->cfg.timeout_ms, on_http, c);
}

static void
call_finish(struct call *c, struct tangle_reply *r)
{
	TAILQ_REMOVE(&c->t->calls, c, entry);
	c->cb(c->arg, r);
	call_free(c);
}

static void
on_retry(evutil_socket_t fd, short what, void *arg)
{
	struct call *c = arg;
	struct tangle_reply r;

	(void)fd;
	(void)what;
	if (call_send(c) != 0) {
		memset(&r, 0, sizeof(r));
		r.status = TANGLE_E_NET;
		snprintf(
		    r.error, sizeof(r.error), "cannot start an HTTP request to %.300s", c->url);
		call_finish(c, &r);
	}
}

/* A transport failure: try again after a backoff, or give up. */
static void
call_failed(struct call *c, const char *why)
{
	struct tangle_reply r;
	struct timeval tv;
	long ms;

	if (c->attempt < c->t->cfg.retries) {
		ms = RETRY_FIRST_MS << (c->attempt < 5 ? c->attempt : 5);
		if (ms > RETRY_MAX_MS)
			ms = RETRY_MAX_MS;
		c->attempt++;
		tv.tv_sec = ms / 1000;
		tv.tv_usec = (ms % 1000) * 1000;
		if (c->retry == NULL)
			c->retry = evtimer_new(c->t->base, on_retry, c);
		if (c->retry != NULL && evtimer_add(c->retry, &tv) == 0)
			return;
	}
	memset(&r, 0, sizeof(r));
	r.status = TANGLE_E_NET;
	snprintf(r.error, sizeof(r.error), "%.300s: %.200s", c->url, why);
	call_finish(c, &r);
}

static void
on_http(void *arg, int ok, long status, const char *body, size_t len, const char *error)
{
	struct call *c = arg;
	struct tangle_reply r;
	char why[128];
	cJSON *root = NULL;

	memset(&r, 0, sizeof(r));
	if (!ok) {
		call_failed(c, error);
		return;
	}
	/* Overload and gateway errors are worth another try; a node that is
	 * restarting answers 502/503 for a while. */
	if (status == 429 || status >= 500) {
		snprintf(why, sizeof(why), "HTTP status %ld", status);
		call_failed(c, why);
		return;
	}
	if (c->id == 0) {
		/* Faucet: plain JSON. */
		root = cJSON_ParseWithLength(body, len);
		if (status / 100 == 2 && root != NULL) {
			r.status = TANGLE_OK;
			r.result = root;
		} else {
			size_t i, o;

			r.status = TANGLE_E_RPC;
			r.code = status;
			o = (size_t)snprintf(
			    r.error, sizeof(r.error), "faucet answered HTTP %ld: ", status);
			/* The body is the faucet's text: printable ASCII only. */
			for (i = 0; i < len && i < 200 && o + 1 < sizeof(r.error); i++)
				r.error[o++] = body[i] >= 0x20 && body[i] < 0x7f ? body[i] : '?';
			r.error[o] = '\0';
		}
	} else {
		char text[IOTA_RPC_TEXT_MAX];
		const cJSON *result;

		switch (iota_rpc_response(body, len, c->id, &root, &result, &r.code, text)) {
		case IOTA_RPC_OK:
			r.status = TANGLE_OK;
			r.result = result;
			break;
		case IOTA_RPC_ERROR:
			r.status = TANGLE_E_RPC;
			snprintf(r.error, sizeof(r.error), "node error %ld: %s", r.code, text);
			break;
		default:
			r.status = TANGLE_E_BAD;
			snprintf(r.error, sizeof(r.error), "HTTP %ld, %s", status, text);
			break;
		}
	}
	call_finish(c, &r);
	cJSON_Delete(root);
}

static int
call_start(struct tangle *t, const char *url, uint64_t id, char *body, tangle_call_fn cb, void *arg)
{
	struct call *c = calloc(1, sizeof(*c));

	if (c == NULL || body == NULL ||
	    (size_t)snprintf(c->url, sizeof(c->url), "%s", url) >= sizeof(c->url)) {
		free(c);
		free(body);
		return -1;
	}
	c->t = t;
	c->body = body;
	c->id = id;
	c->cb = cb;
	c->arg = arg;
	TAILQ_INSERT_TAIL(&t->calls, c, entry);
	if (call_send(c) != 0) {
		TAILQ_REMOVE(&t->calls, c, entry);
		call_free(c);
		return -1;
	}
	return 0;
}

int
tangle_call(struct tangle *t, const char *method, const char *params, tangle_call_fn cb, void *arg)
{
	uint64_t id = t->next_id++;
	size_t n = strlen(method) + strlen(params) + 64;
	char *body = malloc(n);

	if (body == NULL)
		return -1;
	if ((size_t)snprintf(body, n,
	        "{\"jsonrpc\":\"2.0\",\"id\":%" PRIu64 ",\"method\":\"%s\",\"params\":%s}", id,
	        method, params) >= n) {
		free(body);
		return -1;
	}
	return call_start(t, t->url, id, body, cb, arg);
}

int
tangle_get_tx(struct tangle *t, const char *digest, tangle_call_fn cb, void *arg)
{
	char params[160];
	uint8_t d[IOTA_DIGEST_BYTES];

	/* Only a well-formed digest reaches the node (and the JSON text). */
	if (iota_digest_parse(d, digest) != 0)
		return -1;
	snprintf(params, sizeof(params),
	    "[\"%s\",{\"showInput\":true,\"showEffects\":true,\"showBalanceChanges\":true}]",
	    digest);
	return tangle_call(t, "iota_getTransactionBlock", params, cb, arg);
}

int
tangle_faucet(
    struct tangle *t, const uint8_t addr[IOTA_ADDRESS_BYTES], tangle_call_fn cb, void *arg)
{
	char url[URL_MAX + 16], a[IOTA_ADDRESS_TEXT_LEN], *body;

	if (t->faucet[0] == '\0')
		return -1;
	iota_address_format(a, addr);
	body = malloc(128);
	if (body == NULL)
		return -1;
	snprintf(body, 128, "{\"FixedAmountRequest\":{\"recipient\":\"%s\"}}", a);
	snprintf(url, sizeof(url), "%s/v1/gas", t->faucet);
	return call_start(t, url, 0, body, cb, arg);
}

/* ------------------------------------------------------------------ jobs */

static void job_step_coins(void *arg, const struct tangle_reply *r);
static void job_step_dry(void *arg, const struct tangle_reply *r);
static void job_step_executed(void *arg, const struct tangle_reply *r);

/* Ends the running job: report, then start the next one on a later turn
 * (the callback may queue more). */
static void
job_done(struct job *j, enum tangle_status st, const char *fmt, ...)
{
	struct tangle *t = j->t;
	va_list ap;

	j->sent.status = st;
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(j->sent.error, sizeof(j->sent.error), fmt, ap);
		va_end(ap);
	}
	TAILQ_REMOVE(&t->jobs, j, entry);
	t->njobs--;
	t->running = 0;
	if (j->sent.digest[0] != '\0') {
		j->sent.tx = j->tx;
		j->sent.txlen = j->txlen;
	}
	j->cb(j->arg, &j->sent);
	job_free(j);
	if (!TAILQ_EMPTY(&t->jobs))
		event_active(t->kick, EV_TIMEOUT, 0);
}

static int
job_build(struct job *j, uint64_t budget)
{
	struct iota_tx_meta m;
	enum iota_err e;

	/* Room for the commands, the data and every gas coin reference. */
	if (j->tx == NULL) {
		j->txcap = 4096 + j->len + (j->description != NULL ? strlen(j->description) : 0) +
		           j->ncoins * (IOTA_ADDRESS_BYTES + 8 + 1 + IOTA_DIGEST_BYTES);
		j->tx = malloc(j->txcap);
		if (j->tx == NULL) {
			snprintf(j->sent.error, sizeof(j->sent.error), "out of memory");
			return -1;
		}
	}
	memset(&m, 0, sizeof(m));
	memcpy(m.sender, j->t->address, IOTA_ADDRESS_BYTES);
	m.gas_coins = j->coins;
	m.n_gas_coins = j->ncoins;
	m.gas_price = j->gas_price;
	m.gas_budget = budget;
	if (j->kind == JOB_PAY)
		e = iota_tx_payment(&m, j->recipient, j->amount, j->tx, j->txcap, &j->txlen);
	else
		e = iota_tx_notarize(&m, j->t->cfg.network, j->data, j->len, j->description, j->tx,
		    j->txcap, &j->txlen);
	if (e != IOTA_OK) {
		snprintf(j->sent.error, sizeof(j->sent.error), "cannot build the transaction: %s",
		    iota_strerror(e));
		return -1;
	}
	return 0;
}

/* base64 of the current transaction bytes (malloc'd). */
static char *
job_tx_b64(const struct job *j)
{
	char *b = malloc(SDPP_B64_LEN(j->txlen));

	if (b != NULL)
		sdpp_b64_encode(b, j->tx, j->txlen);
	return b;
}

/* Asks for a page of the account's coins (cursor NULL: the first). */
static void
coins_page(struct job *j, const char *cursor)
{
	char params[2 * IOTA_ADDRESS_TEXT_LEN + 64], a[IOTA_ADDRESS_TEXT_LEN], c[80];

	iota_address_format(a, j->t->address);
	if (cursor != NULL)
		snprintf(c, sizeof(c), "\"%s\"", cursor);
	else
		snprintf(c, sizeof(c), "null");
	snprintf(params, sizeof(params), "[\"%s\",\"%s\",%s,%d]", a, IOTA_COIN_TYPE, c,
	    IOTA_RPC_COINS_MAX);
	j->pages++;
	if (tangle_call(j->t, "iotax_getCoins", params, job_step_coins, j) != 0)
		job_done(j, TANGLE_E_NET, "cannot start iotax_getCoins");
}

static void
job_step_price(void *arg, const struct tangle_reply *r)
{
	struct job *j = arg;

	if (r->status != TANGLE_OK) {
		job_done(j, r->status, "reference gas price: %s", r->error);
		return;
	}
	/* A string like every u64, though some nodes send a number. */
	if (iota_rpc_u64(r->result, &j->gas_price) != 0) {
		if (!cJSON_IsNumber(r->result) || r->result->valuedouble < 1 ||
		    r->result->valuedouble > 1e15) {
			job_done(j, TANGLE_E_BAD, "reference gas price: not a number");
			return;
		}
		j->gas_price = (uint64_t)r->result->valuedouble;
	}
	coins_page(j, NULL);
}

static int
by_balance_desc(const void *a, const void *b)
{
	const struct iota_coin *x = a, *y = b;

	return x->balance < y->balance ? 1 : x->balance > y->balance ? -1 : 0;
}

/*
 * A coin as the index listed it, corrected by what our last transaction
 * did: -1 if that transaction merged (deleted) it, else 0, with the gas
 * coin's newer version and balance put in. An index that shows a version
 * at least as new as ours has caught up (or someone else spent the coin
 * with our key): the hint has nothing more to say.
 */
static int
hint_apply(struct gas_hint *h, struct iota_coin *c)
{
	size_t i;

	if (!h->valid)
		return 0;
	for (i = 0; i < h->nmerged; i++)
		if (memcmp(h->merged[i], c->ref.id, IOTA_ADDRESS_BYTES) == 0)
			return -1;
	if (memcmp(h->ref.id, c->ref.id, IOTA_ADDRESS_BYTES) != 0)
		return 0;
	if (c->ref.version >= h->ref.version) {
		hint_clear(h);
		return 0;
	}
	c->ref = h->ref;
	c->balance = h->balance;
	return 0;
}

/*
 * Remembers the gas coin that the executed job's effects report. Its
 * balance is what the job's coins held, less the amount (if it moved) and
 * the gas charged, plus the rebate. Without a gas object the next job
 * reads the index as it is.
 */
static void
hint_set(struct tangle *t, const struct job *j, const struct iota_effects *e)
{
	struct gas_hint *h = &t->hint;
	uint64_t in, out;
	size_t i;

	hint_clear(h);
	if (!e->have_gas_object || j->ncoins == 0)
		return;
	in = j->coin_total;
	out = e->success ? j->amount : 0;
	if (e->gas.rebate > UINT64_MAX - in || e->gas.computation > UINT64_MAX - out ||
	    e->gas.storage > UINT64_MAX - out - e->gas.computation)
		return;
	in += e->gas.rebate;
	out += e->gas.computation + e->gas.storage;
	if (out > in)
		return;
	if (j->ncoins > 1) {
		h->merged = calloc(j->ncoins - 1, sizeof(*h->merged));
		if (h->merged == NULL)
			return;
		for (i = 1; i < j->ncoins; i++)
			memcpy(h->merged[i - 1], j->coins[i].id, IOTA_ADDRESS_BYTES);
		h->nmerged = j->ncoins - 1;
	}
	h->ref = e->gas_object;
	h->balance = in - out;
	h->valid = 1;
}

static void
job_coins_again(evutil_socket_t fd, short what, void *arg)
{
	struct job *j = arg;

	(void)fd;
	(void)what;
	j->ncands = 0;
	j->cands_total = 0;
	j->pages = 0;
	/* Sized for the coins of the first try: built anew. */
	free(j->tx);
	j->tx = NULL;
	j->txlen = 0;
	coins_page(j, NULL);
}

/*
 * A dry run refused because a gas coin's version is no longer current:
 * another writer with our key, or an index that trails execution. Forget
 * the hint and read the coins once more, a moment later. 0 if retrying.
 */
static int
job_retry_stale(struct job *j, const struct tangle_reply *r)
{
	struct timeval tv = { STALE_RETRY_MS / 1000, (STALE_RETRY_MS % 1000) * 1000 };

	if (j->stale_retried || r->status != TANGLE_E_RPC || strstr(r->error, STALE_TEXT) == NULL)
		return -1;
	if (j->stale_timer == NULL)
		j->stale_timer = evtimer_new(j->t->base, job_coins_again, j);
	if (j->stale_timer == NULL || evtimer_add(j->stale_timer, &tv) != 0)
		return -1;
	j->stale_retried = 1;
	hint_clear(&j->t->hint);
	return 0;
}

static void
job_step_coins(void *arg, const struct tangle_reply *r)
{
	struct job *j = arg;
	struct iota_coin_page *page = NULL;
	char err[128], *b64 = NULL, *params = NULL;
	uint64_t need, budget;
	size_t i, n;

	if (r->status != TANGLE_OK) {
		job_done(j, r->status, "coins: %s", r->error);
		return;
	}
	page = malloc(sizeof(*page));
	if (page == NULL) {
		job_done(j, TANGLE_E_REFUSED, "out of memory");
		return;
	}
	if (iota_rpc_coins(r->result, page, err, sizeof(err)) != 0) {
		job_done(j, TANGLE_E_BAD, "%s", err);
		goto out;
	}
	if (j->cands == NULL) {
		j->cands = calloc(IOTA_GAS_COINS_MAX, sizeof(*j->cands));
		j->coins = calloc(IOTA_GAS_COINS_MAX, sizeof(*j->coins));
		if (j->cands == NULL || j->coins == NULL) {
			job_done(j, TANGLE_E_REFUSED, "out of memory");
			goto out;
		}
	}
	need = j->amount > UINT64_MAX - j->t->cfg.max_budget ? UINT64_MAX
	                                                     : j->amount + j->t->cfg.max_budget;
	for (i = 0; i < page->n && j->ncands < IOTA_GAS_COINS_MAX; i++) {
		struct iota_coin c = page->coins[i];

		if (hint_apply(&j->t->hint, &c) != 0)
			continue;
		j->cands[j->ncands++] = c;
		j->cands_total = c.balance > UINT64_MAX - j->cands_total
		                     ? UINT64_MAX
		                     : j->cands_total + c.balance;
	}
	/* An account that is paid collects many small coins: read on (a few
	 * pages, up to the network's gas coin limit) until they cover it. */
	if (j->cands_total < need && page->has_next && j->ncands < IOTA_GAS_COINS_MAX &&
	    j->pages < COIN_PAGES_MAX) {
		coins_page(j, page->cursor);
		goto out;
	}
	/* Largest coins first, until they cover the amount and the most gas
	 * we would pay: few gas coins keep the transaction small, and the
	 * others merge into the first when many are needed. */
	qsort(j->cands, j->ncands, sizeof(j->cands[0]), by_balance_desc);
	j->ncoins = 0;
	j->coin_total = 0;
	for (i = 0; i < j->ncands && j->coin_total < need; i++) {
		j->coins[j->ncoins++] = j->cands[i].ref;
		j->coin_total = j->cands[i].balance > UINT64_MAX - j->coin_total
		                    ? UINT64_MAX
		                    : j->coin_total + j->cands[i].balance;
	}
	if (j->ncoins == 0 || j->coin_total <= j->amount) {
		char a[IOTA_ADDRESS_TEXT_LEN];

		iota_address_format(a, j->t->address);
		job_done(j, TANGLE_E_REFUSED,
		    "not enough IOTA: %s has %" PRIu64 " nanos in the %zu coins read, %" PRIu64
		    " needed plus gas",
		    a, j->coin_total, j->ncands, j->amount);
		goto out;
	}
	/* The dry run spends nothing: give it all the coins can cover (up to
	 * the network's own maximum), so it reports what the transaction
	 * really costs and a cost above our cap is refused as such. */
	budget = j->coin_total - j->amount < DRY_RUN_BUDGET_MAX ? j->coin_total - j->amount
	                                                        : DRY_RUN_BUDGET_MAX;
	if (job_build(j, budget) != 0) {
		job_done(j, TANGLE_E_REFUSED, NULL);
		goto out;
	}
	b64 = job_tx_b64(j);
	n = b64 != NULL ? strlen(b64) + 8 : 0;
	params = b64 != NULL ? malloc(n) : NULL;
	if (params == NULL) {
		job_done(j, TANGLE_E_REFUSED, "out of memory");
		goto out;
	}
	snprintf(params, n, "[\"%s\"]", b64);
	if (tangle_call(j->t, "iota_dryRunTransactionBlock", params, job_step_dry, j) != 0)
		job_done(j, TANGLE_E_NET, "cannot start the dry run");
out:
	free(params);
	free(b64);
	free(page);
}

static void
job_step_dry(void *arg, const struct tangle_reply *r)
{
	struct job *j = arg;
	struct iota_effects e;
	char err[128], *b64 = NULL, *params = NULL, sigb64[SDPP_B64_LEN(IOTA_SIGNATURE_BYTES)];
	uint8_t sig[IOTA_SIGNATURE_BYTES], digest[IOTA_DIGEST_BYTES];
	uint64_t budget = 0;
	size_t n;

	if (r->status != TANGLE_OK) {
		if (job_retry_stale(j, r) == 0)
			return;
		job_done(j, r->status, "dry run: %s", r->error);
		return;
	}
	if (iota_rpc_effects(cJSON_GetObjectItemCaseSensitive(r->result, "effects"), &e, err,
	        sizeof(err)) != 0) {
		job_done(j, TANGLE_E_BAD, "dry run: %s", err);
		return;
	}
	j->sent.gas = e.gas;
	if (!e.success) {
		job_done(j, TANGLE_E_REFUSED, "dry run failed: %s", e.error);
		return;
	}
	if (iota_gas_budget(&e.gas, j->gas_price, &budget) != 0) {
		job_done(j, TANGLE_E_BAD, "dry run: gas figures overflow");
		return;
	}
	if (budget > j->t->cfg.max_budget) {
		job_done(j, TANGLE_E_REFUSED,
		    "the transaction needs a gas budget of %" PRIu64
		    " nanos, above the cap of %" PRIu64,
		    budget, j->t->cfg.max_budget);
		return;
	}
	if (budget > j->coin_total - j->amount) {
		job_done(j, TANGLE_E_REFUSED,
		    "not enough IOTA: %" PRIu64 " nanos plus %" PRIu64 " of gas, %" PRIu64 " held",
		    j->amount, budget, j->coin_total);
		return;
	}
	j->sent.budget = budget;
	if (job_build(j, budget) != 0) {
		job_done(j, TANGLE_E_REFUSED, NULL);
		return;
	}
	if (iota_sign_tx(j->t->cfg.signer, j->tx, j->txlen, sig) != IOTA_OK ||
	    iota_tx_digest(digest, j->tx, j->txlen) != IOTA_OK) {
		job_done(j, TANGLE_E_REFUSED, "cannot sign the transaction");
		return;
	}
	iota_digest_format(j->sent.digest, digest);
	sdpp_b64_encode(sigb64, sig, sizeof(sig));
	b64 = job_tx_b64(j);
	n = b64 != NULL ? strlen(b64) + sizeof(sigb64) + 160 : 0;
	params = b64 != NULL ? malloc(n) : NULL;
	if (params == NULL) {
		job_done(j, TANGLE_E_REFUSED, "out of memory");
		goto out;
	}
	snprintf(params, n,
	    "[\"%s\",[\"%s\"],{\"showEffects\":true,\"showBalanceChanges\":true},"
	    "\"WaitForLocalExecution\"]",
	    b64, sigb64);
	if (tangle_call(j->t, "iota_executeTransactionBlock", params, job_step_executed, j) != 0)
		job_done(j, TANGLE_E_NET, "cannot start the execution");
out:
	free(params);
	free(b64);
}

static void
job_step_executed(void *arg, const struct tangle_reply *r)
{
	struct job *j = arg;
	struct iota_effects e;
	char err[128];

	if (r->status != TANGLE_OK) {
		/* The digest stays set: a transport failure here leaves the
		 * outcome open, and the caller can look the digest up. The
		 * coins may or may not have moved: read them afresh. */
		hint_clear(&j->t->hint);
		job_done(j, r->status, "execute %s: %s", j->sent.digest, r->error);
		return;
	}
	if (iota_rpc_effects(cJSON_GetObjectItemCaseSensitive(r->result, "effects"), &e, err,
	        sizeof(err)) != 0) {
		hint_clear(&j->t->hint);
		job_done(j, TANGLE_E_BAD, "execute %s: %s", j->sent.digest, err);
		return;
	}
	/* Success or failure on chain, the gas coin has a new version. */
	hint_set(j->t, j, &e);
	j->sent.gas = e.gas;
	if (!e.success) {
		job_done(j, TANGLE_E_FAILED, "transaction %s failed on chain: %s", j->sent.digest,
		    e.error);
		return;
	}
	job_done(j, TANGLE_OK, NULL);
}

static void
start_next(evutil_socket_t fd, short what, void *arg)
{
	struct tangle *t = arg;
	struct job *j = TAILQ_FIRST(&t->jobs);

	(void)fd;
	(void)what;
	if (t->running || j == NULL)
		return;
	t->running = 1;
	if (tangle_call(t, "iotax_getReferenceGasPrice", "[]", job_step_price, j) != 0)
		job_done(j, TANGLE_E_NET, "cannot start iotax_getReferenceGasPrice");
}

static int
job_queue(struct tangle *t, struct job *j)
{
	if (t->cfg.signer == NULL || t->njobs >= JOBS_MAX) {
		job_free(j);
		return -1;
	}
	j->t = t;
	TAILQ_INSERT_TAIL(&t->jobs, j, entry);
	t->njobs++;
	if (!t->running)
		event_active(t->kick, EV_TIMEOUT, 0);
	return 0;
}

int
tangle_pay(struct tangle *t, const uint8_t recipient[IOTA_ADDRESS_BYTES], uint64_t amount,
    tangle_sent_fn cb, void *arg)
{
	struct job *j = calloc(1, sizeof(*j));

	if (j == NULL)
		return -1;
	j->kind = JOB_PAY;
	memcpy(j->recipient, recipient, IOTA_ADDRESS_BYTES);
	j->amount = amount;
	j->cb = cb;
	j->arg = arg;
	return job_queue(t, j);
}

int
tangle_notarize(struct tangle *t, const uint8_t *data, size_t len, const char *description,
    tangle_sent_fn cb, void *arg)
{
	struct job *j;

	if (len > IOTA_NOTARIZE_DATA_MAX)
		return -1;
	j = calloc(1, sizeof(*j));
	if (j == NULL)
		return -1;
	j->kind = JOB_NOTARIZE;
	j->cb = cb;
	j->arg = arg;
	j->len = len;
	j->data = malloc(len > 0 ? len : 1);
	j->description = description != NULL ? strdup(description) : NULL;
	if (j->data == NULL || (description != NULL && j->description == NULL)) {
		job_free(j);
		return -1;
	}
	if (len > 0)
		memcpy(j->data, data, len);
	return job_queue(t, j);
}

void
tangle_wait(struct event_base *base, const int *done)
{
	while (!*done)
		if (event_base_loop(base, EVLOOP_ONCE) != 0)
			break;
}
