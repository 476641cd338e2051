/* Brokers for tests and the bench: mosquitto on a free loopback port, free ports, MQTT clients. */
#ifndef TESTS_BROKER_H
#define TESTS_BROKER_H

#include <stddef.h>
#include <sys/types.h>

#define BROKER_MOSQUITTO "/usr/sbin/mosquitto"
#define BROKER_DIR_MAX 256  /* with its NUL */
#define BROKER_PORTS_MAX 64 /* broker_free_ports() in one call */

struct broker {
	/* Optional, set before broker_start(): lines added to the listener's
	 * section of mosquitto.conf (TLS files, ACLs, global options such as
	 * log_type). Borrowed. */
	const char *extra_conf;
	/* Optional: max_queued_messages; 0 is 100000, far above what a test
	 * queues (mosquitto's own 1000 drops messages to a lagging subscriber). */
	long max_queued;
	/* Optional: an existing directory of the caller's for mosquitto.conf and
	 * mosquitto.log, which broker_stop() then leaves in place (the bench
	 * keeps its logs). NULL: a private directory, removed by broker_stop().
	 * Borrowed; shorter than BROKER_DIR_MAX. */
	const char *workdir;
	/* Filled in by broker_start(); port may be preset to reuse one. */
	int port;
	char uri[64];             /* "tcp://127.0.0.1:PORT" */
	char dir[BROKER_DIR_MAX]; /* the directory in use: mosquitto.conf, mosquitto.log */
	pid_t pid;
};

/*
 * Finds n (at most BROKER_PORTS_MAX) distinct free TCP ports on 127.0.0.1
 * into ports: the kernel picks each (bind to port 0), and every socket is
 * held until all are known, so no port comes twice. They are closed on
 * return, for the caller to bind a moment later; another process could
 * take one in between, but the kernel hands out ephemeral ports
 * round-robin, so that takes a lot of bad luck. Returns 0, or -1 with
 * errno set (EINVAL: n too large).
 */
int broker_free_ports(int *ports, size_t n);
/* 1 if something accepts TCP connections on 127.0.0.1:port (a server is up). */
int broker_port_accepts(int port);
/*
 * For a child right after fork(), before exec: it dies with its parent
 * (PR_SET_PDEATHSIG; if parent > 0 and the parent is already gone, it
 * exits 127), takes in, out and err as its 0, 1 and 2 (-1 keeps one) and
 * closes every other descriptor. Only async-signal-safe calls.
 */
void broker_child_setup(int in, int out, int err, pid_t parent);

/*
 * Writes the config into b->workdir or a new private directory and starts
 * mosquitto listening on 127.0.0.1 only (a free port unless b->port is
 * set), with anonymous access and no persistence. Returns once the port accepts
 * connections (at most a few seconds), 0 or -1 with a message on stderr.
 * The broker dies with the test process (PR_SET_PDEATHSIG).
 */
int broker_start(struct broker *b);
/* Stops the broker (SIGTERM, then SIGKILL) and removes its private
 * directory (never b->workdir). Safe on a stopped or never-started broker. */
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
