/* Client requests of the UA: resolve the next hop (RFC 3263, UDP targets),
 * run a client transaction, answer 401/407 with digest credentials (RFC
 * 3261 §22.2: the same request with a new CSeq and branch) and CANCEL a
 * pending INVITE (§9.1). */
#include "ua/ua_priv.h"

#include "auth/auth.h"
#include "base/log.h"
#include "base/mem.h"
#include "tsx/cancel.h"
#include "ua/request.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define AUTH_LINE_MAX 1024

struct ua_out {
	struct ua *ua;
	struct ua_out *next, *prev;
	ua_out_fn cb;
	void *arg;
	bool owned;      /* the caller holds o (else it frees itself) */
	bool in_cb, dead, done, invite, got_1xx, cancel_pending, auth_failed, raw;
	bool has_dest;
	int auth_tries;
	int err;

	char *method, *ruri, *from_uri, *to_uri, *to_tag, *routes, *hop, *contact, *extra,
		*ctype, *body;
	char from_tag[UA_TAG_LEN + 1];
	char call_id[UA_CALL_ID_MAX];
	char branch[UA_BRANCH_LEN + 1];
	uint32_t cseq;
	char auth[AUTH_LINE_MAX];

	struct sip_uri hop_uri; /* slices into hop */
	struct dns_query *q;
	struct tp_addr dest;
	struct tsx *tsx;        /* our reference on the current transaction */
	struct loop_timer step; /* a local result, delivered from the loop */
	struct loop_timer guard; /* 64*T1 after our CANCEL (§9.1) */
	char buf[UA_REQUEST_MAX];
	size_t len;
};

static char *dup_c(const char *s)
{
	return s ? mem_strndup(s, strlen(s)) : NULL;
}

/* Let go of the current transaction; it runs on in the table to its end
 * (absorbing retransmissions) without telling us. */
static void detach(struct ua_out *o)
{
	if (o->tsx) {
		struct ua_tx *x = tsx_user(o->tsx);

		x->out = NULL;
		tsx_unref(o->tsx);
		o->tsx = NULL;
	}
}

static void really_free(struct ua_out *o)
{
	struct ua *u = o->ua;

	dns_query_cancel(o->q);
	detach(o);
	loop_timer_cancel(u->loop, &o->step);
	loop_timer_cancel(u->loop, &o->guard);
	if (o->prev)
		o->prev->next = o->next;
	else if (u->outs == o)
		u->outs = o->next;
	if (o->next)
		o->next->prev = o->prev;
	mem_free(o->method);
	mem_free(o->ruri);
	mem_free(o->from_uri);
	mem_free(o->to_uri);
	mem_free(o->to_tag);
	mem_free(o->routes);
	mem_free(o->hop);
	mem_free(o->contact);
	mem_free(o->extra);
	mem_free(o->ctype);
	mem_free(o->body);
	mem_free(o);
}

void ua_out_free(struct ua_out *o)
{
	if (!o)
		return;
	o->owned = false;
	if (o->in_cb) {
		o->dead = true;
		return;
	}
	really_free(o);
}

void ua_out_destroy_all(struct ua *u)
{
	while (u->outs)
		really_free(u->outs);
}

static void deliver(struct ua_out *o, int status, const struct sip_msg *m, const char *why)
{
	if (status >= 200)
		o->done = true; /* an INVITE's 2xx retransmissions still reach cb */
	if (o->cb && !o->dead) {
		o->in_cb = true;
		o->cb(o->arg, o, status, m, why);
		o->in_cb = false;
	}
	if (o->dead || (o->done && !o->owned))
		really_free(o);
}

/* ---- building and sending ---- */

static int build(struct ua_out *o)
{
	struct ua *u = o->ua;
	char extra[UA_REQUEST_MAX];
	int n;

	n = snprintf(extra, sizeof(extra), "%s%s%s", o->routes ? o->routes : "", o->auth,
		     o->extra ? o->extra : "");
	if (n < 0 || (size_t)n >= sizeof(extra))
		return -ENOSPC;
	if (ua_branch_new(o->branch) < 0)
		return -EIO;
	struct ua_request q = {
		.method = str_cstr(o->method),
		.ruri = str_cstr(o->ruri),
		.proto = TP_UDP,
		.sent_by = *ua_local(u),
		.branch = str_cstr(o->branch),
		.from_uri = str_cstr(o->from_uri),
		.from_tag = str_cstr(o->from_tag),
		.to_uri = str_cstr(o->to_uri),
		.to_tag = str_cstr(o->to_tag),
		.call_id = str_cstr(o->call_id),
		.cseq = o->cseq,
		.contact_uri = str_cstr(o->contact),
		.extra = str_make(extra, (size_t)n),
		.content_type = str_cstr(o->ctype),
		.body = str_cstr(o->body),
	};
	n = ua_request_build(o->buf, sizeof(o->buf), &q);
	if (n < 0)
		return n;
	o->len = (size_t)n;
	return 0;
}

/* Start a client transaction for the bytes in o->buf. */
static int start(struct ua_out *o)
{
	struct ua *u = o->ua;
	struct sip_msg *m = mem_alloc(sizeof(*m));
	struct tsx *t = NULL;
	struct ua_tx *x;
	int rc;

	if (!m)
		return -ENOMEM;
	rc = sip_msg_parse(m, o->buf, o->len, SIP_PARSE_DATAGRAM);
	if (rc == 0)
		rc = tsx_client_create(&t, &u->env, m, false, NULL);
	else
		log_err("ua", "built a request that does not parse: %s", m->err.reason);
	mem_free(m);
	if (rc)
		return rc;
	x = tsx_user(t);
	x->ua = u;
	x->dest = o->dest;
	x->out = o;
	rc = tsx_table_insert(u->table, t);
	if (rc) {
		tsx_unref(t);
		return rc;
	}
	o->tsx = t;
	o->got_1xx = false;
	tsx_client_start(t); /* a send error comes back through on_transport_error */
	return 0;
}

static void on_step(void *arg)
{
	struct ua_out *o = arg;
	int err = o->err;

	if (o->done)
		return;
	detach(o);
	if (err == -ETIMEDOUT)
		deliver(o, 408, NULL, "no response");
	else if (err == -ECANCELED)
		deliver(o, 487, NULL, "cancelled before it was sent");
	else {
		char why[160];

		snprintf(why, sizeof(why), "%s", err == -ENOENT ? "DNS: no such name or no usable records"
								: strerror(err < 0 ? -err : EIO));
		deliver(o, 503, NULL, why);
	}
}

static void fail_later(struct ua_out *o, int err)
{
	o->err = err;
	if (loop_timer_add(o->ua->loop, &o->step, 0, on_step, o) < 0)
		log_err("ua", "cannot schedule a result: out of memory");
}

static void on_resolved(int err, struct dns_targets *t, void *arg)
{
	struct ua_out *o = arg;
	int rc = -ENOENT;

	o->q = NULL;
	if (err) {
		fail_later(o, err);
		return;
	}
	for (size_t i = 0; i < t->n; i++) {
		if (t->t[i].proto == TP_UDP &&
		    t->t[i].addr.ss.ss_family == ua_local(o->ua)->ss.ss_family) {
			o->dest = t->t[i].addr;
			o->has_dest = true;
			rc = 0;
			break;
		}
	}
	dns_targets_free(t);
	if (rc == 0)
		rc = start(o);
	if (rc)
		fail_later(o, rc);
}

static int resolve(struct ua_out *o)
{
	const char *why = NULL;

	if (sip_uri_parse(&o->hop_uri, o->hop, strlen(o->hop), &why) < 0) {
		log_err("ua", "%s: not a SIP URI: %s", o->hop, why ? why : "");
		return -EINVAL;
	}
	return dns_resolve_uri(o->ua->dns, &o->hop_uri, on_resolved, o, &o->q);
}

int ua_out_send(struct ua *u, const struct ua_req_desc *d, ua_out_fn cb, void *arg,
		struct ua_out **out)
{
	struct ua_out *o;
	char host[80];
	int rc;

	if (!d->method || !d->ruri || strcmp(d->method, "ACK") == 0)
		return -EINVAL;
	o = mem_zalloc(sizeof(*o));
	if (!o)
		return -ENOMEM;
	o->ua = u;
	o->cb = cb;
	o->arg = arg;
	o->owned = out != NULL;
	o->invite = strcmp(d->method, "INVITE") == 0;
	o->cseq = d->cseq ? d->cseq : 1;
	o->method = dup_c(d->method);
	o->ruri = dup_c(d->ruri);
	o->from_uri = dup_c(d->from_uri ? d->from_uri : u->aor);
	o->to_uri = dup_c(d->to_uri ? d->to_uri : d->ruri);
	o->to_tag = dup_c(d->to_tag);
	o->routes = dup_c(d->routes);
	o->hop = dup_c(d->hop ? d->hop : u->proxy ? u->proxy : d->ruri);
	o->contact = dup_c(d->contact ? d->contact : u->contact);
	o->extra = dup_c(d->extra);
	o->ctype = dup_c(d->ctype);
	o->body = dup_c(d->body);
	o->next = u->outs;
	if (o->next)
		o->next->prev = o;
	u->outs = o;
	if (!o->method || !o->ruri || !o->from_uri || !o->to_uri || !o->hop || !o->contact ||
	    (d->to_tag && !o->to_tag) || (d->routes && !o->routes) || (d->extra && !o->extra) ||
	    (d->ctype && !o->ctype) || (d->body && !o->body)) {
		rc = -ENOMEM;
		goto fail;
	}
	if (d->from_tag)
		rc = str_copy(o->from_tag, sizeof(o->from_tag), str_cstr(d->from_tag));
	else
		rc = ua_tag_new(o->from_tag);
	if (rc)
		goto fail;
	if (d->call_id)
		rc = str_copy(o->call_id, sizeof(o->call_id), str_cstr(d->call_id));
	else
		rc = ua_call_id_new(o->call_id, sizeof(o->call_id),
				    str_cstr(ua_addr_host(ua_local(u), host, sizeof(host))));
	if (rc)
		goto fail;
	rc = build(o);
	if (rc)
		goto fail;
	rc = resolve(o);
	if (rc)
		goto fail;
	if (out)
		*out = o;
	return 0;
fail:
	really_free(o);
	return rc;
}

/* ---- responses ---- */

/* §22.2, §22.3: credentials for the challenges of m; 0 when some line was
 * answered. */
static int answer_challenge(struct ua_out *o, const struct sip_msg *m)
{
	struct ua *u = o->ua;
	bool proxy = m->status == 407;
	enum sip_hdr_type ht = proxy ? SIP_HDR_PROXY_AUTHENTICATE : SIP_HDR_WWW_AUTHENTICATE;
	char val[AUTH_LINE_MAX - 32];

	for (const struct sip_hdr *h = sip_msg_hdr(m, ht); h; h = sip_msg_hdr_next(m, h)) {
		struct sip_auth ch;
		int n;

		if (sip_auth_parse(&ch, h->value, NULL) < 0)
			continue;
		/* a second challenge for credentials we sent: they were refused,
		 * unless the nonce merely went stale (RFC 7616 §3.3) */
		if (o->auth_tries > 0 && !str_caseeq_lit(ch.stale, "true"))
			return -EACCES;
		n = auth_client_response(&ch, str_cstr(o->method), str_cstr(o->ruri),
					 str_cstr(u->user), str_cstr(u->password), 1, val,
					 sizeof(val));
		if (n < 0)
			continue; /* an algorithm we lack: the next line (RFC 8760 §2.4) */
		snprintf(o->auth, sizeof(o->auth), "%s: %s\r\n",
			 proxy ? "Proxy-Authorization" : "Authorization", val);
		return 0;
	}
	return -ENOTSUP;
}

static void send_cancel(struct ua_out *o);
static void arm_guard(struct ua_out *o);

void ua_out_tsx_response(struct tsx *t, const struct sip_msg *m)
{
	struct ua_tx *x = tsx_user(t);
	struct ua_out *o = x->out;

	if (!o || o->tsx != t || o->dead)
		return;
	if (m->status < 200) {
		o->got_1xx = true;
		if (o->cancel_pending) {
			o->cancel_pending = false;
			send_cancel(o);
			arm_guard(o);
		}
		if (m->status > 100)
			deliver(o, m->status, m, NULL);
		return;
	}
	if ((m->status == 401 || m->status == 407) && o->ua->password && o->auth_tries < 3 &&
	    !o->cancel_pending) {
		int rc = answer_challenge(o, m);

		if (rc == 0) {
			o->auth_tries++;
			o->cseq++; /* §22.2: a new request, a new CSeq */
			detach(o);
			rc = build(o);
			if (rc == 0)
				rc = start(o);
			if (rc == 0)
				return;
			fail_later(o, rc);
			return;
		}
		o->auth_failed = true;
	} else if (m->status == 401 || m->status == 407) {
		o->auth_failed = true;
	}
	deliver(o, m->status, m, NULL);
}

void ua_out_tsx_failed(struct tsx *t, int err)
{
	struct ua_tx *x = tsx_user(t);

	if (x->out && x->out->tsx == t)
		x->out->err = err;
}

void ua_out_tsx_terminated(struct tsx *t)
{
	struct ua_tx *x = tsx_user(t);
	struct ua_out *o = x->out;

	if (!o || o->tsx != t)
		return;
	if (!o->done)
		fail_later(o, o->err ? o->err : -ETIMEDOUT);
}

/* ---- CANCEL ---- */

static void send_cancel(struct ua_out *o)
{
	struct ua *u = o->ua;
	struct sip_msg *m = mem_alloc(sizeof(*m));
	struct ua_out *c = mem_zalloc(sizeof(*c));
	int n;

	if (!m || !c)
		goto fail;
	if (sip_msg_parse(m, o->buf, o->len, SIP_PARSE_DATAGRAM) < 0)
		goto fail;
	n = tsx_cancel_build(c->buf, sizeof(c->buf), m);
	if (n < 0 || (size_t)n >= sizeof(c->buf))
		goto fail;
	c->len = (size_t)n;
	c->ua = u;
	c->raw = true;
	c->dest = o->dest;
	c->has_dest = true;
	c->next = u->outs;
	if (c->next)
		c->next->prev = c;
	u->outs = c;
	mem_free(m);
	if (start(c) < 0)
		really_free(c);
	return;
fail:
	log_err("ua", "cannot build the CANCEL");
	mem_free(m);
	mem_free(c);
}

/* §9.1: no final response 64*T1 after the CANCEL: the INVITE
 * transaction is over (a peer that vanished must not hold us forever). */
static void on_guard(void *arg)
{
	struct ua_out *o = arg;
	struct tsx *t = o->tsx;

	if (o->done || !t)
		return;
	o->tsx = NULL;
	((struct ua_tx *)tsx_user(t))->out = NULL;
	tsx_terminate(t);
	tsx_unref(t);
	deliver(o, 487, NULL, "no final response after the CANCEL");
}

static void arm_guard(struct ua_out *o)
{
	loop_timer_add(o->ua->loop, &o->guard, 64ull * o->ua->timers.t1, on_guard, o);
}

int ua_out_cancel(struct ua_out *o)
{
	if (!o->invite || o->done)
		return -EINVAL;
	if (!o->tsx) {
		/* not sent yet (resolving): nothing to cancel on the wire */
		dns_query_cancel(o->q);
		o->q = NULL;
		fail_later(o, -ECANCELED);
		return 0;
	}
	/* §9.1: not before a provisional response */
	if (!o->got_1xx) {
		o->cancel_pending = true;
		return 0;
	}
	send_cancel(o);
	arm_guard(o);
	return 0;
}

/* ---- accessors ---- */

uint32_t ua_out_cseq(const struct ua_out *o)
{
	return o->cseq;
}

const char *ua_out_call_id(const struct ua_out *o)
{
	return o->call_id;
}

const char *ua_out_from_tag(const struct ua_out *o)
{
	return o->from_tag;
}

const struct tp_addr *ua_out_dest(const struct ua_out *o)
{
	return &o->dest;
}

bool ua_out_auth_failed(const struct ua_out *o)
{
	return o->auth_failed;
}
