/* Digest computations against the RFC examples, base64url, and the client's
 * Authorization value. */
#include "harness.h"

#include "auth/auth_priv.h"

#include <errno.h>
#include <string.h>

static const uint8_t *ha1_of(enum auth_alg alg, const char *user, const char *realm,
			     const char *pw, uint8_t buf[AUTH_HASH_MAX])
{
	assert_int_equal(auth_ha1(alg, str_cstr(user), str_cstr(realm), str_cstr(pw), buf),
			 (int)auth_alg_len(alg));
	return buf;
}

/* RFC 7616 §3.9.1: GET /dir/index.html, Mufasa / "Circle of Life", qop=auth */
static void test_rfc7616_vectors(void **state)
{
	static const char nonce[] = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
	static const char cnonce[] = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
	uint8_t ha1[AUTH_HASH_MAX];
	char hex[AUTH_HEX_MAX];

	(void)state;
	ha1_of(AUTH_ALG_MD5, "Mufasa", "http-auth@example.org", "Circle of Life", ha1);
	assert_int_equal(auth_response_hex(AUTH_ALG_MD5, ha1, STR_LIT(nonce), STR_LIT("00000001"),
					   STR_LIT(cnonce), STR_LIT("auth"), STR_LIT("GET"),
					   STR_LIT("/dir/index.html"), hex), 32);
	assert_string_equal(hex, "8ca523f5e9506fed4657c9700eebdbec");

	ha1_of(AUTH_ALG_SHA256, "Mufasa", "http-auth@example.org", "Circle of Life", ha1);
	assert_int_equal(auth_response_hex(AUTH_ALG_SHA256, ha1, STR_LIT(nonce),
					   STR_LIT("00000001"), STR_LIT(cnonce), STR_LIT("auth"),
					   STR_LIT("GET"), STR_LIT("/dir/index.html"), hex), 64);
	assert_string_equal(hex, "753927fa0e85d155564e2e272a28d180"
				 "2ca10daf4496794697cf8db5856cb6c1");
}

/* RFC 2617 §3.5 (note "Circle Of Life") */
static void test_rfc2617_vector(void **state)
{
	uint8_t ha1[AUTH_HASH_MAX];
	char hex[AUTH_HEX_MAX];

	(void)state;
	ha1_of(AUTH_ALG_MD5, "Mufasa", "testrealm@host.com", "Circle Of Life", ha1);
	auth_hex(hex, ha1, 16);
	assert_string_equal(hex, "939e7578ed9e3c518a452acee763bce9");
	assert_int_equal(auth_response_hex(AUTH_ALG_MD5, ha1,
					   STR_LIT("dcd98b7102dd2f0e8b11d0f600bfb0c093"),
					   STR_LIT("00000001"), STR_LIT("0a4f113b"), STR_LIT("auth"),
					   STR_LIT("GET"), STR_LIT("/dir/index.html"), hex), 32);
	assert_string_equal(hex, "6629fae49393a05397450978507c4ef1");
}

static void test_alg(void **state)
{
	enum auth_alg a = AUTH_ALG_SHA256;

	(void)state;
	assert_int_equal(auth_alg_parse(STR_NULL, &a), 0);
	assert_int_equal(a, AUTH_ALG_MD5);
	assert_int_equal(auth_alg_parse(STR_LIT("sha-256"), &a), 0);
	assert_int_equal(a, AUTH_ALG_SHA256);
	assert_int_equal(auth_alg_parse(STR_LIT("md5"), &a), 0);
	assert_int_equal(a, AUTH_ALG_MD5);
	assert_int_equal(auth_alg_parse(STR_LIT("MD5-sess"), &a), -ENOTSUP);
	assert_int_equal(auth_alg_parse(STR_LIT("SHA-512-256"), &a), -ENOTSUP);
	assert_string_equal(auth_alg_name(AUTH_ALG_SHA256), "SHA-256");
	assert_int_equal(auth_alg_len(AUTH_ALG_SHA256), 32);
	assert_int_equal(auth_alg_len(AUTH_ALG_MD5), 16);
}

static void test_b64url(void **state)
{
	uint8_t in[7] = { 0xfb, 0xff, 0x00, 0x01, 0x80, 0x7f, 0x3e }, out[8];
	char enc[16];

	(void)state;
	for (size_t len = 0; len <= sizeof(in); len++) {
		size_t n = auth_b64url_encode(enc, in, len);

		assert_int_equal(n, (len * 4 + 2) / 3);
		assert_int_equal(auth_b64url_decode(out, sizeof(out), str_make(enc, n)), (int)len);
		assert_memory_equal(out, in, len);
	}
	assert_int_equal(auth_b64url_encode(enc, in, 2), 3);
	assert_memory_equal(enc, "-_8", 3);
	assert_int_equal(auth_b64url_decode(out, sizeof(out), STR_LIT("-_8")), 2);
	/* padding, '+', '/', a lone char, non-zero trailing bits */
	assert_int_equal(auth_b64url_decode(out, sizeof(out), STR_LIT("AA==")), -EINVAL);
	assert_int_equal(auth_b64url_decode(out, sizeof(out), STR_LIT("+/AA")), -EINVAL);
	assert_int_equal(auth_b64url_decode(out, sizeof(out), STR_LIT("AAAAA")), -EINVAL);
	assert_int_equal(auth_b64url_decode(out, sizeof(out), STR_LIT("AB")), -EINVAL);
	assert_int_equal(auth_b64url_decode(out, 2, STR_LIT("AAAA")), -ENOSPC);
}

static void test_hex(void **state)
{
	uint8_t b[2];

	(void)state;
	assert_int_equal(auth_unhex(b, 2, STR_LIT("aB0f")), 0);
	assert_int_equal(b[0], 0xab);
	assert_int_equal(b[1], 0x0f);
	assert_int_equal(auth_unhex(b, 2, STR_LIT("aB0")), -EINVAL);
	assert_int_equal(auth_unhex(b, 2, STR_LIT("aB0g")), -EINVAL);
}

static void parse(struct sip_auth *a, const char *v)
{
	const char *why = NULL;

	assert_int_equal(sip_auth_parse(a, str_cstr(v), &why), 0);
}

/* The client answers the RFC 2617 challenge; recompute with its cnonce. */
static void test_client_response(void **state)
{
	struct sip_auth ch, cr;
	char out[512], hex[AUTH_HEX_MAX];
	uint8_t ha1[AUTH_HASH_MAX];
	int n;

	(void)state;
	parse(&ch, "Digest realm=\"testrealm@host.com\", qop=\"auth,auth-int\", "
		   "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", "
		   "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"");
	n = auth_client_response(&ch, STR_LIT("GET"), STR_LIT("/dir/index.html"),
				 STR_LIT("Mufasa"), STR_LIT("Circle Of Life"), 1, out, sizeof(out));
	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(out));
	{
		static const char want[] =
			"Digest username=\"Mufasa\", realm=\"testrealm@host.com\", "
			"nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"/dir/index.html\", "
			"response=\"";

		assert_memory_equal(out, want, sizeof(want) - 1);
	}
	parse(&cr, out);
	assert_str(cr.algorithm, "MD5");
	assert_str(cr.qop, "auth");
	assert_str(cr.nc, "00000001");
	assert_str(cr.opaque, "5ccc069c403ebaf9f0171e9517f40e41");
	assert_int_equal(cr.cnonce.len, 16);
	ha1_of(AUTH_ALG_MD5, "Mufasa", "testrealm@host.com", "Circle Of Life", ha1);
	auth_response_hex(AUTH_ALG_MD5, ha1, cr.nonce, cr.nc, cr.cnonce, cr.qop, STR_LIT("GET"),
			  STR_LIT("/dir/index.html"), hex);
	assert_str(cr.response, hex);

	/* nc in hex, SHA-256, escaped username */
	parse(&ch, "Digest realm=\"r\", nonce=\"n\", algorithm=SHA-256, qop=\"auth\"");
	n = auth_client_response(&ch, STR_LIT("REGISTER"), STR_LIT("sip:r"), STR_LIT("a\"b"),
				 STR_LIT("pw"), 0x1a, out, sizeof(out));
	assert_true(n > 0);
	parse(&cr, out);
	assert_str(cr.username, "a\\\"b");
	assert_str(cr.nc, "0000001a");
	assert_str(cr.algorithm, "SHA-256");
	assert_int_equal(cr.response.len, 64);
	assert_int_equal(cr.opaque.len, 0);

	/* no qop offered: the RFC 2069 form, no cnonce or nc */
	parse(&ch, "Digest realm=\"r\", nonce=\"n\"");
	n = auth_client_response(&ch, STR_LIT("REGISTER"), STR_LIT("sip:r"), STR_LIT("u"),
				 STR_LIT("pw"), 1, out, sizeof(out));
	assert_true(n > 0);
	parse(&cr, out);
	assert_int_equal(cr.cnonce.len, 0);
	assert_int_equal(cr.qop.len, 0);
	ha1_of(AUTH_ALG_MD5, "u", "r", "pw", ha1);
	auth_response_hex(AUTH_ALG_MD5, ha1, STR_LIT("n"), STR_NULL, STR_NULL, STR_NULL,
			  STR_LIT("REGISTER"), STR_LIT("sip:r"), hex);
	assert_str(cr.response, hex);
}

static void test_client_errors(void **state)
{
	struct sip_auth ch;
	char out[512];

	(void)state;
	parse(&ch, "Digest realm=\"r\", nonce=\"n\", qop=\"auth-int\"");
	assert_int_equal(auth_client_response(&ch, STR_LIT("INVITE"), STR_LIT("sip:r"),
					      STR_LIT("u"), STR_LIT("p"), 1, out, sizeof(out)),
			 -ENOTSUP);
	parse(&ch, "Digest realm=\"r\", nonce=\"n\", algorithm=MD5-sess");
	assert_int_equal(auth_client_response(&ch, STR_LIT("INVITE"), STR_LIT("sip:r"),
					      STR_LIT("u"), STR_LIT("p"), 1, out, sizeof(out)),
			 -ENOTSUP);
	parse(&ch, "Bearer abc");
	assert_int_equal(auth_client_response(&ch, STR_LIT("INVITE"), STR_LIT("sip:r"),
					      STR_LIT("u"), STR_LIT("p"), 1, out, sizeof(out)),
			 -ENOTSUP);
	parse(&ch, "Digest realm=\"r\"");
	assert_int_equal(auth_client_response(&ch, STR_LIT("INVITE"), STR_LIT("sip:r"),
					      STR_LIT("u"), STR_LIT("p"), 1, out, sizeof(out)),
			 -EINVAL);
	parse(&ch, "Digest realm=\"r\", nonce=\"n\", qop=\"auth\"");
	assert_int_equal(auth_client_response(&ch, STR_LIT("INVITE"), STR_LIT("sip:r"),
					      STR_LIT("u"), STR_LIT("p"), 0, out, sizeof(out)),
			 -EINVAL);
	assert_int_equal(auth_client_response(&ch, STR_LIT("INVITE"), STR_LIT("sip:r"),
					      STR_LIT("u\r\n"), STR_LIT("p"), 1, out, sizeof(out)),
			 -EINVAL);
	for (size_t cap = 0; cap < 150; cap++) {
		int n = auth_client_response(&ch, STR_LIT("INVITE"), STR_LIT("sip:r"),
					     STR_LIT("u"), STR_LIT("p"), 1, out, cap);

		if (n >= 0) {
			assert_true((size_t)n < cap);
			break;
		}
		assert_int_equal(n, -ENOSPC);
		if (cap)
			assert_int_equal(out[0], '\0');
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		SIPHON_TEST(test_rfc7616_vectors),
		SIPHON_TEST(test_rfc2617_vector),
		SIPHON_TEST(test_alg),
		SIPHON_TEST(test_b64url),
		SIPHON_TEST(test_hex),
		SIPHON_TEST(test_client_response),
		SIPHON_TEST(test_client_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
