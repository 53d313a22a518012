/* Bounded appends for the header values we build. */
#include "auth/auth_priv.h"

#include <errno.h>

int auth_put_quoted(char *out, size_t cap, size_t *pos, struct str v)
{
	for (size_t i = 0; i < v.len; i++) {
		char c = v.s[i];

		if (c == '\r' || c == '\n' || c == '\0')
			return -EINVAL;
		if (c == '"' || c == '\\') {
			if (*pos + 1 >= cap)
				return -ENOSPC;
			out[(*pos)++] = '\\';
		}
		if (*pos + 1 >= cap)
			return -ENOSPC;
		out[(*pos)++] = c;
	}
	return 0;
}

int auth_put_str(char *out, size_t cap, size_t *pos, const char *a)
{
	size_t n = strlen(a);

	if (n >= cap - *pos)
		return -ENOSPC;
	memcpy(out + *pos, a, n);
	*pos += n;
	return 0;
}
