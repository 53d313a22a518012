/* The CANCEL for a pending INVITE (RFC 3261 §9.1), built from the INVITE as
 * it was sent. */
#ifndef SIPHON_TSX_CANCEL_H
#define SIPHON_TSX_CANCEL_H

#include "msg/msg.h"

#include <stddef.h>

/* Write the CANCEL for invite into out[0..cap): its Request-URI, Call-ID,
 * To, From and CSeq number (method CANCEL), its top via-parm only (so the
 * CANCEL matches the INVITE's branch, §9.1), its Route headers,
 * Max-Forwards 70, no body. Like snprintf, returns the length needed and
 * writes only when it fits (out may be NULL when cap is 0). Returns -EINVAL
 * when invite is not an INVITE request or lacks a header it needs. */
int tsx_cancel_build(char *out, size_t cap, const struct sip_msg *invite);

#endif
