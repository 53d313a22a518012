/* Non-INVITE client transaction (RFC 3261 §17.1.2): the test plays the
 * server and the clock. */
#include "tsx_fake.h"

#include "base/mem.h"

static const char options[] =
	"OPTIONS sip:carol@chicago.example.com SIP/2.0\r\n"
	"Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKhjhs8ass877\r\n"
	"Max-Forwards: 70\r\n"
	"To: <sip:carol@chicago.example.com>\r\n"
	"From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
	"Call-ID: a84b4c76e66710\r\n"
	"CSeq: 63104 OPTIONS\r\n"
	"Content-Length: 0\r\n"
	"\r\n";

#define RESP(code)                                                                  \
	"SIP/2.0 " code "\r\n"                                                      \
	"Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKhjhs8ass877\r\n"   \
	"To: <sip:carol@chicago.example.com>;tag=93810874\r\n"                      \
	"From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"            \
	"Call-ID: a84b4c76e66710\r\n"                                               \
	"CSeq: 63104 OPTIONS\r\n"                                                   \
	"Content-Length: 0\r\n"                                                     \
	"\r\n"

static struct fake f;

static struct tsx *start(bool reliable)
{
	struct sip_msg m;
	struct tsx *t;

	fake_init(&f);
	fake_parse(&m, options);
	assert_int_equal(tsx_client_create(&t, &f.env, &m, reliable, NULL), 0);
	assert_int_equal(tsx_kind(t), TSX_CLIENT_NONINVITE);
	assert_int_equal(tsx_client_start(t), 0);
	assert_int_equal(tsx_state(t), TSX_TRYING);
	assert_int_equal(f.nsent, 1);
	assert_memory_equal(f.sent[0].buf, options, sizeof(options) - 1);
	return t;
}

static void feed(struct tsx *t, const char *text)
{
	struct sip_msg r;

	fake_parse(&r, text);
	tsx_client_response(t, &r);
}

static void test_udp_schedule_and_timer_f(void **state)
{
	/* §17.1.2.2: E doubles up to T2 = 4 s */
	static const uint64_t want[] = { 0, 500, 1500, 3500, 7500, 11500, 15500,
					 19500, 23500, 27500, 31500 };
	struct tsx *t;

	(void)state;
	t = start(false);
	assert_int_equal(fake_timer(&f, 'E')->ms, 500);
	assert_int_equal(fake_timer(&f, 'F')->ms, 32000);
	fake_run_until(&f, 31999);
	fake_assert_sent_at(&f, 0, want, 11);
	assert_int_equal(fake_timer(&f, 'E')->ms, 4000);
	assert_int_equal(f.timeouts, 0);
	fake_run_until(&f, 32000);
	assert_int_equal(f.timeouts, 1);
	assert_int_equal(f.timeout_at, 32000);
	assert_int_equal(tsx_state(t), TSX_TERMINATED);
	assert_int_equal(f.terminated, 1);
	assert_int_equal(f.narmed, 0);
	tsx_unref(t);
}

static void test_proceeding_resets_e_to_t2(void **state)
{
	/* 1xx at 600 (E pending for 1500): the next send keeps that time, then
	 * every T2 (§17.1.2.2) */
	static const uint64_t want[] = { 0, 500, 1500, 5500, 9500, 13500, 17500,
					 21500, 25500, 29500 };
	struct tsx *t;

	(void)state;
	t = start(false);
	fake_run_until(&f, 600);
	feed(t, RESP("100 Trying"));
	assert_int_equal(tsx_state(t), TSX_PROCEEDING);
	assert_int_equal(f.nresp, 1);
	assert_int_equal(f.codes[0], 100);
	fake_run_until(&f, 31999);
	fake_assert_sent_at(&f, 0, want, 10);
	/* Timer F still runs in Proceeding */
	fake_run_until(&f, 32000);
	assert_int_equal(f.timeouts, 1);
	assert_int_equal(tsx_state(t), TSX_TERMINATED);
	tsx_unref(t);
}

static void test_final_completed_timer_k(void **state)
{
	struct tsx *t;

	(void)state;
	t = start(false);
	fake_run_until(&f, 2000);
	feed(t, RESP("180 Ringing"));
	feed(t, RESP("200 OK"));
	assert_int_equal(tsx_state(t), TSX_COMPLETED);
	assert_int_equal(tsx_last_code(t), 200);
	assert_int_equal(f.nresp, 2);
	assert_null(fake_timer(&f, 'E'));
	assert_null(fake_timer(&f, 'F'));
	assert_int_equal(fake_timer(&f, 'K')->ms, 5000);
	/* retransmitted finals and late provisionals are absorbed */
	feed(t, RESP("200 OK"));
	feed(t, RESP("180 Ringing"));
	assert_int_equal(f.nresp, 2);
	fake_run_until(&f, 6999);
	assert_int_equal(f.nsent, 3); /* 0, 500, 1500 */
	assert_int_equal(tsx_state(t), TSX_COMPLETED);
	fake_run_until(&f, 7000);
	assert_int_equal(tsx_state(t), TSX_TERMINATED);
	assert_int_equal(f.terminated_at, 7000);
	assert_int_equal(f.timeouts, 0);
	tsx_unref(t);
}

static void test_custom_t2_t4(void **state)
{
	static const uint64_t want[] = { 0, 500, 1500, 3500, 5500, 7500 };
	struct sip_msg m;
	struct tsx *t;

	(void)state;
	fake_init(&f);
	f.timers.t2 = 2000;
	f.timers.t4 = 1234;
	fake_parse(&m, options);
	assert_int_equal(tsx_client_create(&t, &f.env, &m, false, NULL), 0);
	assert_int_equal(tsx_client_start(t), 0);
	fake_run_until(&f, 8000);
	fake_assert_sent_at(&f, 0, want, 6);
	feed(t, RESP("404 Not Found"));
	assert_int_equal(fake_timer(&f, 'K')->ms, 1234);
	fake_run_until(&f, 9234);
	assert_int_equal(f.terminated_at, 9234);
	tsx_unref(t);
}

static void test_reliable(void **state)
{
	struct tsx *t;

	(void)state;
	t = start(true);
	assert_null(fake_timer(&f, 'E'));
	fake_run_until(&f, 31999);
	assert_int_equal(f.nsent, 1);
	fake_run_until(&f, 32000);
	assert_int_equal(f.timeouts, 1);
	tsx_unref(t);

	/* K = 0: a final terminates at once */
	t = start(true);
	feed(t, RESP("200 OK"));
	assert_int_equal(f.nresp, 1);
	assert_int_equal(tsx_state(t), TSX_TERMINATED);
	assert_int_equal(f.terminated, 1);
	assert_int_equal(f.narmed, 0);
	tsx_unref(t);
}

static void test_transport_error(void **state)
{
	struct tsx *t;

	(void)state;
	t = start(false);
	f.send_err = -ECONNREFUSED;
	fake_run_until(&f, 500);
	assert_int_equal(f.terrors, 1);
	assert_int_equal(f.last_err, -ECONNREFUSED);
	assert_int_equal(tsx_state(t), TSX_TERMINATED);
	assert_int_equal(f.terminated, 1);
	assert_int_equal(f.timeouts, 0);
	assert_int_equal(f.narmed, 0);
	tsx_unref(t);
}

/* §17.1.4: the connection the request was queued on failed later. */
static void test_transport_failed_later(void **state)
{
	struct tsx *t;

	(void)state;
	t = start(true);
	tsx_client_transport_failed(t, -ETIMEDOUT);
	assert_int_equal(f.terrors, 1);
	assert_int_equal(f.last_err, -ETIMEDOUT);
	assert_int_equal(tsx_state(t), TSX_TERMINATED);
	assert_int_equal(f.narmed, 0);
	fake_run_until(&f, 40000);
	assert_int_equal(f.timeouts, 0);
	tsx_unref(t);

	/* after a provisional: ignored, Timer F still runs */
	t = start(true);
	feed(t, RESP("100 Trying"));
	tsx_client_transport_failed(t, -ETIMEDOUT);
	assert_int_equal(f.terrors, 0);
	assert_int_equal(tsx_state(t), TSX_PROCEEDING);
	fake_run_until(&f, 32000);
	assert_int_equal(f.timeouts, 1);
	tsx_unref(t);
}

static void test_terminate_by_tu(void **state)
{
	struct tsx *t;

	(void)state;
	t = start(false);
	tsx_terminate(t);
	assert_int_equal(f.terminated, 1);
	assert_int_equal(f.narmed, 0);
	tsx_terminate(t); /* only once */
	assert_int_equal(f.terminated, 1);
	feed(t, RESP("200 OK"));
	assert_int_equal(f.nresp, 0);
	tsx_unref(t);
}

static void test_unref_stops_timers(void **state)
{
	struct tsx *t;

	(void)state;
	t = start(false);
	assert_int_equal(f.narmed, 2);
	tsx_unref(t); /* dropped while running: its timers go with it */
	assert_int_equal(f.narmed, 0);
	assert_int_equal(f.terminated, 0);
}

static int alloc_run(void *ctx)
{
	struct sip_msg m;
	struct tsx *t;
	int rc;

	(void)ctx;
	fake_init(&f);
	fake_parse(&m, options);
	rc = tsx_client_create(&t, &f.env, &m, false, NULL);
	if (rc)
		return rc;
	assert_int_equal(tsx_client_start(t), 0);
	feed(t, RESP("200 OK"));
	fake_run_until(&f, 10000);
	assert_int_equal(f.terminated, 1);
	tsx_unref(t);
	return 0;
}

static void test_alloc_failures(void **state)
{
	(void)state;
	/* the transaction and its copy of the request */
	assert_int_equal(harness_alloc_fail_loop(alloc_run, NULL), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		SIPHON_TEST(test_udp_schedule_and_timer_f),
		SIPHON_TEST(test_proceeding_resets_e_to_t2),
		SIPHON_TEST(test_final_completed_timer_k),
		SIPHON_TEST(test_custom_t2_t4),
		SIPHON_TEST(test_reliable),
		SIPHON_TEST(test_transport_error),
		SIPHON_TEST(test_transport_failed_later),
		SIPHON_TEST(test_terminate_by_tu),
		SIPHON_TEST(test_unref_stops_timers),
		SIPHON_TEST(test_alloc_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
