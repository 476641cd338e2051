/* Ledger benchmark: durable appends per second, one commit per record versus group commit. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ledger/ledger.h"

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

int
main(int argc, char **argv)
{
	struct sdpp_identity *id;
	const char *dir = argc > 1 ? argv[1] : ".";
	double single, group, big;

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
	printf("{\"ledger\":{\"single\":%.0f,\"group100\":%.0f,\"group1000\":%.0f}}\n", single,
	    group, big);
	sdpp_identity_free(id);
	return 0;
}
