/* Location service: AoR -> contact bindings (RFC 3261 §10) over backends.
 *
 * Every backend keeps a hash index in memory (striped locks: any worker may
 * look up or save). `LOC_SQLITE` also writes each change through to a SQLite
 * database (WAL, synchronous=FULL) from a writer thread that commits
 * everything queued as one transaction (group commit); a change's callback
 * runs only once that transaction is durable, so the registrar's 200 OK never
 * announces a binding a crash could lose. On start the index is rebuilt from
 * the database. `LOC_MEMORY` is the index alone.
 *
 * `LOC_REDIS` shares one set of bindings between several servers through a
 * Redis server (7.0 or later): the writer thread applies each batch there
 * (one pipelined MULTI/EXEC; a callback runs once Redis acknowledged the
 * change, or with -EIO if it failed) and publishes it; a subscriber thread
 * applies the other servers' changes to this index within milliseconds.
 * Lookups never wait for Redis. On start, and whenever the subscriber had
 * to reconnect, everything in Redis is loaded again; if Redis is the same
 * process as before, bindings it no longer has leave the index too (they
 * were removed elsewhere meanwhile), but after a Redis restart, which may
 * have lost data, this server keeps what it holds. Across servers the last
 * writer wins.
 *
 * Callbacks run from loc_poll(), on the thread that calls it: register
 * loc_fd() with an event loop (cfg.loop does that for you) or poll it. */
#ifndef SIPHON_LOCATION_LOC_H
#define SIPHON_LOCATION_LOC_H

#include "base/str.h"

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct loc;
struct loop;

enum loc_backend { LOC_MEMORY = 0, LOC_SQLITE, LOC_REDIS };

/* "memory", "sqlite", "redis" -> out; -EINVAL for anything else. */
int loc_backend_parse(const char *name, enum loc_backend *out);
/* The name loc_backend_parse() accepts, or "?". */
const char *loc_backend_name(enum loc_backend b);

/* One binding. On input (loc_save) the slices are borrowed and copied; on
 * output (loc_lookup, loc_foreach) they point into a shared immutable record
 * that stays valid until loc_release(). Strings are stored as given: the
 * registrar canonicalises the AoR and decides contact equality. */
struct loc_binding {
	struct str aor;        /* canonical AoR, the index key */
	struct str contact;    /* Contact URI (RFC 3261 §10.3 step 7) */
	struct str call_id;    /* Call-ID + CSeq order refreshes (§10.3 step 7) */
	struct str path;       /* Path header values, comma-joined (RFC 3327 §5.3) */
	struct str instance;   /* +sip.instance (RFC 5626 §4.1), empty if none */
	struct str received;   /* source "udp:192.0.2.1:5060" (RFC 3581, RFC 5626 §5) */
	struct str user_agent;
	time_t expires;        /* absolute, seconds since the epoch */
	time_t updated;        /* last update; 0 on save means time(NULL) */
	uint32_t cseq;
	uint32_t reg_id;       /* RFC 5626 reg-id, 0 if none */
	uint16_t q;            /* per-mille, 0..1000 (q=0.5 -> 500) */
	void *ref_;            /* private: the record held by an output binding */
};

struct loc_cfg {
	enum loc_backend backend;
	const char *db_path;          /* LOC_SQLITE: database file (created if missing) */
	/* LOC_REDIS: "127.0.0.1:6379", "[::1]:6379" or "unix:/path/redis.sock"
	 * (NULL: 127.0.0.1:6379); keys and channel live under redis_prefix
	 * (NULL: "siphon"); redis_password (NULL: no AUTH). */
	const char *redis_addr;
	const char *redis_prefix;
	const char *redis_password;
	struct loop *loop;            /* optional: watch loc_fd() and run the purge timer */
	unsigned expire_interval_s;   /* purge period with cfg.loop; 0 = 10 s */
};

struct loc_stats {
	uint64_t bindings;   /* in the index now */
	uint64_t commits;    /* transactions committed by the writer */
	uint64_t ops;        /* changes committed */
	uint64_t max_batch;  /* most changes in one transaction */
	double rebuild_s;    /* time loc_create() spent loading the index */
	uint64_t failures;   /* batches the store refused (database error, Redis down) */
	int last_err;        /* the latest batch's error (negated errno); 0: it was applied */
	uint64_t pending;    /* changes queued for the store, not yet applied */
};

/* err: 0 once the change is durable (sqlite), acknowledged by Redis (redis)
 * or applied (memory), or a negative errno (-EIO: the transaction failed or
 * Redis was unreachable or too slow; the index keeps the change, with redis
 * until a reload from the same Redis server finds it missing). */
typedef void (*loc_done_cb)(int err, void *arg);

/* Create; with LOC_SQLITE open (or create) the database, load every unexpired
 * binding into the index and start the writer. With LOC_REDIS connect, load
 * every unexpired binding from Redis and start the writer and subscriber.
 * With cfg->loop, call from that loop's thread. Returns 0, -ENOMEM, -EINVAL,
 * or -EIO (database error, Redis unreachable or refusing). */
int loc_create(struct loc **out, const struct loc_cfg *cfg);
/* Commit what is queued, run every pending callback, stop and free. */
void loc_destroy(struct loc *l);

/* Completion queues. A change made through a queue has its callback run by
 * loc_queue_poll() on the thread that owns the queue (each siphond worker
 * has one, so the registrar's answer leaves from the worker that owns the
 * transaction). Changes made without one complete on loc's own queue
 * (loc_fd/loc_poll). */
struct loc_queue;
/* Returns 0, -ENOMEM or -errno (eventfd). */
int loc_queue_create(struct loc *l, struct loc_queue **out);
/* Wait until every change made through q is done, run their callbacks on
 * the calling thread, and free q. Before loc_destroy(l). */
void loc_queue_destroy(struct loc_queue *q);
/* Readable when callbacks are ready; then call loc_queue_poll(). */
int loc_queue_fd(const struct loc_queue *q);
/* Run the callbacks of q's completed changes; returns how many ran. */
int loc_queue_poll(struct loc_queue *q);

/* Readable when callbacks are ready; then call loc_poll(). */
int loc_fd(const struct loc *l);
/* Run the callbacks of completed changes; returns how many ran. */
int loc_poll(struct loc *l);

/* Add or refresh a binding: it replaces the one with the same contact, or
 * with the same instance-id and reg-id (RFC 5626 §6: a new flow for that
 * instance). The index changes at once; cb (may be NULL) follows once the
 * change is durable. Returns 0 (cb will run) or -ENOMEM/-EINVAL (it won't). */
int loc_save(struct loc *l, const struct loc_binding *b, loc_done_cb cb, void *arg);
/* Remove one binding, or every binding of aor (Contact: *, §10.3 step 6). */
int loc_remove(struct loc *l, struct str aor, struct str contact, loc_done_cb cb, void *arg);
int loc_remove_all(struct loc *l, struct str aor, loc_done_cb cb, void *arg);
/* The same, with cb run from q (NULL: loc's own queue). */
int loc_save_q(struct loc *l, struct loc_queue *q, const struct loc_binding *b, loc_done_cb cb,
	       void *arg);
int loc_remove_q(struct loc *l, struct loc_queue *q, struct str aor, struct str contact,
		 loc_done_cb cb, void *arg);
int loc_remove_all_q(struct loc *l, struct loc_queue *q, struct str aor, loc_done_cb cb,
		     void *arg);

/* Serialise a read-check-write of one AoR's bindings between threads of
 * this process (the registrar's §10.3 steps 6-7: look up, check CSeq and
 * limits, then save): lookups and changes work inside; keep it short, and
 * never poll a completion queue inside. Servers sharing Redis are not
 * serialised with each other (the last writer wins). */
void loc_aor_lock(struct loc *l, struct str aor);
void loc_aor_unlock(struct loc *l, struct str aor);

/* Fill out[0..max) with aor's bindings unexpired at now, q descending, then
 * most recently updated first. Returns how many were filled; each holds a
 * reference: loc_release() them. */
size_t loc_lookup(struct loc *l, struct str aor, struct loc_binding *out, size_t max, time_t now);
void loc_release(struct loc_binding *b, size_t n);

/* Bindings in the index (expired ones included until purged). */
size_t loc_count(struct loc *l);
/* Drop bindings with expires <= now from the index and (via the writer, no
 * callback) the database or Redis (there a bounded slice of the keys per
 * call). Returns how many left the index. */
size_t loc_expire(struct loc *l, time_t now);

/* Visit every binding (for dumps), one index stripe locked at a time: fn must
 * not call back into l. Stops at and returns fn's first nonzero result. */
int loc_foreach(struct loc *l, int (*fn)(const struct loc_binding *b, void *arg), void *arg);

void loc_get_stats(struct loc *l, struct loc_stats *st);

#endif
