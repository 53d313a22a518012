/* Zero-copy string slices: a pointer and a length into someone else's buffer. */
#ifndef SIPHON_BASE_STR_H
#define SIPHON_BASE_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A slice never owns its bytes and is never NUL-terminated by contract. */
struct str {
	const char *s;
	size_t len;
};

#define STR_NULL ((struct str){ NULL, 0 })
/* Slice of a string literal, computed at compile time. */
#define STR_LIT(lit) ((struct str){ (lit), sizeof(lit) - 1 })
/* printf("%.*s", STR_FMT(x)) */
#define STR_FMT(x) (int)(x).len, (x).s

static inline struct str str_make(const char *s, size_t len)
{
	return (struct str){ s, len };
}

static inline struct str str_cstr(const char *s)
{
	return (struct str){ s, s ? strlen(s) : 0 };
}

static inline bool str_empty(struct str a)
{
	return a.len == 0;
}

static inline bool str_eq(struct str a, struct str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.s, b.s, a.len) == 0);
}

/* ASCII case-insensitive equality (SIP tokens are ASCII, RFC 3261 §7.3.1).
 * Inline because the parsers call it on every param and header name: the
 * length test usually decides, and equal bytes cost one compare. */
static inline bool str_caseeq(struct str a, struct str b)
{
	if (a.len != b.len)
		return false;
	for (size_t i = 0; i < a.len; i++) {
		unsigned char x = (unsigned char)a.s[i], y = (unsigned char)b.s[i];

		if (x == y)
			continue;
		/* only a letter may differ, and only in the 0x20 case bit */
		if ((x ^ y) != 0x20 || (unsigned char)((x | 0x20) - 'a') > 'z' - 'a')
			return false;
	}
	return true;
}

/* With a string literal, strlen() folds to a constant once inlined. */
static inline bool str_caseeq_lit(struct str a, const char *lit)
{
	return str_caseeq(a, str_make(lit, strlen(lit)));
}

static inline bool str_is_lws_(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Trim SP, HTAB, CR and LF from both ends (folded LWS included). */
static inline struct str str_trim(struct str a)
{
	while (a.len && str_is_lws_(a.s[0])) {
		a.s++;
		a.len--;
	}
	while (a.len && str_is_lws_(a.s[a.len - 1]))
		a.len--;
	return a;
}

/* Parse an unsigned decimal that must fill the whole slice; leading zeros ok.
 * Returns 0, -EINVAL (empty/non-digit) or -ERANGE (above max). */
int str_to_u32(struct str a, uint32_t max, uint32_t *out);

/* Index of the first occurrence of c, or -1. */
static inline ptrdiff_t str_chr(struct str a, char c)
{
	const char *p = a.len ? memchr(a.s, c, a.len) : NULL;
	return p ? p - a.s : -1;
}

/* Copy into a NUL-terminated buffer of size cap; returns -ENOSPC if it does not fit. */
int str_copy(char *dst, size_t cap, struct str a);
/* v in decimal into out (no NUL); returns the length, 1-10. For the
 * message path, where snprintf's format parsing costs more than the rest. */
size_t str_fmt_u32(char out[10], uint32_t v);

#endif
