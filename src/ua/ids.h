/* Random identifiers a UAC puts in its requests: the Via branch (RFC 3261
 * §8.1.1.7: unique across space and time, with the magic cookie), the From
 * tag (§19.3: at least 32 bits of randomness) and the Call-ID (§8.1.1.4:
 * globally unique, "random@host"). They come from OpenSSL's CSPRNG, so they
 * cannot be guessed by an off-path attacker. */
#ifndef SIPHON_UA_IDS_H
#define SIPHON_UA_IDS_H

#include "base/str.h"

#include <stddef.h>

#define UA_BRANCH_BITS 128
#define UA_BRANCH_LEN (7 + UA_BRANCH_BITS / 4) /* "z9hG4bK" + hex */
#define UA_TAG_LEN 16                          /* 64 bits in hex */
#define UA_CALL_ID_MAX 96                      /* 128 bits in hex + "@" + host */

/* nbytes random bytes as 2 * nbytes lower-case hex digits plus a NUL in out
 * (at least 2 * nbytes + 1 bytes). Returns 0 or -EIO (no randomness). */
int ua_rand_hex(char *out, size_t nbytes);

/* "z9hG4bK" + 128 random bits in hex. Returns 0 or -EIO. */
int ua_branch_new(char out[UA_BRANCH_LEN + 1]);
/* 64 random bits in hex. Returns 0 or -EIO. */
int ua_tag_new(char out[UA_TAG_LEN + 1]);
/* "<128 random bits in hex>@host" (host as it appears in a URI: an IPv6
 * address keeps its brackets). Returns 0, -EIO or -ENOSPC. */
int ua_call_id_new(char *out, size_t cap, struct str host);

#endif
