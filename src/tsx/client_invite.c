/* INVITE client transaction (RFC 3261 §17.1.1, RFC 6026 §8.4, Figure 5 as
 * updated): Calling -> Proceeding -> Accepted (2xx) or Completed (300-699)
 * -> Terminated. */
#include "tsx/tsx_priv.h"

#include "base/mem.h"
#include "tsx/ack.h"

#include <errno.h>

int tsx_cinv_start(struct tsx *t)
{
	int rc;

	tsx_set_state(t, TSX_CALLING);
	rc = tsx_send(t, t->msg, t->msg_len);
	if (rc)
		return rc;
	/* §17.1.1.2: Timer A only where the transport may lose the request */
	if (!t->reliable) {
		t->retx_ms = tsx_timer_a(t->tm);
		tsx_timer_arm(t, &t->retx, 'A', t->retx_ms);
	}
	tsx_timer_arm(t, &t->end, 'B', tsx_timer_64t1(t->tm));
	return 0;
}

/* Build the ACK once (§17.1.1.3); -ENOMEM leaves it for the next
 * retransmission of the final response to try again. */
static int build_ack(struct tsx *t, const struct sip_msg *resp)
{
	struct sip_msg inv;
	int n;

	if (t->ack)
		return 0;
	if (!t->msg || sip_msg_parse(&inv, t->msg, t->msg_len, SIP_PARSE_DATAGRAM) != 0)
		return -EINVAL;
	n = tsx_ack_build(NULL, 0, &inv, resp);
	if (n < 0)
		return n;
	t->ack = mem_alloc((size_t)n);
	if (!t->ack)
		return -ENOMEM;
	t->ack_len = (size_t)tsx_ack_build(t->ack, (size_t)n, &inv, resp);
	return 0;
}

static void send_ack(struct tsx *t, const struct sip_msg *resp)
{
	if (build_ack(t, resp) == 0)
		tsx_send(t, t->ack, t->ack_len);
}

static void pass_up(struct tsx *t, const struct sip_msg *m)
{
	t->last_code = m->status;
	if (t->env->on_response)
		t->env->on_response(t->env->ctx, t, m);
}

void tsx_cinv_response(struct tsx *t, const struct sip_msg *m)
{
	enum tsx_state s = tsx_state(t);
	uint16_t code = m->status;

	if (s == TSX_CALLING || s == TSX_PROCEEDING) {
		/* any response ends the retransmissions; Timer B only bounds
		 * Calling (§17.1.1.2), a ringing call is the TU's to end */
		tsx_timer_disarm(t, &t->retx);
		tsx_timer_disarm(t, &t->end);
		if (code < 200) {
			tsx_set_state(t, TSX_PROCEEDING);
			pass_up(t, m);
		} else if (code < 300) {
			/* RFC 6026 §8.4: Accepted, wait M for 2xx retransmissions */
			tsx_set_state(t, TSX_ACCEPTED);
			tsx_timer_arm(t, &t->end, 'M', tsx_timer_64t1(t->tm));
			pass_up(t, m);
			tsx_msg_drop(t); /* Accepted never resends the INVITE */
		} else {
			tsx_set_state(t, TSX_COMPLETED);
			pass_up(t, m);
			if (tsx_state(t) != TSX_COMPLETED)
				return; /* the TU terminated us */
			send_ack(t, m);
			if (t->ack)
				tsx_msg_drop(t); /* Completed resends the ACK only */
			if (tsx_state(t) == TSX_COMPLETED)
				tsx_linger(t, TSX_COMPLETED, 'D', tsx_timer_d(t->tm, t->reliable));
		}
		return;
	}
	if (s == TSX_ACCEPTED && code >= 200 && code < 300) {
		pass_up(t, m); /* RFC 6026 §8.4: the TU ACKs each 2xx */
		return;
	}
	if (s == TSX_COMPLETED && code >= 300)
		send_ack(t, m); /* §17.1.1.2: the final was retransmitted */
	/* everything else is absorbed */
}

void tsx_cinv_timer(struct tsx *t, struct tsx_timer *tm)
{
	enum tsx_state s = tsx_state(t);

	switch (tm->name) {
	case 'A':
		if (s != TSX_CALLING)
			return;
		if (tsx_send(t, t->msg, t->msg_len))
			return;
		/* §17.1.1.2: doubled each time, not capped by T2 */
		t->retx_ms *= 2;
		tsx_timer_arm(t, &t->retx, 'A', t->retx_ms);
		break;
	case 'B':
		if (t->env->on_timeout)
			t->env->on_timeout(t->env->ctx, t);
		tsx_finish(t);
		break;
	default: /* D, M */
		tsx_finish(t);
		break;
	}
}
