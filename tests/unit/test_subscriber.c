/* Subscriber store: add/del/list/lookup, HA1 equal to auth_ha1 for both
 * algorithms, no password bytes in the database files, persistence across
 * reopen, -EEXIST/-ENOENT, USER@DOMAIN checks, threads sharing one store,
 * and sub_open under allocation failure. */
#include "harness.h"

#include "auth/auth.h"
#include "base/mem.h"
#include "subscriber/sub.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define PASSWORD "Zq7-unlikely-passw0rd"

static char dir[64];
static char db_path[128];

static void rm_db(void)
{
	char p[160];

	unlink(db_path);
	snprintf(p, sizeof(p), "%s-wal", db_path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", db_path);
	unlink(p);
}

static int setup(void **state)
{
	strcpy(dir, "/tmp/siphon-sub-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(db_path, sizeof(db_path), "%s/" SUB_DB_FILE, dir);
	return harness_setup(state);
}

static int teardown(void **state)
{
	rm_db();
	rmdir(dir);
	return harness_teardown(state);
}

#define SUB_TEST(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

static struct sub *open_sub(void)
{
	struct sub *s = NULL;

	assert_int_equal(sub_open(&s, db_path), 0);
	assert_non_null(s);
	return s;
}

static void add(struct sub *s, const char *user, const char *domain, const char *pw)
{
	assert_int_equal(sub_add(s, str_cstr(user), str_cstr(domain), str_cstr(pw), false), 0);
}

static void expect_ha1(struct sub *s, const char *user, const char *domain, const char *pw)
{
	for (int a = AUTH_ALG_MD5; a <= AUTH_ALG_SHA256; a++) {
		uint8_t want[AUTH_HASH_MAX], got[AUTH_HASH_MAX];
		size_t len = 0;
		int n = auth_ha1((enum auth_alg)a, str_cstr(user), str_cstr(domain), str_cstr(pw),
				 want);

		assert_true(n > 0);
		assert_int_equal(sub_lookup(s, str_cstr(user), str_cstr(domain), (enum auth_alg)a,
					    got, &len),
				 0);
		assert_int_equal(len, (size_t)n);
		assert_int_equal(len, auth_alg_len((enum auth_alg)a));
		assert_memory_equal(got, want, len);
	}
}

static void test_add_lookup(void **state)
{
	struct sub *s = open_sub();
	uint8_t ha1[AUTH_HASH_MAX];
	size_t len = 0;

	(void)state;
	add(s, "alice", "example.com", PASSWORD);
	expect_ha1(s, "alice", "example.com", PASSWORD);
	/* realm = domain: another realm, another user, or a case change is unknown */
	assert_int_equal(sub_lookup(s, STR_LIT("alice"), STR_LIT("example.org"), AUTH_ALG_MD5,
				    ha1, &len),
			 -ENOENT);
	assert_int_equal(sub_lookup(s, STR_LIT("bob"), STR_LIT("example.com"), AUTH_ALG_SHA256,
				    ha1, &len),
			 -ENOENT);
	assert_int_equal(sub_lookup(s, STR_LIT("Alice"), STR_LIT("example.com"), AUTH_ALG_MD5,
				    ha1, &len),
			 -ENOENT);
	sub_close(s);
}

static void test_exists_replace(void **state)
{
	struct sub *s = open_sub();

	(void)state;
	add(s, "alice", "example.com", "first");
	assert_int_equal(sub_add(s, STR_LIT("alice"), STR_LIT("example.com"), STR_LIT("second"),
				 false),
			 -EEXIST);
	expect_ha1(s, "alice", "example.com", "first");
	assert_int_equal(sub_add(s, STR_LIT("alice"), STR_LIT("example.com"), STR_LIT("second"),
				 true),
			 0);
	expect_ha1(s, "alice", "example.com", "second");
	/* replace also creates */
	assert_int_equal(sub_add(s, STR_LIT("carol"), STR_LIT("example.com"), STR_LIT("x"), true),
			 0);
	expect_ha1(s, "carol", "example.com", "x");
	/* nothing empty */
	assert_int_equal(sub_add(s, STR_LIT(""), STR_LIT("example.com"), STR_LIT("x"), false),
			 -EINVAL);
	assert_int_equal(sub_add(s, STR_LIT("dave"), STR_LIT(""), STR_LIT("x"), false), -EINVAL);
	assert_int_equal(sub_add(s, STR_LIT("dave"), STR_LIT("example.com"), STR_LIT(""), false),
			 -EINVAL);
	sub_close(s);
}

static void test_del(void **state)
{
	struct sub *s = open_sub();
	uint8_t ha1[AUTH_HASH_MAX];
	size_t len = 0;

	(void)state;
	add(s, "alice", "example.com", PASSWORD);
	add(s, "alice", "example.org", PASSWORD);
	assert_int_equal(sub_del(s, STR_LIT("alice"), STR_LIT("example.com")), 0);
	assert_int_equal(sub_del(s, STR_LIT("alice"), STR_LIT("example.com")), -ENOENT);
	assert_int_equal(sub_del(s, STR_LIT("nobody"), STR_LIT("example.com")), -ENOENT);
	assert_int_equal(sub_lookup(s, STR_LIT("alice"), STR_LIT("example.com"), AUTH_ALG_MD5,
				    ha1, &len),
			 -ENOENT);
	expect_ha1(s, "alice", "example.org", PASSWORD);
	sub_close(s);
}

struct collect {
	char out[512];
	int n;
	int stop_at;
};

static int collect(void *arg, const struct sub_entry *e)
{
	struct collect *c = arg;
	size_t used = strlen(c->out);

	snprintf(c->out + used, sizeof(c->out) - used, "%.*s@%.*s:%s%s;", STR_FMT(e->user),
		 STR_FMT(e->domain), e->has_sha256 ? "S" : "", e->has_md5 ? "M" : "");
	assert_true(e->created > 0);
	return ++c->n == c->stop_at ? 42 : 0;
}

static void test_list(void **state)
{
	struct sub *s = open_sub();
	struct collect c = { .stop_at = -1 };
	struct str d = STR_LIT("b.example");

	(void)state;
	assert_int_equal(sub_list(s, NULL, collect, &c), 0);
	assert_int_equal(c.n, 0);
	add(s, "zed", "b.example", "p");
	add(s, "amy", "b.example", "p");
	add(s, "bob", "a.example", "p");
	assert_int_equal(sub_list(s, NULL, collect, &c), 0);
	assert_string_equal(c.out, "bob@a.example:SM;amy@b.example:SM;zed@b.example:SM;");
	memset(&c, 0, sizeof(c));
	c.stop_at = -1;
	assert_int_equal(sub_list(s, &d, collect, &c), 0);
	assert_string_equal(c.out, "amy@b.example:SM;zed@b.example:SM;");
	/* a non-zero callback value stops the walk and is returned */
	memset(&c, 0, sizeof(c));
	c.stop_at = 1;
	assert_int_equal(sub_list(s, NULL, collect, &c), 42);
	assert_int_equal(c.n, 1);
	sub_close(s);
}

static void test_persist(void **state)
{
	struct sub *s = open_sub();
	struct collect c = { .stop_at = -1 };

	(void)state;
	add(s, "alice", "example.com", PASSWORD);
	add(s, "bob", "192.0.2.1", PASSWORD);
	add(s, "eve", "[2001:db8::1]", PASSWORD);
	assert_int_equal(sub_del(s, STR_LIT("bob"), STR_LIT("192.0.2.1")), 0);
	sub_close(s);
	s = open_sub();
	expect_ha1(s, "alice", "example.com", PASSWORD);
	expect_ha1(s, "eve", "[2001:db8::1]", PASSWORD);
	assert_int_equal(sub_list(s, NULL, collect, &c), 0);
	assert_int_equal(c.n, 2);
	sub_close(s);
}

/* True when needle occurs in the bytes of file path (absent file: false). */
static bool file_contains(const char *path, const char *needle)
{
	FILE *f = fopen(path, "rb");
	size_t n = strlen(needle), len = 0, cap = 0;
	char *buf = NULL;
	bool found = false;

	if (!f)
		return false;
	for (;;) {
		if (len == cap) {
			cap = cap ? 2 * cap : 65536;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		size_t r = fread(buf + len, 1, cap - len, f);

		if (!r)
			break;
		len += r;
	}
	fclose(f);
	for (size_t i = 0; i + n <= len && !found; i++)
		found = memcmp(buf + i, needle, n) == 0;
	free(buf);
	return found;
}

static void test_no_password_on_disk(void **state)
{
	struct sub *s = open_sub();
	char p[160];

	(void)state;
	add(s, "alice", "example.com", PASSWORD);
	assert_int_equal(sub_add(s, STR_LIT("alice"), STR_LIT("example.com"),
				 STR_LIT(PASSWORD "-2"), true),
			 0);
	sub_close(s); /* checkpoints the WAL into the main file */
	assert_true(file_contains(db_path, "alice")); /* the check can see rows */
	assert_false(file_contains(db_path, PASSWORD));
	snprintf(p, sizeof(p), "%s-wal", db_path);
	assert_false(file_contains(p, PASSWORD));
	/* the same while a connection is open (rows still in the WAL) */
	s = open_sub();
	add(s, "bob", "example.com", PASSWORD);
	assert_false(file_contains(db_path, PASSWORD));
	assert_false(file_contains(p, PASSWORD));
	sub_close(s);
}

static void test_aor_parse(void **state)
{
	static const char *const good[] = {
		"alice@example.com", "a.b-c_d+e@sip.example.org", "1000@192.0.2.10",
		"bob@[2001:db8::1]", "x@localhost", "Alice@EXAMPLE.com",
	};
	static const char *const bad[] = {
		"", "alice", "@example.com", "alice@", "al ice@example.com",
		"alice@exa mple.com", "alice@example.com:5060", "a@b@example.com",
		"alice\t@example.com", "alice@ex\x01mple.com", "alice@2001:db8::1",
		"alice@-bad-.com", "alice@example.com;x", "alice@999.1.1.1",
	};
	struct str u, d;
	const char *why;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(sub_aor_parse(str_cstr(good[i]), &u, &d, &why), 0);
		assert_int_equal(u.len + 1 + d.len, strlen(good[i]));
	}
	assert_int_equal(sub_aor_parse(STR_LIT("bob@example.com"), &u, &d, &why), 0);
	assert_str(u, "bob");
	assert_str(d, "example.com");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		if (sub_aor_parse(str_cstr(bad[i]), &u, &d, &why) != -EINVAL)
			fail_msg("'%s' accepted", bad[i]);
		assert_non_null(why);
	}
}

struct worker_arg {
	struct sub *s;
	int errors;
};

static void *lookup_worker(void *p)
{
	struct worker_arg *w = p;
	uint8_t want[2][AUTH_HASH_MAX];

	auth_ha1(AUTH_ALG_MD5, STR_LIT("alice"), STR_LIT("example.com"), STR_LIT(PASSWORD),
		 want[0]);
	auth_ha1(AUTH_ALG_SHA256, STR_LIT("alice"), STR_LIT("example.com"), STR_LIT(PASSWORD),
		 want[1]);
	for (int i = 0; i < 500; i++) {
		enum auth_alg a = i & 1 ? AUTH_ALG_SHA256 : AUTH_ALG_MD5;
		uint8_t got[AUTH_HASH_MAX];
		size_t len = 0;

		if (sub_lookup(w->s, STR_LIT("alice"), STR_LIT("example.com"), a, got, &len) ||
		    len != auth_alg_len(a) || memcmp(got, want[i & 1], len))
			w->errors++;
		if (sub_lookup(w->s, STR_LIT("nobody"), STR_LIT("example.com"), a, got, &len) !=
		    -ENOENT)
			w->errors++;
	}
	return NULL;
}

static void test_lookup_threads(void **state)
{
	struct sub *s = open_sub();
	struct worker_arg w[4];
	pthread_t t[4];

	(void)state;
	add(s, "alice", "example.com", PASSWORD);
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker_arg){ .s = s };
		assert_int_equal(pthread_create(&t[i], NULL, lookup_worker, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(w[i].errors, 0);
	}
	sub_close(s);
}

static int open_once(void *ctx)
{
	struct sub *s = NULL;
	int err;

	(void)ctx;
	err = sub_open(&s, db_path);
	if (err)
		return err;
	add(s, "alice", "example.com", PASSWORD);
	expect_ha1(s, "alice", "example.com", PASSWORD);
	assert_int_equal(sub_del(s, STR_LIT("alice"), STR_LIT("example.com")), 0);
	sub_close(s);
	return 0;
}

/* Processes that open a new database at the same moment (siphonctl user
 * add run side by side): every one of them gets it, and every add lands.
 * Several rounds on fresh files, so that the first opens really race. */
static void test_first_open_processes(void **state)
{
	enum { PROCS = 12, ROUNDS = 6 };

	(void)state;
	for (int round = 0; round < ROUNDS; round++) {
		pid_t pid[PROCS];
		int failed = 0;

		rm_db();
		for (int i = 0; i < PROCS; i++) {
			pid[i] = fork();
			assert_true(pid[i] >= 0);
			if (pid[i] == 0) {
				struct sub *s = NULL;
				char user[32];
				int rc = sub_open(&s, db_path);

				snprintf(user, sizeof(user), "u%d", i);
				if (rc == 0)
					rc = sub_add(s, str_cstr(user), STR_LIT("example.com"),
						     STR_LIT("pw"), false);
				sub_close(s);
				_exit(rc == 0 ? 0 : 1);
			}
		}
		for (int i = 0; i < PROCS; i++) {
			int st = 0;

			assert_int_equal(waitpid(pid[i], &st, 0), pid[i]);
			failed += !WIFEXITED(st) || WEXITSTATUS(st) != 0;
		}
		assert_int_equal(failed, 0);
		{
			struct sub *s = open_sub();

			for (int i = 0; i < PROCS; i++) {
				char user[32];
				uint8_t ha1[AUTH_HASH_MAX];
				size_t len;

				snprintf(user, sizeof(user), "u%d", i);
				assert_int_equal(sub_lookup(s, str_cstr(user), STR_LIT("example.com"),
							    AUTH_ALG_MD5, ha1, &len), 0);
			}
			sub_close(s);
		}
	}
}

static void test_open_alloc_fail(void **state)
{
	struct sub *s = NULL;

	(void)state;
	assert_true(harness_alloc_fail_loop(open_once, NULL) >= 1);
	assert_int_equal(sub_open(&s, NULL), -EINVAL);
	assert_int_equal(sub_open(&s, ""), -EINVAL);
	assert_null(s);
	/* a directory that does not exist: an error, no leak */
	assert_int_equal(sub_open(&s, "/nonexistent-siphon-dir/x/" SUB_DB_FILE), -EIO);
	assert_null(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		SUB_TEST(test_add_lookup),
		SUB_TEST(test_exists_replace),
		SUB_TEST(test_del),
		SUB_TEST(test_list),
		SUB_TEST(test_persist),
		SUB_TEST(test_no_password_on_disk),
		SUB_TEST(test_aor_parse),
		SUB_TEST(test_lookup_threads),
		SUB_TEST(test_first_open_processes),
		SUB_TEST(test_open_alloc_fail),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
