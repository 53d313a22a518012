/* Transport addresses: listen specs, numeric hosts, formatting, equality. */
#include "harness.h"

#include "transport/addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

static void spec_ok(const char *spec, enum tp_proto want_proto, const char *want_fmt)
{
	enum tp_proto p = TP_TLS;
	struct tp_addr a;
	char buf[64];

	if (tp_listen_spec_parse(spec, &p, &a) != 0) {
		fprintf(stderr, "spec '%s' rejected\n", spec);
		fail();
	}
	assert_int_equal(p, want_proto);
	assert_string_equal(tp_addr_fmt(&a, buf, sizeof(buf)), want_fmt);
}

static void test_spec_valid(void **state)
{
	(void)state;
	spec_ok("udp:127.0.0.1:5060", TP_UDP, "127.0.0.1:5060");
	spec_ok("tcp:127.0.0.1:5070", TP_TCP, "127.0.0.1:5070");
	spec_ok("TCP:10.0.0.1:1", TP_TCP, "10.0.0.1:1");
	spec_ok("tls:[::1]:5061", TP_TLS, "[::1]:5061");
	spec_ok("udp:[::1]:5060", TP_UDP, "[::1]:5060");
	spec_ok("tcp:[2001:db8::1]", TP_TCP, "[2001:db8::1]:5060");
	spec_ok("127.0.0.1", TP_UDP, "127.0.0.1:5060");
	spec_ok("udp:0.0.0.0:0", TP_UDP, "0.0.0.0:0");
	spec_ok("udp:::1", TP_UDP, "[::1]:5060"); /* bare IPv6: no port */
	spec_ok("tcp:127.0.0.1:65535", TP_TCP, "127.0.0.1:65535");
}

static void test_spec_invalid(void **state)
{
	static const char *const bad[] = {
		"", "udp:", "udp:127.0.0.1:", "udp:127.0.0.1:65536", "udp:127.0.0.1:-1",
		"udp:127.0.0.1:50x", "udp:localhost:5060", "udp:1.2.3:5060", "udp:[::1",
		"udp:[::1]5060", "udp:[127.0.0.1]:5060", "sctp:127.0.0.1:5060", "udp:[]:5060",
		"udp:[::1]:", "udp:256.0.0.1:5060", "udp:[zz::1]:5060",
	};
	enum tp_proto p;
	struct tp_addr a;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (tp_listen_spec_parse(bad[i], &p, &a) != -EINVAL) {
			fprintf(stderr, "spec '%s' accepted\n", bad[i]);
			fail();
		}
	}
	assert_int_equal(tp_listen_spec_parse(NULL, &p, &a), -EINVAL);
}

static void test_from_numeric(void **state)
{
	struct tp_addr a;
	char buf[64];

	(void)state;
	assert_int_equal(tp_addr_from_numeric(&a, STR_LIT("192.0.2.1"), 5080), 0);
	assert_int_equal(a.ss.ss_family, AF_INET);
	assert_int_equal(a.len, sizeof(struct sockaddr_in));
	assert_int_equal(tp_addr_port(&a), 5080);
	assert_string_equal(tp_addr_host_fmt(&a, buf, sizeof(buf)), "192.0.2.1");
	/* IPv4 is formatted by hand: every octet width, and the widest */
	assert_int_equal(tp_addr_from_numeric(&a, STR_LIT("0.10.100.255"), 1), 0);
	assert_string_equal(tp_addr_host_fmt(&a, buf, sizeof(buf)), "0.10.100.255");
	assert_int_equal(tp_addr_from_numeric(&a, STR_LIT("255.255.255.255"), 1), 0);
	assert_string_equal(tp_addr_host_fmt(&a, buf, 16), "255.255.255.255");
	/* too small for any address: "?" rather than a cut one */
	assert_string_equal(tp_addr_host_fmt(&a, buf, 15), "?");
	assert_int_equal(tp_addr_from_numeric(&a, STR_LIT("192.0.2.1"), 5080), 0);

	assert_int_equal(tp_addr_from_numeric(&a, STR_LIT("[2001:db8::10]"), 1), 0);
	assert_int_equal(a.ss.ss_family, AF_INET6);
	assert_string_equal(tp_addr_host_fmt(&a, buf, sizeof(buf)), "2001:db8::10");
	assert_string_equal(tp_addr_fmt(&a, buf, sizeof(buf)), "[2001:db8::10]:1");
	assert_int_equal(tp_addr_from_numeric(&a, STR_LIT("2001:db8::10"), 1), 0);

	/* a slice is not NUL-terminated: only len bytes count */
	assert_int_equal(tp_addr_from_numeric(&a, str_make("10.1.2.3garbage", 8), 9), 0);
	assert_string_equal(tp_addr_fmt(&a, buf, sizeof(buf)), "10.1.2.3:9");

	assert_int_equal(tp_addr_from_numeric(&a, STR_LIT("example.com"), 1), -EINVAL);
	assert_int_equal(tp_addr_from_numeric(&a, STR_LIT(""), 1), -EINVAL);
	assert_int_equal(tp_addr_from_numeric(&a, STR_LIT("[]"), 1), -EINVAL);
	assert_int_equal(tp_addr_from_numeric(&a, STR_LIT("[::1"), 1), -EINVAL);
	assert_int_equal(
		tp_addr_from_numeric(&a, STR_LIT("1111:2222:3333:4444:5555:6666:7777:8888:9999"), 1),
		-EINVAL);
}

static void test_port_equal(void **state)
{
	struct tp_addr a, b;
	char buf[8];

	(void)state;
	assert_int_equal(tp_addr_from_numeric(&a, STR_LIT("127.0.0.1"), 5060), 0);
	assert_int_equal(tp_addr_from_numeric(&b, STR_LIT("127.0.0.1"), 5060), 0);
	assert_true(tp_addr_equal(&a, &b));
	tp_addr_set_port(&b, 5061);
	assert_int_equal(tp_addr_port(&b), 5061);
	assert_false(tp_addr_equal(&a, &b));
	assert_int_equal(tp_addr_from_numeric(&b, STR_LIT("127.0.0.2"), 5060), 0);
	assert_false(tp_addr_equal(&a, &b));
	assert_int_equal(tp_addr_from_numeric(&b, STR_LIT("::ffff:127.0.0.1"), 5060), 0);
	assert_false(tp_addr_equal(&a, &b)); /* different families */
	assert_int_equal(tp_addr_from_numeric(&a, STR_LIT("::ffff:127.0.0.1"), 5060), 0);
	assert_true(tp_addr_equal(&a, &b));

	/* formatting never overflows a small buffer */
	tp_addr_fmt(&a, buf, sizeof(buf));
	assert_int_equal(strlen(buf), sizeof(buf) - 1);

	memset(&a, 0, sizeof(a));
	assert_int_equal(tp_addr_port(&a), 0);
	assert_false(tp_addr_equal(&a, &a)); /* no family: equal to nothing */
}

static void test_proto_name(void **state)
{
	(void)state;
	assert_string_equal(tp_proto_name(TP_UDP), "UDP");
	assert_string_equal(tp_proto_name(TP_TCP), "TCP");
	assert_string_equal(tp_proto_name(TP_TLS), "TLS");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		SIPHON_TEST(test_spec_valid),
		SIPHON_TEST(test_spec_invalid),
		SIPHON_TEST(test_from_numeric),
		SIPHON_TEST(test_port_equal),
		SIPHON_TEST(test_proto_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
