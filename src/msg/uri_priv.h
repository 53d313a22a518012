/* Helpers shared by the URI parser and comparison (internal to src/msg). */
#ifndef SIPHON_MSG_URI_PRIV_H
#define SIPHON_MSG_URI_PRIV_H

#include "base/str.h"

#include <stdbool.h>
#include <stdint.h>

/* Split the next sep-separated "name[=value]" item off the front of *cur
 * (the separator is consumed). *has_eq tells "a=" from "a". Returns false
 * when *cur is exhausted (cur->s == NULL or no bytes left and no item). */
bool sip_uri_next_pair(struct str *cur, char sep, struct str *name, struct str *value,
		       bool *has_eq);

/* Does the octet belong to RFC 3261 §25.1 "reserved"? An escaped reserved
 * octet is not equivalent to its literal form (RFC 3261 §19.1.4). */
bool sip_uri_reserved(unsigned char c);

static inline unsigned sip_uri_hexval(char c)
{
	return c <= '9' ? (unsigned)(c - '0') : (unsigned)((c | 0x20) - 'a' + 10);
}

/* The 16 octets of a bracketed IPv6 host as sip_hostport_parse() accepted
 * it ("[2001:db8::1]", embedded IPv4 and the §4.10 three-colon form
 * included). Returns false if the slice is not such a host. */
bool sip_host_ipv6_bytes(struct str host, uint8_t out[16]);

#endif
