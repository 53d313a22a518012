/* siphond's settings and its wiring: listeners -> message core -> replies. */
#ifndef SIPHON_SIPHOND_SERVER_H
#define SIPHON_SIPHOND_SERVER_H

#include "base/token.h"
#include "base/config.h"
#include "registrar/reg.h"
#include "siphond/balance.h"
#include "siphond/core.h"
#include "base/log.h"
#include "base/loop.h"
#include "transport/addr.h"
#include "tsx/timers.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SD_LISTEN_MAX 32
#define SD_WORKERS_MAX 64  /* connection ids carry the worker index */
#define SD_EGRESS_MAX 64   /* allow + deny networks */
#ifdef SIPHON_DATA_DIR_DEFAULT /* cmake -DSIPHON_DATA_DIR=/var/lib/siphon */
#define SD_DATA_DIR_DEFAULT SIPHON_DATA_DIR_DEFAULT
#else
#define SD_DATA_DIR_DEFAULT "var"
#endif
#define SD_LISTEN_DEFAULT "udp:127.0.0.1:5060,tcp:127.0.0.1:5060"
#define SD_TLS_HANDSHAKE_TIMEOUT_DEFAULT 10 /* seconds */
#define SD_DOMAINS_MAX 256
#define SD_LOC_DB_FILE "location.db"
#define SD_MOVED_MAX 256
#define SD_ROUTES_MAX 256

/* [auth] register_user_match: who may change the bindings of an AoR. */
enum sd_user_match {
	SD_MATCH_BOTH = 0, /* To and From user = the authenticated user (default) */
	SD_MATCH_TO,       /* only To: third-party registrations allowed */
	SD_MATCH_OFF,      /* any authenticated subscriber of the realm */
};

struct sd_listen {
	enum tp_proto proto;
	struct tp_addr addr;
};

/* One [egress] network, kept as written ("any", "10.0.0.0/8", "::1"). */
struct sd_egress_rule {
	bool allow;
	char cidr[64];
};

/* Everything siphond can be told, from the config file and the command line
 * (docs/configuration.md). Strings are owned (mem_*), freed by sd_config_clear. */
struct sd_config {
	struct sd_listen listen[SD_LISTEN_MAX];
	unsigned nlisten;
	char *data_dir;          /* NULL: SD_DATA_DIR_DEFAULT */
	char *server_name;       /* NULL: "Siphon/<version>" */
	unsigned workers;        /* 1..SD_WORKERS_MAX; 0: sd_workers_default() */
	enum sd_udp_balance udp_balance; /* [server] udp_balance (balance.h); adaptive */
	enum log_level log_level;
	enum log_target log_target;   /* [log] target: stderr (default) or syslog */
	bool log_sip_trace;           /* [log] sip_trace: every message, at debug level */
	unsigned tcp_max_conns;
	unsigned tcp_max_per_source;  /* inbound connections per IP; 0: no cap */
	unsigned tcp_idle_timeout;    /* seconds */
	unsigned tcp_partial_timeout; /* seconds */
	/* [tls]: server certificate chain and key (PEM), CA file for verifying
	 * TLS peers we connect to (NULL: system store) */
	char *tls_certificate;
	char *tls_private_key;
	char *tls_ca_file;
	bool tls_verify_peer;
	unsigned tls_handshake_timeout; /* seconds */
	/* [egress]: the networks replies and requests may go to; with no allow
	 * rule, any unicast destination is allowed (tp_egress_set_default) */
	struct sd_egress_rule egress[SD_EGRESS_MAX];
	unsigned negress;
	/* [transactions]: RFC 3261 timers T1, T2, T4 and Timer D, milliseconds */
	struct tsx_timers timers;

	/* [domains] serve: the domains whose AoRs this server keeps (lower
	 * case); none: its own addresses and "localhost" */
	char *domains[SD_DOMAINS_MAX];
	unsigned ndomains;
	/* [registrar] */
	bool reg_enabled;
	struct reg_cfg reg;           /* numbers and policy; queue/server set per worker */
	uint16_t reg_foreign_code;    /* REGISTER for a domain not served: 403 or 404 */
	/* [location] */
	int loc_backend;              /* enum loc_backend */
	char *loc_database;           /* NULL: <data_dir>/location.db */
	char *redis_addr, *redis_prefix, *redis_password;
	unsigned loc_purge_interval;  /* seconds */
	/* [auth] */
	uint64_t auth_methods;        /* bit (1 << enum sip_method) set: needs credentials */
	unsigned nonce_ttl;           /* seconds */
	char *auth_secret_file;       /* NULL: a random secret per start */
	int auth_algs[2];             /* enum auth_alg, in the order offered */
	unsigned auth_nalgs;
	enum sd_user_match user_match;
	/* [proxy] */
	bool pxy_enabled;
	bool pxy_record_route;
	bool pxy_stateless;           /* [proxy] mode = stateless */
	unsigned pxy_timer_c;         /* seconds */
	unsigned rate_limit;          /* requests a second per source IP; 0: off */
	unsigned rate_burst;          /* 0: rate_limit */
	/* [redirect] */
	bool redirect;
	struct sd_moved moved[SD_MOVED_MAX];
	unsigned nmoved;
	/* [dns] */
	char *dns_servers;
	/* [routes] */
	struct sd_route routes[SD_ROUTES_MAX];
	unsigned nroutes;
	/* [http] listen: the HTTP interface's address (http.h); NULL: off */
	char *http_listen;
	/* [http] token_file: requests need its token (http_auth.h); NULL: none */
	char *http_token_file;
};

/* Settings of the [domains], [registrar], [location] and [auth] sections
 * (config_reg.c); -ENOENT when section is none of them. */
int sd_config_set_reg(struct sd_config *c, const char *section, const char *key,
		      const char *value, const char **why);
void sd_config_init_reg(struct sd_config *c);
void sd_config_clear_reg(struct sd_config *c);
/* Add "example.com, example.org" to the served domains. */
int sd_config_add_domains(struct sd_config *c, const char *list, const char **why);

/* One worker per online CPU, within 1..SD_WORKERS_MAX. */
unsigned sd_workers_default(void);

void sd_config_init(struct sd_config *c);
void sd_config_clear(struct sd_config *c);

/* Apply one "[section] key = value". Returns 0, -EINVAL (*why says why) or
 * -ENOMEM. "listen" adds (a comma list adds each). */
int sd_config_set(struct sd_config *c, const char *section, const char *key, const char *value,
		  const char **why);
/* Value parsers for sd_config_set and its sections: 0, or -EINVAL with
 * *why set to msg (or a stock phrase), or -ENOMEM. sd_cfg_str replaces
 * *dst with a copy of a non-empty value. */
int sd_cfg_str(char **dst, const char *value, const char **why);
int sd_cfg_uint(unsigned *dst, const char *value, unsigned min, unsigned max, const char *msg,
		const char **why);
int sd_cfg_u32(uint32_t *dst, const char *value, unsigned min, unsigned max, const char *msg,
	       const char **why);
int sd_cfg_bool(bool *dst, const char *value, const char **why);

/* Add listen addresses from "udp:127.0.0.1:5060[,tcp:...]". */
int sd_config_add_listen(struct sd_config *c, const char *list, const char **why);
/* Read a config file into c. Returns 0 or negative with err->msg filled. */
int sd_config_load(struct sd_config *c, const char *path, struct config_err *err);
/* Rules across keys (a tls listener needs a certificate and a key). Returns
 * 0 or -EINVAL with msg filled. */
int sd_config_validate(const struct sd_config *c, char *msg, size_t cap);

struct tp_egress;
/* The egress policy c describes (the default when it has no allow rule).
 * Returns 0 or -ENOMEM. */
int sd_egress_create(const struct sd_config *c, struct tp_egress **out);

struct tp_tls_ctx;
/* The TLS contexts c asks for: *srv when it has a certificate, *cli when any
 * TLS is configured; NULL otherwise. Reads the certificate, key and CA
 * files: on failure msg names the file and the reason, and the return is
 * negative (tp_tls_*_ctx_create codes). */
int sd_tls_create(const struct sd_config *c, struct tp_tls_ctx **srv, struct tp_tls_ctx **cli,
		  char *msg, size_t cap);
/* [http] token_file's token into tok (empty when c names no file or no
 * [http] listen: there is nothing to guard then). Returns
 * 0, or negative with msg naming the file and the reason. */
int sd_http_token_load(const struct sd_config *c, char tok[TOKEN_MAX + 1], char *msg,
		       size_t msgcap);

struct sd_server;

/* Create the shared state (transaction table, egress policy, TLS contexts,
 * per-source connection counts), make sure no other process holds a listen
 * address (SO_REUSEPORT would let us share it silently: that fails with
 * -EADDRINUSE and a log line naming the address), then cfg->workers workers (0: sd_workers_default()), each with its own
 * loop and core and its own socket on every listen address (SO_REUSEPORT;
 * worker 0 binds first, so port 0 means one port for all). On a bind or TLS
 * error the logged message names the address or file. No thread runs yet.
 * Returns 0, -ENOMEM or a negated errno. */
int sd_server_create(struct sd_server **out, const struct sd_config *cfg);
/* Start the worker threads. Returns 0 or a negated errno (the ones started
 * are stopped again by sd_server_destroy()). */
int sd_server_start(struct sd_server *s);
/* Stop the workers (all asked at once, then joined) and free everything. */
void sd_server_destroy(struct sd_server *s);

unsigned sd_server_workers(const struct sd_server *s);

/* Write bytes on stream connection conn_id (tp_tcp_conn_id() of a
 * connection of any worker), from any thread. The owner writes them: at once
 * from its own thread, else through its queue. Returns 0, -ENOENT (no such
 * worker or connection: dropped and logged), -ENOBUFS (owner's queue full),
 * -EMSGSIZE, -EACCES (egress policy) or a send error. */
int sd_server_send_stream(struct sd_server *s, uint64_t conn_id, const void *buf, size_t len);

/* SIGHUP (reload.c): apply what can change live from ncfg (validated; taken
 * over and freed here) without dropping calls or registrations; what needs a
 * restart is logged and left. The workers take the new settings at a safe
 * point of their loops; the old ones are freed on main_loop once every
 * worker has moved on. Returns 0 or -ENOMEM (the running settings stay). */
int sd_server_reload(struct sd_server *s, struct sd_config *ncfg, struct loop *main_loop);

/* "udp:127.0.0.1:5060 tcp:[::1]:5060 tls:..." (real ports) into buf. */
const char *sd_server_addrs(const struct sd_server *s, char *buf, size_t cap);

#endif
