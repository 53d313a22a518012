/* Proxy routing helpers (RFC 3261 §16.3-§16.6, §16.12, RFC 3327, RFC 5658). */
#include "harness.h"

#include "msg/build.h"
#include "msg/msg.h"
#include "msg/uri.h"
#include "proxy/route.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/* ---- fixtures ---- */

static struct tp_addr listen_addrs[6];
static enum tp_proto listen_protos[6];
static const struct str names[] = { STR_LIT("p2.example.com"), STR_LIT("example.com"),
				    STR_LIT("198.51.100.7") };
static struct pxy_self self;

/* 192.0.2.10 on udp+tcp 5060 and tls 5061, [2001:db8::10]:5060, a wildcard
 * 0.0.0.0:5070 and a wildcard [::]:5080; names p2.example.com, example.com
 * and the address 198.51.100.7 (behind the wildcard). */
static void setup_self(void)
{
	static const struct {
		const char *host;
		uint16_t port;
		enum tp_proto p;
	} l[] = { { "192.0.2.10", 5060, TP_UDP }, { "192.0.2.10", 5060, TP_TCP },
		  { "192.0.2.10", 5061, TP_TLS }, { "[2001:db8::10]", 5060, TP_UDP },
		  { "0.0.0.0", 5070, TP_UDP },     { "::", 5080, TP_UDP } };

	for (size_t i = 0; i < 6; i++) {
		assert_int_equal(tp_addr_from_numeric(&listen_addrs[i], str_cstr(l[i].host), l[i].port), 0);
		listen_protos[i] = l[i].p;
	}
	self = (struct pxy_self){ .listen = listen_addrs, .listen_proto = listen_protos, .nlisten = 6,
				  .names = names, .nnames = 3 };
}

/* a self that knows only names (one RFC example proxy) */
static struct pxy_self named_self(const struct str *n, size_t count)
{
	return (struct pxy_self){ .listen = listen_addrs, .listen_proto = listen_protos, .nlisten = 1,
				  .names = n, .nnames = count };
}

static struct sip_msg msg;
static char in[8192], out[8192];

/* A request with the headers the parser insists on, then extra (each line
 * with its CRLF), parsed into msg. */
static void parse_req(const char *start, const char *extra)
{
	int n = snprintf(in, sizeof(in),
			 "%s\r\n"
			 "Via: SIP/2.0/UDP u1.example.com:5060;branch=z9hG4bKu1a\r\n"
			 "Max-Forwards: 70\r\n"
			 "To: <sip:callee@domain.com>\r\n"
			 "From: <sip:caller@example.com>;tag=f1\r\n"
			 "Call-ID: c1@u1.example.com\r\n"
			 "CSeq: 7 %.*s\r\n"
			 "%s"
			 "Content-Length: 0\r\n"
			 "\r\n",
			 start, (int)strcspn(start, " "), start, extra);

	assert_true(n > 0 && (size_t)n < sizeof(in));
	assert_int_equal(sip_msg_parse(&msg, in, (size_t)n, SIP_PARSE_DATAGRAM), 0);
}

/* Parse a whole message text (the caller's own headers). */
static void parse_raw(struct sip_msg *m, const char *txt)
{
	assert_int_equal(sip_msg_parse(m, txt, strlen(txt), SIP_PARSE_DATAGRAM), 0);
}

/* Apply e; the output must parse as a request (into *m2). */
static const char *apply(const struct sip_edit *e, struct sip_msg *m2)
{
	int n = sip_edit_apply(e, out, sizeof(out) - 1);

	assert_true(n > 0);
	out[n] = '\0';
	assert_int_equal(sip_msg_parse(m2, out, (size_t)n, SIP_PARSE_DATAGRAM), 0);
	assert_true(m2->is_request);
	return out;
}

/* The Route lines of a message, concatenated ("" when none). */
static const char *route_lines(const struct sip_msg *m)
{
	static char buf[2048];
	size_t n = 0;

	buf[0] = '\0';
	for (const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_ROUTE); h; h = sip_msg_hdr_next(m, h)) {
		assert_true(n + h->line.len < sizeof(buf));
		memcpy(buf + n, h->line.s, h->line.len);
		n += h->line.len;
	}
	buf[n] = '\0';
	return buf;
}

static bool uri_self(const struct pxy_self *s, const char *uri)
{
	struct sip_uri u;

	assert_int_equal(sip_uri_parse(&u, uri, strlen(uri), NULL), 0);
	return pxy_uri_is_self(s, &u);
}

/* pxy_preprocess on msg with a fresh editor; expect rc. */
struct pre {
	struct sip_edit e;
	struct str ruri;
	bool routed;
	int rc;
};

static void pre_run(struct pre *p, const struct pxy_self *s)
{
	sip_edit_init(&p->e, &msg);
	p->ruri = STR_NULL;
	p->routed = false;
	p->rc = pxy_preprocess(s, &msg, &p->e, &p->ruri, &p->routed);
}

/* ---- pxy_uri_is_self ---- */

static void test_self_numeric_and_default_ports(void **state)
{
	(void)state;
	setup_self();
	assert_true(uri_self(&self, "sip:192.0.2.10"));           /* default 5060 */
	assert_true(uri_self(&self, "sip:bob@192.0.2.10:5060"));
	assert_false(uri_self(&self, "sip:192.0.2.10:5062"));
	assert_true(uri_self(&self, "sips:192.0.2.10"));          /* default 5061 */
	assert_true(uri_self(&self, "sip:192.0.2.10;transport=tls")); /* 5061 too */
	assert_true(uri_self(&self, "sip:192.0.2.10;transport=tcp")); /* transport not compared */
	assert_false(uri_self(&self, "sips:192.0.2.10:5062"));
	assert_false(uri_self(&self, "sip:192.0.2.11"));
	assert_false(uri_self(&self, "sip:192.0.2.1"));
	assert_true(uri_self(&self, "sip:[::ffff:192.0.2.10]"));  /* IPv4-mapped */
	assert_false(uri_self(&self, "tel:+15551234567"));
	assert_false(pxy_uri_is_self(&self, NULL));
	assert_false(pxy_uri_is_self(NULL, &(struct sip_uri){ .scheme = SIP_URI_SIP }));
}

static void test_self_ipv6(void **state)
{
	(void)state;
	setup_self();
	assert_true(uri_self(&self, "sip:[2001:db8::10]"));
	assert_true(uri_self(&self, "sip:alice@[2001:DB8:0:0:0:0:0:10]:5060;lr"));
	assert_false(uri_self(&self, "sip:[2001:db8::11]"));
	assert_false(uri_self(&self, "sip:[2001:db8::10]:5070"));
	assert_false(uri_self(&self, "sips:[2001:db8::10]")); /* 5061: no listener there */
}

static void test_self_wildcard_listener(void **state)
{
	(void)state;
	setup_self();
	/* 0.0.0.0:5070 stands for the IPv4 loopback addresses only */
	assert_true(uri_self(&self, "sip:127.0.0.1:5070"));
	assert_true(uri_self(&self, "sip:127.0.0.2:5070"));
	assert_false(uri_self(&self, "sip:[::1]:5070"));
	assert_false(uri_self(&self, "sip:10.1.2.3:5070"));
	assert_false(uri_self(&self, "sip:127.0.0.1")); /* 5060: not the wildcard's port */
	/* [::]:5080 (dual stack): both loopbacks */
	assert_true(uri_self(&self, "sip:[::1]:5080"));
	assert_true(uri_self(&self, "sip:127.0.0.1:5080"));
	assert_false(uri_self(&self, "sip:[2001:db8::99]:5080"));
	/* the machine's public address, listed as a name */
	assert_true(uri_self(&self, "sip:198.51.100.7"));
	assert_true(uri_self(&self, "sip:198.51.100.7:5070"));
	assert_false(uri_self(&self, "sip:198.51.100.7:9999"));
}

static void test_self_names_and_maddr(void **state)
{
	(void)state;
	setup_self();
	assert_true(uri_self(&self, "sip:bob@EXAMPLE.com"));
	assert_true(uri_self(&self, "sip:example.com."));
	assert_true(uri_self(&self, "sip:example.com:5060"));
	assert_true(uri_self(&self, "sip:example.com:5070")); /* a listener's port */
	assert_false(uri_self(&self, "sip:example.com:9999"));
	assert_false(uri_self(&self, "sip:www.example.com"));
	assert_false(uri_self(&self, "sip:example.co"));
	/* maddr decides where the request goes (§19.1.1) */
	assert_true(uri_self(&self, "sip:other.net;maddr=192.0.2.10"));
	assert_true(uri_self(&self, "sip:other.net;maddr=p2.example.com"));
	assert_false(uri_self(&self, "sip:example.com;maddr=203.0.113.1"));
}

/* ---- pxy_preprocess: RFC 3261 §16.12.1 examples, one proxy's step each ---- */

/* §16.12.1.1 (basic trapezoid), the BYE at P1 then at P2 */
static void test_rfc3261_trapezoid_bye(void **state)
{
	static const struct str p1n[] = { STR_LIT("p1.example.com") }, p2n[] = { STR_LIT("p2.domain.com") };
	struct pxy_self p1, p2;
	struct sip_msg m2;
	struct sip_uri hop;
	struct pre p;

	(void)state;
	setup_self();
	p1 = named_self(p1n, 1);
	p2 = named_self(p2n, 1);
	parse_req("BYE sip:callee@u2.domain.com SIP/2.0",
		  "Route: <sip:p1.example.com;lr>,<sip:p2.domain.com;lr>\r\n");
	pre_run(&p, &p1);
	assert_int_equal(p.rc, 0);
	assert_true(p.routed);
	assert_str(p.ruri, "sip:callee@u2.domain.com");
	assert_int_equal(pxy_top_route(&p1, &msg, &hop), 0);
	assert_str(hop.host, "p2.domain.com");
	assert_true(hop.lr);
	apply(&p.e, &m2);
	assert_string_equal(route_lines(&m2), "Route: <sip:p2.domain.com;lr>\r\n");

	/* P2 gets what P1 sent */
	memcpy(in, out, strlen(out) + 1);
	parse_raw(&msg, in);
	pre_run(&p, &p2);
	assert_int_equal(p.rc, 0);
	assert_false(p.routed);
	assert_str(p.ruri, "sip:callee@u2.domain.com");
	assert_int_equal(pxy_top_route(&p2, &msg, &hop), -ENOENT);
	apply(&p.e, &m2);
	assert_string_equal(route_lines(&m2), "");
}

/* §16.12.1.2 (a strict router P3 between P2 and P4): the steps of P4, P2
 * (strict router before it) and P1. */
static void test_rfc3261_strict_router_traversal(void **state)
{
	static const struct str p4n[] = { STR_LIT("p4.domain.com") }, p2n[] = { STR_LIT("p2.example.com") },
				p1n[] = { STR_LIT("p1.example.com") };
	struct pxy_self p4, p2, p1;
	struct sip_msg m2;
	struct sip_uri hop;
	struct pre p;

	(void)state;
	setup_self();
	p4 = named_self(p4n, 1);
	p2 = named_self(p2n, 1);
	p1 = named_self(p1n, 1);

	/* U2 -> P4: P4 removes itself; the next hop P3 has no lr (the §16.6
	 * step 6 reformat for a strict next hop is the caller's) */
	parse_req("BYE sip:caller@u1.example.com SIP/2.0",
		  "Route: <sip:p4.domain.com;lr>\r\n"
		  "Route: <sip:p3.middle.com>\r\n"
		  "Route: <sip:p2.example.com;lr>\r\n"
		  "Route: <sip:p1.example.com;lr>\r\n");
	pre_run(&p, &p4);
	assert_int_equal(p.rc, 0);
	assert_true(p.routed);
	assert_str(p.ruri, "sip:caller@u1.example.com");
	assert_int_equal(pxy_top_route(&p4, &msg, &hop), 0);
	assert_str(hop.raw, "sip:p3.middle.com");
	assert_false(hop.lr);
	apply(&p.e, &m2);
	assert_string_equal(route_lines(&m2), "Route: <sip:p3.middle.com>\r\n"
					      "Route: <sip:p2.example.com;lr>\r\n"
					      "Route: <sip:p1.example.com;lr>\r\n");

	/* P3 (strict) -> P2: the Request-URI is P2's Record-Route value */
	parse_req("BYE sip:p2.example.com;lr SIP/2.0",
		  "Route: <sip:p1.example.com;lr>\r\n"
		  "Route: <sip:caller@u1.example.com>\r\n");
	pre_run(&p, &p2);
	assert_int_equal(p.rc, 0);
	assert_str(p.ruri, "sip:caller@u1.example.com");
	assert_true(p.routed);
	assert_int_equal(pxy_top_route(&p2, &msg, &hop), 0);
	assert_str(hop.raw, "sip:p1.example.com;lr");
	apply(&p.e, &m2);
	assert_string_equal(route_lines(&m2), "Route: <sip:p1.example.com;lr>\r\n");

	/* P2 -> P1 (with the Request-URI rewritten by P2's caller) */
	parse_req("BYE sip:caller@u1.example.com SIP/2.0", "Route: <sip:p1.example.com;lr>\r\n");
	pre_run(&p, &p1);
	assert_int_equal(p.rc, 0);
	assert_false(p.routed);
	assert_str(p.ruri, "sip:caller@u1.example.com");
	apply(&p.e, &m2);
	assert_string_equal(route_lines(&m2), "");
}

/* §16.12.1.2, P4's step in full: its next hop P3 has no lr, so P4 sends
 * "BYE sip:p3.middle.com" with the old Request-URI as the last Route. */
static void test_rfc3261_strict_next_hop(void **state)
{
	static const struct str p4n[] = { STR_LIT("p4.domain.com") };
	struct pxy_self p4;
	char line[128];
	struct sip_edit e;
	struct sip_msg m2;
	struct sip_uri hop;
	struct str ruri;
	bool routed;

	(void)state;
	setup_self();
	p4 = named_self(p4n, 1);
	parse_req("BYE sip:caller@u1.example.com SIP/2.0",
		  "Route: <sip:p4.domain.com;lr>\r\n"
		  "Route: <sip:p3.middle.com>\r\n"
		  "Route: <sip:p2.example.com;lr>\r\n"
		  "Route: <sip:p1.example.com;lr>\r\n");
	sip_edit_init(&e, &msg);
	assert_int_equal(pxy_preprocess(&p4, &msg, &e, &ruri, &routed), 0);
	assert_int_equal(pxy_top_route(&p4, &msg, &hop), 0);
	assert_false(hop.lr);
	/* the caller starts over with the strict variant */
	sip_edit_init(&e, &msg);
	assert_int_equal(pxy_route_to_strict(&p4, &msg, &e, ruri, line, sizeof(line), &ruri), 0);
	assert_str(ruri, "sip:p3.middle.com");
	assert_string_equal(line, "Route: <sip:caller@u1.example.com>\r\n");
	assert_int_equal(sip_edit_splice(&e, msg.ruri.s, msg.ruri.len, ruri), 0);
	apply(&e, &m2);
	assert_str(m2.ruri, "sip:p3.middle.com");
	assert_string_equal(route_lines(&m2), "Route: <sip:p2.example.com;lr>\r\n"
					      "Route: <sip:p1.example.com;lr>\r\n"
					      "Route: <sip:caller@u1.example.com>\r\n");
}

/* pxy_route_to_strict with a strict router before us too, on one line. */
static void test_route_to_strict_cases(void **state)
{
	char line[128];
	struct sip_edit e;
	struct sip_msg m2;
	struct str ruri, target;
	bool routed;

	(void)state;
	setup_self();
	parse_req("BYE sip:192.0.2.10;lr SIP/2.0",
		  "Route: <sip:192.0.2.10;lr>, <sip:strict.example>, <sip:bob@u.example>\r\n");
	sip_edit_init(&e, &msg);
	assert_int_equal(pxy_preprocess(&self, &msg, &e, &target, &routed), 0);
	assert_str(target, "sip:bob@u.example");
	sip_edit_init(&e, &msg);
	assert_int_equal(pxy_route_to_strict(&self, &msg, &e, target, line, sizeof(line), &ruri), 0);
	assert_str(ruri, "sip:strict.example");
	assert_int_equal(sip_edit_splice(&e, msg.ruri.s, msg.ruri.len, ruri), 0);
	apply(&e, &m2);
	assert_str(m2.ruri, "sip:strict.example");
	assert_string_equal(route_lines(&m2), "Route: <sip:bob@u.example>\r\n");

	/* URI headers (not allowed in a Request-URI) stay out of *ruri */
	parse_req("BYE sip:192.0.2.10;lr SIP/2.0",
		  "Route: <sip:strict.example?Subject=x>, <sip:bob@u.example;p=1?Priority=urgent&a=b>\r\n");
	sip_edit_init(&e, &msg);
	assert_int_equal(pxy_preprocess(&self, &msg, &e, &target, &routed), 0);
	assert_str(target, "sip:bob@u.example;p=1");
	sip_edit_init(&e, &msg);
	assert_int_equal(pxy_route_to_strict(&self, &msg, &e, target, line, sizeof(line), &ruri), 0);
	assert_str(ruri, "sip:strict.example");
	assert_int_equal(sip_edit_splice(&e, msg.ruri.s, msg.ruri.len, ruri), 0);
	apply(&e, &m2);
	assert_str(m2.ruri, "sip:strict.example");
	assert_string_equal(route_lines(&m2), "Route: <sip:bob@u.example;p=1>\r\n");

	/* nothing left after preprocessing */
	parse_req("BYE sip:bob@u.example SIP/2.0", "Route: <sip:192.0.2.10;lr>\r\n");
	sip_edit_init(&e, &msg);
	ruri = STR_LIT("unchanged");
	assert_int_equal(pxy_route_to_strict(&self, &msg, &e, msg.ruri, line, sizeof(line), &ruri), -ENOENT);
	assert_int_equal(e.n, 0);
	assert_str(ruri, "unchanged");

	/* line too small, editor full, bad Route */
	parse_req("BYE sip:bob@u.example SIP/2.0", "Route: <sip:strict.example>\r\n");
	sip_edit_init(&e, &msg);
	assert_int_equal(pxy_route_to_strict(&self, &msg, &e, msg.ruri, line, 20, &ruri), -ENOSPC);
	assert_int_equal(e.n, 0);
	for (int i = 0; i < SIP_EDIT_MAX - 1; i++)
		assert_int_equal(sip_edit_splice(&e, msg.head.s, 0, STR_LIT("")), 0);
	assert_int_equal(pxy_route_to_strict(&self, &msg, &e, msg.ruri, line, sizeof(line), &ruri), -ENOSPC);
	assert_int_equal(e.n, SIP_EDIT_MAX - 1);
	parse_req("BYE sip:bob@u.example SIP/2.0", "Route: <sip:strict.example>,\r\n");
	sip_edit_init(&e, &msg);
	assert_int_equal(pxy_route_to_strict(&self, &msg, &e, msg.ruri, line, sizeof(line), &ruri), -EINVAL);
	assert_int_equal(e.n, 0);
}

/* §16.12.1.3: P1 knows itself under two names */
static void test_rfc3261_rewritten_record_route(void **state)
{
	static const struct str gw[] = { STR_LIT("gateway.rightprivatespace.com"),
					 STR_LIT("gateway.leftprivatespace.com") };
	struct pxy_self p1;
	struct sip_msg m2;
	struct pre p;

	(void)state;
	setup_self();
	p1 = named_self(gw, 2);
	parse_req("BYE sip:callee@u2.rightprivatespace.com SIP/2.0",
		  "Route: <sip:gateway.leftprivatespace.com;lr>\r\n");
	pre_run(&p, &p1);
	assert_int_equal(p.rc, 0);
	assert_false(p.routed);
	assert_str(p.ruri, "sip:callee@u2.rightprivatespace.com");
	apply(&p.e, &m2);
	assert_null(sip_msg_hdr(&m2, SIP_HDR_ROUTE));
}

/* ---- pxy_preprocess: lines and values ---- */

static void test_preprocess_no_route(void **state)
{
	struct pre p;

	(void)state;
	setup_self();
	parse_req("INVITE sip:bob@example.com SIP/2.0", "");
	pre_run(&p, &self);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.e.n, 0);
	assert_false(p.routed);
	assert_true(p.ruri.s == msg.ruri.s && p.ruri.len == msg.ruri.len);
}

static void test_preprocess_multi_value_line(void **state)
{
	struct sip_msg m2;
	struct pre p;

	(void)state;
	setup_self();
	/* first of three values on one line */
	parse_req("INVITE sip:bob@far.example SIP/2.0",
		  "Route: <sip:192.0.2.10;lr>, <sip:next.example;lr>,<sip:far.example;lr>\r\n");
	pre_run(&p, &self);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.e.n, 1);
	assert_true(p.routed);
	apply(&p.e, &m2);
	assert_string_equal(route_lines(&m2), "Route: <sip:next.example;lr>,<sip:far.example;lr>\r\n");

	/* two of ours on one line, then another line untouched */
	parse_req("INVITE sip:bob@far.example SIP/2.0",
		  "Route: <sip:192.0.2.10;transport=tcp;lr>;x=1 ,  \"P\" <sip:example.com;lr>, "
		  "<sip:next.example;lr>\r\n"
		  "Route: <sip:far.example;lr>\r\n");
	pre_run(&p, &self);
	assert_int_equal(p.rc, 0);
	apply(&p.e, &m2);
	assert_string_equal(route_lines(&m2), "Route: <sip:next.example;lr>\r\n"
					      "Route: <sip:far.example;lr>\r\n");

	/* ours on a folded line */
	parse_req("INVITE sip:bob@far.example SIP/2.0",
		  "Route: <sip:192.0.2.10;lr>,\r\n   <sip:next.example;lr>\r\n");
	pre_run(&p, &self);
	assert_int_equal(p.rc, 0);
	apply(&p.e, &m2);
	assert_string_equal(route_lines(&m2), "Route: <sip:next.example;lr>\r\n");

	/* all values of a line are ours: the line goes, the next one stays */
	parse_req("INVITE sip:bob@far.example SIP/2.0",
		  "Route: <sip:192.0.2.10;lr>, <sip:[2001:db8::10];lr>\r\n"
		  "Route: <sip:next.example;lr>, <sip:192.0.2.10;lr>\r\n");
	pre_run(&p, &self);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.e.n, 1);
	apply(&p.e, &m2);
	/* ours further down is not the top: it stays (a later spiral) */
	assert_string_equal(route_lines(&m2), "Route: <sip:next.example;lr>, <sip:192.0.2.10;lr>\r\n");

	/* ours not on top: nothing removed */
	parse_req("INVITE sip:bob@far.example SIP/2.0",
		  "Route: <sip:next.example;lr>, <sip:192.0.2.10;lr>\r\n");
	pre_run(&p, &self);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.e.n, 0);
	assert_true(p.routed);
}

/* RFC 5658: we Record-Routed twice (two transports/interfaces); both go. */
static void test_preprocess_double_record_route(void **state)
{
	struct sip_msg m2;
	struct sip_uri hop;
	struct pre p;

	(void)state;
	setup_self();
	parse_req("BYE sip:bob@198.51.100.99:5062 SIP/2.0",
		  "Route: <sip:192.0.2.10:5060;transport=tcp;lr>\r\n"
		  "Route: <sip:[2001:db8::10]:5060;lr>\r\n"
		  "Route: <sip:next.example;lr>\r\n");
	pre_run(&p, &self);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.e.n, 2);
	assert_true(p.routed);
	assert_int_equal(pxy_top_route(&self, &msg, &hop), 0);
	assert_str(hop.host, "next.example");
	apply(&p.e, &m2);
	assert_string_equal(route_lines(&m2), "Route: <sip:next.example;lr>\r\n");

	/* both on one line, nothing after: the whole line */
	parse_req("BYE sip:bob@198.51.100.99:5062 SIP/2.0",
		  "Route: <sip:192.0.2.10;lr>,<sip:192.0.2.10:5061;transport=tls;lr>\r\n");
	pre_run(&p, &self);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.e.n, 1);
	assert_false(p.routed);
	apply(&p.e, &m2);
	assert_null(sip_msg_hdr(&m2, SIP_HDR_ROUTE));
}

static void test_preprocess_strict_router_before_us(void **state)
{
	struct sip_msg m2;
	struct sip_uri hop;
	struct pre p;

	(void)state;
	setup_self();
	/* our Record-Route value in the Request-URI; the last Route value is
	 * the real target, on the same line as ours and another */
	parse_req("BYE sip:192.0.2.10:5060;transport=tcp;lr SIP/2.0",
		  "Route: <sip:192.0.2.10;lr>, <sip:next.example;lr>, <sip:bob@u.example:5070>\r\n");
	pre_run(&p, &self);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.e.n, 2);
	assert_str(p.ruri, "sip:bob@u.example:5070");
	assert_true(p.routed);
	assert_int_equal(pxy_top_route(&self, &msg, &hop), 0);
	assert_str(hop.host, "next.example");
	apply(&p.e, &m2);
	assert_string_equal(route_lines(&m2), "Route: <sip:next.example;lr>\r\n");

	/* the last value alone on its line; IPv6 Request-URI */
	parse_req("BYE sip:[2001:db8::10];lr SIP/2.0",
		  "Route: <sip:next.example;lr>\r\n"
		  "Route: <sip:bob@[2001:db8::99]>\r\n");
	pre_run(&p, &self);
	assert_int_equal(p.rc, 0);
	assert_str(p.ruri, "sip:bob@[2001:db8::99]");
	assert_true(p.routed);
	apply(&p.e, &m2);
	assert_string_equal(route_lines(&m2), "Route: <sip:next.example;lr>\r\n");

	/* the only value: it becomes the Request-URI, nothing is left */
	parse_req("BYE sip:192.0.2.10;lr SIP/2.0", "Route: <sip:bob@u.example>\r\n");
	pre_run(&p, &self);
	assert_int_equal(p.rc, 0);
	assert_str(p.ruri, "sip:bob@u.example");
	assert_false(p.routed);
	assert_int_equal(pxy_top_route(&self, &msg, &hop), -ENOENT);
	apply(&p.e, &m2);
	assert_null(sip_msg_hdr(&m2, SIP_HDR_ROUTE));

	/* ours, then ours again as the last value: one popped into the
	 * Request-URI, the other removed as ours on top */
	parse_req("BYE sip:192.0.2.10;lr SIP/2.0",
		  "Route: <sip:192.0.2.10;lr>, <sip:192.0.2.10;lr;x>\r\n");
	pre_run(&p, &self);
	assert_int_equal(p.rc, 0);
	assert_str(p.ruri, "sip:192.0.2.10;lr;x");
	assert_false(p.routed);
	apply(&p.e, &m2);
	assert_null(sip_msg_hdr(&m2, SIP_HDR_ROUTE));
}

/* Requests for one of our domains or users are not the strict case. */
static void test_preprocess_not_strict(void **state)
{
	struct sip_msg m2;
	struct pre p;

	(void)state;
	setup_self();
	/* REGISTER to our domain through a pre-loaded Route to us */
	parse_req("REGISTER sip:example.com SIP/2.0", "Route: <sip:192.0.2.10;lr>\r\n");
	pre_run(&p, &self);
	assert_int_equal(p.rc, 0);
	assert_true(p.ruri.s == msg.ruri.s);
	assert_false(p.routed);
	apply(&p.e, &m2);
	assert_null(sip_msg_hdr(&m2, SIP_HDR_ROUTE));

	/* a user at our address, even with lr */
	parse_req("INVITE sip:bob@192.0.2.10;lr SIP/2.0", "Route: <sip:next.example;lr>\r\n");
	pre_run(&p, &self);
	assert_int_equal(p.rc, 0);
	assert_str(p.ruri, "sip:bob@192.0.2.10;lr");
	assert_true(p.routed);
	assert_int_equal(p.e.n, 0);

	/* our address without a Route: nothing to pop */
	parse_req("OPTIONS sip:192.0.2.10;lr SIP/2.0", "");
	pre_run(&p, &self);
	assert_int_equal(p.rc, 0);
	assert_str(p.ruri, "sip:192.0.2.10;lr");
	assert_false(p.routed);
}

static void test_preprocess_bad_route(void **state)
{
	static const char *const bad[] = {
		"Route: <sip:next.example;lr\r\n",                   /* unterminated */
		"Route: <sip:a.example;lr>,,<sip:b.example>\r\n",    /* empty element */
		"Route: <sip:a.example;lr>,\r\n",                    /* trailing comma */
		"Route: <sip:a .example>\r\n",                       /* bad URI */
		"Route: <sip:[2001:db8::1;lr>\r\n",                  /* bad IPv6 reference */
		"Route:\r\n",                                        /* empty */
		"Route: <sip:a.example;lr> junk\r\n",
		/* a bad value further down is still a bad Route */
		"Route: <sip:192.0.2.10;lr>\r\nRoute: <sip:b.example;lr>, <sip:c:99999>\r\n",
	};
	struct sip_uri hop;
	struct pre p;

	(void)state;
	setup_self();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		parse_req("INVITE sip:bob@example.com SIP/2.0", bad[i]);
		pre_run(&p, &self);
		assert_int_equal(p.rc, -EINVAL);
		assert_int_equal(p.e.n, 0);
		assert_int_equal(pxy_top_route(&self, &msg, &hop), -EINVAL);
	}
}

static void test_preprocess_splice_limits(void **state)
{
	char extra[1024];
	size_t n = 0;
	struct sip_msg m2;
	struct pre p;

	(void)state;
	setup_self();
	/* six lines of ours: six splices, fine */
	for (int i = 0; i < 6; i++)
		n += (size_t)snprintf(extra + n, sizeof(extra) - n, "Route: <sip:192.0.2.10;lr;n=%d>\r\n", i);
	snprintf(extra + n, sizeof(extra) - n, "Route: <sip:next.example;lr>\r\n");
	parse_req("INVITE sip:bob@example.org SIP/2.0", extra);
	pre_run(&p, &self);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.e.n, 6);
	apply(&p.e, &m2);
	assert_string_equal(route_lines(&m2), "Route: <sip:next.example;lr>\r\n");

	/* seven: -ENOSPC, and nothing recorded */
	n = 0;
	for (int i = 0; i < 7; i++)
		n += (size_t)snprintf(extra + n, sizeof(extra) - n, "Route: <sip:192.0.2.10;lr;n=%d>\r\n", i);
	parse_req("INVITE sip:bob@example.org SIP/2.0", extra);
	pre_run(&p, &self);
	assert_int_equal(p.rc, -ENOSPC);
	assert_int_equal(p.e.n, 0);

	/* many of ours on one line cost one splice */
	parse_req("INVITE sip:bob@example.org SIP/2.0",
		  "Route: <sip:192.0.2.10;lr>,<sip:192.0.2.10;lr>,<sip:192.0.2.10;lr>,<sip:192.0.2.10;lr>,"
		  "<sip:192.0.2.10;lr>,<sip:192.0.2.10;lr>,<sip:192.0.2.10;lr>,<sip:192.0.2.10;lr>\r\n");
	pre_run(&p, &self);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.e.n, 1);

	/* an editor with no room left for two splices */
	parse_req("INVITE sip:bob@example.org SIP/2.0",
		  "Route: <sip:192.0.2.10;lr>\r\nRoute: <sip:[2001:db8::10];lr>\r\n");
	sip_edit_init(&p.e, &msg);
	for (int i = 0; i < SIP_EDIT_MAX - 1; i++)
		assert_int_equal(sip_edit_splice(&p.e, msg.head.s, 0, STR_LIT("")), 0);
	assert_int_equal(pxy_preprocess(&self, &msg, &p.e, &p.ruri, &p.routed), -ENOSPC);
	assert_int_equal(p.e.n, SIP_EDIT_MAX - 1);
}

static void test_preprocess_args(void **state)
{
	static const char resp[] = "SIP/2.0 200 OK\r\n"
				   "Via: SIP/2.0/UDP u1.example.com;branch=z9hG4bKx\r\n"
				   "To: <sip:b@example.com>;tag=t\r\n"
				   "From: <sip:a@example.com>;tag=f\r\n"
				   "Call-ID: x\r\n"
				   "CSeq: 1 INVITE\r\n"
				   "Content-Length: 0\r\n\r\n";
	static struct sip_msg other;
	struct pre p;

	(void)state;
	setup_self();
	parse_raw(&msg, resp);
	pre_run(&p, &self);
	assert_int_equal(p.rc, -EINVAL);

	parse_req("INVITE sip:bob@example.org SIP/2.0", "Route: <sip:192.0.2.10;lr>\r\n");
	parse_raw(&other, resp);
	sip_edit_init(&p.e, &other); /* an editor on another message */
	assert_int_equal(pxy_preprocess(&self, &msg, &p.e, &p.ruri, &p.routed), -EINVAL);
}

/* The caller's whole forwarding edit around pxy_preprocess still makes a
 * request that parses (Via, Record-Route, Max-Forwards, Request-URI). */
static void test_preprocess_with_forwarding_edits(void **state)
{
	char mf[4];
	struct sip_msg m2;
	struct pre p;

	(void)state;
	setup_self();
	parse_req("BYE sip:192.0.2.10;lr SIP/2.0",
		  "Route: <sip:192.0.2.10;lr>, <sip:next.example;lr>\r\n"
		  "Record-Route: <sip:elsewhere.example;lr>\r\n"
		  "Route: <sip:bob@u.example>\r\n");
	pre_run(&p, &self);
	assert_int_equal(p.rc, 0);
	assert_int_equal(sip_edit_splice(&p.e, msg.ruri.s, msg.ruri.len, p.ruri), 0);
	assert_int_equal(sip_fwd_add_via(&p.e, STR_LIT("Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKx\r\n")),
			 0);
	assert_int_equal(sip_fwd_dec_max_forwards(&p.e, mf), 0);
	assert_int_equal(sip_fwd_add_record_route(&p.e, STR_LIT("Record-Route: <sip:192.0.2.10;lr>\r\n")), 0);
	apply(&p.e, &m2);
	assert_str(m2.ruri, "sip:bob@u.example");
	assert_int_equal(m2.max_forwards, 69);
	assert_string_equal(route_lines(&m2), "Route: <sip:next.example;lr>\r\n");
	assert_str(sip_msg_hdr(&m2, SIP_HDR_RECORD_ROUTE)->value, "<sip:192.0.2.10;lr>");
}

/* ---- pxy_top_route ---- */

static void test_top_route(void **state)
{
	struct sip_uri hop;

	(void)state;
	setup_self();
	parse_req("INVITE sip:bob@example.org SIP/2.0", "");
	assert_int_equal(pxy_top_route(&self, &msg, &hop), -ENOENT);

	parse_req("INVITE sip:bob@example.org SIP/2.0",
		  "Route: <sip:example.com;lr>\r\nRoute: \"Edge\" <sips:[2001:db8::99]:5071;lr>;p=1\r\n");
	assert_int_equal(pxy_top_route(&self, &msg, &hop), 0);
	assert_int_equal(hop.scheme, SIP_URI_SIPS);
	assert_str(hop.host, "[2001:db8::99]");
	assert_int_equal(hop.host_type, SIP_HOST_IPV6);
	assert_int_equal(hop.port, 5071);
	assert_true(hop.lr);

	/* not ours on top: the top itself */
	parse_req("INVITE sip:bob@example.org SIP/2.0", "Route: <sip:a.example;lr>, <sip:b.example;lr>\r\n");
	assert_int_equal(pxy_top_route(&self, &msg, &hop), 0);
	assert_str(hop.host, "a.example");
}

/* ---- loop hash, branch, loop detection ---- */

static void hash_of(const char *start, const char *extra, char h[PXY_LOOP_HASH_LEN])
{
	parse_req(start, extra);
	pxy_loop_hash(&msg, h);
}

static void test_loop_hash_format_and_inputs(void **state)
{
	char a[PXY_LOOP_HASH_LEN], b[PXY_LOOP_HASH_LEN];

	(void)state;
	hash_of("OPTIONS sip:bob@example.com SIP/2.0", "", a);
	for (int i = 0; i < PXY_LOOP_HASH_LEN; i++)
		assert_non_null(strchr("0123456789abcdef", a[i]));
	hash_of("OPTIONS sip:bob@example.com SIP/2.0", "", b);
	assert_memory_equal(a, b, PXY_LOOP_HASH_LEN); /* deterministic */

	/* what changes it */
	hash_of("OPTIONS sip:bob@example.net SIP/2.0", "", b);
	assert_memory_not_equal(a, b, PXY_LOOP_HASH_LEN);
	hash_of("OPTIONS sip:bob@example.com SIP/2.0", "Route: <sip:x.example;lr>\r\n", b);
	assert_memory_not_equal(a, b, PXY_LOOP_HASH_LEN);
	hash_of("OPTIONS sip:bob@example.com SIP/2.0", "Proxy-Require: foo\r\n", b);
	assert_memory_not_equal(a, b, PXY_LOOP_HASH_LEN);
	hash_of("OPTIONS sip:bob@example.com SIP/2.0", "Proxy-Authorization: Digest username=\"a\"\r\n", b);
	assert_memory_not_equal(a, b, PXY_LOOP_HASH_LEN);

	/* fields the fixture fixes: build by hand */
	{
#define BASE_FMT                                                                                       \
	"OPTIONS sip:bob@example.com SIP/2.0\r\n"                                                      \
	"Via: SIP/2.0/UDP u1.example.com:5060;branch=z9hG4bK%s\r\n"                                   \
	"Via: SIP/2.0/UDP %s\r\n"                                                                      \
	"Max-Forwards: %d\r\n"                                                                         \
	"To: <sip:callee@domain.com>%s\r\n"                                                            \
	"From: <sip:caller@example.com>;tag=%s\r\n"                                                    \
	"Call-ID: %s\r\n"                                                                              \
	"CSeq: %d OPTIONS\r\n"                                                                         \
	"Content-Length: 0\r\n\r\n"
		static char buf[1024];
		char ref[PXY_LOOP_HASH_LEN], h[PXY_LOOP_HASH_LEN];
#define HASH_VARIANT(out_, br, via2, mfw, totag, ftag, cid, cseq)                                      \
	do {                                                                                           \
		snprintf(buf, sizeof(buf), BASE_FMT, br, via2, mfw, totag, ftag, cid, cseq);           \
		parse_raw(&msg, buf);                                                                  \
		pxy_loop_hash(&msg, out_);                                                             \
	} while (0)
		HASH_VARIANT(ref, "u1a", "b.example", 70, "", "f1", "c1", 7);
		HASH_VARIANT(h, "u1b", "b.example", 70, "", "f1", "c1", 7); /* top Via */
		assert_memory_not_equal(ref, h, PXY_LOOP_HASH_LEN);
		HASH_VARIANT(h, "u1a", "b.example", 70, ";tag=t9", "f1", "c1", 7); /* To tag */
		assert_memory_not_equal(ref, h, PXY_LOOP_HASH_LEN);
		HASH_VARIANT(h, "u1a", "b.example", 70, "", "f2", "c1", 7); /* From tag */
		assert_memory_not_equal(ref, h, PXY_LOOP_HASH_LEN);
		HASH_VARIANT(h, "u1a", "b.example", 70, "", "f1", "c2", 7); /* Call-ID */
		assert_memory_not_equal(ref, h, PXY_LOOP_HASH_LEN);
		HASH_VARIANT(h, "u1a", "b.example", 70, "", "f1", "c1", 8); /* CSeq */
		assert_memory_not_equal(ref, h, PXY_LOOP_HASH_LEN);
		/* what does not: Max-Forwards, Vias below the top */
		HASH_VARIANT(h, "u1a", "b.example", 69, "", "f1", "c1", 7);
		assert_memory_equal(ref, h, PXY_LOOP_HASH_LEN);
		HASH_VARIANT(h, "u1a", "c.example", 70, "", "f1", "c1", 7);
		assert_memory_equal(ref, h, PXY_LOOP_HASH_LEN);
#undef HASH_VARIANT
#undef BASE_FMT
	}
}

/* INVITE, its CANCEL and the ACK of a non-2xx response get one branch. */
static void test_loop_hash_invite_cancel_ack(void **state)
{
	char inv[PXY_LOOP_HASH_LEN], h[PXY_LOOP_HASH_LEN];

	(void)state;
	hash_of("INVITE sip:bob@example.com SIP/2.0",
		"Route: <sip:x.example;lr>\r\nProxy-Require: foo\r\n"
		"Proxy-Authorization: Digest username=\"a\"\r\n", inv);
	hash_of("CANCEL sip:bob@example.com SIP/2.0", "Route: <sip:x.example;lr>\r\n", h);
	assert_memory_equal(inv, h, PXY_LOOP_HASH_LEN);
	{
		static const char ack[] = "ACK sip:bob@example.com SIP/2.0\r\n"
					  "Via: SIP/2.0/UDP u1.example.com:5060;branch=z9hG4bKu1a\r\n"
					  "Max-Forwards: 70\r\n"
					  "Route: <sip:x.example;lr>\r\n"
					  "To: <sip:callee@domain.com>;tag=resp-tag\r\n"
					  "From: <sip:caller@example.com>;tag=f1\r\n"
					  "Call-ID: c1@u1.example.com\r\n"
					  "CSeq: 7 ACK\r\n"
					  "Content-Length: 0\r\n\r\n";

		parse_raw(&msg, ack);
		pxy_loop_hash(&msg, h);
		assert_memory_equal(inv, h, PXY_LOOP_HASH_LEN);
	}
	/* but not a BYE (non-INVITE: To tag and method-independent rest) */
	hash_of("BYE sip:bob@example.com SIP/2.0", "Route: <sip:x.example;lr>\r\n", h);
	assert_memory_not_equal(inv, h, PXY_LOOP_HASH_LEN);
}

static void test_branch(void **state)
{
	static const char lh[PXY_LOOP_HASH_LEN] = "0123456789abcdef";
	char b[64];

	(void)state;
	assert_int_equal(pxy_branch(b, sizeof(b), lh, 0), 28);
	assert_string_equal(b, "z9hG4bKsph0123456789abcdef.0");
	assert_int_equal(pxy_branch(b, sizeof(b), lh, 12), 29);
	assert_string_equal(b, "z9hG4bKsph0123456789abcdef.12");
	assert_int_equal(pxy_branch(b, 30, lh, 12), 29);   /* exact fit with NUL */
	assert_int_equal(pxy_branch(b, 29, lh, 12), -ENOSPC);
	assert_int_equal(pxy_branch(b, 0, lh, 1), -ENOSPC);
}

/* Forward msg as this proxy (our Via with the branch of loop hash h on top)
 * and return the bytes in fwd. */
static void forward(char *fwd, size_t cap, const struct pxy_self *s, const char *via_host, unsigned idx)
{
	char lh[PXY_LOOP_HASH_LEN], br[64], via[256], mf[4];
	struct sip_edit e;
	struct str ruri;
	bool routed;
	int n;

	pxy_loop_hash(&msg, lh);
	assert_true(pxy_branch(br, sizeof(br), lh, idx) > 0);
	snprintf(via, sizeof(via), "Via: SIP/2.0/UDP %s;branch=%s;rport\r\n", via_host, br);
	sip_edit_init(&e, &msg);
	assert_int_equal(pxy_preprocess(s, &msg, &e, &ruri, &routed), 0);
	assert_int_equal(sip_fwd_add_via(&e, str_cstr(via)), 0);
	assert_int_equal(sip_fwd_dec_max_forwards(&e, mf), 0);
	n = sip_edit_apply(&e, fwd, cap - 1);
	assert_true(n > 0);
	fwd[n] = '\0';
}

/* What another element X does: its Via on top, maybe a new Request-URI or
 * extra text after the Via. */
static void through_x(char *dst, size_t cap, const char *src, const char *new_ruri, const char *add)
{
	const char *eol = strstr(src, "\r\n");
	int n;

	assert_non_null(eol);
	if (new_ruri)
		n = snprintf(dst, cap,
			     "INVITE %s SIP/2.0\r\nVia: SIP/2.0/UDP x.example.net;branch=z9hG4bKx%zu\r\n%s%s",
			     new_ruri, strlen(src), add ? add : "", eol + 2);
	else
		n = snprintf(dst, cap, "%.*s\r\nVia: SIP/2.0/UDP x.example.net;branch=z9hG4bKx%zu\r\n%s%s",
			     (int)(eol - src), src, strlen(src), add ? add : "", eol + 2);
	assert_true(n > 0 && (size_t)n < cap);
}

static bool loop_check(const char *txt)
{
	char lh[PXY_LOOP_HASH_LEN];

	parse_raw(&msg, txt);
	pxy_loop_hash(&msg, lh);
	return pxy_loop_detected(&self, &msg, lh);
}

static void test_loop_vs_spiral(void **state)
{
	static char fwd[4096], back[4096];

	(void)state;
	setup_self();
	/* U1 -> us, no Via of ours: neither */
	parse_req("INVITE sip:bob@far.example SIP/2.0", "");
	assert_false(loop_check(in));

	/* us -> X -> us, unchanged: a loop */
	parse_req("INVITE sip:bob@far.example SIP/2.0", "");
	forward(fwd, sizeof(fwd), &self, "192.0.2.10", 0);
	through_x(back, sizeof(back), fwd, NULL, NULL);
	assert_true(loop_check(back));

	/* us -> us directly (our own Via on top): a loop */
	assert_true(loop_check(fwd));

	/* X retargets (another Request-URI): a spiral */
	through_x(back, sizeof(back), fwd, "sip:bob@elsewhere.example", NULL);
	assert_false(loop_check(back));

	/* X adds a Route (another route set): a spiral */
	through_x(back, sizeof(back), fwd, NULL, "Route: <sip:192.0.2.10;lr>\r\n");
	assert_false(loop_check(back));

	/* a pre-loaded Route to us, consumed on the first pass: the second
	 * pass has another route set (spiral), the third is a loop */
	parse_req("INVITE sip:bob@far.example SIP/2.0", "Route: <sip:192.0.2.10;lr>\r\n");
	forward(fwd, sizeof(fwd), &self, "192.0.2.10", 0);
	through_x(back, sizeof(back), fwd, NULL, NULL);
	assert_false(loop_check(back));
	forward(fwd, sizeof(fwd), &self, "192.0.2.10", 0);
	through_x(back, sizeof(back), fwd, NULL, NULL);
	assert_true(loop_check(back));

	/* the same Via from another host is not ours */
	parse_req("INVITE sip:bob@far.example SIP/2.0", "");
	forward(fwd, sizeof(fwd), &self, "192.0.2.99", 0);
	through_x(back, sizeof(back), fwd, NULL, NULL);
	assert_false(loop_check(back));

	/* ours by name and IPv6 sent-by, and a fork index other than 0 */
	parse_req("INVITE sip:bob@far.example SIP/2.0", "");
	forward(fwd, sizeof(fwd), &self, "p2.example.com", 3);
	through_x(back, sizeof(back), fwd, NULL, NULL);
	assert_true(loop_check(back));
	parse_req("INVITE sip:bob@far.example SIP/2.0", "");
	forward(fwd, sizeof(fwd), &self, "[2001:db8::10]:5060", 1);
	through_x(back, sizeof(back), fwd, NULL, NULL);
	assert_true(loop_check(back));
}

/* Vias combined on one line, foreign branches at our address, and our Via
 * at the bottom. */
static void test_loop_via_shapes(void **state)
{
	char lh[PXY_LOOP_HASH_LEN], br[64];
	static char txt[2048];
#define fmt                                                                                            \
	"INVITE sip:bob@far.example SIP/2.0\r\n"                                                       \
	"%s"                                                                                           \
	"Max-Forwards: 69\r\n"                                                                         \
	"To: <sip:callee@domain.com>\r\n"                                                              \
	"From: <sip:caller@example.com>;tag=f1\r\n"                                                    \
	"Call-ID: c1@u1.example.com\r\n"                                                               \
	"CSeq: 7 INVITE\r\n"                                                                           \
	"Content-Length: 0\r\n\r\n"
	char vias[1024];

	(void)state;
	setup_self();
	/* the hash the request had at us, with U1's Via on top */
	snprintf(txt, sizeof(txt), fmt, "Via: SIP/2.0/UDP u1.example.com;branch=z9hG4bKu1\r\n");
	parse_raw(&msg, txt);
	pxy_loop_hash(&msg, lh);
	assert_true(pxy_branch(br, sizeof(br), lh, 0) > 0);

	/* all Vias on one line */
	snprintf(vias, sizeof(vias),
		 "Via: SIP/2.0/UDP x.example.net;branch=z9hG4bKx1, SIP/2.0/UDP 192.0.2.10;branch=%s;rport=5060,"
		 " SIP/2.0/UDP u1.example.com;branch=z9hG4bKu1\r\n", br);
	snprintf(txt, sizeof(txt), fmt, vias);
	assert_true(loop_check(txt));

	/* our address but a branch not made by pxy_branch */
	snprintf(vias, sizeof(vias),
		 "Via: SIP/2.0/UDP x.example.net;branch=z9hG4bKx1\r\n"
		 "Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK%.16s.0\r\n"
		 "Via: SIP/2.0/UDP u1.example.com;branch=z9hG4bKu1\r\n", lh);
	snprintf(txt, sizeof(txt), fmt, vias);
	assert_false(loop_check(txt));
	/* upper-case hex is not ours either */
	snprintf(vias, sizeof(vias),
		 "Via: SIP/2.0/UDP x.example.net;branch=z9hG4bKx1\r\n"
		 "Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKsphABCDEF0123456789.0\r\n"
		 "Via: SIP/2.0/UDP u1.example.com;branch=z9hG4bKu1\r\n");
	snprintf(txt, sizeof(txt), fmt, vias);
	assert_false(loop_check(txt));
	/* our Via at the bottom: we originated it, no Via to compare with */
	snprintf(vias, sizeof(vias),
		 "Via: SIP/2.0/UDP x.example.net;branch=z9hG4bKx1\r\n"
		 "Via: SIP/2.0/UDP 192.0.2.10;branch=%s\r\n", br);
	snprintf(txt, sizeof(txt), fmt, vias);
	assert_false(loop_check(txt));
	/* Via ports: ours at 5060 by default, not at 5062 */
	snprintf(vias, sizeof(vias),
		 "Via: SIP/2.0/UDP x.example.net;branch=z9hG4bKx1\r\n"
		 "Via: SIP/2.0/UDP 192.0.2.10:5062;branch=%s\r\n"
		 "Via: SIP/2.0/UDP u1.example.com;branch=z9hG4bKu1\r\n", br);
	snprintf(txt, sizeof(txt), fmt, vias);
	assert_false(loop_check(txt));
	/* TLS Via without a port: 5061 */
	snprintf(vias, sizeof(vias),
		 "Via: SIP/2.0/UDP x.example.net;branch=z9hG4bKx1\r\n"
		 "Via: SIP/2.0/TLS 192.0.2.10;branch=%s\r\n"
		 "Via: SIP/2.0/UDP u1.example.com;branch=z9hG4bKu1\r\n", br);
	snprintf(txt, sizeof(txt), fmt, vias);
	assert_true(loop_check(txt));
	/* a garbage hash argument never matches */
	parse_raw(&msg, txt);
	assert_false(pxy_loop_detected(&self, &msg, "not-a-hash-at-al"));
#undef fmt
}

/* ---- header lines ---- */

static void test_record_route_line(void **state)
{
	struct tp_addr a4, a6;
	char b[128];
	struct sip_nameaddr na;
	struct sip_uri u;
	struct str cur;

	(void)state;
	setup_self();
	assert_int_equal(tp_addr_from_numeric(&a4, STR_LIT("192.0.2.10"), 5060), 0);
	assert_int_equal(tp_addr_from_numeric(&a6, STR_LIT("2001:db8::10"), 5061), 0);
	assert_int_equal(pxy_record_route_line(b, sizeof(b), &a4, TP_UDP, false), 40);
	assert_string_equal(b, "Record-Route: <sip:192.0.2.10:5060;lr>\r\n");
	pxy_record_route_line(b, sizeof(b), &a4, TP_TCP, false);
	assert_string_equal(b, "Record-Route: <sip:192.0.2.10:5060;transport=tcp;lr>\r\n");
	pxy_record_route_line(b, sizeof(b), &a6, TP_TLS, true);
	assert_string_equal(b, "Record-Route: <sips:[2001:db8::10]:5061;lr>\r\n");
	pxy_record_route_line(b, sizeof(b), &a6, TP_TLS, false);
	assert_string_equal(b, "Record-Route: <sip:[2001:db8::10]:5061;transport=tls;lr>\r\n");

	/* what we record-route is what we recognise as ours later */
	pxy_record_route_line(b, sizeof(b), &a4, TP_TCP, false);
	cur = str_make(b + 14, strlen(b) - 16);
	assert_int_equal(sip_nameaddr_parse(&na, &cur, SIP_NA_LIST, NULL), 0);
	assert_int_equal(sip_uri_parse(&u, na.uri.s, na.uri.len, NULL), 0);
	assert_true(u.lr);
	assert_true(pxy_uri_is_self(&self, &u));

	/* sizes */
	assert_int_equal(pxy_record_route_line(b, 41, &a4, TP_UDP, false), 40);
	assert_int_equal(pxy_record_route_line(b, 40, &a4, TP_UDP, false), -ENOSPC);
	assert_int_equal(pxy_record_route_line(b, 0, &a4, TP_UDP, false), -ENOSPC);
	{
		struct tp_addr none = { 0 };

		assert_int_equal(pxy_record_route_line(b, sizeof(b), &none, TP_UDP, false), -EINVAL);
	}
}

static void test_via_line(void **state)
{
	struct tp_addr a6;
	char b[160];
	struct sip_via v;
	struct str cur;
	int n;

	(void)state;
	setup_self();
	assert_int_equal(tp_addr_from_numeric(&a6, STR_LIT("[2001:db8::10]"), 5060), 0);
	n = pxy_via_line(b, sizeof(b), &a6, TP_TCP, STR_LIT("z9hG4bKsph0123456789abcdef.1"));
	assert_string_equal(b, "Via: SIP/2.0/TCP [2001:db8::10]:5060;"
			       "branch=z9hG4bKsph0123456789abcdef.1;rport\r\n");
	assert_int_equal(n, (int)strlen(b));
	cur = str_make(b + 5, (size_t)n - 7);
	assert_int_equal(sip_via_parse(&v, &cur, NULL), 0);
	assert_str(v.transport, "TCP");
	assert_str(v.host, "[2001:db8::10]");
	assert_int_equal(v.port, 5060);
	assert_true(v.has_rport);
	assert_str(v.branch, "z9hG4bKsph0123456789abcdef.1");
	assert_int_equal(pxy_via_line(b, (size_t)n, &a6, TP_TCP, STR_LIT("z9hG4bKsph0123456789abcdef.1")),
			 -ENOSPC);
	assert_int_equal(pxy_via_line(b, (size_t)n + 1, &a6, TP_TCP, STR_LIT("z9hG4bKsph0123456789abcdef.1")),
			 n);
}

/* IPv4 hosts are written by hand (no inet_ntop): every octet shape, and
 * ports from 0 to 65535, as inet_ntop and %u would write them. */
static void test_via_line_ipv4(void **state)
{
	static const char *const hosts[] = { "0.0.0.0", "1.2.3.4", "10.0.100.9", "127.0.0.1",
					     "192.168.255.254", "255.255.255.255", "99.9.90.200" };
	static const uint16_t ports[] = { 0, 1, 9, 10, 5060, 65535 };
	char b[160], want[160];
	struct tp_addr a;

	(void)state;
	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		for (size_t j = 0; j < sizeof(ports) / sizeof(ports[0]); j++) {
			assert_int_equal(tp_addr_from_numeric(&a, str_cstr(hosts[i]), ports[j]), 0);
			snprintf(want, sizeof(want), "Via: SIP/2.0/UDP %s:%u;branch=z9hG4bKx;rport\r\n",
				 hosts[i], (unsigned)ports[j]);
			assert_int_equal(pxy_via_line(b, sizeof(b), &a, TP_UDP, STR_LIT("z9hG4bKx")),
					 (int)strlen(want));
			assert_string_equal(b, want);
			snprintf(want, sizeof(want), "Record-Route: <sip:%s:%u;lr>\r\n", hosts[i],
				 (unsigned)ports[j]);
			assert_int_equal(pxy_record_route_line(b, sizeof(b), &a, TP_UDP, false),
					 (int)strlen(want));
			assert_string_equal(b, want);
		}
	}
}

static void test_route_from_path(void **state)
{
	const struct str two = STR_LIT("<sip:edge.example;lr>,<sip:192.0.2.10;lr;ob>");
	char b[256];
	struct sip_edit e;
	struct sip_msg m2;
	struct sip_uri hop;
	int n;

	(void)state;
	setup_self();
	n = pxy_route_from_path(b, sizeof(b), STR_LIT(" <sip:edge.example;lr>,<sip:192.0.2.10;lr;ob> "));
	assert_string_equal(b, "Route: <sip:edge.example;lr>,<sip:192.0.2.10;lr;ob>\r\n");
	assert_int_equal(n, (int)strlen(b));
	assert_int_equal(pxy_route_from_path(b, (size_t)n, two), -ENOSPC);
	assert_int_equal(pxy_route_from_path(b, (size_t)n + 1, two), n);

	/* empty */
	b[0] = 'x';
	assert_int_equal(pxy_route_from_path(b, sizeof(b), STR_NULL), 0);
	assert_string_equal(b, "");
	assert_int_equal(pxy_route_from_path(b, sizeof(b), STR_LIT(" \t ")), 0);
	assert_int_equal(pxy_route_from_path(NULL, 0, STR_NULL), 0);

	/* a stored folded value stays on one line */
	n = pxy_route_from_path(b, sizeof(b), STR_LIT("<sip:a.example;lr>,\r\n <sip:b.example;lr>"));
	assert_string_equal(b, "Route: <sip:a.example;lr>,   <sip:b.example;lr>\r\n");

	/* inserted above an existing Route: the path comes first */
	parse_req("INVITE sip:bob@198.51.100.99:5062 SIP/2.0", "Route: <sip:c.example;lr>\r\n");
	sip_edit_init(&e, &msg);
	assert_int_equal(sip_edit_splice(&e, sip_msg_hdr(&msg, SIP_HDR_ROUTE)->line.s, 0,
					 str_make(b, (size_t)n)), 0);
	apply(&e, &m2);
	assert_string_equal(route_lines(&m2), "Route: <sip:a.example;lr>,   <sip:b.example;lr>\r\n"
					      "Route: <sip:c.example;lr>\r\n");
	assert_int_equal(pxy_top_route(&self, &m2, &hop), 0);
	assert_str(hop.host, "a.example");
}

/* ---- pxy_hop_from_uri ---- */

static void hop_of(const char *uri, struct pxy_hop *hop, int want)
{
	static struct sip_uri u;

	assert_int_equal(sip_uri_parse(&u, uri, strlen(uri), NULL), 0);
	assert_int_equal(pxy_hop_from_uri(&u, hop), want);
}

static void test_hop_from_uri(void **state)
{
	struct pxy_hop h;

	(void)state;
	hop_of("sip:proxy.example.com", &h, 0);
	assert_false(h.proto_set);
	assert_false(h.numeric);
	assert_int_equal(h.port, 0);
	assert_str(h.uri.host, "proxy.example.com");

	hop_of("sip:proxy.example.com:5070", &h, 0); /* explicit port: UDP */
	assert_true(h.proto_set);
	assert_int_equal(h.proto, TP_UDP);
	assert_int_equal(h.port, 5070);

	hop_of("sip:bob@192.0.2.1", &h, 0); /* numeric: UDP */
	assert_true(h.numeric);
	assert_true(h.proto_set);
	assert_int_equal(h.proto, TP_UDP);

	hop_of("sip:[2001:db8::1]:5062;lr", &h, 0);
	assert_true(h.numeric);
	assert_str(h.uri.host, "[2001:db8::1]");
	assert_int_equal(h.port, 5062);

	hop_of("sips:proxy.example.com", &h, 0);
	assert_true(h.proto_set);
	assert_int_equal(h.proto, TP_TLS);

	hop_of("sip:proxy.example.com;transport=TCP", &h, 0);
	assert_int_equal(h.proto, TP_TCP);
	assert_true(h.proto_set);
	hop_of("sips:proxy.example.com;transport=tcp", &h, 0);
	assert_int_equal(h.proto, TP_TLS);
	hop_of("sip:proxy.example.com;transport=tls", &h, 0);
	assert_int_equal(h.proto, TP_TLS);
	hop_of("sip:192.0.2.1;transport=udp", &h, 0);
	assert_int_equal(h.proto, TP_UDP);

	hop_of("sips:proxy.example.com;transport=udp", &h, -EINVAL);
	hop_of("sip:proxy.example.com;transport=sctp", &h, -EPROTONOSUPPORT);
	hop_of("sip:proxy.example.com;transport=ws", &h, -EPROTONOSUPPORT);
	hop_of("tel:+15551234567", &h, -EINVAL);
	assert_int_equal(pxy_hop_from_uri(NULL, &h), -EINVAL);

	/* maddr is the target */
	hop_of("sip:bob@example.com;maddr=[2001:db8::5];lr", &h, 0);
	assert_str(h.uri.host, "[2001:db8::5]");
	assert_int_equal(h.uri.host_type, SIP_HOST_IPV6);
	assert_true(h.numeric);
	assert_str(h.uri.user, "bob");
	hop_of("sip:192.0.2.1;maddr=relay.example.net", &h, 0);
	assert_false(h.numeric);
	assert_false(h.proto_set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		SIPHON_TEST(test_self_numeric_and_default_ports),
		SIPHON_TEST(test_self_ipv6),
		SIPHON_TEST(test_self_wildcard_listener),
		SIPHON_TEST(test_self_names_and_maddr),
		SIPHON_TEST(test_rfc3261_trapezoid_bye),
		SIPHON_TEST(test_rfc3261_strict_router_traversal),
		SIPHON_TEST(test_rfc3261_strict_next_hop),
		SIPHON_TEST(test_route_to_strict_cases),
		SIPHON_TEST(test_rfc3261_rewritten_record_route),
		SIPHON_TEST(test_preprocess_no_route),
		SIPHON_TEST(test_preprocess_multi_value_line),
		SIPHON_TEST(test_preprocess_double_record_route),
		SIPHON_TEST(test_preprocess_strict_router_before_us),
		SIPHON_TEST(test_preprocess_not_strict),
		SIPHON_TEST(test_preprocess_bad_route),
		SIPHON_TEST(test_preprocess_splice_limits),
		SIPHON_TEST(test_preprocess_args),
		SIPHON_TEST(test_preprocess_with_forwarding_edits),
		SIPHON_TEST(test_top_route),
		SIPHON_TEST(test_loop_hash_format_and_inputs),
		SIPHON_TEST(test_loop_hash_invite_cancel_ack),
		SIPHON_TEST(test_branch),
		SIPHON_TEST(test_loop_vs_spiral),
		SIPHON_TEST(test_loop_via_shapes),
		SIPHON_TEST(test_record_route_line),
		SIPHON_TEST(test_via_line),
		SIPHON_TEST(test_via_line_ipv4),
		SIPHON_TEST(test_route_from_path),
		SIPHON_TEST(test_hop_from_uri),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
