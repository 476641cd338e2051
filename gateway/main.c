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

#include "gateway/anchor.h"
#include "gateway/gateway.h"
#include "gateway/iota.h"
#include "gateway/keys.h"
#include "gateway/log.h"
#include "gateway/pay_iota.h"
#include "gateway/records.h"
#include "gateway/server.h"
#include "gateway/tls.h"
#include "mqtt/mqtt.h"
#include "sdpp/enc.h"
#include "util/keyfile.h"

/* A graceful stop that takes longer than this is cut short. */
#define STOP_TIMEOUT_S 10
/* The retained menu on MQTT is refreshed this often (last_seen moves). */
#define MENU_REPUBLISH_S 60
#define PASSWORD_MAX 1024

static void
usage(FILE *f)
{
	fprintf(f, "usage: sdpp-gateway [-c FILE] [-t] [-d] [--version] [--help]\n"
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

/*
 * The files [mqtt] names must be usable before anything starts: a password
 * file the daemon cannot read (or others can) would stop it after it made
 * its key, and a missing CA file would have Paho retry TLS forever. Returns
 * the number of problems, each logged; -t and the start share it.
 */
static int
mqtt_files_check(const struct gateway_config *cfg)
{
	const struct {
		const char *name, *path;
	} files[] = {
		{ "ca_file", cfg->mqtt_ca_file },
		{ "cert_file", cfg->mqtt_cert_file },
		{ "key_file", cfg->mqtt_key_file },
	};
	char password[PASSWORD_MAX];
	size_t i;
	int n = 0;

	if (read_password(cfg->mqtt_password_file, password, sizeof(password)) != 0)
		n++;
	sdpp_wipe(password, sizeof(password));
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (files[i].path[0] != '\0' && access(files[i].path, R_OK) != 0) {
			log_warnx("mqtt: %s %s: %s", files[i].name, files[i].path, strerror(errno));
			n++;
		}
	return n;
}

static void
mqtt_wake(void *arg)
{
	struct gw *gw = arg;

	server_wake(gw->server); /* on Paho's thread */
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
	m.u.menu = *server_menu(gw->server);
	if (sdpp_msg_encode(&m, gw->id, &frame, &len) != SDPP_OK ||
	    mqtt_publish_retained(gw->mqtt, gw->cfg->mqtt_menu_topic, frame, len - 1) != 0)
		log_warnx("event=menu_publish_failed topic=%s products=%zu bytes=%zu",
		    gw->cfg->mqtt_menu_topic, m.u.menu.nproducts, len);
	free(frame);
}

/* The server rebuilt the menu (discovery): buyers reading it on MQTT see it. */
static void
menu_changed(void *arg)
{
	publish_menu(arg);
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
	return server_feeds_sync(gw->server);
}

static void
restart_needed(void *ctx, const char *section, const char *name)
{
	(void)ctx;
	log_warnx("event=reload %s.%s changed: takes effect at the next restart", section, name);
}

/* IOTA payments go to payment_address, or by default to the [iota] account. */
static void
fill_pay_to(const struct gw *gw, struct gateway_config *cfg)
{
	if (strcmp(cfg->payment_method, "iota") == 0 && cfg->payment_address[0] == '\0')
		gw_iota_pay_to_text(gw->iota, cfg->payment_address);
}

/* The reload's list of what it changed, for its log line. */
struct change_list {
	char text[768];
	size_t n, shown; /* changes, and how many of them text names */
};

static void
note_change(void *ctx, const char *what)
{
	struct change_list *l = ctx;
	size_t len = strlen(l->text);

	/* The first ones in full, then how many more. */
	if (len + strlen(what) + 2 < sizeof(l->text) - 32) {
		snprintf(l->text + len, sizeof(l->text) - len, "%s%s", len ? ", " : "", what);
		l->shown++;
	}
	l->n++;
}

static void
reload(struct gw *gw)
{
	struct gateway_config *cfg = NULL;
	struct change_list changes = { "", 0, 0 };
	int errors;

	(void)sd_notify(0, "RELOADING=1");
	errors = config_load(gw->cfg->path, &cfg, log_error, NULL);
	if (errors > 0) {
		log_warnx(
		    "event=reload result=refused errors=%d: keeping the running configuration",
		    errors);
		(void)sd_notify(0, "READY=1");
		return;
	}
	fill_pay_to(gw, cfg);
	config_keep_restart(gw->cfg, cfg, restart_needed, NULL);
	config_changes(gw->cfg, cfg, note_change, &changes);
	/* Turning the menu off withdraws it: an empty retained message
	 * deletes the broker's copy. */
	if (gw->cfg->mqtt_publish_menu && !cfg->mqtt_publish_menu && gw->mqtt != NULL)
		(void)mqtt_publish_retained(gw->mqtt, cfg->mqtt_menu_topic, "", 0);
	config_free(gw->cfg);
	gw->cfg = cfg;
	records_set_delay(gw->records, cfg->ledger_commit_delay_ms);
	ledger_set_checkpoint(gw->ledger, cfg->ledger_checkpoint_ms);
	if (gw->pay_iota != NULL)
		pay_iota_set_timeout(gw->pay_iota, cfg->iota_confirm_timeout_ms);
	if (gw->anchor != NULL)
		anchor_set_interval(gw->anchor, cfg->iota_anchor_interval_ms);
	server_menu_reload(gw->server);
	server_tls_reload(gw->server);
	(void)server_feeds_sync(gw->server);
	publish_menu(gw);
	if (changes.n > changes.shown)
		snprintf(changes.text + strlen(changes.text),
		    sizeof(changes.text) - strlen(changes.text), " and %zu more",
		    changes.n - changes.shown);
	log_info("event=reload result=ok products=%zu changes=%zu changed=\"%s\"", cfg->nproducts,
	    changes.n, changes.text);
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
	log_info("event=stopping signal=%d buyers=%zu", (int)sig, server_buyers(gw->server));
	(void)sd_notify(0, "STOPPING=1");
	gw->stop_timer = evtimer_new(gw->base, stop_timeout_cb, gw);
	if (gw->stop_timer != NULL)
		evtimer_add(gw->stop_timer, &tv);
	server_shutdown(gw->server);
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

/* After each commit: new outbox items go to the node at once. */
static void
anchor_after_commit(void *arg)
{
	anchor_poll_soon(arg);
}

/* Everything the loop serves, in dependency order: each part gets what it
 * calls. Failures here are fatal (start-up). */
static void
start(struct gw *gw)
{
	char err[LEDGER_ERR_MAX];
	struct ledger_config lc;
	const struct gateway_config *cfg = gw->cfg;

	memset(&lc, 0, sizeof(lc));
	lc.path = cfg->ledger_path;
	lc.id = gw->id;
	lc.sth_every = cfg->ledger_sth_every;
	lc.checkpoint_ms = cfg->ledger_checkpoint_ms;
	if (cfg->iota_anchor_mode == CONFIG_ANCHOR_RECORDS)
		lc.anchor_kinds = cfg->iota_anchor_mask;
	lc.anchor_tree_heads = cfg->iota_anchor_mode == CONFIG_ANCHOR_TREE_HEADS;
	lc.anchor_every = cfg->iota_anchor_every;
	if (ledger_open(&gw->ledger, &lc, err, sizeof(err)) != 0)
		log_fatalx("ledger: %s", err);
	log_info("event=ledger path=%s records=%llu interrupted=%llu", cfg->ledger_path,
	    (unsigned long long)ledger_size(gw->ledger),
	    (unsigned long long)ledger_interrupted(gw->ledger));
	gw->records = records_new(gw->base, gw->ledger, cfg->ledger_commit_delay_ms);
	if (gw->records == NULL)
		log_fatalx("out of memory");
	payment_voucher_init(&gw->payment, gw->base);
	if (gw_iota_new(&gw->iota, gw->base, cfg, gw->id, err, sizeof(err)) != 0)
		log_fatalx("iota: %s", err);
	if (gw->iota != NULL && strcmp(cfg->payment_method, "iota") == 0) {
		gw->pay_iota =
		    pay_iota_new(gw->base, gw->iota, gw->ledger, cfg->iota_confirm_timeout_ms);
		if (gw->pay_iota == NULL)
			log_fatalx("out of memory");
		pay_iota_backend(gw->pay_iota, &gw->payment);
	}
	fill_pay_to(gw, gw->cfg);
	if (server_new(&gw->server, gw, err, sizeof(err)) != 0)
		log_fatalx("%s", err);
	server_on_menu(gw->server, menu_changed, gw);
	if (gw->iota != NULL && cfg->iota_anchor_mode != CONFIG_ANCHOR_NONE) {
		if (anchor_new(&gw->anchor, gw->base, gw->iota, gw->ledger,
		        cfg->iota_anchor_mode == CONFIG_ANCHOR_TREE_HEADS,
		        cfg->iota_anchor_interval_ms, server_anchored, gw->server, err,
		        sizeof(err)) != 0)
			log_fatalx("iota: %s", err);
		records_on_commit(gw->records, anchor_after_commit, gw->anchor);
	}
	if (gw_metrics_start(gw, err, sizeof(err)) != 0)
		log_fatalx("%s", err);
	if (start_mqtt(gw) != 0)
		log_fatalx("cannot start the MQTT client");
}

/* The loop has ended: record what is pending, then free in reverse. */
static void
stop(struct gw *gw)
{
	records_commit_now(gw->records);
	log_info("event=stopped orders=%llu items=%llu invoices=%llu payments=%llu",
	    (unsigned long long)gw->stats.orders, (unsigned long long)gw->stats.items,
	    (unsigned long long)gw->stats.invoices, (unsigned long long)gw->stats.payments);
	mqtt_stop(gw->mqtt, 2000);
	/* Before the connections go: payment checks hold references. */
	pay_iota_free(gw->pay_iota);
	anchor_free(gw->anchor);
	server_free(gw->server);
	gw_iota_free(gw->iota);
	mqtt_free(gw->mqtt);
	gw_metrics_stop(gw);
	records_free(gw->records);
	ledger_close(gw->ledger);
}

int
main(int argc, char **argv)
{
	struct gw gw;
	const char *path = CONFIG_DEFAULT_PATH;
	struct event *sighup = NULL, *sigterm = NULL, *sigint = NULL, *tick = NULL;
	struct timeval one = { 1, 0 };
	char lerr[LEDGER_ERR_MAX];
	int i, check = 0, debug = 0, errors = 0;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			path = argv[++i];
		} else if (strcmp(argv[i], "-t") == 0) {
			check = 1;
		} else if (strcmp(argv[i], "-d") == 0) {
			debug = 1;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("sdpp-gateway %s (protocols %s, %s)\n", GATEWAY_VERSION,
			    SDPP_VERSION, SDPP_VERSION_2);
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
	if (check) {
		(void)config_load(path, &gw.cfg, print_error, &errors);
		if (gw.cfg != NULL && errors == 0 &&
		    ledger_check_writable(gw.cfg->ledger_path, lerr, sizeof(lerr)) != 0) {
			fprintf(stderr, "ledger: %s\n", lerr);
			/* The packaged unit's StateDirectory= makes /var/lib/NAME
			 * when the service starts, not at install. */
			if (strncmp(gw.cfg->ledger_path, "/var/lib/", 9) == 0 &&
			    strstr(lerr, "does not exist") != NULL)
				fprintf(stderr,
				    "ledger: under systemd, the unit's StateDirectory= creates it "
				    "when the service first starts (systemctl start "
				    "sdpp-gateway)\n");
			errors++;
		}
		if (gw.cfg != NULL && errors == 0)
			errors += mqtt_files_check(gw.cfg);
		if (gw.cfg != NULL && errors == 0 && gw.cfg->tls_cert[0] != '\0' &&
		    tls_files_check(gw.cfg->tls_cert, gw.cfg->tls_key, lerr, sizeof(lerr)) != 0) {
			fprintf(stderr, "tls: %s\n", lerr);
			errors++;
		}
		if (gw.cfg != NULL && gw_key_load(gw.cfg->key, "seller", 1, &gw.id) != 0)
			errors++;
		if (errors == 0)
			printf("configuration OK\n");
		sdpp_identity_free(gw.id);
		config_free(gw.cfg);
		return errors == 0 ? 0 : 1;
	}
	if (config_load(path, &gw.cfg, log_error, NULL) > 0)
		log_fatalx(
		    "%s: configuration refused (check it with sdpp-gateway -t -c %s)", path, path);
	/* Before the key: a ledger that cannot be written must not leave a
	 * new key behind. */
	if (ledger_check_writable(gw.cfg->ledger_path, lerr, sizeof(lerr)) != 0)
		log_fatalx("ledger: %s", lerr);
	if (mqtt_files_check(gw.cfg) != 0)
		log_fatalx("mqtt: the files [mqtt] names are not usable");
	if (gw.cfg->tls_cert[0] != '\0' &&
	    tls_files_check(gw.cfg->tls_cert, gw.cfg->tls_key, lerr, sizeof(lerr)) != 0)
		log_fatalx("tls: %s", lerr);
	if (gw_key_load(gw.cfg->key, "seller", 0, &gw.id) != 0)
		log_fatalx("no usable seller key");
	/* A write past RLIMIT_FSIZE (a quota, a full disk simulated by it)
	 * must fail with EFBIG, which the ledger turns into a failed commit,
	 * not kill the daemon mid-commit. */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR || signal(SIGXFSZ, SIG_IGN) == SIG_ERR)
		log_fatal("signal");
	/* Paho's thread wakes the loop: libevent must lock for that. */
	if (evthread_use_pthreads() != 0)
		log_fatalx("libevent without pthreads support");
	/* Before any thread: Paho's and libcurl's (IOTA) TLS set-up. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		log_fatalx("cannot initialise libcurl");
	gw.base = event_base_new();
	if (gw.base == NULL)
		log_fatalx("event_base_new failed");
	sighup = evsignal_new(gw.base, SIGHUP, signal_cb, &gw);
	sigterm = evsignal_new(gw.base, SIGTERM, signal_cb, &gw);
	sigint = evsignal_new(gw.base, SIGINT, signal_cb, &gw);
	tick = event_new(gw.base, -1, EV_PERSIST, housekeeping_cb, &gw);
	if (sighup == NULL || sigterm == NULL || sigint == NULL || tick == NULL ||
	    evsignal_add(sighup, NULL) != 0 || evsignal_add(sigterm, NULL) != 0 ||
	    evsignal_add(sigint, NULL) != 0 || evtimer_add(tick, &one) != 0)
		log_fatalx("cannot set up events");
	start(&gw);
	publish_menu(&gw);
	log_info("event=ready listen=%s products=%zu mqtt=%s version=%s", gw.cfg->listen,
	    gw.cfg->nproducts, gw.cfg->mqtt_uri, GATEWAY_VERSION);
	(void)sd_notifyf(
	    0, "READY=1\nSTATUS=selling %zu products on %s", gw.cfg->nproducts, gw.cfg->listen);
	if (event_base_dispatch(gw.base) < 0)
		log_warnx("event loop failed");
	stop(&gw);
	event_free(sighup);
	event_free(sigterm);
	event_free(sigint);
	event_free(tick);
	if (gw.stop_timer != NULL)
		event_free(gw.stop_timer);
	event_base_free(gw.base);
	sdpp_identity_free(gw.id);
	config_free(gw.cfg);
	return 0;
}
