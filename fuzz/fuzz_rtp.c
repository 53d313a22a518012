/* libFuzzer target for what a media stream takes from the network (and
 * the WAV files it reads): the RTP header parser (the payload must lie
 * inside the packet), the RTCP compound validator, the RFC 3550 A.1/A.3
 * sequence accounting and A.8 jitter, the RFC 4733 event parser and
 * detector, and the jitter buffer driven by packets made of the input
 * (its counts stay within bounds); an input starting with "RIFF" also goes
 * through the WAV decoder. */
#include "base/mem.h"
#include "media/media_int.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void emit(char digit, unsigned ms, void *arg)
{
	unsigned *n = arg;

	(void)ms;
	if (!digit)
		abort();
	(*n)++;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rtp_pkt p;
	struct rtcp_in in;
	struct rtp_source src;
	struct dtmf_rx rx;
	struct dtmf_event e;
	struct jbuf *jb;
	int16_t frame[MEDIA_FRAME];
	unsigned reported = 0;

	/* one datagram on the RTP port */
	if (rtp_parse(&p, data, size) == 0) {
		if (p.payload < data || p.plen > size || p.payload + p.plen > data + size ||
		    rtp_is_rtcp(data, size))
			abort();
		if (dtmf_event_parse(&e, p.payload, p.plen) == 0 && p.plen < DTMF_EVENT_LEN)
			abort();
	}
	/* ... or on the RTCP port */
	if (rtcp_parse(&in, data, size, size >= 8 ? rd32(data + 4) : 0) == 0) {
		if (size % 4 || in.npkts == 0 || in.npkts > size / 4)
			abort();
	}

	/* the input as a run of (seq, ts, flags) records: sequence
	 * accounting, jitter, events and the jitter buffer */
	jb = mem_alloc(sizeof(*jb));
	if (!jb)
		return 0;
	jb_init(jb, size ? data[0] * 4u : 60);
	memset(&rx, 0, sizeof(rx));
	if (size >= 2)
		rtp_source_init(&src, rd16(data));
	for (size_t off = 0; off + 8 <= size; off += 8) {
		const uint8_t *r = data + off;
		uint16_t seq = rd16(r);
		uint32_t ts = rd32(r + 2);
		uint8_t flags = r[6], len = r[7];

		if (rtp_source_update(&src, seq)) {
			rtp_source_jitter(&src, (uint32_t)off * 20, ts);
			if (flags & 1) {
				e.event = (uint8_t)(flags >> 3);
				e.end = flags & 2;
				e.volume = 10;
				e.duration = (uint16_t)(len * 40);
				dtmf_rx_packet(&rx, ts, &e, off, emit, &reported);
				jb_put(jb, seq, 101, true, NULL, 0);
			} else {
				jb_put(jb, seq, flags & 2 ? 8 : 0, false, data, len < size ? len : size);
			}
		}
		if (flags & 4)
			jb_get(jb, frame);
		dtmf_rx_poll(&rx, off, 200, emit, &reported);
		if (jb->count > JB_SLOTS || jb->ncarry > JB_MAX_PAYLOAD + MEDIA_FRAME)
			abort();
	}
	if (size >= 2) {
		(void)rtp_source_lost(&src);
		(void)rtp_source_fraction(&src);
		if (src.jitter < 0)
			abort();
	}
	mem_free(jb);

	if (size >= 4 && memcmp(data, "RIFF", 4) == 0) {
		int16_t *pcm;
		size_t n;
		int rc = media_wav_decode(data, size, &pcm, &n);

		if (rc == 0) {
			if (n && !pcm)
				abort();
			mem_free(pcm);
		} else if (rc != -EINVAL && rc != -ENOMEM) {
			abort();
		}
	}
	return 0;
}
