/* Location service internals shared by rec.c, index.c, db.c, writer.c, loc.c
 * and the redis*.c files. */
#ifndef SIPHON_LOCATION_LOC_INT_H
#define SIPHON_LOCATION_LOC_INT_H

#include "location/loc.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

/* rec.c: an immutable, reference-counted binding; its strings follow it in
 * the same allocation, so readers hold it without copying. */
struct loc_rec {
	atomic_uint ref;
	struct loc_binding b; /* b.ref_ == this record */
	char data[];
};

/* Copy b (one allocation, ref = 1). NULL on -ENOMEM. */
struct loc_rec *loc_rec_new(const struct loc_binding *b);
static inline void loc_rec_get(struct loc_rec *r)
{
	atomic_fetch_add_explicit(&r->ref, 1, memory_order_relaxed);
}
void loc_rec_put(struct loc_rec *r);

/* index.c: hash AoR -> node holding that AoR's records, in stripes that each
 * own their buckets and a rwlock (growth stays local to a stripe). */
struct loc_aor {
	struct loc_aor *next;
	uint64_t hash;
	uint64_t lseq; /* seq of the last local change queued for the writer */
	uint64_t gen;  /* redis: the resynchronisation that last confirmed it */
	uint32_t n, cap;
	struct loc_rec **recs; /* the key is recs[0]->b.aor: a node is never empty */
};

#define LOC_STRIPES 64

struct loc_stripe {
	pthread_rwlock_t lock;
	struct loc_aor **buckets;
	size_t nbuckets, nodes;
	uint64_t dseq; /* seq of the last local change that removed a node */
} __attribute__((aligned(64)));

struct loc_index {
	struct loc_stripe stripes[LOC_STRIPES];
	atomic_size_t count;
};

int loc_index_init(struct loc_index *x);
void loc_index_fini(struct loc_index *x);
uint64_t loc_hash(struct str s);
static inline struct loc_stripe *loc_index_stripe(struct loc_index *x, uint64_t h)
{
	return &x->stripes[h & (LOC_STRIPES - 1)];
}
/* The rest need the stripe of hash(aor) locked (write for changes). */
struct loc_aor *loc_index_find(struct loc_stripe *s, uint64_t h, struct str aor);
/* Insert r (taking over its reference) replacing the matching binding, whose
 * record goes to *old (or NULL). Returns 0 or -ENOMEM (nothing changed). */
int loc_index_put(struct loc_index *x, struct loc_stripe *s, uint64_t h, struct loc_rec *r,
		  struct loc_rec **old);
/* Drop one binding (or all of aor's when contact is NULL); returns how many. */
size_t loc_index_del(struct loc_index *x, struct loc_stripe *s, uint64_t h, struct str aor,
		     const struct str *contact);
/* Drop every record with expires <= now; returns how many. */
size_t loc_index_expire(struct loc_index *x, time_t now);
/* Record that local change seq (queued for the writer) touched aor. */
void loc_index_touch(struct loc_stripe *s, uint64_t h, struct str aor, uint64_t seq);
/* Resynchronisation from a shared store (these two lock for themselves).
 * sync: put recs[0..n) into aor's bindings (taking over their references;
 * with replace, they become all of its bindings) and mark it with gen,
 * unless a local change after `done` (the writer's done_seq before the
 * store was read) touched it: that one is newer.
 * sweep: drop AoRs that no sync of gen confirmed and no such change touched;
 * returns how many bindings left. */
int loc_index_sync(struct loc_index *x, struct str aor, struct loc_rec **recs, size_t n,
		   bool replace, uint64_t done, uint64_t gen);
size_t loc_index_sweep(struct loc_index *x, uint64_t gen, uint64_t done);

/* A queued change; the callback runs from loc_poll() once it is done. */
enum loc_op_kind { LOC_OP_SAVE, LOC_OP_DEL, LOC_OP_DEL_AOR, LOC_OP_EXPIRE };

struct loc_op {
	struct loc_op *next;
	enum loc_op_kind kind;
	int err;
	uint64_t seq;        /* queue order, given by loc_writer_push() */
	struct loc_rec *rec; /* SAVE: the new record */
	struct loc_rec *old; /* SAVE: the record it replaced, if any */
	struct str aor, contact; /* DEL, DEL_AOR: into data[] */
	time_t now;          /* EXPIRE */
	loc_done_cb cb;
	void *arg;
	struct loc_queue *q; /* where cb runs; NULL: freed once applied */
	char data[];
};

void loc_op_free(struct loc_op *op);

/* Where the writer thread applies batches, whichever backend it is (db.c,
 * redis.c). apply: the ops in order, as one transaction where the backend
 * has them; returns 0 or a negative errno for the whole batch, and may set
 * a single op's err (ops arrive with err 0). close: free it (NULL-safe via
 * loc_store_close). Used by one thread at a time. */
struct loc_store {
	int (*apply)(struct loc_store *st, struct loc_op *ops);
	void (*close)(struct loc_store *st);
};

static inline void loc_store_close(struct loc_store *st)
{
	if (st)
		st->close(st);
}

/* db.c: the SQLite side. One connection, used by one thread at a time. */
struct loc_db;
int loc_db_open(struct loc_db **out, const char *path);
void loc_db_close(struct loc_db *db);
/* Load every binding unexpired at now into x. */
int loc_db_load(struct loc_db *db, struct loc_index *x, time_t now);
/* The db as the writer's store (BEGIN ... COMMIT per batch; -EIO rolls back;
 * its close is loc_db_close). */
struct loc_store *loc_db_store(struct loc_db *db);

/* queue.c: completed ops wait in their queue for loc_queue_poll(), which
 * runs on the thread owning the queue; an eventfd says there are some. */
struct loc_queue {
	pthread_mutex_t lock;
	pthread_cond_t idle;          /* inflight reached 0 */
	struct loc_op *done, **dtail;
	unsigned inflight;            /* begun, not yet delivered */
	int efd;
};

int loc_queue_init(struct loc_queue *q);
void loc_queue_fini(struct loc_queue *q);
/* An op for q is on its way (counted until delivered). */
void loc_queue_begin(struct loc_queue *q);
/* Hand a finished op to its queue; any thread. */
void loc_queue_deliver(struct loc_queue *q, struct loc_op *op);
/* Wait until nothing is in flight for q, then run what is done. */
void loc_queue_drain(struct loc_queue *q);

/* writer.c: a change queue drained by a thread (sqlite, redis) that applies
 * each batch to the store and delivers every op to its completion queue. */
struct loc_writer {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct loc_op *head, **tail; /* queued for the thread */
	bool stop, has_thread;
	struct loc_store *store;
	pthread_t thread;
	uint64_t seq;                /* last seq given to an op */
	_Atomic uint64_t done_seq;   /* every op up to this seq was applied (or failed) */
	uint64_t commits, ops, max_batch;
	uint64_t failures;           /* batches the store refused */
	int last_err;                /* the latest batch's error; 0: it was applied */
};

/* thread.c: start a service thread with every signal blocked. Returns 0,
 * -ENOMEM or -errno. */
int loc_thread_start(pthread_t *t, void *(*fn)(void *), void *arg);

/* Start the thread with a store (it passes to the thread); none: memory. */
int loc_writer_init(struct loc_writer *w, struct loc_store *store);
/* Drain the queue and stop the thread (every op is delivered). */
void loc_writer_fini(struct loc_writer *w);
/* Queue op for the thread, or deliver it at once without a store.
 * op->q must have been counted with loc_queue_begin(). Returns the op's seq
 * (0 without a store): op may be gone by then. */
uint64_t loc_writer_push(struct loc_writer *w, struct loc_op *op);
void loc_writer_close(struct loc_writer *w);

#endif
