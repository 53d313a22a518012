/* UAC request builder and identifiers (RFC 3261 §8.1.1, §11.1). */
#include "harness.h"

#include "msg/msg.h"
#include "msg/uri.h"
#include "tsx/key.h"
#include "ua/ids.h"
#include "ua/request.h"

#include <errno.h>
#include <string.h>

static struct sip_msg m;
static char out[UA_REQUEST_MAX];

struct ids {
	char branch[UA_BRANCH_LEN + 1];
	char tag[UA_TAG_LEN + 1];
	char call_id[UA_CALL_ID_MAX];
};

/* A fresh OPTIONS as the UAC would send it. */
static int build(struct ids *id, enum tp_proto proto, const char *host, uint16_t port,
		 const char *ruri)
{
	struct ua_request r = { 0 };
	char h[80];

	assert_int_equal(tp_addr_from_numeric(&r.sent_by, str_cstr(host), port), 0);
	assert_int_equal(ua_branch_new(id->branch), 0);
	assert_int_equal(ua_tag_new(id->tag), 0);
	ua_addr_host(&r.sent_by, h, sizeof(h));
	assert_int_equal(ua_call_id_new(id->call_id, sizeof(id->call_id), str_cstr(h)), 0);
	r.method = STR_LIT("OPTIONS");
	r.ruri = str_cstr(ruri);
	r.proto = proto;
	r.branch = str_cstr(id->branch);
	r.from_tag = str_cstr(id->tag);
	r.call_id = str_cstr(id->call_id);
	r.cseq = 1;
	r.extra = STR_LIT("Accept: application/sdp\r\n");
	return ua_request_build(out, sizeof(out), &r);
}

static const struct sip_hdr *hdr(const char *name)
{
	return sip_msg_hdr_by_name(&m, str_cstr(name));
}

static void test_options_has_every_header(void **state)
{
	struct ids id;
	int n = build(&id, TP_UDP, "192.0.2.10", 5070, "sip:bob@example.com");

	(void)state;
	assert_true(n > 0);
	assert_int_equal(sip_msg_parse(&m, out, (size_t)n, SIP_PARSE_STREAM), 0);
	assert_int_equal(m.len, (size_t)n);
	assert_true(m.is_request);
	assert_int_equal(m.method_id, SIP_METHOD_OPTIONS);
	assert_str(m.ruri, "sip:bob@example.com");
	assert_true(strncmp(out, "OPTIONS sip:bob@example.com SIP/2.0\r\n", 37) == 0);

	/* Via: our sent-by, a 128-bit branch with the magic cookie, rport */
	assert_str(m.via1.transport, "UDP");
	assert_str(m.via1.host, "192.0.2.10");
	assert_int_equal(m.via1.port, 5070);
	assert_str(m.via1.branch, id.branch);
	assert_int_equal(m.via1.branch.len, 7 + 32);
	assert_memory_equal(m.via1.branch.s, TSX_MAGIC_COOKIE, 7);
	assert_true(m.via1.has_rport);
	assert_int_equal(m.via1.rport.len, 0);
	assert_null(sip_msg_hdr_next(&m, sip_msg_hdr(&m, SIP_HDR_VIA)));

	assert_int_equal(m.max_forwards, 70);
	assert_str(m.from.uri, "sip:siphon@192.0.2.10");
	assert_true(m.from.has_tag);
	assert_str(m.from.tag, id.tag);
	assert_int_equal(m.from.tag.len, UA_TAG_LEN);
	assert_str(m.to.uri, "sip:bob@example.com");
	assert_false(m.to.has_tag);
	assert_str(m.call_id, id.call_id);
	assert_non_null(strstr(id.call_id, "@192.0.2.10"));
	assert_int_equal(m.cseq.num, 1);
	assert_str(m.cseq.method, "OPTIONS");
	assert_int_equal(m.content_length, 0);
	assert_int_equal(m.body.len, 0);

	assert_non_null(sip_msg_hdr(&m, SIP_HDR_CONTACT));
	assert_str(sip_msg_hdr(&m, SIP_HDR_CONTACT)->value, "<sip:siphon@192.0.2.10:5070>");
	assert_non_null(hdr("Accept"));
	assert_str(hdr("Accept")->value, "application/sdp");
	assert_non_null(hdr("User-Agent"));
	assert_str(hdr("User-Agent")->value, "Siphon/" SIPHON_VERSION);
	assert_int_equal(sip_callid_check(m.call_id, NULL), 0);
}

static void test_stream_transports_in_via_and_contact(void **state)
{
	struct ids id;
	int n;

	(void)state;
	n = build(&id, TP_TCP, "10.0.0.1", 40000, "sip:10.0.0.2:5060;transport=tcp");
	assert_true(n > 0);
	assert_int_equal(sip_msg_parse(&m, out, (size_t)n, SIP_PARSE_DATAGRAM), 0);
	assert_str(m.via1.transport, "TCP");
	assert_str(sip_msg_hdr(&m, SIP_HDR_CONTACT)->value,
		   "<sip:siphon@10.0.0.1:40000;transport=tcp>");
	assert_str(m.to.uri, "sip:10.0.0.2:5060;transport=tcp");

	/* §8.1.1.8: a sips Request-URI gets a sips Contact (and From) */
	n = build(&id, TP_TLS, "10.0.0.1", 40001, "sips:bob@example.com");
	assert_true(n > 0);
	assert_int_equal(sip_msg_parse(&m, out, (size_t)n, SIP_PARSE_DATAGRAM), 0);
	assert_str(m.via1.transport, "TLS");
	assert_str(sip_msg_hdr(&m, SIP_HDR_CONTACT)->value, "<sips:siphon@10.0.0.1:40001>");
	assert_str(m.from.uri, "sips:siphon@10.0.0.1");
}

static void test_ipv6_hosts_are_bracketed(void **state)
{
	struct ids id;
	struct sip_uri u;
	int n = build(&id, TP_UDP, "2001:db8::7", 5062, "sip:[2001:db8::1]:5060");

	(void)state;
	assert_true(n > 0);
	assert_int_equal(sip_msg_parse(&m, out, (size_t)n, SIP_PARSE_DATAGRAM), 0);
	assert_str(m.via1.host, "[2001:db8::7]");
	assert_int_equal(m.via1.host_type, SIP_HOST_IPV6);
	assert_int_equal(m.via1.port, 5062);
	assert_str(m.from.uri, "sip:siphon@[2001:db8::7]");
	assert_int_equal(sip_uri_parse(&u, m.from.uri.s, m.from.uri.len, NULL), 0);
	assert_int_equal(u.host_type, SIP_HOST_IPV6);
	assert_str(sip_msg_hdr(&m, SIP_HDR_CONTACT)->value, "<sip:siphon@[2001:db8::7]:5062>");
	assert_non_null(strstr(id.call_id, "@[2001:db8::7]"));
	assert_int_equal(sip_callid_check(m.call_id, NULL), 0);
}

static void test_ids_are_unique(void **state)
{
	enum { N = 64 };
	static struct ids ids[N];

	(void)state;
	for (int i = 0; i < N; i++) {
		assert_true(build(&ids[i], TP_UDP, "127.0.0.1", 5060, "sip:127.0.0.1") > 0);
		assert_int_equal(strspn(ids[i].branch + 7, "0123456789abcdef"), 32);
		assert_int_equal(strspn(ids[i].tag, "0123456789abcdef"), UA_TAG_LEN);
		for (int j = 0; j < i; j++) {
			assert_string_not_equal(ids[i].branch, ids[j].branch);
			assert_string_not_equal(ids[i].tag, ids[j].tag);
			assert_string_not_equal(ids[i].call_id, ids[j].call_id);
		}
	}
}

static void test_body_dialog_and_errors(void **state)
{
	struct ua_request r = { 0 };
	char small[64], cid[40];
	int n;

	(void)state;
	assert_int_equal(tp_addr_from_numeric(&r.sent_by, STR_LIT("127.0.0.1"), 5060), 0);
	r.method = STR_LIT("MESSAGE");
	r.ruri = STR_LIT("sip:bob@127.0.0.1");
	r.branch = STR_LIT("z9hG4bKabc");
	r.from_uri = STR_LIT("sip:alice@example.com");
	r.from_tag = STR_LIT("t1");
	r.to_tag = STR_LIT("t2");
	r.call_id = STR_LIT("c@h");
	r.cseq = 7;
	r.content_type = STR_LIT("text/plain");
	r.body = STR_LIT("hello");
	n = ua_request_build(out, sizeof(out), &r);
	assert_true(n > 0);
	assert_int_equal(sip_msg_parse(&m, out, (size_t)n, SIP_PARSE_STREAM), 0);
	assert_str(m.from.uri, "sip:alice@example.com");
	assert_str(m.to.tag, "t2");
	assert_int_equal(m.cseq.num, 7);
	assert_str(m.cseq.method, "MESSAGE");
	assert_int_equal(m.content_length, 5);
	assert_str(m.body, "hello");
	assert_str(sip_msg_hdr(&m, SIP_HDR_CONTENT_TYPE)->value, "text/plain");

	assert_int_equal(ua_request_build(small, sizeof(small), &r), -ENOSPC);
	for (size_t cap = 0; cap < (size_t)n; cap += 7)
		assert_int_equal(ua_request_build(out, cap, &r), -ENOSPC);
	assert_int_equal(ua_request_build(out, (size_t)n - 1, &r), -ENOSPC);
	assert_int_equal(ua_request_build(out, (size_t)n, &r), n); /* no NUL after a body */

	r.call_id = STR_LIT("c@h\r\nX: injected");
	assert_int_equal(ua_request_build(out, sizeof(out), &r), -EINVAL);
	r.call_id = STR_LIT("c@h");
	r.content_type = STR_NULL; /* a body needs its type */
	assert_int_equal(ua_request_build(out, sizeof(out), &r), -EINVAL);
	r.content_type = STR_LIT("text/plain");
	r.branch = STR_NULL;
	assert_int_equal(ua_request_build(out, sizeof(out), &r), -EINVAL);

	assert_int_equal(ua_call_id_new(cid, sizeof(cid), STR_LIT("0123456789")), -ENOSPC);
	assert_int_equal(ua_call_id_new(cid, sizeof(cid), STR_NULL), 0);
	assert_int_equal(strlen(cid), 32);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		SIPHON_TEST(test_options_has_every_header),
		SIPHON_TEST(test_stream_transports_in_via_and_contact),
		SIPHON_TEST(test_ipv6_hosts_are_bracketed),
		SIPHON_TEST(test_ids_are_unique),
		SIPHON_TEST(test_body_dialog_and_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
