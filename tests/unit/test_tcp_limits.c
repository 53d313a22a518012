/* Stream transport limits and reuse: the per-source connection counts
 * shared by the workers (cap, ports ignored, IPv4 and its mapped IPv6
 * spelling as one source, entries freed at zero, two threads at once), the
 * per-source cap on accepted connections, outbound connection reuse by
 * tp_tcp_get() (RFC 3261 §18.1.1, RFC 5923 §5: same peer and kind only,
 * never a closed or an accepted connection), and the SO_REUSEPORT probes. */
#include "harness.h"

#include "base/loop.h"
#include "base/mem.h"
#include "transport/tcp.h"
#include "transport/tls.h"
#include "transport/udp.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct tp_addr addr(const char *host, uint16_t port)
{
	struct tp_addr a;

	assert_int_equal(tp_addr_from_numeric(&a, str_cstr(host), port), 0);
	return a;
}

/* ---- the per-source table ---- */

static void test_srclim_cap(void **state)
{
	struct tp_tcp_srclim *s;
	struct tp_addr a1 = addr("192.0.2.1", 5060), a1b = addr("192.0.2.1", 40000);
	struct tp_addr a2 = addr("192.0.2.2", 5060), m1 = addr("::ffff:192.0.2.1", 1);
	struct tp_addr v6 = addr("2001:db8::1", 5060);

	(void)state;
	assert_int_equal(tp_tcp_srclim_create(&s, 0, 0), -EINVAL);
	assert_int_equal(tp_tcp_srclim_create(&s, 3, 10), 0);
	/* the port does not matter: a source is an IP address */
	assert_int_equal(tp_tcp_srclim_take(s, &a1), 0);
	assert_int_equal(tp_tcp_srclim_take(s, &a1b), 0);
	/* an IPv4-mapped IPv6 address is the IPv4 address */
	assert_int_equal(tp_tcp_srclim_take(s, &m1), 0);
	assert_int_equal(tp_tcp_srclim_count(s, &a1), 3);
	assert_int_equal(tp_tcp_srclim_take(s, &a1), -EUSERS);
	assert_int_equal(tp_tcp_srclim_count(s, &a1), 3);
	/* other sources are not affected */
	assert_int_equal(tp_tcp_srclim_take(s, &a2), 0);
	assert_int_equal(tp_tcp_srclim_take(s, &v6), 0);
	assert_int_equal(tp_tcp_srclim_count(s, &a2), 1);
	/* a unit given back can be taken again */
	tp_tcp_srclim_put(s, &a1b);
	assert_int_equal(tp_tcp_srclim_count(s, &a1), 2);
	assert_int_equal(tp_tcp_srclim_take(s, &a1), 0);
	assert_int_equal(tp_tcp_srclim_take(s, &a1), -EUSERS);
	/* a source at zero holds no memory (the leak check sees it) */
	tp_tcp_srclim_put(s, &a2);
	tp_tcp_srclim_put(s, &a2); /* one too many: ignored */
	assert_int_equal(tp_tcp_srclim_count(s, &a2), 0);
	/* destroy frees what is still held */
	tp_tcp_srclim_destroy(s);
	tp_tcp_srclim_destroy(NULL);
}

/* Many sources: every one counted on its own (chains and stripes). */
static void test_srclim_many(void **state)
{
	struct tp_tcp_srclim *s;
	long before = mem_live_blocks();

	(void)state;
	assert_int_equal(tp_tcp_srclim_create(&s, 2, 0), 0);
	for (unsigned i = 0; i < 5000; i++) {
		struct tp_addr a = addr("10.0.0.0", 1);

		((struct sockaddr_in *)&a.ss)->sin_addr.s_addr = htonl(0x0a000000u + i);
		assert_int_equal(tp_tcp_srclim_take(s, &a), 0);
		assert_int_equal(tp_tcp_srclim_take(s, &a), 0);
		assert_int_equal(tp_tcp_srclim_take(s, &a), -EUSERS);
	}
	for (unsigned i = 0; i < 5000; i++) {
		struct tp_addr a = addr("10.0.0.0", 1);

		((struct sockaddr_in *)&a.ss)->sin_addr.s_addr = htonl(0x0a000000u + i);
		assert_int_equal(tp_tcp_srclim_count(s, &a), 2);
		tp_tcp_srclim_put(s, &a);
		tp_tcp_srclim_put(s, &a);
	}
	/* only the table itself is left */
	assert_int_equal(mem_live_blocks() - before, 2);
	tp_tcp_srclim_destroy(s);
}

#define RACE_ROUNDS 20000
#define RACE_MAX 100

struct racer {
	struct tp_tcp_srclim *s;
	unsigned seed;
	unsigned capped_ok; /* takes on the capped source that succeeded */
};

/* Each thread churns take/put over a few shared sources and, on the side,
 * grabs units of one source it never gives back: under the locks exactly
 * RACE_MAX of those succeed over both threads. */
static void *race(void *arg)
{
	struct racer *r = arg;
	struct tp_addr capped = addr("198.51.100.1", 1);

	for (unsigned i = 0; i < RACE_ROUNDS; i++) {
		struct tp_addr a = addr("203.0.113.0", 1);

		r->seed = r->seed * 1103515245u + 12345u;
		((struct sockaddr_in *)&a.ss)->sin_addr.s_addr =
			htonl(0xcb007100u + ((r->seed >> 16) & 7));
		if (tp_tcp_srclim_take(r->s, &a) == 0)
			tp_tcp_srclim_put(r->s, &a);
		if (i % 50 == 0 && tp_tcp_srclim_take(r->s, &capped) == 0)
			r->capped_ok++;
	}
	return NULL;
}

static void test_srclim_threads(void **state)
{
	struct tp_tcp_srclim *s;
	struct racer r[2];
	pthread_t th[2];
	struct tp_addr capped = addr("198.51.100.1", 9);

	(void)state;
	assert_int_equal(tp_tcp_srclim_create(&s, RACE_MAX, 0), 0);
	for (int i = 0; i < 2; i++) {
		r[i] = (struct racer){ .s = s, .seed = 17u + (unsigned)i };
		assert_int_equal(pthread_create(&th[i], NULL, race, &r[i]), 0);
	}
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	/* 2 x RACE_ROUNDS / 50 = 800 attempts on the capped source */
	assert_int_equal(r[0].capped_ok + r[1].capped_ok, RACE_MAX);
	assert_int_equal(tp_tcp_srclim_count(s, &capped), RACE_MAX);
	for (unsigned i = 0; i < 8; i++) {
		struct tp_addr a = addr("203.0.113.0", 1);

		((struct sockaddr_in *)&a.ss)->sin_addr.s_addr = htonl(0xcb007100u + i);
		assert_int_equal(tp_tcp_srclim_count(s, &a), 0);
	}
	tp_tcp_srclim_destroy(s);
}

static int srclim_alloc(void *arg)
{
	struct tp_tcp_srclim *s;
	struct tp_addr a = addr("192.0.2.9", 1);
	int err;

	(void)arg;
	err = tp_tcp_srclim_create(&s, 1, 0);
	if (err < 0)
		return err;
	err = tp_tcp_srclim_take(s, &a);
	tp_tcp_srclim_destroy(s);
	return err;
}

static void test_srclim_alloc_failures(void **state)
{
	(void)state;
	assert_int_equal(harness_alloc_fail_loop(srclim_alloc, NULL), 3);
}

/* ---- a loop with a server and a client side ---- */

struct fx {
	struct loop *l;
	struct tp_tcp *srv, *cli;
	struct tp_tcp_srclim *srclim;
	struct tp_addr a, b; /* two listen addresses of srv */
	struct loop_timer guard, tick;
	unsigned srv_ups, srv_downs, cli_ups, cli_downs;
	struct tp_tcp_conn *srv_conn;
};

static ssize_t on_recv(struct tp_tcp_conn *c, const char *buf, size_t len, void *arg)
{
	(void)c;
	(void)buf;
	(void)arg;
	return (ssize_t)len;
}

static void on_srv_event(struct tp_tcp_conn *c, enum tp_tcp_event ev, int err, void *arg)
{
	struct fx *f = arg;

	(void)err;
	if (ev == TP_TCP_UP) {
		f->srv_ups++;
		f->srv_conn = c;
	} else {
		f->srv_downs++;
		if (f->srv_conn == c)
			f->srv_conn = NULL;
	}
}

static void on_cli_event(struct tp_tcp_conn *c, enum tp_tcp_event ev, int err, void *arg)
{
	struct fx *f = arg;

	(void)c;
	(void)err;
	if (ev == TP_TCP_UP)
		f->cli_ups++;
	else
		f->cli_downs++;
}

static void on_guard(void *arg)
{
	loop_stop(((struct fx *)arg)->l);
}

/* Run the loop for about ms milliseconds. */
static void fx_spin(struct fx *f, unsigned ms)
{
	assert_int_equal(loop_timer_add(f->l, &f->guard, ms, on_guard, f), 0);
	assert_int_equal(loop_run(f->l), 0);
	loop_timer_cancel(f->l, &f->guard);
}

static void fx_init(struct fx *f, unsigned per_source)
{
	struct tp_tcp_cfg cfg = { 0 };

	memset(f, 0, sizeof(*f));
	assert_int_equal(loop_create(&f->l), 0);
	if (per_source) {
		assert_int_equal(tp_tcp_srclim_create(&f->srclim, per_source, 0), 0);
		cfg.srclim = f->srclim;
	}
	assert_int_equal(tp_tcp_create(&f->srv, f->l, &cfg, on_recv, f), 0);
	assert_int_equal(tp_tcp_create(&f->cli, f->l, NULL, on_recv, f), 0);
	tp_tcp_set_event_cb(f->srv, on_srv_event, f);
	tp_tcp_set_event_cb(f->cli, on_cli_event, f);
	f->a = addr("127.0.0.1", 0);
	f->b = addr("127.0.0.1", 0);
	assert_int_equal(tp_tcp_listen(f->srv, &f->a, &f->a), 0);
	assert_int_equal(tp_tcp_listen(f->srv, &f->b, &f->b), 0);
}

static void fx_free(struct fx *f)
{
	tp_tcp_destroy(f->cli);
	tp_tcp_destroy(f->srv);
	tp_tcp_srclim_destroy(f->srclim);
	loop_destroy(f->l);
}

/* ---- the per-source cap on accepted connections ---- */

static int raw_connect(const struct tp_addr *to, const char *from)
{
	struct tp_addr src = addr(from, 0);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&src.ss, src.len), 0);
	assert_int_equal(connect(fd, (const struct sockaddr *)&to->ss, to->len), 0);
	return fd;
}

static void test_accept_per_source(void **state)
{
	struct tp_addr lo1 = addr("127.0.0.1", 0), lo2 = addr("127.0.0.2", 0);
	struct fx f;
	int fd[4], other;

	(void)state;
	fx_init(&f, 2);
	fd[0] = raw_connect(&f.a, "127.0.0.1");
	fd[1] = raw_connect(&f.b, "127.0.0.1"); /* the cap is per source, not per listener */
	fx_spin(&f, 50);
	assert_int_equal(f.srv_ups, 2);
	assert_int_equal(tp_tcp_srclim_count(f.srclim, &lo1), 2);
	/* the third from 127.0.0.1 is accepted and closed at once */
	fd[2] = raw_connect(&f.a, "127.0.0.1");
	other = raw_connect(&f.a, "127.0.0.2");
	fx_spin(&f, 50);
	assert_int_equal(f.srv_ups, 3);
	assert_int_equal(tp_tcp_conn_count(f.srv), 3);
	assert_int_equal(tp_tcp_srclim_count(f.srclim, &lo1), 2);
	assert_int_equal(tp_tcp_srclim_count(f.srclim, &lo2), 1);
	/* a closed connection gives its unit back */
	close(fd[0]);
	fx_spin(&f, 50);
	assert_int_equal(f.srv_downs, 1);
	assert_int_equal(tp_tcp_srclim_count(f.srclim, &lo1), 1);
	fd[3] = raw_connect(&f.a, "127.0.0.1");
	fx_spin(&f, 50);
	assert_int_equal(f.srv_ups, 4);
	assert_int_equal(tp_tcp_srclim_count(f.srclim, &lo1), 2);
	for (int i = 1; i < 4; i++)
		close(fd[i]);
	close(other);
	fx_spin(&f, 50);
	assert_int_equal(tp_tcp_srclim_count(f.srclim, &lo1), 0);
	assert_int_equal(tp_tcp_srclim_count(f.srclim, &lo2), 0);
	fx_free(&f);
}

/* ---- outbound reuse ---- */

static void test_get_reuse(void **state)
{
	struct tp_tcp_conn *c1, *c2, *c3;
	struct fx f;

	(void)state;
	fx_init(&f, 0);
	/* two gets to the same peer: one connection, even while connecting */
	assert_int_equal(tp_tcp_get(f.cli, &f.a, NULL, NULL, &c1), 0);
	assert_int_equal(tp_tcp_get(f.cli, &f.a, NULL, "ignored for TCP", &c2), 0);
	assert_ptr_equal(c1, c2);
	assert_int_equal(tp_tcp_conn_count(f.cli), 1);
	/* ... and once it is up */
	fx_spin(&f, 50);
	assert_int_equal(f.cli_ups, 1);
	assert_int_equal(tp_tcp_get(f.cli, &f.a, NULL, NULL, &c2), 0);
	assert_ptr_equal(c1, c2);
	assert_true(tp_tcp_conn_is_up(c2));
	/* another peer (same host, another port): another connection */
	assert_int_equal(tp_tcp_get(f.cli, &f.b, NULL, NULL, &c3), 0);
	assert_ptr_not_equal(c3, c1);
	assert_true(tp_addr_equal(tp_tcp_conn_peer(c3), &f.b));
	assert_int_equal(tp_tcp_conn_count(f.cli), 2);
	/* tp_tcp_connect() always opens one; tp_tcp_get() then finds one of them */
	assert_int_equal(tp_tcp_connect(f.cli, &f.a, NULL, NULL, &c2), 0);
	assert_ptr_not_equal(c2, c1);
	assert_int_equal(tp_tcp_get(f.cli, &f.a, NULL, NULL, &c3), 0);
	assert_true(c3 == c1 || c3 == c2);
	assert_int_equal(tp_tcp_conn_count(f.cli), 3);
	fx_free(&f);
}

static void test_get_tls_kind(void **state)
{
	struct tp_tls_ctx *cli, *cli2;
	struct tp_tcp_conn *tcp, *t1, *t2, *t3, *t4, *t5;
	struct fx f;

	(void)state;
	fx_init(&f, 0);
	assert_int_equal(tp_tls_client_ctx_create(&cli, NULL, false, NULL, 0), 0);
	assert_int_equal(tp_tls_client_ctx_create(&cli2, NULL, false, NULL, 0), 0);
	assert_int_equal(tp_tcp_get(f.cli, &f.a, NULL, NULL, &tcp), 0);
	/* TLS is another kind than TCP to the same address */
	assert_int_equal(tp_tcp_get(f.cli, &f.a, cli, "sip.example.com", &t1), 0);
	assert_ptr_not_equal(t1, tcp);
	assert_int_equal(tp_tcp_conn_proto(t1), TP_TLS);
	/* the same name (case does not matter in DNS names): the same one */
	assert_int_equal(tp_tcp_get(f.cli, &f.a, cli, "SIP.example.COM", &t2), 0);
	assert_ptr_equal(t2, t1);
	/* RFC 5923 §5: another verified identity needs its own connection */
	assert_int_equal(tp_tcp_get(f.cli, &f.a, cli, "other.example.com", &t3), 0);
	assert_ptr_not_equal(t3, t1);
	/* no name means the peer's address, and its literal is the same name */
	assert_int_equal(tp_tcp_get(f.cli, &f.a, cli, NULL, &t4), 0);
	assert_ptr_not_equal(t4, t1);
	assert_ptr_not_equal(t4, t3);
	assert_int_equal(tp_tcp_get(f.cli, &f.a, cli, "127.0.0.1", &t5), 0);
	assert_ptr_equal(t5, t4);
	/* another client context (other trust settings): not shared */
	assert_int_equal(tp_tcp_get(f.cli, &f.a, cli2, "sip.example.com", &t5), 0);
	assert_ptr_not_equal(t5, t1);
	assert_int_equal(tp_tcp_conn_count(f.cli), 5);
	fx_free(&f);
	tp_tls_ctx_free(cli);
	tp_tls_ctx_free(cli2);
}

static void test_get_not_closed(void **state)
{
	struct tp_tcp_conn *c1, *c2;
	uint64_t id1, id2;
	struct fx f;

	(void)state;
	fx_init(&f, 0);
	assert_int_equal(tp_tcp_get(f.cli, &f.a, NULL, NULL, &c1), 0);
	fx_spin(&f, 50);
	assert_true(tp_tcp_conn_is_up(c1));
	id1 = tp_tcp_conn_id(c1);
	/* closing (not yet closed): no longer offered */
	tp_tcp_conn_close(c1);
	assert_int_equal(tp_tcp_get(f.cli, &f.a, NULL, NULL, &c2), 0);
	assert_ptr_not_equal(c2, c1);
	id2 = tp_tcp_conn_id(c2);
	fx_spin(&f, 50);
	assert_null(tp_tcp_conn_find(f.cli, id1));
	assert_int_equal(f.cli_downs, 1);
	/* closed by the peer: gone from the table, a new one is opened */
	assert_non_null(f.srv_conn);
	assert_int_equal(f.srv_ups, 2);
	tp_tcp_conn_close(f.srv_conn);
	fx_spin(&f, 50);
	assert_null(tp_tcp_conn_find(f.cli, id2));
	assert_int_equal(f.cli_downs, 2);
	assert_int_equal(tp_tcp_get(f.cli, &f.a, NULL, NULL, &c1), 0);
	assert_true(tp_tcp_conn_id(c1) != id1 && tp_tcp_conn_id(c1) != id2);
	assert_int_equal(tp_tcp_conn_count(f.cli), 1);
	fx_free(&f);
}

/* An accepted connection is not reused for requests to its peer: the
 * peer's source port is not where it listens. */
static void test_get_not_inbound(void **state)
{
	struct tp_tcp_conn *c, *back;
	struct fx f;

	(void)state;
	fx_init(&f, 0);
	assert_int_equal(tp_tcp_connect(f.cli, &f.a, NULL, NULL, &c), 0);
	fx_spin(&f, 50);
	assert_non_null(f.srv_conn);
	assert_int_equal(tp_tcp_get(f.srv, tp_tcp_conn_peer(f.srv_conn), NULL, NULL, &back), 0);
	assert_ptr_not_equal(back, f.srv_conn);
	assert_int_equal(tp_tcp_conn_count(f.srv), 2);
	fx_free(&f);
}

static int get_alloc(void *arg)
{
	struct loop *l = NULL;
	struct tp_tcp *t = NULL;
	struct tp_tls_ctx *cli = arg;
	struct tp_tcp_conn *c1, *c2;
	struct tp_addr a = addr("127.0.0.1", 0);
	int err;

	if ((err = loop_create(&l)) < 0 || (err = tp_tcp_create(&t, l, NULL, on_recv, NULL)) < 0 ||
	    (err = tp_tcp_listen(t, &a, &a)) < 0 ||
	    (err = tp_tcp_get(t, &a, cli, "sip.example.com", &c1)) < 0 ||
	    (err = tp_tcp_get(t, &a, cli, "sip.example.com", &c2)) < 0)
		goto out;
	err = c1 == c2 ? 0 : -EINVAL;
out:
	tp_tcp_destroy(t);
	if (l)
		loop_destroy(l);
	return err;
}

static void test_get_alloc_failures(void **state)
{
	struct tp_tls_ctx *cli;

	(void)state;
	assert_int_equal(tp_tls_client_ctx_create(&cli, NULL, false, NULL, 0), 0);
	assert_true(harness_alloc_fail_loop(get_alloc, cli) > 0);
	tp_tls_ctx_free(cli);
}

/* ---- SO_REUSEPORT probes ---- */

static void test_probe(void **state)
{
	struct tp_addr a = addr("127.0.0.1", 0), any0 = addr("0.0.0.0", 0);
	struct tp_tcp *t;
	struct tp_udp *u;
	struct loop *l;

	(void)state;
	assert_int_equal(loop_create(&l), 0);
	/* port 0 is never shared */
	assert_int_equal(tp_udp_probe(&a), 0);
	assert_int_equal(tp_tcp_probe(&a), 0);
	assert_int_equal(tp_tcp_create(&t, l, &(struct tp_tcp_cfg){ .reuseport = true },
				       on_recv, NULL), 0);
	assert_int_equal(tp_tcp_listen(t, &a, &a), 0);
	/* a SO_REUSEPORT listener holds the address against a plain bind ... */
	assert_int_equal(tp_tcp_probe(&a), -EADDRINUSE);
	/* ... and so does a SO_REUSEPORT UDP socket (the same port is free
	 * for UDP until it is bound) */
	assert_int_equal(tp_udp_probe(&a), 0);
	assert_int_equal(tp_udp_create(&u, l, &a, NULL, NULL), 0);
	assert_int_equal(tp_udp_probe(&a), -EADDRINUSE);
	/* the wildcard address overlaps the specific one */
	tp_addr_set_port(&any0, tp_addr_port(&a));
	assert_int_equal(tp_udp_probe(&any0), -EADDRINUSE);
	tp_udp_destroy(u);
	tp_tcp_destroy(t);
	/* freed again: a TIME_WAIT-free, unbound port probes clean */
	assert_int_equal(tp_udp_probe(&a), 0);
	assert_int_equal(tp_tcp_probe(&a), 0);
	loop_destroy(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		SIPHON_TEST(test_srclim_cap),
		SIPHON_TEST(test_srclim_many),
		SIPHON_TEST(test_srclim_threads),
		SIPHON_TEST(test_srclim_alloc_failures),
		SIPHON_TEST(test_accept_per_source),
		SIPHON_TEST(test_get_reuse),
		SIPHON_TEST(test_get_tls_kind),
		SIPHON_TEST(test_get_not_closed),
		SIPHON_TEST(test_get_not_inbound),
		SIPHON_TEST(test_get_alloc_failures),
		SIPHON_TEST(test_probe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
