/* sdpp-gateway.ini: one table of keys drives parsing, defaults, checks and the sample file. */
#ifndef GATEWAY_CONFIG_H
#define GATEWAY_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "sdpp/msg.h"

struct access_keys;

#define CONFIG_DEFAULT_PATH "/etc/sdpp-gateway/sdpp-gateway.ini"
#define CONFIG_PATH_MAX 4096
/* [product] sections and discovered products together, as an sdpp/2 menu. */
#define CONFIG_PRODUCTS_MAX SDPP_PRODUCTS_MAX
#define CONFIG_TOPIC_MAX 1024
/* `exclude': the filters, comma-separated, in at most this many bytes. */
#define CONFIG_EXCLUDE_MAX 1024
#define CONFIG_FIELD_MAX 256 /* MQTT_FIELD_POINTER_MAX */
#define CONFIG_DEADBAND_MAX 32
/* [discovery] price.CLASS keys, and the bytes of allow and deny. */
#define CONFIG_CLASS_PRICES_MAX 64
#define CONFIG_RULES_MAX 200
/* A count chosen at start (worker_threads = auto). */
#define CONFIG_AUTO UINT64_MAX

struct product_config {
	char id[SDPP_NAME_MAX + 1];       /* from the section header [product ID] */
	char topic[CONFIG_TOPIC_MAX + 1]; /* MQTT filter, wildcards allowed */
	uint64_t price;                   /* base units per sample */
	char unit[SDPP_UNIT_MAX + 1];     /* of the sample values, e.g. "ppm" */
	char description[SDPP_TEXT_MAX + 1];
	int prepay; /* -1: inherit [gateway] prepay */
	/* What of each sample is sold: "" the whole payload, else an RFC 6901
	 * pointer into its JSON (mqtt/field.h). */
	char field[CONFIG_FIELD_MAX + 1];
	/* Topics of `topic' not sold: MQTT filters, comma-separated ("" none). */
	char exclude[CONFIG_EXCLUDE_MAX + 1];
	/* Rate tier, per source topic (gateway/cut.h): at most one item per
	 * min_interval_ms (0: no limit), and with on_change only values that
	 * changed, numbers by more than deadband ("" exact change). */
	uint64_t min_interval_ms;
	int on_change;
	char deadband[CONFIG_DEADBAND_MAX + 1];
	/* What the values measure, as Home Assistant names it ("" none). */
	char device_class[SDPP_DEVICE_CLASS_MAX + 1];
	int line; /* of the section header, for messages; 0: discovered */
};

/* [discovery] price.CLASS = PRICE: what sensors of one device class cost. */
struct class_price {
	char device_class[SDPP_DEVICE_CLASS_MAX + 1];
	uint64_t price;
	int line;
};

/* One allow/deny rule of [discovery] (config_rule_next()). */
enum config_rule_kind {
	CONFIG_RULE_CLASS,     /* class:NAME, the device class ("" none: class:none) */
	CONFIG_RULE_COMPONENT, /* component:sensor or component:binary_sensor */
	CONFIG_RULE_ID,        /* id:GLOB, the unique_id (fnmatch(3) * ? [...]) */
	CONFIG_RULE_TOPIC,     /* topic:FILTER, state topics within this MQTT filter */
};

enum {
	CONFIG_ANCHOR_NONE = 0,
	CONFIG_ANCHOR_RECORDS,    /* each record of the chosen kinds, one transaction each */
	CONFIG_ANCHOR_TREE_HEADS, /* a signed tree head every N records or T seconds */
};

struct gateway_config {
	char path[CONFIG_PATH_MAX];

	/* [gateway] */
	char name[SDPP_NAME_MAX + 1];             /* default: "sdpp-gateway" */
	char listen[256];                         /* host:port, [v6]:port; default "0.0.0.0:7878" */
	char key[CONFIG_PATH_MAX];                /* default /var/lib/sdpp-gateway/seller.key */
	char currency[SDPP_CURRENCY_MAX + 1];     /* base unit name; default "nanos" */
	uint64_t granularity;                     /* K, default 10 */
	uint64_t ack_every;                       /* default 1 */
	uint64_t max_unpaid;                      /* default 2 * K */
	int sign_items;                           /* default no */
	int prepay;                               /* default no */
	char payment_method[SDPP_METHOD_MAX + 1]; /* "voucher" (default) */
	char payment_address[SDPP_ADDRESS_MAX + 1]; /* default "" */
	uint64_t max_buyers;                        /* default 1000 */
	uint64_t max_quantity;                      /* default 0 = up to 2^53-1 */
	uint64_t handshake_timeout_ms;              /* default 30000 */
	uint64_t ack_timeout_ms;                    /* default 5000 */
	uint64_t max_resends;                       /* default 3 */
	uint64_t payment_timeout_ms;                /* default 60000 */
	uint64_t idle_timeout_ms;                   /* default 60000 */
	uint64_t resume_timeout_ms; /* sdpp/2 order held for its buyer's resume, default 60000 */
	uint64_t window;            /* default 0 = 2 * ack_every, at least 8 */
	uint64_t buyer_queue;       /* samples held per blocked buyer, default 64 */
	uint64_t max_frame;         /* default 1048576 */
	uint64_t output_cap;        /* bytes queued to one buyer, default 4194304 */
	uint64_t worker_threads;  /* item signers off the loop, default CONFIG_AUTO (one per CPU) */
	char metrics_listen[256]; /* Prometheus text endpoint, default "" (off) */
	/* TLS on listen: a PEM certificate chain and its key, both or
	 * neither; default "" (plain TCP) */
	char tls_cert[CONFIG_PATH_MAX];
	char tls_key[CONFIG_PATH_MAX];

	/* [gateway], who may buy (gateway/access.h): the key list files ("" none),
	 * read with the file into allow and deny (NULL without a file), and the
	 * limits per address (0: none; defaults 64 and 100). */
	char allow_keys[CONFIG_PATH_MAX];
	char deny_keys[CONFIG_PATH_MAX];
	struct access_keys *allow, *deny;
	uint64_t max_conns_per_address;
	uint64_t max_new_conns_per_second;

	/* [mqtt] */
	char mqtt_uri[512];       /* required: tcp://host:port or ssl://host:port */
	char mqtt_client_id[128]; /* default "sdpp-gateway-<name>" */
	char mqtt_username[256];
	char mqtt_password_file[CONFIG_PATH_MAX]; /* e.g. $CREDENTIALS_DIRECTORY/mqtt-password */
	char mqtt_ca_file[CONFIG_PATH_MAX];
	char mqtt_cert_file[CONFIG_PATH_MAX];
	char mqtt_key_file[CONFIG_PATH_MAX];
	int mqtt_qos;                /* 0..2, default 1 */
	int mqtt_persistent_session; /* default no (clean session) */
	uint64_t mqtt_keepalive_s;   /* default 30 */
	uint64_t mqtt_queue;         /* samples between Paho and the loop, default 10000 */
	int mqtt_publish_menu;       /* default yes */
	char mqtt_menu_topic[CONFIG_TOPIC_MAX + 1];   /* default sdpp/<name>/menu */
	char mqtt_status_topic[CONFIG_TOPIC_MAX + 1]; /* default sdpp/<name>/status */

	/* [ledger] */
	char ledger_path[CONFIG_PATH_MAX]; /* default /var/lib/sdpp-gateway/ledger.db */
	uint64_t ledger_sth_every;         /* default 0 = every commit */
	uint64_t ledger_commit_delay_ms;   /* extra wait to batch commits, default 0 */
	uint64_t ledger_checkpoint_ms;     /* held records join the log, default 60 s */

	/* [iota]: IOTA Rebased as payment channel (payment_method = iota)
	 * and as remote records medium (anchor). */
	char iota_network[16];            /* mainnet, testnet (default), devnet */
	char iota_url[512];               /* JSON-RPC; default "" = the network's own */
	char iota_key[CONFIG_PATH_MAX];   /* account key; default "" = [gateway] key */
	uint64_t iota_max_gas;            /* nanos per transaction, default 50000000 */
	uint64_t iota_rpc_timeout_ms;     /* per request, default 10s */
	uint64_t iota_confirm_timeout_ms; /* looking for a buyer's payment, default 60s */
	char iota_anchor[16];             /* none (default), records, tree_heads */
	char iota_anchor_kinds[128];      /* records mode: default "invoice" */
	uint64_t iota_anchor_every;       /* tree_heads mode: records per anchor, default 100 */
	uint64_t iota_anchor_interval_ms; /* tree_heads mode: at the latest after, default 60s */
	/* Derived from the above. */
	int iota_net;              /* enum iota_network */
	int iota_anchor_mode;      /* CONFIG_ANCHOR_* */
	unsigned iota_anchor_mask; /* 1 << enum ledger_kind */

	/* [discovery]: products from Home Assistant MQTT discovery. */
	int discovery_enabled;                       /* default no */
	char discovery_prefix[CONFIG_TOPIC_MAX + 1]; /* default homeassistant */
	uint64_t discovery_price;                    /* required when enabled */
	char discovery_allow[CONFIG_RULES_MAX];      /* rules, "" everything */
	char discovery_deny[CONFIG_RULES_MAX];       /* rules, "" nothing */
	size_t nclass_prices;
	struct class_price class_prices[CONFIG_CLASS_PRICES_MAX];

	size_t nproducts;
	struct product_config *products; /* [product] sections, in file order */
};

/* What a reload (SIGHUP) does with a key: one column of the key table,
 * from which the daemon's reload follows and against which the docs are
 * checked (tests/test_config.c). */
enum config_reload {
	CONFIG_RELOAD_LIVE,    /* at once */
	CONFIG_RELOAD_MENU,    /* part of the menu: orders placed after the reload */
	CONFIG_RELOAD_CONN,    /* copied into each connection: buyers who connect after it */
	CONFIG_RELOAD_RESTART, /* the running value stays until a restart */
};

/* Receives each problem found; file is the config path, line 0 when the
 * problem is not tied to a line (e.g. a missing required key). */
typedef void (*config_error_fn)(void *ctx, const char *file, int line, const char *msg);

/*
 * Parses path completely (every error is reported, in file order, through
 * err, then cross-field checks), fills *out (malloc'd, free with
 * config_free()) and returns the number of errors; on errors *out is NULL.
 * Unknown sections and keys, duplicate keys or products, bad values, lines
 * longer than 200 bytes and conflicts (e.g. ack_every > payment_granularity)
 * are errors. Relative paths in the file are taken relative to its directory.
 */
int config_load(const char *path, struct gateway_config **out, config_error_fn err, void *ctx);
void config_free(struct gateway_config *c);

/*
 * Parses a price: an integer in base units ("250", "250 nanos" when the
 * currency is "nanos"), or a decimal with an explicit larger unit the
 * currency knows ("0.25 IOTA" = 250000000 nanos). Returns 0 or -1.
 */
int config_parse_price(const char *s, const char *currency, uint64_t *out);

/* Builds the menu offered by this config: m->products = products (the
 * caller's array of at least c->nproducts entries; strings are copied);
 * m->seller is left zero for the caller and last_seen is 0. The menu does
 * not own the array: never pass a message holding it to sdpp_msg_free(). */
void config_menu(
    const struct gateway_config *c, struct sdpp_menu *m, struct sdpp_product *products);

/*
 * Reads the next rule of an allow/deny list at *s (comma-separated
 * KIND:VALUE, blanks around ignored) into kind and val, and advances *s.
 * Returns 1 with a rule, 0 at the end, -1 for a malformed rule (val then
 * holds it, for the message).
 */
int config_rule_next(const char **s, enum config_rule_kind *kind, char *val, size_t vallen);

/* The menu entry of one product (explicit or discovered), last_seen 0. */
void config_product(
    const struct gateway_config *c, const struct product_config *pc, struct sdpp_product *sp);

/*
 * What a reload changes: changed(ctx, what) for each key whose value
 * differs ("gateway.max_buyers", "discovery.price.CLASS"), each product
 * added or removed ("product co2 added") and each key of a product that
 * differs ("product co2 price"). Call it after config_keep_restart().
 */
void config_changes(const struct gateway_config *cur, const struct gateway_config *next,
    void (*changed)(void *ctx, const char *what), void *ctx);

/* Every key, [product] ones last: 0 and its section, name and reload
 * class for i < the number of keys, -1 past the end. */
int config_key_info(size_t i, const char **section, const char **name, enum config_reload *reload);

/*
 * A reload keeps what cannot change without a restart: every RESTART key
 * of next takes cur's value back (and what is derived from them), and
 * changed(ctx, section, name) is called for each one that differed.
 */
void config_keep_restart(const struct gateway_config *cur, struct gateway_config *next,
    void (*changed)(void *ctx, const char *section, const char *name), void *ctx);

#endif
