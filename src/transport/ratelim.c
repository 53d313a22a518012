#include "transport/ratelim.h"

#include "base/mem.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define RL_STRIPES 64u
#define RL_IDLE_MS 10000u /* a slot quiet this long may go to another source */

struct rl_slot {
	uint8_t ip[16];
	bool used;
	uint64_t last_ms;   /* last refill */
	uint64_t tokens_m;  /* tokens * 1000 (milli-tokens: no floats) */
};

struct tp_ratelim {
	uint64_t rate, burst_m, seed;
	size_t mask;
	pthread_mutex_t lock[RL_STRIPES];
	struct rl_slot *slots;
};

int tp_ratelim_create(struct tp_ratelim **out, unsigned rate, unsigned burst, unsigned slots)
{
	struct tp_ratelim *r;
	size_t n = 1;

	if (!rate)
		return -EINVAL;
	if (!slots)
		slots = 65536;
	while (n < slots)
		n *= 2;
	if (n < RL_STRIPES)
		n = RL_STRIPES;
	r = mem_zalloc(sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->slots = mem_zalloc(n * sizeof(*r->slots));
	if (!r->slots) {
		mem_free(r);
		return -ENOMEM;
	}
	r->rate = rate;
	r->burst_m = (uint64_t)(burst ? burst : rate) * 1000u;
	r->mask = n - 1;
	if (getrandom(&r->seed, sizeof(r->seed), 0) != sizeof(r->seed))
		r->seed = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ull;
	for (unsigned i = 0; i < RL_STRIPES; i++)
		pthread_mutex_init(&r->lock[i], NULL);
	*out = r;
	return 0;
}

void tp_ratelim_destroy(struct tp_ratelim *r)
{
	if (!r)
		return;
	for (unsigned i = 0; i < RL_STRIPES; i++)
		pthread_mutex_destroy(&r->lock[i]);
	mem_free(r->slots);
	mem_free(r);
}

bool tp_ratelim_allow(struct tp_ratelim *r, const struct tp_addr *src, uint64_t now_ms)
{
	uint8_t ip[16];
	uint64_t hi, lo;
	size_t i;
	struct rl_slot *s;
	bool ok;

	tp_addr_ip16(src, ip);
	memcpy(&hi, ip, 8);
	memcpy(&lo, ip + 8, 8);
	i = (size_t)(tp_hash_mix64(tp_hash_mix64(hi ^ r->seed) ^ lo) & r->mask);
	s = &r->slots[i];
	pthread_mutex_lock(&r->lock[i % RL_STRIPES]);
	if (!s->used || (memcmp(s->ip, ip, 16) != 0 && now_ms - s->last_ms > RL_IDLE_MS)) {
		memcpy(s->ip, ip, 16);
		s->used = true;
		s->last_ms = now_ms;
		s->tokens_m = r->burst_m;
	} else if (now_ms > s->last_ms) {
		/* refill: rate tokens a second, up to the burst */
		uint64_t add = (now_ms - s->last_ms) * r->rate;

		s->tokens_m = s->tokens_m + add > r->burst_m ? r->burst_m : s->tokens_m + add;
		s->last_ms = now_ms;
	}
	ok = s->tokens_m >= 1000;
	if (ok)
		s->tokens_m -= 1000;
	pthread_mutex_unlock(&r->lock[i % RL_STRIPES]);
	return ok;
}
