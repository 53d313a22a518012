/* Server transactions for what siphond answers itself (RFC 3261 §17.2): a
 * retransmitted request gets the same response again without being handled
 * twice, and final responses to INVITE are retransmitted over UDP until the
 * ACK comes (Timer G, H). Timers run on the worker loop's wheel. */
#include "siphond/core_priv.h"
#include "siphond/proxy.h"

#include "base/log.h"
#include "base/loop.h"

#include <errno.h>
#include <string.h>

#define MOD "core"

static uint64_t env_now(void *ctx)
{
	struct sd_core *c = ctx;

	return loop_now(c->loop);
}

static void env_timer_start(void *ctx, struct tsx_timer *tm, uint32_t ms)
{
	struct sd_core *c = ctx;

	tsx_wheel_start(loop_wheel(c->loop), tm, ms);
}

static void env_timer_stop(void *ctx, struct tsx_timer *tm)
{
	struct sd_core *c = ctx;

	tsx_wheel_stop(loop_wheel(c->loop), tm);
}

static int env_send(void *ctx, struct tsx *t, const char *buf, size_t len)
{
	struct sd_core *c = ctx;
	struct sd_stx *x = tsx_user(t);
	struct sd_out *out = c->cur_out;

	/* inside sd_core_input the reply to the request being handled goes out
	 * through the caller's buffer, on the connection or socket the request
	 * came in on; anything else (a proxied response passed upstream while
	 * another message is handled) is sent on its own */
	if (out && out->len == 0 && c->cur_tsx == t) {
		if (len > out->cap)
			return -EMSGSIZE;
		if (buf != out->buf)
			memcpy(out->buf, buf, len);
		out->len = len;
		out->dst = x->dst;
		return 0;
	}
	/* later (timers): retransmissions over UDP; on a stream, sends that are
	 * not retransmissions (a late 100 Trying) go on the same connection,
	 * if it is still there (§18.2.2) */
	if (x->proto == TP_UDP && c->send_udp)
		return c->send_udp(c->send_ctx, &x->local, &x->dst, buf, len);
	if (x->proto != TP_UDP && c->send_stream)
		return c->send_stream(c->send_ctx, x->conn_id, buf, len);
	return -ENOTCONN;
}

static void env_on_timeout(void *ctx, struct tsx *t)
{
	char peer[80];
	struct sd_stx *x = tsx_user(t);

	(void)ctx;
	/* §17.2.1 Timer H: the ACK for our final response never came */
	log_info(MOD, "no ACK from %s for %u (Timer H)", tp_addr_fmt(&x->dst, peer, sizeof(peer)),
		 tsx_last_code(t));
}

static void env_on_transport_error(void *ctx, struct tsx *t, int err)
{
	char peer[80];
	struct sd_stx *x = tsx_user(t);

	(void)ctx;
	log_info(MOD, "transport error towards %s: %s", tp_addr_fmt(&x->dst, peer, sizeof(peer)),
		 strerror(-err));
}

static void env_on_terminated(void *ctx, struct tsx *t)
{
	struct sd_stx *x = tsx_user(t);

	(void)ctx;
	if (x->pxy)
		sd_pxy_stx_terminated(x->pxy);
	x->prev->next = x->next;
	x->next->prev = x->prev;
}

void sd_tsx_init(struct sd_core *c, const struct sd_core_cfg *cfg)
{
	c->live.next = c->live.prev = &c->live;
	if (!cfg || !cfg->loop || !cfg->tsx || !cfg->send_udp)
		return;
	c->loop = cfg->loop;
	c->table = cfg->tsx;
	c->send_udp = cfg->send_udp;
	c->send_stream = cfg->send_stream;
	c->send_ctx = cfg->send_ctx;
	c->handoff = cfg->handoff; /* requests of another worker's transactions */
	c->env = (struct tsx_env){
		.ctx = c,
		.user_size = sizeof(struct sd_stx), /* lives inside the transaction */
		.timers = cfg->timers,
		.now_ms = env_now,
		.timer_start = env_timer_start,
		.timer_stop = env_timer_stop,
		.send = env_send,
		.on_timeout = env_on_timeout,
		.on_transport_error = env_on_transport_error,
		.on_terminated = env_on_terminated,
	};
}

void sd_tsx_shutdown(struct sd_core *c)
{
	while (c->live.next != &c->live) {
		struct tsx *t = c->live.next->tsx;

		tsx_ref(t);
		tsx_lock(t);
		tsx_terminate(t); /* frees the stx through on_terminated */
		tsx_unlock(t);
		tsx_unref(t);
	}
}

int sd_tsx_request(struct sd_core *c, const struct sip_msg *m, const struct sd_in *in,
		   const struct sip_resp_opts *trying, const struct tp_addr *dst)
{
	struct sd_stx *x;
	struct tsx *t;
	int rc;

	c->cur_tsx = NULL;
	if (!c->loop)
		return 0;
	/* §17.2.3: a retransmission, or the ACK of a non-2xx final */
	t = tsx_table_match_request(c->table, m);
	if (t) {
		struct sd_core *owner = ((struct sd_stx *)tsx_user(t))->core;

		if (owner == c) {
			tsx_lock(t);
			tsx_server_request(t, m); /* 1 = an ACK for a 2xx: we send none */
			tsx_unlock(t);
		}
		tsx_unref(t);
		/* a retransmission or a non-2xx ACK that reached another worker
		 * (UDP balancing moved its source, balance.h): the owner's
		 * transaction answers it, with its timers */
		if (owner != c && !c->handed && c->handoff)
			c->handoff(c->send_ctx, owner->idx, in);
		return 1;
	}
	if (m->method_id == SIP_METHOD_ACK)
		return 0;
	rc = tsx_server_create(&t, &c->env, m, in->proto != TP_UDP, trying, NULL);
	if (rc < 0)
		return 0; /* answer statelessly */
	x = tsx_user(t);
	x->core = c;
	x->proto = in->proto;
	x->conn_id = in->conn_id;
	x->local = in->local;
	x->dst = *dst;
	x->tsx = t;
	x->next = &c->live;
	x->prev = c->live.prev;
	c->live.prev->next = x;
	c->live.prev = x;
	rc = tsx_table_insert(c->table, t);
	if (rc < 0) {
		/* another worker created it first: this copy is a retransmission */
		tsx_lock(t);
		tsx_terminate(t);
		tsx_unlock(t);
		tsx_unref(t);
		return 1;
	}
	tsx_lock(t);
	c->cur_tsx = t;
	return 0;
}

int sd_tsx_respond(struct sd_core *c, uint16_t code, const char *buf, size_t len)
{
	return tsx_server_respond(c->cur_tsx, code, buf, len);
}

struct tsx *sd_tsx_keep(struct sd_core *c)
{
	if (!c->cur_tsx)
		return NULL;
	tsx_ref(c->cur_tsx);
	c->keep = true;
	return c->cur_tsx;
}

void sd_tsx_request_done(struct sd_core *c)
{
	struct tsx *t = c->cur_tsx;

	if (!t)
		return;
	c->cur_tsx = NULL;
	/* a transaction left without a final response would wait forever,
	 * unless its answer is on its way */
	if (tsx_last_code(t) < 200 && !c->keep)
		tsx_terminate(t);
	c->keep = false;
	tsx_unlock(t);
	tsx_unref(t);
}

uint16_t sd_tsx_cancel_code(struct sd_core *c, const struct sip_msg *cancel)
{
	struct tsx *t;

	if (!c->loop)
		return 481;
	t = tsx_table_find_cancelled(c->table, cancel);
	if (!t)
		return 481;
	tsx_unref(t);
	/* every INVITE is answered at once today, so there is never a pending
	 * one to end with 487: the CANCEL is simply acknowledged */
	return 200;
}
