/* Digest computations (RFC 7616 §3.4.1-3.4.3, RFC 8760 §2): H, KD, HA1 and
 * the request-digest, over OpenSSL 3 EVP_MD. */
#include "auth/auth_priv.h"

#include <errno.h>
#include <openssl/evp.h>

size_t auth_alg_len(enum auth_alg alg)
{
	return alg == AUTH_ALG_SHA256 ? 32 : 16;
}

const char *auth_alg_name(enum auth_alg alg)
{
	return alg == AUTH_ALG_SHA256 ? "SHA-256" : "MD5";
}

int auth_alg_parse(struct str s, enum auth_alg *alg)
{
	if (s.len == 0 || str_caseeq_lit(s, "MD5"))
		*alg = AUTH_ALG_MD5;
	else if (str_caseeq_lit(s, "SHA-256"))
		*alg = AUTH_ALG_SHA256;
	else
		return -ENOTSUP;
	return 0;
}

/* H(parts[0] ":" parts[1] ":" ...) into out (binary). */
static int hash_join(enum auth_alg alg, const struct str *parts, size_t n, uint8_t *out)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int len = 0;
	int ok;

	if (!ctx)
		return -ENOMEM;
	ok = EVP_DigestInit_ex(ctx, alg == AUTH_ALG_SHA256 ? EVP_sha256() : EVP_md5(), NULL);
	for (size_t i = 0; ok && i < n; i++) {
		if (i)
			ok = EVP_DigestUpdate(ctx, ":", 1);
		if (ok && parts[i].len)
			ok = EVP_DigestUpdate(ctx, parts[i].s, parts[i].len);
	}
	if (ok)
		ok = EVP_DigestFinal_ex(ctx, out, &len);
	EVP_MD_CTX_free(ctx);
	if (!ok || len != auth_alg_len(alg))
		return -EIO;
	return (int)len;
}

int auth_ha1(enum auth_alg alg, struct str user, struct str realm, struct str password,
	     uint8_t out[AUTH_HASH_MAX])
{
	const struct str parts[] = { user, realm, password };

	return hash_join(alg, parts, 3, out);
}

int auth_response_hex(enum auth_alg alg, const uint8_t *ha1, struct str nonce, struct str nc,
		      struct str cnonce, struct str qop, struct str method, struct str uri,
		      char out[AUTH_HEX_MAX])
{
	size_t dlen = auth_alg_len(alg);
	char ha1_hex[AUTH_HEX_MAX], ha2_hex[AUTH_HEX_MAX];
	uint8_t d[AUTH_HASH_MAX];
	const struct str a2[] = { method, uri };
	int rc;

	/* A2 = Method ":" digest-uri-value (qop=auth, RFC 7616 §3.4.3) */
	rc = hash_join(alg, a2, 2, d);
	if (rc < 0)
		return rc;
	auth_hex(ha2_hex, d, dlen);
	auth_hex(ha1_hex, ha1, dlen);
	{
		const struct str kd_qop[] = { str_make(ha1_hex, 2 * dlen), nonce, nc, cnonce, qop,
					      str_make(ha2_hex, 2 * dlen) };
		const struct str kd_2069[] = { str_make(ha1_hex, 2 * dlen), nonce,
					       str_make(ha2_hex, 2 * dlen) };

		if (qop.len)
			rc = hash_join(alg, kd_qop, 6, d);
		else
			rc = hash_join(alg, kd_2069, 3, d);
	}
	if (rc < 0)
		return rc;
	auth_hex(out, d, dlen);
	return (int)(2 * dlen);
}

void auth_hex(char *out, const uint8_t *in, size_t len)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int auth_unhex(uint8_t *out, size_t len, struct str hex)
{
	if (hex.len != 2 * len)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		int hi = hexval(hex.s[2 * i]), lo = hexval(hex.s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}
