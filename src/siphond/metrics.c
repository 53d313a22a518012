/* Per-worker counter blocks: the writers' side and the summing reader. */
#include "siphond/metrics.h"

#include <string.h>

_Static_assert(SD_MX_METHODS == SIP_METHOD_PUBLISH + 1, "a counter per enum sip_method");

struct sd_mx_block sd_mx_blocks[SD_MX_WORKERS];

/* 0.5 ms .. 10 s: a registration that waits for a disk commit lands in the
 * low milliseconds, a call's final response may take seconds. */
const uint64_t sd_mx_bounds_us[SD_MX_BUCKETS] = {
	500, 1000, 2000, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000, 10000000,
};

void sd_mx_observe(unsigned worker, enum sd_mx_hist h, uint64_t t0_us)
{
	uint64_t now = sd_mx_now_us();

	sd_mx_observe_us(worker, h, now > t0_us ? now - t0_us : 0);
}

void sd_mx_observe_us(unsigned worker, enum sd_mx_hist h, uint64_t us)
{
	struct sd_mx_hdata *d = &sd_mx_block(worker)->hist[h];
	unsigned i = 0;

	while (i < SD_MX_BUCKETS && us > sd_mx_bounds_us[i])
		i++;
	sd_mx_bump(&d->bucket[i], 1);
	sd_mx_bump(&d->sum_us, us);
	sd_mx_bump(&d->count, 1);
}

static uint64_t rd(_Atomic uint64_t *x)
{
	return atomic_load_explicit(x, memory_order_relaxed);
}

void sd_mx_snapshot(struct sd_mx_snap *out, unsigned n)
{
	memset(out, 0, sizeof(*out));
	if (n > SD_MX_WORKERS || n == 0)
		n = SD_MX_WORKERS;
	for (unsigned w = 0; w < n; w++) {
		struct sd_mx_block *b = &sd_mx_blocks[w];

		for (unsigned i = 0; i < SD_MX_METHODS; i++)
			out->req[i] += rd(&b->req[i]);
		for (unsigned i = 0; i < SD_MX_CODES; i++)
			out->resp[i] += rd(&b->resp[i]);
		for (unsigned i = 0; i < SD_MX_NCTR; i++)
			out->ctr[i] += rd(&b->ctr[i]);
		for (unsigned h = 0; h < SD_MX_NHIST; h++) {
			for (unsigned i = 0; i <= SD_MX_BUCKETS; i++)
				out->hist[h].bucket[i] += rd(&b->hist[h].bucket[i]);
			out->hist[h].count += rd(&b->hist[h].count);
			out->hist[h].sum_us += rd(&b->hist[h].sum_us);
		}
	}
}

void sd_mx_reset(void)
{
	struct sd_mx_block zero;

	memset(&zero, 0, sizeof(zero));
	for (unsigned w = 0; w < SD_MX_WORKERS; w++)
		memcpy(&sd_mx_blocks[w], &zero, sizeof(zero));
}

const char *sd_mx_method_name(unsigned m)
{
	const char *n = m ? sip_method_name((enum sip_method)m) : NULL;

	return n ? n : "OTHER";
}

const char *sd_mx_hist_name(enum sd_mx_hist h)
{
	switch (h) {
	case SD_MX_H_REGISTER:
		return "register";
	case SD_MX_H_INVITE_FIRST:
		return "invite_first_response";
	case SD_MX_H_INVITE_FINAL:
		return "invite_final_response";
	default:
		return "?";
	}
}
