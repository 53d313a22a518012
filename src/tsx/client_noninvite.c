/* Non-INVITE client transaction (RFC 3261 §17.1.2, Figure 6): Trying ->
 * Proceeding -> Completed -> Terminated. */
#include "tsx/tsx_priv.h"

int tsx_cnon_start(struct tsx *t)
{
	int rc;

	tsx_set_state(t, TSX_TRYING);
	rc = tsx_send(t, t->msg, t->msg_len);
	if (rc)
		return rc;
	if (!t->reliable) {
		t->retx_ms = tsx_timer_a(t->tm);
		tsx_timer_arm(t, &t->retx, 'E', t->retx_ms);
	}
	tsx_timer_arm(t, &t->end, 'F', tsx_timer_64t1(t->tm));
	return 0;
}

void tsx_cnon_response(struct tsx *t, const struct sip_msg *m)
{
	enum tsx_state s = tsx_state(t);

	if (s != TSX_TRYING && s != TSX_PROCEEDING)
		return; /* Completed absorbs retransmitted finals */
	t->last_code = m->status;
	if (m->status < 200) {
		/* E keeps running: it is reset to T2 when it next fires */
		tsx_set_state(t, TSX_PROCEEDING);
		if (t->env->on_response)
			t->env->on_response(t->env->ctx, t, m);
		return;
	}
	tsx_timer_disarm(t, &t->retx);
	tsx_timer_disarm(t, &t->end);
	tsx_set_state(t, TSX_COMPLETED);
	if (t->env->on_response)
		t->env->on_response(t->env->ctx, t, m);
	tsx_msg_drop(t); /* Completed only absorbs */
	/* Timer K absorbs retransmitted finals; 0 on reliable transports */
	if (tsx_state(t) == TSX_COMPLETED)
		tsx_linger(t, TSX_COMPLETED, 'K', tsx_timer_t4(t->tm, t->reliable));
}

void tsx_cnon_timer(struct tsx *t, struct tsx_timer *tm)
{
	enum tsx_state s = tsx_state(t);

	switch (tm->name) {
	case 'E':
		if (s != TSX_TRYING && s != TSX_PROCEEDING)
			return;
		if (tsx_send(t, t->msg, t->msg_len))
			return;
		/* §17.1.2.2: double up to T2 in Trying, T2 in Proceeding */
		if (s == TSX_PROCEEDING || t->retx_ms * 2 > t->tm->t2)
			t->retx_ms = t->tm->t2;
		else
			t->retx_ms *= 2;
		tsx_timer_arm(t, &t->retx, 'E', t->retx_ms);
		break;
	case 'F':
		if (t->env->on_timeout)
			t->env->on_timeout(t->env->ctx, t);
		tsx_finish(t);
		break;
	default: /* K */
		tsx_finish(t);
		break;
	}
}
