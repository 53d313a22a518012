/* Answering a Digest challenge (RFC 3261 §22.2-22.3, RFC 7616 §3.4). The
 * caller picks which challenge to answer (the first with an algorithm
 * auth_alg_parse() knows, per RFC 8760 §2.4) and counts nc per nonce. */
#include "auth/auth_priv.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>

#define FIELD_MAX 256
#define CNONCE_RAW 12

/* Does the challenge's qop-options list offer "auth"? */
static bool offers_auth(struct str qop)
{
	struct str tok;

	while (sip_token_next(&qop, &tok, NULL) == 0)
		if (str_caseeq_lit(tok, "auth"))
			return true;
	return false;
}

static int unquote(char *buf, size_t cap, struct str v, struct str *out)
{
	int n = sip_unquote(buf, cap, v);

	if (n < 0)
		return n;
	*out = str_make(buf, (size_t)n);
	return 0;
}

/* name="value" with value escaped as a quoted-string body */
static int put_param(char *out, size_t cap, size_t *pos, const char *name, struct str v)
{
	int rc = auth_put_str(out, cap, pos, name);

	if (!rc)
		rc = auth_put_str(out, cap, pos, "=\"");
	if (!rc)
		rc = auth_put_quoted(out, cap, pos, v);
	if (!rc)
		rc = auth_put_str(out, cap, pos, "\"");
	return rc;
}

int auth_client_response(const struct sip_auth *challenge, struct str method, struct str uri,
			 struct str user, struct str password, uint32_t nc, char *out,
			 size_t cap)
{
	char rbuf[FIELD_MAX], nbuf[FIELD_MAX], obuf[FIELD_MAX];
	char cnonce_s[2 * CNONCE_RAW], nc_s[9], resp[AUTH_HEX_MAX];
	struct str realm, nonce, opaque = STR_NULL, cnonce = STR_NULL, ncv = STR_NULL;
	struct str qop = STR_NULL;
	uint8_t ha1[AUTH_HASH_MAX], rnd[CNONCE_RAW];
	enum auth_alg alg;
	size_t pos = 0;
	int rc;

	if (cap == 0)
		return -ENOSPC;
	out[0] = '\0';
	if (!str_caseeq_lit(challenge->scheme, "Digest") ||
	    auth_alg_parse(challenge->algorithm, &alg) < 0)
		return -ENOTSUP;
	if (!challenge->nonce.len || nc == 0)
		return -EINVAL;
	if (unquote(rbuf, sizeof(rbuf), challenge->realm, &realm) < 0 ||
	    unquote(nbuf, sizeof(nbuf), challenge->nonce, &nonce) < 0 ||
	    unquote(obuf, sizeof(obuf), challenge->opaque, &opaque) < 0)
		return -EINVAL;
	if (challenge->qop.len) {
		if (!offers_auth(challenge->qop))
			return -ENOTSUP; /* auth-int only */
		qop = STR_LIT("auth");
		if (RAND_bytes(rnd, sizeof(rnd)) != 1)
			return -EIO;
		cnonce = str_make(cnonce_s, auth_b64url_encode(cnonce_s, rnd, sizeof(rnd)));
		snprintf(nc_s, sizeof(nc_s), "%08x", nc);
		ncv = str_make(nc_s, 8);
	}
	rc = auth_ha1(alg, user, realm, password, ha1);
	if (rc >= 0)
		rc = auth_response_hex(alg, ha1, nonce, ncv, cnonce, qop, method, uri, resp);
	OPENSSL_cleanse(ha1, sizeof(ha1));
	if (rc < 0)
		return rc;

	rc = auth_put_str(out, cap, &pos, "Digest ");
	if (!rc)
		rc = put_param(out, cap, &pos, "username", user);
	if (!rc)
		rc = put_param(out, cap, &pos, ", realm", realm);
	if (!rc)
		rc = put_param(out, cap, &pos, ", nonce", nonce);
	if (!rc)
		rc = put_param(out, cap, &pos, ", uri", uri);
	if (!rc)
		rc = put_param(out, cap, &pos, ", response", str_cstr(resp));
	if (!rc)
		rc = auth_put_str(out, cap, &pos, ", algorithm=");
	if (!rc)
		rc = auth_put_str(out, cap, &pos, auth_alg_name(alg));
	if (!rc && qop.len) {
		rc = put_param(out, cap, &pos, ", cnonce", cnonce);
		if (!rc)
			rc = auth_put_str(out, cap, &pos, ", qop=auth, nc=");
		if (!rc)
			rc = auth_put_str(out, cap, &pos, nc_s);
	}
	/* opaque goes back unchanged (RFC 7616 §3.4) */
	if (!rc && challenge->opaque.len)
		rc = put_param(out, cap, &pos, ", opaque", opaque);
	if (rc < 0) {
		out[0] = '\0';
		return rc;
	}
	out[pos] = '\0';
	return (int)pos;
}
