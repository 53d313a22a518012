/* Registrar internals shared by its files. */
#ifndef SIPHON_REGISTRAR_REG_INT_H
#define SIPHON_REGISTRAR_REG_INT_H

#include "registrar/reg.h"

#include <stdatomic.h>

#define REG_AOR_MAX 512

struct reg {
	struct loc *loc;
	struct reg_cfg cfg;      /* defaults filled in */
	atomic_uint_fast64_t rng; /* splitmix64 state when cfg.rand is NULL */
};

/* One Contact value of the request (§10.3 step 7). */
struct reg_contact {
	struct sip_nameaddr na;
	struct sip_uri uri;
	uint32_t expires;   /* as asked: param, else Expires header, else default */
	uint16_t q;         /* per-mille */
	struct str instance; /* +sip.instance value as written (RFC 5626 §4.1) */
	uint32_t reg_id;    /* 0 without an instance */
	int match;          /* index of the existing binding it updates, or -1 */
};

/* Parse every Contact value of m into c[0..*n). Returns 0, 1 for a lone
 * "Contact: *", -E2BIG beyond REG_REQ_CONTACTS values (403), or -EINVAL with
 * *why set to the 400 reason. */
int reg_contacts_parse(const struct reg *r, const struct sip_msg *m, struct reg_contact *c,
		       size_t *n, const char **why);

/* Expires the registrar grants for a request of e > 0 seconds: clamped to
 * max_expires, then reduced by the jitter (never below min_expires). */
uint32_t reg_grant(struct reg *r, uint32_t e);

#endif
