/* Header names: long and compact forms (RFC 3261 §7.3.3, §20; RFC 3265, 3515,
 * 3892, 4028 compact letters), case-insensitive (§7.3.1). */
#include "msg/msg.h"

#include <string.h>

struct hdr_name {
	const char *name;
	uint8_t len;
	uint8_t type;
};

#define H(n, t) { n, sizeof(n) - 1, t }

static const struct hdr_name long_names[] = {
	H("Via", SIP_HDR_VIA),
	H("From", SIP_HDR_FROM),
	H("To", SIP_HDR_TO),
	H("Call-ID", SIP_HDR_CALL_ID),
	H("CSeq", SIP_HDR_CSEQ),
	H("Max-Forwards", SIP_HDR_MAX_FORWARDS),
	H("Content-Length", SIP_HDR_CONTENT_LENGTH),
	H("Content-Type", SIP_HDR_CONTENT_TYPE),
	H("Content-Encoding", SIP_HDR_CONTENT_ENCODING),
	H("Contact", SIP_HDR_CONTACT),
	H("Route", SIP_HDR_ROUTE),
	H("Record-Route", SIP_HDR_RECORD_ROUTE),
	H("Path", SIP_HDR_PATH),
	H("Expires", SIP_HDR_EXPIRES),
	H("Min-Expires", SIP_HDR_MIN_EXPIRES),
	H("Require", SIP_HDR_REQUIRE),
	H("Proxy-Require", SIP_HDR_PROXY_REQUIRE),
	H("Supported", SIP_HDR_SUPPORTED),
	H("Unsupported", SIP_HDR_UNSUPPORTED),
	H("Allow", SIP_HDR_ALLOW),
	H("Accept", SIP_HDR_ACCEPT),
	H("Authorization", SIP_HDR_AUTHORIZATION),
	H("Proxy-Authorization", SIP_HDR_PROXY_AUTHORIZATION),
	H("WWW-Authenticate", SIP_HDR_WWW_AUTHENTICATE),
	H("Proxy-Authenticate", SIP_HDR_PROXY_AUTHENTICATE),
	H("Subject", SIP_HDR_SUBJECT),
	H("Event", SIP_HDR_EVENT),
	H("Date", SIP_HDR_DATE),
	H("User-Agent", SIP_HDR_USER_AGENT),
	H("Server", SIP_HDR_SERVER),
	H("Refer-To", SIP_HDR_REFER_TO),
	H("Referred-By", SIP_HDR_REFERRED_BY),
	H("Allow-Events", SIP_HDR_ALLOW_EVENTS),
	H("Session-Expires", SIP_HDR_SESSION_EXPIRES),
	H("Timestamp", SIP_HDR_TIMESTAMP),
};

/* Compact forms indexed by lower-case letter. */
static const uint8_t compact[26] = {
	['i' - 'a'] = SIP_HDR_CALL_ID,	      ['m' - 'a'] = SIP_HDR_CONTACT,
	['e' - 'a'] = SIP_HDR_CONTENT_ENCODING, ['l' - 'a'] = SIP_HDR_CONTENT_LENGTH,
	['c' - 'a'] = SIP_HDR_CONTENT_TYPE,   ['f' - 'a'] = SIP_HDR_FROM,
	['s' - 'a'] = SIP_HDR_SUBJECT,	      ['k' - 'a'] = SIP_HDR_SUPPORTED,
	['t' - 'a'] = SIP_HDR_TO,	      ['v' - 'a'] = SIP_HDR_VIA,
	['o' - 'a'] = SIP_HDR_EVENT,	      ['r' - 'a'] = SIP_HDR_REFER_TO,
	['b' - 'a'] = SIP_HDR_REFERRED_BY,    ['u' - 'a'] = SIP_HDR_ALLOW_EVENTS,
	['x' - 'a'] = SIP_HDR_SESSION_EXPIRES,
};

#define NLONG (sizeof(long_names) / sizeof(long_names[0]))

static inline uint64_t load64(const char *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static inline uint32_t load32(const char *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static inline uint16_t load16(const char *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return v;
}

/* Does s[0..n) equal the lower-case literal lower, ignoring case? The name
 * is compared with a lower-case OR, a few overlapping words at a time (n is
 * a constant once inlined, so the branches and the literal's loads fold).
 * Exact for token characters (the indexer only hands us tokens): no
 * non-letter token octet ORs into a letter or into '-'. */
static inline bool lc_eq(const char *s, const char *lower, size_t n)
{
	const uint64_t m8 = 0x2020202020202020ull;
	const uint32_t m4 = 0x20202020u;
	const uint16_t m2 = 0x2020u;

	if (n >= 8) {
		for (size_t i = 0; i + 8 < n; i += 8)
			if ((load64(s + i) | m8) != load64(lower + i))
				return false;
		return (load64(s + n - 8) | m8) == load64(lower + n - 8);
	}
	if (n >= 4)
		return (load32(s) | m4) == load32(lower) &&
		       (load32(s + n - 4) | m4) == load32(lower + n - 4);
	if (n >= 2)
		return (uint16_t)(load16(s) | m2) == load16(lower) &&
		       (uint16_t)(load16(s + n - 2) | m2) == load16(lower + n - 2);
	return n == 1 && (char)(s[0] | 0x20) == lower[0];
}

/* Switch on the length, then try the one to five names of that length. */
enum sip_hdr_type sip_hdr_lookup(const char *name, size_t len)
{
#define TRY(lit, t)                                    \
	if (lc_eq(name, lit, sizeof(lit) - 1)) \
		return t
	switch (len) {
	case 1: {
		unsigned c = (unsigned char)name[0] | 0x20;
		return (c >= 'a' && c <= 'z') ? (enum sip_hdr_type)compact[c - 'a'] : SIP_HDR_OTHER;
	}
	case 2:
		TRY("to", SIP_HDR_TO);
		break;
	case 3:
		TRY("via", SIP_HDR_VIA);
		break;
	case 4:
		TRY("from", SIP_HDR_FROM);
		TRY("cseq", SIP_HDR_CSEQ);
		TRY("path", SIP_HDR_PATH);
		TRY("date", SIP_HDR_DATE);
		break;
	case 5:
		TRY("route", SIP_HDR_ROUTE);
		TRY("allow", SIP_HDR_ALLOW);
		TRY("event", SIP_HDR_EVENT);
		break;
	case 6:
		TRY("accept", SIP_HDR_ACCEPT);
		TRY("server", SIP_HDR_SERVER);
		break;
	case 7:
		TRY("call-id", SIP_HDR_CALL_ID);
		TRY("contact", SIP_HDR_CONTACT);
		TRY("expires", SIP_HDR_EXPIRES);
		TRY("require", SIP_HDR_REQUIRE);
		TRY("subject", SIP_HDR_SUBJECT);
		break;
	case 8:
		TRY("refer-to", SIP_HDR_REFER_TO);
		break;
	case 9:
		TRY("supported", SIP_HDR_SUPPORTED);
		TRY("timestamp", SIP_HDR_TIMESTAMP);
		break;
	case 10:
		TRY("user-agent", SIP_HDR_USER_AGENT);
		break;
	case 11:
		TRY("min-expires", SIP_HDR_MIN_EXPIRES);
		TRY("unsupported", SIP_HDR_UNSUPPORTED);
		TRY("referred-by", SIP_HDR_REFERRED_BY);
		break;
	case 12:
		TRY("max-forwards", SIP_HDR_MAX_FORWARDS);
		TRY("content-type", SIP_HDR_CONTENT_TYPE);
		TRY("record-route", SIP_HDR_RECORD_ROUTE);
		TRY("allow-events", SIP_HDR_ALLOW_EVENTS);
		break;
	case 13:
		TRY("authorization", SIP_HDR_AUTHORIZATION);
		TRY("proxy-require", SIP_HDR_PROXY_REQUIRE);
		break;
	case 14:
		TRY("content-length", SIP_HDR_CONTENT_LENGTH);
		break;
	case 15:
		TRY("session-expires", SIP_HDR_SESSION_EXPIRES);
		break;
	case 16:
		TRY("content-encoding", SIP_HDR_CONTENT_ENCODING);
		TRY("www-authenticate", SIP_HDR_WWW_AUTHENTICATE);
		break;
	case 18:
		TRY("proxy-authenticate", SIP_HDR_PROXY_AUTHENTICATE);
		break;
	case 19:
		TRY("proxy-authorization", SIP_HDR_PROXY_AUTHORIZATION);
		break;
	default:
		break;
	}
#undef TRY
	return SIP_HDR_OTHER;
}

const char *sip_hdr_name(enum sip_hdr_type t)
{
	for (size_t i = 0; i < NLONG; i++)
		if (long_names[i].type == t)
			return long_names[i].name;
	return NULL;
}
