#include "dns/wire.h"

#include <errno.h>
#include <stdbool.h>

#define DNS_HDR_LEN 12
#define DNS_T_SOA 6

static uint16_t rd16(const unsigned char *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Step over a possibly compressed name (RFC 1035 §4.1.4); a pointer ends it. */
static int skip_name(const unsigned char *buf, size_t len, size_t *pos)
{
	size_t p = *pos;

	for (;;) {
		unsigned b;

		if (p >= len)
			return -EINVAL;
		b = buf[p];
		if (b == 0) {
			p++;
			break;
		}
		if ((b & 0xc0) == 0xc0) {
			if (p + 2 > len)
				return -EINVAL;
			p += 2;
			break;
		}
		if (b & 0xc0)
			return -EINVAL; /* extended label types (RFC 6891 §5) */
		p += 1 + b;
	}
	*pos = p;
	return 0;
}

static uint32_t ttl_value(uint32_t t)
{
	return t & 0x80000000u ? 0 : t; /* RFC 2181 §8 */
}

int dns_wire_min_ttl(const unsigned char *buf, size_t len, uint32_t *ttl)
{
	size_t pos = DNS_HDR_LEN;
	unsigned qd, an, ns;
	uint32_t best = UINT32_MAX;
	bool found = false;

	if (!buf || len < DNS_HDR_LEN)
		return -EINVAL;
	qd = rd16(buf + 4);
	an = rd16(buf + 6);
	ns = rd16(buf + 8);
	for (unsigned i = 0; i < qd; i++) {
		if (skip_name(buf, len, &pos) < 0 || len - pos < 4)
			return -EINVAL;
		pos += 4;
	}
	for (unsigned i = 0; i < an + ns; i++) {
		uint16_t type, rdlen;
		uint32_t t;

		if (i == an && found)
			break; /* answers found: the authority section does not matter */
		if (skip_name(buf, len, &pos) < 0 || len - pos < 10)
			return -EINVAL;
		type = rd16(buf + pos);
		t = ttl_value(rd32(buf + pos + 4));
		rdlen = rd16(buf + pos + 8);
		pos += 10;
		if (len - pos < rdlen)
			return -EINVAL;
		if (i >= an) {
			if (type != DNS_T_SOA)
				goto next;
			/* SOA RDATA ends with SERIAL REFRESH RETRY EXPIRE MINIMUM */
			if (rdlen < 22)
				return -EINVAL;
			if (ttl_value(rd32(buf + pos + rdlen - 4)) < t)
				t = ttl_value(rd32(buf + pos + rdlen - 4));
		}
		if (t < best)
			best = t;
		found = true;
next:
		pos += rdlen;
	}
	if (!found)
		return -ENOENT;
	*ttl = best;
	return 0;
}
