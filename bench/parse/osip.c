/* GNU oSIP2: parses every header into structures (URIs, Via, name-addrs,
 * credentials, Content-Type...), unknown ones into name/value pairs, and
 * copies the body; allocates per header. */
#include "bench.h"

#include <osipparser2/osip_message.h>
#include <osipparser2/osip_parser.h>

int bench_osip_init(void)
{
	return parser_init();
}

int bench_osip_parse(const char *buf, size_t len)
{
	osip_message_t *sip;
	int r;

	if (osip_message_init(&sip) != 0)
		return -1;
	r = osip_message_parse(sip, buf, len);
	if (r == 0 && (!sip->call_id || !sip->cseq || !sip->from || !sip->to ||
		       osip_list_size(&sip->vias) == 0))
		r = -2;
	osip_message_free(sip);
	return r;
}
