/* INVITE client transaction (RFC 3261 §17.1.1, RFC 6026 §8.4): the test plays
 * the server and the clock. */
#include "tsx_fake.h"

#include "base/mem.h"
#include "tsx/ack.h"

static const char invite[] =
	"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
	"Via: SIP/2.0/UDP client.atlanta.example.com:5060;branch=z9hG4bK74bf9, "
	"SIP/2.0/UDP other.example.net;branch=z9hG4bKold\r\n"
	"Max-Forwards: 69\r\n"
	"Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>\r\n"
	"Route: <sip:p3.example.com;lr>\r\n"
	"From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n"
	"To: Bob <sip:bob@biloxi.example.com>\r\n"
	"Call-ID: 3848276298220188511@atlanta.example.com\r\n"
	"CSeq: 31862 INVITE\r\n"
	"Contact: <sip:alice@client.atlanta.example.com>\r\n"
	"Content-Type: application/sdp\r\n"
	"Content-Length: 4\r\n"
	"\r\n"
	"v=0\n";

#define RESP(code)                                                                          \
	"SIP/2.0 " code "\r\n"                                                              \
	"Via: SIP/2.0/UDP client.atlanta.example.com:5060;branch=z9hG4bK74bf9, "            \
	"SIP/2.0/UDP other.example.net;branch=z9hG4bKold\r\n"                                \
	"From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n"                    \
	"To: Bob <sip:bob@biloxi.example.com>;tag=8321234356\r\n"                           \
	"Call-ID: 3848276298220188511@atlanta.example.com\r\n"                              \
	"CSeq: 31862 INVITE\r\n"                                                            \
	"Content-Length: 0\r\n"                                                             \
	"\r\n"

static struct fake f;

static struct tsx *start(bool reliable)
{
	struct sip_msg m;
	struct tsx *t;

	fake_init(&f);
	fake_parse(&m, invite);
	assert_int_equal(tsx_client_create(&t, &f.env, &m, reliable, &f), 0);
	assert_int_equal(tsx_kind(t), TSX_CLIENT_INVITE);
	assert_int_equal(tsx_state(t), TSX_INIT);
	assert_ptr_equal(tsx_user(t), &f);
	assert_int_equal(tsx_client_start(t), 0);
	assert_int_equal(tsx_state(t), TSX_CALLING);
	/* the request goes out byte for byte */
	assert_int_equal(f.nsent, 1);
	assert_int_equal(f.sent[0].len, sizeof(invite) - 1);
	assert_memory_equal(f.sent[0].buf, invite, sizeof(invite) - 1);
	return t;
}

static void feed(struct tsx *t, const char *text)
{
	struct sip_msg r;

	fake_parse(&r, text);
	tsx_client_response(t, &r);
}

static void test_udp_schedule_and_timer_b(void **state)
{
	static const uint64_t want[] = { 0, 500, 1500, 3500, 7500, 15500, 31500 };
	struct tsx *t;

	(void)state;
	t = start(false);
	assert_int_equal(fake_timer(&f, 'A')->ms, 500);
	assert_int_equal(fake_timer(&f, 'B')->ms, 32000);
	fake_run_until(&f, 31999);
	/* §17.1.1.2: A doubles without the T2 cap (16 s interval before the last) */
	fake_assert_sent_at(&f, 0, want, 7);
	assert_int_equal(fake_timer(&f, 'A')->ms, 32000);
	assert_int_equal(f.timeouts, 0);
	assert_int_equal(tsx_state(t), TSX_CALLING);
	fake_run_until(&f, 32000);
	assert_int_equal(f.timeouts, 1);
	assert_int_equal(f.timeout_at, 32000);
	assert_int_equal(f.terminated, 1);
	assert_int_equal(tsx_state(t), TSX_TERMINATED);
	assert_int_equal(f.narmed, 0);
	fake_run_until(&f, 100000);
	assert_int_equal(f.nsent, 7);
	tsx_unref(t);
}

static void test_custom_t1(void **state)
{
	static const uint64_t want[] = { 0, 100, 300, 700, 1500, 3100, 6300 };
	struct sip_msg m;
	struct tsx *t;

	(void)state;
	fake_init(&f);
	f.timers.t1 = 100;
	fake_parse(&m, invite);
	assert_int_equal(tsx_client_create(&t, &f.env, &m, false, NULL), 0);
	assert_int_equal(tsx_client_start(t), 0);
	fake_run_until(&f, 6400);
	fake_assert_sent_at(&f, 0, want, 7);
	assert_int_equal(f.timeout_at, 6400); /* B = 64*T1 */
	tsx_unref(t);
}

static void test_provisional_then_2xx_accepted(void **state)
{
	struct tsx *t;

	(void)state;
	t = start(false);
	fake_run_until(&f, 600); /* one retransmission at 500 */
	assert_int_equal(f.nsent, 2);
	feed(t, RESP("180 Ringing"));
	assert_int_equal(tsx_state(t), TSX_PROCEEDING);
	assert_int_equal(f.nresp, 1);
	assert_int_equal(f.codes[0], 180);
	/* Proceeding: no retransmissions and no Timer B */
	assert_null(fake_timer(&f, 'A'));
	assert_null(fake_timer(&f, 'B'));
	fake_run_until(&f, 60000);
	assert_int_equal(f.nsent, 2);
	assert_int_equal(f.timeouts, 0);
	feed(t, RESP("183 Session Progress"));
	assert_int_equal(f.nresp, 2);
	assert_true(tsx_client_request(t).len > 0);
	feed(t, RESP("200 OK"));
	assert_int_equal(tsx_state(t), TSX_ACCEPTED);
	/* RFC 6026 Accepted never resends the INVITE: its copy is freed */
	assert_int_equal(tsx_client_request(t).len, 0);
	assert_int_equal(tsx_last_code(t), 200);
	assert_int_equal(f.nresp, 3);
	assert_int_equal(fake_timer(&f, 'M')->ms, 32000);
	/* RFC 6026 §8.4: 2xx retransmissions reach the TU; no ACK from us */
	feed(t, RESP("200 OK"));
	assert_int_equal(f.nresp, 4);
	assert_int_equal(f.codes[3], 200);
	/* everything else is absorbed in Accepted */
	feed(t, RESP("180 Ringing"));
	feed(t, RESP("486 Busy Here"));
	assert_int_equal(f.nresp, 4);
	assert_int_equal(f.nsent, 2);
	fake_run_until(&f, 60000 + 31999);
	assert_int_equal(tsx_state(t), TSX_ACCEPTED);
	fake_run_until(&f, 60000 + 32000);
	assert_int_equal(tsx_state(t), TSX_TERMINATED);
	assert_int_equal(f.terminated, 1);
	assert_int_equal(f.timeouts, 0);
	feed(t, RESP("200 OK")); /* after M: nothing */
	assert_int_equal(f.nresp, 4);
	tsx_unref(t);
}

static void test_2xx_in_calling(void **state)
{
	struct tsx *t;

	(void)state;
	t = start(false);
	fake_run_until(&f, 100);
	feed(t, RESP("200 OK"));
	assert_int_equal(tsx_state(t), TSX_ACCEPTED);
	assert_null(fake_timer(&f, 'A'));
	assert_null(fake_timer(&f, 'B'));
	fake_run_until(&f, 32099);
	assert_int_equal(f.nsent, 1);
	assert_int_equal(f.terminated, 0);
	fake_run_until(&f, 32100);
	assert_int_equal(f.terminated, 1);
	tsx_unref(t);
}

static void assert_ack(const struct fake_sent *s)
{
	static const char want[] =
		"ACK sip:bob@biloxi.example.com SIP/2.0\r\n"
		"Via: SIP/2.0/UDP client.atlanta.example.com:5060;branch=z9hG4bK74bf9\r\n"
		"Max-Forwards: 70\r\n"
		"Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>\r\n"
		"Route: <sip:p3.example.com;lr>\r\n"
		"From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n"
		"To: Bob <sip:bob@biloxi.example.com>;tag=8321234356\r\n"
		"Call-ID: 3848276298220188511@atlanta.example.com\r\n"
		"CSeq: 31862 ACK\r\n"
		"Content-Length: 0\r\n"
		"\r\n";
	struct sip_msg m;

	assert_int_equal(s->len, sizeof(want) - 1);
	assert_memory_equal(s->buf, want, sizeof(want) - 1);
	/* and it is a valid request */
	assert_int_equal(sip_msg_parse(&m, s->buf, s->len, SIP_PARSE_STREAM), 0);
	assert_int_equal(m.method_id, SIP_METHOD_ACK);
	assert_str(m.to.tag, "8321234356");
	assert_str(m.via1.branch, "z9hG4bK74bf9");
}

static void test_non2xx_ack_and_timer_d(void **state)
{
	struct tsx *t;

	(void)state;
	t = start(false);
	fake_run_until(&f, 1000);
	feed(t, RESP("100 Trying"));
	feed(t, RESP("486 Busy Here"));
	assert_int_equal(tsx_state(t), TSX_COMPLETED);
	/* Completed resends the ACK, never the INVITE: its copy is freed */
	assert_int_equal(tsx_client_request(t).len, 0);
	assert_int_equal(f.nresp, 2);
	assert_int_equal(f.codes[1], 486);
	assert_int_equal(f.nsent, 3); /* INVITE, retransmission, ACK */
	assert_ack(&f.sent[2]);
	assert_int_equal(f.sent[2].at, 1000);
	assert_int_equal(fake_timer(&f, 'D')->ms, 32000);
	/* a retransmitted final: ACK again, the TU hears nothing */
	fake_run_until(&f, 5000);
	feed(t, RESP("486 Busy Here"));
	assert_int_equal(f.nsent, 4);
	assert_ack(&f.sent[3]);
	assert_int_equal(f.nresp, 2);
	/* provisional or 2xx in Completed: absorbed */
	feed(t, RESP("180 Ringing"));
	feed(t, RESP("200 OK"));
	assert_int_equal(f.nresp, 2);
	assert_int_equal(f.nsent, 4);
	fake_run_until(&f, 32999);
	assert_int_equal(tsx_state(t), TSX_COMPLETED);
	fake_run_until(&f, 33000);
	assert_int_equal(tsx_state(t), TSX_TERMINATED);
	assert_int_equal(f.terminated_at, 33000);
	assert_int_equal(f.timeouts, 0);
	tsx_unref(t);
}

static void test_reliable(void **state)
{
	struct tsx *t;

	(void)state;
	t = start(true);
	/* no Timer A, but Timer B */
	assert_null(fake_timer(&f, 'A'));
	fake_run_until(&f, 32000);
	assert_int_equal(f.nsent, 1);
	assert_int_equal(f.timeouts, 1);
	assert_int_equal(f.timeout_at, 32000);
	tsx_unref(t);

	/* non-2xx: ACK, and Timer D = 0 terminates at once */
	t = start(true);
	feed(t, RESP("603 Decline"));
	assert_int_equal(f.nsent, 2);
	assert_ack(&f.sent[1]);
	assert_int_equal(tsx_state(t), TSX_TERMINATED);
	assert_int_equal(f.terminated, 1);
	assert_int_equal(f.narmed, 0);
	tsx_unref(t);
}

static void test_transport_error(void **state)
{
	struct sip_msg m;
	struct tsx *t;

	(void)state;
	/* at the first send */
	fake_init(&f);
	fake_parse(&m, invite);
	assert_int_equal(tsx_client_create(&t, &f.env, &m, false, NULL), 0);
	f.send_err = -ENETUNREACH;
	assert_int_equal(tsx_client_start(t), -ENETUNREACH);
	assert_int_equal(f.terrors, 1);
	assert_int_equal(f.last_err, -ENETUNREACH);
	assert_int_equal(f.terminated, 1);
	assert_int_equal(f.narmed, 0);
	assert_int_equal(tsx_client_start(t), -EINVAL);
	tsx_unref(t);

	/* at a retransmission */
	t = start(false);
	fake_run_until(&f, 1000);
	f.send_err = -EHOSTUNREACH;
	fake_run_until(&f, 1500);
	assert_int_equal(f.terrors, 1);
	assert_int_equal(f.last_err, -EHOSTUNREACH);
	assert_int_equal(tsx_state(t), TSX_TERMINATED);
	assert_int_equal(f.narmed, 0);
	assert_int_equal(f.timeouts, 0);
	tsx_unref(t);

	/* sending the ACK */
	t = start(false);
	f.send_err = -EPIPE;
	feed(t, RESP("404 Not Found"));
	assert_int_equal(f.nresp, 1);
	assert_int_equal(f.terrors, 1);
	assert_int_equal(tsx_state(t), TSX_TERMINATED);
	assert_int_equal(f.narmed, 0);
	tsx_unref(t);
}

/* §17.1.4: the connection the request was queued on failed later. */
static void test_transport_failed_later(void **state)
{
	struct tsx *t;

	(void)state;
	/* in Calling: the TU hears of it at once, not at Timer B */
	t = start(true);
	fake_run_until(&f, 100);
	tsx_client_transport_failed(t, -ECONNREFUSED);
	assert_int_equal(f.terrors, 1);
	assert_int_equal(f.last_err, -ECONNREFUSED);
	assert_int_equal(tsx_state(t), TSX_TERMINATED);
	assert_int_equal(f.terminated, 1);
	assert_int_equal(f.narmed, 0);
	fake_run_until(&f, 40000);
	assert_int_equal(f.timeouts, 0);
	/* once ended, a second report changes nothing */
	tsx_client_transport_failed(t, -ECONNRESET);
	assert_int_equal(f.terrors, 1);
	assert_int_equal(f.terminated, 1);
	tsx_unref(t);

	/* a code that is not an error still ends it, as -EIO */
	t = start(true);
	tsx_client_transport_failed(t, 0);
	assert_int_equal(f.terrors, 1);
	assert_int_equal(f.last_err, -EIO);
	tsx_unref(t);

	/* in Proceeding the peer may answer over a connection of its own
	 * (§18.2.2): Timer B still bounds the wait */
	t = start(true);
	feed(t, RESP("180 Ringing"));
	tsx_client_transport_failed(t, -ECONNRESET);
	assert_int_equal(f.terrors, 0);
	assert_int_equal(tsx_state(t), TSX_PROCEEDING);
	feed(t, RESP("486 Busy Here"));
	assert_int_equal(f.nresp, 2);
	assert_int_equal(f.codes[1], 486);
	tsx_unref(t);
}

static void test_ack_builder(void **state)
{
	struct sip_msg inv, resp;
	char small[16];
	int n;

	(void)state;
	fake_parse(&inv, invite);
	fake_parse(&resp, RESP("486 Busy Here"));
	n = tsx_ack_build(NULL, 0, &inv, &resp);
	assert_true(n > 0);
	/* snprintf-like: too small a buffer is not written past */
	memset(small, 'x', sizeof(small));
	assert_int_equal(tsx_ack_build(small, 4, &inv, &resp), n);
	assert_memory_equal(small, "ACK ", 4);
	assert_int_equal(small[4], 'x');
	/* arguments swapped: not an INVITE and a response */
	assert_int_equal(tsx_ack_build(NULL, 0, &resp, &inv), -EINVAL);
}

static void test_create_rejects(void **state)
{
	static const char ack[] = "ACK sip:bob@biloxi.example.com SIP/2.0\r\n"
				  "Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1\r\n"
				  "From: <sip:a@example.com>;tag=1\r\n"
				  "To: <sip:b@example.com>;tag=2\r\n"
				  "Call-ID: x@y\r\n"
				  "CSeq: 1 ACK\r\n"
				  "Content-Length: 0\r\n\r\n";
	static const char nobranch[] = "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
				       "Via: SIP/2.0/UDP a.example.com\r\n"
				       "From: <sip:a@example.com>;tag=1\r\n"
				       "To: <sip:b@example.com>\r\n"
				       "Call-ID: x@y\r\n"
				       "CSeq: 1 INVITE\r\n"
				       "Content-Length: 0\r\n\r\n";
	struct sip_msg m;
	struct tsx *t = NULL;

	(void)state;
	fake_init(&f);
	fake_parse(&m, ack);
	assert_int_equal(tsx_client_create(&t, &f.env, &m, false, NULL), -EINVAL);
	fake_parse(&m, nobranch);
	assert_int_equal(tsx_client_create(&t, &f.env, &m, false, NULL), -EINVAL);
	assert_null(t);
}

/* Allocation failures: creating, and building the ACK (retried on the next
 * retransmission of the final). */
static int alloc_run(void *ctx)
{
	struct sip_msg m;
	struct tsx *t;
	int rc;

	(void)ctx;
	fake_init(&f);
	fake_parse(&m, invite);
	rc = tsx_client_create(&t, &f.env, &m, false, NULL);
	if (rc)
		return rc;
	assert_int_equal(tsx_client_start(t), 0);
	feed(t, RESP("486 Busy Here"));
	rc = f.nsent == 2 ? 0 : -ENOMEM;
	if (rc) {
		/* the ACK could not be built: the next 486 gets it */
		mem_fail_after(-1);
		feed(t, RESP("486 Busy Here"));
		assert_int_equal(f.nsent, 2);
		assert_ack(&f.sent[1]);
		mem_fail_after(0);
	}
	tsx_terminate(t);
	assert_int_equal(f.terminated, 1);
	tsx_unref(t);
	return rc;
}

static void test_alloc_failures(void **state)
{
	(void)state;
	/* the transaction, its copy of the INVITE, the ACK */
	assert_int_equal(harness_alloc_fail_loop(alloc_run, NULL), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		SIPHON_TEST(test_udp_schedule_and_timer_b),
		SIPHON_TEST(test_custom_t1),
		SIPHON_TEST(test_provisional_then_2xx_accepted),
		SIPHON_TEST(test_2xx_in_calling),
		SIPHON_TEST(test_non2xx_ack_and_timer_d),
		SIPHON_TEST(test_reliable),
		SIPHON_TEST(test_transport_error),
		SIPHON_TEST(test_transport_failed_later),
		SIPHON_TEST(test_ack_builder),
		SIPHON_TEST(test_create_rejects),
		SIPHON_TEST(test_alloc_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
