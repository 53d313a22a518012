/* Resynchronisation from Redis: SCAN every key under the prefix, a page at a
 * time (one SCAN, then one pipelined round of HGETALLs per page), and bring
 * each AoR in the index up to what Redis holds (loc_index_sync). AoRs with
 * a local change still on its way to Redis keep their local state: it is
 * newer.
 *
 * Removals: when the server is the same process as at the last load (same
 * run_id: the subscriber only lost its connection), Redis's state is
 * continuous and what it lacks was removed while we were away, so each AoR
 * becomes exactly what Redis holds and AoRs it no longer has leave the
 * index (loc_index_sweep). After a restart (new run_id) Redis may have lost
 * data it had (no persistence, an older snapshot): then the load only adds
 * and refreshes, and this server keeps serving what it holds, rather than
 * forgetting every registration until the phones register again. */
#include "location/redis_int.h"

#include "base/log.h"
#include "base/mem.h"

#include <errno.h>
#include <string.h>

#define PAGE "500"   /* SCAN COUNT */
#define SMALL 16     /* bindings of one AoR kept on the stack */

struct load {
	const struct loc_redis_cfg *rc;
	struct loc_index *x;
	struct loc_resync *rs;
	time_t now;
	size_t bad;
};

static bool is_str(const redisReply *r)
{
	return r->type == REDIS_REPLY_STRING;
}

/* One AoR: key and its HGETALL reply. */
static int load_aor(struct load *ld, const redisReply *key, const redisReply *h)
{
	const struct loc_redis_cfg *rc = ld->rc;
	struct loc_rec *stack[SMALL], **recs = stack;
	struct str aor;
	size_t n = 0;
	int err = 0;

	if (key->len <= rc->keyp_len || memcmp(key->str, rc->keyp, rc->keyp_len))
		return 0;
	/* gone since SCAN, or not a hash: the sweep drops it from the index */
	if (h->type != REDIS_REPLY_ARRAY)
		return 0;
	aor = str_make(key->str + rc->keyp_len, key->len - rc->keyp_len);
	if (h->elements / 2 > SMALL) {
		recs = mem_alloc(h->elements / 2 * sizeof(*recs));
		if (!recs)
			return -ENOMEM;
	}
	for (size_t i = 0; i + 1 < h->elements; i += 2) {
		const redisReply *f = h->element[i], *v = h->element[i + 1];
		struct loc_binding b;

		if (!is_str(f) || !is_str(v) || loc_redis_bind_dec(v->str, v->len, &b) ||
		    !str_eq(b.aor, aor) || !str_eq(b.contact, str_make(f->str, f->len))) {
			ld->bad++;
			continue;
		}
		if (b.expires <= ld->now)
			continue;
		recs[n] = loc_rec_new(&b);
		if (!recs[n]) {
			err = -ENOMEM;
			break;
		}
		n++;
	}
	if (err) {
		while (n)
			loc_rec_put(recs[--n]);
	} else {
		ld->rs->loaded += n;
		err = loc_index_sync(ld->x, aor, recs, n, ld->rs->exact, ld->rs->done, ld->rs->gen);
	}
	if (recs != stack)
		mem_free(recs);
	return err;
}

/* One SCAN page: HGETALL every key in one round trip. */
static int load_page(struct load *ld, redisContext *c, const redisReply *keys)
{
	int err = 0;

	for (size_t i = 0; i < keys->elements; i++) {
		const char *argv[] = { "HGETALL", keys->element[i]->str };
		size_t lens[] = { 7, keys->element[i]->len };

		if (!is_str(keys->element[i]))
			return -EIO;
		if (redisAppendCommandArgv(c, 2, argv, lens) != REDIS_OK)
			return -EIO;
	}
	for (size_t i = 0; i < keys->elements; i++) {
		redisReply *h;

		if (redisGetReply(c, (void **)&h) != REDIS_OK)
			return -EIO;
		if (!err)
			err = load_aor(ld, keys->element[i], h);
		freeReplyObject(h); /* read them all: the connection stays in step */
	}
	return err;
}

int loc_redis_load(const struct loc_redis_cfg *rc, struct loc_index *x, struct loc_resync *rs,
		   const atomic_bool *stop)
{
	struct load ld = { .rc = rc, .x = x, .rs = rs, .now = time(NULL) };
	char cursor[24] = "0", why[160], run_id[LOC_REDIS_RUN_ID];
	redisContext *c;
	int err;

	rs->loaded = 0;
	err = loc_redis_connect(rc, &c, run_id, why, sizeof(why));
	if (err) {
		log_warn("loc", "redis %s: loading: %s", rc->name, why);
		return err;
	}
	rs->exact = rs->run_id[0] && !strcmp(run_id, rs->run_id);
	do {
		const char *argv[] = { "SCAN", cursor, "MATCH", rc->pattern, "COUNT", PAGE };
		redisReply *page = redisCommandArgv(c, 6, argv, NULL);

		if (!page || page->type != REDIS_REPLY_ARRAY || page->elements != 2 ||
		    !is_str(page->element[0]) || page->element[0]->len >= sizeof(cursor) ||
		    page->element[1]->type != REDIS_REPLY_ARRAY) {
			const char *why_scan = c->err ? c->errstr : "unexpected reply";

			if (page && page->type == REDIS_REPLY_ERROR)
				why_scan = page->str;
			log_warn("loc", "redis %s: SCAN: %s", rc->name, why_scan);
			freeReplyObject(page);
			err = -EIO;
			break;
		}
		memcpy(cursor, page->element[0]->str, page->element[0]->len);
		cursor[page->element[0]->len] = '\0';
		err = load_page(&ld, c, page->element[1]);
		freeReplyObject(page);
		if (!err && atomic_load(stop))
			err = -ECANCELED;
	} while (!err && strcmp(cursor, "0"));
	redisFree(c);
	if (ld.bad)
		log_warn("loc", "redis %s: %zu malformed bindings under %s skipped", rc->name, ld.bad,
			 rc->keyp);
	if (err)
		return err;
	/* SCAN returned every key that existed throughout: what it did not
	 * return was not in Redis */
	if (rs->exact)
		loc_index_sweep(x, rs->gen, rs->done);
	memcpy(rs->run_id, run_id, sizeof(run_id));
	return 0;
}
