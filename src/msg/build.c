/* Responses built from a request (RFC 3261 §8.2.6). */
#include "msg/build.h"

#include "msg/scan.h"

#include <errno.h>
#include <string.h>

struct out {
	char *p;
	size_t len, cap;
	bool full;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (n == 0)
		return;
	if (o->full || n > o->cap - o->len) {
		o->full = true;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

static void put_str(struct out *o, struct str s)
{
	put(o, s.s, s.len);
}

static void put_cstr(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void put_uint(struct out *o, unsigned v)
{
	char b[10];

	put(o, b, str_fmt_u32(b, v));
}

/* Copy the top Via line, rewriting received/rport of its first via-parm
 * (§18.2.1, RFC 3581 §4). Other params and other via-parms are untouched. */
static void put_top_via(struct out *o, const struct sip_msg *m, const struct sip_hdr *h,
			const struct sip_resp_opts *opt)
{
	const struct sip_via *v = &m->via1;
	bool add_received = opt->received.len > 0;
	bool add_rport = opt->rport && v->has_rport;
	const char *p, *end;
	struct str cur, name, value;
	const char *why;

	if (!m->via1_ok || (!add_received && !add_rport) || v->raw.len == 0) {
		put_str(o, h->line);
		return;
	}
	/* everything up to the end of sent-by of the first via-parm */
	end = v->host.s + v->host.len;
	cur = str_make(end, (size_t)(v->raw.s + v->raw.len - end));
	sc_skip_lws(&cur);
	if (cur.len && cur.s[0] == ':') {
		sc_advance(&cur, 1);
		sc_skip_lws(&cur);
		while (cur.len && sc_digit((unsigned char)cur.s[0]))
			sc_advance(&cur, 1);
		end = cur.s;
	}
	p = h->line.s;
	put(o, p, (size_t)(end - p));
	/* the params, dropping the ones we rewrite, re-written as name[=value] */
	cur = v->params;
	while (cur.len) {
		if (sip_param_next(&cur, &name, &value, &why) != 0)
			break;
		if ((add_received && str_caseeq_lit(name, "received")) ||
		    (add_rport && str_caseeq_lit(name, "rport")))
			continue;
		put(o, ";", 1);
		put_str(o, name);
		if (value.len) {
			put(o, "=", 1);
			put_str(o, value);
		}
	}
	if (add_received) {
		put_cstr(o, ";received=");
		put_str(o, opt->received);
	}
	if (add_rport) {
		put_cstr(o, ";rport=");
		put_uint(o, opt->rport);
	}
	/* the rest of the line: more via-parms and the CRLF */
	p = v->raw.s + v->raw.len;
	put(o, p, (size_t)(h->line.s + h->line.len - p));
}

static void put_to(struct out *o, const struct sip_msg *m, const struct sip_hdr *h, uint16_t code,
		   const struct sip_resp_opts *opt)
{
	const char *vend = h->value.s + h->value.len;

	/* a To that did not parse may hold a tag we cannot see: add none */
	if (code <= 100 || opt->to_tag.len == 0 || m->to.has_tag || m->to.raw.len == 0) {
		put_str(o, h->line);
		return;
	}
	put(o, h->line.s, (size_t)(vend - h->line.s));
	put_cstr(o, ";tag=");
	put_str(o, opt->to_tag);
	put(o, vend, (size_t)(h->line.s + h->line.len - vend));
}

int sip_resp_build(char *buf, size_t cap, const struct sip_msg *req, uint16_t code,
		   struct str reason, const struct sip_resp_opts *opt)
{
	static const struct sip_resp_opts none;
	struct out o = { buf, 0, cap, false };
	const struct sip_hdr *h;

	if (!opt)
		opt = &none;
	put_cstr(&o, "SIP/2.0 ");
	put_uint(&o, code);
	put(&o, " ", 1);
	put_str(&o, reason);
	put(&o, "\r\n", 2);

	/* §8.2.6.2: Via values in order, From, Call-ID, CSeq copied; To plus tag */
	for (h = sip_msg_hdr(req, SIP_HDR_VIA); h; h = sip_msg_hdr_next(req, h)) {
		if (h == sip_msg_hdr(req, SIP_HDR_VIA))
			put_top_via(&o, req, h, opt);
		else
			put_str(&o, h->line);
	}
	if ((h = sip_msg_hdr(req, SIP_HDR_FROM)))
		put_str(&o, h->line);
	if ((h = sip_msg_hdr(req, SIP_HDR_TO)))
		put_to(&o, req, h, code, opt);
	if ((h = sip_msg_hdr(req, SIP_HDR_CALL_ID)))
		put_str(&o, h->line);
	if ((h = sip_msg_hdr(req, SIP_HDR_CSEQ)))
		put_str(&o, h->line);
	if (opt->server.len) {
		put_cstr(&o, "Server: ");
		put_str(&o, opt->server);
		put(&o, "\r\n", 2);
	}
	put_str(&o, opt->extra);
	if (opt->body.len) {
		put_cstr(&o, "Content-Type: ");
		put_str(&o, opt->content_type);
		put(&o, "\r\n", 2);
	}
	put_cstr(&o, "Content-Length: ");
	put_uint(&o, (unsigned)opt->body.len);
	put(&o, "\r\n\r\n", 4);
	put_str(&o, opt->body);
	if (o.full || o.len > INT32_MAX)
		return -ENOSPC;
	return (int)o.len;
}

const char *sip_reason_phrase(uint16_t code)
{
	switch (code) {
	case 100: return "Trying";
	case 180: return "Ringing";
	case 181: return "Call Is Being Forwarded";
	case 182: return "Queued";
	case 183: return "Session Progress";
	case 200: return "OK";
	case 202: return "Accepted";
	case 300: return "Multiple Choices";
	case 301: return "Moved Permanently";
	case 302: return "Moved Temporarily";
	case 305: return "Use Proxy";
	case 380: return "Alternative Service";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 402: return "Payment Required";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 407: return "Proxy Authentication Required";
	case 408: return "Request Timeout";
	case 410: return "Gone";
	case 413: return "Request Entity Too Large";
	case 414: return "Request-URI Too Long";
	case 415: return "Unsupported Media Type";
	case 416: return "Unsupported URI Scheme";
	case 420: return "Bad Extension";
	case 421: return "Extension Required";
	case 423: return "Interval Too Brief";
	case 430: return "Flow Failed"; /* RFC 5626 */
	case 480: return "Temporarily Unavailable";
	case 481: return "Call/Transaction Does Not Exist";
	case 482: return "Loop Detected";
	case 483: return "Too Many Hops";
	case 484: return "Address Incomplete";
	case 485: return "Ambiguous";
	case 486: return "Busy Here";
	case 487: return "Request Terminated";
	case 488: return "Not Acceptable Here";
	case 491: return "Request Pending";
	case 493: return "Undecipherable";
	case 500: return "Server Internal Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Server Time-out";
	case 505: return "Version Not Supported";
	case 513: return "Message Too Large";
	case 600: return "Busy Everywhere";
	case 603: return "Decline";
	case 604: return "Does Not Exist Anywhere";
	case 606: return "Not Acceptable";
	default: return "";
	}
}
