/* Test tool: records one purchase (10 items, K = 4, price 3) in DIR/ledger.db, keys beside it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ledger/ledger.h"
#include "sdpp/enc.h"
#include "tests/common/conv.h"
#include "tests/common/book_host.h"
#include "util/keyfile.h"

int
main(int argc, char **argv)
{
	struct ledger_config cfg;
	struct ledger *l;
	struct conv c;
	struct book_host g;
	char path[4096], err[LEDGER_ERR_MAX], hex[SDPP_HEX_LEN(32)], *pem;
	size_t len;
	uint8_t key[32];
	int i;

	if (argc != 2) {
		fprintf(stderr, "usage: tool_mkledger DIR\n");
		return 1;
	}
	conv_setup(&c, 4, 1, 3);
	snprintf(path, sizeof(path), "%s/ledger.db", argv[1]);
	memset(&cfg, 0, sizeof(cfg));
	cfg.path = path;
	cfg.id = c.sid;
	if (ledger_open(&l, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	book_host_attach(&g, &c, l);
	conv_start(&c);
	conv_order(&c, "co2", 10);
	for (i = 1; i <= 10; i++)
		conv_sample(&c, i);
	book_host_detach(&g);
	ledger_close(l);
	/* The seller's public key file, as `sdpp keygen` would write it. */
	snprintf(path, sizeof(path), "%s/seller.pub", argv[1]);
	if (sdpp_identity_public_pem(c.sid, &pem, &len) != SDPP_OK ||
	    keyfile_write(path, pem, len, 0644, 1, err, sizeof(err)) != 0) {
		fprintf(stderr, "cannot write %s\n", path);
		return 1;
	}
	free(pem);
	sdpp_identity_sign_public(c.sid, key);
	sdpp_hex_encode(hex, key, sizeof(key));
	printf("seller %s\n", hex);
	sdpp_identity_sign_public(c.bid, key);
	sdpp_hex_encode(hex, key, sizeof(key));
	printf("buyer %s\n", hex);
	sdpp_hex_encode(hex, sdpp_seller_order_id(c.s), 32);
	printf("order %s\n", hex);
	conv_teardown(&c);
	return 0;
}
