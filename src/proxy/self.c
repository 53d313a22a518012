/* Does a URI or a Via sent-by indicate this server (RFC 3261 §16.4 "indicates
 * this proxy", §16.3 item 4, §19.1.2 default ports)? */
#include "proxy/route_priv.h"

#include <string.h>

static const uint8_t v4_mapped_prefix[12] = { [10] = 0xff, [11] = 0xff };

static bool ip_is_v4(const uint8_t ip[16])
{
	return memcmp(ip, v4_mapped_prefix, 12) == 0;
}

/* Does a wildcard listener (0.0.0.0 or ::, at the right port) stand for
 * this address? Only for loopback ones: 127.0.0.0/8 for 0.0.0.0, ::1 and
 * 127.0.0.0/8 for :: (dual-stack, Linux's default). Other addresses of the
 * machine go into pxy_self.names. */
static bool wildcard_covers(const uint8_t lip[16], const uint8_t ip[16])
{
	static const uint8_t any6[16], lo6[16] = { [15] = 1 };
	bool lo4 = ip_is_v4(ip) && ip[12] == 127;

	if (memcmp(lip, any6, 16) == 0)
		return lo4 || memcmp(ip, lo6, 16) == 0;
	if (ip_is_v4(lip) && !lip[12] && !lip[13] && !lip[14] && !lip[15])
		return lo4;
	return false;
}

static bool port_is_listener(const struct pxy_self *s, uint16_t port)
{
	for (size_t i = 0; i < s->nlisten; i++)
		if (tp_addr_port(&s->listen[i]) == port)
			return true;
	return false;
}

/* A fully qualified name may end in a dot ("example.com."). */
static struct str drop_root_dot(struct str n)
{
	if (n.len > 1 && n.s[n.len - 1] == '.')
		n.len--;
	return n;
}

bool pxy_hostport_is_self(const struct pxy_self *s, struct str host, uint16_t port,
			  bool has_port)
{
	struct tp_addr a, b;
	uint8_t ip[16], lip[16];

	if (!s || host.len == 0)
		return false;
	if (tp_addr_from_numeric(&a, host, 0) == 0) {
		/* an address: a listener with the same address (IPv4-mapped
		 * forms included) and port; a wildcard listener stands for the
		 * loopback addresses only (see struct pxy_self) */
		tp_addr_ip16(&a, ip);
		for (size_t i = 0; i < s->nlisten; i++) {
			if (tp_addr_port(&s->listen[i]) != port)
				continue;
			tp_addr_ip16(&s->listen[i], lip);
			if (memcmp(ip, lip, 16) == 0 || wildcard_covers(lip, ip))
				return true;
		}
		/* or an address listed among the names (the machine's public
		 * addresses behind a wildcard listener) */
		for (size_t i = 0; i < s->nnames; i++) {
			if (tp_addr_from_numeric(&b, s->names[i], 0) != 0)
				continue;
			tp_addr_ip16(&b, lip);
			if (memcmp(ip, lip, 16) == 0 && (!has_port || port_is_listener(s, port)))
				return true;
		}
		return false;
	}
	host = drop_root_dot(host);
	for (size_t i = 0; i < s->nnames; i++)
		if (str_caseeq(host, drop_root_dot(s->names[i])))
			return !has_port || port_is_listener(s, port);
	return false;
}

bool pxy_uri_is_self(const struct pxy_self *s, const struct sip_uri *u)
{
	struct str host;
	uint16_t port;

	if (!u || (u->scheme != SIP_URI_SIP && u->scheme != SIP_URI_SIPS))
		return false;
	/* maddr overrides the host as the place the request goes (§19.1.1) */
	host = u->maddr.len ? u->maddr : u->host;
	if (u->has_port)
		port = u->port;
	else if (u->scheme == SIP_URI_SIPS || str_caseeq_lit(u->transport, "tls"))
		port = PXY_PORT_SIPS;
	else
		port = PXY_PORT_SIP;
	return pxy_hostport_is_self(s, host, port, u->has_port);
}
