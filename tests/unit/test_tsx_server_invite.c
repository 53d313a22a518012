/* INVITE server transaction (RFC 3261 §17.2.1, RFC 6026 §7.1, §8.5-8.7): the
 * test plays the client, the TU and the clock. */
#include "tsx_fake.h"

#include "base/mem.h"
#include "msg/build.h"

static const char invite[] =
	"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
	"Via: SIP/2.0/UDP client.atlanta.example.com:5060;branch=z9hG4bK74bf9;rport\r\n"
	"Max-Forwards: 70\r\n"
	"From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n"
	"To: Bob <sip:bob@biloxi.example.com>\r\n"
	"Call-ID: 3848276298220188511@atlanta.example.com\r\n"
	"CSeq: 1 INVITE\r\n"
	"Contact: <sip:alice@client.atlanta.example.com>\r\n"
	"Content-Length: 0\r\n"
	"\r\n";

static const char ack[] =
	"ACK sip:bob@biloxi.example.com SIP/2.0\r\n"
	"Via: SIP/2.0/UDP client.atlanta.example.com:5060;branch=z9hG4bK74bf9;rport\r\n"
	"Max-Forwards: 70\r\n"
	"From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n"
	"To: Bob <sip:bob@biloxi.example.com>;tag=314159\r\n"
	"Call-ID: 3848276298220188511@atlanta.example.com\r\n"
	"CSeq: 1 ACK\r\n"
	"Content-Length: 0\r\n"
	"\r\n";

static struct fake f;
static struct sip_msg req;
static char resp[4096];

static struct tsx *create(bool reliable, const struct sip_resp_opts *trying)
{
	struct tsx *t;

	fake_init(&f);
	fake_parse(&req, invite);
	assert_int_equal(tsx_server_create(&t, &f.env, &req, reliable, trying, NULL), 0);
	assert_int_equal(tsx_kind(t), TSX_SERVER_INVITE);
	assert_int_equal(tsx_state(t), TSX_PROCEEDING);
	assert_int_equal(f.nsent, 0);
	return t;
}

/* The TU's response to the INVITE, with an optional body of n bytes. */
static int respond(struct tsx *t, uint16_t code, size_t body)
{
	static char sdp[2048];
	struct sip_resp_opts o = { .to_tag = STR_LIT("314159") };
	int n;

	memset(sdp, 'a', sizeof(sdp));
	if (body) {
		o.content_type = STR_LIT("application/sdp");
		o.body = str_make(sdp, body);
	}
	n = sip_resp_build(resp, sizeof(resp), &req, code, str_cstr(sip_reason_phrase(code)), &o);
	assert_true(n > 0);
	return tsx_server_respond(t, code, resp, (size_t)n);
}

static int feed(struct tsx *t, const char *text)
{
	struct sip_msg m;

	fake_parse(&m, text);
	return tsx_server_request(t, &m);
}

static uint16_t sent_code(unsigned i)
{
	struct sip_msg m;

	fake_parse_sent(&f, i, &m);
	assert_false(m.is_request);
	return m.status;
}

static void test_trying_after_200ms(void **state)
{
	struct sip_resp_opts o = { .received = STR_LIT("192.0.2.7"), .rport = 5099,
				   .to_tag = STR_LIT("never") };
	struct sip_msg m;
	struct tsx *t;

	(void)state;
	t = create(false, &o);
	assert_int_equal(fake_timer(&f, 'P')->ms, 200);
	fake_run_until(&f, 199);
	assert_int_equal(f.nsent, 0);
	fake_run_until(&f, 200);
	assert_int_equal(f.nsent, 1);
	assert_int_equal(f.sent[0].at, 200);
	fake_parse_sent(&f, 0, &m);
	assert_int_equal(m.status, 100);
	assert_false(m.to.has_tag); /* §8.2.6.2 */
	assert_str(m.via1.received, "192.0.2.7");
	assert_str(m.via1.rport, "5099");
	assert_str(m.call_id, "3848276298220188511@atlanta.example.com");
	/* a retransmitted INVITE gets the 100 again */
	fake_run_until(&f, 500);
	assert_int_equal(feed(t, invite), 0);
	assert_int_equal(f.nsent, 2);
	assert_int_equal(sent_code(1), 100);
	/* then the TU's provisional replaces it */
	assert_int_equal(respond(t, 180, 0), 0);
	assert_int_equal(f.nsent, 3);
	assert_int_equal(feed(t, invite), 0);
	assert_int_equal(f.nsent, 4);
	assert_int_equal(sent_code(3), 180);
	assert_memory_equal(f.sent[3].buf, f.sent[2].buf, f.sent[2].len);
	assert_int_equal(tsx_state(t), TSX_PROCEEDING);
	/* no timers run in Proceeding after that */
	assert_int_equal(f.narmed, 0);
	tsx_terminate(t);
	tsx_unref(t);
}

static void test_no_trying_when_tu_answers(void **state)
{
	struct tsx *t;

	(void)state;
	t = create(false, NULL);
	fake_run_until(&f, 150);
	assert_int_equal(respond(t, 183, 100), 0);
	fake_run_until(&f, 1000);
	assert_int_equal(f.nsent, 1);
	assert_int_equal(sent_code(0), 183);
	tsx_terminate(t);
	tsx_unref(t);

	/* a final before 200 ms: no 100 either */
	t = create(false, NULL);
	assert_int_equal(respond(t, 404, 0), 0);
	fake_run_until(&f, 300);
	assert_int_equal(f.nsent, 1); /* the 404 alone: G is not due before 500 */
	assert_int_equal(sent_code(0), 404);
	tsx_terminate(t);
	tsx_unref(t);
}

static void test_retransmission_before_trying(void **state)
{
	struct tsx *t;

	(void)state;
	t = create(false, NULL);
	fake_run_until(&f, 100);
	/* the client has heard nothing: the 100 goes now, not again at 200 */
	assert_int_equal(feed(t, invite), 0);
	assert_int_equal(f.nsent, 1);
	assert_int_equal(sent_code(0), 100);
	fake_run_until(&f, 1000);
	assert_int_equal(f.nsent, 1);
	tsx_terminate(t);
	tsx_unref(t);
}

static void test_non2xx_timer_g_h(void **state)
{
	/* §17.2.1: G from T1 doubling up to T2 */
	static const uint64_t want[] = { 0, 500, 1500, 3500, 7500, 11500, 15500,
					 19500, 23500, 27500, 31500 };
	struct tsx *t;

	(void)state;
	t = create(false, NULL);
	assert_int_equal(respond(t, 486, 0), 0);
	assert_int_equal(tsx_state(t), TSX_COMPLETED);
	assert_int_equal(tsx_last_code(t), 486);
	assert_int_equal(fake_timer(&f, 'G')->ms, 500);
	assert_int_equal(fake_timer(&f, 'H')->ms, 32000);
	/* the TU may not answer again */
	assert_int_equal(respond(t, 200, 0), -EALREADY);
	fake_run_until(&f, 31999);
	fake_assert_sent_at(&f, 0, want, 11);
	for (unsigned i = 0; i < 11; i++)
		assert_int_equal(sent_code(i), 486);
	assert_int_equal(f.timeouts, 0);
	fake_run_until(&f, 32000);
	/* H: the ACK never came */
	assert_int_equal(f.timeouts, 1);
	assert_int_equal(f.timeout_at, 32000);
	assert_int_equal(tsx_state(t), TSX_TERMINATED);
	assert_int_equal(f.narmed, 0);
	tsx_unref(t);
}

static void test_ack_confirmed_timer_i(void **state)
{
	struct tsx *t;

	(void)state;
	t = create(false, NULL);
	assert_int_equal(respond(t, 603, 0), 0);
	fake_run_until(&f, 700); /* G at 500 */
	assert_int_equal(f.nsent, 2);
	/* a retransmitted INVITE gets the final again */
	assert_int_equal(feed(t, invite), 0);
	assert_int_equal(f.nsent, 3);
	assert_int_equal(sent_code(2), 603);
	assert_int_equal(feed(t, ack), 0);
	assert_int_equal(tsx_state(t), TSX_CONFIRMED);
	assert_null(fake_timer(&f, 'G'));
	assert_null(fake_timer(&f, 'H'));
	assert_int_equal(fake_timer(&f, 'I')->ms, 5000);
	/* Confirmed absorbs ACKs and INVITEs */
	assert_int_equal(feed(t, ack), 0);
	assert_int_equal(feed(t, invite), 0);
	assert_int_equal(f.nsent, 3);
	fake_run_until(&f, 5699);
	assert_int_equal(tsx_state(t), TSX_CONFIRMED);
	fake_run_until(&f, 5700);
	assert_int_equal(tsx_state(t), TSX_TERMINATED);
	assert_int_equal(f.timeouts, 0);
	assert_int_equal(f.nsent, 3);
	tsx_unref(t);
}

static void test_2xx_accepted_timer_l(void **state)
{
	struct tsx *t;

	(void)state;
	t = create(false, NULL);
	fake_run_until(&f, 300); /* 100 Trying at 200 */
	assert_int_equal(respond(t, 200, 300), 0);
	assert_int_equal(tsx_state(t), TSX_ACCEPTED);
	assert_int_equal(f.nsent, 2);
	assert_int_equal(sent_code(1), 200);
	assert_int_equal(fake_timer(&f, 'L')->ms, 32000);
	assert_null(fake_timer(&f, 'G'));
	/* RFC 6026 §8.7: INVITE retransmissions absorbed, the 2xx is not
	 * retransmitted by the transaction, ACKs go to the TU */
	assert_int_equal(feed(t, invite), 0);
	fake_run_until(&f, 10000);
	assert_int_equal(f.nsent, 2);
	assert_int_equal(feed(t, ack), 1);
	assert_int_equal(tsx_state(t), TSX_ACCEPTED);
	/* the TU's own 2xx retransmissions pass through; nothing else */
	assert_int_equal(respond(t, 200, 300), 0);
	assert_int_equal(f.nsent, 3);
	assert_int_equal(respond(t, 486, 0), -EALREADY);
	assert_int_equal(respond(t, 180, 0), -EALREADY);
	assert_int_equal(f.nsent, 3);
	fake_run_until(&f, 32299);
	assert_int_equal(tsx_state(t), TSX_ACCEPTED);
	fake_run_until(&f, 32300);
	assert_int_equal(tsx_state(t), TSX_TERMINATED);
	assert_int_equal(f.timeouts, 0);
	tsx_unref(t);
}

static void test_reliable(void **state)
{
	struct tsx *t;

	(void)state;
	t = create(true, NULL);
	/* the 100 Trying is sent on reliable transports too (§17.2.1) */
	fake_run_until(&f, 200);
	assert_int_equal(f.nsent, 1);
	assert_int_equal(respond(t, 500, 0), 0);
	assert_null(fake_timer(&f, 'G'));
	fake_run_until(&f, 32199);
	assert_int_equal(f.nsent, 2);
	fake_run_until(&f, 32200); /* H still runs */
	assert_int_equal(f.timeouts, 1);
	tsx_unref(t);

	/* ACK: I = 0, terminated at once */
	t = create(true, NULL);
	assert_int_equal(respond(t, 486, 0), 0);
	assert_int_equal(feed(t, ack), 0);
	assert_int_equal(tsx_state(t), TSX_TERMINATED);
	assert_int_equal(f.terminated, 1);
	assert_int_equal(f.narmed, 0);
	tsx_unref(t);
}

static void test_transport_error(void **state)
{
	struct tsx *t;

	(void)state;
	t = create(false, NULL);
	f.send_err = -EPIPE;
	assert_int_equal(respond(t, 486, 0), -EPIPE);
	assert_int_equal(f.terrors, 1);
	assert_int_equal(f.last_err, -EPIPE);
	assert_int_equal(tsx_state(t), TSX_TERMINATED);
	assert_int_equal(f.narmed, 0);
	assert_int_equal(respond(t, 486, 0), -EALREADY);
	tsx_unref(t);

	/* the 100 Trying failing */
	t = create(false, NULL);
	f.send_err = -ENOBUFS;
	fake_run_until(&f, 200);
	assert_int_equal(f.terrors, 1);
	assert_int_equal(tsx_state(t), TSX_TERMINATED);
	tsx_unref(t);
}

static void test_bad_arguments(void **state)
{
	struct sip_msg m;
	struct tsx *t;

	(void)state;
	t = create(false, NULL);
	assert_int_equal(tsx_server_respond(t, 99, "x", 1), -EINVAL);
	assert_int_equal(tsx_server_respond(t, 700, "x", 1), -EINVAL);
	assert_int_equal(tsx_client_start(t), -EINVAL);
	fake_parse(&m, ack);
	assert_int_equal(tsx_server_create(&t, &f.env, &m, false, NULL, NULL), -EINVAL);
	tsx_terminate(t);
	tsx_unref(t);
}

/* Creation, then a response larger than the inline buffer (one more block). */
static int alloc_run(void *ctx)
{
	struct tsx *t;
	int rc;

	(void)ctx;
	fake_init(&f);
	fake_parse(&req, invite);
	rc = tsx_server_create(&t, &f.env, &req, false, NULL, NULL);
	if (rc)
		return rc;
	rc = respond(t, 180, 0);
	assert_int_equal(rc, 0);
	rc = respond(t, 183, 1500);
	if (rc == 0) {
		/* the bigger response is the one retransmitted */
		assert_int_equal(feed(t, invite), 0);
		assert_int_equal(sent_code(f.nsent - 1), 183);
	} else {
		/* nothing sent, the old 180 is still there */
		assert_int_equal(f.nsent, 1);
		assert_int_equal(feed(t, invite), 0);
		assert_int_equal(sent_code(f.nsent - 1), 180);
	}
	tsx_terminate(t);
	tsx_unref(t);
	return rc;
}

static void test_alloc_failures(void **state)
{
	(void)state;
	/* the transaction, its 100/180 room, the larger 183 */
	assert_int_equal(harness_alloc_fail_loop(alloc_run, NULL), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		SIPHON_TEST(test_trying_after_200ms),
		SIPHON_TEST(test_no_trying_when_tu_answers),
		SIPHON_TEST(test_retransmission_before_trying),
		SIPHON_TEST(test_non2xx_timer_g_h),
		SIPHON_TEST(test_ack_confirmed_timer_i),
		SIPHON_TEST(test_2xx_accepted_timer_l),
		SIPHON_TEST(test_reliable),
		SIPHON_TEST(test_transport_error),
		SIPHON_TEST(test_bad_arguments),
		SIPHON_TEST(test_alloc_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
