/* G.711: the reference points of ITU-T G.711's tables, every code through
 * decode and encode again, the quantisation error of every 16-bit sample
 * within half a step of its segment, and monotonic coding. */
#include "harness.h"

#include "media/media.h"
#include "media/media_int.h"

#include <stdlib.h>

static void test_ulaw_known(void **state)
{
	(void)state;
	/* G.711 table 2a: code 0xFF (after inversion 0x00) is 0; the ends of
	 * the range are +-8031 on the 14-bit scale (x4 here) */
	assert_int_equal(media_ulaw_encode(0), 0xFF);
	assert_int_equal(media_ulaw_decode(0xFF), 0);
	assert_int_equal(media_ulaw_decode(0x7F), 0); /* negative zero */
	assert_int_equal(media_ulaw_decode(0x80), 8031 * 4);
	assert_int_equal(media_ulaw_decode(0x00), -8031 * 4);
	assert_int_equal(media_ulaw_encode(32767), 0x80);
	assert_int_equal(media_ulaw_encode(-32768), 0x00);
	/* segment 0: outputs 0, 2, 4, ... on the 14-bit scale */
	assert_int_equal(media_ulaw_decode(0xFE), 2 * 4);
	assert_int_equal(media_ulaw_decode(0xF0), 30 * 4);
	/* the first value of segment 1 and of segment 7 */
	assert_int_equal(media_ulaw_decode(0xEF), 33 * 4);
	assert_int_equal(media_ulaw_decode(0x8F), 4191 * 4);
	assert_int_equal(media_ulaw_encode(-8), 0x7E);
	assert_int_equal(media_ulaw_encode(8), 0xFE);
}

static void test_alaw_known(void **state)
{
	(void)state;
	/* G.711 table 1a: 0xD5 (even bits inverted: 0x80) is +1 on the 13-bit
	 * scale, 0x55 is -1; the ends are +-4032 */
	assert_int_equal(media_alaw_encode(0), 0xD5);
	assert_int_equal(media_alaw_encode(-1), 0x55);
	assert_int_equal(media_alaw_decode(0xD5), 1 * 8);
	assert_int_equal(media_alaw_decode(0x55), -1 * 8);
	assert_int_equal(media_alaw_decode(0xAA), 4032 * 8);
	assert_int_equal(media_alaw_decode(0x2A), -4032 * 8);
	assert_int_equal(media_alaw_encode(32767), 0xAA);
	assert_int_equal(media_alaw_encode(-32768), 0x2A);
	/* segment 0 outputs 1, 3, 5, ...; segment 1 starts at 33 */
	assert_int_equal(media_alaw_decode(0xD4), 3 * 8);
	assert_int_equal(media_alaw_decode(0xC5), 33 * 8);
}

static void test_codes_round_trip(void **state)
{
	(void)state;
	for (int c = 0; c < 256; c++) {
		if (c != 0x7F) /* -0 encodes as +0 */
			assert_int_equal(media_ulaw_encode(media_ulaw_decode((uint8_t)c)), c);
		assert_int_equal(media_alaw_encode(media_alaw_decode((uint8_t)c)), c);
	}
}

static void test_error_bounds(void **state)
{
	int prev_u = -40000, prev_a = -40000;

	(void)state;
	for (int x = -32768; x <= 32767; x++) {
		int u = media_ulaw_decode(media_ulaw_encode((int16_t)x));
		int a = media_alaw_decode(media_alaw_encode((int16_t)x));
		int mag = abs(x);

		/* half a quantisation step: 1/32 of the segment's start, +
		 * the coder's rounding; beyond the largest code it clips */
		if (mag <= 32124 && abs(u - x) > (mag + 132) / 32 + 1)
			fail_msg("mu-law %d -> %d", x, u);
		if (mag <= 32256 && abs(a - x) > mag / 32 + 8)
			fail_msg("A-law %d -> %d", x, a);
		if (mag > 32124)
			assert_int_equal(abs(u), 32124);
		/* monotonic */
		assert_true(u >= prev_u);
		assert_true(a >= prev_a);
		prev_u = u;
		prev_a = a;
	}
}

static void test_buffers(void **state)
{
	int16_t pcm[6] = { 0, 1000, -1000, 32767, -32768, 77 }, back[6];
	uint8_t enc[6];

	(void)state;
	media_g711_encode(0, pcm, 6, enc);
	for (int i = 0; i < 6; i++)
		assert_int_equal(enc[i], media_ulaw_encode(pcm[i]));
	media_g711_decode(0, enc, 6, back);
	for (int i = 0; i < 6; i++)
		assert_int_equal(back[i], media_ulaw_decode(enc[i]));
	media_g711_encode(8, pcm, 6, enc);
	for (int i = 0; i < 6; i++)
		assert_int_equal(enc[i], media_alaw_encode(pcm[i]));
	media_g711_decode(8, enc, 6, back);
	for (int i = 0; i < 6; i++)
		assert_int_equal(back[i], media_alaw_decode(enc[i]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		SIPHON_TEST(test_ulaw_known),       SIPHON_TEST(test_alaw_known),
		SIPHON_TEST(test_codes_round_trip), SIPHON_TEST(test_error_bounds),
		SIPHON_TEST(test_buffers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
