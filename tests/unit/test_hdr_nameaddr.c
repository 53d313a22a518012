#include "harness.h"

#include "msg/hdr.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>


/* Parse the nth header `names` of a corpus file; returns the parser's code. */
static int corpus_na(const char *file, const char *names, int nth, unsigned flags,
		     struct sip_nameaddr *na, const char **why)
{
	size_t len;
	char *buf = harness_read_corpus(file, &len);
	struct str v = harness_corpus_hdr(buf, len, names, nth);
	struct str cur;
	int rc;

	/* the slices must outlive buf: keep a copy in a static arena */
	static char arena[8192];
	static size_t used;

	if (used + v.len > sizeof(arena))
		used = 0;
	memcpy(arena + used, v.s, v.len);
	cur = str_make(arena + used, v.len);
	used += v.len;
	free(buf);
	rc = sip_nameaddr_parse(na, &cur, flags, why);
	if (rc == 0 && !(flags & SIP_NA_LIST))
		assert_int_equal(cur.len, 0);
	return rc;
}

static void test_simple(void **state)
{
	struct sip_nameaddr na;
	struct str cur = STR_LIT("Alice <sip:alice@atlanta.com>;tag=1928301774");
	const char *why = NULL;

	(void)state;
	assert_int_equal(sip_nameaddr_parse(&na, &cur, 0, &why), 0);
	assert_null(why);
	assert_str(na.display, "Alice");
	assert_str(na.uri, "sip:alice@atlanta.com");
	assert_true(na.bracketed);
	assert_false(na.star);
	assert_true(na.has_tag);
	assert_str(na.tag, "1928301774");
	assert_str(na.params, "tag=1928301774");
	assert_str(na.raw, "Alice <sip:alice@atlanta.com>;tag=1928301774");
	assert_false(na.has_q);
	assert_false(na.has_expires);
	assert_int_equal(cur.len, 0);

	cur = STR_LIT("<sip:a@b>");
	assert_int_equal(sip_nameaddr_parse(&na, &cur, 0, NULL), 0);
	assert_int_equal(na.display.len, 0);
	assert_str(na.uri, "sip:a@b");
	assert_int_equal(na.params.len, 0);
	assert_str(na.raw, "<sip:a@b>");

	cur = STR_LIT("\"\" <tel:+1-201-555-0123>");
	assert_int_equal(sip_nameaddr_parse(&na, &cur, 0, NULL), 0);
	assert_str(na.display, "\"\"");
	assert_str(na.uri, "tel:+1-201-555-0123");
}

/* RFC 4475 wsinv: folding, LWS around ';' and '=', escaped quotes */
static void test_wsinv(void **state)
{
	struct sip_nameaddr na;

	(void)state;
	assert_int_equal(corpus_na("rfc4475/wsinv.dat", "To|t", 0, 0, &na, NULL), 0);
	assert_false(na.bracketed);
	assert_str(na.uri, "sip:vivekg@chair-dnrc.example.com");
	assert_str(na.tag, "1918181833n");
	assert_str(na.params, "tag    = 1918181833n");

	assert_int_equal(corpus_na("rfc4475/wsinv.dat", "From|f", 0, 0, &na, NULL), 0);
	assert_str(na.display, "\"J Rosenberg \\\\\\\"\"");
	assert_str(na.uri, "sip:jdrosen@example.com");
	assert_str(na.tag, "98asjd8");

	assert_int_equal(corpus_na("rfc4475/wsinv.dat", "Contact|m", 0,
				   SIP_NA_LIST | SIP_NA_ALLOW_STAR, &na, NULL), 0);
	assert_str(na.display, "\"Quoted string \\\"\\\"\"");
	assert_str(na.uri, "sip:jdrosen@example.com");
	assert_true(na.has_q);
	assert_str(na.q, "0.33");
	assert_str(na.params, "newparam =\r\n      newvalue ;\r\n  secondparam ; q = 0.33");

	assert_int_equal(corpus_na("rfc4475/wsinv.dat", "Route", 0, SIP_NA_LIST, &na, NULL), 0);
	assert_str(na.uri, "sip:services.example.com;lr;unknownwith=value;unknown-no-value");
	assert_int_equal(na.params.len, 0);
}

/* RFC 4475 intmeth: quoted-pair NUL/BEL/DEL, token display name with odd chars */
static void test_intmeth(void **state)
{
	struct sip_nameaddr na;
	static const char disp[] = "\"BEL:\\\x07 NUL:\\\0 DEL:\\\x7f\"";
	char buf[32];

	(void)state;
	assert_int_equal(corpus_na("rfc4475/intmeth.dat", "To|t", 0, 0, &na, NULL), 0);
	assert_int_equal(na.display.len, sizeof(disp) - 1);
	assert_memory_equal(na.display.s, disp, sizeof(disp) - 1);
	assert_str(na.uri, "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com");
	assert_int_equal(sip_unquote(buf, sizeof(buf), na.display), 17);

	assert_int_equal(corpus_na("rfc4475/intmeth.dat", "From|f", 0, 0, &na, NULL), 0);
	assert_str(na.display, "token1~` token2'+_ token3*%!.-");
	assert_str(na.uri, "sip:mundane@example.com");
	assert_str(na.tag, "_token~1'+`*%!-.");
}

static void test_corpus_valid(void **state)
{
	struct sip_nameaddr na;

	(void)state;
	/* lwsdisp: no LWS between display name and '<' */
	assert_int_equal(corpus_na("rfc4475/lwsdisp.dat", "From|f", 0, 0, &na, NULL), 0);
	assert_str(na.display, "caller");
	assert_str(na.uri, "sip:caller@example.com");
	assert_str(na.tag, "323");

	/* cparam01: without <> the ';' starts header params */
	assert_int_equal(corpus_na("rfc4475/cparam01.dat", "Contact|m", 0, SIP_NA_LIST | SIP_NA_ALLOW_STAR,
				   &na, NULL), 0);
	assert_false(na.bracketed);
	assert_str(na.uri, "sip:+19725552222@gw1.example.net");
	assert_str(na.params, "unknownparam");
	/* cparam02: inside <> it belongs to the URI */
	assert_int_equal(corpus_na("rfc4475/cparam02.dat", "Contact|m", 0, SIP_NA_LIST | SIP_NA_ALLOW_STAR,
				   &na, NULL), 0);
	assert_str(na.uri, "sip:+19725552222@gw1.example.net;unknownparam");
	assert_int_equal(na.params.len, 0);

	/* scalar02: folded params, huge expires left to the caller */
	assert_int_equal(corpus_na("rfc4475/scalar02.dat", "Contact|m", 0, SIP_NA_LIST, &na, NULL), 0);
	assert_str(na.expires, "280297596632815");
	assert_true(na.has_expires);

	/* badaspec's From is fine: the comma is quoted */
	assert_int_equal(corpus_na("rfc4475/badaspec.dat", "From|f", 0, 0, &na, NULL), 0);
	assert_str(na.display, "\"Bell, Alexander\"");
	assert_str(na.tag, "433423");

	/* regescrt: headers in the Contact URI */
	assert_int_equal(corpus_na("rfc4475/regescrt.dat", "Contact|m", 0, SIP_NA_LIST, &na, NULL), 0);
	assert_str(na.uri, "sip:user@example.com?Route=%3Csip:sip.example.com%3E");

	assert_int_equal(corpus_na("rfc4475/esc02.dat", "From|f", 0, 0, &na, NULL), 0);
	assert_str(na.display, "\"%Z%45\"");
	assert_int_equal(corpus_na("rfc4475/esc01.dat", "Contact|m", 0, SIP_NA_LIST, &na, NULL), 0);
	assert_str(na.uri, "sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31");

	assert_int_equal(corpus_na("rfc4475/inv2543.dat", "To|t", 0, 0, &na, NULL), 0);
	assert_str(na.uri, "sip:+16505552222@ss1.example.net");
	assert_str(na.params, "user=phone");
	assert_int_equal(corpus_na("rfc4475/inv2543.dat", "Record-Route", 0, SIP_NA_LIST, &na, NULL), 0);
	assert_str(na.uri, "sip:UserB@example.com;maddr=ss1.example.com");

	assert_int_equal(corpus_na("rfc4475/longreq.dat", "To|t", 0, 0, &na, NULL), 0);
	assert_true(na.display.len > 90);
	assert_false(na.has_tag);
	assert_true(na.bracketed);
	assert_memory_equal(na.uri.s + na.uri.len - 7, "NoValue", 7);
	assert_int_equal(corpus_na("rfc4475/longreq.dat", "From|f", 0, 0, &na, NULL), 0);
	assert_false(na.bracketed);
	assert_true(na.has_tag);
	assert_int_equal(na.tag.len, 155);

	assert_int_equal(corpus_na("rfc5118/derived/ipv6-good.dat", "Contact|m", 0, SIP_NA_LIST, &na, NULL), 0);
	assert_str(na.display, "\"Caller\"");
	assert_str(na.uri, "sip:caller@[2001:db8::1]");
	assert_int_equal(corpus_na("rfc5118/derived/mult-ip-in-header.dat", "To|t", 0, 0, &na, NULL), 0);
	assert_str(na.tag, "9817--94");
}

static void test_corpus_invalid(void **state)
{
	struct sip_nameaddr na;
	const char *why;

	(void)state;
	/* quotbal: unterminated quote */
	why = NULL;
	assert_int_equal(corpus_na("rfc4475/quotbal.dat", "To|t", 0, 0, &na, &why), -EINVAL);
	assert_non_null(why);
	/* baddn: unquoted display name with a comma, list or not */
	for (unsigned f = 0; f <= SIP_NA_LIST; f += SIP_NA_LIST) {
		why = NULL;
		assert_int_equal(corpus_na("rfc4475/derived/baddn.dat", "From|f", 0, f, &na, &why), -EINVAL);
		assert_non_null(why);
		why = NULL;
		assert_int_equal(corpus_na("rfc4475/derived/baddn.dat", "To|t", 0, f, &na, &why), -EINVAL);
		assert_non_null(why);
	}
	/* badaspec: spaces inside <> */
	why = NULL;
	assert_int_equal(corpus_na("rfc4475/badaspec.dat", "To|t", 0, 0, &na, &why), -EINVAL);
	assert_non_null(why);
	/* badinv01: Contact params ";;;;" */
	why = NULL;
	assert_int_equal(corpus_na("rfc4475/badinv01.dat", "Contact|m", 0, SIP_NA_LIST | SIP_NA_ALLOW_STAR,
				   &na, &why), -EINVAL);
	assert_non_null(why);
}

static void test_list(void **state)
{
	struct sip_nameaddr na;
	struct str cur = STR_LIT("<sip:a@x>, \"B\" <sip:b@x>;q=0.5 ,\r\n sip:c@x;expires=3,sip:d@x");

	(void)state;
	assert_int_equal(sip_nameaddr_parse(&na, &cur, SIP_NA_LIST, NULL), 0);
	assert_str(na.uri, "sip:a@x");
	assert_str(na.raw, "<sip:a@x>");
	assert_int_equal(sip_nameaddr_parse(&na, &cur, SIP_NA_LIST, NULL), 0);
	assert_str(na.uri, "sip:b@x");
	assert_str(na.q, "0.5");
	assert_str(na.raw, "\"B\" <sip:b@x>;q=0.5");
	assert_int_equal(sip_nameaddr_parse(&na, &cur, SIP_NA_LIST, NULL), 0);
	assert_str(na.uri, "sip:c@x");
	assert_str(na.expires, "3");
	assert_int_equal(sip_nameaddr_parse(&na, &cur, SIP_NA_LIST, NULL), 0);
	assert_str(na.uri, "sip:d@x");
	assert_int_equal(cur.len, 0);
}

/* A bare addr-spec holding ',' is one URI unless we parse a list. */
static void test_bare_comma(void **state)
{
	struct sip_nameaddr na;
	struct str cur = STR_LIT("sip:a,b@x");
	const char *why = NULL;

	(void)state;
	assert_int_equal(sip_nameaddr_parse(&na, &cur, 0, NULL), 0);
	assert_str(na.uri, "sip:a,b@x");
	cur = STR_LIT("sip:a,b@x");
	assert_int_equal(sip_nameaddr_parse(&na, &cur, SIP_NA_LIST, NULL), 0);
	assert_str(na.uri, "sip:a");
	assert_int_equal(sip_nameaddr_parse(&na, &cur, SIP_NA_LIST, &why), -EINVAL);
	assert_non_null(why);
	cur = STR_LIT("sip:a@x?subject=hi");
	assert_int_equal(sip_nameaddr_parse(&na, &cur, 0, NULL), 0);
	assert_str(na.uri, "sip:a@x?subject=hi");
}

static void test_star(void **state)
{
	struct sip_nameaddr na;
	struct str cur = STR_LIT(" * ");
	const char *why = NULL;

	(void)state;
	assert_int_equal(sip_nameaddr_parse(&na, &cur, SIP_NA_ALLOW_STAR | SIP_NA_LIST, &why), 0);
	assert_true(na.star);
	assert_str(na.raw, "*");
	assert_int_equal(na.uri.len, 0);
	assert_int_equal(cur.len, 0);
	cur = STR_LIT("*");
	assert_int_equal(sip_nameaddr_parse(&na, &cur, 0, &why), -EINVAL);
	assert_non_null(why);
	why = NULL;
	cur = STR_LIT("*;expires=0");
	assert_int_equal(sip_nameaddr_parse(&na, &cur, SIP_NA_ALLOW_STAR, &why), -EINVAL);
	assert_non_null(why);
	why = NULL;
	cur = STR_LIT("*, <sip:a@b>");
	assert_int_equal(sip_nameaddr_parse(&na, &cur, SIP_NA_ALLOW_STAR | SIP_NA_LIST, &why), -EINVAL);
	assert_non_null(why);
}

static void test_q_values(void **state)
{
	static const char *good[] = { "0", "1", "0.", "1.", "0.5", "0.33", "0.999", "1.0", "1.000", "0.000" };
	static const char *bad[] = { "2", "1.5", "1.001", "0.1234", ".5", "01", "0.5.5", "\"0.5\"", "-0" };
	char in[64];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct sip_nameaddr na;
		struct str cur;

		snprintf(in, sizeof(in), "<sip:a@b>;q=%s", good[i]);
		cur = str_cstr(in);
		assert_int_equal(sip_nameaddr_parse(&na, &cur, SIP_NA_LIST, NULL), 0);
		assert_str(na.q, good[i]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sip_nameaddr na;
		struct str cur;
		const char *why = NULL;

		snprintf(in, sizeof(in), "<sip:a@b>;q=%s", bad[i]);
		cur = str_cstr(in);
		assert_int_equal(sip_nameaddr_parse(&na, &cur, SIP_NA_LIST, &why), -EINVAL);
		assert_non_null(why);
	}
}

static void na_bad(const char *in, unsigned flags)
{
	struct sip_nameaddr na;
	struct str cur = str_cstr(in);
	const char *why = NULL;

	assert_int_equal(sip_nameaddr_parse(&na, &cur, flags, &why), -EINVAL);
	assert_non_null(why);
	/* the cursor is not moved on error */
	assert_ptr_equal(cur.s, in);
}

static void test_errors(void **state)
{
	(void)state;
	na_bad("", 0);
	{
		struct sip_nameaddr na;
		struct str cur = STR_NULL;

		assert_int_equal(sip_nameaddr_parse(&na, &cur, SIP_NA_LIST, NULL), -EINVAL);
	}
	na_bad("  ", SIP_NA_LIST);
	na_bad("<sip:a@b", 0);
	na_bad("<>", 0);
	na_bad("< sip:a@b>", 0);
	na_bad("<sip:a@b >", 0);
	na_bad("<sip:a@\r\n b>", 0);
	na_bad("<sip:<a@b>", 0);
	na_bad("\"x\" sip:a@b", 0);
	na_bad("\"x\"", 0);
	na_bad("\"x <sip:a@b>", 0);
	na_bad("abc", 0);
	na_bad("ralph@example.com", 0);  /* RFC 2543 style, no scheme */
	na_bad("x y", 0);
	na_bad("a \"b\" <sip:x@y>", 0);
	na_bad("1sip:x@y", 0);
	na_bad("sip:a b", 0);
	na_bad("sip:a\"b", 0);
	na_bad("<sip:a@b> junk", 0);
	na_bad("<sip:a@b>;tag=1;tag=2", 0);
	na_bad("<sip:a@b>;TAG=1;tag=2", 0);
	na_bad("<sip:a@b>;tag=\"q\"", 0);
	na_bad("<sip:a@b>;tag", 0);
	na_bad("<sip:a@b>;expires=abc", SIP_NA_LIST);
	na_bad("<sip:a@b>;expires=1;expires=2", SIP_NA_LIST);
	na_bad("<sip:a@b>;q=1;q=1", SIP_NA_LIST);
	na_bad("<sip:a@b>;", 0);
	na_bad("<sip:a@b>;;;;", 0);
	na_bad("<sip:a@b>\r\n;tag=1", 0);
	na_bad("<sip:a@b>, <sip:c@d>", 0);
	na_bad(", <sip:a@b>", SIP_NA_LIST);
	na_bad("<sip:a@b>,", SIP_NA_LIST);
	na_bad("<sip:a@b>, ", SIP_NA_LIST);
	na_bad("Bell, Alexander <sip:a.g.bell@example.com>;tag=43", 0);
	na_bad("Bell, Alexander <sip:a.g.bell@example.com>;tag=43", SIP_NA_LIST);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		SIPHON_TEST(test_simple),
		SIPHON_TEST(test_wsinv),
		SIPHON_TEST(test_intmeth),
		SIPHON_TEST(test_corpus_valid),
		SIPHON_TEST(test_corpus_invalid),
		SIPHON_TEST(test_list),
		SIPHON_TEST(test_bare_comma),
		SIPHON_TEST(test_star),
		SIPHON_TEST(test_q_values),
		SIPHON_TEST(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
