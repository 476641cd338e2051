/* Ledger benchmark: durable appends per second (single versus group commit), and verify. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ledger/ledger.h"
#include "sdpp/msg.h"

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Appends n invoice-sized records, committing every `batch`; returns records/s. */
static double
run(const char *dir, const struct sdpp_identity *id, int n, int batch, int sth_every)
{
	struct ledger_config cfg;
	struct ledger *l;
	struct ledger_record r;
	struct sdpp_invoice inv;
	char path[4096], err[LEDGER_ERR_MAX];
	uint8_t buyer[32] = { 1 };
	uint64_t rid;
	double t0, t1;
	int i;

	snprintf(path, sizeof(path), "%s/bench-%d-%d.db", dir, batch, sth_every);
	unlink(path);
	memset(&cfg, 0, sizeof(cfg));
	cfg.path = path;
	cfg.id = id;
	cfg.sth_every = (uint64_t)sth_every;
	if (ledger_open(&l, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		exit(1);
	}
	memset(&inv, 0, sizeof(inv));
	snprintf(inv.currency, sizeof(inv.currency), "nanos");
	inv.unit_price = 3;
	t0 = now_s();
	for (i = 1; i <= n; i++) {
		inv.number = (uint64_t)i;
		inv.first_seq = inv.last_seq = (uint64_t)i;
		inv.amount = 3;
		inv.total_due = 3 * (uint64_t)i;
		if (ledger_record_invoice(&r, &inv, buyer, i) != 0 ||
		    ledger_append(l, &r, &rid, err, sizeof(err)) != 0) {
			fprintf(stderr, "append: %s\n", err);
			exit(1);
		}
		ledger_record_clear(&r);
		if (i % batch == 0 && ledger_commit(l, i, err, sizeof(err)) != 0) {
			fprintf(stderr, "commit: %s\n", err);
			exit(1);
		}
	}
	if (ledger_commit(l, n, err, sizeof(err)) != 0)
		exit(1);
	t1 = now_s();
	ledger_close(l);
	unlink(path);
	return n / (t1 - t0);
}

/* A buyer-signed message as the seller receives it (signed_bytes set). */
static void
signed_msg(struct sdpp_msg *out, struct sdpp_msg *m, const struct sdpp_identity *buyer)
{
	char *frame;
	size_t len;

	if (sdpp_msg_encode(m, buyer, &frame, &len) != SDPP_OK ||
	    sdpp_msg_parse(out, frame, len - 1, SDPP_ROLE_BUYER, NULL, 0) != SDPP_OK) {
		fprintf(stderr, "cannot sign a %s\n", sdpp_type_name(m->type));
		exit(1);
	}
	free(frame);
}

static void
add(struct ledger *l, struct ledger_record *r, int built, uint64_t *n, uint64_t batch)
{
	char err[LEDGER_ERR_MAX];
	uint64_t id;

	if (built != 0 || ledger_append(l, r, &id, err, sizeof(err)) != 0) {
		fprintf(stderr, "append: %s\n", built != 0 ? "cannot build" : err);
		exit(1);
	}
	ledger_record_clear(r);
	if (++*n % batch == 0 && ledger_commit(l, (int64_t)*n, err, sizeof(err)) != 0) {
		fprintf(stderr, "commit: %s\n", err);
		exit(1);
	}
}

/*
 * A ledger of about n records as the gateway writes them for long orders
 * (K = 1000, an ACK per block): per order an order, a session, then per
 * invoice block an invoice, a signed payment and a receipts record with
 * one signed ACK, then a signed exit and a close. Two records in three
 * carry a buyer signature. Group commits of 10,000, a tree head every
 * 100,000 records.
 */
static void
build_sales(const char *path, const struct sdpp_identity *seller, uint64_t n, uint64_t blocks)
{
	struct sdpp_identity *buyer;
	struct ledger_config cfg;
	struct ledger *l;
	struct ledger_record r;
	struct sdpp_msg m, sm;
	struct sdpp_invoice inv;
	struct sdpp_progress p;
	struct ledger_ack ack;
	char err[LEDGER_ERR_MAX];
	uint8_t bpub[32], oid[32];
	uint64_t done = 0, o, j, k = 1000, price = 3;

	unlink(path);
	memset(&cfg, 0, sizeof(cfg));
	cfg.path = path;
	cfg.id = seller;
	cfg.sth_every = 100000;
	if (sdpp_identity_generate(&buyer) != SDPP_OK ||
	    ledger_open(&l, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "open: %s\n", err);
		exit(1);
	}
	sdpp_identity_sign_public(buyer, bpub);
	for (o = 0; done < n; o++) {
		memset(&m, 0, sizeof(m));
		m.type = SDPP_T_ORDER;
		snprintf(m.u.order.product, sizeof(m.u.order.product), "co2");
		m.u.order.price = price;
		snprintf(m.u.order.currency, sizeof(m.u.order.currency), "nanos");
		memcpy(m.u.order.buyer, bpub, sizeof(bpub));
		memcpy(m.u.order.nonce, &o, sizeof(o));
		m.u.order.time = 1000;
		m.u.order.version = 1;
		signed_msg(&sm, &m, buyer);
		if (sdpp_order_id(&sm, oid) != SDPP_OK)
			exit(1);
		add(l, &r, ledger_record_order(&r, &sm, oid, "co2", 1), &done, 10000);
		sdpp_msg_free(&sm);
		add(l, &r, ledger_record_session(&r, oid, bpub, 1), &done, 10000);
		for (j = 1; j <= blocks; j++) {
			memset(&inv, 0, sizeof(inv));
			memcpy(inv.order_id, oid, sizeof(oid));
			inv.number = j;
			inv.first_seq = (j - 1) * k + 1;
			inv.last_seq = j * k;
			inv.unit_price = price;
			inv.amount = k * price;
			inv.total_due = j * k * price;
			inv.delivered = j * k;
			snprintf(inv.currency, sizeof(inv.currency), "nanos");
			add(l, &r, ledger_record_invoice(&r, &inv, bpub, 2), &done, 10000);
			memset(&m, 0, sizeof(m));
			m.type = SDPP_T_PAYMENT_ACK;
			memcpy(m.u.payment.order_id, oid, sizeof(oid));
			m.u.payment.invoice = j;
			m.u.payment.total = inv.total_due;
			signed_msg(&sm, &m, buyer);
			add(l, &r, ledger_record_payment(&r, &sm, bpub, "voucher", 3), &done,
			    10000);
			sdpp_msg_free(&sm);
			memset(&m, 0, sizeof(m));
			m.type = SDPP_T_ACK;
			memcpy(m.u.ack.order_id, oid, sizeof(oid));
			m.u.ack.seq = j * k;
			memcpy(m.u.ack.digest, &j, sizeof(j));
			signed_msg(&sm, &m, buyer);
			if (ledger_ack_from_msg(&ack, &sm) != 0)
				exit(1);
			add(l, &r, ledger_record_receipts(&r, oid, bpub, &ack, 1, 4), &done, 10000);
			ledger_ack_clear(&ack);
			sdpp_msg_free(&sm);
		}
		memset(&m, 0, sizeof(m));
		m.type = SDPP_T_EXIT;
		memcpy(m.u.exit.order_id, oid, sizeof(oid));
		m.u.exit.seq = blocks * k;
		m.u.exit.total = blocks * k * price;
		signed_msg(&sm, &m, buyer);
		add(l, &r, ledger_record_exit(&r, &sm, bpub, 5), &done, 10000);
		sdpp_msg_free(&sm);
		memset(&p, 0, sizeof(p));
		p.sent = p.acked = p.invoiced = blocks * k;
		p.total_due = p.total_paid = blocks * k * price;
		p.price = price;
		add(l, &r, ledger_record_close(&r, oid, bpub, "co2", &p, "settled", 6), &done,
		    10000);
	}
	if (ledger_commit(l, (int64_t)done, err, sizeof(err)) != 0)
		exit(1);
	ledger_close(l);
	sdpp_identity_free(buyer);
}

/* Builds a sales ledger of about n records and times `ledger verify' on it
 * (read-only, as an auditor opens it). Returns records/s; *secs the time. */
static double
run_verify(const char *dir, const struct sdpp_identity *id, uint64_t n, double *build_s,
    double *secs, uint64_t *records)
{
	struct ledger *l;
	struct ledger_verify_report rep;
	char path[4096], err[LEDGER_ERR_MAX];
	double t0, t1, t2;
	int rc;

	snprintf(path, sizeof(path), "%s/bench-verify.db", dir);
	t0 = now_s();
	build_sales(path, id, n, 1000);
	t1 = now_s();
	if (ledger_open_ro(&l, path, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		exit(1);
	}
	rc = ledger_verify(l, NULL, &rep);
	t2 = now_s();
	ledger_close(l);
	if (rc != 0) {
		fprintf(stderr, "verify: %s\n", rep.problem);
		exit(1);
	}
	if (getenv("BENCH_KEEP") == NULL)
		unlink(path);
	*build_s = t1 - t0;
	*secs = t2 - t1;
	*records = rep.records;
	return (double)rep.records / (t2 - t1);
}

int
main(int argc, char **argv)
{
	struct sdpp_identity *id;
	const char *dir = argc > 1 ? argv[1] : ".";
	double single, group, big, vrate, vsecs, vbuild;
	uint64_t vn = argc > 2 ? strtoull(argv[2], NULL, 10) : 1000000, vrec = 0;

	if (sdpp_identity_generate(&id) != SDPP_OK)
		return 1;
	/* Median-free single runs: each is thousands of fsyncs or records. */
	single = run(dir, id, 500, 1, 0);
	group = run(dir, id, 20000, 100, 0);
	big = run(dir, id, 50000, 1000, 0);
	printf(
	    "ledger appends/s, one commit (fsync + signed tree head) per record: %.0f\n", single);
	printf("ledger appends/s, group commit of 100:                              %.0f (%.1fx)\n",
	    group, group / single);
	printf("ledger appends/s, group commit of 1000:                             %.0f (%.1fx)\n",
	    big, big / single);
	vrate = run_verify(dir, id, vn, &vbuild, &vsecs, &vrec);
	printf("ledger verify, %" PRIu64 " records (2 in 3 buyer-signed), read-only:        %.1f s "
	       "= %.0f records/s (built in %.1f s)\n",
	    vrec, vsecs, vrate, vbuild);
	printf("{\"ledger\":{\"single\":%.0f,\"group100\":%.0f,\"group1000\":%.0f,"
	       "\"verify_records\":%" PRIu64 ",\"verify_s\":%.1f,\"verify_per_s\":%.0f}}\n",
	    single, group, big, vrec, vsecs, vrate);
	sdpp_identity_free(id);
	return 0;
}
