/* Message parser: RFC 4475 / RFC 5118 torture corpus, framing on datagrams and
 * streams, folding, compact forms, limits. */
#include "harness.h"

#include "msg/msg.h"
#include "msg/uri.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct sip_msg m;

struct corpus_case {
	const char *file;
	int rc;             /* 0 or -EBADMSG */
	const char *reason; /* expected m.err.reason when rc != 0 */
	bool via_ok;        /* a 400 can be routed back */
};

/* Expected outcome of every file (datagram mode), from the INDEX.md tables. */
static const struct corpus_case corpus[] = {
	/* RFC 4475 §3.1.1 valid */
	{ "rfc4475/wsinv.dat", 0, NULL, true },
	{ "rfc4475/intmeth.dat", 0, NULL, true },
	{ "rfc4475/esc01.dat", 0, NULL, true },
	{ "rfc4475/escnull.dat", 0, NULL, true },
	{ "rfc4475/esc02.dat", 0, NULL, true },
	{ "rfc4475/lwsdisp.dat", 0, NULL, true },
	{ "rfc4475/longreq.dat", 0, NULL, true },
	{ "rfc4475/dblreq.dat", 0, NULL, true },
	{ "rfc4475/semiuri.dat", 0, NULL, true },
	{ "rfc4475/transports.dat", 0, NULL, true },
	{ "rfc4475/mpart01.dat", 0, NULL, true },
	{ "rfc4475/unreason.dat", 0, NULL, true },
	{ "rfc4475/noreason.dat", 0, NULL, true },
	/* §3.1.2 invalid */
	{ "rfc4475/badinv01.dat", -EBADMSG, "Bad Via", true },
	{ "rfc4475/clerr.dat", -EBADMSG, "Content-Length Mismatch", true },
	{ "rfc4475/ncl.dat", -EBADMSG, "Bad Content-Length", true },
	{ "rfc4475/scalar02.dat", -EBADMSG, "Bad CSeq", true },
	{ "rfc4475/scalarlg.dat", -EBADMSG, "Bad CSeq", true },
	{ "rfc4475/quotbal.dat", -EBADMSG, "Bad To", true },
	{ "rfc4475/ltgtruri.dat", -EBADMSG, "Bad Request-URI", true },
	{ "rfc4475/lwsruri.dat", -EBADMSG, "Bad Request-Line", true },
	{ "rfc4475/lwsstart.dat", -EBADMSG, "Bad Request-Line", true },
	{ "rfc4475/trws.dat", -EBADMSG, "Bad Request-Line", true },
	{ "rfc4475/escruri.dat", -EBADMSG, "Bad Request-URI", true },
	{ "rfc4475/baddate.dat", 0, NULL, true }, /* Date does not matter to a proxy */
	{ "rfc4475/regbadct.dat", 0, NULL, true }, /* Contact is checked by the registrar */
	{ "rfc4475/badaspec.dat", -EBADMSG, "Bad To", true },
	{ "rfc4475/baddn.dat", -EBADMSG, "Incomplete Header Section", true },
	{ "rfc4475/derived/baddn.dat", -EBADMSG, "Bad From", true },
	{ "rfc4475/badvers.dat", -EBADMSG, "Version Not Supported", true },
	{ "rfc4475/mismatch01.dat", -EBADMSG, "CSeq Method Mismatch", true },
	{ "rfc4475/mismatch02.dat", -EBADMSG, "CSeq Method Mismatch", true },
	{ "rfc4475/bigcode.dat", -EBADMSG, "Bad Status-Code", true },
	/* §3.2, §3.3, §3.4 */
	{ "rfc4475/badbranch.dat", 0, NULL, true },
	{ "rfc4475/insuf.dat", -EBADMSG, "Missing From", true },
	{ "rfc4475/unkscm.dat", 0, NULL, true },
	{ "rfc4475/novelsc.dat", 0, NULL, true },
	{ "rfc4475/unksm2.dat", 0, NULL, true },
	{ "rfc4475/bext01.dat", 0, NULL, true },
	{ "rfc4475/invut.dat", 0, NULL, true },
	{ "rfc4475/regaut01.dat", 0, NULL, true },
	{ "rfc4475/multi01.dat", -EBADMSG, "Multiple From", true },
	{ "rfc4475/mcl01.dat", -EBADMSG, "Multiple Content-Length", true },
	{ "rfc4475/bcast.dat", 0, NULL, true },
	{ "rfc4475/zeromf.dat", 0, NULL, true },
	{ "rfc4475/cparam01.dat", 0, NULL, true },
	{ "rfc4475/cparam02.dat", 0, NULL, true },
	{ "rfc4475/regescrt.dat", 0, NULL, true },
	{ "rfc4475/sdp01.dat", 0, NULL, true },
	{ "rfc4475/inv2543.dat", 0, NULL, true },
	{ "rfc4475/test.dat", -EBADMSG, "Bad Request-Line", false }, /* and no Via at all */
	/* RFC 5118 (wire-format copies; the archive files use bare LF) */
	{ "rfc5118/derived/ipv6-good.dat", 0, NULL, true },
	{ "rfc5118/derived/ipv6-bad.dat", -EBADMSG, "Bad Request-URI", true },
	{ "rfc5118/derived/port-ambiguous.dat", 0, NULL, true },
	{ "rfc5118/derived/port-unambiguous.dat", 0, NULL, true },
	{ "rfc5118/derived/via-received-param-with-delim.dat", 0, NULL, true },
	{ "rfc5118/derived/via-received-param-no-delim.dat", 0, NULL, true },
	{ "rfc5118/derived/ipv6-in-sdp.dat", 0, NULL, true },
	{ "rfc5118/derived/mult-ip-in-header.dat", 0, NULL, true },
	{ "rfc5118/derived/mult-ip-in-sdp.dat", 0, NULL, true },
	{ "rfc5118/derived/ipv4-mapped-ipv6.dat", 0, NULL, true },
	{ "rfc5118/derived/ipv6-bug-abnf-3-colons.dat", 0, NULL, true },
	{ "rfc5118/derived/ipv6-correct-abnf-2-colons.dat", 0, NULL, true },
	{ "rfc5118/ipv6-good.dat", -EBADMSG, "Bad Line Ending", false },
	{ "rfc5118/ipv6-in-sdp.dat", -EBADMSG, "Bad Line Ending", false },
};

static void test_corpus_datagram(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(corpus) / sizeof(corpus[0]); i++) {
		const struct corpus_case *c = &corpus[i];
		size_t len;
		char *buf = harness_read_corpus(c->file, &len);
		int rc = sip_msg_parse(&m, buf, len, SIP_PARSE_DATAGRAM);

		if (rc != c->rc || (c->reason && (!m.err.reason || strcmp(m.err.reason, c->reason))) ||
		    m.via1_ok != c->via_ok)
			fail_msg("%s: rc %d reason \"%s\" via_ok %d; want rc %d \"%s\" via_ok %d", c->file, rc,
				 m.err.reason ? m.err.reason : "", m.via1_ok, c->rc, c->reason ? c->reason : "",
				 c->via_ok);
		if (rc == 0) {
			assert_null(m.err.reason);
			assert_true(m.len <= len);
		} else {
			assert_true(m.err.code >= 400);
			assert_true(m.err.offset <= len);
		}
		free(buf);
	}
}

/* Field-level checks on the valid messages (RFC 4475 §3.1.1). */
static char *loaded;

static const char *load(const char *file, size_t *len)
{
	free(loaded);
	loaded = harness_read_corpus(file, len);
	return loaded;
}

static void test_wsinv(void **state)
{
	size_t len;
	const char *b = load("rfc4475/wsinv.dat", &len);
	const struct sip_hdr *h;

	(void)state;
	assert_int_equal(sip_msg_parse(&m, b, len, 0), 0);
	assert_true(m.is_request);
	assert_int_equal(m.method_id, SIP_METHOD_INVITE);
	assert_str(m.ruri, "sip:vivekg@chair-dnrc.example.com;unknownparam");
	assert_int_equal(m.ruri_scheme, SIP_URI_SIP);
	assert_str(m.ruri_user, "vivekg");
	assert_str(m.ruri_host, "chair-dnrc.example.com");
	assert_int_equal(m.max_forwards, 68);
	assert_int_equal(m.cseq.num, 9);
	assert_str(m.cseq.method, "INVITE");
	assert_str(m.call_id, "wsinv.ndaksdj@192.0.2.1");
	assert_true(m.to.has_tag);
	assert_str(m.to.tag, "1918181833n");
	assert_true(m.from.has_tag);
	assert_str(m.from.tag, "98asjd8");
	assert_str(m.from.display, "\"J Rosenberg \\\\\\\"\"");
	assert_int_equal(m.content_length, 150);
	assert_int_equal(m.body.len, 150);
	assert_int_equal(m.len, len);
	/* "Via  : SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;branch=390skdjuw" */
	assert_str(m.via1.transport, "UDP");
	assert_str(m.via1.host, "192.0.2.2");
	assert_str(m.via1.branch, "390skdjuw");
	/* folded Subject is empty, the unknown header is kept opaque */
	h = sip_msg_hdr(&m, SIP_HDR_SUBJECT);
	assert_non_null(h);
	assert_str(h->value, "");
	h = sip_msg_hdr_by_name(&m, STR_LIT("unknownheaderwithunusualvalue"));
	assert_non_null(h);
	assert_str(h->value, ";;,,;;,;");
	/* "TO :" CRLF SP value: the value starts on the continuation line */
	h = sip_msg_hdr(&m, SIP_HDR_TO);
	assert_non_null(h);
	assert_str(h->name, "TO");
	assert_str(h->value, "sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n");
	/* the From value spans three lines, folds kept in the slice */
	h = sip_msg_hdr(&m, SIP_HDR_FROM);
	assert_non_null(h);
	assert_non_null(memchr(h->value.s, '\n', h->value.len));
	assert_str(h->value, "\"J Rosenberg \\\\\\\"\"       <sip:jdrosen@example.com>\r\n  ;\r\n  tag = 98asjd8");
	/* two Via headers (one compact), first points to the second */
	h = sip_msg_hdr(&m, SIP_HDR_VIA);
	assert_non_null(h);
	assert_non_null(sip_msg_hdr_next(&m, h));
	/* compact forms: "m:" Contact, "l:"/"Content-Length" */
	assert_non_null(sip_msg_hdr(&m, SIP_HDR_CONTACT));
}

static void test_intmeth(void **state)
{
	size_t len;
	const char *b = load("rfc4475/intmeth.dat", &len);

	(void)state;
	assert_int_equal(sip_msg_parse(&m, b, len, 0), 0);
	assert_int_equal(m.method_id, SIP_METHOD_OTHER);
	assert_str(m.method, "!interesting-Method0123456789_*+`.%indeed'~");
	assert_str(m.cseq.method, "!interesting-Method0123456789_*+`.%indeed'~");
	/* To display name holds a quoted-pair NUL (a raw 0x00 in the buffer) */
	assert_true(m.to.display.len > 0);
	assert_non_null(memchr(m.to.display.s, '\0', m.to.display.len));
	assert_int_equal(m.max_forwards, 255);
}

static void test_esc02_and_semiuri(void **state)
{
	size_t len;
	const char *b = load("rfc4475/esc02.dat", &len);
	int contacts = 0;

	(void)state;
	assert_int_equal(sip_msg_parse(&m, b, len, 0), 0);
	/* RE%47IST%45R is not REGISTER; C%6Fntact is not Contact */
	assert_int_equal(m.method_id, SIP_METHOD_OTHER);
	for (const struct sip_hdr *h = sip_msg_hdr(&m, SIP_HDR_CONTACT); h; h = sip_msg_hdr_next(&m, h))
		contacts++;
	assert_int_equal(contacts, 2);

	b = load("rfc4475/semiuri.dat", &len);
	assert_int_equal(sip_msg_parse(&m, b, len, 0), 0);
	assert_str(m.ruri, "sip:user;par=u%40example.net@example.com");
}

static void test_longreq(void **state)
{
	size_t len;
	const char *b = load("rfc4475/longreq.dat", &len);
	int vias = 0;

	(void)state;
	assert_int_equal(sip_msg_parse(&m, b, len, 0), 0);
	for (const struct sip_hdr *h = sip_msg_hdr(&m, SIP_HDR_VIA); h; h = sip_msg_hdr_next(&m, h)) {
		struct str cur = h->value;
		struct sip_via v;
		while (cur.len) {
			assert_int_equal(sip_via_parse(&v, &cur, NULL), 0);
			vias++;
		}
	}
	assert_int_equal(vias, 34);
	assert_int_equal(m.content_length, 150);
	assert_true(m.from.tag.len > 100);
	assert_true(m.to.display.len > 100);
}

static void test_dblreq_and_inv2543(void **state)
{
	size_t len;
	const char *b = load("rfc4475/dblreq.dat", &len);

	(void)state;
	/* RFC 3261 §18.3: octets after Content-Length are not part of the message */
	assert_int_equal(sip_msg_parse(&m, b, len, 0), 0);
	assert_int_equal(m.method_id, SIP_METHOD_REGISTER);
	assert_int_equal(m.body.len, 0);
	assert_true(m.len < len);
	assert_int_equal(m.len, 300);

	/* no Content-Length: the body is the rest of the datagram ... */
	b = load("rfc4475/inv2543.dat", &len);
	assert_int_equal(sip_msg_parse(&m, b, len, 0), 0);
	assert_int_equal(m.body.len, 105);
	assert_int_equal(m.max_forwards, -1);
	assert_false(m.from.has_tag);
	/* ... but a stream cannot be framed without it */
	assert_int_equal(sip_msg_parse(&m, b, len, SIP_PARSE_STREAM), -EBADMSG);
	assert_string_equal(m.err.reason, "Missing Content-Length");
	assert_int_equal(m.len, 0);
}

static void test_responses(void **state)
{
	size_t len;
	const char *b = load("rfc4475/unreason.dat", &len);

	(void)state;
	assert_int_equal(sip_msg_parse(&m, b, len, 0), 0);
	assert_false(m.is_request);
	assert_int_equal(m.status, 200);
	assert_true(m.reason.len > 20); /* UTF-8 kept as bytes */

	b = load("rfc4475/noreason.dat", &len);
	assert_int_equal(sip_msg_parse(&m, b, len, 0), 0);
	assert_int_equal(m.status, 100);
	assert_str(m.reason, "");
}

static void test_mpart01_binary_body(void **state)
{
	size_t len;
	const char *b = load("rfc4475/mpart01.dat", &len);

	(void)state;
	assert_int_equal(sip_msg_parse(&m, b, len, 0), 0);
	assert_int_equal(m.content_length, 553);
	assert_int_equal(m.body.len, 553);
	assert_int_equal(m.len, len);
}

static void test_ipv6(void **state)
{
	size_t len;
	const char *b = load("rfc5118/derived/port-unambiguous.dat", &len);

	(void)state;
	assert_int_equal(sip_msg_parse(&m, b, len, 0), 0);
	assert_str(m.ruri, "sip:[2001:db8::10]:5070");
	assert_str(m.ruri_host, "[2001:db8::10]");
	assert_str(m.ruri_user, "");
	b = load("rfc5118/derived/mult-ip-in-header.dat", &len);
	assert_int_equal(sip_msg_parse(&m, b, len, 0), 0);
	assert_str(m.via1.host, "[2001:db8::9:1]");
	assert_int_equal(m.via1.port, 6050);
}

/* Every valid message, cut at every byte on a stream, asks for more until it
 * is whole, then parses exactly as the whole (framing never depends on the
 * read size). */
static void test_stream_every_cut(void **state)
{
	static const char *const files[] = {
		"rfc4475/wsinv.dat", "rfc4475/intmeth.dat", "rfc4475/longreq.dat",
		"rfc4475/mpart01.dat", "rfc4475/esc01.dat", "rfc4475/unreason.dat",
	};

	(void)state;
	for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		size_t len;
		char *b = harness_read_corpus(files[f], &len);
		for (size_t cut = 0; cut < len; cut++) {
			int rc = sip_msg_parse(&m, b, cut, SIP_PARSE_STREAM);
			if (rc != -EAGAIN)
				fail_msg("%s cut at %zu: rc %d (%s)", files[f], cut, rc,
					 m.err.reason ? m.err.reason : "");
			/* once the header section is in, the total length is known */
			const char *end = memmem(b, cut, "\r\n\r\n", 4);
			if (m.len != (end ? len : 0))
				fail_msg("%s cut at %zu: m.len %zu", files[f], cut, m.len);
		}
		assert_int_equal(sip_msg_parse(&m, b, len, SIP_PARSE_STREAM), 0);
		assert_int_equal(m.len, len);
		free(b);
	}
}

static void test_stream_pipeline(void **state)
{
	const char one[] = "OPTIONS sip:a@b SIP/2.0\r\n"
			   "Via: SIP/2.0/TCP h;branch=z9hG4bK1\r\n"
			   "From: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\n"
			   "Call-ID: c1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 4\r\n\r\nbody";
	char buf[1024];
	size_t n = 0, off = 0;
	int msgs = 0;

	(void)state;
	/* CRLF keep-alives before, and between, the messages (§7.5) */
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\r\n\r\n%s\r\n%s", one, one);
	while (off < n) {
		int rc = sip_msg_parse(&m, buf + off, n - off, SIP_PARSE_STREAM);
		assert_int_equal(rc, 0);
		assert_str(m.body, "body");
		off = (size_t)(m.buf - buf) + m.len;
		msgs++;
	}
	assert_int_equal(msgs, 2);
}

static void test_errors(void **state)
{
	static const struct {
		const char *msg;
		const char *reason;
	} cases[] = {
		{ "OPTIONS sip:a@b SIP/2.0\nVia: x\n\n", "Bad Line Ending" },
		{ "OPTIONS sip:a@b SIP/2.0\r\nVia SIP/2.0/UDP h\r\n\r\n", "Bad Header Line" },
		{ "OPTIONS sip:a@b SIP/2.0\r\n folded-first\r\n\r\n", "Bad Header Line" },
		{ "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:x@y>;tag=1\r\n"
		  "To: <sip:a@b>\r\nCSeq: 1 OPTIONS\r\n\r\n", "Missing Call-ID" },
		{ "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:x@y>;tag=1\r\n"
		  "To: <sip:a@b>\r\nCall-ID: c\r\n\r\n", "Missing CSeq" },
		{ "OPTIONS sip:a@b SIP/2.0\r\nFrom: <sip:x@y>;tag=1\r\n"
		  "To: <sip:a@b>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n", "Missing Via" },
		{ "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:x@y>;tag=1\r\n"
		  "To: <sip:a@b>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 256\r\n\r\n",
		  "Bad Max-Forwards" },
		{ "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:x@y>;tag=1\r\n"
		  "To: <sip:a@b>\r\nCall-ID: c d\r\nCSeq: 1 OPTIONS\r\n\r\n", "Bad Call-ID" },
		{ "OPTIONS sip:a@b SIP/2.0", "Incomplete Start-Line" },
		{ "SIP/2.0 20 OK\r\n\r\n", "Bad Status-Code" },
		{ "SIP/2.0 200OK\r\n\r\n", "Bad Status-Code" },
		{ "SIP/2.0 099 Low\r\n\r\n", "Bad Status-Code" },
		{ "SIP/2.0\r\n\r\n", "Bad Status-Line" },
		{ "OPTIONS sip:a@b HTTP/1.1\r\n\r\n", "Bad Request-Line" },
		{ "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n", "Incomplete Header Section" },
		{ "", "Incomplete Start-Line" },
		{ "\r\n", "Bad Request-Line" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = sip_msg_parse(&m, cases[i].msg, strlen(cases[i].msg), SIP_PARSE_DATAGRAM);
		if (rc != -EBADMSG || !m.err.reason || strcmp(m.err.reason, cases[i].reason))
			fail_msg("case %zu: rc %d reason \"%s\", want \"%s\"", i, rc,
				 m.err.reason ? m.err.reason : "", cases[i].reason);
	}
}

#define BASE_HDRS "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:x@y>;tag=1\r\n" \
	"To: <sip:a@b>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n"

/* Raw control octets are refused anywhere in a header line, on the fast
 * (8-octet) and the slow path, unless escaped as a quoted-pair. */
static void test_control_chars(void **state)
{
	static const char nul[] = "OPTIONS sip:a@b SIP/2.0\r\n" BASE_HDRS "X-Long-Header-Name: abcdefgh\0ijk\r\n\r\n";
	static const char del[] = "OPTIONS sip:a@b SIP/2.0\r\n" BASE_HDRS "X: a\x7f\r\n\r\n";
	static const char cr[] = "OPTIONS sip:a@b SIP/2.0\r\n" BASE_HDRS "Subject: one\rtwo three four\r\n\r\n";
	static const char esc[] = "OPTIONS sip:a@b SIP/2.0\r\n" BASE_HDRS "Subject: \"a\\\0b\"\t\r\n\r\n";
	static const char fold[] = "OPTIONS sip:a@b SIP/2.0\r\n" BASE_HDRS "Subject: a\r\n\tb\x01\r\n\r\n";
	static const char unq[] = "OPTIONS sip:a@b SIP/2.0\r\n" BASE_HDRS "Subject: a\\\0b\r\n\r\n";
	static const char dbl[] = "OPTIONS sip:a@b SIP/2.0\r\n" BASE_HDRS "Subject: \"a\\\\\0b\"\r\n\r\n";

	(void)state;
	assert_int_equal(sip_msg_parse(&m, nul, sizeof(nul) - 1, 0), -EBADMSG);
	assert_string_equal(m.err.reason, "Bad Character in Header");
	assert_int_equal(m.err.offset, (size_t)((const char *)memchr(nul, 0, sizeof(nul)) - nul));
	assert_true(m.via1_ok);
	assert_int_equal(sip_msg_parse(&m, del, sizeof(del) - 1, 0), -EBADMSG);
	assert_string_equal(m.err.reason, "Bad Character in Header");
	assert_int_equal(sip_msg_parse(&m, cr, sizeof(cr) - 1, 0), -EBADMSG);
	assert_string_equal(m.err.reason, "Bad Character in Header");
	assert_int_equal(sip_msg_parse(&m, fold, sizeof(fold) - 1, 0), -EBADMSG);
	assert_string_equal(m.err.reason, "Bad Character in Header");
	assert_int_equal(sip_msg_parse(&m, esc, sizeof(esc) - 1, 0), 0);
	/* a backslash outside a quoted-string escapes nothing, nor does an
	 * escaped backslash ("\\" then NUL) */
	assert_int_equal(sip_msg_parse(&m, unq, sizeof(unq) - 1, 0), -EBADMSG);
	assert_string_equal(m.err.reason, "Bad Character in Header");
	assert_int_equal(sip_msg_parse(&m, dbl, sizeof(dbl) - 1, 0), -EBADMSG);
	assert_string_equal(m.err.reason, "Bad Character in Header");
}

/* A continuation after a rejected line is not glued onto the header before. */
static void test_fold_after_bad_line(void **state)
{
	static const char msg[] = "OPTIONS sip:a@b SIP/2.0\r\n" BASE_HDRS
				  "Bad Line\r\n continued\r\nContent-Length: 0\r\n\r\n";

	(void)state;
	assert_int_equal(sip_msg_parse(&m, msg, sizeof(msg) - 1, 0), -EBADMSG);
	assert_string_equal(m.err.reason, "Bad Header Line");
	assert_str(sip_msg_hdr(&m, SIP_HDR_CSEQ)->value, "1 OPTIONS");
	assert_str(sip_msg_hdr(&m, SIP_HDR_CSEQ)->line, "CSeq: 1 OPTIONS\r\n");
}

static void test_too_many_headers(void **state)
{
	char buf[16384];
	size_t n = 0;

	(void)state;
	n += (size_t)snprintf(buf + n, sizeof(buf) - n,
			      "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
			      "From: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n");
	for (int i = 0; i < SIP_MSG_MAX_HDRS; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "X-%d: %d\r\n", i, i);
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "Content-Length: 0\r\n\r\n");
	assert_int_equal(sip_msg_parse(&m, buf, n, 0), -EBADMSG);
	assert_string_equal(m.err.reason, "Too Many Headers");
	/* the headers indexed before the cap still allow a 400 to be routed */
	assert_true(m.via1_ok);
	assert_int_equal(m.nhdrs, SIP_MSG_MAX_HDRS);
}

static void test_header_names(void **state)
{
	(void)state;
	assert_int_equal(sip_hdr_lookup("v", 1), SIP_HDR_VIA);
	assert_int_equal(sip_hdr_lookup("I", 1), SIP_HDR_CALL_ID);
	assert_int_equal(sip_hdr_lookup("call-id", 7), SIP_HDR_CALL_ID);
	assert_int_equal(sip_hdr_lookup("CONTENT-LENGTH", 14), SIP_HDR_CONTENT_LENGTH);
	assert_int_equal(sip_hdr_lookup("l", 1), SIP_HDR_CONTENT_LENGTH);
	assert_int_equal(sip_hdr_lookup("k", 1), SIP_HDR_SUPPORTED);
	assert_int_equal(sip_hdr_lookup("z", 1), SIP_HDR_OTHER);
	assert_int_equal(sip_hdr_lookup("1", 1), SIP_HDR_OTHER);
	assert_int_equal(sip_hdr_lookup("Vias", 4), SIP_HDR_OTHER);
	assert_int_equal(sip_hdr_lookup("Proxy-Authorization", 19), SIP_HDR_PROXY_AUTHORIZATION);
	for (int t = 1; t < SIP_HDR__COUNT; t++) {
		const char *n = sip_hdr_name((enum sip_hdr_type)t);
		assert_non_null(n);
		assert_int_equal(sip_hdr_lookup(n, strlen(n)), t);
	}
	assert_int_equal(sip_method_lookup(STR_LIT("INVITE")), SIP_METHOD_INVITE);
	assert_int_equal(sip_method_lookup(STR_LIT("invite")), SIP_METHOD_OTHER);
	assert_string_equal(sip_method_name(SIP_METHOD_PUBLISH), "PUBLISH");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		SIPHON_TEST(test_corpus_datagram), SIPHON_TEST(test_wsinv),
		SIPHON_TEST(test_intmeth),	   SIPHON_TEST(test_esc02_and_semiuri),
		SIPHON_TEST(test_longreq),	   SIPHON_TEST(test_dblreq_and_inv2543),
		SIPHON_TEST(test_responses),	   SIPHON_TEST(test_mpart01_binary_body),
		SIPHON_TEST(test_ipv6),		   SIPHON_TEST(test_stream_every_cut),
		SIPHON_TEST(test_stream_pipeline), SIPHON_TEST(test_errors),
		SIPHON_TEST(test_too_many_headers), SIPHON_TEST(test_header_names),
		SIPHON_TEST(test_control_chars),
		SIPHON_TEST(test_fold_after_bad_line),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	free(loaded);
	return rc;
}
