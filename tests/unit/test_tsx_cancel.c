/* CANCEL built from the INVITE it cancels (RFC 3261 §9.1). */
#include "harness.h"

#include "msg/msg.h"
#include "tsx/cancel.h"

#include <errno.h>
#include <string.h>

static const char invite[] =
	"INVITE sip:bob@192.0.2.4:5062;transport=udp SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKsph-1.0;rport, SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKu\r\n"
	"Via: SIP/2.0/TCP 10.0.0.2;branch=z9hG4bKv\r\n"
	"Max-Forwards: 69\r\n"
	"Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>\r\n"
	"Route: <sip:p3.example.com;lr>\r\n"
	"From: \"Alice\" <sip:alice@example.com>;tag=a1\r\n"
	"To: <sip:bob@example.com>\r\n"
	"Call-ID: c1@example.com\r\n"
	"CSeq: 314 INVITE\r\n"
	"Contact: <sip:alice@10.0.0.1>\r\n"
	"Content-Type: application/sdp\r\n"
	"Content-Length: 4\r\n\r\n"
	"v=0\n";

static const char want[] =
	"CANCEL sip:bob@192.0.2.4:5062;transport=udp SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKsph-1.0;rport\r\n"
	"Max-Forwards: 70\r\n"
	"Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>\r\n"
	"Route: <sip:p3.example.com;lr>\r\n"
	"From: \"Alice\" <sip:alice@example.com>;tag=a1\r\n"
	"To: <sip:bob@example.com>\r\n"
	"Call-ID: c1@example.com\r\n"
	"CSeq: 314 CANCEL\r\n"
	"Content-Length: 0\r\n\r\n";

static void test_build(void **state)
{
	struct sip_msg m, c;
	char out[1024];
	int n;

	(void)state;
	assert_int_equal(sip_msg_parse(&m, invite, sizeof(invite) - 1, SIP_PARSE_DATAGRAM), 0);
	n = tsx_cancel_build(NULL, 0, &m);
	assert_int_equal(n, (int)strlen(want));
	/* too small: nothing written past cap, same length reported */
	memset(out, 'x', sizeof(out));
	assert_int_equal(tsx_cancel_build(out, (size_t)n - 1, &m), n);
	assert_int_equal(tsx_cancel_build(out, sizeof(out), &m), n);
	assert_memory_equal(out, want, (size_t)n);
	/* it parses, and matches the INVITE's branch */
	assert_int_equal(sip_msg_parse(&c, out, (size_t)n, SIP_PARSE_DATAGRAM), 0);
	assert_int_equal(c.method_id, SIP_METHOD_CANCEL);
	assert_str(c.via1.branch, "z9hG4bKsph-1.0");
	assert_int_equal(c.cseq.num, 314);
}

static void test_not_invite(void **state)
{
	static const char opt[] = "OPTIONS sip:bob@example.com SIP/2.0\r\n"
				  "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKx\r\n"
				  "From: <sip:a@example.com>;tag=1\r\nTo: <sip:bob@example.com>\r\n"
				  "Call-ID: x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
	struct sip_msg m;

	(void)state;
	assert_int_equal(sip_msg_parse(&m, opt, sizeof(opt) - 1, SIP_PARSE_DATAGRAM), 0);
	assert_int_equal(tsx_cancel_build(NULL, 0, &m), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		SIPHON_TEST(test_build),
		SIPHON_TEST(test_not_invite),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
