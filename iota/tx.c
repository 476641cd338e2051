/* TransactionData V1 (programmable) in BCS, and the payment and locked-notarization builders. */
#include <string.h>

#include "iota/bcs.h"
#include "iota/iota.h"
#include "util/text.h"

/* Shared Clock object 0x6, shared since genesis (version 1). */
#define CLOCK_INITIAL_SHARED_VERSION 1

static const struct {
	const char *name;
	uint8_t package[IOTA_ADDRESS_BYTES];
} networks[] = {
	/* clang-format off */
	[IOTA_MAINNET] = { "mainnet", {
	    0x90, 0x9c, 0xe9, 0xdc, 0xd9, 0xa5, 0xe9, 0x7b,
	    0x7b, 0x88, 0x84, 0xfa, 0xc8, 0xe0, 0x18, 0xfa,
	    0xd9, 0xde, 0xce, 0x34, 0x8b, 0xf7, 0x38, 0x37,
	    0x37, 0x9b, 0x86, 0x94, 0xff, 0x68, 0x4c, 0xf3 } },
	[IOTA_TESTNET] = { "testnet", {
	    0x00, 0x41, 0x2b, 0xd4, 0x69, 0xb7, 0xf9, 0x80,
	    0x22, 0x7c, 0x6c, 0x57, 0x40, 0x90, 0x34, 0x82,
	    0x39, 0x85, 0x2e, 0x43, 0xaa, 0x07, 0x81, 0x8b,
	    0x31, 0x58, 0x54, 0xfd, 0xd8, 0xa2, 0xd2, 0x5f } },
	[IOTA_DEVNET] = { "devnet", {
	    0x72, 0xc8, 0x43, 0x3b, 0x88, 0xe6, 0xbd, 0xee,
	    0x0e, 0xb0, 0x2a, 0x25, 0x7f, 0xde, 0xbd, 0x0e,
	    0xc2, 0xb6, 0xc9, 0x90, 0x04, 0x3f, 0x35, 0xb1,
	    0x55, 0xcb, 0x4c, 0x5c, 0xf7, 0x27, 0xfd, 0xca } },
	/* clang-format on */
};

#define N_NETWORKS (sizeof(networks) / sizeof(networks[0]))

const char *
iota_strerror(enum iota_err e)
{
	switch (e) {
	case IOTA_OK:
		return "success";
	case IOTA_E_INVAL:
		return "invalid argument";
	case IOTA_E_SPACE:
		return "output buffer too small";
	case IOTA_E_LIMIT:
		return "beyond a protocol limit";
	case IOTA_E_UTF8:
		return "string is not valid UTF-8";
	case IOTA_E_CRYPTO:
		return "hashing or signing failed";
	}
	return "unknown error";
}

int
iota_network_parse(enum iota_network *net, const char *name)
{
	size_t i;

	for (i = 0; i < N_NETWORKS; i++) {
		if (strcmp(name, networks[i].name) == 0) {
			*net = (enum iota_network)i;
			return 0;
		}
	}
	return -1;
}

const char *
iota_network_name(enum iota_network net)
{
	if ((size_t)net >= N_NETWORKS)
		return "unknown";
	return networks[net].name;
}

static const char *const methods[] = {
	[IOTA_MAINNET] = "iota-mainnet",
	[IOTA_TESTNET] = "iota-testnet",
	[IOTA_DEVNET] = "iota-devnet",
};

const char *
iota_method_name(enum iota_network net)
{
	if ((size_t)net >= N_NETWORKS)
		return "unknown";
	return methods[net];
}

int
iota_method_parse(enum iota_network *net, const char *method)
{
	size_t i;

	for (i = 0; i < N_NETWORKS; i++) {
		if (strcmp(method, methods[i]) == 0) {
			*net = (enum iota_network)i;
			return 0;
		}
	}
	return -1;
}

const uint8_t *
iota_notarization_package(enum iota_network net)
{
	if ((size_t)net >= N_NETWORKS)
		return NULL;
	return networks[net].package;
}

struct iota_arg
iota_arg_gas(void)
{
	struct iota_arg a = { IOTA_ARG_GAS_COIN, 0, 0 };

	return a;
}

struct iota_arg
iota_arg_input(uint16_t i)
{
	struct iota_arg a = { IOTA_ARG_INPUT, i, 0 };

	return a;
}

struct iota_arg
iota_arg_result(uint16_t cmd)
{
	struct iota_arg a = { IOTA_ARG_RESULT, cmd, 0 };

	return a;
}

struct iota_arg
iota_arg_nested(uint16_t cmd, uint16_t sub)
{
	struct iota_arg a = { IOTA_ARG_NESTED_RESULT, cmd, sub };

	return a;
}

/* Fills a pure input: head copied (at most IOTA_PURE_INLINE_MAX, which
 * every caller below respects), body borrowed. */
static void
pure_set(
    struct iota_input *in, const uint8_t *head, size_t head_len, const void *body, size_t body_len)
{
	memset(in, 0, sizeof(*in));
	in->kind = IOTA_INPUT_PURE;
	if (head_len > 0)
		memcpy(in->head, head, head_len);
	in->head_len = head_len;
	in->body = body;
	in->body_len = body_len;
}

/* Little-endian integer as a pure value. */
static void
pure_le(struct iota_input *in, uint64_t v, size_t width)
{
	uint8_t b[8];
	size_t i;

	for (i = 0; i < width; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	pure_set(in, b, width, NULL, 0);
}

void
iota_input_pure(struct iota_input *in, const void *bcs, size_t len)
{
	pure_set(in, NULL, 0, bcs, len);
}

void
iota_input_pure_u8(struct iota_input *in, uint8_t v)
{
	pure_le(in, v, 1);
}

void
iota_input_pure_u16(struct iota_input *in, uint16_t v)
{
	pure_le(in, v, 2);
}

void
iota_input_pure_u64(struct iota_input *in, uint64_t v)
{
	pure_le(in, v, 8);
}

void
iota_input_pure_bool(struct iota_input *in, int v)
{
	pure_le(in, v ? 1 : 0, 1);
}

void
iota_input_pure_address(struct iota_input *in, const uint8_t addr[IOTA_ADDRESS_BYTES])
{
	pure_set(in, addr, IOTA_ADDRESS_BYTES, NULL, 0);
}

/* Optional Some tag, then the ULEB128 length, inline; the bytes borrowed. */
static void
pure_prefixed(struct iota_input *in, int some, const void *p, size_t n)
{
	uint8_t head[1 + BCS_ULEB128_MAX_BYTES];
	struct bcs_writer w;
	size_t hl = 0;

	bcs_init(&w, head, sizeof(head));
	if (some)
		(void)bcs_put_some(&w);
	(void)bcs_put_uleb128(&w, n);
	/* Cannot fail: head holds a tag and any ULEB128. */
	if (bcs_finish(&w, &hl) != 0)
		hl = 0;
	pure_set(in, head, hl, p, n);
}

void
iota_input_pure_bytes(struct iota_input *in, const void *p, size_t n)
{
	pure_prefixed(in, 0, p, n);
}

enum iota_err
iota_input_pure_string(struct iota_input *in, const char *s, size_t n)
{
	if (!util_utf8_valid(s, n))
		return IOTA_E_UTF8;
	pure_prefixed(in, 0, s, n);
	return IOTA_OK;
}

enum iota_err
iota_input_pure_option_string(struct iota_input *in, const char *s, size_t n)
{
	static const uint8_t none = 0;

	if (s == NULL) {
		pure_set(in, &none, 1, NULL, 0);
		return IOTA_OK;
	}
	if (!util_utf8_valid(s, n))
		return IOTA_E_UTF8;
	pure_prefixed(in, 1, s, n);
	return IOTA_OK;
}

void
iota_input_owned(struct iota_input *in, const struct iota_object_ref *ref)
{
	memset(in, 0, sizeof(*in));
	in->kind = IOTA_INPUT_OWNED;
	in->ref = *ref;
}

void
iota_input_receiving(struct iota_input *in, const struct iota_object_ref *ref)
{
	memset(in, 0, sizeof(*in));
	in->kind = IOTA_INPUT_RECEIVING;
	in->ref = *ref;
}

void
iota_input_shared(struct iota_input *in, const struct iota_shared_ref *ref)
{
	memset(in, 0, sizeof(*in));
	in->kind = IOTA_INPUT_SHARED;
	in->shared = *ref;
}

/* The encoder's state: where we write, and what the checks need. The
 * put_*() helpers return -1 only for a semantic error; running out of room
 * is sticky in the writer and reported at the end, so every check runs
 * whatever the cap and the error does not depend on the buffer size. */
struct enc {
	struct bcs_writer w;
	const struct iota_tx *tx;
	size_t cmd; /* index of the command being written */
	enum iota_err err;
};

/* Records the first semantic error (the writer records overflow). */
static int
enc_fail(struct enc *e, enum iota_err err)
{
	if (e->err == IOTA_OK)
		e->err = err;
	return -1;
}

/* Move identifier: [A-Za-z][A-Za-z0-9_]* or _[A-Za-z0-9_]+, as the
 * network's Identifier::is_valid accepts. */
static int
ident_valid(const char *s)
{
	size_t i, n;

	if (s == NULL)
		return 0;
	n = strnlen(s, IOTA_IDENT_MAX + 1);
	if (n == 0 || n > IOTA_IDENT_MAX || (s[0] == '_' && n == 1))
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];
		int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
		int digit = c >= '0' && c <= '9';

		if (!(alpha || c == '_' || (digit && i > 0)))
			return 0;
	}
	return 1;
}

static int
put_ident(struct enc *e, const char *s)
{
	if (!ident_valid(s))
		return enc_fail(e, IOTA_E_INVAL);
	bcs_put_str(&e->w, s, strlen(s));
	return 0;
}

/* A vector's length; our counts come from size_t fields. */
static int
put_count(struct enc *e, size_t n, const void *items)
{
	if (n > 0 && items == NULL)
		return enc_fail(e, IOTA_E_INVAL);
	if (n > BCS_MAX_SEQUENCE_LEN)
		return enc_fail(e, IOTA_E_LIMIT);
	bcs_put_len(&e->w, n);
	return 0;
}

static int
put_object_ref(struct enc *e, const struct iota_object_ref *r)
{
	bcs_put_fixed(&e->w, r->id, IOTA_ADDRESS_BYTES);
	bcs_put_u64(&e->w, r->version);
	/* ObjectDigest is a vector<u8> of 32, hence the 0x20 length byte. */
	bcs_put_bytes(&e->w, r->digest, IOTA_DIGEST_BYTES);
	return 0;
}

/* Argument, checked against the inputs and the commands before this one. */
static int
put_arg(struct enc *e, const struct iota_arg *a)
{
	switch (a->kind) {
	case IOTA_ARG_GAS_COIN:
		bcs_put_u8(&e->w, IOTA_ARG_GAS_COIN);
		return 0;
	case IOTA_ARG_INPUT:
		if (a->index >= e->tx->n_inputs)
			return enc_fail(e, IOTA_E_INVAL);
		bcs_put_u8(&e->w, IOTA_ARG_INPUT);
		bcs_put_u16(&e->w, a->index);
		return 0;
	case IOTA_ARG_RESULT:
		if (a->index >= e->cmd)
			return enc_fail(e, IOTA_E_INVAL);
		bcs_put_u8(&e->w, IOTA_ARG_RESULT);
		bcs_put_u16(&e->w, a->index);
		return 0;
	case IOTA_ARG_NESTED_RESULT:
		if (a->index >= e->cmd)
			return enc_fail(e, IOTA_E_INVAL);
		bcs_put_u8(&e->w, IOTA_ARG_NESTED_RESULT);
		bcs_put_u16(&e->w, a->index);
		bcs_put_u16(&e->w, a->sub);
		return 0;
	}
	return enc_fail(e, IOTA_E_INVAL);
}

static int
put_args(struct enc *e, const struct iota_arg *args, size_t n)
{
	size_t i;

	if (put_count(e, n, args) != 0)
		return -1;
	for (i = 0; i < n; i++)
		if (put_arg(e, &args[i]) != 0)
			return -1;
	return 0;
}

static int put_type_tags(struct enc *e, const struct iota_type_tag *t, size_t n, int depth);

/* TypeTag, recursing at most IOTA_TYPE_DEPTH_MAX levels: the network
 * refuses deeper types and the bound keeps the stack small. */
static int
put_type_tag(struct enc *e, const struct iota_type_tag *t, int depth)
{
	const struct iota_struct_tag *st;

	if (depth > IOTA_TYPE_DEPTH_MAX)
		return enc_fail(e, IOTA_E_LIMIT);
	switch (t->kind) {
	case IOTA_TYPE_BOOL:
	case IOTA_TYPE_U8:
	case IOTA_TYPE_U64:
	case IOTA_TYPE_U128:
	case IOTA_TYPE_ADDRESS:
	case IOTA_TYPE_SIGNER:
	case IOTA_TYPE_U16:
	case IOTA_TYPE_U32:
	case IOTA_TYPE_U256:
		bcs_put_u8(&e->w, (uint8_t)t->kind);
		return 0;
	case IOTA_TYPE_VECTOR:
		if (t->elem == NULL)
			return enc_fail(e, IOTA_E_INVAL);
		bcs_put_u8(&e->w, IOTA_TYPE_VECTOR);
		return put_type_tag(e, t->elem, depth + 1);
	case IOTA_TYPE_STRUCT:
		st = t->st;
		if (st == NULL)
			return enc_fail(e, IOTA_E_INVAL);
		bcs_put_u8(&e->w, IOTA_TYPE_STRUCT);
		bcs_put_fixed(&e->w, st->address, IOTA_ADDRESS_BYTES);
		if (put_ident(e, st->module) != 0 || put_ident(e, st->name) != 0)
			return -1;
		return put_type_tags(e, st->params, st->n_params, depth + 1);
	}
	return enc_fail(e, IOTA_E_INVAL);
}

static int
put_type_tags(struct enc *e, const struct iota_type_tag *t, size_t n, int depth)
{
	size_t i;

	if (put_count(e, n, t) != 0)
		return -1;
	for (i = 0; i < n; i++)
		if (put_type_tag(e, &t[i], depth) != 0)
			return -1;
	return 0;
}

/* CallArg. */
static int
put_input(struct enc *e, const struct iota_input *in)
{
	const struct iota_shared_ref *s;

	switch (in->kind) {
	case IOTA_INPUT_PURE:
		if (in->head_len > IOTA_PURE_INLINE_MAX || (in->body_len > 0 && in->body == NULL) ||
		    in->body_len > BCS_MAX_SEQUENCE_LEN - in->head_len)
			return enc_fail(e, IOTA_E_INVAL);
		bcs_put_u8(&e->w, 0);
		bcs_put_len(&e->w, in->head_len + in->body_len);
		bcs_put_fixed(&e->w, in->head, in->head_len);
		bcs_put_fixed(&e->w, in->body, in->body_len);
		return 0;
	case IOTA_INPUT_OWNED:
		bcs_put_u8(&e->w, 1);
		bcs_put_u8(&e->w, 0);
		return put_object_ref(e, &in->ref);
	case IOTA_INPUT_SHARED:
		s = &in->shared;
		bcs_put_u8(&e->w, 1);
		bcs_put_u8(&e->w, 1);
		bcs_put_fixed(&e->w, s->id, IOTA_ADDRESS_BYTES);
		bcs_put_u64(&e->w, s->initial_shared_version);
		bcs_put_bool(&e->w, s->is_mutable);
		return 0;
	case IOTA_INPUT_RECEIVING:
		bcs_put_u8(&e->w, 1);
		bcs_put_u8(&e->w, 2);
		return put_object_ref(e, &in->ref);
	}
	return enc_fail(e, IOTA_E_INVAL);
}

/* Command. */
static int
put_command(struct enc *e, const struct iota_command *c)
{
	switch (c->kind) {
	case IOTA_CMD_MOVE_CALL:
		bcs_put_u8(&e->w, IOTA_CMD_MOVE_CALL);
		bcs_put_fixed(&e->w, c->package, IOTA_ADDRESS_BYTES);
		if (put_ident(e, c->module) != 0 || put_ident(e, c->function) != 0 ||
		    put_type_tags(e, c->type_args, c->n_type_args, 1) != 0)
			return -1;
		return put_args(e, c->args, c->n_args);
	case IOTA_CMD_TRANSFER_OBJECTS:
		bcs_put_u8(&e->w, IOTA_CMD_TRANSFER_OBJECTS);
		if (put_args(e, c->args, c->n_args) != 0)
			return -1;
		return put_arg(e, &c->target);
	case IOTA_CMD_SPLIT_COINS:
	case IOTA_CMD_MERGE_COINS:
		/* Both are (Argument, vector<Argument>). */
		bcs_put_u8(&e->w, (uint8_t)c->kind);
		if (put_arg(e, &c->target) != 0)
			return -1;
		return put_args(e, c->args, c->n_args);
	}
	return enc_fail(e, IOTA_E_INVAL);
}

enum iota_err
iota_tx_encode(const struct iota_tx *tx, uint8_t *out, size_t cap, size_t *len)
{
	struct enc e;
	size_t i;

	memset(&e, 0, sizeof(e));
	if (tx == NULL || len == NULL || (out == NULL && cap > 0))
		return IOTA_E_INVAL;
	/* Argument indices are u16. */
	if (tx->n_inputs > UINT16_MAX + 1u || tx->n_commands > UINT16_MAX + 1u ||
	    tx->n_gas_coins > IOTA_GAS_COINS_MAX)
		return IOTA_E_LIMIT;
	bcs_init(&e.w, out, cap);
	e.tx = tx;
	bcs_put_u8(&e.w, 0); /* TransactionData::V1 */
	bcs_put_u8(&e.w, 0); /* TransactionKind::ProgrammableTransaction */
	if (put_count(&e, tx->n_inputs, tx->inputs) != 0)
		goto fail;
	for (i = 0; i < tx->n_inputs; i++)
		if (put_input(&e, &tx->inputs[i]) != 0)
			goto fail;
	if (put_count(&e, tx->n_commands, tx->commands) != 0)
		goto fail;
	for (e.cmd = 0; e.cmd < tx->n_commands; e.cmd++)
		if (put_command(&e, &tx->commands[e.cmd]) != 0)
			goto fail;
	bcs_put_fixed(&e.w, tx->sender, IOTA_ADDRESS_BYTES);
	/* GasData { payment, owner, price, budget } */
	if (put_count(&e, tx->n_gas_coins, tx->gas_coins) != 0)
		goto fail;
	for (i = 0; i < tx->n_gas_coins; i++)
		put_object_ref(&e, &tx->gas_coins[i]);
	bcs_put_fixed(&e.w, tx->gas_owner, IOTA_ADDRESS_BYTES);
	bcs_put_u64(&e.w, tx->gas_price);
	bcs_put_u64(&e.w, tx->gas_budget);
	if (tx->has_expiration) {
		bcs_put_u8(&e.w, 1); /* TransactionExpiration::Epoch */
		bcs_put_u64(&e.w, tx->expiration_epoch);
	} else {
		bcs_put_u8(&e.w, 0); /* TransactionExpiration::None */
	}
	if (bcs_finish(&e.w, len) != 0)
		return IOTA_E_SPACE;
	return IOTA_OK;
fail:
	return e.err;
}

/* The envelope of our own transactions around a programmable body. */
static enum iota_err
encode_with_meta(const struct iota_tx_meta *m, const struct iota_input *inputs, size_t n_inputs,
    const struct iota_command *commands, size_t n_commands, uint8_t *out, size_t cap, size_t *len)
{
	struct iota_tx tx;

	if (m->n_gas_coins == 0 || m->gas_coins == NULL)
		return IOTA_E_INVAL;
	memset(&tx, 0, sizeof(tx));
	tx.inputs = inputs;
	tx.n_inputs = n_inputs;
	tx.commands = commands;
	tx.n_commands = n_commands;
	memcpy(tx.sender, m->sender, IOTA_ADDRESS_BYTES);
	memcpy(tx.gas_owner, m->sender, IOTA_ADDRESS_BYTES);
	tx.gas_coins = m->gas_coins;
	tx.n_gas_coins = m->n_gas_coins;
	tx.gas_price = m->gas_price;
	tx.gas_budget = m->gas_budget;
	tx.has_expiration = m->has_expiration;
	tx.expiration_epoch = m->expiration_epoch;
	return iota_tx_encode(&tx, out, cap, len);
}

enum iota_err
iota_tx_payment(const struct iota_tx_meta *m, const uint8_t recipient[IOTA_ADDRESS_BYTES],
    uint64_t amount, uint8_t *out, size_t cap, size_t *len)
{
	struct iota_input inputs[2];
	struct iota_command cmds[2];
	struct iota_arg amount_arg, coin_arg;

	if (m == NULL || recipient == NULL)
		return IOTA_E_INVAL;
	iota_input_pure_u64(&inputs[0], amount);
	iota_input_pure_address(&inputs[1], recipient);
	memset(cmds, 0, sizeof(cmds));
	amount_arg = iota_arg_input(0);
	cmds[0].kind = IOTA_CMD_SPLIT_COINS;
	cmds[0].target = iota_arg_gas();
	cmds[0].args = &amount_arg;
	cmds[0].n_args = 1;
	coin_arg = iota_arg_nested(0, 0);
	cmds[1].kind = IOTA_CMD_TRANSFER_OBJECTS;
	cmds[1].args = &coin_arg;
	cmds[1].n_args = 1;
	cmds[1].target = iota_arg_input(1);
	return encode_with_meta(m, inputs, 2, cmds, 2, out, cap, len);
}

enum iota_err
iota_tx_notarize(const struct iota_tx_meta *m, enum iota_network net, const uint8_t *data, size_t n,
    const char *description, uint8_t *out, size_t cap, size_t *len)
{
	static const struct iota_type_tag u8_tag = { IOTA_TYPE_U8, NULL, NULL };
	static const struct iota_type_tag vec_u8 = { IOTA_TYPE_VECTOR, &u8_tag, NULL };
	static const struct iota_shared_ref clock = { { [IOTA_ADDRESS_BYTES - 1] = 0x06 },
		CLOCK_INITIAL_SHARED_VERSION, 0 };
	const uint8_t *pkg = iota_notarization_package(net);
	struct iota_input inputs[5];
	struct iota_command cmds[3];
	struct iota_arg state_args[2], create_args[5];
	enum iota_err err;

	if (m == NULL || pkg == NULL || (data == NULL && n > 0))
		return IOTA_E_INVAL;
	/* Inputs in the order the official SDKs add them. */
	iota_input_shared(&inputs[0], &clock);
	iota_input_pure_bytes(&inputs[1], data, n);
	err = iota_input_pure_option_string(&inputs[2], NULL, 0); /* state metadata */
	if (err != IOTA_OK)
		return err;
	err = iota_input_pure_option_string(
	    &inputs[3], description, description == NULL ? 0 : strlen(description));
	if (err != IOTA_OK)
		return err;
	err = iota_input_pure_option_string(&inputs[4], NULL, 0); /* updatable metadata */
	if (err != IOTA_OK)
		return err;

	memset(cmds, 0, sizeof(cmds));
	state_args[0] = iota_arg_input(1);
	state_args[1] = iota_arg_input(2);
	memcpy(cmds[0].package, pkg, IOTA_ADDRESS_BYTES);
	cmds[0].kind = IOTA_CMD_MOVE_CALL;
	cmds[0].module = "notarization";
	cmds[0].function = "new_state_from_bytes";
	cmds[0].args = state_args;
	cmds[0].n_args = 2;

	memcpy(cmds[1].package, pkg, IOTA_ADDRESS_BYTES);
	cmds[1].kind = IOTA_CMD_MOVE_CALL;
	cmds[1].module = "timelock";
	cmds[1].function = "none";

	create_args[0] = iota_arg_result(0); /* state */
	create_args[1] = iota_arg_input(3);  /* immutable_description */
	create_args[2] = iota_arg_input(4);  /* updatable_metadata */
	create_args[3] = iota_arg_result(1); /* delete_lock */
	create_args[4] = iota_arg_input(0);  /* clock */
	memcpy(cmds[2].package, pkg, IOTA_ADDRESS_BYTES);
	cmds[2].kind = IOTA_CMD_MOVE_CALL;
	cmds[2].module = "locked_notarization";
	cmds[2].function = "create";
	cmds[2].type_args = &vec_u8;
	cmds[2].n_type_args = 1;
	cmds[2].args = create_args;
	cmds[2].n_args = 5;
	return encode_with_meta(m, inputs, 5, cmds, 3, out, cap, len);
}
