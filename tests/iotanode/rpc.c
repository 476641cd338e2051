/* Test tool iotanode: the JSON-RPC methods (iota_*, iotax_*, standin_*) and the faucet. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdpp/crypto.h"
#include "tests/iotanode/iotanode.h"

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
void
peek_method(const char *body, size_t len, char *out, size_t cap)
{
	cJSON *j = cJSON_ParseWithLength(body, len);
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "method");

	snprintf(out, cap, "%s", cJSON_IsString(m) ? m->valuestring : "-");
	cJSON_Delete(j);
}

/* One JSON-RPC request to its reply (malloc'd text); *label says how it
 * went, for the log. */
char *
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
char *
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
