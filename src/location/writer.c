/* The writer: group commit. Callers queue changes; the thread takes all that
 * is queued, applies it to the store (SQLite: one transaction; Redis: one
 * pipelined MULTI/EXEC) and hands each change to its completion queue
 * (queue.c). While it commits, new changes pile up for the next batch, so
 * the fsync (or round trip) cost is shared under load. The writer does not
 * know which backend it drives (struct loc_store). */
#include "location/loc_int.h"

#include "base/log.h"

#include <errno.h>
#include <stdint.h>

/* Hand each op of a finished chain to its completion queue. */
static void deliver(struct loc_op *op)
{
	while (op) {
		struct loc_op *next = op->next;

		if (op->q)
			loc_queue_deliver(op->q, op);
		else
			loc_op_free(op);
		op = next;
	}
}

static void *writer_main(void *arg)
{
	struct loc_writer *w = arg;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		struct loc_op *batch;
		uint64_t n = 0, ok = 0, last = 0;
		int err;

		while (!w->head && !w->stop)
			pthread_cond_wait(&w->cond, &w->lock);
		if (!w->head)
			break; /* stopping and drained */
		batch = w->head;
		w->head = NULL;
		w->tail = &w->head;
		pthread_mutex_unlock(&w->lock);

		err = w->store->apply(w->store, batch);
		for (struct loc_op *op = batch; op; op = op->next) {
			if (err)
				op->err = err;
			ok += !op->err;
			last = op->seq;
			n++;
		}
		/* before delivery: a resynchronisation reading the store after
		 * this sees these changes there */
		atomic_store_explicit(&w->done_seq, last, memory_order_release);

		pthread_mutex_lock(&w->lock);
		w->commits += !err;
		w->failures += err != 0;
		w->last_err = err;
		w->ops += ok;
		if (n > w->max_batch)
			w->max_batch = n;
		pthread_mutex_unlock(&w->lock);
		deliver(batch);
		pthread_mutex_lock(&w->lock);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

int loc_writer_init(struct loc_writer *w, struct loc_store *store)
{
	int rc;

	w->head = NULL;
	w->tail = &w->head;
	w->stop = false;
	w->has_thread = false;
	w->store = store;
	w->seq = 0;
	atomic_init(&w->done_seq, 0);
	w->commits = w->ops = w->max_batch = 0;
	w->failures = 0;
	w->last_err = 0;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	if (!store)
		return 0;
	rc = loc_thread_start(&w->thread, writer_main, w);
	if (rc) {
		pthread_cond_destroy(&w->cond);
		pthread_mutex_destroy(&w->lock);
		return rc;
	}
	w->has_thread = true;
	return 0;
}

void loc_writer_fini(struct loc_writer *w)
{
	if (w->has_thread) {
		pthread_mutex_lock(&w->lock);
		w->stop = true;
		pthread_cond_signal(&w->cond);
		pthread_mutex_unlock(&w->lock);
		pthread_join(w->thread, NULL);
		w->has_thread = false;
	}
}

uint64_t loc_writer_push(struct loc_writer *w, struct loc_op *op)
{
	uint64_t seq;

	op->next = NULL;
	op->err = 0;
	if (!w->has_thread) { /* memory backend: nothing to wait for */
		deliver(op);
		return 0;
	}
	pthread_mutex_lock(&w->lock);
	seq = op->seq = ++w->seq; /* under the lock: seq order is queue order */
	if (!w->head)
		pthread_cond_signal(&w->cond);
	*w->tail = op;
	w->tail = &op->next;
	pthread_mutex_unlock(&w->lock);
	return seq;
}

void loc_writer_close(struct loc_writer *w)
{
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
}
