/* The branches' client transactions (RFC 3261 §17.1): their environment
 * on the owning worker, and what their responses mean to the context. */
#include "siphond/proxy_int.h"

#include "dns/dns.h"

#include "base/log.h"
#include "base/loop.h"
#include "base/mem.h"

#include <errno.h>
#include <string.h>

/* ---- client transaction environment ---- */

static int cenv_send(void *ctx, struct tsx *t, const char *buf, size_t len)
{
	struct sd_core *c = ctx;
	struct pxy_br *br = tsx_user(t);
	const struct sd_hop hop = { .proto = br->proto, .dst = br->dst, .tls_name = br->tls_name,
				    .use_flow = br->use_flow, .flow_only = br->flow_only };

	return c->send_req(c->send_ctx, &hop, buf, len, &br->conn_id);
}

static void cenv_on_response(void *ctx, struct tsx *t, const struct sip_msg *m)
{
	struct pxy_br *br = tsx_user(t);
	struct sd_pxy *p = br->p;
	int n;

	(void)ctx;
	if (!p || m->status == 100) /* §16.7 step 2: 100 stops here */
		return;
	if (m->status < 200) {
		br->code = m->status;
		if (br->cancel_wanted && !br->cancel_sent)
			sd_pxy_send_cancel(br); /* §9.1: a CANCEL waits for a provisional */
		if (p->final_sent)
			return;
		sd_pxy_timer_c_start(p); /* §16.7 step 2 */
		n = sd_pxy_strip_via(p->c, m);
		if (n > 0)
			sd_pxy_upstream(p, m->status, p->c->pbuf, (size_t)n);
		return;
	}
	if (m->status < 300) {
		/* §16.7 step 5/9: every 2xx goes upstream at once, also the
		 * retransmissions the INVITE transaction passes up (RFC 6026) */
		n = sd_pxy_strip_via(p->c, m);
		if (n == -EDESTADDRREQ) {
			/* §16.7 step 3: not for the caller, and a 2xx cannot be
			 * made up: the branch ends as 502, so the caller still
			 * gets a final response */
			sd_pxy_branch_final(br, 502, NULL);
			return;
		}
		if (n > 0)
			sd_pxy_upstream(p, m->status, p->c->pbuf, (size_t)n);
		if (!br->final) {
			br->final = true;
			br->code = m->status;
			p->pending--;
		}
		if (!p->final_sent) {
			p->final_sent = true;
			p->got_2xx = true;
			if (p->invite)
				sd_pxy_cancel_all(p); /* §16.7 step 10 */
		}
		sd_pxy_maybe_release(p);
		return;
	}
	/* with no Via left below ours (§16.7 step 3) it is not forwarded, but
	 * its status still ends the branch: the caller gets our own response
	 * with it (a UAS that answered 487 with the CANCEL's Via) */
	sd_pxy_branch_final(br, m->status, m);
}

static void cenv_on_timeout(void *ctx, struct tsx *t)
{
	struct pxy_br *br = tsx_user(t);

	(void)ctx;
	if (br->p)
		sd_pxy_branch_final(br, 408, NULL); /* §16.7 step 2 / Timer B, F */
}

static void cenv_on_transport_error(void *ctx, struct tsx *t, int err)
{
	struct pxy_br *br = tsx_user(t);
	char ab[80];

	(void)ctx;
	log_info(MOD, "branch to %s: %s", tp_addr_fmt(&br->dst, ab, sizeof(ab)),
		 err == -ENOTCONN && br->flow_only ? "its flow is gone" : strerror(-err));
	if (!br->p)
		return;
	if (err == -ENOTCONN && br->flow_only)
		sd_pxy_branch_final(br, 430, NULL); /* RFC 5626 §5.3: Flow Failed */
	else
		sd_pxy_branch_final(br, 503, NULL); /* §16.9 */
}

static void cenv_on_terminated(void *ctx, struct tsx *t)
{
	struct sd_core *c = ctx;
	struct pxy_br *br = tsx_user(t);
	struct sd_pxy *p = br->p;

	br->prev->next = br->next;
	br->next->prev = br->prev;
	dns_targets_free(br->alt);
	br->alt = NULL;
	mem_free(br->tls_name);
	br->tls_name = NULL;
	if (!p)
		return;
	if (!br->final)
		sd_pxy_branch_final(br, 408, NULL);
	/* the context forgets the branch: its memory goes with t */
	for (unsigned i = 0; i < p->nbr; i++)
		if (p->br[i] == br)
			p->br[i] = c->dead_br;
	sd_pxy_put(p);
}

void sd_core_conn_failed(struct sd_core *c, uint64_t conn_id, int err)
{
	struct tsx **ts;
	size_t n = 0, i = 0;

	if (!c->pcfg || !conn_id)
		return;
	for (struct pxy_br *b = c->live_br->next; b != c->live_br; b = b->next)
		n += b->conn_id == conn_id;
	if (!n)
		return;
	/* collected first: failing one may end others (a CANCEL with its
	 * INVITE) or start new ones (the next target, RFC 3263 §4.3) */
	ts = mem_alloc(n * sizeof(*ts));
	if (!ts) {
		log_warn(MOD, "out of memory: %zu branches wait for Timer B/F", n);
		return;
	}
	for (struct pxy_br *b = c->live_br->next; b != c->live_br && i < n; b = b->next) {
		if (b->conn_id == conn_id) {
			tsx_ref(b->t);
			ts[i++] = b->t;
		}
	}
	for (size_t k = 0; k < i; k++) {
		tsx_lock(ts[k]);
		tsx_client_transport_failed(ts[k], err); /* §17.1.4, as a 503 */
		tsx_unlock(ts[k]);
		tsx_unref(ts[k]);
	}
	mem_free(ts);
}

void sd_pxy_init(struct sd_core *c, const struct sd_core_cfg *cfg)
{
		if (!cfg || !cfg->pxy || !c->loop || !cfg->send_req || !cfg->local_addr)
		return;
	c->pmsg = mem_alloc(2 * sizeof(*c->pmsg));
	c->pbuf = mem_alloc(SD_REPLY_MAX);
	c->live_br = mem_zalloc(sizeof(*c->live_br));
	c->dnsq = mem_zalloc(sizeof(*c->dnsq));
	c->dead_br = mem_zalloc(sizeof(*c->dead_br));
	if (!c->pmsg || !c->pbuf || !c->live_br || !c->dead_br || !c->dnsq) {
		mem_free(c->pmsg);
		mem_free(c->pbuf);
		mem_free(c->live_br);
		mem_free(c->dead_br);
		mem_free(c->dnsq);
		c->dnsq = NULL;
		c->pmsg = NULL;
		c->pbuf = NULL;
		c->live_br = c->dead_br = NULL;
		log_err(MOD, "out of memory: worker %u does not proxy", cfg->idx);
		return;
	}
	c->live_br->next = c->live_br->prev = c->live_br;
	c->dnsq->next = c->dnsq->prev = c->dnsq;
	{
		struct dns_config dcfg = { .servers = cfg->pxy->dns_servers };

		if (dns_resolver_create(&c->dns, c->loop, &dcfg) < 0) {
			c->dns = NULL; /* next hops must then be addresses */
			log_warn(MOD, "worker %u: no DNS resolver: next hops that are names fail",
				 cfg->idx);
		}
	}
	c->dead_br->final = true; /* stands in for a branch whose transaction ended */
	c->pcfg = cfg->pxy;
	c->self = cfg->self;
	c->idx = cfg->idx;
	c->local_addr = cfg->local_addr;
	c->send_req = cfg->send_req;
	c->handoff = cfg->handoff;
	c->cenv = c->env;
	c->cenv.user_size = sizeof(struct pxy_br);
	/* the clock and the wheel are the server transactions' (core_tsx.c) */
	c->cenv.send = cenv_send;
	c->cenv.on_response = cenv_on_response;
	c->cenv.on_timeout = cenv_on_timeout;
	c->cenv.on_transport_error = cenv_on_transport_error;
	c->cenv.on_terminated = cenv_on_terminated;
}

void sd_pxy_fini(struct sd_core *c)
{
	if (!c->pcfg)
		return;
	sd_pxy_dns_cancel_all(c);
	/* every branch ends (its context sends what it has upstream) */
	while (c->live_br->next != c->live_br) {
		struct tsx *t = c->live_br->next->t;

		tsx_ref(t);
		tsx_lock(t);
		tsx_terminate(t);
		tsx_unlock(t);
		tsx_unref(t);
	}
	{
		unsigned open = 0;

		for (struct sd_pxy *p = c->live_pxy; p; p = p->next)
			open++;
		if (open)
			log_info(MOD, "worker %u: %u proxied requests still open at stop", c->idx, open);
	}
	while (c->live_pxy) {
		struct sd_pxy *p = c->live_pxy;

		p->refs++; /* keep it while it lets go */
		sd_pxy_timer_c_stop(p);
		if (p->held) {
			p->held = false;
			sd_pxy_put(p);
		}
		sd_pxy_put(p);
	}
	mem_free(c->pmsg);
	mem_free(c->pbuf);
	mem_free(c->live_br);
	mem_free(c->dead_br);
	mem_free(c->dnsq);
	dns_resolver_destroy(c->dns);
	c->dns = NULL;
	c->dnsq = NULL;
	c->pmsg = NULL;
	c->pbuf = NULL;
	c->live_br = c->dead_br = NULL;
	c->pcfg = NULL;
}
