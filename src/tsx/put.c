/* The parts the ACK and CANCEL builders share. */
#include "tsx/put.h"


void tsx_put_hop_start(struct tsx_put *o, const char *method, const struct sip_msg *req,
		       struct str from)
{
	tsx_put_lit(o, method);
	tsx_put_lit(o, " ");
	tsx_put_str(o, req->ruri);
	tsx_put_lit(o, " SIP/2.0\r\n");
	/* only the top Via: the request goes hop by hop like req did */
	tsx_put_lit(o, "Via: ");
	tsx_put_str(o, req->via1.raw);
	tsx_put_lit(o, "\r\nMax-Forwards: 70\r\n");
	/* req's Route set, so it takes req's path */
	for (const struct sip_hdr *h = sip_msg_hdr(req, SIP_HDR_ROUTE); h;
	     h = sip_msg_hdr_next(req, h)) {
		tsx_put_lit(o, "Route: ");
		tsx_put_str(o, h->value);
		tsx_put_lit(o, "\r\n");
	}
	tsx_put_lit(o, "From: ");
	tsx_put_str(o, from);
	tsx_put_lit(o, "\r\n");
}

void tsx_put_hop_end(struct tsx_put *o, const char *method, const struct sip_msg *req)
{
	char num[10];
	size_t n = str_fmt_u32(num, req->cseq.num);

	tsx_put_lit(o, "Call-ID: ");
	tsx_put_str(o, req->call_id);
	tsx_put_lit(o, "\r\nCSeq: ");
	tsx_put(o, num, n);
	tsx_put_lit(o, " ");
	tsx_put_lit(o, method);
	tsx_put_lit(o, "\r\nContent-Length: 0\r\n\r\n");
}
