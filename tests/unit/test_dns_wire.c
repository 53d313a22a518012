/* The TTL reader of DNS responses (the only wire parsing of our own). */
#include "harness.h"

#include "dns/wire.h"

#include <errno.h>
#include <string.h>

/* Header with qd=1 and the given counts, question "_sip._udp.t" SRV IN. */
static size_t header(unsigned char *b, unsigned an, unsigned ns)
{
	static const unsigned char q[] = { 4, '_', 's', 'i', 'p', 4, '_', 'u', 'd', 'p', 1, 't', 0,
					   0, 33, 0, 1 };
	memset(b, 0, 12);
	b[5] = 1;
	b[7] = (unsigned char)an;
	b[9] = (unsigned char)ns;
	memcpy(b + 12, q, sizeof(q));
	return 12 + sizeof(q);
}

/* RR owned by a pointer to the question name, with rdlen bytes of rdata. */
static size_t rr(unsigned char *b, size_t pos, uint16_t type, uint32_t ttl, size_t rdlen)
{
	unsigned char *p = b + pos;

	p[0] = 0xc0;
	p[1] = 12;
	p[2] = (unsigned char)(type >> 8);
	p[3] = (unsigned char)type;
	p[4] = 0;
	p[5] = 1;
	p[6] = (unsigned char)(ttl >> 24);
	p[7] = (unsigned char)(ttl >> 16);
	p[8] = (unsigned char)(ttl >> 8);
	p[9] = (unsigned char)ttl;
	p[10] = (unsigned char)(rdlen >> 8);
	p[11] = (unsigned char)rdlen;
	memset(p + 12, 0, rdlen);
	return pos + 12 + rdlen;
}

static void test_wire_answer_min(void **state)
{
	unsigned char b[512];
	size_t n = header(b, 2, 1), answers_end;
	uint32_t ttl = 0;

	(void)state;
	n = rr(b, n, 33, 300, 9);
	n = rr(b, n, 33, 100, 9);
	answers_end = n;
	n = rr(b, n, 6, 5, 22); /* authority ignored when there are answers */
	assert_int_equal(dns_wire_min_ttl(b, n, &ttl), 0);
	assert_int_equal(ttl, 100);
	/* a cut inside the answers is malformed; the authority is never read */
	for (size_t cut = 0; cut < n; cut++) {
		ttl = 0;
		assert_int_equal(dns_wire_min_ttl(b, cut, &ttl), cut < answers_end ? -EINVAL : 0);
		if (cut >= answers_end)
			assert_int_equal(ttl, 100);
	}
}

static void test_wire_negative_soa(void **state)
{
	unsigned char b[512];
	size_t n = header(b, 0, 2), soa;
	uint32_t ttl = 0;

	(void)state;
	n = rr(b, n, 2, 10, 2); /* an NS record: not a negative-caching TTL */
	soa = n;
	n = rr(b, n, 6, 3600, 22);
	b[n - 1] = 60; /* MINIMUM = 60 < TTL 3600 (RFC 2308 §5) */
	assert_int_equal(dns_wire_min_ttl(b, n, &ttl), 0);
	assert_int_equal(ttl, 60);
	b[soa + 6] = b[soa + 7] = b[soa + 8] = 0; /* SOA TTL 30 < MINIMUM */
	b[soa + 9] = 30;
	assert_int_equal(dns_wire_min_ttl(b, n, &ttl), 0);
	assert_int_equal(ttl, 30);
	/* SOA RDATA too short to hold MINIMUM */
	n = header(b, 0, 1);
	n = rr(b, n, 6, 3600, 21);
	assert_int_equal(dns_wire_min_ttl(b, n, &ttl), -EINVAL);
}

static void test_wire_edge_cases(void **state)
{
	unsigned char b[512];
	size_t n;
	uint32_t ttl = 7;

	(void)state;
	n = header(b, 0, 0);
	assert_int_equal(dns_wire_min_ttl(b, n, &ttl), -ENOENT);
	assert_int_equal(ttl, 7);
	/* RFC 2181 §8: top bit set means zero */
	n = header(b, 1, 0);
	n = rr(b, n, 1, 0x80000001u, 4);
	assert_int_equal(dns_wire_min_ttl(b, n, &ttl), 0);
	assert_int_equal(ttl, 0);
	/* extended label type 0x40 is rejected */
	n = header(b, 1, 0);
	b[12] = 0x41;
	assert_int_equal(dns_wire_min_ttl(b, n, &ttl), -EINVAL);
	assert_int_equal(dns_wire_min_ttl(NULL, 0, &ttl), -EINVAL);
	assert_int_equal(dns_wire_min_ttl(b, 11, &ttl), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		SIPHON_TEST(test_wire_answer_min),
		SIPHON_TEST(test_wire_negative_soa),
		SIPHON_TEST(test_wire_edge_cases),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
