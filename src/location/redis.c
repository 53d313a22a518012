/* The writer's Redis store: each batch goes out as one pipeline,
 * MULTI ... EXEC, so it costs one round trip and other clients never see
 * half of it. Per change:
 *   save:   [HDEL key old-contact] HSET key contact value,
 *           EXPIREAT key expires NX, EXPIREAT key expires GT (a new key gets
 *           a TTL, an existing one only grows: the TTL stays at least the
 *           latest expires of its fields, and a removal leaves it as is),
 *           PUBLISH channel change
 *   remove: HDEL key contact (Redis drops an emptied hash), PUBLISH
 *   all:    DEL key, PUBLISH
 *   purge:  a Lua script that scans a bounded slice of the keys and drops
 *           expired fields (the TTL alone would keep an AoR's expired
 *           bindings as long as one of them lives).
 * The connection is blocking and belongs to the writer thread, never to an
 * event loop. Any failure fails the batch with -EIO and drops the
 * connection; the next batch connects again. A change that timed out may
 * still have been applied: -EIO means "not known to be stored". Within one
 * loc the writer queue keeps each AoR's changes in order; across servers
 * the last writer wins. */
#include "location/redis_int.h"

#include "base/log.h"
#include "base/mem.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define BUF_INIT 4096
#define PURGE_SCANS "10" /* SCAN calls (COUNT 100) per purge slice */

static const char purge_lua[] =
	"local cur, now, n = ARGV[2], tonumber(ARGV[3]), 0\n"
	"for _ = 1, tonumber(ARGV[4]) do\n"
	"  local r = redis.call('SCAN', cur, 'MATCH', ARGV[1], 'COUNT', 100)\n"
	"  cur = r[1]\n"
	"  for _, k in ipairs(r[2]) do\n"
	"    local kv = redis.pcall('HGETALL', k)\n" /* not a hash: skip it */
	"    for i = 1, #kv, 2 do\n"
	"      local e = tonumber(string.match(kv[i + 1], '^1 (%-?%d+) '))\n"
	"      if e and e <= now then redis.call('HDEL', k, kv[i]); n = n + 1 end\n"
	"    end\n"
	"  end\n"
	"  if cur == '0' then break end\n"
	"end\n"
	"return {cur, n}\n";

struct loc_redis {
	struct loc_store store; /* first: the writer's view of it */
	const struct loc_redis_cfg *rc;
	redisContext *c;
	bool down;      /* the last connect failed: log changes of state only */
	char *buf;      /* scratch for keys, values and messages */
	size_t cap;
	char cursor[24]; /* where the next purge slice starts */
};

static int ensure_conn(struct loc_redis *r)
{
	char why[160];

	if (r->c && !r->c->err)
		return 0;
	if (r->c) {
		log_warn("loc", "redis %s: %s; reconnecting", r->rc->name, r->c->errstr);
		redisFree(r->c);
		r->c = NULL;
	}
	if (loc_redis_connect(r->rc, &r->c, NULL, why, sizeof(why))) {
		if (!r->down)
			log_err("loc", "redis %s: %s; changes fail with -EIO until it answers",
				r->rc->name, why);
		r->down = true;
		return -EIO;
	}
	if (r->down)
		log_info("loc", "redis %s: connected again", r->rc->name);
	r->down = false;
	return 0;
}

static int reserve(struct loc_redis *r, size_t need)
{
	size_t cap = r->cap;
	char *b;

	if (need <= cap)
		return 0;
	while (cap < need)
		cap *= 2;
	b = mem_realloc(r->buf, cap);
	if (!b)
		return -ENOMEM;
	r->buf = b;
	r->cap = cap;
	return 0;
}

/* Append one command; hiredis copies the arguments. -EIO: out of memory
 * inside hiredis, the pipeline is unusable. */
static int cmd(struct loc_redis *r, int argc, const char **argv, const size_t *len)
{
	return redisAppendCommandArgv(r->c, argc, argv, len) == REDIS_OK ? 0 : -EIO;
}

static size_t make_key(struct loc_redis *r, char *out, struct str aor)
{
	memcpy(out, r->rc->keyp, r->rc->keyp_len);
	if (aor.len)
		memcpy(out + r->rc->keyp_len, aor.s, aor.len);
	return r->rc->keyp_len + aor.len;
}

static bool replaces_other(const struct loc_op *op)
{
	return op->old && !str_eq(op->old->b.contact, op->rec->b.contact);
}

/* How many commands op put in the transaction (none if it could not). */
static size_t op_cmds(const struct loc_op *op)
{
	if (op->err)
		return 0;
	switch (op->kind) {
	case LOC_OP_SAVE:
		return 4 + replaces_other(op);
	case LOC_OP_DEL:
	case LOC_OP_DEL_AOR:
		return 2;
	case LOC_OP_EXPIRE:
		return 1;
	}
	return 0;
}

static int publish(struct loc_redis *r, const char *msg, size_t len)
{
	const char *argv[] = { "PUBLISH", r->rc->channel, msg };
	size_t lens[] = { 7, strlen(r->rc->channel), len };

	return cmd(r, 3, argv, lens);
}

static int append_save(struct loc_redis *r, const struct loc_op *op)
{
	const struct loc_binding *b = &op->rec->b;
	size_t klen = r->rc->keyp_len + b->aor.len, mlen;
	char *key, *msg, exp[24];
	int err = 0;

	if (reserve(r, klen + LOC_REDIS_HDR_LEN + loc_redis_bind_max(b)))
		return -ENOMEM;
	key = r->buf;
	make_key(r, key, b->aor);
	msg = key + klen;
	mlen = loc_redis_hdr_enc(msg, r->rc->origin, 'S');
	mlen += loc_redis_bind_enc(msg + mlen, b);
	snprintf(exp, sizeof(exp), "%" PRId64, (int64_t)b->expires);
	if (replaces_other(op)) { /* RFC 5626 §6: a new flow replaced the old contact */
		const char *argv[] = { "HDEL", key, op->old->b.contact.s };
		size_t lens[] = { 4, klen, op->old->b.contact.len };

		err = cmd(r, 3, argv, lens);
	}
	if (!err) {
		const char *argv[] = { "HSET", key, b->contact.s, msg + LOC_REDIS_HDR_LEN };
		size_t lens[] = { 4, klen, b->contact.len, mlen - LOC_REDIS_HDR_LEN };

		err = cmd(r, 4, argv, lens);
	}
	for (int i = 0; i < 2 && !err; i++) {
		const char *argv[] = { "EXPIREAT", key, exp, i ? "GT" : "NX" };
		size_t lens[] = { 8, klen, strlen(exp), 2 };

		err = cmd(r, 4, argv, lens);
	}
	return err ? err : publish(r, msg, mlen);
}

static int append_del(struct loc_redis *r, const struct loc_op *op)
{
	size_t klen = r->rc->keyp_len + op->aor.len, mlen;
	bool one = op->kind == LOC_OP_DEL;
	char *key, *msg;
	int err;

	if (reserve(r, klen + LOC_REDIS_HDR_LEN + 2 * 22 + op->aor.len + op->contact.len))
		return -ENOMEM;
	key = r->buf;
	make_key(r, key, op->aor);
	msg = key + klen;
	mlen = loc_redis_hdr_enc(msg, r->rc->origin, one ? 'D' : 'A');
	mlen += loc_redis_str_enc(msg + mlen, op->aor);
	if (one) {
		const char *argv[] = { "HDEL", key, op->contact.s };
		size_t lens[] = { 4, klen, op->contact.len };

		msg[mlen++] = ' ';
		mlen += loc_redis_str_enc(msg + mlen, op->contact);
		err = cmd(r, 3, argv, lens);
	} else {
		const char *argv[] = { "DEL", key };
		size_t lens[] = { 3, klen };

		err = cmd(r, 2, argv, lens);
	}
	return err ? err : publish(r, msg, mlen);
}

static int append_purge(struct loc_redis *r, const struct loc_op *op)
{
	char now[24];
	const char *argv[] = { "EVAL", purge_lua, "0", r->rc->pattern, r->cursor, now,
			       PURGE_SCANS };

	snprintf(now, sizeof(now), "%" PRId64, (int64_t)op->now);
	return cmd(r, 7, argv, NULL);
}

/* Queue op's commands; -ENOMEM fails op alone (it queued nothing). */
static int append_op(struct loc_redis *r, struct loc_op *op)
{
	int err = -EINVAL;

	switch (op->kind) {
	case LOC_OP_SAVE:
		err = append_save(r, op);
		break;
	case LOC_OP_DEL:
	case LOC_OP_DEL_AOR:
		err = append_del(r, op);
		break;
	case LOC_OP_EXPIRE:
		err = append_purge(r, op);
		break;
	}
	if (err == -ENOMEM || err == -EINVAL) {
		op->err = err;
		err = 0;
	}
	return err;
}

static void purge_done(struct loc_redis *r, const redisReply *x)
{
	if (x->type == REDIS_REPLY_ARRAY && x->elements == 2 &&
	    x->element[0]->type == REDIS_REPLY_STRING &&
	    x->element[0]->len < sizeof(r->cursor)) {
		memcpy(r->cursor, x->element[0]->str, x->element[0]->len);
		r->cursor[x->element[0]->len] = '\0';
		if (x->element[1]->type == REDIS_REPLY_INTEGER && x->element[1]->integer)
			log_debug("loc", "redis: purged %lld expired bindings",
				  x->element[1]->integer);
	}
}

/* EXEC's answer: one reply per queued command, in op order. */
static int exec_done(struct loc_redis *r, struct loc_op *ops, const redisReply *x, size_t ncmd)
{
	size_t k = 0;

	if (x->type != REDIS_REPLY_ARRAY || x->elements != ncmd) {
		log_err("loc", "redis %s: transaction failed: %s", r->rc->name,
			x->type == REDIS_REPLY_ERROR ? x->str : "unexpected reply");
		return -EIO;
	}
	for (struct loc_op *op = ops; op; op = op->next) {
		size_t n = op_cmds(op);

		for (size_t i = 0; i < n; i++, k++) {
			const redisReply *e = x->element[k];

			if (e->type == REDIS_REPLY_ERROR) {
				if (!op->err)
					log_err("loc", "redis %s: %.*s", r->rc->name, (int)e->len,
						e->str);
				op->err = -EIO;
			} else if (op->kind == LOC_OP_EXPIRE) {
				purge_done(r, e);
			}
		}
	}
	return 0;
}

/* Read the replies of MULTI, each queued command and EXEC. */
static int read_replies(struct loc_redis *r, struct loc_op *ops, size_t ncmd)
{
	redisReply *x = NULL;
	int err = 0;

	for (size_t i = 0; i < ncmd + 2; i++) {
		if (redisGetReply(r->c, (void **)&x) != REDIS_OK)
			return -EIO; /* the context keeps the error: reconnect next time */
		if (i == ncmd + 1)
			err = exec_done(r, ops, x, ncmd);
		else if (x->type == REDIS_REPLY_ERROR && !err)
			/* a command refused while queueing: EXEC refuses the lot */
			log_err("loc", "redis %s: %.*s", r->rc->name, (int)x->len, x->str);
		else if (x->type != REDIS_REPLY_STATUS)
			err = -EPROTO;
		freeReplyObject(x);
		if (err == -EPROTO)
			break;
	}
	if (err == -EPROTO) { /* out of step with the server: start afresh */
		log_err("loc", "redis %s: unexpected reply; reconnecting", r->rc->name);
		redisFree(r->c);
		r->c = NULL;
		err = -EIO;
	}
	return err;
}

static int redis_apply(struct loc_store *st, struct loc_op *ops)
{
	struct loc_redis *r = (struct loc_redis *)st;
	const char *multi = "MULTI", *exec = "EXEC";
	size_t ncmd = 0;
	int err;

	err = ensure_conn(r);
	if (err)
		return err;
	err = cmd(r, 1, &multi, NULL);
	for (struct loc_op *op = ops; op && !err; op = op->next) {
		err = append_op(r, op);
		ncmd += op_cmds(op);
	}
	if (!err)
		err = cmd(r, 1, &exec, NULL);
	if (!err)
		err = read_replies(r, ops, ncmd);
	if (err && r->c && !r->c->err) { /* the pipeline is half-built: drop it */
		redisFree(r->c);
		r->c = NULL;
	}
	return err;
}

static void redis_close(struct loc_store *st)
{
	struct loc_redis *r = (struct loc_redis *)st;

	if (r->c)
		redisFree(r->c);
	mem_free(r->buf);
	mem_free(r);
}

int loc_redis_store_new(struct loc_store **out, const struct loc_redis_cfg *rc)
{
	struct loc_redis *r = mem_zalloc(sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->buf = mem_alloc(BUF_INIT);
	if (!r->buf) {
		mem_free(r);
		return -ENOMEM;
	}
	r->cap = BUF_INIT;
	strcpy(r->cursor, "0");
	r->rc = rc;
	r->store.apply = redis_apply;
	r->store.close = redis_close;
	*out = &r->store;
	return 0;
}
