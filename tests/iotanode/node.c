/* Test tool iotanode: the node's state (objects, coins, executed transactions) and JSON helpers. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/iotanode/iotanode.h"

/* ------------------------------------------------------------------ helpers */

int
rpc_fail(struct rpc_err *e, int code, const char *fmt, ...)
{
	va_list ap;

	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

void
u64_text(char out[SDPP_MONEY_LEN], uint64_t v)
{
	sdpp_money_format(out, v);
}

/* Adds a u64 as a decimal string (the node's form for u64 in JSON). */
cJSON *
add_u64(cJSON *o, const char *key, uint64_t v)
{
	char t[SDPP_MONEY_LEN];

	u64_text(t, v);
	return cJSON_AddStringToObject(o, key, t);
}

cJSON *
add_addr(cJSON *o, const char *key, const uint8_t a[IOTA_ADDRESS_BYTES])
{
	char t[IOTA_ADDRESS_TEXT_LEN];

	iota_address_format(t, a);
	return cJSON_AddStringToObject(o, key, t);
}

cJSON *
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

cJSON *
digest_json(const uint8_t d[IOTA_DIGEST_BYTES])
{
	char t[IOTA_DIGEST_TEXT_LEN];

	iota_digest_format(t, d);
	return cJSON_CreateString(t);
}

/* {"AddressOwner": "0x…"} */
cJSON *
owner_json(const uint8_t a[IOTA_ADDRESS_BYTES])
{
	cJSON *o = cJSON_CreateObject();

	add_addr(o, "AddressOwner", a);
	return o;
}

/* {objectId, version, digest} */
cJSON *
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
cJSON *
owned_ref_json(const uint8_t owner[IOTA_ADDRESS_BYTES], const uint8_t id[IOTA_ADDRESS_BYTES],
    uint64_t version, const uint8_t digest[IOTA_DIGEST_BYTES])
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddItemToObject(o, "owner", owner_json(owner));
	cJSON_AddItemToObject(o, "reference", ref_json(id, version, digest));
	return o;
}

void
random_bytes(uint8_t *p, size_t n)
{
	if (sdpp_random(p, n) != SDPP_OK) {
		fprintf(stderr, "tool_iotanode: no randomness\n");
		exit(1);
	}
}

uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int
is_clock(const uint8_t id[IOTA_ADDRESS_BYTES])
{
	static const uint8_t clock[IOTA_ADDRESS_BYTES] = { [IOTA_ADDRESS_BYTES - 1] = 0x06 };

	return memcmp(id, clock, IOTA_ADDRESS_BYTES) == 0;
}

/* ------------------------------------------------------------------ objects */

struct object *
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
struct object *
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
int
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

struct txrec *
tx_find(struct node *n, const uint8_t digest[IOTA_DIGEST_BYTES])
{
	size_t i;

	for (i = 0; i < n->n_txs; i++)
		if (memcmp(n->txs[i].digest, digest, IOTA_DIGEST_BYTES) == 0)
			return &n->txs[i];
	return NULL;
}
