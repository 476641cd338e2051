/* Test tool: a loopback stand-in for an IOTA Rebased JSON-RPC node and faucet, state in memory. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "iota/bcs.h"
#include "iota/iota.h"
#include "sdpp/crypto.h"
#include "sdpp/enc.h"
#include "util/text.h"

/*
 * What this is: enough of an IOTA Rebased full node (JSON-RPC 2.0 on POST /)
 * and of its faucet (POST /v1/gas) for integration tests to pay and notarize
 * without a network. It decodes real BCS TransactionData V1, checks gas
 * coins and signatures as a node does, and executes exactly two shapes of
 * programmable transaction, the ones iota/tx.c builds: a payment out of the
 * gas coin and a locked notarization. Test controls (standin_*) fund
 * addresses, simulate outages and read back what was recorded.
 *
 * One thread, one event loop; every piece of state lives in struct node.
 * Bound to 127.0.0.1 only.
 */

#define DEFAULT_PORT 9000
#define BODY_MAX (1024 * 1024) /* bigger bodies get HTTP 413 */
#define STALL_MAX 64           /* stalled requests held; more get 503 */
#define PAGE_MAX 50            /* iotax_getCoins page size, default and max */
#define FUND_COINS_MAX 1000    /* coins one standin_fund may create */
#define CALL_NAMES_MAX 256     /* distinct method names counted in stats */
#define TX_STORE_MAX 100000    /* executed transactions kept */
#define OBJECTS_MAX 1000000    /* objects the stand-in holds */
#define DELAY_MAX_MS 600000
#define FAIL_EXECUTE_MAX 1000000
#define CURRENT_EPOCH 0

#define FAUCET_AMOUNT 10000000000ULL /* 10 IOTA */
#define GAS_PRICE_DEFAULT 1000
#define GAS_PRICE_MAX 100000          /* the stand-in's ceiling on the tx's price */
#define GAS_BUDGET_MAX 50000000000ULL /* max_tx_gas: 50 IOTA */

/*
 * The gas model: the stand-in's approximation of IOTA's.
 *  - computationCost = COMPUTATION_UNITS * gasPrice: every transaction we
 *    run falls into the smallest computation bucket (1,000 units).
 *  - storageCost = STORAGE_PER_BYTE * (bytes of every object created or
 *    mutated), an object being OBJECT_OVERHEAD bytes plus its payload (a
 *    coin: 8 bytes of balance; a notarization: its data plus its
 *    description).
 *  - storageRebate = REBATE_PERCENT % of the storage cost paid for the
 *    previous versions of the gas coins (the mutated first one and those
 *    merged into it and deleted); nonRefundableStorageFee is the rest.
 *  - computationCostBurned = computationCost.
 *  - charged = computation + storage - rebate. If that exceeds the budget
 *    the transaction fails with InsufficientGas and the whole budget is
 *    charged. If the gas coins cannot pay amount + charged it fails with
 *    InsufficientCoinBalance and only gas is charged (storage then covers
 *    the gas coin alone, as nothing else is written).
 * A real node meters Move instructions and bucketizes; the amounts differ
 * but the shape (who pays what, rebates, failure charges) is the same.
 */
#define COMPUTATION_UNITS 1000ULL
#define STORAGE_PER_BYTE 7600ULL
#define OBJECT_OVERHEAD 100ULL
#define COIN_PAYLOAD 8ULL
#define REBATE_PERCENT 99ULL

/* The node's own limits (iota-protocol-config), written out here rather
 * than taken from iota/iota.h so that a wrong limit in the code under test
 * shows. The node checks both with a strict `<'. */
#define NODE_MAX_PURE_ARGUMENT_SIZE 16384
#define NODE_MAX_GAS_PAYMENT_OBJECTS 256

/* The decoder's caps: looser than the node's limits where check_validity()
 * applies those, so that a too-large transaction decodes and is refused
 * with the node's own words. */
#define TX_GAS_MAX 512
#define TX_PURE_MAX (64 * 1024)
#define TX_INPUTS_MAX 256
#define TX_COMMANDS_MAX 256
#define TX_ARGS_MAX 256
#define TX_TYPE_ARGS_MAX 16
#define TYPE_TEXT_MAX 1024

#define COIN_TYPE "0x2::iota::IOTA"
#define COIN_TYPE_LONG                                                                             \
	"0x0000000000000000000000000000000000000000000000000000000000000002::iota::IOTA"
#define COIN_OBJECT_TYPE "0x2::coin::Coin<0x2::iota::IOTA>"

/* JSON-RPC error codes. */
#define RPC_PARSE_ERROR -32700
#define RPC_INVALID_REQUEST -32600
#define RPC_METHOD_NOT_FOUND -32601
#define RPC_INVALID_PARAMS -32602
#define RPC_INTERNAL -32603
#define RPC_TX_REJECTED -32002 /* the node's code for refused transaction inputs */

/* ------------------------------------------------------------------ state */

enum obj_kind {
	OBJ_COIN,
	OBJ_NOTARIZATION,
};

struct object {
	uint8_t id[IOTA_ADDRESS_BYTES];
	uint64_t version;
	uint8_t digest[IOTA_DIGEST_BYTES];
	uint8_t owner[IOTA_ADDRESS_BYTES];
	enum obj_kind kind;
	uint64_t balance;      /* coins */
	char *type;            /* notarizations: full Move type (owned) */
	char *data_hex;        /* notarizations: the state's bytes (owned) */
	char *description;     /* notarizations: NULL for none (owned) */
	uint64_t storage_cost; /* paid at its last write: the rebate base */
	uint8_t prev_tx[IOTA_DIGEST_BYTES];
	int deleted;
};

/* A coin as the lagging index still shows it: its state before the last
 * executed transaction, or absent (created by it). */
struct lag_coin {
	uint8_t id[IOTA_ADDRESS_BYTES];
	int created;
	uint64_t version, balance;
	uint8_t digest[IOTA_DIGEST_BYTES];
	uint8_t prev_tx[IOTA_DIGEST_BYTES];
	int deleted;
};

/* An executed transaction: the full response, filtered per request. */
struct txrec {
	uint8_t digest[IOTA_DIGEST_BYTES];
	cJSON *resp; /* owned */
};

enum pending_kind {
	PENDING_STALLED, /* not handled yet: waits for stall to be switched off */
	PENDING_DELAYED, /* handled: the reply waits for its timer */
};

struct node;

/* A request we have not answered yet. */
struct pending {
	struct node *n;
	enum pending_kind kind;
	struct evhttp_request *req;
	int faucet;
	char *body; /* STALLED: the request body; DELAYED: the reply (owned) */
	size_t len;
	int code;            /* DELAYED */
	const char *ctype;   /* DELAYED */
	char label[64];      /* for the log */
	struct event *timer; /* DELAYED */
	struct pending *next;
};

struct node {
	struct event_base *base;
	struct evhttp *http;
	uint64_t gas_price;
	int quiet;
	int stopping;

	struct object *objs;
	size_t n_objs, cap_objs;
	struct txrec *txs;
	size_t n_txs, cap_txs;
	uint64_t supply; /* every coin's balance: sums never overflow */
	uint64_t checkpoint;
	uint64_t epoch; /* CURRENT_EPOCH: epochs never change here */

	cJSON *calls; /* {method: count} */
	size_t n_call_names;
	cJSON *notarizations; /* standin_stats */
	cJSON *payments;

	int down, stall;
	unsigned delay_ms;
	unsigned fail_execute;
	/* The next n executes are applied but their answers are lost (HTTP
	 * 503): the client cannot tell whether its transaction landed. */
	unsigned lose_execute;
	struct pending *pending; /* FIFO */
	size_t n_stalled;
	/* Index lag: a real node's coin index may trail execution, so the next
	 * index_lag iotax_getCoins answers after each execute show the coins
	 * as they were before it (lag: their state then; lag_left: answers
	 * still to give so). */
	unsigned index_lag, lag_left;
	struct lag_coin *lag;
	size_t n_lag;
};

/* ------------------------------------------------------------------ helpers */

struct rpc_err {
	int code;
	char msg[640];
};

static int rpc_fail(struct rpc_err *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
rpc_fail(struct rpc_err *e, int code, const char *fmt, ...)
{
	va_list ap;

	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

static void
u64_text(char out[SDPP_MONEY_LEN], uint64_t v)
{
	sdpp_money_format(out, v);
}

/* Adds a u64 as a decimal string (the node's form for u64 in JSON). */
static cJSON *
add_u64(cJSON *o, const char *key, uint64_t v)
{
	char t[SDPP_MONEY_LEN];

	u64_text(t, v);
	return cJSON_AddStringToObject(o, key, t);
}

static cJSON *
add_addr(cJSON *o, const char *key, const uint8_t a[IOTA_ADDRESS_BYTES])
{
	char t[IOTA_ADDRESS_TEXT_LEN];

	iota_address_format(t, a);
	return cJSON_AddStringToObject(o, key, t);
}

static cJSON *
add_digest(cJSON *o, const char *key, const uint8_t d[IOTA_DIGEST_BYTES])
{
	char t[IOTA_DIGEST_TEXT_LEN];

	iota_digest_format(t, d);
	return cJSON_AddStringToObject(o, key, t);
}

static cJSON *
addr_json(const uint8_t a[IOTA_ADDRESS_BYTES])
{
	char t[IOTA_ADDRESS_TEXT_LEN];

	iota_address_format(t, a);
	return cJSON_CreateString(t);
}

static cJSON *
digest_json(const uint8_t d[IOTA_DIGEST_BYTES])
{
	char t[IOTA_DIGEST_TEXT_LEN];

	iota_digest_format(t, d);
	return cJSON_CreateString(t);
}

/* {"AddressOwner": "0x…"} */
static cJSON *
owner_json(const uint8_t a[IOTA_ADDRESS_BYTES])
{
	cJSON *o = cJSON_CreateObject();

	add_addr(o, "AddressOwner", a);
	return o;
}

/* {objectId, version, digest} */
static cJSON *
ref_json(
    const uint8_t id[IOTA_ADDRESS_BYTES], uint64_t version, const uint8_t digest[IOTA_DIGEST_BYTES])
{
	cJSON *o = cJSON_CreateObject();

	add_addr(o, "objectId", id);
	add_u64(o, "version", version);
	add_digest(o, "digest", digest);
	return o;
}

/* OwnedObjectRef */
static cJSON *
owned_ref_json(const uint8_t owner[IOTA_ADDRESS_BYTES], const uint8_t id[IOTA_ADDRESS_BYTES],
    uint64_t version, const uint8_t digest[IOTA_DIGEST_BYTES])
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddItemToObject(o, "owner", owner_json(owner));
	cJSON_AddItemToObject(o, "reference", ref_json(id, version, digest));
	return o;
}

static void
random_bytes(uint8_t *p, size_t n)
{
	if (sdpp_random(p, n) != SDPP_OK) {
		fprintf(stderr, "tool_iotanode: no randomness\n");
		exit(1);
	}
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int
is_clock(const uint8_t id[IOTA_ADDRESS_BYTES])
{
	static const uint8_t clock[IOTA_ADDRESS_BYTES] = { [IOTA_ADDRESS_BYTES - 1] = 0x06 };

	return memcmp(id, clock, IOTA_ADDRESS_BYTES) == 0;
}

/* ------------------------------------------------------------------ objects */

static struct object *
obj_find(struct node *n, const uint8_t id[IOTA_ADDRESS_BYTES])
{
	size_t i;

	for (i = 0; i < n->n_objs; i++)
		if (memcmp(n->objs[i].id, id, IOTA_ADDRESS_BYTES) == 0)
			return &n->objs[i];
	return NULL;
}

/* A new object with a fresh random id; NULL when full. Pointers into
 * n->objs move on the next call. */
static struct object *
obj_new(struct node *n)
{
	struct object *o;

	if (n->n_objs == n->cap_objs) {
		size_t cap = n->cap_objs ? n->cap_objs * 2 : 64;
		struct object *p;

		if (cap > OBJECTS_MAX)
			cap = OBJECTS_MAX;
		if (n->n_objs >= cap)
			return NULL;
		p = realloc(n->objs, cap * sizeof(*p));
		if (p == NULL)
			return NULL;
		n->objs = p;
		n->cap_objs = cap;
	}
	o = &n->objs[n->n_objs++];
	memset(o, 0, sizeof(*o));
	random_bytes(o->id, sizeof(o->id));
	random_bytes(o->digest, sizeof(o->digest));
	return o;
}

/* Coins of `amount` nanos for owner; 0, or -1 with e set. */
static int
mint(struct node *n, const uint8_t owner[IOTA_ADDRESS_BYTES], uint64_t amount, size_t count,
    cJSON *ids, struct rpc_err *e)
{
	uint8_t tx[IOTA_DIGEST_BYTES];
	size_t i;

	if (amount != 0 && (count > UINT64_MAX / amount || amount * count > UINT64_MAX - n->supply))
		return rpc_fail(e, RPC_INVALID_PARAMS,
		    "Invalid params: funding would take the total supply beyond 2^64-1 nanos");
	if (n->n_objs + count > OBJECTS_MAX)
		return rpc_fail(
		    e, RPC_INTERNAL, "the stand-in holds %d objects at most", OBJECTS_MAX);
	random_bytes(tx, sizeof(tx)); /* the funding "transaction" */
	for (i = 0; i < count; i++) {
		struct object *o = obj_new(n);

		if (o == NULL)
			return rpc_fail(e, RPC_INTERNAL, "out of memory");
		o->version = 1;
		memcpy(o->owner, owner, IOTA_ADDRESS_BYTES);
		o->kind = OBJ_COIN;
		o->balance = amount;
		o->storage_cost = STORAGE_PER_BYTE * (OBJECT_OVERHEAD + COIN_PAYLOAD);
		memcpy(o->prev_tx, tx, sizeof(tx));
		n->supply += amount;
		if (ids != NULL)
			cJSON_AddItemToArray(ids, addr_json(o->id));
	}
	return 0;
}

static struct txrec *
tx_find(struct node *n, const uint8_t digest[IOTA_DIGEST_BYTES])
{
	size_t i;

	for (i = 0; i < n->n_txs; i++)
		if (memcmp(n->txs[i].digest, digest, IOTA_DIGEST_BYTES) == 0)
			return &n->txs[i];
	return NULL;
}

/* ------------------------------------------------------------------ BCS reader */

/* A bounded reader over the transaction bytes: every read checks the
 * length, the first error sticks and says where. */
struct rd {
	const uint8_t *p;
	size_t n, off;
	int failed;
	char err[256];
};

static int rd_fail(struct rd *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
rd_fail(struct rd *r, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (r->failed)
		return -1;
	r->failed = 1;
	k = snprintf(r->err, sizeof(r->err), "at byte %zu: ", r->off);
	if (k < 0 || (size_t)k >= sizeof(r->err))
		return -1;
	va_start(ap, fmt);
	vsnprintf(r->err + k, sizeof(r->err) - (size_t)k, fmt, ap);
	va_end(ap);
	return -1;
}

static int
rd_fixed(struct rd *r, size_t len, const uint8_t **p, const char *what)
{
	if (r->failed)
		return -1;
	if (r->n - r->off < len)
		return rd_fail(r, "%s: %zu bytes needed, %zu left", what, len, r->n - r->off);
	*p = r->p + r->off;
	r->off += len;
	return 0;
}

static int
rd_copy(struct rd *r, void *out, size_t len, const char *what)
{
	const uint8_t *p = NULL;

	if (rd_fixed(r, len, &p, what) != 0)
		return -1;
	memcpy(out, p, len);
	return 0;
}

static int
rd_u8(struct rd *r, uint8_t *v, const char *what)
{
	return rd_copy(r, v, 1, what);
}

static int
rd_uint(struct rd *r, uint64_t *v, size_t width, const char *what)
{
	const uint8_t *p = NULL;
	size_t i;

	if (rd_fixed(r, width, &p, what) != 0)
		return -1;
	*v = 0;
	for (i = 0; i < width; i++)
		*v |= (uint64_t)p[i] << (8 * i);
	return 0;
}

static int
rd_u16(struct rd *r, uint16_t *v, const char *what)
{
	uint64_t x;

	if (rd_uint(r, &x, 2, what) != 0)
		return -1;
	*v = (uint16_t)x;
	return 0;
}

static int
rd_u64(struct rd *r, uint64_t *v, const char *what)
{
	return rd_uint(r, v, 8, what);
}

static int
rd_bool(struct rd *r, int *v, const char *what)
{
	uint8_t b;

	if (rd_u8(r, &b, what) != 0)
		return -1;
	if (b > 1)
		return rd_fail(r, "%s: bool is %u, not 0 or 1", what, b);
	*v = b;
	return 0;
}

/* ULEB128 length or tag: canonical, at most BCS_MAX_SEQUENCE_LEN. */
static int
rd_uleb(struct rd *r, uint64_t *v, const char *what)
{
	uint64_t x = 0;
	unsigned shift = 0;
	uint8_t b;

	for (;;) {
		if (rd_u8(r, &b, what) != 0)
			return -1;
		if (shift == 28 && (b & 0xf0) != 0)
			return rd_fail(r, "%s: ULEB128 beyond 32 bits", what);
		x |= (uint64_t)(b & 0x7f) << shift;
		if ((b & 0x80) == 0)
			break;
		shift += 7;
		if (shift > 28)
			return rd_fail(r, "%s: ULEB128 longer than 5 bytes", what);
	}
	if (b == 0 && shift > 0)
		return rd_fail(r, "%s: ULEB128 not in its shortest form", what);
	if (x > BCS_MAX_SEQUENCE_LEN)
		return rd_fail(r, "%s: %" PRIu64 " beyond BCS's 2^31-1", what, x);
	*v = x;
	return 0;
}

/* A vector length no bigger than max (our cap, named in the message). */
static int
rd_count(struct rd *r, size_t max, size_t *n, const char *what)
{
	uint64_t v;

	if (rd_uleb(r, &v, what) != 0)
		return -1;
	if (v > max)
		return rd_fail(
		    r, "%s: %" PRIu64 " items, more than the stand-in's %zu", what, v, max);
	*n = (size_t)v;
	return 0;
}

/* vector<u8> */
static int
rd_vec_u8(struct rd *r, size_t max, const uint8_t **p, size_t *len, const char *what)
{
	if (rd_count(r, max, len, what) != 0)
		return -1;
	return rd_fixed(r, *len, p, what);
}

static int
rd_object_ref(struct rd *r, struct iota_object_ref *ref, const char *what)
{
	uint64_t dl;

	if (rd_copy(r, ref->id, IOTA_ADDRESS_BYTES, what) != 0 ||
	    rd_u64(r, &ref->version, what) != 0 || rd_uleb(r, &dl, what) != 0)
		return -1;
	if (dl != IOTA_DIGEST_BYTES)
		return rd_fail(r, "%s: object digest of %" PRIu64 " bytes, not 32", what, dl);
	return rd_copy(r, ref->digest, IOTA_DIGEST_BYTES, what);
}

/* Move identifier into out (IOTA_IDENT_MAX + 1 bytes). */
static int
rd_ident(struct rd *r, char *out, const char *what)
{
	const uint8_t *p = NULL;
	size_t len = 0, i;

	if (rd_vec_u8(r, IOTA_IDENT_MAX, &p, &len, what) != 0)
		return -1;
	if (len == 0)
		return rd_fail(r, "%s: empty identifier", what);
	for (i = 0; i < len; i++) {
		uint8_t c = p[i];
		int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
		int digit = c >= '0' && c <= '9';

		if (!(alpha || c == '_' || (digit && i > 0)))
			return rd_fail(r, "%s: not a Move identifier", what);
	}
	if (len == 1 && p[0] == '_')
		return rd_fail(r, "%s: not a Move identifier", what);
	memcpy(out, p, len);
	out[len] = '\0';
	return 0;
}

/* Text being built with a cap: overflow sticks. */
struct sbuf {
	char s[TYPE_TEXT_MAX];
	size_t len;
	int overflow;
};

static void
sb_add(struct sbuf *b, const char *s)
{
	size_t k = strlen(s);

	if (b->overflow || k >= sizeof(b->s) - b->len) {
		b->overflow = 1;
		return;
	}
	memcpy(b->s + b->len, s, k + 1);
	b->len += k;
}

/* TypeTag, rendered as the node prints it (vector<u8>, 0x…::m::S<T>). */
static int
rd_type_tag(struct rd *r, struct sbuf *b, int depth)
{
	static const char *const prims[] = { "bool", "u8", "u64", "u128", "address", "signer", NULL,
		NULL, "u16", "u32", "u256" };
	char name[IOTA_IDENT_MAX + 1], addr[IOTA_ADDRESS_TEXT_LEN];
	uint8_t a[IOTA_ADDRESS_BYTES];
	uint64_t tag;
	size_t np = 0, i;

	if (depth > IOTA_TYPE_DEPTH_MAX)
		return rd_fail(r, "type argument nested deeper than %d", IOTA_TYPE_DEPTH_MAX);
	if (rd_uleb(r, &tag, "type tag") != 0)
		return -1;
	if (tag < sizeof(prims) / sizeof(prims[0]) && prims[tag] != NULL) {
		sb_add(b, prims[tag]);
		return 0;
	}
	if (tag == 6) {
		sb_add(b, "vector<");
		if (rd_type_tag(r, b, depth + 1) != 0)
			return -1;
		sb_add(b, ">");
		return 0;
	}
	if (tag != 7)
		return rd_fail(r, "type tag %" PRIu64 " unknown", tag);
	if (rd_copy(r, a, sizeof(a), "struct address") != 0)
		return -1;
	iota_address_format(addr, a);
	sb_add(b, addr);
	sb_add(b, "::");
	if (rd_ident(r, name, "struct module") != 0)
		return -1;
	sb_add(b, name);
	sb_add(b, "::");
	if (rd_ident(r, name, "struct name") != 0)
		return -1;
	sb_add(b, name);
	if (rd_count(r, TX_TYPE_ARGS_MAX, &np, "struct type parameters") != 0)
		return -1;
	for (i = 0; i < np; i++) {
		sb_add(b, i == 0 ? "<" : ", ");
		if (rd_type_tag(r, b, depth + 1) != 0)
			return -1;
	}
	if (np > 0)
		sb_add(b, ">");
	if (b->overflow)
		return rd_fail(r, "type longer than %d characters", TYPE_TEXT_MAX - 1);
	return 0;
}

/* ------------------------------------------------------------------ decoded transactions */

enum input_kind {
	IN_PURE,
	IN_OWNED,
	IN_SHARED,
	IN_RECEIVING,
};

struct dinput {
	enum input_kind kind;
	const uint8_t *pure; /* into dtx.bytes */
	size_t pure_len;
	struct iota_object_ref ref;    /* OWNED, RECEIVING */
	struct iota_shared_ref shared; /* SHARED */
	const char *value_type;        /* set once the shape is known, for showInput */
};

struct darg {
	enum iota_arg_kind kind;
	uint16_t index, sub;
};

struct dcmd {
	enum iota_command_kind kind;
	uint8_t package[IOTA_ADDRESS_BYTES];
	char module[IOTA_IDENT_MAX + 1];
	char function[IOTA_IDENT_MAX + 1];
	char *types[TX_TYPE_ARGS_MAX]; /* owned */
	size_t n_types;
	struct darg *args; /* owned */
	size_t n_args;
	struct darg target;
};

/* TransactionData::V1 with a ProgrammableTransaction: everything a node
 * needs from the bytes. */
struct dtx {
	uint8_t *bytes; /* owned; pure inputs point into it */
	size_t len;
	struct dinput inputs[TX_INPUTS_MAX];
	size_t n_inputs;
	struct dcmd cmds[TX_COMMANDS_MAX];
	size_t n_cmds;
	uint8_t sender[IOTA_ADDRESS_BYTES];
	struct iota_object_ref gas[TX_GAS_MAX];
	size_t n_gas;
	uint8_t gas_owner[IOTA_ADDRESS_BYTES];
	uint64_t price, budget;
	int has_expiration;
	uint64_t expiration;
	uint8_t digest[IOTA_DIGEST_BYTES];
};

static void
dtx_free(struct dtx *t)
{
	size_t i, j;

	if (t == NULL)
		return;
	for (i = 0; i < t->n_cmds; i++) {
		for (j = 0; j < t->cmds[i].n_types; j++)
			free(t->cmds[i].types[j]);
		free(t->cmds[i].args);
	}
	free(t->bytes);
	free(t);
}

static int
rd_arg(struct rd *r, struct darg *a)
{
	uint8_t tag = 0;

	memset(a, 0, sizeof(*a));
	if (rd_u8(r, &tag, "argument") != 0)
		return -1;
	switch (tag) {
	case IOTA_ARG_GAS_COIN:
		a->kind = IOTA_ARG_GAS_COIN;
		return 0;
	case IOTA_ARG_INPUT:
		a->kind = IOTA_ARG_INPUT;
		return rd_u16(r, &a->index, "Input index");
	case IOTA_ARG_RESULT:
		a->kind = IOTA_ARG_RESULT;
		return rd_u16(r, &a->index, "Result index");
	case IOTA_ARG_NESTED_RESULT:
		a->kind = IOTA_ARG_NESTED_RESULT;
		if (rd_u16(r, &a->index, "NestedResult index") != 0)
			return -1;
		return rd_u16(r, &a->sub, "NestedResult index");
	}
	return rd_fail(r, "argument tag %u unknown", tag);
}

static int
rd_args(struct rd *r, struct dcmd *c, const char *what)
{
	size_t i;

	if (rd_count(r, TX_ARGS_MAX, &c->n_args, what) != 0)
		return -1;
	c->args = calloc(c->n_args ? c->n_args : 1, sizeof(*c->args));
	if (c->args == NULL)
		return rd_fail(r, "out of memory");
	for (i = 0; i < c->n_args; i++)
		if (rd_arg(r, &c->args[i]) != 0)
			return -1;
	return 0;
}

static int
rd_input(struct rd *r, struct dinput *in)
{
	uint8_t tag, ot;

	memset(in, 0, sizeof(*in));
	if (rd_u8(r, &tag, "CallArg") != 0)
		return -1;
	if (tag == 0) {
		in->kind = IN_PURE;
		return rd_vec_u8(r, TX_PURE_MAX, &in->pure, &in->pure_len, "pure argument");
	}
	if (tag != 1)
		return rd_fail(r, "CallArg tag %u unknown", tag);
	if (rd_u8(r, &ot, "ObjectArg") != 0)
		return -1;
	switch (ot) {
	case 0:
		in->kind = IN_OWNED;
		return rd_object_ref(r, &in->ref, "ImmOrOwnedObject");
	case 1:
		in->kind = IN_SHARED;
		if (rd_copy(r, in->shared.id, IOTA_ADDRESS_BYTES, "SharedObject") != 0 ||
		    rd_u64(r, &in->shared.initial_shared_version, "SharedObject") != 0)
			return -1;
		return rd_bool(r, &in->shared.is_mutable, "SharedObject mutable");
	case 2:
		in->kind = IN_RECEIVING;
		return rd_object_ref(r, &in->ref, "Receiving");
	}
	return rd_fail(r, "ObjectArg tag %u unknown", ot);
}

static const char *const command_names[] = { "MoveCall", "TransferObjects", "SplitCoins",
	"MergeCoins", "Publish", "MakeMoveVec", "Upgrade" };

static int
rd_command(struct rd *r, struct dcmd *c)
{
	uint8_t tag = 0;
	size_t i;

	if (rd_u8(r, &tag, "Command") != 0)
		return -1;
	switch (tag) {
	case IOTA_CMD_MOVE_CALL:
		c->kind = IOTA_CMD_MOVE_CALL;
		if (rd_copy(r, c->package, IOTA_ADDRESS_BYTES, "MoveCall package") != 0 ||
		    rd_ident(r, c->module, "MoveCall module") != 0 ||
		    rd_ident(r, c->function, "MoveCall function") != 0 ||
		    rd_count(r, TX_TYPE_ARGS_MAX, &c->n_types, "MoveCall type arguments") != 0)
			return -1;
		for (i = 0; i < c->n_types; i++) {
			struct sbuf b;

			memset(&b, 0, sizeof(b));
			if (rd_type_tag(r, &b, 1) != 0) {
				c->n_types = i;
				return -1;
			}
			c->types[i] = strdup(b.s);
			if (c->types[i] == NULL) {
				c->n_types = i;
				return rd_fail(r, "out of memory");
			}
		}
		return rd_args(r, c, "MoveCall arguments");
	case IOTA_CMD_TRANSFER_OBJECTS:
		c->kind = IOTA_CMD_TRANSFER_OBJECTS;
		if (rd_args(r, c, "TransferObjects objects") != 0)
			return -1;
		return rd_arg(r, &c->target);
	case IOTA_CMD_SPLIT_COINS:
	case IOTA_CMD_MERGE_COINS:
		c->kind = (enum iota_command_kind)tag;
		if (rd_arg(r, &c->target) != 0)
			return -1;
		return rd_args(
		    r, c, tag == IOTA_CMD_SPLIT_COINS ? "SplitCoins amounts" : "MergeCoins coins");
	}
	if (tag < sizeof(command_names) / sizeof(command_names[0]))
		return rd_fail(r, "command %s is unsupported by the stand-in", command_names[tag]);
	return rd_fail(r, "command tag %u unknown", tag);
}

/* Decodes tx bytes (taken over: freed with the result). NULL with e set. */
static struct dtx *
dtx_decode(uint8_t *bytes, size_t len, struct rpc_err *e)
{
	struct dtx *t;
	struct rd r;
	uint8_t tag = 0;
	size_t i = 0;

	t = calloc(1, sizeof(*t));
	if (t == NULL) {
		free(bytes);
		rpc_fail(e, RPC_INTERNAL, "out of memory");
		return NULL;
	}
	t->bytes = bytes;
	t->len = len;
	memset(&r, 0, sizeof(r));
	r.p = bytes;
	r.n = len;
	if (rd_u8(&r, &tag, "TransactionData") == 0 && tag != 0)
		rd_fail(&r, "TransactionData version %u, not V1 (0)", tag);
	if (rd_u8(&r, &tag, "TransactionKind") == 0 && tag != 0)
		rd_fail(&r, "transaction kind %u is not ProgrammableTransaction (0)", tag);
	if (rd_count(&r, TX_INPUTS_MAX, &t->n_inputs, "inputs") == 0)
		for (i = 0; i < t->n_inputs && !r.failed; i++)
			rd_input(&r, &t->inputs[i]);
	if (!r.failed && rd_count(&r, TX_COMMANDS_MAX, &i, "commands") == 0)
		for (t->n_cmds = 0; t->n_cmds < i && !r.failed; t->n_cmds++)
			rd_command(&r, &t->cmds[t->n_cmds]);
	rd_copy(&r, t->sender, IOTA_ADDRESS_BYTES, "sender");
	if (rd_count(&r, TX_GAS_MAX, &t->n_gas, "gas payment") == 0)
		for (i = 0; i < t->n_gas && !r.failed; i++)
			rd_object_ref(&r, &t->gas[i], "gas payment");
	rd_copy(&r, t->gas_owner, IOTA_ADDRESS_BYTES, "gas owner");
	rd_u64(&r, &t->price, "gas price");
	rd_u64(&r, &t->budget, "gas budget");
	if (rd_u8(&r, &tag, "expiration") == 0) {
		if (tag == 1) {
			t->has_expiration = 1;
			rd_u64(&r, &t->expiration, "expiration epoch");
		} else if (tag != 0) {
			rd_fail(&r, "expiration tag %u unknown", tag);
		}
	}
	if (!r.failed && r.off != r.n)
		rd_fail(&r, "%zu trailing bytes after the transaction", r.n - r.off);
	if (!r.failed && iota_tx_digest(t->digest, bytes, len) != IOTA_OK)
		rd_fail(&r, "cannot hash the transaction");
	if (r.failed) {
		rpc_fail(
		    e, RPC_INVALID_PARAMS, "Invalid params: malformed transaction bytes %s", r.err);
		dtx_free(t);
		return NULL;
	}
	return t;
}

/* ------------------------------------------------------------------ the two shapes */

enum shape_kind {
	SHAPE_PAYMENT,
	SHAPE_NOTARIZE,
};

struct shape {
	enum shape_kind kind;
	uint64_t amount;                       /* PAYMENT */
	uint8_t recipient[IOTA_ADDRESS_BYTES]; /* PAYMENT */
	const uint8_t *data;                   /* NOTARIZE, into dtx.bytes */
	size_t data_len;
	const uint8_t *desc; /* NOTARIZE: NULL for None */
	size_t desc_len;
	uint8_t package[IOTA_ADDRESS_BYTES];
};

#define OPTION_STRING "0x1::option::Option<0x1::string::String>"

/* A pure vector<u8> or String: ULEB128 length and exactly that many bytes. */
static int
pure_bytes(const uint8_t *p, size_t n, const uint8_t **out, size_t *len)
{
	struct rd r;

	memset(&r, 0, sizeof(r));
	r.p = p;
	r.n = n;
	if (rd_vec_u8(&r, TX_PURE_MAX, out, len, "vector") != 0 || r.off != r.n)
		return -1;
	return 0;
}

/* Option<String>: 00, or 01 and a UTF-8 string. */
static int
pure_option_string(const struct dinput *in, const uint8_t **s, size_t *len)
{
	if (in->kind != IN_PURE || in->pure_len == 0)
		return -1;
	if (in->pure[0] == 0) {
		*s = NULL;
		*len = 0;
		return in->pure_len == 1 ? 0 : -1;
	}
	if (in->pure[0] != 1 || pure_bytes(in->pure + 1, in->pure_len - 1, s, len) != 0)
		return -1;
	return util_utf8_valid((const char *)*s, *len) ? 0 : -1;
}

static int
arg_is(const struct darg *a, enum iota_arg_kind kind, uint16_t index, uint16_t sub)
{
	return a->kind == kind && (kind == IOTA_ARG_GAS_COIN || a->index == index) &&
	       (kind != IOTA_ARG_NESTED_RESULT || a->sub == sub);
}

static int
unsupported(struct rpc_err *e, const char *why)
{
	return rpc_fail(e, RPC_INVALID_PARAMS,
	    "Invalid params: transaction unsupported by the stand-in (%s); it runs a payment "
	    "(SplitCoins of the gas coin, TransferObjects) or a locked notarization",
	    why);
}

static int
match_payment(struct dtx *t, struct shape *s, struct rpc_err *e)
{
	const struct dcmd *split = &t->cmds[0], *xfer = &t->cmds[1];
	struct dinput *amount, *to;

	if (t->n_inputs != 2 || split->kind != IOTA_CMD_SPLIT_COINS ||
	    !arg_is(&split->target, IOTA_ARG_GAS_COIN, 0, 0) || split->n_args != 1 ||
	    split->args[0].kind != IOTA_ARG_INPUT || xfer->kind != IOTA_CMD_TRANSFER_OBJECTS ||
	    xfer->n_args != 1 || !arg_is(&xfer->args[0], IOTA_ARG_NESTED_RESULT, 0, 0) ||
	    xfer->target.kind != IOTA_ARG_INPUT || split->args[0].index >= 2 ||
	    xfer->target.index >= 2 || split->args[0].index == xfer->target.index)
		return unsupported(e, "not SplitCoins(GasCoin, [Input]) then "
		                      "TransferObjects([NestedResult(0,0)], Input)");
	amount = &t->inputs[split->args[0].index];
	to = &t->inputs[xfer->target.index];
	if (amount->kind != IN_PURE || amount->pure_len != 8)
		return rpc_fail(e, RPC_INVALID_PARAMS,
		    "Invalid params: the SplitCoins amount is not a pure u64");
	if (to->kind != IN_PURE || to->pure_len != IOTA_ADDRESS_BYTES)
		return rpc_fail(e, RPC_INVALID_PARAMS,
		    "Invalid params: the TransferObjects recipient is not a pure address");
	s->kind = SHAPE_PAYMENT;
	s->amount = 0;
	for (size_t i = 0; i < 8; i++)
		s->amount |= (uint64_t)amount->pure[i] << (8 * i);
	memcpy(s->recipient, to->pure, IOTA_ADDRESS_BYTES);
	amount->value_type = "u64";
	to->value_type = "address";
	return 0;
}

static int
known_notarization_package(const uint8_t pkg[IOTA_ADDRESS_BYTES])
{
	static const enum iota_network nets[] = { IOTA_MAINNET, IOTA_TESTNET, IOTA_DEVNET };
	size_t i;

	for (i = 0; i < sizeof(nets) / sizeof(nets[0]); i++)
		if (memcmp(iota_notarization_package(nets[i]), pkg, IOTA_ADDRESS_BYTES) == 0)
			return 1;
	return 0;
}

static int
is_call(const struct dcmd *c, const uint8_t *pkg, const char *module, const char *function)
{
	return c->kind == IOTA_CMD_MOVE_CALL && memcmp(c->package, pkg, IOTA_ADDRESS_BYTES) == 0 &&
	       strcmp(c->module, module) == 0 && strcmp(c->function, function) == 0;
}

static int
match_notarize(struct dtx *t, struct shape *s, struct rpc_err *e)
{
	const struct dcmd *state = &t->cmds[0], *lock = &t->cmds[1], *create = &t->cmds[2];
	const uint8_t *pkg = state->package;
	struct dinput *data, *meta, *desc, *umeta, *clock;
	const uint8_t *p = NULL;
	size_t n;
	char a[IOTA_ADDRESS_TEXT_LEN];

	if (!is_call(state, pkg, "notarization", "new_state_from_bytes") ||
	    !is_call(lock, pkg, "timelock", "none") ||
	    !is_call(create, pkg, "locked_notarization", "create"))
		return unsupported(e, "not notarization::new_state_from_bytes, timelock::none, "
		                      "locked_notarization::create");
	if (state->n_types != 0 || state->n_args != 2 || state->args[0].kind != IOTA_ARG_INPUT ||
	    state->args[1].kind != IOTA_ARG_INPUT || lock->n_types != 0 || lock->n_args != 0 ||
	    create->n_types != 1 || strcmp(create->types[0], "vector<u8>") != 0 ||
	    create->n_args != 5 || !arg_is(&create->args[0], IOTA_ARG_RESULT, 0, 0) ||
	    create->args[1].kind != IOTA_ARG_INPUT || create->args[2].kind != IOTA_ARG_INPUT ||
	    !arg_is(&create->args[3], IOTA_ARG_RESULT, 1, 0) ||
	    create->args[4].kind != IOTA_ARG_INPUT || t->n_inputs != 5)
		return unsupported(e, "notarization calls with other arguments than iota/tx.c's");
	for (n = 0; n < 2; n++)
		if (state->args[n].index >= t->n_inputs)
			return unsupported(e, "argument names a missing input");
	for (n = 1; n < 5; n++)
		if (create->args[n].kind == IOTA_ARG_INPUT && create->args[n].index >= t->n_inputs)
			return unsupported(e, "argument names a missing input");
	if (!known_notarization_package(pkg)) {
		iota_address_format(a, pkg);
		return rpc_fail(e, RPC_TX_REJECTED, "Package object does not exist with ID %s", a);
	}
	data = &t->inputs[state->args[0].index];
	meta = &t->inputs[state->args[1].index];
	desc = &t->inputs[create->args[1].index];
	umeta = &t->inputs[create->args[2].index];
	clock = &t->inputs[create->args[4].index];
	if (clock->kind != IN_SHARED || !is_clock(clock->shared.id) ||
	    clock->shared.initial_shared_version != 1 || clock->shared.is_mutable)
		return rpc_fail(e, RPC_INVALID_PARAMS,
		    "Invalid params: the clock argument is not the shared Clock 0x6 (initial "
		    "version 1, immutable)");
	if (data->kind != IN_PURE ||
	    pure_bytes(data->pure, data->pure_len, &s->data, &s->data_len) != 0)
		return rpc_fail(e, RPC_INVALID_PARAMS,
		    "Invalid params: the notarized data is not a pure vector<u8>");
	if (pure_option_string(meta, &p, &n) != 0 || pure_option_string(umeta, &p, &n) != 0 ||
	    pure_option_string(desc, &s->desc, &s->desc_len) != 0)
		return rpc_fail(e, RPC_INVALID_PARAMS,
		    "Invalid params: a metadata or description argument is not a pure "
		    "Option<String> of UTF-8");
	s->kind = SHAPE_NOTARIZE;
	memcpy(s->package, pkg, IOTA_ADDRESS_BYTES);
	data->value_type = "vector<u8>";
	meta->value_type = OPTION_STRING;
	desc->value_type = OPTION_STRING;
	umeta->value_type = OPTION_STRING;
	return 0;
}

static int
match_shape(struct dtx *t, struct shape *s, struct rpc_err *e)
{
	memset(s, 0, sizeof(*s));
	if (memcmp(t->sender, t->gas_owner, IOTA_ADDRESS_BYTES) != 0)
		return unsupported(e, "sponsored: the gas owner is not the sender");
	if (t->n_cmds == 2)
		return match_payment(t, s, e);
	if (t->n_cmds == 3)
		return match_notarize(t, s, e);
	return unsupported(e, "neither 2 nor 3 commands");
}

/* ------------------------------------------------------------------ transaction JSON */

static cJSON *
arg_json(const struct darg *a)
{
	cJSON *o, *pair;

	switch (a->kind) {
	case IOTA_ARG_GAS_COIN:
		return cJSON_CreateString("GasCoin");
	case IOTA_ARG_INPUT:
		o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "Input", a->index);
		return o;
	case IOTA_ARG_RESULT:
		o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "Result", a->index);
		return o;
	case IOTA_ARG_NESTED_RESULT:
		o = cJSON_CreateObject();
		pair = cJSON_AddArrayToObject(o, "NestedResult");
		cJSON_AddItemToArray(pair, cJSON_CreateNumber(a->index));
		cJSON_AddItemToArray(pair, cJSON_CreateNumber(a->sub));
		return o;
	}
	return cJSON_CreateNull();
}

static cJSON *
args_json(const struct darg *a, size_t n)
{
	cJSON *arr = cJSON_CreateArray();
	size_t i;

	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, arg_json(&a[i]));
	return arr;
}

static cJSON *
bytes_array_json(const uint8_t *p, size_t n)
{
	cJSON *arr = cJSON_CreateArray();
	size_t i;

	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateNumber(p[i]));
	return arr;
}

/* IotaCallArg: pure values typed where the shape tells their type. */
static cJSON *
input_json(const struct dinput *in)
{
	cJSON *o = cJSON_CreateObject();
	const uint8_t *p = NULL;
	size_t n;
	char *s;

	switch (in->kind) {
	case IN_PURE:
		cJSON_AddStringToObject(o, "type", "pure");
		if (in->value_type == NULL) {
			cJSON_AddItemToObject(o, "value", bytes_array_json(in->pure, in->pure_len));
			break;
		}
		cJSON_AddStringToObject(o, "valueType", in->value_type);
		if (strcmp(in->value_type, "u64") == 0) {
			uint64_t v = 0;

			for (n = 0; n < 8; n++)
				v |= (uint64_t)in->pure[n] << (8 * n);
			add_u64(o, "value", v);
		} else if (strcmp(in->value_type, "address") == 0) {
			add_addr(o, "value", in->pure);
		} else if (strcmp(in->value_type, "vector<u8>") == 0) {
			if (pure_bytes(in->pure, in->pure_len, &p, &n) == 0)
				cJSON_AddItemToObject(o, "value", bytes_array_json(p, n));
		} else if (pure_option_string(in, &p, &n) == 0) {
			if (p == NULL) {
				cJSON_AddNullToObject(o, "value");
			} else {
				s = malloc(n + 1);
				if (s != NULL) {
					memcpy(s, p, n);
					s[n] = '\0';
					cJSON_AddStringToObject(o, "value", s);
					free(s);
				}
			}
		}
		break;
	case IN_OWNED:
	case IN_RECEIVING:
		cJSON_AddStringToObject(o, "type", "object");
		cJSON_AddStringToObject(
		    o, "objectType", in->kind == IN_OWNED ? "immOrOwnedObject" : "receiving");
		add_addr(o, "objectId", in->ref.id);
		add_u64(o, "version", in->ref.version);
		add_digest(o, "digest", in->ref.digest);
		break;
	case IN_SHARED:
		cJSON_AddStringToObject(o, "type", "object");
		cJSON_AddStringToObject(o, "objectType", "sharedObject");
		add_addr(o, "objectId", in->shared.id);
		add_u64(o, "initialSharedVersion", in->shared.initial_shared_version);
		cJSON_AddBoolToObject(o, "mutable", in->shared.is_mutable);
		break;
	}
	return o;
}

/* IotaTransaction */
static cJSON *
command_json(const struct dcmd *c)
{
	cJSON *o = cJSON_CreateObject(), *v, *types;
	size_t i;

	switch (c->kind) {
	case IOTA_CMD_MOVE_CALL:
		v = cJSON_AddObjectToObject(o, "MoveCall");
		add_addr(v, "package", c->package);
		cJSON_AddStringToObject(v, "module", c->module);
		cJSON_AddStringToObject(v, "function", c->function);
		if (c->n_types > 0) {
			types = cJSON_AddArrayToObject(v, "type_arguments");
			for (i = 0; i < c->n_types; i++)
				cJSON_AddItemToArray(types, cJSON_CreateString(c->types[i]));
		}
		cJSON_AddItemToObject(v, "arguments", args_json(c->args, c->n_args));
		break;
	case IOTA_CMD_TRANSFER_OBJECTS:
		v = cJSON_AddArrayToObject(o, "TransferObjects");
		cJSON_AddItemToArray(v, args_json(c->args, c->n_args));
		cJSON_AddItemToArray(v, arg_json(&c->target));
		break;
	case IOTA_CMD_SPLIT_COINS:
	case IOTA_CMD_MERGE_COINS:
		v = cJSON_AddArrayToObject(
		    o, c->kind == IOTA_CMD_SPLIT_COINS ? "SplitCoins" : "MergeCoins");
		cJSON_AddItemToArray(v, arg_json(&c->target));
		cJSON_AddItemToArray(v, args_json(c->args, c->n_args));
		break;
	}
	return o;
}

/* TransactionBlockData */
static cJSON *
tx_data_json(const struct dtx *t)
{
	cJSON *d = cJSON_CreateObject(), *k, *arr, *gas;
	size_t i;

	cJSON_AddStringToObject(d, "messageVersion", "v1");
	k = cJSON_AddObjectToObject(d, "transaction");
	cJSON_AddStringToObject(k, "kind", "ProgrammableTransaction");
	arr = cJSON_AddArrayToObject(k, "inputs");
	for (i = 0; i < t->n_inputs; i++)
		cJSON_AddItemToArray(arr, input_json(&t->inputs[i]));
	arr = cJSON_AddArrayToObject(k, "transactions");
	for (i = 0; i < t->n_cmds; i++)
		cJSON_AddItemToArray(arr, command_json(&t->cmds[i]));
	add_addr(d, "sender", t->sender);
	gas = cJSON_AddObjectToObject(d, "gasData");
	arr = cJSON_AddArrayToObject(gas, "payment");
	for (i = 0; i < t->n_gas; i++)
		cJSON_AddItemToArray(
		    arr, ref_json(t->gas[i].id, t->gas[i].version, t->gas[i].digest));
	add_addr(gas, "owner", t->gas_owner);
	add_u64(gas, "price", t->price);
	add_u64(gas, "budget", t->budget);
	return d;
}

/* ------------------------------------------------------------------ checks and execution */

/* Gas coins as a node checks them before signing: they exist, are coins
 * owned by the sender at their current version and digest, appear once;
 * the price and budget are within bounds. */
static int
check_gas(struct node *n, const struct dtx *t, struct rpc_err *e)
{
	char id[IOTA_ADDRESS_TEXT_LEN], who[IOTA_ADDRESS_TEXT_LEN], dg[IOTA_DIGEST_TEXT_LEN];
	char ddg[IOTA_DIGEST_TEXT_LEN];
	uint64_t total = 0, min_budget;
	size_t i, j;

	if (t->n_gas == 0)
		return rpc_fail(e, RPC_TX_REJECTED, "Gas payment is empty: at least one gas coin");
	if (t->has_expiration && t->expiration < n->epoch)
		return rpc_fail(e, RPC_TX_REJECTED, "Transaction Expired");
	for (i = 0; i < t->n_gas; i++) {
		const struct iota_object_ref *g = &t->gas[i];
		const struct object *o = obj_find(n, g->id);

		iota_address_format(id, g->id);
		for (j = 0; j < i; j++)
			if (memcmp(t->gas[j].id, g->id, IOTA_ADDRESS_BYTES) == 0)
				return rpc_fail(e, RPC_TX_REJECTED,
				    "Mutable object %s cannot appear more than once in one "
				    "transaction",
				    id);
		if (o == NULL || o->deleted)
			return rpc_fail(e, RPC_TX_REJECTED,
			    "Could not find the referenced object %s at version %" PRIu64, id,
			    g->version);
		if (o->kind != OBJ_COIN)
			return rpc_fail(e, RPC_TX_REJECTED, "Gas object %s is not a gas coin (%s)",
			    id, o->type);
		if (memcmp(o->owner, t->sender, IOTA_ADDRESS_BYTES) != 0) {
			iota_address_format(who, o->owner);
			iota_address_format(dg, t->sender);
			return rpc_fail(e, RPC_TX_REJECTED,
			    "Object %s is owned by account address %s, but given owner/signer "
			    "address is %s",
			    id, who, dg);
		}
		if (o->version != g->version ||
		    memcmp(o->digest, g->digest, IOTA_DIGEST_BYTES) != 0) {
			iota_digest_format(dg, g->digest);
			iota_digest_format(ddg, o->digest);
			return rpc_fail(e, RPC_TX_REJECTED,
			    "Object %s version %" PRIu64 " digest %s is not available for "
			    "consumption, current version: %" PRIu64 " digest %s",
			    id, g->version, dg, o->version, ddg);
		}
		total += o->balance; /* below the supply: no overflow */
	}
	if (t->price < n->gas_price)
		return rpc_fail(e, RPC_TX_REJECTED,
		    "Gas price %" PRIu64 " under reference gas price (RGP) %" PRIu64, t->price,
		    n->gas_price);
	if (t->price > GAS_PRICE_MAX)
		return rpc_fail(e, RPC_TX_REJECTED,
		    "Gas price %" PRIu64 " higher than the stand-in's max gas price %d", t->price,
		    GAS_PRICE_MAX);
	min_budget = COMPUTATION_UNITS * t->price;
	if (t->budget < min_budget)
		return rpc_fail(e, RPC_TX_REJECTED,
		    "Gas budget: %" PRIu64 " is lower than min: %" PRIu64, t->budget, min_budget);
	if (t->budget > GAS_BUDGET_MAX)
		return rpc_fail(e, RPC_TX_REJECTED,
		    "Gas budget: %" PRIu64 " is higher than max: %llu", t->budget, GAS_BUDGET_MAX);
	if (total < t->budget)
		return rpc_fail(e, RPC_TX_REJECTED,
		    "Balance of gas object %" PRIu64 " is lower than the needed amount: %" PRIu64,
		    total, t->budget);
	return 0;
}

/* The node's validity check on the transaction's inputs, before any
 * object is looked at: sizes compared with a strict `<', as the node does. */
static int
check_validity(const struct dtx *t, struct rpc_err *e)
{
	size_t i;

	if (t->n_gas >= NODE_MAX_GAS_PAYMENT_OBJECTS)
		return rpc_fail(e, RPC_TX_REJECTED,
		    "Size limit exceeded: maximum number of gas payment objects is %d (%zu given)",
		    NODE_MAX_GAS_PAYMENT_OBJECTS, t->n_gas);
	for (i = 0; i < t->n_inputs; i++)
		if (t->inputs[i].kind == IN_PURE &&
		    t->inputs[i].pure_len >= NODE_MAX_PURE_ARGUMENT_SIZE)
			return rpc_fail(e, RPC_TX_REJECTED,
			    "Size limit exceeded: maximum pure argument size is %d (input %zu has "
			    "%zu bytes)",
			    NODE_MAX_PURE_ARGUMENT_SIZE, i, t->inputs[i].pure_len);
	return 0;
}

/* What executing a checked transaction does, before it is applied. */
struct outcome {
	int success;
	char error[512];
	uint64_t computation, storage, rebate, nonrefundable;
	uint64_t charged; /* computation + storage - rebate, or the budget */
	uint64_t spent;   /* charged plus the amount paid on success */
	uint64_t lamport; /* version of everything written */
	uint64_t gas_total, gas_after;
	uint8_t gas_digest[IOTA_DIGEST_BYTES];
	uint8_t new_id[IOTA_ADDRESS_BYTES], new_digest[IOTA_DIGEST_BYTES];
	uint64_t new_bytes;
	uint64_t prev_versions[TX_GAS_MAX];
	uint8_t prev_txs[TX_GAS_MAX][IOTA_DIGEST_BYTES];
	uint64_t clock_version;
	uint8_t clock_digest[IOTA_DIGEST_BYTES];
	uint8_t events_digest[IOTA_DIGEST_BYTES];
};

/* Runs the gas model (see the top of the file). forced: a failure that
 * standin_setMode fail_execute asked for. */
static void
compute(struct node *n, const struct dtx *t, const struct shape *s, int forced, struct outcome *o)
{
	uint64_t prev_storage = 0, gas_store, ok_storage, ok_charged, fail_charged;
	size_t i;
	char pkg[IOTA_ADDRESS_TEXT_LEN];

	memset(o, 0, sizeof(*o));
	for (i = 0; i < t->n_gas; i++) {
		const struct object *g = obj_find(n, t->gas[i].id);

		o->gas_total += g->balance;
		prev_storage += g->storage_cost;
		o->prev_versions[i] = g->version;
		memcpy(o->prev_txs[i], g->prev_tx, IOTA_DIGEST_BYTES);
		if (g->version + 1 > o->lamport)
			o->lamport = g->version + 1;
	}
	o->rebate = prev_storage * REBATE_PERCENT / 100;
	o->nonrefundable = prev_storage - o->rebate;
	o->computation = COMPUTATION_UNITS * t->price; /* price <= GAS_PRICE_MAX */
	gas_store = STORAGE_PER_BYTE * (OBJECT_OVERHEAD + COIN_PAYLOAD);
	if (s->kind == SHAPE_PAYMENT)
		o->new_bytes = OBJECT_OVERHEAD + COIN_PAYLOAD;
	else
		o->new_bytes = OBJECT_OVERHEAD + s->data_len + s->desc_len;
	ok_storage = gas_store + STORAGE_PER_BYTE * o->new_bytes;
	/* With one gas coin the rebate is below the storage. With many, the
	 * deleted coins' rebates can exceed what is charged: the net charge
	 * is then 0 here (a real node refunds the difference). The budget is
	 * held against the net charge, as the SDK's budget formula assumes. */
	ok_charged = o->computation + ok_storage > o->rebate ?
	    o->computation + ok_storage - o->rebate :
	    0;
	fail_charged = o->computation + gas_store > o->rebate ?
	    o->computation + gas_store - o->rebate :
	    0;

	random_bytes(o->gas_digest, sizeof(o->gas_digest));
	random_bytes(o->new_id, sizeof(o->new_id));
	random_bytes(o->new_digest, sizeof(o->new_digest));
	random_bytes(o->clock_digest, sizeof(o->clock_digest));
	random_bytes(o->events_digest, sizeof(o->events_digest));
	o->clock_version = n->checkpoint + 1;

	o->success = 0;
	o->storage = gas_store;
	o->charged = fail_charged;
	if (forced) {
		if (s->kind == SHAPE_PAYMENT) {
			snprintf(
			    o->error, sizeof(o->error), "InsufficientCoinBalance in command 0");
		} else {
			iota_address_format(pkg, s->package);
			snprintf(o->error, sizeof(o->error),
			    "MoveAbort(MoveLocation { module: ModuleId { address: %s, name: "
			    "Identifier(\"locked_notarization\") }, function: 0, instruction: 0, "
			    "function_name: Some(\"create\") }, 0) in command 2",
			    pkg + 2);
		}
	} else if (ok_charged > t->budget) {
		snprintf(o->error, sizeof(o->error), "InsufficientGas");
		o->charged = t->budget;
		if (t->budget + o->rebate >= gas_store) {
			o->computation = t->budget + o->rebate - gas_store;
		} else {
			o->computation = 0;
			o->storage = t->budget + o->rebate;
		}
	} else if (s->kind == SHAPE_PAYMENT &&
	           (s->amount > o->gas_total || o->gas_total - s->amount < ok_charged)) {
		snprintf(o->error, sizeof(o->error), "InsufficientCoinBalance in command 0");
	} else if (o->gas_total < ok_charged) {
		snprintf(o->error, sizeof(o->error), "InsufficientCoinBalance");
	} else {
		o->success = 1;
		o->storage = ok_storage;
		o->charged = ok_charged;
	}
	o->spent = o->charged + (o->success && s->kind == SHAPE_PAYMENT ? s->amount : 0);
	o->gas_after = o->gas_total - o->spent; /* charged <= budget <= gas_total */
}

static void
notarization_type(char *out, size_t cap, const uint8_t pkg[IOTA_ADDRESS_BYTES], const char *what)
{
	char a[IOTA_ADDRESS_TEXT_LEN];

	iota_address_format(a, pkg);
	snprintf(out, cap, "%s::%s", a, what);
}

/* The deleted-object digest a node reports: 32 bytes of 99. */
static void
deleted_digest(uint8_t d[IOTA_DIGEST_BYTES])
{
	memset(d, 99, IOTA_DIGEST_BYTES);
}

/* TransactionEffects */
static cJSON *
effects_json(const struct dtx *t, const struct shape *s, const struct outcome *o)
{
	cJSON *fx = cJSON_CreateObject(), *st, *g, *arr, *mv;
	uint8_t del[IOTA_DIGEST_BYTES];
	const uint8_t *recipient;
	size_t i, j;

	cJSON_AddStringToObject(fx, "messageVersion", "v1");
	st = cJSON_AddObjectToObject(fx, "status");
	cJSON_AddStringToObject(st, "status", o->success ? "success" : "failure");
	if (!o->success)
		cJSON_AddStringToObject(st, "error", o->error);
	add_u64(fx, "executedEpoch", CURRENT_EPOCH);
	g = cJSON_AddObjectToObject(fx, "gasUsed");
	add_u64(g, "computationCost", o->computation);
	add_u64(g, "computationCostBurned", o->computation);
	add_u64(g, "storageCost", o->storage);
	add_u64(g, "storageRebate", o->rebate);
	add_u64(g, "nonRefundableStorageFee", o->nonrefundable);
	arr = cJSON_AddArrayToObject(fx, "modifiedAtVersions");
	for (i = 0; i < t->n_gas; i++) {
		mv = cJSON_CreateObject();
		add_addr(mv, "objectId", t->gas[i].id);
		add_u64(mv, "sequenceNumber", o->prev_versions[i]);
		cJSON_AddItemToArray(arr, mv);
	}
	if (s->kind == SHAPE_NOTARIZE) {
		static const uint8_t clock[IOTA_ADDRESS_BYTES] = { [IOTA_ADDRESS_BYTES - 1] = 6 };

		arr = cJSON_AddArrayToObject(fx, "sharedObjects");
		cJSON_AddItemToArray(arr, ref_json(clock, o->clock_version, o->clock_digest));
	}
	add_digest(fx, "transactionDigest", t->digest);
	if (o->success) {
		recipient = s->kind == SHAPE_PAYMENT ? s->recipient : t->sender;
		arr = cJSON_AddArrayToObject(fx, "created");
		cJSON_AddItemToArray(
		    arr, owned_ref_json(recipient, o->new_id, o->lamport, o->new_digest));
	}
	arr = cJSON_AddArrayToObject(fx, "mutated");
	cJSON_AddItemToArray(
	    arr, owned_ref_json(t->sender, t->gas[0].id, o->lamport, o->gas_digest));
	if (t->n_gas > 1) {
		deleted_digest(del);
		arr = cJSON_AddArrayToObject(fx, "deleted");
		for (i = 1; i < t->n_gas; i++)
			cJSON_AddItemToArray(arr, ref_json(t->gas[i].id, o->lamport, del));
	}
	cJSON_AddItemToObject(
	    fx, "gasObject", owned_ref_json(t->sender, t->gas[0].id, o->lamport, o->gas_digest));
	if (o->success && s->kind == SHAPE_NOTARIZE)
		add_digest(fx, "eventsDigest", o->events_digest);
	arr = cJSON_AddArrayToObject(fx, "dependencies");
	for (i = 0; i < t->n_gas; i++) {
		for (j = 0; j < i; j++)
			if (memcmp(o->prev_txs[i], o->prev_txs[j], IOTA_DIGEST_BYTES) == 0)
				break;
		if (j == i)
			cJSON_AddItemToArray(arr, digest_json(o->prev_txs[i]));
	}
	return fx;
}

static cJSON *
balance_change(const uint8_t owner[IOTA_ADDRESS_BYTES], int negative, uint64_t amount)
{
	cJSON *c = cJSON_CreateObject();
	char t[SDPP_MONEY_LEN + 1];

	cJSON_AddItemToObject(c, "owner", owner_json(owner));
	cJSON_AddStringToObject(c, "coinType", COIN_TYPE);
	t[0] = '-';
	u64_text(t + (negative ? 1 : 0), amount);
	cJSON_AddStringToObject(c, "amount", t);
	return c;
}

/* BalanceChange[]: the sender pays, the recipient receives; zeros left out. */
static cJSON *
balance_changes_json(const struct dtx *t, const struct shape *s, const struct outcome *o)
{
	cJSON *arr = cJSON_CreateArray();
	int paid = o->success && s->kind == SHAPE_PAYMENT;
	int self = paid && memcmp(s->recipient, t->sender, IOTA_ADDRESS_BYTES) == 0;
	uint64_t out = self ? o->charged : o->spent;

	if (out > 0)
		cJSON_AddItemToArray(arr, balance_change(t->sender, 1, out));
	if (paid && !self && s->amount > 0)
		cJSON_AddItemToArray(arr, balance_change(s->recipient, 0, s->amount));
	return arr;
}

/* IotaObjectChange[] */
static cJSON *
object_changes_json(const struct dtx *t, const struct shape *s, const struct outcome *o)
{
	cJSON *arr = cJSON_CreateArray(), *c;
	char type[256];
	size_t i;

	c = cJSON_CreateObject();
	cJSON_AddStringToObject(c, "type", "mutated");
	add_addr(c, "sender", t->sender);
	cJSON_AddItemToObject(c, "owner", owner_json(t->sender));
	cJSON_AddStringToObject(c, "objectType", COIN_OBJECT_TYPE);
	add_addr(c, "objectId", t->gas[0].id);
	add_u64(c, "version", o->lamport);
	add_u64(c, "previousVersion", o->prev_versions[0]);
	add_digest(c, "digest", o->gas_digest);
	cJSON_AddItemToArray(arr, c);
	if (o->success) {
		c = cJSON_CreateObject();
		cJSON_AddStringToObject(c, "type", "created");
		add_addr(c, "sender", t->sender);
		if (s->kind == SHAPE_PAYMENT) {
			cJSON_AddItemToObject(c, "owner", owner_json(s->recipient));
			cJSON_AddStringToObject(c, "objectType", COIN_OBJECT_TYPE);
		} else {
			cJSON_AddItemToObject(c, "owner", owner_json(t->sender));
			notarization_type(type, sizeof(type), s->package,
			    "notarization::Notarization<vector<u8>>");
			cJSON_AddStringToObject(c, "objectType", type);
		}
		add_addr(c, "objectId", o->new_id);
		add_u64(c, "version", o->lamport);
		add_digest(c, "digest", o->new_digest);
		cJSON_AddItemToArray(arr, c);
	}
	for (i = 1; i < t->n_gas; i++) {
		c = cJSON_CreateObject();
		cJSON_AddStringToObject(c, "type", "deleted");
		add_addr(c, "sender", t->sender);
		cJSON_AddStringToObject(c, "objectType", COIN_OBJECT_TYPE);
		add_addr(c, "objectId", t->gas[i].id);
		add_u64(c, "version", o->lamport);
		cJSON_AddItemToArray(arr, c);
	}
	return arr;
}

/* IotaEvent[]: LockedNotarizationCreated for a notarization. */
static cJSON *
events_json(const struct dtx *t, const struct shape *s, const struct outcome *o)
{
	cJSON *arr = cJSON_CreateArray(), *ev, *id, *pj;
	char type[256];

	if (!o->success || s->kind != SHAPE_NOTARIZE)
		return arr;
	ev = cJSON_CreateObject();
	id = cJSON_AddObjectToObject(ev, "id");
	add_digest(id, "txDigest", t->digest);
	cJSON_AddStringToObject(id, "eventSeq", "0");
	add_addr(ev, "packageId", s->package);
	cJSON_AddStringToObject(ev, "transactionModule", "locked_notarization");
	add_addr(ev, "sender", t->sender);
	notarization_type(
	    type, sizeof(type), s->package, "locked_notarization::LockedNotarizationCreated");
	cJSON_AddStringToObject(ev, "type", type);
	pj = cJSON_AddObjectToObject(ev, "parsedJson");
	add_addr(pj, "notarization_id", o->new_id);
	/* The event's BCS is the 32-byte ID; base58 as the node sends it. */
	cJSON_AddStringToObject(ev, "bcsEncoding", "base58");
	add_digest(ev, "bcs", o->new_id);
	cJSON_AddItemToArray(arr, ev);
	return arr;
}

static char *
hex_of(const uint8_t *p, size_t n)
{
	char *s = malloc(SDPP_HEX_LEN(n));

	if (s != NULL)
		sdpp_hex_encode(s, p, n);
	return s;
}

static char *
str_of(const uint8_t *p, size_t n)
{
	char *s = malloc(n + 1);

	if (s != NULL) {
		memcpy(s, p, n);
		s[n] = '\0';
	}
	return s;
}

/* Index lag: keeps the gas coins' state before this transaction, and the id
 * of the object it creates, for the next index_lag coin listings. */
static int
lag_capture(struct node *n, const struct dtx *t, const struct outcome *o, struct rpc_err *e)
{
	struct lag_coin *l;
	size_t i;

	l = calloc(t->n_gas + 1, sizeof(*l));
	if (l == NULL)
		return rpc_fail(e, RPC_INTERNAL, "out of memory");
	for (i = 0; i < t->n_gas; i++) {
		const struct object *g = obj_find(n, t->gas[i].id);

		memcpy(l[i].id, g->id, IOTA_ADDRESS_BYTES);
		l[i].version = g->version;
		l[i].balance = g->balance;
		memcpy(l[i].digest, g->digest, IOTA_DIGEST_BYTES);
		memcpy(l[i].prev_tx, g->prev_tx, IOTA_DIGEST_BYTES);
		l[i].deleted = g->deleted;
	}
	memcpy(l[i].id, o->new_id, IOTA_ADDRESS_BYTES);
	l[i].created = o->success;
	free(n->lag);
	n->lag = l;
	n->n_lag = t->n_gas + 1;
	n->lag_left = n->index_lag;
	return 0;
}

/* The object as the index shows it now: *o itself, or a copy in view with
 * its state before the last transaction; NULL when the index has not seen
 * it yet. */
static const struct object *
lag_view(const struct node *n, const struct object *o, struct object *view)
{
	size_t i;

	if (n->lag_left == 0)
		return o;
	for (i = 0; i < n->n_lag; i++) {
		const struct lag_coin *l = &n->lag[i];

		if (memcmp(l->id, o->id, IOTA_ADDRESS_BYTES) != 0)
			continue;
		if (l->created)
			return NULL;
		*view = *o;
		view->version = l->version;
		view->balance = l->balance;
		memcpy(view->digest, l->digest, IOTA_DIGEST_BYTES);
		memcpy(view->prev_tx, l->prev_tx, IOTA_DIGEST_BYTES);
		view->deleted = l->deleted;
		return view;
	}
	return o;
}

/* Makes the outcome real: gas coins merged and charged, new objects, the
 * stored response and the stats. 0 or -1 (out of memory). */
static int
apply(struct node *n, const struct dtx *t, const struct shape *s, const struct outcome *o,
    cJSON *resp, struct rpc_err *e)
{
	struct object *g, *c;
	struct txrec *r;
	cJSON *rec;
	char type[256];
	size_t i;

	if (n->n_txs == n->cap_txs) {
		size_t cap = n->cap_txs ? n->cap_txs * 2 : 64;
		struct txrec *p;

		if (n->n_txs >= TX_STORE_MAX)
			return rpc_fail(e, RPC_INTERNAL,
			    "the stand-in keeps %d transactions at most", TX_STORE_MAX);
		p = realloc(n->txs, cap * sizeof(*p));
		if (p == NULL)
			return rpc_fail(e, RPC_INTERNAL, "out of memory");
		n->txs = p;
		n->cap_txs = cap;
	}
	if (n->index_lag > 0 && lag_capture(n, t, o, e) != 0)
		return -1;
	if (o->success) {
		c = obj_new(n); /* before taking pointers: it may move them */
		if (c == NULL)
			return rpc_fail(e, RPC_INTERNAL, "out of memory");
		memcpy(c->id, o->new_id, IOTA_ADDRESS_BYTES);
		memcpy(c->digest, o->new_digest, IOTA_DIGEST_BYTES);
		c->version = o->lamport;
		memcpy(c->prev_tx, t->digest, IOTA_DIGEST_BYTES);
		c->storage_cost = STORAGE_PER_BYTE * o->new_bytes;
		if (s->kind == SHAPE_PAYMENT) {
			c->kind = OBJ_COIN;
			c->balance = s->amount;
			memcpy(c->owner, s->recipient, IOTA_ADDRESS_BYTES);
		} else {
			c->kind = OBJ_NOTARIZATION;
			memcpy(c->owner, t->sender, IOTA_ADDRESS_BYTES);
			notarization_type(type, sizeof(type), s->package,
			    "notarization::Notarization<vector<u8>>");
			c->type = strdup(type);
			c->data_hex = hex_of(s->data, s->data_len);
			if (s->desc != NULL)
				c->description = str_of(s->desc, s->desc_len);
		}
	}
	for (i = 1; i < t->n_gas; i++) {
		g = obj_find(n, t->gas[i].id);
		g->deleted = 1;
		g->balance = 0;
		g->version = o->lamport;
		deleted_digest(g->digest);
		memcpy(g->prev_tx, t->digest, IOTA_DIGEST_BYTES);
	}
	g = obj_find(n, t->gas[0].id);
	g->balance = o->gas_after;
	g->version = o->lamport;
	memcpy(g->digest, o->gas_digest, IOTA_DIGEST_BYTES);
	memcpy(g->prev_tx, t->digest, IOTA_DIGEST_BYTES);
	g->storage_cost = STORAGE_PER_BYTE * (OBJECT_OVERHEAD + COIN_PAYLOAD);
	n->supply -= o->charged; /* gas leaves circulation; the amount moves */

	r = &n->txs[n->n_txs++];
	memcpy(r->digest, t->digest, IOTA_DIGEST_BYTES);
	r->resp = resp;
	n->checkpoint++;

	rec = cJSON_CreateObject();
	add_digest(rec, "digest", t->digest);
	add_addr(rec, "sender", t->sender);
	if (s->kind == SHAPE_PAYMENT) {
		add_addr(rec, "recipient", s->recipient);
		add_u64(rec, "amount", s->amount);
		cJSON_AddStringToObject(rec, "status", o->success ? "success" : "failure");
		cJSON_AddItemToArray(n->payments, rec);
	} else if (o->success) {
		char *hex = hex_of(s->data, s->data_len), *d = NULL;

		cJSON_AddStringToObject(rec, "data_hex", hex != NULL ? hex : "");
		if (s->desc != NULL) {
			d = str_of(s->desc, s->desc_len);
			cJSON_AddStringToObject(rec, "description", d != NULL ? d : "");
		} else {
			cJSON_AddNullToObject(rec, "description");
		}
		cJSON_AddStringToObject(rec, "status", "success");
		cJSON_AddItemToArray(n->notarizations, rec);
		free(hex);
		free(d);
	} else {
		cJSON_Delete(rec);
	}
	return 0;
}

/* ------------------------------------------------------------------ JSON-RPC parameters */

static int
check_param_count(const cJSON *params, int max, struct rpc_err *e)
{
	int k = cJSON_GetArraySize(params);

	if (k > max)
		return rpc_fail(e, RPC_INVALID_PARAMS,
		    "Invalid params: %d parameters, the method takes at most %d", k, max);
	return 0;
}

/* The i-th parameter; NULL when absent or JSON null. */
static const cJSON *
param(const cJSON *params, int i)
{
	const cJSON *p = cJSON_GetArrayItem(params, i);

	return (p == NULL || cJSON_IsNull(p)) ? NULL : p;
}

static int
param_address(const cJSON *params, int i, const char *name, uint8_t out[IOTA_ADDRESS_BYTES],
    struct rpc_err *e)
{
	const cJSON *p = param(params, i);

	if (p == NULL)
		return rpc_fail(e, RPC_INVALID_PARAMS, "Invalid params: %s is required", name);
	if (!cJSON_IsString(p) || iota_address_parse(out, p->valuestring) != 0)
		return rpc_fail(e, RPC_INVALID_PARAMS,
		    "Invalid params: %s is not an address (0x and 64 hex digits): `%.80s'", name,
		    cJSON_IsString(p) ? p->valuestring : "(not a string)");
	return 0;
}

/* An optional JSON object of options: NULL when absent. */
static int
param_options(const cJSON *params, int i, const cJSON **out, struct rpc_err *e)
{
	const cJSON *p = param(params, i);

	if (p != NULL && !cJSON_IsObject(p))
		return rpc_fail(e, RPC_INVALID_PARAMS,
		    "Invalid params: parameter %d (options) is not an object or null", i + 1);
	*out = p;
	return 0;
}

static int
option_on(const cJSON *opts, const char *name)
{
	return opts != NULL && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(opts, name));
}

/* A whole number in [min, max] (JSON number or decimal string). */
static int
param_uint(
    const cJSON *p, const char *name, uint64_t min, uint64_t max, uint64_t *v, struct rpc_err *e)
{
	if (cJSON_IsNumber(p) && p->valuedouble >= 0 && p->valuedouble <= 9007199254740991.0 &&
	    p->valuedouble == (double)(uint64_t)p->valuedouble) {
		*v = (uint64_t)p->valuedouble;
	} else if (!cJSON_IsString(p) || sdpp_money_parse(v, p->valuestring) != SDPP_OK) {
		return rpc_fail(
		    e, RPC_INVALID_PARAMS, "Invalid params: %s is not a whole number", name);
	}
	if (*v < min || *v > max)
		return rpc_fail(e, RPC_INVALID_PARAMS,
		    "Invalid params: %s is %" PRIu64 ", not %" PRIu64 " to %" PRIu64, name, *v, min,
		    max);
	return 0;
}

static int
coin_type_ok(const cJSON *params, int i, int *is_iota, struct rpc_err *e)
{
	const cJSON *p = param(params, i);

	*is_iota = 1;
	if (p == NULL)
		return 0;
	if (!cJSON_IsString(p))
		return rpc_fail(e, RPC_INVALID_PARAMS, "Invalid params: coinType is not a string");
	*is_iota =
	    strcmp(p->valuestring, COIN_TYPE) == 0 || strcmp(p->valuestring, COIN_TYPE_LONG) == 0;
	return 0;
}

/* Base64 parameter decoded into a fresh buffer (caller frees). */
static int
param_b64(
    const cJSON *p, const char *name, size_t cap, uint8_t **out, size_t *len, struct rpc_err *e)
{
	size_t tl;

	if (p == NULL || !cJSON_IsString(p))
		return rpc_fail(
		    e, RPC_INVALID_PARAMS, "Invalid params: %s is not a base64 string", name);
	tl = strlen(p->valuestring);
	if (tl > SDPP_B64_LEN(cap))
		return rpc_fail(e, RPC_INVALID_PARAMS,
		    "Invalid params: %s is longer than %zu bytes", name, cap);
	*out = malloc(cap ? cap : 1);
	if (*out == NULL)
		return rpc_fail(e, RPC_INTERNAL, "out of memory");
	if (sdpp_b64_decode(*out, cap, len, p->valuestring, tl) != SDPP_OK) {
		free(*out);
		*out = NULL;
		return rpc_fail(e, RPC_INVALID_PARAMS,
		    "Invalid params: %s is not valid base64 (or longer than %zu bytes)", name, cap);
	}
	return 0;
}

/* ------------------------------------------------------------------ methods */

typedef int (*method_fn)(struct node *, const cJSON *, cJSON **, struct rpc_err *);

static int
m_gas_price(struct node *n, const cJSON *params, cJSON **res, struct rpc_err *e)
{
	char t[SDPP_MONEY_LEN];

	if (check_param_count(params, 0, e) != 0)
		return -1;
	u64_text(t, n->gas_price);
	*res = cJSON_CreateString(t);
	return 0;
}

static cJSON *
coin_json(const struct object *o)
{
	cJSON *c = cJSON_CreateObject();

	cJSON_AddStringToObject(c, "coinType", COIN_TYPE);
	add_addr(c, "coinObjectId", o->id);
	add_u64(c, "version", o->version);
	add_digest(c, "digest", o->digest);
	add_u64(c, "balance", o->balance);
	add_digest(c, "previousTransaction", o->prev_tx);
	return c;
}

static int
live_coin_of(const struct object *o, const uint8_t owner[IOTA_ADDRESS_BYTES])
{
	return o->kind == OBJ_COIN && !o->deleted &&
	       memcmp(o->owner, owner, IOTA_ADDRESS_BYTES) == 0;
}

static int
id_cmp(const void *a, const void *b)
{
	const struct object *const *x = a, *const *y = b;

	return memcmp((*x)->id, (*y)->id, IOTA_ADDRESS_BYTES);
}

/* Pages by object id: the cursor is the last id returned, the next page
 * starts above it, so coins created or spent in between do not shift it. */
static int
m_get_coins(struct node *n, const cJSON *params, cJSON **res, struct rpc_err *e)
{
	uint8_t owner[IOTA_ADDRESS_BYTES], cursor[IOTA_ADDRESS_BYTES];
	const struct object **all;
	struct object *views;
	const cJSON *p;
	uint64_t limit = PAGE_MAX;
	size_t k = 0, nv = 0, i;
	int has_cursor = 0, is_iota;
	cJSON *data;

	if (check_param_count(params, 4, e) != 0 ||
	    param_address(params, 0, "owner", owner, e) != 0 ||
	    coin_type_ok(params, 1, &is_iota, e) != 0)
		return -1;
	p = param(params, 2);
	if (p != NULL) {
		if (!cJSON_IsString(p) || iota_address_parse(cursor, p->valuestring) != 0)
			return rpc_fail(e, RPC_INVALID_PARAMS,
			    "Invalid params: cursor is not an object id (0x and 64 hex digits)");
		has_cursor = 1;
	}
	p = param(params, 3);
	if (p != NULL && param_uint(p, "limit", 1, UINT32_MAX, &limit, e) != 0)
		return -1;
	if (limit > PAGE_MAX)
		limit = PAGE_MAX;
	all = calloc(n->n_objs + 1, sizeof(*all));
	views = calloc(n->n_lag + 1, sizeof(*views));
	if (all == NULL || views == NULL) {
		free(all);
		free(views);
		return rpc_fail(e, RPC_INTERNAL, "out of memory");
	}
	for (i = 0; is_iota && i < n->n_objs; i++) {
		const struct object *o = lag_view(n, &n->objs[i], &views[nv]);

		if (o == &views[nv])
			nv++;
		if (o != NULL && live_coin_of(o, owner) &&
		    !(has_cursor && memcmp(o->id, cursor, IOTA_ADDRESS_BYTES) <= 0))
			all[k++] = o;
	}
	if (n->lag_left > 0)
		n->lag_left--;
	qsort(all, k, sizeof(*all), id_cmp);
	*res = cJSON_CreateObject();
	data = cJSON_AddArrayToObject(*res, "data");
	for (i = 0; i < k && i < limit; i++)
		cJSON_AddItemToArray(data, coin_json(all[i]));
	cJSON_AddBoolToObject(*res, "hasNextPage", k > limit);
	if (i > 0)
		add_addr(*res, "nextCursor", all[i - 1]->id);
	else
		cJSON_AddNullToObject(*res, "nextCursor");
	free(all);
	free(views);
	return 0;
}

static int
m_get_balance(struct node *n, const cJSON *params, cJSON **res, struct rpc_err *e)
{
	uint8_t owner[IOTA_ADDRESS_BYTES];
	uint64_t total = 0, count = 0;
	int is_iota;
	size_t i;

	if (check_param_count(params, 2, e) != 0 ||
	    param_address(params, 0, "owner", owner, e) != 0 ||
	    coin_type_ok(params, 1, &is_iota, e) != 0)
		return -1;
	for (i = 0; is_iota && i < n->n_objs; i++) {
		if (live_coin_of(&n->objs[i], owner)) {
			total += n->objs[i].balance;
			count++;
		}
	}
	*res = cJSON_CreateObject();
	cJSON_AddStringToObject(*res, "coinType", COIN_TYPE);
	cJSON_AddNumberToObject(*res, "coinObjectCount", (double)count);
	add_u64(*res, "totalBalance", total);
	return 0;
}

/* The stored response with only what the options ask for. */
static cJSON *
filtered(const cJSON *stored, const cJSON *opts, int for_execute)
{
	static const struct {
		const char *field, *option;
	} parts[] = {
		{ "transaction", "showInput" },
		{ "effects", "showEffects" },
		{ "events", NULL },
		{ "objectChanges", "showObjectChanges" },
		{ "balanceChanges", "showBalanceChanges" },
		{ "timestampMs", "" },
		{ "checkpoint", "" },
	};
	cJSON *out = cJSON_CreateObject();
	const cJSON *v;
	size_t i;

	cJSON_AddItemToObject(
	    out, "digest", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(stored, "digest"), 1));
	for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		if (parts[i].option != NULL && parts[i].option[0] != '\0' &&
		    !option_on(opts, parts[i].option))
			continue;
		/* A node's execute answer has no timestamp or checkpoint. */
		if (parts[i].option != NULL && parts[i].option[0] == '\0' && for_execute)
			continue;
		v = cJSON_GetObjectItemCaseSensitive(stored, parts[i].field);
		if (v != NULL)
			cJSON_AddItemToObject(out, parts[i].field, cJSON_Duplicate(v, 1));
	}
	return out;
}

/* Decodes, checks and runs a transaction; `execute` applies it. The
 * response (stored form) in *resp. */
static int
run_tx(struct node *n, const cJSON *params, int execute, cJSON **resp, struct dtx **out,
    struct rpc_err *e)
{
	uint8_t *bytes = NULL, *sig = NULL, pub_addr[IOTA_ADDRESS_BYTES];
	uint8_t intent[IOTA_DIGEST_BYTES];
	char a1[IOTA_ADDRESS_TEXT_LEN], a2[IOTA_ADDRESS_TEXT_LEN];
	size_t len = 0, sig_len = 0;
	const cJSON *sigs, *s0 = NULL;
	struct dtx *t = NULL;
	struct shape s;
	struct outcome o;
	struct txrec *done;
	cJSON *r = NULL, *tx;
	int forced = 0;

	*resp = NULL;
	*out = NULL;
	if (param_b64(param(params, 0), "txBytes", IOTA_TX_MAX_BYTES, &bytes, &len, e) != 0)
		return -1;
	t = dtx_decode(bytes, len, e); /* takes bytes */
	if (t == NULL)
		return -1;
	if (execute) {
		sigs = param(params, 1);
		if (!cJSON_IsArray(sigs) || cJSON_GetArraySize(sigs) != 1) {
			rpc_fail(e, RPC_INVALID_PARAMS,
			    "Invalid params: signatures must be an array of one base64 signature "
			    "(the stand-in takes no multisig or sponsor)");
			goto fail;
		}
		s0 = cJSON_GetArrayItem(sigs, 0);
		if (param_b64(s0, "signature", IOTA_SIGNATURE_BYTES + 1, &sig, &sig_len, e) != 0)
			goto fail;
		if (sig_len != IOTA_SIGNATURE_BYTES) {
			rpc_fail(e, RPC_TX_REJECTED,
			    "Invalid user signature: %zu bytes, not %d (flag, signature, public "
			    "key)",
			    sig_len, IOTA_SIGNATURE_BYTES);
			goto fail;
		}
		if (sig[0] != 0) {
			rpc_fail(e, RPC_TX_REJECTED,
			    "Invalid user signature: scheme flag 0x%02x; the stand-in verifies "
			    "Ed25519 (0x00) only",
			    sig[0]);
			goto fail;
		}
		if (iota_address_from_public(pub_addr, sig + 1 + SDPP_SIGN_BYTES) != IOTA_OK ||
		    iota_intent_digest(intent, t->bytes, t->len) != IOTA_OK) {
			rpc_fail(e, RPC_INTERNAL, "hashing failed");
			goto fail;
		}
		if (memcmp(pub_addr, t->sender, IOTA_ADDRESS_BYTES) != 0) {
			iota_address_format(a1, pub_addr);
			iota_address_format(a2, t->sender);
			rpc_fail(e, RPC_TX_REJECTED,
			    "Invalid user signature: the signer's address %s is not the sender %s",
			    a1, a2);
			goto fail;
		}
		if (sdpp_verify_raw(sig + 1 + SDPP_SIGN_BYTES, intent, sizeof(intent), sig + 1,
		        SDPP_SIGN_BYTES) != SDPP_OK) {
			rpc_fail(e, RPC_TX_REJECTED,
			    "Invalid user signature: the Ed25519 signature does not verify over "
			    "the transaction's intent digest");
			goto fail;
		}
		done = tx_find(n, t->digest);
		if (done != NULL) { /* a node answers a repeat with what happened */
			*resp = done->resp;
			*out = t;
			free(sig);
			return 1;
		}
	}
	if (check_validity(t, e) != 0 || match_shape(t, &s, e) != 0 || check_gas(n, t, e) != 0)
		goto fail;
	if (execute && n->fail_execute > 0) {
		n->fail_execute--;
		forced = 1;
	}
	compute(n, t, &s, forced, &o);

	r = cJSON_CreateObject();
	add_digest(r, "digest", t->digest);
	tx = cJSON_AddObjectToObject(r, "transaction");
	cJSON_AddItemToObject(tx, "data", tx_data_json(t));
	if (execute)
		cJSON_AddItemToArray(
		    cJSON_AddArrayToObject(tx, "txSignatures"), cJSON_Duplicate(s0, 1));
	cJSON_AddItemToObject(r, "effects", effects_json(t, &s, &o));
	cJSON_AddItemToObject(r, "events", events_json(t, &s, &o));
	cJSON_AddItemToObject(r, "objectChanges", object_changes_json(t, &s, &o));
	cJSON_AddItemToObject(r, "balanceChanges", balance_changes_json(t, &s, &o));
	add_u64(r, "timestampMs", now_ms());
	add_u64(r, "checkpoint", n->checkpoint + 1);
	if (execute && apply(n, t, &s, &o, r, e) != 0)
		goto fail;
	free(sig);
	*resp = r;
	*out = t;
	return 0;
fail:
	cJSON_Delete(r);
	free(sig);
	dtx_free(t);
	return -1;
}

static int
m_dry_run(struct node *n, const cJSON *params, cJSON **res, struct rpc_err *e)
{
	struct dtx *t;
	cJSON *r, *data;

	if (check_param_count(params, 1, e) != 0 || run_tx(n, params, 0, &r, &t, e) < 0)
		return -1;
	*res = cJSON_CreateObject();
	cJSON_AddItemToObject(*res, "effects", cJSON_DetachItemFromObject(r, "effects"));
	cJSON_AddItemToObject(*res, "events", cJSON_DetachItemFromObject(r, "events"));
	cJSON_AddItemToObject(
	    *res, "objectChanges", cJSON_DetachItemFromObject(r, "objectChanges"));
	cJSON_AddItemToObject(
	    *res, "balanceChanges", cJSON_DetachItemFromObject(r, "balanceChanges"));
	data =
	    cJSON_DetachItemFromObject(cJSON_GetObjectItemCaseSensitive(r, "transaction"), "data");
	cJSON_AddItemToObject(*res, "input", data);
	cJSON_Delete(r);
	dtx_free(t);
	return 0;
}

static int
m_execute(struct node *n, const cJSON *params, cJSON **res, struct rpc_err *e)
{
	const cJSON *opts = NULL, *rt;
	struct dtx *t;
	cJSON *r;
	int wait_cert = 0;

	if (check_param_count(params, 4, e) != 0 || param_options(params, 2, &opts, e) != 0)
		return -1;
	rt = param(params, 3);
	if (rt != NULL) {
		if (!cJSON_IsString(rt) || (strcmp(rt->valuestring, "WaitForLocalExecution") != 0 &&
		                               strcmp(rt->valuestring, "WaitForEffectsCert") != 0))
			return rpc_fail(e, RPC_INVALID_PARAMS,
			    "Invalid params: requestType is not WaitForEffectsCert or "
			    "WaitForLocalExecution");
		wait_cert = strcmp(rt->valuestring, "WaitForEffectsCert") == 0;
	}
	if (run_tx(n, params, 1, &r, &t, e) < 0)
		return -1;
	*res = filtered(r, opts, 1);
	cJSON_AddBoolToObject(*res, "confirmedLocalExecution", !wait_cert);
	dtx_free(t);
	return 0;
}

static int
m_get_tx(struct node *n, const cJSON *params, cJSON **res, struct rpc_err *e)
{
	const cJSON *p = param(params, 0), *opts = NULL;
	uint8_t digest[IOTA_DIGEST_BYTES];
	struct txrec *r;

	if (check_param_count(params, 2, e) != 0 || param_options(params, 1, &opts, e) != 0)
		return -1;
	if (!cJSON_IsString(p) || iota_digest_parse(digest, p->valuestring) != 0)
		return rpc_fail(e, RPC_INVALID_PARAMS,
		    "Invalid params: digest is not a transaction digest (base58 of 32 bytes)");
	r = tx_find(n, digest);
	if (r == NULL)
		return rpc_fail(e, RPC_INVALID_PARAMS,
		    "Could not find the referenced transaction [TransactionDigest(%s)].",
		    p->valuestring);
	*res = filtered(r->resp, opts, 0);
	return 0;
}

static int
m_get_object(struct node *n, const cJSON *params, cJSON **res, struct rpc_err *e)
{
	uint8_t id[IOTA_ADDRESS_BYTES], zero[IOTA_DIGEST_BYTES] = { 0 };
	const struct object *o;
	const cJSON *opts = NULL;
	cJSON *d, *err, *c, *f, *own;

	if (check_param_count(params, 2, e) != 0 ||
	    param_address(params, 0, "object id", id, e) != 0 ||
	    param_options(params, 1, &opts, e) != 0)
		return -1;
	*res = cJSON_CreateObject();
	if (is_clock(id)) {
		d = cJSON_AddObjectToObject(*res, "data");
		add_addr(d, "objectId", id);
		add_u64(d, "version", n->checkpoint + 1);
		add_digest(d, "digest", zero);
		cJSON_AddStringToObject(d, "type", "0x2::clock::Clock");
		own = cJSON_AddObjectToObject(d, "owner");
		cJSON_AddStringToObject(
		    cJSON_AddObjectToObject(own, "Shared"), "initial_shared_version", "1");
		return 0;
	}
	o = obj_find(n, id);
	if (o == NULL) {
		err = cJSON_AddObjectToObject(*res, "error");
		cJSON_AddStringToObject(err, "code", "notExists");
		add_addr(err, "object_id", id);
		return 0;
	}
	if (o->deleted) {
		err = cJSON_AddObjectToObject(*res, "error");
		cJSON_AddStringToObject(err, "code", "deleted");
		add_addr(err, "object_id", id);
		add_u64(err, "version", o->version);
		add_digest(err, "digest", o->digest);
		return 0;
	}
	d = cJSON_AddObjectToObject(*res, "data");
	add_addr(d, "objectId", o->id);
	add_u64(d, "version", o->version);
	add_digest(d, "digest", o->digest);
	cJSON_AddStringToObject(d, "type", o->kind == OBJ_COIN ? COIN_OBJECT_TYPE : o->type);
	cJSON_AddItemToObject(d, "owner", owner_json(o->owner));
	add_digest(d, "previousTransaction", o->prev_tx);
	add_u64(d, "storageRebate", o->storage_cost * REBATE_PERCENT / 100);
	if (option_on(opts, "showContent")) {
		c = cJSON_AddObjectToObject(d, "content");
		cJSON_AddStringToObject(c, "dataType", "moveObject");
		cJSON_AddStringToObject(
		    c, "type", o->kind == OBJ_COIN ? COIN_OBJECT_TYPE : o->type);
		cJSON_AddBoolToObject(c, "hasPublicTransfer", o->kind == OBJ_COIN);
		f = cJSON_AddObjectToObject(c, "fields");
		if (o->kind == OBJ_COIN) {
			add_u64(f, "balance", o->balance);
		} else {
			cJSON_AddStringToObject(f, "data_hex", o->data_hex ? o->data_hex : "");
			if (o->description != NULL)
				cJSON_AddStringToObject(f, "immutable_description", o->description);
			else
				cJSON_AddNullToObject(f, "immutable_description");
		}
		add_addr(cJSON_AddObjectToObject(f, "id"), "id", o->id);
	}
	return 0;
}

static int
m_fund(struct node *n, const cJSON *params, cJSON **res, struct rpc_err *e)
{
	uint8_t owner[IOTA_ADDRESS_BYTES];
	const cJSON *amount = param(params, 1), *count = param(params, 2);
	uint64_t v, k = 1;

	if (check_param_count(params, 3, e) != 0 ||
	    param_address(params, 0, "address", owner, e) != 0)
		return -1;
	if (!cJSON_IsString(amount) || sdpp_money_parse(&v, amount->valuestring) != SDPP_OK)
		return rpc_fail(e, RPC_INVALID_PARAMS,
		    "Invalid params: amount is not a decimal string of nanos (0 to 2^64-1)");
	if (count != NULL && param_uint(count, "nCoins", 1, FUND_COINS_MAX, &k, e) != 0)
		return -1;
	*res = cJSON_CreateArray();
	if (mint(n, owner, v, (size_t)k, *res, e) != 0) {
		cJSON_Delete(*res);
		*res = NULL;
		return -1;
	}
	return 0;
}

static cJSON *
mode_json(const struct node *n)
{
	cJSON *m = cJSON_CreateObject();

	cJSON_AddBoolToObject(m, "down", n->down);
	cJSON_AddBoolToObject(m, "stall", n->stall);
	cJSON_AddNumberToObject(m, "delay_ms", n->delay_ms);
	cJSON_AddNumberToObject(m, "fail_execute", n->fail_execute);
	cJSON_AddNumberToObject(m, "lose_execute", n->lose_execute);
	cJSON_AddNumberToObject(m, "index_lag", n->index_lag);
	return m;
}

static void release_stalled(struct node *n);

static int
m_set_mode(struct node *n, const cJSON *params, cJSON **res, struct rpc_err *e)
{
	const cJSON *m = param(params, 0), *f;
	int down = n->down, stall = n->stall;
	uint64_t delay = n->delay_ms, fail = n->fail_execute, lose = n->lose_execute;
	uint64_t lag = n->index_lag;

	if (check_param_count(params, 1, e) != 0)
		return -1;
	if (!cJSON_IsObject(m))
		return rpc_fail(e, RPC_INVALID_PARAMS,
		    "Invalid params: the mode is an object {down, stall, delay_ms, fail_execute}");
	cJSON_ArrayForEach(f, m)
	{
		if (strcmp(f->string, "down") == 0 || strcmp(f->string, "stall") == 0) {
			if (!cJSON_IsBool(f))
				return rpc_fail(e, RPC_INVALID_PARAMS,
				    "Invalid params: %s is not true or false", f->string);
			if (strcmp(f->string, "down") == 0)
				down = cJSON_IsTrue(f);
			else
				stall = cJSON_IsTrue(f);
		} else if (strcmp(f->string, "delay_ms") == 0) {
			if (param_uint(f, "delay_ms", 0, DELAY_MAX_MS, &delay, e) != 0)
				return -1;
		} else if (strcmp(f->string, "fail_execute") == 0) {
			if (param_uint(f, "fail_execute", 0, FAIL_EXECUTE_MAX, &fail, e) != 0)
				return -1;
		} else if (strcmp(f->string, "lose_execute") == 0) {
			if (param_uint(f, "lose_execute", 0, FAIL_EXECUTE_MAX, &lose, e) != 0)
				return -1;
		} else if (strcmp(f->string, "index_lag") == 0) {
			if (param_uint(f, "index_lag", 0, FAIL_EXECUTE_MAX, &lag, e) != 0)
				return -1;
		} else {
			return rpc_fail(e, RPC_INVALID_PARAMS,
			    "Invalid params: unknown mode field `%.64s' (down, stall, delay_ms, "
			    "fail_execute, lose_execute, index_lag)",
			    f->string);
		}
	}
	n->index_lag = (unsigned)lag;
	if (lag == 0)
		n->lag_left = 0;
	n->down = down;
	n->delay_ms = (unsigned)delay;
	n->fail_execute = (unsigned)fail;
	n->lose_execute = (unsigned)lose;
	if (n->stall && !stall) {
		n->stall = 0;
		release_stalled(n);
	}
	n->stall = stall;
	*res = mode_json(n);
	return 0;
}

static int
m_stats(struct node *n, const cJSON *params, cJSON **res, struct rpc_err *e)
{
	if (check_param_count(params, 0, e) != 0)
		return -1;
	*res = cJSON_CreateObject();
	cJSON_AddItemToObject(*res, "calls", cJSON_Duplicate(n->calls, 1));
	cJSON_AddNumberToObject(*res, "transactions", (double)n->n_txs);
	cJSON_AddItemToObject(*res, "notarizations", cJSON_Duplicate(n->notarizations, 1));
	cJSON_AddItemToObject(*res, "payments", cJSON_Duplicate(n->payments, 1));
	cJSON_AddItemToObject(*res, "mode", mode_json(n));
	return 0;
}

static const struct {
	const char *name;
	method_fn fn;
} methods[] = {
	{ "iotax_getReferenceGasPrice", m_gas_price },
	{ "iotax_getCoins", m_get_coins },
	{ "iotax_getBalance", m_get_balance },
	{ "iota_dryRunTransactionBlock", m_dry_run },
	{ "iota_executeTransactionBlock", m_execute },
	{ "iota_getTransactionBlock", m_get_tx },
	{ "iota_getObject", m_get_object },
	{ "standin_fund", m_fund },
	{ "standin_setMode", m_set_mode },
	{ "standin_stats", m_stats },
};

#define N_METHODS (sizeof(methods) / sizeof(methods[0]))

/* ------------------------------------------------------------------ JSON-RPC */

static void
count_call(struct node *n, const char *method)
{
	cJSON *c = cJSON_GetObjectItemCaseSensitive(n->calls, method);

	if (c != NULL) {
		cJSON_SetNumberValue(c, c->valuedouble + 1);
		return;
	}
	if (n->n_call_names >= CALL_NAMES_MAX)
		return;
	cJSON_AddNumberToObject(n->calls, method, 1);
	n->n_call_names++;
}

static char *
rpc_reply(cJSON *id, cJSON *result, const struct rpc_err *e)
{
	cJSON *r = cJSON_CreateObject(), *err;
	char *s;

	cJSON_AddStringToObject(r, "jsonrpc", "2.0");
	if (e != NULL) {
		err = cJSON_AddObjectToObject(r, "error");
		cJSON_AddNumberToObject(err, "code", e->code);
		cJSON_AddStringToObject(err, "message", e->msg);
	} else {
		cJSON_AddItemToObject(r, "result", result);
	}
	cJSON_AddItemToObject(r, "id", id != NULL ? id : cJSON_CreateNull());
	s = cJSON_PrintUnformatted(r);
	cJSON_Delete(r);
	return s;
}

/* The method name of a request body if it has one (for the log and the
 * standin_ test), else "-". */
static void
peek_method(const char *body, size_t len, char *out, size_t cap)
{
	cJSON *j = cJSON_ParseWithLength(body, len);
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "method");

	snprintf(out, cap, "%s", cJSON_IsString(m) ? m->valuestring : "-");
	cJSON_Delete(j);
}

/* One JSON-RPC request to its reply (malloc'd text); *label says how it
 * went, for the log. */
static char *
handle_rpc(struct node *n, const char *body, size_t len, char *label, size_t cap)
{
	cJSON *req, *id = NULL, *result = NULL;
	const cJSON *v, *m, *params;
	struct rpc_err e;
	cJSON *empty = NULL;
	size_t i;
	char *out;
	int rc = -1;

	memset(&e, 0, sizeof(e));
	req = cJSON_ParseWithLength(body, len);
	if (req == NULL) {
		rpc_fail(&e, RPC_PARSE_ERROR, "Parse error: the body is not JSON");
		goto reply;
	}
	if (!cJSON_IsObject(req)) {
		rpc_fail(&e, RPC_INVALID_REQUEST,
		    "Invalid Request: not a JSON object (the stand-in takes no batches)");
		goto reply;
	}
	v = cJSON_GetObjectItemCaseSensitive(req, "id");
	if (v != NULL && !cJSON_IsNumber(v) && !cJSON_IsString(v) && !cJSON_IsNull(v)) {
		rpc_fail(&e, RPC_INVALID_REQUEST, "Invalid Request: id is not a number or string");
		goto reply;
	}
	if (v != NULL)
		id = cJSON_Duplicate(v, 0);
	v = cJSON_GetObjectItemCaseSensitive(req, "jsonrpc");
	if (!cJSON_IsString(v) || strcmp(v->valuestring, "2.0") != 0) {
		rpc_fail(&e, RPC_INVALID_REQUEST, "Invalid Request: jsonrpc is not \"2.0\"");
		goto reply;
	}
	m = cJSON_GetObjectItemCaseSensitive(req, "method");
	if (!cJSON_IsString(m)) {
		rpc_fail(&e, RPC_INVALID_REQUEST, "Invalid Request: method is not a string");
		goto reply;
	}
	params = cJSON_GetObjectItemCaseSensitive(req, "params");
	if (params == NULL || cJSON_IsNull(params)) {
		empty = cJSON_CreateArray();
		params = empty;
	} else if (cJSON_IsObject(params)) {
		rpc_fail(&e, RPC_INVALID_PARAMS,
		    "Invalid params: named parameters are unsupported by the stand-in; send an "
		    "array");
		goto reply;
	} else if (!cJSON_IsArray(params)) {
		rpc_fail(&e, RPC_INVALID_REQUEST, "Invalid Request: params is not an array");
		goto reply;
	}
	count_call(n, m->valuestring);
	for (i = 0; i < N_METHODS; i++)
		if (strcmp(methods[i].name, m->valuestring) == 0)
			break;
	if (i == N_METHODS) {
		rpc_fail(&e, RPC_METHOD_NOT_FOUND, "Method not found: `%.80s'", m->valuestring);
		goto reply;
	}
	rc = methods[i].fn(n, params, &result, &e);
reply:
	if (rc == 0 && result == NULL)
		rc = rpc_fail(&e, RPC_INTERNAL, "out of memory");
	if (rc == 0)
		snprintf(label, cap, "ok");
	else
		snprintf(label, cap, "error=%d", e.code);
	out = rpc_reply(id, result, rc == 0 ? NULL : &e);
	cJSON_Delete(req);
	cJSON_Delete(empty);
	return out;
}

/* POST /v1/gas {"FixedAmountRequest":{"recipient":"0x…"}}: one coin of 10 IOTA. */
static char *
handle_faucet(struct node *n, const char *body, size_t len, int *code, char *label, size_t cap)
{
	cJSON *req = cJSON_ParseWithLength(body, len), *r = cJSON_CreateObject();
	const cJSON *rec = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(req, "FixedAmountRequest"), "recipient");
	uint8_t addr[IOTA_ADDRESS_BYTES], task[16];
	char task_text[SDPP_HEX_LEN(16)], *out;
	struct rpc_err e;

	count_call(n, "faucet_v1_gas");
	if (!cJSON_IsString(rec) || iota_address_parse(addr, rec->valuestring) != 0) {
		*code = 400;
		cJSON_AddNullToObject(r, "task");
		cJSON_AddStringToObject(r, "error",
		    "Invalid request: expected {\"FixedAmountRequest\":{\"recipient\":\"0x…\"}} "
		    "with a full address");
	} else if (mint(n, addr, FAUCET_AMOUNT, 1, NULL, &e) != 0) {
		*code = 500;
		cJSON_AddNullToObject(r, "task");
		cJSON_AddStringToObject(r, "error", e.msg);
	} else {
		*code = 201;
		random_bytes(task, sizeof(task));
		sdpp_hex_encode(task_text, task, sizeof(task));
		cJSON_AddStringToObject(r, "task", task_text);
		cJSON_AddNullToObject(r, "error");
	}
	snprintf(label, cap, "%d", *code);
	out = cJSON_PrintUnformatted(r);
	cJSON_Delete(r);
	cJSON_Delete(req);
	return out;
}

/* ------------------------------------------------------------------ HTTP */

static void
log_line(
    struct node *n, struct evhttp_request *req, const char *what, int code, const char *outcome)
{
	const char *uri;

	if (n->quiet)
		return;
	uri = req != NULL ? evhttp_request_get_uri(req) : "-";
	fprintf(stderr, "tool_iotanode: POST %s method=%s http=%d %s\n", uri ? uri : "-", what,
	    code, outcome);
}

static void
send_text(struct node *n, struct evhttp_request *req, int code, const char *ctype, const char *body,
    const char *what, const char *outcome)
{
	struct evbuffer *b = evbuffer_new();

	log_line(n, req, what, code, outcome);
	if (b == NULL) {
		evhttp_send_error(req, 500, "out of memory");
		return;
	}
	evbuffer_add(b, body, strlen(body));
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", ctype);
	evhttp_send_reply(req, code, code == 201 ? "Created" : code == 200 ? "OK" : "Error", b);
	evbuffer_free(b);
}

static void
pending_unlink(struct node *n, struct pending *p)
{
	struct pending **pp;

	for (pp = &n->pending; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			return;
		}
	}
}

static void
pending_free(struct pending *p)
{
	if (p->timer != NULL)
		event_free(p->timer);
	free(p->body);
	free(p);
}

static void
delay_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pending *p = arg;

	(void)fd;
	(void)what;
	pending_unlink(p->n, p);
	send_text(p->n, p->req, p->code, p->ctype, p->body, p->label, "delayed");
	pending_free(p);
}

/* Answers now, or after delay_ms for requests the mode slows down. Takes body. */
static void
answer(struct node *n, struct evhttp_request *req, int slowed, int code, const char *ctype,
    char *body, const char *what, const char *outcome)
{
	struct pending *p, **tail;
	struct timeval tv;

	if (body == NULL) {
		log_line(n, req, what, 500, "out of memory");
		evhttp_send_error(req, 500, "out of memory");
		return;
	}
	if (!slowed || n->delay_ms == 0 || n->stopping) {
		send_text(n, req, code, ctype, body, what, outcome);
		free(body);
		return;
	}
	p = calloc(1, sizeof(*p));
	if (p != NULL)
		p->timer = evtimer_new(n->base, delay_cb, p);
	if (p == NULL || p->timer == NULL) {
		free(p);
		send_text(n, req, code, ctype, body, what, outcome);
		free(body);
		return;
	}
	p->n = n;
	p->kind = PENDING_DELAYED;
	p->req = req;
	p->body = body;
	p->code = code;
	p->ctype = ctype;
	snprintf(p->label, sizeof(p->label), "%s", what);
	for (tail = &n->pending; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = p;
	tv.tv_sec = n->delay_ms / 1000;
	tv.tv_usec = (n->delay_ms % 1000) * 1000;
	evtimer_add(p->timer, &tv);
}

/* Handles a request whose body we hold, mode permitting. */
static void
dispatch(struct node *n, struct evhttp_request *req, int faucet, const char *body, size_t len,
    const char *method)
{
	int standin = !faucet && strncmp(method, "standin_", 8) == 0, code = 200;
	char label[64], *out;

	if (!standin && n->down) {
		send_text(n, req, 503, "text/plain",
		    "503 Service Unavailable: the stand-in node is down (standin_setMode)\n",
		    method, "down");
		return;
	}
	if (!standin && n->stall) {
		struct pending *p, **tail;

		if (n->n_stalled >= STALL_MAX) {
			send_text(n, req, 503, "text/plain",
			    "503 Service Unavailable: too many stalled requests\n", method,
			    "stall-full");
			return;
		}
		p = calloc(1, sizeof(*p));
		if (p != NULL)
			p->body = malloc(len + 1);
		if (p == NULL || p->body == NULL) {
			free(p);
			evhttp_send_error(req, 500, "out of memory");
			return;
		}
		memcpy(p->body, body, len);
		p->body[len] = '\0';
		p->len = len;
		p->n = n;
		p->kind = PENDING_STALLED;
		p->req = req;
		p->faucet = faucet;
		snprintf(p->label, sizeof(p->label), "%s", method);
		for (tail = &n->pending; *tail != NULL; tail = &(*tail)->next)
			;
		*tail = p;
		n->n_stalled++;
		return;
	}
	if (faucet) {
		out = handle_faucet(n, body, len, &code, label, sizeof(label));
		answer(n, req, 1, code, "application/json", out, method, label);
		return;
	}
	out = handle_rpc(n, body, len, label, sizeof(label));
	if (n->lose_execute > 0 && strcmp(method, "iota_executeTransactionBlock") == 0) {
		n->lose_execute--;
		free(out);
		send_text(n, req, 503, "text/plain",
		    "503 Service Unavailable: the answer was lost (standin_setMode lose_execute)\n",
		    method, "lost");
		return;
	}
	answer(n, req, !standin, 200, "application/json", out, method, label);
}

/* Stall switched off: handle the held requests in arrival order. */
static void
release_stalled(struct node *n)
{
	struct pending *p, *next, *held = NULL, **tail = &held;

	/* Detach the stalled ones first: handling may queue delayed replies. */
	for (p = n->pending, n->pending = NULL; p != NULL; p = next) {
		next = p->next;
		p->next = NULL;
		if (p->kind == PENDING_STALLED) {
			*tail = p;
			tail = &p->next;
		} else {
			struct pending **t2;

			for (t2 = &n->pending; *t2 != NULL; t2 = &(*t2)->next)
				;
			*t2 = p;
		}
	}
	n->n_stalled = 0;
	for (p = held; p != NULL; p = next) {
		next = p->next;
		dispatch(n, p->req, p->faucet, p->body, p->len, p->label);
		pending_free(p);
	}
}

static void
on_request(struct evhttp_request *req, void *arg)
{
	struct node *n = arg;
	const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
	const char *path = u != NULL ? evhttp_uri_get_path(u) : NULL;
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	char method[64], *body;
	int faucet;

	if (path == NULL || (strcmp(path, "/") != 0 && strcmp(path, "/v1/gas") != 0)) {
		send_text(n, req, 404, "text/plain", "404 Not Found: POST / or /v1/gas\n", "-",
		    "not-found");
		return;
	}
	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		send_text(n, req, 405, "text/plain", "405 Method Not Allowed: POST only\n", "-",
		    "not-post");
		return;
	}
	if (len > BODY_MAX) {
		send_text(n, req, 413, "text/plain", "413 Payload Too Large\n", "-", "too-large");
		return;
	}
	if (n->stopping) {
		send_text(n, req, 503, "text/plain", "503 Service Unavailable: stopping\n", "-",
		    "stopping");
		return;
	}
	body = malloc(len + 1);
	if (body == NULL) {
		evhttp_send_error(req, 500, "out of memory");
		return;
	}
	evbuffer_copyout(in, body, len);
	body[len] = '\0';
	faucet = strcmp(path, "/v1/gas") == 0;
	if (faucet)
		snprintf(method, sizeof(method), "faucet");
	else
		peek_method(body, len, method, sizeof(method));
	dispatch(n, req, faucet, body, len, method);
	free(body);
}

/* SIGTERM/SIGINT: answer what waits (delayed replies now, stalled ones
 * with 503), then leave the loop once the replies are written. */
static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct node *n = arg;
	struct pending *p, *next;
	struct timeval flush = { 0, 200000 };

	(void)what;
	if (n->stopping)
		return;
	n->stopping = 1;
	if (!n->quiet)
		fprintf(stderr, "tool_iotanode: signal %d, stopping\n", (int)sig);
	for (p = n->pending, n->pending = NULL; p != NULL; p = next) {
		next = p->next;
		if (p->kind == PENDING_DELAYED)
			send_text(n, p->req, p->code, p->ctype, p->body, p->label, "flushed");
		else
			send_text(n, p->req, 503, "text/plain",
			    "503 Service Unavailable: stopping\n", p->label, "stall-dropped");
		pending_free(p);
	}
	n->n_stalled = 0;
	event_base_loopexit(n->base, &flush);
}

/* Writes "PORT\n" to path atomically: a temporary file, fsync, rename. */
static int
write_port_file(const char *path, unsigned port)
{
	char tmp[4096], text[16];
	int fd, k, len;

	k = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	len = snprintf(text, sizeof(text), "%u\n", port);
	if (k < 0 || (size_t)k >= sizeof(tmp) || len < 0)
		return -1;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return -1;
	if (write(fd, text, (size_t)len) != len || fsync(fd) != 0) {
		close(fd);
		unlink(tmp);
		return -1;
	}
	if (close(fd) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: tool_iotanode [--port N | --port-file FILE] [--gas-price N] "
	                "[--quiet]\n");
}

static int
parse_u64_arg(const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *v)
{
	if (sdpp_money_parse(v, s) != SDPP_OK || *v < min || *v > max) {
		fprintf(stderr,
		    "tool_iotanode: %s is not a whole number from %" PRIu64 " to %" PRIu64
		    ": `%s'\n",
		    opt, min, max, s);
		return -1;
	}
	return 0;
}

static void
node_free(struct node *n)
{
	size_t i;

	for (i = 0; i < n->n_objs; i++) {
		free(n->objs[i].type);
		free(n->objs[i].data_hex);
		free(n->objs[i].description);
	}
	free(n->objs);
	for (i = 0; i < n->n_txs; i++)
		cJSON_Delete(n->txs[i].resp);
	free(n->txs);
	free(n->lag);
	cJSON_Delete(n->calls);
	cJSON_Delete(n->notarizations);
	cJSON_Delete(n->payments);
}

int
main(int argc, char **argv)
{
	struct node n;
	struct evhttp_bound_socket *bound;
	struct event *sigterm = NULL, *sigint = NULL;
	struct sockaddr_in sa;
	socklen_t salen = sizeof(sa);
	const char *port_file = NULL;
	uint64_t port = DEFAULT_PORT, price = GAS_PRICE_DEFAULT;
	int i, have_port = 0, rc = 1;

	memset(&n, 0, sizeof(n));
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quiet") == 0) {
			n.quiet = 1;
		} else if (i + 1 < argc && strcmp(argv[i], "--port") == 0) {
			if (parse_u64_arg("--port", argv[++i], 0, 65535, &port) != 0)
				return 2;
			have_port = 1;
		} else if (i + 1 < argc && strcmp(argv[i], "--port-file") == 0) {
			port_file = argv[++i];
		} else if (i + 1 < argc && strcmp(argv[i], "--gas-price") == 0) {
			if (parse_u64_arg("--gas-price", argv[++i], 1, GAS_PRICE_MAX, &price) != 0)
				return 2;
		} else {
			fprintf(stderr, "tool_iotanode: unexpected argument `%s'\n", argv[i]);
			usage();
			return 2;
		}
	}
	if (have_port && port_file != NULL) {
		fprintf(stderr, "tool_iotanode: --port and --port-file exclude each other\n");
		return 2;
	}
	if (port_file != NULL)
		port = 0;
	n.gas_price = price;
	n.calls = cJSON_CreateObject();
	n.notarizations = cJSON_CreateArray();
	n.payments = cJSON_CreateArray();
	signal(SIGPIPE, SIG_IGN);
	n.base = event_base_new();
	if (n.base == NULL || n.calls == NULL || n.notarizations == NULL || n.payments == NULL) {
		fprintf(stderr, "tool_iotanode: out of memory\n");
		goto out;
	}
	n.http = evhttp_new(n.base);
	if (n.http == NULL)
		goto out;
	evhttp_set_max_body_size(n.http, BODY_MAX);
	evhttp_set_allowed_methods(n.http, EVHTTP_REQ_POST | EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
#ifdef EVHTTP_SERVER_LINGERING_CLOSE
	/* Read an oversized body to its end before the 413, so the client
	 * sees the answer rather than a reset. */
	evhttp_set_flags(n.http, EVHTTP_SERVER_LINGERING_CLOSE);
#endif
	evhttp_set_gencb(n.http, on_request, &n);
	bound = evhttp_bind_socket_with_handle(n.http, "127.0.0.1", (uint16_t)port);
	if (bound == NULL) {
		fprintf(stderr, "tool_iotanode: cannot listen on 127.0.0.1:%" PRIu64 ": %s\n", port,
		    strerror(errno));
		goto out;
	}
	if (getsockname(evhttp_bound_socket_get_fd(bound), (struct sockaddr *)&sa, &salen) != 0) {
		fprintf(stderr, "tool_iotanode: getsockname: %s\n", strerror(errno));
		goto out;
	}
	sigterm = evsignal_new(n.base, SIGTERM, on_signal, &n);
	sigint = evsignal_new(n.base, SIGINT, on_signal, &n);
	if (sigterm == NULL || sigint == NULL || evsignal_add(sigterm, NULL) != 0 ||
	    evsignal_add(sigint, NULL) != 0)
		goto out;
	if (port_file != NULL && write_port_file(port_file, ntohs(sa.sin_port)) != 0) {
		fprintf(stderr, "tool_iotanode: cannot write %s: %s\n", port_file, strerror(errno));
		goto out;
	}
	if (!n.quiet)
		fprintf(stderr, "tool_iotanode: listening on 127.0.0.1:%u gas_price=%" PRIu64 "\n",
		    ntohs(sa.sin_port), n.gas_price);
	event_base_dispatch(n.base);
	rc = 0;
out:
	while (n.pending != NULL) { /* only after a start-up failure */
		struct pending *p = n.pending;

		n.pending = p->next;
		pending_free(p);
	}
	if (sigterm != NULL)
		event_free(sigterm);
	if (sigint != NULL)
		event_free(sigint);
	if (n.http != NULL)
		evhttp_free(n.http);
	if (n.base != NULL)
		event_base_free(n.base);
	node_free(&n);
	return rc;
}
