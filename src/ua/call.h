/* One INVITE session (RFC 3261 §13-§15) with its audio (RFC 3264 offer /
 * answer, src/media): placing a call (INVITE with an offer, 3xx followed up
 * to a limit, CANCEL while it rings, ACK for the 2xx, BYE), receiving one
 * (180, 200 with the answer retransmitted until the ACK, reject codes, 487
 * after a CANCEL), and in the dialog: BYE, re-INVITE for hold and resume
 * (RFC 3264 §8.4: sendonly / recvonly), INFO DTMF (application/dtmf-relay),
 * UPDATE and OPTIONS. Events go to one callback; the call is freed by its
 * owner with ua_call_free(), never from inside that callback. */
#ifndef SIPHON_UA_CALL_H
#define SIPHON_UA_CALL_H

#include "ua/ua.h"

#include <stdbool.h>
#include <stdint.h>

struct ua_call;
struct media_stats;

enum ua_call_ev {
	UA_CALL_EV_RINGING,   /* a 180/183 (status), or we rang (incoming) */
	UA_CALL_EV_ANSWERED,  /* 2xx / we answered */
	UA_CALL_EV_REDIRECT,  /* following a 3xx to text */
	UA_CALL_EV_HOLD,      /* the media direction changed: text "sendonly"... */
	UA_CALL_EV_DTMF,      /* a digit (text) arrived */
	UA_CALL_EV_ENDED,     /* the call is over: end says how */
};

enum ua_call_end {
	UA_END_NONE = 0,
	UA_END_LOCAL_BYE,     /* we hung up after the answer */
	UA_END_REMOTE_BYE,    /* the far end hung up */
	UA_END_REJECTED,      /* a final 3xx-6xx (status) */
	UA_END_CANCELLED,     /* cancelled before the answer (by us, or the caller) */
	UA_END_TIMEOUT,       /* no response (408 made up locally) */
	UA_END_NETWORK,       /* transport or DNS error (503 made up locally) */
	UA_END_AUTH,          /* credentials refused or missing */
	UA_END_MEDIA,         /* no codec in common (488) or no RTP ports */
};

struct ua_call_info {
	enum ua_call_ev ev;
	enum ua_call_end end;
	int status;           /* the SIP status involved, if any */
	const char *text;     /* reason, digit, direction, URI */
};

typedef void (*ua_call_fn)(void *arg, struct ua_call *c, const struct ua_call_info *info);

struct ua_call_cfg {
	const char *play_wav;
	const char *record_wav;
	bool play_loop;
	unsigned max_redirects; /* 0: 5 */
	ua_call_fn cb;
	void *arg;
};

/* Call uri. Returns 0 or -errno (media ports, bad URI). */
int ua_call_out(struct ua *u, const char *uri, const struct ua_call_cfg *cfg, struct ua_call **out);
/* An incoming INVITE s (outside a dialog): the call takes s, rings (180)
 * and waits for ua_call_answer / ua_call_reject. Returns 0, or -errno after
 * answering s itself (488 no codec, 400 bad request). */
int ua_call_in(struct ua *u, struct ua_srv *s, const struct ua_call_cfg *cfg,
	       struct ua_call **out);
int ua_call_answer(struct ua_call *c);
int ua_call_reject(struct ua_call *c, uint16_t code);
/* CANCEL while ringing, BYE once answered, decline an incoming call not
 * yet answered. */
int ua_call_hangup(struct ua_call *c);
/* Re-INVITE putting the far end on hold (sendonly) or back (sendrecv). */
int ua_call_hold(struct ua_call *c, bool hold);
int ua_call_dtmf(struct ua_call *c, const char *digits);
/* Offer s (an in-dialog request, the ACK for our 2xx, or a CANCEL's
 * INVITE) to c: true when it is c's (c then answered it). */
bool ua_call_request(struct ua_call *c, struct ua_srv *s, const struct sip_msg *m);
bool ua_call_cancelled(struct ua_call *c, struct ua_srv *invite);
bool ua_call_answered(const struct ua_call *c);
bool ua_call_ended(const struct ua_call *c);
/* Milliseconds from the answer to the end (or to now). */
uint64_t ua_call_duration_ms(const struct ua_call *c);
const char *ua_call_peer(const struct ua_call *c);
void ua_call_stats(const struct ua_call *c, struct media_stats *st);
void ua_call_free(struct ua_call *c);

#endif
