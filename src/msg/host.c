/* host [":" port] scanner shared by the URI and Via parsers (RFC 3261 §25.1,
 * RFC 5118 for the IPv6 forms). */
#include "msg/uri.h"
#include "msg/scan.h"
#include "msg/uri_priv.h"

#include <errno.h>
#include <string.h>

/* IPv4address = 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT, each <= 255
 * (the ABNF allows 999; RFC 3261 §25.1 prose and every stack cap at 255). */
static bool ipv4_valid(const char *s, size_t len)
{
	size_t i = 0;

	for (int g = 0; g < 4; g++) {
		unsigned v = 0, n = 0;

		if (g > 0) {
			if (i >= len || s[i] != '.')
				return false;
			i++;
		}
		while (i < len && sc_digit((unsigned char)s[i]) && n < 4) {
			v = v * 10 + (unsigned)(s[i] - '0');
			i++;
			n++;
		}
		if (n == 0 || n > 3 || v > 255)
			return false;
	}
	return i == len;
}

/* Does s[i..len) hold an IPv4address and nothing else? */
static bool ipv4_tail(const char *s, size_t len, size_t i)
{
	return i < len && ipv4_valid(s + i, len - i);
}

/* IPv6address (RFC 3261 §25.1, group counts per RFC 4291 §2.2):
 *   hexpart [ ":" IPv4address ], hexpart = hexseq / hexseq "::" [hexseq] /
 *   "::" [hexseq]. The RFC 3261 ABNF also admits "::" ":" IPv4address (three
 *   colons); RFC 5118 §4.10 asks us to tolerate that, so we do. */
static bool ipv6_valid(const char *s, size_t len)
{
	size_t i = 0;
	unsigned groups = 0;
	bool dc = false;

	if (len >= 2 && s[0] == ':' && s[1] == ':') {
		dc = true;
		i = 2;
		if (i < len && s[i] == ':' && !ipv4_tail(s, len, ++i))
			return false; /* ":::" only before IPv4, §4.10 */
	} else if (len && s[0] == ':') {
		return false;
	}
	while (i < len) {
		size_t j = i;

		while (j < len && sc_hex((unsigned char)s[j]))
			j++;
		if (j < len && s[j] == '.') {
			/* embedded IPv4 ends the address and counts as two groups */
			if (!ipv4_valid(s + i, len - i))
				return false;
			groups += 2;
			i = len;
			break;
		}
		if (j == i || j - i > 4)
			return false;
		groups++;
		i = j;
		if (i == len)
			break;
		if (s[i] != ':' || ++i == len)
			return false; /* trailing single ':' */
		if (s[i] == ':') {
			if (dc)
				return false; /* two "::" */
			dc = true;
			i++;
			if (i < len && s[i] == ':' && !ipv4_tail(s, len, ++i))
				return false; /* ":::" only before IPv4, §4.10 */
		}
	}
	return dc ? groups <= 7 : groups == 8;
}

static bool all_hex(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!sc_hex((unsigned char)s[i]))
			return false;
	return true;
}

/* Digits and dots only, at least one digit: meant as an IPv4address. */
static bool only_digits_dots(const char *s, size_t len)
{
	bool digit = false;

	for (size_t i = 0; i < len; i++) {
		if (sc_digit((unsigned char)s[i]))
			digit = true;
		else if (s[i] != '.')
			return false;
	}
	return digit;
}

/* One pass over the run of host octets (alphanum - .) at s: sets *len to
 * its length and returns whether it is a valid hostname = *( domainlabel
 * "." ) toplabel [ "." ]; labels are alphanum with inner '-', the toplabel
 * starts with ALPHA (RFC 3261 §25.1). Only '-' and '.' need a closer look. */
static bool scan_hostname(const char *s, size_t max, size_t *len)
{
	const char *p = s, *end = s + max, *label = s;
	bool ok = true;
	char top = 0;

	for (; p < end; p++) {
		unsigned char c;

		p = sc_span(p, end, SC_ALNUM); /* only '-' and '.' need a look */
		if (p == end)
			break;
		c = (unsigned char)*p;
		if (c == '.') {
			/* a label ends: not empty, no '-' last */
			if (p == label || p[-1] == '-')
				ok = false;
			top = *label;
			label = p + 1;
		} else if (c == '-') {
			if (p == label)
				ok = false; /* '-' first in a label */
		} else {
			break;
		}
	}
	*len = (size_t)(p - s);
	if (p == s)
		return false;
	if (p[-1] != '.') {
		/* the last label is the toplabel (a trailing dot closed it above) */
		if (p[-1] == '-')
			ok = false;
		top = *label;
	}
	return ok && sc_alpha((unsigned char)top);
}

int sip_hostport_parse(struct str *cur, struct str *host, enum sip_host_type *type,
		       uint16_t *port, bool *has_port, const char **why)
{
	const char *s = cur->s;
	size_t len = cur->len, i = 0;
	enum sip_host_type t;

	if (len == 0)
		return sc_fail(why, "empty host", -EINVAL);
	if (s[0] == '[') {
		while (i < len && s[i] != ']')
			i++;
		if (i == len)
			return sc_fail(why, "unterminated IPv6 reference", -EINVAL);
		if (!ipv6_valid(s + 1, i - 1))
			return sc_fail(why, "bad IPv6 address", -EINVAL);
		i++;
		t = SIP_HOST_IPV6;
	} else {
		bool name_ok = scan_hostname(s, len, &i);
		/* a valid hostname has a letter, so it cannot be digits and dots */
		bool ipv4 = !name_ok && only_digits_dots(s, i);

		if (i == 0)
			return sc_fail(why, "empty host", -EINVAL);
		/* "2001:db8::10" or "fe80::1" without brackets: RFC 5118 §4.2 */
		if (i <= 4 && i < len && s[i] == ':' && all_hex(s, i)) {
			size_t k = i + 1;
			while (k < len && sc_hex((unsigned char)s[k]))
				k++;
			if (k < len && s[k] == ':')
				return sc_fail(why, "IPv6 address without brackets", -EINVAL);
		}
		if (ipv4) {
			if (!ipv4_valid(s, i))
				return sc_fail(why, "bad IPv4 address", -EINVAL);
			t = SIP_HOST_IPV4;
		} else {
			if (!name_ok)
				return sc_fail(why, "bad hostname", -EINVAL);
			t = SIP_HOST_NAME;
		}
	}
	*host = str_make(s, i);
	*type = t;
	*port = 0;
	*has_port = false;
	if (i < len && s[i] == ':') {
		uint32_t v = 0;
		size_t d = ++i;

		while (i < len && sc_digit((unsigned char)s[i])) {
			v = v * 10 + (uint32_t)(s[i] - '0');
			if (v > 65535)
				return sc_fail(why, "port out of range", -EINVAL);
			i++;
		}
		if (i == d)
			return sc_fail(why, "bad port", -EINVAL);
		*port = (uint16_t)v;
		*has_port = true;
	}
	sc_advance(cur, i);
	return 0;
}

/* Only called on text ipv6_valid() accepted, so the walk needs no checks. */
bool sip_host_ipv6_bytes(struct str host, uint8_t out[16])
{
	const char *s = host.s + 1;
	size_t len, i = 0;
	unsigned w[8] = { 0 }, n = 0;
	int gap = -1;

	if (host.len < 2 || host.s[0] != '[' || host.s[host.len - 1] != ']')
		return false;
	len = host.len - 2;
	if (!ipv6_valid(s, len))
		return false;
	if (len >= 2 && s[0] == ':' && s[1] == ':') {
		gap = 0;
		i = 2;
		if (i < len && s[i] == ':')
			i++;
	}
	while (i < len) {
		size_t j = i;
		unsigned v = 0;

		while (j < len && sc_hex((unsigned char)s[j]))
			j++;
		if (j < len && s[j] == '.') {
			unsigned oct[4] = { 0 }, k = 0;
			for (; i < len; i++) {
				if (s[i] == '.')
					k++;
				else
					oct[k] = oct[k] * 10 + (unsigned)(s[i] - '0');
			}
			w[n++] = oct[0] << 8 | oct[1];
			w[n++] = oct[2] << 8 | oct[3];
			break;
		}
		for (; i < j; i++)
			v = v << 4 | sip_uri_hexval(s[i]);
		w[n++] = v;
		if (i == len)
			break;
		i++;
		if (s[i] == ':') {
			gap = (int)n;
			i++;
			if (i < len && s[i] == ':')
				i++;
		}
	}
	memset(out, 0, 16);
	for (unsigned k = 0; k < n; k++) {
		unsigned pos = (gap >= 0 && k >= (unsigned)gap) ? k + 8 - n : k;
		out[2 * pos] = (uint8_t)(w[k] >> 8);
		out[2 * pos + 1] = (uint8_t)w[k];
	}
	return true;
}
