/* Location service, memory backend (the index every backend shares): save,
 * refresh, RFC 5626 flow replacement, removal, ordering by q then recency,
 * expiry, iteration, callbacks through loc_poll() and a loop, and allocation
 * failure at every step. */
#include "harness.h"

#include "base/loop.h"
#include "base/mem.h"
#include "location/loc.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

static const time_t T0 = 1700000000;

static struct loc_binding bind(const char *aor, const char *contact, uint16_t q, time_t expires,
			       time_t updated)
{
	return (struct loc_binding){
		.aor = str_cstr(aor),
		.contact = str_cstr(contact),
		.call_id = STR_LIT("call-1@host"),
		.cseq = 1,
		.q = q,
		.expires = expires,
		.updated = updated,
		.received = STR_LIT("udp:192.0.2.1:5060"),
		.user_agent = STR_LIT("test"),
	};
}

static struct loc *mem_loc(void)
{
	struct loc_cfg cfg = { .backend = LOC_MEMORY };
	struct loc *l = NULL;

	assert_int_equal(loc_create(&l, &cfg), 0);
	return l;
}

static int done_count, done_err;

static void on_done(int err, void *arg)
{
	(void)arg;
	done_count++;
	if (err)
		done_err = err;
}

static void test_save_lookup_refresh(void **state)
{
	struct loc *l = mem_loc();
	struct loc_binding b = bind("sip:alice@example.com", "sip:alice@192.0.2.1", 1000,
				    T0 + 3600, T0);
	struct loc_binding out[4];
	size_t n;

	(void)state;
	done_count = done_err = 0;
	assert_int_equal(loc_save(l, &b, on_done, NULL), 0);
	/* the callback only runs from loc_poll(), signalled by loc_fd() */
	assert_int_equal(done_count, 0);
	assert_true(poll(&(struct pollfd){ .fd = loc_fd(l), .events = POLLIN }, 1, 0) == 1);
	assert_int_equal(loc_poll(l), 1);
	assert_int_equal(done_count, 1);
	assert_int_equal(done_err, 0);

	n = loc_lookup(l, STR_LIT("sip:alice@example.com"), out, 4, T0);
	assert_int_equal(n, 1);
	assert_str(out[0].contact, "sip:alice@192.0.2.1");
	assert_str(out[0].received, "udp:192.0.2.1:5060");
	assert_int_equal(out[0].expires, T0 + 3600);
	loc_release(out, n);

	/* refresh: same contact, new CSeq and expiry replaces, no duplicate */
	b.cseq = 2;
	b.expires = T0 + 7200;
	b.path = STR_LIT("<sip:edge.example.com;lr>");
	assert_int_equal(loc_save(l, &b, NULL, NULL), 0);
	assert_int_equal(loc_count(l), 1);
	n = loc_lookup(l, STR_LIT("sip:alice@example.com"), out, 4, T0);
	assert_int_equal(n, 1);
	assert_int_equal(out[0].cseq, 2);
	assert_int_equal(out[0].expires, T0 + 7200);
	assert_str(out[0].path, "<sip:edge.example.com;lr>");
	/* the result stays valid after the binding is replaced again */
	b.cseq = 3;
	assert_int_equal(loc_save(l, &b, NULL, NULL), 0);
	assert_int_equal(out[0].cseq, 2);
	assert_str(out[0].contact, "sip:alice@192.0.2.1");
	loc_release(out, n);

	assert_int_equal(loc_lookup(l, STR_LIT("sip:bob@example.com"), out, 4, T0), 0);
	assert_int_equal(loc_save(l, &(struct loc_binding){ .aor = STR_LIT("x") }, NULL, NULL),
			 -EINVAL);
	b.q = 1001;
	assert_int_equal(loc_save(l, &b, NULL, NULL), -EINVAL);
	loc_destroy(l);
}

static void test_order_q_then_recent(void **state)
{
	struct loc *l = mem_loc();
	struct loc_binding out[8];
	const char *aor = "sip:carol@example.com";
	size_t n;

	(void)state;
	struct loc_binding in[] = {
		bind(aor, "sip:c1@h", 500, T0 + 100, T0 + 1),
		bind(aor, "sip:c2@h", 1000, T0 + 100, T0 + 1),
		bind(aor, "sip:c3@h", 500, T0 + 100, T0 + 5),
		bind(aor, "sip:c4@h", 0, T0 + 100, T0 + 9),
		bind(aor, "sip:c5@h", 1000, T0 + 100, T0 + 3),
	};
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(loc_save(l, &in[i], NULL, NULL), 0);
	n = loc_lookup(l, str_cstr(aor), out, 8, T0);
	assert_int_equal(n, 5);
	assert_str(out[0].contact, "sip:c5@h");
	assert_str(out[1].contact, "sip:c2@h");
	assert_str(out[2].contact, "sip:c3@h");
	assert_str(out[3].contact, "sip:c1@h");
	assert_str(out[4].contact, "sip:c4@h");
	loc_release(out, n);

	/* max smaller than the set: the best ones, still in order */
	n = loc_lookup(l, str_cstr(aor), out, 2, T0);
	assert_int_equal(n, 2);
	assert_str(out[0].contact, "sip:c5@h");
	assert_str(out[1].contact, "sip:c2@h");
	loc_release(out, n);
	loc_destroy(l);
}

static void test_instance_reg_id(void **state)
{
	struct loc *l = mem_loc();
	const char *aor = "sip:dave@example.com";
	struct loc_binding a = bind(aor, "sip:dave@192.0.2.7:5060;transport=tcp", 1000, T0 + 60, T0);
	struct loc_binding out[4];
	size_t n;

	(void)state;
	a.instance = STR_LIT("<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>");
	a.reg_id = 1;
	assert_int_equal(loc_save(l, &a, NULL, NULL), 0);
	/* another flow (reg-id 2) of the same instance is a second binding */
	a.contact = STR_LIT("sip:dave@198.51.100.7:5060;transport=tcp");
	a.reg_id = 2;
	assert_int_equal(loc_save(l, &a, NULL, NULL), 0);
	assert_int_equal(loc_count(l), 2);
	/* reg-id 1 re-registered from a new address replaces its flow (RFC 5626 §6) */
	a.contact = STR_LIT("sip:dave@203.0.113.9:5060;transport=tcp");
	a.reg_id = 1;
	assert_int_equal(loc_save(l, &a, NULL, NULL), 0);
	assert_int_equal(loc_count(l), 2);
	n = loc_lookup(l, str_cstr(aor), out, 4, T0);
	assert_int_equal(n, 2);
	for (size_t i = 0; i < n; i++)
		assert_false(str_eq(out[i].contact, STR_LIT("sip:dave@192.0.2.7:5060;transport=tcp")));
	loc_release(out, n);
	loc_destroy(l);
}

static void test_remove(void **state)
{
	struct loc *l = mem_loc();
	struct loc_binding out[4];
	struct loc_binding b1 = bind("sip:e@x", "sip:e1@h", 1000, T0 + 60, T0);
	struct loc_binding b2 = bind("sip:e@x", "sip:e2@h", 1000, T0 + 60, T0);
	struct loc_binding b3 = bind("sip:f@x", "sip:f1@h", 1000, T0 + 60, T0);

	(void)state;
	done_count = 0;
	assert_int_equal(loc_save(l, &b1, NULL, NULL), 0);
	assert_int_equal(loc_save(l, &b2, NULL, NULL), 0);
	assert_int_equal(loc_save(l, &b3, NULL, NULL), 0);
	assert_int_equal(loc_remove(l, STR_LIT("sip:e@x"), STR_LIT("sip:e1@h"), on_done, NULL), 0);
	assert_int_equal(loc_count(l), 2);
	assert_int_equal(loc_lookup(l, STR_LIT("sip:e@x"), out, 4, T0), 1);
	assert_str(out[0].contact, "sip:e2@h");
	loc_release(out, 1);
	/* unknown contact: nothing changes, the callback still runs */
	assert_int_equal(loc_remove(l, STR_LIT("sip:e@x"), STR_LIT("sip:zz@h"), on_done, NULL), 0);
	assert_int_equal(loc_remove_all(l, STR_LIT("sip:e@x"), on_done, NULL), 0);
	assert_int_equal(loc_count(l), 1);
	assert_int_equal(loc_lookup(l, STR_LIT("sip:e@x"), out, 4, T0), 0);
	assert_int_equal(loc_poll(l), 3);
	assert_int_equal(done_count, 3);
	assert_int_equal(loc_remove(l, STR_LIT(""), STR_LIT("sip:e1@h"), NULL, NULL), -EINVAL);
	loc_destroy(l);
}

static int count_fn(const struct loc_binding *b, void *arg)
{
	(void)b;
	(*(int *)arg)++;
	return 0;
}

static int stop_fn(const struct loc_binding *b, void *arg)
{
	(void)b, (void)arg;
	return 7;
}

static void test_expiry_and_foreach(void **state)
{
	struct loc *l = mem_loc();
	struct loc_binding out[4];
	char aor[64], contact[64];
	int seen = 0;

	(void)state;
	for (int i = 0; i < 500; i++) {
		snprintf(aor, sizeof(aor), "sip:u%d@example.com", i % 100);
		snprintf(contact, sizeof(contact), "sip:c%d@192.0.2.1", i);
		struct loc_binding b = bind(aor, contact, 1000, T0 + (i % 2 ? 10 : 100), T0);
		assert_int_equal(loc_save(l, &b, NULL, NULL), 0);
	}
	assert_int_equal(loc_count(l), 500);
	/* expired bindings are hidden from lookups before the purge */
	assert_int_equal(loc_lookup(l, STR_LIT("sip:u1@example.com"), out, 4, T0 + 10), 0);
	assert_int_equal(loc_lookup(l, STR_LIT("sip:u2@example.com"), out, 4, T0 + 10), 4);
	loc_release(out, 4);
	assert_int_equal(loc_foreach(l, count_fn, &seen), 0);
	assert_int_equal(seen, 500);
	assert_int_equal(loc_expire(l, T0 + 10), 250);
	assert_int_equal(loc_count(l), 250);
	seen = 0;
	assert_int_equal(loc_foreach(l, count_fn, &seen), 0);
	assert_int_equal(seen, 250);
	assert_int_equal(loc_foreach(l, stop_fn, NULL), 7);
	assert_int_equal(loc_expire(l, T0 + 100), 250);
	assert_int_equal(loc_count(l), 0);
	loc_destroy(l);
}

/* With cfg.loop the callbacks arrive through the loop's fd watch. */
static struct loop *the_loop;

static void on_done_stop(int err, void *arg)
{
	*(int *)arg = err == 0 ? 1 : -1;
	loop_stop(the_loop);
}

static void test_loop_delivery(void **state)
{
	struct loc_cfg cfg = { .backend = LOC_MEMORY, .expire_interval_s = 1 };
	struct loc_binding b = bind("sip:g@x", "sip:g@h", 1000, time(NULL) + 60, 0);
	struct loc *l;
	int got = 0;

	(void)state;
	assert_int_equal(loop_create(&the_loop), 0);
	cfg.loop = the_loop;
	assert_int_equal(loc_create(&l, &cfg), 0);
	assert_int_equal(loc_save(l, &b, on_done_stop, &got), 0);
	assert_int_equal(loop_run(the_loop), 0);
	assert_int_equal(got, 1);
	loc_destroy(l);
	loop_destroy(the_loop);
}

static int alloc_scenario(void *ctx)
{
	struct loc_cfg cfg = { .backend = LOC_MEMORY };
	struct loc_binding out[4];
	struct loc *l;
	char contact[32];
	int rc;

	(void)ctx;
	rc = loc_create(&l, &cfg);
	if (rc)
		return rc;
	for (int i = 0; i < 6; i++) {
		snprintf(contact, sizeof(contact), "sip:c%d@h", i);
		struct loc_binding b = bind("sip:a@x", contact, 1000, T0 + 60, T0);
		rc = loc_save(l, &b, on_done, NULL);
		if (rc)
			goto out;
	}
	rc = loc_remove(l, STR_LIT("sip:a@x"), STR_LIT("sip:c0@h"), on_done, NULL);
	if (rc)
		goto out;
	rc = loc_remove_all(l, STR_LIT("sip:a@x"), on_done, NULL);
	if (rc)
		goto out;
	if (loc_lookup(l, STR_LIT("sip:a@x"), out, 4, T0) != 0)
		rc = -EINVAL;
out:
	loc_destroy(l); /* runs the pending callbacks */
	return rc;
}

static void test_alloc_fail(void **state)
{
	(void)state;
	assert_true(harness_alloc_fail_loop(alloc_scenario, NULL) > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		SIPHON_TEST(test_save_lookup_refresh),
		SIPHON_TEST(test_order_q_then_recent),
		SIPHON_TEST(test_instance_reg_id),
		SIPHON_TEST(test_remove),
		SIPHON_TEST(test_expiry_and_foreach),
		SIPHON_TEST(test_loop_delivery),
		SIPHON_TEST(test_alloc_fail),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
