/* Logging for the daemon, OpenBSD style: one line per event to stderr (the journal). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/log.h"

#define LOG_LINE_MAX 1024

/* Process-wide by nature, like the log it writes: set once at start-up. */
static int verbose;
static int journal; /* stderr is the journal: prefix lines with <N> levels */
static const char *prog = "sdpp-gateway";

void
log_init(int v, const char *progname)
{
	verbose = v;
	if (progname != NULL)
		prog = progname;
	/* systemd sets JOURNAL_STREAM when stderr is connected to the journal;
	 * "<4>" prefixes then become priorities instead of text. */
	journal = getenv("JOURNAL_STREAM") != NULL;
}

void
log_setverbose(int v)
{
	verbose = v;
}

int
log_getverbose(void)
{
	return verbose;
}

static void
vlog(int level, const char *fmt, va_list ap, const char *suffix)
{
	static const char *const names[8] = {
		"emerg",
		"alert",
		"crit",
		"error",
		"warning",
		"notice",
		"info",
		"debug",
	};
	char line[LOG_LINE_MAX], when[40] = "", zone[8] = "";
	struct timespec ts;
	struct tm tm;

	if (level >= 7 && !verbose)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	/* One write per line so concurrent threads (Paho) never interleave. */
	if (journal) {
		/* The journal stamps each line itself. */
		fprintf(stderr, "<%d>%s%s%s\n", level, line, suffix != NULL ? ": " : "",
		    suffix != NULL ? suffix : "");
		return;
	}
	/* In the foreground, local time with its offset, to the millisecond:
	 * 2026-12-07T16:25:42.123+0100. */
	if (clock_gettime(CLOCK_REALTIME, &ts) == 0 && localtime_r(&ts.tv_sec, &tm) != NULL &&
	    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm) > 0 &&
	    strftime(zone, sizeof(zone), "%z", &tm) > 0)
		snprintf(when + strlen(when), sizeof(when) - strlen(when), ".%03ld%s ",
		    ts.tv_nsec / 1000000L, zone);
	fprintf(stderr, "%s%s: %s: %s%s%s\n", when, prog, names[level & 7], line,
	    suffix != NULL ? ": " : "", suffix != NULL ? suffix : "");
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	vlog(4, fmt, ap, strerror(saved));
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(4, fmt, ap, NULL);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(6, fmt, ap, NULL);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(7, fmt, ap, NULL);
	va_end(ap);
}

void
log_level(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level < 0 ? 3 : level > 7 ? 7 : level, fmt, ap, NULL);
	va_end(ap);
}

void
log_fatal(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	vlog(2, fmt, ap, strerror(saved));
	va_end(ap);
	exit(1);
}

void
log_fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(2, fmt, ap, NULL);
	va_end(ap);
	exit(1);
}
