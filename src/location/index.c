/* The in-memory index: AoR -> its bindings, hashed into LOC_STRIPES stripes,
 * each with its own rwlock and bucket array. */
#include "location/loc_int.h"

#include "base/mem.h"

#include <errno.h>

#define INIT_BUCKETS 16

uint64_t loc_hash(struct str s)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */

	for (size_t i = 0; i < s.len; i++) {
		h ^= (unsigned char)s.s[i];
		h *= 0x100000001b3ull;
	}
	return h ^ (h >> 29);
}

int loc_index_init(struct loc_index *x)
{
	atomic_init(&x->count, 0);
	for (int i = 0; i < LOC_STRIPES; i++) {
		struct loc_stripe *s = &x->stripes[i];

		s->buckets = mem_zalloc(INIT_BUCKETS * sizeof(*s->buckets));
		if (!s->buckets) {
			while (i--) {
				pthread_rwlock_destroy(&x->stripes[i].lock);
				mem_free(x->stripes[i].buckets);
			}
			return -ENOMEM;
		}
		s->nbuckets = INIT_BUCKETS;
		s->nodes = 0;
		s->dseq = 0;
		pthread_rwlock_init(&s->lock, NULL);
	}
	return 0;
}

static void node_free(struct loc_index *x, struct loc_aor *a)
{
	for (uint32_t i = 0; i < a->n; i++)
		loc_rec_put(a->recs[i]);
	atomic_fetch_sub(&x->count, a->n);
	mem_free(a->recs);
	mem_free(a);
}

void loc_index_fini(struct loc_index *x)
{
	for (int i = 0; i < LOC_STRIPES; i++) {
		struct loc_stripe *s = &x->stripes[i];

		for (size_t b = 0; b < s->nbuckets; b++) {
			struct loc_aor *a = s->buckets[b], *next;

			for (; a; a = next) {
				next = a->next;
				node_free(x, a);
			}
		}
		mem_free(s->buckets);
		pthread_rwlock_destroy(&s->lock);
	}
}

static struct loc_aor **slot(struct loc_stripe *s, uint64_t h)
{
	return &s->buckets[(h >> 6) & (s->nbuckets - 1)];
}

struct loc_aor *loc_index_find(struct loc_stripe *s, uint64_t h, struct str aor)
{
	for (struct loc_aor *a = *slot(s, h); a; a = a->next)
		if (a->hash == h && str_eq(a->recs[0]->b.aor, aor))
			return a;
	return NULL;
}

/* Double the buckets when the chains get long; on -ENOMEM keep the chains. */
static void grow(struct loc_stripe *s)
{
	size_t n = s->nbuckets * 2;
	struct loc_aor **nb = mem_zalloc(n * sizeof(*nb));

	if (!nb)
		return;
	for (size_t b = 0; b < s->nbuckets; b++) {
		struct loc_aor *a = s->buckets[b], *next;

		for (; a; a = next) {
			struct loc_aor **d = &nb[(a->hash >> 6) & (n - 1)];

			next = a->next;
			a->next = *d;
			*d = a;
		}
	}
	mem_free(s->buckets);
	s->buckets = nb;
	s->nbuckets = n;
}

/* Same binding: same contact (RFC 3261 §10.3 step 7), or same instance and
 * reg-id (RFC 5626 §6: the new flow replaces the old one). */
static bool same_binding(const struct loc_binding *a, const struct loc_binding *b)
{
	if (str_eq(a->contact, b->contact))
		return true;
	return a->reg_id && a->reg_id == b->reg_id && !str_empty(a->instance) &&
	       str_eq(a->instance, b->instance);
}

int loc_index_put(struct loc_index *x, struct loc_stripe *s, uint64_t h, struct loc_rec *r,
		  struct loc_rec **old)
{
	struct loc_aor *a = loc_index_find(s, h, r->b.aor);

	*old = NULL;
	if (!a) {
		a = mem_alloc(sizeof(*a));
		if (!a)
			return -ENOMEM;
		a->recs = mem_alloc(sizeof(*a->recs));
		if (!a->recs) {
			mem_free(a);
			return -ENOMEM;
		}
		a->hash = h;
		a->lseq = 0;
		a->gen = 0;
		a->n = 1;
		a->cap = 1;
		a->recs[0] = r;
		a->next = *slot(s, h);
		*slot(s, h) = a;
		if (++s->nodes > s->nbuckets * 2)
			grow(s);
		atomic_fetch_add(&x->count, 1);
		return 0;
	}
	for (uint32_t i = 0; i < a->n; i++) {
		if (same_binding(&a->recs[i]->b, &r->b)) {
			*old = a->recs[i];
			a->recs[i] = r;
			return 0;
		}
	}
	if (a->n == a->cap) {
		struct loc_rec **nr = mem_realloc(a->recs, a->cap * 2 * sizeof(*nr));

		if (!nr)
			return -ENOMEM;
		a->recs = nr;
		a->cap *= 2;
	}
	a->recs[a->n++] = r;
	atomic_fetch_add(&x->count, 1);
	return 0;
}

static void unlink_node(struct loc_stripe *s, struct loc_aor *a)
{
	struct loc_aor **pp = slot(s, a->hash);

	while (*pp != a)
		pp = &(*pp)->next;
	*pp = a->next;
	s->nodes--;
}

/* Keep the records keep() accepts; returns how many were dropped. */
static size_t filter(struct loc_index *x, struct loc_stripe *s, struct loc_aor *a,
		     const struct str *contact, time_t now)
{
	uint32_t j = 0;
	size_t dropped;

	for (uint32_t i = 0; i < a->n; i++) {
		struct loc_rec *r = a->recs[i];
		bool drop = contact ? str_eq(r->b.contact, *contact) : r->b.expires <= now;

		if (drop)
			loc_rec_put(r);
		else
			a->recs[j++] = r;
	}
	dropped = a->n - j;
	a->n = j;
	atomic_fetch_sub(&x->count, dropped);
	if (!j) {
		unlink_node(s, a);
		node_free(x, a);
	}
	return dropped;
}

size_t loc_index_del(struct loc_index *x, struct loc_stripe *s, uint64_t h, struct str aor,
		     const struct str *contact)
{
	struct loc_aor *a = loc_index_find(s, h, aor);
	size_t n;

	if (!a)
		return 0;
	if (contact)
		return filter(x, s, a, contact, 0);
	n = a->n;
	unlink_node(s, a);
	node_free(x, a);
	return n;
}

size_t loc_index_expire(struct loc_index *x, time_t now)
{
	size_t n = 0;

	for (int i = 0; i < LOC_STRIPES; i++) {
		struct loc_stripe *s = &x->stripes[i];

		pthread_rwlock_wrlock(&s->lock);
		for (size_t b = 0; b < s->nbuckets; b++) {
			struct loc_aor *a = s->buckets[b], *next;

			for (; a; a = next) {
				next = a->next;
				n += filter(x, s, a, NULL, now);
			}
		}
		pthread_rwlock_unlock(&s->lock);
	}
	return n;
}

void loc_index_touch(struct loc_stripe *s, uint64_t h, struct str aor, uint64_t seq)
{
	struct loc_aor *a = loc_index_find(s, h, aor);

	if (a)
		a->lseq = seq;
	else
		s->dseq = seq; /* the node is gone: remember it per stripe */
}

int loc_index_sync(struct loc_index *x, struct str aor, struct loc_rec **recs, size_t n,
		   bool replace, uint64_t done, uint64_t gen)
{
	uint64_t h = loc_hash(aor);
	struct loc_stripe *s = loc_index_stripe(x, h);
	struct loc_aor *a;
	size_t i = 0;
	int rc = 0;

	pthread_rwlock_wrlock(&s->lock);
	a = loc_index_find(s, h, aor);
	/* a local change the store had not seen yet is newer than what was
	 * read: keep it (it is on its way there) */
	if (a ? a->lseq > done : s->dseq > done)
		goto out;
	if (a && replace)
		loc_index_del(x, s, h, aor, NULL);
	for (; i < n; i++) {
		struct loc_rec *old;

		rc = loc_index_put(x, s, h, recs[i], &old);
		if (rc)
			break;
		loc_rec_put(old); /* two fields for one instance + reg-id: keep the last */
	}
	a = loc_index_find(s, h, aor);
	if (a)
		a->gen = gen;
out:
	pthread_rwlock_unlock(&s->lock);
	for (; i < n; i++)
		loc_rec_put(recs[i]);
	return rc;
}

size_t loc_index_sweep(struct loc_index *x, uint64_t gen, uint64_t done)
{
	size_t n = 0;

	for (int i = 0; i < LOC_STRIPES; i++) {
		struct loc_stripe *s = &x->stripes[i];

		pthread_rwlock_wrlock(&s->lock);
		for (size_t b = 0; b < s->nbuckets; b++) {
			struct loc_aor *a = s->buckets[b], *next;

			for (; a; a = next) {
				next = a->next;
				if (a->gen == gen || a->lseq > done)
					continue;
				n += a->n;
				unlink_node(s, a);
				node_free(x, a);
			}
		}
		pthread_rwlock_unlock(&s->lock);
	}
	return n;
}
