/* SDP writer: one session with one audio stream (RFC 4566, RFC 3264 §5). */
#include "sdp/sdp_int.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define SDP_MAX_USER 64

struct out {
	char *buf;
	size_t cap, len;
	bool full;
};

__attribute__((format(printf, 2, 3))) static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->cap - o->len) {
		o->full = true;
		return;
	}
	o->len += (size_t)n;
}

static bool user_ok(const char *u)
{
	size_t n = strlen(u);

	if (!n || n > SDP_MAX_USER)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)u[i] <= 0x20 || (unsigned char)u[i] >= 0x7F)
			return false;
	return true;
}

static const char *dir_name(enum sdp_dir d)
{
	switch (d) {
	case SDP_SENDONLY:
		return "sendonly";
	case SDP_RECVONLY:
		return "recvonly";
	case SDP_INACTIVE:
		return "inactive";
	case SDP_SENDRECV:
		break;
	}
	return "sendrecv";
}

int sdp_write(char *buf, size_t cap, const char *user, uint64_t sess_id, uint64_t sess_version,
	      const struct tp_addr *addr, const uint8_t *pts, unsigned npts, uint8_t te_pt,
	      enum sdp_dir dir)
{
	struct out o = { buf, cap, 0, false };
	char host[64];
	const char *ip;
	bool te_listed = false;

	if (!user)
		user = "-";
	if (!buf || !addr || !pts || !npts || npts > 128 || te_pt >= 128 || !user_ok(user) ||
	    (unsigned)dir > SDP_INACTIVE)
		return -EINVAL;
	if (addr->ss.ss_family == AF_INET)
		ip = "IP4";
	else if (addr->ss.ss_family == AF_INET6)
		ip = "IP6";
	else
		return -EINVAL;
	for (unsigned i = 0; i < npts; i++) {
		if (pts[i] >= 128)
			return -EINVAL;
		if (te_pt && pts[i] == te_pt)
			te_listed = true;
	}
	if (!cap)
		return -ENOSPC;
	tp_addr_host_fmt(addr, host, sizeof(host));

	put(&o, "v=0\r\n");
	put(&o, "o=%s %llu %llu IN %s %s\r\n", user, (unsigned long long)sess_id,
	    (unsigned long long)sess_version, ip, host);
	put(&o, "s=-\r\n");
	put(&o, "c=IN %s %s\r\n", ip, host);
	put(&o, "t=0 0\r\n");
	put(&o, "m=audio %u RTP/AVP", (unsigned)tp_addr_port(addr));
	for (unsigned i = 0; i < npts; i++)
		put(&o, " %u", pts[i]);
	if (te_pt && !te_listed)
		put(&o, " %u", te_pt);
	put(&o, "\r\n");
	for (unsigned i = 0; i < npts; i++) {
		const struct sdp_static_pt *st = sdp_static_pt(pts[i]);

		if (pts[i] == te_pt && te_pt)
			continue;
		if (st && st->channels > 1)
			put(&o, "a=rtpmap:%u %s/%u/%u\r\n", pts[i], st->name, (unsigned)st->rate,
			    st->channels);
		else if (st)
			put(&o, "a=rtpmap:%u %s/%u\r\n", pts[i], st->name, (unsigned)st->rate);
	}
	if (te_pt) {
		put(&o, "a=rtpmap:%u telephone-event/8000\r\n", te_pt);
		put(&o, "a=fmtp:%u 0-16\r\n", te_pt);
	}
	put(&o, "a=ptime:20\r\n");
	put(&o, "a=%s\r\n", dir_name(dir));
	if (o.full)
		return -ENOSPC;
	return (int)o.len;
}
