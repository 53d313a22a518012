/* INI reader: syntax, error messages naming file/line/key, file reading. */
#include "harness.h"

#include "base/config.h"
#include "base/mem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct rec {
	char lines[16][160];
	int n;
	const char *reject_key; /* callback fails on this key */
};

static int record(const char *section, const char *key, const char *value, const char **why,
		  void *arg)
{
	struct rec *r = arg;

	if (r->reject_key && strcmp(key, r->reject_key) == 0) {
		*why = "unknown key";
		return -EINVAL;
	}
	if (r->n < 16)
		snprintf(r->lines[r->n++], sizeof(r->lines[0]), "%s|%s|%s", section, key, value);
	return 0;
}

static int parse(const char *text, struct rec *r, struct config_err *err)
{
	memset(err, 0, sizeof(*err));
	return config_parse_buffer(text, strlen(text), "t.conf", record, r, err);
}

static void test_basic(void **state)
{
	struct rec r = { 0 };
	struct config_err err;
	const char *text = "# comment\n"
			   "; another\n"
			   "\n"
			   "[server]\n"
			   "listen = udp:127.0.0.1:5060\r\n"
			   "  listen=tcp:[::1]:5070  \n"
			   "\t[ log ]  \n"
			   "level = debug\n"
			   "x.y-z_1 = a = b # not a comment\n"
			   "empty =\n"
			   "last = no newline";

	(void)state;
	assert_int_equal(parse(text, &r, &err), 0);
	assert_int_equal(r.n, 6);
	assert_string_equal(r.lines[0], "server|listen|udp:127.0.0.1:5060");
	assert_string_equal(r.lines[1], "server|listen|tcp:[::1]:5070");
	assert_string_equal(r.lines[2], "log|level|debug");
	assert_string_equal(r.lines[3], "log|x.y-z_1|a = b # not a comment");
	assert_string_equal(r.lines[4], "log|empty|");
	assert_string_equal(r.lines[5], "log|last|no newline");
}

static void test_empty(void **state)
{
	struct rec r = { 0 };
	struct config_err err;

	(void)state;
	assert_int_equal(config_parse_buffer("", 0, "e", record, &r, &err), 0);
	assert_int_equal(parse("\n\n# only comments\n", &r, &err), 0);
	assert_int_equal(r.n, 0);
}

static void expect_error(const char *text, unsigned line, const char *needle)
{
	struct rec r = { 0 };
	struct config_err err;

	assert_int_equal(parse(text, &r, &err), -EINVAL);
	assert_int_equal(err.line, line);
	if (!strstr(err.msg, needle) || strncmp(err.msg, "t.conf:", 7) != 0) {
		fprintf(stderr, "message '%s' lacks '%s'\n", err.msg, needle);
		fail();
	}
}

static void test_errors(void **state)
{
	char lng[CONFIG_LINE_MAX + 32];

	(void)state;
	expect_error("key = 1\n", 1, "outside any [section]");
	expect_error("[s]\n\njust words\n", 3, "expected 'key = value'");
	expect_error("[s\n", 1, "without ']'");
	expect_error("[]\n", 1, "bad section name");
	expect_error("[a b]\n", 1, "bad section name");
	expect_error("[s]\n = v\n", 2, "bad key name");
	expect_error("[s]\nk y = v\n", 2, "bad key name");
	expect_error("[s]\nk = a\x01b\n", 2, "control character");
	memset(lng, 'a', sizeof(lng));
	memcpy(lng, "[s]\nk=", 6);
	lng[sizeof(lng) - 1] = '\0';
	expect_error(lng, 2, "longer than");
}

static void test_nul_byte(void **state)
{
	struct rec r = { 0 };
	struct config_err err;
	static const char text[] = "[s]\nk = 1\nv = a\0b\n";

	(void)state;
	assert_int_equal(config_parse_buffer(text, sizeof(text) - 1, "t.conf", record, &r, &err),
			 -EINVAL);
	assert_int_equal(err.line, 3);
	assert_non_null(strstr(err.msg, "NUL"));
}

static void test_callback_reason(void **state)
{
	struct rec r = { .reject_key = "bogus" };
	struct config_err err;

	(void)state;
	assert_int_equal(parse("[server]\nlisten = x\n# c\nbogus = 1\nafter = 2\n", &r, &err),
			 -EINVAL);
	assert_string_equal(err.msg, "t.conf:4: [server] bogus: unknown key");
	assert_int_equal(err.line, 4);
	assert_int_equal(r.n, 1); /* stopped at the bad line */
}

static void test_uint_bool(void **state)
{
	unsigned u = 7;
	int b = -1;

	(void)state;
	assert_int_equal(config_parse_uint("10", 1, 100, &u), 0);
	assert_int_equal(u, 10);
	assert_int_equal(config_parse_uint("0", 1, 100, &u), -EINVAL);
	assert_int_equal(config_parse_uint("101", 1, 100, &u), -EINVAL);
	assert_int_equal(config_parse_uint("", 0, 100, &u), -EINVAL);
	assert_int_equal(config_parse_uint("1x", 0, 100, &u), -EINVAL);
	assert_int_equal(config_parse_uint("-1", 0, 100, &u), -EINVAL);
	assert_int_equal(config_parse_uint("99999999999999999999", 0, 4000000000u, &u), -EINVAL);
	assert_int_equal(u, 10);
	assert_int_equal(config_parse_bool("Yes", &b), 0);
	assert_int_equal(b, 1);
	assert_int_equal(config_parse_bool("off", &b), 0);
	assert_int_equal(b, 0);
	assert_int_equal(config_parse_bool("maybe", &b), -EINVAL);
}

static char tmp_path[64];

static void write_tmp(const char *text)
{
	int fd;

	strcpy(tmp_path, "/tmp/siphon-test-config-XXXXXX");
	fd = mkstemp(tmp_path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void test_file(void **state)
{
	struct rec r = { .reject_key = "bad" };
	struct config_err err;
	char want[128];

	(void)state;
	write_tmp("[a]\nk = v\nbad = 1\n");
	assert_int_equal(config_parse_file(tmp_path, record, &r, &err), -EINVAL);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.lines[0], "a|k|v");
	snprintf(want, sizeof(want), "%s:3: [a] bad: unknown key", tmp_path);
	assert_string_equal(err.msg, want);
	unlink(tmp_path);

	assert_int_equal(config_parse_file("/nonexistent/x.conf", record, &r, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "/nonexistent/x.conf"));
	assert_int_equal(config_parse_file("/tmp", record, &r, &err), -EINVAL);
}

static int file_once(void *ctx)
{
	struct rec r = { 0 };
	struct config_err err;

	(void)ctx;
	return config_parse_file(tmp_path, record, &r, &err);
}

static void test_file_alloc_fail(void **state)
{
	(void)state;
	write_tmp("[a]\nk = v\n");
	assert_int_equal(harness_alloc_fail_loop(file_once, NULL), 1);
	unlink(tmp_path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		SIPHON_TEST(test_basic),
		SIPHON_TEST(test_empty),
		SIPHON_TEST(test_errors),
		SIPHON_TEST(test_nul_byte),
		SIPHON_TEST(test_callback_reason),
		SIPHON_TEST(test_uint_bool),
		SIPHON_TEST(test_file),
		SIPHON_TEST(test_file_alloc_fail),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
