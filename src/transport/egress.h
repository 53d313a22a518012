/* Egress policy: the networks siphond may send to. A destination passes when
 * it falls in an allowed network and in no denied one. Broadcast and
 * multicast are refused unless an allowed network lies inside them, so a
 * reflected request can never be turned into a flood. */
#ifndef SIPHON_TRANSPORT_EGRESS_H
#define SIPHON_TRANSPORT_EGRESS_H

#include "transport/addr.h"

#include <stdbool.h>

struct tp_egress;

/* An empty policy: nothing allowed until tp_egress_add(). */
int tp_egress_create(struct tp_egress **out);
void tp_egress_destroy(struct tp_egress *e);

/* Add "192.0.2.0/24", "10.1.2.3" (a /32), "::1", "2001:db8::/32", or "any"
 * (0.0.0.0/0 and ::/0). Returns 0, -EINVAL for a bad network, -ENOMEM. */
int tp_egress_add(struct tp_egress *e, bool allow, const char *cidr);

/* The documented default: allow any unicast destination. */
int tp_egress_set_default(struct tp_egress *e);

/* Whether a message may be sent to a. IPv4-mapped IPv6 addresses are judged
 * as the IPv4 address they carry. */
bool tp_egress_permits(const struct tp_egress *e, const struct tp_addr *a);

#endif
