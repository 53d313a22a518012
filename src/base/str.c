#include "base/str.h"

#include <errno.h>

int str_to_u32(struct str a, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;

	if (a.len == 0)
		return -EINVAL;
	if (a.len <= 9) {
		/* the common short number cannot overflow 64 bits: check the
		 * range once at the end (still EINVAL first for "12x") */
		for (size_t i = 0; i < a.len; i++) {
			unsigned d = (unsigned char)a.s[i] - '0';
			if (d > 9)
				return -EINVAL;
			v = v * 10 + d;
		}
		if (v > max)
			return -ERANGE;
		*out = (uint32_t)v;
		return 0;
	}
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

size_t str_fmt_u32(char out[10], uint32_t v)
{
	char d[10];
	size_t i = sizeof(d), n;

	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	n = sizeof(d) - i;
	memcpy(out, d + i, n);
	return n;
}
