/* Egress policy: allow/deny CIDR lists, deny precedence, broadcast and
 * multicast refused unless explicitly allowed, IPv4-mapped IPv6. */
#include "harness.h"

#include "base/mem.h"
#include "transport/egress.h"

#include <errno.h>

static bool permits(const struct tp_egress *e, const char *ip)
{
	struct tp_addr a;

	assert_int_equal(tp_addr_from_numeric(&a, str_cstr(ip), 5060), 0);
	return tp_egress_permits(e, &a);
}

static void test_empty_denies_all(void **state)
{
	struct tp_egress *e;

	(void)state;
	assert_int_equal(tp_egress_create(&e), 0);
	assert_false(permits(e, "127.0.0.1"));
	assert_false(permits(e, "::1"));
	tp_egress_destroy(e);
}

static void test_loopback_only(void **state)
{
	struct tp_egress *e;

	(void)state;
	assert_int_equal(tp_egress_create(&e), 0);
	assert_int_equal(tp_egress_add(e, true, "127.0.0.0/8"), 0);
	assert_int_equal(tp_egress_add(e, true, "::1/128"), 0);
	assert_true(permits(e, "127.0.0.1"));
	assert_true(permits(e, "127.255.0.9"));
	assert_true(permits(e, "::1"));
	assert_true(permits(e, "::ffff:127.0.0.1")); /* judged as IPv4 */
	assert_false(permits(e, "128.0.0.1"));
	assert_false(permits(e, "192.0.2.1"));
	assert_false(permits(e, "10.0.0.1"));
	assert_false(permits(e, "::2"));
	assert_false(permits(e, "2001:db8::1"));
	tp_egress_destroy(e);
}

static void test_deny_wins(void **state)
{
	struct tp_egress *e;

	(void)state;
	assert_int_equal(tp_egress_create(&e), 0);
	assert_int_equal(tp_egress_set_default(e), 0);
	assert_int_equal(tp_egress_add(e, false, "10.0.0.0/8"), 0);
	assert_int_equal(tp_egress_add(e, false, "2001:db8::/32"), 0);
	assert_int_equal(tp_egress_add(e, true, "10.1.0.0/16"), 0); /* later allow does not override */
	assert_true(permits(e, "192.0.2.1"));
	assert_false(permits(e, "10.1.2.3"));
	assert_false(permits(e, "2001:db8:1::1"));
	assert_true(permits(e, "2001:db9::1"));
	tp_egress_destroy(e);
}

static void test_broadcast_multicast(void **state)
{
	struct tp_egress *e;

	(void)state;
	assert_int_equal(tp_egress_create(&e), 0);
	assert_int_equal(tp_egress_set_default(e), 0);
	/* RFC 4475 §3.3.10: never forward to a broadcast Via */
	assert_false(permits(e, "255.255.255.255"));
	assert_false(permits(e, "224.0.0.1"));
	assert_false(permits(e, "239.255.255.250"));
	assert_false(permits(e, "ff02::1"));
	assert_true(permits(e, "223.255.255.255"));
	/* only an allow inside the range opens it */
	assert_int_equal(tp_egress_add(e, true, "239.1.0.0/16"), 0);
	assert_true(permits(e, "239.1.2.3"));
	assert_false(permits(e, "239.2.2.3"));
	tp_egress_destroy(e);
}

static void test_bad_networks(void **state)
{
	static const char *const bad[] = { "", "/8", "127.0.0.1/", "127.0.0.1/33", "::1/129",
					   "127.0.0.1/-1", "127.0.0.1/+8", "127.0.0.1/8x",
					   "example.com", "1.2.3", "[::1]/128" };
	struct tp_egress *e;

	(void)state;
	assert_int_equal(tp_egress_create(&e), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (tp_egress_add(e, true, bad[i]) != -EINVAL)
			fail_msg("\"%s\" was accepted", bad[i]);
	assert_int_equal(tp_egress_add(e, true, "0.0.0.0/0"), 0);
	assert_true(permits(e, "203.0.113.5"));
	assert_false(permits(e, "2001:db8::5")); /* an IPv4 /0 covers IPv4 only */
	tp_egress_destroy(e);
}

static int build_policy(void *ctx)
{
	struct tp_egress *e;
	int rc;

	(void)ctx;
	rc = tp_egress_create(&e);
	if (rc)
		return rc;
	for (int i = 0; i < 20 && rc == 0; i++)
		rc = tp_egress_add(e, i % 2, i % 3 ? "127.0.0.0/8" : "::1");
	tp_egress_destroy(e);
	return rc;
}

static void test_alloc_failures(void **state)
{
	(void)state;
	assert_true(harness_alloc_fail_loop(build_policy, NULL) >= 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		SIPHON_TEST(test_empty_denies_all), SIPHON_TEST(test_loopback_only),
		SIPHON_TEST(test_deny_wins),	    SIPHON_TEST(test_broadcast_multicast),
		SIPHON_TEST(test_bad_networks),	    SIPHON_TEST(test_alloc_failures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
