/* libFuzzer target for Authorization / WWW-Authenticate values. */
#include "msg/hdr.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void inside(struct str s, const char *buf, size_t len)
{
	if (s.len && (s.s < buf || s.s + s.len > buf + len))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct sip_auth a;
	const char *why = NULL;
	int rc = sip_auth_parse(&a, str_make(buf, size), &why);

	if (rc < 0) {
		if (!why || rc != -EINVAL)
			abort();
		return 0;
	}
	if (a.scheme.len == 0)
		abort();
	{
		const struct str *f[] = { &a.scheme, &a.username, &a.realm, &a.nonce, &a.uri,
					  &a.response, &a.algorithm, &a.cnonce, &a.opaque, &a.qop,
					  &a.nc, &a.domain, &a.stale, &a.userhash, &a.params };

		for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
			char tmp[128];
			int n;

			inside(*f[i], buf, size);
			if (f[i] == &a.params || f[i] == &a.scheme)
				continue;
			/* every value handed out unquotes cleanly */
			n = sip_unquote(tmp, sizeof(tmp), *f[i]);
			if (n < 0 && n != -ENOSPC)
				abort();
		}
	}
	return 0;
}
