/* siphond's HTTP interface (docs/http.md): /metrics (Prometheus), a JSON API
 * (/api/health, /api/stats, /api/location) and a status page at /. Served
 * by libmicrohttpd's own thread on one local address; it reads the workers'
 * counter blocks (metrics.h), the transaction table and the location
 * service, which lock themselves, and never touches a worker's state. */
#ifndef SIPHON_SIPHOND_HTTP_H
#define SIPHON_SIPHOND_HTTP_H

#include "transport/addr.h"

#include <stdint.h>

struct loc;
struct tsx_table;
struct tp_flows;
struct sd_http;

struct sd_http_cfg {
	const char *listen;      /* "127.0.0.1:8080", "[::1]:8080" (numeric, port required) */
	unsigned workers;        /* worker threads (their counter blocks are summed) */
	struct tsx_table *tsx;   /* NULL: no transaction count */
	struct loc *loc;         /* NULL: no registrar (location endpoints answer 404) */
	const char *loc_backend; /* "sqlite", "memory", "redis" */
	struct tp_flows *flows;  /* NULL: no flow count */
	/* [http] token_file's token (not kept: a digest is); NULL: no check */
	const char *token;
};

/* Parse an [http] listen value. Returns 0 or -EINVAL. */
int sd_http_addr_parse(const char *spec, struct tp_addr *out);

/* Bind and start serving; the log names the address (real port). Returns 0,
 * -EINVAL (bad address), -EADDRINUSE or another negated errno, -ENOMEM. */
int sd_http_create(struct sd_http **out, const struct sd_http_cfg *cfg);
/* Stop the thread (requests in progress finish) and free. NULL-safe. Before
 * the location service goes. */
void sd_http_destroy(struct sd_http *h);
/* The port it listens on. */
uint16_t sd_http_port(const struct sd_http *h);

#endif
