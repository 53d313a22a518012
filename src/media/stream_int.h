/* The stream object, shared by stream.c (life cycle, the 20 ms clock,
 * sending) and stream_rx.c (receiving RTP and RTCP, reports). */
#ifndef SIPHON_MEDIA_STREAM_INT_H
#define SIPHON_MEDIA_STREAM_INT_H

#include "media/media.h"
#include "media/media_int.h"

#define MEDIA_RX_BUF 2048
/* A packet of another SSRC replaces the current source only once the
 * current one has been silent this long (a restarted or transferred
 * peer), so a stray or spoofed stream cannot take over a live call. */
#define MEDIA_SRC_SWITCH_MS 500
/* A DTMF event whose packets stop for this long is ended (end lost). */
#define MEDIA_DTMF_TIMEOUT_MS 1000
#define MEDIA_RTCP_INTERVAL_MS 5000 /* RFC 3550 §6.2 minimum, randomised by ±50% */

struct media_stream {
	struct loop *loop;
	int fd_rtp, fd_rtcp;
	struct tp_addr local, local_rtcp;
	bool symmetric;
	void (*on_dtmf)(char digit, unsigned duration_ms, void *arg);
	void *arg;
	unsigned in_cb;   /* inside on_dtmf: media_destroy is deferred */
	bool doomed;      /* media_destroy was called from on_dtmf */

	/* media_start */
	bool started;
	bool have_remote;
	struct tp_addr remote, remote_rtcp;
	bool rtcp_latched; /* remote_rtcp learned from received RTCP */
	uint8_t pt, te_pt;
	bool send, recv;

	/* sending */
	uint32_t ssrc;
	uint16_t seq;
	uint32_t ts;      /* RTP timestamp of the next frame */
	bool spurt;       /* the next audio packet starts a talkspurt: marker */
	bool sent_since_report;
	int16_t *play;    /* the WAV file at 8 kHz mono */
	size_t nplay, play_pos;
	bool play_loop;
	struct dtmf_tx dtx;
	struct loop_timer tick;
	uint64_t next_ms; /* monotonic ms when the next frame is due */

	/* receiving */
	bool have_src;
	uint32_t src_ssrc;
	uint64_t src_seen_ms;
	struct rtp_source src;
	struct jbuf jb;
	struct dtmf_rx drx;
	bool recording;
	struct wav_writer rec;

	/* RTCP */
	struct loop_timer rtcp_timer;
	unsigned rtcp_interval_ms;
	char cname[32];
	bool have_lsr;
	uint32_t lsr;     /* middle bits of the last SR received, and when */
	uint64_t lsr_us;

	struct media_stats st;
	uint8_t rxbuf[MEDIA_RX_BUF];
};

uint64_t media_mono_ms(void);
/* NTP timestamp (RFC 3550 §4) of the wall clock now. */
uint64_t media_ntp_now(void);

void media_rx_rtp(int fd, unsigned events, void *arg);
void media_rx_rtcp(int fd, unsigned events, void *arg);
/* Send a compound RTCP report (with a BYE when bye). */
void media_send_rtcp(struct media_stream *m, bool bye);
/* Deliver a digit to cfg.on_dtmf (a dtmf_emit_fn; arg is the stream). */
void media_emit_dtmf(char digit, unsigned duration_ms, void *arg);
/* Free everything now (media_destroy, or after a deferred one). */
void media_free(struct media_stream *m);

#endif
