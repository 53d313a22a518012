/* TCP transport: listeners, the connections they accept, per-connection
 * stream buffers and output queues, and the limits that keep a hostile peer
 * from holding resources (connection cap, idle and partial-message timers,
 * message size cap). Framing of SIP messages is the receiver callback's job;
 * this layer only strips keep-alive CRLFs (RFC 5626 §4.4.1, RFC 3261 §7.5). */
#ifndef SIPHON_TRANSPORT_TCP_H
#define SIPHON_TRANSPORT_TCP_H

#include "base/loop.h"
#include "transport/addr.h"

#include <stddef.h>
#include <sys/types.h>

#define TP_TCP_MAX_CONNS_DEFAULT 1024
#define TP_TCP_IDLE_MS_DEFAULT 120000
#define TP_TCP_PARTIAL_MS_DEFAULT 10000
#define TP_TCP_MAX_MSG_DEFAULT 65536

struct tp_tcp_cfg {
	unsigned max_conns;          /* 0: TP_TCP_MAX_CONNS_DEFAULT */
	unsigned idle_timeout_ms;    /* close after this long without input; 0: default */
	unsigned partial_timeout_ms; /* close a partial message held this long; 0: default */
	size_t max_msg;              /* receive buffer cap; 0: TP_TCP_MAX_MSG_DEFAULT */
};

struct tp_tcp;      /* every listener and connection of one loop */
struct tp_tcp_conn; /* owned by struct tp_tcp; never freed by the user */

/* Called with the unconsumed front of a connection's receive buffer (valid
 * during the call only). Return the number of bytes consumed (> 0), 0 to wait
 * for more, or a negative code to close the connection once what was queued
 * with tp_tcp_send() has been written. */
typedef ssize_t (*tp_tcp_recv_cb)(struct tp_tcp_conn *c, const char *buf, size_t len,
				  void *arg);

int tp_tcp_create(struct tp_tcp **out, struct loop *l, const struct tp_tcp_cfg *cfg,
		  tp_tcp_recv_cb cb, void *arg);
/* Close every listener and connection and free everything. */
void tp_tcp_destroy(struct tp_tcp *t);

/* Listen on addr; *bound (optional) receives the real address (port 0 picks
 * one). Returns 0, -ENOMEM, or the negated errno of socket/bind/listen. */
int tp_tcp_listen(struct tp_tcp *t, const struct tp_addr *addr, struct tp_addr *bound);

/* Queue bytes on a connection: written now if the socket takes them, else
 * kept and written when it is writable. Returns 0, -ENOMEM, -ENOBUFS (peer
 * does not read: queue cap reached) or a negated send errno; on error the
 * connection is closed after the current callback. */
int tp_tcp_send(struct tp_tcp_conn *c, const void *buf, size_t len);

const struct tp_addr *tp_tcp_conn_peer(const struct tp_tcp_conn *c);
const struct tp_addr *tp_tcp_conn_local(const struct tp_tcp_conn *c);
unsigned tp_tcp_conn_count(const struct tp_tcp *t);

#endif
