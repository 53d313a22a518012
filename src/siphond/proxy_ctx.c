/* The response context (RFC 3261 §16.7): what goes upstream, when, and
 * when the context is done; Timer C (§16.8). */
#include "siphond/proxy_int.h"

#include "base/log.h"
#include "base/loop.h"
#include "base/mem.h"
#include "msg/build.h"

#include <errno.h>
#include <string.h>

/* ---- upstream ---- */

/* Send a response upstream through the server transaction, or straight to
 * where it would go when the transaction takes no more (a 2xx after the
 * first, RFC 6026 §7.1). */
void sd_pxy_upstream(struct sd_pxy *p, uint16_t code, const char *buf, size_t len)
{
	struct sd_core *c = p->c;
	struct sd_stx *x = sd_pxy_stx(p);
	int rc;

	sd_mx_upstream(c->idx, code, p->invite, p->mx_t0, &p->mx_seen);
	tsx_lock(p->stx);
	rc = tsx_server_respond(p->stx, code, buf, len);
	tsx_unlock(p->stx);
	if (rc == 0)
		return;
	if (x->proto == TP_UDP)
		rc = c->send_udp(c->send_ctx, &x->local, &x->dst, buf, len);
	else
		rc = c->send_stream(c->send_ctx, x->conn_id, buf, len);
	if (rc < 0)
		log_info(MOD, "%u not passed upstream: %s", code, strerror(-rc));
}

/* A response of ours to the request (408, 480, 487, 500). */
void sd_pxy_upstream_own(struct sd_pxy *p, uint16_t code, const char *reason, struct str extra)
{
	struct sd_core *c = p->c;
	struct sip_msg *m = sd_pxy_scratch(c, 0);
	struct sd_stx *x = sd_pxy_stx(p);
	struct sd_in in = { .buf = p->req, .len = p->req_len, .proto = x->proto,
			    .local = x->local, .conn_id = x->conn_id };
	struct sd_out out = { .buf = c->pbuf, .cap = SD_REPLY_MAX };
	struct sd_out *saved_out;

	if (sip_msg_parse(m, p->req, p->req_len,
			  x->proto == TP_UDP ? SIP_PARSE_DATAGRAM : SIP_PARSE_STREAM) != 0)
		return;
	in.src = x->dst;
	/* whatever input is being handled, this goes out on its own */
	saved_out = c->cur_out;
	c->cur_out = NULL;
	tsx_lock(p->stx);
	c->cur_tsx = p->stx;
	sd_respond(c, m, &in, &out, code, reason, extra);
	c->cur_tsx = NULL;
	tsx_unlock(p->stx);
	c->cur_out = saved_out;
	if (out.len)
		sd_pxy_upstream(p, code, out.buf, out.len);
}

/* §16.7 step 3: the response minus our Via, into c->pbuf. */
int sd_pxy_strip_via(struct sd_core *c, const struct sip_msg *m)
{
	struct sip_edit e;
	int rc;

	sip_edit_init(&e, m);
	rc = sip_fwd_drop_top_via(&e);
	if (rc == -EDESTADDRREQ && loop_now(c->loop) - c->novia_log_ms >= 1000) {
		/* a broken UAS resends it: a line a second at most */
		c->novia_log_ms = loop_now(c->loop);
		log_info(MOD, "a %u response whose only Via was ours: not forwarded (§16.7 step 3)",
			 m->status);
	}
	if (rc < 0)
		return rc;
	return sip_edit_apply(&e, c->pbuf, SD_REPLY_MAX);
}

/* ---- lifetime ---- */

static void pxy_free(struct sd_pxy *p)
{
	struct sd_core *c = p->c;

	p->prev ? (p->prev->next = p->next) : (c->live_pxy = p->next);
	if (p->next)
		p->next->prev = p->prev;
	sd_pxy_stx(p)->pxy = NULL;
	sd_mx_count(c->idx, SD_MX_PXY_FREED);
	tsx_unref(p->stx);
	mem_free(p->best);
	mem_free(p->auth);
	mem_free(p->tbuf);
	mem_free(p);
}

void sd_pxy_put(struct sd_pxy *p)
{
	if (--p->refs == 0)
		pxy_free(p);
}

void sd_pxy_timer_c_stop(struct sd_pxy *p)
{
	if (!p->timer_c_on)
		return;
	loop_timer_cancel(p->c->loop, &p->timer_c);
	p->timer_c_on = false;
	sd_pxy_put(p);
}

/* Done deciding: nothing pending, the final response is out. */
void sd_pxy_maybe_release(struct sd_pxy *p)
{
	if (!p->held || !p->final_sent || p->pending)
		return;
	p->held = false;
	sd_pxy_timer_c_stop(p);
	sd_pxy_put(p);
}

/* ---- branches ---- */


/* §16.7 step 6: is code a better final response than the best so far? */
bool sd_pxy_better(uint16_t code, uint16_t best)
{
	static const uint16_t preferred[] = { 401, 407, 415, 420, 484 };

	if (!best)
		return true;
	if (best >= 600)
		return false;
	if (code >= 600)
		return true;
	if (code / 100 != best / 100)
		return code / 100 < best / 100;
	for (size_t i = 0; i < sizeof(preferred) / sizeof(preferred[0]); i++) {
		if (best == preferred[i])
			return false;
		if (code == preferred[i])
			return true;
	}
	return false;
}

/* §16.7 step 7: challenges of every 401/407 go upstream together. */
static void collect_auth(struct sd_pxy *p, const struct sip_msg *m)
{
	static const enum sip_hdr_type types[] = { SIP_HDR_WWW_AUTHENTICATE,
						   SIP_HDR_PROXY_AUTHENTICATE };

	for (size_t i = 0; m && i < sizeof(types) / sizeof(types[0]); i++) {
		for (const struct sip_hdr *h = sip_msg_hdr(m, types[i]); h;
		     h = sip_msg_hdr_next(m, h)) {
			char *n = mem_realloc(p->auth, p->auth_len + h->line.len);

			if (!n)
				return;
			memcpy(n + p->auth_len, h->line.s, h->line.len);
			p->auth = n;
			p->auth_len += h->line.len;
		}
	}
}

/* Every branch has its final response and no target is left: send the
 * best sd_pxy_upstream (§16.7 step 6). */
static void send_best(struct sd_pxy *p)
{
	uint16_t code = p->best_code ? p->best_code : 408;

	p->final_sent = true;
	if (code == 503) { /* §16.7 step 6: not our client's server that is unavailable */
		sd_pxy_upstream_own(p, 500, "Next Hop Unavailable", STR_NULL);
	} else if (p->best && !((code == 401 || code == 407) && p->auth_len)) {
		sd_pxy_upstream(p, code, p->best, p->best_len);
	} else if (code == 401 || code == 407) {
		sd_pxy_upstream_own(p, code, NULL, str_make(p->auth, p->auth_len));
	} else {
		sd_pxy_upstream_own(p, code, NULL, STR_NULL);
	}
	sd_pxy_maybe_release(p);
}

void sd_pxy_check_done(struct sd_pxy *p)
{
	if (p->final_sent) {
		/* a 2xx went up while other branches were pending: the context
		 * is done once the last of them ended */
		sd_pxy_maybe_release(p);
		return;
	}
	if (p->pending)
		return;
	if (!p->cancelled && p->best_code < 600 && p->next_tg < p->ntg) {
		sd_pxy_next_group(p); /* §16.6: sequential search, next q */
		if (p->pending || p->final_sent)
			return;
	}
	if (p->cancelled && !p->best_code)
		p->best_code = 487;
	send_best(p);
}

/* A branch ended with code; m is the response (NULL: synthesized). */
void sd_pxy_branch_final(struct pxy_br *br, uint16_t code, const struct sip_msg *m)
{
	struct sd_pxy *p = br->p;

	if (br->final)
		return;
	/* RFC 3263 §4.3: no answer at all (Timer B/F, not Timer C), a
	 * transport error or a 503 moves to the next address of the same name;
	 * the new branch is counted before this one ends */
	if (br->alt && (code == 503 || (code == 408 && !m && !br->cancel_wanted)))
		sd_pxy_failover(br);
	br->final = true;
	br->code = code;
	p->pending--;
	if (code == 401 || code == 407)
		collect_auth(p, m);
	if (!p->final_sent && sd_pxy_better(code, p->best_code)) {
		int n = m ? sd_pxy_strip_via(p->c, m) : -EINVAL;

		mem_free(p->best);
		p->best = NULL;
		p->best_code = code;
		if (n > 0 && (p->best = mem_alloc((size_t)n))) {
			memcpy(p->best, p->c->pbuf, (size_t)n);
			p->best_len = (size_t)n;
		}
	}
	/* §16.7 step 10 (RFC 3261 §16.7: a 6xx ends the search everywhere) */
	if (code >= 600 && p->invite)
		for (unsigned i = 0; i < p->nbr; i++)
			if (!p->br[i]->final)
				sd_pxy_send_cancel(p->br[i]);
	sd_pxy_check_done(p);
}

void sd_pxy_cancel_all(struct sd_pxy *p)
{
	for (unsigned i = 0; i < p->nbr; i++)
		if (!p->br[i]->final)
			sd_pxy_send_cancel(p->br[i]);
}

static void on_timer_c(void *arg)
{
	struct sd_pxy *p = arg;

	p->timer_c_on = false;
	/* §16.8: a branch that said something is cancelled; one that did not
	 * counts as a 408 */
	for (unsigned i = 0; i < p->nbr && !p->final_sent; i++) {
		struct pxy_br *br = p->br[i];

		if (br->final)
			continue;
		if (br->code > 100) {
			sd_pxy_send_cancel(br);
		} else {
			br->cancel_wanted = true;
			sd_pxy_branch_final(br, 408, NULL);
		}
	}
	sd_pxy_put(p);
}

void sd_pxy_timer_c_start(struct sd_pxy *p)
{
	if (!p->invite || p->final_sent)
		return;
	if (p->timer_c_on) {
		loop_timer_cancel(p->c->loop, &p->timer_c);
	} else {
		p->refs++;
		p->timer_c_on = true;
	}
	if (loop_timer_add(p->c->loop, &p->timer_c, p->c->pcfg->timer_c_ms, on_timer_c, p) < 0) {
		p->timer_c_on = false;
		sd_pxy_put(p);
	}
}
