/* RFC 4733 telephone events for DTMF.
 *
 * Sending: each digit is DTMF_TONE_FRAMES packets 20 ms apart, all with the
 * timestamp of the event's start, the first with the marker bit, the
 * duration growing by 160 each time; then the final packet (E bit, the
 * full duration) three times at the same interval (§2.5.1.4); then
 * DTMF_GAP_FRAMES of audio before the next digit.
 *
 * Receiving: an event is identified by its timestamp. It is reported once,
 * at its first end packet (the two copies carry the same timestamp and are
 * ignored); when its end packets are all lost, a packet with a newer
 * timestamp (the next digit) or a silence of the event's packets
 * (dtmf_rx_poll) ends it. Packets older than the last reported event are
 * stale and ignored. */
#include "media/media_int.h"

#include <errno.h>
#include <string.h>

static const char digits[16] = { '0', '1', '2', '3', '4', '5', '6', '7',
				 '8', '9', '*', '#', 'A', 'B', 'C', 'D' };

int dtmf_digit_event(char d)
{
	if (d >= '0' && d <= '9')
		return d - '0';
	if (d == '*')
		return 10;
	if (d == '#')
		return 11;
	if (d >= 'A' && d <= 'D')
		return 12 + (d - 'A');
	if (d >= 'a' && d <= 'd')
		return 12 + (d - 'a');
	return -EINVAL;
}

char dtmf_event_digit(uint8_t event)
{
	return event < 16 ? digits[event] : 0;
}

void dtmf_event_build(uint8_t out[DTMF_EVENT_LEN], const struct dtmf_event *e)
{
	out[0] = e->event;
	out[1] = (uint8_t)((e->end ? 0x80 : 0) | (e->volume & 0x3F)); /* R bit 0 */
	out[2] = (uint8_t)(e->duration >> 8);
	out[3] = (uint8_t)e->duration;
}

int dtmf_event_parse(struct dtmf_event *e, const uint8_t *buf, size_t len)
{
	if (len < DTMF_EVENT_LEN)
		return -EINVAL;
	/* §2.3: a packet may carry redundant earlier events (RFC 2198 is not
	 * negotiated here): the first four octets are the current event */
	e->event = buf[0];
	e->end = (buf[1] & 0x80) != 0;
	e->volume = buf[1] & 0x3F;
	e->duration = (uint16_t)(buf[2] << 8 | buf[3]);
	return 0;
}

/* ---- sending ---- */

int dtmf_tx_queue(struct dtmf_tx *t, const char *s)
{
	size_t len = strlen(s);

	for (size_t i = 0; i < len; i++)
		if (dtmf_digit_event(s[i]) < 0)
			return -EINVAL;
	if (len > DTMF_QUEUE - t->n)
		return -ENOSPC;
	for (size_t i = 0; i < len; i++) {
		t->queue[(t->head + t->n) % DTMF_QUEUE] = (uint8_t)dtmf_digit_event(s[i]);
		t->n++;
	}
	return 0;
}

bool dtmf_tx_busy(const struct dtmf_tx *t)
{
	return t->active || t->n > 0 || t->gap > 0;
}

bool dtmf_tx_tick(struct dtmf_tx *t, uint32_t now_ts, uint8_t payload[DTMF_EVENT_LEN],
		  bool *marker, uint32_t *ts, bool *done)
{
	struct dtmf_event e = { 0 };

	*done = false;
	*marker = false;
	if (!t->active) {
		if (t->gap) {
			t->gap--;
			return false;
		}
		if (!t->n)
			return false;
		t->active = true;
		t->event = t->queue[t->head];
		t->head = (t->head + 1) % DTMF_QUEUE;
		t->n--;
		t->ts = now_ts;
		t->pkt = 0;
		*marker = true;
	}
	e.event = t->event;
	e.volume = DTMF_VOLUME;
	if (t->pkt < DTMF_TONE_FRAMES) {
		e.duration = (uint16_t)((t->pkt + 1) * MEDIA_FRAME);
	} else {
		e.duration = DTMF_TONE_FRAMES * MEDIA_FRAME;
		e.end = true;
	}
	dtmf_event_build(payload, &e);
	*ts = t->ts;
	if (++t->pkt == DTMF_TONE_FRAMES + DTMF_END_COPIES) {
		t->active = false;
		t->gap = DTMF_GAP_FRAMES;
		*done = true;
	}
	return true;
}

/* ---- receiving ---- */

static unsigned report(struct dtmf_rx *r, dtmf_emit_fn emit, void *arg)
{
	char d = dtmf_event_digit(r->event);

	r->active = false;
	r->have_last = true;
	r->last_ts = r->ts;
	if (!d)
		return 0; /* flash (16) and other events: not digits */
	emit(d, (unsigned)r->duration * 1000u / MEDIA_RATE, arg);
	return 1;
}

unsigned dtmf_rx_packet(struct dtmf_rx *r, uint32_t ts, const struct dtmf_event *e,
			uint64_t now_ms, dtmf_emit_fn emit, void *arg)
{
	unsigned n = 0;

	if (r->have_last && (int32_t)(ts - r->last_ts) <= 0)
		return 0; /* an end copy, or a stale packet of an earlier event */
	if (r->active && ts != r->ts) {
		if ((int32_t)(ts - r->ts) < 0)
			return 0; /* reordered: older than the current event */
		n += report(r, emit, arg); /* its end packets were lost */
	}
	if (!r->active) {
		r->active = true;
		r->ts = ts;
		r->event = e->event;
		r->duration = 0;
	}
	if (e->duration > r->duration)
		r->duration = e->duration;
	r->seen_ms = now_ms;
	if (e->end)
		n += report(r, emit, arg);
	return n;
}

unsigned dtmf_rx_poll(struct dtmf_rx *r, uint64_t now_ms, uint64_t timeout_ms, dtmf_emit_fn emit,
		      void *arg)
{
	if (r->active && now_ms - r->seen_ms >= timeout_ms)
		return report(r, emit, arg);
	return 0;
}
