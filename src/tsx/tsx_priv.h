/* Inside of a transaction, shared by the state machines and the table. */
#ifndef SIPHON_TSX_TSX_PRIV_H
#define SIPHON_TSX_TSX_PRIV_H

#include "tsx/tsx.h"

#include <pthread.h>
#include <stdatomic.h>

struct tsx_table;

/* One allocation: this struct, the environment's user area, the key's
 * slices. The message is a block of its own, dropped once the state no longer
 * sends it: most of a transaction's life is the 32 s of RFC 6026's Accepted or
 * the Completed wait, which needs the key only. */
struct tsx {
	/* What a hash chain walk reads comes first, in one cache line: the
	 * link, the hash (a copy of key.hash) and the state. The table linkage
	 * is guarded by the stripe lock. */
	struct tsx *hnext, **hpprev;
	uint32_t hash;
	_Atomic uint8_t state;  /* enum tsx_state; read by table lookups */
	uint8_t kind;           /* enum tsx_kind */
	bool in_table;
	bool reliable;
	atomic_uint refs;
	bool provisional_sent;  /* server: the TU (or we) sent a 1xx */
	uint16_t last_code;
	uint32_t retx_ms;       /* current A / E / G interval */
	struct tsx_table *table;

	const struct tsx_env *env;
	const struct tsx_timers *tm;
	void *user;
	struct tsx_timer retx, end;
	struct tsx_key key;

	pthread_mutex_t lock;

	/* client: the request; server: the last response sent; own block,
	 * NULL once dropped (tsx_msg_drop) */
	char *msg;
	uint32_t msg_len, msg_cap; /* messages are below 64 KiB */
	/* client INVITE: the ACK for a non-2xx final (§17.1.1.3), own block */
	uint32_t ack_len;
	char *ack;
	/* server INVITE, 2543 key: To tag of the final sent, slice into msg */
	struct str resp_to_tag;

	_Alignas(16) char tail[]; /* user area, key, message */
};

/* Allocate a transaction with extra tail bytes, key copied. */
int tsx_alloc(struct tsx **out, const struct tsx_env *env, enum tsx_kind kind,
	      const struct tsx_key *key, size_t extra, bool reliable, void *user);
void tsx_set_state(struct tsx *t, enum tsx_state s);
/* Timers: arm (re-arming an armed one stops it first) and stop. */
void tsx_timer_arm(struct tsx *t, struct tsx_timer *tm, char name, uint32_t ms);
void tsx_timer_disarm(struct tsx *t, struct tsx_timer *tm);
/* Send; on error report it to the TU and terminate. Returns 0 or the error. */
int tsx_send(struct tsx *t, const char *buf, size_t len);
/* Terminate now (timers stopped, out of the table, on_terminated). */
void tsx_finish(struct tsx *t);
/* Enter a final state that lasts ms (0: terminate now). */
void tsx_linger(struct tsx *t, enum tsx_state s, char name, uint32_t ms);

/* per state machine */
int tsx_cinv_start(struct tsx *t);
void tsx_cinv_response(struct tsx *t, const struct sip_msg *m);
void tsx_cinv_timer(struct tsx *t, struct tsx_timer *tm);
int tsx_cnon_start(struct tsx *t);
void tsx_cnon_response(struct tsx *t, const struct sip_msg *m);
void tsx_cnon_timer(struct tsx *t, struct tsx_timer *tm);
int tsx_sinv_respond(struct tsx *t, uint16_t code, const char *buf, size_t len);
int tsx_sinv_request(struct tsx *t, const struct sip_msg *m);
void tsx_sinv_timer(struct tsx *t, struct tsx_timer *tm);
int tsx_snon_respond(struct tsx *t, uint16_t code, const char *buf, size_t len);
int tsx_snon_request(struct tsx *t, const struct sip_msg *m);
void tsx_snon_timer(struct tsx *t, struct tsx_timer *tm);

/* server: keep a copy of the response to retransmit (grows msg if needed) */
int tsx_server_store(struct tsx *t, const char *buf, size_t len);
/* Free the message: the state reached will not send it again. */
void tsx_msg_drop(struct tsx *t);

/* table.c: unlink t if it is in a table (drops the table's reference). */
void tsx_table_unlink(struct tsx *t);

#endif
