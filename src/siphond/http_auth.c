/* The HTTP interface's bearer token check (http_auth.h). */
#include "siphond/http_auth.h"

#include "base/token.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>
#include <strings.h>

static int digest(const char *s, size_t len, uint8_t out[32])
{
	unsigned n = 0;

	if (!EVP_Digest(s, len, out, &n, EVP_sha256(), NULL) || n != 32)
		return -EIO;
	return 0;
}

int sd_http_auth_init(struct sd_http_auth *a, const char *token)
{
	memset(a, 0, sizeof(*a));
	if (!token)
		return 0;
	if (digest(token, strlen(token), a->digest) < 0)
		return -EIO;
	a->on = true;
	return 0;
}

/* The credentials after "SCHEME " (RFC 9110 §11.4: the scheme is
 * case-insensitive, then one or more spaces), or NULL. */
static const char *after_scheme(const char *v, const char *scheme)
{
	size_t n = strlen(scheme);

	if (strncasecmp(v, scheme, n) != 0 || v[n] != ' ')
		return NULL;
	v += n;
	while (*v == ' ')
		v++;
	return v;
}

static bool matches(const struct sd_http_auth *a, const char *s, size_t len)
{
	uint8_t d[32];

	if (len < TOKEN_MIN || len > TOKEN_MAX || digest(s, len, d) < 0)
		return false;
	return CRYPTO_memcmp(d, a->digest, sizeof(d)) == 0;
}

/* RFC 7617: base64 of "user-id:password"; the password is the token and
 * the user name is not looked at. */
static bool basic_ok(const struct sd_http_auth *a, const char *b64)
{
	/* room for a long user name and the longest token */
	unsigned char raw[3 * ((TOKEN_MAX + 256) / 3) + 3];
	size_t len = strcspn(b64, " \t"), pad = 0;
	const unsigned char *colon;
	int n;
	bool ok;

	if (len == 0 || len % 4 || len / 4 * 3 > sizeof(raw) - 1 || b64[len] != '\0')
		return false;
	n = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)len);
	if (n < 0)
		return false;
	pad = (b64[len - 1] == '=') + (len > 1 && b64[len - 2] == '=');
	n -= (int)pad;
	raw[n] = '\0';
	colon = memchr(raw, ':', (size_t)n);
	ok = colon && matches(a, (const char *)colon + 1, (size_t)(raw + n - (colon + 1)));
	OPENSSL_cleanse(raw, sizeof(raw));
	return ok;
}

bool sd_http_auth_ok(const struct sd_http_auth *a, const char *authorization)
{
	const char *cred;

	if (!a->on)
		return true;
	if (!authorization)
		return false;
	if ((cred = after_scheme(authorization, "Bearer"))) {
		size_t n = strcspn(cred, " \t");

		return !cred[n] && matches(a, cred, n);
	}
	if ((cred = after_scheme(authorization, "Basic")))
		return basic_ok(a, cred);
	return false;
}
