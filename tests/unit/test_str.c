#include "harness.h"

#include "base/mem.h"
#include "base/str.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static void test_caseeq(void **state)
{
	(void)state;
	assert_true(str_caseeq(STR_LIT("Call-ID"), STR_LIT("call-id")));
	assert_false(str_caseeq(STR_LIT("Call-ID"), STR_LIT("call-ic")));
	assert_false(str_caseeq(STR_LIT("a"), STR_LIT("ab")));
	assert_true(str_caseeq_lit(STR_LIT("VIA"), "via"));
}

static void test_trim(void **state)
{
	(void)state;
	assert_str(str_trim(STR_LIT(" \t x y \r\n ")), "x y");
	assert_str(str_trim(STR_LIT("   ")), "");
}

static void test_to_u32(void **state)
{
	uint32_t v = 7;

	(void)state;
	assert_int_equal(str_to_u32(STR_LIT("0068"), 255, &v), 0);
	assert_int_equal(v, 68);
	assert_int_equal(str_to_u32(STR_LIT("4294967295"), UINT32_MAX, &v), 0);
	assert_int_equal(v, UINT32_MAX);
	assert_int_equal(str_to_u32(STR_LIT("4294967296"), UINT32_MAX, &v), -ERANGE);
	assert_int_equal(str_to_u32(STR_LIT("256"), 255, &v), -ERANGE);
	assert_int_equal(str_to_u32(STR_LIT("99999999999999999999x"), 255, &v), -EINVAL);
	assert_int_equal(str_to_u32(STR_LIT(""), 255, &v), -EINVAL);
	assert_int_equal(str_to_u32(STR_LIT("-1"), 255, &v), -EINVAL);
}

static void test_copy(void **state)
{
	char buf[4];

	(void)state;
	assert_int_equal(str_copy(buf, sizeof(buf), STR_LIT("abc")), 0);
	assert_string_equal(buf, "abc");
	assert_int_equal(str_copy(buf, sizeof(buf), STR_LIT("abcd")), -ENOSPC);
}

static int alloc_two(void *ctx)
{
	char *a, *b;

	(void)ctx;
	a = mem_strndup("x", 1);
	if (!a)
		return -ENOMEM;
	b = mem_alloc(10);
	if (!b) {
		mem_free(a);
		return -ENOMEM;
	}
	mem_free(b);
	mem_free(a);
	return 0;
}

static void test_alloc_fail_loop(void **state)
{
	(void)state;
	assert_int_equal(harness_alloc_fail_loop(alloc_two, NULL), 2);
}

static void test_fmt_u32(void **state)
{
	static const uint32_t vs[] = { 0, 7, 9, 10, 99, 100, 5060, 65535, 1000000000u, 4294967295u };
	char out[10], want[16];

	(void)state;
	for (size_t i = 0; i < sizeof(vs) / sizeof(vs[0]); i++) {
		size_t n = str_fmt_u32(out, vs[i]);

		snprintf(want, sizeof(want), "%u", (unsigned)vs[i]);
		assert_int_equal(n, strlen(want));
		assert_memory_equal(out, want, n);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		SIPHON_TEST(test_caseeq),
		SIPHON_TEST(test_trim),
		SIPHON_TEST(test_to_u32),
		SIPHON_TEST(test_copy),
		SIPHON_TEST(test_fmt_u32),
		SIPHON_TEST(test_alloc_fail_loop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
