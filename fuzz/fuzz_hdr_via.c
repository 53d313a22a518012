/* libFuzzer target for the Via parser: the bytes are one Via header value.
 * Every via-parm must shrink the cursor, keep its slices inside the input and
 * report a reason on error. */
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
	struct str cur = str_make(buf, size);
	struct sip_via v;

	while (cur.len) {
		const char *why = NULL;
		size_t before = cur.len;
		int rc = sip_via_parse(&v, &cur, &why);

		inside(v.proto_name, buf, size);
		inside(v.host, buf, size);
		inside(v.branch, buf, size);
		inside(v.params, buf, size);
		if (rc < 0) {
			if (!why || rc != -EINVAL)
				abort();
			break;
		}
		if (cur.len >= before || v.host.len == 0 || v.transport.len == 0)
			abort();
		inside(v.raw, buf, size);
		inside(v.received, buf, size);
		inside(v.rport, buf, size);
		inside(v.maddr, buf, size);
		inside(v.ttl, buf, size);
		/* the raw params re-parse as a param list */
		{
			struct str p = v.params, n, val;
			int prc;

			while ((prc = sip_param_next(&p, &n, &val, NULL)) == 0)
				;
			if (prc != 1 || p.len)
				abort();
		}
	}
	return 0;
}
