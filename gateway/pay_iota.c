/* The `iota` payment backend: a payment_ack names a transfer, which must be found on chain. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "gateway/book.h"
#include "gateway/log.h"
#include "gateway/pay_iota.h"
#include "tangle/tangle.h"
#include "util/clock.h"

/* A payment not (yet) visible on the node is looked up again after this. */
#define CONFIRM_RETRY_MS 1000

struct check {
	struct pay_iota *p;
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

struct pay_iota {
	struct event_base *base;
	struct gw_iota *gi;
	struct ledger *ledger;
	uint64_t timeout_ms;
	TAILQ_HEAD(, check) checks;
};

struct pay_iota *
pay_iota_new(
    struct event_base *base, struct gw_iota *gi, struct ledger *l, uint64_t confirm_timeout_ms)
{
	struct pay_iota *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->base = base;
	p->gi = gi;
	p->ledger = l;
	p->timeout_ms = confirm_timeout_ms;
	TAILQ_INIT(&p->checks);
	return p;
}

void
pay_iota_set_timeout(struct pay_iota *p, uint64_t confirm_timeout_ms)
{
	p->timeout_ms = confirm_timeout_ms;
}

static void
check_free(struct check *k)
{
	TAILQ_REMOVE(&k->p->checks, k, entry);
	if (k->timer != NULL)
		event_free(k->timer);
	free(k);
}

void
pay_iota_free(struct pay_iota *p)
{
	struct check *k;

	if (p == NULL)
		return;
	/* Checks hold their sessions' requests: let go of them (-1: no
	 * answer to sessions that are being torn down). */
	while ((k = TAILQ_FIRST(&p->checks)) != NULL) {
		payment_done_fn done = k->done;
		void *arg = k->arg;

		check_free(k);
		done(arg, -1, "shutting down");
	}
	free(p);
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

static void
check_later(struct check *k, const char *why)
{
	struct timeval tv = { CONFIRM_RETRY_MS / 1000, (CONFIRM_RETRY_MS % 1000) * 1000 };

	if (util_now_ms() + CONFIRM_RETRY_MS > k->deadline) {
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
	char asked[IOTA_DIGEST_TEXT_LEN];
	const uint8_t *pay_to = gw_iota_pay_to(k->p->gi);
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
	    iota_rpc_received(r->result, pay_to, &got, err, sizeof(err)) != 0) {
		check_later(k, err);
		return;
	}
	/* A node (or a proxy) answering about another transaction. */
	iota_digest_format(asked, v.digest);
	if (strcmp(asked, k->digest) != 0) {
		check_later(k, "the node answered about another transaction");
		return;
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
		iota_address_format(a, pay_to);
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
	if (tangle_get_tx(gw_iota_tangle(k->p->gi), k->digest, on_tx, k) != 0)
		check_later(k, "cannot start a lookup");
}

static int
iota_confirm(void *ctx, const struct payment_check *pc, payment_done_fn done, void *arg)
{
	struct pay_iota *p = ctx;
	const struct sdpp_msg *m = pc->payment;
	struct check *k, *o;
	uint8_t d[IOTA_DIGEST_BYTES];
	struct timeval now = { 0, 0 };
	const char *why = NULL;

	k = calloc(1, sizeof(*k));
	if (k == NULL)
		return -1;
	k->p = p;
	k->conn = pc->conn;
	k->done = done;
	k->arg = arg;
	k->deadline = util_now_ms() + (int64_t)p->timeout_ms;
	k->need = m->u.payment.total > pc->paid_before ? m->u.payment.total - pc->paid_before : 0;
	k->timer = evtimer_new(p->base, check_lookup, k);
	TAILQ_INSERT_TAIL(&p->checks, k, entry);
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
	else if (!gw_iota_is_account_of(pc->buyer, pc->buyer_address))
		/* Anyone can name an address; only the buyer's own account
		 * proves that the transfer is the buyer's. */
		why = "the order's payment_address is not the IOTA account of its buyer key";
	else if (k->need == 0)
		why = "the payment adds nothing to what was paid";
	else if (book_payment_ref_used(p->ledger, k->digest) != 0)
		why = "this transaction already paid an invoice";
	TAILQ_FOREACH(o, &p->checks, entry)
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

void
pay_iota_backend(struct pay_iota *p, struct payment_backend *b)
{
	b->name = "iota";
	b->ctx = p;
	b->confirm = iota_confirm;
}
