/* Pure selection logic of RFC 2782 (SRV) and RFC 3263 §4.1 (NAPTR): no I/O,
 * no allocation, randomness injected. */
#ifndef SIPHON_DNS_SRV_H
#define SIPHON_DNS_SRV_H

#include "dns/dns.h"
#include "dns/rr.h"

#include <stddef.h>

/* Reorder v in place: priority ascending, and within one priority the
 * weighted random selection of RFC 2782 ("Usage rules": zero weights first,
 * running sums, pick the first sum >= a uniform draw in [0, total]). rnd is
 * called once per selection within a priority group that has 2+ records. */
void dns_srv_order(struct dns_srv *v, size_t n, dns_rand_fn rnd, void *rnd_arg);

/* A usable NAPTR record: its index in the input and the transport it names. */
struct dns_naptr_pick {
	size_t idx;
	enum tp_proto proto;
};

/* RFC 3263 §4.1 with RFC 3403 §4.1 order rules: keep records whose flags are
 * "S", regexp empty, replacement set, and service SIP+D2U / SIP+D2T /
 * SIPS+D2T naming a transport in protos (only SIPS+D2T for a sips URI); of
 * those, only the lowest order counts, sorted by preference (stable). Writes
 * up to cap picks and returns how many. */
size_t dns_naptr_select(const struct dns_naptr *v, size_t n, bool sips, unsigned protos,
			struct dns_naptr_pick *out, size_t cap);

/* Transport of a NAPTR service field, or -1 if not one of ours. */
int dns_naptr_service_proto(const char *service);

#endif
