/* RFC 4733 DTMF: the event payload, the digit codes, the packets a digit
 * is sent as (marker, growing duration, three end packets, the gap), and
 * the receiver reporting each digit once: end copies de-duplicated, a lost
 * end recovered by the next timestamp or by a timeout, stale and
 * reordered packets ignored. */
#include "harness.h"

#include "media/media_int.h"

#include <errno.h>
#include <string.h>

struct got {
	char digits[32];
	unsigned dur[32];
	unsigned n;
};

static void on_digit(char d, unsigned ms, void *arg)
{
	struct got *g = arg;

	g->digits[g->n] = d;
	g->dur[g->n++] = ms;
	g->digits[g->n] = '\0';
}

static void test_payload(void **state)
{
	struct dtmf_event e = { .event = 11, .end = true, .volume = 10, .duration = 800 }, f;
	uint8_t b[DTMF_EVENT_LEN];

	(void)state;
	dtmf_event_build(b, &e);
	assert_int_equal(b[0], 11);
	assert_int_equal(b[1], 0x80 | 10);
	assert_int_equal(b[2], 0x03);
	assert_int_equal(b[3], 0x20);
	assert_int_equal(dtmf_event_parse(&f, b, sizeof(b)), 0);
	assert_int_equal(f.event, 11);
	assert_true(f.end);
	assert_int_equal(f.volume, 10);
	assert_int_equal(f.duration, 800);
	assert_int_equal(dtmf_event_parse(&f, b, 3), -EINVAL);
	/* the R bit is ignored */
	b[1] = 0x40 | 7;
	assert_int_equal(dtmf_event_parse(&f, b, sizeof(b)), 0);
	assert_false(f.end);
	assert_int_equal(f.volume, 7);

	assert_int_equal(dtmf_digit_event('0'), 0);
	assert_int_equal(dtmf_digit_event('9'), 9);
	assert_int_equal(dtmf_digit_event('*'), 10);
	assert_int_equal(dtmf_digit_event('#'), 11);
	assert_int_equal(dtmf_digit_event('A'), 12);
	assert_int_equal(dtmf_digit_event('d'), 15);
	assert_int_equal(dtmf_digit_event('E'), -EINVAL);
	assert_int_equal(dtmf_digit_event(' '), -EINVAL);
	for (uint8_t ev = 0; ev < 16; ev++)
		assert_int_equal(dtmf_digit_event(dtmf_event_digit(ev)), ev);
	assert_int_equal(dtmf_event_digit(16), 0);
}

static void test_send_sequence(void **state)
{
	struct dtmf_tx t;
	uint8_t p[DTMF_EVENT_LEN];
	uint32_t now = 1000, ts;
	bool marker, done;
	struct dtmf_event e;

	(void)state;
	memset(&t, 0, sizeof(t));
	assert_false(dtmf_tx_busy(&t));
	assert_false(dtmf_tx_tick(&t, now, p, &marker, &ts, &done));
	assert_int_equal(dtmf_tx_queue(&t, "1x"), -EINVAL);
	assert_int_equal(t.n, 0); /* nothing queued from a bad string */
	assert_int_equal(dtmf_tx_queue(&t, "1#"), 0);
	assert_true(dtmf_tx_busy(&t));
	for (int round = 0; round < 2; round++) {
		uint32_t start = now;

		for (int k = 0; k < DTMF_TONE_FRAMES + DTMF_END_COPIES; k++) {
			assert_true(dtmf_tx_tick(&t, now, p, &marker, &ts, &done));
			assert_int_equal(dtmf_event_parse(&e, p, sizeof(p)), 0);
			assert_int_equal(e.event, round ? 11 : 1);
			assert_int_equal(ts, start); /* every packet: the event's start */
			assert_int_equal(marker, k == 0);
			assert_int_equal(e.volume, DTMF_VOLUME);
			if (k < DTMF_TONE_FRAMES) {
				assert_false(e.end);
				assert_int_equal(e.duration, (k + 1) * MEDIA_FRAME);
			} else {
				assert_true(e.end);
				assert_int_equal(e.duration, DTMF_TONE_FRAMES * MEDIA_FRAME);
			}
			assert_int_equal(done, k == DTMF_TONE_FRAMES + DTMF_END_COPIES - 1);
			now += MEDIA_FRAME;
		}
		/* the gap: audio */
		for (int k = 0; k < DTMF_GAP_FRAMES; k++) {
			assert_true(dtmf_tx_busy(&t));
			assert_false(dtmf_tx_tick(&t, now, p, &marker, &ts, &done));
			now += MEDIA_FRAME;
		}
	}
	assert_false(dtmf_tx_busy(&t));
	/* the queue is bounded */
	{
		char many[DTMF_QUEUE + 2];

		memset(many, '5', sizeof(many) - 1);
		many[sizeof(many) - 1] = '\0';
		assert_int_equal(dtmf_tx_queue(&t, many), -ENOSPC);
		many[DTMF_QUEUE] = '\0';
		assert_int_equal(dtmf_tx_queue(&t, many), 0);
		assert_int_equal(dtmf_tx_queue(&t, "5"), -ENOSPC);
	}
}

/* Everything a sender produces for digits, as (ts, event) pairs. */
struct pkt {
	uint32_t ts;
	struct dtmf_event e;
};

static unsigned produce(const char *digits, struct pkt *out, unsigned cap)
{
	struct dtmf_tx t;
	uint8_t p[DTMF_EVENT_LEN];
	uint32_t now = 0xFFFFF000u, ts; /* wraps during the run */
	bool marker, done;
	unsigned n = 0;

	memset(&t, 0, sizeof(t));
	assert_int_equal(dtmf_tx_queue(&t, digits), 0);
	while (dtmf_tx_busy(&t)) {
		if (dtmf_tx_tick(&t, now, p, &marker, &ts, &done)) {
			assert_true(n < cap);
			out[n].ts = ts;
			dtmf_event_parse(&out[n].e, p, sizeof(p));
			n++;
		}
		now += MEDIA_FRAME;
	}
	return n;
}

static void test_receive(void **state)
{
	struct pkt pk[64];
	unsigned n = produce("12#", pk, 64);
	struct dtmf_rx r;
	struct got g;

	(void)state;
	assert_int_equal(n, 3 * (DTMF_TONE_FRAMES + DTMF_END_COPIES));
	/* everything: each digit once, 100 ms long */
	memset(&r, 0, sizeof(r));
	memset(&g, 0, sizeof(g));
	for (unsigned i = 0; i < n; i++)
		dtmf_rx_packet(&r, pk[i].ts, &pk[i].e, i * 20, on_digit, &g);
	assert_string_equal(g.digits, "12#");
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(g.dur[i], 100);
	/* the same packets again (a replay): stale, nothing new */
	for (unsigned i = 0; i < n; i++)
		dtmf_rx_packet(&r, pk[i].ts, &pk[i].e, 1000 + i * 20, on_digit, &g);
	assert_int_equal(g.n, 3);

	/* every end packet of '2' lost: '2' ends when '#' starts */
	memset(&r, 0, sizeof(r));
	memset(&g, 0, sizeof(g));
	for (unsigned i = 0; i < n; i++) {
		if (pk[i].e.end && pk[i].e.event == 2)
			continue;
		dtmf_rx_packet(&r, pk[i].ts, &pk[i].e, i * 20, on_digit, &g);
		if (i == 2 * (DTMF_TONE_FRAMES + DTMF_END_COPIES))
			assert_string_equal(g.digits, "12"); /* at the first packet of '#' */
	}
	assert_string_equal(g.digits, "12#");
	assert_int_equal(g.dur[1], 100); /* the longest duration seen */

	/* only the end packets of each digit (the start was lost) */
	memset(&r, 0, sizeof(r));
	memset(&g, 0, sizeof(g));
	for (unsigned i = 0; i < n; i++)
		if (pk[i].e.end)
			dtmf_rx_packet(&r, pk[i].ts, &pk[i].e, i * 20, on_digit, &g);
	assert_string_equal(g.digits, "12#");

	/* the last digit's ends lost: reported by the timeout */
	memset(&r, 0, sizeof(r));
	memset(&g, 0, sizeof(g));
	for (unsigned i = 0; i < n; i++)
		if (!(pk[i].e.end && pk[i].e.event == 11))
			dtmf_rx_packet(&r, pk[i].ts, &pk[i].e, i * 20, on_digit, &g);
	assert_string_equal(g.digits, "12");
	assert_int_equal(dtmf_rx_poll(&r, n * 20 + 500, 1000, on_digit, &g), 0);
	assert_int_equal(dtmf_rx_poll(&r, n * 20 + 1000, 1000, on_digit, &g), 1);
	assert_string_equal(g.digits, "12#");
	assert_int_equal(dtmf_rx_poll(&r, n * 20 + 5000, 1000, on_digit, &g), 0);

	/* reordered: an update of '1' arriving after '2' started is ignored */
	memset(&r, 0, sizeof(r));
	memset(&g, 0, sizeof(g));
	dtmf_rx_packet(&r, pk[0].ts, &pk[0].e, 0, on_digit, &g);   /* '1' start */
	dtmf_rx_packet(&r, pk[8].ts, &pk[8].e, 20, on_digit, &g);  /* '2' start: ends '1' */
	dtmf_rx_packet(&r, pk[1].ts, &pk[1].e, 40, on_digit, &g);  /* late '1' update */
	dtmf_rx_packet(&r, pk[5].ts, &pk[5].e, 60, on_digit, &g);  /* late '1' end */
	assert_string_equal(g.digits, "1");
	dtmf_rx_packet(&r, pk[13].ts, &pk[13].e, 80, on_digit, &g); /* '2' end */
	assert_string_equal(g.digits, "12");

	/* flash (16) is an event, not a digit: not reported */
	{
		struct dtmf_event fl = { .event = 16, .end = true, .duration = 800 };

		memset(&g, 0, sizeof(g));
		assert_int_equal(dtmf_rx_packet(&r, pk[n - 1].ts + 10000, &fl, 100, on_digit, &g),
				 0);
		assert_int_equal(g.n, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		SIPHON_TEST(test_payload),
		SIPHON_TEST(test_send_sequence),
		SIPHON_TEST(test_receive),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
