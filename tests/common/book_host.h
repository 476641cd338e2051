/* A test host for the bookkeeping (gateway/book.c): events booked and committed at once. */
#ifndef TESTS_BOOK_HOST_H
#define TESTS_BOOK_HOST_H

#include "gateway/book.h"
#include "ledger/ledger.h"
#include "tests/common/conv.h"

struct book_host {
	struct ledger *l;
	struct book book;
	struct book_sink sink;
	char *verif; /* the request's verification while the hook runs */
	size_t vlen;
	int commits;
	int appended[LEDGER_KIND__COUNT]; /* records appended, by kind */
	enum sdpp_err refused;            /* the last refusal's code, SDPP_OK if none */
};

/* Installs the hook on c: every seller event goes through book_event()
 * (payments confirmed at once as vouchers), each record is committed
 * before the request it completes, as the daemon's group commit does. */
void book_host_attach(struct book_host *h, struct conv *c, struct ledger *l);
void book_host_detach(struct book_host *h);

#endif
