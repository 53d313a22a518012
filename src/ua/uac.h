/* The UAC core: sends requests outside a dialog and reports each one's final
 * result. It owns an event loop, the transports it needs (one UDP socket per
 * address family, TCP/TLS connections opened per request), a DNS resolver
 * (RFC 3263) and a client transaction table; the transactions' timers run on
 * the loop's timing wheel. Responses reach their transaction through the
 * table (§17.1.3); anything else that arrives is ignored.
 *
 * One request: resolve the Request-URI to ordered targets, try them in turn
 * (§4.3 of RFC 3263: a transport error or a timeout moves on to the next, with
 * a new branch), and call back once with the final result: a final response,
 * or one made up locally, 408 (Timer F/B, §17.1.2.2) or 503 (transport error
 * or no target, §8.1.3.1). Provisional responses are only traced. A request
 * larger than 1300 bytes for a UDP target goes to it over TCP instead (RFC
 * 3261 §18.1.1) unless the URI says transport=udp or cfg.protos has no TCP.
 * Single threaded: every call from the loop's thread. */
#ifndef SIPHON_UA_UAC_H
#define SIPHON_UA_UAC_H

#include "base/loop.h"
#include "base/str.h"
#include "msg/msg.h"
#include "transport/addr.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ua_uac;

/* Every message sent (out) or received, for -v style tracing. */
typedef void (*ua_trace_fn)(bool out, enum tp_proto proto, const struct tp_addr *peer,
			    const char *buf, size_t len, void *arg);

struct ua_uac_cfg {
	/* UDP source address "IP" or "IP:PORT" ("[::1]:5070"); NULL: the
	 * route's source address and a free port. TCP/TLS use the connection's
	 * own local address. */
	const char *local;
	const char *ca_file;     /* TLS trust anchors; NULL: the system store */
	const char *dns_servers; /* "IP:PORT,..."; NULL: resolv.conf */
	unsigned protos;         /* DNS_PROTO_BIT() set to use; 0: all */
	uint32_t t1_ms;          /* RFC 3261 T1; 0: 500 */
	ua_trace_fn trace;
	void *trace_arg;
};

struct ua_result {
	uint16_t status;
	struct str reason;
	/* The final response (valid during the callback), or NULL for a result
	 * made up locally; then err says why (-ETIMEDOUT, transport or DNS
	 * error) and why says it in words ("no response", "transport error:
	 * Connection refused"). */
	const struct sip_msg *resp;
	int err;
	const char *why;
	/* the last target tried (proto and peer unset when there was none) */
	bool has_target;
	enum tp_proto proto;
	struct tp_addr peer;
};

typedef void (*ua_result_cb)(const struct ua_result *res, void *arg);

struct ua_send {
	const char *method;    /* "OPTIONS" */
	const char *uri;       /* sip: or sips: Request-URI (also the To URI) */
	struct str extra;      /* header lines, each ending in CRLF */
	struct str content_type;
	struct str body;
};

/* cfg may be NULL for defaults. Returns 0, -ENOMEM, -EINVAL (bad local
 * address or DNS servers) or an error creating the loop or resolver. */
int ua_uac_create(struct ua_uac **out, const struct ua_uac_cfg *cfg);
/* Abandons what is in flight without calling back. */
void ua_uac_destroy(struct ua_uac *u);
struct loop *ua_uac_loop(struct ua_uac *u);

/* Start sending a request; cb runs exactly once, from the loop, when it
 * returned 0. Returns 0, -EINVAL (not a SIP/SIPS URI, bad method),
 * -EPROTONOSUPPORT (the URI asks for a transport we may not use) or
 * -ENOMEM. */
int ua_uac_send(struct ua_uac *u, const struct ua_send *s, ua_result_cb cb, void *arg);
/* OPTIONS (RFC 3261 §11.1) to uri, asking for application/sdp. */
int ua_uac_options(struct ua_uac *u, const char *uri, ua_result_cb cb, void *arg);

/* Run the loop until every request sent has its result. Returns 0 or a
 * negated errno from the loop. */
int ua_uac_run(struct ua_uac *u);

#endif
