/* TTL cache of record sets keyed by (name, type): names compare
 * case-insensitively (RFC 1035 §2.3.3), entries expire after their TTL and the
 * least recently used entry goes when the cache is full. The clock is the
 * caller's: every call takes "now" in monotonic milliseconds. */
#ifndef SIPHON_DNS_CACHE_H
#define SIPHON_DNS_CACHE_H

#include "dns/rr.h"

#include <stddef.h>
#include <stdint.h>

struct dns_cache;

/* cap >= 1. Returns 0, -EINVAL or -ENOMEM. */
int dns_cache_create(struct dns_cache **out, size_t cap);
void dns_cache_destroy(struct dns_cache *c);

/* A new reference to the live set for (name, type), or NULL; *ttl_left (may
 * be NULL) gets the seconds it has left, rounded up. Expired entries found on
 * the way are dropped. */
struct dns_rrset *dns_cache_get(struct dns_cache *c, const char *name, uint16_t type,
				uint64_t now, uint32_t *ttl_left);
/* Store set (the cache takes its own reference) for set->ttl seconds,
 * replacing any entry for (name, type). A zero TTL stores nothing. Returns 0,
 * -EINVAL (name too long) or -ENOMEM. */
int dns_cache_put(struct dns_cache *c, const char *name, uint16_t type,
		  struct dns_rrset *set, uint64_t now);
void dns_cache_flush(struct dns_cache *c);
size_t dns_cache_count(const struct dns_cache *c);

#endif
