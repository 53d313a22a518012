/* UDP balancing over the workers ([server] udp_balance).
 *
 * Every worker has a socket in each UDP address's SO_REUSEPORT group. A
 * worker that sleeps between datagrams pays a wake-up for each of them, and
 * on a VM that costs more than the SIP work. So in `adaptive` mode only as
 * many workers take datagrams as the load needs: a classic BPF program
 * (tp_udp_steer) hashes each source to one of the first k sockets, and
 * worker 0 revises k every SD_BALANCE_PERIOD_MS from the CPU time all
 * workers used. `spread` hashes over every worker with the same program
 * (deterministic: tests and operators can tell where a source lands);
 * `kernel` leaves the choice to the kernel's hash. A source that moves to
 * another worker when k changes is fine: a request matching another
 * worker's transaction and a response to another worker's branch are handed
 * to that worker. Streams are not affected. */
#ifndef SIPHON_SIPHOND_BALANCE_H
#define SIPHON_SIPHOND_BALANCE_H

#include <stdbool.h>
#include <stdint.h>

struct loop;
struct tp_udp;

enum sd_udp_balance {
	SD_UDP_BALANCE_ADAPTIVE = 0,
	SD_UDP_BALANCE_SPREAD,
	SD_UDP_BALANCE_KERNEL,
};

#define SD_BALANCE_PERIOD_MS 250u
/* Grow when the workers used more than this share of the active ones... */
#define SD_BALANCE_HIGH 0.70
/* ...to as many as keep them at this share; shrink when one fewer would
 * still stay below SD_BALANCE_LOW, SD_BALANCE_CALM periods in a row. */
#define SD_BALANCE_TARGET 0.50
#define SD_BALANCE_LOW 0.45
#define SD_BALANCE_CALM 8u

/* "adaptive", "spread", "kernel". Returns 0 or -EINVAL. */
int sd_udp_balance_parse(const char *s, enum sd_udp_balance *out);
const char *sd_udp_balance_name(enum sd_udp_balance b);

/* The decision, pure: k of n workers take datagrams, and the workers used
 * `load` CPUs in the last period (0.5: half of one). *calm counts the
 * periods in a row that k - 1 would have done. Returns the new k (1..n). */
unsigned sd_balance_decide(unsigned k, unsigned n, double load, unsigned *calm);

struct sd_balance;

/* CPU time of worker i's thread so far, in ns (0 when not running). */
typedef uint64_t (*sd_balance_cpu_fn)(void *ctx, unsigned worker);

/* Steer groups[0..ngroups) (one socket of each UDP address's group) for n
 * workers in mode, on l (worker 0's loop: call this before its thread
 * runs, or from it; destroy from it, or before it ever ran). adaptive starts with one worker and a period timer. Steering a
 * kernel that refuses the program is logged once and left to its hash.
 * Returns 0 or -ENOMEM. */
int sd_balance_create(struct sd_balance **out, struct loop *l, enum sd_udp_balance mode,
		      unsigned n, struct tp_udp *const *groups, unsigned ngroups,
		      sd_balance_cpu_fn cpu, void *ctx);
void sd_balance_destroy(struct sd_balance *b);
/* How many workers take datagrams now (n unless adaptive; 0: the kernel's
 * hash, over every worker). */
unsigned sd_balance_active(const struct sd_balance *b);
/* The same for the process's balancing, from any thread (the HTTP
 * thread's /metrics); 0 before it starts or without one. */
unsigned sd_balance_active_now(void);

#endif
