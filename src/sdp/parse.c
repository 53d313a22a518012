/* SDP parser (RFC 4566) for the first audio stream of a description.
 *
 * Lines are "<type>=<value>" ending in CRLF or a bare LF; the first one
 * must be v=0 and an o= line must come before any m=. Session-level c= and
 * direction apply to the audio stream unless it has its own. Within the
 * first m=audio section: c=, a=rtpmap, a=ptime and the direction attributes;
 * every other section and attribute is skipped, but each line must still
 * be well formed. Addresses must be numeric (IPv4 or IPv6, RFC 4566 §5.7
 * multicast suffixes ignored). Every field is bounded; anything else is
 * -EINVAL. */
#include "sdp/sdp_int.h"

#include "base/str.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

#define SDP_MAX_M_FMT 64 /* formats on one m= line */
#define SDP_MAX_PTIME 10000

static const struct sdp_static_pt static_pts[] = {
	[0] = { "PCMU", 8000, 1 },   [3] = { "GSM", 8000, 1 },     [4] = { "G723", 8000, 1 },
	[5] = { "DVI4", 8000, 1 },   [6] = { "DVI4", 16000, 1 },   [7] = { "LPC", 8000, 1 },
	[8] = { "PCMA", 8000, 1 },   [9] = { "G722", 8000, 1 },    [10] = { "L16", 44100, 2 },
	[11] = { "L16", 44100, 1 },  [12] = { "QCELP", 8000, 1 },  [13] = { "CN", 8000, 1 },
	[14] = { "MPA", 90000, 1 },  [15] = { "G728", 8000, 1 },   [16] = { "DVI4", 11025, 1 },
	[17] = { "DVI4", 22050, 1 }, [18] = { "G729", 8000, 1 },
};

const struct sdp_static_pt *sdp_static_pt(uint8_t pt)
{
	if (pt < sizeof(static_pts) / sizeof(static_pts[0]) && static_pts[pt].name)
		return &static_pts[pt];
	return NULL;
}

bool sdp_fmt_is(const struct sdp_fmt *f, const char *name)
{
	return strcasecmp(f->name, name) == 0 && f->rate == 8000 && f->channels <= 1;
}

struct rtpmap {
	bool have;
	char name[16];
	uint32_t rate;
	uint8_t channels;
};

struct pstate {
	struct sdp_session *out;
	bool have_o;
	bool in_media;   /* past the first m= line */
	bool in_audio;   /* inside the first audio section */
	bool have_sess_c, have_media_c, have_media_dir;
	struct tp_addr sess_c, media_c;
	enum sdp_dir sess_dir, media_dir;
	uint16_t port;
	unsigned nall;
	uint8_t all[SDP_MAX_M_FMT];
	struct rtpmap map[128];
};

/* Next token of s separated by spaces (tabs tolerated); empty at the end. */
static struct str token(struct str *s)
{
	struct str t;
	size_t i = 0;

	if (!s->len)
		return str_make(s->s, 0);
	while (s->len && (s->s[0] == ' ' || s->s[0] == '\t')) {
		s->s++;
		s->len--;
	}
	while (i < s->len && s->s[i] != ' ' && s->s[i] != '\t')
		i++;
	t = str_make(s->s, i);
	s->s += i;
	s->len -= i;
	return t;
}

static bool at_end(struct str s)
{
	struct str t = token(&s);

	return t.len == 0;
}

static int parse_u64(struct str t, uint64_t *out)
{
	uint64_t v = 0;

	if (!t.len || t.len > 20)
		return -EINVAL;
	for (size_t i = 0; i < t.len; i++) {
		unsigned d = (unsigned char)t.s[i] - '0';

		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

static int parse_uint(struct str t, uint32_t max, uint32_t *out)
{
	uint64_t v;

	if (parse_u64(t, &v) < 0 || v > max)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static bool is_dir(struct str name, enum sdp_dir *d)
{
	if (str_eq(name, STR_LIT("sendrecv")))
		*d = SDP_SENDRECV;
	else if (str_eq(name, STR_LIT("sendonly")))
		*d = SDP_SENDONLY;
	else if (str_eq(name, STR_LIT("recvonly")))
		*d = SDP_RECVONLY;
	else if (str_eq(name, STR_LIT("inactive")))
		*d = SDP_INACTIVE;
	else
		return false;
	return true;
}

/* o=<username> <sess-id> <sess-version> <nettype> <addrtype> <address> */
static int parse_o(struct pstate *ps, struct str v)
{
	struct str t[6];

	for (int i = 0; i < 6; i++)
		if (!(t[i] = token(&v)).len)
			return -EINVAL;
	if (!at_end(v) || parse_u64(t[1], &ps->out->sess_id) < 0 ||
	    parse_u64(t[2], &ps->out->sess_version) < 0)
		return -EINVAL;
	ps->have_o = true;
	return 0;
}

/* c=IN IP4 <address>[/ttl[/n]] or c=IN IP6 <address>[/n] */
static int parse_c(struct tp_addr *a, struct str v)
{
	struct str net = token(&v), type = token(&v), addr = token(&v);
	ptrdiff_t slash = str_chr(addr, '/');
	int fam;

	if (!at_end(v) || !str_eq(net, STR_LIT("IN")))
		return -EINVAL;
	if (str_eq(type, STR_LIT("IP4")))
		fam = AF_INET;
	else if (str_eq(type, STR_LIT("IP6")))
		fam = AF_INET6;
	else
		return -EINVAL;
	if (slash >= 0)
		addr.len = (size_t)slash;
	if (!addr.len || addr.s[0] == '[' || tp_addr_from_numeric(a, addr, 0) < 0 ||
	    a->ss.ss_family != fam)
		return -EINVAL;
	return 0;
}

/* m=audio <port>[/<count>] <proto> <fmt> ... */
static int parse_m_audio(struct pstate *ps, struct str v)
{
	struct str port = token(&v), proto = token(&v), f;
	ptrdiff_t slash = str_chr(port, '/');
	uint32_t n;

	if (slash >= 0) {
		if (parse_uint(str_make(port.s + slash + 1, port.len - (size_t)slash - 1), 65535,
			       &n) < 0)
			return -EINVAL;
		port.len = (size_t)slash;
	}
	if (parse_uint(port, 65535, &n) < 0)
		return -EINVAL;
	ps->port = (uint16_t)n;
	if (str_copy(ps->out->audio.proto, sizeof(ps->out->audio.proto), proto) < 0 || !proto.len)
		return -EINVAL;
	while ((f = token(&v)).len) {
		if (ps->nall == SDP_MAX_M_FMT || parse_uint(f, 127, &n) < 0)
			return -EINVAL;
		ps->all[ps->nall++] = (uint8_t)n;
	}
	return ps->nall ? 0 : -EINVAL;
}

/* a=rtpmap:<pt> <encoding>/<rate>[/<channels>] */
static int parse_rtpmap(struct pstate *ps, struct str v)
{
	struct str pt = token(&v), enc = token(&v), name, rate, ch = STR_NULL;
	ptrdiff_t s1, s2;
	uint32_t n, r, c = 1;

	if (!at_end(v) || parse_uint(pt, 127, &n) < 0 || (s1 = str_chr(enc, '/')) <= 0)
		return -EINVAL;
	name = str_make(enc.s, (size_t)s1);
	rate = str_make(enc.s + s1 + 1, enc.len - (size_t)s1 - 1);
	if ((s2 = str_chr(rate, '/')) >= 0) {
		ch = str_make(rate.s + s2 + 1, rate.len - (size_t)s2 - 1);
		rate.len = (size_t)s2;
		if (parse_uint(ch, 255, &c) < 0 || c == 0)
			return -EINVAL;
	}
	if (parse_uint(rate, UINT32_MAX, &r) < 0 || r == 0)
		return -EINVAL;
	if (ps->map[n].have)
		return 0; /* the first mapping counts */
	/* a name too long for us is not one we know: keep it unnamed */
	if (str_copy(ps->map[n].name, sizeof(ps->map[n].name), name) < 0)
		ps->map[n].name[0] = '\0';
	ps->map[n].rate = r;
	ps->map[n].channels = (uint8_t)c;
	ps->map[n].have = true;
	return 0;
}

/* a=ptime:<ms>, a fraction tolerated ("20.0") */
static int parse_ptime(struct sdp_audio *a, struct str v)
{
	ptrdiff_t dot = str_chr(v, '.');
	uint32_t n, frac;

	if (dot >= 0) {
		struct str f = str_make(v.s + dot + 1, v.len - (size_t)dot - 1);

		if (f.len && parse_uint(f, UINT32_MAX, &frac) < 0)
			return -EINVAL;
		v.len = (size_t)dot;
	}
	if (parse_uint(v, SDP_MAX_PTIME, &n) < 0 || n == 0)
		return -EINVAL;
	a->ptime_ms = n;
	return 0;
}

static int parse_a(struct pstate *ps, struct str v)
{
	ptrdiff_t colon = str_chr(v, ':');
	struct str name = colon >= 0 ? str_make(v.s, (size_t)colon) : v;
	struct str val = colon >= 0 ? str_make(v.s + colon + 1, v.len - (size_t)colon - 1) : STR_NULL;
	enum sdp_dir d;

	if (!name.len)
		return -EINVAL;
	if (!ps->in_media) {
		if (is_dir(name, &d))
			ps->sess_dir = d;
		return 0;
	}
	if (!ps->in_audio)
		return 0;
	if (is_dir(name, &d)) {
		ps->media_dir = d;
		ps->have_media_dir = true;
	} else if (str_eq(name, STR_LIT("rtpmap"))) {
		return parse_rtpmap(ps, val);
	} else if (str_eq(name, STR_LIT("ptime"))) {
		return parse_ptime(&ps->out->audio, val);
	}
	return 0;
}

static bool interesting(const struct sdp_fmt *f)
{
	return sdp_fmt_is(f, "PCMU") || sdp_fmt_is(f, "PCMA") || sdp_fmt_is(f, "telephone-event");
}

/* The audio section is complete: fill out->audio. */
static int finish_audio(struct pstate *ps)
{
	struct sdp_audio *a = &ps->out->audio;
	struct sdp_fmt all[SDP_MAX_M_FMT];
	bool keep[SDP_MAX_M_FMT] = { false };
	unsigned nkeep = 0;

	ps->in_audio = false;
	if (ps->have_media_c) {
		a->addr = ps->media_c;
	} else if (ps->have_sess_c) {
		a->addr = ps->sess_c;
	} else if (ps->port == 0) {
		/* a rejected stream needs no address: 0.0.0.0 */
		tp_addr_from_numeric(&a->addr, STR_LIT("0.0.0.0"), 0);
	} else {
		return -EINVAL; /* RFC 4566 §5.7: c= in the session or the media */
	}
	tp_addr_set_port(&a->addr, ps->port);
	a->port_zero = ps->port == 0;
	a->dir = ps->have_media_dir ? ps->media_dir : ps->sess_dir;

	for (unsigned i = 0; i < ps->nall; i++) {
		uint8_t pt = ps->all[i];
		const struct sdp_static_pt *st = sdp_static_pt(pt);
		struct sdp_fmt *f = &all[i];

		memset(f, 0, sizeof(*f));
		f->pt = pt;
		f->channels = 1;
		if (ps->map[pt].have) {
			memcpy(f->name, ps->map[pt].name, sizeof(f->name));
			f->rate = ps->map[pt].rate;
			f->channels = ps->map[pt].channels;
		} else if (st) {
			strcpy(f->name, st->name);
			f->rate = st->rate;
			f->channels = st->channels;
		}
	}
	/* more formats than we keep: ours first, then the others in order,
	 * listed in the offer's order */
	for (unsigned i = 0; i < ps->nall && nkeep < SDP_MAX_FMT; i++)
		if (interesting(&all[i])) {
			keep[i] = true;
			nkeep++;
		}
	for (unsigned i = 0; i < ps->nall && nkeep < SDP_MAX_FMT; i++)
		if (!keep[i]) {
			keep[i] = true;
			nkeep++;
		}
	a->nfmt = 0;
	for (unsigned i = 0; i < ps->nall; i++)
		if (keep[i])
			a->fmt[a->nfmt++] = all[i];
	ps->out->has_audio = true;
	return 0;
}

static int parse_line(struct pstate *ps, char type, struct str v)
{
	switch (type) {
	case 'v':
		return -EINVAL; /* only as the first line */
	case 'o':
		if (ps->have_o || ps->in_media)
			return -EINVAL;
		return parse_o(ps, v);
	case 'c':
		if (!ps->in_media) {
			ps->have_sess_c = true;
			return parse_c(&ps->sess_c, v);
		}
		if (ps->in_audio) {
			ps->have_media_c = true;
			return parse_c(&ps->media_c, v);
		}
		return 0;
	case 'm': {
		struct str media = token(&v);
		int err;

		if (!ps->have_o || !media.len)
			return -EINVAL;
		if (ps->in_audio && (err = finish_audio(ps)) < 0)
			return err;
		ps->in_media = true;
		if (str_eq(media, STR_LIT("audio")) && !ps->out->has_audio && !ps->nall) {
			ps->in_audio = true;
			return parse_m_audio(ps, v);
		}
		return 0;
	}
	case 'a':
		return parse_a(ps, v);
	default:
		return 0; /* s=, t=, b=, i=, u=, e=, p=, z=, k=, r=, ... */
	}
}

int sdp_parse(struct sdp_session *out, const char *buf, size_t len)
{
	struct pstate st;
	const char *p = buf, *end = buf + len;
	unsigned lines = 0;
	int err = -EINVAL;

	memset(out, 0, sizeof(*out));
	memset(&st, 0, sizeof(st));
	st.out = out;
	if (!buf)
		return -EINVAL;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *next = nl ? nl + 1 : end;
		size_t ll = (size_t)((nl ? nl : end) - p);
		struct str v;

		if (ll && p[ll - 1] == '\r')
			ll--;
		if (ll == 0) { /* blank lines (a trailing CRLF) are tolerated */
			p = next;
			continue;
		}
		if (ll < 2 || p[1] != '=' || p[0] < 'a' || p[0] > 'z')
			goto bad;
		for (size_t i = 2; i < ll; i++) {
			unsigned char c = (unsigned char)p[i];

			if ((c < 0x20 && c != '\t') || c == 0x7F)
				goto bad;
		}
		v = str_make(p + 2, ll - 2);
		if (lines++ == 0) {
			if (p[0] != 'v' || !str_eq(v, STR_LIT("0")))
				goto bad;
		} else {
			int rc = parse_line(&st, p[0], v);

			if (rc < 0) {
				err = rc;
				goto bad;
			}
		}
		p = next;
	}
	if (!lines || !st.have_o)
		goto bad;
	if (st.in_audio && (err = finish_audio(&st)) < 0)
		goto bad;
	return out->has_audio ? 0 : -ENOENT;
bad:
	memset(out, 0, sizeof(*out));
	return err;
}
