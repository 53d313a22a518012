/* Response builder (RFC 3261 §8.2.6) and forwarding editor (§16.6). */
#include "harness.h"

#include "msg/build.h"
#include "msg/msg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static struct sip_msg req, resp;
static char out[8192];

static const char invite[] =
	"INVITE sip:bob@example.com SIP/2.0\r\n"
	"Via: SIP/2.0/UDP pc33.example.com:5070;branch=z9hG4bK776asdhds;rport\r\n"
	"v: SIP/2.0/TCP proxy.example.org;branch=z9hG4bKnashds8, SIP/2.0/UDP c.example.net\r\n"
	"Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>\r\n"
	"Route: <sip:p3.example.com;lr>\r\n"
	"Max-Forwards: 70\r\n"
	"To: Bob <sip:bob@example.com>\r\n"
	"From: Alice <sip:alice@example.com>;tag=1928301774\r\n"
	"Call-ID: a84b4c76e66710@pc33.example.com\r\n"
	"CSeq: 314159 INVITE\r\n"
	"Contact: <sip:alice@pc33.example.com>\r\n"
	"Content-Type: application/sdp\r\n"
	"Content-Length: 4\r\n"
	"\r\n"
	"v=0\n"
	"TRAILING-OCTETS";

static void parse_invite(void)
{
	assert_int_equal(sip_msg_parse(&req, invite, sizeof(invite) - 1, SIP_PARSE_DATAGRAM), 0);
}

static const struct sip_hdr *resp_hdr(enum sip_hdr_type t)
{
	const struct sip_hdr *h = sip_msg_hdr(&resp, t);

	assert_non_null(h);
	return h;
}

static void test_response_copies_headers(void **state)
{
	struct sip_resp_opts o = { .to_tag = STR_LIT("xyz"), .server = STR_LIT("Siphon/test"),
				   .received = STR_LIT("192.0.2.4"), .rport = 5071 };
	int n;

	(void)state;
	parse_invite();
	n = sip_resp_build(out, sizeof(out), &req, 486, STR_LIT("Busy Here"), &o);
	assert_true(n > 0);
	assert_int_equal(sip_msg_parse(&resp, out, (size_t)n, SIP_PARSE_STREAM), 0);
	assert_false(resp.is_request);
	assert_int_equal(resp.status, 486);
	assert_str(resp.reason, "Busy Here");
	/* §18.2.1 received added, RFC 3581 rport filled, other params kept */
	assert_str(resp_hdr(SIP_HDR_VIA)->value,
		   "SIP/2.0/UDP pc33.example.com:5070;branch=z9hG4bK776asdhds;received=192.0.2.4;rport=5071");
	/* the other Via line is copied byte for byte, compact name and all */
	assert_str(sip_msg_hdr_next(&resp, resp_hdr(SIP_HDR_VIA))->line,
		   "v: SIP/2.0/TCP proxy.example.org;branch=z9hG4bKnashds8, SIP/2.0/UDP c.example.net\r\n");
	assert_str(resp_hdr(SIP_HDR_TO)->value, "Bob <sip:bob@example.com>;tag=xyz");
	assert_str(resp.to.tag, "xyz");
	assert_str(resp.from.tag, "1928301774");
	assert_str(resp.call_id, "a84b4c76e66710@pc33.example.com");
	assert_int_equal(resp.cseq.num, 314159);
	assert_str(resp.cseq.method, "INVITE");
	assert_str(resp_hdr(SIP_HDR_SERVER)->value, "Siphon/test");
	assert_int_equal(resp.content_length, 0);
	/* nothing else of the request leaks into the response */
	assert_null(sip_msg_hdr(&resp, SIP_HDR_ROUTE));
	assert_null(sip_msg_hdr(&resp, SIP_HDR_CONTACT));
	assert_null(sip_msg_hdr(&resp, SIP_HDR_MAX_FORWARDS));
}

static void test_response_tag_rules(void **state)
{
	static const char tagged[] = "BYE sip:a@b SIP/2.0\r\n"
				     "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
				     "From: <sip:x@y>;tag=1\r\nTo: <sip:a@b>;tag=existing\r\n"
				     "Call-ID: c\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n";
	struct sip_resp_opts o = { .to_tag = STR_LIT("new") };
	int n;

	(void)state;
	/* 100 Trying never gets a To tag (§8.2.6.1) */
	parse_invite();
	n = sip_resp_build(out, sizeof(out), &req, 100, STR_LIT("Trying"), &o);
	assert_true(n > 0);
	assert_int_equal(sip_msg_parse(&resp, out, (size_t)n, SIP_PARSE_STREAM), 0);
	assert_false(resp.to.has_tag);
	/* no received/rport asked: the top Via is copied unchanged */
	assert_str(resp_hdr(SIP_HDR_VIA)->value,
		   "SIP/2.0/UDP pc33.example.com:5070;branch=z9hG4bK776asdhds;rport");
	/* an existing To tag is kept, never doubled */
	assert_int_equal(sip_msg_parse(&req, tagged, sizeof(tagged) - 1, 0), 0);
	n = sip_resp_build(out, sizeof(out), &req, 200, STR_LIT("OK"), &o);
	assert_int_equal(sip_msg_parse(&resp, out, (size_t)n, SIP_PARSE_STREAM), 0);
	assert_str(resp.to.tag, "existing");
}

static void test_response_body_and_extra(void **state)
{
	struct sip_resp_opts o = { .extra = STR_LIT("Allow: OPTIONS\r\nUnsupported: foo\r\n"),
				   .content_type = STR_LIT("text/plain"), .body = STR_LIT("hello") };
	int n;

	(void)state;
	parse_invite();
	n = sip_resp_build(out, sizeof(out), &req, 420, STR_LIT("Bad Extension"), &o);
	assert_int_equal(sip_msg_parse(&resp, out, (size_t)n, SIP_PARSE_STREAM), 0);
	assert_str(resp.body, "hello");
	assert_str(resp_hdr(SIP_HDR_UNSUPPORTED)->value, "foo");
	assert_str(resp_hdr(SIP_HDR_ALLOW)->value, "OPTIONS");
	assert_str(resp_hdr(SIP_HDR_CONTENT_TYPE)->value, "text/plain");
	/* too small a buffer is an error, never a truncated message */
	for (size_t cap = 0; cap < (size_t)n; cap += 7)
		assert_int_equal(sip_resp_build(out, cap, &req, 420, STR_LIT("Bad Extension"), &o), -ENOSPC);
}

static void test_response_to_malformed(void **state)
{
	/* RFC 4475 scalar02: the 400 still copies the (bad) CSeq line */
	size_t len;
	char *b = harness_read_corpus("rfc4475/scalar02.dat", &len);
	int n;

	(void)state;
	assert_int_equal(sip_msg_parse(&req, b, len, 0), -EBADMSG);
	assert_true(req.via1_ok);
	n = sip_resp_build(out, sizeof(out), &req, 400, str_cstr(req.err.reason), NULL);
	assert_true(n > 0);
	assert_int_equal(sip_msg_parse(&resp, out, (size_t)n, SIP_PARSE_STREAM), -EBADMSG);
	assert_int_equal(resp.status, 400);
	assert_str(resp.reason, "Bad CSeq");
	assert_non_null(sip_msg_hdr(&resp, SIP_HDR_CSEQ));
	free(b);
}

static void test_forward_edits(void **state)
{
	static const char want[] =
		"INVITE sip:bob@example.com SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKproxy1\r\n"
		"Via: SIP/2.0/UDP pc33.example.com:5070;branch=z9hG4bK776asdhds;rport\r\n"
		"v: SIP/2.0/TCP proxy.example.org;branch=z9hG4bKnashds8, SIP/2.0/UDP c.example.net\r\n"
		"Route: <sip:p2.example.com;lr>\r\n"
		"Route: <sip:p3.example.com;lr>\r\n"
		"Max-Forwards: 69\r\n"
		"Record-Route: <sip:10.0.0.1;lr>\r\n"
		"To: Bob <sip:bob@example.com>\r\n"
		"From: Alice <sip:alice@example.com>;tag=1928301774\r\n"
		"Call-ID: a84b4c76e66710@pc33.example.com\r\n"
		"CSeq: 314159 INVITE\r\n"
		"Contact: <sip:alice@pc33.example.com>\r\n"
		"Content-Type: application/sdp\r\n"
		"Content-Length: 4\r\n"
		"\r\n"
		"v=0\n";
	struct sip_edit e;
	char mf[4];
	int n;

	(void)state;
	parse_invite();
	sip_edit_init(&e, &req);
	assert_int_equal(sip_fwd_add_via(&e, STR_LIT("Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKproxy1\r\n")), 0);
	assert_int_equal(sip_fwd_drop_top_route(&e), 0);
	assert_int_equal(sip_fwd_dec_max_forwards(&e, mf), 0);
	/* no Record-Route yet: it goes above To, after the edited lines */
	assert_int_equal(sip_edit_splice(&e, sip_msg_hdr(&req, SIP_HDR_TO)->line.s, 0,
					 STR_LIT("Record-Route: <sip:10.0.0.1;lr>\r\n")), 0);
	n = sip_edit_apply(&e, out, sizeof(out));
	/* the trailing datagram octets are not forwarded (RFC 4475 §3.1.1.8) */
	assert_int_equal(n, (int)sizeof(want) - 1);
	assert_memory_equal(out, want, sizeof(want) - 1);
	/* the result is itself a valid message */
	assert_int_equal(sip_msg_parse(&resp, out, (size_t)n, SIP_PARSE_STREAM), 0);
	assert_int_equal(resp.max_forwards, 69);
	for (size_t cap = 0; cap < (size_t)n; cap += 13)
		assert_int_equal(sip_edit_apply(&e, out, cap), -ENOSPC);
}

static void test_forward_single_route_and_rr(void **state)
{
	static const char m1[] = "MESSAGE sip:a@b SIP/2.0\r\n"
				 "Record-Route: <sip:old.example.com;lr>\r\n"
				 "Route: <sip:only.example.com;lr>\r\n"
				 "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
				 "From: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\n"
				 "Call-ID: c\r\nCSeq: 1 MESSAGE\r\nMax-Forwards: 1\r\nContent-Length: 0\r\n\r\n";
	static const char want[] = "MESSAGE sip:a@b SIP/2.0\r\n"
				   "Record-Route: <sip:me;lr>\r\n"
				   "Record-Route: <sip:old.example.com;lr>\r\n"
				   "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
				   "From: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\n"
				   "Call-ID: c\r\nCSeq: 1 MESSAGE\r\nMax-Forwards: 0\r\nContent-Length: 0\r\n\r\n";
	struct sip_edit e;
	char mf[4];
	int n;

	(void)state;
	assert_int_equal(sip_msg_parse(&req, m1, sizeof(m1) - 1, 0), 0);
	sip_edit_init(&e, &req);
	assert_int_equal(sip_fwd_drop_top_route(&e), 0);
	assert_int_equal(sip_fwd_add_record_route(&e, STR_LIT("Record-Route: <sip:me;lr>\r\n")), 0);
	assert_int_equal(sip_fwd_dec_max_forwards(&e, mf), 0);
	n = sip_edit_apply(&e, out, sizeof(out));
	assert_int_equal(n, (int)sizeof(want) - 1);
	assert_memory_equal(out, want, sizeof(want) - 1);

	/* Max-Forwards 0 cannot be decremented; no Route to drop */
	assert_int_equal(sip_msg_parse(&req, want, sizeof(want) - 1, 0), 0);
	sip_edit_init(&e, &req);
	assert_int_equal(sip_fwd_dec_max_forwards(&e, mf), -ERANGE);
	assert_int_equal(sip_fwd_drop_top_route(&e), -ENOENT);
}

static void test_forward_adds_max_forwards(void **state)
{
	size_t len;
	char *b = harness_read_corpus("rfc4475/inv2543.dat", &len);
	struct sip_edit e;
	char mf[4];
	int n;

	(void)state;
	assert_int_equal(sip_msg_parse(&req, b, len, 0), 0);
	sip_edit_init(&e, &req);
	assert_int_equal(sip_fwd_dec_max_forwards(&e, mf), 0);
	n = sip_edit_apply(&e, out, sizeof(out));
	assert_int_equal(n, (int)len + 18);
	assert_int_equal(sip_msg_parse(&resp, out, (size_t)n, 0), 0);
	assert_int_equal(resp.max_forwards, 70);
	free(b);
}

/* The only Route is the first header line: dropping it and adding lines
 * at the top meet at one offset; the insertions must come first. */
static void test_forward_insert_where_deleted(void **state)
{
	static const char m1[] = "OPTIONS sip:a@b SIP/2.0\r\n"
				 "Route: <sip:me;lr>\r\n"
				 "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
				 "From: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\n"
				 "Call-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
	static const char want[] = "OPTIONS sip:a@b SIP/2.0\r\n"
				   "Record-Route: <sip:me;lr>\r\n"
				   "Max-Forwards: 70\r\n"
				   "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
				   "From: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\n"
				   "Call-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
	static const char two_mf[] = "OPTIONS sip:a@b SIP/2.0\r\n"
				     "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
				     "From: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\n"
				     "Call-ID: c\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 5\r\n"
				     "Max-Forwards: 6\r\nContent-Length: 0\r\n\r\n";
	struct sip_edit e;
	char mf[4];
	int n;

	(void)state;
	assert_int_equal(sip_msg_parse(&req, m1, sizeof(m1) - 1, 0), 0);
	sip_edit_init(&e, &req);
	assert_int_equal(sip_fwd_drop_top_route(&e), 0);
	assert_int_equal(sip_fwd_add_record_route(&e, STR_LIT("Record-Route: <sip:me;lr>\r\n")), 0);
	assert_int_equal(sip_fwd_dec_max_forwards(&e, mf), 0);
	n = sip_edit_apply(&e, out, sizeof(out));
	assert_int_equal(n, (int)sizeof(want) - 1);
	assert_memory_equal(out, want, sizeof(want) - 1);
	/* two Max-Forwards (a 400 anyway): never add a third */
	assert_int_equal(sip_msg_parse(&req, two_mf, sizeof(two_mf) - 1, 0), -EBADMSG);
	sip_edit_init(&e, &req);
	assert_int_equal(sip_fwd_dec_max_forwards(&e, mf), -EINVAL);
}

/* Two To headers (a 400): the copied one keeps its own tag and gets no second. */
static void test_response_no_double_tag(void **state)
{
	static const char m1[] = "BYE sip:a@b SIP/2.0\r\n"
				 "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
				 "From: <sip:x@y>;tag=1\r\nTo: <sip:a@b>;tag=theirs\r\nTo: <sip:c@d>\r\n"
				 "Call-ID: c\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n";
	struct sip_resp_opts o = { .to_tag = STR_LIT("ours") };
	int n;

	(void)state;
	assert_int_equal(sip_msg_parse(&req, m1, sizeof(m1) - 1, 0), -EBADMSG);
	assert_string_equal(req.err.reason, "Multiple To");
	n = sip_resp_build(out, sizeof(out), &req, 400, STR_LIT("Multiple To"), &o);
	assert_true(n > 0);
	assert_null(memmem(out, (size_t)n, "ours", 4));
	assert_non_null(memmem(out, (size_t)n, "To: <sip:a@b>;tag=theirs\r\n", 26));
}

static void test_edit_bounds(void **state)
{
	struct sip_edit e;

	(void)state;
	parse_invite();
	sip_edit_init(&e, &req);
	assert_int_equal(sip_edit_splice(&e, out, 0, STR_NULL), -EINVAL); /* not in the message */
	assert_int_equal(sip_edit_splice(&e, invite + req.len, 1, STR_NULL), -EINVAL);
	for (int i = 0; i < SIP_EDIT_MAX; i++)
		assert_int_equal(sip_edit_splice(&e, invite + 10, 0, STR_LIT("x")), 0);
	assert_int_equal(sip_edit_splice(&e, invite + 10, 0, STR_LIT("x")), -ENOSPC);
	/* overlapping deletions are refused at apply time */
	sip_edit_init(&e, &req);
	assert_int_equal(sip_edit_splice(&e, invite + 10, 10, STR_NULL), 0);
	assert_int_equal(sip_edit_splice(&e, invite + 15, 2, STR_NULL), 0);
	assert_int_equal(sip_edit_apply(&e, out, sizeof(out)), -EINVAL);
}

/* §16.7 step 3: a response loses the top Via value, and its line only when
 * it was the line's only value; the eager parse's end of that value is used,
 * and a message without it (via1_rest unset) is parsed here instead. */
static void test_drop_top_via(void **state)
{
	static const char two[] = "SIP/2.0 180 Ringing\r\n"
				  "Via: SIP/2.0/UDP p.example.com;branch=z9hG4bKp1 , "
				  "SIP/2.0/UDP a.example.com;branch=z9hG4bKa1\r\n"
				  "Via: SIP/2.0/UDP b.example.com;branch=z9hG4bKb1\r\n"
				  "From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>;tag=2\r\n"
				  "Call-ID: c1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
	static const char one[] = "SIP/2.0 200 OK\r\n"
				  "Via: SIP/2.0/UDP p.example.com;branch=z9hG4bKp1\r\n"
				  "Via: SIP/2.0/UDP a.example.com;branch=z9hG4bKa1\r\n"
				  "From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>;tag=2\r\n"
				  "Call-ID: c1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
	struct sip_edit e;
	char a[512], b[512];
	int n, m;

	(void)state;
	assert_int_equal(sip_msg_parse(&resp, two, sizeof(two) - 1, SIP_PARSE_DATAGRAM), 0);
	assert_non_null(resp.via1_rest.s);
	sip_edit_init(&e, &resp);
	assert_int_equal(sip_fwd_drop_top_via(&e), 0);
	n = sip_edit_apply(&e, a, sizeof(a) - 1);
	assert_true(n > 0);
	a[n] = '\0';
	assert_null(strstr(a, "p.example.com"));
	assert_non_null(strstr(a, "\r\nVia: SIP/2.0/UDP a.example.com;branch=z9hG4bKa1\r\n"
				  "Via: SIP/2.0/UDP b.example.com"));
	/* the same without the eager parse's help */
	resp.via1_rest = STR_NULL;
	sip_edit_init(&e, &resp);
	assert_int_equal(sip_fwd_drop_top_via(&e), 0);
	m = sip_edit_apply(&e, b, sizeof(b) - 1);
	assert_int_equal(m, n);
	assert_memory_equal(a, b, (size_t)n);

	assert_int_equal(sip_msg_parse(&resp, one, sizeof(one) - 1, SIP_PARSE_DATAGRAM), 0);
	sip_edit_init(&e, &resp);
	assert_int_equal(sip_fwd_drop_top_via(&e), 0);
	n = sip_edit_apply(&e, a, sizeof(a) - 1);
	assert_true(n > 0);
	a[n] = '\0';
	assert_null(strstr(a, "p.example.com"));
	assert_non_null(strstr(a, "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP a.example.com;branch=z9hG4bKa1\r\n"));

	/* §16.7 step 3: the last Via was ours: meant for us, not forwarded */
	{
		static const char last[] = "SIP/2.0 200 OK\r\n"
					   "Via: SIP/2.0/UDP p.example.com;branch=z9hG4bKp1\r\n"
					   "From: <sip:a@example.com>;tag=1\r\n"
					   "To: <sip:b@example.com>;tag=2\r\n"
					   "Call-ID: c1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";

		assert_int_equal(sip_msg_parse(&resp, last, sizeof(last) - 1, SIP_PARSE_DATAGRAM), 0);
		sip_edit_init(&e, &resp);
		assert_int_equal(sip_fwd_drop_top_via(&e), -EDESTADDRREQ);
		resp.via1_rest = STR_NULL;
		sip_edit_init(&e, &resp);
		assert_int_equal(sip_fwd_drop_top_via(&e), -EDESTADDRREQ);
	}
}

static void test_reason_phrases(void **state)
{
	(void)state;
	assert_string_equal(sip_reason_phrase(200), "OK");
	assert_string_equal(sip_reason_phrase(416), "Unsupported URI Scheme");
	assert_string_equal(sip_reason_phrase(483), "Too Many Hops");
	assert_string_equal(sip_reason_phrase(505), "Version Not Supported");
	assert_string_equal(sip_reason_phrase(299), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		SIPHON_TEST(test_response_copies_headers), SIPHON_TEST(test_response_tag_rules),
		SIPHON_TEST(test_response_body_and_extra), SIPHON_TEST(test_response_to_malformed),
		SIPHON_TEST(test_forward_edits),	   SIPHON_TEST(test_forward_single_route_and_rr),
		SIPHON_TEST(test_forward_adds_max_forwards), SIPHON_TEST(test_edit_bounds),
		SIPHON_TEST(test_forward_insert_where_deleted),
		SIPHON_TEST(test_response_no_double_tag),
		SIPHON_TEST(test_reason_phrases),
		SIPHON_TEST(test_drop_top_via),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
