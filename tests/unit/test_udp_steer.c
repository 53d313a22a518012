/* tp_udp_steer: the datagrams of a SO_REUSEPORT group go to its first
 * `active` sockets, each source always to the same one. Real sockets on
 * loopback; the loop delivers what each socket received. */
#include "harness.h"
#include "base/loop.h"
#include "transport/addr.h"
#include "transport/udp.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define NSRC 24
#define NSOCK 3

struct rx {
	struct loop *l;
	uint16_t port_of_src[NSRC]; /* its client socket's port */
	unsigned per_sock[NSOCK];
	int sock_of_src[NSRC]; /* which socket the source's datagrams reached */
	bool moved;            /* a source reached two sockets */
	unsigned got, want;
};

static struct rx rx;
static struct tp_udp *socks[NSOCK];

static void on_dgram(struct tp_udp *u, const char *buf, size_t len, const struct tp_addr *src,
		     void *arg)
{
	unsigned s = (unsigned)(uintptr_t)arg;
	unsigned k;

	(void)u;
	(void)src;
	assert_true(len == 1);
	k = (unsigned char)buf[0];
	assert_true(k < NSRC && s < NSOCK);
	rx.per_sock[s]++;
	if (rx.sock_of_src[k] >= 0 && rx.sock_of_src[k] != (int)s)
		rx.moved = true;
	rx.sock_of_src[k] = (int)s;
	if (++rx.got == rx.want)
		loop_stop(rx.l);
}

static void on_timeout(void *arg)
{
	loop_stop(arg);
}

/* Each of NSRC client sockets (its own source port) sends `rounds`
 * datagrams; returns how many sockets of the group received any. */
static unsigned send_round(const struct tp_addr *to, unsigned rounds)
{
	int fds[NSRC];
	struct loop_timer t = { 0 };
	unsigned used = 0;

	memset(rx.per_sock, 0, sizeof(rx.per_sock));
	for (unsigned i = 0; i < NSRC; i++)
		rx.sock_of_src[i] = -1;
	rx.moved = false;
	rx.got = 0;
	rx.want = NSRC * rounds;
	for (unsigned i = 0; i < NSRC; i++) {
		struct tp_addr a;

		/* a client on the group's own loopback address, port picked */
		a = *to;
		tp_addr_set_port(&a, 0);
		fds[i] = socket(to->ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		assert_true(fds[i] >= 0);
		assert_int_equal(bind(fds[i], (struct sockaddr *)&a.ss, a.len), 0);
		a.len = sizeof(a.ss);
		assert_int_equal(getsockname(fds[i], (struct sockaddr *)&a.ss, &a.len), 0);
		rx.port_of_src[i] = tp_addr_port(&a);
	}
	for (unsigned r = 0; r < rounds; r++)
		for (unsigned i = 0; i < NSRC; i++) {
			char b = (char)i;

			assert_int_equal(sendto(fds[i], &b, 1, 0, (const struct sockaddr *)&to->ss,
						to->len),
					 1);
		}
	/* bounded: every datagram is on loopback already */
	assert_int_equal(loop_timer_add(rx.l, &t, 2000, on_timeout, rx.l), 0);
	loop_run(rx.l);
	loop_timer_cancel(rx.l, &t);
	for (unsigned i = 0; i < NSRC; i++)
		close(fds[i]);
	assert_int_equal(rx.got, rx.want);
	assert_false(rx.moved);
	for (unsigned s = 0; s < NSOCK; s++)
		used += rx.per_sock[s] > 0;
	return used;
}

/* A loop and a group of NSOCK sockets on host, port picked, in join order. */
static void group_create(const char *host)
{
	struct tp_addr any;

	assert_int_equal(loop_create(&rx.l), 0);
	assert_int_equal(tp_addr_from_numeric(&any, str_cstr(host), 0), 0);
	assert_int_equal(tp_udp_create(&socks[0], rx.l, &any, on_dgram, (void *)(uintptr_t)0), 0);
	for (uintptr_t s = 1; s < NSOCK; s++)
		assert_int_equal(tp_udp_create(&socks[s], rx.l, tp_udp_local(socks[0]), on_dgram,
					       (void *)s),
				 0);
}

static void group_destroy(void)
{
	for (unsigned s = 0; s < NSOCK; s++)
		tp_udp_destroy(socks[s]);
	loop_destroy(rx.l);
}

static void test_steer(void **state)
{
	(void)state;
	group_create("127.0.0.1");

	/* one active socket: every source on the group's first */
	assert_int_equal(tp_udp_steer(socks[0], 1), 0);
	assert_int_equal(send_round(tp_udp_local(socks[0]), 3), 1);
	assert_int_equal(rx.per_sock[0], NSRC * 3);

	/* two: both of the first two get sources, the third none; the program
	 * may be attached through any socket of the group */
	assert_int_equal(tp_udp_steer(socks[2], 2), 0);
	assert_int_equal(send_round(tp_udp_local(socks[0]), 3), 2);
	assert_int_equal(rx.per_sock[2], 0);

	/* all three, each source where the documented hash puts it (balance.h:
	 * tests and operators may compute it), then the kernel's own hash */
	assert_int_equal(tp_udp_steer(socks[1], 3), 0);
	assert_int_equal(send_round(tp_udp_local(socks[0]), 2), 3);
	for (unsigned i = 0; i < NSRC; i++)
		assert_int_equal(rx.sock_of_src[i], (int)tp_udp_steer_index(INADDR_LOOPBACK,
									     rx.port_of_src[i], 3));
	assert_int_equal(tp_udp_steer(socks[0], 0), 0);
	assert_int_equal(tp_udp_steer(socks[0], 0), 0); /* nothing attached: fine */
	send_round(tp_udp_local(socks[0]), 1);

	group_destroy();
}

/* The IPv6 program: ::1 sources land where tp_udp_steer_index6() says. */
static void test_steer6(void **state)
{
	static const uint8_t lo6[16] = { [15] = 1 };
	(void)state;
	group_create("::1");
	assert_int_equal(tp_udp_steer(socks[0], 1), 0);
	assert_int_equal(send_round(tp_udp_local(socks[0]), 2), 1);
	assert_int_equal(tp_udp_steer(socks[0], 3), 0);
	assert_int_equal(send_round(tp_udp_local(socks[0]), 2), 3);
	for (unsigned i = 0; i < NSRC; i++)
		assert_int_equal(rx.sock_of_src[i],
				 (int)tp_udp_steer_index6(lo6, rx.port_of_src[i], 3));
	group_destroy();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		SIPHON_TEST(test_steer),
		SIPHON_TEST(test_steer6),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
