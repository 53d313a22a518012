/* Forwarding by splices (RFC 3261 §16.6): the received bytes are copied once,
 * with the recorded insertions and deletions applied on the way. */
#include "msg/build.h"

#include <errno.h>
#include <string.h>

void sip_edit_init(struct sip_edit *e, const struct sip_msg *m)
{
	e->msg = m;
	e->n = 0;
}

int sip_edit_splice(struct sip_edit *e, const char *at, size_t del, struct str ins)
{
	const struct sip_msg *m = e->msg;
	size_t off;

	if (at < m->buf || at > m->buf + m->len || del > (size_t)(m->buf + m->len - at))
		return -EINVAL;
	if (e->n >= SIP_EDIT_MAX)
		return -ENOSPC;
	off = (size_t)(at - m->buf);
	/* keep ops sorted by offset; at one offset, insertions go before a
	 * deletion (a line added where a dropped one starts), otherwise in the
	 * order they were recorded */
	unsigned i = e->n;
	while (i > 0 && (e->ops[i - 1].off > off ||
			 (e->ops[i - 1].off == off && del == 0 && e->ops[i - 1].del > 0))) {
		e->ops[i] = e->ops[i - 1];
		i--;
	}
	e->ops[i] = (struct sip_splice){ off, del, ins };
	e->n++;
	return 0;
}

int sip_edit_apply(const struct sip_edit *e, char *out, size_t cap)
{
	const struct sip_msg *m = e->msg;
	size_t pos = 0, len = 0;

	for (unsigned i = 0; i < e->n; i++) {
		const struct sip_splice *op = &e->ops[i];
		size_t keep;

		if (op->off < pos)
			return -EINVAL; /* overlaps a deletion before it */
		keep = op->off - pos;
		if (keep + op->ins.len > cap - len)
			return -ENOSPC;
		if (keep)
			memcpy(out + len, m->buf + pos, keep);
		len += keep;
		if (op->ins.len)
			memcpy(out + len, op->ins.s, op->ins.len);
		len += op->ins.len;
		pos = op->off + op->del;
	}
	if (m->len - pos > cap - len)
		return -ENOSPC;
	if (m->len > pos)
		memcpy(out + len, m->buf + pos, m->len - pos);
	len += m->len - pos;
	if (len > INT32_MAX)
		return -ENOSPC;
	return (int)len;
}

/* Where new header lines go when there is no better anchor: the top. */
static const char *first_header(const struct sip_msg *m)
{
	return m->nhdrs ? m->hdrs[0].line.s : m->head.s + m->head.len - 2;
}

int sip_fwd_add_via(struct sip_edit *e, struct str via_line)
{
	const struct sip_hdr *h = sip_msg_hdr(e->msg, SIP_HDR_VIA);

	return sip_edit_splice(e, h ? h->line.s : first_header(e->msg), 0, via_line);
}

int sip_fwd_add_record_route(struct sip_edit *e, struct str rr_line)
{
	const struct sip_hdr *h = sip_msg_hdr(e->msg, SIP_HDR_RECORD_ROUTE);

	return sip_edit_splice(e, h ? h->line.s : first_header(e->msg), 0, rr_line);
}

int sip_fwd_drop_top_via(struct sip_edit *e)
{
	const struct sip_hdr *h = sip_msg_hdr(e->msg, SIP_HDR_VIA);
	struct sip_via v;
	struct str cur;
	const char *why;
	int rc;

	if (!h)
		return -ENOENT;
	if (e->msg->via1_rest.s) {
		cur = e->msg->via1_rest; /* the eager parse found its end */
	} else {
		cur = h->value;
		rc = sip_via_parse(&v, &cur, &why);
		if (rc != 0)
			return rc;
	}
	cur = str_trim(cur);
	if (cur.len == 0) { /* the only value: drop the whole line */
		rc = sip_edit_splice(e, h->line.s, h->line.len, STR_NULL);
		return rc < 0 || sip_msg_hdr_next(e->msg, h) ? rc : -EDESTADDRREQ;
	}
	/* drop "first-value ," and keep the rest of the line */
	return sip_edit_splice(e, h->value.s, (size_t)(cur.s - h->value.s), STR_NULL);
}

int sip_fwd_drop_top_route(struct sip_edit *e)
{
	const struct sip_hdr *h = sip_msg_hdr(e->msg, SIP_HDR_ROUTE);
	struct sip_nameaddr na;
	struct str cur;
	const char *why;
	int rc;

	if (!h)
		return -ENOENT;
	cur = h->value;
	rc = sip_nameaddr_parse(&na, &cur, SIP_NA_LIST, &why);
	if (rc != 0)
		return rc;
	cur = str_trim(cur);
	if (cur.len == 0) /* the only value: drop the whole line */
		return sip_edit_splice(e, h->line.s, h->line.len, STR_NULL);
	/* drop "first-value ," and keep the rest of the line */
	return sip_edit_splice(e, h->value.s, (size_t)(cur.s - h->value.s), STR_NULL);
}

int sip_fwd_dec_max_forwards(struct sip_edit *e, char scratch[4])
{
	const struct sip_msg *m = e->msg;
	const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_MAX_FORWARDS);
	int32_t mf = m->max_forwards;
	size_t n = 0;

	if (!h)
		return sip_edit_splice(e, first_header(m), 0, STR_LIT("Max-Forwards: 70\r\n"));
	if (mf < 0)
		return -EINVAL; /* present but unusable: never add a second one */
	if (mf == 0)
		return -ERANGE;
	mf--;
	if (mf >= 100)
		scratch[n++] = (char)('0' + mf / 100);
	if (mf >= 10)
		scratch[n++] = (char)('0' + mf / 10 % 10);
	scratch[n++] = (char)('0' + mf % 10);
	return sip_edit_splice(e, h->value.s, h->value.len, str_make(scratch, n));
}
