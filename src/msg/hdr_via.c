/* Via (RFC 3261 §20.42, §25.1):
 *   via-parm = sent-protocol LWS sent-by *( SEMI via-params )
 *   sent-protocol = protocol-name SLASH protocol-version SLASH transport
 * SLASH is SWS "/" SWS, so "SIP  /   2.0 / UDP" is fine (RFC 4475 wsinv). */
#include "msg/hdr.h"
#include "msg/scan.h"
#include "msg/uri.h"

#include <errno.h>

/* One sent-protocol field; every field but the last is followed by a SLASH. */
static int take_proto_field(struct str *c, struct str *out, bool slash, const char **why)
{
	*out = sc_take_token(c);
	if (out->len == 0)
		return sc_fail(why, "bad Via sent-protocol", -EINVAL);
	if (!slash)
		return 0;
	sc_skip_lws(c);
	if (c->len == 0 || c->s[0] != '/')
		return sc_fail(why, "bad Via sent-protocol", -EINVAL);
	sc_advance(c, 1);
	sc_skip_lws(c);
	return 0;
}

/* A bare host (no port) of the given kinds, via sip_hostport_parse(). */
static bool host_only(struct str v, bool name_ok)
{
	struct str c = v, host;
	enum sip_host_type t;
	uint16_t port;
	bool has_port;

	if (sip_hostport_parse(&c, &host, &t, &port, &has_port, NULL) < 0)
		return false;
	if (c.len || has_port)
		return false;
	return name_ok || t == SIP_HOST_IPV4 || t == SIP_HOST_IPV6;
}

/* via-received = "received" EQUAL (IPv4address / IPv6address). RFC 3261 says
 * IPv6address (no brackets); RFC 5118 §4.5 asks us to accept the bracketed
 * form as well. The bare form is checked by bracketing a copy. */
static bool received_valid(struct str v)
{
	char buf[64];

	if (v.len && v.s[0] != '[' && str_chr(v, ':') >= 0) {
		if (v.len + 2 > sizeof(buf))
			return false;
		buf[0] = '[';
		memcpy(buf + 1, v.s, v.len);
		buf[v.len + 1] = ']';
		return host_only(str_make(buf, v.len + 2), false);
	}
	return host_only(v, false);
}

static int via_param(struct sip_via *v, struct str name, struct str value, const char **why)
{
	uint32_t n;

	if (str_caseeq_lit(name, "branch")) {
		/* via-branch = "branch" EQUAL token */
		if (v->branch.s)
			return sc_fail(why, "duplicate Via branch", -EINVAL);
		if (value.len == 0 || value.s[0] == '"' || str_chr(value, ':') >= 0 ||
		    str_chr(value, '[') >= 0 || str_chr(value, ']') >= 0)
			return sc_fail(why, "bad Via branch", -EINVAL);
		v->branch = value;
	} else if (str_caseeq_lit(name, "received")) {
		if (v->received.s)
			return sc_fail(why, "duplicate Via received", -EINVAL);
		if (!received_valid(value))
			return sc_fail(why, "bad Via received", -EINVAL);
		v->received = value;
	} else if (str_caseeq_lit(name, "rport")) {
		/* response-port = "rport" [EQUAL 1*DIGIT] (RFC 3581 §3) */
		if (v->has_rport)
			return sc_fail(why, "duplicate Via rport", -EINVAL);
		if (value.len && sip_uint_parse(value, 65535, &n, NULL) < 0)
			return sc_fail(why, "bad Via rport", -EINVAL);
		v->rport = value;
		v->has_rport = true;
	} else if (str_caseeq_lit(name, "maddr")) {
		if (v->maddr.s)
			return sc_fail(why, "duplicate Via maddr", -EINVAL);
		if (!host_only(value, true))
			return sc_fail(why, "bad Via maddr", -EINVAL);
		v->maddr = value;
	} else if (str_caseeq_lit(name, "ttl")) {
		/* ttl = 1*3DIGIT ; 0 to 255 */
		if (v->ttl.s)
			return sc_fail(why, "duplicate Via ttl", -EINVAL);
		if (value.len > 3 || sip_uint_parse(value, 255, &n, NULL) < 0)
			return sc_fail(why, "bad Via ttl", -EINVAL);
		v->ttl = value;
	}
	return 0;
}

int sip_via_parse(struct sip_via *v, struct str *cur, const char **why)
{
	struct str c = *cur, name, value;
	enum sip_host_type ht = SIP_HOST_NONE;
	const char *start, *end, *pfirst = NULL;
	int rc;

	*v = (struct sip_via){ 0 };
	if (c.len == 0)
		return sc_fail(why, "empty Via", -EINVAL);
	sc_skip_lws(&c);
	start = c.s;
	if (c.len == 0)
		return sc_fail(why, "empty Via", -EINVAL);
	if (c.s[0] == ',')
		return sc_fail(why, "empty via-parm", -EINVAL);

	rc = take_proto_field(&c, &v->proto_name, true, why);
	if (rc == 0)
		rc = take_proto_field(&c, &v->proto_version, true, why);
	if (rc == 0)
		rc = take_proto_field(&c, &v->transport, false, why);
	if (rc < 0)
		return rc;
	{
		size_t before = c.len;

		sc_skip_lws(&c);
		if (c.len == before)
			return sc_fail(why, c.len ? "bad Via transport" : "Via sent-by missing", -EINVAL);
	}
	/* sent-by = host [ COLON port ] */
	rc = sip_hostport_parse(&c, &v->host, &ht, &v->port, &v->has_port, why);
	v->host_type = (uint8_t)ht;
	if (rc < 0)
		return rc;
	end = c.s;

	{
		struct str look = c;

		sc_skip_lws(&look);
		if (look.len && look.s[0] != ';' && look.s[0] != ',')
			return sc_fail(why, "junk after Via sent-by", -EINVAL);
	}
	while ((rc = sip_param_next(&c, &name, &value, why)) == 0) {
		if (!pfirst)
			pfirst = name.s;
		end = value.len ? value.s + value.len : name.s + name.len;
		rc = via_param(v, name, value, why);
		if (rc < 0)
			return rc;
	}
	if (rc < 0)
		return rc;
	if (pfirst)
		v->params = str_make(pfirst, (size_t)(end - pfirst));
	v->raw = str_make(start, (size_t)(end - start));

	/* sip_param_next() stopped at ',' or the end */
	if (c.len) {
		sc_advance(&c, 1);
		sc_skip_lws(&c);
		if (c.len == 0 || c.s[0] == ',')
			return sc_fail(why, "empty via-parm", -EINVAL);
	}
	*cur = c;
	return 0;
}
