/* Subscriber table: open, add, delete, list. Each row keeps the HA1 of every
 * algorithm as lowercase hex (RFC 7616 §3.4.2; SHA-256 per RFC 8760), never
 * the password; secure_delete overwrites the HA1 of deleted or replaced rows. */
#include "subscriber/sub_int.h"

#include "base/log.h"
#include "base/mem.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <time.h>
#include <unistd.h>

static const char *const sql[SUB_ST_N] = {
	[SUB_ST_INSERT] = "INSERT INTO subscriber(user, domain, ha1_md5, ha1_sha256, created)"
			  " VALUES(?1, ?2, ?3, ?4, ?5)",
	/* a replaced password keeps the row's creation time */
	[SUB_ST_UPSERT] = "INSERT INTO subscriber(user, domain, ha1_md5, ha1_sha256, created)"
			  " VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(user, domain) DO UPDATE SET"
			  " ha1_md5 = excluded.ha1_md5, ha1_sha256 = excluded.ha1_sha256",
	[SUB_ST_DEL] = "DELETE FROM subscriber WHERE user = ?1 AND domain = ?2",
	[SUB_ST_LOOKUP] = "SELECT ha1_md5, ha1_sha256 FROM subscriber"
			  " WHERE user = ?1 AND domain = ?2",
};

static const char schema[] =
	"PRAGMA journal_mode=WAL;"
	"PRAGMA synchronous=FULL;"
	"PRAGMA secure_delete=ON;"
	"CREATE TABLE IF NOT EXISTS subscriber("
	" user TEXT NOT NULL, domain TEXT NOT NULL, ha1_md5 TEXT, ha1_sha256 TEXT,"
	" created INTEGER NOT NULL, PRIMARY KEY(user, domain)) WITHOUT ROWID;";

int sub_fail(struct sub *s, const char *what)
{
	int code = sqlite3_errcode(s->h);

	log_err("sub", "sqlite %s: %s", what, sqlite3_errmsg(s->h));
	return code == SQLITE_NOMEM ? -ENOMEM : -EIO;
}

void sub_close(struct sub *s)
{
	if (!s)
		return;
	for (int i = 0; i < SUB_ST_N; i++)
		sqlite3_finalize(s->st[i]);
	sqlite3_close(s->h);
	mem_free(s);
}

int sub_open(struct sub **sp, const char *path)
{
	struct sub *s;
	char *msg = NULL;
	int rc;

	if (!sp || !path || !*path)
		return -EINVAL;
	s = mem_zalloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	/* FULLMUTEX: one connection serialised by SQLite, shared by all threads */
	rc = sqlite3_open_v2(path, &s->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				  SQLITE_OPEN_FULLMUTEX, NULL);
	if (rc != SQLITE_OK) {
		rc = rc == SQLITE_NOMEM || !s->h ? -ENOMEM : sub_fail(s, path);
		sub_close(s);
		return rc;
	}
	sqlite3_busy_timeout(s->h, 5000);
	/* Processes opening a new file at once (siphonctl user add side by
	 * side) can get SQLITE_BUSY while one of them turns it to WAL, which
	 * the busy handler does not cover: retried until 5 s have passed. */
	struct timespec t0, now;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while ((rc = sqlite3_exec(s->h, schema, NULL, NULL, &msg)) != SQLITE_OK) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED) ||
		    now.tv_sec - t0.tv_sec >= 5) {
			log_err("sub", "sqlite schema %s: %s", path, msg ? msg : "?");
			sqlite3_free(msg);
			sub_close(s);
			return -EIO;
		}
		sqlite3_free(msg);
		msg = NULL;
		usleep(50000);
	}
	for (int i = 0; i < SUB_ST_N; i++) {
		if (sqlite3_prepare_v3(s->h, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i],
				       NULL) != SQLITE_OK) {
			rc = sub_fail(s, "prepare");
			sub_close(s);
			return rc;
		}
	}
	*sp = s;
	return 0;
}

static void bind_str(sqlite3_stmt *st, int i, struct str v)
{
	sqlite3_bind_text(st, i, v.s ? v.s : "", (int)v.len, SQLITE_TRANSIENT);
}

/* Hex HA1 of user:domain:password for alg into out; 0 or -errno. */
static int ha1_hex(enum auth_alg alg, struct str user, struct str domain, struct str password,
		   char out[AUTH_HEX_MAX])
{
	uint8_t ha1[AUTH_HASH_MAX];
	int n = auth_ha1(alg, user, domain, password, ha1);

	if (n < 0)
		return n;
	auth_hex(out, ha1, (size_t)n);
	OPENSSL_cleanse(ha1, sizeof(ha1));
	return 0;
}

int sub_add(struct sub *s, struct str user, struct str domain, struct str password,
	    bool replace)
{
	char md5[AUTH_HEX_MAX], sha[AUTH_HEX_MAX];
	sqlite3_stmt *st;
	int err, rc;

	if (str_empty(user) || str_empty(domain) || str_empty(password) ||
	    user.len > SUB_USER_MAX || domain.len > SUB_DOMAIN_MAX)
		return -EINVAL;
	/* realm = domain: what siphond's challenges will carry */
	err = ha1_hex(AUTH_ALG_MD5, user, domain, password, md5);
	if (!err)
		err = ha1_hex(AUTH_ALG_SHA256, user, domain, password, sha);
	if (err)
		goto out;
	st = s->st[replace ? SUB_ST_UPSERT : SUB_ST_INSERT];
	sqlite3_mutex_enter(sqlite3_db_mutex(s->h));
	bind_str(st, 1, user);
	bind_str(st, 2, domain);
	sqlite3_bind_text(st, 3, md5, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, sha, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)time(NULL));
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		err = 0;
	else if (rc == SQLITE_CONSTRAINT)
		err = -EEXIST;
	else
		err = sub_fail(s, "add");
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	sqlite3_mutex_leave(sqlite3_db_mutex(s->h));
out:
	OPENSSL_cleanse(md5, sizeof(md5));
	OPENSSL_cleanse(sha, sizeof(sha));
	return err;
}

int sub_del(struct sub *s, struct str user, struct str domain)
{
	sqlite3_stmt *st = s->st[SUB_ST_DEL];
	int err;

	sqlite3_mutex_enter(sqlite3_db_mutex(s->h));
	bind_str(st, 1, user);
	bind_str(st, 2, domain);
	if (sqlite3_step(st) != SQLITE_DONE)
		err = sub_fail(s, "del");
	else
		err = sqlite3_changes(s->h) ? 0 : -ENOENT;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	sqlite3_mutex_leave(sqlite3_db_mutex(s->h));
	return err;
}

static struct str col(sqlite3_stmt *st, int i)
{
	const char *v = (const char *)sqlite3_column_text(st, i);

	return str_make(v ? v : "", v ? (size_t)sqlite3_column_bytes(st, i) : 0);
}

int sub_list(struct sub *s, const struct str *domain, sub_list_fn cb, void *arg)
{
	static const char all[] = "SELECT user, domain, ha1_md5 IS NOT NULL,"
				  " ha1_sha256 IS NOT NULL, created FROM subscriber"
				  " ORDER BY domain, user";
	static const char one[] = "SELECT user, domain, ha1_md5 IS NOT NULL,"
				  " ha1_sha256 IS NOT NULL, created FROM subscriber"
				  " WHERE domain = ?1 ORDER BY user";
	sqlite3_stmt *st;
	int rc, err = 0;

	/* rare and slow anyway: a statement of its own, outside the hot set */
	if (sqlite3_prepare_v2(s->h, domain ? one : all, -1, &st, NULL) != SQLITE_OK)
		return sub_fail(s, "prepare");
	if (domain)
		bind_str(st, 1, *domain);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct sub_entry e = {
			.user = col(st, 0),
			.domain = col(st, 1),
			.has_md5 = sqlite3_column_int(st, 2) != 0,
			.has_sha256 = sqlite3_column_int(st, 3) != 0,
			.created = sqlite3_column_int64(st, 4),
		};

		err = cb(arg, &e);
		if (err)
			break;
	}
	if (!err && rc != SQLITE_DONE)
		err = sub_fail(s, "list");
	sqlite3_finalize(st);
	return err;
}
