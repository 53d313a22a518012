/* Completion queues: where the callbacks of finished changes wait until the
 * thread that owns the queue polls it. Each siphond worker has its own, so a
 * REGISTER's 200 OK is sent by the worker that owns its transaction, and the
 * writer thread never runs callers' code. */
#include "location/loc_int.h"

#include "base/log.h"
#include "base/mem.h"

#include <errno.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

int loc_queue_init(struct loc_queue *q)
{
	q->done = NULL;
	q->dtail = &q->done;
	q->inflight = 0;
	q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (q->efd < 0)
		return -errno;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->idle, NULL);
	return 0;
}

void loc_queue_fini(struct loc_queue *q)
{
	pthread_cond_destroy(&q->idle);
	pthread_mutex_destroy(&q->lock);
	close(q->efd);
}

void loc_queue_begin(struct loc_queue *q)
{
	pthread_mutex_lock(&q->lock);
	q->inflight++;
	pthread_mutex_unlock(&q->lock);
}

void loc_queue_deliver(struct loc_queue *q, struct loc_op *op)
{
	uint64_t one = 1;
	bool was_empty;

	op->next = NULL;
	pthread_mutex_lock(&q->lock);
	was_empty = !q->done;
	*q->dtail = op;
	q->dtail = &op->next;
	if (--q->inflight == 0)
		pthread_cond_broadcast(&q->idle);
	/* only fails when the counter would overflow: it is readable anyway */
	if (was_empty && write(q->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_err("loc", "eventfd write: %d", errno);
	pthread_mutex_unlock(&q->lock);
}

int loc_queue_poll(struct loc_queue *q)
{
	struct loc_op *list, *next;
	uint64_t v;
	int n = 0;

	if (read(q->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_err("loc", "eventfd read: %d", errno);
	pthread_mutex_lock(&q->lock);
	list = q->done;
	q->done = NULL;
	q->dtail = &q->done;
	pthread_mutex_unlock(&q->lock);
	for (; list; list = next) {
		next = list->next;
		if (list->cb)
			list->cb(list->err, list->arg);
		loc_op_free(list);
		n++;
	}
	return n;
}

int loc_queue_fd(const struct loc_queue *q)
{
	return q->efd;
}

void loc_queue_drain(struct loc_queue *q)
{
	pthread_mutex_lock(&q->lock);
	while (q->inflight)
		pthread_cond_wait(&q->idle, &q->lock);
	pthread_mutex_unlock(&q->lock);
	while (loc_queue_poll(q))
		;
}

int loc_queue_create(struct loc *l, struct loc_queue **out)
{
	struct loc_queue *q = mem_zalloc(sizeof(*q));
	int rc;

	(void)l;
	if (!q)
		return -ENOMEM;
	rc = loc_queue_init(q);
	if (rc) {
		mem_free(q);
		return rc;
	}
	*out = q;
	return 0;
}

void loc_queue_destroy(struct loc_queue *q)
{
	if (!q)
		return;
	loc_queue_drain(q);
	loc_queue_fini(q);
	mem_free(q);
}
