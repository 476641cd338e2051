/* A miniature gateway host for tests: records a conversation's seller events in a ledger. */
#ifndef TESTS_GLUE_H
#define TESTS_GLUE_H

#include "ledger/ledger.h"
#include "tests/common/conv.h"

struct glue {
	struct ledger *l;
	struct ledger_ack acks[256]; /* ACKs since the last receipts record */
	size_t nacks;
	int commits;
	uint64_t appended;
};

/* Installs the hook on c: every order, invoice, payment, exit and close is
 * appended and committed before the request completes; ACKs are kept and
 * committed per invoice block as a receipts record. */
void glue_attach(struct glue *g, struct conv *c, struct ledger *l);
/* Writes the receipts record for ACKs still pending. */
void glue_flush_receipts(struct glue *g, struct conv *c);
void glue_detach(struct glue *g);

#endif
