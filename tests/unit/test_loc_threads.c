/* Location service under concurrency (meant for TSan too): two threads save,
 * remove and look up overlapping AoRs while a third purges and iterates and
 * the main thread runs the callbacks, on both backends. */
#include "harness.h"

#include "base/mem.h"
#include "location/loc.h"

#include <poll.h>
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		SIPHON_TEST(test_memory),
		SIPHON_TEST(test_sqlite),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
