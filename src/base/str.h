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

/* ASCII case-insensitive equality (SIP tokens are ASCII, RFC 3261 §7.3.1). */
bool str_caseeq(struct str a, struct str b);
bool str_caseeq_lit(struct str a, const char *lit);

/* Trim SP, HTAB, CR and LF from both ends (folded LWS included). */
struct str str_trim(struct str a);

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

#endif
