/* TLS contexts (OpenSSL 3): a server context made from a certificate chain
 * and a private key, a client context that verifies the peer against a CA
 * file or the system store, and the per-connection SSL objects the stream
 * transport (tcp.c) drives. TLS 1.2 is the minimum (RFC 8996 retires 1.0 and
 * 1.1); SIP over TLS is RFC 3261 §26.2.1 and §26.3.1. */
#ifndef SIPHON_TRANSPORT_TLS_H
#define SIPHON_TRANSPORT_TLS_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

struct tp_tls_ctx;  /* one SSL_CTX; shared by any number of connections */
struct ssl_st;      /* OpenSSL's SSL */

/* Reasons a TLS connection ends, as seen by the stream transport. */
#define TP_TLS_EVERIFY (-EKEYREJECTED) /* the peer's certificate was not accepted */
#define TP_TLS_EPROTO (-EPROTO)        /* handshake or record layer failure */

/* Server side: cert_file is a PEM chain (leaf first), key_file its PEM key.
 * On failure err (if cap > 0) says which file and why. Returns 0, -ENOMEM,
 * -ENOENT/-EACCES (cannot read a file) or -EINVAL (bad or mismatched). */
int tp_tls_server_ctx_create(struct tp_tls_ctx **out, const char *cert_file,
			     const char *key_file, char *err, size_t cap);

/* Client side: verify the server's chain against ca_file (PEM; NULL: the
 * system store) unless verify is false. Returns as above. */
int tp_tls_client_ctx_create(struct tp_tls_ctx **out, const char *ca_file, bool verify,
			     char *err, size_t cap);

/* Contexts are reference counted by the SSL objects made from them, so a
 * context may be freed while connections still use it. NULL is harmless. */
void tp_tls_ctx_free(struct tp_tls_ctx *ctx);

bool tp_tls_ctx_is_server(const struct tp_tls_ctx *ctx);

/* A non-blocking SSL object on fd (which stays the caller's). For a client,
 * name is the host name (sent as SNI and checked against the certificate's
 * DNS names) or a numeric IP address (checked against its IP addresses; no
 * SNI, RFC 6066 §3); NULL checks nothing but the chain. Returns NULL on
 * allocation failure. Free with SSL_free(). */
struct ssl_st *tp_tls_ssl_new(struct tp_tls_ctx *ctx, int fd, const char *name);

/* The current thread's OpenSSL error queue as "reason; reason" (emptied). */
const char *tp_tls_errors(char *buf, size_t cap);

#endif
