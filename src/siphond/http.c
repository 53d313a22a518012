/* siphond's HTTP server: libmicrohttpd with its internal polling thread (one
 * thread, one request at a time), bound to the configured address only. */
#include "siphond/http_int.h"

#include "siphond/balance.h"
#include "transport/flows.h"

#include "base/log.h"
#include "base/mem.h"
#include "location/loc.h"
#include "tsx/table.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <microhttpd.h>

#define MOD "http"

int sd_http_addr_parse(const char *spec, struct tp_addr *out)
{
	return tp_addr_parse_hostport(spec, out);
}

json_t *sd_http_jstr(const char *s, size_t len)
{
	json_t *j = json_stringn(s, len);
	char *c;

	if (j || !s)
		return j ? j : json_string("");
	/* not UTF-8: keep the ASCII, mark the rest */
	c = malloc(len + 1);
	if (!c)
		return NULL;
	for (size_t i = 0; i < len; i++)
		c[i] = (unsigned char)s[i] < 0x80 && s[i] ? s[i] : '?';
	j = json_stringn(c, len);
	free(c);
	return j;
}

void sd_http_json(struct sd_http_reply *r, unsigned status, json_t *j)
{
	char *s = j ? json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(9)) : NULL;

	json_decref(j);
	if (!s) {
		r->status = 500;
		r->ctype = "text/plain";
		r->body = NULL;
		r->len = 0;
		return;
	}
	r->status = status;
	r->ctype = "application/json";
	r->len = strlen(s);
	/* a final newline for curl users */
	r->body = malloc(r->len + 2);
	if (!r->body) {
		r->body = s;
		return;
	}
	memcpy(r->body, s, r->len);
	free(s);
	r->body[r->len++] = '\n';
	r->body[r->len] = '\0';
}

void sd_http_error(struct sd_http_reply *r, unsigned status, const char *msg)
{
	sd_http_json(r, status, json_pack("{s:s}", "error", msg));
}

/* An AoR's bindings come one after the other: count the changes of AoR.
 * Keep a hash, not a pointer: the previous record may be gone once the
 * stripe lock is released. */
struct aor_count {
	uint64_t aors, last;
	size_t len;
};

static uint64_t fnv1a(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static int count_aor(const struct loc_binding *b, void *arg)
{
	struct aor_count *st = arg;
	uint64_t h = fnv1a(b->aor.s, b->aor.len);

	if (!st->aors || st->last != h || st->len != b->aor.len)
		st->aors++;
	st->last = h;
	st->len = b->aor.len;
	return 0;
}

void sd_http_gauges(struct sd_http *h, struct sd_mx_gauges *g)
{
	memset(g, 0, sizeof(*g));
	g->workers = h->cfg.workers;
	g->udp_workers = sd_balance_active_now();
	g->tcp_flows = h->cfg.flows ? tp_flows_count(h->cfg.flows) : 0;
	g->uptime_s = (double)(sd_mx_now_us() - h->start_us) / 1e6;
	if (h->cfg.tsx)
		g->tsx_active = tsx_table_count(h->cfg.tsx);
	if (h->cfg.loc) {
		uint64_t t0 = sd_mx_now_us();

		g->has_location = 1;
		g->bindings = loc_count(h->cfg.loc);
		/* a walk read-locks each index stripe in turn, delaying the
		 * registrations that write there: when it is slow (a big index),
		 * do it at most 5% of the time */
		if (!h->aors_at_us || t0 - h->aors_at_us >= h->aors_ttl_us) {
			struct aor_count st = { 0 };
			uint64_t took;

			loc_foreach(h->cfg.loc, count_aor, &st);
			h->aors = st.aors;
			h->aors_at_us = sd_mx_now_us();
			took = h->aors_at_us - t0;
			h->aors_ttl_us = took > SD_HTTP_WALK_CHEAP_US ? took * 20 : 0;
		}
		g->aors = h->aors;
	}
}

/* ---- the server ---- */

static bool client_is_loopback(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	if (!sa)
		return false;
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr) >> 24) ==
		       127;
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;

		return IN6_IS_ADDR_LOOPBACK(a) ||
		       (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return false;
}

/* 401, logged once a second at most (a scanner must not flood the log). */
static void refuse(struct sd_http *h, struct MHD_Connection *conn, struct sd_http_reply *r)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	uint64_t now = sd_mx_now_us();

	if (now - h->refused_log_us >= 1000000 || !h->refused_log_us) {
		struct tp_addr a = { 0 };
		char ab[64] = "?";

		if (ci && ci->client_addr) {
			a.len = ci->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
								       : sizeof(struct sockaddr_in);
			memcpy(&a.ss, ci->client_addr, a.len);
			tp_addr_fmt(&a, ab, sizeof(ab));
		}
		log_info(MOD, "refused a request from %s: no valid token ([http] token_file)", ab);
		h->refused_log_us = now;
	}
	sd_http_error(r, 401, "this interface needs the token of [http] token_file");
}

static unsigned arg_uint(struct MHD_Connection *conn, const char *key, unsigned dflt,
			 unsigned max)
{
	const char *v = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, key);
	char *end;
	unsigned long n;

	if (!v || !*v)
		return dflt;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno || *end)
		return dflt;
	return n > max ? max : (unsigned)n;
}

static void route(struct sd_http *h, struct MHD_Connection *conn, const char *url,
		  const char *method, struct sd_http_reply *r)
{
	bool get = !strcmp(method, "GET") || !strcmp(method, "HEAD");

	if (!strcmp(url, "/api/location")) {
		const char *aor = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "aor");

		if (aor && !*aor)
			aor = NULL;
		if (get) {
			sd_http_loc_get(h, aor,
					arg_uint(conn, "offset", 0, UINT32_MAX),
					arg_uint(conn, "limit", SD_HTTP_LOC_LIMIT_DEFAULT,
						 SD_HTTP_LOC_LIMIT_MAX),
					r);
		} else if (!strcmp(method, "DELETE")) {
			const char *all = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND,
								      "all");

			/* changes only from this machine, whatever the bind address */
			if (!client_is_loopback(conn))
				sd_http_error(r, 403, "location changes are accepted from loopback only");
			else
				sd_http_loc_delete(h, aor, all && !strcmp(all, "1"), r);
		} else {
			sd_http_error(r, 405, "method not allowed");
		}
		return;
	}
	if (!get) {
		sd_http_error(r, 405, "method not allowed");
		return;
	}
	if (!strcmp(url, "/metrics")) {
		sd_http_metrics(h, r);
	} else if (!strcmp(url, "/api/health")) {
		sd_http_health(h, r);
	} else if (!strcmp(url, "/api/stats")) {
		sd_http_stats(h, r);
	} else if (!strcmp(url, "/") || !strcmp(url, "/index.html")) {
		r->status = 200;
		r->ctype = "text/html; charset=utf-8";
		r->body = malloc(sd_http_page_len);
		r->len = sd_http_page_len;
		if (r->body)
			memcpy(r->body, sd_http_page, sd_http_page_len);
		else
			r->status = 500, r->len = 0;
	} else {
		sd_http_error(r, 404, "not found");
	}
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size,
				  void **req_cls)
{
	static int seen; /* marks a request whose headers were seen */
	struct sd_http *h = cls;
	struct sd_http_reply r = { .status = 500, .ctype = "text/plain" };
	struct MHD_Response *resp;
	enum MHD_Result ret;

	(void)version, (void)upload_data;
	if (!*req_cls) {
		*req_cls = &seen; /* answer once any body has been read */
		return MHD_YES;
	}
	if (*upload_data_size) {
		*upload_data_size = 0; /* bodies mean nothing here: discarded */
		return MHD_YES;
	}
	/* [http] token_file: everything but the load balancers' health check */
	if (strcmp(url, "/api/health") != 0 &&
	    !sd_http_auth_ok(&h->auth, MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
								   MHD_HTTP_HEADER_AUTHORIZATION)))
		refuse(h, conn, &r);
	else
		route(h, conn, url, method, &r);
	resp = MHD_create_response_from_buffer_with_free_callback(r.len, r.body, free);
	if (!resp) {
		free(r.body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r.ctype);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	if (r.status == 401) {
		/* Basic lets a browser ask for the token (the status page) */
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					"Basic realm=\"siphond\", charset=\"UTF-8\"");
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					"Bearer realm=\"siphond\"");
	}
	if (r.status == 405)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW,
					!strcmp(url, "/api/location") ? "GET, HEAD, DELETE"
								     : "GET, HEAD");
	ret = MHD_queue_response(conn, r.status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* libmicrohttpd's own messages (MHD_OPTION_EXTERNAL_LOGGER) go to our log. */
__attribute__((format(printf, 2, 0)))
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256];

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_info(MOD, "%s", msg);
}

int sd_http_create(struct sd_http **out, const struct sd_http_cfg *cfg)
{
	struct tp_addr addr;
	const union MHD_DaemonInfo *di;
	struct sd_http *h;
	char ab[64];
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	int err;

	if (sd_http_addr_parse(cfg->listen, &addr) < 0) {
		log_err(MOD, "[http] listen '%s': expected ADDR:PORT, e.g. 127.0.0.1:8080",
			cfg->listen ? cfg->listen : "");
		return -EINVAL;
	}
	h = mem_zalloc(sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->cfg = *cfg;
	h->cfg.listen = NULL;
	h->cfg.token = NULL;
	if (sd_http_auth_init(&h->auth, cfg->token) < 0) {
		mem_free(h);
		return -EIO;
	}
	h->start_us = sd_mx_now_us();
	if (cfg->loc && (err = loc_queue_create(cfg->loc, &h->q)) < 0) {
		mem_free(h);
		return err;
	}
	if (addr.ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	h->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h,
				MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
				MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)&addr.ss,
				MHD_OPTION_CONNECTION_LIMIT, 64u,
				MHD_OPTION_PER_IP_CONNECTION_LIMIT, 32u,
				MHD_OPTION_CONNECTION_TIMEOUT, 10u,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32768,
				MHD_OPTION_END);
	tp_addr_fmt(&addr, ab, sizeof(ab));
	if (!h->d) {
		err = errno ? -errno : -EADDRINUSE;
		log_err(MOD, "cannot serve HTTP on %s: %s", ab, strerror(-err));
		sd_http_destroy(h);
		return err;
	}
	di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	h->port = di ? di->port : tp_addr_port(&addr);
	tp_addr_set_port(&addr, h->port);
	log_info(MOD, "HTTP interface on http://%s/ (metrics, API, status page)",
		 tp_addr_fmt(&addr, ab, sizeof(ab)));
	*out = h;
	return 0;
}

void sd_http_destroy(struct sd_http *h)
{
	if (!h)
		return;
	if (h->d)
		MHD_stop_daemon(h->d);
	if (h->q)
		loc_queue_destroy(h->q);
	mem_free(h);
}

uint16_t sd_http_port(const struct sd_http *h)
{
	return h->port;
}
