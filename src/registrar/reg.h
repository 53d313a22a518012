/* Registrar (RFC 3261 §10.3): validates a parsed REGISTER, applies it to the
 * location service and reports the response to send. Domain checks (step 1),
 * Require (step 2), authentication and authorisation (steps 3-4) belong to
 * the caller and come before reg_handle().
 *
 * Out-of-order requests (§10.3 steps 6-7): a binding whose stored Call-ID
 * equals the request's and whose stored CSeq is not lower than the request's
 * aborts the whole request; nothing is changed and the answer is 500
 * "Out-of-Order CSeq" (a retry carries a new CSeq and succeeds). Every check
 * runs before the first change, so a rejected request changes nothing. */
#ifndef SIPHON_REGISTRAR_REG_H
#define SIPHON_REGISTRAR_REG_H

#include "base/str.h"
#include "location/loc.h"
#include "msg/msg.h"
#include "msg/uri.h"

#include <stdint.h>
#include <time.h>

struct reg;

/* More bindings than max_contacts for one AoR (RFC 3261 §10.3 leaves it to
 * local policy). */
enum reg_overflow {
	REG_REJECT = 0,   /* 403 "Too Many Contacts" */
	REG_EVICT_OLDEST, /* drop the least recently updated bindings */
};

#define REG_MAX_CONTACTS 64 /* upper bound of cfg.max_contacts */
#define REG_REQ_CONTACTS 32 /* Contact values accepted in one request */
/* Longest Contact URI, and longest Contact parameters, accepted: with
 * REG_MAX_CONTACTS bindings the 200 listing them stays well inside 64 KiB
 * (Kamailio and OpenSIPS store 255 bytes). */
#define REG_CONTACT_URI_MAX 512
#define REG_CONTACT_PARAMS_MAX 256

/* Zero numeric fields take the default. */
struct reg_cfg {
	uint32_t min_expires;     /* 60; shorter requests get 423 (§10.3 step 7) */
	uint32_t max_expires;     /* 3600; longer requests are clamped */
	uint32_t default_expires; /* 3600; no expires param and no Expires header */
	uint32_t max_contacts;    /* 10 per AoR, at most REG_MAX_CONTACTS */
	enum reg_overflow on_too_many;
	/* Grant up to jitter_percent (0..50) less than asked, never below
	 * min_expires, so that refreshes of a mass restart spread out. */
	uint32_t jitter_percent;
	uint32_t (*rand)(void *arg); /* NULL: internal generator */
	void *rand_arg;
	const char *server;       /* Server header value for the caller, may be NULL */
	/* Where reg_handle()'s callbacks run (loc_queue_poll); NULL: the
	 * location service's own queue (loc_poll). */
	struct loc_queue *queue;
};

/* Where the request came from: "udp:192.0.2.1:5060" (RFC 3581, RFC 5626 §5),
 * stored as the binding's received source. */
struct reg_source {
	struct str received;
};

/* The outcome: send code/reason with extra (header lines, each ending in
 * CRLF; possibly empty) through sip_resp_build(). reason is static; extra
 * is only valid during the call. */
typedef void (*reg_done_cb)(void *arg, uint16_t code, const char *reason, struct str extra);

/* cfg may be NULL for the defaults. loc is borrowed and must outlive r.
 * Returns 0, -EINVAL (bad cfg) or -ENOMEM. */
int reg_create(struct reg **out, const struct reg_cfg *cfg, struct loc *loc);
/* Only once no reg_handle() is waiting for the location service: destroy r
 * after loc_destroy() (which runs the pending callbacks) or when idle. */
void reg_destroy(struct reg *r);
/* cfg.server as a slice (empty if none). */
struct str reg_server(const struct reg *r);

/* Handle a REGISTER parsed by sip_msg_parse(). cb runs exactly once: at once
 * for errors and fetches, otherwise from cfg.queue's poll once every change is
 * durable. m need not outlive this call. Returns 0, or -EINVAL (cb not called)
 * when m is not a REGISTER request. */
int reg_handle(struct reg *r, const struct sip_msg *m, const struct reg_source *src,
	       time_t now, reg_done_cb cb, void *arg);

/* The 200 (OK) header lines (RFC 3261 §10.3 step 8): one Contact per binding
 * with its remaining expires (and q when below 1, +sip.instance and reg-id
 * when set), the Path values when path is not empty (RFC 3327 §5.3), and Date
 * (RFC 1123 GMT, §20.17). Returns the length written to out, or -ENOSPC. */
int reg_response_headers(char *out, size_t cap, const struct loc_binding *b, size_t n,
			 struct str path, time_t now);
/* Bytes reg_response_headers() needs for the same arguments. */
size_t reg_response_headers_size(const struct loc_binding *b, size_t n, struct str path);

/* Canonical AoR of a SIP/SIPS URI (§10.3 step 5): scheme, user, lower-case
 * host, port; no password, params or headers. Returns the length or -ENOSPC;
 * -EINVAL when u is not a SIP/SIPS URI. */
int reg_aor_canon(char *out, size_t cap, const struct sip_uri *u);

#endif
