/* libFuzzer target for the small header parsers: CSeq, numbers, Call-ID,
 * token lists, generic params and quoted-string unescaping. */
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
	struct str in = str_make(buf, size), cur, a, b;
	struct sip_cseq cs;
	uint32_t u;
	const char *why;
	char tmp[64];
	int rc;

	why = NULL;
	rc = sip_cseq_parse(&cs, in, &why);
	if (rc == 0)
		inside(cs.method, buf, size);
	else if (!why || (rc != -EINVAL && rc != -ERANGE))
		abort();

	why = NULL;
	rc = sip_uint_parse(in, 255, &u, &why);
	if (rc == 0 ? u > 255 : (!why || (rc != -EINVAL && rc != -ERANGE)))
		abort();

	why = NULL;
	rc = sip_callid_check(in, &why);
	if (rc < 0 && (!why || rc != -EINVAL))
		abort();

	cur = in;
	for (;;) {
		size_t before = cur.len;

		why = NULL;
		rc = sip_token_next(&cur, &a, &why);
		if (rc == 1)
			break;
		if (rc < 0) {
			if (!why)
				abort();
			break;
		}
		if (cur.len >= before || a.len == 0)
			abort();
		inside(a, buf, size);
	}

	cur = in;
	for (;;) {
		size_t before = cur.len;

		why = NULL;
		rc = sip_param_next(&cur, &a, &b, &why);
		if (rc == 1) {
			/* stopped at ',' or the end, nothing else */
			if (cur.len && cur.s[0] != ',')
				abort();
			break;
		}
		if (rc < 0) {
			if (!why)
				abort();
			break;
		}
		if (cur.len >= before || a.len == 0)
			abort();
		inside(a, buf, size);
		inside(b, buf, size);
		if (sip_param_find(in, a, &b) != 1)
			abort();
	}

	rc = sip_unquote(tmp, sizeof(tmp), in);
	if (rc >= (int)sizeof(tmp) || (rc < 0 && rc != -EINVAL && rc != -ENOSPC))
		abort();
	return 0;
}
