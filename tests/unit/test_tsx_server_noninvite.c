/* Non-INVITE server transaction (RFC 3261 §17.2.2): the test plays the
 * client, the TU and the clock. */
#include "tsx_fake.h"

#include "base/mem.h"

static const char reg[] =
	"REGISTER sip:registrar.biloxi.example.com SIP/2.0\r\n"
	"Via: SIP/2.0/UDP bobspc.biloxi.example.com:5060;branch=z9hG4bKnashds7\r\n"
	"Max-Forwards: 70\r\n"
	"To: Bob <sip:bob@biloxi.example.com>\r\n"
	"From: Bob <sip:bob@biloxi.example.com>;tag=456248\r\n"
	"Call-ID: 843817637684230@998sdasdh09\r\n"
	"CSeq: 1826 REGISTER\r\n"
	"Contact: <sip:bob@192.0.2.4>\r\n"
	"Expires: 7200\r\n"
	"Content-Length: 0\r\n"
	"\r\n";

static const char r100[] = "SIP/2.0 100 Trying\r\nContent-Length: 0\r\n\r\n";
static const char r200[] = "SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n";

static struct fake f;

static struct tsx *create(bool reliable)
{
	struct sip_msg m;
	struct tsx *t;

	fake_init(&f);
	fake_parse(&m, reg);
	assert_int_equal(tsx_server_create(&t, &f.env, &m, reliable, NULL, NULL), 0);
	assert_int_equal(tsx_kind(t), TSX_SERVER_NONINVITE);
	assert_int_equal(tsx_state(t), TSX_TRYING);
	assert_int_equal(f.narmed, 0); /* no 100 Trying of its own (§17.2.2) */
	return t;
}

static int feed(struct tsx *t)
{
	struct sip_msg m;

	fake_parse(&m, reg);
	return tsx_server_request(t, &m);
}

static void test_trying_absorbs(void **state)
{
	struct tsx *t;

	(void)state;
	t = create(false);
	fake_run_until(&f, 5000);
	assert_int_equal(feed(t), 0);
	assert_int_equal(feed(t), 0);
	assert_int_equal(f.nsent, 0);
	assert_int_equal(tsx_state(t), TSX_TRYING);
	/* a client's late transport failure is no concern of a server's */
	tsx_client_transport_failed(t, -ECONNREFUSED);
	assert_int_equal(f.terrors, 0);
	assert_int_equal(tsx_state(t), TSX_TRYING);
	tsx_terminate(t);
	tsx_unref(t);
}

static void test_proceeding_then_completed_timer_j(void **state)
{
	struct tsx *t;

	(void)state;
	t = create(false);
	assert_int_equal(tsx_server_respond(t, 100, r100, sizeof(r100) - 1), 0);
	assert_int_equal(tsx_state(t), TSX_PROCEEDING);
	assert_int_equal(f.nsent, 1);
	/* a retransmission gets the provisional again */
	assert_int_equal(feed(t), 0);
	assert_int_equal(f.nsent, 2);
	assert_memory_equal(f.sent[1].buf, r100, sizeof(r100) - 1);
	fake_run_until(&f, 1000);
	assert_int_equal(tsx_server_respond(t, 200, r200, sizeof(r200) - 1), 0);
	assert_int_equal(tsx_state(t), TSX_COMPLETED);
	assert_int_equal(tsx_last_code(t), 200);
	assert_int_equal(f.nsent, 3);
	assert_int_equal(fake_timer(&f, 'J')->ms, 32000);
	/* no retransmission of its own, only on request */
	fake_run_until(&f, 20000);
	assert_int_equal(f.nsent, 3);
	assert_int_equal(feed(t), 0);
	assert_int_equal(f.nsent, 4);
	assert_int_equal(f.sent[3].len, sizeof(r200) - 1);
	assert_memory_equal(f.sent[3].buf, r200, sizeof(r200) - 1);
	/* Completed takes no more responses */
	assert_int_equal(tsx_server_respond(t, 404, r200, sizeof(r200) - 1), -EALREADY);
	fake_run_until(&f, 32999);
	assert_int_equal(tsx_state(t), TSX_COMPLETED);
	fake_run_until(&f, 33000);
	assert_int_equal(tsx_state(t), TSX_TERMINATED);
	assert_int_equal(f.terminated, 1);
	assert_int_equal(f.timeouts, 0);
	tsx_unref(t);
}

static void test_reliable_j_zero(void **state)
{
	struct tsx *t;

	(void)state;
	t = create(true);
	assert_int_equal(tsx_server_respond(t, 200, r200, sizeof(r200) - 1), 0);
	assert_int_equal(f.nsent, 1);
	assert_int_equal(tsx_state(t), TSX_TERMINATED);
	assert_int_equal(f.terminated, 1);
	assert_int_equal(f.narmed, 0);
	tsx_unref(t);
}

static void test_transport_error(void **state)
{
	struct tsx *t;

	(void)state;
	t = create(false);
	f.send_err = -EMSGSIZE;
	assert_int_equal(tsx_server_respond(t, 200, r200, sizeof(r200) - 1), -EMSGSIZE);
	assert_int_equal(f.terrors, 1);
	assert_int_equal(f.last_err, -EMSGSIZE);
	assert_int_equal(tsx_state(t), TSX_TERMINATED);
	assert_int_equal(f.narmed, 0);
	tsx_unref(t);
}

static int alloc_run(void *ctx)
{
	struct sip_msg m;
	struct tsx *t;
	int rc;

	(void)ctx;
	fake_init(&f);
	fake_parse(&m, reg);
	rc = tsx_server_create(&t, &f.env, &m, false, NULL, NULL);
	if (rc)
		return rc;
	rc = tsx_server_respond(t, 200, r200, sizeof(r200) - 1);
	if (rc) {
		/* nothing stored, nothing sent: the transaction is still Trying */
		assert_int_equal(rc, -ENOMEM);
		assert_int_equal(f.nsent, 0);
		assert_int_equal(tsx_state(t), TSX_TRYING);
		tsx_terminate(t);
		tsx_unref(t);
		return rc;
	}
	fake_run_until(&f, 40000);
	assert_int_equal(f.terminated, 1);
	tsx_unref(t);
	return 0;
}

static void test_alloc_failures(void **state)
{
	(void)state;
	/* the transaction, then the response it keeps to resend */
	assert_int_equal(harness_alloc_fail_loop(alloc_run, NULL), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		SIPHON_TEST(test_trying_absorbs),
		SIPHON_TEST(test_proceeding_then_completed_timer_j),
		SIPHON_TEST(test_reliable_j_zero),
		SIPHON_TEST(test_transport_error),
		SIPHON_TEST(test_alloc_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
