/* name-addr / addr-spec followed by header params: From, To, Contact, Route,
 * Record-Route, Path, Reply-To (RFC 3261 §20.10, §20.20, §20.39, §25.1).
 * The URI is only delimited here; callers run sip_uri_parse() on na->uri. */
#include "msg/hdr.h"
#include "msg/scan.h"

#include <errno.h>
#include <string.h>

/* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) (RFC 3261 §25.1) */
static bool is_scheme(struct str t)
{
	if (t.len == 0 || !sc_alpha((unsigned char)t.s[0]))
		return false;
	for (size_t i = 1; i < t.len; i++) {
		unsigned char c = (unsigned char)t.s[i];

		if (!sc_is(c, SC_ALNUM) && c != '+' && c != '-' && c != '.')
			return false;
	}
	return true;
}

static bool is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ) (§20.10) */
static bool qvalue_valid(struct str v)
{
	if (v.len == 0 || (v.s[0] != '0' && v.s[0] != '1'))
		return false;
	if (v.len == 1)
		return true;
	if (v.s[1] != '.' || v.len > 5)
		return false;
	for (size_t i = 2; i < v.len; i++) {
		if (!sc_digit((unsigned char)v.s[i]))
			return false;
		if (v.s[0] == '1' && v.s[i] != '0')
			return false;
	}
	return true;
}

static bool all_digits(struct str v)
{
	if (v.len == 0)
		return false;
	for (size_t i = 0; i < v.len; i++)
		if (!sc_digit((unsigned char)v.s[i]))
			return false;
	return true;
}


/* Display name without quotes: token *(LWS token) right before '<'. Returns
 * 1 with *display set if that is what *c holds, 0 if *c starts an addr-spec
 * ("scheme:"), -EINVAL otherwise (RFC 4475 baddn "Bell, Alexander"). */
static int take_token_display(struct str *c, struct str *display, const char **why)
{
	struct str look = *c, tok;
	const char *start = c->s, *end = c->s;
	unsigned ntok = 0;

	for (;;) {
		tok = sc_take_token(&look);
		if (tok.len == 0)
			break;
		if (ntok == 0 && look.len && look.s[0] == ':')
			return is_scheme(tok) ? 0 : sc_fail(why, "bad URI scheme", -EINVAL);
		ntok++;
		end = tok.s + tok.len;
		sc_skip_lws(&look);
	}
	if (ntok == 0)
		return sc_fail(why, look.len && look.s[0] == '"' ? "bad display name" :
				 "expected name-addr or addr-spec", -EINVAL);
	if (look.len == 0)
		return sc_fail(why, "display name without <URI>", -EINVAL);
	if (look.s[0] != '<')
		return sc_fail(why, "non-token character in display name", -EINVAL);
	*display = str_make(start, (size_t)(end - start));
	*c = look;
	return 1;
}

/* addr-spec inside "<" ">": no LWS (RFC 4475 badaspec), no nested '<'. */
static int take_bracketed(struct str *c, struct str *uri, const char **why)
{
	/* find the '>' first (memchr is fast), then one table test per octet */
	const char *gt = memchr(c->s + 1, '>', c->len - 1);
	const char *stop = gt ? gt : c->s + c->len, *bad = sc_find(c->s + 1, stop, SC_NABAD);
	size_t i;

	if (bad != stop) {
		unsigned char ch = (unsigned char)*bad;

		if (sc_wsp(ch) || is_ctl(ch))
			return sc_fail(why, "whitespace inside <>", -EINVAL);
		return sc_fail(why, "bad character inside <>", -EINVAL); /* '<' or '"' */
	}
	if (!gt)
		return sc_fail(why, "'<' without '>'", -EINVAL);
	i = (size_t)(gt - c->s);
	if (i == 1)
		return sc_fail(why, "empty URI", -EINVAL);
	*uri = str_make(c->s + 1, i - 1);
	sc_advance(c, i + 1);
	return 0;
}

/* addr-spec without "<>": its ';' starts header params (§20.10), and in a
 * list its ',' ends the element. */
static int take_bare(struct str *c, struct str *uri, unsigned flags, const char **why)
{
	size_t i = 0;

	while (i < c->len) {
		unsigned char ch = (unsigned char)c->s[i];

		if (ch == ';' || sc_wsp(ch) || ch == '\r')
			break;
		if (ch == ',' && (flags & SIP_NA_LIST))
			break;
		if (ch == '<' || ch == '>' || ch == '"' || is_ctl(ch))
			return sc_fail(why, "bad character in addr-spec", -EINVAL);
		i++;
	}
	*uri = str_make(c->s, i);
	sc_advance(c, i);
	return 0;
}

/* Header params after the URI: contact-params, from/to-param, rr-param
 * (§25.1). The well-known ones are checked and may appear once. */
static int take_params(struct sip_nameaddr *na, struct str *c, const char **why)
{
	struct str name, value;
	const char *first = NULL, *end = NULL;
	int rc;

	while ((rc = sip_param_next(c, &name, &value, why)) == 0) {
		if (!first)
			first = name.s;
		end = value.len ? value.s + value.len : name.s + name.len;
		if (str_caseeq_lit(name, "tag")) {
			if (na->has_tag)
				return sc_fail(why, "duplicate tag", -EINVAL);
			if (!sc_is_token(value))
				return sc_fail(why, "bad tag", -EINVAL);
			na->tag = value;
			na->has_tag = true;
		} else if (str_caseeq_lit(name, "expires")) {
			if (na->has_expires)
				return sc_fail(why, "duplicate expires", -EINVAL);
			/* range is the caller's call (RFC 4475 scalar02) */
			if (!all_digits(value))
				return sc_fail(why, "bad expires", -EINVAL);
			na->expires = value;
			na->has_expires = true;
		} else if (str_caseeq_lit(name, "q")) {
			if (na->has_q)
				return sc_fail(why, "duplicate q", -EINVAL);
			if (!qvalue_valid(value))
				return sc_fail(why, "bad q value", -EINVAL);
			na->q = value;
			na->has_q = true;
		}
	}
	if (rc < 0)
		return rc;
	if (first)
		na->params = str_make(first, (size_t)(end - first));
	return 0;
}

int sip_nameaddr_parse(struct sip_nameaddr *na, struct str *cur, unsigned flags, const char **why)
{
	struct str c = *cur;
	const char *start;
	int rc;

	*na = (struct sip_nameaddr){ 0 };
	if (c.len == 0)
		return sc_fail(why, "empty value", -EINVAL);
	sc_skip_lws(&c);
	start = c.s;
	if (c.len == 0)
		return sc_fail(why, "empty value", -EINVAL);
	if (c.s[0] == ',' && (flags & SIP_NA_LIST))
		return sc_fail(why, "empty list element", -EINVAL);

	if (c.s[0] == '*') {
		/* Contact: * stands alone, no params (RFC 3261 §10.2.2, §20.10) */
		if (!(flags & SIP_NA_ALLOW_STAR))
			return sc_fail(why, "'*' not allowed here", -EINVAL);
		sc_advance(&c, 1);
		sc_skip_lws(&c);
		if (c.len)
			return sc_fail(why, "'*' must stand alone", -EINVAL);
		na->star = true;
		na->raw = str_make(start, 1);
		*cur = c;
		return 0;
	}

	if (c.s[0] == '"') {
		if (sc_take_quoted(&c, &na->display) < 0)
			return sc_fail(why, "unterminated or bad quoted display name", -EINVAL);
		sc_skip_lws(&c);
		if (c.len == 0 || c.s[0] != '<')
			return sc_fail(why, "expected '<' after display name", -EINVAL);
	} else if (c.s[0] != '<') {
		rc = take_token_display(&c, &na->display, why);
		if (rc < 0)
			return rc;
	}

	if (c.len && c.s[0] == '<') {
		rc = take_bracketed(&c, &na->uri, why);
		na->bracketed = true;
	} else {
		rc = take_bare(&c, &na->uri, flags, why);
	}
	if (rc < 0)
		return rc;
	na->raw = str_make(start, (size_t)(c.s - start));

	{
		struct str look = c;

		sc_skip_lws(&look);
		if (look.len && look.s[0] == ';') {
			rc = take_params(na, &look, why);
			if (rc < 0)
				return rc;
			c = look;
			na->raw = str_make(start, (size_t)(na->params.s + na->params.len - start));
		}
	}

	sc_skip_lws(&c);
	if (c.len && c.s[0] == ',' && (flags & SIP_NA_LIST)) {
		sc_advance(&c, 1);
		sc_skip_lws(&c);
		if (c.len == 0)
			return sc_fail(why, "empty list element", -EINVAL);
	} else if (c.len) {
		return sc_fail(why, c.s[0] == ',' ? "unexpected ','" : "junk after address", -EINVAL);
	}
	*cur = c;
	return 0;
}
