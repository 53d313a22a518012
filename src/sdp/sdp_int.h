/* Shared by the SDP parser, writer and negotiation. */
#ifndef SIPHON_SDP_SDP_INT_H
#define SIPHON_SDP_SDP_INT_H

#include "sdp/sdp.h"

/* The static audio payload types of RFC 3551 §6 (NULL name: unassigned). */
struct sdp_static_pt {
	const char *name;
	uint32_t rate;
	uint8_t channels;
};

const struct sdp_static_pt *sdp_static_pt(uint8_t pt);

/* Whether a format is one of ours: PCMU on 0, PCMA on 8, telephone-event,
 * all at 8000 Hz, mono. */
bool sdp_fmt_is(const struct sdp_fmt *f, const char *name);

#endif
