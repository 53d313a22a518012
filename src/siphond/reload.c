/* SIGHUP: build a new generation of the live settings, publish it, free the
 * old ones once every worker has moved on (reload.h). */
#include "siphond/reload.h"

#include "auth/auth.h"
#include "base/log.h"
#include "base/mem.h"
#include "proxy/route.h"
#include "siphond/core.h"
#include "siphond/regsvc.h"
#include "subscriber/sub.h"
#include "transport/ratelim.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define MOD "reload"
#define ACK_POLL_MS 20

/* An object several generations may share (main thread only). free NULL:
 * borrowed from the server, never freed here. */
struct res {
	void *obj;
	void (*free)(void *obj);
	unsigned refs;
};

struct gen {
	struct sd_live live;
	struct sd_config *cfg;      /* owned, except generation 0's */
	struct sd_regsvc regsvc;    /* the server's, with this generation's policy */
	struct sd_pxy_cfg pxy;
	struct pxy_self self;
	struct str names[SD_DOMAINS_MAX];
	struct res *ratelim, *sub, *auth;
	struct gen *older;
};

struct sd_reload {
	struct sd_reload_host h;
	struct gen *gens;           /* newest first; the last is generation 0 */
	uint64_t seq;
	struct loop *loop;
	struct loop_timer ack_timer;
};

static struct res *res_new(void *obj, void (*fn)(void *obj))
{
	struct res *r;

	if (!obj)
		return NULL;
	r = mem_zalloc(sizeof(*r));
	if (!r) {
		if (fn)
			fn(obj);
		return NULL;
	}
	r->obj = obj;
	r->free = fn;
	r->refs = 1;
	return r;
}

static struct res *res_ref(struct res *r)
{
	if (r)
		r->refs++;
	return r;
}

static void res_unref(struct res *r)
{
	if (!r || --r->refs)
		return;
	if (r->free)
		r->free(r->obj);
	mem_free(r);
}

static void free_ratelim(void *o)
{
	tp_ratelim_destroy(o);
}

static void free_sub(void *o)
{
	sub_close(o);
}

static void free_auth(void *o)
{
	auth_server_destroy(o);
}

static void gen_free(struct gen *g, const struct sd_config *start)
{
	if (!g)
		return;
	res_unref(g->ratelim);
	res_unref(g->sub);
	res_unref(g->auth);
	if (g->cfg && g->cfg != start) {
		sd_config_clear(g->cfg);
		mem_free(g->cfg);
	}
	mem_free(g);
}

int sd_reload_create(struct sd_reload **out, const struct sd_reload_host *h)
{
	struct sd_reload *r = mem_zalloc(sizeof(*r));
	struct gen *g = mem_zalloc(sizeof(*g));
	const struct sd_live *l = h->initial;

	if (!r || !g) {
		mem_free(r);
		mem_free(g);
		return -ENOMEM;
	}
	r->h = *h;
	/* generation 0 borrows the server's objects */
	g->live = *l;
	g->cfg = (struct sd_config *)h->start; /* never freed: see gen_free */
	if (l->regsvc)
		g->regsvc = *l->regsvc;
	if (l->pxy)
		g->pxy = *l->pxy;
	g->self = *l->self;
	if ((l->ratelim && !(g->ratelim = res_new(l->ratelim, NULL))) ||
	    (g->regsvc.sub && !(g->sub = res_new(g->regsvc.sub, NULL))) ||
	    (g->regsvc.auth && !(g->auth = res_new(g->regsvc.auth, NULL)))) {
		gen_free(g, h->start);
		mem_free(r);
		return -ENOMEM;
	}
	r->gens = g;
	*out = r;
	return 0;
}

void sd_reload_destroy(struct sd_reload *r)
{
	if (!r)
		return;
	if (r->loop)
		loop_timer_cancel(r->loop, &r->ack_timer);
	while (r->gens) {
		struct gen *g = r->gens;

		r->gens = g->older;
		gen_free(g, r->h.start);
	}
	mem_free(r);
}

static bool str_differs(const char *a, const char *b)
{
	return (a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0);
}

static bool listen_differs(const struct sd_config *a, const struct sd_config *b)
{
	if (a->nlisten != b->nlisten)
		return true;
	for (unsigned i = 0; i < a->nlisten; i++)
		if (a->listen[i].proto != b->listen[i].proto ||
		    !tp_addr_equal(&a->listen[i].addr, &b->listen[i].addr))
			return true;
	return false;
}

static bool egress_differs(const struct sd_config *a, const struct sd_config *b)
{
	if (a->negress != b->negress)
		return true;
	for (unsigned i = 0; i < a->negress; i++)
		if (a->egress[i].allow != b->egress[i].allow ||
		    strcmp(a->egress[i].cidr, b->egress[i].cidr) != 0)
			return true;
	return false;
}

/* What the running server keeps until a restart: say so for each change. */
static unsigned log_restart_only(const struct sd_config *a, const struct sd_config *b)
{
	struct { bool differs; const char *key; } d[] = {
		{ listen_differs(a, b), "[server] listen" },
		{ a->workers != b->workers, "[server] workers" },
		{ a->udp_balance != b->udp_balance, "[server] udp_balance" },
		{ str_differs(a->data_dir, b->data_dir), "[server] data_dir" },
		{ str_differs(a->server_name, b->server_name), "[server] server_name" },
		{ a->tcp_max_conns != b->tcp_max_conns, "[server] tcp_max_connections" },
		{ a->tcp_max_per_source != b->tcp_max_per_source, "[server] tcp_max_per_source" },
		{ a->tcp_idle_timeout != b->tcp_idle_timeout, "[server] tcp_idle_timeout" },
		{ a->tcp_partial_timeout != b->tcp_partial_timeout, "[server] tcp_partial_timeout" },
		{ str_differs(a->tls_certificate, b->tls_certificate) ||
		  str_differs(a->tls_private_key, b->tls_private_key) ||
		  str_differs(a->tls_ca_file, b->tls_ca_file) ||
		  a->tls_verify_peer != b->tls_verify_peer ||
		  a->tls_handshake_timeout != b->tls_handshake_timeout, "[tls]" },
		{ egress_differs(a, b), "[egress]" },
		{ memcmp(&a->timers, &b->timers, sizeof(a->timers)) != 0, "[transactions]" },
		{ a->reg_enabled != b->reg_enabled, "[registrar] enabled" },
		{ a->reg.min_expires != b->reg.min_expires || a->reg.max_expires != b->reg.max_expires ||
		  a->reg.default_expires != b->reg.default_expires ||
		  a->reg.max_contacts != b->reg.max_contacts || a->reg.on_too_many != b->reg.on_too_many ||
		  a->reg.jitter_percent != b->reg.jitter_percent, "[registrar] limits" },
		{ a->loc_backend != b->loc_backend || str_differs(a->loc_database, b->loc_database) ||
		  str_differs(a->redis_addr, b->redis_addr) ||
		  str_differs(a->redis_prefix, b->redis_prefix) ||
		  str_differs(a->redis_password, b->redis_password) ||
		  a->loc_purge_interval != b->loc_purge_interval, "[location]" },
		{ str_differs(a->auth_secret_file, b->auth_secret_file), "[auth] secret_file" },
		{ a->pxy_enabled != b->pxy_enabled, "[proxy] enabled" },
		{ a->pxy_stateless != b->pxy_stateless, "[proxy] mode" },
		{ a->redirect != b->redirect, "[redirect] enabled" },
		{ str_differs(a->dns_servers, b->dns_servers), "[dns] servers" },
		{ str_differs(a->http_listen, b->http_listen) ||
		  str_differs(a->http_token_file, b->http_token_file), "[http]" },
	};
	unsigned n = 0;

	for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
		if (!d[i].differs)
			continue;
		log_warn(MOD, "%s changed: needs a restart (the running value stays)", d[i].key);
		n++;
	}
	return n;
}

static bool auth_same(const struct sd_config *a, const struct sd_config *b)
{
	if (a->auth_nalgs != b->auth_nalgs || a->nonce_ttl != b->nonce_ttl)
		return false;
	for (unsigned i = 0; i < a->auth_nalgs; i++)
		if (a->auth_algs[i] != b->auth_algs[i])
			return false;
	return true;
}

/* The subscriber store and digest server g needs: the previous
 * generation's when they still fit, else new ones. */
static int gen_auth(struct sd_reload *r, struct gen *g, const struct gen *cur)
{
	const struct sd_config *c = g->cfg;
	struct auth_server_cfg acfg = { .nonce_ttl = c->nonce_ttl, .nalgs = c->auth_nalgs };
	enum auth_alg algs[2];
	uint8_t secret[SD_SECRET_MAX];
	size_t slen = 0;
	struct auth_server *as;
	int err;

	if (!c->auth_methods)
		return 0; /* nothing needs credentials: the objects may go */
	if (cur->sub) {
		g->sub = res_ref(cur->sub);
	} else {
		char path[4096];
		struct sub *sb;

		snprintf(path, sizeof(path), "%s/%s", r->h.data_dir, SUB_DB_FILE);
		err = sub_open(&sb, path);
		if (err < 0) {
			log_err(MOD, "subscribers %s: %s", path, strerror(-err));
			return err;
		}
		if (!(g->sub = res_new(sb, free_sub)))
			return -ENOMEM;
	}
	if (cur->auth && auth_same(cur->cfg, c)) {
		g->auth = res_ref(cur->auth);
		return 0;
	}
	/* a new digest server; without a secret_file its key is new, so the
	 * nonces given so far are refused once (the client is challenged again) */
	for (unsigned i = 0; i < c->auth_nalgs; i++)
		algs[i] = (enum auth_alg)c->auth_algs[i];
	acfg.algs = algs;
	if (c->auth_secret_file) {
		err = sd_read_secret(c->auth_secret_file, secret, &slen);
		if (err < 0)
			return err;
		acfg.secret = secret;
		acfg.secret_len = slen;
	}
	err = auth_server_create(&as, &acfg);
	memset(secret, 0, sizeof(secret));
	if (err < 0) {
		log_err(MOD, "digest server: %s", strerror(-err));
		return err;
	}
	if (!(g->auth = res_new(as, free_auth)))
		return -ENOMEM;
	return 0;
}

static int gen_ratelim(struct gen *g, const struct gen *cur)
{
	const struct sd_config *c = g->cfg;
	struct tp_ratelim *rl;
	int err;

	if (!c->rate_limit)
		return 0;
	if (cur->ratelim && cur->cfg->rate_limit == c->rate_limit &&
	    cur->cfg->rate_burst == c->rate_burst) {
		g->ratelim = res_ref(cur->ratelim); /* its buckets carry on */
		return 0;
	}
	err = tp_ratelim_create(&rl, c->rate_limit, c->rate_burst, 0);
	if (err < 0)
		return err;
	return (g->ratelim = res_new(rl, free_ratelim)) ? 0 : -ENOMEM;
}

/* The new generation: the running objects, ncfg's policy. */
static int gen_build(struct sd_reload *r, struct gen *g, const struct gen *cur)
{
	const struct sd_live *l0 = r->h.initial;
	const struct sd_config *c = g->cfg;
	int err;

	for (unsigned i = 0; i < c->ndomains; i++)
		g->names[i] = str_cstr(c->domains[i]);
	g->self = *l0->self; /* the bound addresses stay */
	g->self.names = g->names;
	g->self.nnames = c->ndomains;
	g->live.self = &g->self;
	if (l0->pxy) {
		g->pxy = *l0->pxy; /* proxy, stateless, redirect, dns: restart only */
		g->pxy.record_route = c->pxy_record_route;
		g->pxy.timer_c_ms = c->pxy_timer_c * 1000u;
		g->pxy.moved = c->moved;
		g->pxy.nmoved = c->nmoved;
		g->pxy.routes = c->routes;
		g->pxy.nroutes = c->nroutes;
		g->live.pxy = &g->pxy;
	}
	if ((err = gen_ratelim(g, cur)) < 0)
		return err;
	g->live.ratelim = g->ratelim ? g->ratelim->obj : NULL;
	if (l0->regsvc) {
		if ((err = gen_auth(r, g, cur)) < 0)
			return err;
		g->regsvc = *l0->regsvc; /* location service, purge: restart only */
		g->regsvc.domains = (char **)c->domains;
		g->regsvc.ndomains = c->ndomains;
		g->regsvc.foreign_code = c->reg_foreign_code;
		g->regsvc.auth_methods = c->auth_methods;
		g->regsvc.user_match = c->user_match;
		g->regsvc.sub = g->sub ? g->sub->obj : NULL;
		g->regsvc.auth = g->auth ? g->auth->obj : NULL;
		g->live.regsvc = &g->regsvc;
	}
	return 0;
}

/* Free what no worker can reach any more: every generation older than the
 * newest, once all have acknowledged it. */
static void on_ack_poll(void *arg)
{
	struct sd_reload *r = arg;
	struct gen *g, *keep = NULL;

	if (r->h.acked(r->h.arg) < r->gens->live.seq) {
		loop_timer_add(r->loop, &r->ack_timer, ACK_POLL_MS, on_ack_poll, r);
		return;
	}
	/* generation 0 is the server's and stays (it is cheap) */
	for (g = r->gens->older; g;) {
		struct gen *older = g->older;

		if (g->live.seq == 0) {
			keep = g;
		} else {
			gen_free(g, r->h.start);
		}
		g = older;
	}
	r->gens->older = keep;
	log_debug(MOD, "generation %llu taken by every worker; older ones freed",
		  (unsigned long long)r->gens->live.seq);
}

int sd_reload_apply(struct sd_reload *r, struct sd_config *ncfg, struct loop *l)
{
	struct gen *cur = r->gens, *g = mem_zalloc(sizeof(*g));
	unsigned restart;
	int err;

	if (!g) {
		sd_config_clear(ncfg);
		mem_free(ncfg);
		log_err(MOD, "out of memory: the running configuration stays");
		return -ENOMEM;
	}
	g->cfg = ncfg;
	err = gen_build(r, g, cur);
	if (err < 0) {
		gen_free(g, r->h.start);
		log_err(MOD, "reload failed (%s): the running configuration stays", strerror(-err));
		return err;
	}
	restart = log_restart_only(r->h.start, ncfg);
	g->live.seq = ++r->seq;
	g->older = cur;
	r->gens = g;
	/* release: a worker that sees the pointer sees the whole generation */
	atomic_store_explicit(r->h.slot, &g->live, memory_order_release);
	r->h.notify(r->h.arg);
	log_set_level(ncfg->log_level);
	log_set_sip_trace(ncfg->log_sip_trace);
	log_set_target(ncfg->log_target);
	r->loop = l;
	loop_timer_add(l, &r->ack_timer, ACK_POLL_MS, on_ack_poll, r);
	log_info(MOD, "configuration %llu applied: %u domain%s, %u route%s, %u moved, "
		 "log level %s%s; %u change%s need%s a restart",
		 (unsigned long long)g->live.seq, ncfg->ndomains, ncfg->ndomains == 1 ? "" : "s",
		 ncfg->nroutes, ncfg->nroutes == 1 ? "" : "s", ncfg->nmoved,
		 (const char *[]){ "error", "warn", "info", "debug" }[ncfg->log_level & 3],
		 ncfg->log_sip_trace ? " (sip trace on)" : "", restart, restart == 1 ? "" : "s",
		 restart == 1 ? "s" : "");
	return 0;
}
