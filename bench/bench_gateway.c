/* Gateway benchmarks against raw MQTT: throughput, latency, fan-out, set-up, slow ledger. */
#define _GNU_SOURCE /* pipe2(), clock_nanosleep() */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
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
/* Order set-up and Fig. 3: the sensor rate while buyers order. */
#define SETUP_RATE 2000
#define LATENCY_RATE 1000
#define SETUP_CONCURRENCY 16
#define FIG3_K 5

/* ---------------------------------------------------------------- time */

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The state machines count in wall-clock milliseconds, like cli/buy.c. */
static uint64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
sleep_until(uint64_t t)
{
	struct timespec ts = { (time_t)(t / 1000000000u), (long)(t % 1000000000u) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static void
sleep_ms(unsigned ms)
{
	sleep_until(mono_ns() + (uint64_t)ms * 1000000u);
}

/* ---------------------------------------------------------------- small helpers */

/* A growable string, for the JSON document and file contents. */
struct sbuf {
	char *p;
	size_t len, cap;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p != NULL ? b->p + b->len : NULL,
		    b->p != NULL ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			abort();
		if (b->p != NULL && b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		b->cap = (b->cap == 0 ? 4096 : b->cap * 2) + (size_t)n;
		b->p = realloc(b->p, b->cap);
		if (b->p == NULL)
			abort();
	}
}

static int
write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, data, len);
	if (close(fd) != 0 || n != (ssize_t)len)
		return -1;
	return 0;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of a sorted array, in the array's unit. */
static double
pct(const int64_t *v, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return -1;
	i = (size_t)(p / 100.0 * (double)n);
	if (i >= n)
		i = n - 1;
	return (double)v[i];
}

static double
median(const double *v, int n)
{
	double s[64];
	int i;

	if (n <= 0 || n > 64)
		return -1;
	for (i = 0; i < n; i++)
		s[i] = v[i];
	qsort(s, (size_t)n, sizeof(s[0]), cmp_d);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* Value of key=NUMBER in a result line, or def. */
static double
kv(const char *line, const char *key, double def)
{
	size_t klen = strlen(key);
	const char *p = line;

	while ((p = strstr(p, key)) != NULL) {
		if ((p == line || p[-1] == ' ') && p[klen] == '=')
			return strtod(p + klen + 1, NULL);
		p += klen;
	}
	return def;
}

static int
tcp_connect(int port, int nonblock)
{
	struct sockaddr_in sa;
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((unsigned short)port);
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 && errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}

/* ---------------------------------------------------------------- child processes */

/* Every child alive, so a signal or an early exit kills them all. */
#define LIVE_MAX 64
static pid_t live[LIVE_MAX];

static void
live_add(pid_t pid)
{
	for (int i = 0; i < LIVE_MAX; i++)
		if (live[i] == 0) {
			live[i] = pid;
			return;
		}
}

static void
live_del(pid_t pid)
{
	for (int i = 0; i < LIVE_MAX; i++)
		if (live[i] == pid)
			live[i] = 0;
}

static void
live_kill_all(void)
{
	for (int i = 0; i < LIVE_MAX; i++)
		if (live[i] > 0) {
			kill(live[i], SIGKILL);
			waitpid(live[i], NULL, 0);
			live[i] = 0;
		}
}

static void
on_fatal_signal(int sig)
{
	for (int i = 0; i < LIVE_MAX; i++)
		if (live[i] > 0)
			kill(live[i], SIGKILL);
	signal(sig, SIG_DFL);
	raise(sig);
}

struct child {
	pid_t pid;
	int rfd; /* its stdout (roles), -1 for exec'd programs */
	int wfd; /* its stdin (roles) */
	char buf[LINE_CAP];
	size_t len;
};

/* In the child right after fork: die with the parent, keep only 0-2. */
static void
child_setup(int in, int out, int err, pid_t parent)
{
	broker_child_setup(in, out, err, parent);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
}

/* Runs fn(arg) in a forked copy of this process, stdin/stdout piped to us. */
static int
child_fork(struct child *c, int (*fn)(void *), void *arg)
{
	int in[2], out[2];
	pid_t parent = getpid();

	memset(c, 0, sizeof(*c));
	c->rfd = c->wfd = -1;
	if (pipe2(in, O_CLOEXEC) != 0)
		return -1;
	if (pipe2(out, O_CLOEXEC) != 0) {
		close(in[0]);
		close(in[1]);
		return -1;
	}
	fflush(stdout);
	fflush(stderr);
	c->pid = fork();
	if (c->pid < 0)
		return -1;
	if (c->pid == 0) {
		child_setup(in[0], out[1], -1, parent);
		_exit(fn(arg));
	}
	live_add(c->pid);
	if (getenv("BENCH_VERBOSE") != NULL)
		fprintf(stderr, "bench: role pid %ld\n", (long)c->pid);
	close(in[0]);
	close(out[1]);
	c->wfd = in[1];
	c->rfd = out[0];
	return 0;
}

/* Runs a program with stdout and stderr appended to logpath. */
static int
child_exec(struct child *c, char *const argv[], const char *logpath)
{
	pid_t parent = getpid();
	int logfd, devnull;

	memset(c, 0, sizeof(*c));
	c->rfd = c->wfd = -1;
	logfd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (logfd < 0)
		return -1;
	fflush(stdout);
	fflush(stderr);
	c->pid = fork();
	if (c->pid == 0) {
		devnull = open("/dev/null", O_RDONLY);
		child_setup(devnull, logfd, logfd, parent);
		execv(argv[0], argv);
		_exit(127);
	}
	close(logfd);
	if (c->pid < 0)
		return -1;
	live_add(c->pid);
	return 0;
}

/* Next line the child printed, without '\n'; -1 on EOF or after timeout_ms. */
static int
child_line(struct child *c, char *line, size_t cap, int timeout_ms)
{
	uint64_t deadline = mono_ns() + (uint64_t)timeout_ms * 1000000u;
	char *nl;
	ssize_t n;

	for (;;) {
		nl = memchr(c->buf, '\n', c->len);
		if (nl != NULL) {
			size_t l = (size_t)(nl - c->buf);

			snprintf(line, cap, "%.*s", (int)l, c->buf);
			memmove(c->buf, nl + 1, c->len - l - 1);
			c->len -= l + 1;
			return 0;
		}
		if (c->len == sizeof(c->buf))
			c->len = 0; /* a line longer than we read: drop it */
		uint64_t now = mono_ns();
		if (now >= deadline)
			return -1;
		struct pollfd p = { c->rfd, POLLIN, 0 };
		int left = (int)((deadline - now) / 1000000u) + 1;

		if (poll(&p, 1, left) < 0 && errno != EINTR)
			return -1;
		if (!(p.revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		n = read(c->rfd, c->buf + c->len, sizeof(c->buf) - c->len);
		if (n <= 0)
			return -1;
		c->len += (size_t)n;
	}
}

/* Waits for a line starting with word; -1 if the child ends or times out. */
static int
child_expect(struct child *c, const char *word, char *line, size_t cap, int timeout_ms)
{
	uint64_t deadline = mono_ns() + (uint64_t)timeout_ms * 1000000u;

	while (mono_ns() < deadline) {
		int left = (int)((deadline - mono_ns()) / 1000000u) + 1;

		if (child_line(c, line, cap, left) != 0)
			break;
		if (strncmp(line, word, strlen(word)) == 0)
			return 0;
		fprintf(stderr, "bench: child %ld: %s\n", (long)c->pid, line);
	}
	fprintf(stderr, "bench: child %ld: no `%s' line\n", (long)c->pid, word);
	return -1;
}

static void child_send(struct child *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
child_send(struct child *c, const char *fmt, ...)
{
	char line[LINE_CAP];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (c->wfd >= 0 && n > 0)
		(void)!write(c->wfd, line, (size_t)n);
}

/* Sends sig, waits up to wait_ms, then SIGKILL; returns the exit status or -1. */
static int
child_stop(struct child *c, int sig, int wait_ms)
{
	uint64_t deadline = mono_ns() + (uint64_t)wait_ms * 1000000u;
	int status = 0, rc = -1;

	if (c->pid <= 0)
		return -1;
	if (sig != 0)
		kill(c->pid, sig);
	for (;;) {
		pid_t r = waitpid(c->pid, &status, WNOHANG);

		if (r == c->pid) {
			rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
			break;
		}
		if (mono_ns() >= deadline) {
			kill(c->pid, SIGKILL);
			waitpid(c->pid, &status, 0);
			break;
		}
		sleep_ms(2);
	}
	live_del(c->pid);
	c->pid = 0;
	if (c->rfd >= 0)
		close(c->rfd);
	if (c->wfd >= 0)
		close(c->wfd);
	c->rfd = c->wfd = -1;
	return rc;
}

/* ---------------------------------------------------------------- /proc */

/* utime + stime of pid in seconds. */
static double
proc_cpu_s(pid_t pid)
{
	char path[64], buf[2048], *p;
	unsigned long long ut = 0, st = 0;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The command name may hold spaces: fields count from its ')'. */
	p = strrchr(buf, ')');
	if (p == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* A "Vm...:" line of /proc/PID/status in bytes. */
static double
proc_status_bytes(pid_t pid, const char *field)
{
	char path[64], line[256];
	unsigned long long kb = 0;
	FILE *f;
	int found = 0;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, field, strlen(field)) == 0 &&
		    sscanf(line + strlen(field), " %llu", &kb) == 1) {
			found = 1;
			break;
		}
	fclose(f);
	return found ? (double)kb * 1024 : -1;
}

/* ---------------------------------------------------------------- payloads */

/* A sample: publish time (CLOCK_MONOTONIC ns), sequence number, padding. */
static size_t
payload_make(char *p, uint64_t seq)
{
	int n = snprintf(p, PAYLOAD_BYTES + 1, "%020" PRIu64 " %012" PRIu64 " ", mono_ns(), seq);

	memset(p + n, 'x', PAYLOAD_BYTES - (size_t)n);
	return PAYLOAD_BYTES;
}

/* Publish time of a sample, 0 if it is not one of ours. */
static uint64_t
payload_time(const uint8_t *p, size_t len)
{
	uint64_t t = 0;
	size_t i;

	if (len < 21)
		return 0;
	for (i = 0; i < 20; i++) {
		if (p[i] < '0' || p[i] > '9')
			return 0;
		t = t * 10 + (uint64_t)(p[i] - '0');
	}
	return t;
}

/* ---------------------------------------------------------------- latency log */

/* Latencies (ns) collected by a role, written to a file for the orchestrator. */
struct lat {
	int64_t *v;
	size_t n, cap;
};

static void
lat_init(struct lat *l, size_t cap)
{
	l->v = malloc(cap * sizeof(*l->v));
	l->n = 0;
	l->cap = l->v != NULL ? cap : 0;
}

static void
lat_add(struct lat *l, int64_t ns)
{
	if (l->n < l->cap)
		l->v[l->n++] = ns;
}

static int
lat_write(const struct lat *l, const char *path)
{
	if (path == NULL || path[0] == '\0')
		return 0;
	return write_file(path, l->v, l->n * sizeof(*l->v), 0644);
}

/* Appends the latencies in path to l (growing it). */
static void
lat_read(struct lat *l, const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t n;

	if (fd < 0)
		return;
	if (fstat(fd, &st) == 0 && st.st_size > 0) {
		n = (size_t)st.st_size / sizeof(int64_t);
		if (l->n + n > l->cap) {
			int64_t *nv = realloc(l->v, (l->n + n) * sizeof(*nv));

			if (nv == NULL) {
				close(fd);
				return;
			}
			l->v = nv;
			l->cap = l->n + n;
		}
		if (read(fd, l->v + l->n, n * sizeof(int64_t)) == (ssize_t)(n * sizeof(int64_t)))
			l->n += n;
	}
	close(fd);
	unlink(path);
}

static void
lat_free(struct lat *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* p50/p99/p999 in ms. */
struct pcts {
	double p50, p99, p999, max;
	size_t n;
};

static struct pcts
lat_pcts(struct lat *l)
{
	struct pcts r;

	qsort(l->v, l->n, sizeof(l->v[0]), cmp_i64);
	r.n = l->n;
	r.p50 = pct(l->v, l->n, 50) / 1e6;
	r.p99 = pct(l->v, l->n, 99) / 1e6;
	r.p999 = pct(l->v, l->n, 99.9) / 1e6;
	r.max = l->n > 0 ? (double)l->v[l->n - 1] / 1e6 : -1;
	return r;
}

/* Reads "window START END [BY_PUBLISH]" from stdin (blocking). BY_PUBLISH
 * 1: a sample belongs to the window by its publish time (so the buyer and
 * the subscriber count the very same samples); 0: by its arrival. */
static int
read_window(uint64_t *start, uint64_t *end, int *by_publish)
{
	char line[256];
	unsigned long long s, e;
	int p = 0;

	if (fgets(line, sizeof(line), stdin) == NULL ||
	    sscanf(line, "window %llu %llu %d", &s, &e, &p) < 2)
		return -1;
	*start = s;
	*end = e;
	*by_publish = p;
	return 0;
}

/* A line to the orchestrator, unbuffered: roles run in forked copies whose
 * stdio buffers were set up for the parent. */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
say(const char *fmt, ...)
{
	char line[LINE_CAP];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > 0)
		(void)!write(1, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

/* ---------------------------------------------------------------- role: publisher */

static volatile sig_atomic_t role_stop;

static void
on_role_stop(int sig)
{
	(void)sig;
	role_stop = 1;
}

struct pub_args {
	int port;
	double rate; /* samples a second, 0: as fast as Paho takes them */
};

struct paho_wait {
	volatile int done; /* 1 ok, -1 failed */
};

static void
paho_ok(void *ctx, MQTTAsync_successData *r)
{
	(void)r;
	((struct paho_wait *)ctx)->done = 1;
}

static void
paho_fail(void *ctx, MQTTAsync_failureData *r)
{
	(void)r;
	((struct paho_wait *)ctx)->done = -1;
}

static int
paho_wait(struct paho_wait *w, int ms)
{
	for (int i = 0; i < ms * 10 && w->done == 0; i++) {
		struct timespec ts = { 0, 100000 };

		nanosleep(&ts, NULL);
	}
	return w->done == 1 ? 0 : -1;
}

/* Paho sets no TCP_NODELAY on its socket, and a publisher at a steady rate
 * then sees Nagle and delayed-ACK stalls (BRIEF.md). The socket is ours
 * too: find the one connected to the broker and set it. */
static int
nodelay_to_port(int port)
{
	int one = 1, n = 0;

	for (int fd = 3; fd < 1024; fd++) {
		struct sockaddr_in sa;
		socklen_t len = sizeof(sa);

		if (getpeername(fd, (struct sockaddr *)&sa, &len) == 0 &&
		    sa.sin_family == AF_INET && ntohs(sa.sin_port) == port &&
		    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == 0)
			n++;
	}
	return n;
}

static int
msg_ignore(void *ctx, char *topic, int topiclen, MQTTAsync_message *m)
{
	(void)ctx;
	(void)topiclen;
	MQTTAsync_freeMessage(&m);
	MQTTAsync_free(topic);
	return 1;
}

/* Sends Paho has written to the socket (its QoS 0 onSuccess). */
static uint64_t pub_written;

static void
pub_sent(void *ctx, MQTTAsync_successData *r)
{
	(void)ctx;
	(void)r;
	__atomic_fetch_add(&pub_written, 1, __ATOMIC_RELAXED);
}

/* At full speed, sends Paho holds before we wait: its command queue has no
 * bound of its own, and a broker slower than us would let it grow by
 * hundreds of MB a second. This keeps the publisher at the broker's pace. */
#define PUB_INFLIGHT_MAX 2000

static int
role_pub(void *arg)
{
	const struct pub_args *a = arg;
	MQTTAsync c = NULL;
	MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer;
	MQTTAsync_disconnectOptions dopt = MQTTAsync_disconnectOptions_initializer;
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	struct paho_wait w = { 0 };
	char uri[64], id[64], payload[PAYLOAD_BYTES + 1];
	uint64_t seq = 0, busy = 0, t0, t1, written;

	signal(SIGTERM, on_role_stop);
	snprintf(uri, sizeof(uri), "tcp://127.0.0.1:%d", a->port);
	snprintf(id, sizeof(id), "bench-pub-%ld", (long)getpid());
	if (MQTTAsync_create(&c, uri, id, MQTTCLIENT_PERSISTENCE_NONE, NULL) != MQTTASYNC_SUCCESS ||
	    MQTTAsync_setCallbacks(c, NULL, NULL, msg_ignore, NULL) != MQTTASYNC_SUCCESS)
		return 1;
	co.keepAliveInterval = 60;
	co.cleansession = 1;
	co.onSuccess = paho_ok;
	co.onFailure = paho_fail;
	co.context = &w;
	if (MQTTAsync_connect(c, &co) != MQTTASYNC_SUCCESS || paho_wait(&w, 10000) != 0) {
		fprintf(stderr, "bench publisher: cannot connect to %s\n", uri);
		return 1;
	}
	say("ready nodelay=%d\n", nodelay_to_port(a->port));
	ro.onSuccess = pub_sent;
	t0 = mono_ns();
	while (!role_stop) {
		if (a->rate > 0)
			sleep_until(t0 + (uint64_t)((double)seq * 1e9 / a->rate));
		while (seq - __atomic_load_n(&pub_written, __ATOMIC_RELAXED) >= PUB_INFLIGHT_MAX &&
		       !role_stop) {
			struct timespec ts = { 0, 20000 };

			busy++;
			nanosleep(&ts, NULL);
		}
		payload_make(payload, seq + 1);
		if (MQTTAsync_send(c, TOPIC, PAYLOAD_BYTES, payload, 0, 0, &ro) ==
		    MQTTASYNC_SUCCESS)
			seq++;
	}
	t1 = mono_ns();
	written = __atomic_load_n(&pub_written, __ATOMIC_RELAXED);
	say("result sent=%" PRIu64 " written=%" PRIu64 " secs=%.3f rate=%.0f waits=%" PRIu64 "\n",
	    seq, written, (double)(t1 - t0) / 1e9, (double)written / ((double)(t1 - t0) / 1e9),
	    busy);
	dopt.timeout = 100;
	(void)MQTTAsync_disconnect(c, &dopt);
	/* Leave without MQTTAsync_destroy(): a full-speed run may have a deep
	 * command queue, and exit frees it all at once. */
	_exit(0);
}

/* ---------------------------------------------------------------- role: plain subscriber */

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

/* Shared by every client of the process; Paho calls back from its own
 * threads, so counters are atomics and the latency log is claimed by index. */
struct sub_state {
	uint64_t start, end; /* window, 0 until known */
	int by_publish;
	uint64_t in_window, total;
	struct lat lat;
	uint64_t lat_next;
	volatile int subscribed;
};

static int
sub_arrived(void *ctx, char *topic, int topiclen, MQTTAsync_message *m)
{
	struct sub_state *s = ctx;
	uint64_t now = mono_ns(), t, i, at;

	(void)topiclen;
	t = payload_time(m->payload, (size_t)m->payloadlen);
	at = s->by_publish ? t : now;
	__atomic_fetch_add(&s->total, 1, __ATOMIC_RELAXED);
	if (__atomic_load_n(&s->start, __ATOMIC_ACQUIRE) != 0 && at >= s->start && at < s->end) {
		__atomic_fetch_add(&s->in_window, 1, __ATOMIC_RELAXED);
		i = __atomic_fetch_add(&s->lat_next, 1, __ATOMIC_RELAXED);
		if (t != 0 && i < s->lat.cap)
			s->lat.v[i] = (int64_t)(now - t);
	}
	MQTTAsync_freeMessage(&m);
	MQTTAsync_free(topic);
	return 1;
}

static void
sub_subscribed(void *ctx, MQTTAsync_successData *r)
{
	(void)r;
	__atomic_fetch_add(&((struct sub_state *)ctx)->subscribed, 1, __ATOMIC_RELAXED);
}

struct sub_conn {
	MQTTAsync c;
	struct sub_state *st;
	struct paho_wait w;
};

static void
sub_connected(void *ctx, MQTTAsync_successData *r)
{
	struct sub_conn *sc = ctx;
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;

	(void)r;
	ro.onSuccess = sub_subscribed;
	ro.context = sc->st;
	if (MQTTAsync_subscribe(sc->c, TOPIC, 0, &ro) != MQTTASYNC_SUCCESS)
		sc->w.done = -1;
	else
		sc->w.done = 1;
}

static void
sub_connect_failed(void *ctx, MQTTAsync_failureData *r)
{
	(void)r;
	((struct sub_conn *)ctx)->w.done = -1;
}

/* Creates a client and starts connecting; it subscribes once connected. */
static int
sub_open(struct sub_conn *sc, struct sub_state *st, int port, int n)
{
	MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer;
	char uri[64], id[64];

	memset(sc, 0, sizeof(*sc));
	sc->st = st;
	snprintf(uri, sizeof(uri), "tcp://127.0.0.1:%d", port);
	snprintf(id, sizeof(id), "bench-sub-%ld-%d", (long)getpid(), n);
	if (MQTTAsync_create(&sc->c, uri, id, MQTTCLIENT_PERSISTENCE_NONE, NULL) !=
	        MQTTASYNC_SUCCESS ||
	    MQTTAsync_setCallbacks(sc->c, st, NULL, sub_arrived, NULL) != MQTTASYNC_SUCCESS)
		return -1;
	co.keepAliveInterval = 60;
	co.cleansession = 1;
	co.onSuccess = sub_connected;
	co.onFailure = sub_connect_failed;
	co.context = sc;
	return MQTTAsync_connect(sc->c, &co) == MQTTASYNC_SUCCESS ? 0 : -1;
}

static void
sub_close(struct sub_conn *sc)
{
	MQTTAsync_disconnectOptions dopt = MQTTAsync_disconnectOptions_initializer;

	if (sc->c == NULL)
		return;
	dopt.timeout = 0;
	(void)MQTTAsync_disconnect(sc->c, &dopt);
	MQTTAsync_destroy(&sc->c);
}

/* Waits until the subscriptions are acknowledged (want of them). */
static int
sub_wait_subscribed(struct sub_state *st, int want, int ms)
{
	uint64_t deadline = mono_ns() + (uint64_t)ms * 1000000u;

	while (__atomic_load_n(&st->subscribed, __ATOMIC_RELAXED) < want) {
		if (mono_ns() > deadline)
			return -1;
		sleep_ms(1);
	}
	return 0;
}

static int
role_sub(void *arg)
{
	const struct sub_args *a = arg;
	struct sub_state st;
	struct sub_conn *conns = NULL, one;
	uint64_t start, end, t0, got0;
	int by_publish;
	struct lat setup;
	int i, nclients = a->clients > 0 ? a->clients : 1;

	memset(&st, 0, sizeof(st));
	if (a->mode == SUB_WINDOW) {
		lat_init(&st.lat, 4u << 20);
		conns = calloc((size_t)nclients, sizeof(*conns));
		if (conns == NULL)
			return 1;
		for (i = 0; i < nclients; i++) {
			if (sub_open(&conns[i], &st, a->port, i) != 0)
				return 1;
			/* Pace connects: the broker's listen backlog is finite. */
			if (i % 32 == 31)
				sleep_ms(5);
		}
		if (sub_wait_subscribed(&st, nclients, 30000) != 0) {
			fprintf(stderr, "bench subscriber: only %d of %d subscribed\n",
			    st.subscribed, nclients);
			return 1;
		}
		say("ready %d\n", nclients);
		if (read_window(&start, &end, &by_publish) != 0)
			return 1;
		st.by_publish = by_publish;
		__atomic_store_n(&st.end, end, __ATOMIC_RELAXED);
		__atomic_store_n(&st.start, start, __ATOMIC_RELEASE);
		sleep_until(end + 300000000u); /* stragglers of the window are not counted */
		st.lat.n = st.lat_next < st.lat.cap ? st.lat_next : st.lat.cap;
		if (lat_write(&st.lat, a->latfile) != 0)
			return 1;
		say("result n=%" PRIu64 " secs=%.3f rate=%.1f total=%" PRIu64 " clients=%d\n",
		    st.in_window, (double)(end - start) / 1e9,
		    (double)st.in_window / ((double)(end - start) / 1e9), st.total, nclients);
		_exit(0); /* hundreds of clients: exit closes them all at once */
	}
	say("ready 1\n");
	if (read_window(&start, &end, &by_publish) != 0)
		return 1;
	lat_init(&setup, 1u << 16);
	sleep_until(start);
	if (a->mode == SUB_SETUP) {
		/* Connect -> subscribed -> first message, as often as fits. */
		while (mono_ns() < end) {
			st.total = 0;
			st.subscribed = 0;
			t0 = mono_ns();
			if (sub_open(&one, &st, a->port, (int)setup.n) != 0)
				return 1;
			while (__atomic_load_n(&st.total, __ATOMIC_RELAXED) == 0 &&
			       mono_ns() < end + 5000000000u) {
				struct timespec ts = { 0, 20000 };

				nanosleep(&ts, NULL);
			}
			if (st.total > 0 && mono_ns() <= end)
				lat_add(&setup, (int64_t)(mono_ns() - t0));
			sub_close(&one);
		}
	} else {
		/* SUB_COUNT: time from connect to the count-th message. */
		for (i = 0; i < a->reps; i++) {
			st.total = 0;
			st.subscribed = 0;
			t0 = mono_ns();
			if (sub_open(&one, &st, a->port, i) != 0)
				return 1;
			got0 = 0;
			while ((got0 = __atomic_load_n(&st.total, __ATOMIC_RELAXED)) < a->count &&
			       mono_ns() - t0 < 120000000000u)
				sleep_ms(1);
			lat_add(&setup, got0 >= a->count ? (int64_t)(mono_ns() - t0) : -1);
			sub_close(&one);
		}
	}
	if (lat_write(&setup, a->latfile) != 0)
		return 1;
	say("result n=%zu secs=%.3f\n", setup.n, (double)(end - start) / 1e9);
	return 0;
}

/* ---------------------------------------------------------------- role: buyers */

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
};

enum sess_state { SS_FREE, SS_CONNECTING, SS_HANDSHAKE, SS_IDLE, SS_STREAM, SS_DONE };

struct sess {
	int fd;
	enum sess_state st;
	struct sdpp_identity *id;
	struct sdpp_buyer *b;
	struct sdpp_framer *fr;
	struct sdpp_out out;
	char *wbuf;
	size_t wlen, wcap;
	int want_write;
	uint64_t t_connect, t_key, t_first;
	uint64_t items;
	int statement;
};

struct driver {
	const struct buy_args *a;
	int ep;
	struct sess *s;
	int n;
	int connecting; /* sessions between connect and menu/stream */
	int opened;     /* sessions started so far (STREAM) */
	int idle, started, failed, closed_early;
	int go;              /* STREAM idle_first: order now */
	uint64_t start, end; /* window */
	int by_publish;
	uint64_t in_window, items, first_any;
	struct lat lat, lat_key;
	struct lat by_mod[10]; /* STREAM: latency by item seq % 10 (invoice phase, K = 10) */
	uint64_t completed;
	char peer_error[400];
};

static void
sess_free(struct driver *d, struct sess *s)
{
	if (s->fd >= 0) {
		epoll_ctl(d->ep, EPOLL_CTL_DEL, s->fd, NULL);
		close(s->fd);
	}
	sdpp_buyer_free(s->b);
	sdpp_framer_free(s->fr);
	sdpp_out_free(&s->out);
	sdpp_identity_free(s->id);
	free(s->wbuf);
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	s->st = SS_FREE;
}

static void
sess_fail(struct driver *d, struct sess *s, const char *why)
{
	if (d->peer_error[0] == '\0')
		snprintf(d->peer_error, sizeof(d->peer_error), "%s", why);
	if (s->st == SS_CONNECTING || s->st == SS_HANDSHAKE)
		d->connecting--;
	d->failed++;
	sess_free(d, s);
}

static int
sess_arm(struct driver *d, struct sess *s, int op)
{
	struct epoll_event ev;

	ev.events = EPOLLIN | (s->want_write ? EPOLLOUT : 0);
	ev.data.ptr = s;
	return epoll_ctl(d->ep, op, s->fd, &ev);
}

/* Moves the session's output frames to the socket; what does not fit waits
 * for EPOLLOUT. */
static int
sess_flush(struct driver *d, struct sess *s)
{
	ssize_t n;

	if (s->out.len > 0) {
		if (s->wlen + s->out.len > s->wcap) {
			size_t want = s->wcap == 0 ? 4096 : s->wcap;
			char *nb;

			while (want < s->wlen + s->out.len)
				want *= 2;
			nb = realloc(s->wbuf, want);
			if (nb == NULL)
				return -1;
			s->wbuf = nb;
			s->wcap = want;
		}
		memcpy(s->wbuf + s->wlen, s->out.buf, s->out.len);
		s->wlen += s->out.len;
	}
	sdpp_out_clear(&s->out);
	while (s->wlen > 0) {
		n = send(s->fd, s->wbuf, s->wlen, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0)
			return -1;
		memmove(s->wbuf, s->wbuf + n, s->wlen - (size_t)n);
		s->wlen -= (size_t)n;
	}
	if ((s->wlen > 0) != s->want_write) {
		s->want_write = s->wlen > 0;
		return sess_arm(d, s, EPOLL_CTL_MOD);
	}
	return 0;
}

static int
sess_open(struct driver *d, struct sess *s)
{
	struct sdpp_buyer_config bc;

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	if (sdpp_identity_generate(&s->id) != SDPP_OK)
		return -1;
	memset(&bc, 0, sizeof(bc));
	bc.id = s->id;
	memcpy(bc.seller, d->a->seller, sizeof(bc.seller));
	s->fr = sdpp_framer_new(SDPP_FRAME_CAP_SESSION);
	sdpp_out_init(&s->out, SDPP_FRAME_CAP_MAX);
	if (s->fr == NULL || sdpp_buyer_new(&s->b, &bc, wall_ms()) != SDPP_OK)
		return -1;
	s->t_connect = mono_ns();
	s->fd = tcp_connect(d->a->port, 1);
	if (s->fd < 0)
		return -1;
	s->st = SS_CONNECTING;
	s->want_write = 1; /* connect completion */
	d->connecting++;
	return sess_arm(d, s, EPOLL_CTL_ADD);
}

static void
sess_order(struct driver *d, struct sess *s)
{
	uint64_t q = d->a->mode == BUY_ORDER ? d->a->count : d->a->mode == BUY_SETUP ? 1 : 0;

	if (sdpp_buyer_order(s->b, PRODUCT, q, wall_ms(), &s->out) != SDPP_OK) {
		sess_fail(d, s, "cannot order");
		return;
	}
	if (s->st == SS_IDLE)
		d->connecting++;
	s->st = SS_HANDSHAKE;
}

/* Acts on the session's events; 1 if the session was freed. */
static int
sess_events(struct driver *d, struct sess *s)
{
	uint64_t now = mono_ns(), t;
	size_t i;

	for (i = 0; i < s->out.nev; i++) {
		const struct sdpp_event *ev = &s->out.ev[i];

		switch (ev->type) {
		case SDPP_EV_MENU:
			if (d->a->mode == BUY_STREAM && d->a->idle_first && !d->go) {
				s->st = SS_IDLE;
				d->connecting--;
				d->idle++;
			} else {
				sess_order(d, s);
			}
			break;
		case SDPP_EV_STARTED:
			s->t_key = now;
			s->st = SS_STREAM;
			d->connecting--;
			d->started++;
			break;
		case SDPP_EV_ITEM:
			t = payload_time(ev->item->payload, ev->item->payload_len);
			s->items++;
			d->items++;
			if (d->first_any == 0)
				d->first_any = now;
			if (d->a->mode == BUY_STREAM && d->start != 0 &&
			    (d->by_publish ? t : now) >= d->start &&
			    (d->by_publish ? t : now) < d->end) {
				d->in_window++;
				if (t != 0) {
					lat_add(&d->lat, (int64_t)(now - t));
					lat_add(&d->by_mod[ev->item->seq % 10], (int64_t)(now - t));
				}
			}
			if (s->items == 1)
				s->t_first = now;
			break;
		case SDPP_EV_PAY:
			/* Vouchers: the signed payment_ack is the payment. */
			(void)sdpp_buyer_complete(s->b, ev->req, 1, "", wall_ms(), &s->out);
			break;
		case SDPP_EV_STATEMENT:
			s->statement = 1;
			break;
		case SDPP_EV_PEER_ERROR:
			snprintf(d->peer_error, sizeof(d->peer_error), "seller error %s: %s",
			    ev->msg->u.error.code, ev->msg->u.error.message);
			break;
		case SDPP_EV_CLOSE:
			if (ev->err != SDPP_OK && d->peer_error[0] == '\0')
				snprintf(d->peer_error, sizeof(d->peer_error), "session closed: %s",
				    sdpp_strerror(ev->err));
			s->st = SS_DONE;
			break;
		default:
			break;
		}
	}
	s->out.nev = 0;
	if (sess_flush(d, s) != 0) {
		sess_fail(d, s, "write failed");
		return 1;
	}
	return 0;
}

/* Set-up and order modes: the session reached its goal; record and free. */
static void
sess_finish(struct driver *d, struct sess *s)
{
	uint64_t now = mono_ns();

	if (d->a->mode == BUY_SETUP) {
		if (now <= d->end) {
			lat_add(&d->lat, (int64_t)(s->t_first - s->t_connect));
			lat_add(&d->lat_key, (int64_t)(s->t_key - s->t_connect));
			d->completed++;
		}
	} else if (d->a->mode == BUY_ORDER) {
		lat_add(&d->lat, (int64_t)(now - s->t_connect));
		d->completed++;
	}
	sess_free(d, s);
}

static int
sess_readable(struct driver *d, struct sess *s)
{
	char buf[65536];
	const char *frame;
	size_t flen, off, took;
	ssize_t n;
	enum sdpp_err e;
	int rounds;

	for (rounds = 0; rounds < 4; rounds++) {
		n = recv(s->fd, buf, sizeof(buf), 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n <= 0) {
			if (s->st == SS_DONE || s->statement) {
				sess_finish(d, s);
				return 1;
			}
			sess_fail(d, s, n == 0 ? "seller closed the connection" : "read failed");
			return 1;
		}
		for (off = 0; off < (size_t)n; off += took) {
			took = sdpp_framer_feed(s->fr, buf + off, (size_t)n - off, &e);
			while ((e = sdpp_framer_next(s->fr, &frame, &flen)) == SDPP_OK) {
				(void)sdpp_buyer_input(s->b, frame, flen, wall_ms(), &s->out);
				if (sess_events(d, s))
					return 1;
				if (s->st == SS_DONE) {
					if (d->a->mode == BUY_ORDER && s->statement) {
						sess_finish(d, s);
						return 1;
					}
					if (!s->statement) {
						sess_fail(d, s,
						    d->peer_error[0] ? d->peer_error
						                     : "session ended");
						return 1;
					}
				}
				if (d->a->mode == BUY_SETUP && s->items > 0) {
					sess_finish(d, s);
					return 1;
				}
			}
			if (e == SDPP_E_FRAME_TOO_LARGE) {
				sess_fail(d, s, "frame too large");
				return 1;
			}
			if (took == 0)
				break;
		}
		if ((size_t)n < sizeof(buf))
			return 0;
	}
	return 0;
}

static int
sess_writable(struct driver *d, struct sess *s)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (s->st == SS_CONNECTING) {
		if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
			sess_fail(d, s, "connect failed");
			return 1;
		}
		s->st = SS_HANDSHAKE;
		if (sdpp_buyer_start(s->b, wall_ms(), &s->out) != SDPP_OK) {
			sess_fail(d, s, "cannot start");
			return 1;
		}
	}
	if (sess_flush(d, s) != 0) {
		sess_fail(d, s, "write failed");
		return 1;
	}
	return 0;
}

/* Reads "window S E" or "go" from the orchestrator. */
static void
driver_command(struct driver *d)
{
	char line[256];
	unsigned long long s, e;
	int p = 0;
	ssize_t n = read(0, line, sizeof(line) - 1);

	if (n <= 0) {
		/* The orchestrator is gone. */
		_exit(1);
	}
	line[n] = '\0';
	if (sscanf(line, "window %llu %llu %d", &s, &e, &p) >= 2) {
		d->by_publish = p;
		d->end = e;
		d->start = s;
	}
	if (strncmp(line, "go", 2) == 0)
		d->go = 1;
}

static int
role_buy(void *arg)
{
	const struct buy_args *a = arg;
	struct driver d;
	struct epoll_event evs[256], in;
	int i, n, printed_idle = 0, printed_ready = 0, rep = 0, ordered = 0;
	int handshakes = 32;

	memset(&d, 0, sizeof(d));
	d.a = a;
	d.n = a->sessions;
	d.s = calloc((size_t)d.n, sizeof(*d.s));
	d.ep = epoll_create1(EPOLL_CLOEXEC);
	if (d.s == NULL || d.ep < 0)
		return 1;
	for (i = 0; i < d.n; i++)
		d.s[i].fd = -1;
	lat_init(&d.lat, a->mode == BUY_STREAM ? 4u << 20 : 1u << 16);
	lat_init(&d.lat_key, 1u << 16);
	if (a->mode == BUY_STREAM && a->sessions > 1)
		for (i = 0; i < 10; i++)
			lat_init(&d.by_mod[i], 1u << 18);
	in.events = EPOLLIN;
	in.data.ptr = NULL;
	if (epoll_ctl(d.ep, EPOLL_CTL_ADD, 0, &in) != 0)
		return 1;
	if (a->mode != BUY_STREAM)
		say("ready %d\n", d.n);
	for (;;) {
		uint64_t now = mono_ns();

		/* Start sessions as the mode wants them. */
		if (a->mode == BUY_STREAM) {
			while (d.opened < d.n && d.connecting < handshakes) {
				if (sess_open(&d, &d.s[d.opened]) != 0) {
					sess_fail(&d, &d.s[d.opened], "cannot connect");
				}
				d.opened++;
			}
			if (a->idle_first && !printed_idle && d.idle + d.failed == d.n) {
				say("idle %d failed=%d\n", d.idle, d.failed);
				printed_idle = 1;
			}
			if (d.go && !ordered) {
				for (i = 0; i < d.n; i++)
					if (d.s[i].st == SS_IDLE) {
						sess_order(&d, &d.s[i]);
						if (d.s[i].st != SS_FREE &&
						    sess_flush(&d, &d.s[i]) != 0)
							sess_fail(&d, &d.s[i], "write failed");
					}
				ordered = 1;
			}
			if (!printed_ready && d.started + d.failed == d.n) {
				say("ready %d failed=%d%s%s\n", d.started, d.failed,
				    d.peer_error[0] ? " error=" : "", d.peer_error);
				printed_ready = 1;
			}
			if (d.end != 0 && now > d.end + 300000000u)
				break;
		} else if (d.start != 0 && now >= d.start) {
			if (a->mode == BUY_SETUP) {
				if (now >= d.end && d.connecting == 0)
					break;
				if (now >= d.end + 5000000000u)
					break;
				for (i = 0; i < d.n && now < d.end; i++)
					if (d.s[i].st == SS_FREE && sess_open(&d, &d.s[i]) != 0)
						sess_fail(&d, &d.s[i], "cannot connect");
			} else {
				if (d.s[0].st == SS_FREE) {
					if (rep == a->reps)
						break;
					rep++;
					if (sess_open(&d, &d.s[0]) != 0) {
						sess_fail(&d, &d.s[0], "cannot connect");
						lat_add(&d.lat, -1);
					}
				}
			}
		}
		n = epoll_wait(d.ep, evs, 256, 10);
		if (n < 0 && errno != EINTR)
			return 1;
		for (i = 0; i < n; i++) {
			struct sess *s = evs[i].data.ptr;

			if (s == NULL) {
				driver_command(&d);
				continue;
			}
			if (s->st == SS_FREE)
				continue; /* freed by an earlier event of this batch */
			if ((evs[i].events & EPOLLOUT) && sess_writable(&d, s))
				continue;
			if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
				(void)sess_readable(&d, s);
		}
	}
	if (lat_write(&d.lat, a->latfile) != 0 ||
	    (a->keyfile[0] != '\0' && lat_write(&d.lat_key, a->keyfile) != 0))
		return 1;
	if (a->mode == BUY_STREAM && a->sessions > 1) {
		char mods[256];
		size_t off = 0;

		for (i = 0; i < 10; i++) {
			struct pcts p = lat_pcts(&d.by_mod[i]);

			off += (size_t)snprintf(
			    mods + off, sizeof(mods) - off, "%s%.0f", i ? "," : "", p.p50);
		}
		say("mod10_p50_ms %s\n", mods);
	}
	if (a->mode == BUY_STREAM)
		say("result n=%" PRIu64 " secs=%.3f rate=%.1f items=%" PRIu64
		    " sessions=%d failed=%d%s%s\n",
		    d.in_window, (double)(d.end - d.start) / 1e9,
		    (double)d.in_window / ((double)(d.end - d.start) / 1e9), d.items, d.started,
		    d.failed, d.peer_error[0] ? " error=" : "", d.peer_error);
	else
		say("result n=%" PRIu64 " secs=%.3f failed=%d%s%s\n", d.completed,
		    (double)(d.end - d.start) / 1e9, d.failed, d.peer_error[0] ? " error=" : "",
		    d.peer_error);
	_exit(0); /* closes every socket at once */
}

/* ---------------------------------------------------------------- broker and gateway */

struct bench;

struct gw_opts {
	uint64_t k, ack_every, max_unpaid, window, buyer_queue, commit_delay_ms;
	int sign;
	unsigned max_buyers;
};

static const struct gw_opts GW_DEFAULTS = { 10, 1, 0, 0, 64, 0, 0, 1000 };

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
	struct sbuf machine;   /* JSON members about the machine */
	struct sbuf goals;     /* JSON array entries */
	struct sbuf goal_text; /* the goal table */
	double ed_sign, ed_verify;
	uint64_t t_begin;
};

static int
want(const struct bench *B, const char *group)
{
	const char *p;
	size_t l = strlen(group);

	if (B->only == NULL)
		return 1;
	for (p = B->only; (p = strstr(p, group)) != NULL; p += l)
		if ((p == B->only || p[-1] == ',') && (p[l] == '\0' || p[l] == ','))
			return 1;
	return 0;
}

/* The tests' broker (tests/common/broker.c), tuned for the bench; its files
 * go to the run's directory, so BENCH_KEEP keeps its log. */
static int
bench_broker_start(struct bench *B)
{
	/* The default max_queued_messages (1000) drops messages to a
	 * subscriber that lags: far above any backlog here. TCP_NODELAY on the
	 * broker's sockets, so its writes to subscribers never wait for Nagle
	 * (the same for the plain subscriber and the gateway). The subscribe
	 * log tells when the gateway's subscription is in place. */
	B->broker.max_queued = 1000000;
	B->broker.extra_conf = "set_tcp_nodelay true\n"
	                       "log_type subscribe\n"
	                       "log_timestamp false\n";
	B->broker.workdir = B->work;
	return broker_start(&B->broker);
}

/* 1 if the broker log shows the subscription of gateway `name'. */
static int
gw_subscribed(const struct bench *B, const char *name)
{
	char path[PATH_CAP], needle[128], line[512];
	FILE *f;
	int found = 0;

	snprintf(path, sizeof(path), "%s/mosquitto.log", B->broker.dir);
	f = fopen(path, "r");
	if (f == NULL)
		return 0;
	snprintf(needle, sizeof(needle), "sdpp-gateway-%s 0 " TOPIC, name);
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = strstr(line, needle) != NULL;
	fclose(f);
	return found;
}

static int
gw_start(struct bench *B, const struct gw_opts *o, struct gateway *g)
{
	char ini[PATH_CAP], log[PATH_CAP], unpaid[64] = "";
	char *argv[] = { B->gateway_bin, "-c", ini, NULL };
	struct sbuf t = { 0 };
	uint64_t deadline;
	int rc = -1, ports[2];

	memset(g, 0, sizeof(*g));
	if (broker_free_ports(ports, 2) != 0) {
		fprintf(stderr, "bench: no free ports: %s\n", strerror(errno));
		return -1;
	}
	g->port = ports[0];
	g->mport = ports[1];
	snprintf(g->name, sizeof(g->name), "bench%d", ++B->ngw);
	snprintf(ini, sizeof(ini), "%s/%s.ini", B->work, g->name);
	snprintf(log, sizeof(log), "%s/%s.log", B->work, g->name);
	snprintf(g->db, sizeof(g->db), "%s/%s.db", B->work, g->name);
	if (o->max_unpaid != 0)
		snprintf(unpaid, sizeof(unpaid), "max_unpaid = %" PRIu64 "\n", o->max_unpaid);
	sb_printf(&t,
	    "; written by bench/bench_gateway.c\n"
	    "[gateway]\n"
	    "name = %s\n"
	    "listen = 127.0.0.1:%d\n"
	    "key = seller.key\n"
	    "payment_granularity = %" PRIu64 "\n"
	    "ack_every = %" PRIu64 "\n"
	    "%s"
	    "sign_items = %s\n"
	    "window = %" PRIu64 "\n"
	    "buyer_queue = %" PRIu64 "\n"
	    "max_buyers = %u\n"
	    "handshake_timeout = 1h\n"
	    "metrics_listen = 127.0.0.1:%d\n"
	    "\n[mqtt]\n"
	    "uri = tcp://127.0.0.1:%d\n"
	    "qos = 0\n"
	    "\n[ledger]\n"
	    "path = %s.db\n"
	    "commit_delay = %" PRIu64 "ms\n"
	    "\n[product " PRODUCT "]\n"
	    "topic = " TOPIC "\n"
	    "price = 1\n"
	    "unit = x\n"
	    "description = benchmark samples of %d bytes\n",
	    g->name, g->port, o->k, o->ack_every, unpaid, o->sign ? "yes" : "no", o->window,
	    o->buyer_queue, o->max_buyers, g->mport, B->broker.port, g->name, o->commit_delay_ms,
	    PAYLOAD_BYTES);
	if (write_file(ini, t.p, t.len, 0644) != 0 || child_exec(&g->c, argv, log) != 0)
		goto out;
	deadline = mono_ns() + 10000000000u;
	while (mono_ns() < deadline) {
		if (waitpid(g->c.pid, NULL, WNOHANG) == g->c.pid) {
			live_del(g->c.pid);
			g->c.pid = 0;
			break;
		}
		if (broker_port_accepts(g->port) && gw_subscribed(B, g->name)) {
			if (getenv("BENCH_VERBOSE") != NULL)
				fprintf(stderr, "bench: gateway %s pid %ld port %d\n", g->name,
				    (long)g->c.pid, g->port);
			rc = 0;
			goto out;
		}
		sleep_ms(5);
	}
	fprintf(stderr, "bench: gateway %s did not start (see %s)\n", g->name, log);
out:
	free(t.p);
	return rc;
}

static void
gw_stop(struct gateway *g)
{
	char path[PATH_CAP + 8];

	/* Buyers are gone by now; a clean stop takes milliseconds. */
	(void)child_stop(&g->c, SIGTERM, 3000);
	unlink(g->db);
	snprintf(path, sizeof(path), "%s-wal", g->db);
	unlink(path);
	snprintf(path, sizeof(path), "%s-shm", g->db);
	unlink(path);
}

/* One counter from the gateway's Prometheus page, -1 if unavailable. */
static double
gw_metric(const struct gateway *g, const char *name)
{
	static const char req[] = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
	char buf[16384], key[128], *p;
	size_t len = 0;
	ssize_t n;
	int fd = tcp_connect(g->mport, 0);

	if (fd < 0)
		return -1;
	if (write(fd, req, sizeof(req) - 1) != (ssize_t)sizeof(req) - 1) {
		close(fd);
		return -1;
	}
	while (len < sizeof(buf) - 1 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = '\0';
	snprintf(key, sizeof(key), "\nsdpp_%s ", name);
	p = strstr(buf, key);
	return p != NULL ? strtod(p + strlen(key), NULL) : -1;
}

/* ---------------------------------------------------------------- reporting */

static struct result *
result_new(struct bench *B, const char *group, const char *name, const char *unit)
{
	struct result *r;

	B->res = realloc(B->res, (size_t)(B->nres + 1) * sizeof(*B->res));
	r = calloc(1, sizeof(*r));
	if (B->res == NULL || r == NULL)
		abort();
	B->res[B->nres++] = r;
	snprintf(r->group, sizeof(r->group), "%s", group);
	snprintf(r->name, sizeof(r->name), "%s", name);
	snprintf(r->unit, sizeof(r->unit), "%s", unit);
	r->base = -1;
	r->ratio = -1;
	return r;
}

static void
result_add(struct result *r, double v)
{
	if (r->nruns < (int)(sizeof(r->runs) / sizeof(r->runs[0])))
		r->runs[r->nruns++] = v;
}

/* Closes a result: median, ratio to the baseline, one table line. */
static void
result_done(struct bench *B, struct result *r, const char *base_name, double base)
{
	char runs[256] = "";
	size_t off = 0;
	int i;

	(void)B;
	if (r->nruns == 0) {
		printf("%-12s %-44s %12s\n", r->group, r->name, "not run");
		return;
	}
	r->med = median(r->runs, r->nruns);
	if (base_name != NULL) {
		snprintf(r->base_name, sizeof(r->base_name), "%s", base_name);
		r->base = base;
		r->ratio = base > 0 && r->med >= 0 ? r->med / base : -1;
	}
	for (i = 0; i < r->nruns && off < sizeof(runs); i++)
		off += (size_t)snprintf(
		    runs + off, sizeof(runs) - off, "%s%.4g", i ? " " : "", r->runs[i]);
	if (r->ratio >= 0)
		printf("%-12s %-44s %12.4g %-8s %12.4g %7.3f  [%s]\n", r->group, r->name, r->med,
		    r->unit, r->base, r->ratio, runs);
	else
		printf("%-12s %-44s %12.4g %-8s %12s %7s  [%s]\n", r->group, r->name, r->med,
		    r->unit, "-", "-", runs);
	fflush(stdout);
}

static void
goal(struct bench *B, const char *what, const char *target, double measured, const char *how,
    int reached)
{
	sb_printf(&B->goal_text, "%-62s %-14s %10.4g %-22s %s\n", what, target, measured, how,
	    reached < 0 ? "n/a"
	    : reached   ? "REACHED"
	                : "missed");
	sb_printf(&B->goals,
	    "%s\n    {\"goal\":\"%s\",\"target\":\"%s\",\"measured\":%.6g,\"measure\":\"%s\","
	    "\"reached\":%s}",
	    B->goals.len ? "," : "", what, target, measured, how,
	    reached < 0 ? "null"
	    : reached   ? "true"
	                : "false");
}

static const struct result *
find(const struct bench *B, const char *group, const char *name)
{
	for (int i = 0; i < B->nres; i++)
		if (strcmp(B->res[i]->group, group) == 0 && strcmp(B->res[i]->name, name) == 0)
			return B->res[i];
	return NULL;
}

/* ---------------------------------------------------------------- scenario helpers */

static void
latpath(const struct bench *B, char *out, size_t cap, const char *tag, int i)
{
	snprintf(out, cap, "%s/lat-%s-%d.bin", B->work, tag, i);
}

/* Starts a publisher at rate (0: full speed) and waits until it is connected. */
static int
pub_start(struct bench *B, struct child *c, double rate)
{
	static struct pub_args a;
	char line[LINE_CAP];

	a.port = B->broker.port;
	a.rate = rate;
	if (child_fork(c, role_pub, &a) != 0 ||
	    child_expect(c, "ready", line, sizeof(line), READY_MS) != 0)
		return -1;
	if (kv(line, "nodelay", 0) < 1)
		fprintf(stderr, "bench: publisher: TCP_NODELAY not set (%s)\n", line);
	return 0;
}

static double
pub_stop(struct child *c)
{
	char line[LINE_CAP];
	double rate = -1;

	if (c->pid <= 0)
		return -1;
	kill(c->pid, SIGTERM);
	if (child_expect(c, "result", line, sizeof(line), 5000) == 0)
		rate = kv(line, "rate", -1);
	(void)child_stop(c, 0, 3000);
	return rate;
}

static int
sub_start(struct bench *B, struct child *c, struct sub_args *a, enum sub_mode mode, int clients,
    const char *latfile)
{
	char line[LINE_CAP];

	memset(a, 0, sizeof(*a));
	a->port = B->broker.port;
	a->mode = mode;
	a->clients = clients;
	snprintf(a->latfile, sizeof(a->latfile), "%s", latfile != NULL ? latfile : "");
	if (child_fork(c, role_sub, a) != 0 ||
	    child_expect(c, "ready", line, sizeof(line), READY_MS) != 0)
		return -1;
	return 0;
}

static int
buy_start(struct bench *B, struct child *c, struct buy_args *a, const struct gateway *g,
    enum buy_mode mode, int sessions, int idle_first, const char *latfile, const char *keyfile,
    const char *word)
{
	char line[LINE_CAP];

	memset(a, 0, sizeof(*a));
	a->port = g->port;
	memcpy(a->seller, B->seller, sizeof(a->seller));
	a->mode = mode;
	a->sessions = sessions;
	a->idle_first = idle_first;
	snprintf(a->latfile, sizeof(a->latfile), "%s", latfile != NULL ? latfile : "");
	snprintf(a->keyfile, sizeof(a->keyfile), "%s", keyfile != NULL ? keyfile : "");
	if (child_fork(c, role_buy, a) != 0)
		return -1;
	if (word == NULL)
		return 0;
	if (child_expect(c, word, line, sizeof(line), READY_MS) != 0)
		return -1;
	if (kv(line, "failed", 0) > 0) {
		fprintf(stderr, "bench: buyers: %s\n", line);
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- 1. throughput */

struct tp_extra {
	double pub_rate;     /* what the publisher managed */
	double gw_cpu;       /* gateway CPU seconds per second of window */
	double samples;      /* gateway: samples taken from MQTT per second */
	double invoices;     /* invoices recorded per second */
	double commits;      /* ledger commits per second */
	double consumer_cpu; /* the subscriber's or the buyer's CPU, cores */
};

/* Items/s a single plain subscriber receives from a full-speed publisher. */
static double
tp_raw_once(struct bench *B, double warm, double window, struct tp_extra *x)
{
	struct child sub, pub;
	struct sub_args sa;
	char line[LINE_CAP];
	uint64_t s, e;
	double rate = -1, c0;

	memset(x, 0, sizeof(*x));
	memset(&pub, 0, sizeof(pub));
	if (sub_start(B, &sub, &sa, SUB_WINDOW, 1, NULL) != 0)
		goto out;
	if (pub_start(B, &pub, 0) != 0)
		goto out;
	s = mono_ns() + (uint64_t)(warm * 1e9);
	e = s + (uint64_t)(window * 1e9);
	child_send(&sub, "window %" PRIu64 " %" PRIu64 "\n", s, e);
	sleep_until(s);
	c0 = proc_cpu_s(sub.pid);
	sleep_until(e);
	x->consumer_cpu = (proc_cpu_s(sub.pid) - c0) / window;
	if (child_expect(
	        &sub, "result", line, sizeof(line), (int)((warm + window) * 1000) + 10000) == 0)
		rate = kv(line, "rate", -1);
	x->pub_rate = pub_stop(&pub);
out:
	(void)child_stop(&pub, SIGKILL, 1000);
	(void)child_stop(&sub, SIGKILL, 1000);
	return rate;
}

/* Items/s one buyer receives, verified and decrypted, through a gateway. */
static double
tp_gw_once(struct bench *B, const struct gw_opts *o, double warm, double window, struct tp_extra *x)
{
	struct gateway g;
	struct child buy, pub;
	struct buy_args ba;
	char line[LINE_CAP];
	uint64_t s, e;
	double rate = -1, cpu0, cpu1, samp0, samp1, inv0, inv1, com0, com1, bc0;

	memset(x, 0, sizeof(*x));
	memset(&buy, 0, sizeof(buy));
	memset(&pub, 0, sizeof(pub));
	if (gw_start(B, o, &g) != 0)
		return -1;
	if (buy_start(B, &buy, &ba, &g, BUY_STREAM, 1, 0, NULL, NULL, "ready") != 0)
		goto out;
	if (pub_start(B, &pub, 0) != 0)
		goto out;
	s = mono_ns() + (uint64_t)(warm * 1e9);
	e = s + (uint64_t)(window * 1e9);
	child_send(&buy, "window %" PRIu64 " %" PRIu64 "\n", s, e);
	sleep_until(s);
	cpu0 = proc_cpu_s(g.c.pid);
	bc0 = proc_cpu_s(buy.pid);
	samp0 = gw_metric(&g, "samples_total");
	inv0 = gw_metric(&g, "invoices_total");
	com0 = gw_metric(&g, "ledger_commits_total");
	sleep_until(e);
	cpu1 = proc_cpu_s(g.c.pid);
	x->consumer_cpu = (proc_cpu_s(buy.pid) - bc0) / window;
	samp1 = gw_metric(&g, "samples_total");
	inv1 = gw_metric(&g, "invoices_total");
	com1 = gw_metric(&g, "ledger_commits_total");
	if (child_expect(&buy, "result", line, sizeof(line), 10000) == 0) {
		rate = kv(line, "rate", -1);
		if (strstr(line, "error=") != NULL)
			fprintf(stderr, "bench: buyer: %s\n", line);
	}
	x->pub_rate = pub_stop(&pub);
	x->gw_cpu = (cpu1 - cpu0) / window;
	x->samples = (samp1 - samp0) / window;
	x->invoices = (inv1 - inv0) / window;
	x->commits = (com1 - com0) / window;
out:
	(void)child_stop(&pub, SIGKILL, 1000);
	(void)child_stop(&buy, SIGKILL, 1000);
	gw_stop(&g);
	return rate;
}

static void
extra_tp(struct result *r, const struct tp_extra *x, int n)
{
	sb_printf(&r->extra,
	    ",\"publisher_msgs_per_s\":%.0f,\"gateway_cpu_cores\":%.3f,\"buyer_cpu_cores\":%.3f,"
	    "\"gateway_samples_per_s\":%.0f,\"invoices_per_s\":%.1f,\"ledger_commits_per_s\":%.1f",
	    x->pub_rate / n, x->gw_cpu / n, x->consumer_cpu / n, x->samples / n, x->invoices / n,
	    x->commits / n);
}

static void
tp_add(struct tp_extra *sum, const struct tp_extra *x)
{
	sum->pub_rate += x->pub_rate;
	sum->gw_cpu += x->gw_cpu;
	sum->samples += x->samples;
	sum->invoices += x->invoices;
	sum->commits += x->commits;
	sum->consumer_cpu += x->consumer_cpu;
}

struct tp_variant {
	uint64_t k, ack_every;
	int sign;
};

static void
scenario_throughput(struct bench *B)
{
	static const struct tp_variant v[] = {
		{ 1, 1, 0 },
		{ 10, 1, 0 },
		{ 10, 10, 0 },
		{ 1000, 1, 0 },
		{ 1000, 1000, 0 },
		{ 1, 1, 1 },
		{ 10, 1, 1 },
		{ 10, 10, 1 },
		{ 1000, 1, 1 },
		{ 1000, 1000, 1 },
	};
	enum { NV = sizeof(v) / sizeof(v[0]) };
	struct result *raw, *r[NV];
	struct tp_extra xs[NV], xraw, x;
	double warm = B->quick ? 0.3 : 0.5, window = B->quick ? 1.0 : 2.0;
	char name[96];
	int run, i;

	if (B->tp_window > 0)
		window = B->tp_window;
	printf("\n# 1. single-buyer throughput: full-speed QoS 0 publisher, %d-byte payloads, "
	       "%.1f s windows\n",
	    PAYLOAD_BYTES, window);
	raw = result_new(B, "throughput", "raw Paho subscriber (baseline)", "items/s");
	memset(&xraw, 0, sizeof(xraw));
	memset(xs, 0, sizeof(xs));
	for (i = 0; i < NV; i++) {
		snprintf(name, sizeof(name), "K=%" PRIu64 " ack_every=%" PRIu64 " sign_items=%s",
		    v[i].k, v[i].ack_every, v[i].sign ? "yes" : "no");
		r[i] = result_new(B, "throughput", name, "items/s");
	}
	/* Interleaved: each repetition measures the baseline and every
	 * variant, so a change in the machine's load hits all alike. */
	for (run = 0; run < B->runs; run++) {
		result_add(raw, tp_raw_once(B, warm, window, &x));
		tp_add(&xraw, &x);
		for (i = 0; i < NV; i++) {
			struct gw_opts o = GW_DEFAULTS;

			if (B->variant != 0 && B->variant != i + 1)
				continue;
			o.k = v[i].k;
			o.ack_every = v[i].ack_every;
			o.sign = v[i].sign;
			result_add(r[i], tp_gw_once(B, &o, warm, window, &x));
			tp_add(&xs[i], &x);
		}
	}
	result_done(B, raw, NULL, 0);
	sb_printf(&raw->extra, ",\"publisher_msgs_per_s\":%.0f,\"subscriber_cpu_cores\":%.3f",
	    xraw.pub_rate / B->runs, xraw.consumer_cpu / B->runs);
	printf("%-12s   publisher %.0f msgs/s written to the broker; subscriber %.2f cores "
	       "(%.1f us/msg)\n",
	    "", xraw.pub_rate / B->runs, xraw.consumer_cpu / B->runs,
	    raw->med > 0 ? xraw.consumer_cpu / B->runs / raw->med * 1e6 : -1);
	for (i = 0; i < NV; i++) {
		result_done(B, r[i], "raw Paho subscriber", raw->med);
		if (r[i]->nruns == 0)
			continue;
		extra_tp(r[i], &xs[i], B->runs);
		sb_printf(&r[i]->extra,
		    ",\"k\":%" PRIu64 ",\"ack_every\":%" PRIu64 ",\"sign_items\":%s", v[i].k,
		    v[i].ack_every, v[i].sign ? "true" : "false");
		printf("%-12s   gateway %.2f cores (%.0f samples/s in), buyer %.2f cores, "
		       "%.0f invoices/s, %.0f commits/s; publisher %.0f msgs/s\n",
		    "", xs[i].gw_cpu / B->runs, xs[i].samples / B->runs,
		    xs[i].consumer_cpu / B->runs, xs[i].invoices / B->runs, xs[i].commits / B->runs,
		    xs[i].pub_rate / B->runs);
	}
}

/* ---------------------------------------------------------------- 2. latency */

static void
scenario_latency(struct bench *B)
{
	static const struct {
		const char *name;
		uint64_t k, ack_every;
		int sign;
	} v[] = {
		{ "defaults (K=10 ack_every=1 sign_items=no)", 10, 1, 0 },
		{ "K=10 ack_every=1 sign_items=yes", 10, 1, 1 },
	};
	enum { NV = sizeof(v) / sizeof(v[0]) };
	double secs = B->quick ? 2 : 5;
	struct result *raw[3], *gw[NV][4];
	char name[128], lb[PATH_CAP], ls[PATH_CAP], line[LINE_CAP];
	int i, run, k;
	static const char *const pn[] = { "p50", "p99", "p99.9" };

	printf("\n# 2. latency at %d samples/s, publish -> buyer decrypted vs publish -> plain "
	       "subscriber, %.0f s windows\n",
	    LATENCY_RATE, secs);
	for (k = 0; k < 3; k++) {
		snprintf(name, sizeof(name), "raw Paho subscriber %s (baseline)", pn[k]);
		raw[k] = result_new(B, "latency", name, "ms");
	}
	for (i = 0; i < NV; i++) {
		for (k = 0; k < 3; k++) {
			snprintf(name, sizeof(name), "%s %s", v[i].name, pn[k]);
			gw[i][k] = result_new(B, "latency", name, "ms");
		}
		snprintf(name, sizeof(name), "%s items lost", v[i].name);
		gw[i][3] = result_new(B, "latency", name, "items");
	}
	for (run = 0; run < B->runs; run++) {
		for (i = 0; i < NV; i++) {
			struct gw_opts o = GW_DEFAULTS;
			struct gateway g;
			struct child buy, sub, pub;
			struct buy_args ba;
			struct sub_args sa;
			struct lat lb_l = { 0 }, ls_l = { 0 };
			uint64_t s, e;
			double nb = -1, ns = -1;

			memset(&buy, 0, sizeof(buy));
			memset(&sub, 0, sizeof(sub));
			memset(&pub, 0, sizeof(pub));
			o.k = v[i].k;
			o.ack_every = v[i].ack_every;
			o.sign = v[i].sign;
			latpath(B, lb, sizeof(lb), "lat-buy", run);
			latpath(B, ls, sizeof(ls), "lat-sub", run);
			if (gw_start(B, &o, &g) != 0)
				continue;
			/* Both on the same stream at once: the baseline sees exactly
			 * the samples the buyer gets, under the same load. */
			if (buy_start(B, &buy, &ba, &g, BUY_STREAM, 1, 0, lb, NULL, "ready") != 0 ||
			    sub_start(B, &sub, &sa, SUB_WINDOW, 1, ls) != 0 ||
			    pub_start(B, &pub, LATENCY_RATE) != 0)
				goto next;
			s = mono_ns() + 1000000000u;
			e = s + (uint64_t)(secs * 1e9);
			child_send(&buy, "window %" PRIu64 " %" PRIu64 " 1\n", s, e);
			child_send(&sub, "window %" PRIu64 " %" PRIu64 " 1\n", s, e);
			if (child_expect(&buy, "result", line, sizeof(line),
			        (int)(secs * 1000) + 15000) == 0)
				nb = kv(line, "n", -1);
			if (child_expect(&sub, "result", line, sizeof(line), 10000) == 0)
				ns = kv(line, "n", -1);
			lat_read(&lb_l, lb);
			lat_read(&ls_l, ls);
			{
				struct pcts pb = lat_pcts(&lb_l), ps = lat_pcts(&ls_l);

				result_add(gw[i][0], pb.p50);
				result_add(gw[i][1], pb.p99);
				result_add(gw[i][2], pb.p999);
				if (i == 0) {
					result_add(raw[0], ps.p50);
					result_add(raw[1], ps.p99);
					result_add(raw[2], ps.p999);
				}
				/* Items the subscriber got in the window and the buyer
				 * did not: dropped on the way (should be 0). */
				result_add(gw[i][3], ns >= 0 && nb >= 0 ? ns - nb : -1);
			}
			lat_free(&lb_l);
			lat_free(&ls_l);
		next:
			(void)pub_stop(&pub);
			(void)child_stop(&pub, SIGKILL, 1000);
			(void)child_stop(&buy, SIGKILL, 1000);
			(void)child_stop(&sub, SIGKILL, 1000);
			gw_stop(&g);
		}
	}
	for (k = 0; k < 3; k++)
		result_done(B, raw[k], NULL, 0);
	for (i = 0; i < NV; i++) {
		for (k = 0; k < 3; k++) {
			result_done(B, gw[i][k], "raw Paho subscriber", raw[k]->med);
			sb_printf(
			    &gw[i][k]->extra, ",\"added_ms\":%.4f", gw[i][k]->med - raw[k]->med);
		}
		result_done(B, gw[i][3], NULL, 0);
	}
}

/* ---------------------------------------------------------------- 3. fan-out */

struct fan {
	double items_s, p99, p50, cpu, rss0, rss_idle, rss_stream, hwm, per_idle, per_stream;
	double invoices_s, commits_s;
	int buyers;
};

static int
fanout_gw_once(struct bench *B, int nbuyers, struct fan *f)
{
	struct gw_opts o = GW_DEFAULTS;
	struct gateway g;
	struct child kids[FANOUT_PROCS], pub;
	struct buy_args args[FANOUT_PROCS];
	struct lat all = { 0 };
	char lp[FANOUT_PROCS][PATH_CAP], line[LINE_CAP];
	double secs = B->quick ? 2 : 5, items = 0, cpu0, cpu1, inv0, inv1, com0, com1;
	uint64_t s, e;
	int i, nk = 0, rc = -1, per = nbuyers / FANOUT_PROCS;

	memset(f, 0, sizeof(*f));
	memset(&pub, 0, sizeof(pub));
	memset(kids, 0, sizeof(kids));
	o.k = 10;
	o.ack_every = 10;
	o.max_buyers = (unsigned)nbuyers * 2;
	if (gw_start(B, &o, &g) != 0)
		return -1;
	sleep_ms(300);
	f->rss0 = proc_status_bytes(g.c.pid, "VmRSS:");
	for (i = 0; i < FANOUT_PROCS; i++) {
		latpath(B, lp[i], sizeof(lp[i]), "fan", i);
		if (buy_start(B, &kids[i], &args[i], &g, BUY_STREAM, per, 1, lp[i], NULL, NULL) !=
		    0)
			goto out;
		nk++;
	}
	for (i = 0; i < nk; i++)
		if (child_expect(&kids[i], "idle", line, sizeof(line), 60000) != 0 ||
		    kv(line, "failed", 0) > 0) {
			fprintf(stderr, "bench: fan-out buyers: %s\n", line);
			goto out;
		}
	sleep_ms(300);
	f->rss_idle = proc_status_bytes(g.c.pid, "VmRSS:");
	for (i = 0; i < nk; i++)
		child_send(&kids[i], "go\n");
	for (i = 0; i < nk; i++)
		if (child_expect(&kids[i], "ready", line, sizeof(line), 60000) != 0 ||
		    kv(line, "failed", 0) > 0) {
			fprintf(stderr, "bench: fan-out buyers: %s\n", line);
			goto out;
		}
	if (pub_start(B, &pub, B->fanout_rate) != 0)
		goto out;
	s = mono_ns() + 1500000000u;
	e = s + (uint64_t)(secs * 1e9);
	for (i = 0; i < nk; i++)
		child_send(&kids[i], "window %" PRIu64 " %" PRIu64 " 1\n", s, e);
	sleep_until(s);
	cpu0 = proc_cpu_s(g.c.pid);
	inv0 = gw_metric(&g, "invoices_total");
	com0 = gw_metric(&g, "ledger_commits_total");
	sleep_until(e);
	cpu1 = proc_cpu_s(g.c.pid);
	inv1 = gw_metric(&g, "invoices_total");
	com1 = gw_metric(&g, "ledger_commits_total");
	f->rss_stream = proc_status_bytes(g.c.pid, "VmRSS:");
	f->hwm = proc_status_bytes(g.c.pid, "VmHWM:");
	for (i = 0; i < nk; i++) {
		if (child_expect(&kids[i], "mod10_p50_ms", line, sizeof(line), 15000) == 0 &&
		    i == 0)
			printf("%-12s   buyers' p50 latency (ms) by item seq %% 10, seq 10, 20.. "
			       "invoiced "
			       "(one process): %s\n",
			    "", line + 13);
		if (child_expect(&kids[i], "result", line, sizeof(line), 15000) != 0)
			goto out;
		items += kv(line, "n", 0);
		if (strstr(line, "error=") != NULL)
			fprintf(stderr, "bench: fan-out buyers: %s\n", line);
		lat_read(&all, lp[i]);
	}
	{
		struct pcts p = lat_pcts(&all);

		f->p50 = p.p50;
		f->p99 = p.p99;
	}
	f->buyers = nbuyers;
	f->items_s = items / secs;
	f->cpu = (cpu1 - cpu0) / secs;
	f->invoices_s = (inv1 - inv0) / secs;
	f->commits_s = (com1 - com0) / secs;
	f->per_idle = (f->rss_idle - f->rss0) / nbuyers;
	f->per_stream = (f->rss_stream - f->rss0) / nbuyers;
	rc = 0;
out:
	lat_free(&all);
	(void)pub_stop(&pub);
	(void)child_stop(&pub, SIGKILL, 1000);
	for (i = 0; i < FANOUT_PROCS; i++)
		(void)child_stop(&kids[i], SIGKILL, 2000);
	gw_stop(&g);
	return rc;
}

/* The baseline: as many plain subscribers, spread over as many processes. */
static int
fanout_raw_once(struct bench *B, int nsubs, double *items_s, double *p99, double *p50)
{
	struct child kids[FANOUT_PROCS], pub;
	struct sub_args args[FANOUT_PROCS];
	struct lat all = { 0 };
	char lp[FANOUT_PROCS][PATH_CAP], line[LINE_CAP];
	double secs = B->quick ? 2 : 5, items = 0;
	uint64_t s, e;
	int i, nk = 0, rc = -1;

	memset(&pub, 0, sizeof(pub));
	memset(kids, 0, sizeof(kids));
	for (i = 0; i < FANOUT_PROCS; i++) {
		latpath(B, lp[i], sizeof(lp[i]), "fanraw", i);
		if (sub_start(B, &kids[i], &args[i], SUB_WINDOW, nsubs / FANOUT_PROCS, lp[i]) != 0)
			goto out;
		nk++;
	}
	if (pub_start(B, &pub, B->fanout_rate) != 0)
		goto out;
	s = mono_ns() + 1500000000u;
	e = s + (uint64_t)(secs * 1e9);
	for (i = 0; i < nk; i++)
		child_send(&kids[i], "window %" PRIu64 " %" PRIu64 " 1\n", s, e);
	for (i = 0; i < nk; i++) {
		if (child_expect(
		        &kids[i], "result", line, sizeof(line), (int)(secs * 1000) + 15000) != 0)
			goto out;
		items += kv(line, "n", 0);
		lat_read(&all, lp[i]);
	}
	{
		struct pcts p = lat_pcts(&all);

		*p99 = p.p99;
		*p50 = p.p50;
	}
	*items_s = items / secs;
	rc = 0;
out:
	lat_free(&all);
	(void)pub_stop(&pub);
	(void)child_stop(&pub, SIGKILL, 1000);
	for (i = 0; i < FANOUT_PROCS; i++)
		(void)child_stop(&kids[i], SIGKILL, 2000);
	return rc;
}

static void
scenario_fanout(struct bench *B)
{
	struct result *ri, *rp, *rc, *rh, *rm_idle, *rm_stream, *bi, *bp, *rinv;
	int run, n = B->fanout_buyers;
	char name[128];

	printf("\n# 3. fan-out: %d buyers in %d processes on one product at %.0f samples/s "
	       "(K=10, ack_every=10)\n",
	    n, FANOUT_PROCS, B->fanout_rate);
	snprintf(name, sizeof(name), "%d plain subscribers: messages/s (baseline)", n);
	bi = result_new(B, "fanout", name, "items/s");
	snprintf(name, sizeof(name), "%d plain subscribers: p99 (baseline)", n);
	bp = result_new(B, "fanout", name, "ms");
	snprintf(name, sizeof(name), "%d buyers: items/s", n);
	ri = result_new(B, "fanout", name, "items/s");
	snprintf(name, sizeof(name), "%d buyers: p99 publish -> decrypted", n);
	rp = result_new(B, "fanout", name, "ms");
	rc = result_new(B, "fanout", "gateway CPU while streaming", "cores");
	rh = result_new(B, "fanout", "gateway peak RSS (VmHWM)", "MiB");
	rm_idle = result_new(B, "fanout", "gateway memory per idle buyer", "bytes");
	rm_stream = result_new(B, "fanout", "gateway memory per streaming buyer", "bytes");
	rinv = result_new(B, "fanout", "invoices recorded (group commit)", "inv/s");
	for (run = 0; run < B->runs; run++) {
		struct fan f;
		double a, b, c;

		if (fanout_raw_once(B, n, &a, &b, &c) == 0) {
			result_add(bi, a);
			result_add(bp, b);
		}
		if (fanout_gw_once(B, n, &f) == 0) {
			result_add(ri, f.items_s);
			result_add(rp, f.p99);
			result_add(rc, f.cpu);
			result_add(rh, f.hwm / 1048576.0);
			result_add(rm_idle, f.per_idle);
			result_add(rm_stream, f.per_stream);
			result_add(rinv, f.invoices_s);
			sb_printf(&rinv->extra, "%s", "");
			printf("%-12s   run %d: rss0 %.1f MiB, idle %.1f MiB, streaming %.1f MiB, "
			       "%.0f commits/s, p50 %.3f ms\n",
			    "", run + 1, f.rss0 / 1048576.0, f.rss_idle / 1048576.0,
			    f.rss_stream / 1048576.0, f.commits_s, f.p50);
		}
	}
	result_done(B, bi, NULL, 0);
	result_done(B, bp, NULL, 0);
	result_done(B, ri, "plain subscribers", bi->med);
	result_done(B, rp, "plain subscribers", bp->med);
	result_done(B, rc, NULL, 0);
	result_done(B, rh, NULL, 0);
	result_done(B, rm_idle, NULL, 0);
	result_done(B, rm_stream, NULL, 0);
	result_done(B, rinv, NULL, 0);
}

/* ---------------------------------------------------------------- 4. order set-up and Fig. 3 */

/* One set-up window with procs x slots concurrent buyers (or plain
 * subscribers when raw); set-ups/s and the time distributions. */
static int
setup_once(struct bench *B, const struct gateway *g, int raw, int procs, int slots, double secs,
    double *per_s, struct pcts *first, struct pcts *key)
{
	struct child kids[4];
	struct buy_args ba[4];
	struct sub_args sa[4];
	struct lat lf = { 0 }, lk = { 0 };
	char lp[4][PATH_CAP], kp[4][PATH_CAP], line[LINE_CAP];
	uint64_t s, e;
	double n = 0;
	int i, nk = 0, rc = -1;

	memset(kids, 0, sizeof(kids));
	for (i = 0; i < procs; i++) {
		latpath(B, lp[i], sizeof(lp[i]), "setup-first", i);
		latpath(B, kp[i], sizeof(kp[i]), "setup-key", i);
		if (raw) {
			if (sub_start(B, &kids[i], &sa[i], SUB_SETUP, 1, lp[i]) != 0)
				goto out;
		} else {
			if (buy_start(B, &kids[i], &ba[i], g, BUY_SETUP, slots, 0, lp[i], kp[i],
			        NULL) != 0)
				goto out;
		}
		nk++;
	}
	if (!raw)
		for (i = 0; i < nk; i++)
			if (child_expect(&kids[i], "ready", line, sizeof(line), READY_MS) != 0)
				goto out;
	s = mono_ns() + 300000000u;
	e = s + (uint64_t)(secs * 1e9);
	for (i = 0; i < nk; i++)
		child_send(&kids[i], "window %" PRIu64 " %" PRIu64 "\n", s, e);
	for (i = 0; i < nk; i++) {
		if (child_expect(
		        &kids[i], "result", line, sizeof(line), (int)(secs * 1000) + 15000) != 0)
			goto out;
		n += kv(line, "n", 0);
		if (strstr(line, "error=") != NULL)
			fprintf(stderr, "bench: set-up: %s\n", line);
		lat_read(&lf, lp[i]);
		lat_read(&lk, kp[i]);
	}
	*per_s = n / secs;
	*first = lat_pcts(&lf);
	*key = lat_pcts(&lk);
	rc = 0;
out:
	lat_free(&lf);
	lat_free(&lk);
	for (i = 0; i < 4; i++)
		(void)child_stop(&kids[i], SIGKILL, 2000);
	return rc;
}

static void
scenario_setup(struct bench *B)
{
	struct gw_opts o = GW_DEFAULTS;
	struct gateway g;
	struct child pub;
	struct result *raw_p50, *raw_p99, *seq_p50, *seq_p99, *seq_key, *con_rate, *con_p99,
	    *raw_rate;
	double secs = B->quick ? 1.5 : 3, rate;
	struct pcts f, k;
	int run;
	char name[128];

	printf("\n# 4a. order set-up: connect -> menu -> order -> session key -> first item, "
	       "sensor at %d samples/s, %.0f s windows\n",
	    SETUP_RATE, secs);
	raw_rate =
	    result_new(B, "setup", "raw: Paho connect..first message..destroy cycles/s", "1/s");
	raw_p50 = result_new(B, "setup", "raw: connect -> first message p50 (baseline)", "ms");
	raw_p99 = result_new(B, "setup", "raw: connect -> first message p99 (baseline)", "ms");
	seq_key = result_new(B, "setup", "1 at a time: connect -> session key p50", "ms");
	seq_p50 = result_new(B, "setup", "1 at a time: connect -> first item p50", "ms");
	seq_p99 = result_new(B, "setup", "1 at a time: connect -> first item p99", "ms");
	snprintf(name, sizeof(name), "%d concurrent: set-ups per second", 2 * SETUP_CONCURRENCY);
	con_rate = result_new(B, "setup", name, "1/s");
	snprintf(
	    name, sizeof(name), "%d concurrent: connect -> first item p99", 2 * SETUP_CONCURRENCY);
	con_p99 = result_new(B, "setup", name, "ms");
	memset(&pub, 0, sizeof(pub));
	if (gw_start(B, &o, &g) != 0)
		return;
	if (pub_start(B, &pub, SETUP_RATE) != 0)
		goto out;
	for (run = 0; run < B->runs; run++) {
		if (setup_once(B, &g, 1, 1, 1, secs, &rate, &f, &k) == 0) {
			result_add(raw_rate, rate);
			result_add(raw_p50, f.p50);
			result_add(raw_p99, f.p99);
		}
		if (setup_once(B, &g, 0, 1, 1, secs, &rate, &f, &k) == 0) {
			result_add(seq_key, k.p50);
			result_add(seq_p50, f.p50);
			result_add(seq_p99, f.p99);
		}
		if (setup_once(B, &g, 0, 2, SETUP_CONCURRENCY, secs, &rate, &f, &k) == 0) {
			result_add(con_rate, rate);
			result_add(con_p99, f.p99);
		}
	}
out:
	(void)pub_stop(&pub);
	(void)child_stop(&pub, SIGKILL, 1000);
	gw_stop(&g);
	result_done(B, raw_rate, NULL, 0);
	result_done(B, raw_p50, NULL, 0);
	result_done(B, raw_p99, NULL, 0);
	result_done(B, seq_key, NULL, 0);
	result_done(B, seq_p50, "raw connect -> first message", raw_p50->med);
	result_done(B, seq_p99, "raw connect -> first message", raw_p99->med);
	result_done(B, con_rate, NULL, 0);
	result_done(B, con_p99, NULL, 0);
}

static void
scenario_fig3(struct bench *B)
{
	static const uint64_t sizes[] = { 10, 100, 1000, 10000 };
	enum { NS = sizeof(sizes) / sizeof(sizes[0]) };
	struct gw_opts o = GW_DEFAULTS;
	struct gateway g;
	struct child pub;
	struct result *rb[NS], *rr[NS];
	char name[128];
	int i, j;

	printf("\n# 4b. Fig. 3: total time versus order size, sensor at %d samples/s, K = %d "
	       "(ideal: size / rate)\n",
	    SETUP_RATE, FIG3_K);
	memset(&pub, 0, sizeof(pub));
	for (i = 0; i < NS; i++) {
		snprintf(name, sizeof(name), "raw: connect -> %" PRIu64 " messages (baseline)",
		    sizes[i]);
		rr[i] = result_new(B, "fig3", name, "s");
		snprintf(name, sizeof(name), "order of %" PRIu64 " items: connect -> statement",
		    sizes[i]);
		rb[i] = result_new(B, "fig3", name, "s");
	}
	o.k = FIG3_K;
	if (gw_start(B, &o, &g) != 0)
		return;
	if (pub_start(B, &pub, SETUP_RATE) != 0)
		goto out;
	for (i = 0; i < NS; i++) {
		struct child kb, ks;
		struct buy_args ba;
		struct sub_args sa;
		struct lat lb = { 0 }, ls = { 0 };
		char pb[PATH_CAP], ps[PATH_CAP], line[LINE_CAP];
		int reps = B->runs;
		uint64_t s;

		memset(&kb, 0, sizeof(kb));
		memset(&ks, 0, sizeof(ks));
		latpath(B, pb, sizeof(pb), "fig3-buy", i);
		latpath(B, ps, sizeof(ps), "fig3-sub", i);
		memset(&ba, 0, sizeof(ba));
		ba.port = g.port;
		memcpy(ba.seller, B->seller, sizeof(ba.seller));
		ba.mode = BUY_ORDER;
		ba.sessions = 1;
		ba.count = sizes[i];
		ba.reps = reps;
		snprintf(ba.latfile, sizeof(ba.latfile), "%s", pb);
		memset(&sa, 0, sizeof(sa));
		sa.port = B->broker.port;
		sa.mode = SUB_COUNT;
		sa.count = sizes[i];
		sa.reps = reps;
		snprintf(sa.latfile, sizeof(sa.latfile), "%s", ps);
		/* The buyer and the plain subscriber run side by side on the
		 * same sensor stream. */
		if (child_fork(&kb, role_buy, &ba) != 0 || child_fork(&ks, role_sub, &sa) != 0 ||
		    child_expect(&kb, "ready", line, sizeof(line), READY_MS) != 0 ||
		    child_expect(&ks, "ready", line, sizeof(line), READY_MS) != 0)
			goto next;
		s = mono_ns() + 100000000u;
		child_send(&kb, "window %" PRIu64 " %" PRIu64 "\n", s, s + 1);
		child_send(&ks, "window %" PRIu64 " %" PRIu64 "\n", s, s + 1);
		{
			int limit = (int)((double)sizes[i] / SETUP_RATE * 1000 * 3 * reps) + 30000;

			if (child_expect(&kb, "result", line, sizeof(line), limit) == 0 &&
			    strstr(line, "error=") != NULL)
				fprintf(stderr, "bench: fig3 buyer: %s\n", line);
			(void)child_expect(&ks, "result", line, sizeof(line), limit);
		}
		lat_read(&lb, pb);
		lat_read(&ls, ps);
		for (j = 0; j < (int)lb.n; j++)
			result_add(rb[i], lb.v[j] >= 0 ? (double)lb.v[j] / 1e9 : -1);
		for (j = 0; j < (int)ls.n; j++)
			result_add(rr[i], ls.v[j] >= 0 ? (double)ls.v[j] / 1e9 : -1);
		lat_free(&lb);
		lat_free(&ls);
	next:
		(void)child_stop(&kb, SIGKILL, 2000);
		(void)child_stop(&ks, SIGKILL, 2000);
	}
out:
	(void)pub_stop(&pub);
	(void)child_stop(&pub, SIGKILL, 1000);
	gw_stop(&g);
	for (i = 0; i < NS; i++) {
		result_done(B, rr[i], NULL, 0);
		result_done(B, rb[i], "raw subscriber, same size", rr[i]->med);
		sb_printf(&rb[i]->extra, ",\"items\":%" PRIu64 ",\"ideal_s\":%.4f", sizes[i],
		    (double)sizes[i] / SETUP_RATE);
	}
}

/* ---------------------------------------------------------------- 5. slow ledger */

static void
scenario_ledger(struct bench *B)
{
	struct result *r0, *r1;
	struct tp_extra x, x0, x1;
	/* Long enough to reach the steady state: with commit_delay D a buyer
	 * pauses once unpaid items reach max_unpaid, which takes seconds. */
	double warm = B->quick ? 2.0 : 4.0, window = B->quick ? 2.0 : 4.0;
	char line[LINE_CAP], path[PATH_CAP + 32];
	int run;
	FILE *f;

	printf("\n# 5. ledger: a slow records medium (commit_delay) must not slow the data flow; "
	       "K=1000 ack_every=1000 max_unpaid=32000, full-speed publisher\n");
	/* The raw figure: bench_ledger, when built beside us. */
	snprintf(path, sizeof(path), "%s/bench_ledger", B->dir);
	if (access(path, X_OK) == 0) {
		snprintf(path, sizeof(path), "%s/bench_ledger %s", B->dir, B->dir);
		f = popen(path, "r");
		while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
			double single = -1, g100 = -1, g1000 = -1;
			struct result *r;
			char *p;

			if (strncmp(line, "{\"ledger\":", 10) != 0) {
				printf("%-12s   %s", "", line);
				continue;
			}
			if ((p = strstr(line, "\"single\":")) != NULL)
				single = strtod(p + 9, NULL);
			if ((p = strstr(line, "\"group100\":")) != NULL)
				g100 = strtod(p + 11, NULL);
			if ((p = strstr(line, "\"group1000\":")) != NULL)
				g1000 = strtod(p + 12, NULL);
			r = result_new(
			    B, "ledger", "raw appends/s, one commit per record", "rec/s");
			result_add(r, single);
			result_done(B, r, NULL, 0);
			r = result_new(B, "ledger", "raw appends/s, group commit of 100", "rec/s");
			result_add(r, g100);
			result_done(B, r, "one commit per record", single);
			r = result_new(B, "ledger", "raw appends/s, group commit of 1000", "rec/s");
			result_add(r, g1000);
			result_done(B, r, "one commit per record", single);
		}
		if (f != NULL)
			pclose(f);
	}
	r0 = result_new(B, "ledger", "items/s, commit_delay 0", "items/s");
	r1 = result_new(B, "ledger", "items/s, commit_delay 200ms", "items/s");
	memset(&x0, 0, sizeof(x0));
	memset(&x1, 0, sizeof(x1));
	for (run = 0; run < B->runs; run++) {
		struct gw_opts o = GW_DEFAULTS;

		o.k = 1000;
		o.ack_every = 1000;
		o.max_unpaid = 32000;
		result_add(r0, tp_gw_once(B, &o, warm, window, &x));
		tp_add(&x0, &x);
		o.commit_delay_ms = 200;
		result_add(r1, tp_gw_once(B, &o, warm, window, &x));
		tp_add(&x1, &x);
	}
	result_done(B, r0, NULL, 0);
	extra_tp(r0, &x0, B->runs);
	result_done(B, r1, "commit_delay 0", r0->med);
	extra_tp(r1, &x1, B->runs);
	printf("%-12s   delay 0: %.1f invoices/s, %.1f commits/s; delay 200ms: %.1f invoices/s, "
	       "%.1f commits/s\n",
	    "", x0.invoices / B->runs, x0.commits / B->runs, x1.invoices / B->runs,
	    x1.commits / B->runs);
}

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

static void
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

/* ---------------------------------------------------------------- machine and goals */

/* `openssl speed -seconds 3 ed25519': sign/s and verify/s. */
static void
ed25519_speed(struct bench *B)
{
	char cmd[128], line[512];
	FILE *f;

	snprintf(cmd, sizeof(cmd), "%s speed -seconds %d ed25519 2>/dev/null", OPENSSL,
	    B->quick ? 1 : 3);
	f = popen(cmd, "r");
	B->ed_sign = B->ed_verify = -1;
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		/* " 253 bits EdDSA (Ed25519)   0.0000s   0.0001s  27387.0   9781.5" */
		char *p = strstr(line, "(Ed25519)");
		double a, b, c, d;

		if (p != NULL && sscanf(p + 9, " %lfs %lfs %lf %lf", &a, &b, &c, &d) == 4) {
			B->ed_sign = c;
			B->ed_verify = d;
		}
	}
	if (f != NULL)
		pclose(f);
	printf("# openssl speed ed25519 on this machine: %.0f sign/s, %.0f verify/s\n", B->ed_sign,
	    B->ed_verify);
}

static void
goals(struct bench *B)
{
	const struct result *raw = find(B, "throughput", "raw Paho subscriber (baseline)");
	const struct result *r;
	static const char *const cum[] = { "K=10 ack_every=10 sign_items=no",
		"K=1000 ack_every=1000 sign_items=no" };
	static const char *const sig[] = { "K=10 ack_every=10 sign_items=yes",
		"K=1000 ack_every=1000 sign_items=yes" };
	char what[160];
	int i;

	for (i = 0; raw != NULL && i < 2; i++) {
		r = find(B, "throughput", cum[i]);
		if (r == NULL || r->nruns == 0 || raw->nruns == 0)
			continue;
		snprintf(
		    what, sizeof(what), "1 buyer, no item signature, cumulative ACKs (%s)", cum[i]);
		goal(
		    B, what, ">= 0.80 x raw", r->ratio, "ratio to raw subscriber", r->ratio >= 0.8);
	}
	for (i = 0; B->ed_sign > 0 && i < 2; i++) {
		r = find(B, "throughput", sig[i]);
		if (r == NULL || r->nruns == 0)
			continue;
		snprintf(what, sizeof(what), "1 buyer, per-item signatures (%s)", sig[i]);
		goal(B, what, ">= 0.80 x sign/s", r->med / B->ed_sign, "ratio to openssl sign/s",
		    r->med / B->ed_sign >= 0.8);
	}
	/* Ceilings: the slower of the two engines, each alone on a core (the
	 * seller signs every item; the buyer checks one signature per ACK). */
	for (i = 0; i < 2; i++) {
		const struct result *rs = find(B, "library",
		    i == 0 ? "seller per item, K=1000 ack_every=1000 sign=yes" :
			     "seller per item, K=1000 ack_every=1000 sign=no");
		const struct result *rb = find(B, "library",
		    i == 0 ? "buyer per item, K=1000 ack_every=1000 sign=yes" :
			     "buyer per item, K=1000 ack_every=1000 sign=no");
		double us, base = i == 0 ? B->ed_sign : (raw != NULL ? raw->med : 0);

		if (rs == NULL || rb == NULL || rs->nruns == 0 || rb->nruns == 0 || base <= 0 ||
		    (i == 1 && raw->nruns == 0))
			continue;
		us = rs->med > rb->med ? rs->med : rb->med;
		goal(B,
		    i == 0 ? "  (ceiling: library in memory, slower side on its own core, signed)" :
			     "  (ceiling: library in memory, slower side on its own core, unsigned)",
		    i == 0 ? ">= 0.80 x sign/s" : ">= 0.80 x raw", 1e6 / us / base,
		    i == 0 ? "ratio to openssl sign/s" : "ratio to raw subscriber",
		    1e6 / us / base >= 0.8);
	}
	r = find(B, "latency", "defaults (K=10 ack_every=1 sign_items=no) p50");
	if (r != NULL && r->nruns > 0 && r->base >= 0) {
		double added = r->med - r->base;

		goal(B, "latency added over raw MQTT at 1000/s, p50", "< 0.5 ms", added,
		    "ms added (median runs)", added < 0.5);
	}
	r = find(B, "latency", "defaults (K=10 ack_every=1 sign_items=no) p99");
	if (r != NULL && r->nruns > 0 && r->base >= 0) {
		double added = r->med - r->base;

		goal(B, "latency added over raw MQTT at 1000/s, p99", "< 2 ms", added,
		    "ms added (median runs)", added < 2);
	}
	r = find(B, "fanout", "gateway memory per streaming buyer");
	if (r != NULL && r->nruns > 0) {
		const struct result *ri;
		char rname[96];
		int served;

		snprintf(rname, sizeof(rname), "%d buyers: items/s", B->fanout_buyers);
		ri = find(B, "fanout", rname);
		served = ri != NULL && ri->med > 0;
		snprintf(what, sizeof(what),
		    "%d concurrent buyers, <= 32 KiB gateway memory each "
		    "(streaming)",
		    B->fanout_buyers);
		goal(B, what, "<= 32768 B", r->med, "bytes per buyer", served && r->med <= 32768);
	}
	r = find(B, "fanout", "gateway memory per idle buyer");
	if (r != NULL && r->nruns > 0) {
		snprintf(what, sizeof(what),
		    "%d concurrent buyers, <= 32 KiB gateway memory each "
		    "(idle)",
		    B->fanout_buyers);
		goal(B, what, "<= 32768 B", r->med, "bytes per buyer", r->med <= 32768);
	}
	r = find(B, "ledger", "items/s, commit_delay 200ms");
	if (r != NULL && r->nruns > 0 && r->ratio >= 0)
		goal(B, "data flow with a slow ledger (commit_delay 200ms) within 5% of normal",
		    ">= 0.95 x", r->ratio, "ratio to commit_delay 0", r->ratio >= 0.95);
}

static int
write_json(struct bench *B)
{
	struct sbuf j = { 0 };
	int i, k, rc;

	sb_printf(&j, "{\n  \"benchmark\": \"sdpp-gateway make bench (bench/bench_gateway.c)\",\n");
	{
		char load[64] = "null", commit[64] = "";
		FILE *f = fopen("/proc/loadavg", "r");

		if (f != NULL) {
			if (fgets(load, sizeof(load), f) != NULL)
				load[strcspn(load, " ")] = '\0';
			fclose(f);
		}
		f = popen("git describe --always --dirty 2>/dev/null", "r");
		if (f != NULL) {
			if (fgets(commit, sizeof(commit), f) != NULL)
				commit[strcspn(commit, "\n")] = '\0';
			pclose(f);
		}
		sb_printf(&j, "  \"source\": \"%s\",\n", commit);
		sb_printf(&j, "  \"machine\": {%s,\"load_avg_at_end\":%s},\n",
		    B->machine.p != NULL ? B->machine.p : "", load);
	}
	sb_printf(&j, "  \"runs_per_scenario\": %d,\n  \"seconds\": %.1f,\n", B->runs,
	    (double)(mono_ns() - B->t_begin) / 1e9);
	sb_printf(&j, "  \"scenarios\": [");
	for (i = 0, k = 0; i < B->nres; i++) {
		struct result *r = B->res[i];

		if (r->nruns == 0)
			continue;
		sb_printf(&j,
		    "%s\n    {\"group\":\"%s\",\"name\":\"%s\",\"unit\":\"%s\",\"runs\":[",
		    k++ ? "," : "", r->group, r->name, r->unit);
		for (int x = 0; x < r->nruns; x++)
			sb_printf(&j, "%s%.6g", x ? "," : "", r->runs[x]);
		sb_printf(&j, "],\"median\":%.6g", r->med);
		if (r->base_name[0] != '\0')
			sb_printf(&j,
			    ",\"baseline\":\"%s\",\"baseline_median\":%.6g,\"ratio\":%.4f",
			    r->base_name, r->base, r->ratio);
		sb_printf(&j, "%s}", r->extra.p != NULL ? r->extra.p : "");
	}
	sb_printf(&j, "\n  ],\n  \"goals\": [%s\n  ]\n}\n", B->goals.p != NULL ? B->goals.p : "");
	rc = write_file(B->json_path, j.p, j.len, 0644);
	free(j.p);
	return rc;
}

/* Parses a number option within [lo, hi]; quotes the bad value. */
static int
opt_num(const char *name, const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
		fprintf(
		    stderr, "bench_gateway: %s is not a number in %g-%g: `%s'\n", name, lo, hi, s);
		return -1;
	}
	*out = v;
	return 0;
}

/* Removes the scratch directory; it holds only files. */
static void
remove_work(const char *dir)
{
	char path[PATH_CAP + 300];
	struct dirent *de;
	DIR *d = opendir(dir);

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(d);
	if (rmdir(dir) != 0)
		fprintf(stderr, "bench_gateway: %s left behind: %s\n", dir, strerror(errno));
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: bench_gateway [DIR] [--quick] [--runs N] [--only LIST] [--json FILE]\n"
	    "  DIR      where the bench binaries are and scratch files go (build/bench)\n"
	    "  --quick  short windows, one run each (a smoke test, not figures)\n"
	    "  --only   comma list of: throughput,latency,fanout,setup,fig3,ledger,library\n"
	    "  --json   results file (default bench/results.json, else DIR/results.json)\n"
	    "  --window S, --variant N: throughput only, window S seconds, variant N "
	    "(profiling)\n");
}

int
main(int argc, char **argv)
{
	struct bench B;
	struct sdpp_identity *seller = NULL;
	struct sigaction sa;
	char *pem = NULL, path[PATH_CAP + 32], load[128] = "";
	size_t pemlen = 0;
	struct stat st;
	double v;
	FILE *f;
	int i;

	memset(&B, 0, sizeof(B));
	B.dir = "build/bench";
	B.runs = 3;
	B.fanout_rate = FANOUT_RATE;
	B.fanout_buyers = FANOUT_BUYERS;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0) {
			B.quick = 1;
			B.runs = 1;
		} else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
			if (opt_num("--runs", argv[++i], 1, 15, &v) != 0)
				return 2;
			B.runs = (int)v;
		} else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
			static const char *const groups =
			    ",throughput,latency,fanout,setup,fig3,ledger,"
			    "library,";
			const char *p = argv[++i], *q;

			B.only = p;
			for (; *p != '\0'; p = *q != '\0' ? q + 1 : q) {
				char item[40];

				q = p + strcspn(p, ",");
				snprintf(item, sizeof(item), ",%.*s,", (int)(q - p), p);
				if (q - p > 30 || strstr(groups, item) == NULL) {
					fprintf(stderr,
					    "bench_gateway: --only: unknown group `%.*s'\n",
					    (int)(q - p), p);
					return 2;
				}
			}
		} else if (strcmp(argv[i], "--window") == 0 && i + 1 < argc) {
			if (opt_num("--window", argv[++i], 0.1, 600, &B.tp_window) != 0)
				return 2;
		} else if (strcmp(argv[i], "--fanout-rate") == 0 && i + 1 < argc) {
			if (opt_num("--fanout-rate", argv[++i], 0.1, 100000, &B.fanout_rate) != 0)
				return 2;
		} else if (strcmp(argv[i], "--fanout-buyers") == 0 && i + 1 < argc) {
			if (opt_num("--fanout-buyers", argv[++i], FANOUT_PROCS, 10000, &v) != 0)
				return 2;
			B.fanout_buyers = (int)v;
		} else if (strcmp(argv[i], "--variant") == 0 && i + 1 < argc) {
			if (opt_num("--variant", argv[++i], 1, 10, &v) != 0)
				return 2;
			B.variant = (int)v;
		} else if (strcmp(argv[i], "--json") == 0 && i + 1 < argc) {
			B.json_path = argv[++i];
		} else if (argv[i][0] != '-') {
			B.dir = argv[i];
		} else {
			usage();
			return 2;
		}
	}
	B.t_begin = mono_ns();
	if (B.json_path == NULL)
		B.json_path =
		    stat("bench", &st) == 0 && S_ISDIR(st.st_mode) ? "bench/results.json" : NULL;
	if (B.json_path == NULL) {
		static char def[PATH_CAP + 16];

		snprintf(def, sizeof(def), "%s/results.json", B.dir);
		B.json_path = def;
	}
	snprintf(B.gateway_bin, sizeof(B.gateway_bin), "%s/../bin/sdpp-gateway", B.dir);
	if (getenv("SDPP_GATEWAY") != NULL)
		snprintf(B.gateway_bin, sizeof(B.gateway_bin), "%s", getenv("SDPP_GATEWAY"));
	if (access(B.gateway_bin, X_OK) != 0) {
		fprintf(stderr, "bench_gateway: %s: not found (run make first)\n", B.gateway_bin);
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_fatal_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	snprintf(B.work, sizeof(B.work), "%s/run.XXXXXX", B.dir);
	if (mkdtemp(B.work) == NULL) {
		fprintf(stderr, "bench_gateway: mkdtemp %s: %s\n", B.work, strerror(errno));
		return 1;
	}
	/* The seller's key, so the buyers know it without reading files. */
	snprintf(path, sizeof(path), "%s/seller.key", B.work);
	if (sdpp_identity_generate(&seller) != SDPP_OK ||
	    sdpp_identity_to_pem(seller, &pem, &pemlen) != SDPP_OK ||
	    write_file(path, pem, pemlen, 0600) != 0) {
		fprintf(stderr, "bench_gateway: cannot write the seller key\n");
		return 1;
	}
	sdpp_identity_sign_public(seller, B.seller);
	sdpp_secret_free(pem, pemlen);
	sdpp_identity_free(seller);
	f = fopen("/proc/loadavg", "r");
	if (f != NULL) {
		if (fgets(load, sizeof(load), f) != NULL)
			load[strcspn(load, " ")] = '\0';
		fclose(f);
	}
	printf("# sdpp-gateway benchmarks: %ld CPUs, load average %s at start, %d runs per figure "
	       "(median shown)\n",
	    sysconf(_SC_NPROCESSORS_ONLN), load, B.runs);
	ed25519_speed(&B);
	sb_printf(&B.machine,
	    "\"cpus\":%ld,\"load_avg_at_start\":%s,\"ed25519_sign_per_s\":%.0f,"
	    "\"ed25519_verify_per_s\":%.0f",
	    sysconf(_SC_NPROCESSORS_ONLN), load[0] ? load : "null", B.ed_sign, B.ed_verify);
	if (bench_broker_start(&B) != 0) {
		live_kill_all();
		return 1;
	}
	printf("%-12s %-44s %12s %-8s %12s %7s  %s\n", "group", "scenario", "median", "unit",
	    "baseline", "ratio", "runs");
	if (want(&B, "throughput"))
		scenario_throughput(&B);
	if (want(&B, "latency"))
		scenario_latency(&B);
	if (want(&B, "fanout"))
		scenario_fanout(&B);
	if (want(&B, "setup"))
		scenario_setup(&B);
	if (want(&B, "fig3"))
		scenario_fig3(&B);
	if (want(&B, "ledger"))
		scenario_ledger(&B);
	if (want(&B, "library"))
		scenario_library(&B);
	broker_stop(&B.broker);
	goals(&B);
	printf("\n# goals\n%-62s %-14s %10s %-22s %s\n%s", "goal", "target", "measured", "measure",
	    "state", B.goal_text.p != NULL ? B.goal_text.p : "");
	if (write_json(&B) != 0)
		fprintf(stderr, "bench_gateway: cannot write %s\n", B.json_path);
	else
		printf(
		    "\n# wrote %s in %.0f s\n", B.json_path, (double)(mono_ns() - B.t_begin) / 1e9);
	live_kill_all();
	if (getenv("BENCH_KEEP") == NULL)
		remove_work(B.work);
	return 0;
}
