/* CANCEL (RFC 3261 §9.1): "the Request-URI, Call-ID, To, the numeric part
 * of CSeq, and From header fields in the CANCEL request MUST be identical to
 * those in the request being cancelled, including tags", one Via equal to
 * the request's top Via, and the same Route set. */
#include "tsx/cancel.h"
#include "tsx/put.h"

#include <errno.h>

int tsx_cancel_build(char *out, size_t cap, const struct sip_msg *invite)
{
	const struct sip_hdr *from = sip_msg_hdr(invite, SIP_HDR_FROM);
	const struct sip_hdr *to = sip_msg_hdr(invite, SIP_HDR_TO);
	struct tsx_put o = { out, 0, out ? cap : 0 };

	if (!invite->is_request || invite->method_id != SIP_METHOD_INVITE || !from || !to ||
	    invite->ruri.len == 0 || invite->via1.raw.len == 0 || invite->call_id.len == 0)
		return -EINVAL;
	tsx_put_hop_start(&o, "CANCEL", invite, from->value);
	tsx_put_lit(&o, "To: ");
	tsx_put_str(&o, to->value);
	tsx_put_lit(&o, "\r\n");
	tsx_put_hop_end(&o, "CANCEL", invite);
	return o.len > 0x7fffffff ? -EINVAL : (int)o.len;
}
