/* Per-source connection counts shared by the workers (tcp.h:
 * tp_tcp_srclim_*): a hash of source IP -> inbound connections held, in lock
 * stripes, touched only on accept and close. */
#include "transport/tcp.h"

#include "base/mem.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#define SRCLIM_STRIPES 64u        /* locks of the table */
#define SRCLIM_MIN 256u           /* buckets: expected sources rounded */
#define SRCLIM_MAX (1u << 20)     /* up, within these bounds */

struct srclim_ent {
	struct srclim_ent *next;
	uint8_t ip[16]; /* IPv4 as ::ffff:a.b.c.d, so both spellings count as one */
	unsigned n;
};

struct tp_tcp_srclim {
	unsigned max;
	uint64_t seed; /* random: sources cannot be picked to share a chain */
	size_t mask;   /* buckets - 1; bucket i is under lock i % SRCLIM_STRIPES */
	pthread_mutex_t lock[SRCLIM_STRIPES];
	struct srclim_ent **b;
};

static size_t srclim_slot(const struct tp_tcp_srclim *s, const uint8_t ip[16])
{
	uint64_t hi, lo;

	memcpy(&hi, ip, 8);
	memcpy(&lo, ip + 8, 8);
	return (size_t)(tp_hash_mix64(tp_hash_mix64(hi ^ s->seed) ^ lo) & s->mask);
}

int tp_tcp_srclim_create(struct tp_tcp_srclim **out, unsigned max, unsigned sources)
{
	struct tp_tcp_srclim *s;
	size_t buckets = SRCLIM_MIN;

	if (!max)
		return -EINVAL;
	while (buckets < sources && buckets < SRCLIM_MAX)
		buckets *= 2;
	s = mem_zalloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->b = mem_zalloc(buckets * sizeof(*s->b));
	if (!s->b) {
		mem_free(s);
		return -ENOMEM;
	}
	s->max = max;
	s->mask = buckets - 1;
	if (getrandom(&s->seed, sizeof(s->seed), GRND_NONBLOCK) != sizeof(s->seed))
		s->seed = tp_hash_mix64((uint64_t)(uintptr_t)s ^ (uint64_t)getpid());
	for (unsigned i = 0; i < SRCLIM_STRIPES; i++)
		pthread_mutex_init(&s->lock[i], NULL);
	*out = s;
	return 0;
}

void tp_tcp_srclim_destroy(struct tp_tcp_srclim *s)
{
	if (!s)
		return;
	for (size_t i = 0; i <= s->mask; i++) {
		while (s->b[i]) {
			struct srclim_ent *e = s->b[i];

			s->b[i] = e->next;
			mem_free(e);
		}
	}
	for (unsigned i = 0; i < SRCLIM_STRIPES; i++)
		pthread_mutex_destroy(&s->lock[i]);
	mem_free(s->b);
	mem_free(s);
}

/* The entry for ip in its bucket (lock held), and where it hangs. */
static struct srclim_ent **srclim_find(struct tp_tcp_srclim *s, size_t slot, const uint8_t ip[16])
{
	struct srclim_ent **pp = &s->b[slot];

	while (*pp && memcmp((*pp)->ip, ip, 16) != 0)
		pp = &(*pp)->next;
	return pp;
}

int tp_tcp_srclim_take(struct tp_tcp_srclim *s, const struct tp_addr *a)
{
	struct srclim_ent **pp, *e;
	uint8_t ip[16];
	size_t slot;
	int err = 0;

	tp_addr_ip16(a, ip);
	slot = srclim_slot(s, ip);
	pthread_mutex_lock(&s->lock[slot % SRCLIM_STRIPES]);
	pp = srclim_find(s, slot, ip);
	e = *pp;
	if (!e) {
		/* one entry per source holding connections, so at most as many
		 * as the connection cap allows */
		e = mem_zalloc(sizeof(*e));
		if (!e) {
			err = -ENOMEM;
			goto out;
		}
		memcpy(e->ip, ip, 16);
		*pp = e;
	}
	if (e->n >= s->max)
		err = -EUSERS;
	else
		e->n++;
out:
	pthread_mutex_unlock(&s->lock[slot % SRCLIM_STRIPES]);
	return err;
}

void tp_tcp_srclim_put(struct tp_tcp_srclim *s, const struct tp_addr *a)
{
	struct srclim_ent **pp, *e;
	uint8_t ip[16];
	size_t slot;

	tp_addr_ip16(a, ip);
	slot = srclim_slot(s, ip);
	pthread_mutex_lock(&s->lock[slot % SRCLIM_STRIPES]);
	pp = srclim_find(s, slot, ip);
	e = *pp;
	if (e && e->n && --e->n == 0) {
		*pp = e->next;
		mem_free(e);
	}
	pthread_mutex_unlock(&s->lock[slot % SRCLIM_STRIPES]);
}

unsigned tp_tcp_srclim_count(struct tp_tcp_srclim *s, const struct tp_addr *a)
{
	struct srclim_ent *e;
	uint8_t ip[16];
	unsigned n;
	size_t slot;

	tp_addr_ip16(a, ip);
	slot = srclim_slot(s, ip);
	pthread_mutex_lock(&s->lock[slot % SRCLIM_STRIPES]);
	e = *srclim_find(s, slot, ip);
	n = e ? e->n : 0;
	pthread_mutex_unlock(&s->lock[slot % SRCLIM_STRIPES]);
	return n;
}

