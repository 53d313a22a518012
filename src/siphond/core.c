/* siphond's message core: validate each request (RFC 3261 §8.2, §16.3) and
 * answer what the server handles itself; responses that match nothing are
 * dropped (§18.1.2). Routing arrives with the proxy. */
#include "siphond/core.h"
#include "siphond/core_priv.h"
#include "siphond/metrics.h"
#include "siphond/proxy.h"
#include "siphond/reload.h"

#include "base/log.h"
#include "base/loop.h"
#include "transport/ratelim.h"
#include "base/mem.h"
#include "msg/build.h"
#include "msg/msg.h"
#include "msg/uri.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define MOD "core"

/* Option-tags this server understands in Require / Proxy-Require (none yet). */
static bool option_supported(struct str tag)
{
	(void)tag;
	return false;
}

int sd_core_create(struct sd_core **out, const struct sd_core_cfg *cfg)
{
	struct sd_core *c = mem_zalloc(sizeof(*c));

	if (!c)
		return -ENOMEM;
	snprintf(c->server, sizeof(c->server), "%s",
		 cfg && cfg->server_name ? cfg->server_name : "Siphon/" SIPHON_VERSION);
	if (getrandom(&c->salt, sizeof(c->salt), 0) != sizeof(c->salt))
		c->salt = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ull;
	sd_tsx_init(c, cfg);
	sd_pxy_init(c, cfg);
	if (cfg)
		c->idx = cfg->idx; /* its counter block (metrics.h), proxy or not */
	if (cfg && c->loop)
		c->ratelim = cfg->ratelim;
	if (cfg) {
		int err = sd_reg_init(c, cfg);

		if (err < 0) {
			sd_core_destroy(c);
			return err;
		}
	}
	*out = c;
	return 0;
}

void sd_core_set_live(struct sd_core *c, const struct sd_live *l)
{
	if (c->regsvc && l->regsvc)
		c->regsvc = l->regsvc;
	if (c->pcfg && l->pxy)
		c->pcfg = l->pxy;
	if (c->self && l->self)
		c->self = l->self;
	if (c->loop)
		c->ratelim = l->ratelim;
}

void sd_core_destroy(struct sd_core *c)
{
	if (!c)
		return;
	sd_reg_fini(c); /* answers owed go out through live transactions */
	sd_pxy_fini(c); /* branches end, contexts answer upstream */
	sd_tsx_shutdown(c);
	mem_free(c);
}

static uint64_t fnv1a(uint64_t h, struct str s)
{
	for (size_t i = 0; i < s.len; i++) {
		h ^= (unsigned char)s.s[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* A To tag that is the same for retransmissions of one request, so that a
 * stateless answer stays consistent (§8.2.6.2, §16.11). */
static void make_tag(const struct sd_core *c, const struct sip_msg *m, char tag[17])
{
	uint64_t h = 0xcbf29ce484222325ull ^ c->salt;

	h = fnv1a(h, m->call_id);
	h = fnv1a(h, m->from.tag);
	h = fnv1a(h, m->via1.branch);
	/* §9.2: the response to a CANCEL carries the INVITE response's To tag */
	h = fnv1a(h, m->method_id == SIP_METHOD_CANCEL ? STR_LIT("INVITE") : m->cseq.method);
	for (int i = 15; i >= 0; i--, h >>= 4)
		tag[i] = "0123456789abcdef"[h & 15];
	tag[16] = '\0';
}

/* §18.2.2 and RFC 3581 §4: where a response to this request goes over UDP,
 * and what the response's top Via records about the source. */
static void response_route(const struct sip_msg *m, const struct sd_in *in, struct sd_out *out,
			   struct sip_resp_opts *opt, char *recv_buf, size_t recv_cap)
{
	const struct sip_via *v = &m->via1;
	struct str host = v->host;
	uint16_t port = v->has_port ? v->port : (str_caseeq_lit(v->transport, "TLS") ? 5061 : 5060);

	out->dst = in->src;
	tp_addr_host_fmt(&in->src, recv_buf, recv_cap);
	if (host.len > 2 && host.s[0] == '[')
		host = str_make(host.s + 1, host.len - 2);
	/* §18.2.1: received is added when sent-by differs from the source;
	 * RFC 3581 §4: always when the client asked for rport */
	if (v->has_rport || !str_caseeq(host, str_cstr(recv_buf)))
		opt->received = str_cstr(recv_buf);
	if (v->has_rport)
		opt->rport = tp_addr_port(&in->src);
	else if (in->proto == TP_UDP)
		tp_addr_set_port(&out->dst, port);
}

void sd_respond(struct sd_core *c, const struct sip_msg *m, const struct sd_in *in,
		struct sd_out *out, uint16_t code, const char *reason, struct str extra)
{
	struct sip_resp_opts opt = { 0 };
	char tag[17], recv[64], peer[80];
	int n;

	if (!m->via1_ok)
		return;
	response_route(m, in, out, &opt, recv, sizeof(recv));
	make_tag(c, m, tag);
	opt.to_tag = str_cstr(tag);
	opt.server = str_cstr(c->server);
	opt.extra = extra;
	n = sip_resp_build(out->buf, out->cap, m, code, str_cstr(reason ? reason : sip_reason_phrase(code)),
			   &opt);
	if (n < 0 && extra.len) {
		/* the request still gets an answer, without what did not fit */
		log_warn(MOD, "%u response does not fit the reply buffer: 500 instead (call-id %.*s)",
			 code, STR_FMT(m->call_id));
		code = 500;
		reason = "Response Too Large";
		opt.extra = STR_NULL;
		n = sip_resp_build(out->buf, out->cap, m, code, str_cstr(reason), &opt);
	}
	if (n < 0) {
		log_warn(MOD, "%u response does not fit the reply buffer: dropped (call-id %.*s)",
			 code, STR_FMT(m->call_id));
		return;
	}
	sd_mx_response(c->idx, code);
	/* the request's server transaction sends it and keeps it for
	 * retransmission; without one it goes out statelessly */
	if (!c->cur_tsx || sd_tsx_respond(c, code, out->buf, (size_t)n) != 0)
		out->len = (size_t)n;
	log_debug(MOD, "%u %s to %s (call-id %.*s)", code, reason ? reason : sip_reason_phrase(code),
		  tp_addr_fmt(&out->dst, peer, sizeof(peer)), STR_FMT(m->call_id));
}

/* RFC 3261 §8.2.2.3 / §16.3 step 6: answer 420 listing the unknown
 * option-tags of hdr type t. Returns true if it answered. */
bool sd_check_extensions(struct sd_core *c, const struct sip_msg *m, const struct sd_in *in,
			 struct sd_out *out, enum sip_hdr_type t)
{
	char unsupported[1024];
	size_t len = 0;
	bool bad = false;

	len = (size_t)snprintf(unsupported, sizeof(unsupported), "Unsupported: ");
	for (const struct sip_hdr *h = sip_msg_hdr(m, t); h; h = sip_msg_hdr_next(m, h)) {
		struct str cur = h->value, tag;
		const char *why;
		int rc;

		while ((rc = sip_token_next(&cur, &tag, &why)) == 0) {
			if (option_supported(tag))
				continue;
			if (len + tag.len + 4 >= sizeof(unsupported))
				break;
			if (bad)
				len += (size_t)snprintf(unsupported + len, sizeof(unsupported) - len, ", ");
			memcpy(unsupported + len, tag.s, tag.len);
			len += tag.len;
			bad = true;
		}
		if (rc < 0) {
			sd_respond(c, m, in, out, 400, t == SIP_HDR_REQUIRE ? "Bad Require" : "Bad Proxy-Require",
				STR_NULL);
			return true;
		}
	}
	if (!bad)
		return false;
	len += (size_t)snprintf(unsupported + len, sizeof(unsupported) - len, "\r\n");
	sd_respond(c, m, in, out, 420, NULL, str_make(unsupported, len));
	return true;
}

/* Is the request addressed to this server (its own address as the
 * Request-URI host) rather than to a user or domain it would route to? */
bool sd_host_is_us(struct str host, const struct sd_in *in)
{
	char local[64];

	if (!host.len)
		return false;
	if (host.len > 2 && host.s[0] == '[')
		host = str_make(host.s + 1, host.len - 2);
	tp_addr_host_fmt(&in->local, local, sizeof(local));
	return str_caseeq(host, str_cstr(local)) || str_caseeq_lit(host, "localhost");
}

bool sd_addressed_to_us(const struct sip_msg *m, const struct sd_in *in)
{
	return !m->ruri_user.len && sd_host_is_us(m->ruri_host, in);
}

static void handle_request(struct sd_core *c, const struct sip_msg *m, const struct sd_in *in,
			   struct sd_out *out)
{
	static const char options_hdrs[] = "Accept: application/sdp\r\n"
					   "Accept-Encoding: identity\r\n"
					   "Accept-Language: en\r\n"
					   "Supported: \r\n";
	bool ack = m->method_id == SIP_METHOD_ACK;
	/* §20.5: what this server does itself */
	struct str allow = c->regsvc ? STR_LIT("Allow: OPTIONS, ACK, CANCEL, REGISTER\r\n")
				     : STR_LIT("Allow: OPTIONS, ACK, CANCEL\r\n");
	char hdrs[256];

	/* policy: a source sending more than its share a second is told to
	 * come back later (RFC 3261 §21.5.4); a CANCEL may always stop a call */
	if (c->ratelim && !ack && m->method_id != SIP_METHOD_CANCEL &&
	    !tp_ratelim_allow(c->ratelim, &in->src, loop_now(c->loop))) {
		char peer[80];

		c->limited++;
		sd_mx_count(c->idx, SD_MX_RATE_LIMITED);
		if (loop_now(c->loop) - c->limited_logged_ms >= 1000) {
			c->limited_logged_ms = loop_now(c->loop);
			log_warn(MOD, "%.*s from %s over the rate limit: 503 (%llu refused so far; "
				 "call-id %.*s)", STR_FMT(m->method),
				 tp_addr_fmt(&in->src, peer, sizeof(peer)),
				 (unsigned long long)c->limited, STR_FMT(m->call_id));
		}
		sd_respond(c, m, in, out, 503, "Rate Limit Exceeded", STR_LIT("Retry-After: 1\r\n"));
		return;
	}
	/* RFC 3261 §8.2.2.1 / §16.3 step 2 (RFC 4475 §3.3.2) */
	if (m->ruri_scheme != SIP_URI_SIP && m->ruri_scheme != SIP_URI_SIPS &&
	    m->ruri_scheme != SIP_URI_TEL) {
		if (!ack)
			sd_respond(c, m, in, out, 416, NULL, STR_NULL);
		return;
	}
	if (m->method_id == SIP_METHOD_REGISTER && sd_reg_request(c, m, in, out))
		return;
	/* a Route makes it a request to route, even one a strict router
	 * addressed to our Record-Route URI (§16.4) */
	if (!sd_addressed_to_us(m, in) ||
	    (c->pcfg && c->pcfg->proxy && sip_msg_hdr(m, SIP_HDR_ROUTE))) {
		/* a request this server would forward (§16) */
		if (ack) {
			sd_pxy_request(c, m, in, out); /* a 2xx's ACK goes on, statelessly */
			return;
		}
		if (m->max_forwards == 0) { /* §16.3 step 3 */
			sd_respond(c, m, in, out, 483, NULL, STR_NULL);
			return;
		}
		if (sd_check_extensions(c, m, in, out, SIP_HDR_PROXY_REQUIRE))
			return;
		if (m->method_id == SIP_METHOD_CANCEL) {
			/* §16.10: 200 to the CANCEL, then cancel the branches */
			struct sd_pxy *p = sd_pxy_for_cancel(c, m);

			sd_respond(c, m, in, out, p ? 200 : sd_tsx_cancel_code(c, m), NULL, STR_NULL);
			if (p)
				sd_pxy_cancel_later(c, p);
			return;
		}
		if (sd_pxy_request(c, m, in, out))
			return;
		sd_respond(c, m, in, out, 501, NULL, allow);
		return;
	}
	/* the server is the UAS (§8.2) */
	if (ack)
		return; /* nothing of ours to acknowledge */
	if (m->method_id != SIP_METHOD_CANCEL && sd_check_extensions(c, m, in, out, SIP_HDR_REQUIRE))
		return;
	switch (m->method_id) {
	case SIP_METHOD_OPTIONS: /* §11.2 */
		memcpy(hdrs, allow.s, allow.len);
		memcpy(hdrs + allow.len, options_hdrs, sizeof(options_hdrs) - 1);
		sd_respond(c, m, in, out, 200, NULL,
			   str_make(hdrs, allow.len + sizeof(options_hdrs) - 1));
		break;
	case SIP_METHOD_CANCEL: /* §9.2 */
		sd_respond(c, m, in, out, sd_tsx_cancel_code(c, m), NULL, STR_NULL);
		break;
	default: /* §8.2.1 */
		sd_respond(c, m, in, out, 501, NULL, allow);
		break;
	}
}

ssize_t sd_core_input_handed(struct sd_core *c, const struct sd_in *in, struct sd_out *out)
{
	ssize_t r;

	c->handed = true;
	r = sd_core_input(c, in, out);
	c->handed = false;
	return r;
}

ssize_t sd_core_input(struct sd_core *c, const struct sd_in *in, struct sd_out *out)
{
	const bool stream = in->proto != TP_UDP;
	struct sip_msg *m = &c->msg;
	char peer[80];
	size_t skipped;
	int rc;

	out->len = 0;
	out->need = 0;
	out->close_after = false;
	out->dst = in->src;
	c->cur_out = out;
	rc = sip_msg_parse(m, in->buf, in->len, stream ? SIP_PARSE_STREAM : SIP_PARSE_DATAGRAM);
	if (rc == -EAGAIN) {
		size_t need = m->len ? (size_t)(m->buf - in->buf) + m->len : 0;

		if (need > SD_MAX_MESSAGE) {
			/* the header section says the message cannot fit: answer
			 * rather than wait for bytes we would never take */
			log_info(MOD, "%s message of %zu bytes from %s is above %u: 513",
				 tp_proto_name(in->proto), need,
				 tp_addr_fmt(&in->src, peer, sizeof(peer)), SD_MAX_MESSAGE);
			if (m->is_request && m->via1_ok && m->method_id != SIP_METHOD_ACK)
				sd_respond(c, m, in, out, 513, NULL, STR_NULL);
			c->cur_out = NULL;
			out->close_after = true;
			return -EPROTO;
		}
		c->cur_out = NULL;
		out->need = need;
		return 0;
	}
	skipped = (size_t)(m->buf - in->buf);
	/* a handed-over message was counted where it arrived */
	if (!c->handed && rc != 0)
		sd_mx_count(c->idx, SD_MX_PARSE_ERRORS);
	else if (!c->handed && m->is_request)
		sd_mx_request(c->idx, m->method_id);
	else if (!c->handed)
		sd_mx_count(c->idx, SD_MX_RESP_RECEIVED);
	if (rc != 0) {
		log_info(MOD, "malformed %s from %s %s: %s at byte %zu (call-id %.*s)%s",
			 m->is_request ? "request" : "response", tp_proto_name(in->proto),
			 tp_addr_fmt(&in->src, peer, sizeof(peer)), m->err.reason, m->err.offset,
			 STR_FMT(m->call_id),
			 m->is_request && m->via1_ok ? "" : "; dropped");
		if (m->is_request && m->method_id != SIP_METHOD_ACK)
			sd_respond(c, m, in, out, (uint16_t)m->err.code, m->err.reason, STR_NULL);
		c->cur_out = NULL;
		if (stream && m->len == 0) {
			/* RFC 3261 §18.3: framing is lost on this connection */
			out->close_after = true;
			return -EPROTO;
		}
		return stream ? (ssize_t)(skipped + m->len) : (ssize_t)in->len;
	}
	if (m->is_request) {
		struct sip_resp_opts trying = { 0 };
		struct sd_out route = *out;
		char recv[64];

		/* how a 100 Trying of the transaction would be routed (§18.2.1) */
		response_route(m, in, &route, &trying, recv, sizeof(recv));
		trying.server = str_cstr(c->server);
		/* §16.11: a stateless proxy keeps no transaction */
		if (sd_pxy_stateless(c, m, in, out)) {
			c->cur_out = NULL;
			return stream ? (ssize_t)(skipped + m->len) : (ssize_t)in->len;
		}
		/* a CANCEL for another worker's proxied INVITE goes there */
		if (m->method_id == SIP_METHOD_CANCEL && sd_pxy_cancel_handoff(c, m, in)) {
			c->cur_out = NULL;
			return stream ? (ssize_t)(skipped + m->len) : (ssize_t)in->len;
		}
		if (!sd_tsx_request(c, m, in, &trying, &route.dst)) {
			handle_request(c, m, in, out);
			sd_tsx_request_done(c);
			sd_pxy_run_pending(c); /* forwarding starts outside the lock */
		}
	} else if (!sd_pxy_response(c, m, in) && !c->pcfg) {
		log_debug(MOD, "response %u from %s matches no transaction: dropped", m->status,
			  tp_addr_fmt(&in->src, peer, sizeof(peer)));
	}
	c->cur_out = NULL;
	return stream ? (ssize_t)(skipped + m->len) : (ssize_t)in->len;
}
