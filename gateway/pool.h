/* A pool of threads for CPU work off the event loop: per-item signatures. */
#ifndef GATEWAY_POOL_H
#define GATEWAY_POOL_H

#include <stddef.h>

#include <event2/event.h>

/*
 * A unit of work, embedded in its owner's struct. run() is called on a pool
 * thread and may touch only what the owner gave the work alone (no loop
 * state); done() is called back on the loop thread, once run() is over, in
 * the order works finish (not the order they were submitted: an owner that
 * needs order keeps it, as server.c does for a buyer's frames).
 */
struct pool_work {
	struct pool_work *next; /* the pool's */
	void (*run)(struct pool_work *w);
	void (*done)(struct pool_work *w);
};

struct pool;

/* nthreads >= 1 threads on base, which evthread_use_pthreads() made
 * thread-aware (the threads wake the loop with event_active()). */
int pool_new(
    struct pool **out, struct event_base *base, unsigned nthreads, char *err, size_t errlen);
/* The CPUs this process may run on (its affinity), at most the pool's
 * cap: worker_threads = auto. */
unsigned pool_cpus(void);
/* Queues w; it runs as soon as a thread is free. */
void pool_submit(struct pool *p, struct pool_work *w);
/* Threads running. */
unsigned pool_threads(const struct pool *p);
/* Works submitted whose done() has not been called yet. */
size_t pool_pending(const struct pool *p);
/* Runs what is queued, stops the threads, then calls every done() left,
 * on the caller's thread, so each owner gets its memory back. */
void pool_free(struct pool *p);

#endif
