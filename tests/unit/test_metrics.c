/* siphond's counter blocks (src/siphond/metrics*.c): summing per-worker
 * blocks, the histogram buckets, the Prometheus text, the HTTP listen
 * address parser, and concurrent writers with a reader (TSan-clean, no
 * count lost). */
#include "harness.h"

#include "siphond/http.h"
#include "siphond/metrics.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static char *prom(const struct sd_mx_snap *s, const struct sd_mx_gauges *g)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(sd_mx_format_prom(f, s, g), 0);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void test_sum_blocks(void **state)
{
	struct sd_mx_snap s;

	(void)state;
	sd_mx_reset();
	sd_mx_request(0, SIP_METHOD_REGISTER);
	sd_mx_request(1, SIP_METHOD_REGISTER);
	sd_mx_request(1, SIP_METHOD_INVITE);
	sd_mx_request(3, (enum sip_method)99); /* out of range: OTHER */
	sd_mx_response(0, 200);
	sd_mx_response(2, 200);
	sd_mx_response(2, 699);
	sd_mx_response(2, 99);  /* ignored */
	sd_mx_response(2, 700); /* ignored */
	sd_mx_count(5, SD_MX_PARSE_ERRORS);
	sd_mx_count(1000, SD_MX_PARSE_ERRORS); /* no such worker: block 0 */
	sd_mx_snapshot(&s, 8);
	assert_int_equal(s.req[SIP_METHOD_REGISTER], 2);
	assert_int_equal(s.req[SIP_METHOD_INVITE], 1);
	assert_int_equal(s.req[SIP_METHOD_OTHER], 1);
	assert_int_equal(s.resp[200 - SD_MX_CODE_MIN], 2);
	assert_int_equal(s.resp[699 - SD_MX_CODE_MIN], 1);
	assert_int_equal(s.ctr[SD_MX_PARSE_ERRORS], 2);
	/* only the first n blocks are summed */
	sd_mx_snapshot(&s, 2);
	assert_int_equal(s.ctr[SD_MX_PARSE_ERRORS], 1);
	assert_int_equal(s.resp[200 - SD_MX_CODE_MIN], 1);
	sd_mx_reset();
	sd_mx_snapshot(&s, 0);
	assert_int_equal(s.req[SIP_METHOD_REGISTER], 0);
}

static void test_histogram(void **state)
{
	struct sd_mx_snap s;
	uint64_t now = sd_mx_now_us();

	(void)state;
	sd_mx_reset();
	sd_mx_observe_us(0, SD_MX_H_REGISTER, 0);        /* first bucket */
	sd_mx_observe_us(0, SD_MX_H_REGISTER, 500);      /* bounds are inclusive (le) */
	sd_mx_observe_us(1, SD_MX_H_REGISTER, 3000);     /* 2 ms < 3 ms <= 5 ms */
	sd_mx_observe_us(1, SD_MX_H_REGISTER, 10000000); /* the last finite bucket */
	sd_mx_observe(1, SD_MX_H_REGISTER, now - 60000000); /* 60 s ago: +Inf */
	sd_mx_observe(1, SD_MX_H_REGISTER, now + 1000000000); /* in the future: 0 */
	sd_mx_snapshot(&s, 0);
	assert_int_equal(s.hist[SD_MX_H_REGISTER].count, 6);
	assert_int_equal(s.hist[SD_MX_H_REGISTER].bucket[0], 3);
	assert_int_equal(s.hist[SD_MX_H_REGISTER].bucket[3], 1);
	assert_int_equal(s.hist[SD_MX_H_REGISTER].bucket[SD_MX_BUCKETS - 1], 1);
	assert_int_equal(s.hist[SD_MX_H_REGISTER].bucket[SD_MX_BUCKETS], 1);
	assert_true(s.hist[SD_MX_H_REGISTER].sum_us >= 70003500);
	assert_int_equal(s.hist[SD_MX_H_INVITE_FIRST].count, 0);
}

static void test_upstream_timing(void **state)
{
	struct sd_mx_snap s;
	uint8_t seen = 0;
	uint64_t t0;

	(void)state;
	sd_mx_reset();
	t0 = sd_mx_pxy_start(0, true);
	sd_mx_upstream(0, 180, true, t0, &seen);
	sd_mx_upstream(0, 183, true, t0, &seen);
	sd_mx_upstream(0, 200, true, t0, &seen);
	sd_mx_upstream(0, 200, true, t0, &seen); /* a second 2xx (forking) */
	t0 = sd_mx_pxy_start(0, false);
	seen = 0;
	sd_mx_upstream(0, 200, false, t0, &seen); /* not an INVITE: counted, not timed */
	sd_mx_snapshot(&s, 0);
	assert_int_equal(s.ctr[SD_MX_PXY_CREATED], 2);
	assert_int_equal(s.ctr[SD_MX_CALLS], 1);
	assert_int_equal(s.resp[200 - SD_MX_CODE_MIN], 3);
	assert_int_equal(s.hist[SD_MX_H_INVITE_FIRST].count, 1);
	assert_int_equal(s.hist[SD_MX_H_INVITE_FINAL].count, 1);
}

/* The exposition: HELP and TYPE once per family before its samples,
 * cumulative buckets, +Inf = _count, labels quoted. */
static void test_prometheus(void **state)
{
	struct sd_mx_gauges g = { .tsx_active = 7, .bindings = 3, .aors = 2, .uptime_s = 1.5,
				  .workers = 4, .has_location = 1 };
	struct sd_mx_snap s;
	char *t, *p;

	(void)state;
	sd_mx_reset();
	sd_mx_request(0, SIP_METHOD_REGISTER);
	sd_mx_response(1, 401);
	sd_mx_response(1, 423);
	sd_mx_count(0, SD_MX_AUTH_FAILURES);
	sd_mx_observe_us(0, SD_MX_H_REGISTER, 700);   /* <= 1 ms */
	sd_mx_observe_us(0, SD_MX_H_REGISTER, 30000); /* <= 50 ms */
	sd_mx_snapshot(&s, 0);
	t = prom(&s, &g);
	assert_non_null(strstr(t, "# TYPE siphon_sip_requests_received_total counter\n"
				  "siphon_sip_requests_received_total{method=\"OTHER\"} 0\n"));
	assert_non_null(strstr(t, "siphon_sip_requests_received_total{method=\"REGISTER\"} 1\n"));
	assert_non_null(strstr(t, "siphon_sip_responses_sent_total{code=\"401\",class=\"4xx\"} 1\n"));
	assert_non_null(strstr(t, "siphon_sip_responses_sent_total{code=\"423\",class=\"4xx\"} 1\n"));
	/* the common codes are there at 0, the others only once seen */
	assert_non_null(strstr(t, "siphon_sip_responses_sent_total{code=\"200\",class=\"2xx\"} 0\n"));
	assert_null(strstr(t, "code=\"599\""));
	assert_non_null(strstr(t, "# TYPE siphon_auth_failures_total counter\n"
				  "siphon_auth_failures_total 1\n"));
	assert_non_null(strstr(t, "siphon_transactions_active 7\n"));
	assert_non_null(strstr(t, "siphon_registrations_bindings 3\n"));
	assert_non_null(strstr(t, "siphon_registrations_aors 2\n"));
	assert_non_null(strstr(t, "siphon_workers 4\n"));
	assert_non_null(strstr(t, "siphon_uptime_seconds 1.5\n"));
	assert_non_null(strstr(t, "# TYPE siphon_register_latency_seconds histogram\n"
				  "siphon_register_latency_seconds_bucket{le=\"0.0005\"} 0\n"
				  "siphon_register_latency_seconds_bucket{le=\"0.001\"} 1\n"));
	assert_non_null(strstr(t, "siphon_register_latency_seconds_bucket{le=\"0.05\"} 2\n"));
	assert_non_null(strstr(t, "siphon_register_latency_seconds_bucket{le=\"10\"} 2\n"
				  "siphon_register_latency_seconds_bucket{le=\"+Inf\"} 2\n"));
	assert_non_null(strstr(t, "siphon_register_latency_seconds_count 2\n"));
	assert_non_null(strstr(t, "siphon_register_latency_seconds_sum 0.030700\n"));
	/* every line is a comment or "name[{labels}] value" */
	for (p = t; *p; p = strchr(p, '\n') + 1) {
		size_t n = strcspn(p, "\n");

		assert_true(p[n] == '\n');
		assert_true(n > 0);
		if (*p != '#')
			assert_non_null(memchr(p, ' ', n));
	}
	free(t);
	/* no location: no registration gauges */
	g.has_location = 0;
	t = prom(&s, &g);
	assert_null(strstr(t, "siphon_registrations_bindings"));
	free(t);
	sd_mx_reset();
}

static void test_http_addr(void **state)
{
	struct tp_addr a;

	(void)state;
	assert_int_equal(sd_http_addr_parse("127.0.0.1:8080", &a), 0);
	assert_int_equal(tp_addr_port(&a), 8080);
	assert_int_equal(sd_http_addr_parse("[::1]:80", &a), 0);
	assert_int_equal(a.ss.ss_family, AF_INET6);
	assert_int_equal(sd_http_addr_parse("0.0.0.0:0", &a), 0);
	assert_int_equal(sd_http_addr_parse("127.0.0.1", &a), -EINVAL);
	assert_int_equal(sd_http_addr_parse("127.0.0.1:", &a), -EINVAL);
	assert_int_equal(sd_http_addr_parse("127.0.0.1:65536", &a), -EINVAL);
	assert_int_equal(sd_http_addr_parse("127.0.0.1:-1", &a), -EINVAL);
	assert_int_equal(sd_http_addr_parse("127.0.0.1:80x", &a), -EINVAL);
	assert_int_equal(sd_http_addr_parse("::1:80", &a), -EINVAL);
	assert_int_equal(sd_http_addr_parse("[::1]", &a), -EINVAL);
	assert_int_equal(sd_http_addr_parse("localhost:80", &a), -EINVAL);
	assert_int_equal(sd_http_addr_parse("tcp:127.0.0.1:80", &a), -EINVAL);
	assert_int_equal(sd_http_addr_parse("", &a), -EINVAL);
	assert_int_equal(sd_http_addr_parse(NULL, &a), -EINVAL);
}

/* Writers on their own blocks while a reader sums: nothing is lost and
 * (under TSan) nothing races. */
#define WRITERS 4
#define ROUNDS 200000

static void *writer(void *arg)
{
	unsigned w = (unsigned)(uintptr_t)arg;

	for (unsigned i = 0; i < ROUNDS; i++) {
		sd_mx_request(w, SIP_METHOD_OPTIONS);
		sd_mx_response(w, 200);
		if (!(i & 1023))
			sd_mx_observe(w, SD_MX_H_REGISTER, sd_mx_now_us());
	}
	return NULL;
}

static void test_threads(void **state)
{
	pthread_t t[WRITERS];
	struct sd_mx_snap s;
	uint64_t last = 0;

	(void)state;
	sd_mx_reset();
	for (uintptr_t i = 0; i < WRITERS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, writer, (void *)i), 0);
	for (int k = 0; k < 50; k++) {
		sd_mx_snapshot(&s, WRITERS);
		assert_true(s.req[SIP_METHOD_OPTIONS] >= last); /* each block only grows */
		last = s.req[SIP_METHOD_OPTIONS];
	}
	for (int i = 0; i < WRITERS; i++)
		pthread_join(t[i], NULL);
	sd_mx_snapshot(&s, WRITERS);
	assert_int_equal(s.req[SIP_METHOD_OPTIONS], (uint64_t)WRITERS * ROUNDS);
	assert_int_equal(s.resp[200 - SD_MX_CODE_MIN], (uint64_t)WRITERS * ROUNDS);
	assert_int_equal(s.hist[SD_MX_H_REGISTER].count, (uint64_t)WRITERS * ((ROUNDS + 1023) / 1024));
	sd_mx_reset();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		SIPHON_TEST(test_sum_blocks),   SIPHON_TEST(test_histogram),
		SIPHON_TEST(test_upstream_timing), SIPHON_TEST(test_prometheus),
		SIPHON_TEST(test_http_addr),    SIPHON_TEST(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
