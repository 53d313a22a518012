/* The HTTP interface's token check (siphond/http_auth.h): Bearer (RFC 6750)
 * and Basic (RFC 7617, the token as the password) let in with the token
 * only; whatever else an Authorization header may hold is refused; the
 * token file's rules (base/token.h). */
#include "harness.h"

#include "base/token.h"
#include "siphond/http_auth.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TOKEN "s3cr3t-t0ken-0123456789"

/* "Basic " + base64(text) */
static const char *basic(const char *text)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	static char out[1024];
	size_t n = strlen(text), o = 0;

	o += (size_t)sprintf(out, "Basic ");
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned char)text[i] << 16;

		if (i + 1 < n)
			v |= (unsigned char)text[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)text[i + 2];
		out[o++] = tab[v >> 18 & 63];
		out[o++] = tab[v >> 12 & 63];
		out[o++] = i + 1 < n ? tab[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? tab[v & 63] : '=';
	}
	out[o] = '\0';
	return out;
}

static void test_off(void **state)
{
	struct sd_http_auth a;

	(void)state;
	assert_int_equal(sd_http_auth_init(&a, NULL), 0);
	assert_true(sd_http_auth_ok(&a, NULL));
	assert_true(sd_http_auth_ok(&a, "Bearer anything"));
}

static void test_bearer(void **state)
{
	struct sd_http_auth a;

	(void)state;
	assert_int_equal(sd_http_auth_init(&a, TOKEN), 0);
	assert_true(sd_http_auth_ok(&a, "Bearer " TOKEN));
	assert_true(sd_http_auth_ok(&a, "bearer " TOKEN));
	assert_true(sd_http_auth_ok(&a, "BEARER   " TOKEN));
	assert_false(sd_http_auth_ok(&a, NULL));
	assert_false(sd_http_auth_ok(&a, ""));
	assert_false(sd_http_auth_ok(&a, "Bearer"));
	assert_false(sd_http_auth_ok(&a, "Bearer "));
	assert_false(sd_http_auth_ok(&a, "Bearer" TOKEN));
	assert_false(sd_http_auth_ok(&a, "Bearer " TOKEN "x"));
	assert_false(sd_http_auth_ok(&a, "Bearer x" TOKEN));
	assert_false(sd_http_auth_ok(&a, "Bearer " TOKEN " extra"));
	assert_false(sd_http_auth_ok(&a, "Bearer s3cr3t-t0ken-012345678"));
	assert_false(sd_http_auth_ok(&a, "Token " TOKEN));
	assert_false(sd_http_auth_ok(&a, TOKEN));
}

static void test_basic(void **state)
{
	struct sd_http_auth a;
	char user[700];

	(void)state;
	assert_int_equal(sd_http_auth_init(&a, TOKEN), 0);
	/* every padding: user names of three lengths */
	assert_true(sd_http_auth_ok(&a, basic("ops:" TOKEN)));
	assert_true(sd_http_auth_ok(&a, basic("op:" TOKEN)));
	assert_true(sd_http_auth_ok(&a, basic("o:" TOKEN)));
	assert_true(sd_http_auth_ok(&a, basic(":" TOKEN)));
	/* the first colon ends the user name; the password is the rest */
	assert_false(sd_http_auth_ok(&a, basic("a:b:" TOKEN)));
	assert_false(sd_http_auth_ok(&a, basic(TOKEN)));
	assert_false(sd_http_auth_ok(&a, basic("ops:" TOKEN "x")));
	assert_false(sd_http_auth_ok(&a, basic("ops:")));
	assert_false(sd_http_auth_ok(&a, "Basic"));
	assert_false(sd_http_auth_ok(&a, "Basic ="));
	assert_false(sd_http_auth_ok(&a, "Basic b3Bz"));         /* "ops", no colon */
	assert_false(sd_http_auth_ok(&a, "Basic !!!!"));         /* not base64 */
	assert_false(sd_http_auth_ok(&a, "Basic b3BzOnRva2Vu=")); /* not a multiple of 4 */
	/* decoded credentials of up to 510 bytes pass; longer ones are
	 * refused, not overrun (the user name makes up the length) */
	memset(user, 'u', sizeof(user) - 1);
	user[sizeof(user) - 1] = '\0';
	{
		char text[800];
		int ulen = 510 - 1 - (int)strlen(TOKEN);

		snprintf(text, sizeof(text), "%.*s:%s", ulen, user, TOKEN);
		assert_int_equal(strlen(text), 510);
		assert_true(sd_http_auth_ok(&a, basic(text)));
		snprintf(text, sizeof(text), "%.*s:%s", ulen + 3, user, TOKEN);
		assert_int_equal(strlen(text), 513);
		assert_false(sd_http_auth_ok(&a, basic(text)));
		snprintf(text, sizeof(text), "%s:%s", user, TOKEN);
		assert_false(sd_http_auth_ok(&a, basic(text)));
	}
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_token_file(void **state)
{
	char path[] = "/tmp/siphon-token-XXXXXX", tok[TOKEN_MAX + 1], longer[TOKEN_MAX + 8];
	const char *why;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	write_file(path, "\t " TOKEN " \r\nsecond line\n");
	assert_int_equal(token_read_file(path, tok, &why), 0);
	assert_string_equal(tok, TOKEN);
	write_file(path, TOKEN);
	assert_int_equal(token_read_file(path, tok, &why), 0);
	assert_string_equal(tok, TOKEN);
	write_file(path, "short-token\n");
	assert_int_equal(token_read_file(path, tok, &why), -EINVAL);
	assert_non_null(strstr(why, "shorter"));
	write_file(path, "has a space in the middle\n");
	assert_int_equal(token_read_file(path, tok, &why), -EINVAL);
	write_file(path, "\n" TOKEN "\n");
	assert_int_equal(token_read_file(path, tok, &why), -EINVAL);
	memset(longer, 'x', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	write_file(path, longer);
	assert_int_equal(token_read_file(path, tok, &why), -EINVAL);
	assert_non_null(strstr(why, "longer"));
	longer[TOKEN_MAX] = '\0'; /* exactly the longest */
	write_file(path, longer);
	assert_int_equal(token_read_file(path, tok, &why), 0);
	assert_int_equal(strlen(tok), TOKEN_MAX);
	{
		/* the longest token after much leading space: whole, not cut */
		char text[2048];

		snprintf(text, sizeof(text), "%*s%s\n", 70, "", longer);
		write_file(path, text);
		assert_int_equal(token_read_file(path, tok, &why), 0);
		assert_string_equal(tok, longer);
		/* a first line that does not end within what is read: refused */
		memset(text, ' ', sizeof(text) - 1);
		memcpy(text + 1000, longer, 40);
		text[sizeof(text) - 1] = '\0';
		write_file(path, text);
		assert_int_equal(token_read_file(path, tok, &why), -EINVAL);
		assert_non_null(strstr(why, "longer"));
	}
	unlink(path);
	assert_int_equal(token_read_file(path, tok, &why), -ENOENT);
	assert_null(why);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		SIPHON_TEST(test_off),
		SIPHON_TEST(test_bearer),
		SIPHON_TEST(test_basic),
		SIPHON_TEST(test_token_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
