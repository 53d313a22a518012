/* siphond's message core: what the server does with each received message.
 * Transport-independent: it is handed bytes and a source, and fills a reply.
 * It validates, answers OPTIONS and errors itself, and hands REGISTER to the
 * registrar (core_reg.c); routing comes with the proxy. */
#ifndef SIPHON_SIPHOND_CORE_H
#define SIPHON_SIPHOND_CORE_H

#include "transport/addr.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct sd_core;

struct loop;
struct tsx_table;
struct tsx_timers;
struct sd_regsvc;
struct tp_ratelim;
struct sd_in;
struct sd_hop;
struct sd_out;
struct sd_pxy_cfg;
struct pxy_self;

struct sd_core_cfg {
	const char *server_name; /* Server header value; NULL for "Siphon/<version>" */
	/* Stateful mode (RFC 3261 §17.2): requests get server transactions that
	 * absorb retransmissions and retransmit final responses over UDP. All
	 * three are needed; with loop or tsx NULL the core answers statelessly. */
	struct loop *loop;       /* the worker's loop; its wheel runs the timers */
	struct tsx_table *tsx;   /* transaction table, shared by the workers */
	/* Send bytes over UDP from the socket bound to local (retransmissions
	 * that happen outside sd_core_input). Returns 0 or -errno. */
	int (*send_udp)(void *ctx, const struct tp_addr *local, const struct tp_addr *dst,
			const void *buf, size_t len);
	/* Send on a stream connection of this worker (a transaction's sends
	 * that happen outside sd_core_input, e.g. a late 100 Trying). */
	int (*send_stream)(void *ctx, uint64_t conn_id, const void *buf, size_t len);
	void *send_ctx;
	const struct tsx_timers *timers; /* T1, T2, T4, D; NULL: RFC 3261 defaults */
	/* The registrar (stateful mode only); NULL: REGISTER gets 501. */
	const struct sd_regsvc *regsvc;
	bool purge; /* this core runs the expired-binding purge (one per server) */

	/* Per-source request rate limit, shared by the workers; NULL: none. */
	struct tp_ratelim *ratelim;
	/* The proxy (stateful mode only); NULL: requests for others get 501. */
	const struct sd_pxy_cfg *pxy;
	const struct pxy_self *self; /* who we are in URIs; filled before traffic */
	unsigned idx;                /* this core's worker */
	/* The listen address of proto and family (AF_INET/AF_INET6) that
	 * requests we send carry in Via and Record-Route. */
	int (*local_addr)(void *ctx, enum tp_proto proto, int family, struct tp_addr *out);
	/* Send a request to hop (UDP from our socket of the family; TCP/TLS
	 * down the connection the peer opened from there, else one of this
	 * worker's, opened if needed). *conn_id (optional) receives the
	 * connection's id, 0 for UDP: should it fail before it is up,
	 * sd_core_conn_failed() names it. -ENOTCONN: a flow_only hop whose
	 * connection is gone. */
	int (*send_req)(void *ctx, const struct sd_hop *hop, const void *buf, size_t len,
			uint64_t *conn_id);
	/* Hand a received message to the worker that owns its transaction. */
	int (*handoff)(void *ctx, unsigned worker, const struct sd_in *in);
};

/* A user who moved for good ([redirect] moved): 301 with to as Contact. */
struct sd_moved {
	char *aor;           /* "user@domain", domain lower case */
	char *to;            /* a SIP URI */
};

/* A static next hop ([routes]): requests for domain (or any, for
 * "default") go to hop, a SIP URI, whoever sends them. */
struct sd_route {
	char *domain;        /* lower case; "default": every other domain */
	char *hop;
};

/* [proxy] and [redirect] settings the cores read. */
struct sd_pxy_cfg {
	bool proxy;          /* forward requests for our users */
	bool stateless;      /* §16.11: no transactions, one target, no forking */
	bool record_route;   /* §16.6 step 4 (default on) */
	uint32_t timer_c_ms; /* §16.6 step 11, > 3 minutes */
	bool redirect;       /* answer 3xx with the bindings instead (§8.3, §21.3) */
	const struct sd_moved *moved;
	unsigned nmoved;
	const struct sd_route *routes;
	unsigned nroutes;
	const char *dns_servers;  /* [dns] servers; NULL: resolv.conf */
};

/* Handle a message handed over by another worker (it belongs to one of
 * this core's transactions); same contract as sd_core_input(). */
ssize_t sd_core_input_handed(struct sd_core *c, const struct sd_in *in, struct sd_out *out);

/* Where a request we send goes. */
struct sd_hop {
	enum tp_proto proto;
	struct tp_addr dst;
	/* TLS: the identity the peer's certificate must show (RFC 5922 §4),
	 * NULL: dst's address */
	const char *tls_name;
	/* RFC 5626 §5.3: a registration's flow: down the connection dst
	 * opened to us while it lasts, else as any hop */
	bool use_flow;
	/* ... and never a new connection (an outbound registration's flow) */
	bool flow_only;
};

/* One received input: a whole datagram (UDP) or the unconsumed front of a
 * connection's receive buffer (TCP/TLS). */
struct sd_in {
	const char *buf;
	size_t len;
	enum tp_proto proto;
	struct tp_addr src;   /* peer */
	struct tp_addr local; /* our socket's address */
	uint64_t conn_id;     /* streams: the connection (tp_tcp_conn_id), else 0 */
};

/* The largest message taken from a stream (the transport's buffer cap). */
#define SD_MAX_MESSAGE 65536u /* = TP_TCP_MAX_MSG_DEFAULT */

/* Where the reply goes; buf is the caller's (at least SD_REPLY_MAX bytes). */
#define SD_REPLY_MAX 65535
struct sd_out {
	char *buf;
	size_t cap;
	size_t len;          /* 0: nothing to send */
	struct tp_addr dst;  /* for UDP: RFC 3261 §18.2.2 / RFC 3581 destination;
				for streams: the peer (send on the same connection) */
	bool close_after;    /* stream framing is lost: send then close (RFC 3261 §18.3) */
	size_t need;         /* sd_core_input() returned 0: the stream message's total
				length when already known (header section complete) */
};

int sd_core_create(struct sd_core **out, const struct sd_core_cfg *cfg);

struct sd_live;
/* A reload (reload.h): from now on read the registrar policy, the proxy
 * settings, the identity and the rate limiter of l, for the parts this core
 * was created with. Call from the core's thread, between two inputs. */
void sd_core_set_live(struct sd_core *c, const struct sd_live *l);
/* The worker's TCP/TLS connection conn_id failed before it was up (refused,
 * timed out, TLS handshake or certificate refused): the proxy branches
 * whose requests were queued on it end as on a 503 (RFC 3261 §17.1.4). */
void sd_core_conn_failed(struct sd_core *c, uint64_t conn_id, int err);
void sd_core_destroy(struct sd_core *c);

/* Handle the message at the front of in->buf. Returns the number of bytes
 * consumed (> 0; for UDP always in->len), 0 when a stream needs more bytes,
 * or -EPROTO when a stream cannot be framed (out may hold a 400 to send
 * before closing; out->close_after is set). */
ssize_t sd_core_input(struct sd_core *c, const struct sd_in *in, struct sd_out *out);

#endif
