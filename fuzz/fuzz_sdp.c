/* libFuzzer target for the SDP parser: any input parses or is refused
 * with -EINVAL / -ENOENT; what parses has bounded, terminated fields, can
 * be written back with sdp_write, and that SDP parses to the same address,
 * direction, session and formats; negotiation on it answers PCMU/PCMA or
 * -ENOTSUP. */
#include "sdp/sdp.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sdp_session s, t;
	char out[2048];
	uint8_t pts[SDP_MAX_FMT], pt, te = 0, tpt;
	unsigned n = 0;
	enum sdp_dir d;
	int rc, w;

	rc = sdp_parse(&s, (const char *)data, size);
	if (rc != 0 && rc != -EINVAL && rc != -ENOENT)
		abort();
	if (rc != 0) {
		if (s.has_audio)
			abort();
		return 0;
	}
	if (!s.has_audio || s.audio.nfmt == 0 || s.audio.nfmt > SDP_MAX_FMT ||
	    (unsigned)s.audio.dir > SDP_INACTIVE || !memchr(s.audio.proto, 0, sizeof(s.audio.proto)))
		abort();
	for (unsigned i = 0; i < s.audio.nfmt; i++) {
		const struct sdp_fmt *f = &s.audio.fmt[i];

		if (f->pt >= 128 || !memchr(f->name, 0, sizeof(f->name)))
			abort();
		if (!te && strcasecmp(f->name, "telephone-event") == 0 && f->pt)
			te = f->pt;
		else
			pts[n++] = f->pt;
	}
	if (!n) { /* only telephone-event: offer it as a plain format */
		pts[n++] = te;
		te = 0;
	}

	w = sdp_write(out, sizeof(out), NULL, s.sess_id, s.sess_version, &s.audio.addr, pts, n, te,
		      s.audio.dir);
	if (w <= 0 || (size_t)w >= sizeof(out) || strlen(out) != (size_t)w)
		abort();
	if (sdp_parse(&t, out, (size_t)w) != 0)
		abort();
	if (t.sess_id != s.sess_id || t.sess_version != s.sess_version ||
	    !tp_addr_equal(&t.audio.addr, &s.audio.addr) || t.audio.port_zero != s.audio.port_zero ||
	    t.audio.dir != s.audio.dir || t.audio.ptime_ms != 20 || t.audio.fmt[0].pt != pts[0])
		abort();

	rc = sdp_negotiate(&s.audio, SDP_SENDRECV, &pt, &tpt, &d);
	if (rc == 0 && pt != SDP_PT_PCMU && pt != SDP_PT_PCMA)
		abort();
	if (rc != 0 && rc != -ENOTSUP)
		abort();
	return 0;
}
