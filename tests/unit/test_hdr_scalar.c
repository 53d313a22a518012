#include "harness.h"

#include "msg/hdr.h"

#include <errno.h>
#include <stdlib.h>

static void test_cseq_ok(void **state)
{
	struct sip_cseq c;
	const char *why = NULL;

	(void)state;
	assert_int_equal(sip_cseq_parse(&c, STR_LIT("314159 INVITE"), &why), 0);
	assert_int_equal(c.num, 314159);
	assert_str(c.method, "INVITE");
	assert_null(why);

	/* RFC 4475 wsinv: leading zeros, method on a folded line */
	assert_int_equal(sip_cseq_parse(&c, STR_LIT("0009\r\n  INVITE"), NULL), 0);
	assert_int_equal(c.num, 9);
	assert_str(c.method, "INVITE");

	assert_int_equal(sip_cseq_parse(&c, STR_LIT("4294967295 register"), NULL), 0);
	assert_int_equal(c.num, UINT32_MAX);
	assert_str(c.method, "register"); /* case kept */

	/* RFC 4475 intmeth: an extension method token */
	assert_int_equal(sip_cseq_parse(&c, STR_LIT("139122385 !interesting-Method0123456789_*+`.%indeed'~"), NULL), 0);
	assert_str(c.method, "!interesting-Method0123456789_*+`.%indeed'~");

	assert_int_equal(sip_cseq_parse(&c, STR_LIT("  0 \t ACK  "), NULL), 0);
	assert_int_equal(c.num, 0);
	assert_str(c.method, "ACK");
}

static void cseq_bad(const char *in, int err)
{
	struct sip_cseq c;
	const char *why = NULL;

	assert_int_equal(sip_cseq_parse(&c, str_cstr(in), &why), err);
	assert_non_null(why);
}

static void test_cseq_errors(void **state)
{
	const char *why = NULL;
	struct sip_cseq c;

	(void)state;
	/* RFC 4475 scalar02 */
	assert_int_equal(sip_cseq_parse(&c, STR_LIT("36893488147419103232 REGISTER"), &why), -ERANGE);
	assert_string_equal(why, "CSeq number too large");
	cseq_bad("4294967296 INVITE", -ERANGE);
	cseq_bad("9292394834772304023312 OPTIONS", -ERANGE);
	cseq_bad("", -EINVAL);
	assert_int_equal(sip_cseq_parse(&c, STR_NULL, NULL), -EINVAL);
	cseq_bad("INVITE", -EINVAL);
	cseq_bad("12", -EINVAL);
	cseq_bad("12 ", -EINVAL);
	cseq_bad("12INVITE", -EINVAL);
	cseq_bad("-1 INVITE", -EINVAL);
	cseq_bad("1 INVITE x", -EINVAL);
	cseq_bad("1 IN/VITE", -EINVAL);
	cseq_bad("1\r\nINVITE", -EINVAL); /* CRLF without WSP is not LWS */
	cseq_bad("1.5 INVITE", -EINVAL);
}

static void test_uint(void **state)
{
	uint32_t v = 0;
	const char *why = NULL;

	(void)state;
	assert_int_equal(sip_uint_parse(STR_LIT("70"), 255, &v, &why), 0);
	assert_int_equal(v, 70);
	assert_int_equal(sip_uint_parse(STR_LIT("0068"), 255, &v, &why), 0); /* wsinv */
	assert_int_equal(v, 68);
	assert_int_equal(sip_uint_parse(STR_LIT("255"), 255, &v, &why), 0);
	assert_int_equal(v, 255);
	assert_int_equal(sip_uint_parse(STR_LIT("4294967295"), UINT32_MAX, &v, &why), 0);
	assert_int_equal(v, UINT32_MAX);
	assert_null(why);

	/* RFC 4475 scalar02: Max-Forwards 300 and a huge Expires */
	assert_int_equal(sip_uint_parse(STR_LIT("300"), 255, &v, &why), -ERANGE);
	assert_non_null(why);
	why = NULL;
	assert_int_equal(sip_uint_parse(STR_LIT("10000000000000000000000000000000000000000000"
						 "000000000000000000000000000000000000000000000"
						 "000000000000000"), UINT32_MAX, &v, &why), -ERANGE);
	assert_non_null(why);
	why = NULL;
	/* RFC 4475 ncl: Content-Length -999 */
	assert_int_equal(sip_uint_parse(STR_LIT("-999"), UINT32_MAX, &v, &why), -EINVAL);
	assert_non_null(why);
	why = NULL;
	assert_int_equal(sip_uint_parse(STR_LIT("five"), 255, &v, &why), -EINVAL);
	assert_non_null(why);
	why = NULL;
	assert_int_equal(sip_uint_parse(STR_LIT(""), 255, &v, &why), -EINVAL);
	assert_non_null(why);
	assert_int_equal(sip_uint_parse(STR_LIT("+5"), 255, &v, NULL), -EINVAL);
	assert_int_equal(sip_uint_parse(STR_LIT("1 2"), 255, &v, NULL), -EINVAL);
	assert_int_equal(sip_uint_parse(STR_LIT("0x10"), 255, &v, NULL), -EINVAL);
	assert_int_equal(sip_uint_parse(STR_LIT("999x"), 255, &v, NULL), -EINVAL);
}

static void test_callid(void **state)
{
	const char *why = NULL;

	(void)state;
	assert_int_equal(sip_callid_check(STR_LIT("wsinv.ndaksdj@192.0.2.1"), &why), 0);
	assert_int_equal(sip_callid_check(STR_LIT("regaut01.0ha0isndaksdj"), &why), 0);
	/* RFC 4475 intmeth: every word character */
	assert_int_equal(sip_callid_check(STR_LIT("intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{"), &why), 0);
	assert_int_equal(sip_callid_check(STR_LIT("997077@lau_4100"), &why), 0);
	assert_null(why);
}

static void callid_bad(const char *in)
{
	const char *why = NULL;

	assert_int_equal(sip_callid_check(str_cstr(in), &why), -EINVAL);
	assert_non_null(why);
}

static void test_callid_errors(void **state)
{
	(void)state;
	callid_bad("");
	callid_bad("   ");
	callid_bad("a b");
	callid_bad("a\r\n b");
	callid_bad("a\tb");
	callid_bad("@host");
	callid_bad("id@");
	callid_bad("a@b@c");
	callid_bad("a;b");
	callid_bad("a,b");
	callid_bad("a=b");
}

/* Every CSeq / Call-ID in the RFC 4475 corpus files checked one by one. */
static void test_corpus_scalars(void **state)
{
	static const struct {
		const char *file, *cseq;
		uint32_t num;
		int rc;
	} cases[] = {
		{ "rfc4475/wsinv.dat", "0009\r\n  INVITE", 9, 0 },
		{ "rfc4475/longreq.dat", "3882340 INVITE", 3882340, 0 },
		{ "rfc4475/scalar02.dat", "36893488147419103232 REGISTER", 0, -ERANGE },
		{ "rfc4475/esc02.dat", "29344 RE%47IST%45R", 29344, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len;
		char *buf = harness_read_corpus(cases[i].file, &len);
		struct sip_cseq c;
		const char *why = NULL;

		/* the value must really be in the file, byte for byte */
		assert_non_null(memmem(buf, len, cases[i].cseq, strlen(cases[i].cseq)));
		assert_int_equal(sip_cseq_parse(&c, str_cstr(cases[i].cseq), &why), cases[i].rc);
		if (cases[i].rc == 0)
			assert_int_equal(c.num, cases[i].num);
		else
			assert_non_null(why);
		free(buf);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		SIPHON_TEST(test_cseq_ok),
		SIPHON_TEST(test_cseq_errors),
		SIPHON_TEST(test_uint),
		SIPHON_TEST(test_callid),
		SIPHON_TEST(test_callid_errors),
		SIPHON_TEST(test_corpus_scalars),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
