/* One audio stream of a call: RTP/RTCP (RFC 3550) carrying G.711 (PCMU or
 * PCMA, 8 kHz, 20 ms packets), RFC 4733 DTMF events, a jitter buffer on
 * receive, audio played from a WAV file and recorded to one.
 *
 * The stream owns two UDP sockets (RTP on an even port, RTCP on the next),
 * registered on the caller's event loop; a 20 ms timer on that loop sends
 * the next packet. Symmetric RTP (RFC 4961): with `symmetric` set, the
 * remote address follows the source of the packets received, so a caller
 * behind NAT is reached where it really is. Single threaded: every call from
 * the loop's thread. */
#ifndef SIPHON_MEDIA_MEDIA_H
#define SIPHON_MEDIA_MEDIA_H

#include "base/loop.h"
#include "transport/addr.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct media_stream;

struct media_cfg {
	/* Local IP to bind ("127.0.0.1", "::1"); the port pair is chosen from
	 * port_min..port_max (even RTP port), or any free pair when both 0. */
	const char *local_ip;
	uint16_t port_min, port_max;
	const char *play_wav;   /* NULL: send silence; played once, then silence */
	bool play_loop;         /* restart the file at its end */
	const char *record_wav; /* NULL: do not record; written as 8 kHz 16-bit mono PCM */
	bool symmetric;         /* RFC 4961 symmetric RTP (default on in the UA) */
	unsigned jitter_ms;     /* jitter buffer depth; 0: 60 ms */
	/* A DTMF digit received (RFC 4733 end of event), '0'-'9', '*', '#', 'A'-'D'. */
	void (*on_dtmf)(char digit, unsigned duration_ms, void *arg);
	void *arg;
	/* addition: mean RTCP report interval (randomised by +-50%); 0: 5000 ms */
	unsigned rtcp_interval_ms;
};

struct media_stats {
	/* RTP packets (audio and events) and their payload octets, as RTCP
	 * counts them; received: of the negotiated payload types only */
	uint64_t pkts_sent, pkts_recv, bytes_sent, bytes_recv;
	uint64_t pkts_lost;      /* from sequence gaps (RFC 3550 A.3) */
	uint64_t pkts_late;      /* arrived after their playout time, dropped */
	double jitter_ms;        /* RFC 3550 A.8 interarrival jitter */
	uint32_t dtmf_sent, dtmf_recv;
	/* additions (issue 6 media layer) */
	uint64_t pkts_concealed;  /* missing packets played as concealment */
	uint64_t rtcp_sent, rtcp_recv;
	double rtt_ms;            /* round trip from the peer's RTCP reports; 0 until known */
	int64_t remote_lost;      /* the peer's count of our packets lost (its RTCP reports) */
	double remote_jitter_ms;  /* the peer's interarrival jitter of our packets */
	bool remote_bye;          /* the peer sent an RTCP BYE */
};

/* Bind the sockets (no packets flow yet). Returns 0, -EADDRINUSE when no
 * port pair is free, -ENOENT / -EINVAL for an unreadable or unsupported
 * WAV (accepted: PCM 16-bit mono 8 kHz; other rates and stereo are
 * converted), or another negative errno. */
int media_create(struct media_stream **out, struct loop *loop, const struct media_cfg *cfg);
/* The bound RTP address (for the SDP). */
const struct tp_addr *media_local(const struct media_stream *m);
/* Start (or re-target) the stream: send to remote with payload type pt (0
 * PCMU, 8 PCMA), telephone-event on te_pt (0: none). send/recv say what
 * flows (hold: send false or recv false per the SDP direction). remote NULL
 * keeps the current one (none yet: nothing is sent until symmetric RTP
 * learns it); 0.0.0.0 / :: (RFC 3264 §8.4 hold) means send nothing. Returns
 * 0, -EINVAL (pt not 0/8, te_pt >= 128 or == pt, remote of the other
 * address family or port 0) or -ENOMEM. */
int media_start(struct media_stream *m, const struct tp_addr *remote, uint8_t pt, uint8_t te_pt,
		bool send, bool recv);
/* Queue DTMF digits ("123#") as RFC 4733 events, one after another (each
 * 100 ms of tone then a gap); -ENOTSUP when te_pt is 0, -EINVAL for a bad
 * digit (nothing queued), -ENOSPC beyond 64 queued digits. */
int media_send_dtmf(struct media_stream *m, const char *digits);
void media_get_stats(const struct media_stream *m, struct media_stats *out);
/* Stop sending, send an RTCP BYE, finish the WAV recording (header
 * fixed up), close the sockets and free everything. NULL is a no-op. */
void media_destroy(struct media_stream *m);

/* G.711 (ITU-T G.711) sample conversions, exported for tests and tools. */
uint8_t media_ulaw_encode(int16_t pcm);
int16_t media_ulaw_decode(uint8_t u);
uint8_t media_alaw_encode(int16_t pcm);
int16_t media_alaw_decode(uint8_t a);

#endif
