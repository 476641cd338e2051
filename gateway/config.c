/* sdpp-gateway.ini: a table of keys drives parsing, defaults and checks; errors carry lines. */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "gateway/access.h"
#include "gateway/config.h"
#include "iota/iota.h"
#include "mqtt/field.h"
#include "mqtt/mqtt.h"
#include "sdpp/framer.h"
#include "sdpp/json.h"
#include "util/text.h"

/*
 * The INI grammar is read here, not by inih: Debian's inih is built with
 * no line numbers for the handler, a 50-byte section name, multi-line
 * values on, and lines over 200 bytes split into pieces that parse as
 * lines of their own. Defending against that meant reading every line
 * ourselves already, so what inih still did (split `key = value', drop an
 * inline comment) is done here too, and the dependency is gone.
 *
 * Longest line, newline included: longer lines are refused whole.
 */
#define CONFIG_LINE_MAX 200
#define MSG_MAX 512

#define MS_S UINT64_C(1000)
#define MS_M (60 * MS_S)
#define MS_H (60 * MS_M)
#define MS_D (24 * MS_H)

/* Systemd's LoadCredential= directory; the only variable a path may use. */
#define CRED_VAR "$CREDENTIALS_DIRECTORY"

enum ktype {
	T_UINT,    /* uint64_t, min..max */
	T_INT,     /* int, min..max (qos) */
	T_COUNT,   /* uint64_t, min..max or "auto" (CONFIG_AUTO): chosen at start */
	T_BOOL,    /* int 0/1 */
	T_MS,      /* uint64_t ms, written as a duration; min..max in ms */
	T_SEC,     /* uint64_t s, written as a duration in whole seconds; min..max in ms */
	T_NAME,    /* [A-Za-z0-9._-], min..size-1 bytes, as the menu requires */
	T_TEXT,    /* UTF-8 without control characters, min..size-1 bytes */
	T_PATH,    /* resolved against the config file's directory; "" allowed if min 0 */
	T_ADDR,    /* host:port or [v6]:port; "" allowed if min 0 */
	T_URI,     /* broker URI as Paho takes it */
	T_FILTER,  /* MQTT subscription filter */
	T_TOPIC,   /* MQTT publish topic (no wildcards); "" allowed if min 0 */
	T_METHOD,  /* payment method this build supports */
	T_PRICE,   /* kept raw until the currency is known */
	T_POINTER, /* RFC 6901 JSON Pointer (mqtt/field.h); "" the whole payload */
	T_FILTERS, /* MQTT filters, comma-separated; "" none */
	T_DECIMAL, /* a number >= 0 such as 0.5 or 2, kept as text; "" none */
};

struct key {
	const char *section;
	const char *name;
	enum ktype type;
	size_t off, size;
	uint64_t min, max; /* strings: min is the shortest length; max is size - 1 */
	const char *def;   /* in INI syntax, parsed like a value; NULL: derived or required */
	enum config_reload reload; /* what a reload does with it */
};

/* Short names for the table below. */
#define R_LIVE CONFIG_RELOAD_LIVE
#define R_MENU CONFIG_RELOAD_MENU
#define R_CONN CONFIG_RELOAD_CONN
#define R_RESTART CONFIG_RELOAD_RESTART

#define GW(f) offsetof(struct gateway_config, f), sizeof(((struct gateway_config *)0)->f)
#define PR(f) offsetof(struct product_config, f), sizeof(((struct product_config *)0)->f)

/* Keys of [gateway], [mqtt] and [ledger], in file order; they index gw_keys. */
enum gw_key {
	G_NAME,
	G_LISTEN,
	G_KEY,
	G_CURRENCY,
	G_PAYMENT_GRANULARITY,
	G_ACK_EVERY,
	G_MAX_UNPAID,
	G_SIGN_ITEMS,
	G_PREPAY,
	G_PAYMENT_METHOD,
	G_PAYMENT_ADDRESS,
	G_MAX_BUYERS,
	G_ALLOW_KEYS,
	G_DENY_KEYS,
	G_MAX_CONNS_PER_ADDRESS,
	G_MAX_NEW_CONNS_PER_SECOND,
	G_MAX_QUANTITY,
	G_HANDSHAKE_TIMEOUT,
	G_ACK_TIMEOUT,
	G_MAX_RESENDS,
	G_PAYMENT_TIMEOUT,
	G_IDLE_TIMEOUT,
	G_RESUME_TIMEOUT,
	G_WINDOW,
	G_BUYER_QUEUE,
	G_MAX_FRAME,
	G_OUTPUT_CAP,
	G_WORKER_THREADS,
	G_METRICS_LISTEN,
	G_TLS_CERT,
	G_TLS_KEY,
	G_URI,
	G_CLIENT_ID,
	G_USERNAME,
	G_PASSWORD_FILE,
	G_CA_FILE,
	G_CERT_FILE,
	G_MQTT_KEY_FILE,
	G_QOS,
	G_PERSISTENT_SESSION,
	G_KEEPALIVE,
	G_QUEUE,
	G_PUBLISH_MENU,
	G_MENU_TOPIC,
	G_STATUS_TOPIC,
	G_PATH,
	G_STH_EVERY,
	G_COMMIT_DELAY,
	G_CHECKPOINT,
	G_IOTA_NETWORK,
	G_IOTA_URL,
	G_IOTA_KEY,
	G_IOTA_MAX_GAS,
	G_IOTA_RPC_TIMEOUT,
	G_IOTA_CONFIRM_TIMEOUT,
	G_IOTA_ANCHOR,
	G_IOTA_ANCHOR_KINDS,
	G_IOTA_ANCHOR_EVERY,
	G_IOTA_ANCHOR_INTERVAL,
	G_DISC_ENABLED,
	G_DISC_PREFIX,
	G_DISC_PRICE,
	G_DISC_ALLOW,
	G_DISC_DENY,
	G__COUNT
};

/*
 * Every key of [gateway], [mqtt] and [ledger]. etc/sdpp-gateway.ini shows
 * each with this default (tests/test_config.c checks that they agree).
 */
static const struct key gw_keys[G__COUNT] = {
	[G_NAME] = { "gateway", "name", T_NAME, GW(name), 1, 0, "sdpp-gateway", R_RESTART },
	[G_LISTEN] = { "gateway", "listen", T_ADDR, GW(listen), 1, 0, "0.0.0.0:7878", R_RESTART },
	[G_KEY] = { "gateway", "key", T_PATH, GW(key), 1, 0, "/var/lib/sdpp-gateway/seller.key",
	    R_RESTART },
	[G_CURRENCY] = { "gateway", "currency", T_NAME, GW(currency), 1, 0, "nanos", R_MENU },
	[G_PAYMENT_GRANULARITY] = { "gateway", "payment_granularity", T_UINT, GW(granularity), 1,
	    1000000, "10", R_MENU },
	[G_ACK_EVERY] = { "gateway", "ack_every", T_UINT, GW(ack_every), 1, 1000000, "1", R_MENU },
	[G_MAX_UNPAID] = { "gateway", "max_unpaid", T_UINT, GW(max_unpaid), 0, 32000000, NULL,
	    R_MENU },
	[G_SIGN_ITEMS] = { "gateway", "sign_items", T_BOOL, GW(sign_items), 0, 1, "no", R_MENU },
	[G_PREPAY] = { "gateway", "prepay", T_BOOL, GW(prepay), 0, 1, "no", R_MENU },
	[G_PAYMENT_METHOD] = { "gateway", "payment_method", T_METHOD, GW(payment_method), 1, 0,
	    "voucher", R_RESTART },
	[G_PAYMENT_ADDRESS] = { "gateway", "payment_address", T_TEXT, GW(payment_address), 0, 0, "",
	    R_RESTART },
	[G_MAX_BUYERS] = { "gateway", "max_buyers", T_UINT, GW(max_buyers), 1, 100000, "1000",
	    R_LIVE },
	/* Who may buy (gateway/access.h): the lists are read again on every
	 * reload; a list that does not read keeps the running configuration. */
	[G_ALLOW_KEYS] = { "gateway", "allow_keys", T_PATH, GW(allow_keys), 0, 0, "", R_LIVE },
	[G_DENY_KEYS] = { "gateway", "deny_keys", T_PATH, GW(deny_keys), 0, 0, "", R_LIVE },
	[G_MAX_CONNS_PER_ADDRESS] = { "gateway", "max_conns_per_address", T_UINT,
	    GW(max_conns_per_address), 0, 100000, "64", R_LIVE },
	[G_MAX_NEW_CONNS_PER_SECOND] = { "gateway", "max_new_conns_per_second", T_UINT,
	    GW(max_new_conns_per_second), 0, 100000, "100", R_LIVE },
	[G_MAX_QUANTITY] = { "gateway", "max_quantity", T_UINT, GW(max_quantity), 0,
	    SDPP_JSON_INT_MAX, "0", R_CONN },
	[G_HANDSHAKE_TIMEOUT] = { "gateway", "handshake_timeout", T_MS, GW(handshake_timeout_ms),
	    100, MS_H, "30s", R_CONN },
	[G_ACK_TIMEOUT] = { "gateway", "ack_timeout", T_MS, GW(ack_timeout_ms), 100, MS_H, "5s",
	    R_CONN },
	[G_MAX_RESENDS] = { "gateway", "max_resends", T_UINT, GW(max_resends), 0, 100, "3",
	    R_CONN },
	[G_PAYMENT_TIMEOUT] = { "gateway", "payment_timeout", T_MS, GW(payment_timeout_ms), MS_S,
	    MS_D, "60s", R_CONN },
	[G_IDLE_TIMEOUT] = { "gateway", "idle_timeout", T_MS, GW(idle_timeout_ms), MS_S, MS_D,
	    "60s", R_CONN },
	/* 0: an order ends with its connection, as in sdpp/1. */
	[G_RESUME_TIMEOUT] = { "gateway", "resume_timeout", T_MS, GW(resume_timeout_ms), 0, MS_D,
	    "60s", R_CONN },
	[G_WINDOW] = { "gateway", "window", T_UINT, GW(window), 0, 10000000, "0", R_CONN },
	[G_BUYER_QUEUE] = { "gateway", "buyer_queue", T_UINT, GW(buyer_queue), 1, 1000000, "64",
	    R_CONN },
	[G_MAX_FRAME] = { "gateway", "max_frame", T_UINT, GW(max_frame), SDPP_FRAME_CAP_HANDSHAKE,
	    SDPP_FRAME_CAP_MAX, "1048576", R_MENU },
	[G_OUTPUT_CAP] = { "gateway", "output_cap", T_UINT, GW(output_cap),
	    SDPP_FRAME_CAP_HANDSHAKE, UINT64_C(1073741824), "4194304", R_LIVE },
	/* Threads that sign items (sign_items) off the event loop; 0: the
	 * loop signs them; auto: one per CPU the daemon may run on. */
	[G_WORKER_THREADS] = { "gateway", "worker_threads", T_COUNT, GW(worker_threads), 0, 64,
	    "auto", R_RESTART },
	[G_METRICS_LISTEN] = { "gateway", "metrics_listen", T_ADDR, GW(metrics_listen), 0, 0, "",
	    R_RESTART },
	/* TLS for buyers: both or neither; reloaded files serve new connections. */
	[G_TLS_CERT] = { "gateway", "tls_cert", T_PATH, GW(tls_cert), 0, 0, "", R_CONN },
	[G_TLS_KEY] = { "gateway", "tls_key", T_PATH, GW(tls_key), 0, 0, "", R_CONN },

	[G_URI] = { "mqtt", "uri", T_URI, GW(mqtt_uri), 1, 0, NULL, R_RESTART },
	[G_CLIENT_ID] = { "mqtt", "client_id", T_TEXT, GW(mqtt_client_id), 1, 0, NULL, R_RESTART },
	[G_USERNAME] = { "mqtt", "username", T_TEXT, GW(mqtt_username), 0, 0, "", R_RESTART },
	[G_PASSWORD_FILE] = { "mqtt", "password_file", T_PATH, GW(mqtt_password_file), 0, 0, "",
	    R_RESTART },
	[G_CA_FILE] = { "mqtt", "ca_file", T_PATH, GW(mqtt_ca_file), 0, 0, "", R_RESTART },
	[G_CERT_FILE] = { "mqtt", "cert_file", T_PATH, GW(mqtt_cert_file), 0, 0, "", R_RESTART },
	[G_MQTT_KEY_FILE] = { "mqtt", "key_file", T_PATH, GW(mqtt_key_file), 0, 0, "", R_RESTART },
	[G_QOS] = { "mqtt", "qos", T_INT, GW(mqtt_qos), 0, 2, "1", R_RESTART },
	[G_PERSISTENT_SESSION] = { "mqtt", "persistent_session", T_BOOL,
	    GW(mqtt_persistent_session), 0, 1, "no", R_RESTART },
	[G_KEEPALIVE] = { "mqtt", "keepalive", T_SEC, GW(mqtt_keepalive_s), 0, 65535 * MS_S, "30s",
	    R_RESTART },
	[G_QUEUE] = { "mqtt", "queue", T_UINT, GW(mqtt_queue), 1, 1048576, "10000", R_RESTART },
	[G_PUBLISH_MENU] = { "mqtt", "publish_menu", T_BOOL, GW(mqtt_publish_menu), 0, 1, "yes",
	    R_LIVE },
	[G_MENU_TOPIC] = { "mqtt", "menu_topic", T_TOPIC, GW(mqtt_menu_topic), 1, 0, NULL,
	    R_RESTART },
	/* "" turns the status topic (and its last will) off. */
	[G_STATUS_TOPIC] = { "mqtt", "status_topic", T_TOPIC, GW(mqtt_status_topic), 0, 0, NULL,
	    R_RESTART },

	[G_PATH] = { "ledger", "path", T_PATH, GW(ledger_path), 1, 0,
	    "/var/lib/sdpp-gateway/ledger.db", R_RESTART },
	[G_STH_EVERY] = { "ledger", "sth_every", T_UINT, GW(ledger_sth_every), 0, 1000000, "0",
	    R_RESTART },
	[G_COMMIT_DELAY] = { "ledger", "commit_delay", T_MS, GW(ledger_commit_delay_ms), 0,
	    10 * MS_S, "0", R_LIVE },
	[G_CHECKPOINT] = { "ledger", "checkpoint", T_MS, GW(ledger_checkpoint_ms), 0, MS_D, "60s",
	    R_LIVE },

	[G_IOTA_NETWORK] = { "iota", "network", T_NAME, GW(iota_network), 1, 0, "testnet",
	    R_RESTART },
	[G_IOTA_URL] = { "iota", "url", T_TEXT, GW(iota_url), 0, 0, "", R_RESTART },
	[G_IOTA_KEY] = { "iota", "key", T_PATH, GW(iota_key), 0, 0, "", R_RESTART },
	[G_IOTA_MAX_GAS] = { "iota", "max_gas", T_UINT, GW(iota_max_gas), 1000000,
	    UINT64_C(10000000000), "50000000", R_RESTART },
	[G_IOTA_RPC_TIMEOUT] = { "iota", "rpc_timeout", T_MS, GW(iota_rpc_timeout_ms), 100,
	    10 * MS_M, "10s", R_RESTART },
	[G_IOTA_CONFIRM_TIMEOUT] = { "iota", "confirm_timeout", T_MS, GW(iota_confirm_timeout_ms),
	    MS_S, MS_H, "60s", R_LIVE },
	[G_IOTA_ANCHOR] = { "iota", "anchor", T_NAME, GW(iota_anchor), 1, 0, "none", R_RESTART },
	[G_IOTA_ANCHOR_KINDS] = { "iota", "anchor_kinds", T_TEXT, GW(iota_anchor_kinds), 1, 0,
	    "invoice", R_RESTART },
	[G_IOTA_ANCHOR_EVERY] = { "iota", "anchor_every", T_UINT, GW(iota_anchor_every), 1,
	    10000000, "100", R_RESTART },
	[G_IOTA_ANCHOR_INTERVAL] = { "iota", "anchor_interval", T_MS, GW(iota_anchor_interval_ms),
	    MS_S, MS_D, "60s", R_LIVE },

	/* price.CLASS keys are read apart (on_key): their names are open. */
	[G_DISC_ENABLED] = { "discovery", "enabled", T_BOOL, GW(discovery_enabled), 0, 1, "no",
	    R_MENU },
	[G_DISC_PREFIX] = { "discovery", "prefix", T_TOPIC, GW(discovery_prefix), 1, 0,
	    "homeassistant", R_MENU },
	[G_DISC_PRICE] = { "discovery", "price", T_PRICE, GW(discovery_price), 0, 0, NULL, R_MENU },
	[G_DISC_ALLOW] = { "discovery", "allow", T_TEXT, GW(discovery_allow), 0, 0, "", R_MENU },
	[G_DISC_DENY] = { "discovery", "deny", T_TEXT, GW(discovery_deny), 0, 0, "", R_MENU },
};
#define NGW ((size_t)G__COUNT)

static const struct key product_keys[] = {
	{ "product", "topic", T_FILTER, PR(topic), 1, 0, NULL, R_MENU },
	{ "product", "price", T_PRICE, PR(price), 0, 0, NULL, R_MENU },
	{ "product", "unit", T_TEXT, PR(unit), 0, 0, "", R_MENU },
	{ "product", "description", T_TEXT, PR(description), 0, 0, "", R_MENU },
	/* Unset stays -1: the product follows [gateway] prepay. */
	{ "product", "prepay", T_BOOL, PR(prepay), 0, 1, NULL, R_MENU },
	{ "product", "field", T_POINTER, PR(field), 0, 0, "", R_MENU },
	{ "product", "exclude", T_FILTERS, PR(exclude), 0, 0, "", R_MENU },
	{ "product", "min_interval", T_MS, PR(min_interval_ms), 0, MS_D, "0", R_MENU },
	{ "product", "on_change", T_BOOL, PR(on_change), 0, 1, "no", R_MENU },
	{ "product", "deadband", T_DECIMAL, PR(deadband), 0, 0, "", R_MENU },
	{ "product", "device_class", T_TEXT, PR(device_class), 0, 0, "", R_MENU },
};
#define NPR (sizeof(product_keys) / sizeof(product_keys[0]))
/* Indexes of product_keys above. */
enum { P_TOPIC = 0, P_PRICE = 1, P_DEADBAND = 9 };

/*
 * Units a price may be written in besides the base unit itself: IOTA
 * Rebased counts in nanos, 10^9 to the IOTA. The legacy "MIOTA" (10^6 of
 * the old pre-Rebased IOTA) is deliberately absent: it would be ambiguous.
 */
static const struct unit {
	const char *currency, *name;
	unsigned exp;
} units[] = {
	{ "nanos", "IOTA", 9 },
};

struct perr {
	int line;
	unsigned seq;
	char *msg;
};

enum sect { S_NONE, S_GATEWAY, S_MQTT, S_LEDGER, S_IOTA, S_DISCOVERY, S_PRODUCT, S_SKIP };

/* What the parser keeps per product besides the product itself. */
struct pstate {
	int line[NPR];          /* where each key was set; 0: default */
	unsigned char bad[NPR]; /* set, but to a refused value */
	char price_raw[CONFIG_LINE_MAX];
};

struct parse {
	struct gateway_config *c;
	FILE *fp;
	char dir[CONFIG_PATH_MAX]; /* absolute directory of the file */
	int line;                  /* line being parsed: INI_HANDLER_LINENO is 0 */
	int read_errno;
	enum sect sect;
	size_t prod;   /* current product, S_PRODUCT */
	int mqtt_line; /* first [mqtt] header, 0 if none */
	int nheaders;  /* [product ...] headers seen, valid or not */
	int too_many;
	int gw_line[NGW];          /* where each key was set; 0: default */
	unsigned char gw_bad[NGW]; /* set, but to a refused value */
	struct pstate *ps;         /* one per product, grown with c->products */
	size_t palloc;
	char disc_price_raw[CONFIG_LINE_MAX];
	char class_raw[CONFIG_CLASS_PRICES_MAX][CONFIG_LINE_MAX];
	struct perr *errs;
	size_t nerrs, caperrs;
	unsigned seq;
	int nomem;
};

static void add_err(struct parse *p, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
add_err(struct parse *p, int line, const char *fmt, ...)
{
	char msg[MSG_MAX], *s;
	struct perr *n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Quoted values come from the file: keep their control characters
	 * (an escape sequence, a tab) off the operator's terminal. */
	for (s = msg; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
	if (p->nerrs == p->caperrs) {
		size_t cap = p->caperrs ? 2 * p->caperrs : 16;

		n = realloc(p->errs, cap * sizeof(*n));
		if (n == NULL) {
			p->nomem = 1;
			return;
		}
		p->errs = n;
		p->caperrs = cap;
	}
	p->errs[p->nerrs].line = line;
	p->errs[p->nerrs].seq = p->seq++;
	p->errs[p->nerrs].msg = strdup(msg);
	if (p->errs[p->nerrs].msg == NULL) {
		p->nomem = 1;
		return;
	}
	p->nerrs++;
}

/* Line order; errors of no line (0) after the others, in the order found. */
static int
err_cmp(const void *a, const void *b)
{
	const struct perr *x = a, *y = b;
	unsigned xl = (unsigned)x->line - 1, yl = (unsigned)y->line - 1;

	if (xl != yl)
		return xl < yl ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Copies s into a buffer of size cap; -1 (and nothing copied) if it does not fit. */
static int
copy_str(char *dst, size_t cap, const char *s)
{
	size_t n = strlen(s);

	if (n >= cap)
		return -1;
	memcpy(dst, s, n + 1);
	return 0;
}

static int
name_ok(const char *s, size_t max)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > max)
		return 0;
	for (i = 0; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '.' || s[i] == '_' || s[i] == '-'))
			return 0;
	return 1;
}

/* What the menu's text fields and item topics accept (sdpp/msg.c). */
static int
text_ok(const char *s)
{
	return util_text_printable(s, strlen(s));
}

/* Decimal digits only (no sign, no space), within min..max. */
static int
parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* "30s", "500ms", "2m", "1h"; a bare number is seconds. Result in ms. */
static int
parse_duration(const char *s, uint64_t *ms)
{
	static const struct {
		const char *suffix;
		uint64_t mul;
	} sfx[] = { { "", MS_S }, { "ms", 1 }, { "s", MS_S }, { "m", MS_M }, { "h", MS_H } };
	char num[32];
	size_t n = 0, i;
	uint64_t v;

	while (isdigit((unsigned char)s[n]))
		n++;
	if (n == 0 || n >= sizeof(num))
		return -1;
	memcpy(num, s, n);
	num[n] = '\0';
	if (parse_uint(num, 0, UINT64_MAX, &v) != 0)
		return -1;
	for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		if (strcmp(s + n, sfx[i].suffix) != 0)
			continue;
		if (v > UINT64_MAX / sfx[i].mul)
			return -1;
		*ms = v * sfx[i].mul;
		return 0;
	}
	return -1;
}

/* Writes ms in the largest unit that divides it, as the file would. */
static void
fmt_duration(char *buf, size_t cap, uint64_t ms)
{
	if (ms != 0 && ms % MS_H == 0)
		snprintf(buf, cap, "%" PRIu64 "h", ms / MS_H);
	else if (ms != 0 && ms % MS_M == 0)
		snprintf(buf, cap, "%" PRIu64 "m", ms / MS_M);
	else if (ms % MS_S == 0)
		snprintf(buf, cap, "%" PRIu64 "s", ms / MS_S);
	else
		snprintf(buf, cap, "%" PRIu64 "ms", ms);
}

static int
parse_bool(const char *s, int *out)
{
	static const char *yes[] = { "yes", "true", "on", "1" };
	static const char *no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

/* A host a resolver can take: a name or IPv4 address (letters, digits,
 * `.', `-', `_'), or an IPv6 address where brackets held it. */
static int
host_ok(const char *host, int bracketed)
{
	unsigned char a6[16];
	size_t i;

	if (bracketed)
		return inet_pton(AF_INET6, host, a6) == 1;
	if (host[0] == '\0' || strlen(host) > 253)
		return 0;
	for (i = 0; host[i] != '\0'; i++)
		if (!(isalnum((unsigned char)host[i]) || host[i] == '.' || host[i] == '-' ||
		        host[i] == '_'))
			return 0;
	return 1;
}

/* HOST:PORT (util_hostport_split, the one parser) with a host that
 * host_ok() takes. Syntax only: nothing is resolved, so a check passes
 * offline. port_required 0 makes ":port" optional (broker URIs). */
static int
hostport_ok(const char *s, int port_required)
{
	struct util_hostport hp;
	char buf[UTIL_HOST_MAX + 16];
	const char *close = s[0] == '[' ? strchr(s, ']') : NULL;
	int has_port = close != NULL ? close[1] != '\0' : strchr(s, ':') != NULL;

	if (!has_port && !port_required) {
		/* Check the host as if a port followed. */
		if ((size_t)snprintf(buf, sizeof(buf), "%s:1", s) >= sizeof(buf))
			return 0;
		s = buf;
	}
	return util_hostport_split(&hp, s, 0, NULL, 0) == 0 && host_ok(hp.host, close != NULL);
}

static const char *const tls_schemes[] = { "ssl://", "mqtts://" };

static int
uri_tls(const char *uri)
{
	size_t i;

	for (i = 0; i < sizeof(tls_schemes) / sizeof(tls_schemes[0]); i++)
		if (strncmp(uri, tls_schemes[i], strlen(tls_schemes[i])) == 0)
			return 1;
	return 0;
}

/* The prefixes the MQTT adapter takes (mqtt/mqtt.c; Paho's ws:// and
 * wss:// are not among them), then host[:port]. */
static int
uri_ok(const char *uri)
{
	static const char *const sch[] = { "tcp://", "mqtt://", "ssl://", "mqtts://" };
	size_t i;

	for (i = 0; i < sizeof(sch) / sizeof(sch[0]); i++)
		if (strncmp(uri, sch[i], strlen(sch[i])) == 0)
			return hostport_ok(uri + strlen(sch[i]), 0);
	return 0;
}

static int topic_ok(const char *t, int wildcards);
static char *trim(char *s);

/* The deadband's form, as the sdpp/2 menu carries it (PROTOCOL 15):
 * (0|[1-9][0-9]*)(.[0-9]+)?, so 0.5 and 2 but not 05, .5 or 2. */
static int
decimal_ok(const char *v)
{
	const char *p = v;

	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (isdigit((unsigned char)*p))
			p++;
	else
		return 0;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return 0;
		while (isdigit((unsigned char)*p))
			p++;
	}
	return *p == '\0';
}

/* A comma-separated list of MQTT filters, blanks around each allowed; ""
 * is none. */
static int
filters_ok(const char *v)
{
	char buf[CONFIG_EXCLUDE_MAX + 1], *tok, *save = NULL;

	if (copy_str(buf, sizeof(buf), v) != 0)
		return 0;
	if (trim(buf)[0] == '\0')
		return 1;
	for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save))
		if (!topic_ok(trim(tok), 1))
			return 0;
	/* An empty item (",," or a trailing comma) is a slip. */
	return v[strlen(v) - 1] != ',' && strstr(v, ",,") == NULL && v[strspn(v, " \t")] != ',';
}

/* The adapter's rules (MQTT 3.1.1 s.4.7: `+' and `#' fill a level, `#'
 * only the last), and no control characters: samples on such topics could
 * not travel in an item anyway (sdpp_item_topic_ok). */
static int
topic_ok(const char *t, int wildcards)
{
	if (strlen(t) > CONFIG_TOPIC_MAX || !text_ok(t) || !mqtt_filter_valid(t))
		return 0;
	return wildcards || strpbrk(t, "+#") == NULL;
}

/* Looks up a unit of currency, the base unit included (exponent 0). */
static int
unit_exp(const char *currency, const char *name, unsigned *exp)
{
	size_t i;

	if (strcasecmp(name, currency) == 0) {
		*exp = 0;
		return 0;
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(units[i].currency, currency) == 0 &&
		    strcasecmp(units[i].name, name) == 0) {
			*exp = units[i].exp;
			return 0;
		}
	}
	return -1;
}

/* "N", "N <base>" or "D <unit>"; on error fills err (prefixed by the key
 * name "price") and returns -1. */
static int
price_parse(const char *s, const char *currency, uint64_t *out, char *err, size_t errlen)
{
	const char *p = s, *ip, *fp = NULL, *unit = NULL;
	size_t ni = 0, nf = 0, i;
	unsigned exp = 0;
	uint64_t v = 0, scale = 1;
	char known[128];

	ip = p;
	while (isdigit((unsigned char)p[ni]))
		ni++;
	p += ni;
	if (*p == '.') {
		fp = ++p;
		while (isdigit((unsigned char)p[nf]))
			nf++;
		p += nf;
	}
	if (*p == ' ' || *p == '\t') {
		while (*p == ' ' || *p == '\t')
			p++;
		unit = p;
		while (*p != '\0' && *p != ' ' && *p != '\t')
			p++;
	}
	if (ni == 0 || (fp != NULL && nf == 0) || *p != '\0' || (unit != NULL && *unit == '\0'))
		goto syntax;
	if (unit != NULL && unit_exp(currency, unit, &exp) != 0) {
		size_t k;

		k = (size_t)snprintf(known, sizeof(known), "%s", currency);
		for (i = 0; i < sizeof(units) / sizeof(units[0]) && k < sizeof(known); i++)
			if (strcmp(units[i].currency, currency) == 0)
				k += (size_t)snprintf(
				    known + k, sizeof(known) - k, ", %s", units[i].name);
		snprintf(err, errlen, "price has an unknown unit `%s' (known: %s): `%s'", unit,
		    known, s);
		return -1;
	}
	if (nf > exp) {
		if (exp == 0)
			snprintf(
			    err, errlen, "price is not a whole number of %s: `%s'", currency, s);
		else
			snprintf(err, errlen, "price has more than %u decimals for %s: `%s'", exp,
			    unit, s);
		return -1;
	}
	/* v = integer part * 10^exp + fraction * 10^(exp - nf), overflow-checked. */
	for (i = 0; i < exp; i++)
		scale *= 10;
	for (i = 0; i < ni; i++) {
		unsigned d = (unsigned)(ip[i] - '0');

		if (v > (UINT64_MAX - d) / 10)
			goto overflow;
		v = v * 10 + d;
	}
	if (v > UINT64_MAX / scale)
		goto overflow;
	v *= scale;
	for (i = 0; i < nf; i++) {
		uint64_t d = (uint64_t)(fp[i] - '0');

		scale /= 10;
		if (v > UINT64_MAX - d * scale)
			goto overflow;
		v += d * scale;
	}
	*out = v;
	return 0;
syntax:
	if (strcmp(currency, "nanos") == 0)
		snprintf(err, errlen, "price is not `N', `N nanos' or `D IOTA': `%s'", s);
	else
		snprintf(err, errlen, "price is not `N' or `N %s': `%s'", currency, s);
	return -1;
overflow:
	snprintf(err, errlen, "price is above 2^64-1 %s: `%s'", currency, s);
	return -1;
}

int
config_parse_price(const char *s, const char *currency, uint64_t *out)
{
	char err[MSG_MAX];

	if (s == NULL || currency == NULL || out == NULL)
		return -1;
	return price_parse(s, currency, out, err, sizeof(err));
}

/* Absolute path: v itself, $CREDENTIALS_DIRECTORY/..., or dir/v. */
static int
resolve_path(const struct parse *p, const char *name, const char *v, char *dst, size_t cap,
    char *err, size_t errlen)
{
	const char *base = NULL, *rel = v;
	int n;

	if (strncmp(v, CRED_VAR "/", strlen(CRED_VAR) + 1) == 0) {
		base = getenv(&CRED_VAR[1]); /* the name without its `$' */
		rel = v + strlen(CRED_VAR) + 1;
		if (base == NULL || base[0] == '\0') {
			snprintf(err, errlen,
			    "%s uses " CRED_VAR
			    ", which is not set (systemd LoadCredential=): `%s'",
			    name, v);
			return -1;
		}
	} else if (v[0] != '/') {
		base = p->dir;
	}
	if (base != NULL)
		n = snprintf(dst, cap, "%s%s%s", base,
		    base[0] != '\0' && base[strlen(base) - 1] == '/' ? "" : "/", rel);
	else
		n = snprintf(dst, cap, "%s", v);
	if (n < 0 || (size_t)n >= cap) {
		dst[0] = '\0';
		snprintf(err, errlen, "%s is longer than %zu bytes once resolved: `%s'", name,
		    cap - 1, v);
		return -1;
	}
	return 0;
}

/* Parses v for key k into base (a gateway_config or product_config).
 * Returns 0, or -1 with err and the field left as it was. */
static int
set_value(
    const struct parse *p, const struct key *k, void *base, const char *v, char *err, size_t errlen)
{
	char *field = (char *)base + k->off;
	char lo[24], hi[24];
	uint64_t u;
	int b;

	switch (k->type) {
	case T_COUNT:
		if (strcmp(v, "auto") == 0) {
			*(uint64_t *)(void *)field = CONFIG_AUTO;
			return 0;
		}
		if (parse_uint(v, k->min, k->max, &u) != 0) {
			snprintf(err, errlen,
			    "%s is not `auto' or an integer %" PRIu64 "-%" PRIu64 ": `%s'", k->name,
			    k->min, k->max, v);
			return -1;
		}
		*(uint64_t *)(void *)field = u;
		return 0;
	case T_UINT:
	case T_INT:
		if (parse_uint(v, k->min, k->max, &u) != 0)
			goto bad_int;
		if (k->type == T_INT)
			*(int *)(void *)field = (int)u;
		else
			*(uint64_t *)(void *)field = u;
		return 0;
	case T_BOOL:
		if (parse_bool(v, &b) != 0) {
			snprintf(err, errlen,
			    "%s is not a boolean (yes/no, true/false, on/off, 1/0): `%s'", k->name,
			    v);
			return -1;
		}
		*(int *)(void *)field = b;
		return 0;
	case T_MS:
	case T_SEC:
		if (parse_duration(v, &u) != 0 || u < k->min || u > k->max ||
		    (k->type == T_SEC && u % MS_S != 0)) {
			fmt_duration(lo, sizeof(lo), k->min);
			fmt_duration(hi, sizeof(hi), k->max);
			snprintf(err, errlen, "%s is not a duration %s-%s (e.g. %s): `%s'", k->name,
			    lo, hi, k->type == T_SEC ? "30s, 2m; whole seconds" : "30s, 500ms, 2m",
			    v);
			return -1;
		}
		*(uint64_t *)(void *)field = k->type == T_SEC ? u / MS_S : u;
		return 0;
	case T_NAME:
		if (!name_ok(v, k->size - 1)) {
			snprintf(err, errlen,
			    "%s is not 1-%zu characters of A-Z a-z 0-9 . _ -: `%s'", k->name,
			    k->size - 1, v);
			return -1;
		}
		break;
	case T_TEXT:
		if (strlen(v) < k->min) {
			snprintf(err, errlen, "%s must not be empty", k->name);
			return -1;
		}
		if (strlen(v) >= k->size) {
			snprintf(err, errlen, "%s is longer than %zu bytes: `%s'", k->name,
			    k->size - 1, v);
			return -1;
		}
		if (!text_ok(v)) {
			snprintf(err, errlen, "%s has control characters or invalid UTF-8: `%s'",
			    k->name, v);
			return -1;
		}
		break;
	case T_PATH:
		if (v[0] == '\0') {
			if (k->min > 0) {
				snprintf(err, errlen, "%s must not be empty", k->name);
				return -1;
			}
			field[0] = '\0';
			return 0;
		}
		return resolve_path(p, k->name, v, field, k->size, err, errlen);
	case T_ADDR:
		if (v[0] == '\0' && k->min == 0)
			break;
		if (strlen(v) >= k->size || !hostport_ok(v, 1)) {
			snprintf(err, errlen,
			    "%s is not host:port or [IPv6]:port with port 1-65535: `%s'", k->name,
			    v);
			return -1;
		}
		break;
	case T_URI:
		if (strlen(v) >= k->size || !uri_ok(v)) {
			snprintf(err, errlen,
			    "%s is not tcp://, mqtt://, ssl:// or mqtts:// with host[:port]: `%s'",
			    k->name, v);
			return -1;
		}
		break;
	case T_FILTER:
		if (strlen(v) >= k->size || !topic_ok(v, 1)) {
			snprintf(err, errlen,
			    "%s is not an MQTT filter (`+' and `#' fill a level, `#' only the "
			    "last): `%s'",
			    k->name, v);
			return -1;
		}
		break;
	case T_TOPIC:
		if (v[0] == '\0' && k->min == 0)
			break;
		if (strlen(v) >= k->size || !topic_ok(v, 0)) {
			snprintf(err, errlen,
			    "%s is not an MQTT topic (not empty, no `+' or `#'): `%s'", k->name, v);
			return -1;
		}
		break;
	case T_METHOD:
		if (strcmp(v, "voucher") != 0 && strcmp(v, "iota") != 0) {
			snprintf(err, errlen, "unknown %s `%s' (this build has: voucher, iota)",
			    k->name, v);
			return -1;
		}
		break;
	case T_PRICE:
		/* Kept raw by the caller: the currency may come later in the file. */
		return 0;
	case T_POINTER: {
		struct mqtt_field f;
		char why[MSG_MAX - 64];

		if (mqtt_field_parse(&f, v, why, sizeof(why)) != 0) {
			snprintf(err, errlen, "%s: %.*s", k->name, (int)(MSG_MAX - 80), why);
			return -1;
		}
		break;
	}
	case T_DECIMAL:
		if (v[0] != '\0' && (strlen(v) >= k->size || !decimal_ok(v))) {
			snprintf(err, errlen, "%s is not a number 0 or above such as 0.5: `%s'",
			    k->name, v);
			return -1;
		}
		break;
	case T_FILTERS:
		if (strlen(v) >= k->size || !filters_ok(v)) {
			snprintf(err, errlen,
			    "%s is not MQTT filters separated by `,' (`+' and `#' fill a level, "
			    "`#' "
			    "only the last): `%s'",
			    k->name, v);
			return -1;
		}
		break;
	}
	if (copy_str(field, k->size, v) != 0) {
		snprintf(err, errlen, "%s is longer than %zu bytes: `%s'", k->name, k->size - 1, v);
		return -1;
	}
	return 0;

bad_int:
	snprintf(err, errlen, "%s is not an integer %" PRIu64 "-%" PRIu64 ": `%s'", k->name, k->min,
	    k->max, v);
	return -1;
}

static int
apply_defaults(struct parse *p, const struct key *tab, size_t n, void *base)
{
	char err[MSG_MAX];
	size_t i;

	for (i = 0; i < n; i++) {
		if (tab[i].def == NULL)
			continue;
		if (set_value(p, &tab[i], base, tab[i].def, err, sizeof(err)) != 0) {
			/* A broken table, not a broken file. */
			add_err(p, 0, "internal: bad default for %s: %s", tab[i].name, err);
			return -1;
		}
	}
	return 0;
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static void
product_begin(struct parse *p, const char *id)
{
	struct gateway_config *c = p->c;
	struct product_config *pc;
	size_t i;

	p->sect = S_SKIP;
	p->nheaders++;
	if (!name_ok(id, SDPP_NAME_MAX)) {
		add_err(p, p->line, "product id is not 1-%d characters of A-Z a-z 0-9 . _ -: `%s'",
		    SDPP_NAME_MAX, id);
		return;
	}
	for (i = 0; i < c->nproducts; i++) {
		if (strcmp(c->products[i].id, id) == 0) {
			add_err(p, p->line, "duplicate product `%s' (first on line %d)", id,
			    c->products[i].line);
			return;
		}
	}
	if (c->nproducts == CONFIG_PRODUCTS_MAX) {
		if (!p->too_many)
			add_err(p, p->line, "more than %d products", CONFIG_PRODUCTS_MAX);
		p->too_many = 1;
		return;
	}
	if (c->nproducts == p->palloc) {
		size_t n = p->palloc ? 2 * p->palloc : 16;
		struct product_config *np = realloc(c->products, n * sizeof(*np));
		struct pstate *ns;

		if (np == NULL) {
			p->nomem = 1;
			return;
		}
		c->products = np;
		ns = realloc(p->ps, n * sizeof(*ns));
		if (ns == NULL) {
			p->nomem = 1;
			return;
		}
		p->ps = ns;
		p->palloc = n;
	}
	memset(&p->ps[c->nproducts], 0, sizeof(p->ps[0]));
	pc = &c->products[c->nproducts];
	memset(pc, 0, sizeof(*pc));
	(void)copy_str(pc->id, sizeof(pc->id), id);
	pc->prepay = -1;
	pc->line = p->line;
	if (apply_defaults(p, product_keys, NPR, pc) != 0)
		return;
	p->prod = c->nproducts++;
	p->sect = S_PRODUCT;
}

/* s points at '['. A section name may be "product " and a 64-byte id. */
static void
section_line(struct parse *p, char *s)
{
	char *close = strchr(s, ']'), *rest, *name;

	p->sect = S_SKIP;
	if (close == NULL) {
		add_err(p, p->line, "section header has no closing `]'");
		return;
	}
	rest = close + 1;
	while (isspace((unsigned char)*rest))
		rest++;
	if (*rest != '\0' && *rest != ';' && *rest != '#') {
		add_err(p, p->line, "text after the section header: `%s'", rest);
		return;
	}
	*close = '\0';
	name = trim(s + 1);
	if (strcmp(name, "gateway") == 0) {
		p->sect = S_GATEWAY;
	} else if (strcmp(name, "mqtt") == 0) {
		p->sect = S_MQTT;
		if (p->mqtt_line == 0)
			p->mqtt_line = p->line;
	} else if (strcmp(name, "ledger") == 0) {
		p->sect = S_LEDGER;
	} else if (strcmp(name, "iota") == 0) {
		p->sect = S_IOTA;
	} else if (strcmp(name, "discovery") == 0) {
		p->sect = S_DISCOVERY;
	} else if (strncmp(name, "product", 7) == 0 &&
	           (name[7] == '\0' || isspace((unsigned char)name[7]))) {
		product_begin(p, trim(name + 7));
	} else {
		add_err(p, p->line, "unknown section [%s]", name);
	}
}

static int on_key(struct parse *p, const char *name, const char *value);

/*
 * Reads and handles one physical line; 0 at the end of the file. The
 * grammar: blank lines, comments (`;' or `#' first), `[section]' headers,
 * and `key = value' (or `key: value'), where a `;' after a blank starts
 * an inline comment and blanks around name and value are dropped. Lines of
 * more than CONFIG_LINE_MAX bytes are refused whole.
 */
static int
read_line(struct parse *p)
{
	char raw[CONFIG_LINE_MAX + 1], *s, *e, *v;
	size_t n = 0, max = CONFIG_LINE_MAX;
	int ch, any = 0, nul = 0;

	while ((ch = getc(p->fp)) != EOF) {
		any = 1;
		if (ch == '\n')
			break;
		if (ch == '\0')
			nul = 1;
		if (n < sizeof(raw) - 1)
			raw[n] = (char)ch;
		n++;
	}
	if (!any) {
		if (ferror(p->fp))
			p->read_errno = errno != 0 ? errno : EIO;
		return 0;
	}
	p->line++;
	if (n + 1 > max) {
		add_err(p, p->line, "line too long (max %zu bytes)", max);
		return 1;
	}
	raw[n] = '\0';
	if (nul) {
		add_err(p, p->line, "NUL byte in line");
		return 1;
	}
	s = raw;
	if (p->line == 1 && n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		s += 3;
	while (isspace((unsigned char)*s))
		s++;
	if (*s == '\0' || *s == ';' || *s == '#')
		return 1;
	if (*s == '[') {
		section_line(p, s);
		return 1;
	}
	/* The first `=' or `:' not inside an inline comment. */
	for (e = s; *e != '\0' && *e != '=' && *e != ':'; e++)
		if (*e == ';' && isspace((unsigned char)e[-1]))
			break;
	if (*e != '=' && *e != ':') {
		add_err(p, p->line, "expected `key = value' or [section]: `%s'", trim(s));
		return 1;
	}
	if (e == s) {
		add_err(p, p->line, "missing key name before `%c'", *e);
		return 1;
	}
	*e = '\0';
	if (p->sect == S_NONE) {
		add_err(p, p->line, "key `%s' outside a section", trim(s));
		return 1;
	}
	if (p->sect == S_SKIP)
		return 1;
	/* An inline comment: `;' after a blank. */
	for (v = e + 1; *v != '\0'; v++)
		if (*v == ';' && isspace((unsigned char)v[-1])) {
			*v = '\0';
			break;
		}
	(void)on_key(p, trim(s), trim(e + 1));
	return 1;
}

/* [discovery] price.CLASS = PRICE; the price is read with the others. */
static int
class_price_key(struct parse *p, const char *cls, const char *value)
{
	struct gateway_config *c = p->c;
	struct class_price *cp;
	size_t i;

	if (cls[0] == '\0' || strlen(cls) > SDPP_DEVICE_CLASS_MAX ||
	    strspn(cls, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(cls)) {
		add_err(p, p->line,
		    "price.CLASS: the device class is not 1-%d characters of a-z 0-9 _: `%s'",
		    SDPP_DEVICE_CLASS_MAX, cls);
		return 1;
	}
	for (i = 0; i < c->nclass_prices; i++)
		if (strcmp(c->class_prices[i].device_class, cls) == 0) {
			add_err(p, p->line, "duplicate key `price.%s' (first on line %d)", cls,
			    c->class_prices[i].line);
			return 1;
		}
	if (c->nclass_prices == CONFIG_CLASS_PRICES_MAX) {
		add_err(p, p->line, "more than %d price.CLASS keys", CONFIG_CLASS_PRICES_MAX);
		return 1;
	}
	cp = &c->class_prices[c->nclass_prices];
	(void)copy_str(cp->device_class, sizeof(cp->device_class), cls);
	cp->line = p->line;
	(void)copy_str(p->class_raw[c->nclass_prices], sizeof(p->class_raw[0]), value);
	c->nclass_prices++;
	return 1;
}

/* One `key = value' of the current section. */
static int
on_key(struct parse *p, const char *name, const char *value)
{
	const struct key *tab;
	const char *secname;
	char err[MSG_MAX];
	unsigned char *bad;
	size_t n, i;
	void *base;
	int *lines;

	switch (p->sect) {
	case S_GATEWAY:
	case S_MQTT:
	case S_LEDGER:
	case S_IOTA:
	case S_DISCOVERY:
		secname = p->sect == S_GATEWAY  ? "gateway"
		          : p->sect == S_MQTT   ? "mqtt"
		          : p->sect == S_LEDGER ? "ledger"
		          : p->sect == S_IOTA   ? "iota"
		                                : "discovery";
		if (p->sect == S_DISCOVERY && strncmp(name, "price.", 6) == 0)
			return class_price_key(p, name + 6, value);
		tab = gw_keys;
		n = NGW;
		base = p->c;
		lines = p->gw_line;
		bad = p->gw_bad;
		break;
	case S_PRODUCT:
		secname = "product";
		tab = product_keys;
		n = NPR;
		base = &p->c->products[p->prod];
		lines = p->ps[p->prod].line;
		bad = p->ps[p->prod].bad;
		break;
	default:
		return 1;
	}
	for (i = 0; i < n; i++)
		if (strcmp(tab[i].section, secname) == 0 && strcmp(tab[i].name, name) == 0)
			break;
	if (i == n) {
		if (p->sect == S_PRODUCT)
			add_err(p, p->line, "unknown key `%s' in [product %s]", name,
			    p->c->products[p->prod].id);
		else
			add_err(p, p->line, "unknown key `%s' in [%s]", name, secname);
		return 1;
	}
	if (lines[i] != 0) {
		add_err(p, p->line, "duplicate key `%s' (first on line %d)", name, lines[i]);
		return 1;
	}
	lines[i] = p->line;
	if (tab[i].type == T_PRICE && p->sect == S_PRODUCT)
		(void)copy_str(p->ps[p->prod].price_raw, sizeof(p->ps[p->prod].price_raw), value);
	else if (tab[i].type == T_PRICE)
		(void)copy_str(p->disc_price_raw, sizeof(p->disc_price_raw), value);
	else if (set_value(p, &tab[i], base, value, err, sizeof(err)) != 0) {
		bad[i] = 1;
		add_err(p, p->line, "%s", err);
	}
	return 1;
}

/* Line to blame for a conflict between keys a and b: a's if set, else b's. */
static int
blame(const struct parse *p, size_t a, size_t b)
{
	return p->gw_line[a] != 0 ? p->gw_line[a] : p->gw_line[b];
}

static int
gw_ok(const struct parse *p, size_t a)
{
	return !p->gw_bad[a];
}

/* Fills the defaults that depend on other keys. */
static void
derive(struct parse *p)
{
	struct gateway_config *c = p->c;

	if (p->gw_line[G_MAX_UNPAID] == 0)
		c->max_unpaid = 2 * c->granularity;
	if (p->gw_line[G_CLIENT_ID] == 0)
		snprintf(c->mqtt_client_id, sizeof(c->mqtt_client_id), "sdpp-gateway-%s", c->name);
	if (p->gw_line[G_MENU_TOPIC] == 0)
		snprintf(c->mqtt_menu_topic, sizeof(c->mqtt_menu_topic), "sdpp/%s/menu", c->name);
	if (p->gw_line[G_STATUS_TOPIC] == 0)
		snprintf(
		    c->mqtt_status_topic, sizeof(c->mqtt_status_topic), "sdpp/%s/status", c->name);
}

/* Prices wait for the end of the file: [gateway] currency may follow them. */
static void
resolve_prices(struct parse *p)
{
	char err[MSG_MAX];
	size_t i;

	if (!gw_ok(p, G_CURRENCY))
		return;
	for (i = 0; i < p->c->nproducts; i++) {
		if (p->ps[i].line[P_PRICE] == 0)
			continue;
		if (price_parse(p->ps[i].price_raw, p->c->currency, &p->c->products[i].price, err,
		        sizeof(err)) != 0) {
			p->ps[i].bad[P_PRICE] = 1;
			add_err(p, p->ps[i].line[P_PRICE], "%s", err);
		}
	}
	if (p->gw_line[G_DISC_PRICE] != 0 && price_parse(p->disc_price_raw, p->c->currency,
	                                         &p->c->discovery_price, err, sizeof(err)) != 0) {
		p->gw_bad[G_DISC_PRICE] = 1;
		add_err(p, p->gw_line[G_DISC_PRICE], "%s", err);
	}
	for (i = 0; i < p->c->nclass_prices; i++) {
		struct class_price *cp = &p->c->class_prices[i];

		if (price_parse(p->class_raw[i], p->c->currency, &cp->price, err, sizeof(err)) != 0)
			add_err(p, cp->line, "price.%s: %s", cp->device_class, err);
	}
}

/* Record kinds that [iota] anchor_kinds may name, in enum ledger_kind's
 * order (1 = order). Kept here so the config does not depend on ledger/. */
static const char *const anchor_kind_names[] = {
	"",
	"order",
	"session",
	"invoice",
	"payment",
	"receipts",
	"exit",
	"close",
	"resume",
};

/* [iota]: names into enums, and what the IOTA payment method needs. */
static void
iota_checks(struct parse *p)
{
	struct gateway_config *c = p->c;
	char kinds[sizeof(c->iota_anchor_kinds)], *tok, *save = NULL;
	enum iota_network net;
	size_t i;

	c->iota_net = iota_network_parse(&net, c->iota_network) == 0 ? (int)net : -1;
	if (c->iota_net < 0 && gw_ok(p, G_IOTA_NETWORK))
		add_err(p, p->gw_line[G_IOTA_NETWORK],
		    "network is not mainnet, testnet or devnet: `%s'", c->iota_network);
	if (strcmp(c->iota_anchor, "none") == 0)
		c->iota_anchor_mode = CONFIG_ANCHOR_NONE;
	else if (strcmp(c->iota_anchor, "records") == 0)
		c->iota_anchor_mode = CONFIG_ANCHOR_RECORDS;
	else if (strcmp(c->iota_anchor, "tree_heads") == 0)
		c->iota_anchor_mode = CONFIG_ANCHOR_TREE_HEADS;
	else if (gw_ok(p, G_IOTA_ANCHOR))
		add_err(p, p->gw_line[G_IOTA_ANCHOR],
		    "anchor is not none, records or tree_heads: `%s'", c->iota_anchor);
	c->iota_anchor_mask = 0;
	(void)copy_str(kinds, sizeof(kinds), c->iota_anchor_kinds);
	for (tok = strtok_r(kinds, ", ", &save); tok != NULL; tok = strtok_r(NULL, ", ", &save)) {
		/* The gateway writes no session records: nothing to anchor. */
		for (i = 1; i < sizeof(anchor_kind_names) / sizeof(anchor_kind_names[0]); i++)
			if (strcmp(tok, anchor_kind_names[i]) == 0 && strcmp(tok, "session") != 0)
				break;
		if (i == sizeof(anchor_kind_names) / sizeof(anchor_kind_names[0])) {
			add_err(p, p->gw_line[G_IOTA_ANCHOR_KINDS],
			    "anchor_kinds: unknown record kind `%s' (order, invoice, payment, "
			    "receipts, exit, close, resume)",
			    tok);
			continue;
		}
		c->iota_anchor_mask |= 1u << i;
	}
	if (c->iota_anchor_mask == 0 && gw_ok(p, G_IOTA_ANCHOR_KINDS))
		add_err(p, p->gw_line[G_IOTA_ANCHOR_KINDS], "anchor_kinds names no record kind");
	if (c->iota_url[0] != '\0' && strncmp(c->iota_url, "http://", 7) != 0 &&
	    strncmp(c->iota_url, "https://", 8) != 0)
		add_err(
		    p, p->gw_line[G_IOTA_URL], "url is not http:// or https://: `%s'", c->iota_url);
	if (strcmp(c->payment_method, "iota") == 0 && gw_ok(p, G_CURRENCY) &&
	    strcmp(c->currency, "nanos") != 0)
		/* Amounts on chain are nanos; another unit would need a rate. */
		add_err(p, blame(p, G_CURRENCY, G_PAYMENT_METHOD),
		    "payment_method iota needs currency nanos, not `%s'", c->currency);
	if (strcmp(c->payment_method, "iota") == 0 && c->payment_address[0] != '\0') {
		uint8_t a[IOTA_ADDRESS_BYTES];

		/* A typo here would send every buyer's money elsewhere. */
		if (iota_address_parse(a, c->payment_address) != 0)
			add_err(p, p->gw_line[G_PAYMENT_ADDRESS],
			    "payment_address is not an IOTA address (0x and 64 hex digits): `%s'",
			    c->payment_address);
	}
}

int
config_rule_next(const char **s, enum config_rule_kind *kind, char *val, size_t vallen)
{
	static const struct {
		const char *name;
		enum config_rule_kind kind;
	} kinds[] = {
		{ "class:", CONFIG_RULE_CLASS },
		{ "component:", CONFIG_RULE_COMPONENT },
		{ "id:", CONFIG_RULE_ID },
		{ "topic:", CONFIG_RULE_TOPIC },
	};
	const char *a = *s, *e;
	size_t i, n;

	while (*a == ' ' || *a == '\t' || *a == ',')
		a++;
	if (*a == '\0')
		return 0;
	e = strchr(a, ',');
	if (e == NULL)
		e = a + strlen(a);
	*s = e;
	while (e > a && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		n = strlen(kinds[i].name);
		if ((size_t)(e - a) > n && strncmp(a, kinds[i].name, n) == 0)
			break;
	}
	if (i == sizeof(kinds) / sizeof(kinds[0]) || (size_t)(e - a) - n >= vallen) {
		snprintf(val, vallen, "%.*s", (int)(e - a), a);
		return -1;
	}
	*kind = kinds[i].kind;
	snprintf(val, vallen, "%.*s", (int)(e - a - (ptrdiff_t)n), a + n);
	return 1;
}

/* One allow or deny list: every rule must be well formed. */
static void
rules_check(struct parse *p, size_t key)
{
	const char *s = (const char *)p->c + gw_keys[key].off;
	enum config_rule_kind kind;
	char val[CONFIG_RULES_MAX];
	int r;

	while ((r = config_rule_next(&s, &kind, val, sizeof(val))) != 0) {
		if (r < 0)
			add_err(p, p->gw_line[key],
			    "%s: `%s' is not class:NAME, component:NAME, id:GLOB or topic:FILTER",
			    gw_keys[key].name, val);
		else if (kind == CONFIG_RULE_COMPONENT && strcmp(val, "sensor") != 0 &&
		         strcmp(val, "binary_sensor") != 0)
			add_err(p, p->gw_line[key],
			    "%s: component:%s is not sensor or binary_sensor", gw_keys[key].name,
			    val);
		else if (kind == CONFIG_RULE_TOPIC && !mqtt_filter_valid(val))
			add_err(p, p->gw_line[key], "%s: topic:%s is not an MQTT filter",
			    gw_keys[key].name, val);
	}
}

/* [discovery]: what turning it on needs. */
static void
discovery_checks(struct parse *p)
{
	const struct gateway_config *c = p->c;
	size_t i;

	rules_check(p, G_DISC_ALLOW);
	rules_check(p, G_DISC_DENY);
	if (!c->discovery_enabled)
		return;
	if (p->gw_line[G_DISC_PRICE] == 0)
		add_err(p, p->gw_line[G_DISC_ENABLED],
		    "[discovery] needs price (what a discovered sensor costs per item)");
	for (i = 0; i < c->nclass_prices; i++)
		if (gw_ok(p, G_PAYMENT_GRANULARITY) && c->granularity != 0 &&
		    c->class_prices[i].price > UINT64_MAX / c->granularity)
			add_err(p, c->class_prices[i].line,
			    "price.%s times payment_granularity is above 2^64-1",
			    c->class_prices[i].device_class);
	if (!p->gw_bad[G_DISC_PRICE] && gw_ok(p, G_PAYMENT_GRANULARITY) && c->granularity != 0 &&
	    c->discovery_price > UINT64_MAX / c->granularity)
		add_err(
		    p, p->gw_line[G_DISC_PRICE], "price times payment_granularity is above 2^64-1");
}

/* Where a key list's problem goes: to the line of the key that names the
 * file, as `allow_keys: FILE:LINE: message'. */
struct list_ctx {
	struct parse *p;
	size_t key;
	const char *path;
};

static void
list_error(void *ctx, int line, const char *msg)
{
	struct list_ctx *l = ctx;

	if (line > 0)
		add_err(l->p, l->p->gw_line[l->key], "%s: %s:%d: %s", gw_keys[l->key].name, l->path,
		    line, msg);
	else
		add_err(
		    l->p, l->p->gw_line[l->key], "%s: %s: %s", gw_keys[l->key].name, l->path, msg);
}

/* allow_keys and deny_keys: read now, so that -t, the start and a reload
 * all see a bad list (a reload then keeps the running lists). Returns the
 * number of problems, each added to p's errors. */
static int
lists_load(struct parse *p)
{
	struct gateway_config *c = p->c;
	struct list_ctx l = { p, G_ALLOW_KEYS, c->allow_keys };
	int n = 0;

	if (c->allow_keys[0] != '\0' && gw_ok(p, G_ALLOW_KEYS))
		n += access_keys_load(&c->allow, c->allow_keys, list_error, &l);
	l.key = G_DENY_KEYS;
	l.path = c->deny_keys;
	if (c->deny_keys[0] != '\0' && gw_ok(p, G_DENY_KEYS))
		n += access_keys_load(&c->deny, c->deny_keys, list_error, &l);
	return n;
}

/* Rules between keys, the seller's own (sdpp/seller.c, PROTOCOL.md s.10). */
static void
cross_checks(struct parse *p)
{
	const struct gateway_config *c = p->c;
	int postpaid = 0;
	size_t i;

	if (p->gw_line[G_URI] == 0)
		add_err(p, p->mqtt_line, "[mqtt] needs uri, e.g. uri = tcp://localhost:1883");
	if (p->nheaders == 0 && !c->discovery_enabled)
		add_err(p, 0, "no [product ID] section and [discovery] is off: nothing to sell");
	for (i = 0; i < c->nproducts; i++) {
		const struct product_config *pc = &c->products[i];

		if (p->ps[i].line[P_TOPIC] == 0)
			add_err(p, pc->line, "product %s has no topic", pc->id);
		if (p->ps[i].line[P_PRICE] == 0)
			add_err(p, pc->line, "product %s has no price", pc->id);
		else if (!p->ps[i].bad[P_PRICE] && gw_ok(p, G_PAYMENT_GRANULARITY) &&
		         c->granularity != 0 && pc->price > UINT64_MAX / c->granularity)
			/* An invoice of K items could not state its amount. */
			add_err(p, p->ps[i].line[P_PRICE],
			    "price of product %s times payment_granularity (%" PRIu64 ") "
			    "is above 2^64-1",
			    pc->id, c->granularity);
		if (pc->deadband[0] != '\0' && !pc->on_change)
			add_err(p, p->ps[i].line[P_DEADBAND],
			    "deadband of product %s needs on_change = yes", pc->id);
		if ((pc->prepay < 0 ? c->prepay : pc->prepay) == 0)
			postpaid = 1;
	}
	/* Discovered products follow [gateway] prepay. */
	if (c->discovery_enabled && !c->prepay)
		postpaid = 1;
	if (gw_ok(p, G_PAYMENT_GRANULARITY) && gw_ok(p, G_ACK_EVERY)) {
		if (c->ack_every > c->granularity)
			add_err(p, blame(p, G_ACK_EVERY, G_PAYMENT_GRANULARITY),
			    "ack_every (%" PRIu64 ") is greater than "
			    "payment_granularity (%" PRIu64 ")",
			    c->ack_every, c->granularity);
	}
	if (gw_ok(p, G_PAYMENT_GRANULARITY) && gw_ok(p, G_MAX_UNPAID)) {
		if (postpaid && c->max_unpaid < c->granularity)
			add_err(p, blame(p, G_MAX_UNPAID, G_PAYMENT_GRANULARITY),
			    "max_unpaid (%" PRIu64 ") is less than payment_granularity (%" PRIu64
			    "), which only prepay products allow",
			    c->max_unpaid, c->granularity);
		if (c->max_unpaid > 32 * c->granularity)
			add_err(p, blame(p, G_MAX_UNPAID, G_PAYMENT_GRANULARITY),
			    "max_unpaid (%" PRIu64 ") is more than "
			    "32 * payment_granularity (%" PRIu64 ")",
			    c->max_unpaid, 32 * c->granularity);
	}
	if (gw_ok(p, G_WINDOW) && gw_ok(p, G_ACK_EVERY) && c->window != 0 &&
	    c->window < c->ack_every)
		add_err(p, blame(p, G_WINDOW, G_ACK_EVERY),
		    "window (%" PRIu64 ") is less than ack_every (%" PRIu64 ")", c->window,
		    c->ack_every);
	if (gw_ok(p, G_OUTPUT_CAP) && gw_ok(p, G_MAX_FRAME) && c->output_cap < c->max_frame)
		add_err(p, blame(p, G_OUTPUT_CAP, G_MAX_FRAME),
		    "output_cap (%" PRIu64 ") is less than max_frame (%" PRIu64 ")", c->output_cap,
		    c->max_frame);
	if (p->gw_line[G_URI] != 0 && gw_ok(p, G_URI) && !uri_tls(c->mqtt_uri)) {
		static const size_t tls[] = { G_CA_FILE, G_CERT_FILE, G_MQTT_KEY_FILE };

		for (i = 0; i < sizeof(tls) / sizeof(tls[0]); i++)
			if (p->gw_line[tls[i]] != 0 && gw_ok(p, tls[i]) &&
			    ((const char *)c + gw_keys[tls[i]].off)[0] != '\0')
				add_err(p, p->gw_line[tls[i]],
				    "%s needs a TLS uri (ssl:// or mqtts://)",
				    gw_keys[tls[i]].name);
	}
	if ((c->tls_cert[0] != '\0') != (c->tls_key[0] != '\0'))
		add_err(p, p->gw_line[c->tls_cert[0] != '\0' ? G_TLS_CERT : G_TLS_KEY],
		    "%s needs %s", c->tls_cert[0] != '\0' ? "tls_cert" : "tls_key",
		    c->tls_cert[0] != '\0' ? "tls_key" : "tls_cert");
	if (c->mqtt_key_file[0] != '\0' && c->mqtt_cert_file[0] == '\0')
		add_err(p, p->gw_line[G_MQTT_KEY_FILE], "key_file needs cert_file");
	if (c->mqtt_password_file[0] != '\0' && c->mqtt_username[0] == '\0')
		add_err(p, p->gw_line[G_PASSWORD_FILE], "password_file needs username");
	iota_checks(p);
	discovery_checks(p);
	(void)lists_load(p);
}

/*
 * Sets p->dir to the absolute directory holding path, lexically (getcwd()
 * plus the path's directory part), so that relative paths in the file
 * still work after the daemon changes directory.
 */
static int
set_dir(struct parse *p, const char *path)
{
	char cwd[CONFIG_PATH_MAX];
	const char *slash = strrchr(path, '/'), *d = path;
	size_t dlen;
	int n;

	if (path[0] == '/') {
		dlen = slash == path ? 1 : (size_t)(slash - path);
		n = snprintf(p->dir, sizeof(p->dir), "%.*s", (int)dlen, path);
	} else {
		if (getcwd(cwd, sizeof(cwd)) == NULL)
			return -1;
		dlen = slash == NULL ? 0 : (size_t)(slash - path);
		while (dlen >= 2 && d[0] == '.' && d[1] == '/') {
			d += 2;
			dlen -= 2;
			while (dlen > 0 && d[0] == '/') {
				d++;
				dlen--;
			}
		}
		if (dlen == 0 || (dlen == 1 && d[0] == '.'))
			n = snprintf(p->dir, sizeof(p->dir), "%s", cwd);
		else
			n = snprintf(p->dir, sizeof(p->dir), "%s%s%.*s", cwd,
			    strcmp(cwd, "/") == 0 ? "" : "/", (int)dlen, d);
	}
	if (n < 0 || (size_t)n >= sizeof(p->dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int
config_load(const char *path, struct gateway_config **out, config_error_fn err, void *ctx)
{
	struct gateway_config *c = NULL;
	struct parse *p = NULL;
	size_t i, nline;
	int n = 0;

	*out = NULL;
	p = calloc(1, sizeof(*p));
	c = calloc(1, sizeof(*c));
	if (p == NULL || c == NULL) {
		if (err != NULL)
			err(ctx, path, 0, "out of memory");
		n = 1;
		goto fail;
	}
	p->c = c;
	if (copy_str(c->path, sizeof(c->path), path) != 0) {
		add_err(p, 0, "path longer than %d bytes", CONFIG_PATH_MAX - 1);
		goto report;
	}
	p->fp = fopen(path, "r");
	if (p->fp == NULL) {
		add_err(p, 0, "cannot open: %s", strerror(errno));
		goto report;
	}
	if (set_dir(p, path) != 0) {
		add_err(p, 0, "cannot resolve its directory: %s", strerror(errno));
		goto report;
	}
	if (apply_defaults(p, gw_keys, NGW, c) != 0)
		goto report;
	while (read_line(p))
		;
	if (p->read_errno != 0)
		add_err(p, p->line, "read error: %s", strerror(p->read_errno));
	resolve_prices(p);
	/* Errors of single lines, then errors between keys (as the header
	 * promises), each group in line order. */
	nline = p->nerrs;
	if (nline > 1)
		qsort(p->errs, nline, sizeof(p->errs[0]), err_cmp);
	derive(p);
	cross_checks(p);
	if (p->nerrs - nline > 1)
		qsort(p->errs + nline, p->nerrs - nline, sizeof(p->errs[0]), err_cmp);

report:
	for (i = 0; i < p->nerrs; i++) {
		if (err != NULL)
			err(ctx, path, p->errs[i].line, p->errs[i].msg);
		n++;
	}
	if (p->nomem) {
		if (err != NULL)
			err(ctx, path, 0, "out of memory");
		n++;
	}
	if (n == 0) {
		*out = c;
		c = NULL;
	}
fail:
	if (p != NULL) {
		if (p->fp != NULL)
			fclose(p->fp);
		for (i = 0; i < p->nerrs; i++)
			free(p->errs[i].msg);
		free(p->errs);
		free(p->ps);
		free(p);
	}
	config_free(c);
	return n;
}

int
config_key_info(size_t i, const char **section, const char **name, enum config_reload *reload)
{
	const struct key *k;

	if (i < NGW)
		k = &gw_keys[i];
	else if (i - NGW < NPR)
		k = &product_keys[i - NGW];
	else
		return -1;
	*section = k->section;
	*name = k->name;
	*reload = k->reload;
	return 0;
}

void
config_keep_restart(const struct gateway_config *cur, struct gateway_config *next,
    void (*changed)(void *ctx, const char *section, const char *name), void *ctx)
{
	size_t i;

	for (i = 0; i < NGW; i++) {
		const struct key *k = &gw_keys[i];
		const char *o = (const char *)cur + k->off;
		char *n = (char *)next + k->off;

		if (k->reload != CONFIG_RELOAD_RESTART || memcmp(o, n, k->size) == 0)
			continue;
		changed(ctx, k->section, k->name);
		memcpy(n, o, k->size);
	}
	/* Derived from restart keys only (network, anchor, anchor_kinds). */
	next->iota_net = cur->iota_net;
	next->iota_anchor_mode = cur->iota_anchor_mode;
	next->iota_anchor_mask = cur->iota_anchor_mask;
}

void
config_changes(const struct gateway_config *cur, const struct gateway_config *next,
    void (*changed)(void *ctx, const char *what), void *ctx)
{
	char what[SDPP_NAME_MAX + 64];
	size_t i, j, k;

	for (i = 0; i < NGW; i++) {
		const struct key *key = &gw_keys[i];

		if (memcmp((const char *)cur + key->off, (const char *)next + key->off,
		        key->size) != 0) {
			snprintf(what, sizeof(what), "%s.%s", key->section, key->name);
			changed(ctx, what);
		}
	}
	/* The same files may hold other keys now. */
	if (!access_keys_equal(cur->allow, next->allow) &&
	    strcmp(cur->allow_keys, next->allow_keys) == 0)
		changed(ctx, "gateway.allow_keys (its keys)");
	if (!access_keys_equal(cur->deny, next->deny) &&
	    strcmp(cur->deny_keys, next->deny_keys) == 0)
		changed(ctx, "gateway.deny_keys (its keys)");
	if (cur->nclass_prices != next->nclass_prices ||
	    memcmp(cur->class_prices, next->class_prices,
	        cur->nclass_prices * sizeof(cur->class_prices[0])) != 0)
		changed(ctx, "discovery.price.CLASS");
	for (i = 0; i < next->nproducts; i++) {
		const struct product_config *n = &next->products[i], *o = NULL;

		for (j = 0; j < cur->nproducts && o == NULL; j++)
			if (strcmp(cur->products[j].id, n->id) == 0)
				o = &cur->products[j];
		if (o == NULL) {
			snprintf(what, sizeof(what), "product %s added", n->id);
			changed(ctx, what);
			continue;
		}
		for (k = 0; k < NPR; k++) {
			const struct key *key = &product_keys[k];

			if (memcmp((const char *)o + key->off, (const char *)n + key->off,
			        key->size) != 0) {
				snprintf(what, sizeof(what), "product %s %s", n->id, key->name);
				changed(ctx, what);
			}
		}
	}
	for (j = 0; j < cur->nproducts; j++) {
		for (i = 0; i < next->nproducts; i++)
			if (strcmp(cur->products[j].id, next->products[i].id) == 0)
				break;
		if (i == next->nproducts) {
			snprintf(what, sizeof(what), "product %s removed", cur->products[j].id);
			changed(ctx, what);
		}
	}
}

void
config_free(struct gateway_config *c)
{
	if (c == NULL)
		return;
	access_keys_free(c->allow);
	access_keys_free(c->deny);
	free(c->products);
	free(c);
}

void
config_menu(const struct gateway_config *c, struct sdpp_menu *m, struct sdpp_product *products)
{
	size_t i;

	memset(m, 0, sizeof(*m));
	/* The whole menu; a session answers an sdpp/1 hello with its part. */
	(void)copy_str(m->version, sizeof(m->version), SDPP_VERSION_2);
	(void)copy_str(m->gateway, sizeof(m->gateway), c->name);
	(void)copy_str(m->currency, sizeof(m->currency), c->currency);
	/* The operator writes `iota' and the network apart; buyers read
	 * both in one method name, iota-NETWORK (PROTOCOL 12). */
	(void)copy_str(m->payment_method, sizeof(m->payment_method),
	    strcmp(c->payment_method, "iota") == 0
	        ? iota_method_name((enum iota_network)c->iota_net)
	        : c->payment_method);
	(void)copy_str(m->payment_address, sizeof(m->payment_address), c->payment_address);
	m->granularity = c->granularity;
	m->ack_every = c->ack_every;
	m->max_unpaid = c->max_unpaid;
	m->sign_items = c->sign_items;
	m->max_frame = c->max_frame;
	m->nproducts = c->nproducts;
	m->products = products;
	for (i = 0; i < c->nproducts; i++)
		config_product(c, &c->products[i], &products[i]);
}

void
config_product(
    const struct gateway_config *c, const struct product_config *pc, struct sdpp_product *sp)
{
	memset(sp, 0, sizeof(*sp));
	(void)copy_str(sp->id, sizeof(sp->id), pc->id);
	sp->price = pc->price;
	(void)copy_str(sp->unit, sizeof(sp->unit), pc->unit);
	(void)copy_str(sp->description, sizeof(sp->description), pc->description);
	sp->prepay = pc->prepay < 0 ? c->prepay : pc->prepay;
	(void)copy_str(sp->topic, sizeof(sp->topic), pc->topic);
	(void)copy_str(sp->field, sizeof(sp->field), pc->field);
	(void)copy_str(sp->device_class, sizeof(sp->device_class), pc->device_class);
	sp->min_interval = pc->min_interval_ms;
	sp->on_change = pc->on_change;
	(void)copy_str(sp->deadband, sizeof(sp->deadband), pc->deadband);
}
