/* Dialog state and in-dialog requests (RFC 3261 §12, §13.2.2.4). */
#include "ua/dialog.h"

#include "msg/uri.h"
#include "ua/request.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define RR_MAX 16

static int copy_str(char *dst, size_t cap, struct str s)
{
	return str_copy(dst, cap, s) < 0 ? -EINVAL : 0;
}

static int contact_uri(const struct sip_msg *m, char *out, size_t cap)
{
	const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_CONTACT);

	if (!h)
		return -EINVAL;
	return ua_hdr_uri(h->value, out, cap) < 0 ? -EINVAL : 0;
}

/* The Record-Route URIs of m, in order. */
static size_t record_routes(const struct sip_msg *m, struct str *uris, size_t max)
{
	size_t n = 0;

	for (const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_RECORD_ROUTE); h;
	     h = sip_msg_hdr_next(m, h)) {
		struct str cur = h->value;

		while (cur.len && n < max) {
			struct sip_nameaddr na;

			if (sip_nameaddr_parse(&na, &cur, SIP_NA_LIST, NULL) < 0)
				return n;
			uris[n++] = na.uri;
		}
	}
	return n;
}

static int set_routes(struct ua_dialog *d, const struct str *uris, size_t n, bool reverse)
{
	size_t len = 0;

	d->routes[0] = 0;
	d->first_route[0] = 0;
	d->strict = false;
	for (size_t i = 0; i < n; i++) {
		struct str u = uris[reverse ? n - 1 - i : i];
		int w = snprintf(d->routes + len, sizeof(d->routes) - len, "Route: <%.*s>\r\n",
				 STR_FMT(u));

		if (w < 0 || (size_t)w >= sizeof(d->routes) - len)
			return -EINVAL;
		len += (size_t)w;
		if (i == 0) {
			struct sip_uri p;

			if (copy_str(d->first_route, sizeof(d->first_route), u) < 0)
				return -EINVAL;
			if (sip_uri_parse(&p, u.s, u.len, NULL) == 0)
				d->strict = !p.lr;
		}
	}
	return 0;
}

int ua_dialog_uac(struct ua_dialog *d, const struct sip_msg *resp, const char *local_uri,
		  const char *local_tag, uint32_t cseq)
{
	struct str rr[RR_MAX];
	size_t n;

	memset(d, 0, sizeof(*d));
	if (!resp->to.has_tag || copy_str(d->call_id, sizeof(d->call_id), resp->call_id) ||
	    copy_str(d->remote_tag, sizeof(d->remote_tag), resp->to.tag) ||
	    copy_str(d->remote_uri, sizeof(d->remote_uri), resp->to.uri) ||
	    copy_str(d->local_tag, sizeof(d->local_tag), str_cstr(local_tag)) ||
	    copy_str(d->local_uri, sizeof(d->local_uri), str_cstr(local_uri)))
		return -EINVAL;
	/* a 1xx may lack a Contact; the 2xx then brings it */
	if (contact_uri(resp, d->remote_target, sizeof(d->remote_target)) < 0)
		copy_str(d->remote_target, sizeof(d->remote_target), resp->to.uri);
	/* §12.1.2: the route set is the Record-Route in reverse order */
	n = record_routes(resp, rr, RR_MAX);
	if (set_routes(d, rr, n, true) < 0)
		return -EINVAL;
	d->local_cseq = cseq;
	return 0;
}

int ua_dialog_uas(struct ua_dialog *d, const struct sip_msg *req, const char *local_tag)
{
	struct str rr[RR_MAX];
	size_t n;

	memset(d, 0, sizeof(*d));
	if (!req->from.has_tag || copy_str(d->call_id, sizeof(d->call_id), req->call_id) ||
	    copy_str(d->remote_tag, sizeof(d->remote_tag), req->from.tag) ||
	    copy_str(d->remote_uri, sizeof(d->remote_uri), req->from.uri) ||
	    copy_str(d->local_tag, sizeof(d->local_tag), str_cstr(local_tag)) ||
	    copy_str(d->local_uri, sizeof(d->local_uri), req->to.uri) ||
	    contact_uri(req, d->remote_target, sizeof(d->remote_target)) < 0)
		return -EINVAL;
	/* §12.1.1: the route set is the Record-Route in order */
	n = record_routes(req, rr, RR_MAX);
	if (set_routes(d, rr, n, false) < 0)
		return -EINVAL;
	d->remote_cseq = req->cseq.num;
	d->has_remote_cseq = true;
	d->local_cseq = 0;
	return 0;
}

void ua_dialog_refresh(struct ua_dialog *d, const struct sip_msg *m)
{
	char uri[UA_DLG_URI_MAX];

	if (contact_uri(m, uri, sizeof(uri)) == 0)
		memcpy(d->remote_target, uri, sizeof(uri));
}

bool ua_dialog_match(const struct ua_dialog *d, const struct sip_msg *req)
{
	return str_eq(req->call_id, str_cstr(d->call_id)) && req->to.has_tag &&
	       str_eq(req->to.tag, str_cstr(d->local_tag)) && req->from.has_tag &&
	       str_eq(req->from.tag, str_cstr(d->remote_tag));
}

int ua_dialog_check_cseq(struct ua_dialog *d, const struct sip_msg *req)
{
	if (req->method_id == SIP_METHOD_ACK || req->method_id == SIP_METHOD_CANCEL)
		return 0;
	if (d->has_remote_cseq && req->cseq.num < d->remote_cseq)
		return -ERANGE;
	d->remote_cseq = req->cseq.num;
	d->has_remote_cseq = true;
	return 0;
}

void ua_dialog_request(struct ua_dialog *d, const char *method, struct ua_req_desc *desc,
		       char *bufs, size_t cap)
{
	memset(desc, 0, sizeof(*desc));
	desc->method = method;
	desc->from_uri = d->local_uri;
	desc->from_tag = d->local_tag;
	desc->to_uri = d->remote_uri;
	desc->to_tag = d->remote_tag;
	desc->call_id = d->call_id;
	desc->cseq = ++d->local_cseq;
	if (!d->first_route[0]) {
		desc->ruri = d->remote_target;
		desc->hop = d->remote_target;
		return;
	}
	desc->hop = d->first_route;
	if (!d->strict) {
		desc->ruri = d->remote_target;
		desc->routes = d->routes;
		return;
	}
	/* §12.2.1.1 strict routing: the first route is the Request-URI, the
	 * rest of the set and then the remote target are the Route headers */
	desc->ruri = d->first_route;
	{
		const char *rest = strstr(d->routes, "\r\n");

		snprintf(bufs, cap, "%sRoute: <%s>\r\n", rest ? rest + 2 : "", d->remote_target);
		desc->routes = bufs;
	}
}

int ua_dialog_ack(const struct ua_dialog *d, struct ua *u, uint32_t cseq, const char *ctype,
		  const char *body, char *out, size_t cap)
{
	char branch[UA_BRANCH_LEN + 1];
	char bufs[UA_DLG_ROUTES_MAX + UA_DLG_URI_MAX];
	struct ua_dialog tmp = *d;
	struct ua_req_desc desc;

	if (ua_branch_new(branch) < 0)
		return -EIO;
	ua_dialog_request(&tmp, "ACK", &desc, bufs, sizeof(bufs));
	struct ua_request q = {
		.method = STR_LIT("ACK"),
		.ruri = str_cstr(desc.ruri),
		.proto = TP_UDP,
		.sent_by = *ua_local(u),
		.branch = str_cstr(branch),
		.from_uri = str_cstr(d->local_uri),
		.from_tag = str_cstr(d->local_tag),
		.to_uri = str_cstr(d->remote_uri),
		.to_tag = str_cstr(d->remote_tag),
		.call_id = str_cstr(d->call_id),
		.cseq = cseq,
		.contact_uri = str_cstr(ua_contact(u)),
		.extra = str_cstr(desc.routes),
		.content_type = str_cstr(ctype),
		.body = str_cstr(body),
	};
	return ua_request_build(out, cap, &q);
}

void ua_dialog_hop_addr(const struct ua_dialog *d, const struct tp_addr *fallback,
			struct tp_addr *out)
{
	const char *hop = d->first_route[0] ? d->first_route : d->remote_target;
	struct sip_uri p;

	*out = *fallback;
	if (sip_uri_parse(&p, hop, strlen(hop), NULL) < 0)
		return;
	if (p.maddr.len || (p.host_type != SIP_HOST_IPV4 && p.host_type != SIP_HOST_IPV6))
		return;
	if (tp_addr_from_numeric(out, p.host, p.has_port ? p.port : 5060) < 0)
		*out = *fallback;
}
