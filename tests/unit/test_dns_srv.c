/* RFC 2782 SRV ordering and RFC 3263 §4.1 NAPTR selection: pure logic with an
 * injected random source. */
#include "harness.h"

#include "dns/srv.h"

#include <stdio.h>
#include <string.h>

/* Scripted draws: returns vals[i++], then repeats the last one. */
struct script {
	const uint32_t *vals;
	size_t n, i, calls;
};

static uint32_t scripted(void *arg)
{
	struct script *s = arg;
	uint32_t v = s->vals[s->i < s->n ? s->i : s->n - 1];

	if (s->i < s->n)
		s->i++;
	s->calls++;
	return v;
}

static uint32_t xorshift(void *arg)
{
	uint32_t *x = arg;

	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

static struct dns_srv srv(uint16_t prio, uint16_t weight, const char *target)
{
	struct dns_srv v = { .prio = prio, .weight = weight, .port = 5060 };

	strcpy(v.target, target);
	return v;
}

static void expect_order(const struct dns_srv *v, size_t n, const char *const *want)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(v[i].target, want[i]) != 0) {
			fprintf(stderr, "position %zu: got %s, want %s\n", i, v[i].target, want[i]);
			fail();
		}
	}
}

static void test_srv_priority_then_weight(void **state)
{
	static const uint32_t lo[] = { 0 }, hi[] = { 61 };
	struct script s = { lo, 1, 0, 0 };
	struct dns_srv v[4];

	(void)state;
	v[0] = srv(20, 0, "c");
	v[1] = srv(10, 60, "a");
	v[2] = srv(30, 5, "d");
	v[3] = srv(10, 40, "b");
	/* draw 0: running sums 60, 100 -> "a" first */
	dns_srv_order(v, 4, scripted, &s);
	expect_order(v, 4, (const char *const[]){ "a", "b", "c", "d" });
	assert_int_equal(s.calls, 1); /* one draw per choice in a group of 2+ */

	v[0] = srv(20, 0, "c");
	v[1] = srv(10, 60, "a");
	v[2] = srv(30, 5, "d");
	v[3] = srv(10, 40, "b");
	s = (struct script){ hi, 1, 0, 0 };
	/* draw 61: 60 < 61 <= 100 -> "b" first */
	dns_srv_order(v, 4, scripted, &s);
	expect_order(v, 4, (const char *const[]){ "b", "a", "c", "d" });
	/* the draw is taken modulo total + 1: 101 + 61 lands on "b" too */
	v[0] = srv(1, 60, "a");
	v[1] = srv(1, 40, "b");
	s = (struct script){ (const uint32_t[]){ 162 }, 1, 0, 0 };
	dns_srv_order(v, 2, scripted, &s);
	expect_order(v, 2, (const char *const[]){ "b", "a" });
}

static void test_srv_zero_weight_first(void **state)
{
	struct script s = { (const uint32_t[]){ 0 }, 1, 0, 0 };
	struct dns_srv v[3];

	(void)state;
	/* RFC 2782: weight-0 records go to the front, so a draw of 0 picks one */
	v[0] = srv(1, 10, "x");
	v[1] = srv(1, 0, "z");
	v[2] = srv(1, 10, "y");
	dns_srv_order(v, 3, scripted, &s);
	expect_order(v, 3, (const char *const[]){ "z", "x", "y" });
	/* a draw of 1 skips it (running sums 0, 10, 20) */
	v[0] = srv(1, 10, "x");
	v[1] = srv(1, 0, "z");
	v[2] = srv(1, 10, "y");
	s = (struct script){ (const uint32_t[]){ 1, 0 }, 2, 0, 0 };
	dns_srv_order(v, 3, scripted, &s);
	expect_order(v, 3, (const char *const[]){ "x", "z", "y" });
	/* all zero: the draw is always 0, the given order stays */
	v[0] = srv(1, 0, "p");
	v[1] = srv(1, 0, "q");
	v[2] = srv(1, 0, "r");
	s = (struct script){ (const uint32_t[]){ 12345 }, 1, 0, 0 };
	dns_srv_order(v, 3, scripted, &s);
	expect_order(v, 3, (const char *const[]){ "p", "q", "r" });
}

static void test_srv_single_and_empty(void **state)
{
	struct script s = { (const uint32_t[]){ 7 }, 1, 0, 0 };
	struct dns_srv v[3];

	(void)state;
	dns_srv_order(v, 0, scripted, &s);
	v[0] = srv(3, 1, "c");
	v[1] = srv(2, 1, "b");
	v[2] = srv(1, 1, "a");
	dns_srv_order(v, 3, scripted, &s);
	expect_order(v, 3, (const char *const[]){ "a", "b", "c" });
	assert_int_equal(s.calls, 0); /* one record per priority: nothing to draw */
}

/* Over many draws the first choice follows the weights (RFC 2782). */
static void test_srv_weight_statistics(void **state)
{
	enum { DRAWS = 20000 };
	uint32_t seed = 2463534242u;
	unsigned first[3] = { 0 }, zero_first = 0;

	(void)state;
	for (int i = 0; i < DRAWS; i++) {
		struct dns_srv v[3] = { srv(1, 10, "a"), srv(1, 20, "b"), srv(1, 70, "c") };
		struct dns_srv w[2] = { srv(1, 100, "x"), srv(1, 0, "z") };

		dns_srv_order(v, 3, xorshift, &seed);
		first[v[0].target[0] - 'a']++;
		/* each record appears exactly once */
		assert_int_equal(v[0].target[0] + v[1].target[0] + v[2].target[0], 'a' + 'b' + 'c');
		dns_srv_order(w, 2, xorshift, &seed);
		zero_first += w[0].target[0] == 'z';
	}
	/* expected 10% / 20% / 70% (draw in [0, 100]): allow +-1.5 points */
	assert_in_range(first[0], DRAWS * 85 / 1000, DRAWS * 115 / 1000);
	assert_in_range(first[1], DRAWS * 185 / 1000, DRAWS * 215 / 1000);
	assert_in_range(first[2], DRAWS * 685 / 1000, DRAWS * 715 / 1000);
	/* weight 0 beside weight 100: first with probability 1/101 (~198) */
	assert_in_range(zero_first, 120, 290);
}

static struct dns_naptr naptr(uint16_t order, uint16_t pref, const char *flags,
			      const char *service, const char *repl)
{
	struct dns_naptr r = { .order = order, .pref = pref };

	strcpy(r.flags, flags);
	strcpy(r.service, service);
	strcpy(r.replacement, repl);
	return r;
}

static void test_naptr_filter_and_order(void **state)
{
	struct dns_naptr v[6];
	struct dns_naptr_pick p[8];
	size_t n;

	(void)state;
	v[0] = naptr(10, 50, "s", "SIP+D2T", "_sip._tcp.example.test");
	v[1] = naptr(10, 10, "S", "sip+d2u", "_sip._udp.example.test");
	v[2] = naptr(10, 20, "s", "SIPS+D2T", "_sips._tcp.example.test");
	v[3] = naptr(10, 5, "s", "SIP+D2S", "_sip._sctp.example.test"); /* SCTP: not ours */
	v[4] = naptr(20, 1, "s", "SIP+D2U", "_late._udp.example.test");  /* higher order */
	v[5] = naptr(10, 1, "s", "E2U+sip", "_x.example.test");           /* ENUM, not SIP */
	n = dns_naptr_select(v, 6, false, DNS_PROTO_ALL, p, 8);
	assert_int_equal(n, 3);
	assert_int_equal(p[0].idx, 1);
	assert_int_equal(p[0].proto, TP_UDP);
	assert_int_equal(p[1].idx, 2);
	assert_int_equal(p[1].proto, TP_TLS);
	assert_int_equal(p[2].idx, 0);
	assert_int_equal(p[2].proto, TP_TCP);

	/* sips: only SIPS+D2T (RFC 3263 §4.1) */
	n = dns_naptr_select(v, 6, true, DNS_PROTO_ALL, p, 8);
	assert_int_equal(n, 1);
	assert_int_equal(p[0].idx, 2);

	/* transports we do not support are skipped */
	n = dns_naptr_select(v, 6, false, DNS_PROTO_BIT(TP_TCP) | DNS_PROTO_BIT(TP_TLS), p, 8);
	assert_int_equal(n, 2);
	assert_int_equal(p[0].proto, TP_TLS);
	assert_int_equal(p[1].proto, TP_TCP);

	/* cap */
	n = dns_naptr_select(v, 6, false, DNS_PROTO_ALL, p, 1);
	assert_int_equal(n, 1);
	assert_int_equal(p[0].idx, 1);
}

static void test_naptr_unusable(void **state)
{
	struct dns_naptr v[5];
	struct dns_naptr_pick p[4];
	size_t n;

	(void)state;
	v[0] = naptr(1, 1, "a", "SIP+D2U", "host.example.test");  /* flag A: not RFC 3263 */
	v[1] = naptr(1, 1, "s", "SIP+D2U", ".");                  /* no replacement */
	v[2] = naptr(1, 1, "s", "SIP+D2T", "_sip._tcp.example.test");
	v[2].regexp = 1;                                          /* regexp must be empty */
	v[3] = naptr(1, 1, "", "SIP+D2T", "_sip._tcp.example.test");
	/* the only usable record has a higher order: the lower order did not match */
	v[4] = naptr(7, 3, "s", "SIP+D2T", "_sip._tcp.example.test");
	n = dns_naptr_select(v, 5, false, DNS_PROTO_ALL, p, 4);
	assert_int_equal(n, 1);
	assert_int_equal(p[0].idx, 4);
	assert_int_equal(dns_naptr_select(v, 4, false, DNS_PROTO_ALL, p, 4), 0);
	assert_int_equal(dns_naptr_select(v, 0, false, DNS_PROTO_ALL, p, 4), 0);
	assert_int_equal(dns_naptr_service_proto("SIPS+D2U"), -1);
	assert_int_equal(dns_naptr_service_proto("SIP+D2W"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		SIPHON_TEST(test_srv_priority_then_weight),
		SIPHON_TEST(test_srv_zero_weight_first),
		SIPHON_TEST(test_srv_single_and_empty),
		SIPHON_TEST(test_srv_weight_statistics),
		SIPHON_TEST(test_naptr_filter_and_order),
		SIPHON_TEST(test_naptr_unusable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
