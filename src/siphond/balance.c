/* UDP balancing over the workers: the decision and worker 0's period timer
 * (balance.h). */
#include "siphond/balance.h"

#include "base/log.h"
#include "base/loop.h"
#include "base/mem.h"
#include "transport/udp.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#define MOD "balance"

/* what sd_balance_active() says, for other threads: one balancing per
 * process (worker 0's) */
static _Atomic unsigned active_now;

struct sd_balance {
	struct loop *l;
	enum sd_udp_balance mode;
	unsigned n, k, calm;
	bool off;    /* the kernel refused the program: its hash from now on */
	bool warned; /* a failed revision was logged (until one succeeds) */
	sd_balance_cpu_fn cpu;
	void *ctx;
	uint64_t last_cpu, last_wall;
	struct loop_timer timer;
	unsigned ngroups;
	struct tp_udp *groups[]; /* one socket of each group; not owned */
};

int sd_udp_balance_parse(const char *s, enum sd_udp_balance *out)
{
	static const char *const names[] = { "adaptive", "spread", "kernel" };

	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0) {
			*out = (enum sd_udp_balance)i;
			return 0;
		}
	return -EINVAL;
}

const char *sd_udp_balance_name(enum sd_udp_balance b)
{
	return b == SD_UDP_BALANCE_SPREAD ? "spread" : b == SD_UDP_BALANCE_KERNEL ? "kernel"
										   : "adaptive";
}

unsigned sd_balance_decide(unsigned k, unsigned n, double load, unsigned *calm)
{
	if (n <= 1)
		return 1;
	if (!(load >= 0.0))
		load = 0.0; /* NaN or negative: a clock that failed */
	if (load > (double)n)
		load = (double)n; /* more than every CPU: a glitch, and the cast below stays defined */
	if (k < 1 || k > n)
		k = k < 1 ? 1 : n;
	if (load > SD_BALANCE_HIGH * k && k < n) {
		/* busy: grow at once, to where each is at about TARGET */
		unsigned want = (unsigned)(load / SD_BALANCE_TARGET);

		if (want * SD_BALANCE_TARGET < load)
			want++;

		*calm = 0;
		if (want <= k)
			want = k + 1;
		return want > n ? n : want;
	}
	if (k > 1 && load < SD_BALANCE_LOW * (k - 1)) {
		/* one fewer would do: only after it stayed so for a while, so
		 * that sources do not move back and forth */
		if (++*calm >= SD_BALANCE_CALM) {
			*calm = 0;
			return k - 1;
		}
		return k;
	}
	*calm = 0;
	return k;
}

static uint64_t cpu_total(const struct sd_balance *b)
{
	uint64_t t = 0;

	for (unsigned i = 0; i < b->n; i++)
		t += b->cpu(b->ctx, i);
	return t;
}

static void publish(const struct sd_balance *b)
{
	atomic_store_explicit(&active_now, sd_balance_active(b), memory_order_relaxed);
}

/* Steer every group to k sockets (0: the kernel's hash). Returns 0 or the
 * first error; the groups steered before it keep the new program. */
static int steer(struct sd_balance *b, unsigned k)
{
	for (unsigned i = 0; i < b->ngroups; i++) {
		int err = tp_udp_steer(b->groups[i], k);

		if (err < 0)
			return err;
	}
	return 0;
}

/* The kernel refuses the program: its own hash from now on, on every
 * group (a detach the kernel does not know, before Linux 5.3, leaves the
 * program of the last k; spread over all is the next best). */
static void give_up(struct sd_balance *b, int err)
{
	log_warn(MOD, "the kernel refused the UDP steering program (%s): its own hash spreads "
		      "datagrams over all %u workers",
		 strerror(-err), b->n);
	b->off = true;
	if (steer(b, 0) < 0 && steer(b, b->n) < 0)
		log_warn(MOD, "could not take the UDP steering program back: some sources stay on "
			      "%u of %u workers",
			 b->k, b->n);
}

static void on_period(void *arg)
{
	struct sd_balance *b = arg;
	uint64_t cpu = cpu_total(b), wall = loop_now(b->l) * 1000000ull; /* ms, ample over 250 */
	/* a worker that stopped reads 0: no load rather than a wrapped one */
	double load = wall > b->last_wall && cpu >= b->last_cpu
			      ? (double)(cpu - b->last_cpu) / (double)(wall - b->last_wall)
			      : 0.0;
	unsigned k = sd_balance_decide(b->k, b->n, load, &b->calm);
	int err;

	b->last_cpu = cpu;
	b->last_wall = wall;
	if (k != b->k) {
		/* the program worked at start: a failure now (memory) is retried
		 * next period, as k still differs */
		err = steer(b, k);
		if (err < 0) {
			if (!b->warned)
				log_warn(MOD, "UDP steering to %u of %u workers failed (%s): retrying",
					 k, b->n, strerror(-err));
			b->warned = true;
		} else {
			log_info(MOD, "UDP datagrams now go to %u of %u workers (they used %.2f CPUs)",
				 k, b->n, load);
			b->k = k;
			b->warned = false;
			publish(b);
		}
	}
	if (loop_timer_add(b->l, &b->timer, SD_BALANCE_PERIOD_MS, on_period, b) < 0) {
		/* no timer, no revision: every worker takes datagrams */
		log_warn(MOD, "no memory for the balancing timer: UDP goes to all %u workers", b->n);
		if (steer(b, b->n) == 0)
			b->k = b->n;
		publish(b);
	}
}

int sd_balance_create(struct sd_balance **out, struct loop *l, enum sd_udp_balance mode,
		      unsigned n, struct tp_udp *const *groups, unsigned ngroups,
		      sd_balance_cpu_fn cpu, void *ctx)
{
	struct sd_balance *b = mem_zalloc(sizeof(*b) + ngroups * sizeof(*groups));

	if (!b)
		return -ENOMEM;
	b->l = l;
	b->mode = mode;
	b->n = n ? n : 1;
	b->cpu = cpu;
	b->ctx = ctx;
	b->ngroups = ngroups;
	memcpy(b->groups, groups, ngroups * sizeof(*groups));
	if (mode == SD_UDP_BALANCE_KERNEL || b->n == 1) {
		b->k = 0;
	} else {
		int err;

		b->k = mode == SD_UDP_BALANCE_SPREAD ? b->n : 1;
		err = steer(b, b->k);
		if (err < 0) {
			give_up(b, err);
		} else if (mode == SD_UDP_BALANCE_ADAPTIVE) {
			b->last_cpu = cpu_total(b);
			b->last_wall = loop_now(l) * 1000000ull;
			if (loop_timer_add(l, &b->timer, SD_BALANCE_PERIOD_MS, on_period, b) < 0) {
				steer(b, 0);
				mem_free(b);
				return -ENOMEM;
			}
		}
	}
	if (b->off)
		b->k = 0;
	publish(b);
	if (b->n > 1)
		log_info(MOD, "UDP balancing %s: %s", sd_udp_balance_name(mode),
			 b->k == 0 ? "the kernel's hash over every worker"
			 : b->k == b->n ? "a hash of the source over every worker"
					: "1 worker takes datagrams until the load needs more");
	*out = b;
	return 0;
}

void sd_balance_destroy(struct sd_balance *b)
{
	if (!b)
		return;
	loop_timer_cancel(b->l, &b->timer);
	atomic_store_explicit(&active_now, 0, memory_order_relaxed);
	mem_free(b);
}

unsigned sd_balance_active(const struct sd_balance *b)
{
	return b && !b->off ? b->k : 0;
}

unsigned sd_balance_active_now(void)
{
	return atomic_load_explicit(&active_now, memory_order_relaxed);
}

