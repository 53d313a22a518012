/* Byte I/O of a stream connection: recv/send for TCP, SSL_read/SSL_write for
 * TLS, with OpenSSL's WANT_READ/WANT_WRITE turned into -EAGAIN plus a note of
 * which readiness to wait for. */
#include "transport/tcp_priv.h"

#include "base/log.h"
#include "transport/tls.h"

#include <errno.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <string.h>
#include <sys/socket.h>

#define MOD "tls"

static int io_size(size_t len)
{
	return len > INT_MAX ? INT_MAX : (int)len;
}

/* A failed SSL call: log it, mark the session dead, return the code. */
static int tls_failure(struct tp_tcp_conn *c, int err, const char *during)
{
	char pb[64], eb[256];
	int e = errno;

	c->tls_dead = true;
	if ((err == SSL_ERROR_SSL && ERR_peek_error() == 0) || err == SSL_ERROR_ZERO_RETURN) {
		err = SSL_ERROR_SYSCALL; /* the peer just went away */
		e = 0;
	}
	tp_tls_errors(eb, sizeof(eb));
	if (err == SSL_ERROR_SYSCALL) {
		log_debug(MOD, "%s %s: %s", during, tp_addr_fmt(&c->peer, pb, sizeof(pb)),
			  e ? strerror(e) : "connection closed");
		return e && e != ECONNRESET ? -e : -ECONNRESET;
	}
	log_info(MOD, "%s %s failed: %s", during, tp_addr_fmt(&c->peer, pb, sizeof(pb)), eb);
	return TP_TLS_EPROTO;
}

ssize_t sio_read(struct tp_tcp_conn *c, char *buf, size_t len)
{
	ssize_t n;
	int r, e;

	if (!c->ssl) {
		do
			n = recv(c->fd, buf, len, MSG_DONTWAIT);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return errno == EWOULDBLOCK ? -EAGAIN : -errno;
		return n;
	}
	c->rd_want_write = false;
	ERR_clear_error();
	r = SSL_read(c->ssl, buf, io_size(len));
	if (r > 0)
		return r;
	switch ((e = SSL_get_error(c->ssl, r))) {
	case SSL_ERROR_WANT_READ:
		return -EAGAIN;
	case SSL_ERROR_WANT_WRITE:
		c->rd_want_write = true;
		return -EAGAIN;
	case SSL_ERROR_ZERO_RETURN: /* close_notify */
		return 0;
	default:
		return tls_failure(c, e, "reading from");
	}
}

ssize_t sio_write(struct tp_tcp_conn *c, const char *buf, size_t len)
{
	ssize_t n;
	int r, e;

	if (!c->ssl) {
		do
			n = send(c->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return errno == EWOULDBLOCK ? -EAGAIN : -errno;
		return n;
	}
	c->wr_want_read = false;
	ERR_clear_error();
	/* partial writes and a moving buffer are enabled (tls.c), so retrying
	 * from the output queue with more bytes appended is allowed */
	r = SSL_write(c->ssl, buf, io_size(len));
	if (r > 0)
		return r;
	switch ((e = SSL_get_error(c->ssl, r))) {
	case SSL_ERROR_WANT_WRITE:
		return -EAGAIN;
	case SSL_ERROR_WANT_READ:
		c->wr_want_read = true;
		return -EAGAIN;
	default:
		return tls_failure(c, e, "writing to");
	}
}

bool sio_pending(const struct tp_tcp_conn *c)
{
	return c->ssl && SSL_pending(c->ssl) > 0;
}

int sio_handshake(struct tp_tcp_conn *c)
{
	char pb[64];
	long vr;
	int r, e;

	c->hs_want_write = false;
	ERR_clear_error();
	r = SSL_do_handshake(c->ssl);
	if (r == 1) {
		log_debug(MOD, "%s: %s with %s", tp_addr_fmt(&c->peer, pb, sizeof(pb)),
			  SSL_get_version(c->ssl), SSL_get_cipher_name(c->ssl));
		return 0;
	}
	switch ((e = SSL_get_error(c->ssl, r))) {
	case SSL_ERROR_WANT_READ:
		return -EAGAIN;
	case SSL_ERROR_WANT_WRITE:
		c->hs_want_write = true;
		return -EAGAIN;
	case SSL_ERROR_SSL:
		/* RFC 3261 §26.3.1 / RFC 5922 §7: an unverified server is refused */
		vr = SSL_get_verify_result(c->ssl);
		if (!SSL_is_server(c->ssl) && vr != X509_V_OK) {
			c->tls_dead = true;
			ERR_clear_error();
			log_warn(MOD, "%s: certificate verification failed: %s",
				 tp_addr_fmt(&c->peer, pb, sizeof(pb)),
				 X509_verify_cert_error_string(vr));
			return TP_TLS_EVERIFY;
		}
		return tls_failure(c, e, "TLS handshake with");
	default:
		return tls_failure(c, e, "TLS handshake with");
	}
}

void sio_shutdown(struct tp_tcp_conn *c)
{
	if (!c->ssl || c->tls_dead || c->state != TCP_UP)
		return;
	ERR_clear_error();
	/* RFC 8446 §6.1 / RFC 5246 §7.2.1: close_notify; we do not wait for the
	 * peer's, the connection is closed right after */
	SSL_shutdown(c->ssl);
	ERR_clear_error();
}
