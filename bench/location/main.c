/* bench/location: the location service's figures.
 *   - durable saves per second, one at a time (a commit each) and pipelined
 *     (group commit: everything queued shares a transaction);
 *   - heap bytes per binding in the index (mallinfo2, memory backend);
 *   - time to rebuild the index from a database of N bindings (default 1M),
 *     the database written through the writer in big batches.
 * Usage: bench_location [dir] [bindings]. Figures only, no assertions. */
#include "location/loc.h"

#include <malloc.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static long done;

static void on_done(int err, void *arg)
{
	(void)arg;
	if (err) {
		fprintf(stderr, "save failed: %d\n", err);
		exit(1);
	}
	done++;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A binding with field sizes typical of a UDP phone behind NAT. */
static struct loc_binding make(char *aor, size_t acap, char *contact, size_t ccap, long i,
			       time_t exp)
{
	snprintf(aor, acap, "sip:%08ld@example.com", i);
	snprintf(contact, ccap, "sip:%08ld@10.%ld.%ld.%ld:5060;ob", i, (i >> 16) & 255,
		 (i >> 8) & 255, i & 255);
	return (struct loc_binding){
		.aor = str_cstr(aor),
		.contact = str_cstr(contact),
		.call_id = STR_LIT("3f2a9c1e7b5d4a60b1c2d3e4f5a6b7c8"),
		.cseq = 1,
		.q = 1000,
		.expires = exp,
		.received = STR_LIT("udp:198.51.100.23:41234"),
		.user_agent = STR_LIT("Yealink SIP-T46U 108.86"),
	};
}

static void drain(struct loc *l, long target)
{
	while (done < target) {
		struct pollfd p = { .fd = loc_fd(l), .events = POLLIN };

		if (poll(&p, 1, -1) == 1)
			loc_poll(l);
	}
}

static struct loc *open_db(const char *path)
{
	struct loc_cfg cfg = { .backend = LOC_SQLITE, .db_path = path };
	struct loc *l;

	if (loc_create(&l, &cfg)) {
		fprintf(stderr, "cannot open %s\n", path);
		exit(1);
	}
	return l;
}

static void rm_db(const char *path)
{
	char p[1100];

	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
}

/* Durable saves per second: window = how many may be in flight. */
static void bench_saves(const char *path, long n, long window)
{
	time_t exp = time(NULL) + 3600;
	char aor[64], contact[96];
	struct loc_stats st;
	struct loc *l;
	double t;

	rm_db(path);
	l = open_db(path);
	done = 0;
	t = now_s();
	for (long i = 0; i < n; i++) {
		struct loc_binding b = make(aor, sizeof(aor), contact, sizeof(contact), i, exp);

		if (loc_save(l, &b, on_done, NULL))
			exit(1);
		if (i + 1 - done >= window)
			drain(l, i + 2 - window);
	}
	drain(l, n);
	t = now_s() - t;
	loc_get_stats(l, &st);
	printf("saves, %6ld in flight: %9.0f durable saves/s  (%ld saves, %llu commits, "
	       "%.1f per commit, largest %llu)\n",
	       window, (double)n / t, n, (unsigned long long)st.commits,
	       (double)st.ops / (double)(st.commits ? st.commits : 1),
	       (unsigned long long)st.max_batch);
	loc_destroy(l);
}

static void bench_memory(long n)
{
	struct loc_cfg cfg = { .backend = LOC_MEMORY };
	time_t exp = time(NULL) + 3600;
	char aor[64], contact[96];
	size_t before, after;
	struct loc *l;

	if (loc_create(&l, &cfg))
		exit(1);
	before = mallinfo2().uordblks;
	for (long i = 0; i < n; i++) {
		struct loc_binding b = make(aor, sizeof(aor), contact, sizeof(contact), i, exp);

		if (loc_save(l, &b, NULL, NULL))
			exit(1);
	}
	after = mallinfo2().uordblks;
	printf("memory: %.0f heap bytes per binding (%ld bindings, one per AoR; strings %zu B)\n",
	       (double)(after - before) / (double)n, n,
	       strlen(aor) + strlen(contact) + 32 + 23 + 23);
	loc_destroy(l);
}

static void bench_rebuild(const char *path, long n)
{
	time_t exp = time(NULL) + 86400;
	char aor[64], contact[96];
	struct loc_stats st;
	struct stat sb;
	struct loc *l;
	double t;

	rm_db(path);
	l = open_db(path);
	done = 0;
	t = now_s();
	for (long i = 0; i < n; i++) {
		struct loc_binding b = make(aor, sizeof(aor), contact, sizeof(contact), i, exp);

		if (loc_save(l, &b, on_done, NULL))
			exit(1);
		/* poll now and then so completed ops do not pile up */
		if ((i & 0xffff) == 0xffff)
			loc_poll(l);
	}
	drain(l, n);
	loc_get_stats(l, &st);
	printf("generate: %ld bindings written in %.2f s (%llu commits, largest %llu)\n", n,
	       now_s() - t, (unsigned long long)st.commits, (unsigned long long)st.max_batch);
	loc_destroy(l);
	if (stat(path, &sb) == 0)
		printf("database: %.1f MB\n", (double)sb.st_size / 1e6);

	t = now_s();
	l = open_db(path);
	t = now_s() - t;
	loc_get_stats(l, &st);
	printf("rebuild: %llu bindings loaded into the index in %.2f s (%.0f/s; loc_create %.2f s)\n",
	       (unsigned long long)st.bindings, st.rebuild_s, (double)st.bindings / st.rebuild_s, t);
	loc_destroy(l);
	rm_db(path);
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "/tmp";
	long n = argc > 2 ? atol(argv[2]) : 1000000;
	char path[1024];

	snprintf(path, sizeof(path), "%s/bench_location.db", dir);
	bench_saves(path, 2000, 1);
	bench_saves(path, 200000, 64);
	bench_saves(path, 200000, 1000000);
	bench_memory(n);
	bench_rebuild(path, n);
	rm_db(path);
	return 0;
}
