/* One siphond worker: a thread with its own event loop, message core, UDP
 * sockets (SO_REUSEPORT, one per UDP listen address), stream listeners and
 * the connections they accept, and a cross-worker queue (transport/xq.h)
 * through which other threads write to those connections (DESIGN.md,
 * Transactions and concurrency). Nothing here is shared but struct
 * sd_shared, which is read-only while workers run (the transaction table
 * locks itself). */
#ifndef SIPHON_SIPHOND_WORKER_H
#define SIPHON_SIPHOND_WORKER_H

#include "siphond/balance.h"
#include "siphond/server.h"
#include "transport/tcp.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct tp_egress;
struct tp_tls_ctx;
struct tsx_table;
struct sd_regsvc;
struct sd_pxy_cfg;
struct pxy_self;

/* What every worker reads; owned by struct sd_server. */
struct sd_shared {
	const struct tp_egress *egress;
	struct tsx_table *tsx;
	struct tp_tls_ctx *tls_srv;
	const char *server_name;
	const struct tsx_timers *timers;
	struct tp_tcp_cfg tcp; /* id_tag is set per worker; quota, srclim shared */
	const struct sd_regsvc *regsvc; /* NULL: no registrar */
	const struct sd_pxy_cfg *pxy;   /* NULL: no proxy */
	struct tp_ratelim *ratelim;     /* NULL: no rate limit */
	const struct pxy_self *self;    /* filled once every worker is bound */
	const struct sd_listen *bound;  /* the server's listen addresses, real ports */
	const unsigned *nbound;
	struct tp_tls_ctx *tls_cli;     /* TLS connections we open */
	struct tp_flows *flows;         /* connections peers opened, by source */
	struct sd_worker *const *workers; /* every worker (handoff) */
	const unsigned *nworkers;
	const struct sd_live *_Atomic *live; /* the settings a reload changes (reload.h) */
	enum sd_udp_balance udp_balance; /* worker 0 steers the UDP groups (balance.h) */
};

struct sd_worker;

/* Worker idx (< SD_WORKERS_MAX): bind every address of ls[0..n) (port 0
 * picks one), writing the bound addresses (real ports) to bound[0..n). On
 * an error the log names the address. Returns 0, -ENOMEM or a negated errno.
 * The worker runs nothing until sd_worker_start(). */
int sd_worker_create(struct sd_worker **out, const struct sd_shared *sh, unsigned idx,
		     const struct sd_listen *ls, unsigned n, struct sd_listen *bound);
/* Stops and joins the thread if it runs, then frees everything. */
void sd_worker_destroy(struct sd_worker *w);

/* Start the thread (SIGTERM, SIGINT and SIGHUP stay blocked in it: they
 * are the main thread's). Returns 0 or a negated errno. */
int sd_worker_start(struct sd_worker *w);
/* Ask the thread to stop (any thread, non-blocking) and, with join, wait
 * for it. */
void sd_worker_stop(struct sd_worker *w, bool join);

/* Write to the stream connection id of this worker. From its own thread the
 * bytes go straight to the connection; from any other thread they are
 * copied onto the worker's queue and written by its thread. Returns 0,
 * -ENOENT (no such connection here now: dropped and logged), -ENOBUFS
 * (queue full), -EMSGSIZE, -EACCES (egress) or a send error. */
int sd_worker_send_stream(struct sd_worker *w, uint64_t id, const void *buf, size_t len);

/* A reload: wake the worker to take *sh->live between two events (any
 * thread). */
void sd_worker_reload(struct sd_worker *w);
/* The generation (struct sd_live seq) the worker runs (acquire). */
uint64_t sd_worker_live_seq(const struct sd_worker *w);

/* The worker whose thread is calling, or NULL (main thread). */
struct sd_worker *sd_worker_current(void);

#endif
