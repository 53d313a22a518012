#include "transport/addr.h"

#include "base/str.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TP_DEFAULT_PORT 5060 /* RFC 3261 §19.1.2 */

const char *tp_proto_lc(enum tp_proto p)
{
	return p == TP_UDP ? "udp" : p == TP_TCP ? "tcp" : "tls";
}

const char *tp_proto_name(enum tp_proto p)
{
	switch (p) {
	case TP_UDP:
		return "UDP";
	case TP_TCP:
		return "TCP";
	case TP_TLS:
		return "TLS";
	}
	return "?";
}

int tp_addr_from_numeric(struct tp_addr *a, struct str host, uint16_t port)
{
	char buf[INET6_ADDRSTRLEN + 1];

	if (host.len >= 2 && host.s[0] == '[' && host.s[host.len - 1] == ']') {
		host.s++;
		host.len -= 2;
		if (!memchr(host.s, ':', host.len))
			return -EINVAL; /* brackets only around IPv6 */
	}
	if (host.len == 0 || str_copy(buf, sizeof(buf), host) < 0)
		return -EINVAL;
	memset(a, 0, sizeof(*a));
	if (memchr(buf, ':', host.len)) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a->ss;

		if (inet_pton(AF_INET6, buf, &s6->sin6_addr) != 1)
			return -EINVAL;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		a->len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&a->ss;

		if (inet_pton(AF_INET, buf, &s4->sin_addr) != 1)
			return -EINVAL;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		a->len = sizeof(*s4);
	}
	return 0;
}

static int parse_port(const char *s, uint16_t *port)
{
	unsigned v = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (unsigned)(*s - '0');
		if (v > 65535)
			return -EINVAL;
	}
	*port = (uint16_t)v;
	return 0;
}

int tp_listen_spec_parse(const char *spec, enum tp_proto *proto, struct tp_addr *addr)
{
	static const struct {
		const char *name;
		enum tp_proto p;
	} protos[] = { { "udp:", TP_UDP }, { "tcp:", TP_TCP }, { "tls:", TP_TLS } };
	uint16_t port = TP_DEFAULT_PORT;
	const char *host = spec, *colon;
	size_t hlen;

	if (!spec)
		return -EINVAL;
	*proto = TP_UDP;
	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++) {
		if (strncasecmp(spec, protos[i].name, 4) == 0) {
			*proto = protos[i].p;
			host = spec + 4;
			break;
		}
	}
	if (host[0] == '[') {
		const char *rb = strchr(host, ']');

		if (!rb)
			return -EINVAL;
		hlen = (size_t)(rb - host) + 1;
		if (rb[1] == ':') {
			if (parse_port(rb + 2, &port) < 0)
				return -EINVAL;
		} else if (rb[1]) {
			return -EINVAL;
		}
	} else {
		colon = strchr(host, ':');
		if (colon && strchr(colon + 1, ':')) {
			hlen = strlen(host); /* bare IPv6: no port possible */
		} else if (colon) {
			hlen = (size_t)(colon - host);
			if (parse_port(colon + 1, &port) < 0)
				return -EINVAL;
		} else {
			hlen = strlen(host);
		}
	}
	return tp_addr_from_numeric(addr, str_make(host, hlen), port);
}

const char *tp_addr_host_fmt(const struct tp_addr *a, char *buf, size_t cap)
{
	const void *src = NULL;
	int af = a->ss.ss_family;

	if (af == AF_INET)
		src = &((const struct sockaddr_in *)&a->ss)->sin_addr;
	else if (af == AF_INET6)
		src = &((const struct sockaddr_in6 *)&a->ss)->sin6_addr;
	if (!cap)
		return buf;
	if (af == AF_INET && cap >= INET_ADDRSTRLEN) {
		/* by hand: glibc's inet_ntop formats IPv4 with sprintf, and this
		 * runs for every request (the received parameter, §18.2.1) */
		const unsigned char *q = src;
		size_t n = 0;

		for (int i = 0; i < 4; i++) {
			if (i)
				buf[n++] = '.';
			n += str_fmt_u32(buf + n, q[i]);
		}
		buf[n] = '\0';
		return buf;
	}
	if (!src || !inet_ntop(af, src, buf, (socklen_t)cap))
		snprintf(buf, cap, "?");
	return buf;
}

const char *tp_addr_fmt(const struct tp_addr *a, char *buf, size_t cap)
{
	char host[INET6_ADDRSTRLEN];

	tp_addr_host_fmt(a, host, sizeof(host));
	if (a->ss.ss_family == AF_INET6)
		snprintf(buf, cap, "[%s]:%u", host, tp_addr_port(a));
	else
		snprintf(buf, cap, "%s:%u", host, tp_addr_port(a));
	return buf;
}

uint16_t tp_addr_port(const struct tp_addr *a)
{
	if (a->ss.ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
	if (a->ss.ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
	return 0;
}

void tp_addr_set_port(struct tp_addr *a, uint16_t port)
{
	if (a->ss.ss_family == AF_INET)
		((struct sockaddr_in *)&a->ss)->sin_port = htons(port);
	else if (a->ss.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&a->ss)->sin6_port = htons(port);
}

bool tp_addr_equal(const struct tp_addr *a, const struct tp_addr *b)
{
	if (a->ss.ss_family != b->ss.ss_family)
		return false;
	if (a->ss.ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)&a->ss, *y = (const void *)&b->ss;

		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)&a->ss, *y = (const void *)&b->ss;

		return x->sin6_port == y->sin6_port &&
		       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0 &&
		       x->sin6_scope_id == y->sin6_scope_id;
	}
	return false;
}

void tp_addr_ip16(const struct tp_addr *a, uint8_t ip[16])
{
	memset(ip, 0, 16);
	if (a->ss.ss_family == AF_INET) {
		const struct sockaddr_in *v4 = (const void *)&a->ss;

		ip[10] = ip[11] = 0xff;
		memcpy(ip + 12, &v4->sin_addr, 4);
	} else if (a->ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *v6 = (const void *)&a->ss;

		memcpy(ip, &v6->sin6_addr, 16);
	}
}

int tp_addr_parse_hostport(const char *spec, struct tp_addr *out)
{
	const char *colon, *host = spec;
	size_t hlen;
	char *end;
	unsigned long port;

	if (!spec || !*spec)
		return -EINVAL;
	if (spec[0] == '[') {
		const char *rb = strchr(spec, ']');

		if (!rb || rb[1] != ':')
			return -EINVAL;
		host = spec + 1;
		hlen = (size_t)(rb - host);
		colon = rb + 1;
	} else {
		colon = strrchr(spec, ':');
		if (!colon || memchr(spec, ':', (size_t)(colon - spec)))
			return -EINVAL; /* no port, or IPv6 without brackets */
		hlen = (size_t)(colon - spec);
	}
	if (!colon[1] || colon[1] < '0' || colon[1] > '9')
		return -EINVAL;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || *end || port > 65535)
		return -EINVAL;
	return tp_addr_from_numeric(out, str_make(host, hlen), (uint16_t)port);
}
