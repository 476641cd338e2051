/* A miniature gateway host for tests: records a conversation's seller events in a ledger. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tests/common/glue.h"

static void
append(struct glue *g, struct conv *c, struct ledger_record *r, char *verif, size_t vlen)
{
	char err[LEDGER_ERR_MAX];
	uint64_t id = 0;

	if (ledger_append(g->l, r, &id, err, sizeof(err)) != 0)
		fail_msg("append: %s", err);
	/* Durable before the reply that names it. */
	if (ledger_commit(g->l, (int64_t)c->now, err, sizeof(err)) != 0)
		fail_msg("commit: %s", err);
	g->commits++;
	g->appended++;
	if (verif != NULL)
		ledger_id_format(verif, id);
	(void)vlen;
	ledger_record_clear(r);
}

void
glue_flush_receipts(struct glue *g, struct conv *c)
{
	struct ledger_record r;
	const uint8_t *oid = sdpp_seller_order_id(c->s), *buyer = sdpp_seller_buyer(c->s);
	size_t i;

	if (g->nacks == 0 || oid == NULL)
		return;
	assert_int_equal(ledger_record_receipts(&r, oid, buyer, g->acks, g->nacks,
	    (int64_t)c->now), 0);
	append(g, c, &r, NULL, 0);
	for (i = 0; i < g->nacks; i++)
		ledger_ack_clear(&g->acks[i]);
	g->nacks = 0;
}

static void
hook(struct conv *c, const struct sdpp_event *ev, char *verif, size_t vlen)
{
	struct glue *g = c->hook_ctx;
	struct ledger_record r;
	struct sdpp_progress p;
	const uint8_t *oid = sdpp_seller_order_id(c->s), *buyer = sdpp_seller_buyer(c->s);

	switch (ev->type) {
	case SDPP_EV_ORDER:
		assert_int_equal(ledger_record_order(&r, ev->msg, oid, sdpp_seller_product(c->s),
		    (int64_t)c->now), 0);
		append(g, c, &r, verif, vlen);
		break;
	case SDPP_EV_RECEIPT:
		assert_true(g->nacks < 256);
		assert_int_equal(ledger_ack_from_msg(&g->acks[g->nacks++], ev->msg), 0);
		break;
	case SDPP_EV_INVOICE:
		/* Receipts first: the block the invoice bills was acknowledged. */
		glue_flush_receipts(g, c);
		assert_int_equal(ledger_record_invoice(&r, ev->invoice, buyer, (int64_t)c->now), 0);
		append(g, c, &r, verif, vlen);
		break;
	case SDPP_EV_PAYMENT:
		assert_int_equal(ledger_record_payment(&r, ev->msg, buyer, "voucher",
		    (int64_t)c->now), 0);
		append(g, c, &r, verif, vlen);
		break;
	case SDPP_EV_EXIT:
		glue_flush_receipts(g, c);
		assert_int_equal(ledger_record_exit(&r, ev->msg, buyer, (int64_t)c->now), 0);
		append(g, c, &r, verif, vlen);
		break;
	case SDPP_EV_CLOSE:
		if (oid == NULL)
			break;
		glue_flush_receipts(g, c);
		sdpp_seller_progress(c->s, &p);
		assert_int_equal(ledger_record_close(&r, oid, buyer, sdpp_seller_product(c->s), &p,
		    sdpp_err_code(ev->err) != NULL && ev->err != SDPP_OK ? sdpp_err_code(ev->err) :
		    "settled", (int64_t)c->now), 0);
		append(g, c, &r, NULL, 0);
		break;
	default:
		break;
	}
}

void
glue_attach(struct glue *g, struct conv *c, struct ledger *l)
{
	memset(g, 0, sizeof(*g));
	g->l = l;
	c->seller_hook = hook;
	c->hook_ctx = g;
}

void
glue_detach(struct glue *g)
{
	size_t i;

	for (i = 0; i < g->nacks; i++)
		ledger_ack_clear(&g->acks[i]);
	g->nacks = 0;
}
