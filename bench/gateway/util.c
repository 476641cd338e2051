/* Gateway benchmarks: time, text buffers, statistics, /proc, payload stamps, latency logs. */
#include "bench/gateway/bench.h"

/* ---------------------------------------------------------------- time */

uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The state machines count in wall-clock milliseconds, like cli/buy.c. */
uint64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void
sleep_until(uint64_t t)
{
	struct timespec ts = { (time_t)(t / 1000000000u), (long)(t % 1000000000u) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

void
sleep_ms(unsigned ms)
{
	sleep_until(mono_ns() + (uint64_t)ms * 1000000u);
}

/* ---------------------------------------------------------------- small helpers */

void
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

int
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

double
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
double
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

int
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

/* ---------------------------------------------------------------- /proc */

/* utime + stime of pid in seconds. */
double
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

/* The CPU seconds of pid's threads, summed by thread name into t[0..cap)
 * (the main thread, whose id is pid, as "main"; threads that kept the
 * program's name, such as the gateway's signing pool, as "unnamed");
 * returns how many names, -1 if pid is gone. Threads beyond cap names are left out; a
 * name keeps only letters, digits and "_-." (others become '_'), so it
 * goes into JSON as it is. */
int
proc_thread_cpu(pid_t pid, struct thr_cpu *t, int cap)
{
	char path[64], tpath[128], buf[2048], name[20], comm[20] = "", *p, *q;
	unsigned long long ut, st;
	struct dirent *de;
	DIR *d;
	FILE *f;
	size_t n;
	int nt = 0, i;

	snprintf(path, sizeof(path), "/proc/%ld/comm", (long)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	if (fgets(comm, sizeof(comm), f) != NULL)
		comm[strcspn(comm, "\n")] = '\0';
	fclose(f);
	snprintf(path, sizeof(path), "/proc/%ld/task", (long)pid);
	d = opendir(path);
	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(tpath, sizeof(tpath), "%s/%.20s/stat", path, de->d_name);
		f = fopen(tpath, "r");
		if (f == NULL)
			continue; /* the thread ended meanwhile */
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = '\0';
		/* "TID (COMM) S ...": the name may hold spaces and parentheses. */
		p = strchr(buf, '(');
		q = strrchr(buf, ')');
		if (p == NULL || q == NULL || q < p ||
		    sscanf(q + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
		        &st) != 2)
			continue;
		if (strtol(de->d_name, NULL, 10) == (long)pid)
			snprintf(name, sizeof(name), "main");
		else if ((size_t)(q - p - 1) == strlen(comm) &&
		         strncmp(p + 1, comm, strlen(comm)) == 0)
			snprintf(name, sizeof(name), "unnamed");
		else
			snprintf(name, sizeof(name), "%.*s", (int)(q - p - 1), p + 1);
		for (i = 0; name[i] != '\0'; i++)
			if (!isalnum((unsigned char)name[i]) && strchr("_-.", name[i]) == NULL)
				name[i] = '_';
		for (i = 0; i < nt && strcmp(t[i].name, name) != 0; i++)
			;
		if (i == nt) {
			if (nt == cap)
				continue;
			snprintf(t[nt].name, sizeof(t[nt].name), "%s", name);
			t[nt++].s = 0;
		}
		t[i].s += (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
	}
	closedir(d);
	return nt;
}

/* A "Vm...:" line of /proc/PID/status in bytes. */
double
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
size_t
payload_make(char *p, uint64_t seq)
{
	int n = snprintf(p, PAYLOAD_BYTES + 1, "%020" PRIu64 " %012" PRIu64 " ", mono_ns(), seq);

	memset(p + n, 'x', PAYLOAD_BYTES - (size_t)n);
	return PAYLOAD_BYTES;
}

/* Publish time of a sample, 0 if it is not one of ours. */
uint64_t
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

void
lat_init(struct lat *l, size_t cap)
{
	l->v = malloc(cap * sizeof(*l->v));
	l->n = 0;
	l->cap = l->v != NULL ? cap : 0;
}

void
lat_add(struct lat *l, int64_t ns)
{
	if (l->n < l->cap)
		l->v[l->n++] = ns;
}

int
lat_write(const struct lat *l, const char *path)
{
	if (path == NULL || path[0] == '\0')
		return 0;
	return write_file(path, l->v, l->n * sizeof(*l->v), 0644);
}

/* Appends the latencies in path to l (growing it). */
void
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

void
lat_free(struct lat *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

struct pcts
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
int
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
void
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
