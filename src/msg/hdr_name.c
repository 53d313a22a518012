/* Header names: long and compact forms (RFC 3261 §7.3.3, §20; RFC 3265, 3515,
 * 3892, 4028 compact letters), case-insensitive (§7.3.1). */
#include "msg/msg.h"

#include <pthread.h>

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

/* Per-length buckets of long_names indices, built on first use. Names are
 * compared with a lower-case OR: exact for token characters (the indexer
 * only hands us tokens), since no non-letter token octet ORs into a letter
 * or into '-'. */
#define MAXLEN 24
static uint8_t bucket[MAXLEN + 1][6];
static uint8_t nbucket[MAXLEN + 1];
static char lower_names[NLONG][MAXLEN + 1];

static void build_buckets(void)
{
	for (size_t i = 0; i < NLONG; i++) {
		const struct hdr_name *h = &long_names[i];
		for (size_t k = 0; k < h->len; k++)
			lower_names[i][k] = (char)(h->name[k] | 0x20);
		bucket[h->len][nbucket[h->len]++] = (uint8_t)i;
	}
}

static inline bool token_caseeq(const char *s, const char *lower, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((char)(s[i] | 0x20) != lower[i])
			return false;
	return true;
}

enum sip_hdr_type sip_hdr_lookup(const char *name, size_t len)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	if (len == 1) {
		unsigned c = (unsigned char)name[0] | 0x20;
		return (c >= 'a' && c <= 'z') ? (enum sip_hdr_type)compact[c - 'a'] : SIP_HDR_OTHER;
	}
	if (len == 0 || len > MAXLEN)
		return SIP_HDR_OTHER;
	pthread_once(&once, build_buckets);
	for (unsigned i = 0; i < nbucket[len]; i++) {
		unsigned idx = bucket[len][i];
		if (token_caseeq(name, lower_names[idx], len))
			return (enum sip_hdr_type)long_names[idx].type;
	}
	return SIP_HDR_OTHER;
}

const char *sip_hdr_name(enum sip_hdr_type t)
{
	for (size_t i = 0; i < NLONG; i++)
		if (long_names[i].type == t)
			return long_names[i].name;
	return NULL;
}
