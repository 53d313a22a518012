/* CANCEL (RFC 3261 §9.1): "the Request-URI, Call-ID, To, the numeric part
 * of CSeq, and From header fields in the CANCEL request MUST be identical to
 * those in the request being cancelled, including tags", one Via equal to
 * the request's top Via, and the same Route set. */
#include "tsx/cancel.h"
#include "tsx/put.h"

#include <errno.h>
#include <stdio.h>

int tsx_cancel_build(char *out, size_t cap, const struct sip_msg *invite)
{
	const struct sip_hdr *from = sip_msg_hdr(invite, SIP_HDR_FROM);
	const struct sip_hdr *to = sip_msg_hdr(invite, SIP_HDR_TO);
	struct tsx_put o = { out, 0, out ? cap : 0 };
	char num[16];
	int n;

	if (!invite->is_request || invite->method_id != SIP_METHOD_INVITE || !from || !to ||
	    invite->ruri.len == 0 || invite->via1.raw.len == 0 || invite->call_id.len == 0)
		return -EINVAL;
	tsx_put_lit(&o, "CANCEL ");
	tsx_put_str(&o, invite->ruri);
	tsx_put_lit(&o, " SIP/2.0\r\nVia: ");
	tsx_put_str(&o, invite->via1.raw);
	tsx_put_lit(&o, "\r\nMax-Forwards: 70\r\n");
	for (const struct sip_hdr *h = sip_msg_hdr(invite, SIP_HDR_ROUTE); h;
	     h = sip_msg_hdr_next(invite, h)) {
		tsx_put_lit(&o, "Route: ");
		tsx_put_str(&o, h->value);
		tsx_put_lit(&o, "\r\n");
	}
	tsx_put_lit(&o, "From: ");
	tsx_put_str(&o, from->value);
	tsx_put_lit(&o, "\r\nTo: ");
	tsx_put_str(&o, to->value);
	tsx_put_lit(&o, "\r\nCall-ID: ");
	tsx_put_str(&o, invite->call_id);
	n = snprintf(num, sizeof(num), "%u", (unsigned)invite->cseq.num);
	tsx_put_lit(&o, "\r\nCSeq: ");
	tsx_put(&o, num, (size_t)n);
	tsx_put_lit(&o, " CANCEL\r\nContent-Length: 0\r\n\r\n");
	return o.len > 0x7fffffff ? -EINVAL : (int)o.len;
}
