/* Brokers for tests and the bench: mosquitto on a free loopback port, and its clients. */
#define _GNU_SOURCE /* close_range() */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/common/broker.h"

#define BROKER_PUB "/usr/bin/mosquitto_pub"
#define BROKER_SUB "/usr/bin/mosquitto_sub"
#define BROKER_READY_MS 5000 /* mosquitto starts in a few ms; this is a bound */
#define BROKER_STOP_MS 2000
#define BROKER_TOOL_MS 30000 /* a bound: a run takes milliseconds */
#define BROKER_TRIES 3       /* fresh ports, if another process took ours */
#define BROKER_MAX_QUEUED 100000

/* The directory and "/mosquitto.conf" or "/mosquitto.log". */
#define BROKER_PATH_MAX (BROKER_DIR_MAX + 32)

static long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
nap_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

int
broker_free_ports(int *ports, size_t n)
{
	int fds[BROKER_PORTS_MAX], rc = -1, saved;
	size_t i, nopen = 0;

	if (n > BROKER_PORTS_MAX) {
		errno = EINVAL;
		return -1;
	}
	for (i = 0; i < n; i++) {
		struct sockaddr_in sa;
		socklen_t len = sizeof(sa);

		fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fds[i] < 0)
			goto fail;
		nopen++;
		memset(&sa, 0, sizeof(sa));
		sa.sin_family = AF_INET;
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (bind(fds[i], (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
		    getsockname(fds[i], (struct sockaddr *)&sa, &len) != 0)
			goto fail;
		ports[i] = ntohs(sa.sin_port);
	}
	rc = 0;
fail:
	saved = errno;
	for (i = 0; i < nopen; i++)
		close(fds[i]);
	errno = saved;
	return rc;
}

int
broker_port_accepts(int port)
{
	struct sockaddr_in sa;
	int fd, ok;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((unsigned short)port);
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

void
broker_child_setup(int in, int out, int err, pid_t parent)
{
	/* Die with the test, even when it crashes. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (parent > 0 && getppid() != parent)
		_exit(127); /* it died before prctl() */
	if (in >= 0)
		dup2(in, 0);
	if (out >= 0)
		dup2(out, 1);
	if (err >= 0)
		dup2(err, 2);
	/* Inherited sockets (a Paho client's, say) would keep connections
	 * half-alive in the child; a test about disconnects needs them shut. */
	if (close_range(3, ~0U, 0) != 0)
		for (int fd = 3; fd < 4096; fd++)
			close(fd);
}

static int
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	int ok;

	if (f == NULL)
		return -1;
	ok = fputs(text, f) >= 0;
	if (fclose(f) != 0)
		ok = 0;
	return ok ? 0 : -1;
}

static void
print_log(const struct broker *b)
{
	char path[BROKER_PATH_MAX], line[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/mosquitto.log", b->dir);
	f = fopen(path, "r");
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL)
		fprintf(stderr, "# mosquitto: %s", line);
	fclose(f);
}

/* Forks mosquitto on b->port with b->dir's config; waits until it accepts.
 * Returns 0, -1 (failed), or 1 (exited early: the port may be taken). */
static int
spawn(struct broker *b)
{
	char conf[BROKER_PATH_MAX], logpath[BROKER_PATH_MAX];
	long long deadline;
	pid_t parent = getpid(), pid;
	int logfd, status;

	snprintf(conf, sizeof(conf), "%s/mosquitto.conf", b->dir);
	snprintf(logpath, sizeof(logpath), "%s/mosquitto.log", b->dir);
	logfd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (logfd < 0) {
		fprintf(stderr, "broker: %s: %s\n", logpath, strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		close(logfd);
		fprintf(stderr, "broker: fork: %s\n", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);

		broker_child_setup(devnull, logfd, logfd, parent);
		execl(BROKER_MOSQUITTO, "mosquitto", "-c", conf, (char *)NULL);
		_exit(127);
	}
	close(logfd);
	b->pid = pid;
	deadline = mono_ms() + BROKER_READY_MS;
	while (mono_ms() < deadline) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			b->pid = 0;
			return 1;
		}
		if (broker_port_accepts(b->port))
			return 0;
		nap_ms(5);
	}
	fprintf(stderr, "broker: mosquitto did not listen on port %d within %d ms\n", b->port,
	    BROKER_READY_MS);
	broker_kill(b);
	return -1;
}

int
broker_start(struct broker *b)
{
	char conf[BROKER_PATH_MAX], text[4096];
	int fixed = b->port > 0, rc = -1, n;

	b->pid = 0;
	if (b->workdir != NULL) {
		n = snprintf(b->dir, sizeof(b->dir), "%s", b->workdir);
		if (n < 0 || (size_t)n >= sizeof(b->dir)) {
			fprintf(stderr, "broker: directory name longer than %d bytes: `%s'\n",
			    BROKER_DIR_MAX - 1, b->workdir);
			b->dir[0] = '\0';
			return -1;
		}
	} else {
		snprintf(b->dir, sizeof(b->dir), "/tmp/sdpp-broker-XXXXXX");
		if (mkdtemp(b->dir) == NULL) {
			fprintf(stderr, "broker: mkdtemp: %s\n", strerror(errno));
			b->dir[0] = '\0';
			return -1;
		}
	}
	snprintf(conf, sizeof(conf), "%s/mosquitto.conf", b->dir);
	for (int i = 0; i < BROKER_TRIES; i++) {
		if (!fixed && broker_free_ports(&b->port, 1) != 0)
			b->port = 0;
		if (b->port <= 0)
			break;
		/* As root, mosquitto would switch to its own user, and a change of
		 * user clears PR_SET_PDEATHSIG: it would outlive a crashed test.
		 * "user root" keeps it as it is (and able to read our files).
		 * The default max_queued_messages (1000) drops messages to a
		 * subscriber that lags, as one under a sanitizer on a busy machine
		 * does; tests want every message, so the cap is far above theirs. */
		n = snprintf(text, sizeof(text),
		    "# written by tests/common/broker.c\n"
		    "%s"
		    "persistence false\n"
		    "max_queued_messages %ld\n"
		    "log_dest stderr\n"
		    "log_type error\n"
		    "log_type warning\n"
		    "log_type notice\n"
		    "listener %d 127.0.0.1\n"
		    "allow_anonymous true\n"
		    "%s\n",
		    geteuid() == 0 ? "user root\n" : "",
		    b->max_queued > 0 ? b->max_queued : BROKER_MAX_QUEUED, b->port,
		    b->extra_conf != NULL ? b->extra_conf : "");
		if (n < 0 || (size_t)n >= sizeof(text)) {
			fprintf(stderr, "broker: config longer than %zu bytes\n", sizeof(text) - 1);
			break;
		}
		if (write_file(conf, text) != 0) {
			fprintf(stderr, "broker: %s: %s\n", conf, strerror(errno));
			break;
		}
		rc = spawn(b);
		if (rc != 1 || fixed)
			break;
	}
	if (rc != 0) {
		fprintf(stderr, "broker: could not start mosquitto (port %d)\n", b->port);
		print_log(b);
		broker_stop(b);
		return -1;
	}
	snprintf(b->uri, sizeof(b->uri), "tcp://127.0.0.1:%d", b->port);
	return 0;
}

/* Waits for the process to end, SIGKILL after wait_ms. */
static void
reap(struct broker *b, int sig, int wait_ms)
{
	long long deadline;
	int status;

	if (b->pid <= 0)
		return;
	kill(b->pid, sig);
	deadline = mono_ms() + wait_ms;
	while (mono_ms() < deadline) {
		if (waitpid(b->pid, &status, WNOHANG) == b->pid) {
			b->pid = 0;
			return;
		}
		nap_ms(2);
	}
	kill(b->pid, SIGKILL);
	waitpid(b->pid, &status, 0);
	b->pid = 0;
}

void
broker_kill(struct broker *b)
{
	reap(b, SIGKILL, BROKER_STOP_MS);
}

void
broker_stop(struct broker *b)
{
	char path[BROKER_PATH_MAX];

	reap(b, SIGTERM, BROKER_STOP_MS);
	if (b->dir[0] == '\0')
		return;
	if (b->workdir != NULL) {
		b->dir[0] = '\0'; /* the caller's, and so are the logs in it */
		return;
	}
	snprintf(path, sizeof(path), "%s/mosquitto.conf", b->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/mosquitto.log", b->dir);
	unlink(path);
	if (rmdir(b->dir) != 0)
		fprintf(stderr, "broker: %s left behind: %s\n", b->dir, strerror(errno));
	b->dir[0] = '\0';
}

int
broker_restart(struct broker *b)
{
	/* SIGTERM is a clean shutdown too: mosquitto closes every connection.
	 * The same port binds again at once (mosquitto sets SO_REUSEADDR). */
	reap(b, SIGTERM, BROKER_STOP_MS);
	if (spawn(b) != 0) {
		fprintf(stderr, "broker: restart on port %d failed\n", b->port);
		print_log(b);
		return -1;
	}
	return 0;
}

int
broker_run(const char *const *argv, const void *in, size_t inlen, char *out, size_t outcap,
    size_t *outlen, int timeout_ms)
{
	int pin[2] = { -1, -1 }, pout[2] = { -1, -1 }, status, rc = -1;
	size_t sent = 0, got = 0;
	long long deadline = mono_ms() + timeout_ms;
	pid_t pid = -1;

	if (outlen != NULL)
		*outlen = 0;
	if (out != NULL && outcap > 0)
		out[0] = '\0';
	if (pipe(pin) != 0 || pipe(pout) != 0)
		goto done;
	pid = fork();
	if (pid < 0)
		goto done;
	if (pid == 0) {
		broker_child_setup(pin[0], pout[1], -1, 0);
		/* execv's argv is not const-qualified, for C's old reasons. */
		execv(argv[0], (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	close(pin[0]);
	close(pout[1]);
	pin[0] = pout[1] = -1;
	fcntl(pin[1], F_SETFL, O_NONBLOCK);
	fcntl(pout[0], F_SETFL, O_NONBLOCK);
	signal(SIGPIPE, SIG_IGN);
	if (inlen == 0) {
		close(pin[1]);
		pin[1] = -1;
	}
	while (pout[0] >= 0) {
		struct pollfd p[2];
		nfds_t np = 0;
		long long left = deadline - mono_ms();
		char buf[4096];

		if (left <= 0)
			goto done;
		p[np].fd = pout[0];
		p[np++].events = POLLIN;
		if (pin[1] >= 0) {
			p[np].fd = pin[1];
			p[np++].events = POLLOUT;
		}
		if (poll(p, np, (int)left) < 0 && errno != EINTR)
			goto done;
		if (np > 1 && (p[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
			ssize_t n = write(pin[1], (const char *)in + sent, inlen - sent);

			if (n > 0)
				sent += (size_t)n;
			if (n < 0 && errno != EAGAIN) /* the tool quit reading */
				sent = inlen;
			if (sent == inlen) {
				close(pin[1]);
				pin[1] = -1;
			}
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = read(pout[0], buf, sizeof(buf));

			if (n == 0) {
				close(pout[0]);
				pout[0] = -1;
			} else if (n > 0 && out != NULL && outcap > 0) {
				size_t keep = (size_t)n;

				if (keep > outcap - 1 - got)
					keep = outcap - 1 - got;
				memcpy(out + got, buf, keep);
				got += keep;
				out[got] = '\0';
			}
		}
	}
	while (mono_ms() < deadline) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			pid = -1;
			if (WIFEXITED(status))
				rc = WEXITSTATUS(status);
			break;
		}
		nap_ms(1);
	}
	if (outlen != NULL)
		*outlen = got;
done:
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	for (int i = 0; i < 2; i++) {
		if (pin[i] >= 0)
			close(pin[i]);
		if (pout[i] >= 0)
			close(pout[i]);
	}
	return rc;
}

int
broker_pub(
    const struct broker *b, const char *topic, const void *payload, size_t len, int qos, int retain)
{
	char port[16], q[8];
	const char *argv[16];
	int n = 0;

	snprintf(port, sizeof(port), "%d", b->port);
	snprintf(q, sizeof(q), "%d", qos);
	argv[n++] = BROKER_PUB;
	argv[n++] = "-h";
	argv[n++] = "127.0.0.1";
	argv[n++] = "-p";
	argv[n++] = port;
	argv[n++] = "-q";
	argv[n++] = q;
	argv[n++] = "-t";
	argv[n++] = topic;
	if (retain)
		argv[n++] = "-r";
	/* -s reads the whole of stdin, NUL bytes included; an empty stdin is
	 * refused, so -n sends the zero-length message. */
	argv[n++] = len > 0 ? "-s" : "-n";
	argv[n] = NULL;
	return broker_run(argv, payload, len, NULL, 0, NULL, BROKER_TOOL_MS) == 0 ? 0 : -1;
}

int
broker_pub_lines(const struct broker *b, const char *topic, const char *lines, int qos)
{
	char port[16], q[8];
	const char *argv[] = { BROKER_PUB, "-h", "127.0.0.1", "-p", port, "-q", q, "-t", topic,
		"-l", NULL };

	snprintf(port, sizeof(port), "%d", b->port);
	snprintf(q, sizeof(q), "%d", qos);
	return broker_run(argv, lines, strlen(lines), NULL, 0, NULL, BROKER_TOOL_MS) == 0 ? 0 : -1;
}

int
broker_sub1(const struct broker *b, const char *topic, char *out, size_t outcap, int timeout_ms)
{
	char port[16], secs[16];
	const char *argv[] = { BROKER_SUB, "-h", "127.0.0.1", "-p", port, "-t", topic, "-C", "1",
		"-N", "-W", secs, NULL };
	size_t len;

	snprintf(port, sizeof(port), "%d", b->port);
	snprintf(secs, sizeof(secs), "%d", (timeout_ms + 999) / 1000);
	if (broker_run(argv, NULL, 0, out, outcap, &len, timeout_ms + 2000) != 0)
		return -1;
	return (int)len;
}
