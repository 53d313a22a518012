/* Transport choice by message size (RFC 3261 §18.1.1): with the path MTU
 * unknown, a request larger than 1300 bytes that would go over UDP goes over
 * a congestion-controlled transport (TCP) instead, unless UDP was asked for
 * explicitly. */
#ifndef SIPHON_UA_MTU_H
#define SIPHON_UA_MTU_H

#include "transport/addr.h"

#include <stdbool.h>
#include <stddef.h>

#define UA_UDP_MAX 1300 /* §18.1.1: largest request sent over UDP */

/* The transport to send a len-byte request on when resolution chose proto.
 * udp_forced: the URI says transport=udp or the user allowed UDP only; then
 * (and for any proto but UDP) proto stands. */
enum tp_proto ua_mtu_proto(enum tp_proto proto, size_t len, bool udp_forced);

#endif
