/* A minimal HTTP/1.0 client for siphond's local API: one request per
 * connection (Connection: close), the whole answer read, bounded in size
 * and time. */
#include "siphonctl/ctl.h"

#include "base/token.h"
#include "transport/addr.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define BODY_MAX (256u << 20)
#define TIMEOUT_S 15

/* "127.0.0.1:8080" / "[::1]:8080" -> address. */
/* The server's HTTP address; port 0 cannot be connected to. */
static int parse_addr(const char *spec, struct tp_addr *a)
{
	if (tp_addr_parse_hostport(spec, a) < 0 || tp_addr_port(a) == 0)
		return -EINVAL;
	return 0;
}

static int send_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int ctl_http(const char *addr, const char *token, const char *method, const char *path,
	     int *status, char **body)
{
	struct timeval tv = { .tv_sec = TIMEOUT_S };
	struct tp_addr a;
	char req[4096], *buf = NULL, *hdr_end;
	size_t len = 0, cap = 0;
	int fd, n, err;

	if (parse_addr(addr, &a) < 0) {
		fprintf(stderr, "siphonctl: --http %s: expected ADDR:PORT, e.g. 127.0.0.1:8080\n", addr);
		return CTL_EXIT_FAIL;
	}
	fd = socket(a.ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "siphonctl: socket: %s\n", strerror(errno));
		return CTL_EXIT_FAIL;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (const struct sockaddr *)&a.ss, a.len) < 0) {
		fprintf(stderr, "siphonctl: cannot reach siphond at %s: %s (is [http] listen set?)\n",
			addr, strerror(errno));
		close(fd);
		return CTL_EXIT_FAIL;
	}
	/* built last, so the token it may hold is wiped on every path */
	n = snprintf(req, sizeof(req), "%s %s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n"
		     "Accept: application/json\r\nUser-Agent: siphonctl/%s\r\n%s%s%s\r\n",
		     method, path, addr, SIPHON_VERSION, token ? "Authorization: Bearer " : "",
		     token ? token : "", token ? "\r\n" : "");
	err = n < 0 || (size_t)n >= sizeof(req) ? -E2BIG : send_all(fd, req, (size_t)n);
	explicit_bzero(req, sizeof(req)); /* it may hold the token */
	while (!err) {
		ssize_t r;

		if (cap - len < 4096) {
			char *nb;

			cap = cap ? cap * 2 : 16384;
			if (cap > BODY_MAX || !(nb = realloc(buf, cap + 1))) {
				err = -EFBIG;
				break;
			}
			buf = nb;
		}
		r = recv(fd, buf + len, cap - len, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			err = errno == EAGAIN ? -ETIMEDOUT : -errno;
		else if (r == 0)
			break;
		else
			len += (size_t)r;
	}
	close(fd);
	if (err) {
		fprintf(stderr, "siphonctl: %s %s: %s\n", addr, path, strerror(-err));
		free(buf);
		return CTL_EXIT_FAIL;
	}
	if (!buf || (buf[len] = '\0', sscanf(buf, "HTTP/%*d.%*d %d", status) != 1) ||
	    !(hdr_end = strstr(buf, "\r\n\r\n"))) {
		fprintf(stderr, "siphonctl: %s: not an HTTP answer\n", addr);
		free(buf);
		return CTL_EXIT_FAIL;
	}
	hdr_end += 4;
	len -= (size_t)(hdr_end - buf);
	memmove(buf, hdr_end, len + 1);
	*body = buf;
	return 0;
}

int ctl_api(const struct ctl_opts *o, const char *method, const char *path, json_t **out)
{
	return ctl_api_status(o, method, path, 0, out, NULL);
}

int ctl_api_status(const struct ctl_opts *o, const char *method, const char *path, int also,
		   json_t **out, int *status_out)
{
	char token[TOKEN_MAX + 1];
	json_error_t jerr;
	char *body = NULL;
	int status = 0, err;
	json_t *j;

	/* health needs none: siphonctl health works for whoever may not read
	 * the token file */
	bool send_token = o->token_file && strcmp(path, "/api/health") != 0;

	if (send_token) {
		const char *why;

		err = token_read_file(o->token_file, token, &why);
		if (err < 0) {
			fprintf(stderr, "siphonctl: token file %s: %s\n", o->token_file,
				why ? why : strerror(-err));
			return CTL_EXIT_FAIL;
		}
	}
	err = ctl_http(o->http, send_token ? token : NULL, method, path, &status, &body);
	explicit_bzero(token, sizeof(token));
	if (err)
		return CTL_EXIT_FAIL;
	j = json_loads(body, 0, &jerr);
	free(body);
	if (status_out)
		*status_out = status;
	if ((status < 200 || status > 299) && (!also || status != also)) {
		const char *why = j ? json_string_value(json_object_get(j, "error")) : NULL;

		fprintf(stderr, "siphonctl: %s %s: HTTP %d%s%s\n", method, path, status,
			why ? ": " : "", why ? why : "");
		json_decref(j);
		return CTL_EXIT_FAIL;
	}
	if (!j) {
		fprintf(stderr, "siphonctl: %s: bad JSON: %s\n", path, jerr.text);
		return CTL_EXIT_FAIL;
	}
	*out = j;
	return 0;
}

int ctl_urlencode(const char *s, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9') || strchr("-._~", c);

		if (n + (plain ? 1 : 3) >= cap)
			return -ENOSPC;
		if (plain) {
			out[n++] = (char)c;
		} else {
			out[n++] = '%';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		}
	}
	out[n] = '\0';
	return 0;
}

void ctl_print_json(const json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(9));

	if (s) {
		puts(s);
		free(s);
	}
}
