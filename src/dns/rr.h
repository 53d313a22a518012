/* Record sets: the parsed answer to one DNS question, shared by the cache and
 * the queries that use it (reference counted, immutable once built). */
#ifndef SIPHON_DNS_RR_H
#define SIPHON_DNS_RR_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

/* RR TYPE values (RFC 1035 §3.2.2, RFC 3596, RFC 2782, RFC 3403). */
enum dns_type {
	DNS_T_A = 1,
	DNS_T_AAAA = 28,
	DNS_T_SRV = 33,
	DNS_T_NAPTR = 35,
};

#define DNS_NAME_MAX 256 /* 255 octets of presentation name + NUL (RFC 1035 §2.3.4) */

struct dns_naptr {
	uint16_t order, pref;
	char flags[8];
	char service[32];
	char replacement[DNS_NAME_MAX];
	int regexp; /* non-empty regexp field: unusable for SIP (RFC 3263 §4.1) */
};

struct dns_srv {
	uint16_t prio, weight, port;
	char target[DNS_NAME_MAX];
};

struct dns_rr {
	union {
		struct dns_naptr naptr;
		struct dns_srv srv;
		struct in_addr a;
		struct in6_addr aaaa;
	};
};

struct dns_rrset {
	unsigned refs;
	uint16_t type;
	uint32_t ttl; /* seconds */
	int status;   /* 0, or -ENOENT for NXDOMAIN/NODATA (negative answer) */
	size_t n;
	struct dns_rr rr[];
};

/* A set of n zeroed records with one reference. NULL on allocation failure. */
struct dns_rrset *dns_rrset_new(uint16_t type, size_t n);
struct dns_rrset *dns_rrset_ref(struct dns_rrset *s);
void dns_rrset_unref(struct dns_rrset *s);

#endif
