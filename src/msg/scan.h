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
	/* Classes that let one table load per octet replace a chain of tests: */
	SC_GENVAL = 1 << 8,     /* gen-value chars outside quotes: token + : [ ] (host) */
	SC_URISTOP = 1 << 9,    /* what prescan() must look at: CTL SP DEL non-ASCII < > % */
	SC_NABAD = 1 << 10,     /* not allowed inside <>: WSP CTL DEL < " */
	SC_LWS = 1 << 11,       /* SP HTAB CR (what may start LWS in a value) */
};

extern const uint16_t sip_scan_class[256];

static inline bool sc_is(unsigned char c, uint16_t cls)
{
	return (sip_scan_class[c] & cls) != 0;
}

/* The first octet in [p, end) that is not of class cls (sc_span) or that is
 * (sc_find), or end. Unrolled by four: the runs scanned (tokens, hosts,
 * URIs, Call-IDs) are long enough that the loop test per octet shows. */
#define SC_SCAN_LOOP(p, end, test)                                                      \
	do {                                                                            \
		for (; (end) - (p) >= 4; (p) += 4) {                                    \
			if (test((p)[0]))                                               \
				return (p);                                             \
			if (test((p)[1]))                                               \
				return (p) + 1;                                         \
			if (test((p)[2]))                                               \
				return (p) + 2;                                         \
			if (test((p)[3]))                                               \
				return (p) + 3;                                         \
		}                                                                       \
		for (; (p) < (end); (p)++)                                              \
			if (test(*(p)))                                                 \
				return (p);                                             \
		return (end);                                                           \
	} while (0)

static inline const char *sc_span(const char *p, const char *end, uint16_t cls)
{
#define SC_NOT_IN(c) (!(sip_scan_class[(unsigned char)(c)] & cls))
	SC_SCAN_LOOP(p, end, SC_NOT_IN);
#undef SC_NOT_IN
}

static inline const char *sc_find(const char *p, const char *end, uint16_t cls)
{
#define SC_IN(c) (sip_scan_class[(unsigned char)(c)] & cls)
	SC_SCAN_LOOP(p, end, SC_IN);
#undef SC_IN
}

static inline bool sc_token(unsigned char c) { return sc_is(c, SC_TOKEN); }
static inline bool sc_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static inline bool sc_hex(unsigned char c)
{
	return sc_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}
static inline bool sc_alpha(unsigned char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }
static inline bool sc_wsp(unsigned char c) { return c == ' ' || c == '\t'; }

void sc_skip_lws_slow(struct str *cur);

/* Skip LWS (RFC 3261 §25.1: [*WSP CRLF] 1*WSP, and bare WSP) from the front of
 * *cur. Header values handed out by the message parser may contain folded
 * CRLF+WSP; a CRLF not followed by WSP is not skipped. Most calls find no
 * LWS at all, so that case is decided inline by the first octet. */
static inline void sc_skip_lws(struct str *cur)
{
	if (cur->len && sc_is((unsigned char)cur->s[0], SC_LWS))
		sc_skip_lws_slow(cur);
}

static inline void sc_advance(struct str *cur, size_t n)
{
	cur->s += n;
	cur->len -= n;
}

/* Consume a run of token chars; returns the slice (empty if none). */
static inline struct str sc_take_token(struct str *cur)
{
	struct str t = str_make(cur->s, 0);

	if (cur->len) { /* cur->s may be NULL when empty */
		t.len = (size_t)(sc_span(cur->s, cur->s + cur->len, SC_TOKEN) - cur->s);
		sc_advance(cur, t.len);
	}
	return t;
}

/* Consume a quoted-string starting at the '"' at the front of *cur (RFC 3261
 * §25.1: qdtext and quoted-pair). Sets *out to the whole string with its
 * quotes. Returns 0 or -EINVAL if unterminated or holding a bad octet. */
int sc_take_quoted(struct str *cur, struct str *out);

/* Report a parse failure: *why (when asked for) gets reason. */
static inline int sc_fail(const char **why, const char *reason, int err)
{
	if (why)
		*why = reason;
	return err;
}

/* A non-empty run of token characters (RFC 3261 §25.1 token). */
static inline bool sc_is_token(struct str v)
{
	if (v.len == 0)
		return false;
	for (size_t i = 0; i < v.len; i++)
		if (!sc_token((unsigned char)v.s[i]))
			return false;
	return true;
}

#endif
