/* Test brokers: a real mosquitto on a free loopback port, and its command-line clients. */
#ifndef TESTS_BROKER_H
#define TESTS_BROKER_H

#include <stddef.h>
#include <sys/types.h>

#define BROKER_MOSQUITTO "/usr/sbin/mosquitto"

struct broker {
	/* Optional, set before broker_start(): lines added to the listener's
	 * section of mosquitto.conf (TLS files, ACLs). Borrowed. */
	const char *extra_conf;
	/* Filled in by broker_start(); port may be preset to reuse one. */
	int port;
	char uri[64];  /* "tcp://127.0.0.1:PORT" */
	char dir[128]; /* private directory: mosquitto.conf, mosquitto.log */
	pid_t pid;
};

/*
 * Writes the config into a new private directory and starts mosquitto
 * listening on 127.0.0.1 only (a free port unless b->port is set), with
 * anonymous access and no persistence. Returns once the port accepts
 * connections (at most a few seconds), 0 or -1 with a message on stderr.
 * The broker dies with the test process (PR_SET_PDEATHSIG).
 */
int broker_start(struct broker *b);
/* Stops the broker (SIGTERM, then SIGKILL) and removes its directory.
 * Safe on a stopped or never-started broker. */
void broker_stop(struct broker *b);
/* Stops the process and starts a new one on the same port and config: every
 * client is disconnected, and retained messages and sessions are gone. */
int broker_restart(struct broker *b);
/* Kills the broker with SIGKILL and leaves it down (for "broker is gone"
 * cases); broker_restart() brings it back on the same port. */
void broker_kill(struct broker *b);

/*
 * Runs argv[0] (a path) with in as its standard input and its standard
 * output collected into out (NUL-terminated, at most outcap - 1 bytes; the
 * length goes to *outlen if not NULL). Every other descriptor is closed in
 * the child. Kills it after timeout_ms. Returns its exit status, or -1 on a
 * timeout, a signal or an error.
 */
int broker_run(const char *const *argv, const void *in, size_t inlen, char *out, size_t outcap,
    size_t *outlen, int timeout_ms);

/* mosquitto_pub: one message with this exact payload (binary, may be empty).
 * Returns 0 once the broker has it (at QoS 1 and 2: acknowledged). */
int broker_pub(const struct broker *b, const char *topic, const void *payload, size_t len, int qos,
    int retain);
/* mosquitto_pub -l: one message per line of lines, in order. */
int broker_pub_lines(const struct broker *b, const char *topic, const char *lines, int qos);
/* mosquitto_sub -C 1: the first message on topic (a retained one counts)
 * into out, NUL-terminated; waits at most timeout_ms (rounded up to whole
 * seconds). Returns the payload length, or -1 if none came. */
int broker_sub1(
    const struct broker *b, const char *topic, char *out, size_t outcap, int timeout_ms);

#endif
