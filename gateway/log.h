/* Logging for the daemon, OpenBSD style: one line per event to stderr (the journal). */
#ifndef GATEWAY_LOG_H
#define GATEWAY_LOG_H

#include <stdarg.h>

/* verbose: 0 info and above, 1 debug too. */
void log_init(int verbose, const char *progname);
void log_setverbose(int verbose);
int log_getverbose(void);

/* log_warn appends ": strerror(errno)"; the x variants do not. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Same, with a syslog level (3 err .. 7 debug), for callbacks from modules. */
void log_level(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Start-up failures and broken internal invariants only. */
void log_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void log_fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
