/* SIP methods (RFC 3261 §7.1 and extensions). Extension methods are tokens. */
#ifndef SIPHON_MSG_METHOD_H
#define SIPHON_MSG_METHOD_H

#include "base/str.h"

enum sip_method {
	SIP_METHOD_OTHER = 0,
	SIP_METHOD_INVITE,
	SIP_METHOD_ACK,
	SIP_METHOD_BYE,
	SIP_METHOD_CANCEL,
	SIP_METHOD_REGISTER,
	SIP_METHOD_OPTIONS,
	SIP_METHOD_INFO,
	SIP_METHOD_PRACK,
	SIP_METHOD_UPDATE,
	SIP_METHOD_SUBSCRIBE,
	SIP_METHOD_NOTIFY,
	SIP_METHOD_REFER,
	SIP_METHOD_MESSAGE,
	SIP_METHOD_PUBLISH,
};

/* Methods are case-sensitive (RFC 3261 §7.1). */
enum sip_method sip_method_lookup(struct str name);
const char *sip_method_name(enum sip_method m);

#endif
