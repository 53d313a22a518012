/* Shared pieces of the command line: JSON events, the password file, the
 * UA from the global options, exit statuses. */
#include "siphon/cli.h"

#include "base/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static void put(struct cli_json *j, const char *s)
{
	size_t n = strlen(s);

	if (j->n + n < sizeof(j->b)) {
		memcpy(j->b + j->n, s, n);
		j->n += n;
		j->b[j->n] = 0;
	}
}

/* A JSON string (RFC 8259 §7): quotes, backslash and controls escaped. */
static void put_quoted(struct cli_json *j, const char *s)
{
	char e[8];

	put(j, "\"");
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			e[0] = '\\';
			e[1] = (char)c;
			e[2] = 0;
		} else if (c < 0x20) {
			snprintf(e, sizeof(e), "\\u%04x", c);
		} else {
			e[0] = (char)c;
			e[1] = 0;
		}
		put(j, e);
	}
	put(j, "\"");
}

void cli_json_start(struct cli_json *j, const char *event)
{
	j->n = 0;
	j->b[0] = 0;
	put(j, "{\"event\":");
	put_quoted(j, event);
}

void cli_json_str(struct cli_json *j, const char *key, const char *val)
{
	put(j, ",");
	put_quoted(j, key);
	put(j, ":");
	put_quoted(j, val ? val : "");
}

void cli_json_num(struct cli_json *j, const char *key, double val)
{
	char b[64];

	put(j, ",");
	put_quoted(j, key);
	if (val == (double)(long long)val)
		snprintf(b, sizeof(b), ":%lld", (long long)val);
	else
		snprintf(b, sizeof(b), ":%.3f", val);
	put(j, b);
}

void cli_json_end(struct cli_json *j)
{
	put(j, "}");
	printf("%s\n", j->b);
	fflush(stdout);
}

int cli_read_password(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -errno;
	if (!fgets(buf, (int)cap, f)) {
		fclose(f);
		return -EINVAL;
	}
	fclose(f);
	n = strcspn(buf, "\r\n");
	buf[n] = 0;
	return 0;
}

void cli_trace(bool out, enum tp_proto proto, const struct tp_addr *peer, const char *buf,
	       size_t len, void *arg)
{
	char ab[64];

	(void)arg;
	fprintf(stderr, "%s %s %s (%zu bytes)\n%.*s\n", out ? "sent to" : "received from",
		tp_proto_name(proto), tp_addr_fmt(peer, ab, sizeof(ab)), len, (int)len, buf);
}

int cli_ua_create(const struct cli_opts *o, struct ua **out)
{
	char pw[256];
	struct ua_cfg cfg = {
		.listen = o->listen,
		.proxy = o->proxy,
		.aor = o->user,
		.dns_servers = o->dns_server,
		.t1_ms = o->t1_ms,
		.trace = o->verbose ? cli_trace : NULL,
	};
	int rc;

	if (o->password_file) {
		rc = cli_read_password(o->password_file, pw, sizeof(pw));
		if (rc) {
			fprintf(stderr, "siphon: --password-file %s: %s\n", o->password_file,
				strerror(-rc));
			return EXIT_USAGE;
		}
		cfg.password = pw;
	}
	rc = ua_create(out, &cfg);
	memset(pw, 0, sizeof(pw));
	if (rc == -EINVAL) {
		fprintf(stderr, "siphon: bad --listen, --user or --dns-server\n");
		return EXIT_USAGE;
	}
	if (rc) {
		fprintf(stderr, "siphon: cannot start: %s\n", strerror(-rc));
		return EXIT_TRANSPORT;
	}
	return 0;
}

int cli_status_exit(int status, bool local, bool auth_failed)
{
	if (status >= 200 && status < 300)
		return EXIT_OK;
	if (local)
		return status == 408 ? EXIT_TIMEOUT : EXIT_TRANSPORT;
	if (auth_failed || status == 401 || status == 407 || status == 403)
		return EXIT_AUTH;
	if (status == 486 || status == 600)
		return EXIT_BUSY;
	if (status == 480 || status == 408 || status == 487)
		return EXIT_NOANSWER;
	if (status == 488 || status == 606)
		return EXIT_MEDIA;
	return EXIT_REJECTED;
}
