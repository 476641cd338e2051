/* `sdpp ledger`: verify, show, prove, check-proof and export a gateway's records. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/common.h"
#include "cli/sdpp.h"
#include "ledger/ledger.h"
#include "sdpp/crypto.h"
#include "sdpp/enc.h"
#include "tangle/tangle.h"

/* Receipts one verify checks (--witness FILE, repeated). */
#define WITNESS_MAX 256
/* Archives one verify checks (--archive FILE, repeated). */
#define ARCHIVES_MAX 256

static void
ledger_usage(FILE *f)
{
	fprintf(f, "usage: sdpp ledger verify DB [--key KEY] [--remote [--network NET]\n"
	           "                                 [--iota-url URL]] [--witness FILE]...\n"
	           "                                 [--archive FILE]...\n"
	           "       sdpp ledger show DB [--order ID] [--buyer KEY] [--json]\n"
	           "       sdpp ledger prove DB RECORD            (RECORD: 42 or ledger:42)\n"
	           "       sdpp ledger prove DB --consistency M N (two signed tree head sizes)\n"
	           "       sdpp ledger check-proof FILE --key KEY (FILE - reads stdin)\n"
	           "       sdpp ledger export DB                  (JSON lines, one per record)\n"
	           "       sdpp ledger archive DB --older-than AGE -o FILE   (AGE: 90d, 12h, 30m)\n"
	           "\n"
	           "KEY is the gateway's public key: 64 hex digits or a public key file.\n"
	           "verify and check-proof exit 0 when everything checks, 1 when not.\n"
	           "verify --remote also checks every anchor the gateway recorded on IOTA: the\n"
	           "kept transaction hashes to its digest and holds the record's leaf hash (or\n"
	           "the tree head's root), and the node (the public one of the network the\n"
	           "gateway noted in the ledger, or URL) reports that transaction as executed\n"
	           "successfully. --network is for ledgers that do not note it.\n"
	           "verify --witness FILE checks a buyer's receipt (sdpp buy --receipt): the\n"
	           "log still has the records, and the root, of the tree head the seller\n"
	           "signed for it (a truncated or forked log fails, naming FILE).\n"
	           "archive moves the bodies of the orders closed more than AGE ago (and under\n"
	           "the newest signed tree head) into FILE, a new ledger file that verifies on\n"
	           "its own; DB keeps their leaf hashes. It may run beside the gateway.\n"
	           "verify --archive FILE checks that FILE holds the bodies DB archived.\n");
}

static int
open_ro(const char *path, struct ledger **l)
{
	char err[LEDGER_ERR_MAX];

	if (ledger_open_ro(l, path, err, sizeof(err)) != 0) {
		fprintf(stderr, "sdpp ledger: %s\n", err);
		return -1;
	}
	return 0;
}

/* verify --remote: one anchor at a time against the node. */
struct remote_check {
	struct event_base *base;
	struct tangle *t;
	uint64_t confirmed, pending;
	char problem[TANGLE_ERR_MAX + 128];
};

struct lookup {
	int done;
	struct tangle_reply r;
	struct iota_tx_view v;
	int parsed;
};

static void
on_lookup(void *arg, const struct tangle_reply *r)
{
	struct lookup *k = arg;
	char err[128];

	k->r = *r;
	k->r.result = NULL;
	if (r->status == TANGLE_OK)
		k->parsed = iota_rpc_tx(r->result, &k->v, err, sizeof(err)) == 0;
	if (r->status == TANGLE_OK && !k->parsed)
		snprintf(k->r.error, sizeof(k->r.error), "%s", err);
	k->done = 1;
}

/* 1 if needle occurs in hay. */
static int
contains(const uint8_t *hay, size_t n, const uint8_t *needle, size_t m)
{
	size_t i;

	for (i = 0; i + m <= n; i++)
		if (memcmp(hay + i, needle, m) == 0)
			return 1;
	return 0;
}

static int
check_anchor(void *ctx, const struct ledger_anchor *a)
{
	struct remote_check *rc = ctx;
	uint8_t digest[IOTA_DIGEST_BYTES], tx_digest[IOTA_DIGEST_BYTES], *tx = NULL;
	uint8_t arg[2 + 32];
	size_t txlen = 0;
	struct lookup k;
	const char *d;
	int bad = 1;

	if (!a->done) {
		rc->pending++;
		return 0;
	}
	d = strncmp(a->ref, "iota:", 5) == 0 ? a->ref + 5 : NULL;
	if (d == NULL || iota_digest_parse(digest, d) != 0) {
		snprintf(rc->problem, sizeof(rc->problem),
		    "anchor %" PRIu64 ": ref `%.80s' is not "
		    "iota:DIGEST",
		    a->item, a->ref);
		return 1;
	}
	if (!a->have_expect) {
		snprintf(rc->problem, sizeof(rc->problem),
		    "anchor %" PRIu64 ": names a %s the "
		    "log does not hold",
		    a->item, a->what);
		return 1;
	}
	tx = malloc(strlen(a->proof) + 1);
	if (tx == NULL ||
	    sdpp_b64_decode(tx, strlen(a->proof), &txlen, a->proof, strlen(a->proof)) != SDPP_OK ||
	    iota_tx_digest(tx_digest, tx, txlen) != IOTA_OK ||
	    memcmp(tx_digest, digest, sizeof(digest)) != 0) {
		snprintf(rc->problem, sizeof(rc->problem),
		    "anchor %" PRIu64 ": the kept "
		    "transaction does not hash to %s",
		    a->item, d);
		goto out;
	}
	/* The notarized data is a pure vector<u8> of 32 bytes: BCS length 33
	 * of the argument, then 32 of the vector, then the hash. */
	arg[0] = 33;
	arg[1] = 32;
	memcpy(arg + 2, a->expect, 32);
	if (!contains(tx, txlen, arg, sizeof(arg))) {
		snprintf(rc->problem, sizeof(rc->problem),
		    "anchor %" PRIu64 ": transaction %s "
		    "does not hold the %s's hash",
		    a->item, d, a->what);
		goto out;
	}
	memset(&k, 0, sizeof(k));
	if (tangle_get_tx(rc->t, d, on_lookup, &k) != 0) {
		snprintf(rc->problem, sizeof(rc->problem), "cannot ask the node");
		goto out;
	}
	tangle_wait(rc->base, &k.done);
	if (k.r.status != TANGLE_OK || !k.parsed) {
		snprintf(rc->problem, sizeof(rc->problem), "anchor %" PRIu64 ": transaction %s: %s",
		    a->item, d, k.r.error);
		goto out;
	}
	if (memcmp(k.v.digest, digest, sizeof(digest)) != 0) {
		snprintf(rc->problem, sizeof(rc->problem),
		    "anchor %" PRIu64 ": the node answered "
		    "about another transaction than %s",
		    a->item, d);
		goto out;
	}
	if (!k.v.effects.success) {
		snprintf(rc->problem, sizeof(rc->problem),
		    "anchor %" PRIu64 ": transaction %s "
		    "failed on chain: %s",
		    a->item, d, k.v.effects.error);
		goto out;
	}
	rc->confirmed++;
	bad = 0;
out:
	free(tx);
	return bad;
}

static int
verify_remote(struct ledger *l, const char *db, const char *network, const char *url)
{
	struct remote_check rc;
	struct tangle_config tc;
	enum iota_network net, given;
	char err[TANGLE_ERR_MAX], where[LEDGER_REF_MAX];
	int st = 1;

	memset(&rc, 0, sizeof(rc));
	memset(&tc, 0, sizeof(tc));
	/* The gateway notes in the log where its anchors go: no guessing. */
	if (ledger_remote_where(l, where, sizeof(where)) == 0) {
		if (iota_method_parse(&net, where) != 0) {
			fprintf(stderr,
			    "sdpp ledger verify: %s: anchors went to `%s', which this "
			    "tool cannot check\n",
			    db, where);
			return 1;
		}
		if (network != NULL && (iota_network_parse(&given, network) != 0 || given != net)) {
			fprintf(stderr,
			    "sdpp ledger verify: %s: the anchors are on %s, not %s "
			    "(--network)\n",
			    db, iota_network_name(net), network);
			return 1;
		}
	} else if (network == NULL) {
		fprintf(stderr,
		    "sdpp ledger verify: %s does not say where its anchors went (a "
		    "gateway before 2026-12): give --network mainnet|testnet|devnet\n",
		    db);
		return 1;
	} else if (iota_network_parse(&net, network) != 0) {
		fprintf(stderr,
		    "sdpp ledger verify: --network is not mainnet, testnet or devnet: "
		    "`%s'\n",
		    network);
		return 1;
	}
	tc.network = net;
	tc.url = url;
	tc.retries = 2;
	rc.base = event_base_new();
	if (rc.base == NULL || tangle_new(&rc.t, rc.base, &tc, err, sizeof(err)) != 0) {
		fprintf(
		    stderr, "sdpp ledger verify: %s\n", rc.base == NULL ? "no event base" : err);
		goto out;
	}
	switch (ledger_anchors_each(l, check_anchor, &rc)) {
	case 0:
		printf("ok: %" PRIu64 " anchors confirmed on %s, %" PRIu64 " not yet anchored\n",
		    rc.confirmed, tangle_url(rc.t), rc.pending);
		st = 0;
		break;
	case 1:
		fprintf(stderr, "%s: %s\n", db, rc.problem);
		break;
	default:
		fprintf(stderr, "sdpp ledger verify: %s: cannot read the outbox\n", db);
		break;
	}
out:
	tangle_free(rc.t);
	if (rc.base != NULL)
		event_base_free(rc.base);
	return st;
}

/* The progress line on a terminal: at most four updates a second. */
struct progress {
	struct timespec last;
	int shown;
};

static void
verify_progress(void *ctx, uint64_t done, uint64_t total)
{
	struct progress *p = ctx;
	struct timespec now;
	double dt;

	clock_gettime(CLOCK_MONOTONIC, &now);
	dt = (double)(now.tv_sec - p->last.tv_sec) + (double)(now.tv_nsec - p->last.tv_nsec) / 1e9;
	if (p->shown && dt < 0.25)
		return;
	p->last = now;
	p->shown = 1;
	fprintf(stderr, "\rverifying: %" PRIu64 " of %" PRIu64 " records (%.0f%%)", done, total,
	    total != 0 ? 100.0 * (double)done / (double)total : 100.0);
}

/* verify --witness: one receipt file against the log; 0 ok, 1 not. */
static int
verify_witness(struct ledger *l, const char *file)
{
	char buf[SDPP_RECEIPT_MAX + 2], err[LEDGER_ERR_MAX], summary[LEDGER_ERR_MAX];
	struct sdpp_receipt w;
	FILE *f = fopen(file, "r");
	size_t n;
	int rc;

	if (f == NULL) {
		fprintf(stderr, "sdpp ledger verify: witness %s: %s\n", file, strerror(errno));
		return 1;
	}
	n = fread(buf, 1, sizeof(buf), f);
	rc = ferror(f);
	fclose(f);
	if (rc != 0 || n == sizeof(buf)) {
		fprintf(stderr, "sdpp ledger verify: witness %s: %s\n", file,
		    rc != 0 ? "cannot read it" : "larger than a receipt can be");
		return 1;
	}
	if (sdpp_receipt_parse(&w, buf, n, err, sizeof(err)) != SDPP_OK) {
		fprintf(stderr, "sdpp ledger verify: witness %s: not a usable receipt: %s\n", file,
		    err);
		return 1;
	}
	rc = ledger_witness_check(l, &w, summary, sizeof(summary), err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "sdpp ledger verify: witness %s: cannot read the log\n", file);
		return 1;
	}
	if (rc > 0) {
		fprintf(stderr, "witness %s: %s\n", file, err);
		return 1;
	}
	printf("witness %s: %s\n", file, summary);
	return 0;
}

/* The archived records of db (their bodies emptied) against the archive
 * files named: each must be this log's, and together cover them all. */
static int
verify_archives(struct ledger *l, const char *db, uint64_t archived, const char **files, int n)
{
	struct ledger_archive_report ar;
	char err[LEDGER_ERR_MAX];
	uint64_t covered = 0;
	int i;

	if (n == 0) {
		printf("note: %" PRIu64 " records are archived (their leaf hashes verified); "
		       "check their bodies with --archive FILE\n",
		    archived);
		return 0;
	}
	for (i = 0; i < n; i++) {
		if (ledger_archive_check(l, files[i], &ar, err, sizeof(err)) != 0) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		printf("archive %s: %" PRIu64 " archived records, each this log's\n", files[i],
		    ar.records);
		covered += ar.records;
	}
	if (covered < archived) {
		fprintf(stderr,
		    "%s: %" PRIu64 " archived records are in none of the archives given\n", db,
		    archived - covered);
		return 1;
	}
	return 0;
}

static int
ledger_verify_main(int argc, char **argv)
{
	struct progress prog;
	struct ledger_verify_report rep;
	struct ledger *l = NULL;
	uint8_t key[SDPP_SIGN_PUBLIC_BYTES];
	const char *db = NULL, *keyarg = NULL, *network = NULL, *url = NULL;
	const char *witness[WITNESS_MAX], *archive[ARCHIVES_MAX];
	int i, rc, remote = 0, nwitness = 0, narchive = 0;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--key") == 0 && i + 1 < argc)
			keyarg = argv[++i];
		else if (strcmp(argv[i], "--archive") == 0 && i + 1 < argc &&
		         narchive < ARCHIVES_MAX)
			archive[narchive++] = argv[++i];
		else if (strcmp(argv[i], "--witness") == 0 && i + 1 < argc &&
		         nwitness < WITNESS_MAX)
			witness[nwitness++] = argv[++i];
		else if (strcmp(argv[i], "--remote") == 0)
			remote = 1;
		else if (strcmp(argv[i], "--network") == 0 && i + 1 < argc)
			network = argv[++i];
		else if (strcmp(argv[i], "--iota-url") == 0 && i + 1 < argc)
			url = argv[++i];
		else if (db == NULL && argv[i][0] != '-')
			db = argv[i];
		else
			goto usage;
	}
	if (db == NULL)
		goto usage;
	if (keyarg != NULL && cli_parse_key(keyarg, key) != 0)
		return 1;
	if (open_ro(db, &l) != 0)
		return 1;
	memset(&prog, 0, sizeof(prog));
	clock_gettime(CLOCK_MONOTONIC, &prog.last);
	prog.shown = 1; /* nothing for the first quarter second */
	rc = ledger_verify_progress(l, keyarg != NULL ? key : NULL, &rep,
	    isatty(STDERR_FILENO) ? verify_progress : NULL, &prog);
	if (isatty(STDERR_FILENO))
		fprintf(stderr, "\r\033[K");
	if (rc < 0) {
		fprintf(stderr, "sdpp ledger verify: %s: cannot read the log\n", db);
		rc = 1;
	} else if (rc > 0) {
		fprintf(stderr, "%s: %s\n", db, rep.problem);
	} else {
		printf("ok: %" PRIu64 " records, %" PRIu64 " signed tree heads, %" PRIu64
		       " buyer signatures (%" PRIu64 " ACKs) verified\n",
		    rep.records, rep.tree_heads, rep.signatures, rep.acks);
		if (rep.archived > 0)
			rc = verify_archives(l, db, rep.archived, archive, narchive);
		if (remote && verify_remote(l, db, network, url) != 0)
			rc = 1;
	}
	/* Witnesses even when verify failed: a fork is best named by the
	 * tree head a buyer holds. */
	for (i = 0; i < nwitness; i++)
		if (verify_witness(l, witness[i]) != 0)
			rc = 1;
	ledger_close(l);
	return rc;
usage:
	ledger_usage(stderr);
	return CLI_EXIT_USAGE;
}

static void
fmt_time(char *buf, size_t n, int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(buf, n, "%Y-%m-%d %H:%M:%SZ", &tm) == 0)
		snprintf(buf, n, "%" PRId64 " ms", ms);
}

static int
show_text(void *ctx, const struct ledger_account *a)
{
	char t[64];

	(void)ctx;
	fmt_time(t, sizeof(t), a->ordered_at);
	printf("order %s\n", a->order_id);
	printf("  buyer     %s\n", a->buyer);
	if (a->archived > 0 && a->order_record == 0) {
		printf("  state     archived (%" PRIu64 " records: their bodies are in an archive "
		       "file, sdpp ledger show ARCHIVE)\n\n",
		    a->archived);
		return 0;
	}
	if (a->quantity != 0)
		printf("  ordered   %" PRIu64 " items of %s", a->quantity, a->product);
	else
		printf("  ordered   %s, open-ended", a->product);
	printf(" at %" PRIu64 " %s each, %s (record %" PRIu64 ")\n", a->price, a->currency, t,
	    a->order_record);
	printf(
	    "  received  %" PRIu64 " items acknowledged by buyer-signed receipts", a->acknowledged);
	if (a->delivered > a->acknowledged)
		printf(" (%" PRIu64 " sent)", a->delivered);
	if (a->invoices == 0)
		printf("\n  invoiced  nothing\n");
	else
		printf("\n  invoiced  %" PRIu64 " %s in %" PRIu64 " invoice%s (items 1..%" PRIu64
		       ")\n",
		    a->invoiced, a->currency, a->invoices, a->invoices == 1 ? "" : "s",
		    a->invoiced_items);
	if (a->chain) {
		printf("  paid      %" PRIu64 " %s (transfers confirmed on chain)\n", a->paid,
		    a->currency);
		printf("  owed      %" PRIu64 " %s", a->owed, a->currency);
		if (a->owed > 0 && a->promised >= a->paid + a->owed)
			printf(" (promised by the buyer's signed exit)");
		printf("\n");
	} else {
		printf(
		    "  paid      %" PRIu64 " %s (buyer-signed vouchers)\n", a->paid, a->currency);
		printf("  owed      %" PRIu64 " %s\n", a->owed, a->currency);
	}
	if (a->held > 0)
		printf("  held      %" PRIu64
		       " record%s (the latest invoice, payment or receipts), "
		       "counted above, in the log at the next checkpoint\n",
		    a->held, a->held == 1 ? "" : "s");
	printf("  state     %s%s%s\n\n",
	    a->closed   ? "closed: "
	    : a->exited ? "exited"
	                : "open",
	    a->closed ? a->reason : "", a->closed && a->exited ? " (buyer exited)" : "");
	return 0;
}

static int
show_json(void *ctx, const struct ledger_account *a)
{
	(void)ctx;
	printf("{\"order_id\":\"%s\",\"buyer\":\"%s\",\"product\":\"%s\",\"currency\":\"%s\","
	       "\"quantity\":%" PRIu64 ",\"price\":\"%" PRIu64 "\",\"ordered_at\":%" PRId64 ","
	       "\"acknowledged\":%" PRIu64 ",\"delivered\":%" PRIu64 ",\"invoices\":%" PRIu64 ","
	       "\"invoiced\":\"%" PRIu64 "\",\"paid\":\"%" PRIu64 "\",\"owed\":\"%" PRIu64 "\","
	       "\"exited\":%s,\"closed\":%s,\"reason\":\"%s\",\"paid_by\":\"%s\","
	       "\"archived\":%" PRIu64 ",\"held\":%" PRIu64 "}\n",
	    a->order_id, a->buyer, a->product, a->currency, a->quantity, a->price, a->ordered_at,
	    a->acknowledged, a->delivered, a->invoices, a->invoiced, a->paid, a->owed,
	    a->exited ? "true" : "false", a->closed ? "true" : "false", a->reason,
	    a->chain ? "chain" : "voucher", a->archived, a->held);
	return 0;
}

static int
ledger_show_main(int argc, char **argv)
{
	struct ledger *l = NULL;
	const char *db = NULL, *order = NULL, *buyer = NULL;
	char err[LEDGER_ERR_MAX], bhex[SDPP_HEX_LEN(SDPP_SIGN_PUBLIC_BYTES)];
	uint8_t key[SDPP_SIGN_PUBLIC_BYTES];
	int i, json = 0, rc;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--order") == 0 && i + 1 < argc)
			order = argv[++i];
		else if (strcmp(argv[i], "--buyer") == 0 && i + 1 < argc)
			buyer = argv[++i];
		else if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (db == NULL && argv[i][0] != '-')
			db = argv[i];
		else
			goto usage;
	}
	if (db == NULL)
		goto usage;
	if (buyer != NULL) {
		if (cli_parse_key(buyer, key) != 0)
			return 1;
		sdpp_hex_encode(bhex, key, sizeof(key));
		buyer = bhex;
	}
	if (open_ro(db, &l) != 0)
		return 1;
	rc = ledger_accounts(l, order, buyer, json ? show_json : show_text, NULL, err, sizeof(err));
	if (rc != 0)
		fprintf(stderr, "sdpp ledger show: %s\n", err);
	ledger_close(l);
	return rc == 0 ? 0 : 1;
usage:
	ledger_usage(stderr);
	return CLI_EXIT_USAGE;
}

static int
parse_u64(const char *s, uint64_t *v)
{
	/* Record ids as printed in `verification` fields are accepted too. */
	if (strncmp(s, LEDGER_ID_PREFIX, strlen(LEDGER_ID_PREFIX)) == 0)
		s += strlen(LEDGER_ID_PREFIX);
	if (cli_parse_u64(s, INT64_MAX, v) != 0 || *v == 0)
		return -1;
	return 0;
}

static int
ledger_prove_main(int argc, char **argv)
{
	struct ledger *l = NULL;
	char err[LEDGER_ERR_MAX], *json = NULL;
	uint64_t id, m, n;
	int rc;

	if (argc == 5 && strcmp(argv[2], "--consistency") == 0) {
		if (parse_u64(argv[3], &m) != 0 || parse_u64(argv[4], &n) != 0) {
			fprintf(stderr, "sdpp ledger prove: sizes must be positive integers\n");
			return CLI_EXIT_USAGE;
		}
		if (open_ro(argv[1], &l) != 0)
			return 1;
		rc = ledger_prove_consistency(l, m, n, &json, err, sizeof(err));
	} else if (argc == 3) {
		if (parse_u64(argv[2], &id) != 0) {
			fprintf(stderr,
			    "sdpp ledger prove: bad record id `%s' (use 42 or ledger:42)\n",
			    argv[2]);
			return CLI_EXIT_USAGE;
		}
		if (open_ro(argv[1], &l) != 0)
			return 1;
		rc = ledger_prove(l, id, &json, err, sizeof(err));
	} else {
		ledger_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (rc != 0)
		fprintf(stderr, "sdpp ledger prove: %s: %s\n", argv[1], err);
	else
		printf("%s\n", json);
	free(json);
	ledger_close(l);
	return rc == 0 ? 0 : 1;
}

static int
ledger_check_main(int argc, char **argv)
{
	uint8_t key[SDPP_SIGN_PUBLIC_BYTES];
	const char *file = NULL, *keyarg = NULL;
	char err[LEDGER_ERR_MAX], summary[LEDGER_ERR_MAX], *text;
	size_t len;
	int i, rc;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--key") == 0 && i + 1 < argc)
			keyarg = argv[++i];
		else if (file == NULL)
			file = argv[i];
		else
			goto usage;
	}
	if (file == NULL || keyarg == NULL)
		goto usage;
	if (cli_parse_key(keyarg, key) != 0)
		return 1;
	text = cli_read_text(file, &len);
	if (text == NULL) {
		fprintf(stderr, "sdpp ledger check-proof: cannot read %s\n", file);
		return 1;
	}
	rc = ledger_proof_check(text, len, key, summary, sizeof(summary), err, sizeof(err));
	free(text);
	if (rc != 0) {
		fprintf(stderr, "%s: %s\n", file, err);
		return 1;
	}
	printf("%s\n", summary);
	return 0;
usage:
	ledger_usage(stderr);
	return CLI_EXIT_USAGE;
}

static int
export_line(void *ctx, const char *line, size_t len)
{
	(void)ctx;
	return fwrite(line, 1, len, stdout) == len ? 0 : -1;
}

static int
ledger_export_main(int argc, char **argv)
{
	struct ledger *l = NULL;
	char err[LEDGER_ERR_MAX];
	int rc;

	if (argc != 2) {
		ledger_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (open_ro(argv[1], &l) != 0)
		return 1;
	rc = ledger_export(l, export_line, NULL, err, sizeof(err));
	if (rc != 0)
		fprintf(stderr, "sdpp ledger export: %s\n", err);
	ledger_close(l);
	return rc == 0 ? 0 : 1;
}

/* AGE as "90d", "12h", "30m" or "0" into ms; -1 if malformed. */
static int64_t
parse_age(const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || v > 100000000ULL)
		return -1;
	if (strcmp(end, "d") == 0)
		return (int64_t)v * 86400000;
	if (strcmp(end, "h") == 0)
		return (int64_t)v * 3600000;
	if (strcmp(end, "m") == 0)
		return (int64_t)v * 60000;
	return strcmp(end, "") == 0 && v == 0 ? 0 : -1;
}

static int
ledger_archive_main(int argc, char **argv)
{
	struct ledger_archive_report rep;
	struct timespec now;
	char err[LEDGER_ERR_MAX];
	const char *db = NULL, *out = NULL;
	int64_t age = -1;
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--older-than") == 0 && i + 1 < argc) {
			age = parse_age(argv[++i]);
			if (age < 0) {
				fprintf(stderr,
				    "sdpp ledger archive: --older-than %s: not an age "
				    "(90d, 12h, 30m)\n",
				    argv[i]);
				return CLI_EXIT_USAGE;
			}
		} else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
			out = argv[++i];
		} else if (db == NULL && argv[i][0] != '-') {
			db = argv[i];
		} else {
			goto usage;
		}
	}
	if (db == NULL || out == NULL || age < 0)
		goto usage;
	clock_gettime(CLOCK_REALTIME, &now);
	if (ledger_archive(db, (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000 - age, out, &rep,
	        err, sizeof(err)) != 0) {
		fprintf(stderr, "sdpp ledger archive: %s\n", err);
		return 1;
	}
	if (rep.orders == 0)
		printf("nothing to archive: no order closed that long ago under the newest "
		       "signed tree head (size %" PRIu64 ")\n",
		    rep.size);
	else
		printf("archived %zu orders (%" PRIu64 " records) into %s at tree size %" PRIu64
		       "\n",
		    rep.orders, rep.records, out, rep.size);
	return 0;
usage:
	ledger_usage(stderr);
	return CLI_EXIT_USAGE;
}

int
cmd_ledger(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} sub[] = {
		{ "verify", ledger_verify_main },
		{ "show", ledger_show_main },
		{ "prove", ledger_prove_main },
		{ "check-proof", ledger_check_main },
		{ "export", ledger_export_main },
		{ "archive", ledger_archive_main },
	};
	size_t i;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		ledger_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? CLI_EXIT_USAGE : 0;
	}
	for (i = 0; i < sizeof(sub) / sizeof(sub[0]); i++)
		if (strcmp(argv[1], sub[i].name) == 0)
			return sub[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "sdpp ledger: unknown command `%s'\n", argv[1]);
	ledger_usage(stderr);
	return CLI_EXIT_USAGE;
}
