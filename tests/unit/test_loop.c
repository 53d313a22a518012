/* Event loop: timers in order, cancel and re-arm, fd readiness, deleting an
 * fd from another fd's callback, signals through signalfd, allocation
 * failures. */
#include "harness.h"

#include "base/loop.h"
#include "base/mem.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

struct order {
	struct loop *l;
	int seen[8];
	int n;
	int stop_after;
};

struct tick {
	struct order *o;
	int id;
};

static void on_tick(void *arg)
{
	struct tick *t = arg;

	t->o->seen[t->o->n++] = t->id;
	if (t->o->n == t->o->stop_after)
		loop_stop(t->o->l);
}

static void test_timer_order(void **state)
{
	struct loop *l;
	struct order o = { 0 };
	struct loop_timer tm[5] = { 0 };
	struct tick tk[5];
	static const unsigned delay[5] = { 30, 10, 20, 0, 10 };

	(void)state;
	assert_int_equal(loop_create(&l), 0);
	o.l = l;
	o.stop_after = 4;
	for (int i = 0; i < 5; i++) {
		tk[i] = (struct tick){ &o, i };
		assert_int_equal(loop_timer_add(l, &tm[i], delay[i], on_tick, &tk[i]), 0);
		assert_true(loop_timer_pending(&tm[i]));
	}
	loop_timer_cancel(l, &tm[1]);
	assert_false(loop_timer_pending(&tm[1]));
	loop_timer_cancel(l, &tm[1]); /* twice is harmless */
	/* re-arming moves a pending timer rather than adding a second one */
	assert_int_equal(loop_timer_add(l, &tm[0], 5, on_tick, &tk[0]), 0);
	assert_int_equal(loop_run(l), 0);
	assert_int_equal(o.n, 4);
	assert_int_equal(o.seen[0], 3);
	assert_int_equal(o.seen[1], 0);
	assert_int_equal(o.seen[2], 4);
	assert_int_equal(o.seen[3], 2);
	for (int i = 0; i < 5; i++)
		assert_false(loop_timer_pending(&tm[i]));
	loop_destroy(l);
}

static void test_timer_elapsed(void **state)
{
	struct loop *l;
	struct order o = { 0 };
	struct loop_timer tm = { 0 };
	struct tick tk = { &o, 7 };
	uint64_t t0;

	(void)state;
	assert_int_equal(loop_create(&l), 0);
	o.l = l;
	o.stop_after = 1;
	assert_int_equal(loop_timer_add(l, &tm, 50, on_tick, &tk), 0);
	t0 = loop_now(l);
	assert_int_equal(loop_run(l), 0);
	assert_true(loop_now(l) - t0 >= 50);
	assert_true(loop_now(l) - t0 < 1000);
	loop_destroy(l);
}

static void on_noop(void *arg)
{
	(void)arg;
}

/* Many timers in pseudo-random order fire sorted (heap property). */
struct sorted {
	struct loop *l;
	struct loop_timer t[200];
	uint64_t last_due;
	int fired;
	bool ok;
};

static struct sorted *sorted_ctx;

static void on_sorted_tick(void *arg)
{
	struct loop_timer *t = arg;

	if (t->due < sorted_ctx->last_due)
		sorted_ctx->ok = false;
	sorted_ctx->last_due = t->due;
	if (++sorted_ctx->fired == 150)
		loop_stop(sorted_ctx->l);
}

static void test_timer_heap(void **state)
{
	static struct sorted s;
	unsigned x = 12345;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.ok = true;
	sorted_ctx = &s;
	assert_int_equal(loop_create(&s.l), 0);
	for (int i = 0; i < 200; i++) {
		x = x * 1103515245u + 12345u;
		assert_int_equal(loop_timer_add(s.l, &s.t[i], (x >> 16) % 40, on_sorted_tick, &s.t[i]),
				 0);
	}
	for (int i = 0; i < 200; i += 4) /* cancel from the middle of the heap */
		loop_timer_cancel(s.l, &s.t[i]);
	assert_int_equal(loop_run(s.l), 0);
	assert_true(s.ok);
	assert_int_equal(s.fired, 150);
	loop_destroy(s.l);
}

struct fds {
	struct loop *l;
	int a[2], b[2];
	int a_calls, b_calls;
	unsigned a_events;
};

static void on_a(int fd, unsigned events, void *arg)
{
	struct fds *f = arg;
	char c;

	f->a_calls++;
	f->a_events = events;
	assert_int_equal(read(fd, &c, 1), 1);
	/* b is ready in this same round: deleting it must suppress its event */
	loop_fd_del(f->l, f->b[0]);
	loop_stop(f->l);
}

static void on_b(int fd, unsigned events, void *arg)
{
	struct fds *f = arg;
	char c;

	(void)events;
	f->b_calls++;
	assert_int_equal(read(fd, &c, 1), 1);
	loop_fd_del(f->l, f->a[0]);
	loop_stop(f->l);
}

static void test_fd_events(void **state)
{
	struct fds f = { 0 };

	(void)state;
	assert_int_equal(loop_create(&f.l), 0);
	assert_int_equal(pipe(f.a), 0);
	assert_int_equal(pipe(f.b), 0);
	assert_int_equal(loop_fd_add(f.l, f.a[0], LOOP_READ, on_a, &f), 0);
	assert_int_equal(loop_fd_add(f.l, f.b[0], LOOP_READ, on_b, &f), 0);
	assert_int_equal(loop_fd_add(f.l, f.a[0], LOOP_READ, on_a, &f), -EEXIST);
	assert_int_equal(loop_fd_add(f.l, -1, LOOP_READ, on_a, &f), -EINVAL);
	assert_int_equal(write(f.a[1], "x", 1), 1);
	assert_int_equal(write(f.b[1], "y", 1), 1);
	assert_int_equal(loop_run(f.l), 0);
	/* exactly one of them ran: whichever went first removed the other */
	assert_int_equal(f.a_calls + f.b_calls, 1);
	if (f.a_calls)
		assert_true(f.a_events & LOOP_READ);
	assert_int_equal(loop_fd_mod(f.l, 1000, LOOP_READ), -ENOENT);
	assert_int_equal(loop_fd_del(f.l, 1000), -ENOENT);
	loop_fd_del(f.l, f.a[0]);
	loop_fd_del(f.l, f.b[0]);
	close(f.a[0]);
	close(f.a[1]);
	close(f.b[0]);
	close(f.b[1]);
	loop_destroy(f.l);
}

struct wr {
	struct loop *l;
	int calls;
	unsigned events;
};

static void on_w(int fd, unsigned events, void *arg)
{
	struct wr *w = arg;

	(void)fd;
	w->calls++;
	w->events = events;
	loop_stop(w->l);
}

static void test_fd_write_and_hup(void **state)
{
	struct wr w = { 0 };
	int p[2];

	(void)state;
	assert_int_equal(loop_create(&w.l), 0);
	assert_int_equal(pipe(p), 0);
	/* no interest at first, then write interest on the write end */
	assert_int_equal(loop_fd_add(w.l, p[1], 0, on_w, &w), 0);
	assert_int_equal(loop_fd_mod(w.l, p[1], LOOP_WRITE), 0);
	assert_int_equal(loop_run(w.l), 0);
	assert_int_equal(w.calls, 1);
	assert_true(w.events & LOOP_WRITE);
	assert_int_equal(loop_fd_del(w.l, p[1]), 0);
	/* the read end of a pipe whose writer is gone reports hang-up */
	close(p[1]);
	assert_int_equal(loop_fd_add(w.l, p[0], LOOP_READ, on_w, &w), 0);
	assert_int_equal(loop_run(w.l), 0);
	assert_int_equal(w.calls, 2);
	assert_true(w.events & (LOOP_READ | LOOP_ERR));
	loop_fd_del(w.l, p[0]);
	close(p[0]);
	loop_destroy(w.l);
}

struct sig {
	struct loop *l;
	int signo;
	int calls;
};

static void on_sig(int signo, void *arg)
{
	struct sig *s = arg;

	s->signo = signo;
	s->calls++;
	loop_stop(s->l);
}

static void test_signal(void **state)
{
	struct sig s = { 0 };
	sigset_t cur;

	(void)state;
	assert_int_equal(loop_create(&s.l), 0);
	assert_int_equal(loop_signal_add(s.l, SIGUSR1, on_sig, &s), 0);
	assert_int_equal(loop_signal_add(s.l, SIGUSR2, on_sig, &s), 0);
	assert_int_equal(loop_signal_add(s.l, 0, on_sig, &s), -EINVAL);
	/* delivered as an event, not by an asynchronous handler */
	raise(SIGUSR2);
	assert_int_equal(s.calls, 0);
	assert_int_equal(loop_run(s.l), 0);
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.signo, SIGUSR2);
	loop_destroy(s.l);
	/* the mask is restored */
	sigprocmask(SIG_BLOCK, NULL, &cur);
	assert_false(sigismember(&cur, SIGUSR1));
	assert_false(sigismember(&cur, SIGUSR2));
}

/* Create, register an fd (grows the fd table), arm timers (grows the heap),
 * tear down. */
static int loop_once(void *ctx)
{
	struct loop *l;
	struct loop_timer t[20];
	int p[2], err;

	(void)ctx;
	memset(t, 0, sizeof(t));
	err = loop_create(&l);
	if (err < 0)
		return err;
	if (pipe(p) < 0) {
		loop_destroy(l);
		return -errno;
	}
	err = loop_fd_add(l, p[0], LOOP_READ, on_w, NULL);
	for (int i = 0; i < 20 && err == 0; i++)
		err = loop_timer_add(l, &t[i], 1000 + (unsigned)i, on_noop, NULL);
	for (int i = 0; i < 20; i++)
		loop_timer_cancel(l, &t[i]);
	loop_fd_del(l, p[0]);
	close(p[0]);
	close(p[1]);
	loop_destroy(l);
	return err;
}

/* Wheel timers are driven by loop_run: the loop sleeps until the wheel's
 * next expiry (no fd, no heap timer) and fires them in order. */
struct wheel_ctx {
	struct loop *l;
	struct wheel_timer t[3];
	uint64_t at[3];
	uint64_t start;
	int n;
};

static struct wheel_ctx *wheel_ctx_cur;

static void on_wheel(void *arg)
{
	struct wheel_timer *t = arg;
	struct wheel_ctx *c = wheel_ctx_cur;

	c->at[t - c->t] = loop_now(c->l) - c->start;
	if (++c->n == 2)
		loop_stop(c->l);
}

static void test_wheel_driven(void **state)
{
	struct wheel_ctx c = { 0 };

	(void)state;
	assert_int_equal(loop_create(&c.l), 0);
	wheel_ctx_cur = &c;
	c.start = loop_now(c.l);
	wheel_start(loop_wheel(c.l), &c.t[0], 40, on_wheel, &c.t[0]);
	wheel_start(loop_wheel(c.l), &c.t[1], 15, on_wheel, &c.t[1]);
	wheel_start(loop_wheel(c.l), &c.t[2], 500, on_wheel, &c.t[2]);
	wheel_stop(loop_wheel(c.l), &c.t[2]);
	assert_int_equal(loop_run(c.l), 0);
	assert_int_equal(c.n, 2);
	assert_true(c.at[1] >= 15 && c.at[1] < 40);
	assert_true(c.at[0] >= 40 && c.at[0] < 400);
	assert_int_equal(c.at[2], 0);
	loop_destroy(c.l);
}

static void test_alloc_fail(void **state)
{
	(void)state;
	assert_true(harness_alloc_fail_loop(loop_once, NULL) >= 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		SIPHON_TEST(test_timer_order),
		SIPHON_TEST(test_timer_elapsed),
		SIPHON_TEST(test_timer_heap),
		SIPHON_TEST(test_fd_events),
		SIPHON_TEST(test_fd_write_and_hup),
		SIPHON_TEST(test_signal),
		SIPHON_TEST(test_wheel_driven),
		SIPHON_TEST(test_alloc_fail),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
