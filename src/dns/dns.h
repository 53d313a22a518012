/* Locating SIP servers (RFC 3263) with c-ares, non-blocking on a struct loop.
 *
 * A resolver belongs to one loop (one thread) and is not thread-safe. Each
 * dns_resolve_uri() call turns a SIP/SIPS URI into an ordered list of
 * (transport, address, port) targets: NAPTR -> SRV -> A/AAAA as RFC 3263 §4
 * says, with numeric hosts and explicit ports short-circuiting. Records are
 * cached with their TTL. The result is always delivered from the loop (never
 * from inside dns_resolve_uri()), also for numeric hosts and cache hits.
 *
 * Failover (RFC 3263 §4.3): the caller tries t[0], and on a transport error
 * or a transaction timeout moves on to t[1], and so on. */
#ifndef SIPHON_DNS_DNS_H
#define SIPHON_DNS_DNS_H

#include "msg/uri.h"
#include "transport/addr.h"

#include <stddef.h>
#include <stdint.h>

struct loop;
struct dns_resolver;
struct dns_query;

/* Bits of dns_config.protos. */
#define DNS_PROTO_BIT(p) (1u << (p))
#define DNS_PROTO_ALL (DNS_PROTO_BIT(TP_UDP) | DNS_PROTO_BIT(TP_TCP) | DNS_PROTO_BIT(TP_TLS))

typedef uint32_t (*dns_rand_fn)(void *arg);   /* uniform over 0..UINT32_MAX */
typedef uint64_t (*dns_clock_fn)(void *arg);  /* monotonic milliseconds */

struct dns_config {
	/* "127.0.0.1:5353,[::1]:53"; NULL or "" uses the system's resolv.conf. */
	const char *servers;
	unsigned timeout_ms;   /* per try; 0 = 2000 */
	unsigned tries;        /* 0 = 2 */
	size_t cache_size;     /* record sets kept; 0 = 1024 */
	uint32_t negative_ttl; /* cap on caching NXDOMAIN/NODATA, seconds; 0 = 60 */
	unsigned protos;       /* transports we can use (DNS_PROTO_BIT); 0 = all */
	int family;            /* AF_UNSPEC (A then AAAA), AF_INET or AF_INET6 */
	/* Injectable for tests; NULL = loop_now() and an internal PRNG. */
	dns_clock_fn clock;
	void *clock_arg;
	dns_rand_fn rand;
	void *rand_arg;
};

struct dns_target {
	enum tp_proto proto;
	struct tp_addr addr;   /* address and port */
};

/* Ordered targets, most preferred first (RFC 3263 §4.3). */
struct dns_targets {
	uint32_t ttl;          /* seconds the list stays valid (min of the records used) */
	size_t n;
	struct dns_target t[];
};

/* On success err is 0 and t holds at least one target; the callback owns t and
 * frees it with dns_targets_free(). On failure t is NULL and err is -ENOENT (no
 * such name / no usable records), -ETIMEDOUT (no answer from the servers),
 * -ECONNREFUSED, -ENOMEM or -EIO. The query handle is gone once the callback
 * runs. The callback may start new queries but must not destroy the resolver. */
typedef void (*dns_result_cb)(int err, struct dns_targets *t, void *arg);

struct dns_stats {
	uint64_t queries_sent;  /* DNS questions handed to c-ares */
	uint64_t cache_hits;
	size_t live_queries;    /* dns_resolve_uri() calls not yet finished or reaped */
};

/* cfg may be NULL for defaults. Returns 0, -ENOMEM, -EINVAL (bad servers
 * string) or -EIO (c-ares could not start). */
int dns_resolver_create(struct dns_resolver **out, struct loop *loop,
			const struct dns_config *cfg);
/* Abandons every query in flight: no callback runs afterwards. */
void dns_resolver_destroy(struct dns_resolver *r);

/* Resolve a sip: or sips: URI (maddr, when present, is the target host, RFC
 * 3263 §4). *q (if q is not NULL) is a handle for dns_query_cancel(), valid
 * until the callback runs. Returns 0 (cb will run exactly once), -EINVAL (not
 * a SIP/SIPS URI, bad host), -EPROTONOSUPPORT (transport= we cannot use, or
 * sips with transport=udp) or -ENOMEM (cb will not run). */
int dns_resolve_uri(struct dns_resolver *r, const struct sip_uri *uri, dns_result_cb cb,
		    void *arg, struct dns_query **q);
/* The callback will not run; harmless to call with NULL. */
void dns_query_cancel(struct dns_query *q);

void dns_targets_free(struct dns_targets *t);

void dns_resolver_stats(const struct dns_resolver *r, struct dns_stats *st);
/* Drop every cached record set. */
void dns_resolver_flush(struct dns_resolver *r);

#endif
