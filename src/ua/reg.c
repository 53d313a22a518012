/* REGISTER, its refresh and its removal (RFC 3261 §10.2). */
#include "ua/reg.h"

#include "base/log.h"
#include "base/mem.h"
#include "msg/uri.h"
#include "ua/ids.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

struct ua_reg {
	struct ua *ua;
	ua_reg_fn cb;
	void *arg;
	struct ua_out *out;
	uint32_t expires;      /* asked for */
	uint32_t granted;
	uint32_t cseq;
	bool registered, stopping;
	char call_id[UA_CALL_ID_MAX];
	char ruri[160];
	struct loop_timer refresh;
};

static int send_register(struct ua_reg *r, uint32_t expires);

/* The granted expiry (§10.2.4): our Contact's expires param, else the
 * Expires header, else what we asked for. */
static uint32_t granted(const struct ua_reg *r, const struct sip_msg *m)
{
	const char *mine = ua_contact(r->ua);
	uint32_t v;

	for (const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_CONTACT); h;
	     h = sip_msg_hdr_next(m, h)) {
		struct str cur = h->value;

		while (cur.len) {
			struct sip_nameaddr na;

			if (sip_nameaddr_parse(&na, &cur, SIP_NA_LIST | SIP_NA_ALLOW_STAR, NULL) < 0)
				break;
			if (str_eq(na.uri, str_cstr(mine)) && na.has_expires &&
			    str_to_u32(na.expires, UINT32_MAX, &v) == 0)
				return v;
		}
	}
	{
		const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_EXPIRES);

		if (h && str_to_u32(str_trim(h->value), UINT32_MAX, &v) == 0)
			return v;
	}
	return r->expires;
}

static void on_refresh(void *arg)
{
	struct ua_reg *r = arg;

	if (!r->out && send_register(r, r->expires) < 0)
		r->cb(r->arg, 503, 0, false, "cannot send the refresh");
}

static void on_result(void *arg, struct ua_out *o, int status, const struct sip_msg *m,
		      const char *why)
{
	struct ua_reg *r = arg;
	bool auth_failed = ua_out_auth_failed(o);
	bool was_stop = r->stopping;

	if (status < 200)
		return;
	r->cseq = ua_out_cseq(o);
	ua_out_free(o);
	r->out = NULL;
	if (status == 423 && m && !was_stop) {
		/* §10.2.8: ask again with at least Min-Expires */
		const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_MIN_EXPIRES);
		uint32_t min;

		if (h && str_to_u32(str_trim(h->value), UINT32_MAX, &min) == 0 && min > r->expires) {
			r->expires = min;
			if (send_register(r, min) == 0)
				return;
		}
	}
	if (status >= 200 && status < 300) {
		if (was_stop) {
			r->registered = false;
			r->cb(r->arg, status, 0, false, NULL);
			return;
		}
		r->registered = true;
		r->granted = m ? granted(r, m) : r->expires;
		if (r->granted) {
			/* refresh halfway, so that a lost refresh can be retried */
			uint64_t ms = (uint64_t)r->granted * 500;

			loop_timer_add(ua_loop(r->ua), &r->refresh, ms ? ms : 500, on_refresh, r);
		}
		r->cb(r->arg, status, r->granted, false, NULL);
		return;
	}
	if (was_stop)
		r->registered = false;
	r->cb(r->arg, status, 0, auth_failed, why);
}

static int send_register(struct ua_reg *r, uint32_t expires)
{
	char contact[256], extra[64];
	struct ua_req_desc d = {
		.method = "REGISTER",
		.ruri = r->ruri,
		.to_uri = ua_aor(r->ua),
		.call_id = r->call_id[0] ? r->call_id : NULL,
		.cseq = ++r->cseq,
		.contact = contact,
		.extra = extra,
	};
	int rc;

	/* ua_request_build writes Contact: <uri>; the expires param goes after it */
	snprintf(contact, sizeof(contact), "%s", ua_contact(r->ua));
	snprintf(extra, sizeof(extra), "Expires: %u\r\n", (unsigned)expires);
	rc = ua_out_send(r->ua, &d, on_result, r, &r->out);
	if (rc == 0 && !r->call_id[0])
		snprintf(r->call_id, sizeof(r->call_id), "%s", ua_out_call_id(r->out));
	return rc;
}

int ua_reg_start(struct ua *u, uint32_t expires, ua_reg_fn cb, void *arg, struct ua_reg **out)
{
	struct ua_reg *r = mem_zalloc(sizeof(*r));
	char hp[128];
	int rc;

	if (!r)
		return -ENOMEM;
	r->ua = u;
	r->cb = cb;
	r->arg = arg;
	r->expires = expires;
	/* §10.2: the Request-URI is the domain of the AoR, no user part */
	rc = ua_uri_hostport(ua_aor(u), hp, sizeof(hp));
	if (rc == 0)
		snprintf(r->ruri, sizeof(r->ruri), "%s:%s",
			 strncmp(ua_aor(u), "sips:", 5) == 0 ? "sips" : "sip", hp);
	if (rc == 0)
		rc = send_register(r, expires);
	if (rc) {
		mem_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

int ua_reg_stop(struct ua_reg *r)
{
	loop_timer_cancel(ua_loop(r->ua), &r->refresh);
	if (!r->registered)
		return -EALREADY;
	ua_out_free(r->out);
	r->out = NULL;
	r->stopping = true;
	return send_register(r, 0);
}

bool ua_reg_registered(const struct ua_reg *r)
{
	return r->registered;
}

void ua_reg_free(struct ua_reg *r)
{
	if (!r)
		return;
	loop_timer_cancel(ua_loop(r->ua), &r->refresh);
	ua_out_free(r->out);
	mem_free(r);
}
