/* The Prometheus text exposition format (version 0.0.4) of a snapshot. */
#include "siphond/metrics.h"

#include <errno.h>
#include <inttypes.h>

static const struct {
	enum sd_mx_ctr k;
	const char *name, *help;
} counters[] = {
	{ SD_MX_PARSE_ERRORS, "siphon_parse_errors_total", "Malformed SIP messages received." },
	{ SD_MX_AUTH_CHALLENGES, "siphon_auth_challenges_total", "Digest challenges (401/407) sent." },
	{ SD_MX_AUTH_FAILURES, "siphon_auth_failures_total",
	  "Requests refused for wrong or malformed credentials." },
	{ SD_MX_RATE_LIMITED, "siphon_rate_limited_total",
	  "Requests refused by the per-source rate limit." },
	{ SD_MX_CALLS, "siphon_calls_total", "Initial INVITEs proxied." },
	{ SD_MX_PXY_CREATED, "siphon_proxy_contexts_total", "Proxy response contexts created." },
	{ SD_MX_RESP_RECEIVED, "siphon_sip_responses_received_total",
	  "SIP responses received from downstream." },
};

static void gauge(FILE *f, const char *name, const char *help, double v)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n%s %.17g\n", name, help, name, name, v);
}

static void histogram(FILE *f, const char *name, const char *help, const struct sd_mx_hsnap *h)
{
	uint64_t cum = 0;

	fprintf(f, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
	for (unsigned i = 0; i < SD_MX_BUCKETS; i++) {
		cum += h->bucket[i];
		fprintf(f, "%s_bucket{le=\"%g\"} %" PRIu64 "\n", name,
			(double)sd_mx_bounds_us[i] / 1e6, cum);
	}
	cum += h->bucket[SD_MX_BUCKETS];
	fprintf(f, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n", name, cum);
	fprintf(f, "%s_sum %.6f\n%s_count %" PRIu64 "\n", name, (double)h->sum_us / 1e6, name,
		h->count);
}

int sd_mx_format_prom(FILE *f, const struct sd_mx_snap *s, const struct sd_mx_gauges *g)
{
	static const char *const hist_help[SD_MX_NHIST] = {
		"Seconds from a REGISTER to its final response (binding durable).",
		"Seconds from a proxied INVITE to the first response passed upstream.",
		"Seconds from a proxied INVITE to the final response passed upstream.",
	};
	uint64_t created = s->ctr[SD_MX_PXY_CREATED], freed = s->ctr[SD_MX_PXY_FREED];

	fputs("# HELP siphon_sip_requests_received_total SIP requests received, by method.\n"
	      "# TYPE siphon_sip_requests_received_total counter\n", f);
	for (unsigned i = 0; i < SD_MX_METHODS; i++)
		fprintf(f, "siphon_sip_requests_received_total{method=\"%s\"} %" PRIu64 "\n",
			sd_mx_method_name(i), s->req[i]);
	fputs("# HELP siphon_sip_responses_sent_total SIP responses sent (own and relayed), by code.\n"
	      "# TYPE siphon_sip_responses_sent_total counter\n", f);
	for (unsigned i = 0; i < SD_MX_CODES; i++) {
		unsigned code = i + SD_MX_CODE_MIN;

		/* the common codes always, so that rate() has a series from the start */
		if (s->resp[i] || code == 180 || code == 200 || code == 401 ||
		    code == 404 || code == 407 || code == 408 || code == 486 || code == 487 ||
		    code == 500 || code == 503)
			fprintf(f,
				"siphon_sip_responses_sent_total{code=\"%u\",class=\"%uxx\"} %" PRIu64 "\n",
				code, code / 100, s->resp[i]);
	}
	for (unsigned i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
		fprintf(f, "# HELP %s %s\n# TYPE %s counter\n%s %" PRIu64 "\n", counters[i].name,
			counters[i].help, counters[i].name, counters[i].name, s->ctr[counters[i].k]);
	gauge(f, "siphon_proxy_contexts_active", "Proxy response contexts (calls being set up).",
	      (double)(created >= freed ? created - freed : 0));
	gauge(f, "siphon_transactions_active", "SIP transactions in the table.",
	      (double)g->tsx_active);
	if (g->has_location) {
		gauge(f, "siphon_registrations_bindings", "Contact bindings in the location service.",
		      (double)g->bindings);
		gauge(f, "siphon_registrations_aors", "Addresses-of-record with at least one binding.",
		      (double)g->aors);
	}
	gauge(f, "siphon_workers", "Worker threads.", (double)g->workers);
	gauge(f, "siphon_udp_workers_active",
	      "Workers taking UDP datagrams now ([server] udp_balance).",
	      (double)(g->udp_workers ? g->udp_workers : g->workers));
	gauge(f, "siphon_tcp_flows",
	      "TCP and TLS connections peers opened to us: requests for their sources go down them "
	      "(RFC 5626 flows).", (double)g->tcp_flows);
	gauge(f, "siphon_uptime_seconds", "Seconds since siphond started.", g->uptime_s);
	for (unsigned h = 0; h < SD_MX_NHIST; h++) {
		char name[96];

		snprintf(name, sizeof(name), "siphon_%s_latency_seconds",
			 sd_mx_hist_name((enum sd_mx_hist)h));
		histogram(f, name, hist_help[h], &s->hist[h]);
	}
	return ferror(f) ? -EIO : 0;
}
