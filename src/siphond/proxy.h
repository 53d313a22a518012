/* siphond's stateful proxy (RFC 3261 §16): a response context per proxied
 * request, holding its server transaction, its targets and one client
 * transaction per branch. Everything about one context runs on the worker
 * that owns it (the one that received the request): responses and CANCELs
 * that reach another worker are handed over first (sd_core_cfg.handoff),
 * so a context needs no lock of its own and its timers live on one wheel. */
#ifndef SIPHON_SIPHOND_PROXY_H
#define SIPHON_SIPHOND_PROXY_H

#include "siphond/core_priv.h"

struct sd_pxy;

/* Per core: the client transaction environment and the routing identity. */
void sd_pxy_init(struct sd_core *c, const struct sd_core_cfg *cfg);
void sd_pxy_fini(struct sd_core *c);

/* A request not addressed to this server and not for its registrar (§16.3
 * onwards): answers it (4xx/5xx) or creates its context, which starts
 * forwarding once the server transaction is unlocked (sd_pxy_run_pending).
 * Returns true when it took the request. */
bool sd_pxy_request(struct sd_core *c, const struct sip_msg *m, const struct sd_in *in,
		    struct sd_out *out);
/* Stateless mode (§16.11), before any transaction: true when it took the
 * request (forwarded, or answered through out). */
bool sd_pxy_stateless(struct sd_core *c, const struct sip_msg *m, const struct sd_in *in,
		      struct sd_out *out);
/* After sd_tsx_request_done(): start what sd_pxy_request prepared. */
void sd_pxy_run_pending(struct sd_core *c);
/* A response: to a branch of ours (its client transaction, on its owner),
 * or forwarded statelessly by its Via (§16.7, "as a stateless proxy").
 * Returns true when it was handed to another worker. */
bool sd_pxy_response(struct sd_core *c, const struct sip_msg *m, const struct sd_in *in);
/* A CANCEL whose INVITE is proxied here: is it another worker's? (then it
 * was handed over; returns true). */
bool sd_pxy_cancel_handoff(struct sd_core *c, const struct sip_msg *m, const struct sd_in *in);
/* The proxied INVITE a CANCEL matches (§16.10), or NULL; with it the CANCEL
 * gets 200 and the branches are cancelled after the unlock. */
struct sd_pxy *sd_pxy_for_cancel(struct sd_core *c, const struct sip_msg *cancel);
void sd_pxy_cancel_later(struct sd_core *c, struct sd_pxy *p);
/* The server transaction of p ended (its user area is going away). */
void sd_pxy_stx_terminated(struct sd_pxy *p);

#endif
