/* Location service under concurrency (meant for TSan too): two threads save,
 * remove and look up overlapping AoRs while a third purges and iterates and
 * the main thread runs the callbacks, on both backends; and loc_aor_lock()
 * keeping a per-AoR limit through the registrar's lookup-check-save. */
#include "harness.h"

#include "base/mem.h"
#include "location/loc.h"

#include <poll.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ITER 3000
#define AORS 64

static struct loc *l;
static atomic_int acked, workers_left, bad;
static const time_t T0 = 1700000000;

static void on_done(int err, void *arg)
{
	(void)arg;
	if (err)
		atomic_fetch_add(&bad, 1);
	atomic_fetch_add(&acked, 1);
}

static void *worker(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;
	struct loc_binding out[8];
	char aor[48], contact[64];
	int ops = 0;

	for (int i = 0; i < ITER; i++) {
		int a = rand_r(&seed) % AORS, c = rand_r(&seed) % 6, what = rand_r(&seed) % 10;
		size_t n;

		snprintf(aor, sizeof(aor), "sip:u%d@example.com", a);
		snprintf(contact, sizeof(contact), "sip:u%d-%d@192.0.2.1", a, c);
		if (what < 5) {
			struct loc_binding b = {
				.aor = str_cstr(aor),
				.contact = str_cstr(contact),
				.call_id = STR_LIT("cid"),
				.q = (uint16_t)(c * 100),
				.expires = T0 + 10 + rand_r(&seed) % 100,
				.updated = T0,
			};
			if (loc_save(l, &b, on_done, NULL) == 0)
				ops++;
		} else if (what == 5) {
			if (loc_remove(l, str_cstr(aor), str_cstr(contact), on_done, NULL) == 0)
				ops++;
		} else {
			n = loc_lookup(l, str_cstr(aor), out, 8, T0 + 50);
			for (size_t k = 0; k < n; k++) {
				if (!str_eq(out[k].aor, str_cstr(aor)) || out[k].expires <= T0 + 50 ||
				    (k && out[k].q > out[k - 1].q))
					atomic_fetch_add(&bad, 1);
			}
			loc_release(out, n);
		}
	}
	atomic_fetch_sub(&workers_left, 1);
	return (void *)(intptr_t)ops;
}

static int count_fn(const struct loc_binding *b, void *arg)
{
	if (b->aor.len == 0)
		atomic_fetch_add(&bad, 1);
	(*(size_t *)arg)++;
	return 0;
}

static void *purger(void *arg)
{
	(void)arg;
	while (atomic_load(&workers_left)) {
		size_t n = 0;

		loc_expire(l, T0 + 30);
		loc_foreach(l, count_fn, &n);
		usleep(1000);
	}
	return NULL;
}

static void run(const struct loc_cfg *cfg)
{
	pthread_t t[3];
	void *ops[2];
	long total;

	atomic_store(&acked, 0);
	atomic_store(&bad, 0);
	atomic_store(&workers_left, 2);
	assert_int_equal(loc_create(&l, cfg), 0);
	assert_int_equal(pthread_create(&t[0], NULL, worker, (void *)1), 0);
	assert_int_equal(pthread_create(&t[1], NULL, worker, (void *)2), 0);
	assert_int_equal(pthread_create(&t[2], NULL, purger, NULL), 0);
	while (atomic_load(&workers_left)) {
		struct pollfd p = { .fd = loc_fd(l), .events = POLLIN };

		if (poll(&p, 1, 10) == 1)
			loc_poll(l);
	}
	for (int i = 0; i < 3; i++)
		assert_int_equal(pthread_join(t[i], i < 2 ? &ops[i] : NULL), 0);
	total = (long)(intptr_t)ops[0] + (long)(intptr_t)ops[1];
	loc_destroy(l); /* runs what is left */
	assert_int_equal(atomic_load(&acked), total);
	assert_int_equal(atomic_load(&bad), 0);
}

static void test_memory(void **state)
{
	struct loc_cfg cfg = { .backend = LOC_MEMORY };

	(void)state;
	run(&cfg);
}

static void test_sqlite(void **state)
{
	char dir[] = "/tmp/siphon-loct-XXXXXX", path[64], p2[80];
	struct loc_cfg cfg = { .backend = LOC_SQLITE, .db_path = path };

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/loc.db", dir);
	run(&cfg);
	unlink(path);
	snprintf(p2, sizeof(p2), "%s-wal", path);
	unlink(p2);
	snprintf(p2, sizeof(p2), "%s-shm", path);
	unlink(p2);
	rmdir(dir);
}

/* ---- loc_aor_lock(): the registrar's lookup, check, save (§10.3 steps
 * 6-7) as one step per AoR. LOCK_THREADS threads each add or refresh a
 * random contact of one of LOCK_AORS AoRs only while it has fewer than
 * LOCK_MAX other bindings (else replace one), all under the AoR's lock;
 * another thread looks up without it. Nobody may ever see more than
 * LOCK_MAX bindings (without the lock, two threads that both saw
 * LOCK_MAX - 1 both add). */
#define LOCK_THREADS 4
#define LOCK_ITER 4000
#define LOCK_AORS 3
#define LOCK_MAX 2

static atomic_int over, lockers_left;

static void *locker(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;
	struct loc_binding out[16];
	char aor[48], contact[64];
	int ops = 0;

	for (int i = 0; i < LOCK_ITER; i++) {
		int a = rand_r(&seed) % LOCK_AORS, c = rand_r(&seed) % 8;
		struct str key;
		bool have = false;
		size_t n, live;

		snprintf(aor, sizeof(aor), "sip:l%d@example.com", a);
		snprintf(contact, sizeof(contact), "sip:l%d-%d@192.0.2.1", a, c);
		key = str_cstr(aor);
		loc_aor_lock(l, key);
		n = live = loc_lookup(l, key, out, 16, T0);
		if (n > LOCK_MAX)
			atomic_fetch_add(&over, 1);
		for (size_t k = 0; k < n; k++)
			have |= str_eq(out[k].contact, str_cstr(contact));
		/* at the limit, make room first (as evict_oldest does), so
		 * that the count keeps moving */
		if (!have && live >= LOCK_MAX &&
		    loc_remove(l, key, out[rand_r(&seed) % n].contact, on_done, NULL) == 0) {
			ops++;
			live--;
		}
		if (have || live < LOCK_MAX) {
			struct loc_binding b = {
				.aor = key,
				.contact = str_cstr(contact),
				.call_id = STR_LIT("cid"),
				.expires = T0 + 1000,
				.updated = T0,
				.cseq = (uint32_t)i,
			};

			if (loc_save(l, &b, on_done, NULL) == 0)
				ops++;
		}
		loc_release(out, n);
		loc_aor_unlock(l, key);
	}
	atomic_fetch_sub(&lockers_left, 1);
	return (void *)(intptr_t)ops;
}

static void *lock_watcher(void *arg)
{
	struct loc_binding out[16];
	char aor[48];
	unsigned seed = 7;

	(void)arg;
	while (atomic_load(&lockers_left)) {
		size_t n;

		snprintf(aor, sizeof(aor), "sip:l%d@example.com", rand_r(&seed) % LOCK_AORS);
		n = loc_lookup(l, str_cstr(aor), out, 16, T0);
		if (n > LOCK_MAX)
			atomic_fetch_add(&over, 1);
		loc_release(out, n);
	}
	return NULL;
}

static void run_locked(const struct loc_cfg *cfg)
{
	pthread_t t[LOCK_THREADS + 1];
	long total = 0;

	atomic_store(&acked, 0);
	atomic_store(&bad, 0);
	atomic_store(&over, 0);
	atomic_store(&lockers_left, LOCK_THREADS);
	assert_int_equal(loc_create(&l, cfg), 0);
	for (int i = 0; i < LOCK_THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, locker, (void *)(uintptr_t)(i + 1)),
				 0);
	assert_int_equal(pthread_create(&t[LOCK_THREADS], NULL, lock_watcher, NULL), 0);
	while (atomic_load(&lockers_left)) {
		struct pollfd p = { .fd = loc_fd(l), .events = POLLIN };

		if (poll(&p, 1, 10) == 1)
			loc_poll(l);
	}
	for (int i = 0; i <= LOCK_THREADS; i++) {
		void *ops;

		assert_int_equal(pthread_join(t[i], &ops), 0);
		total += (long)(intptr_t)ops;
	}
	for (int a = 0; a < LOCK_AORS; a++) {
		struct loc_binding out[16];
		char aor[48];
		size_t n;

		snprintf(aor, sizeof(aor), "sip:l%d@example.com", a);
		n = loc_lookup(l, str_cstr(aor), out, 16, T0);
		assert_true(n <= LOCK_MAX);
		loc_release(out, n);
	}
	loc_destroy(l);
	assert_int_equal(atomic_load(&acked), total);
	assert_int_equal(atomic_load(&bad), 0);
	assert_int_equal(atomic_load(&over), 0);
}

static void test_aor_lock_memory(void **state)
{
	struct loc_cfg cfg = { .backend = LOC_MEMORY };

	(void)state;
	run_locked(&cfg);
}

static void test_aor_lock_sqlite(void **state)
{
	char dir[] = "/tmp/siphon-loct-XXXXXX", path[64], p2[80];
	struct loc_cfg cfg = { .backend = LOC_SQLITE, .db_path = path };

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/loc.db", dir);
	run_locked(&cfg);
	unlink(path);
	snprintf(p2, sizeof(p2), "%s-wal", path);
	unlink(p2);
	snprintf(p2, sizeof(p2), "%s-shm", path);
	unlink(p2);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		SIPHON_TEST(test_memory),
		SIPHON_TEST(test_sqlite),
		SIPHON_TEST(test_aor_lock_memory),
		SIPHON_TEST(test_aor_lock_sqlite),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
