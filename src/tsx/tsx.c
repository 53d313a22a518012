/* What every transaction shares: allocation, reference counting, timers,
 * sending, termination, and the dispatch to the four state machines. */
#include "tsx/tsx_priv.h"

#include "base/mem.h"

#include <errno.h>
#include <string.h>

const struct tsx_timers tsx_timers_default = {
	.t1 = TSX_T1_DEFAULT,
	.t2 = TSX_T2_DEFAULT,
	.t4 = TSX_T4_DEFAULT,
	.td = TSX_TD_DEFAULT,
};

int tsx_alloc(struct tsx **out, const struct tsx_env *env, enum tsx_kind kind,
	      const struct tsx_key *key, size_t extra, bool reliable, void *user)
{
	size_t ksize = tsx_key_size(key);
	/* the environment's per-transaction area first, kept aligned */
	size_t usize = (env->user_size + 15) & ~(size_t)15;
	struct tsx *t = mem_zalloc(sizeof(*t) + usize + ksize);

	if (!t)
		return -ENOMEM;
	if (extra) {
		t->msg = mem_alloc(extra);
		if (!t->msg) {
			mem_free(t);
			return -ENOMEM;
		}
		t->msg_cap = extra;
	}
	if (pthread_mutex_init(&t->lock, NULL) != 0) {
		mem_free(t->msg);
		mem_free(t);
		return -ENOMEM;
	}
	atomic_init(&t->refs, 1);
	atomic_init(&t->state, (uint8_t)TSX_INIT);
	t->kind = (uint8_t)kind;
	t->reliable = reliable;
	t->env = env;
	t->tm = env->timers ? env->timers : &tsx_timers_default;
	t->user = usize ? (void *)t->tail : user;
	t->retx.tsx = t;
	t->end.tsx = t;
	tsx_key_copy(&t->key, key, t->tail + usize);
	t->hash = key->hash;
	*out = t;
	return 0;
}

void tsx_set_state(struct tsx *t, enum tsx_state s)
{
	atomic_store_explicit(&t->state, (uint8_t)s, memory_order_release);
}

void tsx_timer_arm(struct tsx *t, struct tsx_timer *tm, char name, uint32_t ms)
{
	tsx_timer_disarm(t, tm);
	tm->name = name;
	tm->ms = ms;
	tm->armed = true;
	t->env->timer_start(t->env->ctx, tm, ms);
}

void tsx_timer_disarm(struct tsx *t, struct tsx_timer *tm)
{
	if (!tm->armed)
		return;
	tm->armed = false;
	t->env->timer_stop(t->env->ctx, tm);
}

int tsx_send(struct tsx *t, const char *buf, size_t len)
{
	int rc = t->env->send(t->env->ctx, t, buf, len);

	if (rc < 0) {
		/* §17.1.4, §17.2.4: the TU hears of it, the transaction ends */
		if (t->env->on_transport_error)
			t->env->on_transport_error(t->env->ctx, t, rc);
		tsx_finish(t);
	}
	return rc;
}

void tsx_client_transport_failed(struct tsx *t, int err)
{
	enum tsx_state s = tsx_state(t);

	/* Only before any response: the request never reached the peer. Once
	 * one came, the peer may still answer over a connection of its own
	 * (§18.2.2), and Timer B / F bound the wait. */
	if (tsx_kind(t) != TSX_CLIENT_INVITE && tsx_kind(t) != TSX_CLIENT_NONINVITE)
		return;
	if (s != TSX_CALLING && s != TSX_TRYING)
		return;
	if (t->env->on_transport_error)
		t->env->on_transport_error(t->env->ctx, t, err < 0 ? err : -EIO);
	tsx_finish(t);
}

void tsx_finish(struct tsx *t)
{
	if (tsx_state(t) == TSX_TERMINATED)
		return;
	tsx_set_state(t, TSX_TERMINATED);
	tsx_timer_disarm(t, &t->retx);
	tsx_timer_disarm(t, &t->end);
	tsx_table_unlink(t);
	if (t->env->on_terminated)
		t->env->on_terminated(t->env->ctx, t);
}

void tsx_linger(struct tsx *t, enum tsx_state s, char name, uint32_t ms)
{
	tsx_set_state(t, s);
	if (ms == 0)
		tsx_finish(t);
	else
		tsx_timer_arm(t, &t->end, name, ms);
}

int tsx_server_store(struct tsx *t, const char *buf, size_t len)
{
	if (len > t->msg_cap) {
		/* once per larger response, never per retransmission */
		char *p = mem_alloc(len);

		if (!p)
			return -ENOMEM;
		mem_free(t->msg);
		t->msg = p;
		t->msg_cap = len;
	}
	memcpy(t->msg, buf, len);
	t->msg_len = len;
	return 0;
}

void tsx_msg_drop(struct tsx *t)
{
	mem_free(t->msg);
	t->msg = NULL;
	t->msg_len = 0;
	t->msg_cap = 0;
}

static bool is_client(const struct tsx *t)
{
	return t->kind == TSX_CLIENT_INVITE || t->kind == TSX_CLIENT_NONINVITE;
}

int tsx_client_start(struct tsx *t)
{
	int rc;

	if (!is_client(t) || tsx_state(t) != TSX_INIT)
		return -EINVAL;
	tsx_ref(t);
	rc = t->kind == TSX_CLIENT_INVITE ? tsx_cinv_start(t) : tsx_cnon_start(t);
	tsx_unref(t);
	return rc;
}

void tsx_client_response(struct tsx *t, const struct sip_msg *resp)
{
	enum tsx_state s = tsx_state(t);

	if (!is_client(t) || resp->is_request || s == TSX_INIT || s == TSX_TERMINATED)
		return;
	tsx_ref(t);
	if (t->kind == TSX_CLIENT_INVITE)
		tsx_cinv_response(t, resp);
	else
		tsx_cnon_response(t, resp);
	tsx_unref(t);
}

int tsx_server_respond(struct tsx *t, uint16_t code, const char *buf, size_t len)
{
	int rc;

	if (is_client(t) || code < 100 || code > 699 || len == 0)
		return -EINVAL;
	if (tsx_state(t) == TSX_TERMINATED)
		return -EALREADY;
	tsx_ref(t);
	if (t->kind == TSX_SERVER_INVITE)
		rc = tsx_sinv_respond(t, code, buf, len);
	else
		rc = tsx_snon_respond(t, code, buf, len);
	tsx_unref(t);
	return rc;
}

int tsx_server_request(struct tsx *t, const struct sip_msg *req)
{
	int rc;

	if (is_client(t) || !req->is_request || tsx_state(t) == TSX_TERMINATED)
		return 0;
	tsx_ref(t);
	if (t->kind == TSX_SERVER_INVITE)
		rc = tsx_sinv_request(t, req);
	else
		rc = tsx_snon_request(t, req);
	tsx_unref(t);
	return rc;
}

void tsx_timer_fire(struct tsx_timer *tm)
{
	struct tsx *t = tm->tsx;

	if (!tm->armed)
		return; /* stopped while the environment was firing it */
	tm->armed = false;
	tsx_ref(t);
	switch ((enum tsx_kind)t->kind) {
	case TSX_CLIENT_INVITE:
		tsx_cinv_timer(t, tm);
		break;
	case TSX_CLIENT_NONINVITE:
		tsx_cnon_timer(t, tm);
		break;
	case TSX_SERVER_INVITE:
		tsx_sinv_timer(t, tm);
		break;
	case TSX_SERVER_NONINVITE:
		tsx_snon_timer(t, tm);
		break;
	}
	tsx_unref(t);
}

void tsx_terminate(struct tsx *t)
{
	tsx_ref(t);
	tsx_finish(t);
	tsx_unref(t);
}

void tsx_ref(struct tsx *t)
{
	atomic_fetch_add_explicit(&t->refs, 1, memory_order_relaxed);
}

void tsx_unref(struct tsx *t)
{
	if (!t || atomic_fetch_sub_explicit(&t->refs, 1, memory_order_acq_rel) != 1)
		return;
	/* a transaction dropped before it terminated must not leave timers */
	tsx_timer_disarm(t, &t->retx);
	tsx_timer_disarm(t, &t->end);
	mem_free(t->msg);
	mem_free(t->ack);
	pthread_mutex_destroy(&t->lock);
	mem_free(t);
}

void tsx_lock(struct tsx *t)
{
	pthread_mutex_lock(&t->lock);
}

void tsx_unlock(struct tsx *t)
{
	pthread_mutex_unlock(&t->lock);
}

enum tsx_kind tsx_kind(const struct tsx *t)
{
	return (enum tsx_kind)t->kind;
}

enum tsx_state tsx_state(const struct tsx *t)
{
	return (enum tsx_state)atomic_load_explicit(&t->state, memory_order_acquire);
}

const char *tsx_state_name(enum tsx_state s)
{
	static const char *const names[] = {
		[TSX_INIT] = "Init",		 [TSX_CALLING] = "Calling",
		[TSX_TRYING] = "Trying",	 [TSX_PROCEEDING] = "Proceeding",
		[TSX_ACCEPTED] = "Accepted",	 [TSX_COMPLETED] = "Completed",
		[TSX_CONFIRMED] = "Confirmed", [TSX_TERMINATED] = "Terminated",
	};

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

const struct tsx_key *tsx_key(const struct tsx *t)
{
	return &t->key;
}

struct str tsx_client_request(const struct tsx *t)
{
	bool client = t->kind == TSX_CLIENT_INVITE || t->kind == TSX_CLIENT_NONINVITE;

	return client && t->msg ? str_make(t->msg, t->msg_len) : STR_NULL;
}

void *tsx_user(const struct tsx *t)
{
	return t->user;
}

uint16_t tsx_last_code(const struct tsx *t)
{
	return t->last_code;
}

const struct tsx_timer *tsx_timer_retx(const struct tsx *t)
{
	return &t->retx;
}

const struct tsx_timer *tsx_timer_end(const struct tsx *t)
{
	return &t->end;
}
