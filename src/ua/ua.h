/* The user agent core (RFC 3261 §8, §12-§17) for the softphone: one event
 * loop, one UDP socket that both sends and listens (so the Contact and Via
 * name an address where requests reach us), a transaction table shared by
 * client and server transactions, and the identity (address-of-record and
 * password) used for REGISTER and for answering digest challenges.
 *
 * Out of a dialog a request goes to the outbound proxy when one is set,
 * else to its Request-URI resolved per RFC 3263; in a dialog to the first
 * Route (or the remote target). Only UDP targets are used.
 *
 * Client requests (struct ua_out) answer 401/407 with credentials by
 * themselves (RFC 3261 §22.2, a new CSeq each time); incoming requests are
 * handed to one handler as struct ua_srv (a server transaction plus a copy
 * of the request). Single threaded: every call from the loop's thread. */
#ifndef SIPHON_UA_UA_H
#define SIPHON_UA_UA_H

#include "base/loop.h"
#include "base/str.h"
#include "msg/msg.h"
#include "transport/addr.h"
#include "ua/uac.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ua;
struct ua_out;
struct ua_srv;
struct tsx;

struct ua_cfg {
	const char *listen;      /* "IP[:PORT]"; NULL: 127.0.0.1 (or ::1 for an IPv6 proxy), any port */
	const char *proxy;       /* outbound proxy URI; NULL: RFC 3263 on each Request-URI */
	const char *aor;         /* our address-of-record; NULL: sip:siphon@<listen> */
	const char *password;    /* digest password; NULL: challenges fail */
	const char *dns_servers; /* "IP:PORT,..."; NULL: resolv.conf */
	uint32_t t1_ms;          /* 0: 500 */
	ua_trace_fn trace;
	void *trace_arg;
};

/* An incoming request. m is valid until ua_srv_free(); ack is true for an
 * ACK (no transaction: nothing to respond). */
typedef void (*ua_incoming_fn)(void *arg, struct ua_srv *s, const struct sip_msg *m);
/* A CANCEL matched the INVITE s (still pending): the UA has answered the
 * CANCEL with 200; the handler answers s with 487 (§9.2). */
typedef void (*ua_cancel_fn)(void *arg, struct ua_srv *s);

int ua_create(struct ua **out, const struct ua_cfg *cfg);
void ua_destroy(struct ua *u);
struct loop *ua_loop(struct ua *u);
/* The bound UDP address. */
const struct tp_addr *ua_local(const struct ua *u);
const char *ua_aor(const struct ua *u);
/* <sip:user@ip:port>: where requests reach us (§8.1.1.8). */
const char *ua_contact(const struct ua *u);
/* Set the handler of incoming requests. Without one, the UA answers
 * OPTIONS 200 and everything else 405 / 481. */
void ua_set_handler(struct ua *u, ua_incoming_fn fn, ua_cancel_fn cancel, void *arg);
/* Run until ua_stop(). */
int ua_run(struct ua *u);
void ua_stop(struct ua *u);

/* ---- client requests ---- */

struct ua_req_desc {
	const char *method;
	const char *ruri;
	const char *from_uri;  /* NULL: our AoR */
	const char *from_tag;  /* NULL: a new one */
	const char *to_uri;    /* NULL: the Request-URI */
	const char *to_tag;    /* NULL outside a dialog */
	const char *call_id;   /* NULL: a new one */
	uint32_t cseq;         /* 0: 1 */
	const char *routes;    /* Route header lines (CRLF each), or NULL */
	const char *hop;       /* URI of the next hop; NULL: proxy or Request-URI */
	const char *contact;   /* Contact URI; NULL: ua_contact() */
	const char *extra;     /* more header lines (CRLF each) */
	const char *ctype;     /* with body */
	const char *body;
};

/* Called with each provisional (resp set, status 101-199), each final
 * response (INVITE: 2xx retransmissions too) or a final result made up
 * locally (resp NULL: 408 no response, 503 transport/DNS error, why says
 * it). After a final non-2xx (or any final for a non-INVITE) no more calls.
 * ua_out_free() may be called from inside. */
typedef void (*ua_out_fn)(void *arg, struct ua_out *o, int status, const struct sip_msg *resp,
			  const char *why);

/* Send a request; o (may be NULL for fire-and-forget: it then frees
 * itself after the final response) is the caller's until ua_out_free(). */
int ua_out_send(struct ua *u, const struct ua_req_desc *d, ua_out_fn cb, void *arg,
		struct ua_out **o);
void ua_out_free(struct ua_out *o);
/* What the request last sent carried (a retry after 401 has a new CSeq). */
uint32_t ua_out_cseq(const struct ua_out *o);
const char *ua_out_call_id(const struct ua_out *o);
const char *ua_out_from_tag(const struct ua_out *o);
/* The next hop the request went to (valid once sent). */
const struct tp_addr *ua_out_dest(const struct ua_out *o);
/* CANCEL a pending INVITE (§9.1); the INVITE then ends with a 487 (or
 * a 2xx that raced it). Returns 0, -EINVAL (not an INVITE not yet
 * answered) or -ENOMEM. */
int ua_out_cancel(struct ua_out *o);
/* True once the credentials were refused (a second challenge). */
bool ua_out_auth_failed(const struct ua_out *o);

/* Send bytes with no transaction (an ACK for a 2xx, §13.2.2.4) to dest. */
int ua_send_raw(struct ua *u, const struct tp_addr *dest, const char *buf, size_t len);

/* ---- incoming requests ---- */

struct ua_resp {
	const char *to_tag;   /* added to To when it has none */
	bool contact;         /* add our Contact (dialog-creating 1xx/2xx) */
	bool record_route;    /* copy Record-Route (§12.1.1) */
	const char *extra;    /* header lines (CRLF each) */
	const char *ctype;
	const char *body;
};

/* Respond to s; reason NULL: the default phrase. Returns 0 or -errno. */
int ua_srv_respond(struct ua_srv *s, uint16_t code, const char *reason, const struct ua_resp *r);
/* The request and where it came from. */
const struct sip_msg *ua_srv_msg(const struct ua_srv *s);
const struct tp_addr *ua_srv_src(const struct ua_srv *s);
/* Keep s past the handler's return (else it is freed when the handler
 * returns); then ua_srv_free() it. */
void ua_srv_keep(struct ua_srv *s);
void ua_srv_free(struct ua_srv *s);

/* ---- helpers ---- */

/* The URI inside a name-addr header value ("<sip:a@b>;tag=x" -> "sip:a@b")
 * into buf; returns 0 or -EINVAL / -ENOSPC. */
int ua_hdr_uri(struct str value, char *buf, size_t cap);
/* The user part of a SIP URI ("alice" of sip:alice@example.com) into buf. */
int ua_uri_user(const char *uri, char *buf, size_t cap);
/* The host[:port] of a SIP URI ("example.com"). */
int ua_uri_hostport(const char *uri, char *buf, size_t cap);
/* Whether the comma-separated token header (Require, Supported) of m
 * lists tok. */
bool ua_hdr_has_token(const struct sip_msg *m, enum sip_hdr_type t, const char *tok);

#endif
