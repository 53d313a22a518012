/* Canonical address-of-record (RFC 3261 §10.3 step 5): the key of the
 * location index, so "sip:Bob@EXAMPLE.com;transport=tcp" and
 * "sip:Bob@example.com" name the same AoR. The user part is case-sensitive
 * (§19.1.4) and kept as written. */
#include "registrar/reg.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>

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
		memcpy(out + n, u->user.s, u->user.len);
		n += u->user.len;
		out[n++] = '@';
	}
	for (size_t i = 0; i < u->host.len; i++)
		out[n++] = (char)tolower((unsigned char)u->host.s[i]);
	if (u->has_port)
		n += (size_t)snprintf(out + n, cap - n, ":%u", (unsigned)u->port);
	return (int)n;
}
