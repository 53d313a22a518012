/* UAC transports: one UDP socket per address family, a TCP/TLS connection
 * per request, and the input path that hands responses to their client
 * transactions (RFC 3261 §17.1.3, §18.1.2). */
#include "ua/uac_priv.h"

#include "base/log.h"
#include "base/mem.h"
#include "transport/tcp.h"
#include "transport/tls.h"
#include "transport/udp.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

const char *ua_net_strerror(int err)
{
	switch (err) {
	case TP_TLS_EVERIFY:
		return "TLS certificate verification failed";
	case TP_TLS_EPROTO:
		return "TLS handshake failed";
	case -ETIMEDOUT:
		return "connection timed out";
	default:
		return strerror(err < 0 ? -err : err);
	}
}

int ua_net_parse_local(const char *spec, struct tp_addr *a)
{
	const char *colon = strrchr(spec, ':');
	struct str host = str_cstr(spec);
	uint32_t port = 0;

	if (spec[0] == '[') {
		const char *end = strchr(spec, ']');

		if (!end)
			return -EINVAL;
		host = str_make(spec, (size_t)(end - spec) + 1);
		if (end[1] == ':') {
			if (str_to_u32(str_cstr(end + 2), 65535, &port) < 0)
				return -EINVAL;
		} else if (end[1]) {
			return -EINVAL;
		}
	} else if (colon && strchr(spec, ':') == colon) {
		/* exactly one colon: IPv4:port (a bare IPv6 address has several) */
		host = str_make(spec, (size_t)(colon - spec));
		if (str_to_u32(str_cstr(colon + 1), 65535, &port) < 0)
			return -EINVAL;
	}
	return tp_addr_from_numeric(a, host, (uint16_t)port);
}

/* ---- input ---- */

static void input(struct ua_uac *u, enum tp_proto proto, const struct tp_addr *src,
		  const struct sip_msg *m)
{
	const struct sip_hdr *via;
	struct tsx *t;

	if (m->is_request) {
		log_debug("ua", "%.*s request ignored (no UAS yet)", STR_FMT(m->method));
		return;
	}
	/* §8.1.3.3: a response with more than one Via is not for us */
	via = sip_msg_hdr(m, SIP_HDR_VIA);
	if (via && sip_msg_hdr_next(m, via)) {
		log_debug("ua", "response with several Via headers discarded");
		return;
	}
	t = tsx_table_match_response(u->table, m);
	if (!t) {
		char ab[64];

		log_debug("ua", "stray %u response from %s %s ignored", m->status,
			  tp_proto_name(proto), tp_addr_fmt(src, ab, sizeof(ab)));
		return;
	}
	tsx_client_response(t, m);
	tsx_unref(t);
}

static void trace(struct ua_uac *u, bool out, enum tp_proto proto, const struct tp_addr *peer,
		  const char *buf, size_t len)
{
	if (u->trace)
		u->trace(out, proto, peer, buf, len, u->trace_arg);
}

static void on_datagram(struct tp_udp *s, const char *buf, size_t len, const struct tp_addr *src,
			void *arg)
{
	struct ua_uac *u = arg;
	struct sip_msg *m = mem_alloc(sizeof(*m));

	(void)s;
	trace(u, false, TP_UDP, src, buf, len);
	if (!m)
		return; /* dropped: the transaction retransmits */
	if (sip_msg_parse(m, buf, len, SIP_PARSE_DATAGRAM) == 0)
		input(u, TP_UDP, src, m);
	else
		log_debug("ua", "bad datagram dropped: %d %s", m->err.code, m->err.reason);
	mem_free(m);
}

static ssize_t on_stream(struct tp_tcp_conn *c, const char *buf, size_t len, void *arg)
{
	struct ua_uac *u = arg;
	struct sip_msg *m = mem_alloc(sizeof(*m));
	ssize_t used;
	int rc;

	if (!m)
		return -ENOMEM;
	rc = sip_msg_parse(m, buf, len, SIP_PARSE_STREAM);
	if (rc == -EAGAIN) {
		mem_free(m);
		return 0;
	}
	used = (ssize_t)((size_t)(m->buf - buf) + m->len);
	if (rc < 0) {
		log_debug("ua", "bad message on a stream: %d %s", m->err.code, m->err.reason);
		if (m->len == 0)
			used = -EPROTO; /* §18.3: framing lost */
	} else {
		trace(u, false, tp_tcp_conn_proto(c), tp_tcp_conn_peer(c), m->buf, m->len);
		input(u, tp_tcp_conn_proto(c), tp_tcp_conn_peer(c), m);
	}
	mem_free(m);
	return used;
}

static void on_conn_event(struct tp_tcp_conn *c, enum tp_tcp_event ev, int err, void *arg)
{
	struct ua_req *r = tp_tcp_conn_user(c);
	char ab[64];

	(void)arg;
	if (ev == TP_TCP_UP) {
		log_debug("ua", "%s connection to %s up", tp_proto_name(tp_tcp_conn_proto(c)),
			  tp_addr_fmt(tp_tcp_conn_peer(c), ab, sizeof(ab)));
		return;
	}
	if (r && r->conn == c)
		ua_req_conn_down(r, err ? err : -ECONNRESET);
}

/* ---- output ---- */

/* The source address the kernel would use towards peer (no packet sent). */
static int route_source(const struct tp_addr *peer, struct tp_addr *src)
{
	int fd = socket(peer->ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rc = 0;

	if (fd < 0)
		return -errno;
	src->len = sizeof(src->ss);
	if (connect(fd, (const struct sockaddr *)&peer->ss, peer->len) < 0 ||
	    getsockname(fd, (struct sockaddr *)&src->ss, &src->len) < 0)
		rc = -errno;
	close(fd);
	if (rc == 0)
		tp_addr_set_port(src, 0);
	return rc;
}

static int udp_for(struct ua_uac *u, const struct tp_addr *peer, struct tp_udp **out)
{
	int fam = peer->ss.ss_family;
	int i = fam == AF_INET6;
	struct tp_addr src;
	int rc;

	if (!u->udp[i]) {
		if (u->has_local) {
			if (u->local.ss.ss_family != fam)
				return -EAFNOSUPPORT;
			src = u->local;
		} else {
			rc = route_source(peer, &src);
			if (rc)
				return rc;
		}
		rc = tp_udp_create(&u->udp[i], u->loop, &src, on_datagram, u);
		if (rc)
			return rc;
	}
	*out = u->udp[i];
	return 0;
}

int ua_net_open(struct ua_req *r, struct tp_addr *sent_by)
{
	struct ua_uac *u = r->u;
	struct tp_tls_ctx *tls = NULL;
	char name[256];
	const char *sni = NULL;
	int rc;

	if (r->cur.proto == TP_UDP) {
		rc = udp_for(u, &r->cur.addr, &r->udp);
		if (rc == 0)
			*sent_by = *tp_udp_local(r->udp);
		return rc;
	}
	if (r->cur.proto == TP_TLS) {
		if (!u->tls) {
			char msg[256];

			rc = tp_tls_client_ctx_create(&u->tls, u->ca_file, true, msg, sizeof(msg));
			if (rc) {
				log_err("ua", "TLS: %s", msg);
				return rc;
			}
		}
		tls = u->tls;
		/* RFC 5922 §4: the certificate must name the URI's host; an IP
		 * literal is checked against the peer's address */
		if (r->uri.host_type == SIP_HOST_NAME) {
			struct str h = r->uri.maddr.len ? r->uri.maddr : r->uri.host;

			if (str_copy(name, sizeof(name), h) == 0)
				sni = name;
		}
	}
	rc = tp_tcp_connect(u->tcp, &r->cur.addr, tls, sni, &r->conn);
	if (rc)
		return rc;
	tp_tcp_conn_set_user(r->conn, r);
	/* §18.1.1: sent-by is the connection's local address */
	*sent_by = *tp_tcp_conn_local(r->conn);
	return 0;
}

void ua_net_close(struct ua_req *r)
{
	if (!r->conn)
		return;
	tp_tcp_conn_set_user(r->conn, NULL);
	tp_tcp_conn_close(r->conn);
	r->conn = NULL;
}

int ua_net_send(struct ua_req *r, const char *buf, size_t len)
{
	trace(r->u, true, r->cur.proto, &r->cur.addr, buf, len);
	if (r->cur.proto == TP_UDP)
		return r->udp ? tp_udp_send(r->udp, buf, len, &r->cur.addr) : -ENOTCONN;
	return r->conn ? tp_tcp_send(r->conn, buf, len) : -ENOTCONN;
}

int ua_net_create(struct ua_uac *u)
{
	int rc = tp_tcp_create(&u->tcp, u->loop, NULL, on_stream, u);

	if (rc)
		return rc;
	tp_tcp_set_event_cb(u->tcp, on_conn_event, u);
	return 0;
}

void ua_net_destroy(struct ua_uac *u)
{
	if (u->tcp)
		tp_tcp_destroy(u->tcp);
	u->tcp = NULL;
	for (int i = 0; i < 2; i++) {
		if (u->udp[i])
			tp_udp_destroy(u->udp[i]);
		u->udp[i] = NULL;
	}
	tp_tls_ctx_free(u->tls);
	u->tls = NULL;
}
