/* The redis backend's settings and connections: address parsing, key
 * names, the origin id, and a connect that never waits longer than
 * LOC_REDIS_TIMEOUT_MS (hiredis applies it to connect, then to every read
 * and write through SO_RCVTIMEO/SO_SNDTIMEO). */
#include "location/redis_int.h"

#include "base/mem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#define DEFAULT_HOST "127.0.0.1"
#define DEFAULT_PORT 6379

void loc_redis_cfg_free(struct loc_redis_cfg *rc)
{
	if (!rc)
		return;
	mem_free(rc->name);
	mem_free(rc->host);
	mem_free(rc->path);
	mem_free(rc->password);
	mem_free(rc->keyp);
	mem_free(rc->pattern);
	mem_free(rc->channel);
	mem_free(rc);
}

static int parse_port(const char *s, int *port)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 1 || v > 65535)
		return -EINVAL;
	*port = (int)v;
	return 0;
}

/* "unix:/path", "[v6]:port", "host:port", "host" (port 6379). */
static int parse_addr(struct loc_redis_cfg *rc, const char *a)
{
	const char *host = a, *colon;
	size_t hlen;

	rc->port = DEFAULT_PORT;
	if (!a || !*a)
		a = host = DEFAULT_HOST;
	if (!strncmp(a, "unix:", 5)) {
		if (!a[5])
			return -EINVAL;
		rc->path = mem_strndup(a + 5, strlen(a + 5));
		return rc->path ? 0 : -ENOMEM;
	}
	if (*a == '[') {
		const char *close = strchr(a, ']');

		if (!close || close == a + 1)
			return -EINVAL;
		host = a + 1;
		hlen = (size_t)(close - host);
		if (close[1] && (close[1] != ':' || parse_port(close + 2, &rc->port)))
			return -EINVAL;
	} else {
		colon = strchr(a, ':');
		if (colon && strchr(colon + 1, ':'))
			return -EINVAL; /* a bare IPv6 address: its port would be ambiguous */
		hlen = colon ? (size_t)(colon - a) : strlen(a);
		if (!hlen || (colon && parse_port(colon + 1, &rc->port)))
			return -EINVAL;
	}
	rc->host = mem_strndup(host, hlen);
	return rc->host ? 0 : -ENOMEM;
}

/* MATCH treats * ? [ ] \ specially: escape them in the prefix. */
static char *glob_escape(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = 0;
	char *d = mem_alloc(2 * n + strlen(suffix) + 1);

	if (!d)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (strchr("*?[]\\", s[i]))
			d[k++] = '\\';
		d[k++] = s[i];
	}
	strcpy(d + k, suffix);
	return d;
}

static char *concat(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *d = mem_alloc(la + lb + 1);

	if (!d)
		return NULL;
	memcpy(d, a, la);
	memcpy(d + la, b, lb + 1);
	return d;
}

/* Tells this loc's changes from the others' on the shared channel. */
static uint64_t make_origin(const void *salt)
{
	struct timespec ts;
	uint64_t o;

	if (getrandom(&o, sizeof(o), GRND_NONBLOCK) == (ssize_t)sizeof(o))
		return o;
	clock_gettime(CLOCK_REALTIME, &ts);
	o = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)ts.tv_sec ^
	    ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)salt;
	return o;
}

int loc_redis_cfg_new(struct loc_redis_cfg **out, const struct loc_cfg *cfg)
{
	const char *prefix = cfg->redis_prefix ? cfg->redis_prefix : "siphon";
	struct loc_redis_cfg *rc;
	int err;

	if (!*prefix)
		return -EINVAL;
	rc = mem_zalloc(sizeof(*rc));
	if (!rc)
		return -ENOMEM;
	err = parse_addr(rc, cfg->redis_addr);
	if (err)
		goto fail;
	err = -ENOMEM;
	rc->name = concat(cfg->redis_addr && *cfg->redis_addr ? cfg->redis_addr : DEFAULT_HOST,
			  cfg->redis_addr && *cfg->redis_addr ? "" : ":6379");
	if (!rc->name)
		goto fail;
	if (cfg->redis_password &&
	    !(rc->password = mem_strndup(cfg->redis_password, strlen(cfg->redis_password))))
		goto fail;
	rc->keyp = concat(prefix, ":aor:");
	rc->pattern = glob_escape(prefix, ":aor:*");
	rc->channel = concat(prefix, ":changes");
	if (!rc->keyp || !rc->pattern || !rc->channel)
		goto fail;
	rc->keyp_len = strlen(rc->keyp);
	rc->origin = make_origin(rc);
	*out = rc;
	return 0;
fail:
	loc_redis_cfg_free(rc);
	return err;
}

/* EXPIREAT NX / GT (the key TTL) need 7.0: say so instead of failing every
 * batch with a syntax error. A server that refuses INFO (renamed by its
 * operator) gets the benefit of the doubt. The run_id tells a restarted
 * server (which may have lost data) from the same one. */
static int check_server(redisContext *c, char run_id[LOC_REDIS_RUN_ID], char *why, size_t len)
{
	redisReply *r = redisCommand(c, "INFO server");
	const char *v;
	int err = 0;

	if (run_id)
		run_id[0] = '\0';
	if (!r) {
		snprintf(why, len, "INFO: %s", c->errstr);
		return -EIO;
	}
	if (r->type != REDIS_REPLY_STRING)
		goto out;
	v = strstr(r->str, "redis_version:");
	if (v && atoi(v + 14) < 7) {
		snprintf(why, len, "Redis %.*s: 7.0 or later needed", (int)strcspn(v + 14, "\r\n"),
			 v + 14);
		err = -EIO;
	}
	v = strstr(r->str, "run_id:");
	if (run_id && v) {
		size_t n = strcspn(v + 7, "\r\n");

		if (n < LOC_REDIS_RUN_ID) {
			memcpy(run_id, v + 7, n);
			run_id[n] = '\0';
		}
	}
out:
	freeReplyObject(r);
	return err;
}

int loc_redis_connect(const struct loc_redis_cfg *rc, redisContext **out,
		      char run_id[LOC_REDIS_RUN_ID], char *why, size_t len)
{
	const struct timeval tv = { LOC_REDIS_TIMEOUT_MS / 1000, (LOC_REDIS_TIMEOUT_MS % 1000) * 1000 };
	redisContext *c;
	redisReply *r;

	c = rc->path ? redisConnectUnixWithTimeout(rc->path, tv)
		     : redisConnectWithTimeout(rc->host, rc->port, tv);
	if (!c) {
		snprintf(why, len, "out of memory");
		return -EIO;
	}
	if (c->err || redisSetTimeout(c, tv) != REDIS_OK) {
		snprintf(why, len, "%s", c->errstr);
		goto fail;
	}
	if (!rc->path)
		redisEnableKeepAlive(c); /* notices a vanished peer on a quiet link */
	if (rc->password) {
		const char *argv[2] = { "AUTH", rc->password };

		r = redisCommandArgv(c, 2, argv, NULL);
		if (!r || r->type == REDIS_REPLY_ERROR) {
			snprintf(why, len, "AUTH: %s", r ? r->str : c->errstr);
			freeReplyObject(r);
			goto fail;
		}
		freeReplyObject(r);
	}
	if (check_server(c, run_id, why, len))
		goto fail;
	*out = c;
	return 0;
fail:
	redisFree(c);
	return -EIO;
}
