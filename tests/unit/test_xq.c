/* Cross-worker queue (transport/xq.h): order, bounds, full-queue and
 * out-of-memory behaviour, two producer threads against a consumer on an
 * event loop (run under TSan too). Also what the queue relies on in the
 * stream transport: stable connection ids and their lookup (a stale id
 * finds nothing), and the egress checks on the send paths (broadcast and
 * multicast refused by tp_udp_send, denied connects and accepted peers). */
#include "harness.h"

#include "base/loop.h"
#include "base/mem.h"
#include "transport/egress.h"
#include "transport/tcp.h"
#include "transport/udp.h"
#include "transport/xq.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* ---- single thread ---- */

struct seen {
	unsigned n;
	uint64_t ids[16];
	size_t lens[16];
	char first[64];
};

static void collect(uint64_t id, const char *buf, size_t len, void *arg)
{
	struct seen *s = arg;

	if (s->n == 0)
		snprintf(s->first, sizeof(s->first), "%.*s", (int)len, buf);
	if (s->n < 16) {
		s->ids[s->n] = id;
		s->lens[s->n] = len;
	}
	s->n++;
}

static void test_fifo_and_bounds(void **state)
{
	struct xq *q;
	struct seen s = { 0 };
	struct pollfd pfd;

	(void)state;
	assert_int_equal(xq_create(&q, 3), -EINVAL); /* not a power of two */
	assert_int_equal(xq_create(&q, 4), 0);
	pfd = (struct pollfd){ .fd = xq_fd(q), .events = POLLIN };
	assert_int_equal(poll(&pfd, 1, 0), 0); /* nothing yet */
	assert_int_equal(xq_push(q, 1, "one", 3), 0);
	assert_int_equal(poll(&pfd, 1, 0), 1); /* woken */
	assert_int_equal(xq_push(q, 2, "two!", 4), 0);
	assert_int_equal(xq_push(q, 3, "3", 1), 0);
	assert_int_equal(xq_push(q, 4, "4", 1), 0);
	/* full: refused, nothing queued, nothing lost */
	assert_int_equal(xq_push(q, 5, "5", 1), -ENOBUFS);
	assert_int_equal(xq_count(q), 4);
	assert_int_equal(xq_push(q, 6, "", 0), -EMSGSIZE);
	assert_int_equal(xq_drain(q, 1, collect, &s), 1);
	assert_string_equal(s.first, "one");
	/* one slot free again */
	assert_int_equal(xq_push(q, 5, "5", 1), 0);
	assert_int_equal(xq_push(q, 6, "6", 1), -ENOBUFS);
	assert_int_equal(xq_drain(q, 100, collect, &s), 4);
	assert_int_equal(s.n, 5);
	for (unsigned i = 0; i < 5; i++)
		assert_int_equal(s.ids[i], i + 1);
	assert_int_equal(s.lens[1], 4);
	assert_int_equal(xq_drain(q, 100, collect, &s), 0);
	assert_int_equal(xq_count(q), 0);
	xq_destroy(q);
}

static void test_big_and_nomem(void **state)
{
	static char big[XQ_MSG_MAX + 1];
	struct xq *q;
	struct seen s = { 0 };

	(void)state;
	memset(big, 'x', sizeof(big));
	assert_int_equal(xq_create(&q, 2), 0);
	assert_int_equal(xq_push(q, 1, big, sizeof(big)), -EMSGSIZE);
	assert_int_equal(xq_push(q, 1, big, XQ_MSG_MAX), 0);
	/* the other slot cannot get a buffer: the entry is refused, and the
	 * claimed slot comes back empty (skipped by the consumer) */
	mem_fail_after(0);
	assert_int_equal(xq_push(q, 2, "abc", 3), -ENOMEM);
	mem_fail_after(-1);
	assert_int_equal(xq_drain(q, 10, collect, &s), 1);
	assert_int_equal(s.ids[0], 1);
	assert_int_equal(s.lens[0], XQ_MSG_MAX);
	/* both slots usable again; the big one keeps its buffer (no alloc) */
	mem_fail_after(0);
	assert_int_equal(xq_push(q, 3, big, 1000), 0); /* slot 0 again */
	mem_fail_after(-1);
	assert_int_equal(xq_push(q, 4, "abc", 3), 0);
	assert_int_equal(xq_drain(q, 10, collect, &s), 2);
	assert_int_equal(s.ids[1], 3);
	assert_int_equal(s.ids[2], 4);
	xq_destroy(q);
}

/* ---- two producer threads, a consumer on an event loop ---- */

#define PRODUCERS 2
#define PER_PRODUCER 20000u

struct mt {
	struct xq *q;
	struct loop *loop;
	unsigned next[PRODUCERS]; /* consumer: next sequence expected per producer */
	unsigned got, bad, full;
	struct loop_timer guard;
	bool timed_out;
};

struct producer {
	struct mt *mt;
	unsigned idx;
	unsigned full; /* pushes refused (queue full) */
};

static void *produce(void *arg)
{
	struct producer *p = arg;
	struct timespec t0, now;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned i = 0; i < PER_PRODUCER; i++) {
		char msg[32];
		int n = snprintf(msg, sizeof(msg), "p%u-%u", p->idx, i);

		while (xq_push(p->mt->q, ((uint64_t)p->idx << 32) | i, msg, (size_t)n) == -ENOBUFS) {
			p->full++;
			clock_gettime(CLOCK_MONOTONIC, &now);
			if (now.tv_sec - t0.tv_sec > 20)
				return NULL; /* bounded: the consumer counts what is missing */
			sched_yield();
		}
	}
	return NULL;
}

static void consume(uint64_t id, const char *buf, size_t len, void *arg)
{
	struct mt *mt = arg;
	unsigned who = (unsigned)(id >> 32), seq = (unsigned)id;
	char want[32];
	int n;

	if (who >= PRODUCERS || seq != mt->next[who]) {
		mt->bad++;
	} else {
		n = snprintf(want, sizeof(want), "p%u-%u", who, seq);
		if ((size_t)n != len || memcmp(want, buf, len) != 0)
			mt->bad++;
		mt->next[who]++;
	}
	if (++mt->got == PRODUCERS * PER_PRODUCER)
		loop_stop(mt->loop);
}

static void on_guard(void *arg)
{
	struct mt *mt = arg;

	mt->timed_out = true;
	loop_stop(mt->loop);
}

static void test_two_producers(void **state)
{
	struct producer p[PRODUCERS];
	pthread_t th[PRODUCERS];
	struct mt mt = { 0 };

	(void)state;
	assert_int_equal(loop_create(&mt.loop), 0);
	assert_int_equal(xq_create(&mt.q, 64), 0); /* small: the producers meet a full queue */
	assert_int_equal(xq_attach(mt.q, mt.loop, consume, &mt), 0);
	assert_int_equal(loop_timer_add(mt.loop, &mt.guard, 30000, on_guard, &mt), 0);
	for (unsigned i = 0; i < PRODUCERS; i++) {
		p[i] = (struct producer){ .mt = &mt, .idx = i };
		assert_int_equal(pthread_create(&th[i], NULL, produce, &p[i]), 0);
	}
	assert_int_equal(loop_run(mt.loop), 0);
	for (unsigned i = 0; i < PRODUCERS; i++)
		pthread_join(th[i], NULL);
	print_message("xq: %u entries, %u pushes refused while full\n", mt.got,
		      p[0].full + p[1].full);
	assert_false(mt.timed_out);
	assert_int_equal(mt.bad, 0);
	assert_int_equal(mt.got, PRODUCERS * PER_PRODUCER);
	loop_timer_cancel(mt.loop, &mt.guard);
	xq_destroy(mt.q); /* detaches */
	loop_destroy(mt.loop);
}

/* ---- connection ids and egress on the stream and datagram paths ---- */

struct side {
	struct loop *loop;
	struct tp_tcp_conn *conn;
	int ups, downs, down_err;
};

static ssize_t on_recv(struct tp_tcp_conn *c, const char *buf, size_t len, void *arg)
{
	(void)c;
	(void)buf;
	(void)arg;
	return (ssize_t)len;
}

static void on_event(struct tp_tcp_conn *c, enum tp_tcp_event ev, int err, void *arg)
{
	struct side *s = arg;

	if (ev == TP_TCP_UP) {
		s->ups++;
		s->conn = c;
	} else {
		s->downs++;
		s->down_err = err;
		if (s->conn == c)
			s->conn = NULL;
	}
}

static void on_tick(void *arg)
{
	loop_stop(arg);
}

/* Run l in short rounds until cond holds (at most about 5 s). */
#define RUN_UNTIL(l, cond) \
	do { \
		struct loop_timer tick_ = { 0 }; \
		for (int i_ = 0; i_ < 500 && !(cond); i_++) { \
			assert_int_equal(loop_timer_add((l), &tick_, 10, on_tick, (l)), 0); \
			assert_int_equal(loop_run(l), 0); \
		} \
		loop_timer_cancel((l), &tick_); \
	} while (0)

static void test_conn_ids(void **state)
{
	struct tp_tcp_cfg scfg = { .id_tag = 5, .reuseport = true };
	struct tp_tcp_cfg bad = { .id_tag = 256 };
	struct side srv = { 0 }, cli = { 0 };
	struct tp_tcp *ts, *tc;
	struct tp_addr any, bound;
	struct tp_tcp_conn *c;
	struct loop *l;
	uint64_t id;

	(void)state;
	assert_int_equal(loop_create(&l), 0);
	assert_int_equal(tp_tcp_create(&ts, l, &bad, on_recv, NULL), -EINVAL);
	assert_int_equal(tp_tcp_create(&ts, l, &scfg, on_recv, &srv), 0);
	assert_int_equal(tp_tcp_create(&tc, l, NULL, on_recv, &cli), 0);
	tp_tcp_set_event_cb(ts, on_event, &srv);
	tp_tcp_set_event_cb(tc, on_event, &cli);
	assert_int_equal(tp_addr_from_numeric(&any, str_cstr("127.0.0.1"), 0), 0);
	assert_int_equal(tp_tcp_listen(ts, &any, &bound), 0);
	assert_int_equal(tp_tcp_connect(tc, &bound, NULL, NULL, &c), 0);
	RUN_UNTIL(l, srv.ups && cli.ups);
	assert_non_null(srv.conn);
	id = tp_tcp_conn_id(srv.conn);
	assert_int_equal(TP_TCP_ID_TAG(id), 5);
	assert_ptr_equal(tp_tcp_conn_find(ts, id), srv.conn);
	assert_null(tp_tcp_conn_find(ts, id + 1));
	assert_null(tp_tcp_conn_find(ts, id ^ ((uint64_t)1 << 60)));
	assert_int_equal(TP_TCP_ID_TAG(tp_tcp_conn_id(c)), 0);
	assert_ptr_equal(tp_tcp_conn_find(tc, tp_tcp_conn_id(c)), c);
	assert_int_not_equal(tp_tcp_conn_id(c) & 0xffffffffu, 0);
	/* gone: the id goes stale and finds nothing */
	tp_tcp_conn_close(srv.conn);
	RUN_UNTIL(l, srv.downs && cli.downs);
	assert_null(tp_tcp_conn_find(ts, id));
	assert_int_equal(tp_tcp_conn_count(ts), 0);
	tp_tcp_destroy(tc);
	tp_tcp_destroy(ts);
	loop_destroy(l);
}

static void test_egress_stream(void **state)
{
	struct tp_egress *none, *loopback;
	struct side srv = { 0 }, cli = { 0 };
	struct tp_tcp_cfg scfg = { 0 }, ccfg = { 0 };
	struct tp_tcp *ts, *tc;
	struct tp_addr any, bound, far;
	struct tp_tcp_conn *c = NULL;
	struct loop *l;

	(void)state;
	assert_int_equal(tp_egress_create(&none), 0); /* empty: nothing allowed */
	assert_int_equal(tp_egress_create(&loopback), 0);
	assert_int_equal(tp_egress_add(loopback, true, "127.0.0.0/8"), 0);
	scfg.egress = none;
	ccfg.egress = loopback;
	assert_int_equal(loop_create(&l), 0);
	assert_int_equal(tp_tcp_create(&ts, l, &scfg, on_recv, &srv), 0);
	assert_int_equal(tp_tcp_create(&tc, l, &ccfg, on_recv, &cli), 0);
	tp_tcp_set_event_cb(ts, on_event, &srv);
	tp_tcp_set_event_cb(tc, on_event, &cli);
	/* an outbound connection to a denied network is never opened */
	assert_int_equal(tp_addr_from_numeric(&far, str_cstr("192.0.2.1"), 5060), 0);
	assert_int_equal(tp_tcp_connect(tc, &far, NULL, NULL, &c), -EACCES);
	assert_null(c);
	assert_int_equal(tp_tcp_conn_count(tc), 0);
	/* an accepted peer outside the policy gets nothing back */
	assert_int_equal(tp_addr_from_numeric(&any, str_cstr("127.0.0.1"), 0), 0);
	assert_int_equal(tp_tcp_listen(ts, &any, &bound), 0);
	assert_int_equal(tp_tcp_connect(tc, &bound, NULL, NULL, &c), 0);
	RUN_UNTIL(l, srv.ups && cli.ups);
	assert_non_null(srv.conn);
	assert_int_equal(tp_tcp_send(c, "hello", 5), 0); /* allowed direction */
	assert_int_equal(tp_tcp_send(srv.conn, "reply", 5), -EACCES);
	RUN_UNTIL(l, srv.downs && cli.downs);
	assert_int_equal(srv.down_err, -EACCES);
	tp_tcp_destroy(tc);
	tp_tcp_destroy(ts);
	loop_destroy(l);
	tp_egress_destroy(none);
	tp_egress_destroy(loopback);
}

static void on_dgram(struct tp_udp *u, const char *buf, size_t len, const struct tp_addr *src,
		     void *arg)
{
	(void)u;
	(void)buf;
	(void)len;
	(void)src;
	(void)arg;
}

static void test_egress_udp(void **state)
{
	static const char *const refused[] = { "255.255.255.255", "224.0.0.1", "239.1.2.3",
					       "ff02::1", "::ffff:255.255.255.255" };
	struct tp_egress *e;
	struct tp_udp *u, *u2;
	struct tp_addr any, dst;
	struct loop *l;

	(void)state;
	assert_int_equal(tp_egress_create(&e), 0);
	assert_int_equal(tp_egress_set_default(e), 0); /* allow = any */
	assert_int_equal(loop_create(&l), 0);
	assert_int_equal(tp_addr_from_numeric(&any, str_cstr("127.0.0.1"), 0), 0);
	assert_int_equal(tp_udp_create(&u, l, &any, on_dgram, NULL), 0);
	/* SO_REUSEPORT: a second socket (another worker's) on the same port */
	assert_int_equal(tp_udp_create(&u2, l, tp_udp_local(u), on_dgram, NULL), 0);
	assert_true(tp_addr_equal(tp_udp_local(u), tp_udp_local(u2)));
	tp_udp_set_egress(u, e);
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		assert_int_equal(tp_addr_from_numeric(&dst, str_cstr(refused[i]), 5060), 0);
		if (dst.ss.ss_family != AF_INET)
			continue; /* an IPv4 socket cannot try: the policy is proven above */
		assert_int_equal(tp_udp_send(u, "x", 1, &dst), -EACCES);
	}
	assert_false(tp_egress_permits(e, &dst)); /* the last: mapped broadcast */
	assert_int_equal(tp_udp_send(u, "x", 1, tp_udp_local(u2)), 0);
	tp_udp_destroy(u2);
	tp_udp_destroy(u);
	loop_destroy(l);
	tp_egress_destroy(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		SIPHON_TEST(test_fifo_and_bounds),
		SIPHON_TEST(test_big_and_nomem),
		SIPHON_TEST(test_two_producers),
		SIPHON_TEST(test_conn_ids),
		SIPHON_TEST(test_egress_stream),
		SIPHON_TEST(test_egress_udp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
