#include "transport/tls.h"

#include "base/mem.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* TLS 1.2 suites: forward secrecy and AEAD only (RFC 7525 §4.2). The RFC
 * 3261 §26.3.1 suite (RSA key exchange, CBC) is deliberately not offered.
 * TLS 1.3 keeps OpenSSL's default suites. */
#define TLS12_CIPHERS "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:DHE+CHACHA20:!aNULL:!eNULL"

struct tp_tls_ctx {
	SSL_CTX *ctx;
	bool server;
};

bool tp_tls_ctx_is_server(const struct tp_tls_ctx *ctx)
{
	return ctx->server;
}

const char *tp_tls_errors(char *buf, size_t cap)
{
	unsigned long e;
	size_t n = 0;

	if (!cap)
		return buf;
	buf[0] = '\0';
	while ((e = ERR_get_error()) != 0) {
		const char *r = ERR_reason_error_string(e);
		char code[32];
		int w;

		if (!r) {
			snprintf(code, sizeof(code), "error %lx", e);
			r = code;
		}
		if (n < cap) {
			w = snprintf(buf + n, cap - n, "%s%s", n ? "; " : "", r);
			if (w > 0)
				n += (size_t)w;
		}
	}
	if (!buf[0])
		snprintf(buf, cap, "unknown TLS error");
	return buf;
}

/* ---- a socket BIO that never raises SIGPIPE (send with MSG_NOSIGNAL) ---- */

static BIO_METHOD *sock_method;
static pthread_once_t sock_once = PTHREAD_ONCE_INIT;

static int sock_fd(BIO *b)
{
	return (int)(intptr_t)BIO_get_data(b);
}

static int sock_write(BIO *b, const char *buf, int len)
{
	ssize_t n;

	BIO_clear_retry_flags(b);
	do
		n = send(sock_fd(b), buf, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		BIO_set_retry_write(b);
	return (int)n;
}

static int sock_read(BIO *b, char *buf, int len)
{
	ssize_t n;

	BIO_clear_retry_flags(b);
	do
		n = recv(sock_fd(b), buf, (size_t)len, MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		BIO_set_retry_read(b);
	else if (n == 0)
		BIO_set_flags(b, BIO_FLAGS_IN_EOF);
	return (int)n;
}

static long sock_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)num;
	switch (cmd) {
	case BIO_CTRL_FLUSH:
	case BIO_CTRL_DUP:
		return 1;
	case BIO_CTRL_EOF:
		return BIO_test_flags(b, BIO_FLAGS_IN_EOF) != 0;
	case BIO_C_GET_FD:
		if (ptr)
			*(int *)ptr = sock_fd(b);
		return sock_fd(b);
	default:
		return 0;
	}
}

static void sock_method_init(void)
{
	BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK |
					     BIO_TYPE_DESCRIPTOR,
				     "siphon socket");

	if (!m)
		return;
	if (!BIO_meth_set_write(m, sock_write) || !BIO_meth_set_read(m, sock_read) ||
	    !BIO_meth_set_ctrl(m, sock_ctrl)) {
		BIO_meth_free(m);
		return;
	}
	sock_method = m;
}

/* ---- contexts ---- */

static void set_err(char *err, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t cap, const char *fmt, ...)
{
	va_list ap;

	if (!cap)
		return;
	va_start(ap, fmt);
	vsnprintf(err, cap, fmt, ap);
	va_end(ap);
}

static int ctx_new(struct tp_tls_ctx **out, bool server, char *err, size_t cap)
{
	struct tp_tls_ctx *c = mem_zalloc(sizeof(*c));
	char eb[256];

	if (!c)
		return -ENOMEM;
	ERR_clear_error();
	c->server = server;
	c->ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	if (!c->ctx) {
		set_err(err, cap, "cannot create a TLS context: %s", tp_tls_errors(eb, sizeof(eb)));
		mem_free(c);
		return -ENOMEM;
	}
	/* RFC 8996: no TLS 1.0 or 1.1 */
	if (!SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION) ||
	    !SSL_CTX_set_cipher_list(c->ctx, TLS12_CIPHERS)) {
		set_err(err, cap, "cannot configure TLS: %s", tp_tls_errors(eb, sizeof(eb)));
		tp_tls_ctx_free(c);
		return -EINVAL;
	}
	/* SIP frames its messages itself (Content-Length), so a peer that
	 * closes without close_notify truncates nothing we would accept:
	 * treat it as an ordinary end of stream */
	SSL_CTX_set_options(c->ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
				    SSL_OP_IGNORE_UNEXPECTED_EOF |
				    (server ? SSL_OP_CIPHER_SERVER_PREFERENCE : 0));
	/* the stream transport retries a write from its output queue, whose
	 * address moves and whose length may grow, and accepts partial writes */
	SSL_CTX_set_mode(c->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
				 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	*out = c;
	return 0;
}

/* Readable? Gives a plain errno where OpenSSL would say "system lib". */
static int check_file(const char *what, const char *path, char *err, size_t cap)
{
	int e;

	if (access(path, R_OK) == 0)
		return 0;
	e = errno;
	set_err(err, cap, "cannot read the %s %s: %s", what, path, strerror(e));
	return e == ENOENT ? -ENOENT : -EACCES;
}

int tp_tls_server_ctx_create(struct tp_tls_ctx **out, const char *cert_file,
			     const char *key_file, char *err, size_t cap)
{
	struct tp_tls_ctx *c;
	char eb[256];
	int rc;

	if ((rc = check_file("certificate", cert_file, err, cap)) < 0 ||
	    (rc = check_file("private key", key_file, err, cap)) < 0)
		return rc;
	rc = ctx_new(&c, true, err, cap);
	if (rc < 0)
		return rc;
	if (SSL_CTX_use_certificate_chain_file(c->ctx, cert_file) != 1) {
		set_err(err, cap, "bad certificate %s: %s", cert_file, tp_tls_errors(eb, sizeof(eb)));
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(c->ctx, key_file, SSL_FILETYPE_PEM) != 1) {
		unsigned long e = ERR_peek_last_error();

		if (ERR_GET_LIB(e) == ERR_LIB_X509 &&
		    ERR_GET_REASON(e) == X509_R_KEY_VALUES_MISMATCH) {
			ERR_clear_error();
			goto mismatch;
		}
		set_err(err, cap, "bad private key %s: %s", key_file, tp_tls_errors(eb, sizeof(eb)));
		goto fail;
	}
	if (SSL_CTX_check_private_key(c->ctx) != 1) {
mismatch:
		set_err(err, cap, "private key %s does not match the certificate %s", key_file,
			cert_file);
		ERR_clear_error();
		goto fail;
	}
	*out = c;
	return 0;
fail:
	tp_tls_ctx_free(c);
	return -EINVAL;
}

int tp_tls_client_ctx_create(struct tp_tls_ctx **out, const char *ca_file, bool verify,
			     char *err, size_t cap)
{
	struct tp_tls_ctx *c;
	char eb[256];
	int rc;

	if (ca_file && (rc = check_file("CA file", ca_file, err, cap)) < 0)
		return rc;
	rc = ctx_new(&c, false, err, cap);
	if (rc < 0)
		return rc;
	/* RFC 3261 §26.3.1: a TLS client must check the server's certificate */
	SSL_CTX_set_verify(c->ctx, verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
	if (ca_file ? SSL_CTX_load_verify_locations(c->ctx, ca_file, NULL) != 1
		    : SSL_CTX_set_default_verify_paths(c->ctx) != 1) {
		set_err(err, cap, "cannot load CA certificates from %s: %s",
			ca_file ? ca_file : "the system store", tp_tls_errors(eb, sizeof(eb)));
		tp_tls_ctx_free(c);
		return -EINVAL;
	}
	*out = c;
	return 0;
}

void tp_tls_ctx_free(struct tp_tls_ctx *ctx)
{
	if (!ctx)
		return;
	SSL_CTX_free(ctx->ctx);
	mem_free(ctx);
}

/* ---- connections ---- */

/* Which name the server's certificate must carry: an IP address literal is
 * matched against iPAddress entries, anything else against DNS names. */
static int set_peer_name(SSL *ssl, const char *name)
{
	char ip[INET6_ADDRSTRLEN + 1];
	unsigned char bin[sizeof(struct in6_addr)];
	size_t n = strlen(name);

	if (n >= 2 && name[0] == '[' && name[n - 1] == ']' && n - 2 < sizeof(ip)) {
		memcpy(ip, name + 1, n - 2);
		ip[n - 2] = '\0';
	} else if (n < sizeof(ip)) {
		memcpy(ip, name, n + 1);
	} else {
		ip[0] = '\0';
	}
	if (inet_pton(AF_INET, ip, bin) == 1 || inet_pton(AF_INET6, ip, bin) == 1)
		return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), ip) == 1 ? 0 : -ENOMEM;
	SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	/* RFC 6066 §3: SNI carries host names only */
	if (SSL_set_tlsext_host_name(ssl, name) != 1 || SSL_set1_host(ssl, name) != 1)
		return -ENOMEM;
	return 0;
}

SSL *tp_tls_ssl_new(struct tp_tls_ctx *ctx, int fd, const char *name)
{
	SSL *ssl;
	BIO *bio;

	if (pthread_once(&sock_once, sock_method_init) != 0 || !sock_method)
		return NULL;
	ssl = SSL_new(ctx->ctx);
	if (!ssl)
		return NULL;
	bio = BIO_new(sock_method);
	if (!bio) {
		SSL_free(ssl);
		return NULL;
	}
	BIO_set_data(bio, (void *)(intptr_t)fd);
	BIO_set_init(bio, 1);
	SSL_set_bio(ssl, bio, bio); /* one reference, owned by ssl */
	if (ctx->server) {
		SSL_set_accept_state(ssl);
	} else {
		SSL_set_connect_state(ssl);
		if (name && set_peer_name(ssl, name) < 0) {
			SSL_free(ssl);
			return NULL;
		}
	}
	return ssl;
}
