#include "harness.h"

#include "msg/hdr.h"

#include <errno.h>
#include <stdlib.h>

/* RFC 3261 §22.4 / RFC 7616 credentials, folded over lines */
static void test_credentials(void **state)
{
	struct sip_auth a;
	const char *why = NULL;

	(void)state;
	assert_int_equal(sip_auth_parse(&a, STR_LIT(
		"Digest username=\"bob\",\r\n realm=\"biloxi.com\" ,nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\","
		"\r\n\turi=\"sip:bob@biloxi.com\", qop=auth, nc=00000001, cnonce=\"0a4f113b\","
		" response=\"6629fae49393a05397450978507c4ef1\", opaque=\"5ccc069c403ebaf9f0171e9517f40e41\","
		" algorithm=SHA-256, userhash=false"), &why), 0);
	assert_null(why);
	assert_str(a.scheme, "Digest");
	assert_str(a.username, "bob");
	assert_str(a.realm, "biloxi.com");
	assert_str(a.nonce, "dcd98b7102dd2f0e8b11d0f600bfb0c093");
	assert_str(a.uri, "sip:bob@biloxi.com");
	assert_str(a.qop, "auth");
	assert_str(a.nc, "00000001");
	assert_str(a.cnonce, "0a4f113b");
	assert_str(a.response, "6629fae49393a05397450978507c4ef1");
	assert_str(a.opaque, "5ccc069c403ebaf9f0171e9517f40e41");
	assert_str(a.algorithm, "SHA-256");
	assert_str(a.userhash, "false");
	assert_int_equal(a.domain.len, 0);
	assert_int_equal(a.stale.len, 0);
	assert_true(a.params.s[0] == 'u');
	assert_true(a.params.s[a.params.len - 1] == 'e');
}

/* WWW-Authenticate: qop-options is a quoted list (RFC 3261 §25.1), RFC 8760 */
static void test_challenge(void **state)
{
	struct sip_auth a;

	(void)state;
	assert_int_equal(sip_auth_parse(&a, STR_LIT(
		"digest realm=\"atlanta.com\", domain=\"sip:ss1.carrier.com\", qop=\"auth, auth-int\","
		" nonce=\"f84f1cec41e6cbe5aea9c8e88d359\", opaque=\"\", stale=FALSE,"
		" algorithm=\"SHA-512-256\""), NULL), 0);
	assert_str(a.scheme, "digest");
	assert_str(a.realm, "atlanta.com");
	assert_str(a.domain, "sip:ss1.carrier.com");
	assert_str(a.qop, "auth, auth-int");
	assert_str(a.opaque, "");
	assert_non_null(a.opaque.s); /* present though empty */
	assert_str(a.stale, "FALSE");
	assert_str(a.algorithm, "SHA-512-256");
}

/* Quoted-pairs stay escaped in the slice; sip_unquote() resolves them. */
static void test_escaped_value(void **state)
{
	struct sip_auth a;
	char buf[32];

	(void)state;
	assert_int_equal(sip_auth_parse(&a, STR_LIT("Digest username=\"a\\\"b,c\", realm=r"), NULL), 0);
	assert_str(a.username, "a\\\"b,c");
	assert_str(a.realm, "r");
	assert_int_equal(sip_unquote(buf, sizeof(buf), a.username), 5);
	assert_string_equal(buf, "a\"b,c");
}

/* RFC 4475 regaut01: unknown scheme parses, params skipped */
static void test_unknown_scheme(void **state)
{
	size_t len;
	char *buf = harness_read_corpus("rfc4475/regaut01.dat", &len);
	static const char v[] = "NoOneKnowsThisScheme opaque-data=here";
	struct sip_auth a;
	const char *why = NULL;

	(void)state;
	assert_non_null(memmem(buf, len, "Authorization: NoOneKnowsThisScheme opaque-data=here\r\n", 54));
	free(buf);
	assert_int_equal(sip_auth_parse(&a, STR_LIT(v), &why), 0);
	assert_str(a.scheme, "NoOneKnowsThisScheme");
	assert_str(a.params, "opaque-data=here");
	assert_int_equal(a.opaque.len, 0);
	assert_null(a.opaque.s);
	/* unknown scheme: Digest names are not interpreted, duplicates allowed */
	assert_int_equal(sip_auth_parse(&a, STR_LIT("Foo realm=x, realm=y"), NULL), 0);
	assert_null(a.realm.s);
	/* token68 form (RFC 7235 §2.1, Bearer in RFC 8898) */
	assert_int_equal(sip_auth_parse(&a, STR_LIT("Bearer mF_9.B5f-4.1JqM/+=="), NULL), 0);
	assert_str(a.scheme, "Bearer");
	assert_str(a.params, "mF_9.B5f-4.1JqM/+==");
}

static void test_unknown_digest_param(void **state)
{
	struct sip_auth a;

	(void)state;
	assert_int_equal(sip_auth_parse(&a, STR_LIT("Digest realm=\"x\", charset=UTF-8, foo=\"b,a=r\""), NULL), 0);
	assert_str(a.realm, "x");
	assert_str(a.params, "realm=\"x\", charset=UTF-8, foo=\"b,a=r\"");
	assert_int_equal(sip_auth_parse(&a, STR_LIT("Digest"), NULL), 0);
	assert_str(a.scheme, "Digest");
	assert_int_equal(a.params.len, 0);
}

static void auth_bad(const char *in)
{
	struct sip_auth a;
	const char *why = NULL;

	assert_int_equal(sip_auth_parse(&a, str_cstr(in), &why), -EINVAL);
	assert_non_null(why);
}

static void test_errors(void **state)
{
	(void)state;
	auth_bad("");
	{
		struct sip_auth a;

		assert_int_equal(sip_auth_parse(&a, STR_NULL, NULL), -EINVAL);
	}
	auth_bad("   ");
	auth_bad("\"Digest\" realm=x");
	auth_bad("Digest realm=\"unterminated");
	auth_bad("Digest realm=\"x\", nonce=\"y");
	auth_bad("Digest realm=\"x\", realm=\"y\"");   /* duplicate */
	auth_bad("Digest nonce=a, NONCE=b");          /* case-insensitive names */
	auth_bad("Digest realm=\"x\",, nonce=\"y\""); /* empty element */
	auth_bad("Digest realm=\"x\",");
	auth_bad("Digest ,realm=\"x\"");
	auth_bad("Digest realm");
	auth_bad("Digest realm=");
	auth_bad("Digest realm=\"x\" nonce=\"y\"");   /* missing comma */
	auth_bad("Digest realm=x;y");
	auth_bad("Digest nc=0000001");                /* 8 LHEX */
	auth_bad("Digest nc=0000000G");
	auth_bad("Digest nc=0000000A");
	auth_bad("Digest qop=\"auth,,auth-int\"");
	auth_bad("Digest qop=\"\"");
	auth_bad("Digest realm=\"a\r\nb\"");          /* CRLF without WSP */
	auth_bad("Digest realm=x,\r\nnonce=y");
	auth_bad("Digest,realm=x");
	auth_bad("Foo =x");
	auth_bad("Foo a b");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		SIPHON_TEST(test_credentials),
		SIPHON_TEST(test_challenge),
		SIPHON_TEST(test_escaped_value),
		SIPHON_TEST(test_unknown_scheme),
		SIPHON_TEST(test_unknown_digest_param),
		SIPHON_TEST(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
