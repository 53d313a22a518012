/* INVITE server transaction (RFC 3261 §17.2.1, RFC 6026 §7.1 and §8.5-8.7,
 * Figure 7 as updated): Proceeding -> Accepted (2xx) or Completed (300-699)
 * -> Confirmed (ACK) -> Terminated. */
#include "tsx/tsx_priv.h"

#include <errno.h>

/* RFC 2543 ACKs are matched by the To tag of the final response (§17.2.3). */
static void remember_to_tag(struct tsx *t)
{
	struct sip_msg r;

	if (t->key.rfc3261)
		return;
	if (sip_msg_parse(&r, t->msg, t->msg_len, SIP_PARSE_DATAGRAM) == 0)
		t->resp_to_tag = r.to.tag;
}

int tsx_sinv_respond(struct tsx *t, uint16_t code, const char *buf, size_t len)
{
	enum tsx_state s = tsx_state(t);
	int rc;

	if (s == TSX_ACCEPTED && code >= 200 && code < 300)
		return tsx_send(t, buf, len); /* RFC 6026 §8.7: the TU's 2xx retransmissions */
	if (s != TSX_PROCEEDING)
		return -EALREADY;
	if (code >= 200 && code < 300) {
		/* RFC 6026 §8.5: 2xx retransmission is the TU's job; L bounds the
		 * wait for INVITE retransmissions to absorb */
		t->last_code = code;
		tsx_timer_disarm(t, &t->retx);
		tsx_set_state(t, TSX_ACCEPTED);
		tsx_timer_arm(t, &t->end, 'L', tsx_timer_64t1(t->tm));
		tsx_msg_drop(t); /* the last 1xx: Accepted absorbs, never resends */
		return tsx_send(t, buf, len);
	}
	rc = tsx_server_store(t, buf, len);
	if (rc)
		return rc;
	t->last_code = code;
	tsx_timer_disarm(t, &t->retx); /* no 100 Trying after the TU answered */
	if (code < 200) {
		t->provisional_sent = true;
		return tsx_send(t, t->msg, t->msg_len);
	}
	/* the tag is in place before the state lets an ACK match */
	remember_to_tag(t);
	tsx_set_state(t, TSX_COMPLETED);
	if (!t->reliable) {
		t->retx_ms = tsx_timer_a(t->tm);
		tsx_timer_arm(t, &t->retx, 'G', t->retx_ms);
	}
	tsx_timer_arm(t, &t->end, 'H', tsx_timer_64t1(t->tm));
	return tsx_send(t, t->msg, t->msg_len);
}

int tsx_sinv_request(struct tsx *t, const struct sip_msg *m)
{
	enum tsx_state s = tsx_state(t);

	if (m->method_id == SIP_METHOD_ACK) {
		if (s == TSX_ACCEPTED)
			return 1; /* RFC 6026 §8.7: ACKs for 2xx are the TU's */
		if (s == TSX_COMPLETED) {
			/* §17.2.1: Confirmed absorbs further ACKs for I */
			tsx_timer_disarm(t, &t->retx);
			tsx_timer_disarm(t, &t->end);
			/* Confirmed resends nothing; an RFC 2543 key still
			 * matches ACKs by the To tag inside the response */
			if (t->key.rfc3261)
				tsx_msg_drop(t);
			tsx_linger(t, TSX_CONFIRMED, 'I', tsx_timer_t4(t->tm, t->reliable));
		}
		return 0;
	}
	if (m->method_id != SIP_METHOD_INVITE)
		return 0;
	if (s == TSX_PROCEEDING) {
		/* §17.2.1: resend the latest provisional; the client has heard
		 * nothing yet, so a pending 100 Trying goes now */
		tsx_timer_disarm(t, &t->retx);
		t->provisional_sent = true;
		tsx_send(t, t->msg, t->msg_len);
	} else if (s == TSX_COMPLETED) {
		tsx_send(t, t->msg, t->msg_len);
	}
	return 0; /* Accepted and Confirmed absorb INVITE retransmissions */
}

void tsx_sinv_timer(struct tsx *t, struct tsx_timer *tm)
{
	enum tsx_state s = tsx_state(t);

	switch (tm->name) {
	case 'P': /* §17.2.1: 100 Trying when the TU is silent for 200 ms */
		if (s == TSX_PROCEEDING && !t->provisional_sent) {
			t->provisional_sent = true;
			tsx_send(t, t->msg, t->msg_len);
		}
		break;
	case 'G':
		if (s != TSX_COMPLETED)
			return;
		if (tsx_send(t, t->msg, t->msg_len))
			return;
		t->retx_ms = t->retx_ms * 2 > t->tm->t2 ? t->tm->t2 : t->retx_ms * 2;
		tsx_timer_arm(t, &t->retx, 'G', t->retx_ms);
		break;
	case 'H': /* the ACK never came */
		if (t->env->on_timeout)
			t->env->on_timeout(t->env->ctx, t);
		tsx_finish(t);
		break;
	default: /* I, L */
		tsx_finish(t);
		break;
	}
}
