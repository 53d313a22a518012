/* DNS record-set cache: TTL expiry on an injected clock, case-insensitive
 * names, LRU bound, references outliving eviction, allocation failures. */
#include "harness.h"

#include "base/mem.h"
#include "dns/cache.h"

#include <errno.h>
#include <stdio.h>

static struct dns_rrset *set_a(uint32_t ttl, uint8_t last_octet)
{
	struct dns_rrset *s = dns_rrset_new(DNS_T_A, 1);

	assert_non_null(s);
	s->ttl = ttl;
	s->rr[0].a.s_addr = htonl(0x0a000000u | last_octet);
	return s;
}

static void test_cache_ttl(void **state)
{
	struct dns_cache *c;
	struct dns_rrset *s = set_a(30, 1), *g;
	uint32_t left = 0;

	(void)state;
	assert_int_equal(dns_cache_create(&c, 8), 0);
	assert_int_equal(dns_cache_put(c, "Host.Siphon.Test", DNS_T_A, s, 1000), 0);
	dns_rrset_unref(s);
	/* names are case-insensitive, types are not interchangeable */
	g = dns_cache_get(c, "host.siphon.test", DNS_T_A, 1000, &left);
	assert_ptr_equal(g, s);
	assert_int_equal(left, 30);
	dns_rrset_unref(g);
	assert_null(dns_cache_get(c, "host.siphon.test", DNS_T_AAAA, 1000, NULL));
	assert_null(dns_cache_get(c, "other.siphon.test", DNS_T_A, 1000, NULL));
	/* remaining TTL counts down and rounds up */
	g = dns_cache_get(c, "HOST.siphon.test", DNS_T_A, 1000 + 29001, &left);
	assert_non_null(g);
	assert_int_equal(left, 1);
	assert_int_equal(g->rr[0].a.s_addr, htonl(0x0a000001u));
	dns_rrset_unref(g);
	/* expired at exactly now + ttl, and dropped from the cache */
	assert_null(dns_cache_get(c, "host.siphon.test", DNS_T_A, 1000 + 30000, NULL));
	assert_int_equal(dns_cache_count(c), 0);
	dns_cache_destroy(c);
}

static void test_cache_replace_zero_ttl_flush(void **state)
{
	struct dns_cache *c;
	struct dns_rrset *a = set_a(10, 1), *b = set_a(20, 2), *z = set_a(0, 3), *g;

	(void)state;
	assert_int_equal(dns_cache_create(&c, 4), 0);
	assert_int_equal(dns_cache_put(c, "x.siphon.test", DNS_T_A, a, 0), 0);
	assert_int_equal(dns_cache_put(c, "x.siphon.test", DNS_T_A, b, 0), 0);
	assert_int_equal(dns_cache_count(c), 1);
	g = dns_cache_get(c, "x.siphon.test", DNS_T_A, 15000, NULL);
	assert_ptr_equal(g, b);
	dns_rrset_unref(g);
	/* TTL 0: do not cache, and forget what was there */
	assert_int_equal(dns_cache_put(c, "x.siphon.test", DNS_T_A, z, 0), 0);
	assert_int_equal(dns_cache_count(c), 0);
	assert_int_equal(dns_cache_put(c, "y.siphon.test", DNS_T_A, a, 0), 0);
	dns_cache_flush(c);
	assert_int_equal(dns_cache_count(c), 0);
	assert_null(dns_cache_get(c, "y.siphon.test", DNS_T_A, 0, NULL));
	dns_rrset_unref(a);
	dns_rrset_unref(b);
	dns_rrset_unref(z);
	dns_cache_destroy(c);
}

static void test_cache_bounded_lru(void **state)
{
	struct dns_cache *c;
	struct dns_rrset *s[4], *held, *g;
	char name[32];

	(void)state;
	assert_int_equal(dns_cache_create(&c, 3), 0);
	for (int i = 0; i < 4; i++)
		s[i] = set_a(100, (uint8_t)i);
	for (int i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "h%d.siphon.test", i);
		assert_int_equal(dns_cache_put(c, name, DNS_T_A, s[i], 0), 0);
	}
	held = dns_cache_get(c, "h0.siphon.test", DNS_T_A, 0, NULL); /* h0 most recent now */
	assert_non_null(held);
	assert_int_equal(dns_cache_put(c, "h3.siphon.test", DNS_T_A, s[3], 0), 0);
	assert_int_equal(dns_cache_count(c), 3);
	/* h1 was the least recently used */
	assert_null(dns_cache_get(c, "h1.siphon.test", DNS_T_A, 0, NULL));
	g = dns_cache_get(c, "h2.siphon.test", DNS_T_A, 0, NULL);
	assert_non_null(g);
	dns_rrset_unref(g);
	/* an expired entry goes before any live one */
	dns_rrset_unref(s[1]);
	s[1] = set_a(1, 9);
	assert_int_equal(dns_cache_put(c, "h3.siphon.test", DNS_T_A, s[1], 0), 0);
	assert_int_equal(dns_cache_put(c, "h4.siphon.test", DNS_T_A, s[3], 5000), 0);
	assert_null(dns_cache_get(c, "h3.siphon.test", DNS_T_A, 5000, NULL));
	g = dns_cache_get(c, "h0.siphon.test", DNS_T_A, 5000, NULL);
	assert_non_null(g);
	dns_rrset_unref(g);
	/* a reference outlives the cache */
	dns_cache_destroy(c);
	assert_int_equal(held->rr[0].a.s_addr, htonl(0x0a000000u));
	dns_rrset_unref(held);
	for (int i = 0; i < 4; i++)
		dns_rrset_unref(s[i]);
}

static void test_cache_bad_args(void **state)
{
	struct dns_cache *c;
	struct dns_rrset *s = set_a(5, 1);
	char longname[300];

	(void)state;
	assert_int_equal(dns_cache_create(&c, 0), -EINVAL);
	assert_int_equal(dns_cache_create(&c, 1), 0);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(dns_cache_put(c, longname, DNS_T_A, s, 0), -EINVAL);
	dns_cache_destroy(c);
	dns_cache_destroy(NULL);
	dns_rrset_unref(s);
	dns_rrset_unref(NULL);
}

static int alloc_run(void *ctx)
{
	struct dns_cache *c;
	struct dns_rrset *s, *g;
	int rc;

	(void)ctx;
	rc = dns_cache_create(&c, 2);
	if (rc < 0)
		return rc;
	s = dns_rrset_new(DNS_T_SRV, 2);
	if (!s) {
		dns_cache_destroy(c);
		return -ENOMEM;
	}
	s->ttl = 9;
	rc = dns_cache_put(c, "_sip._udp.siphon.test", DNS_T_SRV, s, 0);
	dns_rrset_unref(s);
	if (rc == 0) {
		g = dns_cache_get(c, "_SIP._UDP.siphon.test", DNS_T_SRV, 100, NULL);
		if (!g)
			rc = -EIO;
		dns_rrset_unref(g);
	}
	dns_cache_destroy(c);
	return rc;
}

static void test_cache_alloc_failures(void **state)
{
	(void)state;
	assert_int_equal(harness_alloc_fail_loop(alloc_run, NULL), 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		SIPHON_TEST(test_cache_ttl),
		SIPHON_TEST(test_cache_replace_zero_ttl_flush),
		SIPHON_TEST(test_cache_bounded_lru),
		SIPHON_TEST(test_cache_bad_args),
		SIPHON_TEST(test_cache_alloc_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
