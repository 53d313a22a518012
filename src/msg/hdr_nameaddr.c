/* name-addr / addr-spec followed by header params: From, To, Contact, Route,
 * Record-Route, Path, Reply-To (RFC 3261 §20.10, §20.20, §20.39, §25.1).
 * The URI is only delimited here; callers run sip_uri_parse() on na->uri. */
#include "msg/hdr.h"
#include "msg/scan.h"

#include <errno.h>
#include <string.h>

static int fail(const char **why, const char *reason)
{
	if (why)
		*why = reason;
	return -EINVAL;
}

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

static bool all_token(struct str v)
{
	if (v.len == 0)
		return false;
	for (size_t i = 0; i < v.len; i++)
		if (!sc_token((unsigned char)v.s[i]))
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
			return is_scheme(tok) ? 0 : fail(why, "bad URI scheme");
		ntok++;
		end = tok.s + tok.len;
		sc_skip_lws(&look);
	}
	if (ntok == 0)
		return fail(why, look.len && look.s[0] == '"' ? "bad display name" :
				 "expected name-addr or addr-spec");
	if (look.len == 0)
		return fail(why, "display name without <URI>");
	if (look.s[0] != '<')
		return fail(why, "non-token character in display name");
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
			return fail(why, "whitespace inside <>");
		return fail(why, "bad character inside <>"); /* '<' or '"' */
	}
	if (!gt)
		return fail(why, "'<' without '>'");
	i = (size_t)(gt - c->s);
	if (i == 1)
		return fail(why, "empty URI");
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
			return fail(why, "bad character in addr-spec");
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
				return fail(why, "duplicate tag");
			if (!all_token(value))
				return fail(why, "bad tag");
			na->tag = value;
			na->has_tag = true;
		} else if (str_caseeq_lit(name, "expires")) {
			if (na->has_expires)
				return fail(why, "duplicate expires");
			/* range is the caller's call (RFC 4475 scalar02) */
			if (!all_digits(value))
				return fail(why, "bad expires");
			na->expires = value;
			na->has_expires = true;
		} else if (str_caseeq_lit(name, "q")) {
			if (na->has_q)
				return fail(why, "duplicate q");
			if (!qvalue_valid(value))
				return fail(why, "bad q value");
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
		return fail(why, "empty value");
	sc_skip_lws(&c);
	start = c.s;
	if (c.len == 0)
		return fail(why, "empty value");
	if (c.s[0] == ',' && (flags & SIP_NA_LIST))
		return fail(why, "empty list element");

	if (c.s[0] == '*') {
		/* Contact: * stands alone, no params (RFC 3261 §10.2.2, §20.10) */
		if (!(flags & SIP_NA_ALLOW_STAR))
			return fail(why, "'*' not allowed here");
		sc_advance(&c, 1);
		sc_skip_lws(&c);
		if (c.len)
			return fail(why, "'*' must stand alone");
		na->star = true;
		na->raw = str_make(start, 1);
		*cur = c;
		return 0;
	}

	if (c.s[0] == '"') {
		if (sc_take_quoted(&c, &na->display) < 0)
			return fail(why, "unterminated or bad quoted display name");
		sc_skip_lws(&c);
		if (c.len == 0 || c.s[0] != '<')
			return fail(why, "expected '<' after display name");
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
			return fail(why, "empty list element");
	} else if (c.len) {
		return fail(why, c.s[0] == ',' ? "unexpected ','" : "junk after address");
	}
	*cur = c;
	return 0;
}
