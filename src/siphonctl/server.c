/* siphonctl stats, health and reload. */
#include "siphonctl/ctl.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

static long long jint(const json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

static void print_counts(const char *title, const json_t *obj)
{
	const char *k;
	json_t *v;

	printf("%s:", title);
	if (!json_object_size(obj))
		printf(" none");
	json_object_foreach((json_t *)obj, k, v)
		printf(" %s=%lld", k, (long long)json_integer_value(v));
	printf("\n");
}

int ctl_stats(const struct ctl_opts *o)
{
	const json_t *reg, *lat;
	const char *name;
	json_t *j, *h;

	if (ctl_api(o, "GET", "/api/stats", &j))
		return CTL_EXIT_FAIL;
	if (o->json) {
		ctl_print_json(j);
		json_decref(j);
		return 0;
	}
	printf("uptime %.0f s, %lld workers\n", json_number_value(json_object_get(j, "uptime_s")),
	       jint(j, "workers"));
	printf("requests received: %lld\n", jint(json_object_get(j, "requests"), "total"));
	print_counts("  by method", json_object_get(json_object_get(j, "requests"), "by_method"));
	printf("responses sent: %lld\n", jint(json_object_get(j, "responses"), "total"));
	print_counts("  by code", json_object_get(json_object_get(j, "responses"), "by_code"));
	printf("transactions active: %lld\n", jint(j, "transactions_active"));
	printf("calls: %lld active, %lld total\n", jint(json_object_get(j, "calls"), "active"),
	       jint(json_object_get(j, "calls"), "total"));
	reg = json_object_get(j, "registrations");
	if (reg)
		printf("registrations: %lld bindings, %lld AoRs\n", jint(reg, "bindings"),
		       jint(reg, "aors"));
	printf("auth challenges: %lld, auth failures: %lld\n", jint(j, "auth_challenges"),
	       jint(j, "auth_failures"));
	printf("parse errors: %lld, rate limited: %lld\n", jint(j, "parse_errors"),
	       jint(j, "rate_limited"));
	lat = json_object_get(j, "latency");
	json_object_foreach((json_t *)lat, name, h) {
		long long n = jint(h, "count");
		double sum = json_number_value(json_object_get(h, "sum_s"));

		printf("latency %s: %lld", name, n);
		if (n)
			printf(", mean %.3f ms", sum * 1000.0 / (double)n);
		printf("\n");
	}
	json_decref(j);
	return 0;
}

/* Exit 0 when healthy, CTL_EXIT_FAIL when siphond says it is degraded (503:
 * its location store refuses changes), after printing what it said. */
int ctl_health(const struct ctl_opts *o)
{
	const json_t *loc;
	json_t *j;
	int status = 0, rc;

	if (ctl_api_status(o, "GET", "/api/health", 503, &j, &status))
		return CTL_EXIT_FAIL;
	rc = status == 503 ? CTL_EXIT_FAIL : 0;
	if (o->json) {
		ctl_print_json(j);
		json_decref(j);
		return rc;
	}
	loc = json_object_get(j, "location");
	printf("status %s, siphond %s, pid %lld, up %.0f s, %lld workers\n",
	       json_string_value(json_object_get(j, "status")),
	       json_string_value(json_object_get(j, "version")), jint(j, "pid"),
	       json_number_value(json_object_get(j, "uptime_s")), jint(j, "workers"));
	if (json_is_string(json_object_get(loc, "backend"))) {
		const char *err = json_string_value(json_object_get(loc, "error"));

		printf("location %s: %s", json_string_value(json_object_get(loc, "backend")),
		       json_string_value(json_object_get(loc, "state")));
		if (err)
			printf(" (%s)", err);
		printf(", %lld bindings, %lld AoRs, %lld writes pending, %lld failed\n",
		       jint(loc, "bindings"), jint(loc, "aors"), jint(loc, "pending_writes"),
		       jint(loc, "failed_writes"));
	} else {
		printf("location: none (no registrar)\n");
	}
	json_decref(j);
	return rc;
}

/* SIGHUP to the pid the server reports: siphond re-reads its config. */
int ctl_reload(const struct ctl_opts *o)
{
	json_t *j;
	long long pid;

	/* a degraded server (503) still says its pid: a reload may be the cure */
	if (ctl_api_status(o, "GET", "/api/health", 503, &j, NULL))
		return CTL_EXIT_FAIL;
	pid = jint(j, "pid");
	json_decref(j);
	if (pid <= 1) {
		fprintf(stderr, "siphonctl: the server reported no usable pid\n");
		return CTL_EXIT_FAIL;
	}
	if (kill((pid_t)pid, SIGHUP) < 0) {
		fprintf(stderr, "siphonctl: cannot signal siphond (pid %lld): %s\n", pid,
			strerror(errno));
		return CTL_EXIT_FAIL;
	}
	if (o->json)
		printf("{\"reload\":\"requested\",\"pid\":%lld}\n", pid);
	else
		printf("reload requested (SIGHUP to pid %lld)\n", pid);
	return 0;
}
