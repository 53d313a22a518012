/* Creating client and server transactions from a parsed request. */
#include "tsx/tsx_priv.h"

#include <errno.h>
#include <string.h>

/* Room kept inline for a server transaction's responses: a response is about
 * as long as the request's head (same Via, From, To, Call-ID, CSeq). */
#define TSX_RESP_SLACK 256u

static int client_create(struct tsx **out, const struct tsx_env *env, const struct tsx_key *k,
			 bool invite, const char *buf, size_t len, bool reliable, void *user)
{
	struct tsx *t;
	int rc;

	if (len == 0)
		return -EINVAL;
	rc = tsx_alloc(&t, env, invite ? TSX_CLIENT_INVITE : TSX_CLIENT_NONINVITE, k, len, reliable,
		       user);
	if (rc)
		return rc;
	memcpy(t->msg, buf, len);
	t->msg_len = len;
	*out = t;
	return 0;
}

int tsx_client_create(struct tsx **out, const struct tsx_env *env, const struct sip_msg *req,
		      bool reliable, void *user)
{
	struct tsx_key k;
	int rc;

	if (!req->is_request || req->method_id == SIP_METHOD_ACK)
		return -EINVAL; /* ACK has no client transaction (§17.1.1.3) */
	rc = tsx_key_client_request(&k, req);
	if (rc)
		return rc;
	return client_create(out, env, &k, req->method_id == SIP_METHOD_INVITE, req->buf, req->len,
			     reliable, user);
}

int tsx_client_create_raw(struct tsx **out, const struct tsx_env *env, const char *buf,
			  size_t len, enum sip_method method_id, struct str method, struct str branch,
			  bool reliable, void *user)
{
	struct tsx_key k;
	int rc;

	if (method_id == SIP_METHOD_ACK)
		return -EINVAL;
	rc = tsx_key_client(&k, branch, method);
	if (rc)
		return rc;
	return client_create(out, env, &k, method_id == SIP_METHOD_INVITE, buf, len, reliable,
			     user);
}

int tsx_server_create(struct tsx **out, const struct tsx_env *env, const struct sip_msg *req,
		      bool reliable, const struct sip_resp_opts *trying, void *user)
{
	bool invite = req->method_id == SIP_METHOD_INVITE;
	struct sip_resp_opts o = { 0 };
	struct tsx_key k;
	struct tsx *t;
	int rc, n;

	if (!req->is_request || req->method_id == SIP_METHOD_ACK)
		return -EINVAL; /* an ACK never creates a transaction (§17.2.3) */
	rc = tsx_key_request(&k, req);
	if (rc)
		return rc;
	/* INVITE: room for the 100 Trying built below; non-INVITE: the first
	 * response stored gets a block of its size */
	rc = tsx_alloc(&t, env, invite ? TSX_SERVER_INVITE : TSX_SERVER_NONINVITE, &k,
		       invite ? req->head.len + TSX_RESP_SLACK : 0, reliable, user);
	if (rc)
		return rc;
	if (!invite) {
		tsx_set_state(t, TSX_TRYING); /* §17.2.2 */
		*out = t;
		return 0;
	}
	/* §17.2.1: the 100 Trying is built now, while the request is at hand,
	 * and sent after 200 ms unless the TU answers first */
	if (trying)
		o = *trying;
	o.to_tag = STR_NULL; /* §8.2.6.2: never on a 100 */
	o.content_type = STR_NULL;
	o.body = STR_NULL;
	n = sip_resp_build(t->msg, t->msg_cap, req, 100, STR_LIT("Trying"), &o);
	if (n < 0) {
		tsx_unref(t);
		return n;
	}
	t->msg_len = (size_t)n;
	tsx_set_state(t, TSX_PROCEEDING);
	tsx_timer_arm(t, &t->retx, 'P', TSX_TRYING_DELAY_MS);
	*out = t;
	return 0;
}
