/* Per-source token buckets: the burst, the refill rate, sources kept apart,
 * IPv4 and its IPv4-mapped IPv6 spelling counted as one, threads. */
#include "harness.h"

#include "transport/ratelim.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

static struct tp_addr addr(const char *ip)
{
	struct tp_addr a;

	assert_int_equal(tp_addr_from_numeric(&a, str_cstr(ip), 5060), 0);
	return a;
}

static void test_bucket(void **state)
{
	struct tp_ratelim *r;
	struct tp_addr a = addr("192.0.2.1"), b = addr("192.0.2.2"), m = addr("::ffff:192.0.2.1");
	int ok = 0;

	(void)state;
	assert_int_equal(tp_ratelim_create(&r, 0, 0, 0), -EINVAL);
	assert_int_equal(tp_ratelim_create(&r, 10, 20, 0), 0);
	/* a burst of 20, then nothing until tokens come back */
	for (int i = 0; i < 30; i++)
		ok += tp_ratelim_allow(r, &a, 1000);
	assert_int_equal(ok, 20);
	/* the same address spelled IPv4-mapped shares the bucket */
	assert_false(tp_ratelim_allow(r, &m, 1000));
	/* another source has its own */
	assert_true(tp_ratelim_allow(r, &b, 1000));
	/* 10 a second: after 500 ms, 5 more */
	ok = 0;
	for (int i = 0; i < 10; i++)
		ok += tp_ratelim_allow(r, &a, 1500);
	assert_int_equal(ok, 5);
	/* never more than the burst after a long pause */
	ok = 0;
	for (int i = 0; i < 100; i++)
		ok += tp_ratelim_allow(r, &a, 100000);
	assert_int_equal(ok, 20);
	tp_ratelim_destroy(r);
	tp_ratelim_destroy(NULL);
}

struct th {
	struct tp_ratelim *r;
	int ok;
};

static void *hammer(void *arg)
{
	struct th *t = arg;
	struct tp_addr a = addr("198.51.100.7");

	for (int i = 0; i < 10000; i++)
		t->ok += tp_ratelim_allow(t->r, &a, 5000);
	return NULL;
}

/* Four threads at the same instant share one bucket: exactly the burst. */
static void test_threads(void **state)
{
	struct th t[4];
	pthread_t id[4];
	struct tp_ratelim *r;
	int total = 0;

	(void)state;
	assert_int_equal(tp_ratelim_create(&r, 100, 100, 1024), 0);
	for (int i = 0; i < 4; i++) {
		t[i] = (struct th){ .r = r };
		assert_int_equal(pthread_create(&id[i], NULL, hammer, &t[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(id[i], NULL);
		total += t[i].ok;
	}
	assert_int_equal(total, 100);
	tp_ratelim_destroy(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		SIPHON_TEST(test_bucket),
		SIPHON_TEST(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
