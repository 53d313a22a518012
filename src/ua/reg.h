/* Registration (RFC 3261 §10.2): REGISTER our Contact for the AoR at its
 * registrar (the outbound proxy when set, else the AoR's domain), refresh
 * it before it expires (halfway through the granted time), follow a 423
 * Min-Expires (§10.2.8), and remove it on stop (expires=0, §10.2.2). One
 * Call-ID for every REGISTER, CSeq counting up (§10.2.4). */
#ifndef SIPHON_UA_REG_H
#define SIPHON_UA_REG_H

#include "ua/ua.h"

#include <stdint.h>

struct ua_reg;

/* Every result: status 200 with the granted expires (0 after the
 * unregister), else the failure (auth_failed when credentials were
 * refused; why for a local failure). */
typedef void (*ua_reg_fn)(void *arg, int status, uint32_t expires, bool auth_failed,
			  const char *why);

int ua_reg_start(struct ua *u, uint32_t expires, ua_reg_fn cb, void *arg, struct ua_reg **out);
/* Unregister; the callback reports it. -EALREADY when nothing is registered. */
int ua_reg_stop(struct ua_reg *r);
void ua_reg_free(struct ua_reg *r);
bool ua_reg_registered(const struct ua_reg *r);

#endif
