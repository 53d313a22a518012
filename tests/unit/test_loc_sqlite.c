/* Location service, sqlite backend: bindings survive destroy + reopen with
 * every field, removals and purges reach the database, many saves share few
 * transactions (group commit), and a child killed with SIGKILL at random
 * moments never loses a binding whose callback had fired. */
#include "harness.h"

#include "base/log.h"
#include "base/mem.h"
#include "location/loc.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[64];
static char db_path[128];

static int setup(void **state)
{
	strcpy(dir, "/tmp/siphon-loc-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(db_path, sizeof(db_path), "%s/loc.db", dir);
	return harness_setup(state);
}

static void rm_db(void)
{
	char p[160];

	unlink(db_path);
	snprintf(p, sizeof(p), "%s-wal", db_path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", db_path);
	unlink(p);
}

static int teardown(void **state)
{
	rm_db();
	rmdir(dir);
	return harness_teardown(state);
}

#define LOC_TEST(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

static struct loc *open_loc(void)
{
	struct loc_cfg cfg = { .backend = LOC_SQLITE, .db_path = db_path };
	struct loc *l = NULL;

	assert_int_equal(loc_create(&l, &cfg), 0);
	return l;
}

static int done_count, done_err;

static void on_done(int err, void *arg)
{
	(void)arg;
	done_count++;
	if (err)
		done_err = err;
}

static void wait_done(struct loc *l, int target)
{
	while (done_count < target) {
		struct pollfd p = { .fd = loc_fd(l), .events = POLLIN };

		assert_int_equal(poll(&p, 1, 10000), 1);
		loc_poll(l);
	}
	assert_int_equal(done_err, 0);
}

static struct loc_binding bind(char *aor, size_t aorcap, char *contact, size_t ccap, int i,
			       time_t expires)
{
	snprintf(aor, aorcap, "sip:user%d@example.com", i);
	snprintf(contact, ccap, "sip:user%d@192.0.2.%d:5060;transport=tcp", i, i % 250);
	return (struct loc_binding){
		.aor = str_cstr(aor),
		.contact = str_cstr(contact),
		.call_id = STR_LIT("a84b4c76e66710@pc33.atlanta.com"),
		.cseq = (uint32_t)i,
		.q = (uint16_t)(i % 1001),
		.expires = expires,
		.updated = 1700000000 + i,
		.path = STR_LIT("<sip:p1.example.com;lr>,<sip:p2.example.com;lr>"),
		.instance = STR_LIT("<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>"),
		.reg_id = (uint32_t)i + 1,
		.received = STR_LIT("tcp:198.51.100.4:40712"),
		.user_agent = STR_LIT("Siphon/test"),
	};
}

static void test_durable_reopen(void **state)
{
	time_t exp = time(NULL) + 3600;
	char aor[64], contact[96];
	struct loc_binding out[2];
	struct loc *l = open_loc();
	const int n = 300;

	(void)state;
	done_count = done_err = 0;
	for (int i = 0; i < n; i++) {
		struct loc_binding b = bind(aor, sizeof(aor), contact, sizeof(contact), i, exp);

		assert_int_equal(loc_save(l, &b, on_done, NULL), 0);
	}
	wait_done(l, n);
	loc_destroy(l);

	l = open_loc();
	assert_int_equal(loc_count(l), n);
	for (int i = 0; i < n; i++) {
		struct loc_binding b = bind(aor, sizeof(aor), contact, sizeof(contact), i, exp);

		assert_int_equal(loc_lookup(l, b.aor, out, 2, exp - 1), 1);
		assert_true(str_eq(out[0].contact, b.contact));
		assert_true(str_eq(out[0].call_id, b.call_id));
		assert_true(str_eq(out[0].path, b.path));
		assert_true(str_eq(out[0].instance, b.instance));
		assert_true(str_eq(out[0].received, b.received));
		assert_true(str_eq(out[0].user_agent, b.user_agent));
		assert_int_equal(out[0].cseq, b.cseq);
		assert_int_equal(out[0].q, b.q);
		assert_int_equal(out[0].reg_id, b.reg_id);
		assert_int_equal(out[0].expires, exp);
		assert_int_equal(out[0].updated, b.updated);
		loc_release(out, 1);
	}
	loc_destroy(l);
}

/* Changes still queued when loc_destroy() runs are committed, and their
 * callbacks run, before it returns. */
static void test_destroy_flushes(void **state)
{
	time_t exp = time(NULL) + 3600;
	char aor[64], contact[96];
	struct loc *l = open_loc();

	(void)state;
	done_count = done_err = 0;
	for (int i = 0; i < 100; i++) {
		struct loc_binding b = bind(aor, sizeof(aor), contact, sizeof(contact), i, exp);

		assert_int_equal(loc_save(l, &b, on_done, NULL), 0);
	}
	loc_destroy(l);
	assert_int_equal(done_count, 100);
	l = open_loc();
	assert_int_equal(loc_count(l), 100);
	loc_destroy(l);
}

static void test_group_commit(void **state)
{
	time_t exp = time(NULL) + 3600;
	char aor[64], contact[96];
	struct loc_stats st;
	struct loc *l = open_loc();
	const int n = 5000;

	(void)state;
	done_count = done_err = 0;
	for (int i = 0; i < n; i++) {
		struct loc_binding b = bind(aor, sizeof(aor), contact, sizeof(contact), i, exp);

		assert_int_equal(loc_save(l, &b, on_done, NULL), 0);
	}
	wait_done(l, n);
	loc_get_stats(l, &st);
	print_message("group commit: %d saves in %llu transactions (largest %llu)\n", n,
		      (unsigned long long)st.commits, (unsigned long long)st.max_batch);
	assert_int_equal(st.ops, n);
	assert_true(st.commits * 20 <= (uint64_t)n);
	assert_true(st.max_batch > 1);
	loc_destroy(l);
}

static int64_t rows(const char *where)
{
	char q[256];
	sqlite3 *h;
	sqlite3_stmt *st;
	int64_t n = -1;

	snprintf(q, sizeof(q), "SELECT count(*) FROM location %s", where);
	assert_int_equal(sqlite3_open(db_path, &h), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, q, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return n;
}

static void test_remove_replace_expire(void **state)
{
	time_t now = time(NULL);
	char aor[64], contact[96];
	struct loc *l = open_loc();
	struct loc_binding b;

	(void)state;
	done_count = done_err = 0;
	for (int i = 0; i < 10; i++) {
		b = bind(aor, sizeof(aor), contact, sizeof(contact), i, now + (i < 5 ? 100 : 3600));
		assert_int_equal(loc_save(l, &b, on_done, NULL), 0);
	}
	/* user0: a second contact, then remove the first */
	b = bind(aor, sizeof(aor), contact, sizeof(contact), 0, now + 3600);
	b.contact = STR_LIT("sip:second@192.0.2.99");
	b.reg_id = 77;
	assert_int_equal(loc_save(l, &b, on_done, NULL), 0);
	b.contact = str_cstr(contact);
	assert_int_equal(loc_remove(l, b.aor, b.contact, on_done, NULL), 0);
	/* user1: same instance + reg-id from a new contact replaces the row */
	b = bind(aor, sizeof(aor), contact, sizeof(contact), 1, now + 3600);
	b.contact = STR_LIT("sip:moved@203.0.113.1");
	assert_int_equal(loc_save(l, &b, on_done, NULL), 0);
	/* user9: Contact: * */
	assert_int_equal(loc_remove_all(l, STR_LIT("sip:user9@example.com"), on_done, NULL), 0);
	wait_done(l, 14);
	assert_int_equal(loc_count(l), 9);
	assert_int_equal(rows(""), 9);
	assert_int_equal(rows("WHERE aor = 'sip:user0@example.com'"), 1);
	assert_int_equal(rows("WHERE contact = 'sip:second@192.0.2.99'"), 1);
	assert_int_equal(rows("WHERE aor = 'sip:user1@example.com'"), 1);
	assert_int_equal(rows("WHERE contact = 'sip:moved@203.0.113.1'"), 1);
	assert_int_equal(rows("WHERE aor = 'sip:user9@example.com'"), 0);

	/* purge: users 2, 3, 4 expire (0 and 1 were refreshed) */
	assert_int_equal(loc_expire(l, now + 200), 3);
	assert_int_equal(loc_count(l), 6);
	loc_destroy(l); /* commits the queued purge */
	assert_int_equal(rows(""), 6);
	assert_int_equal(rows("WHERE expires <= strftime('%s','now') + 200"), 0);
	l = open_loc();
	assert_int_equal(loc_count(l), 6);
	loc_destroy(l);
}

static void test_bad_path(void **state)
{
	struct loc_cfg cfg = { .backend = LOC_SQLITE, .db_path = "/nonexistent/dir/loc.db" };
	struct loc *l;

	(void)state;
	assert_int_equal(loc_create(&l, &cfg), -EIO);
	cfg.db_path = NULL;
	assert_int_equal(loc_create(&l, &cfg), -EINVAL);
}

/* Every allocation failing in turn: create (and reload what the previous
 * round stored), save, remove, destroy; nothing leaks, errors are -ENOMEM. */
static int alloc_scenario(void *ctx)
{
	struct loc_cfg cfg = { .backend = LOC_SQLITE, .db_path = db_path };
	time_t exp = time(NULL) + 3600;
	char aor[64], contact[96];
	struct loc *l;
	int rc;

	(void)ctx;
	rc = loc_create(&l, &cfg);
	if (rc)
		return rc;
	for (int i = 0; i < 4 && !rc; i++) {
		struct loc_binding b = bind(aor, sizeof(aor), contact, sizeof(contact), i, exp);

		rc = loc_save(l, &b, on_done, NULL);
	}
	if (!rc)
		rc = loc_remove(l, STR_LIT("sip:user0@example.com"), STR_LIT("sip:x@h"), on_done,
				NULL);
	if (!rc)
		rc = loc_remove_all(l, STR_LIT("sip:user3@example.com"), on_done, NULL);
	loc_destroy(l);
	return rc;
}

static void test_alloc_fail(void **state)
{
	(void)state;
	log_set_level(LOG_WARN);
	assert_true(harness_alloc_fail_loop(alloc_scenario, NULL) > 0);
	log_set_level(LOG_INFO);
}

/* Crash test: the child saves bindings and reports each one on the pipe
 * from its callback, i.e. once it is durable; SIGKILL lands at a random
 * moment; every reported binding must be in the database. */
static int ack_fd;

static void on_ack(int err, void *arg)
{
	int i = (int)(intptr_t)arg;

	if (err || write(ack_fd, &i, sizeof(i)) != sizeof(i))
		_exit(3);
}

static void crash_child(int fd)
{
	struct loc_cfg cfg = { .backend = LOC_SQLITE, .db_path = db_path };
	time_t exp = time(NULL) + 3600;
	char aor[64], contact[96];
	struct loc *l;
	int inflight = 0;

	ack_fd = fd;
	if (loc_create(&l, &cfg))
		_exit(2);
	for (int i = 0;; i++) {
		struct loc_binding b = bind(aor, sizeof(aor), contact, sizeof(contact), i, exp);
		struct pollfd p = { .fd = loc_fd(l), .events = POLLIN };

		if (loc_save(l, &b, on_ack, (void *)(intptr_t)i))
			_exit(2);
		inflight++;
		if (poll(&p, 1, inflight >= 64 ? 1000 : 0) == 1)
			inflight -= loc_poll(l);
	}
}

static void test_crash_kill9(void **state)
{
	(void)state;
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	for (int round = 0; round < 5; round++) {
		int p[2], i, nack = 0, max_ack = -1;
		useconds_t delay = 20000 + (useconds_t)(rand() % 300000);
		struct loc_binding out[1];
		char aor[64];
		static int acked[1 << 20];
		struct loc *l;
		pid_t pid;

		rm_db();
		assert_int_equal(pipe(p), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(p[0]);
			crash_child(p[1]);
		}
		close(p[1]);
		usleep(delay);
		assert_int_equal(kill(pid, SIGKILL), 0);
		assert_int_equal(waitpid(pid, &i, 0), pid);
		assert_true(WIFSIGNALED(i) && WTERMSIG(i) == SIGKILL);
		while (read(p[0], &i, sizeof(i)) == sizeof(i) && nack < (1 << 20)) {
			acked[nack++] = i;
			if (i > max_ack)
				max_ack = i;
		}
		close(p[0]);

		l = open_loc();
		for (int k = 0; k < nack; k++) {
			snprintf(aor, sizeof(aor), "sip:user%d@example.com", acked[k]);
			if (loc_lookup(l, str_cstr(aor), out, 1, time(NULL)) != 1)
				fail_msg("acknowledged %s lost (round %d)", aor, round);
			loc_release(out, 1);
		}
		print_message("crash round %d: killed after %u ms, %d acknowledged, %zu in db\n",
			      round, delay / 1000, nack, loc_count(l));
		assert_true(loc_count(l) >= (size_t)nack);
		loc_destroy(l);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		LOC_TEST(test_durable_reopen),
		LOC_TEST(test_destroy_flushes),
		LOC_TEST(test_group_commit),
		LOC_TEST(test_remove_replace_expire),
		LOC_TEST(test_bad_path),
		LOC_TEST(test_alloc_fail),
		LOC_TEST(test_crash_kill9),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
