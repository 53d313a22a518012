#include "transport/xq.h"

#include "base/log.h"
#include "base/loop.h"
#include "base/mem.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* Entries handed over per wake-up before other fds get their turn. */
#define XQ_BATCH 256u
/* A slot's first buffer; grown by doubling up to XQ_MSG_MAX. */
#define XQ_SLOT_MIN 2048u

/* A slot is free for the producer claiming position pos when seq == pos,
 * full for the consumer at pos when seq == pos + 1; the consumer frees it
 * for the next lap with seq = pos + cap. Whoever holds a slot owns buf. */
struct xq_slot {
	atomic_size_t seq;
	uint64_t id;
	size_t len, cap;
	char *buf;
};

struct xq {
	struct xq_slot *slots;
	size_t mask;
	_Alignas(64) atomic_size_t head; /* next position to claim (producers) */
	_Alignas(64) size_t tail;        /* next position to read (consumer) */
	atomic_int armed;                /* 1: the eventfd has been written */
	int efd;
	struct loop *loop;
	xq_cb cb;
	void *arg;
};

int xq_create(struct xq **out, unsigned cap)
{
	struct xq *q;

	if (!cap)
		cap = XQ_CAP_DEFAULT;
	if (cap < 2 || cap > (1u << 20) || (cap & (cap - 1)))
		return -EINVAL;
	q = mem_zalloc(sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->slots = mem_zalloc(cap * sizeof(*q->slots));
	if (!q->slots) {
		mem_free(q);
		return -ENOMEM;
	}
	q->mask = cap - 1;
	for (size_t i = 0; i < cap; i++)
		atomic_init(&q->slots[i].seq, i);
	atomic_init(&q->head, 0);
	atomic_init(&q->armed, 0);
	q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (q->efd < 0) {
		int err = -errno;

		mem_free(q->slots);
		mem_free(q);
		return err;
	}
	*out = q;
	return 0;
}

void xq_destroy(struct xq *q)
{
	if (!q)
		return;
	xq_detach(q);
	for (size_t i = 0; i <= q->mask; i++)
		mem_free(q->slots[i].buf);
	close(q->efd);
	mem_free(q->slots);
	mem_free(q);
}

int xq_fd(const struct xq *q)
{
	return q->efd;
}

unsigned xq_count(const struct xq *q)
{
	size_t head = atomic_load_explicit(&((struct xq *)q)->head, memory_order_relaxed);
	size_t n = 0;

	/* count published slots from the consumer's position (approximate
	 * while producers are running) */
	for (size_t pos = head - (q->mask + 1) < head ? head - (q->mask + 1) : 0; pos < head; pos++)
		if (atomic_load_explicit(&q->slots[pos & q->mask].seq, memory_order_acquire) ==
		    pos + 1)
			n++;
	return (unsigned)n;
}

/* Make room in a slot this thread holds; false when memory is short. */
static bool slot_fit(struct xq_slot *s, size_t len)
{
	size_t cap;
	char *b;

	if (s->cap >= len)
		return true;
	cap = s->cap ? s->cap : XQ_SLOT_MIN;
	while (cap < len)
		cap *= 2;
	b = mem_realloc(s->buf, cap);
	if (!b)
		return false;
	s->buf = b;
	s->cap = cap;
	return true;
}

static void wake(struct xq *q)
{
	uint64_t one = 1;

	/* Pairs with the fence in on_wake(): either the consumer sees our entry
	 * after clearing armed, or we see armed == 0 and write the eventfd. */
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_exchange(&q->armed, 1) == 0)
		while (write(q->efd, &one, sizeof(one)) < 0 && errno == EINTR)
			;
}

int xq_push(struct xq *q, uint64_t id, const void *buf, size_t len)
{
	size_t pos = atomic_load_explicit(&q->head, memory_order_relaxed);
	struct xq_slot *s;
	bool ok;

	if (!len || len > XQ_MSG_MAX)
		return -EMSGSIZE;
	for (;;) {
		size_t seq;
		intptr_t dif;

		s = &q->slots[pos & q->mask];
		seq = atomic_load_explicit(&s->seq, memory_order_acquire);
		dif = (intptr_t)seq - (intptr_t)pos;
		if (dif == 0) {
			if (atomic_compare_exchange_weak_explicit(&q->head, &pos, pos + 1,
								  memory_order_relaxed,
								  memory_order_relaxed))
				break;
		} else if (dif < 0) {
			return -ENOBUFS; /* the consumer has not freed this slot yet */
		} else {
			pos = atomic_load_explicit(&q->head, memory_order_relaxed);
		}
	}
	/* the slot is ours: a claimed slot must be published, so a failure to
	 * grow publishes an empty entry the consumer skips */
	ok = slot_fit(s, len);
	s->id = id;
	s->len = ok ? len : 0;
	if (ok)
		memcpy(s->buf, buf, len);
	atomic_store_explicit(&s->seq, pos + 1, memory_order_release);
	wake(q);
	return ok ? 0 : -ENOMEM;
}

unsigned xq_drain(struct xq *q, unsigned max, xq_cb cb, void *arg)
{
	unsigned n = 0;

	while (n < max) {
		size_t pos = q->tail;
		struct xq_slot *s = &q->slots[pos & q->mask];

		if (atomic_load_explicit(&s->seq, memory_order_acquire) != pos + 1)
			break; /* empty, or the next producer has not finished */
		q->tail = pos + 1;
		if (s->len) {
			cb(s->id, s->buf, s->len, arg);
			n++;
		}
		atomic_store_explicit(&s->seq, pos + q->mask + 1, memory_order_release);
	}
	return n;
}

static void on_wake(int fd, unsigned events, void *arg)
{
	struct xq *q = arg;
	uint64_t v;

	(void)events;
	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_debug("xq", "eventfd read: %s", strerror(errno));
	atomic_store(&q->armed, 0);
	atomic_thread_fence(memory_order_seq_cst);
	if (xq_drain(q, XQ_BATCH, q->cb, q->arg) == XQ_BATCH)
		wake(q); /* more may be waiting: come back after the other fds */
}

int xq_attach(struct xq *q, struct loop *l, xq_cb cb, void *arg)
{
	int err;

	q->cb = cb;
	q->arg = arg;
	err = loop_fd_add(l, q->efd, LOOP_READ, on_wake, q);
	if (err < 0)
		return err;
	q->loop = l;
	return 0;
}

void xq_detach(struct xq *q)
{
	if (!q->loop)
		return;
	loop_fd_del(q->loop, q->efd);
	q->loop = NULL;
}
