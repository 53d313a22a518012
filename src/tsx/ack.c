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

	if (!invite->is_request || resp->is_request || !from || !to || invite->ruri.len == 0 ||
	    invite->via1.raw.len == 0 || invite->call_id.len == 0)
		return -EINVAL;
	tsx_put_hop_start(&o, "ACK", invite, from->value);
	/* To of the response: it carries the tag the UAS chose */
	tsx_put_lit(&o, "To: ");
	tsx_put_str(&o, to->value);
	tsx_put_lit(&o, "\r\n");
	tsx_put_hop_end(&o, "ACK", invite);
	return o.len > 0x7fffffff ? -EINVAL : (int)o.len;
}
