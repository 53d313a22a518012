/* Jitter buffer: the initial buffering delay, reordering, late and
 * duplicate packets, concealment of a gap, events played as silence,
 * rebuffering after the sender went quiet, catching up after a burst,
 * packets longer than 20 ms, and a sequence jump. Each packet carries one
 * constant level, so a frame tells which packet it came from. */
#include "harness.h"

#include "media/media.h"
#include "media/media_int.h"

#include <string.h>

/* PCMU packet of len samples at level 100 * (seq % 200 + 1). */
static int put(struct jbuf *jb, uint16_t seq, size_t len)
{
	uint8_t p[JB_MAX_PAYLOAD];

	memset(p, media_ulaw_encode((int16_t)(100 * (seq % 200 + 1))), len);
	return jb_put(jb, seq, 0, false, p, len);
}

static int level_of(uint16_t seq)
{
	return media_ulaw_decode(media_ulaw_encode((int16_t)(100 * (seq % 200 + 1))));
}

/* The level of the next frame (every sample the same), or -1 if mixed. */
static int get(struct jbuf *jb)
{
	int16_t f[MEDIA_FRAME];

	jb_get(jb, f);
	for (int i = 1; i < MEDIA_FRAME; i++)
		if (f[i] != f[0])
			return -1;
	return f[0];
}

static void test_delay_and_order(void **state)
{
	struct jbuf jb;

	(void)state;
	jb_init(&jb, 60); /* 3 frames */
	assert_int_equal(jb.depth, 3);
	/* nothing yet: silence, and no time counted */
	assert_int_equal(get(&jb), 0);
	assert_int_equal(get(&jb), 0);
	/* packets 10, 12, 11, 13 arrive in one go: three frames of buffering,
	 * then in sequence order */
	assert_int_equal(put(&jb, 10, 160), 0);
	assert_int_equal(put(&jb, 12, 160), 0);
	assert_int_equal(put(&jb, 11, 160), 0);
	assert_int_equal(put(&jb, 13, 160), 0);
	assert_int_equal(get(&jb), 0);
	assert_int_equal(get(&jb), 0);
	assert_int_equal(get(&jb), 0);
	assert_int_equal(get(&jb), level_of(10));
	assert_int_equal(get(&jb), level_of(11));
	assert_int_equal(get(&jb), level_of(12));
	/* one packet per frame from now on keeps it playing */
	for (uint16_t s = 14; s < 30; s++) {
		assert_int_equal(put(&jb, s, 160), 0);
		assert_int_equal(get(&jb), level_of((uint16_t)(s - 1)));
	}
	assert_int_equal(jb.late + jb.concealed + jb.dropped + jb.dup, 0);
}

static void test_late_dup_gap(void **state)
{
	struct jbuf jb;

	(void)state;
	jb_init(&jb, 20);
	assert_int_equal(put(&jb, 100, 160), 0);
	assert_int_equal(put(&jb, 101, 160), 0);
	assert_int_equal(put(&jb, 101, 160), 1); /* duplicate */
	assert_int_equal(jb.dup, 1);
	assert_int_equal(get(&jb), 0);
	assert_int_equal(get(&jb), level_of(100));
	assert_int_equal(get(&jb), level_of(101));
	/* 102 is missing, 103 and 104 are there: 102 is concealed by the
	 * last frame at half level */
	assert_int_equal(put(&jb, 103, 160), 0);
	assert_int_equal(put(&jb, 104, 160), 0);
	assert_int_equal(get(&jb), level_of(101) / 2);
	assert_int_equal(jb.concealed, 1);
	/* 102 arrives now: its turn has passed */
	assert_int_equal(put(&jb, 102, 160), 1);
	assert_int_equal(jb.late, 1);
	assert_int_equal(get(&jb), level_of(103));
	/* two missing in a row: half level, then silence */
	assert_int_equal(put(&jb, 107, 160), 0);
	assert_int_equal(get(&jb), level_of(104));
	assert_int_equal(get(&jb), level_of(104) / 2);
	assert_int_equal(get(&jb), 0);
	assert_int_equal(get(&jb), level_of(107));
	assert_int_equal(jb.concealed, 3);
	assert_int_equal(jb.late, 1);
	/* 105 long after: late too */
	assert_int_equal(put(&jb, 105, 160), 1);
	assert_int_equal(jb.late, 2);
}

static void test_events_and_rebuffer(void **state)
{
	struct jbuf jb;

	(void)state;
	jb_init(&jb, 40);
	assert_int_equal(put(&jb, 1, 160), 0);
	assert_int_equal(jb_put(&jb, 2, 101, true, NULL, 0), 0);
	assert_int_equal(put(&jb, 3, 160), 0);
	assert_int_equal(get(&jb), 0);
	assert_int_equal(get(&jb), 0);
	assert_int_equal(get(&jb), level_of(1));
	assert_int_equal(get(&jb), 0); /* the event: silence, not concealment */
	assert_int_equal(get(&jb), level_of(3));
	assert_int_equal(jb.concealed, 0);
	/* the sender goes quiet (silence suppression): silence, buffering
	 * again; the next talkspurt, whatever its sequence number, is
	 * delayed by the depth again */
	assert_int_equal(get(&jb), 0);
	assert_false(jb.playing);
	assert_int_equal(get(&jb), 0);
	assert_int_equal(put(&jb, 9, 160), 0);
	assert_int_equal(get(&jb), 0);
	assert_int_equal(get(&jb), 0);
	assert_int_equal(get(&jb), level_of(9));
	assert_int_equal(jb.concealed, 0);
}

static void test_burst_catch_up(void **state)
{
	struct jbuf jb;
	unsigned frames = 0;

	(void)state;
	jb_init(&jb, 40); /* 2 frames */
	/* 20 packets at once (a stall then a burst) */
	for (uint16_t s = 0; s < 20; s++)
		assert_int_equal(put(&jb, s, 160), 0);
	/* playing drops one packet per frame until within the drift bound */
	while (jb.count > jb.depth + JB_DRIFT_FRAMES) {
		get(&jb);
		frames++;
		assert_true(frames < 20);
	}
	assert_true(jb.dropped > 0);
	assert_int_equal(jb.late + jb.concealed, 0);
	/* then normal playout, in order */
	for (int i = 0; i < 4; i++) {
		uint16_t want = jb.next_seq;

		assert_int_equal(get(&jb), level_of(want));
	}
	assert_int_equal(jb.concealed, 0);
}

static void test_long_packets_and_jump(void **state)
{
	struct jbuf jb;

	(void)state;
	jb_init(&jb, 20);
	/* 60 ms packets: three frames each */
	assert_int_equal(put(&jb, 50, 480), 0);
	assert_int_equal(put(&jb, 51, 480), 0);
	assert_int_equal(get(&jb), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(get(&jb), level_of(50));
	for (int i = 0; i < 3; i++)
		assert_int_equal(get(&jb), level_of(51));
	/* 30 ms packets: a frame straddles two packets */
	jb_init(&jb, 20);
	assert_int_equal(put(&jb, 7, 240), 0);
	assert_int_equal(put(&jb, 8, 240), 0);
	assert_int_equal(get(&jb), 0);
	assert_int_equal(get(&jb), level_of(7));
	assert_int_equal(get(&jb), -1); /* half 7, half 8 */
	assert_int_equal(get(&jb), level_of(8));
	/* oversized payloads are cut to JB_MAX_PAYLOAD */
	{
		uint8_t big[1000];

		memset(big, 0xFF, sizeof(big));
		assert_int_equal(jb_put(&jb, 9, 0, false, big, sizeof(big)), 0);
		assert_int_equal(jb.slot[9 % JB_SLOTS].len, JB_MAX_PAYLOAD);
	}

	/* the sequence jumps far ahead while playing: start over there */
	jb_init(&jb, 20);
	for (uint16_t s = 0; s < 3; s++)
		assert_int_equal(put(&jb, s, 160), 0);
	assert_int_equal(get(&jb), 0);
	assert_int_equal(get(&jb), level_of(0));
	assert_int_equal(put(&jb, 30000, 160), 0);
	assert_int_equal(jb.count, 1);
	assert_int_equal(jb.dropped, 2);
	assert_int_equal(get(&jb), 0);
	assert_int_equal(get(&jb), level_of(30000));
	/* and across the 16-bit wrap */
	jb_init(&jb, 20);
	assert_int_equal(put(&jb, 65535, 160), 0);
	assert_int_equal(put(&jb, 0, 160), 0);
	assert_int_equal(get(&jb), 0);
	assert_int_equal(get(&jb), level_of(65535));
	assert_int_equal(get(&jb), level_of(0));
	/* reset forgets everything but the counters */
	jb_reset(&jb);
	assert_int_equal(jb.count, 0);
	assert_int_equal(get(&jb), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		SIPHON_TEST(test_delay_and_order),     SIPHON_TEST(test_late_dup_gap),
		SIPHON_TEST(test_events_and_rebuffer), SIPHON_TEST(test_burst_catch_up),
		SIPHON_TEST(test_long_packets_and_jump),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
