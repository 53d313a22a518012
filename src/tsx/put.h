/* A counting writer for the requests the transaction layer builds (ACK,
 * CANCEL): counts always, writes while it fits, like snprintf. */
#ifndef SIPHON_TSX_PUT_H
#define SIPHON_TSX_PUT_H

#include "base/str.h"

#include <string.h>

struct tsx_put {
	char *p;
	size_t len, cap;
};

static inline void tsx_put(struct tsx_put *o, const char *s, size_t n)
{
	if (n && o->len + n <= o->cap)
		memcpy(o->p + o->len, s, n);
	o->len += n;
}

static inline void tsx_put_str(struct tsx_put *o, struct str s)
{
	tsx_put(o, s.s, s.len);
}

static inline void tsx_put_lit(struct tsx_put *o, const char *s)
{
	tsx_put(o, s, strlen(s));
}

#endif
