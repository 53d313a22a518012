/* One branch out (RFC 3261 §16.6 steps 1-9): the request for a target,
 * its next hop, its client transaction; CANCEL for a branch (§9.1). */
#include "siphond/proxy_int.h"

#include "base/log.h"
#include "base/loop.h"
#include "base/mem.h"
#include "msg/build.h"
#include "dns/dns.h"
#include "tsx/cancel.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* ---- forwarding ---- */

int sd_pxy_parse_received(struct str r, enum tp_proto *proto, struct tp_addr *dst)
{
	char buf[96];
	struct tp_addr a;

	if (r.len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, r.s, r.len);
	buf[r.len] = '\0';
	if (tp_listen_spec_parse(buf, proto, &a) < 0)
		return -EINVAL;
	*dst = a;
	return 0;
}

/* Send a CANCEL for br (its INVITE got a provisional, §9.1), as a client
 * transaction of its own that nobody waits for. */
void sd_pxy_send_cancel(struct pxy_br *br)
{
	struct sd_core *c = br->c;
	struct sip_msg *inv = sd_pxy_scratch(c, 1), *cm = sd_pxy_scratch(c, 0);
	char buf[8192], *name = NULL;
	struct pxy_br *cb;
	struct str req;
	struct tsx *t;
	int n;

	br->cancel_wanted = true;
	if (br->final || br->cancel_sent || br->code <= 100)
		return;
	br->cancel_sent = true;
	/* the INVITE as its transaction sent it (§9.1: same Request-URI, Via...) */
	req = tsx_client_request(br->t);
	if (sip_msg_parse(inv, req.s, req.len, SIP_PARSE_DATAGRAM) != 0)
		return;
	n = tsx_cancel_build(buf, sizeof(buf), inv);
	if (n <= 0 || (size_t)n > sizeof(buf) ||
	    sip_msg_parse(cm, buf, (size_t)n, SIP_PARSE_DATAGRAM) != 0)
		return;
	/* the same identity, so the INVITE's connection carries it (§9.1);
	 * out of memory, Timer C still ends the branch */
	if (br->tls_name && !(name = mem_strndup(br->tls_name, strlen(br->tls_name))))
		return;
	if (tsx_client_create(&t, &c->cenv, cm, br->proto != TP_UDP, NULL) < 0) {
		mem_free(name);
		return;
	}
	cb = tsx_user(t);
	cb->c = c;
	cb->t = t;
	cb->proto = br->proto;
	cb->dst = br->dst;
	cb->use_flow = br->use_flow;
	cb->flow_only = br->flow_only;
	cb->tls_name = name;
	cb->next = c->live_br;
	cb->prev = c->live_br->prev;
	c->live_br->prev->next = cb;
	c->live_br->prev = cb;
	if (tsx_table_insert(c->table, t) == 0) {
		tsx_lock(t);
		tsx_client_start(t);
		tsx_unlock(t);
	} else {
		tsx_lock(t);
		tsx_terminate(t);
		tsx_unlock(t);
	}
	tsx_unref(t);
}

/* Build the request for target k (§16.6 steps 1-8) into c->pbuf and start
 * its client transaction. Returns 0, or a status for the branch (503). */
static uint16_t forward(struct sd_pxy *p, unsigned k, const struct dns_target *res);

/* Forward target k to the resolved addresses t->t[i..] in turn until one
 * can be sent to (RFC 3263 §4.3); the new branch keeps t for failover.
 * Takes t. Returns 0 or the status of the last failure. */
static uint16_t forward_targets(struct sd_pxy *p, unsigned k, struct dns_targets *t, size_t i)
{
	uint16_t code = 503;

	for (; i < t->n; i++) {
		unsigned before = p->nbr;

		code = forward(p, k, &t->t[i]);
		if (code == 0 && p->nbr > before) {
			struct pxy_br *br = p->br[p->nbr - 1];

			br->alt = t;
			br->alt_next = i + 1;
			return 0;
		}
		if (code == 0)
			break; /* nothing went and nothing failed: no branch to keep t */
	}
	dns_targets_free(t);
	return code;
}

bool sd_pxy_failover(struct pxy_br *br)
{
	struct sd_pxy *p = br->p;
	struct dns_targets *t = br->alt;
	unsigned before;

	if (!p || !t || br->alt_next >= t->n || p->final_sent || p->cancelled ||
	    p->nbr == PXY_BRANCHES_MAX)
		return false;
	br->alt = NULL;
	before = p->nbr;
	log_info(MOD, "branch %u not reached; trying the next of %zu addresses (RFC 3263)", br->k,
		 t->n);
	return forward_targets(p, br->k, t, br->alt_next) == 0 && p->nbr > before;
}

static void dnsq_unlink(struct pxy_dnsq *d)
{
	d->prev->next = d->next;
	d->next->prev = d->prev;
}

static void on_dns(int err, struct dns_targets *t, void *arg)
{
	struct pxy_dnsq *d = arg;
	struct sd_pxy *p = d->p;
	unsigned k = d->k;
	uint16_t code = 503;

	dnsq_unlink(d);
	mem_free(d);
	p->pending--;
	if (!err && !p->final_sent && !p->cancelled) {
		code = forward_targets(p, k, t, 0); /* RFC 3263 §4.3: in order */
		t = NULL;
	} else if (err) {
		log_info(MOD, "next hop of branch %u not resolved: %s", k, strerror(-err));
	}
	if (code && sd_pxy_better(code, p->best_code)) {
		mem_free(p->best);
		p->best = NULL;
		p->best_code = code;
	}
	if (t)
		dns_targets_free(t);
	sd_pxy_check_done(p);
	sd_pxy_put(p);
}

void sd_pxy_dns_cancel_all(struct sd_core *c)
{
	while (c->dnsq && c->dnsq->next != c->dnsq) {
		struct pxy_dnsq *d = c->dnsq->next;
		struct sd_pxy *p = d->p;

		dns_query_cancel(d->q);
		dnsq_unlink(d);
		mem_free(d);
		p->pending--;
		sd_pxy_put(p);
	}
}

int sd_pxy_hop_addr(const struct pxy_target *tg, const struct sip_uri *hu, enum tp_proto *proto,
		    struct tp_addr *dst)
{
	struct pxy_hop hop;

	if (pxy_hop_from_uri(hu, &hop) < 0)
		return 416;
	/* RFC 5626 §5.3 / RFC 3581: back where the contact registered from */
	if (tg && !tg->path.len && tg->flow && sd_pxy_parse_received(tg->received, proto, dst) == 0)
		return 0;
	if (!hop.numeric)
		return 1;
	*proto = hop.proto_set ? hop.proto : TP_UDP;
	if (tp_addr_from_numeric(dst, hop.uri.host,
				 hop.port ? hop.port : *proto == TP_TLS ? 5061 : 5060) < 0)
		return 503;
	return 0;
}

/* Resolve hop for target k; forward() goes on from on_dns(). Returns 0 or a
 * status for the branch. */
static uint16_t resolve(struct sd_pxy *p, unsigned k, const struct sip_uri *hop)
{
	struct sd_core *c = p->c;
	struct pxy_dnsq *d;
	int rc;

	if (!c->dns) {
		log_info(MOD, "next hop %.*s is a name and no resolver runs", STR_FMT(hop->host));
		return 503;
	}
	d = mem_zalloc(sizeof(*d));
	if (!d)
		return 500;
	d->p = p;
	d->k = k;
	d->next = c->dnsq;
	d->prev = c->dnsq->prev;
	c->dnsq->prev->next = d;
	c->dnsq->prev = d;
	p->pending++;
	p->refs++;
	rc = dns_resolve_uri(c->dns, hop, on_dns, d, &d->q);
	if (rc < 0) {
		dnsq_unlink(d);
		mem_free(d);
		p->pending--;
		p->refs--;
		return rc == -EPROTONOSUPPORT ? 416 : 503;
	}
	return 0;
}

static uint16_t forward(struct sd_pxy *p, unsigned k, const struct dns_target *res)
{
	struct sd_core *c = p->c;
	const struct pxy_target *tg = &p->tg[k];
	const struct sip_msg *m = c->fwd_p == p ? c->fwd_pre.msg : NULL;
	struct sd_stx *x = sd_pxy_stx(p);
	char via[256], rr[512], route[4096], branch[64], mf[4], ab[80], *tls_name = NULL;
	struct sip_uri hu;
	struct tp_addr local, dst;
	enum tp_proto proto;
	struct sip_edit e;
	struct str ruri;
	struct pxy_br *br;
	struct tsx *t;
	bool routed;
	int n, rc, bn;

	if (p->nbr == PXY_BRANCHES_MAX)
		return 503;
	if (m) {
		e = c->fwd_pre;
		ruri = c->fwd_ruri;
		routed = c->fwd_routed;
	} else {
		/* later branches (next q, failover, a resolved name): the copy */
		struct sip_msg *pm = sd_pxy_scratch(c, 0);

		if (sip_msg_parse(pm, p->req, p->req_len,
				  x->proto == TP_UDP ? SIP_PARSE_DATAGRAM : SIP_PARSE_STREAM) != 0)
			return 500;
		m = pm;
		sip_edit_init(&e, m);
		if (pxy_preprocess(c->self, m, &e, &ruri, &routed) < 0)
			return 500;
	}
	/* the target, or the last Route when a strict router sent it to us */
	if ((tg->uri.len || ruri.s != m->ruri.s) &&
	    sip_edit_splice(&e, m->ruri.s, m->ruri.len, tg->uri.len ? tg->uri : ruri) < 0)
		return 500;
	if (sip_fwd_dec_max_forwards(&e, mf) < 0)
		return 500;
	/* the next hop: the registration's Path, a Route left, else the target */
	if (tg->path.len) {
		const struct sip_hdr *r = sip_msg_hdr(m, SIP_HDR_ROUTE);

		n = pxy_route_from_path(route, sizeof(route), tg->path);
		if (n <= 0 || sip_edit_splice(&e, r ? r->line.s : m->hdrs[0].line.s, 0,
					      str_make(route, (size_t)n)) < 0)
			return 500;
		struct str cur = tg->path;
		struct sip_nameaddr na;

		if (sip_nameaddr_parse(&na, &cur, SIP_NA_LIST, NULL) ||
		    sip_uri_parse(&hu, na.uri.s, na.uri.len, NULL))
			return 500;
	} else if (routed) {
		if (pxy_top_route(c->self, m, &hu) < 0)
			return 500;
	} else if (tg->hop.len) {
		if (sip_uri_parse(&hu, tg->hop.s, tg->hop.len, NULL))
			return 500;
	} else {
		struct str u = tg->uri.len ? tg->uri : ruri;

		if (sip_uri_parse(&hu, u.s, u.len, NULL))
			return 416;
	}
	if (res) {
		proto = res->proto; /* resolved (RFC 3263) */
		dst = res->addr;
	} else {
		int rc2 = sd_pxy_hop_addr(tg, &hu, &proto, &dst);

		if (rc2 == 1)
			return resolve(p, k, &hu); /* RFC 3263: a name */
		if (rc2)
			return (uint16_t)rc2;
	}
	if (c->local_addr(c->send_ctx, proto, dst.ss.ss_family, &local) < 0) {
		log_info(MOD, "no %s listener for %s", tp_proto_name(proto),
			 tp_addr_fmt(&dst, ab, sizeof(ab)));
		return 503;
	}
	/* §16.6 step 4, and RFC 5658 when the request changes interface */
	if (c->pcfg->record_route && p->initial) {
		bool sips = m->ruri_scheme == SIP_URI_SIPS;

		n = pxy_record_route_line(rr, sizeof(rr), &local, proto, sips);
		if (n > 0 && (proto != p->in_proto || dst.ss.ss_family != p->in_family)) {
			int k2 = pxy_record_route_line(rr + n, sizeof(rr) - (size_t)n, &x->local,
						       p->in_proto, sips);
			n = k2 > 0 ? n + k2 : -ENOSPC;
		}
		if (n <= 0 || sip_fwd_add_record_route(&e, str_make(rr, (size_t)n)) < 0)
			return 500;
	}
	/* §16.6 step 8 */
	bn = pxy_branch(branch, sizeof(branch), p->loop_hash, p->nbr);
	if (bn <= 0)
		return 500;
	n = pxy_via_line(via, sizeof(via), &local, proto, str_make(branch, (size_t)bn));
	if (n <= 0 || sip_fwd_add_via(&e, str_make(via, (size_t)n)) < 0)
		return 500;
	n = sip_edit_apply(&e, c->pbuf, SD_REPLY_MAX);
	if (n <= 0)
		return 500;
	/* RFC 5922 §4: a hop that was a name is verified against that name,
	 * not against the address it resolved to */
	if (res && proto == TP_TLS && !(tls_name = mem_strndup(hu.host.s, hu.host.len)))
		return 500;
	/* built here from a parsed request: its key is known, no second parse */
	if (tsx_client_create_raw(&t, &c->cenv, c->pbuf, (size_t)n, m->method_id, m->method,
				  str_make(branch, (size_t)bn), proto != TP_UDP, NULL) < 0) {
		mem_free(tls_name);
		return 500;
	}
	br = tsx_user(t);
	br->c = c;
	br->p = p;
	br->t = t;
	br->proto = proto;
	br->dst = dst;
	br->k = k;
	br->tls_name = tls_name;
	/* RFC 5626 §5.3: a registration's flow (sd_pxy_hop_addr sent it to
	 * where the REGISTER came from); an outbound one's, if gone, gets 430
	 * rather than a connection to its source port */
	br->use_flow = !res && tg->flow && !tg->path.len && proto != TP_UDP;
	br->flow_only = br->use_flow && tg->outbound;
	br->next = c->live_br;
	br->prev = c->live_br->prev;
	c->live_br->prev->next = br;
	c->live_br->prev = br;
	p->br[p->nbr++] = br;
	p->pending++;
	p->refs++;
	log_debug(MOD, "branch %u to %s:%s (call-id %.*s)", p->nbr - 1, tp_proto_name(proto),
		  tp_addr_fmt(&dst, ab, sizeof(ab)), STR_FMT(m->call_id));
	rc = tsx_table_insert(c->table, t);
	tsx_lock(t);
	if (rc == 0)
		tsx_client_start(t); /* a send error ends the branch with 503 */
	else
		tsx_terminate(t);
	tsx_unlock(t);
	tsx_unref(t);
	return 0;
}

/* §16.6: the next targets of equal q, in parallel. */
void sd_pxy_next_group(struct sd_pxy *p)
{
	unsigned first = p->next_tg;

	while (p->next_tg < p->ntg && !p->final_sent &&
	       (p->next_tg == first || p->tg[p->next_tg].q == p->tg[first].q)) {
		uint16_t code = forward(p, p->next_tg++, NULL);

		if (code && sd_pxy_better(code, p->best_code)) {
			mem_free(p->best);
			p->best = NULL;
			p->best_code = code;
		}
	}
}

void sd_pxy_run_pending(struct sd_core *c)
{
	struct sd_pxy *p = c->pending, *q = c->pending_cancel;

	c->pending = c->pending_cancel = NULL;
	if (p) {
		p->refs++;
		sd_pxy_timer_c_start(p);
		/* the request p was made from is still parsed (p->req is its
		 * copy), with its preprocessing (sd_pxy_request) */
		c->fwd_p = p;
		sd_pxy_next_group(p);
		c->fwd_p = NULL;
		sd_pxy_check_done(p);
		sd_pxy_put(p);
	}
	if (q) {
		q->refs++;
		q->cancelled = true; /* §16.10: no new branches */
		sd_pxy_cancel_all(q);
		sd_pxy_check_done(q);
		sd_pxy_put(q);
	}
}
