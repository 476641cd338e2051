/* IOTA Rebased transactions offline: BCS TransactionData V1, intent signing, digests, addresses. */
#ifndef IOTA_IOTA_H
#define IOTA_IOTA_H

#include <stddef.h>
#include <stdint.h>

#include "sdpp/crypto.h"

#define IOTA_ADDRESS_BYTES 32 /* addresses, object and package ids */
#define IOTA_DIGEST_BYTES 32  /* BLAKE2b-256: object and transaction digests */
/* "0x" + 64 lowercase hex digits + NUL. */
#define IOTA_ADDRESS_TEXT_LEN (2 + 2 * IOTA_ADDRESS_BYTES + 1)
/* Base58 of 32 bytes is 43 or 44 characters; + NUL, with room to spare. */
#define IOTA_DIGEST_TEXT_LEN 46
/* Serialized signature: scheme flag 00 (Ed25519) || signature || public key. */
#define IOTA_SIGNATURE_BYTES (1 + SDPP_SIGN_BYTES + SDPP_SIGN_PUBLIC_BYTES)

/* Protocol limits (iota-protocol-config): the network refuses more. The
 * node's validity check compares a pure argument's size and the number of
 * gas coins with a strict `<', so the largest it accepts is one less than
 * the configured value; the *_MAX names below are those largest values. */
#define IOTA_TX_MAX_BYTES (128 * 1024) /* max_tx_size_bytes */
#define IOTA_MAX_PURE_ARGUMENT_SIZE 16384
#define IOTA_MAX_GAS_PAYMENT_OBJECTS 256
#define IOTA_PURE_ARG_MAX (IOTA_MAX_PURE_ARGUMENT_SIZE - 1)   /* 16383 bytes */
#define IOTA_GAS_COINS_MAX (IOTA_MAX_GAS_PAYMENT_OBJECTS - 1) /* 255 coins */
#define IOTA_TYPE_DEPTH_MAX 16                                /* max_type_argument_depth */
/* Longest notarized data that fits one pure argument: 16381 bytes plus its
 * 2-byte ULEB128 length is IOTA_PURE_ARG_MAX; a description takes one more
 * byte (the Option tag), so at most 16380. iota_tx_notarize() builds longer
 * ones (the SDK does too) but the network refuses them. */
#define IOTA_NOTARIZE_DATA_MAX (IOTA_PURE_ARG_MAX - 2)
#define IOTA_NOTARIZE_DESCRIPTION_MAX (IOTA_PURE_ARG_MAX - 3)
/* Move identifiers (module, function, struct names) we accept. */
#define IOTA_IDENT_MAX 128
/* Pure values up to this size are copied into struct iota_input. */
#define IOTA_PURE_INLINE_MAX 40

enum iota_err {
	IOTA_OK = 0,
	IOTA_E_INVAL,  /* bad argument: NULL, bad identifier, index out of range */
	IOTA_E_SPACE,  /* the output buffer is too small */
	IOTA_E_LIMIT,  /* beyond a limit: gas coins, type depth, u16 indices */
	IOTA_E_UTF8,   /* a Move String that is not valid UTF-8 */
	IOTA_E_CRYPTO, /* hashing or signing failed */
};

/* Human-readable description; static storage, never NULL. */
const char *iota_strerror(enum iota_err e);

enum iota_network {
	IOTA_MAINNET,
	IOTA_TESTNET,
	IOTA_DEVNET,
};

/* "mainnet", "testnet" or "devnet"; -1 for anything else. */
int iota_network_parse(enum iota_network *net, const char *name)
    __attribute__((warn_unused_result));
const char *iota_network_name(enum iota_network net);
/*
 * The SDPP payment method that names IOTA on one network: "iota-mainnet",
 * "iota-testnet" or "iota-devnet". The menu's method carries the network
 * because SDPP/1 objects cannot grow members (PROTOCOL 3.2, 12).
 */
const char *iota_method_name(enum iota_network net);
/* The network of such a method; -1 for any other method. */
int iota_method_parse(enum iota_network *net, const char *method)
    __attribute__((warn_unused_result));

/* The iota_notarization Move package on a network (static storage, 32
 * bytes), from notarization-move/Move.history.json. Devnet is reset from
 * time to time, and its id with it. */
const uint8_t *iota_notarization_package(enum iota_network net);

/* An owned or immutable object at one version. */
struct iota_object_ref {
	uint8_t id[IOTA_ADDRESS_BYTES];
	uint64_t version;
	uint8_t digest[IOTA_DIGEST_BYTES];
};

/* A shared object: its id, the version it became shared at, and whether the
 * transaction takes it by &mut (true) or & (false). */
struct iota_shared_ref {
	uint8_t id[IOTA_ADDRESS_BYTES];
	uint64_t initial_shared_version;
	int is_mutable;
};

/* Argument of a command (values are the BCS variant tags). */
enum iota_arg_kind {
	IOTA_ARG_GAS_COIN = 0,
	IOTA_ARG_INPUT = 1,
	IOTA_ARG_RESULT = 2,
	IOTA_ARG_NESTED_RESULT = 3,
};

struct iota_arg {
	enum iota_arg_kind kind;
	uint16_t index; /* INPUT: input; RESULT, NESTED_RESULT: command */
	uint16_t sub;   /* NESTED_RESULT: which of the command's results */
};

struct iota_arg iota_arg_gas(void);
struct iota_arg iota_arg_input(uint16_t i);
struct iota_arg iota_arg_result(uint16_t cmd);
struct iota_arg iota_arg_nested(uint16_t cmd, uint16_t sub);

/* Move type tags (values are the BCS variant tags). */
enum iota_type_kind {
	IOTA_TYPE_BOOL = 0,
	IOTA_TYPE_U8 = 1,
	IOTA_TYPE_U64 = 2,
	IOTA_TYPE_U128 = 3,
	IOTA_TYPE_ADDRESS = 4,
	IOTA_TYPE_SIGNER = 5,
	IOTA_TYPE_VECTOR = 6,
	IOTA_TYPE_STRUCT = 7,
	IOTA_TYPE_U16 = 8,
	IOTA_TYPE_U32 = 9,
	IOTA_TYPE_U256 = 10,
};

struct iota_struct_tag;

/* A type; elem (VECTOR) and st (STRUCT) are borrowed. Nesting deeper than
 * IOTA_TYPE_DEPTH_MAX is refused. */
struct iota_type_tag {
	enum iota_type_kind kind;
	const struct iota_type_tag *elem;
	const struct iota_struct_tag *st;
};

/* address::module::name<params...>; all pointers borrowed. */
struct iota_struct_tag {
	uint8_t address[IOTA_ADDRESS_BYTES];
	const char *module;
	const char *name;
	const struct iota_type_tag *params;
	size_t n_params;
};

/* A transaction input (CallArg). Fill it with one of the iota_input_*()
 * functions below rather than by hand. */
enum iota_input_kind {
	IOTA_INPUT_PURE,
	IOTA_INPUT_OWNED,     /* ObjectArg::ImmOrOwnedObject */
	IOTA_INPUT_SHARED,    /* ObjectArg::SharedObject */
	IOTA_INPUT_RECEIVING, /* ObjectArg::Receiving */
};

/*
 * A pure value is written as head (copied, up to IOTA_PURE_INLINE_MAX
 * bytes) followed by body (borrowed, may be NULL when body_len is 0), so a
 * large vector<u8> needs no copy: its ULEB128 length goes in head and the
 * bytes stay where they are. The body must outlive the encoding.
 */
struct iota_input {
	enum iota_input_kind kind;
	uint8_t head[IOTA_PURE_INLINE_MAX];
	size_t head_len;
	const uint8_t *body;
	size_t body_len;
	struct iota_object_ref ref;    /* OWNED, RECEIVING */
	struct iota_shared_ref shared; /* SHARED */
};

/* Pure inputs. iota_input_pure() takes already-serialized BCS (borrowed). */
void iota_input_pure(struct iota_input *in, const void *bcs, size_t len);
void iota_input_pure_u8(struct iota_input *in, uint8_t v);
void iota_input_pure_u16(struct iota_input *in, uint16_t v);
void iota_input_pure_u64(struct iota_input *in, uint64_t v);
void iota_input_pure_bool(struct iota_input *in, int v);
void iota_input_pure_address(struct iota_input *in, const uint8_t addr[IOTA_ADDRESS_BYTES]);
/* vector<u8> (borrowed). */
void iota_input_pure_bytes(struct iota_input *in, const void *p, size_t n);
/* String (borrowed); IOTA_E_UTF8 if s[0..n) is not UTF-8. */
enum iota_err iota_input_pure_string(struct iota_input *in, const char *s, size_t n)
    __attribute__((warn_unused_result));
/* Option<String>: NULL s is None; otherwise Some(s[0..n)) as above. */
enum iota_err iota_input_pure_option_string(struct iota_input *in, const char *s, size_t n)
    __attribute__((warn_unused_result));

/* Object inputs (copied). */
void iota_input_owned(struct iota_input *in, const struct iota_object_ref *ref);
void iota_input_receiving(struct iota_input *in, const struct iota_object_ref *ref);
void iota_input_shared(struct iota_input *in, const struct iota_shared_ref *ref);

/* Commands of a programmable transaction (values are the BCS variant tags). */
enum iota_command_kind {
	IOTA_CMD_MOVE_CALL = 0,        /* package::module::function<type_args>(args) */
	IOTA_CMD_TRANSFER_OBJECTS = 1, /* args to the address `target` */
	IOTA_CMD_SPLIT_COINS = 2,      /* coin `target` into amounts `args` */
	IOTA_CMD_MERGE_COINS = 3,      /* coins `args` into `target` */
};

/* One command; pointers borrowed. Fields a kind does not use are ignored. */
struct iota_command {
	enum iota_command_kind kind;
	uint8_t package[IOTA_ADDRESS_BYTES]; /* MOVE_CALL */
	const char *module;                  /* MOVE_CALL */
	const char *function;                /* MOVE_CALL */
	const struct iota_type_tag *type_args;
	size_t n_type_args;
	const struct iota_arg *args;
	size_t n_args;
	struct iota_arg target;
};

/*
 * TransactionData::V1 with a ProgrammableTransaction kind. Every pointer is
 * borrowed. Expiration is None unless has_expiration (then Epoch).
 */
struct iota_tx {
	const struct iota_input *inputs;
	size_t n_inputs;
	const struct iota_command *commands;
	size_t n_commands;
	uint8_t sender[IOTA_ADDRESS_BYTES];
	const struct iota_object_ref *gas_coins;
	size_t n_gas_coins;
	uint8_t gas_owner[IOTA_ADDRESS_BYTES];
	uint64_t gas_price;
	uint64_t gas_budget;
	int has_expiration;
	uint64_t expiration_epoch;
};

/*
 * Serializes tx into out[0..cap) and sets *len. Checks what the bytes
 * cannot express or the network can never accept: Input and Result
 * indices must name an existing input or an earlier command, Move names
 * must be identifiers, at most IOTA_GAS_COINS_MAX gas coins. On error
 * nothing past cap is written; out's contents are unspecified.
 */
enum iota_err iota_tx_encode(const struct iota_tx *tx, uint8_t *out, size_t cap, size_t *len)
    __attribute__((warn_unused_result));

/* What our own transactions share: the sender pays its own gas. */
struct iota_tx_meta {
	uint8_t sender[IOTA_ADDRESS_BYTES];
	const struct iota_object_ref *gas_coins; /* 1 to IOTA_GAS_COINS_MAX, borrowed */
	size_t n_gas_coins;
	uint64_t gas_price;
	uint64_t gas_budget;
	int has_expiration;
	uint64_t expiration_epoch;
};

/*
 * A payment of amount nanos to recipient out of the gas coin:
 * SplitCoins(GasCoin, [Pure u64 amount]) then
 * TransferObjects([NestedResult(0,0)], Pure address recipient).
 */
enum iota_err iota_tx_payment(const struct iota_tx_meta *m,
    const uint8_t recipient[IOTA_ADDRESS_BYTES], uint64_t amount, uint8_t *out, size_t cap,
    size_t *len) __attribute__((warn_unused_result));

/*
 * A locked notarization of data[0..n) owned by the sender, with an optional
 * immutable description (NUL-terminated UTF-8, NULL for none):
 * inputs [Clock 0x6 shared immutable, data, None, description, None];
 * notarization::new_state_from_bytes(Input 1, Input 2),
 * timelock::none(),
 * locked_notarization::create<vector<u8>>(Result 0, Input 3, Input 4,
 * Result 1, Input 0). The input order is the official SDKs'.
 */
enum iota_err iota_tx_notarize(const struct iota_tx_meta *m, enum iota_network net,
    const uint8_t *data, size_t n, const char *description, uint8_t *out, size_t cap, size_t *len)
    __attribute__((warn_unused_result));

/* Transaction digest: BLAKE2b-256("TransactionData::" || tx). */
enum iota_err iota_tx_digest(uint8_t digest[IOTA_DIGEST_BYTES], const uint8_t *tx, size_t len)
    __attribute__((warn_unused_result));

/* What a signer signs: BLAKE2b-256(intent 00 00 00 || tx), the intent being
 * TransactionData, version 0, app IOTA. */
enum iota_err iota_intent_digest(uint8_t digest[IOTA_DIGEST_BYTES], const uint8_t *tx, size_t len)
    __attribute__((warn_unused_result));

/* Signs tx with the identity's Ed25519 key: sig = 00 || Ed25519(intent
 * digest) || public key, the form iota_executeTransactionBlock takes in
 * base64. */
enum iota_err iota_sign_tx(const struct sdpp_identity *id, const uint8_t *tx, size_t len,
    uint8_t sig[IOTA_SIGNATURE_BYTES]) __attribute__((warn_unused_result));

/* The same with a raw 32-byte Ed25519 secret key (the SDK's secret key). */
enum iota_err iota_sign_tx_seed(const uint8_t seed[32], const uint8_t *tx, size_t len,
    uint8_t sig[IOTA_SIGNATURE_BYTES]) __attribute__((warn_unused_result));

/* Address of an Ed25519 public key: BLAKE2b-256(pub), no scheme flag. */
enum iota_err iota_address_from_public(uint8_t addr[IOTA_ADDRESS_BYTES],
    const uint8_t pub[SDPP_SIGN_PUBLIC_BYTES]) __attribute__((warn_unused_result));

/* "0x" + 64 lowercase hex digits into out (IOTA_ADDRESS_TEXT_LEN bytes). */
void iota_address_format(char *out, const uint8_t addr[IOTA_ADDRESS_BYTES]);

/* Parses exactly "0x" + 64 hex digits (either case). Short forms such as
 * "0x6" are refused: a dropped digit in a recipient must not be padded
 * into somebody else's address. Returns 0 or -1. */
int iota_address_parse(uint8_t addr[IOTA_ADDRESS_BYTES], const char *text)
    __attribute__((warn_unused_result));

/* Base58 text of a digest into out (IOTA_DIGEST_TEXT_LEN bytes). */
void iota_digest_format(char *out, const uint8_t digest[IOTA_DIGEST_BYTES]);

/* Parses base58 text that decodes to exactly 32 bytes. Returns 0 or -1. */
int iota_digest_parse(uint8_t digest[IOTA_DIGEST_BYTES], const char *text)
    __attribute__((warn_unused_result));

/*
 * Parses "ID:VERSION:DIGEST" (0x + 64 hex, decimal u64, base58 of 32
 * bytes), as iotax_getCoins reports a coin. Returns 0, or -1 with the
 * reason in err (which part is wrong).
 */
int iota_object_ref_parse(struct iota_object_ref *ref, const char *text, char *err, size_t errlen)
    __attribute__((warn_unused_result));

#endif
