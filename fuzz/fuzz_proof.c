/* libFuzzer target: inclusion proofs (sdpp ledger prove, read by sdpp ledger check-proof). */
#include "fuzz/fuzz.h"
#include "ledger/ledger.h"
#include "sdpp/enc.h"

/* The key of the log the seed proof (fuzz/corpus/proof) came from: most
 * mutations keep its log_key, so they reach past the key check. */
static const char seed_key[] = "796ebaf71609d2f91e58dcb4bcce3de0689f7da0715b51bb8bba5a9c8c8691fe";

/* Whatever it is handed, the reader accepts with a summary or refuses
 * with a reason; never both, never neither. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t key[SDPP_SIGN_PUBLIC_BYTES];
	char summary[512], err[512];
	int rc;

	CHECK(sdpp_hex_decode(key, sizeof(key), seed_key) == SDPP_OK);
	memset(summary, 'x', sizeof(summary));
	memset(err, 'x', sizeof(err));
	summary[0] = err[0] = '\0';
	rc = ledger_proof_check(
	    (const char *)data, size, key, summary, sizeof(summary), err, sizeof(err));
	CHECK(memchr(summary, '\0', sizeof(summary)) != NULL);
	CHECK(memchr(err, '\0', sizeof(err)) != NULL);
	if (rc == 0)
		CHECK(summary[0] != '\0');
	else
		CHECK(err[0] != '\0');
	return 0;
}
