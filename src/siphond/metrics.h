/* siphond's counters and latency histograms (docs/http.md).
 *
 * One block per worker, written only by that worker's thread (so an
 * increment is a relaxed load and store: no lock, no locked instruction,
 * no cache line shared with another writer) and read by the HTTP thread
 * with relaxed loads, which sums the blocks (sd_mx_snapshot). A reader may
 * see a block a few increments behind: fine for monitoring. Cores without a
 * worker index (tests, fuzzers) write block 0. */
#ifndef SIPHON_SIPHOND_METRICS_H
#define SIPHON_SIPHOND_METRICS_H

#include "msg/method.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#define SD_MX_WORKERS 64       /* = SD_WORKERS_MAX */
#define SD_MX_METHODS 15       /* enum sip_method */
#define SD_MX_CODE_MIN 100
#define SD_MX_CODES 600        /* 100..699 */
#define SD_MX_BUCKETS 14       /* finite histogram bounds, +Inf apart */

enum sd_mx_ctr {
	SD_MX_PARSE_ERRORS,    /* malformed messages (400, 505, ... or dropped) */
	SD_MX_AUTH_CHALLENGES, /* 401/407 sent */
	SD_MX_AUTH_FAILURES,   /* wrong credentials, unknown user, bad header */
	SD_MX_RATE_LIMITED,    /* requests refused by the per-source limit */
	SD_MX_PXY_CREATED,     /* proxy response contexts created */
	SD_MX_PXY_FREED,       /* ... and freed (active = created - freed) */
	SD_MX_CALLS,           /* initial INVITEs proxied */
	SD_MX_RESP_RECEIVED,   /* responses received (from downstream) */
	SD_MX_NCTR
};

enum sd_mx_hist {
	SD_MX_H_REGISTER,      /* REGISTER received -> its final response (durable) */
	SD_MX_H_INVITE_FIRST,  /* proxied INVITE -> first response passed upstream */
	SD_MX_H_INVITE_FINAL,  /* proxied INVITE -> final response passed upstream */
	SD_MX_NHIST
};

struct sd_mx_hdata {
	_Atomic uint64_t bucket[SD_MX_BUCKETS + 1]; /* not cumulative; last: +Inf */
	_Atomic uint64_t count;
	_Atomic uint64_t sum_us;
};

struct sd_mx_block {
	_Atomic uint64_t req[SD_MX_METHODS];  /* requests received, by method */
	_Atomic uint64_t resp[SD_MX_CODES];   /* responses sent, by code */
	_Atomic uint64_t ctr[SD_MX_NCTR];
	struct sd_mx_hdata hist[SD_MX_NHIST];
} __attribute__((aligned(64)));

extern struct sd_mx_block sd_mx_blocks[SD_MX_WORKERS];
/* Upper bounds of the buckets, microseconds. */
extern const uint64_t sd_mx_bounds_us[SD_MX_BUCKETS];

static inline void sd_mx_bump(_Atomic uint64_t *x, uint64_t n)
{
	/* single writer: no read-modify-write needed */
	atomic_store_explicit(x, atomic_load_explicit(x, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

static inline struct sd_mx_block *sd_mx_block(unsigned worker)
{
	return &sd_mx_blocks[worker < SD_MX_WORKERS ? worker : 0];
}

static inline void sd_mx_count(unsigned worker, enum sd_mx_ctr k)
{
	sd_mx_bump(&sd_mx_block(worker)->ctr[k], 1);
}

static inline void sd_mx_request(unsigned worker, enum sip_method m)
{
	sd_mx_bump(&sd_mx_block(worker)->req[(unsigned)m < SD_MX_METHODS ? (unsigned)m : 0], 1);
}

static inline void sd_mx_response(unsigned worker, unsigned code)
{
	if (code >= SD_MX_CODE_MIN && code < SD_MX_CODE_MIN + SD_MX_CODES)
		sd_mx_bump(&sd_mx_block(worker)->resp[code - SD_MX_CODE_MIN], 1);
}

/* Monotonic microseconds (vDSO: no system call). */
static inline uint64_t sd_mx_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Record one latency: since t0_us (sd_mx_now_us()) until now. */
void sd_mx_observe(unsigned worker, enum sd_mx_hist h, uint64_t t0_us);
/* Record one latency of us microseconds. */
void sd_mx_observe_us(unsigned worker, enum sd_mx_hist h, uint64_t us);

/* A proxy response context begins (call: an initial INVITE). Returns the
 * start time for sd_mx_upstream(). */
static inline uint64_t sd_mx_pxy_start(unsigned worker, bool call)
{
	sd_mx_count(worker, SD_MX_PXY_CREATED);
	if (call)
		sd_mx_count(worker, SD_MX_CALLS);
	return sd_mx_now_us();
}

/* A response passed upstream by a proxy context: count it and, for an
 * INVITE, time the first one and the first final one (*seen keeps which). */
static inline void sd_mx_upstream(unsigned worker, unsigned code, bool invite, uint64_t t0_us,
				  uint8_t *seen)
{
	sd_mx_response(worker, code);
	if (!invite || !t0_us)
		return;
	if (!(*seen & 1)) {
		*seen |= 1;
		sd_mx_observe(worker, SD_MX_H_INVITE_FIRST, t0_us);
	}
	if (code >= 200 && !(*seen & 2)) {
		*seen |= 2;
		sd_mx_observe(worker, SD_MX_H_INVITE_FINAL, t0_us);
	}
}

/* ---- reading (any thread) ---- */

struct sd_mx_hsnap {
	uint64_t bucket[SD_MX_BUCKETS + 1];
	uint64_t count, sum_us;
};

struct sd_mx_snap {
	uint64_t req[SD_MX_METHODS];
	uint64_t resp[SD_MX_CODES];
	uint64_t ctr[SD_MX_NCTR];
	struct sd_mx_hsnap hist[SD_MX_NHIST];
};

/* What the HTTP thread adds from elsewhere (the location service, the
 * transaction table, the process). */
struct sd_mx_gauges {
	uint64_t tsx_active;
	uint64_t bindings, aors;
	double uptime_s;
	unsigned workers;
	unsigned udp_workers; /* taking UDP datagrams now (balance.h); 0: every one */
	unsigned tcp_flows;   /* connections peers opened (transport/flows.h) */
	int has_location;
};

/* Sum the blocks of workers 0..n (n capped at SD_MX_WORKERS). */
void sd_mx_snapshot(struct sd_mx_snap *out, unsigned n);
/* Zero every block (tests; no worker may run). */
void sd_mx_reset(void);

/* Names used in the exports. */
const char *sd_mx_method_name(unsigned m);  /* "OTHER" for 0 */
const char *sd_mx_hist_name(enum sd_mx_hist h);

/* Prometheus text exposition format 0.0.4. Returns 0 or -EIO. */
int sd_mx_format_prom(FILE *f, const struct sd_mx_snap *s, const struct sd_mx_gauges *g);

#endif
