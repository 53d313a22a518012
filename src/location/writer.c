/* The writer: group commit. Callers queue changes; the thread takes all that
 * is queued, commits it as one transaction, and hands each change to its
 * completion queue (queue.c). While it commits, new changes pile up for the
 * next batch, so the fsync cost is shared under load. */
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
		uint64_t n = 0;
		int err;

		while (!w->head && !w->stop)
			pthread_cond_wait(&w->cond, &w->lock);
		if (!w->head)
			break; /* stopping and drained */
		batch = w->head;
		w->head = NULL;
		w->tail = &w->head;
		pthread_mutex_unlock(&w->lock);

		err = loc_db_apply(w->db, batch);
		for (struct loc_op *op = batch; op; op = op->next) {
			op->err = err;
			n++;
		}

		pthread_mutex_lock(&w->lock);
		w->commits += !err;
		if (!err)
			w->ops += n;
		if (n > w->max_batch)
			w->max_batch = n;
		pthread_mutex_unlock(&w->lock);
		deliver(batch);
		pthread_mutex_lock(&w->lock);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

int loc_writer_init(struct loc_writer *w, struct loc_db *db)
{
	int rc;

	w->head = NULL;
	w->tail = &w->head;
	w->stop = false;
	w->has_thread = false;
	w->db = db;
	w->commits = w->ops = w->max_batch = 0;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	if (!db)
		return 0;
	rc = pthread_create(&w->thread, NULL, writer_main, w);
	if (rc) {
		pthread_cond_destroy(&w->cond);
		pthread_mutex_destroy(&w->lock);
		return rc == EAGAIN ? -ENOMEM : -rc;
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

void loc_writer_push(struct loc_writer *w, struct loc_op *op)
{
	op->next = NULL;
	op->err = 0;
	if (!w->has_thread) { /* memory backend: nothing to wait for */
		deliver(op);
		return;
	}
	pthread_mutex_lock(&w->lock);
	if (!w->head)
		pthread_cond_signal(&w->cond);
	*w->tail = op;
	w->tail = &op->next;
	pthread_mutex_unlock(&w->lock);
}

void loc_writer_close(struct loc_writer *w)
{
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
}
