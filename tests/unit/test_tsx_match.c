/* Matching requests and responses to transactions (RFC 3261 §17.1.3,
 * §17.2.3, §9.2, RFC 6026 §8.7) through the table. */
#include "tsx_fake.h"

#include "base/mem.h"
#include "tsx/key.h"
#include "tsx/table.h"

#include <stdio.h>

static struct fake f;
static struct tsx_table *tb;

struct rq {
	const char *method, *ruri, *via, *from_tag, *to_tag, *call_id, *cseq_method;
	unsigned cseq;
};

static const struct rq base = {
	.method = "INVITE",
	.ruri = "sip:bob@biloxi.example.com",
	.via = "SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bKabc",
	.from_tag = "ft1",
	.to_tag = "",
	.call_id = "cid-1@atlanta",
	.cseq_method = NULL, /* = method */
	.cseq = 7,
};

/* Up to four live messages at once (each keeps its buffer). */
static char bufs[4][1024];
static struct sip_msg msgs[4];
static unsigned next_buf;

static const struct sip_msg *req(struct rq r)
{
	unsigned i = next_buf++ % 4;
	char to[64] = "";
	int n;

	if (r.to_tag[0])
		snprintf(to, sizeof(to), ";tag=%s", r.to_tag);
	n = snprintf(bufs[i], sizeof(bufs[i]),
		     "%s %s SIP/2.0\r\nVia: %s\r\nFrom: <sip:alice@atlanta.example.com>;tag=%s\r\n"
		     "To: <sip:bob@biloxi.example.com>%s\r\nCall-ID: %s\r\nCSeq: %u %s\r\n"
		     "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
		     r.method, r.ruri, r.via, r.from_tag, to, r.call_id, r.cseq,
		     r.cseq_method ? r.cseq_method : r.method);
	assert_int_equal(sip_msg_parse(&msgs[i], bufs[i], (size_t)n, SIP_PARSE_DATAGRAM), 0);
	return &msgs[i];
}

static const struct sip_msg *resp(const char *via, unsigned code, const char *cseq_method)
{
	unsigned i = next_buf++ % 4;
	int n = snprintf(bufs[i], sizeof(bufs[i]),
			 "SIP/2.0 %u X\r\nVia: %s\r\nFrom: <sip:a@a>;tag=1\r\nTo: <sip:b@b>;tag=2\r\n"
			 "Call-ID: c\r\nCSeq: 7 %s\r\nContent-Length: 0\r\n\r\n",
			 code, via, cseq_method);

	assert_int_equal(sip_msg_parse(&msgs[i], bufs[i], (size_t)n, SIP_PARSE_DATAGRAM), 0);
	return &msgs[i];
}

static void open_table(void)
{
	fake_init(&f);
	assert_int_equal(tsx_table_create(&tb, 64, 8), 0);
}

/* Drops the table's references on what is left in it. */
static void close_table(void)
{
	tsx_table_destroy(tb);
	tb = NULL;
}

static struct tsx *server(const struct sip_msg *m)
{
	struct tsx *t;

	assert_int_equal(tsx_server_create(&t, &f.env, m, false, NULL, NULL), 0);
	assert_int_equal(tsx_table_insert(tb, t), 0);
	return t;
}

/* Does m find t? (drops the found reference) */
static bool finds(const struct sip_msg *m, const struct tsx *t)
{
	struct tsx *x = m->is_request ? tsx_table_match_request(tb, m) : tsx_table_match_response(tb, m);
	bool ok = x == t;

	if (x)
		tsx_unref(x);
	return ok && t != NULL;
}

static bool finds_nothing(const struct sip_msg *m)
{
	struct tsx *x = m->is_request ? tsx_table_match_request(tb, m) : tsx_table_match_response(tb, m);

	if (x)
		tsx_unref(x);
	return x == NULL;
}

static void test_client_responses(void **state)
{
	struct rq c = base;
	struct tsx *inv, *can;

	(void)state;
	open_table();
	assert_int_equal(tsx_client_create(&inv, &f.env, req(base), false, NULL), 0);
	assert_int_equal(tsx_table_insert(tb, inv), 0);
	c.method = "CANCEL";
	assert_int_equal(tsx_client_create(&can, &f.env, req(c), false, NULL), 0);
	/* same branch, other method: CANCEL is its own transaction (§9.1) */
	assert_int_equal(tsx_table_insert(tb, can), 0);
	assert_int_equal(tsx_table_count(tb), 2);
	assert_true(finds(resp(base.via, 180, "INVITE"), inv));
	assert_true(finds(resp(base.via, 200, "CANCEL"), can));
	/* §17.1.3: the branch decides, sent-by plays no part for responses */
	assert_true(finds(resp("SIP/2.0/UDP elsewhere.example.net;branch=z9hG4bKabc", 486, "INVITE"), inv));
	assert_true(finds_nothing(resp("SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKabd", 180,
				       "INVITE")));
	assert_true(finds_nothing(resp(base.via, 200, "BYE")));
	assert_true(finds_nothing(resp("SIP/2.0/UDP pc33.atlanta.example.com", 200, "INVITE")));
	/* a request never finds a client transaction */
	assert_true(finds_nothing(req(base)));
	tsx_unref(inv);
	tsx_unref(can);
	close_table();
}

static void test_server_rfc3261(void **state)
{
	struct rq r = base;
	struct tsx *t;

	(void)state;
	open_table();
	t = server(req(base));
	assert_true(finds(req(base), t));
	/* sent-by host is case-insensitive; absent port = 5060 */
	r.via = "SIP/2.0/UDP PC33.Atlanta.Example.COM;branch=z9hG4bKabc";
	assert_true(finds(req(r), t));
	/* same branch, different sent-by: another client's transaction */
	r.via = "SIP/2.0/UDP pc34.atlanta.example.com:5060;branch=z9hG4bKabc";
	assert_true(finds_nothing(req(r)));
	r.via = "SIP/2.0/UDP pc33.atlanta.example.com:5070;branch=z9hG4bKabc";
	assert_true(finds_nothing(req(r)));
	/* branch differs */
	r.via = "SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bKabC";
	assert_true(finds_nothing(req(r)));
	/* method mismatch */
	r = base;
	r.method = "BYE";
	assert_true(finds_nothing(req(r)));
	/* with the cookie nothing else matters (§17.2.3) */
	r = base;
	r.call_id = "other";
	r.from_tag = "zzz";
	assert_true(finds(req(r), t));
	/* a duplicate key is refused, a second table insert too */
	{
		struct tsx *d;

		assert_int_equal(tsx_server_create(&d, &f.env, req(base), false, NULL, NULL), 0);
		assert_int_equal(tsx_table_insert(tb, d), -EEXIST);
		tsx_unref(d);
	}
	assert_int_equal(tsx_table_insert(tb, t), -EBUSY);
	tsx_terminate(t);
	assert_true(finds_nothing(req(base)));
	assert_int_equal(tsx_table_count(tb), 0);
	assert_int_equal(tsx_table_remove(tb, t), -ENOENT);
	tsx_unref(t);
	close_table();
}

static const char *respond(struct tsx *t, uint16_t code, const char *to_tag)
{
	static char b[512];
	int n = snprintf(b, sizeof(b),
			 "SIP/2.0 %u X\r\nVia: %s\r\nFrom: <sip:alice@atlanta.example.com>;tag=%s\r\n"
			 "To: <sip:bob@biloxi.example.com>;tag=%s\r\nCall-ID: %s\r\nCSeq: %u INVITE\r\n"
			 "Content-Length: 0\r\n\r\n",
			 code, base.via, base.from_tag, to_tag, base.call_id, base.cseq);

	assert_int_equal(tsx_server_respond(t, code, b, (size_t)n), 0);
	return b;
}

static void test_ack_matching(void **state)
{
	struct rq a = base, a2 = base;
	struct tsx *t;

	(void)state;
	open_table();
	a.method = "ACK";
	a.to_tag = "tt";
	t = server(req(base));
	/* Proceeding: nothing to acknowledge yet */
	assert_true(finds_nothing(req(a)));
	respond(t, 486, "tt");
	/* Completed: the ACK for the non-2xx belongs to the INVITE */
	assert_true(finds(req(a), t));
	/* but its sent-by still counts */
	a2 = a;
	a2.via = "SIP/2.0/UDP other.example.com;branch=z9hG4bKabc";
	assert_true(finds_nothing(req(a2)));
	assert_int_equal(tsx_server_request(t, req(a)), 0);
	assert_int_equal(tsx_state(t), TSX_CONFIRMED);
	/* Confirmed: retransmitted ACKs still match (and are absorbed) */
	assert_true(finds(req(a), t));
	tsx_terminate(t);
	tsx_unref(t);

	/* Accepted (2xx): an ACK never matches, even with the same branch */
	t = server(req(base));
	respond(t, 200, "tt");
	assert_int_equal(tsx_state(t), TSX_ACCEPTED);
	assert_true(finds_nothing(req(a)));
	a2 = a;
	a2.via = "SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bKnew";
	assert_true(finds_nothing(req(a2)));
	/* INVITE retransmissions still match (absorbed by Accepted) */
	assert_true(finds(req(base), t));
	tsx_terminate(t);
	tsx_unref(t);
	close_table();
}

static void test_cancel(void **state)
{
	struct rq c = base;
	struct tsx *inv, *can, *x;

	(void)state;
	open_table();
	c.method = "CANCEL";
	inv = server(req(base));
	/* a CANCEL has its own key: it does not match the INVITE */
	assert_true(finds_nothing(req(c)));
	x = tsx_table_find_cancelled(tb, req(c));
	assert_ptr_equal(x, inv);
	tsx_unref(x);
	/* its own server transaction then matches its retransmissions */
	can = server(req(c));
	assert_true(finds(req(c), can));
	assert_true(finds(req(base), inv));
	/* a CANCEL from another sent-by or branch cancels nothing */
	c.via = "SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bKxyz";
	assert_null(tsx_table_find_cancelled(tb, req(c)));
	/* only a CANCEL looks up what it cancels */
	assert_null(tsx_table_find_cancelled(tb, req(base)));
	tsx_terminate(can);
	tsx_unref(can);
	tsx_terminate(inv);
	tsx_unref(inv);
	close_table();
}

static void test_rfc2543_fallback(void **state)
{
	struct rq r = base, a, c;
	struct tsx *t, *x;

	(void)state;
	open_table();
	r.via = "SIP/2.0/UDP old.example.com:5060;branch=1234";
	t = server(req(r));
	assert_false(tsx_key(t)->rfc3261);
	assert_true(finds(req(r), t));
	{
		/* every field counts */
		struct rq d = r;

		d.call_id = "cid-2@atlanta";
		assert_true(finds_nothing(req(d)));
		d = r;
		d.from_tag = "ft2";
		assert_true(finds_nothing(req(d)));
		d = r;
		d.cseq = 8;
		assert_true(finds_nothing(req(d)));
		d = r;
		d.ruri = "sip:carol@biloxi.example.com";
		assert_true(finds_nothing(req(d)));
		d = r;
		d.to_tag = "x";
		assert_true(finds_nothing(req(d)));
		d = r;
		d.via = "SIP/2.0/UDP old.example.com:5060;branch=1235";
		assert_true(finds_nothing(req(d)));
		/* a cookie branch never matches a 2543 transaction */
		d = r;
		d.via = "SIP/2.0/UDP old.example.com:5060;branch=z9hG4bK1234";
		assert_true(finds_nothing(req(d)));
	}
	/* CANCEL finds it (§9.2) */
	c = r;
	c.method = "CANCEL";
	x = tsx_table_find_cancelled(tb, req(c));
	assert_ptr_equal(x, t);
	tsx_unref(x);
	/* ACK: matched by the To tag of the final sent */
	a = r;
	a.method = "ACK";
	a.to_tag = "srv9";
	assert_true(finds_nothing(req(a))); /* no final yet */
	respond(t, 404, "srv9");
	assert_true(finds(req(a), t));
	a.to_tag = "srv8";
	assert_true(finds_nothing(req(a)));
	a.to_tag = "srv9";
	a.cseq = 9;
	assert_true(finds_nothing(req(a)));
	tsx_terminate(t);
	tsx_unref(t);

	/* no branch at all: the same fallback */
	r.via = "SIP/2.0/UDP old.example.com";
	t = server(req(r));
	assert_true(finds(req(r), t));
	tsx_terminate(t);
	tsx_unref(t);
	close_table();
}

static void test_expiry_by_timers(void **state)
{
	struct rq r = base;
	struct tsx *a, *b;

	(void)state;
	open_table();
	a = server(req(base));
	r.method = "OPTIONS";
	r.via = "SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bKopt";
	b = server(req(r));
	tsx_unref(a); /* the table's reference keeps them */
	tsx_unref(b);
	assert_int_equal(tsx_table_count(tb), 2);
	/* the OPTIONS is answered: J = 32 s */
	{
		struct tsx *x = tsx_table_match_request(tb, req(r));

		assert_non_null(x);
		assert_int_equal(tsx_server_respond(x, 200, "SIP/2.0 200 OK\r\n\r\n", 18), 0);
		tsx_unref(x);
	}
	fake_run_until(&f, 32000);
	assert_int_equal(tsx_table_count(tb), 1);
	assert_true(finds_nothing(req(r)));
	/* the INVITE is left to the table's destruction */
	close_table();
}

static void test_key_errors(void **state)
{
	struct tsx_key k;

	(void)state;
	open_table();
	assert_int_equal(tsx_key_request(&k, resp(base.via, 200, "INVITE")), -EINVAL);
	assert_int_equal(tsx_key_response(&k, req(base)), -EINVAL);
	assert_int_equal(tsx_key_cancelled(&k, req(base)), -EINVAL);
	assert_int_equal(tsx_table_create(&(struct tsx_table *){ NULL }, 48, 8), -EINVAL);
	assert_int_equal(tsx_table_create(&(struct tsx_table *){ NULL }, 8, 16), -EINVAL);
	close_table();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		SIPHON_TEST(test_client_responses),
		SIPHON_TEST(test_server_rfc3261),
		SIPHON_TEST(test_ack_matching),
		SIPHON_TEST(test_cancel),
		SIPHON_TEST(test_rfc2543_fallback),
		SIPHON_TEST(test_expiry_by_timers),
		SIPHON_TEST(test_key_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
