/* `sdpp iota`: IOTA address, balance, faucet; payments and notarizations, online or offline. */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/common.h"
#include "cli/sdpp.h"
#include "iota/bcs.h"
#include "iota/iota.h"
#include "sdpp/crypto.h"
#include "sdpp/enc.h"
#include "tangle/tangle.h"
#include "util/keyfile.h"
#include "util/text.h"

/* Room for "PATH: reason" from keyfile_read(). */
#define ERR_CAP 4352

static void
iota_usage(FILE *f)
{
	fprintf(f,
	    "usage: sdpp iota address KEY\n"
	    "       sdpp iota pay --offline --key KEY --network NET --to ADDRESS --amount NANOS\n"
	    "                 --gas-coin ID:VERSION:DIGEST [--gas-coin ...]\n"
	    "                 --gas-price N --gas-budget N\n"
	    "       sdpp iota notarize --offline --key KEY --network NET --data-hex HEX\n"
	    "                 [--description TEXT] --gas-coin ID:VERSION:DIGEST [...]\n"
	    "                 --gas-price N --gas-budget N\n"
	    "       sdpp iota pay --key KEY --network NET --to ADDRESS --amount NANOS\n"
	    "                 [--url URL] [--max-gas NANOS]\n"
	    "       sdpp iota notarize --key KEY --network NET --data-hex HEX\n"
	    "                 [--description TEXT] [--url URL] [--max-gas NANOS]\n"
	    "       sdpp iota balance (--key KEY | --address ADDRESS) --network NET [--url URL]\n"
	    "       sdpp iota faucet (--key KEY | --address ADDRESS) --network NET\n"
	    "                 [--faucet-url URL]\n"
	    "\n"
	    "KEY is an sdpp key file; its Ed25519 key is the IOTA account. NET is mainnet,\n"
	    "testnet or devnet. address prints the account's address (0x + 64 hex).\n"
	    "pay sends NANOS (10^9 per IOTA) to ADDRESS out of the gas coins; notarize\n"
	    "records the bytes HEX as a locked notarization owned by the account, with an\n"
	    "optional immutable description. Gas coins are the account's own, as\n"
	    "iotax_getCoins lists them; gas price and budget are in nanos.\n"
	    "\n"
	    "--offline touches no network: it prints the signed transaction as one JSON\n"
	    "line {\"tx_bytes\":BASE64,\"digest\":BASE58,\"signature\":BASE64} for\n"
	    "iota_executeTransactionBlock (air-gapped signing).\n"
	    "\n"
	    "Without --offline, pay and notarize pick the account's coins, dry-run the\n"
	    "transaction for its gas budget (refused above --max-gas, default 50000000\n"
	    "nanos), sign, execute and print {\"digest\",\"status\",\"gas\"}. --url names\n"
	    "the JSON-RPC endpoint (default: the network's public one). balance prints\n"
	    "the account's IOTA; faucet asks the testnet or devnet faucet for coins.\n");
}

/* Options of pay and notarize; pointers into argv. */
struct iota_opts {
	int offline;
	const char *key;
	const char *network;
	const char *to;
	const char *amount;
	const char *data_hex;
	const char *description;
	const char *gas_price;
	const char *gas_budget;
	const char *url;
	const char *faucet_url;
	const char *max_gas;
	const char *address;
	const char *coins[IOTA_GAS_COINS_MAX];
	size_t n_coins;
};

#define FOR_PAY 1
#define FOR_NOTARIZE 2
#define FOR_BALANCE 4
#define FOR_FAUCET 8
#define FOR_TX (FOR_PAY | FOR_NOTARIZE)
#define FOR_ALL (FOR_TX | FOR_BALANCE | FOR_FAUCET)

/* Options that take one value, the subcommands that accept them, and
 * whether they must be given: always (REQ), only offline (OFF), only
 * online (ON, refused with --offline), or never (0). */
#define REQ 1
#define OFF 2
#define ON 4
static const struct {
	const char *name;
	size_t off;
	int used_by;
	int required;
} value_opts[] = {
	{ "--key", offsetof(struct iota_opts, key), FOR_ALL, 0 },
	{ "--network", offsetof(struct iota_opts, network), FOR_ALL, REQ },
	{ "--gas-price", offsetof(struct iota_opts, gas_price), FOR_TX, OFF },
	{ "--gas-budget", offsetof(struct iota_opts, gas_budget), FOR_TX, OFF },
	{ "--to", offsetof(struct iota_opts, to), FOR_PAY, REQ },
	{ "--amount", offsetof(struct iota_opts, amount), FOR_PAY, REQ },
	{ "--data-hex", offsetof(struct iota_opts, data_hex), FOR_NOTARIZE, REQ },
	{ "--description", offsetof(struct iota_opts, description), FOR_NOTARIZE, 0 },
	{ "--url", offsetof(struct iota_opts, url), FOR_TX | FOR_BALANCE, ON },
	{ "--max-gas", offsetof(struct iota_opts, max_gas), FOR_TX, ON },
	{ "--faucet-url", offsetof(struct iota_opts, faucet_url), FOR_FAUCET, 0 },
	{ "--address", offsetof(struct iota_opts, address), FOR_BALANCE | FOR_FAUCET, 0 },
};

#define N_VALUE_OPTS (sizeof(value_opts) / sizeof(value_opts[0]))

/* Fills o from argv[1..]. Returns 0, 1 for --help, or -1 after printing
 * why on anything unexpected. */
static int
parse_opts(const char *cmd, int which, int argc, char **argv, struct iota_opts *o)
{
	const char **slot;
	size_t k;
	int i;

	memset(o, 0, sizeof(*o));
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
			return 1;
		if (strcmp(a, "--offline") == 0 && (which & FOR_TX)) {
			o->offline = 1;
			continue;
		}
		if (strcmp(a, "--gas-coin") == 0 && (which & FOR_TX)) {
			if (i + 1 >= argc) {
				fprintf(stderr, "sdpp iota %s: --gas-coin needs a value\n", cmd);
				return -1;
			}
			if (o->n_coins == IOTA_GAS_COINS_MAX) {
				fprintf(stderr,
				    "sdpp iota %s: more than %d --gas-coin options "
				    "(the network's limit)\n",
				    cmd, IOTA_GAS_COINS_MAX);
				return -1;
			}
			o->coins[o->n_coins++] = argv[++i];
			continue;
		}
		for (k = 0; k < N_VALUE_OPTS; k++)
			if ((value_opts[k].used_by & which) && strcmp(a, value_opts[k].name) == 0)
				break;
		if (k == N_VALUE_OPTS) {
			fprintf(stderr, "sdpp iota %s: unexpected argument `%s' (see --help)\n",
			    cmd, a);
			return -1;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "sdpp iota %s: %s needs a value\n", cmd, a);
			return -1;
		}
		slot = (const char **)(void *)((char *)o + value_opts[k].off);
		if (*slot != NULL) {
			fprintf(stderr, "sdpp iota %s: %s given twice\n", cmd, a);
			return -1;
		}
		*slot = argv[++i];
	}
	for (k = 0; k < N_VALUE_OPTS; k++) {
		const char **v = (const char **)(void *)((char *)o + value_opts[k].off);
		int req = value_opts[k].required;

		if (!(value_opts[k].used_by & which))
			continue;
		if (*v == NULL && (req == REQ || (req == OFF && o->offline))) {
			fprintf(stderr, "sdpp iota %s: %s is required%s (see --help)\n", cmd,
			    value_opts[k].name, req == OFF ? " with --offline" : "");
			return -1;
		}
		if (*v != NULL && ((req == OFF && !o->offline) || (req == ON && o->offline))) {
			fprintf(stderr, "sdpp iota %s: %s %s\n", cmd, value_opts[k].name,
			    req == OFF ? "goes with --offline (online, the node is asked)"
			               : "makes no sense with --offline");
			return -1;
		}
	}
	if ((which & FOR_TX) && o->key == NULL) {
		fprintf(stderr, "sdpp iota %s: --key is required (see --help)\n", cmd);
		return -1;
	}
	if ((which & (FOR_BALANCE | FOR_FAUCET)) && (o->key == NULL) == (o->address == NULL)) {
		fprintf(stderr, "sdpp iota %s: give either --key or --address\n", cmd);
		return -1;
	}
	if ((which & FOR_TX) && o->offline && o->n_coins == 0) {
		fprintf(stderr, "sdpp iota %s: at least one --gas-coin is required\n", cmd);
		return -1;
	}
	if ((which & FOR_TX) && !o->offline && o->n_coins > 0) {
		fprintf(stderr,
		    "sdpp iota %s: --gas-coin goes with --offline (online, the account's "
		    "coins are used)\n",
		    cmd);
		return -1;
	}
	return 0;
}

/* A u64 of nanos or gas units: "0" or [1-9][0-9]* below 2^64. */
static int
parse_nanos(const char *cmd, const char *opt, const char *s, uint64_t *v)
{
	if (sdpp_money_parse(v, s) != SDPP_OK) {
		fprintf(stderr,
		    "sdpp iota %s: %s is not a whole number from 0 to "
		    "18446744073709551615: `%s'\n",
		    cmd, opt, s);
		return -1;
	}
	return 0;
}

/* Reads an sdpp key file; prints why on failure. */
static int
load_key(const char *cmd, const char *path, struct sdpp_identity **id)
{
	char *buf = NULL, err[ERR_CAP];
	size_t len = 0;
	int rc = -1;

	if (keyfile_read(path, &buf, &len, err, sizeof(err)) != 0) {
		fprintf(stderr, "sdpp iota %s: %s\n", cmd, err);
		return -1;
	}
	if (sdpp_identity_from_pem(id, buf, len) != SDPP_OK) {
		fprintf(stderr, "sdpp iota %s: %s: not an sdpp key file\n", cmd, path);
		goto fail;
	}
	rc = 0;
fail:
	sdpp_secret_free(buf, len);
	return rc;
}

static int
account_address(const struct sdpp_identity *id, uint8_t addr[IOTA_ADDRESS_BYTES])
{
	uint8_t pub[SDPP_SIGN_PUBLIC_BYTES];

	sdpp_identity_sign_public(id, pub);
	return iota_address_from_public(addr, pub) == IOTA_OK ? 0 : -1;
}

static int
iota_address_main(int argc, char **argv)
{
	struct sdpp_identity *id = NULL;
	uint8_t addr[IOTA_ADDRESS_BYTES];
	char text[IOTA_ADDRESS_TEXT_LEN];
	const char *path = NULL;
	int i, rc = 1;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			iota_usage(stdout);
			return 0;
		} else if (path == NULL && argv[i][0] != '-') {
			path = argv[i];
		} else {
			fprintf(stderr,
			    "sdpp iota address: unexpected argument `%s' (see --help)\n", argv[i]);
			return CLI_EXIT_USAGE;
		}
	}
	if (path == NULL) {
		fprintf(stderr, "sdpp iota address: KEY is required\n");
		return CLI_EXIT_USAGE;
	}
	if (load_key("address", path, &id) != 0)
		return 1;
	if (account_address(id, addr) != 0) {
		fprintf(stderr, "sdpp iota address: hashing failed\n");
		goto fail;
	}
	iota_address_format(text, addr);
	printf("%s\n", text);
	rc = 0;
fail:
	sdpp_identity_free(id);
	return rc;
}

/* Gas coins, price and budget into m (coins into the caller's array). */
static int
parse_gas(const char *cmd, const struct iota_opts *o, struct iota_object_ref *coins,
    struct iota_tx_meta *m)
{
	char err[128];
	size_t i, j;

	for (i = 0; i < o->n_coins; i++) {
		if (iota_object_ref_parse(&coins[i], o->coins[i], err, sizeof(err)) != 0) {
			fprintf(
			    stderr, "sdpp iota %s: --gas-coin: %s: `%s'\n", cmd, err, o->coins[i]);
			return -1;
		}
		for (j = 0; j < i; j++) {
			if (memcmp(coins[j].id, coins[i].id, IOTA_ADDRESS_BYTES) == 0) {
				fprintf(stderr,
				    "sdpp iota %s: --gas-coin: the same coin twice: "
				    "`%s'\n",
				    cmd, o->coins[i]);
				return -1;
			}
		}
	}
	m->gas_coins = coins;
	m->n_gas_coins = o->n_coins;
	if (parse_nanos(cmd, "--gas-price", o->gas_price, &m->gas_price) != 0 ||
	    parse_nanos(cmd, "--gas-budget", o->gas_budget, &m->gas_budget) != 0)
		return -1;
	return 0;
}

/* Signs tx and prints the JSON line. */
static int
print_signed(const char *cmd, const struct sdpp_identity *id, const uint8_t *tx, size_t len)
{
	uint8_t digest[IOTA_DIGEST_BYTES], sig[IOTA_SIGNATURE_BYTES];
	char digest_text[IOTA_DIGEST_TEXT_LEN], sig_b64[SDPP_B64_LEN(IOTA_SIGNATURE_BYTES)];
	char *tx_b64;

	if (iota_tx_digest(digest, tx, len) != IOTA_OK ||
	    iota_sign_tx(id, tx, len, sig) != IOTA_OK) {
		fprintf(stderr, "sdpp iota %s: signing failed\n", cmd);
		return -1;
	}
	tx_b64 = malloc(SDPP_B64_LEN(len));
	if (tx_b64 == NULL) {
		fprintf(stderr, "sdpp iota %s: out of memory\n", cmd);
		return -1;
	}
	sdpp_b64_encode(tx_b64, tx, len);
	iota_digest_format(digest_text, digest);
	sdpp_b64_encode(sig_b64, sig, sizeof(sig));
	/* Base64 and base58 need no JSON escaping. */
	printf("{\"tx_bytes\":\"%s\",\"digest\":\"%s\",\"signature\":\"%s\"}\n", tx_b64,
	    digest_text, sig_b64);
	free(tx_b64);
	return fflush(stdout) == 0 ? 0 : -1;
}

/* What the builders' errors mean to someone at the command line. */
static void
build_error(const char *cmd, enum iota_err err)
{
	if (err == IOTA_E_SPACE)
		fprintf(stderr,
		    "sdpp iota %s: the transaction would exceed the network's %d-byte "
		    "limit\n",
		    cmd, IOTA_TX_MAX_BYTES);
	else
		fprintf(stderr, "sdpp iota %s: cannot build the transaction: %s\n", cmd,
		    iota_strerror(err));
}

/* Options and network of every subcommand but address: 0 to go on, 1
 * after printing the usage (exit 0), -1 after printing why (a usage
 * error, exit 2). */
static int
parse_cmd(
    const char *cmd, int which, int argc, char **argv, struct iota_opts *o, enum iota_network *net)
{
	switch (parse_opts(cmd, which, argc, argv, o)) {
	case 0:
		break;
	case 1:
		iota_usage(stdout);
		return 1;
	default:
		return -1;
	}
	if (iota_network_parse(net, o->network) != 0) {
		fprintf(stderr, "sdpp iota %s: --network is not mainnet, testnet or devnet: `%s'\n",
		    cmd, o->network);
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- online */

/* A client for the network the options name; prints why on failure. */
static struct tangle *
online_client(const char *cmd, const struct iota_opts *o, enum iota_network net,
    const struct sdpp_identity *id, struct event_base *base)
{
	struct tangle_config tc;
	struct tangle *t = NULL;
	char err[TANGLE_ERR_MAX];

	memset(&tc, 0, sizeof(tc));
	tc.network = net;
	tc.url = o->url;
	tc.faucet_url = o->faucet_url;
	tc.retries = 2;
	tc.signer = id;
	if (o->max_gas != NULL && parse_nanos(cmd, "--max-gas", o->max_gas, &tc.max_budget) != 0)
		return NULL;
	if (tangle_new(&t, base, &tc, err, sizeof(err)) != 0)
		fprintf(stderr, "sdpp iota %s: %s\n", cmd, err);
	return t;
}

struct online_tx {
	const uint8_t *recipient;
	uint64_t amount;
	const uint8_t *data;
	size_t n_data;
	const char *description;
};

struct sent_wait {
	int done;
	struct tangle_sent sent;
};

static void
on_sent(void *arg, const struct tangle_sent *s)
{
	struct sent_wait *w = arg;

	w->sent = *s;
	w->sent.tx = NULL; /* borrowed for the callback only */
	w->sent.txlen = 0;
	w->done = 1;
}

/* Keeps printable ASCII of a node's or faucet's text, so that it cannot
 * break our JSON output or the terminal. */
static void
clean_text(char *out, size_t cap, const char *in)
{
	size_t i;

	for (i = 0; in[i] != '\0' && i + 1 < cap; i++)
		out[i] =
		    in[i] >= 0x20 && in[i] < 0x7f && in[i] != '"' && in[i] != '\\' ? in[i] : '?';
	out[i] = '\0';
}

static const char *
status_name(enum tangle_status st)
{
	switch (st) {
	case TANGLE_OK:
		return "success";
	case TANGLE_E_FAILED:
		return "failure";
	default:
		return "not sent";
	}
}

/* Builds, dry-runs, signs and executes one transaction; prints the result. */
static int
online_tx(const char *cmd, int which, const struct iota_opts *o, enum iota_network net,
    const struct sdpp_identity *id, const struct online_tx *ot)
{
	struct event_base *base = event_base_new();
	struct tangle *t = NULL;
	struct sent_wait w;
	int rc = 1, started;

	memset(&w, 0, sizeof(w));
	w.sent.status = TANGLE_E_NET; /* until the job says otherwise */
	snprintf(w.sent.error, sizeof(w.sent.error), "no answer");
	if (base == NULL || (t = online_client(cmd, o, net, id, base)) == NULL)
		goto out;
	started = which == FOR_PAY
	              ? tangle_pay(t, ot->recipient, ot->amount, on_sent, &w)
	              : tangle_notarize(t, ot->data, ot->n_data, ot->description, on_sent, &w);
	if (started != 0) {
		fprintf(stderr, "sdpp iota %s: cannot start\n", cmd);
		goto out;
	}
	tangle_wait(base, &w.done);
	if (w.sent.digest[0] != '\0' &&
	    (w.sent.status == TANGLE_OK || w.sent.status == TANGLE_E_FAILED))
		printf("{\"digest\":\"%s\",\"status\":\"%s\",\"gas\":{\"budget\":\"%" PRIu64
		       "\",\"computation\":\"%" PRIu64 "\",\"storage\":\"%" PRIu64
		       "\",\"rebate\":\"%" PRIu64 "\"}}\n",
		    w.sent.digest, status_name(w.sent.status), w.sent.budget,
		    w.sent.gas.computation, w.sent.gas.storage, w.sent.gas.rebate);
	if (w.sent.status != TANGLE_OK) {
		fprintf(stderr, "sdpp iota %s: %s\n", cmd, w.sent.error);
		goto out;
	}
	rc = fflush(stdout) == 0 ? 0 : 1;
out:
	tangle_free(t);
	if (base != NULL)
		event_base_free(base);
	return rc;
}

struct call_wait {
	int done;
	int ok;
	char error[TANGLE_ERR_MAX];
	uint64_t total, coins;
	char task[128];
};

static void
on_balance(void *arg, const struct tangle_reply *r)
{
	struct call_wait *w = arg;

	w->done = 1;
	if (r->status != TANGLE_OK) {
		snprintf(w->error, sizeof(w->error), "%s", r->error);
		return;
	}
	w->ok = iota_rpc_balance(r->result, &w->total, &w->coins, w->error, sizeof(w->error)) == 0;
}

static void
on_faucet(void *arg, const struct tangle_reply *r)
{
	struct call_wait *w = arg;
	const cJSON *task, *er;

	w->done = 1;
	if (r->status != TANGLE_OK) {
		snprintf(w->error, sizeof(w->error), "%s", r->error);
		return;
	}
	task = cJSON_GetObjectItemCaseSensitive(r->result, "task");
	er = cJSON_GetObjectItemCaseSensitive(r->result, "error");
	if (cJSON_IsString(er)) {
		char why[201];

		clean_text(why, sizeof(why), er->valuestring);
		snprintf(w->error, sizeof(w->error), "the faucet refused: %s", why);
		return;
	}
	clean_text(w->task, sizeof(w->task) < 101 ? sizeof(w->task) : 101,
	    cJSON_IsString(task) ? task->valuestring : "");
	w->ok = 1;
}

/* balance and faucet: read-only, by address or key. */
static int
iota_account_main(const char *cmd, int which, int argc, char **argv)
{
	struct iota_opts o;
	struct sdpp_identity *id = NULL;
	struct event_base *base = NULL;
	struct tangle *t = NULL;
	struct call_wait w;
	enum iota_network net;
	uint8_t addr[IOTA_ADDRESS_BYTES];
	char a[IOTA_ADDRESS_TEXT_LEN], params[160];
	int rc = 1;

	memset(&w, 0, sizeof(w));
	switch (parse_cmd(cmd, which, argc, argv, &o, &net)) {
	case 0:
		break;
	case 1:
		return 0;
	default:
		return CLI_EXIT_USAGE;
	}
	if (o.address != NULL && iota_address_parse(addr, o.address) != 0) {
		fprintf(stderr,
		    "sdpp iota %s: --address is not an address (0x and 64 hex "
		    "digits): `%s'\n",
		    cmd, o.address);
		return CLI_EXIT_USAGE;
	}
	if (o.key != NULL && (load_key(cmd, o.key, &id) != 0 || account_address(id, addr) != 0))
		goto out;
	iota_address_format(a, addr);
	base = event_base_new();
	if (base == NULL || (t = online_client(cmd, &o, net, NULL, base)) == NULL)
		goto out;
	if (which == FOR_BALANCE) {
		snprintf(params, sizeof(params), "[\"%s\",\"%s\"]", a, IOTA_COIN_TYPE);
		if (tangle_call(t, "iotax_getBalance", params, on_balance, &w) != 0)
			goto out;
	} else if (tangle_faucet(t, addr, on_faucet, &w) != 0) {
		fprintf(stderr, "sdpp iota faucet: %s has no faucet (testnet and devnet do)\n",
		    iota_network_name(net));
		goto out;
	}
	tangle_wait(base, &w.done);
	if (!w.ok) {
		fprintf(stderr, "sdpp iota %s: %s\n", cmd, w.error);
		goto out;
	}
	if (which == FOR_BALANCE)
		printf("{\"address\":\"%s\",\"balance\":\"%" PRIu64 "\",\"coins\":%" PRIu64 "}\n",
		    a, w.total, w.coins);
	else
		printf("{\"address\":\"%s\",\"task\":\"%s\"}\n", a, w.task);
	rc = fflush(stdout) == 0 ? 0 : 1;
out:
	tangle_free(t);
	if (base != NULL)
		event_base_free(base);
	sdpp_identity_free(id);
	return rc;
}

/* pay and notarize: options, key, build, sign, print. */
static int
iota_tx_main(const char *cmd, int which, int argc, char **argv)
{
	struct iota_opts o;
	struct sdpp_identity *id = NULL;
	struct iota_object_ref *coins = NULL;
	struct iota_tx_meta m;
	enum iota_network net;
	uint8_t recipient[IOTA_ADDRESS_BYTES], *tx = NULL, *data = NULL;
	uint64_t amount = 0;
	size_t len = 0, n_data = 0, hexlen;
	enum iota_err err;
	int rc = 1;

	switch (parse_cmd(cmd, which, argc, argv, &o, &net)) {
	case 0:
		break;
	case 1:
		return 0;
	default:
		return CLI_EXIT_USAGE;
	}
	if (which == FOR_PAY) {
		if (iota_address_parse(recipient, o.to) != 0) {
			fprintf(stderr,
			    "sdpp iota %s: --to is not an address (0x and 64 hex "
			    "digits): `%s'\n",
			    cmd, o.to);
			return CLI_EXIT_USAGE;
		}
		if (parse_nanos(cmd, "--amount", o.amount, &amount) != 0)
			return CLI_EXIT_USAGE;
	} else {
		hexlen = strlen(o.data_hex);
		if (hexlen == 0) {
			fprintf(stderr,
			    "sdpp iota %s: --data-hex is empty: give at least one "
			    "byte (two hex digits) to notarize\n",
			    cmd);
			return CLI_EXIT_USAGE;
		}
		if (hexlen % 2 != 0 || strspn(o.data_hex, "0123456789abcdefABCDEF") != hexlen) {
			fprintf(stderr,
			    "sdpp iota %s: --data-hex is not an even number of hex "
			    "digits: `%s'\n",
			    cmd, o.data_hex);
			return CLI_EXIT_USAGE;
		}
		n_data = hexlen / 2;
		/* The network refuses larger pure arguments; say so before signing. */
		if (n_data > IOTA_NOTARIZE_DATA_MAX) {
			fprintf(stderr,
			    "sdpp iota %s: --data-hex: %zu bytes, more than the %d a "
			    "transaction argument may hold; notarize a hash of the data instead\n",
			    cmd, n_data, IOTA_NOTARIZE_DATA_MAX);
			return CLI_EXIT_USAGE;
		}
		if (o.description != NULL) {
			size_t dlen = strlen(o.description);

			if (!util_utf8_valid(o.description, dlen)) {
				fprintf(stderr, "sdpp iota %s: --description is not valid UTF-8\n",
				    cmd);
				return CLI_EXIT_USAGE;
			}
			if (dlen > IOTA_NOTARIZE_DESCRIPTION_MAX) {
				fprintf(stderr,
				    "sdpp iota %s: --description: %zu bytes, more than "
				    "the %d a transaction argument may hold\n",
				    cmd, dlen, IOTA_NOTARIZE_DESCRIPTION_MAX);
				return CLI_EXIT_USAGE;
			}
		}
	}
	memset(&m, 0, sizeof(m));
	coins = calloc(o.n_coins, sizeof(*coins));
	tx = malloc(IOTA_TX_MAX_BYTES);
	data = malloc(n_data + 1);
	if (coins == NULL || tx == NULL || data == NULL) {
		fprintf(stderr, "sdpp iota %s: out of memory\n", cmd);
		goto fail;
	}
	if (o.offline && parse_gas(cmd, &o, coins, &m) != 0) {
		rc = CLI_EXIT_USAGE;
		goto fail;
	}
	if (which == FOR_NOTARIZE && sdpp_hex_decode(data, n_data, o.data_hex) != SDPP_OK) {
		fprintf(stderr, "sdpp iota %s: --data-hex: cannot decode `%s'\n", cmd, o.data_hex);
		goto fail;
	}
	if (load_key(cmd, o.key, &id) != 0)
		goto fail;
	if (account_address(id, m.sender) != 0) {
		fprintf(stderr, "sdpp iota %s: hashing failed\n", cmd);
		goto fail;
	}
	if (!o.offline) {
		struct online_tx ot = { recipient, amount, data, n_data, o.description };

		rc = online_tx(cmd, which, &o, net, id, &ot);
		goto fail;
	}
	if (which == FOR_PAY)
		err = iota_tx_payment(&m, recipient, amount, tx, IOTA_TX_MAX_BYTES, &len);
	else
		err = iota_tx_notarize(
		    &m, net, data, n_data, o.description, tx, IOTA_TX_MAX_BYTES, &len);
	if (err != IOTA_OK) {
		build_error(cmd, err);
		goto fail;
	}
	if (print_signed(cmd, id, tx, len) != 0)
		goto fail;
	rc = 0;
fail:
	sdpp_identity_free(id);
	free(coins);
	free(tx);
	free(data);
	return rc;
}

int
cmd_iota(int argc, char **argv)
{
	const char *sub;

	if (argc < 2) {
		iota_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	sub = argv[1];
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0) {
		iota_usage(stdout);
		return 0;
	}
	if (strcmp(sub, "address") == 0)
		return iota_address_main(argc - 1, argv + 1);
	if (strcmp(sub, "pay") == 0)
		return iota_tx_main("pay", FOR_PAY, argc - 1, argv + 1);
	if (strcmp(sub, "notarize") == 0)
		return iota_tx_main("notarize", FOR_NOTARIZE, argc - 1, argv + 1);
	if (strcmp(sub, "balance") == 0)
		return iota_account_main("balance", FOR_BALANCE, argc - 1, argv + 1);
	if (strcmp(sub, "faucet") == 0)
		return iota_account_main("faucet", FOR_FAUCET, argc - 1, argv + 1);
	fprintf(stderr, "sdpp iota: unknown command `%s'\n", sub);
	iota_usage(stderr);
	return CLI_EXIT_USAGE;
}
