/* Transport addresses and protocols. */
#ifndef SIPHON_TRANSPORT_ADDR_H
#define SIPHON_TRANSPORT_ADDR_H

#include "base/str.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

enum tp_proto { TP_UDP = 0, TP_TCP, TP_TLS };

struct tp_addr {
	struct sockaddr_storage ss;
	socklen_t len;
};

const char *tp_proto_name(enum tp_proto p); /* "UDP", "TCP", "TLS" */
const char *tp_proto_lc(enum tp_proto p);   /* "udp", "tcp", "tls" (listen specs) */

/* "udp:127.0.0.1:5060", "tcp:[::1]:5070", "127.0.0.1" (udp, port 5060).
 * Numeric addresses only (no DNS). Returns 0 or -EINVAL. */
int tp_listen_spec_parse(const char *spec, enum tp_proto *proto, struct tp_addr *addr);

/* Numeric host (IPv4, or IPv6 with or without brackets) and port to an
 * address. Returns 0 or -EINVAL (names are not resolved here). */
int tp_addr_from_numeric(struct tp_addr *a, struct str host, uint16_t port);

/* "127.0.0.1:8080" or "[::1]:8080": a numeric host and a port, both
 * required (IPv6 in brackets). Returns 0 or -EINVAL. */
int tp_addr_parse_hostport(const char *spec, struct tp_addr *out);

/* "127.0.0.1:5060" / "[::1]:5060" into buf; returns buf. */
const char *tp_addr_fmt(const struct tp_addr *a, char *buf, size_t cap);
/* Host part only, without brackets ("127.0.0.1", "::1"). */
const char *tp_addr_host_fmt(const struct tp_addr *a, char *buf, size_t cap);
uint16_t tp_addr_port(const struct tp_addr *a);
void tp_addr_set_port(struct tp_addr *a, uint16_t port);
bool tp_addr_equal(const struct tp_addr *a, const struct tp_addr *b);

/* The IP address as 16 octets, IPv4 in its IPv4-mapped IPv6 form (for
 * hashing and comparing addresses of either family). */
void tp_addr_ip16(const struct tp_addr *a, uint8_t ip[16]);

/* A 64-bit finaliser (MurmurHash3 fmix64) for hash tables keyed by addresses. */
static inline uint64_t tp_hash_mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= UINT64_C(0xff51afd7ed558ccd);
	x ^= x >> 33;
	x *= UINT64_C(0xc4ceb9fe1a85ec53);
	return x ^ (x >> 33);
}

#endif
