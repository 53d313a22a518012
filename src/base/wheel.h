/* Hierarchical timing wheel: O(1) start and stop for the many short timers
 * of SIP transactions (RFC 3261 §17 timers A..K, Timer C), owned by one
 * worker and advanced by its event loop. Timers are intrusive: the caller
 * owns struct wheel_timer (usually inside a transaction), so arming a timer
 * never allocates. Resolution is one millisecond tick. */
#ifndef SIPHON_BASE_WHEEL_H
#define SIPHON_BASE_WHEEL_H

#include <stdbool.h>
#include <stdint.h>

#define WHEEL_BITS 6
#define WHEEL_SLOTS (1u << WHEEL_BITS) /* 64 slots per level */
#define WHEEL_LEVELS 5                 /* 64^5 ms ~ 12.4 days */

typedef void (*wheel_cb)(void *arg);

struct wheel_timer {
	struct wheel_timer *next, *prev; /* slot list; prev == NULL when idle */
	uint64_t expire;                 /* absolute ms */
	wheel_cb cb;
	void *arg;
};

struct wheel {
	uint64_t now;  /* ms; every timer expiring at or before now has fired */
	uint64_t count;
	struct wheel_timer slots[WHEEL_LEVELS][WHEEL_SLOTS]; /* list heads */
	struct wheel_timer overflow; /* beyond 64^5 ms from now */
};

void wheel_init(struct wheel *w, uint64_t now_ms);

/* Arm t to fire cb(arg) at now + delay_ms (re-arms it if already armed). */
void wheel_start(struct wheel *w, struct wheel_timer *t, uint64_t delay_ms, wheel_cb cb, void *arg);
/* Disarm; safe on an idle timer and from inside any callback. */
void wheel_stop(struct wheel *w, struct wheel_timer *t);
static inline bool wheel_pending(const struct wheel_timer *t)
{
	return t->prev != 0;
}

/* Fire every timer due at or before now_ms, in expiry order (ties in start
 * order). Callbacks may start and stop timers. Returns the number fired. */
unsigned wheel_advance(struct wheel *w, uint64_t now_ms);

/* Milliseconds until the next expiry, at most cap (so an event loop can
 * sleep that long); 0 if something is already due, cap if nothing is armed. */
uint64_t wheel_next(const struct wheel *w, uint64_t cap);

#endif
