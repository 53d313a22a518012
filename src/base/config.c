#include "base/config.h"

#include "base/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* Files above this are certainly not configuration. */
#define CONFIG_FILE_MAX (1u << 20)

static int fail(struct config_err *err, const char *name, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(struct config_err *err, const char *name, unsigned line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!err)
		return -EINVAL;
	err->line = line;
	if (line)
		n = snprintf(err->msg, sizeof(err->msg), "%s:%u: ", name, line);
	else
		n = snprintf(err->msg, sizeof(err->msg), "%s: ", name);
	if (n < 0 || (size_t)n >= sizeof(err->msg))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(err->msg + n, sizeof(err->msg) - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Trim in place within [*b, *e). */
static void trim(const char **b, const char **e)
{
	while (*b < *e && is_space(**b))
		(*b)++;
	while (*e > *b && is_space((*e)[-1]))
		(*e)--;
}

static int printable(const char *b, const char *e)
{
	for (; b < e; b++)
		if ((unsigned char)*b < 0x20 && *b != '\t')
			return 0;
	return 1;
}

static int is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-' || c == '.';
}

static int is_name(const char *b, const char *e)
{
	if (b == e)
		return 0;
	for (; b < e; b++)
		if (!is_name_char(*b))
			return 0;
	return 1;
}

int config_parse_buffer(const char *text, size_t len, const char *name, config_kv_cb cb,
			void *arg, struct config_err *err)
{
	char section[128] = "";
	char line[CONFIG_LINE_MAX + 1];
	const char *p = text, *end = text + len;
	unsigned lineno = 0;

	if (!name)
		name = "(config)";
	if (len && memchr(text, '\0', len)) {
		const char *z = memchr(text, '\0', len);
		unsigned l = 1;

		for (const char *q = text; q < z; q++)
			l += *q == '\n';
		return fail(err, name, l, "NUL byte in configuration");
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *b = p, *e = nl ? nl : end;
		const char *eq;
		char *key, *val;
		const char *why = NULL;
		int rc;

		p = nl ? nl + 1 : end;
		lineno++;
		trim(&b, &e);
		if (b == e || *b == '#' || *b == ';')
			continue;
		if ((size_t)(e - b) > CONFIG_LINE_MAX)
			return fail(err, name, lineno, "line longer than %d bytes", CONFIG_LINE_MAX);
		if (!printable(b, e))
			return fail(err, name, lineno, "control character in line");
		if (*b == '[') {
			const char *sb = b + 1, *se = e - 1;

			if (e - b < 2 || *se != ']')
				return fail(err, name, lineno, "section header without ']'");
			trim(&sb, &se);
			if (!is_name(sb, se) || (size_t)(se - sb) >= sizeof(section))
				return fail(err, name, lineno, "bad section name '%.*s'",
					    (int)(e - b), b);
			memcpy(section, sb, (size_t)(se - sb));
			section[se - sb] = '\0';
			continue;
		}
		eq = memchr(b, '=', (size_t)(e - b));
		if (!eq)
			return fail(err, name, lineno, "expected 'key = value', got '%.*s'",
				    (int)(e - b > 64 ? 64 : e - b), b);
		{
			const char *kb = b, *ke = eq, *vb = eq + 1, *ve = e;

			trim(&kb, &ke);
			trim(&vb, &ve);
			if (!is_name(kb, ke))
				return fail(err, name, lineno, "bad key name '%.*s'",
					    (int)(ke - kb > 64 ? 64 : ke - kb), kb);
			if (!section[0])
				return fail(err, name, lineno, "key '%.*s' outside any [section]",
					    (int)(ke - kb), kb);
			/* one copy: "key\0value\0" */
			key = line;
			memcpy(key, kb, (size_t)(ke - kb));
			key[ke - kb] = '\0';
			val = key + (ke - kb) + 1;
			memcpy(val, vb, (size_t)(ve - vb));
			val[ve - vb] = '\0';
		}
		rc = cb(section, key, val, &why, arg);
		if (rc < 0) {
			fail(err, name, lineno, "[%s] %s: %s", section, key,
			     why ? why : "invalid value");
			return rc;
		}
	}
	return 0;
}

int config_parse_file(const char *path, config_kv_cb cb, void *arg, struct config_err *err)
{
	struct stat st;
	char *buf;
	size_t got = 0;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		fail(err, path, 0, "cannot open: %s", strerror(-rc));
		return rc;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > CONFIG_FILE_MAX) {
		close(fd);
		fail(err, path, 0, "not a regular file of at most %u bytes", CONFIG_FILE_MAX);
		return -EINVAL;
	}
	buf = mem_alloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		fail(err, path, 0, "out of memory");
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* shrank meanwhile: parse what we have */
		got += (size_t)n;
	}
	close(fd);
	rc = config_parse_buffer(buf, got, path, cb, arg, err);
	mem_free(buf);
	return rc;
}

int config_parse_uint(const char *value, unsigned min, unsigned max, unsigned *out)
{
	unsigned long long v = 0;

	if (!*value)
		return -EINVAL;
	for (const char *p = value; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (unsigned)(*p - '0');
		if (v > max)
			return -EINVAL;
	}
	if (v < min)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

int config_parse_bool(const char *value, int *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(value, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(value, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -EINVAL;
}
