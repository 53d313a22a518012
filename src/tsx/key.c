/* Matching keys: responses to client transactions (RFC 3261 §17.1.3),
 * requests to server transactions (§17.2.3, with the RFC 2543 fallback for
 * branches without the magic cookie), CANCEL to the INVITE it cancels (§9.2). */
#include "tsx/key.h"

#include <errno.h>
#include <string.h>

static uint32_t fnv(uint32_t h, const void *p, size_t n)
{
	const unsigned char *s = p;

	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 16777619u;
	}
	return h;
}

static uint32_t fnv_str(uint32_t h, struct str s)
{
	/* the length separates adjacent fields */
	h = fnv(h, &s.len, sizeof(s.len));
	return fnv(h, s.s, s.len);
}

/* Hash only fields compared byte for byte (sent-by is case-insensitive and
 * the 2543 To tag of an ACK differs from its INVITE's: both stay out). */
static void key_hash(struct tsx_key *k)
{
	uint32_t h = 2166136261u;

	h = fnv(h, &k->side, sizeof(k->side));
	if (k->side == TSX_SIDE_CLIENT || k->rfc3261) {
		h = fnv_str(h, k->branch);
	} else {
		h = fnv_str(h, k->call_id);
		h = fnv(h, &k->cseq, sizeof(k->cseq));
		h = fnv_str(h, k->from_tag);
	}
	k->hash = fnv_str(h, k->method);
}

static bool has_cookie(struct str branch)
{
	return branch.len > sizeof(TSX_MAGIC_COOKIE) - 1 &&
	       memcmp(branch.s, TSX_MAGIC_COOKIE, sizeof(TSX_MAGIC_COOKIE) - 1) == 0;
}

int tsx_key_request(struct tsx_key *k, const struct sip_msg *m)
{
	const struct sip_via *v = &m->via1;

	memset(k, 0, sizeof(*k));
	if (!m->is_request || !m->via1_ok || m->cseq.method.len == 0 || m->method.len == 0)
		return -EINVAL;
	k->side = TSX_SIDE_SERVER;
	k->branch = v->branch;
	k->rfc3261 = has_cookie(v->branch);
	/* §17.2.3: the ACK for a non-2xx belongs to the INVITE transaction */
	k->is_ack = m->method_id == SIP_METHOD_ACK;
	k->method = k->is_ack ? STR_LIT("INVITE") : m->method;
	k->host = v->host;
	k->port = v->has_port ? v->port : str_caseeq_lit(v->transport, "TLS") ? 5061 : 5060;
	k->ruri = m->ruri;
	k->call_id = m->call_id;
	k->from_tag = m->from.tag;
	k->to_tag = m->to.tag;
	k->via = v->raw;
	k->cseq = m->cseq.num;
	key_hash(k);
	return 0;
}

int tsx_key_cancelled(struct tsx_key *k, const struct sip_msg *cancel)
{
	int rc = tsx_key_request(k, cancel);

	if (rc)
		return rc;
	if (cancel->method_id != SIP_METHOD_CANCEL)
		return -EINVAL;
	/* §9.2: same branch / same 2543 fields as the INVITE, method INVITE */
	k->method = STR_LIT("INVITE");
	key_hash(k);
	return 0;
}

int tsx_key_client(struct tsx_key *k, struct str branch, struct str method)
{
	memset(k, 0, sizeof(*k));
	if (branch.len == 0 || method.len == 0)
		return -EINVAL;
	k->side = TSX_SIDE_CLIENT;
	k->rfc3261 = true;
	k->branch = branch;
	k->method = method;
	key_hash(k);
	return 0;
}

static int client_key(struct tsx_key *k, const struct sip_msg *m, struct str method)
{
	if (!m->via1_ok) {
		memset(k, 0, sizeof(*k));
		return -EINVAL;
	}
	return tsx_key_client(k, m->via1.branch, method);
}

int tsx_key_response(struct tsx_key *k, const struct sip_msg *m)
{
	/* §17.1.3: the CSeq method, so a CANCEL's response finds the CANCEL */
	if (m->is_request)
		return -EINVAL;
	return client_key(k, m, m->cseq.method);
}

int tsx_key_client_request(struct tsx_key *k, const struct sip_msg *m)
{
	if (!m->is_request)
		return -EINVAL;
	return client_key(k, m, m->method);
}

static bool stores_2543(const struct tsx_key *k)
{
	return k->side == TSX_SIDE_SERVER && !k->rfc3261;
}

size_t tsx_key_size(const struct tsx_key *k)
{
	size_t n = k->branch.len + k->method.len;

	if (k->side == TSX_SIDE_SERVER)
		n += k->host.len;
	if (stores_2543(k))
		n += k->ruri.len + k->call_id.len + k->from_tag.len + k->to_tag.len + k->via.len;
	return n;
}

static struct str put(char *buf, size_t *off, struct str s)
{
	struct str r = { buf + *off, s.len };

	if (s.len)
		memcpy(buf + *off, s.s, s.len);
	*off += s.len;
	return r;
}

size_t tsx_key_copy(struct tsx_key *dst, const struct tsx_key *k, char *buf)
{
	size_t off = 0;

	*dst = *k;
	dst->branch = put(buf, &off, k->branch);
	dst->method = put(buf, &off, k->method);
	dst->host = k->side == TSX_SIDE_SERVER ? put(buf, &off, k->host) : STR_NULL;
	if (stores_2543(k)) {
		dst->ruri = put(buf, &off, k->ruri);
		dst->call_id = put(buf, &off, k->call_id);
		dst->from_tag = put(buf, &off, k->from_tag);
		dst->to_tag = put(buf, &off, k->to_tag);
		dst->via = put(buf, &off, k->via);
	} else {
		dst->ruri = dst->call_id = dst->from_tag = dst->to_tag = dst->via = STR_NULL;
	}
	return off;
}

bool tsx_key_match(const struct tsx_key *tk, const struct tsx_key *k, struct str resp_to_tag,
		   bool ack_ok)
{
	if (tk->hash != k->hash || tk->side != k->side || !str_eq(tk->method, k->method))
		return false;
	if (k->side == TSX_SIDE_CLIENT)
		return str_eq(tk->branch, k->branch); /* §17.1.3 */
	/* an ACK for a 2xx is the TU's (RFC 6026 §8.7): only Completed or
	 * Confirmed INVITE transactions take ACKs */
	if (k->is_ack && !ack_ok)
		return false;
	if (tk->rfc3261 != k->rfc3261)
		return false;
	if (k->rfc3261) /* §17.2.3: branch, sent-by, method */
		return str_eq(tk->branch, k->branch) && str_caseeq(tk->host, k->host) &&
		       tk->port == k->port;
	/* RFC 2543 fallback (§17.2.3) */
	if (!str_eq(tk->ruri, k->ruri) || !str_eq(tk->call_id, k->call_id) ||
	    !str_eq(tk->from_tag, k->from_tag) || tk->cseq != k->cseq || !str_eq(tk->via, k->via))
		return false;
	return str_eq(k->is_ack ? resp_to_tag : tk->to_tag, k->to_tag);
}
