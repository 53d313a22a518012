/* One RTP audio stream: sockets, the 20 ms clock and the sending side.
 *
 * The clock is a loop timer re-armed for an absolute due time (start +
 * n * 20 ms), never "now + 20", so timer latency does not accumulate: a
 * late tick sends the frames that are due at once. After a long stall (the
 * process was stopped) the missed frames are skipped instead, with the RTP
 * timestamp still moving with the wall clock and silence in the
 * recording. Each frame sends one packet (audio, or a DTMF event in its
 * place), plays one frame out of the jitter buffer and records it. */
#include "media/stream_int.h"

#include "base/log.h"
#include "base/mem.h"

#include <errno.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Frames we may be late by before skipping instead of catching up. */
#define MEDIA_MAX_CATCHUP 10
#define MEDIA_PORT_TRIES 64
#define MEDIA_DEFAULT_JITTER_MS 60

uint64_t media_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* The same clock and truncation as the loop's timers. */
uint64_t media_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t media_ntp_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	/* seconds since 1900, and the fraction in 1/2^32 s */
	return ((uint64_t)ts.tv_sec + 2208988800u) << 32 |
	       (((uint64_t)ts.tv_nsec << 32) / 1000000000u);
}

void media_random(void *buf, size_t len)
{
	if (RAND_bytes(buf, (int)len) == 1)
		return;
	/* OpenSSL without entropy: the kernel's generator directly */
	for (size_t got = 0; got < len;) {
		ssize_t r = getrandom((uint8_t *)buf + got, len - got, 0);

		if (r > 0)
			got += (size_t)r;
	}
}

static uint32_t random32(void)
{
	uint32_t v;

	media_random(&v, sizeof(v));
	return v;
}

/* ---- sockets ---- */

static int bind_one(const struct tp_addr *a, int *out)
{
	int one = 1, fd, err;

	fd = socket(a->ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (a->ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&a->ss, a->len) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	*out = fd;
	return 0;
}

static int local_of(int fd, struct tp_addr *a)
{
	a->len = sizeof(a->ss);
	if (getsockname(fd, (struct sockaddr *)&a->ss, &a->len) < 0)
		return -errno;
	return 0;
}

/* RTP on port (0: any even one the kernel gives), RTCP on the next. */
static int bind_pair(struct media_stream *m, struct tp_addr *ip, uint16_t port)
{
	int err;

	tp_addr_set_port(ip, port);
	if ((err = bind_one(ip, &m->fd_rtp)) < 0)
		return err;
	if ((err = local_of(m->fd_rtp, &m->local)) < 0)
		goto fail;
	port = tp_addr_port(&m->local);
	if (port % 2 || port == 65535) {
		err = -EADDRINUSE; /* an odd port from the kernel: try again */
		goto fail;
	}
	tp_addr_set_port(ip, (uint16_t)(port + 1));
	if ((err = bind_one(ip, &m->fd_rtcp)) < 0)
		goto fail;
	if ((err = local_of(m->fd_rtcp, &m->local_rtcp)) < 0) {
		close(m->fd_rtcp);
		m->fd_rtcp = -1;
		goto fail;
	}
	return 0;
fail:
	close(m->fd_rtp);
	m->fd_rtp = -1;
	return err;
}

static int bind_ports(struct media_stream *m, const struct media_cfg *cfg)
{
	struct tp_addr ip;
	const char *host = cfg->local_ip ? cfg->local_ip : "0.0.0.0";
	unsigned lo, hi, npairs, start;
	int err = -EADDRINUSE;

	if (tp_addr_from_numeric(&ip, str_cstr(host), 0) < 0)
		return -EINVAL;
	if (!cfg->port_min && !cfg->port_max) {
		for (int i = 0; i < MEDIA_PORT_TRIES; i++) {
			err = bind_pair(m, &ip, 0);
			if (err != -EADDRINUSE)
				return err;
		}
		return -EADDRINUSE;
	}
	lo = cfg->port_min ? cfg->port_min : 1024;
	hi = cfg->port_max ? cfg->port_max : 65535;
	lo += lo % 2;
	if (lo == 0 || hi < lo + 1)
		return -EINVAL;
	npairs = (hi - lo - 1) / 2 + 1;
	/* from a random pair, so that concurrent calls rarely collide */
	start = random32() % npairs;
	for (unsigned i = 0; i < npairs; i++) {
		err = bind_pair(m, &ip, (uint16_t)(lo + 2 * ((start + i) % npairs)));
		if (err != -EADDRINUSE)
			return err;
	}
	return -EADDRINUSE;
}

/* ---- life cycle ---- */

int media_create(struct media_stream **out, struct loop *loop, const struct media_cfg *cfg)
{
	struct media_stream *m;
	uint8_t rnd[12];
	int err;

	if (!out || !loop || !cfg)
		return -EINVAL;
	m = mem_zalloc(sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->loop = loop;
	m->fd_rtp = m->fd_rtcp = -1;
	m->rec.fd = -1;
	m->symmetric = cfg->symmetric;
	m->on_dtmf = cfg->on_dtmf;
	m->arg = cfg->arg;
	m->play_loop = cfg->play_loop;
	m->rtcp_interval_ms = cfg->rtcp_interval_ms ? cfg->rtcp_interval_ms : MEDIA_RTCP_INTERVAL_MS;
	jb_init(&m->jb, cfg->jitter_ms ? cfg->jitter_ms : MEDIA_DEFAULT_JITTER_MS);

	if (cfg->play_wav && (err = media_wav_load(cfg->play_wav, &m->play, &m->nplay)) < 0)
		goto fail;
	if ((err = bind_ports(m, cfg)) < 0)
		goto fail;
	if (cfg->record_wav) {
		if ((err = wav_writer_open(&m->rec, cfg->record_wav)) < 0)
			goto fail;
		m->recording = true;
	}
	/* RFC 3550 §5.1, §8: random SSRC, initial sequence number and
	 * timestamp; RFC 7022: a random CNAME per session */
	m->ssrc = random32();
	m->seq = (uint16_t)random32();
	m->ts = random32();
	media_random(rnd, sizeof(rnd));
	for (size_t i = 0; i < sizeof(rnd); i++) {
		static const char hex[] = "0123456789abcdef";

		m->cname[2 * i] = hex[rnd[i] >> 4];
		m->cname[2 * i + 1] = hex[rnd[i] & 15];
	}
	if ((err = loop_fd_add(loop, m->fd_rtp, LOOP_READ, media_rx_rtp, m)) < 0)
		goto fail;
	if ((err = loop_fd_add(loop, m->fd_rtcp, LOOP_READ, media_rx_rtcp, m)) < 0) {
		loop_fd_del(loop, m->fd_rtp);
		goto fail;
	}
	*out = m;
	return 0;
fail:
	if (m->recording)
		wav_writer_close(&m->rec);
	if (m->fd_rtp >= 0)
		close(m->fd_rtp);
	if (m->fd_rtcp >= 0)
		close(m->fd_rtcp);
	mem_free(m->play);
	mem_free(m);
	return err;
}

const struct tp_addr *media_local(const struct media_stream *m)
{
	return &m->local;
}

static void on_tick(void *arg);
static void on_rtcp_timer(void *arg);

/* RFC 3550 §6.3.1: the interval randomised over [0.5, 1.5] times. */
static uint64_t rtcp_interval(unsigned base_ms)
{
	return base_ms / 2 + random32() % (base_ms + 1);
}

/* 0.0.0.0 or :: (RFC 3264 §8.4 hold): nothing may be sent there (Linux
 * would deliver it to ourselves). */
static bool unspecified(const struct tp_addr *a)
{
	if (a->ss.ss_family == AF_INET)
		return ((const struct sockaddr_in *)&a->ss)->sin_addr.s_addr == 0;
	return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)&a->ss)->sin6_addr);
}

int media_start(struct media_stream *m, const struct tp_addr *remote, uint8_t pt, uint8_t te_pt,
		bool send, bool recv)
{
	int err;

	if (pt != 0 && pt != 8)
		return -EINVAL;
	if (te_pt >= 128 || (te_pt && te_pt == pt))
		return -EINVAL;
	if (remote && (remote->ss.ss_family != m->local.ss.ss_family || !tp_addr_port(remote)))
		return -EINVAL;
	if (remote && unspecified(remote)) {
		m->have_remote = false; /* until symmetric RTP finds the peer */
		m->rtcp_latched = false;
	} else if (remote && (!m->have_remote || !tp_addr_equal(remote, &m->remote))) {
		m->remote = *remote;
		m->remote_rtcp = *remote;
		tp_addr_set_port(&m->remote_rtcp, (uint16_t)(tp_addr_port(remote) + 1));
		m->have_remote = true;
		m->rtcp_latched = false;
	}
	if (!te_pt)
		memset(&m->dtx, 0, sizeof(m->dtx)); /* nothing to send DTMF with */
	if (send && (!m->send || !m->started))
		m->spurt = true;
	if (!recv)
		jb_reset(&m->jb);
	m->pt = pt;
	m->te_pt = te_pt;
	m->send = send;
	m->recv = recv;
	if (!m->started) {
		/* the first frame now, then every 20 ms from here */
		m->next_ms = media_mono_ms();
		if ((err = loop_timer_add(m->loop, &m->tick, 0, on_tick, m)) < 0)
			return err;
		if ((err = loop_timer_add(m->loop, &m->rtcp_timer,
					  rtcp_interval(m->rtcp_interval_ms / 2), on_rtcp_timer,
					  m)) < 0) {
			loop_timer_cancel(m->loop, &m->tick);
			return err;
		}
		m->started = true;
	}
	return 0;
}

int media_send_dtmf(struct media_stream *m, const char *digits)
{
	if (!digits)
		return -EINVAL;
	if (!m->te_pt)
		return -ENOTSUP;
	return dtmf_tx_queue(&m->dtx, digits);
}

void media_get_stats(const struct media_stream *m, struct media_stats *out)
{
	*out = m->st;
	if (m->have_src) {
		int64_t lost = rtp_source_lost(&m->src);

		out->pkts_lost = lost > 0 ? (uint64_t)lost : 0;
		out->jitter_ms = m->src.jitter * 1000.0 / MEDIA_RATE;
	}
	out->pkts_late = m->jb.late;
	out->pkts_concealed = m->jb.concealed;
}

void media_free(struct media_stream *m)
{
	loop_timer_cancel(m->loop, &m->tick);
	loop_timer_cancel(m->loop, &m->rtcp_timer);
	if (m->recording)
		wav_writer_close(&m->rec);
	loop_fd_del(m->loop, m->fd_rtp);
	loop_fd_del(m->loop, m->fd_rtcp);
	close(m->fd_rtp);
	close(m->fd_rtcp);
	mem_free(m->play);
	mem_free(m);
}

void media_destroy(struct media_stream *m)
{
	if (!m || m->doomed)
		return;
	loop_timer_cancel(m->loop, &m->tick);
	loop_timer_cancel(m->loop, &m->rtcp_timer);
	if (m->started && m->have_remote)
		media_send_rtcp(m, true);
	m->started = false;
	if (m->in_cb) {
		/* called from on_dtmf: the receive path frees it on return */
		m->doomed = true;
		return;
	}
	media_free(m);
}

void media_emit_dtmf(char digit, unsigned duration_ms, void *arg)
{
	struct media_stream *m = arg;

	m->st.dtmf_recv++;
	if (!m->on_dtmf || m->doomed)
		return;
	m->in_cb++;
	m->on_dtmf(digit, duration_ms, m->arg);
	m->in_cb--;
}

/* ---- sending ---- */

static void send_rtp(struct media_stream *m, uint8_t pt, bool marker, uint32_t ts,
		     const uint8_t *payload, size_t len)
{
	uint8_t buf[RTP_HDR_LEN + JB_MAX_PAYLOAD];
	struct rtp_pkt p = { .marker = marker, .pt = pt, .seq = m->seq, .ts = ts, .ssrc = m->ssrc,
			     .payload = payload, .plen = len };
	int n = rtp_build(buf, sizeof(buf), &p);
	ssize_t w;

	m->seq++; /* a packet the kernel refused is a lost one for the peer */
	if (n < 0)
		return;
	w = sendto(m->fd_rtp, buf, (size_t)n, 0, (const struct sockaddr *)&m->remote.ss,
		   m->remote.len);
	if (w < 0) {
		log_debug("media", "RTP send: %s", strerror(errno));
		return;
	}
	m->st.pkts_sent++;
	m->st.bytes_sent += len;
	m->sent_since_report = true;
}

/* The next 20 ms of the file (silence after its end, unless it loops). */
static void next_audio(struct media_stream *m, int16_t pcm[MEDIA_FRAME])
{
	size_t have = 0;

	while (have < MEDIA_FRAME && m->nplay) {
		size_t k;

		if (m->play_pos >= m->nplay) {
			if (!m->play_loop)
				break;
			m->play_pos = 0;
		}
		k = m->nplay - m->play_pos;
		if (k > MEDIA_FRAME - have)
			k = MEDIA_FRAME - have;
		memcpy(pcm + have, m->play + m->play_pos, k * sizeof(*pcm));
		have += k;
		m->play_pos += k;
	}
	memset(pcm + have, 0, (MEDIA_FRAME - have) * sizeof(*pcm));
}

static void send_frame(struct media_stream *m)
{
	uint8_t ev[DTMF_EVENT_LEN], payload[MEDIA_FRAME];
	int16_t pcm[MEDIA_FRAME];
	uint32_t ts;
	bool marker, done;

	if (m->te_pt && dtmf_tx_tick(&m->dtx, m->ts, ev, &marker, &ts, &done)) {
		/* an event replaces the audio (RFC 4733 §2.5.1.1) */
		send_rtp(m, m->te_pt, marker, ts, ev, sizeof(ev));
		if (done)
			m->st.dtmf_sent++;
		m->spurt = true;
		return;
	}
	next_audio(m, pcm);
	media_g711_encode(m->pt, pcm, MEDIA_FRAME, payload);
	send_rtp(m, m->pt, m->spurt, m->ts, payload, MEDIA_FRAME);
	m->spurt = false;
}

static void record(struct media_stream *m, const int16_t *pcm)
{
	int err;

	if (!m->recording)
		return;
	if ((err = wav_writer_write(&m->rec, pcm, MEDIA_FRAME)) < 0) {
		log_warn("media", "recording stopped: %s", strerror(-err));
		wav_writer_close(&m->rec);
		m->recording = false;
	}
}

static void frame(struct media_stream *m, uint64_t now_ms)
{
	int16_t out[MEDIA_FRAME];

	if (m->send && m->have_remote)
		send_frame(m);
	m->ts += MEDIA_FRAME; /* the RTP clock runs on, also on hold */
	if (m->recv)
		jb_get(&m->jb, out);
	else
		memset(out, 0, sizeof(out));
	record(m, out);
	dtmf_rx_poll(&m->drx, now_ms, MEDIA_DTMF_TIMEOUT_MS, media_emit_dtmf, m);
}

static void on_tick(void *arg)
{
	struct media_stream *m = arg;
	uint64_t now = media_mono_ms();

	if (now >= m->next_ms + MEDIA_MAX_CATCHUP * MEDIA_PTIME_MS) {
		/* stalled: skip to the frame due now, time still passing */
		uint64_t skip = (now - m->next_ms) / MEDIA_PTIME_MS;
		int16_t zero[MEDIA_FRAME] = { 0 };

		log_debug("media", "clock stalled, %llu frames skipped", (unsigned long long)skip);
		m->ts += (uint32_t)(skip * MEDIA_FRAME);
		m->next_ms += skip * MEDIA_PTIME_MS;
		m->spurt = true;
		for (uint64_t i = 0; i < skip && m->recording; i++)
			record(m, zero);
	}
	while (m->next_ms <= now) {
		frame(m, now);
		if (m->doomed) {
			media_free(m);
			return;
		}
		m->next_ms += MEDIA_PTIME_MS;
	}
	now = media_mono_ms();
	if (loop_timer_add(m->loop, &m->tick, m->next_ms > now ? m->next_ms - now : 0, on_tick,
			   m) < 0)
		log_err("media", "cannot re-arm the media clock");
}

static void on_rtcp_timer(void *arg)
{
	struct media_stream *m = arg;

	if (m->have_remote)
		media_send_rtcp(m, false);
	loop_timer_add(m->loop, &m->rtcp_timer, rtcp_interval(m->rtcp_interval_ms),
		       on_rtcp_timer, m);
}
