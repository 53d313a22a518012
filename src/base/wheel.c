/* Hierarchical timing wheel (Varghese & Lauck, scheme 7): level L holds
 * timers whose expiry differs from now first in bits [6L, 6L+6). When now
 * reaches the start of a slot of level L > 0, that slot is cascaded: its
 * timers are placed again, relative to the new now, on lower levels. Time
 * jumps straight from one such event to the next, so a long sleep costs a
 * few slot scans, not one step per millisecond. Timers beyond the span of
 * the wheel wait on an overflow list that is re-examined at each wrap of the
 * top level. */
#include "base/wheel.h"

#include <stddef.h>

#define SPAN_BITS (WHEEL_BITS * WHEEL_LEVELS)

static void list_init(struct wheel_timer *head)
{
	head->next = head->prev = head;
}

static bool list_empty(const struct wheel_timer *head)
{
	return head->next == head;
}

static void list_add_tail(struct wheel_timer *head, struct wheel_timer *t)
{
	t->prev = head->prev;
	t->next = head;
	head->prev->next = t;
	head->prev = t;
}

static void list_del(struct wheel_timer *t)
{
	t->prev->next = t->next;
	t->next->prev = t->prev;
	t->next = t->prev = NULL;
}

/* Move every timer of head onto a private list, so that re-placing them may
 * append to head again. */
static void list_take(struct wheel_timer *head, struct wheel_timer *into)
{
	list_init(into);
	if (list_empty(head))
		return;
	into->next = head->next;
	into->prev = head->prev;
	into->next->prev = into;
	into->prev->next = into;
	list_init(head);
}

void wheel_init(struct wheel *w, uint64_t now_ms)
{
	w->now = now_ms;
	w->count = 0;
	for (unsigned l = 0; l < WHEEL_LEVELS; l++)
		for (unsigned s = 0; s < WHEEL_SLOTS; s++)
			list_init(&w->slots[l][s]);
	list_init(&w->overflow);
}

static void place(struct wheel *w, struct wheel_timer *t)
{
	uint64_t expire = t->expire > w->now ? t->expire : w->now;
	uint64_t diff = expire ^ w->now;
	unsigned level = 0;

	if (diff >> SPAN_BITS) {
		list_add_tail(&w->overflow, t);
		return;
	}
	while (level < WHEEL_LEVELS - 1 && (diff >> (WHEEL_BITS * (level + 1))) != 0)
		level++;
	unsigned slot = (unsigned)(expire >> (WHEEL_BITS * level)) & (WHEEL_SLOTS - 1);
	list_add_tail(&w->slots[level][slot], t);
}

void wheel_start(struct wheel *w, struct wheel_timer *t, uint64_t delay_ms, wheel_cb cb, void *arg)
{
	if (wheel_pending(t))
		wheel_stop(w, t);
	t->expire = w->now + delay_ms;
	t->cb = cb;
	t->arg = arg;
	place(w, t);
	w->count++;
}

void wheel_stop(struct wheel *w, struct wheel_timer *t)
{
	if (!wheel_pending(t))
		return;
	list_del(t);
	w->count--;
}

static void replace_all(struct wheel *w, struct wheel_timer *head)
{
	struct wheel_timer tmp, *t;

	list_take(head, &tmp);
	while ((t = tmp.next) != &tmp) {
		list_del(t);
		place(w, t);
	}
}

/* At w->now, cascade every level whose block starts here. */
static void cascade_at_now(struct wheel *w)
{
	uint64_t now = w->now;

	if ((now & ((1ull << SPAN_BITS) - 1)) == 0)
		replace_all(w, &w->overflow);
	for (unsigned l = WHEEL_LEVELS - 1; l >= 1; l--) {
		unsigned shift = WHEEL_BITS * l;
		if (now & ((1ull << shift) - 1))
			continue;
		replace_all(w, &w->slots[l][(now >> shift) & (WHEEL_SLOTS - 1)]);
	}
}

/* The first time after now at which a level-0 slot is due or a higher slot
 * must be cascaded; UINT64_MAX if nothing is armed. */
static uint64_t next_event(const struct wheel *w)
{
	for (unsigned l = 0; l < WHEEL_LEVELS; l++) {
		unsigned shift = WHEEL_BITS * l;
		unsigned pos = (unsigned)(w->now >> shift) & (WHEEL_SLOTS - 1);
		uint64_t base = (w->now >> (shift + WHEEL_BITS)) << (shift + WHEEL_BITS);

		for (unsigned s = pos + 1; s < WHEEL_SLOTS; s++)
			if (!list_empty(&w->slots[l][s]))
				return base | ((uint64_t)s << shift);
	}
	if (!list_empty(&w->overflow))
		return ((w->now >> SPAN_BITS) + 1) << SPAN_BITS;
	return UINT64_MAX;
}

unsigned wheel_advance(struct wheel *w, uint64_t now_ms)
{
	unsigned fired = 0;

	if (now_ms < w->now)
		return 0;
	for (;;) {
		struct wheel_timer *head = &w->slots[0][w->now & (WHEEL_SLOTS - 1)], *t;

		while ((t = head->next) != head) {
			list_del(t);
			w->count--;
			fired++;
			t->cb(t->arg); /* may start/stop timers, including t */
		}
		if (w->now == now_ms)
			break;
		uint64_t next = w->count ? next_event(w) : UINT64_MAX;
		/* jumping over block starts is safe: the slots there are empty */
		w->now = next < now_ms ? next : now_ms;
		cascade_at_now(w);
	}
	return fired;
}

uint64_t wheel_next(const struct wheel *w, uint64_t cap)
{
	uint64_t next;

	if (w->count == 0)
		return cap;
	if (!list_empty(&w->slots[0][w->now & (WHEEL_SLOTS - 1)]))
		return 0;
	next = next_event(w) - w->now;
	return next < cap ? next : cap;
}
