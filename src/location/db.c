/* SQLite persistence: WAL with synchronous=FULL, so a COMMIT that returned is
 * on disk (the WAL is fsynced at each commit) and survives kill -9 or a
 * power cut. One connection, prepared statements, one transaction per batch. */
#include "location/loc_int.h"

#include "base/log.h"
#include "base/mem.h"

#include <errno.h>
#include <sqlite3.h>

enum { ST_BEGIN, ST_COMMIT, ST_ROLLBACK, ST_UPSERT, ST_DEL, ST_DEL_AOR, ST_EXPIRE, ST_N };

static const char *const sql[ST_N] = {
	[ST_BEGIN] = "BEGIN",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_UPSERT] = "INSERT OR REPLACE INTO location(aor, contact, expires, q, call_id, cseq,"
		      " path, instance, reg_id, received, user_agent, updated)"
		      " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
	[ST_DEL] = "DELETE FROM location WHERE aor = ?1 AND contact = ?2",
	[ST_DEL_AOR] = "DELETE FROM location WHERE aor = ?1",
	[ST_EXPIRE] = "DELETE FROM location WHERE expires <= ?1",
};

static const char schema[] =
	"PRAGMA journal_mode=WAL;"
	"PRAGMA synchronous=FULL;"
	"CREATE TABLE IF NOT EXISTS location("
	" aor TEXT NOT NULL, contact TEXT NOT NULL, expires INTEGER NOT NULL,"
	" q INTEGER NOT NULL, call_id TEXT NOT NULL, cseq INTEGER NOT NULL,"
	" path TEXT NOT NULL, instance TEXT NOT NULL, reg_id INTEGER NOT NULL,"
	" received TEXT NOT NULL, user_agent TEXT NOT NULL, updated INTEGER NOT NULL,"
	" PRIMARY KEY(aor, contact)) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS location_expires ON location(expires);";

struct loc_db {
	struct loc_store store; /* the writer's view of it */
	sqlite3 *h;
	sqlite3_stmt *st[ST_N];
};

static int fail(struct loc_db *db, const char *what)
{
	log_err("loc", "sqlite %s: %s", what, sqlite3_errmsg(db->h));
	return -EIO;
}

void loc_db_close(struct loc_db *db)
{
	if (!db)
		return;
	for (int i = 0; i < ST_N; i++)
		sqlite3_finalize(db->st[i]);
	sqlite3_close(db->h);
	mem_free(db);
}

static void db_close(struct loc_store *st)
{
	loc_db_close((struct loc_db *)st);
}

static int db_apply(struct loc_store *st, struct loc_op *ops);

int loc_db_open(struct loc_db **out, const char *path)
{
	struct loc_db *db;
	char *msg = NULL;
	int rc;

	if (!path)
		return -EINVAL;
	db = mem_zalloc(sizeof(*db));
	if (!db)
		return -ENOMEM;
	rc = sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				   SQLITE_OPEN_FULLMUTEX, NULL);
	if (rc != SQLITE_OK) {
		rc = rc == SQLITE_NOMEM ? -ENOMEM : (db->h ? fail(db, "open") : -EIO);
		loc_db_close(db);
		return rc;
	}
	db->store.apply = db_apply;
	db->store.close = db_close;
	sqlite3_busy_timeout(db->h, 5000);
	if (sqlite3_exec(db->h, schema, NULL, NULL, &msg) != SQLITE_OK) {
		log_err("loc", "sqlite schema %s: %s", path, msg ? msg : "?");
		sqlite3_free(msg);
		loc_db_close(db);
		return -EIO;
	}
	for (int i = 0; i < ST_N; i++) {
		if (sqlite3_prepare_v3(db->h, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &db->st[i],
				       NULL) != SQLITE_OK) {
			rc = fail(db, "prepare");
			loc_db_close(db);
			return rc;
		}
	}
	*out = db;
	return 0;
}

static struct str col(sqlite3_stmt *st, int i)
{
	const char *s = (const char *)sqlite3_column_text(st, i);

	return str_make(s ? s : "", (size_t)sqlite3_column_bytes(st, i));
}

int loc_db_load(struct loc_db *db, struct loc_index *x, time_t now)
{
	static const char q[] = "SELECT aor, contact, expires, q, call_id, cseq, path, instance,"
				" reg_id, received, user_agent, updated FROM location"
				" WHERE expires > ?1";
	sqlite3_stmt *st;
	int rc, err = 0;

	if (sqlite3_prepare_v2(db->h, q, -1, &st, NULL) != SQLITE_OK)
		return fail(db, "prepare");
	sqlite3_bind_int64(st, 1, now);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct loc_binding b = {
			.aor = col(st, 0),
			.contact = col(st, 1),
			.expires = sqlite3_column_int64(st, 2),
			.q = (uint16_t)sqlite3_column_int(st, 3),
			.call_id = col(st, 4),
			.cseq = (uint32_t)sqlite3_column_int64(st, 5),
			.path = col(st, 6),
			.instance = col(st, 7),
			.reg_id = (uint32_t)sqlite3_column_int64(st, 8),
			.received = col(st, 9),
			.user_agent = col(st, 10),
			.updated = sqlite3_column_int64(st, 11),
		};
		struct loc_rec *r = loc_rec_new(&b), *old;
		uint64_t h = loc_hash(b.aor);
		struct loc_stripe *s = loc_index_stripe(x, h);

		if (!r) {
			err = -ENOMEM;
			break;
		}
		/* single-threaded here, but keep the locking rule */
		pthread_rwlock_wrlock(&s->lock);
		err = loc_index_put(x, s, h, r, &old);
		pthread_rwlock_unlock(&s->lock);
		if (err) {
			loc_rec_put(r);
			break;
		}
		/* two rows for one instance + reg-id (the writer deletes the
		 * replaced row, so only a hand-edited database): keep the last */
		loc_rec_put(old);
	}
	if (!err && rc != SQLITE_DONE)
		err = fail(db, "load");
	sqlite3_finalize(st);
	return err;
}

static void bind_str(sqlite3_stmt *st, int i, struct str s)
{
	sqlite3_bind_text(st, i, s.s ? s.s : "", (int)s.len, SQLITE_STATIC);
}

static int run(struct loc_db *db, int which)
{
	sqlite3_stmt *st = db->st[which];
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : fail(db, sql[which]);
}

static int apply_one(struct loc_db *db, const struct loc_op *op)
{
	sqlite3_stmt *st;
	int err;

	switch (op->kind) {
	case LOC_OP_SAVE: {
		const struct loc_binding *b = &op->rec->b;

		/* a new flow of the same instance replaced another contact */
		if (op->old && !str_eq(op->old->b.contact, b->contact)) {
			st = db->st[ST_DEL];
			bind_str(st, 1, op->old->b.aor);
			bind_str(st, 2, op->old->b.contact);
			err = run(db, ST_DEL);
			if (err)
				return err;
		}
		st = db->st[ST_UPSERT];
		bind_str(st, 1, b->aor);
		bind_str(st, 2, b->contact);
		sqlite3_bind_int64(st, 3, b->expires);
		sqlite3_bind_int(st, 4, b->q);
		bind_str(st, 5, b->call_id);
		sqlite3_bind_int64(st, 6, b->cseq);
		bind_str(st, 7, b->path);
		bind_str(st, 8, b->instance);
		sqlite3_bind_int64(st, 9, b->reg_id);
		bind_str(st, 10, b->received);
		bind_str(st, 11, b->user_agent);
		sqlite3_bind_int64(st, 12, b->updated);
		return run(db, ST_UPSERT);
	}
	case LOC_OP_DEL:
		st = db->st[ST_DEL];
		bind_str(st, 1, op->aor);
		bind_str(st, 2, op->contact);
		return run(db, ST_DEL);
	case LOC_OP_DEL_AOR:
		st = db->st[ST_DEL_AOR];
		bind_str(st, 1, op->aor);
		return run(db, ST_DEL_AOR);
	case LOC_OP_EXPIRE:
		st = db->st[ST_EXPIRE];
		sqlite3_bind_int64(st, 1, op->now);
		return run(db, ST_EXPIRE);
	}
	return -EINVAL;
}

static int db_apply(struct loc_store *st, struct loc_op *ops)
{
	struct loc_db *db = (struct loc_db *)st; /* store is the first member */
	int err = run(db, ST_BEGIN);

	for (struct loc_op *op = ops; op && !err; op = op->next)
		err = apply_one(db, op);
	if (!err)
		err = run(db, ST_COMMIT);
	if (err && !sqlite3_get_autocommit(db->h))
		run(db, ST_ROLLBACK);
	return err;
}

struct loc_store *loc_db_store(struct loc_db *db)
{
	return db ? &db->store : NULL;
}
