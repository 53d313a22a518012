/* On-demand parsers for individual header values (RFC 3261 §20, §25.1).
 * Each parser takes a cursor over a header value (struct str, possibly with
 * folded CRLF+WSP inside) and fills a small struct of slices. Headers that may
 * carry a comma-separated list are parsed one element per call: the cursor is
 * advanced past the element and its comma; an empty cursor means done.
 * All return 0 or a negative errno-style code (-EINVAL for bad syntax) and, on
 * error, set *why (when not NULL) to a short static reason. */
#ifndef SIPHON_MSG_HDR_H
#define SIPHON_MSG_HDR_H

#include "base/str.h"

#include <stdbool.h>
#include <stdint.h>

/* ---- generic ---- */

/* Next ';'-separated generic-param from *cur (the leading ';' already
 * consumed or not: leading LWS and one ';' are skipped). name/value are
 * slices; value is empty for a flag, and keeps quotes for quoted-string
 * values. Stops (returns 1) at ',' or end without consuming the ','.
 * Returns 0 when a param was produced, 1 when there is none, -EINVAL on bad
 * syntax. */
int sip_param_next(struct str *cur, struct str *name, struct str *value, const char **why);

/* Find a param by name (case-insensitive) in a raw ";a=b;c" list.
 * Returns 1 if found (value set, empty for flags), 0 if absent. */
int sip_param_find(struct str params, struct str name, struct str *value);

/* Next comma-separated token of a list like Require, Supported, Allow.
 * Returns 0 and sets *tok, 1 at end of list, -EINVAL on a non-token. */
int sip_token_next(struct str *cur, struct str *tok, const char **why);

/* ---- Via (RFC 3261 §20.42) ---- */
struct sip_via {
	struct str proto_name;    /* "SIP" */
	struct str proto_version; /* "2.0" */
	struct str transport;     /* "UDP", "TCP", "TLS", "SCTP", other token */
	struct str host;          /* IPv6 with brackets */
	uint8_t host_type;        /* enum sip_host_type (msg/uri.h) */
	uint16_t port;            /* 0 when absent */
	bool has_port;
	struct str branch, received, maddr, ttl, rport;
	bool has_rport;           /* rport present, with or without value */
	struct str params;        /* raw params after sent-by, leading ';' excluded */
	struct str raw;           /* the whole via-parm, trimmed */
};
/* Parse one via-parm at *cur and advance past it and its comma. On error the
 * fields parsed before the fault (protocol, host, port) stay filled. */
int sip_via_parse(struct sip_via *v, struct str *cur, const char **why);

/* ---- name-addr / addr-spec with params: From, To, Contact, Route, Record-Route,
 * Path, Reply-To (RFC 3261 §20.10, §25.1) ---- */
struct sip_nameaddr {
	struct str display; /* as written, quotes kept; empty if none */
	struct str uri;     /* without <> */
	bool bracketed;     /* URI was in <> */
	bool star;          /* Contact: * */
	struct str params;  /* raw header params, leading ';' excluded */
	struct str tag, expires, q; /* well-known params (escaped form) */
	bool has_tag, has_expires, has_q;
	struct str raw;
};
enum sip_nameaddr_flags {
	SIP_NA_ALLOW_STAR = 1 << 0, /* Contact */
	SIP_NA_LIST = 1 << 1,       /* stop at ',' and consume it (Contact, Route, ...) */
};
int sip_nameaddr_parse(struct sip_nameaddr *na, struct str *cur, unsigned flags, const char **why);

/* ---- scalars ---- */
struct sip_cseq {
	uint32_t num;     /* 0 .. 2^31-1 per RFC 3261 §8.1.1.5, up to 2^32-1 accepted */
	struct str method;
};
int sip_cseq_parse(struct sip_cseq *c, struct str value, const char **why);

/* Max-Forwards (0..255), Expires / Min-Expires (delta-seconds, 32 bit),
 * Content-Length (bounded by max). */
int sip_uint_parse(struct str value, uint32_t max, uint32_t *out, const char **why);

/* Call-ID: word [ "@" word ] (RFC 3261 §25.1). */
int sip_callid_check(struct str value, const char **why);

/* ---- Authorization / Proxy-Authorization / WWW-Authenticate /
 * Proxy-Authenticate (RFC 3261 §20.7, §25.1; RFC 7616; RFC 8760) ---- */
struct sip_auth {
	struct str scheme; /* "Digest" or another token */
	struct str username, realm, nonce, uri, response, algorithm, cnonce, opaque,
		qop, nc, domain, stale, userhash;
	struct str params; /* the raw auth-param list after the scheme */
};
/* Values are unquoted slices (the quotes are not included; quoted-pairs are
 * left escaped). Unknown params are skipped. */
int sip_auth_parse(struct sip_auth *a, struct str value, const char **why);

/* Copy a quoted-string's content with quoted-pairs resolved. Returns length,
 * -ENOSPC or -EINVAL. */
int sip_unquote(char *dst, size_t cap, struct str quoted);

#endif
