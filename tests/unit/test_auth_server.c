/* The digest server: challenges, verification outcomes, nonce expiry and
 * nonce-count replay, allocation failures. */
#include "harness.h"

#include "auth/auth_priv.h"
#include "base/mem.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define REALM "example.com"

static uint64_t fake_now;
static int lookup_calls;
static int lookup_error;

static uint64_t clock_fn(void *arg)
{
	(void)arg;
	return fake_now;
}

/* A subscriber table holding HA1 per algorithm, never the password. */
static int lookup(void *arg, struct str user, struct str realm, enum auth_alg alg,
		  uint8_t ha1[AUTH_HASH_MAX], size_t *ha1_len)
{
	int rc;

	(void)arg;
	lookup_calls++;
	if (lookup_error)
		return lookup_error;
	if (str_eq(user, STR_LIT("alice")))
		rc = auth_ha1(alg, user, realm, STR_LIT("secret"), ha1);
	else if (str_eq(user, STR_LIT("b\"ob")))
		rc = auth_ha1(alg, user, realm, STR_LIT("pw"), ha1);
	else
		return -ENOENT;
	if (rc < 0)
		return rc;
	*ha1_len = (size_t)rc;
	return 0;
}

static struct auth_server *server(uint32_t ttl, size_t max)
{
	static const uint8_t key[] = "0123456789abcdef0123456789abcdef";
	struct auth_server_cfg cfg = { .secret = key, .secret_len = 32, .nonce_ttl = ttl,
				       .now = clock_fn, .max_nonces = max };
	struct auth_server *s;

	fake_now = 1700000000;
	lookup_calls = 0;
	lookup_error = 0;
	assert_int_equal(auth_server_create(&s, &cfg), 0);
	return s;
}

/* The challenge line for alg (SHA-256 is line 1, MD5 line 2), parsed. */
static void challenge(struct auth_server *s, enum auth_alg alg, char *buf, size_t cap,
		      struct sip_auth *ch)
{
	char *line, *end;
	int n = auth_challenge_build(s, STR_LIT(REALM), false, false, buf, cap);

	assert_true(n > 0);
	line = buf;
	if (alg == AUTH_ALG_MD5)
		line = strstr(buf, "\r\n") + 2;
	end = strstr(line, "\r\n");
	assert_non_null(end);
	assert_true(strncmp(line, "WWW-Authenticate: ", 18) == 0);
	assert_int_equal(sip_auth_parse(ch, str_make(line + 18, (size_t)(end - line - 18)), NULL),
			 0);
}

struct req {
	char chbuf[512], out[512];
	struct sip_auth ch, cred;
};

/* Answer a fresh challenge as user/password for REGISTER sip:example.com. */
static void answer(struct req *r, const struct sip_auth *ch, const char *user, const char *pw,
		   uint32_t nc)
{
	int n = auth_client_response(ch, STR_LIT("REGISTER"), STR_LIT("sip:" REALM),
				     str_cstr(user), str_cstr(pw), nc, r->out, sizeof(r->out));

	assert_true(n > 0);
	assert_int_equal(sip_auth_parse(&r->cred, str_make(r->out, (size_t)n), NULL), 0);
}

static int verify(struct auth_server *s, const struct sip_auth *cred, const char *ruri,
		  struct auth_result *res)
{
	return auth_verify(s, cred, STR_LIT("REGISTER"), str_cstr(ruri), STR_LIT(REALM), lookup,
			   NULL, res);
}

static void test_challenge_format(void **state)
{
	struct auth_server *s = server(0, 0);
	char buf[512], n1[64], n2[64];
	int n;

	(void)state;
	n = auth_challenge_build(s, STR_LIT(REALM), false, false, buf, sizeof(buf));
	assert_int_equal((size_t)n, strlen(buf));
	/* two lines, SHA-256 first (RFC 8760 §2.4), one nonce */
	assert_int_equal(sscanf(buf, "WWW-Authenticate: Digest realm=\"example.com\", "
				     "nonce=\"%38[A-Za-z0-9_-]\", algorithm=SHA-256, qop=\"auth\"\r\n"
				     "WWW-Authenticate: Digest realm=\"example.com\", "
				     "nonce=\"%38[A-Za-z0-9_-]\", algorithm=MD5, qop=\"auth\"\r\n",
			 n1, n2), 2);
	assert_string_equal(n1, n2);
	assert_int_equal(strlen(n1), AUTH_NONCE_B64);
	assert_null(strstr(buf, "stale"));
	assert_string_equal(buf + n - 2, "\r\n");

	/* 407, stale, a fresh nonce each time, escaped realm */
	n = auth_challenge_build(s, STR_LIT("a\"b"), true, true, buf, sizeof(buf));
	assert_true(n > 0);
	assert_true(strncmp(buf, "Proxy-Authenticate: Digest realm=\"a\\\"b\", nonce=\"", 48) == 0);
	assert_null(strstr(buf, n1));
	assert_non_null(strstr(buf, "algorithm=SHA-256, qop=\"auth\", stale=true\r\nProxy-Auth"));
	assert_non_null(strstr(buf, "algorithm=MD5, qop=\"auth\", stale=true\r\n"));

	/* too small anywhere: -ENOSPC and an empty string */
	for (size_t cap = 0; cap <= (size_t)n; cap++) {
		assert_int_equal(auth_challenge_build(s, STR_LIT("a\"b"), true, true, buf, cap),
				 -ENOSPC);
		if (cap)
			assert_int_equal(buf[0], '\0');
	}
	assert_int_equal(auth_challenge_build(s, STR_LIT("a\r\nb"), false, false, buf,
					      sizeof(buf)), -EINVAL);
	auth_server_destroy(s);
}

static void roundtrip(enum auth_alg alg)
{
	struct auth_server *s = server(0, 0);
	struct auth_result res;
	struct req r;

	challenge(s, alg, r.chbuf, sizeof(r.chbuf), &r.ch);
	assert_str(r.ch.algorithm, auth_alg_name(alg));
	answer(&r, &r.ch, "alice", "secret", 1);
	assert_int_equal(verify(s, &r.cred, "sip:" REALM, &res), AUTH_OK);
	assert_str(res.user, "alice");
	assert_int_equal(res.alg, alg);
	assert_int_equal(res.nc, 1);
	assert_null(res.why);
	/* a quoted-pair in the username is resolved before hashing */
	challenge(s, alg, r.chbuf, sizeof(r.chbuf), &r.ch);
	answer(&r, &r.ch, "b\"ob", "pw", 1);
	assert_int_equal(verify(s, &r.cred, "sip:" REALM, &res), AUTH_OK);
	assert_str(res.user, "b\\\"ob");
	auth_server_destroy(s);
}

static void test_roundtrip_md5(void **state)
{
	(void)state;
	roundtrip(AUTH_ALG_MD5);
}

static void test_roundtrip_sha256(void **state)
{
	(void)state;
	roundtrip(AUTH_ALG_SHA256);
}

/* [auth] algorithms: the challenge offers exactly the configured ones in
 * their order, and credentials with another algorithm are refused. */
static void test_offered_algorithms(void **state)
{
	static const uint8_t key[] = "0123456789abcdef";
	static const enum auth_alg md5_only[] = { AUTH_ALG_MD5 };
	static const enum auth_alg md5_first[] = { AUTH_ALG_MD5, AUTH_ALG_SHA256 };
	static const enum auth_alg twice[] = { AUTH_ALG_MD5, AUTH_ALG_MD5 };
	struct auth_server_cfg cfg = { .secret = key, .secret_len = 16, .now = clock_fn };
	struct auth_server *s, *full = server(0, 0);
	struct auth_result res;
	struct req r;
	int n;

	(void)state;
	cfg.algs = md5_first;
	cfg.nalgs = 2;
	assert_int_equal(auth_server_create(&s, &cfg), 0);
	n = auth_challenge_build(s, STR_LIT(REALM), false, false, r.chbuf, sizeof(r.chbuf));
	assert_true(n > 0);
	assert_true(strstr(r.chbuf, "algorithm=MD5") < strstr(r.chbuf, "algorithm=SHA-256"));
	auth_server_destroy(s);

	cfg.algs = md5_only;
	cfg.nalgs = 1;
	assert_int_equal(auth_server_create(&s, &cfg), 0);
	n = auth_challenge_build(s, STR_LIT(REALM), false, false, r.chbuf, sizeof(r.chbuf));
	assert_true(n > 0);
	assert_non_null(strstr(r.chbuf, "algorithm=MD5"));
	assert_null(strstr(r.chbuf, "SHA-256"));
	assert_null(strstr(strstr(r.chbuf, "\r\n") + 2, "WWW-Authenticate")); /* one line */
	/* MD5 credentials pass; SHA-256 ones (answering another server's
	 * challenge with the same secret) are refused as not offered */
	challenge(s, AUTH_ALG_SHA256, r.chbuf, sizeof(r.chbuf), &r.ch); /* line 1 = MD5 here */
	answer(&r, &r.ch, "alice", "secret", 1);
	assert_int_equal(verify(s, &r.cred, "sip:" REALM, &res), AUTH_OK);
	assert_int_equal(res.alg, AUTH_ALG_MD5);
	challenge(full, AUTH_ALG_SHA256, r.chbuf, sizeof(r.chbuf), &r.ch);
	answer(&r, &r.ch, "alice", "secret", 1);
	assert_int_equal(verify(s, &r.cred, "sip:" REALM, &res), AUTH_MALFORMED);
	assert_string_equal(res.why, "algorithm not offered");
	auth_server_destroy(s);
	auth_server_destroy(full);

	/* bad lists */
	cfg.algs = twice;
	cfg.nalgs = 2;
	assert_int_equal(auth_server_create(&s, &cfg), -EINVAL);
	cfg.algs = md5_first;
	cfg.nalgs = 0;
	assert_int_equal(auth_server_create(&s, &cfg), -EINVAL);
	cfg.nalgs = 3;
	assert_int_equal(auth_server_create(&s, &cfg), -EINVAL);
}

/* Thousands of challenges in one second with a small nonce-count table:
 * a fresh nonce answered at once is never refused as stale (the eviction
 * floor orders nonces, not seconds), and a replay of an evicted one still
 * is not accepted. */
static void test_burst_same_second(void **state)
{
	struct auth_server *s = server(0, 64);
	struct auth_result res;
	struct req r, first;
	int st;

	(void)state;
	challenge(s, AUTH_ALG_MD5, first.chbuf, sizeof(first.chbuf), &first.ch);
	answer(&first, &first.ch, "alice", "secret", 1);
	assert_int_equal(verify(s, &first.cred, "sip:" REALM, &res), AUTH_OK);
	for (int i = 0; i < 2000; i++) {
		challenge(s, AUTH_ALG_MD5, r.chbuf, sizeof(r.chbuf), &r.ch);
		answer(&r, &r.ch, "alice", "secret", 1);
		assert_int_equal(verify(s, &r.cred, "sip:" REALM, &res), AUTH_OK);
	}
	/* the first nonce was evicted long ago: its nc cannot be checked, so
	 * it is stale (a new challenge), never accepted */
	answer(&first, &first.ch, "alice", "secret", 2);
	st = verify(s, &first.cred, "sip:" REALM, &res);
	assert_int_equal(st, AUTH_STALE);
	auth_server_destroy(s);
}

static void test_wrong_password(void **state)
{
	struct auth_server *s = server(0, 0);
	struct auth_result res;
	struct req r;

	(void)state;
	challenge(s, AUTH_ALG_SHA256, r.chbuf, sizeof(r.chbuf), &r.ch);
	answer(&r, &r.ch, "alice", "Secret", 1);
	assert_int_equal(verify(s, &r.cred, "sip:" REALM, &res), AUTH_BAD);
	assert_string_equal(res.why, "wrong response");
	/* a wrong response does not burn the nc: the right one still passes */
	answer(&r, &r.ch, "alice", "secret", 1);
	assert_int_equal(verify(s, &r.cred, "sip:" REALM, &res), AUTH_OK);
	/* a flipped response digit */
	answer(&r, &r.ch, "alice", "secret", 2);
	{
		char *c = (char *)r.cred.response.s + 5;

		*c = *c == '0' ? '1' : '0';
	}
	assert_int_equal(verify(s, &r.cred, "sip:" REALM, &res), AUTH_BAD);
	auth_server_destroy(s);
}

static void test_bad_nonce(void **state)
{
	struct auth_server *s = server(0, 0), *other;
	struct auth_server_cfg cfg = { .now = clock_fn };
	struct auth_result res;
	struct req r;
	char *p;

	(void)state;
	/* flip one char of the nonce: the client answers it correctly anyway */
	challenge(s, AUTH_ALG_MD5, r.chbuf, sizeof(r.chbuf), &r.ch);
	p = (char *)r.ch.nonce.s + 3;
	*p = *p == 'A' ? 'B' : 'A';
	answer(&r, &r.ch, "alice", "secret", 1);
	assert_int_equal(verify(s, &r.cred, "sip:" REALM, &res), AUTH_BAD_NONCE);
	assert_int_equal(lookup_calls, 0);
	/* a nonce minted with another secret (random one) */
	assert_int_equal(auth_server_create(&other, &cfg), 0);
	challenge(other, AUTH_ALG_MD5, r.chbuf, sizeof(r.chbuf), &r.ch);
	answer(&r, &r.ch, "alice", "secret", 1);
	assert_int_equal(verify(other, &r.cred, "sip:" REALM, &res), AUTH_OK);
	assert_int_equal(verify(s, &r.cred, "sip:" REALM, &res), AUTH_BAD_NONCE);
	auth_server_destroy(other);
	/* a foreign nonce of any shape */
	r.ch.nonce = STR_LIT("dcd98b7102dd2f0e8b11d0f600bfb0c093");
	answer(&r, &r.ch, "alice", "secret", 1);
	assert_int_equal(verify(s, &r.cred, "sip:" REALM, &res), AUTH_BAD_NONCE);
	/* a nonce minted for another realm does not pass for ours */
	{
		char nonce[AUTH_NONCE_B64];

		assert_int_equal(auth_nonce_make(s, STR_LIT("evil.com"), fake_now, nonce), 0);
		r.ch.nonce = str_make(nonce, sizeof(nonce));
		answer(&r, &r.ch, "alice", "secret", 1);
		assert_int_equal(verify(s, &r.cred, "sip:" REALM, &res), AUTH_BAD_NONCE);
	}
	auth_server_destroy(s);
}

static void test_stale(void **state)
{
	struct auth_server *s = server(60, 0);
	struct auth_result res;
	struct req r;

	(void)state;
	challenge(s, AUTH_ALG_SHA256, r.chbuf, sizeof(r.chbuf), &r.ch);
	answer(&r, &r.ch, "alice", "secret", 1);
	fake_now += 60; /* still fresh at exactly the ttl */
	assert_int_equal(verify(s, &r.cred, "sip:" REALM, &res), AUTH_OK);
	answer(&r, &r.ch, "alice", "secret", 2);
	fake_now += 1;
	assert_int_equal(verify(s, &r.cred, "sip:" REALM, &res), AUTH_STALE);
	assert_string_equal(res.why, "nonce expired");
	/* an expired nonce with a wrong password is just wrong */
	answer(&r, &r.ch, "alice", "nope", 3);
	assert_int_equal(verify(s, &r.cred, "sip:" REALM, &res), AUTH_BAD);
	/* the new challenge says stale=true and works */
	assert_true(auth_challenge_build(s, STR_LIT(REALM), true, false, r.chbuf,
					 sizeof(r.chbuf)) > 0);
	assert_int_equal(sip_auth_parse(&r.ch, str_make(r.chbuf + 18,
							(size_t)(strstr(r.chbuf, "\r\n") - r.chbuf - 18)),
					NULL), 0);
	assert_str(r.ch.stale, "true");
	answer(&r, &r.ch, "alice", "secret", 1);
	assert_int_equal(verify(s, &r.cred, "sip:" REALM, &res), AUTH_OK);
	auth_server_destroy(s);
}

static void test_replay(void **state)
{
	struct auth_server *s = server(0, 0);
	struct auth_result res;
	struct req r, r2;

	(void)state;
	challenge(s, AUTH_ALG_MD5, r.chbuf, sizeof(r.chbuf), &r.ch);
	answer(&r, &r.ch, "alice", "secret", 1);
	assert_int_equal(verify(s, &r.cred, "sip:" REALM, &res), AUTH_OK);
	/* the very same credentials again */
	assert_int_equal(verify(s, &r.cred, "sip:" REALM, &res), AUTH_REPLAY);
	answer(&r, &r.ch, "alice", "secret", 2);
	assert_int_equal(verify(s, &r.cred, "sip:" REALM, &res), AUTH_OK);
	answer(&r, &r.ch, "alice", "secret", 7);
	assert_int_equal(verify(s, &r.cred, "sip:" REALM, &res), AUTH_OK);
	assert_int_equal(res.nc, 7);
	answer(&r, &r.ch, "alice", "secret", 5);
	assert_int_equal(verify(s, &r.cred, "sip:" REALM, &res), AUTH_REPLAY);
	assert_string_equal(res.why, "nonce count not increasing");
	/* another challenge has its own count */
	challenge(s, AUTH_ALG_MD5, r2.chbuf, sizeof(r2.chbuf), &r2.ch);
	answer(&r2, &r2.ch, "alice", "secret", 1);
	assert_int_equal(verify(s, &r2.cred, "sip:" REALM, &res), AUTH_OK);
	auth_server_destroy(s);
}

/* A full table forgets the oldest nonce and refuses it as stale from then
 * on, so a replay can never slip through an eviction. */
static void test_table_full(void **state)
{
	struct auth_server *s = server(0, 1);
	struct auth_result res;
	struct req a, b;

	(void)state;
	challenge(s, AUTH_ALG_MD5, a.chbuf, sizeof(a.chbuf), &a.ch);
	answer(&a, &a.ch, "alice", "secret", 1);
	assert_int_equal(verify(s, &a.cred, "sip:" REALM, &res), AUTH_OK);
	fake_now++;
	challenge(s, AUTH_ALG_MD5, b.chbuf, sizeof(b.chbuf), &b.ch);
	answer(&b, &b.ch, "alice", "secret", 1);
	assert_int_equal(verify(s, &b.cred, "sip:" REALM, &res), AUTH_OK);
	assert_int_equal(verify(s, &a.cred, "sip:" REALM, &res), AUTH_STALE);
	answer(&a, &a.ch, "alice", "secret", 2);
	assert_int_equal(verify(s, &a.cred, "sip:" REALM, &res), AUTH_STALE);
	assert_string_equal(res.why, "nonce no longer tracked");
	answer(&b, &b.ch, "alice", "secret", 2);
	assert_int_equal(verify(s, &b.cred, "sip:" REALM, &res), AUTH_OK);
	/* an expired entry is reused without raising the floor */
	fake_now += 301;
	challenge(s, AUTH_ALG_MD5, a.chbuf, sizeof(a.chbuf), &a.ch);
	answer(&a, &a.ch, "alice", "secret", 1);
	assert_int_equal(verify(s, &a.cred, "sip:" REALM, &res), AUTH_OK);
	assert_int_equal(verify(s, &b.cred, "sip:" REALM, &res), AUTH_STALE);
	auth_server_destroy(s);
}

static void test_uri(void **state)
{
	struct auth_server *s = server(0, 0);
	struct auth_result res;
	struct req r;
	int n;

	(void)state;
	challenge(s, AUTH_ALG_SHA256, r.chbuf, sizeof(r.chbuf), &r.ch);
	answer(&r, &r.ch, "alice", "secret", 1);
	/* RFC 7616 §3.4.6: a mismatch is a bad request (400) */
	assert_int_equal(verify(s, &r.cred, "sip:other.com", &res), AUTH_MALFORMED);
	assert_string_equal(res.why, "digest uri does not match Request-URI");
	assert_int_equal(verify(s, &r.cred, "sip:" REALM ";transport=tcp", &res), AUTH_MALFORMED);
	assert_int_equal(verify(s, &r.cred, "tel:+1234", &res), AUTH_MALFORMED);
	/* equal by RFC 3261 §19.1.4 (host case) */
	assert_int_equal(verify(s, &r.cred, "sip:EXAMPLE.com", &res), AUTH_OK);
	/* the digest uri as the client wrote it is what was hashed */
	n = auth_client_response(&r.ch, STR_LIT("REGISTER"), STR_LIT("sip:Example.COM"),
				 STR_LIT("alice"), STR_LIT("secret"), 2, r.out, sizeof(r.out));
	assert_int_equal(sip_auth_parse(&r.cred, str_make(r.out, (size_t)n), NULL), 0);
	assert_int_equal(verify(s, &r.cred, "sip:example.com", &res), AUTH_OK);
	/* the method is covered by the response */
	answer(&r, &r.ch, "alice", "secret", 3);
	assert_int_equal(auth_verify(s, &r.cred, STR_LIT("INVITE"), STR_LIT("sip:" REALM),
				     STR_LIT(REALM), lookup, NULL, &res), AUTH_BAD);
	auth_server_destroy(s);
}

static void test_realm_user(void **state)
{
	struct auth_server *s = server(0, 0);
	struct auth_result res;
	struct req r;

	(void)state;
	challenge(s, AUTH_ALG_MD5, r.chbuf, sizeof(r.chbuf), &r.ch);
	answer(&r, &r.ch, "alice", "secret", 1);
	/* for another realm (another proxy's): not ours, challenge */
	assert_int_equal(auth_verify(s, &r.cred, STR_LIT("REGISTER"), STR_LIT("sip:" REALM),
				     STR_LIT("example.org"), lookup, NULL, &res),
			 AUTH_NO_CREDENTIALS);
	assert_string_equal(res.why, "credentials for another realm");
	answer(&r, &r.ch, "mallory", "secret", 1);
	assert_int_equal(verify(s, &r.cred, "sip:" REALM, &res), AUTH_UNKNOWN_USER);
	assert_str(res.user, "mallory");
	/* a store failure is passed up */
	answer(&r, &r.ch, "alice", "secret", 1);
	lookup_error = -EIO;
	assert_int_equal(verify(s, &r.cred, "sip:" REALM, &res), -EIO);
	lookup_error = 0;
	assert_int_equal(verify(s, &r.cred, "sip:" REALM, &res), AUTH_OK);
	auth_server_destroy(s);
}

static int verify_text(struct auth_server *s, const char *text)
{
	struct sip_auth a;
	struct auth_result res;

	assert_int_equal(sip_auth_parse(&a, str_cstr(text), NULL), 0);
	return verify(s, &a, "sip:" REALM, &res);
}

static void test_malformed(void **state)
{
	struct auth_server *s = server(0, 0);
	struct auth_result res;
	char good[512], text[600], *p;
	struct req r;
	static const char *const drop[] = { "username=", "realm=", "nonce=", "uri=",
					    "response=", "cnonce=", "qop=", "nc=" };

	(void)state;
	assert_int_equal(auth_verify(s, NULL, STR_LIT("REGISTER"), STR_LIT("sip:" REALM),
				     STR_LIT(REALM), lookup, NULL, &res), AUTH_NO_CREDENTIALS);
	assert_int_equal(verify_text(s, "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="),
			 AUTH_NO_CREDENTIALS);
	assert_int_equal(verify_text(s, "Digest"), AUTH_MALFORMED);

	challenge(s, AUTH_ALG_MD5, r.chbuf, sizeof(r.chbuf), &r.ch);
	answer(&r, &r.ch, "alice", "secret", 1);
	strcpy(good, r.out);
	/* each required field renamed away in turn */
	for (size_t i = 0; i < sizeof(drop) / sizeof(drop[0]); i++) {
		strcpy(text, good);
		p = strstr(text, drop[i]);
		assert_non_null(p);
		p[0] = 'x';
		assert_int_equal(verify_text(s, text), AUTH_MALFORMED);
	}
	/* unsupported algorithm, qop, userhash; short response; nc zero */
	snprintf(text, sizeof(text), "%s, algorithm=SHA-512-256", good);
	*strstr(text, "algorithm=MD5") = 'x';
	assert_int_equal(verify_text(s, text), AUTH_MALFORMED);
	strcpy(text, good);
	memcpy(strstr(text, "qop=auth"), "qop=xxxx", 8);
	assert_int_equal(verify_text(s, text), AUTH_MALFORMED);
	snprintf(text, sizeof(text), "%s, userhash=true", good);
	assert_int_equal(verify_text(s, text), AUTH_MALFORMED);
	snprintf(text, sizeof(text), "%s, userhash=false", good);
	assert_int_equal(verify_text(s, text), AUTH_OK);
	strcpy(text, good);
	p = strstr(text, "response=\"") + 10;
	memmove(p + 30, p + 32, strlen(p + 32) + 1);
	assert_int_equal(verify_text(s, text), AUTH_MALFORMED);
	strcpy(text, good);
	memcpy(strstr(text, "nc=00000001"), "nc=00000000", 11);
	assert_int_equal(verify_text(s, text), AUTH_MALFORMED);
	/* an SHA-256 length response under MD5 */
	strcpy(text, good);
	p = strstr(text, "response=\"") + 10;
	memmove(p + 32, p, strlen(p) + 1);
	memset(p, 'a', 32);
	assert_int_equal(verify_text(s, text), AUTH_MALFORMED);
	/* an uppercase-hex response is still the same digest */
	answer(&r, &r.ch, "alice", "secret", 2);
	strcpy(text, r.out);
	for (p = strstr(text, "response=\"") + 10; *p != '"'; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	assert_int_equal(verify_text(s, text), AUTH_OK);
	auth_server_destroy(s);
}

static int create_once(void *ctx)
{
	struct auth_server_cfg cfg = { .max_nonces = 64 };
	struct auth_server *s;
	int rc = auth_server_create(&s, &cfg);

	(void)ctx;
	if (rc < 0) {
		assert_null(s);
		return rc;
	}
	auth_server_destroy(s);
	return 0;
}

static void test_create(void **state)
{
	struct auth_server_cfg cfg = { .secret = (const uint8_t *)"k", .secret_len = 0 };
	struct auth_server *s = (struct auth_server *)&cfg;

	(void)state;
	assert_int_equal(harness_alloc_fail_loop(create_once, NULL), 3);
	assert_int_equal(auth_server_create(&s, &cfg), -EINVAL);
	assert_null(s);
	cfg.secret_len = 65;
	assert_int_equal(auth_server_create(&s, &cfg), -EINVAL);
	auth_server_destroy(NULL);
	/* defaults: real clock, random secret */
	cfg = (struct auth_server_cfg){ 0 };
	assert_int_equal(auth_server_create(&s, &cfg), 0);
	{
		struct req r;
		struct auth_result res;

		lookup_error = 0;
		challenge(s, AUTH_ALG_SHA256, r.chbuf, sizeof(r.chbuf), &r.ch);
		answer(&r, &r.ch, "alice", "secret", 1);
		assert_int_equal(verify(s, &r.cred, "sip:" REALM, &res), AUTH_OK);
	}
	auth_server_destroy(s);
}

static void test_status_str(void **state)
{
	(void)state;
	assert_string_equal(auth_status_str(AUTH_OK), "ok");
	assert_string_equal(auth_status_str(AUTH_REPLAY), "replayed nonce count");
	assert_string_equal(auth_status_str((enum auth_status)99), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		SIPHON_TEST(test_challenge_format),
		SIPHON_TEST(test_roundtrip_md5),
		SIPHON_TEST(test_roundtrip_sha256),
		SIPHON_TEST(test_offered_algorithms),
		SIPHON_TEST(test_burst_same_second),
		SIPHON_TEST(test_wrong_password),
		SIPHON_TEST(test_bad_nonce),
		SIPHON_TEST(test_stale),
		SIPHON_TEST(test_replay),
		SIPHON_TEST(test_table_full),
		SIPHON_TEST(test_uri),
		SIPHON_TEST(test_realm_user),
		SIPHON_TEST(test_malformed),
		SIPHON_TEST(test_create),
		SIPHON_TEST(test_status_str),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
