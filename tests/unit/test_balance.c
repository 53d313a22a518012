/* The UDP balancing decision (siphond/balance.h): how many workers take
 * datagrams for a measured load, growing at once and shrinking only after a
 * calm spell. */
#include "harness.h"
#include "base/loop.h"
#include "siphond/balance.h"
#include "transport/addr.h"
#include "transport/udp.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void test_parse(void **state)
{
	enum sd_udp_balance b = SD_UDP_BALANCE_KERNEL;

	(void)state;
	assert_int_equal(sd_udp_balance_parse("adaptive", &b), 0);
	assert_int_equal(b, SD_UDP_BALANCE_ADAPTIVE);
	assert_int_equal(sd_udp_balance_parse("spread", &b), 0);
	assert_int_equal(b, SD_UDP_BALANCE_SPREAD);
	assert_int_equal(sd_udp_balance_parse("kernel", &b), 0);
	assert_int_equal(b, SD_UDP_BALANCE_KERNEL);
	assert_int_equal(sd_udp_balance_parse("Adaptive", &b), -EINVAL);
	assert_int_equal(sd_udp_balance_parse("", &b), -EINVAL);
	assert_string_equal(sd_udp_balance_name(SD_UDP_BALANCE_SPREAD), "spread");
	assert_string_equal(sd_udp_balance_name(SD_UDP_BALANCE_ADAPTIVE), "adaptive");
}

static void test_grow(void **state)
{
	unsigned calm = 3;

	(void)state;
	/* one worker busy below the high mark keeps one */
	assert_int_equal(sd_balance_decide(1, 4, 0.69, &calm), 1);
	assert_int_equal(calm, 0);
	/* above it: at once to where each is at about half */
	assert_int_equal(sd_balance_decide(1, 4, 0.75, &calm), 2);
	assert_int_equal(sd_balance_decide(1, 4, 1.40, &calm), 3);
	assert_int_equal(sd_balance_decide(2, 4, 1.60, &calm), 4);
	/* never past the workers there are */
	assert_int_equal(sd_balance_decide(1, 2, 3.0, &calm), 2);
	assert_int_equal(sd_balance_decide(4, 4, 3.9, &calm), 4);
	/* one worker: nothing to decide */
	assert_int_equal(sd_balance_decide(1, 1, 5.0, &calm), 1);
	/* a load no machine has (a clock glitch) or none at all */
	assert_int_equal(sd_balance_decide(1, 4, 1e300, &calm), 4);
	assert_int_equal(sd_balance_decide(2, 4, -1.0, &calm), 2);
	/* a k out of range is brought back in */
	assert_int_equal(sd_balance_decide(0, 4, 0.1, &calm), 1);
	assert_int_equal(sd_balance_decide(9, 4, 3.0, &calm), 4);
}

static void test_shrink_after_calm(void **state)
{
	unsigned calm = 0, k = 3;

	(void)state;
	/* 0.8 CPUs would fit in 2 (below 0.45 x 2): only after the calm spell */
	for (unsigned i = 1; i < SD_BALANCE_CALM; i++) {
		k = sd_balance_decide(k, 4, 0.8, &calm);
		assert_int_equal(k, 3);
		assert_int_equal(calm, i);
	}
	k = sd_balance_decide(k, 4, 0.8, &calm);
	assert_int_equal(k, 2);
	assert_int_equal(calm, 0);
	/* a busy period in between starts the count again */
	for (unsigned i = 1; i < SD_BALANCE_CALM; i++)
		k = sd_balance_decide(k, 4, 0.3, &calm);
	assert_int_equal(k, 2);
	k = sd_balance_decide(k, 4, 0.6, &calm); /* neither grow nor shrink */
	assert_int_equal(k, 2);
	assert_int_equal(calm, 0);
	for (unsigned i = 1; i < SD_BALANCE_CALM; i++)
		k = sd_balance_decide(k, 4, 0.3, &calm);
	assert_int_equal(k, 2);
	k = sd_balance_decide(k, 4, 0.3, &calm);
	assert_int_equal(k, 1);
	/* and never below one */
	for (unsigned i = 0; i < 3 * SD_BALANCE_CALM; i++)
		k = sd_balance_decide(k, 4, 0.0, &calm);
	assert_int_equal(k, 1);
}

/* The controller on a real loop with a real two-socket group: a fake CPU
 * clock says the workers use 1.5 CPUs, so within a period or two both
 * sockets take datagrams; then it says they idle, and after the calm spell
 * one socket takes everything again. */
static double fake_load; /* CPUs the fake clock runs at */
static uint64_t fake_ns, fake_last_wall;

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t fake_cpu(void *ctx, unsigned worker)
{
	uint64_t now = mono_ns();

	(void)ctx;
	if (worker != 0)
		return 0;
	if (fake_last_wall)
		fake_ns += (uint64_t)((double)(now - fake_last_wall) * fake_load);
	fake_last_wall = now;
	return fake_ns;
}

struct seen {
	struct loop *l;
	unsigned per_sock[2];
};

static struct seen seen;

static void on_dgram(struct tp_udp *u, const char *buf, size_t len, const struct tp_addr *src,
		     void *arg)
{
	(void)u;
	(void)buf;
	(void)len;
	(void)src;
	seen.per_sock[(uintptr_t)arg]++;
}

static void on_stop(void *arg)
{
	loop_stop(arg);
}

static void run_for(struct loop *l, uint64_t ms)
{
	struct loop_timer t = { 0 };

	assert_int_equal(loop_timer_add(l, &t, ms, on_stop, l), 0);
	loop_run(l);
	loop_timer_cancel(l, &t);
}

/* 32 sources, one datagram each: how many sockets got some. */
static unsigned spread_of(struct loop *l, const struct tp_addr *to)
{
	memset(seen.per_sock, 0, sizeof(seen.per_sock));
	for (int i = 0; i < 32; i++) {
		int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

		assert_true(fd >= 0);
		assert_int_equal(sendto(fd, "x", 1, 0, (const struct sockaddr *)&to->ss, to->len), 1);
		close(fd);
	}
	run_for(l, 100);
	assert_int_equal(seen.per_sock[0] + seen.per_sock[1], 32);
	return (seen.per_sock[0] > 0) + (seen.per_sock[1] > 0);
}

static void test_controller(void **state)
{
	struct tp_udp *socks[2];
	struct sd_balance *b;
	struct tp_addr any;
	uint64_t t0;

	(void)state;
	assert_int_equal(loop_create(&seen.l), 0);
	assert_int_equal(tp_addr_from_numeric(&any, str_cstr("127.0.0.1"), 0), 0);
	assert_int_equal(tp_udp_create(&socks[0], seen.l, &any, on_dgram, (void *)(uintptr_t)0), 0);
	assert_int_equal(tp_udp_create(&socks[1], seen.l, tp_udp_local(socks[0]), on_dgram,
				       (void *)(uintptr_t)1),
			 0);
	fake_load = 1.5;
	fake_ns = fake_last_wall = 0;
	assert_int_equal(sd_balance_create(&b, seen.l, SD_UDP_BALANCE_ADAPTIVE, 2, socks, 1,
					   fake_cpu, NULL),
			 0);
	/* adaptive starts with one */
	assert_int_equal(sd_balance_active(b), 1);
	assert_int_equal(sd_balance_active_now(), 1);
	assert_int_equal(spread_of(seen.l, tp_udp_local(socks[0])), 1);
	/* busy: two at the next period (bounded wait: a slow sanitizer build
	 * may fire the timer late), and the program follows */
	t0 = mono_ns();
	while (sd_balance_active(b) == 1 && mono_ns() - t0 < 10000000000ull)
		run_for(seen.l, 50);
	assert_int_equal(sd_balance_active(b), 2);
	assert_int_equal(sd_balance_active_now(), 2);
	assert_int_equal(spread_of(seen.l, tp_udp_local(socks[0])), 2);
	/* idle: back to one after the calm spell, never before it */
	fake_load = 0.0;
	t0 = mono_ns();
	while (sd_balance_active(b) == 2 && mono_ns() - t0 < 30000000000ull)
		run_for(seen.l, 50);
	assert_int_equal(sd_balance_active(b), 1);
	assert_true(mono_ns() - t0 >= (uint64_t)(SD_BALANCE_CALM - 1) * SD_BALANCE_PERIOD_MS * 1000000ull);
	assert_int_equal(spread_of(seen.l, tp_udp_local(socks[0])), 1);
	sd_balance_destroy(b);
	assert_int_equal(sd_balance_active_now(), 0);
	tp_udp_destroy(socks[1]);
	tp_udp_destroy(socks[0]);
	loop_destroy(seen.l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		SIPHON_TEST(test_parse),
		SIPHON_TEST(test_grow),
		SIPHON_TEST(test_shrink_after_calm),
		SIPHON_TEST(test_controller),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
