/* Private parts of the media layer, shared by its files and the unit tests:
 * the RTP and RTCP packet formats (RFC 3550), the receive statistics of
 * RFC 3550 appendix A, the jitter buffer, RFC 4733 DTMF events and WAV
 * files. Everything here is pure logic over caller-owned state (no sockets,
 * no clock), so that each part is tested on its own. */
#ifndef SIPHON_MEDIA_MEDIA_INT_H
#define SIPHON_MEDIA_MEDIA_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MEDIA_RATE 8000   /* G.711 and telephone-event clock, Hz */
#define MEDIA_FRAME 160   /* samples per packet: 20 ms at 8 kHz */
#define MEDIA_PTIME_MS 20

/* ---- G.711 over buffers (g711.c) ---- */

/* Encode n samples with pt (0 PCMU, 8 PCMA) into out (n octets). */
void media_g711_encode(uint8_t pt, const int16_t *pcm, size_t n, uint8_t *out);
void media_g711_decode(uint8_t pt, const uint8_t *in, size_t n, int16_t *pcm);

/* ---- RTP fixed header (rtp.c) ---- */

#define RTP_HDR_LEN 12
#define RTP_VERSION 2

struct rtp_pkt {
	bool marker;
	uint8_t pt;
	uint16_t seq;
	uint32_t ts, ssrc;
	const uint8_t *payload; /* into the parsed buffer (parse) or copied from (build) */
	size_t plen;            /* without padding */
};

/* Validate and split an RTP packet: version 2, the CSRC list, a header
 * extension and the padding all inside len, payload type not one of
 * RTCP's (RFC 5761 §4). Returns 0 or -EINVAL. */
int rtp_parse(struct rtp_pkt *p, const uint8_t *buf, size_t len);
/* Whether a datagram on the RTP port is really RTCP (second octet 192-223,
 * RFC 5761 §4), e.g. from a peer that multiplexes. */
bool rtp_is_rtcp(const uint8_t *buf, size_t len);
/* Header (no CSRC, no extension, no padding) then the payload. Returns the
 * length or -ENOSPC. */
int rtp_build(uint8_t *buf, size_t cap, const struct rtp_pkt *p);

/* ---- receive statistics, RFC 3550 A.1, A.3 and A.8 ---- */

struct rtp_source {
	uint16_t max_seq;  /* highest seq. number seen */
	uint32_t cycles;   /* shifted count of seq. number cycles */
	uint32_t base_seq; /* base seq number */
	uint32_t bad_seq;  /* last 'bad' seq number + 1 */
	uint32_t probation;
	uint32_t received;
	uint32_t expected_prior, received_prior;
	bool have_transit;
	uint32_t transit;  /* relative transit time for prev packet */
	double jitter;     /* estimated jitter, timestamp units (A.8, not scaled) */
};

/* A new source whose first packet has seq (A.1 init + probation). */
void rtp_source_init(struct rtp_source *s, uint16_t seq);
/* A.1 update_seq: returns true when the packet is valid (in sequence, or a
 * resync after a big jump), false during probation or for a 'bad' jump. */
bool rtp_source_update(struct rtp_source *s, uint16_t seq);
/* A.3: extended highest sequence number, packets expected, cumulative lost
 * (negative with duplicates). */
uint32_t rtp_source_ext_max(const struct rtp_source *s);
uint32_t rtp_source_expected(const struct rtp_source *s);
int64_t rtp_source_lost(const struct rtp_source *s);
/* A.3: fraction lost since the previous call (8-bit fixed point). */
uint8_t rtp_source_fraction(struct rtp_source *s);
/* A.8: arrival in timestamp units (the same clock rate), ts of the packet. */
void rtp_source_jitter(struct rtp_source *s, uint32_t arrival, uint32_t ts);

/* ---- RTCP (rtcp.c) ---- */

#define RTCP_SR 200
#define RTCP_RR 201
#define RTCP_SDES 202
#define RTCP_BYE 203
#define RTCP_APP 204

struct rtcp_rb {            /* one report block (RFC 3550 §6.4.1) */
	uint32_t ssrc;
	uint8_t fraction;
	int32_t lost;           /* 24-bit signed, clamped */
	uint32_t ext_max, jitter, lsr, dlsr;
};

struct rtcp_out {
	uint32_t ssrc;
	bool sender;            /* SR (we sent since the last report) or RR */
	uint64_t ntp;           /* NTP timestamp of now (SR) */
	uint32_t rtp_ts;        /* the RTP timestamp matching ntp (SR) */
	uint32_t pkts, octets;  /* sender's counts (SR) */
	const struct rtcp_rb *rb; /* NULL: no report block */
	const char *cname;      /* SDES CNAME, mandatory in a compound packet */
	bool bye;
};

/* A compound packet: SR or RR, SDES CNAME, BYE when asked. Returns the
 * length or -ENOSPC / -EINVAL (CNAME longer than 255). */
int rtcp_build(uint8_t *buf, size_t cap, const struct rtcp_out *o);

struct rtcp_in {
	bool has_sr;
	uint32_t sr_ssrc;
	uint32_t sr_lsr;        /* middle 32 bits of the SR's NTP timestamp */
	bool has_rb;            /* a report block about our SSRC */
	struct rtcp_rb rb;
	bool bye;               /* a BYE naming sr_ssrc / any source */
	unsigned npkts;         /* packets in the compound */
};

/* Validate a compound RTCP packet (RFC 3550 A.2, relaxed for RFC 5506
 * reduced-size: every part version 2, types 192-223, lengths summing to
 * len, padding only in the last part) and pick out what we use. Returns 0 or
 * -EINVAL. */
int rtcp_parse(struct rtcp_in *in, const uint8_t *buf, size_t len, uint32_t our_ssrc);

/* ---- jitter buffer (jitter.c) ---- */

#define JB_SLOTS 64             /* 1.28 s of 20 ms packets */
#define JB_MAX_PAYLOAD 480      /* octets kept per packet (60 ms of G.711) */
#define JB_DRIFT_FRAMES 4       /* beyond the target depth: drop to catch up */

struct jb_slot {
	bool used;
	bool event;             /* RFC 4733 event: played as silence */
	uint8_t pt;
	uint16_t seq;
	uint16_t len;
	uint8_t data[JB_MAX_PAYLOAD];
};

struct jbuf {
	struct jb_slot slot[JB_SLOTS]; /* by seq % JB_SLOTS */
	unsigned depth;         /* target depth in 20 ms frames */
	bool anchored;          /* next_seq is meaningful */
	bool playing;           /* past the initial buffering */
	uint16_t next_seq;      /* the packet to play next */
	unsigned count;         /* packets held */
	unsigned waited;        /* frames spent buffering */
	int16_t carry[JB_MAX_PAYLOAD + MEDIA_FRAME]; /* decoded, not yet played */
	unsigned ncarry;
	int16_t last[MEDIA_FRAME]; /* the last frame played, for concealment */
	bool last_ok;
	unsigned conceal_run;   /* consecutive concealed packets */
	uint64_t late, dup, concealed, dropped;
};

void jb_init(struct jbuf *jb, unsigned depth_ms);
/* Forget every packet (a new source); the counters stay. */
void jb_reset(struct jbuf *jb);
/* Hold one packet (payload for pt 0 / 8, or an event). Returns 0, 1 when
 * it was late (its turn has passed: counted, dropped) or a duplicate. */
int jb_put(struct jbuf *jb, uint16_t seq, uint8_t pt, bool event, const uint8_t *payload,
	   size_t len);
/* The next 20 ms of audio to play (silence while buffering). */
void jb_get(struct jbuf *jb, int16_t out[MEDIA_FRAME]);

/* ---- RFC 4733 DTMF events (dtmf.c) ---- */

#define DTMF_EVENT_LEN 4
#define DTMF_TONE_FRAMES 5      /* 100 ms of tone */
#define DTMF_END_COPIES 3       /* the end packet is sent three times (§2.5.1.4) */
#define DTMF_GAP_FRAMES 2       /* then 40 ms of audio before the next digit */
#define DTMF_VOLUME 10          /* -10 dBm0 */
#define DTMF_QUEUE 64

struct dtmf_event {
	uint8_t event;          /* 0-9, 10 '*', 11 '#', 12-15 'A'-'D', 16 flash */
	bool end;
	uint8_t volume;
	uint16_t duration;      /* timestamp units */
};

/* '0'-'9', '*', '#', 'A'-'D' (either case) to an event code, or -EINVAL. */
int dtmf_digit_event(char digit);
/* Event code 0-15 to its digit, 0 for anything else. */
char dtmf_event_digit(uint8_t event);
void dtmf_event_build(uint8_t out[DTMF_EVENT_LEN], const struct dtmf_event *e);
int dtmf_event_parse(struct dtmf_event *e, const uint8_t *buf, size_t len);

/* Sending: a queue of digits played one after another. */
struct dtmf_tx {
	uint8_t queue[DTMF_QUEUE]; /* event codes */
	unsigned head, n;
	bool active;            /* an event being sent */
	uint8_t event;
	uint32_t ts;            /* the event's RTP timestamp */
	unsigned pkt;           /* packets sent for the current event */
	unsigned gap;           /* audio frames still owed before the next event */
};

/* Queue digits; -EINVAL (nothing queued) for a bad one, -ENOSPC when the
 * queue is full. */
int dtmf_tx_queue(struct dtmf_tx *t, const char *digits);
/* One 20 ms tick at audio timestamp now_ts: true when an event packet is
 * due instead of audio (payload, marker, ts filled; *done when it was the
 * last packet of a digit). */
bool dtmf_tx_tick(struct dtmf_tx *t, uint32_t now_ts, uint8_t payload[DTMF_EVENT_LEN],
		  bool *marker, uint32_t *ts, bool *done);
bool dtmf_tx_busy(const struct dtmf_tx *t);

/* Receiving: each event reported once. */
typedef void (*dtmf_emit_fn)(char digit, unsigned duration_ms, void *arg);

struct dtmf_rx {
	bool active;            /* an event started, its end not seen */
	uint32_t ts;            /* the current/last event's timestamp */
	uint8_t event;
	uint16_t duration;
	bool have_last;         /* last_ts is the latest event reported */
	uint32_t last_ts;
	uint64_t seen_ms;       /* when the active event was last updated */
};

/* One event packet (RTP timestamp ts) at now_ms; emit runs for each digit
 * completed (the end packet, or the previous event when a new timestamp
 * shows that its end packets were lost). Returns the number reported. */
unsigned dtmf_rx_packet(struct dtmf_rx *r, uint32_t ts, const struct dtmf_event *e,
			uint64_t now_ms, dtmf_emit_fn emit, void *arg);
/* An event whose packets stopped for timeout_ms is reported as ended. */
unsigned dtmf_rx_poll(struct dtmf_rx *r, uint64_t now_ms, uint64_t timeout_ms, dtmf_emit_fn emit,
		      void *arg);

/* ---- WAV files (wav.c) ---- */

/* Decode a RIFF/WAVE PCM 16-bit file image (mono or stereo, any rate from
 * 1 to 384 kHz) to 8 kHz mono in a mem_alloc'd buffer (*pcm, *n samples;
 * *pcm NULL when the file has no samples). Unknown chunks are skipped.
 * Returns 0, -EINVAL (malformed or unsupported) or -ENOMEM. */
int media_wav_decode(const uint8_t *buf, size_t len, int16_t **pcm, size_t *n);
/* The same from a file: -ENOENT, -EACCES, ... from open, -EINVAL, -ENOMEM. */
int media_wav_load(const char *path, int16_t **pcm, size_t *n);
/* Resample in (nin samples at rate Hz, mono) to 8 kHz: linear
 * interpolation up, a windowed-sinc low-pass (3.6 kHz) down; out holds
 * media_resample_len(nin, rate) samples. Returns 0 or -ENOMEM. */
size_t media_resample_len(size_t nin, uint32_t rate);
int media_resample(const int16_t *in, size_t nin, uint32_t rate, int16_t *out, size_t nout);

/* Writing 8 kHz 16-bit mono; the header's sizes are rewritten after every
 * write, so that the file is valid whenever the process stops. */
struct wav_writer {
	int fd;
	uint32_t bytes;         /* data chunk size so far */
};

#define WAV_HDR_LEN 44
#define WAV_MAX_DATA (UINT32_MAX - 36u - 1u) /* RIFF size must fit in 32 bits */

int wav_writer_open(struct wav_writer *w, const char *path);
int wav_writer_write(struct wav_writer *w, const int16_t *pcm, size_t n);
/* Fix the header a last time and close. Returns 0 or a negated errno. */
int wav_writer_close(struct wav_writer *w);

/* ---- time and randomness (util in stream.c) ---- */

uint64_t media_mono_us(void);
/* Random octets (OpenSSL RAND_bytes); falls back to getrandom(). */
void media_random(void *buf, size_t len);

#endif
