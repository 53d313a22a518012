/* Siphon's parser, as a proxy uses it and with every header parsed. */
#include "bench.h"

#include "msg/msg.h"
#include "msg/uri.h"

#include <errno.h>

/* Reused between calls, as a transport worker would. */
static struct sip_msg msg;

int bench_siphon_parse(const char *buf, size_t len)
{
	return sip_msg_parse(&msg, buf, len, SIP_PARSE_DATAGRAM);
}

static int parse_uri(struct str s)
{
	struct sip_uri u;

	return sip_uri_parse(&u, s.s, s.len, NULL) != 0;
}

static int parse_vias(const struct sip_msg *m)
{
	int bad = 0;

	for (const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_VIA); h; h = sip_msg_hdr_next(m, h)) {
		struct str cur = h->value;
		while (str_trim(cur).len) {
			struct sip_via v;
			if (sip_via_parse(&v, &cur, NULL) != 0) {
				bad++;
				break;
			}
		}
	}
	return bad;
}

/* Contact, Route, Record-Route, Path, ...: name-addr lists, URIs included. */
static int parse_nameaddrs(const struct sip_msg *m, enum sip_hdr_type t, unsigned flags)
{
	int bad = 0;

	for (const struct sip_hdr *h = sip_msg_hdr(m, t); h; h = sip_msg_hdr_next(m, h)) {
		struct str cur = h->value;
		while (str_trim(cur).len) {
			struct sip_nameaddr na;
			if (sip_nameaddr_parse(&na, &cur, flags | SIP_NA_LIST, NULL) != 0) {
				bad++;
				break;
			}
			if (!na.star)
				bad += parse_uri(na.uri);
		}
	}
	return bad;
}

static int parse_tokens(const struct sip_msg *m, enum sip_hdr_type t)
{
	int bad = 0;

	for (const struct sip_hdr *h = sip_msg_hdr(m, t); h; h = sip_msg_hdr_next(m, h)) {
		struct str cur = h->value, tok;
		int r;
		while ((r = sip_token_next(&cur, &tok, NULL)) == 0)
			;
		bad += r < 0;
	}
	return bad;
}

static int parse_auths(const struct sip_msg *m, enum sip_hdr_type t)
{
	int bad = 0;

	for (const struct sip_hdr *h = sip_msg_hdr(m, t); h; h = sip_msg_hdr_next(m, h)) {
		struct sip_auth a;
		bad += sip_auth_parse(&a, h->value, NULL) != 0;
	}
	return bad;
}

static int parse_uints(const struct sip_msg *m, enum sip_hdr_type t)
{
	int bad = 0;

	for (const struct sip_hdr *h = sip_msg_hdr(m, t); h; h = sip_msg_hdr_next(m, h)) {
		uint32_t u;
		bad += sip_uint_parse(h->value, UINT32_MAX, &u, NULL) != 0;
	}
	return bad;
}

int bench_siphon_full_parse(const char *buf, size_t len)
{
	const struct sip_msg *m = &msg;
	int bad;

	if (sip_msg_parse(&msg, buf, len, SIP_PARSE_DATAGRAM) != 0)
		return -EBADMSG;
	bad = m->is_request ? parse_uri(m->ruri) : 0;
	bad += parse_uri(m->from.uri) + parse_uri(m->to.uri);
	bad += parse_vias(m);
	bad += parse_nameaddrs(m, SIP_HDR_CONTACT, SIP_NA_ALLOW_STAR);
	bad += parse_nameaddrs(m, SIP_HDR_ROUTE, 0);
	bad += parse_nameaddrs(m, SIP_HDR_RECORD_ROUTE, 0);
	bad += parse_nameaddrs(m, SIP_HDR_PATH, 0);
	bad += parse_nameaddrs(m, SIP_HDR_REFER_TO, 0);
	bad += parse_nameaddrs(m, SIP_HDR_REFERRED_BY, 0);
	bad += parse_auths(m, SIP_HDR_AUTHORIZATION);
	bad += parse_auths(m, SIP_HDR_PROXY_AUTHORIZATION);
	bad += parse_auths(m, SIP_HDR_WWW_AUTHENTICATE);
	bad += parse_auths(m, SIP_HDR_PROXY_AUTHENTICATE);
	bad += parse_uints(m, SIP_HDR_EXPIRES);
	bad += parse_uints(m, SIP_HDR_MIN_EXPIRES);
	bad += parse_tokens(m, SIP_HDR_REQUIRE);
	bad += parse_tokens(m, SIP_HDR_PROXY_REQUIRE);
	bad += parse_tokens(m, SIP_HDR_SUPPORTED);
	bad += parse_tokens(m, SIP_HDR_UNSUPPORTED);
	bad += parse_tokens(m, SIP_HDR_ALLOW);
	bad += parse_tokens(m, SIP_HDR_ALLOW_EVENTS);
	return bad;
}
