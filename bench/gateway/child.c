/* Gateway benchmarks: child processes (roles forked, programs run), their lines, cleanup. */
#include "bench/gateway/bench.h"

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

void
live_del(pid_t pid)
{
	for (int i = 0; i < LIVE_MAX; i++)
		if (live[i] == pid)
			live[i] = 0;
}

void
live_kill_all(void)
{
	for (int i = 0; i < LIVE_MAX; i++)
		if (live[i] > 0) {
			kill(live[i], SIGKILL);
			waitpid(live[i], NULL, 0);
			live[i] = 0;
		}
}

void
on_fatal_signal(int sig)
{
	for (int i = 0; i < LIVE_MAX; i++)
		if (live[i] > 0)
			kill(live[i], SIGKILL);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* bench_pin(): the CPU for exec'd programs and for forked roles, -1: as we are. */
static int pin_exec_cpu = -1, pin_fork_cpu = -1;

void
child_pin(int exec_cpu, int fork_cpu)
{
	pin_exec_cpu = exec_cpu;
	pin_fork_cpu = fork_cpu;
}

/* In the child before it runs anything: its threads inherit the mask. */
static void
child_bind(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) != 0)
		fprintf(stderr, "bench: cannot bind pid %ld to CPU %d: %s\n", (long)getpid(), cpu,
		    strerror(errno));
}

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
int
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
		child_bind(pin_fork_cpu);
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
int
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
		child_bind(pin_exec_cpu);
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
int
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

void
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
int
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
