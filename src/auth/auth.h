/* Digest authentication (RFC 3261 §22, RFC 7616, RFC 8760): the server side
 * (challenges with stateless HMAC nonces, verification with nonce-count replay
 * protection) and the client side (answering a challenge). Algorithms MD5 and
 * SHA-256, qop=auth. Pure library: no I/O, no per-message allocation. */
#ifndef SIPHON_AUTH_AUTH_H
#define SIPHON_AUTH_AUTH_H

#include "base/str.h"
#include "msg/hdr.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum auth_alg {
	AUTH_ALG_MD5 = 0,   /* RFC 3261 default, 16-byte digests */
	AUTH_ALG_SHA256,    /* RFC 8760 "SHA-256", 32-byte digests */
};
#define AUTH_HASH_MAX 32
#define AUTH_HEX_MAX (2 * AUTH_HASH_MAX + 1) /* hex digest + NUL */

/* Digest size of alg in bytes (16 or 32). */
size_t auth_alg_len(enum auth_alg alg);
/* "MD5" / "SHA-256". */
const char *auth_alg_name(enum auth_alg alg);
/* Case-insensitive; an empty slice is MD5 (RFC 3261 §25.1, RFC 7616 §3.3).
 * Returns 0, or -ENOTSUP for any other algorithm ("-sess" included). */
int auth_alg_parse(struct str s, enum auth_alg *alg);

/* HA1 = H(username ":" realm ":" password) in binary (RFC 7616 §3.4.2):
 * what a subscriber store keeps instead of the password. out holds
 * AUTH_HASH_MAX bytes; returns the digest length or -errno. */
int auth_ha1(enum auth_alg alg, struct str user, struct str realm, struct str password,
	     uint8_t out[AUTH_HASH_MAX]);

/* request-digest (RFC 7616 §3.4.1, RFC 2617 §3.2.2.1) as lowercase hex:
 * KD(hex(HA1), nonce ":" nc ":" cnonce ":" qop ":" hex(H(method ":" uri)))
 * or, with an empty qop, the RFC 2069 form KD(hex(HA1), nonce ":" hex(HA2)).
 * All slices are the unquoted values. Returns the hex length or -errno. */
int auth_response_hex(enum auth_alg alg, const uint8_t *ha1, struct str nonce, struct str nc,
		      struct str cnonce, struct str qop, struct str method, struct str uri,
		      char out[AUTH_HEX_MAX]);

/* ---- server ---- */

struct auth_server;

struct auth_server_cfg {
	const uint8_t *secret; /* HMAC key; NULL: 32 random bytes (nonces die on restart) */
	size_t secret_len;
	uint32_t nonce_ttl;    /* seconds a nonce is fresh; 0: 300 */
	uint64_t (*now)(void *arg); /* seconds; NULL: CLOCK_REALTIME */
	void *now_arg;
	size_t max_nonces;     /* nonce-count table size; 0: 65536 */
	/* Algorithms offered, in the order of the challenge lines (a client
	 * takes the first it supports, RFC 8760 §2.4); credentials with any
	 * other are refused. NULL: SHA-256 then MD5. */
	const enum auth_alg *algs;
	size_t nalgs;          /* 1 or 2, no repeats */
};

/* Allocate a server; *sp is NULL on failure. Returns 0, -ENOMEM, -EINVAL
 * (empty or too long secret, bad algs) or -EIO (no randomness). */
int auth_server_create(struct auth_server **sp, const struct auth_server_cfg *cfg);
void auth_server_destroy(struct auth_server *s);

/* Write the challenge header lines for a 401 (WWW-Authenticate) or, with
 * proxy, a 407 (Proxy-Authenticate): one line per offered algorithm (by
 * default SHA-256 first, RFC 8760 §2.4), each ending in CRLF, sharing one
 * fresh nonce:
 *   WWW-Authenticate: Digest realm="r", nonce="n", algorithm=SHA-256, qop="auth"
 * stale=true is added when asked (RFC 7616 §3.3). out is NUL-terminated.
 * Returns the length written (without the NUL), -ENOSPC or -EINVAL. */
int auth_challenge_build(struct auth_server *s, struct str realm, bool stale, bool proxy,
			 char *out, size_t cap);

/* Verification outcome and what the caller should answer. */
enum auth_status {
	AUTH_OK = 0,         /* authenticated: res->user, res->alg are set */
	AUTH_NO_CREDENTIALS, /* none, not Digest, or for another realm: challenge */
	AUTH_STALE,          /* right response, expired nonce: challenge, stale=true */
	AUTH_BAD_NONCE,      /* nonce not ours (tampered, other secret): challenge */
	AUTH_BAD,            /* wrong response (wrong password): 403 */
	AUTH_REPLAY,         /* nc not above the last one seen for this nonce: challenge */
	AUTH_UNKNOWN_USER,   /* lookup said -ENOENT: 403 (answer as AUTH_BAD) */
	AUTH_MALFORMED,      /* missing/bad field, unsupported algorithm or qop,
			      * digest uri != Request-URI (RFC 7616 §3.4.6): 400 */
};
const char *auth_status_str(enum auth_status st);

struct auth_result {
	struct str user;     /* username slice from the credentials (escaped form) */
	enum auth_alg alg;
	uint32_t nc;
	const char *why;     /* short static reason when not AUTH_OK */
};

/* Look up the stored HA1 of user@realm for alg (user and realm unquoted).
 * Returns 0 with *ha1_len = auth_alg_len(alg), -ENOENT for an unknown user,
 * or another -errno (then auth_verify returns it). */
typedef int (*auth_lookup_fn)(void *arg, struct str user, struct str realm, enum auth_alg alg,
			      uint8_t ha1[AUTH_HASH_MAX], size_t *ha1_len);

/* Check credentials (parsed by sip_auth_parse; NULL when the request had
 * none) against method, the Request-URI as received and our realm. The nc
 * is recorded only after the response proved right, so forged requests
 * cannot burn a client's counter. Thread-safe.
 * Returns an enum auth_status (>= 0) or a -errno from lookup. */
int auth_verify(struct auth_server *s, const struct sip_auth *cred, struct str method,
		struct str request_uri, struct str realm, auth_lookup_fn lookup, void *arg,
		struct auth_result *res);

/* ---- client ---- */

/* Build an Authorization / Proxy-Authorization value answering challenge
 * (RFC 3261 §22.2, §22.3): "Digest username=..., realm=..., nonce=..., uri=...,
 * response=..., algorithm=..., cnonce=..., qop=auth, nc=..." with a random
 * cnonce, qop=auth when offered (the RFC 2069 form when no qop was offered),
 * opaque echoed. nc counts the requests made with this nonce, from 1.
 * out is NUL-terminated. Returns the length, -ENOTSUP (not Digest, unknown
 * algorithm, qop without "auth"), -EINVAL (missing realm/nonce, nc 0),
 * -ENOSPC or -EIO (no randomness). */
int auth_client_response(const struct sip_auth *challenge, struct str method, struct str uri,
			 struct str user, struct str password, uint32_t nc, char *out,
			 size_t cap);

/* Lowercase hex of len bytes; out holds 2 * len + 1 (how HA1 is stored). */
void auth_hex(char *out, const uint8_t *in, size_t len);
/* Decode exactly 2 * len hex digits (either case). Returns 0 or -EINVAL. */
int auth_unhex(uint8_t *out, size_t len, struct str hex);

#endif
