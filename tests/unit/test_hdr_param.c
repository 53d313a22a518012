#include "harness.h"

#include "msg/hdr.h"

#include <errno.h>

/* Expect a -EINVAL with a reason from sip_param_next(). */
static void param_bad(const char *in)
{
	struct str cur = str_cstr(in), n, v;
	const char *why = NULL;
	int rc;

	while ((rc = sip_param_next(&cur, &n, &v, &why)) == 0)
		;
	assert_int_equal(rc, -EINVAL);
	assert_non_null(why);
}

static void test_param_basic(void **state)
{
	struct str cur = STR_LIT(";tag=abc;lr;q=0.5"), n, v;
	const char *why = NULL;

	(void)state;
	assert_int_equal(sip_param_next(&cur, &n, &v, &why), 0);
	assert_str(n, "tag");
	assert_str(v, "abc");
	assert_int_equal(sip_param_next(&cur, &n, &v, &why), 0);
	assert_str(n, "lr");
	assert_int_equal(v.len, 0);
	assert_int_equal(sip_param_next(&cur, &n, &v, &why), 0);
	assert_str(n, "q");
	assert_str(v, "0.5");
	assert_int_equal(sip_param_next(&cur, &n, &v, &why), 1);
	assert_int_equal(sip_param_next(&cur, &n, &v, &why), 1);
	assert_null(why);
}

static void test_param_no_leading_semi(void **state)
{
	struct str cur = STR_LIT("a=b;c"), n, v;

	(void)state;
	assert_int_equal(sip_param_next(&cur, &n, &v, NULL), 0);
	assert_str(n, "a");
	assert_str(v, "b");
	assert_int_equal(sip_param_next(&cur, &n, &v, NULL), 0);
	assert_str(n, "c");
	assert_int_equal(sip_param_next(&cur, &n, &v, NULL), 1);
}

/* RFC 4475 wsinv: LWS and folding around ';' and '=' */
static void test_param_lws_folded(void **state)
{
	struct str cur = STR_LIT(" ;   tag    = 1918181833n\r\n  ;\r\n  x = \r\n  y ; flag "), n, v;

	(void)state;
	assert_int_equal(sip_param_next(&cur, &n, &v, NULL), 0);
	assert_str(n, "tag");
	assert_str(v, "1918181833n");
	assert_int_equal(sip_param_next(&cur, &n, &v, NULL), 0);
	assert_str(n, "x");
	assert_str(v, "y");
	assert_int_equal(sip_param_next(&cur, &n, &v, NULL), 0);
	assert_str(n, "flag");
	assert_int_equal(v.len, 0);
	assert_int_equal(sip_param_next(&cur, &n, &v, NULL), 1);
	assert_int_equal(cur.len, 0);
}

static void test_param_quoted_and_host(void **state)
{
	struct str cur = STR_LIT(";p=\"a;b,\\\"c\";received=[2001:db8::9:255];r2=2001:db8::1"), n, v;

	(void)state;
	assert_int_equal(sip_param_next(&cur, &n, &v, NULL), 0);
	assert_str(n, "p");
	assert_str(v, "\"a;b,\\\"c\"");
	assert_int_equal(sip_param_next(&cur, &n, &v, NULL), 0);
	assert_str(v, "[2001:db8::9:255]");
	assert_int_equal(sip_param_next(&cur, &n, &v, NULL), 0);
	assert_str(v, "2001:db8::1");
	assert_int_equal(sip_param_next(&cur, &n, &v, NULL), 1);
}

static void test_param_stops_at_comma(void **state)
{
	struct str cur = STR_LIT(";a=1 , next"), n, v;

	(void)state;
	assert_int_equal(sip_param_next(&cur, &n, &v, NULL), 0);
	assert_int_equal(sip_param_next(&cur, &n, &v, NULL), 1);
	assert_str(cur, ", next");
}

static void test_param_errors(void **state)
{
	(void)state;
	param_bad(";;");           /* RFC 4475 badinv01 Contact ";;;;" */
	param_bad(";;;;");
	param_bad(";a=1;");        /* trailing ';': empty name */
	param_bad(";=x");
	param_bad(";a=");          /* empty value */
	param_bad(";a= ;b");
	param_bad(";a=b c");       /* junk */
	param_bad(";a=\"open");    /* unterminated quote */
	param_bad(";a=b\r\nc");    /* CRLF without WSP is not folding */
	param_bad(";a=<x>");
	param_bad(";a b");
}

static void test_param_find(void **state)
{
	struct str v = STR_LIT("unchanged");

	(void)state;
	assert_int_equal(sip_param_find(STR_LIT("lr;Transport=tcp;ttl=5"), STR_LIT("transport"), &v), 1);
	assert_str(v, "tcp");
	assert_int_equal(sip_param_find(STR_LIT("lr;transport=tcp"), STR_LIT("LR"), &v), 1);
	assert_int_equal(v.len, 0);
	v = STR_LIT("unchanged");
	assert_int_equal(sip_param_find(STR_LIT("lr;transport=tcp"), STR_LIT("maddr"), &v), 0);
	assert_str(v, "unchanged");
	assert_int_equal(sip_param_find(STR_NULL, STR_LIT("lr"), &v), 0);
	assert_int_equal(sip_param_find(STR_LIT(""), STR_LIT("lr"), &v), 0);
	/* a broken list ends the search */
	assert_int_equal(sip_param_find(STR_LIT("a;;lr"), STR_LIT("lr"), &v), 0);
}

static void test_token_list(void **state)
{
	struct str cur = STR_LIT("100rel , timer,\r\n  replaces,path"), t;
	const char *why = NULL;

	(void)state;
	assert_int_equal(sip_token_next(&cur, &t, &why), 0);
	assert_str(t, "100rel");
	assert_int_equal(sip_token_next(&cur, &t, &why), 0);
	assert_str(t, "timer");
	assert_int_equal(sip_token_next(&cur, &t, &why), 0);
	assert_str(t, "replaces");
	assert_int_equal(sip_token_next(&cur, &t, &why), 0);
	assert_str(t, "path");
	assert_int_equal(sip_token_next(&cur, &t, &why), 1);
	assert_null(why);

	cur = STR_LIT("   ");
	assert_int_equal(sip_token_next(&cur, &t, &why), 1);
}

/* Empty and NULL slices are "no more elements", not a crash (fuzz finding:
 * NULL + 0 is undefined behaviour). */
static void test_null_slices(void **state)
{
	struct str cur = STR_NULL, n, v;

	(void)state;
	assert_int_equal(sip_param_next(&cur, &n, &v, NULL), 1);
	assert_int_equal(sip_token_next(&cur, &n, NULL), 1);
	assert_int_equal(sip_unquote((char[1]){ 0 }, 1, STR_NULL), 0);
}

static void token_bad(const char *in, int ok_before)
{
	struct str cur = str_cstr(in), t;
	const char *why = NULL;

	for (int i = 0; i < ok_before; i++)
		assert_int_equal(sip_token_next(&cur, &t, &why), 0);
	assert_int_equal(sip_token_next(&cur, &t, &why), -EINVAL);
	assert_non_null(why);
}

static void test_token_errors(void **state)
{
	(void)state;
	token_bad("a,,b", 1);
	token_bad(",a", 0);
	token_bad("a,", 0);   /* trailing comma caught when it is consumed */
	token_bad("a, ,b", 1);
	token_bad("a b", 0);
	token_bad("a/b", 0);
	token_bad("\"q\"", 0);
	token_bad("a,\r\nb", 1);
}

static void test_unquote(void **state)
{
	char buf[64];

	(void)state;
	assert_int_equal(sip_unquote(buf, sizeof(buf), STR_LIT("\"J Rosenberg \\\\\\\"\"")), 14);
	assert_string_equal(buf, "J Rosenberg \\\"");
	assert_int_equal(sip_unquote(buf, sizeof(buf), STR_LIT("\"\"")), 0);
	assert_string_equal(buf, "");
	/* content without quotes (as sip_auth_parse hands it out) */
	assert_int_equal(sip_unquote(buf, sizeof(buf), STR_LIT("a\\\"b")), 3);
	assert_string_equal(buf, "a\"b");
	/* folding keeps the whitespace, drops the CRLF */
	assert_int_equal(sip_unquote(buf, sizeof(buf), STR_LIT("\"a\r\n b\"")), 3);
	assert_string_equal(buf, "a b");
}

/* RFC 4475 intmeth: quoted-pairs of BEL, NUL and DEL */
static void test_unquote_controls(void **state)
{
	static const char q[] = "\"BEL:\\\x07 NUL:\\\0 DEL:\\\x7f\"";
	static const char want[] = "BEL:\x07 NUL:\0 DEL:\x7f";
	char buf[32];

	(void)state;
	assert_int_equal(sip_unquote(buf, sizeof(buf), str_make(q, sizeof(q) - 1)), sizeof(want) - 1);
	assert_memory_equal(buf, want, sizeof(want) - 1);
}

static void test_unquote_errors(void **state)
{
	char buf[4];

	(void)state;
	assert_int_equal(sip_unquote(buf, sizeof(buf), STR_LIT("\"abc")), -EINVAL);
	assert_int_equal(sip_unquote(buf, sizeof(buf), STR_LIT("\"")), -EINVAL);
	assert_int_equal(sip_unquote(buf, sizeof(buf), STR_LIT("\"a\\\"")), -EINVAL);
	assert_int_equal(sip_unquote(buf, sizeof(buf), STR_LIT("a\"b")), -EINVAL);
	assert_int_equal(sip_unquote(buf, sizeof(buf), STR_LIT("\"a\r\nb\"")), -EINVAL);
	assert_int_equal(sip_unquote(buf, sizeof(buf), STR_LIT("\"a\\\r\"")), -EINVAL);
	/* room for the NUL is needed */
	assert_int_equal(sip_unquote(buf, sizeof(buf), STR_LIT("\"abc\"")), 3);
	assert_int_equal(sip_unquote(buf, sizeof(buf), STR_LIT("\"abcd\"")), -ENOSPC);
	assert_int_equal(sip_unquote(buf, 0, STR_LIT("\"\"")), -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		SIPHON_TEST(test_param_basic),
		SIPHON_TEST(test_param_no_leading_semi),
		SIPHON_TEST(test_param_lws_folded),
		SIPHON_TEST(test_param_quoted_and_host),
		SIPHON_TEST(test_param_stops_at_comma),
		SIPHON_TEST(test_param_errors),
		SIPHON_TEST(test_param_find),
		SIPHON_TEST(test_token_list),
		SIPHON_TEST(test_token_errors),
		SIPHON_TEST(test_null_slices),
		SIPHON_TEST(test_unquote),
		SIPHON_TEST(test_unquote_controls),
		SIPHON_TEST(test_unquote_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
