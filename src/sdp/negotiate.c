/* RFC 3264 §6: the answer to an audio offer. */
#include "sdp/sdp_int.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

/* c=0.0.0.0 (or ::): RFC 3264 §8.4, the RFC 2543 way of holding a call;
 * neither RTP nor RTCP is to be sent to it. */
static bool unspecified(const struct tp_addr *a)
{
	if (a->ss.ss_family == AF_INET)
		return ((const struct sockaddr_in *)&a->ss)->sin_addr.s_addr == 0;
	if (a->ss.ss_family == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)&a->ss)->sin6_addr);
	return true;
}

static void dir_bits(enum sdp_dir d, bool *send, bool *recv)
{
	*send = d == SDP_SENDRECV || d == SDP_SENDONLY;
	*recv = d == SDP_SENDRECV || d == SDP_RECVONLY;
}

int sdp_negotiate(const struct sdp_audio *offer, enum sdp_dir local_dir, uint8_t *pt,
		  uint8_t *te_pt, enum sdp_dir *answer_dir)
{
	bool found = false, off_send, off_recv, loc_send, loc_recv, send, recv;

	*pt = 0;
	*te_pt = 0;
	*answer_dir = SDP_INACTIVE;
	/* a disabled stream, or a profile other than plain RTP/AVP (SRTP,
	 * AVPF feedback) is not something we can answer */
	if (offer->port_zero || strcasecmp(offer->proto, "RTP/AVP") != 0)
		return -ENOTSUP;
	for (unsigned i = 0; i < offer->nfmt && !found; i++) {
		const struct sdp_fmt *f = &offer->fmt[i];

		if ((f->pt == SDP_PT_PCMU && sdp_fmt_is(f, "PCMU")) ||
		    (f->pt == SDP_PT_PCMA && sdp_fmt_is(f, "PCMA"))) {
			*pt = f->pt;
			found = true;
		}
	}
	if (!found)
		return -ENOTSUP;
	for (unsigned i = 0; i < offer->nfmt; i++) {
		const struct sdp_fmt *f = &offer->fmt[i];

		if (f->pt != *pt && f->pt != 0 && sdp_fmt_is(f, "telephone-event")) {
			*te_pt = f->pt;
			break;
		}
	}
	/* §6.1: the answer mirrors the offer, narrowed by what we want */
	dir_bits(offer->dir, &off_send, &off_recv);
	dir_bits(local_dir, &loc_send, &loc_recv);
	if (unspecified(&offer->addr))
		off_recv = false;
	send = off_recv && loc_send;
	recv = off_send && loc_recv;
	*answer_dir = send && recv ? SDP_SENDRECV : send ? SDP_SENDONLY : recv ? SDP_RECVONLY
									: SDP_INACTIVE;
	return 0;
}
