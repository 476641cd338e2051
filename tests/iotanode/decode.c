/* Test tool iotanode: the BCS TransactionData decoder, the two shapes it runs, its JSON form. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iota/bcs.h"
#include "util/text.h"
#include "tests/iotanode/iotanode.h"

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

void
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
struct dtx *
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

int
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
cJSON *
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
