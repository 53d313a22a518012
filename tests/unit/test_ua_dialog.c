/* Dialogs (RFC 3261 §12): state from the UAC's 2xx and the UAS's INVITE,
 * route sets, in-dialog requests (loose and strict routing), matching,
 * CSeq order, and the ACK for a 2xx (§13.2.2.4). */
#include "harness.h"

#include "msg/msg.h"
#include "ua/dialog.h"
#include "ua/ua.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static struct sip_msg m;

static const char ok_2xx[] =
	"SIP/2.0 200 OK\r\n"
	"Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKabc\r\n"
	"Record-Route: <sip:p2.example.com;lr>\r\n"
	"Record-Route: <sip:p1.example.com;lr>, <sip:p0.example.com;lr>\r\n"
	"From: <sip:alice@example.com>;tag=a1\r\n"
	"To: <sip:bob@example.com>;tag=b2\r\n"
	"Call-ID: cid-1@host\r\n"
	"CSeq: 7 INVITE\r\n"
	"Contact: <sip:bob@192.0.2.4:5080>\r\n"
	"Content-Length: 0\r\n\r\n";

static const char invite[] =
	"INVITE sip:bob@192.0.2.4:5080 SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKp\r\n"
	"Via: SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bKa\r\n"
	"Record-Route: <sip:192.0.2.9:5060;lr>\r\n"
	"From: \"Alice\" <sip:alice@example.com>;tag=a1\r\n"
	"To: <sip:bob@example.com>\r\n"
	"Call-ID: cid-2@host\r\n"
	"CSeq: 20 INVITE\r\n"
	"Contact: <sip:alice@192.0.2.1:5070>\r\n"
	"Max-Forwards: 69\r\n"
	"Content-Length: 0\r\n\r\n";

static void parse(const char *s)
{
	assert_int_equal(sip_msg_parse(&m, s, strlen(s), SIP_PARSE_DATAGRAM), 0);
}

static void test_uac_route_set_reversed(void **state)
{
	struct ua_dialog d;
	struct ua_req_desc q;
	char bufs[UA_DLG_ROUTES_MAX + UA_DLG_URI_MAX];

	(void)state;
	parse(ok_2xx);
	assert_int_equal(ua_dialog_uac(&d, &m, "sip:alice@example.com", "a1", 7), 0);
	assert_string_equal(d.remote_tag, "b2");
	assert_string_equal(d.remote_target, "sip:bob@192.0.2.4:5080");
	/* §12.1.2: Record-Route in reverse order */
	assert_string_equal(d.routes, "Route: <sip:p0.example.com;lr>\r\n"
				      "Route: <sip:p1.example.com;lr>\r\n"
				      "Route: <sip:p2.example.com;lr>\r\n");
	assert_false(d.strict);
	ua_dialog_request(&d, "BYE", &q, bufs, sizeof(bufs));
	assert_string_equal(q.ruri, "sip:bob@192.0.2.4:5080");
	assert_string_equal(q.hop, "sip:p0.example.com;lr");
	assert_int_equal(q.cseq, 8);
	assert_string_equal(q.to_tag, "b2");
	assert_string_equal(q.from_tag, "a1");
	assert_string_equal(q.call_id, "cid-1@host");
	ua_dialog_request(&d, "INFO", &q, bufs, sizeof(bufs));
	assert_int_equal(q.cseq, 9);
}

static void test_uas_dialog(void **state)
{
	struct ua_dialog d;
	struct ua_req_desc q;
	char bufs[UA_DLG_ROUTES_MAX + UA_DLG_URI_MAX];

	(void)state;
	parse(invite);
	assert_int_equal(ua_dialog_uas(&d, &m, "bt"), 0);
	assert_string_equal(d.remote_uri, "sip:alice@example.com");
	assert_string_equal(d.local_uri, "sip:bob@example.com");
	assert_string_equal(d.remote_target, "sip:alice@192.0.2.1:5070");
	assert_string_equal(d.routes, "Route: <sip:192.0.2.9:5060;lr>\r\n");
	assert_int_equal(d.remote_cseq, 20);
	ua_dialog_request(&d, "BYE", &q, bufs, sizeof(bufs));
	assert_int_equal(q.cseq, 1); /* our own CSeq space (§12.2.1.1) */
	assert_string_equal(q.to_uri, "sip:alice@example.com");
}

static void test_match_and_cseq(void **state)
{
	static const char bye[] =
		"BYE sip:bob@192.0.2.4:5080 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bKb\r\n"
		"From: <sip:alice@example.com>;tag=a1\r\n"
		"To: <sip:bob@example.com>;tag=bt\r\n"
		"Call-ID: cid-2@host\r\n"
		"CSeq: %u BYE\r\n"
		"Content-Length: 0\r\n\r\n";
	char buf[512];
	struct ua_dialog d;

	(void)state;
	parse(invite);
	assert_int_equal(ua_dialog_uas(&d, &m, "bt"), 0);
	snprintf(buf, sizeof(buf), bye, 21u);
	parse(buf);
	assert_true(ua_dialog_match(&d, &m));
	assert_int_equal(ua_dialog_check_cseq(&d, &m), 0);
	snprintf(buf, sizeof(buf), bye, 19u);
	parse(buf);
	assert_int_equal(ua_dialog_check_cseq(&d, &m), -ERANGE); /* §12.2.2: out of order */
	strcpy(d.local_tag, "other");
	assert_false(ua_dialog_match(&d, &m));
}

static void test_strict_routing(void **state)
{
	static const char resp[] =
		"SIP/2.0 200 OK\r\n"
		"Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKabc\r\n"
		"Record-Route: <sip:p1.example.com>\r\n"
		"Record-Route: <sip:strict.example.com>\r\n"
		"From: <sip:alice@example.com>;tag=a1\r\n"
		"To: <sip:bob@example.com>;tag=b2\r\n"
		"Call-ID: cid-3@host\r\n"
		"CSeq: 1 INVITE\r\n"
		"Contact: <sip:bob@192.0.2.4>\r\n"
		"Content-Length: 0\r\n\r\n";
	struct ua_dialog d;
	struct ua_req_desc q;
	char bufs[UA_DLG_ROUTES_MAX + UA_DLG_URI_MAX];

	(void)state;
	parse(resp);
	assert_int_equal(ua_dialog_uac(&d, &m, "sip:alice@example.com", "a1", 1), 0);
	assert_true(d.strict);
	ua_dialog_request(&d, "BYE", &q, bufs, sizeof(bufs));
	/* §12.2.1.1: the strict router is the Request-URI, the remote target
	 * the last Route */
	assert_string_equal(q.ruri, "sip:strict.example.com");
	assert_string_equal(q.routes, "Route: <sip:p1.example.com>\r\n"
				      "Route: <sip:bob@192.0.2.4>\r\n");
}

static void test_refresh_and_hop(void **state)
{
	static const char reinv[] =
		"INVITE sip:bob@192.0.2.4:5080 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bKr\r\n"
		"From: <sip:alice@example.com>;tag=a1\r\n"
		"To: <sip:bob@example.com>;tag=bt\r\n"
		"Call-ID: cid-2@host\r\n"
		"CSeq: 21 INVITE\r\n"
		"Contact: <sip:alice@192.0.2.77:6000>\r\n"
		"Content-Length: 0\r\n\r\n";
	struct ua_dialog d;
	struct tp_addr fb, out;
	char ab[64];

	(void)state;
	parse(invite);
	assert_int_equal(ua_dialog_uas(&d, &m, "bt"), 0);
	parse(reinv);
	ua_dialog_refresh(&d, &m); /* §12.2.2 target refresh */
	assert_string_equal(d.remote_target, "sip:alice@192.0.2.77:6000");
	assert_int_equal(tp_addr_from_numeric(&fb, STR_LIT("10.0.0.1"), 1), 0);
	ua_dialog_hop_addr(&d, &fb, &out); /* the first route is numeric */
	assert_string_equal(tp_addr_fmt(&out, ab, sizeof(ab)), "192.0.2.9:5060");
	d.first_route[0] = 0;
	ua_dialog_hop_addr(&d, &fb, &out);
	assert_string_equal(tp_addr_fmt(&out, ab, sizeof(ab)), "192.0.2.77:6000");
}

static void test_ack_for_2xx(void **state)
{
	struct ua_cfg cfg = { .listen = "127.0.0.1", .aor = "sip:alice@example.com" };
	struct ua *u;
	struct ua_dialog d;
	char out[4096];
	int n;

	(void)state;
	parse(ok_2xx);
	assert_int_equal(ua_dialog_uac(&d, &m, "sip:alice@example.com", "a1", 7), 0);
	assert_int_equal(ua_create(&u, &cfg), 0);
	n = ua_dialog_ack(&d, u, 7, NULL, NULL, out, sizeof(out));
	assert_true(n > 0);
	assert_int_equal(sip_msg_parse(&m, out, (size_t)n, SIP_PARSE_DATAGRAM), 0);
	assert_int_equal(m.method_id, SIP_METHOD_ACK);
	assert_str(m.ruri, "sip:bob@192.0.2.4:5080");
	assert_int_equal(m.cseq.num, 7); /* §13.2.2.4: the INVITE's CSeq number */
	assert_str(m.cseq.method, "ACK");
	assert_str(m.to.tag, "b2");
	assert_non_null(sip_msg_hdr(&m, SIP_HDR_ROUTE));
	assert_str(sip_msg_hdr(&m, SIP_HDR_ROUTE)->value, "<sip:p0.example.com;lr>");
	assert_true(strncmp(ua_contact(u), "sip:alice@127.0.0.1:", 20) == 0);
	ua_destroy(u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		SIPHON_TEST(test_uac_route_set_reversed),
		SIPHON_TEST(test_uas_dialog),
		SIPHON_TEST(test_match_and_cseq),
		SIPHON_TEST(test_strict_routing),
		SIPHON_TEST(test_refresh_and_hop),
		SIPHON_TEST(test_ack_for_2xx),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
