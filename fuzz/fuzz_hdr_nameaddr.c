/* libFuzzer target for name-addr / addr-spec: the bytes are one From/To or
 * Contact/Route header value, parsed single-valued and as a list. */
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

static void run(const char *buf, size_t size, unsigned flags)
{
	struct str cur = str_make(buf, size);
	struct sip_nameaddr na;

	while (cur.len) {
		const char *why = NULL;
		size_t before = cur.len;
		int rc = sip_nameaddr_parse(&na, &cur, flags, &why);

		if (rc < 0) {
			if (!why || rc != -EINVAL || cur.len != before)
				abort();
			return;
		}
		if (cur.len >= before)
			abort();
		if (!(flags & SIP_NA_LIST) && cur.len)
			abort();
		if (!na.star && na.uri.len == 0)
			abort();
		if (na.star && !(flags & SIP_NA_ALLOW_STAR))
			abort();
		inside(na.display, buf, size);
		inside(na.uri, buf, size);
		inside(na.params, buf, size);
		inside(na.raw, buf, size);
		inside(na.tag, buf, size);
		if (na.display.len && na.display.s[0] == '"') {
			char tmp[256];
			int n = sip_unquote(tmp, sizeof(tmp), na.display);

			if (n < 0 && n != -ENOSPC)
				abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	run((const char *)data, size, 0);
	run((const char *)data, size, SIP_NA_LIST);
	run((const char *)data, size, SIP_NA_LIST | SIP_NA_ALLOW_STAR);
	return 0;
}
