/* Non-INVITE server transaction (RFC 3261 §17.2.2, Figure 8): Trying ->
 * Proceeding -> Completed -> Terminated. */
#include "tsx/tsx_priv.h"

#include <errno.h>

int tsx_snon_respond(struct tsx *t, uint16_t code, const char *buf, size_t len)
{
	enum tsx_state s = tsx_state(t);
	int rc;

	if (s != TSX_TRYING && s != TSX_PROCEEDING)
		return -EALREADY;
	rc = tsx_server_store(t, buf, len);
	if (rc)
		return rc;
	t->last_code = code;
	if (code < 200) {
		tsx_set_state(t, TSX_PROCEEDING);
		return tsx_send(t, t->msg, t->msg_len);
	}
	tsx_set_state(t, TSX_COMPLETED);
	rc = tsx_send(t, t->msg, t->msg_len);
	if (rc)
		return rc;
	/* Timer J absorbs request retransmissions; 0 on reliable transports */
	tsx_linger(t, TSX_COMPLETED, 'J', t->reliable ? 0 : tsx_timer_64t1(t->tm));
	return 0;
}

int tsx_snon_request(struct tsx *t, const struct sip_msg *m)
{
	(void)m;
	/* §17.2.2: Trying absorbs; later states resend the last response */
	if (tsx_state(t) != TSX_TRYING)
		tsx_send(t, t->msg, t->msg_len);
	return 0;
}

void tsx_snon_timer(struct tsx *t, struct tsx_timer *tm)
{
	(void)tm; /* J */
	tsx_finish(t);
}
