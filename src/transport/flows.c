/* Flows shared by the workers (flows.h): a chained hash of (transport,
 * address, port) -> connection id, in lock stripes. */
#include "transport/flows.h"

#include "base/mem.h"

#include <errno.h>
#include <stdatomic.h>
#include <pthread.h>
#include <string.h>
#include <sys/random.h>

#define FLOWS_STRIPES 64u

struct flow {
	struct flow *next;
	uint8_t ip[16]; /* IPv4 as ::ffff:a.b.c.d (tp_addr_ip16) */
	uint16_t port;
	uint8_t proto;
	uint64_t id;
};

struct tp_flows {
	atomic_uint n; /* entries, for metrics */
	uint64_t seed; /* random: peers cannot be picked to share a chain */
	size_t mask;   /* buckets - 1; bucket i is under lock i % FLOWS_STRIPES */
	pthread_mutex_t lock[FLOWS_STRIPES];
	struct flow **b;
};

struct flow_key {
	uint8_t ip[16];
	uint16_t port;
	uint8_t proto;
	size_t slot;
};

static void key_of(const struct tp_flows *f, enum tp_proto proto, const struct tp_addr *peer,
		   struct flow_key *k)
{
	uint64_t hi, lo;

	tp_addr_ip16(peer, k->ip);
	k->port = tp_addr_port(peer);
	k->proto = (uint8_t)proto;
	memcpy(&hi, k->ip, 8);
	memcpy(&lo, k->ip + 8, 8);
	k->slot = (size_t)(tp_hash_mix64(tp_hash_mix64(hi ^ f->seed) ^ lo ^
					 ((uint64_t)k->port << 8 | k->proto)) & f->mask);
}

/* Where the entry for k hangs in its chain (its stripe locked). */
static struct flow **chain_find(struct tp_flows *f, const struct flow_key *k)
{
	struct flow **pp = &f->b[k->slot];

	while (*pp && ((*pp)->port != k->port || (*pp)->proto != k->proto ||
		       memcmp((*pp)->ip, k->ip, 16) != 0))
		pp = &(*pp)->next;
	return pp;
}

int tp_flows_create(struct tp_flows **out, unsigned conns)
{
	struct tp_flows *f = mem_zalloc(sizeof(*f));
	size_t buckets = 256;

	if (!f)
		return -ENOMEM;
	while (buckets < conns && buckets < (1u << 20))
		buckets *= 2;
	f->b = mem_zalloc(buckets * sizeof(*f->b));
	if (!f->b) {
		mem_free(f);
		return -ENOMEM;
	}
	f->mask = buckets - 1;
	if (getrandom(&f->seed, sizeof(f->seed), GRND_NONBLOCK) != sizeof(f->seed))
		f->seed = tp_hash_mix64((uint64_t)(uintptr_t)f);
	for (unsigned i = 0; i < FLOWS_STRIPES; i++)
		pthread_mutex_init(&f->lock[i], NULL);
	*out = f;
	return 0;
}

void tp_flows_destroy(struct tp_flows *f)
{
	if (!f)
		return;
	for (size_t i = 0; i <= f->mask; i++) {
		for (struct flow *e = f->b[i], *n; e; e = n) {
			n = e->next;
			mem_free(e);
		}
	}
	for (unsigned i = 0; i < FLOWS_STRIPES; i++)
		pthread_mutex_destroy(&f->lock[i]);
	mem_free(f->b);
	mem_free(f);
}

int tp_flows_add(struct tp_flows *f, enum tp_proto proto, const struct tp_addr *peer,
		 uint64_t id)
{
	struct flow_key k;
	struct flow **pp;
	int err = 0;

	key_of(f, proto, peer, &k);
	pthread_mutex_lock(&f->lock[k.slot % FLOWS_STRIPES]);
	pp = chain_find(f, &k);
	if (!*pp) {
		struct flow *e = mem_zalloc(sizeof(*e));

		if (e) {
			memcpy(e->ip, k.ip, 16);
			e->port = k.port;
			e->proto = k.proto;
			*pp = e;
			atomic_fetch_add_explicit(&f->n, 1, memory_order_relaxed);
		} else {
			err = -ENOMEM;
		}
	}
	if (*pp)
		(*pp)->id = id; /* the newest connection from there */
	pthread_mutex_unlock(&f->lock[k.slot % FLOWS_STRIPES]);
	return err;
}

void tp_flows_del(struct tp_flows *f, enum tp_proto proto, const struct tp_addr *peer,
		  uint64_t id)
{
	struct flow_key k;
	struct flow **pp;

	key_of(f, proto, peer, &k);
	pthread_mutex_lock(&f->lock[k.slot % FLOWS_STRIPES]);
	pp = chain_find(f, &k);
	if (*pp && (*pp)->id == id) {
		struct flow *e = *pp;

		*pp = e->next;
		mem_free(e);
		atomic_fetch_sub_explicit(&f->n, 1, memory_order_relaxed);
	}
	pthread_mutex_unlock(&f->lock[k.slot % FLOWS_STRIPES]);
}

unsigned tp_flows_count(const struct tp_flows *f)
{
	return atomic_load_explicit(&f->n, memory_order_relaxed);
}

uint64_t tp_flows_find(struct tp_flows *f, enum tp_proto proto, const struct tp_addr *peer)
{
	struct flow_key k;
	struct flow *e;
	uint64_t id;

	key_of(f, proto, peer, &k);
	pthread_mutex_lock(&f->lock[k.slot % FLOWS_STRIPES]);
	e = *chain_find(f, &k);
	id = e ? e->id : 0;
	pthread_mutex_unlock(&f->lock[k.slot % FLOWS_STRIPES]);
	return id;
}
