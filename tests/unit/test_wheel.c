/* Timing wheel: every timer fires exactly at its expiry (checked against a
 * brute-force model with random delays across all levels), in order, and
 * starting or stopping timers from callbacks works. */
#include "harness.h"

#include "base/wheel.h"

#include <stdlib.h>
#include <string.h>

#define N 2000

static struct wheel w;
static struct wheel_timer timers[N];
static uint64_t want[N], got[N];
static uint64_t last_fire;
static int order_errors;

static void on_fire(void *arg)
{
	size_t i = (size_t)(uintptr_t)arg;

	got[i] = w.now;
	if (w.now < last_fire)
		order_errors++;
	last_fire = w.now;
}

static void test_random_against_model(void **state)
{
	uint64_t start = 1000003, end;

	(void)state;
	srand(42);
	memset(timers, 0, sizeof(timers));
	wheel_init(&w, start);
	last_fire = 0;
	order_errors = 0;
	for (size_t i = 0; i < N; i++) {
		/* delays spread over every level: ms to hours */
		uint64_t d;
		switch (i % 5) {
		case 0: d = (uint64_t)rand() % 64; break;
		case 1: d = (uint64_t)rand() % 4096; break;
		case 2: d = (uint64_t)rand() % 262144; break;
		case 3: d = (uint64_t)rand() % 16777216; break;
		default: d = 32000 + (uint64_t)(rand() % 7) * 500; break; /* 64*T1-ish clusters */
		}
		want[i] = start + d;
		got[i] = 0;
		wheel_start(&w, &timers[i], d, on_fire, (void *)(uintptr_t)i);
	}
	assert_int_equal(w.count, N);
	/* advance in uneven steps, as an event loop would */
	end = start + 16777216;
	for (uint64_t t = start; t < end; t += 1 + (uint64_t)rand() % 20000)
		wheel_advance(&w, t);
	wheel_advance(&w, end);
	for (size_t i = 0; i < N; i++)
		if (got[i] != want[i]) /* the clock jumps from event to event: never late */
			fail_msg("timer %zu fired at %llu, due %llu", i, (unsigned long long)got[i],
				 (unsigned long long)want[i]);
	assert_int_equal(order_errors, 0);
	assert_int_equal(w.count, 0);
}

static void test_exact_with_1ms_steps(void **state)
{
	(void)state;
	memset(timers, 0, sizeof(timers));
	wheel_init(&w, 5);
	for (size_t i = 0; i < 300; i++) {
		want[i] = 5 + i * 37 % 9000;
		got[i] = 0;
		wheel_start(&w, &timers[i], i * 37 % 9000, on_fire, (void *)(uintptr_t)i);
	}
	last_fire = 0;
	for (uint64_t t = 5; t <= 9100; t++)
		wheel_advance(&w, t);
	for (size_t i = 0; i < 300; i++)
		assert_int_equal(got[i], want[i]); /* never late when driven every ms */
}

static void test_stop_and_restart(void **state)
{
	(void)state;
	memset(timers, 0, sizeof(timers));
	wheel_init(&w, 0);
	got[0] = got[1] = 0;
	wheel_start(&w, &timers[0], 100, on_fire, (void *)(uintptr_t)0);
	wheel_start(&w, &timers[1], 5000, on_fire, (void *)(uintptr_t)1);
	assert_true(wheel_pending(&timers[0]));
	wheel_stop(&w, &timers[0]);
	assert_false(wheel_pending(&timers[0]));
	wheel_stop(&w, &timers[0]); /* idempotent */
	/* re-arming moves the expiry */
	wheel_start(&w, &timers[1], 50, on_fire, (void *)(uintptr_t)1);
	assert_int_equal(w.count, 1);
	assert_int_equal(wheel_advance(&w, 49), 0);
	assert_int_equal(wheel_advance(&w, 10000), 1);
	assert_int_equal(got[1], 50);
	assert_int_equal(got[0], 0);
}

/* Retransmission-style callbacks: each fire re-arms with a doubled interval
 * (RFC 3261 §17.1.1.2 Timer A), and a stop from another timer's callback. */
static uint64_t fires[16];
static int nfires;

static void on_retransmit(void *arg)
{
	uint64_t *interval = arg;

	fires[nfires++] = w.now;
	*interval *= 2;
	if (nfires < 7)
		wheel_start(&w, &timers[0], *interval, on_retransmit, interval);
}

static void on_kill(void *arg)
{
	(void)arg;
	wheel_stop(&w, &timers[0]);
	wheel_stop(&w, &timers[1]); /* itself: already idle, must be harmless */
}

static void test_callbacks_rearm_and_stop(void **state)
{
	static const uint64_t schedule[] = { 500, 1500, 3500, 7500, 15500, 31500 };
	uint64_t interval = 500;

	(void)state;
	memset(timers, 0, sizeof(timers));
	nfires = 0;
	wheel_init(&w, 0);
	wheel_start(&w, &timers[0], interval, on_retransmit, &interval);
	wheel_start(&w, &timers[1], 32000, on_kill, NULL); /* Timer B */
	for (uint64_t t = 0; t <= 70000; t += 250)
		wheel_advance(&w, t);
	assert_int_equal(nfires, 6);
	for (int i = 0; i < 6; i++)
		assert_int_equal(fires[i], schedule[i]);
	assert_int_equal(w.count, 0);
}

static void test_beyond_span_and_next(void **state)
{
	uint64_t far = 1ull << 40;

	(void)state;
	memset(timers, 0, sizeof(timers));
	wheel_init(&w, 0);
	assert_int_equal(wheel_next(&w, 1000), 1000);
	wheel_start(&w, &timers[0], far, on_fire, (void *)(uintptr_t)0);
	wheel_start(&w, &timers[1], 10, on_fire, (void *)(uintptr_t)1);
	got[0] = got[1] = 0;
	assert_int_equal(wheel_next(&w, 1000), 10);
	wheel_advance(&w, 10);
	assert_int_equal(got[1], 10);
	assert_int_equal(wheel_next(&w, 1000), 1000); /* only the far timer is left */
	wheel_advance(&w, far - 1);
	assert_int_equal(got[0], 0);
	wheel_advance(&w, far);
	assert_int_equal(got[0], far);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		SIPHON_TEST(test_random_against_model), SIPHON_TEST(test_exact_with_1ms_steps),
		SIPHON_TEST(test_stop_and_restart),	 SIPHON_TEST(test_callbacks_rearm_and_stop),
		SIPHON_TEST(test_beyond_span_and_next),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
