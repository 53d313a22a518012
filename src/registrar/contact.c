/* Contact values of a REGISTER (RFC 3261 §10.3 steps 6-7, §20.10, RFC 5626
 * §4.1): "*" rules, URI syntax, requested interval and q of each. */
#include "registrar/reg_int.h"

#include <errno.h>

static int fail(const char **why, const char *reason)
{
	*why = reason;
	return -EINVAL;
}

/* qvalue (already checked by the name-addr parser) to per-mille. */
static uint16_t q_permille(struct str v)
{
	unsigned q = 0, scale = 1000;

	if (!v.len)
		return 1000;
	q = (unsigned)(v.s[0] - '0') * 1000;
	for (size_t i = 2; i < v.len && i < 5; i++) {
		scale /= 10;
		q += (unsigned)(v.s[i] - '0') * scale;
	}
	return q > 1000 ? 1000 : (uint16_t)q;
}

/* Expires header, else the default. A malformed value counts as the default
 * (§20.19 suggests 3600, our default). */
static uint32_t hdr_expires(const struct reg *r, const struct sip_msg *m, bool *present)
{
	const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_EXPIRES);
	uint32_t v;

	*present = h != NULL;
	if (h && sip_uint_parse(h->value, UINT32_MAX, &v, NULL) == 0)
		return v;
	return r->cfg.default_expires;
}

static int one(const struct reg *r, struct reg_contact *c, uint32_t dflt, const char **why)
{
	struct str v;
	uint32_t id;

	if (sip_uri_parse(&c->uri, c->na.uri.s, c->na.uri.len, NULL))
		return fail(why, "Bad Contact");
	/* every binding must fit the 200 that lists them (64 KiB at most) */
	if (c->na.uri.len > REG_CONTACT_URI_MAX || c->na.params.len > REG_CONTACT_PARAMS_MAX)
		return fail(why, "Contact Too Long");
	/* §20: an addr-spec with '?' (or ',' ';') must be in <> (RFC 4475
	 * regbadct: reject rather than guess) */
	if (!c->na.bracketed && str_chr(c->na.uri, '?') >= 0)
		return fail(why, "Bad Contact");
	c->expires = dflt;
	if (c->na.has_expires &&
	    sip_uint_parse(c->na.expires, UINT32_MAX, &c->expires, NULL))
		c->expires = r->cfg.default_expires;
	c->q = c->na.has_q ? q_permille(c->na.q) : 1000;
	c->instance = STR_NULL;
	c->reg_id = 0;
	c->match = -1;
	if (sip_param_find(c->na.params, STR_LIT("+sip.instance"), &v) && v.len) {
		c->instance = v;
		/* reg-id only means something with an instance (RFC 5626 §4.2) */
		if (sip_param_find(c->na.params, STR_LIT("reg-id"), &v) &&
		    !sip_uint_parse(v, UINT32_MAX, &id, NULL))
			c->reg_id = id;
	}
	return 0;
}

int reg_contacts_parse(const struct reg *r, const struct sip_msg *m, struct reg_contact *c,
		       size_t *n, const char **why)
{
	bool has_expires_hdr, star = false;
	uint32_t dflt = hdr_expires(r, m, &has_expires_hdr);
	size_t k = 0;

	for (const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_CONTACT); h;
	     h = sip_msg_hdr_next(m, h)) {
		struct str cur = h->value;

		while (cur.len) {
			struct sip_nameaddr na;
			int err;

			if (sip_nameaddr_parse(&na, &cur, SIP_NA_LIST | SIP_NA_ALLOW_STAR, NULL))
				return fail(why, "Bad Contact");
			if (na.star) {
				star = true;
				k++;
				continue;
			}
			if (k >= REG_REQ_CONTACTS) {
				*why = "Too Many Contacts";
				return -E2BIG;
			}
			c[k].na = na;
			err = one(r, &c[k], dflt, why);
			if (err)
				return err;
			k++;
		}
	}
	*n = k;
	if (!star)
		return 0;
	/* §10.3 step 6: "*" alone, and only with Expires: 0 */
	if (k != 1)
		return fail(why, "Wildcard Contact Not Alone");
	if (!has_expires_hdr || dflt != 0)
		return fail(why, "Wildcard Contact Needs Expires: 0");
	*n = 0;
	return 1;
}
