/* SIP/SIPS URI (RFC 3261 §19.1.1, §25.1), tel URI (RFC 3966) and opaque
 * absoluteURI parsing. Zero-copy: every field is a slice of the input. */
#include "msg/uri.h"
#include "msg/uri_priv.h"
#include "msg/scan.h"

#include <errno.h>
#include <string.h>

bool sip_uri_reserved(unsigned char c)
{
	/* reserved = ";" / "/" / "?" / ":" / "@" / "&" / "=" / "+" / "$" / "," */
	return c && strchr(";/?:@&=+$,", c) != NULL;
}

bool sip_uri_next_pair(struct str *cur, char sep, struct str *name, struct str *value,
		       bool *has_eq)
{
	struct str item;
	ptrdiff_t k;

	if (!cur->s)
		return false;
	k = str_chr(*cur, sep);
	if (k < 0) {
		item = *cur;
		*cur = STR_NULL;
	} else {
		item = str_make(cur->s, (size_t)k);
		sc_advance(cur, (size_t)k + 1);
	}
	k = str_chr(item, '=');
	*has_eq = k >= 0;
	if (k < 0) {
		*name = item;
		*value = str_make(item.s + item.len, 0);
	} else {
		*name = str_make(item.s, (size_t)k);
		*value = str_make(item.s + k + 1, item.len - (size_t)k - 1);
	}
	return true;
}

/* Every octet is of class cls or a valid "%" HEX HEX escape (the escapes
 * themselves were checked by prescan()). */
static bool chars_ok(struct str a, uint16_t cls)
{
	for (size_t i = 0; i < a.len; i++) {
		unsigned char c = (unsigned char)a.s[i];

		/* the class test first: no cls used here holds '%' */
		if (sc_is(c, cls))
			continue;
		if (c != '%')
			return false;
		i += 2;
	}
	return true;
}

/* Faults that no URI scheme allows: LWS (RFC 4475 §3.1.2.8), controls,
 * raw non-ASCII, '<' '>' (§3.1.2.7), and malformed escapes. */
static int prescan(const char *s, size_t len, const char **why)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c;

		/* skip the common octets at once, the rules below for the rest */
		i = (size_t)(sc_find(s + i, s + len, SC_URISTOP) - s);
		if (i == len)
			break;
		c = (unsigned char)s[i];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			return sc_fail(why, "whitespace in URI", -EINVAL);
		if (c < 0x20 || c == 0x7f)
			return sc_fail(why, "control character in URI", -EINVAL);
		if (c >= 0x80)
			return sc_fail(why, "non-ASCII octet in URI", -EINVAL);
		if (c == '<' || c == '>')
			return sc_fail(why, "'<' or '>' in URI", -EINVAL);
		if (c == '%') {
			if (i + 2 >= len || !sc_hex((unsigned char)s[i + 1]) ||
			    !sc_hex((unsigned char)s[i + 2]))
				return sc_fail(why, "bad escape", -EINVAL);
			i += 2;
		}
	}
	return 0;
}

/* Well-known uri-parameter: remember it once (RFC 3261 §19.1.1). */
static int set_once(struct str *slot, bool *seen, struct str value, const char **why,
		    const char *dup)
{
	if (*seen)
		return sc_fail(why, dup, -EINVAL);
	*seen = true;
	*slot = value;
	return 0;
}

static bool ttl_ok(struct str v)
{
	uint32_t n;

	return v.len <= 3 && str_to_u32(v, 255, &n) == 0;
}

static bool maddr_ok(struct str v)
{
	struct str cur = v, host;
	enum sip_host_type t;
	uint16_t port;
	bool has_port;

	return sip_hostport_parse(&cur, &host, &t, &port, &has_port, NULL) == 0 && !has_port &&
	       cur.len == 0;
}


/* uri-parameters = *( ";" uri-parameter ), pname ["=" pvalue], both
 * 1*paramchar (RFC 3261 §25.1). */
static int parse_params(struct sip_uri *u, const char **why)
{
	struct str cur = u->params, name, value;
	bool has_eq, seen_tr = false, seen_us = false, seen_me = false, seen_ma = false,
		     seen_ttl = false;
	int err = 0;

	while (sip_uri_next_pair(&cur, ';', &name, &value, &has_eq)) {
		if (name.len == 0)
			return sc_fail(why, "empty uri-parameter", -EINVAL);
		if (has_eq && value.len == 0)
			return sc_fail(why, "empty uri-parameter value", -EINVAL);
		if (!chars_ok(name, SC_UNRESERVED | SC_PARAM) ||
		    !chars_ok(value, SC_UNRESERVED | SC_PARAM))
			return sc_fail(why, "bad character in uri-parameter", -EINVAL);
		if (str_caseeq_lit(name, "transport")) {
			if (!sc_is_token(value))
				return sc_fail(why, "bad transport parameter", -EINVAL);
			err = set_once(&u->transport, &seen_tr, value, why, "duplicate transport parameter");
		} else if (str_caseeq_lit(name, "user")) {
			if (!sc_is_token(value))
				return sc_fail(why, "bad user parameter", -EINVAL);
			err = set_once(&u->user_param, &seen_us, value, why, "duplicate user parameter");
		} else if (str_caseeq_lit(name, "method")) {
			if (!sc_is_token(value))
				return sc_fail(why, "bad method parameter", -EINVAL);
			err = set_once(&u->method, &seen_me, value, why, "duplicate method parameter");
		} else if (str_caseeq_lit(name, "maddr")) {
			if (!maddr_ok(value))
				return sc_fail(why, "bad maddr parameter", -EINVAL);
			err = set_once(&u->maddr, &seen_ma, value, why, "duplicate maddr parameter");
		} else if (str_caseeq_lit(name, "ttl")) {
			if (!ttl_ok(value))
				return sc_fail(why, "bad ttl parameter", -EINVAL);
			err = set_once(&u->ttl, &seen_ttl, value, why, "duplicate ttl parameter");
		} else if (str_caseeq_lit(name, "lr")) {
			/* lr-param = "lr"; "lr=on" from pre-RFC 3261 stacks is tolerated */
			if (u->lr)
				return sc_fail(why, "duplicate lr parameter", -EINVAL);
			u->lr = true;
		}
		if (err)
			return err;
	}
	return 0;
}

/* headers = "?" header *( "&" header ), hname "=" hvalue; hname is
 * 1*hchar, hvalue *hchar (RFC 3261 §25.1). */
static int parse_headers(struct str hdrs, const char **why)
{
	struct str name, value;
	bool has_eq;

	while (sip_uri_next_pair(&hdrs, '&', &name, &value, &has_eq)) {
		if (name.len == 0)
			return sc_fail(why, "empty URI header name", -EINVAL);
		if (!has_eq)
			return sc_fail(why, "URI header without '='", -EINVAL);
		if (!chars_ok(name, SC_UNRESERVED | SC_HNV) || !chars_ok(value, SC_UNRESERVED | SC_HNV))
			return sc_fail(why, "bad character in URI header", -EINVAL);
	}
	return 0;
}

/* sip:/sips: after the scheme (RFC 3261 §25.1 SIP-URI). */
static int parse_sip(struct sip_uri *u, struct str rest, const char **why)
{
	ptrdiff_t at = str_chr(rest, '@');
	int err;

	/* '@' is legal unescaped only as the end of userinfo (user, password,
	 * host, params and headers all exclude it), so the first '@' ends it,
	 * whatever ';' or '?' the user part holds (RFC 4475 §3.1.1.9). */
	if (at >= 0) {
		struct str ui = str_make(rest.s, (size_t)at);
		ptrdiff_t colon = str_chr(ui, ':');

		if (colon >= 0) {
			u->user = str_make(ui.s, (size_t)colon);
			u->password = str_make(ui.s + colon + 1, ui.len - (size_t)colon - 1);
			u->has_password = true;
			if (!chars_ok(u->password, SC_UNRESERVED | SC_PASSWORD))
				return sc_fail(why, "bad character in password", -EINVAL);
		} else {
			u->user = ui;
		}
		if (u->user.len == 0)
			return sc_fail(why, "empty user", -EINVAL);
		if (!chars_ok(u->user, SC_UNRESERVED | SC_USER))
			return sc_fail(why, "bad character in user", -EINVAL);
		sc_advance(&rest, (size_t)at + 1);
	}
	err = sip_hostport_parse(&rest, &u->host, &u->host_type, &u->port, &u->has_port, why);
	if (err)
		return err;
	if (rest.len && rest.s[0] == ';') {
		ptrdiff_t q = str_chr(rest, '?');
		size_t n = q < 0 ? rest.len : (size_t)q;

		u->params = str_make(rest.s + 1, n - 1);
		sc_advance(&rest, n);
		err = parse_params(u, why);
		if (err)
			return err;
	}
	if (rest.len && rest.s[0] == '?') {
		u->headers = str_make(rest.s + 1, rest.len - 1);
		sc_advance(&rest, rest.len);
		return parse_headers(u->headers, why);
	}
	if (rest.len)
		return sc_fail(why, "bad character after host", -EINVAL);
	return 0;
}

/* tel: (RFC 3966 §3): telephone-subscriber = global-number / local-number,
 * each followed by ;params; a local number needs phone-context (§5.1.5). */
static int parse_tel(struct sip_uri *u, struct str rest, const char **why)
{
	ptrdiff_t semi = str_chr(rest, ';');
	struct str num = str_make(rest.s, semi < 0 ? rest.len : (size_t)semi);
	struct str cur, name, value;
	bool global, digit = false, has_eq, context = false;

	u->opaque = rest;
	u->user = num;
	global = num.len && num.s[0] == '+';
	for (size_t i = global; i < num.len; i++) {
		unsigned char c = (unsigned char)num.s[i];

		/* phonedigit(-hex) = DIGIT / HEXDIG / "*" / "#" / visual-separator */
		if (sc_digit(c) || (!global && (sc_hex(c) || c == '*' || c == '#')))
			digit = true;
		else if (c != '-' && c != '.' && c != '(' && c != ')')
			return sc_fail(why, "bad tel number", -EINVAL);
	}
	if (!digit)
		return sc_fail(why, "bad tel number", -EINVAL);
	if (semi >= 0) {
		u->params = str_make(rest.s + semi + 1, rest.len - (size_t)semi - 1);
		cur = u->params;
		while (sip_uri_next_pair(&cur, ';', &name, &value, &has_eq)) {
			/* pname = 1*( alphanum / "-" ), pvalue = 1*paramchar */
			if (name.len == 0 || (has_eq && value.len == 0))
				return sc_fail(why, "empty tel parameter", -EINVAL);
			for (size_t i = 0; i < name.len; i++)
				if (!sc_is((unsigned char)name.s[i], SC_ALNUM) && name.s[i] != '-')
					return sc_fail(why, "bad tel parameter", -EINVAL);
			if (!chars_ok(value, SC_UNRESERVED | SC_PARAM))
				return sc_fail(why, "bad tel parameter", -EINVAL);
			if (str_caseeq_lit(name, "phone-context"))
				context = true;
		}
	}
	if (!global && !context)
		return sc_fail(why, "local tel number without phone-context", -EINVAL);
	return 0;
}

/* absoluteURI kept opaque: hier-part / opaque-part are 1*( uric ), uric =
 * reserved / unreserved / escaped (RFC 3261 §25.1); '[' ']' let IPv6 in. */
static int parse_other(struct sip_uri *u, struct str rest, const char **why)
{
	if (rest.len == 0)
		return sc_fail(why, "empty URI after scheme", -EINVAL);
	for (size_t i = 0; i < rest.len; i++) {
		unsigned char c = (unsigned char)rest.s[i];
		if (c == '%') {
			i += 2;
			continue;
		}
		if (!sc_is(c, SC_UNRESERVED) && !sip_uri_reserved(c) && c != '[' && c != ']')
			return sc_fail(why, "bad character in URI", -EINVAL);
	}
	u->opaque = rest;
	return 0;
}

int sip_uri_parse(struct sip_uri *u, const char *s, size_t len, const char **why)
{
	struct str rest;
	const char *colon;
	size_t i;
	int err;

	memset(u, 0, sizeof(*u));
	u->raw = str_make(s, len);
	if (len == 0)
		return sc_fail(why, "empty URI", -EINVAL);
	err = prescan(s, len, why);
	if (err)
		return err;
	colon = memchr(s, ':', len);
	if (!colon)
		return sc_fail(why, "missing scheme", -EINVAL);
	/* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
	if (!sc_alpha((unsigned char)s[0]))
		return sc_fail(why, "bad scheme", -EINVAL);
	for (i = 1; s + i < colon; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!sc_is(c, SC_ALNUM) && c != '+' && c != '-' && c != '.')
			return sc_fail(why, "bad scheme", -EINVAL);
	}
	u->scheme_str = str_make(s, i);
	rest = str_make(s + i + 1, len - i - 1);
	if (str_caseeq_lit(u->scheme_str, "sip"))
		u->scheme = SIP_URI_SIP;
	else if (str_caseeq_lit(u->scheme_str, "sips"))
		u->scheme = SIP_URI_SIPS;
	else if (str_caseeq_lit(u->scheme_str, "tel"))
		u->scheme = SIP_URI_TEL;
	else
		u->scheme = SIP_URI_OTHER;

	switch (u->scheme) {
	case SIP_URI_SIP:
	case SIP_URI_SIPS:
		return parse_sip(u, rest, why);
	case SIP_URI_TEL:
		return parse_tel(u, rest, why);
	default:
		return parse_other(u, rest, why);
	}
}

int sip_uri_unescape(char *dst, size_t cap, struct str src)
{
	size_t n = 0;

	if (src.len > INT32_MAX)
		return -ENOSPC;
	for (size_t i = 0; i < src.len; i++) {
		unsigned char c = (unsigned char)src.s[i];

		if (c == '%') {
			if (i + 2 >= src.len || !sc_hex((unsigned char)src.s[i + 1]) ||
			    !sc_hex((unsigned char)src.s[i + 2]))
				return -EINVAL;
			c = (unsigned char)(sip_uri_hexval(src.s[i + 1]) << 4 |
					    sip_uri_hexval(src.s[i + 2]));
			i += 2;
		}
		if (n == cap)
			return -ENOSPC;
		dst[n++] = (char)c;
	}
	return (int)n;
}

int sip_uri_param(const struct sip_uri *u, struct str name, struct str *value)
{
	struct str cur = u->params, n, v;
	bool has_eq;

	while (sip_uri_next_pair(&cur, ';', &n, &v, &has_eq)) {
		if (str_caseeq(n, name)) {
			*value = v;
			return 1;
		}
	}
	return 0;
}
