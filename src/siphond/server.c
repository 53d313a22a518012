#include "siphond/server.h"

#include "base/mem.h"
#include "proxy/route.h"
#include "siphond/core.h"
#include "location/loc.h"
#include "siphond/http.h"
#include "siphond/regsvc.h"
#include "siphond/reload.h"
#include "siphond/worker.h"
#include "base/token.h"
#include "transport/egress.h"
#include "transport/flows.h"
#include "transport/ratelim.h"
#include "transport/tcp.h"
#include "transport/tls.h"
#include "transport/udp.h"
#include "tsx/table.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* ---- settings ---- */

void sd_config_init(struct sd_config *c)
{
	memset(c, 0, sizeof(*c));
	c->workers = 0; /* one per CPU */
	c->log_level = LOG_INFO;
	c->tcp_max_conns = TP_TCP_MAX_CONNS_DEFAULT;
	c->tcp_max_per_source = TP_TCP_MAX_PER_SOURCE_DEFAULT;
	c->tcp_idle_timeout = TP_TCP_IDLE_MS_DEFAULT / 1000;
	c->tcp_partial_timeout = TP_TCP_PARTIAL_MS_DEFAULT / 1000;
	c->tls_verify_peer = true;
	c->tls_handshake_timeout = SD_TLS_HANDSHAKE_TIMEOUT_DEFAULT;
	c->timers = tsx_timers_default;
	sd_config_init_reg(c);
}

void sd_config_clear(struct sd_config *c)
{
	mem_free(c->data_dir);
	mem_free(c->server_name);
	mem_free(c->tls_certificate);
	mem_free(c->tls_private_key);
	mem_free(c->tls_ca_file);
	c->data_dir = c->server_name = NULL;
	c->tls_certificate = c->tls_private_key = c->tls_ca_file = NULL;
	sd_config_clear_reg(c);
}

unsigned sd_workers_default(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	return n > SD_WORKERS_MAX ? SD_WORKERS_MAX : (unsigned)n;
}

int sd_config_add_listen(struct sd_config *c, const char *list, const char **why)
{
	const char *p = list;

	for (;;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		char spec[128];
		struct sd_listen *ls;

		while (n && (*p == ' ' || *p == '\t')) {
			p++;
			n--;
		}
		while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n == 0 || n >= sizeof(spec)) {
			*why = "expected PROTO:ADDR:PORT, e.g. udp:127.0.0.1:5060";
			return -EINVAL;
		}
		if (c->nlisten == SD_LISTEN_MAX) {
			*why = "too many listen addresses";
			return -EINVAL;
		}
		memcpy(spec, p, n);
		spec[n] = '\0';
		ls = &c->listen[c->nlisten];
		if (tp_listen_spec_parse(spec, &ls->proto, &ls->addr) < 0) {
			*why = "expected PROTO:ADDR:PORT with a numeric address, e.g. udp:[::1]:5060";
			return -EINVAL;
		}
		c->nlisten++;
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

/* "10.0.0.0/8, ::1, any": each network is checked by a scratch policy. */
static int add_egress(struct sd_config *c, bool allow, const char *list, const char **why)
{
	const char *p = list;

	for (;;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		struct sd_egress_rule *r;
		struct tp_egress *e;
		int err;

		while (n && (*p == ' ' || *p == '\t')) {
			p++;
			n--;
		}
		while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (c->negress == SD_EGRESS_MAX) {
			*why = "too many egress networks (at most 64)";
			return -EINVAL;
		}
		r = &c->egress[c->negress];
		if (n == 0 || n >= sizeof(r->cidr)) {
			*why = "expected a network (192.0.2.0/24, 2001:db8::/32, 10.1.2.3) or any";
			return -EINVAL;
		}
		memcpy(r->cidr, p, n);
		r->cidr[n] = '\0';
		r->allow = allow;
		if (tp_egress_create(&e) < 0) {
			*why = "out of memory";
			return -ENOMEM;
		}
		err = tp_egress_add(e, allow, r->cidr);
		tp_egress_destroy(e);
		if (err == -ENOMEM) {
			*why = "out of memory";
			return err;
		}
		if (err < 0) {
			*why = "expected a network (192.0.2.0/24, 2001:db8::/32, 10.1.2.3) or any";
			return -EINVAL;
		}
		c->negress++;
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

int sd_egress_create(const struct sd_config *c, struct tp_egress **out)
{
	struct tp_egress *e;
	bool allow = false;
	int err = 0;

	if (tp_egress_create(&e) < 0)
		return -ENOMEM;
	for (unsigned i = 0; i < c->negress && !err; i++) {
		err = tp_egress_add(e, c->egress[i].allow, c->egress[i].cidr);
		allow |= c->egress[i].allow;
	}
	if (!err && !allow)
		err = tp_egress_set_default(e);
	if (err) {
		tp_egress_destroy(e);
		return err == -ENOMEM ? err : -EINVAL;
	}
	*out = e;
	return 0;
}

int sd_cfg_str(char **dst, const char *value, const char **why)
{
	char *s;

	if (!*value) {
		*why = "empty value";
		return -EINVAL;
	}
	s = mem_strndup(value, strlen(value));
	if (!s) {
		*why = "out of memory";
		return -ENOMEM;
	}
	mem_free(*dst);
	*dst = s;
	return 0;
}

int sd_cfg_uint(unsigned *dst, const char *value, unsigned min, unsigned max,
		    const char *msg, const char **why)
{
	if (config_parse_uint(value, min, max, dst) < 0) {
		*why = msg;
		return -EINVAL;
	}
	return 0;
}

int sd_cfg_u32(uint32_t *dst, const char *value, unsigned min, unsigned max, const char *msg,
		   const char **why)
{
	unsigned v;
	int rc = sd_cfg_uint(&v, value, min, max, msg, why);

	if (rc == 0)
		*dst = v;
	return rc;
}

int sd_cfg_bool(bool *dst, const char *value, const char **why)
{
	int b;

	if (config_parse_bool(value, &b) < 0) {
		*why = "expected yes or no";
		return -EINVAL;
	}
	*dst = b;
	return 0;
}

int sd_config_set(struct sd_config *c, const char *section, const char *key, const char *value,
		  const char **why)
{
	if (strcmp(section, "server") == 0) {
		if (strcmp(key, "listen") == 0)
			return sd_config_add_listen(c, value, why);
		if (strcmp(key, "data_dir") == 0)
			return sd_cfg_str(&c->data_dir, value, why);
		if (strcmp(key, "server_name") == 0)
			return sd_cfg_str(&c->server_name, value, why);
		if (strcmp(key, "workers") == 0)
			return sd_cfg_uint(&c->workers, value, 1, SD_WORKERS_MAX,
					"expected a number of workers from 1 to 64", why);
		if (strcmp(key, "udp_balance") == 0) {
			if (sd_udp_balance_parse(value, &c->udp_balance) < 0) {
				*why = "expected adaptive, spread or kernel";
				return -EINVAL;
			}
			return 0;
		}
		if (strcmp(key, "tcp_max_connections") == 0)
			return sd_cfg_uint(&c->tcp_max_conns, value, 1, 1000000,
					"expected a number from 1 to 1000000", why);
		if (strcmp(key, "tcp_max_per_source") == 0)
			return sd_cfg_uint(&c->tcp_max_per_source, value, 0, 1000000,
					"expected a number from 0 (no cap) to 1000000", why);
		if (strcmp(key, "tcp_idle_timeout") == 0)
			return sd_cfg_uint(&c->tcp_idle_timeout, value, 1, 86400,
					"expected seconds from 1 to 86400", why);
		if (strcmp(key, "tcp_partial_timeout") == 0)
			return sd_cfg_uint(&c->tcp_partial_timeout, value, 1, 3600,
					"expected seconds from 1 to 3600", why);
		*why = "unknown key";
		return -EINVAL;
	}
	if (strcmp(section, "tls") == 0) {
		if (strcmp(key, "certificate") == 0)
			return sd_cfg_str(&c->tls_certificate, value, why);
		if (strcmp(key, "private_key") == 0)
			return sd_cfg_str(&c->tls_private_key, value, why);
		if (strcmp(key, "ca_file") == 0)
			return sd_cfg_str(&c->tls_ca_file, value, why);
		if (strcmp(key, "verify_peer") == 0)
			return sd_cfg_bool(&c->tls_verify_peer, value, why);
		if (strcmp(key, "handshake_timeout") == 0)
			return sd_cfg_uint(&c->tls_handshake_timeout, value, 1, 3600,
					"expected seconds from 1 to 3600", why);
		*why = "unknown key";
		return -EINVAL;
	}
	if (strcmp(section, "transactions") == 0) {
		/* RFC 3261 §17.1.1.1 and Table 4; the other timers derive from these */
		if (strcmp(key, "t1") == 0)
			return sd_cfg_u32(&c->timers.t1, value, 10, 60000, "expected milliseconds from 10 to 60000", why);
		if (strcmp(key, "t2") == 0)
			return sd_cfg_u32(&c->timers.t2, value, 10, 600000, "expected milliseconds from 10 to 600000", why);
		if (strcmp(key, "t4") == 0)
			return sd_cfg_u32(&c->timers.t4, value, 10, 600000, "expected milliseconds from 10 to 600000", why);
		if (strcmp(key, "timer_d") == 0)
			return sd_cfg_u32(&c->timers.td, value, 0, 600000, "expected milliseconds from 0 to 600000", why);
		*why = "unknown key";
		return -EINVAL;
	}
	if (strcmp(section, "egress") == 0) {
		if (strcmp(key, "allow") == 0)
			return add_egress(c, true, value, why);
		if (strcmp(key, "deny") == 0)
			return add_egress(c, false, value, why);
		*why = "unknown key";
		return -EINVAL;
	}
	if (strcmp(section, "log") == 0) {
		if (strcmp(key, "level") == 0) {
			if (log_level_parse(value, &c->log_level) < 0) {
				*why = "expected error, warn, info or debug";
				return -EINVAL;
			}
			return 0;
		}
		if (strcmp(key, "target") == 0) {
			if (log_target_parse(value, &c->log_target) < 0) {
				*why = "expected stderr or syslog";
				return -EINVAL;
			}
			return 0;
		}
		if (strcmp(key, "sip_trace") == 0)
			return sd_cfg_bool(&c->log_sip_trace, value, why);
		*why = "unknown key";
		return -EINVAL;
	}
	{
		int rc = sd_config_set_reg(c, section, key, value, why);

		if (rc != -ENOENT)
			return rc;
	}
	*why = "unknown section";
	return -EINVAL;
}

static int config_cb(const char *section, const char *key, const char *value, const char **why,
		     void *arg)
{
	return sd_config_set(arg, section, key, value, why);
}

int sd_config_load(struct sd_config *c, const char *path, struct config_err *err)
{
	return config_parse_file(path, config_cb, c, err);
}

static bool has_tls_listener(const struct sd_config *c)
{
	for (unsigned i = 0; i < c->nlisten; i++)
		if (c->listen[i].proto == TP_TLS)
			return true;
	return false;
}

int sd_config_validate(const struct sd_config *c, char *msg, size_t cap)
{
	if (has_tls_listener(c) && (!c->tls_certificate || !c->tls_private_key)) {
		snprintf(msg, cap, "a tls listener needs [tls] certificate and private_key");
		return -EINVAL;
	}
	if (!c->tls_certificate != !c->tls_private_key) {
		snprintf(msg, cap, "[tls] certificate and private_key go together");
		return -EINVAL;
	}
	return 0;
}

int sd_http_token_load(const struct sd_config *c, char tok[TOKEN_MAX + 1], char *msg,
		       size_t msgcap)
{
	const char *why;
	int err;

	tok[0] = '\0';
	if (!c->http_token_file || !c->http_listen)
		return 0;
	err = token_read_file(c->http_token_file, tok, &why);
	if (err < 0)
		snprintf(msg, msgcap, "[http] token_file %s: %s", c->http_token_file,
			 why ? why : strerror(-err));
	return err;
}

int sd_tls_create(const struct sd_config *c, struct tp_tls_ctx **srv, struct tp_tls_ctx **cli,
		  char *msg, size_t cap)
{
	int err;

	*srv = *cli = NULL;
	if (c->tls_certificate && c->tls_private_key) {
		err = tp_tls_server_ctx_create(srv, c->tls_certificate, c->tls_private_key, msg,
					       cap);
		if (err < 0)
			return err;
	}
	/* for sips: and TLS next hops (RFC 3261 §26.2.2) */
	if (*srv || c->tls_ca_file || has_tls_listener(c)) {
		err = tp_tls_client_ctx_create(cli, c->tls_ca_file, c->tls_verify_peer, msg, cap);
		if (err < 0) {
			tp_tls_ctx_free(*srv);
			*srv = NULL;
			return err;
		}
	}
	return 0;
}

/* ---- wiring ---- */

struct sd_server {
	struct sd_shared sh;        /* what the workers read */
	struct tsx_timers timers;
	struct tp_egress *egress;
	struct tp_tcp_quota quota;  /* tcp_max_connections, over all workers */
	struct tp_tcp_srclim *srclim; /* tcp_max_per_source, over all workers */
	struct tp_flows *flows;       /* accepted connections by source (RFC 5626 flows) */
	struct tsx_table *tsx;      /* one table: any worker may meet any transaction */
	struct tp_tls_ctx *tls_srv; /* for tls listeners */
	struct tp_tls_ctx *tls_cli; /* for TLS connections we open (next hops) */
	struct sd_regsvc *regsvc;   /* registrar, location, subscribers, digest */
	struct sd_pxy_cfg pxy;
	struct tp_ratelim *ratelim;
	struct pxy_self self;       /* who we are in URIs: listen addresses, domains */
	struct tp_addr self_addr[SD_LISTEN_MAX];
	enum tp_proto self_proto[SD_LISTEN_MAX];
	struct str self_names[SD_DOMAINS_MAX];
	struct sd_worker *w[SD_WORKERS_MAX];
	unsigned nworkers;
	struct sd_listen bound[SD_LISTEN_MAX]; /* with the real ports */
	unsigned nbound;
	struct sd_http *http;       /* [http] listen; NULL: off */
	struct sd_live live0;       /* the settings at start (reload.h) */
	const struct sd_live *_Atomic live; /* the current ones, read by the workers */
	struct sd_reload *rl;
};

/* ---- reload (reload.c does the work) ---- */

static void reload_notify(void *arg)
{
	struct sd_server *s = arg;

	for (unsigned i = 0; i < s->nworkers; i++)
		sd_worker_reload(s->w[i]);
}

static uint64_t reload_acked(void *arg)
{
	struct sd_server *s = arg;
	uint64_t min = UINT64_MAX;

	for (unsigned i = 0; i < s->nworkers; i++) {
		uint64_t v = sd_worker_live_seq(s->w[i]);

		if (v < min)
			min = v;
	}
	return min;
}

int sd_server_reload(struct sd_server *s, struct sd_config *ncfg, struct loop *main_loop)
{
	return sd_reload_apply(s->rl, ncfg, main_loop);
}

unsigned sd_server_workers(const struct sd_server *s)
{
	return s->nworkers;
}

const char *sd_server_addrs(const struct sd_server *s, char *buf, size_t cap)
{
	size_t n = 0;

	if (cap)
		buf[0] = '\0';
	for (unsigned i = 0; i < s->nbound && n < cap; i++) {
		char ab[64];
		int w = snprintf(buf + n, cap - n, "%s%s:%s", i ? " " : "",
				 tp_proto_lc(s->bound[i].proto),
				 tp_addr_fmt(&s->bound[i].addr, ab, sizeof(ab)));

		if (w < 0)
			break;
		n += (size_t)w;
	}
	return buf;
}

int sd_server_send_stream(struct sd_server *s, uint64_t conn_id, const void *buf, size_t len)
{
	unsigned idx = TP_TCP_ID_TAG(conn_id);

	if (idx >= s->nworkers) {
		log_info("siphond", "connection %#llx names no worker: %zu bytes dropped",
			 (unsigned long long)conn_id, len);
		return -ENOENT;
	}
	return sd_worker_send_stream(s->w[idx], conn_id, buf, len);
}

/* Every worker binds its sockets with SO_REUSEPORT, so a second siphond on
 * the same address would join the port and take part of the traffic. A bind
 * without it fails while anyone holds the address: try one on each address
 * first, then close it again. (Port 0 is a new port: nothing to check.) */
static int probe_listen(const struct sd_config *cfg)
{
	for (unsigned i = 0; i < cfg->nlisten; i++) {
		const struct sd_listen *ls = &cfg->listen[i];
		char ab[64];
		int err;

		err = ls->proto == TP_UDP ? tp_udp_probe(&ls->addr) : tp_tcp_probe(&ls->addr);
		if (!err)
			continue;
		tp_addr_fmt(&ls->addr, ab, sizeof(ab));
		if (err == -EADDRINUSE)
			log_err("siphond", "cannot listen on %s:%s: already in use "
				"(is another siphond running?)", tp_proto_lc(ls->proto), ab);
		else
			log_err("siphond", "cannot listen on %s:%s: %s", tp_proto_lc(ls->proto), ab,
				strerror(-err));
		return err;
	}
	return 0;
}

int sd_server_create(struct sd_server **out, const struct sd_config *cfg)
{
	unsigned nw = cfg->workers ? cfg->workers : sd_workers_default();
	struct sd_server *s;
	char msg[512];
	int err;

	if (nw > SD_WORKERS_MAX)
		return -EINVAL;
	s = mem_zalloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	err = probe_listen(cfg);
	if (err < 0)
		goto fail;
	err = sd_egress_create(cfg, &s->egress);
	if (err < 0)
		goto fail;
	if (cfg->tcp_max_per_source) {
		err = tp_tcp_srclim_create(&s->srclim, cfg->tcp_max_per_source,
					   cfg->tcp_max_conns);
		if (err < 0)
			goto fail;
	}
	err = tp_flows_create(&s->flows, cfg->tcp_max_conns);
	if (err < 0)
		goto fail;
	err = tsx_table_create(&s->tsx, 0, 0);
	if (err < 0)
		goto fail;
	err = sd_tls_create(cfg, &s->tls_srv, &s->tls_cli, msg, sizeof(msg));
	if (err < 0) {
		log_err("siphond", "TLS: %s", msg);
		goto fail;
	}
	if (cfg->reg_enabled) {
		err = sd_regsvc_create(&s->regsvc, cfg,
				       cfg->data_dir ? cfg->data_dir : SD_DATA_DIR_DEFAULT);
		if (err < 0)
			goto fail;
	}
	s->sh.regsvc = s->regsvc;
	if (cfg->pxy_enabled || cfg->redirect) {
		s->pxy.proxy = cfg->pxy_enabled;
		s->pxy.stateless = cfg->pxy_enabled && cfg->pxy_stateless;
		s->pxy.record_route = cfg->pxy_record_route;
		s->pxy.timer_c_ms = cfg->pxy_timer_c * 1000u;
		s->pxy.redirect = cfg->redirect;
		s->pxy.moved = cfg->moved;
		s->pxy.nmoved = cfg->nmoved;
		s->pxy.routes = cfg->routes;
		s->pxy.nroutes = cfg->nroutes;
		s->pxy.dns_servers = cfg->dns_servers;
		s->sh.pxy = &s->pxy;
	}
	if (cfg->rate_limit) {
		err = tp_ratelim_create(&s->ratelim, cfg->rate_limit, cfg->rate_burst, 0);
		if (err < 0)
			goto fail;
		s->sh.ratelim = s->ratelim;
	}
	s->sh.self = &s->self;
	s->sh.bound = s->bound;
	s->sh.nbound = &s->nbound;
	s->sh.tls_cli = s->tls_cli;
	s->sh.flows = s->flows;
	s->sh.workers = s->w;
	s->sh.nworkers = &s->nworkers;
	s->sh.live = &s->live;
	s->sh.udp_balance = cfg->udp_balance;
	s->quota.max = cfg->tcp_max_conns;
	s->sh.egress = s->egress;
	s->sh.tsx = s->tsx;
	s->sh.tls_srv = s->tls_srv;
	s->sh.server_name = cfg->server_name;
	s->timers = cfg->timers;
	s->sh.timers = &s->timers;
	s->sh.tcp = (struct tp_tcp_cfg){
		/* the cap is the server's, shared by the workers */
		.max_conns = cfg->tcp_max_conns,
		.quota = &s->quota,
		.srclim = s->srclim,
		.idle_timeout_ms = cfg->tcp_idle_timeout * 1000u,
		.partial_timeout_ms = cfg->tcp_partial_timeout * 1000u,
		.handshake_timeout_ms = cfg->tls_handshake_timeout * 1000u,
	};
	/* worker 0 binds what the config says; the others join its sockets'
	 * addresses (real ports, so "port 0" is one port for all) */
	for (unsigned i = 0; i < nw; i++) {
		struct sd_listen scratch[SD_LISTEN_MAX];

		err = sd_worker_create(&s->w[i], &s->sh, i, i ? s->bound : cfg->listen,
				       cfg->nlisten, i ? scratch : s->bound);
		if (err < 0)
			goto fail;
		s->nworkers++;
		if (i == 0)
			s->nbound = cfg->nlisten;
	}
	/* the proxy's identity (RFC 3261 §16.4): real ports, served domains */
	for (unsigned i = 0; i < s->nbound; i++) {
		s->self_addr[i] = s->bound[i].addr;
		s->self_proto[i] = s->bound[i].proto;
	}
	for (unsigned i = 0; i < cfg->ndomains; i++)
		s->self_names[i] = str_cstr(cfg->domains[i]);
	s->self = (struct pxy_self){ .listen = s->self_addr, .listen_proto = s->self_proto,
				     .nlisten = s->nbound, .names = s->self_names,
				     .nnames = cfg->ndomains };
	if (cfg->http_listen) {
		char tok[TOKEN_MAX + 1];

		err = sd_http_token_load(cfg, tok, msg, sizeof(msg));
		if (err < 0) {
			log_err("siphond", "%s", msg);
			goto fail;
		}
		err = sd_http_create(&s->http, &(struct sd_http_cfg){
			.listen = cfg->http_listen, .workers = s->nworkers, .tsx = s->tsx,
			.loc = s->regsvc ? s->regsvc->loc : NULL,
			.loc_backend = loc_backend_name((enum loc_backend)cfg->loc_backend),
			.flows = s->flows,
			.token = tok[0] ? tok : NULL });
		explicit_bzero(tok, sizeof(tok));
		if (err < 0)
			goto fail;
	}
	s->live0 = (struct sd_live){ .regsvc = s->regsvc, .pxy = s->sh.pxy, .self = &s->self,
				     .ratelim = s->ratelim };
	atomic_init(&s->live, &s->live0);
	err = sd_reload_create(&s->rl, &(struct sd_reload_host){
		.start = cfg, .initial = &s->live0, .slot = &s->live,
		.data_dir = cfg->data_dir ? cfg->data_dir : SD_DATA_DIR_DEFAULT,
		.notify = reload_notify, .acked = reload_acked, .arg = s });
	if (err < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	sd_server_destroy(s);
	return err;
}

int sd_server_start(struct sd_server *s)
{
	for (unsigned i = 0; i < s->nworkers; i++) {
		int err = sd_worker_start(s->w[i]);

		if (err < 0) {
			log_err("siphond", "cannot start worker %u: %s", i, strerror(-err));
			return err;
		}
	}
	return 0;
}

void sd_server_destroy(struct sd_server *s)
{
	if (!s)
		return;
	sd_http_destroy(s->http); /* first: it reads the location service */
	for (unsigned i = 0; i < s->nworkers; i++)
		sd_worker_stop(s->w[i], false); /* all at once */
	/* every thread gone before any worker is freed: a worker still busy
	 * may hand a message to another's inbox or read its core */
	for (unsigned i = 0; i < s->nworkers; i++)
		sd_worker_stop(s->w[i], true);
	for (unsigned i = 0; i < s->nworkers; i++)
		sd_worker_destroy(s->w[i]); /* sends the answers still owed */
	sd_reload_destroy(s->rl); /* no worker reads the settings any more */
	sd_regsvc_destroy(s->regsvc); /* no completion queue is left */
	tp_ratelim_destroy(s->ratelim);
	/* no thread uses the table any more */
	if (s->tsx)
		tsx_table_destroy(s->tsx);
	tp_tls_ctx_free(s->tls_srv);
	tp_tls_ctx_free(s->tls_cli);
	tp_egress_destroy(s->egress);
	tp_tcp_srclim_destroy(s->srclim); /* every connection is closed */
	tp_flows_destroy(s->flows);
	mem_free(s);
}
