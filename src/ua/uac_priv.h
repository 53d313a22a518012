/* Internals shared by uac.c (requests, transactions) and uac_net.c
 * (transports, input). */
#ifndef SIPHON_UA_UAC_PRIV_H
#define SIPHON_UA_UAC_PRIV_H

#include "dns/dns.h"
#include "tsx/table.h"
#include "tsx/tsx.h"
#include "ua/ids.h"
#include "ua/request.h"
#include "ua/uac.h"

struct tp_udp;
struct tp_tcp;
struct tp_tcp_conn;
struct tp_tls_ctx;

/* One request until its final result, then until its transaction ends. */
struct ua_req {
	struct ua_uac *u;
	struct ua_req *next, *prev;
	ua_result_cb cb;
	void *arg;

	char *method, *uri_s, *extra, *ctype, *body; /* copies */
	size_t extra_len, ctype_len, body_len;
	struct sip_uri uri;                           /* slices into uri_s */
	char call_id[UA_CALL_ID_MAX];
	char from_tag[UA_TAG_LEN + 1];
	char branch[UA_BRANCH_LEN + 1];

	struct dns_query *q;
	struct dns_targets *targets;
	size_t idx;              /* target being tried */
	struct dns_target cur;
	bool has_target;

	/* the current attempt */
	struct tp_udp *udp;      /* the uac's, not owned */
	struct tp_tcp_conn *conn;
	struct tsx *tsx;         /* our reference */
	int err;                 /* why it failed: -ETIMEDOUT, transport error */

	bool done;               /* the callback ran */
	struct loop_timer step;  /* next move, out of the transaction's callbacks */
	char buf[UA_REQUEST_MAX];
};

struct ua_uac {
	struct loop *loop;
	struct dns_resolver *dns;
	struct tsx_table *table;
	struct tsx_env env;
	struct tsx_timers timers;

	struct tp_udp *udp[2];   /* [0] IPv4, [1] IPv6, made on first use */
	struct tp_tcp *tcp;
	struct tp_tls_ctx *tls;  /* client context, made on first use */
	bool has_local;
	struct tp_addr local;
	char *ca_file;
	unsigned protos;         /* DNS_PROTO_BIT() set we may use */
	ua_trace_fn trace;
	void *trace_arg;

	struct ua_req *reqs;
	unsigned pending;        /* requests without their result yet */
	bool destroying;
};

/* uac_net.c */
int ua_net_create(struct ua_uac *u);
void ua_net_destroy(struct ua_uac *u);
/* Set up r's transport for r->cur; *sent_by gets our address on it. */
int ua_net_open(struct ua_req *r, struct tp_addr *sent_by);
/* Drop r's connection (if any) without telling r. */
void ua_net_close(struct ua_req *r);
int ua_net_send(struct ua_req *r, const char *buf, size_t len);
/* Parse "IP", "IP:PORT", "[IPv6]:PORT" (port 0 when absent). */
int ua_net_parse_local(const char *spec, struct tp_addr *a);
/* A transport error in words. */
const char *ua_net_strerror(int err);

/* uac.c: r's connection went down (err as tp_tcp_event_cb says). */
void ua_req_conn_down(struct ua_req *r, int err);

#endif
