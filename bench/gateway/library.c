/* Gateway benchmarks, scenario 6: the library alone, seller and buyer in memory. */
#include "bench/gateway/bench.h"

/* ---------------------------------------------------------------- 6. library, in memory */

/*
 * The seller and buyer state machines against each other in memory, no
 * sockets, no ledger (every request completes at once): what the protocol
 * engine itself costs per item on each side, on one core each.
 */
struct mem {
	struct sdpp_seller *s;
	struct sdpp_buyer *b;
	struct sdpp_out so, bo;
	struct sbuf s2b, b2s;
	size_t s2b_off, b2s_off;
	uint64_t items, ns_seller, ns_buyer;
	int failed;
};

static void
mem_seller_host(struct mem *m)
{
	uint64_t reqs[SDPP_OUT_EVENTS_MAX];
	size_t n = 0, i;

	if (m->so.len > 0)
		sb_printf(&m->s2b, "%.*s", (int)m->so.len, m->so.buf);
	for (i = 0; i < m->so.nev; i++) {
		if (m->so.ev[i].req != 0)
			reqs[n++] = m->so.ev[i].req;
		if (m->so.ev[i].type == SDPP_EV_CLOSE && m->so.ev[i].err != SDPP_OK)
			m->failed = 1;
	}
	sdpp_out_clear(&m->so);
	for (i = 0; i < n; i++) {
		(void)sdpp_seller_complete(m->s, reqs[i], 1, "1", wall_ms(), &m->so);
		mem_seller_host(m);
	}
}

static void
mem_buyer_host(struct mem *m)
{
	size_t i;

	for (i = 0; i < m->bo.nev; i++) {
		const struct sdpp_event *ev = &m->bo.ev[i];

		if (ev->type == SDPP_EV_MENU)
			(void)sdpp_buyer_order(m->b, PRODUCT, 0, wall_ms(), &m->bo);
		else if (ev->type == SDPP_EV_PAY)
			(void)sdpp_buyer_complete(m->b, ev->req, 1, "", wall_ms(), &m->bo);
		else if (ev->type == SDPP_EV_ITEM)
			m->items++;
		else if (ev->type == SDPP_EV_CLOSE && ev->err != SDPP_OK)
			m->failed = 1;
	}
	if (m->bo.len > 0)
		sb_printf(&m->b2s, "%.*s", (int)m->bo.len, m->bo.buf);
	sdpp_out_clear(&m->bo);
}

/* Delivers every queued frame both ways until both queues are empty. */
static void
mem_pump(struct mem *m)
{
	int moved = 1;

	while (moved && !m->failed) {
		moved = 0;
		while (m->s2b_off < m->s2b.len) {
			char *nl = memchr(m->s2b.p + m->s2b_off, '\n', m->s2b.len - m->s2b_off);
			size_t len = (size_t)(nl - (m->s2b.p + m->s2b_off));
			uint64_t t0 = mono_ns();

			(void)sdpp_buyer_input(m->b, m->s2b.p + m->s2b_off, len, wall_ms(), &m->bo);
			mem_buyer_host(m);
			m->ns_buyer += mono_ns() - t0;
			m->s2b_off += len + 1;
			moved = 1;
		}
		m->s2b_off = m->s2b.len = 0;
		while (m->b2s_off < m->b2s.len) {
			char *nl = memchr(m->b2s.p + m->b2s_off, '\n', m->b2s.len - m->b2s_off);
			size_t len = (size_t)(nl - (m->b2s.p + m->b2s_off));
			uint64_t t0 = mono_ns();

			(void)sdpp_seller_input(
			    m->s, m->b2s.p + m->b2s_off, len, wall_ms(), &m->so);
			mem_seller_host(m);
			m->ns_seller += mono_ns() - t0;
			m->b2s_off += len + 1;
			moved = 1;
		}
		m->b2s_off = m->b2s.len = 0;
	}
}

/* Per-item ns on each side for one configuration; -1 on failure. */
static int
mem_run(uint64_t k, uint64_t ack_every, int sign, int n, double *ns_seller, double *ns_buyer)
{
	struct sdpp_identity *sid = NULL, *bid = NULL;
	struct sdpp_product prod;
	struct sdpp_menu menu;
	struct sdpp_seller_config sc;
	struct sdpp_buyer_config bc;
	struct mem m;
	char payload[PAYLOAD_BYTES + 1];
	int i, rc = -1;

	memset(&m, 0, sizeof(m));
	memset(&menu, 0, sizeof(menu));
	memset(&prod, 0, sizeof(prod));
	if (sdpp_identity_generate(&sid) != SDPP_OK || sdpp_identity_generate(&bid) != SDPP_OK)
		goto out;
	snprintf(menu.version, sizeof(menu.version), "%s", SDPP_VERSION);
	sdpp_identity_sign_public(sid, menu.seller);
	snprintf(menu.gateway, sizeof(menu.gateway), "bench");
	snprintf(menu.currency, sizeof(menu.currency), "nanos");
	snprintf(menu.payment_method, sizeof(menu.payment_method), "voucher");
	menu.granularity = k;
	menu.ack_every = ack_every;
	menu.max_unpaid = 2 * k;
	menu.sign_items = sign;
	menu.max_frame = SDPP_FRAME_CAP_SESSION;
	snprintf(prod.id, sizeof(prod.id), PRODUCT);
	prod.price = 1;
	/* sdpp/2 (the buyer's default) wants a topic: the one the samples
	 * come on. The other sdpp/2 members stay empty: whole payloads at
	 * full rate, the path measured before sdpp/2. */
	snprintf(prod.topic, sizeof(prod.topic), TOPIC);
	menu.nproducts = 1;
	menu.products = &prod;
	memset(&sc, 0, sizeof(sc));
	sc.id = sid;
	sc.menu = &menu;
	memset(&bc, 0, sizeof(bc));
	bc.id = bid;
	memcpy(bc.seller, menu.seller, sizeof(bc.seller));
	sdpp_out_init(&m.so, SDPP_FRAME_CAP_MAX);
	sdpp_out_init(&m.bo, SDPP_FRAME_CAP_MAX);
	if (sdpp_seller_new(&m.s, &sc, wall_ms()) != SDPP_OK ||
	    sdpp_buyer_new(&m.b, &bc, wall_ms()) != SDPP_OK ||
	    sdpp_buyer_start(m.b, wall_ms(), &m.bo) != SDPP_OK)
		goto out;
	mem_buyer_host(&m);
	mem_pump(&m);
	if (!sdpp_seller_streaming(m.s) || m.failed)
		goto out;
	m.ns_seller = m.ns_buyer = 0;
	for (i = 0; i < n && !m.failed; i++) {
		uint64_t t0 = mono_ns();

		payload_make(payload, (uint64_t)i + 1);
		(void)sdpp_seller_sample(m.s, TOPIC, (const uint8_t *)payload, PAYLOAD_BYTES,
		    (int64_t)wall_ms(), wall_ms(), &m.so);
		mem_seller_host(&m);
		m.ns_seller += mono_ns() - t0;
		mem_pump(&m);
	}
	if (m.failed || m.items != (uint64_t)n)
		goto out;
	*ns_seller = (double)m.ns_seller / n;
	*ns_buyer = (double)m.ns_buyer / n;
	rc = 0;
out:
	sdpp_seller_free(m.s);
	sdpp_buyer_free(m.b);
	sdpp_out_free(&m.so);
	sdpp_out_free(&m.bo);
	free(m.s2b.p);
	free(m.b2s.p);
	sdpp_identity_free(sid);
	sdpp_identity_free(bid);
	return rc;
}

/* One primitive's cost: ns per call over n calls. */
static double
prim_ns(int which, int n)
{
	static const uint8_t key[SDPP_SESSION_KEY_BYTES] = { 1 };
	struct sdpp_identity *id = NULL;
	struct sdpp_verifier *v = NULL;
	struct sdpp_aead *a = NULL;
	uint8_t msg[256], sig[SDPP_SIGN_BYTES], nonce[SDPP_AEAD_NONCE_BYTES] = { 0 },
	                                        ct[sizeof(msg) + SDPP_AEAD_TAG_BYTES],
	                                        pub[SDPP_SIGN_PUBLIC_BYTES];
	uint64_t t0;
	double r = -1;
	int i, bad = 0;

	memset(msg, 'm', sizeof(msg));
	if (sdpp_identity_generate(&id) != SDPP_OK ||
	    sdpp_sign(id, msg, sizeof(msg), sig) != SDPP_OK)
		goto out;
	sdpp_identity_sign_public(id, pub);
	if (sdpp_verifier_new(&v, pub) != SDPP_OK || sdpp_aead_new(&a, key) != SDPP_OK)
		goto out;
	t0 = mono_ns();
	for (i = 0; i < n; i++) {
		if (which == 0)
			bad += sdpp_sign(id, msg, sizeof(msg), sig) != SDPP_OK;
		else if (which == 1)
			bad += sdpp_verify(v, msg, sizeof(msg), sig, sizeof(sig)) != SDPP_OK;
		else
			bad += sdpp_aead_seal(a, nonce, msg, 40, msg, sizeof(msg), ct) != SDPP_OK;
	}
	if (bad == 0)
		r = (double)(mono_ns() - t0) / n;
out:
	sdpp_aead_free(a);
	sdpp_verifier_free(v);
	sdpp_identity_free(id);
	return r;
}

void
scenario_library(struct bench *B)
{
	static const struct {
		uint64_t k, ack_every;
		int sign;
	} v[] = { { 1000, 1000, 0 }, { 10, 10, 0 }, { 10, 1, 0 }, { 1000, 1000, 1 } };
	static const char *const prim[] = { "sdpp_sign (Ed25519, 256 B)",
		"sdpp_verify (Ed25519, 256 B)", "sdpp_aead_seal (AES-256-GCM, 256 B)" };
	int n = B->quick ? 2000 : 10000, run, i;
	char name[128];

	printf("\n# 6. library in memory: seller and buyer state machines, no sockets or ledger; "
	       "ns per item on each side, %d items\n",
	    n);
	for (i = 0; i < 3; i++) {
		struct result *r = result_new(B, "library", prim[i], "us");

		for (run = 0; run < B->runs; run++)
			result_add(r, prim_ns(i, i == 2 ? 20 * n : n / 4) / 1000);
		result_done(B, r, NULL, 0);
	}
	for (i = 0; i < (int)(sizeof(v) / sizeof(v[0])); i++) {
		struct result *rs, *rb;

		snprintf(name, sizeof(name),
		    "seller per item, K=%" PRIu64 " ack_every=%" PRIu64 " sign=%s", v[i].k,
		    v[i].ack_every, v[i].sign ? "yes" : "no");
		rs = result_new(B, "library", name, "us");
		snprintf(name, sizeof(name),
		    "buyer per item, K=%" PRIu64 " ack_every=%" PRIu64 " sign=%s", v[i].k,
		    v[i].ack_every, v[i].sign ? "yes" : "no");
		rb = result_new(B, "library", name, "us");
		for (run = 0; run < B->runs; run++) {
			double a, b;

			if (mem_run(v[i].k, v[i].ack_every, v[i].sign, v[i].sign ? n / 5 : n, &a,
			        &b) == 0) {
				result_add(rs, a / 1000);
				result_add(rb, b / 1000);
			}
		}
		result_done(B, rs, NULL, 0);
		result_done(B, rb, NULL, 0);
	}
}
