/* In-memory seller <-> buyer conversations for tests: pipes, a host that completes requests. */
#ifndef TESTS_CONV_H
#define TESTS_CONV_H

#include <stddef.h>
#include <stdint.h>

#include "sdpp/session.h"

#define MAXF 4096
/* What one conversation can record: items delivered and invoices seen. */
#define CONV_ITEMS_MAX 512
#define CONV_INVOICES_MAX 128

/* A byte pipe between the two machines. */
struct pipe {
	char *buf;
	size_t len, off;
};

struct conv;

/* Called for each seller event before the harness's own bookkeeping; for a
 * request it may write the `verification` (e.g. a ledger record id). */
typedef void (*conv_hook)(
    struct conv *c, const struct sdpp_event *ev, char *verification, size_t vlen);

/* Everything one conversation needs, plus what happened. */
struct conv {
	struct sdpp_identity *sid, *bid;
	struct sdpp_product products[3];
	struct sdpp_menu menu;
	struct sdpp_seller_config scfg;
	struct sdpp_buyer_config bcfg;
	struct sdpp_seller *s;
	struct sdpp_buyer *b;
	struct sdpp_out so, bo;
	struct pipe s2b, b2s;
	uint64_t now;
	/* Host behaviour. */
	int hold_payments;  /* buyer does not pay (SDPP_EV_PAY left pending) */
	int reject_payment; /* seller refuses payments */
	int hold_confirm;   /* the payment backend is slow: SDPP_EV_PAYMENT left pending */
	uint64_t held_confirm_req;
	uint64_t held_pay_req;
	int cut;                   /* no connection: what either side writes is lost */
	int hold_invoices;         /* the ledger is slow: SDPP_EV_INVOICE left pending */
	uint64_t held_invoice_req; /* the latest held */
	uint64_t held_invoices[8]; /* all held, in order */
	int nheld_invoices;
	/* The exit: an sdpp/2 statement carries a tree head, which the host
	 * sets before completing the exit; this one is signed by sid over
	 * size = records so far and a root from the record count. */
	int no_tree_head;                /* complete the exit without one (a host bug) */
	struct sdpp_tree_head tree_head; /* the one set */
	enum sdpp_err exit_complete_err; /* what completing the exit returned */
	uint64_t exit_req;               /* the exit's request */
	/* What happened. */
	int items, invoices, payments, receipts, orders, exits, statements;
	int paused, resumed, dropped, started;
	int signed_later; /* SDPP_EV_SIGN_ITEM: items this host signed */
	/* The host checks the buyer's signatures itself, as the gateway's
	 * workers do (sdpp_seller_input_checked()); how many passed. */
	int check_in_host, checked_in_host;
	uint64_t invoice_total[CONV_INVOICES_MAX], invoice_first[CONV_INVOICES_MAX],
	    invoice_last[CONV_INVOICES_MAX];
	uint64_t payment_total[16];
	uint64_t item_seq[CONV_ITEMS_MAX];
	char item_payload[CONV_ITEMS_MAX][32];
	int seller_rejoined, buyer_rejoined; /* SDPP_EV_REJOINED on each side */
	struct sdpp_resumed last_resumed;    /* the buyer's latest */
	int seller_closed, buyer_closed;
	enum sdpp_err seller_close_err, buyer_close_err;
	char seller_got_error[SDPP_NAME_MAX + 1], buyer_got_error[SDPP_NAME_MAX + 1];
	struct sdpp_statement statement;
	uint64_t record_no;
	uint8_t last_ack_digest[SDPP_DIGEST_BYTES];
	conv_hook seller_hook;
	void *hook_ctx;
};

void pipe_put(struct pipe *p, const char *buf, size_t len);
/* Next frame (without '\n') into frame (cap bytes); 0 if none. */
int pipe_next(struct pipe *p, char *frame, size_t cap, size_t *len);
/* One frame from the buyer into the seller (checked by the host first when
 * check_in_host), then seller_drain(). */
void conv_seller_input(struct conv *c, const char *frame, size_t len);
/* Moves a machine's output into its pipe and acts on its events like a host. */
void seller_drain(struct conv *c);
void buyer_drain(struct conv *c);
/* Delivers frames both ways until both pipes are empty. */
void pump(struct conv *c);
/* Fresh identities and a three-product menu (co2 at price, temp, prepaid occupancy). */
void conv_setup(struct conv *c, uint64_t k, uint64_t ack_every, uint64_t price);
/* Creates both machines and runs hello -> menu. */
void conv_start(struct conv *c);
void conv_order(struct conv *c, const char *product, uint64_t quantity);
/* One sample {"v":400+i} into the seller, then pump. */
void conv_sample(struct conv *c, int i);
void conv_teardown(struct conv *c);

#endif
