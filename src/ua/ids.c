/* Random identifiers for requests (RFC 3261 §8.1.1.4, §8.1.1.7, §19.3). */
#include "ua/ids.h"

#include "tsx/key.h"

#include <errno.h>
#include <openssl/rand.h>
#include <string.h>

#define UA_RAND_MAX 32 /* bytes per call; more than any identifier needs */

int ua_rand_hex(char *out, size_t nbytes)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[UA_RAND_MAX];

	if (nbytes > sizeof(raw))
		return -EINVAL;
	if (RAND_bytes(raw, (int)nbytes) != 1)
		return -EIO;
	for (size_t i = 0; i < nbytes; i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 0xf];
	}
	out[2 * nbytes] = '\0';
	return 0;
}

int ua_branch_new(char out[UA_BRANCH_LEN + 1])
{
	memcpy(out, TSX_MAGIC_COOKIE, 7);
	return ua_rand_hex(out + 7, UA_BRANCH_BITS / 8);
}

int ua_tag_new(char out[UA_TAG_LEN + 1])
{
	return ua_rand_hex(out, UA_TAG_LEN / 2);
}

int ua_call_id_new(char *out, size_t cap, struct str host)
{
	int rc;

	if (cap < 32 + 1 + host.len + 1)
		return -ENOSPC;
	rc = ua_rand_hex(out, 16);
	if (rc || host.len == 0)
		return rc; /* Call-ID = word [ "@" word ] */
	out[32] = '@';
	memcpy(out + 33, host.s, host.len);
	out[33 + host.len] = '\0';
	return 0;
}
