/* The gateway's IOTA account: its key, its node client and the address buyers pay to. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/iota.h"
#include "gateway/keys.h"
#include "gateway/log.h"
#include "tangle/tangle.h"

struct gw_iota {
	struct tangle *t;
	enum iota_network net;
	struct sdpp_identity *own_key; /* [iota] key, if not the seller's */
	uint8_t pay_to[IOTA_ADDRESS_BYTES];
};

int
gw_iota_new(struct gw_iota **out, struct event_base *base, const struct gateway_config *cfg,
    const struct sdpp_identity *seller, char *err, size_t errlen)
{
	struct gw_iota *gi;
	struct tangle_config tc;
	const struct sdpp_identity *signer = seller;
	uint8_t pub[SDPP_SIGN_PUBLIC_BYTES];
	char a[IOTA_ADDRESS_TEXT_LEN], me[IOTA_ADDRESS_TEXT_LEN];
	int pay = strcmp(cfg->payment_method, "iota") == 0;

	*out = NULL;
	if (!pay && cfg->iota_anchor_mode == CONFIG_ANCHOR_NONE)
		return 0;
	gi = calloc(1, sizeof(*gi));
	if (gi == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	gi->net = (enum iota_network)cfg->iota_net;
	if (cfg->iota_key[0] != '\0') {
		if (gw_key_load(cfg->iota_key, "iota", 0, &gi->own_key) != 0) {
			snprintf(err, errlen, "[iota] key %s is not usable", cfg->iota_key);
			goto fail;
		}
		signer = gi->own_key;
	}
	memset(&tc, 0, sizeof(tc));
	tc.network = gi->net;
	tc.url = cfg->iota_url;
	tc.timeout_ms = (long)cfg->iota_rpc_timeout_ms;
	tc.retries = 2;
	tc.max_budget = cfg->iota_max_gas;
	tc.signer = signer;
	if (tangle_new(&gi->t, base, &tc, err, errlen) != 0)
		goto fail;
	if (cfg->payment_address[0] != '\0') {
		if (iota_address_parse(gi->pay_to, cfg->payment_address) != 0) {
			snprintf(err, errlen, "payment_address is not an IOTA address");
			goto fail;
		}
	} else {
		sdpp_identity_sign_public(signer, pub);
		if (iota_address_from_public(gi->pay_to, pub) != IOTA_OK) {
			snprintf(err, errlen, "cannot derive the IOTA address");
			goto fail;
		}
	}
	iota_address_format(a, gi->pay_to);
	iota_address_format(me, tangle_address(gi->t));
	log_info("event=iota network=%s url=%s payments=%s pay_to=%s account=%s anchor=%s",
	    cfg->iota_network, tangle_url(gi->t), pay ? "yes" : "no", a, me, cfg->iota_anchor);
	*out = gi;
	return 0;
fail:
	gw_iota_free(gi);
	return -1;
}

void
gw_iota_free(struct gw_iota *gi)
{
	if (gi == NULL)
		return;
	tangle_free(gi->t);
	sdpp_identity_free(gi->own_key);
	free(gi);
}

struct tangle *
gw_iota_tangle(struct gw_iota *gi)
{
	return gi->t;
}

enum iota_network
gw_iota_network(const struct gw_iota *gi)
{
	return gi->net;
}

const uint8_t *
gw_iota_pay_to(const struct gw_iota *gi)
{
	return gi->pay_to;
}

void
gw_iota_pay_to_text(const struct gw_iota *gi, char out[IOTA_ADDRESS_TEXT_LEN])
{
	out[0] = '\0';
	if (gi != NULL)
		iota_address_format(out, gi->pay_to);
}

int
gw_iota_account_of(const uint8_t key[SDPP_SIGN_PUBLIC_BYTES], uint8_t addr[IOTA_ADDRESS_BYTES])
{
	return iota_address_from_public(addr, key) == IOTA_OK ? 0 : -1;
}

int
gw_iota_is_account_of(const uint8_t key[SDPP_SIGN_PUBLIC_BYTES], const char *address)
{
	uint8_t want[IOTA_ADDRESS_BYTES], got[IOTA_ADDRESS_BYTES];

	return gw_iota_account_of(key, want) == 0 && iota_address_parse(got, address) == 0 &&
	       memcmp(want, got, sizeof(want)) == 0;
}
