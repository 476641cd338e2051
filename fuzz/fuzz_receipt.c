/* libFuzzer target: buyer receipts (sdpp buy --receipt, read by sdpp ledger verify --witness). */
#include "fuzz/fuzz.h"
#include "sdpp/crypto.h"
#include "sdpp/receipt.h"

/* Whatever it is handed, the reader either refuses with a reason and an
 * empty result, or returns an sdpp/2 statement whose tree head the
 * receipt's seller key signed. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sdpp_receipt r;
	char err[256];
	size_t i;
	enum sdpp_err e;

	memset(err, 'x', sizeof(err));
	e = sdpp_receipt_parse(&r, (const char *)data, size, err, sizeof(err));
	CHECK(memchr(err, '\0', sizeof(err)) != NULL);
	if (e != SDPP_OK) {
		CHECK(err[0] != '\0');
		for (i = 0; i < sizeof(r); i++)
			CHECK(((const uint8_t *)&r)[i] == 0);
		return 0;
	}
	CHECK(r.statement.version == 2);
	CHECK(r.statement.tree_head.size >= 1);
	CHECK(sdpp_tree_head_verify(&r.statement.tree_head, r.seller) == SDPP_OK);
	return 0;
}
