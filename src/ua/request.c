/* Building requests outside a dialog (RFC 3261 §8.1.1). */
#include "ua/request.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

struct wbuf {
	char *p;
	size_t cap, len;
	bool full;
};

static void __attribute__((format(printf, 2, 3))) put(struct wbuf *w, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (w->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(w->p + w->len, w->cap - w->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= w->cap - w->len)
		w->full = true;
	else
		w->len += (size_t)n;
}

static bool has_crlf(struct str s)
{
	return str_chr(s, '\r') >= 0 || str_chr(s, '\n') >= 0;
}

static bool bad_field(struct str s, bool required)
{
	return (required && s.len == 0) || has_crlf(s);
}

const char *ua_addr_host(const struct tp_addr *a, char *buf, size_t cap)
{
	char h[64];

	tp_addr_host_fmt(a, h, sizeof(h));
	/* RFC 3261 §25.1: an IPv6 reference is bracketed in a host */
	snprintf(buf, cap, a->ss.ss_family == AF_INET6 ? "[%s]" : "%s", h);
	return buf;
}

static const char *via_proto(enum tp_proto p)
{
	return tp_proto_name(p); /* "UDP", "TCP", "TLS" (§20.42) */
}

int ua_request_build(char *out, size_t cap, const struct ua_request *r)
{
	struct wbuf w = { .p = out, .cap = cap };
	struct str to = r->to_uri.len ? r->to_uri : r->ruri;
	bool sips = r->ruri.len >= 5 && strncasecmp(r->ruri.s, "sips:", 5) == 0;
	char host[80], hostport[80];

	if (bad_field(r->method, true) || bad_field(r->ruri, true) ||
	    bad_field(r->branch, true) || bad_field(r->from_tag, true) ||
	    bad_field(r->call_id, true) || bad_field(r->from_uri, false) ||
	    bad_field(r->to_uri, false) || bad_field(r->to_tag, false) ||
	    bad_field(r->contact_uri, false) || bad_field(r->content_type, false) ||
	    (r->body.len && !r->content_type.len) || r->sent_by.len == 0)
		return -EINVAL;
	if (cap == 0)
		return -ENOSPC;
	ua_addr_host(&r->sent_by, host, sizeof(host));
	tp_addr_fmt(&r->sent_by, hostport, sizeof(hostport));

	put(&w, "%.*s %.*s SIP/2.0\r\n", STR_FMT(r->method), STR_FMT(r->ruri));
	/* §8.1.1.7 branch, §18.1.1 sent-by, RFC 3581 §3 rport */
	put(&w, "Via: SIP/2.0/%s %s;branch=%.*s;rport\r\n", via_proto(r->proto), hostport,
	    STR_FMT(r->branch));
	put(&w, "Max-Forwards: %d\r\n", UA_MAX_FORWARDS);
	if (r->from_uri.len)
		put(&w, "From: <%.*s>;tag=%.*s\r\n", STR_FMT(r->from_uri), STR_FMT(r->from_tag));
	else
		put(&w, "From: <%s:siphon@%s>;tag=%.*s\r\n", sips ? "sips" : "sip", host,
		    STR_FMT(r->from_tag));
	put(&w, "To: <%.*s>", STR_FMT(to));
	if (r->to_tag.len)
		put(&w, ";tag=%.*s", STR_FMT(r->to_tag));
	put(&w, "\r\n");
	put(&w, "Call-ID: %.*s\r\n", STR_FMT(r->call_id));
	put(&w, "CSeq: %u %.*s\r\n", (unsigned)r->cseq, STR_FMT(r->method));
	/* §8.1.1.8: sips Request-URI, sips Contact; else say the transport */
	if (r->contact_uri.len)
		put(&w, "Contact: <%.*s>\r\n", STR_FMT(r->contact_uri));
	else if (sips)
		put(&w, "Contact: <sips:siphon@%s>\r\n", hostport);
	else if (r->proto == TP_UDP)
		put(&w, "Contact: <sip:siphon@%s>\r\n", hostport);
	else
		put(&w, "Contact: <sip:siphon@%s;transport=%s>\r\n", hostport,
		    r->proto == TP_TCP ? "tcp" : "tls");
	if (r->extra.len)
		put(&w, "%.*s", STR_FMT(r->extra));
	put(&w, "User-Agent: %s\r\n", UA_USER_AGENT);
	if (r->body.len)
		put(&w, "Content-Type: %.*s\r\n", STR_FMT(r->content_type));
	put(&w, "Content-Length: %zu\r\n\r\n", r->body.len);
	if (r->body.len && !w.full) {
		if (r->body.len > w.cap - w.len)
			w.full = true;
		else {
			memcpy(w.p + w.len, r->body.s, r->body.len);
			w.len += r->body.len;
		}
	}
	if (w.full)
		return -ENOSPC;
	return (int)w.len;
}
