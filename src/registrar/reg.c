/* Registrar object: configuration defaults and the granted interval. */
#include "registrar/reg_int.h"

#include "base/mem.h"

#include <errno.h>

int reg_create(struct reg **out, const struct reg_cfg *cfg, struct loc *loc)
{
	struct reg_cfg c = cfg ? *cfg : (struct reg_cfg){ 0 };
	struct reg *r;

	*out = NULL;
	if (!loc)
		return -EINVAL;
	if (!c.min_expires)
		c.min_expires = 60;
	if (!c.max_expires)
		c.max_expires = 3600;
	if (!c.default_expires)
		c.default_expires = 3600;
	if (!c.max_contacts)
		c.max_contacts = 10;
	if (c.min_expires > c.max_expires || c.max_contacts > REG_MAX_CONTACTS ||
	    c.jitter_percent > 50 ||
	    (c.on_too_many != REG_REJECT && c.on_too_many != REG_EVICT_OLDEST))
		return -EINVAL;
	r = mem_zalloc(sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->loc = loc;
	r->cfg = c;
	/* any seed will do: jitter only spreads refreshes */
	atomic_init(&r->rng, (uint64_t)(uintptr_t)r ^ (uint64_t)time(NULL));
	*out = r;
	return 0;
}

void reg_destroy(struct reg *r)
{
	mem_free(r);
}

struct str reg_server(const struct reg *r)
{
	return str_cstr(r->cfg.server);
}

/* splitmix64 over an atomic Weyl sequence: lock-free across workers. */
static uint32_t reg_rand(struct reg *r)
{
	uint64_t z;

	if (r->cfg.rand)
		return r->cfg.rand(r->cfg.rand_arg);
	z = atomic_fetch_add_explicit(&r->rng, 0x9e3779b97f4a7c15ull, memory_order_relaxed);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return (uint32_t)((z ^ (z >> 31)) >> 32);
}

uint32_t reg_grant(struct reg *r, uint32_t e)
{
	uint32_t span, cut;

	if (e > r->cfg.max_expires)
		e = r->cfg.max_expires;
	if (!r->cfg.jitter_percent || e <= r->cfg.min_expires)
		return e;
	span = (uint32_t)((uint64_t)e * r->cfg.jitter_percent / 100);
	cut = (uint32_t)(reg_rand(r) % ((uint64_t)span + 1));
	if (e - cut < r->cfg.min_expires)
		return r->cfg.min_expires;
	return e - cut;
}
