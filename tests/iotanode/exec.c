/* Test tool iotanode: the gas model and execution (checks, costs, effects, the new state). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdpp/crypto.h"
#include "tests/iotanode/iotanode.h"

/* ------------------------------------------------------------------ checks and execution */

/* Gas coins as a node checks them before signing: they exist, are coins
 * owned by the sender at their current version and digest, appear once;
 * the price and budget are within bounds. */
int
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
int
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

/* Runs the gas model (see iotanode.h). forced: a failure that
 * standin_setMode fail_execute asked for. */
void
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
	ok_charged =
	    o->computation + ok_storage > o->rebate ? o->computation + ok_storage - o->rebate : 0;
	fail_charged =
	    o->computation + gas_store > o->rebate ? o->computation + gas_store - o->rebate : 0;

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
cJSON *
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
cJSON *
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
cJSON *
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
cJSON *
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
const struct object *
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
int
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
