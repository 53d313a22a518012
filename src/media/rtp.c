/* RTP fixed header (RFC 3550 §5.1) and the receiver's per-source
 * statistics: sequence validation and loss (appendix A.1, A.3) and the
 * interarrival jitter (A.8). */
#include "media/media_int.h"

#include <errno.h>
#include <string.h>

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

bool rtp_is_rtcp(const uint8_t *buf, size_t len)
{
	/* RFC 5761 §4: RTCP packet types 192-223 in the second octet, where
	 * RTP has the marker bit and a payload type 64-95 */
	return len >= 2 && buf[1] >= 192 && buf[1] <= 223;
}

int rtp_parse(struct rtp_pkt *p, const uint8_t *buf, size_t len)
{
	size_t off, end = len;
	unsigned cc;

	if (len < RTP_HDR_LEN || (buf[0] >> 6) != RTP_VERSION || rtp_is_rtcp(buf, len))
		return -EINVAL;
	cc = buf[0] & 0x0F;
	off = RTP_HDR_LEN + 4u * cc;
	if (off > len)
		return -EINVAL;
	if (buf[0] & 0x10) { /* header extension: profile word, length in words */
		if (off + 4 > len)
			return -EINVAL;
		off += 4 + 4u * get16(buf + off + 2);
		if (off > len)
			return -EINVAL;
	}
	if (buf[0] & 0x20) { /* padding: the last octet counts itself too */
		uint8_t pad = buf[len - 1];

		if (pad == 0 || pad > len - off)
			return -EINVAL;
		end = len - pad;
	}
	p->marker = (buf[1] & 0x80) != 0;
	p->pt = buf[1] & 0x7F;
	p->seq = get16(buf + 2);
	p->ts = get32(buf + 4);
	p->ssrc = get32(buf + 8);
	p->payload = buf + off;
	p->plen = end - off;
	return 0;
}

int rtp_build(uint8_t *buf, size_t cap, const struct rtp_pkt *p)
{
	if (cap < RTP_HDR_LEN || p->plen > cap - RTP_HDR_LEN)
		return -ENOSPC;
	buf[0] = RTP_VERSION << 6;
	buf[1] = (uint8_t)((p->marker ? 0x80 : 0) | (p->pt & 0x7F));
	put16(buf + 2, p->seq);
	put32(buf + 4, p->ts);
	put32(buf + 8, p->ssrc);
	if (p->plen)
		memcpy(buf + RTP_HDR_LEN, p->payload, p->plen);
	return (int)(RTP_HDR_LEN + p->plen);
}

/* ---- RFC 3550 A.1: sequence number validation ---- */

#define RTP_SEQ_MOD (1u << 16)
#define MAX_DROPOUT 3000
#define MAX_MISORDER 100
/* A.1 suggests 2 sequential packets before a source is valid; a call has
 * one known peer (its address came from the SDP), so audio plays from the
 * first packet. */
#define MIN_SEQUENTIAL 1

static void init_seq(struct rtp_source *s, uint16_t seq)
{
	s->base_seq = seq;
	s->max_seq = seq;
	s->bad_seq = RTP_SEQ_MOD + 1; /* so seq == bad_seq is false */
	s->cycles = 0;
	s->received = 0;
	s->received_prior = 0;
	s->expected_prior = 0;
}

void rtp_source_init(struct rtp_source *s, uint16_t seq)
{
	memset(s, 0, sizeof(*s));
	init_seq(s, seq);
	s->max_seq = (uint16_t)(seq - 1);
	s->probation = MIN_SEQUENTIAL;
}

bool rtp_source_update(struct rtp_source *s, uint16_t seq)
{
	uint16_t udelta = (uint16_t)(seq - s->max_seq);

	if (s->probation) {
		/* packet is in sequence */
		if (seq == (uint16_t)(s->max_seq + 1)) {
			s->probation--;
			s->max_seq = seq;
			if (s->probation == 0) {
				init_seq(s, seq);
				s->received++;
				return true;
			}
		} else {
			s->probation = MIN_SEQUENTIAL - 1;
			s->max_seq = seq;
		}
		return false;
	} else if (udelta < MAX_DROPOUT) {
		/* in order, with permissible gap */
		if (seq < s->max_seq)
			s->cycles += RTP_SEQ_MOD; /* sequence number wrapped */
		s->max_seq = seq;
	} else if (udelta <= RTP_SEQ_MOD - MAX_MISORDER) {
		/* the sequence number made a very large jump */
		if (seq == s->bad_seq) {
			/* two sequential packets: assume the other side restarted
			 * without telling us, so just re-sync */
			init_seq(s, seq);
		} else {
			s->bad_seq = (seq + 1) & (RTP_SEQ_MOD - 1);
			return false;
		}
	} else {
		/* duplicate or reordered packet */
	}
	s->received++;
	return true;
}

uint32_t rtp_source_ext_max(const struct rtp_source *s)
{
	return s->cycles + s->max_seq;
}

uint32_t rtp_source_expected(const struct rtp_source *s)
{
	return rtp_source_ext_max(s) - s->base_seq + 1;
}

int64_t rtp_source_lost(const struct rtp_source *s)
{
	if (!s->received)
		return 0;
	return (int64_t)rtp_source_expected(s) - (int64_t)s->received;
}

uint8_t rtp_source_fraction(struct rtp_source *s)
{
	uint32_t expected = rtp_source_expected(s);
	uint32_t expected_interval = expected - s->expected_prior;
	uint32_t received_interval = s->received - s->received_prior;
	int64_t lost_interval = (int64_t)expected_interval - (int64_t)received_interval;

	if (!s->received)
		return 0;
	s->expected_prior = expected;
	s->received_prior = s->received;
	if (expected_interval == 0 || lost_interval <= 0)
		return 0;
	return (uint8_t)(((uint64_t)lost_interval << 8) / expected_interval);
}

/* ---- RFC 3550 A.8: interarrival jitter ---- */

void rtp_source_jitter(struct rtp_source *s, uint32_t arrival, uint32_t ts)
{
	uint32_t transit = arrival - ts;
	int32_t d;

	if (!s->have_transit) {
		s->have_transit = true;
		s->transit = transit;
		return;
	}
	d = (int32_t)(transit - s->transit);
	s->transit = transit;
	if (d < 0)
		d = d == INT32_MIN ? INT32_MAX : -d;
	s->jitter += (1.0 / 16.0) * ((double)d - s->jitter);
}
