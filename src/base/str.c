#include "base/str.h"

#include <errno.h>

static inline unsigned char lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c | 0x20) : c;
}

bool str_caseeq(struct str a, struct str b)
{
	if (a.len != b.len)
		return false;
	for (size_t i = 0; i < a.len; i++)
		if (lower((unsigned char)a.s[i]) != lower((unsigned char)b.s[i]))
			return false;
	return true;
}

bool str_caseeq_lit(struct str a, const char *lit)
{
	return str_caseeq(a, str_cstr(lit));
}

static inline bool is_lws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

struct str str_trim(struct str a)
{
	while (a.len && is_lws(a.s[0])) {
		a.s++;
		a.len--;
	}
	while (a.len && is_lws(a.s[a.len - 1]))
		a.len--;
	return a;
}

int str_to_u32(struct str a, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;

	if (a.len == 0)
		return -EINVAL;
	for (size_t i = 0; i < a.len; i++) {
		unsigned d = (unsigned char)a.s[i] - '0';
		if (d > 9)
			return -EINVAL;
		v = v * 10 + d;
		if (v > max) {
			/* keep scanning so that "12x" is EINVAL, not ERANGE */
			for (size_t j = i + 1; j < a.len; j++)
				if ((unsigned)((unsigned char)a.s[j] - '0') > 9)
					return -EINVAL;
			return -ERANGE;
		}
	}
	*out = (uint32_t)v;
	return 0;
}

int str_copy(char *dst, size_t cap, struct str a)
{
	if (cap == 0 || a.len >= cap)
		return -ENOSPC;
	if (a.len)
		memcpy(dst, a.s, a.len);
	dst[a.len] = '\0';
	return 0;
}
