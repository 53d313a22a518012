/* Transaction table: striped locks and reference counts under two threads
 * (run under ThreadSanitizer too), allocation failures, memory per
 * transaction. */
#include "harness.h"

#include "base/mem.h"
#include "msg/msg.h"
#include "tsx/table.h"
#include "tsx/tsx_priv.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#define PER_THREAD 3000
#define WINDOW 8

static struct tsx_table *tb;
static atomic_int errors, found_other;

/* Timers are never armed by non-INVITE server transactions; send is unused. */
static void no_timer(void *ctx, struct tsx_timer *tm, uint32_t ms)
{
	(void)ctx;
	(void)tm;
	(void)ms;
	atomic_fetch_add(&errors, 1);
}

static void no_stop(void *ctx, struct tsx_timer *tm)
{
	(void)ctx;
	(void)tm;
}

static int no_send(void *ctx, struct tsx *t, const char *b, size_t n)
{
	(void)ctx;
	(void)t;
	(void)b;
	(void)n;
	return 0;
}

static const struct tsx_env env = {
	.timer_start = no_timer,
	.timer_stop = no_stop,
	.send = no_send,
};

static int make(struct sip_msg *m, char *buf, size_t cap, int thread, int i)
{
	int n = snprintf(buf, cap,
			 "OPTIONS sip:x@example.com SIP/2.0\r\n"
			 "Via: SIP/2.0/UDP h%d.example.com;branch=z9hG4bK-%d-%d\r\n"
			 "From: <sip:a@example.com>;tag=1\r\nTo: <sip:x@example.com>\r\n"
			 "Call-ID: c%d-%d\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
			 thread, thread, i, thread, i);

	return sip_msg_parse(m, buf, (size_t)n, SIP_PARSE_DATAGRAM);
}

static void *worker(void *arg)
{
	int id = (int)(intptr_t)arg, other = 1 - id;
	struct tsx *mine[PER_THREAD] = { 0 };
	struct sip_msg m;
	char buf[512];

	for (int i = 0; i < PER_THREAD; i++) {
		struct tsx *x;

		if (make(&m, buf, sizeof(buf), id, i) ||
		    tsx_server_create(&mine[i], &env, &m, false, NULL, NULL) ||
		    tsx_table_insert(tb, mine[i])) {
			atomic_fetch_add(&errors, 1);
			break;
		}
		x = tsx_table_match_request(tb, &m);
		if (x != mine[i])
			atomic_fetch_add(&errors, 1);
		tsx_unref(x);
		/* the other thread's transaction: present or not, never wrong;
		 * held across a yield while its owner may remove and drop it */
		for (int j = i; j >= 0 && j > i - 2 * WINDOW; j -= WINDOW / 2) {
			if (make(&m, buf, sizeof(buf), other, j))
				continue;
			x = tsx_table_match_request(tb, &m);
			if (!x)
				continue;
			atomic_fetch_add(&found_other, 1);
			sched_yield();
			if (!str_eq(tsx_key(x)->branch, m.via1.branch) ||
			    tsx_kind(x) != TSX_SERVER_NONINVITE)
				atomic_fetch_add(&errors, 1);
			tsx_unref(x);
		}
		if (i >= WINDOW) {
			if (tsx_table_remove(tb, mine[i - WINDOW]) != 0)
				atomic_fetch_add(&errors, 1);
			tsx_unref(mine[i - WINDOW]);
			mine[i - WINDOW] = NULL;
		}
	}
	for (int i = 0; i < PER_THREAD; i++) {
		if (!mine[i])
			continue;
		if (tsx_table_remove(tb, mine[i]) != 0)
			atomic_fetch_add(&errors, 1);
		tsx_unref(mine[i]);
	}
	return NULL;
}

static void test_two_threads(void **state)
{
	pthread_t th[2];

	(void)state;
	atomic_store(&errors, 0);
	atomic_store(&found_other, 0);
	assert_int_equal(tsx_table_create(&tb, 1024, 16), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(atomic_load(&errors), 0);
	assert_int_equal(tsx_table_count(tb), 0);
	fprintf(stderr, "found %d of the other thread's transactions\n", atomic_load(&found_other));
	tsx_table_destroy(tb);
}

static void test_refcount_outlives_remove(void **state)
{
	struct sip_msg m;
	struct tsx *t, *x;
	char buf[512];

	(void)state;
	assert_int_equal(tsx_table_create(&tb, 0, 0), 0);
	assert_int_equal(make(&m, buf, sizeof(buf), 0, 1), 0);
	assert_int_equal(tsx_server_create(&t, &env, &m, false, NULL, NULL), 0);
	assert_int_equal(tsx_table_insert(tb, t), 0);
	x = tsx_table_match_request(tb, &m);
	assert_ptr_equal(x, t);
	assert_int_equal(tsx_table_remove(tb, t), 0);
	tsx_unref(t);
	/* the found reference is the last one: still usable */
	assert_str(tsx_key(x)->branch, "z9hG4bK-0-1");
	assert_null(tsx_table_match_request(tb, &m));
	tsx_unref(x);
	assert_int_equal(tsx_table_count(tb), 0);
	tsx_table_destroy(tb);
}

static int alloc_run(void *ctx)
{
	struct sip_msg m;
	struct tsx *t;
	char buf[512];
	int rc;

	(void)ctx;
	rc = tsx_table_create(&tb, 16, 4);
	if (rc)
		return rc;
	assert_int_equal(make(&m, buf, sizeof(buf), 0, 1), 0);
	rc = tsx_server_create(&t, &env, &m, false, NULL, NULL);
	if (rc == 0) {
		assert_int_equal(tsx_table_insert(tb, t), 0);
		tsx_unref(t);
		assert_int_equal(tsx_table_count(tb), 1);
	}
	/* destroy drops the table's reference on what is left */
	tsx_table_destroy(tb);
	return rc;
}

static void test_alloc_failures(void **state)
{
	(void)state;
	/* the table, one bucket array per stripe (4), the transaction */
	assert_int_equal(harness_alloc_fail_loop(alloc_run, NULL), 6);
}

/* A table created with 16 buckets holds 20,000 transactions: its stripes
 * grow while they fill, and every transaction is still found afterwards
 * (each one at its own key, never another's), then removed. */
static void test_growth(void **state)
{
	enum { N = 20000 };
	static struct tsx *ts[N];
	struct sip_msg m;
	char buf[512];

	(void)state;
	assert_int_equal(tsx_table_create(&tb, 16, 4), 0);
	for (int i = 0; i < N; i++) {
		assert_int_equal(make(&m, buf, sizeof(buf), 7, i), 0);
		assert_int_equal(tsx_server_create(&ts[i], &env, &m, false, NULL, NULL), 0);
		assert_int_equal(tsx_table_insert(tb, ts[i]), 0);
	}
	assert_int_equal(tsx_table_count(tb), N);
	for (int i = 0; i < N; i++) {
		struct tsx *x;

		assert_int_equal(make(&m, buf, sizeof(buf), 7, i), 0);
		x = tsx_table_match_request(tb, &m);
		assert_ptr_equal(x, ts[i]);
		tsx_unref(x);
		/* a duplicate key is still refused after the rehash */
		assert_int_equal(tsx_table_insert(tb, ts[i]), -EBUSY);
	}
	for (int i = 0; i < N; i++) {
		assert_int_equal(tsx_table_remove(tb, ts[i]), 0);
		tsx_unref(ts[i]);
	}
	assert_int_equal(tsx_table_count(tb), 0);
	assert_null(tsx_table_match_request(tb, &m));
	tsx_table_destroy(tb);
}

static void quiet_timer(void *ctx, struct tsx_timer *tm, uint32_t ms)
{
	(void)ctx;
	(void)tm;
	(void)ms;
}

static const struct tsx_env quiet_env = {
	.timer_start = quiet_timer,
	.timer_stop = no_stop,
	.send = no_send,
};

static void test_memory_per_transaction(void **state)
{
	static const char ok[] = "SIP/2.0 200 OK\r\n"
				 "Via: SIP/2.0/UDP h0.example.com;branch=z9hG4bK-0-1\r\n"
				 "From: <sip:a@example.com>;tag=1\r\nTo: <sip:x@example.com>;tag=2\r\n"
				 "Call-ID: c0-1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
	struct sip_msg m, r;
	struct tsx *c, *sv;
	char buf[512];

	(void)state;
	assert_int_equal(make(&m, buf, sizeof(buf), 0, 1), 0);
	assert_int_equal(sip_msg_parse(&r, ok, sizeof(ok) - 1, SIP_PARSE_DATAGRAM), 0);
	assert_int_equal(tsx_client_create(&c, &quiet_env, &m, false, NULL), 0);
	assert_int_equal(tsx_server_create(&sv, &quiet_env, &m, false, NULL, NULL), 0);
	fprintf(stderr,
		"sizeof(struct tsx) = %zu; %zu-byte request: client block %zu (key %zu) + request "
		"%u, server block %zu (key %zu)\n",
		sizeof(struct tsx), m.len, sizeof(struct tsx) + tsx_key_size(tsx_key(c)),
		tsx_key_size(tsx_key(c)), c->msg_cap, sizeof(struct tsx) + tsx_key_size(tsx_key(sv)),
		tsx_key_size(tsx_key(sv)));
	/* the request copied whole into a block of its own, the key beside the
	 * transaction; a non-INVITE server transaction has no response yet */
	assert_int_equal(c->msg_cap, m.len);
	assert_int_equal(tsx_key_size(tsx_key(c)), strlen("z9hG4bK-0-1OPTIONS"));
	assert_null(sv->msg);
	/* the figure quoted in table.h; keep it honest */
	assert_true(sizeof(struct tsx) <= 416);

	/* the response a server transaction must resend is kept, at its size */
	assert_int_equal(tsx_server_respond(sv, 200, ok, sizeof(ok) - 1), 0);
	assert_int_equal(tsx_state(sv), TSX_COMPLETED);
	assert_int_equal(sv->msg_cap, sizeof(ok) - 1);
	assert_memory_equal(sv->msg, ok, sizeof(ok) - 1);

	/* Completed (Timer K) resends nothing: the request is dropped */
	assert_int_equal(tsx_client_start(c), 0);
	assert_int_equal(tsx_client_request(c).len, m.len);
	tsx_client_response(c, &r);
	assert_int_equal(tsx_state(c), TSX_COMPLETED);
	assert_null(c->msg);
	assert_int_equal(tsx_client_request(c).len, 0);
	tsx_terminate(c);
	tsx_terminate(sv);
	tsx_unref(c);
	tsx_unref(sv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		SIPHON_TEST(test_two_threads),
		SIPHON_TEST(test_refcount_outlives_remove),
		SIPHON_TEST(test_alloc_failures),
		SIPHON_TEST(test_growth),
		SIPHON_TEST(test_memory_per_transaction),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
