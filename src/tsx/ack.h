/* The ACK a client INVITE transaction sends for a non-2xx final response
 * (RFC 3261 §17.1.1.3). */
#ifndef SIPHON_TSX_ACK_H
#define SIPHON_TSX_ACK_H

#include "msg/msg.h"

#include <stddef.h>

/* Write the ACK for resp (300-699) to invite into out[0..cap): Request-URI,
 * Call-ID and From of the INVITE, its top via-parm only, its Route headers,
 * To of the response (with its tag), CSeq number of the INVITE with method
 * ACK, Max-Forwards 70, no body. Like snprintf, returns the length the ACK
 * needs and writes it only when it fits in cap (out may be NULL when cap is
 * 0). Returns -EINVAL when a header it needs is missing. */
int tsx_ack_build(char *out, size_t cap, const struct sip_msg *invite, const struct sip_msg *resp);

#endif
