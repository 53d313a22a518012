#include "dns/cache.h"

#include "base/mem.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

struct entry {
	struct entry *hnext;             /* hash chain */
	struct entry *prev, *next;       /* LRU list, most recent first */
	uint64_t expires;                /* ms */
	struct dns_rrset *set;
	uint32_t hash;
	uint16_t type;
	char name[];
};

struct dns_cache {
	size_t cap, n, nbuckets;
	struct entry **buckets;
	struct entry lru; /* sentinel */
};

static uint32_t name_hash(const char *name, uint16_t type)
{
	uint32_t h = 2166136261u ^ type; /* FNV-1a over the lower-cased name */

	for (const char *p = name; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c >= 'A' && c <= 'Z')
			c |= 0x20;
		h = (h ^ c) * 16777619u;
	}
	return h;
}

int dns_cache_create(struct dns_cache **out, size_t cap)
{
	struct dns_cache *c;
	size_t nb = 16;

	if (cap == 0 || cap > SIZE_MAX / 4)
		return -EINVAL;
	while (nb < cap)
		nb <<= 1;
	c = mem_zalloc(sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->buckets = mem_zalloc(nb * sizeof(c->buckets[0]));
	if (!c->buckets) {
		mem_free(c);
		return -ENOMEM;
	}
	c->cap = cap;
	c->nbuckets = nb;
	c->lru.prev = c->lru.next = &c->lru;
	*out = c;
	return 0;
}

static void unlink_free(struct dns_cache *c, struct entry *e)
{
	struct entry **pp = &c->buckets[e->hash & (c->nbuckets - 1)];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	e->prev->next = e->next;
	e->next->prev = e->prev;
	dns_rrset_unref(e->set);
	mem_free(e);
	c->n--;
}

void dns_cache_flush(struct dns_cache *c)
{
	while (c->lru.next != &c->lru)
		unlink_free(c, c->lru.next);
}

void dns_cache_destroy(struct dns_cache *c)
{
	if (!c)
		return;
	dns_cache_flush(c);
	mem_free(c->buckets);
	mem_free(c);
}

size_t dns_cache_count(const struct dns_cache *c)
{
	return c->n;
}

static struct entry *find(struct dns_cache *c, const char *name, uint16_t type, uint32_t h)
{
	for (struct entry *e = c->buckets[h & (c->nbuckets - 1)]; e; e = e->hnext)
		if (e->hash == h && e->type == type && strcasecmp(e->name, name) == 0)
			return e;
	return NULL;
}

static void lru_front(struct dns_cache *c, struct entry *e)
{
	e->next = c->lru.next;
	e->prev = &c->lru;
	c->lru.next->prev = e;
	c->lru.next = e;
}

struct dns_rrset *dns_cache_get(struct dns_cache *c, const char *name, uint16_t type,
				uint64_t now, uint32_t *ttl_left)
{
	uint32_t h = name_hash(name, type);
	struct entry *e = find(c, name, type, h);

	if (!e)
		return NULL;
	if (now >= e->expires) {
		unlink_free(c, e);
		return NULL;
	}
	e->prev->next = e->next;
	e->next->prev = e->prev;
	lru_front(c, e);
	if (ttl_left)
		*ttl_left = (uint32_t)((e->expires - now + 999) / 1000);
	return dns_rrset_ref(e->set);
}

int dns_cache_put(struct dns_cache *c, const char *name, uint16_t type,
		  struct dns_rrset *set, uint64_t now)
{
	uint32_t h = name_hash(name, type);
	size_t len = strlen(name);
	struct entry *e;

	if (len >= DNS_NAME_MAX)
		return -EINVAL;
	e = find(c, name, type, h);
	if (e)
		unlink_free(c, e);
	if (set->ttl == 0)
		return 0;
	e = mem_alloc(sizeof(*e) + len + 1);
	if (!e)
		return -ENOMEM;
	/* Make room: expired entries first, then the least recently used. */
	for (struct entry *x = c->lru.prev, *p; c->n >= c->cap && x != &c->lru; x = p) {
		p = x->prev;
		if (now >= x->expires)
			unlink_free(c, x);
	}
	while (c->n >= c->cap)
		unlink_free(c, c->lru.prev);
	memcpy(e->name, name, len + 1);
	e->hash = h;
	e->type = type;
	e->expires = now + (uint64_t)set->ttl * 1000u;
	e->set = dns_rrset_ref(set);
	e->hnext = c->buckets[h & (c->nbuckets - 1)];
	c->buckets[h & (c->nbuckets - 1)] = e;
	lru_front(c, e);
	c->n++;
	return 0;
}
