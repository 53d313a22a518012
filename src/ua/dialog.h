/* Dialogs (RFC 3261 §12): the state two UAs share for an INVITE session,
 * built from the response that created it (UAC, §12.1.2) or the request
 * (UAS, §12.1.1): Call-ID, tags, URIs, the route set from Record-Route,
 * the remote target from Contact, and the CSeq counters; and the
 * in-dialog requests written from it (§12.2.1.1, loose and strict
 * routing). Plain values, no allocation. */
#ifndef SIPHON_UA_DIALOG_H
#define SIPHON_UA_DIALOG_H

#include "msg/msg.h"
#include "transport/addr.h"
#include "ua/ids.h"
#include "ua/ua.h"

#include <stdbool.h>
#include <stdint.h>

#define UA_DLG_URI_MAX 256
#define UA_DLG_ROUTES_MAX 1024

struct ua_dialog {
	char call_id[UA_CALL_ID_MAX + 64];
	char local_tag[64], remote_tag[128];
	char local_uri[UA_DLG_URI_MAX], remote_uri[UA_DLG_URI_MAX];
	char remote_target[UA_DLG_URI_MAX];
	/* the route set as Route header lines, first hop first */
	char routes[UA_DLG_ROUTES_MAX];
	char first_route[UA_DLG_URI_MAX]; /* "" with no route set */
	bool strict;                      /* the first route has no lr (§12.2.1.1) */
	uint32_t local_cseq, remote_cseq;
	bool has_remote_cseq;
};

/* UAC (§12.1.2): from a 1xx/2xx with a To tag to our request (local URI
 * and tag, CSeq of the request). Returns 0 or -EINVAL (no tag, no
 * Contact, field too long). */
int ua_dialog_uac(struct ua_dialog *d, const struct sip_msg *resp, const char *local_uri,
		  const char *local_tag, uint32_t cseq);
/* UAS (§12.1.1): from the request, with our new tag. */
int ua_dialog_uas(struct ua_dialog *d, const struct sip_msg *req, const char *local_tag);
/* §12.2.1.2 / §12.2.2: a target refresh (re-INVITE, its 2xx) moves the
 * remote target to its Contact. */
void ua_dialog_refresh(struct ua_dialog *d, const struct sip_msg *m);
/* Whether an incoming request belongs to d (Call-ID, To tag ours, From
 * tag theirs; §12.2.2). */
bool ua_dialog_match(const struct ua_dialog *d, const struct sip_msg *req);
/* §12.2.2: a lower CSeq than the last one is out of order (500). Records it
 * otherwise. Returns 0 or -ERANGE. */
int ua_dialog_check_cseq(struct ua_dialog *d, const struct sip_msg *req);

/* Fill desc for a new request in d with the next local CSeq (§12.2.1.1).
 * The strings point into d and bufs (UA_DLG_ROUTES_MAX + UA_DLG_URI_MAX
 * bytes), which must outlive the send. */
void ua_dialog_request(struct ua_dialog *d, const char *method, struct ua_req_desc *desc,
		       char *bufs, size_t cap);
/* Write the ACK for a 2xx (§13.2.2.4: CSeq number of the INVITE, the route
 * set, a new branch) with an optional body. Returns the length or -errno. */
int ua_dialog_ack(const struct ua_dialog *d, struct ua *u, uint32_t cseq, const char *ctype,
		  const char *body, char *out, size_t cap);
/* The address of the next hop when it is numeric (ACK needs it at once);
 * else fallback. */
void ua_dialog_hop_addr(const struct ua_dialog *d, const struct tp_addr *fallback,
			struct tp_addr *out);

#endif
