/* Subscriber store: digest users kept in SQLite as HA1 per algorithm
 * (RFC 7616 §3.4.2, RFC 8760), never the password. The realm is the
 * subscriber's domain. One table, WAL, a connection opened FULLMUTEX so
 * sub_lookup can be called from any worker thread. */
#ifndef SIPHON_SUBSCRIBER_SUB_H
#define SIPHON_SUBSCRIBER_SUB_H

#include "auth/auth.h"
#include "base/str.h"

#include <stdbool.h>
#include <stdint.h>

/* The store's file name inside a data directory. */
#define SUB_DB_FILE "subscribers.db"
/* Longest user part and domain accepted (bytes). */
#define SUB_USER_MAX 128
#define SUB_DOMAIN_MAX 253

struct sub;

struct sub_entry {
	struct str user;
	struct str domain;
	bool has_md5;
	bool has_sha256;
	int64_t created; /* seconds since the epoch */
};

/* Called per subscriber; a non-zero return stops the walk and is returned.
 * The slices are only valid during the call. */
typedef int (*sub_list_fn)(void *arg, const struct sub_entry *e);

/* Open (creating when absent) the database file at path. Returns 0, -EINVAL,
 * -ENOMEM or -EIO (reason logged); *sp is set only on success. */
int sub_open(struct sub **sp, const char *path);
void sub_close(struct sub *s);

/* Store user@domain with HA1 for every algorithm, computed from password
 * (realm = domain). Returns 0, -EEXIST (present and !replace), -EINVAL
 * (empty user, domain or password) or -EIO. The password is neither kept
 * nor logged; the caller wipes its own buffer. */
int sub_add(struct sub *s, struct str user, struct str domain, struct str password,
	    bool replace);
/* Returns 0, -ENOENT (absent) or -EIO. */
int sub_del(struct sub *s, struct str user, struct str domain);
/* Walk subscribers ordered by domain then user, only those of *domain when
 * domain is not NULL. Returns 0, the callback's non-zero value or -EIO. */
int sub_list(struct sub *s, const struct str *domain, sub_list_fn cb, void *arg);

/* An auth_lookup_fn (auth/auth.h) with arg = struct sub *: the HA1 of
 * user@realm for alg. Returns 0, -ENOENT (unknown user, or no HA1 for alg)
 * or -EIO. Thread-safe. */
int sub_lookup(void *arg, struct str user, struct str realm, enum auth_alg alg,
	       uint8_t ha1[AUTH_HASH_MAX], size_t *ha1_len);

/* Split and check "user@domain" (exactly one '@'): user and domain
 * non-empty, no whitespace or control characters, user at most
 * SUB_USER_MAX bytes, domain a hostname, IPv4 address or bracketed IPv6
 * reference without a port (RFC 3261 §25.1). Returns 0 or -EINVAL with
 * *why set to a short static reason. */
int sub_aor_parse(struct str aor, struct str *user, struct str *domain, const char **why);

#endif
