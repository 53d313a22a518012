/* Checking Digest credentials (RFC 3261 §22.4, RFC 7616 §3.4-3.5): fields,
 * realm, algorithm, digest-uri, our nonce's MAC, the response (constant
 * time), the nonce's age, then its count. Cheap syntactic checks come first;
 * nothing is recorded until the response is proven right. */
#include "auth/auth_priv.h"
#include "msg/uri.h"

#include <errno.h>
#include <openssl/crypto.h>

#define FIELD_MAX 256
#define URI_MAX 1024

static int verdict(struct auth_result *res, int st, const char *why)
{
	res->why = why;
	return st;
}

/* Unquote v into buf (NUL-terminated); -1 when it does not fit or is bad. */
static int unquote(char *buf, size_t cap, struct str v, struct str *out)
{
	int n = sip_unquote(buf, cap - 1, v);

	if (n < 0)
		return -1;
	buf[n] = '\0';
	*out = str_make(buf, (size_t)n);
	return 0;
}

/* nc-value = 8LHEX, already checked by sip_auth_parse (RFC 3261 §25.1) */
static int nc_parse(struct str v, uint32_t *nc)
{
	uint8_t b[4];

	if (auth_unhex(b, sizeof(b), v) < 0)
		return -EINVAL;
	*nc = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
	return 0;
}

/* The digest-uri must name the Request-URI (RFC 3261 §22.4 item 1, RFC 7616
 * §3.4.6): byte equality, or equality by the §19.1.4 rules for a client that
 * re-wrote the URI in another (equivalent) form. */
static bool uri_matches(struct str duri, struct str ruri)
{
	struct sip_uri a, b;

	if (str_eq(duri, ruri))
		return true;
	if (sip_uri_parse(&a, duri.s, duri.len, NULL) < 0 ||
	    sip_uri_parse(&b, ruri.s, ruri.len, NULL) < 0)
		return false;
	return sip_uri_equal(&a, &b);
}

int auth_verify(struct auth_server *s, const struct sip_auth *cred, struct str method,
		struct str request_uri, struct str realm, auth_lookup_fn lookup, void *arg,
		struct auth_result *res)
{
	char ubuf[FIELD_MAX], rbuf[FIELD_MAX], cbuf[FIELD_MAX], uribuf[URI_MAX];
	char want_hex[AUTH_HEX_MAX];
	uint8_t got[AUTH_HASH_MAX], want[AUTH_HASH_MAX], ha1[AUTH_HASH_MAX];
	uint8_t mac[AUTH_NONCE_MAC];
	struct str user, crealm, cnonce, duri;
	size_t ha1_len = 0, dlen;
	uint64_t ts, order, now;
	int rc, diff;

	*res = (struct auth_result){ 0 };
	if (!cred || !str_caseeq_lit(cred->scheme, "Digest"))
		return verdict(res, AUTH_NO_CREDENTIALS, "no Digest credentials");
	if (!cred->username.len || !cred->realm.len || !cred->nonce.len || !cred->uri.len ||
	    !cred->response.len)
		return verdict(res, AUTH_MALFORMED, "missing username, realm, nonce, uri or response");
	if (unquote(rbuf, sizeof(rbuf), cred->realm, &crealm) < 0)
		return verdict(res, AUTH_MALFORMED, "bad realm");
	/* maybe meant for another proxy on the path (RFC 3261 §22.3) */
	if (!str_eq(crealm, realm))
		return verdict(res, AUTH_NO_CREDENTIALS, "credentials for another realm");
	res->user = cred->username;
	if (auth_alg_parse(cred->algorithm, &res->alg) < 0)
		return verdict(res, AUTH_MALFORMED, "unsupported algorithm");
	if (res->alg != s->algs[0] && (s->nalgs < 2 || res->alg != s->algs[1]))
		return verdict(res, AUTH_MALFORMED, "algorithm not offered");
	dlen = auth_alg_len(res->alg);
	/* we never offer userhash (RFC 7616 §3.4.4) */
	if (cred->userhash.len && !str_caseeq_lit(cred->userhash, "false"))
		return verdict(res, AUTH_MALFORMED, "userhash not offered");
	/* we always offer qop="auth"; without it there is no nc to check */
	if (!str_caseeq_lit(cred->qop, "auth"))
		return verdict(res, AUTH_MALFORMED, "qop=auth required");
	if (!cred->cnonce.len || nc_parse(cred->nc, &res->nc) < 0 || res->nc == 0)
		return verdict(res, AUTH_MALFORMED, "missing cnonce or bad nc");
	if (unquote(cbuf, sizeof(cbuf), cred->cnonce, &cnonce) < 0)
		return verdict(res, AUTH_MALFORMED, "bad cnonce");
	if (auth_unhex(got, dlen, cred->response) < 0)
		return verdict(res, AUTH_MALFORMED, "bad response length");
	if (unquote(uribuf, sizeof(uribuf), cred->uri, &duri) < 0)
		return verdict(res, AUTH_MALFORMED, "bad uri");
	if (!uri_matches(duri, request_uri))
		return verdict(res, AUTH_MALFORMED, "digest uri does not match Request-URI");
	if (auth_nonce_check(s, cred->nonce, realm, &ts, &order, mac) < 0)
		return verdict(res, AUTH_BAD_NONCE, "nonce not issued by us");
	if (unquote(ubuf, sizeof(ubuf), cred->username, &user) < 0)
		return verdict(res, AUTH_MALFORMED, "bad username");

	rc = lookup(arg, user, realm, res->alg, ha1, &ha1_len);
	if (rc == -ENOENT)
		return verdict(res, AUTH_UNKNOWN_USER, "unknown user");
	if (rc < 0)
		goto out;
	if (ha1_len != dlen) {
		rc = -EINVAL;
		goto out;
	}
	rc = auth_response_hex(res->alg, ha1, cred->nonce, cred->nc, cnonce, cred->qop, method,
			       duri, want_hex);
	if (rc < 0)
		goto out;
	auth_unhex(want, dlen, str_make(want_hex, 2 * dlen));
	diff = CRYPTO_memcmp(got, want, dlen);
	if (diff) {
		rc = verdict(res, AUTH_BAD, "wrong response");
		goto out;
	}
	/* right response: now the nonce's age (RFC 7616 §3.3 stale) */
	now = auth_now(s);
	if (now > ts && now - ts > s->ttl) {
		rc = verdict(res, AUTH_STALE, "nonce expired");
		goto out;
	}
	switch (auth_nc_check(s->nct, mac, order, ts + s->ttl, res->nc, now)) {
	case AUTH_NC_OK:
		rc = AUTH_OK;
		break;
	case AUTH_NC_REPLAY:
		rc = verdict(res, AUTH_REPLAY, "nonce count not increasing");
		break;
	case AUTH_NC_STALE:
		rc = verdict(res, AUTH_STALE, "nonce no longer tracked");
		break;
	}
out:
	OPENSSL_cleanse(ha1, sizeof(ha1));
	OPENSSL_cleanse(want_hex, sizeof(want_hex));
	return rc;
}
