/* Cross-worker queue: a bounded multi-producer, single-consumer queue of
 * (connection id, bytes) plus an eventfd, so any thread can hand a write to
 * the worker that owns a stream connection (DESIGN.md, Transactions and
 * concurrency). Lock-free (per-slot sequence numbers, after D. Vyukov's
 * bounded queue); each slot keeps its byte buffer between uses and grows it
 * only for a larger message than it has carried before, so a steady flow
 * allocates nothing. The eventfd is written only when the consumer may be
 * asleep, not once per message. */
#ifndef SIPHON_TRANSPORT_XQ_H
#define SIPHON_TRANSPORT_XQ_H

#include <stddef.h>
#include <stdint.h>

struct loop;
struct xq;

#define XQ_CAP_DEFAULT 1024u
#define XQ_MSG_MAX 65536u /* largest message a slot accepts */

/* One queued write, handed to the consumer; buf is valid during the call. */
typedef void (*xq_cb)(uint64_t id, const char *buf, size_t len, void *arg);

/* cap: slots, a power of two from 2 to 1 << 20 (0: XQ_CAP_DEFAULT).
 * Returns 0, -EINVAL, -ENOMEM or the negated errno of eventfd(). */
int xq_create(struct xq **out, unsigned cap);
/* Detaches from the loop first if attached; what is still queued is dropped. */
void xq_destroy(struct xq *q);

/* Any thread: copy buf[0..len) into a free slot and wake the consumer.
 * Returns 0, -ENOBUFS (queue full: nothing queued), -EMSGSIZE (len is 0 or
 * above XQ_MSG_MAX) or -ENOMEM (the slot could not grow: nothing queued). */
int xq_push(struct xq *q, uint64_t id, const void *buf, size_t len);

/* Consumer thread only: hand up to max queued entries to cb, oldest first.
 * Returns how many were handed over. */
unsigned xq_drain(struct xq *q, unsigned max, xq_cb cb, void *arg);

/* Consumer side on an event loop: watch the eventfd on l and drain into cb
 * when woken (in batches, yielding to other fds in between). Returns 0 or a
 * loop_fd_add() error. Detach (or destroy) before destroying l. */
int xq_attach(struct xq *q, struct loop *l, xq_cb cb, void *arg);
void xq_detach(struct xq *q);

/* The eventfd (readable when woken); for consumers not using xq_attach. */
int xq_fd(const struct xq *q);
/* Entries queued right now (a snapshot; for tests and statistics). */
unsigned xq_count(const struct xq *q);

#endif
