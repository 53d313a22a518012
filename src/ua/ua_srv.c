/* Incoming requests: server transactions (RFC 3261 §17.2), CANCEL (§9.2),
 * ACK for a 2xx handed to the TU (§13.3.1.4, RFC 6026 §8.7), OPTIONS
 * answered here (§11.2), everything else to the handler. */
#include "ua/ua_priv.h"

#include "base/log.h"
#include "base/mem.h"
#include "msg/build.h"
#include "ua/request.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define UA_ALLOW "INVITE, ACK, CANCEL, BYE, OPTIONS, MESSAGE, INFO, UPDATE, PRACK"

struct ua_srv {
	struct ua *ua;
	struct ua_srv *next, *prev;
	struct tsx *tsx;        /* our reference; NULL for an ACK */
	struct tp_addr src;
	bool kept, listed;
	bool in_handler, freed; /* freed by its owner inside the handler */
	uint16_t final;         /* final status sent, 0 if none */
	char *buf;
	struct sip_msg m;
};

const struct sip_msg *ua_srv_msg(const struct ua_srv *s)
{
	return &s->m;
}

const struct tp_addr *ua_srv_src(const struct ua_srv *s)
{
	return &s->src;
}

void ua_srv_keep(struct ua_srv *s)
{
	struct ua *u = s->ua;

	if (s->kept)
		return;
	s->kept = true;
	s->listed = true;
	s->next = u->srvs;
	if (s->next)
		s->next->prev = s;
	u->srvs = s;
}

static void srv_release(struct ua_srv *s)
{
	struct ua *u = s->ua;

	if (s->listed) {
		if (s->prev)
			s->prev->next = s->next;
		else if (u->srvs == s)
			u->srvs = s->next;
		if (s->next)
			s->next->prev = s->prev;
	}
	if (s->tsx) {
		struct ua_tx *x = tsx_user(s->tsx);

		x->srv = NULL;
		tsx_unref(s->tsx);
	}
	mem_free(s->buf);
	mem_free(s);
}

void ua_srv_free(struct ua_srv *s)
{
	if (!s)
		return;
	if (s->in_handler) {
		s->freed = true; /* released when the handler returns */
		return;
	}
	srv_release(s);
}

/* Hand s to the handler; release it after unless the handler kept it. */
static void dispatch(struct ua *u, struct ua_srv *s)
{
	s->in_handler = true;
	u->on_request(u->handler_arg, s, &s->m);
	s->in_handler = false;
	if (s->kept && !s->freed)
		return;
	if (s->tsx && !s->final && !s->freed)
		ua_srv_respond(s, 500, "Not Handled", NULL);
	srv_release(s);
}

void ua_srv_destroy_all(struct ua *u)
{
	while (u->srvs)
		srv_release(u->srvs);
}

int ua_srv_respond(struct ua_srv *s, uint16_t code, const char *reason, const struct ua_resp *r)
{
	static const struct ua_resp none;
	struct ua *u = s->ua;
	char extra[2048], host[64], out[UA_REQUEST_MAX];
	size_t n = 0;
	int len, rc;

	if (!s->tsx)
		return -EINVAL;
	if (!r)
		r = &none;
	extra[0] = 0;
	if (r->contact)
		n += (size_t)snprintf(extra + n, sizeof(extra) - n, "Contact: <%s>\r\n", u->contact);
	if (r->record_route) {
		const struct sip_hdr *h = sip_msg_hdr(&s->m, SIP_HDR_RECORD_ROUTE);

		/* §12.1.1: the UAS copies Record-Route into its dialog responses */
		for (; h && n < sizeof(extra); h = sip_msg_hdr_next(&s->m, h))
			n += (size_t)snprintf(extra + n, sizeof(extra) - n, "Record-Route: %.*s\r\n",
					      STR_FMT(h->value));
	}
	if (code == 405 || (code >= 200 && code < 300 && s->m.method_id == SIP_METHOD_OPTIONS) ||
	    (r->contact && code < 300))
		n += (size_t)snprintf(extra + n, sizeof(extra) - n, "Allow: " UA_ALLOW "\r\n");
	if (r->extra && n < sizeof(extra))
		n += (size_t)snprintf(extra + n, sizeof(extra) - n, "%s", r->extra);
	if (n >= sizeof(extra))
		return -ENOSPC;
	tp_addr_host_fmt(&s->src, host, sizeof(host));
	struct sip_resp_opts opts = {
		.to_tag = str_cstr(r->to_tag),
		.server = STR_LIT(UA_USER_AGENT),
		.received = str_cstr(host),
		.rport = tp_addr_port(&s->src),
		.extra = str_make(extra, n),
		.content_type = str_cstr(r->ctype),
		.body = str_cstr(r->body),
	};
	len = sip_resp_build(out, sizeof(out), &s->m, code,
			     str_cstr(reason ? reason : sip_reason_phrase(code)), &opts);
	if (len < 0)
		return len;
	rc = tsx_server_respond(s->tsx, code, out, (size_t)len);
	if (rc == 0 && code >= 200 && !s->final)
		s->final = code;
	return rc;
}

static struct ua_srv *srv_new(struct ua *u, const struct sip_msg *m, const struct tp_addr *src)
{
	struct ua_srv *s = mem_zalloc(sizeof(*s));

	if (!s)
		return NULL;
	s->ua = u;
	s->src = *src;
	s->buf = mem_alloc(m->len + 1);
	if (!s->buf || sip_msg_parse(&s->m, memcpy(s->buf, m->buf, m->len), m->len,
				     SIP_PARSE_DATAGRAM) < 0) {
		mem_free(s->buf);
		mem_free(s);
		return NULL;
	}
	return s;
}

static void cancel(struct ua *u, struct ua_srv *s)
{
	struct tsx *inv = tsx_table_find_cancelled(u->table, &s->m);
	struct ua_tx *x = inv ? tsx_user(inv) : NULL;

	if (!inv || !x->srv || x->srv->final) {
		ua_srv_respond(s, 481, NULL, NULL); /* §9.2: nothing to cancel */
	} else {
		ua_srv_respond(s, 200, NULL, NULL);
		if (u->on_cancel)
			u->on_cancel(u->handler_arg, x->srv);
		else
			ua_srv_respond(x->srv, 487, NULL, NULL);
	}
	if (inv)
		tsx_unref(inv);
}

void ua_srv_input(struct ua *u, const struct sip_msg *m, const struct tp_addr *src)
{
	struct tsx *t = tsx_table_match_request(u->table, m);
	struct ua_srv *s;
	struct ua_tx *x;

	if (t) {
		/* a retransmission, or the ACK for a non-2xx (§17.2.1) */
		int rc = tsx_server_request(t, m);

		tsx_unref(t);
		if (rc == 0)
			return;
	}
	s = srv_new(u, m, src);
	if (!s)
		return;
	if (m->method_id == SIP_METHOD_ACK) {
		/* §13.3.1.4: the ACK for a 2xx is the TU's */
		if (u->on_request)
			dispatch(u, s);
		else
			srv_release(s);
		return;
	}
	if (tsx_server_create(&s->tsx, &u->env, &s->m, false, NULL, NULL) < 0) {
		srv_release(s);
		return;
	}
	x = tsx_user(s->tsx);
	x->ua = u;
	x->dest = *src;
	x->srv = s;
	if (tsx_table_insert(u->table, s->tsx) < 0) {
		srv_release(s);
		return;
	}
	if (m->method_id == SIP_METHOD_CANCEL) {
		cancel(u, s);
	} else if (m->method_id == SIP_METHOD_OPTIONS && !m->to.has_tag) {
		ua_srv_respond(s, 200, NULL, &(struct ua_resp){
			.extra = "Accept: application/sdp\r\nSupported: timer\r\n" });
	} else if (u->on_request) {
		dispatch(u, s);
		return;
	} else {
		ua_srv_respond(s, m->to.has_tag ? 481 : 405, NULL, NULL);
	}
	srv_release(s);
}
