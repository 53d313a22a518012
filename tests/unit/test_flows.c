/* The flow table shared by the workers (transport/flows.h): a connection
 * per (transport, address, port), IPv4 and its mapped IPv6 spelling as one
 * address, the newest connection from a source winning, a close removing
 * only its own entry, two threads at once, and allocation failures. */
#include "harness.h"

#include "base/mem.h"
#include "transport/flows.h"

#include <errno.h>
#include <pthread.h>

static struct tp_addr addr(const char *host, uint16_t port)
{
	struct tp_addr a;

	assert_int_equal(tp_addr_from_numeric(&a, str_cstr(host), port), 0);
	return a;
}

static void test_add_find_del(void **state)
{
	struct tp_flows *f;
	struct tp_addr a = addr("192.0.2.7", 40001), b = addr("192.0.2.7", 40002);
	struct tp_addr mapped = addr("::ffff:192.0.2.7", 40001), v6 = addr("2001:db8::7", 40001);

	(void)state;
	assert_int_equal(tp_flows_create(&f, 0), 0);
	assert_int_equal(tp_flows_find(f, TP_TCP, &a), 0);
	assert_int_equal(tp_flows_count(f), 0);
	assert_int_equal(tp_flows_add(f, TP_TCP, &a, 11), 0);
	assert_int_equal(tp_flows_add(f, TP_TLS, &a, 12), 0);
	assert_int_equal(tp_flows_add(f, TP_TCP, &v6, 13), 0);
	assert_int_equal(tp_flows_count(f), 3);
	/* the port, the transport and the address tell flows apart */
	assert_int_equal(tp_flows_find(f, TP_TCP, &a), 11);
	assert_int_equal(tp_flows_find(f, TP_TLS, &a), 12);
	assert_int_equal(tp_flows_find(f, TP_TCP, &b), 0);
	assert_int_equal(tp_flows_find(f, TP_TCP, &v6), 13);
	/* an IPv4 source and its IPv4-mapped spelling are one */
	assert_int_equal(tp_flows_find(f, TP_TCP, &mapped), 11);
	/* a newer connection from the same source takes over; the close of
	 * the older one then leaves it alone */
	assert_int_equal(tp_flows_add(f, TP_TCP, &a, 21), 0);
	assert_int_equal(tp_flows_find(f, TP_TCP, &a), 21);
	assert_int_equal(tp_flows_count(f), 3); /* replaced, not added */
	tp_flows_del(f, TP_TCP, &a, 11);
	assert_int_equal(tp_flows_find(f, TP_TCP, &a), 21);
	assert_int_equal(tp_flows_count(f), 3);
	tp_flows_del(f, TP_TCP, &a, 21);
	assert_int_equal(tp_flows_count(f), 2);
	assert_int_equal(tp_flows_find(f, TP_TCP, &a), 0);
	assert_int_equal(tp_flows_find(f, TP_TLS, &a), 12);
	tp_flows_del(f, TP_TCP, &b, 99); /* nothing there: harmless */
	/* entries still in at the end are freed with the table (leak check) */
	tp_flows_destroy(f);
	tp_flows_destroy(NULL);
}

static void test_many(void **state)
{
	struct tp_flows *f;

	(void)state;
	assert_int_equal(tp_flows_create(&f, 64), 0);
	for (unsigned i = 0; i < 5000; i++) {
		struct tp_addr a = addr(i % 2 ? "198.51.100.1" : "2001:db8::1", (uint16_t)(1024 + i));

		assert_int_equal(tp_flows_add(f, TP_TCP, &a, 1000 + i), 0);
	}
	for (unsigned i = 0; i < 5000; i++) {
		struct tp_addr a = addr(i % 2 ? "198.51.100.1" : "2001:db8::1", (uint16_t)(1024 + i));

		assert_int_equal(tp_flows_find(f, TP_TCP, &a), 1000 + i);
		if (i % 3 == 0)
			tp_flows_del(f, TP_TCP, &a, 1000 + i);
	}
	for (unsigned i = 0; i < 5000; i++) {
		struct tp_addr a = addr(i % 2 ? "198.51.100.1" : "2001:db8::1", (uint16_t)(1024 + i));

		assert_int_equal(tp_flows_find(f, TP_TCP, &a), i % 3 == 0 ? 0 : 1000 + i);
	}
	tp_flows_destroy(f);
}

struct racer {
	struct tp_flows *f;
	unsigned base;
	unsigned wrong;
};

/* Each thread adds, finds and removes its own sources, in the same
 * buckets as the other's: no entry of one is lost or seen by the other. */
static void *race(void *arg)
{
	struct racer *r = arg;

	for (unsigned round = 0; round < 20; round++) {
		for (unsigned i = 0; i < 200; i++) {
			struct tp_addr a = addr("203.0.113.9", (uint16_t)(r->base + i));

			if (tp_flows_add(r->f, TP_TCP, &a, r->base * 1000 + i) != 0)
				r->wrong++;
		}
		for (unsigned i = 0; i < 200; i++) {
			struct tp_addr a = addr("203.0.113.9", (uint16_t)(r->base + i));

			if (tp_flows_find(r->f, TP_TCP, &a) != r->base * 1000 + i)
				r->wrong++;
			tp_flows_del(r->f, TP_TCP, &a, r->base * 1000 + i);
		}
	}
	return NULL;
}

static void test_threads(void **state)
{
	struct tp_flows *f;
	struct racer r[2];
	pthread_t th[2];

	(void)state;
	assert_int_equal(tp_flows_create(&f, 0), 0);
	for (int i = 0; i < 2; i++) {
		r[i] = (struct racer){ .f = f, .base = 10000u + 1000u * (unsigned)i };
		assert_int_equal(pthread_create(&th[i], NULL, race, &r[i]), 0);
	}
	for (int i = 0; i < 2; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(r[i].wrong, 0);
	}
	assert_int_equal(tp_flows_count(f), 0); /* every add was removed */
	tp_flows_destroy(f);
}

static int flows_alloc(void *ctx)
{
	struct tp_flows *f;
	struct tp_addr a = addr("192.0.2.1", 5060);
	int err;

	(void)ctx;
	err = tp_flows_create(&f, 0);
	if (err < 0)
		return err;
	err = tp_flows_add(f, TP_TLS, &a, 7);
	if (err == 0 && tp_flows_find(f, TP_TLS, &a) != 7)
		err = -EINVAL;
	tp_flows_destroy(f);
	return err;
}

static void test_alloc_failures(void **state)
{
	(void)state;
	assert_int_equal(harness_alloc_fail_loop(flows_alloc, NULL), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		SIPHON_TEST(test_add_find_del),
		SIPHON_TEST(test_many),
		SIPHON_TEST(test_threads),
		SIPHON_TEST(test_alloc_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
