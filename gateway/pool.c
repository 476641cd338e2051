/* A pool of threads for CPU work off the event loop: per-item signatures. */
#define _GNU_SOURCE /* sched_getaffinity(), CPU_COUNT() */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "gateway/pool.h"

#define POOL_THREADS_MAX 64

/* A FIFO of works: submitted ones for the threads, finished ones for the loop. */
struct fifo {
	struct pool_work *head, *tail;
};

struct pool {
	pthread_mutex_t lock;
	pthread_cond_t wake; /* work queued, or stopping */
	struct fifo todo;
	struct fifo done;
	int stopping;
	size_t pending; /* loop thread only: submitted minus done() called */
	struct event *done_ev;
	pthread_t thread[POOL_THREADS_MAX];
	unsigned nthreads;
};

static void
fifo_push(struct fifo *f, struct pool_work *w)
{
	w->next = NULL;
	if (f->tail != NULL)
		f->tail->next = w;
	else
		f->head = w;
	f->tail = w;
}

static void *
pool_thread(void *arg)
{
	struct pool *p = arg;
	struct pool_work *w;
	int wake;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (p->todo.head == NULL && !p->stopping)
			pthread_cond_wait(&p->wake, &p->lock);
		w = p->todo.head;
		if (w == NULL)
			break; /* stopping, and nothing left to run */
		p->todo.head = w->next;
		if (p->todo.head == NULL)
			p->todo.tail = NULL;
		pthread_mutex_unlock(&p->lock);
		w->run(w);
		pthread_mutex_lock(&p->lock);
		/* Whoever makes the list non-empty wakes the loop, which then
		 * takes every finished work: one wake-up per batch. */
		wake = p->done.head == NULL && !p->stopping;
		fifo_push(&p->done, w);
		if (wake) {
			pthread_mutex_unlock(&p->lock);
			event_active(p->done_ev, EV_READ, 0);
			pthread_mutex_lock(&p->lock);
		}
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* Calls done() of every finished work, on the loop's thread. */
static void
pool_drain(struct pool *p)
{
	struct pool_work *w, *next;

	pthread_mutex_lock(&p->lock);
	w = p->done.head;
	p->done.head = p->done.tail = NULL;
	pthread_mutex_unlock(&p->lock);
	for (; w != NULL; w = next) {
		next = w->next; /* done() may free w */
		p->pending--;
		w->done(w);
	}
}

static void
pool_done_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	pool_drain(arg);
}

unsigned
pool_cpus(void)
{
	cpu_set_t set;
	int n;

	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return 1;
	n = CPU_COUNT(&set);
	return n < 1 ? 1 : n > POOL_THREADS_MAX ? POOL_THREADS_MAX : (unsigned)n;
}

int
pool_new(struct pool **out, struct event_base *base, unsigned nthreads, char *err, size_t errlen)
{
	struct pool *p;
	unsigned i;

	*out = NULL;
	if (nthreads < 1 || nthreads > POOL_THREADS_MAX) {
		snprintf(
		    err, errlen, "worker threads: %u is not in 1..%d", nthreads, POOL_THREADS_MAX);
		return -1;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->wake, NULL);
	p->done_ev = event_new(base, -1, 0, pool_done_cb, p);
	if (p->done_ev == NULL) {
		snprintf(err, errlen, "cannot set up an event");
		goto fail;
	}
	for (i = 0; i < nthreads; i++) {
		int e = pthread_create(&p->thread[i], NULL, pool_thread, p);

		if (e != 0) {
			snprintf(
			    err, errlen, "cannot start worker thread %u: %s", i + 1, strerror(e));
			goto fail;
		}
		p->nthreads++;
	}
	*out = p;
	return 0;
fail:
	pool_free(p);
	return -1;
}

void
pool_submit(struct pool *p, struct pool_work *w)
{
	p->pending++;
	pthread_mutex_lock(&p->lock);
	fifo_push(&p->todo, w);
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
}

unsigned
pool_threads(const struct pool *p)
{
	return p->nthreads;
}

size_t
pool_pending(const struct pool *p)
{
	return p->pending;
}

void
pool_free(struct pool *p)
{
	unsigned i;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = 1;
	pthread_cond_broadcast(&p->wake);
	pthread_mutex_unlock(&p->lock);
	for (i = 0; i < p->nthreads; i++)
		pthread_join(p->thread[i], NULL);
	pool_drain(p);
	if (p->done_ev != NULL)
		event_free(p->done_ev);
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->lock);
	free(p);
}
