/* Flows: which stream connection a peer opened to us from an address
 * (RFC 5626 §5.3), shared by every worker. A user agent behind NAT, or one
 * that registered with outbound, can be reached only over the connection
 * it registered on: its source port is no listener. Entries come and go
 * with connections (accept, close); an add, a removal or a lookup takes
 * one lock stripe, never a global lock. One entry per source: should a
 * peer hold two connections from one address and port (to two of our
 * listeners), the newer is its flow, and none once that one closes. */
#ifndef SIPHON_TRANSPORT_FLOWS_H
#define SIPHON_TRANSPORT_FLOWS_H
#include "transport/addr.h"

#include <stdint.h>

struct tp_flows;

/* conns: connections expected at once (sizes the hash). Returns 0 or
 * -ENOMEM. */
int tp_flows_create(struct tp_flows **out, unsigned conns);
void tp_flows_destroy(struct tp_flows *f);
/* Any thread: connection id (tcp.h, non-zero) now carries proto (TP_TCP or
 * TP_TLS) from peer; it replaces an older entry for the same peer. Returns
 * 0 or -ENOMEM. */
int tp_flows_add(struct tp_flows *f, enum tp_proto proto, const struct tp_addr *peer,
		 uint64_t id);
/* Any thread: connection id is gone (nothing if peer's entry is another's). */
void tp_flows_del(struct tp_flows *f, enum tp_proto proto, const struct tp_addr *peer,
		  uint64_t id);
/* The id of the connection peer opened over proto, or 0. */
uint64_t tp_flows_find(struct tp_flows *f, enum tp_proto proto, const struct tp_addr *peer);
/* Any thread: flows now (a snapshot, for metrics). */
unsigned tp_flows_count(const struct tp_flows *f);

#endif
