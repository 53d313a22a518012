/* /metrics, /api/health and /api/stats. */
#include "siphond/http_int.h"

#include "location/loc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void sd_http_metrics(struct sd_http *h, struct sd_http_reply *r)
{
	struct sd_mx_snap *s = malloc(sizeof(*s));
	struct sd_mx_gauges g;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int err;

	if (!s) {
		r->status = 500;
		return;
	}
	sd_mx_snapshot(s, h->cfg.workers);
	sd_http_gauges(h, &g);
	f = open_memstream(&buf, &len);
	if (!f) {
		free(s);
		r->status = 500;
		return;
	}
	err = sd_mx_format_prom(f, s, &g);
	free(s);
	if (fclose(f) != 0 || err < 0) {
		free(buf);
		r->status = 500;
		return;
	}
	r->status = 200;
	r->ctype = "text/plain; version=0.0.4; charset=utf-8";
	r->body = buf;
	r->len = len;
}

/* Healthy unless the location store refused its latest batch of changes
 * (a database error, Redis unreachable): registrations then get 5xx, never a
 * 200 that was not made durable, and a load balancer should look elsewhere
 * (503) until a batch is applied again. */
void sd_http_health(struct sd_http *h, struct sd_http_reply *r)
{
	struct sd_mx_gauges g;
	struct loc_stats ls = { 0 };
	bool failing = false;
	json_t *loc;

	sd_http_gauges(h, &g);
	if (h->cfg.loc) {
		loc_get_stats(h->cfg.loc, &ls);
		failing = ls.last_err != 0;
		loc = json_pack("{s:s,s:s,s:I,s:I,s:I,s:I}", "backend", h->cfg.loc_backend, "state",
				failing ? "failing" : "up", "bindings", (json_int_t)g.bindings, "aors",
				(json_int_t)g.aors, "pending_writes", (json_int_t)ls.pending,
				"failed_writes", (json_int_t)ls.failures);
		if (loc && failing)
			json_object_set_new(loc, "error", json_string(strerror(-ls.last_err)));
	} else {
		loc = json_pack("{s:n,s:s}", "backend", "state", "none");
	}
	sd_http_json(r, failing ? 503 : 200,
		     json_pack("{s:s,s:s,s:I,s:f,s:i,s:o}", "status", failing ? "degraded" : "ok",
			       "version", SIPHON_VERSION, "pid", (json_int_t)getpid(), "uptime_s",
			       g.uptime_s, "workers", (int)g.workers, "location", loc));
}

static json_t *hist_json(const struct sd_mx_hsnap *hs)
{
	json_t *b = json_array();
	uint64_t cum = 0;

	for (unsigned i = 0; i < SD_MX_BUCKETS; i++) {
		cum += hs->bucket[i];
		json_array_append_new(b, json_pack("{s:f,s:I}", "le_s",
						   (double)sd_mx_bounds_us[i] / 1e6, "count",
						   (json_int_t)cum));
	}
	return json_pack("{s:I,s:f,s:o}", "count", (json_int_t)hs->count, "sum_s",
			 (double)hs->sum_us / 1e6, "buckets", b);
}

void sd_http_stats(struct sd_http *h, struct sd_http_reply *r)
{
	struct sd_mx_snap *s = malloc(sizeof(*s));
	struct sd_mx_gauges g;
	json_t *req, *resp, *hist, *j;
	uint64_t created, freed, nreq = 0, nresp = 0;

	if (!s) {
		r->status = 500;
		return;
	}
	sd_mx_snapshot(s, h->cfg.workers);
	sd_http_gauges(h, &g);
	req = json_object();
	resp = json_object();
	hist = json_object();
	for (unsigned i = 0; i < SD_MX_METHODS; i++) {
		nreq += s->req[i];
		if (s->req[i])
			json_object_set_new(req, sd_mx_method_name(i), json_integer((json_int_t)s->req[i]));
	}
	for (unsigned i = 0; i < SD_MX_CODES; i++) {
		char code[8];

		nresp += s->resp[i];
		if (!s->resp[i])
			continue;
		snprintf(code, sizeof(code), "%u", i + SD_MX_CODE_MIN);
		json_object_set_new(resp, code, json_integer((json_int_t)s->resp[i]));
	}
	for (unsigned i = 0; i < SD_MX_NHIST; i++)
		json_object_set_new(hist, sd_mx_hist_name((enum sd_mx_hist)i), hist_json(&s->hist[i]));
	created = s->ctr[SD_MX_PXY_CREATED];
	freed = s->ctr[SD_MX_PXY_FREED];
	j = json_pack("{s:f,s:i,s:i,s:{s:I,s:o},s:{s:I,s:o},s:I,s:I,s:I,s:I,s:I,s:I,s:{s:I,s:I},s:o}",
		      "uptime_s", g.uptime_s, "workers", (int)g.workers, "tcp_flows", (int)g.tcp_flows,
		      "requests", "total", (json_int_t)nreq, "by_method", req,
		      "responses", "total", (json_int_t)nresp, "by_code", resp,
		      "transactions_active", (json_int_t)g.tsx_active,
		      "parse_errors", (json_int_t)s->ctr[SD_MX_PARSE_ERRORS],
		      "auth_challenges", (json_int_t)s->ctr[SD_MX_AUTH_CHALLENGES],
		      "auth_failures", (json_int_t)s->ctr[SD_MX_AUTH_FAILURES],
		      "rate_limited", (json_int_t)s->ctr[SD_MX_RATE_LIMITED],
		      "responses_received", (json_int_t)s->ctr[SD_MX_RESP_RECEIVED],
		      "calls", "active", (json_int_t)(created >= freed ? created - freed : 0),
		      "total", (json_int_t)s->ctr[SD_MX_CALLS],
		      "latency", hist);
	free(s);
	if (j && g.has_location)
		json_object_set_new(j, "registrations",
				    json_pack("{s:I,s:I}", "bindings", (json_int_t)g.bindings, "aors",
					      (json_int_t)g.aors));
	sd_http_json(r, 200, j);
}
