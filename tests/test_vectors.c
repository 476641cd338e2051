/* Appendix A of docs/PROTOCOL.md recomputed by the library: keys, sealing, items, every frame. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "iota/base58.h"
#include "sdpp/crypto.h"
#include "sdpp/enc.h"
#include "sdpp/msg.h"
#include "tests/common/spec_identity.h"
#include "tests/common/testutil.h"

/*
 * Every output below is copied from Appendix A. Each test rebuilds it from
 * the appendix's inputs with the library and compares bytes, and
 * test_document checks that each still stands in the appendix verbatim, so
 * an edit to the text, to this table or to the library fails here.
 */

#define BUY SDPP_ROLE_BUYER
#define SEL SDPP_ROLE_SELLER
#define DOC_PATH "docs/PROTOCOL.md" /* the suites run from the repository root */

/* ------------------------------------------------------------------ */
/* Inputs                                                              */

/* Private key bytes are consecutive values from these starts: Ed25519
 * seeds, and X25519 scalars 0x40 higher. */
enum party { SELLER, BUYER, NOBODY };
static const uint8_t seed_start[2] = { 0x10, 0x90 };

#define PRODUCT "co2-floor2"
#define CURRENCY "nanos"
#define PRICE 250
#define QUANTITY 6
#define ORDER_TIME 1764151201213
#define ORDER_NONCE_START 0x00 /* nonce 000102...0f */
#define SESSION_KEY_HEX "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
#define EPHEMERAL_HEX "707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f"
#define NONCE_PREFIX_HEX "01020304"
#define TOPIC "building/7/floor2/co2"
#define ITEMS 6
#define PAYLOAD_BYTES 24

/* What an item carries: its payload and time, and the MQTT payload the
 * payload was cut from (an sdpp/2 product's field, section 15.3), or NULL
 * when the item carries the whole sample. */
struct sample {
	const char *payload;
	int64_t received_at;
	const char *mqtt;
};

static const struct sample samples[ITEMS] = {
	{ "{\"co2\":615,\"unit\":\"ppm\"}", 1764151202212, NULL },
	{ "{\"co2\":618,\"unit\":\"ppm\"}", 1764151203213, NULL },
	{ "{\"co2\":621,\"unit\":\"ppm\"}", 1764151204215, NULL },
	{ "{\"co2\":619,\"unit\":\"ppm\"}", 1764151205211, NULL },
	{ "{\"co2\":624,\"unit\":\"ppm\"}", 1764151206214, NULL },
	{ "{\"co2\":630,\"unit\":\"ppm\"}", 1764151207212, NULL },
};

/* The sdpp/2 order's own session key, nonce prefix and sealing ephemeral
 * (fresh for each order, section 8) and its first two items: the sdpp/2
 * menu's co2-floor2 sells the /co2 field, at most once a minute, and only a
 * move of more than 5. */
#define SESSION_KEY2_HEX "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
#define EPHEMERAL2_HEX "303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f"
#define NONCE_PREFIX2_HEX "05060708"
#define ITEMS2 2

static const struct sample samples2[ITEMS2] = {
	{ "615", 1764151202212, "{\"co2\":615,\"unit\":\"ppm\"}" },
	{ "624", 1764151262214, "{\"co2\":624,\"unit\":\"ppm\"}" },
};

/* The menu of section 5.2, which the conversation uses (not const: struct
 * sdpp_menu points at its products without const). */
#define K 4 /* payment_granularity */
static struct sdpp_product menu_products[2] = {
	{ .id = PRODUCT,
	    .price = PRICE,
	    .unit = "ppm",
	    .description = "CO2 concentration, building 7, floor 2",
	    .last_seen = 1764151187345,
	    .prepay = 0 },
	{ .id = "occupancy",
	    .price = 1000,
	    .unit = "persons",
	    .description = "People counted per room, every minute",
	    .last_seen = 1764151140012,
	    .prepay = 1 },
};

/* The sdpp/2 menu's products (section 15.3; not const, as above). */
static struct sdpp_product menu2_products[2] = {
	{ .id = PRODUCT,
	    .price = PRICE,
	    .unit = "ppm",
	    .description = "CO2 concentration, building 7, floor 2",
	    .last_seen = 1764151187345,
	    .prepay = 0,
	    .topic = "building/7/+/co2",
	    .field = "/co2",
	    .device_class = "carbon_dioxide",
	    .min_interval = 60000,
	    .on_change = 1,
	    .deadband = "5" },
	{ .id = "temperature",
	    .price = 100,
	    .unit = "\xc2\xb0"
	            "C",
	    .description = "Every zigbee2mqtt thermometer",
	    .last_seen = 1764151140012,
	    .prepay = 0,
	    .topic = "zigbee2mqtt/+",
	    .field = "/temperature",
	    .device_class = "temperature" },
};

/* The anchor's made-up transaction digest: the 32 bytes 0x01..0x20. */
#define ANCHOR_DIGEST_START 0x01
#define ANCHOR_RECORD "ledger:3"

/* ------------------------------------------------------------------ */
/* Outputs, as Appendix A prints them                                  */

/* Public keys: seller Ed25519, seller X25519, buyer Ed25519, buyer X25519. */
static const char *const public_hex[2][2] = {
	{ "7776e870b93354f2a0b24c23f2a36cc4e80e223218c1b97926fdd018396a2b9b",
	    "392d174a38b3b1beafaf1fe824870841c5fa531bc6eafdb6402c124664488c1c" },
	{ "d2eb993b63143528e70dcdc7eb9ca21010dd769be95250c2c5babfad15d458e2",
	    "6b3ee67463583cbe3dc08fe9d0765c2666ff5210dd527c9d8705e44927c80d55" },
};

static const char buyer_pubfile[] = "-----BEGIN PUBLIC KEY-----\n"
                                    "MCowBQYDK2VwAyEA0uuZO2MUNSjnDc3H65yiEBDddpvpUlDCxbq/rRXUWOI=\n"
                                    "-----END PUBLIC KEY-----\n"
                                    "-----BEGIN PUBLIC KEY-----\n"
                                    "MCowBQYDK2VuAyEAaz7mdGNYPL49wI/p0HZcJmb/UhDdUnydhwXkSSfIDVU=\n"
                                    "-----END PUBLIC KEY-----\n";

/* The order frame, and its signature input without the 7-byte context. */
static const char order_frame[] =
    "{\"data\":{\"buyer\":\"d2eb993b63143528e70dcdc7eb9ca21010dd769be95250c2c5babfad15d458e2\",\""
    "currency\":\"nanos\",\"enc_key\":\"6b3ee67463583cbe3dc08fe9d0765c2666ff5210dd527c9d8705e4492"
    "7c80d55\",\"nonce\":\"000102030405060708090a0b0c0d0e0f\",\"payment_address\":\"\",\"price\":"
    "\"250\",\"product\":\"co2-floor2\",\"quantity\":6,\"time\":1764151201213},\"message_type\":"
    "\"order\",\"signature\":\"NpXDomii/N5qG/NjRU77YsbVxchBqvx2WKiT4/LWhu227hf9Sv9h1M0YYHELB4jFnm"
    "UQK9CfULcSN3fRC4NmAw==\",\"verification\":\"\"}";
static const char order_input[] =
    "{\"data\":{\"buyer\":\"d2eb993b63143528e70dcdc7eb9ca21010dd769be95250c2c5babfad15d458e2\",\""
    "currency\":\"nanos\",\"enc_key\":\"6b3ee67463583cbe3dc08fe9d0765c2666ff5210dd527c9d8705e4492"
    "7c80d55\",\"nonce\":\"000102030405060708090a0b0c0d0e0f\",\"payment_address\":\"\",\"price\":"
    "\"250\",\"product\":\"co2-floor2\",\"quantity\":6,\"time\":1764151201213},\"message_type\":"
    "\"order\",\"verification\":\"\"}";
#define ORDER_ID_HEX "4aadacedc45f542d63d433035faec30bee02a95f20b236aae0b6ee3682c9fc12"
#define CHAIN0_HEX "d5ca2e363303fc6f1920f40ddec7cc5297e5bd3376709e61ac00c2ab3dafcde8"

/* sdpp/2 (section 15): the menu of two products and the order with a topic,
 * each frame and its signature input without the 7-byte context. */
static const char menu2_frame[] =
    "{\"data\":{\"ack_every\":2,\"currency\":\"nanos\",\"gateway\":\"building-7\",\"max_frame"
    "\":1048576,\"max_unpaid\":8,\"payment_address\":\"\",\"payment_granularity\":4,\"payment"
    "_method\":\"voucher\",\"products\":[{\"deadband\":\"5\",\"description\":\"CO2 concentrat"
    "ion, building 7, floor 2\",\"device_class\":\"carbon_dioxide\",\"field\":\"/co2\",\"id\""
    ":\"co2-floor2\",\"last_seen\":1764151187345,\"min_interval\":60000,\"on_change\":true,\""
    "prepay\":false,\"price\":\"250\",\"topic\":\"building/7/+/co2\",\"unit\":\"ppm\"},{\"dea"
    "dband\":\"\",\"description\":\"Every zigbee2mqtt thermometer\",\"device_class\":\"temper"
    "ature\",\"field\":\"/temperature\",\"id\":\"temperature\",\"last_seen\":1764151140012,\""
    "min_interval\":0,\"on_change\":false,\"prepay\":false,\"price\":\"100\",\"topic\":\"zigb"
    "ee2mqtt/+\",\"unit\":\"°C\"}],\"seller\":\"7776e870b93354f2a0b24c23f2a36cc4e80e223218c1b"
    "97926fdd018396a2b9b\",\"sign_items\":false,\"version\":\"sdpp/2\"},\"message_type\":\"me"
    "nu\",\"signature\":\"cfdp/9HzaGky3V8CXYiERk646YC8+ClNQQHaB82AY34cSNgc2rUFeHzrW3+1Or/YfmC"
    "MyEf+x8fU5RVi5vTxAQ==\",\"verification\":\"\"}";
static const char menu2_input[] =
    "{\"data\":{\"ack_every\":2,\"currency\":\"nanos\",\"gateway\":\"building-7\",\"max_frame"
    "\":1048576,\"max_unpaid\":8,\"payment_address\":\"\",\"payment_granularity\":4,\"payment"
    "_method\":\"voucher\",\"products\":[{\"deadband\":\"5\",\"description\":\"CO2 concentrat"
    "ion, building 7, floor 2\",\"device_class\":\"carbon_dioxide\",\"field\":\"/co2\",\"id\""
    ":\"co2-floor2\",\"last_seen\":1764151187345,\"min_interval\":60000,\"on_change\":true,\""
    "prepay\":false,\"price\":\"250\",\"topic\":\"building/7/+/co2\",\"unit\":\"ppm\"},{\"dea"
    "dband\":\"\",\"description\":\"Every zigbee2mqtt thermometer\",\"device_class\":\"temper"
    "ature\",\"field\":\"/temperature\",\"id\":\"temperature\",\"last_seen\":1764151140012,\""
    "min_interval\":0,\"on_change\":false,\"prepay\":false,\"price\":\"100\",\"topic\":\"zigb"
    "ee2mqtt/+\",\"unit\":\"°C\"}],\"seller\":\"7776e870b93354f2a0b24c23f2a36cc4e80e223218c1b"
    "97926fdd018396a2b9b\",\"sign_items\":false,\"version\":\"sdpp/2\"},\"message_type\":\"me"
    "nu\",\"verification\":\"\"}";
static const char order2_frame[] =
    "{\"data\":{\"buyer\":\"d2eb993b63143528e70dcdc7eb9ca21010dd769be95250c2c5babfad15d458e2\""
    ",\"currency\":\"nanos\",\"enc_key\":\"6b3ee67463583cbe3dc08fe9d0765c2666ff5210dd527c9d87"
    "05e44927c80d55\",\"nonce\":\"000102030405060708090a0b0c0d0e0f\",\"payment_address\":\"\""
    ",\"price\":\"250\",\"product\":\"co2-floor2\",\"quantity\":6,\"time\":1764151201213,\"to"
    "pic\":\"building/7/floor2/co2\"},\"message_type\":\"order\",\"signature\":\"L6eyLBrjgi+v"
    "xB9HZG1uao3yUt4A4f7gtM7gYi7TcVz4ofCofn5IW6nwWFfUmE2pagQ0A7IKAfHhXW/YUFKrDQ==\",\"verific"
    "ation\":\"\"}";
static const char order2_input[] =
    "{\"data\":{\"buyer\":\"d2eb993b63143528e70dcdc7eb9ca21010dd769be95250c2c5babfad15d458e2\""
    ",\"currency\":\"nanos\",\"enc_key\":\"6b3ee67463583cbe3dc08fe9d0765c2666ff5210dd527c9d87"
    "05e44927c80d55\",\"nonce\":\"000102030405060708090a0b0c0d0e0f\",\"payment_address\":\"\""
    ",\"price\":\"250\",\"product\":\"co2-floor2\",\"quantity\":6,\"time\":1764151201213,\"to"
    "pic\":\"building/7/floor2/co2\"},\"message_type\":\"order\",\"verification\":\"\"}";
#define ORDER2_TOPIC "building/7/floor2/co2"
#define ORDER2_ID_HEX "0e9b46ff5940969061ae0bb3b3824b90b60207cd9543d9b93941d6789b587015"
#define CHAIN0_2_HEX "fc9914534c018bbf7c30f9b4637610844969f765b4a9cc2a57513ab0b21443ff"

/* sdpp/2 (section 15.5): the closing statement of frame 17 for the sdpp/2
 * order, with the seller's signed tree head of a made-up log of 6 records
 * (root = the 32 bytes 0x40..0x5f) covering the exit record ledger:6. */
#define STATEMENT2_VERIFICATION "ledger:6"
#define TREE_HEAD_SIZE 6
#define TREE_HEAD_ROOT_START 0x40
#define TREE_HEAD_TIME 1764151208212
static const char statement2_frame[] =
    "{\"data\":{\"acked\":6,\"delivered\":6,\"order_id\":\"0e9b46ff5940969061ae0bb3b3824b"
    "90b60207cd9543d9b93941d6789b587015\",\"settled\":true,\"total_due\":\"1500\",\"total"
    "_paid\":\"1500\",\"tree_head\":{\"root\":\"404142434445464748494a4b4c4d4e4f505152535"
    "455565758595a5b5c5d5e5f\",\"signature\":\"VvZ6dOdNyHfUqCd5KvRuecO6/AzEBqa/wWTlaZsuxR"
    "hNUAEc7NdDFFAC0DwKbsGDkTcZBFQp7BY0hSey+IGGAg==\",\"size\":6,\"time\":1764151208212}}"
    ",\"message_type\":\"exit\",\"signature\":\"OKCOxsA66xvBD5HozbJjNKUQcL1ym++h88nh34sNA"
    "DGY75RhOa5ADM09I4EOGNKZDRLiFmMl+NJQmsFvSTQ3DQ==\",\"verification\":\"ledger:6\"}";
static const char statement2_input[] =
    "{\"data\":{\"acked\":6,\"delivered\":6,\"order_id\":\"0e9b46ff5940969061ae0bb3b3824b"
    "90b60207cd9543d9b93941d6789b587015\",\"settled\":true,\"total_due\":\"1500\",\"total"
    "_paid\":\"1500\",\"tree_head\":{\"root\":\"404142434445464748494a4b4c4d4e4f505152535"
    "455565758595a5b5c5d5e5f\",\"signature\":\"VvZ6dOdNyHfUqCd5KvRuecO6/AzEBqa/wWTlaZsuxR"
    "hNUAEc7NdDFFAC0DwKbsGDkTcZBFQp7BY0hSey+IGGAg==\",\"size\":6,\"time\":1764151208212}}"
    ",\"message_type\":\"exit\",\"verification\":\"ledger:6\"}";
/* The tree head's signature input after its 11-byte context "sdpp-sth/1\0". */
static const char tree_head_input[] =
    "{\"key\":\"7776e870b93354f2a0b24c23f2a36cc4e80e223218c1b97926fdd018396a2b9b\",\"root\":\"4041"
    "42434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f\",\"size\":6,\"time\":17641512"
    "08212}";
#define TREE_HEAD_SIG_B64                                                                          \
	"VvZ6dOdNyHfUqCd5KvRuecO6/AzEBqa/wWTlaZsuxRhNUAEc7NdDFFAC0DwKbsGDkTcZBFQp7BY0hSey+IGGAg=="

/* Sealing (section 8). */
#define SEAL_E_HEX "23b7bb8c91ae008711fb12846780bcdf1e065f821bdfec49f57e7c7dcd4c4823"
#define SEAL_Z_HEX "12c14853bae40bc65d5a85b355caccde0327589661cfc1136a88d13b60bc5501"
#define SEAL_K_HEX "355c4f36dc09137cc27478068a5b417ee97e232879852a1b89161ad72abc8f69"
#define SEAL_N_HEX "7e858213a63f4fa0293ec9cd"
#define SEAL_C_HEX "08d4da1ac45b5dbfa36b69fcc16514103b51168face0a7fe3bbd59dce4ef514d"
#define SEAL_T_HEX "59dea50d3762c71b5928665dd9184593"
#define SEALED_B64                                                                                 \
	"I7e7jJGuAIcR+xKEZ4C83x4GX4Ib3+xJ9X58fc1MSCMI1NoaxFtdv6NrafzBZRQQO1EWj6zgp/"               \
	"47vVnc5O9RTVnepQ"                                                                         \
	"03YscbWShmXdkYRZM="

/* One order's session key, nonce prefix and sealing (section 8), as printed. */
struct keys_vec {
	const char *sk, *prefix, *eph, *e, *z, *k, *n, *c, *t, *sealed;
};

/* An item (section 9) and the receipt chain after it (section 6.2). */
struct item_vec {
	const char *plaintext, *nonce, *aad, *ciphertext, *chain;
};

/* Items 1..6. */
static const struct item_vec items[ITEMS] = {
	{ "{\"payload\":\"eyJjbzIiOjYxNSwidW5pdCI6InBwbSJ9\",\"received_at\":1764151202212,\""
	  "seq\":1,\"topic\":\"building/7/floor2/co2\"}",
	    "010203040000000000000001",
	    "4aadacedc45f542d63d433035faec30bee02a95f20b236aae0b6ee3682c9fc120000000000000001",
	    "XycilPMq7377FT5sfboSbAzLjU4F4/uwh/wZWXEXwCsxubKGI9EYWO6yi92TizMSaJClg/zrOOkwYk+VM4"
	    "gdQBLA5k3aWLZOm3eM8trpFre7FH4Vs+Wr/10U5em92JRvejsXYfr4VvcYJ+4rPhtvkUPVBQo7kdWlzTyE"
	    "LHvJCZ2Gng==",
	    "8277728d18329e248dc4f47764a6dff5b3e40ece6098be7b2d1a76c4acb509a1" },
	{ "{\"payload\":\"eyJjbzIiOjYxOCwidW5pdCI6InBwbSJ9\",\"received_at\":1764151203213,\""
	  "seq\":2,\"topic\":\"building/7/floor2/co2\"}",
	    "010203040000000000000002",
	    "4aadacedc45f542d63d433035faec30bee02a95f20b236aae0b6ee3682c9fc120000000000000002",
	    "lh2an/QS1p/iPd67/foCUAD33z+E/Dakx8eM0B3n1+1LOK22z/ahdsysgGbPBd7lDb9yyD4xIbSOkvKQmg"
	    "XP3WzZDP6/zIoH2biamy4wA4wAi2uTblcA8z3P6a5uK9Qdy36YjhCc3dcXKY1cz0TT/PYyZPmbqKA3M6/p"
	    "X9emHvBQMw==",
	    "8adad1210c8b15cad8cdb55fc45b528a7575360f3d9bfdb9a751170b13a9097e" },
	{ "{\"payload\":\"eyJjbzIiOjYyMSwidW5pdCI6InBwbSJ9\",\"received_at\":1764151204215,\""
	  "seq\":3,\"topic\":\"building/7/floor2/co2\"}",
	    "010203040000000000000003",
	    "4aadacedc45f542d63d433035faec30bee02a95f20b236aae0b6ee3682c9fc120000000000000003",
	    "XrhRWmewwq0pCgQM2ZNpSrbJr1Dz3XN50GOxke+tsBJk/dxoR2x/Uxcpjbbo0kQiCuvPjdw2cvhyU5iSHH"
	    "bmmzsHPDqBNCoECy405dqn0DX7V6jYwOW2gCgULM8uFiT4IcNnjLyhIXcoftZUrx0hwv1/YwJrYPEkjxfx"
	    "60blkBih2g==",
	    "7c0993bf958c6a6bb099dc5f66f2fb3cb5af9a7ea15d65f8d482eb1bfa7bdd80" },
	{ "{\"payload\":\"eyJjbzIiOjYxOSwidW5pdCI6InBwbSJ9\",\"received_at\":1764151205211,\""
	  "seq\":4,\"topic\":\"building/7/floor2/co2\"}",
	    "010203040000000000000004",
	    "4aadacedc45f542d63d433035faec30bee02a95f20b236aae0b6ee3682c9fc120000000000000004",
	    "WmO52YZmKn12ByajK+7wez1K+ChvSpoMKq+TzpSHvouUqmW7rsbrXwGtMy2thjCD9F9F5S+sA5PRB/erQC"
	    "C/8jQg3iYP7/yj7cKeS8gFtL2SaXtTtQitvkwJbFemMq98KtRgzg3V4X+CdErvNlbRWrZzIrz6L15z/Q2q"
	    "mBv3gL+I2w==",
	    "f59ca8869ed1c0d4d3d41e92a9688cbb810356cb599935162b18335c7308179d" },
	{ "{\"payload\":\"eyJjbzIiOjYyNCwidW5pdCI6InBwbSJ9\",\"received_at\":1764151206214,\""
	  "seq\":5,\"topic\":\"building/7/floor2/co2\"}",
	    "010203040000000000000005",
	    "4aadacedc45f542d63d433035faec30bee02a95f20b236aae0b6ee3682c9fc120000000000000005",
	    "+2viTceUJ17yatpqktL2/InOWQcbhFNhW0QTXo2AZly06kWHx9gwdh2jZ5NaRTQM5BVUmGB3HoPFtEJGkR"
	    "Ut1PDWmjlkZqX2pdC0DGIWHOyDEWI1Od3uZD02gddQqur51jvmEm6hDo+VDMYsIBaxmZO2nKTBGdjhYnNy"
	    "VPQ0e9nn0w==",
	    "678af14fba27155ae68215b54b7ff32598dea92188229527e003cb8325c35853" },
	{ "{\"payload\":\"eyJjbzIiOjYzMCwidW5pdCI6InBwbSJ9\",\"received_at\":1764151207212,\""
	  "seq\":6,\"topic\":\"building/7/floor2/co2\"}",
	    "010203040000000000000006",
	    "4aadacedc45f542d63d433035faec30bee02a95f20b236aae0b6ee3682c9fc120000000000000006",
	    "rgRrirg1Ud/44l+Wyxio/v73SeExvb8ymVuYdLKB5peQXuctdxUFF/J8LMhUseB1Lc83MbzAoZZBqtoivb"
	    "Sm/Y4n0SLi/34r44HSVhJgn6vBUR7i9xdFxiUMU4voBHT52dNuG2XMKnEIe5ywxwMmIGYvneDxxn/9nBtt"
	    "yaq9sUbkZg==",
	    "0f420d71a60aa6f32c3b19ce6d69d8e82c5b5b795e487a90e2a50bed645fe734" },
};

/* The conversation in wire order; `n` is the seq (data, ack, exit), the
 * invoice's last_seq or the statement's `delivered`. */
static const struct {
	enum sdpp_type type;
	enum sdpp_role from;
	enum party signer;
	uint64_t n;
	const char *verification;
	const char *line;
} frames[] = {
	{ SDPP_T_HELLO, BUY, NOBODY, 0, "",
	    "{\"data\":{\"version\":\"sdpp/1\"},\"message_type\":\"hello\",\"signature\":\"\",\"v"
	    "erification\":\"\"}" },
	{ SDPP_T_MENU, SEL, SELLER, 0, "",
	    "{\"data\":{\"ack_every\":2,\"currency\":\"nanos\",\"gateway\":\"building-7\",\"max_f"
	    "rame\":1048576,\"max_unpaid\":8,\"payment_address\":\"\",\"payment_granularity\":4,"
	    "\"payment_method\":\"voucher\",\"products\":[{\"description\":\"CO2 concentration, b"
	    "uilding 7, floor 2\",\"id\":\"co2-floor2\",\"last_seen\":1764151187345,\"prepay\":fa"
	    "lse,\"price\":\"250\",\"unit\":\"ppm\"},{\"description\":\"People counted per room, "
	    "every minute\",\"id\":\"occupancy\",\"last_seen\":1764151140012,\"prepay\":true,\"pr"
	    "ice\":\"1000\",\"unit\":\"persons\"}],\"seller\":\"7776e870b93354f2a0b24c23f2a36cc4e"
	    "80e223218c1b97926fdd018396a2b9b\",\"sign_items\":false,\"version\":\"sdpp/1\"},\"mes"
	    "sage_type\":\"menu\",\"signature\":\"Do+tNFKtFe8yPlY8nimbqvWDF2f3cUd6+vu3/0T9YU0HAO1"
	    "2dBxHbpVnDU3YxpZChh3CTJCYnyK+w+HYTJw3AA==\",\"verification\":\"\"}" },
	{ SDPP_T_ORDER, BUY, BUYER, 0, "",
	    "{\"data\":{\"buyer\":\"d2eb993b63143528e70dcdc7eb9ca21010dd769be95250c2c5babfad15d45"
	    "8e2\",\"currency\":\"nanos\",\"enc_key\":\"6b3ee67463583cbe3dc08fe9d0765c2666ff5210d"
	    "d527c9d8705e44927c80d55\",\"nonce\":\"000102030405060708090a0b0c0d0e0f\",\"payment_a"
	    "ddress\":\"\",\"price\":\"250\",\"product\":\"co2-floor2\",\"quantity\":6,\"time\":1"
	    "764151201213},\"message_type\":\"order\",\"signature\":\"NpXDomii/N5qG/NjRU77YsbVxch"
	    "Bqvx2WKiT4/LWhu227hf9Sv9h1M0YYHELB4jFnmUQK9CfULcSN3fRC4NmAw==\",\"verification\":\""
	    "\"}" },
	{ SDPP_T_SESSION_KEY, SEL, SELLER, 0, "ledger:1",
	    "{\"data\":{\"nonce_prefix\":\"01020304\",\"order_id\":\"4aadacedc45f542d63d433035fae"
	    "c30bee02a95f20b236aae0b6ee3682c9fc12\",\"sealed_key\":\"I7e7jJGuAIcR+xKEZ4C83x4GX4Ib"
	    "3+xJ9X58fc1MSCMI1NoaxFtdv6NrafzBZRQQO1EWj6zgp/47vVnc5O9RTVnepQ03YscbWShmXdkYRZM=\"},"
	    "\"message_type\":\"session_key\",\"signature\":\"2TYSq61mCiegcGjOF1YfwJpEL6VhSUDE4JJ"
	    "67E2+7eHupaSwfPM1nPXMcT2S8MSSODFPeI6sySV8jPoKgW21BA==\",\"verification\":\"ledger:1"
	    "\"}" },
	{ SDPP_T_DATA, SEL, NOBODY, 1, "",
	    "{\"data\":{\"ciphertext\":\"XycilPMq7377FT5sfboSbAzLjU4F4/uwh/wZWXEXwCsxubKGI9EYWO6y"
	    "i92TizMSaJClg/zrOOkwYk+VM4gdQBLA5k3aWLZOm3eM8trpFre7FH4Vs+Wr/10U5em92JRvejsXYfr4VvcY"
	    "J+4rPhtvkUPVBQo7kdWlzTyELHvJCZ2Gng==\",\"order_id\":\"4aadacedc45f542d63d433035faec3"
	    "0bee02a95f20b236aae0b6ee3682c9fc12\",\"seq\":1},\"message_type\":\"data\",\"signatur"
	    "e\":\"\",\"verification\":\"\"}" },
	{ SDPP_T_DATA, SEL, NOBODY, 2, "",
	    "{\"data\":{\"ciphertext\":\"lh2an/QS1p/iPd67/foCUAD33z+E/Dakx8eM0B3n1+1LOK22z/ahdsys"
	    "gGbPBd7lDb9yyD4xIbSOkvKQmgXP3WzZDP6/zIoH2biamy4wA4wAi2uTblcA8z3P6a5uK9Qdy36YjhCc3dcX"
	    "KY1cz0TT/PYyZPmbqKA3M6/pX9emHvBQMw==\",\"order_id\":\"4aadacedc45f542d63d433035faec3"
	    "0bee02a95f20b236aae0b6ee3682c9fc12\",\"seq\":2},\"message_type\":\"data\",\"signatur"
	    "e\":\"\",\"verification\":\"\"}" },
	{ SDPP_T_ACK, BUY, BUYER, 2, "",
	    "{\"data\":{\"digest\":\"8adad1210c8b15cad8cdb55fc45b528a7575360f3d9bfdb9a751170b13a9"
	    "097e\",\"order_id\":\"4aadacedc45f542d63d433035faec30bee02a95f20b236aae0b6ee3682c9fc"
	    "12\",\"seq\":2},\"message_type\":\"ack\",\"signature\":\"VtPEGmIRTdYa4CBZPjol6rGkOrX"
	    "9VEmoWPDyUX3O1Ikd01LkIxFjdPXK43NInk86VhSm3abpB7KWBcqn5x8HDg==\",\"verification\":\""
	    "\"}" },
	{ SDPP_T_DATA, SEL, NOBODY, 3, "",
	    "{\"data\":{\"ciphertext\":\"XrhRWmewwq0pCgQM2ZNpSrbJr1Dz3XN50GOxke+tsBJk/dxoR2x/Uxcp"
	    "jbbo0kQiCuvPjdw2cvhyU5iSHHbmmzsHPDqBNCoECy405dqn0DX7V6jYwOW2gCgULM8uFiT4IcNnjLyhIXco"
	    "ftZUrx0hwv1/YwJrYPEkjxfx60blkBih2g==\",\"order_id\":\"4aadacedc45f542d63d433035faec3"
	    "0bee02a95f20b236aae0b6ee3682c9fc12\",\"seq\":3},\"message_type\":\"data\",\"signatur"
	    "e\":\"\",\"verification\":\"\"}" },
	{ SDPP_T_DATA, SEL, NOBODY, 4, "",
	    "{\"data\":{\"ciphertext\":\"WmO52YZmKn12ByajK+7wez1K+ChvSpoMKq+TzpSHvouUqmW7rsbrXwGt"
	    "My2thjCD9F9F5S+sA5PRB/erQCC/8jQg3iYP7/yj7cKeS8gFtL2SaXtTtQitvkwJbFemMq98KtRgzg3V4X+C"
	    "dErvNlbRWrZzIrz6L15z/Q2qmBv3gL+I2w==\",\"order_id\":\"4aadacedc45f542d63d433035faec3"
	    "0bee02a95f20b236aae0b6ee3682c9fc12\",\"seq\":4},\"message_type\":\"data\",\"signatur"
	    "e\":\"\",\"verification\":\"\"}" },
	{ SDPP_T_DATA_INVOICE, SEL, SELLER, 4, "ledger:3",
	    "{\"data\":{\"amount\":\"1000\",\"currency\":\"nanos\",\"delivered\":4,\"digest\":\"f"
	    "59ca8869ed1c0d4d3d41e92a9688cbb810356cb599935162b18335c7308179d\",\"first_seq\":1,\""
	    "invoice\":1,\"last_seq\":4,\"order_id\":\"4aadacedc45f542d63d433035faec30bee02a95f20"
	    "b236aae0b6ee3682c9fc12\",\"payment_address\":\"\",\"total_due\":\"1000\",\"unit_pric"
	    "e\":\"250\"},\"message_type\":\"data_invoice\",\"signature\":\"dWC4QQIiNpbyNZmYWy3vX"
	    "YCzU4uHZmMJMyTJNDPrfiCB2q3FgLjtnXAyFX5D2E1WAmYovcwF2utdIe6CadrMAg==\",\"verification"
	    "\":\"ledger:3\"}" },
	{ SDPP_T_ACK, BUY, BUYER, 4, "",
	    "{\"data\":{\"digest\":\"f59ca8869ed1c0d4d3d41e92a9688cbb810356cb599935162b18335c7308"
	    "179d\",\"order_id\":\"4aadacedc45f542d63d433035faec30bee02a95f20b236aae0b6ee3682c9fc"
	    "12\",\"seq\":4},\"message_type\":\"ack\",\"signature\":\"WFa2zSLrN6gO2faZdRrJnA8Y5iJ"
	    "jv/0M5HiDcpOoz3pdUKqIwMQbuQ+JoX1W8jjcpIeqoMU3mgn/OBIaaDkJDA==\",\"verification\":\""
	    "\"}" },
	{ SDPP_T_PAYMENT_ACK, BUY, BUYER, 0, "",
	    "{\"data\":{\"invoice\":1,\"order_id\":\"4aadacedc45f542d63d433035faec30bee02a95f20b2"
	    "36aae0b6ee3682c9fc12\",\"total\":\"1000\"},\"message_type\":\"payment_ack\",\"signat"
	    "ure\":\"dFPpseSzViTY0tMu6IX5BKo6KCHc3c3nyFgoMJvxBdmeVKd0gRMWgGidn24gIivDnKXGfqb1neGn"
	    "z/7iuG0ZAA==\",\"verification\":\"\"}" },
	{ SDPP_T_DATA, SEL, NOBODY, 5, "",
	    "{\"data\":{\"ciphertext\":\"+2viTceUJ17yatpqktL2/InOWQcbhFNhW0QTXo2AZly06kWHx9gwdh2j"
	    "Z5NaRTQM5BVUmGB3HoPFtEJGkRUt1PDWmjlkZqX2pdC0DGIWHOyDEWI1Od3uZD02gddQqur51jvmEm6hDo+V"
	    "DMYsIBaxmZO2nKTBGdjhYnNyVPQ0e9nn0w==\",\"order_id\":\"4aadacedc45f542d63d433035faec3"
	    "0bee02a95f20b236aae0b6ee3682c9fc12\",\"seq\":5},\"message_type\":\"data\",\"signatur"
	    "e\":\"\",\"verification\":\"\"}" },
	{ SDPP_T_DATA, SEL, NOBODY, 6, "",
	    "{\"data\":{\"ciphertext\":\"rgRrirg1Ud/44l+Wyxio/v73SeExvb8ymVuYdLKB5peQXuctdxUFF/J8"
	    "LMhUseB1Lc83MbzAoZZBqtoivbSm/Y4n0SLi/34r44HSVhJgn6vBUR7i9xdFxiUMU4voBHT52dNuG2XMKnEI"
	    "e5ywxwMmIGYvneDxxn/9nBttyaq9sUbkZg==\",\"order_id\":\"4aadacedc45f542d63d433035faec3"
	    "0bee02a95f20b236aae0b6ee3682c9fc12\",\"seq\":6},\"message_type\":\"data\",\"signatur"
	    "e\":\"\",\"verification\":\"\"}" },
	{ SDPP_T_ACK, BUY, BUYER, 6, "",
	    "{\"data\":{\"digest\":\"0f420d71a60aa6f32c3b19ce6d69d8e82c5b5b795e487a90e2a50bed645f"
	    "e734\",\"order_id\":\"4aadacedc45f542d63d433035faec30bee02a95f20b236aae0b6ee3682c9fc"
	    "12\",\"seq\":6},\"message_type\":\"ack\",\"signature\":\"x1hbQIaoS4eNjmj+cpEECXlepjU"
	    "cHBysmArJYFHdaovZ9MVVeo6OGEGXnCzJIQ5NopIa4BRuhpu76V4b4j6XDQ==\",\"verification\":\""
	    "\"}" },
	{ SDPP_T_EXIT, BUY, BUYER, 6, "",
	    "{\"data\":{\"digest\":\"0f420d71a60aa6f32c3b19ce6d69d8e82c5b5b795e487a90e2a50bed645f"
	    "e734\",\"order_id\":\"4aadacedc45f542d63d433035faec30bee02a95f20b236aae0b6ee3682c9fc"
	    "12\",\"seq\":6,\"total\":\"1500\"},\"message_type\":\"exit\",\"signature\":\"+0KEhRx"
	    "belpmZ65HD/AKvhAFabtmP+UeYHwp0gj7XgSa9q8ZJIDh3xh3uJq9y7vUSbexUAeIOJrRN3JHehbmCw==\","
	    "\"verification\":\"\"}" },
	{ SDPP_T_EXIT, SEL, SELLER, 6, "ledger:6",
	    "{\"data\":{\"acked\":6,\"delivered\":6,\"order_id\":\"4aadacedc45f542d63d433035faec3"
	    "0bee02a95f20b236aae0b6ee3682c9fc12\",\"settled\":true,\"total_due\":\"1500\",\"total"
	    "_paid\":\"1500\"},\"message_type\":\"exit\",\"signature\":\"w2lu7+wUqAx0TgIFJF0eGrgu"
	    "erzEzorav9hZIEm7vxHRJxY6BuvNmMa8hrzG1v01T1IOejsHckj04lbdi+h4AA==\",\"verification\":"
	    "\"ledger:6\"}" },
};

/* Item 1 as a sign_items frame, and its signature input without the context. */
static const char signed_item_frame[] =
    "{\"data\":{\"ciphertext\":\"XycilPMq7377FT5sfboSbAzLjU4F4/uwh/wZWXEXwCsxubKGI9EYWO6yi92TizMS"
    "aJClg/zrOOkwYk+VM4gdQBLA5k3aWLZOm3eM8trpFre7FH4Vs+Wr/10U5em92JRvejsXYfr4VvcYJ+4rPhtvkUPVBQo7"
    "kdWlzTyELHvJCZ2Gng==\",\"order_id\":\"4aadacedc45f542d63d433035faec30bee02a95f20b236aae0b6ee"
    "3682c9fc12\",\"seq\":1},\"message_type\":\"data\",\"signature\":\"ir7KCNG5XDqWRq3ZKDDCnF1D2A"
    "Vu0KYbmhoTCgwHGxIbmFtKu8S24HMO/naj4BhbQu/VAPfDv/dxl2l8uPv8CQ==\",\"verification\":\"8277728d"
    "18329e248dc4f47764a6dff5b3e40ece6098be7b2d1a76c4acb509a1\"}";
static const char signed_item_input[] =
    "{\"data\":{\"ciphertext\":\"XycilPMq7377FT5sfboSbAzLjU4F4/uwh/wZWXEXwCsxubKGI9EYWO6yi92TizMS"
    "aJClg/zrOOkwYk+VM4gdQBLA5k3aWLZOm3eM8trpFre7FH4Vs+Wr/10U5em92JRvejsXYfr4VvcYJ+4rPhtvkUPVBQo7"
    "kdWlzTyELHvJCZ2Gng==\",\"order_id\":\"4aadacedc45f542d63d433035faec30bee02a95f20b236aae0b6ee"
    "3682c9fc12\",\"seq\":1},\"message_type\":\"data\",\"verification\":\"8277728d18329e248dc4f47"
    "764a6dff5b3e40ece6098be7b2d1a76c4acb509a1\"}";

#define ANCHOR_DIGEST_B58 "4wBqpZM9xaSheZzJSMawUKKwhdpChKbZ5eu5ky4Vigw"
static const char anchor_frame[] =
    "{\"data\":{\"order_id\":\"4aadacedc45f542d63d433035faec30bee02a95f20b236aae0b6ee3682c9fc12\""
    ",\"record\":\"ledger:3\",\"ref\":\"iota:4wBqpZM9xaSheZzJSMawUKKwhdpChKbZ5eu5ky4Vigw\"},\"mes"
    "sage_type\":\"anchor\",\"signature\":\"FlmeUc/YEhPAjtY3KoP4oQ+TFovRH2r5khlX+SNEVajvVWqrmIK6t"
    "II3MZC18blquS6YOU1qzns0MHltuZqABg==\",\"verification\":\"\"}";
static const char anchor_input[] =
    "{\"data\":{\"order_id\":\"4aadacedc45f542d63d433035faec30bee02a95f20b236aae0b6ee3682c9fc12\""
    ",\"record\":\"ledger:3\",\"ref\":\"iota:4wBqpZM9xaSheZzJSMawUKKwhdpChKbZ5eu5ky4Vigw\"},\"mes"
    "sage_type\":\"anchor\",\"verification\":\"\"}";

/*
 * Section 15.6 on the sdpp/2 order: its sealing, session_key and items 1
 * and 2, the buyer's ACK of item 2; then the connection drops with items 3
 * and 4 and invoice 1 lost on the way, the buyer resumes from item 2 with no
 * invoice received, and the seller answers.
 */
#define SEAL2_E_HEX "34e42d4af5ef94a07a3a84201b889d4cd1a743cb27b11b6a10438a8feb8e5847"
#define SEAL2_Z_HEX "7c3f38ab39022e973af90b7e587809858686b0d912281c640948306f89aea84e"
#define SEAL2_K_HEX "fdd105fc53db0e67d8708bd825e3314d697562e161ad3ad134821ac5a97bb4db"
#define SEAL2_N_HEX "0c970987992d2d172c30faa8"
#define SEAL2_C_HEX "df584a4824cab40b896d2b427520f03a41d3f2a80897c7d5320d8a3149b17f8f"
#define SEAL2_T_HEX "d303b9ac07a474d3082de9e0d881152c"
#define SEALED2_B64                                                                                \
	"NOQtSvXvlKB6OoQgG4idTNGnQ8snsRtqEEOKj+uOWEffWEpIJMq0C4ltK0J1IPA6QdPyqAiX"                 \
	"x9UyDYoxSbF/j9MDuawHpHTTCC3p4NiBFSw="
static const char session_key2_frame[] =
    "{\"data\":{\"nonce_prefix\":\"05060708\",\"order_id\":\"0e9b46ff5940969061ae0bb3b3824b90"
    "b60207cd9543d9b93941d6789b587015\",\"sealed_key\":\"NOQtSvXvlKB6OoQgG4idTNGnQ8snsRtqEEOK"
    "j+uOWEffWEpIJMq0C4ltK0J1IPA6QdPyqAiXx9UyDYoxSbF/j9MDuawHpHTTCC3p4NiBFSw=\"},\"message_ty"
    "pe\":\"session_key\",\"signature\":\"JmcJzWpt+H7kI3xWilKQHo4RhmlttpnUhkGYTc/98jL20C/ENDV"
    "2fe5bNa/c5jziEQw+sIUPCsm1XOadGwF6BA==\",\"verification\":\"ledger:1\"}";
/* Items 1..2 of the sdpp/2 order. */
static const struct item_vec items2[ITEMS2] = {
	{ "{\"payload\":\"NjE1\",\"received_at\":1764151202212,\""
	  "seq\":1,\"topic\":\"building/7/floor2/co2\"}",
	    "050607080000000000000001",
	    "0e9b46ff5940969061ae0bb3b3824b90b60207cd9543d9b93941d6789b5870150000000000000001",
	    "U5oirv3URqab+iDXE/v3utCmjjvnMEtE9NurjaSYW3pmaXDBwjwu6DWmzEe10rATpKFIaqgO"
	    "ObFc4N1bNQnoZyqaFunSrya7dWM/v/evgeLgUPY/dnC9KW7GgTuR+S9Yg6vj4FRq",
	    "02a500faef9f041a67afc4f98879d1c3b91726e51736ea7ab549b407b9ab4c9e" },
	{ "{\"payload\":\"NjI0\",\"received_at\":1764151262214,\""
	  "seq\":2,\"topic\":\"building/7/floor2/co2\"}",
	    "050607080000000000000002",
	    "0e9b46ff5940969061ae0bb3b3824b90b60207cd9543d9b93941d6789b5870150000000000000002",
	    "lSueQLkhavhVHAnWfzbKwZZ+3KCjAcvOFTDN97SrHwEOydt42d638rsqCOjZxE2WYjuxVgKa"
	    "Ju5Dr9Qay6sg3+HXcjAQLEd87uVR2X1b4iTfRmwkP3R8MB4K8xvAjfm6c8VyBRu2",
	    "069c15d4abda0399dbd7183e7874ad67d09fda30cdd13bea07a1c6b27b342a58" },
};
static const char *const data2_frames[ITEMS2] = {
	"{\"data\":{\"ciphertext\":\"U5oirv3URqab+iDXE/v3utCmjjvnMEtE9NurjaSYW3pmaXDBwjwu6DWmzEe1"
	"0rATpKFIaqgOObFc4N1bNQnoZyqaFunSrya7dWM/v/evgeLgUPY/dnC9KW7GgTuR+S9Yg6vj4FRq\",\"order_i"
	"d\":\"0e9b46ff5940969061ae0bb3b3824b90b60207cd9543d9b93941d6789b587015\",\"seq\":1},\"me"
	"ssage_type\":\"data\",\"signature\":\"\",\"verification\":\"\"}",
	"{\"data\":{\"ciphertext\":\"lSueQLkhavhVHAnWfzbKwZZ+3KCjAcvOFTDN97SrHwEOydt42d638rsqCOjZ"
	"xE2WYjuxVgKaJu5Dr9Qay6sg3+HXcjAQLEd87uVR2X1b4iTfRmwkP3R8MB4K8xvAjfm6c8VyBRu2\",\"order_i"
	"d\":\"0e9b46ff5940969061ae0bb3b3824b90b60207cd9543d9b93941d6789b587015\",\"seq\":2},\"me"
	"ssage_type\":\"data\",\"signature\":\"\",\"verification\":\"\"}",
};
static const char ack2_frame[] =
    "{\"data\":{\"digest\":\"069c15d4abda0399dbd7183e7874ad67d09fda30cdd13bea07a1c6b27b342a58"
    "\",\"order_id\":\"0e9b46ff5940969061ae0bb3b3824b90b60207cd9543d9b93941d6789b587015\",\"s"
    "eq\":2},\"message_type\":\"ack\",\"signature\":\"J6EmsUQDbdj4VuyrJO8E2rN4RWaWBSGsjVP7oLH"
    "MkmEcFPi8swgitWTTFt7q/M7CCWY/VIJhTKpHclNsFpZPBg==\",\"verification\":\"\"}";
static const char ack2_input[] =
    "{\"data\":{\"digest\":\"069c15d4abda0399dbd7183e7874ad67d09fda30cdd13bea07a1c6b27b342a58"
    "\",\"order_id\":\"0e9b46ff5940969061ae0bb3b3824b90b60207cd9543d9b93941d6789b587015\",\"s"
    "eq\":2},\"message_type\":\"ack\",\"verification\":\"\"}";
#define RESUME_SIG_B64                                                                             \
	"DNZlrZXSgzs2rTWyxdTL6zXqOSTNtvPG8enQo97flCnzYfOIFNB76VSGSSQsZHMi/Q3qrnvoiJiMHROGgAppCw=="
#define RESUMED_SIG_B64                                                                            \
	"9NL68x0wYIZs8GBQ/IefTWIhUU05Gnu/Wzohy3bCHITY6rM1wylnTOqHo/Ni7oycozEKauR5h1eCsDFap8vNBw=="
static const char resume_frame[] =
    "{\"data\":{\"attempt\":1,\"digest\":\"069c15d4abda0399dbd7183e7874ad67d09fda30cdd13bea07"
    "a1c6b27b342a58\",\"invoice\":0,\"order_id\":\"0e9b46ff5940969061ae0bb3b3824b90b60207cd95"
    "43d9b93941d6789b587015\",\"seq\":2},\"message_type\":\"resume\",\"signature\":\"DNZlrZXS"
    "gzs2rTWyxdTL6zXqOSTNtvPG8enQo97flCnzYfOIFNB76VSGSSQsZHMi/Q3qrnvoiJiMHROGgAppCw==\",\"ver"
    "ification\":\"\"}";
static const char resume_input[] =
    "{\"data\":{\"attempt\":1,\"digest\":\"069c15d4abda0399dbd7183e7874ad67d09fda30cdd13bea07"
    "a1c6b27b342a58\",\"invoice\":0,\"order_id\":\"0e9b46ff5940969061ae0bb3b3824b90b60207cd95"
    "43d9b93941d6789b587015\",\"seq\":2},\"message_type\":\"resume\",\"verification\":\"\"}";
static const char resumed_frame[] =
    "{\"data\":{\"dropped\":0,\"invoice\":1,\"order_id\":\"0e9b46ff5940969061ae0bb3b3824b90b6"
    "0207cd9543d9b93941d6789b587015\",\"paid\":\"0\",\"sent\":4,\"seq\":2},\"message_type\":\""
    "resumed\",\"signature\":\"9NL68x0wYIZs8GBQ/IefTWIhUU05Gnu/Wzohy3bCHITY6rM1wylnTOqHo/Ni7o"
    "ycozEKauR5h1eCsDFap8vNBw==\",\"verification\":\"\"}";
static const char resumed_input[] =
    "{\"data\":{\"dropped\":0,\"invoice\":1,\"order_id\":\"0e9b46ff5940969061ae0bb3b3824b90b6"
    "0207cd9543d9b93941d6789b587015\",\"paid\":\"0\",\"sent\":4,\"seq\":2},\"message_type\":\""
    "resumed\",\"verification\":\"\"}";
#define RESUME_SEQ 2
#define RESUME_INVOICE 0
#define RESUME_ATTEMPT 1
#define RESUMED_SENT 4
#define RESUMED_INVOICE 1
#define RESUMED_PAID 0
#define RESUMED_DROPPED 0

/* The keys of the conversation's order and of the sdpp/2 order. */
static const struct keys_vec keys1 = { SESSION_KEY_HEX, NONCE_PREFIX_HEX, EPHEMERAL_HEX, SEAL_E_HEX,
	SEAL_Z_HEX, SEAL_K_HEX, SEAL_N_HEX, SEAL_C_HEX, SEAL_T_HEX, SEALED_B64 };
static const struct keys_vec keys2 = { SESSION_KEY2_HEX, NONCE_PREFIX2_HEX, EPHEMERAL2_HEX,
	SEAL2_E_HEX, SEAL2_Z_HEX, SEAL2_K_HEX, SEAL2_N_HEX, SEAL2_C_HEX, SEAL2_T_HEX, SEALED2_B64 };

/* ------------------------------------------------------------------ */
/* The conversation rebuilt from the inputs                            */

#define CT_MAX 256 /* every item ciphertext here is at most 130 bytes */

/* One order rebuilt from its inputs, with what Appendix A prints for it. */
struct run {
	const char *name;
	const struct keys_vec *keys;
	const struct sample *samples;
	const struct item_vec *items;
	size_t nitems; /* at most ITEMS */
	uint8_t sk[SDPP_SESSION_KEY_BYTES];
	uint8_t prefix[SDPP_NONCE_PREFIX_BYTES];
	uint8_t oid[SDPP_ORDER_ID_BYTES];
	uint8_t sealed[SDPP_SEALED_BYTES];
	char *plaintext[ITEMS + 1]; /* JCS item plaintexts, [1..nitems] */
	size_t ptlen[ITEMS + 1];
	uint8_t ct[ITEMS + 1][CT_MAX]; /* [seq] = ciphertext || tag */
	size_t ctlen[ITEMS + 1];
	uint8_t chain[ITEMS + 1][SDPP_DIGEST_BYTES]; /* [n] = chain_n */
};

struct conv {
	struct sdpp_identity *id[2];
	struct sdpp_verifier *ver[2];
	uint8_t pub[2][SDPP_SIGN_PUBLIC_BYTES];
	uint8_t enc_pub[2][SDPP_ENC_PUBLIC_BYTES];
	struct run v1; /* the conversation's sdpp/1 order */
	struct run v2; /* the sdpp/2 order of the resume vectors */
};

static void
fill_bytes(uint8_t *dst, size_t n, uint8_t start)
{
	size_t i;

	for (i = 0; i < n; i++)
		dst[i] = (uint8_t)(start + i);
}

/* Fails the test unless the n bytes at p are the hex text want. */
static void
hex_is(const char *what, const uint8_t *p, size_t n, const char *want)
{
	char hex[SDPP_HEX_LEN(64)];

	assert_true(n <= 64);
	sdpp_hex_encode(hex, p, n);
	if (strcmp(hex, want) != 0)
		fail_msg("%s: %s, not %s", what, hex, want);
}

/* Fills out (exactly n bytes) from a hex constant. */
static void
unhex_into(uint8_t *out, size_t n, const char *hex)
{
	uint8_t *b;
	size_t len;

	b = test_unhex(hex, &len);
	assert_int_equal(len, n);
	memcpy(out, b, n);
	free(b);
}

static void
order_fill(struct sdpp_msg *m, const struct conv *c)
{
	memset(m, 0, sizeof(*m));
	m->type = SDPP_T_ORDER;
	m->from = BUY;
	snprintf(m->u.order.product, sizeof(m->u.order.product), "%s", PRODUCT);
	m->u.order.quantity = QUANTITY;
	m->u.order.price = PRICE;
	snprintf(m->u.order.currency, sizeof(m->u.order.currency), "%s", CURRENCY);
	memcpy(m->u.order.buyer, c->pub[BUYER], SDPP_SIGN_PUBLIC_BYTES);
	memcpy(m->u.order.enc_key, c->enc_pub[BUYER], SDPP_ENC_PUBLIC_BYTES);
	fill_bytes(m->u.order.nonce, SDPP_ORDER_NONCE_BYTES, ORDER_NONCE_START);
	m->u.order.time = ORDER_TIME;
}

/* The sdpp/2 order: the order's inputs and a topic within the product's. */
static void
order2_fill(struct sdpp_msg *m, const struct conv *c)
{
	order_fill(m, c);
	m->u.order.version = 2;
	m->u.order.topic = ORDER2_TOPIC;
}

/* Rebuilds the order `order` and its sealed key and items into r. */
static void
run_build(struct run *r, const struct conv *c, const struct sdpp_msg *order)
{
	struct sdpp_msg p;
	struct sdpp_aead *aead = NULL;
	struct sdpp_item it;
	uint8_t eph[SDPP_X25519_BYTES], nonce[SDPP_AEAD_NONCE_BYTES], aad[SDPP_DATA_AAD_BYTES];
	char *out;
	size_t len;
	uint64_t seq;

	assert_true(r->nitems <= ITEMS);
	unhex_into(r->sk, sizeof(r->sk), r->keys->sk);
	unhex_into(r->prefix, sizeof(r->prefix), r->keys->prefix);
	unhex_into(eph, sizeof(eph), r->keys->eph);
	/* The order id hashes the order's signature input as re-parsed. */
	assert_int_equal(sdpp_msg_encode(order, c->id[BUYER], &out, &len), SDPP_OK);
	assert_int_equal(sdpp_msg_parse(&p, out, len - 1, BUY, NULL, 0), SDPP_OK);
	assert_int_equal(sdpp_order_id(&p, r->oid), SDPP_OK);
	sdpp_msg_free(&p);
	free(out);
	assert_int_equal(sdpp_seal_with_ephemeral(
	                     r->sealed, c->enc_pub[BUYER], r->sk, r->oid, sizeof(r->oid), eph),
	    SDPP_OK);
	assert_int_equal(sdpp_aead_new(&aead, r->sk), SDPP_OK);
	assert_int_equal(sdpp_chain_init(r->chain[0], r->oid), SDPP_OK);
	for (seq = 1; seq <= r->nitems; seq++) {
		memset(&it, 0, sizeof(it));
		it.seq = seq;
		snprintf(it.topic, sizeof(it.topic), "%s", TOPIC);
		it.received_at = r->samples[seq - 1].received_at;
		it.payload = (const uint8_t *)r->samples[seq - 1].payload;
		it.payload_len = strlen(r->samples[seq - 1].payload);
		assert_int_equal(
		    sdpp_item_encode(&it, &r->plaintext[seq], &r->ptlen[seq]), SDPP_OK);
		assert_true(r->ptlen[seq] + SDPP_AEAD_TAG_BYTES <= CT_MAX);
		sdpp_data_nonce(nonce, r->prefix, seq);
		sdpp_data_aad(aad, r->oid, seq);
		assert_int_equal(sdpp_aead_seal(aead, nonce, aad, sizeof(aad),
		                     (const uint8_t *)r->plaintext[seq], r->ptlen[seq], r->ct[seq]),
		    SDPP_OK);
		r->ctlen[seq] = r->ptlen[seq] + SDPP_AEAD_TAG_BYTES;
		memcpy(r->chain[seq], r->chain[seq - 1], SDPP_DIGEST_BYTES);
		assert_int_equal(
		    sdpp_chain_next(r->chain[seq], seq, r->ct[seq], r->ctlen[seq]), SDPP_OK);
	}
	sdpp_aead_free(aead);
}

/* Builds everything from the inputs; conv_free() releases it. */
static struct conv *
conv_new(void)
{
	struct conv *c = calloc(1, sizeof(*c));
	struct sdpp_msg m;
	int who;

	assert_non_null(c);
	for (who = SELLER; who <= BUYER; who++) {
		c->id[who] = spec_identity(seed_start[who]);
		sdpp_identity_sign_public(c->id[who], c->pub[who]);
		sdpp_identity_enc_public(c->id[who], c->enc_pub[who]);
		assert_int_equal(sdpp_verifier_new(&c->ver[who], c->pub[who]), SDPP_OK);
	}
	c->v1.name = "sdpp/1";
	c->v1.keys = &keys1;
	c->v1.samples = samples;
	c->v1.items = items;
	c->v1.nitems = ITEMS;
	order_fill(&m, c);
	run_build(&c->v1, c, &m);
	c->v2.name = "sdpp/2";
	c->v2.keys = &keys2;
	c->v2.samples = samples2;
	c->v2.items = items2;
	c->v2.nitems = ITEMS2;
	order2_fill(&m, c);
	run_build(&c->v2, c, &m);
	return c;
}

static void
conv_free(struct conv *c)
{
	int i;

	if (c == NULL)
		return;
	for (i = SELLER; i <= BUYER; i++) {
		sdpp_verifier_free(c->ver[i]);
		sdpp_identity_free(c->id[i]);
	}
	for (i = 0; i <= ITEMS; i++) {
		free(c->v1.plaintext[i]);
		free(c->v2.plaintext[i]);
	}
	free(c);
}

static uint64_t
max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/*
 * The body of frames[i], from the inputs and the rules the appendix cites:
 * invoice amounts (section 5.6), the voucher totals (10.3.4) and the
 * statement (5.10). Data frames borrow c's ciphertexts.
 */
static void
frame_fill(struct sdpp_msg *m, struct conv *c, size_t i)
{
	/* The one invoice bills items 1..K; the buyer pays its total_due. */
	const uint64_t paid = K * PRICE;
	const uint64_t n = frames[i].n;
	/* The buyer's exit authorises max(received x price, highest sent). */
	const uint64_t exit_total = max_u64(n * PRICE, paid);

	memset(m, 0, sizeof(*m));
	if (frames[i].type == SDPP_T_ORDER) {
		order_fill(m, c);
		return;
	}
	m->type = frames[i].type;
	m->from = frames[i].from;
	snprintf(m->verification, sizeof(m->verification), "%s", frames[i].verification);
	switch (m->type) {
	case SDPP_T_HELLO:
		snprintf(m->u.hello.version, sizeof(m->u.hello.version), "%s", SDPP_VERSION);
		break;
	case SDPP_T_MENU:
		snprintf(m->u.menu.version, sizeof(m->u.menu.version), "%s", SDPP_VERSION);
		memcpy(m->u.menu.seller, c->pub[SELLER], SDPP_SIGN_PUBLIC_BYTES);
		snprintf(m->u.menu.gateway, sizeof(m->u.menu.gateway), "building-7");
		snprintf(m->u.menu.currency, sizeof(m->u.menu.currency), "%s", CURRENCY);
		snprintf(m->u.menu.payment_method, sizeof(m->u.menu.payment_method), "voucher");
		m->u.menu.granularity = K;
		m->u.menu.ack_every = 2;
		m->u.menu.max_unpaid = 8;
		m->u.menu.sign_items = 0;
		m->u.menu.max_frame = 1048576;
		m->u.menu.nproducts = sizeof(menu_products) / sizeof(menu_products[0]);
		m->u.menu.products = menu_products;
		break;
	case SDPP_T_SESSION_KEY:
		memcpy(m->u.session_key.order_id, c->v1.oid, SDPP_ORDER_ID_BYTES);
		memcpy(m->u.session_key.sealed, c->v1.sealed, SDPP_SEALED_BYTES);
		memcpy(m->u.session_key.nonce_prefix, c->v1.prefix, SDPP_NONCE_PREFIX_BYTES);
		break;
	case SDPP_T_DATA:
		assert_true(n >= 1 && n <= ITEMS);
		memcpy(m->u.data.order_id, c->v1.oid, SDPP_ORDER_ID_BYTES);
		m->u.data.seq = n;
		m->u.data.ciphertext = c->v1.ct[n];
		m->u.data.ciphertext_len = c->v1.ctlen[n];
		break;
	case SDPP_T_ACK:
		memcpy(m->u.ack.order_id, c->v1.oid, SDPP_ORDER_ID_BYTES);
		m->u.ack.seq = n;
		memcpy(m->u.ack.digest, c->v1.chain[n], SDPP_DIGEST_BYTES);
		break;
	case SDPP_T_DATA_INVOICE:
		memcpy(m->u.invoice.order_id, c->v1.oid, SDPP_ORDER_ID_BYTES);
		m->u.invoice.number = 1;
		m->u.invoice.first_seq = 1;
		m->u.invoice.last_seq = n;
		m->u.invoice.unit_price = PRICE;
		m->u.invoice.amount = (m->u.invoice.last_seq - m->u.invoice.first_seq + 1) * PRICE;
		m->u.invoice.total_due = m->u.invoice.amount;
		snprintf(m->u.invoice.currency, sizeof(m->u.invoice.currency), "%s", CURRENCY);
		m->u.invoice.delivered = n; /* postpaid: delivered = last_seq */
		memcpy(m->u.invoice.digest, c->v1.chain[n], SDPP_DIGEST_BYTES);
		break;
	case SDPP_T_PAYMENT_ACK:
		memcpy(m->u.payment.order_id, c->v1.oid, SDPP_ORDER_ID_BYTES);
		m->u.payment.invoice = 1;
		m->u.payment.total = paid;
		break;
	case SDPP_T_EXIT:
		if (m->from == BUY) {
			memcpy(m->u.exit.order_id, c->v1.oid, SDPP_ORDER_ID_BYTES);
			m->u.exit.seq = n;
			memcpy(m->u.exit.digest, c->v1.chain[n], SDPP_DIGEST_BYTES);
			m->u.exit.total = exit_total;
		} else {
			/* Voucher method: paid is the larger of the confirmed
			 * payment and the exit's total. */
			memcpy(m->u.statement.order_id, c->v1.oid, SDPP_ORDER_ID_BYTES);
			m->u.statement.delivered = n;
			m->u.statement.acked = n;
			m->u.statement.total_due = n * PRICE;
			m->u.statement.total_paid = max_u64(paid, exit_total);
			m->u.statement.settled =
			    m->u.statement.total_paid >= m->u.statement.total_due;
		}
		break;
	default:
		fail_msg("frame %zu: no builder for type %d", i, (int)m->type);
	}
}

/*
 * Checks one printed frame: the library builds the same bytes from m (signed
 * by `signer`), parses it, and the signature verifies with that key only,
 * over the context and the frame without its "signature" member, which is
 * want_input when given.
 */
static void
frame_check(const char *what, struct conv *c, const struct sdpp_msg *m, enum party signer,
    const char *line, const char *want_input)
{
	struct sdpp_msg p;
	uint8_t seed[32], sig[SDPP_SIGN_BYTES];
	char sigb64[SDPP_B64_LEN(SDPP_SIGN_BYTES)], *out, *cut;
	const char *s, *e;
	size_t len, linelen = strlen(line);
	int who;

	assert_int_equal(
	    sdpp_msg_encode(m, signer == NOBODY ? NULL : c->id[signer], &out, &len), SDPP_OK);
	if (len != linelen + 1 || memcmp(out, line, linelen) != 0 || out[linelen] != '\n')
		fail_msg("%s: the library builds\n%.*s", what, (int)len, out);
	free(out);
	if (sdpp_msg_parse(&p, line, linelen, m->from, NULL, 0) != SDPP_OK)
		fail_msg("%s: does not parse", what);
	if (p.signed_ != (signer != NOBODY))
		fail_msg("%s: signed is %d", what, p.signed_);
	if (signer == NOBODY) {
		sdpp_msg_free(&p);
		return;
	}
	for (who = SELLER; who <= BUYER; who++)
		if (sdpp_msg_verify(&p, c->ver[who]) !=
		    (who == (int)signer ? SDPP_OK : SDPP_E_SIGNATURE))
			fail_msg("%s: verify with key %d gave the wrong answer", what, who);
	/* The signature input is the context and the printed frame with its
	 * "signature":"...", member cut out (section 4.3). */
	/* The envelope's: after message_type (a tree head has one too). */
	s = strstr(line, "},\"message_type\":");
	assert_non_null(s);
	s = strstr(s, ",\"signature\":\"");
	assert_non_null(s);
	e = strchr(s + strlen(",\"signature\":\""), '"');
	assert_non_null(e);
	len = (size_t)(s - line) + strlen(e + 1);
	cut = malloc(SDPP_SIG_CONTEXT_LEN + len + 1);
	assert_non_null(cut);
	memcpy(cut, SDPP_SIG_CONTEXT, SDPP_SIG_CONTEXT_LEN); /* with its NUL */
	memcpy(cut + SDPP_SIG_CONTEXT_LEN, line, (size_t)(s - line));
	memcpy(cut + SDPP_SIG_CONTEXT_LEN + (size_t)(s - line), e + 1, strlen(e + 1) + 1);
	assert_int_equal(p.signed_len, SDPP_SIG_CONTEXT_LEN + len);
	assert_memory_equal(p.signed_bytes, cut, p.signed_len);
	if (want_input != NULL) {
		assert_int_equal(strlen(want_input), len);
		assert_memory_equal(p.signed_bytes + SDPP_SIG_CONTEXT_LEN, want_input, len);
	}
	/* RFC 8032 signing with the raw seed gives the printed signature. */
	fill_bytes(seed, sizeof(seed), seed_start[signer]);
	assert_int_equal(sdpp_ed25519_sign_seed(sig, seed, cut, p.signed_len), SDPP_OK);
	sdpp_b64_encode(sigb64, sig, sizeof(sig));
	if (strncmp(s + strlen(",\"signature\":\""), sigb64, strlen(sigb64)) != 0 ||
	    e - s != (ptrdiff_t)(strlen(",\"signature\":\"") + strlen(sigb64)))
		fail_msg("%s: the seed signs %s", what, sigb64);
	free(cut);
	sdpp_msg_free(&p);
}

/* ------------------------------------------------------------------ */
/* Tests                                                               */

static void
test_identities(void **state)
{
	struct conv *c = conv_new();
	uint8_t seed[32], pub[SDPP_SIGN_PUBLIC_BYTES], scalar[SDPP_X25519_BYTES];
	static const uint8_t base[SDPP_X25519_BYTES] = { 9 };
	char *pem;
	size_t len;
	int who;

	(void)state;
	for (who = SELLER; who <= BUYER; who++) {
		hex_is(
		    "Ed25519 public key", c->pub[who], SDPP_SIGN_PUBLIC_BYTES, public_hex[who][0]);
		hex_is("X25519 public key", c->enc_pub[who], SDPP_ENC_PUBLIC_BYTES,
		    public_hex[who][1]);
		/* Straight from the raw private bytes too, not only via the key file. */
		fill_bytes(seed, sizeof(seed), seed_start[who]);
		assert_int_equal(sdpp_ed25519_public_from_seed(pub, seed), SDPP_OK);
		hex_is("Ed25519 public key from the seed", pub, sizeof(pub), public_hex[who][0]);
		fill_bytes(scalar, sizeof(scalar), (uint8_t)(seed_start[who] + SPEC_X25519_OFFSET));
		assert_int_equal(sdpp_x25519(pub, scalar, base), SDPP_OK);
		hex_is("X25519 public key from the scalar", pub, sizeof(pub), public_hex[who][1]);
	}
	assert_int_equal(sdpp_identity_public_pem(c->id[BUYER], &pem, &len), SDPP_OK);
	assert_int_equal(len, strlen(buyer_pubfile));
	assert_memory_equal(pem, buyer_pubfile, len);
	free(pem);
	conv_free(c);
}

static void
test_order(void **state)
{
	struct conv *c = conv_new();
	struct sdpp_msg m;
	uint8_t chain0[SDPP_DIGEST_BYTES];

	(void)state;
	order_fill(&m, c);
	frame_check("order", c, &m, BUYER, order_frame, order_input);
	hex_is("order_id", c->v1.oid, sizeof(c->v1.oid), ORDER_ID_HEX);
	assert_int_equal(sdpp_chain_init(chain0, c->v1.oid), SDPP_OK);
	hex_is("chain_0", chain0, sizeof(chain0), CHAIN0_HEX);
	conv_free(c);
}

/* Fails the test unless the n bytes at p are the hex text want; what is
 * the order's name and the step. */
static void
step_is(const struct run *r, const char *step, const uint8_t *p, size_t n, const char *want)
{
	char what[64];

	snprintf(what, sizeof(what), "%s %s", r->name, step);
	hex_is(what, p, n, want);
}

/* One order's sealing, step by step as section 8 writes it, then the
 * library's own, which the buyer opens. */
static void
sealing_check(const struct conv *c, const struct run *r)
{
	static const uint8_t base[SDPP_X25519_BYTES] = { 9 };
	static const char label[] = "sdpp/1 session key";
	uint8_t eph[SDPP_X25519_BYTES], e_pub[SDPP_X25519_BYTES], z[SDPP_X25519_BYTES];
	uint8_t salt[2 * SDPP_X25519_BYTES], info[sizeof(label) - 1 + SDPP_ORDER_ID_BYTES];
	uint8_t okm[SDPP_AEAD_KEY_BYTES + SDPP_AEAD_NONCE_BYTES];
	uint8_t ct[SDPP_SESSION_KEY_BYTES + SDPP_AEAD_TAG_BYTES], sk[SDPP_SESSION_KEY_BYTES];
	char b64[SDPP_B64_LEN(SDPP_SEALED_BYTES)];
	struct sdpp_aead *aead = NULL;

	unhex_into(eph, sizeof(eph), r->keys->eph);
	assert_int_equal(sdpp_x25519(e_pub, eph, base), SDPP_OK);
	step_is(r, "E", e_pub, sizeof(e_pub), r->keys->e);
	assert_int_equal(sdpp_x25519(z, eph, c->enc_pub[BUYER]), SDPP_OK);
	step_is(r, "Z", z, sizeof(z), r->keys->z);
	memcpy(salt, e_pub, SDPP_X25519_BYTES);
	memcpy(salt + SDPP_X25519_BYTES, c->enc_pub[BUYER], SDPP_X25519_BYTES);
	memcpy(info, label, sizeof(label) - 1);
	memcpy(info + sizeof(label) - 1, r->oid, SDPP_ORDER_ID_BYTES);
	assert_int_equal(sdpp_hkdf_sha256(okm, sizeof(okm), salt, sizeof(salt), z, sizeof(z), info,
	                     sizeof(info)),
	    SDPP_OK);
	step_is(r, "HKDF key k", okm, SDPP_AEAD_KEY_BYTES, r->keys->k);
	step_is(r, "HKDF nonce n", okm + SDPP_AEAD_KEY_BYTES, SDPP_AEAD_NONCE_BYTES, r->keys->n);
	assert_int_equal(sdpp_aead_new(&aead, okm), SDPP_OK);
	assert_int_equal(sdpp_aead_seal(aead, okm + SDPP_AEAD_KEY_BYTES, r->oid, sizeof(r->oid),
	                     r->sk, sizeof(r->sk), ct),
	    SDPP_OK);
	sdpp_aead_free(aead);
	step_is(r, "C", ct, SDPP_SESSION_KEY_BYTES, r->keys->c);
	step_is(r, "T", ct + SDPP_SESSION_KEY_BYTES, SDPP_AEAD_TAG_BYTES, r->keys->t);
	/* The library's own sealing gives E || C || T, and the buyer opens it. */
	sdpp_b64_encode(b64, r->sealed, sizeof(r->sealed));
	assert_string_equal(b64, r->keys->sealed);
	assert_int_equal(sdpp_unseal(sk, c->id[BUYER], r->sealed, r->oid, sizeof(r->oid)), SDPP_OK);
	assert_memory_equal(sk, r->sk, sizeof(sk));
}

static void
test_sealing(void **state)
{
	struct conv *c = conv_new();

	(void)state;
	sealing_check(c, &c->v1);
	sealing_check(c, &c->v2);
	conv_free(c);
}

/* One order's items as printed: rebuilt by the library, and from the text. */
static void
items_check(const struct run *r)
{
	const struct item_vec *v;
	struct sdpp_aead *aead = NULL;
	struct sdpp_item it;
	uint8_t nonce[SDPP_AEAD_NONCE_BYTES], aad[SDPP_DATA_AAD_BYTES], ct[CT_MAX], pt[CT_MAX];
	uint8_t chain[SDPP_DIGEST_BYTES];
	char b64[SDPP_B64_LEN(CT_MAX)], what[32];
	size_t ctlen;
	uint64_t seq;

	assert_int_equal(sdpp_aead_new(&aead, r->sk), SDPP_OK);
	assert_int_equal(sdpp_chain_init(chain, r->oid), SDPP_OK);
	for (seq = 1; seq <= r->nitems; seq++) {
		v = &r->items[seq - 1];
		snprintf(what, sizeof(what), "%s item %llu", r->name, (unsigned long long)seq);
		if (strlen(v->plaintext) != r->ptlen[seq] ||
		    memcmp(v->plaintext, r->plaintext[seq], r->ptlen[seq]) != 0)
			fail_msg("%s: plaintext %s", what, r->plaintext[seq]);
		sdpp_data_nonce(nonce, r->prefix, seq);
		hex_is(what, nonce, sizeof(nonce), v->nonce);
		sdpp_data_aad(aad, r->oid, seq);
		hex_is(what, aad, sizeof(aad), v->aad);
		sdpp_b64_encode(b64, r->ct[seq], r->ctlen[seq]);
		if (strcmp(b64, v->ciphertext) != 0)
			fail_msg("%s: ciphertext %s", what, b64);
		hex_is(what, r->chain[seq], SDPP_DIGEST_BYTES, v->chain);
		/* From the printed text alone: the base64 opens to the printed
		 * plaintext, which parses to the inputs, and chains as printed. */
		assert_int_equal(
		    sdpp_b64_decode(ct, sizeof(ct), &ctlen, v->ciphertext, strlen(v->ciphertext)),
		    SDPP_OK);
		assert_int_equal(
		    sdpp_aead_open(aead, nonce, aad, sizeof(aad), ct, ctlen, pt), SDPP_OK);
		assert_int_equal(ctlen - SDPP_AEAD_TAG_BYTES, strlen(v->plaintext));
		assert_memory_equal(pt, v->plaintext, ctlen - SDPP_AEAD_TAG_BYTES);
		assert_int_equal(
		    sdpp_item_parse(&it, (const char *)pt, ctlen - SDPP_AEAD_TAG_BYTES), SDPP_OK);
		assert_int_equal(it.seq, seq);
		assert_string_equal(it.topic, TOPIC);
		assert_int_equal(it.received_at, r->samples[seq - 1].received_at);
		assert_int_equal(it.payload_len, strlen(r->samples[seq - 1].payload));
		assert_memory_equal(it.payload, r->samples[seq - 1].payload, it.payload_len);
		sdpp_item_free(&it);
		assert_int_equal(sdpp_chain_next(chain, seq, ct, ctlen), SDPP_OK);
		hex_is(what, chain, sizeof(chain), v->chain);
	}
	sdpp_aead_free(aead);
}

static void
test_items(void **state)
{
	struct conv *c = conv_new();
	size_t i;

	(void)state;
	/* The appendix says each sdpp/1 payload is 24 bytes. */
	for (i = 0; i < ITEMS; i++)
		assert_int_equal(strlen(samples[i].payload), PAYLOAD_BYTES);
	items_check(&c->v1);
	items_check(&c->v2);
	conv_free(c);
}

static void
test_conversation(void **state)
{
	struct conv *c = conv_new();
	struct sdpp_msg m;
	char what[48];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(frames) / sizeof(frames[0]); i++) {
		snprintf(
		    what, sizeof(what), "frame %zu (%s)", i + 1, sdpp_type_name(frames[i].type));
		frame_fill(&m, c, i);
		frame_check(what, c, &m, frames[i].signer, frames[i].line, NULL);
	}
	conv_free(c);
}

static void
test_signed_item(void **state)
{
	struct conv *c = conv_new();
	struct sdpp_msg m;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.type = SDPP_T_DATA;
	m.from = SEL;
	memcpy(m.u.data.order_id, c->v1.oid, SDPP_ORDER_ID_BYTES);
	m.u.data.seq = 1;
	m.u.data.ciphertext = c->v1.ct[1];
	m.u.data.ciphertext_len = c->v1.ctlen[1];
	/* A signed item's verification is hex(chain_seq) (section 5.5). */
	sdpp_hex_encode(m.verification, c->v1.chain[1], SDPP_DIGEST_BYTES);
	frame_check("signed item", c, &m, SELLER, signed_item_frame, signed_item_input);
	conv_free(c);
}

static void
test_anchor(void **state)
{
	struct conv *c = conv_new();
	struct sdpp_msg m;
	uint8_t digest[32], back[32];
	char b58[BASE58_LEN(32)];
	size_t len;

	(void)state;
	fill_bytes(digest, sizeof(digest), ANCHOR_DIGEST_START);
	assert_true(base58_encode(b58, sizeof(b58), digest, sizeof(digest)) > 0);
	assert_string_equal(b58, ANCHOR_DIGEST_B58);
	assert_int_equal(
	    base58_decode(back, sizeof(back), &len, ANCHOR_DIGEST_B58, strlen(ANCHOR_DIGEST_B58)),
	    0);
	assert_int_equal(len, sizeof(digest));
	assert_memory_equal(back, digest, len);
	memset(&m, 0, sizeof(m));
	m.type = SDPP_T_ANCHOR;
	m.from = SEL;
	memcpy(m.u.anchor.order_id, c->v1.oid, SDPP_ORDER_ID_BYTES);
	snprintf(m.u.anchor.record, sizeof(m.u.anchor.record), "%s", ANCHOR_RECORD);
	assert_true((size_t)snprintf(m.u.anchor.ref, sizeof(m.u.anchor.ref), "iota:%s", b58) <
	            sizeof(m.u.anchor.ref));
	frame_check("anchor", c, &m, SELLER, anchor_frame, anchor_input);
	conv_free(c);
}

/*
 * Resume (section 15.6) on the sdpp/2 order: its session_key, items 1 and
 * 2 and the buyer's ACK of item 2; then the buyer's resume names the chain
 * at the item it holds (chain_2), the seller's resumed what it sent. Each
 * parses back to the same values, and a resumed whose seq is beyond sent is
 * refused.
 */
static void
test_resume(void **state)
{
	struct conv *c = conv_new();
	struct sdpp_msg m, p;
	char *bad, what[32];
	uint64_t seq;

	(void)state;
	hex_is("sdpp/2 order_id", c->v2.oid, sizeof(c->v2.oid), ORDER2_ID_HEX);
	memset(&m, 0, sizeof(m));
	m.type = SDPP_T_SESSION_KEY;
	m.from = SEL;
	snprintf(m.verification, sizeof(m.verification), "ledger:1");
	memcpy(m.u.session_key.order_id, c->v2.oid, SDPP_ORDER_ID_BYTES);
	memcpy(m.u.session_key.sealed, c->v2.sealed, SDPP_SEALED_BYTES);
	memcpy(m.u.session_key.nonce_prefix, c->v2.prefix, SDPP_NONCE_PREFIX_BYTES);
	frame_check("sdpp/2 session_key", c, &m, SELLER, session_key2_frame, NULL);
	for (seq = 1; seq <= ITEMS2; seq++) {
		snprintf(what, sizeof(what), "sdpp/2 item %llu", (unsigned long long)seq);
		memset(&m, 0, sizeof(m));
		m.type = SDPP_T_DATA;
		m.from = SEL;
		memcpy(m.u.data.order_id, c->v2.oid, SDPP_ORDER_ID_BYTES);
		m.u.data.seq = seq;
		m.u.data.ciphertext = c->v2.ct[seq];
		m.u.data.ciphertext_len = c->v2.ctlen[seq];
		frame_check(what, c, &m, NOBODY, data2_frames[seq - 1], NULL);
	}
	/* The ACK of the item the buyer resumes from, which reached the seller. */
	memset(&m, 0, sizeof(m));
	m.type = SDPP_T_ACK;
	m.from = BUY;
	memcpy(m.u.ack.order_id, c->v2.oid, SDPP_ORDER_ID_BYTES);
	m.u.ack.seq = RESUME_SEQ;
	memcpy(m.u.ack.digest, c->v2.chain[RESUME_SEQ], SDPP_DIGEST_BYTES);
	frame_check("sdpp/2 ack", c, &m, BUYER, ack2_frame, ack2_input);

	memset(&m, 0, sizeof(m));
	m.type = SDPP_T_RESUME;
	m.from = BUY;
	memcpy(m.u.resume.order_id, c->v2.oid, SDPP_ORDER_ID_BYTES);
	m.u.resume.seq = RESUME_SEQ;
	memcpy(m.u.resume.digest, c->v2.chain[RESUME_SEQ], SDPP_DIGEST_BYTES);
	m.u.resume.invoice = RESUME_INVOICE;
	m.u.resume.attempt = RESUME_ATTEMPT;
	frame_check("resume", c, &m, BUYER, resume_frame, resume_input);
	assert_int_equal(
	    sdpp_msg_parse(&p, resume_frame, strlen(resume_frame), BUY, NULL, 0), SDPP_OK);
	assert_memory_equal(&p.u.resume, &m.u.resume, sizeof(m.u.resume));
	sdpp_msg_free(&p);

	memset(&m, 0, sizeof(m));
	m.type = SDPP_T_RESUMED;
	m.from = SEL;
	memcpy(m.u.resumed.order_id, c->v2.oid, SDPP_ORDER_ID_BYTES);
	m.u.resumed.seq = RESUME_SEQ;
	m.u.resumed.sent = RESUMED_SENT;
	m.u.resumed.invoice = RESUMED_INVOICE;
	m.u.resumed.paid = RESUMED_PAID;
	m.u.resumed.dropped = RESUMED_DROPPED;
	frame_check("resumed", c, &m, SELLER, resumed_frame, resumed_input);
	assert_int_equal(
	    sdpp_msg_parse(&p, resumed_frame, strlen(resumed_frame), SEL, NULL, 0), SDPP_OK);
	assert_memory_equal(&p.u.resumed, &m.u.resumed, sizeof(m.u.resumed));
	sdpp_msg_free(&p);
	/* Only a buyer resumes, only a seller answers. */
	assert_int_equal(sdpp_msg_parse(&p, resume_frame, strlen(resume_frame), SEL, NULL, 0),
	    SDPP_E_UNEXPECTED);
	assert_int_equal(sdpp_msg_parse(&p, resumed_frame, strlen(resumed_frame), BUY, NULL, 0),
	    SDPP_E_UNEXPECTED);
	bad = malloc(sizeof(resumed_frame));
	assert_non_null(bad);
	memcpy(bad, resumed_frame, sizeof(resumed_frame));
	memcpy(strstr(bad, "\"sent\":4"), "\"sent\":1", strlen("\"sent\":1"));
	assert_int_equal(sdpp_msg_parse(&p, bad, strlen(bad), SEL, NULL, 0), SDPP_E_BAD_MESSAGE);
	free(bad);
	conv_free(c);
}

/* The sdpp/2 vectors: the same menu members and order inputs, the sdpp/2
 * members added, the same signature context and order id rule. */
static void
test_v2(void **state)
{
	struct conv *c = conv_new();
	struct sdpp_msg m, p;
	uint8_t oid[SDPP_ORDER_ID_BYTES], chain0[SDPP_DIGEST_BYTES];

	(void)state;
	frame_fill(&m, c, 1); /* frames[1] is the section 5.2 menu */
	assert_int_equal(m.type, SDPP_T_MENU);
	snprintf(m.u.menu.version, sizeof(m.u.menu.version), "%s", SDPP_VERSION_2);
	m.u.menu.products = menu2_products;
	frame_check("sdpp/2 menu", c, &m, SELLER, menu2_frame, menu2_input);
	order2_fill(&m, c);
	frame_check("sdpp/2 order", c, &m, BUYER, order2_frame, order2_input);
	assert_int_equal(
	    sdpp_msg_parse(&p, order2_frame, strlen(order2_frame), BUY, NULL, 0), SDPP_OK);
	assert_int_equal(p.u.order.version, 2);
	assert_string_equal(p.u.order.topic, ORDER2_TOPIC);
	assert_int_equal(sdpp_order_id(&p, oid), SDPP_OK);
	hex_is("sdpp/2 order_id", oid, sizeof(oid), ORDER2_ID_HEX);
	assert_int_equal(sdpp_chain_init(chain0, oid), SDPP_OK);
	hex_is("sdpp/2 chain_0", chain0, sizeof(chain0), CHAIN0_2_HEX);
	sdpp_msg_free(&p);
	conv_free(c);
}

/* The sdpp/2 statement: its tree head's signature input (context and JCS,
 * section 15.5) and signature, then the statement frame itself. */
static void
test_v2_statement(void **state)
{
	struct conv *c = conv_new();
	struct sdpp_msg m, p;
	struct sdpp_tree_head th;
	char in[SDPP_TREE_HEAD_INPUT_MAX], b64[SDPP_B64_LEN(SDPP_SIGN_BYTES)];
	size_t len;

	(void)state;
	memset(&th, 0, sizeof(th));
	th.size = TREE_HEAD_SIZE;
	fill_bytes(th.root, sizeof(th.root), TREE_HEAD_ROOT_START);
	th.time = TREE_HEAD_TIME;
	assert_int_equal(
	    sdpp_tree_head_input(c->pub[SELLER], th.size, th.root, th.time, in, sizeof(in), &len),
	    SDPP_OK);
	assert_memory_equal(in, "sdpp-sth/1\0", SDPP_TREE_HEAD_CONTEXT_LEN);
	if (len != SDPP_TREE_HEAD_CONTEXT_LEN + strlen(tree_head_input) ||
	    memcmp(in + SDPP_TREE_HEAD_CONTEXT_LEN, tree_head_input, strlen(tree_head_input)) != 0)
		fail_msg("tree head input: %.*s", (int)(len - SDPP_TREE_HEAD_CONTEXT_LEN),
		    in + SDPP_TREE_HEAD_CONTEXT_LEN);
	assert_int_equal(sdpp_tree_head_sign(&th, c->id[SELLER]), SDPP_OK);
	sdpp_b64_encode(b64, th.signature, sizeof(th.signature));
	if (strcmp(b64, TREE_HEAD_SIG_B64) != 0)
		fail_msg("tree head signature: %s", b64);
	assert_int_equal(sdpp_tree_head_verify(&th, c->pub[SELLER]), SDPP_OK);
	assert_int_equal(sdpp_tree_head_verify(&th, c->pub[BUYER]), SDPP_E_SIGNATURE);
	memset(&m, 0, sizeof(m));
	m.type = SDPP_T_EXIT;
	m.from = SEL;
	snprintf(m.verification, sizeof(m.verification), "%s", STATEMENT2_VERIFICATION);
	unhex_into(m.u.statement.order_id, SDPP_ORDER_ID_BYTES, ORDER2_ID_HEX);
	m.u.statement.delivered = QUANTITY;
	m.u.statement.acked = QUANTITY;
	m.u.statement.total_due = QUANTITY * PRICE;
	m.u.statement.total_paid = QUANTITY * PRICE;
	m.u.statement.settled = 1;
	m.u.statement.version = 2;
	m.u.statement.tree_head = th;
	frame_check("sdpp/2 statement", c, &m, SELLER, statement2_frame, statement2_input);
	assert_int_equal(
	    sdpp_msg_parse(&p, statement2_frame, strlen(statement2_frame), SEL, NULL, 0), SDPP_OK);
	assert_int_equal(p.u.statement.version, 2);
	assert_memory_equal(&p.u.statement.tree_head, &th, sizeof(th));
	sdpp_msg_free(&p);
	conv_free(c);
}

/* Each printed value above still stands in Appendix A, byte for byte. */
static void
test_document(void **state)
{
	static const char *const pretty_sigs[] = { RESUME_SIG_B64, RESUMED_SIG_B64 };
	const struct keys_vec *const keys[] = { &keys1, &keys2 };
	char *doc, *app, *end, row[1024];
	const char *want[64];
	size_t n = 0, i, len;

	(void)state;
	doc = test_file_read(DOC_PATH, &len);
	if (doc == NULL)
		TEST_SKIP("docs/PROTOCOL.md not found: run from the repository root");
	app = strstr(doc, "\n## Appendix A. Test vectors\n");
	assert_non_null(app);
	end = strstr(app, "\n## Appendix B.");
	assert_non_null(end);
	*end = '\0';
	want[n++] = public_hex[0][0];
	want[n++] = public_hex[0][1];
	want[n++] = public_hex[1][0];
	want[n++] = public_hex[1][1];
	want[n++] = buyer_pubfile;
	want[n++] = order_frame;
	want[n++] = order_input;
	want[n++] = "order_id = " ORDER_ID_HEX "\n";
	want[n++] = "chain_0  = " CHAIN0_HEX "\n";
	want[n++] = "`nonce_prefix` = `" NONCE_PREFIX_HEX "`";
	want[n++] = "`nonce_prefix` = `" NONCE_PREFIX2_HEX "`";
	want[n++] = "`" ANCHOR_DIGEST_B58 "`";
	want[n++] = signed_item_frame;
	want[n++] = signed_item_input;
	want[n++] = anchor_frame;
	want[n++] = anchor_input;
	want[n++] = menu2_frame;
	want[n++] = menu2_input;
	want[n++] = order2_frame;
	want[n++] = order2_input;
	want[n++] = "sdpp/2 order_id = " ORDER2_ID_HEX "\n";
	want[n++] = "sdpp/2 chain_0  = " CHAIN0_2_HEX "\n";
	want[n++] = "`topic` `" ORDER2_TOPIC "`";
	want[n++] = statement2_frame;
	want[n++] = statement2_input;
	want[n++] = tree_head_input;
	want[n++] = session_key2_frame;
	want[n++] = data2_frames[0];
	want[n++] = data2_frames[1];
	want[n++] = ack2_frame;
	want[n++] = ack2_input;
	want[n++] = resume_frame;
	want[n++] = resume_input;
	want[n++] = resumed_frame;
	want[n++] = resumed_input;
	want[n++] = "tree head signature " TREE_HEAD_SIG_B64 "\n";
	for (i = 0; i < sizeof(frames) / sizeof(frames[0]); i++)
		want[n++] = frames[i].line;
	assert_true(n <= sizeof(want) / sizeof(want[0]));
	for (i = 0; i < n; i++)
		if (strstr(app, want[i]) == NULL)
			fail_msg("not in Appendix A: %s", want[i]);
	/* Section 15.6 prints the resume and the resumed pretty: their signatures. */
	for (i = 0; i < sizeof(pretty_sigs) / sizeof(pretty_sigs[0]); i++) {
		snprintf(row, sizeof(row), "\"signature\": \"%s\",", pretty_sigs[i]);
		if (strstr(doc, row) == NULL || strstr(doc, row) > app)
			fail_msg("not in section 15.6: %s", row);
	}
	/* Each order's sealing, in the same block format. */
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		snprintf(row, sizeof(row),
		    "session key SK   %s\nephemeral e      %s\nE = X25519(e,9)  %s\n"
		    "Z = X25519(e,R)  %s\nHKDF key k       %s\nHKDF nonce n     %s\n"
		    "C                %s\nT                %s\nsealed_key       %s\n",
		    keys[i]->sk, keys[i]->eph, keys[i]->e, keys[i]->z, keys[i]->k, keys[i]->n,
		    keys[i]->c, keys[i]->t, keys[i]->sealed);
		if (strstr(app, row) == NULL)
			fail_msg("not in Appendix A: %s", row);
	}
	for (i = 0; i < ITEMS; i++) {
		if (strstr(app, items[i].plaintext) == NULL ||
		    strstr(app, items[i].ciphertext) == NULL)
			fail_msg("item %zu: plaintext or ciphertext not in Appendix A", i + 1);
		snprintf(row, sizeof(row), "nonce  %s\naad    %s\n", items[i].nonce, items[i].aad);
		if (strstr(app, row) == NULL)
			fail_msg("item %zu: not in Appendix A: %s", i + 1, row);
		snprintf(row, sizeof(row), "chain_%zu = %s\n", i + 1, items[i].chain);
		if (strstr(app, row) == NULL)
			fail_msg("not in Appendix A: %s", row);
		/* The inputs of items 2..6 are a table; item 1's are prose. */
		snprintf(row, sizeof(row), "| %zu | `%s` | %lld |", i + 1, samples[i].payload,
		    (long long)samples[i].received_at);
		if (i > 0 && strstr(app, row) == NULL)
			fail_msg("not in Appendix A: %s", row);
	}
	for (i = 0; i < ITEMS2; i++) {
		snprintf(row, sizeof(row), "sdpp/2 item %zu\nplaintext (%zu bytes)\n  %s\n", i + 1,
		    strlen(items2[i].plaintext), items2[i].plaintext);
		if (strstr(app, row) == NULL || strstr(app, items2[i].ciphertext) == NULL)
			fail_msg(
			    "sdpp/2 item %zu: plaintext or ciphertext not in Appendix A", i + 1);
		snprintf(
		    row, sizeof(row), "nonce  %s\naad    %s\n", items2[i].nonce, items2[i].aad);
		if (strstr(app, row) == NULL)
			fail_msg("sdpp/2 item %zu: not in Appendix A: %s", i + 1, row);
		snprintf(row, sizeof(row), "sdpp/2 chain_%zu = %s\n", i + 1, items2[i].chain);
		if (strstr(app, row) == NULL)
			fail_msg("not in Appendix A: %s", row);
		snprintf(row, sizeof(row), "| %zu | `%s` | `%s` | %lld |", i + 1, samples2[i].mqtt,
		    samples2[i].payload, (long long)samples2[i].received_at);
		if (strstr(app, row) == NULL)
			fail_msg("not in Appendix A: %s", row);
	}
	free(doc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identities),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_sealing),
		cmocka_unit_test(test_items),
		cmocka_unit_test(test_conversation),
		cmocka_unit_test(test_signed_item),
		cmocka_unit_test(test_anchor),
		cmocka_unit_test(test_resume),
		cmocka_unit_test(test_v2),
		cmocka_unit_test(test_v2_statement),
		cmocka_unit_test(test_document),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
