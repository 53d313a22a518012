/* Authorization, Proxy-Authorization, WWW-Authenticate and Proxy-Authenticate
 * values (RFC 3261 §20.7, §20.27, §20.28, §20.44, §25.1; RFC 7616 Digest;
 * RFC 8760 SHA-256 algorithms). One parser serves credentials and
 * challenges: both are "scheme LWS auth-param *(COMMA auth-param)". */
#include "msg/hdr.h"
#include "msg/scan.h"

#include <errno.h>
#include <stddef.h>

/* Digest params kept in struct sip_auth, by name (RFC 3261 §25.1 dig-resp
 * and digest-cln, RFC 7616 §3.3-3.4 userhash). */
static const struct {
	const char *name;
	size_t off;
} digest_params[] = {
	{ "username", offsetof(struct sip_auth, username) },
	{ "realm", offsetof(struct sip_auth, realm) },
	{ "nonce", offsetof(struct sip_auth, nonce) },
	{ "uri", offsetof(struct sip_auth, uri) },
	{ "response", offsetof(struct sip_auth, response) },
	{ "algorithm", offsetof(struct sip_auth, algorithm) },
	{ "cnonce", offsetof(struct sip_auth, cnonce) },
	{ "opaque", offsetof(struct sip_auth, opaque) },
	{ "qop", offsetof(struct sip_auth, qop) },
	{ "nc", offsetof(struct sip_auth, nc) },
	{ "domain", offsetof(struct sip_auth, domain) },
	{ "stale", offsetof(struct sip_auth, stale) },
	{ "userhash", offsetof(struct sip_auth, userhash) },
};

#define QOP_INDEX 8
#define N_DIGEST_PARAMS (sizeof(digest_params) / sizeof(digest_params[0]))

/* nc-value = 8LHEX (RFC 3261 §25.1) */
static bool nc_valid(struct str v)
{
	if (v.len != 8)
		return false;
	for (size_t i = 0; i < 8; i++) {
		unsigned char c = (unsigned char)v.s[i];

		if (!sc_digit(c) && !(c >= 'a' && c <= 'f'))
			return false;
	}
	return true;
}

/* token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
 * (RFC 7235 §2.1), as used by "Bearer" (RFC 8898). */
static size_t token68_len(struct str c)
{
	size_t i = 0;

	while (i < c.len && (sc_is((unsigned char)c.s[i], SC_ALNUM) || c.s[i] == '-' ||
			     c.s[i] == '.' || c.s[i] == '_' || c.s[i] == '~' || c.s[i] == '+' ||
			     c.s[i] == '/'))
		i++;
	if (i == 0)
		return 0;
	while (i < c.len && c.s[i] == '=')
		i++;
	return i;
}

/* auth-param = auth-param-name EQUAL ( token / quoted-string ). Quoted values
 * come back without their quotes. */
static int take_param(struct str *cur, struct str *name, struct str *value, const char **why)
{
	struct str c = *cur;

	*name = sc_take_token(&c);
	if (name->len == 0)
		return sc_fail(why, c.len && c.s[0] == ',' ? "empty auth-param" : "bad auth-param name", -EINVAL);
	sc_skip_lws(&c);
	if (c.len == 0 || c.s[0] != '=')
		return sc_fail(why, "auth-param without '='", -EINVAL);
	sc_advance(&c, 1);
	sc_skip_lws(&c);
	if (c.len && c.s[0] == '"') {
		struct str q;

		if (sc_take_quoted(&c, &q) < 0)
			return sc_fail(why, "unterminated or bad quoted-string", -EINVAL);
		*value = str_make(q.s + 1, q.len - 2);
	} else {
		*value = sc_take_token(&c);
		if (value->len == 0)
			return sc_fail(why, "empty auth-param value", -EINVAL);
	}
	*cur = c;
	return 0;
}

static int digest_store(struct sip_auth *a, struct str name, struct str value, uint32_t *seen,
			const char **why)
{
	for (size_t i = 0; i < N_DIGEST_PARAMS; i++) {
		if (!str_caseeq_lit(name, digest_params[i].name))
			continue;
		if (*seen & (1u << i))
			return sc_fail(why, "duplicate Digest parameter", -EINVAL);
		*seen |= 1u << i;
		*(struct str *)((char *)a + digest_params[i].off) = value;
		return 0;
	}
	return 0; /* unknown: skipped (RFC 7616 §3.3, §3.4) */
}

int sip_auth_parse(struct sip_auth *a, struct str value, const char **why)
{
	struct str c = value, name, val;
	uint32_t seen = 0;
	const char *params_end;
	int rc;

	*a = (struct sip_auth){ 0 };
	if (c.len == 0)
		return sc_fail(why, "missing auth scheme", -EINVAL);
	sc_skip_lws(&c);
	a->scheme = sc_take_token(&c);
	if (a->scheme.len == 0)
		return sc_fail(why, "missing auth scheme", -EINVAL);
	{
		size_t before = c.len;

		sc_skip_lws(&c);
		if (c.len == 0)
			return 0; /* a bare scheme: the caller decides what it is worth */
		if (c.len == before)
			return sc_fail(why, "bad auth scheme", -EINVAL);
	}
	a->params = c;
	params_end = c.s;

	/* credentials = other-response with a token68 ("Bearer" RFC 8898) */
	if (!str_caseeq_lit(a->scheme, "Digest")) {
		size_t n = token68_len(c);
		struct str rest = str_make(c.s + n, c.len - n);

		sc_skip_lws(&rest);
		if (n && rest.len == 0) {
			a->params = str_make(c.s, n);
			return 0;
		}
	}

	for (;;) {
		rc = take_param(&c, &name, &val, why);
		if (rc < 0)
			return rc;
		params_end = c.s;
		if (str_caseeq_lit(a->scheme, "Digest")) {
			rc = digest_store(a, name, val, &seen, why);
			if (rc < 0)
				return rc;
		}
		sc_skip_lws(&c);
		if (c.len == 0)
			break;
		if (c.s[0] != ',')
			return sc_fail(why, "junk after auth-param", -EINVAL);
		sc_advance(&c, 1);
		sc_skip_lws(&c);
		if (c.len == 0)
			return sc_fail(why, "empty auth-param", -EINVAL);
	}
	a->params = str_make(a->params.s, (size_t)(params_end - a->params.s));
	if (a->nc.len && !nc_valid(a->nc))
		return sc_fail(why, "bad nc (8 lowercase hex digits)", -EINVAL);
	/* qop-options is a quoted list in a challenge, a single token in
	 * credentials (RFC 3261 §25.1): either way, tokens and commas */
	if (seen & (1u << QOP_INDEX)) {
		struct str q = a->qop, tok;

		if (q.len == 0)
			return sc_fail(why, "empty qop", -EINVAL);
		while ((rc = sip_token_next(&q, &tok, NULL)) == 0)
			;
		if (rc < 0)
			return sc_fail(why, "bad qop list", -EINVAL);
	}
	return 0;
}
