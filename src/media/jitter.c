/* Jitter buffer: packets held by sequence number and played out on the
 * stream's 20 ms clock.
 *
 * The first packet (and the first one after the buffer ran dry, e.g. after
 * a silence the sender suppressed) anchors the playout sequence; playing
 * starts once depth frames of time have passed, so the packets that come
 * late by up to that much still find their turn. A packet whose turn has
 * passed is late and dropped; a missing one is concealed by repeating the
 * last frame at half level once, then by silence. When the sender's clock
 * runs faster than ours, or a burst arrives after a stall, the buffer grows
 * beyond the target: one packet per frame is dropped until it is back
 * within JB_DRIFT_FRAMES. Packets of any length up to JB_MAX_PAYLOAD
 * samples are played in 20 ms frames through a small carry buffer. */
#include "media/media_int.h"

#include <string.h>

/* A packet further than this behind the playout point is a restart of
 * the sender's sequence, not a late packet (RFC 3550 A.1 MAX_MISORDER). */
#define JB_MAX_MISORDER 100

void jb_init(struct jbuf *jb, unsigned depth_ms)
{
	memset(jb, 0, sizeof(*jb));
	jb->depth = (depth_ms + MEDIA_PTIME_MS - 1) / MEDIA_PTIME_MS;
	if (jb->depth == 0)
		jb->depth = 1;
	if (jb->depth > JB_SLOTS - JB_DRIFT_FRAMES - 1)
		jb->depth = JB_SLOTS - JB_DRIFT_FRAMES - 1;
}

static void flush(struct jbuf *jb)
{
	for (unsigned i = 0; i < JB_SLOTS; i++) {
		if (jb->slot[i].used) {
			jb->slot[i].used = false;
			jb->dropped++;
		}
	}
	jb->count = 0;
	jb->anchored = false;
	jb->playing = false;
	jb->waited = 0;
}

void jb_reset(struct jbuf *jb)
{
	flush(jb);
	jb->ncarry = 0;
	jb->last_ok = false;
	jb->conceal_run = 0;
}

int jb_put(struct jbuf *jb, uint16_t seq, uint8_t pt, bool event, const uint8_t *payload,
	   size_t len)
{
	struct jb_slot *s;
	int16_t d;

	if (!jb->anchored || (!jb->playing && jb->count == 0)) {
		jb->anchored = true;
		jb->next_seq = seq;
	}
	d = (int16_t)(uint16_t)(seq - jb->next_seq);
	if (d < -JB_MAX_MISORDER || d >= JB_SLOTS) {
		/* the sequence jumped: start over from this packet */
		flush(jb);
		jb->anchored = true;
		jb->next_seq = seq;
	} else if (d < 0) {
		jb->late++;
		return 1;
	}
	s = &jb->slot[seq % JB_SLOTS];
	if (s->used) {
		jb->dup++;
		return 1;
	}
	if (len > JB_MAX_PAYLOAD)
		len = JB_MAX_PAYLOAD;
	s->used = true;
	s->event = event;
	s->pt = pt;
	s->seq = seq;
	s->len = (uint16_t)len;
	if (len && !event)
		memcpy(s->data, payload, len);
	jb->count++;
	return 0;
}

/* Append the packet whose turn it is (or its concealment) to the carry. */
static void take_next(struct jbuf *jb)
{
	struct jb_slot *s = &jb->slot[jb->next_seq % JB_SLOTS];
	int16_t *dst = jb->carry + jb->ncarry;

	if (s->used) {
		if (s->event) {
			memset(dst, 0, MEDIA_FRAME * sizeof(*dst));
			jb->ncarry += MEDIA_FRAME;
		} else {
			media_g711_decode(s->pt, s->data, s->len, dst);
			jb->ncarry += s->len;
		}
		s->used = false;
		jb->count--;
		jb->conceal_run = 0;
	} else {
		if (jb->conceal_run == 0 && jb->last_ok) {
			for (unsigned i = 0; i < MEDIA_FRAME; i++)
				dst[i] = (int16_t)(jb->last[i] / 2);
		} else {
			memset(dst, 0, MEDIA_FRAME * sizeof(*dst));
		}
		jb->ncarry += MEDIA_FRAME;
		jb->concealed++;
		jb->conceal_run++;
	}
	jb->next_seq++;
}

void jb_get(struct jbuf *jb, int16_t out[MEDIA_FRAME])
{
	if (!jb->playing) {
		/* buffering: depth frames of time after the first packet */
		if (jb->ncarry >= MEDIA_FRAME)
			goto play;
		if (jb->count == 0 || ++jb->waited <= jb->depth) {
			memset(out, 0, MEDIA_FRAME * sizeof(*out));
			return;
		}
		jb->playing = true;
	} else if (jb->count > jb->depth + JB_DRIFT_FRAMES) {
		/* too much buffered: drop the oldest to catch up */
		struct jb_slot *s = &jb->slot[jb->next_seq % JB_SLOTS];

		if (s->used) {
			s->used = false;
			jb->count--;
			jb->dropped++;
		}
		jb->next_seq++;
	}
	while (jb->ncarry < MEDIA_FRAME) {
		if (jb->count == 0) {
			/* ran dry: pad with silence and buffer again */
			memset(jb->carry + jb->ncarry, 0,
			       (MEDIA_FRAME - jb->ncarry) * sizeof(jb->carry[0]));
			jb->ncarry = MEDIA_FRAME;
			jb->playing = false;
			jb->waited = 0;
			break;
		}
		take_next(jb);
	}
play:
	memcpy(out, jb->carry, MEDIA_FRAME * sizeof(*out));
	jb->ncarry -= MEDIA_FRAME;
	memmove(jb->carry, jb->carry + MEDIA_FRAME, jb->ncarry * sizeof(jb->carry[0]));
	memcpy(jb->last, out, sizeof(jb->last));
	jb->last_ok = true;
}
