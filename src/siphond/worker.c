#include "siphond/worker.h"

#include "base/log.h"
#include "base/loop.h"
#include "base/mem.h"
#include "siphond/core.h"
#include "siphond/reload.h"
#include "transport/egress.h"
#include "transport/flows.h"
#include "transport/udp.h"
#include "transport/xq.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define MOD "worker"

struct sd_udp {
	struct sd_worker *w;
	struct tp_udp *u;
};

struct sd_worker {
	const struct sd_shared *sh;
	unsigned idx;
	struct loop *loop;
	struct sd_core *core;
	struct tp_tcp *tcp;
	struct xq *xq;   /* writes to our connections from other threads */
	struct xq *inbox; /* messages of our transactions received by other workers */
	int stop_fd;     /* eventfd: written to stop the loop */
	int reload_fd;   /* eventfd: written when *sh->live changed */
	_Atomic uint64_t live_seq; /* the generation this worker runs */
	pthread_t thread;
	bool started;
	_Atomic clockid_t cpu_clock; /* the thread's CPU-time clock; -1: not running */
	struct sd_balance *balance;  /* worker 0: the UDP steering (balance.h) */
	struct sd_udp udp[SD_LISTEN_MAX];
	unsigned nudp;
	char reply[SD_REPLY_MAX]; /* one reply at a time: written, then sent */
};

static _Thread_local struct sd_worker *current;

struct sd_worker *sd_worker_current(void)
{
	return current;
}

/* ---- SIP trace ([log] sip_trace, --trace): every message in and out ---- */

static void trace(bool sent, enum tp_proto proto, const struct tp_addr *peer, const char *buf,
		  size_t len)
{
	char ab[64];

	log_sip(sent, tp_proto_lc(proto), tp_addr_fmt(peer, ab, sizeof(ab)), buf, len);
}

/* one relaxed load when off: no formatting on the hot path */
#define TRACE(...) \
	do { \
		if (log_sip_trace_on()) \
			trace(__VA_ARGS__); \
	} while (0)

/* ---- receive paths: bytes -> core -> reply ---- */

static void on_datagram(struct tp_udp *u, const char *buf, size_t len, const struct tp_addr *src,
			void *arg)
{
	struct sd_udp *su = arg;
	struct sd_worker *w = su->w;
	struct sd_in in = { .buf = buf, .len = len, .proto = TP_UDP, .src = *src,
			    .local = *tp_udp_rx_local(u) };
	struct sd_out out = { .buf = w->reply, .cap = sizeof(w->reply) };
	char ab[64];
	int rc;

	TRACE(false, TP_UDP, src, buf, len);
	sd_core_input(w->core, &in, &out);
	if (!out.len)
		return;
	if (!out.dst.len)
		out.dst = *src;
	TRACE(true, TP_UDP, &out.dst, out.buf, out.len);
	rc = tp_udp_send_from(u, out.buf, out.len, &out.dst, &in.local); /* egress checked there */
	if (rc < 0 && rc != -EACCES)
		log_debug(MOD, "udp reply to %s: %s", tp_addr_fmt(&out.dst, ab, sizeof(ab)),
			  strerror(-rc));
}

static ssize_t on_stream(struct tp_tcp_conn *c, const char *buf, size_t len, void *arg)
{
	struct sd_worker *w = arg;
	struct sd_in in = { .buf = buf, .len = len, .proto = tp_tcp_conn_proto(c),
			    .src = *tp_tcp_conn_peer(c), .local = *tp_tcp_conn_local(c),
			    .conn_id = tp_tcp_conn_id(c) };
	struct sd_out out = { .buf = w->reply, .cap = sizeof(w->reply) };
	ssize_t r;

	r = sd_core_input(w->core, &in, &out);
	if (r > 0)
		TRACE(false, in.proto, &in.src, buf, (size_t)r);
	if (r == 0 && out.need)
		tp_tcp_conn_set_need(c, out.need);
	if (out.len)
		TRACE(true, in.proto, &in.src, out.buf, out.len);
	/* RFC 3261 §18.2.2: a response over a stream goes back on the same
	 * connection (egress checked in tp_tcp_send) */
	if (out.len && tp_tcp_send(c, out.buf, out.len) < 0)
		return -EPIPE;
	if (r < 0)
		return r;
	if (out.close_after)
		return -EPROTO; /* RFC 3261 §18.3: framing lost */
	return r;
}

/* The core's sender for retransmissions (RFC 3261 §17.2.2): from the socket
 * bound to local, else from any of ours of the same family. */
static int send_udp(void *ctx, const struct tp_addr *local, const struct tp_addr *dst,
		    const void *buf, size_t len)
{
	struct sd_worker *w = ctx;
	struct tp_udp *u = NULL;

	for (unsigned i = 0; i < w->nudp && !u; i++)
		if (local && tp_addr_equal(tp_udp_local(w->udp[i].u), local))
			u = w->udp[i].u;
	/* a wildcard socket on the same port covers every address of ours */
	for (unsigned i = 0; i < w->nudp && !u; i++) {
		const struct tp_addr *l = tp_udp_local(w->udp[i].u);
		if (local && tp_udp_is_wildcard(w->udp[i].u) && l->ss.ss_family == local->ss.ss_family &&
		    tp_addr_port(l) == tp_addr_port(local))
			u = w->udp[i].u;
	}
	for (unsigned i = 0; i < w->nudp && !u; i++)
		if (tp_udp_local(w->udp[i].u)->ss.ss_family == dst->ss.ss_family)
			u = w->udp[i].u;
	if (!u)
		return -EAFNOSUPPORT;
	TRACE(true, TP_UDP, dst, buf, len);
	return tp_udp_send_from(u, buf, len, dst, local);
}

/* ---- stream writes handed over by other threads ---- */

static int send_local(struct sd_worker *w, uint64_t id, const void *buf, size_t len)
{
	struct tp_tcp_conn *c = tp_tcp_conn_find(w->tcp, id);

	if (!c) {
		log_info(MOD, "connection %#llx is gone: %zu bytes for it dropped",
			 (unsigned long long)id, len);
		return -ENOENT;
	}
	TRACE(true, tp_tcp_conn_proto(c), tp_tcp_conn_peer(c), buf, len);
	return tp_tcp_send(c, buf, len);
}

static void on_handover(uint64_t id, const char *buf, size_t len, void *arg)
{
	send_local(arg, id, buf, len);
}

int sd_worker_send_stream(struct sd_worker *w, uint64_t id, const void *buf, size_t len)
{
	int err;

	if (current == w)
		return send_local(w, id, buf, len);
	err = xq_push(w->xq, id, buf, len);
	if (err < 0)
		log_info(MOD, "write for connection %#llx (%zu bytes) not handed to worker %u: %s",
			 (unsigned long long)id, len, w->idx, strerror(-err));
	return err;
}

/* The core's sender for a transaction's late stream sends: to the worker
 * whose connection it is, which is not this one for a request another
 * worker received and handed over (its id carries the owner's tag). */
static int send_stream(void *ctx, uint64_t id, const void *buf, size_t len)
{
	struct sd_worker *w = ctx;
	unsigned owner = TP_TCP_ID_TAG(id);

	if (owner < *w->sh->nworkers)
		w = w->sh->workers[owner];
	return sd_worker_send_stream(w, id, buf, len);
}

/* ---- proxy: our listen addresses, sending requests, handoffs ---- */

static int local_addr(void *ctx, enum tp_proto proto, int family, struct tp_addr *out)
{
	struct sd_worker *w = ctx;

	for (unsigned i = 0; i < *w->sh->nbound; i++) {
		const struct sd_listen *b = &w->sh->bound[i];

		if (b->proto == proto && b->addr.ss.ss_family == family) {
			*out = b->addr;
			return 0;
		}
	}
	return -EAFNOSUPPORT;
}

static int send_req(void *ctx, const struct sd_hop *hop, const void *buf, size_t len,
		    uint64_t *conn_id)
{
	struct sd_worker *w = ctx;
	enum tp_proto proto = hop->proto;
	const struct tp_addr *dst = &hop->dst;
	const char *tls_name = hop->tls_name;
	struct tp_tcp_conn *conn;
	int err;

	if (conn_id)
		*conn_id = 0;
	if (proto == TP_UDP)
		return send_udp(w, NULL, dst, buf, len);
	/* RFC 5626 §5.3: a registration's flow (dst opened a connection to
	 * us, its source port no listener): over it, on whichever worker holds
	 * it (send_local traces it). Only for a flow: a TLS next hop is a
	 * server whose certificate we check, never a client's connection. */
	if (hop->use_flow) {
		uint64_t id = tp_flows_find(w->sh->flows, proto, dst);

		if (id) {
			if (conn_id)
				*conn_id = id;
			return send_stream(w, id, buf, len);
		}
	}
	if (hop->flow_only)
		return -ENOTCONN; /* the UA reconnects and registers again (RFC 5626 §4.4) */
	if (proto == TP_TLS && !w->sh->tls_cli)
		return -EPROTONOSUPPORT;
	/* RFC 3261 §18.1.1: an open connection to dst is reused (a TLS one
	 * only for the same name, RFC 5923 §5) */
	err = tp_tcp_get(w->tcp, dst, proto == TP_TLS ? w->sh->tls_cli : NULL,
			 proto == TP_TLS ? tls_name : NULL, &conn);
	if (err < 0)
		return err;
	if (conn_id)
		*conn_id = tp_tcp_conn_id(conn);
	TRACE(true, proto, dst, buf, len);
	return tp_tcp_send(conn, buf, len);
}

/* Connections come and go. One a peer opened is its flow (flows.h) while
 * it lasts: requests to the address it came from go over it. One we
 * opened that never came up (tcp.c logged why) never sent what was queued
 * on it; their transactions hear of it now rather than at Timer B / F. */
static void on_conn_event(struct tp_tcp_conn *conn, enum tp_tcp_event ev, int err, void *arg)
{
	struct sd_worker *w = arg;
	uint64_t id = tp_tcp_conn_id(conn);

	if (tp_tcp_conn_outbound(conn)) {
		if (ev == TP_TCP_DOWN && !tp_tcp_conn_was_up(conn))
			sd_core_conn_failed(w->core, id, err ? err : -ECONNABORTED);
		return;
	}
	if (ev == TP_TCP_UP) {
		if (tp_flows_add(w->sh->flows, tp_tcp_conn_proto(conn), tp_tcp_conn_peer(conn), id) < 0)
			log_warn(MOD, "out of memory: connection %#llx is no flow",
				 (unsigned long long)id);
	} else {
		tp_flows_del(w->sh->flows, tp_tcp_conn_proto(conn), tp_tcp_conn_peer(conn), id);
	}
}

/* What travels with a handed-over message. */
struct handed {
	enum tp_proto proto;
	struct tp_addr src, local;
	uint64_t conn_id;
};

static int handoff(void *ctx, unsigned idx, const struct sd_in *in)
{
	struct sd_worker *w = ctx, *to;
	char buf[sizeof(struct handed) + SD_MAX_MESSAGE];
	struct handed h = { .proto = in->proto, .src = in->src, .local = in->local,
			    .conn_id = in->conn_id };
	size_t n = in->len;
	int err;

	if (idx >= *w->sh->nworkers || n > SD_MAX_MESSAGE)
		return -EINVAL;
	to = w->sh->workers[idx];
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), in->buf, n);
	err = xq_push(to->inbox, 0, buf, sizeof(h) + n);
	if (err < 0)
		log_info(MOD, "message for worker %u dropped: %s", idx, strerror(-err));
	return err;
}

static void on_inbox(uint64_t id, const char *buf, size_t len, void *arg)
{
	struct sd_worker *w = arg;
	struct handed h;
	struct sd_in in;
	struct sd_out out = { .buf = w->reply, .cap = sizeof(w->reply) };

	(void)id;
	if (len < sizeof(h))
		return;
	memcpy(&h, buf, sizeof(h));
	in = (struct sd_in){ .buf = buf + sizeof(h), .len = len - sizeof(h), .proto = h.proto,
			     .src = h.src, .local = h.local, .conn_id = h.conn_id };
	sd_core_input_handed(w->core, &in, &out);
	if (!out.len)
		return;
	if (h.proto == TP_UDP) {
		send_udp(w, &h.local, out.dst.len ? &out.dst : &h.src, out.buf, out.len);
	} else {
		unsigned owner = TP_TCP_ID_TAG(h.conn_id);

		if (owner < *w->sh->nworkers)
			sd_worker_send_stream(w->sh->workers[owner], h.conn_id, out.buf, out.len);
	}
}

/* ---- thread ---- */

static void on_stop(int fd, unsigned events, void *arg)
{
	struct sd_worker *w = arg;
	uint64_t v;

	(void)events;
	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_debug(MOD, "eventfd read: %s", strerror(errno));
	loop_stop(w->loop);
}

/* A safe point: no callback of ours is running, so nothing holds a pointer
 * into the generation being left. */
static void on_reload(int fd, unsigned events, void *arg)
{
	struct sd_worker *w = arg;
	const struct sd_live *l;
	uint64_t v;

	(void)events;
	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_debug(MOD, "eventfd read: %s", strerror(errno));
	l = atomic_load_explicit(w->sh->live, memory_order_acquire);
	if (!l)
		return;
	sd_core_set_live(w->core, l);
	/* release: the main thread frees the older generation after this */
	atomic_store_explicit(&w->live_seq, l->seq, memory_order_release);
}

void sd_worker_reload(struct sd_worker *w)
{
	uint64_t one = 1;

	while (write(w->reload_fd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
}

uint64_t sd_worker_live_seq(const struct sd_worker *w)
{
	return atomic_load_explicit(&w->live_seq, memory_order_acquire);
}

/* CPU time of worker i's thread (balance.h); read by worker 0. */
static uint64_t worker_cpu_ns(void *ctx, unsigned i)
{
	const struct sd_worker *w0 = ctx;
	const struct sd_worker *w;
	struct timespec ts;
	clockid_t cid;

	if (i >= *w0->sh->nworkers)
		return 0;
	w = w0->sh->workers[i];
	cid = atomic_load_explicit(&w->cpu_clock, memory_order_acquire);
	if (cid == (clockid_t)-1 || clock_gettime(cid, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void *worker_main(void *arg)
{
	struct sd_worker *w = arg;
	clockid_t cid;
	int err;

	current = w;
	{
		/* "siphond-w0": top -H, ps -L and /proc/PID/task/TID/comm tell
		 * the workers apart (15 characters at most) */
		char name[16];

		snprintf(name, sizeof(name), "siphond-w%u", w->idx);
		pthread_setname_np(pthread_self(), name);
	}
	if (pthread_getcpuclockid(pthread_self(), &cid) == 0)
		atomic_store_explicit(&w->cpu_clock, cid, memory_order_release);
	err = loop_run(w->loop);
	sd_balance_destroy(w->balance);
	w->balance = NULL;
	atomic_store_explicit(&w->cpu_clock, (clockid_t)-1, memory_order_release);
	current = NULL;
	if (err < 0) {
		/* the process cannot serve without this worker: stop it all */
		log_err(MOD, "worker %u: event loop failed: %s; stopping", w->idx, strerror(-err));
		kill(getpid(), SIGTERM);
	}
	return NULL;
}

int sd_worker_start(struct sd_worker *w)
{
	sigset_t set, old;
	int err;

	/* Worker 0 steers the UDP groups before any worker runs, so the
	 * steering is in place when siphond says it is listening. Every
	 * worker bound its sockets before any started (server.c); the
	 * balancer's timer joins the loop before its thread exists. */
	if (w->idx == 0 && w->nudp) {
		struct tp_udp *groups[SD_LISTEN_MAX];

		for (unsigned i = 0; i < w->nudp; i++)
			groups[i] = w->udp[i].u;
		if (sd_balance_create(&w->balance, w->loop, w->sh->udp_balance,
				      *w->sh->nworkers, groups, w->nudp, worker_cpu_ns, w) < 0)
			log_warn(MOD, "no memory for UDP balancing: the kernel's hash spreads "
				      "datagrams over every worker");
	}
	/* the main thread takes these through its signalfd; a new thread
	 * inherits the mask, so it never runs with them unblocked */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	err = pthread_create(&w->thread, NULL, worker_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		sd_balance_destroy(w->balance);
		w->balance = NULL;
		return -err;
	}
	w->started = true;
	return 0;
}

void sd_worker_stop(struct sd_worker *w, bool join)
{
	uint64_t one = 1;

	if (!w->started)
		return;
	while (write(w->stop_fd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
	if (!join)
		return;
	pthread_join(w->thread, NULL);
	w->started = false;
}

/* ---- lifecycle ---- */

static int bind_one(struct sd_worker *w, const struct sd_listen *ls, struct sd_listen *b)
{
	int err;

	b->proto = ls->proto;
	if (ls->proto == TP_UDP) {
		struct sd_udp *su = &w->udp[w->nudp];

		su->w = w;
		err = tp_udp_create(&su->u, w->loop, &ls->addr, on_datagram, su);
		if (err < 0)
			return err;
		tp_udp_set_egress(su->u, w->sh->egress);
		b->addr = *tp_udp_local(su->u);
		w->nudp++;
		return 0;
	}
	if (ls->proto == TP_TCP)
		return tp_tcp_listen(w->tcp, &ls->addr, &b->addr);
	if (w->sh->tls_srv)
		return tp_tcp_listen_tls(w->tcp, &ls->addr, w->sh->tls_srv, &b->addr);
	return -EPROTONOSUPPORT; /* sd_config_validate() prevents it */
}

int sd_worker_create(struct sd_worker **out, const struct sd_shared *sh, unsigned idx,
		     const struct sd_listen *ls, unsigned n, struct sd_listen *bound)
{
	struct sd_core_cfg ccfg = { .server_name = sh->server_name, .tsx = sh->tsx,
				    .send_udp = send_udp, .send_stream = send_stream,
				    .timers = sh->timers, .regsvc = sh->regsvc,
				    .purge = idx == 0, .pxy = sh->pxy, .self = sh->self,
				    .idx = idx, .local_addr = local_addr, .send_req = send_req,
				    .handoff = handoff, .ratelim = sh->ratelim };
	struct tp_tcp_cfg tcfg = sh->tcp;
	struct sd_worker *w;
	int err;

	if (idx >= SD_WORKERS_MAX || n > SD_LISTEN_MAX)
		return -EINVAL;
	w = mem_zalloc(sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->sh = sh;
	w->idx = idx;
	atomic_init(&w->cpu_clock, (clockid_t)-1);
	w->stop_fd = -1;
	w->reload_fd = -1;
	err = loop_create(&w->loop);
	if (err < 0)
		goto fail;
	w->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->stop_fd < 0) {
		err = -errno;
		goto fail;
	}
	err = loop_fd_add(w->loop, w->stop_fd, LOOP_READ, on_stop, w);
	if (err < 0)
		goto fail;
	w->reload_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->reload_fd < 0) {
		err = -errno;
		goto fail;
	}
	err = loop_fd_add(w->loop, w->reload_fd, LOOP_READ, on_reload, w);
	if (err < 0)
		goto fail;
	err = xq_create(&w->xq, 0);
	if (err < 0)
		goto fail;
	err = xq_attach(w->xq, w->loop, on_handover, w);
	if (err < 0)
		goto fail;
	err = xq_create(&w->inbox, 0);
	if (err < 0)
		goto fail;
	err = xq_attach(w->inbox, w->loop, on_inbox, w);
	if (err < 0)
		goto fail;
	ccfg.loop = w->loop;
	ccfg.send_ctx = w;
	err = sd_core_create(&w->core, &ccfg);
	if (err < 0)
		goto fail;
	tcfg.id_tag = idx;
	tcfg.reuseport = true;
	tcfg.egress = sh->egress;
	err = tp_tcp_create(&w->tcp, w->loop, &tcfg, on_stream, w);
	if (err < 0)
		goto fail;
	tp_tcp_set_event_cb(w->tcp, on_conn_event, w);
	for (unsigned i = 0; i < n; i++) {
		char ab[64];

		err = bind_one(w, &ls[i], &bound[i]);
		if (err < 0) {
			log_err("siphond", "cannot listen on %s:%s: %s",
				tp_proto_lc(ls[i].proto),
				tp_addr_fmt(&ls[i].addr, ab, sizeof(ab)), strerror(-err));
			goto fail;
		}
	}
	*out = w;
	return 0;
fail:
	sd_worker_destroy(w);
	return err;
}

void sd_worker_destroy(struct sd_worker *w)
{
	if (!w)
		return;
	sd_worker_stop(w, true);
	/* the thread is gone (joined): its loop and objects are ours now */
	xq_destroy(w->xq);
	xq_destroy(w->inbox);
	if (w->core)
		sd_core_destroy(w->core);
	for (unsigned i = 0; i < w->nudp; i++)
		tp_udp_destroy(w->udp[i].u);
	tp_tcp_destroy(w->tcp);
	if (w->stop_fd >= 0) {
		loop_fd_del(w->loop, w->stop_fd);
		close(w->stop_fd);
	}
	if (w->reload_fd >= 0) {
		loop_fd_del(w->loop, w->reload_fd);
		close(w->reload_fd);
	}
	if (w->loop)
		loop_destroy(w->loop);
	mem_free(w);
}
