/* WAV: a recording read back (and valid at every point before it is
 * closed), unknown and odd-sized chunks skipped, stereo and other rates
 * converted to 8 kHz mono (a tone in the pass band kept, one above 4 kHz
 * removed), WAVE_FORMAT_EXTENSIBLE, truncated data, malformed files
 * refused, and every allocation failure reported. */
#include "harness.h"

#include "base/mem.h"
#include "media/media_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- building files in memory ---- */

struct img {
	uint8_t b[200000];
	size_t n;
};

static void u16(struct img *w, uint16_t v)
{
	w->b[w->n++] = (uint8_t)v;
	w->b[w->n++] = (uint8_t)(v >> 8);
}

static void u32(struct img *w, uint32_t v)
{
	u16(w, (uint16_t)v);
	u16(w, (uint16_t)(v >> 16));
}

static void tag(struct img *w, const char *t)
{
	memcpy(w->b + w->n, t, 4);
	w->n += 4;
}

static void riff(struct img *w)
{
	w->n = 0;
	tag(w, "RIFF");
	u32(w, 0); /* fixed by done() */
	tag(w, "WAVE");
}

static void fmt(struct img *w, uint16_t format, uint16_t ch, uint32_t rate, uint16_t bits)
{
	tag(w, "fmt ");
	u32(w, 16);
	u16(w, format);
	u16(w, ch);
	u32(w, rate);
	u32(w, rate * ch * bits / 8);
	u16(w, (uint16_t)(ch * bits / 8));
	u16(w, bits);
}

static void chunk(struct img *w, const char *t, const void *data, uint32_t len)
{
	tag(w, t);
	u32(w, len);
	memcpy(w->b + w->n, data, len);
	w->n += len;
	if (len & 1)
		w->b[w->n++] = 0;
}

static void data(struct img *w, const int16_t *s, size_t n)
{
	tag(w, "data");
	u32(w, (uint32_t)(2 * n));
	for (size_t i = 0; i < n; i++)
		u16(w, (uint16_t)s[i]);
}

static void done(struct img *w)
{
	uint32_t sz = (uint32_t)(w->n - 8);

	memcpy(w->b + 4, &sz, 4); /* little-endian host */
}

/* A tone by rotation (no libm): n samples of amp*sin(k*theta), given
 * cos(theta) and sin(theta). */
static void tone(int16_t *out, size_t n, double c, double s, double amp)
{
	double x = 0, y = 1; /* sin, cos of the current angle */

	for (size_t i = 0; i < n; i++) {
		double nx = x * c + y * s, ny = y * c - x * s;

		out[i] = (int16_t)(amp * x);
		x = nx;
		y = ny;
	}
}

static double rms(const int16_t *s, size_t n)
{
	double e = 0, r = 1;

	for (size_t i = 0; i < n; i++)
		e += (double)s[i] * s[i];
	e /= (double)(n ? n : 1);
	/* sqrt by Newton's method */
	for (int i = 0; i < 60 && e > 0; i++)
		r = 0.5 * (r + e / r);
	return e > 0 ? r : 0;
}

static struct img *img_new(void)
{
	struct img *w = malloc(sizeof(*w));

	assert_non_null(w);
	return w;
}

/* ---- tests ---- */

static void test_write_read_back(void **state)
{
	char dir[] = "/tmp/siphon-wav-XXXXXX", path[256];
	struct wav_writer w;
	int16_t s[1000], *pcm;
	size_t n;
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/rec.wav", dir);
	for (int i = 0; i < 1000; i++)
		s[i] = (int16_t)(i * 65 - 32000);
	assert_int_equal(wav_writer_open(&w, path), 0);
	/* an empty recording is a valid file with no samples */
	assert_int_equal(media_wav_load(path, &pcm, &n), 0);
	assert_null(pcm);
	assert_int_equal(n, 0);
	for (int k = 0; k < 10; k++) {
		assert_int_equal(wav_writer_write(&w, s + 100 * k, 100), 0);
		/* before close, as after an abrupt stop: sizes already right */
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_size, WAV_HDR_LEN + 200 * (k + 1));
		assert_int_equal(media_wav_load(path, &pcm, &n), 0);
		assert_int_equal(n, 100 * (k + 1));
		assert_memory_equal(pcm, s, n * sizeof(*pcm));
		mem_free(pcm);
	}
	assert_int_equal(wav_writer_close(&w), 0);
	assert_int_equal(wav_writer_close(&w), 0); /* twice: harmless */
	assert_int_equal(media_wav_load(path, &pcm, &n), 0);
	assert_int_equal(n, 1000);
	assert_memory_equal(pcm, s, sizeof(s));
	mem_free(pcm);
	/* the header itself */
	{
		uint8_t h[WAV_HDR_LEN];
		int fd = open(path, O_RDONLY);

		assert_true(fd >= 0);
		assert_int_equal(read(fd, h, sizeof(h)), sizeof(h));
		close(fd);
		assert_memory_equal(h, "RIFF", 4);
		assert_int_equal(h[4] | h[5] << 8 | h[6] << 16, 36 + 2000);
		assert_memory_equal(h + 8, "WAVEfmt ", 8);
		assert_int_equal(h[22], 1);                     /* mono */
		assert_int_equal(h[24] | h[25] << 8, 8000);     /* rate */
		assert_int_equal(h[34], 16);                    /* bits */
		assert_memory_equal(h + 36, "data", 4);
		assert_int_equal(h[40] | h[41] << 8, 2000);
	}
	assert_int_equal(wav_writer_open(&w, "/nonexistent-dir/x.wav"), -ENOENT);
	unlink(path);
	rmdir(dir);
}

static void test_chunks_skipped(void **state)
{
	struct img *w = img_new();
	int16_t s[5] = { 1, -2, 3, -4, 5 }, *pcm;
	size_t n;

	(void)state;
	riff(w);
	chunk(w, "LIST", "INFOabc", 7); /* odd size: a pad octet follows */
	fmt(w, 1, 1, 8000, 16);
	chunk(w, "fact", "\x05\0\0\0", 4);
	data(w, s, 5);
	chunk(w, "cue ", "", 0); /* after the data: never reached */
	done(w);
	assert_int_equal(media_wav_decode(w->b, w->n, &pcm, &n), 0);
	assert_int_equal(n, 5);
	assert_memory_equal(pcm, s, sizeof(s));
	mem_free(pcm);
	free(w);
}

static void test_stereo_and_rates(void **state)
{
	struct img *w = img_new();
	int16_t *src = malloc(48000 * 2 * sizeof(*src)), *pcm;
	size_t n;

	(void)state;
	assert_non_null(src);
	/* 16 kHz stereo, 1 kHz in both channels (theta = pi/8) */
	tone(src, 16000, 0.92387953251128674, 0.38268343236508978, 20000);
	riff(w);
	fmt(w, 1, 2, 16000, 16);
	tag(w, "data");
	u32(w, 16000 * 4);
	for (int i = 0; i < 16000; i++) {
		u16(w, (uint16_t)src[i]);
		u16(w, (uint16_t)(src[i] / 2)); /* quieter right channel */
	}
	done(w);
	assert_int_equal(media_wav_decode(w->b, w->n, &pcm, &n), 0);
	assert_int_equal(n, 8000);
	/* (L + R) / 2 = 0.75 of the tone, amplitude 15000: RMS ~ 10607 */
	{
		double r = rms(pcm + 100, 7800);

		if (r < 10000 || r > 11200)
			fail_msg("1 kHz after 16 -> 8 kHz: RMS %f", r);
	}
	mem_free(pcm);

	/* 6 kHz at 16 kHz (theta = 3pi/4) would alias to 2 kHz: filtered */
	tone(src, 16000, -0.70710678118654752, 0.70710678118654752, 20000);
	riff(w);
	fmt(w, 1, 1, 16000, 16);
	data(w, src, 16000);
	done(w);
	assert_int_equal(media_wav_decode(w->b, w->n, &pcm, &n), 0);
	assert_int_equal(n, 8000);
	{
		double r = rms(pcm + 100, 7800);

		if (r > 20000 * 0.7071 * 0.05)
			fail_msg("6 kHz after 16 -> 8 kHz not removed: RMS %f", r);
	}
	mem_free(pcm);

	/* 44.1 kHz: the length follows the rate */
	riff(w);
	fmt(w, 1, 1, 44100, 16);
	memset(src, 0, 44100 * sizeof(*src));
	data(w, src, 44100 / 2);
	done(w);
	assert_int_equal(media_wav_decode(w->b, w->n, &pcm, &n), 0);
	assert_int_equal(n, 4000);
	mem_free(pcm);

	/* 4 kHz: interpolated up, a constant stays constant */
	for (int i = 0; i < 400; i++)
		src[i] = 1234;
	riff(w);
	fmt(w, 1, 1, 4000, 16);
	data(w, src, 400);
	done(w);
	assert_int_equal(media_wav_decode(w->b, w->n, &pcm, &n), 0);
	assert_int_equal(n, 800);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(pcm[i], 1234);
	mem_free(pcm);
	free(src);
	free(w);
}

static void test_extensible_and_truncated(void **state)
{
	static const uint8_t guid_pcm[16] = { 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00,
					      0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71 };
	struct img *w = img_new();
	int16_t s[4] = { 100, 200, 300, 400 }, *pcm;
	size_t n;

	(void)state;
	riff(w);
	tag(w, "fmt ");
	u32(w, 40);
	u16(w, 0xFFFE);
	u16(w, 1);
	u32(w, 8000);
	u32(w, 16000);
	u16(w, 2);
	u16(w, 16);
	u16(w, 22);   /* cbSize */
	u16(w, 16);   /* valid bits */
	u32(w, 4);    /* channel mask */
	memcpy(w->b + w->n, guid_pcm, 16);
	w->n += 16;
	data(w, s, 4);
	done(w);
	assert_int_equal(media_wav_decode(w->b, w->n, &pcm, &n), 0);
	assert_int_equal(n, 4);
	assert_memory_equal(pcm, s, sizeof(s));
	mem_free(pcm);
	/* a float sub-format is refused */
	w->b[20 + 24] = 3;
	assert_int_equal(media_wav_decode(w->b, w->n, &pcm, &n), -EINVAL);

	/* the data chunk (and RIFF) claiming more than the file has, as a
	 * streaming writer leaves it: what is there is read */
	riff(w);
	fmt(w, 1, 1, 8000, 16);
	data(w, s, 4);
	w->b[4] = w->b[5] = w->b[6] = w->b[7] = 0xFF;
	w->b[w->n - 8 - 4] = 0xF0; /* data size 0xF0 + ... */
	assert_int_equal(media_wav_decode(w->b, w->n - 1, &pcm, &n), 0);
	assert_int_equal(n, 3); /* the odd last octet is dropped */
	assert_memory_equal(pcm, s, 3 * sizeof(*pcm));
	mem_free(pcm);
	free(w);
}

static void test_malformed(void **state)
{
	struct img *w = img_new();
	int16_t s[4] = { 1, 2, 3, 4 }, *pcm = NULL;
	size_t n;

	(void)state;
#define BAD(what)                                                                            \
	do {                                                                                 \
		done(w);                                                                     \
		if (media_wav_decode(w->b, w->n, &pcm, &n) != -EINVAL)                       \
			fail_msg("accepted: %s", what);                                      \
		assert_null(pcm);                                                            \
	} while (0)

	riff(w);
	fmt(w, 1, 1, 8000, 16);
	data(w, s, 4);
	memcpy(w->b, "RIFX", 4);
	BAD("not RIFF");
	memcpy(w->b, "RIFF", 4);
	memcpy(w->b + 8, "AVI ", 4);
	BAD("not WAVE");

	riff(w);
	data(w, s, 4);
	BAD("no fmt");
	riff(w);
	data(w, s, 4);
	fmt(w, 1, 1, 8000, 16);
	BAD("fmt after data");
	riff(w);
	fmt(w, 1, 1, 8000, 16);
	BAD("no data");
	riff(w);
	fmt(w, 3, 1, 8000, 32);
	data(w, s, 4);
	BAD("float");
	riff(w);
	fmt(w, 1, 1, 8000, 8);
	data(w, s, 4);
	BAD("8-bit");
	riff(w);
	fmt(w, 1, 3, 8000, 16);
	data(w, s, 4);
	BAD("3 channels");
	riff(w);
	fmt(w, 1, 0, 8000, 16);
	data(w, s, 4);
	BAD("0 channels");
	riff(w);
	fmt(w, 1, 1, 0, 16);
	data(w, s, 4);
	BAD("rate 0");
	riff(w);
	fmt(w, 1, 1, 1000000, 16);
	data(w, s, 4);
	BAD("rate 1 MHz");
	riff(w);
	fmt(w, 1, 1, 8000, 16);
	w->b[w->n - 4] = 4; /* block align */
	data(w, s, 4);
	BAD("block align");
	riff(w);
	fmt(w, 1, 1, 8000, 16);
	fmt(w, 1, 1, 8000, 16);
	data(w, s, 4);
	BAD("two fmt");
	riff(w);
	tag(w, "fmt ");
	u32(w, 14);
	u16(w, 1);
	u16(w, 1);
	u32(w, 8000);
	u32(w, 16000);
	u16(w, 2);
	data(w, s, 4);
	BAD("fmt of 14 octets");
	riff(w);
	chunk(w, "LIST", "abcd", 4);
	w->b[w->n - 8] = 200; /* LIST size beyond the file */
	fmt(w, 1, 1, 8000, 16);
	data(w, s, 4);
	BAD("chunk past the end");
	riff(w);
	fmt(w, 1, 1, 8000, 16);
	data(w, s, 4);
	done(w);
	w->b[4] = 2; /* RIFF size below "WAVE" */
	w->b[5] = w->b[6] = w->b[7] = 0;
	assert_int_equal(media_wav_decode(w->b, w->n, &pcm, &n), -EINVAL);
	/* every prefix of a good file: refused, or a prefix of its samples */
	riff(w);
	fmt(w, 1, 1, 8000, 16);
	data(w, s, 4);
	done(w);
	for (size_t len = 0; len < w->n; len++) {
		int rc = media_wav_decode(w->b, len, &pcm, &n);

		assert_true(rc == 0 || rc == -EINVAL);
		if (rc == 0) {
			assert_true(n <= 4);
			if (n)
				assert_memory_equal(pcm, s, n * sizeof(*pcm));
			mem_free(pcm);
		}
	}
	free(w);
	assert_int_equal(media_wav_load("/nonexistent/x.wav", &pcm, &n), -ENOENT);
	assert_int_equal(media_wav_load("/tmp", &pcm, &n), -EINVAL);
}

struct dec_ctx {
	struct img *w;
};

static int decode_once(void *arg)
{
	struct dec_ctx *c = arg;
	int16_t *pcm;
	size_t n;
	int rc = media_wav_decode(c->w->b, c->w->n, &pcm, &n);

	if (rc == 0)
		mem_free(pcm);
	return rc;
}

static void test_alloc_failures(void **state)
{
	struct dec_ctx c = { img_new() };
	int16_t s[480] = { 0 };

	(void)state;
	riff(c.w);
	fmt(c.w, 1, 2, 48000, 16);
	data(c.w, s, 480);
	done(c.w);
	assert_true(harness_alloc_fail_loop(decode_once, &c) >= 3);
	free(c.w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		SIPHON_TEST(test_write_read_back),
		SIPHON_TEST(test_chunks_skipped),
		SIPHON_TEST(test_stereo_and_rates),
		SIPHON_TEST(test_extensible_and_truncated),
		SIPHON_TEST(test_malformed),
		SIPHON_TEST(test_alloc_failures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
