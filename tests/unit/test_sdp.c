/* SDP: real-world offers and answers (baresip 1.0, SIPp's built-in uac_pcap
 * and uas scenarios, a Linphone-style offer with many codecs and a video
 * stream, IPv6), the field bounds and garbage, the writer (and a parse of
 * what it writes) and the RFC 3264 answer. */
#include "harness.h"

#include "sdp/sdp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

static int parse(struct sdp_session *s, const char *text)
{
	return sdp_parse(s, text, strlen(text));
}

static void assert_addr(const struct tp_addr *a, const char *host, uint16_t port)
{
	char buf[80];

	assert_string_equal(tp_addr_host_fmt(a, buf, sizeof(buf)), host);
	assert_int_equal(tp_addr_port(a), port);
}

/* As sent by baresip 1.0.0 (captured from an INVITE on this machine). */
static const char baresip[] = "v=0\r\n"
			      "o=- 943423692 996411516 IN IP4 127.0.0.1\r\n"
			      "s=-\r\n"
			      "c=IN IP4 127.0.0.1\r\n"
			      "t=0 0\r\n"
			      "a=tool:baresip 1.0.0\r\n"
			      "m=audio 31196 RTP/AVP 0 8 101\r\n"
			      "a=rtpmap:0 PCMU/8000\r\n"
			      "a=rtpmap:8 PCMA/8000\r\n"
			      "a=rtpmap:101 telephone-event/8000\r\n"
			      "a=fmtp:101 0-15\r\n"
			      "a=sendrecv\r\n"
			      "a=label:1\r\n"
			      "a=rtcp-rsize\r\n"
			      "a=ssrc:2107042945 cname:sip:alice@127.0.0.1\r\n"
			      "a=minptime:20\r\n"
			      "a=ptime:20\r\n";

static void test_parse_baresip(void **state)
{
	struct sdp_session s;

	(void)state;
	assert_int_equal(parse(&s, baresip), 0);
	assert_true(s.has_audio);
	assert_true(s.sess_id == 943423692u);
	assert_true(s.sess_version == 996411516u);
	assert_addr(&s.audio.addr, "127.0.0.1", 31196);
	assert_false(s.audio.port_zero);
	assert_int_equal(s.audio.dir, SDP_SENDRECV);
	assert_int_equal(s.audio.ptime_ms, 20);
	assert_string_equal(s.audio.proto, "RTP/AVP");
	assert_int_equal(s.audio.nfmt, 3);
	assert_int_equal(s.audio.fmt[0].pt, 0);
	assert_string_equal(s.audio.fmt[0].name, "PCMU");
	assert_int_equal(s.audio.fmt[0].rate, 8000);
	assert_int_equal(s.audio.fmt[1].pt, 8);
	assert_string_equal(s.audio.fmt[1].name, "PCMA");
	assert_int_equal(s.audio.fmt[2].pt, 101);
	assert_string_equal(s.audio.fmt[2].name, "telephone-event");
	assert_int_equal(s.audio.fmt[2].channels, 1);
}

/* SIPp 3.x `-sn uac_pcap` INVITE body and `-sn uas` 200 body, with the
 * keywords filled in as SIPp does; LF line ends (SIPp sends what the XML
 * holds once the CDATA is re-joined with CRLF; both must parse). */
static const char sipp_uac_pcap[] = "v=0\n"
				    "o=user1 53655765 2353687637 IN IP4 10.0.0.1\n"
				    "s=-\n"
				    "c=IN IP4 10.0.0.1\n"
				    "t=0 0\n"
				    "m=audio 6000 RTP/AVP 8 101\n"
				    "a=rtpmap:8 PCMA/8000\n"
				    "a=rtpmap:101 telephone-event/8000\n"
				    "a=fmtp:101 0-11,16\n"
				    "\n";

static const char sipp_uas[] = "v=0\r\n"
			       "o=user1 53655765 2353687637 IN IP4 10.0.0.2\r\n"
			       "s=-\r\n"
			       "c=IN IP4 10.0.0.2\r\n"
			       "t=0 0\r\n"
			       "m=audio 6002 RTP/AVP 0\r\n"
			       "a=rtpmap:0 PCMU/8000\r\n"
			       "\r\n";

static void test_parse_sipp(void **state)
{
	struct sdp_session s;
	uint8_t pt, te;
	enum sdp_dir d;

	(void)state;
	assert_int_equal(parse(&s, sipp_uac_pcap), 0);
	assert_true(s.sess_id == 53655765u);
	assert_true(s.sess_version == 2353687637u);
	assert_addr(&s.audio.addr, "10.0.0.1", 6000);
	assert_int_equal(s.audio.nfmt, 2);
	assert_int_equal(s.audio.fmt[0].pt, 8);
	assert_int_equal(s.audio.dir, SDP_SENDRECV); /* no attribute: the default */
	assert_int_equal(s.audio.ptime_ms, 0);
	assert_int_equal(sdp_negotiate(&s.audio, SDP_SENDRECV, &pt, &te, &d), 0);
	assert_int_equal(pt, 8);
	assert_int_equal(te, 101);
	assert_int_equal(d, SDP_SENDRECV);

	assert_int_equal(parse(&s, sipp_uas), 0);
	assert_addr(&s.audio.addr, "10.0.0.2", 6002);
	assert_int_equal(s.audio.nfmt, 1);
	assert_int_equal(sdp_negotiate(&s.audio, SDP_SENDRECV, &pt, &te, &d), 0);
	assert_int_equal(pt, 0);
	assert_int_equal(te, 0);
}

/* Linphone style: session attributes, nine audio formats (more than
 * SDP_MAX_FMT, ours among the last), telephone-event at three rates,
 * a=rtcp, then a video stream whose attributes must not leak into audio. */
static const char linphone[] = "v=0\r\n"
			       "o=alice 1234 5678 IN IP4 192.168.0.5\r\n"
			       "s=Talk\r\n"
			       "c=IN IP4 192.168.0.5\r\n"
			       "t=0 0\r\n"
			       "a=ice-pwd:31ec21eb38b2ec6d36e8dc7b\r\n"
			       "a=ice-ufrag:e6a7d4e1\r\n"
			       "a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics\r\n"
			       "a=record:off\r\n"
			       "m=audio 7078 RTP/AVP 96 97 98 9 18 0 8 101 99 100\r\n"
			       "a=rtpmap:96 opus/48000/2\r\n"
			       "a=fmtp:96 useinbandfec=1\r\n"
			       "a=rtpmap:97 speex/16000\r\n"
			       "a=fmtp:97 vbr=on\r\n"
			       "a=rtpmap:98 speex/8000\r\n"
			       "a=fmtp:98 vbr=on\r\n"
			       "a=fmtp:18 annexb=yes\r\n"
			       "a=rtpmap:101 telephone-event/48000\r\n"
			       "a=rtpmap:99 telephone-event/16000\r\n"
			       "a=rtpmap:100 telephone-event/8000\r\n"
			       "a=rtcp:7079\r\n"
			       "a=rtcp-fb:* trr-int 1000\r\n"
			       "a=rtcp-fb:* ccm tmmbr\r\n"
			       "m=video 9078 RTP/AVP 96\r\n"
			       "c=IN IP4 192.168.0.99\r\n"
			       "a=rtpmap:96 VP8/90000\r\n"
			       "a=ptime:40\r\n"
			       "a=recvonly\r\n";

static void test_parse_linphone(void **state)
{
	struct sdp_session s;
	uint8_t pt, te;
	enum sdp_dir d;
	bool seen0 = false, seen8 = false, seen100 = false;

	(void)state;
	assert_int_equal(parse(&s, linphone), 0);
	assert_addr(&s.audio.addr, "192.168.0.5", 7078); /* not video's c= */
	assert_int_equal(s.audio.dir, SDP_SENDRECV);      /* not video's recvonly */
	assert_int_equal(s.audio.ptime_ms, 0);            /* nor its ptime */
	assert_int_equal(s.audio.nfmt, SDP_MAX_FMT);
	/* still in the offer's order, ours all kept */
	assert_int_equal(s.audio.fmt[0].pt, 96);
	assert_string_equal(s.audio.fmt[0].name, "opus");
	assert_int_equal(s.audio.fmt[0].rate, 48000);
	assert_int_equal(s.audio.fmt[0].channels, 2);
	for (unsigned i = 0; i < s.audio.nfmt; i++) {
		seen0 |= s.audio.fmt[i].pt == 0;
		seen8 |= s.audio.fmt[i].pt == 8;
		seen100 |= s.audio.fmt[i].pt == 100;
		if (i)
			assert_true(s.audio.fmt[i].pt != s.audio.fmt[i - 1].pt);
	}
	assert_true(seen0 && seen8 && seen100);
	assert_int_equal(sdp_negotiate(&s.audio, SDP_SENDRECV, &pt, &te, &d), 0);
	assert_int_equal(pt, 0);
	assert_int_equal(te, 100); /* the 8 kHz one, not 101 at 48 kHz */
	assert_int_equal(d, SDP_SENDRECV);
}

static void test_parse_ipv6(void **state)
{
	static const char text[] = "v=0\r\n"
				   "o=- 1 1 IN IP6 2001:db8::1\r\n"
				   "s=-\r\n"
				   "t=0 0\r\n"
				   "m=audio 40000 RTP/AVP 0 101\r\n"
				   "c=IN IP6 2001:db8::2\r\n"
				   "a=rtpmap:101 telephone-event/8000\r\n"
				   "a=sendonly\r\n";
	static const char sess_c[] = "v=0\r\n"
				     "o=- 1 1 IN IP6 ::1\r\n"
				     "s=-\r\n"
				     "c=IN IP6 ::1\r\n"
				     "t=0 0\r\n"
				     "a=recvonly\r\n"
				     "m=audio 40002 RTP/AVP 8\r\n";
	struct sdp_session s;

	(void)state;
	assert_int_equal(parse(&s, text), 0);
	assert_int_equal(s.audio.addr.ss.ss_family, AF_INET6);
	assert_addr(&s.audio.addr, "2001:db8::2", 40000);
	assert_int_equal(s.audio.dir, SDP_SENDONLY);
	assert_string_equal(s.audio.fmt[0].name, "PCMU"); /* static, no rtpmap */
	/* session-level c= and direction */
	assert_int_equal(parse(&s, sess_c), 0);
	assert_addr(&s.audio.addr, "::1", 40002);
	assert_int_equal(s.audio.dir, SDP_RECVONLY);
	/* the address family must match the address */
	assert_int_equal(parse(&s, "v=0\r\no=- 1 1 IN IP4 x\r\nc=IN IP4 ::1\r\n"
				   "m=audio 1 RTP/AVP 0\r\n"),
			 -EINVAL);
	assert_int_equal(parse(&s, "v=0\r\no=- 1 1 IN IP4 x\r\nc=IN IP6 10.0.0.1\r\n"
				   "m=audio 1 RTP/AVP 0\r\n"),
			 -EINVAL);
}

static void test_parse_misc(void **state)
{
	struct sdp_session s;

	(void)state;
	/* no audio */
	assert_int_equal(parse(&s, "v=0\r\no=- 7 8 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\n"
				   "t=0 0\r\nm=video 5000 RTP/AVP 96\r\n"),
			 -ENOENT);
	assert_false(s.has_audio);
	assert_true(s.sess_id == 7);
	/* a rejected stream: port 0, no c= needed */
	assert_int_equal(parse(&s, "v=0\no=- 1 2 IN IP4 1.2.3.4\ns=-\nt=0 0\nm=audio 0 RTP/AVP 0\n"),
			 0);
	assert_true(s.audio.port_zero);
	/* the second audio stream is ignored, its attributes too */
	assert_int_equal(parse(&s, "v=0\no=- 1 2 IN IP4 1.2.3.4\nc=IN IP4 1.2.3.4\n"
				   "m=audio 4000 RTP/AVP 0\na=ptime:30\n"
				   "m=audio 4002 RTP/AVP 8\na=ptime:40\na=inactive\n"),
			 0);
	assert_addr(&s.audio.addr, "1.2.3.4", 4000);
	assert_int_equal(s.audio.ptime_ms, 30);
	assert_int_equal(s.audio.dir, SDP_SENDRECV);
	/* multicast-style suffixes, port/count, ptime with a fraction */
	assert_int_equal(parse(&s, "v=0\no=- 1 2 IN IP4 1.2.3.4\nc=IN IP4 224.2.1.1/127/3\n"
				   "m=audio 4000/2 RTP/AVP 0\na=ptime:20.0\n"),
			 0);
	assert_addr(&s.audio.addr, "224.2.1.1", 4000);
	assert_int_equal(s.audio.ptime_ms, 20);
	/* a 64-bit session id, the largest there is */
	assert_int_equal(parse(&s, "v=0\no=- 18446744073709551615 0 IN IP4 h\nc=IN IP4 1.2.3.4\n"
				   "m=audio 4000 RTP/AVP 0\n"),
			 0);
	assert_true(s.sess_id == UINT64_MAX);
}

static void test_parse_garbage(void **state)
{
	static const char *const bad[] = {
		"",
		"\r\n",
		"hello world",
		"v=1\r\no=- 1 1 IN IP4 h\r\nc=IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 0\r\n",
		/* v= not first */
		"o=- 1 1 IN IP4 h\r\nv=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 0\r\n",
		/* no o= */
		"v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 0\r\n",
		/* o= with five fields, a session id beyond 64 bits, not a number */
		"v=0\r\no=- 1 1 IN IP4\r\nc=IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 0\r\n",
		"v=0\r\no=- 18446744073709551616 1 IN IP4 h\r\nc=IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 0\r\n",
		"v=0\r\no=- x 1 IN IP4 h\r\nc=IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 0\r\n",
		/* a line without '=', an upper-case type, a NUL, a control octet */
		"v=0\r\no=- 1 1 IN IP4 h\r\nc IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 0\r\n",
		"v=0\r\no=- 1 1 IN IP4 h\r\nC=IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 0\r\n",
		"v=0\r\no=- 1 1 IN IP4 h\r\nc=IN IP4 1.2.3.4\x01\r\nm=audio 1 RTP/AVP 0\r\n",
		/* c=: names are not resolved, bad types */
		"v=0\r\no=- 1 1 IN IP4 h\r\nc=IN IP4 host.example.com\r\nm=audio 1 RTP/AVP 0\r\n",
		"v=0\r\no=- 1 1 IN IP4 h\r\nc=IN IPX 1.2.3.4\r\nm=audio 1 RTP/AVP 0\r\n",
		"v=0\r\no=- 1 1 IN IP4 h\r\nc=ATM IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 0\r\n",
		"v=0\r\no=- 1 1 IN IP4 h\r\nc=IN IP4\r\nm=audio 1 RTP/AVP 0\r\n",
		"v=0\r\no=- 1 1 IN IP4 h\r\nc=IN IP4 1.2.3.4 x\r\nm=audio 1 RTP/AVP 0\r\n",
		"v=0\r\no=- 1 1 IN IP4 h\r\nc=IN IP4 300.2.3.4\r\nm=audio 1 RTP/AVP 0\r\n",
		/* m=: no c= anywhere, port out of range, no formats, bad format */
		"v=0\r\no=- 1 1 IN IP4 h\r\nm=audio 1 RTP/AVP 0\r\n",
		"v=0\r\no=- 1 1 IN IP4 h\r\nc=IN IP4 1.2.3.4\r\nm=audio 65536 RTP/AVP 0\r\n",
		"v=0\r\no=- 1 1 IN IP4 h\r\nc=IN IP4 1.2.3.4\r\nm=audio -1 RTP/AVP 0\r\n",
		"v=0\r\no=- 1 1 IN IP4 h\r\nc=IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP\r\n",
		"v=0\r\no=- 1 1 IN IP4 h\r\nc=IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 128\r\n",
		"v=0\r\no=- 1 1 IN IP4 h\r\nc=IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP x\r\n",
		"v=0\r\no=- 1 1 IN IP4 h\r\nc=IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP/WITH/A/VERY/LONG/NAME 0\r\n",
		/* attributes: rtpmap without rate, bad rate, bad pt; ptime */
		"v=0\r\no=- 1 1 IN IP4 h\r\nc=IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 0\r\na=rtpmap:0 PCMU\r\n",
		"v=0\r\no=- 1 1 IN IP4 h\r\nc=IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 0\r\na=rtpmap:0 PCMU/x\r\n",
		"v=0\r\no=- 1 1 IN IP4 h\r\nc=IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 0\r\na=rtpmap:200 PCMU/8000\r\n",
		"v=0\r\no=- 1 1 IN IP4 h\r\nc=IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 0\r\na=rtpmap:0 /8000\r\n",
		"v=0\r\no=- 1 1 IN IP4 h\r\nc=IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 0\r\na=ptime:abc\r\n",
		"v=0\r\no=- 1 1 IN IP4 h\r\nc=IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 0\r\na=ptime:0\r\n",
		"v=0\r\no=- 1 1 IN IP4 h\r\nc=IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 0\r\na=:x\r\n",
		"v=0\r\no=- 1 1 IN IP4 h\r\nc=IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 0\r\na=rtpmap\r\n",
		"v=0\r\no=- 1 1 IN IP4 h\r\nc=IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 0\r\na=ptime\r\n",
		/* garbage after a complete audio section (and after good lines) */
		("v=0\r\no=- 1 1 IN IP4 h\r\nc=IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 0\r\n"
		 "m=video 2 RTP/AVP 96\r\na=rtpmap:96 VP8/90000\r\n9.a=x\r\n"),
		"v=0\r\no=- 1 1 IN IP4 h\r\nc=IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 0\r\nnonsense\r\n",
	};
	struct sdp_session s;
	char many[1024];
	int n;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = parse(&s, bad[i]);

		if (rc != -EINVAL)
			fail_msg("case %zu: %d, want -EINVAL", i, rc);
		assert_false(s.has_audio);
	}
	/* a NUL inside is refused too (the length is given, not a C string) */
	assert_int_equal(sdp_parse(&s, "v=0\r\no=- 1 1 IN IP4 h\r\nc=IN IP4 1.2.3.4\0\r\n", 40),
			 -EINVAL);
	/* too many formats on one m= line */
	n = snprintf(many, sizeof(many), "v=0\r\no=- 1 1 IN IP4 h\r\nc=IN IP4 1.2.3.4\r\n"
					 "m=audio 1 RTP/AVP");
	for (int i = 0; i < 65; i++)
		n += snprintf(many + n, sizeof(many) - (size_t)n, " %d", i);
	snprintf(many + n, sizeof(many) - (size_t)n, "\r\n");
	assert_int_equal(parse(&s, many), -EINVAL);
	/* every prefix of a good SDP is either good or refused, never more */
	for (size_t len = 0; len < sizeof(baresip) - 1; len++) {
		int rc = sdp_parse(&s, baresip, len);

		assert_true(rc == 0 || rc == -EINVAL || rc == -ENOENT);
	}
}

static void test_write(void **state)
{
	static const uint8_t pts[] = { 0, 8 };
	char buf[512];
	struct tp_addr a;
	struct sdp_session s;
	int n;

	(void)state;
	assert_int_equal(tp_addr_from_numeric(&a, STR_LIT("192.0.2.10"), 4000), 0);
	n = sdp_write(buf, sizeof(buf), "alice", 42, 43, &a, pts, 2, 101, SDP_SENDRECV);
	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(buf));
	assert_string_equal(buf, "v=0\r\n"
				 "o=alice 42 43 IN IP4 192.0.2.10\r\n"
				 "s=-\r\n"
				 "c=IN IP4 192.0.2.10\r\n"
				 "t=0 0\r\n"
				 "m=audio 4000 RTP/AVP 0 8 101\r\n"
				 "a=rtpmap:0 PCMU/8000\r\n"
				 "a=rtpmap:8 PCMA/8000\r\n"
				 "a=rtpmap:101 telephone-event/8000\r\n"
				 "a=fmtp:101 0-16\r\n"
				 "a=ptime:20\r\n"
				 "a=sendrecv\r\n");
	assert_int_equal(sdp_parse(&s, buf, (size_t)n), 0);
	assert_true(s.sess_id == 42 && s.sess_version == 43);
	assert_addr(&s.audio.addr, "192.0.2.10", 4000);
	assert_int_equal(s.audio.nfmt, 3);
	assert_int_equal(s.audio.fmt[2].pt, 101);
	assert_string_equal(s.audio.fmt[2].name, "telephone-event");

	/* IPv6, no telephone-event, on hold, default user */
	assert_int_equal(tp_addr_from_numeric(&a, STR_LIT("2001:db8::7"), 5000), 0);
	n = sdp_write(buf, sizeof(buf), NULL, 1, 2, &a, pts + 1, 1, 0, SDP_SENDONLY);
	assert_true(n > 0);
	assert_string_equal(buf, "v=0\r\n"
				 "o=- 1 2 IN IP6 2001:db8::7\r\n"
				 "s=-\r\n"
				 "c=IN IP6 2001:db8::7\r\n"
				 "t=0 0\r\n"
				 "m=audio 5000 RTP/AVP 8\r\n"
				 "a=rtpmap:8 PCMA/8000\r\n"
				 "a=ptime:20\r\n"
				 "a=sendonly\r\n");
	assert_int_equal(sdp_parse(&s, buf, (size_t)n), 0);
	assert_int_equal(s.audio.dir, SDP_SENDONLY);
	assert_addr(&s.audio.addr, "2001:db8::7", 5000);

	/* every capacity short of the length (and its NUL) is -ENOSPC */
	for (size_t cap = 0; cap <= (size_t)n; cap++)
		assert_int_equal(sdp_write(buf, cap, NULL, 1, 2, &a, pts + 1, 1, 0, SDP_SENDONLY),
				 -ENOSPC);
	assert_int_equal(sdp_write(buf, (size_t)n + 1, NULL, 1, 2, &a, pts + 1, 1, 0, SDP_SENDONLY),
			 n);
	/* bad arguments */
	assert_int_equal(sdp_write(buf, sizeof(buf), "a b", 1, 2, &a, pts, 2, 0, SDP_SENDRECV),
			 -EINVAL);
	assert_int_equal(sdp_write(buf, sizeof(buf), "", 1, 2, &a, pts, 2, 0, SDP_SENDRECV), -EINVAL);
	assert_int_equal(sdp_write(buf, sizeof(buf), NULL, 1, 2, &a, pts, 0, 0, SDP_SENDRECV),
			 -EINVAL);
	assert_int_equal(sdp_write(buf, sizeof(buf), NULL, 1, 2, &a, pts, 2, 200, SDP_SENDRECV),
			 -EINVAL);
	memset(&a, 0, sizeof(a));
	assert_int_equal(sdp_write(buf, sizeof(buf), NULL, 1, 2, &a, pts, 2, 0, SDP_SENDRECV),
			 -EINVAL);
}

static struct sdp_audio offer_of(const char *fmts_and_attrs)
{
	char text[512];
	struct sdp_session s;

	snprintf(text, sizeof(text), "v=0\r\no=- 1 1 IN IP4 h\r\nc=IN IP4 10.1.1.1\r\n%s",
		 fmts_and_attrs);
	assert_int_equal(parse(&s, text), 0);
	return s.audio;
}

static void test_negotiate(void **state)
{
	struct sdp_audio o;
	uint8_t pt, te;
	enum sdp_dir d;

	(void)state;
	/* the first codec we support, in the offer's order */
	o = offer_of("m=audio 1 RTP/AVP 9 8 0\r\n");
	assert_int_equal(sdp_negotiate(&o, SDP_SENDRECV, &pt, &te, &d), 0);
	assert_int_equal(pt, 8);
	assert_int_equal(te, 0);
	assert_int_equal(d, SDP_SENDRECV);
	/* the offer's telephone-event payload type */
	o = offer_of("m=audio 1 RTP/AVP 0 96\r\na=rtpmap:96 TELEPHONE-EVENT/8000\r\n");
	assert_int_equal(sdp_negotiate(&o, SDP_SENDRECV, &pt, &te, &d), 0);
	assert_int_equal(pt, 0);
	assert_int_equal(te, 96);
	/* nothing in common: 488 */
	o = offer_of("m=audio 1 RTP/AVP 9 18 96\r\na=rtpmap:96 opus/48000/2\r\n");
	assert_int_equal(sdp_negotiate(&o, SDP_SENDRECV, &pt, &te, &d), -ENOTSUP);
	/* PCMU at another rate or in stereo is not G.711 as we do it */
	o = offer_of("m=audio 1 RTP/AVP 0\r\na=rtpmap:0 PCMU/16000\r\n");
	assert_int_equal(sdp_negotiate(&o, SDP_SENDRECV, &pt, &te, &d), -ENOTSUP);
	o = offer_of("m=audio 1 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000/2\r\n");
	assert_int_equal(sdp_negotiate(&o, SDP_SENDRECV, &pt, &te, &d), -ENOTSUP);
	/* SRTP, or a disabled stream */
	o = offer_of("m=audio 1 RTP/SAVP 0\r\n");
	assert_int_equal(sdp_negotiate(&o, SDP_SENDRECV, &pt, &te, &d), -ENOTSUP);
	o = offer_of("m=audio 0 RTP/AVP 0\r\n");
	assert_int_equal(sdp_negotiate(&o, SDP_SENDRECV, &pt, &te, &d), -ENOTSUP);

	/* directions (§6.1), then narrowed by ours */
	static const struct {
		const char *offer;
		enum sdp_dir local, want;
	} dirs[] = {
		{ "sendrecv", SDP_SENDRECV, SDP_SENDRECV }, { "sendonly", SDP_SENDRECV, SDP_RECVONLY },
		{ "recvonly", SDP_SENDRECV, SDP_SENDONLY }, { "inactive", SDP_SENDRECV, SDP_INACTIVE },
		{ "sendrecv", SDP_SENDONLY, SDP_SENDONLY }, { "sendrecv", SDP_RECVONLY, SDP_RECVONLY },
		{ "sendrecv", SDP_INACTIVE, SDP_INACTIVE }, { "sendonly", SDP_SENDONLY, SDP_INACTIVE },
		{ "recvonly", SDP_RECVONLY, SDP_INACTIVE }, { "sendonly", SDP_RECVONLY, SDP_RECVONLY },
	};
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		char text[128];

		snprintf(text, sizeof(text), "m=audio 1 RTP/AVP 0\r\na=%s\r\n", dirs[i].offer);
		o = offer_of(text);
		assert_int_equal(sdp_negotiate(&o, dirs[i].local, &pt, &te, &d), 0);
		if (d != dirs[i].want)
			fail_msg("offer %s, local %d: answer %d, want %d", dirs[i].offer,
				 dirs[i].local, d, dirs[i].want);
	}
	/* c=0.0.0.0: hold the RFC 2543 way, nothing is sent to it (§8.4) */
	{
		struct sdp_session s;

		assert_int_equal(parse(&s, "v=0\r\no=- 1 1 IN IP4 h\r\nc=IN IP4 0.0.0.0\r\n"
					   "m=audio 1 RTP/AVP 0\r\n"),
				 0);
		assert_int_equal(sdp_negotiate(&s.audio, SDP_SENDRECV, &pt, &te, &d), 0);
		assert_int_equal(d, SDP_RECVONLY);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		SIPHON_TEST(test_parse_baresip), SIPHON_TEST(test_parse_sipp),
		SIPHON_TEST(test_parse_linphone), SIPHON_TEST(test_parse_ipv6),
		SIPHON_TEST(test_parse_misc),    SIPHON_TEST(test_parse_garbage),
		SIPHON_TEST(test_write),         SIPHON_TEST(test_negotiate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
