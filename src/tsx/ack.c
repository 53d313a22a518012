/* ACK for a non-2xx final response, built by the client INVITE transaction
 * (RFC 3261 §17.1.1.3). The ACK for a 2xx is the TU's (§13.2.2.4). */
#include "tsx/ack.h"
#include "tsx/put.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int tsx_ack_build(char *out, size_t cap, const struct sip_msg *invite, const struct sip_msg *resp)
{
	const struct sip_hdr *from = sip_msg_hdr(invite, SIP_HDR_FROM);
	const struct sip_hdr *to = sip_msg_hdr(resp, SIP_HDR_TO);
	struct tsx_put o = { out, 0, out ? cap : 0 };
	char num[16];
	int n;

	if (!invite->is_request || resp->is_request || !from || !to || invite->ruri.len == 0 ||
	    invite->via1.raw.len == 0 || invite->call_id.len == 0)
		return -EINVAL;
	tsx_put_lit(&o, "ACK ");
	tsx_put_str(&o, invite->ruri);
	tsx_put_lit(&o, " SIP/2.0\r\n");
	/* only the top Via: the ACK goes hop by hop like the INVITE did */
	tsx_put_lit(&o, "Via: ");
	tsx_put_str(&o, invite->via1.raw);
	tsx_put_lit(&o, "\r\nMax-Forwards: 70\r\n");
	/* the Route set of the INVITE, so the ACK takes the INVITE's path */
	for (const struct sip_hdr *h = sip_msg_hdr(invite, SIP_HDR_ROUTE); h;
	     h = sip_msg_hdr_next(invite, h)) {
		tsx_put_lit(&o, "Route: ");
		tsx_put_str(&o, h->value);
		tsx_put_lit(&o, "\r\n");
	}
	tsx_put_lit(&o, "From: ");
	tsx_put_str(&o, from->value);
	/* To of the response: it carries the tag the UAS chose */
	tsx_put_lit(&o, "\r\nTo: ");
	tsx_put_str(&o, to->value);
	tsx_put_lit(&o, "\r\nCall-ID: ");
	tsx_put_str(&o, invite->call_id);
	n = snprintf(num, sizeof(num), "%u", (unsigned)invite->cseq.num);
	tsx_put_lit(&o, "\r\nCSeq: ");
	tsx_put(&o, num, (size_t)n);
	tsx_put_lit(&o, " ACK\r\nContent-Length: 0\r\n\r\n");
	return o.len > 0x7fffffff ? -EINVAL : (int)o.len;
}
