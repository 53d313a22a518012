#include "harness.h"

#include "msg/hdr.h"
#include "msg/uri.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>


/* All via-parms of all Via headers of a corpus file, parsed in order. */
struct via_all {
	char *buf;
	struct sip_via v[40];
	int n;
};

static void via_all_load(struct via_all *all, const char *file)
{
	size_t len;

	all->buf = harness_read_corpus(file, &len);
	all->n = 0;
	for (int h = 0;; h++) {
		struct str cur = harness_corpus_hdr(all->buf, len, "Via|v", h);
		const char *why = NULL;

		if (!cur.s)
			break;
		while (cur.len) {
			size_t before = cur.len;

			assert_true(all->n < 40);
			if (sip_via_parse(&all->v[all->n], &cur, &why) != 0)
				fail_msg("%s: Via %d: %s", file, h, why);
			assert_true(cur.len < before);
			all->n++;
		}
	}
}

static void test_basic(void **state)
{
	struct sip_via v;
	struct str cur = STR_LIT("SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds");
	const char *why = NULL;

	(void)state;
	assert_int_equal(sip_via_parse(&v, &cur, &why), 0);
	assert_null(why);
	assert_str(v.proto_name, "SIP");
	assert_str(v.proto_version, "2.0");
	assert_str(v.transport, "UDP");
	assert_str(v.host, "pc33.atlanta.com");
	assert_int_equal(v.host_type, SIP_HOST_NAME);
	assert_false(v.has_port);
	assert_int_equal(v.port, 0);
	assert_str(v.branch, "z9hG4bK776asdhds");
	assert_str(v.params, "branch=z9hG4bK776asdhds");
	assert_str(v.raw, "SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds");
	assert_false(v.has_rport);
	assert_int_equal(v.received.len, 0);
	assert_int_equal(cur.len, 0);
}

static void test_all_params(void **state)
{
	struct sip_via v;
	struct str cur = STR_LIT("SIP/2.0/TLS 192.0.2.4:5061 ; BRANCH=z9hG4bKx;received=192.0.2.9;rport=6000;"
				 "maddr=224.2.0.1;ttl=16;x-foo=\"q,;\";flag ,SIP/2.0/UDP h2;rport");

	(void)state;
	assert_int_equal(sip_via_parse(&v, &cur, NULL), 0);
	assert_str(v.transport, "TLS");
	assert_str(v.host, "192.0.2.4");
	assert_int_equal(v.host_type, SIP_HOST_IPV4);
	assert_true(v.has_port);
	assert_int_equal(v.port, 5061);
	assert_str(v.branch, "z9hG4bKx");
	assert_str(v.received, "192.0.2.9");
	assert_true(v.has_rport);
	assert_str(v.rport, "6000");
	assert_str(v.maddr, "224.2.0.1");
	assert_str(v.ttl, "16");
	assert_str(v.params, "BRANCH=z9hG4bKx;received=192.0.2.9;rport=6000;maddr=224.2.0.1;ttl=16;"
			     "x-foo=\"q,;\";flag");
	assert_memory_equal(v.raw.s + v.raw.len - 4, "flag", 4);
	assert_str(cur, "SIP/2.0/UDP h2;rport");

	assert_int_equal(sip_via_parse(&v, &cur, NULL), 0);
	assert_str(v.host, "h2");
	assert_true(v.has_rport);
	assert_int_equal(v.rport.len, 0);
	assert_int_equal(v.branch.len, 0);
	assert_int_equal(cur.len, 0);

	cur = STR_LIT("SIP/2.0/UDP h;maddr=proxy.example.com;ttl=0;ttl2=999");
	assert_int_equal(sip_via_parse(&v, &cur, NULL), 0);
	assert_str(v.maddr, "proxy.example.com");
	assert_str(v.ttl, "0");
}

/* RFC 4475 wsinv: LWS around the slashes, folding, two via-parms in one header */
static void test_wsinv(void **state)
{
	struct via_all all;

	(void)state;
	via_all_load(&all, "rfc4475/wsinv.dat");
	assert_int_equal(all.n, 3);
	assert_str(all.v[0].proto_name, "SIP");
	assert_str(all.v[0].proto_version, "2.0");
	assert_str(all.v[0].transport, "UDP");
	assert_str(all.v[0].host, "192.0.2.2");
	assert_str(all.v[0].branch, "390skdjuw");
	assert_str(all.v[1].transport, "TCP");
	assert_str(all.v[1].host, "spindle.example.com");
	assert_str(all.v[1].branch, "z9hG4bK9ikj8");
	assert_str(all.v[1].raw, "SIP  / 2.0  / TCP     spindle.example.com   ;\r\n  branch  =   z9hG4bK9ikj8");
	assert_str(all.v[2].transport, "UDP");
	assert_str(all.v[2].host, "192.168.255.111");
	assert_str(all.v[2].branch, "z9hG4bK30239");
	free(all.buf);
}

/* RFC 4475 longreq: 34 Via values under every spelling of the name */
static void test_longreq(void **state)
{
	struct via_all all;
	char host[32];

	(void)state;
	via_all_load(&all, "rfc4475/longreq.dat");
	assert_int_equal(all.n, 34);
	for (int i = 0; i < 33; i++) {
		snprintf(host, sizeof(host), "sip%d.example.com", 33 - i);
		assert_str(all.v[i].host, host);
		assert_str(all.v[i].transport, "TCP");
		assert_int_equal(all.v[i].params.len, 0);
	}
	assert_str(all.v[33].host, "host.example.com");
	assert_str(all.v[33].received, "192.0.2.5");
	assert_int_equal(all.v[33].branch.len, 215);
	free(all.buf);
}

/* RFC 4475 transports: UDP, SCTP, TLS, unknown token, TCP */
static void test_transports(void **state)
{
	static const char *want[] = { "UDP", "SCTP", "TLS", "UNKNOWN", "TCP" };
	struct via_all all;
	char host[32];

	(void)state;
	via_all_load(&all, "rfc4475/transports.dat");
	assert_int_equal(all.n, 5);
	for (int i = 0; i < 5; i++) {
		assert_str(all.v[i].transport, want[i]);
		snprintf(host, sizeof(host), "t%d.example.com", i + 1);
		assert_str(all.v[i].host, host);
		assert_true(all.v[i].branch.len > 7);
	}
	free(all.buf);
}

/* Every Via of every valid RFC 4475 file parses. */
static void test_corpus_sweep(void **state)
{
	static const char *files[] = {
		"rfc4475/intmeth.dat", "rfc4475/esc01.dat", "rfc4475/esc02.dat", "rfc4475/escnull.dat",
		"rfc4475/lwsdisp.dat", "rfc4475/dblreq.dat", "rfc4475/semiuri.dat", "rfc4475/mpart01.dat",
		"rfc4475/unreason.dat", "rfc4475/noreason.dat", "rfc4475/badbranch.dat",
		"rfc4475/inv2543.dat", "rfc4475/scalarlg.dat", "rfc4475/bcast.dat", "rfc4475/badvers.dat",
	};
	struct via_all all;

	(void)state;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		via_all_load(&all, files[i]);
		assert_true(all.n >= 1);
		free(all.buf);
	}
	via_all_load(&all, "rfc4475/intmeth.dat");
	assert_str(all.v[0].branch, "z9hG4bK-.!%66*_+`'~");
	free(all.buf);
	via_all_load(&all, "rfc4475/mpart01.dat");
	assert_true(all.v[0].has_rport);
	assert_int_equal(all.v[0].rport.len, 0);
	assert_int_equal(all.v[0].port, 5070);
	free(all.buf);
	via_all_load(&all, "rfc4475/badvers.dat");
	assert_str(all.v[0].proto_version, "7.0"); /* the caller answers 505 */
	free(all.buf);
}

/* RFC 5118 §4.5 received with and without brackets, §4.9 mixed addresses */
static void test_rfc5118(void **state)
{
	struct via_all all;

	(void)state;
	via_all_load(&all, "rfc5118/derived/via-received-param-with-delim.dat");
	assert_int_equal(all.n, 1);
	assert_str(all.v[0].host, "[2001:db8::9:1]");
	assert_int_equal(all.v[0].host_type, SIP_HOST_IPV6);
	assert_str(all.v[0].received, "[2001:db8::9:255]");
	assert_str(all.v[0].branch, "z9hG4bKas3-111");
	free(all.buf);

	via_all_load(&all, "rfc5118/derived/via-received-param-no-delim.dat");
	assert_int_equal(all.n, 1);
	assert_str(all.v[0].received, "2001:db8::9:255");
	assert_str(all.v[0].branch, "z9hG4bKas3");
	free(all.buf);

	via_all_load(&all, "rfc5118/derived/mult-ip-in-header.dat");
	assert_int_equal(all.n, 3);
	assert_str(all.v[0].host, "[2001:db8::9:1]");
	assert_true(all.v[0].has_port);
	assert_int_equal(all.v[0].port, 6050);
	assert_str(all.v[1].host, "192.0.2.1");
	assert_int_equal(all.v[1].host_type, SIP_HOST_IPV4);
	assert_str(all.v[2].transport, "TCP");
	assert_int_equal(all.v[2].host_type, SIP_HOST_IPV6);
	assert_str(all.v[2].received, "192.0.2.200");
	assert_str(all.v[2].branch, "z9hG4bK451jj");
	free(all.buf);
}

/* RFC 4475 badinv01: empty params and via-parms; the sent-by survives. */
static void test_badinv01(void **state)
{
	size_t len;
	char *buf = harness_read_corpus("rfc4475/badinv01.dat", &len);
	struct str cur = harness_corpus_hdr(buf, len, "Via|v", 0);
	struct sip_via v;
	const char *why = NULL;

	(void)state;
	assert_str(cur, "SIP/2.0/UDP 192.0.2.15;;,;,,");
	assert_int_equal(sip_via_parse(&v, &cur, &why), -EINVAL);
	assert_non_null(why);
	assert_str(v.proto_name, "SIP");
	assert_str(v.transport, "UDP");
	assert_str(v.host, "192.0.2.15");
	assert_int_equal(v.host_type, SIP_HOST_IPV4);
	free(buf);
}

static void via_bad(const char *in)
{
	struct sip_via v;
	struct str cur = str_cstr(in);
	const char *why = NULL;
	int rc;

	while ((rc = sip_via_parse(&v, &cur, &why)) == 0 && cur.len)
		;
	if (rc != -EINVAL)
		fail_msg("'%s' gave %d", in, rc);
	assert_non_null(why);
}

static void test_errors(void **state)
{
	(void)state;
	via_bad("");
	{
		struct sip_via v;
		struct str cur = STR_NULL;

		assert_int_equal(sip_via_parse(&v, &cur, NULL), -EINVAL);
	}
	via_bad(" ");
	via_bad(",SIP/2.0/UDP a");
	via_bad("SIP/2.0/UDP a, , SIP/2.0/UDP b");
	via_bad("SIP/2.0/UDP a,,SIP/2.0/UDP b");
	via_bad("SIP/2.0/UDP a,");
	via_bad("SIP/2.0/UDP a, ");
	via_bad("SIP/2.0/UDP a;");
	via_bad("SIP/2.0/UDP a;;branch=x");
	via_bad("SIP/2.0 a");
	via_bad("SIP/2.0/ a");
	via_bad("SIP//UDP a");
	via_bad("SIP 2.0/UDP a");
	via_bad("SIP/2.0/UDP");
	via_bad("SIP/2.0/UDP ");
	via_bad("SIP/2.0/UDPa");
	via_bad("SIP/2.0/UDP/x a");
	via_bad("SIP/2.0/UDP -bad-");
	via_bad("SIP/2.0/UDP 2001:db8::1");      /* RFC 5118 §4.2 */
	via_bad("SIP/2.0/UDP [2001:db8::1");
	via_bad("SIP/2.0/UDP a:99999");
	via_bad("SIP/2.0/UDP a:");
	via_bad("SIP/2.0/UDP a b");
	via_bad("SIP/2.0/UDP a\r\n;branch=x");   /* CRLF without WSP */
	via_bad("SIP/2.0/UDP a;branch=x;branch=y");
	via_bad("SIP/2.0/UDP a;branch");
	via_bad("SIP/2.0/UDP a;branch=");
	via_bad("SIP/2.0/UDP a;branch=\"x\"");
	via_bad("SIP/2.0/UDP a;branch=a:b");
	via_bad("SIP/2.0/UDP a;received=1.2.3.4;received=1.2.3.4");
	via_bad("SIP/2.0/UDP a;received=host.example.com");
	via_bad("SIP/2.0/UDP a;received=1.2.3.4:5060");
	via_bad("SIP/2.0/UDP a;received=1.2.3.256");
	via_bad("SIP/2.0/UDP a;received=2001:db8::zz");
	via_bad("SIP/2.0/UDP a;received");
	via_bad("SIP/2.0/UDP a;rport;rport");
	via_bad("SIP/2.0/UDP a;rport=abc");
	via_bad("SIP/2.0/UDP a;rport=70000");
	via_bad("SIP/2.0/UDP a;maddr=x;maddr=y");
	via_bad("SIP/2.0/UDP a;maddr=-x-");
	via_bad("SIP/2.0/UDP a;maddr=h:5060");
	via_bad("SIP/2.0/UDP a;ttl=256");
	via_bad("SIP/2.0/UDP a;ttl=0001");
	via_bad("SIP/2.0/UDP a;ttl=x");
	via_bad("SIP/2.0/UDP a;ttl=1;ttl=2");
	via_bad("SIP/2.0/UDP a;p=\"open");
}

/* On a late error the sent-protocol and sent-by are still there. */
static void test_error_keeps_sent_by(void **state)
{
	struct sip_via v;
	struct str cur = STR_LIT("SIP/2.0/TCP [2001:db8::1]:5070;branch=z9hG4bKa;ttl=300");
	const char *why = NULL;

	(void)state;
	assert_int_equal(sip_via_parse(&v, &cur, &why), -EINVAL);
	assert_non_null(why);
	assert_str(v.transport, "TCP");
	assert_str(v.host, "[2001:db8::1]");
	assert_int_equal(v.host_type, SIP_HOST_IPV6);
	assert_int_equal(v.port, 5070);
	assert_true(v.has_port);
	assert_str(v.branch, "z9hG4bKa");
	/* the cursor did not move */
	assert_int_equal(cur.len, strlen("SIP/2.0/TCP [2001:db8::1]:5070;branch=z9hG4bKa;ttl=300"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		SIPHON_TEST(test_basic),
		SIPHON_TEST(test_all_params),
		SIPHON_TEST(test_wsinv),
		SIPHON_TEST(test_longreq),
		SIPHON_TEST(test_transports),
		SIPHON_TEST(test_corpus_sweep),
		SIPHON_TEST(test_rfc5118),
		SIPHON_TEST(test_badinv01),
		SIPHON_TEST(test_errors),
		SIPHON_TEST(test_error_keeps_sent_by),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
