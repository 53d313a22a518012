/* SIP transactions (RFC 3261 §17, updated by RFC 6026): pure state machines
 * with no transport, clock or event loop of their own. The user supplies a
 * struct tsx_env: a send function, a way to arm and stop the transaction's
 * timers (it calls tsx_timer_fire() when one is due) and the TU callbacks.
 *
 * Lifetime: a transaction is reference counted. The creator owns one
 * reference (drop it with tsx_unref()); a table holds another while the
 * transaction is in it. A transaction that terminates stops its timers,
 * removes itself from its table and calls on_terminated once.
 *
 * Concurrency: calls on one transaction must not run concurrently. With
 * several workers, take tsx_lock() around every tsx_* call on it (timer
 * firings included); callbacks run with the lock held, so a TU may call
 * tsx_server_respond() from inside them without locking again. */
#ifndef SIPHON_TSX_TSX_H
#define SIPHON_TSX_TSX_H

#include "base/wheel.h"
#include "msg/build.h"
#include "msg/msg.h"
#include "tsx/key.h"
#include "tsx/timers.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tsx;

enum tsx_kind {
	TSX_CLIENT_INVITE = 0,
	TSX_CLIENT_NONINVITE,
	TSX_SERVER_INVITE,
	TSX_SERVER_NONINVITE,
};

enum tsx_state {
	TSX_INIT = 0,    /* client, before tsx_client_start() */
	TSX_CALLING,     /* client INVITE */
	TSX_TRYING,      /* non-INVITE */
	TSX_PROCEEDING,
	TSX_ACCEPTED,    /* INVITE after a 2xx (RFC 6026 §7.1, §7.2) */
	TSX_COMPLETED,
	TSX_CONFIRMED,   /* server INVITE after the ACK */
	TSX_TERMINATED,
};

/* One of the two timers a transaction owns: "retx" (A, E, G, or the 100
 * Trying delay) and "end" (B, D, F, H, I, J, K, L, M). */
struct tsx_timer {
	struct tsx *tsx;
	char name;      /* 'A'..'M'; 'P' for the 100 Trying delay */
	bool armed;
	uint32_t ms;    /* delay of the current arming */
	/* The environment's bookkeeping: a wheel timer (base/wheel.h), or a
	 * due time and sequence for environments of their own (tests). */
	union {
		struct wheel_timer wt;
		struct {
			uint64_t due;
			uint64_t seq;
		} plain;
	} env;
};

struct tsx_env {
	void *ctx; /* passed to every function below */
	/* When non-zero, every transaction carries a zeroed area of this many
	 * bytes (16-byte aligned) in its own allocation, and tsx_user() returns
	 * it (the user argument of the create functions is then ignored): no
	 * second allocation for the TU's per-transaction state. */
	size_t user_size;
	const struct tsx_timers *timers; /* NULL: tsx_timers_default */

	uint64_t (*now_ms)(void *ctx);
	/* Arm tm to fire once after ms (tm is not armed when called); call
	 * tsx_timer_fire(tm) then. tm lives inside the transaction. */
	void (*timer_start)(void *ctx, struct tsx_timer *tm, uint32_t ms);
	void (*timer_stop)(void *ctx, struct tsx_timer *tm);
	/* Hand bytes to the transport. Returns 0 or -errno; an error is a
	 * transport error (§17.1.4, §17.2.4). */
	int (*send)(void *ctx, struct tsx *t, const char *buf, size_t len);

	/* Client: a response the TU must see (§17.1.1.2, §17.1.2.2, RFC 6026
	 * §8.4: 2xx retransmissions in Accepted too). */
	void (*on_response)(void *ctx, struct tsx *t, const struct sip_msg *m);
	/* Client: Timer B or F (the TU acts as on a 408). Server INVITE: Timer
	 * H, the ACK never came (§17.2.1). */
	void (*on_timeout)(void *ctx, struct tsx *t);
	/* send() failed with err (the TU acts as on a 503, §8.1.3.1). */
	void (*on_transport_error)(void *ctx, struct tsx *t, int err);
	/* Called once, last; the transaction is out of its table by then. */
	void (*on_terminated)(void *ctx, struct tsx *t);
};

/* ---- client transactions (§17.1) ---- */

/* Create a client transaction for the request in req (req->buf[0..len),
 * parsed, with our branch in its top Via). The bytes and the key are copied.
 * reliable: the transport is TCP/TLS/SCTP (no retransmissions, §17.1.1.2).
 * user is the caller's per-transaction pointer (tsx_user()).
 * Returns 0, -EINVAL (ACK, no branch) or -ENOMEM. */
int tsx_client_create(struct tsx **out, const struct tsx_env *env, const struct sip_msg *req,
		      bool reliable, void *user);
/* The same for a request the caller built and knows: buf[0..len) with
 * branch in its top Via (a proxy's forwarded request, §16.6 step 8), so it
 * is not parsed again. The caller vouches that buf is a request of method
 * method_id / method with that branch. */
int tsx_client_create_raw(struct tsx **out, const struct tsx_env *env, const char *buf,
			  size_t len, enum sip_method method_id, struct str method, struct str branch,
			  bool reliable, void *user);
/* Send the request and start the timers (Calling / Trying). Insert the
 * transaction into its table first: responses may race the send. Returns
 * 0, -EINVAL if already started, or the send error (also reported through
 * on_transport_error, and the transaction is terminated). */
int tsx_client_start(struct tsx *t);
/* A response that matched t (tsx_table_find with tsx_key_response()). */
void tsx_client_response(struct tsx *t, const struct sip_msg *resp);
/* The transport accepted the request but failed to deliver it later: a
 * connection that was refused, timed out, or failed its TLS handshake
 * before carrying it (§17.1.4). In Calling or Trying the TU hears of it
 * through on_transport_error (it acts as on a 503, §8.1.3.1) and the
 * transaction ends; in any later state, or for a server transaction,
 * nothing happens. The caller holds tsx_lock() when workers share t. */
void tsx_client_transport_failed(struct tsx *t, int err);

/* ---- server transactions (§17.2) ---- */

/* Create a server transaction for req (not ACK). An INVITE transaction
 * starts in Proceeding and sends 100 Trying after 200 ms unless the TU has
 * answered by then; trying (may be NULL) says how to build that 100 (§18.2.1
 * received/rport). Returns 0, -EINVAL or -ENOMEM. */
int tsx_server_create(struct tsx **out, const struct tsx_env *env, const struct sip_msg *req,
		      bool reliable, const struct sip_resp_opts *trying, void *user);
/* Send a response from the TU (code is its status). The transaction keeps a
 * copy to retransmit. Returns 0, -EINVAL (code out of range), -EALREADY
 * (no response allowed in this state), -ENOMEM, or the send error (also
 * reported through on_transport_error). */
int tsx_server_respond(struct tsx *t, uint16_t code, const char *buf, size_t len);
/* A request that matched t: a retransmission or an ACK. Returns 0 when the
 * transaction absorbed it, 1 when the TU must handle it (an ACK in Accepted,
 * RFC 6026 §8.7). */
int tsx_server_request(struct tsx *t, const struct sip_msg *req);

/* ---- environments with a timing wheel ---- */

/* Arm / stop tm on w (tm->env.wt); when due, the transaction's timer fires
 * with its lock held. For the timer_start / timer_stop of a tsx_env. */
void tsx_wheel_start(struct wheel *w, struct tsx_timer *tm, uint32_t ms);
void tsx_wheel_stop(struct wheel *w, struct tsx_timer *tm);

/* ---- common ---- */

/* The environment calls this when tm is due (with tsx_lock() held when
 * several workers share transactions). A stopped timer is ignored. */
void tsx_timer_fire(struct tsx_timer *tm);
/* Terminate now (TU abort, shutdown): stops the timers, leaves the table,
 * calls on_terminated. Harmless when already terminated. */
void tsx_terminate(struct tsx *t);

void tsx_ref(struct tsx *t);
/* Drop a reference; the last one frees the transaction. */
void tsx_unref(struct tsx *t);
void tsx_lock(struct tsx *t);
void tsx_unlock(struct tsx *t);

enum tsx_kind tsx_kind(const struct tsx *t);
enum tsx_state tsx_state(const struct tsx *t);
const char *tsx_state_name(enum tsx_state s);
const struct tsx_key *tsx_key(const struct tsx *t);
/* A client transaction's request, as it is sent. Empty once a final
 * response has been passed up: Accepted and Completed no longer send it. */
struct str tsx_client_request(const struct tsx *t);
void *tsx_user(const struct tsx *t);
/* Status of the last response sent (server) or received (client), 0 if none. */
uint16_t tsx_last_code(const struct tsx *t);
/* The retransmission and end timers, for environments and tests. */
const struct tsx_timer *tsx_timer_retx(const struct tsx *t);
const struct tsx_timer *tsx_timer_end(const struct tsx *t);

#endif
