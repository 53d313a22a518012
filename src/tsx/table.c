/* Striped-lock hash table of transactions (DESIGN.md "Transactions and
 * concurrency"). Chains are intrusive (struct tsx carries its links), so
 * insert and remove never allocate. */
#include "tsx/table.h"

#include "base/mem.h"
#include "tsx/tsx_priv.h"

#include <errno.h>

/* One cache line per stripe so two workers' locks do not share one. */
struct tsx_stripe {
	pthread_mutex_t lock;
	size_t count;
	char pad[64 - (sizeof(pthread_mutex_t) + sizeof(size_t)) % 64];
};

struct tsx_table {
	unsigned nbuckets, nstripes;
	struct tsx_stripe *stripes;
	struct tsx **buckets;
};

static bool pow2(unsigned n)
{
	return n && (n & (n - 1)) == 0;
}

int tsx_table_create(struct tsx_table **out, unsigned buckets, unsigned stripes)
{
	struct tsx_table *tb;
	unsigned i;

	buckets = buckets ? buckets : TSX_TABLE_BUCKETS_DEFAULT;
	stripes = stripes ? stripes : TSX_TABLE_STRIPES_DEFAULT;
	if (!pow2(buckets) || !pow2(stripes) || stripes > buckets)
		return -EINVAL;
	tb = mem_zalloc(sizeof(*tb) + stripes * sizeof(struct tsx_stripe) +
			buckets * sizeof(struct tsx *));
	if (!tb)
		return -ENOMEM;
	tb->nbuckets = buckets;
	tb->nstripes = stripes;
	tb->stripes = (struct tsx_stripe *)(tb + 1);
	tb->buckets = (struct tsx **)(tb->stripes + stripes);
	for (i = 0; i < stripes; i++) {
		if (pthread_mutex_init(&tb->stripes[i].lock, NULL) != 0) {
			while (i--)
				pthread_mutex_destroy(&tb->stripes[i].lock);
			mem_free(tb);
			return -ENOMEM;
		}
	}
	*out = tb;
	return 0;
}

void tsx_table_destroy(struct tsx_table *tb)
{
	if (!tb)
		return;
	for (unsigned b = 0; b < tb->nbuckets; b++) {
		struct tsx *t = tb->buckets[b];

		while (t) {
			struct tsx *next = t->hnext;

			t->in_table = false;
			t->table = NULL;
			t->hnext = NULL;
			t->hpprev = NULL;
			tsx_unref(t);
			t = next;
		}
	}
	for (unsigned i = 0; i < tb->nstripes; i++)
		pthread_mutex_destroy(&tb->stripes[i].lock);
	mem_free(tb);
}

static struct tsx_stripe *stripe_of(struct tsx_table *tb, uint32_t hash)
{
	return &tb->stripes[hash & (tb->nbuckets - 1) & (tb->nstripes - 1)];
}

/* An ACK may only match an INVITE server transaction that sent a non-2xx
 * final and has not terminated (§17.2.3 with RFC 6026 §8.7). */
static bool matches(const struct tsx *t, const struct tsx_key *k)
{
	enum tsx_state s = tsx_state(t);
	bool ack_ok = t->kind == TSX_SERVER_INVITE && (s == TSX_COMPLETED || s == TSX_CONFIRMED);
	/* resp_to_tag is written before the state turns Completed (release) */
	struct str tag = ack_ok && k->is_ack && !k->rfc3261 ? t->resp_to_tag : STR_NULL;

	return s != TSX_TERMINATED && tsx_key_match(&t->key, k, tag, ack_ok);
}

int tsx_table_insert(struct tsx_table *tb, struct tsx *t)
{
	uint32_t b = t->key.hash & (tb->nbuckets - 1);
	struct tsx_stripe *st = stripe_of(tb, t->key.hash);
	int rc = 0;

	pthread_mutex_lock(&st->lock);
	if (t->in_table) {
		rc = -EBUSY;
		goto out;
	}
	for (struct tsx *o = tb->buckets[b]; o; o = o->hnext) {
		if (tsx_key_match(&o->key, &t->key, STR_NULL, false) &&
		    tsx_state(o) != TSX_TERMINATED) {
			rc = -EEXIST;
			goto out;
		}
	}
	t->hnext = tb->buckets[b];
	if (t->hnext)
		t->hnext->hpprev = &t->hnext;
	t->hpprev = &tb->buckets[b];
	tb->buckets[b] = t;
	t->table = tb;
	t->in_table = true;
	st->count++;
	tsx_ref(t);
out:
	pthread_mutex_unlock(&st->lock);
	return rc;
}

int tsx_table_remove(struct tsx_table *tb, struct tsx *t)
{
	struct tsx_stripe *st = stripe_of(tb, t->key.hash);

	pthread_mutex_lock(&st->lock);
	if (!t->in_table || t->table != tb) {
		pthread_mutex_unlock(&st->lock);
		return -ENOENT;
	}
	*t->hpprev = t->hnext;
	if (t->hnext)
		t->hnext->hpprev = t->hpprev;
	t->hnext = NULL;
	t->hpprev = NULL;
	t->in_table = false;
	t->table = NULL;
	st->count--;
	pthread_mutex_unlock(&st->lock);
	tsx_unref(t);
	return 0;
}

void tsx_table_unlink(struct tsx *t)
{
	if (t->table)
		tsx_table_remove(t->table, t);
}

struct tsx *tsx_table_find(struct tsx_table *tb, const struct tsx_key *k)
{
	struct tsx_stripe *st = stripe_of(tb, k->hash);
	struct tsx *t;

	pthread_mutex_lock(&st->lock);
	for (t = tb->buckets[k->hash & (tb->nbuckets - 1)]; t; t = t->hnext) {
		if (matches(t, k)) {
			tsx_ref(t);
			break;
		}
	}
	pthread_mutex_unlock(&st->lock);
	return t;
}

struct tsx *tsx_table_match_request(struct tsx_table *tb, const struct sip_msg *req)
{
	struct tsx_key k;

	return tsx_key_request(&k, req) == 0 ? tsx_table_find(tb, &k) : NULL;
}

struct tsx *tsx_table_match_response(struct tsx_table *tb, const struct sip_msg *resp)
{
	struct tsx_key k;

	return tsx_key_response(&k, resp) == 0 ? tsx_table_find(tb, &k) : NULL;
}

struct tsx *tsx_table_find_cancelled(struct tsx_table *tb, const struct sip_msg *cancel)
{
	struct tsx_key k;

	return tsx_key_cancelled(&k, cancel) == 0 ? tsx_table_find(tb, &k) : NULL;
}

size_t tsx_table_count(struct tsx_table *tb)
{
	size_t n = 0;

	for (unsigned i = 0; i < tb->nstripes; i++) {
		pthread_mutex_lock(&tb->stripes[i].lock);
		n += tb->stripes[i].count;
		pthread_mutex_unlock(&tb->stripes[i].lock);
	}
	return n;
}
