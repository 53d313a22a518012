/* The typical messages a proxy sees most, as sent by common user agents. */
#include "messages.h"

#define CRLF "\r\n"

static const char invite[] =
	"INVITE sip:bob@biloxi.example.com SIP/2.0" CRLF
	"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds;rport" CRLF
	"Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bKnashds8" CRLF
	"Max-Forwards: 69" CRLF
	"Route: <sip:proxy.biloxi.example.com;lr>" CRLF
	"From: \"Alice\" <sip:alice@atlanta.example.com>;tag=1928301774" CRLF
	"To: <sip:bob@biloxi.example.com>" CRLF
	"Call-ID: a84b4c76e66710@pc33.atlanta.example.com" CRLF
	"CSeq: 314159 INVITE" CRLF
	"Contact: <sip:alice@198.51.100.7:5060;transport=udp>" CRLF
	"Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY, INFO, UPDATE" CRLF
	"Supported: replaces, timer, 100rel" CRLF
	"User-Agent: Linphone/5.2.0 (belle-sip/5.2.0)" CRLF
	"Content-Type: application/sdp" CRLF
	"Content-Length: 230" CRLF
	CRLF
	"v=0" CRLF
	"o=alice 2890844526 2890844526 IN IP4 198.51.100.7" CRLF
	"s=-" CRLF
	"c=IN IP4 198.51.100.7" CRLF
	"t=0 0" CRLF
	"m=audio 49170 RTP/AVP 0 8 101" CRLF
	"a=rtpmap:0 PCMU/8000" CRLF
	"a=rtpmap:8 PCMA/8000" CRLF
	"a=rtpmap:101 telephone-event/8000" CRLF
	"a=fmtp:101 0-15" CRLF
	"a=sendrecv" CRLF;

static const char reg[] =
	"REGISTER sip:biloxi.example.com SIP/2.0" CRLF
	"Via: SIP/2.0/UDP 192.0.2.4:5060;branch=z9hG4bKnashd92;rport" CRLF
	"Max-Forwards: 70" CRLF
	"From: <sip:bob@biloxi.example.com>;tag=ja743ks76zlflH" CRLF
	"To: <sip:bob@biloxi.example.com>" CRLF
	"Call-ID: 1j9FpLxk3uxtm8tn@192.0.2.4" CRLF
	"CSeq: 2 REGISTER" CRLF
	"Contact: <sip:bob@192.0.2.4:5060;transport=udp>;expires=3600" CRLF
	"Authorization: Digest username=\"bob\", realm=\"biloxi.example.com\", "
	"nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"sip:biloxi.example.com\", "
	"response=\"245f23415f11432b3434341c022\", algorithm=MD5, cnonce=\"0a4f113b\", "
	"qop=auth, nc=00000001, opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"" CRLF
	"Expires: 3600" CRLF
	"Supported: path, outbound" CRLF
	"User-Agent: Linphone/5.2.0 (belle-sip/5.2.0)" CRLF
	"Content-Length: 0" CRLF
	CRLF;

static const char ok200[] =
	"SIP/2.0 200 OK" CRLF
	"Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK2d4790.1;received=203.0.113.1" CRLF
	"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds;received=192.0.2.10;rport=5060" CRLF
	"Record-Route: <sip:10.0.0.1;lr>" CRLF
	"Record-Route: <sip:proxy.atlanta.example.com;lr>" CRLF
	"From: \"Alice\" <sip:alice@atlanta.example.com>;tag=1928301774" CRLF
	"To: <sip:bob@biloxi.example.com>;tag=a6c85cf" CRLF
	"Call-ID: a84b4c76e66710@pc33.atlanta.example.com" CRLF
	"CSeq: 314159 INVITE" CRLF
	"Contact: <sip:bob@192.0.2.4:5060;transport=udp>" CRLF
	"Allow: INVITE, ACK, CANCEL, OPTIONS, BYE" CRLF
	"Supported: replaces, timer" CRLF
	"Server: Asterisk PBX 20.5.0" CRLF
	"Content-Type: application/sdp" CRLF
	"Content-Length: 168" CRLF
	CRLF
	"v=0" CRLF
	"o=bob 2808844564 2808844564 IN IP4 192.0.2.4" CRLF
	"s=-" CRLF
	"c=IN IP4 192.0.2.4" CRLF
	"t=0 0" CRLF
	"m=audio 3456 RTP/AVP 0 101" CRLF
	"a=rtpmap:0 PCMU/8000" CRLF
	"a=rtpmap:101 telephone-event/8000" CRLF;

const struct bench_msg bench_typical[] = {
	{ "INVITE+SDP", invite, sizeof(invite) - 1 },
	{ "REGISTER+auth", reg, sizeof(reg) - 1 },
	{ "200 OK+SDP", ok200, sizeof(ok200) - 1 },
};
const size_t bench_ntypical = sizeof(bench_typical) / sizeof(bench_typical[0]);

const char *const bench_rfc4475_names[] = {
	"wsinv", "intmeth", "esc01", "escnull", "esc02", "lwsdisp", "longreq",
	"dblreq", "semiuri", "transports", "mpart01", "unreason", "noreason",
};
const size_t bench_nrfc4475 = sizeof(bench_rfc4475_names) / sizeof(bench_rfc4475_names[0]);
