/* SIP/SIPS URI (RFC 3261 §19.1, §25.1), tel URI (RFC 3966) and opaque absolute
 * URIs. Parsing fills slices into the caller's buffer; nothing is unescaped in
 * place (use sip_uri_unescape() into a buffer of your own). */
#ifndef SIPHON_MSG_URI_H
#define SIPHON_MSG_URI_H

#include "base/str.h"

#include <stdbool.h>
#include <stdint.h>

enum sip_uri_scheme {
	SIP_URI_SIP = 1,
	SIP_URI_SIPS,
	SIP_URI_TEL,
	SIP_URI_OTHER, /* absoluteURI kept opaque (RFC 3261 §25.1) */
};

enum sip_host_type {
	SIP_HOST_NONE = 0,
	SIP_HOST_NAME,
	SIP_HOST_IPV4,
	SIP_HOST_IPV6, /* host slice keeps the brackets: "[2001:db8::1]" */
};

struct sip_uri {
	enum sip_uri_scheme scheme;
	struct str scheme_str;  /* as written */
	struct str user;        /* escaped form; for tel: the number */
	struct str password;
	bool has_password;
	struct str host;        /* IPv6 with brackets */
	enum sip_host_type host_type;
	uint16_t port;          /* 0 when absent */
	bool has_port;
	struct str params;      /* raw, from the first ';' (excluded) up to '?' or end */
	struct str headers;     /* raw, after '?' */
	/* well-known uri-parameters (RFC 3261 §19.1.1), value slices (escaped form) */
	struct str transport, user_param, method, maddr, ttl;
	bool lr;
	struct str opaque;      /* SIP_URI_OTHER and tel: everything after "scheme:" */
	struct str raw;         /* the whole URI */
};

/* Consume host [":" port] from the front of *cur (RFC 3261 §25.1 hostport),
 * stopping at the first octet that cannot continue it (';' '?' '>' ',' SP ...).
 * The host is classified as a hostname, IPv4address or bracketed IPv6reference
 * (brackets kept in *host; RFC 5118 §4.10 "::: before IPv4" tolerated); an
 * unbracketed IPv6 address is rejected (RFC 5118 §4.2). *port is 0 and
 * *has_port false when absent. No LWS is allowed around ':' here.
 * Returns 0, or -EINVAL with *why set; *cur is only advanced on success. */
int sip_hostport_parse(struct str *cur, struct str *host, enum sip_host_type *type,
		       uint16_t *port, bool *has_port, const char **why);

/* Parse exactly s[0..len) as one URI. Returns 0, or -EINVAL with *why set to a
 * short static reason ("bad host", "bad port", ...) when why is not NULL. */
int sip_uri_parse(struct sip_uri *u, const char *s, size_t len, const char **why);

/* RFC 3261 §19.1.4 comparison of two parsed SIP/SIPS URIs (escapes decoded,
 * scheme/host/params case rules, user/password case-sensitive, parameter
 * presence rules, headers compared). Non-SIP schemes compare byte-wise after
 * scheme case-folding. */
bool sip_uri_equal(const struct sip_uri *a, const struct sip_uri *b);

/* Decode %HH escapes of src into dst (cap bytes, no NUL added). Returns the
 * decoded length, or -EINVAL on a bad escape, -ENOSPC if dst is too small. */
int sip_uri_unescape(char *dst, size_t cap, struct str src);

/* Look up a uri-parameter by name (case-insensitive) in u->params. Returns 1 and
 * sets *value (empty for a flag parameter) if present, 0 if absent. */
int sip_uri_param(const struct sip_uri *u, struct str name, struct str *value);

#endif
