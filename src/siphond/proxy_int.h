/* Internals of siphond's proxy shared by proxy.c (requests, responses,
 * CANCEL), proxy_ctx.c (the response context), proxy_branch.c (client
 * transactions) and proxy_fwd.c (building and sending each branch). */
#ifndef SIPHON_SIPHOND_PROXY_INT_H
#define SIPHON_SIPHOND_PROXY_INT_H

#include "base/loop.h"
#include "dns/dns.h"
#include "proxy/route.h"
#include "registrar/reg.h"
#include "siphond/proxy.h"
#include "siphond/metrics.h"

#define MOD "proxy"
#define PXY_BRANCHES_MAX 16

struct pxy_target {
	struct str uri;      /* new Request-URI; empty: the one received (routed) */
	struct str path;     /* route set from the registration (RFC 3327) */
	struct str received; /* "udp:192.0.2.7:5060": where the contact registered from */
	struct str hop;      /* a [routes] next hop (SIP URI): the destination */
	uint16_t q;
	time_t expires;
	bool flow;           /* send to received, not to the contact (NAT, RFC 5626) */
	bool outbound;       /* registered with RFC 5626 outbound: the flow or nothing */
};

/* A branch: the user area of its client transaction. */
struct pxy_br {
	struct sd_core *c;   /* owner */
	struct sd_pxy *p;    /* NULL for a CANCEL we sent */
	struct tsx *t;       /* no reference: it dies with the transaction */
	struct pxy_br *next, *prev; /* the core's live branches */
	enum tp_proto proto;
	struct tp_addr dst;
	uint64_t conn_id;    /* TCP/TLS: the connection its request went on */
	/* owned, NULL but for TLS to a hop that was a name: the identity its
	 * certificate must show (RFC 5922 §4), not the address it resolved to */
	char *tls_name;
	bool use_flow;       /* a registration's flow: down its connection (RFC 5626) */
	bool flow_only;      /* RFC 5626 outbound: its flow or nothing (430) */
	uint16_t code;       /* last response (or synthesized final) */
	bool final, cancel_wanted, cancel_sent;
	unsigned k;          /* its target in the context */
	struct dns_targets *alt; /* owned: the RFC 3263 targets it was resolved to */
	size_t alt_next;     /* the one to try if this one cannot be reached */
};

struct sd_pxy {
	struct sd_core *c;
	struct sd_pxy *next, *prev; /* the core's live contexts */
	struct tsx *stx;            /* referenced */
	unsigned refs;              /* held + live branches + Timer C */
	bool held;                  /* the creation reference */
	bool invite, initial, routed;
	bool final_sent, cancelled, got_2xx;
	char loop_hash[PXY_LOOP_HASH_LEN];
	enum tp_proto in_proto;
	int in_family;
	struct pxy_target *tg;      /* &tg1, or the start of tbuf (several bindings) */
	struct pxy_target tg1;
	unsigned ntg, next_tg;
	struct pxy_br *br[PXY_BRANCHES_MAX];
	unsigned nbr, pending;
	uint16_t best_code;
	char *best;                 /* the best response, our Via removed; NULL: build one */
	size_t best_len;
	char *auth;                 /* collected WWW-/Proxy-Authenticate lines (§16.7 step 7) */
	size_t auth_len;
	struct loop_timer timer_c;
	bool timer_c_on;
	char *tbuf;                 /* the targets of a lookup and their strings */
	uint64_t mx_t0;             /* created (metrics.h latency) */
	uint8_t mx_seen;            /* responses timed (sd_mx_upstream) */
	size_t req_len;
	char req[];                 /* the request as received */
};

/* A branch whose next hop is a name, waiting for RFC 3263 resolution. */
struct pxy_dnsq {
	struct sd_pxy *p;
	unsigned k;
	struct dns_query *q;
	struct pxy_dnsq *next, *prev; /* the core's queries (shutdown) */
};

static inline struct sip_msg *sd_pxy_scratch(struct sd_core *c, int i)
{
	return &c->pmsg[i];
}

static inline struct sd_stx *sd_pxy_stx(struct sd_pxy *p)
{
	return tsx_user(p->stx);
}

/* proxy_ctx.c */
/* Send upstream through the server transaction (or straight when it takes
 * no more, RFC 6026 §7.1). */
void sd_pxy_upstream(struct sd_pxy *p, uint16_t code, const char *buf, size_t len);
/* A response of our own to the request (408, 487, 500, ...). */
void sd_pxy_upstream_own(struct sd_pxy *p, uint16_t code, const char *reason, struct str extra);
/* §16.7 step 3: m minus our Via into c->pbuf; the length or -errno. */
int sd_pxy_strip_via(struct sd_core *c, const struct sip_msg *m);
void sd_pxy_put(struct sd_pxy *p);
void sd_pxy_timer_c_start(struct sd_pxy *p);
void sd_pxy_timer_c_stop(struct sd_pxy *p);
void sd_pxy_maybe_release(struct sd_pxy *p);
bool sd_pxy_better(uint16_t code, uint16_t best);
/* A branch ended with code (m: the response, NULL when synthesized). */
void sd_pxy_branch_final(struct pxy_br *br, uint16_t code, const struct sip_msg *m);
void sd_pxy_cancel_all(struct sd_pxy *p);
void sd_pxy_check_done(struct sd_pxy *p);

/* proxy_fwd.c */
/* Shutdown: drop every pending next-hop resolution. */
void sd_pxy_dns_cancel_all(struct sd_core *c);
/* Where a request for target tg (NULL: none) whose next hop URI is hu
 * goes: the flow it registered over when behind NAT, else a numeric hop.
 * Returns 0 (*proto, *dst set), 1 when hu names a host (resolve it, RFC
 * 3263), or the status for the branch (416, 503). */
int sd_pxy_hop_addr(const struct pxy_target *tg, const struct sip_uri *hu, enum tp_proto *proto,
		    struct tp_addr *dst);
/* "udp:192.0.2.7:5060" (a binding's received source) to a destination. */
int sd_pxy_parse_received(struct str r, enum tp_proto *proto, struct tp_addr *dst);
void sd_pxy_send_cancel(struct pxy_br *br);
/* RFC 3263 §4.3: br's target could not be reached; send its request to the
 * next address its name resolved to. Returns true when a new branch went. */
bool sd_pxy_failover(struct pxy_br *br);
void sd_pxy_next_group(struct sd_pxy *p);

#endif
