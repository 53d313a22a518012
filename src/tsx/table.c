/* Striped-lock hash table of transactions (DESIGN.md "Transactions and
 * concurrency"). Chains are intrusive (struct tsx carries its links), so
 * insert and remove never allocate. */
#include "tsx/table.h"

#include "base/mem.h"
#include "tsx/tsx_priv.h"

#include <errno.h>

/* Each stripe owns its own bucket array, so it can grow under its own lock
 * while the other stripes go on: no stop-the-world rehash. A stripe holds
 * the transactions whose hash has its number in the low bits; the bucket
 * within the stripe comes from the bits above them. One cache line per
 * stripe, so two workers' locks do not share one. */
struct tsx_stripe {
	pthread_mutex_t lock;
	size_t count;
	unsigned nbuckets; /* a power of two */
	struct tsx **buckets;
	char pad[64 - (sizeof(pthread_mutex_t) + sizeof(size_t) + sizeof(unsigned) +
		       sizeof(void *)) % 64];
};

struct tsx_table {
	unsigned nstripes, shift; /* shift = log2(nstripes) */
	struct tsx_stripe *stripes;
};

/* A stripe grows (x4) when it holds more than this many transactions per
 * bucket; at 5,000 proxied calls/s about 500,000 transactions are alive at
 * once (RFC 6026 keeps INVITE ones 32 s), far beyond any fixed table. */
#define TSX_TABLE_LOAD 2u
#define TSX_TABLE_STRIPE_BUCKETS_MAX (1u << 18)

static bool pow2(unsigned n)
{
	return n && (n & (n - 1)) == 0;
}

static unsigned log2u(unsigned n)
{
	unsigned r = 0;

	while (n >>= 1)
		r++;
	return r;
}

int tsx_table_create(struct tsx_table **out, unsigned buckets, unsigned stripes)
{
	struct tsx_table *tb;
	unsigned i, per;

	buckets = buckets ? buckets : TSX_TABLE_BUCKETS_DEFAULT;
	stripes = stripes ? stripes : TSX_TABLE_STRIPES_DEFAULT;
	if (!pow2(buckets) || !pow2(stripes) || stripes > buckets)
		return -EINVAL;
	per = buckets / stripes;
	tb = mem_zalloc(sizeof(*tb) + stripes * sizeof(struct tsx_stripe));
	if (!tb)
		return -ENOMEM;
	tb->nstripes = stripes;
	tb->shift = log2u(stripes);
	tb->stripes = (struct tsx_stripe *)(tb + 1);
	for (i = 0; i < stripes; i++) {
		struct tsx_stripe *st = &tb->stripes[i];

		st->nbuckets = per;
		st->buckets = mem_zalloc(per * sizeof(struct tsx *));
		if (!st->buckets || pthread_mutex_init(&st->lock, NULL) != 0) {
			mem_free(st->buckets);
			while (i--) {
				pthread_mutex_destroy(&tb->stripes[i].lock);
				mem_free(tb->stripes[i].buckets);
			}
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
	for (unsigned i = 0; i < tb->nstripes; i++) {
		struct tsx_stripe *st = &tb->stripes[i];

		for (unsigned b = 0; b < st->nbuckets; b++) {
			struct tsx *t = st->buckets[b];

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
		pthread_mutex_destroy(&st->lock);
		mem_free(st->buckets);
	}
	mem_free(tb);
}

static struct tsx_stripe *stripe_of(struct tsx_table *tb, uint32_t hash)
{
	return &tb->stripes[hash & (tb->nstripes - 1)];
}

/* The chain of hash in st; st->lock held. */
static struct tsx **bucket_of(const struct tsx_table *tb, struct tsx_stripe *st, uint32_t hash)
{
	return &st->buckets[(hash >> tb->shift) & (st->nbuckets - 1)];
}

static void link_head(struct tsx **head, struct tsx *t)
{
	t->hnext = *head;
	if (t->hnext)
		t->hnext->hpprev = &t->hnext;
	t->hpprev = head;
	*head = t;
}

/* Rehash st into 4x the buckets; st->lock held. On allocation failure the
 * chains just stay longer. */
static void stripe_grow(const struct tsx_table *tb, struct tsx_stripe *st)
{
	unsigned n = st->nbuckets * 4, old = st->nbuckets;
	struct tsx **nb = mem_zalloc(n * sizeof(*nb)), **ob = st->buckets;

	if (!nb)
		return;
	st->buckets = nb;
	st->nbuckets = n;
	for (unsigned b = 0; b < old; b++) {
		struct tsx *t = ob[b];

		while (t) {
			struct tsx *next = t->hnext;

			link_head(bucket_of(tb, st, t->hash), t);
			t = next;
		}
	}
	mem_free(ob);
}

/* An ACK may only match an INVITE server transaction that sent a non-2xx
 * final and has not terminated (§17.2.3 with RFC 6026 §8.7). */
static bool matches(const struct tsx *t, const struct tsx_key *k)
{
	enum tsx_state s;
	bool ack_ok;
	struct str tag;

	if (t->hash != k->hash) /* the cheap test first, in the line the walk reads */
		return false;
	s = tsx_state(t);
	ack_ok = t->kind == TSX_SERVER_INVITE && (s == TSX_COMPLETED || s == TSX_CONFIRMED);
	/* resp_to_tag is written before the state turns Completed (release) */
	tag = ack_ok && k->is_ack && !k->rfc3261 ? t->resp_to_tag : STR_NULL;

	return s != TSX_TERMINATED && tsx_key_match(&t->key, k, tag, ack_ok);
}

int tsx_table_insert(struct tsx_table *tb, struct tsx *t)
{
	struct tsx_stripe *st = stripe_of(tb, t->hash);
	struct tsx **head;
	int rc = 0;

	pthread_mutex_lock(&st->lock);
	if (t->in_table) {
		rc = -EBUSY;
		goto out;
	}
	if (st->count >= (size_t)st->nbuckets * TSX_TABLE_LOAD &&
	    st->nbuckets < TSX_TABLE_STRIPE_BUCKETS_MAX)
		stripe_grow(tb, st);
	head = bucket_of(tb, st, t->hash);
	for (struct tsx *o = *head; o; o = o->hnext) {
		if (o->hash == t->hash && tsx_key_match(&o->key, &t->key, STR_NULL, false) &&
		    tsx_state(o) != TSX_TERMINATED) {
			rc = -EEXIST;
			goto out;
		}
	}
	link_head(head, t);
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
	struct tsx_stripe *st = stripe_of(tb, t->hash);

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
	for (t = *bucket_of(tb, st, k->hash); t; t = t->hnext) {
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
