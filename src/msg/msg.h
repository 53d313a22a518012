/* SIP message: one pass over a received buffer that frames the message, splits
 * the start line, and indexes every header as slices into the buffer (RFC 3261
 * §7). Nothing is copied and nothing is allocated: struct sip_msg holds a fixed
 * header table. Headers a proxy needs are checked eagerly; the rest are parsed
 * on demand with the parsers in msg/hdr.h. */
#ifndef SIPHON_MSG_MSG_H
#define SIPHON_MSG_MSG_H

#include "base/str.h"
#include "msg/hdr.h"
#include "msg/method.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Header types that the parser recognises by name (long and compact forms). */
enum sip_hdr_type {
	SIP_HDR_OTHER = 0,
	SIP_HDR_VIA,
	SIP_HDR_FROM,
	SIP_HDR_TO,
	SIP_HDR_CALL_ID,
	SIP_HDR_CSEQ,
	SIP_HDR_MAX_FORWARDS,
	SIP_HDR_CONTENT_LENGTH,
	SIP_HDR_CONTENT_TYPE,
	SIP_HDR_CONTENT_ENCODING,
	SIP_HDR_CONTACT,
	SIP_HDR_ROUTE,
	SIP_HDR_RECORD_ROUTE,
	SIP_HDR_PATH,
	SIP_HDR_EXPIRES,
	SIP_HDR_MIN_EXPIRES,
	SIP_HDR_REQUIRE,
	SIP_HDR_PROXY_REQUIRE,
	SIP_HDR_SUPPORTED,
	SIP_HDR_UNSUPPORTED,
	SIP_HDR_ALLOW,
	SIP_HDR_ACCEPT,
	SIP_HDR_AUTHORIZATION,
	SIP_HDR_PROXY_AUTHORIZATION,
	SIP_HDR_WWW_AUTHENTICATE,
	SIP_HDR_PROXY_AUTHENTICATE,
	SIP_HDR_SUBJECT,
	SIP_HDR_EVENT,
	SIP_HDR_DATE,
	SIP_HDR_USER_AGENT,
	SIP_HDR_SERVER,
	SIP_HDR_REFER_TO,
	SIP_HDR_REFERRED_BY,
	SIP_HDR_ALLOW_EVENTS,
	SIP_HDR_SESSION_EXPIRES,
	SIP_HDR_TIMESTAMP,
	SIP_HDR__COUNT
};

/* Canonical long name of a header type ("Via", "Call-ID", ...). */
const char *sip_hdr_name(enum sip_hdr_type t);
/* Header type from a name made of token characters (case-insensitive,
 * compact forms included). */
enum sip_hdr_type sip_hdr_lookup(const char *name, size_t len);

#define SIP_HDR_NONE UINT16_MAX
#ifndef SIP_MSG_MAX_HDRS
#define SIP_MSG_MAX_HDRS 128
#endif

/* One header line (folded continuation lines included). */
struct sip_hdr {
	struct str name;  /* as written, e.g. "v" or "VIA" */
	struct str value; /* trimmed; may contain folded CRLF+WSP (treat as LWS) */
	struct str line;  /* whole line from name to the CRLF that ends it, CRLF included */
	uint16_t type;    /* enum sip_hdr_type */
	uint16_t next;    /* index of the next header of the same type, or SIP_HDR_NONE */
};

/* Why a message was rejected: a stable SIP reason phrase and where. */
struct sip_err {
	int code;           /* SIP status to answer with (400, 505, ...), 0 if none */
	const char *reason; /* static string, e.g. "Bad CSeq" */
	size_t offset;      /* byte offset in the buffer where the fault was seen */
};

enum sip_parse_flags {
	/* The buffer is one whole datagram (RFC 3261 §18.3): a missing
	 * Content-Length means the body is the rest of the datagram, a larger
	 * one is an error, extra octets after the body are ignored. */
	SIP_PARSE_DATAGRAM = 0,
	/* The buffer is a stream prefix: Content-Length is mandatory and
	 * -EAGAIN asks for more bytes. */
	SIP_PARSE_STREAM = 1 << 0,
};

struct sip_msg {
	const char *buf; /* not owned */
	size_t len;      /* bytes of this message: start line + headers + body */

	bool is_request;
	/* request line */
	struct str method;
	enum sip_method method_id;
	struct str ruri;
	uint8_t ruri_scheme; /* enum sip_uri_scheme, 0 if the Request-URI is bad */
	struct str ruri_user, ruri_host; /* of a sip/sips Request-URI (host as written,
					    IPv6 with brackets); empty otherwise */
	/* status line */
	uint16_t status;
	struct str reason;
	struct str version; /* "SIP/2.0" */

	struct str head;  /* start line through the empty line, CRLFs included */
	struct str body;

	uint16_t nhdrs;
	uint16_t first[SIP_HDR__COUNT]; /* first header index of each type */
	uint16_t last[SIP_HDR__COUNT];
	struct sip_hdr hdrs[SIP_MSG_MAX_HDRS];

	/* Eagerly checked headers (valid once sip_msg_parse() returned 0). */
	struct sip_via via1;    /* first value of the first Via */
	struct str via1_rest;   /* what follows via1 in its header value (a proxy drops
				   via1 without parsing it again); .s NULL: not parsed */
	bool via1_ok;           /* via1 sent-by usable for a response, even on error */
	struct sip_cseq cseq;
	struct sip_nameaddr from, to;
	struct str call_id;
	int32_t max_forwards;   /* -1 if absent */
	int32_t content_length; /* -1 if absent */

	struct sip_err err;
};

/* Parse buf[0..len). Returns 0 on success, -EAGAIN when a stream needs more
 * bytes, or -EBADMSG when the message is malformed: m->err says why, and the
 * header index is filled as far as it got so that a 400 can be built.
 * On streams, leading CRLFs are skipped (m->buf points past them); -EAGAIN
 * with m->len > 0 means the header section is complete and the message is
 * m->len bytes from m->buf (wait for them); after
 * -EBADMSG m->len == 0 means framing is lost (close the connection), while
 * m->len > 0 means the bad message can be skipped. More than
 * SIP_MSG_MAX_HDRS headers is reported as "Too Many Headers". */
int sip_msg_parse(struct sip_msg *m, const char *buf, size_t len, unsigned flags);

/* First header of a type, or NULL. */
static inline const struct sip_hdr *sip_msg_hdr(const struct sip_msg *m, enum sip_hdr_type t)
{
	return m->first[t] == SIP_HDR_NONE ? NULL : &m->hdrs[m->first[t]];
}

/* Next header of the same type after h, or NULL. */
static inline const struct sip_hdr *sip_msg_hdr_next(const struct sip_msg *m, const struct sip_hdr *h)
{
	return h->next == SIP_HDR_NONE ? NULL : &m->hdrs[h->next];
}

/* First header with an arbitrary name (case-insensitive, compact forms mapped). */
const struct sip_hdr *sip_msg_hdr_by_name(const struct sip_msg *m, struct str name);

#endif
