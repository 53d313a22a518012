/* Transport choice by request size (RFC 3261 §18.1.1). */
#include "harness.h"

#include "ua/mtu.h"

static void test_small_stays_udp(void **state)
{
	(void)state;
	assert_int_equal(ua_mtu_proto(TP_UDP, 400, false), TP_UDP);
	assert_int_equal(ua_mtu_proto(TP_UDP, UA_UDP_MAX, false), TP_UDP);
}

static void test_large_goes_tcp(void **state)
{
	(void)state;
	assert_int_equal(ua_mtu_proto(TP_UDP, UA_UDP_MAX + 1, false), TP_TCP);
	assert_int_equal(ua_mtu_proto(TP_UDP, 1500, false), TP_TCP);
	assert_int_equal(ua_mtu_proto(TP_UDP, 60000, false), TP_TCP);
}

static void test_forced_udp_and_streams_stand(void **state)
{
	(void)state;
	/* transport=udp in the URI or --transport udp */
	assert_int_equal(ua_mtu_proto(TP_UDP, 1500, true), TP_UDP);
	/* already congestion controlled */
	assert_int_equal(ua_mtu_proto(TP_TCP, 1500, false), TP_TCP);
	assert_int_equal(ua_mtu_proto(TP_TLS, 1500, false), TP_TLS);
	assert_int_equal(ua_mtu_proto(TP_TLS, 100, true), TP_TLS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		SIPHON_TEST(test_small_stays_udp),
		SIPHON_TEST(test_large_goes_tcp),
		SIPHON_TEST(test_forced_udp_and_streams_stand),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
