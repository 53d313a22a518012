/* Canonical address-of-record (RFC 3261 §10.3 step 5): the key of the
 * location index, so "sip:Bob@EXAMPLE.com;transport=tcp" and
 * "sip:Bob@example.com" name the same AoR. The user part is case-sensitive
 * (§19.1.4); an escape of an unreserved character means that character
 * (§19.1.4: "%61lice" is "alice"), so it is decoded, and the escapes that
 * stay get upper-case hex. */
#include "registrar/reg.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* RFC 3261 §25.1 unreserved = alphanum / mark */
static bool unreserved(int c)
{
	return isalnum(c) || (c && strchr("-_.!~*'()", c));
}

/* Copy user (escaped form, as the URI parser checked it) canonically;
 * the result is never longer. Returns the length written. */
static size_t canon_user(char *out, struct str user)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	for (size_t i = 0; i < user.len; i++) {
		int hi = -1, lo = -1;

		if (user.s[i] == '%' && i + 2 < user.len) {
			hi = hexval(user.s[i + 1]);
			lo = hexval(user.s[i + 2]);
		}
		if (hi < 0 || lo < 0) {
			out[n++] = user.s[i];
			continue;
		}
		if (unreserved(hi * 16 + lo)) {
			out[n++] = (char)(hi * 16 + lo);
		} else {
			out[n++] = '%';
			out[n++] = hex[hi];
			out[n++] = hex[lo];
		}
		i += 2;
	}
	return n;
}

int reg_aor_canon(char *out, size_t cap, const struct sip_uri *u)
{
	const char *scheme;
	size_t n = 0, need;

	if (u->scheme == SIP_URI_SIP)
		scheme = "sip:";
	else if (u->scheme == SIP_URI_SIPS)
		scheme = "sips:";
	else
		return -EINVAL;
	need = strlen(scheme) + u->user.len + 1 + u->host.len + 6 + 1;
	if (need > cap)
		return -ENOSPC;
	memcpy(out, scheme, strlen(scheme));
	n = strlen(scheme);
	if (u->user.len) {
		n += canon_user(out + n, u->user);
		out[n++] = '@';
	}
	for (size_t i = 0; i < u->host.len; i++)
		out[n++] = (char)tolower((unsigned char)u->host.s[i]);
	if (u->has_port)
		n += (size_t)snprintf(out + n, cap - n, ":%u", (unsigned)u->port);
	return (int)n;
}
