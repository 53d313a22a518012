/* HA1 lookup for the digest server (auth_lookup_fn, auth/auth.h): one
 * prepared statement shared by every worker, used under the connection's
 * own mutex (the handle is FULLMUTEX, so that mutex exists and is
 * recursive) so bind, step and reset of two threads never interleave. */
#include "subscriber/sub_int.h"

#include <errno.h>
#include <openssl/crypto.h>

/* Decode exactly 2 * n hex digits into out; 0 or -EIO (a corrupt row). */
static int decode(const unsigned char *h, int hlen, uint8_t *out, size_t n)
{
	if (!h || hlen < 0 || auth_unhex(out, n, str_make((const char *)h, (size_t)hlen)) < 0)
		return -EIO;
	return 0;
}

int sub_lookup(void *arg, struct str user, struct str realm, enum auth_alg alg,
	       uint8_t ha1[AUTH_HASH_MAX], size_t *ha1_len)
{
	struct sub *s = arg;
	sqlite3_stmt *st;
	sqlite3_mutex *m;
	int col = alg == AUTH_ALG_SHA256 ? 1 : 0;
	size_t n = auth_alg_len(alg);
	int rc, err;

	if (!s || !n)
		return -EINVAL;
	st = s->st[SUB_ST_LOOKUP];
	m = sqlite3_db_mutex(s->h);
	sqlite3_mutex_enter(m);
	/* SQLITE_STATIC: the slices outlive the step below */
	sqlite3_bind_text(st, 1, user.s ? user.s : "", (int)user.len, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, realm.s ? realm.s : "", (int)realm.len, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *h = sqlite3_column_text(st, col);

		if (!h)
			err = -ENOENT; /* no HA1 for this algorithm */
		else
			err = decode(h, sqlite3_column_bytes(st, col), ha1, n);
		if (err == -EIO)
			OPENSSL_cleanse(ha1, AUTH_HASH_MAX);
	} else if (rc == SQLITE_DONE) {
		err = -ENOENT;
	} else {
		err = sub_fail(s, "lookup");
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	sqlite3_mutex_leave(m);
	if (!err)
		*ha1_len = n;
	return err;
}
