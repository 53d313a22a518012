/* Internals shared by core.c (what to answer) and core_tsx.c (server
 * transactions around those answers). */
#ifndef SIPHON_SIPHOND_CORE_PRIV_H
#define SIPHON_SIPHOND_CORE_PRIV_H

#include "base/loop.h"
#include "msg/build.h"
#include "msg/msg.h"
#include "siphond/core.h"
#include "tsx/table.h"
#include "tsx/tsx.h"

/* What a server transaction needs to send outside sd_core_input(); it lives
 * in the transaction's own allocation (tsx_env.user_size). */
struct sd_stx {
	struct sd_core *core;
	struct tsx *tsx; /* its transaction (no reference: they die together) */
	enum tp_proto proto;
	uint64_t conn_id; /* streams: the connection the request came on */
	struct tp_addr local, dst;
	struct sd_stx *next, *prev; /* the core's live transactions */
	struct sd_pxy *pxy;         /* proxied: its response context */
};

struct sd_core {
	char server[128];
	uint64_t salt; /* keys the stateless To tags */
	struct sip_msg msg; /* one per core: the core is owned by one thread */

	/* stateful mode (all set, or loop == NULL) */
	struct loop *loop;
	struct tsx_table *table;
	int (*send_udp)(void *ctx, const struct tp_addr *local, const struct tp_addr *dst,
			const void *buf, size_t len);
	int (*send_stream)(void *ctx, uint64_t conn_id, const void *buf, size_t len);
	void *send_ctx;
	struct tsx_env env;
	struct sd_stx live; /* list head */
	uint64_t novia_log_ms; /* last "only our Via" log line (proxy_ctx.c) */

	/* registrar (core_reg.c); regsvc NULL: none */
	const struct sd_regsvc *regsvc;
	struct reg *reg;          /* this worker's, answering through lq */
	struct loc_queue *lq;     /* completions of this worker's REGISTERs */
	char *late;               /* SD_REPLY_MAX bytes for answers sent from lq */
	struct loop_timer purge;  /* expired bindings (one worker runs it) */
	bool purging;

	struct tp_ratelim *ratelim;    /* per-source requests a second, or NULL */
	uint64_t limited;              /* requests refused by it */
	uint64_t limited_logged_ms;

	/* proxy (proxy.c); pcfg NULL: none */
	const struct sd_pxy_cfg *pcfg;
	const struct pxy_self *self;
	unsigned idx;
	struct tsx_env cenv; /* client transactions: the branches */
	int (*local_addr)(void *ctx, enum tp_proto proto, int family, struct tp_addr *out);
	int (*send_req)(void *ctx, const struct sd_hop *hop, const void *buf, size_t len,
			uint64_t *conn_id);
	int (*handoff)(void *ctx, unsigned worker, const struct sd_in *in);
	struct sd_pxy *pending;        /* to start once the server transaction is unlocked */
	/* while pending's first branches are built: its request as parsed on
	 * arrival (c->msg), so forwarding does not parse its copy again */
	struct sd_pxy *fwd_p;
	/* and its §16.4 preprocessing (Route removal, strict-route fix-up),
	 * done once when the request arrived: the same for every branch */
	struct sip_edit fwd_pre;
	struct str fwd_ruri;
	bool fwd_routed;
	struct sd_pxy *pending_cancel; /* to cancel likewise */
	struct sd_pxy *live_pxy;       /* every context of this core (shutdown) */
	struct pxy_br *live_br;        /* sentinel of every live branch (shutdown) */
	struct pxy_br *dead_br;        /* stands in for a branch that is gone */
	struct dns_resolver *dns;      /* RFC 3263 for next hops that are names */
	struct pxy_dnsq *dnsq;         /* sentinel of the resolutions in flight */
	struct sip_msg *pmsg;          /* two scratch messages */
	char *pbuf;                    /* SD_REPLY_MAX bytes: requests and responses we forward */
	bool handed;                   /* the input was handed over by another worker */

	/* while sd_core_input() runs */
	struct sd_out *cur_out;
	struct tsx *cur_tsx; /* the transaction of the request being answered */
	bool keep;           /* cur_tsx is answered later (sd_tsx_keep) */
};

/* core.c: answer m with code (reason NULL: the standard phrase) and extra
 * header lines, through c->cur_tsx when set, else into out->buf for the
 * caller to send. */
void sd_respond(struct sd_core *c, const struct sip_msg *m, const struct sd_in *in,
		struct sd_out *out, uint16_t code, const char *reason, struct str extra);
/* RFC 3261 §8.2.2.3: 420 for unknown option-tags in header type t (true if
 * it answered). */
bool sd_check_extensions(struct sd_core *c, const struct sip_msg *m, const struct sd_in *in,
			 struct sd_out *out, enum sip_hdr_type t);
/* The Request-URI names this server (its address, or localhost), no user. */
bool sd_addressed_to_us(const struct sip_msg *m, const struct sd_in *in);
/* host (as in a URI) is the address the request came in on, or localhost. */
bool sd_host_is_us(struct str host, const struct sd_in *in);

/* core_auth.c: digest authentication of m for realm (RFC 3261 §22),
 * Authorization and 401 for the registrar, Proxy-Authorization and 407
 * when proxy. Returns true when it answered (challenge, 400, 403, 500);
 * otherwise *user (unquoted, in ub[0..cap)) is who authenticated. */
bool sd_auth_check(struct sd_core *c, const struct sip_msg *m, const struct sd_in *in,
		   struct sd_out *out, struct str realm, bool proxy, char *ub, size_t cap,
		   struct str *user);
/* The realm of a domain: host in lower case into out (the subscriber
 * store keys users by it). Returns its length or -ENOSPC. */
int sd_realm_of(struct str host, char *out, size_t cap);
/* Is the user part of uri, escapes decoded (§19.1.4), exactly user? */
bool sd_uri_user_is(struct str uri, struct str user);

/* core_reg.c: REGISTER handling. init: when cfg has a registrar and the
 * core is stateful, this worker's registrar and completion queue. fini:
 * sends the answers still owed, then frees. */
int sd_reg_init(struct sd_core *c, const struct sd_core_cfg *cfg);
void sd_reg_fini(struct sd_core *c);
/* A REGISTER: true when the registrar took it (answered now or later),
 * false when it is not for this server's registrar. */
bool sd_reg_request(struct sd_core *c, const struct sip_msg *m, const struct sd_in *in,
		    struct sd_out *out);

void sd_tsx_init(struct sd_core *c, const struct sd_core_cfg *cfg);
/* Terminate every transaction this core owns (shutdown). */
void sd_tsx_shutdown(struct sd_core *c);

/* Before answering a parsed request: returns 1 if the request belongs to an
 * existing transaction (absorbed or handled: do nothing more), 0 to go on
 * and answer it (c->cur_tsx is then the new transaction, or NULL when
 * stateless or it could not be created). */
int sd_tsx_request(struct sd_core *c, const struct sip_msg *m, const struct sd_in *in,
		   const struct sip_resp_opts *trying, const struct tp_addr *dst);
/* After answering: drop the creator's reference; a transaction the answer
 * did not complete is terminated. */
void sd_tsx_request_done(struct sd_core *c);
/* Hand a built response to the current transaction (which sends it and
 * keeps it for retransmission). Returns 0, or a negative code (the caller
 * then sends it statelessly). */
int sd_tsx_respond(struct sd_core *c, uint16_t code, const char *buf, size_t len);
/* Keep the current transaction open past this input (its final response
 * comes later): returns it with a reference for the caller, or NULL when
 * stateless. */
struct tsx *sd_tsx_keep(struct sd_core *c);

/* RFC 3261 §9.2: 200 for a CANCEL whose INVITE transaction exists (our
 * final response to it, if sent, stands), 481 when there is none. */
uint16_t sd_tsx_cancel_code(struct sd_core *c, const struct sip_msg *cancel);

#endif
