/* libFuzzer target: the message parser on datagrams and streams, then the
 * response builder and the forwarding editor on whatever parsed. */
#include "msg/build.h"
#include "msg/msg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sip_msg m;
static char out[70000];

static void exercise(const struct sip_msg *msg)
{
	struct sip_resp_opts opt = { .to_tag = STR_LIT("abc"), .server = STR_LIT("fuzz"),
				     .received = STR_LIT("127.0.0.1"), .rport = 5060 };
	struct sip_edit e;
	char mf[4];
	int n;

	n = sip_resp_build(out, sizeof(out), msg, 400, STR_LIT("Bad Request"), &opt);
	if (n >= 0 && (size_t)n > sizeof(out))
		abort();
	if (!msg->is_request || msg->len == 0)
		return;
	sip_edit_init(&e, msg);
	sip_fwd_add_via(&e, STR_LIT("Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKfuzz\r\n"));
	sip_fwd_drop_top_route(&e);
	sip_fwd_dec_max_forwards(&e, mf);
	sip_fwd_add_record_route(&e, STR_LIT("Record-Route: <sip:127.0.0.1;lr>\r\n"));
	n = sip_edit_apply(&e, out, sizeof(out));
	if (n > (int)sizeof(out))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	int rc;

	rc = sip_msg_parse(&m, buf, size, SIP_PARSE_DATAGRAM);
	if (rc != 0 && rc != -EBADMSG)
		abort();
	if (m.len > size)
		abort();
	exercise(&m);

	/* a stream carrying the same bytes: consume message by message */
	size_t off = 0;
	while (off < size) {
		rc = sip_msg_parse(&m, buf + off, size - off, SIP_PARSE_STREAM);
		if (rc == -EAGAIN)
			break;
		size_t used = (size_t)(m.buf - (buf + off)) + m.len;
		if (rc == -EBADMSG && m.len == 0)
			break; /* framing lost: a transport closes here */
		if (used == 0 || off + used > size)
			abort(); /* must always make progress and stay in bounds */
		if (rc == 0)
			exercise(&m);
		off += used;
	}
	return 0;
}
