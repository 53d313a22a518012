/* Private to the stream transport: the connection object shared by tcp.c
 * (lifecycle, framing, timers) and stream_io.c (plain and TLS byte I/O). */
#ifndef SIPHON_TRANSPORT_TCP_PRIV_H
#define SIPHON_TRANSPORT_TCP_PRIV_H

#include "transport/tcp.h"

#include <stdbool.h>
#include <sys/types.h>

struct ssl_st;

enum tcp_state {
	TCP_CONNECTING, /* outbound connect() in progress */
	TCP_HANDSHAKE,  /* TLS handshake in progress */
	TCP_UP,
};

struct tp_tcp_conn {
	struct tp_tcp *t;
	struct tp_tcp_conn *prev, *next;
	struct tp_tcp_conn *hnext; /* id map chain */
	struct tp_tcp_conn *pnext; /* peer map chain (outbound only) */
	uint64_t id;
	int fd;
	enum tcp_state state;
	struct tp_addr peer, local;
	struct ssl_st *ssl;     /* NULL for plain TCP */
	struct tp_tls_ctx *cli; /* outbound TLS: the client context */
	char *name;             /* outbound TLS: the name verified (owned) */
	void *user;
	char *in;
	size_t in_len, in_cap;
	/* framing gate, so that a message trickling in is not re-parsed per
	 * read: bytes of the message at the front already searched for the end
	 * of its header section, and its total length once the callback knew */
	size_t scanned, need;
	char *out;
	size_t out_off, out_len, out_cap;
	struct loop_timer idle, partial, setup;
	unsigned ev;     /* LOOP_* interest now registered */
	int err;         /* why it failed (0: closed on purpose) */
	bool closing;    /* write what is queued, then close */
	bool failed;     /* close as soon as the current callback returns */
	bool quota_held; /* holds a unit of t->cfg.quota */
	bool src_held;   /* holds a unit of t->cfg.srclim for its peer */
	bool outbound;   /* opened by us: in the peer map, reusable */
	bool denied;     /* the peer is outside the egress policy: never write */
	/* TLS: which readiness the last SSL call is waiting for */
	bool hs_want_write;  /* handshake */
	bool rd_want_write;  /* SSL_read */
	bool wr_want_read;   /* SSL_write */
	bool tls_dead;       /* fatal TLS error: no close_notify */
};

/* stream_io.c: the same calls for plain TCP and TLS. They return bytes moved
 * (> 0), 0 at end of stream (reads), -EAGAIN when the socket is not ready
 * (the conn's want flags say for what), or a negative error. */
ssize_t sio_read(struct tp_tcp_conn *c, char *buf, size_t len);
ssize_t sio_write(struct tp_tcp_conn *c, const char *buf, size_t len);
/* Bytes already decrypted and waiting in the SSL object (epoll cannot see them). */
bool sio_pending(const struct tp_tcp_conn *c);
/* TLS handshake step: 0 done, -EAGAIN, TP_TLS_EVERIFY, TP_TLS_EPROTO or
 * -ECONNRESET; failures are logged. */
int sio_handshake(struct tp_tcp_conn *c);
/* Send close_notify if the session is healthy (one try, never waits). */
void sio_shutdown(struct tp_tcp_conn *c);

#endif
