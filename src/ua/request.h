/* Writing the requests a UAC sends outside a dialog (RFC 3261 §8.1.1): the
 * request line, a Via with our sent-by, branch and rport (RFC 3581), and the
 * mandatory To, From, CSeq, Call-ID, Max-Forwards, plus Contact, User-Agent,
 * Content-Length and whatever the method adds. */
#ifndef SIPHON_UA_REQUEST_H
#define SIPHON_UA_REQUEST_H

#include "base/str.h"
#include "transport/addr.h"

#include <stdint.h>

#define UA_MAX_FORWARDS 70 /* §8.1.1.6 */
#define UA_USER_AGENT "Siphon/" SIPHON_VERSION
#define UA_REQUEST_MAX 4096

struct ua_request {
	struct str method;       /* "OPTIONS" */
	struct str ruri;         /* Request-URI as written */
	enum tp_proto proto;     /* transport of the Via */
	struct tp_addr sent_by;  /* our address and port (§18.1.1) */
	struct str branch;       /* with the magic cookie */
	struct str from_uri;     /* empty: sip:siphon@<sent-by host> */
	struct str from_tag;
	struct str to_uri;       /* empty: the Request-URI (§8.1.1.2) */
	struct str to_tag;       /* empty outside a dialog */
	struct str call_id;
	uint32_t cseq;
	struct str contact_uri;  /* empty: sip(s):siphon@<sent-by>[;transport=] */
	struct str extra;        /* more header lines, each ending in CRLF */
	struct str content_type; /* with body */
	struct str body;
};

/* Write r into out[0..cap). Returns the length, -ENOSPC, or -EINVAL when a
 * field is missing or holds CR or LF. */
int ua_request_build(char *out, size_t cap, const struct ua_request *r);

/* The sent-by host of a as it goes into a URI or Via ("192.0.2.1",
 * "[2001:db8::1]") into buf; returns buf. */
const char *ua_addr_host(const struct tp_addr *a, char *buf, size_t cap);

#endif
