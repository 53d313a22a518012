/* One-pass SIP message parser (RFC 3261 §7, §25): frames the message, splits
 * the start line, indexes header lines as slices and checks the headers that
 * every element needs. No allocation, no copying. */
#include "msg/msg.h"

#include "msg/scan.h"
#include "msg/uri.h"

#include <errno.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* Largest Content-Length we will believe; anything above cannot fit a message. */
#define SIP_MAX_CONTENT_LENGTH (16u * 1024u * 1024u)

static int fail(struct sip_msg *m, int code, const char *reason, const char *at)
{
	/* the first fault found is the one reported */
	if (m->err.reason == NULL) {
		m->err.code = code;
		m->err.reason = reason;
		m->err.offset = at ? (size_t)(at - m->buf) : 0;
	}
	return -EBADMSG;
}

/* SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT (§25.1; "SIP" is case-insensitive).
 * Returns 0 for SIP/2.0, 1 for a well-formed other version, -1 if malformed. */
static int check_version(struct str v)
{
	size_t i = 4, d1 = 0, d2 = 0;

	if (v.len < 7 || !str_caseeq(str_make(v.s, 4), STR_LIT("SIP/")))
		return -1;
	while (i < v.len && sc_digit((unsigned char)v.s[i]))
		i++, d1++;
	if (d1 == 0 || i >= v.len || v.s[i] != '.')
		return -1;
	i++;
	while (i < v.len && sc_digit((unsigned char)v.s[i]))
		i++, d2++;
	if (d2 == 0 || i != v.len)
		return -1;
	return (v.len == 7 && v.s[4] == '2' && v.s[6] == '0') ? 0 : 1;
}

/* Request-Line = Method SP Request-URI SP SIP-Version CRLF (§25.1): exactly one
 * SP between elements and none trailing (RFC 4475 §3.1.2.9, §3.1.2.10). */
static int parse_request_line(struct sip_msg *m, const char *p, const char *eol)
{
	const char *s = p, *sp;
	struct sip_uri uri;
	const char *why;
	int v;

	while (s < eol && sc_token((unsigned char)*s))
		s++;
	if (s == p || s >= eol || *s != ' ')
		return fail(m, 400, "Bad Request-Line", s);
	m->method = str_make(p, (size_t)(s - p));
	m->method_id = sip_method_lookup(m->method);
	s++;
	sp = memchr(s, ' ', (size_t)(eol - s));
	if (!sp || sp == s)
		return fail(m, 400, "Bad Request-Line", s);
	m->ruri = str_make(s, (size_t)(sp - s));
	m->version = str_make(sp + 1, (size_t)(eol - sp - 1));
	v = check_version(m->version);
	if (v < 0)
		return fail(m, 400, "Bad Request-Line", sp + 1);
	if (v > 0)
		return fail(m, 505, "Version Not Supported", sp + 1);
	if (sip_uri_parse(&uri, m->ruri.s, m->ruri.len, &why) != 0)
		return fail(m, 400, "Bad Request-URI", m->ruri.s);
	/* headers are not allowed in a Request-URI (§19.1.1 table 1, RFC 4475 §3.1.2.11) */
	if ((uri.scheme == SIP_URI_SIP || uri.scheme == SIP_URI_SIPS) && uri.headers.s)
		return fail(m, 400, "Bad Request-URI", m->ruri.s);
	m->ruri_scheme = uri.scheme;
	if (uri.scheme == SIP_URI_SIP || uri.scheme == SIP_URI_SIPS) {
		/* kept so that nobody parses the Request-URI a second time */
		m->ruri_user = uri.user;
		m->ruri_host = uri.host;
	}
	return 0;
}

/* Status-Line = SIP-Version SP Status-Code SP Reason-Phrase CRLF (§25.1). */
static int parse_status_line(struct sip_msg *m, const char *p, const char *eol)
{
	const char *sp = memchr(p, ' ', (size_t)(eol - p));
	const char *c;

	if (!sp)
		return fail(m, 400, "Bad Status-Line", p);
	m->version = str_make(p, (size_t)(sp - p));
	if (check_version(m->version) != 0)
		return fail(m, 400, "Bad Status-Line", p);
	c = sp + 1;
	/* Status-Code = 3DIGIT, then SP (the SP is required even when the reason is empty) */
	if (eol - c < 4 || !sc_digit((unsigned char)c[0]) || !sc_digit((unsigned char)c[1]) ||
	    !sc_digit((unsigned char)c[2]) || c[3] != ' ')
		return fail(m, 400, "Bad Status-Code", c);
	m->status = (uint16_t)((c[0] - '0') * 100 + (c[1] - '0') * 10 + (c[2] - '0'));
	if (m->status < 100 || m->status > 699)
		return fail(m, 400, "Bad Status-Code", c);
	m->reason = str_make(c + 4, (size_t)(eol - c - 4));
	for (size_t i = 0; i < m->reason.len; i++) {
		unsigned char ch = (unsigned char)m->reason.s[i];
		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return fail(m, 400, "Bad Reason-Phrase", m->reason.s + i);
	}
	return 0;
}

/* The first octet below 0x20 or equal to 0x7f in [p, end), or end. Header
 * text is mostly clean, so whole blocks are tested at once: 16 octets with
 * SSE2 (baseline on x86-64), else 8 in a word (SWAR). */
static inline const char *find_ctl(const char *p, const char *end)
{
#ifdef __SSE2__
	const __m128i c1f = _mm_set1_epi8(0x1f), del = _mm_set1_epi8(0x7f);

	while (end - p >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		/* v <= 0x1f (unsigned) where min(v, 0x1f) == v */
		__m128i hit = _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(v, c1f), v),
					   _mm_cmpeq_epi8(v, del));
		unsigned mask = (unsigned)_mm_movemask_epi8(hit);

		if (mask)
			return p + __builtin_ctz(mask);
		p += 16;
	}
#endif
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	{
		const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;

		while (end - p >= 8) {
			uint64_t x, d, hit;

			memcpy(&x, p, 8);
			d = x ^ (0x7f * ones);
			/* high bit set for an octet below 0x20 or equal to 0x7f; the
			 * lowest one is exact (borrows only run upwards) */
			hit = (((x - 0x20 * ones) & ~x) | ((d - ones) & ~d)) & highs;
			if (hit)
				return p + (__builtin_ctzll(hit) >> 3);
			p += 8;
		}
	}
#endif
	for (; p < end; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return p;
	return end;
}

/* Whether the octet at p is the second half of a quoted-pair, i.e. it
 * follows a backslash that is itself inside a quoted-string of the line
 * that starts at start (RFC 3261 §25.1). Only runs for the rare control
 * octet after a backslash. A quoted-string continued across a folded line
 * is judged from this line alone. */
static bool quoted_pair_at(const char *start, const char *p)
{
	bool inq = false;

	for (const char *q = start; q < p; q++) {
		if (*q == '"') {
			inq = !inq;
		} else if (inq && *q == '\\') {
			if (q + 1 == p)
				return true;
			q++; /* skip the escaped octet */
		}
	}
	return false;
}

/* Find the LF that ends the header line starting at start, or NULL if the
 * buffer ends first. On the way, *bad is set to the first control octet that
 * RFC 3261 §25.1 does not allow in a header line: anything below 0x20 but
 * HTAB and the CR of CRLF, and DEL, unless it is the second half of a
 * quoted-pair ("\" %x00-7F, RFC 4475 §3.1.1.2). This is the one pass over
 * every header byte; the usual line has one control octet, its CR. */
static const char *scan_line(const char *start, const char *end, const char **bad)
{
	const char *p = start;

	*bad = NULL;
	for (;; p++) {
		unsigned char c;

		p = find_ctl(p, end);
		if (p == end)
			return NULL;
		c = (unsigned char)*p;
		if (c == '\n')
			return p;
		if (c == '\r' && p + 1 < end && p[1] == '\n')
			return p + 1; /* the CR of CRLF */
		if (c == '\t' || (c == '\r' && p + 1 == end))
			continue; /* (or a buffer cut right after the CR) */
		if (c != '\r' && p > start && p[-1] == '\\' && quoted_pair_at(start, p))
			continue;
		if (!*bad)
			*bad = p;
	}
}

static void add_header(struct sip_msg *m, const char *line, const char *name_end,
		       const char *val, const char *eol)
{
	struct sip_hdr *h = &m->hdrs[m->nhdrs];
	enum sip_hdr_type t = sip_hdr_lookup(line, (size_t)(name_end - line));

	h->name = str_make(line, (size_t)(name_end - line));
	h->value = str_make(val, (size_t)(eol - val));
	h->line = str_make(line, (size_t)(eol + 2 - line));
	h->type = (uint16_t)t;
	h->next = SIP_HDR_NONE;
	if (m->first[t] == SIP_HDR_NONE)
		m->first[t] = m->nhdrs;
	else
		m->hdrs[m->last[t]].next = m->nhdrs;
	m->last[t] = m->nhdrs;
	m->nhdrs++;
}

/* Extend the previous header over a folded continuation line (§7.3.1). */
static void fold_header(struct sip_msg *m, const char *p, const char *eol)
{
	struct sip_hdr *h = &m->hdrs[m->nhdrs - 1];

	if (h->value.len == 0) {
		/* the value starts on this line ("To :" CRLF SP "sip:...") */
		while (p < eol && sc_wsp((unsigned char)*p))
			p++;
		h->value.s = p;
	}
	h->value.len = (size_t)(eol - h->value.s);
	h->line.len = (size_t)(eol + 2 - h->line.s);
}

/* header = field-name HCOLON field-value; HCOLON = *( SP / HTAB ) ":" SWS.
 * *eol is the CR of the line's CRLF, neither a token char nor WSP: it stops
 * the scans below without a bound check per octet. */
static int index_header(struct sip_msg *m, const char *p, const char *eol, bool *overflow)
{
	const char *s = p, *name_end, *v;

	while (sc_token((unsigned char)*s))
		s++;
	name_end = s;
	while (sc_wsp((unsigned char)*s))
		s++;
	if (name_end == p || s >= eol || *s != ':')
		return fail(m, 400, "Bad Header Line", p);
	v = s + 1;
	while (sc_wsp((unsigned char)*v))
		v++;
	if (m->nhdrs >= SIP_MSG_MAX_HDRS) {
		*overflow = true;
		return fail(m, 400, "Too Many Headers", p);
	}
	add_header(m, p, name_end, v, eol);
	return 0;
}

/* The only header instance of a type, or an error naming it (RFC 4475 §3.3.8). */
static const struct sip_hdr *single(struct sip_msg *m, enum sip_hdr_type t,
				    const char *missing, const char *multiple)
{
	const struct sip_hdr *h = sip_msg_hdr(m, t);

	if (!h) {
		if (missing)
			fail(m, 400, missing, NULL);
		return NULL;
	}
	if (h->next != SIP_HDR_NONE) {
		fail(m, 400, multiple, m->hdrs[h->next].line.s);
		return NULL;
	}
	return h;
}

static void check_headers(struct sip_msg *m)
{
	const struct sip_hdr *h;
	const char *why;
	uint32_t u;
	struct str cur;

	/* Via first: it decides whether a 400 can be routed back (§18.2.2). */
	h = sip_msg_hdr(m, SIP_HDR_VIA);
	if (!h) {
		memset(&m->via1, 0, sizeof(m->via1));
		fail(m, 400, "Missing Via", NULL);
	} else {
		cur = h->value;
		if (sip_via_parse(&m->via1, &cur, &why) != 0)
			fail(m, 400, "Bad Via", h->value.s);
		else
			m->via1_rest = cur;
		m->via1_ok = m->via1.host.len > 0 && m->via1.transport.len > 0;
	}

	memset(&m->cseq, 0, sizeof(m->cseq));
	h = single(m, SIP_HDR_FROM, "Missing From", "Multiple From");
	if (!h)
		memset(&m->from, 0, sizeof(m->from));
	if (h) {
		cur = h->value;
		if (sip_nameaddr_parse(&m->from, &cur, 0, &why) != 0 || str_trim(cur).len)
			fail(m, 400, "Bad From", h->value.s);
	}
	h = single(m, SIP_HDR_TO, "Missing To", "Multiple To");
	if (!h)
		memset(&m->to, 0, sizeof(m->to));
	if (h) {
		cur = h->value;
		if (sip_nameaddr_parse(&m->to, &cur, 0, &why) != 0 || str_trim(cur).len)
			fail(m, 400, "Bad To", h->value.s);
	}
	h = single(m, SIP_HDR_CALL_ID, "Missing Call-ID", "Multiple Call-ID");
	if (h) {
		m->call_id = h->value;
		if (sip_callid_check(h->value, &why) != 0)
			fail(m, 400, "Bad Call-ID", h->value.s);
	}
	h = single(m, SIP_HDR_CSEQ, "Missing CSeq", "Multiple CSeq");
	if (h) {
		if (sip_cseq_parse(&m->cseq, h->value, &why) != 0)
			fail(m, 400, "Bad CSeq", h->value.s);
		else if (m->is_request && !str_eq(m->cseq.method, m->method))
			/* §8.1.1.5: the CSeq method matches the request's (RFC 4475 §3.1.2.17) */
			fail(m, 400, "CSeq Method Mismatch", h->value.s);
	}
	h = single(m, SIP_HDR_MAX_FORWARDS, NULL, "Multiple Max-Forwards");
	if (h) {
		if (sip_uint_parse(h->value, 255, &u, &why) != 0)
			fail(m, 400, "Bad Max-Forwards", h->value.s);
		else
			m->max_forwards = (int32_t)u;
	}
}

/* Content-Length decides framing, so a bad one is reported even when an
 * earlier header was already at fault. Returns -1 (framing impossible), 0. */
static int check_content_length(struct sip_msg *m, bool *lost)
{
	const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_CONTENT_LENGTH);
	const char *why;
	uint32_t u;

	*lost = false;
	if (!h)
		return 0;
	if (h->next != SIP_HDR_NONE) {
		/* RFC 4475 §3.3.9: conflicting values make the stream unframeable */
		*lost = true;
		return fail(m, 400, "Multiple Content-Length", m->hdrs[h->next].line.s);
	}
	if (sip_uint_parse(h->value, SIP_MAX_CONTENT_LENGTH, &u, &why) != 0) {
		*lost = true;
		return fail(m, 400, "Bad Content-Length", h->value.s);
	}
	m->content_length = (int32_t)u;
	return 0;
}

/* The eager structs when check_headers() is not reached (rare paths). */
static int clear_eager(struct sip_msg *m)
{
	memset(&m->via1, 0, sizeof(m->via1));
	memset(&m->cseq, 0, sizeof(m->cseq));
	memset(&m->from, 0, sizeof(m->from));
	memset(&m->to, 0, sizeof(m->to));
	return -EBADMSG;
}

static void reset(struct sip_msg *m, const char *buf)
{
	m->buf = buf;
	m->len = 0;
	m->is_request = false;
	m->method = STR_NULL;
	m->method_id = SIP_METHOD_OTHER;
	m->ruri = STR_NULL;
	m->ruri_scheme = 0;
	m->ruri_user = m->ruri_host = STR_NULL;
	m->status = 0;
	m->reason = STR_NULL;
	m->version = STR_NULL;
	m->head = STR_NULL;
	m->body = STR_NULL;
	m->nhdrs = 0;
	/* last[t] is only read once first[t] is set, so it needs no reset; the
	 * eager structs are filled (or cleared) by check_headers() */
	memset(m->first, 0xff, sizeof(m->first));
	m->via1_ok = false;
	m->via1_rest = STR_NULL;
	m->call_id = STR_NULL;
	m->max_forwards = -1;
	m->content_length = -1;
	m->err = (struct sip_err){ 0, NULL, 0 };
}

int sip_msg_parse(struct sip_msg *m, const char *buf, size_t len, unsigned flags)
{
	const bool stream = flags & SIP_PARSE_STREAM;
	const char *p, *end = buf + len, *eol, *head_end = NULL;
	bool overflow = false, orphan = false, lost;
	size_t avail;

	/* §7.5: CRLFs before the start line are ignored on streams */
	if (stream)
		while (end - buf >= 2 && buf[0] == '\r' && buf[1] == '\n')
			buf += 2;
	reset(m, buf);
	p = buf;

	/* start line */
	eol = p < end ? memchr(p, '\n', (size_t)(end - p)) : NULL;
	if (!eol) {
		if (stream)
			return -EAGAIN;
		fail(m, 400, "Incomplete Start-Line", p);
		return clear_eager(m);
	}
	if (eol == p || eol[-1] != '\r') {
		fail(m, 400, "Bad Line Ending", eol);
		return clear_eager(m);
	}
	eol--;
	m->is_request = !(end - p >= 4 && memcmp(p, "SIP/", 4) == 0);
	if (m->is_request)
		parse_request_line(m, p, eol);
	else
		parse_status_line(m, p, eol);
	p = eol + 2;

	/* header lines up to the empty line */
	for (;;) {
		const char *bad;
		const char *nl = scan_line(p, end, &bad);
		if (!nl) {
			if (stream)
				return -EAGAIN;
			fail(m, 400, "Incomplete Header Section", p);
			break;
		}
		if (nl == p || nl[-1] != '\r') {
			fail(m, 400, "Bad Line Ending", nl);
			break;
		}
		eol = nl - 1;
		if (eol == p) { /* empty line */
			head_end = nl + 1;
			break;
		}
		if (bad)
			fail(m, 400, "Bad Character in Header", bad);
		if (sc_wsp((unsigned char)*p)) {
			/* folding: a continuation needs a header to continue, and
			 * never extends a good header over a rejected line */
			if (m->nhdrs == 0)
				fail(m, 400, "Bad Header Line", p);
			else if (!overflow && !orphan)
				fold_header(m, p, eol);
		} else if (!overflow) {
			orphan = index_header(m, p, eol, &overflow) != 0;
		}
		p = nl + 1;
	}

	check_headers(m);
	check_content_length(m, &lost);
	if (!head_end) {
		if (stream)
			return -EBADMSG; /* bad line ending: framing is lost */
		/* datagram without an end of header section: nothing to frame */
		m->len = len;
		m->head = str_make(buf, len);
		return -EBADMSG;
	}
	m->head = str_make(buf, (size_t)(head_end - buf));
	avail = (size_t)(end - head_end);

	if (stream) {
		if (lost)
			return -EBADMSG; /* m->len == 0: the caller must close */
		if (m->content_length < 0) {
			/* §18.3: Content-Length is mandatory on streams */
			fail(m, 400, "Missing Content-Length", NULL);
			return -EBADMSG;
		}
		if ((size_t)m->content_length > avail) {
			/* the whole length is known: tell the caller how much to wait for */
			m->len = (size_t)(head_end - buf) + (size_t)m->content_length;
			return -EAGAIN;
		}
	} else if (lost) {
		m->len = len;
		m->body = str_make(head_end, avail);
		return -EBADMSG;
	} else if (m->content_length < 0) {
		/* §18.3: without Content-Length a datagram's body runs to its end */
		m->content_length = (int32_t)avail;
	} else if ((size_t)m->content_length > avail) {
		/* RFC 4475 §3.1.2.2 */
		m->len = len;
		m->body = str_make(head_end, avail);
		return fail(m, 400, "Content-Length Mismatch", head_end);
	}
	m->body = str_make(head_end, (size_t)m->content_length);
	m->len = (size_t)(head_end - buf) + (size_t)m->content_length;
	return m->err.reason ? -EBADMSG : 0;
}

const struct sip_hdr *sip_msg_hdr_by_name(const struct sip_msg *m, struct str name)
{
	enum sip_hdr_type t;

	for (size_t i = 0; i < name.len; i++)
		if (!sc_token((unsigned char)name.s[i]))
			return NULL;
	t = sip_hdr_lookup(name.s, name.len);
	if (t != SIP_HDR_OTHER)
		return sip_msg_hdr(m, t);
	for (const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_OTHER); h; h = sip_msg_hdr_next(m, h))
		if (str_caseeq(h->name, name))
			return h;
	return NULL;
}
