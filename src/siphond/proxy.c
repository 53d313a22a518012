/* Stateful proxy (RFC 3261 §16): requests in (§16.3-§16.5), responses and
 * CANCEL to the right context. Runs on the worker owning the context (see
 * proxy.h); proxy_ctx.c, proxy_branch.c and proxy_fwd.c do the rest. */
#include "siphond/proxy_int.h"

#include "base/log.h"
#include "base/loop.h"
#include "base/mem.h"
#include "location/loc.h"
#include "msg/build.h"
#include "siphond/regsvc.h"
#include "subscriber/sub.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* ---- requests ---- */

/* A contact behind NAT: its URI names a private address (RFC 1918, RFC
 * 6598) the REGISTER did not come from, so only the flow it registered
 * over reaches it (RFC 5626 §5.3 when it used outbound, else the usual
 * NAT fix-up). */
static bool behind_nat(const struct loc_binding *b)
{
	struct sip_uri u;
	struct tp_addr a;
	uint8_t ip[16];
	const uint8_t *q = ip + 12; /* IPv4-mapped: the dotted quad */

	if (b->reg_id && b->instance.len)
		return true; /* RFC 5626: always the flow */
	if (!b->received.len || sip_uri_parse(&u, b->contact.s, b->contact.len, NULL) != 0 ||
	    u.host_type != SIP_HOST_IPV4 || tp_addr_from_numeric(&a, u.host, 0) != 0)
		return false;
	tp_addr_ip16(&a, ip);
	return q[0] == 10 || (q[0] == 172 && q[1] >= 16 && q[1] < 32) ||
	       (q[0] == 192 && q[1] == 168) || (q[0] == 100 && q[1] >= 64 && q[1] < 128);
}

/* §16.5 for a Request-URI in a domain we serve: the bindings, q first.
 * Without them it answers (404/480) through out, unless out is NULL. */
static bool lookup_targets(struct sd_core *c, const struct sip_msg *m, const struct sd_in *in,
			   struct sd_out *out, const struct sip_uri *u, struct sd_pxy *p)
{
	const struct sd_regsvc *s = c->regsvc;
	struct loc_binding b[REG_MAX_CONTACTS];
	char aor[512];
	size_t n, need = 0;
	int len = reg_aor_canon(aor, sizeof(aor), u);
	char *t;

	if (len < 0) {
		if (out)
			sd_respond(c, m, in, out, 404, "Not Found", STR_NULL);
		return false;
	}
	n = loc_lookup(s->loc, str_make(aor, (size_t)len), b, REG_MAX_CONTACTS, time(NULL));
	if (n == 0) {
		uint8_t ha1[AUTH_HASH_MAX];
		size_t hl;
		/* §16.5 / issue: a known user who is not registered anywhere */
		bool known = s->sub && sub_lookup(s->sub, u->user, u->host, AUTH_ALG_MD5, ha1, &hl) == 0;

		if (out)
			sd_respond(c, m, in, out, known ? 480 : 404,
				   known ? "Temporarily Unavailable" : NULL, STR_NULL);
		return false;
	}
	for (size_t i = 0; i < n; i++)
		need += b[i].contact.len + b[i].path.len + b[i].received.len;
	/* the targets, then their strings: one allocation sized to the lookup */
	p->tbuf = mem_alloc(n * sizeof(*p->tg) + need + 1);
	if (!p->tbuf) {
		loc_release(b, n);
		if (out)
			sd_respond(c, m, in, out, 500, "Out of Memory", STR_NULL);
		return false;
	}
	p->tg = (struct pxy_target *)(void *)p->tbuf;
	t = p->tbuf + n * sizeof(*p->tg);
	for (size_t i = 0; i < n; i++) {
		struct pxy_target *tg = &p->tg[p->ntg++];

		*tg = (struct pxy_target){ 0 };

		memcpy(t, b[i].contact.s, b[i].contact.len);
		tg->uri = str_make(t, b[i].contact.len);
		t += b[i].contact.len;
		memcpy(t, b[i].path.s, b[i].path.len);
		tg->path = str_make(t, b[i].path.len);
		t += b[i].path.len;
		memcpy(t, b[i].received.s, b[i].received.len);
		tg->received = str_make(t, b[i].received.len);
		t += b[i].received.len;
		tg->q = b[i].q;
		tg->expires = b[i].expires;
		tg->flow = behind_nat(&b[i]);
		tg->outbound = b[i].reg_id && b[i].instance.len;
	}
	loc_release(b, n);
	return true;
}

/* [routes]: the static next hop for a domain, or the default one. */
static const struct sd_route *route_for(const struct sd_core *c, struct str host)
{
	const struct sd_route *dflt = NULL;

	for (unsigned i = 0; i < c->pcfg->nroutes; i++) {
		const struct sd_route *r = &c->pcfg->routes[i];

		if (str_caseeq(host, str_cstr(r->domain)))
			return r;
		if (strcmp(r->domain, "default") == 0)
			dflt = r;
	}
	return dflt;
}

/* [redirect] moved: a user gone for good gets 301 (RFC 3261 §21.3.2). */
static bool moved(struct sd_core *c, const struct sip_msg *m, const struct sd_in *in,
		  struct sd_out *out, const struct sip_uri *u)
{
	char hdr[600];

	for (unsigned i = 0; i < c->pcfg->nmoved; i++) {
		const struct sd_moved *mv = &c->pcfg->moved[i];
		const char *at = strchr(mv->aor, '@');
		struct str user = str_make(mv->aor, (size_t)(at - mv->aor));
		int n;

		if (!str_eq(user, u->user) || !str_caseeq(str_cstr(at + 1), u->host))
			continue;
		n = snprintf(hdr, sizeof(hdr), "Contact: <%s>\r\n", mv->to);
		if (n <= 0 || (size_t)n >= sizeof(hdr))
			continue;
		sd_respond(c, m, in, out, 301, NULL, str_make(hdr, (size_t)n));
		return true;
	}
	return false;
}

/* The redirect server (RFC 3261 §8.3, §21.3): 302 for one binding, 300 for
 * several, each a Contact with its q and remaining expires. */
static void redirect(struct sd_core *c, const struct sip_msg *m, const struct sd_in *in,
		     struct sd_out *out, const struct sd_pxy *p)
{
	char hdrs[16384];
	size_t len = 0;
	time_t now = time(NULL);

	for (unsigned i = 0; i < p->ntg; i++) {
		const struct pxy_target *tg = &p->tg[i];
		long left = tg->expires > now ? (long)(tg->expires - now) : 0;
		int n = snprintf(hdrs + len, sizeof(hdrs) - len, "Contact: <%.*s>;q=%u.%03u;expires=%ld\r\n",
				 (int)tg->uri.len, tg->uri.s, tg->q / 1000, tg->q % 1000, left);

		if (n <= 0 || (size_t)n >= sizeof(hdrs) - len)
			break;
		len += (size_t)n;
	}
	sd_respond(c, m, in, out, p->ntg == 1 ? 302 : 300, NULL, str_make(hdrs, len));
}

/* ACK for a 2xx, and every request in stateless mode: forwarded as a
 * stateless proxy does (§16.11), to tg (NULL: the Route left, else the
 * Request-URI), with a branch derived from the request so that its
 * retransmissions, and a CANCEL for it, get the same one. Returns 0 or the
 * status to answer (416, 500, 503). */
static uint16_t forward_stateless(struct sd_core *c, const struct sip_msg *m,
				  const char hash[PXY_LOOP_HASH_LEN], const struct pxy_target *tg)
{
	char via[256], rr[256], branch[64], mf[4], ab[80];
	struct sip_edit e;
	struct str ruri;
	struct sip_uri hu;
	struct tp_addr dst, local;
	struct sd_hop hop;
	enum tp_proto proto;
	bool routed;
	int n;

	sip_edit_init(&e, m);
	if (pxy_preprocess(c->self, m, &e, &ruri, &routed) < 0)
		return 500;
	if (tg && tg->uri.len)
		ruri = tg->uri;
	if ((ruri.s != m->ruri.s && sip_edit_splice(&e, m->ruri.s, m->ruri.len, ruri) < 0) ||
	    sip_fwd_dec_max_forwards(&e, mf) < 0)
		return 500;
	if (routed ? pxy_top_route(c->self, m, &hu) < 0
	    : tg && tg->hop.len ? sip_uri_parse(&hu, tg->hop.s, tg->hop.len, NULL) != 0
				: sip_uri_parse(&hu, ruri.s, ruri.len, NULL) != 0)
		return 416;
	/* stateless: a name cannot wait for DNS (nothing is kept) */
	n = sd_pxy_hop_addr(tg, &hu, &proto, &dst);
	if (n)
		return n == 1 ? 503 : (uint16_t)n;
	if (c->local_addr(c->send_ctx, proto, dst.ss.ss_family, &local) < 0)
		return 503;
	if (tg && c->pcfg->record_route && !m->to.has_tag && m->method_id != SIP_METHOD_ACK &&
	    m->method_id != SIP_METHOD_CANCEL) {
		n = pxy_record_route_line(rr, sizeof(rr), &local, proto,
					  m->ruri_scheme == SIP_URI_SIPS);
		if (n <= 0 || sip_fwd_add_record_route(&e, str_make(rr, (size_t)n)) < 0)
			return 500;
	}
	n = pxy_branch(branch, sizeof(branch), hash, 0);
	if (n <= 0)
		return 500;
	n = pxy_via_line(via, sizeof(via), &local, proto, str_make(branch, (size_t)n));
	if (n <= 0 || sip_fwd_add_via(&e, str_make(via, (size_t)n)) < 0)
		return 500;
	n = sip_edit_apply(&e, c->pbuf, SD_REPLY_MAX);
	if (n <= 0)
		return 500;
	/* a registration's flow (RFC 5626 §5.3) as in the stateful mode */
	hop = (struct sd_hop){ .proto = proto, .dst = dst,
			       .use_flow = tg && tg->flow && !tg->path.len && proto != TP_UDP };
	hop.flow_only = hop.use_flow && tg->outbound;
	n = c->send_req(c->send_ctx, &hop, c->pbuf, (size_t)n, NULL);
	if (n < 0) {
		log_debug(MOD, "%.*s to %s not sent", STR_FMT(m->method),
			  tp_addr_fmt(&dst, ab, sizeof(ab)));
		return n == -ENOTCONN && hop.flow_only ? 430 : 503;
	}
	return 0;
}

/* Stateless mode (§16.11): the same decisions as the stateful proxy, one
 * target (the best binding), nothing kept. */
bool sd_pxy_stateless(struct sd_core *c, const struct sip_msg *m, const struct sd_in *in,
		      struct sd_out *out)
{
	const struct sd_regsvc *s = c->regsvc;
	char hash[PXY_LOOP_HASH_LEN];
	struct sip_edit e;
	struct str ruri;
	struct sip_uri u;
	struct sd_pxy *p;
	bool routed, ack = m->method_id == SIP_METHOD_ACK;
	uint16_t code;

	if (!c->pcfg || !c->pcfg->stateless || m->method_id == SIP_METHOD_REGISTER ||
	    sd_addressed_to_us(m, in))
		return false;
	if (m->ruri_scheme != SIP_URI_SIP && m->ruri_scheme != SIP_URI_SIPS) {
		if (!ack)
			sd_respond(c, m, in, out, 416, NULL, STR_NULL);
		return true;
	}
	if (m->max_forwards == 0) {
		if (!ack)
			sd_respond(c, m, in, out, 483, NULL, STR_NULL);
		return true;
	}
	if (!ack && sd_check_extensions(c, m, in, out, SIP_HDR_PROXY_REQUIRE))
		return true;
	pxy_loop_hash(m, hash);
	if (!ack && pxy_loop_detected(c->self, m, hash)) {
		sd_respond(c, m, in, out, 482, NULL, STR_NULL);
		return true;
	}
	sip_edit_init(&e, m);
	if (pxy_preprocess(c->self, m, &e, &ruri, &routed) < 0) {
		if (!ack)
			sd_respond(c, m, in, out, 400, "Bad Route", STR_NULL);
		return true;
	}
	if (!m->to.has_tag && routed) {
		/* a preloaded route elsewhere would make us a relay */
		code = 403;
	} else if (m->to.has_tag && (routed || ruri.s != m->ruri.s || sip_msg_hdr(m, SIP_HDR_ROUTE))) {
		code = forward_stateless(c, m, hash, NULL); /* along a dialog's route set */
	} else if (sip_uri_parse(&u, ruri.s, ruri.len, NULL) == 0 && s &&
		   (sd_regsvc_serves(s, u.host) || pxy_uri_is_self(c->self, &u))) {
		p = mem_zalloc(sizeof(*p));
		if (!p) {
			if (!ack)
				sd_respond(c, m, in, out, 500, "Out of Memory", STR_NULL);
			return true;
		}
		p->tg = &p->tg1;
		/* an ACK or CANCEL for a 404/480 we gave: nothing to forward */
		code = lookup_targets(c, m, in, ack ? NULL : out, &u, p)
			       ? forward_stateless(c, m, hash, &p->tg[0]) : 0;
		mem_free(p->tbuf);
		mem_free(p);
	} else {
		const struct sd_route *r = sip_uri_parse(&u, ruri.s, ruri.len, NULL) == 0
						   ? route_for(c, u.host) : NULL;
		struct pxy_target tg = { .hop = r ? str_cstr(r->hop) : STR_NULL };

		code = r ? forward_stateless(c, m, hash, &tg) : 403;
	}
	if (code && !ack)
		sd_respond(c, m, in, out, code,
			   code == 403 ? (routed ? "Preloaded Route Denied" : "Relaying Denied") : NULL,
			   STR_NULL);
	return true;
}

/* Policy (RFC 3261 §22.3): a dialog-creating request that claims to be from
 * one of our users, of a method [auth] methods names, must prove it (407),
 * and the From user must be who authenticated (no spoofing our users).
 * Returns true when it answered; *authed says the caller proved who it is. */
static bool caller_refused(struct sd_core *c, const struct sip_msg *m, const struct sd_in *in,
			   struct sd_out *out, bool *authed)
{
	const struct sd_regsvc *s = c->regsvc;
	char realm[256], ub[SUB_USER_MAX + 1];
	struct sip_uri from;
	struct str user;

	*authed = false;
	if (!s || !s->auth || !(s->auth_methods & (1ull << m->method_id)) || m->to.has_tag ||
	    m->method_id == SIP_METHOD_CANCEL)
		return false;
	if (sip_uri_parse(&from, m->from.uri.s, m->from.uri.len, NULL) != 0 ||
	    !sd_regsvc_serves(s, from.host) || sd_realm_of(from.host, realm, sizeof(realm)) < 0)
		return false; /* not one of ours: the callee's domain decides */
	if (sd_auth_check(c, m, in, out, str_make(realm, from.host.len), true, ub, sizeof(ub), &user))
		return true;
	if (!sd_uri_user_is(m->from.uri, user)) {
		log_info(MOD, "%.*s from %.*s by %.*s refused: not their identity (call-id %.*s)",
			 STR_FMT(m->method), STR_FMT(m->from.uri), STR_FMT(user), STR_FMT(m->call_id));
		sd_respond(c, m, in, out, 403, "Not Your Identity", STR_NULL);
		return true;
	}
	*authed = true;
	return false;
}

bool sd_pxy_request(struct sd_core *c, const struct sip_msg *m, const struct sd_in *in,
		    struct sd_out *out)
{
	const struct sd_regsvc *s = c->regsvc;
	char hash[PXY_LOOP_HASH_LEN];
	struct sip_edit e;
	struct str ruri;
	struct sip_uri u;
	struct sd_pxy *p;
	struct sd_stx *x;
	const struct sd_route *sroute;
	size_t hoplen;
	bool routed, uri_ok, served, initial, along, authed;
	int rc;

	if (!c->pcfg)
		return false;
	pxy_loop_hash(m, hash);
	/* §16.3 item 4 */
	if (m->method_id != SIP_METHOD_ACK && pxy_loop_detected(c->self, m, hash)) {
		sd_respond(c, m, in, out, 482, NULL, STR_NULL);
		return true;
	}
	sip_edit_init(&e, m);
	rc = pxy_preprocess(c->self, m, &e, &ruri, &routed);
	if (rc < 0) {
		if (m->method_id != SIP_METHOD_ACK)
			sd_respond(c, m, in, out, rc == -EINVAL ? 400 : 500,
				   rc == -EINVAL ? "Bad Route" : "Too Many Route Values", STR_NULL);
		return true;
	}
	if (m->method_id == SIP_METHOD_ACK) {
		if (c->pcfg->proxy)
			forward_stateless(c, m, hash, NULL);
		return true;
	}
	if (!c->cur_tsx) {
		sd_respond(c, m, in, out, 500, "No Transaction", STR_NULL);
		return true;
	}
	if (caller_refused(c, m, in, out, &authed))
		return true;
	/* §16.5: where does it go? */
	uri_ok = sip_uri_parse(&u, ruri.s, ruri.len, NULL) == 0 &&
		 (u.scheme == SIP_URI_SIP || u.scheme == SIP_URI_SIPS);
	served = uri_ok && s && (sd_regsvc_serves(s, u.host) || pxy_uri_is_self(c->self, &u));
	initial = !m->to.has_tag;
	/* along a route set: a dialog we are on (our Route removed, no To tag
	 * needed for the strict router's case), or a route preloaded by an
	 * authenticated user of ours; a new request whose only Route was ours
	 * (an outbound proxy setting) is routed like any new request */
	along = !initial ? (routed || ruri.s != m->ruri.s || sip_msg_hdr(m, SIP_HDR_ROUTE))
			 : routed;
	if (initial && routed && !authed) {
		/* a preloaded route elsewhere would make us a relay */
		sd_respond(c, m, in, out, 403, "Preloaded Route Denied", STR_NULL);
		return true;
	}
	if (!c->pcfg->proxy && (along || !served))
		return false; /* a redirect server routes nothing */
	sroute = !along && !served && uri_ok ? route_for(c, u.host) : NULL;
	if (!along && !served && !sroute && !authed) {
		/* not ours, and no route says where: no open relay */
		sd_respond(c, m, in, out, 403, "Relaying Denied", STR_NULL);
		return true;
	}
	/* the [routes] hop is copied after the request: a reload may free the
	 * configuration it came from while the context lives */
	hoplen = sroute ? strlen(sroute->hop) : 0;
	p = mem_zalloc(sizeof(*p) + m->len + hoplen);
	if (!p) {
		sd_respond(c, m, in, out, 500, "Out of Memory", STR_NULL);
		return true;
	}
	p->c = c;
	p->tg = &p->tg1;
	p->refs = 1;
	p->held = true;
	p->invite = m->method_id == SIP_METHOD_INVITE;
	p->initial = initial;
	p->routed = routed;
	p->in_proto = in->proto;
	p->in_family = in->local.ss.ss_family;
	memcpy(p->loop_hash, hash, sizeof(hash));
	memcpy(p->req, m->buf, m->len);
	p->req_len = m->len;
	if (along || !served) {
		/* loose routing (§16.12), or a request to another domain along
		 * a static route: the Request-URI stays, the next hop is what is
		 * left of the route, else the [routes] hop */
		p->ntg = 1;
		if (sroute) {
			memcpy(p->req + m->len, sroute->hop, hoplen);
			p->tg[0].hop = str_make(p->req + m->len, hoplen);
		}
	} else {
		if (moved(c, m, in, out, &u) || !lookup_targets(c, m, in, out, &u, p)) {
			mem_free(p);
			return true;
		}
		if (c->pcfg->redirect) {
			redirect(c, m, in, out, p);
			mem_free(p->tbuf);
			mem_free(p);
			return true;
		}
	}
	/* the context lives with the server transaction */
	x = tsx_user(c->cur_tsx);
	x->pxy = p;
	p->stx = sd_tsx_keep(c);
	p->next = c->live_pxy;
	if (p->next)
		p->next->prev = p;
	c->live_pxy = p;
	p->mx_t0 = sd_mx_pxy_start(c->idx, p->invite && p->initial);
	c->pending = p;
	/* m stays parsed until the first branches are built (run_pending) */
	c->fwd_pre = e;
	c->fwd_ruri = ruri;
	c->fwd_routed = routed;
	return true;
}

/* ---- responses and CANCEL ---- */

bool sd_pxy_response(struct sd_core *c, const struct sip_msg *m, const struct sd_in *in)
{
	struct tsx *t;
	struct pxy_br *br;

	if (!c->pcfg)
		return false;
	t = tsx_table_match_response(c->table, m);
	if (!t) {
		/* §16.7: no branch of ours (a late 2xx retransmission): forward
		 * statelessly by the Via below ours */
		struct sip_via v;
		const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_VIA);
		struct str cur;
		struct tp_addr dst;
		int n;

		static const char magic[] = "z9hG4bK" PXY_BRANCH_MAGIC;
		uint32_t rport = 0;

		if (!h || m->via1.branch.len < sizeof(magic) - 1 ||
		    memcmp(m->via1.branch.s, magic, sizeof(magic) - 1) != 0)
			return false;
		cur = h->value;
		if (sip_via_parse(&v, &cur, NULL) < 0)
			return false;
		if (!str_trim(cur).len) {
			h = sip_msg_hdr_next(m, h);
			if (!h)
				return false;
			cur = h->value;
		}
		if (sip_via_parse(&v, &cur, NULL) < 0)
			return false;
		if (v.rport.len && sip_uint_parse(v.rport, 65535, &rport, NULL) < 0)
			rport = 0;
		if (tp_addr_from_numeric(&dst, v.received.len ? v.received : v.host,
					 rport ? (uint16_t)rport : v.has_port ? v.port : 5060) < 0)
			return false;
		n = sd_pxy_strip_via(c, m);
		if (n > 0 && str_caseeq_lit(v.transport, "UDP"))
			c->send_req(c->send_ctx, &(struct sd_hop){ .proto = TP_UDP, .dst = dst },
				    c->pbuf, (size_t)n, NULL);
		return false;
	}
	br = tsx_user(t);
	if (br->c != c && !c->handed && c->handoff) {
		/* the branch is another worker's: its thread handles it */
		c->handoff(c->send_ctx, br->c->idx, in);
		tsx_unref(t);
		return true;
	}
	tsx_lock(t);
	tsx_client_response(t, m);
	tsx_unlock(t);
	tsx_unref(t);
	return false;
}

bool sd_pxy_cancel_handoff(struct sd_core *c, const struct sip_msg *m, const struct sd_in *in)
{
	struct tsx *inv;
	struct sd_stx *x;
	bool other;

	if (!c->pcfg || c->handed || !c->handoff)
		return false;
	inv = tsx_table_find_cancelled(c->table, m);
	if (!inv)
		return false;
	x = tsx_user(inv);
	other = x->core != c;
	if (other)
		c->handoff(c->send_ctx, x->core->idx, in);
	tsx_unref(inv);
	return other;
}

struct sd_pxy *sd_pxy_for_cancel(struct sd_core *c, const struct sip_msg *cancel)
{
	struct tsx *inv;
	struct sd_pxy *p = NULL;

	if (!c->pcfg)
		return NULL;
	inv = tsx_table_find_cancelled(c->table, cancel);
	if (!inv)
		return NULL;
	if (((struct sd_stx *)tsx_user(inv))->core == c)
		p = ((struct sd_stx *)tsx_user(inv))->pxy;
	tsx_unref(inv);
	return p;
}

void sd_pxy_cancel_later(struct sd_core *c, struct sd_pxy *p)
{
	c->pending_cancel = p;
}

void sd_pxy_stx_terminated(struct sd_pxy *p)
{
	(void)p; /* the context holds a reference: it frees the transaction */
}
