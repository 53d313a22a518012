/* RTP and RTCP packets: header build and parse (CSRC, extension, padding,
 * every length bound), loss accounting per RFC 3550 A.1/A.3 (gaps,
 * reordering, duplicates, wraparound, a restarted sender), the A.8 jitter
 * estimator, and the RTCP compound packets we send and accept. */
#include "harness.h"

#include "media/media_int.h"

#include <errno.h>
#include <string.h>

static void test_build_parse(void **state)
{
	uint8_t pay[160], buf[300];
	struct rtp_pkt p = { .marker = true, .pt = 8, .seq = 65535, .ts = 0xDEADBEEF,
			     .ssrc = 0x01020304, .payload = pay, .plen = sizeof(pay) };
	struct rtp_pkt q;
	int n;

	(void)state;
	for (size_t i = 0; i < sizeof(pay); i++)
		pay[i] = (uint8_t)i;
	n = rtp_build(buf, sizeof(buf), &p);
	assert_int_equal(n, 172);
	assert_int_equal(buf[0], 0x80); /* V=2, no P, X, CC */
	assert_int_equal(buf[1], 0x88); /* M, PT 8 */
	assert_int_equal(buf[2], 0xFF);
	assert_int_equal(buf[4], 0xDE);
	assert_int_equal(buf[11], 0x04);
	assert_int_equal(rtp_parse(&q, buf, (size_t)n), 0);
	assert_true(q.marker);
	assert_int_equal(q.pt, 8);
	assert_int_equal(q.seq, 65535);
	assert_int_equal(q.ts, 0xDEADBEEF);
	assert_int_equal(q.ssrc, 0x01020304);
	assert_int_equal(q.plen, 160);
	assert_memory_equal(q.payload, pay, 160);
	assert_int_equal(rtp_build(buf, 171, &p), -ENOSPC);
	assert_int_equal(rtp_build(buf, 11, &p), -ENOSPC);
	/* an empty payload is a packet too */
	p.plen = 0;
	assert_int_equal(rtp_build(buf, sizeof(buf), &p), 12);
	assert_int_equal(rtp_parse(&q, buf, 12), 0);
	assert_int_equal(q.plen, 0);
}

static void test_parse_bounds(void **state)
{
	uint8_t b[64];
	struct rtp_pkt q;

	(void)state;
	memset(b, 0, sizeof(b));
	b[0] = 0x80;
	assert_int_equal(rtp_parse(&q, b, 11), -EINVAL);  /* short */
	assert_int_equal(rtp_parse(&q, b, 12), 0);
	b[0] = 0x40;
	assert_int_equal(rtp_parse(&q, b, 20), -EINVAL);  /* version 1 */
	b[0] = 0xC0;
	assert_int_equal(rtp_parse(&q, b, 20), -EINVAL);  /* version 3 */
	/* two CSRCs: 8 octets after the header */
	b[0] = 0x82;
	assert_int_equal(rtp_parse(&q, b, 19), -EINVAL);
	assert_int_equal(rtp_parse(&q, b, 20), 0);
	assert_int_equal(q.plen, 0);
	assert_int_equal(rtp_parse(&q, b, 24), 0);
	assert_ptr_equal(q.payload, b + 20);
	assert_int_equal(q.plen, 4);
	/* a header extension of 2 words after one CSRC */
	b[0] = 0x91;
	b[16] = 0xBE;
	b[17] = 0xDE;
	b[18] = 0;
	b[19] = 2;
	assert_int_equal(rtp_parse(&q, b, 19), -EINVAL); /* no room for its header */
	assert_int_equal(rtp_parse(&q, b, 27), -EINVAL); /* nor for its words */
	assert_int_equal(rtp_parse(&q, b, 28), 0);
	assert_int_equal(q.plen, 0);
	assert_int_equal(rtp_parse(&q, b, 30), 0);
	assert_ptr_equal(q.payload, b + 28);
	assert_int_equal(q.plen, 2);
	b[19] = 0xFF; /* an extension length beyond the packet */
	assert_int_equal(rtp_parse(&q, b, 64), -EINVAL);
	/* padding: the last octet counts the padding, itself included */
	memset(b, 0, sizeof(b));
	b[0] = 0xA0;
	b[19] = 4;
	assert_int_equal(rtp_parse(&q, b, 20), 0);
	assert_int_equal(q.plen, 4);
	b[19] = 8;
	assert_int_equal(rtp_parse(&q, b, 20), 0);
	assert_int_equal(q.plen, 0);
	b[19] = 9; /* into the header */
	assert_int_equal(rtp_parse(&q, b, 20), -EINVAL);
	b[19] = 0; /* zero padding with P set */
	assert_int_equal(rtp_parse(&q, b, 20), -EINVAL);
	b[11] = 1;
	assert_int_equal(rtp_parse(&q, b, 12), -EINVAL); /* P set, the count in the header */
	/* RTCP on the RTP port (RFC 5761): payload types 72-76 with M */
	memset(b, 0, sizeof(b));
	b[0] = 0x80;
	for (int t = 192; t <= 223; t++) {
		b[1] = (uint8_t)t;
		assert_true(rtp_is_rtcp(b, 12));
		assert_int_equal(rtp_parse(&q, b, 12), -EINVAL);
	}
	b[1] = 0x80 | 0; /* PCMU with marker: RTP */
	assert_false(rtp_is_rtcp(b, 12));
	b[1] = 0x80 | 127; /* 255 */
	assert_false(rtp_is_rtcp(b, 12));
	assert_int_equal(rtp_parse(&q, b, 12), 0);
}

static void feed(struct rtp_source *s, uint16_t seq)
{
	assert_true(rtp_source_update(s, seq));
}

static void test_loss(void **state)
{
	struct rtp_source s;

	(void)state;
	/* in order: nothing lost */
	rtp_source_init(&s, 1000);
	for (uint16_t i = 1000; i < 1100; i++)
		feed(&s, i);
	assert_int_equal(rtp_source_expected(&s), 100);
	assert_int_equal(rtp_source_lost(&s), 0);
	assert_int_equal(rtp_source_fraction(&s), 0);
	/* 5 lost out of the next 20 */
	for (uint16_t i = 1100; i < 1120; i++)
		if (i % 4 != 1)
			feed(&s, i);
	assert_int_equal(rtp_source_lost(&s), 5);
	assert_int_equal(rtp_source_fraction(&s), 5 * 256 / 20); /* 64: a quarter */
	assert_int_equal(rtp_source_fraction(&s), 0);             /* since the last call */
	/* reordered, then the late one: loss goes back down */
	feed(&s, 1121);
	feed(&s, 1120);
	assert_int_equal(rtp_source_lost(&s), 5);
	/* a duplicate counts as received: the A.3 count can go negative */
	feed(&s, 1121);
	assert_int_equal(rtp_source_lost(&s), 4);
	assert_int_equal(rtp_source_ext_max(&s), 1121);

	/* wraparound: 65530 .. 65535, 0 .. 9, one lost on each side */
	rtp_source_init(&s, 65530);
	for (uint32_t i = 65530; i < 65546; i++)
		if (i != 65533 && i != 65538)
			feed(&s, (uint16_t)i);
	assert_int_equal(rtp_source_ext_max(&s), 65536 + 9);
	assert_int_equal(rtp_source_expected(&s), 16);
	assert_int_equal(rtp_source_lost(&s), 2);
	/* an old packet from before the wrap is still reordering, not a jump */
	feed(&s, 65533);
	assert_int_equal(rtp_source_lost(&s), 1);

	/* a sender that restarts its sequence: the first packet after the
	 * jump is refused, the next in sequence re-syncs */
	rtp_source_init(&s, 10);
	for (uint16_t i = 10; i < 20; i++)
		feed(&s, i);
	assert_false(rtp_source_update(&s, 40000));
	assert_true(rtp_source_update(&s, 40001));
	assert_true(rtp_source_update(&s, 40002));
	assert_int_equal(rtp_source_lost(&s), 0);
	assert_int_equal(rtp_source_ext_max(&s), 40002);
	/* a lone stray packet far off is ignored and changes nothing */
	assert_false(rtp_source_update(&s, 10000));
	feed(&s, 40003);
	assert_int_equal(rtp_source_lost(&s), 0);
}

static void test_jitter(void **state)
{
	struct rtp_source s;

	(void)state;
	/* constant transit: no jitter */
	rtp_source_init(&s, 0);
	for (uint32_t i = 0; i < 100; i++)
		rtp_source_jitter(&s, 5000 + i * 160, i * 160);
	assert_true(s.jitter < 1e-9);
	/* arrivals alternately 80 units (10 ms) late: |D| = 80 each time,
	 * the estimate converges on it */
	rtp_source_init(&s, 0);
	for (uint32_t i = 0; i < 200; i++)
		rtp_source_jitter(&s, 5000 + i * 160 + (i % 2 ? 80 : 0), i * 160);
	assert_true(s.jitter > 79.0 && s.jitter <= 80.0);
	/* one step: J += (|D| - J) / 16 */
	rtp_source_init(&s, 0);
	rtp_source_jitter(&s, 1000, 0);
	rtp_source_jitter(&s, 1160 + 32, 160);
	assert_true(s.jitter > 1.99 && s.jitter < 2.01);
	/* the timestamps wrap: still small differences */
	rtp_source_init(&s, 0);
	rtp_source_jitter(&s, 100, 0xFFFFFFF0u);
	rtp_source_jitter(&s, 260, 0x00000090u);
	assert_true(s.jitter < 1e-9);
}

static void test_rtcp(void **state)
{
	struct rtcp_rb rb = { .ssrc = 0xAABBCCDD, .fraction = 64, .lost = -3, .ext_max = 70000,
			      .jitter = 12, .lsr = 0x11223344, .dlsr = 0x10000 };
	struct rtcp_out o = { .ssrc = 0x01020304, .sender = true, .ntp = 0x0102030405060708ull,
			      .rtp_ts = 99, .pkts = 5, .octets = 800, .rb = &rb,
			      .cname = "abcdef", .bye = false };
	struct rtcp_in in;
	uint8_t buf[256];
	int n;

	(void)state;
	n = rtcp_build(buf, sizeof(buf), &o);
	assert_int_equal(n, 52 + 20);
	assert_int_equal(n % 4, 0);
	assert_int_equal(buf[0], 0x81);
	assert_int_equal(buf[1], RTCP_SR);
	assert_int_equal(buf[3], 12); /* 13 words - 1 */
	/* parsed by the peer whose SSRC is in the report block */
	assert_int_equal(rtcp_parse(&in, buf, (size_t)n, 0xAABBCCDD), 0);
	assert_int_equal(in.npkts, 2);
	assert_true(in.has_sr);
	assert_int_equal(in.sr_ssrc, 0x01020304);
	assert_int_equal(in.sr_lsr, 0x03040506);
	assert_true(in.has_rb);
	assert_int_equal(in.rb.fraction, 64);
	assert_int_equal(in.rb.lost, -3);
	assert_int_equal(in.rb.ext_max, 70000);
	assert_int_equal(in.rb.jitter, 12);
	assert_int_equal(in.rb.lsr, 0x11223344);
	assert_int_equal(in.rb.dlsr, 0x10000);
	assert_false(in.bye);
	/* somebody else's report block is not ours */
	assert_int_equal(rtcp_parse(&in, buf, (size_t)n, 1), 0);
	assert_false(in.has_rb);

	/* RR + SDES + BYE; the loss clamps to 24 bits */
	o.sender = false;
	o.bye = true;
	rb.lost = 0x7FFFFFFF;
	n = rtcp_build(buf, sizeof(buf), &o);
	assert_int_equal(n, 32 + 20 + 8);
	assert_int_equal(buf[1], RTCP_RR);
	assert_int_equal(rtcp_parse(&in, buf, (size_t)n, 0xAABBCCDD), 0);
	assert_int_equal(in.npkts, 3);
	assert_false(in.has_sr);
	assert_int_equal(in.rb.lost, 0x7FFFFF);
	assert_true(in.bye);
	/* too small a buffer */
	assert_int_equal(rtcp_build(buf, 59, &o), -ENOSPC);

	/* every truncation is refused, never read beyond, except where it
	 * falls between two parts: the RR alone, RR + SDES */
	n = rtcp_build(buf, sizeof(buf), &o);
	for (int len = 0; len < n; len++)
		assert_int_equal(rtcp_parse(&in, buf, (size_t)len, 0),
				 len == 32 || len == 52 ? 0 : -EINVAL);
	/* bad version in the second part; a type outside 192-223 */
	buf[32] = 0x41;
	assert_int_equal(rtcp_parse(&in, buf, (size_t)n, 0), -EINVAL);
	buf[32] = 0x81;
	buf[33] = 100;
	assert_int_equal(rtcp_parse(&in, buf, (size_t)n, 0), -EINVAL);
	buf[33] = RTCP_SDES;
	assert_int_equal(rtcp_parse(&in, buf, (size_t)n, 0), 0);
	/* padding on a part that is not the last */
	buf[0] |= 0x20;
	assert_int_equal(rtcp_parse(&in, buf, (size_t)n, 0), -EINVAL);
	buf[0] &= (uint8_t)~0x20;
	/* an RR claiming more report blocks than it holds */
	buf[0] = 0x82;
	assert_int_equal(rtcp_parse(&in, buf, (size_t)n, 0), -EINVAL);
	buf[0] = 0x81;
	/* an SDES item running past its packet */
	buf[32 + 9] = 200;
	assert_int_equal(rtcp_parse(&in, buf, (size_t)n, 0), -EINVAL);
	buf[32 + 9] = 6;
	assert_int_equal(rtcp_parse(&in, buf, (size_t)n, 0), 0);
	/* a reduced-size (RFC 5506) packet: a lone BYE, with padding */
	{
		uint8_t bye[12] = { 0xA1, RTCP_BYE, 0, 2, 1, 2, 3, 4, 0, 0, 0, 4 };

		assert_int_equal(rtcp_parse(&in, bye, sizeof(bye), 0), 0);
		assert_true(in.bye);
		bye[11] = 9; /* padding beyond the packet body */
		assert_int_equal(rtcp_parse(&in, bye, sizeof(bye), 0), -EINVAL);
		bye[11] = 0;
		assert_int_equal(rtcp_parse(&in, bye, sizeof(bye), 0), -EINVAL);
	}
	/* a CNAME beyond 255 octets cannot be written */
	{
		char longname[300];

		memset(longname, 'x', sizeof(longname) - 1);
		longname[sizeof(longname) - 1] = '\0';
		o.cname = longname;
		assert_int_equal(rtcp_build(buf, sizeof(buf), &o), -EINVAL);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		SIPHON_TEST(test_build_parse), SIPHON_TEST(test_parse_bounds),
		SIPHON_TEST(test_loss),        SIPHON_TEST(test_jitter),
		SIPHON_TEST(test_rtcp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
