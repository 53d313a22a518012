/* Character classes and small scanners shared by the message parsers
 * (RFC 3261 §25.1 ABNF). Internal to src/msg. */
#ifndef SIPHON_MSG_SCAN_H
#define SIPHON_MSG_SCAN_H

#include "base/str.h"

#include <stdbool.h>
#include <stdint.h>

enum {
	SC_ALNUM = 1 << 0,
	SC_TOKEN = 1 << 1,      /* token chars: alphanum - . ! % * _ + ` ' ~ */
	SC_UNRESERVED = 1 << 2, /* alphanum mark: - _ . ! ~ * ' ( ) */
	SC_USER = 1 << 3,       /* user-unreserved: & = + $ , ; ? / */
	SC_PARAM = 1 << 4,      /* param-unreserved: [ ] / : & + $ */
	SC_HNV = 1 << 5,        /* hnv-unreserved: [ ] / ? : + $ */
	SC_PASSWORD = 1 << 6,   /* & = + $ , */
	SC_WORD = 1 << 7,       /* word chars (Call-ID): token + ( ) < > : \ " / [ ] ? { } */
};

extern const uint8_t sip_scan_class[256];

static inline bool sc_is(unsigned char c, uint8_t cls)
{
	return (sip_scan_class[c] & cls) != 0;
}

static inline bool sc_token(unsigned char c) { return sc_is(c, SC_TOKEN); }
static inline bool sc_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static inline bool sc_hex(unsigned char c)
{
	return sc_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}
static inline bool sc_alpha(unsigned char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }
static inline bool sc_wsp(unsigned char c) { return c == ' ' || c == '\t'; }

/* Skip LWS (RFC 3261 §25.1: [*WSP CRLF] 1*WSP, and bare WSP) from the front of
 * *cur. Header values handed out by the message parser may contain folded
 * CRLF+WSP; a CRLF not followed by WSP is not skipped. */
void sc_skip_lws(struct str *cur);

/* Consume a run of token chars; returns the slice (empty if none). */
struct str sc_take_token(struct str *cur);

/* Consume a quoted-string starting at the '"' at the front of *cur (RFC 3261
 * §25.1: qdtext and quoted-pair). Sets *out to the whole string with its
 * quotes. Returns 0 or -EINVAL if unterminated or holding a bad octet. */
int sc_take_quoted(struct str *cur, struct str *out);

static inline void sc_advance(struct str *cur, size_t n)
{
	cur->s += n;
	cur->len -= n;
}

#endif
