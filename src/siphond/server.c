#include "siphond/server.h"

#include "base/mem.h"
#include "siphond/core.h"
#include "transport/tcp.h"
#include "transport/tls.h"
#include "transport/udp.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* ---- settings ---- */

void sd_config_init(struct sd_config *c)
{
	memset(c, 0, sizeof(*c));
	c->workers = 1;
	c->log_level = LOG_INFO;
	c->tcp_max_conns = TP_TCP_MAX_CONNS_DEFAULT;
	c->tcp_idle_timeout = TP_TCP_IDLE_MS_DEFAULT / 1000;
	c->tcp_partial_timeout = TP_TCP_PARTIAL_MS_DEFAULT / 1000;
	c->tls_verify_peer = true;
	c->tls_handshake_timeout = SD_TLS_HANDSHAKE_TIMEOUT_DEFAULT;
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
}

static const char *proto_lc(enum tp_proto p)
{
	return p == TP_UDP ? "udp" : p == TP_TCP ? "tcp" : "tls";
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

static int set_str(char **dst, const char *value, const char **why)
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

static int set_uint(unsigned *dst, const char *value, unsigned min, unsigned max,
		    const char *msg, const char **why)
{
	if (config_parse_uint(value, min, max, dst) < 0) {
		*why = msg;
		return -EINVAL;
	}
	return 0;
}

int sd_config_set(struct sd_config *c, const char *section, const char *key, const char *value,
		  const char **why)
{
	if (strcmp(section, "server") == 0) {
		if (strcmp(key, "listen") == 0)
			return sd_config_add_listen(c, value, why);
		if (strcmp(key, "data_dir") == 0)
			return set_str(&c->data_dir, value, why);
		if (strcmp(key, "server_name") == 0)
			return set_str(&c->server_name, value, why);
		if (strcmp(key, "workers") == 0)
			return set_uint(&c->workers, value, 1, 1024,
					"expected a number of workers from 1 to 1024", why);
		if (strcmp(key, "tcp_max_connections") == 0)
			return set_uint(&c->tcp_max_conns, value, 1, 1000000,
					"expected a number from 1 to 1000000", why);
		if (strcmp(key, "tcp_idle_timeout") == 0)
			return set_uint(&c->tcp_idle_timeout, value, 1, 86400,
					"expected seconds from 1 to 86400", why);
		if (strcmp(key, "tcp_partial_timeout") == 0)
			return set_uint(&c->tcp_partial_timeout, value, 1, 3600,
					"expected seconds from 1 to 3600", why);
		*why = "unknown key";
		return -EINVAL;
	}
	if (strcmp(section, "tls") == 0) {
		if (strcmp(key, "certificate") == 0)
			return set_str(&c->tls_certificate, value, why);
		if (strcmp(key, "private_key") == 0)
			return set_str(&c->tls_private_key, value, why);
		if (strcmp(key, "ca_file") == 0)
			return set_str(&c->tls_ca_file, value, why);
		if (strcmp(key, "verify_peer") == 0) {
			int b;

			if (config_parse_bool(value, &b) < 0) {
				*why = "expected yes or no";
				return -EINVAL;
			}
			c->tls_verify_peer = b;
			return 0;
		}
		if (strcmp(key, "handshake_timeout") == 0)
			return set_uint(&c->tls_handshake_timeout, value, 1, 3600,
					"expected seconds from 1 to 3600", why);
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
		*why = "unknown key";
		return -EINVAL;
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

struct sd_udp {
	struct sd_server *srv;
	struct tp_udp *u;
};

struct sd_server {
	struct loop *loop;
	struct sd_core *core;
	struct tp_tcp *tcp;
	struct tp_tls_ctx *tls_srv; /* for tls listeners */
	struct tp_tls_ctx *tls_cli; /* for TLS connections we open (not yet used) */
	struct sd_udp udp[SD_LISTEN_MAX];
	unsigned nudp;
	struct sd_listen bound[SD_LISTEN_MAX]; /* with the real ports */
	unsigned nbound;
	char reply[SD_REPLY_MAX]; /* one reply at a time: written, then sent */
};

static void on_datagram(struct tp_udp *u, const char *buf, size_t len, const struct tp_addr *src,
			void *arg)
{
	struct sd_udp *su = arg;
	struct sd_server *s = su->srv;
	struct sd_in in = { .buf = buf, .len = len, .proto = TP_UDP, .src = *src,
			    .local = *tp_udp_local(u) };
	struct sd_out out = { .buf = s->reply, .cap = sizeof(s->reply) };
	char ab[64];
	int rc;

	sd_core_input(s->core, &in, &out);
	if (!out.len)
		return;
	if (!out.dst.len)
		out.dst = *src;
	rc = tp_udp_send(u, out.buf, out.len, &out.dst);
	if (rc < 0)
		log_debug("siphond", "udp reply to %s: %s",
			  tp_addr_fmt(&out.dst, ab, sizeof(ab)), strerror(-rc));
}

static ssize_t on_stream(struct tp_tcp_conn *c, const char *buf, size_t len, void *arg)
{
	struct sd_server *s = arg;
	struct sd_in in = { .buf = buf, .len = len, .proto = tp_tcp_conn_proto(c),
			    .src = *tp_tcp_conn_peer(c), .local = *tp_tcp_conn_local(c) };
	struct sd_out out = { .buf = s->reply, .cap = sizeof(s->reply) };
	ssize_t r;

	r = sd_core_input(s->core, &in, &out);
	/* RFC 3261 §18.2.2: a response over a stream goes back on the same connection */
	if (out.len && tp_tcp_send(c, out.buf, out.len) < 0)
		return -EPIPE;
	if (r < 0)
		return r;
	if (out.close_after)
		return -EPROTO; /* RFC 3261 §18.3: framing lost */
	return r;
}

const char *sd_server_addrs(const struct sd_server *s, char *buf, size_t cap)
{
	size_t n = 0;

	if (cap)
		buf[0] = '\0';
	for (unsigned i = 0; i < s->nbound && n < cap; i++) {
		char ab[64];
		int w = snprintf(buf + n, cap - n, "%s%s:%s", i ? " " : "",
				 proto_lc(s->bound[i].proto),
				 tp_addr_fmt(&s->bound[i].addr, ab, sizeof(ab)));

		if (w < 0)
			break;
		n += (size_t)w;
	}
	return buf;
}

int sd_server_create(struct sd_server **out, struct loop *l, const struct sd_config *cfg)
{
	struct sd_core_cfg ccfg = { .server_name = cfg->server_name };
	struct tp_tcp_cfg tcfg = {
		.max_conns = cfg->tcp_max_conns,
		.idle_timeout_ms = cfg->tcp_idle_timeout * 1000u,
		.partial_timeout_ms = cfg->tcp_partial_timeout * 1000u,
		.handshake_timeout_ms = cfg->tls_handshake_timeout * 1000u,
	};
	struct sd_server *s;
	char msg[512];
	int err;

	s = mem_zalloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->loop = l;
	err = sd_core_create(&s->core, &ccfg);
	if (err < 0)
		goto fail;
	err = sd_tls_create(cfg, &s->tls_srv, &s->tls_cli, msg, sizeof(msg));
	if (err < 0) {
		log_err("siphond", "TLS: %s", msg);
		goto fail;
	}
	err = tp_tcp_create(&s->tcp, l, &tcfg, on_stream, s);
	if (err < 0)
		goto fail;
	for (unsigned i = 0; i < cfg->nlisten; i++) {
		const struct sd_listen *ls = &cfg->listen[i];
		struct sd_listen *b = &s->bound[s->nbound];
		char ab[64];

		b->proto = ls->proto;
		if (ls->proto == TP_UDP) {
			struct sd_udp *su = &s->udp[s->nudp];

			su->srv = s;
			err = tp_udp_create(&su->u, l, &ls->addr, on_datagram, su);
			if (err == 0) {
				b->addr = *tp_udp_local(su->u);
				s->nudp++;
			}
		} else if (ls->proto == TP_TCP) {
			err = tp_tcp_listen(s->tcp, &ls->addr, &b->addr);
		} else if (s->tls_srv) {
			err = tp_tcp_listen_tls(s->tcp, &ls->addr, s->tls_srv, &b->addr);
		} else {
			err = -EPROTONOSUPPORT; /* sd_config_validate() prevents it */
		}
		if (err < 0) {
			log_err("siphond", "cannot listen on %s:%s: %s", proto_lc(ls->proto),
				tp_addr_fmt(&ls->addr, ab, sizeof(ab)), strerror(-err));
			goto fail;
		}
		s->nbound++;
	}
	*out = s;
	return 0;
fail:
	sd_server_destroy(s);
	return err;
}

void sd_server_destroy(struct sd_server *s)
{
	if (!s)
		return;
	for (unsigned i = 0; i < s->nudp; i++)
		tp_udp_destroy(s->udp[i].u);
	tp_tcp_destroy(s->tcp);
	tp_tls_ctx_free(s->tls_srv);
	tp_tls_ctx_free(s->tls_cli);
	if (s->core)
		sd_core_destroy(s->core);
	mem_free(s);
}
