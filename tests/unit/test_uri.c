#include "harness.h"

#include "msg/uri.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Parse s and fail the test with the reason if it is rejected. */
static void parse_ok(struct sip_uri *u, const char *s)
{
	const char *why = NULL;
	int err = sip_uri_parse(u, s, strlen(s), &why);

	if (err)
		fail_msg("\"%s\" rejected: %s", s, why ? why : "(no reason)");
	assert_ptr_equal(u->raw.s, s);
	assert_int_equal(u->raw.len, strlen(s));
}

/* s must be rejected with exactly this reason. */
static void parse_bad(const char *s, size_t len, const char *reason)
{
	struct sip_uri u;
	const char *why = NULL;
	int err = sip_uri_parse(&u, s, len, &why);

	if (err != -EINVAL)
		fail_msg("\"%.*s\" accepted, expected \"%s\"", (int)len, s, reason);
	assert_non_null(why);
	if (strcmp(why, reason) != 0)
		fail_msg("\"%.*s\": got \"%s\", expected \"%s\"", (int)len, s, why, reason);
}
#define BAD(s, reason) parse_bad((s), strlen(s), (reason))

static bool uri_eq(const char *a, const char *b)
{
	struct sip_uri x, y;

	parse_ok(&x, a);
	parse_ok(&y, b);
	/* equality is symmetric */
	assert_int_equal(sip_uri_equal(&x, &y), sip_uri_equal(&y, &x));
	return sip_uri_equal(&x, &y);
}

/* ---- host[:port] ---- */

struct hp {
	struct str host;
	enum sip_host_type type;
	uint16_t port;
	bool has_port;
	struct str rest;
};

static int hostport(const char *s, struct hp *h, const char **why)
{
	struct str cur = str_cstr(s);
	int err = sip_hostport_parse(&cur, &h->host, &h->type, &h->port, &h->has_port, why);

	h->rest = cur;
	return err;
}

static void hp_ok(const char *s, const char *host, enum sip_host_type t, int port,
		  const char *rest)
{
	struct hp h;
	const char *why = NULL;

	if (hostport(s, &h, &why))
		fail_msg("hostport \"%s\" rejected: %s", s, why);
	assert_str(h.host, host);
	assert_int_equal(h.type, t);
	assert_int_equal(h.has_port, port >= 0);
	assert_int_equal(h.port, port >= 0 ? port : 0);
	assert_str(h.rest, rest);
}

static void hp_bad(const char *s, const char *reason)
{
	struct hp h;
	const char *why = NULL;
	struct str cur = str_cstr(s), before = cur;

	if (sip_hostport_parse(&cur, &h.host, &h.type, &h.port, &h.has_port, &why) != -EINVAL)
		fail_msg("hostport \"%s\" accepted, expected \"%s\"", s, reason);
	assert_string_equal(why, reason);
	/* the cursor is untouched on error */
	assert_ptr_equal(cur.s, before.s);
	assert_int_equal(cur.len, before.len);
}

static void test_hostport_names(void **state)
{
	(void)state;
	hp_ok("example.com", "example.com", SIP_HOST_NAME, -1, "");
	hp_ok("Example.COM.", "Example.COM.", SIP_HOST_NAME, -1, "");
	hp_ok("a", "a", SIP_HOST_NAME, -1, "");
	hp_ok("chair-dnrc.example.com;x", "chair-dnrc.example.com", SIP_HOST_NAME, -1, ";x");
	hp_ok("1host.example.com:5060;lr", "1host.example.com", SIP_HOST_NAME, 5060, ";lr");
	hp_ok("h.example.com?a=b", "h.example.com", SIP_HOST_NAME, -1, "?a=b");
	hp_ok("h.example.com>", "h.example.com", SIP_HOST_NAME, -1, ">");
	hp_ok("h.example.com, next", "h.example.com", SIP_HOST_NAME, -1, ", next");
	hp_ok("h.example.com SIP/2.0", "h.example.com", SIP_HOST_NAME, -1, " SIP/2.0");
	hp_ok("x-1.y--z.com", "x-1.y--z.com", SIP_HOST_NAME, -1, "");
	/* the scanner stops at '_'; the caller decides */
	hp_ok("a_b", "a", SIP_HOST_NAME, -1, "_b");

	hp_bad("", "empty host");
	hp_bad(";lr", "empty host");
	hp_bad(":5060", "empty host");
	hp_bad("-a.com", "bad hostname");
	hp_bad("a-.com", "bad hostname");
	hp_bad("a..com", "bad hostname");
	hp_bad(".com", "bad hostname");
	hp_bad(".", "bad hostname");
	hp_bad("example.com-", "bad hostname");
	/* toplabel must start with ALPHA (RFC 3261 §25.1) */
	hp_bad("example.1com", "bad hostname");
	hp_bad("a.b.c.4x", "bad hostname");
}

static void test_hostport_ipv4(void **state)
{
	(void)state;
	hp_ok("192.0.2.1", "192.0.2.1", SIP_HOST_IPV4, -1, "");
	hp_ok("0.0.0.0:0", "0.0.0.0", SIP_HOST_IPV4, 0, "");
	hp_ok("255.255.255.255:65535", "255.255.255.255", SIP_HOST_IPV4, 65535, "");
	hp_ok("010.001.000.9", "010.001.000.9", SIP_HOST_IPV4, -1, "");
	hp_bad("1.2.3.4.5", "bad IPv4 address");
	hp_bad("1.2.3", "bad IPv4 address");
	hp_bad("1.2.3.256", "bad IPv4 address");
	hp_bad("1.2.3.0004", "bad IPv4 address");
	hp_bad("1..3.4", "bad IPv4 address");
	hp_bad("1.2.3.4.", "bad IPv4 address");
	hp_bad("12345", "bad IPv4 address");
	/* looks like IPv4 but has a letter: then it must be a hostname */
	hp_bad("1.2.3.4a", "bad hostname");
}

static void test_hostport_port(void **state)
{
	(void)state;
	hp_ok("h:1", "h", SIP_HOST_NAME, 1, "");
	hp_ok("h:00005060", "h", SIP_HOST_NAME, 5060, "");
	hp_ok("h:65535;transport=tcp", "h", SIP_HOST_NAME, 65535, ";transport=tcp");
	hp_ok("h:0", "h", SIP_HOST_NAME, 0, "");
	hp_bad("h:65536", "port out of range");
	hp_bad("h:99999999999999999999", "port out of range");
	hp_bad("h:", "bad port");
	hp_bad("h:;lr", "bad port");
	hp_bad("h:x", "bad port");
	hp_bad("[::1]:", "bad port");
	hp_bad("[::1]:70000", "port out of range");
}

static void test_hostport_ipv6(void **state)
{
	(void)state;
	/* RFC 5118 §4.1, §4.3, §4.4, §4.9, §4.10 */
	hp_ok("[2001:db8::10]", "[2001:db8::10]", SIP_HOST_IPV6, -1, "");
	hp_ok("[2001:db8::10:5070]", "[2001:db8::10:5070]", SIP_HOST_IPV6, -1, "");
	hp_ok("[2001:db8::10]:5070", "[2001:db8::10]", SIP_HOST_IPV6, 5070, "");
	hp_ok("[::ffff:192.0.2.10]:19823", "[::ffff:192.0.2.10]", SIP_HOST_IPV6, 19823, "");
	hp_ok("[2001:db8::192.0.2.1]", "[2001:db8::192.0.2.1]", SIP_HOST_IPV6, -1, "");
	hp_ok("[2001:db8:::192.0.2.1]", "[2001:db8:::192.0.2.1]", SIP_HOST_IPV6, -1, "");
	hp_ok("[2001:db8::9:1]:6050;branch=x", "[2001:db8::9:1]", SIP_HOST_IPV6, 6050, ";branch=x");
	hp_ok("[::]", "[::]", SIP_HOST_IPV6, -1, "");
	hp_ok("[::1]", "[::1]", SIP_HOST_IPV6, -1, "");
	hp_ok("[1::]", "[1::]", SIP_HOST_IPV6, -1, "");
	hp_ok("[1:2:3:4:5:6:7:8]", "[1:2:3:4:5:6:7:8]", SIP_HOST_IPV6, -1, "");
	hp_ok("[1:2:3:4:5:6:1.2.3.4]", "[1:2:3:4:5:6:1.2.3.4]", SIP_HOST_IPV6, -1, "");
	hp_ok("[::1.2.3.4]", "[::1.2.3.4]", SIP_HOST_IPV6, -1, "");
	hp_ok("[:::1.2.3.4]", "[:::1.2.3.4]", SIP_HOST_IPV6, -1, "");
	hp_ok("[FE80::ABCD:ef01]", "[FE80::ABCD:ef01]", SIP_HOST_IPV6, -1, "");

	/* RFC 5118 §4.2: no brackets */
	hp_bad("2001:db8::10", "IPv6 address without brackets");
	hp_bad("fe80::1", "IPv6 address without brackets");
	hp_bad("::1", "empty host");
	hp_bad("[2001:db8::10", "unterminated IPv6 reference");
	hp_bad("[]", "bad IPv6 address");
	hp_bad("[:]", "bad IPv6 address");
	hp_bad("[:::]", "bad IPv6 address");
	hp_bad("[1:::2]", "bad IPv6 address");
	hp_bad("[1::2::3]", "bad IPv6 address");
	hp_bad("[1:2:3:4:5:6:7]", "bad IPv6 address");
	hp_bad("[1:2:3:4:5:6:7:8:9]", "bad IPv6 address");
	hp_bad("[1:2:3:4:5:6:7::8]", "bad IPv6 address");
	hp_bad("[1:2:3:4:5:6:7:1.2.3.4]", "bad IPv6 address");
	hp_bad("[12345::1]", "bad IPv6 address");
	hp_bad("[1:]", "bad IPv6 address");
	hp_bad("[:1::2]", "bad IPv6 address");
	hp_bad("[g::1]", "bad IPv6 address");
	hp_bad("[::1.2.3]", "bad IPv6 address");
	hp_bad("[::1.2.3.4:5]", "bad IPv6 address");
	hp_bad("[::256.1.1.1]", "bad IPv6 address");
	hp_bad("[example.com]", "bad IPv6 address");
	hp_bad("[192.0.2.1]", "bad IPv6 address");
}

/* ---- sip: / sips: ---- */

static void test_parse_basic(void **state)
{
	struct sip_uri u;

	(void)state;
	parse_ok(&u, "sip:alice@atlanta.com");
	assert_int_equal(u.scheme, SIP_URI_SIP);
	assert_str(u.scheme_str, "sip");
	assert_str(u.user, "alice");
	assert_false(u.has_password);
	assert_str(u.host, "atlanta.com");
	assert_int_equal(u.host_type, SIP_HOST_NAME);
	assert_false(u.has_port);
	assert_int_equal(u.port, 0);
	assert_null(u.params.s);
	assert_null(u.headers.s);
	assert_false(u.lr);

	parse_ok(&u, "SIPS:Bob:secret@Biloxi.Example.COM:5061");
	assert_int_equal(u.scheme, SIP_URI_SIPS);
	assert_str(u.scheme_str, "SIPS");
	assert_str(u.user, "Bob");
	assert_true(u.has_password);
	assert_str(u.password, "secret");
	assert_str(u.host, "Biloxi.Example.COM");
	assert_true(u.has_port);
	assert_int_equal(u.port, 5061);

	parse_ok(&u, "sip:example.com");
	assert_int_equal(u.user.len, 0);
	assert_str(u.host, "example.com");

	/* an empty password is allowed: password = *( ... ) */
	parse_ok(&u, "sip:bob:@h");
	assert_true(u.has_password);
	assert_int_equal(u.password.len, 0);
	assert_str(u.user, "bob");

	parse_ok(&u, "sip:+19725552222@gw1.example.net;unknownparam");
	assert_str(u.user, "+19725552222");
	assert_str(u.params, "unknownparam");
	parse_ok(&u, "sip:192.0.2.4:5060");
	assert_int_equal(u.host_type, SIP_HOST_IPV4);
	assert_int_equal(u.port, 5060);
}

static void test_parse_params(void **state)
{
	struct sip_uri u;
	struct str v;

	(void)state;
	parse_ok(&u, "sip:alice@atlanta.com;transport=TCP;user=phone;method=INVITE;"
		     "maddr=239.255.255.1;ttl=15;lr;x=y?subject=hi");
	assert_str(u.transport, "TCP");
	assert_str(u.user_param, "phone");
	assert_str(u.method, "INVITE");
	assert_str(u.maddr, "239.255.255.1");
	assert_str(u.ttl, "15");
	assert_true(u.lr);
	assert_str(u.params, "transport=TCP;user=phone;method=INVITE;maddr=239.255.255.1;ttl=15;lr;x=y");
	assert_str(u.headers, "subject=hi");

	assert_int_equal(sip_uri_param(&u, STR_LIT("X"), &v), 1);
	assert_str(v, "y");
	assert_int_equal(sip_uri_param(&u, STR_LIT("lr"), &v), 1);
	assert_int_equal(v.len, 0);
	assert_int_equal(sip_uri_param(&u, STR_LIT("TRANSPORT"), &v), 1);
	assert_str(v, "TCP");
	assert_int_equal(sip_uri_param(&u, STR_LIT("subject"), &v), 0);
	assert_int_equal(sip_uri_param(&u, STR_LIT("l"), &v), 0);

	parse_ok(&u, "sip:services.example.com;lr;unknownwith=value;unknown-no-value");
	assert_true(u.lr);
	assert_int_equal(sip_uri_param(&u, STR_LIT("unknown-no-value"), &v), 1);
	assert_int_equal(v.len, 0);
	assert_int_equal(sip_uri_param(&u, STR_LIT("unknownwith"), &v), 1);
	assert_str(v, "value");

	parse_ok(&u, "sip:h;maddr=[2001:db8::1];lr=on");
	assert_str(u.maddr, "[2001:db8::1]");
	assert_true(u.lr);
	parse_ok(&u, "sip:h;maddr=proxy.example.com.");
	assert_str(u.maddr, "proxy.example.com.");
	parse_ok(&u, "sip:h;ttl=0;x=[a]/:&+$");
	assert_str(u.ttl, "0");
	parse_ok(&u, "sip:h;%6C%72");
	/* an escaped name is not the well-known lr */
	assert_false(u.lr);
	assert_int_equal(sip_uri_param(&u, STR_LIT("%6C%72"), &v), 1);

	/* no params: lookups find nothing */
	parse_ok(&u, "sip:h");
	assert_int_equal(sip_uri_param(&u, STR_LIT("lr"), &v), 0);

	BAD("sip:h;", "empty uri-parameter");
	BAD("sip:h;;lr", "empty uri-parameter");
	BAD("sip:h;lr;", "empty uri-parameter");
	BAD("sip:h;=x", "empty uri-parameter");
	BAD("sip:h;x=", "empty uri-parameter value");
	BAD("sip:h;x=a=b", "bad character in uri-parameter");
	BAD("sip:h;x=\"q\"", "bad character in uri-parameter");
	parse_ok(&u, "sip:h;x@y");
	assert_str(u.user, "h;x");
	assert_null(u.params.s);
	BAD("sip:h;transport=udp;transport=tcp", "duplicate transport parameter");
	BAD("sip:h;user=ip;USER=phone", "duplicate user parameter");
	BAD("sip:h;method=A;method=B", "duplicate method parameter");
	BAD("sip:h;maddr=a;maddr=b", "duplicate maddr parameter");
	BAD("sip:h;ttl=1;ttl=2", "duplicate ttl parameter");
	BAD("sip:h;lr;lr", "duplicate lr parameter");
	BAD("sip:h;transport=", "empty uri-parameter value");
	BAD("sip:h;transport", "bad transport parameter");
	BAD("sip:h;transport=a/b", "bad transport parameter");
	BAD("sip:h;user", "bad user parameter");
	BAD("sip:h;method=[x]", "bad method parameter");
	BAD("sip:h;ttl=256", "bad ttl parameter");
	BAD("sip:h;ttl=0001", "bad ttl parameter");
	BAD("sip:h;ttl=x", "bad ttl parameter");
	BAD("sip:h;maddr=1.2.3.4:5060", "bad maddr parameter");
	BAD("sip:h;maddr=2001:db8::1", "bad maddr parameter");
	BAD("sip:h;maddr=a$b", "bad maddr parameter");
}

static void test_parse_headers(void **state)
{
	struct sip_uri u;

	(void)state;
	/* RFC 4475 §3.3.14 regescrt */
	parse_ok(&u, "sip:user@host?Route=%3Csip:sip.example.com%3E");
	assert_str(u.headers, "Route=%3Csip:sip.example.com%3E");
	assert_str(u.host, "host");
	assert_null(u.params.s);
	parse_ok(&u, "sip:user@example.com?Route=%3Csip:example.com%3E");
	parse_ok(&u, "sip:alice@atlanta.com?subject=project%20x&priority=urgent");
	assert_str(u.headers, "subject=project%20x&priority=urgent");
	parse_ok(&u, "sip:a@b;lr?x=&y=[a]/?:+$");
	assert_str(u.params, "lr");
	assert_str(u.headers, "x=&y=[a]/?:+$");

	BAD("sip:a@b?", "empty URI header name");
	BAD("sip:a@b?x=1&", "empty URI header name");
	BAD("sip:a@b?=1", "empty URI header name");
	BAD("sip:a@b?x", "URI header without '='");
	BAD("sip:a@b?x=1&y", "URI header without '='");
	BAD("sip:a@b?x=a;b", "bad character in URI header");
	BAD("sip:a@b?x=a=b", "bad character in URI header");
	BAD("sip:a@b?x=a,b", "bad character in URI header");
	/* an unescaped '@' can only end userinfo, so this is user
	 * "h?Route=sip", password "x", host "y" (the only ABNF parse) */
	parse_ok(&u, "sip:h?Route=sip:x@y");
	assert_str(u.user, "h?Route=sip");
	assert_str(u.password, "x");
	assert_str(u.host, "y");
	assert_null(u.headers.s);
}

static void test_parse_userinfo(void **state)
{
	struct sip_uri u;
	char buf[64];
	int n;

	(void)state;
	/* RFC 4475 §3.1.1.9 semiuri: ';' in the user part */
	parse_ok(&u, "sip:user;par=u%40example.net@example.com");
	assert_str(u.user, "user;par=u%40example.net");
	assert_str(u.host, "example.com");
	assert_null(u.params.s);
	n = sip_uri_unescape(buf, sizeof(buf), u.user);
	assert_int_equal(n, 22);
	assert_memory_equal(buf, "user;par=u@example.net", 22);

	/* RFC 4475 §3.1.1.2 intmeth */
	parse_ok(&u, "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,"
		     "weird!*pas$wo~d_too.(doesn't-it)@example.com");
	assert_str(u.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
	assert_true(u.has_password);
	assert_str(u.password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
	assert_str(u.host, "example.com");
	parse_ok(&u, "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com");
	assert_str(u.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
	assert_false(u.has_password);

	/* RFC 4475 §3.1.1.3 esc01 */
	parse_ok(&u, "sip:sips%3Auser%40example.com@example.net");
	assert_int_equal(u.scheme, SIP_URI_SIP);
	assert_str(u.user, "sips%3Auser%40example.com");
	assert_str(u.host, "example.net");
	n = sip_uri_unescape(buf, sizeof(buf), u.user);
	assert_int_equal(n, 21);
	assert_memory_equal(buf, "sips:user@example.com", 21);
	parse_ok(&u, "sip:%75se%72@example.com");
	parse_ok(&u, "sip:I%20have%20spaces@example.net");
	parse_ok(&u, "sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31");
	assert_str(u.params, "%6C%72;n%61me=v%61lue%25%34%31");

	/* RFC 4475 §3.1.1.4 escnull: decoding must not stop at the NUL */
	parse_ok(&u, "sip:null-%00-null@example.com");
	n = sip_uri_unescape(buf, sizeof(buf), u.user);
	assert_int_equal(n, 11);
	assert_memory_equal(buf, "null-\0-null", 11);
	parse_ok(&u, "sip:%00%00@host5.example.com");
	assert_int_equal(sip_uri_unescape(buf, sizeof(buf), u.user), 2);

	BAD("sip:@example.com", "empty user");
	BAD("sip::pw@example.com", "empty user");
	BAD("sip:a\"b@h", "bad character in user");
	BAD("sip:a[b@h", "bad character in user");
	BAD("sip:a{b@h", "bad character in user");
	BAD("sip:a:p;w@h", "bad character in password");
	BAD("sip:a:p:w@h", "bad character in password");
	BAD("sip:a:p?w@h", "bad character in password");
	BAD("sip:a@b@h", "bad character after host");
}

static void test_parse_reject(void **state)
{
	(void)state;
	BAD("", "empty URI");
	BAD("sip", "missing scheme");
	BAD("alice@atlanta.com", "missing scheme");
	BAD(":x", "bad scheme");
	BAD("1sip:x", "bad scheme");
	BAD("s_p:x", "bad scheme");
	BAD("sip:", "empty host");
	BAD("sip:user@", "empty host");
	BAD("sip:user@;lr", "empty host");
	BAD("sip:user@:5060", "empty host");
	/* RFC 4475 §3.1.2.8 lwsruri, §3.1.2.7 ltgtruri, §3.1.2.14 badaspec */
	BAD("sip:user@example.com; lr", "whitespace in URI");
	BAD("sip:user@example.com ", "whitespace in URI");
	BAD(" sip:t.watson@example.org", "whitespace in URI");
	BAD("sip:user@ex\tample.com", "whitespace in URI");
	BAD("sip:user@example.com\r\n", "whitespace in URI");
	BAD("<sip:user@example.com>", "'<' or '>' in URI");
	BAD("sip:user@example.com>", "'<' or '>' in URI");
	BAD("sip:us\x01r@example.com", "control character in URI");
	BAD("sip:us\x7fr@example.com", "control character in URI");
	BAD("sip:j\xc3\xa9@example.com", "non-ASCII octet in URI");
	parse_bad("sip:a\0b@example.com", 19, "control character in URI");
	/* escapes */
	BAD("sip:%4@h", "bad escape");
	BAD("sip:%zz@h", "bad escape");
	BAD("sip:a%4", "bad escape");
	BAD("sip:a%", "bad escape");
	BAD("sip:a@h;x=%g0", "bad escape");
	BAD("http:%x", "bad escape");
	/* RFC 5118 §4.2 ipv6-bad */
	BAD("sip:2001:db8::10", "IPv6 address without brackets");
	BAD("sip:user@2001:db8::10", "IPv6 address without brackets");
	BAD("sip:[2001:db8::10", "unterminated IPv6 reference");
	BAD("sip:h:65536", "port out of range");
	BAD("sip:h:", "bad port");
	BAD("sip:h:50a", "bad character after host");
	BAD("sip:bad_host.com", "bad character after host");
	BAD("sip:host.com:5060:5061", "bad character after host");
	BAD("sip:[::1]x", "bad character after host");
	BAD("sip:1.2.3.4.5", "bad IPv4 address");
	BAD("sip:a@1.2.3.999", "bad IPv4 address");
	BAD("sip:host-.com", "bad hostname");
}

static void test_parse_ipv6(void **state)
{
	struct sip_uri u;

	(void)state;
	/* RFC 5118 §4.3: the ":5070" belongs to the address */
	parse_ok(&u, "sip:[2001:db8::10:5070]");
	assert_str(u.host, "[2001:db8::10:5070]");
	assert_int_equal(u.host_type, SIP_HOST_IPV6);
	assert_false(u.has_port);
	/* §4.4 */
	parse_ok(&u, "sip:[2001:db8::10]:5070");
	assert_str(u.host, "[2001:db8::10]");
	assert_true(u.has_port);
	assert_int_equal(u.port, 5070);
	parse_ok(&u, "sip:user@[2001:db8::10]");
	assert_str(u.user, "user");
	parse_ok(&u, "sip:caller@[2001:db8::1]");
	parse_ok(&u, "sip:ted@[::ffff:192.0.2.2]");
	parse_ok(&u, "sip:[::ffff:192.0.2.10]:19823;transport=tcp");
	assert_int_equal(u.port, 19823);
	assert_str(u.transport, "tcp");
	/* §4.10 */
	parse_ok(&u, "sip:user@[2001:db8:::192.0.2.1]");
	parse_ok(&u, "sip:user@[2001:db8::192.0.2.1]");
	assert_str(u.host, "[2001:db8::192.0.2.1]");
}

/* ---- other schemes ---- */

static void test_parse_tel(void **state)
{
	struct sip_uri u;
	struct str v;

	(void)state;
	parse_ok(&u, "tel:+1-212-555-0101;phone-context=example.com");
	assert_int_equal(u.scheme, SIP_URI_TEL);
	assert_str(u.user, "+1-212-555-0101");
	assert_str(u.opaque, "+1-212-555-0101;phone-context=example.com");
	assert_str(u.params, "phone-context=example.com");
	assert_int_equal(sip_uri_param(&u, STR_LIT("Phone-Context"), &v), 1);
	assert_str(v, "example.com");
	assert_int_equal(u.host.len, 0);

	parse_ok(&u, "TEL:+358-555-1234567");
	assert_int_equal(u.scheme, SIP_URI_TEL);
	assert_null(u.params.s);
	parse_ok(&u, "tel:+1(800)555.1234;ext=22;isub=1411");
	parse_ok(&u, "tel:7042;phone-context=example.com");
	assert_str(u.user, "7042");
	parse_ok(&u, "tel:*86#;phone-context=+1-212");
	parse_ok(&u, "tel:863-1234;phone-context=+1-914-555");
	parse_ok(&u, "tel:+1234;x");

	BAD("tel:", "bad tel number");
	BAD("tel:+", "bad tel number");
	BAD("tel:+-()", "bad tel number");
	BAD("tel:+1a2", "bad tel number");
	BAD("tel:+1 2", "whitespace in URI");
	BAD("tel:12@h", "bad tel number");
	BAD("tel:7042", "local tel number without phone-context");
	BAD("tel:+1;", "empty tel parameter");
	BAD("tel:+1;a=", "empty tel parameter");
	BAD("tel:+1;a_b=1", "bad tel parameter");
	BAD("tel:+1;a=b@c", "bad tel parameter");
}

static void test_parse_other(void **state)
{
	struct sip_uri u;

	(void)state;
	/* RFC 4475 §3.3.2 unkscm, §3.3.3 novelsc, §3.3.4 unksm2 */
	parse_ok(&u, "nobodyKnowsThisScheme:totallyopaquecontent");
	assert_int_equal(u.scheme, SIP_URI_OTHER);
	assert_str(u.scheme_str, "nobodyKnowsThisScheme");
	assert_str(u.opaque, "totallyopaquecontent");
	assert_int_equal(u.host.len, 0);
	parse_ok(&u, "soap.beep://192.0.2.103:3002");
	assert_int_equal(u.scheme, SIP_URI_OTHER);
	assert_str(u.scheme_str, "soap.beep");
	assert_str(u.opaque, "//192.0.2.103:3002");
	parse_ok(&u, "isbn:2983792873");
	parse_ok(&u, "http://www.example.com");
	parse_ok(&u, "name:John_Smith");
	parse_ok(&u, "mailto:a%20b@example.com?subject=x&body=y;z,$+");
	parse_ok(&u, "im:[2001:db8::1]");
	parse_ok(&u, "x-1+a.b:c");

	BAD("nobody:", "empty URI after scheme");
	BAD("http://a\"b", "bad character in URI");
	BAD("http://a#frag", "bad character in URI");
	BAD("http://a|b", "bad character in URI");
	BAD("urn:a b", "whitespace in URI");
}

/* ---- torture corpus ---- */

/* Extract the Request-URI of a corpus message and parse it. */
static void corpus_ruri(const char *file, const char *want_uri, int want_err)
{
	size_t len;
	char *buf = harness_read_corpus(file, &len);
	char *sp1, *sp2;
	struct sip_uri u;
	const char *why = NULL;
	int err;

	assert_non_null(buf);
	sp1 = memchr(buf, ' ', len);
	assert_non_null(sp1);
	sp2 = memchr(sp1 + 1, ' ', len - (size_t)(sp1 + 1 - buf));
	assert_non_null(sp2);
	if ((size_t)(sp2 - sp1 - 1) != strlen(want_uri) ||
	    memcmp(sp1 + 1, want_uri, strlen(want_uri)) != 0)
		fail_msg("%s: Request-URI is \"%.*s\"", file, (int)(sp2 - sp1 - 1), sp1 + 1);
	err = sip_uri_parse(&u, sp1 + 1, (size_t)(sp2 - sp1 - 1), &why);
	if (err != want_err)
		fail_msg("%s: Request-URI got %d (%s), want %d", file, err, why ? why : "-", want_err);
	free(buf);
}

/* Every <...> URI in a corpus file must parse. */
static int corpus_bracketed(const char *file)
{
	size_t len, i = 0;
	char *buf = harness_read_corpus(file, &len);
	int n = 0;

	assert_non_null(buf);
	while (i < len) {
		char *lt = memchr(buf + i, '<', len - i), *gt;
		struct sip_uri u;
		const char *why = NULL;

		if (!lt)
			break;
		gt = memchr(lt, '>', len - (size_t)(lt - buf));
		if (!gt)
			break;
		if (sip_uri_parse(&u, lt + 1, (size_t)(gt - lt - 1), &why))
			fail_msg("%s: <%.*s> rejected: %s", file, (int)(gt - lt - 1), lt + 1, why);
		n++;
		i = (size_t)(gt + 1 - buf);
	}
	free(buf);
	return n;
}

static void test_corpus(void **state)
{
	(void)state;
	corpus_ruri("rfc4475/wsinv.dat", "sip:vivekg@chair-dnrc.example.com;unknownparam", 0);
	corpus_ruri("rfc4475/intmeth.dat",
		    "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,"
		    "weird!*pas$wo~d_too.(doesn't-it)@example.com", 0);
	corpus_ruri("rfc4475/esc01.dat", "sip:sips%3Auser%40example.com@example.net", 0);
	corpus_ruri("rfc4475/escnull.dat", "sip:example.com", 0);
	corpus_ruri("rfc4475/semiuri.dat", "sip:user;par=u%40example.net@example.com", 0);
	corpus_ruri("rfc4475/longreq.dat", "sip:user@example.com", 0);
	corpus_ruri("rfc4475/unkscm.dat", "nobodyKnowsThisScheme:totallyopaquecontent", 0);
	corpus_ruri("rfc4475/novelsc.dat", "soap.beep://192.0.2.103:3002", 0);
	/* escaped headers in a Request-URI are syntactically fine; rejecting
	 * them (RFC 4475 §3.1.2.11) is the message layer's call */
	corpus_ruri("rfc4475/escruri.dat", "sip:user@example.com?Route=%3Csip:example.com%3E", 0);
	corpus_ruri("rfc4475/ltgtruri.dat", "<sip:user@example.com>", -EINVAL);
	corpus_ruri("rfc5118/derived/ipv6-good.dat", "sip:[2001:db8::10]", 0);
	corpus_ruri("rfc5118/derived/ipv6-bad.dat", "sip:2001:db8::10", -EINVAL);
	corpus_ruri("rfc5118/derived/port-ambiguous.dat", "sip:[2001:db8::10:5070]", 0);
	corpus_ruri("rfc5118/derived/port-unambiguous.dat", "sip:[2001:db8::10]:5070", 0);
	corpus_ruri("rfc5118/derived/ipv6-bug-abnf-3-colons.dat", "sip:user@[2001:db8:::192.0.2.1]", 0);
	corpus_ruri("rfc5118/derived/ipv6-correct-abnf-2-colons.dat", "sip:user@[2001:db8::192.0.2.1]", 0);

	assert_true(corpus_bracketed("rfc4475/wsinv.dat") >= 3);
	assert_true(corpus_bracketed("rfc4475/esc01.dat") >= 2);
	assert_int_equal(corpus_bracketed("rfc4475/escnull.dat"), 2);
	assert_true(corpus_bracketed("rfc4475/longreq.dat") >= 2);
	assert_true(corpus_bracketed("rfc4475/regescrt.dat") >= 1);
	assert_true(corpus_bracketed("rfc4475/cparam02.dat") >= 1);
	assert_true(corpus_bracketed("rfc4475/unksm2.dat") >= 2);
	assert_true(corpus_bracketed("rfc5118/derived/ipv4-mapped-ipv6.dat") >= 1);
	assert_true(corpus_bracketed("rfc5118/derived/ipv6-good.dat") >= 1);
}

/* ---- comparison, RFC 3261 §19.1.4 ---- */

static void test_equal_rfc_examples(void **state)
{
	(void)state;
	/* "The URIs within each of the following sets are equivalent" */
	assert_true(uri_eq("sip:%61lice@atlanta.com;transport=TCP",
			   "sip:alice@AtLanTa.CoM;Transport=tcp"));
	assert_true(uri_eq("sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5"));
	assert_true(uri_eq("sip:carol@chicago.com", "sip:carol@chicago.com;security=on"));
	assert_true(uri_eq("sip:carol@chicago.com;newparam=5", "sip:carol@chicago.com;security=on"));
	assert_true(uri_eq("sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
			   "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com"));
	assert_true(uri_eq("sip:alice@atlanta.com?subject=project%20x&priority=urgent",
			   "sip:alice@atlanta.com?priority=urgent&subject=project%20x"));

	/* "The URIs within each of the following sets are not equivalent" */
	assert_false(uri_eq("SIP:ALICE@AtLanTa.CoM;Transport=udp",
			    "sip:alice@AtLanTa.CoM;Transport=UDP"));
	assert_false(uri_eq("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"));
	assert_false(uri_eq("sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp"));
	assert_false(uri_eq("sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp"));
	assert_false(uri_eq("sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting"));
	assert_false(uri_eq("sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4"));
	/* equality is not transitive */
	assert_false(uri_eq("sip:carol@chicago.com;security=on",
			    "sip:carol@chicago.com;security=off"));
}

static void test_equal_rules(void **state)
{
	(void)state;
	assert_true(uri_eq("sip:alice@atlanta.com", "sip:alice@atlanta.com"));
	assert_true(uri_eq("SIP:alice@atlanta.com", "sip:alice@ATLANTA.com"));
	/* sip vs sips never equal */
	assert_false(uri_eq("sip:alice@atlanta.com", "sips:alice@atlanta.com"));
	/* userinfo is case-sensitive, password too */
	assert_false(uri_eq("sip:Alice@atlanta.com", "sip:alice@atlanta.com"));
	assert_true(uri_eq("sip:a:pw@h", "sip:a:%70w@h"));
	assert_false(uri_eq("sip:a:pw@h", "sip:a:PW@h"));
	assert_false(uri_eq("sip:a:pw@h", "sip:a@h"));
	assert_false(uri_eq("sip:a@h", "sip:h"));
	/* escape case does not matter, the escaped octet's case does */
	assert_true(uri_eq("sip:%6c%72@h", "sip:%6C%72@h"));
	assert_false(uri_eq("sip:%4C@h", "sip:l@h"));
	/* escaped reserved octets differ from literal ones */
	assert_false(uri_eq("sip:a%3Bb@h", "sip:a;b@h"));
	assert_false(uri_eq("sip:a%2Bb@h", "sip:a+b@h"));
	assert_true(uri_eq("sip:a%3Bb@h", "sip:a%3bb@h"));
	assert_true(uri_eq("sip:%7Euser@h", "sip:~user@h"));
	/* ports */
	assert_true(uri_eq("sip:h:5060", "sip:h:05060"));
	assert_false(uri_eq("sip:h:5060", "sip:h:5061"));
	/* strict params: present in one only */
	assert_false(uri_eq("sip:h;user=phone", "sip:h"));
	assert_false(uri_eq("sip:h", "sip:h;ttl=1"));
	assert_false(uri_eq("sip:h;method=INVITE", "sip:h"));
	assert_false(uri_eq("sip:h;maddr=1.2.3.4", "sip:h"));
	assert_false(uri_eq("sip:h;maddr=1.2.3.4", "sip:h;maddr=1.2.3.5"));
	assert_true(uri_eq("sip:h;MADDR=Example.com", "sip:h;maddr=example.COM"));
	/* lr and others compared only when in both */
	assert_true(uri_eq("sip:h;lr", "sip:h"));
	assert_true(uri_eq("sip:h;lr;x=1", "sip:h;y=2;lr"));
	assert_true(uri_eq("sip:h;x=%41", "sip:h;X=a"));
	assert_false(uri_eq("sip:h;x=1", "sip:h;x=2"));
	assert_false(uri_eq("sip:h;x", "sip:h;x=1"));
	assert_true(uri_eq("sip:h;%78=1", "sip:h;X=1"));
	assert_false(uri_eq("sip:h;%78=1", "sip:h;X=2"));
	/* a repeated name: the first occurrences are compared */
	assert_true(uri_eq("sip:h;p=1;p=2", "sip:h;p=1;p=2"));
	assert_true(uri_eq("sip:h;p=1;p=2", "sip:h;p=1"));
	assert_false(uri_eq("sip:h;p=1;p=2", "sip:h;p=2"));
	/* headers: any present must match; names case-insensitive, values not */
	assert_true(uri_eq("sip:h?Subject=Hi", "sip:h?subject=Hi"));
	assert_true(uri_eq("sip:h?subject=a%20b", "sip:h?%73ubject=a%20b"));
	assert_false(uri_eq("sip:h?subject=Hi", "sip:h?subject=hi"));
	assert_false(uri_eq("sip:h?a=1", "sip:h?a=1&b=2"));
	assert_false(uri_eq("sip:h?a=1&a=1", "sip:h?a=1&b=2"));
	assert_true(uri_eq("sip:h?a=1&b=2", "sip:h?b=2&a=1"));
	/* IPv6 by address value */
	assert_true(uri_eq("sip:[2001:DB8::1]", "sip:[2001:db8:0::0001]"));
	assert_true(uri_eq("sip:[2001:db8:::192.0.2.1]", "sip:[2001:db8::c000:201]"));
	assert_true(uri_eq("sip:[::ffff:192.0.2.10]:19823", "sip:[0:0:0:0:0:ffff:c000:20a]:19823"));
	assert_true(uri_eq("sip:[1::]", "sip:[1:0:0:0:0:0:0:0]"));
	assert_false(uri_eq("sip:[2001:db8::10:5070]", "sip:[2001:db8::10]:5070"));
	assert_false(uri_eq("sip:[2001:db8::1]", "sip:[2001:db8::2]"));
	assert_false(uri_eq("sip:[::1]", "sip:1.2.3.4"));
	/* other schemes: scheme case-folded, the rest byte-wise */
	assert_true(uri_eq("TEL:+1-212-555-0101", "tel:+1-212-555-0101"));
	assert_false(uri_eq("tel:+1-212-555-0101", "tel:+12125550101"));
	assert_true(uri_eq("HTTP://www.example.com", "http://www.example.com"));
	assert_false(uri_eq("http://www.example.com", "http://WWW.example.com"));
	assert_false(uri_eq("http://x", "tel:+1"));
	assert_false(uri_eq("isbn:1", "issn:1"));
}

/* ---- unescape ---- */

static void test_unescape(void **state)
{
	char buf[16];

	(void)state;
	assert_int_equal(sip_uri_unescape(buf, sizeof(buf), STR_LIT("%61lice")), 5);
	assert_memory_equal(buf, "alice", 5);
	/* never recursive (RFC 4475 §3.1.1.3) */
	assert_int_equal(sip_uri_unescape(buf, sizeof(buf), STR_LIT("v%61lue%25%34%31")), 8);
	assert_memory_equal(buf, "value%41", 8);
	assert_int_equal(sip_uri_unescape(buf, sizeof(buf), STR_LIT("%fF%00")), 2);
	assert_int_equal((unsigned char)buf[0], 0xff);
	assert_int_equal(buf[1], 0);
	assert_int_equal(sip_uri_unescape(buf, sizeof(buf), STR_LIT("")), 0);
	assert_int_equal(sip_uri_unescape(buf, 5, STR_LIT("%61lice")), 5);
	assert_int_equal(sip_uri_unescape(buf, 4, STR_LIT("%61lice")), -ENOSPC);
	assert_int_equal(sip_uri_unescape(buf, 0, STR_LIT("a")), -ENOSPC);
	assert_int_equal(sip_uri_unescape(buf, sizeof(buf), STR_LIT("%4")), -EINVAL);
	assert_int_equal(sip_uri_unescape(buf, sizeof(buf), STR_LIT("a%")), -EINVAL);
	assert_int_equal(sip_uri_unescape(buf, sizeof(buf), STR_LIT("%zz")), -EINVAL);
	assert_int_equal(sip_uri_unescape(buf, sizeof(buf), STR_LIT("%4g")), -EINVAL);
}

/* Slices point into the input and cover it without gaps. */
static void test_slices(void **state)
{
	static const char s[] = "sips:u%40x:p@[2001:db8::1]:5061;transport=tls;lr?h=v";
	struct sip_uri u;

	(void)state;
	parse_ok(&u, s);
	assert_ptr_equal(u.scheme_str.s, s);
	assert_ptr_equal(u.user.s, s + 5);
	assert_ptr_equal(u.password.s, u.user.s + u.user.len + 1);
	assert_ptr_equal(u.host.s, u.password.s + u.password.len + 1);
	assert_str(u.host, "[2001:db8::1]");
	assert_int_equal(u.port, 5061);
	assert_ptr_equal(u.params.s, u.host.s + u.host.len + 6);
	assert_ptr_equal(u.headers.s, u.params.s + u.params.len + 1);
	assert_ptr_equal(u.headers.s + u.headers.len, s + sizeof(s) - 1);
	assert_ptr_equal(u.transport.s, u.params.s + 10);
	assert_str(u.transport, "tls");
	/* a URI inside a larger buffer: only len bytes are looked at */
	{
		static const char msg[] = "INVITE sip:bob@biloxi.com;lr SIP/2.0";
		struct sip_uri v;

		assert_int_equal(sip_uri_parse(&v, msg + 7, 21, NULL), 0);
		assert_str(v.raw, "sip:bob@biloxi.com;lr");
		assert_str(v.params, "lr");
		assert_int_equal(sip_uri_parse(&v, msg + 7, 22, NULL), -EINVAL);
		assert_int_equal(sip_uri_parse(&v, msg + 7, 20, NULL), 0);
		assert_str(v.params, "l");
		assert_false(v.lr);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		SIPHON_TEST(test_hostport_names),
		SIPHON_TEST(test_hostport_ipv4),
		SIPHON_TEST(test_hostport_port),
		SIPHON_TEST(test_hostport_ipv6),
		SIPHON_TEST(test_parse_basic),
		SIPHON_TEST(test_parse_params),
		SIPHON_TEST(test_parse_headers),
		SIPHON_TEST(test_parse_userinfo),
		SIPHON_TEST(test_parse_reject),
		SIPHON_TEST(test_parse_ipv6),
		SIPHON_TEST(test_parse_tel),
		SIPHON_TEST(test_parse_other),
		SIPHON_TEST(test_corpus),
		SIPHON_TEST(test_equal_rfc_examples),
		SIPHON_TEST(test_equal_rules),
		SIPHON_TEST(test_unescape),
		SIPHON_TEST(test_slices),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
