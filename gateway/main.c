/* sdpp-gateway: sells live MQTT sensor data over SDPP; start-up, signals, reload, shutdown. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <curl/curl.h>
#include <systemd/sd-daemon.h>

#include "gateway/gateway.h"
#include "gateway/log.h"
#include "mqtt/mqtt.h"
#include "sdpp/enc.h"
#include "util/keyfile.h"

#define GATEWAY_VERSION "0.1.0"
/* A graceful stop that takes longer than this is cut short. */
#define STOP_TIMEOUT_S 10
/* The retained menu on MQTT is refreshed this often (last_seen moves). */
#define MENU_REPUBLISH_S 60
#define PASSWORD_MAX 1024

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: sdpp-gateway [-c FILE] [-t] [-d] [--version] [--help]\n"
	    "\n"
	    "  -c FILE    configuration (default " CONFIG_DEFAULT_PATH ")\n"
	    "  -t         check the configuration and key file, print every error, exit\n"
	    "  -d         log at debug level\n"
	    "\n"
	    "Signals: SIGHUP reloads the configuration (running orders keep their prices),\n"
	    "SIGTERM stops gracefully (open orders are invoiced for what was delivered).\n");
}

static void
print_error(void *ctx, const char *file, int line, const char *msg)
{
	int *n = ctx;

	if (line > 0)
		fprintf(stderr, "%s:%d: %s\n", file, line, msg);
	else
		fprintf(stderr, "%s: %s\n", file, msg);
	(*n)++;
}

static void
log_error(void *ctx, const char *file, int line, const char *msg)
{
	(void)ctx;
	if (line > 0)
		log_warnx("%s:%d: %s", file, line, msg);
	else
		log_warnx("%s: %s", file, msg);
}

/*
 * Loads the seller identity, creating it (0600, with a .pub beside it) on
 * first start so a fresh install works without a manual keygen step.
 * check_only: report problems without creating anything.
 */
int
gw_load_key(const char *path, int check_only, struct sdpp_identity **id)
{
	struct sdpp_identity *k = NULL;
	char *buf = NULL, *pub = NULL, err[CONFIG_PATH_MAX + 128], pubpath[CONFIG_PATH_MAX + 8];
	char hex[SDPP_HEX_LEN(SDPP_SIGN_PUBLIC_BYTES)];
	uint8_t raw[SDPP_SIGN_PUBLIC_BYTES];
	size_t len = 0, publen = 0;
	struct stat st;
	int rc = -1;

	if (stat(path, &st) != 0 && errno == ENOENT) {
		if (check_only) {
			printf("%s: does not exist yet; it will be created at first start\n", path);
			return 0;
		}
		if (sdpp_identity_generate(&k) != SDPP_OK ||
		    sdpp_identity_to_pem(k, &buf, &len) != SDPP_OK ||
		    keyfile_write(path, buf, len, 0600, 0, err, sizeof(err)) != 0) {
			log_warnx("cannot create the seller key: %s", err);
			goto out;
		}
		snprintf(pubpath, sizeof(pubpath), "%s.pub", path);
		if (sdpp_identity_public_pem(k, &pub, &publen) == SDPP_OK &&
		    keyfile_write(pubpath, pub, publen, 0644, 1, err, sizeof(err)) != 0)
			log_warnx("cannot write %s: %s", pubpath, err);
		log_info("event=key_created path=%s", path);
	} else {
		if (keyfile_read(path, &buf, &len, err, sizeof(err)) != 0) {
			fprintf(stderr, "%s\n", err);
			goto out;
		}
		if (sdpp_identity_from_pem(&k, buf, len) != SDPP_OK) {
			fprintf(stderr, "%s: not an sdpp key file (create one with `sdpp keygen`)\n",
			    path);
			goto out;
		}
	}
	sdpp_identity_sign_public(k, raw);
	sdpp_hex_encode(hex, raw, sizeof(raw));
	if (check_only)
		printf("%s: seller identity %s\n", path, hex);
	else
		log_info("event=identity seller=%s", hex);
	*id = k;
	k = NULL;
	rc = 0;
out:
	sdpp_secret_free(buf, len);
	free(pub);
	sdpp_identity_free(k);
	return rc;
}

/* Reads the MQTT password file (systemd credentials), without its newline. */
static int
read_password(const char *path, char *out, size_t cap)
{
	char *buf = NULL, err[CONFIG_PATH_MAX + 128];
	size_t len = 0;

	out[0] = '\0';
	if (path[0] == '\0')
		return 0;
	if (keyfile_read(path, &buf, &len, err, sizeof(err)) != 0) {
		log_warnx("mqtt password: %s", err);
		return -1;
	}
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	if (len >= cap) {
		log_warnx("mqtt password: %s: longer than %zu bytes", path, cap - 1);
		sdpp_secret_free(buf, len);
		return -1;
	}
	memcpy(out, buf, len);
	out[len] = '\0';
	sdpp_secret_free(buf, len);
	return 0;
}

static void
mqtt_wake(void *arg)
{
	struct gw *gw = arg;

	/* Paho's thread: the base was made thread-aware, so this is safe. */
	event_active(gw->sample_ev, EV_READ, 0);
}

static void
mqtt_log(void *arg, int level, const char *msg)
{
	(void)arg;
	log_level(level, "source=mqtt %s", msg);
}

static void
publish_menu(struct gw *gw)
{
	struct sdpp_msg m;
	char *frame = NULL;
	size_t len = 0;

	if (gw->mqtt == NULL || !gw->cfg->mqtt_publish_menu)
		return;
	/* The signed menu: the building system can check it like a buyer. */
	memset(&m, 0, sizeof(m));
	m.type = SDPP_T_MENU;
	m.from = SDPP_ROLE_SELLER;
	m.u.menu = gw->menu->m;
	if (sdpp_msg_encode(&m, gw->id, &frame, &len) != SDPP_OK)
		return;
	(void)mqtt_publish_retained(gw->mqtt, gw->cfg->mqtt_menu_topic, frame, len - 1);
	free(frame);
}

static int
start_mqtt(struct gw *gw)
{
	struct mqtt_config mc;
	struct mqtt_callbacks cb = { mqtt_wake, mqtt_log, gw };
	char password[PASSWORD_MAX], err[512];
	const struct gateway_config *cfg = gw->cfg;
	int rc;

	if (read_password(cfg->mqtt_password_file, password, sizeof(password)) != 0)
		return -1;
	memset(&mc, 0, sizeof(mc));
	mc.uri = cfg->mqtt_uri;
	mc.client_id = cfg->mqtt_client_id;
	mc.username = cfg->mqtt_username[0] != '\0' ? cfg->mqtt_username : NULL;
	mc.password = password[0] != '\0' ? password : NULL;
	mc.ca_file = cfg->mqtt_ca_file[0] != '\0' ? cfg->mqtt_ca_file : NULL;
	mc.cert_file = cfg->mqtt_cert_file[0] != '\0' ? cfg->mqtt_cert_file : NULL;
	mc.key_file = cfg->mqtt_key_file[0] != '\0' ? cfg->mqtt_key_file : NULL;
	mc.qos = cfg->mqtt_qos;
	mc.persistent_session = cfg->mqtt_persistent_session;
	mc.keepalive_s = (int)cfg->mqtt_keepalive_s;
	mc.queue_max = (size_t)cfg->mqtt_queue;
	mc.status_topic = cfg->mqtt_status_topic[0] != '\0' ? cfg->mqtt_status_topic : NULL;
	rc = mqtt_new(&gw->mqtt, &mc, &cb, err, sizeof(err));
	sdpp_wipe(password, sizeof(password));
	if (rc != 0) {
		log_warnx("mqtt: %s", err);
		return -1;
	}
	if (mqtt_start(gw->mqtt, NULL, 0, err, sizeof(err)) != 0) {
		log_warnx("mqtt: %s", err);
		return -1;
	}
	return gw_feeds_sync(gw);
}

/* Keys a reload cannot change without a restart: keep the running values. */
static void
keep_fixed(const struct gateway_config *old, struct gateway_config *new)
{
	static const struct {
		const char *name;
		size_t off, len;
	} fixed[] = {
#define F(field, name) { name, offsetof(struct gateway_config, field), \
	    sizeof(((struct gateway_config *)0)->field) }
		F(listen, "gateway.listen"),
		F(key, "gateway.key"),
		F(name, "gateway.name"),
		F(ledger_path, "ledger.path"),
		F(mqtt_uri, "mqtt.uri"),
		F(mqtt_client_id, "mqtt.client_id"),
		F(mqtt_username, "mqtt.username"),
		F(mqtt_password_file, "mqtt.password_file"),
		F(mqtt_ca_file, "mqtt.ca_file"),
		F(mqtt_cert_file, "mqtt.cert_file"),
		F(mqtt_key_file, "mqtt.key_file"),
		F(mqtt_menu_topic, "mqtt.menu_topic"),
		F(mqtt_status_topic, "mqtt.status_topic"),
		F(payment_method, "gateway.payment_method"),
		F(payment_address, "gateway.payment_address"),
		F(iota_network, "iota.network"),
		F(iota_url, "iota.url"),
		F(iota_key, "iota.key"),
		F(iota_anchor, "iota.anchor"),
		F(iota_anchor_kinds, "iota.anchor_kinds"),
		F(iota_max_gas, "iota.max_gas"),
		F(iota_rpc_timeout_ms, "iota.rpc_timeout"),
		F(iota_anchor_every, "iota.anchor_every"),
#undef F
	};
	size_t i;

	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		char *o = (char *)(uintptr_t)old + fixed[i].off;
		char *n = (char *)new + fixed[i].off;

		if (memcmp(o, n, fixed[i].len) != 0) {
			log_warnx("event=reload %s changed: takes effect at the next restart",
			    fixed[i].name);
			memcpy(n, o, fixed[i].len);
		}
	}
	/* Derived from keys kept above (warned about there). */
	new->iota_net = old->iota_net;
	new->iota_anchor_mode = old->iota_anchor_mode;
	new->iota_anchor_mask = old->iota_anchor_mask;
	if (new->mqtt_qos != old->mqtt_qos ||
	    new->mqtt_persistent_session != old->mqtt_persistent_session ||
	    new->mqtt_keepalive_s != old->mqtt_keepalive_s || new->mqtt_queue != old->mqtt_queue)
		log_warnx("event=reload mqtt.qos/persistent_session/keepalive/queue changed: "
		    "takes effect at the next restart");
	if (new->ledger_sth_every != old->ledger_sth_every)
		log_warnx("event=reload ledger.sth_every changed: takes effect at the next restart");
	if (strcmp(new->metrics_listen, old->metrics_listen) != 0)
		log_warnx("event=reload gateway.metrics_listen changed: takes effect at the next "
		    "restart");
	new->mqtt_qos = old->mqtt_qos;
	new->mqtt_persistent_session = old->mqtt_persistent_session;
	new->mqtt_keepalive_s = old->mqtt_keepalive_s;
	new->mqtt_queue = old->mqtt_queue;
	new->ledger_sth_every = old->ledger_sth_every;
	memcpy(new->metrics_listen, old->metrics_listen, sizeof(new->metrics_listen));
}

/* IOTA payments go to payment_address, or by default to the [iota] account. */
static void
fill_pay_to(const struct gw *gw, struct gateway_config *cfg)
{
	if (strcmp(cfg->payment_method, "iota") == 0 && cfg->payment_address[0] == '\0')
		gw_iota_pay_to(gw, cfg->payment_address);
}

static void
reload(struct gw *gw)
{
	struct gateway_config *cfg = NULL;
	int errors;

	(void)sd_notify(0, "RELOADING=1");
	errors = config_load(gw->cfg->path, &cfg, log_error, NULL);
	if (errors > 0) {
		log_warnx("event=reload result=refused errors=%d: keeping the running configuration",
		    errors);
		(void)sd_notify(0, "READY=1");
		return;
	}
	fill_pay_to(gw, cfg);
	keep_fixed(gw->cfg, cfg);
	/* Turning the menu off withdraws it: an empty retained message
	 * deletes the broker's copy. */
	if (gw->cfg->mqtt_publish_menu && !cfg->mqtt_publish_menu && gw->mqtt != NULL)
		(void)mqtt_publish_retained(gw->mqtt, cfg->mqtt_menu_topic, "", 0);
	config_free(gw->cfg);
	gw->cfg = cfg;
	gw_menu_install(gw, gw_menu_new(gw, cfg));
	(void)gw_feeds_sync(gw);
	publish_menu(gw);
	log_info("event=reload result=ok products=%zu", cfg->nproducts);
	(void)sd_notify(0, "READY=1");
}

static void
stop_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct gw *gw = arg;

	(void)fd;
	(void)what;
	log_warnx("event=stop_timeout: closing the remaining buyers");
	event_base_loopexit(gw->base, NULL);
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct gw *gw = arg;
	struct timeval tv = { STOP_TIMEOUT_S, 0 };

	(void)what;
	if (sig == SIGHUP) {
		reload(gw);
		return;
	}
	if (gw->stopping)
		return;
	log_info("event=stopping signal=%d buyers=%zu", (int)sig, gw->nconns);
	(void)sd_notify(0, "STOPPING=1");
	gw->stop_timer = evtimer_new(gw->base, stop_timeout_cb, gw);
	if (gw->stop_timer != NULL)
		evtimer_add(gw->stop_timer, &tv);
	gw_shutdown(gw);
}

static void
housekeeping_cb(evutil_socket_t fd, short what, void *arg)
{
	struct gw *gw = arg;

	(void)fd;
	(void)what;
	(void)sd_notify(0, "WATCHDOG=1");
	if (++gw->ticks % MENU_REPUBLISH_S == 0)
		publish_menu(gw);
}

int
main(int argc, char **argv)
{
	struct gw gw;
	const char *path = CONFIG_DEFAULT_PATH;
	struct event *sighup = NULL, *sigterm = NULL, *sigint = NULL, *tick = NULL;
	struct timeval one = { 1, 0 };
	char err[LEDGER_ERR_MAX];
	struct ledger_config lc;
	int i, check = 0, debug = 0, errors = 0, rc = 1;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			path = argv[++i];
		} else if (strcmp(argv[i], "-t") == 0) {
			check = 1;
		} else if (strcmp(argv[i], "-d") == 0) {
			debug = 1;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("sdpp-gateway %s (protocol %s)\n", GATEWAY_VERSION, SDPP_VERSION);
			return 0;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "sdpp-gateway: unexpected argument `%s'\n", argv[i]);
			usage(stderr);
			return 1;
		}
	}
	log_init(debug, "sdpp-gateway");
	memset(&gw, 0, sizeof(gw));
	TAILQ_INIT(&gw.conns);
	TAILQ_INIT(&gw.feeds);
	sdpp_out_init(&gw.out, SDPP_FRAME_CAP_MAX * 2);
	if (check) {
		(void)config_load(path, &gw.cfg, print_error, &errors);
		if (gw.cfg != NULL && gw_load_key(gw.cfg->key, 1, &gw.id) != 0)
			errors++;
		if (errors == 0)
			printf("configuration OK\n");
		sdpp_identity_free(gw.id);
		config_free(gw.cfg);
		return errors == 0 ? 0 : 1;
	}
	if (config_load(path, &gw.cfg, log_error, NULL) > 0)
		fatalx("%s: configuration refused (check it with sdpp-gateway -t -c %s)", path, path);
	if (gw_load_key(gw.cfg->key, 0, &gw.id) != 0)
		fatalx("no usable seller key");
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		fatal("signal");
	/* Paho's thread wakes the loop: libevent must lock for that. */
	if (evthread_use_pthreads() != 0)
		fatalx("libevent without pthreads support");
	/* Before any thread: Paho's and libcurl's (IOTA) TLS set-up. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		fatalx("cannot initialise libcurl");
	gw.base = event_base_new();
	if (gw.base == NULL)
		fatalx("event_base_new failed");
	memset(&lc, 0, sizeof(lc));
	lc.path = gw.cfg->ledger_path;
	lc.id = gw.id;
	lc.sth_every = gw.cfg->ledger_sth_every;
	if (gw.cfg->iota_anchor_mode == CONFIG_ANCHOR_RECORDS)
		lc.anchor_kinds = gw.cfg->iota_anchor_mask;
	lc.anchor_tree_heads = gw.cfg->iota_anchor_mode == CONFIG_ANCHOR_TREE_HEADS;
	lc.anchor_every = gw.cfg->iota_anchor_every;
	if (ledger_open(&gw.ledger, &lc, err, sizeof(err)) != 0)
		fatalx("ledger: %s", err);
	log_info("event=ledger path=%s records=%llu", gw.cfg->ledger_path,
	    (unsigned long long)ledger_size(gw.ledger));
	payment_voucher_init(&gw.payment);
	if (gw_iota_start(&gw, err, sizeof(err)) != 0)
		fatalx("iota: %s", err);
	fill_pay_to(&gw, gw.cfg);
	gw.sample_ev = event_new(gw.base, -1, 0, gw_samples_cb, &gw);
	gw.commit_ev = event_new(gw.base, -1, 0, gw_commit_cb, &gw);
	gw.reap_ev = event_new(gw.base, -1, 0, gw_reap_cb, &gw);
	sighup = evsignal_new(gw.base, SIGHUP, signal_cb, &gw);
	sigterm = evsignal_new(gw.base, SIGTERM, signal_cb, &gw);
	sigint = evsignal_new(gw.base, SIGINT, signal_cb, &gw);
	tick = event_new(gw.base, -1, EV_PERSIST, housekeeping_cb, &gw);
	if (gw.sample_ev == NULL || gw.commit_ev == NULL || gw.reap_ev == NULL || sighup == NULL ||
	    sigterm == NULL || sigint == NULL || tick == NULL || evsignal_add(sighup, NULL) != 0 ||
	    evsignal_add(sigterm, NULL) != 0 || evsignal_add(sigint, NULL) != 0 ||
	    evtimer_add(tick, &one) != 0)
		fatalx("cannot set up events");
	gw.menu = gw_menu_new(&gw, gw.cfg);
	if (gw_listen(&gw, err, sizeof(err)) != 0)
		fatalx("%s", err);
	if (gw_metrics_start(&gw, err, sizeof(err)) != 0)
		fatalx("%s", err);
	if (start_mqtt(&gw) != 0)
		fatalx("cannot start the MQTT client");
	publish_menu(&gw);
	log_info("event=ready listen=%s products=%zu mqtt=%s version=%s", gw.cfg->listen,
	    gw.cfg->nproducts, gw.cfg->mqtt_uri, GATEWAY_VERSION);
	(void)sd_notifyf(0, "READY=1\nSTATUS=selling %zu products on %s", gw.cfg->nproducts,
	    gw.cfg->listen);
	if (event_base_dispatch(gw.base) < 0)
		log_warnx("event loop failed");
	/* Stopped: record what is pending and say goodbye on MQTT. */
	gw_commit_cb(-1, 0, &gw);
	log_info("event=stopped orders=%llu items=%llu invoices=%llu payments=%llu",
	    (unsigned long long)gw.stats.orders, (unsigned long long)gw.stats.items,
	    (unsigned long long)gw.stats.invoices, (unsigned long long)gw.stats.payments);
	mqtt_stop(gw.mqtt, 2000);
	/* Before the connections go: payment checks hold references. */
	gw_iota_stop(&gw);
	rc = 0;
	{
		struct conn *c;

		while ((c = TAILQ_FIRST(&gw.conns)) != NULL) {
			TAILQ_REMOVE(&gw.conns, c, entry);
			gw_conn_free(c);
		}
	}
	mqtt_free(gw.mqtt);
	gw_metrics_stop(&gw);
	ledger_close(gw.ledger);
	if (gw.listener != NULL)
		evconnlistener_free(gw.listener);
	event_free(gw.sample_ev);
	event_free(gw.commit_ev);
	event_free(gw.reap_ev);
	event_free(sighup);
	event_free(sigterm);
	event_free(sigint);
	event_free(tick);
	if (gw.stop_timer != NULL)
		event_free(gw.stop_timer);
	gw_menu_release(gw.menu);
	{
		struct feed *f;

		while ((f = TAILQ_FIRST(&gw.feeds)) != NULL) {
			TAILQ_REMOVE(&gw.feeds, f, entry);
			free(f);
		}
	}
	event_base_free(gw.base);
	sdpp_out_free(&gw.out);
	sdpp_identity_free(gw.id);
	config_free(gw.cfg);
	return rc;
}
