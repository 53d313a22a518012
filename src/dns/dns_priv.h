/* Internals shared by resolver.c (c-ares on the loop, cache) and rfc3263.c
 * (the RFC 3263 §4 procedure). */
#ifndef SIPHON_DNS_PRIV_H
#define SIPHON_DNS_PRIV_H

#include "base/loop.h"
#include "dns/cache.h"
#include "dns/dns.h"
#include "dns/rr.h"

#include <ares.h>
#include <stdbool.h>

#define DNS_MAX_SRV 8    /* SRV names asked for one URI */
#define DNS_MAX_HOSTS 32 /* hosts (SRV targets) expanded for one URI */

struct dns_resolver {
	struct loop *loop;
	ares_channel ch;
	struct loop_timer timer;       /* ares_timeout() */
	struct dns_cache *cache;
	struct dns_config cfg;         /* defaults filled in; servers not kept */
	uint64_t rng;                  /* default PRNG state (xorshift64*) */
	struct dns_stats st;
	struct dns_query *queries;     /* every live query, to reap on destroy */
	bool destroying;
};

/* Where one question's outcome lands: a set (positive or negative) or err. */
struct dns_answer {
	struct dns_rrset *set;
	int err;
	uint32_t ttl; /* seconds left */
};

enum dns_phase { DNS_PH_NAPTR = 1, DNS_PH_SRV, DNS_PH_HOST, DNS_PH_DONE };

struct dns_srv_slot {
	enum tp_proto proto;
	char name[DNS_NAME_MAX];
	struct dns_answer ans;
};

struct dns_host_slot {
	enum tp_proto proto;
	uint16_t port;
	char name[DNS_NAME_MAX];
	struct dns_answer a, aaaa;
};

struct dns_query {
	struct dns_resolver *r;
	struct dns_query *prev, *next;
	dns_result_cb cb;
	void *arg;
	char host[DNS_NAME_MAX];       /* TARGET (RFC 3263 §4), no brackets, no final dot */
	bool sips, cancelled, starting, naptr_used;
	int forced;                    /* enum tp_proto from transport=, or -1 */
	unsigned protos;               /* transports usable for this URI */
	uint16_t port;                 /* explicit port, or 0 */
	unsigned pending;              /* questions in flight (plus holds) */
	enum dns_phase phase;
	uint32_t ttl;
	struct dns_answer naptr;
	struct dns_srv_slot srv[DNS_MAX_SRV];
	size_t nsrv;
	struct dns_host_slot *hosts;
	size_t nhosts;
	int err;                       /* outcome once DNS_PH_DONE */
	struct dns_targets *result;
	struct loop_timer defer;       /* delivers results found while starting */
};

/* Ask (name, type) for q into *dst: from the cache at once, or through c-ares
 * with q->pending raised until dns_query_answered(). On failure dst->err is set. */
void dns_lookup(struct dns_query *q, const char *name, uint16_t type, struct dns_answer *dst);
/* Called by resolver.c when a question of q is settled (q->pending already
 * lowered); runs the next step when nothing is pending. */
void dns_query_answered(struct dns_query *q);
/* Unlink and free q and everything it holds; no callback. */
void dns_query_free(struct dns_query *q);
uint64_t dns_now(const struct dns_resolver *r);
uint32_t dns_rand(struct dns_resolver *r);

#endif
