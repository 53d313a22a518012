/* ACK for a non-2xx final response, built by the client INVITE transaction
 * (RFC 3261 §17.1.1.3). The ACK for a 2xx is the TU's (§13.2.2.4). */
#include "tsx/ack.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

struct out {
	char *p;
	size_t len, cap;
};

/* Counts always, writes while it fits. */
static void put(struct out *o, const char *s, size_t n)
{
	if (o->len + n <= o->cap)
		memcpy(o->p + o->len, s, n);
	o->len += n;
}

static void put_str(struct out *o, struct str s)
{
	if (s.len)
		put(o, s.s, s.len);
}

static void put_lit(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

int tsx_ack_build(char *out, size_t cap, const struct sip_msg *invite, const struct sip_msg *resp)
{
	const struct sip_hdr *from = sip_msg_hdr(invite, SIP_HDR_FROM);
	const struct sip_hdr *to = sip_msg_hdr(resp, SIP_HDR_TO);
	struct out o = { out, 0, out ? cap : 0 };
	char num[16];
	int n;

	if (!invite->is_request || resp->is_request || !from || !to || invite->ruri.len == 0 ||
	    invite->via1.raw.len == 0 || invite->call_id.len == 0)
		return -EINVAL;
	put_lit(&o, "ACK ");
	put_str(&o, invite->ruri);
	put_lit(&o, " SIP/2.0\r\n");
	/* only the top Via: the ACK goes hop by hop like the INVITE did */
	put_lit(&o, "Via: ");
	put_str(&o, invite->via1.raw);
	put_lit(&o, "\r\nMax-Forwards: 70\r\n");
	/* the Route set of the INVITE, so the ACK takes the INVITE's path */
	for (const struct sip_hdr *h = sip_msg_hdr(invite, SIP_HDR_ROUTE); h;
	     h = sip_msg_hdr_next(invite, h)) {
		put_lit(&o, "Route: ");
		put_str(&o, h->value);
		put_lit(&o, "\r\n");
	}
	put_lit(&o, "From: ");
	put_str(&o, from->value);
	/* To of the response: it carries the tag the UAS chose */
	put_lit(&o, "\r\nTo: ");
	put_str(&o, to->value);
	put_lit(&o, "\r\nCall-ID: ");
	put_str(&o, invite->call_id);
	n = snprintf(num, sizeof(num), "%u", (unsigned)invite->cseq.num);
	put_lit(&o, "\r\nCSeq: ");
	put(&o, num, (size_t)n);
	put_lit(&o, " ACK\r\nContent-Length: 0\r\n\r\n");
	return o.len > 0x7fffffff ? -EINVAL : (int)o.len;
}
