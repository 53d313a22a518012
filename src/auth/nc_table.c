/* Nonce-count replay protection (RFC 7616 §3.4.5, RFC 3261 §22.4): the
 * highest nc accepted per nonce, in a bounded table split into stripes, each
 * with its own mutex and a small array scanned linearly. A full stripe first
 * drops expired nonces (those fail the expiry check anyway), then the oldest
 * live one; it then remembers the victim's issue order as a floor, and any
 * unknown nonce issued at or before the floor is refused as stale: the
 * client gets a fresh nonce instead of a replay slipping through. The order
 * counts nonces, not seconds: at thousands of challenges a second, nonces
 * issued in the victim's second but after it are still new. */
#include "auth/auth_priv.h"
#include "base/mem.h"

#include <errno.h>

#define NC_STRIPES_MAX 16

struct nc_entry {
	uint8_t mac[AUTH_NONCE_MAC];
	uint64_t order, expires;
	uint32_t nc;
	bool used;
};

struct nc_stripe {
	pthread_mutex_t lock;
	struct nc_entry *slots;
	size_t n;
	uint64_t floor;
	bool has_floor;
};

struct auth_nc_table {
	size_t nstripes;
	struct nc_entry *entries;
	struct nc_stripe stripes[];
};

int auth_nc_create(struct auth_nc_table **tp, size_t max)
{
	struct auth_nc_table *t;
	size_t ns = max < NC_STRIPES_MAX ? max : NC_STRIPES_MAX;
	size_t per, i;
	int rc;

	*tp = NULL;
	if (max == 0)
		return -EINVAL;
	per = max / ns;
	t = mem_zalloc(sizeof(*t) + ns * sizeof(t->stripes[0]));
	if (!t)
		return -ENOMEM;
	t->entries = mem_zalloc(ns * per * sizeof(t->entries[0]));
	if (!t->entries) {
		mem_free(t);
		return -ENOMEM;
	}
	for (i = 0; i < ns; i++) {
		rc = pthread_mutex_init(&t->stripes[i].lock, NULL);
		if (rc) {
			while (i--)
				pthread_mutex_destroy(&t->stripes[i].lock);
			mem_free(t->entries);
			mem_free(t);
			return -rc;
		}
		t->stripes[i].slots = t->entries + i * per;
		t->stripes[i].n = per;
	}
	t->nstripes = ns;
	*tp = t;
	return 0;
}

void auth_nc_destroy(struct auth_nc_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nstripes; i++)
		pthread_mutex_destroy(&t->stripes[i].lock);
	mem_free(t->entries);
	mem_free(t);
}

/* The MAC is uniformly random: its first bytes pick the stripe. */
static struct nc_stripe *stripe_of(struct auth_nc_table *t, const uint8_t *mac)
{
	uint32_t h = (uint32_t)mac[0] | (uint32_t)mac[1] << 8 | (uint32_t)mac[2] << 16;

	return &t->stripes[h % t->nstripes];
}

static enum auth_nc_verdict stripe_check(struct nc_stripe *st, const uint8_t *mac, uint64_t order,
					 uint64_t expires, uint32_t nc, uint64_t now)
{
	struct nc_entry *free_slot = NULL, *oldest = NULL;

	for (size_t i = 0; i < st->n; i++) {
		struct nc_entry *e = &st->slots[i];

		if (e->used && memcmp(e->mac, mac, AUTH_NONCE_MAC) == 0) {
			if (nc <= e->nc)
				return AUTH_NC_REPLAY;
			e->nc = nc;
			return AUTH_NC_OK;
		}
		if (e->used && e->expires < now)
			e->used = false; /* expired: its nonce is refused as stale anyway */
		if (!e->used) {
			if (!free_slot)
				free_slot = e;
		} else if (!oldest || e->order < oldest->order) {
			oldest = e;
		}
	}
	if (st->has_floor && order <= st->floor)
		return AUTH_NC_STALE;
	if (!free_slot) {
		/* full of live nonces: forget the oldest, but never accept it again */
		free_slot = oldest;
		st->floor = oldest->order;
		st->has_floor = true;
		if (order <= st->floor)
			return AUTH_NC_STALE;
	}
	memcpy(free_slot->mac, mac, AUTH_NONCE_MAC);
	free_slot->order = order;
	free_slot->expires = expires;
	free_slot->nc = nc;
	free_slot->used = true;
	return AUTH_NC_OK;
}

enum auth_nc_verdict auth_nc_check(struct auth_nc_table *t, const uint8_t mac[AUTH_NONCE_MAC],
				   uint64_t order, uint64_t expires, uint32_t nc, uint64_t now)
{
	struct nc_stripe *st = stripe_of(t, mac);
	enum auth_nc_verdict v;

	pthread_mutex_lock(&st->lock);
	v = stripe_check(st, mac, order, expires, nc, now);
	pthread_mutex_unlock(&st->lock);
	return v;
}
