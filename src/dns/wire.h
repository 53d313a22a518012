/* The one thing we read from the DNS wire format ourselves: c-ares 1.18 parses
 * SRV and NAPTR records but does not report their TTLs. */
#ifndef SIPHON_DNS_WIRE_H
#define SIPHON_DNS_WIRE_H

#include <stddef.h>
#include <stdint.h>

/* Lowest TTL (seconds) of the answer section records of response buf. With no
 * answers, the negative-caching TTL from the authority section's SOA, i.e.
 * min(SOA TTL, SOA MINIMUM) (RFC 2308 §5). TTLs with the top bit set count as
 * 0 (RFC 2181 §8). Returns 0, -ENOENT (nothing to take a TTL from) or
 * -EINVAL (truncated or malformed message). */
int dns_wire_min_ttl(const unsigned char *buf, size_t len, uint32_t *ttl);

#endif
