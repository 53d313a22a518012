/* libFuzzer target: the HTTP interface's Authorization check on arbitrary
 * header values. Nothing may crash or read out of bounds; only a "Basic"
 * value, or a "Bearer" one that ends with the token, may let a request in
 * (test_http_auth checks which Basic values do). */
#include "siphond/http_auth.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TOKEN "fuzz-token-0123456789abcdef"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sd_http_auth a;
	static int ready;
	char *v;
	bool ok;

	if (!ready) {
		if (sd_http_auth_init(&a, TOKEN) < 0)
			abort();
		ready = 1;
	}
	if (size > 4096)
		return 0;
	v = malloc(size + 1);
	if (!v)
		return 0;
	memcpy(v, data, size);
	v[size] = '\0'; /* a header value ends at its first NUL */
	ok = sd_http_auth_ok(&a, v);
	if (ok) {
		const char *sp = strchr(v, ' ');

		/* only the two schemes, and Bearer only with the token itself */
		if (!sp || (strncasecmp(v, "Bearer ", 7) && strncasecmp(v, "Basic ", 6)))
			abort();
		if (!strncasecmp(v, "Bearer ", 7) && strcmp(v + strlen(v) - strlen(TOKEN), TOKEN))
			abort();
	}
	free(v);
	return 0;
}
