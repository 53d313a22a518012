/* The digest server: secret, clock, nonce-count table, and the 401/407
 * challenges (RFC 3261 §22.1, §22.3; RFC 7616 §3.3; RFC 8760 §2.4). */
#include "auth/auth_priv.h"
#include "base/mem.h"

#include <errno.h>
#include <openssl/rand.h>
#include <time.h>

#define DEFAULT_TTL 300
/* live nonces tracked (about 40 bytes each): 65536 covers 200 challenges a
 * second for the default 300 s lifetime before the oldest are evicted */
#define DEFAULT_MAX_NONCES 65536

int auth_server_create(struct auth_server **sp, const struct auth_server_cfg *cfg)
{
	struct auth_server *s;
	uint32_t seq0;
	int rc;

	*sp = NULL;
	if (cfg->algs && (cfg->nalgs < 1 || cfg->nalgs > 2 ||
			  (cfg->nalgs == 2 && cfg->algs[0] == cfg->algs[1])))
		return -EINVAL;
	if (cfg->secret && (cfg->secret_len == 0 || cfg->secret_len > sizeof(s->secret)))
		return -EINVAL;
	s = mem_zalloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	if (cfg->secret) {
		memcpy(s->secret, cfg->secret, cfg->secret_len);
		s->secret_len = cfg->secret_len;
	} else {
		s->secret_len = 32;
		if (RAND_bytes(s->secret, (int)s->secret_len) != 1) {
			rc = -EIO;
			goto fail;
		}
	}
	/* a random start for the per-challenge sequence number */
	if (RAND_bytes((unsigned char *)&seq0, sizeof(seq0)) != 1) {
		rc = -EIO;
		goto fail;
	}
	atomic_init(&s->seq, seq0);
	s->ttl = cfg->nonce_ttl ? cfg->nonce_ttl : DEFAULT_TTL;
	if (cfg->algs) {
		for (size_t i = 0; i < cfg->nalgs; i++)
			s->algs[i] = cfg->algs[i];
		s->nalgs = cfg->nalgs;
	} else {
		/* SHA-256 first: a client takes the first it supports (RFC 8760 §2.4) */
		s->algs[0] = AUTH_ALG_SHA256;
		s->algs[1] = AUTH_ALG_MD5;
		s->nalgs = 2;
	}
	s->now = cfg->now;
	s->now_arg = cfg->now_arg;
	rc = auth_nc_create(&s->nct, cfg->max_nonces ? cfg->max_nonces : DEFAULT_MAX_NONCES);
	if (rc < 0)
		goto fail;
	*sp = s;
	return 0;
fail:
	OPENSSL_cleanse(s->secret, sizeof(s->secret));
	mem_free(s);
	return rc;
}

void auth_server_destroy(struct auth_server *s)
{
	if (!s)
		return;
	auth_nc_destroy(s->nct);
	OPENSSL_cleanse(s->secret, sizeof(s->secret));
	mem_free(s);
}

uint64_t auth_now(const struct auth_server *s)
{
	struct timespec ts;

	if (s->now)
		return s->now(s->now_arg);
	/* wall clock: servers sharing a secret must agree on nonce ages */
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec;
}

int auth_challenge_build(struct auth_server *s, struct str realm, bool stale, bool proxy,
			 char *out, size_t cap)
{
	char nonce[AUTH_NONCE_B64 + 1];
	size_t pos = 0;
	int rc;

	if (cap == 0)
		return -ENOSPC;
	out[0] = '\0';
	rc = auth_nonce_make(s, realm, auth_now(s), nonce);
	if (rc < 0)
		return rc;
	nonce[AUTH_NONCE_B64] = '\0';
	for (size_t i = 0; i < s->nalgs; i++) {
		rc = auth_put_str(out, cap, &pos, proxy ? "Proxy-Authenticate" : "WWW-Authenticate");
		if (!rc)
			rc = auth_put_str(out, cap, &pos, ": Digest realm=\"");
		if (!rc)
			rc = auth_put_quoted(out, cap, &pos, realm);
		if (!rc)
			rc = auth_put_str(out, cap, &pos, "\", nonce=\"");
		if (!rc)
			rc = auth_put_str(out, cap, &pos, nonce);
		if (!rc)
			rc = auth_put_str(out, cap, &pos, "\", algorithm=");
		if (!rc)
			rc = auth_put_str(out, cap, &pos, auth_alg_name(s->algs[i]));
		if (!rc)
			rc = auth_put_str(out, cap, &pos, ", qop=\"auth\"");
		if (!rc && stale)
			rc = auth_put_str(out, cap, &pos, ", stale=true");
		if (!rc)
			rc = auth_put_str(out, cap, &pos, "\r\n");
		if (rc < 0) {
			out[0] = '\0';
			return rc;
		}
	}
	out[pos] = '\0';
	return (int)pos;
}

const char *auth_status_str(enum auth_status st)
{
	switch (st) {
	case AUTH_OK: return "ok";
	case AUTH_NO_CREDENTIALS: return "no credentials";
	case AUTH_STALE: return "stale nonce";
	case AUTH_BAD_NONCE: return "bad nonce";
	case AUTH_BAD: return "bad response";
	case AUTH_REPLAY: return "replayed nonce count";
	case AUTH_UNKNOWN_USER: return "unknown user";
	case AUTH_MALFORMED: return "malformed credentials";
	}
	return "?";
}
