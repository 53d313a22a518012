/* URI equality (RFC 3261 §19.1.4). */
#include "msg/uri.h"
#include "msg/uri_priv.h"
#include "msg/scan.h"

#include <string.h>

static unsigned char lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c | 0x20) : c;
}

/* Next octet of a possibly escaped slice; *esc tells whether it was %HH. */
static unsigned char next_octet(struct str a, size_t *i, bool *esc)
{
	unsigned char c = (unsigned char)a.s[*i];

	*esc = false;
	if (c == '%' && *i + 2 < a.len && sc_hex((unsigned char)a.s[*i + 1]) &&
	    sc_hex((unsigned char)a.s[*i + 2])) {
		c = (unsigned char)(sip_uri_hexval(a.s[*i + 1]) << 4 | sip_uri_hexval(a.s[*i + 2]));
		*esc = true;
		*i += 3;
		return c;
	}
	(*i)++;
	return c;
}

/* Compare after decoding escapes: "%61lice" equals "alice", but an escaped
 * reserved octet differs from the literal one (RFC 3261 §19.1.4). */
static bool esc_eq(struct str a, struct str b, bool icase)
{
	size_t i = 0, j = 0;

	while (i < a.len && j < b.len) {
		bool ea, eb;
		unsigned char ca = next_octet(a, &i, &ea);
		unsigned char cb = next_octet(b, &j, &eb);

		if (icase) {
			ca = lower(ca);
			cb = lower(cb);
		}
		if (ca != cb)
			return false;
		if (ea != eb && sip_uri_reserved(ca))
			return false;
	}
	return i == a.len && j == b.len;
}

static bool host_eq(const struct sip_uri *a, const struct sip_uri *b)
{
	uint8_t x[16], y[16];

	if (a->host_type != b->host_type)
		return false;
	/* IPv6 by value: "[2001:DB8::1]" == "[2001:db8:0::1]" */
	if (a->host_type == SIP_HOST_IPV6 && sip_host_ipv6_bytes(a->host, x) &&
	    sip_host_ipv6_bytes(b->host, y))
		return memcmp(x, y, 16) == 0;
	return str_caseeq(a->host, b->host);
}

/* First parameter whose name equals name (case-insensitive, unescaped). */
static bool find_param(struct str params, struct str name, struct str *value)
{
	struct str n, v;
	bool has_eq;

	while (sip_uri_next_pair(&params, ';', &n, &v, &has_eq)) {
		if (esc_eq(n, name, true)) {
			*value = v;
			return true;
		}
	}
	return false;
}

/* user, ttl, method, maddr and transport must match when present in either
 * URI; any other parameter is compared only when present in both. */
static bool params_eq(const struct sip_uri *a, const struct sip_uri *b)
{
	static const struct str strict[] = {
		STR_LIT("user"), STR_LIT("ttl"), STR_LIT("method"), STR_LIT("maddr"),
		STR_LIT("transport"),
	};
	struct str cur = a->params, name, va, vb;
	bool has_eq;

	for (size_t k = 0; k < sizeof(strict) / sizeof(strict[0]); k++) {
		int pa = sip_uri_param(a, strict[k], &va);
		int pb = sip_uri_param(b, strict[k], &vb);

		if (pa != pb || (pa && !esc_eq(va, vb, true)))
			return false;
	}
	while (sip_uri_next_pair(&cur, ';', &name, &va, &has_eq)) {
		bool skip = false;

		for (size_t k = 0; k < sizeof(strict) / sizeof(strict[0]); k++)
			skip |= str_caseeq(name, strict[k]);
		/* first occurrence on both sides, so a repeated name compares
		 * the same way from either end */
		if (skip || !find_param(b->params, name, &vb))
			continue;
		find_param(a->params, name, &va);
		if (!esc_eq(va, vb, true))
			return false;
	}
	return true;
}

/* Is there a header in hdrs with this name (case-insensitive) and value
 * (case-sensitive), both compared unescaped? */
static bool has_header(struct str hdrs, struct str name, struct str value)
{
	struct str n, v;
	bool has_eq;

	while (sip_uri_next_pair(&hdrs, '&', &n, &v, &has_eq))
		if (esc_eq(n, name, true) && esc_eq(v, value, false))
			return true;
	return false;
}

static size_t count_headers(struct str hdrs)
{
	struct str n, v;
	bool has_eq;
	size_t k = 0;

	while (sip_uri_next_pair(&hdrs, '&', &n, &v, &has_eq))
		k++;
	return k;
}

/* Header components are never ignored: every one must be in both URIs
 * (RFC 3261 §19.1.4), in any order. */
static bool headers_eq(const struct sip_uri *a, const struct sip_uri *b)
{
	struct str cur = a->headers, n, v;
	bool has_eq;

	if (count_headers(a->headers) != count_headers(b->headers))
		return false;
	while (sip_uri_next_pair(&cur, '&', &n, &v, &has_eq))
		if (!has_header(b->headers, n, v))
			return false;
	cur = b->headers;
	while (sip_uri_next_pair(&cur, '&', &n, &v, &has_eq))
		if (!has_header(a->headers, n, v))
			return false;
	return true;
}

bool sip_uri_equal(const struct sip_uri *a, const struct sip_uri *b)
{
	/* a SIP and a SIPS URI are never equivalent */
	if (a->scheme != b->scheme)
		return false;
	if (a->scheme != SIP_URI_SIP && a->scheme != SIP_URI_SIPS)
		return str_caseeq(a->scheme_str, b->scheme_str) && str_eq(a->opaque, b->opaque);
	/* userinfo is case-sensitive; "sip:a@h" and "sip:h" differ */
	if ((a->user.s != NULL) != (b->user.s != NULL) || !esc_eq(a->user, b->user, false))
		return false;
	if (a->has_password != b->has_password || !esc_eq(a->password, b->password, false))
		return false;
	if (!host_eq(a, b))
		return false;
	/* an absent port is not the default port: sip:h != sip:h:5060 */
	if (a->has_port != b->has_port || a->port != b->port)
		return false;
	return params_eq(a, b) && headers_eq(a, b);
}
