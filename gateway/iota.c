/* IOTA in the daemon: the `iota` payment backend (transfers found on chain) and the ledger outbox anchored as notarizations. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <cjson/cJSON.h>
#include <event2/event.h>

#include "gateway/gateway.h"
#include "gateway/log.h"
#include "sdpp/enc.h"
#include "tangle/tangle.h"

/* Items the outbox hands over while this many transactions still wait:
 * transactions of one account run one at a time anyway. */
#define ANCHOR_QUEUE_LOW 16
/* A payment not (yet) visible on the node is looked up again after this. */
#define CONFIRM_RETRY_MS 1000
/* An outbox item whose last transaction may have landed: "unknown:DIGEST". */
#define UNKNOWN "unknown:"

struct check {
	struct gw_iota *gi;
	uint64_t conn;
	char digest[IOTA_DIGEST_TEXT_LEN];
	uint8_t sender[IOTA_ADDRESS_BYTES];
	uint64_t need;
	int64_t deadline;
	unsigned lookups;
	payment_done_fn done;
	void *arg;
	struct event *timer;
	const char *refuse; /* refused before any lookup (static text) */
	TAILQ_ENTRY(check) entry;
};

struct anchor {
	struct gw_iota *gi;
	uint64_t item;
	uint8_t data[32];                  /* what is notarized */
	char desc[160];
	char maybe[IOTA_DIGEST_TEXT_LEN];  /* a transaction that may have landed */
	char *proof;                       /* its bytes, base64 */
	uint64_t record;                               /* 0: a tree head */
	char order[SDPP_HEX_LEN(SDPP_ORDER_ID_BYTES)]; /* of the record */
	char what[64];
};

struct gw_iota {
	struct gw *gw;
	struct tangle *t;
	struct sdpp_identity *own_key; /* [iota] key, if not the gateway's */
	uint8_t pay_to[IOTA_ADDRESS_BYTES];
	struct event *tick;
	int64_t last_head;
	TAILQ_HEAD(, check) checks;
};

/* ------------------------------------------------------------- payments */

static void
check_free(struct check *k)
{
	TAILQ_REMOVE(&k->gi->checks, k, entry);
	if (k->timer != NULL)
		event_free(k->timer);
	free(k);
}

static void
check_end(struct check *k, int ok, const char *why)
{
	payment_done_fn done = k->done;
	void *arg = k->arg;
	char ref[IOTA_DIGEST_TEXT_LEN];

	memcpy(ref, k->digest, sizeof(ref));
	if (ok)
		log_info("%llu event=payment_confirmed digest=%s lookups=%u",
		    (unsigned long long)k->conn, k->digest, k->lookups);
	else {
		char clean[TANGLE_ERR_MAX + 64];
		size_t i;

		/* Node texts may carry quotes; keep the log line parseable. */
		snprintf(clean, sizeof(clean), "%s", why);
		for (i = 0; clean[i] != '\0'; i++)
			if (clean[i] == '"' || (unsigned char)clean[i] < 0x20)
				clean[i] = '\'';
		log_warnx("%llu event=payment_refused digest=%s reason=\"%s\"",
		    (unsigned long long)k->conn, k->digest, clean);
	}
	check_free(k);
	done(arg, ok, ok ? ref : why);
}

static void check_lookup(evutil_socket_t fd, short what, void *arg);

static void
check_later(struct check *k, const char *why)
{
	struct timeval tv = { CONFIRM_RETRY_MS / 1000, (CONFIRM_RETRY_MS % 1000) * 1000 };

	if (gw_now() + CONFIRM_RETRY_MS > k->deadline) {
		char msg[TANGLE_ERR_MAX + 64];

		snprintf(msg, sizeof(msg), "not confirmed within confirm_timeout: %s", why);
		check_end(k, 0, msg);
		return;
	}
	if (evtimer_add(k->timer, &tv) != 0)
		check_end(k, 0, "cannot schedule a lookup");
}

static void
on_tx(void *arg, const struct tangle_reply *r)
{
	struct check *k = arg;
	struct iota_tx_view v;
	char err[TANGLE_ERR_MAX], a[IOTA_ADDRESS_TEXT_LEN], b[IOTA_ADDRESS_TEXT_LEN];
	uint64_t got;

	if (r->status == TANGLE_E_NET || r->status == TANGLE_E_BAD ||
	    (r->status == TANGLE_E_RPC && iota_rpc_not_found(r->code, r->error))) {
		/* Not there yet, or the node is unwell: look again until the
		 * deadline. Delivery to this buyer is paused meanwhile at most. */
		check_later(k, r->error);
		return;
	}
	if (r->status != TANGLE_OK) {
		check_end(k, 0, r->error);
		return;
	}
	if (iota_rpc_tx(r->result, &v, err, sizeof(err)) != 0 ||
	    iota_rpc_received(r->result, k->gi->pay_to, &got, err, sizeof(err)) != 0) {
		check_later(k, err);
		return;
	}
	{
		char asked[IOTA_DIGEST_TEXT_LEN];

		/* A node (or a proxy) answering about another transaction. */
		iota_digest_format(asked, v.digest);
		if (strcmp(asked, k->digest) != 0) {
			check_later(k, "the node answered about another transaction");
			return;
		}
	}
	if (!v.effects.success) {
		snprintf(err, sizeof(err), "transaction failed on chain: %s", v.effects.error);
		check_end(k, 0, err);
		return;
	}
	if (!v.have_sender || memcmp(v.sender, k->sender, IOTA_ADDRESS_BYTES) != 0) {
		iota_address_format(a, v.sender);
		iota_address_format(b, k->sender);
		snprintf(err, sizeof(err), "sent by %s, not by the order's address %s",
		    v.have_sender ? a : "an unknown sender", b);
		check_end(k, 0, err);
		return;
	}
	if (got < k->need) {
		iota_address_format(a, k->gi->pay_to);
		snprintf(err, sizeof(err), "moved %" PRIu64 " nanos to %s, %" PRIu64 " due", got, a,
		    k->need);
		check_end(k, 0, err);
		return;
	}
	check_end(k, 1, NULL);
}

static void
check_lookup(evutil_socket_t fd, short what, void *arg)
{
	struct check *k = arg;

	(void)fd;
	(void)what;
	if (k->refuse != NULL) {
		check_end(k, 0, k->refuse);
		return;
	}
	k->lookups++;
	if (tangle_get_tx(k->gi->t, k->digest, on_tx, k) != 0)
		check_later(k, "cannot start a lookup");
}

static int
iota_confirm(void *ctx, struct gw *gw, const struct payment_check *pc, payment_done_fn done,
    void *arg)
{
	struct gw_iota *gi = ctx;
	const struct sdpp_msg *m = pc->payment;
	struct check *k, *o;
	uint8_t d[IOTA_DIGEST_BYTES], own[IOTA_ADDRESS_BYTES];
	struct timeval now = { 0, 0 };
	const char *why = NULL;

	k = calloc(1, sizeof(*k));
	if (k == NULL)
		return -1;
	k->gi = gi;
	k->conn = pc->conn;
	k->done = done;
	k->arg = arg;
	k->deadline = gw_now() + (int64_t)gw->cfg->iota_confirm_timeout_ms;
	k->need = m->u.payment.total > pc->paid_before ? m->u.payment.total - pc->paid_before : 0;
	k->timer = evtimer_new(gw->base, check_lookup, k);
	TAILQ_INSERT_TAIL(&gi->checks, k, entry);
	if (k->timer == NULL) {
		check_free(k);
		return -1;
	}
	/* Only a well-formed digest is looked up and logged: the text is the
	 * buyer's. */
	if (iota_digest_parse(d, m->verification) == 0)
		iota_digest_format(k->digest, d);
	else
		snprintf(k->digest, sizeof(k->digest), "invalid");
	if (iota_digest_parse(d, m->verification) != 0)
		why = "verification is not an IOTA transaction digest";
	else if (iota_address_parse(k->sender, pc->buyer_address) != 0)
		why = "the order's payment_address is not an IOTA address";
	else if (gw_iota_account_of(pc->buyer, own) != 0 ||
	    memcmp(own, k->sender, IOTA_ADDRESS_BYTES) != 0)
		/* Anyone can name an address; only the buyer's own account
		 * proves that the transfer is the buyer's. */
		why = "the order's payment_address is not the IOTA account of its buyer key";
	else if (k->need == 0)
		why = "the payment adds nothing to what was paid";
	else if (ledger_has_payment_ref(gw->ledger, k->digest) != 0)
		why = "this transaction already paid an invoice";
	TAILQ_FOREACH(o, &gi->checks, entry)
		if (why == NULL && o != k && o->refuse == NULL && strcmp(o->digest, k->digest) == 0)
			why = "this transaction is already being checked for another payment";
	/* Refusals too are answered on a later turn: the session never sees a
	 * completion inside the call that asked for it. */
	k->refuse = why;
	if (evtimer_add(k->timer, &now) != 0) {
		check_free(k);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------- anchoring */

/* If the record's order is still being served, its buyer learns where the
 * record stands, so it can look it up without asking us. */
static void
tell_buyer(struct gw *gw, const struct anchor *a, const char *ref)
{
	char hex[SDPP_HEX_LEN(SDPP_ORDER_ID_BYTES)], record[LEDGER_ID_LEN];
	struct conn *c;

	TAILQ_FOREACH(c, &gw->conns, entry)
	{
		const uint8_t *oid = c->dead ? NULL : sdpp_seller_order_id(c->s);

		if (oid == NULL)
			continue;
		sdpp_hex_encode(hex, oid, SDPP_ORDER_ID_BYTES);
		if (strcmp(hex, a->order) != 0)
			continue;
		ledger_id_format(record, a->record);
		if (sdpp_seller_anchor(c->s, record, ref, c->out) == SDPP_OK)
			gw_conn_process(c);
		return;
	}
}

static void
on_anchored(void *arg, const struct tangle_sent *s)
{
	struct anchor *a = arg;
	struct gw *gw = a->gi->gw;
	char ref[IOTA_DIGEST_TEXT_LEN + 16], err[LEDGER_ERR_MAX], *proof = NULL;
	int ok = s->status == TANGLE_OK;

	if (s->status == TANGLE_E_CANCELLED) {
		/* Shutting down: the item stays pending in the outbox. */
		free(a->proof);
		free(a);
		return;
	}
	if (ok) {
		snprintf(ref, sizeof(ref), "iota:%s", s->digest);
		proof = malloc(SDPP_B64_LEN(s->txlen));
		if (proof != NULL)
			sdpp_b64_encode(proof, s->tx, s->txlen);
		gw->stats.anchors++;
		log_info("event=anchor item=%llu what=\"%s\" digest=%s gas=%" PRIu64 "+%" PRIu64
			 "-%" PRIu64,
		    (unsigned long long)a->item, a->what, s->digest, s->gas.computation,
		    s->gas.storage, s->gas.rebate);
	} else {
		gw->stats.anchor_failures++;
		log_warnx("event=anchor_failed item=%llu what=\"%s\" error=\"%s\"",
		    (unsigned long long)a->item, a->what, s->error);
		if (s->tx != NULL && (s->status == TANGLE_E_NET || s->status == TANGLE_E_BAD)) {
			/* Signed and sent, but no clear answer: it may land. The
			 * next attempt looks it up before paying for another. */
			snprintf(ref, sizeof(ref), "%s%s", UNKNOWN, s->digest);
			proof = malloc(SDPP_B64_LEN(s->txlen));
			if (proof != NULL)
				sdpp_b64_encode(proof, s->tx, s->txlen);
		}
	}
	if (ledger_outbox_done(gw->ledger, a->item, ok, ok || proof != NULL ? ref : s->error, proof,
		gw_now(), err, sizeof(err)) != 0)
		log_warnx("event=outbox error=\"%s\"", err);
	if (ok && a->record != 0)
		tell_buyer(gw, a, ref);
	free(proof);
	free(a->proof);
	free(a);
}

/*
 * The answer about a transaction that may have landed: if it did (and
 * succeeded), that is the anchor; if the node does not know it, notarize
 * afresh; if the node cannot say, try again later with the same question.
 */
static void
on_maybe(void *arg, const struct tangle_reply *r)
{
	struct anchor *a = arg;
	struct gw *gw = a->gi->gw;
	struct iota_tx_view v;
	struct tangle_sent s;
	char err[LEDGER_ERR_MAX], asked[IOTA_DIGEST_TEXT_LEN];
	uint8_t *tx = NULL;
	size_t txlen = 0, plen = strlen(a->proof);

	memset(&s, 0, sizeof(s));
	snprintf(s.digest, sizeof(s.digest), "%s", a->maybe);
	if (r->status == TANGLE_OK && iota_rpc_tx(r->result, &v, err, sizeof(err)) == 0) {
		iota_digest_format(asked, v.digest);
		tx = malloc(plen + 1);
		if (strcmp(asked, a->maybe) == 0 && v.effects.success && tx != NULL &&
		    sdpp_b64_decode(tx, plen, &txlen, a->proof, plen) == SDPP_OK) {
			log_info("event=anchor_found item=%llu digest=%s",
			    (unsigned long long)a->item, a->maybe);
			s.status = TANGLE_OK;
			s.tx = tx;
			s.txlen = txlen;
			on_anchored(a, &s);
			free(tx);
			return;
		}
		free(tx);
		/* It failed on chain, or is another transaction: notarize. */
	} else if (!(r->status == TANGLE_E_RPC && iota_rpc_not_found(r->code, r->error))) {
		/* The node cannot say yet: same question next time. */
		char again[IOTA_DIGEST_TEXT_LEN + 16];

		snprintf(again, sizeof(again), "%s%s", UNKNOWN, a->maybe);
		if (ledger_outbox_done(gw->ledger, a->item, 0, again, a->proof, gw_now(), err,
			sizeof(err)) != 0)
			log_warnx("event=outbox error=\"%s\"", err);
		free(a->proof);
		free(a);
		return;
	}
	free(a->proof);
	a->proof = NULL;
	if (tangle_notarize(a->gi->t, a->data, sizeof(a->data), a->desc, on_anchored, a) != 0) {
		s.status = TANGLE_E_REFUSED;
		snprintf(s.error, sizeof(s.error), "cannot queue the notarization");
		s.digest[0] = '\0';
		on_anchored(a, &s);
	}
}

/*
 * An outbox item becomes a locked notarization: a record's leaf hash, or
 * a signed tree head's root, with a description naming it. 32 bytes of
 * data keep the storage deposit small; the local ledger has the rest.
 */
static int
anchor_submit(void *ctx, uint64_t item, const uint8_t *payload, size_t len,
    const char *last_error, const char *proof)
{
	struct gw_iota *gi = ctx;
	cJSON *j = cJSON_ParseWithLength((const char *)payload, len);
	const cJSON *kind, *hash, *key, *num, *order;
	char desc[160];
	uint8_t data[32];
	struct anchor *a = NULL;
	int rc = -1;

	if (j == NULL)
		goto out;
	key = cJSON_GetObjectItemCaseSensitive(j, "log_key");
	kind = cJSON_GetObjectItemCaseSensitive(j, "kind");
	if (cJSON_IsString(kind)) {
		hash = cJSON_GetObjectItemCaseSensitive(j, "leaf_hash");
		num = cJSON_GetObjectItemCaseSensitive(j, "record");
	} else {
		hash = cJSON_GetObjectItemCaseSensitive(j, "root");
		num = cJSON_GetObjectItemCaseSensitive(j, "size");
	}
	if (!cJSON_IsString(hash) || !cJSON_IsString(key) || !cJSON_IsNumber(num) ||
	    sdpp_hex_decode(data, sizeof(data), hash->valuestring) != SDPP_OK)
		goto out;
	if (cJSON_IsString(kind))
		snprintf(desc, sizeof(desc), "sdpp %s record %.0f, log %.16s", kind->valuestring,
		    num->valuedouble, key->valuestring);
	else
		snprintf(desc, sizeof(desc), "sdpp tree head size %.0f, log %.16s",
		    num->valuedouble, key->valuestring);
	a = calloc(1, sizeof(*a));
	if (a == NULL)
		goto out;
	a->gi = gi;
	a->item = item;
	order = cJSON_GetObjectItemCaseSensitive(j, "order_id");
	if (cJSON_IsString(kind) && cJSON_IsString(order) && num->valuedouble >= 1 &&
	    num->valuedouble < 9007199254740992.0 &&
	    strlen(order->valuestring) == sizeof(a->order) - 1) {
		a->record = (uint64_t)num->valuedouble;
		memcpy(a->order, order->valuestring, sizeof(a->order));
	}
	snprintf(a->what, sizeof(a->what), "%.63s", desc + 5);
	memcpy(a->data, data, sizeof(data));
	snprintf(a->desc, sizeof(a->desc), "%s", desc);
	if (strncmp(last_error, UNKNOWN, strlen(UNKNOWN)) == 0 && proof[0] != '\0') {
		/* The last attempt may have landed: ask before notarizing again. */
		snprintf(a->maybe, sizeof(a->maybe), "%.*s", (int)sizeof(a->maybe) - 1,
		    last_error + strlen(UNKNOWN));
		a->proof = strdup(proof);
		if (a->proof == NULL || tangle_get_tx(gi->t, a->maybe, on_maybe, a) != 0)
			goto out;
	} else if (tangle_notarize(gi->t, data, sizeof(data), desc, on_anchored, a) != 0) {
		goto out;
	}
	a = NULL;
	rc = 0;
out:
	if (a != NULL)
		free(a->proof);
	free(a);
	cJSON_Delete(j);
	return rc;
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct gw_iota *gi = arg;
	struct gw *gw = gi->gw;
	char err[LEDGER_ERR_MAX];
	int64_t now = gw_now();

	(void)fd;
	(void)what;
	if (gw->cfg->iota_anchor_mode == CONFIG_ANCHOR_TREE_HEADS &&
	    now - gi->last_head >= (int64_t)gw->cfg->iota_anchor_interval_ms) {
		gi->last_head = now;
		if (ledger_anchor_head(gw->ledger, err, sizeof(err)) < 0)
			log_warnx("event=anchor_head error=\"%s\"", err);
	}
	if (tangle_queued(gi->t) < ANCHOR_QUEUE_LOW &&
	    ledger_outbox_poll(gw->ledger, now, err, sizeof(err)) < 0)
		log_warnx("event=outbox error=\"%s\"", err);
}

/* ----------------------------------------------------------------- setup */

int
gw_iota_start(struct gw *gw, char *err, size_t errlen)
{
	const struct gateway_config *cfg = gw->cfg;
	struct gw_iota *gi;
	struct tangle_config tc;
	const struct sdpp_identity *signer = gw->id;
	struct timeval one = { 1, 0 };
	uint8_t pub[SDPP_SIGN_PUBLIC_BYTES];
	int pay = strcmp(cfg->payment_method, "iota") == 0;

	if (!pay && cfg->iota_anchor_mode == CONFIG_ANCHOR_NONE)
		return 0;
	gi = calloc(1, sizeof(*gi));
	if (gi == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	gi->gw = gw;
	TAILQ_INIT(&gi->checks);
	gw->iota = gi;
	if (cfg->iota_key[0] != '\0') {
		if (gw_load_key(cfg->iota_key, 0, &gi->own_key) != 0) {
			snprintf(err, errlen, "[iota] key %s is not usable", cfg->iota_key);
			return -1;
		}
		signer = gi->own_key;
	}
	memset(&tc, 0, sizeof(tc));
	tc.network = (enum iota_network)cfg->iota_net;
	tc.url = cfg->iota_url;
	tc.timeout_ms = (long)cfg->iota_rpc_timeout_ms;
	tc.retries = 2;
	tc.max_budget = cfg->iota_max_gas;
	tc.signer = signer;
	if (tangle_new(&gi->t, gw->base, &tc, err, errlen) != 0)
		return -1;
	if (cfg->payment_address[0] != '\0') {
		if (iota_address_parse(gi->pay_to, cfg->payment_address) != 0) {
			snprintf(err, errlen, "payment_address is not an IOTA address");
			return -1;
		}
	} else {
		sdpp_identity_sign_public(signer, pub);
		if (iota_address_from_public(gi->pay_to, pub) != IOTA_OK) {
			snprintf(err, errlen, "cannot derive the IOTA address");
			return -1;
		}
	}
	if (pay) {
		gw->payment.name = "iota";
		gw->payment.ctx = gi;
		gw->payment.confirm = iota_confirm;
	}
	if (cfg->iota_anchor_mode != CONFIG_ANCHOR_NONE) {
		struct ledger_remote r = { "iota", iota_method_name(tc.network), gi,
			anchor_submit };

		if (ledger_set_remote(gw->ledger, &r, err, errlen) != 0)
			return -1;
	}
	gi->last_head = gw_now();
	gi->tick = event_new(gw->base, -1, EV_PERSIST, tick_cb, gi);
	if (gi->tick == NULL || evtimer_add(gi->tick, &one) != 0) {
		snprintf(err, errlen, "cannot set up the IOTA timer");
		return -1;
	}
	{
		char a[IOTA_ADDRESS_TEXT_LEN], me[IOTA_ADDRESS_TEXT_LEN];

		iota_address_format(a, gi->pay_to);
		iota_address_format(me, tangle_address(gi->t));
		log_info("event=iota network=%s url=%s payments=%s pay_to=%s account=%s anchor=%s",
		    cfg->iota_network, tangle_url(gi->t), pay ? "yes" : "no", a, me, cfg->iota_anchor);
	}
	return 0;
}

int
gw_iota_account_of(const uint8_t key[SDPP_SIGN_PUBLIC_BYTES], uint8_t addr[IOTA_ADDRESS_BYTES])
{
	return iota_address_from_public(addr, key) == IOTA_OK ? 0 : -1;
}

int
gw_iota_order_ok(const struct gw *gw, const uint8_t key[SDPP_SIGN_PUBLIC_BYTES],
    const char *address)
{
	uint8_t want[IOTA_ADDRESS_BYTES], got[IOTA_ADDRESS_BYTES];

	if (gw->iota == NULL || strcmp(gw->cfg->payment_method, "iota") != 0)
		return 1;
	return gw_iota_account_of(key, want) == 0 && iota_address_parse(got, address) == 0 &&
	    memcmp(want, got, sizeof(want)) == 0;
}

void
gw_iota_pay_to(const struct gw *gw, char out[IOTA_ADDRESS_TEXT_LEN])
{
	out[0] = '\0';
	if (gw->iota != NULL)
		iota_address_format(out, gw->iota->pay_to);
}

uint64_t
gw_iota_outbox_pending(const struct gw *gw)
{
	return gw->iota != NULL ? ledger_outbox_pending(gw->ledger) : 0;
}

void
gw_iota_poll_soon(struct gw *gw)
{
	/* New outbox items go out on this turn, not at the next tick. */
	if (gw->iota != NULL && gw->iota->tick != NULL)
		event_active(gw->iota->tick, EV_TIMEOUT, 0);
}

void
gw_iota_stop(struct gw *gw)
{
	struct gw_iota *gi = gw->iota;
	struct check *k;

	if (gi == NULL)
		return;
	/* Payment checks hold their connections: let go of them (-1: no
	 * answer to the session, which is being torn down). */
	while ((k = TAILQ_FIRST(&gi->checks)) != NULL) {
		payment_done_fn done = k->done;
		void *arg = k->arg;

		check_free(k);
		done(arg, -1, "shutting down");
	}
	ledger_clear_remote(gw->ledger);
	tangle_free(gi->t);
	if (gi->tick != NULL)
		event_free(gi->tick);
	sdpp_identity_free(gi->own_key);
	free(gi);
	gw->iota = NULL;
}
