/* Group commit (gateway/records.c) and the voucher backend on a real event loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "gateway/payment.h"
#include "gateway/records.h"
#include "tests/common/conv.h"
#include "tests/common/ledger_fixture.h"

struct fixture {
	char dir[64];
	struct conv c; /* for its seller identity */
	struct event_base *base;
	struct ledger *l;
	struct records *rc;
};

struct done {
	int calls, ok;
	uint64_t record;
	int during; /* set while the caller is still inside the call that asked */
	int nested; /* a completion that ran inside that call */
	int commits;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	conv_setup(&f->c, 4, 1, 3);
	f->l = test_ledger_open(f->dir, sizeof(f->dir), "records", f->c.sid);
	f->base = event_base_new();
	assert_non_null(f->base);
	f->rc = records_new(f->base, f->l, 0);
	assert_non_null(f->rc);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	int rc;

	records_free(f->rc);
	rc = test_ledger_remove(f->l, f->dir);
	event_base_free(f->base);
	conv_teardown(&f->c);
	free(f);
	return rc;
}

static void
on_done(void *arg, int ok, uint64_t record)
{
	struct done *d = arg;

	d->calls++;
	d->ok = ok;
	d->record = record;
	if (d->during)
		d->nested++;
}

static void
on_commit(void *arg)
{
	((struct done *)arg)->commits++;
}

static void
session_record(struct ledger_record *r, int64_t now)
{
	uint8_t oid[SDPP_ORDER_ID_BYTES] = { 1 }, buyer[SDPP_SIGN_PUBLIC_BYTES] = { 2 };

	assert_int_equal(ledger_record_session(r, oid, buyer, now), 0);
}

/* Records appended in one loop turn share one commit; each waiter is
 * completed after it, with its own record id, never inside the append. */
static void
test_group_commit(void **state)
{
	struct fixture *f = *state;
	struct ledger_record r;
	struct done a, b, commits;
	int i;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(&commits, 0, sizeof(commits));
	records_on_commit(f->rc, on_commit, &commits);
	a.during = b.during = 1;
	session_record(&r, 1);
	assert_int_equal(records_append(f->rc, &r, on_done, &a), 0);
	session_record(&r, 2);
	assert_int_equal(records_append(f->rc, &r, NULL, NULL), 0); /* nobody waits */
	session_record(&r, 3);
	assert_int_equal(records_append(f->rc, &r, on_done, &b), 0);
	a.during = b.during = 0;
	assert_int_equal(a.calls + b.calls, 0);
	assert_false(records_idle(f->rc));
	event_base_loop(f->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	assert_true(a.calls == 1 && a.ok == 1 && a.record == 1);
	assert_true(b.calls == 1 && b.ok == 1 && b.record == 3);
	assert_int_equal(a.nested + b.nested, 0);
	assert_int_equal(commits.commits, 1);
	assert_true(records_idle(f->rc));
	assert_true(ledger_size(f->l) == 3);
	/* A quiet turn commits nothing. */
	for (i = 0; i < 3; i++)
		event_base_loop(f->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	assert_int_equal(commits.commits, 1);
	{
		struct records_stats st;

		records_get_stats(f->rc, &st);
		assert_true(st.commits == 1 && st.records == 3 && st.failures == 0);
	}
}

/* With a commit delay, records of later turns join the same commit. */
static void
test_commit_delay(void **state)
{
	struct fixture *f = *state;
	struct ledger_record r;
	struct done a, b;
	struct records_stats st;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	records_set_delay(f->rc, 50);
	session_record(&r, 1);
	assert_int_equal(records_append(f->rc, &r, on_done, &a), 0);
	event_base_loop(f->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	assert_int_equal(a.calls, 0);
	session_record(&r, 2);
	assert_int_equal(records_append(f->rc, &r, on_done, &b), 0);
	while (a.calls == 0 || b.calls == 0)
		event_base_loop(f->base, EVLOOP_ONCE);
	records_get_stats(f->rc, &st);
	assert_true(st.commits == 1 && st.records == 2);
	/* At shutdown, what is pending is committed at once. */
	memset(&a, 0, sizeof(a));
	session_record(&r, 3);
	assert_int_equal(records_append(f->rc, &r, on_done, &a), 0);
	records_commit_now(f->rc);
	assert_true(a.calls == 1 && a.ok == 1 && a.record == 3);
}

static void
voucher_done(void *arg, int ok, const char *ref)
{
	struct done *d = arg;

	d->calls++;
	d->ok = ok;
	assert_string_equal(ref, "voucher");
	if (d->during)
		d->nested++;
}

/* A voucher is confirmed, but on a later loop turn: the session never
 * sees a completion inside the call that asked for it. */
static void
test_voucher_later(void **state)
{
	struct fixture *f = *state;
	struct payment_backend b;
	struct payment_check pc;
	struct done d;

	memset(&pc, 0, sizeof(pc));
	memset(&d, 0, sizeof(d));
	payment_voucher_init(&b, f->base);
	assert_string_equal(b.name, "voucher");
	d.during = 1;
	assert_int_equal(b.confirm(b.ctx, &pc, voucher_done, &d), 0);
	d.during = 0;
	assert_int_equal(d.calls, 0);
	event_base_loop(f->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	assert_true(d.calls == 1 && d.ok == 1 && d.nested == 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_group_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_delay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_voucher_later, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
