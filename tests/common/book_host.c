/* A test host for the bookkeeping: books a conversation's events, committing each at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tests/common/book_host.h"

static int
host_append(void *ctx, struct ledger_record *r, uint64_t req)
{
	struct book_host *h = ctx;
	char err[LEDGER_ERR_MAX];
	enum ledger_kind kind = r->kind;
	uint64_t id = 0;

	if (ledger_append(h->l, r, &id, err, sizeof(err)) != 0) {
		ledger_record_clear(r);
		return -1;
	}
	ledger_record_clear(r);
	/* Durable before the reply that names it. */
	if (ledger_commit(h->l, 1, err, sizeof(err)) != 0)
		fail_msg("commit: %s", err);
	h->commits++;
	h->appended[kind]++;
	if (req != 0 && h->verif != NULL)
		ledger_id_format(h->verif, id);
	return 0;
}

static void
hook(struct conv *c, const struct sdpp_event *ev, char *verif, size_t vlen)
{
	struct book_host *h = c->hook_ctx;
	enum sdpp_err code = SDPP_OK;
	const char *why = NULL;

	h->verif = verif;
	h->vlen = vlen;
	if (book_event(&h->book, &h->sink, c->s, ev, "voucher", (int64_t)c->now, &code, &why) ==
	    BOOK_REFUSED)
		h->refused = code;
	h->verif = NULL;
}

void
book_host_attach(struct book_host *h, struct conv *c, struct ledger *l)
{
	memset(h, 0, sizeof(*h));
	h->l = l;
	h->sink.append = host_append;
	h->sink.ctx = h;
	h->sink.ledger = l;
	c->seller_hook = hook;
	c->hook_ctx = h;
}

void
book_host_detach(struct book_host *h)
{
	book_clear(&h->book);
}
