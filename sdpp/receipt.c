/* Buyer receipts: the signed sdpp/2 statement with readable copies, written and read back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdpp/enc.h"
#include "sdpp/json.h"
#include "sdpp/receipt.h"

static void
fail(char *err, size_t errlen, const char *why)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s", why);
}

/* Adds a member; 0, or -1 when cJSON runs out of memory. */
static int
add_str(cJSON *o, const char *k, const char *v)
{
	return cJSON_AddStringToObject(o, k, v) == NULL ? -1 : 0;
}

static int
add_num(cJSON *o, const char *k, uint64_t v)
{
	return cJSON_AddNumberToObject(o, k, (double)v) == NULL ? -1 : 0;
}

static int
add_hex(cJSON *o, const char *k, const uint8_t *b, size_t n)
{
	char hex[SDPP_HEX_LEN(64)];

	sdpp_hex_encode(hex, b, n);
	return add_str(o, k, hex);
}

static int
add_money(cJSON *o, const char *k, uint64_t v)
{
	char buf[SDPP_MONEY_LEN];

	sdpp_money_format(buf, v);
	return add_str(o, k, buf);
}

/* The statement of frame, checked as the buyer checks it. */
static enum sdpp_err
read_frame(struct sdpp_msg *m, const uint8_t seller[SDPP_SIGN_PUBLIC_BYTES], const char *frame,
    size_t len, char *err, size_t errlen)
{
	char why[SDPP_TEXT_MAX + 1];
	enum sdpp_err e;

	memset(m, 0, sizeof(*m));
	e = sdpp_msg_parse(m, frame, len, SDPP_ROLE_SELLER, why, sizeof(why));
	if (e != SDPP_OK) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "the statement does not parse: %s", why);
		return e;
	}
	e = SDPP_E_BAD_MESSAGE;
	if (m->type != SDPP_T_EXIT) {
		fail(err, errlen, "the frame is not a closing statement");
		goto fail;
	}
	if (m->u.statement.version != 2) {
		fail(err, errlen, "the statement has no tree head (an sdpp/1 seller)");
		goto fail;
	}
	e = SDPP_E_SIGNATURE;
	if (sdpp_verify_raw(
	        seller, m->signed_bytes, m->signed_len, m->signature, SDPP_SIGN_BYTES) != SDPP_OK) {
		fail(err, errlen, "the statement's signature does not verify with the seller key");
		goto fail;
	}
	if (sdpp_tree_head_verify(&m->u.statement.tree_head, seller) != SDPP_OK) {
		fail(err, errlen, "the tree head's signature does not verify with the seller key");
		goto fail;
	}
	return SDPP_OK;
fail:
	sdpp_msg_free(m);
	return e;
}

enum sdpp_err
sdpp_receipt_encode(const uint8_t seller[SDPP_SIGN_PUBLIC_BYTES], const char *frame, size_t len,
    char **out, size_t *outlen, char *err, size_t errlen)
{
	const struct sdpp_statement *st;
	struct sdpp_msg m;
	cJSON *o = NULL, *s, *t;
	char *text = NULL;
	enum sdpp_err e;

	*out = NULL;
	e = read_frame(&m, seller, frame, len, err, errlen);
	if (e != SDPP_OK)
		return e;
	st = &m.u.statement;
	text = malloc(len + 1);
	o = cJSON_CreateObject();
	e = SDPP_E_NOMEM;
	if (text == NULL || o == NULL)
		goto out;
	memcpy(text, frame, len);
	text[len] = '\0';
	if (add_str(o, "frame", text) != 0 || add_hex(o, "order_id", st->order_id, 32) != 0 ||
	    add_str(o, "record", m.verification) != 0 || add_hex(o, "seller", seller, 32) != 0 ||
	    add_str(o, "version", SDPP_RECEIPT_VERSION) != 0)
		goto out;
	s = cJSON_AddObjectToObject(o, "statement");
	t = cJSON_AddObjectToObject(o, "tree_head");
	if (s == NULL || t == NULL || add_num(s, "acked", st->acked) != 0 ||
	    add_num(s, "delivered", st->delivered) != 0 ||
	    cJSON_AddBoolToObject(s, "settled", st->settled) == NULL ||
	    add_money(s, "total_due", st->total_due) != 0 ||
	    add_money(s, "total_paid", st->total_paid) != 0 ||
	    add_hex(t, "root", st->tree_head.root, SDPP_TREE_HEAD_ROOT_BYTES) != 0 ||
	    add_num(t, "size", st->tree_head.size) != 0 ||
	    add_num(t, "time", (uint64_t)st->tree_head.time) != 0)
		goto out;
	{
		char sig[SDPP_B64_LEN(SDPP_SIGN_BYTES)];

		sdpp_b64_encode(sig, st->tree_head.signature, SDPP_SIGN_BYTES);
		if (add_str(t, "signature", sig) != 0)
			goto out;
	}
	e = sdpp_jcs_serialize_int(o, SDPP_RECEIPT_MAX, out, outlen);
	if (e != SDPP_OK)
		fail(err, errlen, "the receipt is too large");
out:
	if (e == SDPP_E_NOMEM)
		fail(err, errlen, "out of memory");
	cJSON_Delete(o);
	free(text);
	sdpp_msg_free(&m);
	return e;
}

enum sdpp_err
sdpp_receipt_parse(struct sdpp_receipt *r, const char *buf, size_t len, char *err, size_t errlen)
{
	const cJSON *seller, *frame, *ver;
	struct sdpp_msg m;
	cJSON *o = NULL;
	char *again = NULL;
	size_t alen;
	enum sdpp_err e;

	memset(r, 0, sizeof(*r));
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	if (len > SDPP_RECEIPT_MAX) {
		fail(err, errlen, "larger than a receipt can be");
		return SDPP_E_BAD_MESSAGE;
	}
	e = sdpp_json_parse(&o, buf, len, err, errlen);
	if (e != SDPP_OK)
		return e;
	e = SDPP_E_BAD_MESSAGE;
	ver = cJSON_GetObjectItemCaseSensitive(o, "version");
	seller = cJSON_GetObjectItemCaseSensitive(o, "seller");
	frame = cJSON_GetObjectItemCaseSensitive(o, "frame");
	if (!cJSON_IsString(ver) || strcmp(ver->valuestring, SDPP_RECEIPT_VERSION) != 0) {
		fail(err, errlen, "not an " SDPP_RECEIPT_VERSION " receipt");
		goto out;
	}
	if (!cJSON_IsString(seller) ||
	    sdpp_hex_decode(r->seller, sizeof(r->seller), seller->valuestring) != SDPP_OK) {
		fail(err, errlen, "seller: not 64 hex digits");
		goto out;
	}
	if (!cJSON_IsString(frame)) {
		fail(err, errlen, "frame: not a string");
		goto out;
	}
	/* The readable copies must be exactly what the signed frame says. */
	e = sdpp_receipt_encode(
	    r->seller, frame->valuestring, strlen(frame->valuestring), &again, &alen, err, errlen);
	if (e != SDPP_OK)
		goto out;
	e = SDPP_E_BAD_MESSAGE;
	if (alen != len || memcmp(again, buf, len) != 0) {
		fail(err, errlen, "the receipt's fields do not match its signed statement");
		goto out;
	}
	e = read_frame(&m, r->seller, frame->valuestring, strlen(frame->valuestring), err, errlen);
	if (e != SDPP_OK)
		goto out;
	r->statement = m.u.statement;
	snprintf(r->record, sizeof(r->record), "%s", m.verification);
	sdpp_msg_free(&m);
	e = SDPP_OK;
out:
	free(again);
	cJSON_Delete(o);
	if (e != SDPP_OK)
		memset(r, 0, sizeof(*r));
	return e;
}
