/* SDP (RFC 4566) for audio calls and the offer/answer model (RFC 3264).
 *
 * Only what a G.711 softphone needs: one session, audio m= lines, c=, the
 * rtpmap/fmtp/ptime attributes and the direction (sendrecv, sendonly,
 * recvonly, inactive; RFC 3264 §5.1 and §8.4 for hold). SDP is not on the
 * proxy's hot path, so parsing fills a small value struct the caller owns,
 * with a bound on every field, rather than slices into the body. */
#ifndef SIPHON_SDP_SDP_H
#define SIPHON_SDP_SDP_H

#include "transport/addr.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SDP_MAX_FMT 8
#define SDP_PT_PCMU 0
#define SDP_PT_PCMA 8
#define SDP_PT_TE_DEFAULT 101 /* telephone-event (RFC 4733), dynamic */

enum sdp_dir { SDP_SENDRECV = 0, SDP_SENDONLY, SDP_RECVONLY, SDP_INACTIVE };

struct sdp_fmt {
	uint8_t pt;
	char name[16];   /* "PCMU", "PCMA", "telephone-event" */
	uint32_t rate;   /* 8000 */
	uint8_t channels; /* addition: rtpmap's encoding parameters, 1 when absent */
};

/* The first audio stream of a session description. */
struct sdp_audio {
	struct tp_addr addr; /* c= address (session or media level) and m= port */
	bool port_zero;      /* m=audio 0: the stream is rejected / disabled */
	enum sdp_dir dir;
	unsigned nfmt;
	/* in the m= line's order of preference; when it lists more than
	 * SDP_MAX_FMT (up to 64), PCMU, PCMA and telephone-event/8000 are kept
	 * first, then the others in order */
	struct sdp_fmt fmt[SDP_MAX_FMT];
	unsigned ptime_ms;   /* a=ptime, 0 when absent */
	char proto[24];      /* addition: the m= line's transport, "RTP/AVP" */
};

struct sdp_session {
	uint64_t sess_id, sess_version; /* o= */
	struct sdp_audio audio;
	bool has_audio;
};

/* Parse a session description. Returns 0, or -EINVAL (not SDP, or a field
 * out of bounds), -ENOENT (no audio m= line: has_audio false). Addresses
 * must be numeric; a rejected stream (port 0) without c= gets 0.0.0.0. On
 * -EINVAL *out is all zero. */
int sdp_parse(struct sdp_session *out, const char *buf, size_t len);

/* Write an SDP body for one audio stream at addr offering fmts (and, when
 * te_pt != 0, telephone-event 0-16 on te_pt). Returns the length written
 * (NUL-terminated, so cap must exceed it), or -ENOSPC when cap is too
 * small, -EINVAL for no pts, a pt >= 128, an address neither IPv4 nor IPv6
 * or a user with spaces or controls. user is the o= username ("-" when
 * NULL). a=rtpmap is written for the static types we know and te_pt. */
int sdp_write(char *buf, size_t cap, const char *user, uint64_t sess_id, uint64_t sess_version,
	      const struct tp_addr *addr, const uint8_t *pts, unsigned npts, uint8_t te_pt,
	      enum sdp_dir dir);

/* RFC 3264 §6: answer an offer. Picks the first offered codec that we
 * support (PCMU, PCMA), the offer's telephone-event payload type if any, and
 * the answer direction (§6.1: sendonly -> recvonly, recvonly -> sendonly,
 * inactive -> inactive; local_dir narrows it, e.g. we are on hold). Returns
 * 0 with *pt and *te_pt (0: none) set, or -ENOTSUP when no codec matches
 * (the caller answers 488). Also -ENOTSUP for a stream the offer disabled
 * (port 0) or a profile other than RTP/AVP (SRTP, AVPF). An offer with
 * c=0.0.0.0 (§8.4) is treated as not receiving: the answer does not send. */
int sdp_negotiate(const struct sdp_audio *offer, enum sdp_dir local_dir, uint8_t *pt,
		  uint8_t *te_pt, enum sdp_dir *answer_dir);

#endif
