#include "transport/egress.h"

#include "base/mem.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Networks are kept as 16-octet IPv6 prefixes; IPv4 lives in ::ffff:0:0/96. */
struct net {
	uint8_t addr[16];
	unsigned plen; /* 0..128 */
	bool allow;
};

struct tp_egress {
	struct net *nets;
	size_t n, cap;
};

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* RFC 919 limited broadcast, RFC 5771 IPv4 multicast, RFC 4291 IPv6 multicast. */
static const struct net special[] = {
	{ { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 255, 255, 255, 255 }, 128, false },
	{ { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 224, 0, 0, 0 }, 100, false },
	{ { 0xff }, 8, false },
};

int tp_egress_create(struct tp_egress **out)
{
	struct tp_egress *e = mem_zalloc(sizeof(*e));

	if (!e)
		return -ENOMEM;
	*out = e;
	return 0;
}

void tp_egress_destroy(struct tp_egress *e)
{
	if (!e)
		return;
	mem_free(e->nets);
	mem_free(e);
}

static bool in_net(const uint8_t a[16], const uint8_t net[16], unsigned plen)
{
	unsigned full = plen / 8, rest = plen % 8;

	if (memcmp(a, net, full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (a[full] & mask) == (net[full] & mask);
}

static int push(struct tp_egress *e, const uint8_t addr[16], unsigned plen, bool allow)
{
	if (e->n == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 8;
		struct net *n = mem_realloc(e->nets, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		e->nets = n;
		e->cap = cap;
	}
	memcpy(e->nets[e->n].addr, addr, 16);
	e->nets[e->n].plen = plen;
	e->nets[e->n].allow = allow;
	e->n++;
	return 0;
}

int tp_egress_add(struct tp_egress *e, bool allow, const char *cidr)
{
	char host[64];
	const char *slash = strchr(cidr, '/');
	size_t hlen = slash ? (size_t)(slash - cidr) : strlen(cidr);
	uint8_t addr[16] = { 0 };
	unsigned max, plen;

	if (strcmp(cidr, "any") == 0) /* ::/0 covers both families */
		return push(e, addr, 0, allow);
	if (hlen == 0 || hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, cidr, hlen);
	host[hlen] = '\0';
	if (inet_pton(AF_INET, host, addr + 12) == 1) {
		memcpy(addr, v4mapped, 12);
		max = 32;
	} else if (inet_pton(AF_INET6, host, addr) == 1) {
		max = 128;
	} else {
		return -EINVAL;
	}
	plen = max;
	if (slash) {
		char *end;
		long v;
		if (!slash[1])
			return -EINVAL;
		v = strtol(slash + 1, &end, 10);
		if (*end || v < 0 || v > (long)max || slash[1] == '-' || slash[1] == '+')
			return -EINVAL;
		plen = (unsigned)v;
	}
	if (max == 32)
		plen += 96;
	return push(e, addr, plen, allow);
}

int tp_egress_set_default(struct tp_egress *e)
{
	return tp_egress_add(e, true, "any");
}

static bool to_v6(const struct tp_addr *a, uint8_t out[16])
{
	if (a->ss.ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)&a->ss;
		memcpy(out, v4mapped, 12);
		memcpy(out + 12, &in->sin_addr, 4);
		return true;
	}
	if (a->ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&a->ss;
		memcpy(out, &in6->sin6_addr, 16);
		return true;
	}
	return false;
}

bool tp_egress_permits(const struct tp_egress *e, const struct tp_addr *a)
{
	uint8_t ip[16];
	bool allowed = false;

	if (!to_v6(a, ip))
		return false;
	for (size_t i = 0; i < e->n; i++) {
		const struct net *n = &e->nets[i];
		if (!in_net(ip, n->addr, n->plen))
			continue;
		if (!n->allow)
			return false; /* a deny always wins */
		allowed = true;
	}
	if (!allowed)
		return false;
	for (size_t s = 0; s < sizeof(special) / sizeof(special[0]); s++) {
		if (!in_net(ip, special[s].addr, special[s].plen))
			continue;
		/* only an allowed network inside the special range lets it through */
		for (size_t i = 0; i < e->n; i++) {
			const struct net *n = &e->nets[i];
			if (n->allow && n->plen >= special[s].plen &&
			    in_net(n->addr, special[s].addr, special[s].plen) && in_net(ip, n->addr, n->plen))
				return true;
		}
		return false;
	}
	return true;
}
