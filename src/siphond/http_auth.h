/* Access to siphond's HTTP interface with a bearer token ([http]
 * token_file, docs/http.md): "Authorization: Bearer TOKEN" (RFC 6750), or
 * Basic (RFC 7617) with the token as the password, which a browser asks
 * for on the status page. Only a digest of the token is kept, and
 * candidates are compared by digest in constant time. */
#ifndef SIPHON_SIPHOND_HTTP_AUTH_H
#define SIPHON_SIPHOND_HTTP_AUTH_H

#include <stdbool.h>
#include <stdint.h>

struct sd_http_auth {
	bool on;            /* false: every request passes */
	uint8_t digest[32]; /* SHA-256 of the token */
};

/* token NULL: off. Returns 0 or -EIO (no digest). */
int sd_http_auth_init(struct sd_http_auth *a, const char *token);
/* Does the Authorization header value (NULL: none) carry the token? */
bool sd_http_auth_ok(const struct sd_http_auth *a, const char *authorization);

#endif
