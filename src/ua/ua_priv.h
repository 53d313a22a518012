/* Internals shared by ua.c (socket, input, transaction environment),
 * ua_out.c (client requests) and ua_srv.c (incoming requests). */
#ifndef SIPHON_UA_UA_PRIV_H
#define SIPHON_UA_UA_PRIV_H

#include "dns/dns.h"
#include "tsx/table.h"
#include "tsx/tsx.h"
#include "ua/ids.h"
#include "ua/ua.h"

struct tp_udp;

/* Per-transaction user area (tsx_env.user_size). */
struct ua_tx {
	struct ua *ua;
	struct tp_addr dest;   /* client: next hop; server: the request's source */
	struct ua_out *out;    /* client: its request */
	struct ua_srv *srv;    /* server: its request, while kept */
};

struct ua {
	struct loop *loop;
	struct dns_resolver *dns;
	struct tsx_table *table;
	struct tsx_env env;
	struct tsx_timers timers;
	struct tp_udp *udp;
	char *proxy;
	char *aor;
	char *password;
	char *user;           /* user part of the AoR (digest username) */
	char contact[160];
	ua_trace_fn trace;
	void *trace_arg;
	ua_incoming_fn on_request;
	ua_cancel_fn on_cancel;
	void *handler_arg;
	struct ua_out *outs;  /* live client requests */
	struct ua_srv *srvs;  /* kept incoming requests */
	bool destroying;
};

/* ua_out.c */
void ua_out_tsx_response(struct tsx *t, const struct sip_msg *m);
void ua_out_tsx_failed(struct tsx *t, int err);
void ua_out_tsx_terminated(struct tsx *t);
void ua_out_destroy_all(struct ua *u);

/* ua_srv.c */
void ua_srv_input(struct ua *u, const struct sip_msg *m, const struct tp_addr *src);
void ua_srv_destroy_all(struct ua *u);

/* ua.c */
int ua_udp_send(struct ua *u, const struct tp_addr *dest, const char *buf, size_t len);

#endif
