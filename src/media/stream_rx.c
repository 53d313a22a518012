/* The receiving side of a stream: RTP into the statistics, the jitter
 * buffer and the DTMF detector; RTCP reports in and out. */
#include "media/stream_int.h"

#include "base/log.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

/* Datagrams read per wake-up before yielding to the other fds. */
#define MEDIA_RX_BATCH 64

static void latch(struct media_stream *m, const struct tp_addr *src)
{
	char a[64], b[64];

	if (m->have_remote && tp_addr_equal(src, &m->remote))
		return;
	log_debug("media", "symmetric RTP: sending to %s (was %s)", tp_addr_fmt(src, a, sizeof(a)),
		  m->have_remote ? tp_addr_fmt(&m->remote, b, sizeof(b)) : "none");
	m->remote = *src;
	m->have_remote = true;
	if (!m->rtcp_latched) {
		m->remote_rtcp = *src;
		tp_addr_set_port(&m->remote_rtcp, (uint16_t)(tp_addr_port(src) + 1));
	}
}

static void handle_rtcp(struct media_stream *m, const uint8_t *buf, size_t len,
			const struct tp_addr *src, bool own_port)
{
	struct rtcp_in in;

	if (rtcp_parse(&in, buf, len, m->ssrc) < 0) {
		log_debug("media", "dropped an invalid RTCP packet (%zu octets)", len);
		return;
	}
	m->st.rtcp_recv++;
	if (own_port && m->symmetric && m->started) {
		m->remote_rtcp = *src;
		m->rtcp_latched = true;
	}
	if (in.has_sr) {
		m->have_lsr = true;
		m->lsr = in.sr_lsr;
		m->lsr_us = media_mono_us();
	}
	if (in.has_rb) {
		m->st.remote_lost = in.rb.lost;
		m->st.remote_jitter_ms = in.rb.jitter * 1000.0 / MEDIA_RATE;
		if (in.rb.lsr) {
			/* RFC 3550 §6.4.1: A - LSR - DLSR, in 1/65536 s */
			uint32_t now = (uint32_t)(media_ntp_now() >> 16);
			int32_t rtt = (int32_t)(now - in.rb.lsr - in.rb.dlsr);

			if (rtt >= 0)
				m->st.rtt_ms = rtt * 1000.0 / 65536.0;
		}
	}
	if (in.bye)
		m->st.remote_bye = true;
}

static void handle_rtp(struct media_stream *m, const uint8_t *buf, size_t len,
		       const struct tp_addr *src)
{
	struct rtp_pkt p;
	uint64_t now_us, now_ms;

	if (rtp_is_rtcp(buf, len)) { /* RTCP multiplexed on the RTP port (RFC 5761) */
		handle_rtcp(m, buf, len, src, false);
		return;
	}
	if (rtp_parse(&p, buf, len) < 0) {
		log_debug("media", "dropped an invalid RTP packet (%zu octets)", len);
		return;
	}
	if (!m->started || !m->recv)
		return;
	if (p.pt != m->pt && (!m->te_pt || p.pt != m->te_pt))
		return; /* not negotiated (comfort noise, another codec): ignored */
	now_us = media_mono_us();
	now_ms = now_us / 1000;
	if (!m->have_src || p.ssrc != m->src_ssrc) {
		if (m->have_src && now_ms - m->src_seen_ms < MEDIA_SRC_SWITCH_MS)
			return;
		/* a new source: its own sequence space, buffer and events */
		m->have_src = true;
		m->src_ssrc = p.ssrc;
		rtp_source_init(&m->src, p.seq);
		jb_reset(&m->jb);
		memset(&m->drx, 0, sizeof(m->drx));
	}
	m->src_seen_ms = now_ms;
	if (!rtp_source_update(&m->src, p.seq))
		return; /* a jump in sequence numbers, not yet confirmed */
	if (m->symmetric)
		latch(m, src);
	m->st.pkts_recv++;
	m->st.bytes_recv += p.plen;
	if (p.pt == m->pt) {
		/* A.8 on audio only: an event's timestamp is its start */
		rtp_source_jitter(&m->src, (uint32_t)(now_us * MEDIA_RATE / 1000000u), p.ts);
		jb_put(&m->jb, p.seq, p.pt, false, p.payload, p.plen);
	} else {
		struct dtmf_event e;

		/* the event takes the place of audio in the playout */
		jb_put(&m->jb, p.seq, p.pt, true, NULL, 0);
		if (dtmf_event_parse(&e, p.payload, p.plen) == 0)
			dtmf_rx_packet(&m->drx, p.ts, &e, now_ms, media_emit_dtmf, m);
	}
}

/* Read up to a batch of datagrams. A stream destroyed from its on_dtmf
 * callback meanwhile is freed here, and nothing more is read. */
static void drain(struct media_stream *m, int fd, bool rtcp)
{
	for (int i = 0; i < MEDIA_RX_BATCH; i++) {
		struct tp_addr src;
		ssize_t n;

		memset(&src, 0, sizeof(src));
		src.len = sizeof(src.ss);
		n = recvfrom(fd, m->rxbuf, sizeof(m->rxbuf), MSG_TRUNC, (struct sockaddr *)&src.ss,
			     &src.len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return; /* EAGAIN, or an error reported by ICMP */
		}
		if ((size_t)n > sizeof(m->rxbuf))
			continue; /* truncated: not one of ours */
		if (rtcp)
			handle_rtcp(m, m->rxbuf, (size_t)n, &src, true);
		else
			handle_rtp(m, m->rxbuf, (size_t)n, &src);
		if (m->doomed) {
			media_free(m);
			return;
		}
	}
}

void media_rx_rtp(int fd, unsigned events, void *arg)
{
	(void)events;
	drain(arg, fd, false);
}

void media_rx_rtcp(int fd, unsigned events, void *arg)
{
	(void)events;
	drain(arg, fd, true);
}

void media_send_rtcp(struct media_stream *m, bool bye)
{
	uint8_t buf[256];
	struct rtcp_rb rb;
	struct rtcp_out o = { .ssrc = m->ssrc, .cname = m->cname, .bye = bye };
	uint64_t now_us = media_mono_us(), due_us = m->next_ms * 1000u;
	int n;

	o.sender = m->sent_since_report || (bye && m->st.pkts_sent);
	if (o.sender) {
		o.ntp = media_ntp_now();
		/* m->ts is the timestamp of the frame due at next_ms */
		o.rtp_ts = m->ts - (due_us > now_us ? (uint32_t)((due_us - now_us) * MEDIA_RATE /
								 1000000u)
						      : 0);
		o.pkts = (uint32_t)m->st.pkts_sent;
		o.octets = (uint32_t)m->st.bytes_sent;
	}
	if (m->have_src && m->src.received) {
		int64_t lost = rtp_source_lost(&m->src);

		memset(&rb, 0, sizeof(rb));
		rb.ssrc = m->src_ssrc;
		rb.fraction = rtp_source_fraction(&m->src);
		rb.lost = lost > INT32_MAX ? INT32_MAX : lost < INT32_MIN ? INT32_MIN : (int32_t)lost;
		rb.ext_max = rtp_source_ext_max(&m->src);
		rb.jitter = (uint32_t)m->src.jitter;
		if (m->have_lsr) {
			rb.lsr = m->lsr;
			rb.dlsr = (uint32_t)((now_us - m->lsr_us) * 65536u / 1000000u);
		}
		o.rb = &rb;
	}
	n = rtcp_build(buf, sizeof(buf), &o);
	if (n < 0)
		return;
	m->sent_since_report = false;
	if (sendto(m->fd_rtcp, buf, (size_t)n, 0, (const struct sockaddr *)&m->remote_rtcp.ss,
		   m->remote_rtcp.len) < 0) {
		log_debug("media", "RTCP send: %s", strerror(errno));
		return;
	}
	m->st.rtcp_sent++;
}
