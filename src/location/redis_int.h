/* The redis backend's internals (redis_cfg.c, redis_codec.c, redis.c,
 * redis_load.c, redis_sub.c).
 *
 * Layout: `<prefix>:aor:<aor>` is a hash, field = contact URI, value = the
 * binding serialized by redis_codec.c; its TTL is at least the latest
 * expires of its fields, so abandoned AoRs vanish by themselves. Every
 * change is also published on `<prefix>:changes`, tagged with the origin id
 * of the loc that made it, for the other servers' subscribers. */
#ifndef SIPHON_LOCATION_REDIS_INT_H
#define SIPHON_LOCATION_REDIS_INT_H

#include "location/loc_int.h"

#include <hiredis/hiredis.h>

/* Connect and command timeout: nothing waits on Redis longer than this. */
#define LOC_REDIS_TIMEOUT_MS 2000

/* redis_cfg.c: what both threads need, read-only once made. */
struct loc_redis_cfg {
	char *name;      /* the address as configured, for logs */
	char *host;      /* TCP host, or NULL with path */
	char *path;      /* unix socket */
	int port;
	char *password;  /* NULL: no AUTH */
	char *keyp;      /* "<prefix>:aor:": an AoR's key is this + the AoR */
	size_t keyp_len;
	char *pattern;   /* SCAN MATCH pattern: the glob-escaped prefix + ":aor:*" */
	char *channel;   /* "<prefix>:changes" */
	uint64_t origin; /* random per loc: a subscriber skips its own changes */
};

/* From cfg (defaults filled in). Returns 0, -EINVAL (bad address) or
 * -ENOMEM. */
int loc_redis_cfg_new(struct loc_redis_cfg **out, const struct loc_cfg *cfg);
void loc_redis_cfg_free(struct loc_redis_cfg *rc);

#define LOC_REDIS_RUN_ID 41 /* INFO's run_id: 40 hex digits, NUL */

/* A blocking connection with LOC_REDIS_TIMEOUT_MS on connect and every
 * command, authenticated if configured, to a Redis 7.0 or later (EXPIREAT
 * NX/GT). run_id (may be NULL) gets the server process's run_id ("" when
 * it does not say). Returns 0 or -EIO with a reason in why[0..len). */
int loc_redis_connect(const struct loc_redis_cfg *rc, redisContext **out,
		      char run_id[LOC_REDIS_RUN_ID], char *why, size_t len);

/* redis_codec.c: a binding as text, unambiguous for arbitrary bytes:
 *   "1 <expires> <updated> <cseq> <reg_id> <q> " then aor, contact, call_id,
 *   path, instance, received, user_agent as "<len>:<bytes>", space-separated
 * ("1" is the format version; expires comes first so the purge script can
 * read it with one pattern). A published change is
 *   "<origin: 16 hex digits> S <binding>"                 save
 *   "<origin> D <len>:<aor> <len>:<contact>"              remove one
 *   "<origin> A <len>:<aor>"                              remove all */
#define LOC_REDIS_HDR_LEN 19

/* Upper bound of loc_redis_bind_enc()'s output. */
size_t loc_redis_bind_max(const struct loc_binding *b);
/* Write b to out; returns the length. */
size_t loc_redis_bind_enc(char *out, const struct loc_binding *b);
/* Parse; the binding's slices point into p. 0 or -EINVAL. */
int loc_redis_bind_dec(const char *p, size_t len, struct loc_binding *b);
/* "<origin> <kind> " (LOC_REDIS_HDR_LEN bytes). */
size_t loc_redis_hdr_enc(char *out, uint64_t origin, char kind);
/* "<len>:<bytes>": at most 21 + s.len bytes. */
size_t loc_redis_str_enc(char *out, struct str s);

struct loc_redis_msg {
	uint64_t origin;
	char kind;              /* 'S', 'D', 'A' */
	struct loc_binding b;   /* S */
	struct str aor, contact; /* D, A (contact empty) */
};

/* Parse a published change; slices point into p. 0 or -EINVAL. */
int loc_redis_msg_dec(const char *p, size_t len, struct loc_redis_msg *m);

/* redis.c: the writer's store. Connects from the writer thread at its first
 * batch and again after any failure. Returns 0 or -ENOMEM. */
int loc_redis_store_new(struct loc_store **out, const struct loc_redis_cfg *rc);

/* redis_load.c: resynchronise x with every binding in Redis unexpired at
 * now, over a connection of its own. Gives up when *stop turns true.
 * Returns 0, -ENOMEM, -EIO or -ECANCELED. */
struct loc_resync {
	uint64_t done;  /* in: the writer's done_seq before anything was read */
	uint64_t gen;   /* in: this load's mark (loc_index_sync) */
	char run_id[LOC_REDIS_RUN_ID]; /* in: the server the last load read
					* ("": none); out: this one */
	bool exact;     /* out: same server as last time, so removals applied */
	size_t loaded;  /* out: bindings read */
};
int loc_redis_load(const struct loc_redis_cfg *rc, struct loc_index *x, struct loc_resync *rs,
		   const atomic_bool *stop);

/* redis_sub.c: the subscriber thread. Start connects, subscribes, loads
 * every binding (load_s: how long that took) and only then returns.
 * Returns 0, -EIO (Redis unreachable or refusing), -ENOMEM. */
struct loc_sub;
int loc_sub_start(struct loc_sub **out, const struct loc_redis_cfg *rc, struct loc_index *x,
		  struct loc_writer *w, double *load_s);
/* Stop the thread (promptly: at most one connect timeout) and free. */
void loc_sub_stop(struct loc_sub *s);

#endif
