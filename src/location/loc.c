/* The location service API: index changes under the AoR's stripe lock, then
 * the same change queued for the writer while still holding that lock, so
 * the store (database or Redis) sees changes to one AoR in the order the
 * index did. */
#include "location/loc_int.h"
#include "location/redis_int.h"

#include "base/log.h"
#include "base/loop.h"
#include "base/mem.h"

#include <errno.h>
#include <stdlib.h>

struct loc {
	struct loc_index idx;
	struct loc_writer w;
	struct loc_queue q; /* completions of changes made without a queue */
	struct loc_store *store; /* NULL: memory */
	struct loc_redis_cfg *rcfg; /* redis */
	struct loc_sub *sub;     /* redis */
	struct loop *loop;
	struct loop_timer purge;
	unsigned purge_ms;
	double rebuild_s;
	/* loc_aor_lock(): one mutex per index stripe, apart from the stripe's
	 * rwlock so that lookups and saves can run inside */
	pthread_mutex_t aor_locks[LOC_STRIPES];
};

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_fd(int fd, unsigned events, void *arg)
{
	(void)fd, (void)events;
	loc_poll(arg);
}

static void on_purge(void *arg)
{
	struct loc *l = arg;

	loc_expire(l, time(NULL));
	if (loop_timer_add(l->loop, &l->purge, l->purge_ms, on_purge, l))
		log_err("loc", "cannot re-arm the purge timer");
}

static const char *const backend_names[] = {
	[LOC_MEMORY] = "memory",
	[LOC_SQLITE] = "sqlite",
	[LOC_REDIS] = "redis",
};

int loc_backend_parse(const char *name, enum loc_backend *out)
{
	for (size_t i = 0; name && i < sizeof(backend_names) / sizeof(backend_names[0]); i++) {
		if (!strcmp(name, backend_names[i])) {
			*out = (enum loc_backend)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *loc_backend_name(enum loc_backend b)
{
	if ((unsigned)b >= sizeof(backend_names) / sizeof(backend_names[0]))
		return "?";
	return backend_names[b];
}

/* The store the writer will own (NULL for memory); sqlite loads the index
 * here, redis once the writer runs (loc_sub_start). */
static int open_store(struct loc *l, const struct loc_cfg *cfg)
{
	struct loc_db *db;
	double t0 = mono_s();
	int rc;

	switch (cfg->backend) {
	case LOC_MEMORY:
		return 0;
	case LOC_SQLITE:
		rc = loc_db_open(&db, cfg->db_path);
		if (rc)
			return rc;
		l->store = loc_db_store(db);
		rc = loc_db_load(db, &l->idx, time(NULL));
		if (rc)
			return rc;
		l->rebuild_s = mono_s() - t0;
		log_info("loc", "%s: %zu bindings loaded in %.3f s", cfg->db_path,
			 loc_count(l), l->rebuild_s);
		return 0;
	case LOC_REDIS:
		rc = loc_redis_cfg_new(&l->rcfg, cfg);
		return rc ? rc : loc_redis_store_new(&l->store, l->rcfg);
	}
	return -EINVAL;
}

int loc_create(struct loc **out, const struct loc_cfg *cfg)
{
	struct loc *l;
	int rc;

	if ((unsigned)cfg->backend > LOC_REDIS)
		return -EINVAL;
	l = mem_zalloc(sizeof(*l));
	if (!l)
		return -ENOMEM;
	for (int i = 0; i < LOC_STRIPES; i++)
		pthread_mutex_init(&l->aor_locks[i], NULL);
	rc = loc_index_init(&l->idx);
	if (rc)
		goto err_free;
	rc = open_store(l, cfg);
	if (rc)
		goto err_db;
	rc = loc_queue_init(&l->q);
	if (rc)
		goto err_db;
	/* the store passes to the writer thread from here on */
	rc = loc_writer_init(&l->w, l->store);
	if (rc) {
		loc_queue_fini(&l->q);
		goto err_db;
	}
	/* after the writer: the load reads how far it got */
	if (l->rcfg) {
		rc = loc_sub_start(&l->sub, l->rcfg, &l->idx, &l->w, &l->rebuild_s);
		if (rc)
			goto err_writer;
	}
	if (cfg->loop) {
		l->loop = cfg->loop;
		l->purge_ms = (cfg->expire_interval_s ? cfg->expire_interval_s : 10) * 1000u;
		rc = loop_fd_add(l->loop, l->q.efd, LOOP_READ, on_fd, l);
		if (rc)
			goto err_writer;
		rc = loop_timer_add(l->loop, &l->purge, l->purge_ms, on_purge, l);
		if (rc) {
			loop_fd_del(l->loop, l->q.efd);
			goto err_writer;
		}
	}
	*out = l;
	return 0;

err_writer:
	loc_sub_stop(l->sub);
	loc_writer_fini(&l->w);
	loc_writer_close(&l->w);
	loc_queue_fini(&l->q);
err_db:
	loc_store_close(l->store);
	loc_redis_cfg_free(l->rcfg);
	loc_index_fini(&l->idx);
err_free:
	for (int i = 0; i < LOC_STRIPES; i++)
		pthread_mutex_destroy(&l->aor_locks[i]);
	mem_free(l);
	return rc;
}

void loc_destroy(struct loc *l)
{
	if (!l)
		return;
	if (l->loop) {
		loop_timer_cancel(l->loop, &l->purge);
		loop_fd_del(l->loop, l->q.efd);
	}
	loc_sub_stop(l->sub); /* no other server's changes from here on */
	loc_writer_fini(&l->w);
	loc_queue_drain(&l->q);
	loc_writer_close(&l->w);
	loc_queue_fini(&l->q);
	loc_store_close(l->store);
	loc_redis_cfg_free(l->rcfg);
	loc_index_fini(&l->idx);
	for (int i = 0; i < LOC_STRIPES; i++)
		pthread_mutex_destroy(&l->aor_locks[i]);
	mem_free(l);
}

void loc_aor_lock(struct loc *l, struct str aor)
{
	pthread_mutex_lock(&l->aor_locks[loc_hash(aor) & (LOC_STRIPES - 1)]);
}

void loc_aor_unlock(struct loc *l, struct str aor)
{
	pthread_mutex_unlock(&l->aor_locks[loc_hash(aor) & (LOC_STRIPES - 1)]);
}

int loc_fd(const struct loc *l)
{
	return l->q.efd;
}

int loc_poll(struct loc *l)
{
	return loc_queue_poll(&l->q);
}

/* The memory backend skips the op when nobody waits for it. */
static bool need_op(const struct loc *l, loc_done_cb cb)
{
	return l->store || cb;
}

/* A change for the writer; its callback will run from q (NULL: none). */
static struct loc_op *op_new(enum loc_op_kind kind, struct str aor, struct str contact,
			     struct loc_queue *q, loc_done_cb cb, void *arg)
{
	struct loc_op *op = mem_zalloc(sizeof(*op) + aor.len + contact.len + 2);
	char *p;

	if (!op)
		return NULL;
	op->kind = kind;
	op->cb = cb;
	op->arg = arg;
	op->q = q;
	p = op->data;
	if (aor.len)
		memcpy(p, aor.s, aor.len);
	op->aor = str_make(p, aor.len);
	p += aor.len + 1;
	if (contact.len)
		memcpy(p, contact.s, contact.len);
	op->contact = str_make(p, contact.len);
	return op;
}

/* Counted in q once the change cannot fail any more. Under the stripe lock
 * of the op's AoR (s, h; none for a purge): the index remembers which local
 * change touched it last (loc_index_sync). */
static void push(struct loc *l, struct loc_op *op, struct loc_stripe *s, uint64_t h,
		 struct str aor)
{
	uint64_t seq;

	if (op->q)
		loc_queue_begin(op->q);
	seq = loc_writer_push(&l->w, op);
	if (s && seq)
		loc_index_touch(s, h, aor, seq);
}

int loc_save(struct loc *l, const struct loc_binding *b, loc_done_cb cb, void *arg)
{
	return loc_save_q(l, NULL, b, cb, arg);
}

int loc_save_q(struct loc *l, struct loc_queue *q, const struct loc_binding *b, loc_done_cb cb,
	       void *arg)
{
	struct loc_op *op = NULL;
	struct loc_rec *r, *old;
	struct loc_stripe *s;
	uint64_t h;
	int rc;

	if (str_empty(b->aor) || str_empty(b->contact) || b->q > 1000)
		return -EINVAL;
	r = loc_rec_new(b);
	if (!r)
		return -ENOMEM;
	if (need_op(l, cb)) {
		op = op_new(LOC_OP_SAVE, STR_NULL, STR_NULL, q ? q : &l->q, cb, arg);
		if (!op) {
			loc_rec_put(r);
			return -ENOMEM;
		}
		loc_rec_get(r);
		op->rec = r;
	}
	h = loc_hash(r->b.aor);
	s = loc_index_stripe(&l->idx, h);
	pthread_rwlock_wrlock(&s->lock);
	rc = loc_index_put(&l->idx, s, h, r, &old);
	if (!rc && op) {
		op->old = old; /* the writer deletes its row if the contact changed */
		old = NULL;
		push(l, op, s, h, r->b.aor);
	}
	pthread_rwlock_unlock(&s->lock);
	if (rc) {
		loc_rec_put(r);
		if (op)
			loc_op_free(op);
		return rc;
	}
	loc_rec_put(old);
	return 0;
}

static int remove_common(struct loc *l, struct loc_queue *q, struct str aor,
			 const struct str *contact, loc_done_cb cb, void *arg)
{
	struct loc_op *op = NULL;
	struct loc_stripe *s;
	uint64_t h;

	if (str_empty(aor) || (contact && str_empty(*contact)))
		return -EINVAL;
	if (need_op(l, cb)) {
		op = op_new(contact ? LOC_OP_DEL : LOC_OP_DEL_AOR, aor,
			    contact ? *contact : STR_NULL, q ? q : &l->q, cb, arg);
		if (!op)
			return -ENOMEM;
	}
	h = loc_hash(aor);
	s = loc_index_stripe(&l->idx, h);
	pthread_rwlock_wrlock(&s->lock);
	loc_index_del(&l->idx, s, h, aor, contact);
	if (op)
		push(l, op, s, h, aor);
	pthread_rwlock_unlock(&s->lock);
	return 0;
}

int loc_remove(struct loc *l, struct str aor, struct str contact, loc_done_cb cb, void *arg)
{
	return remove_common(l, NULL, aor, &contact, cb, arg);
}

int loc_remove_all(struct loc *l, struct str aor, loc_done_cb cb, void *arg)
{
	return remove_common(l, NULL, aor, NULL, cb, arg);
}

int loc_remove_q(struct loc *l, struct loc_queue *q, struct str aor, struct str contact,
		 loc_done_cb cb, void *arg)
{
	return remove_common(l, q, aor, &contact, cb, arg);
}

int loc_remove_all_q(struct loc *l, struct loc_queue *q, struct str aor, loc_done_cb cb,
		     void *arg)
{
	return remove_common(l, q, aor, NULL, cb, arg);
}

/* q descending, then the most recently updated first (RFC 3261 §16.6 tries
 * higher q first; among equals the freshest registration is likeliest live). */
static int by_q(const void *pa, const void *pb)
{
	const struct loc_binding *a = pa, *b = pb;

	if (a->q != b->q)
		return a->q > b->q ? -1 : 1;
	if (a->updated != b->updated)
		return a->updated > b->updated ? -1 : 1;
	return 0;
}

size_t loc_lookup(struct loc *l, struct str aor, struct loc_binding *out, size_t max, time_t now)
{
	uint64_t h = loc_hash(aor);
	struct loc_stripe *s = loc_index_stripe(&l->idx, h);
	struct loc_aor *a;
	size_t n = 0;

	if (!max)
		return 0;
	pthread_rwlock_rdlock(&s->lock);
	a = loc_index_find(s, h, aor);
	for (uint32_t i = 0; a && i < a->n; i++) {
		struct loc_rec *r = a->recs[i];

		if (r->b.expires <= now)
			continue;
		if (n == max) {
			/* keep the best max: replace the worst if r beats it */
			size_t worst = 0;

			for (size_t j = 1; j < n; j++)
				if (by_q(&out[j], &out[worst]) > 0)
					worst = j;
			if (by_q(&r->b, &out[worst]) >= 0)
				continue;
			loc_rec_put(out[worst].ref_);
			loc_rec_get(r);
			out[worst] = r->b;
			continue;
		}
		loc_rec_get(r);
		out[n++] = r->b;
	}
	pthread_rwlock_unlock(&s->lock);
	qsort(out, n, sizeof(*out), by_q);
	return n;
}

void loc_release(struct loc_binding *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		loc_rec_put(b[i].ref_);
		b[i].ref_ = NULL;
	}
}

size_t loc_count(struct loc *l)
{
	return atomic_load(&l->idx.count);
}

size_t loc_expire(struct loc *l, time_t now)
{
	size_t n = loc_index_expire(&l->idx, now);

	/* the store keeps its own copy: purge it even if the index had
	 * nothing (rows left by an earlier failure, or by another server); a
	 * failed allocation just leaves the rows for the next round (loading
	 * skips expired rows) */
	if (l->store) {
		struct loc_op *op = op_new(LOC_OP_EXPIRE, STR_NULL, STR_NULL, NULL, NULL, NULL);

		if (op) {
			op->now = now;
			push(l, op, NULL, 0, STR_NULL);
		}
	}
	return n;
}

int loc_foreach(struct loc *l, int (*fn)(const struct loc_binding *b, void *arg), void *arg)
{
	for (int i = 0; i < LOC_STRIPES; i++) {
		struct loc_stripe *s = &l->idx.stripes[i];
		int rc = 0;

		pthread_rwlock_rdlock(&s->lock);
		for (size_t k = 0; k < s->nbuckets && !rc; k++)
			for (struct loc_aor *a = s->buckets[k]; a && !rc; a = a->next)
				for (uint32_t j = 0; j < a->n && !rc; j++)
					rc = fn(&a->recs[j]->b, arg);
		pthread_rwlock_unlock(&s->lock);
		if (rc)
			return rc;
	}
	return 0;
}

void loc_get_stats(struct loc *l, struct loc_stats *st)
{
	st->bindings = loc_count(l);
	pthread_mutex_lock(&l->w.lock);
	st->commits = l->w.commits;
	st->ops = l->w.ops;
	st->max_batch = l->w.max_batch;
	st->failures = l->w.failures;
	st->last_err = l->w.last_err;
	st->pending = l->w.seq - atomic_load_explicit(&l->w.done_seq, memory_order_acquire);
	pthread_mutex_unlock(&l->w.lock);
	st->rebuild_s = l->rebuild_s;
}
