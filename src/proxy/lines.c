/* Header lines a proxy adds when forwarding (RFC 3261 §16.6 steps 4 and 8,
 * RFC 3581, RFC 3327 §5.3). */
#include "proxy/route_priv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

/* These lines are written once per forwarded request: plain appends into a
 * bounded buffer rather than snprintf, which was 2 % of a proxied call's
 * CPU (bench/proxy). */
struct line {
	char *p;
	size_t cap, n;
	bool over;
};

static void put_mem(struct line *l, const char *s, size_t len)
{
	if (l->over || len >= l->cap - l->n) {
		l->over = true;
		return;
	}
	memcpy(l->p + l->n, s, len);
	l->n += len;
}

static void put_cstr(struct line *l, const char *s)
{
	put_mem(l, s, strlen(s));
}

static void put_uint(struct line *l, unsigned v)
{
	char d[10];

	put_mem(l, d, str_fmt_u32(d, v));
}

/* "192.0.2.1" or "[2001:db8::1]" (a host as written in a URI or sent-by). */
static int put_host(struct line *l, const struct tp_addr *a)
{
	char h[INET6_ADDRSTRLEN];
	bool v6 = a->ss.ss_family == AF_INET6;

	if (!v6 && a->ss.ss_family != AF_INET)
		return -EINVAL;
	if (v6)
		put_mem(l, "[", 1);
	put_cstr(l, tp_addr_host_fmt(a, h, sizeof(h)));
	if (v6)
		put_mem(l, "]", 1);
	return 0;
}

/* The length written (NUL-terminated), or -ENOSPC. */
static int finish(struct line *l)
{
	if (l->over || l->n >= l->cap || l->n > INT32_MAX)
		return -ENOSPC;
	l->p[l->n] = '\0';
	return (int)l->n;
}

int pxy_record_route_line(char *out, size_t cap, const struct tp_addr *addr,
			  enum tp_proto proto, bool sips)
{
	struct line l = { out, cap, 0, cap == 0 };

	put_cstr(&l, sips ? "Record-Route: <sips:" : "Record-Route: <sip:");
	if (put_host(&l, addr) != 0)
		return -EINVAL;
	put_mem(&l, ":", 1);
	put_uint(&l, tp_addr_port(addr));
	if (proto == TP_TCP)
		put_cstr(&l, ";transport=tcp");
	else if (proto == TP_TLS && !sips)
		put_cstr(&l, ";transport=tls"); /* a sips URI says TLS by itself */
	put_cstr(&l, ";lr>\r\n");
	return finish(&l);
}

int pxy_via_line(char *out, size_t cap, const struct tp_addr *addr, enum tp_proto proto,
		 struct str branch)
{
	struct line l = { out, cap, 0, cap == 0 };

	put_cstr(&l, "Via: SIP/2.0/");
	put_cstr(&l, tp_proto_name(proto));
	put_mem(&l, " ", 1);
	if (put_host(&l, addr) != 0)
		return -EINVAL;
	put_mem(&l, ":", 1);
	put_uint(&l, tp_addr_port(addr));
	put_cstr(&l, ";branch=");
	put_mem(&l, branch.s, branch.len);
	put_cstr(&l, ";rport\r\n");
	return finish(&l);
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
