/* Building responses (RFC 3261 §8.2.6) and editing requests for forwarding
 * (§16.6) without re-serialising the bytes that do not change. */
#ifndef SIPHON_MSG_BUILD_H
#define SIPHON_MSG_BUILD_H

#include "base/str.h"
#include "msg/msg.h"

#include <stddef.h>
#include <stdint.h>

struct sip_resp_opts {
	struct str to_tag;   /* added to To when it has none and code > 100 (§8.2.6.2) */
	struct str server;   /* Server header value; empty: no Server header */
	struct str received; /* add/replace received= on the top Via (§18.2.1); empty: none */
	uint16_t rport;      /* fill rport= on the top Via if the request asked (RFC 3581 §4) */
	struct str extra;    /* extra header lines, each ending in CRLF */
	struct str content_type; /* with body */
	struct str body;
};

/* Write a response to req into out[0..cap). Copies Via (all, in order), From,
 * To, Call-ID and CSeq lines byte for byte from the request, which works even
 * for a request that failed to parse as long as its headers were indexed.
 * reason must not contain CR or LF. Returns the length, or -ENOSPC. */
int sip_resp_build(char *out, size_t cap, const struct sip_msg *req, uint16_t code,
		   struct str reason, const struct sip_resp_opts *opts);

/* Default reason phrase of a status code (§21), "" if unknown. */
const char *sip_reason_phrase(uint16_t code);

/* ---- forwarding editor ---- */
#ifndef SIP_EDIT_MAX
#define SIP_EDIT_MAX 16
#endif

/* Replace del bytes at off (into the message buffer) with ins. The bytes of
 * ins are not copied: they must stay valid until sip_edit_apply(). */
struct sip_splice {
	size_t off;
	size_t del;
	struct str ins;
};

struct sip_edit {
	const struct sip_msg *msg;
	unsigned n;
	struct sip_splice ops[SIP_EDIT_MAX];
};

void sip_edit_init(struct sip_edit *e, const struct sip_msg *m);
/* at must point into the message (m->buf .. m->buf + m->len). Returns 0,
 * -ENOSPC (too many splices) or -EINVAL (outside the message). */
int sip_edit_splice(struct sip_edit *e, const char *at, size_t del, struct str ins);
/* Write the edited message (m->len bytes with the splices applied; trailing
 * datagram octets beyond the message are never copied, RFC 4475 §3.1.1.8).
 * Returns the length, -ENOSPC, or -EINVAL for overlapping splices. */
int sip_edit_apply(const struct sip_edit *e, char *out, size_t cap);

/* §16.6 step 8: insert a Via header line (with CRLF) above the first Via. */
int sip_fwd_add_via(struct sip_edit *e, struct str via_line);
/* §16.7 step 3: remove the top Via value of a response (the whole line if
 * it was the only one). Returns 0, -ENOENT when there is no Via,
 * -EDESTADDRREQ when it was the last one (the response was meant for this
 * element and is not forwarded; the edit is made all the same), or the Via
 * parse error. */
int sip_fwd_drop_top_via(struct sip_edit *e);
/* §16.4: remove the top Route value (the whole line if it was the only one).
 * Returns 0, or -ENOENT when there is no Route. */
int sip_fwd_drop_top_route(struct sip_edit *e);
/* §16.6 step 3: decrement Max-Forwards, or add "Max-Forwards: 70" when
 * absent. scratch (4 bytes) must live until apply. -ERANGE if it is 0,
 * -EINVAL if the header is there but did not parse. */
int sip_fwd_dec_max_forwards(struct sip_edit *e, char scratch[4]);
/* §16.6 step 4: insert a Record-Route line (with CRLF) above any existing ones. */
int sip_fwd_add_record_route(struct sip_edit *e, struct str rr_line);

#endif
