/* Live reconfiguration (SIGHUP). A reload builds a new, immutable
 * generation of the settings the workers read (served domains, [routes],
 * [redirect] moved, the [auth] policy, [proxy] rate_limit, record_route
 * and timer_c), publishes it through one atomic pointer and wakes every
 * worker, which takes it between two events of its loop (a safe point: no
 * callback of its holds a pointer into the old one). An older generation is
 * freed once every worker has acknowledged a newer one. Everything here
 * runs on the main thread. */
#ifndef SIPHON_SIPHOND_RELOAD_H
#define SIPHON_SIPHOND_RELOAD_H

#include "siphond/server.h"

#include <stdatomic.h>
#include <stdint.h>

struct sd_regsvc;
struct sd_pxy_cfg;
struct pxy_self;
struct tp_ratelim;

/* One generation, as the workers see it. */
struct sd_live {
	uint64_t seq;                   /* 0: the settings siphond started with */
	const struct sd_regsvc *regsvc; /* NULL: no registrar */
	const struct sd_pxy_cfg *pxy;   /* NULL: no proxy nor redirect */
	const struct pxy_self *self;
	struct tp_ratelim *ratelim;     /* NULL: no rate limit */
};

/* What the reloader borrows from the server, fixed for the server's life. */
struct sd_reload_host {
	const struct sd_config *start;  /* the configuration siphond started with */
	const struct sd_live *initial;  /* generation 0 (the server's own objects) */
	const char *data_dir;
	const struct sd_live *_Atomic *slot; /* where the workers look */
	void (*notify)(void *arg);      /* wake every worker to take *slot */
	uint64_t (*acked)(void *arg);   /* the oldest generation a worker still runs */
	void *arg;
};

struct sd_reload;

int sd_reload_create(struct sd_reload **out, const struct sd_reload_host *h);
/* Once no worker runs: frees every generation but the first. */
void sd_reload_destroy(struct sd_reload *r);
/* Apply ncfg (validated; taken over). Logs what changed, what needs a
 * restart, and what failed (then the running settings stay). Returns 0,
 * -ENOMEM or the failing open's code. */
int sd_reload_apply(struct sd_reload *r, struct sd_config *ncfg, struct loop *l);

#endif
