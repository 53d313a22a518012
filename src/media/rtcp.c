/* RTCP (RFC 3550 §6): the compound packets we send (SR or RR with at most
 * one report block, SDES CNAME, BYE) and the validation of what we
 * receive. */
#include "media/media_int.h"

#include <errno.h>
#include <string.h>

#define RTCP_VERSION_BITS (RTP_VERSION << 6)

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Common header: V=2, P=0, count, type, length in 32-bit words minus one. */
static void hdr(uint8_t *p, unsigned count, uint8_t type, size_t len)
{
	p[0] = (uint8_t)(RTCP_VERSION_BITS | (count & 0x1F));
	p[1] = type;
	p[2] = (uint8_t)((len / 4 - 1) >> 8);
	p[3] = (uint8_t)(len / 4 - 1);
}

static void put_rb(uint8_t *p, const struct rtcp_rb *rb)
{
	int32_t lost = rb->lost;

	if (lost > 0x7FFFFF)
		lost = 0x7FFFFF;
	if (lost < -0x800000)
		lost = -0x800000;
	put32(p, rb->ssrc);
	put32(p + 4, (uint32_t)rb->fraction << 24 | ((uint32_t)lost & 0xFFFFFF));
	put32(p + 8, rb->ext_max);
	put32(p + 12, rb->jitter);
	put32(p + 16, rb->lsr);
	put32(p + 20, rb->dlsr);
}

int rtcp_build(uint8_t *buf, size_t cap, const struct rtcp_out *o)
{
	size_t cname_len = o->cname ? strlen(o->cname) : 0;
	size_t rep = (o->sender ? 28 : 8) + (o->rb ? 24 : 0);
	/* SDES: header, SSRC, CNAME item (type, length, text), END, padded */
	size_t sdes = (8 + 2 + cname_len + 1 + 3) & ~(size_t)3;
	size_t bye = o->bye ? 8 : 0;
	size_t off = 0;
	uint8_t *p;

	if (cname_len > 255)
		return -EINVAL;
	if (cap < rep + sdes + bye)
		return -ENOSPC;
	p = buf;
	if (o->sender) {
		hdr(p, o->rb ? 1 : 0, RTCP_SR, rep);
		put32(p + 4, o->ssrc);
		put32(p + 8, (uint32_t)(o->ntp >> 32));
		put32(p + 12, (uint32_t)o->ntp);
		put32(p + 16, o->rtp_ts);
		put32(p + 20, o->pkts);
		put32(p + 24, o->octets);
		off = 28;
	} else {
		hdr(p, o->rb ? 1 : 0, RTCP_RR, rep);
		put32(p + 4, o->ssrc);
		off = 8;
	}
	if (o->rb) {
		put_rb(p + off, o->rb);
		off += 24;
	}
	p = buf + off;
	memset(p, 0, sdes);
	hdr(p, 1, RTCP_SDES, sdes);
	put32(p + 4, o->ssrc);
	p[8] = 1; /* CNAME */
	p[9] = (uint8_t)cname_len;
	if (cname_len)
		memcpy(p + 10, o->cname, cname_len);
	/* the rest is zero: the END item and the padding to a word */
	off += sdes;
	if (o->bye) {
		p = buf + off;
		hdr(p, 1, RTCP_BYE, 8);
		put32(p + 4, o->ssrc);
		off += 8;
	}
	return (int)off;
}

int rtcp_parse(struct rtcp_in *in, const uint8_t *buf, size_t len, uint32_t our_ssrc)
{
	size_t off = 0;

	memset(in, 0, sizeof(*in));
	if (len < 4 || len % 4)
		return -EINVAL;
	while (off < len) {
		const uint8_t *p = buf + off;
		size_t plen, body;
		unsigned count;
		uint8_t type;

		if (len - off < 4 || (p[0] >> 6) != RTP_VERSION)
			return -EINVAL;
		count = p[0] & 0x1F;
		type = p[1];
		plen = ((size_t)get16(p + 2) + 1) * 4;
		if (type < 192 || type > 223 || plen > len - off)
			return -EINVAL;
		body = plen;
		if (p[0] & 0x20) { /* padding: only in the last packet */
			uint8_t pad = p[plen - 1];

			if (off + plen != len || pad == 0 || pad > plen - 4)
				return -EINVAL;
			body = plen - pad;
		}
		in->npkts++;
		switch (type) {
		case RTCP_SR:
		case RTCP_RR: {
			size_t fixed = type == RTCP_SR ? 28 : 8;

			if (body < fixed + 24u * count)
				return -EINVAL;
			if (type == RTCP_SR && !in->has_sr) {
				in->has_sr = true;
				in->sr_ssrc = get32(p + 4);
				in->sr_lsr = get32(p + 10);
			}
			for (unsigned i = 0; i < count; i++) {
				const uint8_t *b = p + fixed + 24u * i;
				uint32_t w = get32(b + 4);

				if (get32(b) != our_ssrc || in->has_rb)
					continue;
				in->has_rb = true;
				in->rb.ssrc = get32(b);
				in->rb.fraction = (uint8_t)(w >> 24);
				/* sign-extend the 24-bit count */
				in->rb.lost = (int32_t)((w & 0xFFFFFF) ^ 0x800000) - 0x800000;
				in->rb.ext_max = get32(b + 8);
				in->rb.jitter = get32(b + 12);
				in->rb.lsr = get32(b + 16);
				in->rb.dlsr = get32(b + 20);
			}
			break;
		}
		case RTCP_BYE:
			if (body < 4 + 4u * count)
				return -EINVAL;
			in->bye = true;
			break;
		case RTCP_SDES: {
			/* chunks: SSRC, items (type, length, text) up to a zero
			 * type, then padding to the next word */
			size_t q = 4;

			for (unsigned i = 0; i < count; i++) {
				if (q + 4 > body)
					return -EINVAL;
				q += 4;
				for (;;) {
					if (q >= body)
						return -EINVAL;
					if (p[q] == 0)
						break;
					if (q + 2 > body || q + 2 + p[q + 1] > body)
						return -EINVAL;
					q += 2u + p[q + 1];
				}
				q = (q + 4) & ~(size_t)3; /* the END octet, then to a word */
				if (q > body)
					return -EINVAL;
			}
			break;
		}
		default:
			break; /* APP, RTPFB, PSFB, XR, ...: not used */
		}
		off += plen;
	}
	return 0;
}
