/* Proxy routing helpers (RFC 3261 §16.3-§16.6, §16.12, RFC 3327): pure
 * functions over a parsed request and the forwarding editor; no I/O. */
#ifndef SIPHON_PROXY_ROUTE_H
#define SIPHON_PROXY_ROUTE_H

#include "base/str.h"
#include "msg/build.h"
#include "msg/msg.h"
#include "msg/uri.h"
#include "transport/addr.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What identifies this proxy in a URI (§16.4 "indicates this proxy"): one
 * of its listen addresses (host compared as an address, IPv4-mapped IPv6
 * included; the port with the scheme/transport default 5060, or 5061 for
 * sips: and transport=tls, when absent), or one of its names (served
 * domains, server aliases; compared case-insensitively, a trailing root dot
 * ignored) with no port or a port of one of its listeners. A name that is a
 * numeric address ("192.0.2.7", "[2001:db8::7]") is compared as an address,
 * with the name rule for the port.
 * A wildcard listen address matches, at its port, only loopback addresses
 * (0.0.0.0: 127.0.0.0/8; :: as dual-stack: 127.0.0.0/8 and ::1): list the
 * machine's other addresses in names to have them recognised (interfaces
 * are not enumerated here).
 * The transport is not compared (a request for our address and port over
 * another transport still reaches this server); listen_proto may be NULL.
 * With a maddr parameter, maddr is compared instead of the host (§19.1.1).
 * Borrowed arrays. */
struct pxy_self {
	const struct tp_addr *listen;   /* bound listen addresses (real ports) */
	const enum tp_proto *listen_proto;
	size_t nlisten;
	const struct str *names;        /* lower case */
	size_t nnames;
};

bool pxy_uri_is_self(const struct pxy_self *s, const struct sip_uri *u);

/* §16.4 preprocessing, as edits on e (which must be initialised on m):
 *   - strict router before us (the Request-URI is one of our URIs, a value
 *     we Record-Routed: pxy_uri_is_self, lr, no user part, and a Route is
 *     present): the Request-URI becomes the last Route value and that value
 *     is removed (§16.4 first paragraph); *ruri is set to it (its URI, a
 *     slice into m, without <>, and without URI headers, which a
 *     Request-URI may not carry: §19.1.1 table 1, §16.6 step 2). The
 *     request line is not edited: the caller writes *ruri there (as it
 *     does for any retargeted request);
 *   - otherwise *ruri is m->ruri;
 *   - then, while the top Route value indicates this proxy, remove it (two
 *     when we double Record-Routed, RFC 5658).
 * Route values may be spread over several lines, several per line: removing
 * values from a line keeps the others as a valid list, removing them all
 * removes the line. Every Route value (name-addr and URI) is checked.
 * *routed is set when a Route value remains after that (loose routing:
 * the next hop is that value, §16.12). Returns 0, -EINVAL (a Route value
 * does not parse: answer 400 "Bad Route"; or m is not a request, or e is
 * not on m) or -ENOSPC (the removal needs more than 6 splices, or the editor
 * has no room for them). On error nothing was added to e. */
int pxy_preprocess(const struct pxy_self *s, const struct sip_msg *m, struct sip_edit *e,
		   struct str *ruri, bool *routed);

/* The first Route value that survives pxy_preprocess (the next hop of a
 * loose-routed request), parsed into *hop (slices into m). Returns 0,
 * -ENOENT, or -EINVAL (a Route value does not parse). */
int pxy_top_route(const struct pxy_self *s, const struct sip_msg *m, struct sip_uri *hop);

/* §16.6 step 6, for a next hop (pxy_top_route) without lr: a strict router.
 * Records on e everything pxy_preprocess would (call it instead, on an
 * editor without pxy_preprocess's edits), and: that hop's value leaves the
 * Route set and becomes *ruri (a slice into m, URI headers left out as in
 * pxy_preprocess: write it into the request line, and resolve it rather
 * than a Route, §16.6 step 7), and target (the
 * Request-URI the request would have had: the strict-router-before-us one
 * from pxy_preprocess, or a translated one) is appended as the last Route
 * value, as the line "Route: <target>\r\n" written into line[cap], which
 * must live until sip_edit_apply. Returns 0, -ENOENT (no Route value left
 * after preprocessing), -EINVAL (as pxy_preprocess), or -ENOSPC (line too
 * small, more than 6 removal splices, or no room in e for them plus the
 * insertion); nothing is added to e on error. */
int pxy_route_to_strict(const struct pxy_self *s, const struct sip_msg *m, struct sip_edit *e,
			struct str target, char *line, size_t cap, struct str *ruri);

/* §16.3 item 4 / §16.6 step 8: the loop-detection part of our branch, a
 * hash of what identifies the request as received: the Request-URI before
 * translation, To tag, From tag, Call-ID, CSeq number, the top Via, the
 * Route values (§16.6 step 8 asks for them: a request coming back with
 * another route set is a spiral), and Proxy-Require and Proxy-Authorization
 * values. Not the method. For INVITE, ACK and CANCEL the To tag,
 * Proxy-Require and Proxy-Authorization are left out: a non-2xx ACK and a
 * CANCEL must get their INVITE's branch (§16.6 step 8) although the ACK has
 * the response's To tag and neither need carry the INVITE's credentials
 * (§9.1: no Proxy-Require in a CANCEL). 64 bits (FNV-1a, not a MAC: the
 * fields other than the top Via, and the top Via, hashed apart and combined
 * by XOR of two bijective mixes), written as PXY_LOOP_HASH_LEN lowercase hex
 * characters (no NUL). */
#define PXY_LOOP_HASH_LEN 16
void pxy_loop_hash(const struct sip_msg *m, char out[PXY_LOOP_HASH_LEN]);

/* Our branch for one forwarded copy: "z9hG4bK" PXY_BRANCH_MAGIC + loop hash
 * + "." + the branch index in decimal (so forks differ, §16.6 step 8). Returns
 * the length written into out (NUL-terminated), or -ENOSPC. */
#define PXY_BRANCH_MAGIC "sph"
int pxy_branch(char *out, size_t cap, const char loop_hash[PXY_LOOP_HASH_LEN], unsigned idx);

/* §16.3 item 4: the request carries a Via of ours (sent-by indicating this
 * proxy, branch "z9hG4bK" PXY_BRANCH_MAGIC + 16 hex + "." or end) whose loop
 * hash equals the request's: a loop (answer 482). A Via of ours with another
 * hash is a spiral, which is fine. loop_hash is pxy_loop_hash(m). "The
 * request's" hash is the one it had when we forwarded it: the same fields as
 * received now, with the Via right below ours as the top Via (it was on top
 * then, and Vias below ours do not change on the way); comparing with
 * loop_hash itself would never match, since by the time a request comes back
 * another Via is always on top. A Via of ours at the bottom is skipped. */
bool pxy_loop_detected(const struct pxy_self *s, const struct sip_msg *m,
		       const char loop_hash[PXY_LOOP_HASH_LEN]);

/* "Record-Route: <sip:HOST:PORT;transport=tcp;lr>\r\n" for the address a
 * request leaves from (sips: when the request's R-URI was sips). transport
 * is omitted for UDP, and for TLS with sips (transport=tls with sip:).
 * IPv6 hosts in brackets. Returns the length (NUL-terminated), -ENOSPC, or
 * -EINVAL (addr is neither IPv4 nor IPv6). */
int pxy_record_route_line(char *out, size_t cap, const struct tp_addr *addr,
			  enum tp_proto proto, bool sips);

/* "Via: SIP/2.0/UDP HOST:PORT;branch=BRANCH;rport\r\n" (§16.6 step 8,
 * rport per RFC 3581). Returns the length (NUL-terminated), -ENOSPC, or
 * -EINVAL (addr is neither IPv4 nor IPv6). */
int pxy_via_line(char *out, size_t cap, const struct tp_addr *addr, enum tp_proto proto,
		 struct str branch);

/* "Route: <v1>,<v2>\r\n" from a binding's Path (comma-joined values as
 * stored, RFC 3327 §5.3: the route set towards the registered contact), to
 * be inserted above any existing Route. The path is trimmed and any CR or LF
 * in it (a folded line kept in storage) written as SP. Empty path: returns
 * 0, writes "". Returns the length (NUL-terminated) or -ENOSPC. */
int pxy_route_from_path(char *out, size_t cap, struct str path);

/* Where a request goes (§16.6 step 6-7, RFC 3263 input): the URI to resolve
 * (top Route after preprocessing, else the new Request-URI) plus its
 * transport (RFC 3263 §4.1): from ;transport= (udp, tcp, tls; tcp with sips
 * is TLS), else sips -> TLS, else UDP for a numeric host or an explicit
 * port, else unspecified (proto_set = false: NAPTR/SRV decide). With a
 * maddr parameter, uri.host/host_type are the maddr's (RFC 3263 §4 TARGET).
 * Returns 0, -EINVAL (not a sip/sips URI, sips with transport=udp) or
 * -EPROTONOSUPPORT (another transport: sctp, ws, ...). */
struct pxy_hop {
	struct sip_uri uri;     /* slices into the caller's buffers */
	enum tp_proto proto;
	bool proto_set;
	bool numeric;           /* host is an IP literal: no DNS needed */
	uint16_t port;          /* explicit port or 0 */
};
int pxy_hop_from_uri(const struct sip_uri *u, struct pxy_hop *hop);

#endif
