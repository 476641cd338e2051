/* IOTA JSON-RPC responses read into C structs: strict, capped, no I/O (tangle/ talks). */
#include <stdio.h>
#include <string.h>

#include "iota/rpc.h"
#include "util/text.h"

/* Copies a node's text, replacing control characters so it is safe in a
 * log line. */
static void
copy_text(char out[IOTA_RPC_TEXT_MAX], const char *s)
{
	size_t i;

	for (i = 0; s != NULL && s[i] != '\0' && i < IOTA_RPC_TEXT_MAX - 1; i++)
		out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	out[i] = '\0';
}

enum iota_rpc_status
iota_rpc_response(const char *body, size_t len, uint64_t id, cJSON **root, const cJSON **result,
    long *code, char text[IOTA_RPC_TEXT_MAX])
{
	const cJSON *ver, *rid, *res, *er, *c, *m;
	cJSON *doc;

	*root = NULL;
	*result = NULL;
	*code = 0;
	text[0] = '\0';
	if (len > IOTA_RPC_RESPONSE_MAX) {
		copy_text(text, "response too large");
		return IOTA_RPC_BAD;
	}
	doc = cJSON_ParseWithLength(body, len);
	if (doc == NULL || !cJSON_IsObject(doc)) {
		cJSON_Delete(doc);
		copy_text(text, "response is not a JSON object");
		return IOTA_RPC_BAD;
	}
	ver = cJSON_GetObjectItemCaseSensitive(doc, "jsonrpc");
	rid = cJSON_GetObjectItemCaseSensitive(doc, "id");
	res = cJSON_GetObjectItemCaseSensitive(doc, "result");
	er = cJSON_GetObjectItemCaseSensitive(doc, "error");
	if (!cJSON_IsString(ver) || strcmp(ver->valuestring, "2.0") != 0) {
		copy_text(text, "not a JSON-RPC 2.0 response");
		goto bad;
	}
	/* An error about the request itself may carry a null id. */
	if (er != NULL && cJSON_IsObject(er) && res == NULL &&
	    (cJSON_IsNull(rid) || (cJSON_IsNumber(rid) && rid->valuedouble == (double)id))) {
		c = cJSON_GetObjectItemCaseSensitive(er, "code");
		m = cJSON_GetObjectItemCaseSensitive(er, "message");
		if (!cJSON_IsNumber(c) || !cJSON_IsString(m)) {
			copy_text(text, "malformed error object");
			goto bad;
		}
		*code = c->valuedouble >= -2147483648.0 && c->valuedouble <= 2147483647.0
		            ? (long)c->valuedouble
		            : 0;
		copy_text(text, m->valuestring);
		cJSON_Delete(doc);
		return IOTA_RPC_ERROR;
	}
	if (!cJSON_IsNumber(rid) || rid->valuedouble != (double)id) {
		copy_text(text, "response to another request");
		goto bad;
	}
	if (res == NULL || er != NULL) {
		copy_text(text, "response has no result");
		goto bad;
	}
	*root = doc;
	*result = res;
	return IOTA_RPC_OK;
bad:
	cJSON_Delete(doc);
	return IOTA_RPC_BAD;
}

int
iota_rpc_u64(const cJSON *v, uint64_t *out)
{
	const char *s;
	uint64_t x = 0;
	size_t i;

	if (!cJSON_IsString(v))
		return -1;
	s = v->valuestring;
	if (s[0] == '\0' || (s[0] == '0' && s[1] != '\0'))
		return -1;
	for (i = 0; s[i] != '\0'; i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (d > 9 || x > (UINT64_MAX - d) / 10)
			return -1;
		x = x * 10 + d;
	}
	*out = x;
	return 0;
}

/* A signed decimal string, as balance changes write amounts: magnitude and
 * sign. */
static int
signed_u64(const cJSON *v, uint64_t *mag, int *neg)
{
	cJSON tmp;

	if (!cJSON_IsString(v))
		return -1;
	*neg = v->valuestring[0] == '-';
	tmp = *v;
	tmp.valuestring = v->valuestring + *neg;
	return iota_rpc_u64(&tmp, mag);
}

static const cJSON *
member(const cJSON *o, const char *name)
{
	return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, name) : NULL;
}

static int
is_iota_coin(const char *type)
{
	static const char long_form[] =
	    "0x0000000000000000000000000000000000000000000000000000000000000002::iota::IOTA";

	return strcmp(type, IOTA_COIN_TYPE) == 0 || strcmp(type, long_form) == 0;
}

/* IotaObjectRef: {objectId, version, digest}. */
static int
object_ref(const cJSON *o, struct iota_object_ref *ref)
{
	const cJSON *id = member(o, "objectId"), *d = member(o, "digest");

	if (!cJSON_IsString(id) || !cJSON_IsString(d) ||
	    iota_address_parse(ref->id, id->valuestring) != 0 ||
	    iota_digest_parse(ref->digest, d->valuestring) != 0 ||
	    iota_rpc_u64(member(o, "version"), &ref->version) != 0)
		return -1;
	return 0;
}

int
iota_rpc_coins(const cJSON *result, struct iota_coin_page *page, char *err, size_t errlen)
{
	const cJSON *data = member(result, "data"), *next = member(result, "hasNextPage");
	const cJSON *cur = member(result, "nextCursor"), *c;

	memset(page, 0, sizeof(*page));
	if (!cJSON_IsArray(data) || !cJSON_IsBool(next))
		return util_errf(err, errlen, "coin page: no data array or hasNextPage");
	cJSON_ArrayForEach(c, data)
	{
		const cJSON *type = member(c, "coinType");
		struct iota_coin *coin;

		if (!cJSON_IsString(type))
			return util_errf(err, errlen, "coin page: coin without coinType");
		if (!is_iota_coin(type->valuestring))
			continue;
		if (page->n == IOTA_RPC_COINS_MAX)
			return util_errf(
			    err, errlen, "coin page: more than %d coins", IOTA_RPC_COINS_MAX);
		coin = &page->coins[page->n];
		{
			const cJSON *id = member(c, "coinObjectId"), *d = member(c, "digest");

			if (!cJSON_IsString(id) || !cJSON_IsString(d) ||
			    iota_address_parse(coin->ref.id, id->valuestring) != 0 ||
			    iota_digest_parse(coin->ref.digest, d->valuestring) != 0 ||
			    iota_rpc_u64(member(c, "version"), &coin->ref.version) != 0 ||
			    iota_rpc_u64(member(c, "balance"), &coin->balance) != 0)
				return util_errf(
				    err, errlen, "coin page: malformed coin %zu", page->n);
		}
		page->n++;
	}
	page->has_next = cJSON_IsTrue(next);
	if (cJSON_IsString(cur)) {
		uint8_t tmp[IOTA_ADDRESS_BYTES];

		if (iota_address_parse(tmp, cur->valuestring) != 0)
			return util_errf(err, errlen, "coin page: malformed nextCursor");
		iota_address_format(page->cursor, tmp);
	} else if (cur != NULL && !cJSON_IsNull(cur)) {
		return util_errf(err, errlen, "coin page: malformed nextCursor");
	}
	if (page->has_next && page->cursor[0] == '\0')
		return util_errf(err, errlen, "coin page: hasNextPage without nextCursor");
	return 0;
}

int
iota_rpc_effects(const cJSON *effects, struct iota_effects *e, char *err, size_t errlen)
{
	const cJSON *st = member(effects, "status"), *s, *gas = member(effects, "gasUsed");
	const cJSON *d = member(effects, "transactionDigest"), *go = member(effects, "gasObject");
	const cJSON *nr;

	memset(e, 0, sizeof(*e));
	if (!cJSON_IsObject(effects))
		return util_errf(err, errlen, "effects missing");
	s = member(st, "status");
	if (!cJSON_IsString(s))
		return util_errf(err, errlen, "effects: no status");
	if (strcmp(s->valuestring, "success") == 0) {
		e->success = 1;
	} else if (strcmp(s->valuestring, "failure") == 0) {
		const cJSON *why = member(st, "error");

		copy_text(e->error, cJSON_IsString(why) ? why->valuestring : "failed");
	} else {
		return util_errf(err, errlen, "effects: unknown status");
	}
	if (iota_rpc_u64(member(gas, "computationCost"), &e->gas.computation) != 0 ||
	    iota_rpc_u64(member(gas, "storageCost"), &e->gas.storage) != 0 ||
	    iota_rpc_u64(member(gas, "storageRebate"), &e->gas.rebate) != 0)
		return util_errf(err, errlen, "effects: malformed gasUsed");
	nr = member(gas, "nonRefundableStorageFee");
	if (nr != NULL && iota_rpc_u64(nr, &e->gas.non_refundable) != 0)
		return util_errf(err, errlen, "effects: malformed gasUsed");
	if (!cJSON_IsString(d) || iota_digest_parse(e->digest, d->valuestring) != 0)
		return util_errf(err, errlen, "effects: malformed transactionDigest");
	if (go != NULL) {
		if (object_ref(member(go, "reference"), &e->gas_object) != 0)
			return util_errf(err, errlen, "effects: malformed gasObject");
		e->have_gas_object = 1;
	}
	return 0;
}

int
iota_rpc_tx(const cJSON *result, struct iota_tx_view *v, char *err, size_t errlen)
{
	const cJSON *d = member(result, "digest"), *tx, *sender;

	memset(v, 0, sizeof(*v));
	if (!cJSON_IsString(d) || iota_digest_parse(v->digest, d->valuestring) != 0)
		return util_errf(err, errlen, "transaction: malformed digest");
	if (iota_rpc_effects(member(result, "effects"), &v->effects, err, errlen) != 0)
		return -1;
	if (memcmp(v->effects.digest, v->digest, IOTA_DIGEST_BYTES) != 0)
		return util_errf(err, errlen, "transaction: effects of another transaction");
	tx = member(member(result, "transaction"), "data");
	sender = member(tx, "sender");
	if (sender != NULL) {
		if (!cJSON_IsString(sender) ||
		    iota_address_parse(v->sender, sender->valuestring) != 0)
			return util_errf(err, errlen, "transaction: malformed sender");
		v->have_sender = 1;
	}
	return 0;
}

int
iota_rpc_received(const cJSON *result, const uint8_t owner[IOTA_ADDRESS_BYTES], uint64_t *received,
    char *err, size_t errlen)
{
	const cJSON *bc = member(result, "balanceChanges"), *c;
	uint64_t plus = 0, minus = 0;

	*received = 0;
	if (!cJSON_IsArray(bc))
		return util_errf(err, errlen, "transaction: no balanceChanges");
	cJSON_ArrayForEach(c, bc)
	{
		const cJSON *type = member(c, "coinType"),
		            *who = member(member(c, "owner"), "AddressOwner");
		uint8_t addr[IOTA_ADDRESS_BYTES];
		uint64_t mag;
		int neg;

		if (!cJSON_IsString(type) || signed_u64(member(c, "amount"), &mag, &neg) != 0)
			return util_errf(err, errlen, "transaction: malformed balance change");
		/* Object- or shared-owned balances are never an address's. */
		if (!is_iota_coin(type->valuestring) || !cJSON_IsString(who))
			continue;
		if (iota_address_parse(addr, who->valuestring) != 0)
			return util_errf(
			    err, errlen, "transaction: malformed balance change owner");
		if (memcmp(addr, owner, IOTA_ADDRESS_BYTES) != 0)
			continue;
		if (neg) {
			if (minus > UINT64_MAX - mag)
				return util_errf(
				    err, errlen, "transaction: balance change overflow");
			minus += mag;
		} else {
			if (plus > UINT64_MAX - mag)
				return util_errf(
				    err, errlen, "transaction: balance change overflow");
			plus += mag;
		}
	}
	*received = plus > minus ? plus - minus : 0;
	return 0;
}

int
iota_rpc_balance(const cJSON *result, uint64_t *total, uint64_t *coins, char *err, size_t errlen)
{
	const cJSON *n = member(result, "coinObjectCount");

	if (iota_rpc_u64(member(result, "totalBalance"), total) != 0)
		return util_errf(err, errlen, "balance: malformed totalBalance");
	*coins = 0;
	if (cJSON_IsNumber(n) && n->valuedouble >= 0 && n->valuedouble < 9007199254740992.0)
		*coins = (uint64_t)n->valuedouble;
	return 0;
}

int
iota_gas_budget(const struct iota_gas_used *g, uint64_t gas_price, uint64_t *budget)
{
	uint64_t base;

	if (gas_price > UINT64_MAX / IOTA_GAS_SAFE_OVERHEAD ||
	    g->computation > UINT64_MAX - gas_price * IOTA_GAS_SAFE_OVERHEAD)
		return -1;
	base = g->computation + gas_price * IOTA_GAS_SAFE_OVERHEAD;
	*budget = base;
	if (g->storage > g->rebate) {
		if (base > UINT64_MAX - (g->storage - g->rebate))
			return -1;
		*budget = base + (g->storage - g->rebate);
	}
	return 0;
}

int
iota_rpc_not_found(long code, const char *text)
{
	(void)code;
	return strstr(text, "Could not find the referenced transaction") != NULL;
}
