/* Gateway benchmarks (bench_gateway): what the orchestrator's and the roles' files share. */
#ifndef BENCH_GATEWAY_BENCH_H
#define BENCH_GATEWAY_BENCH_H

/* Every file here includes this first: pipe2(), clock_nanosleep(). */
#define _GNU_SOURCE

/* The system headers the program uses, for all its files. */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <MQTTAsync.h>

#include "sdpp/crypto.h"
#include "sdpp/enc.h"
#include "sdpp/framer.h"
#include "sdpp/session.h"
#include "tests/common/broker.h"

/*
 * How it works. One process (the orchestrator) starts a private mosquitto
 * and, per measurement, a fresh sdpp-gateway with the variant's INI file,
 * all on free loopback ports. It forks itself into roles that run in their
 * own processes: a Paho publisher (full speed or a steady rate), plain Paho
 * subscribers (the baselines), and buyer drivers that run many SDPP buyer
 * sessions each on epoll with the library's buyer state machine, as
 * cli/buy.c does for one. Every role prints "ready" on its stdout, then
 * reads one command line "window START END [BY_PUBLISH]" (CLOCK_MONOTONIC
 * ns) and counts what arrives in that window, so the baselines and the
 * gateway are measured over the same span. Publish times travel in the
 * payload as a CLOCK_MONOTONIC value (shared by every process on the
 * machine), so latency is publish -> received (subscriber) or publish ->
 * verified and decrypted (buyer). Raw latencies go to files the
 * orchestrator merges. Gateway CPU and memory come from /proc, its counters
 * from its Prometheus page.
 *
 * Each figure is the median of --runs runs (3); every ratio is to a
 * baseline measured in the same invocation. The table goes to stdout, the
 * figures and goals to bench/results.json. bench/RESULTS.md explains them.
 *
 * The files: util.c (time, buffers, statistics, /proc, latency logs),
 * child.c (child processes), mqtt_roles.c and buyers.c (the roles),
 * harness.c (broker, gateways, results, starting roles), one file per
 * group of scenarios, and main.c (options, goals, results.json).
 */

#define TOPIC "bench/sensor"
#define PRODUCT "sensor"
#define PAYLOAD_BYTES 100 /* MQTT payload of every sample */
#define OPENSSL "/usr/bin/openssl"
#define READY_MS 30000 /* bound on any role getting ready */
#define PATH_CAP 512
#define LINE_CAP 4096
/* Fan-out: buyers, the processes driving them, and the sensor rate. */
#define FANOUT_BUYERS 1000
#define FANOUT_PROCS 4
#define FANOUT_RATE 10
/* fanout10k (issue 17): buyers connected, of which streaming. */
#define FAN10K_BUYERS 10000
#define FAN10K_STREAMING 1000
/* Order set-up and Fig. 3: the sensor rate while buyers order. */
#define SETUP_RATE 2000
#define LATENCY_RATE 1000
#define SETUP_CONCURRENCY 16
#define FIG3_K 5

/* A growable string, for the JSON document and file contents. */
struct sbuf {
	char *p;
	size_t len, cap;
};

struct child {
	pid_t pid;
	int rfd; /* its stdout (roles), -1 for exec'd programs */
	int wfd; /* its stdin (roles) */
	char buf[LINE_CAP];
	size_t len;
};

/* Latencies (ns) collected by a role, written to a file for the orchestrator. */
struct lat {
	int64_t *v;
	size_t n, cap;
};

/* CPU seconds of a process's threads of one name (proc_thread_cpu()). */
struct thr_cpu {
	char name[20];
	double s;
};

/* p50/p99/p999 in ms. */
struct pcts {
	double p50, p99, p999, max;
	size_t n;
};

struct pub_args {
	int port;
	double rate; /* samples a second, 0: as fast as Paho takes them */
};

enum sub_mode {
	SUB_WINDOW, /* count and time what arrives in the window */
	SUB_SETUP,  /* from the window start: connect, subscribe, first message, again */
	SUB_COUNT,  /* reps times: connect, subscribe, n messages */
};

struct sub_args {
	int port;
	enum sub_mode mode;
	int clients;    /* SUB_WINDOW: subscriber connections in this process */
	uint64_t count; /* SUB_COUNT: messages per rep */
	int reps;       /* SUB_COUNT */
	char latfile[PATH_CAP];
};

enum buy_mode {
	BUY_STREAM, /* open-ended orders; count and time items in the window */
	BUY_SETUP,  /* from the window start: connect -> ... -> first item, again */
	BUY_ORDER,  /* reps times: order count items, time connect -> statement */
};

struct buy_args {
	int port;
	uint8_t seller[SDPP_SIGN_PUBLIC_BYTES];
	enum buy_mode mode;
	int sessions;           /* in this process (BUY_SETUP: concurrent slots) */
	int idle_first;         /* BUY_STREAM: stop after the menu until "go" */
	uint64_t count;         /* BUY_ORDER: items per order */
	int reps;               /* BUY_ORDER */
	char latfile[PATH_CAP]; /* items (STREAM), set-up to first item (SETUP), order time (ORDER)
	                         */
	char keyfile[PATH_CAP]; /* SETUP: set-up to session key */
	/* The product ordered: PRODUCT when empty; with product_step > 0,
	 * session i orders "<product><product_from + i * product_step>", the
	 * number in 4 digits. */
	char product[32];
	int product_from, product_step;
};

struct bench;

struct gw_opts {
	uint64_t k, ack_every, max_unpaid, window, buyer_queue, commit_delay_ms;
	int sign;
	unsigned max_buyers;
	/* Optional (0/NULL: the default product on TOPIC): the INI's product
	 * sections, a filter the gateway's subscription is awaited by, and
	 * [mqtt] queue. */
	const char *products;
	const char *await_filter;
	uint64_t mqtt_queue;
	/* [ledger] checkpoint ("0", "1s"); NULL: the gateway's default. */
	const char *checkpoint;
	/* [gateway] worker_threads (issue 17), -1: not written, so a gateway
	 * older than the setting still starts. */
	int worker_threads;
};

extern const struct gw_opts GW_DEFAULTS;

struct gateway {
	struct child c;
	int port, mport;
	char name[32];
	char db[PATH_CAP];
};

struct result {
	char group[32];
	char name[96];
	char unit[16];
	double runs[16];
	int nruns;
	double med;
	char base_name[64];
	double base; /* median of the baseline's runs, -1 if none */
	double ratio;
	int lower_is_better;
	struct sbuf extra; /* more JSON members, ",\"k\":v" */
};

struct bench {
	const char *dir;
	char work[256];
	char gateway_bin[PATH_CAP];
	const char *json_path;
	int runs;
	int quick;
	const char *only;
	struct broker broker;
	uint8_t seller[SDPP_SIGN_PUBLIC_BYTES];
	int ngw;
	struct result **res; /* each its own allocation: callers keep pointers */
	int nres;
	double tp_window;      /* --window: throughput window (profiling) */
	int variant;           /* --variant: only this throughput variant (1-based) */
	double fanout_rate;    /* --fanout-rate: samples/s in the fan-out */
	int fanout_buyers;     /* --fanout-buyers: buyers in the fan-out */
	int fan10k_buyers;     /* --fanout10k-buyers: buyers connected in fanout10k */
	int fan10k_streaming;  /* --fanout10k-streaming: of those, streaming */
	struct sbuf machine;   /* JSON members about the machine */
	struct sbuf goals;     /* JSON array entries */
	struct sbuf goal_text; /* the goal table */
	double ed_sign, ed_verify;
	uint64_t t_begin;
	/* --pin (issue 17): in the fan-out and throughput scenarios, the
	 * gateway and the broker run on pin_cpu[0], every role (publisher,
	 * buyers, subscribers) on pin_cpu[1], so the gateway's CPU is its own.
	 * cpus_all is the mask we started with, given back afterwards. */
	int pin;
	int pin_cpu[2];
	cpu_set_t cpus_all;
};

/* util.c: clocks (CLOCK_MONOTONIC ns, wall ms), sb_printf() growing b (the
 * caller frees b->p), files written whole, statistics, kv() reading a
 * "key=value" from a role's result line, a loopback TCP connection, /proc
 * figures of a process (proc_thread_cpu(): its threads' CPU by name, the
 * main thread as "main"), payloads stamped with their publish time, latency
 * logs (lat_free() frees), a role reading its window command, say() to the
 * orchestrator. */
uint64_t mono_ns(void);
uint64_t wall_ms(void);
void sleep_until(uint64_t t);
void sleep_ms(unsigned ms);
void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int write_file(const char *path, const void *data, size_t len, mode_t mode);
double median(const double *v, int n);
double kv(const char *line, const char *key, double def);
int tcp_connect(int port, int nonblock);
double proc_cpu_s(pid_t pid);
int proc_thread_cpu(pid_t pid, struct thr_cpu *t, int cap);
double proc_status_bytes(pid_t pid, const char *field);
size_t payload_make(char *p, uint64_t seq);
uint64_t payload_time(const uint8_t *p, size_t len);
void lat_init(struct lat *l, size_t cap);
void lat_add(struct lat *l, int64_t ns);
int lat_write(const struct lat *l, const char *path);
void lat_read(struct lat *l, const char *path);
void lat_free(struct lat *l);
struct pcts lat_pcts(struct lat *l);
int read_window(uint64_t *start, uint64_t *end, int *by_publish);
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* child.c: every child is killed when the orchestrator dies (live_*,
 * on_fatal_signal); a role is fn(arg) in a forked copy, talked to by lines
 * on its stdin and stdout; a program is exec'd with its output to a log. */
void live_del(pid_t pid);
void live_kill_all(void);
void on_fatal_signal(int sig);
int child_fork(struct child *c, int (*fn)(void *), void *arg);
int child_exec(struct child *c, char *const argv[], const char *logpath);
int child_expect(struct child *c, const char *word, char *line, size_t cap, int timeout_ms);
void child_send(struct child *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int child_stop(struct child *c, int sig, int wait_ms);
/* The CPU every later child_exec() (exec_cpu) and child_fork() (fork_cpu)
 * child is bound to before it runs; -1 leaves it the orchestrator's mask. */
void child_pin(int exec_cpu, int fork_cpu);

/* mqtt_roles.c and buyers.c: the roles, run by child_fork() with their *_args. */
int role_pub(void *arg);
int role_sub(void *arg);

int role_buy(void *arg);

/* harness.c: the broker, a gateway per measurement (gw_start() writes its
 * INI and waits for it, gw_stop() stops it), bench_pin() binding the
 * broker and later children to B->pin_cpu (on) or back (off) and saying
 * so (bench_pin_set(): the same, silently, for a scenario that switches
 * between variants), results (result_done() prints
 * the row and computes the ratio to the baseline), and the roles started
 * for a scenario (each *_start() returns once the role is ready). */
int bench_broker_start(struct bench *B);
int gw_start(struct bench *B, const struct gw_opts *o, struct gateway *g);
void gw_stop(struct gateway *g);
void bench_pin(struct bench *B, int on);
void bench_pin_set(struct bench *B, int on);
double gw_metric(const struct gateway *g, const char *name);
struct result *result_new(struct bench *B, const char *group, const char *name, const char *unit);
void result_add(struct result *r, double v);
void result_done(struct bench *B, struct result *r, const char *base_name, double base);
void latpath(const struct bench *B, char *out, size_t cap, const char *tag, int i);
int pub_start(struct bench *B, struct child *c, double rate);
double pub_stop(struct child *c);
int sub_start(struct bench *B, struct child *c, struct sub_args *a, enum sub_mode mode, int clients,
    const char *latfile);
int buy_start(struct bench *B, struct child *c, struct buy_args *a, const struct gateway *g,
    enum buy_mode mode, int sessions, int idle_first, const char *latfile, const char *keyfile,
    const char *word);

/* The scenarios, each printing its rows and adding its results to B. */
void scenario_throughput(struct bench *B);
void scenario_signscale(struct bench *B);
void scenario_latency(struct bench *B);
void scenario_ledger(struct bench *B);

void scenario_fanout(struct bench *B);
void scenario_fanout10k(struct bench *B);

void scenario_setup(struct bench *B);
void scenario_fig3(struct bench *B);

void scenario_library(struct bench *B);

void scenario_ingest(struct bench *B);

void scenario_storage(struct bench *B);

#endif
