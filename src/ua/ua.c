/* The UA core: its UDP socket, the input path (responses to their client
 * transaction, §17.1.3; requests to ua_srv.c) and the transaction
 * environment on the loop's timing wheel. */
#include "ua/ua_priv.h"
#include "ua/uac_priv.h"

#include "base/log.h"
#include "base/mem.h"
#include "msg/uri.h"
#include "transport/udp.h"
#include "ua/request.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* ---- transaction environment ---- */

static uint64_t env_now(void *ctx)
{
	struct ua *u = ctx;

	return loop_now(u->loop);
}

static void env_timer_start(void *ctx, struct tsx_timer *tm, uint32_t ms)
{
	struct ua *u = ctx;

	tsx_wheel_start(loop_wheel(u->loop), tm, ms);
}

static void env_timer_stop(void *ctx, struct tsx_timer *tm)
{
	struct ua *u = ctx;

	tsx_wheel_stop(loop_wheel(u->loop), tm);
}

static bool is_client(const struct tsx *t)
{
	enum tsx_kind k = tsx_kind(t);

	return k == TSX_CLIENT_INVITE || k == TSX_CLIENT_NONINVITE;
}

static int env_send(void *ctx, struct tsx *t, const char *buf, size_t len)
{
	struct ua_tx *x = tsx_user(t);

	return ua_udp_send(ctx, &x->dest, buf, len);
}

static void env_on_response(void *ctx, struct tsx *t, const struct sip_msg *m)
{
	(void)ctx;
	ua_out_tsx_response(t, m);
}

static void env_on_timeout(void *ctx, struct tsx *t)
{
	(void)ctx;
	if (is_client(t))
		ua_out_tsx_failed(t, -ETIMEDOUT); /* Timer B/F: as a 408 (§8.1.3.1) */
	else
		log_info("ua", "no ACK for our final response (Timer H)");
}

static void env_on_transport_error(void *ctx, struct tsx *t, int err)
{
	(void)ctx;
	if (is_client(t))
		ua_out_tsx_failed(t, err < 0 ? err : -EIO);
}

static void env_on_terminated(void *ctx, struct tsx *t)
{
	struct ua *u = ctx;

	if (!u->destroying && is_client(t))
		ua_out_tsx_terminated(t);
}

/* ---- socket ---- */

int ua_udp_send(struct ua *u, const struct tp_addr *dest, const char *buf, size_t len)
{
	if (u->trace)
		u->trace(true, TP_UDP, dest, buf, len, u->trace_arg);
	return tp_udp_send(u->udp, buf, len, dest);
}

int ua_send_raw(struct ua *u, const struct tp_addr *dest, const char *buf, size_t len)
{
	return ua_udp_send(u, dest, buf, len);
}

static void input_response(struct ua *u, const struct sip_msg *m)
{
	const struct sip_hdr *via = sip_msg_hdr(m, SIP_HDR_VIA);
	struct tsx *t;

	/* §8.1.3.3: a response with more than one Via is not for us */
	if (via && sip_msg_hdr_next(m, via)) {
		log_debug("ua", "response with several Via headers discarded");
		return;
	}
	t = tsx_table_match_response(u->table, m);
	if (!t) {
		log_debug("ua", "stray %u response ignored", m->status);
		return;
	}
	tsx_client_response(t, m);
	tsx_unref(t);
}

static void on_datagram(struct tp_udp *s, const char *buf, size_t len, const struct tp_addr *src,
			void *arg)
{
	struct ua *u = arg;
	struct sip_msg *m;

	(void)s;
	if (len <= 4 && strspn(buf, "\r\n") == len)
		return; /* keep-alive (RFC 5626 §4.4.1) */
	if (u->trace)
		u->trace(false, TP_UDP, src, buf, len, u->trace_arg);
	m = mem_alloc(sizeof(*m));
	if (!m)
		return; /* dropped: the peer retransmits */
	if (sip_msg_parse(m, buf, len, SIP_PARSE_DATAGRAM) == 0) {
		if (m->is_request)
			ua_srv_input(u, m, src);
		else
			input_response(u, m);
	} else {
		log_debug("ua", "bad datagram dropped: %d %s", m->err.code, m->err.reason);
	}
	mem_free(m);
}

/* ---- helpers ---- */

int ua_hdr_uri(struct str value, char *buf, size_t cap)
{
	struct sip_nameaddr na;
	struct str cur = value;

	if (sip_nameaddr_parse(&na, &cur, SIP_NA_LIST, NULL) < 0)
		return -EINVAL;
	return str_copy(buf, cap, na.uri);
}

int ua_uri_user(const char *uri, char *buf, size_t cap)
{
	struct sip_uri p;

	if (sip_uri_parse(&p, uri, strlen(uri), NULL) < 0 || !p.user.len)
		return -EINVAL;
	return str_copy(buf, cap, p.user);
}

int ua_uri_hostport(const char *uri, char *buf, size_t cap)
{
	struct sip_uri p;
	int n;

	if (sip_uri_parse(&p, uri, strlen(uri), NULL) < 0 || !p.host.len)
		return -EINVAL;
	if (p.has_port)
		n = snprintf(buf, cap, "%.*s:%u", STR_FMT(p.host), (unsigned)p.port);
	else
		n = snprintf(buf, cap, "%.*s", STR_FMT(p.host));
	return n < 0 || (size_t)n >= cap ? -ENOSPC : 0;
}

bool ua_hdr_has_token(const struct sip_msg *m, enum sip_hdr_type t, const char *tok)
{
	for (const struct sip_hdr *h = sip_msg_hdr(m, t); h; h = sip_msg_hdr_next(m, h)) {
		struct str cur = h->value, v;

		while (sip_token_next(&cur, &v, NULL) == 0)
			if (str_caseeq(v, str_cstr(tok)))
				return true;
	}
	return false;
}

/* ---- the ua ---- */

static int parse_local(const struct ua_cfg *cfg, struct tp_addr *a)
{
	const char *spec = cfg->listen;

	if (!spec) {
		/* the proxy's family when it is an IPv6 literal */
		spec = cfg->proxy && strchr(cfg->proxy, '[') ? "[::1]" : "127.0.0.1";
	}
	return ua_net_parse_local(spec, a);
}

static char *dup_c(const char *s)
{
	return s ? mem_strndup(s, strlen(s)) : NULL;
}

int ua_create(struct ua **out, const struct ua_cfg *cfg)
{
	struct dns_config dc = { 0 };
	struct tp_addr local;
	struct ua *u;
	char host[80], user[64];
	int rc;

	rc = parse_local(cfg, &local);
	if (rc)
		return -EINVAL;
	u = mem_zalloc(sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->timers = tsx_timers_default;
	if (cfg->t1_ms) {
		u->timers.t1 = cfg->t1_ms;
		if (u->timers.t2 < cfg->t1_ms)
			u->timers.t2 = cfg->t1_ms;
	}
	u->env = (struct tsx_env){
		.ctx = u,
		.user_size = sizeof(struct ua_tx),
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
	u->proxy = dup_c(cfg->proxy);
	u->password = dup_c(cfg->password);
	if ((cfg->proxy && !u->proxy) || (cfg->password && !u->password)) {
		rc = -ENOMEM;
		goto fail;
	}
	rc = loop_create(&u->loop);
	if (rc)
		goto fail;
	rc = tsx_table_create(&u->table, 256, 1);
	if (rc)
		goto fail;
	dc.servers = cfg->dns_servers;
	dc.protos = DNS_PROTO_BIT(TP_UDP);
	dc.family = local.ss.ss_family;
	rc = dns_resolver_create(&u->dns, u->loop, &dc);
	if (rc)
		goto fail;
	rc = tp_udp_create(&u->udp, u->loop, &local, on_datagram, u);
	if (rc)
		goto fail;
	ua_addr_host(tp_udp_local(u->udp), host, sizeof(host));
	if (cfg->aor) {
		if (ua_uri_user(cfg->aor, user, sizeof(user)) < 0) {
			rc = -EINVAL;
			goto fail;
		}
		u->aor = dup_c(cfg->aor);
	} else {
		char a[128];

		snprintf(user, sizeof(user), "siphon");
		snprintf(a, sizeof(a), "sip:siphon@%s", host);
		u->aor = dup_c(a);
	}
	u->user = dup_c(user);
	if (!u->aor || !u->user) {
		rc = -ENOMEM;
		goto fail;
	}
	snprintf(u->contact, sizeof(u->contact), "sip:%s@%s:%u", user, host,
		 (unsigned)tp_addr_port(tp_udp_local(u->udp)));
	*out = u;
	return 0;
fail:
	ua_destroy(u);
	return rc;
}

void ua_destroy(struct ua *u)
{
	if (!u)
		return;
	u->destroying = true;
	ua_out_destroy_all(u);
	ua_srv_destroy_all(u);
	if (u->table)
		tsx_table_destroy(u->table);
	if (u->dns)
		dns_resolver_destroy(u->dns);
	if (u->udp)
		tp_udp_destroy(u->udp);
	if (u->loop)
		loop_destroy(u->loop);
	mem_free(u->proxy);
	mem_free(u->aor);
	mem_free(u->password);
	mem_free(u->user);
	mem_free(u);
}

struct loop *ua_loop(struct ua *u)
{
	return u->loop;
}

const struct tp_addr *ua_local(const struct ua *u)
{
	return tp_udp_local(u->udp);
}

const char *ua_aor(const struct ua *u)
{
	return u->aor;
}

const char *ua_contact(const struct ua *u)
{
	return u->contact;
}

void ua_set_handler(struct ua *u, ua_incoming_fn fn, ua_cancel_fn cancel, void *arg)
{
	u->on_request = fn;
	u->on_cancel = cancel;
	u->handler_arg = arg;
}

int ua_run(struct ua *u)
{
	return loop_run(u->loop);
}

void ua_stop(struct ua *u)
{
	loop_stop(u->loop);
}
