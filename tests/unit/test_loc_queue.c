/* Location completion queues: a change made through a queue has its
 * callback run by that queue's poll on the thread that owns it, never by
 * another queue or by loc_poll(); loc_queue_destroy() waits for the changes
 * still in flight and runs their callbacks. Both backends; the threaded case
 * runs under TSan in CI. */
#include "harness.h"

#include "base/mem.h"
#include "location/loc.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];
static char db_path[128];

static int setup(void **state)
{
	strcpy(dir, "/tmp/siphon-locq-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(db_path, sizeof(db_path), "%s/loc.db", dir);
	return harness_setup(state);
}

static int teardown(void **state)
{
	char p[160];

	unlink(db_path);
	snprintf(p, sizeof(p), "%s-wal", db_path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", db_path);
	unlink(p);
	rmdir(dir);
	return harness_teardown(state);
}

struct done {
	pthread_t owner; /* the thread that must run the callback */
	atomic_int calls;
	atomic_int wrong_thread;
	int err;
};

static void on_done(int err, void *arg)
{
	struct done *d = arg;

	if (!pthread_equal(pthread_self(), d->owner))
		atomic_fetch_add(&d->wrong_thread, 1);
	d->err = err;
	atomic_fetch_add(&d->calls, 1);
}

static struct loc_binding binding(const char *aor, const char *contact)
{
	return (struct loc_binding){
		.aor = str_cstr(aor),
		.contact = str_cstr(contact),
		.call_id = STR_LIT("c1"),
		.expires = time(NULL) + 3600,
		.cseq = 1,
		.q = 1000,
	};
}

static void wait_readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	assert_int_equal(poll(&p, 1, 5000), 1);
}

static void run_two_queues(enum loc_backend backend)
{
	struct loc_cfg cfg = { .backend = backend, .db_path = db_path };
	struct loc_queue *q1 = NULL, *q2 = NULL;
	struct done d1 = { .owner = pthread_self() }, d2 = { .owner = pthread_self() };
	struct loc_binding b1 = binding("sip:a@x", "sip:a@1"), b2 = binding("sip:b@x", "sip:b@1");
	struct loc *l = NULL;

	assert_int_equal(loc_create(&l, &cfg), 0);
	assert_int_equal(loc_queue_create(l, &q1), 0);
	assert_int_equal(loc_queue_create(l, &q2), 0);
	assert_int_equal(loc_save_q(l, q1, &b1, on_done, &d1), 0);
	assert_int_equal(loc_save_q(l, q2, &b2, on_done, &d2), 0);
	/* q1's completion is signalled on q1's fd and run by q1's poll only */
	wait_readable(loc_queue_fd(q1));
	assert_int_equal(loc_poll(l), 0);
	assert_int_equal(loc_queue_poll(q1), 1);
	assert_int_equal(atomic_load(&d1.calls), 1);
	assert_int_equal(d1.err, 0);
	assert_int_equal(atomic_load(&d2.calls), 0);
	wait_readable(loc_queue_fd(q2));
	assert_int_equal(loc_queue_poll(q2), 1);
	assert_int_equal(atomic_load(&d2.calls), 1);
	/* removals too; destroy waits for what is in flight and runs it */
	assert_int_equal(loc_remove_q(l, q1, b1.aor, b1.contact, on_done, &d1), 0);
	assert_int_equal(loc_remove_all_q(l, q2, b2.aor, on_done, &d2), 0);
	loc_queue_destroy(q1);
	loc_queue_destroy(q2);
	assert_int_equal(atomic_load(&d1.calls), 2);
	assert_int_equal(atomic_load(&d2.calls), 2);
	assert_int_equal(loc_count(l), 0);
	loc_destroy(l);
}

static void test_two_queues_memory(void **state)
{
	(void)state;
	run_two_queues(LOC_MEMORY);
}

static void test_two_queues_sqlite(void **state)
{
	(void)state;
	run_two_queues(LOC_SQLITE);
}

/* Threads each with their own queue, saving and polling concurrently: every
 * callback runs once, on its own thread. */
#define NTHREADS 4
#define PER_THREAD 300

struct worker {
	struct loc *l;
	int idx;
	struct done d[PER_THREAD];
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct loc_queue *q = NULL;
	int finished = 0;

	if (loc_queue_create(w->l, &q))
		return NULL;
	for (int i = 0; i < PER_THREAD; i++) {
		char aor[64], contact[64];
		struct loc_binding b;

		snprintf(aor, sizeof(aor), "sip:u%d-%d@x", w->idx, i);
		snprintf(contact, sizeof(contact), "sip:u%d-%d@10.0.0.1", w->idx, i);
		b = binding(aor, contact);
		w->d[i].owner = pthread_self();
		if (loc_save_q(w->l, q, &b, on_done, &w->d[i]))
			break;
		if (i % 16 == 15)
			finished += loc_queue_poll(q);
	}
	(void)finished;
	loc_queue_destroy(q); /* the rest run here */
	return NULL;
}

static void test_threads(void **state)
{
	struct loc_cfg cfg = { .backend = LOC_SQLITE, .db_path = db_path };
	struct worker *w = calloc(NTHREADS, sizeof(*w));
	pthread_t t[NTHREADS];
	struct loc *l = NULL;

	(void)state;
	assert_non_null(w);
	assert_int_equal(loc_create(&l, &cfg), 0);
	for (int i = 0; i < NTHREADS; i++) {
		w[i].l = l;
		w[i].idx = i;
		assert_int_equal(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
	}
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < NTHREADS; i++)
		for (int j = 0; j < PER_THREAD; j++) {
			assert_int_equal(atomic_load(&w[i].d[j].calls), 1);
			assert_int_equal(atomic_load(&w[i].d[j].wrong_thread), 0);
			assert_int_equal(w[i].d[j].err, 0);
		}
	assert_int_equal(loc_count(l), NTHREADS * PER_THREAD);
	loc_destroy(l);
	free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_two_queues_memory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_queues_sqlite, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
