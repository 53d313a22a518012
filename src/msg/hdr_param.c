/* Generic header parameters, token lists and quoted-string unescaping
 * (RFC 3261 §7.3.1, §25.1). */
#include "msg/hdr.h"
#include "msg/scan.h"

#include <errno.h>
#include <limits.h>

int sip_param_next(struct str *cur, struct str *name, struct str *value, const char **why)
{
	struct str c = *cur;

	if (c.len == 0)
		return 1; /* before touching a possibly NULL slice */
	sc_skip_lws(&c);
	if (c.len == 0 || c.s[0] == ',') {
		*cur = c;
		return 1;
	}
	if (c.s[0] == ';') {
		sc_advance(&c, 1);
		sc_skip_lws(&c);
	}
	/* generic-param = token [ EQUAL gen-value ]; ";;" has an empty name */
	*name = sc_take_token(&c);
	if (name->len == 0)
		return sc_fail(why, "empty parameter name", -EINVAL);
	*value = STR_NULL;
	{
		struct str look = c;

		sc_skip_lws(&look);
		if (look.len && look.s[0] == '=') {
			sc_advance(&look, 1);
			sc_skip_lws(&look);
			if (look.len && look.s[0] == '"') {
				if (sc_take_quoted(&look, value) < 0)
					return sc_fail(why, "bad quoted parameter value", -EINVAL);
			} else {
				/* gen-value = token / host / quoted-string (RFC 3261
				 * §25.1): host adds ':' and the IPv6 brackets to the
				 * token set (SC_GENVAL); nothing else may appear. */
				size_t i = (size_t)(sc_span(look.s, look.s + look.len, SC_GENVAL) - look.s);

				if (i == 0)
					return sc_fail(why, "empty parameter value", -EINVAL);
				*value = str_make(look.s, i);
				sc_advance(&look, i);
			}
			c = look;
		}
	}
	/* the next thing must start another param, end the element or the value */
	{
		struct str look = c;

		sc_skip_lws(&look);
		if (look.len && look.s[0] != ';' && look.s[0] != ',')
			return sc_fail(why, "junk after parameter", -EINVAL);
	}
	*cur = c;
	return 0;
}

int sip_param_find(struct str params, struct str name, struct str *value)
{
	struct str n, v;

	while (sip_param_next(&params, &n, &v, NULL) == 0) {
		if (str_caseeq(n, name)) {
			*value = v;
			return 1;
		}
	}
	return 0;
}

int sip_token_next(struct str *cur, struct str *tok, const char **why)
{
	struct str c = *cur;

	if (c.len == 0)
		return 1;
	sc_skip_lws(&c);
	if (c.len == 0) {
		*cur = c;
		return 1;
	}
	*tok = sc_take_token(&c);
	if (tok->len == 0)
		return sc_fail(why, c.s[0] == ',' ? "empty list element" : "not a token", -EINVAL);
	sc_skip_lws(&c);
	if (c.len) {
		if (c.s[0] != ',')
			return sc_fail(why, "junk after token", -EINVAL);
		sc_advance(&c, 1);
		sc_skip_lws(&c);
		/* "a," leaves an empty element behind (RFC 3261 §7.3.1) */
		if (c.len == 0)
			return sc_fail(why, "empty list element", -EINVAL);
	}
	*cur = c;
	return 0;
}

/* The quotes are optional on input, so the unquoted slices that
 * sip_auth_parse() returns can be passed as they are. The output is
 * NUL-terminated (cap must leave room for it) and may hold NUL octets of its
 * own (quoted-pair "\" %x00, RFC 3261 §25.1). A folded line inside the
 * string keeps its whitespace and loses the CRLF (§7.3.1). */
int sip_unquote(char *dst, size_t cap, struct str quoted)
{
	size_t i = 0, n = 0;

	if (quoted.len && quoted.s[0] == '"') {
		if (quoted.len < 2 || quoted.s[quoted.len - 1] != '"')
			return -EINVAL;
		quoted = str_make(quoted.s + 1, quoted.len - 2);
	}
	while (i < quoted.len) {
		unsigned char c = (unsigned char)quoted.s[i];

		if (c == '\\') {
			if (i + 1 >= quoted.len)
				return -EINVAL;
			c = (unsigned char)quoted.s[i + 1];
			if (c == '\r' || c == '\n' || c > 0x7f)
				return -EINVAL;
			i += 2;
		} else if (c == '"') {
			return -EINVAL;
		} else if (c == '\r') {
			if (i + 2 >= quoted.len || quoted.s[i + 1] != '\n' ||
			    !sc_wsp((unsigned char)quoted.s[i + 2]))
				return -EINVAL;
			i += 2;
			continue;
		} else if (c == '\n') {
			return -EINVAL;
		} else {
			i++;
		}
		if (n + 1 >= cap || n >= INT_MAX)
			return -ENOSPC;
		dst[n++] = (char)c;
	}
	if (n >= cap)
		return -ENOSPC;
	dst[n] = '\0';
	return (int)n;
}
