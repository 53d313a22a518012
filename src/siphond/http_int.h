/* Internals of siphond's HTTP interface shared by http.c (the server and
 * the routing), http_api.c (the JSON API), http_loc.c (the location
 * endpoints) and http_page.c (the status page). Every handler runs on
 * libmicrohttpd's single thread, one request at a time. */
#ifndef SIPHON_SIPHOND_HTTP_INT_H
#define SIPHON_SIPHOND_HTTP_INT_H

#include "siphond/http.h"
#include "siphond/http_auth.h"
#include "siphond/metrics.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct loc_queue;

struct sd_http {
	struct MHD_Daemon *d;
	struct sd_http_cfg cfg;  /* listen is not kept */
	struct loc_queue *q;     /* where our location changes complete (flush) */
	int flush_pending;       /* removals made through q, not completed yet */
	uint64_t start_us;       /* sd_mx_now_us() at creation */
	struct sd_http_auth auth;
	uint64_t refused_log_us; /* last "no token" log line: one a second at most */
	/* the AoR count (a walk of the whole index), reused for a while when
	 * the walk is slow: see sd_http_gauges() */
	uint64_t aors, aors_at_us, aors_ttl_us;
	uint16_t port;
};

/* What a handler answers: body is malloc'd (freed by the server). */
struct sd_http_reply {
	unsigned status;
	const char *ctype;
	char *body;
	size_t len;
};

/* Reply with j (taking it over) as JSON; 500 when it cannot be encoded. */
void sd_http_json(struct sd_http_reply *r, unsigned status, json_t *j);
/* {"error": msg} with status. */
void sd_http_error(struct sd_http_reply *r, unsigned status, const char *msg);
/* A JSON string of bytes that may not be UTF-8 (those become '?'). */
json_t *sd_http_jstr(const char *s, size_t len);

/* The gauges of /metrics and /api/stats (counts the AoRs: one pass over
 * the location index, a stripe read-locked at a time). */
void sd_http_gauges(struct sd_http *h, struct sd_mx_gauges *g);

/* http_api.c */
void sd_http_metrics(struct sd_http *h, struct sd_http_reply *r);
void sd_http_health(struct sd_http *h, struct sd_http_reply *r);
void sd_http_stats(struct sd_http *h, struct sd_http_reply *r);

/* http_loc.c: aor NULL lists every AoR (offset and limit count AoRs). */
void sd_http_loc_get(struct sd_http *h, const char *aor, unsigned offset, unsigned limit,
		     struct sd_http_reply *r);
/* Remove aor's bindings, or (aor NULL, all) every binding; answers once the
 * removal is durable. */
void sd_http_loc_delete(struct sd_http *h, const char *aor, bool all, struct sd_http_reply *r);

#define SD_HTTP_WALK_CHEAP_US 5000 /* an AoR count faster than this is never reused */
#define SD_HTTP_LOC_LIMIT_DEFAULT 100
#define SD_HTTP_LOC_LIMIT_MAX 10000

/* http_page.c: the status page (HTML, script inline). */
extern const char sd_http_page[];
extern const size_t sd_http_page_len;

#endif
