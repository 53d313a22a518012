/* The writer: group commit. Callers queue changes; the thread takes all that
 * is queued, commits it as one transaction, and moves the batch to the done
 * list, waking loc_poll() through an eventfd. While it commits, new changes
 * pile up for the next batch, so the fsync cost is shared under load. */
#include "location/loc_int.h"

#include "base/log.h"

#include <errno.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

static void wake(struct loc_writer *w)
{
	uint64_t one = 1;

	/* only fails when the counter would overflow: it is readable anyway */
	if (write(w->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_err("loc", "eventfd write: %d", errno);
}

/* Append a chain to the done list; called with w->lock held. */
static void done_append(struct loc_writer *w, struct loc_op *first, struct loc_op **last_next)
{
	*w->dtail = first;
	w->dtail = last_next;
}

static void *writer_main(void *arg)
{
	struct loc_writer *w = arg;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		struct loc_op *batch, **tail;
		uint64_t n = 0;
		int err;

		while (!w->head && !w->stop)
			pthread_cond_wait(&w->cond, &w->lock);
		if (!w->head)
			break; /* stopping and drained */
		batch = w->head;
		tail = w->tail;
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
		done_append(w, batch, tail);
		wake(w);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

int loc_writer_init(struct loc_writer *w, struct loc_db *db)
{
	int rc;

	w->head = NULL;
	w->tail = &w->head;
	w->done = NULL;
	w->dtail = &w->done;
	w->stop = false;
	w->has_thread = false;
	w->db = db;
	w->commits = w->ops = w->max_batch = 0;
	w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->efd < 0)
		return -errno;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	if (!db)
		return 0;
	rc = pthread_create(&w->thread, NULL, writer_main, w);
	if (rc) {
		pthread_cond_destroy(&w->cond);
		pthread_mutex_destroy(&w->lock);
		close(w->efd);
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
	pthread_mutex_lock(&w->lock);
	if (w->has_thread) {
		bool was_empty = !w->head;

		*w->tail = op;
		w->tail = &op->next;
		if (was_empty)
			pthread_cond_signal(&w->cond);
	} else {
		bool was_empty = !w->done;

		done_append(w, op, &op->next);
		if (was_empty)
			wake(w);
	}
	pthread_mutex_unlock(&w->lock);
}

int loc_writer_poll(struct loc_writer *w)
{
	struct loc_op *list, *next;
	uint64_t v;
	int n = 0;

	if (read(w->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_err("loc", "eventfd read: %d", errno);
	pthread_mutex_lock(&w->lock);
	list = w->done;
	w->done = NULL;
	w->dtail = &w->done;
	pthread_mutex_unlock(&w->lock);
	for (; list; list = next) {
		next = list->next;
		if (list->cb)
			list->cb(list->err, list->arg);
		loc_op_free(list);
		n++;
	}
	return n;
}

void loc_writer_close(struct loc_writer *w)
{
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	close(w->efd);
}
