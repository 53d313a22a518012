/* Transaction table: hash chains keyed by struct tsx_key in N stripes, each
 * with its own mutex and its own bucket array (stripe = hash mod N), so
 * workers rarely contend; a stripe grows its bucket array under its own lock
 * as it fills. Insert, find and remove are O(1) on average. A find returns a
 * referenced transaction: it stays valid after the stripe lock is released
 * until the caller's tsx_unref(). Transactions leave the table when they
 * terminate (their timers expire), or by tsx_table_remove().
 *
 * Memory per transaction (x86-64, measured by test_tsx_table): one block of
 * sizeof(struct tsx) = 400 bytes plus the environment's user area and the
 * key's copied slices (branch + method, ~20-40 bytes; + sent-by host for
 * server ones; RFC 2543 keys add Request-URI, Call-ID, tags and top Via).
 * The message is a second block: the request (client, typically 500-1000
 * bytes) or the last response (server; an INVITE one starts with head + 256
 * bytes for its 100 Trying). It is freed when the state reached no longer
 * sends it (client: any final response; server INVITE: Accepted, or
 * Confirmed), so the long waits (RFC 6026 Accepted, 32 s; Completed) hold
 * about 0.5-0.8 KiB, the server non-INVITE one its final response more. A
 * client INVITE that gets a non-2xx keeps its ACK (~300 bytes). The table
 * adds 2-8 bytes (intrusive chains, one bucket pointer per 0.5-2
 * transactions). */
#ifndef SIPHON_TSX_TABLE_H
#define SIPHON_TSX_TABLE_H

#include "msg/msg.h"
#include "tsx/key.h"
#include "tsx/tsx.h"

#include <stddef.h>

struct tsx_table;

#define TSX_TABLE_BUCKETS_DEFAULT 4096u
#define TSX_TABLE_STRIPES_DEFAULT 64u

/* buckets (the initial total) and stripes: powers of two, stripes <=
 * buckets; 0 for defaults.
 * Returns 0, -EINVAL or -ENOMEM. */
int tsx_table_create(struct tsx_table **out, unsigned buckets, unsigned stripes);
/* Drops the table's reference on every transaction still in it (no
 * callbacks). No other thread may use the table any more. */
void tsx_table_destroy(struct tsx_table *tb);

/* Insert t (the table takes a reference). Returns 0, -EEXIST when a
 * transaction with the same key is there, or -EBUSY if t is in a table. */
int tsx_table_insert(struct tsx_table *tb, struct tsx *t);
/* Remove t and drop the table's reference. Returns 0 or -ENOENT. */
int tsx_table_remove(struct tsx_table *tb, struct tsx *t);

/* The live transaction k names, with a reference the caller must drop, or
 * NULL. An ACK key finds an INVITE server transaction only in Completed or
 * Confirmed (an ACK for a 2xx goes to the TU, RFC 6026 §8.7). */
struct tsx *tsx_table_find(struct tsx_table *tb, const struct tsx_key *k);
/* Server transaction of a request (§17.2.3), client transaction of a
 * response (§17.1.3), INVITE server transaction a CANCEL cancels (§9.2). */
struct tsx *tsx_table_match_request(struct tsx_table *tb, const struct sip_msg *req);
struct tsx *tsx_table_match_response(struct tsx_table *tb, const struct sip_msg *resp);
struct tsx *tsx_table_find_cancelled(struct tsx_table *tb, const struct sip_msg *cancel);

/* Transactions in the table (a snapshot). */
size_t tsx_table_count(struct tsx_table *tb);

#endif
