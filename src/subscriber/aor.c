/* "user@domain" checks for the administration tools: what may become a
 * digest username and realm (RFC 3261 §22.4, §25.1 host). */
#include "subscriber/sub.h"
#include "msg/uri.h"

#include <errno.h>
#include <string.h>

/* No whitespace, no control characters, no DEL. */
static bool printable(struct str s)
{
	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.s[i];

		if (c <= 0x20 || c == 0x7f)
			return false;
	}
	return true;
}

int sub_aor_parse(struct str aor, struct str *user, struct str *domain, const char **why)
{
	const char *at = aor.s ? memchr(aor.s, '@', aor.len) : NULL;
	struct str u, d, cur, host;
	enum sip_host_type type;
	uint16_t port;
	bool has_port;

	*why = NULL;
	if (!at) {
		*why = "expected USER@DOMAIN";
		return -EINVAL;
	}
	u = str_make(aor.s, (size_t)(at - aor.s));
	d = str_make(at + 1, aor.len - u.len - 1);
	if (!u.len)
		*why = "empty user";
	else if (!d.len)
		*why = "empty domain";
	else if (memchr(d.s, '@', d.len))
		*why = "more than one '@'";
	else if (!printable(u) || !printable(d))
		*why = "whitespace or control character";
	else if (u.len > SUB_USER_MAX)
		*why = "user too long";
	else if (d.len > SUB_DOMAIN_MAX)
		*why = "domain too long";
	if (*why)
		return -EINVAL;
	cur = d;
	if (sip_hostport_parse(&cur, &host, &type, &port, &has_port, why) < 0)
		return -EINVAL;
	if (has_port || cur.len) {
		*why = has_port ? "domain has a port" : "domain is not a hostname or IP address";
		return -EINVAL;
	}
	*user = u;
	*domain = d;
	return 0;
}
