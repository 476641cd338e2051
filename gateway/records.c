/* Group commit: one transaction and one fsync per loop turn; callbacks complete the requests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/log.h"
#include "gateway/records.h"
#include "util/clock.h"

struct waiter {
	records_done_fn done;
	void *arg;
	uint64_t record;
};

struct records {
	struct ledger *ledger;
	struct event *commit_ev;
	struct event *tick_ev; /* checkpoints come due when nothing else commits */
	uint64_t delay_ms;
	int scheduled;
	struct waiter *waiters;
	size_t nwaiters, alloc;
	void (*on_commit)(void *arg);
	void *on_commit_arg;
	struct records_stats stats;
	/* The last failure logged, when, and how many like it were not. */
	char warned[LEDGER_ERR_MAX];
	int64_t warned_ms;
	uint64_t unlogged;
};

/* A ledger that cannot be written (a full disk) fails every commit, and
 * due checkpoints retry once a second: the same error is logged once a
 * minute, with how many were not (sdpp_ledger_failures_total counts all). */
#define WARN_EVERY_MS 60000

static void commit_cb(evutil_socket_t fd, short what, void *arg);
static void tick_cb(evutil_socket_t fd, short what, void *arg);
static void schedule(struct records *rc);

struct records *
records_new(struct event_base *base, struct ledger *l, uint64_t delay_ms)
{
	struct records *rc = calloc(1, sizeof(*rc));
	struct timeval second = { 1, 0 };

	if (rc == NULL)
		return NULL;
	rc->ledger = l;
	rc->delay_ms = delay_ms;

	rc->commit_ev = event_new(base, -1, 0, commit_cb, rc);
	rc->tick_ev = event_new(base, -1, EV_PERSIST, tick_cb, rc);
	if (rc->commit_ev == NULL || rc->tick_ev == NULL ||
	    evtimer_add(rc->tick_ev, &second) != 0) {
		records_free(rc);
		return NULL;
	}
	return rc;
}

void
records_free(struct records *rc)
{
	if (rc == NULL)
		return;
	if (rc->commit_ev != NULL)
		event_free(rc->commit_ev);
	if (rc->tick_ev != NULL)
		event_free(rc->tick_ev);
	free(rc->waiters);
	free(rc);
}

void
records_set_delay(struct records *rc, uint64_t delay_ms)
{
	rc->delay_ms = delay_ms;
}

void
records_on_commit(struct records *rc, void (*fn)(void *arg), void *arg)
{
	rc->on_commit = fn;
	rc->on_commit_arg = arg;
}

static void
schedule(struct records *rc)
{
	struct timeval tv;

	if (rc->scheduled)
		return;
	rc->scheduled = 1;
	/* Everything appended during this loop turn (and the optional delay)
	 * shares one transaction and one fsync. */
	if (rc->delay_ms == 0) {
		event_active(rc->commit_ev, EV_TIMEOUT, 0);
		return;
	}
	tv.tv_sec = (time_t)(rc->delay_ms / 1000);
	tv.tv_usec = (suseconds_t)(rc->delay_ms % 1000) * 1000;
	evtimer_add(rc->commit_ev, &tv);
}

int
records_append(struct records *rc, struct ledger_record *r, records_done_fn done, void *arg)
{
	char err[LEDGER_ERR_MAX];
	uint64_t id;

	if (ledger_append(rc->ledger, r, &id, err, sizeof(err)) != 0) {
		log_warnx("event=record kind=%s error=\"%s\"", ledger_kind_name(r->kind), err);
		ledger_record_clear(r);
		return -1;
	}
	ledger_record_clear(r);
	if (done != NULL) {
		if (rc->nwaiters == rc->alloc) {
			size_t want = rc->alloc == 0 ? 64 : rc->alloc * 2;
			struct waiter *nw = realloc(rc->waiters, want * sizeof(*nw));

			if (nw == NULL)
				log_fatalx("out of memory");
			rc->waiters = nw;
			rc->alloc = want;
		}
		rc->waiters[rc->nwaiters++] = (struct waiter){ done, arg, id };
	}
	schedule(rc);
	return 0;
}

static void
warn(struct records *rc, const char *event, size_t n, const char *err)
{
	int64_t now = util_now_ms();

	if (strcmp(err, rc->warned) == 0 && now - rc->warned_ms < WARN_EVERY_MS) {
		rc->unlogged++;
		return;
	}
	log_warnx("event=%s records=%zu error=\"%s\" unlogged=%llu", event, n, err,
	    (unsigned long long)rc->unlogged);
	snprintf(rc->warned, sizeof(rc->warned), "%s", err);
	rc->warned_ms = now;
	rc->unlogged = 0;
}

static void
commit_cb(evutil_socket_t fd, short what, void *arg)
{
	struct records *rc = arg;
	struct waiter *w;
	char err[LEDGER_ERR_MAX];
	uint64_t size;
	size_t n, i;
	int ok;

	(void)fd;
	(void)what;
	rc->scheduled = 0;
	if (ledger_pending(rc->ledger) == 0 && rc->nwaiters == 0)
		return;
	/* Records the log gained (held ones join it at checkpoints). */
	size = ledger_size(rc->ledger);
	n = ledger_pending(rc->ledger);
	ok = ledger_commit(rc->ledger, util_now_ms(), err, sizeof(err)) == 0;
	rc->stats.failing = !ok;
	if (ok) {
		rc->stats.commits++;
		rc->stats.records += ledger_size(rc->ledger) - size;
		if (rc->on_commit != NULL)
			rc->on_commit(rc->on_commit_arg);
	} else {
		rc->stats.failures++;
		warn(rc, "ledger_commit", n, err);
	}
	/* Completing a request can append new records (and waiters): take
	 * this batch's waiters out first; new ones wait for the next commit. */
	w = rc->waiters;
	n = rc->nwaiters;
	rc->waiters = NULL;
	rc->nwaiters = rc->alloc = 0;
	for (i = 0; i < n; i++)
		w[i].done(w[i].arg, ok, w[i].record);
	free(w);
}

/* Once a second: held records whose checkpoint is due join the log even
 * when no session appends anything (ledger.h, checkpoint_ms). */
static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct records *rc = arg;
	char err[LEDGER_ERR_MAX];
	int n;

	(void)fd;
	(void)what;
	n = ledger_checkpoint(rc->ledger, util_now_ms(), err, sizeof(err));
	if (n < 0)
		warn(rc, "ledger_checkpoint", 0, err);
	else if (n > 0)
		schedule(rc);
}

void
records_commit_now(struct records *rc)
{
	event_del(rc->commit_ev);
	commit_cb(-1, 0, rc);
}

int
records_idle(const struct records *rc)
{
	return ledger_pending(rc->ledger) == 0 && rc->nwaiters == 0;
}

void
records_get_stats(const struct records *rc, struct records_stats *out)
{
	*out = rc->stats;
}
