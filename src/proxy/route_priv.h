/* Internals shared by the proxy routing helpers (not part of the contract). */
#ifndef SIPHON_PROXY_ROUTE_PRIV_H
#define SIPHON_PROXY_ROUTE_PRIV_H

#include "proxy/route.h"

#define PXY_PORT_SIP 5060  /* RFC 3261 §19.1.2 */
#define PXY_PORT_SIPS 5061

/* host (as written: IPv6 with brackets) and port (explicit, or the default
 * of the scheme/transport when has_port is false) indicate this server:
 * the rules of struct pxy_self. */
bool pxy_hostport_is_self(const struct pxy_self *s, struct str host, uint16_t port,
			  bool has_port);

#endif
