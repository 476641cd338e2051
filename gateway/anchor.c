/* Anchoring on IOTA: each outbox item (a leaf hash, a tree head's root) becomes a notarization. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/anchor.h"
#include "gateway/log.h"
#include "sdpp/enc.h"
#include "tangle/tangle.h"
#include "util/clock.h"

/* Items the outbox hands over while this many transactions still wait:
 * transactions of one account run one at a time anyway. */
#define ANCHOR_QUEUE_LOW 16
/* An outbox item whose last transaction may have landed: "unknown:DIGEST". */
#define UNKNOWN "unknown:"

struct anchor {
	struct event_base *base;
	struct gw_iota *gi;
	struct ledger *ledger;
	int tree_heads;
	uint64_t interval_ms;
	int64_t last_head;
	struct event *tick;
	anchor_notify_fn notify;
	void *notify_arg;
	struct anchor_stats stats;
};

/* One outbox item on its way. */
struct job {
	struct anchor *an;
	uint64_t item;
	uint8_t data[32]; /* what is notarized */
	char desc[160];
	char maybe[IOTA_DIGEST_TEXT_LEN];              /* a transaction that may have landed */
	char *proof;                                   /* its bytes, base64 */
	uint64_t record;                               /* 0: a tree head */
	char order[SDPP_HEX_LEN(SDPP_ORDER_ID_BYTES)]; /* of the record */
	char what[64];
};

static void
job_free(struct job *j)
{
	free(j->proof);
	free(j);
}

static void
on_anchored(void *arg, const struct tangle_sent *s)
{
	struct job *j = arg;
	struct anchor *an;
	char ref[IOTA_DIGEST_TEXT_LEN + 16], err[LEDGER_ERR_MAX], *proof = NULL;
	int ok = s->status == TANGLE_OK;

	if (s->status == TANGLE_E_CANCELLED) {
		/* Shutting down (the anchor may be gone): the item stays
		 * pending in the outbox. */
		job_free(j);
		return;
	}
	an = j->an;
	if (ok) {
		snprintf(ref, sizeof(ref), "iota:%s", s->digest);
		proof = malloc(SDPP_B64_LEN(s->txlen));
		if (proof != NULL)
			sdpp_b64_encode(proof, s->tx, s->txlen);
		an->stats.anchors++;
		log_info("event=anchor item=%llu what=\"%s\" digest=%s gas=%" PRIu64 "+%" PRIu64
		         "-%" PRIu64,
		    (unsigned long long)j->item, j->what, s->digest, s->gas.computation,
		    s->gas.storage, s->gas.rebate);
	} else {
		an->stats.failures++;
		log_warnx("event=anchor_failed item=%llu what=\"%s\" error=\"%s\"",
		    (unsigned long long)j->item, j->what, s->error);
		if (s->tx != NULL && (s->status == TANGLE_E_NET || s->status == TANGLE_E_BAD)) {
			/* Signed and sent, but no clear answer: it may land. The
			 * next attempt looks it up before paying for another. */
			snprintf(ref, sizeof(ref), "%s%s", UNKNOWN, s->digest);
			proof = malloc(SDPP_B64_LEN(s->txlen));
			if (proof != NULL)
				sdpp_b64_encode(proof, s->tx, s->txlen);
		}
	}
	if (ledger_outbox_done(an->ledger, j->item, ok, ok || proof != NULL ? ref : s->error, proof,
	        util_now_ms(), err, sizeof(err)) != 0)
		log_warnx("event=outbox error=\"%s\"", err);
	if (ok && j->record != 0 && an->notify != NULL)
		an->notify(an->notify_arg, j->order, j->record, ref);
	free(proof);
	job_free(j);
}

/*
 * The answer about a transaction that may have landed: if it did (and
 * succeeded), that is the anchor; if the node does not know it, notarize
 * afresh; if the node cannot say, try again later with the same question.
 */
static void
on_maybe(void *arg, const struct tangle_reply *r)
{
	struct job *j = arg;
	struct anchor *an = j->an;
	struct iota_tx_view v;
	struct tangle_sent s;
	char err[LEDGER_ERR_MAX], asked[IOTA_DIGEST_TEXT_LEN];
	uint8_t *tx = NULL;
	size_t txlen = 0, plen = strlen(j->proof);

	memset(&s, 0, sizeof(s));
	snprintf(s.digest, sizeof(s.digest), "%s", j->maybe);
	if (r->status == TANGLE_OK && iota_rpc_tx(r->result, &v, err, sizeof(err)) == 0) {
		iota_digest_format(asked, v.digest);
		tx = malloc(plen + 1);
		if (strcmp(asked, j->maybe) == 0 && v.effects.success && tx != NULL &&
		    sdpp_b64_decode(tx, plen, &txlen, j->proof, plen) == SDPP_OK) {
			log_info("event=anchor_found item=%llu digest=%s",
			    (unsigned long long)j->item, j->maybe);
			s.status = TANGLE_OK;
			s.tx = tx;
			s.txlen = txlen;
			on_anchored(j, &s);
			free(tx);
			return;
		}
		free(tx);
		/* It failed on chain, or is another transaction: notarize. */
	} else if (!(r->status == TANGLE_E_RPC && iota_rpc_not_found(r->code, r->error))) {
		/* The node cannot say yet: same question next time. */
		char again[IOTA_DIGEST_TEXT_LEN + 16];

		snprintf(again, sizeof(again), "%s%s", UNKNOWN, j->maybe);
		if (ledger_outbox_done(an->ledger, j->item, 0, again, j->proof, util_now_ms(), err,
		        sizeof(err)) != 0)
			log_warnx("event=outbox error=\"%s\"", err);
		job_free(j);
		return;
	}
	free(j->proof);
	j->proof = NULL;
	if (tangle_notarize(
	        gw_iota_tangle(an->gi), j->data, sizeof(j->data), j->desc, on_anchored, j) != 0) {
		s.status = TANGLE_E_REFUSED;
		snprintf(s.error, sizeof(s.error), "cannot queue the notarization");
		s.digest[0] = '\0';
		on_anchored(j, &s);
	}
}

/*
 * An outbox item becomes a locked notarization: a record's leaf hash, or
 * a signed tree head's root, with a description naming it. 32 bytes of
 * data keep the storage deposit small; the local ledger has the rest.
 */
static int
anchor_submit(void *ctx, const struct ledger_outbox_item *it)
{
	struct anchor *an = ctx;
	struct job *j = calloc(1, sizeof(*j));

	if (j == NULL)
		return -1;
	j->an = an;
	j->item = it->item;
	memcpy(j->data, it->hash, sizeof(j->data));
	if (it->tree_head) {
		snprintf(j->desc, sizeof(j->desc), "sdpp tree head size %" PRIu64 ", log %.16s",
		    it->number, it->log_key);
	} else {
		snprintf(j->desc, sizeof(j->desc), "sdpp %.16s record %" PRIu64 ", log %.16s",
		    it->kind, it->number, it->log_key);
		/* Its buyer may still be connected: it is told where. */
		if (strlen(it->order_id) == sizeof(j->order) - 1) {
			j->record = it->number;
			memcpy(j->order, it->order_id, sizeof(j->order));
		}
	}
	snprintf(j->what, sizeof(j->what), "%.63s", j->desc + 5);
	if (strncmp(it->last_error, UNKNOWN, strlen(UNKNOWN)) == 0 && it->proof[0] != '\0') {
		/* The last attempt may have landed: ask before notarizing again. */
		snprintf(j->maybe, sizeof(j->maybe), "%.*s", (int)sizeof(j->maybe) - 1,
		    it->last_error + strlen(UNKNOWN));
		j->proof = strdup(it->proof);
		if (j->proof == NULL ||
		    tangle_get_tx(gw_iota_tangle(an->gi), j->maybe, on_maybe, j) != 0)
			goto fail;
	} else if (tangle_notarize(gw_iota_tangle(an->gi), j->data, sizeof(j->data), j->desc,
	               on_anchored, j) != 0) {
		goto fail;
	}
	return 0;
fail:
	job_free(j);
	return -1;
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct anchor *an = arg;
	char err[LEDGER_ERR_MAX];
	int64_t now = util_now_ms();

	(void)fd;
	(void)what;
	if (an->tree_heads && now - an->last_head >= (int64_t)an->interval_ms) {
		an->last_head = now;
		if (ledger_anchor_head(an->ledger, err, sizeof(err)) < 0)
			log_warnx("event=anchor_head error=\"%s\"", err);
	}
	if (tangle_queued(gw_iota_tangle(an->gi)) < ANCHOR_QUEUE_LOW &&
	    ledger_outbox_poll(an->ledger, now, err, sizeof(err)) < 0)
		log_warnx("event=outbox error=\"%s\"", err);
}

int
anchor_new(struct anchor **out, struct event_base *base, struct gw_iota *gi, struct ledger *l,
    int tree_heads, uint64_t interval_ms, anchor_notify_fn notify, void *arg, char *err,
    size_t errlen)
{
	struct anchor *an = calloc(1, sizeof(*an));
	struct timeval one = { 1, 0 };
	struct ledger_remote r;

	*out = NULL;
	if (an == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	an->base = base;
	an->gi = gi;
	an->ledger = l;
	an->tree_heads = tree_heads;
	an->interval_ms = interval_ms;
	an->last_head = util_now_ms();
	an->notify = notify;
	an->notify_arg = arg;
	an->tick = event_new(base, -1, EV_PERSIST, tick_cb, an);
	if (an->tick == NULL || evtimer_add(an->tick, &one) != 0) {
		snprintf(err, errlen, "cannot set up the anchoring timer");
		goto fail;
	}
	r.name = "iota";
	r.where = iota_method_name(gw_iota_network(gi));
	r.ctx = an;
	r.submit = anchor_submit;
	if (ledger_set_remote(l, &r, err, errlen) != 0)
		goto fail;
	*out = an;
	return 0;
fail:
	if (an->tick != NULL)
		event_free(an->tick);
	free(an);
	return -1;
}

void
anchor_free(struct anchor *an)
{
	if (an == NULL)
		return;
	ledger_clear_remote(an->ledger);
	event_free(an->tick);
	free(an);
}

void
anchor_set_interval(struct anchor *an, uint64_t interval_ms)
{
	an->interval_ms = interval_ms;
}

void
anchor_poll_soon(struct anchor *an)
{
	/* New outbox items go out on this turn, not at the next tick. */
	event_active(an->tick, EV_TIMEOUT, 0);
}

void
anchor_get_stats(const struct anchor *an, struct anchor_stats *out)
{
	*out = an->stats;
}
