/* Per-source request rate limit (a token bucket per source IP), shared by
 * the workers: a fixed table of slots in lock stripes, no allocation after
 * creation. A slot taken by another source is reused once that source has
 * been quiet for a while; until then the two share its bucket (an attacker
 * cannot grow the table, and at worst slows down one colliding source). */
#ifndef SIPHON_TRANSPORT_RATELIM_H
#define SIPHON_TRANSPORT_RATELIM_H

#include "transport/addr.h"

#include <stdbool.h>
#include <stdint.h>

struct tp_ratelim;

/* rate: requests per second per source IP (> 0); burst: bucket size (0:
 * rate). slots: table size, rounded up to a power of two (0: 65536).
 * Returns 0, -EINVAL or -ENOMEM. */
int tp_ratelim_create(struct tp_ratelim **out, unsigned rate, unsigned burst, unsigned slots);
void tp_ratelim_destroy(struct tp_ratelim *r);

/* May src send one more request at now_ms (monotonic)? Takes a token if so.
 * Thread-safe. */
bool tp_ratelim_allow(struct tp_ratelim *r, const struct tp_addr *src, uint64_t now_ms);

#endif
