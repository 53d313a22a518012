/* REGISTER at siphond: RFC 3261 §10.3 steps 1-5 (domain, Require, digest
 * authentication, authorisation) here, steps 6-8 in the registrar. The
 * answer to a change is sent once the location service says the binding is
 * durable: the request is kept (a copy of its bytes) with its server
 * transaction until the worker's completion queue runs the callback. */
#include "siphond/core_priv.h"
#include "siphond/metrics.h"

#include "auth/auth.h"
#include "base/log.h"
#include "base/loop.h"
#include "base/mem.h"
#include "location/loc.h"
#include "msg/hdr.h"
#include "msg/uri.h"
#include "siphond/regsvc.h"
#include "subscriber/sub.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define MOD "registrar"

/* A REGISTER waiting for the location service. */
struct reg_pend {
	struct sd_core *c;
	struct tsx *tsx;      /* referenced; NULL when answered statelessly */
	/* while reg_handle() runs (the answer may come at once) */
	bool sync, answered;
	const struct sip_msg *m;
	const struct sd_in *in;
	struct sd_out *out;
	/* for a later answer */
	enum tp_proto proto;
	struct tp_addr src, local;
	uint64_t conn_id;
	uint64_t mx_t0;       /* when it arrived (metrics.h) */
	size_t len;
	char buf[]; /* the request */
};

static void on_queue(int fd, unsigned events, void *arg)
{
	struct sd_core *c = arg;

	(void)fd, (void)events;
	loc_queue_poll(c->lq);
}

static void on_purge(void *arg)
{
	struct sd_core *c = arg;
	size_t n = loc_expire(c->regsvc->loc, time(NULL));

	if (n)
		log_debug(MOD, "%zu expired bindings purged", n);
	if (loop_timer_add(c->loop, &c->purge, c->regsvc->purge_ms, on_purge, c) < 0)
		log_err(MOD, "cannot re-arm the purge timer");
}

int sd_reg_init(struct sd_core *c, const struct sd_core_cfg *cfg)
{
	struct reg_cfg rcfg;
	int err;

	if (!cfg->regsvc || !c->loop)
		return 0; /* no registrar, or stateless (nowhere to wait) */
	c->regsvc = cfg->regsvc;
	c->late = mem_alloc(SD_REPLY_MAX);
	if (!c->late)
		return -ENOMEM;
	err = loc_queue_create(c->regsvc->loc, &c->lq);
	if (err < 0)
		return err;
	err = loop_fd_add(c->loop, loc_queue_fd(c->lq), LOOP_READ, on_queue, c);
	if (err < 0) {
		loc_queue_destroy(c->lq);
		c->lq = NULL;
		return err;
	}
	rcfg = c->regsvc->reg;
	rcfg.queue = c->lq;
	err = reg_create(&c->reg, &rcfg, c->regsvc->loc);
	if (err < 0)
		return err;
	if (cfg->purge) {
		err = loop_timer_add(c->loop, &c->purge, c->regsvc->purge_ms, on_purge, c);
		if (err < 0)
			return err;
		c->purging = true;
	}
	return 0;
}

void sd_reg_fini(struct sd_core *c)
{
	if (c->purging)
		loop_timer_cancel(c->loop, &c->purge);
	c->purging = false;
	if (c->lq) {
		loop_fd_del(c->loop, loc_queue_fd(c->lq));
		/* the answers still owed go out now */
		loc_queue_destroy(c->lq);
		c->lq = NULL;
	}
	reg_destroy(c->reg);
	c->reg = NULL;
	mem_free(c->late);
	c->late = NULL;
}

/* A response for a REGISTER whose request has left the receive buffer. */
static void answer_late(struct reg_pend *p, uint16_t code, const char *reason, struct str extra)
{
	struct sd_core *c = p->c;
	struct sip_msg *m = &c->msg;
	struct sd_in in = { .buf = p->buf, .len = p->len, .proto = p->proto, .src = p->src,
			    .local = p->local, .conn_id = p->conn_id };
	struct sd_out out = { .buf = c->late, .cap = SD_REPLY_MAX };
	int rc;

	rc = sip_msg_parse(m, p->buf, p->len,
			   p->proto == TP_UDP ? SIP_PARSE_DATAGRAM : SIP_PARSE_STREAM);
	if (rc != 0) { /* it parsed before: cannot happen */
		log_err(MOD, "kept REGISTER no longer parses: %u unsent", code);
		return;
	}
	if (code >= 300) {
		char peer[80];

		log_info(MOD, "REGISTER from %s %s: %u %s (call-id %.*s)", tp_proto_name(p->proto),
			 tp_addr_fmt(&p->src, peer, sizeof(peer)), code, reason, STR_FMT(m->call_id));
	}
	if (p->tsx) {
		tsx_lock(p->tsx);
		if (tsx_state(p->tsx) == TSX_TERMINATED) { /* shutting down */
			tsx_unlock(p->tsx);
			return;
		}
		c->cur_tsx = p->tsx;
	}
	sd_respond(c, m, &in, &out, code, reason, extra);
	c->cur_tsx = NULL;
	if (p->tsx)
		tsx_unlock(p->tsx);
	if (!out.len)
		return; /* the transaction sent it */
	if (p->proto == TP_UDP)
		rc = c->send_udp(c->send_ctx, &p->local, &out.dst, out.buf, out.len);
	else
		rc = c->send_stream(c->send_ctx, p->conn_id, out.buf, out.len);
	if (rc < 0)
		log_info(MOD, "%u to REGISTER not sent: %s (call-id %.*s)", code, strerror(-rc),
			 STR_FMT(m->call_id));
}

static void on_reg_done(void *arg, uint16_t code, const char *reason, struct str extra)
{
	struct reg_pend *p = arg;
	char peer[80];

	sd_mx_observe(p->c->idx, SD_MX_H_REGISTER, p->mx_t0);
	/* a later answer logs its refusal once it has parsed the request again */
	if (code >= 300 && p->sync)
		log_info(MOD, "REGISTER from %s %s: %u %s (call-id %.*s)", tp_proto_name(p->proto),
			 tp_addr_fmt(&p->src, peer, sizeof(peer)), code, reason,
			 STR_FMT(p->m->call_id));
	if (p->sync) {
		sd_respond(p->c, p->m, p->in, p->out, code, reason, extra);
		p->answered = true;
		return;
	}
	answer_late(p, code, reason, extra);
	if (p->tsx)
		tsx_unref(p->tsx);
	mem_free(p);
}

/* §10.3 steps 3-4. Returns true when it answered (challenge or refusal). */
static bool authenticate(struct sd_core *c, const struct sip_msg *m, const struct sd_in *in,
			 struct sd_out *out, struct str realm)
{
	const struct sd_regsvc *s = c->regsvc;
	char ub[SUB_USER_MAX + 1];
	struct str user;

	if (!(s->auth_methods & (1ull << SIP_METHOD_REGISTER)))
		return false;
	if (sd_auth_check(c, m, in, out, realm, false, ub, sizeof(ub), &user))
		return true;
	/* §10.3 step 4: may this user change this AoR's bindings? */
	if (s->user_match != SD_MATCH_OFF &&
	    (!sd_uri_user_is(m->to.uri, user) ||
	     (s->user_match == SD_MATCH_BOTH && !sd_uri_user_is(m->from.uri, user)))) {
		log_info(MOD, "REGISTER %.*s by %.*s refused: not the user's AoR (call-id %.*s)",
			 STR_FMT(m->to.uri), STR_FMT(user), STR_FMT(m->call_id));
		sd_respond(c, m, in, out, 403, "Not Your Address-of-Record", STR_NULL);
		return true;
	}
	return false;
}

bool sd_reg_request(struct sd_core *c, const struct sip_msg *m, const struct sd_in *in,
		    struct sd_out *out)
{
	const struct sd_regsvc *s = c->regsvc;
	struct reg_source src;
	struct sip_uri to;
	struct reg_pend *p;
	char realm[256], recv[96], ab[80];
	bool own;

	if (!s)
		return false;
	/* §10.3 step 1: a domain we serve, or our own address */
	own = sd_host_is_us(m->ruri_host, in);
	if (m->ruri_user.len) {
		/* §10.2: "The userinfo and "@" components of the SIP URI MUST
		 * NOT be present"; one for someone else's domain is routed */
		if (!own && !sd_regsvc_serves(s, m->ruri_host))
			return false;
		sd_respond(c, m, in, out, 400, "Bad Request-URI: User Part in REGISTER", STR_NULL);
		return true;
	}
	if (!own && !sd_regsvc_serves(s, m->ruri_host)) {
		sd_respond(c, m, in, out, s->foreign_code,
			   s->foreign_code == 404 ? "Domain Not Served" : "Forbidden: Domain Not Served",
			   STR_NULL);
		return true;
	}
	/* §10.3 step 2 */
	if (sd_check_extensions(c, m, in, out, SIP_HDR_REQUIRE))
		return true;
	/* §10.3 step 5: the AoR must belong to the Request-URI's domain (or,
	 * addressed to our own address, to any domain we serve) */
	if (sip_uri_parse(&to, m->to.uri.s, m->to.uri.len, NULL) ||
	    (to.scheme != SIP_URI_SIP && to.scheme != SIP_URI_SIPS)) {
		sd_respond(c, m, in, out, 400, "Bad To: Not a SIP AoR", STR_NULL);
		return true;
	}
	if (own ? !(sd_regsvc_serves(s, to.host) || (!s->ndomains && str_caseeq(to.host, m->ruri_host)))
		: !str_caseeq(to.host, m->ruri_host)) {
		sd_respond(c, m, in, out, 404, "Address-of-Record Not in This Domain", STR_NULL);
		return true;
	}
	/* the realm is the AoR's domain, lower case (as siphonctl stores it) */
	if (sd_realm_of(to.host, realm, sizeof(realm)) < 0) {
		sd_respond(c, m, in, out, 400, "Bad To: Host Too Long", STR_NULL);
		return true;
	}
	if (authenticate(c, m, in, out, str_make(realm, to.host.len)))
		return true;

	/* steps 6-8 */
	p = mem_alloc(sizeof(*p) + m->len);
	if (!p) {
		sd_respond(c, m, in, out, 500, "Out of Memory", STR_NULL);
		return true;
	}
	*p = (struct reg_pend){ .c = c, .sync = true, .m = m, .in = in, .out = out,
				.proto = in->proto, .src = in->src, .local = in->local,
				.conn_id = in->conn_id, .len = m->len };
	p->mx_t0 = sd_mx_now_us();
	memcpy(p->buf, m->buf, m->len);
	snprintf(recv, sizeof(recv), "%s:%s", tp_proto_lc(in->proto),
		 tp_addr_fmt(&in->src, ab, sizeof(ab)));
	src.received = str_cstr(recv);
	reg_handle(c->reg, m, &src, time(NULL), on_reg_done, p);
	p->sync = false;
	p->m = NULL;
	if (p->answered) {
		mem_free(p);
		return true;
	}
	/* the answer comes from the completion queue: keep the transaction */
	p->tsx = sd_tsx_keep(c);
	return true;
}
