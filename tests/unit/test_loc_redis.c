/* Location service, redis backend, against a real redis-server this test
 * starts itself (from PATH, on a free loopback port, killed by its pid):
 * a change at one loc shows at another within milliseconds with every
 * field, refreshes and removals follow, a loc started later loads it all
 * (expired bindings excepted), keys carry a TTL and loc_expire() purges
 * expired fields, a dead or hung Redis fails changes with -EIO without
 * hanging and a restarted one takes the next change, a reconnecting subscriber catches
 * up with what it missed, prefixes keep deployments apart, concurrent
 * writers converge, and allocation failures leak nothing. */
#include "harness.h"

#include "base/log.h"
#include "base/mem.h"
#include "location/loc.h"
#include "location/redis_int.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- the redis-server this process owns ---- */

static struct {
	pid_t pid;
	int port;
	char dir[64];
	char log[96];
} srv;

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A port the kernel just handed out (redis binds it a moment later; a
 * collision makes the start fail and retry with another). */
static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static redisContext *raw_connect(int timeout_ms)
{
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	redisContext *c = redisConnectWithTimeout("127.0.0.1", srv.port, tv);

	if (c && !c->err && redisSetTimeout(c, tv) == REDIS_OK)
		return c;
	if (c)
		redisFree(c);
	return NULL;
}

static bool answers_ping(void)
{
	redisContext *c = raw_connect(200);
	redisReply *r;
	bool ok;

	if (!c)
		return false;
	r = redisCommand(c, "PING");
	ok = r && r->type == REDIS_REPLY_STATUS && !strcmp(r->str, "PONG");
	freeReplyObject(r);
	redisFree(c);
	return ok;
}

/* Start redis-server on port (0: any free one); fails the test (never
 * skips) when there is no redis-server in PATH. */
static void srv_start(int port)
{
	for (int attempt = 0; attempt < 10; attempt++) {
		int p = port ? port : free_port(), st;
		char ps[16];
		pid_t pid;

		snprintf(ps, sizeof(ps), "%d", p);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			int fd = open(srv.log, O_WRONLY | O_CREAT | O_APPEND, 0600);

			prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the test */
			if (fd >= 0) {
				dup2(fd, 1);
				dup2(fd, 2);
			}
			execlp("redis-server", "redis-server", "--save", "", "--appendonly", "no",
			       "--port", ps, "--bind", "127.0.0.1", "--dir", srv.dir, (char *)NULL);
			_exit(127);
		}
		srv.port = p;
		for (int i = 0; i < 500; i++) {
			if (waitpid(pid, &st, WNOHANG) == pid) {
				if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
					fail_msg("redis-server not found in PATH (install redis-server)");
				pid = 0; /* the port was taken: try again */
				break;
			}
			if (answers_ping()) {
				srv.pid = pid;
				return;
			}
			usleep(10000);
		}
		if (pid) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
		}
		usleep(100000);
	}
	fail_msg("redis-server did not start (see %s)", srv.log);
}

static void srv_stop(void)
{
	if (srv.pid > 0) {
		kill(srv.pid, SIGKILL);
		waitpid(srv.pid, NULL, 0);
		srv.pid = 0;
	}
}

static int group_setup(void **state)
{
	(void)state;
	strcpy(srv.dir, "/tmp/siphon-redis-XXXXXX");
	if (!mkdtemp(srv.dir))
		return -1;
	snprintf(srv.log, sizeof(srv.log), "%s/redis.log", srv.dir);
	srv_start(0);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	srv_stop();
	unlink(srv.log);
	rmdir(srv.dir);
	return 0;
}

/* A command on a fresh connection of the test's own. */
static redisReply *raw(const char *fmt, ...)
{
	redisContext *c = raw_connect(2000);
	redisReply *r;
	va_list ap;

	assert_non_null(c);
	va_start(ap, fmt);
	r = redisvCommand(c, fmt, ap);
	va_end(ap);
	redisFree(c);
	assert_non_null(r);
	return r;
}

static long long raw_int(const char *fmt, const char *arg)
{
	redisReply *r = raw(fmt, arg);
	long long v;

	assert_int_equal(r->type, REDIS_REPLY_INTEGER);
	v = r->integer;
	freeReplyObject(r);
	return v;
}

/* ---- locs and their callbacks ---- */

static char prefix[64];

static void name_prefix(const char *test)
{
	snprintf(prefix, sizeof(prefix), "t%d-%s", (int)getpid(), test);
}

static int make_loc(struct loc **l, const char *pfx)
{
	char addr[32];
	struct loc_cfg cfg = { .backend = LOC_REDIS, .redis_addr = addr, .redis_prefix = pfx };

	snprintf(addr, sizeof(addr), "127.0.0.1:%d", srv.port);
	return loc_create(l, &cfg);
}

static struct loc *open_loc(const char *pfx)
{
	struct loc *l = NULL;

	assert_int_equal(make_loc(&l, pfx), 0);
	return l;
}

struct done {
	int n, err;
};

static void on_done(int err, void *arg)
{
	struct done *d = arg;

	d->n++;
	if (err)
		d->err = err;
}

static void wait_done(struct loc *l, struct done *d, int target)
{
	int64_t t0 = now_ms();

	while (d->n < target) {
		struct pollfd p = { .fd = loc_fd(l), .events = POLLIN };

		if (now_ms() - t0 > 10000)
			fail_msg("callbacks: %d of %d after 10 s", d->n, target);
		if (poll(&p, 1, 100) == 1)
			loc_poll(l);
	}
}

static void save_ok(struct loc *l, const struct loc_binding *b)
{
	struct done d = { 0 };

	assert_int_equal(loc_save(l, b, on_done, &d), 0);
	wait_done(l, &d, 1);
	assert_int_equal(d.err, 0);
}

static struct loc_binding full(const char *aor, const char *contact, uint32_t cseq, time_t exp)
{
	return (struct loc_binding){
		.aor = str_cstr(aor),
		.contact = str_cstr(contact),
		.call_id = STR_LIT("a84b4c76e66710@pc33.atlanta.com"),
		.path = STR_LIT("<sip:p1.example.com;lr>,<sip:p2.example.com;lr>"),
		.instance = STR_LIT("<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>"),
		.received = STR_LIT("tcp:198.51.100.4:40712"),
		/* separators of the serialization, a newline and a NUL */
		.user_agent = { "UA 1:2 \"x\"\n\0end", 16 },
		.expires = exp,
		.updated = 1700000000 + cseq,
		.cseq = cseq,
		.reg_id = 7,
		.q = 500,
	};
}

static void assert_same(const struct loc_binding *a, const struct loc_binding *b)
{
	assert_true(str_eq(a->aor, b->aor));
	assert_true(str_eq(a->contact, b->contact));
	assert_true(str_eq(a->call_id, b->call_id));
	assert_true(str_eq(a->path, b->path));
	assert_true(str_eq(a->instance, b->instance));
	assert_true(str_eq(a->received, b->received));
	assert_true(str_eq(a->user_agent, b->user_agent));
	assert_int_equal(a->expires, b->expires);
	assert_int_equal(a->updated, b->updated);
	assert_int_equal(a->cseq, b->cseq);
	assert_int_equal(a->reg_id, b->reg_id);
	assert_int_equal(a->q, b->q);
}

/* Poll l until aor has want bindings (the first with cseq, if want > 0);
 * false after ms. */
static bool wait_view(struct loc *l, const char *aor, size_t want, uint32_t cseq, int ms)
{
	int64_t t0 = now_ms();

	for (;;) {
		struct loc_binding out[8];
		size_t n = loc_lookup(l, str_cstr(aor), out, 8, time(NULL));
		bool ok = n == want && (!want || out[0].cseq == cseq);

		loc_release(out, n);
		if (ok)
			return true;
		if (now_ms() - t0 > ms)
			return false;
		usleep(1000);
	}
}

/* ---- tests ---- */

static void test_codec(void **state)
{
	struct loc_binding b = full("sip:a@example.com", "sip:a@192.0.2.1", 42, -5), d;
	struct loc_redis_msg m;
	char buf[1024];
	size_t n;

	(void)state;
	b.reg_id = UINT32_MAX;
	b.cseq = UINT32_MAX;
	b.q = 1000;
	n = loc_redis_bind_enc(buf, &b);
	assert_true(n <= loc_redis_bind_max(&b));
	assert_int_equal(loc_redis_bind_dec(buf, n, &d), 0);
	assert_same(&b, &d);
	/* every truncation and a trailing byte are refused */
	for (size_t k = 0; k < n; k++)
		assert_int_equal(loc_redis_bind_dec(buf, k, &d), -EINVAL);
	buf[n] = ' ';
	assert_int_equal(loc_redis_bind_dec(buf, n + 1, &d), -EINVAL);
#define DEC(lit) loc_redis_bind_dec(lit, strlen(lit), &d)
	assert_int_equal(DEC("1 1 1 1 1 1 1:a 1:b 0: 0: 0: 0: 0:"), 0);
	assert_int_equal(DEC("1 -1 0 4294967295 0 1000 1:a 1:b 0: 0: 0: 0: 0:"), 0);
	assert_int_equal(DEC("1 1 1 1 1 1001 1:a 1:b 0: 0: 0: 0: 0:"), -EINVAL);  /* q */
	assert_int_equal(DEC("1 1 1 1 1 01 1:a 1:b 0: 0: 0: 0: 0:"), -EINVAL);    /* 0-led */
	assert_int_equal(DEC("1 1 1 1 1 1 1:a 0: 0: 0: 0: 0: 0:"), -EINVAL);     /* contact */
	assert_int_equal(DEC("1 1 1 4294967296 1 1 1:a 1:b 0: 0: 0: 0: 0:"), -EINVAL);
	assert_int_equal(DEC("1 1 1 -1 1 1 1:a 1:b 0: 0: 0: 0: 0:"), -EINVAL);
	assert_int_equal(DEC("1 99999999999999999999 1 1 1 1 1:a 1:b 0: 0: 0: 0: 0:"), -EINVAL);
	assert_int_equal(DEC("1 1 1 1 1 1 99999999999999999999999:a"), -EINVAL);
	assert_int_equal(DEC("1 1 1 1 1 1 2:a 1:b 0: 0: 0: 0: 0:"), -EINVAL);    /* length */
	assert_int_equal(DEC("2 1 1 1 1 1 1:a 1:b 0: 0: 0: 0: 0:"), -EINVAL);    /* version */
	assert_int_equal(DEC("1  1 1 1 1 1 1:a 1:b 0: 0: 0: 0: 0:"), -EINVAL);
#undef DEC

	n = loc_redis_hdr_enc(buf, 0x0123456789abcdefull, 'S');
	assert_int_equal(n, LOC_REDIS_HDR_LEN);
	n += loc_redis_bind_enc(buf + n, &b);
	assert_int_equal(loc_redis_msg_dec(buf, n, &m), 0);
	assert_true(m.origin == 0x0123456789abcdefull && m.kind == 'S');
	assert_same(&b, &m.b);
	n = loc_redis_hdr_enc(buf, 1, 'D');
	n += loc_redis_str_enc(buf + n, b.aor);
	buf[n++] = ' ';
	n += loc_redis_str_enc(buf + n, b.contact);
	assert_int_equal(loc_redis_msg_dec(buf, n, &m), 0);
	assert_true(m.kind == 'D' && str_eq(m.aor, b.aor) && str_eq(m.contact, b.contact));
	n = loc_redis_hdr_enc(buf, 1, 'A');
	n += loc_redis_str_enc(buf + n, b.aor);
	assert_int_equal(loc_redis_msg_dec(buf, n, &m), 0);
	assert_true(m.kind == 'A' && str_eq(m.aor, b.aor) && str_empty(m.contact));
	assert_int_equal(loc_redis_msg_dec(buf, n - 1, &m), -EINVAL);
	buf[3] = 'g';
	assert_int_equal(loc_redis_msg_dec(buf, n, &m), -EINVAL);
}

static void test_backend_names(void **state)
{
	enum loc_backend b;

	(void)state;
	assert_int_equal(loc_backend_parse("redis", &b), 0);
	assert_int_equal(b, LOC_REDIS);
	assert_int_equal(loc_backend_parse("sqlite", &b), 0);
	assert_int_equal(b, LOC_SQLITE);
	assert_int_equal(loc_backend_parse("memory", &b), 0);
	assert_int_equal(b, LOC_MEMORY);
	assert_int_equal(loc_backend_parse("Redis", &b), -EINVAL);
	assert_int_equal(loc_backend_parse("", &b), -EINVAL);
	assert_int_equal(loc_backend_parse(NULL, &b), -EINVAL);
	assert_string_equal(loc_backend_name(LOC_REDIS), "redis");
	assert_string_equal(loc_backend_name(LOC_SQLITE), "sqlite");
	assert_string_equal(loc_backend_name(LOC_MEMORY), "memory");
	assert_string_equal(loc_backend_name((enum loc_backend)9), "?");
}

static void test_bad_cfg(void **state)
{
	const char *bad[] = { "[::1", "[]:6379", "[::1]x", "127.0.0.1:0", "127.0.0.1:65536",
			      "127.0.0.1:", ":6379", "::1:6379", "unix:", "h:12x" };
	struct loc_cfg cfg = { .backend = LOC_REDIS };
	char addr[96];
	struct loc *l;
	int64_t t0;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cfg.redis_addr = bad[i];
		if (loc_create(&l, &cfg) != -EINVAL)
			fail_msg("address \"%s\" accepted", bad[i]);
	}
	cfg.redis_addr = NULL;
	cfg.redis_prefix = "";
	assert_int_equal(loc_create(&l, &cfg), -EINVAL);
	cfg.redis_prefix = NULL;
	/* well-formed but nobody there: -EIO at once */
	log_set_level(LOG_ERROR);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", free_port());
	cfg.redis_addr = addr;
	t0 = now_ms();
	assert_int_equal(loc_create(&l, &cfg), -EIO);
	snprintf(addr, sizeof(addr), "[::1]:%d", free_port());
	assert_int_equal(loc_create(&l, &cfg), -EIO);
	snprintf(addr, sizeof(addr), "unix:%s/none.sock", srv.dir);
	assert_int_equal(loc_create(&l, &cfg), -EIO);
	assert_true(now_ms() - t0 < 3000);
	/* a password the server does not want */
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", srv.port);
	cfg.redis_password = "secret";
	assert_int_equal(loc_create(&l, &cfg), -EIO);
	log_set_level(LOG_INFO);
}

/* A's changes reach B: save with every field, refresh, remove, remove all. */
static void test_share(void **state)
{
	time_t exp = time(NULL) + 3600;
	const char *aor = "sip:alice@example.com";
	struct loc_binding b = full(aor, "sip:alice@192.0.2.1:5060;transport=tcp", 1, exp), out[4];
	struct loc *a, *bb;
	struct done d = { 0 };
	int64_t t0;

	(void)state;
	name_prefix("share");
	a = open_loc(prefix);
	bb = open_loc(prefix);

	t0 = now_ms();
	save_ok(a, &b);
	assert_true(wait_view(bb, aor, 1, 1, 2000));
	print_message("save at A seen at B after %lld ms\n", (long long)(now_ms() - t0));
	assert_int_equal(loc_lookup(bb, str_cstr(aor), out, 4, time(NULL)), 1);
	assert_same(&out[0], &b);
	loc_release(out, 1);

	/* refresh: same contact, new everything else; replaces, never adds */
	b.cseq = 2;
	b.expires = exp + 60;
	b.call_id = STR_LIT("other-call-id");
	b.q = 1000;
	b.updated = 1700009999;
	save_ok(a, &b);
	assert_true(wait_view(bb, aor, 1, 2, 2000));
	assert_int_equal(loc_lookup(bb, str_cstr(aor), out, 4, time(NULL)), 1);
	assert_same(&out[0], &b);
	loc_release(out, 1);

	/* a second contact, then remove the first */
	b.contact = STR_LIT("sip:alice@203.0.113.9");
	b.instance = STR_NULL;
	b.cseq = 3;
	b.q = 100;
	save_ok(a, &b);
	assert_true(wait_view(bb, aor, 2, 2, 2000));
	assert_int_equal(loc_remove(a, str_cstr(aor), STR_LIT("sip:alice@192.0.2.1:5060;transport=tcp"),
				    on_done, &d),
			 0);
	wait_done(a, &d, 1);
	assert_int_equal(d.err, 0);
	assert_true(wait_view(bb, aor, 1, 3, 2000));

	/* Contact: * at B empties it at A, and in Redis */
	assert_int_equal(loc_remove_all(bb, str_cstr(aor), on_done, &d), 0);
	wait_done(bb, &d, 2);
	assert_int_equal(d.err, 0);
	assert_true(wait_view(a, aor, 0, 0, 2000));
	{
		char key[128];

		snprintf(key, sizeof(key), "%s:aor:%s", prefix, aor);
		assert_int_equal(raw_int("EXISTS %s", key), 0);
	}
	loc_destroy(bb);
	loc_destroy(a);
}

/* A loc started later loads everything, but no expired binding; keys carry
 * the latest expires as their expiry; loc_expire() purges Redis. */
static void test_load_ttl_expire(void **state)
{
	time_t now = time(NULL), exp = now + 3600;
	char aor[64], contact[64], key[160];
	struct loc_binding b, out[4];
	struct loc_stats st;
	struct loc *a, *c;
	struct done d = { 0 };
	const int n = 300;

	(void)state;
	name_prefix("load");
	a = open_loc(prefix);
	for (int i = 0; i < n; i++) {
		snprintf(aor, sizeof(aor), "sip:user%d@example.com", i);
		snprintf(contact, sizeof(contact), "sip:user%d@192.0.2.%d", i, i % 250);
		b = full(aor, contact, (uint32_t)i, exp + i % 7);
		assert_int_equal(loc_save(a, &b, on_done, &d), 0);
	}
	wait_done(a, &d, n);
	assert_int_equal(d.err, 0);
	/* user0: a second, already expired binding (the key keeps its TTL) */
	b = full("sip:user0@example.com", "sip:old@192.0.2.200", 9, now - 5);
	b.instance = STR_NULL; /* not the same flow: a binding of its own */
	save_ok(a, &b);
	/* a new AoR with nothing but an expired binding vanishes at once */
	b = full("sip:gone@example.com", "sip:gone@192.0.2.201", 9, now - 5);
	save_ok(a, &b);
	snprintf(key, sizeof(key), "%s:aor:sip:gone@example.com", prefix);
	assert_int_equal(raw_int("EXISTS %s", key), 0);

	/* TTL: the key expires with its latest binding, and only grows */
	snprintf(key, sizeof(key), "%s:aor:sip:user0@example.com", prefix);
	assert_int_equal(raw_int("EXPIRETIME %s", key), exp);
	assert_int_equal(raw_int("HLEN %s", key), 2);
	b = full("sip:user0@example.com", "sip:user0@192.0.2.0", 10, exp + 100);
	save_ok(a, &b);
	assert_int_equal(raw_int("EXPIRETIME %s", key), exp + 100);
	b.expires = exp;
	save_ok(a, &b);
	assert_int_equal(raw_int("EXPIRETIME %s", key), exp + 100);

	c = open_loc(prefix);
	assert_int_equal(loc_count(c), n);
	loc_get_stats(c, &st);
	assert_true(st.rebuild_s > 0 && st.rebuild_s < 5);
	print_message("loaded %d bindings in %.3f s\n", n, st.rebuild_s);
	assert_int_equal(loc_lookup(c, STR_LIT("sip:user7@example.com"), out, 4, now), 1);
	b = full("sip:user7@example.com", "sip:user7@192.0.2.7", 7, exp + 0);
	assert_same(&out[0], &b);
	loc_release(out, 1);
	loc_destroy(c);

	/* purge: the index, then Redis (the save after it marks it done) */
	assert_int_equal(loc_expire(a, now), 2); /* old, gone */
	b = full("sip:marker@example.com", "sip:marker@192.0.2.1", 1, exp);
	save_ok(a, &b);
	assert_int_equal(raw_int("HLEN %s", key), 1);
	assert_int_equal(raw_int("HEXISTS %s sip:old@192.0.2.200", key), 0);
	loc_destroy(a);
}

/* Two deployments on one server, told apart by prefix. */
static void test_prefixes(void **state)
{
	char p2[80];
	struct loc_binding b = full("sip:bob@example.com", "sip:bob@192.0.2.2", 1, time(NULL) + 600);
	struct loc *a, *other, *late;

	(void)state;
	name_prefix("pfx1");
	snprintf(p2, sizeof(p2), "%s-2", prefix); /* a prefix that starts like the other */
	a = open_loc(prefix);
	other = open_loc(p2);
	save_ok(a, &b);
	assert_true(wait_view(a, "sip:bob@example.com", 1, 1, 100));
	assert_false(wait_view(other, "sip:bob@example.com", 1, 1, 300));
	assert_int_equal(loc_count(other), 0);
	late = open_loc(p2);
	assert_int_equal(loc_count(late), 0);
	loc_destroy(late);
	late = open_loc(prefix);
	assert_int_equal(loc_count(late), 1);
	loc_destroy(late);
	loc_destroy(other);
	loc_destroy(a);
}

/* A subscriber that lost its connection loads again and catches up with
 * what it missed: here changes made behind its back. */
static void test_resync(void **state)
{
	time_t exp = time(NULL) + 600;
	struct loc_binding x1 = full("sip:x@example.com", "sip:x1@192.0.2.1", 1, exp);
	struct loc_binding x2 = full("sip:x@example.com", "sip:x2@192.0.2.2", 2, exp);
	struct loc_binding y = full("sip:y@example.com", "sip:y@192.0.2.3", 3, exp);
	struct loc_binding z = full("sip:z@example.com", "sip:z@192.0.2.4", 4, exp);
	char key[128], val[1024];
	struct loc *a, *b;
	redisReply *r;
	size_t n;

	(void)state;
	name_prefix("resync");
	a = open_loc(prefix);
	b = open_loc(prefix);
	x2.instance = STR_LIT("<urn:uuid:other>");
	save_ok(a, &x1);
	save_ok(a, &x2);
	save_ok(a, &y);
	assert_true(wait_view(b, "sip:y@example.com", 1, 3, 2000));
	assert_true(wait_view(b, "sip:x@example.com", 2, 2, 2000));

	snprintf(key, sizeof(key), "%s:aor:sip:x@example.com", prefix);
	freeReplyObject(raw("HDEL %s %s", key, "sip:x1@192.0.2.1"));
	snprintf(key, sizeof(key), "%s:aor:sip:y@example.com", prefix);
	freeReplyObject(raw("DEL %s", key));
	snprintf(key, sizeof(key), "%s:aor:sip:z@example.com", prefix);
	n = loc_redis_bind_enc(val, &z);
	freeReplyObject(raw("HSET %s %s %b", key, "sip:z@192.0.2.4", val, n));
	r = raw("CLIENT KILL TYPE pubsub");
	assert_int_equal(r->integer, 2);
	freeReplyObject(r);

	assert_true(wait_view(b, "sip:z@example.com", 1, 4, 3000));
	assert_true(wait_view(b, "sip:y@example.com", 0, 0, 3000));
	assert_true(wait_view(b, "sip:x@example.com", 1, 2, 3000));
	assert_true(wait_view(a, "sip:z@example.com", 1, 4, 3000));
	assert_true(wait_view(a, "sip:y@example.com", 0, 0, 3000));
	/* and it still follows changes */
	z.cseq = 5;
	save_ok(b, &z);
	assert_true(wait_view(a, "sip:z@example.com", 1, 5, 2000));
	loc_destroy(b);
	loc_destroy(a);
}

static int pubsub_clients(void)
{
	redisReply *r = raw("CLIENT LIST TYPE pubsub");
	int n = 0;

	assert_int_equal(r->type, REDIS_REPLY_STRING);
	for (const char *p = r->str; (p = strstr(p, "id=")); p++)
		n++;
	freeReplyObject(r);
	return n;
}

/* Redis dies: changes fail with -EIO within the timeout, nothing crashes;
 * it restarts (empty) on the same port: the next change succeeds and
 * reaches the other loc, and both keep what they held (a restarted Redis
 * may have lost data: its word is not taken for removals). */
static void test_redis_down(void **state)
{
	time_t exp = time(NULL) + 600;
	struct loc_binding s1 = full("sip:d1@example.com", "sip:d1@192.0.2.1", 1, exp);
	struct loc_binding s2 = full("sip:d2@example.com", "sip:d2@192.0.2.2", 2, exp);
	struct loc_binding s3 = full("sip:d3@example.com", "sip:d3@192.0.2.3", 3, exp);
	struct loc *a, *b;
	struct done d = { 0 };
	int64_t t0;

	(void)state;
	name_prefix("down");
	a = open_loc(prefix);
	b = open_loc(prefix);
	save_ok(a, &s1);
	assert_true(wait_view(b, "sip:d1@example.com", 1, 1, 2000));

	log_set_level(LOG_ERROR);
	srv_stop();
	/* the first batch on the dead connection is larger than the socket
	 * buffers: a write hits EPIPE, and the SIGPIPE that comes with it must
	 * not kill the process */
	{
		size_t len = 8u << 20;
		char *big = malloc(len);
		struct loc_binding bk = s1;

		assert_non_null(big);
		memset(big, 'p', len);
		bk.path = str_make(big, len);
		assert_int_equal(loc_save(a, &bk, on_done, &d), 0);
		free(big);
		wait_done(a, &d, 1);
		assert_int_equal(d.err, -EIO);
		memset(&d, 0, sizeof(d));
	}
	t0 = now_ms();
	assert_int_equal(loc_save(a, &s2, on_done, &d), 0);
	assert_int_equal(loc_remove(a, s1.aor, s1.contact, on_done, &d), 0);
	wait_done(a, &d, 2);
	assert_int_equal(d.err, -EIO);
	assert_true(now_ms() - t0 < 5000);
	print_message("Redis down: -EIO after %lld ms\n", (long long)(now_ms() - t0));
	assert_true(wait_view(a, "sip:d2@example.com", 1, 2, 0)); /* the index keeps it */
	loc_expire(a, time(NULL)); /* a purge fails quietly */
	/* many changes: all fail, none hangs */
	memset(&d, 0, sizeof(d));
	for (int i = 0; i < 3000; i++) {
		char aor[48];
		struct loc_binding bk = s2;

		snprintf(aor, sizeof(aor), "sip:bulk%d@example.com", i);
		bk.aor = str_cstr(aor);
		assert_int_equal(loc_save(a, &bk, on_done, &d), 0);
	}
	wait_done(a, &d, 3000);
	assert_int_equal(d.err, -EIO);

	srv_start(srv.port);
	save_ok(a, &s3);
	assert_true(wait_view(b, "sip:d3@example.com", 1, 3, 5000));
	t0 = now_ms();
	while (pubsub_clients() < 2) {
		assert_true(now_ms() - t0 < 5000);
		usleep(10000);
	}
	usleep(100000); /* both have loaded again */
	assert_true(wait_view(a, "sip:d2@example.com", 1, 2, 0));
	assert_true(wait_view(a, "sip:d3@example.com", 1, 3, 0));
	assert_true(wait_view(b, "sip:d1@example.com", 1, 1, 0));
	assert_true(wait_view(b, "sip:d2@example.com", 0, 0, 0));

	/* stopping while Redis is gone is prompt */
	srv_stop();
	usleep(200000);
	t0 = now_ms();
	loc_destroy(b);
	loc_destroy(a);
	assert_true(now_ms() - t0 < 2500);
	srv_start(srv.port);
	log_set_level(LOG_INFO);
}

/* Redis stops answering (SIGSTOP): a change fails with -EIO after the
 * command timeout, not later; once it answers again the next one works. */
static void test_redis_hung(void **state)
{
	time_t exp = time(NULL) + 600;
	struct loc_binding h1 = full("sip:h1@example.com", "sip:h1@192.0.2.1", 1, exp);
	struct loc_binding h2 = full("sip:h2@example.com", "sip:h2@192.0.2.2", 2, exp);
	struct loc *a, *b;
	struct done d = { 0 };
	int64_t t0, took;

	(void)state;
	name_prefix("hung");
	a = open_loc(prefix);
	b = open_loc(prefix);
	save_ok(a, &h1); /* the writer is connected */
	log_set_level(LOG_ERROR);
	assert_int_equal(kill(srv.pid, SIGSTOP), 0);
	t0 = now_ms();
	assert_int_equal(loc_save(a, &h2, on_done, &d), 0);
	wait_done(a, &d, 1);
	took = now_ms() - t0;
	assert_int_equal(kill(srv.pid, SIGCONT), 0);
	print_message("Redis hung: -EIO after %lld ms\n", (long long)took);
	assert_int_equal(d.err, -EIO);
	assert_true(took >= LOC_REDIS_TIMEOUT_MS - 100 && took < LOC_REDIS_TIMEOUT_MS + 1500);
	h2.cseq = 3;
	save_ok(a, &h2);
	assert_true(wait_view(b, "sip:h2@example.com", 1, 3, 2000));
	log_set_level(LOG_INFO);
	loc_destroy(b);
	loc_destroy(a);
}

/* Two threads change A while B follows; once quiet, both hold the same. */
#define TH_ITER 1500
#define TH_AORS 32

static struct loc *th_loc;
static atomic_int th_acked, th_bad;

static void th_done(int err, void *arg)
{
	(void)arg;
	if (err)
		atomic_fetch_add(&th_bad, 1);
	atomic_fetch_add(&th_acked, 1);
}

static void *th_worker(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;
	time_t exp = time(NULL) + 600;
	char aor[48], contact[64];
	intptr_t ops = 0;

	for (int i = 0; i < TH_ITER; i++) {
		int k = rand_r(&seed) % TH_AORS, c = rand_r(&seed) % 4, what = rand_r(&seed) % 10;

		snprintf(aor, sizeof(aor), "sip:t%d@example.com", k);
		snprintf(contact, sizeof(contact), "sip:t%d-%d@192.0.2.1", k, c);
		if (what < 6) {
			struct loc_binding b = { .aor = str_cstr(aor),
						 .contact = str_cstr(contact),
						 .cseq = (uint32_t)i,
						 .q = (uint16_t)(c * 100),
						 .expires = exp,
						 .updated = 1700000000 };

			ops += loc_save(th_loc, &b, th_done, NULL) == 0;
		} else if (what < 8) {
			ops += loc_remove(th_loc, str_cstr(aor), str_cstr(contact), th_done, NULL) == 0;
		} else if (what == 8) {
			ops += loc_remove_all(th_loc, str_cstr(aor), th_done, NULL) == 0;
		} else {
			struct loc_binding out[4];

			loc_release(out, loc_lookup(th_loc, str_cstr(aor), out, 4, time(NULL)));
		}
	}
	return (void *)ops;
}

struct snap {
	char rows[TH_AORS * 4][96];
	size_t n;
};

static int snap_row(const struct loc_binding *b, void *arg)
{
	struct snap *s = arg;

	if (s->n < TH_AORS * 4)
		snprintf(s->rows[s->n++], sizeof(s->rows[0]), "%.*s %.*s %u", STR_FMT(b->aor),
			 STR_FMT(b->contact), (unsigned)b->cseq);
	return 0;
}

static int row_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void snap_take(struct loc *l, struct snap *s)
{
	s->n = 0;
	loc_foreach(l, snap_row, s);
	qsort(s->rows, s->n, sizeof(s->rows[0]), row_cmp);
}

static bool snap_eq(const struct snap *x, const struct snap *y)
{
	if (x->n != y->n)
		return false;
	for (size_t i = 0; i < x->n; i++)
		if (strcmp(x->rows[i], y->rows[i]))
			return false;
	return true;
}

static void test_threads(void **state)
{
	static struct snap sa, sb;
	struct loc *b, *late;
	pthread_t t[2];
	void *ops[2];
	int64_t t0;

	(void)state;
	name_prefix("threads");
	th_loc = open_loc(prefix);
	b = open_loc(prefix);
	atomic_store(&th_acked, 0);
	atomic_store(&th_bad, 0);
	assert_int_equal(pthread_create(&t[0], NULL, th_worker, (void *)1), 0);
	assert_int_equal(pthread_create(&t[1], NULL, th_worker, (void *)2), 0);
	for (int i = 0; i < 2; i++) {
		while (pthread_tryjoin_np(t[i], &ops[i]) == EBUSY) {
			struct pollfd p = { .fd = loc_fd(th_loc), .events = POLLIN };
			struct loc_binding out[4];

			if (poll(&p, 1, 5) == 1)
				loc_poll(th_loc);
			loc_release(out, loc_lookup(b, STR_LIT("sip:t1@example.com"), out, 4,
						    time(NULL)));
		}
	}
	t0 = now_ms();
	while (atomic_load(&th_acked) < (intptr_t)ops[0] + (intptr_t)ops[1]) {
		struct pollfd p = { .fd = loc_fd(th_loc), .events = POLLIN };

		assert_true(now_ms() - t0 < 10000);
		if (poll(&p, 1, 100) == 1)
			loc_poll(th_loc);
	}
	assert_int_equal(atomic_load(&th_bad), 0);
	snap_take(th_loc, &sa);
	t0 = now_ms();
	do {
		assert_true(now_ms() - t0 < 3000);
		usleep(2000);
		snap_take(b, &sb);
	} while (!snap_eq(&sa, &sb));
	late = open_loc(prefix);
	snap_take(late, &sb);
	assert_true(snap_eq(&sa, &sb));
	print_message("threads: %ld changes, %zu bindings agree at A, B and a late C\n",
		      (long)((intptr_t)ops[0] + (intptr_t)ops[1]), sa.n);
	loc_destroy(late);
	loc_destroy(b);
	loc_destroy(th_loc);
}

/* Every allocation failing in turn: create (loading what the previous round
 * stored), save, remove, destroy; nothing leaks, errors are -ENOMEM. */
static int alloc_scenario(void *ctx)
{
	time_t exp = time(NULL) + 3600;
	char aor[64], contact[64];
	struct done d = { 0 };
	struct loc *l;
	int rc;

	(void)ctx;
	rc = make_loc(&l, prefix);
	if (rc)
		return rc;
	for (int i = 0; i < 4 && !rc; i++) {
		snprintf(aor, sizeof(aor), "sip:m%d@example.com", i);
		snprintf(contact, sizeof(contact), "sip:m%d@192.0.2.1", i);
		struct loc_binding b = full(aor, contact, (uint32_t)i, exp);

		rc = loc_save(l, &b, on_done, &d);
	}
	if (!rc)
		rc = loc_remove(l, STR_LIT("sip:m0@example.com"), STR_LIT("sip:x@h"), on_done, &d);
	if (!rc)
		rc = loc_remove_all(l, STR_LIT("sip:m3@example.com"), on_done, &d);
	loc_destroy(l);
	if (d.err)
		fail_msg("a change failed with %d", d.err);
	return rc;
}

static void test_alloc_fail(void **state)
{
	long n;

	(void)state;
	name_prefix("alloc");
	log_set_level(LOG_WARN);
	n = harness_alloc_fail_loop(alloc_scenario, NULL);
	print_message("allocation failure: %ld allocations, each failed in turn\n", n);
	assert_true(n > 0);
	log_set_level(LOG_INFO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		SIPHON_TEST(test_codec),
		SIPHON_TEST(test_backend_names),
		SIPHON_TEST(test_bad_cfg),
		SIPHON_TEST(test_share),
		SIPHON_TEST(test_load_ttl_expire),
		SIPHON_TEST(test_prefixes),
		SIPHON_TEST(test_resync),
		SIPHON_TEST(test_redis_down),
		SIPHON_TEST(test_redis_hung),
		SIPHON_TEST(test_threads),
		SIPHON_TEST(test_alloc_fail),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
