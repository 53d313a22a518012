/* WAV files: reading RIFF/WAVE PCM 16-bit (mono or stereo, any rate,
 * converted to 8 kHz mono) and writing 8 kHz 16-bit mono whose header is
 * always up to date. */
#include "media/media_int.h"

#include "base/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WAV_FMT_PCM 1
#define WAV_FMT_EXTENSIBLE 0xFFFE
#define WAV_MIN_RATE 1000
#define WAV_MAX_RATE 384000
#define WAV_MAX_FILE (512u << 20) /* refuse to load more than this */

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* ---- resampling to 8 kHz ---- */

#define RS_PHASES 256   /* kernel table resolution, per input sample */
#define RS_ZEROS 4      /* zero crossings of the sinc on each side */
#define RS_CUTOFF 0.45  /* of the 8 kHz output rate: 3.6 kHz */

size_t media_resample_len(size_t nin, uint32_t rate)
{
	if (!rate)
		return 0;
	return (size_t)((uint64_t)nin * MEDIA_RATE / rate);
}

/* A little arithmetic of our own rather than a dependency on libm. */
static long round_l(double v)
{
	return v >= 0 ? (long)(v + 0.5) : -(long)(-v + 0.5);
}

static long floor_l(double v)
{
	long i = (long)v;

	return (double)i > v ? i - 1 : i;
}

#define RS_PI 3.14159265358979323846

/* sin(x), to about 1e-9 (Taylor series on [-pi/2, pi/2] after reduction). */
static double sin_d(double x)
{
	double x2, term, sum;

	x -= 2 * RS_PI * (double)round_l(x / (2 * RS_PI)); /* [-pi, pi] */
	if (x > RS_PI / 2)
		x = RS_PI - x;
	else if (x < -RS_PI / 2)
		x = -RS_PI - x;
	x2 = x * x;
	term = x;
	sum = x;
	for (int k = 1; k < 12; k++) {
		term *= -x2 / (double)((2 * k) * (2 * k + 1));
		sum += term;
	}
	return sum;
}

static int16_t clamp16(double v)
{
	if (v >= 32767.0)
		return 32767;
	if (v <= -32768.0)
		return -32768;
	return (int16_t)round_l(v);
}

int media_resample(const int16_t *in, size_t nin, uint32_t rate, int16_t *out, size_t nout)
{
	double step = (double)rate / MEDIA_RATE; /* input samples per output sample */

	if (rate == MEDIA_RATE) {
		memcpy(out, in, (nout < nin ? nout : nin) * sizeof(*out));
		return 0;
	}
	if (rate < MEDIA_RATE) {
		/* upsampling: linear interpolation */
		for (size_t k = 0; k < nout; k++) {
			double t = (double)k * step;
			size_t i = (size_t)t;
			double f = t - (double)i;
			int16_t a = i < nin ? in[i] : 0;
			int16_t b = i + 1 < nin ? in[i + 1] : a;

			out[k] = clamp16(a + (b - a) * f);
		}
		return 0;
	}

	/* downsampling: a windowed-sinc low-pass at RS_CUTOFF of the output
	 * rate, evaluated at each output instant from a kernel table */
	double fc = RS_CUTOFF / step; /* cycles per input sample */
	long half = floor_l(RS_ZEROS / (2.0 * fc)) + 1;
	size_t ntab = (size_t)(2 * half * RS_PHASES + 1);
	float *tab = mem_alloc(ntab * sizeof(*tab));

	if (!tab)
		return -ENOMEM;
	for (size_t j = 0; j < ntab; j++) {
		double x = (double)j / RS_PHASES - (double)half;
		double a = 2.0 * fc * x;
		double sinc = a > -1e-12 && a < 1e-12 ? 1.0 : sin_d(RS_PI * a) / (RS_PI * a);
		/* Hann window, cos(y) = sin(y + pi/2) */
		double win = 0.5 + 0.5 * sin_d(RS_PI * x / (double)half + RS_PI / 2);

		tab[j] = (float)(sinc * win);
	}
	for (size_t k = 0; k < nout; k++) {
		double t = (double)k * step;
		long c = floor_l(t);
		double sum = 0, wsum = 0;

		for (long i = c - half + 1; i <= c + half; i++) {
			double x = (double)i - t;
			long j;

			if (i < 0 || (size_t)i >= nin)
				continue;
			j = round_l((x + (double)half) * RS_PHASES);
			if (j < 0 || (size_t)j >= ntab)
				continue;
			sum += tab[j] * in[i];
			wsum += tab[j];
		}
		if (wsum > 1e-6)
			out[k] = clamp16(sum / wsum);
		else
			out[k] = (size_t)c < nin ? in[c] : 0;
	}
	mem_free(tab);
	return 0;
}

/* ---- reading ---- */

struct wav_fmt {
	uint16_t channels;
	uint32_t rate;
	uint16_t block_align;
};

/* KSDATAFORMAT_SUBTYPE_PCM: 00000001-0000-0010-8000-00aa00389b71 */
static const uint8_t guid_pcm[16] = { 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00,
				      0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71 };

static int parse_fmt(struct wav_fmt *f, const uint8_t *p, uint32_t sz)
{
	uint16_t tag, bits;

	if (sz < 16)
		return -EINVAL;
	tag = le16(p);
	f->channels = le16(p + 2);
	f->rate = le32(p + 4);
	f->block_align = le16(p + 12);
	bits = le16(p + 14);
	if (tag == WAV_FMT_EXTENSIBLE) {
		/* cbSize, valid bits, channel mask, sub-format GUID */
		if (sz < 40 || le16(p + 16) < 22 || memcmp(p + 24, guid_pcm, 16) != 0)
			return -EINVAL;
	} else if (tag != WAV_FMT_PCM) {
		return -EINVAL;
	}
	if (bits != 16 || f->channels < 1 || f->channels > 2 || f->rate < WAV_MIN_RATE ||
	    f->rate > WAV_MAX_RATE || f->block_align != 2 * f->channels)
		return -EINVAL;
	return 0;
}

static int convert(const struct wav_fmt *f, const uint8_t *p, size_t bytes, int16_t **pcm,
		   size_t *n)
{
	size_t frames = bytes / f->block_align, nout;
	int16_t *mono, *out;
	int err;

	*pcm = NULL;
	*n = 0;
	if (!frames)
		return 0;
	mono = mem_alloc(frames * sizeof(*mono));
	if (!mono)
		return -ENOMEM;
	for (size_t i = 0; i < frames; i++) {
		const uint8_t *s = p + i * f->block_align;

		if (f->channels == 2)
			mono[i] = (int16_t)(((int)(int16_t)le16(s) + (int)(int16_t)le16(s + 2)) / 2);
		else
			mono[i] = (int16_t)le16(s);
	}
	if (f->rate == MEDIA_RATE) {
		*pcm = mono;
		*n = frames;
		return 0;
	}
	nout = media_resample_len(frames, f->rate);
	if (!nout) {
		mem_free(mono);
		return 0;
	}
	out = mem_alloc(nout * sizeof(*out));
	if (!out) {
		mem_free(mono);
		return -ENOMEM;
	}
	err = media_resample(mono, frames, f->rate, out, nout);
	mem_free(mono);
	if (err < 0) {
		mem_free(out);
		return err;
	}
	*pcm = out;
	*n = nout;
	return 0;
}

int media_wav_decode(const uint8_t *buf, size_t len, int16_t **pcm, size_t *n)
{
	struct wav_fmt f = { 0 };
	bool have_fmt = false;
	size_t off = 12, end;

	*pcm = NULL;
	*n = 0;
	if (len < 12 || memcmp(buf, "RIFF", 4) != 0 || memcmp(buf + 8, "WAVE", 4) != 0)
		return -EINVAL;
	/* a RIFF size beyond the file: cut short (a recorder stopped early) */
	end = le32(buf + 4);
	if (end < 4)
		return -EINVAL;
	end = end > len - 8 ? len : end + 8;
	while (off + 8 <= end) {
		const uint8_t *id = buf + off;
		uint32_t sz = le32(buf + off + 4);
		size_t body = off + 8;

		if (memcmp(id, "data", 4) == 0) {
			if (!have_fmt)
				return -EINVAL;
			/* the data may run to the end of a truncated file */
			return convert(&f, buf + body, sz > end - body ? end - body : sz, pcm, n);
		}
		if (sz > end - body)
			return -EINVAL;
		if (memcmp(id, "fmt ", 4) == 0) {
			int err;

			if (have_fmt)
				return -EINVAL;
			if ((err = parse_fmt(&f, buf + body, sz)) < 0)
				return err;
			have_fmt = true;
		}
		/* any other chunk (LIST, fact, cue, ...) is skipped; chunks are
		 * padded to an even size */
		off = body + sz + (sz & 1);
	}
	return -EINVAL; /* no data chunk */
}

int media_wav_load(const char *path, int16_t **pcm, size_t *n)
{
	struct stat st;
	uint8_t *buf;
	size_t got = 0;
	int fd, err;

	*pcm = NULL;
	*n = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	if (!S_ISREG(st.st_mode) || st.st_size < 12 || (uint64_t)st.st_size > WAV_MAX_FILE) {
		close(fd);
		return S_ISREG(st.st_mode) && st.st_size >= 12 ? -EFBIG : -EINVAL;
	}
	buf = mem_alloc((size_t)st.st_size);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	err = media_wav_decode(buf, got, pcm, n);
	mem_free(buf);
	return err;
}

/* ---- writing ---- */

static void header(uint8_t h[WAV_HDR_LEN], uint32_t bytes)
{
	memcpy(h, "RIFF", 4);
	put_le32(h + 4, 36 + bytes);
	memcpy(h + 8, "WAVEfmt ", 8);
	put_le32(h + 16, 16);
	put_le16(h + 20, WAV_FMT_PCM);
	put_le16(h + 22, 1);                  /* mono */
	put_le32(h + 24, MEDIA_RATE);
	put_le32(h + 28, MEDIA_RATE * 2);     /* byte rate */
	put_le16(h + 32, 2);                  /* block align */
	put_le16(h + 34, 16);                 /* bits per sample */
	memcpy(h + 36, "data", 4);
	put_le32(h + 40, bytes);
}

static int write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

static int fix_header(struct wav_writer *w)
{
	uint8_t h[WAV_HDR_LEN];
	ssize_t r;

	header(h, w->bytes);
	do
		r = pwrite(w->fd, h, sizeof(h), 0);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	return r == (ssize_t)sizeof(h) ? 0 : -EIO;
}

int wav_writer_open(struct wav_writer *w, const char *path)
{
	uint8_t h[WAV_HDR_LEN];
	int err;

	w->bytes = 0;
	w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (w->fd < 0)
		return -errno;
	header(h, 0);
	if ((err = write_all(w->fd, h, sizeof(h))) < 0) {
		close(w->fd);
		w->fd = -1;
		return err;
	}
	return 0;
}

int wav_writer_write(struct wav_writer *w, const int16_t *pcm, size_t n)
{
	uint8_t buf[2 * 512];
	int err;

	if (w->fd < 0)
		return -EBADF;
	while (n) {
		size_t k = n < 512 ? n : 512;

		if (2 * k > WAV_MAX_DATA - w->bytes)
			return -EFBIG;
		for (size_t i = 0; i < k; i++)
			put_le16(buf + 2 * i, (uint16_t)pcm[i]);
		if ((err = write_all(w->fd, buf, 2 * k)) < 0)
			return err;
		w->bytes += (uint32_t)(2 * k);
		pcm += k;
		n -= k;
	}
	return fix_header(w);
}

int wav_writer_close(struct wav_writer *w)
{
	int err, cerr;

	if (w->fd < 0)
		return 0;
	err = fix_header(w);
	cerr = close(w->fd);
	w->fd = -1;
	if (err < 0)
		return err;
	return cerr < 0 ? -errno : 0;
}
