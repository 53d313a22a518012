/* libFuzzer target for the URI parser: whatever parses must compare equal
 * to itself and to a parse of a copy, keep its slices inside the input, and
 * have a user part that unescapes. */
#include "base/mem.h"
#include "msg/uri.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void inside(struct str s, const char *buf, size_t len)
{
	if (s.len && (s.s < buf || s.s + s.len > buf + len))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct sip_uri u, v;
	struct str cur = str_make(buf, size), host, val;
	enum sip_host_type type;
	uint16_t port;
	bool has_port;
	char *copy, *dec;
	const char *why = NULL;

	/* the shared host scanner must never overrun and only advance */
	if (sip_hostport_parse(&cur, &host, &type, &port, &has_port, &why) == 0) {
		inside(host, buf, size);
		if (cur.s < buf || cur.s + cur.len != buf + size)
			abort();
	}

	if (sip_uri_parse(&u, buf, size, &why) != 0) {
		if (!why)
			abort();
		return 0;
	}
	inside(u.user, buf, size);
	inside(u.password, buf, size);
	inside(u.host, buf, size);
	inside(u.params, buf, size);
	inside(u.headers, buf, size);
	inside(u.opaque, buf, size);
	if (!sip_uri_equal(&u, &u))
		abort();

	copy = mem_alloc(size ? size : 1);
	if (!copy)
		return 0;
	if (size)
		memcpy(copy, buf, size);
	if (sip_uri_parse(&v, copy, size, NULL) != 0 || !sip_uri_equal(&u, &v) ||
	    !sip_uri_equal(&v, &u))
		abort();
	mem_free(copy);

	dec = mem_alloc(u.user.len + 1);
	if (dec) {
		int n = sip_uri_unescape(dec, u.user.len + 1, u.user);
		if (n < 0 || (size_t)n > u.user.len)
			abort();
		mem_free(dec);
	}
	(void)sip_uri_param(&u, STR_LIT("transport"), &val);
	(void)sip_uri_param(&u, STR_LIT("lr"), &val);
	return 0;
}
