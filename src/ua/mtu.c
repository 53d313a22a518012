/* Transport choice by message size (RFC 3261 §18.1.1). */
#include "ua/mtu.h"

enum tp_proto ua_mtu_proto(enum tp_proto proto, size_t len, bool udp_forced)
{
	if (proto != TP_UDP || udp_forced || len <= UA_UDP_MAX)
		return proto;
	return TP_TCP;
}
