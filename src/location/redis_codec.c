/* Bindings and published changes as text (format in redis_int.h): every
 * string is length-prefixed, so any byte may occur in it, and the parser
 * checks every length against what is left. Readable with redis-cli. */
#include "location/redis_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define NUM_MAX 21 /* "-9223372036854775808" + separator */

/* Write only the returned bytes (no NUL): callers size buffers exactly. */
static size_t put_fmt(char *out, const char *tmp, int n)
{
	memcpy(out, tmp, (size_t)n);
	return (size_t)n;
}

size_t loc_redis_str_enc(char *out, struct str s)
{
	char tmp[NUM_MAX + 2];
	size_t n = put_fmt(out, tmp, snprintf(tmp, sizeof(tmp), "%zu:", s.len));

	if (s.len)
		memcpy(out + n, s.s, s.len);
	return n + s.len;
}

size_t loc_redis_bind_max(const struct loc_binding *b)
{
	return 2 + 5 * NUM_MAX + 7 * (NUM_MAX + 1) + b->aor.len + b->contact.len +
	       b->call_id.len + b->path.len + b->instance.len + b->received.len +
	       b->user_agent.len;
}

size_t loc_redis_bind_enc(char *out, const struct loc_binding *b)
{
	const struct str *s[] = { &b->aor,      &b->contact,  &b->call_id,   &b->path,
				  &b->instance, &b->received, &b->user_agent };
	char tmp[2 + 5 * NUM_MAX + 1], *p = out;

	p += put_fmt(p, tmp,
		     snprintf(tmp, sizeof(tmp), "1 %" PRId64 " %" PRId64 " %" PRIu32 " %" PRIu32 " %u",
			      (int64_t)b->expires, (int64_t)b->updated, b->cseq, b->reg_id,
			      (unsigned)b->q));
	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		*p++ = ' ';
		p += loc_redis_str_enc(p, *s[i]);
	}
	return (size_t)(p - out);
}

size_t loc_redis_hdr_enc(char *out, uint64_t origin, char kind)
{
	char tmp[LOC_REDIS_HDR_LEN + 1];

	return put_fmt(out, tmp, snprintf(tmp, sizeof(tmp), "%016" PRIx64 " %c ", origin, kind));
}

/* A cursor over untrusted input. */
struct rd {
	const char *p, *end;
};

static int sep(struct rd *r)
{
	if (r->p == r->end || *r->p != ' ')
		return -EINVAL;
	r->p++;
	return 0;
}

/* Decimal, optional '-' when neg; at most max in magnitude. */
static int num(struct rd *r, bool neg, uint64_t max, int64_t *out)
{
	bool minus = false;
	uint64_t v = 0;
	const char *start;

	if (neg && r->p < r->end && *r->p == '-') {
		minus = true;
		r->p++;
	}
	start = r->p;
	while (r->p < r->end && *r->p >= '0' && *r->p <= '9') {
		unsigned d = (unsigned)(*r->p++ - '0');

		if (v > (max - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	if (r->p == start || (start[0] == '0' && r->p - start > 1))
		return -EINVAL; /* no digits, or a leading zero: one spelling per value */
	*out = minus ? -(int64_t)v : (int64_t)v;
	return 0;
}

static int str_dec(struct rd *r, struct str *s)
{
	int64_t n;

	if (num(r, false, SIZE_MAX >> 1, &n) || r->p == r->end || *r->p != ':')
		return -EINVAL;
	r->p++;
	if ((uint64_t)n > (uint64_t)(r->end - r->p))
		return -EINVAL;
	*s = str_make(r->p, (size_t)n);
	r->p += n;
	return 0;
}

static int bind_dec(struct rd *r, struct loc_binding *b)
{
	struct str *s[] = { &b->aor,      &b->contact,  &b->call_id,   &b->path,
			    &b->instance, &b->received, &b->user_agent };
	int64_t v[5];

	memset(b, 0, sizeof(*b));
	if (r->end - r->p < 2 || r->p[0] != '1')
		return -EINVAL;
	r->p++;
	if (sep(r) || num(r, true, INT64_MAX, &v[0]) || sep(r) || num(r, true, INT64_MAX, &v[1]) ||
	    sep(r) || num(r, false, UINT32_MAX, &v[2]) || sep(r) ||
	    num(r, false, UINT32_MAX, &v[3]) || sep(r) || num(r, false, 1000, &v[4]))
		return -EINVAL;
	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		if (sep(r) || str_dec(r, s[i]))
			return -EINVAL;
	if (str_empty(b->aor) || str_empty(b->contact))
		return -EINVAL;
	b->expires = (time_t)v[0];
	b->updated = (time_t)v[1];
	b->cseq = (uint32_t)v[2];
	b->reg_id = (uint32_t)v[3];
	b->q = (uint16_t)v[4];
	return 0;
}

int loc_redis_bind_dec(const char *p, size_t len, struct loc_binding *b)
{
	struct rd r = { p, p + len };

	return bind_dec(&r, b) || r.p != r.end ? -EINVAL : 0;
}

static int hex64(struct rd *r, uint64_t *out)
{
	uint64_t v = 0;

	if (r->end - r->p < 16)
		return -EINVAL;
	for (int i = 0; i < 16; i++) {
		char c = *r->p++;
		unsigned d;

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else
			return -EINVAL;
		v = v << 4 | d;
	}
	*out = v;
	return 0;
}

int loc_redis_msg_dec(const char *p, size_t len, struct loc_redis_msg *m)
{
	struct rd r = { p, p + len };
	int err;

	memset(m, 0, sizeof(*m));
	if (hex64(&r, &m->origin) || sep(&r) || r.p == r.end)
		return -EINVAL;
	m->kind = *r.p++;
	if (sep(&r))
		return -EINVAL;
	switch (m->kind) {
	case 'S':
		err = bind_dec(&r, &m->b);
		break;
	case 'D':
		err = str_dec(&r, &m->aor) || sep(&r) || str_dec(&r, &m->contact) ||
			      str_empty(m->contact) ? -EINVAL : 0;
		break;
	case 'A':
		err = str_dec(&r, &m->aor) ? -EINVAL : 0;
		break;
	default:
		return -EINVAL;
	}
	if (err || r.p != r.end || (m->kind != 'S' && str_empty(m->aor)))
		return -EINVAL;
	return 0;
}
