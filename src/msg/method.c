#include "msg/method.h"

#include <string.h>

static const char *const names[] = {
	[SIP_METHOD_OTHER] = NULL,	   [SIP_METHOD_INVITE] = "INVITE",
	[SIP_METHOD_ACK] = "ACK",	   [SIP_METHOD_BYE] = "BYE",
	[SIP_METHOD_CANCEL] = "CANCEL",	   [SIP_METHOD_REGISTER] = "REGISTER",
	[SIP_METHOD_OPTIONS] = "OPTIONS",  [SIP_METHOD_INFO] = "INFO",
	[SIP_METHOD_PRACK] = "PRACK",	   [SIP_METHOD_UPDATE] = "UPDATE",
	[SIP_METHOD_SUBSCRIBE] = "SUBSCRIBE", [SIP_METHOD_NOTIFY] = "NOTIFY",
	[SIP_METHOD_REFER] = "REFER",	   [SIP_METHOD_MESSAGE] = "MESSAGE",
	[SIP_METHOD_PUBLISH] = "PUBLISH",
};

enum sip_method sip_method_lookup(struct str n)
{
	/* Dispatch on the first octet; methods are case-sensitive (RFC 3261 §7.1). */
	switch (n.len ? n.s[0] : 0) {
	case 'I':
		if (n.len == 6 && memcmp(n.s, "INVITE", 6) == 0)
			return SIP_METHOD_INVITE;
		if (n.len == 4 && memcmp(n.s, "INFO", 4) == 0)
			return SIP_METHOD_INFO;
		break;
	case 'A':
		if (n.len == 3 && memcmp(n.s, "ACK", 3) == 0)
			return SIP_METHOD_ACK;
		break;
	case 'B':
		if (n.len == 3 && memcmp(n.s, "BYE", 3) == 0)
			return SIP_METHOD_BYE;
		break;
	case 'C':
		if (n.len == 6 && memcmp(n.s, "CANCEL", 6) == 0)
			return SIP_METHOD_CANCEL;
		break;
	case 'R':
		if (n.len == 8 && memcmp(n.s, "REGISTER", 8) == 0)
			return SIP_METHOD_REGISTER;
		if (n.len == 5 && memcmp(n.s, "REFER", 5) == 0)
			return SIP_METHOD_REFER;
		break;
	case 'O':
		if (n.len == 7 && memcmp(n.s, "OPTIONS", 7) == 0)
			return SIP_METHOD_OPTIONS;
		break;
	case 'P':
		if (n.len == 5 && memcmp(n.s, "PRACK", 5) == 0)
			return SIP_METHOD_PRACK;
		if (n.len == 7 && memcmp(n.s, "PUBLISH", 7) == 0)
			return SIP_METHOD_PUBLISH;
		break;
	case 'U':
		if (n.len == 6 && memcmp(n.s, "UPDATE", 6) == 0)
			return SIP_METHOD_UPDATE;
		break;
	case 'S':
		if (n.len == 9 && memcmp(n.s, "SUBSCRIBE", 9) == 0)
			return SIP_METHOD_SUBSCRIBE;
		break;
	case 'N':
		if (n.len == 6 && memcmp(n.s, "NOTIFY", 6) == 0)
			return SIP_METHOD_NOTIFY;
		break;
	case 'M':
		if (n.len == 7 && memcmp(n.s, "MESSAGE", 7) == 0)
			return SIP_METHOD_MESSAGE;
		break;
	}
	return SIP_METHOD_OTHER;
}

const char *sip_method_name(enum sip_method m)
{
	if ((unsigned)m >= sizeof(names) / sizeof(names[0]))
		return NULL;
	return names[m];
}
