/* Route processing of a proxy (RFC 3261 §16.4, §16.12; RFC 5658 double
 * Record-Route): which Route values are ours, the strict-router case, and
 * the splices that remove them. */
#include "proxy/route_priv.h"

#include <errno.h>
#include <stdio.h>

/* Splices Route removal may use: the caller adds Via, Record-Route,
 * Max-Forwards and Request-URI edits to the same editor. */
#define ROUTE_SPLICE_MAX 6

/* One pass over every Route value (all lines, all values of a line). */
struct rt_scan {
	unsigned n;          /* values */
	unsigned lead;       /* leading values that indicate this proxy */
	struct str last_uri; /* URI of the last value (without <>) */
};

/* Parse the next value of one line; the cursor starts at h->value. */
static int rt_value(struct str *cur, struct sip_nameaddr *na, struct sip_uri *u)
{
	if (sip_nameaddr_parse(na, cur, SIP_NA_LIST, NULL) != 0)
		return -EINVAL;
	if (u && sip_uri_parse(u, na->uri.s, na->uri.len, NULL) != 0)
		return -EINVAL;
	return 0;
}

static int rt_scan(const struct pxy_self *s, const struct sip_msg *m, struct rt_scan *r)
{
	*r = (struct rt_scan){ 0 };
	for (const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_ROUTE); h; h = sip_msg_hdr_next(m, h)) {
		struct str cur = h->value;

		/* an empty line is a bad Route too: parse at least once */
		do {
			struct sip_nameaddr na;
			struct sip_uri u;

			if (rt_value(&cur, &na, &u) != 0)
				return -EINVAL;
			if (r->lead == r->n && pxy_uri_is_self(s, &u))
				r->lead++;
			r->n++;
			r->last_uri = na.uri;
		} while (cur.len);
	}
	return 0;
}

/* §16.4: the Request-URI is a value we put into a Record-Route, which a
 * strict router before us moved there. Ours carry lr and no user part
 * (pxy_record_route_line); requiring both keeps a request for one of our
 * domains ("REGISTER sip:example.com" with a pre-loaded Route) out of it. */
static bool ruri_is_our_rr(const struct pxy_self *s, const struct sip_msg *m)
{
	struct sip_uri u;

	if (!m->ruri.len || sip_uri_parse(&u, m->ruri.s, m->ruri.len, NULL) != 0)
		return false;
	return u.user.len == 0 && !u.has_password && u.lr && pxy_uri_is_self(s, &u);
}

/* A Route value's URI as a Request-URI: without its headers, which a
 * Request-URI may not have (§19.1.1 table 1; §16.6 step 2 removes them).
 * They come last, so a shorter slice does it. */
static struct str as_request_uri(struct str uri)
{
	struct sip_uri u;

	if (sip_uri_parse(&u, uri.s, uri.len, NULL) == 0 &&
	    (u.scheme == SIP_URI_SIP || u.scheme == SIP_URI_SIPS) && u.headers.s)
		uri.len = (size_t)(u.headers.s - 1 - uri.s); /* before the '?' */
	return uri;
}

/* What §16.4 removes: the first k values, and the last one when strict. */
struct rt_plan {
	unsigned n, k;
	bool strict;
};

static int rt_plan(const struct pxy_self *s, const struct sip_msg *m, struct rt_plan *p,
		   struct str *last_uri)
{
	struct rt_scan r;
	int rc = rt_scan(s, m, &r);

	if (rc != 0)
		return rc;
	p->n = r.n;
	p->strict = r.n > 0 && ruri_is_our_rr(s, m);
	p->k = r.lead < r.n - p->strict ? r.lead : r.n - p->strict;
	if (last_uri)
		*last_uri = r.last_uri;
	return 0;
}

struct splices {
	unsigned n;
	struct {
		const char *at;
		size_t del;
	} op[ROUTE_SPLICE_MAX];
};

static int add_del(struct splices *sp, const char *at, size_t len)
{
	if (sp->n >= ROUTE_SPLICE_MAX)
		return -ENOSPC;
	sp->op[sp->n].at = at;
	sp->op[sp->n++].del = len;
	return 0;
}

/* The splices of one plan. Per line, the removed values are a prefix (the
 * first k overall) and/or its last value (the last overall): a whole line
 * goes with its CRLF; a prefix goes up to the start of the first value kept
 * (taking the commas and LWS); the last value goes from the end of the one
 * before it (taking ", value"). What is left is a valid list. */
static int rt_splices(const struct sip_msg *m, const struct rt_plan *p, struct splices *sp)
{
	unsigned g0 = 0; /* index of a line's first value among all values */

	sp->n = 0;
	for (const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_ROUTE); h; h = sip_msg_hdr_next(m, h)) {
		struct str cur = h->value;
		unsigned c = 0, pre = p->k > g0 ? p->k - g0 : 0;
		const char *keep = NULL, *end = NULL, *end_before_last = NULL;
		bool last;
		int rc;

		if (g0 >= p->k && !p->strict)
			break; /* nothing further down is removed */
		do {
			struct sip_nameaddr na;

			if (rt_value(&cur, &na, NULL) != 0)
				return -EINVAL;
			if (c == pre)
				keep = na.raw.s;
			end_before_last = end;
			end = na.raw.s + na.raw.len;
			c++;
		} while (cur.len);
		if (pre > c)
			pre = c;
		last = p->strict && g0 + c == p->n;
		g0 += c;
		if (pre + last >= c) {
			rc = add_del(sp, h->line.s, h->line.len);
		} else {
			rc = 0;
			if (pre)
				rc = add_del(sp, h->value.s, (size_t)(keep - h->value.s));
			if (rc == 0 && last)
				rc = add_del(sp, end_before_last,
					     (size_t)(h->value.s + h->value.len - end_before_last));
		}
		if (rc != 0)
			return rc;
	}
	return 0;
}

int pxy_preprocess(const struct pxy_self *s, const struct sip_msg *m, struct sip_edit *e,
		   struct str *ruri, bool *routed)
{
	struct rt_plan p;
	struct splices sp;
	struct str last_uri;
	int rc;

	if (!m->is_request || e->msg != m)
		return -EINVAL;
	rc = rt_plan(s, m, &p, &last_uri);
	if (rc != 0)
		return rc;
	rc = rt_splices(m, &p, &sp);
	if (rc != 0)
		return rc;
	if (sp.n > SIP_EDIT_MAX - e->n)
		return -ENOSPC;
	for (unsigned i = 0; i < sp.n; i++) {
		rc = sip_edit_splice(e, sp.op[i].at, sp.op[i].del, STR_NULL);
		if (rc != 0)
			return rc; /* cannot happen: in the message, room checked */
	}
	*ruri = p.strict ? as_request_uri(last_uri) : m->ruri;
	*routed = p.n - p.strict - p.k > 0;
	return 0;
}

int pxy_route_to_strict(const struct pxy_self *s, const struct sip_msg *m, struct sip_edit *e,
			struct str target, char *line, size_t cap, struct str *ruri)
{
	const struct sip_hdr *last = NULL;
	struct str hop = STR_NULL;
	struct rt_plan p;
	struct splices sp;
	unsigned g = 0;
	int rc, n;

	if (!m->is_request || e->msg != m)
		return -EINVAL;
	rc = rt_plan(s, m, &p, NULL);
	if (rc != 0)
		return rc;
	if (p.n - p.strict - p.k == 0)
		return -ENOENT;
	/* the strict next hop: the first value left, as the Request-URI */
	for (const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_ROUTE); h; h = sip_msg_hdr_next(m, h)) {
		struct str cur = h->value;

		last = h;
		do {
			struct sip_nameaddr na;

			if (rt_value(&cur, &na, NULL) != 0)
				return -EINVAL;
			if (g++ == p.k)
				hop = as_request_uri(na.uri);
		} while (cur.len);
	}
	p.k++; /* and it leaves the Route set */
	rc = rt_splices(m, &p, &sp);
	if (rc != 0)
		return rc;
	n = snprintf(line, cap, "Route: <%.*s>\r\n", STR_FMT(target));
	if (n < 0 || (size_t)n >= cap)
		return -ENOSPC;
	if (sp.n + 1 > SIP_EDIT_MAX - e->n)
		return -ENOSPC;
	for (unsigned i = 0; i < sp.n; i++) {
		rc = sip_edit_splice(e, sp.op[i].at, sp.op[i].del, STR_NULL);
		if (rc != 0)
			return rc;
	}
	/* the old target as the last value: a line after the last Route line
	 * (after its removal, when it goes) */
	rc = sip_edit_splice(e, last->line.s + last->line.len, 0, str_make(line, (size_t)n));
	if (rc == 0)
		*ruri = hop;
	return rc;
}

int pxy_top_route(const struct pxy_self *s, const struct sip_msg *m, struct sip_uri *hop)
{
	struct rt_plan p;
	unsigned g = 0;
	int rc = rt_plan(s, m, &p, NULL);

	if (rc != 0)
		return rc;
	if (p.n - p.strict - p.k == 0)
		return -ENOENT;
	for (const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_ROUTE); h; h = sip_msg_hdr_next(m, h)) {
		struct str cur = h->value;

		do {
			struct sip_nameaddr na;

			if (rt_value(&cur, &na, hop) != 0)
				return -EINVAL;
			if (g++ == p.k)
				return 0;
		} while (cur.len);
	}
	return -ENOENT;
}

int pxy_hop_from_uri(const struct sip_uri *u, struct pxy_hop *hop)
{
	bool sips;

	if (!u || (u->scheme != SIP_URI_SIP && u->scheme != SIP_URI_SIPS))
		return -EINVAL;
	*hop = (struct pxy_hop){ .uri = *u };
	sips = u->scheme == SIP_URI_SIPS;
	if (u->maddr.len) {
		/* RFC 3263 §4: maddr is the TARGET */
		struct str cur = u->maddr;
		uint16_t port;
		bool has_port;

		if (sip_hostport_parse(&cur, &hop->uri.host, &hop->uri.host_type, &port, &has_port,
				       NULL) != 0 || cur.len || has_port)
			return -EINVAL;
	}
	hop->numeric = hop->uri.host_type == SIP_HOST_IPV4 || hop->uri.host_type == SIP_HOST_IPV6;
	hop->port = u->has_port ? u->port : 0;
	if (u->transport.len) {
		/* RFC 3263 §4.1: an explicit transport decides */
		if (str_caseeq_lit(u->transport, "udp")) {
			if (sips)
				return -EINVAL; /* no TLS over UDP */
			hop->proto = TP_UDP;
		} else if (str_caseeq_lit(u->transport, "tcp")) {
			hop->proto = sips ? TP_TLS : TP_TCP;
		} else if (str_caseeq_lit(u->transport, "tls")) {
			hop->proto = TP_TLS; /* deprecated by RFC 5630, still seen */
		} else {
			return -EPROTONOSUPPORT; /* sctp, ws, wss, ... */
		}
		hop->proto_set = true;
	} else if (sips) {
		hop->proto = TP_TLS;
		hop->proto_set = true;
	} else if (hop->numeric || u->has_port) {
		/* RFC 3263 §4.1: a numeric target or an explicit port means UDP
		 * for a SIP URI (no NAPTR/SRV) */
		hop->proto = TP_UDP;
		hop->proto_set = true;
	}
	return 0;
}
