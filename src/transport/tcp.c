#include "transport/tcp.h"

#include "base/log.h"
#include "base/mem.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TCP_IN_INITIAL 4096
#define TCP_OUT_MAX (1u << 20)  /* a peer that reads nothing gets no more */
#define TCP_ACCEPT_BATCH 64
#define TCP_READ_BATCH 16
#define TCP_ACCEPT_RETRY_MS 100 /* after EMFILE/ENFILE */

struct tcp_listener {
	struct tp_tcp *t;
	struct tcp_listener *next;
	int fd;
	struct tp_addr local;
	struct loop_timer retry;
};

struct tp_tcp_conn {
	struct tp_tcp *t;
	struct tp_tcp_conn *prev, *next;
	int fd;
	struct tp_addr peer, local;
	char *in;
	size_t in_len, in_cap;
	char *out;
	size_t out_off, out_len, out_cap;
	struct loop_timer idle, partial;
	bool closing; /* write what is queued, then close */
	bool failed;  /* close as soon as the current callback returns */
	bool writing; /* LOOP_WRITE interest is on */
};

struct tp_tcp {
	struct loop *loop;
	struct tp_tcp_cfg cfg;
	tp_tcp_recv_cb cb;
	void *arg;
	struct tcp_listener *listeners;
	struct tp_tcp_conn *conns;
	unsigned nconns;
};

const struct tp_addr *tp_tcp_conn_peer(const struct tp_tcp_conn *c)
{
	return &c->peer;
}

const struct tp_addr *tp_tcp_conn_local(const struct tp_tcp_conn *c)
{
	return &c->local;
}

unsigned tp_tcp_conn_count(const struct tp_tcp *t)
{
	return t->nconns;
}

static void conn_close(struct tp_tcp_conn *c, const char *why)
{
	struct tp_tcp *t = c->t;
	char pb[64];

	log_debug("tcp", "closing %s: %s", tp_addr_fmt(&c->peer, pb, sizeof(pb)), why);
	loop_fd_del(t->loop, c->fd);
	close(c->fd);
	loop_timer_cancel(t->loop, &c->idle);
	loop_timer_cancel(t->loop, &c->partial);
	if (c->prev)
		c->prev->next = c->next;
	else
		t->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	t->nconns--;
	mem_free(c->in);
	mem_free(c->out);
	mem_free(c);
}

static void set_writing(struct tp_tcp_conn *c, bool on)
{
	unsigned ev = (c->closing ? 0 : LOOP_READ) | (on ? LOOP_WRITE : 0);

	c->writing = on;
	if (loop_fd_mod(c->t->loop, c->fd, ev) < 0)
		c->failed = true;
}

/* Write queued output; 0 when all is out, -EAGAIN when the socket is full,
 * or a negated errno. */
static int flush_out(struct tp_tcp_conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return -EAGAIN;
			return -errno;
		}
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
	/* nothing queued: try the socket first, queue only the rest */
	while (c->out_len == 0 && len) {
		ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			c->failed = true;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	if (!len)
		return 0;
	if (c->out_len - c->out_off + len > TCP_OUT_MAX) {
		c->failed = true;
		return -ENOBUFS;
	}
	if (c->out_off) { /* compact before growing */
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
			c->failed = true;
			return -ENOMEM;
		}
		c->out = o;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, p, len);
	c->out_len += len;
	if (!c->writing)
		set_writing(c, true);
	return 0;
}

static void on_idle(void *arg)
{
	conn_close(arg, "idle timeout");
}

static void on_partial(void *arg)
{
	struct tp_tcp_conn *c = arg;

	log_info("tcp", "closing a connection that held a partial message for %u ms",
		 c->t->cfg.partial_timeout_ms);
	conn_close(c, "partial message timeout");
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
		r = t->cb(c, p, n, t->arg);
		if (r < 0) {
			c->closing = true;
			break;
		}
		if (r == 0)
			break;
		off += (size_t)r > n ? n : (size_t)r;
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
			c->failed = true;
}

/* Returns false when the connection was closed. */
static bool conn_read(struct tp_tcp_conn *c)
{
	struct tp_tcp *t = c->t;

	for (int i = 0; i < TCP_READ_BATCH; i++) {
		ssize_t n;

		if (c->in_len == c->in_cap) {
			size_t cap = c->in_cap ? c->in_cap * 2 : TCP_IN_INITIAL;
			char *b;

			if (c->in_cap >= t->cfg.max_msg) {
				/* a message above the cap: nothing sensible to answer */
				log_info("tcp", "closing a connection with a message above %zu bytes",
					 t->cfg.max_msg);
				conn_close(c, "message too large");
				return false;
			}
			if (cap > t->cfg.max_msg)
				cap = t->cfg.max_msg;
			b = mem_realloc(c->in, cap);
			if (!b) {
				conn_close(c, "out of memory");
				return false;
			}
			c->in = b;
			c->in_cap = cap;
		}
		n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return true;
			conn_close(c, strerror(errno));
			return false;
		}
		if (n == 0) {
			conn_close(c, "closed by peer");
			return false;
		}
		c->in_len += (size_t)n;
		if (loop_timer_add(t->loop, &c->idle, t->cfg.idle_timeout_ms, on_idle, c) < 0)
			c->failed = true;
		process(c);
		if (c->failed || c->closing)
			return true;
		if (c->in_len == c->in_cap && c->in_cap >= t->cfg.max_msg) {
			log_info("tcp", "closing a connection with a message above %zu bytes",
				 t->cfg.max_msg);
			conn_close(c, "message too large");
			return false;
		}
	}
	return true;
}

static void on_conn(int fd, unsigned events, void *arg)
{
	struct tp_tcp_conn *c = arg;
	int rc;

	(void)fd;
	if ((events & (LOOP_READ | LOOP_ERR)) && !c->closing) {
		if (!conn_read(c))
			return;
	} else if ((events & (LOOP_READ | LOOP_ERR)) && c->closing && !(events & LOOP_WRITE)) {
		/* peer gone while we still had output for it */
		if (events & LOOP_ERR) {
			conn_close(c, "error while closing");
			return;
		}
	}
	if (c->failed) {
		conn_close(c, "send failed");
		return;
	}
	rc = flush_out(c);
	if (rc == -EAGAIN) {
		/* when closing this also drops read interest: no spinning on input */
		if (!c->writing || c->closing)
			set_writing(c, true);
		if (c->failed)
			conn_close(c, "epoll_ctl failed");
		return;
	}
	if (rc < 0 || c->closing) {
		conn_close(c, rc < 0 ? "send failed" : "done");
		return;
	}
	if (c->writing)
		set_writing(c, false);
	if (c->failed)
		conn_close(c, "epoll_ctl failed");
}

static void conn_new(struct tp_tcp *t, int fd, const struct tp_addr *peer)
{
	struct tp_tcp_conn *c = mem_zalloc(sizeof(*c));
	int one = 1;

	if (!c) {
		log_warn("tcp", "out of memory: connection refused");
		close(fd);
		return;
	}
	c->t = t;
	c->fd = fd;
	c->peer = *peer;
	c->local.len = sizeof(c->local.ss);
	getsockname(fd, (struct sockaddr *)&c->local.ss, &c->local.len);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (loop_fd_add(t->loop, fd, LOOP_READ, on_conn, c) < 0 ||
	    loop_timer_add(t->loop, &c->idle, t->cfg.idle_timeout_ms, on_idle, c) < 0) {
		log_warn("tcp", "cannot watch a new connection: refused");
		loop_fd_del(t->loop, fd);
		close(fd);
		mem_free(c);
		return;
	}
	c->next = t->conns;
	if (t->conns)
		t->conns->prev = c;
	t->conns = c;
	t->nconns++;
}

static void on_accept(int fd, unsigned events, void *arg);

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
		struct tp_addr peer;
		char pb[64];
		int cfd;

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
			log_warn("tcp", "connection from %s refused: %u connections open (max)",
				 tp_addr_fmt(&peer, pb, sizeof(pb)), t->nconns);
			close(cfd);
			continue;
		}
		conn_new(t, cfd, &peer);
	}
}

int tp_tcp_create(struct tp_tcp **out, struct loop *l, const struct tp_tcp_cfg *cfg,
		  tp_tcp_recv_cb cb, void *arg)
{
	struct tp_tcp *t = mem_zalloc(sizeof(*t));

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
	*out = t;
	return 0;
}

void tp_tcp_destroy(struct tp_tcp *t)
{
	if (!t)
		return;
	while (t->conns)
		conn_close(t->conns, "shutting down");
	while (t->listeners) {
		struct tcp_listener *ls = t->listeners;

		t->listeners = ls->next;
		loop_timer_cancel(t->loop, &ls->retry);
		loop_fd_del(t->loop, ls->fd);
		close(ls->fd);
		mem_free(ls);
	}
	mem_free(t);
}

int tp_tcp_listen(struct tp_tcp *t, const struct tp_addr *addr, struct tp_addr *bound)
{
	struct tcp_listener *ls = mem_zalloc(sizeof(*ls));
	int one = 1, err;

	if (!ls)
		return -ENOMEM;
	ls->t = t;
	ls->fd = socket(addr->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ls->fd < 0) {
		err = -errno;
		mem_free(ls);
		return err;
	}
	setsockopt(ls->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
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
