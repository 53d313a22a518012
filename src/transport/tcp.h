/* Stream transport (TCP, and TLS over TCP): listeners, the connections they
 * accept or that are opened with tp_tcp_connect(), per-connection stream
 * buffers and output queues, and the limits that keep a hostile peer from
 * holding resources (connection cap, idle, partial-message and handshake
 * timers, message size cap). Framing of SIP messages is the receiver
 * callback's job; this layer only strips keep-alive CRLFs (RFC 5626 §4.4.1,
 * RFC 3261 §7.5). A TLS connection carries the same byte stream once its
 * handshake is done (RFC 3261 §26.2.1). */
#ifndef SIPHON_TRANSPORT_TCP_H
#define SIPHON_TRANSPORT_TCP_H

#include "base/loop.h"
#include "transport/addr.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define TP_TCP_MAX_CONNS_DEFAULT 1024
#define TP_TCP_IDLE_MS_DEFAULT 120000
#define TP_TCP_PARTIAL_MS_DEFAULT 10000
#define TP_TCP_MAX_MSG_DEFAULT 65536
#define TP_TCP_HANDSHAKE_MS_DEFAULT 10000
#define TP_TCP_MAX_PER_SOURCE_DEFAULT 32

/* Connection ids: the owner's tag (e.g. a worker index) in the top bits, a
 * per-struct tp_tcp sequence number below (never reused, 0 is no id). */
#define TP_TCP_ID_TAG_BITS 8
#define TP_TCP_ID_SEQ_BITS (64 - TP_TCP_ID_TAG_BITS)
#define TP_TCP_ID_TAG(id) ((unsigned)((id) >> TP_TCP_ID_SEQ_BITS))

struct tp_egress; /* transport/egress.h */

/* A connection cap shared by several struct tp_tcp (one per worker thread):
 * every connection holds one unit from creation to close; an accept that
 * finds max units held is refused. Touched only when connections come and
 * go, never per message. Zero-initialise, set max. */
struct tp_tcp_quota {
	atomic_uint used;
	unsigned max;
};

/* Per-source connection counts shared by several struct tp_tcp: a hash of
 * source IP address (port ignored) -> inbound connections held, split into
 * lock stripes so that accepts on different workers rarely meet. Locked
 * only on accept and close, never per message. */
struct tp_tcp_srclim;

/* max: connections one IP address may hold (> 0); sources: expected
 * distinct sources (sizes the hash; 0: a small default). Returns 0,
 * -EINVAL or -ENOMEM. */
int tp_tcp_srclim_create(struct tp_tcp_srclim **out, unsigned max, unsigned sources);
/* Every unit must have been put back (connections closed) first. */
void tp_tcp_srclim_destroy(struct tp_tcp_srclim *s);
/* Any thread: take a unit for a's IP address. Returns 0, -EUSERS (it
 * already holds max) or -ENOMEM. */
int tp_tcp_srclim_take(struct tp_tcp_srclim *s, const struct tp_addr *a);
/* Any thread: give back a unit taken for a's IP address. */
void tp_tcp_srclim_put(struct tp_tcp_srclim *s, const struct tp_addr *a);
/* Units a's IP address holds now (a snapshot, for tests and statistics). */
unsigned tp_tcp_srclim_count(struct tp_tcp_srclim *s, const struct tp_addr *a);

struct tp_tcp_cfg {
	unsigned max_conns;          /* 0: TP_TCP_MAX_CONNS_DEFAULT */
	unsigned idle_timeout_ms;    /* close after this long without input; 0: default */
	unsigned partial_timeout_ms; /* close a partial message held this long; 0: default */
	size_t max_msg;              /* receive buffer cap; 0: TP_TCP_MAX_MSG_DEFAULT */
	unsigned handshake_timeout_ms; /* connect + TLS handshake; 0: default */
	unsigned id_tag;             /* top bits of connection ids, < 256 */
	struct tp_tcp_quota *quota;  /* shared cap on top of max_conns; NULL: none */
	/* shared per-source cap on accepted connections (kept by the caller
	 * until tp_tcp_destroy()); NULL: none */
	struct tp_tcp_srclim *srclim;
	bool reuseport;              /* SO_REUSEPORT on listeners (one per worker) */
	/* Destinations we may send to (kept by the caller; NULL: any): a
	 * connect to a denied peer fails with -EACCES, and so does a send on an
	 * accepted connection from one (it is then closed); both are logged. */
	const struct tp_egress *egress;
};

struct tp_tcp;      /* every listener and connection of one loop */
struct tp_tcp_conn; /* owned by struct tp_tcp; never freed by the user */
struct tp_tls_ctx;  /* transport/tls.h */

/* Called with the unconsumed front of a connection's receive buffer (valid
 * during the call only). Return the number of bytes consumed (> 0), 0 to wait
 * for more, or a negative code to close the connection once what was queued
 * with tp_tcp_send() has been written. */
typedef ssize_t (*tp_tcp_recv_cb)(struct tp_tcp_conn *c, const char *buf, size_t len,
				  void *arg);

enum tp_tcp_event {
	TP_TCP_UP,   /* connected (and TLS handshake done): data flows */
	TP_TCP_DOWN, /* closed; c is freed when the callback returns */
};

/* Optional connection state callback. UP is reported once per connection
 * that gets ready; DOWN for every connection (accepted or connected, ready
 * or not) except those closed by tp_tcp_destroy(). err is 0 for UP and for
 * an orderly close, else why: -ETIMEDOUT (connect or handshake timeout),
 * TP_TLS_EVERIFY (peer certificate rejected), TP_TLS_EPROTO (TLS failure),
 * -ECONNRESET, -ECONNREFUSED, ... */
typedef void (*tp_tcp_event_cb)(struct tp_tcp_conn *c, enum tp_tcp_event ev, int err,
				void *arg);

int tp_tcp_create(struct tp_tcp **out, struct loop *l, const struct tp_tcp_cfg *cfg,
		  tp_tcp_recv_cb cb, void *arg);
/* Close every listener and connection and free everything. */
void tp_tcp_destroy(struct tp_tcp *t);

void tp_tcp_set_event_cb(struct tp_tcp *t, tp_tcp_event_cb cb, void *arg);

/* Listen on addr; *bound (optional) receives the real address (port 0 picks
 * one). Returns 0, -ENOMEM, or the negated errno of socket/bind/listen. */
int tp_tcp_listen(struct tp_tcp *t, const struct tp_addr *addr, struct tp_addr *bound);
/* The same for TLS: every accepted connection does a server handshake with
 * srv (a server context, kept by the caller until tp_tcp_destroy()) before
 * its bytes reach the receive callback. */
int tp_tcp_listen_tls(struct tp_tcp *t, const struct tp_addr *addr, struct tp_tls_ctx *srv,
		      struct tp_addr *bound);

/* Open a connection to peer without blocking. With cli (a client context)
 * the connection does a TLS handshake and verifies the server as cli says,
 * against name: a host name (also sent as SNI) or an IP address literal;
 * NULL checks the certificate against the peer's IP address. Data sent
 * before it is UP is queued. A failure later (refused, timeout, certificate
 * rejected) is logged and reported as DOWN. Returns 0 (*out set unless out
 * is NULL), -ENOMEM, -EINVAL (a server context) or the negated errno of an
 * immediate socket/connect failure. */
int tp_tcp_connect(struct tp_tcp *t, const struct tp_addr *peer, struct tp_tls_ctx *cli,
		   const char *name, struct tp_tcp_conn **out);

/* RFC 3261 §18.1.1 (connections may be reused) and RFC 5923 §5 (a TLS
 * connection only for the identity it was verified for): the open
 * connection (up, connecting or handshaking, not closing) that this t
 * opened to peer with the same kind: plain TCP when cli is NULL, else TLS
 * with the same client context and the same name (compared ignoring case;
 * NULL means the peer's IP address, as for tp_tcp_connect()). Without one,
 * a new connection as tp_tcp_connect() opens it. Accepted connections are
 * not reused: a peer's source address is not its listening address. Same
 * return values as tp_tcp_connect(). */
int tp_tcp_get(struct tp_tcp *t, const struct tp_addr *peer, struct tp_tls_ctx *cli,
	       const char *name, struct tp_tcp_conn **out);

/* Refuse to share a listen address with another process: bind a socket to
 * addr with SO_REUSEADDR but without SO_REUSEPORT and close it again. Returns
 * 0, -EADDRINUSE (someone listens there, even with SO_REUSEPORT) or the
 * negated errno of socket/bind. Port 0 needs no probe (returns 0). */
int tp_tcp_probe(const struct tp_addr *addr);

/* Close after what is queued has been written (with a TLS close_notify). */
void tp_tcp_conn_close(struct tp_tcp_conn *c);

/* Queue bytes on a connection: written now if the socket takes them, else
 * kept and written when it is writable. Returns 0, -ENOMEM, -ENOBUFS (peer
 * does not read: queue cap reached) or a negated send errno; on error the
 * connection is closed after the current callback. */
int tp_tcp_send(struct tp_tcp_conn *c, const void *buf, size_t len);

const struct tp_addr *tp_tcp_conn_peer(const struct tp_tcp_conn *c);
const struct tp_addr *tp_tcp_conn_local(const struct tp_tcp_conn *c);
enum tp_proto tp_tcp_conn_proto(const struct tp_tcp_conn *c); /* TP_TCP or TP_TLS */
bool tp_tcp_conn_is_up(const struct tp_tcp_conn *c);
/* It was up at some time (still true in its DOWN callback): false for a
 * connection that failed to connect or to finish its TLS handshake, so
 * nothing queued on it was ever written. */
bool tp_tcp_conn_was_up(const struct tp_tcp_conn *c);
/* Opened by tp_tcp_connect() / tp_tcp_get(), not accepted. */
bool tp_tcp_conn_outbound(const struct tp_tcp_conn *c);
/* Opaque user pointer, NULL until set. */
void tp_tcp_conn_set_user(struct tp_tcp_conn *c, void *user);
/* From a receive callback returning 0: the message at the front is len
 * bytes in all, so the callback is not called again before that many have
 * arrived. Without it, the transport waits for the end of the header
 * section (CRLFCRLF) and then calls the callback on every read. */
void tp_tcp_conn_set_need(struct tp_tcp_conn *c, size_t len);
void *tp_tcp_conn_user(const struct tp_tcp_conn *c);
unsigned tp_tcp_conn_count(const struct tp_tcp *t);

/* A connection's id: stable for its life, unique within its struct tp_tcp,
 * with cfg.id_tag in the top TP_TCP_ID_TAG_BITS. */
uint64_t tp_tcp_conn_id(const struct tp_tcp_conn *c);
/* The open connection with that id, or NULL when it is gone (or never was).
 * Same thread as t's loop. */
struct tp_tcp_conn *tp_tcp_conn_find(const struct tp_tcp *t, uint64_t id);

#endif
