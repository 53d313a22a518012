/* UDP listener: one non-blocking socket bound to one address, drained on the
 * event loop into a receive buffer it owns (no allocation per datagram).
 * Every socket has SO_REUSEPORT, so each worker binds its own socket to the
 * same address and the kernel spreads datagrams by source (the same source
 * always reaches the same socket). */
#ifndef SIPHON_TRANSPORT_UDP_H
#define SIPHON_TRANSPORT_UDP_H

#include "base/loop.h"
#include "transport/addr.h"

#include <stdbool.h>
#include <stddef.h>

/* Receive buffer asked for each UDP socket (the kernel doubles it for its
 * bookkeeping and caps it at net.core.rmem_max unless we may force it). */
#define TP_UDP_RCVBUF (4 * 1024 * 1024)

struct tp_udp;

/* One received datagram; buf is the listener's and valid during the call. */
typedef void (*tp_udp_recv_cb)(struct tp_udp *u, const char *buf, size_t len,
			       const struct tp_addr *src, void *arg);

struct tp_egress;

/* Bind addr (port 0 picks one; see tp_udp_local) and watch it on l.
 * Returns 0, -ENOMEM, or the negated errno of socket/bind. */
int tp_udp_create(struct tp_udp **out, struct loop *l, const struct tp_addr *addr,
		  tp_udp_recv_cb cb, void *arg);
void tp_udp_destroy(struct tp_udp *u);

/* Whether addr is free for us alone: bind a socket to it without
 * SO_REUSEADDR and SO_REUSEPORT (with which a second process would silently
 * share the port) and close it. Returns 0, -EADDRINUSE or the negated errno
 * of socket/bind. Port 0 needs no probe (returns 0). */
int tp_udp_probe(const struct tp_addr *addr);

/* The bound address (with the real port). */
const struct tp_addr *tp_udp_local(const struct tp_udp *u);

/* The address the datagram being delivered to the callback was sent to:
 * for a socket bound to a wildcard (0.0.0.0, ::) the real one, learned with
 * IP_PKTINFO / IPV6_RECVPKTINFO; otherwise tp_udp_local(). */
const struct tp_addr *tp_udp_rx_local(const struct tp_udp *u);
bool tp_udp_is_wildcard(const struct tp_udp *u);

/* Steer the datagrams of u's SO_REUSEPORT group (every socket bound to the
 * same address and port) to its first `active` sockets, in join order: a
 * classic BPF program hashes each datagram's source address and port, so a
 * source keeps its socket while `active` stays the same. active = 0 detaches
 * the program (the kernel's own hash over every socket). An index the
 * group lacks (active above its size) makes the kernel fall back to its own
 * hash for that datagram. Returns 0 or the negated errno of setsockopt. */
int tp_udp_steer(struct tp_udp *u, unsigned active);
/* Where tp_udp_steer(u, active) sends an IPv4 source (host byte order):
 * the index of the socket in its group. */
unsigned tp_udp_steer_index(uint32_t ip, uint16_t port, unsigned active);
/* The same for an IPv6 source (its 16 bytes as on the wire). */
unsigned tp_udp_steer_index6(const uint8_t ip[16], uint16_t port, unsigned active);

/* Only send to destinations e permits (kept by the caller; NULL: any). */
void tp_udp_set_egress(struct tp_udp *u, const struct tp_egress *e);

/* Send one datagram; a full socket buffer drops it (UDP is lossy and the
 * transaction layer retransmits, RFC 3261 §17). A destination the egress
 * policy refuses gets nothing and one log line: -EACCES. Returns 0 or a
 * negated errno. */
int tp_udp_send(struct tp_udp *u, const void *buf, size_t len, const struct tp_addr *dst);
/* The same, from the address from (one of ours) when the socket is bound to
 * a wildcard, so that a reply leaves from where the request came in. */
int tp_udp_send_from(struct tp_udp *u, const void *buf, size_t len, const struct tp_addr *dst,
		     const struct tp_addr *from);

#endif
