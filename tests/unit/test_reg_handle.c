/* Registrar (RFC 3261 §10.3) over the memory location backend: register,
 * refresh, removal, wildcard, interval rules, jitter, q order, CSeq order,
 * per-AoR limit, Path, RFC 5626 flows, fetch, and the RFC 4475 REGISTER
 * cases. Location callbacks are pumped with loc_poll() as the server loop
 * would. */
#include "harness.h"

#include "base/mem.h"
#include "location/loc.h"
#include "msg/msg.h"
#include "registrar/reg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const time_t T0 = 1700000000; /* Tue, 14 Nov 2023 22:13:20 GMT */
static const char *AOR = "sip:alice@example.com";

struct fix {
	struct loc *loc;
	struct reg *reg;
};

static int replies;
static uint16_t reply_code;
static char reply_reason[64];
static char reply_extra[4096];

static void on_reply(void *arg, uint16_t code, const char *reason, struct str extra)
{
	(void)arg;
	replies++;
	reply_code = code;
	snprintf(reply_reason, sizeof(reply_reason), "%s", reason);
	assert_true(extra.len < sizeof(reply_extra));
	memcpy(reply_extra, extra.s ? extra.s : "", extra.len);
	reply_extra[extra.len] = '\0';
}

static void fix_init(struct fix *f, const struct reg_cfg *cfg)
{
	struct loc_cfg lc = { .backend = LOC_MEMORY };

	assert_int_equal(loc_create(&f->loc, &lc), 0);
	assert_int_equal(reg_create(&f->reg, cfg, f->loc), 0);
}

static void fix_fini(struct fix *f)
{
	reg_destroy(f->reg);
	loc_destroy(f->loc);
}

/* Hand a whole message to the registrar; pump until it answers. */
static uint16_t send_raw(struct fix *f, const char *buf, size_t len, time_t now)
{
	static struct sip_msg m;
	struct reg_source src = { STR_LIT("udp:192.0.2.99:5062") };

	assert_int_equal(sip_msg_parse(&m, buf, len, SIP_PARSE_DATAGRAM), 0);
	replies = 0;
	assert_int_equal(reg_handle(f->reg, &m, &src, now, on_reply, NULL), 0);
	for (int i = 0; i < 100 && !replies; i++)
		loc_poll(f->loc);
	assert_int_equal(replies, 1);
	return reply_code;
}

/* A REGISTER for AOR with extra header lines hdrs (each ending in CRLF). */
static uint16_t send(struct fix *f, const char *call_id, unsigned cseq, const char *hdrs,
		     time_t now)
{
	char buf[4096];
	int n = snprintf(buf, sizeof(buf),
			 "REGISTER sip:example.com SIP/2.0\r\n"
			 "Via: SIP/2.0/UDP 192.0.2.99:5062;branch=z9hG4bK%u\r\n"
			 "Max-Forwards: 70\r\n"
			 "From: <sip:alice@example.com>;tag=1\r\n"
			 "To: <sip:alice@EXAMPLE.com>\r\n"
			 "Call-ID: %s\r\n"
			 "CSeq: %u REGISTER\r\n"
			 "User-Agent: test-ua\r\n"
			 "%s"
			 "Content-Length: 0\r\n\r\n",
			 cseq, call_id, cseq, hdrs);

	assert_true(n > 0 && (size_t)n < sizeof(buf));
	return send_raw(f, buf, (size_t)n, now);
}

static uint16_t send_corpus(struct fix *f, const char *name)
{
	size_t len;
	char *buf = harness_read_corpus(name, &len);
	uint16_t code;

	assert_non_null(buf);
	code = send_raw(f, buf, len, T0);
	free(buf);
	return code;
}

static bool has(const char *needle)
{
	if (strstr(reply_extra, needle))
		return true;
	print_error("missing \"%s\" in:\n%s\n", needle, reply_extra);
	return false;
}

static size_t count_contacts(void)
{
	size_t n = 0;

	for (const char *p = reply_extra; (p = strstr(p, "Contact: ")); p++)
		n++;
	return n;
}

static size_t lookup(struct fix *f, const char *aor, struct loc_binding *b, time_t now)
{
	return loc_lookup(f->loc, str_cstr(aor), b, 16, now);
}

static void test_register_refresh(void **state)
{
	struct fix f;
	struct loc_binding b[16];
	size_t n;

	(void)state;
	fix_init(&f, NULL);
	assert_int_equal(send(&f, "c1@h", 1, "Contact: <sip:alice@192.0.2.99:5062>\r\n", T0), 200);
	assert_true(has("Contact: <sip:alice@192.0.2.99:5062>;expires=3600\r\n"));
	assert_true(has("Date: Tue, 14 Nov 2023 22:13:20 GMT\r\n"));
	n = lookup(&f, AOR, b, T0);
	assert_int_equal(n, 1);
	assert_str(b[0].received, "udp:192.0.2.99:5062");
	assert_str(b[0].call_id, "c1@h");
	assert_str(b[0].user_agent, "test-ua");
	assert_int_equal(b[0].cseq, 1);
	assert_int_equal(b[0].q, 1000);
	assert_int_equal(b[0].expires, T0 + 3600);
	loc_release(b, n);

	/* refresh, with an equal URI spelled differently (§19.1.4) */
	assert_int_equal(send(&f, "c1@h", 2, "Contact: <sip:alice@192.0.2.99:5062;LR>\r\n"
				   "Expires: 1800\r\n", T0 + 10), 200);
	assert_int_equal(send(&f, "c1@h", 3, "Contact: <sip:alice@192.0.2.99:5062>\r\n"
				   "Expires: 1800\r\n", T0 + 10), 200);
	/* lr is in one URI only, so it does not count: still one binding */
	assert_int_equal(count_contacts(), 1);
	assert_true(has("Contact: <sip:alice@192.0.2.99:5062>;expires=1800\r\n"));
	fix_fini(&f);
}

static void test_refresh_equal_uri(void **state)
{
	struct fix f;

	(void)state;
	fix_init(&f, NULL);
	assert_int_equal(send(&f, "c1@h", 1, "Contact: <sip:alice@Host.example>\r\n", T0), 200);
	assert_int_equal(send(&f, "c1@h", 2, "Contact: <sip:alice@host.EXAMPLE>;expires=600\r\n",
			      T0 + 5), 200);
	assert_int_equal(count_contacts(), 1);
	assert_true(has("Contact: <sip:alice@Host.example>;expires=600\r\n"));
	fix_fini(&f);
}

static void test_unregister_one_and_wildcard(void **state)
{
	struct fix f;
	struct loc_binding b[16];

	(void)state;
	fix_init(&f, NULL);
	assert_int_equal(send(&f, "c1@h", 1, "Contact: <sip:a@192.0.2.1>, <sip:b@192.0.2.2>\r\n",
			      T0), 200);
	assert_int_equal(count_contacts(), 2);
	assert_int_equal(send(&f, "c1@h", 2, "Contact: <sip:a@192.0.2.1>;expires=0\r\n", T0), 200);
	assert_int_equal(count_contacts(), 1);
	assert_true(has("Contact: <sip:b@192.0.2.2>;expires=3600\r\n"));
	/* removing what is not there is no error */
	assert_int_equal(send(&f, "c1@h", 3, "Contact: <sip:zz@192.0.2.1>\r\nExpires: 0\r\n", T0),
			 200);
	assert_int_equal(count_contacts(), 1);

	assert_int_equal(send(&f, "c2@h", 1, "Contact: <sip:c@192.0.2.3>\r\n", T0), 200);
	assert_int_equal(send(&f, "c9@h", 1, "Contact: *\r\nExpires: 0\r\n", T0), 200);
	assert_int_equal(count_contacts(), 0);
	assert_int_equal(lookup(&f, AOR, b, T0), 0);
	fix_fini(&f);
}

static void test_wildcard_rules(void **state)
{
	struct fix f;

	(void)state;
	fix_init(&f, NULL);
	assert_int_equal(send(&f, "c1@h", 1, "Contact: *, <sip:a@192.0.2.1>\r\nExpires: 0\r\n", T0),
			 400);
	assert_int_equal(send(&f, "c1@h", 1, "Contact: <sip:a@192.0.2.1>\r\nContact: *\r\n"
				   "Expires: 0\r\n", T0), 400);
	assert_int_equal(send(&f, "c1@h", 1, "Contact: *\r\nExpires: 60\r\n", T0), 400);
	assert_int_equal(send(&f, "c1@h", 1, "Contact: *\r\n", T0), 400);
	/* §10.3 step 6: same Call-ID, CSeq not higher: aborted */
	assert_int_equal(send(&f, "c1@h", 5, "Contact: <sip:a@192.0.2.1>\r\n", T0), 200);
	assert_int_equal(send(&f, "c1@h", 5, "Contact: *\r\nExpires: 0\r\n", T0), 500);
	assert_int_equal(send(&f, "fetch@h", 1, "", T0), 200);
	assert_int_equal(count_contacts(), 1);
	assert_int_equal(send(&f, "c1@h", 6, "Contact: *\r\nExpires: 0\r\n", T0), 200);
	assert_int_equal(count_contacts(), 0);
	fix_fini(&f);
}

static void test_interval_rules(void **state)
{
	struct fix f;

	(void)state;
	fix_init(&f, NULL);
	assert_int_equal(send(&f, "c1@h", 1, "Contact: <sip:a@192.0.2.1>\r\nExpires: 30\r\n", T0),
			 423);
	assert_string_equal(reply_reason, "Interval Too Brief");
	assert_string_equal(reply_extra, "Min-Expires: 60\r\n");
	/* the contact's own param wins over the header */
	assert_int_equal(send(&f, "c1@h", 2, "Contact: <sip:a@192.0.2.1>;expires=59\r\n"
				   "Expires: 600\r\n", T0), 423);
	assert_int_equal(send(&f, "c1@h", 3, "Contact: <sip:a@192.0.2.1>;expires=7200\r\n"
				   "Expires: 30\r\n", T0), 200);
	assert_true(has("Contact: <sip:a@192.0.2.1>;expires=3600\r\n"));
	assert_int_equal(send(&f, "c1@h", 4, "Contact: <sip:a@192.0.2.1>;expires=60\r\n", T0),
			 200);
	assert_true(has("Contact: <sip:a@192.0.2.1>;expires=60\r\n"));
	fix_fini(&f);
}

static uint32_t rng_value;

static uint32_t fake_rand(void *arg)
{
	(void)arg;
	return rng_value;
}

static void test_jitter(void **state)
{
	struct reg_cfg cfg = { .jitter_percent = 20, .rand = fake_rand };
	static const uint32_t vals[] = { 0, 1, 720, 721, 4000, 0x7fffffff, UINT32_MAX };
	struct loc_binding b[16];
	struct fix f;
	size_t n;

	(void)state;
	fix_init(&f, &cfg);
	for (unsigned i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		rng_value = vals[i];
		assert_int_equal(send(&f, "c1@h", i + 1, "Contact: <sip:a@192.0.2.1>\r\n", T0), 200);
		n = lookup(&f, AOR, b, T0);
		assert_int_equal(n, 1);
		assert_true(b[0].expires >= T0 + 2880 && b[0].expires <= T0 + 3600);
		if (vals[i] == 0 || vals[i] == 721)
			assert_int_equal(b[0].expires, T0 + 3600);
		if (vals[i] == 720)
			assert_int_equal(b[0].expires, T0 + 2880);
		loc_release(b, n);
	}
	/* never below min_expires */
	rng_value = 14; /* the whole 20% of 70 */
	assert_int_equal(send(&f, "c1@h", 100, "Contact: <sip:a@192.0.2.1>;expires=70\r\n", T0),
			 200);
	assert_true(has("Contact: <sip:a@192.0.2.1>;expires=60\r\n"));
	fix_fini(&f);
	cfg.jitter_percent = 51;
	assert_int_equal(reg_create(&f.reg, &cfg, (struct loc *)&cfg), -EINVAL);
}

static void test_q_order(void **state)
{
	struct fix f;
	const char *a, *b, *c, *d;

	(void)state;
	fix_init(&f, NULL);
	assert_int_equal(send(&f, "c1@h", 1,
			      "Contact: <sip:low@192.0.2.1>;q=0.5, <sip:top@192.0.2.2>\r\n"
			      "Contact: <sip:mid@192.0.2.3>;q=0.875, <sip:zero@192.0.2.4>;q=0\r\n",
			      T0), 200);
	a = strstr(reply_extra, "<sip:top@192.0.2.2>;expires=3600\r\n");
	b = strstr(reply_extra, "<sip:mid@192.0.2.3>;expires=3600;q=0.875\r\n");
	c = strstr(reply_extra, "<sip:low@192.0.2.1>;expires=3600;q=0.5\r\n");
	d = strstr(reply_extra, "<sip:zero@192.0.2.4>;expires=3600;q=0\r\n");
	assert_true(a && b && c && d);
	assert_true(a < b && b < c && c < d);
	fix_fini(&f);
}

static void test_cseq_order(void **state)
{
	struct fix f;
	struct loc_binding b[16];
	size_t n;

	(void)state;
	fix_init(&f, NULL);
	assert_int_equal(send(&f, "c1@h", 5, "Contact: <sip:a@192.0.2.1>\r\n", T0), 200);
	/* older and equal CSeq: the whole request is refused, nothing changes */
	assert_int_equal(send(&f, "c1@h", 4, "Contact: <sip:a@192.0.2.1>;expires=0\r\n"
				   "Contact: <sip:new@192.0.2.9>\r\n", T0), 500);
	assert_string_equal(reply_reason, "Out-of-Order CSeq");
	assert_int_equal(send(&f, "c1@h", 5, "Contact: <sip:a@192.0.2.1>\r\nExpires: 600\r\n", T0),
			 500);
	n = lookup(&f, AOR, b, T0);
	assert_int_equal(n, 1);
	assert_int_equal(b[0].cseq, 5);
	assert_int_equal(b[0].expires, T0 + 3600);
	loc_release(b, n);
	/* another Call-ID updates regardless of CSeq (§10.3 step 7) */
	assert_int_equal(send(&f, "c2@h", 1, "Contact: <sip:a@192.0.2.1>\r\nExpires: 600\r\n", T0),
			 200);
	assert_true(has("Contact: <sip:a@192.0.2.1>;expires=600\r\n"));
	assert_int_equal(count_contacts(), 1);
	fix_fini(&f);
}

static void test_max_contacts(void **state)
{
	struct reg_cfg cfg = { .max_contacts = 2 };
	struct fix f;

	(void)state;
	fix_init(&f, &cfg);
	assert_int_equal(send(&f, "c1@h", 1, "Contact: <sip:a@192.0.2.1>\r\n", T0), 200);
	assert_int_equal(send(&f, "c2@h", 1, "Contact: <sip:b@192.0.2.2>\r\n", T0 + 1), 200);
	assert_int_equal(send(&f, "c3@h", 1, "Contact: <sip:c@192.0.2.3>\r\n", T0 + 2), 403);
	assert_string_equal(reply_reason, "Too Many Contacts");
	/* a refresh and a swap within the limit are fine */
	assert_int_equal(send(&f, "c1@h", 2, "Contact: <sip:a@192.0.2.1>\r\n", T0 + 3), 200);
	assert_int_equal(send(&f, "c2@h", 2, "Contact: <sip:b@192.0.2.2>;expires=0, "
				   "<sip:c@192.0.2.3>\r\n", T0 + 4), 200);
	assert_int_equal(count_contacts(), 2);
	assert_true(has("<sip:c@192.0.2.3>"));
	fix_fini(&f);

	cfg.on_too_many = REG_EVICT_OLDEST;
	fix_init(&f, &cfg);
	assert_int_equal(send(&f, "c1@h", 1, "Contact: <sip:a@192.0.2.1>\r\n", T0), 200);
	assert_int_equal(send(&f, "c2@h", 1, "Contact: <sip:b@192.0.2.2>\r\n", T0 + 1), 200);
	assert_int_equal(send(&f, "c1@h", 2, "Contact: <sip:a@192.0.2.1>\r\n", T0 + 2), 200);
	/* b is now the least recently updated */
	assert_int_equal(send(&f, "c3@h", 1, "Contact: <sip:c@192.0.2.3>\r\n", T0 + 3), 200);
	assert_int_equal(count_contacts(), 2);
	assert_true(has("<sip:a@192.0.2.1>"));
	assert_true(has("<sip:c@192.0.2.3>"));
	assert_null(strstr(reply_extra, "<sip:b@"));
	/* more than the limit in one request cannot be helped */
	assert_int_equal(send(&f, "c4@h", 1, "Contact: <sip:d@192.0.2.4>, <sip:e@192.0.2.5>, "
				   "<sip:f@192.0.2.6>\r\n", T0 + 4), 403);
	fix_fini(&f);
}

static void test_path(void **state)
{
	struct fix f;
	struct loc_binding b[16];
	size_t n;

	(void)state;
	fix_init(&f, NULL);
	assert_int_equal(send(&f, "c1@h", 1, "Contact: <sip:a@192.0.2.1>\r\n"
				   "Path: <sip:edge1.example.com;lr>\r\n"
				   "Path: <sip:edge2.example.com;lr>\r\n"
				   "Supported: timer, path\r\n", T0), 200);
	assert_true(has("Path: <sip:edge1.example.com;lr>, <sip:edge2.example.com;lr>\r\n"));
	n = lookup(&f, AOR, b, T0);
	assert_int_equal(n, 1);
	assert_str(b[0].path, "<sip:edge1.example.com;lr>, <sip:edge2.example.com;lr>");
	loc_release(b, n);
	/* RFC 3327 §5.3: echoed only to a UA that supports path */
	assert_int_equal(send(&f, "c1@h", 2, "Contact: <sip:a@192.0.2.1>\r\n"
				   "Path: <sip:edge3.example.com;lr>\r\n", T0), 200);
	assert_null(strstr(reply_extra, "Path:"));
	n = lookup(&f, AOR, b, T0);
	assert_str(b[0].path, "<sip:edge3.example.com;lr>");
	loc_release(b, n);
	fix_fini(&f);
}

static void test_instance_reg_id(void **state)
{
	struct fix f;
	struct loc_binding b[16];
	size_t n;

	(void)state;
	fix_init(&f, NULL);
	assert_int_equal(send(&f, "c1@h", 1, "Contact: <sip:a@192.0.2.1>;reg-id=1;"
				   "+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\"\r\n",
			      T0), 200);
	assert_true(has(";+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\";"
			"reg-id=1\r\n"));
	/* the same flow from a new address replaces it (RFC 5626 §6) */
	assert_int_equal(send(&f, "c2@h", 1, "Contact: <sip:a@198.51.100.7>;reg-id=1;"
				   "+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\"\r\n",
			      T0 + 1), 200);
	assert_int_equal(count_contacts(), 1);
	n = lookup(&f, AOR, b, T0 + 1);
	assert_int_equal(n, 1);
	assert_str(b[0].contact, "sip:a@198.51.100.7");
	assert_int_equal(b[0].reg_id, 1);
	loc_release(b, n);
	/* another reg-id is another flow */
	assert_int_equal(send(&f, "c2@h", 2, "Contact: <sip:a@203.0.113.5>;reg-id=2;"
				   "+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\"\r\n",
			      T0 + 2), 200);
	assert_int_equal(count_contacts(), 2);
	fix_fini(&f);
}

static void test_fetch(void **state)
{
	struct fix f;

	(void)state;
	fix_init(&f, NULL);
	assert_int_equal(send(&f, "c1@h", 1, "", T0), 200);
	assert_int_equal(count_contacts(), 0);
	assert_true(has("Date: "));
	assert_int_equal(send(&f, "c1@h", 2, "Contact: <sip:a@192.0.2.1>\r\n", T0), 200);
	assert_int_equal(send(&f, "other@h", 1, "", T0 + 100), 200);
	assert_int_equal(count_contacts(), 1);
	assert_true(has("Contact: <sip:a@192.0.2.1>;expires=3500\r\n"));
	/* expired bindings are not listed */
	assert_int_equal(send(&f, "other@h", 2, "", T0 + 3600), 200);
	assert_int_equal(count_contacts(), 0);
	fix_fini(&f);
}

static void test_bad_requests(void **state)
{
	static const char tel[] = "REGISTER sip:example.com SIP/2.0\r\n"
				  "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n"
				  "From: <sip:a@example.com>;tag=1\r\nTo: <tel:+15551234>\r\n"
				  "Call-ID: x@h\r\nCSeq: 1 REGISTER\r\nMax-Forwards: 70\r\n"
				  "Contact: <sip:a@192.0.2.1>\r\nContent-Length: 0\r\n\r\n";
	struct fix f;
	struct loc_binding b[16];

	(void)state;
	fix_init(&f, NULL);
	/* RFC 4475 §3.3.4 unksm2: To is not a SIP AoR */
	assert_int_equal(send_corpus(&f, "rfc4475/unksm2.dat"), 400);
	assert_int_equal(send_raw(&f, tel, sizeof(tel) - 1, T0), 400);
	/* RFC 4475 §3.1.2.13 regbadct: '?' in an unbracketed Contact URI */
	assert_int_equal(send_corpus(&f, "rfc4475/regbadct.dat"), 400);
	assert_int_equal(send(&f, "c1@h", 1, "Contact: <sip:a@192.0.2.1:99999>\r\n", T0), 400);
	assert_string_equal(reply_reason, "Bad Contact");
	assert_int_equal(send(&f, "c1@h", 1, "Contact: <sip:a@192.0.2.1>, <sip:b@h;;=>\r\n", T0),
			 400);
	assert_int_equal(lookup(&f, AOR, b, T0), 0);
	assert_int_equal(lookup(&f, "sip:user@example.com", b, T0), 0);
	fix_fini(&f);
}

/* Bindings of aor must be exactly one, with this contact. */
static void expect_one(struct fix *f, const char *aor, const char *contact)
{
	struct loc_binding b[16];
	size_t n = lookup(f, aor, b, T0);

	assert_int_equal(n, 1);
	assert_str(b[0].contact, contact);
	loc_release(b, n);
}

static void test_rfc4475_register(void **state)
{
	struct fix f;

	(void)state;
	fix_init(&f, NULL);
	/* §3.3.12 cparam01: unknownparam is a contact-param, not in the URI */
	assert_int_equal(send_corpus(&f, "rfc4475/cparam01.dat"), 200);
	expect_one(&f, "sip:watson@example.com", "sip:+19725552222@gw1.example.net");
	assert_true(has("Contact: <sip:+19725552222@gw1.example.net>;expires=3600\r\n"));
	fix_fini(&f);

	fix_init(&f, NULL);
	/* §3.3.13 cparam02: inside <> it is a url-parameter and stays */
	assert_int_equal(send_corpus(&f, "rfc4475/cparam02.dat"), 200);
	expect_one(&f, "sip:watson@example.com", "sip:+19725552222@gw1.example.net;unknownparam");
	assert_true(has("Contact: <sip:+19725552222@gw1.example.net;unknownparam>;expires=3600\r\n"));
	/* §3.3.14 regescrt: the escaped header stays in the contact URI */
	assert_int_equal(send_corpus(&f, "rfc4475/regescrt.dat"), 200);
	expect_one(&f, "sip:user@example.com", "sip:user@example.com?Route=%3Csip:sip.example.com%3E");
	assert_true(has("Contact: <sip:user@example.com?Route=%3Csip:sip.example.com%3E>;"
			"expires=3600\r\n"));
	fix_fini(&f);
}

/* Allocation N fails: the registrar still answers exactly once (500 or 200)
 * and leaks nothing. */
static void test_alloc_failure(void **state)
{
	struct fix f;
	uint16_t code = 0;

	(void)state;
	for (long n = 0; code != 200 && n < 1000; n++) {
		fix_init(&f, NULL);
		mem_fail_after(n);
		code = send(&f, "c1@h", 1, "Contact: <sip:a@192.0.2.1>, <sip:b@192.0.2.2>\r\n", T0);
		mem_fail_after(-1);
		assert_true(code == 200 || code == 500);
		fix_fini(&f);
	}
	assert_int_equal(code, 200);
}

static void test_aor_canon(void **state)
{
	struct sip_uri u;
	char out[64];
	const char *s = "sips:Bob@EXAMPLE.Com:5071;transport=tcp?x=y";
	int n;

	(void)state;
	assert_int_equal(sip_uri_parse(&u, s, strlen(s), NULL), 0);
	n = reg_aor_canon(out, sizeof(out), &u);
	assert_int_equal(n, strlen("sips:Bob@example.com:5071"));
	assert_memory_equal(out, "sips:Bob@example.com:5071", (size_t)n);
	assert_int_equal(reg_aor_canon(out, 8, &u), -ENOSPC);
	s = "sip:example.com";
	assert_int_equal(sip_uri_parse(&u, s, strlen(s), NULL), 0);
	n = reg_aor_canon(out, sizeof(out), &u);
	assert_memory_equal(out, "sip:example.com", (size_t)n);
	s = "tel:+1555";
	assert_int_equal(sip_uri_parse(&u, s, strlen(s), NULL), 0);
	assert_int_equal(reg_aor_canon(out, sizeof(out), &u), -EINVAL);
}

/* reg_aor_canon(u) is want. */
static void canon_is(const struct sip_uri *u, const char *want)
{
	char out[128];
	int n = reg_aor_canon(out, sizeof(out), u);

	assert_true(n >= 0);
	if ((size_t)n != strlen(want) || memcmp(out, want, (size_t)n) != 0)
		fail_msg("canon %.*s: got \"%.*s\", want \"%s\"", (int)u->raw.len, u->raw.s, n, out,
			 want);
}

static void canon_of(const char *s, const char *want)
{
	struct sip_uri u;

	if (sip_uri_parse(&u, s, strlen(s), NULL) != 0)
		fail_msg("does not parse: %s", s);
	canon_is(&u, want);
}

/* §19.1.4: an escaped unreserved character (alphanum / mark, §25.1) in the
 * user part is that character; any other escape stays, with upper-case hex;
 * nothing is decoded twice and the user stays case-sensitive. */
static void test_aor_canon_escapes(void **state)
{
	static const char *const cases[][2] = {
		{ "sip:%61lice@example.com", "sip:alice@example.com" },
		{ "sip:%61l%69%63%65@EXAMPLE.com", "sip:alice@example.com" },
		{ "sip:%41lice@example.com", "sip:Alice@example.com" },
		{ "sip:%2a@example.com", "sip:*@example.com" },
		{ "sip:%2D%5f%2e%21%7E%27%28%29@example.com", "sip:-_.!~'()@example.com" },
		{ "sip:al%3bice@example.com", "sip:al%3Bice@example.com" },
		{ "sip:al%3Bice@example.com", "sip:al%3Bice@example.com" },
		{ "sip:a%20b@example.com", "sip:a%20b@example.com" },
		{ "sip:a%3a%2fb%40@example.com", "sip:a%3A%2Fb%40@example.com" },
		{ "sip:%25@example.com", "sip:%25@example.com" },
		{ "sip:%2561@example.com", "sip:%2561@example.com" },
		{ "sip:%c3%a9@example.com", "sip:%C3%A9@example.com" },
		{ "sip:%00x@example.com", "sip:%00x@example.com" },
		{ "sips:%62ob@EXAMPLE.com:5061;transport=tcp", "sips:bob@example.com:5061" },
	};
	/* what the URI parser would refuse, built by hand: a '%' without two
	 * hex digits after it is kept as it is */
	static const char *const raw[][2] = {
		{ "al%", "sip:al%@example.com" },
		{ "al%6", "sip:al%6@example.com" },
		{ "%6", "sip:%6@example.com" },
		{ "a%zz", "sip:a%zz@example.com" },
		{ "a%6g%61", "sip:a%6ga@example.com" },
		{ "%", "sip:%@example.com" },
	};
	struct sip_uri u;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		canon_of(cases[i][0], cases[i][1]);
	for (size_t i = 0; i < sizeof(raw) / sizeof(raw[0]); i++) {
		u = (struct sip_uri){ .scheme = SIP_URI_SIP, .user = str_cstr(raw[i][0]),
				      .host = STR_LIT("example.com"), .raw = str_cstr(raw[i][0]) };
		canon_is(&u, raw[i][1]);
	}
}

/* The registrar keys bindings by that form: a REGISTER To sip:%61lice@ is
 * alice's, and a fetch To sip:alic%65@ lists it. */
static void test_register_escaped_to(void **state)
{
	static const char fmt[] = "REGISTER sip:example.com SIP/2.0\r\n"
				  "Via: SIP/2.0/UDP 192.0.2.99:5062;branch=z9hG4bKesc%d\r\n"
				  "Max-Forwards: 70\r\n"
				  "From: <sip:alice@example.com>;tag=1\r\n"
				  "To: <%s>\r\n"
				  "Call-ID: esc@h\r\n"
				  "CSeq: %d REGISTER\r\n"
				  "%s"
				  "Content-Length: 0\r\n\r\n";
	struct fix f;
	char buf[512];
	int n;

	(void)state;
	fix_init(&f, NULL);
	n = snprintf(buf, sizeof(buf), fmt, 1, "sip:%61lice@example.com", 1,
		     "Contact: <sip:a@192.0.2.1>\r\n");
	assert_int_equal(send_raw(&f, buf, (size_t)n, T0), 200);
	expect_one(&f, AOR, "sip:a@192.0.2.1");
	n = snprintf(buf, sizeof(buf), fmt, 2, "sip:alic%65@EXAMPLE.com", 2, "");
	assert_int_equal(send_raw(&f, buf, (size_t)n, T0), 200);
	assert_true(has("Contact: <sip:a@192.0.2.1>;expires=3600\r\n"));
	/* an escaped reserved character is another AoR */
	n = snprintf(buf, sizeof(buf), fmt, 3, "sip:al%3bice@example.com", 3,
		     "Contact: <sip:b@192.0.2.2>\r\n");
	assert_int_equal(send_raw(&f, buf, (size_t)n, T0), 200);
	expect_one(&f, "sip:al%3Bice@example.com", "sip:b@192.0.2.2");
	expect_one(&f, AOR, "sip:a@192.0.2.1");
	fix_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		SIPHON_TEST(test_register_refresh),
		SIPHON_TEST(test_refresh_equal_uri),
		SIPHON_TEST(test_unregister_one_and_wildcard),
		SIPHON_TEST(test_wildcard_rules),
		SIPHON_TEST(test_interval_rules),
		SIPHON_TEST(test_jitter),
		SIPHON_TEST(test_q_order),
		SIPHON_TEST(test_cseq_order),
		SIPHON_TEST(test_max_contacts),
		SIPHON_TEST(test_path),
		SIPHON_TEST(test_instance_reg_id),
		SIPHON_TEST(test_fetch),
		SIPHON_TEST(test_bad_requests),
		SIPHON_TEST(test_rfc4475_register),
		SIPHON_TEST(test_alloc_failure),
		SIPHON_TEST(test_aor_canon),
		SIPHON_TEST(test_aor_canon_escapes),
		SIPHON_TEST(test_register_escaped_to),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
