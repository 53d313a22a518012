/* Internals shared by the src/auth files. */
#ifndef SIPHON_AUTH_PRIV_H
#define SIPHON_AUTH_PRIV_H

#include "auth/auth.h"

#include <pthread.h>
#include <stdatomic.h>

/* Stateless nonce (RFC 7616 §3.3 leaves the format to the server):
 * base64url(ts[8] || seq[4] || HMAC-SHA256(secret, ts || seq || realm)[0..16)).
 * seq makes every challenge unique, so nonce counts are per challenge. */
#define AUTH_NONCE_TS 8
#define AUTH_NONCE_SEQ 4
#define AUTH_NONCE_MAC 16
#define AUTH_NONCE_RAW (AUTH_NONCE_TS + AUTH_NONCE_SEQ + AUTH_NONCE_MAC)
#define AUTH_NONCE_B64 38 /* ceil(28 * 4 / 3), no padding */

struct auth_nc_table;

struct auth_server {
	uint8_t secret[64];
	size_t secret_len;
	uint32_t ttl;
	uint64_t (*now)(void *arg);
	void *now_arg;
	atomic_uint seq;
	struct auth_nc_table *nct;
	enum auth_alg algs[2]; /* offered, in order */
	size_t nalgs;
};

uint64_t auth_now(const struct auth_server *s);

/* base64url without padding (RFC 4648 §5). encode writes 4n/3 rounded up
 * chars (no NUL) and returns the count; decode returns the byte count or
 * -EINVAL on a bad char or length, -ENOSPC if out is too small. */
size_t auth_b64url_encode(char *out, const uint8_t *in, size_t len);
int auth_b64url_decode(uint8_t *out, size_t cap, struct str in);


/* Mint a nonce for realm at time now into out (AUTH_NONCE_B64 chars, no NUL). */
int auth_nonce_make(struct auth_server *s, struct str realm, uint64_t now,
		    char out[AUTH_NONCE_B64]);
/* Check a nonce's MAC for realm. Returns 0 with *ts and the raw MAC (the
 * nonce's identity) set, or -EINVAL. */
/* *ts: the second it was issued; *order: when, finer (second << 32 |
 * sequence), so nonces of one second are ordered too. */
int auth_nonce_check(const struct auth_server *s, struct str nonce, struct str realm,
		     uint64_t *ts, uint64_t *order, uint8_t mac[AUTH_NONCE_MAC]);

/* Bounded nonce-count table, striped locks. */
int auth_nc_create(struct auth_nc_table **tp, size_t max);
void auth_nc_destroy(struct auth_nc_table *t);
enum auth_nc_verdict {
	AUTH_NC_OK = 0,  /* nc recorded */
	AUTH_NC_REPLAY,  /* nc <= highest seen */
	AUTH_NC_STALE,   /* nonce may have been evicted: cannot tell, re-challenge */
};
/* Record nc for the nonce identified by mac, of issue order order (later
 * nonces have larger orders: auth_nonce_check's second << 32 | sequence),
 * fresh until expires; now drives eviction. */
enum auth_nc_verdict auth_nc_check(struct auth_nc_table *t, const uint8_t mac[AUTH_NONCE_MAC],
				   uint64_t order, uint64_t expires, uint32_t nc, uint64_t now);

/* Append to out[*pos..cap), always leaving room for a NUL; -ENOSPC when
 * it does not fit. auth_put_quoted writes a quoted-string body, escaping
 * '"' and '\' (RFC 3261 §25.1), and refuses CR, LF and NUL (-EINVAL). */
int auth_put_str(char *out, size_t cap, size_t *pos, const char *a);
int auth_put_quoted(char *out, size_t cap, size_t *pos, struct str v);

#endif
