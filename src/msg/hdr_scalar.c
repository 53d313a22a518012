/* Single-value headers: CSeq, unsigned numbers, Call-ID (RFC 3261 §20). */
#include "msg/hdr.h"
#include "msg/scan.h"

#include <errno.h>

/* CSeq = 1*DIGIT LWS Method (RFC 3261 §20.16). The number may be folded
 * away from the method; leading zeros are fine (RFC 4475 wsinv "0009"). */
int sip_cseq_parse(struct sip_cseq *c, struct str value, const char **why)
{
	struct str cur = value, digits;
	size_t i = 0;
	int rc;

	c->num = 0;
	c->method = STR_NULL;
	if (cur.len == 0)
		return sc_fail(why, "CSeq number missing", -EINVAL);
	sc_skip_lws(&cur);
	while (i < cur.len && sc_digit((unsigned char)cur.s[i]))
		i++;
	if (i == 0)
		return sc_fail(why, "CSeq number missing", -EINVAL);
	digits = str_make(cur.s, i);
	sc_advance(&cur, i);
	{
		size_t before = cur.len;

		sc_skip_lws(&cur);
		if (cur.len == before)
			return sc_fail(why, cur.len ? "bad CSeq number" : "CSeq method missing", -EINVAL);
	}
	c->method = sc_take_token(&cur);
	if (c->method.len == 0)
		return sc_fail(why, "CSeq method missing", -EINVAL);
	sc_skip_lws(&cur);
	if (cur.len)
		return sc_fail(why, "junk after CSeq method", -EINVAL);
	/* RFC 4475 scalar02: above 2^32-1 is a 400 */
	rc = str_to_u32(digits, UINT32_MAX, &c->num);
	if (rc == -ERANGE)
		return sc_fail(why, "CSeq number too large", -ERANGE);
	if (rc < 0)
		return sc_fail(why, "bad CSeq number", rc);
	return 0;
}

int sip_uint_parse(struct str value, uint32_t max, uint32_t *out, const char **why)
{
	int rc;

	value = str_trim(value);
	rc = str_to_u32(value, max, out);
	if (rc == -ERANGE)
		return sc_fail(why, "number too large", rc);
	if (rc < 0)
		return sc_fail(why, value.len ? "not a number" : "empty number", rc);
	return 0;
}

/* callid = word [ "@" word ]; word = 1*(alphanum / "-" / "." / "!" / "%" /
 * "*" / "_" / "+" / "`" / "'" / "~" / "(" / ")" / "<" / ">" / ":" / "\" /
 * DQUOTE / "/" / "[" / "]" / "?" / "{" / "}") (RFC 3261 §25.1). */
int sip_callid_check(struct str value, const char **why)
{
	size_t i, at = 0;
	bool seen_at = false;

	value = str_trim(value);
	if (value.len == 0)
		return sc_fail(why, "empty Call-ID", -EINVAL);
	for (i = 0; i < value.len; i++) {
		unsigned char ch;

		/* skip the run of word chars at once ('@' is not one) */
		i = (size_t)(sc_span(value.s + i, value.s + value.len, SC_WORD) - value.s);
		if (i == value.len)
			break;
		ch = (unsigned char)value.s[i];
		if (ch == '@') {
			if (seen_at)
				return sc_fail(why, "second '@' in Call-ID", -EINVAL);
			seen_at = true;
			at = i;
			continue;
		}
		return sc_fail(why, sc_wsp(ch) || ch == '\r' || ch == '\n' ?
				 "LWS in Call-ID" : "bad character in Call-ID", -EINVAL);
	}
	if (seen_at && (at == 0 || at == value.len - 1))
		return sc_fail(why, "empty word around '@' in Call-ID", -EINVAL);
	return 0;
}
