/* bench/tsx: server transactions per second through one shared table with
 * two worker threads (parse a request, match it, create, insert, answer,
 * terminate), and the heap bytes one live transaction costs. Figures only. */
#include "msg/msg.h"
#include "tsx/table.h"
#include "tsx/tsx.h"

#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const struct tsx_timers *timers;

/* A worker's environment: timers are armed and forgotten (the benchmark
 * terminates each transaction itself), sends are counted. */
struct worker {
	struct tsx_table *table;
	int id;
	long n;
	long sent;
	double secs;
	struct tsx_env env;
};

static void t_start(void *ctx, struct tsx_timer *tm, uint32_t ms)
{
	(void)ctx, (void)tm, (void)ms;
}

static void t_stop(void *ctx, struct tsx_timer *tm)
{
	(void)ctx, (void)tm;
}

static uint64_t now_ms(void *ctx)
{
	(void)ctx;
	return 0;
}

static int do_send(void *ctx, struct tsx *t, const char *buf, size_t len)
{
	struct worker *w = ctx;

	(void)t, (void)buf, (void)len;
	w->sent++;
	return 0;
}

static int make_request(char *buf, size_t cap, int worker, long i)
{
	return snprintf(buf, cap,
			"OPTIONS sip:bench@127.0.0.1 SIP/2.0\r\n"
			"Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-%d-%ld;rport\r\n"
			"Max-Forwards: 70\r\n"
			"From: <sip:a@127.0.0.1>;tag=%ld\r\n"
			"To: <sip:bench@127.0.0.1>\r\n"
			"Call-ID: %d-%ld@bench\r\n"
			"CSeq: 1 OPTIONS\r\n"
			"Content-Length: 0\r\n\r\n",
			worker, i, i, worker, i);
}

static const char resp[] = "SIP/2.0 200 OK\r\n"
			   "Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-x;rport=5062\r\n"
			   "From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:bench@127.0.0.1>;tag=2\r\n"
			   "Call-ID: x@bench\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *run(void *arg)
{
	struct worker *w = arg;
	struct sip_msg m;
	char buf[1024];
	double t0 = now_s();

	for (long i = 0; i < w->n; i++) {
		int len = make_request(buf, sizeof(buf), w->id, i);
		struct tsx *t;

		if (sip_msg_parse(&m, buf, (size_t)len, 0) != 0)
			abort();
		t = tsx_table_match_request(w->table, &m);
		if (t) /* never: every branch is new */
			abort();
		if (tsx_server_create(&t, &w->env, &m, false, NULL, w) != 0 ||
		    tsx_table_insert(w->table, t) != 0)
			abort();
		tsx_lock(t);
		tsx_server_respond(t, 200, resp, sizeof(resp) - 1);
		/* a retransmission would find it now */
		tsx_unlock(t);
		struct tsx *again = tsx_table_match_request(w->table, &m);
		if (again != t)
			abort();
		tsx_unref(again);
		tsx_lock(t);
		tsx_terminate(t); /* Timer J, early */
		tsx_unlock(t);
		tsx_unref(t);
	}
	w->secs = now_s() - t0;
	return NULL;
}

static void bench_throughput(int nworkers, long per_worker)
{
	struct tsx_table *table;
	struct worker w[8];
	pthread_t th[8];
	double secs = 0;
	long total = 0;

	if (tsx_table_create(&table, 0, 0) != 0)
		abort();
	for (int i = 0; i < nworkers; i++) {
		w[i] = (struct worker){ .table = table, .id = i, .n = per_worker };
		w[i].env = (struct tsx_env){ .ctx = &w[i], .timers = timers, .now_ms = now_ms,
					     .timer_start = t_start, .timer_stop = t_stop, .send = do_send };
		pthread_create(&th[i], NULL, run, &w[i]);
	}
	for (int i = 0; i < nworkers; i++) {
		pthread_join(th[i], NULL);
		total += w[i].n;
		if (w[i].secs > secs)
			secs = w[i].secs;
	}
	printf("%-8d %12ld %14.0f %12.0f\n", nworkers, total, (double)total / secs,
	       secs * 1e9 / (double)total * nworkers);
	tsx_table_destroy(table);
}

/* Heap bytes per live server transaction, from the allocator's own count
 * (so malloc overhead is included). */
static void bench_memory(long n)
{
	struct tsx_table *table;
	struct worker w = { .id = 9 };
	struct tsx **all = calloc((size_t)n, sizeof(*all));
	struct sip_msg m;
	char buf[1024];
	struct mallinfo2 before, after;

	if (!all || tsx_table_create(&table, 0, 0) != 0)
		abort();
	w.env = (struct tsx_env){ .ctx = &w, .now_ms = now_ms, .timer_start = t_start,
				  .timer_stop = t_stop, .send = do_send };
	before = mallinfo2();
	for (long i = 0; i < n; i++) {
		int len = make_request(buf, sizeof(buf), 9, i);
		if (sip_msg_parse(&m, buf, (size_t)len, 0) != 0 ||
		    tsx_server_create(&all[i], &w.env, &m, false, NULL, NULL) != 0 ||
		    tsx_table_insert(table, all[i]) != 0)
			abort();
		tsx_lock(all[i]);
		tsx_server_respond(all[i], 200, resp, sizeof(resp) - 1);
		tsx_unlock(all[i]);
	}
	after = mallinfo2();
	printf("\nmemory: %ld live server transactions (%d-byte request, %zu-byte 200 kept): "
	       "%.0f heap bytes each (sizeof(struct tsx) included)\n",
	       n, make_request(buf, sizeof(buf), 9, n / 2), sizeof(resp) - 1,
	       (double)(after.uordblks - before.uordblks) / (double)n);
	for (long i = 0; i < n; i++) {
		tsx_lock(all[i]);
		tsx_terminate(all[i]);
		tsx_unlock(all[i]);
		tsx_unref(all[i]);
	}
	tsx_table_destroy(table);
	free(all);
}

int main(int argc, char **argv)
{
	long n = 400000;

	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--quick") == 0)
			n = 40000;
	timers = NULL;
	printf("server transactions through one shared table (parse, match, create, insert,\n"
	       "respond, match again, terminate); each worker runs %ld\n\n", n);
	printf("%-8s %12s %14s %12s\n", "workers", "transactions", "tsx/s (total)", "ns/tsx/core");
	bench_throughput(1, n);
	bench_throughput(2, n);
	bench_memory(n / 4);
	return 0;
}
