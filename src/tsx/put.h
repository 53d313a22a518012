/* A counting writer for the requests the transaction layer builds (ACK,
 * CANCEL): counts always, writes while it fits, like snprintf. */
#ifndef SIPHON_TSX_PUT_H
#define SIPHON_TSX_PUT_H

#include "base/str.h"
#include "msg/msg.h"

#include <string.h>

struct tsx_put {
	char *p;
	size_t len, cap;
};

static inline void tsx_put(struct tsx_put *o, const char *s, size_t n)
{
	if (n && o->len + n <= o->cap)
		memcpy(o->p + o->len, s, n);
	o->len += n;
}

static inline void tsx_put_str(struct tsx_put *o, struct str s)
{
	tsx_put(o, s.s, s.len);
}

static inline void tsx_put_lit(struct tsx_put *o, const char *s)
{
	tsx_put(o, s, strlen(s));
}

/* "METHOD <R-URI of req> SIP/2.0", the top Via of req only, Max-Forwards 70,
 * req's Route headers and its From: the start of a request that goes hop
 * by hop like req did (the ACK of §17.1.1.3, the CANCEL of §9.1). */
void tsx_put_hop_start(struct tsx_put *o, const char *method, const struct sip_msg *req,
		       struct str from);
/* Call-ID, "CSeq: <req's number> METHOD", an empty body. */
void tsx_put_hop_end(struct tsx_put *o, const char *method, const struct sip_msg *req);

#endif
