/* Header lines a proxy adds when forwarding (RFC 3261 §16.6 steps 4 and 8,
 * RFC 3581, RFC 3327 §5.3). */
#include "proxy/route_priv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

/* "192.0.2.1" or "[2001:db8::1]" (a host as written in a URI or sent-by). */
static int host_of(const struct tp_addr *a, char *buf, size_t cap)
{
	char h[INET6_ADDRSTRLEN];
	int n;

	if (a->ss.ss_family == AF_INET)
		n = snprintf(buf, cap, "%s", tp_addr_host_fmt(a, h, sizeof(h)));
	else if (a->ss.ss_family == AF_INET6)
		n = snprintf(buf, cap, "[%s]", tp_addr_host_fmt(a, h, sizeof(h)));
	else
		return -EINVAL;
	return n < 0 || (size_t)n >= cap ? -EINVAL : 0;
}

static int finish(int n, size_t cap)
{
	return n < 0 || (size_t)n >= cap ? -ENOSPC : n;
}

int pxy_record_route_line(char *out, size_t cap, const struct tp_addr *addr,
			  enum tp_proto proto, bool sips)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *tr = "";

	if (host_of(addr, host, sizeof(host)) != 0)
		return -EINVAL;
	if (proto == TP_TCP)
		tr = ";transport=tcp";
	else if (proto == TP_TLS && !sips)
		tr = ";transport=tls"; /* a sips URI says TLS by itself */
	return finish(snprintf(out, cap, "Record-Route: <%s:%s:%u%s;lr>\r\n", sips ? "sips" : "sip",
			       host, tp_addr_port(addr), tr),
		      cap);
}

int pxy_via_line(char *out, size_t cap, const struct tp_addr *addr, enum tp_proto proto,
		 struct str branch)
{
	char host[INET6_ADDRSTRLEN + 2];

	if (host_of(addr, host, sizeof(host)) != 0)
		return -EINVAL;
	return finish(snprintf(out, cap, "Via: SIP/2.0/%s %s:%u;branch=%.*s;rport\r\n",
			       tp_proto_name(proto), host, tp_addr_port(addr), STR_FMT(branch)),
		      cap);
}

int pxy_route_from_path(char *out, size_t cap, struct str path)
{
	static const char name[] = "Route: ";
	size_t n = sizeof(name) - 1;

	path = str_trim(path);
	if (path.len == 0) {
		if (cap)
			out[0] = '\0';
		return 0;
	}
	if (cap < n + path.len + 3 || n + path.len + 2 > INT32_MAX)
		return -ENOSPC;
	memcpy(out, name, n);
	/* a stored value may keep folded lines: CR and LF become SP (LWS
	 * either way), so the line stays one line whatever was stored */
	for (size_t i = 0; i < path.len; i++) {
		char c = path.s[i];

		out[n++] = c == '\r' || c == '\n' ? ' ' : c;
	}
	out[n++] = '\r';
	out[n++] = '\n';
	out[n] = '\0';
	return (int)n;
}
