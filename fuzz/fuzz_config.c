/* libFuzzer target: the INI reader on arbitrary text. Every assignment it
 * reports must be made of printable, trimmed, NUL-free strings, and is then
 * applied to siphond's settings (sd_config_set: listen specs, domains,
 * routes, moved users, algorithms, methods, numbers), which must accept it
 * or refuse it with a reason, leaking nothing. */
#include "base/config.h"
#include "siphond/server.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_str(const char *s)
{
	size_t n = strlen(s);

	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 && s[i] != '\t')
			abort();
	if (n && (s[0] == ' ' || s[n - 1] == ' '))
		abort();
}

static struct sd_config sd;

static int cb(const char *section, const char *key, const char *value, const char **why,
	      void *arg)
{
	unsigned *count = arg;
	const char *reason = NULL;
	int rc;

	check_str(section);
	check_str(key);
	check_str(value);
	if (!*section || !*key)
		abort();
	/* exercise the rejection path too */
	if (strcmp(key, "reject") == 0) {
		*why = "rejected";
		return -22;
	}
	++*count;
	rc = sd_config_set(&sd, section, key, value, &reason);
	if (rc != 0 && (rc != -EINVAL || !reason || !*reason) && rc != -ENOMEM)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_err err;
	unsigned count = 0;
	unsigned v;
	int b;
	int rc;

	sd_config_init(&sd);
	rc = config_parse_buffer((const char *)data, size, "fuzz.conf", cb, &count, &err);
	sd_config_clear(&sd);

	if (rc < 0 && (!memchr(err.msg, '\0', sizeof(err.msg)) || !err.msg[0]))
		abort();
	if (size && size < 64 && !memchr(data, '\0', size)) {
		char buf[64];

		memcpy(buf, data, size);
		buf[size] = '\0';
		config_parse_uint(buf, 0, 65535, &v);
		config_parse_bool(buf, &b);
	}
	return 0;
}
