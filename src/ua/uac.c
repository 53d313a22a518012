/* UAC core: requests from resolution to final result, over client
 * transactions whose timers run on the loop's timing wheel. */
#include "ua/uac_priv.h"

#include "ua/mtu.h"
#include "base/log.h"
#include "base/mem.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static void advance(struct ua_req *r);

/* ---- transaction environment ---- */

static uint64_t env_now(void *ctx)
{
	struct ua_uac *u = ctx;

	return loop_now(u->loop);
}

static void env_timer_start(void *ctx, struct tsx_timer *tm, uint32_t ms)
{
	struct ua_uac *u = ctx;

	/* the loop keeps its wheel at loop_now(), so ms counts from now */
	tsx_wheel_start(loop_wheel(u->loop), tm, ms);
}

static void env_timer_stop(void *ctx, struct tsx_timer *tm)
{
	struct ua_uac *u = ctx;

	tsx_wheel_stop(loop_wheel(u->loop), tm);
}

static int env_send(void *ctx, struct tsx *t, const char *buf, size_t len)
{
	(void)ctx;
	return ua_net_send(tsx_user(t), buf, len);
}

static void deliver(struct ua_req *r, const struct ua_result *res)
{
	struct ua_uac *u = r->u;

	r->done = true;
	r->cb(res, r->arg);
	if (--u->pending == 0)
		loop_stop(u->loop);
}

static void fill_target(const struct ua_req *r, struct ua_result *res)
{
	res->has_target = r->has_target;
	res->proto = r->cur.proto;
	res->peer = r->cur.addr;
}

static void env_on_response(void *ctx, struct tsx *t, const struct sip_msg *m)
{
	struct ua_req *r = tsx_user(t);
	struct ua_result res = { .status = m->status, .reason = m->reason, .resp = m };

	(void)ctx;
	if (m->status < 200 || r->done)
		return; /* provisional responses are only traced */
	fill_target(r, &res);
	deliver(r, &res);
}

static void env_on_timeout(void *ctx, struct tsx *t)
{
	struct ua_req *r = tsx_user(t);

	(void)ctx;
	r->err = -ETIMEDOUT; /* Timer F or B: act as on a 408 (§8.1.3.1) */
}

static void env_on_transport_error(void *ctx, struct tsx *t, int err)
{
	struct ua_req *r = tsx_user(t);

	(void)ctx;
	r->err = err < 0 ? err : -EIO;
}

static void on_step(void *arg);

static void schedule_step(struct ua_req *r)
{
	if (loop_timer_add(r->u->loop, &r->step, 0, on_step, r) < 0)
		log_err("ua", "cannot schedule a request step: out of memory");
}

static void env_on_terminated(void *ctx, struct tsx *t)
{
	struct ua_uac *u = ctx;
	struct ua_req *r = tsx_user(t);

	/* move on from the loop, not from inside the transaction */
	if (!u->destroying && r->tsx == t)
		schedule_step(r);
}

/* ---- requests ---- */

static void release_attempt(struct ua_req *r)
{
	struct tsx *t = r->tsx;

	if (t) {
		r->tsx = NULL; /* so on_terminated does not schedule a step */
		tsx_terminate(t);
		tsx_unref(t);
	}
	ua_net_close(r);
}

static void req_free(struct ua_req *r)
{
	struct ua_uac *u = r->u;

	dns_query_cancel(r->q);
	release_attempt(r);
	loop_timer_cancel(u->loop, &r->step);
	if (r->prev)
		r->prev->next = r->next;
	else if (u->reqs == r)
		u->reqs = r->next;
	if (r->next)
		r->next->prev = r->prev;
	dns_targets_free(r->targets);
	mem_free(r->method);
	mem_free(r->uri_s);
	mem_free(r->extra);
	mem_free(r->ctype);
	mem_free(r->body);
	mem_free(r);
}

/* No target answered: a 408 after a timeout, else a 503 (§8.1.3.1,
 * RFC 3263 §4.3). */
static void finish_local(struct ua_req *r, bool dns)
{
	struct ua_result res = { .resp = NULL, .err = r->err };
	char why[160];

	if (r->err == -ETIMEDOUT && !dns) {
		res.status = 408;
		res.reason = STR_LIT("Request Timeout");
		res.why = "no response";
	} else {
		res.status = 503;
		res.reason = STR_LIT("Service Unavailable");
		snprintf(why, sizeof(why), "%s: %s", dns ? "DNS" : "transport error",
			 dns && r->err == -ENOENT ? "no such name or no usable records"
						  : ua_net_strerror(r->err));
		res.why = why;
	}
	fill_target(r, &res);
	deliver(r, &res);
	req_free(r);
}

/* Write r into r->buf for its current transport and sent-by. */
static int build(struct ua_req *r, const struct tp_addr *sent_by)
{
	struct ua_request q = {
		.method = str_cstr(r->method),
		.ruri = str_cstr(r->uri_s),
		.proto = r->cur.proto,
		.sent_by = *sent_by,
		.branch = str_cstr(r->branch),
		.from_tag = str_cstr(r->from_tag),
		.call_id = str_cstr(r->call_id),
		.cseq = 1,
		.extra = str_make(r->extra, r->extra_len),
		.content_type = str_make(r->ctype, r->ctype_len),
		.body = str_make(r->body, r->body_len),
	};

	return ua_request_build(r->buf, sizeof(r->buf), &q);
}

/* UDP asked for: by the URI (transport=udp) or by the user (no TCP). */
static bool udp_forced(const struct ua_req *r)
{
	return str_caseeq_lit(r->uri.transport, "udp") ||
	       !(r->u->protos & DNS_PROTO_BIT(TP_TCP));
}

/* §18.1.1: too large for UDP with the path MTU unknown: the same target over
 * TCP, the request rebuilt so that its Via and Contact say so. A connection
 * failure then fails this target (RFC 3263 §4.3). */
static int resize(struct ua_req *r, struct tp_addr *sent_by, int *n)
{
	enum tp_proto p = ua_mtu_proto(r->cur.proto, (size_t)*n, udp_forced(r));
	char ab[64];
	int rc;

	if (p == r->cur.proto)
		return 0;
	log_info("ua", "request of %d bytes to %s: %s instead of %s (RFC 3261 18.1.1)", *n,
		 tp_addr_fmt(&r->cur.addr, ab, sizeof(ab)), tp_proto_name(p),
		 tp_proto_name(r->cur.proto));
	ua_net_close(r);
	r->udp = NULL;
	r->cur.proto = p;
	rc = ua_net_open(r, sent_by);
	if (rc)
		return rc;
	*n = build(r, sent_by);
	return *n < 0 ? *n : 0;
}

/* Send r to r->targets->t[r->idx] in a new client transaction. */
static int attempt(struct ua_req *r)
{
	struct ua_uac *u = r->u;
	struct tp_addr sent_by;
	struct sip_msg *m;
	int n, rc;

	r->cur = r->targets->t[r->idx];
	r->has_target = true;
	r->err = 0;
	rc = ua_net_open(r, &sent_by);
	if (rc)
		return rc;
	/* RFC 3263 §4.3: a new branch per target, everything else the same */
	rc = ua_branch_new(r->branch);
	if (rc)
		return rc;
	if (!r->call_id[0]) {
		char host[80];

		ua_addr_host(&sent_by, host, sizeof(host));
		rc = ua_call_id_new(r->call_id, sizeof(r->call_id), str_cstr(host));
		if (rc)
			return rc;
	}
	n = build(r, &sent_by);
	if (n < 0)
		return n;
	rc = resize(r, &sent_by, &n);
	if (rc)
		return rc;

	m = mem_alloc(sizeof(*m)); /* a few KiB: not on the stack */
	if (!m)
		return -ENOMEM;
	rc = sip_msg_parse(m, r->buf, (size_t)n, SIP_PARSE_DATAGRAM);
	if (rc == 0)
		rc = tsx_client_create(&r->tsx, &u->env, m, r->cur.proto != TP_UDP, r);
	else
		log_err("ua", "built a request that does not parse: %s", m->err.reason);
	mem_free(m);
	if (rc)
		return rc;
	rc = tsx_table_insert(u->table, r->tsx);
	if (rc) {
		tsx_unref(r->tsx);
		r->tsx = NULL;
		return rc;
	}
	/* a send failure comes back through on_transport_error/on_terminated */
	tsx_client_start(r->tsx);
	return 0;
}

/* Try targets from r->idx on until one is under way, else give up. */
static void advance(struct ua_req *r)
{
	while (r->idx < r->targets->n) {
		int rc = attempt(r);

		if (rc == 0)
			return;
		r->err = rc;
		release_attempt(r);
		r->idx++;
	}
	finish_local(r, false);
}

static void on_step(void *arg)
{
	struct ua_req *r = arg;

	release_attempt(r);
	if (r->done) {
		req_free(r);
		return;
	}
	r->idx++; /* RFC 3263 §4.3: timeout or transport error: next target */
	advance(r);
}

void ua_req_conn_down(struct ua_req *r, int err)
{
	r->conn = NULL; /* freed by the transport after this */
	if (!r->tsx || r->done)
		return;
	r->err = err < 0 ? err : -ECONNRESET;
	tsx_terminate(r->tsx); /* on_terminated schedules the next step */
}

static void on_resolved(int err, struct dns_targets *t, void *arg)
{
	struct ua_req *r = arg;

	r->q = NULL;
	if (err) {
		r->err = err;
		finish_local(r, true);
		return;
	}
	r->targets = t;
	r->idx = 0;
	advance(r);
}

static char *dup_str(struct str s, size_t *len)
{
	if (len)
		*len = s.len;
	return s.len ? mem_strndup(s.s, s.len) : NULL;
}

int ua_uac_send(struct ua_uac *u, const struct ua_send *s, ua_result_cb cb, void *arg)
{
	struct ua_req *r;
	const char *why = NULL;
	int rc;

	if (!s->method || !*s->method || !s->uri || !cb || strcmp(s->method, "ACK") == 0)
		return -EINVAL; /* an ACK has no transaction (§17.1.1.3) */
	r = mem_zalloc(sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->u = u;
	r->cb = cb;
	r->arg = arg;
	r->method = dup_str(str_cstr(s->method), NULL);
	r->uri_s = dup_str(str_cstr(s->uri), NULL);
	r->extra = dup_str(s->extra, &r->extra_len);
	r->ctype = dup_str(s->content_type, &r->ctype_len);
	r->body = dup_str(s->body, &r->body_len);
	if (!r->method || !r->uri_s || (s->extra.len && !r->extra) ||
	    (s->content_type.len && !r->ctype) || (s->body.len && !r->body)) {
		rc = -ENOMEM;
		goto fail;
	}
	rc = sip_uri_parse(&r->uri, r->uri_s, strlen(r->uri_s), &why);
	if (rc == 0 && r->uri.scheme != SIP_URI_SIP && r->uri.scheme != SIP_URI_SIPS)
		rc = -EINVAL;
	if (rc) {
		log_err("ua", "%s: not a SIP URI%s%s", s->uri, why ? ": " : "", why ? why : "");
		goto fail;
	}
	rc = ua_tag_new(r->from_tag);
	if (rc)
		goto fail;
	rc = dns_resolve_uri(u->dns, &r->uri, on_resolved, r, &r->q);
	if (rc)
		goto fail;
	r->next = u->reqs;
	if (r->next)
		r->next->prev = r;
	u->reqs = r;
	u->pending++;
	return 0;
fail:
	r->q = NULL;
	req_free(r);
	return rc;
}

int ua_uac_options(struct ua_uac *u, const char *uri, ua_result_cb cb, void *arg)
{
	/* §11.1: Accept says what the UAC wants described (SDP) */
	struct ua_send s = {
		.method = "OPTIONS",
		.uri = uri,
		.extra = STR_LIT("Accept: application/sdp\r\n"),
	};

	return ua_uac_send(u, &s, cb, arg);
}

/* ---- the uac ---- */

int ua_uac_create(struct ua_uac **out, const struct ua_uac_cfg *cfg)
{
	static const struct ua_uac_cfg defaults;
	struct dns_config dc = { 0 };
	struct ua_uac *u;
	int rc;

	if (!cfg)
		cfg = &defaults;
	u = mem_zalloc(sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->timers = tsx_timers_default;
	if (cfg->t1_ms) {
		u->timers.t1 = cfg->t1_ms;
		if (u->timers.t2 < cfg->t1_ms)
			u->timers.t2 = cfg->t1_ms; /* §17.1.2.2: T2 caps, never below T1 */
	}
	u->env = (struct tsx_env){
		.ctx = u,
		.timers = &u->timers,
		.now_ms = env_now,
		.timer_start = env_timer_start,
		.timer_stop = env_timer_stop,
		.send = env_send,
		.on_response = env_on_response,
		.on_timeout = env_on_timeout,
		.on_transport_error = env_on_transport_error,
		.on_terminated = env_on_terminated,
	};
	u->trace = cfg->trace;
	u->trace_arg = cfg->trace_arg;
	u->protos = cfg->protos ? cfg->protos : DNS_PROTO_ALL;
	if (cfg->local) {
		rc = ua_net_parse_local(cfg->local, &u->local);
		if (rc)
			goto fail;
		u->has_local = true;
	}
	if (cfg->ca_file) {
		u->ca_file = mem_strndup(cfg->ca_file, strlen(cfg->ca_file));
		if (!u->ca_file) {
			rc = -ENOMEM;
			goto fail;
		}
	}
	rc = loop_create(&u->loop);
	if (rc)
		goto fail;
	rc = tsx_table_create(&u->table, 64, 1);
	if (rc)
		goto fail;
	dc.servers = cfg->dns_servers;
	dc.protos = cfg->protos;
	rc = dns_resolver_create(&u->dns, u->loop, &dc);
	if (rc)
		goto fail;
	rc = ua_net_create(u);
	if (rc)
		goto fail;
	*out = u;
	return 0;
fail:
	ua_uac_destroy(u);
	return rc;
}

void ua_uac_destroy(struct ua_uac *u)
{
	if (!u)
		return;
	u->destroying = true;
	while (u->reqs)
		req_free(u->reqs);
	if (u->table)
		tsx_table_destroy(u->table);
	if (u->dns)
		dns_resolver_destroy(u->dns);
	ua_net_destroy(u);
	if (u->loop)
		loop_destroy(u->loop);
	mem_free(u->ca_file);
	mem_free(u);
}

struct loop *ua_uac_loop(struct ua_uac *u)
{
	return u->loop;
}

int ua_uac_run(struct ua_uac *u)
{
	if (u->pending == 0)
		return 0;
	return loop_run(u->loop);
}
