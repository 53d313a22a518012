#include "transport/tcp.h"

#include "base/log.h"
#include "base/mem.h"
#include "transport/egress.h"
#include "transport/tcp_priv.h"
#include "transport/tls.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#define TCP_IN_INITIAL 4096
#define TCP_OUT_MAX (1u << 20)  /* a peer that reads nothing gets no more */
#define TCP_ACCEPT_BATCH 64
#define TCP_READ_BATCH 16
#define TCP_ACCEPT_RETRY_MS 100 /* after EMFILE/ENFILE */
#define TCP_MAP_MIN 64u           /* id map buckets: max_conns rounded up, */
#define TCP_MAP_MAX (1u << 16)    /* within these bounds */
#define TCP_ID_SEQ_MASK ((UINT64_C(1) << TP_TCP_ID_SEQ_BITS) - 1)
#define TCP_REFUSE_LOG_MS 1000    /* at most one refusal line per interval */

struct tcp_listener {
	struct tp_tcp *t;
	struct tcp_listener *next;
	int fd;
	struct tp_addr local;
	struct tp_tls_ctx *tls; /* NULL: plain TCP */
	struct loop_timer retry;
};

struct tp_tcp {
	struct loop *loop;
	struct tp_tcp_cfg cfg;
	tp_tcp_recv_cb cb;
	void *arg;
	tp_tcp_event_cb ev_cb;
	void *ev_arg;
	struct tcp_listener *listeners;
	struct tp_tcp_conn *conns;
	unsigned nconns;
	struct tp_tcp_conn **map; /* id -> connection, chained through hnext */
	struct tp_tcp_conn **pmap; /* peer -> outbound connections, via pnext */
	size_t map_mask;           /* both maps have map_mask + 1 buckets */
	uint64_t next_seq;
	uint64_t refuse_log_at;    /* loop_now() of the last refusal line */
	unsigned refused_quiet;    /* refusals not logged since then */
	bool refuse_logged;
	bool destroying; /* no DOWN events from tp_tcp_destroy() */
};

const struct tp_addr *tp_tcp_conn_peer(const struct tp_tcp_conn *c)
{
	return &c->peer;
}

const struct tp_addr *tp_tcp_conn_local(const struct tp_tcp_conn *c)
{
	return &c->local;
}

enum tp_proto tp_tcp_conn_proto(const struct tp_tcp_conn *c)
{
	return c->ssl ? TP_TLS : TP_TCP;
}

bool tp_tcp_conn_is_up(const struct tp_tcp_conn *c)
{
	return c->state == TCP_UP && !c->failed;
}

bool tp_tcp_conn_was_up(const struct tp_tcp_conn *c)
{
	return c->state == TCP_UP;
}

bool tp_tcp_conn_outbound(const struct tp_tcp_conn *c)
{
	return c->outbound;
}

void tp_tcp_conn_set_user(struct tp_tcp_conn *c, void *user)
{
	c->user = user;
}

void tp_tcp_conn_set_need(struct tp_tcp_conn *c, size_t len)
{
	c->need = len;
}

void *tp_tcp_conn_user(const struct tp_tcp_conn *c)
{
	return c->user;
}

unsigned tp_tcp_conn_count(const struct tp_tcp *t)
{
	return t->nconns;
}

uint64_t tp_tcp_conn_id(const struct tp_tcp_conn *c)
{
	return c->id;
}

static size_t map_slot(const struct tp_tcp *t, uint64_t id)
{
	/* sequence numbers are dense: the low bits spread them evenly */
	return (size_t)(id & t->map_mask);
}

struct tp_tcp_conn *tp_tcp_conn_find(const struct tp_tcp *t, uint64_t id)
{
	struct tp_tcp_conn *c;

	for (c = t->map[map_slot(t, id)]; c; c = c->hnext)
		if (c->id == id)
			return c;
	return NULL;
}

static void map_insert(struct tp_tcp *t, struct tp_tcp_conn *c)
{
	struct tp_tcp_conn **head = &t->map[map_slot(t, c->id)];

	c->hnext = *head;
	*head = c;
}

static void map_remove(struct tp_tcp *t, struct tp_tcp_conn *c)
{
	struct tp_tcp_conn **pp = &t->map[map_slot(t, c->id)];

	while (*pp && *pp != c)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = c->hnext;
}

/* ---- outbound connections by peer (RFC 3261 §18.1.1 reuse) ---- */

static size_t peer_slot(const struct tp_tcp *t, const struct tp_addr *a)
{
	uint8_t ip[16];
	uint64_t hi, lo;

	tp_addr_ip16(a, ip);
	memcpy(&hi, ip, 8);
	memcpy(&lo, ip + 8, 8);
	return (size_t)(tp_hash_mix64(tp_hash_mix64(hi) ^ lo ^ tp_addr_port(a)) & t->map_mask);
}

static void pmap_remove(struct tp_tcp *t, struct tp_tcp_conn *c)
{
	struct tp_tcp_conn **pp = &t->pmap[peer_slot(t, &c->peer)];

	while (*pp && *pp != c)
		pp = &(*pp)->pnext;
	if (*pp)
		*pp = c->pnext;
}

/* At most one refusal line per TCP_REFUSE_LOG_MS per struct tp_tcp (one
 * per worker): a flood of connections must not become a flood of logs.
 * Returns whether to log now; *quiet gets the refusals left unlogged since
 * the last line. */
static bool refusal_log_ok(struct tp_tcp *t, unsigned *quiet)
{
	uint64_t now = loop_now(t->loop);

	if (t->refuse_logged && now - t->refuse_log_at < TCP_REFUSE_LOG_MS) {
		t->refused_quiet++;
		return false;
	}
	*quiet = t->refused_quiet;
	t->refused_quiet = 0;
	t->refuse_log_at = now;
	t->refuse_logged = true;
	return true;
}

/* One line per refused destination (the caller drops what it wanted to send). */
static void log_denied(const char *what, const struct tp_addr *a)
{
	char ab[64];

	log_warn("egress", "%s %s denied by the egress policy: dropped", what,
		 tp_addr_fmt(a, ab, sizeof(ab)));
}

void tp_tcp_set_event_cb(struct tp_tcp *t, tp_tcp_event_cb cb, void *arg)
{
	t->ev_cb = cb;
	t->ev_arg = arg;
}

static void conn_close(struct tp_tcp_conn *c, int err, const char *why)
{
	struct tp_tcp *t = c->t;
	char pb[64];

	log_debug("tcp", "closing %s%s: %s", c->ssl ? "TLS " : "",
		  tp_addr_fmt(&c->peer, pb, sizeof(pb)), why);
	if (c->prev)
		c->prev->next = c->next;
	else
		t->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	t->nconns--;
	map_remove(t, c);
	if (c->outbound)
		pmap_remove(t, c);
	if (c->quota_held)
		atomic_fetch_sub(&t->cfg.quota->used, 1);
	if (c->src_held)
		tp_tcp_srclim_put(t->cfg.srclim, &c->peer);
	c->failed = true; /* no more sends from the DOWN callback */
	if (t->ev_cb && !t->destroying)
		t->ev_cb(c, TP_TCP_DOWN, err, t->ev_arg);
	sio_shutdown(c);
	SSL_free(c->ssl);
	loop_fd_del(t->loop, c->fd);
	close(c->fd);
	loop_timer_cancel(t->loop, &c->idle);
	loop_timer_cancel(t->loop, &c->partial);
	loop_timer_cancel(t->loop, &c->setup);
	mem_free(c->in);
	mem_free(c->out);
	mem_free(c->name);
	mem_free(c);
}

static void conn_fail(struct tp_tcp_conn *c, int err)
{
	if (!c->failed)
		c->err = err;
	c->failed = true;
}

/* The readiness the connection's state waits for. */
static unsigned wanted_interest(const struct tp_tcp_conn *c)
{
	unsigned ev = 0;

	switch (c->state) {
	case TCP_CONNECTING:
		ev = LOOP_WRITE;
		break;
	case TCP_HANDSHAKE:
		ev = c->hs_want_write ? LOOP_WRITE : LOOP_READ;
		break;
	case TCP_UP:
		if (!c->closing || c->wr_want_read)
			ev |= LOOP_READ;
		/* when closing, the next writable event finishes the job */
		if (!c->wr_want_read && (c->out_len > c->out_off || c->closing))
			ev |= LOOP_WRITE;
		if (c->rd_want_write && !c->closing)
			ev |= LOOP_WRITE;
		break;
	}
	if (c->failed)
		ev |= LOOP_WRITE; /* closed on the next round */
	return ev;
}

static void update_interest(struct tp_tcp_conn *c)
{
	unsigned ev = wanted_interest(c);

	if (ev == c->ev)
		return;
	if (loop_fd_mod(c->t->loop, c->fd, ev) < 0) {
		conn_fail(c, -ENOMEM);
		return;
	}
	c->ev = ev;
}

/* Write queued output; 0 when all is out, -EAGAIN, or a negative error. */
static int flush_out(struct tp_tcp_conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = sio_write(c, c->out + c->out_off, c->out_len - c->out_off);

		if (n < 0)
			return (int)n;
		c->out_off += (size_t)n;
	}
	c->out_off = c->out_len = 0;
	return 0;
}

int tp_tcp_send(struct tp_tcp_conn *c, const void *buf, size_t len)
{
	const char *p = buf;

	if (c->failed)
		return -EPIPE;
	if (c->denied) {
		log_denied(c->ssl ? "TLS to" : "TCP to", &c->peer);
		conn_fail(c, -EACCES);
		update_interest(c);
		return -EACCES;
	}
	/* ready and nothing queued: try the socket first, queue only the rest */
	while (c->state == TCP_UP && c->out_len == 0 && len) {
		ssize_t n = sio_write(c, p, len);

		if (n == -EAGAIN)
			break;
		if (n < 0) {
			conn_fail(c, (int)n);
			update_interest(c);
			return (int)n;
		}
		p += n;
		len -= (size_t)n;
	}
	if (!len)
		return 0;
	if (c->out_len - c->out_off + len > TCP_OUT_MAX) {
		conn_fail(c, -ENOBUFS);
		update_interest(c);
		return -ENOBUFS;
	}
	if (c->out_off) { /* compact before growing (TLS allows a moving buffer) */
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	if (c->out_len + len > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 4096;
		char *o;

		while (cap < c->out_len + len)
			cap *= 2;
		o = mem_realloc(c->out, cap);
		if (!o) {
			conn_fail(c, -ENOMEM);
			update_interest(c);
			return -ENOMEM;
		}
		c->out = o;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, p, len);
	c->out_len += len;
	update_interest(c);
	return 0;
}

void tp_tcp_conn_close(struct tp_tcp_conn *c)
{
	if (c->state != TCP_UP)
		conn_fail(c, 0); /* nothing can be written yet: just drop it */
	c->closing = true;
	update_interest(c);
}

static void on_idle(void *arg)
{
	conn_close(arg, -ETIMEDOUT, "idle timeout");
}

static void on_partial(void *arg)
{
	struct tp_tcp_conn *c = arg;

	log_info("tcp", "closing a connection that held a partial message for %u ms",
		 c->t->cfg.partial_timeout_ms);
	conn_close(c, -ETIMEDOUT, "partial message timeout");
}

static void on_setup(void *arg)
{
	struct tp_tcp_conn *c = arg;
	char pb[64];

	log_info(c->ssl ? "tls" : "tcp", "%s %s: no %s within %u ms; closing",
		 c->state == TCP_CONNECTING ? "connecting to" : "TLS handshake with",
		 tp_addr_fmt(&c->peer, pb, sizeof(pb)),
		 c->state == TCP_CONNECTING ? "connection" : "handshake",
		 c->t->cfg.handshake_timeout_ms);
	conn_close(c, -ETIMEDOUT, "setup timeout");
}

static bool only_crlf(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != '\r' && p[i] != '\n')
			return false;
	return true;
}

/* Hand complete messages to the callback, answering keep-alives on the way. */
static void process(struct tp_tcp_conn *c)
{
	struct tp_tcp *t = c->t;
	size_t off = 0;
	bool progressed = false;

	while (off < c->in_len && !c->closing && !c->failed) {
		const char *p = c->in + off;
		size_t n = c->in_len - off;
		ssize_t r;

		if (p[0] == '\r' || p[0] == '\n') {
			/* RFC 5626 §4.4.1: a CRLFCRLF "ping" gets a CRLF "pong" */
			if (n >= 4 && memcmp(p, "\r\n\r\n", 4) == 0) {
				tp_tcp_send(c, "\r\n", 2);
				off += 4;
				progressed = true;
				continue;
			}
			/* could still become a ping: wait for the next bytes */
			if (only_crlf(p, n) && n < 4 && (n < 2 || p[1] == '\n') &&
			    p[0] == '\r')
				break;
			/* RFC 3261 §7.5: CRLFs before a message are ignored */
			off += (p[0] == '\r' && n >= 2 && p[1] == '\n') ? 2 : 1;
			progressed = true;
			continue;
		}
		/* RFC 3261 §18.3 framing, incrementally: nothing to parse until
		 * the header section has ended, then until the body is in */
		if (c->need > n)
			break;
		if (c->need == 0) {
			size_t from = c->scanned > 3 ? c->scanned - 3 : 0;
			if (!memmem(p + from, n - from, "\r\n\r\n", 4)) {
				c->scanned = n;
				break;
			}
		}
		r = t->cb(c, p, n, t->arg);
		if (r < 0) {
			c->closing = true;
			break;
		}
		if (r == 0)
			break;
		off += (size_t)r > n ? n : (size_t)r;
		c->scanned = c->need = 0;
		progressed = true;
	}
	if (off) {
		memmove(c->in, c->in + off, c->in_len - off);
		c->in_len -= off;
	}
	/* slow-loris guard: the clock runs from when a partial message appears
	 * and restarts only when a whole message was taken */
	if (c->in_len == 0 || only_crlf(c->in, c->in_len))
		loop_timer_cancel(t->loop, &c->partial);
	else if (progressed || !loop_timer_pending(&c->partial))
		if (loop_timer_add(t->loop, &c->partial, t->cfg.partial_timeout_ms, on_partial, c) < 0)
			conn_fail(c, -ENOMEM);
}

static void too_large(struct tp_tcp_conn *c)
{
	/* a message above the cap: nothing sensible to answer */
	log_info("tcp", "closing a connection with a message above %zu bytes", c->t->cfg.max_msg);
	conn_close(c, -EMSGSIZE, "message too large");
}

/* Returns false when the connection was closed. */
static bool conn_read(struct tp_tcp_conn *c)
{
	struct tp_tcp *t = c->t;

	/* decrypted bytes held by OpenSSL raise no epoll event: drain them */
	for (int i = 0; i < TCP_READ_BATCH || sio_pending(c); i++) {
		ssize_t n;

		if (c->in_len == c->in_cap) {
			size_t cap = c->in_cap ? c->in_cap * 2 : TCP_IN_INITIAL;
			char *b;

			if (c->in_cap >= t->cfg.max_msg) {
				too_large(c);
				return false;
			}
			if (cap > t->cfg.max_msg)
				cap = t->cfg.max_msg;
			b = mem_realloc(c->in, cap);
			if (!b) {
				conn_close(c, -ENOMEM, "out of memory");
				return false;
			}
			c->in = b;
			c->in_cap = cap;
		}
		n = sio_read(c, c->in + c->in_len, c->in_cap - c->in_len);
		if (n == -EAGAIN)
			return true;
		if (n < 0) {
			conn_close(c, (int)n, "read failed");
			return false;
		}
		if (n == 0) {
			conn_close(c, 0, "closed by peer");
			return false;
		}
		c->in_len += (size_t)n;
		if (loop_timer_add(t->loop, &c->idle, t->cfg.idle_timeout_ms, on_idle, c) < 0)
			conn_fail(c, -ENOMEM);
		process(c);
		if (c->failed || c->closing)
			return true;
		if (c->in_len == c->in_cap && c->in_cap >= t->cfg.max_msg) {
			too_large(c);
			return false;
		}
	}
	return true;
}

static void conn_up(struct tp_tcp_conn *c)
{
	struct tp_tcp *t = c->t;

	c->state = TCP_UP;
	loop_timer_cancel(t->loop, &c->setup);
	if (t->ev_cb)
		t->ev_cb(c, TP_TCP_UP, 0, t->ev_arg);
}

/* Connecting or handshaking: one step. Returns false if c was closed. */
static bool conn_setup(struct tp_tcp_conn *c)
{
	char pb[64];
	int err = 0;

	if (c->state == TCP_CONNECTING) {
		socklen_t len = sizeof(err);

		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err) {
			log_info("tcp", "connecting to %s: %s",
				 tp_addr_fmt(&c->peer, pb, sizeof(pb)), strerror(err));
			conn_close(c, -err, "connect failed");
			return false;
		}
		c->local.len = sizeof(c->local.ss);
		getsockname(c->fd, (struct sockaddr *)&c->local.ss, &c->local.len);
		c->state = c->ssl ? TCP_HANDSHAKE : TCP_UP;
		if (!c->ssl)
			conn_up(c);
	}
	if (c->state == TCP_HANDSHAKE) {
		err = sio_handshake(c);
		if (err == 0)
			conn_up(c);
		else if (err != -EAGAIN) {
			conn_close(c, err, "TLS handshake failed");
			return false;
		}
	}
	return true;
}

static void on_conn(int fd, unsigned events, void *arg)
{
	struct tp_tcp_conn *c = arg;
	bool try_read;
	int rc;

	(void)fd;
	if (c->failed) {
		conn_close(c, c->err, c->err ? "failed" : "closed");
		return;
	}
	try_read = (events & (LOOP_READ | LOOP_ERR)) || c->rd_want_write;
	if (c->state != TCP_UP) {
		if (!conn_setup(c))
			return;
		if (c->state != TCP_UP) {
			update_interest(c);
			if (c->failed)
				conn_close(c, c->err, "failed");
			return;
		}
		try_read = true; /* bytes may have come with the last flight */
	}
	if (try_read && !c->closing) {
		if (!conn_read(c))
			return;
	} else if ((events & LOOP_ERR) && c->closing && !(events & LOOP_WRITE)) {
		/* peer gone while we still had output for it */
		conn_close(c, -ECONNRESET, "error while closing");
		return;
	}
	if (c->failed) {
		conn_close(c, c->err, "failed");
		return;
	}
	rc = flush_out(c);
	if (rc < 0 && rc != -EAGAIN) {
		conn_close(c, rc, "send failed");
		return;
	}
	if (rc == 0 && c->closing) {
		conn_close(c, 0, "done");
		return;
	}
	update_interest(c);
	if (c->failed)
		conn_close(c, c->err, "epoll_ctl failed");
}

/* A connection object for fd (closed by the caller on failure). */
static int conn_new(struct tp_tcp *t, int fd, const struct tp_addr *peer, enum tcp_state state,
		    struct tp_tls_ctx *tls, const char *name, struct tp_tcp_conn **out)
{
	struct tp_tcp_conn *c = mem_zalloc(sizeof(*c));
	int one = 1, err;

	if (!c)
		return -ENOMEM;
	c->t = t;
	c->fd = fd;
	c->peer = *peer;
	c->id = ((uint64_t)t->cfg.id_tag << TP_TCP_ID_SEQ_BITS) | (++t->next_seq & TCP_ID_SEQ_MASK);
	/* an accepted peer may be outside the policy: hold its writes */
	c->denied = t->cfg.egress && !tp_egress_permits(t->cfg.egress, peer);
	c->state = state;
	c->local.len = sizeof(c->local.ss);
	getsockname(fd, (struct sockaddr *)&c->local.ss, &c->local.len);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (tls) {
		c->ssl = tp_tls_ssl_new(tls, fd, name);
		if (!c->ssl) {
			mem_free(c);
			return -ENOMEM;
		}
	}
	c->ev = wanted_interest(c);
	err = loop_fd_add(t->loop, fd, c->ev, on_conn, c);
	if (!err)
		err = loop_timer_add(t->loop, &c->idle, t->cfg.idle_timeout_ms, on_idle, c);
	if (!err && state != TCP_UP)
		err = loop_timer_add(t->loop, &c->setup, t->cfg.handshake_timeout_ms, on_setup, c);
	if (err) {
		loop_timer_cancel(t->loop, &c->idle);
		loop_fd_del(t->loop, fd);
		SSL_free(c->ssl);
		mem_free(c);
		return err;
	}
	c->next = t->conns;
	if (t->conns)
		t->conns->prev = c;
	t->conns = c;
	t->nconns++;
	map_insert(t, c);
	*out = c;
	return 0;
}

static void on_accept(int fd, unsigned events, void *arg);

/* Take a unit of q; with check, only below q->max. */
static bool quota_take(struct tp_tcp_quota *q, bool check)
{
	unsigned old = atomic_fetch_add(&q->used, 1);

	if (check && old >= q->max) {
		atomic_fetch_sub(&q->used, 1);
		return false;
	}
	return true;
}

/* "; 12 more refused" for a rate-limited refusal line. */
static const char *quiet_note(unsigned quiet, char *buf, size_t cap)
{
	if (!quiet)
		return "";
	snprintf(buf, cap, "; %u more refused since the last report", quiet);
	return buf;
}

static void on_retry(void *arg)
{
	struct tcp_listener *ls = arg;

	loop_fd_mod(ls->t->loop, ls->fd, LOOP_READ);
}

static void on_accept(int fd, unsigned events, void *arg)
{
	struct tcp_listener *ls = arg;
	struct tp_tcp *t = ls->t;

	(void)events;
	for (int i = 0; i < TCP_ACCEPT_BATCH; i++) {
		struct tp_tcp_conn *c;
		struct tp_addr peer;
		char pb[64], qb[64];
		unsigned quiet = 0;
		int cfd, err;

		memset(&peer, 0, sizeof(peer));
		peer.len = sizeof(peer.ss);
		cfd = accept4(fd, (struct sockaddr *)&peer.ss, &peer.len,
			      SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				/* pause this listener instead of spinning on it */
				log_warn("tcp", "accept: %s; pausing %u ms", strerror(errno),
					 TCP_ACCEPT_RETRY_MS);
				if (loop_fd_mod(t->loop, fd, 0) == 0 &&
				    loop_timer_add(t->loop, &ls->retry, TCP_ACCEPT_RETRY_MS,
						   on_retry, ls) < 0)
					loop_fd_mod(t->loop, fd, LOOP_READ);
			} else if (errno != EAGAIN && errno != EWOULDBLOCK) {
				log_warn("tcp", "accept: %s", strerror(errno));
			}
			return;
		}
		if (t->nconns >= t->cfg.max_conns) {
			if (refusal_log_ok(t, &quiet))
				log_warn("tcp", "connection from %s refused: %u connections open "
					 "(max)%s", tp_addr_fmt(&peer, pb, sizeof(pb)), t->nconns,
					 quiet_note(quiet, qb, sizeof(qb)));
			close(cfd);
			continue;
		}
		/* one source must not take every slot (tcp_max_per_source) */
		if (t->cfg.srclim && (err = tp_tcp_srclim_take(t->cfg.srclim, &peer)) < 0) {
			if (refusal_log_ok(t, &quiet))
				log_warn("tcp", "connection from %s refused: %s%s",
					 tp_addr_fmt(&peer, pb, sizeof(pb)),
					 err == -EUSERS ? "too many connections from that address "
							  "(tcp_max_per_source)" : "out of memory",
					 quiet_note(quiet, qb, sizeof(qb)));
			close(cfd);
			continue;
		}
		if (t->cfg.quota && !quota_take(t->cfg.quota, true)) {
			if (t->cfg.srclim)
				tp_tcp_srclim_put(t->cfg.srclim, &peer);
			if (refusal_log_ok(t, &quiet))
				log_warn("tcp", "connection from %s refused: %u connections open "
					 "(max)%s", tp_addr_fmt(&peer, pb, sizeof(pb)),
					 t->cfg.quota->max, quiet_note(quiet, qb, sizeof(qb)));
			close(cfd);
			continue;
		}
		/* a TLS connection is up after its handshake (RFC 3261 §26.2.1) */
		if (conn_new(t, cfd, &peer, ls->tls ? TCP_HANDSHAKE : TCP_UP, ls->tls, NULL,
			     &c) < 0) {
			if (t->cfg.quota)
				atomic_fetch_sub(&t->cfg.quota->used, 1);
			if (t->cfg.srclim)
				tp_tcp_srclim_put(t->cfg.srclim, &peer);
			log_warn("tcp", "cannot set up a connection from %s: refused",
				 tp_addr_fmt(&peer, pb, sizeof(pb)));
			close(cfd);
			continue;
		}
		c->quota_held = t->cfg.quota != NULL;
		c->src_held = t->cfg.srclim != NULL;
		if (c->state == TCP_UP && t->ev_cb)
			t->ev_cb(c, TP_TCP_UP, 0, t->ev_arg);
	}
}

int tp_tcp_connect(struct tp_tcp *t, const struct tp_addr *peer, struct tp_tls_ctx *cli,
		   const char *name, struct tp_tcp_conn **out)
{
	struct tp_tcp_conn *c;
	char hb[64], *copy = NULL;
	int fd, err;

	if (cli && tp_tls_ctx_is_server(cli))
		return -EINVAL;
	if (t->cfg.egress && !tp_egress_permits(t->cfg.egress, peer)) {
		log_denied(cli ? "TLS connection to" : "TCP connection to", peer);
		return -EACCES;
	}
	if (cli && !name)
		name = tp_addr_host_fmt(peer, hb, sizeof(hb));
	/* the identity this connection is verified for (RFC 5923 §5) */
	if (cli && !(copy = mem_strndup(name, strlen(name))))
		return -ENOMEM;
	fd = socket(peer->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		mem_free(copy);
		return err;
	}
	if (connect(fd, (const struct sockaddr *)&peer->ss, peer->len) < 0 &&
	    errno != EINPROGRESS) {
		err = -errno;
		close(fd);
		mem_free(copy);
		return err;
	}
	/* even a connect() that completed at once is finished from the loop, so
	 * that events never reach the caller before this returns */
	/* connections we open count towards the shared cap but are not refused */
	if (t->cfg.quota)
		quota_take(t->cfg.quota, false);
	err = conn_new(t, fd, peer, TCP_CONNECTING, cli, name, &c);
	if (err < 0) {
		if (t->cfg.quota)
			atomic_fetch_sub(&t->cfg.quota->used, 1);
		close(fd);
		mem_free(copy);
		return err;
	}
	c->quota_held = t->cfg.quota != NULL;
	c->outbound = true;
	c->cli = cli;
	c->name = copy;
	c->pnext = t->pmap[peer_slot(t, peer)];
	t->pmap[peer_slot(t, peer)] = c;
	if (out)
		*out = c;
	return 0;
}

int tp_tcp_get(struct tp_tcp *t, const struct tp_addr *peer, struct tp_tls_ctx *cli,
	       const char *name, struct tp_tcp_conn **out)
{
	struct tp_tcp_conn *c;
	char hb[64];

	if (cli && !name)
		name = tp_addr_host_fmt(peer, hb, sizeof(hb));
	for (c = t->pmap[peer_slot(t, peer)]; c; c = c->pnext) {
		/* closing or failed: it will not carry another request */
		if (c->failed || c->closing || c->cli != cli || !tp_addr_equal(&c->peer, peer))
			continue;
		/* RFC 5923 §5: a TLS connection only for the name it verified */
		if (cli && strcasecmp(c->name, name) != 0)
			continue;
		if (out)
			*out = c;
		return 0;
	}
	return tp_tcp_connect(t, peer, cli, name, out);
}

int tp_tcp_probe(const struct tp_addr *addr)
{
	int one = 1, fd, err = 0;

	if (!tp_addr_port(addr))
		return 0; /* a port of our own: nobody to share it with */
	fd = socket(addr->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* SO_REUSEADDR like our listeners (a TIME_WAIT leftover is no owner);
	 * without SO_REUSEPORT the bind fails while anyone listens there */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (addr->ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&addr->ss, addr->len) < 0)
		err = -errno;
	close(fd);
	return err;
}

int tp_tcp_create(struct tp_tcp **out, struct loop *l, const struct tp_tcp_cfg *cfg,
		  tp_tcp_recv_cb cb, void *arg)
{
	struct tp_tcp *t;
	size_t buckets = TCP_MAP_MIN;

	if (cfg && cfg->id_tag >= (1u << TP_TCP_ID_TAG_BITS))
		return -EINVAL;
	t = mem_zalloc(sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->loop = l;
	t->cb = cb;
	t->arg = arg;
	if (cfg)
		t->cfg = *cfg;
	if (!t->cfg.max_conns)
		t->cfg.max_conns = TP_TCP_MAX_CONNS_DEFAULT;
	if (!t->cfg.idle_timeout_ms)
		t->cfg.idle_timeout_ms = TP_TCP_IDLE_MS_DEFAULT;
	if (!t->cfg.partial_timeout_ms)
		t->cfg.partial_timeout_ms = TP_TCP_PARTIAL_MS_DEFAULT;
	if (!t->cfg.max_msg)
		t->cfg.max_msg = TP_TCP_MAX_MSG_DEFAULT;
	if (!t->cfg.handshake_timeout_ms)
		t->cfg.handshake_timeout_ms = TP_TCP_HANDSHAKE_MS_DEFAULT;
	while (buckets < t->cfg.max_conns && buckets < TCP_MAP_MAX)
		buckets *= 2;
	t->map = mem_zalloc(buckets * sizeof(*t->map));
	t->pmap = t->map ? mem_zalloc(buckets * sizeof(*t->pmap)) : NULL;
	if (!t->pmap) {
		mem_free(t->map);
		mem_free(t);
		return -ENOMEM;
	}
	t->map_mask = buckets - 1;
	*out = t;
	return 0;
}

void tp_tcp_destroy(struct tp_tcp *t)
{
	if (!t)
		return;
	t->destroying = true;
	while (t->conns)
		conn_close(t->conns, 0, "shutting down");
	while (t->listeners) {
		struct tcp_listener *ls = t->listeners;

		t->listeners = ls->next;
		loop_timer_cancel(t->loop, &ls->retry);
		loop_fd_del(t->loop, ls->fd);
		close(ls->fd);
		mem_free(ls);
	}
	mem_free(t->map);
	mem_free(t->pmap);
	mem_free(t);
}

static int listen_on(struct tp_tcp *t, const struct tp_addr *addr, struct tp_tls_ctx *tls,
		     struct tp_addr *bound)
{
	struct tcp_listener *ls = mem_zalloc(sizeof(*ls));
	int one = 1, err;

	if (!ls)
		return -ENOMEM;
	ls->t = t;
	ls->tls = tls;
	ls->fd = socket(addr->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ls->fd < 0) {
		err = -errno;
		mem_free(ls);
		return err;
	}
	setsockopt(ls->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* one listener per worker on the same address: the kernel spreads the
	 * incoming connections over them */
	if (t->cfg.reuseport &&
	    setsockopt(ls->fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
		goto fail_errno;
	if (addr->ss.ss_family == AF_INET6)
		setsockopt(ls->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(ls->fd, (const struct sockaddr *)&addr->ss, addr->len) < 0 ||
	    listen(ls->fd, SOMAXCONN) < 0)
		goto fail_errno;
	ls->local.len = sizeof(ls->local.ss);
	if (getsockname(ls->fd, (struct sockaddr *)&ls->local.ss, &ls->local.len) < 0)
		goto fail_errno;
	err = loop_fd_add(t->loop, ls->fd, LOOP_READ, on_accept, ls);
	if (err < 0)
		goto fail;
	ls->next = t->listeners;
	t->listeners = ls;
	if (bound)
		*bound = ls->local;
	return 0;
fail_errno:
	err = -errno;
fail:
	close(ls->fd);
	mem_free(ls);
	return err;
}

int tp_tcp_listen(struct tp_tcp *t, const struct tp_addr *addr, struct tp_addr *bound)
{
	return listen_on(t, addr, NULL, bound);
}

int tp_tcp_listen_tls(struct tp_tcp *t, const struct tp_addr *addr, struct tp_tls_ctx *srv,
		      struct tp_addr *bound)
{
	if (!srv || !tp_tls_ctx_is_server(srv))
		return -EINVAL;
	return listen_on(t, addr, srv, bound);
}
