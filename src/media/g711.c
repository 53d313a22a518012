/* ITU-T G.711 mu-law and A-law, on 16-bit linear samples. The coders are
 * the classic segment (exponent + 4-bit mantissa) computation; decoding
 * returns the middle of each quantisation interval. mu-law works on 14-bit
 * magnitudes (bias 33, here 132 on the 16-bit scale), A-law on 13-bit ones;
 * the even bits of A-law codes are inverted (0x55) on the line. */
#include "media/media.h"
#include "media/media_int.h"

#define ULAW_BIAS 0x84  /* 33 << 2 */
#define ULAW_CLIP 32635 /* 0x7FFF - ULAW_BIAS */

/* Position of the highest set bit of v (v > 0). */
static int top_bit(unsigned v)
{
	return 31 - __builtin_clz(v);
}

uint8_t media_ulaw_encode(int16_t pcm)
{
	int v = pcm, sign = 0, exp, mant;

	if (v < 0) {
		v = -v;
		sign = 0x80;
	}
	if (v > ULAW_CLIP)
		v = ULAW_CLIP;
	v += ULAW_BIAS;                  /* 0x84 .. 0x7FFF: bit 7 .. bit 14 set */
	exp = top_bit((unsigned)v) - 7;  /* segment 0..7 */
	mant = (v >> (exp + 3)) & 0x0F;
	return (uint8_t)~(sign | (exp << 4) | mant);
}

int16_t media_ulaw_decode(uint8_t u)
{
	int t;

	u = (uint8_t)~u;
	t = ((u & 0x0F) << 3) + ULAW_BIAS;
	t <<= (u & 0x70) >> 4;
	return (int16_t)((u & 0x80) ? ULAW_BIAS - t : t - ULAW_BIAS);
}

uint8_t media_alaw_encode(int16_t pcm)
{
	int v = pcm >> 3; /* 13 bits */
	int mask, seg;
	uint8_t a;

	if (v >= 0) {
		mask = 0xD5; /* sign bit set, then the 0x55 inversion */
	} else {
		mask = 0x55;
		v = -v - 1;
	}
	/* segment: 0 for 0..31 (step 2), then one per octave up to 4095 */
	seg = v < 32 ? 0 : top_bit((unsigned)v) - 4;
	if (seg >= 8)
		return (uint8_t)(0x7F ^ mask);
	a = (uint8_t)(seg << 4);
	a |= (uint8_t)((seg < 2 ? v >> 1 : v >> seg) & 0x0F);
	return (uint8_t)(a ^ mask);
}

int16_t media_alaw_decode(uint8_t a)
{
	int t, seg;

	a ^= 0x55;
	t = (a & 0x0F) << 4;
	seg = (a & 0x70) >> 4;
	if (seg == 0)
		t += 8;
	else if (seg == 1)
		t += 0x108;
	else
		t = (t + 0x108) << (seg - 1);
	return (int16_t)((a & 0x80) ? t : -t);
}

void media_g711_encode(uint8_t pt, const int16_t *pcm, size_t n, uint8_t *out)
{
	if (pt == 8) {
		for (size_t i = 0; i < n; i++)
			out[i] = media_alaw_encode(pcm[i]);
	} else {
		for (size_t i = 0; i < n; i++)
			out[i] = media_ulaw_encode(pcm[i]);
	}
}

void media_g711_decode(uint8_t pt, const uint8_t *in, size_t n, int16_t *pcm)
{
	if (pt == 8) {
		for (size_t i = 0; i < n; i++)
			pcm[i] = media_alaw_decode(in[i]);
	} else {
		for (size_t i = 0; i < n; i++)
			pcm[i] = media_ulaw_decode(in[i]);
	}
}
