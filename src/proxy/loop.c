/* Loop detection (RFC 3261 §16.3 item 4, §16.6 step 8): the loop-detection
 * part of our branch and the check of a returning request against it. */
#include "proxy/route_priv.h"

#include <errno.h>
#include <string.h>

#define FNV_OFFSET UINT64_C(0xcbf29ce484222325)
#define FNV_PRIME UINT64_C(0x100000001b3)
/* a second starting point, so that the Via half never equals the fields half
 * of the same bytes */
#define FNV_OFFSET_VIA (FNV_OFFSET ^ UINT64_C(0x5669612d48617368))

static const char branch_prefix[] = "z9hG4bK" PXY_BRANCH_MAGIC;
#define BRANCH_PREFIX_LEN (sizeof(branch_prefix) - 1)

static uint64_t fnv_bytes(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= FNV_PRIME;
	}
	return h;
}

/* A tagged, length-prefixed field: "a" + "bc" never hashes like "ab" + "c",
 * and an absent field never like an empty one of another kind. */
static uint64_t fnv_field(uint64_t h, char tag, struct str v)
{
	uint32_t len = (uint32_t)v.len;

	h = fnv_bytes(h, &tag, 1);
	h = fnv_bytes(h, &len, sizeof(len));
	return v.len ? fnv_bytes(h, v.s, v.len) : h;
}

static uint64_t fnv_headers(uint64_t h, char tag, const struct sip_msg *m, enum sip_hdr_type t)
{
	for (const struct sip_hdr *x = sip_msg_hdr(m, t); x; x = sip_msg_hdr_next(m, x))
		h = fnv_field(h, tag, x->value);
	return h;
}

/* Everything but the top Via. INVITE, ACK and CANCEL leave out the To tag,
 * Proxy-Require and Proxy-Authorization: a CANCEL carries no Proxy-Require
 * (§9.1) and neither it nor the ACK of a non-2xx response need carry the
 * INVITE's credentials, and the ACK has the To tag of the response, while
 * all three must get the branch of their INVITE (§16.6 step 8, §17.2.3). */
static uint64_t hash_fields(const struct sip_msg *m)
{
	bool invite = m->method_id == SIP_METHOD_INVITE || m->method_id == SIP_METHOD_ACK ||
		      m->method_id == SIP_METHOD_CANCEL;
	uint32_t cseq = m->cseq.num;
	uint64_t h = FNV_OFFSET;

	h = fnv_field(h, 'U', m->ruri);
	h = fnv_field(h, 'F', m->from.tag);
	h = fnv_field(h, 'C', m->call_id);
	h = fnv_field(h, 'S', str_make((const char *)&cseq, sizeof(cseq)));
	h = fnv_headers(h, 'R', m, SIP_HDR_ROUTE);
	if (!invite) {
		h = fnv_field(h, 'T', m->to.tag);
		h = fnv_headers(h, 'Q', m, SIP_HDR_PROXY_REQUIRE);
		h = fnv_headers(h, 'A', m, SIP_HDR_PROXY_AUTHORIZATION);
	}
	return tp_hash_mix64(h);
}

static uint64_t hash_via(struct str via_parm)
{
	return tp_hash_mix64(fnv_bytes(FNV_OFFSET_VIA, via_parm.s, via_parm.len));
}

static void hex64(uint64_t v, char out[PXY_LOOP_HASH_LEN])
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < PXY_LOOP_HASH_LEN; i++)
		out[i] = digits[(v >> (60 - 4 * i)) & 0xf];
}

static bool unhex64(const char *p, uint64_t *v)
{
	uint64_t r = 0;

	for (int i = 0; i < PXY_LOOP_HASH_LEN; i++) {
		char c = p[i];
		unsigned d;

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else
			return false;
		r = r << 4 | d;
	}
	*v = r;
	return true;
}

/* The two halves are combined by XOR of two bijective mixes: the hash stays
 * 64 bits wide for requests differing in either, and the fields half can be
 * recovered from a hash and the Via it was computed with (loop check). */
void pxy_loop_hash(const struct sip_msg *m, char out[PXY_LOOP_HASH_LEN])
{
	hex64(hash_fields(m) ^ hash_via(m->via1.raw), out);
}

int pxy_branch(char *out, size_t cap, const char loop_hash[PXY_LOOP_HASH_LEN], unsigned idx)
{
	char d[10];
	size_t dn = str_fmt_u32(d, idx), n; /* no snprintf: this runs per branch */

	n = BRANCH_PREFIX_LEN + PXY_LOOP_HASH_LEN + 1 + dn;
	if (n >= cap)
		return -ENOSPC;
	memcpy(out, branch_prefix, BRANCH_PREFIX_LEN);
	memcpy(out + BRANCH_PREFIX_LEN, loop_hash, PXY_LOOP_HASH_LEN);
	out[BRANCH_PREFIX_LEN + PXY_LOOP_HASH_LEN] = '.';
	memcpy(out + BRANCH_PREFIX_LEN + PXY_LOOP_HASH_LEN + 1, d, dn);
	out[n] = '\0';
	return (int)n;
}

/* The loop hash inside a branch of ours: prefix, 16 hex digits, then '.'
 * (our format) or the end. */
static bool branch_hash(struct str branch, uint64_t *v)
{
	if (branch.len < BRANCH_PREFIX_LEN + PXY_LOOP_HASH_LEN ||
	    memcmp(branch.s, branch_prefix, BRANCH_PREFIX_LEN) != 0)
		return false;
	if (branch.len > BRANCH_PREFIX_LEN + PXY_LOOP_HASH_LEN &&
	    branch.s[BRANCH_PREFIX_LEN + PXY_LOOP_HASH_LEN] != '.')
		return false;
	return unhex64(branch.s + BRANCH_PREFIX_LEN, v);
}

static bool via_is_ours(const struct pxy_self *s, const struct sip_via *v, uint64_t *hash)
{
	uint16_t port = v->has_port ? v->port
		      : str_caseeq_lit(v->transport, "TLS") ? PXY_PORT_SIPS : PXY_PORT_SIP;

	return branch_hash(v->branch, hash) && pxy_hostport_is_self(s, v->host, port, v->has_port);
}

/* Our Via in a request that comes back sits right above the Via that was on
 * top when we forwarded it, and the Vias below ours do not change on the way:
 * so the hash that request had then is its fields half as received now
 * combined with the Via below ours. Comparing with loop_hash itself, as §16.3
 * reads literally, would never match: the top Via is always another one by
 * the time a request returns. */
bool pxy_loop_detected(const struct pxy_self *s, const struct sip_msg *m,
		       const char loop_hash[PXY_LOOP_HASH_LEN])
{
	uint64_t now, fields, ours = 0;
	bool pending = false;

	if (!s || !unhex64(loop_hash, &now))
		return false;
	fields = now ^ hash_via(m->via1.raw);
	for (const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_VIA); h; h = sip_msg_hdr_next(m, h)) {
		struct str cur = h->value;

		while (cur.len) {
			struct sip_via v;

			if (sip_via_parse(&v, &cur, NULL) != 0) {
				pending = false; /* the rest of this line is unusable */
				break;
			}
			if (pending && (fields ^ hash_via(v.raw)) == ours)
				return true;
			pending = via_is_ours(s, &v, &ours);
		}
	}
	return false;
}
