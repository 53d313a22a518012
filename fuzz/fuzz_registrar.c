/* libFuzzer target: any bytes as a datagram; a REGISTER that parses goes
 * through the registrar against the memory location service, and exactly
 * one answer must come back, whatever the Contact, Expires, Path or CSeq. */
#include "location/loc.h"
#include "msg/msg.h"
#include "registrar/reg.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct loc *loc;
static struct reg *reg;
static struct sip_msg m;
static int answers;

static void on_done(void *arg, uint16_t code, const char *reason, struct str extra)
{
	(void)arg;
	if (code < 200 || code > 699 || !reason || (extra.len && !extra.s))
		abort();
	answers++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct loc_cfg lcfg = { .backend = LOC_MEMORY };
	struct reg_source src = { .received = STR_LIT("udp:127.0.0.1:5060") };
	/* a fixed clock keeps runs reproducible; bindings accumulate across
	 * inputs, as in a running registrar */
	const time_t now = 1800000000;

	if (!loc && (loc_create(&loc, &lcfg) != 0 || reg_create(&reg, NULL, loc) != 0))
		abort();
	if (sip_msg_parse(&m, (const char *)data, size, SIP_PARSE_DATAGRAM) != 0 ||
	    !m.is_request || m.method_id != SIP_METHOD_REGISTER)
		return 0;
	answers = 0;
	if (reg_handle(reg, &m, &src, now, on_done, NULL) != 0)
		abort(); /* a parsed REGISTER is always handled */
	loc_poll(loc);
	if (answers != 1)
		abort();
	return 0;
}
